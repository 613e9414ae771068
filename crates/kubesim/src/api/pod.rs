//! The Pod as the simulation keeps it: the `k8s-openapi` schema with its
//! large, rarely-set parts boxed.
//!
//! In Kubernetes, kube-apiserver and every component hold pods as Go
//! structs whose unset pointer fields cost a word each. `k8s-openapi`'s
//! Rust structs hold every optional sub-object inline instead: a `Pod`
//! takes 2,464 bytes and each `Container` 2,336 (three `Probe`s, a
//! `Lifecycle` and a `SecurityContext` in place, set or not), so a
//! one-container pod costs over 6 KB before any of its strings. At
//! 150,000 pods that alone overruns the memory budget (DESIGN.md §6).
//!
//! The types here mirror `Pod`, its `ObjectMeta` ([`PodMeta`]), `PodSpec`,
//! `Container`, `PodStatus` and `ContainerStatus` field for field, with
//! the same names and types, except that large or rarely-set fields are
//! `Option<Box<_>>` (the status, probes, lifecycle, security contexts,
//! affinity, DNS config, lists and strings few pods set, ...). They
//! serialize exactly as `k8s-openapi`'s types do (same fields, same order,
//! same omissions) and deserialize through them, so YAML/JSON output,
//! strict decoding with its field paths, and defaults are unchanged.
//! `From` converts both ways for code that works on pod templates, which
//! stay in `k8s-openapi`'s types.
//!
//! Maps are compact too: a pod's labels are [`Labels`] and a container's
//! `requests` and `limits` a [`ResourceList`], sorted vectors, where
//! `k8s-openapi` allocates a `BTreeMap` node of 536 bytes for each. Only a
//! Pod's metadata is compact (every other kind keeps `k8s-openapi`'s
//! `ObjectMeta`): `Object::labels` reads either through a `LabelsRef`,
//! `Object::meta` gives a Pod's as a converted copy and `Object::meta_mut`
//! converts it for the change and back.
//!
//! The parts the pods of one template have alike are held once
//! ([`Shared`], api/shared.rs): a pod's containers, its labels and its
//! owner references are each an `Rc` looked up by value when the pod is
//! built or decoded, so the ten pods of a ReplicaSet hold one copy of its
//! labels and owner reference and every pod of a Deployment's template
//! one copy of its containers; writing through one copies it first.
//!
//! Left out: compact annotations (a pod with any still pays a `BTreeMap`
//! node), volumes (a `Volume` holds every volume source inline, 3,280
//! bytes, but pods of the large benchmarks have none), and interned
//! single strings (a pod's name, namespace and uid are its own `String`s,
//! as are the defaulted strings of its spec). What a one-container pod of
//! the scheduler benchmark costs, in malloc chunks: 816 bytes for the
//! `Pod` itself (`PodMeta` 288, `PodSpec` 504, a pointer for the status),
//! 48 for the `Rc<Object>`, 96 for its name, namespace and uid, and about
//! 75 for its share of its ReplicaSet's labels and owner reference (with
//! the tables that find them): 1,035 bytes, against 2,152 with a copy of
//! each in every pod and 3,464 with `BTreeMap` labels and the status and
//! those fields inline.

use super::labels::Labels;
use super::shared::{hasher, intern_table, Intern, Shared};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ManagedFieldsEntry, ObjectMeta, OwnerReference, Time,
};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// How each field of a mirror is held, converted and serialized:
/// - `req`: the same type as `k8s-openapi`'s, always serialized;
/// - `opt`: the same `Option<T>`, serialized when set;
/// - `boxed`: `Option<Box<T>>` for `k8s-openapi`'s `Option<T>`;
/// - `mirror`: `Option<M>` for `Option<K>`, `M` a mirror of `K`;
/// - `vec`: `Vec<M>` for `Vec<K>`, always serialized;
/// - `optvec`: `Option<Vec<M>>` for `Option<Vec<K>>`;
/// - `bmirror`: `Option<Box<M>>` for `Option<K>`, `M` a mirror of `K`;
/// - `rmirror`: `M` for `K`, `M` a mirror of `K`, always serialized.
macro_rules! mirror {
    (
        $(#[$attr:meta])*
        pub struct $name:ident = $k8s:ty, $ser_name:literal, extra = $extra:literal {
            $( $(#[$fattr:meta])* $how:ident $field:ident : $ty:ty = $json:literal, )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fattr])* pub $field: mirror!(@ty $how $ty), )*
        }

        impl From<$k8s> for $name {
            fn from(k: $k8s) -> Self {
                $name { $( $field: mirror!(@from $how k.$field), )* }
            }
        }

        impl From<$name> for $k8s {
            fn from(m: $name) -> Self {
                Self { $( $field: mirror!(@into $how m.$field), )* }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            // Through `k8s-openapi`'s own decoder, so errors, their paths
            // and what a missing or null field means stay the same.
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$k8s>::deserialize(d).map($name::from)
            }
        }

        impl Serialize for $name {
            // Field for field what `k8s-openapi` writes: the fields in
            // name order, unset optional ones left out.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut len: usize = $extra;
                $( len += mirror!(@count $how self.$field); )*
                let mut state = s.serialize_struct($ser_name, len)?;
                mirror!(@head $name state);
                $( mirror!(@ser $how state, $json, self.$field); )*
                state.end()
            }
        }
    };

    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@ty boxed $ty:ty) => { Option<Box<$ty>> };
    (@ty mirror $ty:ty) => { Option<$ty> };
    (@ty vec $ty:ty) => { Vec<$ty> };
    (@ty optvec $ty:ty) => { Option<Vec<$ty>> };
    (@ty bmirror $ty:ty) => { Option<Box<$ty>> };
    (@ty rmirror $ty:ty) => { $ty };

    (@from req $e:expr) => { $e };
    (@from opt $e:expr) => { $e };
    (@from boxed $e:expr) => { $e.map(Box::new) };
    (@from mirror $e:expr) => { $e.map(From::from) };
    (@from vec $e:expr) => { $e.into_iter().map(From::from).collect() };
    (@from optvec $e:expr) => { $e.map(|v| v.into_iter().map(From::from).collect()) };
    (@from bmirror $e:expr) => { $e.map(|k| Box::new(From::from(k))) };
    (@from rmirror $e:expr) => { From::from($e) };

    (@into req $e:expr) => { $e };
    (@into opt $e:expr) => { $e };
    (@into boxed $e:expr) => { $e.map(|b| *b) };
    (@into mirror $e:expr) => { $e.map(From::from) };
    (@into vec $e:expr) => { $e.into_iter().map(From::from).collect() };
    (@into optvec $e:expr) => { $e.map(|v| v.into_iter().map(From::from).collect()) };
    (@into bmirror $e:expr) => { $e.map(|b| From::from(*b)) };
    (@into rmirror $e:expr) => { From::from($e) };

    (@count req $e:expr) => { 1 };
    (@count vec $e:expr) => { 1 };
    (@count rmirror $e:expr) => { 1 };
    (@count $how:ident $e:expr) => { usize::from($e.is_some()) };

    (@ser req $state:ident, $json:literal, $e:expr) => {
        $state.serialize_field($json, &$e)?
    };
    (@ser vec $state:ident, $json:literal, $e:expr) => {
        $state.serialize_field($json, &$e)?
    };
    (@ser rmirror $state:ident, $json:literal, $e:expr) => {
        $state.serialize_field($json, &$e)?
    };
    (@ser $how:ident $state:ident, $json:literal, $e:expr) => {
        if let Some(value) = &$e {
            $state.serialize_field($json, value)?;
        }
    };

    (@head Pod $state:ident) => {
        $state.serialize_field("apiVersion", <core::Pod as k8s_openapi::Resource>::API_VERSION)?;
        $state.serialize_field("kind", <core::Pod as k8s_openapi::Resource>::KIND)?;
    };
    (@head $name:ident $state:ident) => {};
}

mirror! {
    /// `core::Pod` (`k8s.io/api/core/v1.Pod`), compact.
    pub struct Pod = core::Pod, "Pod", extra = 2 {
        rmirror metadata: PodMeta = "metadata",
        mirror spec: PodSpec = "spec",
        bmirror status: PodStatus = "status",
    }
}

mirror! {
    /// `ObjectMeta` of a Pod, compact: its labels are [`Labels`], a sorted
    /// vector, rather than a `BTreeMap` (whose first node takes 536 bytes
    /// for a pod's one to three labels). Every other field is as
    /// `k8s-openapi` holds it.
    pub struct PodMeta = ObjectMeta, "ObjectMeta", extra = 0 {
        opt annotations: BTreeMap<String, String> = "annotations",
        opt creation_timestamp: Time = "creationTimestamp",
        opt deletion_grace_period_seconds: i64 = "deletionGracePeriodSeconds",
        opt deletion_timestamp: Time = "deletionTimestamp",
        opt finalizers: Vec<String> = "finalizers",
        opt generate_name: String = "generateName",
        opt generation: i64 = "generation",
        mirror labels: Labels = "labels",
        boxed managed_fields: Vec<ManagedFieldsEntry> = "managedFields",
        opt name: String = "name",
        opt namespace: String = "namespace",
        mirror owner_references: Shared<Vec<OwnerReference>> = "ownerReferences",
        opt resource_version: String = "resourceVersion",
        boxed self_link: String = "selfLink",
        opt uid: String = "uid",
    }
}

mirror! {
    /// `core::PodSpec`, compact: the fields a pod rarely sets are boxed.
    pub struct PodSpec = core::PodSpec, "PodSpec", extra = 0 {
        opt active_deadline_seconds: i64 = "activeDeadlineSeconds",
        boxed affinity: core::Affinity = "affinity",
        opt automount_service_account_token: bool = "automountServiceAccountToken",
        rmirror containers: Shared<Vec<Container>> = "containers",
        boxed dns_config: core::PodDNSConfig = "dnsConfig",
        opt dns_policy: String = "dnsPolicy",
        opt enable_service_links: bool = "enableServiceLinks",
        boxed ephemeral_containers: Vec<core::EphemeralContainer> = "ephemeralContainers",
        boxed eviction_responders: Vec<core::EvictionResponder> = "evictionResponders",
        boxed host_aliases: Vec<core::HostAlias> = "hostAliases",
        opt host_ipc: bool = "hostIPC",
        opt host_network: bool = "hostNetwork",
        opt host_pid: bool = "hostPID",
        opt host_users: bool = "hostUsers",
        opt hostname: String = "hostname",
        boxed hostname_override: String = "hostnameOverride",
        boxed image_pull_secrets: Vec<core::LocalObjectReference> = "imagePullSecrets",
        optvec init_containers: Container = "initContainers",
        opt node_name: String = "nodeName",
        opt node_selector: BTreeMap<String, String> = "nodeSelector",
        boxed os: core::PodOS = "os",
        boxed overhead: BTreeMap<String, Quantity> = "overhead",
        opt preemption_policy: String = "preemptionPolicy",
        opt priority: i32 = "priority",
        boxed priority_class_name: String = "priorityClassName",
        boxed readiness_gates: Vec<core::PodReadinessGate> = "readinessGates",
        boxed resource_claims: Vec<core::PodResourceClaim> = "resourceClaims",
        boxed resources: core::ResourceRequirements = "resources",
        opt restart_policy: String = "restartPolicy",
        boxed runtime_class_name: String = "runtimeClassName",
        opt scheduler_name: String = "schedulerName",
        boxed scheduling_gates: Vec<core::PodSchedulingGate> = "schedulingGates",
        boxed scheduling_group: core::PodSchedulingGroup = "schedulingGroup",
        boxed security_context: core::PodSecurityContext = "securityContext",
        opt service_account: String = "serviceAccount",
        opt service_account_name: String = "serviceAccountName",
        opt set_hostname_as_fqdn: bool = "setHostnameAsFQDN",
        opt share_process_namespace: bool = "shareProcessNamespace",
        boxed subdomain: String = "subdomain",
        opt termination_grace_period_seconds: i64 = "terminationGracePeriodSeconds",
        opt tolerations: Vec<core::Toleration> = "tolerations",
        boxed topology_spread_constraints: Vec<core::TopologySpreadConstraint> = "topologySpreadConstraints",
        opt volumes: Vec<core::Volume> = "volumes",
    }
}

mirror! {
    /// `core::Container`, compact: probes, lifecycle, security context
    /// and resources are boxed.
    pub struct Container = core::Container, "Container", extra = 0 {
        opt args: Vec<String> = "args",
        opt command: Vec<String> = "command",
        opt env: Vec<core::EnvVar> = "env",
        boxed env_from: Vec<core::EnvFromSource> = "envFrom",
        opt image: String = "image",
        opt image_pull_policy: String = "imagePullPolicy",
        boxed lifecycle: core::Lifecycle = "lifecycle",
        boxed liveness_probe: core::Probe = "livenessProbe",
        req name: String = "name",
        opt ports: Vec<core::ContainerPort> = "ports",
        boxed readiness_probe: core::Probe = "readinessProbe",
        boxed resize_policy: Vec<core::ContainerResizePolicy> = "resizePolicy",
        bmirror resources: ResourceRequirements = "resources",
        opt restart_policy: String = "restartPolicy",
        boxed restart_policy_rules: Vec<core::ContainerRestartRule> = "restartPolicyRules",
        boxed security_context: core::SecurityContext = "securityContext",
        boxed startup_probe: core::Probe = "startupProbe",
        opt stdin: bool = "stdin",
        opt stdin_once: bool = "stdinOnce",
        opt termination_message_path: String = "terminationMessagePath",
        opt termination_message_policy: String = "terminationMessagePolicy",
        opt tty: bool = "tty",
        boxed volume_devices: Vec<core::VolumeDevice> = "volumeDevices",
        opt volume_mounts: Vec<core::VolumeMount> = "volumeMounts",
        boxed working_dir: String = "workingDir",
    }
}

/// A pod's containers: the pods of one template share them.
impl Intern for Vec<Container> {
    fn fingerprint(&self) -> u64 {
        // What tells containers apart; equal ones hash the same.
        let mut h = hasher();
        for c in self {
            c.name.hash(&mut h);
            c.image.hash(&mut h);
            c.command.hash(&mut h);
            c.args.hash(&mut h);
            // Each pod's service-account token volume has a name of its
            // own (`kube-api-access-<random>`), mounted in every container:
            // without the mounts, the containers of a template's 3,000 pods
            // would share one fingerprint and each lookup would compare
            // against all of them.
            for m in c.volume_mounts.iter().flatten() {
                m.name.hash(&mut h);
                m.mount_path.hash(&mut h);
            }
            for e in c.env.iter().flatten() {
                e.name.hash(&mut h);
                e.value.hash(&mut h);
            }
            for p in c.ports.iter().flatten() {
                p.container_port.hash(&mut h);
            }
            if let Some(r) = &c.resources {
                for list in [&r.requests, &r.limits] {
                    for (k, v) in list.iter().flatten() {
                        k.hash(&mut h);
                        v.0.hash(&mut h);
                    }
                }
            }
        }
        h.finish()
    }
    intern_table!(Vec<Container>);
}

impl From<Vec<core::Container>> for Shared<Vec<Container>> {
    fn from(k: Vec<core::Container>) -> Self {
        Shared::new(k.into_iter().map(Container::from).collect())
    }
}

impl From<Shared<Vec<Container>>> for Vec<core::Container> {
    fn from(m: Shared<Vec<Container>>) -> Self {
        m.into_iter().map(core::Container::from).collect()
    }
}

/// A pod's owner references: the pods of one owner share them.
impl Intern for Vec<OwnerReference> {
    fn fingerprint(&self) -> u64 {
        let mut h = hasher();
        for r in self {
            r.uid.hash(&mut h);
            r.name.hash(&mut h);
            r.kind.hash(&mut h);
        }
        h.finish()
    }
    intern_table!(Vec<OwnerReference>);
}

impl From<Shared<Vec<OwnerReference>>> for Vec<OwnerReference> {
    fn from(m: Shared<Vec<OwnerReference>>) -> Self {
        m.into_inner()
    }
}

mirror! {
    /// `core::ResourceRequirements` of a container, compact: its resource
    /// lists are sorted vectors rather than `BTreeMap`s.
    pub struct ResourceRequirements = core::ResourceRequirements, "ResourceRequirements", extra = 0 {
        opt claims: Vec<core::ResourceClaim> = "claims",
        mirror limits: ResourceList = "limits",
        mirror requests: ResourceList = "requests",
    }
}

/// A `ResourceList` (`map[ResourceName]resource.Quantity`): resource names
/// and quantities sorted by name, as `k8s-openapi`'s `BTreeMap` holds them
/// and serializes them (a JSON object in name order). A `BTreeMap` with
/// one or two entries allocates a whole node (eleven keys and values,
/// 536 bytes here); a container names two or three resources.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceList(Vec<(String, Quantity)>);

impl ResourceList {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// The quantity of resource `name`.
    pub fn get(&self, name: &str) -> Option<&Quantity> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets `name`'s quantity; returns the one it replaced.
    pub fn insert(&mut self, name: String, q: Quantity) -> Option<Quantity> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, q)),
            Err(i) => {
                self.0.insert(i, (name, q));
                None
            }
        }
    }

    /// The resources and their quantities, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Quantity)> + '_ {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<BTreeMap<String, Quantity>> for ResourceList {
    fn from(m: BTreeMap<String, Quantity>) -> Self {
        // In name order already; exactly as long as the map.
        ResourceList(m.into_iter().collect())
    }
}

impl From<ResourceList> for BTreeMap<String, Quantity> {
    fn from(l: ResourceList) -> Self {
        l.0.into_iter().collect()
    }
}

impl<const N: usize> From<[(String, Quantity); N]> for ResourceList {
    fn from(a: [(String, Quantity); N]) -> Self {
        a.into_iter().collect()
    }
}

impl FromIterator<(String, Quantity)> for ResourceList {
    fn from_iter<I: IntoIterator<Item = (String, Quantity)>>(it: I) -> Self {
        ResourceList::from(it.into_iter().collect::<BTreeMap<_, _>>())
    }
}

impl<'a> IntoIterator for &'a ResourceList {
    type Item = (&'a String, &'a Quantity);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Quantity)>,
        fn(&'a (String, Quantity)) -> (&'a String, &'a Quantity),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for ResourceList {
    type Item = (String, Quantity);
    type IntoIter = std::vec::IntoIter<(String, Quantity)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for ResourceList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, Quantity>::deserialize(d).map(ResourceList::from)
    }
}

mirror! {
    /// `core::PodStatus`, compact.
    pub struct PodStatus = core::PodStatus, "PodStatus", extra = 0 {
        opt allocated_resources: BTreeMap<String, Quantity> = "allocatedResources",
        opt conditions: Vec<core::PodCondition> = "conditions",
        optvec container_statuses: ContainerStatus = "containerStatuses",
        optvec ephemeral_container_statuses: ContainerStatus = "ephemeralContainerStatuses",
        boxed extended_resource_claim_status: core::PodExtendedResourceClaimStatus = "extendedResourceClaimStatus",
        opt host_ip: String = "hostIP",
        opt host_ips: Vec<core::HostIP> = "hostIPs",
        optvec init_container_statuses: ContainerStatus = "initContainerStatuses",
        opt message: String = "message",
        opt node_allocatable_resource_claim_statuses: Vec<core::NodeAllocatableResourceClaimStatus> = "nodeAllocatableResourceClaimStatuses",
        opt nominated_node_name: String = "nominatedNodeName",
        opt observed_generation: i64 = "observedGeneration",
        opt phase: String = "phase",
        opt pod_ip: String = "podIP",
        opt pod_ips: Vec<core::PodIP> = "podIPs",
        opt qos_class: String = "qosClass",
        opt reason: String = "reason",
        opt resize: String = "resize",
        opt resource_claim_statuses: Vec<core::PodResourceClaimStatus> = "resourceClaimStatuses",
        boxed resources: core::ResourceRequirements = "resources",
        opt start_time: Time = "startTime",
        opt volume_health: Vec<core::PodVolumeHealth> = "volumeHealth",
    }
}

mirror! {
    /// `core::ContainerStatus`, compact: the last state, resources and
    /// user are boxed.
    pub struct ContainerStatus = core::ContainerStatus, "ContainerStatus", extra = 0 {
        opt allocated_resources: BTreeMap<String, Quantity> = "allocatedResources",
        opt allocated_resources_status: Vec<core::ResourceStatus> = "allocatedResourcesStatus",
        opt container_id: String = "containerID",
        req image: String = "image",
        req image_id: String = "imageID",
        boxed last_state: core::ContainerState = "lastState",
        req name: String = "name",
        req ready: bool = "ready",
        boxed resources: core::ResourceRequirements = "resources",
        req restart_count: i32 = "restartCount",
        opt started: bool = "started",
        opt state: core::ContainerState = "state",
        opt stop_signal: String = "stopSignal",
        boxed user: core::ContainerUser = "user",
        opt volume_mounts: Vec<core::VolumeMountStatus> = "volumeMounts",
    }
}

impl k8s_openapi::Resource for Pod {
    const API_VERSION: &'static str = <core::Pod as k8s_openapi::Resource>::API_VERSION;
    const GROUP: &'static str = <core::Pod as k8s_openapi::Resource>::GROUP;
    const KIND: &'static str = <core::Pod as k8s_openapi::Resource>::KIND;
    const VERSION: &'static str = <core::Pod as k8s_openapi::Resource>::VERSION;
    const URL_PATH_SEGMENT: &'static str = <core::Pod as k8s_openapi::Resource>::URL_PATH_SEGMENT;
    type Scope = <core::Pod as k8s_openapi::Resource>::Scope;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod that sets a field of every kind the mirrors hold: plain,
    /// optional, boxed, nested mirrors, lists of mirrors.
    const RICH: &str = r#"{
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "activeDeadlineSeconds": 60,
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}},
            "containers": [{
                "name": "app", "image": "nginx:1.27", "args": ["-g"], "command": ["nginx"],
                "env": [{"name": "A", "value": "1"}],
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "readinessProbe": {"tcpSocket": {"port": 80}},
                "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "128Mi"}},
                "securityContext": {"runAsUser": 1000},
                "startupProbe": {"exec": {"command": ["true"]}},
                "stdin": true, "terminationMessagePath": "/dev/termination-log", "tty": false,
                "volumeMounts": [{"name": "data", "mountPath": "/data"}], "workingDir": "/"
            }],
            "dnsConfig": {"nameservers": ["1.1.1.1"]},
            "dnsPolicy": "ClusterFirst",
            "hostNetwork": false,
            "initContainers": [{"name": "init", "image": "busybox"}],
            "nodeName": "worker-1",
            "nodeSelector": {"disk": "ssd"},
            "os": {"name": "linux"},
            "priority": 0,
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "volumes": [{"name": "data", "emptyDir": {}}]
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{
                "name": "app", "image": "nginx:1.27", "imageID": "sha256:1", "ready": true,
                "restartCount": 1, "started": true, "containerID": "containerd://1",
                "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}
            }],
            "hostIP": "10.0.0.1", "phase": "Running", "podIP": "10.244.1.2",
            "qosClass": "Burstable", "startTime": "2026-01-01T00:00:00Z"
        }
    }"#;

    #[test]
    fn a_compact_pod_writes_the_same_json_as_k8s_openapis_and_reads_it_back() {
        let k8s: core::Pod = serde_json::from_str(RICH).unwrap_or_default();
        let compact: Pod = serde_json::from_str(RICH).unwrap_or_default();
        assert_eq!(Pod::from(k8s.clone()), compact);
        assert_eq!(core::Pod::from(compact.clone()), k8s);
        let (a, b) = (serde_json::to_string(&k8s), serde_json::to_string(&compact));
        assert!(a.as_ref().is_ok_and(|a| a.contains("\"startupProbe\"")));
        assert_eq!(a.ok(), b.ok());
        let v = serde_json::to_value(&compact).unwrap_or_default();
        assert_eq!(v, serde_json::to_value(&k8s).unwrap_or_default());
        let sent: serde_json::Value = serde_json::from_str(RICH).unwrap_or_default();
        assert_eq!(v, sent);
    }

    #[test]
    fn a_resource_list_keeps_names_sorted_and_writes_the_same_json_as_a_btreemap() {
        let q = |s: &str| Quantity(s.to_string());
        let mut list = ResourceList::default();
        assert_eq!(list.insert("memory".into(), q("1Gi")), None);
        assert_eq!(list.insert("cpu".into(), q("1")), None);
        assert_eq!(list.insert("cpu".into(), q("250m")), Some(q("1")));
        list.insert("nvidia.com/gpu".into(), q("1"));
        assert_eq!(list.get("cpu"), Some(&q("250m")));
        assert!(list.contains_key("memory") && !list.contains_key("pods"));
        let names: Vec<&String> = list.keys().collect();
        assert_eq!(names, ["cpu", "memory", "nvidia.com/gpu"]);
        let map: BTreeMap<String, Quantity> = list.clone().into();
        assert_eq!(
            serde_json::to_string(&list).ok(),
            serde_json::to_string(&map).ok()
        );
        assert_eq!(ResourceList::from(map), list);
        // A container's resources decode into it and write back unchanged.
        let json = r#"{"limits":{"memory":"128Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}"#;
        let r: Option<ResourceRequirements> = serde_json::from_str(json).ok();
        assert_eq!(
            r.as_ref()
                .and_then(|r| r.requests.as_ref())
                .map(|l| l.len()),
            Some(2)
        );
        assert_eq!(
            r.and_then(|r| serde_json::to_string(&r).ok()).as_deref(),
            Some(json)
        );
    }

    #[test]
    fn decoding_errors_name_the_same_field_as_k8s_openapis() {
        let bad = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {},
            "spec": {"containers": [{"name": "a", "livenessProbe": {"periodSeconds": "x"}}]}}"#;
        let value: serde_json::Value = serde_json::from_str(bad).unwrap_or_default();
        let compact = serde_path_to_error::deserialize::<_, Pod>(&value).err();
        let k8s = serde_path_to_error::deserialize::<_, core::Pod>(&value).err();
        let show = |e: Option<serde_path_to_error::Error<serde_json::Error>>| {
            e.map(|e| format!("{}: {}", e.path(), e.inner()))
        };
        let compact = show(compact);
        assert!(compact
            .as_deref()
            .is_some_and(|e| e.starts_with("spec.containers[0].livenessProbe.periodSeconds")));
        assert_eq!(compact, show(k8s));
    }

    #[test]
    fn pods_decoded_from_one_template_share_containers_labels_and_owners_until_one_changes() {
        let json = |name: &str| {
            format!(
                r#"{{"apiVersion": "v1", "kind": "Pod",
                "metadata": {{"name": "{name}", "labels": {{"app": "web"}},
                    "ownerReferences": [{{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                        "name": "web-1", "uid": "u1", "controller": true}}]}},
                "spec": {{"containers": [{{"name": "app", "image": "nginx:1.27",
                    "resources": {{"requests": {{"cpu": "100m"}}}}}}]}}}}"#
            )
        };
        let decode = |name: &str| serde_json::from_str::<Pod>(&json(name)).ok();
        let (Some(a), Some(mut b)) = (decode("web-a"), decode("web-b")) else {
            panic!("the pods did not decode");
        };
        let (sa, sb) = (a.spec.as_ref(), b.spec.as_ref());
        assert!(sa
            .zip(sb)
            .is_some_and(|(x, y)| Shared::ptr_eq(&x.containers, &y.containers)));
        let owners = |p: &Pod| p.metadata.owner_references.clone();
        assert!(owners(&a)
            .zip(owners(&b))
            .is_some_and(|(x, y)| Shared::ptr_eq(&x, &y)));
        assert_eq!(a.metadata.labels, b.metadata.labels);
        // A change to one pod's container leaves the other's as it was.
        if let Some(spec) = b.spec.as_mut() {
            spec.containers[0].image = Some("nginx:1.28".into());
        }
        let image = |p: &Pod| p.spec.as_ref().and_then(|s| s.containers[0].image.clone());
        assert_eq!(image(&a).as_deref(), Some("nginx:1.27"));
        assert_eq!(image(&b).as_deref(), Some("nginx:1.28"));
        // They still write exactly what they read.
        let back = serde_json::to_value(&a).unwrap_or_default();
        let sent: serde_json::Value = serde_json::from_str(&json("web-a")).unwrap_or_default();
        assert_eq!(back, sent);
    }

    #[test]
    fn a_one_container_pod_takes_less_than_half_the_inline_bytes() {
        use std::mem::size_of;
        // k8s-openapi 0.29: 2,464 + 2,336 bytes; here 848 + 360.
        let compact = size_of::<Pod>() + size_of::<Container>();
        let k8s = size_of::<core::Pod>() + size_of::<core::Container>();
        assert!(compact * 2 < k8s, "{compact} B against {k8s} B");
        assert!(size_of::<Container>() * 4 < size_of::<core::Container>());
        assert!(size_of::<ContainerStatus>() < size_of::<core::ContainerStatus>());
    }
}
