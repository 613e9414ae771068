//! Mirror pods: how the API sees a static pod.
//!
//! The kubelet runs a static pod from its manifest file whatever the API
//! says; so that `kubectl get pods` and the scheduler still account for it,
//! it creates a *mirror pod* in the API (`pkg/kubelet/pod/mirror_client.go`
//! `CreateMirrorPod`): a copy of the static pod with the annotation
//! `kubernetes.io/config.mirror` set to the pod's hash and one controller
//! owner reference to the Node (NodeRestriction admits nothing else from a
//! node). A mirror pod is only a reflection: deleting it through the API
//! does not stop the containers, and the kubelet creates it again at its
//! next sync (`syncPod`: a mirror that is being deleted or no longer matches
//! the static pod's hash is deleted and recreated). A mirror pod whose file
//! is gone is deleted (`HandlePodCleanups` -> `deleteOrphanedMirrorPods`).
//! The kubelet writes the static pod's status to its mirror.

use super::config::{self, StaticPod, CONFIG_MIRROR_ANNOTATION};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// The mirror of `static_pod`, owned by the Node `node` with `node_uid`.
pub fn mirror_pod(static_pod: &StaticPod, node: &str, node_uid: &str) -> Pod {
    let mut pod = static_pod.pod.clone();
    pod.metadata.uid = None;
    pod.metadata.resource_version = None;
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(CONFIG_MIRROR_ANNOTATION.into(), static_pod.hash.clone());
    pod.metadata.owner_references = Some(
        vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: node.to_string(),
            uid: node_uid.to_string(),
            controller: Some(true),
            block_owner_deletion: None,
        }]
        .into(),
    );
    pod
}

/// `IsMirrorPodOf`: the mirror carries the static pod's hash.
pub fn is_mirror_of(mirror: &Pod, static_pod: &StaticPod) -> bool {
    config::annotation(mirror, CONFIG_MIRROR_ANNOTATION) == Some(static_pod.hash.as_str())
}

/// `POST /api/v1/namespaces/<ns>/pods` with the mirror.
pub fn create_request(mirror: Pod, credential: &Credential) -> ApiRequest {
    let ns = mirror.metadata.namespace.clone().unwrap_or_default();
    ApiRequest::new(Verb::Create, KindId::Pod, credential.clone())
        .in_namespace(ns)
        .with_body(Object::Pod(Box::new(mirror)))
}

/// `DeleteMirrorPod`: deleted at once (grace period 0), since no container
/// of the mirror runs anywhere.
pub fn delete_request(key: &str, credential: &Credential) -> ApiRequest {
    let (ns, name) = key.split_once('/').unwrap_or(("default", key));
    let mut r = ApiRequest::new(Verb::Delete, KindId::Pod, credential.clone())
        .in_namespace(ns)
        .named(name);
    r.options.grace_period_seconds = Some(0);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mirror_pod_is_owned_by_its_node_and_carries_the_hash() {
        let p = config::read_file(
            "web.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n",
            "worker-1",
        )
        .unwrap();
        let m = mirror_pod(&p, "worker-1", "node-uid");
        assert!(m.metadata.uid.is_none());
        assert!(is_mirror_of(&m, &p));
        let owner = &m.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Node", "worker-1", "node-uid")
        );
        assert_eq!(owner.controller, Some(true));
        assert!(config::is_mirror(&m));
    }
}
