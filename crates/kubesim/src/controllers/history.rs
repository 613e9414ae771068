//! ControllerRevisions: the history of a StatefulSet's or DaemonSet's pod
//! template.
//!
//! Ported from `pkg/controller/history/controller_history.go`
//! (`NewControllerRevision`, `HashControllerRevision`,
//! `ControllerRevisionName`, `FindEqualRevisions`, `SortControllerRevisions`)
//! and the controllers' `getPatch`: a revision is an immutable
//! `apps/v1` ControllerRevision owned by its controller, whose `data` is
//! the patch that restores the template
//! (`{"spec":{"template":{..., "$patch":"replace"}}}`), whose `revision`
//! number orders the history, and whose name is `<owner>-<hash>`. The
//! StatefulSet and DaemonSet controllers create one per distinct template,
//! renumber an old one when the template returns to it (a rollback), label
//! their pods with it (`controller-revision-hash`) and delete the oldest
//! ones nobody uses beyond `revisionHistoryLimit` (10). `kubectl rollout
//! history|undo` for those kinds reads and applies them.
//!
//! Revisions are claimed by label selector as pods are: a controller adopts
//! orphan revisions its selector matches (`adoptOrphanRevisions` in
//! `stateful_set.go`, `ClaimControllerRevisions` in the DaemonSet
//! controller), so a StatefulSet re-created after `--cascade=orphan` takes
//! its old history back instead of starting a new one.
//!
//! Left out: hash collisions (`collisionCount` is honoured in the hash but
//! never raised).

use super::deployment::safe_encode_string;
use super::replicaset::controller_ref;
use super::{controllerref, Reconcile};
use crate::api::{KindId, Object};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use std::collections::BTreeMap;

/// `ControllerRevisionHashLabel`: the hash label on a revision.
pub const CONTROLLER_REVISION_HASH_LABEL: &str = "controller.kubernetes.io/hash";
/// The default `revisionHistoryLimit` of StatefulSets and DaemonSets.
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;

/// The FNV-1a 32-bit hash (`hash/fnv.New32a`).
fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// `getPatch`: the data that restores `template`.
pub fn template_patch(template: &PodTemplateSpec) -> serde_json::Value {
    let mut t = serde_json::to_value(template).unwrap_or_default();
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), "replace".into());
    }
    serde_json::json!({ "spec": { "template": t } })
}

/// The template a revision's data restores (its `$patch` directive
/// dropped).
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = revision.data.0.pointer("/spec/template")?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    // Through the decoder `Object::from_value_of` uses, so the page's wasm
    // carries one copy of the pod template's decoding code, not two.
    serde_path_to_error::deserialize(&t).ok()
}

/// `HashControllerRevision`: the hash of the data, and of the collision
/// count if any.
pub fn hash_data(data: &serde_json::Value, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(data).unwrap_or_default();
    if let Some(c) = collision_count.filter(|c| *c != 0) {
        bytes.extend_from_slice(&(c as u32).to_le_bytes());
    }
    safe_encode_string(&fnv32a(&bytes).to_string())
}

/// `NewControllerRevision`: a revision of `parent` holding `data`, named
/// `<parent>-<hash>` and labelled with the template's labels plus
/// `label` = hash; it carries the parent's annotations (so
/// `kubernetes.io/change-cause` shows in `rollout history`).
pub fn new_revision(
    parent: &Object,
    template_labels: Option<&BTreeMap<String, String>>,
    data: serde_json::Value,
    hash: &str,
    label: &str,
    revision: i64,
) -> ControllerRevision {
    let mut labels = template_labels.cloned().unwrap_or_default();
    labels.insert(label.to_string(), hash.to_string());
    let mut r = ControllerRevision {
        data: RawExtension(data),
        revision: Some(revision),
        ..Default::default()
    };
    r.metadata.name = Some(format!("{}-{hash}", parent.name()));
    r.metadata.namespace = parent.namespace().map(str::to_string);
    r.metadata.labels = Some(labels);
    r.metadata.annotations = Some(parent.annotations().clone()).filter(|a| !a.is_empty());
    r.metadata.owner_references = Some(vec![controller_ref(parent)]);
    r
}

/// The revisions of `controller` (a StatefulSet or DaemonSet), oldest
/// first (`SortControllerRevisions`: by revision, then name), claimed by
/// its selector: orphans it matches are adopted and counted as its own,
/// and revisions it owns that no longer match are released
/// (`ListRevisions` with `AdoptOrphanRevisions`, `ClaimControllerRevisions`).
pub fn claimed_revisions(
    ctx: &mut Reconcile<'_, '_>,
    controller: &Object,
) -> Vec<ControllerRevision> {
    let namespace = controller.namespace().unwrap_or("default");
    let candidates = ctx.caches.list_in(KindId::ControllerRevision, namespace);
    let selector = controllerref::selector_of(controller);
    let mut out: Vec<ControllerRevision> =
        controllerref::claim_all(ctx, controller, selector, candidates)
            .into_iter()
            .filter(|o| o.deletion_timestamp().is_none())
            .filter_map(|o| match &*o {
                Object::ControllerRevision(r) => Some((**r).clone()),
                _ => None,
            })
            .collect();
    sort(&mut out);
    out
}

/// `SortControllerRevisions`.
pub fn sort(revisions: &mut [ControllerRevision]) {
    revisions.sort_by(|a, b| {
        (a.revision.unwrap_or(0), &a.metadata.name)
            .cmp(&(b.revision.unwrap_or(0), &b.metadata.name))
    });
}

/// `nextRevision`: one past the highest.
pub fn next_revision(revisions: &[ControllerRevision]) -> i64 {
    revisions
        .iter()
        .map(|r| r.revision.unwrap_or(0))
        .max()
        .unwrap_or(0)
        + 1
}

/// `FindEqualRevisions`: the revisions holding the same data.
pub fn equal<'a>(
    revisions: &'a [ControllerRevision],
    data: &serde_json::Value,
) -> Vec<&'a ControllerRevision> {
    revisions.iter().filter(|r| &r.data.0 == data).collect()
}

/// The revisions to delete so that at most `limit` of those not in `live`
/// remain, oldest first (`truncateHistory`, `cleanupHistory`).
pub fn to_truncate<'a>(
    revisions: &'a [ControllerRevision],
    live: &[String],
    limit: i32,
) -> Vec<&'a ControllerRevision> {
    let dead: Vec<&ControllerRevision> = revisions
        .iter()
        .filter(|r| {
            !live
                .iter()
                .any(|l| Some(l.as_str()) == r.metadata.name.as_deref())
        })
        .collect();
    let excess = dead.len().saturating_sub(limit.max(0) as usize);
    dead.into_iter().take(excess).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::object;

    fn set() -> Object {
        object("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\n  namespace: default\n  uid: u1\n  annotations: {kubernetes.io/change-cause: first}\nspec:\n  selector:\n    matchLabels: {app: web}\n  serviceName: web\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n")
    }

    #[test]
    fn a_revision_restores_its_template_and_is_named_after_the_hash_of_its_data() {
        let o = set();
        let Object::StatefulSet(s) = &o else {
            panic!("a StatefulSet")
        };
        let data = template_patch(&s.spec.template);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let hash = hash_data(&data, None);
        let r = new_revision(
            &o,
            s.spec
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.as_ref()),
            data.clone(),
            &hash,
            CONTROLLER_REVISION_HASH_LABEL,
            1,
        );
        assert_eq!(r.metadata.name, Some(format!("web-{hash}")));
        let labels = r.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels["app"], "web");
        assert_eq!(labels[CONTROLLER_REVISION_HASH_LABEL], hash);
        assert_eq!(
            r.metadata.annotations.clone().unwrap_or_default()["kubernetes.io/change-cause"],
            "first"
        );
        assert_eq!(template_of(&r).as_ref(), Some(&s.spec.template));
        assert_ne!(hash_data(&data, Some(1)), hash);
        assert_eq!(hash_data(&data, Some(0)), hash);
    }

    #[test]
    fn history_is_truncated_oldest_first_sparing_live_revisions() {
        let revs: Vec<ControllerRevision> = (1..=5)
            .map(|i| {
                let mut r = ControllerRevision {
                    revision: Some(i),
                    ..Default::default()
                };
                r.metadata.name = Some(format!("web-{i}"));
                r
            })
            .collect();
        let gone: Vec<String> = to_truncate(&revs, &["web-1".into(), "web-5".into()], 1)
            .iter()
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        assert_eq!(gone, vec!["web-2".to_string(), "web-3".to_string()]);
        assert_eq!(next_revision(&revs), 6);
        assert_eq!(next_revision(&[]), 1);
    }
}
