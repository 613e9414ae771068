//! TaintToleration: NoSchedule/NoExecute taints must be tolerated;
//! untolerated PreferNoSchedule taints lower the score.
//!
//! Port of `pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`
//! (`Filter` with `FindMatchingUntoleratedTaint`, `Score`
//! `countIntolerableTaintsPreferNoSchedule`, `NormalizeScore` reversed).

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    default_normalize_score, CycleState, FilterPlugin, Plugin, ScorePlugin, Status, MAX_NODE_SCORE,
};
use crate::scheduler::podinfo::tolerations_tolerate;

pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        names::TAINT_TOLERATION
    }
}

impl FilterPlugin for TaintToleration {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        let tols = cs.pod.tolerations();
        for t in &node.st.taints {
            if (t.effect == "NoSchedule" || t.effect == "NoExecute")
                && !tolerations_tolerate(tols, t)
            {
                return Status::unresolvable(format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    t.key,
                    t.value.as_deref().unwrap_or("")
                ));
            }
        }
        Status::success()
    }
}

impl ScorePlugin for TaintToleration {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        if node.st.taints.is_empty() {
            return 0;
        }
        // Only tolerations with effect PreferNoSchedule or empty count
        // (`getAllTolerationPreferNoSchedule`).
        let tols: Vec<_> = cs
            .pod
            .tolerations()
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        node.st
            .taints
            .iter()
            .filter(|t| t.effect == "PreferNoSchedule" && !tolerations_tolerate(&tols, t))
            .count() as i64
    }

    fn normalize(&self, _cs: &CycleState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn an_untolerated_no_schedule_taint_names_key_and_value() {
        let mut s = sched(&[node("a").taint("dedicated", "gpu", "NoSchedule").build()]);
        let d = cycle(&mut s, pod("p").build());
        assert!(unschedulable_message(&d).starts_with(
            "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}."
        ));
        let d = cycle(
            &mut s,
            pod("q")
                .toleration("dedicated", "Equal", "gpu", "NoSchedule")
                .build(),
        );
        assert_eq!(d.chosen(), Some("a"));
    }

    #[test]
    fn a_prefer_no_schedule_taint_lowers_the_score() {
        let mut s = sched(&[
            node("a").taint("x", "y", "PreferNoSchedule").build(),
            node("b").build(),
        ]);
        let d = cycle(&mut s, pod("p").build());
        assert_eq!(d.chosen(), Some("b"));
        let i = score_index(&d, "TaintToleration");
        assert_eq!(d.node("a").unwrap().scores[i].normalized, 0);
        assert_eq!(d.node("b").unwrap().scores[i].normalized, 100);
        assert_eq!(d.node("b").unwrap().scores[i].weighted, 300);
    }
}
