//! The kinds the simulation serves and the `Object` that holds one of them.
//!
//! In Kubernetes, kube-apiserver's discovery documents tell kubectl which
//! resources exist (`kubectl api-resources`: name, short names, API version,
//! namespaced, kind) and the REST mapper resolves `pods`, `pod`, `po`,
//! `Pod` or `deployments.apps` to one of them. Here the table is static: the
//! kinds below, one API version each, no CustomResourceDefinitions and no
//! aggregated APIs.

use super::labels::LabelsRef;
use super::pod::{Pod, PodMeta};
use k8s_openapi::api::{
    apps::v1 as apps, authentication::v1 as authentication, authorization::v1 as authorization,
    batch::v1 as batch, certificates::v1 as certificates, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events, policy::v1 as policy,
    rbac::v1 as rbac, scheduling::v1 as scheduling,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::Metadata;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One kind of object the API serves, as `kubectl api-resources` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub id: KindId,
    /// `Pod`, `Deployment`.
    pub kind: &'static str,
    /// `""` for the core group, `apps`, `rbac.authorization.k8s.io`.
    pub group: &'static str,
    /// `v1`.
    pub version: &'static str,
    /// The resource name in URLs and RBAC rules: `pods`, `deployments`.
    pub plural: &'static str,
    /// kubectl's short names: `po`, `deploy`.
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
}

impl Kind {
    /// `v1` for the core group, else `group/version` (`apps/v1`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The resource qualified by its group, as API errors name it:
    /// `pods`, `deployments.apps` (apimachinery's `GroupResource.String()`).
    pub fn group_resource(&self) -> String {
        qualify(self.plural, self.group)
    }

    /// The kind qualified by its group, as `Invalid` errors name it:
    /// `Pod`, `Deployment.apps` (apimachinery's `GroupKind.String()`).
    pub fn group_kind(&self) -> String {
        qualify(self.kind, self.group)
    }

    /// The singular resource name kubectl also accepts: `pod`, `deployment`.
    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }

    /// Looks a kind up by the `apiVersion` and `kind` of a manifest.
    pub fn for_api_version(api_version: &str, kind: &str) -> Option<&'static Kind> {
        let (group, version) = split_api_version(api_version);
        KINDS
            .iter()
            .find(|k| k.kind == kind && k.group == group && k.version == version)
    }

    /// Resolves what a person types after `kubectl get` the way kubectl's
    /// REST mapper does: a plural (`pods`), singular (`pod`), short name
    /// (`po`) or kind (`Pod`), case-insensitively, optionally qualified by a
    /// group (`deployments.apps`) or a version and group
    /// (`deployments.v1.apps`). The core group wins ties (`events`).
    pub fn resolve(resource: &str) -> Option<&'static Kind> {
        let lower = resource.to_ascii_lowercase();
        let matches_name = |k: &Kind, name: &str| {
            name == k.plural || name == k.singular() || k.short_names.contains(&name)
        };
        if let Some(k) = KINDS.iter().find(|k| matches_name(k, &lower)) {
            return Some(k);
        }
        let (name, qualifier) = lower.split_once('.')?;
        KINDS.iter().find(|k| {
            matches_name(k, name)
                && (qualifier == k.group
                    || qualifier
                        .split_once('.')
                        .is_some_and(|(v, g)| v == k.version && g == k.group)
                    || (k.group.is_empty() && qualifier == k.version))
        })
    }
}

fn qualify(name: &str, group: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{group}")
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (`""`, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

macro_rules! kinds {
    ($( $variant:ident($ty:ty) = $kind:literal, $group:literal, $plural:literal, [$($short:literal),*], $ns:literal; )*) => {
        /// Names one entry of [`KINDS`]; `id as usize` is its index.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum KindId { $($variant),* }

        /// Every kind the simulated API serves, in discovery order.
        pub static KINDS: &[Kind] = &[
            $(Kind { id: KindId::$variant, kind: $kind, group: $group, version: "v1", plural: $plural, short_names: &[$($short),*], namespaced: $ns }),*
        ];

        /// An API object of one of the served kinds, in the versioned schema
        /// of `k8s-openapi` (what manifests and `-o yaml` use).
        ///
        /// Inside the simulation objects are shared as `Rc<Object>` and
        /// never mutated in place: an update replaces the `Rc`.
        // Every variant is boxed: the enum is then two words, and each
        // object costs its own kind's size rather than the largest kind's
        // (unboxed, every `Rc<Object>`, a Lease or an Event included, took
        // 3,152 bytes, a CronJob's size; a Pod needs 2,464).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Object { $($variant(Box<$ty>)),* }

        impl Object {
            /// Which kind this object is.
            pub fn kind_id(&self) -> KindId {
                match self { $(Object::$variant(_) => KindId::$variant),* }
            }

            /// The metadata as its kind holds it: `k8s-openapi`'s, or a
            /// Pod's compact [`PodMeta`].
            pub fn meta_parts(&self) -> Result<&ObjectMeta, &PodMeta> {
                match self { $(Object::$variant(o) => o.kind_meta()),* }
            }

            /// The same, to change.
            pub fn meta_parts_mut(&mut self) -> Result<&mut ObjectMeta, &mut PodMeta> {
                match self { $(Object::$variant(o) => o.kind_meta_mut()),* }
            }

            /// The object as JSON, with `apiVersion` and `kind`.
            pub fn to_value(&self) -> serde_json::Value {
                let value = match self { $(Object::$variant(o) => serde_json::to_value(o)),* };
                // k8s-openapi's types serialize into JSON infallibly: their
                // maps have string keys and their times are formatted first.
                value.unwrap_or(serde_json::Value::Null)
            }

            /// Decodes a JSON object of the given kind, ignoring fields the
            /// schema does not know (see `decode` for strict decoding).
            pub(crate) fn from_value_of(
                kind: KindId,
                value: &serde_json::Value,
            ) -> Result<Object, serde_path_to_error::Error<serde_json::Error>> {
                Ok(match kind { $(KindId::$variant => Object::$variant(serde_path_to_error::deserialize(value)?)),* })
            }

            /// The object as compact JSON bytes, straight from the typed
            /// value (what the API server stores in etcd).
            pub fn to_json_bytes(&self) -> Vec<u8> {
                let bytes = match self { $(Object::$variant(o) => serde_json::to_vec(o)),* };
                // As for `to_value`: k8s-openapi's types serialize infallibly.
                bytes.unwrap_or_default()
            }

            /// Decodes JSON bytes of the given kind straight into the typed
            /// value, ignoring unknown fields (stored objects were validated
            /// when written).
            #[cfg(not(target_arch = "wasm32"))]
            pub fn from_json_bytes(kind: KindId, bytes: &[u8]) -> Result<Object, serde_json::Error> {
                Ok(match kind { $(KindId::$variant => Object::$variant(serde_json::from_slice(bytes)?)),* })
            }

            /// In the page, stored bytes decode through a JSON value and
            /// the decoder `from_value_of` uses: the same object (both
            /// ignore unknown fields), with one copy of every kind's
            /// decoding code in the wasm instead of two (a straight decoder
            /// from bytes is a second instantiation of each `Deserialize`,
            /// about a tenth of the page's size). Natively the straight
            /// decoder stays: it is the faster one on the write path.
            #[cfg(target_arch = "wasm32")]
            pub fn from_json_bytes(kind: KindId, bytes: &[u8]) -> Result<Object, serde_json::Error> {
                let value: serde_json::Value = serde_json::from_slice(bytes)?;
                Object::from_value_of(kind, &value).map_err(serde_path_to_error::Error::into_inner)
            }
        }

        $(
            impl From<$ty> for Object {
                fn from(o: $ty) -> Object { Object::$variant(Box::new(o)) }
            }
        )*
    };
}

kinds! {
    Namespace(core::Namespace) = "Namespace", "", "namespaces", ["ns"], false;
    Node(core::Node) = "Node", "", "nodes", ["no"], false;
    Pod(super::pod::Pod) = "Pod", "", "pods", ["po"], true;
    Service(core::Service) = "Service", "", "services", ["svc"], true;
    ConfigMap(core::ConfigMap) = "ConfigMap", "", "configmaps", ["cm"], true;
    Secret(core::Secret) = "Secret", "", "secrets", [], true;
    ServiceAccount(core::ServiceAccount) = "ServiceAccount", "", "serviceaccounts", ["sa"], true;
    Event(core::Event) = "Event", "", "events", ["ev"], true;
    EndpointSlice(discovery::EndpointSlice) = "EndpointSlice", "discovery.k8s.io", "endpointslices", [], true;
    EventsEvent(events::Event) = "Event", "events.k8s.io", "events", ["ev"], true;
    Lease(coordination::Lease) = "Lease", "coordination.k8s.io", "leases", [], true;
    Role(rbac::Role) = "Role", "rbac.authorization.k8s.io", "roles", [], true;
    ClusterRole(rbac::ClusterRole) = "ClusterRole", "rbac.authorization.k8s.io", "clusterroles", [], false;
    RoleBinding(rbac::RoleBinding) = "RoleBinding", "rbac.authorization.k8s.io", "rolebindings", [], true;
    ClusterRoleBinding(rbac::ClusterRoleBinding) = "ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings", [], false;
    Deployment(apps::Deployment) = "Deployment", "apps", "deployments", ["deploy"], true;
    ReplicaSet(apps::ReplicaSet) = "ReplicaSet", "apps", "replicasets", ["rs"], true;
    StatefulSet(apps::StatefulSet) = "StatefulSet", "apps", "statefulsets", ["sts"], true;
    DaemonSet(apps::DaemonSet) = "DaemonSet", "apps", "daemonsets", ["ds"], true;
    ControllerRevision(apps::ControllerRevision) = "ControllerRevision", "apps", "controllerrevisions", [], true;
    Job(batch::Job) = "Job", "batch", "jobs", [], true;
    CronJob(batch::CronJob) = "CronJob", "batch", "cronjobs", ["cj"], true;
    PriorityClass(scheduling::PriorityClass) = "PriorityClass", "scheduling.k8s.io", "priorityclasses", ["pc"], false;
    CertificateSigningRequest(certificates::CertificateSigningRequest) = "CertificateSigningRequest", "certificates.k8s.io", "certificatesigningrequests", ["csr"], false;
    PodDisruptionBudget(policy::PodDisruptionBudget) = "PodDisruptionBudget", "policy", "poddisruptionbudgets", ["pdb"], true;
    SubjectAccessReview(authorization::SubjectAccessReview) = "SubjectAccessReview", "authorization.k8s.io", "subjectaccessreviews", [], false;
    // Served only as `serviceaccounts/<name>/token`; never stored.
    TokenRequest(authentication::TokenRequest) = "TokenRequest", "authentication.k8s.io", "tokenrequests", [], true;
}

impl KindId {
    /// The registry entry of this kind.
    pub fn info(self) -> &'static Kind {
        &KINDS[self as usize]
    }
}

static NO_ANNOTATIONS: BTreeMap<String, String> = BTreeMap::new();

/// Where a kind keeps its metadata: `k8s-openapi`'s `ObjectMeta` for every
/// kind but Pod, whose compact [`PodMeta`] holds labels as a vector.
trait KindMeta {
    fn kind_meta(&self) -> Result<&ObjectMeta, &PodMeta>;
    fn kind_meta_mut(&mut self) -> Result<&mut ObjectMeta, &mut PodMeta>;
}

impl<T: Metadata<Ty = ObjectMeta>> KindMeta for T {
    fn kind_meta(&self) -> Result<&ObjectMeta, &PodMeta> {
        Ok(self.metadata())
    }
    fn kind_meta_mut(&mut self) -> Result<&mut ObjectMeta, &mut PodMeta> {
        Ok(self.metadata_mut())
    }
}

impl KindMeta for Pod {
    fn kind_meta(&self) -> Result<&ObjectMeta, &PodMeta> {
        Err(&self.metadata)
    }
    fn kind_meta_mut(&mut self) -> Result<&mut ObjectMeta, &mut PodMeta> {
        Err(&mut self.metadata)
    }
}

/// Reads one field of either metadata type (their fields share names and,
/// but for labels, types).
macro_rules! field {
    ($obj:expr, |$m:ident| $e:expr) => {
        match $obj.meta_parts() {
            Ok($m) => $e,
            Err($m) => $e,
        }
    };
}

/// An object's metadata as `k8s-openapi`'s `ObjectMeta`, to change: the
/// object's own for every kind but Pod; for a Pod, its compact metadata
/// converted (the strings moved, not copied) and converted back when this
/// is dropped.
pub enum MetaMut<'a> {
    K8s(&'a mut ObjectMeta),
    Pod(&'a mut PodMeta, Box<ObjectMeta>),
}

impl std::ops::Deref for MetaMut<'_> {
    type Target = ObjectMeta;
    fn deref(&self) -> &ObjectMeta {
        match self {
            MetaMut::K8s(m) => m,
            MetaMut::Pod(_, m) => m,
        }
    }
}

impl std::ops::DerefMut for MetaMut<'_> {
    fn deref_mut(&mut self) -> &mut ObjectMeta {
        match self {
            MetaMut::K8s(m) => m,
            MetaMut::Pod(_, m) => m,
        }
    }
}

impl Drop for MetaMut<'_> {
    fn drop(&mut self) {
        if let MetaMut::Pod(pod, meta) = self {
            **pod = PodMeta::from(std::mem::take(&mut **meta));
        }
    }
}

impl Object {
    /// The object's metadata as `k8s-openapi` holds it: borrowed for every
    /// kind but Pod, a copy for a Pod (whose labels are compact). Hot paths
    /// read single fields through `name`, `labels`, ... instead.
    pub fn meta(&self) -> Cow<'_, ObjectMeta> {
        match self.meta_parts() {
            Ok(m) => Cow::Borrowed(m),
            Err(p) => Cow::Owned(p.clone().into()),
        }
    }

    /// The object's metadata, to fill in on a copy before it replaces
    /// the shared original (see [`MetaMut`]).
    pub fn meta_mut(&mut self) -> MetaMut<'_> {
        match self.meta_parts_mut() {
            Ok(m) => MetaMut::K8s(m),
            Err(p) => {
                let meta = Box::new(ObjectMeta::from(std::mem::take(p)));
                MetaMut::Pod(p, meta)
            }
        }
    }

    /// The registry entry of this object's kind.
    pub fn kind(&self) -> &'static Kind {
        self.kind_id().info()
    }

    /// `metadata.name`, or `""` when unset (a `generateName` not yet applied).
    pub fn name(&self) -> &str {
        field!(self, |m| m.name.as_deref().unwrap_or(""))
    }

    /// `metadata.namespace`, `None` for cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        field!(self, |m| m.namespace.as_deref())
    }

    pub fn uid(&self) -> Option<&str> {
        field!(self, |m| m.uid.as_deref())
    }

    pub fn resource_version(&self) -> Option<&str> {
        field!(self, |m| m.resource_version.as_deref())
    }

    pub fn generation(&self) -> Option<i64> {
        field!(self, |m| m.generation)
    }

    /// `metadata.labels`, empty when unset.
    pub fn labels(&self) -> LabelsRef<'_> {
        match self.meta_parts() {
            Ok(m) => m.labels.as_ref().map_or(LabelsRef::empty(), LabelsRef::Map),
            Err(p) => p
                .labels
                .as_ref()
                .map_or(LabelsRef::empty(), LabelsRef::List),
        }
    }

    /// `metadata.annotations`, empty when unset.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        field!(self, |m| m.annotations.as_ref().unwrap_or(&NO_ANNOTATIONS))
    }

    pub fn owner_references(&self) -> &[OwnerReference] {
        field!(self, |m| m
            .owner_references
            .as_ref()
            .map_or(&[][..], |v| &v[..]))
    }

    /// The owner reference with `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references()
            .iter()
            .find(|r| r.controller == Some(true))
    }

    pub fn finalizers(&self) -> &[String] {
        field!(self, |m| m.finalizers.as_deref().unwrap_or(&[]))
    }

    pub fn creation_timestamp(&self) -> Option<&Time> {
        field!(self, |m| m.creation_timestamp.as_ref())
    }

    pub fn deletion_timestamp(&self) -> Option<&Time> {
        field!(self, |m| m.deletion_timestamp.as_ref())
    }

    /// `namespace/name`, or `name` for cluster-scoped objects: the key
    /// informers and work queues use (client-go's `MetaNamespaceKeyFunc`).
    pub fn key(&self) -> String {
        match self.namespace() {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", self.name()),
            _ => self.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::Resource;

    #[test]
    fn the_registry_agrees_with_k8s_openapi_on_every_kind() {
        fn check<T: Resource>(id: KindId) {
            let k = id.info();
            assert_eq!(k.id, id);
            assert_eq!(k.kind, T::KIND);
            assert_eq!(k.group, T::GROUP);
            assert_eq!(k.version, T::VERSION);
            assert_eq!(k.plural, T::URL_PATH_SEGMENT);
            assert_eq!(k.api_version(), T::API_VERSION);
        }
        check::<core::Pod>(KindId::Pod);
        check::<core::Namespace>(KindId::Namespace);
        check::<events::Event>(KindId::EventsEvent);
        check::<apps::Deployment>(KindId::Deployment);
        check::<rbac::ClusterRoleBinding>(KindId::ClusterRoleBinding);
        check::<certificates::CertificateSigningRequest>(KindId::CertificateSigningRequest);
        check::<policy::PodDisruptionBudget>(KindId::PodDisruptionBudget);
        check::<apps::ControllerRevision>(KindId::ControllerRevision);
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.id as usize, i);
        }
    }

    #[test]
    fn resources_resolve_by_plural_singular_short_name_kind_and_group() {
        let id = |s| Kind::resolve(s).map(|k| k.id);
        assert_eq!(id("pods"), Some(KindId::Pod));
        assert_eq!(id("pod"), Some(KindId::Pod));
        assert_eq!(id("po"), Some(KindId::Pod));
        assert_eq!(id("Pod"), Some(KindId::Pod));
        assert_eq!(id("deploy"), Some(KindId::Deployment));
        assert_eq!(id("deployments.apps"), Some(KindId::Deployment));
        assert_eq!(id("deployments.v1.apps"), Some(KindId::Deployment));
        assert_eq!(id("events"), Some(KindId::Event));
        assert_eq!(id("events.events.k8s.io"), Some(KindId::EventsEvent));
        assert_eq!(id("svc"), Some(KindId::Service));
        assert_eq!(id("deployments.batch"), None);
        assert_eq!(id("widgets"), None);
    }

    #[test]
    fn api_versions_and_qualified_names_follow_apimachinery() {
        assert_eq!(KindId::Pod.info().api_version(), "v1");
        assert_eq!(KindId::Deployment.info().api_version(), "apps/v1");
        assert_eq!(
            KindId::Deployment.info().group_resource(),
            "deployments.apps"
        );
        assert_eq!(KindId::Pod.info().group_kind(), "Pod");
        assert_eq!(
            Kind::for_api_version("apps/v1", "Deployment").map(|k| k.id),
            Some(KindId::Deployment)
        );
        assert!(Kind::for_api_version("apps/v1beta1", "Deployment").is_none());
    }

    #[test]
    fn an_object_converts_to_json_with_its_api_version_and_kind() {
        let mut pod = super::super::pod::Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("default".into());
        let obj = Object::from(pod);
        let v = obj.to_value();
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["kind"], "Pod");
        assert_eq!(obj.key(), "default/web");
        assert!(obj.labels().is_empty());
        let back = Object::from_value_of(KindId::Pod, &v).ok();
        assert_eq!(back, Some(obj));
    }
    #[test]
    fn stored_bytes_decode_to_the_same_object_straight_or_through_a_value() {
        // The page decodes etcd's bytes through a JSON value (one copy of
        // the decoders in the wasm); natively they decode straight.
        let manifests = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      volumes:\n      - name: cache\n        emptyDir: {sizeLimit: 1Gi}\n      containers:\n      - name: nginx\n        image: nginx:1.14.2\n        ports: [{containerPort: 80}]\n        resources: {requests: {cpu: 250m, memory: 64Mi}}\n        readinessProbe: {httpGet: {path: /, port: 80}}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: default\n  ownerReferences: [{apiVersion: v1, kind: ReplicaSet, name: r, uid: u, controller: true}]\nspec:\n  nodeName: worker-1\n  tolerations: [{key: k, operator: Exists, effect: NoExecute, tolerationSeconds: 300}]\n  containers:\n  - name: c\n    image: busybox\n    command: [sh, -c, sleep 3600]\n    env: [{name: A, value: b}]\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: t\ndata: {token: aGVsbG8=}\n";
        let objects = crate::api::decode::decode(manifests, "test.yaml").unwrap_or_default();
        assert_eq!(objects.len(), 4);
        for o in objects {
            let bytes = o.to_json_bytes();
            let straight = Object::from_json_bytes(o.kind_id(), &bytes).ok();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let through = Object::from_value_of(o.kind_id(), &value).ok();
            assert_eq!(straight.as_ref(), Some(&o));
            assert_eq!(through, straight);
        }
    }

    #[test]
    fn a_pods_metadata_changed_through_meta_mut_is_kept_and_reads_like_any_kinds() {
        let yaml = |o: &Object| crate::api::print::to_yaml(&o.to_value());
        let mut pod = Object::from(super::super::pod::Pod::default());
        {
            let mut m = pod.meta_mut();
            m.name = Some("web".into());
            m.namespace = Some("default".into());
            m.labels = Some([("tier".to_string(), "fe".to_string())].into());
        }
        pod.meta_mut()
            .labels
            .get_or_insert_with(Default::default)
            .insert("app".into(), "web".into());
        let mut cm = Object::from(core::ConfigMap::default());
        {
            let mut m = cm.meta_mut();
            m.name = Some("web".into());
            m.namespace = Some("default".into());
            m.labels = pod.meta().labels.clone();
        }
        assert_eq!(pod.key(), "default/web");
        assert_eq!(pod.labels(), cm.labels());
        let keys: Vec<&String> = pod.labels().keys().collect();
        assert_eq!(keys, ["app", "tier"]);
        assert_eq!(pod.labels().get("app").map(String::as_str), Some("web"));
        assert_eq!(pod.meta().labels, cm.meta().labels);
        assert!(
            yaml(&pod).contains("metadata:\n  labels:\n    app: web\n    tier: fe\n  name: web\n")
        );
        let back = Object::from_value_of(KindId::Pod, &pod.to_value()).ok();
        assert_eq!(back, Some(pod));
    }
}
