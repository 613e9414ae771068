//! NodeAffinity: `spec.nodeSelector` and required node affinity filter;
//! preferred terms score by weight.
//!
//! Port of `pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go`
//! (`PreFilter`, `Filter`, `ErrReasonPod`, `PreScore`, `Score`,
//! `NormalizeScore` with `DefaultNormalizeScore`). Left out: the
//! scheduler-enforced `addedAffinity` and PreFilter's node-name shortcut.

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    default_normalize_score, CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin,
    ScorePlugin, Status, MAX_NODE_SCORE,
};
use crate::scheduler::podinfo::{NodeTerm, RequiredNodeAffinity};

/// `ErrReasonPod`.
pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// The pod's node affinity, parsed once per cycle.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub required: RequiredNodeAffinity,
    pub preferred: Vec<(i64, NodeTerm)>,
}

pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        names::NODE_AFFINITY
    }
}

impl PreFilterPlugin for NodeAffinity {
    fn pre_filter(&self, cs: &mut CycleState, _cache: &Cache) -> Status {
        cs.node_affinity.required = RequiredNodeAffinity::of(cs.pod.spec());
        if cs.node_affinity.required.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
}

impl FilterPlugin for NodeAffinity {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        if cs
            .node_affinity
            .required
            .matches(node.name(), node.labels())
        {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_POD)
        }
    }
}

impl PreScorePlugin for NodeAffinity {
    fn pre_score(&self, cs: &mut CycleState, _cache: &Cache, _f: &[&NodeInfo]) -> Status {
        cs.node_affinity.preferred = cs
            .pod
            .spec()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.preferred_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .into_iter()
            .flatten()
            .filter(|t| t.weight != 0)
            .map(|t| (i64::from(t.weight), NodeTerm::compile(&t.preference)))
            .collect();
        if cs.node_affinity.preferred.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        cs.node_affinity
            .preferred
            .iter()
            .filter(|(_, t)| t.matches(node.name(), node.labels()))
            .map(|(w, _)| *w)
            .sum()
    }

    fn normalize(&self, _cs: &CycleState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn a_node_selector_that_no_node_matches_gives_the_affinity_reason() {
        let mut s = sched(&[node("a").label("disk", "hdd").build(), node("b").build()]);
        let d = cycle(&mut s, pod("p").node_selector("disk", "ssd").build());
        assert!(unschedulable_message(&d).starts_with(
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
        ));
        let d = cycle(&mut s, pod("q").node_selector("disk", "hdd").build());
        assert_eq!(d.chosen(), Some("a"));
    }

    #[test]
    fn required_affinity_with_an_in_expression_and_preferred_weights_score() {
        let mut s = sched(&[
            node("a").label("zone", "z1").build(),
            node("b").label("zone", "z2").build(),
            node("c").label("zone", "z3").build(),
        ]);
        let d = cycle(
            &mut s,
            pod("p")
                .required_node_in("zone", &["z1", "z2"])
                .preferred_node_in(10, "zone", &["z2"])
                .build(),
        );
        assert_eq!(d.chosen(), Some("b"));
        assert!(!d.node("c").unwrap().passed());
        let i = score_index(&d, "NodeAffinity");
        assert_eq!(d.node("b").unwrap().scores[i].raw, 10);
        assert_eq!(d.node("b").unwrap().scores[i].normalized, 100);
        assert_eq!(d.node("a").unwrap().scores[i].normalized, 0);
    }
}
