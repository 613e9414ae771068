//! The Node authorizer and the NodeRestriction admission checks: a kubelet
//! may touch only what its own pods need.
//!
//! In Kubernetes, `--authorization-mode=Node,RBAC` asks the Node authorizer
//! (`plugin/pkg/auth/authorizer/node/node_authorizer.go`) first. It answers
//! only for users `system:node:<name>` in `system:nodes`
//! (`pkg/auth/nodeidentifier`). For secrets, configmaps, persistent volume
//! claims and service-account tokens it allows a request only when its graph
//! (`graph.go`, fed by `graph_populator.go` from pods with `spec.nodeName`
//! set) has a path from the object to the node: node ← pod ← secret /
//! configmap / pvc / service account. With `AuthorizeNodeWithSelectors` (on by
//! default since v1.32) it also scopes Node reads to the node's own Node and
//! pod lists to `spec.nodeName=<node>` field selectors; leases are limited to
//! the node's own in `kube-node-lease`. Everything else is checked against the
//! static `system:node` rules (`NodeRules()`), and anything not allowed gets
//! no opinion, so RBAC decides next. Writes the authorizer cannot scope — a
//! node creating or updating Node objects, mirror pods, pod status, evictions,
//! leases at create time — are scoped by the NodeRestriction admission plugin
//! (`plugin/pkg/admission/noderestriction/admission.go`), ported here as
//! [`admit_node_restriction`] for the admission chain to call.
//!
//! Left out: PersistentVolume, VolumeAttachment, ResourceClaim, ResourceSlice
//! and PodCertificateRequest vertices (the simulation has no storage or DRA;
//! requests for those kinds get "no relationship" as they would for objects
//! no pod uses), the graph's destination-edge index (a reference count per
//! node does the same job here), and NodeRestriction's checks of PVC status
//! updates, TokenRequests, CSINodes and ResourceSlices.

use super::authorizer::{Decision, RequestAttributes};
use super::bootstrap::node_rules;
use super::rbac::rules_allow;
use super::user::{node_identity, NodeIdentity, UserInfo};
use crate::api::pod::{Container, Pod, PodSpec};
use k8s_openapi::api::core::v1::{EnvFromSource, EnvVar, Node};
use k8s_openapi::api::rbac::v1::PolicyRule;
use std::collections::{BTreeMap, BTreeSet};

/// The namespace of node heartbeat Leases.
pub const NAMESPACE_NODE_LEASE: &str = "kube-node-lease";
/// The annotation that makes a pod a mirror pod.
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The kinds of object the graph relates to nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VertexKind {
    ConfigMap,
    Secret,
    ServiceAccount,
    PersistentVolumeClaim,
    /// Never populated here (see the module doc).
    PersistentVolume,
    /// Never populated here.
    VolumeAttachment,
    /// Never populated here.
    ResourceClaim,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct PodRecord {
    node: String,
    refs: BTreeSet<(VertexKind, String)>,
}

/// The Node authorizer's graph: which node each bound pod is on, and which
/// secrets, configmaps, service accounts and claims those pods use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeGraph {
    /// Copy-on-write: a copy of the cluster shares it until one side
    /// writes (see [`crate::cow::CowMap`]).
    pods: crate::cow::CowMap<(String, String), PodRecord>,
    /// (kind, namespace, name) → node → how many of the node's pods use it.
    uses: BTreeMap<(VertexKind, String, String), BTreeMap<String, u32>>,
}

impl NodeGraph {
    /// `AddPod` (or `DeletePod` when the pod is not bound yet): called from
    /// pod watch events.
    pub fn upsert_pod(&mut self, pod: &Pod) {
        let (Some(namespace), Some(name)) = (
            pod.metadata.namespace.as_deref(),
            pod.metadata.name.as_deref(),
        ) else {
            return;
        };
        self.remove_pod(namespace, name);
        let Some(spec) = pod.spec.as_ref() else {
            return;
        };
        let node = match spec.node_name.as_deref() {
            Some(node) if !node.is_empty() => node,
            _ => return,
        };
        let is_mirror = pod
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION));
        // A mirror pod grants nothing: a node must never be able to create a
        // pod that gives it access to other objects.
        let refs = if is_mirror {
            BTreeSet::new()
        } else {
            pod_references(name, spec)
        };
        for (kind, object) in &refs {
            *self
                .uses
                .entry((*kind, namespace.to_string(), object.clone()))
                .or_default()
                .entry(node.to_string())
                .or_default() += 1;
        }
        self.pods.insert(
            (namespace.to_string(), name.to_string()),
            PodRecord {
                node: node.to_string(),
                refs,
            },
        );
    }

    /// `DeletePod`.
    pub fn remove_pod(&mut self, namespace: &str, name: &str) {
        let Some(record) = self.pods.remove(&(namespace.to_string(), name.to_string())) else {
            return;
        };
        for (kind, object) in record.refs {
            let key = (kind, namespace.to_string(), object);
            let Some(nodes) = self.uses.get_mut(&key) else {
                continue;
            };
            if let Some(count) = nodes.get_mut(&record.node) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    nodes.remove(&record.node);
                }
            }
            if nodes.is_empty() {
                self.uses.remove(&key);
            }
        }
    }

    /// The node a pod is bound to, if the graph knows the pod.
    pub fn pod_node(&self, namespace: &str, name: &str) -> Option<&str> {
        self.pods
            .get(&(namespace.to_string(), name.to_string()))
            .map(|r| r.node.as_str())
    }

    /// `hasPathFrom` for an object used by pods.
    pub fn object_used_by_node(
        &self,
        kind: VertexKind,
        namespace: &str,
        name: &str,
        node: &str,
    ) -> bool {
        self.uses
            .get(&(kind, namespace.to_string(), name.to_string()))
            .is_some_and(|nodes| nodes.contains_key(node))
    }
}

fn containers(
    spec: &PodSpec,
) -> impl Iterator<Item = (Option<&Vec<EnvVar>>, Option<&Vec<EnvFromSource>>)> {
    let regular = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    regular
        .map(|c: &Container| (c.env.as_ref(), c.env_from.as_deref()))
        .chain(
            spec.ephemeral_containers
                .as_deref()
                .into_iter()
                .flatten()
                .map(|c| (c.env.as_ref(), c.env_from.as_ref())),
        )
}

/// What a pod uses: `VisitPodSecretNames`, `VisitPodConfigmapNames`
/// (`pkg/api/v1/pod/util.go`), its service account, and its claims
/// (`persistentVolumeClaim` volumes and generic ephemeral volumes, whose
/// claim is `<pod>-<volume>`).
fn pod_references(pod_name: &str, spec: &PodSpec) -> BTreeSet<(VertexKind, String)> {
    let mut refs = BTreeSet::new();
    let mut add = |kind: VertexKind, name: &str| {
        if !name.is_empty() {
            refs.insert((kind, name.to_string()));
        }
    };
    let service_account = spec
        .service_account_name
        .as_deref()
        .or(spec.service_account.as_deref())
        .unwrap_or("");
    add(VertexKind::ServiceAccount, service_account);
    for reference in spec.image_pull_secrets.as_deref().into_iter().flatten() {
        add(VertexKind::Secret, &reference.name);
    }
    for (env, env_from) in containers(spec) {
        for source in env_from.into_iter().flatten() {
            if let Some(secret) = &source.secret_ref {
                add(VertexKind::Secret, &secret.name);
            }
            if let Some(config_map) = &source.config_map_ref {
                add(VertexKind::ConfigMap, &config_map.name);
            }
        }
        for var in env.into_iter().flatten() {
            let Some(from) = &var.value_from else {
                continue;
            };
            if let Some(secret) = &from.secret_key_ref {
                add(VertexKind::Secret, &secret.name);
            }
            if let Some(config_map) = &from.config_map_key_ref {
                add(VertexKind::ConfigMap, &config_map.name);
            }
        }
    }
    for volume in spec.volumes.iter().flatten() {
        if let Some(s) = &volume.secret {
            add(VertexKind::Secret, s.secret_name.as_deref().unwrap_or(""));
        }
        if let Some(c) = &volume.config_map {
            add(VertexKind::ConfigMap, &c.name);
        }
        if let Some(projected) = &volume.projected {
            for source in projected.sources.iter().flatten() {
                if let Some(s) = &source.secret {
                    add(VertexKind::Secret, &s.name);
                }
                if let Some(c) = &source.config_map {
                    add(VertexKind::ConfigMap, &c.name);
                }
            }
        }
        if let Some(v) = &volume.azure_file {
            add(VertexKind::Secret, &v.secret_name);
        }
        let secret_refs = [
            volume.cephfs.as_ref().and_then(|v| v.secret_ref.as_ref()),
            volume.cinder.as_ref().and_then(|v| v.secret_ref.as_ref()),
            volume
                .flex_volume
                .as_ref()
                .and_then(|v| v.secret_ref.as_ref()),
            volume.rbd.as_ref().and_then(|v| v.secret_ref.as_ref()),
            volume.iscsi.as_ref().and_then(|v| v.secret_ref.as_ref()),
            volume
                .storageos
                .as_ref()
                .and_then(|v| v.secret_ref.as_ref()),
            volume
                .csi
                .as_ref()
                .and_then(|v| v.node_publish_secret_ref.as_ref()),
            volume.scale_io.as_ref().map(|v| &v.secret_ref),
        ];
        for reference in secret_refs.into_iter().flatten() {
            add(VertexKind::Secret, &reference.name);
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            add(VertexKind::PersistentVolumeClaim, &claim.claim_name);
        } else if volume.ephemeral.is_some() {
            add(
                VertexKind::PersistentVolumeClaim,
                &format!("{pod_name}-{}", volume.name),
            );
        }
    }
    refs
}

/// The Node authorizer.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAuthorizer {
    graph: NodeGraph,
    node_rules: Vec<PolicyRule>,
}

impl Default for NodeAuthorizer {
    fn default() -> Self {
        NodeAuthorizer::new()
    }
}

fn no_relationship(node: &str) -> Decision {
    Decision::no_opinion(format!(
        "no relationship found between node '{node}' and this object"
    ))
}

impl NodeAuthorizer {
    /// A Node authorizer with the `system:node` rules and an empty graph.
    pub fn new() -> Self {
        NodeAuthorizer {
            graph: NodeGraph::default(),
            node_rules: node_rules(),
        }
    }

    pub fn graph(&self) -> &NodeGraph {
        &self.graph
    }

    /// Feeds a pod add or update into the graph.
    pub fn upsert_pod(&mut self, pod: &Pod) {
        self.graph.upsert_pod(pod);
    }

    /// Feeds a pod deletion into the graph.
    pub fn remove_pod(&mut self, namespace: &str, name: &str) {
        self.graph.remove_pod(namespace, name);
    }

    /// `NodeAuthorizer.Authorize`.
    pub fn authorize(&self, attrs: &RequestAttributes) -> Decision {
        let node = match node_identity(&attrs.user) {
            NodeIdentity::NotANode => return Decision::no_opinion(""),
            NodeIdentity::UnknownNode => {
                return Decision::no_opinion(format!("unknown node for user {:?}", attrs.user.name))
            }
            NodeIdentity::Node(node) => node,
        };
        if attrs.resource_request {
            let decided = match (attrs.api_group.as_str(), attrs.resource.as_str()) {
                ("", "secrets") => {
                    Some(self.authorize_read_namespaced(node, VertexKind::Secret, attrs))
                }
                ("", "configmaps") => {
                    Some(self.authorize_read_namespaced(node, VertexKind::ConfigMap, attrs))
                }
                ("", "persistentvolumeclaims") if attrs.subresource == "status" => Some(
                    self.authorize_status_update(node, VertexKind::PersistentVolumeClaim, attrs),
                ),
                ("", "persistentvolumeclaims") => {
                    Some(self.authorize_get(node, VertexKind::PersistentVolumeClaim, attrs))
                }
                ("", "persistentvolumes") => {
                    Some(self.authorize_get(node, VertexKind::PersistentVolume, attrs))
                }
                ("resource.k8s.io", "resourceclaims") => {
                    Some(self.authorize_get(node, VertexKind::ResourceClaim, attrs))
                }
                ("storage.k8s.io", "volumeattachments") => {
                    Some(self.authorize_get(node, VertexKind::VolumeAttachment, attrs))
                }
                ("", "serviceaccounts") => Some(self.authorize_create_token(node, attrs)),
                ("coordination.k8s.io", "leases") => Some(authorize_lease(node, attrs)),
                ("storage.k8s.io", "csinodes") => Some(authorize_csi_node(node, attrs)),
                ("", "nodes") => Some(authorize_node(node, attrs)),
                ("", "pods") => Some(self.authorize_pod(node, attrs)),
                _ => None,
            };
            if let Some(decision) = decided {
                return decision;
            }
        }
        // Not subdivided: the static node rules.
        if rules_allow(attrs, &self.node_rules) {
            Decision::allow("")
        } else {
            Decision::no_opinion("")
        }
    }

    /// `authorize`: a named object with a path to the node.
    fn authorize_related(
        &self,
        node: &str,
        kind: VertexKind,
        attrs: &RequestAttributes,
    ) -> Decision {
        if attrs.name.is_empty() {
            return Decision::no_opinion("No Object name found");
        }
        if self
            .graph
            .object_used_by_node(kind, &attrs.namespace, &attrs.name, node)
        {
            Decision::allow("")
        } else {
            no_relationship(node)
        }
    }

    /// `authorizeReadNamespacedObject`: get/list/watch of one named object.
    fn authorize_read_namespaced(
        &self,
        node: &str,
        kind: VertexKind,
        attrs: &RequestAttributes,
    ) -> Decision {
        if !matches!(attrs.verb.as_str(), "get" | "list" | "watch") {
            return Decision::no_opinion("can only read resources of this type");
        }
        if !attrs.subresource.is_empty() {
            return Decision::no_opinion("cannot read subresource");
        }
        if attrs.namespace.is_empty() {
            return Decision::no_opinion("can only read namespaced object of this type");
        }
        self.authorize_related(node, kind, attrs)
    }

    /// `authorizeGet`.
    fn authorize_get(&self, node: &str, kind: VertexKind, attrs: &RequestAttributes) -> Decision {
        if attrs.verb != "get" {
            return Decision::no_opinion("can only get individual resources of this type");
        }
        if !attrs.subresource.is_empty() {
            return Decision::no_opinion("cannot get subresource");
        }
        self.authorize_related(node, kind, attrs)
    }

    /// `authorizeStatusUpdate`.
    fn authorize_status_update(
        &self,
        node: &str,
        kind: VertexKind,
        attrs: &RequestAttributes,
    ) -> Decision {
        if !matches!(attrs.verb.as_str(), "update" | "patch") {
            return Decision::no_opinion("can only get/update/patch this type");
        }
        if attrs.subresource != "status" {
            return Decision::no_opinion("can only update status subresource");
        }
        self.authorize_related(node, kind, attrs)
    }

    /// `authorizeCreateToken`: `create serviceaccounts/token` for a service
    /// account a pod on the node runs as.
    fn authorize_create_token(&self, node: &str, attrs: &RequestAttributes) -> Decision {
        if attrs.verb != "create" || attrs.name.is_empty() {
            return Decision::no_opinion("can only create tokens for individual service accounts");
        }
        if attrs.subresource != "token" {
            return Decision::no_opinion("can only create token subresource of serviceaccount");
        }
        if self.graph.object_used_by_node(
            VertexKind::ServiceAccount,
            &attrs.namespace,
            &attrs.name,
            node,
        ) {
            Decision::allow("")
        } else {
            no_relationship(node)
        }
    }

    /// `authorizePod`.
    fn authorize_pod(&self, node: &str, attrs: &RequestAttributes) -> Decision {
        match (attrs.subresource.as_str(), attrs.verb.as_str()) {
            ("", "get") => self.authorize_pod_get(node, attrs),
            ("", "list" | "watch") => {
                let scoped = attrs
                    .field_selector
                    .iter()
                    .any(|r| r.field == "spec.nodeName" && r.value == node);
                if scoped {
                    Decision::allow("")
                } else if !attrs.name.is_empty() {
                    self.pod_related(node, attrs)
                } else {
                    Decision::no_opinion(
                        "can only list/watch pods with spec.nodeName field selector",
                    )
                }
            }
            // Mirror pods; NodeRestriction scopes them to the node.
            ("", "create" | "delete") => Decision::allow(""),
            ("status", "update" | "patch") => Decision::allow(""),
            ("eviction", "create") => Decision::allow(""),
            _ => Decision::no_opinion(""),
        }
    }

    fn authorize_pod_get(&self, node: &str, attrs: &RequestAttributes) -> Decision {
        if !attrs.subresource.is_empty() {
            return Decision::no_opinion("cannot get subresource");
        }
        self.pod_related(node, attrs)
    }

    fn pod_related(&self, node: &str, attrs: &RequestAttributes) -> Decision {
        if attrs.name.is_empty() {
            return Decision::no_opinion("No Object name found");
        }
        if self.graph.pod_node(&attrs.namespace, &attrs.name) == Some(node) {
            Decision::allow("")
        } else {
            no_relationship(node)
        }
    }
}

/// `authorizeLease`: the node's own Lease in `kube-node-lease`.
fn authorize_lease(node: &str, attrs: &RequestAttributes) -> Decision {
    if !matches!(
        attrs.verb.as_str(),
        "get" | "create" | "update" | "patch" | "delete"
    ) {
        return Decision::no_opinion("can only get, create, update, patch, or delete a node lease");
    }
    if attrs.namespace != NAMESPACE_NODE_LEASE {
        return Decision::no_opinion(format!(
            "can only access leases in the {NAMESPACE_NODE_LEASE:?} system namespace"
        ));
    }
    // The name is unknown at create; NodeRestriction checks it then.
    if attrs.verb != "create" && attrs.name != node {
        return Decision::no_opinion(
            "can only access node lease with the same name as the requesting node",
        );
    }
    Decision::allow("")
}

/// `authorizeCSINode`.
fn authorize_csi_node(node: &str, attrs: &RequestAttributes) -> Decision {
    if !matches!(
        attrs.verb.as_str(),
        "get" | "create" | "update" | "patch" | "delete"
    ) {
        return Decision::no_opinion("can only get, create, update, patch, or delete a CSINode");
    }
    if !attrs.subresource.is_empty() {
        return Decision::no_opinion("cannot authorize CSINode subresources");
    }
    if attrs.verb != "create" && attrs.name != node {
        return Decision::no_opinion(
            "can only access CSINode with the same name as the requesting node",
        );
    }
    Decision::allow("")
}

/// `authorizeNode`: read its own Node; create/update/patch Nodes and Node
/// status (NodeRestriction limits those to its own).
fn authorize_node(node: &str, attrs: &RequestAttributes) -> Decision {
    match (attrs.subresource.as_str(), attrs.verb.as_str()) {
        ("", "create" | "update" | "patch") => Decision::allow(""),
        ("", "get" | "list" | "watch") => {
            if attrs.name == node {
                Decision::allow("")
            } else if attrs.name.is_empty() {
                Decision::no_opinion(format!(
                    "node '{node}' cannot read all nodes, only its own Node object"
                ))
            } else {
                Decision::no_opinion(format!(
                    "node '{node}' cannot read '{}', only its own Node object",
                    attrs.name
                ))
            }
        }
        ("status", "update" | "patch") => Decision::allow(""),
        _ => Decision::no_opinion(""),
    }
}

/// A write the NodeRestriction admission plugin checks.
#[derive(Clone, Copy, Debug)]
pub enum NodeRestrictionRequest<'a> {
    /// Creating a pod; `node` is the requesting node's Node object, if it
    /// exists (its uid must match the owner reference).
    CreatePod {
        pod: &'a Pod,
        node: Option<&'a Node>,
    },
    /// Deleting a pod; `existing` is the stored pod, if any.
    DeletePod {
        namespace: &'a str,
        name: &'a str,
        existing: Option<&'a Pod>,
    },
    /// Updating `pods/status`.
    UpdatePodStatus {
        old: &'a Pod,
        new: &'a Pod,
    },
    /// Creating `pods/eviction`; `existing` is the pod to evict, if any.
    EvictPod {
        namespace: &'a str,
        name: &'a str,
        existing: Option<&'a Pod>,
    },
    CreateNode {
        node: &'a Node,
    },
    /// Updating a Node or its status.
    UpdateNode {
        old: &'a Node,
        new: &'a Node,
    },
    /// Creating a Lease named `name`.
    CreateLease {
        namespace: &'a str,
        name: &'a str,
    },
    /// Any other write of a Lease.
    WriteLease {
        namespace: &'a str,
        name: &'a str,
    },
}

/// Why NodeRestriction refused a write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// 403, the message as `admission.NewForbidden` writes it.
    #[error("{message}")]
    Forbidden { message: String },
    /// 404, e.g. deleting a pod that does not exist.
    #[error("{resource} {name:?} not found")]
    NotFound { resource: String, name: String },
}

fn forbidden(resource: &str, name: &str, reason: impl std::fmt::Display) -> AdmissionError {
    let message = if name.is_empty() {
        format!("{resource} is forbidden: {reason}")
    } else {
        format!("{resource} {name:?} is forbidden: {reason}")
    };
    AdmissionError::Forbidden { message }
}

fn pod_name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

fn pod_node(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// The NodeRestriction admission plugin's `Admit`: nodes may modify only
/// their own Node and Lease, create only mirror pods bound to themselves
/// that reference nothing, and update status of, evict or delete only pods
/// bound to themselves. Requests from users that are not nodes pass.
pub fn admit_node_restriction(
    user: &UserInfo,
    request: &NodeRestrictionRequest<'_>,
) -> Result<(), AdmissionError> {
    let node = match node_identity(user) {
        NodeIdentity::NotANode => return Ok(()),
        NodeIdentity::UnknownNode => {
            let (resource, name) = describe(request);
            return Err(forbidden(
                resource,
                name,
                format!("could not determine node from user {:?}", user.name),
            ));
        }
        NodeIdentity::Node(node) => node,
    };
    match *request {
        NodeRestrictionRequest::CreatePod {
            pod,
            node: node_object,
        } => admit_pod_create(node, pod, node_object),
        NodeRestrictionRequest::DeletePod {
            namespace: _,
            name,
            existing,
        } => {
            let existing = existing.ok_or_else(|| AdmissionError::NotFound {
                resource: "pods".to_string(),
                name: name.to_string(),
            })?;
            if pod_node(existing) != node {
                return Err(forbidden(
                    "pods",
                    name,
                    format!("node {node:?} can only delete pods with spec.nodeName set to itself"),
                ));
            }
            Ok(())
        }
        NodeRestrictionRequest::UpdatePodStatus { old, new } => {
            let name = pod_name(old);
            if pod_node(old) != node {
                return Err(forbidden(
                    "pods",
                    name,
                    format!(
                        "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
                    ),
                ));
            }
            let labels = |p: &Pod| p.metadata.labels.clone().unwrap_or_default();
            if labels(old) != labels(new) {
                return Err(forbidden(
                    "pods",
                    name,
                    format!("node {node:?} cannot update labels through pod status"),
                ));
            }
            Ok(())
        }
        NodeRestrictionRequest::EvictPod {
            namespace: _,
            name,
            existing,
        } => {
            if name.is_empty() {
                return Err(forbidden(
                    "pods",
                    name,
                    "could not determine pod from request data",
                ));
            }
            let existing = existing.ok_or_else(|| AdmissionError::NotFound {
                resource: "pods".to_string(),
                name: name.to_string(),
            })?;
            if pod_node(existing) != node {
                return Err(forbidden(
                    "pods",
                    name,
                    format!("node {node} can only evict pods with spec.nodeName set to itself"),
                ));
            }
            Ok(())
        }
        NodeRestrictionRequest::CreateNode { node: object } => admit_node(node, None, object),
        NodeRestrictionRequest::UpdateNode { old, new } => admit_node(node, Some(old), new),
        NodeRestrictionRequest::CreateLease { namespace, name }
        | NodeRestrictionRequest::WriteLease { namespace, name } => {
            if namespace != NAMESPACE_NODE_LEASE {
                return Err(forbidden(
                    "leases.coordination.k8s.io",
                    name,
                    format!(
                        "can only access leases in the {NAMESPACE_NODE_LEASE:?} system namespace"
                    ),
                ));
            }
            if name != node {
                return Err(forbidden(
                    "leases.coordination.k8s.io",
                    name,
                    "can only access node lease with the same name as the requesting node",
                ));
            }
            Ok(())
        }
    }
}

fn describe<'a>(request: &NodeRestrictionRequest<'a>) -> (&'static str, &'a str) {
    match *request {
        NodeRestrictionRequest::CreatePod { pod, .. } => ("pods", pod_name(pod)),
        NodeRestrictionRequest::DeletePod { name, .. }
        | NodeRestrictionRequest::EvictPod { name, .. } => ("pods", name),
        NodeRestrictionRequest::UpdatePodStatus { old, .. } => ("pods", pod_name(old)),
        NodeRestrictionRequest::CreateNode { node } => {
            ("nodes", node.metadata.name.as_deref().unwrap_or(""))
        }
        NodeRestrictionRequest::UpdateNode { new, .. } => {
            ("nodes", new.metadata.name.as_deref().unwrap_or(""))
        }
        NodeRestrictionRequest::CreateLease { name, .. }
        | NodeRestrictionRequest::WriteLease { name, .. } => ("leases.coordination.k8s.io", name),
    }
}

/// `admitPodCreate`: only mirror pods, bound to this node, owned by its
/// Node, referencing no other object.
fn admit_pod_create(
    node: &str,
    pod: &Pod,
    node_object: Option<&Node>,
) -> Result<(), AdmissionError> {
    let name = pod_name(pod);
    let deny = |reason: String| Err(forbidden("pods", name, reason));
    let is_mirror = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION));
    if !is_mirror {
        return deny(format!(
            "pod does not have {MIRROR_POD_ANNOTATION:?} annotation, node {node:?} can only create mirror pods"
        ));
    }
    if pod_node(pod) != node {
        return deny(format!(
            "node {node:?} can only create pods with spec.nodeName set to itself"
        ));
    }
    let owners = pod
        .metadata
        .owner_references
        .as_deref()
        .map_or(&[][..], Vec::as_slice);
    match owners {
        [] => {
            return deny(format!(
                "node {node:?} can only create pods with an owner reference set to itself"
            ))
        }
        [owner] => {
            if owner.api_version != "v1" || owner.kind != "Node" || owner.name != node {
                return deny(format!(
                    "node {node:?} can only create pods with an owner reference set to itself"
                ));
            }
            if owner.controller != Some(true) {
                return deny(format!(
                    "node {node:?} can only create pods with a controller owner reference set to itself"
                ));
            }
            if owner.block_owner_deletion == Some(true) {
                return deny(format!(
                    "node {node:?} must not set blockOwnerDeletion on an owner reference"
                ));
            }
            let Some(node_object) = node_object else {
                return Err(AdmissionError::NotFound {
                    resource: "nodes".to_string(),
                    name: node.to_string(),
                });
            };
            let node_uid = node_object.metadata.uid.as_deref().unwrap_or("");
            if owner.uid != node_uid {
                return deny(format!(
                    "node {node} UID mismatch: expected {} got {node_uid}",
                    owner.uid
                ));
            }
        }
        _ => {
            return deny(format!(
                "node {node:?} can only create pods with a single owner reference set to itself"
            ))
        }
    }
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(());
    };
    let refs = pod_references(name, spec);
    let has = |kind: VertexKind| refs.iter().any(|(k, _)| *k == kind);
    if has(VertexKind::ServiceAccount) {
        return deny(format!(
            "node {node:?} can not create pods that reference a service account"
        ));
    }
    if has(VertexKind::Secret) {
        return deny(format!(
            "node {node:?} can not create pods that reference secrets"
        ));
    }
    if has(VertexKind::ConfigMap) {
        return deny(format!(
            "node {node:?} can not create pods that reference configmaps"
        ));
    }
    let trust_bundles = spec.volumes.iter().flatten().any(|v| {
        v.projected.as_ref().is_some_and(|p| {
            p.sources
                .iter()
                .flatten()
                .any(|s| s.cluster_trust_bundle.is_some())
        })
    });
    if trust_bundles {
        return deny(format!(
            "node {node:?} can not create pods that reference clustertrustbundles"
        ));
    }
    if spec
        .volumes
        .iter()
        .flatten()
        .any(|v| v.persistent_volume_claim.is_some())
    {
        return deny(format!(
            "node {node:?} can not create pods that reference persistentvolumeclaims"
        ));
    }
    Ok(())
}

/// `kubeletapis.IsKubeletLabel`: the labels a kubelet may set on its Node.
fn is_kubelet_label(key: &str) -> bool {
    const KUBELET_LABELS: &[&str] = &[
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
    ];
    if KUBELET_LABELS.contains(&key) {
        return true;
    }
    let namespace = label_namespace(key);
    ["kubelet.kubernetes.io", "node.kubernetes.io"]
        .iter()
        .any(|allowed| namespace == *allowed || namespace.ends_with(&format!(".{allowed}")))
}

fn label_namespace(key: &str) -> &str {
    key.split_once('/').map(|(ns, _)| ns).unwrap_or("")
}

fn is_kubernetes_label(key: &str) -> bool {
    let namespace = label_namespace(key);
    namespace == "kubernetes.io"
        || namespace.ends_with(".kubernetes.io")
        || namespace == "k8s.io"
        || namespace.ends_with(".k8s.io")
}

/// `getForbiddenLabels` over the labels that differ between two label sets.
fn forbidden_labels(
    new: &BTreeMap<String, String>,
    old: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let modified = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .chain(old.iter().filter(|(k, v)| new.get(*k) != Some(v)))
        .map(|(k, _)| k.clone());
    modified
        .filter(|label| {
            let namespace = label_namespace(label);
            let node_restriction = namespace == "node-restriction.kubernetes.io"
                || namespace.ends_with(".node-restriction.kubernetes.io");
            node_restriction || (is_kubernetes_label(label) && !is_kubelet_label(label))
        })
        .collect()
}

/// `admitNode`.
fn admit_node(node: &str, old: Option<&Node>, new: &Node) -> Result<(), AdmissionError> {
    let requested = new.metadata.name.as_deref().unwrap_or("");
    if requested != node {
        return Err(forbidden(
            "nodes",
            requested,
            format!("node {node:?} is not allowed to modify node {requested:?}"),
        ));
    }
    let labels = |n: &Node| n.metadata.labels.clone().unwrap_or_default();
    let config_source = |n: &Node| n.spec.as_ref().and_then(|s| s.config_source.clone());
    match old {
        None => {
            if config_source(new).is_some() {
                return Err(forbidden(
                    "nodes",
                    requested,
                    format!(
                        "node {node:?} is not allowed to create pods with a non-nil configSource"
                    ),
                ));
            }
            let bad = forbidden_labels(&labels(new), &BTreeMap::new());
            if !bad.is_empty() {
                return Err(forbidden(
                    "nodes",
                    requested,
                    format!(
                        "node {node:?} is not allowed to set the following labels: {}",
                        bad.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        Some(old) => {
            if let Some(source) = config_source(new) {
                if Some(source) != config_source(old) {
                    return Err(forbidden(
                        "nodes",
                        requested,
                        format!(
                            "node {node:?} is not allowed to update configSource to a new non-nil configSource"
                        ),
                    ));
                }
            }
            let taints = |n: &Node| {
                n.spec
                    .as_ref()
                    .and_then(|s| s.taints.clone())
                    .unwrap_or_default()
            };
            if taints(new) != taints(old) {
                return Err(forbidden(
                    "nodes",
                    requested,
                    format!("node {node:?} is not allowed to modify taints"),
                ));
            }
            let bad = forbidden_labels(&labels(new), &labels(old));
            if !bad.is_empty() {
                return Err(forbidden(
                    "nodes",
                    requested,
                    format!(
                        "is not allowed to modify labels: {}",
                        bad.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::auth::user::NODES_GROUP;
    use k8s_openapi::api::core::v1::{
        EnvVarSource, NodeSpec, PersistentVolumeClaimVolumeSource, SecretKeySelector,
        SecretVolumeSource, Taint, Volume,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn kubelet(node: &str) -> UserInfo {
        UserInfo::new(
            format!("system:node:{node}"),
            &[NODES_GROUP, "system:authenticated"],
        )
    }

    fn pod(ns: &str, name: &str, node: &str, secret_volume: Option<&str>) -> Pod {
        let volumes = secret_volume.map(|s| {
            vec![Volume {
                name: "creds".to_string(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(s.to_string()),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            }]
        });
        Pod {
            metadata: crate::api::pod::PodMeta {
                namespace: Some(ns.to_string()),
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                service_account_name: Some("default".to_string()),
                volumes,
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    fn get(user: UserInfo, resource: &str, ns: &str, name: &str) -> RequestAttributes {
        RequestAttributes::resource(user, "get", "", resource)
            .in_namespace(ns)
            .named(name)
    }

    #[test]
    fn users_that_are_not_nodes_get_no_opinion() {
        let authz = NodeAuthorizer::new();
        let jane = UserInfo::new("jane", &[]);
        assert_eq!(
            authz.authorize(&get(jane, "secrets", "default", "s")),
            Decision::no_opinion("")
        );
    }

    #[test]
    fn a_node_reads_only_secrets_its_pods_use() {
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&pod("default", "a", "worker-1", Some("db-password")));
        let mine = get(kubelet("worker-1"), "secrets", "default", "db-password");
        assert!(authz.authorize(&mine).is_allowed());
        let theirs = get(kubelet("worker-2"), "secrets", "default", "db-password");
        assert_eq!(
            authz.authorize(&theirs),
            Decision::no_opinion("no relationship found between node 'worker-2' and this object")
        );
        let mut write = mine.clone();
        write.verb = "update".to_string();
        assert_eq!(
            authz.authorize(&write),
            Decision::no_opinion("can only read resources of this type")
        );
        authz.remove_pod("default", "a");
        assert!(!authz.authorize(&mine).is_allowed());
    }

    #[test]
    fn an_unbound_pod_grants_nothing_until_it_is_bound() {
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&pod("default", "a", "", Some("s")));
        let attrs = get(kubelet("worker-1"), "secrets", "default", "s");
        assert!(!authz.authorize(&attrs).is_allowed());
        authz.upsert_pod(&pod("default", "a", "worker-1", Some("s")));
        assert!(authz.authorize(&attrs).is_allowed());
    }

    #[test]
    fn a_secret_used_on_two_nodes_stays_readable_by_one_when_the_other_pod_goes() {
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&pod("default", "a", "worker-1", Some("s")));
        authz.upsert_pod(&pod("default", "b", "worker-2", Some("s")));
        authz.remove_pod("default", "a");
        assert!(!authz
            .authorize(&get(kubelet("worker-1"), "secrets", "default", "s"))
            .is_allowed());
        assert!(authz
            .authorize(&get(kubelet("worker-2"), "secrets", "default", "s"))
            .is_allowed());
    }

    #[test]
    fn env_references_pvcs_and_service_account_tokens_are_related() {
        let mut p = pod("web", "a", "worker-1", None);
        let spec = p.spec.as_mut().unwrap();
        spec.containers = vec![Container {
            name: "app".to_string(),
            env: Some(vec![EnvVar {
                name: "TOKEN".to_string(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: "api-token".to_string(),
                        key: "t".to_string(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            }]),
            ..Container::default()
        }]
        .into();
        spec.volumes = Some(vec![Volume {
            name: "data".to_string(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: "data-claim".to_string(),
                read_only: None,
            }),
            ..Volume::default()
        }]);
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&p);
        let node = kubelet("worker-1");
        assert!(authz
            .authorize(&get(node.clone(), "secrets", "web", "api-token"))
            .is_allowed());
        assert!(authz
            .authorize(&get(
                node.clone(),
                "persistentvolumeclaims",
                "web",
                "data-claim"
            ))
            .is_allowed());
        let token = RequestAttributes::resource(node.clone(), "create", "", "serviceaccounts")
            .in_namespace("web")
            .named("default")
            .with_subresource("token");
        assert!(authz.authorize(&token).is_allowed());
        let other_sa = token.clone().named("admin");
        assert!(!authz.authorize(&other_sa).is_allowed());
    }

    #[test]
    fn mirror_pods_grant_no_access_to_what_they_reference() {
        let mut p = pod("kube-system", "etcd-cp-1", "cp-1", Some("s"));
        p.metadata.annotations =
            Some([(MIRROR_POD_ANNOTATION.to_string(), "x".to_string())].into());
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&p);
        assert!(!authz
            .authorize(&get(kubelet("cp-1"), "secrets", "kube-system", "s"))
            .is_allowed());
        assert!(authz
            .authorize(&get(kubelet("cp-1"), "pods", "kube-system", "etcd-cp-1"))
            .is_allowed());
    }

    #[test]
    fn a_node_reads_only_its_own_node_and_lists_pods_only_with_its_field_selector() {
        let mut authz = NodeAuthorizer::new();
        authz.upsert_pod(&pod("default", "a", "worker-1", None));
        let node = kubelet("worker-1");
        assert!(authz
            .authorize(&get(node.clone(), "nodes", "", "worker-1"))
            .is_allowed());
        assert_eq!(
            authz.authorize(&get(node.clone(), "nodes", "", "worker-2")),
            Decision::no_opinion(
                "node 'worker-1' cannot read 'worker-2', only its own Node object"
            )
        );
        let list_all = RequestAttributes::resource(node.clone(), "list", "", "pods");
        assert_eq!(
            authz.authorize(&list_all),
            Decision::no_opinion("can only list/watch pods with spec.nodeName field selector")
        );
        let scoped = list_all.clone().with_field("spec.nodeName", "worker-1");
        assert!(authz.authorize(&scoped).is_allowed());
        assert!(authz
            .authorize(&get(node.clone(), "pods", "default", "a"))
            .is_allowed());
        assert!(!authz
            .authorize(&get(kubelet("worker-2"), "pods", "default", "a"))
            .is_allowed());
        let status = RequestAttributes::resource(node.clone(), "patch", "", "nodes")
            .named("worker-1")
            .with_subresource("status");
        assert!(authz.authorize(&status).is_allowed());
    }

    #[test]
    fn a_node_uses_only_its_own_lease_in_kube_node_lease() {
        let authz = NodeAuthorizer::new();
        let lease = |node: &str, ns: &str, name: &str, verb: &str| {
            RequestAttributes::resource(kubelet(node), verb, "coordination.k8s.io", "leases")
                .in_namespace(ns)
                .named(name)
        };
        assert!(authz
            .authorize(&lease("w1", NAMESPACE_NODE_LEASE, "w1", "update"))
            .is_allowed());
        assert!(authz
            .authorize(&lease("w1", NAMESPACE_NODE_LEASE, "", "create"))
            .is_allowed());
        assert_eq!(
            authz.authorize(&lease("w1", NAMESPACE_NODE_LEASE, "w2", "update")),
            Decision::no_opinion(
                "can only access node lease with the same name as the requesting node"
            )
        );
        assert_eq!(
            authz.authorize(&lease("w1", "kube-system", "w1", "get")),
            Decision::no_opinion(
                r#"can only access leases in the "kube-node-lease" system namespace"#
            )
        );
    }

    #[test]
    fn events_and_csrs_fall_back_to_the_static_node_rules() {
        let authz = NodeAuthorizer::new();
        let event = RequestAttributes::resource(kubelet("w1"), "create", "", "events")
            .in_namespace("default");
        assert!(authz.authorize(&event).is_allowed());
        let csr = RequestAttributes::resource(
            kubelet("w1"),
            "create",
            "certificates.k8s.io",
            "certificatesigningrequests",
        );
        assert!(authz.authorize(&csr).is_allowed());
        let deployments = RequestAttributes::resource(kubelet("w1"), "list", "apps", "deployments");
        assert_eq!(authz.authorize(&deployments), Decision::no_opinion(""));
    }

    #[test]
    fn a_nameless_node_user_is_an_unknown_node() {
        let authz = NodeAuthorizer::new();
        let user = UserInfo::new("system:node:", &[NODES_GROUP]);
        assert_eq!(
            authz.authorize(&get(user, "secrets", "default", "s")),
            Decision::no_opinion(r#"unknown node for user "system:node:""#)
        );
    }

    fn node_object(name: &str, uid: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                uid: Some(uid.to_string()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            spec: Some(NodeSpec::default()),
            status: None,
        }
    }

    fn mirror_pod(node: &str, owner_uid: &str) -> Pod {
        let mut p = pod("kube-system", &format!("etcd-{node}"), node, None);
        p.spec.as_mut().unwrap().service_account_name = None;
        p.metadata.annotations =
            Some([(MIRROR_POD_ANNOTATION.to_string(), "hash".to_string())].into());
        p.metadata.owner_references = Some(
            vec![OwnerReference {
                api_version: "v1".to_string(),
                kind: "Node".to_string(),
                name: node.to_string(),
                uid: owner_uid.to_string(),
                controller: Some(true),
                block_owner_deletion: None,
            }]
            .into(),
        );
        p
    }

    #[test]
    fn node_restriction_lets_a_node_create_its_own_mirror_pods_only() {
        let me = node_object("cp-1", "uid-cp-1", &[]);
        let ok = mirror_pod("cp-1", "uid-cp-1");
        fn create<'a>(p: &'a Pod, me: &'a Node) -> NodeRestrictionRequest<'a> {
            NodeRestrictionRequest::CreatePod {
                pod: p,
                node: Some(me),
            }
        }
        assert_eq!(
            admit_node_restriction(&kubelet("cp-1"), &create(&ok, &me)),
            Ok(())
        );

        let mut plain = ok.clone();
        plain.metadata.annotations = None;
        assert_eq!(
            admit_node_restriction(&kubelet("cp-1"), &create(&plain, &me)),
            Err(AdmissionError::Forbidden {
                message: r#"pods "etcd-cp-1" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "cp-1" can only create mirror pods"#.to_string()
            })
        );
        let elsewhere = mirror_pod("cp-2", "uid-cp-1");
        assert!(admit_node_restriction(&kubelet("cp-1"), &create(&elsewhere, &me)).is_err());
        let mut with_secret = ok.clone();
        with_secret.spec.as_mut().unwrap().image_pull_secrets = Some(Box::new(vec![
            k8s_openapi::api::core::v1::LocalObjectReference {
                name: "r".to_string(),
            },
        ]));
        assert_eq!(
            admit_node_restriction(&kubelet("cp-1"), &create(&with_secret, &me)),
            Err(AdmissionError::Forbidden {
                message: r#"pods "etcd-cp-1" is forbidden: node "cp-1" can not create pods that reference secrets"#.to_string()
            })
        );
        let wrong_uid = mirror_pod("cp-1", "other");
        assert!(admit_node_restriction(&kubelet("cp-1"), &create(&wrong_uid, &me)).is_err());
    }

    #[test]
    fn node_restriction_confines_pod_writes_to_pods_bound_to_the_node() {
        let mine = pod("default", "a", "w1", None);
        let theirs = pod("default", "b", "w2", None);
        let user = kubelet("w1");
        fn delete(p: &Pod) -> NodeRestrictionRequest<'_> {
            NodeRestrictionRequest::DeletePod {
                namespace: "default",
                name: pod_name(p),
                existing: Some(p),
            }
        }
        assert_eq!(admit_node_restriction(&user, &delete(&mine)), Ok(()));
        assert_eq!(
            admit_node_restriction(&user, &delete(&theirs)),
            Err(AdmissionError::Forbidden {
                message: r#"pods "b" is forbidden: node "w1" can only delete pods with spec.nodeName set to itself"#.to_string()
            })
        );
        let status = NodeRestrictionRequest::UpdatePodStatus {
            old: &theirs,
            new: &theirs,
        };
        assert!(admit_node_restriction(&user, &status).is_err());
        let evict = NodeRestrictionRequest::EvictPod {
            namespace: "default",
            name: "b",
            existing: Some(&theirs),
        };
        assert!(admit_node_restriction(&user, &evict).is_err());
        let missing = NodeRestrictionRequest::EvictPod {
            namespace: "default",
            name: "c",
            existing: None,
        };
        assert_eq!(
            admit_node_restriction(&user, &missing),
            Err(AdmissionError::NotFound {
                resource: "pods".to_string(),
                name: "c".to_string()
            })
        );
        // Users that are not nodes are not NodeRestriction's business.
        assert_eq!(
            admit_node_restriction(&UserInfo::new("jane", &[]), &delete(&theirs)),
            Ok(())
        );
    }

    #[test]
    fn node_restriction_confines_node_writes_to_the_nodes_own_object_labels_and_taints() {
        let user = kubelet("w1");
        let other = node_object("w2", "u2", &[]);
        assert_eq!(
            admit_node_restriction(&user, &NodeRestrictionRequest::CreateNode { node: &other }),
            Err(AdmissionError::Forbidden {
                message: r#"nodes "w2" is forbidden: node "w1" is not allowed to modify node "w2""#
                    .to_string()
            })
        );
        let plain = node_object("w1", "u1", &[("kubernetes.io/hostname", "w1")]);
        assert_eq!(
            admit_node_restriction(&user, &NodeRestrictionRequest::CreateNode { node: &plain }),
            Ok(())
        );
        let control_plane =
            node_object("w1", "u1", &[("node-role.kubernetes.io/control-plane", "")]);
        assert_eq!(
            admit_node_restriction(&user, &NodeRestrictionRequest::CreateNode { node: &control_plane }),
            Err(AdmissionError::Forbidden {
                message: r#"nodes "w1" is forbidden: node "w1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane"#.to_string()
            })
        );
        let mut tainted = plain.clone();
        tainted.spec.as_mut().unwrap().taints = Some(vec![Taint {
            key: "k".to_string(),
            effect: "NoSchedule".to_string(),
            ..Taint::default()
        }]);
        assert_eq!(
            admit_node_restriction(
                &user,
                &NodeRestrictionRequest::UpdateNode {
                    old: &tainted,
                    new: &plain
                }
            ),
            Err(AdmissionError::Forbidden {
                message: r#"nodes "w1" is forbidden: node "w1" is not allowed to modify taints"#
                    .to_string()
            })
        );
        let relabelled = node_object(
            "w1",
            "u1",
            &[
                ("kubernetes.io/hostname", "w1"),
                ("node.kubernetes.io/exclude", "x"),
            ],
        );
        assert_eq!(
            admit_node_restriction(
                &user,
                &NodeRestrictionRequest::UpdateNode {
                    old: &plain,
                    new: &relabelled
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn node_restriction_confines_leases_to_the_nodes_own() {
        let user = kubelet("w1");
        let ok = NodeRestrictionRequest::CreateLease {
            namespace: NAMESPACE_NODE_LEASE,
            name: "w1",
        };
        assert_eq!(admit_node_restriction(&user, &ok), Ok(()));
        let other = NodeRestrictionRequest::WriteLease {
            namespace: NAMESPACE_NODE_LEASE,
            name: "w2",
        };
        assert_eq!(
            admit_node_restriction(&user, &other),
            Err(AdmissionError::Forbidden {
                message: r#"leases.coordination.k8s.io "w2" is forbidden: can only access node lease with the same name as the requesting node"#.to_string()
            })
        );
    }
}
