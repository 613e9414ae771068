//! A managed node group: the workers' VMs as one pool with a size, kept
//! healthy by auto-repair and sized by a cluster autoscaler.
//!
//! On a managed Kubernetes service the node pool is the provider's object,
//! not Kubernetes': GKE's node auto-repair
//! (<https://cloud.google.com/kubernetes-engine/docs/how-to/node-auto-repair>)
//! recreates a node's VM when the node "reports a NotReady status on
//! consecutive checks over the given time threshold (approximately 10
//! minutes)", and the cluster autoscaler
//! (<https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md>)
//! adds nodes when pods are unschedulable for lack of room (it looks every
//! `--scan-interval`, 10 s) and removes a node that has been unneeded for
//! `--scale-down-unneeded-time` (10 min), not sooner than
//! `--scale-down-delay-after-add` (10 min) after a scale-up, and never below
//! the group's minimum.
//!
//! Here [`NodeGroup::scan`] is both loops as one pure decision over what
//! the provider observes of the cluster (node conditions, pods that the
//! scheduler marked unschedulable, pods bound to each node); the world runs
//! it every scan interval and carries out the actions on the cloud. Like
//! GKE's, these loops run outside the cluster, with the provider's own view
//! of the API, not as pods.
//!
//! Left out: the autoscaler's scheduling simulation on existing nodes (a
//! pod the scheduler marked unschedulable is taken at its word), expanders
//! other than "balance the zones", scale-down of nodes that are not empty
//! (draining), and node pools other than the one.

use crate::world::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// GKE's auto-repair threshold.
pub const DEFAULT_REPAIR_AFTER: SimDuration = SimDuration::from_secs(600);
/// cluster-autoscaler `--scan-interval`.
pub const SCAN_INTERVAL: SimDuration = SimDuration::from_secs(10);
/// cluster-autoscaler `--scale-down-unneeded-time`.
pub const SCALE_DOWN_UNNEEDED: SimDuration = SimDuration::from_secs(600);
/// cluster-autoscaler `--scale-down-delay-after-add`.
pub const SCALE_DOWN_DELAY_AFTER_ADD: SimDuration = SimDuration::from_secs(600);
/// cluster-autoscaler `--max-node-provision-time`: an upcoming node that has
/// not turned Ready by then no longer holds scale-ups back.
pub const MAX_NODE_PROVISION_TIME: SimDuration = SimDuration::from_secs(900);
/// The kubelet's hard eviction threshold, withheld from a node's allocatable
/// memory (the template node's room).
const EVICTION_HARD_MEMORY: u64 = 100 * 1024 * 1024;

/// What the provider sees of one member node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// The Node's Ready condition status (`None`: no Node object).
    pub ready: Option<String>,
    /// Whether the VM is still booting.
    pub provisioning: bool,
    /// When the VM was created.
    pub created: SimTime,
    /// Pods bound to the node other than DaemonSet and mirror pods.
    pub workload_pods: usize,
}

/// A pod the scheduler marked unschedulable, with its requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingPod {
    pub key: String,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

/// What the node group decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Auto-repair: recreate this node's VM.
    Repair { node: String, reason: String },
    /// Add this many VMs.
    ScaleUp { count: usize, reason: String },
    /// Delete this (empty) node's VM.
    ScaleDown { node: String, reason: String },
}

/// The workers' node pool.
#[derive(Clone, Debug)]
pub struct NodeGroup {
    pub name: String,
    /// The machine type new VMs get.
    pub instance_type: String,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub min: usize,
    pub max: usize,
    pub autorepair: bool,
    pub repair_after: SimDuration,
    pub autoscaler: bool,
    not_ready_since: BTreeMap<String, SimTime>,
    unneeded_since: BTreeMap<String, SimTime>,
    last_scale_up: Option<SimTime>,
    pub next_scan: SimTime,
}

impl Default for NodeGroup {
    fn default() -> Self {
        NodeGroup {
            name: "default-pool".into(),
            instance_type: "e2-standard-4".into(),
            cpu_millis: 4000,
            memory_bytes: 16 * 1024 * 1024 * 1024,
            min: 0,
            max: 0,
            autorepair: false,
            repair_after: DEFAULT_REPAIR_AFTER,
            autoscaler: false,
            not_ready_since: BTreeMap::new(),
            unneeded_since: BTreeMap::new(),
            last_scale_up: None,
            next_scan: SimTime::ZERO,
        }
    }
}

impl NodeGroup {
    /// Whether either loop runs.
    pub fn active(&self) -> bool {
        self.autorepair || self.autoscaler
    }

    /// Whether a pod fits on an empty node of the template.
    fn fits(&self, p: &PendingPod) -> bool {
        p.cpu_millis <= self.cpu_millis
            && p.memory_bytes <= self.memory_bytes.saturating_sub(EVICTION_HARD_MEMORY)
    }

    /// How many template nodes the pods need (first fit, largest first).
    fn nodes_needed(&self, pods: &[&PendingPod]) -> usize {
        let room = (
            self.cpu_millis,
            self.memory_bytes.saturating_sub(EVICTION_HARD_MEMORY),
        );
        let mut sorted: Vec<&&PendingPod> = pods.iter().collect();
        sorted.sort_by_key(|p| std::cmp::Reverse((p.cpu_millis, p.memory_bytes)));
        let mut bins: Vec<(u64, u64, u32)> = Vec::new();
        for p in sorted {
            match bins
                .iter_mut()
                .find(|b| b.0 >= p.cpu_millis && b.1 >= p.memory_bytes && b.2 > 0)
            {
                Some(b) => {
                    b.0 -= p.cpu_millis;
                    b.1 -= p.memory_bytes;
                    b.2 -= 1;
                }
                None => bins.push((room.0 - p.cpu_millis, room.1 - p.memory_bytes, 109)),
            }
        }
        bins.len()
    }

    /// One scan: auto-repair's checks and the autoscaler's loop
    /// (`StaticAutoscaler.RunOnce`).
    pub fn scan(
        &mut self,
        now: SimTime,
        members: &[Member],
        pending: &[PendingPod],
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        self.not_ready_since
            .retain(|n, _| members.iter().any(|m| &m.name == n));
        self.unneeded_since
            .retain(|n, _| members.iter().any(|m| &m.name == n));
        // Auto-repair.
        for m in members {
            if m.provisioning || m.ready.as_deref() == Some("True") {
                self.not_ready_since.remove(&m.name);
                continue;
            }
            let since = *self.not_ready_since.entry(m.name.clone()).or_insert(now);
            if self.autorepair && now.saturating_since(since) >= self.repair_after {
                self.not_ready_since.remove(&m.name);
                actions.push(Action::Repair {
                    node: m.name.clone(),
                    reason: format!(
                        "node {} NotReady for {}",
                        m.name,
                        now.saturating_since(since)
                    ),
                });
            }
        }
        if !self.autoscaler {
            return actions;
        }
        // Scale up: pods that would fit on a new node.
        let fitting: Vec<&PendingPod> = pending.iter().filter(|p| self.fits(p)).collect();
        let upcoming = members.iter().any(|m| {
            (m.provisioning || m.ready.is_none())
                && now.saturating_since(m.created) < MAX_NODE_PROVISION_TIME
        });
        if !fitting.is_empty() && !upcoming {
            let room = self.max.saturating_sub(members.len());
            let count = self.nodes_needed(&fitting).min(room);
            if count > 0 {
                self.last_scale_up = Some(now);
                self.unneeded_since.clear();
                actions.push(Action::ScaleUp {
                    count,
                    reason: format!(
                        "{} unschedulable pod(s) fit a new {} node",
                        fitting.len(),
                        self.instance_type
                    ),
                });
                return actions;
            }
        }
        // Scale down: empty nodes, unneeded for long enough.
        if self
            .last_scale_up
            .is_some_and(|t| now.saturating_since(t) < SCALE_DOWN_DELAY_AFTER_ADD)
        {
            return actions;
        }
        let mut size = members.len();
        for m in members {
            let empty = m.ready.as_deref() == Some("True") && m.workload_pods == 0;
            if !empty {
                self.unneeded_since.remove(&m.name);
                continue;
            }
            let since = *self.unneeded_since.entry(m.name.clone()).or_insert(now);
            if now.saturating_since(since) >= SCALE_DOWN_UNNEEDED && size > self.min {
                size -= 1;
                self.unneeded_since.remove(&m.name);
                actions.push(Action::ScaleDown {
                    node: m.name.clone(),
                    reason: format!(
                        "node {} unneeded for {}",
                        m.name,
                        now.saturating_since(since)
                    ),
                });
            }
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, ready: &str, pods: usize) -> Member {
        Member {
            name: name.into(),
            ready: Some(ready.into()),
            provisioning: false,
            created: SimTime::ZERO,
            workload_pods: pods,
        }
    }

    fn pod(cpu: u64) -> PendingPod {
        PendingPod {
            key: format!("default/p{cpu}"),
            cpu_millis: cpu,
            memory_bytes: 128 * 1024 * 1024,
        }
    }

    fn group() -> NodeGroup {
        NodeGroup {
            min: 1,
            max: 5,
            autorepair: true,
            autoscaler: true,
            ..NodeGroup::default()
        }
    }

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    #[test]
    fn a_node_not_ready_for_ten_minutes_is_repaired_and_not_sooner() {
        let mut g = group();
        let members = [member("worker-1", "Unknown", 1)];
        assert!(g.scan(at(0), &members, &[]).is_empty());
        assert!(g.scan(at(590), &members, &[]).is_empty());
        let a = g.scan(at(600), &members, &[]);
        assert!(matches!(&a[..], [Action::Repair { node, .. }] if node == "worker-1"));
        // The clock starts over after a repair.
        assert!(g.scan(at(610), &members, &[]).is_empty());
    }

    #[test]
    fn a_node_that_recovers_resets_the_repair_clock() {
        let mut g = group();
        g.scan(at(0), &[member("worker-1", "False", 1)], &[]);
        g.scan(at(300), &[member("worker-1", "True", 1)], &[]);
        assert!(g
            .scan(at(700), &[member("worker-1", "False", 1)], &[])
            .is_empty());
    }

    #[test]
    fn auto_repair_off_repairs_nothing() {
        let mut g = NodeGroup {
            autorepair: false,
            ..group()
        };
        let members = [member("worker-1", "Unknown", 1)];
        g.scan(at(0), &members, &[]);
        assert!(g.scan(at(3600), &members, &[]).is_empty());
    }

    #[test]
    fn unschedulable_pods_add_as_many_nodes_as_they_need_up_to_the_maximum() {
        let mut g = group();
        let members = [member("worker-1", "True", 3)];
        // 5 pods of 3 cores: one per 4-core node.
        let pods: Vec<PendingPod> = (0..5).map(|_| pod(3000)).collect();
        let a = g.scan(at(0), &members, &pods);
        assert!(
            matches!(&a[..], [Action::ScaleUp { count: 4, .. }]),
            "{a:?}"
        );
    }

    #[test]
    fn small_pods_share_a_new_node() {
        let mut g = group();
        let pods: Vec<PendingPod> = (0..6).map(|_| pod(500)).collect();
        let a = g.scan(at(0), &[member("worker-1", "True", 3)], &pods);
        assert!(
            matches!(&a[..], [Action::ScaleUp { count: 1, .. }]),
            "{a:?}"
        );
    }

    #[test]
    fn a_pod_too_big_for_the_template_adds_nothing() {
        let mut g = group();
        assert!(g
            .scan(at(0), &[member("worker-1", "True", 3)], &[pod(16000)])
            .is_empty());
    }

    #[test]
    fn no_scale_up_while_a_new_node_is_still_coming() {
        let mut g = group();
        let mut booting = member("default-pool-x", "True", 0);
        booting.provisioning = true;
        assert!(g
            .scan(
                at(0),
                &[member("worker-1", "True", 3), booting],
                &[pod(500)]
            )
            .is_empty());
    }

    #[test]
    fn an_empty_node_is_removed_after_ten_unneeded_minutes_but_not_below_the_minimum() {
        let mut g = group();
        let members = [member("worker-1", "True", 0), member("worker-2", "True", 0)];
        assert!(g.scan(at(0), &members, &[]).is_empty());
        let a = g.scan(at(600), &members, &[]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert!(matches!(&a[0], Action::ScaleDown { node, .. } if node == "worker-1"));
    }

    #[test]
    fn no_scale_down_within_ten_minutes_of_a_scale_up() {
        let mut g = group();
        g.scan(at(0), &[member("worker-1", "True", 3)], &[pod(500)]);
        let members = [member("worker-1", "True", 3), member("new", "True", 0)];
        g.scan(at(60), &members, &[]);
        assert!(g.scan(at(599), &members, &[]).is_empty());
        assert!(g
            .scan(at(660), &members, &[])
            .iter()
            .all(|a| !matches!(a, Action::ScaleUp { .. })));
        let a = g.scan(at(1260), &members, &[]);
        assert!(
            matches!(&a[..], [Action::ScaleDown { node, .. }] if node == "new"),
            "{a:?}"
        );
    }
}
