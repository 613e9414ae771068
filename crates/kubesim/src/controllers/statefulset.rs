//! The StatefulSet controller: pods with a stable identity (`<set>-0` ..
//! `<set>-N-1`), created, scaled and updated in ordinal order.
//!
//! Ported from `pkg/controller/statefulset/stateful_set_control.go`
//! (`updateStatefulSet`, `processReplica`, `processCondemned`,
//! `computeReplicaStatus`, `completeRollingUpdate`) and
//! `stateful_set_utils.go` (`newVersionedStatefulSetPod`,
//! `initIdentity`, `updateStorage`, `isRunningAndAvailable`). Each pod is
//! named `<set>-<ordinal>`, labelled `statefulset.kubernetes.io/pod-name`,
//! `apps.kubernetes.io/pod-index` and `controller-revision-hash`, and gets
//! `hostname: <pod name>` and `subdomain: <serviceName>`, so with the
//! governing headless Service it resolves as
//! `<pod>.<service>.<namespace>.svc.cluster.local`. With `OrderedReady`
//! (the default) the controller creates one pod at a time and only once
//! every lower ordinal is Running and Ready (and available for
//! `minReadySeconds`), stops at a terminating or unhealthy pod, and scales
//! down from the highest ordinal, one at a time; `Parallel` creates and
//! deletes without waiting. A `RollingUpdate` replaces pods from the
//! highest ordinal down to the `partition`, one at a time, each once the
//! ones above are healthy again; `currentRevision` becomes the
//! `updateRevision` when every pod is updated and ready. A pod that is
//! still terminating keeps its identity: the replacement comes only after
//! the old pod is gone (so a pod stuck on a powered-off node blocks its
//! ordinal, as upstream, until it is force-deleted).
//!
//! The history lives in ControllerRevisions (see [`super::history`],
//! `getStatefulSetRevisions`, `truncateHistory`): the update revision is the
//! revision holding the current template (created, or renumbered when the
//! template returns to an older one, as `kubectl rollout undo` does), the
//! current revision the one `status.currentRevision` names, each pod is
//! labelled with its revision's name, a pod below the partition is
//! recreated from the current revision's template, and revisions no pod
//! uses are deleted beyond `revisionHistoryLimit`.
//!
//! Left out: PersistentVolumeClaims. The pods get a `persistentVolumeClaim`
//! volume per `volumeClaimTemplates` entry (`<template>-<pod>`), as
//! upstream, but the claims are not created (the simulation has no
//! storage), so the volumes behave as empty directories. Also left out:
//! `ordinals.start`, `maxUnavailable` for rolling updates,
//! `OnDelete` beyond not replacing pods, adoption of orphaned
//! ControllerRevisions, and the identity and storage repairs of existing
//! pods. Orphaned pods whose names make them members are adopted and pods
//! the selector no longer matches are released (see `controllerref`), as
//! the docs' StatefulSet tutorial shows after `--cascade=orphan`.

use super::controllerref;
use super::history;
use super::replicaset::{controller_ref, is_ready};
use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::time::to_sim_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaimVolumeSource, Volume};
use std::collections::BTreeMap;

/// The label with the pod's stable name.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label with the pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The label with the revision the pod came from.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// The StatefulSet controller.
#[derive(Clone, Default)]
pub struct StatefulSetController {
    /// Pods created or deleted and not yet seen (per set key).
    pending: BTreeMap<String, i64>,
}

/// The ordinal of `<set>-<ordinal>`.
pub fn ordinal(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

/// The name of the revision holding the set's template: `<set>-<hash>`
/// of the revision's data (`HashControllerRevision`).
pub fn update_revision(set: &StatefulSet) -> String {
    format!(
        "{}-{}",
        set.metadata.name.as_deref().unwrap_or_default(),
        history::hash_data(
            &history::template_patch(&set.spec.template),
            set.status.as_ref().and_then(|s| s.collision_count)
        )
    )
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn terminating(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_some()
}

fn running_and_ready(p: &Pod) -> bool {
    phase(p) == "Running" && is_ready(p)
}

/// When the pod became Ready, if it is.
fn ready_since(p: &Pod) -> Option<SimTime> {
    p.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(to_sim_time)
}

/// `isRunningAndAvailable`: how long until the pod counts as available
/// (`Some(0)` once it does), `None` if not running and ready.
fn available_in(p: &Pod, min_ready: i32, now: SimTime) -> Option<SimDuration> {
    if !running_and_ready(p) {
        return None;
    }
    if min_ready <= 0 {
        return Some(SimDuration::ZERO);
    }
    let since = ready_since(p).unwrap_or(SimTime::ZERO);
    let at = since + SimDuration::from_secs(min_ready as u64);
    Some(at.saturating_since(now))
}

fn revision_of(p: &Pod) -> Option<&str> {
    p.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
}

/// `newVersionedStatefulSetPod`: the pod of one ordinal.
pub fn new_pod(set_obj: &Object, set: &StatefulSet, ord: i32, revision: &str) -> Pod {
    let name = format!("{}-{ord}", set_obj.name());
    let template = &set.spec.template;
    let mut pod = Pod::default();
    let meta = template.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ord.to_string());
    labels.insert(REVISION_LABEL.into(), revision.into());
    pod.metadata.name = Some(name.clone());
    pod.metadata.namespace = set_obj.namespace().map(str::to_string);
    pod.metadata.labels = Some(labels.into());
    pod.metadata.annotations = meta.annotations;
    pod.metadata.owner_references = Some(vec![controller_ref(set_obj)].into());
    let mut spec = template.spec.clone().unwrap_or_default();
    // `initIdentity`.
    spec.hostname = Some(name.clone());
    spec.subdomain = set.spec.service_name.clone().filter(|s| !s.is_empty());
    // `updateStorage`: a claim per template, replacing a volume of the same
    // name.
    for claim in set.spec.volume_claim_templates.iter().flatten() {
        let vname = claim.metadata.name.clone().unwrap_or_default();
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|v| v.name != vname);
        volumes.push(Volume {
            name: vname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: format!("{vname}-{name}"),
                read_only: None,
            }),
            ..Default::default()
        });
    }
    pod.spec = Some(spec.into());
    pod
}

impl StatefulSetController {
    fn owner_key(pod: &Object) -> Option<String> {
        let r = pod.controller_ref()?;
        (r.kind == "StatefulSet")
            .then(|| format!("{}/{}", pod.namespace().unwrap_or_default(), r.name))
    }

    fn delete(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str, set: &Object, pod: &Pod) {
        let name = pod.metadata.name.clone().unwrap_or_default();
        *self.pending.entry(key.to_string()).or_default() += 1;
        ctx.write(
            ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
                .in_namespace(set.namespace().unwrap_or("default"))
                .named(name.clone()),
        );
        ctx.event(
            set,
            "Normal",
            "SuccessfulDelete",
            format!("delete Pod {name} in StatefulSet {} successful", set.name()),
        );
    }

    fn create(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str, set: &Object, pod: Pod) {
        *self.pending.entry(key.to_string()).or_default() += 1;
        ctx.write(
            ApiRequest::new(Verb::Create, KindId::Pod, Credential::None)
                .in_namespace(set.namespace().unwrap_or("default"))
                .with_body(Object::Pod(Box::new(pod))),
        );
    }

    /// `updateStatefulSet`'s pod management: returns how long to wait for
    /// a pod to become available, if that is what stops it.
    #[allow(clippy::too_many_arguments)]
    fn manage(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        key: &str,
        set_obj: &Object,
        set: &StatefulSet,
        replicas: &[Option<&Pod>],
        condemned: &[&Pod],
        update_rev: &str,
        current: Option<(&str, &StatefulSet)>,
    ) -> Option<SimDuration> {
        let monotonic = set.spec.pod_management_policy.as_deref() != Some("Parallel");
        let min_ready = set.spec.min_ready_seconds.unwrap_or(0);
        let now = ctx.now;
        // The first unhealthy pod: the lowest replica, else the highest
        // condemned one.
        let unhealthy = |p: &&&Pod| !running_and_ready(p) || terminating(p);
        let first_unhealthy = replicas
            .iter()
            .flatten()
            .find(unhealthy)
            .or_else(|| condemned.iter().rev().find(unhealthy))
            .and_then(|p| p.metadata.name.clone());
        let strategy = set.spec.update_strategy.as_ref();
        let partition = strategy
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .unwrap_or(0)
            .max(0) as usize;
        let rolling = strategy.and_then(|u| u.type_.as_deref()) != Some("OnDelete");
        // `processReplica`, in ordinal order.
        for (ord, slot) in replicas.iter().enumerate() {
            match slot {
                None => {
                    // `newVersionedStatefulSetPod`: below the partition a
                    // pod comes back at the current revision.
                    let pod = match current {
                        Some((rev, current_set)) if rolling && ord < partition => {
                            new_pod(set_obj, current_set, ord as i32, rev)
                        }
                        _ => new_pod(set_obj, set, ord as i32, update_rev),
                    };
                    self.create(ctx, key, set_obj, pod);
                    if monotonic {
                        return None;
                    }
                }
                Some(p) => {
                    if matches!(phase(p), "Failed" | "Succeeded") && !terminating(p) {
                        // A terminal pod is deleted and recreated.
                        self.delete(ctx, key, set_obj, p);
                        if monotonic {
                            return None;
                        }
                        continue;
                    }
                    if monotonic {
                        if terminating(p) {
                            return None;
                        }
                        match available_in(p, min_ready, now) {
                            None => return None,
                            Some(d) if d > SimDuration::ZERO => return Some(d),
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        // `processCondemned`, highest ordinal first.
        for p in condemned.iter().rev() {
            if terminating(p) {
                if monotonic {
                    return None;
                }
                continue;
            }
            if monotonic && !running_and_ready(p) && p.metadata.name != first_unhealthy {
                return None;
            }
            self.delete(ctx, key, set_obj, p);
            if monotonic {
                return None;
            }
        }
        // The rolling update, from the highest ordinal to the partition.
        if !rolling {
            return None;
        }
        for ord in (partition..replicas.len()).rev() {
            let p = replicas[ord]?;
            if revision_of(p) != Some(update_rev) && !terminating(p) {
                self.delete(ctx, key, set_obj, p);
                return None;
            }
            if terminating(p) || !running_and_ready(p) {
                return None;
            }
        }
        None
    }
}

impl Controller for StatefulSetController {
    fn name(&self) -> &'static str {
        "statefulset-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::StatefulSet, KindId::Pod, KindId::ControllerRevision]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::StatefulSet, n) => n.key().into_iter().collect(),
            (KindId::Pod, Notification::Update { old, new }) => {
                let mut keys: Vec<String> = Self::owner_key(new).into_iter().collect();
                // `updatePod`: an orphan may now be a set's to adopt.
                for k in controllerref::adopter_keys(caches, KindId::StatefulSet, n) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                if old.deletion_timestamp().is_none() && new.deletion_timestamp().is_some() {
                    if let Some(k) = keys.first() {
                        self.seen(k);
                    }
                }
                if let Some(k) = Self::owner_key(old) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys
            }
            (KindId::Pod, Notification::Add(object))
            | (KindId::Pod, Notification::Delete { object, .. }) => {
                let key = Self::owner_key(object);
                if let Some(k) = &key {
                    // A creation seen, or a deletion never seen terminating.
                    let counts =
                        matches!(n, Notification::Add(_)) || object.deletion_timestamp().is_none();
                    if counts {
                        self.seen(k);
                    }
                }
                let mut keys: Vec<String> = key.into_iter().collect();
                if matches!(n, Notification::Add(_)) {
                    // `addPod`: an orphan goes to every set matching it.
                    keys.extend(controllerref::adopter_keys(caches, KindId::StatefulSet, n));
                }
                keys
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::StatefulSet, key).cloned() else {
            self.pending.remove(key);
            return Requeue::Done;
        };
        let Object::StatefulSet(set) = &*object else {
            return Requeue::Done;
        };
        let ns = object.namespace().unwrap_or("default").to_string();
        // `getPodsForStatefulSet`: the namespace's pods that are members
        // of the set by name (`isMemberOf`), claimed.
        let members: Vec<std::rc::Rc<Object>> = ctx
            .caches
            .list_in(KindId::Pod, &ns)
            .into_iter()
            .filter(|p| ordinal(object.name(), p.name()).is_some())
            .collect();
        let owned = controllerref::claim_all(ctx, &object, Some(&set.spec.selector), members);
        let want = set.spec.replicas.unwrap_or(1).max(0) as usize;
        let mut replicas: Vec<Option<&Pod>> = vec![None; want];
        let mut condemned: Vec<(i32, &Pod)> = Vec::new();
        let mut all: Vec<&Pod> = Vec::new();
        for p in &owned {
            let Object::Pod(pod) = &**p else {
                continue;
            };
            let Some(ord) = ordinal(object.name(), p.name()) else {
                continue;
            };
            all.push(pod);
            if (ord as usize) < want && ord >= 0 {
                replicas[ord as usize] = Some(pod);
            } else {
                condemned.push((ord, pod));
            }
        }
        condemned.sort_by_key(|(o, _)| *o);
        let condemned: Vec<&Pod> = condemned.into_iter().map(|(_, p)| p).collect();
        let old = set.status.clone().unwrap_or_default();
        // `getStatefulSetRevisions`.
        let revisions = history::claimed_revisions(ctx, &object);
        let deleting = object.deletion_timestamp().is_some();
        let update_rev = if deleting {
            update_revision(set)
        } else {
            Self::sync_update_revision(ctx, &object, set, &revisions)
        };
        let current = old
            .current_revision
            .as_deref()
            .and_then(|name| {
                revisions
                    .iter()
                    .find(|r| r.metadata.name.as_deref() == Some(name))
            })
            .and_then(|r| {
                let mut s = (**set).clone();
                s.spec.template = history::template_of(r)?;
                Some((r.metadata.name.clone().unwrap_or_default(), s))
            });
        let current_rev = current
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| update_rev.clone());

        let satisfied = self.pending.get(key).copied().unwrap_or(0) <= 0;
        let mut requeue = Requeue::Done;
        if satisfied && !deleting {
            let current = current.as_ref().map(|(n, s)| (n.as_str(), s));
            if let Some(d) = self.manage(
                ctx,
                key,
                &object,
                set,
                &replicas,
                &condemned,
                &update_rev,
                current,
            ) {
                requeue = Requeue::After(d);
            }
        }
        if !deleting {
            // `truncateHistory`: the revisions of live pods, the current
            // and the update revision stay.
            let mut live: Vec<String> = all
                .iter()
                .filter_map(|p| revision_of(p).map(str::to_string))
                .collect();
            live.push(current_rev.clone());
            live.push(update_rev.clone());
            let limit = set
                .spec
                .revision_history_limit
                .unwrap_or(history::DEFAULT_REVISION_HISTORY_LIMIT);
            for r in history::to_truncate(&revisions, &live, limit) {
                ctx.write(
                    ApiRequest::new(Verb::Delete, KindId::ControllerRevision, Credential::None)
                        .in_namespace(&ns)
                        .named(r.metadata.name.clone().unwrap_or_default()),
                );
            }
        }

        // `computeReplicaStatus`.
        let min_ready = set.spec.min_ready_seconds.unwrap_or(0);
        let mut status = StatefulSetStatus {
            observed_generation: object.generation(),
            current_revision: Some(current_rev.clone()),
            update_revision: Some(update_rev.clone()),
            collision_count: Some(old.collision_count.unwrap_or(0)),
            ..Default::default()
        };
        let (mut total, mut ready, mut available, mut current, mut updated) = (0, 0, 0, 0, 0);
        for p in &all {
            total += 1;
            if running_and_ready(p) {
                ready += 1;
                match available_in(p, min_ready, ctx.now) {
                    Some(d) if d == SimDuration::ZERO => available += 1,
                    Some(d) if requeue == Requeue::Done => requeue = Requeue::After(d),
                    _ => {}
                }
            }
            if !terminating(p) {
                if revision_of(p) == Some(current_rev.as_str()) {
                    current += 1;
                }
                if revision_of(p) == Some(update_rev.as_str()) {
                    updated += 1;
                }
            }
        }
        status.replicas = total;
        status.ready_replicas = Some(ready);
        status.available_replicas = Some(available);
        status.current_replicas = Some(current);
        status.updated_replicas = Some(updated);
        // `completeRollingUpdate`.
        let rolling = set
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            .unwrap_or("RollingUpdate")
            == "RollingUpdate";
        if rolling && updated == want as i32 && ready == want as i32 && total == want as i32 {
            status.current_replicas = Some(updated);
            status.current_revision = Some(update_rev.clone());
        }
        if set.status.as_ref() != Some(&status) {
            let mut next = set.clone();
            next.metadata.resource_version = None;
            next.status = Some(status);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::StatefulSet, Credential::None)
                    .in_namespace(&ns)
                    .named(object.name())
                    .with_subresource("status")
                    .with_body(Object::StatefulSet(next)),
            );
        }
        requeue
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        match (request.verb, request.kind, response) {
            (Verb::Create, KindId::Pod, ApiResponse::Object(pod)) => {
                if let Some(owner) = pod.controller_ref() {
                    let set = owner.name.clone();
                    return vec![ReplyEvent::on_owner(
                        owner,
                        pod.namespace(),
                        "Normal",
                        "SuccessfulCreate",
                        format!("create Pod {} in StatefulSet {set} successful", pod.name()),
                    )];
                }
            }
            (Verb::Create, KindId::Pod, ApiResponse::Error(e)) => {
                self.seen(key);
                if let Some(body) = request.body.as_deref() {
                    if let Some(owner) = body.controller_ref() {
                        return vec![ReplyEvent::on_owner(
                            owner,
                            request.namespace.as_deref(),
                            "Warning",
                            "FailedCreate",
                            format!(
                                "create Pod {} in StatefulSet {} failed error: {}",
                                body.name(),
                                owner.name,
                                e.message
                            ),
                        )];
                    }
                }
            }
            (Verb::Delete, KindId::Pod, ApiResponse::Error(_)) => self.seen(key),
            _ => {}
        }
        Vec::new()
    }
}

impl StatefulSetController {
    /// The update revision: the revision holding the template, created or
    /// (when the template went back to an older one) renumbered as the
    /// newest.
    fn sync_update_revision(
        ctx: &mut Reconcile<'_, '_>,
        set_obj: &Object,
        set: &StatefulSet,
        revisions: &[k8s_openapi::api::apps::v1::ControllerRevision],
    ) -> String {
        let ns = set_obj.namespace().unwrap_or("default").to_string();
        let data = history::template_patch(&set.spec.template);
        let next = history::next_revision(revisions);
        let equal = history::equal(revisions, &data);
        if let Some(last) = equal.last() {
            let newest = revisions.last().and_then(|r| r.metadata.name.as_deref());
            if newest != last.metadata.name.as_deref() {
                // `UpdateControllerRevision`: the old revision is the
                // newest again.
                let mut r = (*last).clone();
                r.revision = Some(next);
                ctx.write(
                    ApiRequest::new(Verb::Update, KindId::ControllerRevision, Credential::None)
                        .in_namespace(&ns)
                        .named(r.metadata.name.clone().unwrap_or_default())
                        .with_body(Object::ControllerRevision(Box::new(r))),
                );
            }
            return last.metadata.name.clone().unwrap_or_default();
        }
        let collision = set.status.as_ref().and_then(|s| s.collision_count);
        let hash = history::hash_data(&data, collision);
        let labels = set
            .spec
            .template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.as_ref());
        let r = history::new_revision(
            set_obj,
            labels,
            data,
            &hash,
            history::CONTROLLER_REVISION_HASH_LABEL,
            next,
        );
        let name = r.metadata.name.clone().unwrap_or_default();
        ctx.write(
            ApiRequest::new(Verb::Create, KindId::ControllerRevision, Credential::None)
                .in_namespace(&ns)
                .with_body(Object::ControllerRevision(Box::new(r))),
        );
        name
    }

    fn seen(&mut self, key: &str) {
        if let Some(n) = self.pending.get_mut(key) {
            *n = (*n - 1).max(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn web(replicas: i32, policy: &str) -> Object {
        object(&format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  namespace: default\n  uid: sts-uid\n  generation: 1\nspec:\n  replicas: {replicas}\n  podManagementPolicy: {policy}\n  serviceName: nginx\n  selector:\n    matchLabels: {{app: nginx}}\n  template:\n    metadata:\n      labels: {{app: nginx}}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n        volumeMounts:\n        - name: www\n          mountPath: /usr/share/nginx/html\n  volumeClaimTemplates:\n  - metadata:\n      name: www\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: 1Gi\n"
        ))
    }

    fn pod(set: &Object, ord: i32, ready: bool) -> Object {
        let Object::StatefulSet(s) = set else {
            panic!("a StatefulSet");
        };
        let mut p = new_pod(set, s, ord, &update_revision(s));
        p.metadata.creation_timestamp = Some(crate::api::time::to_time(SimTime::ZERO));
        let status = if ready { "True" } else { "False" };
        p.status = Some(
            serde_json::from_value(serde_json::json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": status, "lastTransitionTime": "2026-01-01T00:00:00Z"}]
            }))
            .unwrap_or_default(),
        );
        Object::Pod(Box::new(p))
    }

    fn created(writes: &[ApiRequest]) -> Vec<String> {
        writes
            .iter()
            .filter(|w| w.verb == Verb::Create && w.kind == KindId::Pod)
            .filter_map(|w| w.body.as_deref().map(|b| b.name().to_string()))
            .collect()
    }

    #[test]
    fn ordered_ready_creates_the_next_ordinal_only_after_the_previous_is_ready() {
        let set = web(3, "OrderedReady");
        let mut c = StatefulSetController::default();
        let (writes, _, _) = reconcile(
            &mut c,
            SimTime::ZERO,
            std::slice::from_ref(&set),
            "default/web",
        );
        assert_eq!(created(&writes), vec!["web-0"]);
        let mut c = StatefulSetController::default();
        let objects = [set.clone(), pod(&set, 0, false)];
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/web");
        assert!(created(&writes).is_empty(), "web-0 is not ready yet");
        let mut c = StatefulSetController::default();
        let objects = [set.clone(), pod(&set, 0, true)];
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/web");
        assert_eq!(created(&writes), vec!["web-1"]);
    }

    #[test]
    fn parallel_creates_every_ordinal_at_once() {
        let set = web(3, "Parallel");
        let mut c = StatefulSetController::default();
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &[set], "default/web");
        assert_eq!(created(&writes), vec!["web-0", "web-1", "web-2"]);
    }

    #[test]
    fn a_pod_gets_its_identity_and_a_claim_per_template() {
        let set = web(1, "OrderedReady");
        let mut c = StatefulSetController::default();
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &[set], "default/web");
        let pod = writes
            .iter()
            .find(|w| w.verb == Verb::Create && w.kind == KindId::Pod)
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(pod["metadata"]["labels"][POD_NAME_LABEL], "web-0");
        assert_eq!(pod["metadata"]["labels"][POD_INDEX_LABEL], "0");
        assert_eq!(pod["spec"]["hostname"], "web-0");
        assert_eq!(pod["spec"]["subdomain"], "nginx");
        assert_eq!(
            pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "www-web-0"
        );
    }

    #[test]
    fn scaling_down_deletes_the_highest_ordinal_first() {
        let set = web(1, "OrderedReady");
        let objects = [
            set.clone(),
            pod(&set, 0, true),
            pod(&set, 1, true),
            pod(&set, 2, true),
        ];
        let mut c = StatefulSetController::default();
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/web");
        let deleted: Vec<_> = writes
            .iter()
            .filter(|w| w.verb == Verb::Delete)
            .filter_map(|w| w.name.clone())
            .collect();
        assert_eq!(deleted, vec!["web-2"]);
    }

    #[test]
    fn a_rolling_update_replaces_the_highest_ordinal_above_the_partition() {
        let old = web(3, "OrderedReady");
        let pods: Vec<Object> = (0..3).map(|i| pod(&old, i, true)).collect();
        let mut set = old.clone();
        if let Object::StatefulSet(s) = &mut set {
            if let Some(spec) = s.spec.template.spec.as_mut() {
                spec.containers[0].image = Some("nginx:1.27".into());
            }
        }
        let mut objects = vec![set];
        objects.extend(pods);
        let mut c = StatefulSetController::default();
        let (writes, _, _) = reconcile(&mut c, SimTime::ZERO, &objects, "default/web");
        let deleted: Vec<_> = writes
            .iter()
            .filter(|w| w.verb == Verb::Delete)
            .filter_map(|w| w.name.clone())
            .collect();
        assert_eq!(deleted, vec!["web-2"]);
    }

    #[test]
    fn ordinals_come_from_the_names() {
        assert_eq!(ordinal("web", "web-12"), Some(12));
        assert_eq!(ordinal("web", "web-x"), None);
        assert_eq!(ordinal("web", "webs-1"), None);
    }
}
