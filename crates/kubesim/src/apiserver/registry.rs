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
    let resource = resource_path(kind);
    // Room for a namespace and a name after it (keys are built on it).
    let mut p = String::with_capacity(64 + resource.len());
    p.push_str("/registry/");
    p.push_str(resource);
    p.push('/');
    p
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

/// How many decoded objects [`Decoded`] remembers.
pub const DECODED_CAPACITY: usize = 4096;

/// Objects decoded from etcd, remembered by key, revision and bytes.
///
/// Every kube-apiserver instance decodes each event of its etcd watch (the
/// cacher's `watchCache.processEvent`). Raft gives every member the same
/// bytes for a key at a revision, and the decoded object is immutable, so
/// the instances of one cluster share one decoding: an entry is used only if
/// the bytes are equal, which makes the result exactly the one a fresh
/// decode would give. This saves the simulator work; it changes nothing any
/// instance sees.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    entries: std::collections::BTreeMap<(Revision, Rc<str>), DecodedEntry>,
}

/// The stored bytes and the object decoded from them.
type DecodedEntry = (Rc<[u8]>, Rc<Object>);

impl Decoded {
    /// The object stored as `bytes` at `key` and `mod_revision` (as
    /// [`decode`] gives it), decoded once.
    pub fn decode(
        &mut self,
        kind: KindId,
        key: &Rc<str>,
        bytes: &Rc<[u8]>,
        mod_revision: Revision,
    ) -> Option<Rc<Object>> {
        let id = (mod_revision, key.clone());
        if let Some((b, o)) = self.entries.get(&id) {
            if o.kind_id() == kind && (Rc::ptr_eq(b, bytes) || **b == **bytes) {
                return Some(o.clone());
            }
        }
        let object = Rc::new(decode(kind, bytes, mod_revision)?);
        self.entries.insert(id, (bytes.clone(), object.clone()));
        if self.entries.len() > DECODED_CAPACITY {
            self.entries.pop_first();
        }
        Some(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::Pod;

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
        let pod = Object::Pod(Box::new(Pod {
            metadata: crate::api::pod::PodMeta {
                name: Some("nginx".into()),
                namespace: Some("default".into()),
                resource_version: Some("7".into()),
                ..Default::default()
            },
            ..Default::default()
        }));
        let bytes = encode(&pod);
        assert!(!String::from_utf8_lossy(&bytes).contains("resourceVersion"));
        let back = decode(KindId::Pod, &bytes, 42).unwrap();
        assert_eq!(back.resource_version(), Some("42"));
        assert_eq!(back.name(), "nginx");
    }

    fn stored_pod(name: &str) -> Rc<[u8]> {
        encode(&Object::Pod(Box::new(Pod {
            metadata: crate::api::pod::PodMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            ..Default::default()
        })))
    }

    #[test]
    fn the_same_bytes_at_the_same_revision_are_decoded_once_and_equal_a_fresh_decode() {
        let mut d = Decoded::default();
        let key: Rc<str> = "/registry/pods/default/a".into();
        let bytes = stored_pod("a");
        // Another member's copy of the same bytes.
        let copy: Rc<[u8]> = bytes.to_vec().into();
        let first = d.decode(KindId::Pod, &key, &bytes, 5).unwrap();
        let second = d.decode(KindId::Pod, &key, &copy, 5).unwrap();
        assert!(Rc::ptr_eq(&first, &second));
        assert_eq!(*first, decode(KindId::Pod, &bytes, 5).unwrap());
    }

    #[test]
    fn different_bytes_or_revisions_are_decoded_afresh() {
        let mut d = Decoded::default();
        let key: Rc<str> = "/registry/pods/default/a".into();
        let a = d.decode(KindId::Pod, &key, &stored_pod("a"), 5).unwrap();
        let b = d.decode(KindId::Pod, &key, &stored_pod("b"), 5).unwrap();
        assert_eq!(b.name(), "b");
        let later = d.decode(KindId::Pod, &key, &stored_pod("a"), 6).unwrap();
        assert_eq!(later.resource_version(), Some("6"));
        assert_eq!(a.resource_version(), Some("5"));
    }

    #[test]
    fn the_shared_decodings_stay_bounded() {
        let mut d = Decoded::default();
        let key: Rc<str> = "/registry/pods/default/a".into();
        let bytes = stored_pod("a");
        for rev in 0..(DECODED_CAPACITY as i64 + 10) {
            d.decode(KindId::Pod, &key, &bytes, rev);
        }
        assert_eq!(d.entries.len(), DECODED_CAPACITY);
    }
}
