//! A cluster: a topology brought to life in a world.
//!
//! `Cluster` is the one entry point of the core for the page and the CLI. It
//! owns the world (clock, event queue, seeded RNG), the simulated network and
//! every component, and it is the only thing that delivers: a component
//! returns its effects as data, and the cluster turns each into a message
//! across the network (with a seeded latency, or dropped by a fault) or a
//! timer. Every message is recorded in the trace the page animates.
//!
//! Simulated so far: the etcd members (Raft and MVCC), the kube-apiserver
//! instances (authentication, authorization, admission, validation, storage,
//! watch cache, identity leases), the API load balancer, the user's kubectl,
//! and every node's kubelet (registration, node status, Lease heartbeats,
//! static pods from the node's manifest directory with their mirror pods,
//! and the HTTPS endpoint the API servers call for `kubectl
//! logs|exec|attach|port-forward`, directly or, with the topology's
//! `konnectivity` option, through a konnectivity-server beside each API
//! server and the node's konnectivity-agent: `cluster/tunnel.rs`).
//! kube-proxy in its DaemonSet's pod on every node and CoreDNS in its pods
//! keep Service traffic real (`cluster/traffic.rs`). The cloud-controller-manager is placed but
//! has no behaviour yet; its view says so (`simulated: false`).

mod clients;
mod cloudhost;
mod jointoken;

pub use jointoken::bootstrap_token_secret;

pub use cloudhost::{ccm_addr, CLOUD, VM_BOOT};
mod traffic;
mod tunnel;

pub use traffic::{coredns_addon, kube_proxy_addr};
pub(crate) use traffic::{is_short_flag, parse_url, reason};

use crate::api::{ApiError, KindId};
use crate::apiserver::auth::authn::{Authenticator, ClientCertificate, Credential};
use crate::apiserver::loadbalancer::{self, LoadBalancer};
use crate::apiserver::server::{self as apiserver, Addr, ApiServer, Ctx};
use crate::apiserver::{ApiRequest, ApiResponse};
use crate::etcd::member::{
    ClientId, EtcdMember, Input as EtcdInput, MemberId, Output as EtcdOutput, RaftMessageSummary,
    Request as EtcdRequest, Role,
};
use crate::etcd::RaftMessage;
use crate::kubelet::{Kubelet, Machine};
use crate::snapshot::{
    ComponentKind, ComponentView, Health, LeaseView, NodeView, Snapshot, SnapshotCache,
};
use crate::topology::{NodeRole, Topology};
use crate::world::network::Drop as NetDrop;
use crate::world::{
    Network, NetworkConfig, SimDuration, SimRng, SimTime, Trace, TraceEvent, World,
};
use clients::{ClientSlot, Running};
use std::collections::{BTreeMap, BTreeSet};

/// A map looked up on every message (an address's host, a connection's
/// last arrival) and never iterated where order reaches output; its hasher
/// is unseeded, the same on every run.
type LookupMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<std::hash::DefaultHasher>>;

/// The user's kubectl, on a machine of its own outside the cluster.
pub const KUBECTL: &str = "kubectl";
/// Where `kubeadm init` runs its addon phase (see [`crate::kubeadm`]).
pub const KUBEADM: &str = "kubeadm";
/// The API load balancer's address (and host).
pub const LOAD_BALANCER: &str = "api-load-balancer";
/// How many trace events the cluster keeps for the page.
pub const TRACE_CAPACITY: usize = 4096;
/// kubectl gives up on a request after this long (`--request-timeout`; its
/// default is none, but a stuck page helps nobody).
pub const CLIENT_TIMEOUT: SimDuration = SimDuration::from_secs(60);

/// A message between two components.
#[derive(Clone, Debug)]
pub enum Msg {
    Raft(Box<RaftMessage>),
    EtcdRequest {
        request_id: u64,
        request: EtcdRequest,
    },
    Etcd(Box<EtcdOutput>),
    Api {
        id: u64,
        request: Box<ApiRequest>,
    },
    ApiCancel {
        id: u64,
    },
    ApiReply {
        id: u64,
        response: Box<ApiResponse>,
    },
    Probe,
    ProbeResult {
        ready: bool,
    },
    /// A crashed process's TCP connections close (the kernel resets them):
    /// the load balancer ends every request and watch it proxied there.
    Reset,
    /// An API server's call to a kubelet's HTTPS endpoint (`pods/log`,
    /// `pods/exec`), to `address` (the node's InternalIP and port 10250).
    KubeletCall {
        id: u64,
        address: String,
        request: Box<crate::kubelet::server::KubeletRequest>,
    },
    KubeletAnswer {
        id: u64,
        response: Box<crate::kubelet::server::KubeletResponse>,
    },
    /// Data on an open stream to a kubelet (a port-forward connection).
    KubeletInput {
        id: u64,
        input: Box<crate::kubelet::server::StreamInput>,
    },
    /// The stream to a kubelet closes (the client went away).
    KubeletClose {
        id: u64,
    },
    /// kubectl's data on an upgraded connection (port-forward).
    ApiStreamInput {
        id: u64,
        input: Box<crate::kubelet::server::StreamInput>,
    },
    /// A konnectivity-agent dials a server (through the load balancer's
    /// port 8132) to open its tunnel.
    TunnelDial {
        identifier: String,
    },
    /// The server's answer to a dial.
    TunnelReply {
        accepted: bool,
    },
    /// A cloud-controller-manager's call to the cloud provider's API.
    Cloud {
        id: u64,
        request: Box<crate::cloud::CloudRequest>,
    },
    CloudReply {
        id: u64,
        response: Box<crate::cloud::CloudResponse>,
    },
}

impl Msg {
    /// A short kind for the trace (what the page filters and colours by).
    fn kind(&self) -> &'static str {
        match self {
            Msg::Raft(m) => match m.get_msg_type() {
                raft::eraftpb::MessageType::MsgHeartbeat
                | raft::eraftpb::MessageType::MsgHeartbeatResponse => "raft-heartbeat",
                raft::eraftpb::MessageType::MsgAppend
                | raft::eraftpb::MessageType::MsgAppendResponse => "raft-append",
                raft::eraftpb::MessageType::MsgRequestVote
                | raft::eraftpb::MessageType::MsgRequestVoteResponse
                | raft::eraftpb::MessageType::MsgRequestPreVote
                | raft::eraftpb::MessageType::MsgRequestPreVoteResponse => "raft-vote",
                _ => "raft",
            },
            Msg::EtcdRequest { .. } => "etcd-request",
            Msg::Etcd(o) => match **o {
                EtcdOutput::WatchEvents { .. } | EtcdOutput::WatchEnded { .. } => "etcd-watch",
                _ => "etcd-response",
            },
            Msg::Api { .. } | Msg::ApiCancel { .. } => "api-request",
            Msg::ApiReply { response, .. } => match **response {
                ApiResponse::Watch(_) | ApiResponse::WatchClosed(_) => "watch-event",
                _ => "api-response",
            },
            Msg::Probe | Msg::ProbeResult { .. } => "health-check",
            Msg::Reset => "api-response",
            Msg::KubeletCall { .. }
            | Msg::KubeletAnswer { .. }
            | Msg::KubeletInput { .. }
            | Msg::KubeletClose { .. } => "kubelet-api",
            Msg::ApiStreamInput { .. } => "api-request",
            Msg::TunnelDial { .. } | Msg::TunnelReply { .. } => "konnectivity",
            Msg::Cloud { .. } | Msg::CloudReply { .. } => "cloud-api",
        }
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        self.write_summary(&mut out);
        out
    }

    /// Writes the one-line summary for the trace into `out` (the trace
    /// reuses the buffer of the entry it evicts: one allocation fewer per
    /// message).
    fn write_summary(&self, out: &mut String) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            Msg::Raft(m) => {
                let s = RaftMessageSummary::of(m);
                let _ = write!(out, "{} term {}", s.kind, s.term);
                if s.entries > 0 {
                    let _ = write!(out, " ({} entries)", s.entries);
                }
                if s.reject {
                    out.push_str(" rejected");
                }
                Ok(())
            }
            Msg::EtcdRequest { request, .. } => match request {
                EtcdRequest::Txn(t) => {
                    out.push_str("Txn ");
                    for (i, op) in t.success.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        let _ = match op {
                            crate::etcd::mvcc::RequestOp::Put(p) => write!(out, "put {}", p.key),
                            crate::etcd::mvcc::RequestOp::DeleteRange(d) => {
                                write!(out, "delete {:?}", d.range)
                            }
                            crate::etcd::mvcc::RequestOp::Range(r) => {
                                write!(out, "range {:?}", r.range)
                            }
                        };
                    }
                    Ok(())
                }
                EtcdRequest::Range(r) => write!(out, "Range {:?}", r.range),
                EtcdRequest::Watch {
                    range,
                    start_revision,
                    ..
                } => {
                    write!(out, "Watch {range:?} from {start_revision}")
                }
                other => write!(out, "{other:?}"),
            },
            Msg::Etcd(o) => match &**o {
                EtcdOutput::Response { result, .. } => match result {
                    Ok(crate::etcd::member::Response::Txn(t)) => {
                        write!(
                            out,
                            "Txn {} rev {}",
                            if t.succeeded { "ok" } else { "compare failed" },
                            t.revision
                        )
                    }
                    Ok(crate::etcd::member::Response::Range(r)) => {
                        write!(out, "Range {} keys rev {}", r.kvs.len(), r.revision)
                    }
                    Ok(other) => write!(out, "{other:?}"),
                    Err(e) => write!(out, "error: {e}"),
                },
                EtcdOutput::WatchEvents {
                    events, revision, ..
                } => {
                    write!(out, "{} watch events up to rev {revision}", events.len())
                }
                EtcdOutput::WatchEnded { reason, .. } => write!(out, "watch ended: {reason}"),
                EtcdOutput::Raft { .. } => out.write_str("raft"),
            },
            Msg::Api { request, .. } => write!(out, "{request}"),
            Msg::ApiCancel { .. } => out.write_str("close watch"),
            Msg::ApiReply { response, .. } => {
                response.write_summary(out);
                Ok(())
            }
            Msg::Probe => out.write_str("GET /readyz"),
            Msg::ProbeResult { ready } => {
                out.write_str(if *ready { "readyz ok" } else { "readyz failed" })
            }
            Msg::Reset => out.write_str("connections reset"),
            Msg::KubeletCall {
                address, request, ..
            } => write!(
                out,
                "{} https://{address}{} (as {})",
                request.method(),
                request.path(),
                crate::kubelet::server::APISERVER_KUBELET_CLIENT
            ),
            Msg::KubeletAnswer { response, .. } => out.write_str(&response.summary()),
            Msg::KubeletInput { input, .. } | Msg::ApiStreamInput { input, .. } => {
                write!(out, "{input}")
            }
            Msg::KubeletClose { .. } => out.write_str("close stream"),
            Msg::TunnelDial { identifier } => write!(
                out,
                "gRPC Connect via {LOAD_BALANCER}:{} (agent ipv4={identifier})",
                crate::konnectivity::AGENT_PORT
            ),
            Msg::TunnelReply { accepted: true } => out.write_str("tunnel open"),
            Msg::TunnelReply { accepted: false } => out.write_str("tunnel refused"),
            Msg::Cloud { request, .. } => write!(out, "{request}"),
            Msg::CloudReply { response, .. } => out.write_str(&response.summary()),
        };
    }
}

/// What the world delivers.
#[derive(Clone, Debug)]
pub enum Event {
    Deliver { from: Addr, to: Addr, msg: Msg },
    Tick(Addr),
}

/// Why a fault could not be applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("error: no component or node named {0:?} (try `sim status`)")]
    UnknownTarget(String),
    #[error("error: {0}")]
    NotSimulated(String),
    #[error("error: {0}")]
    Unsupported(String),
}

/// A simulated cluster.
pub struct Cluster {
    topology: Topology,
    world: World<Event>,
    network: Network,
    trace: Trace,
    hosts: LookupMap<Addr, String>,
    etcd: BTreeMap<Addr, EtcdMember>,
    etcd_ids: BTreeMap<MemberId, Addr>,
    apiservers: BTreeMap<Addr, ApiServer>,
    apiserver_by_client: BTreeMap<ClientId, Addr>,
    /// The API servers' decodings of etcd's bytes, shared (a memo, not a
    /// channel: see `registry::Decoded`).
    decoded: crate::apiserver::registry::Decoded,
    lb: LoadBalancer,
    authn: Authenticator,
    /// kubectl's answers, by request id.
    /// What reached kubectl, by request id, with when it arrived.
    inbox: BTreeMap<u64, Vec<(SimTime, ApiResponse)>>,
    next_client_request: u64,
    /// Components stopped by a fault.
    crashed: BTreeSet<Addr>,
    powered_off: BTreeSet<String>,
    /// When the last message on each (from, to) connection arrives: every
    /// connection is one ordered stream (TCP), so a message never overtakes
    /// an earlier one on the same connection. Looked up once per message
    /// and never iterated, so a hash map (with a fixed, unseeded hasher).
    last_arrival: LookupMap<(Addr, Addr), SimTime>,
    /// Messages on a connection held back by a partition: TCP keeps
    /// retransmitting them, and they arrive once the partition heals.
    held: Vec<(Addr, Addr, Msg)>,
    /// The API clients: kubelets (and, as they gain behaviour, the other
    /// client-go programs).
    clients: BTreeMap<Addr, ClientSlot>,
    /// The cloud provider the machines are VMs of (see `cloudhost`).
    cloud: crate::cloud::Cloud,
    /// Service networking: the nodes' kube-proxy rules, the CoreDNS pods.
    net: traffic::NetState,
    /// kubeadm's bootstrap token (`<id>.<secret>`), once `kubeadm init`
    /// created it: what a machine joining later starts its kubelet with.
    bootstrap_token: Option<(String, SimTime)>,
    /// Konnectivity's servers and agents, when the topology runs it.
    tunnel: Option<tunnel::Konnectivity>,
}

/// A node's manifest files (name, content) and the kubelet's complaints
/// about some of them (by file name).
pub type NodeManifests = (Vec<(String, String)>, BTreeMap<String, String>);

/// The address of a node's kubelet.
pub fn kubelet_addr(node: &str) -> String {
    format!("kubelet@{node}")
}

/// A node's InternalIP: control-plane nodes in 10.0.0.0/24, workers in
/// 10.0.1.0/24, from .11 up.
pub fn node_ip(role: NodeRole, index_in_role: usize) -> String {
    match role {
        NodeRole::ControlPlane => format!("10.0.0.{}", 11 + index_in_role),
        NodeRole::Worker => format!(
            "10.0.{}.{}",
            1 + index_in_role / 200,
            11 + index_in_role % 200
        ),
    }
}

/// TCP's initial retransmission timeout: a lost segment arrives this much later.
pub const TCP_RETRANSMIT: SimDuration = SimDuration::from_millis(200);

fn addr(s: &str) -> Addr {
    s.into()
}

impl Cluster {
    /// A copy of the cluster at this moment whose future, given the same
    /// commands, is the same as this one's, message for message (the
    /// page's scrub checkpoints). The copy shares only immutable data with
    /// the original (objects and bytes behind `Rc`, process factories that
    /// capture plain values), and the big per-pod state copy-on-write (see
    /// [`crate::cow`]: the kubelets' pod workers and volumes, containerd's
    /// containers and sandboxes, etcd's key histories and event log, the
    /// informers' caches, the Node authorizer's pods), which either side
    /// copies, a value or a run of entries at a time, only when it writes
    /// it: a copy of a cluster of 3,000 pods takes a fraction of what
    /// copying every value would.
    ///
    /// `None` at a moment an etcd member cannot be copied exactly (see
    /// [`EtcdMember::try_clone`]): a rare state between two inputs; a
    /// moment later it can.
    pub fn try_clone(&self) -> Option<Cluster> {
        let mut etcd = BTreeMap::new();
        for (a, m) in &self.etcd {
            etcd.insert(a.clone(), m.try_clone()?);
        }
        Some(Cluster {
            topology: self.topology.clone(),
            world: self.world.clone(),
            network: self.network.clone(),
            trace: self.trace.clone(),
            hosts: self.hosts.clone(),
            etcd,
            etcd_ids: self.etcd_ids.clone(),
            apiservers: self.apiservers.clone(),
            apiserver_by_client: self.apiserver_by_client.clone(),
            decoded: self.decoded.clone(),
            lb: self.lb.clone(),
            authn: self.authn.clone(),
            inbox: self.inbox.clone(),
            next_client_request: self.next_client_request,
            crashed: self.crashed.clone(),
            powered_off: self.powered_off.clone(),
            last_arrival: self.last_arrival.clone(),
            held: self.held.clone(),
            clients: self.clients.clone(),
            cloud: self.cloud.clone(),
            net: self.net.clone(),
            bootstrap_token: self.bootstrap_token.clone(),
            tunnel: self.tunnel.clone(),
        })
    }

    /// A cluster of `topology`, whose every random choice derives from `seed`.
    /// It starts at time zero with every process just launched: the etcd
    /// members have not yet elected a leader and the API servers are not yet
    /// ready (see [`Cluster::boot`]).
    pub fn new(topology: Topology, seed: u64) -> Cluster {
        let mut world = World::new(seed);
        let mut hosts = LookupMap::default();
        let member_ids: Vec<MemberId> = (1..=topology.control_plane.len() as u64).collect();
        let mut etcd = BTreeMap::new();
        let mut etcd_ids = BTreeMap::new();
        let mut apiservers = BTreeMap::new();
        let mut apiserver_by_client = BTreeMap::new();
        for (i, node) in topology.control_plane.iter().enumerate() {
            let id = member_ids[i];
            let e = addr(&format!("etcd-{}", node.name));
            if let Ok(member) = EtcdMember::new(id, &member_ids, SimTime::ZERO, world.rng()) {
                etcd.insert(e.clone(), member);
                etcd_ids.insert(id, e.clone());
                hosts.insert(e.clone(), node.name.clone());
                world.schedule_in(SimDuration::ZERO, Event::Tick(e));
            }
            let a = addr(&format!("kube-apiserver-{}", node.name));
            let client = ClientId(id);
            let mut server = ApiServer::new(&a, &node.name, id, client, SimTime::ZERO);
            server.set_egress_konnectivity(topology.konnectivity);
            apiservers.insert(a.clone(), server);
            apiserver_by_client.insert(client, a.clone());
            hosts.insert(a.clone(), node.name.clone());
            world.schedule_in(SimDuration::ZERO, Event::Tick(a));
        }
        let backends: Vec<Addr> = apiservers.keys().cloned().collect();
        let mut clients = BTreeMap::new();
        let indexed = topology
            .control_plane
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n, node_ip(NodeRole::ControlPlane, i)))
            .chain(
                topology
                    .workers
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (i, n, node_ip(NodeRole::Worker, i))),
            )
            .enumerate();
        let peers: Vec<(String, String)> = topology
            .control_plane
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), node_ip(NodeRole::ControlPlane, i)))
            .collect();
        for (index, (_, node, ip)) in indexed {
            let a = addr(&kubelet_addr(&node.name));
            // kubeadm writes the control plane's static pod manifests and
            // pre-pulls their images on control-plane nodes.
            let mut manifests = crate::kubelet::config::ManifestDir::new();
            let mut runtime = crate::runtime::Containerd::new(&node.name);
            if node.role == NodeRole::ControlPlane {
                for (file, content) in
                    crate::kubelet::kubeadm::control_plane_manifests(&node.name, &ip, &peers)
                {
                    // With Konnectivity the API server's egress to the
                    // cluster goes through the server beside it.
                    let content = if topology.konnectivity && file == "kube-apiserver.yaml" {
                        content.replacen(
                            "    - kube-apiserver\n",
                            &format!(
                                "    - kube-apiserver\n    - --egress-selector-config-file={}\n",
                                crate::konnectivity::EGRESS_CONFIG_FILE
                            ),
                            1,
                        )
                    } else {
                        content
                    };
                    manifests.write(&file, &content);
                }
                if topology.konnectivity {
                    manifests.write(
                        "konnectivity-server.yaml",
                        &crate::konnectivity::server_manifest(topology.control_plane.len()),
                    );
                    runtime.preload_image(crate::konnectivity::SERVER_IMAGE);
                }
                for image in crate::kubelet::kubeadm::images() {
                    runtime.preload_image(&image);
                }
            }
            let machine = Machine {
                spec: node.clone(),
                ip,
                index,
                external_cloud_provider: true,
                bootstrap_token: None,
            };
            let make: clients::Factory = std::rc::Rc::new(move |now| {
                crate::client::Process::new(Kubelet::new(machine.clone(), now))
                    .ok()
                    .map(|p| Box::new(p) as Box<dyn Running>)
            });
            hosts.insert(a.clone(), node.name.clone());
            world.schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
            clients.insert(
                a,
                ClientSlot {
                    process: None,
                    make,
                    target: addr(LOAD_BALANCER),
                    wake: Some(SimTime::ZERO),
                    up: true,
                    runtime: Some(runtime),
                    manifests: Some(manifests),
                },
            );
        }
        // kube-controller-manager on every control-plane node, speaking to
        // its node's API server (kubeadm's controller-manager.conf), each
        // controller with its own service-account token
        // (`--use-service-account-credentials`).
        let kcm_settings = crate::controllers::Settings {
            cluster_signing_duration: SimDuration::from_secs(
                topology.cluster_signing_duration_secs.max(600),
            ),
            disabled: topology.disabled_controllers.clone(),
            cluster_cidr: crate::controllers::nodeipam::Cidr::parse(&topology.pod_network_cidr)
                .unwrap_or_else(|| {
                    crate::controllers::nodeipam::NodeIpamController::default_cluster_cidr()
                }),
        };
        let mut authn = Authenticator::new();
        // kubeadm's `sa.key`, which every API server verifies bound
        // service-account tokens with.
        authn.service_account_key =
            crate::apiserver::auth::serviceaccount::SigningKey::for_seed(world.seed());
        let controller_tokens: Vec<(String, String)> = crate::controllers::CONTROLLERS
            .iter()
            .map(|name| {
                let uid = world.rng().uuid();
                let token = authn.issue_service_account_token(
                    world.rng(),
                    "kube-system",
                    name,
                    &uid,
                    None,
                    None,
                );
                (name.to_string(), token)
            })
            .collect();
        for node in &topology.control_plane {
            let a = addr(&format!("kube-controller-manager-{}", node.name));
            let identity = format!("{}_{}", node.name, world.rng().uuid());
            let tokens = controller_tokens.clone();
            let node_name = node.name.clone();
            let kcm_settings = kcm_settings.clone();
            let make: clients::Factory = std::rc::Rc::new(move |now| {
                let cm = crate::controllers::ControllerManager::with_default_controllers(
                    &node_name,
                    identity.clone(),
                    &tokens,
                    kcm_settings.clone(),
                    now,
                );
                crate::client::Process::new(cm)
                    .ok()
                    .map(|p| Box::new(p) as Box<dyn Running>)
            });
            hosts.insert(a.clone(), node.name.clone());
            world.schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
            clients.insert(
                a,
                ClientSlot::new(make, addr(&format!("kube-apiserver-{}", node.name))),
            );
        }
        // kube-scheduler on every control-plane node, speaking to its node's
        // API server (kubeadm's scheduler.conf).
        for node in &topology.control_plane {
            let a = addr(&format!("kube-scheduler-{}", node.name));
            let identity = format!("{}_{}", node.name, world.rng().uuid());
            let node_name = node.name.clone();
            let make: clients::Factory = std::rc::Rc::new(move |now| {
                let s =
                    crate::scheduler::agent::KubeScheduler::new(&node_name, identity.clone(), now);
                crate::client::Process::new(s)
                    .ok()
                    .map(|p| Box::new(p) as Box<dyn Running>)
            });
            hosts.insert(a.clone(), node.name.clone());
            world.schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
            clients.insert(
                a,
                ClientSlot::new(make, addr(&format!("kube-apiserver-{}", node.name))),
            );
        }
        // The tokens of kube-proxy's and CoreDNS's service accounts, for the
        // processes in the pods the addons will run (`cluster/traffic.rs`).
        let mut sa_token = |world: &mut World<Event>, name: &str| {
            let uid = world.rng().uuid();
            authn.issue_service_account_token(world.rng(), "kube-system", name, &uid, None, None)
        };
        let proxy_token = sa_token(&mut world, "kube-proxy");
        let coredns_token = sa_token(&mut world, "coredns");
        // `kubeadm init` on the first control-plane node: its bootstrap-token
        // and addon phases create the join token's Secret, CoreDNS and
        // kube-proxy through the API once it answers, then it exits.
        let mut bootstrap_token = None;
        if let Some(first) = topology.control_plane.first() {
            let a = addr(KUBEADM);
            // Phase `bootstrap-token`, then phase `addon`.
            let (token, secret) = jointoken::make_join_token(world.seed(), SimTime::ZERO);
            bootstrap_token = Some((
                token,
                SimTime::ZERO + crate::apiserver::auth::authn::KUBEADM_TOKEN_TTL,
            ));
            let mut objects = vec![crate::api::Object::Secret(Box::new(secret))];
            objects.extend(
                crate::api::decode::decode(
                    &coredns_addon(topology.coredns_replicas),
                    "coredns-addon",
                )
                .unwrap_or_default(),
            );
            // `kubeadm init phase addon all` runs coredns, then kube-proxy.
            objects.extend(
                crate::api::decode::decode(
                    &crate::kubeadm::kube_proxy_addon(
                        &format!("https://{LOAD_BALANCER}:6443"),
                        &topology.pod_network_cidr,
                    ),
                    "kube-proxy-addon",
                )
                .unwrap_or_default(),
            );
            // With Konnectivity, the agents' DaemonSet (the task page
            // applies it once the control plane runs).
            if topology.konnectivity {
                objects.extend(
                    crate::api::decode::decode(
                        &crate::konnectivity::agent_addon(LOAD_BALANCER),
                        "konnectivity-agent",
                    )
                    .unwrap_or_default(),
                );
            }
            let make: clients::Factory = std::rc::Rc::new(move |_| {
                crate::client::Process::new(crate::kubeadm::KubeadmInit::new(objects.clone()))
                    .ok()
                    .map(|p| Box::new(p) as Box<dyn Running>)
            });
            hosts.insert(a.clone(), first.name.clone());
            world.schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
            clients.insert(a, ClientSlot::new(make, addr(LOAD_BALANCER)));
        }
        // Konnectivity: a server beside each API server; the agents come
        // with their DaemonSet's pods (`cluster/tunnel.rs`).
        let tunnel = topology.konnectivity.then(|| {
            let cp: Vec<String> = topology
                .control_plane
                .iter()
                .map(|n| n.name.clone())
                .collect();
            let t = tunnel::Konnectivity::new(&cp);
            for (a, _) in t.servers.iter() {
                let node = a.trim_start_matches("konnectivity-server-").to_string();
                hosts.insert(a.clone(), node);
            }
            t
        });
        hosts.insert(addr(LOAD_BALANCER), LOAD_BALANCER.into());
        hosts.insert(addr(KUBECTL), KUBECTL.into());
        world.schedule_in(SimDuration::ZERO, Event::Tick(addr(LOAD_BALANCER)));
        let mut cluster = Cluster {
            topology,
            world,
            network: Network::new(NetworkConfig::default()),
            trace: Trace::new(TRACE_CAPACITY),
            hosts,
            etcd,
            etcd_ids,
            apiservers,
            apiserver_by_client,
            decoded: Default::default(),
            lb: LoadBalancer::new(&backends),
            authn,
            inbox: BTreeMap::new(),
            next_client_request: 1,
            crashed: BTreeSet::new(),
            powered_off: BTreeSet::new(),
            last_arrival: LookupMap::default(),
            held: Vec::new(),
            clients,
            cloud: crate::cloud::Cloud::new(),
            net: traffic::NetState {
                coredns_token,
                proxy_token,
                ..Default::default()
            },
            bootstrap_token,
            tunnel,
        };
        cluster.start_cloud();
        cluster
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.world.now()
    }

    pub fn seed(&self) -> u64 {
        self.world.seed()
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Turns trace recording on or off (benchmarks turn it off).
    pub fn set_tracing(&mut self, on: bool) {
        self.trace.set_enabled(on);
    }

    /// The kubeadm admin's credential (`/etc/kubernetes/admin.conf`).
    pub fn admin_credential(&self) -> Credential {
        Credential::ClientCertificate(ClientCertificate::kubeadm_admin(SimTime::ZERO))
    }

    /// The cluster-wide authenticator (its service-account token registry
    /// stands for the shared signing key).
    pub fn authenticator_mut(&mut self) -> &mut Authenticator {
        &mut self.authn
    }

    /// Runs every event due in the next `d`, and leaves the clock at `now + d`.
    pub fn advance(&mut self, d: SimDuration) {
        let target = self.world.now() + d;
        self.advance_to(target);
    }

    /// Runs every event due up to `t` and leaves the clock at `t` (time never
    /// runs backwards).
    pub fn advance_to(&mut self, t: SimTime) {
        while let Some(event) = self.world.pop_until(t) {
            self.dispatch(event);
        }
        self.world.settle_at(t);
    }

    /// Runs one event, if any is due before `limit`; returns whether it did.
    pub fn step(&mut self, limit: SimTime) -> bool {
        match self.world.pop_until(limit) {
            Some(e) => {
                self.dispatch(e);
                true
            }
            None => false,
        }
    }

    /// When the next event is due.
    pub fn next_event(&mut self) -> Option<SimTime> {
        self.world.next_due()
    }

    /// Whether the API answers: a ready kube-apiserver is in the balancer's
    /// rotation and etcd has a leader.
    pub fn api_ready(&self) -> bool {
        let rotation: BTreeSet<String> = self
            .lb
            .status()
            .into_iter()
            .filter(|b| b.in_rotation)
            .map(|b| b.name)
            .collect();
        self.apiservers
            .iter()
            .any(|(a, s)| s.is_ready() && rotation.contains(a.as_ref()))
            && self.etcd.values().any(|m| m.status().role == Role::Leader)
    }

    /// Whether `kubeadm init`'s addon phase has created every addon object
    /// and exited (see [`crate::kubeadm`]).
    pub fn kubeadm_finished(&self) -> bool {
        !self.clients.contains_key(&addr(KUBEADM))
    }

    /// Whether every node of the topology is registered, `Ready` and
    /// initialised by the cloud-controller-manager (no
    /// `node.cloudprovider.kubernetes.io/uninitialized` taint), as the API
    /// servers hold it.
    /// A node the user has taken down (powered off, kubelet stopped,
    /// partitioned) is not waited for.
    fn nodes_settled(&self) -> bool {
        let isolated: BTreeSet<&str> = self.network.isolated_hosts().collect();
        self.topology.nodes().all(|n| {
            let kubelet_down = self
                .clients
                .get(&addr(&kubelet_addr(&n.name)))
                .is_some_and(|s| !s.up);
            if kubelet_down
                || self.powered_off.contains(&n.name)
                || isolated.contains(n.name.as_str())
            {
                return true;
            }
            let key = crate::apiserver::registry::key(KindId::Node, None, &n.name);
            let Some(obj) = self.observe(&key) else {
                return false;
            };
            let crate::api::Object::Node(node) = &*obj else {
                return false;
            };
            let ready = node
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let initialised = !node
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|ts| {
                    ts.iter()
                        .any(|t| t.key == crate::cloud::ccm::UNINITIALIZED_TAINT)
                });
            ready && initialised
        })
    }

    /// Runs the cluster until it is up, as someone who just built it with
    /// kubeadm would find it, for at most `limit`: every API server ready and
    /// in the balancer's rotation, the default namespaces created, kubeadm's
    /// addons installed, and every node registered, `Ready` and initialised
    /// by the cloud-controller-manager.
    pub fn boot(&mut self, limit: SimDuration) -> bool {
        let deadline = self.now() + limit;
        while self.now() < deadline {
            let default_ns = crate::apiserver::registry::key(KindId::Namespace, None, "default");
            let ready = self.api_ready()
                && self.lb.status().iter().all(|b| b.in_rotation)
                && self
                    .apiservers
                    .values()
                    .all(|s| s.is_ready() && s.cache().get(&default_ns).is_some());
            // Pods need their namespace's `default` ServiceAccount, which the
            // controller-manager's leader creates once it leads: the cluster
            // is ready for work then (what the e2e framework's
            // `WaitForDefaultServiceAccountInNamespace` waits for).
            let sa =
                crate::apiserver::registry::key(KindId::ServiceAccount, Some("default"), "default");
            if ready
                && self.kubeadm_finished()
                && self.nodes_settled()
                && self.observe(&sa).is_some()
            {
                return true;
            }
            self.advance(SimDuration::from_millis(50));
        }
        false
    }

    // ----- delivery -----

    fn send(&mut self, from: Addr, to: Addr, msg: Msg) {
        let now = self.world.now();
        let from_host = self.hosts.get(&from).map_or("", String::as_str);
        let to_host = self.hosts.get(&to).map_or("", String::as_str);
        let powered_off = !self.powered_off.is_empty()
            && (self.powered_off.contains(from_host) || self.powered_off.contains(to_host));
        let fate = if powered_off {
            Err(NetDrop::Partition)
        } else {
            self.network.route(self.world.rng(), from_host, to_host)
        };
        let kind = msg.kind();
        // API requests, answers and watch streams, and the API servers'
        // etcd client traffic, ride TCP connections: a lost segment is
        // retransmitted, and a partition only delays them until it heals (or
        // until an end gives up: the load balancer's health checks, which are
        // not retransmitted, take a partitioned instance out of rotation).
        // Raft messages and health checks are dropped, as etcd's rafthttp
        // and HAProxy's checks drop them.
        let reliable = !matches!(msg, Msg::Raft(_) | Msg::Probe | Msg::ProbeResult { .. });
        let fate = match fate {
            Err(NetDrop::Loss) if reliable => self
                .network
                .route(self.world.rng(), from_host, to_host)
                .map(|l| l + TCP_RETRANSMIT)
                .or(Ok(TCP_RETRANSMIT + TCP_RETRANSMIT)),
            Err(NetDrop::Partition) if reliable && !powered_off => {
                self.trace.record(|| TraceEvent {
                    at: now,
                    arrives: now,
                    from: from.clone(),
                    to: to.clone(),
                    kind: kind.into(),
                    summary: format!("{} (held by the partition; TCP retransmits)", msg.summary()),
                    dropped: Some(NetDrop::Partition),
                });
                self.held.push((from, to, msg));
                return;
            }
            other => other,
        };
        match fate {
            Ok(latency) => {
                let last = self
                    .last_arrival
                    .entry((from.clone(), to.clone()))
                    .or_insert(now + latency);
                *last = (now + latency).max(*last);
                let arrives = *last;
                self.trace.record_into(|mut summary| {
                    msg.write_summary(&mut summary);
                    TraceEvent {
                        at: now,
                        arrives,
                        from: from.clone(),
                        to: to.clone(),
                        kind: kind.into(),
                        summary,
                        dropped: None,
                    }
                });
                self.world
                    .schedule_at(arrives, Event::Deliver { from, to, msg });
            }
            Err(reason) => {
                self.trace.record_into(|mut summary| {
                    msg.write_summary(&mut summary);
                    TraceEvent {
                        at: now,
                        arrives: now,
                        from: from.clone(),
                        to: to.clone(),
                        kind: kind.into(),
                        summary,
                        dropped: Some(reason),
                    }
                });
            }
        }
    }

    /// Sends again what a partition held back (after a heal).
    fn release_held(&mut self) {
        for (from, to, msg) in std::mem::take(&mut self.held) {
            // A connection whose end crashed meanwhile is gone (the reset
            // that says so still arrives).
            if !matches!(msg, Msg::Reset)
                && (self.crashed.contains(&from) || self.crashed.contains(&to))
            {
                continue;
            }
            self.send(from, to, msg);
        }
    }

    fn dispatch(&mut self, event: Event) {
        match event {
            Event::Tick(who) => self.tick(who),
            Event::Deliver { from, to, msg } => self.deliver(from, to, msg),
        }
    }

    fn tick(&mut self, who: Addr) {
        let now = self.world.now();
        if let Some(member) = self.etcd.get_mut(&who) {
            let out = member.handle(now, EtcdInput::Tick, self.world.rng());
            let next = member.next_tick();
            self.etcd_outputs(&who, out);
            if let Some(next) = next {
                self.world.schedule_at(
                    next.max(now + SimDuration::from_millis(1)),
                    Event::Tick(who),
                );
            }
        } else if self.apiservers.contains_key(&who) {
            self.apiserver_input(&who, apiserver::Input::Tick);
            if self.apiservers.get(&who).is_some_and(|s| s.is_up()) {
                self.world.schedule_in(apiserver::TICK, Event::Tick(who));
            }
        } else if self.clients.contains_key(&who) {
            self.client_tick(&who);
        } else if self.tunnel_tick(&who) {
        } else if who.as_ref() == CLOUD {
            self.cloud_tick();
        } else if who.as_ref() == LOAD_BALANCER {
            let out = self.lb.handle(now, loadbalancer::Input::Tick);
            self.lb_outputs(out);
            let next = self.lb.next_check();
            self.world.schedule_at(
                next.max(now + SimDuration::from_millis(1)),
                Event::Tick(who),
            );
        }
    }

    fn etcd_outputs(&mut self, from: &Addr, out: Vec<EtcdOutput>) {
        for o in out {
            match o {
                EtcdOutput::Raft { to, msg } => {
                    if let Some(to) = self.etcd_ids.get(&to).cloned() {
                        self.send(from.clone(), to, Msg::Raft(Box::new(msg)));
                    }
                }
                EtcdOutput::Response { client, .. }
                | EtcdOutput::WatchEvents { client, .. }
                | EtcdOutput::WatchEnded { client, .. } => {
                    if let Some(to) = self.apiserver_by_client.get(&client).cloned() {
                        self.send(from.clone(), to, Msg::Etcd(Box::new(o)));
                    }
                }
            }
        }
    }

    fn apiserver_input(&mut self, who: &Addr, input: apiserver::Input) {
        let now = self.world.now();
        let Some(server) = self.apiservers.get_mut(who) else {
            return;
        };
        let mut ctx = Ctx {
            now,
            rng: self.world.rng(),
            authn: &self.authn,
            decoded: &mut self.decoded,
        };
        let out = server.handle(&mut ctx, input);
        let member = server.member();
        for o in out {
            match o {
                apiserver::Output::Reply { to, id, response } => self.send(
                    who.clone(),
                    to,
                    Msg::ApiReply {
                        id,
                        response: Box::new(response),
                    },
                ),
                apiserver::Output::Etcd {
                    request_id,
                    request,
                    ..
                } => {
                    if let Some(to) = self.etcd_ids.get(&member).cloned() {
                        self.send(
                            who.clone(),
                            to,
                            Msg::EtcdRequest {
                                request_id,
                                request,
                            },
                        );
                    }
                }
                apiserver::Output::ProbeResult { to, ready, .. } => {
                    self.send(who.clone(), to, Msg::ProbeResult { ready })
                }
                apiserver::Output::Kubelet {
                    node,
                    address,
                    id,
                    request,
                } => self.send_to_kubelet(
                    who,
                    &node,
                    Msg::KubeletCall {
                        id,
                        address,
                        request: Box::new(request),
                    },
                ),
                apiserver::Output::KubeletInput {
                    node, id, input, ..
                } => self.send_to_kubelet(
                    who,
                    &node,
                    Msg::KubeletInput {
                        id,
                        input: Box::new(input),
                    },
                ),
                apiserver::Output::KubeletClose { node, id, .. } => {
                    self.send_to_kubelet(who, &node, Msg::KubeletClose { id })
                }
            }
        }
    }

    fn lb_outputs(&mut self, out: Vec<loadbalancer::Output>) {
        let me = addr(LOAD_BALANCER);
        for o in out {
            match o {
                loadbalancer::Output::Forward {
                    backend,
                    id,
                    request,
                } => self.send(me.clone(), backend, Msg::Api { id, request }),
                loadbalancer::Output::CancelWatch { backend, id } => {
                    self.send(me.clone(), backend, Msg::ApiCancel { id })
                }
                loadbalancer::Output::StreamInput { backend, id, input } => {
                    self.send(me.clone(), backend, Msg::ApiStreamInput { id, input })
                }
                loadbalancer::Output::Reply { to, id, response } => {
                    self.send(me.clone(), to, Msg::ApiReply { id, response })
                }
                loadbalancer::Output::Probe { backend } => {
                    self.send(me.clone(), backend, Msg::Probe)
                }
            }
        }
    }

    fn deliver(&mut self, from: Addr, to: Addr, msg: Msg) {
        let now = self.world.now();
        let msg = match self.tunnel_deliver(&from, &to, msg) {
            Some(m) => m,
            None => return,
        };
        if let Some(member) = self.etcd.get_mut(&to) {
            let input = match msg {
                Msg::Raft(m) => EtcdInput::Raft(*m),
                Msg::EtcdRequest {
                    request_id,
                    request,
                } => {
                    let Some(server) = self.apiservers.get(&from) else {
                        return;
                    };
                    EtcdInput::Client {
                        client: server.client_id(),
                        request_id,
                        request,
                    }
                }
                _ => return,
            };
            let out = member.handle(now, input, self.world.rng());
            self.etcd_outputs(&to, out);
        } else if self.apiservers.contains_key(&to) {
            // A request reaching a crashed instance finds no listener: the
            // connection is reset.
            if self.crashed.contains(&to) {
                if let Msg::Api { id, .. } = msg {
                    let err =
                        ApiError::service_unavailable("the connection to the API server was reset");
                    self.send(
                        to,
                        from,
                        Msg::ApiReply {
                            id,
                            response: Box::new(ApiResponse::Error(err)),
                        },
                    );
                }
                return;
            }
            let input = match msg {
                Msg::Api { id, request } => apiserver::Input::Request {
                    from,
                    id,
                    request: *request,
                },
                Msg::ApiCancel { id } => apiserver::Input::CancelWatch { from, id },
                Msg::ApiStreamInput { id, input } => apiserver::Input::StreamInput {
                    from,
                    id,
                    input: *input,
                },
                Msg::Etcd(o) => apiserver::Input::Etcd(*o),
                Msg::KubeletAnswer { id, response } => apiserver::Input::KubeletReply {
                    id,
                    response: *response,
                },
                Msg::Probe => apiserver::Input::Probe { from, id: 0 },
                _ => return,
            };
            self.apiserver_input(&to, input);
        } else if to.as_ref() == LOAD_BALANCER {
            let input = match msg {
                Msg::Api { id, request } => loadbalancer::Input::Request { from, id, request },
                Msg::ApiCancel { id } => loadbalancer::Input::CancelWatch { from, id },
                Msg::ApiStreamInput { id, input } => {
                    loadbalancer::Input::StreamInput { from, id, input }
                }
                Msg::ApiReply { id, response } => loadbalancer::Input::Reply {
                    backend: from,
                    id,
                    response,
                },
                Msg::ProbeResult { ready } => loadbalancer::Input::ProbeResult {
                    backend: from,
                    ready,
                },
                Msg::Reset => loadbalancer::Input::BackendReset { backend: from },
                _ => return,
            };
            let out = self.lb.handle(now, input);
            self.lb_outputs(out);
        } else if to.as_ref() == CLOUD {
            self.cloud_deliver(from, msg);
        } else if self.clients.contains_key(&to) {
            if let Msg::CloudReply { id, response } = msg {
                return self.cloud_answer(&to, id, *response);
            }
            if let Msg::KubeletCall {
                id,
                address,
                request,
            } = msg
            {
                return self.kubelet_call(from, to, id, &address, &request);
            }
            if let Msg::KubeletInput { id, input } = msg {
                return self.kubelet_stream_input(from, to, id, &input);
            }
            if let Msg::KubeletClose { id } = msg {
                if let Some(k) = self
                    .clients
                    .get_mut(&to)
                    .filter(|s| s.up)
                    .and_then(|s| s.agent_mut::<Kubelet>())
                {
                    k.close_stream(&from, id);
                }
                return;
            }
            if let Msg::ApiReply { id, response } = msg {
                let rng = self.world.rng();
                let out = match self.clients.get_mut(&to).and_then(|c| c.process.as_mut()) {
                    Some(p) => p.on_reply(now, rng, id, *response),
                    None => return,
                };
                self.client_outputs(&to, out);
            }
        } else if to.as_ref() == KUBECTL {
            if let Msg::ApiReply { id, response } = msg {
                self.inbox.entry(id).or_default().push((now, *response));
            }
        }
    }

    /// A call reaching a node's kubelet: served if it runs, refused if not.
    fn kubelet_call(
        &mut self,
        from: Addr,
        to: Addr,
        id: u64,
        address: &str,
        request: &crate::kubelet::server::KubeletRequest,
    ) {
        let now = self.world.now();
        let served = self
            .clients
            .get_mut(&to)
            .filter(|s| s.up)
            .and_then(|s| s.agent_mut::<Kubelet>())
            .map(|k| k.serve_from(now, &from, id, request));
        let response = match served {
            Some(crate::kubelet::server::KubeletResponse::Opened) => {
                // A stream opened: the answer goes first, then what the
                // stream already carries (a followed log's lines).
                self.send(
                    to.clone(),
                    from,
                    Msg::KubeletAnswer {
                        id,
                        response: Box::new(crate::kubelet::server::KubeletResponse::Opened),
                    },
                );
                self.client_outputs(&to, Vec::new());
                return;
            }
            Some(r) => {
                // Trace the CRI steps an exec took, and reschedule the kubelet.
                self.client_outputs(&to, Vec::new());
                self.finish_exec(&to, r)
            }
            None => crate::kubelet::server::KubeletResponse::Error {
                code: 502,
                message: format!("dial tcp {address}: connect: connection refused"),
            },
        };
        self.send(
            to,
            from,
            Msg::KubeletAnswer {
                id,
                response: Box::new(response),
            },
        );
    }

    // ----- hosted API clients -----

    fn client_tick(&mut self, who: &Addr) {
        let now = self.world.now();
        let Some(slot) = self.clients.get_mut(who) else {
            return;
        };
        if slot.wake.is_some_and(|w| w <= now) {
            slot.wake = None;
        }
        if !slot.up {
            return;
        }
        // The control-plane processes a fault stopped on this node: their
        // static pods' probes fail (the kubelet probes the real process).
        if let Some(node) = self.hosts.get(who) {
            let down: BTreeSet<String> = self
                .crashed
                .iter()
                .filter(|a| self.hosts.get(*a) == Some(node))
                .map(|a| a.to_string())
                .collect();
            if let Some(k) = slot.agent_mut::<Kubelet>() {
                k.set_down_components(down);
            }
        }
        let rng = self.world.rng();
        let out = match slot.process.as_mut() {
            Some(p) => p.on_wake(now, rng),
            None => match (slot.make)(now) {
                Some(p) => {
                    slot.process = Some(p);
                    if let Some(runtime) = slot.runtime.take() {
                        if let Some(k) = slot.agent_mut::<Kubelet>() {
                            k.attach_runtime(runtime);
                        }
                    }
                    if let Some(dir) = slot.manifests.take() {
                        if let Some(k) = slot.agent_mut::<Kubelet>() {
                            k.attach_manifests(dir);
                        }
                    }
                    match slot.process.as_mut() {
                        Some(p) => p.start(now, rng),
                        None => return,
                    }
                }
                None => return,
            },
        };
        self.client_outputs(who, out);
    }

    /// Sends what a client process asked for and schedules its next wake.
    fn client_outputs(&mut self, who: &Addr, out: Vec<crate::client::process::Output>) {
        self.send_cloud_calls(who);
        let Some(target) = self.clients.get(who).map(|c| c.target.clone()) else {
            return;
        };
        self.flush_kubelet_streams(who);
        // The kubelet's CRI calls: kubelet -> containerd -> runc, traced.
        let steps = self
            .clients
            .get_mut(who)
            .and_then(|c| c.agent_mut::<Kubelet>())
            .map(|k| k.take_steps())
            .unwrap_or_default();
        if !steps.is_empty() {
            let node = self.hosts.get(who).cloned().unwrap_or_default();
            let now = self.world.now();
            for step in steps {
                let (from, to) = match step.actor {
                    crate::runtime::Actor::Containerd | crate::runtime::Actor::Cni => {
                        (who.clone(), addr(&format!("containerd@{node}")))
                    }
                    crate::runtime::Actor::Runc | crate::runtime::Actor::Cgroup => (
                        addr(&format!("containerd@{node}")),
                        addr(&format!("runc@{node}")),
                    ),
                };
                self.trace.record(|| TraceEvent {
                    at: now,
                    arrives: now,
                    from,
                    to,
                    kind: "cri".into(),
                    summary: step.to_string(),
                    dropped: None,
                });
            }
        }
        for o in out {
            match o {
                crate::client::process::Output::Send { id, request } => {
                    self.send(who.clone(), target.clone(), Msg::Api { id, request })
                }
                crate::client::process::Output::Cancel { id } => {
                    self.send(who.clone(), target.clone(), Msg::ApiCancel { id })
                }
            }
        }
        let now = self.world.now();
        let Some(slot) = self.clients.get_mut(who) else {
            return;
        };
        let next = slot.process.as_ref().and_then(|p| p.next_wakeup());
        if let Some(t) = next {
            let t = t.max(now);
            if slot.wake.is_none_or(|w| t < w) {
                slot.wake = Some(t);
                self.world.schedule_at(t, Event::Tick(who.clone()));
            }
        }
        self.after_client(who);
        // A kubeadm whose phase is done exits for good.
        if self
            .clients
            .get(who)
            .and_then(|c| c.agent::<crate::kubeadm::KubeadmInit>())
            .is_some_and(|k| k.finished())
        {
            self.clients.remove(who);
        }
    }

    /// Stops a client process: it forgets everything.
    fn stop_client(&mut self, who: &Addr) {
        if let Some(slot) = self.clients.get_mut(who) {
            slot.up = false;
            // containerd and the containers it runs outlive the kubelet.
            if let Some(runtime) = slot.agent_mut::<Kubelet>().and_then(|k| k.take_runtime()) {
                slot.runtime = Some(runtime);
            }
            if let Some(dir) = slot.agent_mut::<Kubelet>().map(|k| k.take_manifests()) {
                slot.manifests = Some(dir);
            }
            slot.process = None;
        }
    }

    /// Starts a stopped client process afresh.
    fn start_client(&mut self, who: &Addr) {
        let now = self.world.now();
        if let Some(slot) = self.clients.get_mut(who) {
            if slot.up {
                return;
            }
            slot.up = true;
            slot.wake = Some(now);
            self.world.schedule_at(now, Event::Tick(who.clone()));
        }
    }

    /// A kube-controller-manager instance's controllers (by its diagram id,
    /// `kube-controller-manager-control-plane-1`) and whether it leads;
    /// `None` if it is not running.
    pub fn controller_activity(
        &self,
        id: &str,
    ) -> Option<(bool, Vec<crate::controllers::ControllerActivity>)> {
        let slot = self.clients.get(&addr(id)).filter(|s| s.up)?;
        if let Some(m) = slot.agent::<crate::controllers::ControllerManager>() {
            return Some((m.is_leader(), m.activity()));
        }
        let m = slot.agent::<crate::cloud::ccm::CloudControllerManager>()?;
        Some((m.is_leader(), m.activity()))
    }

    /// A kube-scheduler instance (by its diagram id,
    /// `kube-scheduler-control-plane-1`): whether it leads, and how many
    /// pods it has bound since it last started; `None` if it is not
    /// running.
    pub fn scheduler_activity(&self, id: &str) -> Option<(bool, u64)> {
        let s = self
            .clients
            .get(&addr(id))
            .filter(|s| s.up)?
            .agent::<crate::scheduler::agent::KubeScheduler>()?;
        Some((s.is_leader(), s.scheduled()))
    }

    /// The last scheduling decision about a pod (`namespace/name`), from the
    /// leading scheduler (or any that made one).
    pub fn scheduling_decision(
        &self,
        pod: &str,
    ) -> Option<std::rc::Rc<crate::scheduler::Decision>> {
        let mut found = None;
        for c in self.clients.values() {
            if let Some(s) = c.agent::<crate::scheduler::agent::KubeScheduler>() {
                if let Some(d) = s.decision(pod) {
                    if s.is_leader() {
                        return Some(d.clone());
                    }
                    found = Some(d.clone());
                }
            }
        }
        found
    }

    /// A node's kubelet, if it runs.
    pub fn kubelet(&self, node: &str) -> Option<&Kubelet> {
        self.clients
            .get(&addr(&kubelet_addr(node)))
            .and_then(|c| c.agent::<Kubelet>())
    }

    /// A node's containerd, whether or not its kubelet runs (containers
    /// go on while the kubelet is stopped; a powered-off node's runtime
    /// starts empty).
    pub fn node_runtime(&self, node: &str) -> Option<&crate::runtime::Containerd> {
        let slot = self.clients.get(&addr(&kubelet_addr(node)))?;
        match slot.agent::<Kubelet>() {
            Some(k) => k.runtime(),
            None => slot.runtime.as_ref(),
        }
    }

    // ----- the nodes' manifest directories -----

    fn node_slot(&self, node: &str) -> Result<&ClientSlot, String> {
        self.clients
            .get(&addr(&kubelet_addr(node)))
            .ok_or_else(|| format!("error: no node named {node:?} (try `kubectl get nodes`)"))
    }

    /// The files of a node's `/etc/kubernetes/manifests`, in name order,
    /// and the reasons the kubelet gives for those it cannot use (empty
    /// while the kubelet is stopped).
    pub fn node_manifests(&self, node: &str) -> Result<NodeManifests, String> {
        let slot = self.node_slot(node)?;
        let (dir, errors) = match slot.agent::<Kubelet>() {
            Some(k) => (k.manifests(), k.manifest_errors().clone()),
            None => match &slot.manifests {
                Some(d) => (d, BTreeMap::new()),
                None => return Ok((Vec::new(), BTreeMap::new())),
            },
        };
        let files = dir
            .files()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect();
        Ok((files, errors))
    }

    fn with_manifests<T>(
        &mut self,
        node: &str,
        f: impl FnOnce(&mut crate::kubelet::config::ManifestDir) -> T,
    ) -> Result<T, String> {
        self.node_slot(node)?;
        if self.powered_off.contains(node) {
            return Err(format!("error: {node} is powered off"));
        }
        let now = self.world.now();
        let a = addr(&kubelet_addr(node));
        let Some(slot) = self.clients.get_mut(&a) else {
            return Err(format!("error: no node named {node:?}"));
        };
        let out = match slot.agent_mut::<Kubelet>() {
            Some(k) => f(k.manifests_mut()),
            None => f(slot
                .manifests
                .get_or_insert_with(crate::kubelet::config::ManifestDir::new)),
        };
        // The kubelet notices the change at once (inotify).
        if slot.process.is_some() {
            slot.wake = Some(now);
            self.world.schedule_at(now, Event::Tick(a));
        }
        Ok(out)
    }

    /// Writes a file into a node's manifest directory.
    pub fn write_manifest(&mut self, node: &str, file: &str, content: &str) -> Result<(), String> {
        crate::kubelet::config::valid_file_name(file).map_err(|e| format!("error: {e}"))?;
        self.with_manifests(node, |d| d.write(file, content))
    }

    /// Removes a file from a node's manifest directory.
    pub fn remove_manifest(&mut self, node: &str, file: &str) -> Result<(), String> {
        let removed = self.with_manifests(node, |d| d.remove(file))?;
        if removed {
            Ok(())
        } else {
            Err(format!(
                "rm: cannot remove '{}/{file}': No such file or directory",
                crate::kubelet::config::STATIC_POD_PATH
            ))
        }
    }

    // ----- the user's kubectl -----

    /// Sends a request from kubectl through the load balancer; the answer
    /// arrives later (see [`Cluster::take_replies`]).
    pub fn submit(&mut self, request: ApiRequest) -> u64 {
        let id = self.next_client_request;
        self.next_client_request += 1;
        self.send(
            addr(KUBECTL),
            addr(LOAD_BALANCER),
            Msg::Api {
                id,
                request: Box::new(request),
            },
        );
        id
    }

    /// Closes a watch kubectl opened.
    pub fn cancel(&mut self, id: u64) {
        self.inbox.remove(&id);
        self.send(addr(KUBECTL), addr(LOAD_BALANCER), Msg::ApiCancel { id });
    }

    /// Takes what has arrived for request `id`.
    pub fn take_replies(&mut self, id: u64) -> Vec<ApiResponse> {
        self.take_replies_timed(id)
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    /// Takes what has arrived for request `id`, each with the virtual time
    /// it reached kubectl (a watch's rows print their ages as of then).
    pub fn take_replies_timed(&mut self, id: u64) -> Vec<(SimTime, ApiResponse)> {
        self.inbox.remove(&id).unwrap_or_default()
    }

    /// Sends a request and runs the cluster until its answer arrives (or
    /// kubectl's patience runs out), as a kubectl command does.
    pub fn call(&mut self, request: ApiRequest) -> ApiResponse {
        let id = self.submit(request);
        let deadline = self.now() + CLIENT_TIMEOUT;
        loop {
            if let Some(first) = self
                .inbox
                .get_mut(&id)
                .and_then(|v| (!v.is_empty()).then(|| v.remove(0).1))
            {
                self.inbox.remove(&id);
                return first;
            }
            let next = self.world.next_due();
            match next {
                Some(t) if t <= deadline => {
                    self.step(deadline);
                }
                _ => {
                    self.advance_to(deadline);
                    return ApiResponse::Error(ApiError::timeout(
                        "the client gave up waiting for the server (the request may still complete)",
                    ));
                }
            }
        }
    }

    // ----- faults -----

    /// Resolves a fault target: a component instance, `etcd/leader`, or a node.
    fn resolve(&self, target: &str) -> Result<Vec<Addr>, FaultError> {
        if target == "etcd/leader" {
            let leader = self
                .etcd
                .iter()
                .find(|(_, m)| m.status().role == Role::Leader)
                .map(|(a, _)| a.clone());
            return leader
                .map(|a| vec![a])
                .ok_or_else(|| FaultError::Unsupported("etcd has no leader right now".into()));
        }
        if target == "kube-controller-manager/leader" {
            let leader = self
                .clients
                .iter()
                .find(|(_, c)| {
                    c.agent::<crate::controllers::ControllerManager>()
                        .is_some_and(|m| m.is_leader())
                })
                .map(|(a, _)| a.clone());
            return leader.map(|a| vec![a]).ok_or_else(|| {
                FaultError::Unsupported("kube-controller-manager has no leader right now".into())
            });
        }
        if target == "kube-scheduler/leader" {
            let leader = self
                .clients
                .iter()
                .find(|(_, c)| {
                    c.agent::<crate::scheduler::agent::KubeScheduler>()
                        .is_some_and(|m| m.is_leader())
                })
                .map(|(a, _)| a.clone());
            return leader.map(|a| vec![a]).ok_or_else(|| {
                FaultError::Unsupported("kube-scheduler has no leader right now".into())
            });
        }
        if target == "cloud-controller-manager/leader" {
            if let Some(r) = self.resolve_ccm_leader() {
                return r;
            }
        }
        if self.clients.contains_key(&addr(target)) {
            return Ok(vec![addr(target)]);
        }
        if target == "coredns" {
            return Err(FaultError::Unsupported(
                "coredns: name one of its pods (kubectl get pods -n kube-system -l k8s-app=kube-dns)"
                    .into(),
            ));
        }
        let a = addr(target);
        if self.etcd.contains_key(&a)
            || self.apiservers.contains_key(&a)
            || self.clients.contains_key(&a)
            || self.is_tunnel_addr(&a)
        {
            return Ok(vec![a]);
        }
        if self.topology.nodes().any(|n| n.name == target) {
            let mut on_node: Vec<Addr> = self
                .hosts
                .iter()
                .filter(|(_, h)| h.as_str() == target)
                .map(|(a, _)| a.clone())
                .filter(|a| {
                    self.etcd.contains_key(a)
                        || self.apiservers.contains_key(a)
                        || self.clients.contains_key(a)
                        || self.is_tunnel_addr(a)
                })
                .collect();
            // In address order, whatever the hash map's.
            on_node.sort();
            return Ok(on_node);
        }
        Err(FaultError::UnknownTarget(target.into()))
    }

    /// Every name `sim fault` and `sim heal` accept, for completion: the
    /// leaders' aliases, `network`, the nodes, then each component instance
    /// (etcd members, API servers, controllers, kubelets, konnectivity ends)
    /// by the name [`Cluster::fault`] resolves.
    pub fn fault_targets(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![
            "etcd/leader".into(),
            "kube-scheduler/leader".into(),
            "kube-controller-manager/leader".into(),
        ];
        if self.resolve_ccm_leader().is_some() {
            out.push("cloud-controller-manager/leader".into());
        }
        out.push("network".into());
        out.extend(self.topology.nodes().map(|n| n.name.clone()));
        let mut instances: std::collections::BTreeSet<String> = self
            .etcd
            .keys()
            .chain(self.apiservers.keys())
            .chain(self.clients.keys())
            .map(|a| a.to_string())
            .collect();
        if let Some(t) = &self.tunnel {
            instances.extend(
                t.servers
                    .keys()
                    .chain(t.agents.keys())
                    .map(|a| a.to_string()),
            );
        }
        for i in instances {
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }

    fn crash(&mut self, a: &Addr) {
        let now = self.world.now();
        if !self.crashed.insert(a.clone()) {
            return;
        }
        if let Some(m) = self.etcd.get_mut(a) {
            let out = m.handle(now, EtcdInput::Crash, self.world.rng());
            // A crash breaks connections: the API server sees them close.
            for o in out {
                if let EtcdOutput::Response { client, .. } | EtcdOutput::WatchEnded { client, .. } =
                    &o
                {
                    if let Some(server) = self.apiserver_by_client.get(client).cloned() {
                        self.apiserver_input(&server, apiserver::Input::Etcd(o));
                    }
                }
            }
        } else if self.apiservers.contains_key(a) {
            self.apiserver_input(a, apiserver::Input::Crash);
            // Its connections from the load balancer close: the balancer ends
            // the requests and watches it proxied there, and the clients
            // retry or watch again, instead of waiting on a dead process.
            self.send(a.clone(), addr(LOAD_BALANCER), Msg::Reset);
        } else if self.clients.contains_key(a) {
            self.stop_client(a);
        } else if self.is_tunnel_addr(a) {
            self.tunnel_crash(a);
        }
    }

    fn restart(&mut self, a: &Addr) {
        let now = self.world.now();
        if !self.crashed.remove(a) {
            return;
        }
        if let Some(m) = self.etcd.get_mut(a) {
            let out = m.handle(now, EtcdInput::Restart, self.world.rng());
            let next = m.next_tick();
            self.etcd_outputs(a, out);
            if let Some(next) = next {
                self.world.schedule_at(next, Event::Tick(a.clone()));
            }
        } else if self.apiservers.contains_key(a) {
            self.apiserver_input(a, apiserver::Input::Restart);
            self.world
                .schedule_in(apiserver::TICK, Event::Tick(a.clone()));
        } else if self.clients.contains_key(a) {
            self.start_client(a);
        } else if self.is_tunnel_addr(a) {
            self.tunnel_restart(a);
        }
    }

    /// `sim fault <target> <kind>`. Returns what happened, in a sentence.
    pub fn fault(
        &mut self,
        target: &str,
        kind: crate::shell::FaultKind,
    ) -> Result<String, FaultError> {
        use crate::shell::FaultKind;
        match kind {
            FaultKind::Loss(p) => {
                if target != "network" {
                    return Err(FaultError::Unsupported(
                        "loss applies to the whole network: sim fault network loss=<rate>".into(),
                    ));
                }
                self.network.set_loss(p);
                Ok(format!(
                    "network: {:.1}% of messages between hosts are lost",
                    p * 100.0
                ))
            }
            FaultKind::Crash => {
                let targets = self.resolve(target)?;
                if self.topology.nodes().any(|n| n.name == target) {
                    return Err(FaultError::Unsupported(format!(
                        "{target} is a node: use power-off, partition or kubelet-stop"
                    )));
                }
                for a in &targets {
                    self.crash(a);
                }
                Ok(format!("{} crashed", names(&targets)))
            }
            FaultKind::PowerOff => {
                let node = self.node_target(target)?;
                let targets = self.resolve(&node)?;
                for a in &targets {
                    self.crash(a);
                }
                // Powering off kills every container; the images stay on disk
                // but the simulation starts the runtime afresh.
                let control_plane = self
                    .topology
                    .nodes()
                    .any(|n| n.name == node && n.role == NodeRole::ControlPlane);
                if let Some(slot) = self.clients.get_mut(&addr(&kubelet_addr(&node))) {
                    let mut runtime = crate::runtime::Containerd::new(&node);
                    if control_plane {
                        // kubeadm's images stay on the disk.
                        for image in crate::kubelet::kubeadm::images() {
                            runtime.preload_image(&image);
                        }
                    }
                    slot.runtime = Some(runtime);
                }
                self.powered_off.insert(node.clone());
                Ok(format!("{node} powered off"))
            }
            FaultKind::Partition => {
                let node = self.node_target(target)?;
                self.network.isolate(&node);
                Ok(format!("{node} is cut off from the network"))
            }
            FaultKind::KubeletStop => {
                let node = self.node_target(target)?;
                let a = addr(&kubelet_addr(&node));
                self.crash(&a);
                Ok(format!(
                    "the kubelet on {node} stopped (its node Lease is no longer renewed)"
                ))
            }
            FaultKind::DeleteVm => self
                .delete_vm(target)
                .map_err(|e| FaultError::Unsupported(e.trim_start_matches("error: ").to_string())),
        }
    }

    fn node_target(&self, target: &str) -> Result<String, FaultError> {
        if self.topology.nodes().any(|n| n.name == target) {
            Ok(target.to_string())
        } else if self.hosts.contains_key(&addr(target)) {
            Err(FaultError::Unsupported(format!(
                "{target} is a component, not a node: use crash"
            )))
        } else {
            Err(FaultError::UnknownTarget(target.into()))
        }
    }

    /// `sim heal <target>|all`.
    pub fn heal(&mut self, target: &str) -> Result<String, FaultError> {
        if target == "all" {
            let crashed: Vec<Addr> = self.crashed.iter().cloned().collect();
            self.powered_off.clear();
            self.network.repair_all();
            for a in &crashed {
                self.restart(a);
            }
            self.release_held();
            return Ok("every fault healed".into());
        }
        if target == "network" {
            self.network.repair_all();
            self.release_held();
            return Ok("network healed".into());
        }
        let targets = self.resolve(target).or_else(|e| {
            let a = addr(target);
            if self.crashed.contains(&a) {
                Ok(vec![a])
            } else {
                Err(e)
            }
        })?;
        self.powered_off.remove(target);
        self.network.repair_host(target);
        for a in &targets {
            self.restart(a);
        }
        self.release_held();
        Ok(format!("{target} healed"))
    }

    /// An object as the API servers hold it, read by an observer outside the
    /// cluster (no request is sent): the freshest ready instance's cache.
    pub fn observe(&self, key: &str) -> Option<std::rc::Rc<crate::api::Object>> {
        self.freshest_cache().and_then(|c| c.get(key).cloned())
    }

    /// The freshest ready API server's cache (what `observe` reads).
    fn freshest_cache(&self) -> Option<&crate::apiserver::watchcache::WatchCache> {
        self.apiservers
            .values()
            .filter(|s| s.is_ready())
            .max_by_key(|s| s.cache().revision())
            .map(|s| s.cache())
    }

    /// Every object of a kind as the API servers hold it (the freshest
    /// ready instance's cache), in key order; no request is sent.
    pub fn observe_all(&self, kind: KindId) -> Vec<std::rc::Rc<crate::api::Object>> {
        self.freshest_cache()
            .map(|c| c.all_of(kind).cloned().collect())
            .unwrap_or_default()
    }

    /// The etcd members' statuses, by instance name.
    pub fn etcd_status(&self) -> Vec<(String, crate::etcd::MemberStatus)> {
        self.etcd
            .iter()
            .map(|(a, m)| (a.to_string(), m.status()))
            .collect()
    }

    pub fn apiserver_status(&self) -> Vec<crate::apiserver::ApiServerStatus> {
        self.apiservers.values().map(|s| s.status()).collect()
    }

    /// The API server kubectl's request `id` is proxied to, while open.
    pub fn kubectl_backend(&self, id: u64) -> Option<String> {
        self.lb.backend_of(KUBECTL, id)
    }

    pub fn load_balancer_status(&self) -> Vec<loadbalancer::BackendStatus> {
        self.lb.status()
    }

    /// The projection of the cluster the page draws.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_reusing(&mut SnapshotCache::default())
    }

    /// [`Cluster::snapshot`], reusing the pod views of the last snapshot
    /// taken with `cache` for every pod object the API has not replaced
    /// since (the page takes a snapshot of 3,000 pods several times a
    /// second; at steady state none of them changed).
    pub fn snapshot_reusing(&self, cache: &mut SnapshotCache) -> Snapshot {
        let etcd: BTreeMap<String, crate::etcd::MemberStatus> = self
            .etcd
            .iter()
            .map(|(a, m)| (a.to_string(), m.status()))
            .collect();
        let api: BTreeMap<String, crate::apiserver::ApiServerStatus> = self
            .apiservers
            .iter()
            .map(|(a, s)| (a.to_string(), s.status()))
            .collect();
        let lb = self.lb.status();
        let node_names: Vec<&str> = self.topology.nodes().map(|n| n.name.as_str()).collect();
        let freshest = self.freshest_cache();
        let pods = cache.pods_by_node(
            freshest.map(|c| c.kind_revision(KindId::Pod)),
            || freshest.into_iter().flat_map(|c| c.all_of(KindId::Pod)),
            &node_names,
        );
        let pending_pods = pods.pending;
        let mut pods_by_node = pods.nodes.into_iter();
        let component = |kind: ComponentKind, id: String, node: Option<&str>, runs_as: &str| {
            let (simulated, health, state) = match kind {
                ComponentKind::Etcd => match etcd.get(&id) {
                    Some(s) if s.role == Role::Stopped => {
                        (true, Health::Down, "crashed".to_string())
                    }
                    Some(s) => (
                        true,
                        if s.role == Role::Leader || s.leader.is_some() {
                            Health::Up
                        } else {
                            Health::Degraded
                        },
                        format!("{:?} · term {} · rev {}", s.role, s.term, s.revision)
                            .to_lowercase(),
                    ),
                    None => (false, Health::Unknown, String::new()),
                },
                ComponentKind::KubeApiserver => match api.get(&id) {
                    Some(s) if !s.up => (true, Health::Down, "crashed".into()),
                    Some(s) if s.ready => {
                        (true, Health::Up, format!("ready · {} watches", s.watches))
                    }
                    Some(_) => (true, Health::Degraded, "not ready".into()),
                    None => (false, Health::Unknown, String::new()),
                },
                ComponentKind::ApiLoadBalancer => {
                    let n = lb.iter().filter(|b| b.in_rotation).count();
                    (
                        true,
                        if n == 0 {
                            Health::Down
                        } else if n < lb.len() {
                            Health::Degraded
                        } else {
                            Health::Up
                        },
                        format!("{n}/{} API servers in rotation", lb.len()),
                    )
                }
                ComponentKind::Containerd | ComponentKind::Runc => {
                    let node = node.unwrap_or_default();
                    let slot = self.clients.get(&addr(&kubelet_addr(node)));
                    let runtime = slot.and_then(|s| {
                        s.runtime
                            .as_ref()
                            .or_else(|| s.agent::<Kubelet>().and_then(|k| k.runtime()))
                    });
                    match runtime {
                        _ if self.powered_off.contains(node) => {
                            (true, Health::Down, "powered off".into())
                        }
                        Some(r) => {
                            // Counted, not listed: a listing builds every
                            // container's status (3,000 with 100 nodes).
                            let state = if kind == ComponentKind::Containerd {
                                let (sandboxes, images) = r.sandbox_and_image_counts();
                                format!("{sandboxes} sandboxes · {images} images")
                            } else {
                                let (all, running) = r.container_counts();
                                format!("{running} running · {} exited", all - running)
                            };
                            (true, Health::Up, state)
                        }
                        None => (true, Health::Degraded, "starting".into()),
                    }
                }
                ComponentKind::KubeProxy => match self.clients.get(&addr(&id)) {
                    _ if self.powered_off.contains(node.unwrap_or_default()) => {
                        (true, Health::Down, "powered off".into())
                    }
                    Some(slot) if !slot.up => (true, Health::Down, "stopped (rules stay)".into()),
                    Some(slot) => match slot.agent::<crate::proxy::KubeProxy>() {
                        Some(p) => match p.rules() {
                            Some((_, r)) => (
                                true,
                                Health::Up,
                                format!("iptables · {} ports", r.ports.len()),
                            ),
                            None => (true, Health::Degraded, "syncing caches".into()),
                        },
                        None => (true, Health::Degraded, "starting".into()),
                    },
                    // No kube-proxy container runs on the node: before its
                    // DaemonSet pod has started, or after it went.
                    None => match node.and_then(|n| self.kernel_rules(n)) {
                        Some(_) => (true, Health::Down, "no pod (rules stay, stale)".into()),
                        None => (true, Health::Degraded, "waiting for its pod".into()),
                    },
                },
                ComponentKind::CoreDns => {
                    let replicas = self.coredns_replicas();
                    let synced = replicas.iter().filter(|r| r.2).count();
                    let health = if synced > 0 {
                        Health::Up
                    } else {
                        Health::Degraded
                    };
                    (
                        true,
                        health,
                        format!("{} running · {synced} serving", replicas.len()),
                    )
                }
                ComponentKind::KubeScheduler => match self.clients.get(&addr(&id)) {
                    Some(slot) if !slot.up => (true, Health::Down, "crashed".into()),
                    Some(slot) => match slot.agent::<crate::scheduler::agent::KubeScheduler>() {
                        Some(m) => (true, Health::Up, m.state_line()),
                        None => (true, Health::Degraded, "starting".into()),
                    },
                    // No kube-proxy container runs on the node: before its
                    // DaemonSet pod has started, or after it went.
                    None => match node.and_then(|n| self.kernel_rules(n)) {
                        Some(_) => (true, Health::Down, "no pod (rules stay, stale)".into()),
                        None => (true, Health::Degraded, "waiting for its pod".into()),
                    },
                },
                ComponentKind::KubeControllerManager => match self.clients.get(&addr(&id)) {
                    Some(slot) if !slot.up => (true, Health::Down, "crashed".into()),
                    Some(slot) => match slot.agent::<crate::controllers::ControllerManager>() {
                        Some(m) => (true, Health::Up, m.state_line()),
                        None => (true, Health::Degraded, "starting".into()),
                    },
                    // No kube-proxy container runs on the node: before its
                    // DaemonSet pod has started, or after it went.
                    None => match node.and_then(|n| self.kernel_rules(n)) {
                        Some(_) => (true, Health::Down, "no pod (rules stay, stale)".into()),
                        None => (true, Health::Degraded, "waiting for its pod".into()),
                    },
                },
                ComponentKind::Kubelet => match self.clients.get(&addr(&id)) {
                    Some(slot) if !slot.up => (true, Health::Down, "stopped".into()),
                    Some(slot) => match slot.agent::<Kubelet>() {
                        Some(k) => (
                            true,
                            if k.is_registered() {
                                Health::Up
                            } else {
                                Health::Degraded
                            },
                            k.state_line(self.world.now()),
                        ),
                        None => (true, Health::Degraded, "starting".into()),
                    },
                    // No kube-proxy container runs on the node: before its
                    // DaemonSet pod has started, or after it went.
                    None => match node.and_then(|n| self.kernel_rules(n)) {
                        Some(_) => (true, Health::Down, "no pod (rules stay, stale)".into()),
                        None => (true, Health::Degraded, "waiting for its pod".into()),
                    },
                },
                // The Deployment as a whole, or one of its replicas on a
                // control-plane node (drawn like kube-controller-manager's).
                ComponentKind::CloudControllerManager if node.is_none() => self.ccm_view(),
                ComponentKind::CloudControllerManager => match self.clients.get(&addr(&id)) {
                    Some(slot) if !slot.up => (true, Health::Down, "crashed".into()),
                    Some(slot) => match slot.agent::<crate::cloud::ccm::CloudControllerManager>() {
                        Some(m) => (true, Health::Up, m.state_line()),
                        None => (true, Health::Degraded, "starting".into()),
                    },
                    // No kube-proxy container runs on the node: before its
                    // DaemonSet pod has started, or after it went.
                    None => match node.and_then(|n| self.kernel_rules(n)) {
                        Some(_) => (true, Health::Down, "no pod (rules stay, stale)".into()),
                        None => (true, Health::Degraded, "waiting for its pod".into()),
                    },
                },
            };
            ComponentView {
                id,
                kind,
                node: node.map(str::to_string),
                runs_as: runs_as.to_string(),
                simulated,
                health,
                state,
            }
        };
        let nodes = self
            .topology
            .nodes()
            .map(|n| {
                let name = n.name.as_str();
                let mut components = Vec::new();
                if n.role == NodeRole::ControlPlane {
                    // kubeadm names static pods `<component>-<node name>`.
                    for kind in [
                        ComponentKind::KubeApiserver,
                        ComponentKind::Etcd,
                        ComponentKind::KubeScheduler,
                        ComponentKind::KubeControllerManager,
                    ] {
                        components.push(component(
                            kind,
                            format!("{}-{name}", kind.label()),
                            Some(name),
                            "static pod",
                        ));
                    }
                    let ccm = crate::cluster::ccm_addr(name);
                    if self.clients.contains_key(&addr(&ccm)) {
                        components.push(component(
                            ComponentKind::CloudControllerManager,
                            ccm,
                            Some(name),
                            "Deployment pod in kube-system",
                        ));
                    }
                }
                for (kind, runs_as) in [
                    (ComponentKind::Kubelet, "systemd service"),
                    (ComponentKind::KubeProxy, "DaemonSet pod"),
                    (ComponentKind::Containerd, "systemd service"),
                    (ComponentKind::Runc, "binary called by containerd"),
                ] {
                    components.push(component(
                        kind,
                        format!("{}@{name}", kind.label()),
                        Some(name),
                        runs_as,
                    ));
                }
                NodeView {
                    name: n.name.clone(),
                    role: n.role,
                    zone: n.zone.clone(),
                    instance_type: n.instance_type.clone(),
                    capacity: n.capacity,
                    components,
                    powered_off: self.powered_off.contains(name),
                    partitioned: self.network.is_isolated(name),
                    lease: self.node_lease_view(name),
                    ready: self.node_ready(name),
                    pods: pods_by_node.next().unwrap_or_default(),
                }
            })
            .collect();
        let cluster_components = vec![
            component(
                ComponentKind::ApiLoadBalancer,
                LOAD_BALANCER.into(),
                None,
                "controlPlaneEndpoint :6443",
            ),
            component(
                ComponentKind::CloudControllerManager,
                "cloud-controller-manager".into(),
                None,
                "Deployment in kube-system",
            ),
            component(
                ComponentKind::CoreDns,
                "coredns".into(),
                None,
                &format!(
                    "Deployment in kube-system · {} replicas",
                    self.topology.coredns_replicas
                ),
            ),
        ];
        Snapshot {
            now: self.world.now(),
            seed: self.world.seed(),
            events_delivered: self.world.delivered(),
            cluster_components,
            nodes,
            pending_pods,
            konnectivity: self.konnectivity_status(),
        }
    }
}

impl Cluster {
    /// The node's Lease as the API holds it.
    fn node_lease_view(&self, node: &str) -> Option<LeaseView> {
        let key = crate::apiserver::registry::key(
            KindId::Lease,
            Some(crate::kubelet::lease::NODE_LEASE_NAMESPACE),
            node,
        );
        let object = self.observe(&key)?;
        let crate::api::Object::Lease(lease) = &*object else {
            return None;
        };
        let spec = lease.spec.as_ref()?;
        Some(LeaseView {
            holder: spec.holder_identity.clone().unwrap_or_default(),
            renew_time: spec
                .renew_time
                .as_ref()
                .map(|t| {
                    crate::api::time::to_sim_time(
                        &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t.0),
                    )
                })
                .unwrap_or(SimTime::ZERO),
            duration_seconds: spec.lease_duration_seconds.unwrap_or(0).max(0) as u32,
        })
    }

    /// The status of the node's `Ready` condition as the API holds it.
    fn node_ready(&self, node: &str) -> Option<String> {
        let key = crate::apiserver::registry::key(KindId::Node, None, node);
        let object = self.observe(&key)?;
        let crate::api::Object::Node(n) = &*object else {
            return None;
        };
        n.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.status.clone())
    }
}

fn names(a: &[Addr]) -> String {
    a.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rng is reachable for components that draw outside an event (tests).
impl Cluster {
    pub fn rng(&mut self) -> &mut SimRng {
        self.world.rng()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::Verb;

    fn booted(seed: u64) -> Cluster {
        let mut c = Cluster::new(Topology::default(), seed);
        assert!(
            c.boot(SimDuration::from_secs(30)),
            "the control plane boots"
        );
        c
    }

    #[test]
    fn the_default_cluster_has_every_component_of_the_ha_topology() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        let count = |k| snap.components().filter(|c| c.kind == k).count();
        assert_eq!(count(ComponentKind::ApiLoadBalancer), 1);
        assert_eq!(count(ComponentKind::KubeApiserver), 3);
        assert_eq!(count(ComponentKind::Etcd), 3);
        assert_eq!(count(ComponentKind::KubeScheduler), 3);
        assert_eq!(count(ComponentKind::KubeControllerManager), 3);
        // The Deployment, and its two replicas on control-plane nodes.
        assert_eq!(count(ComponentKind::CloudControllerManager), 3);
        assert_eq!(count(ComponentKind::CoreDns), 1);
        assert_eq!(count(ComponentKind::Kubelet), 6);
        assert_eq!(count(ComponentKind::KubeProxy), 6);
        assert_eq!(count(ComponentKind::Containerd), 6);
        assert_eq!(count(ComponentKind::Runc), 6);
    }

    #[test]
    fn control_plane_static_pods_are_named_as_kubeadm_names_them() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        let ids: Vec<_> = snap.nodes[1]
            .components
            .iter()
            .filter(|c| c.runs_as == "static pod")
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "kube-apiserver-control-plane-2",
                "etcd-control-plane-2",
                "kube-scheduler-control-plane-2",
                "kube-controller-manager-control-plane-2"
            ]
        );
    }

    #[test]
    fn only_the_components_with_behaviour_claim_to_be_simulated() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        for c in snap.components() {
            let expected = matches!(
                c.kind,
                ComponentKind::Etcd
                    | ComponentKind::KubeApiserver
                    | ComponentKind::ApiLoadBalancer
                    | ComponentKind::Kubelet
                    | ComponentKind::KubeControllerManager
                    | ComponentKind::KubeScheduler
                    | ComponentKind::Containerd
                    | ComponentKind::Runc
                    | ComponentKind::CloudControllerManager
                    | ComponentKind::KubeProxy
                    | ComponentKind::CoreDns
            );
            assert_eq!(c.simulated, expected, "{}", c.id);
        }
    }

    #[test]
    fn the_cluster_boots_within_seconds_with_every_node_ready() {
        let c = booted(7);
        // The control plane answers after about 4 s; then the nodes register,
        // the cloud-controller-manager initialises them and kubeadm's addon
        // phase has run.
        assert!(c.now() < SimTime(20_000), "booted at {}", c.now());
        assert!(c.nodes_settled());
        assert!(c.kubeadm_finished());
        let leaders = c
            .etcd_status()
            .iter()
            .filter(|(_, s)| s.role == Role::Leader)
            .count();
        assert_eq!(leaders, 1);
    }

    #[test]
    fn messages_on_one_connection_arrive_in_the_order_they_were_sent() {
        let mut c = booted(9);
        let cred = c.admin_credential();
        for _ in 0..200 {
            c.submit(ApiRequest::new(Verb::List, KindId::Namespace, cred.clone()));
        }
        c.advance(SimDuration::from_secs(1));
        let mut last: BTreeMap<(Addr, Addr), SimTime> = BTreeMap::new();
        let mut checked = 0;
        for e in c.trace().events().filter(|e| e.dropped.is_none()) {
            let link = (e.from.clone(), e.to.clone());
            if let Some(prev) = last.get(&link) {
                assert!(e.arrives >= *prev, "{} -> {} overtook", e.from, e.to);
                checked += 1;
            }
            last.insert(link, e.arrives);
        }
        assert!(checked > 400, "{checked}");
    }

    #[test]
    fn advancing_moves_the_clock_and_never_back() {
        let mut c = Cluster::new(Topology::default(), 1);
        c.advance(SimDuration::from_secs(3));
        assert_eq!(c.now(), SimTime(3_000));
        c.advance_to(SimTime(1_000));
        assert_eq!(c.now(), SimTime(3_000));
    }

    #[test]
    fn a_namespace_created_through_kubectl_is_read_back_with_a_resource_version() {
        let mut c = booted(3);
        let ns: crate::api::Object = crate::api::decode(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n",
            "STDIN",
        )
        .unwrap()
        .remove(0);
        let cred = c.admin_credential();
        let created =
            c.call(ApiRequest::new(Verb::Create, KindId::Namespace, cred.clone()).with_body(ns));
        let ApiResponse::Object(o) = created else {
            panic!("{created:?}")
        };
        assert!(o.resource_version().is_some());
        assert!(o.uid().is_some());
        let got = c.call(ApiRequest::new(Verb::Get, KindId::Namespace, cred).named("demo"));
        let ApiResponse::Object(g) = got else {
            panic!("{got:?}")
        };
        assert_eq!(g.resource_version(), o.resource_version());
    }
}
