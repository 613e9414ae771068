//! Storage: where each kind lives in etcd and how objects are stored there.
//!
//! kube-apiserver keeps every object under `/registry/<resource>/` in etcd
//! (`--etcd-prefix=/registry`), namespaced ones at
//! `/registry/<resource>/<namespace>/<name>`, cluster-scoped ones at
//! `/registry/<resource>/<name>`. A few resources keep the names they had
//! early on: Nodes live under `/registry/minions/` and Services under
//! `/registry/services/specs/` (`pkg/registry/core/.../storage`).
//!
//! The stored bytes carry no `resourceVersion`: the API server clears it
//! before writing and sets it from the key's etcd `mod_revision` when it reads
//! (`storage/etcd3/store.go`, `versioner.PrepareObjectForStorage` and
//! `UpdateObject`). The simulation encodes objects as JSON (kube-apiserver
//! stores protobuf for built-in kinds; the choice changes no behaviour here).

use crate::api::{KindId, Object};
use crate::etcd::mvcc::Revision;
use std::rc::Rc;

/// The path of a kind's objects under `/registry/`, without slashes.
fn resource_path(kind: KindId) -> &'static str {
    match kind {
        KindId::Node => "minions",
        KindId::Service => "services/specs",
        // events.k8s.io/v1 Events are the same objects as core/v1 Events.
        KindId::EventsEvent => "events",
        other => other.info().plural,
    }
}

/// The etcd prefix of a kind's objects, with its trailing slash.
pub fn prefix(kind: KindId) -> String {
    format!("/registry/{}/", resource_path(kind))
}

/// The etcd key of one object.
pub fn key(kind: KindId, namespace: Option<&str>, name: &str) -> String {
    let mut k = prefix(kind);
    if kind.info().namespaced {
        k.push_str(namespace.unwrap_or_default());
        k.push('/');
    }
    k.push_str(name);
    k
}

/// The etcd prefix of a kind's objects in one namespace (or all of them).
pub fn list_prefix(kind: KindId, namespace: Option<&str>) -> String {
    let mut k = prefix(kind);
    if let Some(ns) = namespace.filter(|ns| kind.info().namespaced && !ns.is_empty()) {
        k.push_str(ns);
        k.push('/');
    }
    k
}

/// Which kind a key belongs to (the watch cache sorts events with it).
pub fn kind_of_key(key: &str) -> Option<KindId> {
    let rest = key.strip_prefix("/registry/")?;
    // Longest prefixes first: `services/specs/` before anything shorter.
    let mut best: Option<(usize, KindId)> = None;
    for k in crate::api::KINDS.iter().map(|k| k.id) {
        if k == KindId::EventsEvent {
            continue;
        }
        let p = resource_path(k);
        let matches = rest
            .strip_prefix(p)
            .is_some_and(|after| after.starts_with('/'));
        if matches && best.is_none_or(|(len, _)| p.len() > len) {
            best = Some((p.len(), k));
        }
    }
    best.map(|(_, k)| k)
}

/// The bytes stored for an object (its resourceVersion cleared).
pub fn encode(object: &Object) -> Rc<[u8]> {
    if object.resource_version().is_none() {
        return object.to_json_bytes().into();
    }
    let mut copy = object.clone();
    copy.meta_mut().resource_version = None;
    copy.to_json_bytes().into()
}

/// Decodes stored bytes, setting the resourceVersion from `mod_revision`.
pub fn decode(kind: KindId, bytes: &[u8], mod_revision: Revision) -> Option<Object> {
    let mut object = Object::from_json_bytes(kind, bytes).ok()?;
    object.meta_mut().resource_version = Some(mod_revision.to_string());
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[test]
    fn keys_follow_kube_apiservers_registry_layout() {
        assert_eq!(
            key(KindId::Pod, Some("default"), "nginx"),
            "/registry/pods/default/nginx"
        );
        assert_eq!(
            key(KindId::Node, None, "worker-1"),
            "/registry/minions/worker-1"
        );
        assert_eq!(
            key(KindId::Service, Some("default"), "kubernetes"),
            "/registry/services/specs/default/kubernetes"
        );
        assert_eq!(
            key(KindId::Deployment, Some("web"), "api"),
            "/registry/deployments/web/api"
        );
        assert_eq!(
            key(KindId::ClusterRole, None, "view"),
            "/registry/clusterroles/view"
        );
        assert_eq!(
            list_prefix(KindId::Pod, Some("default")),
            "/registry/pods/default/"
        );
        assert_eq!(list_prefix(KindId::Pod, None), "/registry/pods/");
    }

    #[test]
    fn a_key_tells_its_kind() {
        assert_eq!(
            kind_of_key("/registry/pods/default/nginx"),
            Some(KindId::Pod)
        );
        assert_eq!(
            kind_of_key("/registry/minions/worker-1"),
            Some(KindId::Node)
        );
        assert_eq!(
            kind_of_key("/registry/services/specs/default/x"),
            Some(KindId::Service)
        );
        assert_eq!(kind_of_key("/registry/roles/ns/r"), Some(KindId::Role));
        assert_eq!(
            kind_of_key("/registry/rolebindings/ns/r"),
            Some(KindId::RoleBinding)
        );
        assert_eq!(kind_of_key("/elsewhere"), None);
    }

    #[test]
    fn the_stored_bytes_carry_no_resource_version_and_reads_restore_it() {
        let pod = Object::Pod(Pod {
            metadata: ObjectMeta {
                name: Some("nginx".into()),
                namespace: Some("default".into()),
                resource_version: Some("7".into()),
                ..Default::default()
            },
            ..Default::default()
        });
        let bytes = encode(&pod);
        assert!(!String::from_utf8_lossy(&bytes).contains("resourceVersion"));
        let back = decode(KindId::Pod, &bytes, 42).unwrap();
        assert_eq!(back.resource_version(), Some("42"));
        assert_eq!(back.name(), "nginx");
    }
}
