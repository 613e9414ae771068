//! The node lifecycle controller: notices nodes that stop reporting and
//! taints them.
//!
//! Ported from `pkg/controller/nodelifecycle/node_lifecycle_controller.go`.
//! Every `nodeMonitorPeriod` (5 s) `monitorNodeHealth` looks at every node:
//! `tryUpdateNodeHealth` keeps, per node, the controller's own time of the
//! last probe (a new Ready `lastHeartbeatTime`, or a renewal of the node's
//! Lease in `kube-node-lease`). When no probe came for
//! `nodeMonitorGracePeriod` (50 s; `nodeStartupGracePeriod` 60 s before the
//! kubelet ever posted status) the Ready, MemoryPressure, DiskPressure and
//! PIDPressure conditions become Unknown (`NodeStatusUnknown`, "Kubelet
//! stopped posting node status.") through the status subresource, and the
//! node's pods are marked not ready (`MarkPodsNotReady`).
//!
//! Taints follow the Ready condition. `doNoScheduleTaintingPass` runs on
//! every node change and keeps the `NoSchedule` condition taints
//! (`node.kubernetes.io/unreachable` for Unknown, `not-ready` for False,
//! the pressure taints, `unschedulable`) in line with the conditions.
//! `processTaintBaseEviction` queues nodes that are not Ready for the
//! `NoExecute` taint, which `doNoExecuteTaintingPass` applies through a
//! per-zone rate-limited queue (`--node-eviction-rate` 0.1/s, burst 1). The
//! zone's state (`ComputeZoneState`) slows it down: PartialDisruption
//! (at least 3 and `--unhealthy-zone-threshold` 55 % of the zone's nodes not
//! ready) uses `--secondary-node-eviction-rate` 0.01/s in zones of more than
//! `--large-cluster-size-threshold` 50 nodes and stops it in smaller ones;
//! when every zone is FullDisruption the controller assumes its own
//! network is at fault, removes the taints and stops. A node Ready again
//! loses its `NoExecute` taints (`markNodeAsReachable`). The pods on
//! `NoExecute`-tainted nodes are evicted by the taint eviction controller
//! ([`super::tainteviction`]).
//!
//! One deviation: upstream samples the Lease only at each 5 s monitor pass,
//! so a node turns Unknown 50-60 s after its last renewal; here the
//! controller also notes a renewal when its Lease informer delivers it, so
//! a node turns Unknown 50-55 s after its last renewal.
//!
//! Left out: the cloud provider's node shutdown checks, the
//! `node.kubernetes.io/exclude-disruption` label is honoured but other
//! exclusions are not, and the metrics.

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::pod::Pod;
use crate::api::time::to_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::{Node, NodeCondition, PodCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use std::collections::{BTreeMap, BTreeSet};

/// `--node-monitor-period`.
pub const NODE_MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);
/// `--node-monitor-grace-period` (50 s since v1.32).
pub const NODE_MONITOR_GRACE_PERIOD: SimDuration = SimDuration::from_secs(50);
/// `--node-startup-grace-period`.
pub const NODE_STARTUP_GRACE_PERIOD: SimDuration = SimDuration::from_secs(60);
/// `--node-eviction-rate` (nodes per second per zone).
pub const NODE_EVICTION_RATE: f64 = 0.1;
/// `--secondary-node-eviction-rate`.
pub const SECONDARY_NODE_EVICTION_RATE: f64 = 0.01;
/// `--unhealthy-zone-threshold`.
pub const UNHEALTHY_ZONE_THRESHOLD: f64 = 0.55;
/// `--large-cluster-size-threshold`.
pub const LARGE_CLUSTER_THRESHOLD: usize = 50;

/// `v1.TaintNodeNotReady`.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// `v1.TaintNodeUnreachable`.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// `v1.TaintNodeUnschedulable`.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// `labelNodeDisruptionExclusion`.
const EXCLUDE_DISRUPTION: &str = "node.kubernetes.io/exclude-disruption";
/// The namespace of node Leases (`v1.NamespaceNodeLease`).
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// `nodeConditionToTaintKeyStatusMap`: (condition, status) -> taint key.
const CONDITION_TAINTS: &[(&str, &str, &str)] = &[
    ("Ready", "False", TAINT_NOT_READY),
    ("Ready", "Unknown", TAINT_UNREACHABLE),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

/// A zone's state (`ZoneState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneState {
    Initial,
    Normal,
    PartialDisruption,
    FullDisruption,
}

/// What the controller knows of one node (`nodeHealthData`).
#[derive(Clone, Debug)]
struct Health {
    ready: Option<NodeCondition>,
    probe: SimTime,
    ready_transition: SimTime,
    lease: Option<MicroTime>,
}

/// A node waiting for its `NoExecute` taint.
#[derive(Clone, Debug)]
struct Queued {
    node: String,
    /// Not retried before (a write in flight).
    retry_at: SimTime,
}

/// A zone's `RateLimitedTimedQueue` with a token bucket of burst 1.
#[derive(Clone, Debug)]
struct ZoneTainter {
    queue: Vec<Queued>,
    /// Nodes queued or already handled until they are reachable again
    /// (the `UniqueQueue`'s set).
    set: BTreeSet<String>,
    qps: f64,
    next_token: SimTime,
}

impl ZoneTainter {
    fn new() -> Self {
        ZoneTainter {
            queue: Vec::new(),
            set: BTreeSet::new(),
            qps: NODE_EVICTION_RATE,
            next_token: SimTime::ZERO,
        }
    }

    fn add(&mut self, node: &str, now: SimTime) -> bool {
        if !self.set.insert(node.to_string()) {
            return false;
        }
        self.queue.push(Queued {
            node: node.to_string(),
            retry_at: now,
        });
        true
    }

    fn remove(&mut self, node: &str) {
        self.set.remove(node);
        self.queue.retain(|q| q.node != node);
    }

    /// `SwapLimiter`.
    fn swap_limiter(&mut self, qps: f64) {
        self.qps = qps;
    }

    fn try_accept(&mut self, now: SimTime) -> bool {
        if self.qps <= 0.0 || now < self.next_token {
            return false;
        }
        let interval = (1000.0 / self.qps).round() as u64;
        self.next_token = now + SimDuration::from_millis(interval);
        true
    }
}

/// The node lifecycle controller.
#[derive(Clone, Default)]
pub struct NodeLifecycleController {
    health: BTreeMap<String, Health>,
    known: BTreeSet<String>,
    zone_states: BTreeMap<String, ZoneState>,
    tainters: BTreeMap<String, ZoneTainter>,
    last_monitor: Option<SimTime>,
}

fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node_condition(node, "Ready")
}

fn node_condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
}

/// `nodeTopologyKey` / `utilnode.GetZoneKey`.
pub fn zone_key(node: &Node) -> String {
    // Borrowed: this runs for every node on every 5 s monitor pass.
    let labels = node.metadata.labels.as_ref();
    let get = |a: &str, b: &str| {
        labels
            .and_then(|l| l.get(a).or_else(|| l.get(b)))
            .map_or("", String::as_str)
    };
    let region = get(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    let zone = get(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    if region.is_empty() && zone.is_empty() {
        String::new()
    } else {
        format!("{region}:\x00:{zone}")
    }
}

fn taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
}

fn has_taint(node: &Node, key: &str, effect: &str) -> bool {
    taints(node)
        .iter()
        .any(|t| t.key == key && t.effect == effect)
}

fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        ..Default::default()
    }
}

/// `ComputeZoneState`.
pub fn compute_zone_state(ready: &[bool]) -> (usize, ZoneState) {
    let ready_nodes = ready.iter().filter(|r| **r).count();
    let not_ready = ready.len() - ready_nodes;
    let state = if ready_nodes == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2
        && not_ready as f64 / (not_ready + ready_nodes) as f64 >= UNHEALTHY_ZONE_THRESHOLD
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    };
    (not_ready, state)
}

/// `SwapNodeControllerTaint`: the node with `add` (stamped `timeAdded`)
/// replacing taints of the same key and effect, and without `remove`;
/// `None` when nothing changes.
fn swap_taints(node: &Node, add: &[Taint], remove: &[Taint], now: SimTime) -> Option<Node> {
    let current = taints(node);
    let same = |a: &Taint, b: &Taint| a.key == b.key && a.effect == b.effect;
    let needed = add.iter().any(|a| !current.iter().any(|c| same(a, c)))
        || remove.iter().any(|r| current.iter().any(|c| same(r, c)));
    if !needed {
        return None;
    }
    let mut next: Vec<Taint> = current
        .into_iter()
        .filter(|c| !remove.iter().any(|r| same(r, c)))
        .filter(|c| !add.iter().any(|a| same(a, c)))
        .collect();
    for a in add {
        let mut a = a.clone();
        a.time_added = Some(to_time(now));
        next.push(a);
    }
    let mut n = node.clone();
    n.spec.get_or_insert_with(Default::default).taints = (!next.is_empty()).then_some(next);
    Some(n)
}

fn write_node(ctx: &mut Reconcile<'_, '_>, node: Node) {
    let name = node.metadata.name.clone().unwrap_or_default();
    ctx.write(
        ApiRequest::new(Verb::Update, KindId::Node, Credential::None)
            .named(name)
            .with_body(Object::Node(Box::new(node))),
    );
}

impl NodeLifecycleController {
    /// `tryUpdateNodeHealth`: (observed Ready, current Ready) conditions.
    fn try_update_node_health(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        node: &Node,
        created: SimTime,
    ) -> (NodeCondition, NodeCondition) {
        let now = ctx.now;
        let name = node.metadata.name.clone().unwrap_or_default();
        let current = ready_condition(node).cloned();
        let (observed, grace) = match &current {
            Some(c) => (c.clone(), NODE_MONITOR_GRACE_PERIOD),
            None => (
                NodeCondition {
                    type_: "Ready".into(),
                    status: "Unknown".into(),
                    last_heartbeat_time: node.metadata.creation_timestamp.clone(),
                    last_transition_time: node.metadata.creation_timestamp.clone(),
                    ..Default::default()
                },
                NODE_STARTUP_GRACE_PERIOD,
            ),
        };
        let saved = self.health.get(&name).cloned();
        let fresh = |lease| Health {
            ready: current.clone(),
            probe: now,
            ready_transition: now,
            lease,
        };
        let mut health = match saved {
            None if current.is_none() => Health {
                ready: None,
                probe: created,
                ready_transition: created,
                lease: None,
            },
            None => fresh(None),
            Some(h) => match (&h.ready, &current) {
                (None, Some(_)) | (Some(_), None) => fresh(h.lease.clone()),
                (Some(s), Some(c)) if s.last_heartbeat_time != c.last_heartbeat_time => {
                    let transition = if s.last_transition_time != c.last_transition_time {
                        now
                    } else {
                        h.ready_transition
                    };
                    Health {
                        ready: current.clone(),
                        probe: now,
                        ready_transition: transition,
                        lease: h.lease,
                    }
                }
                _ => h,
            },
        };
        // Always update the probe time if the node's Lease was renewed.
        let observed_lease = ctx
            .caches
            .get(KindId::Lease, &format!("{NODE_LEASE_NAMESPACE}/{name}"))
            .and_then(|l| match &**l {
                Object::Lease(l) => l.spec.as_ref().and_then(|s| s.renew_time.clone()),
                _ => None,
            });
        if let Some(renew) = &observed_lease {
            if health.lease.as_ref().is_none_or(|s| s.0 < renew.0) {
                health.lease = Some(renew.clone());
                health.probe = now;
            }
        }
        let mut current_ready = current.unwrap_or_else(|| observed.clone());
        if now > health.probe + grace {
            let mut next = node.clone();
            let status = next.status.get_or_insert_with(Default::default);
            let conditions = status.conditions.get_or_insert_with(Vec::new);
            for type_ in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
                match conditions.iter_mut().find(|c| c.type_ == type_) {
                    None => conditions.push(NodeCondition {
                        type_: type_.into(),
                        status: "Unknown".into(),
                        reason: Some("NodeStatusNeverUpdated".into()),
                        message: Some("Kubelet never posted node status.".into()),
                        last_heartbeat_time: node.metadata.creation_timestamp.clone(),
                        last_transition_time: Some(to_time(now)),
                    }),
                    Some(c) if c.status != "Unknown" => {
                        c.status = "Unknown".into();
                        c.reason = Some("NodeStatusUnknown".into());
                        c.message = Some("Kubelet stopped posting node status.".into());
                        c.last_transition_time = Some(to_time(now));
                    }
                    Some(_) => {}
                }
            }
            if let Some(c) = ready_condition(&next).cloned() {
                if c != observed {
                    current_ready = c.clone();
                    health.ready = Some(c);
                    health.ready_transition = now;
                    ctx.write(
                        ApiRequest::new(Verb::Update, KindId::Node, Credential::None)
                            .named(name.clone())
                            .with_subresource("status")
                            .with_body(Object::Node(Box::new(next))),
                    );
                }
            }
        }
        self.health.insert(name, health);
        (observed, current_ready)
    }

    /// `markNodeAsReachable`: removes the `NoExecute` taints and forgets the
    /// node in its zone's queue.
    fn mark_node_as_reachable(&mut self, ctx: &mut Reconcile<'_, '_>, node: &Node) {
        let remove = [
            taint(TAINT_UNREACHABLE, "NoExecute"),
            taint(TAINT_NOT_READY, "NoExecute"),
        ];
        if let Some(n) = swap_taints(node, &[], &remove, ctx.now) {
            write_node(ctx, n);
        }
        if let Some(t) = self.tainters.get_mut(&zone_key(node)) {
            t.remove(node.metadata.name.as_deref().unwrap_or(""));
        }
    }

    /// `processTaintBaseEviction`.
    fn process_taint_base_eviction(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        node: &Node,
        observed: &NodeCondition,
    ) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let (add, opposite) = match observed.status.as_str() {
            "False" => (TAINT_NOT_READY, TAINT_UNREACHABLE),
            "Unknown" => (TAINT_UNREACHABLE, TAINT_NOT_READY),
            "True" => {
                self.mark_node_as_reachable(ctx, node);
                return;
            }
            _ => return,
        };
        if has_taint(node, opposite, "NoExecute") {
            // Swap straight away: the two are mutually exclusive.
            if let Some(n) = swap_taints(
                node,
                &[taint(add, "NoExecute")],
                &[taint(opposite, "NoExecute")],
                ctx.now,
            ) {
                write_node(ctx, n);
            }
        } else {
            let now = ctx.now;
            self.tainters
                .entry(zone_key(node))
                .or_insert_with(ZoneTainter::new)
                .add(&name, now);
        }
    }

    /// `doNoExecuteTaintingPass`; the time of the next try, if any.
    fn no_execute_pass(&mut self, ctx: &mut Reconcile<'_, '_>) -> Option<SimTime> {
        let now = ctx.now;
        let mut next: Option<SimTime> = None;
        let zones: Vec<String> = self.zone_states.keys().cloned().collect();
        for zone in zones {
            let Some(t) = self.tainters.get_mut(&zone) else {
                continue;
            };
            let mut i = 0;
            while i < t.queue.len() {
                let name = t.queue[i].node.clone();
                let node = match ctx.caches.get(KindId::Node, &name).map(|o| &**o) {
                    Some(Object::Node(n)) => n.clone(),
                    _ => {
                        t.queue.remove(i);
                        continue;
                    }
                };
                let (add, opposite) = match ready_condition(&node).map(|c| c.status.as_str()) {
                    None => {
                        i += 1;
                        continue;
                    }
                    Some("False") => (TAINT_NOT_READY, TAINT_UNREACHABLE),
                    Some("Unknown") => (TAINT_UNREACHABLE, TAINT_NOT_READY),
                    // Ready again: nothing to taint.
                    Some(_) => {
                        t.queue.remove(i);
                        continue;
                    }
                };
                if has_taint(&node, add, "NoExecute") && !has_taint(&node, opposite, "NoExecute") {
                    // Done: tainted (the node stays in the set until
                    // reachable, as upstream's `RemoveFromQueue`).
                    t.queue.remove(i);
                    continue;
                }
                if t.queue[i].retry_at > now {
                    next = Some(next.map_or(t.queue[i].retry_at, |n| n.min(t.queue[i].retry_at)));
                    i += 1;
                    continue;
                }
                if !t.try_accept(now) {
                    if t.qps > 0.0 {
                        next = Some(next.map_or(t.next_token, |n| n.min(t.next_token)));
                    }
                    break;
                }
                t.queue[i].retry_at = now + NODE_MONITOR_PERIOD;
                if let Some(n) = swap_taints(
                    &node,
                    &[taint(add, "NoExecute")],
                    &[taint(opposite, "NoExecute")],
                    now,
                ) {
                    write_node(ctx, n);
                }
                i += 1;
            }
        }
        next
    }

    /// `handleDisruption`.
    fn handle_disruption(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        zone_ready: &BTreeMap<String, Vec<bool>>,
        nodes: &[&Node],
    ) {
        let mut new_states = BTreeMap::new();
        let mut all_are_full = true;
        for (zone, ready) in zone_ready {
            let (_, state) = compute_zone_state(ready);
            if state != ZoneState::FullDisruption {
                all_are_full = false;
            }
            new_states.insert(zone.clone(), state);
            self.zone_states
                .entry(zone.clone())
                .or_insert(ZoneState::Initial);
            self.tainters
                .entry(zone.clone())
                .or_insert_with(ZoneTainter::new);
        }
        self.zone_states.retain(|z, _| zone_ready.contains_key(z));
        let all_were_full = self
            .zone_states
            .values()
            .all(|s| *s == ZoneState::FullDisruption);
        if all_are_full && all_were_full {
            return;
        }
        let size = |z: &str| zone_ready.get(z).map_or(0, Vec::len);
        if all_are_full {
            // Every zone lost every node: more likely the controller's own
            // network than the nodes. Stop tainting, and untaint.
            for n in nodes {
                self.mark_node_as_reachable(ctx, n);
            }
            for (zone, state) in self.zone_states.iter_mut() {
                if let Some(t) = self.tainters.get_mut(zone) {
                    t.swap_limiter(0.0);
                }
                *state = ZoneState::FullDisruption;
            }
            return;
        }
        if all_were_full {
            // Leaving full disruption: every node gets a fresh probe.
            let now = ctx.now;
            for h in self.health.values_mut() {
                h.probe = now;
                h.ready_transition = now;
            }
        }
        let zones: Vec<String> = self.zone_states.keys().cloned().collect();
        for zone in zones {
            let new = new_states.get(&zone).copied().unwrap_or(ZoneState::Normal);
            if !all_were_full && self.zone_states.get(&zone) == Some(&new) {
                continue;
            }
            // `setLimiterInZone`.
            let qps = match new {
                ZoneState::PartialDisruption => {
                    if size(&zone) > LARGE_CLUSTER_THRESHOLD {
                        SECONDARY_NODE_EVICTION_RATE
                    } else {
                        0.0
                    }
                }
                _ => NODE_EVICTION_RATE,
            };
            if let Some(t) = self.tainters.get_mut(&zone) {
                t.swap_limiter(qps);
            }
            self.zone_states.insert(zone, new);
        }
    }

    /// `monitorNodeHealth`.
    fn monitor_node_health(&mut self, ctx: &mut Reconcile<'_, '_>) {
        // The informer's shared objects, borrowed rather than copied: a
        // Node with its image list is large, and this runs every 5 s over
        // every node.
        let objects = ctx.caches.list(KindId::Node);
        let nodes: Vec<(&Node, SimTime)> = objects
            .iter()
            .filter_map(|o| match &**o {
                Object::Node(n) => Some((
                    &**n,
                    o.creation_timestamp()
                        .map_or(SimTime::ZERO, crate::api::time::to_sim_time),
                )),
                _ => None,
            })
            .collect();
        let names: BTreeSet<String> = nodes
            .iter()
            .filter_map(|(n, _)| n.metadata.name.clone())
            .collect();
        for (node, _) in &nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            if self.known.insert(name.clone()) {
                let o = Object::Node(Box::new((*node).clone()));
                ctx.event(
                    &o,
                    "Normal",
                    "RegisteredNode",
                    format!("Node {name} event: Registered Node {name} in Controller"),
                );
                self.tainters
                    .entry(zone_key(node))
                    .or_insert_with(ZoneTainter::new);
                self.mark_node_as_reachable(ctx, node);
            }
        }
        let gone: Vec<String> = self.known.difference(&names).cloned().collect();
        for name in gone {
            self.known.remove(&name);
            self.health.remove(&name);
            for t in self.tainters.values_mut() {
                t.remove(&name);
            }
        }
        let mut zone_ready: BTreeMap<String, Vec<bool>> = BTreeMap::new();
        for (node, created) in &nodes {
            let (observed, current) = self.try_update_node_health(ctx, node, *created);
            let excluded = node
                .metadata
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(EXCLUDE_DISRUPTION));
            if !excluded {
                zone_ready
                    .entry(zone_key(node))
                    .or_default()
                    .push(current.status == "True");
            }
            self.process_taint_base_eviction(ctx, node, &observed);
            if current.status != "True" && observed.status == "True" {
                let name = node.metadata.name.clone().unwrap_or_default();
                // `RecordNodeStatusChange`.
                ctx.event(
                    &Object::Node(Box::new((*node).clone())),
                    "Normal",
                    "NodeNotReady",
                    format!("Node {name} status is now: NodeNotReady"),
                );
                // The pods are listed only for a node that just went
                // unready (every pod, every 5 s, cost more than the rest).
                let pods = ctx.caches.list(KindId::Pod);
                mark_pods_not_ready(ctx, &pods, &name);
            }
        }
        let plain: Vec<&Node> = nodes.into_iter().map(|(n, _)| n).collect();
        self.handle_disruption(ctx, &zone_ready, &plain);
    }

    /// `doNoScheduleTaintingPass`.
    fn no_schedule_pass(&mut self, ctx: &mut Reconcile<'_, '_>, node: &Node) {
        let mut want: Vec<Taint> = Vec::new();
        for c in node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
        {
            if let Some((_, _, key)) = CONDITION_TAINTS
                .iter()
                .find(|(t, s, _)| *t == c.type_ && *s == c.status)
            {
                want.push(taint(key, "NoSchedule"));
            }
        }
        if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
            want.push(taint(TAINT_UNSCHEDULABLE, "NoSchedule"));
        }
        let have: Vec<Taint> = taints(node)
            .into_iter()
            .filter(|t| {
                t.effect == "NoSchedule"
                    && (t.key == TAINT_UNSCHEDULABLE
                        || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == t.key))
            })
            .collect();
        let same = |a: &Taint, b: &Taint| a.key == b.key && a.effect == b.effect;
        let add: Vec<Taint> = want
            .iter()
            .filter(|w| !have.iter().any(|h| same(w, h)))
            .cloned()
            .collect();
        let del: Vec<Taint> = have
            .iter()
            .filter(|h| !want.iter().any(|w| same(w, h)))
            .cloned()
            .collect();
        if add.is_empty() && del.is_empty() {
            return;
        }
        if let Some(n) = swap_taints(node, &add, &del, ctx.now) {
            write_node(ctx, n);
        }
    }

    /// The zones' states (for the UI and tests).
    pub fn zone_states(&self) -> Vec<(String, ZoneState)> {
        self.zone_states
            .iter()
            .map(|(z, s)| (z.clone(), *s))
            .collect()
    }
}

/// `MarkPodsNotReady`: the Ready condition of the node's pods turns False.
fn mark_pods_not_ready(ctx: &mut Reconcile<'_, '_>, pods: &[std::rc::Rc<Object>], node: &str) {
    for o in pods {
        let Object::Pod(pod) = &**o else {
            continue;
        };
        if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(node) {
            continue;
        }
        let mut next: Pod = *(pod.clone());
        let Some(status) = next.status.as_mut() else {
            continue;
        };
        let Some(c) = status
            .conditions
            .as_mut()
            .and_then(|cs| cs.iter_mut().find(|c| c.type_ == "Ready"))
        else {
            continue;
        };
        if c.status == "False" {
            continue;
        }
        // `UpdatePodCondition`.
        *c = PodCondition {
            status: "False".into(),
            last_transition_time: Some(to_time(ctx.now)),
            ..c.clone()
        };
        next.metadata.resource_version = None;
        ctx.write(
            ApiRequest::new(Verb::Update, KindId::Pod, Credential::None)
                .in_namespace(o.namespace().unwrap_or("default"))
                .named(o.name())
                .with_subresource("status")
                .with_body(Object::Pod(Box::new(next))),
        );
        ctx.event(o, "Warning", "NodeNotReady", "Node is not ready".into());
    }
}

impl Controller for NodeLifecycleController {
    fn name(&self) -> &'static str {
        "node-lifecycle-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Node, KindId::Lease, KindId::Pod]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            // `nodeUpdateQueue` (the NoSchedule pass).
            (KindId::Node, Notification::Add(o))
            | (KindId::Node, Notification::Update { new: o, .. }) => {
                vec![o.key()]
            }
            // Node Leases: a renewal is a probe.
            (KindId::Lease, Notification::Add(o))
            | (KindId::Lease, Notification::Update { new: o, .. })
                if o.namespace() == Some(NODE_LEASE_NAMESPACE) =>
            {
                vec![o.key()]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let now = ctx.now;
        if let Some(name) = key.strip_prefix("kube-node-lease/") {
            // A renewal seen by the controller's clock.
            let renew = ctx.caches.get(KindId::Lease, key).and_then(|l| match &**l {
                Object::Lease(l) => l.spec.as_ref().and_then(|s| s.renew_time.clone()),
                _ => None,
            });
            if let (Some(h), Some(renew)) = (self.health.get_mut(name), renew) {
                if h.lease.as_ref().is_none_or(|s| s.0 < renew.0) {
                    h.lease = Some(renew);
                    h.probe = now;
                }
            }
            return Requeue::Done;
        }
        {
            let due = self
                .last_monitor
                .is_none_or(|t| now >= t + NODE_MONITOR_PERIOD);
            if due {
                self.last_monitor = Some(now);
                self.monitor_node_health(ctx);
            }
            if let Some(obj) = ctx.caches.get(KindId::Node, key).cloned() {
                if let Object::Node(node) = &*obj {
                    self.no_schedule_pass(ctx, node);
                }
            }
        }
        // `doNoExecuteTaintingPass` runs every 100 ms upstream; here after
        // each pass and again when the zone's next token is due.
        match self.no_execute_pass(ctx) {
            Some(t) => Requeue::After(SimDuration::from_millis(
                t.as_millis().saturating_sub(now.as_millis()).max(1),
            )),
            None => Requeue::Done,
        }
    }

    fn period(&self) -> Option<(SimDuration, KindId)> {
        Some((NODE_MONITOR_PERIOD, KindId::Node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn node(name: &str, ready: &str, heartbeat: &str, taints: &str) -> Object {
        object(&format!(
            "apiVersion: v1
kind: Node
metadata:
  name: {name}
  creationTimestamp: \"2026-01-01T00:00:00Z\"
spec:
  taints: {taints}
status:
  conditions:
  - type: Ready
    status: \"{ready}\"
    reason: KubeletReady
    lastHeartbeatTime: \"{heartbeat}\"
    lastTransitionTime: \"2026-01-01T00:00:00Z\"
  - type: MemoryPressure
    status: \"False\"
    lastHeartbeatTime: \"{heartbeat}\"
    lastTransitionTime: \"2026-01-01T00:00:00Z\"
"
        ))
    }

    fn lease(name: &str, renew: &str) -> Object {
        object(&format!(
            "apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: {name}
  namespace: kube-node-lease
spec:
  holderIdentity: {name}
  leaseDurationSeconds: 40
  renewTime: \"{renew}\"
"
        ))
    }

    fn written_nodes(writes: &[ApiRequest]) -> Vec<(Option<String>, Node)> {
        writes
            .iter()
            .filter_map(|w| match w.body.as_deref() {
                Some(Object::Node(n)) => Some((w.subresource.clone(), (**n).clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn zone_states_follow_upstreams_thresholds() {
        assert_eq!(compute_zone_state(&[false]).1, ZoneState::FullDisruption);
        assert_eq!(
            compute_zone_state(&[true, false, false]).1,
            ZoneState::Normal
        );
        assert_eq!(
            compute_zone_state(&[true, false, false, false]).1,
            ZoneState::PartialDisruption
        );
        assert_eq!(
            compute_zone_state(&[true, true, true, false, false, false]).1,
            ZoneState::Normal,
            "50 % is under the 55 % threshold"
        );
    }

    #[test]
    fn a_node_silent_past_the_grace_period_turns_unknown() {
        let mut c = NodeLifecycleController::default();
        let objects = [
            node("worker-2", "True", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-2", "2026-01-01T00:00:00.000000Z"),
        ];
        let (writes, events, _) = reconcile(&mut c, SimTime(1_000), &objects, "worker-2");
        assert!(written_nodes(&writes).is_empty());
        assert_eq!(events[0].0, "RegisteredNode");
        let (writes, _, _) = reconcile(&mut c, SimTime(51_000), &objects, "worker-2");
        assert!(
            written_nodes(&writes).is_empty(),
            "50 s is not yet past the grace period"
        );
        let (writes, events, _) = reconcile(&mut c, SimTime(56_000), &objects, "worker-2");
        let nodes = written_nodes(&writes);
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].0.as_deref(), Some("status"));
        for t in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
            let c = node_condition(&nodes[0].1, t).cloned().unwrap_or_default();
            assert_eq!(c.status, "Unknown", "{t}");
        }
        let ready = ready_condition(&nodes[0].1).cloned().unwrap_or_default();
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(
            ready.message.as_deref(),
            Some("Kubelet stopped posting node status.")
        );
        assert!(events
            .iter()
            .any(|e| e.1 == "Node worker-2 status is now: NodeNotReady"));
    }

    #[test]
    fn the_pods_of_a_node_turning_unknown_are_marked_not_ready() {
        let mut c = NodeLifecycleController::default();
        let pod = object(
            "apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  nodeName: worker-2
  containers:
  - name: c
    image: nginx
status:
  phase: Running
  conditions:
  - type: Ready
    status: \"True\"
",
        );
        let objects = [
            node("worker-1", "True", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-1", "2026-01-01T00:00:00.000000Z"),
            node("worker-2", "True", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-2", "2026-01-01T00:00:00.000000Z"),
            pod,
        ];
        reconcile(&mut c, SimTime(1_000), &objects, "worker-2");
        let (writes, events, _) = reconcile(&mut c, SimTime(56_000), &objects, "worker-2");
        let ready: Vec<String> = writes
            .iter()
            .filter_map(|w| match w.body.as_deref() {
                Some(Object::Pod(p)) if w.subresource.as_deref() == Some("status") => p
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                    .map(|c| c.status.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(ready, vec!["False".to_string()]);
        assert!(events.contains(&("NodeNotReady".to_string(), "Node is not ready".to_string())));
    }

    #[test]
    fn a_renewed_lease_keeps_the_node_healthy() {
        let mut c = NodeLifecycleController::default();
        let n = node("worker-1", "True", "2026-01-01T00:00:00Z", "[]");
        reconcile(
            &mut c,
            SimTime(1_000),
            &[n.clone(), lease("worker-1", "2026-01-01T00:00:00.000000Z")],
            "worker-1",
        );
        let (writes, _, _) = reconcile(
            &mut c,
            SimTime(56_000),
            &[n, lease("worker-1", "2026-01-01T00:00:50.000000Z")],
            "worker-1",
        );
        assert!(written_nodes(&writes).is_empty());
    }

    #[test]
    fn when_every_node_is_unreachable_the_controller_blames_itself_and_taints_nothing() {
        let mut c = NodeLifecycleController::default();
        let objects = [
            node("worker-2", "Unknown", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-2", "2026-01-01T00:00:00.000000Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, SimTime(1_000), &objects, "worker-2");
        assert!(written_nodes(&writes).iter().all(|(_, n)| !has_taint(
            n,
            TAINT_UNREACHABLE,
            "NoExecute"
        )));
        assert_eq!(
            c.zone_states(),
            vec![(String::new(), ZoneState::FullDisruption)]
        );
    }

    #[test]
    fn an_unknown_node_gets_the_unreachable_taints() {
        let mut c = NodeLifecycleController::default();
        let objects = [
            node("worker-1", "True", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-1", "2026-01-01T00:00:00.000000Z"),
            node("worker-2", "Unknown", "2026-01-01T00:00:00Z", "[]"),
            lease("worker-2", "2026-01-01T00:00:00.000000Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, SimTime(1_000), &objects, "worker-2");
        let taints: Vec<(String, String, bool)> = written_nodes(&writes)
            .into_iter()
            .filter(|(sub, _)| sub.is_none())
            .flat_map(|(_, n)| super::taints(&n))
            .map(|t| (t.key, t.effect, t.time_added.is_some()))
            .collect();
        assert!(
            taints.contains(&(TAINT_UNREACHABLE.into(), "NoSchedule".into(), true)),
            "{taints:?}"
        );
        assert!(
            taints.contains(&(TAINT_UNREACHABLE.into(), "NoExecute".into(), true)),
            "{taints:?}"
        );
    }

    #[test]
    fn a_ready_node_loses_the_condition_taints() {
        let mut c = NodeLifecycleController::default();
        let objects = [
            node(
                "worker-2",
                "True",
                "2026-01-01T00:00:00Z",
                "[{key: node.kubernetes.io/unreachable, effect: NoSchedule}, {key: node.kubernetes.io/unreachable, effect: NoExecute}, {key: dedicated, value: db, effect: NoSchedule}]",
            ),
            lease("worker-2", "2026-01-01T00:00:00.000000Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, SimTime(1_000), &objects, "worker-2");
        let written = written_nodes(&writes);
        assert!(!written.is_empty());
        for (_, n) in written {
            assert!(
                !has_taint(&n, TAINT_UNREACHABLE, "NoExecute")
                    || !has_taint(&n, TAINT_UNREACHABLE, "NoSchedule")
            );
            assert!(
                has_taint(&n, "dedicated", "NoSchedule"),
                "other taints stay"
            );
        }
    }

    #[test]
    fn the_no_execute_queue_taints_one_node_per_ten_seconds_in_a_zone() {
        let mut t = ZoneTainter::new();
        assert!(t.add("a", SimTime::ZERO));
        assert!(!t.add("a", SimTime::ZERO), "once until reachable");
        assert!(t.try_accept(SimTime::ZERO));
        assert!(!t.try_accept(SimTime(9_999)));
        assert!(t.try_accept(SimTime(10_000)));
        t.swap_limiter(0.0);
        assert!(
            !t.try_accept(SimTime(100_000)),
            "a stopped zone taints nothing"
        );
    }
}
