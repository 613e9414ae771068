//! The root CA certificate publisher: every namespace has the
//! `kube-root-ca.crt` ConfigMap with the cluster CA's certificate.
//!
//! Ported from `pkg/controller/certificates/rootcacertpublisher/publisher.go`
//! (`configMapDeleted`, `configMapUpdated`, `namespaceAdded`,
//! `namespaceUpdated`, `syncNamespace`): a namespace that is added or
//! changes, or whose ConfigMap is deleted or edited, is queued; its sync
//! creates the ConfigMap when it is missing and puts back its `ca.crt` and
//! description annotation when they differ, unless the namespace is being
//! terminated. Pods read it through the `kube-api-access-<suffix>`
//! projected volume the ServiceAccount admission plugin adds, mounted at
//! `/var/run/secrets/kubernetes.io/serviceaccount/ca.crt`, to verify the API
//! server they call (`https://kubernetes.default.svc`).
//!
//! The certificate is the readable stand-in of the cluster CA
//! ([`crate::apiserver::auth::pki::ca_certificate_pem`]).

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::auth::pki::ca_certificate_pem;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::BTreeMap;

/// The ConfigMap's name.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
/// Its key.
pub const CA_KEY: &str = "ca.crt";
/// The annotation upstream sets on it.
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// The root CA certificate publisher.
#[derive(Clone, Default)]
pub struct RootCaCertPublisher;

impl Controller for RootCaCertPublisher {
    fn name(&self) -> &'static str {
        "root-ca-certificate-publisher-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Namespace, KindId::ConfigMap]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Namespace, Notification::Add(o) | Notification::Update { new: o, .. }) => {
                vec![o.name().to_string()]
            }
            (
                KindId::ConfigMap,
                Notification::Update { new: o, .. } | Notification::Delete { object: o, .. },
            ) if o.name() == ROOT_CA_CONFIGMAP => {
                vec![o.namespace().unwrap_or_default().to_string()]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(ns) = ctx.caches.get(KindId::Namespace, key).cloned() else {
            return Requeue::Done;
        };
        if ns.deletion_timestamp().is_some() {
            return Requeue::Done;
        }
        let data = BTreeMap::from([(CA_KEY.to_string(), ca_certificate_pem())]);
        let annotations =
            BTreeMap::from([(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string())]);
        let current = ctx
            .caches
            .get(KindId::ConfigMap, &format!("{key}/{ROOT_CA_CONFIGMAP}"))
            .cloned();
        match current.as_deref() {
            None => {
                let mut cm = ConfigMap::default();
                cm.metadata.name = Some(ROOT_CA_CONFIGMAP.into());
                cm.metadata.annotations = Some(annotations);
                cm.data = Some(data);
                ctx.write(
                    ApiRequest::new(Verb::Create, KindId::ConfigMap, Credential::None)
                        .in_namespace(key)
                        .with_body(Object::ConfigMap(Box::new(cm))),
                );
            }
            Some(Object::ConfigMap(cm)) => {
                let described = cm
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                    == Some(&DESCRIPTION.to_string());
                if cm.data.as_ref() == Some(&data) && described {
                    return Requeue::Done;
                }
                let mut next = cm.clone();
                next.data = Some(data);
                next.metadata
                    .annotations
                    .get_or_insert_with(BTreeMap::new)
                    .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
                ctx.write(
                    ApiRequest::new(Verb::Update, KindId::ConfigMap, Credential::None)
                        .in_namespace(key)
                        .named(ROOT_CA_CONFIGMAP)
                        .with_body(Object::ConfigMap(next)),
                );
            }
            Some(_) => {}
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
    fn a_namespace_gets_the_root_ca_and_an_edited_copy_is_put_back() {
        let ns = object("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n");
        let mut c = RootCaCertPublisher;
        let (writes, _, _) = reconcile(&mut c, SimTime(0), std::slice::from_ref(&ns), "dev");
        assert_eq!(writes[0].verb, Verb::Create);
        let Some(Object::ConfigMap(cm)) = writes[0].body.as_deref() else {
            panic!("a ConfigMap")
        };
        assert!(cm.data.as_ref().unwrap()[CA_KEY].starts_with("-----BEGIN CERTIFICATE-----"));
        let edited = object("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-root-ca.crt\n  namespace: dev\ndata:\n  ca.crt: forged\n");
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[ns, edited], "dev");
        assert_eq!(writes[0].verb, Verb::Update);
    }
}
