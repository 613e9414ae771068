//! What the page sees: a serializable projection of the world.
//!
//! The UI never reaches into component internals; it draws a [`Snapshot`]
//! (and, as components gain behaviour, a stream of trace events). This also
//! lets the simulation move to a Web Worker without touching the components.

use crate::topology::{NodeRole, Resources};
use crate::world::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The kinds of component the architecture diagram draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentKind {
    ApiLoadBalancer,
    KubeApiserver,
    Etcd,
    KubeScheduler,
    KubeControllerManager,
    CloudControllerManager,
    CoreDns,
    Kubelet,
    KubeProxy,
    Containerd,
    Runc,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 11] = [
        ComponentKind::ApiLoadBalancer,
        ComponentKind::KubeApiserver,
        ComponentKind::Etcd,
        ComponentKind::KubeScheduler,
        ComponentKind::KubeControllerManager,
        ComponentKind::CloudControllerManager,
        ComponentKind::CoreDns,
        ComponentKind::Kubelet,
        ComponentKind::KubeProxy,
        ComponentKind::Containerd,
        ComponentKind::Runc,
    ];

    /// The component's name as Kubernetes documentation writes it.
    pub fn label(self) -> &'static str {
        match self {
            ComponentKind::ApiLoadBalancer => "API load balancer",
            ComponentKind::KubeApiserver => "kube-apiserver",
            ComponentKind::Etcd => "etcd",
            ComponentKind::KubeScheduler => "kube-scheduler",
            ComponentKind::KubeControllerManager => "kube-controller-manager",
            ComponentKind::CloudControllerManager => "cloud-controller-manager",
            ComponentKind::CoreDns => "CoreDNS",
            ComponentKind::Kubelet => "kubelet",
            ComponentKind::KubeProxy => "kube-proxy",
            ComponentKind::Containerd => "containerd",
            ComponentKind::Runc => "runc",
        }
    }

    /// One sentence on what the component does, for the legend and tooltips.
    pub fn summary(self) -> &'static str {
        match self {
            ComponentKind::ApiLoadBalancer => {
                "Spreads API requests over the healthy kube-apiserver instances, so no single one is a point of failure."
            }
            ComponentKind::KubeApiserver => {
                "The front end of the control plane: authenticates, authorizes, admits and validates every request, then stores it in etcd. Every component talks only to it."
            }
            ComponentKind::Etcd => {
                "The key-value store holding all cluster data, replicated across members with Raft."
            }
            ComponentKind::KubeScheduler => {
                "Watches for new pods with no node and picks the node each should run on."
            }
            ComponentKind::KubeControllerManager => {
                "Runs the control loops (Deployment, ReplicaSet, node lifecycle, ...) that move current state towards desired state."
            }
            ComponentKind::CloudControllerManager => {
                "Links the cluster to the cloud provider: node addresses and zones, routes, load balancers."
            }
            ComponentKind::CoreDns => {
                "The cluster DNS server behind the kube-dns Service: resolves service and pod names."
            }
            ComponentKind::Kubelet => {
                "The node agent: registers the node, heartbeats through a Lease, and runs the pods bound to it (and the static pods in /etc/kubernetes/manifests)."
            }
            ComponentKind::KubeProxy => {
                "Keeps the node's service rules (ClusterIP, NodePort, LoadBalancer) in step with Services and EndpointSlices."
            }
            ComponentKind::Containerd => {
                "The high-level container runtime behind the CRI: pulls images, sets up pod sandboxes, networking and volumes."
            }
            ComponentKind::Runc => {
                "The low-level runtime: creates the container's namespaces and cgroups and starts its process."
            }
        }
    }
}

/// How a component is doing, as the diagram colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// Working.
    Up,
    /// Running but not fully working (an etcd member with no leader, an API
    /// server that is not ready, a balancer with instances out of rotation).
    Degraded,
    /// Crashed or powered off.
    Down,
    /// Not simulated yet: nothing to tell.
    Unknown,
}

/// One component instance on the diagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentView {
    /// The instance name, as kubeadm names the static pod (`etcd-control-plane-1`)
    /// or as the component is known on its node (`kubelet`).
    pub id: String,
    pub kind: ComponentKind,
    /// The node it runs on, if it is tied to one.
    pub node: Option<String>,
    /// How it runs: "static pod", "systemd service", "DaemonSet pod", ...
    pub runs_as: String,
    /// Whether the simulation models this component's behaviour yet. The page
    /// draws components whose behaviour is not simulated as such, never as if
    /// they were working.
    pub simulated: bool,
    pub health: Health,
    /// A short line on its state: `leader · term 3 · rev 120`, `ready`.
    pub state: String,
}

/// One node on the diagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub name: String,
    pub role: NodeRole,
    pub zone: String,
    pub instance_type: String,
    pub capacity: Resources,
    /// The components running on the node, control-plane static pods first.
    pub components: Vec<ComponentView>,
    /// The machine is off (`sim fault <node> power-off`).
    pub powered_off: bool,
    /// The machine is cut off from the network (`sim fault <node> partition`).
    pub partitioned: bool,
    /// The node's Lease in `kube-node-lease`, as the API holds it.
    #[serde(default)]
    pub lease: Option<LeaseView>,
    /// The status of the Node's `Ready` condition (`True`, `False`,
    /// `Unknown`), as the API holds it; `None` before registration.
    #[serde(default)]
    pub ready: Option<String>,
    /// The pods bound to the node, as the API holds them (shared with the
    /// last snapshot when unchanged, see [`SnapshotCache`]).
    #[serde(default, with = "shared_pods")]
    pub pods: Vec<Rc<PodView>>,
}

/// A pod as the diagram draws it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodView {
    pub namespace: String,
    pub name: String,
    /// `status.phase` (`Pending`, `Running`, `Succeeded`, `Failed`,
    /// `Unknown`), or `Terminating` while a deletion is pending, as kubectl
    /// shows it.
    pub phase: String,
    /// Whether the `Ready` condition is True.
    pub ready: bool,
    /// The containers, with their state (`waiting`, `running`,
    /// `terminated`) and reason (`ContainerCreating`, `CrashLoopBackOff`,
    /// `OOMKilled`, ...).
    pub containers: Vec<ContainerView>,
}

/// One container of a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerView {
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
}

impl PodView {
    /// The view of a pod object.
    pub fn of(pod: &crate::api::pod::Pod) -> PodView {
        // Borrowed, not cloned: the page takes a snapshot of every pod
        // several times a second (3,000 pods with 100 nodes).
        let status = pod.status.as_ref();
        let phase = if pod.metadata.deletion_timestamp.is_some() {
            "Terminating".to_string()
        } else {
            status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into())
        };
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let st = statuses
                    .iter()
                    .find(|s| s.name == c.name)
                    .and_then(|s| s.state.as_ref());
                let (state, reason) = match st {
                    Some(s) if s.running.is_some() => ("running", None),
                    Some(s) if s.terminated.is_some() => (
                        "terminated",
                        s.terminated.as_ref().and_then(|t| t.reason.clone()),
                    ),
                    Some(s) => ("waiting", s.waiting.as_ref().and_then(|w| w.reason.clone())),
                    None => ("waiting", None),
                };
                ContainerView {
                    name: c.name.clone(),
                    state: state.into(),
                    reason,
                }
            })
            .collect();
        PodView {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            phase,
            ready,
            containers,
        }
    }
}

/// Shared pod views (de)serialized as plain ones.
mod shared_pods {
    use super::PodView;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::rc::Rc;

    pub fn serialize<S: Serializer>(pods: &[Rc<PodView>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(pods.iter().map(|p| &**p))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Rc<PodView>>, D::Error> {
        Ok(Vec::<PodView>::deserialize(d)?
            .into_iter()
            .map(Rc::new)
            .collect())
    }
}

/// The pod views of the last snapshot, by the API object each was made
/// from: a pod object the API has not replaced since keeps its view (an
/// update always stores a new object, so the same allocation means the same
/// pod). The cache holds the objects, so an address is never reused while
/// it is a key.
#[derive(Clone, Default)]
pub struct SnapshotCache {
    pub(crate) pods: BTreeMap<usize, (Rc<crate::api::Object>, Rc<PodView>)>,
}

impl SnapshotCache {
    /// The view of `pod` (the object `object` holds), reused when the last
    /// snapshot saw the same object.
    pub(crate) fn view_of(
        &self,
        object: &Rc<crate::api::Object>,
        pod: &crate::api::pod::Pod,
    ) -> Rc<PodView> {
        match self.pods.get(&(Rc::as_ptr(object) as usize)) {
            Some((o, view)) if Rc::ptr_eq(o, object) => view.clone(),
            _ => Rc::new(PodView::of(pod)),
        }
    }
}

/// A node's heartbeat Lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseView {
    pub holder: String,
    /// `spec.renewTime`.
    pub renew_time: SimTime,
    /// `spec.leaseDurationSeconds`.
    pub duration_seconds: u32,
}

impl LeaseView {
    /// How long until the Lease expires, as the node lifecycle controller
    /// would judge it (zero once expired).
    pub fn remaining(&self, now: SimTime) -> crate::world::SimDuration {
        let expires = self.renew_time
            + crate::world::SimDuration::from_secs(u64::from(self.duration_seconds));
        expires.saturating_since(now)
    }
}

/// A projection of the whole cluster at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Virtual time of the snapshot.
    pub now: SimTime,
    pub seed: u64,
    /// Events delivered since the start of the run.
    pub events_delivered: u64,
    /// Components that belong to the cluster rather than to one node: the API
    /// load balancer, and the kube-system Deployments (cloud-controller-manager,
    /// CoreDNS) until their pods are placed on nodes.
    pub cluster_components: Vec<ComponentView>,
    /// Control-plane nodes first, then workers.
    pub nodes: Vec<NodeView>,
    /// Pods not bound to any node yet (waiting for the scheduler).
    #[serde(default, with = "shared_pods")]
    pub pending_pods: Vec<Rc<PodView>>,
    /// Konnectivity's servers and agents, when the topology runs it.
    #[serde(default)]
    pub konnectivity: Option<KonnectivityView>,
}

/// Konnectivity as the page draws it: a chip per server (beside each
/// kube-apiserver) and per agent (on every node).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KonnectivityView {
    pub servers: Vec<TunnelEndView>,
    pub agents: Vec<TunnelEndView>,
}

/// One konnectivity-server or konnectivity-agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelEndView {
    /// `konnectivity-server-control-plane-1`, `konnectivity-agent@worker-1`.
    pub name: String,
    pub node: String,
    pub up: bool,
    /// A server: the agents connected to it; an agent: the servers it
    /// holds a tunnel to.
    pub tunnels: usize,
}

impl Snapshot {
    /// Every component instance, cluster-wide ones first.
    pub fn components(&self) -> impl Iterator<Item = &ComponentView> {
        self.cluster_components
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.components.iter()))
    }
}
