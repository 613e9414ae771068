//! The DaemonSet controller: one pod of the DaemonSet on every node that
//! should run it.
//!
//! Ported from `pkg/controller/daemon/daemon_controller.go` (`syncDaemonSet`,
//! `manage`, `podsShouldBeOnNode`, `NodeShouldRunDaemonPod`, `predicates`,
//! `updateDaemonSetStatus`), `update.go` (`rollingUpdate` with
//! `maxUnavailable`) and `util/daemonset_util.go`
//! (`AddOrUpdateDaemonPodTolerations`,
//! `ReplaceDaemonSetPodNodeNameNodeAffinity`). A node should run the daemon
//! pod when the template's `nodeName`, node selector and required node
//! affinity match it and its NoSchedule/NoExecute taints are tolerated; a
//! pod already there keeps running while its NoExecute taints are
//! tolerated. Each pod gets the daemon tolerations (not-ready and
//! unreachable NoExecute without a time limit; disk-, memory- and
//! pid-pressure and unschedulable NoSchedule; network-unavailable with
//! `hostNetwork`) and is pinned to its node with a required node affinity
//! `matchFields: metadata.name In [<node>]`; the default scheduler binds it
//! (as upstream since v1.12). Pods carry `controller-revision-hash` (a hash
//! of the template) and `pod-template-generation`; a RollingUpdate deletes
//! old pods while at most `maxUnavailable` nodes lack an available pod,
//! and `manage` creates the new ones. Failed daemon pods are deleted and
//! recreated.
//!
//! The history lives in ControllerRevisions named `<ds>-<hash>` (see
//! [`super::history`], `constructHistory`, `cleanupHistory`): the revision
//! holding the current template is created, or renumbered as the newest
//! when the template returns to it (`kubectl rollout undo`), and old
//! revisions no pod uses are deleted beyond `revisionHistoryLimit`.
//!
//! The pods are claimed as `ClaimPods` does (see `controllerref`): a
//! DaemonSet re-created after `--cascade=orphan` adopts the pods it left.
//!
//! Left out: `maxSurge`, `minReadySeconds`
//! other than 0, the failed-pod back-off (a failed pod is replaced at
//! once), `OnDelete` beyond not updating pods, and adoption of orphans.

use super::controllerref;
use super::deployment::compute_hash;
use super::history;
use super::replicaset::{is_ready, pod_from_template};
use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::time::to_sim_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::scheduler::podinfo::{tolerations_tolerate, RequiredNodeAffinity};
use crate::world::SimTime;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PodTemplateSpec, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The label with the hash of the template the pod came from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// The (deprecated) label with the DaemonSet generation of the template.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

/// Creations and deletions the controller waits to see (per DaemonSet key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expectations {
    add: i64,
    del: i64,
}

/// The DaemonSet controller.
#[derive(Clone, Default)]
pub struct DaemonSetController {
    expectations: BTreeMap<String, Expectations>,
}

fn toleration(key: &str, effect: &str) -> Toleration {
    Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    }
}

/// `AddOrUpdateDaemonPodTolerations`: what every daemon pod tolerates.
pub fn daemon_tolerations(spec: &k8s_openapi::api::core::v1::PodSpec) -> Vec<Toleration> {
    let mut want = vec![
        toleration("node.kubernetes.io/not-ready", "NoExecute"),
        toleration("node.kubernetes.io/unreachable", "NoExecute"),
        toleration("node.kubernetes.io/disk-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/memory-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/pid-pressure", "NoSchedule"),
        toleration("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        want.push(toleration(
            "node.kubernetes.io/network-unavailable",
            "NoSchedule",
        ));
    }
    let mut out = spec.tolerations.clone().unwrap_or_default();
    for t in want {
        // `AddOrUpdateTolerationInPod`: replace one with the same key and
        // effect, else append.
        match out
            .iter_mut()
            .find(|x| x.key == t.key && x.effect == t.effect)
        {
            Some(x) => *x = t,
            None => out.push(t),
        }
    }
    out
}

/// `NodeShouldRunDaemonPod`: (should run, should continue running).
pub fn node_should_run(template: &PodTemplateSpec, node: &Node) -> (bool, bool) {
    let Some(spec) = template.spec.as_ref() else {
        return (false, false);
    };
    let name = node.metadata.name.as_deref().unwrap_or_default();
    if spec
        .node_name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != name)
    {
        return (false, false);
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    if !RequiredNodeAffinity::of_parts(spec.node_selector.as_ref(), spec.affinity.as_ref())
        .matches(name, &labels)
    {
        return (false, false);
    }
    let tolerations = daemon_tolerations(spec);
    let taints: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let untolerated = |effects: &[&str]| {
        taints
            .iter()
            .filter(|t| effects.contains(&t.effect.as_str()))
            .any(|t| !tolerations_tolerate(&tolerations, t))
    };
    if untolerated(&["NoSchedule", "NoExecute"]) {
        // Scheduled daemon pods keep running if they tolerate NoExecute.
        return (false, !untolerated(&["NoExecute"]));
    }
    (true, true)
}

/// The node a daemon pod is for: its `nodeName`, else the one its node
/// affinity pins (`util.GetTargetNodeName`).
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.clone().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

/// `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node affinity
/// becomes one term matching the node's name.
fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let mut a = affinity.unwrap_or_default();
    let na = a.node_affinity.get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![NodeSelectorTerm {
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.into()]),
            }]),
            match_expressions: None,
        }],
    });
    a
}

/// The template's revision hash (`controller-revision-hash`).
pub fn revision_hash(ds: &DaemonSet, collision_count: Option<i32>) -> String {
    compute_hash(&ds.spec.template, collision_count)
}

fn max_unavailable(ds: &DaemonSet, desired: i32) -> i32 {
    let v = ds
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.clone())
        .unwrap_or(IntOrString::Int(1));
    let n = match v {
        IntOrString::Int(n) => n,
        IntOrString::String(s) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            // Percentages round up for maxUnavailable of DaemonSets.
            ((pct * i64::from(desired) + 99) / 100) as i32
        }
    };
    // A zero maxUnavailable (with maxSurge 0, rejected by validation)
    // still lets the update progress.
    n.max(1)
}

fn pod_phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

impl DaemonSetController {
    fn owner_key(pod: &Object) -> Option<String> {
        let r = pod.controller_ref()?;
        (r.kind == "DaemonSet")
            .then(|| format!("{}/{}", pod.namespace().unwrap_or_default(), r.name))
    }

    fn expect(&mut self, key: &str) -> &mut Expectations {
        self.expectations.entry(key.to_string()).or_default()
    }

    /// `constructHistory` and `cleanupHistory`: the revision of the current
    /// template exists and is the newest; revisions of templates no live
    /// pod runs go beyond `revisionHistoryLimit`, oldest first.
    fn construct_history(
        ctx: &mut Reconcile<'_, '_>,
        ds_obj: &Object,
        ds: &DaemonSet,
        hash: &str,
        live: &[String],
    ) {
        let ns = ds_obj.namespace().unwrap_or("default").to_string();
        let revisions = history::claimed_revisions(ctx, ds_obj);
        let data = history::template_patch(&ds.spec.template);
        let (cur, old): (Vec<_>, Vec<_>) =
            revisions.iter().cloned().partition(|r| r.data.0 == data);
        let next = history::next_revision(&old);
        match cur.last() {
            None => {
                let labels = ds
                    .spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.as_ref());
                let r =
                    history::new_revision(ds_obj, labels, data, hash, REVISION_HASH_LABEL, next);
                ctx.write(
                    ApiRequest::new(Verb::Create, KindId::ControllerRevision, Credential::None)
                        .in_namespace(&ns)
                        .with_body(Object::ControllerRevision(Box::new(r))),
                );
            }
            Some(c) if c.revision.unwrap_or(0) < next => {
                let mut r = c.clone();
                r.revision = Some(next);
                ctx.write(
                    ApiRequest::new(Verb::Update, KindId::ControllerRevision, Credential::None)
                        .in_namespace(&ns)
                        .named(r.metadata.name.clone().unwrap_or_default())
                        .with_body(Object::ControllerRevision(Box::new(r))),
                );
            }
            Some(_) => {}
        }
        let mut keep = live.to_vec();
        keep.extend(cur.iter().filter_map(|r| r.metadata.name.clone()));
        let limit = ds
            .spec
            .revision_history_limit
            .unwrap_or(history::DEFAULT_REVISION_HISTORY_LIMIT);
        for r in history::to_truncate(&old, &keep, limit) {
            ctx.write(
                ApiRequest::new(Verb::Delete, KindId::ControllerRevision, Credential::None)
                    .in_namespace(&ns)
                    .named(r.metadata.name.clone().unwrap_or_default()),
            );
        }
    }

    fn new_pod(ds_obj: &Object, ds: &DaemonSet, node: &str, hash: &str) -> Pod {
        let mut template = ds.spec.template.clone();
        let meta = template.metadata.get_or_insert_with(Default::default);
        let labels = meta.labels.get_or_insert_with(Default::default);
        labels.insert(REVISION_HASH_LABEL.into(), hash.into());
        labels.insert(
            TEMPLATE_GENERATION_LABEL.into(),
            ds_obj.generation().unwrap_or(1).to_string(),
        );
        if let Some(spec) = template.spec.as_mut() {
            spec.tolerations = Some(daemon_tolerations(spec));
            spec.affinity = Some(pin_to_node(spec.affinity.clone(), node));
        }
        pod_from_template(&template, ds_obj, format!("{}-", ds_obj.name()))
    }
}

impl Controller for DaemonSetController {
    fn name(&self) -> &'static str {
        "daemon-set-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![
            KindId::DaemonSet,
            KindId::Pod,
            KindId::Node,
            KindId::ControllerRevision,
        ]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::DaemonSet, n) => n.key().into_iter().collect(),
            (KindId::Node, _) => {
                // A node came, went or changed labels or taints: every
                // DaemonSet looks again (`addNode`, `updateNode`).
                caches
                    .list(KindId::DaemonSet)
                    .iter()
                    .map(|d| d.key())
                    .collect()
            }
            // `addPod`: an orphan goes to every DaemonSet matching it.
            (KindId::Pod, Notification::Add(pod)) if pod.controller_ref().is_none() => {
                controllerref::adopter_keys(caches, KindId::DaemonSet, n)
            }
            (KindId::Pod, Notification::Add(pod)) => {
                let key = Self::owner_key(pod);
                if let Some(k) = &key {
                    if pod.deletion_timestamp().is_none() {
                        self.expect(k).add -= 1;
                    }
                }
                key.into_iter().collect()
            }
            (KindId::Pod, Notification::Update { old, new }) => {
                let mut keys: Vec<String> = Self::owner_key(new).into_iter().collect();
                if old.deletion_timestamp().is_none() && new.deletion_timestamp().is_some() {
                    if let Some(k) = keys.first().cloned() {
                        self.expect(&k).del -= 1;
                    }
                }
                if let Some(k) = Self::owner_key(old) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                // `updatePod`: an orphan may now be a DaemonSet's to adopt.
                for k in controllerref::adopter_keys(caches, KindId::DaemonSet, n) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys
            }
            (KindId::Pod, Notification::Delete { object, .. }) => {
                let key = Self::owner_key(object);
                if let Some(k) = &key {
                    if object.deletion_timestamp().is_none() {
                        self.expect(k).del -= 1;
                    }
                }
                key.into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::DaemonSet, key).cloned() else {
            self.expectations.remove(key);
            return Requeue::Done;
        };
        let Object::DaemonSet(ds) = &*object else {
            return Requeue::Done;
        };
        let ns = object.namespace().unwrap_or("default").to_string();
        let hash = revision_hash(
            ds,
            ds.status
                .as_ref()
                .and_then(|s| s.collision_count)
                .filter(|c| *c != 0),
        );
        // `getDaemonPods`: the namespace's pods, claimed.
        let candidates = ctx.caches.list_in(KindId::Pod, &ns);
        let owned = controllerref::claim_all(ctx, &object, Some(&ds.spec.selector), candidates);
        if object.deletion_timestamp().is_none() {
            let live: Vec<String> = owned
                .iter()
                .filter(|p| p.deletion_timestamp().is_none())
                .filter_map(|p| p.labels().get(REVISION_HASH_LABEL))
                .map(|h| format!("{}-{h}", object.name()))
                .collect();
            Self::construct_history(ctx, &object, ds, &hash, &live);
        }
        // `getNodesToDaemonPods`: the pods not being deleted, by node.
        let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
        for p in &owned {
            if let Object::Pod(pod) = &**p {
                if pod.metadata.deletion_timestamp.is_none() {
                    if let Some(n) = target_node(pod) {
                        by_node.entry(n).or_default().push(pod);
                    }
                }
            }
        }
        for pods in by_node.values_mut() {
            pods.sort_by_key(|p| {
                (
                    p.metadata
                        .creation_timestamp
                        .as_ref()
                        .map(to_sim_time)
                        .unwrap_or(SimTime::ZERO),
                    p.metadata.name.clone(),
                )
            });
        }
        let nodes: Vec<Node> = ctx
            .caches
            .list(KindId::Node)
            .iter()
            .filter_map(|n| match &**n {
                Object::Node(n) => Some((**n).clone()),
                _ => None,
            })
            .collect();
        let satisfied = self
            .expectations
            .get(key)
            .is_none_or(|e| e.add <= 0 && e.del <= 0);
        let deleting = object.deletion_timestamp().is_some();
        let mut to_create: Vec<String> = Vec::new();
        let mut to_delete: Vec<String> = Vec::new();
        let (mut desired, mut current, mut misscheduled) = (0, 0, 0);
        let (mut ready, mut available, mut updated) = (0, 0, 0);
        let mut should_run_nodes: Vec<String> = Vec::new();
        for node in &nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            let (run, keep) = node_should_run(&ds.spec.template, node);
            let pods = by_node.get(&name).cloned().unwrap_or_default();
            if run {
                desired += 1;
                should_run_nodes.push(name.clone());
                if !pods.is_empty() {
                    current += 1;
                    let p = pods[0];
                    if is_ready(p) {
                        ready += 1;
                        available += 1;
                    }
                    if p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(REVISION_HASH_LABEL))
                        == Some(&hash)
                    {
                        updated += 1;
                    }
                }
            } else if !pods.is_empty() {
                misscheduled += 1;
            }
            // `podsShouldBeOnNode`.
            if run && pods.is_empty() {
                to_create.push(name.clone());
            } else if run || keep {
                // Failed pods are deleted (and replaced on a later sync);
                // of several running pods the oldest stays.
                let mut kept = false;
                for p in &pods {
                    if pod_phase(p) == "Failed" || kept {
                        to_delete.push(p.metadata.name.clone().unwrap_or_default());
                    } else {
                        kept = true;
                    }
                }
            } else {
                for p in &pods {
                    to_delete.push(p.metadata.name.clone().unwrap_or_default());
                }
            }
        }
        // Pods pinned to nodes that no longer exist.
        for (node, pods) in &by_node {
            if !nodes.iter().any(|n| n.metadata.name.as_ref() == Some(node)) {
                misscheduled += 1;
                to_delete.extend(pods.iter().filter_map(|p| p.metadata.name.clone()));
            }
        }
        // `rollingUpdate`: old pods go while few enough nodes lack an
        // available pod.
        let rolling = ds
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        if rolling && satisfied && !deleting && to_create.is_empty() && to_delete.is_empty() {
            let max = max_unavailable(ds, desired);
            let mut unavailable = 0;
            let mut old_available = Vec::new();
            let mut old_unavailable = Vec::new();
            for node in &should_run_nodes {
                let Some(pods) = by_node.get(node) else {
                    unavailable += 1;
                    continue;
                };
                let p = pods[0];
                let is_new = p
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(REVISION_HASH_LABEL))
                    == Some(&hash);
                if !is_ready(p) {
                    unavailable += 1;
                }
                if !is_new {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    if is_ready(p) {
                        old_available.push(name);
                    } else {
                        old_unavailable.push(name);
                    }
                }
            }
            to_delete.extend(old_unavailable);
            for name in old_available {
                if unavailable >= max {
                    break;
                }
                unavailable += 1;
                to_delete.push(name);
            }
        }
        if satisfied && !deleting {
            let e = self.expect(key);
            e.add = to_create.len() as i64;
            e.del = to_delete.len() as i64;
            for node in &to_create {
                let pod = Self::new_pod(&object, ds, node, &hash);
                ctx.write(
                    ApiRequest::new(Verb::Create, KindId::Pod, Credential::None)
                        .in_namespace(&ns)
                        .with_body(Object::Pod(Box::new(pod))),
                );
            }
            for name in &to_delete {
                ctx.write(
                    ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
                        .in_namespace(&ns)
                        .named(name.clone()),
                );
                ctx.event(
                    &object,
                    "Normal",
                    "SuccessfulDelete",
                    format!("Deleted pod: {name}"),
                );
            }
        }
        // `updateDaemonSetStatus`.
        let old = ds.status.clone().unwrap_or_default();
        let status = DaemonSetStatus {
            desired_number_scheduled: desired,
            current_number_scheduled: current,
            number_misscheduled: misscheduled,
            number_ready: ready,
            updated_number_scheduled: Some(updated),
            number_available: Some(available),
            number_unavailable: Some(desired - available).filter(|n| *n > 0),
            observed_generation: object.generation(),
            ..old.clone()
        };
        if status != old || ds.status.is_none() {
            let mut next = ds.clone();
            next.metadata.resource_version = None;
            next.status = Some(status);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::DaemonSet, Credential::None)
                    .in_namespace(&ns)
                    .named(object.name())
                    .with_subresource("status")
                    .with_body(Object::DaemonSet(next)),
            );
        }
        Requeue::Done
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        let reply = super::pod_reply(request, response);
        if reply.create_failed {
            self.expect(key).add -= 1;
        }
        if reply.delete_failed {
            self.expect(key).del -= 1;
        }
        reply.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn ds(tolerations: &str) -> Object {
        object(&format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  namespace: default\n  uid: ds-uid\n  generation: 1\nspec:\n  selector:\n    matchLabels: {{app: agent}}\n  template:\n    metadata:\n      labels: {{app: agent}}\n    spec:\n{tolerations}      containers:\n      - name: c\n        image: nginx\n"
        ))
    }

    fn node(name: &str, taint: Option<&str>) -> Object {
        let taints = taint
            .map(|t| format!("spec:\n  taints:\n  - key: {t}\n    effect: NoSchedule\n"))
            .unwrap_or_default();
        object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: {name}\n{taints}"
        ))
    }

    fn created_nodes(writes: &[ApiRequest]) -> Vec<String> {
        writes
            .iter()
            .filter(|w| w.verb == Verb::Create)
            .filter_map(|w| match w.body.as_deref() {
                Some(Object::Pod(p)) => target_node(p),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_daemon_pod_goes_to_each_untainted_node_pinned_by_node_affinity() {
        let mut c = DaemonSetController::default();
        let objects = [
            ds(""),
            node("cp", Some("node-role.kubernetes.io/control-plane")),
            node("w1", None),
            node("w2", None),
        ];
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/agent");
        assert_eq!(created_nodes(&writes), vec!["w1", "w2"]);
        let pod = writes
            .iter()
            .find(|w| w.verb == Verb::Create && w.kind == KindId::Pod)
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        let spec = &pod["spec"];
        assert!(spec.get("nodeName").is_none(), "the scheduler binds it");
        assert_eq!(
            spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                ["nodeSelectorTerms"][0]["matchFields"][0]["key"],
            "metadata.name"
        );
        let tolerated: Vec<String> = spec["tolerations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| {
                format!(
                    "{}:{}",
                    t["key"].as_str().unwrap_or(""),
                    t["effect"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert!(tolerated.contains(&"node.kubernetes.io/unreachable:NoExecute".to_string()));
        assert!(tolerated.contains(&"node.kubernetes.io/unschedulable:NoSchedule".to_string()));
        assert!(pod["metadata"]["labels"].get(REVISION_HASH_LABEL).is_some());
    }

    #[test]
    fn a_toleration_of_the_control_plane_taint_puts_a_pod_there_too() {
        let mut c = DaemonSetController::default();
        let objects = [
            ds("      tolerations:\n      - key: node-role.kubernetes.io/control-plane\n        operator: Exists\n        effect: NoSchedule\n"),
            node("cp", Some("node-role.kubernetes.io/control-plane")),
            node("w1", None),
        ];
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/agent");
        assert_eq!(created_nodes(&writes), vec!["cp", "w1"]);
    }

    #[test]
    fn a_node_selector_limits_the_nodes() {
        let template = object("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: a\nspec:\n  selector:\n    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: a}\n    spec:\n      nodeSelector:\n        disk: ssd\n      containers:\n      - name: c\n        image: nginx\n");
        let Object::DaemonSet(d) = template else {
            panic!("a DaemonSet");
        };
        let Object::Node(plain) = node("w1", None) else {
            panic!("a node");
        };
        assert_eq!(node_should_run(&d.spec.template, &plain), (false, false));
        let mut ssd = plain.clone();
        ssd.metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert("disk".into(), "ssd".into());
        assert_eq!(node_should_run(&d.spec.template, &ssd), (true, true));
    }
}
