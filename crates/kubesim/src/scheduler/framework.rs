//! The scheduling framework: extension points, statuses, the cycle state and
//! the per-node record a decision keeps.
//!
//! Ported from `pkg/scheduler/framework/interface.go` (extension points,
//! `Code`, `Status`), `pkg/scheduler/framework/types.go` (`FitError.Error`)
//! and `pkg/scheduler/framework/runtime/framework.go` (how the points run).
//! Upstream's `CycleState` is a type-erased map written by PreFilter and
//! PreScore; here it is a struct with one typed slot per plugin, which is
//! cheaper and needs no downcasts.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::cache::{Cache, NodeInfo, NodeStatic};
use super::podinfo::PodInfo;
use super::queue::QueuedPodInfo;
use crate::world::SimRng;

/// The highest score a Score plugin gives after normalizing
/// (`framework.MaxNodeScore`).
pub const MAX_NODE_SCORE: i64 = 100;
/// The lowest (`framework.MinNodeScore`).
pub const MIN_NODE_SCORE: i64 = 0;
/// At most this many Score plugins in one profile (the record keeps their
/// scores inline, without an allocation per node).
pub const MAX_SCORE_PLUGINS: usize = 8;

/// A plugin's verdict (`framework.Code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Code {
    Success,
    /// The pod does not fit now; preempting pods may help.
    Unschedulable,
    /// The pod does not fit and preemption cannot help.
    UnschedulableAndUnresolvable,
    /// Something went wrong (a malformed object): the pod is retried after
    /// a back-off.
    Error,
    /// The plugin has nothing to do for this pod (PreFilter, PreScore).
    Skip,
}

/// A plugin's result with its reasons (`framework.Status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<Cow<'static, str>>,
}

impl Status {
    pub const fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
        }
    }
    pub const fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Vec::new(),
        }
    }
    pub fn new(code: Code, reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: vec![reason.into()],
        }
    }
    pub fn unschedulable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }
    pub fn unresolvable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }
    pub fn error(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Error, reason)
    }
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
    /// The reasons joined as upstream's `Status.Message()` does.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// Every plugin has a name (as in the KubeSchedulerConfiguration).
pub trait Plugin {
    fn name(&self) -> &'static str;
}

/// QueueSort: orders the active queue. `sort_key` must agree with `less`;
/// the queue keeps pods in a `BTreeSet` by that key.
pub trait QueueSortPlugin: Plugin {
    fn less(&self, a: &QueuedPodInfo, b: &QueuedPodInfo) -> bool {
        self.sort_key(a) < self.sort_key(b)
    }
    /// Smaller sorts first. The queue appends a sequence number for ties.
    fn sort_key(&self, p: &QueuedPodInfo) -> (i64, u64);
}

/// PreFilter: computes per-pod state once per cycle; may reject the pod
/// for every node, or return `Skip` to have its Filter skipped.
pub trait PreFilterPlugin: Plugin {
    fn pre_filter(&self, cs: &mut CycleState, cache: &Cache) -> Status;
}

/// Filter: can the pod run on this node?
pub trait FilterPlugin: Plugin {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status;
}

/// PostFilter: runs when no node passed the filters (preemption).
pub trait PostFilterPlugin: Plugin {
    fn post_filter(
        &self,
        fw: &Framework,
        cs: &CycleState,
        cache: &Cache,
        statuses: &NodeStatuses,
        rng: &mut SimRng,
    ) -> PostFilterResult;
}

/// PreScore: computes per-pod scoring state over the feasible nodes.
pub trait PreScorePlugin: Plugin {
    fn pre_score(&self, cs: &mut CycleState, cache: &Cache, feasible: &[&NodeInfo]) -> Status;
}

/// Score and NormalizeScore (upstream's `ScoreExtensions`).
pub trait ScorePlugin: Plugin {
    fn score(&self, cs: &CycleState, cache: &Cache, node: &NodeInfo) -> i64;
    /// Rescales this plugin's raw scores to 0..=MAX_NODE_SCORE in place.
    fn normalize(&self, _cs: &CycleState, _nodes: &[&NodeInfo], _scores: &mut [i64]) {}
}

/// Reserve: claims resources for the chosen node before binding; undone by
/// `unreserve` when a later point fails. The default profile has none
/// besides VolumeBinding, which the simulation leaves out.
pub trait ReservePlugin: Plugin {
    fn reserve(&self, cs: &CycleState, node: &str) -> Status;
    fn unreserve(&self, cs: &CycleState, node: &str);
}

/// Permit: approve, deny (or upstream: wait) before binding.
pub trait PermitPlugin: Plugin {
    fn permit(&self, cs: &CycleState, node: &str) -> Status;
}

/// Bind: the request that makes the assignment (DefaultBinder posts a
/// `v1.Binding` to `pods/binding`).
pub trait BindPlugin: Plugin {
    fn bind(&self, pod: &PodInfo, node: &str) -> serde_json::Value;
}

/// What PostFilter found: a node to nominate and the pods to evict there,
/// or a message saying why preemption cannot help.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostFilterResult {
    pub nominated_node: Option<String>,
    /// `namespace/name` of the pods to delete, most important first.
    pub victims: Vec<String>,
    /// Upstream's PostFilter status message ("preemption: ..."), empty when
    /// a node was nominated.
    pub message: String,
}

/// The filter statuses of the nodes that failed, by node slot
/// (upstream's `NodeToStatus`).
pub type NodeStatuses = BTreeMap<usize, Status>;

/// Per-pod state for one scheduling cycle. PreFilter and PreScore fill the
/// slots; Filter and Score read them.
pub struct CycleState {
    pub pod: PodInfo,
    pub node_affinity: super::plugins::node_affinity::State,
    pub spread_filter: Option<super::plugins::pod_topology_spread::FilterState>,
    pub spread_score: Option<super::plugins::pod_topology_spread::ScoreState>,
    pub inter_pod_filter: Option<super::plugins::inter_pod_affinity::FilterState>,
    pub inter_pod_score: Option<super::plugins::inter_pod_affinity::ScoreState>,
    pub image_score: Option<super::plugins::image_locality::ScoreState>,
    /// Plugins whose PreFilter returned Skip (their Filter is skipped).
    pub skip_filter: Vec<&'static str>,
    /// Plugins whose PreScore returned Skip (their Score is skipped).
    pub skip_score: Vec<&'static str>,
}

impl CycleState {
    pub fn new(pod: PodInfo) -> CycleState {
        CycleState {
            pod,
            node_affinity: Default::default(),
            spread_filter: None,
            spread_score: None,
            inter_pod_filter: None,
            inter_pod_score: None,
            image_score: None,
            skip_filter: Vec::new(),
            skip_score: Vec::new(),
        }
    }
    pub fn filter_skipped(&self, plugin: &str) -> bool {
        self.skip_filter.contains(&plugin)
    }
    pub fn score_skipped(&self, plugin: &str) -> bool {
        self.skip_score.contains(&plugin)
    }
}

/// A profile: the plugins enabled at each extension point, in order.
#[derive(Clone)]
pub struct Framework {
    pub scheduler_name: String,
    pub queue_sort: Rc<dyn QueueSortPlugin>,
    pub pre_filter: Vec<Rc<dyn PreFilterPlugin>>,
    pub filter: Vec<Rc<dyn FilterPlugin>>,
    pub post_filter: Vec<Rc<dyn PostFilterPlugin>>,
    pub pre_score: Vec<Rc<dyn PreScorePlugin>>,
    /// Score plugins with their weights.
    pub score: Vec<(Rc<dyn ScorePlugin>, i64)>,
    pub reserve: Vec<Rc<dyn ReservePlugin>>,
    pub permit: Vec<Rc<dyn PermitPlugin>>,
    pub bind: Rc<dyn BindPlugin>,
    /// `percentageOfNodesToScore`; 0 means the adaptive upstream default.
    pub percentage_of_nodes_to_score: u32,
}

impl Framework {
    /// Runs every (non-skipped) filter on one node, stopping at the first
    /// that fails, as `RunFilterPlugins` does. Returns the failing plugin's
    /// index and status.
    pub fn run_filters(
        &self,
        cs: &CycleState,
        active: &[bool],
        node: &NodeInfo,
    ) -> Option<(usize, Status)> {
        for (i, p) in self.filter.iter().enumerate() {
            if !active[i] {
                continue;
            }
            let s = p.filter(cs, node);
            if !s.is_success() {
                return Some((i, s));
            }
        }
        None
    }

    /// Which filters run this cycle (not skipped by their PreFilter).
    pub fn active_filters(&self, cs: &CycleState) -> Vec<bool> {
        self.filter
            .iter()
            .map(|p| !cs.filter_skipped(p.name()))
            .collect()
    }
}

/// `numFeasibleNodesToFind` (`pkg/scheduler/schedule_one.go`): every node
/// below 100; otherwise `percentage` of them (adaptive
/// `max(5, 50 - N/125)` % when 0), but at least 100.
pub fn num_feasible_nodes_to_find(percentage: u32, num_all_nodes: usize) -> usize {
    const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
    const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let mut pct = i64::from(percentage.min(100));
    if pct == 0 {
        pct = 50 - (num_all_nodes as i64) / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let n = (num_all_nodes as i64 * pct / 100) as usize;
    n.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// `DefaultNormalizeScore` (`pkg/scheduler/framework/plugins/helper/normalize_score.go`):
/// scales to 0..=max by the highest score, reversed if asked.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max_count = scores.iter().copied().max().unwrap_or(0).max(0);
    if max_count == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = max_priority);
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max_priority.saturating_mul(*s) / max_count;
        if reverse {
            v = max_priority - v;
        }
        *s = v;
    }
}

// ---------------------------------------------------------------------------
// The decision record.

/// One plugin's score on one node: raw (Score), normalized (NormalizeScore),
/// and weighted (normalized times the plugin's weight).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PluginScore {
    pub raw: i64,
    pub normalized: i64,
    pub weighted: i64,
}

/// A filter's verdict on one node, as the "why" table shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    Passed,
    Failed {
        code: Code,
        reasons: Vec<String>,
    },
    /// Skipped by its PreFilter, or not run because an earlier filter
    /// already rejected the node.
    NotRun,
}

/// A node's name in a decision record. It shares the node's cached data,
/// whose first bytes the cycle's filters read anyway, rather than the name's
/// own allocation: recording 500 nodes per cycle then costs no extra cache
/// miss per node. Reads as a `&str`.
#[derive(Clone)]
pub struct NodeName(Rc<NodeStatic>);

impl NodeName {
    pub fn of(node: &NodeInfo) -> NodeName {
        NodeName(node.st.clone())
    }
}

impl std::ops::Deref for NodeName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.name
    }
}

impl PartialEq for NodeName {
    fn eq(&self, other: &NodeName) -> bool {
        **self == **other
    }
}

impl Eq for NodeName {}

impl PartialEq<str> for NodeName {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl std::fmt::Debug for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for NodeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// What one node got in one cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    pub node: NodeName,
    /// The first filter that rejected the node (index into
    /// `Decision::filter_plugins`) and its status; `None` if it passed all.
    pub failure: Option<(usize, Status)>,
    /// Scores by index into `Decision::score_plugins` (feasible nodes only,
    /// and only when there was more than one).
    pub scores: [PluginScore; MAX_SCORE_PLUGINS],
    pub total: i64,
}

impl NodeRecord {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// Where a cycle ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The pod goes to `node` (assumed in the cache; bind next).
    Scheduled { node: String, score: i64 },
    /// No node fits: the FailedScheduling message and, if preemption found
    /// room, the node to nominate and the pods to evict there.
    Unschedulable {
        message: String,
        nominated_node: Option<String>,
        victims: Vec<String>,
    },
    /// A malformed pod or a plugin error; retried after back-off.
    Error { message: String },
}

/// One scheduling cycle's record: for the page's "why here / why Pending"
/// table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// `namespace/name`.
    pub pod: String,
    pub cycle: u64,
    pub num_all_nodes: usize,
    /// PreFilter statuses that were not Success (a Skip is listed too).
    pub pre_filter: Vec<(&'static str, Status)>,
    /// Filter plugins in order, and whether each ran this cycle.
    pub filter_plugins: Vec<(&'static str, bool)>,
    /// Score plugins in order with their weights; `false` when its PreScore
    /// skipped it.
    pub score_plugins: Vec<(&'static str, i64, bool)>,
    /// The evaluated nodes, in evaluation order.
    pub nodes: Vec<NodeRecord>,
    pub outcome: Outcome,
}

impl Decision {
    /// Each filter's verdict on the `i`-th evaluated node.
    pub fn verdicts(&self, i: usize) -> Vec<(&'static str, Verdict)> {
        let Some(rec) = self.nodes.get(i) else {
            return Vec::new();
        };
        self.filter_plugins
            .iter()
            .enumerate()
            .map(|(j, (name, ran))| {
                let v = match &rec.failure {
                    _ if !ran => Verdict::NotRun,
                    None => Verdict::Passed,
                    Some((k, _)) if j < *k => Verdict::Passed,
                    Some((k, s)) if j == *k => Verdict::Failed {
                        code: s.code,
                        reasons: s.reasons.iter().map(|r| r.to_string()).collect(),
                    },
                    Some(_) => Verdict::NotRun,
                };
                (*name, v)
            })
            .collect()
    }

    /// The record of the node named `node`, if it was evaluated.
    pub fn node(&self, node: &str) -> Option<&NodeRecord> {
        self.nodes.iter().find(|r| &*r.node == node)
    }

    /// The chosen node, if any.
    pub fn chosen(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Scheduled { node, .. } => Some(node),
            _ => None,
        }
    }
}

/// `FitError.Error()` (`pkg/scheduler/framework/types.go`):
/// "0/N nodes are available: " + the reasons counted and sorted as strings,
/// then the PostFilter message. A PreFilter rejection replaces the
/// per-node histogram.
pub fn fit_error_message<'a>(
    num_all_nodes: usize,
    pre_filter_msg: &str,
    statuses: impl Iterator<Item = &'a Status>,
    absent: Option<(&Status, usize)>,
    post_filter_msg: &str,
) -> String {
    let mut msg = format!("0/{num_all_nodes} nodes are available:");
    if !pre_filter_msg.is_empty() {
        msg.push_str(&format!(" {pre_filter_msg}."));
    } else {
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for s in statuses {
            for r in &s.reasons {
                *reasons.entry(r.as_ref()).or_default() += 1;
            }
        }
        if let Some((status, count)) = absent.filter(|a| a.1 > 0) {
            for r in &status.reasons {
                *reasons.entry(r.as_ref()).or_default() += count;
            }
        }
        let mut list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        list.sort();
        if !list.is_empty() {
            msg.push_str(&format!(" {}.", list.join(", ")));
        }
    }
    if !post_filter_msg.is_empty() {
        msg.push_str(&format!(" {post_filter_msg}."));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentage_of_nodes_to_score_takes_every_node_below_100() {
        assert_eq!(num_feasible_nodes_to_find(0, 50), 50);
        assert_eq!(num_feasible_nodes_to_find(0, 99), 99);
    }

    #[test]
    fn percentage_of_nodes_to_score_is_42_percent_of_1000_nodes() {
        // 50 - 1000/125 = 42 %.
        assert_eq!(num_feasible_nodes_to_find(0, 1000), 420);
    }

    #[test]
    fn percentage_of_nodes_to_score_is_10_percent_of_5000_nodes_and_never_below_5_percent() {
        assert_eq!(num_feasible_nodes_to_find(0, 5000), 500);
        // 50 - 6000/125 = 2 -> 5 %.
        assert_eq!(num_feasible_nodes_to_find(0, 6000), 300);
        // At least 100 nodes.
        assert_eq!(num_feasible_nodes_to_find(10, 150), 100);
        assert_eq!(num_feasible_nodes_to_find(100, 5000), 5000);
    }

    #[test]
    fn the_fit_error_counts_and_sorts_reasons_like_upstream() {
        let a = Status::unschedulable("Insufficient cpu");
        let b = Status::unresolvable(
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
        );
        let msg = fit_error_message(3, "", [&a, &b, &b].into_iter(), None, "");
        assert_eq!(
            msg,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
        );
    }

    #[test]
    fn default_normalize_score_reverses_and_handles_all_zero() {
        let mut s = [0, 0];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [100, 100]);
        let mut s = [1, 2, 4];
        default_normalize_score(100, true, &mut s);
        assert_eq!(s, [75, 50, 0]);
        let mut s = [1, 2, 4];
        default_normalize_score(100, false, &mut s);
        assert_eq!(s, [25, 50, 100]);
    }
}
