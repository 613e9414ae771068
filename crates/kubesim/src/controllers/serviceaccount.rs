//! The service account controller: every namespace has a `default`
//! ServiceAccount.
//!
//! Ported from `pkg/controller/serviceaccount/serviceaccounts_controller.go`
//! (`serviceAccountDeleted`, `namespaceAdded`, `namespaceUpdated`,
//! `syncNamespace`): a namespace that is added or changes, or that loses one
//! of the service accounts the controller ensures, is queued; its sync
//! creates each missing account (only `default` in kube-controller-manager's
//! configuration), unless the namespace is being terminated. An
//! AlreadyExists answer means somebody else was quicker and is ignored.
//!
//! Pods depend on it: the ServiceAccount admission plugin refuses a pod whose
//! service account does not exist (see [`crate::apiserver::admission`]).

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::core::v1::ServiceAccount;

/// The accounts ensured in every namespace (`--service-account-...`
/// defaults: `default`).
pub const ENSURED: [&str; 1] = ["default"];

/// The service account controller.
#[derive(Clone, Default)]
pub struct ServiceAccountController;

impl Controller for ServiceAccountController {
    fn name(&self) -> &'static str {
        "serviceaccount-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Namespace, KindId::ServiceAccount]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Namespace, Notification::Add(o) | Notification::Update { new: o, .. }) => {
                vec![o.name().to_string()]
            }
            (KindId::ServiceAccount, Notification::Delete { object, .. })
                if ENSURED.contains(&object.name()) =>
            {
                vec![object.namespace().unwrap_or_default().to_string()]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(ns) = ctx.caches.get(KindId::Namespace, key).cloned() else {
            return Requeue::Done;
        };
        let terminating = ns.deletion_timestamp().is_some()
            || matches!(&*ns, Object::Namespace(n) if n.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating"));
        if terminating {
            return Requeue::Done;
        }
        for name in ENSURED {
            if ctx
                .caches
                .get(KindId::ServiceAccount, &format!("{key}/{name}"))
                .is_some()
            {
                continue;
            }
            let mut sa = ServiceAccount::default();
            sa.metadata.name = Some(name.to_string());
            ctx.write(
                ApiRequest::new(Verb::Create, KindId::ServiceAccount, Credential::None)
                    .in_namespace(key)
                    .with_body(Object::ServiceAccount(Box::new(sa))),
            );
        }
        Requeue::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};
    use crate::world::SimTime;

    #[test]
    fn a_namespace_without_default_gets_one_and_a_terminating_one_does_not() {
        let ns = object("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n");
        let mut c = ServiceAccountController;
        let (writes, _, _) = reconcile(&mut c, SimTime(0), std::slice::from_ref(&ns), "dev");
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].namespace.as_deref(), Some("dev"));
        assert_eq!(writes[0].body.as_deref().map(Object::name), Some("default"));
        let sa = object(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: dev\n",
        );
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[ns, sa], "dev");
        assert!(writes.is_empty());
        let gone = object("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: old\n  deletionTimestamp: \"2026-01-01T00:00:00Z\"\n");
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[gone], "old");
        assert!(writes.is_empty());
    }
}
