//! InterPodAffinity: required pod affinity / anti-affinity (the pod's own
//! and existing pods' anti-affinity) filter; preferred terms score.
//!
//! Port of `pkg/scheduler/framework/plugins/interpodaffinity/`:
//! `filtering.go` (`PreFilter`, `getExistingAntiAffinityCounts`,
//! `getIncomingAffinityAntiAffinityCounts`, `satisfyPodAffinity` with the
//! "first pod of a series matching itself" exception,
//! `satisfyPodAntiAffinity`, `satisfyExistingPodsAntiAffinity`, the three
//! `ErrReason...` strings) and `scoring.go` (`PreScore`,
//! `processExistingPod` with `hardPodAffinityWeight` 1, `Score`,
//! `NormalizeScore`). Namespace selectors other than `{}` are not
//! evaluated (no Namespace labels in this library).

use std::collections::BTreeMap;

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreScorePlugin, ScorePlugin, Status,
    MAX_NODE_SCORE,
};
use crate::scheduler::podinfo::{AffinityTerm, PodInfo};

/// `ErrReasonExistingAntiAffinityRulesNotMatch`.
pub const ERR_EXISTING_ANTI: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
/// `ErrReasonAffinityRulesNotMatch`.
pub const ERR_AFFINITY: &str = "node(s) didn't match pod affinity rules";
/// `ErrReasonAntiAffinityRulesNotMatch`.
pub const ERR_ANTI: &str = "node(s) didn't match pod anti-affinity rules";

/// `hardPodAffinityWeight` default.
const HARD_POD_AFFINITY_WEIGHT: i64 = 1;

type TopologyCounts = BTreeMap<(String, String), i64>;

#[derive(Clone, Debug, Default)]
pub struct FilterState {
    existing_anti: TopologyCounts,
    affinity: TopologyCounts,
    anti: TopologyCounts,
}

#[derive(Clone, Debug, Default)]
pub struct ScoreState {
    /// topology key -> value -> score.
    topology_score: BTreeMap<String, BTreeMap<String, i64>>,
}

pub struct InterPodAffinity;

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        names::INTER_POD_AFFINITY
    }
}

fn bump(m: &mut TopologyCounts, node: &NodeInfo, key: &str, by: i64) {
    if let Some(v) = node.labels().get(key) {
        *m.entry((key.to_string(), v.clone())).or_insert(0) += by;
    }
}

impl PreFilterPlugin for InterPodAffinity {
    fn pre_filter(&self, cs: &mut CycleState, cache: &Cache) -> Status {
        let pod = &cs.pod;
        let own = !pod.required_affinity().is_empty() || !pod.required_anti_affinity().is_empty();
        if !own && cache.nodes_with_required_anti_affinity.is_empty() {
            return Status::skip();
        }
        let mut st = FilterState::default();
        for &slot in &cache.nodes_with_required_anti_affinity {
            let Some(n) = cache.slot(slot).filter(|n| n.live) else {
                continue;
            };
            for ep in &n.pods {
                for t in ep.required_anti_affinity() {
                    if t.matches(pod) {
                        bump(&mut st.existing_anti, n, &t.topology_key, 1);
                    }
                }
            }
        }
        if own {
            for n in cache.nodes() {
                for ep in &n.pods {
                    for t in pod.required_affinity() {
                        if t.matches(ep) {
                            bump(&mut st.affinity, n, &t.topology_key, 1);
                        }
                    }
                    for t in pod.required_anti_affinity() {
                        if t.matches(ep) {
                            bump(&mut st.anti, n, &t.topology_key, 1);
                        }
                    }
                }
            }
        }
        cs.inter_pod_filter = Some(st);
        Status::success()
    }
}

fn pod_matches_all_terms(terms: &[AffinityTerm], pod: &PodInfo) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod))
}

impl FilterPlugin for InterPodAffinity {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        let Some(st) = &cs.inter_pod_filter else {
            return Status::success();
        };
        let labels = node.labels();
        // satisfyPodAffinity
        let mut pods_exist = true;
        for t in cs.pod.required_affinity() {
            let Some(v) = labels.get(&t.topology_key) else {
                return Status::unresolvable(ERR_AFFINITY);
            };
            if st
                .affinity
                .get(&(t.topology_key.clone(), v.clone()))
                .copied()
                .unwrap_or(0)
                <= 0
            {
                pods_exist = false;
            }
        }
        let first_of_series =
            st.affinity.is_empty() && pod_matches_all_terms(cs.pod.required_affinity(), &cs.pod);
        if !(pods_exist || first_of_series) {
            return Status::unresolvable(ERR_AFFINITY);
        }
        // satisfyPodAntiAffinity
        for t in cs.pod.required_anti_affinity() {
            if let Some(v) = labels.get(&t.topology_key) {
                if st
                    .anti
                    .get(&(t.topology_key.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0)
                    > 0
                {
                    return Status::unschedulable(ERR_ANTI);
                }
            }
        }
        // satisfyExistingPodsAntiAffinity
        if !st.existing_anti.is_empty() {
            for (k, v) in labels {
                if st
                    .existing_anti
                    .get(&(k.clone(), v.clone()))
                    .copied()
                    .unwrap_or(0)
                    > 0
                {
                    return Status::unschedulable(ERR_EXISTING_ANTI);
                }
            }
        }
        Status::success()
    }
}

impl PreScorePlugin for InterPodAffinity {
    fn pre_score(&self, cs: &mut CycleState, cache: &Cache, _f: &[&NodeInfo]) -> Status {
        let pod = &cs.pod;
        let has_preferred =
            !pod.preferred_affinity().is_empty() || !pod.preferred_anti_affinity().is_empty();
        if !has_preferred && cache.nodes_with_affinity.is_empty() {
            return Status::skip();
        }
        let mut st = ScoreState::default();
        let mut add = |node: &NodeInfo, key: &str, w: i64| {
            if let Some(v) = node.labels().get(key) {
                *st.topology_score
                    .entry(key.to_string())
                    .or_default()
                    .entry(v.clone())
                    .or_insert(0) += w;
            }
        };
        let mut process = |n: &NodeInfo| {
            if n.labels().is_empty() {
                return;
            }
            for ep in &n.pods {
                for t in pod.preferred_affinity() {
                    if t.matches(ep) {
                        add(n, &t.topology_key, t.weight);
                    }
                }
                for t in pod.preferred_anti_affinity() {
                    if t.matches(ep) {
                        add(n, &t.topology_key, -t.weight);
                    }
                }
                for t in ep.required_affinity() {
                    if t.matches(pod) {
                        add(n, &t.topology_key, HARD_POD_AFFINITY_WEIGHT);
                    }
                }
                for t in ep.preferred_affinity() {
                    if t.matches(pod) {
                        add(n, &t.topology_key, t.weight);
                    }
                }
                for t in ep.preferred_anti_affinity() {
                    if t.matches(pod) {
                        add(n, &t.topology_key, -t.weight);
                    }
                }
            }
        };
        if has_preferred {
            cache.nodes().for_each(&mut process);
        } else {
            for &slot in &cache.nodes_with_affinity {
                if let Some(n) = cache.slot(slot).filter(|n| n.live) {
                    process(n);
                }
            }
        }
        if st.topology_score.is_empty() {
            return Status::skip();
        }
        cs.inter_pod_score = Some(st);
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        let Some(st) = &cs.inter_pod_score else {
            return 0;
        };
        st.topology_score
            .iter()
            .filter_map(|(k, vals)| node.labels().get(k).and_then(|v| vals.get(v)))
            .sum()
    }

    fn normalize(&self, _cs: &CycleState, _nodes: &[&NodeInfo], scores: &mut [i64]) {
        let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
            return;
        };
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff > 0 {
                (MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64)) as i64
            } else {
                0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    const HOST: &str = "kubernetes.io/hostname";

    #[test]
    fn required_anti_affinity_keeps_replicas_apart() {
        let mut s = sched(&[node("a").hostname().build(), node("b").hostname().build()]);
        cycle_and_bind_on(&mut s, pod("db1").label("app", "db").build(), "a");
        let d = cycle(
            &mut s,
            pod("db2")
                .label("app", "db")
                .anti_affinity(HOST, "app", "db")
                .build(),
        );
        assert_eq!(d.chosen(), Some("b"));
        assert_eq!(
            d.node("a").unwrap().failure.as_ref().unwrap().1.reasons[0],
            "node(s) didn't match pod anti-affinity rules"
        );
    }

    #[test]
    fn an_existing_pods_anti_affinity_repels_the_newcomer() {
        let mut s = sched(&[node("a").hostname().build(), node("b").hostname().build()]);
        cycle_and_bind_on(
            &mut s,
            pod("lonely").anti_affinity(HOST, "app", "web").build(),
            "a",
        );
        let d = cycle(&mut s, pod("w").label("app", "web").build());
        assert_eq!(d.chosen(), Some("b"));
        assert_eq!(
            d.node("a").unwrap().failure.as_ref().unwrap().1.reasons[0],
            "node(s) didn't satisfy existing pods anti-affinity rules"
        );
    }

    #[test]
    fn required_affinity_follows_the_matching_pod_and_the_first_of_a_series_may_go_anywhere() {
        let mut s = sched(&[node("a").hostname().build(), node("b").hostname().build()]);
        // The first pod matches its own term and no other pod does: allowed.
        let d = cycle_and_bind(
            &mut s,
            pod("c1")
                .label("app", "cache")
                .affinity(HOST, "app", "cache")
                .build(),
        );
        let first = d.chosen().unwrap().to_string();
        let d = cycle(
            &mut s,
            pod("c2")
                .label("app", "cache")
                .affinity(HOST, "app", "cache")
                .build(),
        );
        assert_eq!(d.chosen(), Some(first.as_str()));
        // A pod whose affinity matches nothing anywhere (and not itself).
        let d = cycle(&mut s, pod("x").affinity(HOST, "app", "nothing").build());
        assert!(unschedulable_message(&d)
            .starts_with("0/2 nodes are available: 2 node(s) didn't match pod affinity rules."));
    }

    #[test]
    fn preferred_affinity_scores_the_node_with_the_matching_pod() {
        let mut s = sched(&[node("a").hostname().build(), node("b").hostname().build()]);
        cycle_and_bind_on(&mut s, pod("web").label("app", "web").cpu("1").build(), "a");
        let d = cycle(
            &mut s,
            pod("side")
                .preferred_affinity(100, HOST, "app", "web")
                .build(),
        );
        let i = score_index(&d, "InterPodAffinity");
        assert_eq!(d.node("a").unwrap().scores[i].normalized, 100);
        assert_eq!(d.node("b").unwrap().scores[i].normalized, 0);
        assert_eq!(d.chosen(), Some("a"));
    }
}
