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
use crate::snapshot::ComponentKind;
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
                ComponentKind::KubeControllerManager => {
                    if let Some((leader, loops)) = cluster.controller_activity(id) {
                        ins.facts.push((
                            "controllers".into(),
                            if leader {
                                format!("{} control loops, running (this instance holds the kube-system/kube-controller-manager Lease)", loops.len())
                            } else {
                                format!("{} control loops, idle until this instance wins the kube-system/kube-controller-manager Lease", loops.len())
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
}
