//! The controller-ref manager: how a workload controller decides which
//! objects are its own.
//!
//! Ported from `pkg/controller/controller_ref_manager.go`
//! (`BaseControllerRefManager.ClaimObject`, `PodControllerRefManager` and
//! `ReplicaSetControllerRefManager`'s `AdoptPod`/`ReleasePod`,
//! `AdoptReplicaSet`/`ReleaseReplicaSet`). An object is a controller's when
//! its controllerRef (the owner reference with `controller: true`) names the
//! controller's uid. On each sync the controller also *adopts* orphans its
//! selector matches (it adds its controllerRef) and *releases* objects it
//! owns that its selector no longer matches (it removes its reference), so
//! `kubectl delete rs --cascade=orphan` followed by a new ReplicaSet with the
//! same selector hands the old pods to the new one, and relabelling a pod
//! takes it out of its ReplicaSet (which then makes a replacement).
//!
//! Left out: upstream patches with a strategic merge patch whose
//! precondition is the object's uid; the simulation's PATCH replaces the
//! whole object, so the patch carries the cached `resourceVersion` as its
//! precondition instead, which also keeps two controllers from both
//! adopting one orphan (the second gets 409 Conflict and looks again).
//! `RecheckDeletionTimestamp`'s uncached read of the controller before the
//! first adoption is replaced by the cached copy's deletionTimestamp.

use super::replicaset::controller_ref;
use super::{Caches, Reconcile};
use crate::api::KindId;
use crate::api::Object;
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::rc::Rc;

/// What a controller does with one candidate object (`ClaimObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Its controllerRef names the controller and the selector matches.
    Owned,
    /// An orphan the selector matches: adopt it (and count it as owned).
    Adopt,
    /// Owned, but the selector no longer matches: release it.
    Release,
    /// Someone else's, or an orphan the controller does not want.
    Ignore,
}

/// Decides what `controller` does with `object`, whose labels `selector`
/// does or does not match (`BaseControllerRefManager.ClaimObject`).
pub fn claim(controller: &Object, selector: Option<&LabelSelector>, object: &Object) -> Claim {
    let uid = controller.uid().unwrap_or_default();
    // A nil or empty selector matches nothing here: apps/v1 requires one,
    // and `LabelSelectorAsSelector` of an empty selector would take every
    // pod of the namespace.
    let matches = selector.is_some_and(|s| {
        let empty = s.match_labels.as_ref().is_none_or(|m| m.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty());
        !empty && super::replicaset::selector_matches(s, object.labels())
    });
    if let Some(r) = object.controller_ref() {
        if r.uid != uid {
            return Claim::Ignore;
        }
        if matches {
            return Claim::Owned;
        }
        // "Owned by us but selector doesn't match. Try to release, unless
        // we're being deleted."
        return if controller.deletion_timestamp().is_some() {
            Claim::Ignore
        } else {
            Claim::Release
        };
    }
    if controller.deletion_timestamp().is_some()
        || !matches
        || object.deletion_timestamp().is_some()
        || controller.namespace() != object.namespace()
    {
        return Claim::Ignore;
    }
    Claim::Adopt
}

/// The selector a workload controller claims with, for the kinds that
/// claim (`spec.selector`).
pub fn selector_of(controller: &Object) -> Option<&LabelSelector> {
    match controller {
        Object::ReplicaSet(o) => Some(&o.spec.selector),
        Object::Deployment(o) => Some(&o.spec.selector),
        Object::StatefulSet(o) => Some(&o.spec.selector),
        Object::DaemonSet(o) => Some(&o.spec.selector),
        Object::Job(o) => o.spec.as_ref()?.selector.as_ref(),
        _ => None,
    }
}

/// The keys of the `kind` controllers an orphan may now belong to: on its
/// creation, or when its labels changed or it lost its controllerRef, every
/// controller of its namespace whose selector matches it looks again
/// (`addPod`/`updatePod`'s "it's an orphan" branch, `getPodReplicaSets`,
/// `getDeploymentsForReplicaSet`, `getPodStatefulSets`,
/// `getDaemonSetsForPod`).
pub fn adopter_keys(caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
    let object = match n {
        Notification::Add(o) => o,
        Notification::Update { old, new }
            if old.labels() != new.labels() || old.controller_ref().is_some() =>
        {
            new
        }
        _ => return Vec::new(),
    };
    if object.controller_ref().is_some() || object.deletion_timestamp().is_some() {
        return Vec::new();
    }
    caches
        .list_in(kind, object.namespace().unwrap_or_default())
        .iter()
        .filter(|c| selector_of(c).is_some_and(|s| claim(c, Some(s), object) == Claim::Adopt))
        .map(|c| c.key())
        .collect()
}

/// Claims `candidates` for `controller` (`ClaimPods`,
/// `ClaimReplicaSets`): sends the adoptions and releases, and returns the
/// objects that are the controller's, adopted ones included (upstream
/// counts an orphan as claimed once its adoption patch succeeds; here the
/// patch is in flight, and a failed one makes the controller look again).
pub fn claim_all(
    ctx: &mut Reconcile<'_, '_>,
    controller: &Object,
    selector: Option<&LabelSelector>,
    candidates: impl IntoIterator<Item = Rc<Object>>,
) -> Vec<Rc<Object>> {
    let mut claimed = Vec::new();
    for o in candidates {
        match claim(controller, selector, &o) {
            Claim::Owned => claimed.push(o),
            Claim::Adopt => {
                ctx.write(adopt(controller, &o));
                claimed.push(o);
            }
            Claim::Release => ctx.write(release(controller, &o)),
            Claim::Ignore => {}
        }
    }
    claimed
}

/// The write that adopts `object`: its owner references plus the
/// controller's controllerRef (`AdoptPod`, `AdoptReplicaSet`).
pub fn adopt(controller: &Object, object: &Object) -> ApiRequest {
    let mut next = object.clone();
    next.meta_mut()
        .owner_references
        .get_or_insert_with(Vec::new)
        .push(controller_ref(controller));
    patch(next)
}

/// The write that releases `object`: its owner references without the
/// controller's (`ReleasePod`, `ReleaseReplicaSet`).
pub fn release(controller: &Object, object: &Object) -> ApiRequest {
    let uid = controller.uid().unwrap_or_default();
    let mut next = object.clone();
    let mut meta = next.meta_mut();
    if let Some(refs) = meta.owner_references.as_mut() {
        refs.retain(|r| r.uid != uid);
        if refs.is_empty() {
            meta.owner_references = None;
        }
    }
    drop(meta);
    patch(next)
}

/// A PATCH of the whole object, conditional on the cached resourceVersion.
fn patch(next: Object) -> ApiRequest {
    let kind = next.kind_id();
    let name = next.name().to_string();
    let mut request = ApiRequest::new(Verb::Patch, kind, Credential::None).named(name);
    if let Some(ns) = next.namespace() {
        request = request.in_namespace(ns);
    }
    request.with_body(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::Pod;
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use std::collections::BTreeMap;

    fn rs(uid: &str, app: &str) -> Object {
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(format!("rs-{uid}")),
                namespace: Some("default".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        rs.spec.selector = LabelSelector {
            match_labels: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
            ..Default::default()
        };
        Object::ReplicaSet(Box::new(rs))
    }

    fn selector(o: &Object) -> Option<&LabelSelector> {
        match o {
            Object::ReplicaSet(rs) => Some(&rs.spec.selector),
            _ => None,
        }
    }

    fn pod(app: &str, owner: Option<&Object>) -> Object {
        Object::Pod(Box::new(Pod {
            metadata: crate::api::pod::PodMeta {
                name: Some("p".into()),
                namespace: Some("default".into()),
                resource_version: Some("7".into()),
                labels: Some(crate::api::labels::Labels::from([(
                    "app".to_string(),
                    app.to_string(),
                )])),
                owner_references: owner.map(|o| vec![controller_ref(o)].into()),
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    #[test]
    fn an_orphan_the_selector_matches_is_adopted() {
        let web = rs("u1", "web");
        assert_eq!(claim(&web, selector(&web), &pod("web", None)), Claim::Adopt);
    }

    #[test]
    fn an_orphan_the_selector_does_not_match_is_left_alone() {
        let web = rs("u1", "web");
        assert_eq!(claim(&web, selector(&web), &pod("db", None)), Claim::Ignore);
    }

    #[test]
    fn a_pod_another_controller_owns_is_never_claimed() {
        let web = rs("u1", "web");
        let other = rs("u2", "web");
        let p = pod("web", Some(&other));
        assert_eq!(claim(&web, selector(&web), &p), Claim::Ignore);
    }

    #[test]
    fn an_owned_pod_whose_labels_no_longer_match_is_released() {
        let web = rs("u1", "web");
        let p = pod("debug", Some(&web));
        assert_eq!(claim(&web, selector(&web), &p), Claim::Release);
        assert_eq!(
            claim(&web, selector(&web), &pod("web", Some(&web))),
            Claim::Owned
        );
    }

    #[test]
    fn a_controller_being_deleted_neither_adopts_nor_releases() {
        let mut web = rs("u1", "web");
        web.meta_mut().deletion_timestamp = Some(Time(Default::default()));
        assert_eq!(
            claim(&web, selector(&web), &pod("web", None)),
            Claim::Ignore
        );
        assert_eq!(
            claim(&web, selector(&web), &pod("debug", Some(&web))),
            Claim::Ignore
        );
    }

    #[test]
    fn an_orphan_being_deleted_is_not_adopted() {
        let web = rs("u1", "web");
        let mut p = pod("web", None);
        p.meta_mut().deletion_timestamp = Some(Time(Default::default()));
        assert_eq!(claim(&web, selector(&web), &p), Claim::Ignore);
    }

    #[test]
    fn an_empty_selector_claims_nothing() {
        let web = rs("u1", "web");
        assert_eq!(claim(&web, None, &pod("web", None)), Claim::Ignore);
        assert_eq!(
            claim(&web, Some(&LabelSelector::default()), &pod("web", None)),
            Claim::Ignore
        );
    }

    #[test]
    fn adoption_adds_the_controller_ref_under_the_cached_resource_version() {
        let web = rs("u1", "web");
        let request = adopt(&web, &pod("web", None));
        assert_eq!(request.verb, Verb::Patch);
        let body = request.body.expect("a body");
        let r = body.controller_ref().expect("a controllerRef");
        assert_eq!((r.uid.as_str(), r.kind.as_str()), ("u1", "ReplicaSet"));
        assert_eq!(body.resource_version(), Some("7"));
    }

    #[test]
    fn release_removes_only_the_controllers_reference() {
        let web = rs("u1", "web");
        let request = release(&web, &pod("debug", Some(&web)));
        let body = request.body.expect("a body");
        assert!(body.owner_references().is_empty());
        assert_eq!(body.resource_version(), Some("7"));
    }
}
