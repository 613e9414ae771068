//! kube-scheduler: assigns each pending pod to a node.
//!
//! In Kubernetes, kube-scheduler watches pods without `spec.nodeName` and
//! all nodes. Pending pods wait in a scheduling queue (activeQ ordered by
//! priority, podBackoffQ for pods that failed recently, unschedulablePods
//! for pods no node fits until the cluster changes). For the pod at the
//! head of the queue, one *scheduling cycle* runs the framework's plugins:
//! PreFilter computes per-pod data, Filter drops nodes the pod cannot run on
//! (stopping once `percentageOfNodesToScore` worth of feasible nodes are
//! found, starting where the previous cycle stopped), PostFilter tries
//! preemption if none is left, PreScore/Score/NormalizeScore rank the
//! feasible nodes (weighted sum; ties broken at random), Reserve and Permit
//! claim the node, and the pod is *assumed* on it in the cache. The
//! binding cycle then posts a `v1.Binding` to `pods/binding`; the watch
//! confirms it. A pod no node fits gets a `FailedScheduling` event and a
//! `PodScheduled=False` condition, and, if preemption found room, a
//! nominated node while the victims are deleted. Several instances run;
//! one leads through a Lease.
//!
//! This module is the pure core of that: informer events in, decisions
//! out, no I/O. The caller (the component wiring) feeds `on_*` events,
//! calls [`Scheduler::run_next`] when [`Scheduler::next_wakeup`] or new
//! work says so, posts the returned binding, and reports the result with
//! [`Scheduler::binding_succeeded`] / [`Scheduler::binding_failed`].
//! Leader election, events and status patches are the wiring's job.
//!
//! Left out of the simulation: volume plugins (VolumeBinding,
//! VolumeRestrictions, VolumeZone, NodeVolumeLimits), NodePorts,
//! DynamicResources, scheduling gates, nominated pods being counted by
//! later cycles' filters, PodDisruptionBudgets in preemption, per-event
//! QueueingHint functions (events are matched to plugins only), several
//! profiles, extenders, the parallelism of Filter and Score (the result is
//! the same: nodes are visited in order), and the async API dispatcher.

pub mod agent;
pub mod cache;
pub mod framework;
pub mod plugins;
pub mod podinfo;
pub mod queue;
#[cfg(test)]
pub(crate) mod testutil;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::api::Object;
use crate::world::{SimRng, SimTime};

pub use cache::{Cache, NodeInfo};
pub use framework::{
    num_feasible_nodes_to_find, Code, CycleState, Decision, Framework, NodeName, NodeRecord,
    Outcome, PluginScore, Status, Verdict, MAX_NODE_SCORE,
};
pub use plugins::default_binder::binding_body;
pub use podinfo::PodInfo;
pub use queue::{ClusterEvent, QueuedPodInfo, SchedulingQueue};

use framework::{fit_error_message, NodeStatuses, MAX_SCORE_PLUGINS};
use plugins::*;

/// The scheduler name pods ask for by default.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

impl Framework {
    /// The upstream default profile (`pkg/scheduler/apis/config/v1/default_plugins.go`)
    /// restricted to the plugins simulated, with its score weights.
    pub fn default_profile() -> Framework {
        let na = Rc::new(node_affinity::NodeAffinity);
        let fit = Rc::new(node_resources_fit::NodeResourcesFit);
        let pts = Rc::new(pod_topology_spread::PodTopologySpread);
        let ipa = Rc::new(inter_pod_affinity::InterPodAffinity);
        let tt = Rc::new(taint_toleration::TaintToleration);
        let il = Rc::new(image_locality::ImageLocality);
        Framework {
            scheduler_name: DEFAULT_SCHEDULER_NAME.to_string(),
            queue_sort: Rc::new(priority_sort::PrioritySort),
            pre_filter: vec![na.clone(), fit.clone(), pts.clone(), ipa.clone()],
            filter: vec![
                Rc::new(node_unschedulable::NodeUnschedulable),
                Rc::new(node_name::NodeName),
                tt.clone(),
                na.clone(),
                fit.clone(),
                pts.clone(),
                ipa.clone(),
            ],
            post_filter: vec![Rc::new(default_preemption::DefaultPreemption)],
            pre_score: vec![na.clone(), pts.clone(), ipa.clone(), il.clone()],
            score: vec![
                (tt, 3),
                (na, 2),
                (fit, 1),
                (pts, 2),
                (ipa, 2),
                (
                    Rc::new(node_resources_balanced_allocation::NodeResourcesBalancedAllocation),
                    1,
                ),
                (il, 1),
            ],
            reserve: Vec::new(),
            permit: Vec::new(),
            bind: Rc::new(default_binder::DefaultBinder),
            percentage_of_nodes_to_score: 0,
        }
    }
}

/// What the wiring must do after a cycle.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Post `body` to `/api/v1/namespaces/{namespace}/pods/{name}/binding`,
    /// then call `binding_succeeded` or `binding_failed`.
    Bind {
        namespace: String,
        name: String,
        node: String,
        body: serde_json::Value,
    },
    /// Record a `FailedScheduling` Warning event with `message`, set
    /// `PodScheduled=False` (reason `Unschedulable`, or `SchedulerError`
    /// for an error), and if `nominated_node` is set, patch
    /// `status.nominatedNodeName` and delete the `victims`
    /// (`namespace/name`).
    Failed {
        namespace: String,
        name: String,
        reason: &'static str,
        message: String,
        nominated_node: Option<String>,
        victims: Vec<String>,
    },
}

/// One cycle's result: the record for the page and the action to take.
#[derive(Clone, Debug)]
pub struct CycleResult {
    pub decision: Decision,
    pub action: Action,
}

/// One kube-scheduler instance's state: cache, queue, profile.
#[derive(Clone)]
pub struct Scheduler {
    pub framework: Framework,
    pub cache: Cache,
    pub queue: SchedulingQueue,
    /// PriorityClass name -> (value, globalDefault).
    priority_classes: BTreeMap<String, (i32, bool)>,
    next_start_node_index: usize,
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler::new(Framework::default_profile())
    }
}

fn assigned_node(pod: &Object) -> Option<&str> {
    match pod {
        Object::Pod(p) => p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty()),
        _ => None,
    }
}

fn is_terminal(pod: &Object) -> bool {
    matches!(pod, Object::Pod(p) if matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    ))
}

impl Scheduler {
    pub fn new(framework: Framework) -> Scheduler {
        Scheduler {
            queue: SchedulingQueue::new(framework.queue_sort.clone()),
            framework,
            cache: Cache::default(),
            priority_classes: BTreeMap::new(),
            next_start_node_index: 0,
        }
    }

    /// The priority of a pod without `spec.priority`: its class's value,
    /// else the global default class's, else 0.
    pub fn priority_of_class(&self, class: Option<&str>) -> i32 {
        match class.filter(|c| !c.is_empty()) {
            Some(c) => self.priority_classes.get(c).map_or(0, |p| p.0),
            None => self
                .priority_classes
                .values()
                .filter(|p| p.1)
                .map(|p| p.0)
                .max()
                .unwrap_or(0),
        }
    }

    fn pod_info(&self, pod: Rc<Object>) -> Result<PodInfo, String> {
        PodInfo::new(pod, &|c| self.priority_of_class(c))
    }

    fn responsible(&self, pod: &Object) -> bool {
        matches!(pod, Object::Pod(p) if p.spec.as_ref().and_then(|s| s.scheduler_name.as_deref())
            .filter(|n| !n.is_empty()).unwrap_or(DEFAULT_SCHEDULER_NAME) == self.framework.scheduler_name)
    }

    fn priority_of(&self, pod: &Object) -> i32 {
        match pod {
            Object::Pod(p) => p.spec.as_ref().and_then(|s| s.priority).unwrap_or_else(|| {
                self.priority_of_class(
                    p.spec
                        .as_ref()
                        .and_then(|s| s.priority_class_name.as_deref())
                        .map(String::as_str),
                )
            }),
            _ => 0,
        }
    }

    // ---- informer events ----------------------------------------------

    /// A Node was added (informer Add).
    pub fn on_node_add(&mut self, now: SimTime, node: Rc<Object>) {
        if self.cache.set_node(node).is_ok() {
            self.queue.on_event(now, ClusterEvent::NodeAdd);
        }
    }

    /// A Node changed (informer Update).
    pub fn on_node_update(&mut self, now: SimTime, node: Rc<Object>) {
        if self.cache.set_node(node).is_ok() {
            self.queue.on_event(now, ClusterEvent::NodeUpdate);
        }
    }

    /// A Node was deleted.
    pub fn on_node_delete(&mut self, _now: SimTime, name: &str) {
        self.cache.remove_node(name);
    }

    /// A Pod was added: bound pods go to the cache, pending pods this
    /// scheduler is responsible for go to the queue.
    pub fn on_pod_add(&mut self, now: SimTime, pod: Rc<Object>) {
        self.on_pod(now, pod, false);
    }

    /// A Pod changed (including its binding being confirmed).
    pub fn on_pod_update(&mut self, now: SimTime, pod: Rc<Object>) {
        self.on_pod(now, pod, true);
    }

    fn on_pod(&mut self, now: SimTime, pod: Rc<Object>, update: bool) {
        if !matches!(&*pod, Object::Pod(_)) {
            return;
        }
        let key = queue::pod_key(&pod);
        if let Some(node) = assigned_node(&pod).map(str::to_string) {
            self.queue.delete(&key);
            if is_terminal(&pod) {
                if self.cache.remove_pod(&key).is_some() {
                    self.queue.on_event(now, ClusterEvent::AssignedPodDelete);
                }
                return;
            }
            let info = PodInfo::new_lenient(pod, &|c| self.priority_of_class(c));
            self.cache.set_bound_pod(Rc::new(info), &node);
            let ev = if update {
                ClusterEvent::AssignedPodUpdate
            } else {
                ClusterEvent::AssignedPodAdd
            };
            self.queue.on_event(now, ev);
        } else if self.responsible(&pod) && pod.deletion_timestamp().is_none() && !is_terminal(&pod)
        {
            let prio = self.priority_of(&pod);
            if update {
                self.queue.update(now, pod, prio);
            } else {
                self.queue.add(now, pod, prio);
            }
        }
    }

    /// A Pod was deleted (`namespace/name`).
    pub fn on_pod_delete(&mut self, now: SimTime, key: &str) {
        self.queue.delete(key);
        if self.cache.remove_pod(key).is_some() {
            self.queue.on_event(now, ClusterEvent::AssignedPodDelete);
        }
    }

    /// A PriorityClass was added or changed.
    pub fn on_priority_class_add(&mut self, pc: Rc<Object>) {
        if let Object::PriorityClass(pc) = &*pc {
            self.priority_classes.insert(
                pc.metadata.name.clone().unwrap_or_default(),
                (pc.value.unwrap_or(0), pc.global_default.unwrap_or(false)),
            );
        }
    }

    /// A PriorityClass was deleted.
    pub fn on_priority_class_delete(&mut self, name: &str) {
        self.priority_classes.remove(name);
    }

    // ---- the cycle -----------------------------------------------------

    /// When a waiting pod's back-off or unschedulable timeout expires.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        self.queue.next_wakeup()
    }

    /// Whether a pod is ready to pop now.
    pub fn has_work(&mut self, now: SimTime) -> bool {
        self.queue.flush(now);
        self.queue.len_active() > 0
    }

    /// Pops the next pod and runs a cycle: on success the pod is assumed on
    /// its node and the result says to bind; otherwise it is requeued and
    /// the result says to report it. `None` when no pod is ready.
    pub fn run_next(&mut self, now: SimTime, rng: &mut SimRng) -> Option<CycleResult> {
        let qpi = self.queue.pop(now)?;
        let (info, decision) = self.schedule_one(&qpi, rng);
        let (namespace, name) = (
            qpi.pod.namespace().unwrap_or_default().to_string(),
            qpi.pod.name().to_string(),
        );
        let action = match (&decision.outcome, info) {
            (Outcome::Scheduled { node, .. }, Some(info)) => {
                let body = self.framework.bind.bind(&info, node);
                self.cache.assume(Rc::new(info), node);
                Action::Bind {
                    namespace,
                    name,
                    node: node.clone(),
                    body,
                }
            }
            (outcome, _) => {
                let (reason, message, nominated, victims, is_error) = match outcome {
                    Outcome::Unschedulable {
                        message,
                        nominated_node,
                        victims,
                    } => (
                        "Unschedulable",
                        message.clone(),
                        nominated_node.clone(),
                        victims.clone(),
                        false,
                    ),
                    Outcome::Error { message } => {
                        ("SchedulerError", message.clone(), None, Vec::new(), true)
                    }
                    Outcome::Scheduled { .. } => (
                        "SchedulerError",
                        "pod info missing".into(),
                        None,
                        Vec::new(),
                        true,
                    ),
                };
                let plugins = rejecting_plugins(&decision);
                self.queue
                    .add_unschedulable(now, &qpi.key, plugins, is_error);
                Action::Failed {
                    namespace,
                    name,
                    reason,
                    message,
                    nominated_node: nominated,
                    victims,
                }
            }
        };
        Some(CycleResult { decision, action })
    }

    /// The binding request succeeded (`FinishBinding`, queue `Done`).
    pub fn binding_succeeded(&mut self, key: &str) {
        self.cache.finish_binding(key);
        self.queue.done(key);
    }

    /// The binding request failed: forget the assumed pod and retry it
    /// after a back-off.
    pub fn binding_failed(&mut self, now: SimTime, key: &str) {
        self.cache.forget(key);
        self.queue
            .add_unschedulable(now, key, BTreeSet::new(), true);
    }

    /// One scheduling cycle for `qpi`, without touching the cache or the
    /// queue (`schedulePod` + PostFilter). Returns the pod's computed info
    /// (to assume) and the decision record.
    pub fn schedule_one(
        &mut self,
        qpi: &QueuedPodInfo,
        rng: &mut SimRng,
    ) -> (Option<PodInfo>, Decision) {
        let fw = &self.framework;
        let cycle = self.queue.scheduling_cycle();
        let all = self.cache.num_nodes();
        let mut decision = Decision {
            pod: qpi.key.to_string(),
            cycle,
            num_all_nodes: all,
            pre_filter: Vec::new(),
            filter_plugins: Vec::new(),
            score_plugins: Vec::new(),
            nodes: Vec::new(),
            outcome: Outcome::Error {
                message: String::new(),
            },
        };
        let info = match self.pod_info(qpi.pod.clone()) {
            Ok(i) => i,
            Err(e) => {
                decision.outcome = Outcome::Error { message: e };
                return (None, decision);
            }
        };
        let mut cs = CycleState::new(info);
        if all == 0 {
            decision.outcome = Outcome::Unschedulable {
                message: "no nodes available to schedule pods".to_string(),
                nominated_node: None,
                victims: Vec::new(),
            };
            return (Some(cs.pod), decision);
        }
        // PreFilter.
        for p in &fw.pre_filter {
            let s = p.pre_filter(&mut cs, &self.cache);
            match s.code {
                Code::Success => {}
                Code::Skip => {
                    cs.skip_filter.push(p.name());
                    decision.pre_filter.push((p.name(), s));
                }
                Code::Error => {
                    decision.outcome = Outcome::Error {
                        message: format!(
                            "running PreFilter plugin \"{}\": {}",
                            p.name(),
                            s.message()
                        ),
                    };
                    decision.pre_filter.push((p.name(), s));
                    return (Some(cs.pod), decision);
                }
                _ => {
                    let msg = s.message();
                    decision.pre_filter.push((p.name(), s));
                    decision.outcome = Outcome::Unschedulable {
                        message: fit_error_message(all, &msg, std::iter::empty(), None, ""),
                        nominated_node: None,
                        victims: Vec::new(),
                    };
                    return (Some(cs.pod), decision);
                }
            }
        }
        let active = fw.active_filters(&cs);
        decision.filter_plugins = fw
            .filter
            .iter()
            .zip(&active)
            .map(|(p, a)| (p.name(), *a))
            .collect();
        // Filter, from the rotating start, until enough feasible nodes.
        let to_find = num_feasible_nodes_to_find(fw.percentage_of_nodes_to_score, all);
        let mut feasible: Vec<&NodeInfo> = Vec::with_capacity(to_find.min(all));
        let mut statuses = NodeStatuses::new();
        let start = self.next_start_node_index % all;
        decision.nodes.reserve(to_find.min(all));
        for i in 0..all {
            if feasible.len() >= to_find {
                break;
            }
            let Some(n) = self.cache.nth((start + i) % all) else {
                continue;
            };
            let failure = fw.run_filters(&cs, &active, n);
            if let Some((_, s)) = &failure {
                if s.code == Code::Error {
                    decision.outcome = Outcome::Error {
                        message: s.message(),
                    };
                    return (Some(cs.pod), decision);
                }
                statuses.insert(n.slot, s.clone());
            } else {
                feasible.push(n);
            }
            decision.nodes.push(NodeRecord {
                node: NodeName::of(n),
                failure,
                scores: [PluginScore::default(); MAX_SCORE_PLUGINS],
                total: 0,
            });
        }
        let processed = decision.nodes.len();
        self.next_start_node_index = (start + processed) % all;
        if feasible.is_empty() {
            // PostFilter.
            let mut post = framework::PostFilterResult::default();
            for p in &fw.post_filter {
                post = p.post_filter(fw, &cs, &self.cache, &statuses, rng);
                if post.nominated_node.is_some() {
                    break;
                }
            }
            let message = fit_error_message(all, "", statuses.values(), None, &post.message);
            decision.outcome = Outcome::Unschedulable {
                message,
                nominated_node: post.nominated_node,
                victims: post.victims,
            };
            return (Some(cs.pod), decision);
        }
        // One feasible node: no scoring (as upstream).
        if feasible.len() == 1 {
            decision.outcome = Outcome::Scheduled {
                node: feasible[0].name().to_string(),
                score: 0,
            };
            return (Some(cs.pod), decision);
        }
        // PreScore.
        for p in &fw.pre_score {
            let s = p.pre_score(&mut cs, &self.cache, &feasible);
            match s.code {
                Code::Skip => cs.skip_score.push(p.name()),
                Code::Error => {
                    decision.outcome = Outcome::Error {
                        message: format!(
                            "running PreScore plugin \"{}\": {}",
                            p.name(),
                            s.message()
                        ),
                    };
                    return (Some(cs.pod), decision);
                }
                _ => {}
            }
        }
        // Score, NormalizeScore, weights. Records of feasible nodes, in order.
        let rec_idx: Vec<usize> = decision
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.failure.is_none())
            .map(|(i, _)| i)
            .collect();
        let mut scores = vec![0i64; feasible.len()];
        for (j, (p, w)) in fw.score.iter().enumerate().take(MAX_SCORE_PLUGINS) {
            let run = !cs.score_skipped(p.name());
            decision.score_plugins.push((p.name(), *w, run));
            if !run {
                continue;
            }
            for (k, n) in feasible.iter().enumerate() {
                scores[k] = p.score(&cs, &self.cache, n);
                decision.nodes[rec_idx[k]].scores[j].raw = scores[k];
            }
            p.normalize(&cs, &feasible, &mut scores);
            for (k, s) in scores.iter().enumerate() {
                let r = &mut decision.nodes[rec_idx[k]];
                r.scores[j].normalized = *s;
                r.scores[j].weighted = s.saturating_mul(*w);
                r.total = r.total.saturating_add(r.scores[j].weighted);
            }
        }
        // selectHost: the best total, ties by reservoir sampling.
        let mut best = 0usize;
        let mut best_score = i64::MIN;
        let mut ties = 0u64;
        for (k, &ri) in rec_idx.iter().enumerate() {
            let t = decision.nodes[ri].total;
            if t > best_score {
                best_score = t;
                best = k;
                ties = 1;
            } else if t == best_score {
                ties += 1;
                if rng.between(0, ties - 1) == 0 {
                    best = k;
                }
            }
        }
        decision.outcome = Outcome::Scheduled {
            node: feasible[best].name().to_string(),
            score: best_score,
        };
        (Some(cs.pod), decision)
    }
}

/// The plugins that rejected the pod in a decision (for requeueing).
fn rejecting_plugins(d: &Decision) -> BTreeSet<&'static str> {
    let mut set: BTreeSet<&'static str> = d
        .nodes
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .filter_map(|(i, _)| d.filter_plugins.get(*i).map(|p| p.0))
        .collect();
    for (name, s) in &d.pre_filter {
        if s.code != Code::Skip {
            set.insert(name);
        }
    }
    if matches!(
        &d.outcome,
        Outcome::Unschedulable {
            nominated_node: Some(_),
            ..
        }
    ) {
        set.insert(plugins::names::DEFAULT_PREEMPTION);
    }
    set
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    #[test]
    fn the_rotating_start_continues_where_the_last_cycle_stopped() {
        let nodes: Vec<_> = (0..1000)
            .map(|i| node(&format!("n{i:04}")).build())
            .collect();
        let mut s = sched(&nodes);
        let d = cycle(&mut s, pod("p").build());
        // 42 % of 1000 nodes evaluated, all feasible.
        assert_eq!(d.nodes.len(), 420);
        assert_eq!(&*d.nodes[0].node, "n0000");
        let d = cycle(&mut s, pod("q").build());
        assert_eq!(&*d.nodes[0].node, "n0420");
    }

    #[test]
    fn fifty_nodes_are_all_evaluated() {
        let nodes: Vec<_> = (0..50).map(|i| node(&format!("n{i}")).build()).collect();
        let mut s = sched(&nodes);
        assert_eq!(cycle(&mut s, pod("p").build()).nodes.len(), 50);
    }

    #[test]
    fn five_thousand_nodes_evaluate_five_hundred() {
        let nodes: Vec<_> = (0..5000).map(|i| node(&format!("n{i}")).build()).collect();
        let mut s = sched(&nodes);
        assert_eq!(cycle(&mut s, pod("p").build()).nodes.len(), 500);
    }

    #[test]
    fn equal_scores_are_broken_by_the_seeded_rng_reproducibly() {
        let run = |seed| {
            let nodes: Vec<_> = (0..10).map(|i| node(&format!("n{i}")).build()).collect();
            let mut s = sched(&nodes);
            let mut rng = SimRng::new(seed);
            (0..5)
                .map(|i| {
                    s.on_pod_add(SimTime(0), pod(&format!("p{i}")).build());
                    let r = s.run_next(SimTime(0), &mut rng).unwrap();
                    s.binding_succeeded(&r.decision.pod);
                    r.decision.chosen().unwrap().to_string()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
    }

    #[test]
    fn the_decision_records_each_filters_verdict_and_each_score() {
        let mut s = sched(&[
            node("a").cpu("1").build(),
            node("b").build(),
            node("c").build(),
        ]);
        let d = cycle(&mut s, pod("p").cpu("2").build());
        let a = d.nodes.iter().position(|r| &*r.node == "a").unwrap();
        let v = d.verdicts(a);
        assert_eq!(v[0], ("NodeUnschedulable", Verdict::Passed));
        let fit = v.iter().find(|(n, _)| *n == "NodeResourcesFit").unwrap();
        assert!(
            matches!(&fit.1, Verdict::Failed { reasons, .. } if reasons == &["Insufficient cpu"])
        );
        assert_eq!(v.last().unwrap(), &("InterPodAffinity", Verdict::NotRun));
        let b = d.node("b").unwrap();
        assert!(b.total > 0);
        assert_eq!(d.score_plugins.len(), 7);
    }

    #[test]
    fn the_cycle_assumes_the_pod_and_a_failed_bind_forgets_it() {
        let mut s = sched(&[node("a").cpu("1").build()]);
        let mut rng = SimRng::new(1);
        s.on_pod_add(SimTime(0), pod("p").cpu("1").build());
        let r = s.run_next(SimTime(0), &mut rng).unwrap();
        assert!(matches!(&r.action, Action::Bind { node, .. } if node == "a"));
        assert_eq!(s.cache.node("a").unwrap().requested.milli_cpu, 1000);
        s.binding_failed(SimTime(0), "default/p");
        assert_eq!(s.cache.node("a").unwrap().requested.milli_cpu, 0);
        assert_eq!(s.queue.len_backoff(), 1);
        // After the back-off it is scheduled again; the informer confirms it.
        let r = s.run_next(SimTime(1000), &mut rng).unwrap();
        assert!(matches!(r.action, Action::Bind { .. }));
        s.binding_succeeded("default/p");
        s.on_pod_update(SimTime(1100), pod("p").cpu("1").node_name("a").build());
        assert!(!s.cache.pod("default/p").unwrap().assumed);
        assert!(!s.queue.contains("default/p"));
    }

    #[test]
    fn an_unschedulable_pod_is_retried_when_a_pod_is_deleted() {
        let mut s = sched(&[node("a").cpu("1").build()]);
        let mut rng = SimRng::new(1);
        s.on_pod_add(SimTime(0), pod("old").cpu("1").node_name("a").build());
        s.on_pod_add(SimTime(0), pod("new").cpu("1").build());
        let r = s.run_next(SimTime(0), &mut rng).unwrap();
        assert!(matches!(
            &r.action,
            Action::Failed {
                reason: "Unschedulable",
                ..
            }
        ));
        assert_eq!(s.queue.len_unschedulable(), 1);
        s.on_pod_delete(SimTime(5000), "default/old");
        let r = s.run_next(SimTime(5000), &mut rng).unwrap();
        assert!(matches!(&r.action, Action::Bind { node, .. } if node == "a"));
    }

    #[test]
    fn pods_for_another_scheduler_are_ignored() {
        let mut s = sched(&[node("a").build()]);
        s.on_pod_add(SimTime(0), pod("p").scheduler_name("other").build());
        assert!(!s.queue.contains("default/p"));
    }

    #[test]
    fn a_cluster_without_nodes_says_so() {
        let mut s = sched(&[]);
        let d = cycle(&mut s, pod("p").build());
        assert_eq!(
            unschedulable_message(&d),
            "no nodes available to schedule pods"
        );
    }
}
