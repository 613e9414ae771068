//! PodTopologySpread: `topologySpreadConstraints` (DoNotSchedule filters,
//! ScheduleAnyway scores), and the cluster's default constraints for pods
//! that declare none.
//!
//! Port of `pkg/scheduler/framework/plugins/podtopologyspread/`:
//! `filtering.go` (`calPreFilterState`, `Filter`: skew = matching pods in
//! the node's domain + self - global minimum, `ErrReasonConstraintsNotMatch`,
//! `ErrReasonNodeLabelNotMatch`), `scoring.go` (`initPreScoreState`,
//! `PreScore`, `Score` with `scoreForCount`, `NormalizeScore`), `common.go`
//! (node inclusion policies, matchLabelKeys) and `plugin.go`
//! (`systemDefaultConstraints`: hostname maxSkew 3, zone maxSkew 5,
//! ScheduleAnyway).
//! The default constraints select "the pods of the same Service,
//! ReplicaSet, StatefulSet or ReplicationController" (`DefaultSelector`);
//! this library has no such listers and groups pods by their controller
//! owner's uid instead, which is what a ReplicaSet's or StatefulSet's
//! selector selects in practice.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo, TopologyIndex};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
    MAX_NODE_SCORE,
};
use crate::scheduler::podinfo::{tolerations_tolerate, PodInfo, RequiredNodeAffinity, Selector};

/// `ErrReasonConstraintsNotMatch`.
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints";
/// `ErrReasonNodeLabelNotMatch`.
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME: &str = "kubernetes.io/hostname";
const ZONE: &str = "topology.kubernetes.io/zone";

/// Which pods a constraint counts.
#[derive(Clone, Debug)]
pub enum SpreadSelector {
    Labels(Selector),
    /// Pods of the same controller (the default constraints).
    Controller(String),
}

/// A parsed constraint (`topologySpreadConstraint`).
#[derive(Clone, Debug)]
pub struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub selector: SpreadSelector,
    pub min_domains: i64,
    pub honor_node_affinity: bool,
    pub honor_node_taints: bool,
}

impl Constraint {
    fn count_on(&self, pod: &PodInfo, cache: &Cache, node: &NodeInfo) -> i64 {
        match &self.selector {
            SpreadSelector::Labels(sel) => node
                .pods
                .iter()
                .filter(|p| {
                    !p.terminating && p.namespace() == pod.namespace() && sel.matches(p.labels())
                })
                .count() as i64,
            SpreadSelector::Controller(uid) => cache
                .controller_pods(uid)
                .and_then(|m| m.get(&node.slot))
                .map_or(0, |c| i64::from(*c)),
        }
    }

    fn self_match(&self, pod: &PodInfo) -> bool {
        match &self.selector {
            SpreadSelector::Labels(s) => s.matches(pod.labels()),
            SpreadSelector::Controller(_) => true,
        }
    }

    /// `matchNodeInclusionPolicies`.
    fn includes(&self, pod: &PodInfo, req: &RequiredNodeAffinity, node: &NodeInfo) -> bool {
        if self.honor_node_affinity && !req.matches(node.name(), node.labels()) {
            return false;
        }
        if self.honor_node_taints {
            let tols = pod.tolerations();
            if node.st.taints.iter().any(|t| {
                (t.effect == "NoSchedule" || t.effect == "NoExecute")
                    && !tolerations_tolerate(tols, t)
            }) {
                return false;
            }
        }
        true
    }
}

/// `filterTopologySpreadConstraints`: the pod's constraints of one kind.
fn pod_constraints(pod: &PodInfo, hard: bool) -> Result<Vec<Constraint>, String> {
    let mut out = Vec::new();
    let want = if hard {
        "DoNotSchedule"
    } else {
        "ScheduleAnyway"
    };
    for c in pod
        .spec()
        .and_then(|s| s.topology_spread_constraints.as_deref())
        .into_iter()
        .flatten()
    {
        if c.when_unsatisfiable != want {
            continue;
        }
        let mut sel = Selector::compile(c.label_selector.as_ref())?;
        if !sel.is_nothing() {
            for k in c.match_label_keys.iter().flatten() {
                if let Some(v) = pod.labels().get(k) {
                    sel.require(k, v, true);
                }
            }
        }
        out.push(Constraint {
            max_skew: i64::from(c.max_skew.max(1)),
            topology_key: c.topology_key.clone(),
            selector: SpreadSelector::Labels(sel),
            min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_node_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        });
    }
    Ok(out)
}

/// `buildDefaultConstraints` with the system defaults.
fn default_constraints(pod: &PodInfo) -> Vec<Constraint> {
    let Some(uid) = pod.controller_uid() else {
        return Vec::new();
    };
    [(HOSTNAME, 3), (ZONE, 5)]
        .into_iter()
        .map(|(k, skew)| Constraint {
            max_skew: skew,
            topology_key: k.to_string(),
            selector: SpreadSelector::Controller(uid.to_string()),
            min_domains: 1,
            honor_node_affinity: true,
            honor_node_taints: false,
        })
        .collect()
}

fn has_all_keys(node: &NodeInfo, cs: &[Constraint]) -> bool {
    cs.iter()
        .all(|c| node.labels().contains_key(&c.topology_key))
}

/// PreFilter's state: matching pods per topology value, per constraint.
#[derive(Clone, Debug, Default)]
pub struct FilterState {
    constraints: Vec<Constraint>,
    counts: Vec<BTreeMap<String, i64>>,
}

impl FilterState {
    /// The global minimum for constraint `i` (0 when fewer domains than
    /// `minDomains`).
    fn min_match(&self, i: usize) -> i64 {
        let m = &self.counts[i];
        if (m.len() as i64) < self.constraints[i].min_domains {
            return 0;
        }
        m.values().copied().min().unwrap_or(i64::from(i32::MAX))
    }
}

/// PreScore's state.
#[derive(Clone, Debug, Default)]
pub struct ScoreState {
    constraints: Vec<Constraint>,
    ignored: BTreeSet<usize>,
    /// Per constraint, the nodes' values of its topology key, interned
    /// (the cache keeps them up to date as nodes change).
    index: Vec<Rc<TopologyIndex>>,
    /// Per constraint, matching pods per topology value (by the index's
    /// value id; the value of a node without the label is "", as Go's map
    /// lookup gives). Only values some feasible node has are counted
    /// (upstream's `TopologyPairToPodCounts`).
    counts: Vec<Vec<i64>>,
    weights: Vec<f64>,
    /// The default constraints' pods of the controller per node slot,
    /// sorted by slot: read once from the cache so that Score counts a
    /// node's pods without a lookup by uid among every controller.
    controller_counts: Vec<(usize, i64)>,
}

impl ScoreState {
    /// Pods of the controller on node `slot` (default constraints).
    fn controller_count(&self, slot: usize) -> i64 {
        self.controller_counts
            .binary_search_by_key(&slot, |(s, _)| *s)
            .map_or(0, |i| self.controller_counts[i].1)
    }
}

/// The value id of `node`'s topology value in `index`, a missing label
/// counting as "" (`node.Labels[key]` in Go); `index.num_values()` stands
/// for "" when no node has it as a value.
fn value_or_empty(index: &TopologyIndex, slot: usize) -> usize {
    match index.of(slot) {
        Some(id) => id,
        None => index.id_of("").unwrap_or(index.num_values()),
    }
}

pub struct PodTopologySpread;

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        names::POD_TOPOLOGY_SPREAD
    }
}

impl PreFilterPlugin for PodTopologySpread {
    fn pre_filter(&self, cs: &mut CycleState, cache: &Cache) -> Status {
        let constraints = match pod_constraints(&cs.pod, true) {
            Ok(c) => c,
            Err(e) => return Status::error(e),
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        let req = RequiredNodeAffinity::of(cs.pod.spec());
        let mut counts = vec![BTreeMap::new(); constraints.len()];
        for n in cache.nodes() {
            if !has_all_keys(n, &constraints) {
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(&cs.pod, &req, n) {
                    continue;
                }
                let v = n.labels()[&c.topology_key].clone();
                *counts[i].entry(v).or_insert(0) += c.count_on(&cs.pod, cache, n);
            }
        }
        cs.spread_filter = Some(FilterState {
            constraints,
            counts,
        });
        Status::success()
    }
}

impl FilterPlugin for PodTopologySpread {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        let Some(st) = &cs.spread_filter else {
            return Status::success();
        };
        for (i, c) in st.constraints.iter().enumerate() {
            let Some(v) = node.labels().get(&c.topology_key) else {
                return Status::unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
            };
            let self_match = i64::from(c.self_match(&cs.pod));
            let matching = st.counts[i].get(v).copied().unwrap_or(0);
            let skew = matching + self_match - st.min_match(i);
            if skew > c.max_skew {
                return Status::unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
            }
        }
        Status::success()
    }
}

impl PreScorePlugin for PodTopologySpread {
    fn pre_score(&self, cs: &mut CycleState, cache: &Cache, feasible: &[&NodeInfo]) -> Status {
        let declared = cs
            .pod
            .spec()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .is_some_and(|v| !v.is_empty());
        let constraints = if declared {
            match pod_constraints(&cs.pod, false) {
                Ok(c) => c,
                Err(e) => return Status::error(e),
            }
        } else {
            default_constraints(&cs.pod)
        };
        if constraints.is_empty() {
            return Status::skip();
        }
        // Only user constraints require every topology label (system
        // defaults let zone-less nodes still spread by hostname).
        let require_all = declared;
        let index: Vec<Rc<TopologyIndex>> = constraints
            .iter()
            .map(|c| cache.topology_index(&c.topology_key))
            .collect();
        let has_all = |slot: usize| index.iter().all(|ix| ix.of(slot).is_some());
        let mut st = ScoreState {
            counts: index
                .iter()
                .map(|ix| vec![0; ix.num_values() + 1])
                .collect(),
            ..Default::default()
        };
        // Which values some feasible node has (the domains counted).
        let mut seen: Vec<Vec<bool>> = index
            .iter()
            .map(|ix| vec![false; ix.num_values() + 1])
            .collect();
        let mut topo_size = vec![0usize; constraints.len()];
        for n in feasible {
            if require_all && !has_all(n.slot) {
                st.ignored.insert(n.slot);
                continue;
            }
            for (i, c) in constraints.iter().enumerate() {
                if c.topology_key == HOSTNAME {
                    continue;
                }
                let v = value_or_empty(&index[i], n.slot);
                if !seen[i][v] {
                    seen[i][v] = true;
                    topo_size[i] += 1;
                }
            }
        }
        st.weights = constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let size = if c.topology_key == HOSTNAME {
                    feasible.len() - st.ignored.len()
                } else {
                    topo_size[i]
                };
                ((size + 2) as f64).ln()
            })
            .collect();
        if let (false, Some(SpreadSelector::Controller(uid))) =
            (declared, constraints.first().map(|c| &c.selector))
        {
            st.controller_counts = cache
                .controller_pods(uid)
                .map(|m| m.iter().map(|(s, c)| (*s, i64::from(*c))).collect())
                .unwrap_or_default();
        }
        let req = RequiredNodeAffinity::of(cs.pod.spec());
        let count_node = |n: &NodeInfo, st: &mut ScoreState| {
            if require_all && !has_all(n.slot) {
                return;
            }
            for (i, c) in constraints.iter().enumerate() {
                if !c.includes(&cs.pod, &req, n) {
                    continue;
                }
                let v = value_or_empty(&index[i], n.slot);
                if !seen[i][v] {
                    continue;
                }
                let count = match &c.selector {
                    SpreadSelector::Controller(_) => st.controller_count(n.slot),
                    SpreadSelector::Labels(_) => c.count_on(&cs.pod, cache, n),
                };
                st.counts[i][v] += count;
            }
        };
        // Default constraints count one controller's pods: visit only the
        // nodes that have some (the others add 0).
        if !declared
            && matches!(
                constraints.first().map(|c| &c.selector),
                Some(SpreadSelector::Controller(_))
            )
        {
            let slots: Vec<usize> = st.controller_counts.iter().map(|(s, _)| *s).collect();
            for slot in slots {
                if let Some(n) = cache.slot(slot).filter(|n| n.live) {
                    count_node(n, &mut st);
                }
            }
        } else {
            for n in cache.nodes() {
                count_node(n, &mut st);
            }
        }
        st.index = index;
        st.constraints = constraints;
        cs.spread_score = Some(st);
        Status::success()
    }
}

impl ScorePlugin for PodTopologySpread {
    fn score(&self, cs: &CycleState, cache: &Cache, node: &NodeInfo) -> i64 {
        let Some(st) = &cs.spread_score else {
            return 0;
        };
        if st.ignored.contains(&node.slot) {
            return 0;
        }
        let mut score = 0f64;
        for (i, c) in st.constraints.iter().enumerate() {
            let Some(v) = st.index[i].of(node.slot) else {
                continue;
            };
            let cnt = if c.topology_key == HOSTNAME {
                match &c.selector {
                    SpreadSelector::Controller(_) => st.controller_count(node.slot),
                    SpreadSelector::Labels(_) => c.count_on(&cs.pod, cache, node),
                }
            } else {
                st.counts[i].get(v).copied().unwrap_or(0)
            };
            // scoreForCount
            score += cnt as f64 * st.weights[i] + (c.max_skew - 1) as f64;
        }
        score.round() as i64
    }

    fn normalize(&self, cs: &CycleState, nodes: &[&NodeInfo], scores: &mut [i64]) {
        let Some(st) = &cs.spread_score else {
            return;
        };
        let (mut min, mut max) = (i64::MAX, 0i64);
        for (n, s) in nodes.iter().zip(scores.iter()) {
            if st.ignored.contains(&n.slot) {
                continue;
            }
            min = min.min(*s);
            max = max.max(*s);
        }
        for (n, s) in nodes.iter().zip(scores.iter_mut()) {
            if st.ignored.contains(&n.slot) {
                *s = 0;
            } else if max == 0 {
                *s = MAX_NODE_SCORE;
            } else {
                *s = MAX_NODE_SCORE * (max + min - *s) / max;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn a_hard_zone_constraint_rejects_the_crowded_zone() {
        let mut s = sched(&[
            node("a").label("topology.kubernetes.io/zone", "z1").build(),
            node("b").label("topology.kubernetes.io/zone", "z2").build(),
        ]);
        cycle_and_bind_on(&mut s, pod("w1").label("app", "web").build(), "a");
        let d = cycle(
            &mut s,
            pod("w2")
                .label("app", "web")
                .spread(
                    "topology.kubernetes.io/zone",
                    1,
                    "DoNotSchedule",
                    "app",
                    "web",
                )
                .build(),
        );
        assert_eq!(d.chosen(), Some("b"));
        assert_eq!(
            d.node("a").unwrap().failure.as_ref().unwrap().1.reasons[0],
            "node(s) didn't match pod topology spread constraints"
        );
    }

    #[test]
    fn a_node_without_the_topology_label_is_unresolvable() {
        let mut s = sched(&[node("a").build()]);
        let d = cycle(
            &mut s,
            pod("w")
                .label("app", "web")
                .spread(
                    "topology.kubernetes.io/zone",
                    1,
                    "DoNotSchedule",
                    "app",
                    "web",
                )
                .build(),
        );
        assert!(unschedulable_message(&d).contains(
            "1 node(s) didn't match pod topology spread constraints (missing required label)"
        ));
    }

    #[test]
    fn default_constraints_spread_a_controllers_pods_across_hosts() {
        let mut s = sched(&[node("a").hostname().build(), node("b").hostname().build()]);
        cycle_and_bind_on(&mut s, pod("r1").owner("rs-uid").build(), "a");
        let d = cycle(&mut s, pod("r2").owner("rs-uid").build());
        let i = score_index(&d, "PodTopologySpread");
        assert!(d.score_plugins[i].2, "default constraints apply");
        assert!(
            d.node("b").unwrap().scores[i].normalized > d.node("a").unwrap().scores[i].normalized
        );
        assert_eq!(d.chosen(), Some("b"));
    }
}
