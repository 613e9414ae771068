//! DefaultPreemption: when no node fits, find a node where evicting
//! lower-priority pods makes room, and nominate it.
//!
//! Port of `pkg/scheduler/framework/preemption/preemption.go` (`Preempt`,
//! `findCandidates`, `nodesWherePreemptionMightHelp`, `dryRunPreemption`
//! with `GetOffsetAndNumCandidates`: at least 10 % of the nodes and at
//! least 100, from a random offset; `pickOneNodeForPreemption`) and
//! `pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`
//! (`PostFilter` prefixing "preemption: ", `PodEligibleToPreemptOthers`,
//! `SelectVictimsOnNode`: remove every lower-priority pod, check the pod
//! fits, then reprieve victims from the most important down).
//! Left out: PodDisruptionBudgets (no violations are counted), and the
//! PreFilter extensions (`AddPod`/`RemovePod`): a victim's removal is seen
//! by the per-node filters (resources, ...) but not by the inter-pod
//! affinity and topology spread counts computed in PreFilter.

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    fit_error_message, Code, CycleState, Framework, NodeStatuses, Plugin, PostFilterPlugin,
    PostFilterResult, Status,
};
use crate::scheduler::podinfo::PodInfo;
use crate::world::SimRng;

/// `MinCandidateNodesPercentage` and `MinCandidateNodesAbsolute` defaults.
const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

pub struct DefaultPreemption;

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        names::DEFAULT_PREEMPTION
    }
}

struct Candidate {
    slot: usize,
    victims: Vec<std::rc::Rc<PodInfo>>,
}

/// `MoreImportantPod`: higher priority, then started earlier.
fn more_important(a: &PodInfo, b: &PodInfo) -> std::cmp::Ordering {
    b.priority.cmp(&a.priority).then(
        a.start_millis
            .unwrap_or(i64::MAX)
            .cmp(&b.start_millis.unwrap_or(i64::MAX)),
    )
}

fn select_victims_on_node(
    fw: &Framework,
    cs: &CycleState,
    active: &[bool],
    node: &NodeInfo,
) -> Result<Vec<std::rc::Rc<PodInfo>>, Status> {
    let mut n = node.clone();
    let mut potential: Vec<_> = node
        .pods
        .iter()
        .filter(|p| p.priority < cs.pod.priority)
        .cloned()
        .collect();
    for p in &potential {
        n.remove_pod(&p.key);
    }
    if potential.is_empty() {
        return Err(Status::unresolvable(
            "No preemption victims found for incoming pod",
        ));
    }
    if let Some((_, s)) = fw.run_filters(cs, active, &n) {
        return Err(s);
    }
    potential.sort_by(|a, b| more_important(a, b));
    let mut victims = Vec::new();
    for p in potential {
        n.add_pod(p.clone());
        if fw.run_filters(cs, active, &n).is_some() {
            n.remove_pod(&p.key);
            victims.push(p);
        }
    }
    Ok(victims)
}

/// `pickOneNodeForPreemption` without PDBs: lowest highest-priority
/// victim, then lowest priority sum, then fewest victims, then the latest
/// start among the highest-priority victims, then the first.
fn pick(cands: &[Candidate]) -> Option<&Candidate> {
    let key = |c: &Candidate| {
        let highest = c.victims.first().map_or(i32::MIN, |v| v.priority);
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest_of_highest = c
            .victims
            .iter()
            .filter(|v| v.priority == highest)
            .map(|v| v.start_millis.unwrap_or(i64::MAX))
            .min()
            .unwrap_or(i64::MAX);
        (
            highest,
            sum,
            c.victims.len(),
            std::cmp::Reverse(earliest_of_highest),
        )
    };
    cands.iter().min_by_key(|c| key(c))
}

impl PostFilterPlugin for DefaultPreemption {
    fn post_filter(
        &self,
        fw: &Framework,
        cs: &CycleState,
        cache: &Cache,
        statuses: &NodeStatuses,
        rng: &mut SimRng,
    ) -> PostFilterResult {
        let fail = |msg: String| PostFilterResult {
            message: format!("preemption: {msg}"),
            ..Default::default()
        };
        if cs.pod.preemption_policy() == "Never" {
            return fail("not eligible due to preemptionPolicy=Never.".to_string());
        }
        let all = cache.num_nodes();
        let potential: Vec<&NodeInfo> = cache
            .nodes()
            .filter(|n| {
                statuses
                    .get(&n.slot)
                    .is_some_and(|s| s.code == Code::Unschedulable)
            })
            .collect();
        let active = fw.active_filters(cs);
        let mut candidates = Vec::new();
        let mut dry_statuses: NodeStatuses = NodeStatuses::new();
        if !potential.is_empty() {
            let num_candidates = (all * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
                .max(MIN_CANDIDATE_NODES_ABSOLUTE)
                .min(all);
            let offset = rng.between(0, potential.len() as u64 - 1) as usize;
            for i in 0..potential.len() {
                let n = potential[(offset + i) % potential.len()];
                match select_victims_on_node(fw, cs, &active, n) {
                    Ok(victims) => candidates.push(Candidate {
                        slot: n.slot,
                        victims,
                    }),
                    Err(s) => {
                        dry_statuses.insert(n.slot, s);
                    }
                }
                if candidates.len() >= num_candidates {
                    break;
                }
            }
        }
        match pick(&candidates) {
            Some(c) => PostFilterResult {
                nominated_node: cache.slot(c.slot).map(|n| n.name().to_string()),
                victims: c.victims.iter().map(|v| v.key.to_string()).collect(),
                message: String::new(),
            },
            None => {
                let absent = Status::unresolvable("Preemption is not helpful for scheduling");
                let msg = fit_error_message(
                    all,
                    "",
                    dry_statuses.values(),
                    Some((&absent, all - dry_statuses.len())),
                    "",
                );
                fail(msg)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;
    use crate::scheduler::Outcome;

    #[test]
    fn a_high_priority_pod_preempts_the_fewest_lowest_priority_pods() {
        let mut s = sched(&[node("a").cpu("2").build(), node("b").cpu("2").build()]);
        // a: two low pods of 1 cpu; b: one mid pod of 2 cpu.
        cycle_and_bind_on(&mut s, pod("low1").cpu("1").priority(1).build(), "a");
        cycle_and_bind_on(&mut s, pod("low2").cpu("1").priority(1).build(), "a");
        cycle_and_bind_on(&mut s, pod("mid").cpu("2").priority(5).build(), "b");
        let d = cycle(&mut s, pod("vip").cpu("1").priority(100).build());
        match &d.outcome {
            Outcome::Unschedulable {
                message,
                nominated_node,
                victims,
            } => {
                // Lowest highest-priority victim wins: node a, and only one
                // of its pods needs to go.
                assert_eq!(nominated_node.as_deref(), Some("a"));
                assert_eq!(victims.len(), 1);
                assert_eq!(message, "0/2 nodes are available: 2 Insufficient cpu.");
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn preemption_that_cannot_help_explains_why() {
        let mut s = sched(&[node("a").cpu("2").build(), node("b").cpu("2").build()]);
        cycle_and_bind_on(&mut s, pod("hi").cpu("2").priority(100).build(), "a");
        cycle_and_bind_on(&mut s, pod("hi2").cpu("2").priority(100).build(), "b");
        let d = cycle(&mut s, pod("low").cpu("1").priority(1).build());
        assert_eq!(
            unschedulable_message(&d),
            "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.."
        );
    }

    #[test]
    fn a_pod_with_preemption_policy_never_does_not_preempt() {
        let mut s = sched(&[node("a").cpu("1").build()]);
        cycle_and_bind_on(&mut s, pod("low").cpu("1").priority(1).build(), "a");
        let d = cycle(
            &mut s,
            pod("polite")
                .cpu("1")
                .priority(100)
                .preemption_never()
                .build(),
        );
        assert_eq!(
            unschedulable_message(&d),
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.."
        );
    }

    #[test]
    fn priority_comes_from_the_priority_class_when_unset() {
        let mut s = sched(&[node("a").cpu("1").build()]);
        s.on_priority_class_add(priority_class("critical", 1000));
        cycle_and_bind_on(&mut s, pod("low").cpu("1").build(), "a");
        let d = cycle(
            &mut s,
            pod("vip").cpu("1").priority_class("critical").build(),
        );
        assert!(
            matches!(&d.outcome, Outcome::Unschedulable { nominated_node: Some(n), .. } if n == "a")
        );
    }
}
