//! NodeResourcesFit: the pod's requests must fit the node's allocatable
//! minus what its pods request; scores with LeastAllocated.
//!
//! Port of `pkg/scheduler/framework/plugins/noderesources/fit.go`
//! (`Filter`, `fitsRequest`: "Too many pods", "Insufficient cpu", ...;
//! unresolvable when the request exceeds the whole node) and
//! `least_allocated.go` (`leastResourceScorer`, cpu and memory weight 1,
//! on non-zero requests as `resource_allocation.go` computes them).

use std::borrow::Cow;

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    Code, CycleState, FilterPlugin, Plugin, PreFilterPlugin, ScorePlugin, Status, MAX_NODE_SCORE,
};
use crate::scheduler::podinfo::{PodInfo, Resources};

pub struct NodeResourcesFit;

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        names::NODE_RESOURCES_FIT
    }
}

impl PreFilterPlugin for NodeResourcesFit {
    /// The requests were computed with the PodInfo.
    fn pre_filter(&self, _cs: &mut CycleState, _cache: &Cache) -> Status {
        Status::success()
    }
}

/// `fitsRequest`: the reasons and whether any is unresolvable.
pub fn fits_request(
    pod: &PodInfo,
    alloc: &Resources,
    requested: &Resources,
    num_pods: usize,
) -> Status {
    let mut reasons: Vec<Cow<'static, str>> = Vec::new();
    let mut code = Code::Unschedulable;
    if num_pods as i64 + 1 > alloc.allowed_pods {
        reasons.push("Too many pods".into());
    }
    let r = &pod.requests;
    if r.is_zero() {
        return finish(reasons, code);
    }
    let mut check = |want: i64, have: i64, used: i64, reason: Cow<'static, str>| {
        if want > 0 && want > have.saturating_sub(used) {
            reasons.push(reason);
            if want > have {
                code = Code::UnschedulableAndUnresolvable;
            }
        }
    };
    check(
        r.milli_cpu,
        alloc.milli_cpu,
        requested.milli_cpu,
        "Insufficient cpu".into(),
    );
    check(
        r.memory,
        alloc.memory,
        requested.memory,
        "Insufficient memory".into(),
    );
    check(
        r.ephemeral_storage,
        alloc.ephemeral_storage,
        requested.ephemeral_storage,
        "Insufficient ephemeral-storage".into(),
    );
    for (name, want) in &r.scalar {
        check(
            *want,
            alloc.scalar(name),
            requested.scalar(name),
            format!("Insufficient {name}").into(),
        );
    }
    finish(reasons, code)
}

fn finish(reasons: Vec<Cow<'static, str>>, code: Code) -> Status {
    if reasons.is_empty() {
        Status::success()
    } else {
        Status { code, reasons }
    }
}

impl FilterPlugin for NodeResourcesFit {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        fits_request(
            &cs.pod,
            &node.st.allocatable,
            &node.requested,
            node.pods.len(),
        )
    }
}

/// `leastRequestedScore`.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

impl ScorePlugin for NodeResourcesFit {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        let a = &node.st.allocatable;
        let cpu = node.non_zero_cpu.saturating_add(cs.pod.non_zero_cpu);
        let mem = node.non_zero_memory.saturating_add(cs.pod.non_zero_memory);
        let (mut score, mut weights) = (0, 0);
        for (req, cap) in [(cpu, a.milli_cpu), (mem, a.memory)] {
            if cap == 0 {
                continue;
            }
            score += least_requested_score(req, cap);
            weights += 1;
        }
        if weights == 0 {
            0
        } else {
            score / weights
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn a_pod_too_big_for_every_node_gets_the_upstream_message() {
        let mut s = sched(&[
            node("a").cpu("2").build(),
            node("b").cpu("2").build(),
            node("c")
                .cpu("2")
                .taint("node-role.kubernetes.io/control-plane", "", "NoSchedule")
                .build(),
        ]);
        let d = cycle(&mut s, pod("big").cpu("3").build());
        assert_eq!(
            unschedulable_message(&d),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
        );
    }

    #[test]
    fn requests_add_up_and_too_many_pods_is_reported() {
        let mut s = sched(&[node("a").cpu("1").pods(2).build()]);
        let d = cycle_and_bind(&mut s, pod("p1").cpu("400m").build());
        assert_eq!(d.chosen(), Some("a"));
        cycle_and_bind(&mut s, pod("p2").cpu("400m").build());
        let d = cycle(&mut s, pod("p3").cpu("400m").memory("1Gi").build());
        assert!(
            unschedulable_message(&d)
                .starts_with("0/1 nodes are available: 1 Insufficient cpu, 1 Too many pods."),
            "{}",
            unschedulable_message(&d)
        );
    }

    #[test]
    fn least_allocated_prefers_the_emptier_node() {
        let mut s = sched(&[node("a").build(), node("b").build()]);
        cycle_and_bind_on(&mut s, pod("x").cpu("2").memory("8Gi").build(), "a");
        let d = cycle(&mut s, pod("p").cpu("1").memory("1Gi").build());
        assert_eq!(d.chosen(), Some("b"));
        let i = score_index(&d, "NodeResourcesFit");
        // b: cpu (4000-1000)/4000 = 75, memory (16Gi-1Gi)/16Gi = 93 -> 84.
        assert_eq!(d.node("b").unwrap().scores[i].raw, 84);
    }

    #[test]
    fn a_malformed_quantity_is_an_error_not_a_panic() {
        let mut s = sched(&[node("a").build()]);
        let d = cycle(&mut s, pod("p").cpu("lots").build());
        assert!(matches!(d.outcome, crate::scheduler::Outcome::Error { .. }));
    }
}
