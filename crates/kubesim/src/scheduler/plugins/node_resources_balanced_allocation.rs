//! NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory
//! would be used in equal fractions.
//!
//! Port of `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`
//! (`balancedResourceScorer`: `(1 - std) * MaxNodeScore`, with the
//! two-resource shortcut `std = |f1 - f2| / 2`, on requested resources).

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{CycleState, Plugin, ScorePlugin, MAX_NODE_SCORE};

pub struct NodeResourcesBalancedAllocation;

impl Plugin for NodeResourcesBalancedAllocation {
    fn name(&self) -> &'static str {
        names::NODE_RESOURCES_BALANCED_ALLOCATION
    }
}

/// `balancedResourceScorer` over (requested, allocatable) pairs.
pub fn balanced_score(pairs: &[(i64, i64)]) -> i64 {
    let mut fractions = [0f64; 2];
    let mut n = 0;
    for &(req, alloc) in pairs.iter().take(2) {
        if alloc == 0 {
            continue;
        }
        fractions[n] = (req as f64 / alloc as f64).min(1.0);
        n += 1;
    }
    let std = if n == 2 {
        ((fractions[0] - fractions[1]) / 2.0).abs()
    } else {
        0.0
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl ScorePlugin for NodeResourcesBalancedAllocation {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        let a = &node.st.allocatable;
        let r = &node.requested;
        balanced_score(&[
            (
                r.milli_cpu.saturating_add(cs.pod.requests.milli_cpu),
                a.milli_cpu,
            ),
            (r.memory.saturating_add(cs.pod.requests.memory), a.memory),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testutil::*;

    #[test]
    fn balanced_allocation_is_100_minus_half_the_fraction_gap() {
        assert_eq!(balanced_score(&[(2000, 4000), (4, 16)]), 87);
        assert_eq!(balanced_score(&[(1, 2), (1, 2)]), 100);
        assert_eq!(balanced_score(&[(0, 0), (1, 2)]), 100);
    }

    #[test]
    fn balanced_allocation_prefers_the_node_it_evens_out() {
        let mut s = sched(&[node("a").build(), node("b").build()]);
        // a is memory-heavy; a cpu-heavy pod balances it.
        cycle_and_bind_on(&mut s, pod("m").cpu("100m").memory("8Gi").build(), "a");
        let d = cycle(&mut s, pod("c").cpu("2").memory("100Mi").build());
        let i = score_index(&d, "NodeResourcesBalancedAllocation");
        assert!(d.node("a").unwrap().scores[i].raw > d.node("b").unwrap().scores[i].raw);
    }
}
