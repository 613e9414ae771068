//! The kubelet: the node agent.
//!
//! In Kubernetes the kubelet runs on every node as a systemd service. It
//! registers the node with the API server (`registerWithAPIServer` in
//! `pkg/kubelet/kubelet_node_status.go`: create the Node, or adopt one that
//! already exists), reports the node's status (capacity, allocatable,
//! conditions, addresses, versions, images) every `nodeStatusUpdateFrequency`
//! (10 s) when something changed and at least every
//! `nodeStatusReportFrequency` (5 min) otherwise, heartbeats through a Lease
//! in `kube-node-lease` (see [`lease`]), and runs the pods bound to the node.
//!
//! Here the kubelet is an [`Agent`] in a client [`Process`](crate::client::Process):
//! it speaks to the API through the load balancer with its node client
//! certificate (`system:node:<name>`, as the Node authorizer expects). A
//! kubelet started with a bootstrap token gets that certificate first
//! through TLS bootstrap, and every kubelet renews it before it expires
//! (see [`certificate`]). Until it has one, its requests carry no client
//! certificate (they are anonymous and forbidden) and it holds back its
//! registration and heartbeats.
//!
//! It runs the pods bound to its node through containerd (see [`pods`]):
//! admission, sandbox with a pod IP from the node's pod CIDR, image pulls,
//! init and app containers, probes, restarts with back-off, graceful
//! termination, and the pod status written back through `pods/status`.
//!
//! Static pods come from the node's manifest directory (see [`config`]),
//! kubeadm writes the control plane's there (see [`kubeadm`]), and each is
//! mirrored into the API (see [`mirror`]). A static pod of a simulated
//! control-plane component that a fault has stopped fails its probes, so
//! its mirror pod shows it not ready.
//!
//! Which nodes bootstrap: a machine the cloud creates at runtime (`sim node
//! add`, the autoscaler, auto-repair) joins as `kubeadm join` does, with the
//! cluster's bootstrap token. The machines of the initial topology start as
//! if `kubeadm init` and their joins had already happened: each kubelet has
//! its client certificate (issued at time zero, valid a year) and rotates it
//! like any other.
//!
//! Projected volumes (the `kube-api-access-*` service-account token, root
//! CA and namespace) are mounted before a pod's sandbox starts, their
//! tokens requested and refreshed through TokenRequest (see [`projected`]
//! and [`token`]).
//!
//! Left out so far (named in the issue that adds them): eviction managers,
//! other volume types, and adopting the containers of a previous kubelet run
//! after a restart (they are removed as orphans once the pod informer has
//! synced, and the pods still bound start afresh).

pub mod certificate;
pub mod config;
pub mod kubeadm;
pub mod lease;
pub mod mirror;
pub mod pods;
pub mod projected;
pub mod server;
pub mod streaming;
pub mod token;

use crate::api::time::to_time;
use crate::api::{KindId, Object, Reason};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification};
use crate::client::process::{Agent, ClientId, Ctx, RateLimit, Tag, CLIENT_EVENTS, CLIENT_MAIN};
use crate::cow::CowRc;
use crate::topology::{NodeRole, NodeSpec};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::{
    Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec as CoreNodeSpec, NodeStatus,
    NodeSystemInfo, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use lease::NodeLease;
use std::collections::BTreeMap;
use std::rc::Rc;

/// `nodeStatusUpdateFrequency`.
pub const STATUS_UPDATE_FREQUENCY: SimDuration = SimDuration::from_secs(10);
/// `nodeStatusReportFrequency`: the status is posted at least this often
/// even when nothing changed.
pub const STATUS_REPORT_FREQUENCY: SimDuration = SimDuration::from_secs(300);
/// The kubelet's HTTPS port (`daemonEndpoints.kubeletEndpoint`).
pub const KUBELET_PORT: i32 = 10250;
/// The version the simulated kubelets report.
pub const KUBELET_VERSION: &str = crate::shell::exec::KUBERNETES_VERSION;
/// containerd's version as the CRI reports it.
pub const CONTAINER_RUNTIME_VERSION: &str = "containerd://2.1.4";
/// kubeadm's control-plane taint.
pub const CONTROL_PLANE_TAINT: &str = "node-role.kubernetes.io/control-plane";
/// The kubelet's default hard eviction threshold for memory
/// (`evictionHard: memory.available<100Mi`), withheld from allocatable.
const EVICTION_HARD_MEMORY: u64 = 100 * 1024 * 1024;
/// The node's root disk.
const EPHEMERAL_STORAGE_BYTES: u64 = 100 * 1024 * 1024 * 1024;

const TAG_REGISTER: Tag = 1;
const TAG_GET_NODE: Tag = 2;
const TAG_STATUS: Tag = 3;
const TAG_LEASE: Tag = 4;
/// The kubelet's informers, in order.
const INFORMER_NODE: usize = 1;
/// The Ready condition's message while the node has no pod CIDR (the CRI's
/// `NetworkReady=false`, as containerd reports it before a CNI config).
pub const NETWORK_NOT_READY: &str = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized";
/// Pod status writes carry tags from here up.
const TAG_POD_BASE: Tag = 1 << 32;
/// The cluster DNS Service's IP (kubelet `clusterDNS`).
pub const CLUSTER_DNS: &str = "10.96.0.10";
/// Registration retries: 100 ms doubling to 7 s (`registerWithAPIServer`).
const REGISTER_BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(100);
const REGISTER_BACKOFF_MAX: SimDuration = SimDuration::from_secs(7);

/// What a kubelet knows of its machine.
#[derive(Clone, Debug)]
pub struct Machine {
    pub spec: NodeSpec,
    /// The node's InternalIP.
    pub ip: String,
    /// Index of the node in the topology (for stable machine ids).
    pub index: usize,
    /// `--cloud-provider=external`: the node registers with the
    /// `node.cloudprovider.kubernetes.io/uninitialized` taint and waits for
    /// the cloud-controller-manager to initialise it.
    pub external_cloud_provider: bool,
    /// The bootstrap token of `--bootstrap-kubeconfig` for a node that joins
    /// through TLS bootstrap; `None` for a node with kubeadm's
    /// pre-provisioned client certificate.
    pub bootstrap_token: Option<String>,
}

/// Where registration stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Registration {
    /// Not yet tried, or retrying at the given time.
    Pending(SimTime),
    /// A create (or the read after AlreadyExists) is in flight.
    InFlight,
    Registered,
}

/// One node's kubelet.
#[derive(Clone)]
pub struct Kubelet {
    machine: Machine,
    credential: Credential,
    /// The client certificate manager (TLS bootstrap and rotation).
    certs: certificate::CertificateManager,
    /// The credential changed since the process last asked.
    credential_changed: bool,
    registration: Registration,
    register_backoff: SimDuration,
    /// The Node as last read or written.
    node: Option<Rc<Object>>,
    lease: NodeLease,
    /// The status last posted, without heartbeat times.
    last_status: Option<NodeStatus>,
    last_report: Option<SimTime>,
    next_status: SimTime,
    status_in_flight: bool,
    /// Kubelet-reported condition transition times.
    transitions: BTreeMap<String, (String, SimTime)>,
    /// containerd on this node (it outlives a kubelet restart: the cluster
    /// keeps it while the kubelet is stopped).
    runtime: Option<crate::runtime::Containerd>,
    /// The pod workers, by pod key (copy-on-write: a copy of the cluster
    /// shares them until one side changes one).
    workers: BTreeMap<String, CowRc<pods::PodWorker>>,
    /// Status writes in flight, by tag: the pod key.
    status_writes: BTreeMap<Tag, String>,
    next_tag: Tag,
    /// The events sent, for repeats (client-go's `eventLogger`): by event
    /// key, the Event's name and count, oldest first for the bound.
    event_log: BTreeMap<String, (String, i32)>,
    event_order: std::collections::VecDeque<String>,
    /// Steps of the kubelet -> containerd -> runc chain not yet traced.
    steps: Vec<crate::runtime::TraceStep>,
    /// The node's pod CIDR once node IPAM assigned it (`spec.podCIDR`);
    /// until then the network plugin is not ready.
    pod_cidr: Option<String>,
    /// Pod IPs handed out.
    ips: std::collections::BTreeSet<String>,
    /// The node's `/etc/kubernetes/manifests` (it outlives the kubelet: the
    /// cluster keeps it while the kubelet is stopped).
    manifests: config::ManifestDir,
    /// The directory version last read.
    manifests_read: Option<u64>,
    /// The static pods the directory holds, by pod key.
    static_pods: BTreeMap<String, config::StaticPod>,
    /// Files the kubelet could not use, with the reason it logs.
    static_errors: BTreeMap<String, String>,
    /// When each static pod (by hash) was first seen (`config.seen`).
    seen: BTreeMap<String, SimTime>,
    /// Mirror pods as the API holds them, by key.
    mirrors: BTreeMap<String, crate::api::pod::Pod>,
    /// Mirror pods deleted (by uid): late watch events about them are stale.
    gone_mirrors: std::collections::BTreeSet<String>,
    /// Mirror creates and deletes in flight, by tag: the pod key.
    mirror_writes: BTreeMap<Tag, String>,
    /// Whether the pod informer has listed once (mirrors are known).
    pods_synced: bool,
    /// Static pods (by name) whose simulated component a fault stopped.
    down_components: std::collections::BTreeSet<String>,
    /// An exec that needs the cluster's network, for the cluster to answer.
    network_call: Option<server::NetworkCall>,
    /// A followed log `serve` just accepted: the container and the first
    /// line to send, for `serve_from` to keep as an open stream.
    follow: Option<(String, usize)>,
    /// Streams held open (attach, port-forward), by caller and request id.
    streams: BTreeMap<(String, u64), streaming::OpenStream>,
    /// The service-account token manager.
    tokens: token::TokenManager,
    /// Pods' projected volumes, by pod key (copy-on-write, as `workers`).
    volumes: BTreeMap<String, CowRc<projected::PodVolumes>>,
    /// Reads for volumes in flight, by tag.
    volume_calls: BTreeMap<Tag, VolumeCall>,
    /// When the volume manager next has something to do (a token to
    /// refresh, a failed mount to retry).
    volume_wake: Option<SimTime>,
    /// Pod workers with something new to look at (their pod changed, an
    /// answer or a runtime event for them came, a timer of theirs fired):
    /// the next sync looks at these only, as upstream's pod workers each
    /// sync their own pod (`podWorkers.UpdatePod`) rather than all at once.
    dirty: std::collections::BTreeSet<String>,
    /// The next sync looks at every pod worker (at start, when the runtime
    /// or the stopped components changed, the first full list of pods
    /// arrived, or a pod replaced another of the same name).
    dirty_all: bool,
}

/// A read the volume manager is waiting for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum VolumeCall {
    /// A TokenRequest, for the token manager's `key`.
    Token {
        pod: String,
        volume: String,
        key: String,
        seconds: i64,
    },
    /// A ConfigMap a projected source reads.
    ConfigMap {
        pod: String,
        volume: String,
        name: String,
    },
}

impl Kubelet {
    /// The kubelet of `machine`, started at `now`.
    pub fn new(machine: Machine, now: SimTime) -> Self {
        let name = machine.spec.name.clone();
        let certs = match &machine.bootstrap_token {
            Some(token) => certificate::CertificateManager::new(&name, None, Some(token.clone())),
            None => certificate::CertificateManager::new(
                &name,
                Some(ClientCertificate::node(&name, SimTime::ZERO)),
                None,
            ),
        };
        let credential = certs
            .current()
            .cloned()
            .map_or(Credential::None, Credential::ClientCertificate);
        Kubelet {
            machine,
            credential,
            certs,
            credential_changed: false,
            registration: Registration::Pending(now),
            register_backoff: SimDuration::ZERO,
            node: None,
            lease: NodeLease::new(&name, now),
            last_status: None,
            last_report: None,
            next_status: now,
            status_in_flight: false,
            transitions: BTreeMap::new(),
            runtime: None,
            workers: BTreeMap::new(),
            status_writes: BTreeMap::new(),
            next_tag: TAG_POD_BASE,
            event_log: BTreeMap::new(),
            event_order: Default::default(),
            steps: Vec::new(),
            pod_cidr: None,
            ips: Default::default(),
            manifests: config::ManifestDir::new(),
            manifests_read: None,
            static_pods: BTreeMap::new(),
            static_errors: BTreeMap::new(),
            seen: BTreeMap::new(),
            mirrors: BTreeMap::new(),
            gone_mirrors: Default::default(),
            mirror_writes: BTreeMap::new(),
            pods_synced: false,
            down_components: Default::default(),
            network_call: None,
            follow: None,
            streams: BTreeMap::new(),
            tokens: token::TokenManager::new(),
            volumes: BTreeMap::new(),
            volume_calls: BTreeMap::new(),
            volume_wake: None,
            dirty: Default::default(),
            dirty_all: true,
        }
    }

    /// Gives the kubelet its node's manifest directory.
    pub fn attach_manifests(&mut self, dir: config::ManifestDir) {
        self.manifests = dir;
        self.manifests_read = None;
    }

    /// Takes the manifest directory back (the kubelet is stopping).
    pub fn take_manifests(&mut self) -> config::ManifestDir {
        self.manifests_read = None;
        std::mem::take(&mut self.manifests)
    }

    /// The node's manifest directory.
    pub fn manifests(&self) -> &config::ManifestDir {
        &self.manifests
    }

    /// The manifest directory, to write or remove files (the kubelet notices
    /// at its next wake-up).
    pub fn manifests_mut(&mut self) -> &mut config::ManifestDir {
        &mut self.manifests
    }

    /// The files of the manifest directory the kubelet could not use.
    pub fn manifest_errors(&self) -> &BTreeMap<String, String> {
        &self.static_errors
    }

    /// Tells the kubelet which control-plane components on its node a fault
    /// stopped (by static pod name): their probes fail.
    /// The cluster tells it on every wake of the kubelet; only a change
    /// has the pods looked at again.
    pub fn set_down_components(&mut self, down: std::collections::BTreeSet<String>) {
        if self.down_components != down {
            self.down_components = down;
            self.dirty_all = true;
        }
    }

    /// Gives the kubelet its node's containerd.
    pub fn attach_runtime(&mut self, runtime: crate::runtime::Containerd) {
        self.runtime = Some(runtime);
        self.dirty_all = true;
    }

    /// Takes containerd back (the kubelet is stopping; the node goes on).
    pub fn take_runtime(&mut self) -> Option<crate::runtime::Containerd> {
        self.runtime.take()
    }

    /// The node's containerd.
    pub fn runtime(&self) -> Option<&crate::runtime::Containerd> {
        self.runtime.as_ref()
    }

    /// The node's containerd, to reach a container's ports.
    pub fn runtime_mut(&mut self) -> Option<&mut crate::runtime::Containerd> {
        self.runtime.as_mut()
    }

    /// The exec the last [`Kubelet::serve`] left for the cluster's network
    /// to answer (`curl`, `wget`, `nslookup` to other hosts).
    pub fn take_network_call(&mut self) -> Option<server::NetworkCall> {
        self.network_call.take()
    }

    /// The steps of the CRI chain since the last call, for the trace.
    pub fn take_steps(&mut self) -> Vec<crate::runtime::TraceStep> {
        std::mem::take(&mut self.steps)
    }

    /// A pod's containers' runtime ids, by container name.
    pub fn container_ids(&self, pod_key: &str) -> Vec<(String, String)> {
        self.workers
            .get(pod_key)
            .map(|w| w.container_ids())
            .unwrap_or_default()
    }

    /// The node's pod CIDR, once the node IPAM controller has assigned it
    /// (the kubelet never picks one itself).
    pub fn pod_cidr(&self) -> Option<&str> {
        self.pod_cidr.as_deref()
    }

    /// `updatePodCIDR` (pkg/kubelet/kubelet_network.go): the kubelet learns
    /// its pod CIDR from its Node and hands it to the runtime; an empty one
    /// changes nothing. With a pod CIDR the network plugin turns ready, so
    /// the node status goes out at once.
    fn update_pod_cidr(&mut self, now: SimTime, node: &Object) {
        let Object::Node(n) = node else {
            return;
        };
        let cidr = n
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.clone())
            .filter(|c| !c.is_empty());
        if cidr.is_some() && cidr != self.pod_cidr {
            self.pod_cidr = cidr;
            self.next_status = self.next_status.min(now);
            self.assign_waiting_ips();
        }
    }

    /// The network plugin's address management (host-local IPAM over the
    /// node's range): the first free address from `.2`, as `.1` is the
    /// bridge's gateway.
    fn allocate_ip(&mut self) -> Option<String> {
        use crate::controllers::nodeipam::{format_ipv4, Cidr};
        let cidr = Cidr::parse(self.pod_cidr.as_deref()?)?;
        let ip = (2..cidr.size().saturating_sub(1))
            .filter_map(|o| cidr.nth(o))
            .map(format_ipv4)
            .find(|ip| !self.ips.contains(ip))?;
        self.ips.insert(ip.clone());
        Some(ip)
    }

    fn release_ip(&mut self, ip: &str) {
        // A host-network pod has the node's IP, never handed out here.
        self.ips.remove(ip);
    }

    /// A pod's IP: the node's for a host-network pod, else one from the
    /// node's pod CIDR (none while the node has no pod CIDR).
    fn ip_for(&mut self, pod: &crate::api::pod::Pod) -> Option<String> {
        if pod.spec.as_ref().and_then(|s| s.host_network) == Some(true) {
            Some(self.machine.ip.clone())
        } else {
            self.allocate_ip()
        }
    }

    /// Pods that waited for the network get their IPs once the pod CIDR
    /// is known.
    fn assign_waiting_ips(&mut self) {
        let waiting: Vec<String> = self
            .workers
            .iter()
            .filter(|(_, w)| w.waits_for_network())
            .map(|(k, _)| k.clone())
            .collect();
        for key in waiting {
            let ip = self.allocate_ip();
            if let Some(w) = self.workers.get_mut(&key) {
                w.ip = ip;
            }
            self.dirty.insert(key);
        }
    }

    /// Admission on the node (`canAdmitPod` with the resource fit).
    fn admit(&self, pod: &crate::api::pod::Pod) -> Result<(), (String, String)> {
        let alloc = self.allocatable();
        let parse = |k: &str| {
            alloc
                .get(k)
                .and_then(|q| crate::api::Quantity::parse(&q.0).ok())
        };
        let acpu = parse("cpu").map(|q| q.milli_value()).unwrap_or(0);
        let amem = parse("memory").map(|q| q.value()).unwrap_or(0);
        let apods = parse("pods").map(|q| q.value()).unwrap_or(110) as usize;
        let (mut ucpu, mut umem, mut upods) = (0, 0, 0);
        for w in self.workers.values().filter(|w| !w.terminated) {
            let (c, m) = pods::requests(w.pod());
            ucpu += c;
            umem += m;
            upods += 1;
        }
        pods::fits(
            pods::requests(pod),
            (ucpu, umem, upods),
            (acpu, amem, apods),
        )
    }

    fn on_pod(&mut self, ctx: &mut Ctx<'_>, object: &Object, deleted: bool) {
        let Object::Pod(pod) = object else {
            return;
        };
        let key = object.key();
        if config::is_mirror(pod) {
            self.on_mirror(key, pod, deleted);
            return;
        }
        if self.static_pods.contains_key(&key) {
            // An API pod with a static pod's name: the static pod wins.
            return;
        }
        self.dirty.insert(key.clone());
        if deleted {
            if let Some(w) = self.workers.get_mut(&key) {
                w.kill(ctx.now);
            }
            return;
        }
        match self.workers.get_mut(&key) {
            Some(w) if w.uid == pod.metadata.uid.clone().unwrap_or_default() => {
                // `needsReconcile` (pkg/kubelet/status/status_manager.go): a
                // status in the API that is not the one the kubelet sent
                // (the node lifecycle controller marked the pod not ready
                // while the node was unreachable) is sent again.
                if let (Some(sent), Some(api)) = (&w.sent, pod.status.as_ref()) {
                    if !pods::same_kubelet_status(sent, api) {
                        w.sent = None;
                    }
                }
                w.update(*(pod.clone()), ctx.now)
            }
            _ => {
                let terminal = matches!(
                    pod.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Succeeded") | Some("Failed")
                );
                if terminal && pod.metadata.deletion_timestamp.is_none() {
                    return;
                }
                if self.workers.contains_key(&key) {
                    // A pod of the same name but another uid replaces one
                    // whose deletion was missed: the old worker's sandbox
                    // is left to the orphan sweep (`HandlePodCleanups`),
                    // and the volume manager looks at the new pod's tokens.
                    self.dirty_all = true;
                    if let Some(v) = self.volumes.get_mut(&key) {
                        v.settled_until = None;
                    }
                }
                let mut w = pods::PodWorker::new(key.clone(), *(pod.clone()));
                if let Err((reason, message)) = self.admit(pod) {
                    w.reject(&reason, message.clone());
                    self.event_on(ctx, object, "Warning", &reason, message);
                } else {
                    w.ip = self.ip_for(pod);
                }
                w.update(*(pod.clone()), ctx.now);
                self.workers.insert(key, w.into());
            }
        }
    }

    fn event_on(
        &mut self,
        ctx: &mut Ctx<'_>,
        object: &Object,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        self.event_at(ctx, object, None, type_, reason, message);
    }

    /// An Event on `object`, or on the part of it `field_path` names (one
    /// container of a pod).
    fn event_at(
        &mut self,
        ctx: &mut Ctx<'_>,
        object: &Object,
        field_path: Option<String>,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        let mut involved = crate::controllers::object_reference(object);
        involved.field_path = field_path;
        let tag = self.next_tag;
        self.next_tag += 1;
        let mut event = crate::controllers::new_event(
            ctx.rng, ctx.now, tag, involved, type_, reason, message, "kubelet",
        );
        if let Some(source) = event.source.as_mut() {
            source.host = Some(self.machine.spec.name.clone());
        }
        let ns = event.metadata.namespace.clone().unwrap_or_default();
        // client-go's `EventCorrelator` (`tools/record/events_cache.go`
        // `eventLogger.eventObserve`, `getEventKey`): an event the same as
        // one already sent (source, object, type, reason and message) is
        // not created again; the first one's count and lastTimestamp are
        // patched (`recordToSink`), so `kubectl describe` shows
        // `10s (x3 over 2m)`. Its LRU cache holds 4096 keys.
        const EVENT_CACHE: usize = 4096;
        let o = &event.involved_object;
        let key = [
            "kubelet",
            self.machine.spec.name.as_str(),
            o.kind.as_deref().unwrap_or(""),
            o.namespace.as_deref().unwrap_or(""),
            o.name.as_deref().unwrap_or(""),
            o.field_path.as_deref().unwrap_or(""),
            o.uid.as_deref().unwrap_or(""),
            o.api_version.as_deref().unwrap_or(""),
            type_,
            reason,
            event.message.as_deref().unwrap_or(""),
        ]
        .join("\u{0}");
        if let Some((name, count)) = self.event_log.get_mut(&key) {
            *count += 1;
            let last = serde_json::to_value(crate::api::time::to_time(ctx.now)).unwrap_or_default();
            let patch = crate::api::patch::Patch {
                kind: crate::api::patch::PatchType::Strategic,
                document: serde_json::json!({"count": *count, "lastTimestamp": last}),
            };
            ctx.send(
                tag,
                ApiRequest::new(Verb::Patch, KindId::Event, self.credential.clone())
                    .in_namespace(ns)
                    .named(name.clone())
                    .with_patch(patch),
            );
            return;
        }
        if self.event_order.len() >= EVENT_CACHE {
            if let Some(oldest) = self.event_order.pop_front() {
                self.event_log.remove(&oldest);
            }
        }
        let name = event.metadata.name.clone().unwrap_or_default();
        self.event_log.insert(key.clone(), (name, 1));
        self.event_order.push_back(key);
        ctx.send(
            tag,
            ApiRequest::new(Verb::Create, KindId::Event, self.credential.clone())
                .in_namespace(ns)
                .with_body(Object::Event(Box::new(event))),
        );
    }

    /// Serves a request to the kubelet's HTTPS endpoint (the API server's
    /// `pods/log` and `pods/exec` proxies), from the pod workers and the
    /// runtime (`pkg/kubelet/server/server.go` `getContainerLogs`,
    /// `getExec`).
    pub fn serve(
        &mut self,
        now: SimTime,
        request: &server::KubeletRequest,
    ) -> server::KubeletResponse {
        use server::{KubeletRequest, KubeletResponse};
        let not_found = |message: String| KubeletResponse::Error { code: 404, message };
        let (namespace, pod, container) = match request {
            KubeletRequest::ContainerLogs {
                namespace,
                pod,
                container,
                ..
            }
            | KubeletRequest::Exec {
                namespace,
                pod,
                container,
                ..
            } => (namespace, pod, container),
            // Streams are opened by `serve_from`, which knows the caller.
            KubeletRequest::Attach { .. } | KubeletRequest::PortForward { .. } => {
                return KubeletResponse::Error {
                    code: 400,
                    message: "Upgrade request required".into(),
                }
            }
        };
        let key = format!("{namespace}/{pod}");
        let host_ip = self.machine.ip.clone();
        let Some(runtime) = self.runtime.as_mut() else {
            return KubeletResponse::Error {
                code: 503,
                message: "container runtime is down".into(),
            };
        };
        let Some(w) = self
            .workers
            .get_mut(&key)
            .filter(|w| !w.terminated || matches!(request, KubeletRequest::ContainerLogs { .. }))
        else {
            return not_found(format!("pod {pod:?} does not exist"));
        };
        let in_pod = w
            .pod()
            .spec
            .iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .any(|c| &c.name == container);
        if !in_pod {
            return not_found(format!("container {container:?} not found in pod {pod:?}"));
        }
        match request {
            KubeletRequest::ContainerLogs {
                previous,
                tail_lines,
                timestamps,
                since_seconds,
                since_time,
                ..
            } => {
                let status = w.status(now, runtime, &host_ip);
                let cstatus = status
                    .container_statuses
                    .iter()
                    .flatten()
                    .chain(status.init_container_statuses.iter().flatten())
                    .find(|c| &c.name == container);
                let Some(cstatus) = cstatus else {
                    return KubeletResponse::Error {
                        code: 400,
                        message: format!("container {container:?} in pod {pod:?} is not available"),
                    };
                };
                let id = match server::log_container_id(cstatus, pod, *previous) {
                    Ok(id) => id,
                    Err(message) => return KubeletResponse::Error { code: 400, message },
                };
                let lines = match runtime.logs(&id) {
                    Ok(l) => l,
                    Err(e) => return not_found(e.to_string()),
                };
                // `sinceSeconds` / `sinceTime` first, then `tailLines` of
                // what is left (`ReadLogs` in `pkg/kubelet/kuberuntime/logs`).
                let since = since_time.or_else(|| {
                    since_seconds.map(|s| {
                        crate::world::SimTime(
                            now.as_millis()
                                .saturating_sub(u64::try_from(s).unwrap_or(0).saturating_mul(1000)),
                        )
                    })
                });
                let from = since
                    .map(|t| lines.iter().take_while(|l| l.at < t).count())
                    .unwrap_or(0);
                let skip = match tail_lines {
                    Some(n) if *n >= 0 => lines.len().saturating_sub(*n as usize).max(from),
                    _ => from,
                };
                if let KubeletRequest::ContainerLogs { follow: true, .. } = request {
                    // The response streams: `serve_from` keeps it open.
                    self.follow = Some((id, skip));
                    return KubeletResponse::Opened;
                }
                KubeletResponse::Logs(log_text(&lines[skip..], *timestamps))
            }
            KubeletRequest::Exec { command, .. } => {
                // Only a running container can exec (`findContainer` looks at
                // the running pods).
                let id = w
                    .container_ids()
                    .into_iter()
                    .find(|(n, _)| n == container)
                    .map(|(_, id)| id)
                    .filter(|id| {
                        runtime
                            .container_status(id)
                            .is_ok_and(|s| s.state == crate::runtime::ContainerState::Running)
                    });
                let Some(id) = id else {
                    return not_found(format!("container not found ({container:?})"));
                };
                let reply = runtime.exec_sync(now, &id, command, server::EXEC_TIMEOUT);
                self.steps.extend(reply.steps);
                match reply.result {
                    Ok(crate::runtime::ExecOutcome::Done {
                        exit_code,
                        stdout,
                        stderr,
                        ..
                    }) => KubeletResponse::Exec {
                        stdout,
                        stderr,
                        exit_code,
                    },
                    Ok(crate::runtime::ExecOutcome::TimedOut { stdout }) => KubeletResponse::Exec {
                        stdout,
                        stderr: "command timed out".into(),
                        exit_code: 124,
                    },
                    Ok(crate::runtime::ExecOutcome::NeedsCluster { request, stdout }) => {
                        // The cluster's network answers it (see
                        // `cluster::traffic`); this is the answer without one.
                        let pod_ip = runtime
                            .list_pod_sandboxes()
                            .into_iter()
                            .find(|s| {
                                &s.name == pod
                                    && &s.namespace == namespace
                                    && s.state == crate::runtime::SandboxState::Ready
                            })
                            .and_then(|s| s.ip)
                            .unwrap_or_default();
                        self.network_call = Some(server::NetworkCall {
                            request: request.clone(),
                            stdout: stdout.clone(),
                            namespace: namespace.clone(),
                            pod: pod.clone(),
                            pod_ip,
                        });
                        let (stderr, exit_code) = needs_cluster_failure(&request);
                        KubeletResponse::Exec {
                            stdout,
                            stderr,
                            exit_code,
                        }
                    }
                    Err(crate::runtime::CriError::ExecFailed(m)) => KubeletResponse::Exec {
                        stdout: String::new(),
                        stderr: format!(
                            "OCI runtime exec failed: exec failed: unable to start container process: {m}: unknown"
                        ),
                        exit_code: 126,
                    },
                    Err(e) => KubeletResponse::Error {
                        code: 500,
                        message: e.to_string(),
                    },
                }
            }
            KubeletRequest::Attach { .. } | KubeletRequest::PortForward { .. } => {
                KubeletResponse::Error {
                    code: 400,
                    message: "Upgrade request required".into(),
                }
            }
        }
    }

    /// A mirror pod as the informer reports it.
    fn on_mirror(&mut self, key: String, pod: &crate::api::pod::Pod, deleted: bool) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if deleted {
            self.gone_mirrors.insert(uid.clone());
            if self
                .mirrors
                .get(&key)
                .is_some_and(|m| m.metadata.uid.as_deref() == Some(uid.as_str()))
            {
                self.mirrors.remove(&key);
            }
            return;
        }
        if self.gone_mirrors.contains(&uid) {
            // A late event about a mirror already deleted.
            return;
        }
        let new_mirror = self
            .mirrors
            .get(&key)
            .is_none_or(|m| m.metadata.uid.as_deref() != Some(uid.as_str()));
        if new_mirror {
            // A fresh mirror gets the static pod's full status.
            if let Some(w) = self.workers.get_mut(&key) {
                w.sent = None;
            }
            self.dirty.insert(key.clone());
        }
        self.mirrors.insert(key, pod.clone());
    }

    fn on_mirror_reply(&mut self, tag: Tag, response: ApiResponse) {
        let Some(key) = self.mirror_writes.remove(&tag) else {
            return;
        };
        match response {
            ApiResponse::Object(o) => {
                if let Object::Pod(p) = &*o {
                    if p.metadata.deletion_timestamp.is_some() {
                        return;
                    }
                    let uid = p.metadata.uid.clone().unwrap_or_default();
                    if !self.gone_mirrors.contains(&uid) {
                        if let Some(w) = self.workers.get_mut(&key) {
                            w.sent = None;
                        }
                        self.dirty.insert(key.clone());
                        self.mirrors.insert(key, *(p.clone()));
                    }
                }
            }
            ApiResponse::Deleted(o) => {
                if let Some(uid) = o.uid() {
                    self.gone_mirrors.insert(uid.to_string());
                }
                if self
                    .mirrors
                    .get(&key)
                    .and_then(|m| m.metadata.uid.as_deref())
                    == o.uid()
                {
                    self.mirrors.remove(&key);
                }
            }
            ApiResponse::Error(e) if e.reason == Reason::NotFound => {
                self.mirrors.remove(&key);
            }
            // AlreadyExists: the informer brings the existing mirror; other
            // errors: tried again at the next sync.
            _ => {}
        }
    }

    /// The file source and the mirror client: reads the manifest directory
    /// when it changed, starts and stops static pods, and keeps one mirror
    /// pod per static pod in the API (`syncPod`'s mirror handling and
    /// `HandlePodCleanups`).
    fn sync_static_pods(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let version = self.manifests.version();
        if self.manifests_read != Some(version) {
            let contents = config::read_dir(&self.manifests, &self.machine.spec.name);
            self.static_pods = contents.pods;
            self.static_errors = contents.errors;
            self.manifests_read = Some(version);
        }
        // Static pods whose file went away or changed stop; once stopped,
        // their workers go (a changed file starts afresh below).
        let mut gone = Vec::new();
        for (key, w) in self.workers.iter_mut() {
            if !w.is_static() {
                continue;
            }
            let wanted = self.static_pods.get(key).is_some_and(|p| p.hash == w.uid);
            if wanted {
                let name = w.pod().metadata.name.clone().unwrap_or_default();
                let down = self.down_components.contains(&name);
                if w.down != down {
                    w.down = down;
                    self.dirty.insert(key.clone());
                }
                continue;
            }
            w.kill(now);
            self.dirty.insert(key.clone());
            if w.terminated {
                gone.push(key.clone());
            }
        }
        for key in gone {
            if let Some(w) = self.workers.remove(&key) {
                if let Some(ip) = &w.ip {
                    self.release_ip(ip);
                }
            }
        }
        let new: Vec<config::StaticPod> = self
            .static_pods
            .iter()
            .filter(|(key, _)| !self.workers.contains_key(*key))
            .map(|(_, p)| p.clone())
            .collect();
        for p in new {
            let seen = *self.seen.entry(p.hash.clone()).or_insert(now);
            let mut pod = p.pod.clone();
            pod.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(
                    config::CONFIG_SEEN_ANNOTATION.into(),
                    crate::api::time::to_time(seen).0.to_string(),
                );
            let mut w = pods::PodWorker::new(p.key.clone(), pod.clone());
            w.ip = self.ip_for(&pod);
            let name = pod.metadata.name.clone().unwrap_or_default();
            w.down = self.down_components.contains(&name);
            w.update(pod, now);
            self.dirty.insert(p.key.clone());
            self.workers.insert(p.key.clone(), w.into());
        }
        // Mirror pods, once the node is registered and the mirrors known.
        let node_uid = self
            .node
            .as_deref()
            .and_then(|n| n.uid())
            .map(str::to_string);
        let Some(node_uid) = node_uid.filter(|_| self.pods_synced && self.is_registered()) else {
            return;
        };
        let in_flight: std::collections::BTreeSet<String> =
            self.mirror_writes.values().cloned().collect();
        let mut requests = Vec::new();
        for (key, p) in &self.static_pods {
            if in_flight.contains(key) {
                continue;
            }
            let running = self
                .workers
                .get(key)
                .is_some_and(|w| w.uid == p.hash && !w.terminated);
            match self.mirrors.get(key) {
                None if running => requests.push((
                    key.clone(),
                    mirror::create_request(
                        mirror::mirror_pod(p, &self.machine.spec.name, &node_uid),
                        &self.credential,
                    ),
                )),
                Some(m)
                    if m.metadata.deletion_timestamp.is_some() || !mirror::is_mirror_of(m, p) =>
                {
                    requests.push((key.clone(), mirror::delete_request(key, &self.credential)))
                }
                _ => {}
            }
        }
        for key in self.mirrors.keys() {
            if !self.static_pods.contains_key(key) && !in_flight.contains(key) {
                requests.push((key.clone(), mirror::delete_request(key, &self.credential)));
            }
        }
        for (key, request) in requests {
            let tag = self.next_tag;
            self.next_tag += 1;
            self.mirror_writes.insert(tag, key);
            ctx.send(tag, request);
        }
    }

    /// The volume manager's pass over the pods: each pod's projected
    /// volumes are read (tokens through TokenRequest, ConfigMaps) and
    /// written, tokens due for a refresh are asked for again, and a pod's
    /// worker may start once its volumes are there.
    fn sync_volumes(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let mut wake: Option<SimTime> = None;
        let mut sends: Vec<(VolumeCall, ApiRequest)> = Vec::new();
        let mut failures: Vec<(String, String)> = Vec::new();
        let tokens_in_flight: std::collections::BTreeSet<String> = self
            .volume_calls
            .values()
            .filter_map(|c| match c {
                VolumeCall::Token { key, .. } => Some(key.clone()),
                VolumeCall::ConfigMap { .. } => None,
            })
            .collect();
        let configmaps_in_flight: std::collections::BTreeSet<(String, String)> = self
            .volume_calls
            .values()
            .filter_map(|c| match c {
                VolumeCall::ConfigMap { pod, name, .. } => Some((pod.clone(), name.clone())),
                VolumeCall::Token { .. } => None,
            })
            .collect();
        // A pod without volume state yet gets it first. Both maps are
        // keyed and sorted alike, so they are walked side by side (this pass
        // runs at every wake over every pod: a lookup per pod cost more).
        let skipped = |w: &pods::PodWorker| {
            w.terminated || w.pod().metadata.deletion_timestamp.is_some() || w.is_static()
        };
        let mut fresh: Vec<String> = Vec::new();
        {
            let mut have = self.volumes.keys().peekable();
            for (key, w) in &self.workers {
                while have.next_if(|k| *k < key).is_some() {}
                if have.peek() != Some(&key) && !skipped(w) {
                    fresh.push(key.clone());
                }
            }
        }
        for key in &fresh {
            if let Some(w) = self.workers.get(key) {
                self.volumes
                    .insert(key.clone(), projected::PodVolumes::new(w.pod()).into());
            }
        }
        let mut all_vols = self.volumes.iter_mut().peekable();
        for (key, w) in self.workers.iter_mut() {
            if skipped(w) {
                continue;
            }
            while all_vols.next_if(|(k, _)| *k < key).is_some() {}
            let Some((_, vols)) = all_vols.next_if(|(k, _)| *k == key) else {
                continue;
            };
            // `fresh` is sorted (collected in key order) and nearly always empty.
            if !fresh.is_empty() && fresh.binary_search(key).is_ok() {
                w.volumes_ready = vols.projections.is_empty();
                self.dirty.insert(key.clone());
            }
            if vols.projections.is_empty() {
                continue;
            }
            // Written from tokens not yet due, and no answer since: the
            // pass below would find nothing to do.
            if let Some(t) = vols.settled_until.filter(|t| *t > now) {
                if t != SimTime::MAX {
                    wake = Some(wake.map_or(t, |w| w.min(t)));
                }
                continue;
            }
            let pod = w.pod();
            if let Some(t) = vols.retry_at.filter(|t| *t > now) {
                wake = Some(wake.map_or(t, |w| w.min(t)));
                continue;
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let uid = w.uid.clone();
            let sa = pod
                .spec
                .as_ref()
                .and_then(|s| s.service_account_name.clone())
                .unwrap_or_else(|| "default".into());
            let mut waiting = false;
            // What the files are made from that can change once mounted:
            // the tokens (each refresh is a new one).
            let mut inputs: Vec<SimTime> = Vec::new();
            for p in &vols.projections {
                for source in &p.sources {
                    match source {
                        projected::Source::Token {
                            audience, seconds, ..
                        } => {
                            let tk = token::key(&ns, &sa, audience, *seconds, &uid);
                            match self.tokens.get(&tk, now) {
                                Some(t) => {
                                    inputs.push(t.refresh_at);
                                    wake = Some(wake.map_or(t.refresh_at, |w| w.min(t.refresh_at)))
                                }
                                None => {
                                    if !tokens_in_flight.contains(&tk)
                                        && !sends.iter().any(|(c, _)| matches!(c, VolumeCall::Token { key, .. } if *key == tk))
                                    {
                                        sends.push((
                                            VolumeCall::Token {
                                                pod: key.clone(),
                                                volume: p.volume.clone(),
                                                key: tk.clone(),
                                                seconds: *seconds,
                                            },
                                            token_request(
                                                &self.credential,
                                                &ns,
                                                &sa,
                                                &name,
                                                &uid,
                                                audience,
                                                *seconds,
                                            ),
                                        ));
                                    }
                                    waiting |= self.tokens.cached(&tk).is_none();
                                }
                            }
                        }
                        projected::Source::ConfigMap { name: cm, .. } => {
                            if !vols.configmaps.contains_key(cm) {
                                waiting = true;
                                if !configmaps_in_flight.contains(&(key.clone(), cm.clone())) {
                                    sends.push((
                                        VolumeCall::ConfigMap {
                                            pod: key.clone(),
                                            volume: p.volume.clone(),
                                            name: cm.clone(),
                                        },
                                        ApiRequest::new(
                                            Verb::Get,
                                            KindId::ConfigMap,
                                            self.credential.clone(),
                                        )
                                        .in_namespace(ns.clone())
                                        .named(cm.clone()),
                                    ));
                                }
                            }
                        }
                        projected::Source::DownwardApi { .. } => {}
                    }
                }
            }
            if waiting {
                continue;
            }
            if vols.mounted && vols.mounted_from == inputs {
                // Written already from these tokens: nothing to do.
                vols.settled_until = Some(inputs.iter().copied().min().unwrap_or(SimTime::MAX));
                continue;
            }
            let mut error = None;
            for p in &vols.projections {
                let token_of = |s: &projected::Source| match s {
                    projected::Source::Token {
                        audience, seconds, ..
                    } => self
                        .tokens
                        .cached(&token::key(&ns, &sa, audience, *seconds, &uid))
                        .map(|t| t.token.clone()),
                    _ => None,
                };
                match projected::collect(p, pod, &token_of, &vols.configmaps) {
                    Ok(files) => {
                        if let Some(rt) = self.runtime.as_mut() {
                            if rt.volume(&uid, &p.volume) != Some(&files) {
                                rt.write_volume(&uid, &p.volume, files);
                            }
                        }
                    }
                    Err(e) => {
                        error = Some(format!(
                            "MountVolume.SetUp failed for volume \"{}\" : {e}",
                            p.volume
                        ));
                        break;
                    }
                }
            }
            match error {
                None => {
                    vols.mounted = true;
                    vols.settled_until = Some(inputs.iter().copied().min().unwrap_or(SimTime::MAX));
                    vols.mounted_from = inputs;
                    vols.retry_at = None;
                    vols.backoff = SimDuration::ZERO;
                    if !w.volumes_ready {
                        w.volumes_ready = true;
                        self.dirty.insert(key.clone());
                    }
                }
                Some(message) => {
                    // Read the ConfigMaps again at the next try.
                    vols.configmaps.clear();
                    vols.settled_until = None;
                    vols.failed(now);
                    if let Some(t) = vols.retry_at {
                        wake = Some(wake.map_or(t, |w| w.min(t)));
                    }
                    failures.push((key.clone(), message));
                }
            }
        }
        self.volume_wake = wake;
        for (call, request) in sends {
            let tag = self.next_tag;
            self.next_tag += 1;
            self.volume_calls.insert(tag, call);
            ctx.send(tag, request);
        }
        for (key, message) in failures {
            if let Some(pod) = self
                .workers
                .get(&key)
                .map(|w| Object::Pod(Box::new(w.pod().clone())))
            {
                self.event_on(ctx, &pod, "Warning", "FailedMount", message);
            }
        }
    }

    /// The answer to a volume read.
    fn on_volume_reply(&mut self, ctx: &mut Ctx<'_>, call: VolumeCall, response: ApiResponse) {
        let now = ctx.now;
        let pod_key = match &call {
            VolumeCall::Token { pod, .. } | VolumeCall::ConfigMap { pod, .. } => pod,
        };
        if let Some(v) = self.volumes.get_mut(pod_key) {
            v.settled_until = None;
        }
        let (pod, volume, failure) = match call {
            VolumeCall::Token {
                pod,
                volume,
                key,
                seconds,
            } => {
                let issued = match &response {
                    ApiResponse::Object(o) => match &**o {
                        Object::TokenRequest(tr) => tr.status.as_ref().and_then(|s| {
                            Some((
                                s.token.clone()?,
                                crate::api::time::to_sim_time(s.expiration_timestamp.as_ref()?),
                            ))
                        }),
                        _ => None,
                    },
                    _ => None,
                };
                match (issued, response) {
                    (Some((token, expires)), _) => {
                        self.tokens.set(key, token, now, seconds, expires, ctx.rng);
                        (pod, volume, None)
                    }
                    (None, ApiResponse::Error(e)) => (
                        pod,
                        volume,
                        Some(format!("failed to fetch token: {}", e.message)),
                    ),
                    (None, other) => (
                        pod,
                        volume,
                        Some(format!("failed to fetch token: {}", other.summary())),
                    ),
                }
            }
            VolumeCall::ConfigMap { pod, volume, name } => match response {
                ApiResponse::Object(o) => {
                    let data = match &*o {
                        Object::ConfigMap(cm) => cm.data.clone().unwrap_or_default(),
                        _ => BTreeMap::new(),
                    };
                    if let Some(v) = self.volumes.get_mut(&pod) {
                        v.configmaps.insert(name, Some(data));
                    }
                    (pod, volume, None)
                }
                ApiResponse::Error(e) if e.reason == Reason::NotFound => {
                    if let Some(v) = self.volumes.get_mut(&pod) {
                        v.configmaps.insert(name, None);
                    }
                    (pod, volume, None)
                }
                ApiResponse::Error(e) => (pod, volume, Some(e.message)),
                other => (pod, volume, Some(other.summary())),
            },
        };
        if let Some(why) = failure {
            let mounted = match self.volumes.get_mut(&pod) {
                Some(v) => {
                    v.failed(now);
                    v.mounted
                }
                None => true,
            };
            // A failed refresh keeps the mounted token; a failed mount is
            // the pod's event.
            if !mounted {
                if let Some(p) = self
                    .workers
                    .get(&pod)
                    .map(|w| Object::Pod(Box::new(w.pod().clone())))
                {
                    self.event_on(
                        ctx,
                        &p,
                        "Warning",
                        "FailedMount",
                        format!("MountVolume.SetUp failed for volume \"{volume}\" : {why}"),
                    );
                }
            }
        }
    }

    /// Runs the pod workers: runtime events, syncs, probes, statuses.
    fn sync_pods(&mut self, ctx: &mut Ctx<'_>) {
        self.sync_volumes(ctx);
        let Some(mut runtime) = self.runtime.take() else {
            return;
        };
        let now = ctx.now;
        let mut effects: Vec<(String, pods::Effect)> = Vec::new();
        for event in runtime.advance(now) {
            self.steps.extend(event.steps.iter().cloned());
            let keys: Vec<String> = self
                .workers
                .iter()
                .filter(|(_, w)| w.owns(&event.kind))
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                if let Some(w) = self.workers.get_mut(&key) {
                    let mut e = Vec::new();
                    w.on_event(now, &event.kind, &mut runtime, &mut e);
                    effects.extend(e.into_iter().map(|x| (key.clone(), x)));
                }
                self.dirty.insert(key);
            }
        }
        let all = std::mem::take(&mut self.dirty_all);
        let dirty = std::mem::take(&mut self.dirty);
        let keys: Vec<String> = if all {
            self.workers.keys().cloned().collect()
        } else {
            dirty
                .into_iter()
                .filter(|k| self.workers.contains_key(k))
                .collect()
        };
        for key in &keys {
            if let Some(w) = self.workers.get_mut(key) {
                let mut e = Vec::new();
                w.sync(now, &mut runtime, &mut e);
                w.probe(now, &mut runtime, &mut e);
                effects.extend(e.into_iter().map(|x| (key.clone(), x)));
            }
        }
        if self.pods_synced && all {
            // `HandlePodCleanups` (`removeOrphanedPodSandboxes`): sandboxes
            // no pod worker owns go. They are left by an earlier run of the
            // kubelet (which this one does not adopt): a pod deleted while
            // the kubelet was stopped must not keep running next to its
            // replacement on another node.
            let owned: std::collections::BTreeSet<String> = self
                .workers
                .values()
                .filter_map(|w| w.sandbox_id().map(str::to_string))
                .collect();
            for id in runtime.pod_sandbox_ids() {
                if !owned.contains(&id) {
                    self.steps.extend(runtime.stop_pod_sandbox(now, &id).steps);
                    self.steps
                        .extend(runtime.remove_pod_sandbox(now, &id).steps);
                }
            }
        }
        let host_ip = self.machine.ip.clone();
        // One status write per pod at a time, as the status manager's single
        // sync loop does (pkg/kubelet/status/status_manager.go syncPod): two
        // unconditional writes in flight could land out of order and leave
        // an older status in the API for good. A newer status waits for the
        // answer and goes out then.
        let in_flight: std::collections::BTreeSet<String> =
            self.status_writes.values().cloned().collect();
        let mut writes = Vec::new();
        let mut finished = Vec::new();
        for key in &keys {
            let Some(w) = self.workers.get_mut(key) else {
                continue;
            };
            if w.terminated && w.pod().metadata.deletion_timestamp.is_some() {
                finished.push(key.clone());
                continue;
            }
            // A static pod's status goes to its mirror pod, once there is one
            // (`statusManager` translates the static pod to its mirror).
            if w.is_static()
                && self
                    .mirrors
                    .get(key)
                    .is_none_or(|m| m.metadata.deletion_timestamp.is_some())
            {
                continue;
            }
            let status = w.status(now, &runtime, &host_ip);
            if w.sent.as_ref() != Some(&status) && !in_flight.contains(key) {
                w.sent = Some(status.clone());
                let mut pod = w.pod().clone();
                pod.metadata.resource_version = None;
                pod.status = Some(Box::new(status));
                writes.push((key.clone(), pod));
            }
        }
        self.runtime = Some(runtime);
        for (key, effect) in effects {
            match effect {
                pods::Effect::Step(s) => self.steps.push(s),
                pods::Effect::Event(type_, reason, message, field_path) => {
                    if let Some(pod) = self
                        .workers
                        .get(&key)
                        .map(|w| Object::Pod(Box::new(w.pod().clone())))
                    {
                        self.event_at(ctx, &pod, field_path, type_, reason, message);
                    }
                }
            }
        }
        for (key, pod) in writes {
            let (ns, name) = key.split_once('/').unwrap_or(("default", &key));
            let tag = self.next_tag;
            self.next_tag += 1;
            self.status_writes.insert(tag, key.clone());
            ctx.send(
                tag,
                ApiRequest::new(Verb::Update, KindId::Pod, self.credential.clone())
                    .in_namespace(ns)
                    .named(name)
                    .with_subresource("status")
                    .with_body(Object::Pod(Box::new(pod))),
            );
        }
        // A pod whose containers have all stopped is removed for good
        // (`statusManager` deletes it with a zero grace period once it is
        // terminated on the node).
        for key in finished {
            if let Some(w) = self.workers.remove(&key) {
                if let Some(ip) = &w.ip {
                    self.release_ip(ip);
                }
                // The pod's volume directories and tokens go with it.
                self.volumes.remove(&key);
                self.tokens.delete_pod_tokens(&w.uid);
                if let Some(rt) = self.runtime.as_mut() {
                    rt.remove_volumes(&w.uid);
                }
                let (ns, name) = key.split_once('/').unwrap_or(("default", &key));
                let mut request =
                    ApiRequest::new(Verb::Delete, KindId::Pod, self.credential.clone())
                        .in_namespace(ns)
                        .named(name);
                request.options.grace_period_seconds = Some(0);
                let tag = self.next_tag;
                self.next_tag += 1;
                ctx.send(tag, request);
            }
        }
    }

    /// The node's InternalIP.
    pub fn node_ip(&self) -> &str {
        &self.machine.ip
    }

    pub fn node_name(&self) -> &str {
        &self.machine.spec.name
    }

    /// The client certificate manager.
    pub fn certificates(&self) -> &certificate::CertificateManager {
        &self.certs
    }

    /// Whether the kubelet has a client certificate to speak with.
    fn has_credential(&self) -> bool {
        !matches!(self.credential, Credential::None)
    }

    /// Runs the certificate manager and adopts a new certificate.
    fn poll_certificates(&mut self, ctx: &mut Ctx<'_>) {
        for (tag, request) in self.certs.poll(ctx.now, ctx.rng) {
            ctx.send(tag, request);
        }
        self.adopt_certificate(ctx.now);
    }

    fn adopt_certificate(&mut self, now: SimTime) {
        if !self.certs.take_changed() {
            return;
        }
        if let Some(cert) = self.certs.current() {
            self.credential = Credential::ClientCertificate(cert.clone());
            self.credential_changed = true;
            if let Registration::Pending(t) = self.registration {
                self.registration = Registration::Pending(t.min(now));
            }
        }
    }

    pub fn is_registered(&self) -> bool {
        self.registration == Registration::Registered
    }

    /// When the node Lease was last renewed.
    pub fn last_lease_renewal(&self) -> Option<SimTime> {
        self.lease.last_renewed
    }

    /// A one-line state for the diagram.
    pub fn state_line(&self, now: SimTime) -> String {
        let reg = if self.is_registered() {
            "registered"
        } else if !self.has_credential() {
            self.certs.phase()
        } else {
            "registering"
        };
        match self.lease.last_renewed {
            Some(t) => format!(
                "{reg} · lease renewed {} ago",
                SimDuration::from_secs(now.saturating_since(t).as_millis() / 1000)
            ),
            None => format!("{reg} · no lease yet"),
        }
    }

    fn capacity(&self) -> BTreeMap<String, Quantity> {
        let c = self.machine.spec.capacity;
        BTreeMap::from([
            ("cpu".into(), Quantity(format!("{}", c.cpu_millis / 1000))),
            (
                "ephemeral-storage".into(),
                Quantity(format!("{}Ki", EPHEMERAL_STORAGE_BYTES / 1024)),
            ),
            ("hugepages-1Gi".into(), Quantity("0".into())),
            ("hugepages-2Mi".into(), Quantity("0".into())),
            (
                "memory".into(),
                Quantity(format!("{}Ki", c.memory_bytes / 1024)),
            ),
            ("pods".into(), Quantity(format!("{}", c.pods))),
        ])
    }

    /// Capacity minus what the kubelet withholds: kubeadm sets no
    /// kube-reserved or system-reserved, so only the hard eviction
    /// thresholds (memory.available 100Mi, nodefs.available 10 %).
    fn allocatable(&self) -> BTreeMap<String, Quantity> {
        let c = self.machine.spec.capacity;
        let mut a = self.capacity();
        a.insert(
            "memory".into(),
            Quantity(format!(
                "{}Ki",
                c.memory_bytes.saturating_sub(EVICTION_HARD_MEMORY) / 1024
            )),
        );
        a.insert(
            "ephemeral-storage".into(),
            Quantity(format!("{}", EPHEMERAL_STORAGE_BYTES / 10 * 9)),
        );
        a
    }

    /// The Node the kubelet registers (`initialNode`).
    fn initial_node(&mut self, now: SimTime) -> Node {
        let name = self.machine.spec.name.clone();
        let mut node = Node::default();
        node.metadata.name = Some(name.clone());
        node.metadata.labels = Some(BTreeMap::from([
            ("beta.kubernetes.io/arch".into(), "amd64".into()),
            ("beta.kubernetes.io/os".into(), "linux".into()),
            ("kubernetes.io/arch".into(), "amd64".into()),
            ("kubernetes.io/hostname".into(), name.clone()),
            ("kubernetes.io/os".into(), "linux".into()),
        ]));
        if self.machine.spec.role == NodeRole::ControlPlane {
            // kubeadm's mark-control-plane phase labels the node.
            if let Some(l) = node.metadata.labels.as_mut() {
                l.insert(CONTROL_PLANE_TAINT.to_string(), String::new());
                l.insert(
                    "node.kubernetes.io/exclude-from-external-load-balancers".into(),
                    String::new(),
                );
            }
        }
        node.metadata.annotations = Some(BTreeMap::from([
            (
                "kubeadm.alpha.kubernetes.io/cri-socket".into(),
                "unix:///var/run/containerd/containerd.sock".into(),
            ),
            ("node.alpha.kubernetes.io/ttl".into(), "0".into()),
            (
                "volumes.kubernetes.io/controller-managed-attach-detach".into(),
                "true".into(),
            ),
        ]));
        let mut taints = Vec::new();
        if self.machine.spec.role == NodeRole::ControlPlane {
            // kubeadm passes its taints as `--register-with-taints`.
            taints.push(Taint {
                key: CONTROL_PLANE_TAINT.into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            });
        }
        if self.machine.external_cloud_provider {
            // `initialNode`: with an external cloud provider the node waits
            // for the cloud-controller-manager's node controller.
            taints.push(Taint {
                key: crate::cloud::ccm::UNINITIALIZED_TAINT.into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
                ..Default::default()
            });
        }
        // No pod CIDR: the node IPAM controller assigns it.
        node.spec = Some(CoreNodeSpec {
            taints: (!taints.is_empty()).then_some(taints),
            ..Default::default()
        });
        node.status = Some(self.status(now));
        node
    }

    fn condition(
        &mut self,
        now: SimTime,
        type_: &str,
        status: &str,
        reason: &str,
        message: &str,
    ) -> NodeCondition {
        let since = match self.transitions.get(type_) {
            Some((s, t)) if s == status => *t,
            _ => {
                self.transitions.insert(type_.into(), (status.into(), now));
                now
            }
        };
        NodeCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_heartbeat_time: Some(to_time(now)),
            last_transition_time: Some(to_time(since)),
        }
    }

    /// The status the kubelet reports now (`setNodeStatus`).
    fn status(&mut self, now: SimTime) -> NodeStatus {
        let m = &self.machine;
        let index = m.index;
        // `ReadyCondition` (pkg/kubelet/nodestatus/setters.go): the runtime's
        // network is not ready until the node has a pod CIDR for the CNI
        // plugin (flannel reads `spec.podCIDR`).
        let (ready, ready_reason, ready_message) = if self.pod_cidr.is_some() {
            ("True", "KubeletReady", "kubelet is posting ready status")
        } else {
            ("False", "KubeletNotReady", NETWORK_NOT_READY)
        };
        let conditions = vec![
            self.condition(
                now,
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            self.condition(
                now,
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            self.condition(
                now,
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            self.condition(now, "Ready", ready, ready_reason, ready_message),
        ];
        let m = &self.machine;
        NodeStatus {
            addresses: Some(vec![
                NodeAddress {
                    type_: "InternalIP".into(),
                    address: m.ip.clone(),
                },
                NodeAddress {
                    type_: "Hostname".into(),
                    address: m.spec.name.clone(),
                },
            ]),
            allocatable: Some(self.allocatable()),
            capacity: Some(self.capacity()),
            conditions: Some(conditions),
            daemon_endpoints: Some(NodeDaemonEndpoints {
                kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint {
                    port: KUBELET_PORT,
                }),
            }),
            node_info: Some(NodeSystemInfo {
                architecture: "amd64".into(),
                boot_id: format!(
                    "{:08x}-0000-4000-8000-{:012x}",
                    0xb007_0000u32 + index as u32,
                    index
                ),
                container_runtime_version: CONTAINER_RUNTIME_VERSION.into(),
                kernel_version: "6.8.0-71-generic".into(),
                kube_proxy_version: String::new(),
                kubelet_version: KUBELET_VERSION.into(),
                machine_id: format!("{:032x}", 0x5eed_0000_0000u64 + index as u64),
                operating_system: "linux".into(),
                os_image: "Ubuntu 24.04.3 LTS".into(),
                system_uuid: format!(
                    "{:08x}-0000-4000-8000-{:012x}",
                    0x0de0_0000u32 + index as u32,
                    index
                ),
                ..Default::default()
            }),
            images: self.runtime.as_ref().map(|r| {
                let mut images: Vec<k8s_openapi::api::core::v1::ContainerImage> = r
                    .list_images()
                    .into_iter()
                    .map(|i| k8s_openapi::api::core::v1::ContainerImage {
                        names: Some(i.repo_digests.into_iter().chain(i.repo_tags).collect()),
                        size_bytes: Some(i.size_bytes as i64),
                    })
                    .collect();
                // `nodeStatusMaxImages` orders by size, largest first.
                images.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
                images.truncate(50);
                images
            }),
            ..Default::default()
        }
    }

    fn request(&self, verb: Verb) -> ApiRequest {
        ApiRequest::new(verb, KindId::Node, self.credential.clone())
    }

    fn register(&mut self, ctx: &mut Ctx<'_>) {
        let node = self.initial_node(ctx.now);
        self.registration = Registration::InFlight;
        ctx.send(
            TAG_REGISTER,
            self.request(Verb::Create)
                .with_body(Object::Node(Box::new(node))),
        );
    }

    fn retry_registration(&mut self, now: SimTime) {
        self.register_backoff = if self.register_backoff == SimDuration::ZERO {
            REGISTER_BACKOFF_INITIAL
        } else {
            (self.register_backoff + self.register_backoff).min(REGISTER_BACKOFF_MAX)
        };
        self.registration = Registration::Pending(now + self.register_backoff);
    }

    fn registered(&mut self, ctx: &mut Ctx<'_>, node: Rc<Object>) {
        self.registration = Registration::Registered;
        self.register_backoff = SimDuration::ZERO;
        self.lease.set_node_uid(node.uid().map(str::to_string));
        self.update_pod_cidr(ctx.now, &node);
        self.node = Some(node);
        // Post the full status right away.
        self.next_status = ctx.now;
    }

    fn sync_status(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        self.next_status = now + STATUS_UPDATE_FREQUENCY;
        let status = self.status(now);
        // The last status is kept without its heartbeats: one copy a tick.
        let bare = without_heartbeats(&status);
        let changed = self.last_status.as_ref().is_none_or(|last| *last != bare);
        let due = self
            .last_report
            .is_none_or(|t| now.saturating_since(t) >= STATUS_REPORT_FREQUENCY);
        if !changed && !due {
            return;
        }
        let Some(Object::Node(current)) = self.node.as_deref() else {
            return;
        };
        let mut next = current.clone();
        // The status subresource ignores everything but status; no
        // resourceVersion makes the update unconditional, as the kubelet's
        // status patch is.
        next.metadata.resource_version = None;
        next.status = Some(status);
        self.status_in_flight = true;
        self.last_status = Some(bare);
        self.last_report = Some(now);
        ctx.send(
            TAG_STATUS,
            self.request(Verb::Update)
                .named(self.machine.spec.name.clone())
                .with_subresource("status")
                .with_body(Object::Node(next)),
        );
    }

    fn poll_lease(&mut self, ctx: &mut Ctx<'_>) {
        if !self.has_credential() {
            return;
        }
        if let Some((_, request)) = self.lease.poll(ctx.now, &self.credential) {
            ctx.send(TAG_LEASE, request);
        }
    }
}

/// What a command that needs the cluster's network prints while service
/// traffic is not simulated: the name does not resolve.
/// The kubelet's TokenRequest for a projected token: for the pod's service
/// account, bound to the pod (`pkg/volume/projected/projected.go`
/// `collectData`).
fn token_request(
    credential: &Credential,
    namespace: &str,
    service_account: &str,
    pod: &str,
    pod_uid: &str,
    audience: &str,
    seconds: i64,
) -> ApiRequest {
    use k8s_openapi::api::authentication::v1::{
        BoundObjectReference, TokenRequest, TokenRequestSpec,
    };
    let tr = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: (!audience.is_empty()).then(|| vec![audience.to_string()]),
            expiration_seconds: Some(seconds),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod.to_string()),
                uid: Some(pod_uid.to_string()),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    ApiRequest::new(Verb::Create, KindId::ServiceAccount, credential.clone())
        .in_namespace(namespace)
        .named(service_account)
        .with_subresource("token")
        .with_body(Object::TokenRequest(Box::new(tr)))
}

/// Log lines as the kubelet writes them to the response: each ending in a
/// newline, with its RFC 3339 time first when `timestamps` is asked.
pub(crate) fn log_text(lines: &[crate::runtime::LogLine], timestamps: bool) -> String {
    let mut text = String::new();
    for l in lines {
        if timestamps {
            text.push_str(&crate::api::time::to_micro_time(l.at).0.to_string());
            text.push(' ');
        }
        text.push_str(&l.text);
        text.push('\n');
    }
    text
}

fn needs_cluster_failure(request: &crate::runtime::ClusterRequest) -> (String, i32) {
    use crate::runtime::ClusterRequest;
    match request {
        ClusterRequest::Http { url, .. } => {
            let host = url
                .split("://")
                .nth(1)
                .unwrap_or(url)
                .split(['/', ':'])
                .next()
                .unwrap_or_default();
            (format!("curl: (6) Could not resolve host: {host}"), 6)
        }
        ClusterRequest::Dns { name } => (
            format!(";; connection timed out; no servers could be reached\n\n** server can't find {name}: NXDOMAIN"),
            1,
        ),
        ClusterRequest::Ping { host } => (format!("ping: bad address '{host}'"), 1),
    }
}

/// A status with the heartbeat times blanked, to tell real changes apart.
fn without_heartbeats(s: &NodeStatus) -> NodeStatus {
    let mut s = s.clone();
    if let Some(cs) = s.conditions.as_mut() {
        for c in cs {
            c.last_heartbeat_time = None;
        }
    }
    s
}

impl Agent for Kubelet {
    fn informers(&self) -> Vec<InformerConfig> {
        // The kubelet watches only the pods bound to its node, and its own
        // Node (`NewMainKubelet`'s node informer, `metadata.name=<node>`).
        vec![
            InformerConfig::new(KindId::Pod)
                .with_field_selector(format!("spec.nodeName={}", self.machine.spec.name)),
            InformerConfig::new(KindId::Node)
                .with_field_selector(format!("metadata.name={}", self.machine.spec.name)),
        ]
    }

    fn credential(&self) -> Credential {
        self.credential.clone()
    }

    fn take_credential_change(&mut self) -> bool {
        std::mem::take(&mut self.credential_changed)
    }

    /// `kubeAPIQPS` 50 and `kubeAPIBurst` 100 (the KubeletConfiguration
    /// defaults since 1.27, pkg/kubelet/apis/config/v1beta1/defaults.go).
    fn rate_limit(&self) -> Option<RateLimit> {
        Some(RateLimit {
            qps: 50,
            burst: 100,
        })
    }

    /// The node's Lease and status go through the heartbeat client, which
    /// has no rate limit (cmd/kubelet/app/server.go sets its QPS to -1), so
    /// a busy kubelet never misses a renewal; events through the event
    /// client (`eventRecordQPS`).
    fn client_for(&self, tag: Tag, request: &ApiRequest) -> Option<ClientId> {
        match tag {
            TAG_GET_NODE | TAG_STATUS | TAG_LEASE => None,
            _ if request.kind == KindId::Event => Some(CLIENT_EVENTS),
            _ => Some(CLIENT_MAIN),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        // Static pods start at once, before the API answers: that is how
        // kubeadm's control plane comes up.
        self.sync_static_pods(ctx);
        self.sync_pods(ctx);
        self.poll_certificates(ctx);
        if self.has_credential() {
            self.register(ctx);
        }
        self.poll_lease(ctx);
    }

    fn on_notification(&mut self, ctx: &mut Ctx<'_>, informer: usize, n: &Notification) {
        if informer == INFORMER_NODE {
            // A change of the Node re-syncs no pod: upstream's sync loop
            // (pkg/kubelet/kubelet.go syncLoopIteration) syncs a pod on its
            // own updates (configCh), its containers' events (plegCh), its
            // probes' results and when its work queue item is due (syncCh);
            // the node informer only feeds the node lister. The pods that
            // waited for the pod CIDR are the exception, marked by
            // `update_pod_cidr`.
            if let Notification::Add(o) | Notification::Update { new: o, .. } = n {
                self.update_pod_cidr(ctx.now, o);
            }
            self.sync_pods(ctx);
            return;
        }
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. } => {
                self.on_pod(ctx, o, false)
            }
            Notification::Delete { object, .. } => self.on_pod(ctx, object, true),
            Notification::Synced => {
                self.pods_synced = true;
                self.dirty_all = true;
            }
        }
        self.sync_static_pods(ctx);
        self.sync_pods(ctx);
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        match tag {
            certificate::TAG_CREATE | certificate::TAG_WATCH => {
                for (tag, request) in self.certs.on_reply(ctx.now, tag, response) {
                    ctx.send(tag, request);
                }
                self.adopt_certificate(ctx.now);
                if self.has_credential() {
                    if let Registration::Pending(t) = self.registration {
                        if t <= ctx.now {
                            self.register(ctx);
                        }
                    }
                }
                self.poll_lease(ctx);
            }
            TAG_REGISTER => match response {
                ApiResponse::Object(node) => self.registered(ctx, node),
                ApiResponse::Error(e) if e.reason == Reason::AlreadyExists => {
                    // A Node made by hand (or by an earlier run of this
                    // kubelet): adopt it.
                    ctx.send(
                        TAG_GET_NODE,
                        self.request(Verb::Get)
                            .named(self.machine.spec.name.clone()),
                    );
                }
                _ => self.retry_registration(ctx.now),
            },
            TAG_GET_NODE => match response {
                ApiResponse::Object(node) => self.registered(ctx, node),
                _ => self.retry_registration(ctx.now),
            },
            TAG_STATUS => {
                self.status_in_flight = false;
                match response {
                    ApiResponse::Object(node) => {
                        self.update_pod_cidr(ctx.now, &node);
                        self.node = Some(node);
                    }
                    ApiResponse::Error(e) if e.reason == Reason::NotFound => {
                        // The Node was deleted: register again.
                        self.node = None;
                        self.last_status = None;
                        self.registration = Registration::Pending(ctx.now);
                    }
                    _ => {
                        // Try again at the next update.
                        self.last_status = None;
                    }
                }
            }
            TAG_LEASE => {
                if let Some((_, request)) = self.lease.on_reply(ctx.now, &self.credential, response)
                {
                    ctx.send(TAG_LEASE, request);
                }
                self.poll_lease(ctx);
            }
            tag if self.volume_calls.contains_key(&tag) => {
                if let Some(call) = self.volume_calls.remove(&tag) {
                    let pod = match &call {
                        VolumeCall::Token { pod, .. } | VolumeCall::ConfigMap { pod, .. } => {
                            pod.clone()
                        }
                    };
                    self.dirty.insert(pod);
                    self.on_volume_reply(ctx, call, response);
                }
                self.sync_pods(ctx);
            }
            tag if self.mirror_writes.contains_key(&tag) => {
                self.on_mirror_reply(tag, response);
                self.sync_static_pods(ctx);
            }
            tag if tag >= TAG_POD_BASE => {
                if let Some(key) = self.status_writes.remove(&tag) {
                    if let ApiResponse::Error(_) = response {
                        // Try again at the next sync.
                        if let Some(w) = self.workers.get_mut(&key) {
                            w.sent = None;
                        }
                    }
                    self.dirty.insert(key);
                    // A status that changed while this write was in flight
                    // goes out now.
                    self.sync_pods(ctx);
                }
            }
            _ => {}
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let due: Vec<String> = self
            .workers
            .iter()
            .filter(|(_, w)| w.next_wakeup().is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        self.dirty.extend(due);
        self.sync_static_pods(ctx);
        self.sync_pods(ctx);
        self.poll_certificates(ctx);
        let now = ctx.now;
        if let Registration::Pending(t) = self.registration {
            if t <= now && self.has_credential() {
                self.register(ctx);
            }
        }
        if self.is_registered() && !self.status_in_flight && self.next_status <= now {
            self.sync_status(ctx);
        }
        self.poll_lease(ctx);
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        let reg = match self.registration {
            Registration::Pending(t) if self.has_credential() => Some(t),
            _ => None,
        };
        let status = (self.is_registered() && !self.status_in_flight).then_some(self.next_status);
        // A change in the manifest directory is seen at once (inotify).
        let manifests =
            (self.manifests_read != Some(self.manifests.version())).then_some(SimTime::ZERO);
        let runtime = self.runtime.as_ref().and_then(|r| r.next_wakeup());
        let workers = self.workers.values().filter_map(|w| w.next_wakeup()).min();
        let lease = self
            .has_credential()
            .then(|| self.lease.next_wakeup())
            .flatten();
        [
            reg,
            status,
            lease,
            self.certs.next_wakeup(),
            runtime,
            workers,
            manifests,
            self.volume_wake,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Resources;

    fn machine(role: NodeRole) -> Machine {
        Machine {
            spec: NodeSpec {
                name: "control-plane-1".into(),
                role,
                zone: "zone-a".into(),
                instance_type: "n2-standard-4".into(),
                capacity: Resources::new(4, 16),
            },
            ip: "10.0.0.11".into(),
            index: 0,
            external_cloud_provider: false,
            bootstrap_token: None,
        }
    }

    #[test]
    fn a_control_plane_node_registers_with_kubeadms_label_and_taint() {
        let mut k = Kubelet::new(machine(NodeRole::ControlPlane), SimTime::ZERO);
        let node = k.initial_node(SimTime::ZERO);
        assert!(node
            .metadata
            .labels
            .unwrap()
            .contains_key("node-role.kubernetes.io/control-plane"));
        let taints = node.spec.unwrap().taints.unwrap();
        assert_eq!(taints[0].key, CONTROL_PLANE_TAINT);
        assert_eq!(taints[0].effect, "NoSchedule");
    }

    #[test]
    fn allocatable_memory_withholds_the_hard_eviction_threshold() {
        let k = Kubelet::new(machine(NodeRole::Worker), SimTime::ZERO);
        let cap = k.capacity();
        let alloc = k.allocatable();
        assert_eq!(cap["memory"].0, "16777216Ki");
        assert_eq!(alloc["memory"].0, "16674816Ki");
        assert_eq!(alloc["pods"].0, "110");
        assert_eq!(alloc["cpu"].0, "4");
    }

    fn with_pod_cidr(k: &mut Kubelet, cidr: &str) {
        let node = crate::controllers::testing::object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\nspec:\n  podCIDR: {cidr}\n  podCIDRs: [{cidr}]\n"
        ));
        k.update_pod_cidr(SimTime::ZERO, &node);
    }

    #[test]
    fn a_node_without_a_pod_cidr_is_not_ready_because_its_network_plugin_is_not() {
        let mut k = Kubelet::new(machine(NodeRole::Worker), SimTime::ZERO);
        let node = k.initial_node(SimTime::ZERO);
        let spec = node.spec.clone().unwrap_or_default();
        assert_eq!(spec.pod_cidr, None, "the kubelet never picks its pod CIDR");
        let ready = node
            .status
            .unwrap()
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason.as_deref(), Some("KubeletNotReady"));
        assert_eq!(ready.message.as_deref(), Some(NETWORK_NOT_READY));
        assert_eq!(k.allocate_ip(), None);
    }

    #[test]
    fn pod_ips_come_from_the_assigned_pod_cidr_from_dot_two_and_are_reused_once_released() {
        let mut k = Kubelet::new(machine(NodeRole::Worker), SimTime::ZERO);
        with_pod_cidr(&mut k, "10.244.7.0/24");
        assert_eq!(k.pod_cidr(), Some("10.244.7.0/24"));
        assert_eq!(k.allocate_ip().as_deref(), Some("10.244.7.2"));
        assert_eq!(k.allocate_ip().as_deref(), Some("10.244.7.3"));
        k.release_ip("10.244.7.2");
        assert_eq!(k.allocate_ip().as_deref(), Some("10.244.7.2"));
        // An empty podCIDR changes nothing (`updatePodCIDR`).
        let empty = crate::controllers::testing::object(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n",
        );
        k.update_pod_cidr(SimTime::ZERO, &empty);
        assert_eq!(k.pod_cidr(), Some("10.244.7.0/24"));
    }

    #[test]
    fn the_ready_condition_keeps_its_transition_time_across_heartbeats() {
        let mut k = Kubelet::new(machine(NodeRole::Worker), SimTime::ZERO);
        with_pod_cidr(&mut k, "10.244.1.0/24");
        k.status(SimTime(1_000));
        let s = k.status(SimTime(11_000));
        let ready = s
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.last_transition_time, Some(to_time(SimTime(1_000))));
        assert_eq!(ready.last_heartbeat_time, Some(to_time(SimTime(11_000))));
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
    }
}
