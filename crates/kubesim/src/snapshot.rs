//! What the page sees: a serializable projection of the world.
//!
//! The UI never reaches into component internals; it draws a [`Snapshot`]
//! (and, as components gain behaviour, a stream of trace events). This also
//! lets the simulation move to a Web Worker without touching the components.

use crate::topology::{NodeRole, Resources};
use crate::world::SimTime;
use serde::{Deserialize, Serialize};
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
    /// last snapshot when unchanged, the list as well as each view: see
    /// [`SnapshotCache`]).
    #[serde(default, with = "shared_pods")]
    pub pods: SharedPods,
}

/// A list of pod views shared between snapshots while unchanged.
pub type SharedPods = Rc<Vec<Rc<PodView>>>;

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

    pub fn serialize<S: Serializer>(pods: &super::SharedPods, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(pods.iter().map(|p| &**p))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<super::SharedPods, D::Error> {
        Ok(Rc::new(
            Vec::<PodView>::deserialize(d)?
                .into_iter()
                .map(Rc::new)
                .collect(),
        ))
    }
}

/// The pod views of the last snapshot, with the API object each was made
/// from, in the API's key order: a pod object the API has not replaced
/// since keeps its view (an update always stores a new object, so the same
/// allocation means the same pod). The cache holds the objects, so an
/// address is never reused while it is here.
///
/// The next snapshot walks the API's pods and this list side by side (both
/// in key order), so an unchanged pod costs one pointer comparison: no map
/// is built or searched per pod (3,000 pods several times a second). When
/// no pod changed at all since (the API cache's revision of the kind is the
/// same), the last snapshot's lists are shared whole, without a walk.
#[derive(Clone, Default)]
pub struct SnapshotCache {
    pods: Vec<CachedPod>,
    grouped: Option<Grouped>,
}

/// The last snapshot's pod lists, and what they were made from.
#[derive(Clone)]
struct Grouped {
    /// The API cache's revision of the pods (`WatchCache::kind_revision`).
    revision: u64,
    /// The node names the lists follow.
    nodes: Vec<String>,
    lists: Vec<SharedPods>,
    pending: SharedPods,
}

#[derive(Clone)]
struct CachedPod {
    object: Rc<crate::api::Object>,
    view: Rc<PodView>,
    /// Where the last snapshot drew it.
    place: Place,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// On the node at this index of the snapshot's node list.
    Node(usize),
    /// Not bound to a node yet.
    Pending,
    /// Bound to a node the topology does not have: not drawn.
    Elsewhere,
}

/// The pod views of one snapshot, grouped as the diagram draws them.
pub(crate) struct PodsByNode {
    /// The pods bound to each node, by the node's index in the list given.
    pub nodes: Vec<SharedPods>,
    /// The pods not bound to any node yet.
    pub pending: SharedPods,
}

impl SnapshotCache {
    /// The views of the API's pods grouped by the node each is bound to
    /// (`nodes`: the snapshot's node names, in its order). `revision` is
    /// the API cache's revision of the pods (`None`: no cache to read):
    /// when the last call saw the same one and the same nodes, its lists
    /// are returned again; otherwise `objects` (the pods, in key order) are
    /// walked, reusing the view of every object the last call saw, and the
    /// list of every node whose views all stayed.
    pub(crate) fn pods_by_node<'a, I>(
        &mut self,
        revision: Option<u64>,
        objects: impl FnOnce() -> I,
        nodes: &[&str],
    ) -> PodsByNode
    where
        I: Iterator<Item = &'a Rc<crate::api::Object>>,
    {
        if let Some(g) = self.grouped.as_ref().filter(|g| {
            Some(g.revision) == revision
                && g.nodes.len() == nodes.len()
                && g.nodes.iter().zip(nodes).all(|(a, b)| a == b)
        }) {
            return PodsByNode {
                nodes: g.lists.clone(),
                pending: g.pending.clone(),
            };
        }
        let fresh = self.walk(objects(), nodes);
        let last = self.grouped.take();
        let share = |old: Option<&SharedPods>, new: Vec<Rc<PodView>>| match old {
            Some(o)
                if o.len() == new.len() && o.iter().zip(&new).all(|(a, b)| Rc::ptr_eq(a, b)) =>
            {
                o.clone()
            }
            _ => Rc::new(new),
        };
        let same_nodes = last.as_ref().is_some_and(|g| {
            g.nodes.len() == nodes.len() && g.nodes.iter().zip(nodes).all(|(a, b)| a == b)
        });
        let lists: Vec<SharedPods> = fresh
            .nodes
            .into_iter()
            .enumerate()
            .map(|(i, new)| {
                let old = last
                    .as_ref()
                    .filter(|_| same_nodes)
                    .and_then(|g| g.lists.get(i));
                share(old, new)
            })
            .collect();
        let pending = share(last.as_ref().map(|g| &g.pending), fresh.pending);
        if let Some(revision) = revision {
            self.grouped = Some(Grouped {
                revision,
                nodes: nodes.iter().map(|n| n.to_string()).collect(),
                lists: lists.clone(),
                pending: pending.clone(),
            });
        }
        PodsByNode {
            nodes: lists,
            pending,
        }
    }

    /// Groups `objects` by node, reusing the last walk's views.
    fn walk<'a>(
        &mut self,
        objects: impl Iterator<Item = &'a Rc<crate::api::Object>>,
        nodes: &[&str],
    ) -> Walked {
        let index: std::collections::BTreeMap<&str, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut out = Walked {
            nodes: vec![Vec::new(); nodes.len()],
            pending: Vec::new(),
        };
        let last = std::mem::take(&mut self.pods);
        let mut next = Vec::with_capacity(last.len());
        let mut j = 0;
        for object in objects {
            let crate::api::Object::Pod(pod) = &**object else {
                continue;
            };
            // Skip the last snapshot's pods that sort before this one (the
            // deleted ones); a broken order only costs views made again.
            while last.get(j).is_some_and(|c| {
                !Rc::ptr_eq(&c.object, object) && key_order(&c.object, pod).is_lt()
            }) {
                j += 1;
            }
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or_default();
            let cached = last.get(j).filter(|c| Rc::ptr_eq(&c.object, object));
            let (view, place) = match cached {
                Some(c) => {
                    j += 1;
                    let still = match c.place {
                        Place::Node(i) => nodes.get(i) == Some(&node),
                        Place::Pending => node.is_empty(),
                        Place::Elsewhere => false,
                    };
                    (
                        c.view.clone(),
                        if still {
                            c.place
                        } else {
                            place_of(&index, node)
                        },
                    )
                }
                None => (Rc::new(PodView::of(pod)), place_of(&index, node)),
            };
            match place {
                Place::Node(i) => {
                    if let Some(pods) = out.nodes.get_mut(i) {
                        pods.push(view.clone());
                    }
                }
                Place::Pending => out.pending.push(view.clone()),
                Place::Elsewhere => {}
            }
            next.push(CachedPod {
                object: object.clone(),
                view,
                place,
            });
        }
        self.pods = next;
        out
    }
}

/// Pod views by node, before they are shared.
struct Walked {
    nodes: Vec<Vec<Rc<PodView>>>,
    pending: Vec<Rc<PodView>>,
}

fn place_of(index: &std::collections::BTreeMap<&str, usize>, node: &str) -> Place {
    if node.is_empty() {
        return Place::Pending;
    }
    index
        .get(node)
        .map_or(Place::Elsewhere, |i| Place::Node(*i))
}

/// How the API orders a cached pod object and `pod`: by their keys
/// (`/registry/pods/<namespace>/<name>`), compared without building them.
fn key_order(cached: &crate::api::Object, pod: &crate::api::pod::Pod) -> std::cmp::Ordering {
    let crate::api::Object::Pod(c) = cached else {
        return std::cmp::Ordering::Less;
    };
    key_bytes(c).cmp(key_bytes(pod))
}

/// A pod's key after the kind's prefix, byte by byte.
fn key_bytes(p: &crate::api::pod::Pod) -> impl Iterator<Item = u8> + '_ {
    let ns = p.metadata.namespace.as_deref().unwrap_or_default();
    let name = p.metadata.name.as_deref().unwrap_or_default();
    ns.bytes().chain(std::iter::once(b'/')).chain(name.bytes())
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
    pub pending_pods: SharedPods,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Object;

    fn pod(namespace: &str, name: &str, node: &str, phase: &str) -> Rc<Object> {
        let json = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": namespace, "name": name},
            "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": phase},
        });
        match serde_json::from_value::<crate::api::pod::Pod>(json) {
            Ok(p) => Rc::new(Object::from(p)),
            Err(e) => panic!("the test pod did not decode: {e}"),
        }
    }

    fn names(pods: &[Rc<PodView>]) -> Vec<&str> {
        pods.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn pods_are_grouped_by_node_with_unbound_ones_pending_and_unknown_nodes_left_out() {
        let objects = [
            pod("default", "a", "worker-1", "Running"),
            pod("default", "b", "", "Pending"),
            pod("default", "c", "worker-2", "Running"),
            pod("default", "d", "gone", "Running"),
            pod("default", "e", "worker-1", "Running"),
        ];
        let mut cache = SnapshotCache::default();
        let out = cache.pods_by_node(None, || objects.iter(), &["worker-1", "worker-2"]);
        assert_eq!(names(&out.nodes[0]), ["a", "e"]);
        assert_eq!(names(&out.nodes[1]), ["c"]);
        assert_eq!(names(&out.pending), ["b"]);
    }

    #[test]
    fn an_unchanged_pod_keeps_its_view_and_a_replaced_one_gets_a_new_one() {
        let mut objects = [
            pod("default", "a", "worker-1", "Running"),
            pod("default", "b", "worker-1", "Pending"),
            pod("kube-system", "c", "worker-1", "Running"),
        ];
        let nodes = ["worker-1"];
        let mut cache = SnapshotCache::default();
        let first = cache.pods_by_node(None, || objects.iter(), &nodes);
        objects[1] = pod("default", "b", "worker-1", "Running");
        let second = cache.pods_by_node(None, || objects.iter(), &nodes);
        let (old, new) = (&first.nodes[0], &second.nodes[0]);
        assert!(Rc::ptr_eq(&old[0], &new[0]));
        assert!(!Rc::ptr_eq(&old[1], &new[1]));
        assert_eq!(new[1].phase, "Running");
        assert!(Rc::ptr_eq(&old[2], &new[2]));
    }

    #[test]
    fn deleted_and_added_pods_leave_the_other_views_shared() {
        // Keys sort as the API sorts them: `a-b/x` before `a/y` ('-' < '/').
        let keep = [
            pod("a", "y", "worker-1", "Running"),
            pod("b", "p", "worker-1", "Running"),
        ];
        let mut objects: Vec<Rc<Object>> = (0..20)
            .map(|i| pod("a", &format!("gone-{i:02}"), "worker-1", "Running"))
            .collect();
        objects.insert(0, pod("a-b", "x", "worker-1", "Running"));
        objects.push(keep[0].clone());
        objects.push(keep[1].clone());
        let nodes = ["worker-1"];
        let mut cache = SnapshotCache::default();
        let first = cache.pods_by_node(None, || objects.iter(), &nodes);
        let before: Vec<Rc<PodView>> = first.nodes[0][21..].to_vec();
        // Twenty pods deleted in a row, one added before the survivors.
        let objects = [
            pod("a-b", "x", "worker-1", "Running"),
            pod("a", "new", "worker-1", "Running"),
            keep[0].clone(),
            keep[1].clone(),
        ];
        let second = cache.pods_by_node(None, || objects.iter(), &nodes);
        assert_eq!(names(&second.nodes[0]), ["x", "new", "y", "p"]);
        assert!(Rc::ptr_eq(&before[0], &second.nodes[0][2]));
        assert!(Rc::ptr_eq(&before[1], &second.nodes[0][3]));
    }

    #[test]
    fn an_unchanged_pod_revision_shares_the_last_lists_and_unchanged_nodes_keep_theirs() {
        let nodes = ["worker-1", "worker-2"];
        let mut objects = [
            pod("default", "a", "worker-1", "Running"),
            pod("default", "b", "worker-2", "Running"),
        ];
        let mut cache = SnapshotCache::default();
        let first = cache.pods_by_node(Some(7), || objects.iter(), &nodes);
        let no_walk =
            || -> std::slice::Iter<'_, Rc<Object>> { panic!("walked for the same revision") };
        let again = cache.pods_by_node(Some(7), no_walk, &nodes);
        assert!(Rc::ptr_eq(&first.nodes[0], &again.nodes[0]));
        assert!(Rc::ptr_eq(&first.pending, &again.pending));
        // One pod replaced: its node's list is new, the other node's stays.
        objects[1] = pod("default", "b", "worker-2", "Failed");
        let next = cache.pods_by_node(Some(8), || objects.iter(), &nodes);
        assert!(Rc::ptr_eq(&first.nodes[0], &next.nodes[0]));
        assert!(!Rc::ptr_eq(&first.nodes[1], &next.nodes[1]));
        assert_eq!(next.nodes[1][0].phase, "Failed");
        // Other nodes: walked again, whatever the revision.
        let fewer = cache.pods_by_node(Some(8), || objects.iter(), &["worker-2"]);
        assert_eq!(names(&fewer.nodes[0]), ["b"]);
    }

    #[test]
    fn a_pod_bound_since_the_last_snapshot_moves_from_pending_to_its_node() {
        let nodes = ["worker-1", "worker-2"];
        let mut cache = SnapshotCache::default();
        let pending = [pod("default", "a", "", "Pending")];
        let first = cache.pods_by_node(None, || pending.iter(), &nodes);
        assert_eq!(names(&first.pending), ["a"]);
        let bound = [pod("default", "a", "worker-2", "Pending")];
        let second = cache.pods_by_node(None, || bound.iter(), &nodes);
        assert!(second.pending.is_empty());
        assert_eq!(names(&second.nodes[1]), ["a"]);
        // The same objects with the node list changed: placed anew.
        let objects = [pod("default", "b", "worker-2", "Running")];
        cache.pods_by_node(None, || objects.iter(), &nodes);
        let third = cache.pods_by_node(None, || objects.iter(), &["worker-2"]);
        assert_eq!(names(&third.nodes[0]), ["b"]);
    }
}
