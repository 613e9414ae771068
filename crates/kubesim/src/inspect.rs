//! The inspector's view of one thing on the diagram: an object's spec and
//! status side by side, its YAML as `kubectl get -o yaml` prints it, its
//! events as `kubectl describe` lists them, and for a pod the scheduler's
//! per-node, per-plugin table ("why here" / "why Pending").
//!
//! Everything is read as an observer outside the cluster
//! ([`Cluster::observe`]): no request is sent and the clock does not move,
//! so opening the inspector never changes the run.

use crate::api::print;
use crate::api::{KindId, Object};
use crate::apiserver::registry;
use crate::cluster::Cluster;
use crate::scheduler::framework::{Decision, Outcome, Verdict};
use crate::snapshot::{ComponentKind, Snapshot};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// What was clicked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Target {
    /// `namespace/name`.
    Pod(String),
    Node(String),
    /// A component by its diagram id (`etcd-control-plane-1`, `kubelet@worker-1`).
    Component(String),
    /// Any other API object, by its kind (`ReplicaSet`), namespace and name.
    Object {
        kind: String,
        namespace: Option<String>,
        name: String,
    },
}

/// One row of an object's family tree: its owners (through
/// `metadata.ownerReferences`, up to the root) and its dependents (the
/// objects that name it as an owner, down), as the garbage collector sees
/// them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relative {
    /// 0 for the root owner.
    pub depth: usize,
    pub kind: String,
    pub name: String,
    /// The inspected object itself.
    pub this: bool,
    /// This row's reference to the row it hangs from is its controller
    /// (`controller: true`).
    pub controller: bool,
    /// That reference has `blockOwnerDeletion: true` (foreground deletion
    /// waits for this row).
    pub blocks: bool,
    /// Being deleted (a `deletionTimestamp` is set).
    pub deleting: bool,
    pub target: Target,
}

/// One row of the events table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventRow {
    pub kind: String,
    pub reason: String,
    pub age: String,
    pub from: String,
    pub message: String,
}

/// One node's row in the scheduler table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeRow {
    pub node: String,
    /// Per filter plugin: `✓`, `✗ <reason>` or `–` (not run).
    pub filters: Vec<String>,
    /// Per score plugin: the weighted score (empty when not scored).
    pub scores: Vec<String>,
    pub total: String,
    pub chosen: bool,
    pub feasible: bool,
}

/// The scheduler's last decision about a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SchedulerTable {
    pub summary: String,
    pub filter_plugins: Vec<String>,
    /// `Name ×weight`.
    pub score_plugins: Vec<String>,
    pub rows: Vec<NodeRow>,
}

/// Everything the inspector shows about one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inspection {
    pub title: String,
    pub subtitle: String,
    /// Key facts, in order (`phase: Running`, `node: worker-2`, ...).
    pub facts: Vec<(String, String)>,
    /// `spec` (desired state) as YAML, if the object has one.
    pub spec: Option<String>,
    /// `status` (current state) as YAML, if the object has one.
    pub status: Option<String>,
    /// The whole object as `kubectl get -o yaml` prints it.
    pub yaml: Option<String>,
    pub events: Vec<EventRow>,
    pub scheduler: Option<SchedulerTable>,
    /// Owners above and dependents below, in tree order; empty when the
    /// object has neither.
    pub family: Vec<Relative>,
    /// For a kube-controller-manager: its control loops.
    pub controllers: Vec<ControllerRow>,
    /// For a pod, the chain that started it; for a node, its failure chain.
    pub chain: Option<Chain>,
}

/// One control loop inside a kube-controller-manager instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControllerRow {
    pub name: String,
    pub queued: usize,
    pub syncs: u64,
    /// `3s ago`, or `never`.
    pub last_sync: String,
}

impl Inspection {
    fn empty(title: String, subtitle: String) -> Inspection {
        Inspection {
            title,
            subtitle,
            facts: Vec::new(),
            spec: None,
            status: None,
            yaml: None,
            events: Vec::new(),
            scheduler: None,
            family: Vec::new(),
            controllers: Vec::new(),
            chain: None,
        }
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// `5m`, `42s`: an event's age as kubectl prints it.
fn age(now_ms: u64, v: &Value) -> String {
    let stamp = str_at(v, &["lastTimestamp"])
        .or_else(|| str_at(v, &["eventTime"]))
        .or_else(|| str_at(v, &["firstTimestamp"]))
        .or_else(|| str_at(v, &["metadata", "creationTimestamp"]));
    match stamp.and_then(crate::api::time::parse_millis) {
        Some(at) => print::human_duration(crate::world::SimDuration(now_ms.saturating_sub(at))),
        None => "<unknown>".into(),
    }
}

/// The events about one object, oldest first (as `kubectl describe`).
fn events_of(cluster: &Cluster, kind: &str, namespace: &str, name: &str) -> Vec<EventRow> {
    let now = cluster.now().as_millis();
    let mut rows: Vec<(String, EventRow)> = cluster
        .observe_all(KindId::Event)
        .iter()
        .map(|o| o.to_value())
        .filter(|v| {
            str_at(v, &["involvedObject", "kind"]) == Some(kind)
                && str_at(v, &["involvedObject", "name"]) == Some(name)
                && str_at(v, &["involvedObject", "namespace"]).unwrap_or("") == namespace
        })
        .map(|v| {
            let from = str_at(&v, &["source", "component"])
                .or_else(|| str_at(&v, &["reportingComponent"]))
                .unwrap_or("")
                .to_string();
            let host = str_at(&v, &["source", "host"]).unwrap_or("");
            let order = str_at(&v, &["lastTimestamp"])
                .or_else(|| str_at(&v, &["metadata", "creationTimestamp"]))
                .unwrap_or("")
                .to_string();
            (
                order,
                EventRow {
                    kind: str_at(&v, &["type"]).unwrap_or("Normal").to_string(),
                    reason: str_at(&v, &["reason"]).unwrap_or("").to_string(),
                    age: age(now, &v),
                    from: if host.is_empty() {
                        from
                    } else {
                        format!("{from}, {host}")
                    },
                    message: str_at(&v, &["message"]).unwrap_or("").to_string(),
                },
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// How many rows of dependents the family tree shows at most.
const FAMILY_ROWS: usize = 200;

fn target_of(o: &Object) -> Target {
    match o.kind_id() {
        KindId::Pod => Target::Pod(o.key()),
        KindId::Node => Target::Node(o.name().to_string()),
        _ => Target::Object {
            kind: o.kind().kind.to_string(),
            namespace: o.namespace().map(str::to_string),
            name: o.name().to_string(),
        },
    }
}

fn relative(o: &Object, depth: usize, this: bool, r: Option<&OwnerReference>) -> Relative {
    Relative {
        depth,
        kind: o.kind().kind.to_string(),
        name: o.name().to_string(),
        this,
        controller: r.and_then(|r| r.controller).unwrap_or(false),
        blocks: r.and_then(|r| r.block_owner_deletion).unwrap_or(false),
        deleting: o.deletion_timestamp().is_some(),
        target: target_of(o),
    }
}

/// The owner reference the tree follows upward: the controller, else the
/// first.
fn up_ref(o: &Object) -> Option<&OwnerReference> {
    o.controller_ref().or_else(|| o.owner_references().first())
}

/// `obj`'s owners up to the root and its dependents down, from the API
/// servers' cache (the garbage collector's `uidToNode` graph, rebuilt here
/// for one object; `pkg/controller/garbagecollector/graph.go`). An owner
/// must be cluster-scoped or in the dependent's namespace, as the garbage
/// collector requires.
fn family(cluster: &Cluster, obj: &Object) -> Vec<Relative> {
    let all: Vec<Rc<Object>> = crate::api::object::KINDS
        .iter()
        .filter(|k| {
            !matches!(
                k.id,
                KindId::Event | KindId::EventsEvent | KindId::TokenRequest
            )
        })
        .flat_map(|k| cluster.observe_all(k.id))
        .collect();
    let by_uid: BTreeMap<&str, &Object> = all
        .iter()
        .filter_map(|o| o.uid().map(|u| (u, &**o)))
        .collect();
    let owner_of = |o: &Object, r: &OwnerReference| -> Option<&Object> {
        by_uid
            .get(r.uid.as_str())
            .copied()
            .filter(|owner| owner.namespace().is_none() || owner.namespace() == o.namespace())
    };
    let mut children: BTreeMap<&str, Vec<(&Object, &OwnerReference)>> = BTreeMap::new();
    for o in &all {
        for r in o.owner_references() {
            if owner_of(o, r).is_some() {
                children.entry(r.uid.as_str()).or_default().push((&**o, r));
            }
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (a.0.kind().kind, a.0.name()).cmp(&(b.0.kind().kind, b.0.name())));
    }
    // Up: at most 8 owners (a cycle of references cannot loop).
    let mut chain: Vec<(&Object, Option<&OwnerReference>)> = Vec::new();
    let mut cur = obj;
    let mut seen: BTreeSet<&str> = obj.uid().into_iter().collect();
    while let Some(r) = up_ref(cur) {
        let Some(owner) = owner_of(cur, r) else {
            break;
        };
        if chain.len() >= 8 || !owner.uid().is_some_and(|u| seen.insert(u)) {
            break;
        }
        chain.push((owner, None));
        cur = owner;
    }
    let mut rows: Vec<Relative> = Vec::new();
    for (i, (o, _)) in chain.iter().rev().enumerate() {
        // The reference that joins this owner to the one above it.
        let r = if i == 0 { None } else { up_ref(o) };
        rows.push(relative(o, i, false, r));
    }
    let depth = rows.len();
    rows.push(relative(
        obj,
        depth,
        true,
        up_ref(obj).filter(|_| depth > 0),
    ));
    // Down: depth first, children in kind and name order.
    let mut visited: BTreeSet<&str> = obj.uid().into_iter().collect();
    descend(obj, depth, &children, &mut visited, &mut rows);
    if rows.len() == 1 {
        rows.clear();
    }
    rows
}

type Children<'a> = BTreeMap<&'a str, Vec<(&'a Object, &'a OwnerReference)>>;

fn descend<'a>(
    o: &'a Object,
    depth: usize,
    children: &Children<'a>,
    visited: &mut BTreeSet<&'a str>,
    rows: &mut Vec<Relative>,
) {
    let Some(kids) = o.uid().and_then(|u| children.get(u)) else {
        return;
    };
    for (kid, r) in kids {
        if rows.len() >= FAMILY_ROWS || !kid.uid().is_some_and(|u| visited.insert(u)) {
            continue;
        }
        rows.push(relative(kid, depth + 1, false, Some(r)));
        descend(kid, depth + 1, children, visited, rows);
    }
}

fn section(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .filter(|s| !s.is_null())
        .map(|s| print::to_yaml(s).trim_end().to_string())
}

fn object_inspection(
    cluster: &Cluster,
    kind: KindId,
    namespace: Option<&str>,
    name: &str,
) -> Option<Inspection> {
    let obj = cluster.observe(&registry::key(kind, namespace, name))?;
    let v = obj.to_value();
    let kind_name = str_at(&v, &["kind"]).unwrap_or("").to_string();
    let mut ins = Inspection::empty(
        format!("{} {}", kind_name, obj.key()),
        str_at(&v, &["apiVersion"]).unwrap_or("").to_string(),
    );
    ins.spec = section(&v, "spec");
    ins.status = section(&v, "status");
    ins.yaml = Some(print::to_yaml(&v));
    ins.events = events_of(cluster, &kind_name, namespace.unwrap_or(""), name);
    ins.family = family(cluster, &obj);
    if let Some(owners) = v["metadata"]["ownerReferences"].as_array() {
        for o in owners {
            ins.facts.push((
                "owner".into(),
                format!(
                    "{} {}",
                    str_at(o, &["kind"]).unwrap_or(""),
                    str_at(o, &["name"]).unwrap_or("")
                ),
            ));
        }
    }
    Some(ins)
}

fn scheduler_table(d: &Decision) -> SchedulerTable {
    let summary = match &d.outcome {
        Outcome::Scheduled { node, score } => format!(
            "Scheduled to {node} (score {score}) in cycle {}: {} of {} nodes evaluated.",
            d.cycle,
            d.nodes.len(),
            d.num_all_nodes
        ),
        Outcome::Unschedulable {
            message,
            nominated_node,
            ..
        } => match nominated_node {
            Some(n) => format!("{message} Preemption nominated {n}."),
            None => message.clone(),
        },
        Outcome::Error { message } => format!("Error: {message}"),
    };
    let chosen = d.chosen().map(str::to_string);
    let rows = d
        .nodes
        .iter()
        .enumerate()
        .map(|(i, rec)| NodeRow {
            node: rec.node.to_string(),
            filters: d
                .verdicts(i)
                .into_iter()
                .map(|(_, v)| match v {
                    Verdict::Passed => "✓".to_string(),
                    Verdict::Failed { reasons, .. } => format!("✗ {}", reasons.join("; ")),
                    Verdict::NotRun => "–".to_string(),
                })
                .collect(),
            scores: d
                .score_plugins
                .iter()
                .enumerate()
                .map(|(j, (_, _, ran))| match rec.scores.get(j) {
                    Some(s) if rec.passed() && *ran => s.weighted.to_string(),
                    _ => String::new(),
                })
                .collect(),
            total: if rec.passed() {
                rec.total.to_string()
            } else {
                String::new()
            },
            chosen: chosen.as_deref() == Some(&*rec.node),
            feasible: rec.passed(),
        })
        .collect();
    SchedulerTable {
        summary,
        filter_plugins: d
            .filter_plugins
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
        score_plugins: d
            .score_plugins
            .iter()
            .map(|(n, w, _)| format!("{n} ×{w}"))
            .collect(),
        rows,
    }
}

/// Builds the inspector's view of `target`, or `None` if it is gone.
pub fn inspect(cluster: &Cluster, target: &Target) -> Option<Inspection> {
    match target {
        Target::Pod(key) => {
            let (ns, name) = key.split_once('/')?;
            let mut ins = object_inspection(cluster, KindId::Pod, Some(ns), name)
                .unwrap_or_else(|| Inspection::empty(format!("Pod {key}"), "gone".into()));
            if let Some(obj) = cluster.observe(&registry::key(KindId::Pod, Some(ns), name)) {
                let v = obj.to_value();
                let phase = str_at(&v, &["status", "phase"]).unwrap_or("Pending");
                ins.facts.insert(0, ("phase".into(), phase.to_string()));
                let node = str_at(&v, &["spec", "nodeName"]).unwrap_or("(not scheduled)");
                ins.facts.insert(1, ("node".into(), node.to_string()));
                if let Some(ip) = str_at(&v, &["status", "podIP"]) {
                    ins.facts.push(("pod IP".into(), ip.to_string()));
                }
            }
            ins.scheduler = cluster
                .scheduling_decision(key)
                .map(|d| scheduler_table(&d));
            if let Some(obj) = cluster.observe(&registry::key(KindId::Pod, Some(ns), name)) {
                ins.chain = Some(pod_chain(cluster, &cluster.snapshot(), &obj.to_value()));
            }
            Some(ins)
        }
        Target::Node(name) => {
            let mut ins =
                object_inspection(cluster, KindId::Node, None, name).unwrap_or_else(|| {
                    Inspection::empty(format!("Node {name}"), "not registered yet".into())
                });
            let snap = cluster.snapshot();
            if let Some(n) = snap.nodes.iter().find(|n| &n.name == name) {
                ins.facts.insert(
                    0,
                    (
                        "Ready".into(),
                        n.ready.clone().unwrap_or_else(|| "unknown".into()),
                    ),
                );
                if let Some(lease) = &n.lease {
                    let left = lease.remaining(snap.now).as_millis() / 1000;
                    ins.facts.push((
                        "lease".into(),
                        format!(
                            "kube-node-lease/{}: {} s of {} s left (renewed every 10 s)",
                            lease.holder, left, lease.duration_seconds
                        ),
                    ));
                }
                ins.facts.push(("pods".into(), n.pods.len().to_string()));
                ins.chain = Some(node_chain(cluster, &snap, name));
            }
            if let Some(obj) = cluster.observe(&registry::key(KindId::Node, None, name)) {
                let v = obj.to_value();
                if let Some(taints) = v["spec"]["taints"].as_array() {
                    for t in taints {
                        ins.facts.push((
                            "taint".into(),
                            format!(
                                "{}:{}",
                                str_at(t, &["key"]).unwrap_or(""),
                                str_at(t, &["effect"]).unwrap_or("")
                            ),
                        ));
                    }
                }
            }
            Some(ins)
        }
        Target::Object {
            kind,
            namespace,
            name,
        } => {
            let k = crate::api::Kind::resolve(kind)?;
            let ns = if k.namespaced {
                namespace.as_deref()
            } else {
                None
            };
            object_inspection(cluster, k.id, ns, name)
        }
        Target::Component(id) => {
            let snap = cluster.snapshot();
            let view = snap
                .cluster_components
                .iter()
                .chain(snap.nodes.iter().flat_map(|n| n.components.iter()))
                .find(|c| &c.id == id)?
                .clone();
            let mut ins = Inspection::empty(id.clone(), view.kind.label().to_string());
            ins.facts
                .push(("what it does".into(), view.kind.summary().to_string()));
            ins.facts.push(("runs as".into(), view.runs_as.clone()));
            if let Some(node) = &view.node {
                ins.facts.push(("node".into(), node.clone()));
            }
            ins.facts.push((
                "state".into(),
                if view.simulated {
                    format!("{} ({:?})", view.state, view.health).to_lowercase()
                } else {
                    "placed; its behaviour is not simulated yet".into()
                },
            ));
            match view.kind {
                ComponentKind::Etcd => {
                    let node = view.node.clone().unwrap_or_default();
                    if let Some((_, s)) = cluster
                        .etcd_status()
                        .into_iter()
                        .find(|(addr, _)| !node.is_empty() && addr.contains(&node))
                    {
                        ins.facts
                            .push(("raft role".into(), format!("{:?}", s.role).to_lowercase()));
                        ins.facts.push(("term".into(), s.term.to_string()));
                        ins.facts.push((
                            "leader".into(),
                            s.leader
                                .map(|l| format!("member {l}"))
                                .unwrap_or_else(|| "none known".into()),
                        ));
                        ins.facts
                            .push(("commit index".into(), s.commit_index.to_string()));
                        ins.facts
                            .push(("applied index".into(), s.applied_index.to_string()));
                        ins.facts.push(("revision".into(), s.revision.to_string()));
                        ins.facts
                            .push(("compacted".into(), s.compacted_revision.to_string()));
                        ins.facts.push(("keys".into(), s.key_count.to_string()));
                    }
                }
                ComponentKind::KubeApiserver => {
                    let node = view.node.clone().unwrap_or_default();
                    if let Some(s) = cluster
                        .apiserver_status()
                        .into_iter()
                        .find(|s| !node.is_empty() && s.name.contains(&node))
                    {
                        ins.facts.push(("ready".into(), s.ready.to_string()));
                        if let Some(why) = s.not_ready_reason {
                            ins.facts.push(("/readyz".into(), why));
                        }
                        ins.facts
                            .push(("watch cache revision".into(), s.cache_revision.to_string()));
                        ins.facts.push(("watches".into(), s.watches.to_string()));
                        ins.facts.push((
                            "requests in flight".into(),
                            s.requests_in_flight.to_string(),
                        ));
                        ins.facts
                            .push(("requests served".into(), s.requests_served.to_string()));
                        ins.facts.push(("identity lease".into(), s.identity_lease));
                    }
                }
                ComponentKind::KubeControllerManager | ComponentKind::CloudControllerManager => {
                    let lease = if view.kind == ComponentKind::KubeControllerManager {
                        "kube-system/kube-controller-manager"
                    } else {
                        "kube-system/cloud-controller-manager"
                    };
                    // The cloud-controller-manager Deployment's chip: its
                    // replicas, and the leading one's loops.
                    let replicas: Vec<&crate::snapshot::ComponentView> = snap
                        .components()
                        .filter(|c| c.kind == view.kind && c.node.is_some())
                        .collect();
                    let instance = if view.node.is_none() {
                        for r in &replicas {
                            ins.facts.push((
                                "replica".into(),
                                format!(
                                    "{} on {}: {}",
                                    r.id,
                                    r.node.as_deref().unwrap_or(""),
                                    r.state
                                ),
                            ));
                        }
                        replicas
                            .iter()
                            .find(|r| r.state.starts_with("leader"))
                            .map(|r| r.id.clone())
                            .unwrap_or_default()
                    } else {
                        id.clone()
                    };
                    if let Some((leader, loops)) = cluster.controller_activity(&instance) {
                        ins.facts.push((
                            "controllers".into(),
                            if leader {
                                format!("{} control loops, running ({instance} holds the {lease} Lease)", loops.len())
                            } else {
                                format!("{} control loops, idle until this instance wins the {lease} Lease", loops.len())
                            },
                        ));
                        let now = cluster.now();
                        ins.controllers = loops
                            .into_iter()
                            .map(|a| ControllerRow {
                                name: a.name.to_string(),
                                queued: a.queued,
                                syncs: a.syncs,
                                last_sync: match a.last_sync {
                                    Some(t) => format!("{} ago", print::human_duration(now - t)),
                                    None => "never".into(),
                                },
                            })
                            .collect();
                    }
                }
                ComponentKind::KubeProxy => {
                    let node = view.node.clone().unwrap_or_default();
                    ins.facts.push((
                        "pod".into(),
                        cluster.kube_proxy_pod(&node).unwrap_or_else(|| {
                            "none running (kubeadm's kube-proxy DaemonSet has not started one here)"
                                .into()
                        }),
                    ));
                    if let Some(rules) = cluster.kernel_rules(&node) {
                        ins.facts.push((
                            "rules".into(),
                            format!("sim node proxy-rules {node} prints them (iptables-save)"),
                        ));
                        for p in &rules.ports {
                            ins.facts
                                .push((p.name.clone(), service_port_summary(p, &node)));
                        }
                    }
                }
                _ => {}
            }
            Some(ins)
        }
    }
}

/// One Service port as a node's rules program it: its addresses, its
/// endpoints (and how many are local), its traffic policies and affinity.
fn service_port_summary(p: &crate::proxy::iptables::ServicePort, node: &str) -> String {
    let local = p.local_endpoints(node).count();
    let mut s = format!(
        "{}:{}/{} -> {} endpoint{} ({local} here)",
        p.cluster_ip,
        p.port,
        p.protocol,
        p.endpoints.len(),
        if p.endpoints.len() == 1 { "" } else { "s" }
    );
    if let Some(np) = p.node_port {
        s.push_str(&format!(" · NodePort {np}"));
    }
    for ip in &p.load_balancer_ips {
        s.push_str(&format!(" · load balancer {ip}"));
    }
    if p.internal_local {
        s.push_str(" · internalTrafficPolicy Local");
    }
    if p.external_local {
        s.push_str(" · externalTrafficPolicy Local");
        if let Some(hc) = p.health_check_node_port {
            s.push_str(&format!(
                " (health check {hc}: {})",
                if local > 0 { "200" } else { "503" }
            ));
        }
    }
    if let Some(t) = p.affinity_seconds {
        s.push_str(&format!(" · ClientIP affinity {t}s"));
    }
    s
}

// ---- Chains: a pod's start and a node's failure, step by step ----

/// One step of a chain of cause and effect (a pod's start, a node's
/// failure), as the inspector lists it and the diagram lights it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainStep {
    /// The component that acts.
    pub actor: ComponentKind,
    /// The node the actor runs on, when it is tied to one.
    pub node: Option<String>,
    /// The diagram ids of the actor (the leader, for a leader-elected
    /// component), for the highlight.
    pub components: Vec<String>,
    /// `RunPodSandbox`, `Ready=Unknown`, ...
    pub title: String,
    /// What happened (or will), in one or two sentences.
    pub detail: String,
    /// When it happened; `None` while it has not.
    pub at: Option<SimTime>,
    /// `at` is to the millisecond (the runtime's own record, a Lease's
    /// `MicroTime`); otherwise it is an API timestamp, to the second.
    pub precise: bool,
    /// For a step still to come: when it is due, if the defaults say.
    pub due: Option<SimTime>,
}

impl ChainStep {
    /// `0:12`, `1:35.412`: when it happened, as precise as it is known.
    pub fn when(&self) -> String {
        match (self.at, self.due) {
            (Some(t), _) => clock(t, self.precise),
            (None, Some(t)) => format!("due ≈ {}", clock(t, false)),
            (None, None) => "not yet".into(),
        }
    }

    pub fn done(&self) -> bool {
        self.at.is_some()
    }
}

/// A chain: the steps in causal order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chain {
    /// What the chain shows (`From kubectl to a process in a cgroup`).
    pub caption: String,
    pub steps: Vec<ChainStep>,
    /// A note on where the times come from.
    pub note: String,
}

impl Chain {
    /// The step the chain has reached: the last one that happened.
    pub fn current(&self) -> Option<usize> {
        self.steps.iter().rposition(ChainStep::done)
    }
}

/// `m:ss` or `m:ss.mmm` (`h:mm:ss` past an hour) of virtual time.
pub fn clock(t: SimTime, precise: bool) -> String {
    let ms = t.as_millis();
    let (h, m, s) = (ms / 3_600_000, (ms / 60_000) % 60, (ms / 1000) % 60);
    let base = if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    };
    if precise {
        format!("{base}.{:03}", ms % 1000)
    } else {
        base
    }
}

fn time_at(v: &Value, path: &[&str]) -> Option<SimTime> {
    str_at(v, path)
        .and_then(crate::api::time::parse_millis)
        .map(SimTime::from_millis)
}

/// A condition's `lastTransitionTime`, if its status is `status`.
fn condition_time(v: &Value, type_: &str, status: &str) -> Option<SimTime> {
    v["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| str_at(c, &["type"]) == Some(type_) && str_at(c, &["status"]) == Some(status))
        .and_then(|c| time_at(c, &["lastTransitionTime"]))
}

/// The events about one object, oldest first: (time, reason, message).
fn event_times(
    cluster: &Cluster,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Vec<(SimTime, String, String)> {
    let mut rows: Vec<(SimTime, String, String)> = cluster
        .observe_all(KindId::Event)
        .iter()
        .map(|o| o.to_value())
        .filter(|v| {
            str_at(v, &["involvedObject", "kind"]) == Some(kind)
                && str_at(v, &["involvedObject", "name"]) == Some(name)
                && str_at(v, &["involvedObject", "namespace"]).unwrap_or("") == namespace
        })
        .filter_map(|v| {
            let at = time_at(&v, &["firstTimestamp"]).or_else(|| time_at(&v, &["eventTime"]))?;
            Some((
                at,
                str_at(&v, &["reason"]).unwrap_or("").to_string(),
                str_at(&v, &["message"]).unwrap_or("").to_string(),
            ))
        })
        .collect();
    rows.sort();
    rows
}

/// The diagram ids of `kind` (on `node`, if given); of a leader-elected
/// component, the leader's when one leads.
fn component_ids(snap: &Snapshot, kind: ComponentKind, node: Option<&str>) -> Vec<String> {
    let all: Vec<&crate::snapshot::ComponentView> = snap
        .components()
        .filter(|c| c.kind == kind && node.is_none_or(|n| c.node.as_deref() == Some(n)))
        .collect();
    let leaders: Vec<String> = all
        .iter()
        .filter(|c| c.state.starts_with("leader"))
        .map(|c| c.id.clone())
        .collect();
    if leaders.is_empty() {
        all.iter().map(|c| c.id.clone()).collect()
    } else {
        leaders
    }
}

fn step(
    snap: &Snapshot,
    actor: ComponentKind,
    node: Option<&str>,
    title: impl Into<String>,
    detail: impl Into<String>,
    at: Option<SimTime>,
    precise: bool,
) -> ChainStep {
    ChainStep {
        actor,
        node: node.map(str::to_string),
        components: component_ids(snap, actor, node),
        title: title.into(),
        detail: detail.into(),
        at,
        precise,
        due: None,
    }
}

/// The chain that started a pod: `kubectl` (or the manifest dir) -> API
/// server -> etcd -> scheduler -> kubelet -> containerd -> runc -> Ready,
/// with each step's time from the records Kubernetes keeps: the object's
/// timestamps and conditions, its events, and the node's runtime
/// (`crictl inspectp` / `crictl inspect` times, to the millisecond).
pub fn pod_chain(cluster: &Cluster, snap: &Snapshot, pod: &Value) -> Chain {
    let ns = str_at(pod, &["metadata", "namespace"]).unwrap_or("default");
    let name = str_at(pod, &["metadata", "name"]).unwrap_or("");
    let uid = str_at(pod, &["metadata", "uid"]).unwrap_or("");
    let node = str_at(pod, &["spec", "nodeName"]);
    let annotations = &pod["metadata"]["annotations"];
    let is_static = annotations
        .get(crate::kubelet::config::CONFIG_MIRROR_ANNOTATION)
        .is_some()
        || str_at(
            annotations,
            &[crate::kubelet::config::CONFIG_SOURCE_ANNOTATION],
        ) == Some("file");
    let created = time_at(pod, &["metadata", "creationTimestamp"]);
    let events = event_times(cluster, "Pod", ns, name);
    let runtime = node.and_then(|n| cluster.node_runtime(n));
    // The newest sandbox of this pod (by uid; a static pod's sandbox has
    // the file's uid, not its mirror's, so by name then).
    let sandbox = runtime.and_then(|rt| {
        let all = rt.list_pod_sandboxes();
        let mine: Vec<_> = all
            .iter()
            .filter(|s| s.uid == uid)
            .chain(
                all.iter()
                    .filter(|s| is_static && s.name == name && s.namespace == ns),
            )
            .cloned()
            .collect();
        mine.into_iter().max_by_key(|s| (s.attempt, s.created_at))
    });
    let containers = match (runtime, &sandbox) {
        (Some(rt), Some(sb)) => rt.list_containers(Some(&sb.id)),
        _ => Vec::new(),
    };
    let mut steps = Vec::new();
    let mut mirror = Vec::new();
    if is_static {
        let file = str_at(annotations, &["kubernetes.io/config.source"]).unwrap_or("file");
        steps.push(step(
            snap,
            ComponentKind::Kubelet,
            node,
            "manifest dir",
            format!(
                "The kubelet reads /etc/kubernetes/manifests (source: {file}) and runs the pod itself: a static pod needs no API server, no etcd and no scheduler."
            ),
            sandbox.as_ref().map(|s| s.created_at),
            true,
        ));
        mirror.push(step(
            snap,
            ComponentKind::KubeApiserver,
            None,
            "mirror pod",
            format!("The kubelet creates a read-only mirror pod {ns}/{name} in the API so that kubectl shows the static pod."),
            created,
            false,
        ));
        mirror.push(step(
            snap,
            ComponentKind::Etcd,
            None,
            "etcd commit",
            format!("/registry/pods/{ns}/{name} is written once a quorum of members holds the Raft entry."),
            created,
            false,
        ));
    } else {
        let by = match pod["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|o| o.first())
        {
            Some(o) => format!(
                "The {} controller (for {} {})",
                str_at(o, &["kind"]).unwrap_or(""),
                str_at(o, &["kind"]).unwrap_or(""),
                str_at(o, &["name"]).unwrap_or("")
            ),
            None => "kubectl".into(),
        };
        steps.push(step(
            snap,
            ComponentKind::KubeApiserver,
            None,
            "API create",
            format!("{by} sends POST /api/v1/namespaces/{ns}/pods; kube-apiserver authenticates, authorizes, admits (defaults, service account, tolerations) and validates it."),
            created,
            false,
        ));
        steps.push(step(
            snap,
            ComponentKind::Etcd,
            None,
            "etcd commit",
            format!("/registry/pods/{ns}/{name} is committed once a quorum of members holds the Raft entry; only then does the API server answer and watchers hear ADDED."),
            created,
            false,
        ));
        let scheduled = condition_time(pod, "PodScheduled", "True");
        steps.push(step(
            snap,
            ComponentKind::KubeScheduler,
            None,
            "scheduler bind",
            match node {
                Some(n) => format!("The scheduler filters and scores the nodes (see Scheduling) and POSTs pods/binding: nodeName = {n}."),
                None => "Waiting in the scheduler's queue for a node that fits.".into(),
            },
            scheduled.filter(|_| node.is_some()),
            false,
        ));
    }
    let sees = time_at(pod, &["status", "startTime"]);
    steps.push(step(
        snap,
        ComponentKind::Kubelet,
        node,
        "kubelet sees it",
        if is_static {
            "The pod worker admits the pod on the node (resources, node selector) and syncs it.".to_string()
        } else {
            format!(
                "Its watch on pods with spec.nodeName={} delivers the pod; the pod worker admits it and sets status.startTime.",
                node.unwrap_or("<this node>")
            )
        },
        if is_static {
            sandbox.as_ref().map(|s| s.created_at)
        } else {
            sees
        },
        is_static,
    ));
    steps.push(step(
        snap,
        ComponentKind::Containerd,
        node,
        "CRI RunPodSandbox",
        match &sandbox {
            Some(sb) => format!(
                "containerd starts the pause container holding the network namespace (IP {}) in the pod's cgroup slice {}.",
                sb.ip.as_deref().unwrap_or("none"),
                sb.cgroup_parent
            ),
            None => "containerd will start the pause container and the pod's cgroup slice.".into(),
        },
        sandbox.as_ref().map(|s| s.created_at),
        true,
    ));
    let spec_containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod["spec"][k].as_array())
        .flatten()
        .collect();
    for c in spec_containers {
        let cname = str_at(c, &["name"]).unwrap_or("");
        let image = str_at(c, &["image"]).unwrap_or("");
        let first = containers
            .iter()
            .filter(|s| s.name == cname)
            .min_by_key(|s| (s.attempt, s.created_at));
        let quoted = format!("\"{image}\"");
        let pulling = events
            .iter()
            .find(|(_, r, m)| (r == "Pulling" || r == "Pulled") && m.contains(&quoted));
        let pulled = events
            .iter()
            .find(|(_, r, m)| r == "Pulled" && m.contains(&quoted))
            .map(|(_, _, m)| m.clone());
        steps.push(step(
            snap,
            ComponentKind::Containerd,
            node,
            format!("PullImage {image}"),
            pulled.unwrap_or_else(|| {
                format!("The kubelet asks containerd's ImageService for {image} (imagePullPolicy decides whether it pulls).")
            }),
            pulling.map(|(t, _, _)| *t),
            false,
        ));
        steps.push(step(
            snap,
            ComponentKind::Containerd,
            node,
            format!("CreateContainer {cname}"),
            match first {
                Some(s) => format!(
                    "containerd creates container {} from {}.",
                    s.id.get(..13).unwrap_or(&s.id),
                    s.image
                ),
                None => format!("containerd will create container {cname} in the sandbox."),
            },
            first.map(|s| s.created_at),
            true,
        ));
        steps.push(step(
            snap,
            ComponentKind::Runc,
            node,
            format!("StartContainer {cname} · runc create/start"),
            match first {
                Some(s) => format!(
                    "containerd calls runc create and runc start: namespaces, the cgroup {} (cpu.max, memory.max from the limits), then the process.",
                    s.cgroup
                ),
                None => "runc will create the container's cgroup and start its process.".into(),
            },
            first.map(|s| s.created_at),
            true,
        ));
        steps.push(step(
            snap,
            ComponentKind::Runc,
            node,
            format!("{cname} running"),
            "The process is up (the image's start time after runc start).",
            first.and_then(|s| s.started_at),
            true,
        ));
    }
    let ready = condition_time(pod, "Ready", "True");
    steps.push(step(
        snap,
        ComponentKind::Kubelet,
        node,
        "Running / Ready",
        "The kubelet reports phase Running and, once the readiness probes pass, Ready=True in the pod's status; EndpointSlices then list the pod.",
        ready,
        false,
    ));
    steps.extend(mirror);
    Chain {
        caption: if is_static {
            "Static pod: manifest dir -> kubelet -> containerd -> runc".into()
        } else {
            "Pod start: kubectl -> API server -> etcd -> scheduler -> kubelet -> containerd -> runc"
                .into()
        },
        steps,
        note: "Times are virtual (m:ss since the run began): to the millisecond from the node's runtime, to the second from API timestamps, as Kubernetes keeps them.".into(),
    }
}

/// The taint keys the node lifecycle controller adds for an unhealthy node.
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const NOT_READY: &str = "node.kubernetes.io/not-ready";

/// How long a pod tolerates the NoExecute taint `key`: `Some(None)` for
/// ever, `Some(Some(s))` for `s` seconds, `None` not at all
/// (`pkg/controller/tainteviction/taint_eviction.go getMinTolerationTime`).
fn toleration_seconds(pod: &Value, key: &str) -> Option<Option<i64>> {
    let tolerations = pod["spec"]["tolerations"].as_array()?;
    let mut best: Option<Option<i64>> = None;
    for t in tolerations {
        let effect = str_at(t, &["effect"]).unwrap_or("");
        let tkey = str_at(t, &["key"]).unwrap_or("");
        let op = str_at(t, &["operator"]).unwrap_or("Equal");
        let key_ok = (tkey.is_empty() && op == "Exists") || tkey == key;
        if !key_ok || !(effect.is_empty() || effect == "NoExecute") {
            continue;
        }
        let secs = t["tolerationSeconds"].as_i64();
        best = Some(match (best, secs) {
            (Some(None), _) | (_, None) => None,
            (Some(Some(a)), Some(b)) => Some(a.min(b)),
            (None, Some(b)) => Some(b),
        });
    }
    best
}

/// A node's failure chain, as the node lifecycle and taint eviction
/// controllers play it after the kubelet falls silent: last lease renewal
/// -> Ready=Unknown (`--node-monitor-grace-period`, 50 s) -> the
/// `unreachable` taints -> each pod evicted after its `tolerationSeconds`
/// (300 s by default) -> replacement pods bound elsewhere. Steps still to
/// come carry when they are due.
pub fn node_chain(cluster: &Cluster, snap: &Snapshot, name: &str) -> Chain {
    let node = cluster
        .observe(&registry::key(KindId::Node, None, name))
        .map(|o| o.to_value())
        .unwrap_or(Value::Null);
    let lease = cluster
        .observe(&registry::key(KindId::Lease, Some("kube-node-lease"), name))
        .map(|o| o.to_value());
    let renewed = lease
        .as_ref()
        .and_then(|l| time_at(l, &["spec", "renewTime"]));
    let grace = SimDuration::from_secs(50);
    let mut steps = Vec::new();
    steps.push(step(
        snap,
        ComponentKind::Kubelet,
        Some(name),
        "last lease renewal",
        format!("The kubelet renews kube-node-lease/{name} every 10 s (leaseDurationSeconds 40): its heartbeat."),
        renewed,
        true,
    ));
    let unknown = condition_time(&node, "Ready", "Unknown");
    let mut s = step(
        snap,
        ComponentKind::KubeControllerManager,
        None,
        "Ready=Unknown",
        "The node lifecycle controller checks leases every 5 s; with no renewal for 50 s (node-monitor-grace-period) it sets Ready and the other conditions to Unknown: NodeNotReady.",
        unknown,
        false,
    );
    s.due = renewed.filter(|_| unknown.is_none()).map(|t| t + grace);
    let ready_due = s.due;
    steps.push(s);
    let taints: Vec<&Value> = node["spec"]["taints"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|t| matches!(str_at(t, &["key"]), Some(UNREACHABLE | NOT_READY)))
                .collect()
        })
        .unwrap_or_default();
    let mut no_execute: Option<(SimTime, String)> = None;
    for effect in ["NoSchedule", "NoExecute"] {
        let taint = taints
            .iter()
            .find(|t| str_at(t, &["effect"]) == Some(effect));
        let key = taint
            .and_then(|t| str_at(t, &["key"]))
            .unwrap_or(UNREACHABLE);
        let at = taint.and_then(|t| time_at(t, &["timeAdded"]).or(unknown));
        if effect == "NoExecute" {
            no_execute = at.map(|t| (t, key.to_string()));
        }
        let mut s = step(
            snap,
            ComponentKind::KubeControllerManager,
            None,
            format!("taint {key}:{effect}"),
            if effect == "NoSchedule" {
                "The node lifecycle controller taints the node so the scheduler places no new pod there."
            } else {
                "The NoExecute taint: the taint eviction controller starts each pod's tolerationSeconds clock."
            },
            at,
            false,
        );
        s.due = if at.is_none() { ready_due } else { None };
        steps.push(s);
    }
    // The pods on the node, and what became of them.
    let pods: Vec<Value> = cluster
        .observe_all(KindId::Pod)
        .iter()
        .map(|p| p.to_value())
        .collect();
    let mut evicted: Vec<(String, Option<String>, SimTime)> = Vec::new();
    let mut on_node: Vec<&Value> = pods
        .iter()
        .filter(|p| str_at(p, &["spec", "nodeName"]) == Some(name))
        .collect();
    on_node.sort_by_key(|p| {
        (
            str_at(p, &["metadata", "namespace"])
                .unwrap_or("")
                .to_string(),
            str_at(p, &["metadata", "name"]).unwrap_or("").to_string(),
        )
    });
    for p in on_node {
        let key = no_execute
            .as_ref()
            .map(|(_, k)| k.as_str())
            .unwrap_or(UNREACHABLE);
        let tolerates = toleration_seconds(p, key);
        if tolerates == Some(None) {
            continue; // tolerates for ever (DaemonSet and static pods)
        }
        let ns = str_at(p, &["metadata", "namespace"]).unwrap_or("");
        let pname = str_at(p, &["metadata", "name"]).unwrap_or("");
        let eviction = event_times(cluster, "Pod", ns, pname)
            .into_iter()
            .find(|(_, r, _)| r == "TaintManagerEviction")
            .map(|(t, _, _)| t);
        let secs = tolerates.flatten().unwrap_or(0).max(0) as u64;
        let mut s = step(
            snap,
            ComponentKind::KubeControllerManager,
            None,
            format!("evict {ns}/{pname}"),
            format!("The taint eviction controller deletes the pod {secs} s after the NoExecute taint (its tolerationSeconds); it stays Terminating while its kubelet cannot confirm."),
            eviction,
            false,
        );
        if let Some(at) = eviction {
            let owner = p["metadata"]["ownerReferences"]
                .as_array()
                .and_then(|o| o.iter().find(|r| r["controller"].as_bool() == Some(true)))
                .and_then(|r| str_at(r, &["uid"]))
                .map(str::to_string);
            evicted.push((format!("{ns}/{pname}"), owner, at));
        } else {
            s.due = no_execute
                .as_ref()
                .map(|(t, _)| *t + SimDuration::from_secs(secs))
                .or(ready_due.map(|t| t + SimDuration::from_secs(secs)));
        }
        steps.push(s);
    }
    // Replacements: pods of the same controller created since the eviction,
    // on another node.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for (pod, owner, at) in &evicted {
        let Some(owner) = owner else { continue };
        let floor = SimTime::from_millis(at.as_millis() / 1000 * 1000);
        let mut candidates: Vec<(SimTime, String, String, Option<SimTime>)> =
            pods.iter()
                .filter(|p| {
                    p["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|o| o.iter().any(|r| str_at(r, &["uid"]) == Some(owner)))
                })
                .filter_map(|p| {
                    let created = time_at(p, &["metadata", "creationTimestamp"])?;
                    let key = format!(
                        "{}/{}",
                        str_at(p, &["metadata", "namespace"]).unwrap_or(""),
                        str_at(p, &["metadata", "name"]).unwrap_or("")
                    );
                    let other = str_at(p, &["spec", "nodeName"]).unwrap_or("");
                    (created >= floor && &key != pod && other != name && !taken.contains(&key))
                        .then(|| {
                            (
                                created,
                                key,
                                other.to_string(),
                                condition_time(p, "PodScheduled", "True"),
                            )
                        })
                })
                .collect();
        candidates.sort();
        let replacement = candidates.into_iter().next();
        let (detail, when) = match &replacement {
            Some((_, key, other, bound)) if !other.is_empty() => (
                format!("Its controller created {key}; kube-scheduler bound it to {other}."),
                *bound,
            ),
            Some((_, key, _, _)) => (
                format!("Its controller created {key}; it waits for the scheduler."),
                None,
            ),
            None => (
                "Its controller (ReplicaSet, StatefulSet, ...) creates a replacement, which the scheduler binds to a healthy node.".into(),
                None,
            ),
        };
        if let Some((_, key, _, _)) = &replacement {
            taken.insert(key.clone());
        }
        steps.push(step(
            snap,
            ComponentKind::KubeScheduler,
            None,
            format!("replace {pod}"),
            detail,
            when,
            false,
        ));
    }
    Chain {
        caption: "Node failure: lease expires -> NotReady -> taints -> evictions -> replacements"
            .into(),
        steps,
        note: "Times are virtual (m:ss since the run began). Steps to come show when the defaults make them due: Ready=Unknown 50 s after the last renewal, evictions after each pod's tolerationSeconds (300 s unless it says otherwise).".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Session;
    use crate::topology::Topology;
    use crate::world::SimDuration;

    fn cluster_with_nginx() -> Cluster {
        let mut c = Cluster::new(Topology::default(), 1);
        assert!(c.boot(SimDuration::from_secs(60)));
        let mut s = Session::new();
        let out = s.run_script(
            &mut c,
            "kubectl apply -f -\napiVersion: v1\nkind: Pod\nmetadata:\n  name: nginx\nspec:\n  containers:\n  - name: nginx\n    image: nginx:1.14.2\n    ports:\n    - containerPort: 80\n---end\nsim advance 30s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        c
    }

    #[test]
    fn a_pod_shows_its_spec_status_events_and_the_schedulers_table() {
        let c = cluster_with_nginx();
        let ins = inspect(&c, &Target::Pod("default/nginx".into())).unwrap();
        assert_eq!(ins.title, "Pod default/nginx");
        assert!(ins.spec.as_deref().unwrap().contains("image: nginx:1.14.2"));
        assert!(ins.status.as_deref().unwrap().contains("phase: Running"));
        assert!(ins
            .yaml
            .as_deref()
            .unwrap()
            .starts_with("apiVersion: v1\nkind: Pod\n"));
        assert!(
            ins.events.iter().any(|e| e.reason == "Scheduled"),
            "{:?}",
            ins.events
        );
        assert!(
            ins.events.iter().any(|e| e.reason == "Started"),
            "{:?}",
            ins.events
        );
        let table = ins.scheduler.expect("the scheduler kept its decision");
        assert!(
            table.summary.starts_with("Scheduled to worker-"),
            "{}",
            table.summary
        );
        assert!(table.filter_plugins.iter().any(|p| p == "TaintToleration"));
        // Control-plane nodes are filtered out by their NoSchedule taint.
        let cp = table
            .rows
            .iter()
            .find(|r| r.node == "control-plane-1")
            .unwrap();
        assert!(!cp.feasible);
        assert!(
            cp.filters.iter().any(|f| f.contains("untolerated taint")),
            "{:?}",
            cp.filters
        );
        assert_eq!(table.rows.iter().filter(|r| r.chosen).count(), 1);
    }

    #[test]
    fn a_node_shows_its_lease_and_taints() {
        let c = cluster_with_nginx();
        let ins = inspect(&c, &Target::Node("control-plane-1".into())).unwrap();
        let facts: Vec<String> = ins.facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert!(
            facts
                .iter()
                .any(|f| f.starts_with("lease: kube-node-lease/control-plane-1")),
            "{facts:?}"
        );
        assert!(
            facts
                .iter()
                .any(|f| f == "taint: node-role.kubernetes.io/control-plane:NoSchedule"),
            "{facts:?}"
        );
    }

    #[test]
    fn an_etcd_member_shows_its_raft_state() {
        let c = cluster_with_nginx();
        let snap = c.snapshot();
        let etcd = snap
            .nodes
            .iter()
            .flat_map(|n| n.components.iter())
            .find(|c| c.kind == ComponentKind::Etcd)
            .unwrap();
        let ins = inspect(&c, &Target::Component(etcd.id.clone())).unwrap();
        assert!(
            ins.facts.iter().any(|(k, _)| k == "term"),
            "{:?}",
            ins.facts
        );
        assert!(
            ins.facts.iter().any(|(k, _)| k == "raft role"),
            "{:?}",
            ins.facts
        );
    }

    #[test]
    fn a_kube_proxy_lists_the_service_ports_its_node_programs() {
        let c = cluster_with_nginx();
        let snap = c.snapshot();
        let proxy = snap
            .nodes
            .iter()
            .flat_map(|n| n.components.iter())
            .find(|c| c.kind == ComponentKind::KubeProxy && c.node.as_deref() == Some("worker-1"))
            .unwrap();
        let ins = inspect(&c, &Target::Component(proxy.id.clone())).unwrap();
        // It runs in its DaemonSet's pod on the node.
        assert!(
            ins.facts
                .iter()
                .any(|(k, v)| k == "pod" && v.starts_with("kube-system/kube-proxy-")),
            "{:?}",
            ins.facts
        );
        let dns = ins
            .facts
            .iter()
            .find(|(k, _)| k == "kube-system/kube-dns:dns")
            .map(|(_, v)| v.clone());
        assert!(
            dns.as_deref()
                .is_some_and(|v| v.starts_with("10.96.0.10:53/udp -> 2 endpoints")),
            "{:?}",
            ins.facts
        );
    }

    #[test]
    fn a_vanished_target_is_none_or_marked_gone() {
        let c = cluster_with_nginx();
        assert!(inspect(&c, &Target::Component("nope".into())).is_none());
        let gone = inspect(&c, &Target::Pod("default/ghost".into())).unwrap();
        assert_eq!(gone.subtitle, "gone");
        assert!(inspect(&c, &Target::Pod("no-slash".into())).is_none());
    }

    #[test]
    fn a_deployments_pod_shows_its_replicaset_and_deployment_above_it() {
        let mut c = Cluster::new(Topology::default(), 3);
        assert!(c.boot(SimDuration::from_secs(60)));
        let mut s = Session::new();
        let out = s.run_script(
            &mut c,
            "kubectl create deployment web --image=nginx --replicas=2\nsim advance 20s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        let deploy = inspect(
            &c,
            &Target::Object {
                kind: "Deployment".into(),
                namespace: Some("default".into()),
                name: "web".into(),
            },
        )
        .expect("the Deployment is there");
        let rows: Vec<(usize, &str)> = deploy
            .family
            .iter()
            .map(|r| (r.depth, r.kind.as_str()))
            .collect();
        assert_eq!(
            rows,
            [(0, "Deployment"), (1, "ReplicaSet"), (2, "Pod"), (2, "Pod")],
            "{:?}",
            deploy.family
        );
        assert!(deploy.family[0].this);
        assert!(deploy.family[1].controller && deploy.family[1].blocks);
        let Target::Pod(pod) = deploy.family[2].target.clone() else {
            panic!("a pod row opens the pod");
        };
        let ins = inspect(&c, &Target::Pod(pod)).expect("the pod is there");
        let up: Vec<(&str, bool)> = ins
            .family
            .iter()
            .map(|r| (r.kind.as_str(), r.this))
            .collect();
        assert_eq!(
            up,
            [("Deployment", false), ("ReplicaSet", false), ("Pod", true)]
        );
    }

    #[test]
    fn an_object_without_owners_or_dependents_has_no_family() {
        let c = cluster_with_nginx();
        let ins = inspect(&c, &Target::Pod("default/nginx".into())).unwrap();
        assert!(ins.family.is_empty(), "{:?}", ins.family);
    }

    #[test]
    fn the_leading_controller_manager_lists_its_control_loops_and_their_work() {
        let mut c = Cluster::new(Topology::default(), 3);
        assert!(c.boot(SimDuration::from_secs(60)));
        let mut s = Session::new();
        let out = s.run_script(
            &mut c,
            "kubectl create deployment web --image=nginx\nsim advance 20s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        let snap = c.snapshot();
        let kcms: Vec<String> = snap
            .nodes
            .iter()
            .flat_map(|n| n.components.iter())
            .filter(|c| c.kind == ComponentKind::KubeControllerManager)
            .map(|c| c.id.clone())
            .collect();
        let mut leaders = 0;
        for id in &kcms {
            let ins = inspect(&c, &Target::Component(id.clone())).unwrap();
            let deployment = ins
                .controllers
                .iter()
                .find(|r| r.name == "deployment-controller")
                .unwrap_or_else(|| panic!("{:?}", ins.controllers));
            if deployment.syncs > 0 {
                leaders += 1;
                assert_ne!(deployment.last_sync, "never");
            }
        }
        assert_eq!(leaders, 1, "only the leader reconciles");
    }

    fn titles(chain: &Chain) -> Vec<&str> {
        chain.steps.iter().map(|s| s.title.as_str()).collect()
    }

    #[test]
    fn a_pods_start_chain_runs_from_the_api_to_runc_in_order_with_times() {
        let c = cluster_with_nginx();
        let ins = inspect(&c, &Target::Pod("default/nginx".into())).unwrap();
        let chain = ins.chain.expect("a pod has its start chain");
        assert_eq!(
            titles(&chain),
            [
                "API create",
                "etcd commit",
                "scheduler bind",
                "kubelet sees it",
                "CRI RunPodSandbox",
                "PullImage nginx:1.14.2",
                "CreateContainer nginx",
                "StartContainer nginx · runc create/start",
                "nginx running",
                "Running / Ready",
            ]
        );
        assert!(chain.steps.iter().all(ChainStep::done), "{chain:?}");
        assert_eq!(chain.current(), Some(chain.steps.len() - 1));
        // In order, each to the precision it is known.
        let seconds: Vec<u64> = chain
            .steps
            .iter()
            .map(|s| s.at.unwrap().as_millis() / 1000)
            .collect();
        assert!(seconds.windows(2).all(|w| w[0] <= w[1]), "{seconds:?}");
        let node = ins
            .facts
            .iter()
            .find(|(k, _)| k == "node")
            .map(|(_, v)| v.clone())
            .unwrap();
        let sandbox = &chain.steps[4];
        assert!(sandbox.precise);
        assert_eq!(sandbox.components, [format!("containerd@{node}")]);
        assert_eq!(chain.steps[7].components, [format!("runc@{node}")]);
        // The image's start time passes between runc start and the process.
        let (start, running) = (chain.steps[7].at.unwrap(), chain.steps[8].at.unwrap());
        assert!(running > start, "{start:?} {running:?}");
        // Only the leading scheduler bound it.
        assert_eq!(chain.steps[2].components.len(), 1, "{:?}", chain.steps[2]);
        assert!(chain.steps[2].components[0].starts_with("kube-scheduler-"));
    }

    #[test]
    fn a_static_pods_chain_starts_from_the_manifest_dir_without_the_scheduler() {
        let c = cluster_with_nginx();
        let ins = inspect(
            &c,
            &Target::Pod("kube-system/kube-apiserver-control-plane-1".into()),
        )
        .unwrap();
        let chain = ins.chain.expect("a static pod has its chain");
        assert_eq!(chain.steps[0].title, "manifest dir");
        assert_eq!(chain.steps[0].components, ["kubelet@control-plane-1"]);
        assert!(chain.steps[0].done());
        assert!(!titles(&chain).contains(&"scheduler bind"), "{chain:?}");
        assert!(titles(&chain).contains(&"mirror pod"));
    }

    #[test]
    fn a_powered_off_nodes_chain_goes_from_its_last_lease_to_replacements() {
        let mut c = Cluster::new(Topology::default(), 1);
        assert!(c.boot(SimDuration::from_secs(60)));
        let mut s = Session::new();
        let out = s.run_script(
            &mut c,
            "kubectl create deployment web --image=nginx --replicas=3\nsim advance 30s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        let healthy = inspect(&c, &Target::Node("worker-1".into()))
            .unwrap()
            .chain
            .unwrap();
        let renewed = healthy.steps[0].at.expect("the lease was renewed");
        assert!(healthy.steps[0].precise);
        assert_eq!(healthy.steps[0].components, ["kubelet@worker-1"]);
        assert_eq!(healthy.steps[1].title, "Ready=Unknown");
        assert_eq!(
            healthy.steps[1].due,
            Some(renewed + SimDuration::from_secs(50)),
            "due 50 s after the last renewal while healthy"
        );
        assert_eq!(healthy.current(), Some(0));
        let out = s.run_script(&mut c, "sim fault worker-1 power-off\nsim advance 6m");
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        let chain = inspect(&c, &Target::Node("worker-1".into()))
            .unwrap()
            .chain
            .unwrap();
        let last = chain.steps[0].at.unwrap();
        let unknown = chain.steps[1].at.expect("the node went Ready=Unknown");
        let gap = (unknown.as_millis() as i64 - last.as_millis() as i64) / 1000;
        assert!(
            (45..=56).contains(&gap),
            "Ready=Unknown {gap} s after the last renewal"
        );
        assert_eq!(
            &titles(&chain)[2..4],
            [
                "taint node.kubernetes.io/unreachable:NoSchedule",
                "taint node.kubernetes.io/unreachable:NoExecute"
            ]
        );
        let no_execute = chain.steps[3].at.expect("tainted NoExecute");
        let evictions: Vec<&ChainStep> = chain
            .steps
            .iter()
            .filter(|s| s.title.starts_with("evict default/web-"))
            .collect();
        assert!(!evictions.is_empty(), "{chain:?}");
        for e in &evictions {
            let after = (e.at.expect("evicted").as_millis() - no_execute.as_millis()) / 1000;
            assert!(
                (299..=302).contains(&after),
                "evicted {after} s after the taint"
            );
        }
        let replacements: Vec<&ChainStep> = chain
            .steps
            .iter()
            .filter(|s| s.title.starts_with("replace default/web-"))
            .collect();
        assert_eq!(replacements.len(), evictions.len());
        for r in replacements {
            assert!(r.done(), "{r:?}");
            assert!(r.detail.contains("bound it to worker-"), "{}", r.detail);
            assert!(!r.detail.contains("worker-1."), "{}", r.detail);
        }
    }

    #[test]
    fn chain_times_read_as_minutes_and_seconds() {
        assert_eq!(clock(SimTime::from_millis(95_412), true), "1:35.412");
        assert_eq!(clock(SimTime::from_millis(95_412), false), "1:35");
        assert_eq!(clock(SimTime::from_millis(3_725_000), false), "1:02:05");
    }

    #[test]
    fn the_cloud_controller_manager_shows_its_replicas_and_the_leaders_controllers() {
        let c = cluster_with_nginx();
        let snap = c.snapshot();
        let replicas: Vec<&crate::snapshot::ComponentView> = snap
            .components()
            .filter(|v| v.kind == ComponentKind::CloudControllerManager && v.node.is_some())
            .collect();
        let ids: Vec<&str> = replicas.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "cloud-controller-manager-control-plane-1",
                "cloud-controller-manager-control-plane-2"
            ]
        );
        let leaders: Vec<&&crate::snapshot::ComponentView> = replicas
            .iter()
            .filter(|r| r.state.starts_with("leader"))
            .collect();
        assert_eq!(leaders.len(), 1, "{replicas:?}");
        let ins = inspect(&c, &Target::Component(leaders[0].id.clone())).unwrap();
        let names: Vec<&str> = ins.controllers.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cloud-node-controller",
                "cloud-node-lifecycle-controller",
                "route-controller",
                "service-controller"
            ]
        );
        // The node controller initialized every node.
        assert!(ins.controllers[0].syncs > 0, "{:?}", ins.controllers);
        // The Deployment's chip lists both replicas and the leader's loops.
        let whole = inspect(&c, &Target::Component("cloud-controller-manager".into())).unwrap();
        assert_eq!(
            whole.facts.iter().filter(|(k, _)| k == "replica").count(),
            2,
            "{:?}",
            whole.facts
        );
        assert_eq!(whole.controllers.len(), 4);
    }
}
