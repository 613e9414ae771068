//! The ReplicaSet controller: keeps `spec.replicas` pods matching the
//! ReplicaSet's selector running.
//!
//! Ported from `pkg/controller/replicaset/replica_set.go` (`syncReplicaSet`,
//! `manageReplicas`, `getPodsToDelete`) and `replica_set_utils.go`
//! (`calculateStatus`). On each sync it claims the pods the ReplicaSet
//! controls (its controllerRef), counts the active ones (not terminal, not
//! being deleted), creates pods from the template or deletes surplus ones,
//! and writes the status. Creations go in slow-start batches (1, 2, 4, ...,
//! at most 500 per sync, `burstReplicas`), and the controller's
//! *expectations* (`controller_utils.go`, `ControllerExpectations`) keep
//! it from acting again on a ReplicaSet until its informer has seen the
//! pods it created or deleted, so it never double-creates.
//!
//! Before counting, it claims pods as `ClaimPods` does (see
//! `controllerref`): orphans its selector matches are adopted, and pods it
//! owns whose labels no longer match are released.
//!
//! Left out: the expectations' 5-minute timeout, and `minReadySeconds`
//! other than 0.

use super::controllerref;
use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;
use std::rc::Rc;

/// `burstReplicas`: the most pods created or deleted in one sync.
pub const BURST_REPLICAS: usize = 500;
/// `SlowStartInitialBatchSize`.
const SLOW_START_INITIAL_BATCH: usize = 1;

/// Creations and deletions the controller waits to see (per ReplicaSet key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expectations {
    add: i64,
    del: i64,
}

impl Expectations {
    fn satisfied(&self) -> bool {
        self.add <= 0 && self.del <= 0
    }
}

/// The ReplicaSet controller.
#[derive(Clone, Default)]
pub struct ReplicaSetController {
    expectations: BTreeMap<String, Expectations>,
}

/// Whether a pod counts towards replicas (`controller.FilterActivePods`).
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    !matches!(phase, Some("Succeeded") | Some("Failed"))
        && pod.metadata.deletion_timestamp.is_none()
}

/// Whether a pod's Ready condition is True (`podutil.IsPodReady`).
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The pods of `namespace` whose controllerRef is the object with `uid`.
pub fn owned_pods(caches: Caches<'_>, namespace: &str, uid: &str) -> Vec<Rc<Object>> {
    caches
        .list_in(KindId::Pod, namespace)
        .into_iter()
        .filter(|p| p.controller_ref().is_some_and(|r| r.uid == uid))
        .collect()
}

/// The owner reference a controller puts on what it creates.
pub fn controller_ref(owner: &Object) -> OwnerReference {
    let kind = owner.kind();
    OwnerReference {
        api_version: kind.api_version(),
        kind: kind.kind.to_string(),
        name: owner.name().to_string(),
        uid: owner.uid().unwrap_or_default().to_string(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A pod from a template (`controller.GetPodFromTemplate`).
pub fn pod_from_template(
    template: &k8s_openapi::api::core::v1::PodTemplateSpec,
    owner: &Object,
    generate_name: String,
) -> Pod {
    let mut pod = Pod::default();
    let meta = template.metadata.clone().unwrap_or_default();
    pod.metadata.labels = meta.labels.map(Into::into);
    pod.metadata.annotations = meta.annotations;
    pod.metadata.finalizers = meta.finalizers;
    pod.metadata.generate_name = Some(generate_name);
    pod.metadata.namespace = owner.namespace().map(str::to_string);
    pod.metadata.owner_references = Some(vec![controller_ref(owner)].into());
    pod.spec = template.spec.clone().map(Into::into);
    pod
}

/// The rank used to pick pods to delete: lower goes first
/// (`controller.ActivePodsWithRanks` ordering, simplified): unscheduled
/// before scheduled, pending before running, not ready before ready, newer
/// before older.
fn deletion_rank(pod: &Pod) -> (u8, u8, u8, std::cmp::Reverse<String>) {
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_some();
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    let phase_rank = match phase {
        "Pending" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    let created = pod
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .unwrap_or_default();
    (
        u8::from(scheduled),
        phase_rank,
        u8::from(is_ready(pod)),
        std::cmp::Reverse(created),
    )
}

impl ReplicaSetController {
    fn expect(&mut self, key: &str) -> &mut Expectations {
        self.expectations.entry(key.to_string()).or_default()
    }

    fn owner_key(pod: &Object) -> Option<String> {
        let r = pod.controller_ref()?;
        (r.kind == "ReplicaSet")
            .then(|| format!("{}/{}", pod.namespace().unwrap_or_default(), r.name))
    }
}

impl Controller for ReplicaSetController {
    fn name(&self) -> &'static str {
        "replicaset-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::ReplicaSet, KindId::Pod]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::ReplicaSet, n) => n.key().into_iter().collect(),
            // `addPod`: an orphan goes to every ReplicaSet that matches it.
            (KindId::Pod, Notification::Add(pod)) if pod.controller_ref().is_none() => {
                controllerref::adopter_keys(caches, KindId::ReplicaSet, n)
            }
            (KindId::Pod, Notification::Add(pod)) => {
                let key = Self::owner_key(pod);
                if let Some(k) = &key {
                    // `addPod`: a creation the controller expected.
                    if pod.deletion_timestamp().is_none() {
                        let e = self.expect(k);
                        e.add -= 1;
                    }
                }
                key.into_iter().collect()
            }
            (KindId::Pod, Notification::Update { old, new }) => {
                let mut keys: Vec<String> = Self::owner_key(new).into_iter().collect();
                if old.deletion_timestamp().is_none() && new.deletion_timestamp().is_some() {
                    // `updatePod`: a graceful deletion counts as deleted.
                    if let Some(k) = keys.first().cloned() {
                        self.expect(&k).del -= 1;
                    }
                }
                if let Some(k) = Self::owner_key(old) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                // `updatePod`: an orphan may now be someone's to adopt.
                for k in controllerref::adopter_keys(caches, KindId::ReplicaSet, n) {
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
        let Some(object) = ctx.caches.get(KindId::ReplicaSet, key).cloned() else {
            self.expectations.remove(key);
            return Requeue::Done;
        };
        let Object::ReplicaSet(rs) = &*object else {
            return Requeue::Done;
        };
        let ns = object.namespace().unwrap_or("default").to_string();
        // `syncReplicaSet`: every active pod of the namespace, claimed.
        let selector = Some(&rs.spec.selector);
        let candidates: Vec<Rc<Object>> = ctx
            .caches
            .list_in(KindId::Pod, &ns)
            .into_iter()
            .filter(|p| matches!(&**p, Object::Pod(pod) if is_active(pod)))
            .collect();
        let pods = controllerref::claim_all(ctx, &object, selector, candidates);
        let active: Vec<&Pod> = pods
            .iter()
            .filter_map(|p| match &**p {
                Object::Pod(pod) => Some(&**pod),
                _ => None,
            })
            .collect();
        let spec = rs.spec.clone();
        let want = spec.replicas.unwrap_or(1).max(0) as usize;
        let satisfied = self
            .expectations
            .get(key)
            .is_none_or(Expectations::satisfied);
        if satisfied && object.deletion_timestamp().is_none() {
            if active.len() < want {
                let diff = (want - active.len()).min(BURST_REPLICAS);
                // `slowStartBatch`: 1, 2, 4, ... until one fails; here every
                // batch is sent at once, as all succeed or fail together.
                let mut batch = SLOW_START_INITIAL_BATCH;
                let mut created = 0;
                while created < diff {
                    batch = batch.min(diff - created);
                    created += batch;
                    batch *= 2;
                }
                self.expect(key).add = created as i64;
                if let Some(template) = &spec.template {
                    for _ in 0..created {
                        let pod =
                            pod_from_template(template, &object, format!("{}-", object.name()));
                        ctx.write(
                            ApiRequest::new(Verb::Create, KindId::Pod, Credential::None)
                                .in_namespace(&ns)
                                .with_body(Object::Pod(Box::new(pod))),
                        );
                    }
                }
            } else if active.len() > want {
                let diff = (active.len() - want).min(BURST_REPLICAS);
                let mut ranked = active.clone();
                ranked.sort_by_key(|p| deletion_rank(p));
                self.expect(key).del = diff as i64;
                for pod in ranked.into_iter().take(diff) {
                    let name = pod.metadata.name.clone().unwrap_or_default();
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
        }
        // `calculateStatus`.
        let template_labels = spec
            .template
            .as_ref()
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let fully_labeled = active
            .iter()
            .filter(|p| {
                let labels = p.metadata.labels.clone().unwrap_or_default();
                template_labels
                    .iter()
                    .all(|(k, v)| labels.get(k) == Some(v))
            })
            .count();
        let ready = active.iter().filter(|p| is_ready(p)).count();
        let status = ReplicaSetStatus {
            replicas: active.len() as i32,
            fully_labeled_replicas: Some(fully_labeled as i32),
            ready_replicas: Some(ready as i32),
            available_replicas: Some(ready as i32),
            observed_generation: object.generation(),
            ..rs.status.clone().unwrap_or_default()
        };
        if rs.status.as_ref() != Some(&status) {
            let mut next: ReplicaSet = *(rs.clone());
            next.metadata.resource_version = None;
            next.status = Some(status);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::ReplicaSet, Credential::None)
                    .in_namespace(&ns)
                    .named(object.name())
                    .with_subresource("status")
                    .with_body(Object::ReplicaSet(Box::new(next))),
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

/// Matches a label selector against labels (the `matchLabels` and
/// `matchExpressions` of a `LabelSelector`).
pub fn selector_matches(
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    labels: crate::api::labels::LabelsRef<'_>,
) -> bool {
    let labels_match = selector
        .match_labels
        .as_ref()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let expressions_match = selector.match_expressions.as_ref().is_none_or(|es| {
        es.iter().all(|e| {
            let values = e.values.clone().unwrap_or_default();
            match e.operator.as_str() {
                "In" => labels.get(&e.key).is_some_and(|v| values.contains(v)),
                "NotIn" => labels.get(&e.key).is_none_or(|v| !values.contains(v)),
                "Exists" => labels.contains_key(&e.key),
                "DoesNotExist" => !labels.contains_key(&e.key),
                _ => false,
            }
        })
    });
    labels_match && expressions_match
}
