//! The Deployment controller: rolls a Deployment's pod template out through
//! ReplicaSets.
//!
//! Ported from `pkg/controller/deployment`: `deployment_controller.go`
//! (`syncDeployment`), `sync.go` (`getNewReplicaSet`, `scale`,
//! `cleanupDeployment`, `calculateStatus`, `isScalingEvent`,
//! `checkPausedConditions`), `rolling.go` (`rolloutRolling`,
//! `reconcileNewReplicaSet`, `reconcileOldReplicaSets`,
//! `cleanupUnhealthyReplicas`, `scaleDownOldReplicaSetsForRollingUpdate`),
//! `recreate.go` (`rolloutRecreate`), `progress.go` (`syncRolloutStatus`,
//! `requeueStuckDeployment`) and `util/deployment_util.go`.
//!
//! Each sync reads the Deployment and the ReplicaSets whose controllerRef
//! names it from the informer caches. The new ReplicaSet is the one whose
//! template equals the Deployment's ignoring the `pod-template-hash` label
//! (`EqualIgnoreHash`); if there is none one is created, named
//! `<deployment>-<hash>`. So a rollback (`kubectl rollout undo` copies an
//! old ReplicaSet's template into the Deployment) finds the old ReplicaSet
//! again, which becomes the new one and gets the next revision.
//!
//! Writes to ReplicaSets and to the Deployment's metadata carry the cached
//! `resourceVersion`: a decision taken on a stale cache fails with 409 and
//! the key is retried, as upstream. Status writes go to the status
//! subresource unconditionally, as the ReplicaSet controller's do.
//!
//! The `pod-template-hash`: upstream hashes the template with FNV-32a over
//! `hashutil.DeepHashObject` (a `spew` dump of the Go struct) and renders the
//! decimal number through `rand.SafeEncodeString`. Here the FNV-32a runs over
//! the template's compact JSON (k8s-openapi's field order, sorted maps: stable
//! and deterministic), followed as upstream by the little-endian
//! `collisionCount` when set, and is rendered the same way. The values
//! therefore differ from a real cluster's, but have the same shape
//! (`nginx-deployment-5c4bb8fb9d`-like, up to 10 characters).
//!
//! The ReplicaSets are claimed as `ClaimReplicaSets` does (see
//! `controllerref`): a Deployment re-created after `kubectl delete
//! deployment --cascade=orphan` adopts its old ReplicaSets.
//!
//! Left out: hash-collision
//! handling (`collisionCount` is read but never bumped), the deprecated
//! `rollbackTo` annotation, `ReplicaFailure` conditions copied from
//! ReplicaSets, the `SelectingAll` check, `minReadySeconds` (available means
//! ready, as in the ReplicaSet controller) and `revision-history`
//! annotation length bounds. Upstream persists the Deployment's revision
//! annotation through `UpdateStatus` (its status strategy keeps annotations);
//! this API server's status subresource drops metadata changes, so the
//! annotation goes in a separate update of the Deployment.

use super::controllerref;
use super::replicaset::controller_ref;
use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::time::{to_sim_time, to_time};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// `DefaultDeploymentUniqueLabelKey`.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// `RevisionAnnotation`.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// `RevisionHistoryAnnotation`.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// `DesiredReplicasAnnotation`.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// `MaxReplicasAnnotation`.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Annotations not copied from a Deployment to its ReplicaSets
/// (`annotationsToSkip`).
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

// Condition reasons (`deployment_util.go`).
const NEW_RS_REASON: &str = "NewReplicaSetCreated";
const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
const RS_UPDATED_REASON: &str = "ReplicaSetUpdated";
const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
const PAUSED_REASON: &str = "DeploymentPaused";
const RESUMED_REASON: &str = "DeploymentResumed";
const MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
const MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";
const FAILED_RS_CREATE_REASON: &str = "FailedCreate";

/// `rand.SafeEncodeString`'s alphabet (no vowels, no confusable digits).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `rand.SafeEncodeString`.
pub fn safe_encode_string(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// FNV-32a (`hash/fnv.New32a`).
fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The `pod-template-hash` of a template (`controller.ComputeHash`; see the
/// module documentation for how it differs).
pub fn compute_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(template).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&(c as u32).to_le_bytes());
    }
    safe_encode_string(&fnv32a(&bytes).to_string())
}

/// `EqualIgnoreHash`: templates equal once the `pod-template-hash` label is
/// removed from both.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    fn strip(t: &PodTemplateSpec) -> PodTemplateSpec {
        let mut t = t.clone();
        if let Some(m) = t.metadata.as_mut() {
            if let Some(l) = m.labels.as_mut() {
                l.remove(POD_TEMPLATE_HASH);
                if l.is_empty() {
                    m.labels = None;
                }
            }
        }
        t
    }
    strip(a) == strip(b)
}

/// `intstr.GetScaledValueFromIntOrPercent`: an absolute number, or a
/// percentage of `total` rounded up or down. A malformed value counts 0.
pub fn scaled_value(v: &IntOrString, total: i32, round_up: bool) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            let product = p * i64::from(total);
            let v = if round_up {
                (product + 99).div_euclid(100)
            } else {
                product.div_euclid(100)
            };
            i32::try_from(v).unwrap_or(0)
        }
    }
}

fn replicas(d: &Deployment) -> i32 {
    d.spec.replicas.unwrap_or(1)
}

fn is_rolling_update(d: &Deployment) -> bool {
    d.spec
        .strategy
        .as_ref()
        .and_then(|s| s.type_.as_deref())
        .unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

/// `ResolveFenceposts`: maxSurge rounds up, maxUnavailable down, and both
/// zero means one may be unavailable.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true);
    let mut unavailable = scaled_value(max_unavailable.unwrap_or(&zero), desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

fn fenceposts(d: &Deployment) -> (i32, i32) {
    let ru = d
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        replicas(d),
    )
}

/// `MaxSurge`.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

/// `MaxUnavailable`.
pub fn max_unavailable(d: &Deployment) -> i32 {
    if !is_rolling_update(d) || replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(replicas(d))
}

fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec.progress_deadline_seconds.filter(|s| *s != i32::MAX)
}

fn paused(d: &Deployment) -> bool {
    d.spec.paused.unwrap_or(false)
}

/// A ReplicaSet being worked on: the cached object and a working copy.
#[derive(Clone, Debug)]
struct Rs {
    rs: ReplicaSet,
    /// Not created yet (sent in this sync).
    pending: bool,
    /// Already updated in this sync: later updates build on that write.
    written: bool,
}

impl Rs {
    fn name(&self) -> &str {
        self.rs.metadata.name.as_deref().unwrap_or("")
    }
    fn replicas(&self) -> i32 {
        self.rs.spec.replicas.unwrap_or(1)
    }
    fn status_replicas(&self) -> i32 {
        self.rs.status.as_ref().map_or(0, |s| s.replicas)
    }
    fn available(&self) -> i32 {
        self.rs
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0)
    }
    fn ready(&self) -> i32 {
        self.rs
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    }
    fn annotation(&self, key: &str) -> Option<&str> {
        self.rs
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }
    fn revision(&self) -> i64 {
        self.annotation(REVISION)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }
    /// `ReplicaSetsByCreationTimestamp`: older first, ties by name.
    fn created(&self) -> (String, String) {
        (
            self.rs
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
            self.name().to_string(),
        )
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.rs.spec.template.as_ref()
    }
}

/// `SetReplicasAnnotations`: whether anything changed.
fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    let a = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if a.get(k) != Some(&v) {
            a.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// `ReplicasAnnotationsNeedUpdate`.
fn replicas_annotations_need_update(rs: &Rs, desired: i32, max: i32) -> bool {
    rs.annotation(DESIRED_REPLICAS) != Some(desired.to_string().as_str())
        || rs.annotation(MAX_REPLICAS) != Some(max.to_string().as_str())
}

/// `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, sets
/// the revision (keeping the previous ones in `revision-history` on a
/// rollback) and, for a new ReplicaSet, the replica annotations.
fn set_new_replica_set_annotations(
    d: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = false;
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    // `copyDeploymentAnnotationsToReplicaSet`.
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if ANNOTATIONS_TO_SKIP.contains(&k.as_str()) || annotations.get(k) == Some(v) {
            continue;
        }
        annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    let old = annotations.get(REVISION).cloned();
    let old_revision = match old.as_deref() {
        None | Some("") => 0,
        Some(s) => match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        },
    };
    if old_revision < new_revision {
        annotations.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old {
            // A rollback to this ReplicaSet: keep its former revisions.
            let history = match annotations.get(REVISION_HISTORY) {
                Some(h) if !h.is_empty() => format!("{h},{old}"),
                _ => old,
            };
            annotations.insert(REVISION_HISTORY.into(), history);
        }
    }
    if !exists && set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d)) {
        changed = true;
    }
    changed
}

fn condition<'a>(s: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    s.conditions
        .iter()
        .flatten()
        .find(|c| c.type_.as_deref() == Some(type_))
}

fn new_condition(
    now: SimTime,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: Some(type_.into()),
        status: Some(status.into()),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(to_time(now)),
        last_transition_time: Some(to_time(now)),
    }
}

/// `SetDeploymentCondition`.
fn set_condition(s: &mut DeploymentStatus, mut c: DeploymentCondition) {
    let type_ = c.type_.clone().unwrap_or_default();
    if let Some(cur) = condition(s, &type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove_condition(s, &type_);
    s.conditions.get_or_insert_with(Vec::new).push(c);
}

fn remove_condition(s: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = s.conditions.as_mut() {
        cs.retain(|c| c.type_.as_deref() != Some(type_));
    }
}

/// `DeploymentComplete`.
fn deployment_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let r = replicas(d);
    s.updated_replicas.unwrap_or(0) == r
        && s.replicas.unwrap_or(0) == r
        && s.available_replicas.unwrap_or(0) == r
        && s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// `DeploymentProgressing`.
fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let g = |v: Option<i32>| v.unwrap_or(0);
    let old_old = g(old.replicas) - g(old.updated_replicas);
    let new_old = g(new.replicas) - g(new.updated_replicas);
    g(new.updated_replicas) > g(old.updated_replicas)
        || new_old < old_old
        || g(new.ready_replicas) > g(old.ready_replicas)
        || g(new.available_replicas) > g(old.available_replicas)
}

/// `DeploymentTimedOut`.
fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: SimTime) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(c) = condition(s, "Progressing") else {
        return false;
    };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE_REASON) => false,
        Some(TIMED_OUT_REASON) => true,
        _ => {
            let from = c.last_update_time.as_ref().map_or(now, to_sim_time);
            from + SimDuration::from_secs(deadline.max(0) as u64) < now
        }
    }
}

/// One sync of one Deployment: the working state and the writes so far.
struct Sync<'r, 'a, 'b> {
    ctx: &'r mut Reconcile<'a, 'b>,
    d: Deployment,
    ns: String,
    /// Status as cached, to decide whether to write.
    cached_status: DeploymentStatus,
    /// ReplicaSet scalings sent: key -> (from, to).
    scalings: Vec<(String, i32, i32)>,
}

impl Sync<'_, '_, '_> {
    fn status(&self) -> DeploymentStatus {
        self.d.status.clone().unwrap_or_default()
    }

    fn update_rs(&mut self, rs: &mut Rs) {
        let mut body = rs.rs.clone();
        if rs.written {
            // Builds on this sync's earlier write of the same ReplicaSet
            // (upstream continues from the object the update returned).
            body.metadata.resource_version = None;
        }
        rs.written = true;
        let rs = body;
        self.ctx.write(
            ApiRequest::new(Verb::Update, KindId::ReplicaSet, Credential::None)
                .in_namespace(&self.ns)
                .named(rs.metadata.name.clone().unwrap_or_default())
                .with_body(Object::ReplicaSet(Box::new(rs.clone()))),
        );
    }

    /// `scaleReplicaSet`: sets the size and the replica annotations.
    fn scale_replica_set(&mut self, rs: &mut Rs, new_scale: i32) -> bool {
        let desired = replicas(&self.d);
        let max = desired + max_surge(&self.d);
        let size_needs_update = rs.replicas() != new_scale;
        if size_needs_update || replicas_annotations_need_update(rs, desired, max) {
            let old = rs.replicas();
            rs.rs.spec.replicas = Some(new_scale);
            set_replicas_annotations(&mut rs.rs, desired, max);
            if !rs.pending {
                self.update_rs(rs);
                if size_needs_update {
                    self.scalings
                        .push((format!("{}/{}", self.ns, rs.name()), old, new_scale));
                }
            }
        }
        size_needs_update
    }

    /// `scaleReplicaSetAndRecordEvent`.
    fn scale_and_record(&mut self, rs: &mut Rs, new_scale: i32) -> bool {
        if rs.replicas() == new_scale {
            return false;
        }
        self.scale_replica_set(rs, new_scale)
    }

    /// `getNewReplicaSet`: finds (and annotates) or creates the new
    /// ReplicaSet; `old` are the others.
    fn new_replica_set(&mut self, all: &[Rs], old: &[Rs], create: bool) -> Option<Rs> {
        let template = self.d.spec.template.clone();
        let mut sorted: Vec<&Rs> = all.iter().collect();
        sorted.sort_by_key(|r| r.created());
        let existing = sorted.into_iter().find(|r| {
            r.template()
                .is_some_and(|t| equal_ignore_hash(t, &template))
        });
        let max_old = old.iter().map(Rs::revision).max().unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(existing) = existing {
            let mut rs = existing.clone();
            let min_ready = self.d.spec.min_ready_seconds;
            let annotations_updated =
                set_new_replica_set_annotations(&self.d, &mut rs.rs, new_revision, true);
            let min_ready_update = rs.rs.spec.min_ready_seconds != min_ready;
            if annotations_updated || min_ready_update {
                rs.rs.spec.min_ready_seconds = min_ready;
                self.update_rs(&mut rs);
            }
            let revision = rs.annotation(REVISION).unwrap_or("").to_string();
            self.set_deployment_revision(&revision);
            let mut status = self.status();
            if progress_deadline(&self.d).is_some() && condition(&status, "Progressing").is_none() {
                let c = new_condition(
                    self.ctx.now,
                    "Progressing",
                    "True",
                    FOUND_NEW_RS_REASON,
                    format!("Found new replica set \"{}\"", rs.name()),
                );
                set_condition(&mut status, c);
                self.d.status = Some(status);
            }
            return Some(rs);
        }
        if !create {
            return None;
        }
        let collision = self.d.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&template, collision);
        let mut new_template = template.clone();
        let meta = new_template.metadata.get_or_insert_with(Default::default);
        meta.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector: LabelSelector = self.d.spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let owner = Object::Deployment(Box::new(self.d.clone()));
        let name = format!("{}-{hash}", self.d.metadata.name.as_deref().unwrap_or(""));
        let mut rs = ReplicaSet::default();
        rs.metadata.name = Some(name.clone());
        rs.metadata.namespace = Some(self.ns.clone());
        rs.metadata.owner_references = Some(vec![controller_ref(&owner)]);
        rs.metadata.labels = new_template
            .metadata
            .as_ref()
            .and_then(|m| m.labels.clone());
        rs.spec = ReplicaSetSpec {
            replicas: Some(0),
            min_ready_seconds: self.d.spec.min_ready_seconds,
            selector,
            template: Some(new_template),
        };
        let mut new = Rs {
            rs,
            pending: true,
            written: false,
        };
        let mut with_new: Vec<Rs> = old.to_vec();
        with_new.push(new.clone());
        let count = self.new_rs_new_replicas(&with_new, &new);
        new.rs.spec.replicas = Some(count);
        set_new_replica_set_annotations(&self.d, &mut new.rs, new_revision, false);
        self.ctx.write(
            ApiRequest::new(Verb::Create, KindId::ReplicaSet, Credential::None)
                .in_namespace(&self.ns)
                .with_body(Object::ReplicaSet(Box::new(new.rs.clone()))),
        );
        self.set_deployment_revision(&new_revision.to_string());
        if progress_deadline(&self.d).is_some() {
            let mut status = self.status();
            let c = new_condition(
                self.ctx.now,
                "Progressing",
                "True",
                NEW_RS_REASON,
                format!("Created new replica set \"{name}\""),
            );
            set_condition(&mut status, c);
            self.d.status = Some(status);
        }
        Some(new)
    }

    /// `SetDeploymentRevision`, written at once (see the module docs).
    fn set_deployment_revision(&mut self, revision: &str) {
        let a = self
            .d
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new);
        if a.get(REVISION).map(String::as_str) == Some(revision) {
            return;
        }
        a.insert(REVISION.into(), revision.into());
        let mut copy = self.d.clone();
        copy.status = None;
        self.ctx.write(
            ApiRequest::new(Verb::Update, KindId::Deployment, Credential::None)
                .in_namespace(&self.ns)
                .named(self.d.metadata.name.clone().unwrap_or_default())
                .with_body(Object::Deployment(Box::new(copy))),
        );
    }

    /// `NewRSNewReplicas`.
    fn new_rs_new_replicas(&self, all: &[Rs], new: &Rs) -> i32 {
        if !is_rolling_update(&self.d) {
            return replicas(&self.d);
        }
        let want = replicas(&self.d);
        let current: i32 = all.iter().map(Rs::replicas).sum();
        let max_total = want + max_surge(&self.d);
        if current >= max_total {
            return new.replicas();
        }
        let up = (max_total - current).min(want - new.replicas());
        new.replicas() + up
    }

    /// `getAllReplicaSetsAndSyncRevision`.
    fn all_and_sync_revision(&mut self, all: &[Rs], create: bool) -> (Option<Rs>, Vec<Rs>) {
        let template = Some(self.d.spec.template.clone());
        let mut sorted: Vec<&Rs> = all.iter().collect();
        sorted.sort_by_key(|r| r.created());
        let new_name = sorted
            .iter()
            .find(|r| {
                template
                    .as_ref()
                    .is_some_and(|t| r.template().is_some_and(|rt| equal_ignore_hash(rt, t)))
            })
            .map(|r| r.name().to_string());
        let old: Vec<Rs> = all
            .iter()
            .filter(|r| Some(r.name()) != new_name.as_deref())
            .cloned()
            .collect();
        let new = self.new_replica_set(all, &old, create);
        (new, old)
    }

    /// `calculateStatus`.
    fn calculate_status(&self, all: &[Rs], new: Option<&Rs>) -> DeploymentStatus {
        let available: i32 = all.iter().map(Rs::available).sum();
        let total: i32 = all.iter().map(Rs::replicas).sum();
        let mut status = DeploymentStatus {
            observed_generation: self.d.metadata.generation,
            replicas: Some(all.iter().map(Rs::status_replicas).sum()),
            updated_replicas: Some(new.map_or(0, Rs::status_replicas)),
            ready_replicas: Some(all.iter().map(Rs::ready).sum()),
            available_replicas: Some(available),
            unavailable_replicas: Some((total - available).max(0)),
            collision_count: self.d.status.as_ref().and_then(|s| s.collision_count),
            conditions: self.d.status.as_ref().and_then(|s| s.conditions.clone()),
            ..Default::default()
        };
        let c = if available >= replicas(&self.d) - max_unavailable(&self.d) {
            new_condition(
                self.ctx.now,
                "Available",
                "True",
                MIN_AVAILABLE,
                "Deployment has minimum availability.".into(),
            )
        } else {
            new_condition(
                self.ctx.now,
                "Available",
                "False",
                MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
            )
        };
        set_condition(&mut status, c);
        status
    }

    fn write_status(&mut self, status: DeploymentStatus) {
        if status == self.cached_status {
            return;
        }
        let mut copy = self.d.clone();
        copy.metadata.resource_version = None;
        copy.status = Some(status.clone());
        self.d.status = Some(status);
        self.ctx.write(
            ApiRequest::new(Verb::Update, KindId::Deployment, Credential::None)
                .in_namespace(&self.ns)
                .named(self.d.metadata.name.clone().unwrap_or_default())
                .with_subresource("status")
                .with_body(Object::Deployment(Box::new(copy))),
        );
    }

    /// `syncDeploymentStatus`.
    fn sync_deployment_status(&mut self, all: &[Rs], new: Option<&Rs>) -> Requeue {
        let status = self.calculate_status(all, new);
        self.write_status(status);
        Requeue::Done
    }

    /// `syncRolloutStatus` (and `requeueStuckDeployment`).
    fn sync_rollout_status(&mut self, all: &[Rs], new: Option<&Rs>) -> Requeue {
        let now = self.ctx.now;
        let mut status = self.calculate_status(all, new);
        let deadline = progress_deadline(&self.d);
        if deadline.is_none() {
            remove_condition(&mut status, "Progressing");
        }
        let old_status = self.status();
        let current = condition(&old_status, "Progressing").cloned();
        let complete = status.replicas == status.updated_replicas
            && current.as_ref().and_then(|c| c.reason.as_deref()) == Some(NEW_RS_AVAILABLE_REASON);
        let name = self.d.metadata.name.clone().unwrap_or_default();
        if deadline.is_some() && !paused(&self.d) && !complete {
            if deployment_complete(&self.d, &status) {
                let msg = match new {
                    Some(rs) => {
                        format!("ReplicaSet \"{}\" has successfully progressed.", rs.name())
                    }
                    None => format!("Deployment \"{name}\" has successfully progressed."),
                };
                set_condition(
                    &mut status,
                    new_condition(now, "Progressing", "True", NEW_RS_AVAILABLE_REASON, msg),
                );
            } else if deployment_progressing(&old_status, &status) {
                let msg = match new {
                    Some(rs) => format!("ReplicaSet \"{}\" is progressing.", rs.name()),
                    None => format!("Deployment \"{name}\" is progressing."),
                };
                let mut c = new_condition(now, "Progressing", "True", RS_UPDATED_REASON, msg);
                if let Some(cur) = &current {
                    if cur.status.as_deref() == Some("True") {
                        c.last_transition_time = cur.last_transition_time.clone();
                    }
                    remove_condition(&mut status, "Progressing");
                }
                set_condition(&mut status, c);
            } else if deployment_timed_out(&self.d, &status, now) {
                let msg = match new {
                    Some(rs) => format!("ReplicaSet \"{}\" has timed out progressing.", rs.name()),
                    None => format!("Deployment \"{name}\" has timed out progressing."),
                };
                set_condition(
                    &mut status,
                    new_condition(now, "Progressing", "False", TIMED_OUT_REASON, msg),
                );
            }
        }
        if status == self.cached_status {
            // `requeueStuckDeployment`.
            let (Some(deadline), Some(cur)) = (deadline, &current) else {
                return Requeue::Done;
            };
            if deployment_complete(&self.d, &status)
                || cur.reason.as_deref() == Some(TIMED_OUT_REASON)
            {
                return Requeue::Done;
            }
            let from = cur.last_update_time.as_ref().map_or(now, to_sim_time);
            let due = from + SimDuration::from_secs(deadline.max(0) as u64);
            let after = due.as_millis().saturating_sub(now.as_millis());
            if after < 1000 {
                return Requeue::RateLimited;
            }
            return Requeue::After(SimDuration::from_millis(after + 1000));
        }
        self.write_status(status);
        Requeue::Done
    }

    /// `scale`: a scaling event (spec.replicas changed) spreads the change
    /// proportionally over the active ReplicaSets.
    fn scale(&mut self, new: Option<Rs>, mut old: Vec<Rs>) -> (Option<Rs>, Vec<Rs>) {
        let want = replicas(&self.d);
        let mut all: Vec<Rs> = old.iter().cloned().chain(new.clone()).collect();
        // `FindActiveOrLatest`.
        let active: Vec<usize> = (0..all.len()).filter(|i| all[*i].replicas() > 0).collect();
        let single = match active.len() {
            1 => Some(active[0]),
            0 => match &new {
                Some(_) => Some(all.len() - 1),
                None => (0..all.len()).max_by_key(|i| all[*i].created()),
            },
            _ => None,
        };
        if let Some(i) = single {
            if all[i].replicas() != want {
                let mut rs = all[i].clone();
                self.scale_and_record(&mut rs, want);
                all[i] = rs;
            }
            return split(all, new.is_some());
        }
        // `IsSaturated`.
        let saturated = new.as_ref().is_some_and(|n| {
            n.replicas() == want
                && n.annotation(DESIRED_REPLICAS) == Some(want.to_string().as_str())
                && n.available() == want
        });
        if saturated {
            for rs in old.iter_mut().filter(|r| r.replicas() > 0) {
                self.scale_and_record(rs, 0);
            }
            let all: Vec<Rs> = old.into_iter().chain(new.clone()).collect();
            return split(all, new.is_some());
        }
        if is_rolling_update(&self.d) {
            let mut active: Vec<Rs> = all.iter().filter(|r| r.replicas() > 0).cloned().collect();
            let total: i32 = active.iter().map(Rs::replicas).sum();
            let allowed = if want > 0 {
                want + max_surge(&self.d)
            } else {
                0
            };
            let to_add = allowed - total;
            if to_add > 0 {
                // `ReplicaSetsBySizeNewer`.
                active.sort_by(|a, b| {
                    b.replicas()
                        .cmp(&a.replicas())
                        .then_with(|| b.created().cmp(&a.created()))
                });
            } else if to_add < 0 {
                // `ReplicaSetsBySizeOlder`.
                active.sort_by(|a, b| {
                    b.replicas()
                        .cmp(&a.replicas())
                        .then_with(|| a.created().cmp(&b.created()))
                });
            }
            let mut added = 0;
            let mut sizes = Vec::new();
            for rs in &active {
                if to_add != 0 {
                    let p = self.proportion(rs, to_add, added);
                    sizes.push(rs.replicas() + p);
                    added += p;
                } else {
                    sizes.push(rs.replicas());
                }
            }
            for (i, rs) in active.iter_mut().enumerate() {
                if i == 0 && to_add != 0 {
                    sizes[0] = (sizes[0] + to_add - added).max(0);
                }
                self.scale_replica_set(rs, sizes[i]);
            }
            for rs in active {
                if let Some(slot) = all.iter_mut().find(|r| r.name() == rs.name()) {
                    *slot = rs;
                }
            }
        }
        split(all, new.is_some())
    }

    /// `GetProportion` and `getReplicaSetFraction`.
    fn proportion(&self, rs: &Rs, to_add: i32, added: i32) -> i32 {
        if rs.replicas() == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let want = replicas(&self.d);
        let fraction = if want == 0 {
            -rs.replicas()
        } else {
            let max = want + max_surge(&self.d);
            let before = rs
                .annotation(MAX_REPLICAS)
                .and_then(|v| v.parse::<i32>().ok())
                .filter(|v| *v != 0)
                .unwrap_or_else(|| self.status().replicas.unwrap_or(0));
            if before == 0 {
                0
            } else {
                let size = f64::from(rs.replicas()) * f64::from(max) / f64::from(before);
                size.round() as i32 - rs.replicas()
            }
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// `cleanupDeployment`: deletes the oldest ReplicaSets beyond
    /// `revisionHistoryLimit` once they are scaled to zero.
    fn cleanup(&mut self, old: &[Rs]) {
        let Some(limit) = self.d.spec.revision_history_limit else {
            return;
        };
        let mut cleanable: Vec<&Rs> = old
            .iter()
            .filter(|r| !r.pending && r.rs.metadata.deletion_timestamp.is_none())
            .collect();
        let diff = cleanable.len() as i64 - i64::from(limit);
        if diff <= 0 {
            return;
        }
        // `ReplicaSetsByRevision`.
        cleanable.sort_by_key(|r| (r.revision(), r.created()));
        for rs in cleanable.into_iter().take(diff as usize) {
            let observed = rs
                .rs
                .status
                .as_ref()
                .and_then(|s| s.observed_generation)
                .unwrap_or(0);
            if rs.status_replicas() != 0
                || rs.replicas() != 0
                || rs.rs.metadata.generation.unwrap_or(0) > observed
            {
                continue;
            }
            self.ctx.write(
                ApiRequest::new(Verb::Delete, KindId::ReplicaSet, Credential::None)
                    .in_namespace(&self.ns)
                    .named(rs.name()),
            );
        }
    }

    /// `rolloutRolling`.
    fn rollout_rolling(&mut self, rss: &[Rs]) -> Requeue {
        let (new, old) = self.all_and_sync_revision(rss, true);
        let Some(mut new) = new else {
            return Requeue::Done;
        };
        let all: Vec<Rs> = old.iter().cloned().chain([new.clone()]).collect();
        // `reconcileNewReplicaSet`.
        let want = replicas(&self.d);
        let scaled_up = if new.replicas() == want {
            false
        } else if new.replicas() > want {
            self.scale_and_record(&mut new, want)
        } else {
            let count = self.new_rs_new_replicas(&all, &new);
            self.scale_and_record(&mut new, count)
        };
        if scaled_up {
            let all: Vec<Rs> = old.iter().cloned().chain([new.clone()]).collect();
            return self.sync_rollout_status(&all, Some(&new));
        }
        let (old, scaled_down) = self.reconcile_old_replica_sets(&all, old, &new);
        let all: Vec<Rs> = old.iter().cloned().chain([new.clone()]).collect();
        if !scaled_down && deployment_complete(&self.d, &self.status()) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all, Some(&new))
    }

    /// `reconcileOldReplicaSets`, with `cleanupUnhealthyReplicas` and
    /// `scaleDownOldReplicaSetsForRollingUpdate`.
    fn reconcile_old_replica_sets(
        &mut self,
        all: &[Rs],
        old: Vec<Rs>,
        new: &Rs,
    ) -> (Vec<Rs>, bool) {
        let old_pods: i32 = old.iter().map(Rs::replicas).sum();
        if old_pods == 0 {
            return (old, false);
        }
        let all_pods: i32 = all.iter().map(Rs::replicas).sum();
        let min_available = replicas(&self.d) - max_unavailable(&self.d);
        let new_unavailable = new.replicas() - new.available();
        let max_scaled_down = all_pods - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return (old, false);
        }
        let mut old = old;
        old.sort_by_key(|r| r.created());
        // `cleanupUnhealthyReplicas`: old pods that are not available go
        // first, or they would block the rollout until it times out.
        let mut cleaned = 0;
        for rs in old.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            if rs.replicas() == 0 || rs.replicas() == rs.available() {
                continue;
            }
            let count = (max_scaled_down - cleaned).min(rs.replicas() - rs.available());
            let target = rs.replicas() - count;
            self.scale_and_record(rs, target);
            cleaned += count;
        }
        // `scaleDownOldReplicaSetsForRollingUpdate`.
        let all: Vec<Rs> = old.iter().cloned().chain([new.clone()]).collect();
        let available: i32 = all.iter().map(Rs::available).sum();
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            for rs in old.iter_mut() {
                if scaled >= total {
                    break;
                }
                if rs.replicas() == 0 {
                    continue;
                }
                let count = rs.replicas().min(total - scaled);
                let target = rs.replicas() - count;
                self.scale_and_record(rs, target);
                scaled += count;
            }
        }
        (old, cleaned + scaled > 0)
    }

    /// `rolloutRecreate`: scale every old ReplicaSet to zero, wait for their
    /// pods to go, then scale the new one up.
    fn rollout_recreate(
        &mut self,
        rss: &[Rs],
        old_pods_running: impl Fn(Option<&Rs>) -> bool,
    ) -> Requeue {
        let (new, mut old) = self.all_and_sync_revision(rss, false);
        let mut scaled_down = false;
        for rs in old.iter_mut().filter(|r| r.replicas() > 0) {
            scaled_down |= self.scale_and_record(rs, 0);
        }
        let all: Vec<Rs> = old.iter().cloned().chain(new.clone()).collect();
        if scaled_down {
            return self.sync_rollout_status(&all, new.as_ref());
        }
        let running =
            old.iter().map(Rs::status_replicas).sum::<i32>() > 0 || old_pods_running(new.as_ref());
        if running {
            return self.sync_rollout_status(&all, new.as_ref());
        }
        let (new, old) = match new {
            Some(n) => (Some(n), old),
            None => self.all_and_sync_revision(rss, true),
        };
        let Some(mut new) = new else {
            return Requeue::Done;
        };
        // `scaleUpNewReplicaSetForRecreate`.
        let want = replicas(&self.d);
        self.scale_and_record(&mut new, want);
        if deployment_complete(&self.d, &self.status()) {
            self.cleanup(&old);
        }
        let all: Vec<Rs> = old.iter().cloned().chain([new.clone()]).collect();
        self.sync_rollout_status(&all, Some(&new))
    }

    /// `checkPausedConditions`.
    fn check_paused_conditions(&mut self) {
        if progress_deadline(&self.d).is_none() {
            return;
        }
        let mut status = self.status();
        let cond = condition(&status, "Progressing");
        if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT_REASON)) {
            return;
        }
        let paused_exists = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED_REASON));
        let c = if paused(&self.d) && !paused_exists {
            new_condition(
                self.ctx.now,
                "Progressing",
                "Unknown",
                PAUSED_REASON,
                "Deployment is paused".into(),
            )
        } else if !paused(&self.d) && paused_exists {
            new_condition(
                self.ctx.now,
                "Progressing",
                "Unknown",
                RESUMED_REASON,
                "Deployment is resumed".into(),
            )
        } else {
            return;
        };
        set_condition(&mut status, c);
        self.d.status = Some(status);
    }

    /// `sync`: scaling and status only (paused, or a scaling event).
    fn sync(&mut self, rss: &[Rs]) -> Requeue {
        let (new, old) = self.all_and_sync_revision(rss, false);
        let (new, old) = self.scale(new, old);
        if paused(&self.d) {
            self.cleanup(&old);
        }
        let all: Vec<Rs> = old.iter().cloned().chain(new.clone()).collect();
        self.sync_deployment_status(&all, new.as_ref())
    }

    /// `isScalingEvent`: an active ReplicaSet was sized for another
    /// `spec.replicas`.
    fn is_scaling_event(&self, rss: &[Rs]) -> bool {
        let want = replicas(&self.d).to_string();
        rss.iter().filter(|r| r.replicas() > 0).any(|r| {
            r.annotation(DESIRED_REPLICAS)
                .is_some_and(|d| d.parse::<i32>().is_ok() && d != want)
        })
    }
}

fn split(mut all: Vec<Rs>, has_new: bool) -> (Option<Rs>, Vec<Rs>) {
    if has_new {
        let new = all.pop();
        (new, all)
    } else {
        (None, all)
    }
}

/// The Deployment controller.
#[derive(Clone, Default)]
pub struct DeploymentController {
    /// ReplicaSet scalings in flight: (ReplicaSet key, from, to), recorded
    /// as `ScalingReplicaSet` events once the update succeeds.
    scalings: Vec<(String, i32, i32)>,
}

impl DeploymentController {
    fn owner_key(o: &Object) -> Option<String> {
        let r = o.controller_ref()?;
        (r.kind == "Deployment")
            .then(|| format!("{}/{}", o.namespace().unwrap_or_default(), r.name))
    }
}

impl Controller for DeploymentController {
    fn name(&self) -> &'static str {
        "deployment-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Deployment, KindId::ReplicaSet, KindId::Pod]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Deployment, n) => n.key().into_iter().collect(),
            (KindId::ReplicaSet, Notification::Update { old, new }) => {
                let mut keys: Vec<String> = Self::owner_key(new).into_iter().collect();
                if let Some(k) = Self::owner_key(old) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                // `updateReplicaSet`: an orphan may now be someone's to
                // adopt.
                for k in controllerref::adopter_keys(caches, KindId::Deployment, n) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys
            }
            // `addReplicaSet`: an orphan goes to every Deployment matching it.
            (KindId::ReplicaSet, Notification::Add(o)) if o.controller_ref().is_none() => {
                controllerref::adopter_keys(caches, KindId::Deployment, n)
            }
            (KindId::ReplicaSet, Notification::Add(o))
            | (KindId::ReplicaSet, Notification::Delete { object: o, .. }) => {
                Self::owner_key(o).into_iter().collect()
            }
            // `deletePod`: a Recreate rollout waits for the old pods to go.
            (KindId::Pod, Notification::Delete { object, .. }) => {
                let Some(r) = object.controller_ref() else {
                    return Vec::new();
                };
                let rs_key = format!("{}/{}", object.namespace().unwrap_or_default(), r.name);
                caches
                    .get(KindId::ReplicaSet, &rs_key)
                    .and_then(|rs| Self::owner_key(rs))
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::Deployment, key).cloned() else {
            return Requeue::Done;
        };
        let Object::Deployment(d) = &*object else {
            return Requeue::Done;
        };
        let ns = object.namespace().unwrap_or("default").to_string();
        // `getReplicaSetsForDeployment`: the ReplicaSets of the namespace,
        // claimed (adopting orphans the selector matches, releasing those
        // it no longer matches).
        let selector = Some(&d.spec.selector);
        let candidates = ctx.caches.list_in(KindId::ReplicaSet, &ns);
        let claimed = controllerref::claim_all(ctx, &object, selector, candidates);
        let rss: Vec<Rs> = claimed
            .into_iter()
            .filter_map(|o| match &*o {
                Object::ReplicaSet(rs) => Some(Rs {
                    rs: *(rs.clone()),
                    pending: false,
                    written: false,
                }),
                _ => None,
            })
            .collect();
        // `getPodMapForDeployment`, for Recreate: pods of the old
        // ReplicaSets that are not terminal.
        let pods = ctx.caches.list_in(KindId::Pod, &ns);
        let rs_uids: Vec<(String, String)> = rss
            .iter()
            .map(|r| {
                (
                    r.rs.metadata.uid.clone().unwrap_or_default(),
                    r.name().to_string(),
                )
            })
            .collect();
        let live_pods_of = |rs_uid: &str| {
            pods.iter().any(|p| {
                p.controller_ref().is_some_and(|r| r.uid == rs_uid)
                    && match &**p {
                        Object::Pod(pod) => !matches!(
                            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
                            Some("Succeeded") | Some("Failed")
                        ),
                        _ => false,
                    }
            })
        };
        let old_pods_running = |new: Option<&Rs>| {
            rs_uids
                .iter()
                .filter(|(_, name)| new.is_none_or(|n| n.name() != name))
                .any(|(u, _)| live_pods_of(u))
        };
        let mut s = Sync {
            cached_status: d.status.clone().unwrap_or_default(),
            d: *(d.clone()),
            ns,
            ctx,
            scalings: Vec::new(),
        };
        let requeue = if object.deletion_timestamp().is_some() {
            // `syncStatusOnly`.
            let (new, old) = s.all_and_sync_revision(&rss, false);
            let all: Vec<Rs> = old.into_iter().chain(new.clone()).collect();
            s.sync_deployment_status(&all, new.as_ref())
        } else {
            s.check_paused_conditions();
            if paused(&s.d) || s.is_scaling_event(&rss) {
                s.sync(&rss)
            } else if is_rolling_update(&s.d) {
                s.rollout_rolling(&rss)
            } else {
                s.rollout_recreate(&rss, old_pods_running)
            }
        };
        let scalings = std::mem::take(&mut s.scalings);
        self.scalings.extend(scalings);
        requeue
    }

    fn on_reply(
        &mut self,
        _key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        let body = request.body.as_deref();
        let ns = request.namespace.as_deref();
        match (request.verb, request.kind, response) {
            (Verb::Create, KindId::ReplicaSet, ApiResponse::Object(rs)) => {
                let Object::ReplicaSet(r) = &**rs else {
                    return Vec::new();
                };
                let n = r.spec.replicas.unwrap_or(0);
                if let (Some(owner), true) = (rs.controller_ref(), n > 0) {
                    return vec![ReplyEvent::on_owner(
                        owner,
                        ns,
                        "Normal",
                        "ScalingReplicaSet",
                        format!("Scaled up replica set {} from 0 to {n}", rs.name()),
                    )];
                }
            }
            (Verb::Create, KindId::ReplicaSet, ApiResponse::Error(e)) if e.code() != 409 => {
                if let Some(owner) = body.and_then(Object::controller_ref) {
                    let name = body.map(Object::name).unwrap_or_default();
                    return vec![ReplyEvent::on_owner(
                        owner,
                        ns,
                        "Warning",
                        FAILED_RS_CREATE_REASON,
                        format!("Failed to create new replica set \"{name}\": {}", e.message),
                    )];
                }
            }
            (Verb::Update, KindId::ReplicaSet, _) if request.subresource.is_none() => {
                let key = format!(
                    "{}/{}",
                    ns.unwrap_or_default(),
                    request.name.as_deref().unwrap_or_default()
                );
                let Some(i) = self.scalings.iter().position(|(k, _, _)| *k == key) else {
                    return Vec::new();
                };
                let (_, from, to) = self.scalings.remove(i);
                if let (ApiResponse::Object(rs), Some(owner)) =
                    (response, body.and_then(Object::controller_ref))
                {
                    let op = if from < to { "up" } else { "down" };
                    return vec![ReplyEvent::on_owner(
                        owner,
                        ns,
                        "Normal",
                        "ScalingReplicaSet",
                        format!("Scaled {op} replica set {} from {from} to {to}", rs.name()),
                    )];
                }
            }
            _ => {}
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    const NOW: SimTime = SimTime(100_000);

    fn deployment(image: &str) -> Object {
        object(&format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  namespace: default
  uid: d-1
  generation: 1
spec:
  replicas: 3
  selector:
    matchLabels: {{app: nginx}}
  template:
    metadata:
      labels: {{app: nginx}}
    spec:
      containers:
      - name: nginx
        image: {image}
"
        ))
    }

    /// A ReplicaSet the controller made from `image`, with `spec` replicas,
    /// `available` of them available, at `revision`.
    fn replica_set(image: &str, spec: i32, available: i32, revision: i64, created: &str) -> Object {
        let Object::Deployment(d) = deployment(image) else {
            unreachable!()
        };
        let hash = compute_hash(&d.spec.template, None);
        object(&format!(
            "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: nginx-deployment-{hash}
  namespace: default
  uid: rs-{hash}
  creationTimestamp: \"{created}\"
  labels: {{app: nginx, pod-template-hash: {hash}}}
  annotations:
    deployment.kubernetes.io/revision: \"{revision}\"
    deployment.kubernetes.io/desired-replicas: \"3\"
    deployment.kubernetes.io/max-replicas: \"4\"
  ownerReferences:
  - apiVersion: apps/v1
    kind: Deployment
    name: nginx-deployment
    uid: d-1
    controller: true
spec:
  replicas: {spec}
  selector:
    matchLabels: {{app: nginx, pod-template-hash: {hash}}}
  template:
    metadata:
      labels: {{app: nginx, pod-template-hash: {hash}}}
    spec:
      containers:
      - name: nginx
        image: {image}
status:
  replicas: {spec}
  readyReplicas: {available}
  availableReplicas: {available}
"
        ))
    }

    fn rs_writes(writes: &[ApiRequest]) -> Vec<(Verb, String, i32, BTreeMap<String, String>)> {
        writes
            .iter()
            .filter(|w| w.kind == KindId::ReplicaSet)
            .filter_map(|w| match w.body.as_deref() {
                Some(Object::ReplicaSet(rs)) => Some((
                    w.verb,
                    rs.metadata.name.clone().unwrap_or_default(),
                    rs.spec.replicas.unwrap_or(0),
                    rs.metadata.annotations.clone().unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let pct = |s: &str| IntOrString::String(s.into());
        assert_eq!(
            resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 3),
            (1, 0)
        );
        assert_eq!(
            resolve_fenceposts(Some(&pct("25%")), Some(&pct("25%")), 10),
            (3, 2)
        );
        assert_eq!(
            resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 3),
            (0, 1),
            "both zero would deadlock: one may be unavailable"
        );
    }

    #[test]
    fn the_hash_is_rendered_with_upstreams_safe_alphabet() {
        assert_eq!(safe_encode_string("09"), "4f");
        let Object::Deployment(a) = deployment("nginx:1.14.2") else {
            unreachable!()
        };
        let Object::Deployment(b) = deployment("nginx:1.16.1") else {
            unreachable!()
        };
        let h = compute_hash(&a.spec.template, None);
        assert_eq!(h, compute_hash(&a.spec.template.clone(), None));
        assert_ne!(h, compute_hash(&b.spec.template, None));
        assert_ne!(h, compute_hash(&a.spec.template, Some(1)));
        assert!(h.bytes().all(|c| ALPHANUMS.contains(&c)));
    }

    #[test]
    fn a_new_deployment_creates_its_replica_set_at_full_size() {
        let mut c = DeploymentController::default();
        let (writes, _, _) = reconcile(
            &mut c,
            NOW,
            &[deployment("nginx:1.14.2")],
            "default/nginx-deployment",
        );
        let rs = rs_writes(&writes);
        assert_eq!(rs.len(), 1);
        let (verb, name, replicas, annotations) = &rs[0];
        assert_eq!(*verb, Verb::Create);
        assert!(name.starts_with("nginx-deployment-"));
        assert_eq!(*replicas, 3);
        assert_eq!(annotations.get(REVISION).map(String::as_str), Some("1"));
        assert_eq!(
            annotations.get(DESIRED_REPLICAS).map(String::as_str),
            Some("3")
        );
        assert_eq!(annotations.get(MAX_REPLICAS).map(String::as_str), Some("4"));
        let status = writes
            .iter()
            .find(|w| w.subresource.as_deref() == Some("status"))
            .and_then(|w| match w.body.as_deref() {
                Some(Object::Deployment(d)) => d.status.clone(),
                _ => None,
            })
            .unwrap_or_default();
        let progressing = condition(&status, "Progressing").and_then(|c| c.reason.clone());
        assert_eq!(progressing.as_deref(), Some(NEW_RS_REASON));
    }

    #[test]
    fn with_no_available_pods_the_rollout_stops_at_max_surge() {
        let mut c = DeploymentController::default();
        let objects = [
            deployment("nginx:1.16.1"),
            replica_set("nginx:1.14.2", 3, 0, 1, "2026-01-01T00:00:10Z"),
            replica_set("nginx:1.16.1", 1, 0, 2, "2026-01-01T00:01:00Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, NOW, &objects, "default/nginx-deployment");
        assert!(rs_writes(&writes).is_empty(), "{:?}", rs_writes(&writes));
    }

    #[test]
    fn an_available_surge_pod_lets_one_old_pod_go() {
        let mut c = DeploymentController::default();
        let old = replica_set("nginx:1.14.2", 3, 3, 1, "2026-01-01T00:00:10Z");
        let objects = [
            deployment("nginx:1.16.1"),
            old.clone(),
            replica_set("nginx:1.16.1", 1, 1, 2, "2026-01-01T00:01:00Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, NOW, &objects, "default/nginx-deployment");
        let rs = rs_writes(&writes);
        assert_eq!(rs.len(), 1, "{rs:?}");
        assert_eq!(rs[0].1, old.name());
        assert_eq!(rs[0].2, 2);
    }

    #[test]
    fn a_template_equal_to_an_old_replica_sets_reuses_it_with_the_next_revision() {
        let mut c = DeploymentController::default();
        let old = replica_set("nginx:1.14.2", 0, 0, 1, "2026-01-01T00:00:10Z");
        let objects = [
            deployment("nginx:1.14.2"),
            old.clone(),
            replica_set("nginx:1.16.1", 3, 0, 2, "2026-01-01T00:01:00Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, NOW, &objects, "default/nginx-deployment");
        let rs = rs_writes(&writes);
        assert!(
            rs.iter().all(|w| w.0 == Verb::Update),
            "no new ReplicaSet: {rs:?}"
        );
        let reused = rs
            .iter()
            .find(|w| w.1 == old.name())
            .cloned()
            .unwrap_or_else(|| panic!("{rs:?}"));
        assert_eq!(reused.3.get(REVISION).map(String::as_str), Some("3"));
        assert_eq!(
            reused.3.get(REVISION_HISTORY).map(String::as_str),
            Some("1")
        );
        // The rollback scales the reused ReplicaSet up by the surge.
        assert!(rs.iter().any(|w| w.1 == old.name() && w.2 == 1), "{rs:?}");
    }

    #[test]
    fn a_recreate_rollout_scales_the_old_replica_set_to_zero_first() {
        let mut c = DeploymentController::default();
        let mut d = deployment("nginx:1.16.1");
        if let Object::Deployment(d) = &mut d {
            d.spec.strategy = Some(k8s_openapi::api::apps::v1::DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            });
        }
        let old = replica_set("nginx:1.14.2", 3, 3, 1, "2026-01-01T00:00:10Z");
        let (writes, _, _) = reconcile(&mut c, NOW, &[d, old.clone()], "default/nginx-deployment");
        let rs = rs_writes(&writes);
        assert_eq!(rs.len(), 1, "{rs:?}");
        assert_eq!(
            (rs[0].0, rs[0].1.as_str(), rs[0].2),
            (Verb::Update, old.name(), 0)
        );
    }

    #[test]
    fn a_paused_deployment_creates_nothing_and_says_so() {
        let mut c = DeploymentController::default();
        let mut d = deployment("nginx:1.16.1");
        if let Object::Deployment(d) = &mut d {
            d.spec.paused = Some(true);
        }
        let old = replica_set("nginx:1.14.2", 3, 3, 1, "2026-01-01T00:00:10Z");
        let (writes, _, _) = reconcile(&mut c, NOW, &[d, old], "default/nginx-deployment");
        assert!(rs_writes(&writes).is_empty(), "{:?}", rs_writes(&writes));
        let status = writes
            .iter()
            .find_map(|w| match w.body.as_deref() {
                Some(Object::Deployment(d)) if w.subresource.is_some() => d.status.clone(),
                _ => None,
            })
            .unwrap_or_default();
        let c = condition(&status, "Progressing")
            .cloned()
            .unwrap_or_default();
        assert_eq!(c.reason.as_deref(), Some(PAUSED_REASON));
        assert_eq!(c.status.as_deref(), Some("Unknown"));
    }

    #[test]
    fn scaling_a_deployment_mid_rollout_spreads_the_change_proportionally() {
        let mut c = DeploymentController::default();
        let mut d = deployment("nginx:1.16.1");
        if let Object::Deployment(d) = &mut d {
            d.spec.replicas = Some(6);
        }
        // Sized for 3 replicas (max 4): 3 old + 1 new.
        let objects = [
            d,
            replica_set("nginx:1.14.2", 3, 0, 1, "2026-01-01T00:00:10Z"),
            replica_set("nginx:1.16.1", 1, 0, 2, "2026-01-01T00:01:00Z"),
        ];
        let (writes, _, _) = reconcile(&mut c, NOW, &objects, "default/nginx-deployment");
        let sizes: i32 = rs_writes(&writes).iter().map(|w| w.2).sum();
        // 6 + maxSurge 2 = 8 pods, shared 3:1 as before (6 and 2).
        assert_eq!(sizes, 8, "{:?}", rs_writes(&writes));
        assert!(rs_writes(&writes)
            .iter()
            .all(|w| w.3.get(DESIRED_REPLICAS).map(String::as_str) == Some("6")));
    }

    #[test]
    fn a_rollout_without_progress_times_out_after_the_deadline() {
        let mut d = deployment("nginx:1.14.2");
        let rs = replica_set("nginx:1.14.2", 3, 0, 1, "2026-01-01T00:00:10Z");
        if let Object::Deployment(d) = &mut d {
            let mut status = DeploymentStatus {
                observed_generation: Some(1),
                replicas: Some(3),
                updated_replicas: Some(3),
                ready_replicas: Some(0),
                available_replicas: Some(0),
                unavailable_replicas: Some(3),
                ..Default::default()
            };
            set_condition(
                &mut status,
                new_condition(
                    SimTime::ZERO,
                    "Progressing",
                    "True",
                    RS_UPDATED_REASON,
                    "x".into(),
                ),
            );
            set_condition(
                &mut status,
                new_condition(
                    SimTime::ZERO,
                    "Available",
                    "False",
                    MIN_UNAVAILABLE,
                    "Deployment does not have minimum availability.".into(),
                ),
            );
            d.status = Some(status);
            d.metadata.annotations = Some([(REVISION.to_string(), "1".to_string())].into());
        }
        let mut c = DeploymentController::default();
        let (_, _, requeue) = reconcile(
            &mut c,
            SimTime(30_000),
            &[d.clone(), rs.clone()],
            "default/nginx-deployment",
        );
        assert!(matches!(requeue, Requeue::After(_)), "{requeue:?}");
        let (writes, _, _) = reconcile(
            &mut c,
            SimTime(601_000),
            &[d, rs],
            "default/nginx-deployment",
        );
        let status = writes
            .iter()
            .find_map(|w| match w.body.as_deref() {
                Some(Object::Deployment(d)) if w.subresource.is_some() => d.status.clone(),
                _ => None,
            })
            .unwrap_or_default();
        let c = condition(&status, "Progressing")
            .cloned()
            .unwrap_or_default();
        assert_eq!(c.reason.as_deref(), Some(TIMED_OUT_REASON));
        assert_eq!(c.status.as_deref(), Some("False"));
    }
}
