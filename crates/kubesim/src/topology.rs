//! The shape of a cluster: which machines exist and what runs on each.
//!
//! The default is kubeadm's stacked-etcd high-availability topology
//! (<https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/ha-topology/>):
//! three control-plane nodes, each running an etcd member, kube-apiserver,
//! kube-scheduler and kube-controller-manager as static pods, behind a load
//! balancer for the API; and worker nodes spread over zones. Every node, the
//! control-plane ones included, runs a kubelet and containerd driving runc,
//! and a pod of kubeadm's `kube-proxy` DaemonSet. The
//! cloud-controller-manager and CoreDNS run as Deployments in `kube-system`.
//!
//! Like turmoil's builder, [`TopologyBuilder::build`] rejects settings that
//! cannot describe a working cluster, with a test for each.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Resources a node offers, in Kubernetes' units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// CPU in millicores (`4` cores = `4000m`).
    pub cpu_millis: u64,
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// Maximum pods (kubelet `maxPods`, 110 by default).
    pub pods: u32,
}

impl Resources {
    pub const GI: u64 = 1024 * 1024 * 1024;

    pub fn new(cores: u64, memory_gi: u64) -> Self {
        Resources {
            cpu_millis: cores * 1000,
            memory_bytes: memory_gi * Self::GI,
            pods: 110,
        }
    }
}

/// What a node is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// Runs the control plane as static pods; tainted
    /// `node-role.kubernetes.io/control-plane:NoSchedule`.
    ControlPlane,
    /// Runs the workloads.
    Worker,
}

/// One machine of the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub name: String,
    pub role: NodeRole,
    /// `topology.kubernetes.io/zone`.
    pub zone: String,
    /// `node.kubernetes.io/instance-type`, as the cloud reports it.
    pub instance_type: String,
    pub capacity: Resources,
}

/// The whole cluster's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub control_plane: Vec<NodeSpec>,
    pub workers: Vec<NodeSpec>,
    /// Replicas of the CoreDNS Deployment (kubeadm deploys 2).
    pub coredns_replicas: u32,
    /// kube-controller-manager's `--cluster-signing-duration` in seconds:
    /// how long the certificates it signs for kubelets last (one year by
    /// default; shorter to watch certificate rotation).
    #[serde(default = "default_signing_duration_secs")]
    pub cluster_signing_duration_secs: u64,
    /// Controllers kube-controller-manager does not run
    /// (`--controllers=*,-<name>`), by controller name.
    #[serde(default)]
    pub disabled_controllers: Vec<String>,
    /// kubeadm's `--pod-network-cidr`, which kube-controller-manager's node
    /// IPAM cuts into a /24 per node (`--cluster-cidr`).
    #[serde(default = "default_pod_network_cidr")]
    pub pod_network_cidr: String,
    /// Whether the API servers reach the nodes through Konnectivity (a
    /// `konnectivity-server` static pod beside each API server, the
    /// `konnectivity-agent` DaemonSet's pod on every node) rather than
    /// directly.
    #[serde(default)]
    pub konnectivity: bool,
}

/// The pod network of the kubeadm docs' examples (Flannel's): 256 nodes.
pub const DEFAULT_POD_NETWORK_CIDR: &str = "10.244.0.0/16";
/// The pod network a topology with more nodes than that gets unless it
/// names one: 100.64.0.0/10 (16,384 blocks of /24, clear of the Service
/// range 10.96.0.0/12), as large clusters choose a wider range.
pub const LARGE_POD_NETWORK_CIDR: &str = "100.64.0.0/10";

fn default_pod_network_cidr() -> String {
    DEFAULT_POD_NETWORK_CIDR.to_string()
}

/// `--cluster-signing-duration`'s default, 8760h.
pub const DEFAULT_SIGNING_DURATION_SECS: u64 = 365 * 24 * 3600;

fn default_signing_duration_secs() -> u64 {
    DEFAULT_SIGNING_DURATION_SECS
}

/// Why a topology was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TopologyError {
    #[error("etcd needs an odd number of members for a quorum: control-plane nodes must be 1, 3 or 5 (got {0})")]
    ControlPlaneCount(usize),
    #[error("a cluster has at most 5000 nodes (got {0} workers)")]
    TooManyWorkers(usize),
    #[error("node name {name:?} is invalid: {reason}")]
    InvalidNodeName { name: String, reason: String },
    #[error("node name {0:?} is used twice")]
    DuplicateNode(String),
    #[error("node {0:?} has no {1}: capacity must be positive")]
    EmptyCapacity(String, &'static str),
    #[error("node {0:?} allows {1} pods: at most 110 pods per node are supported")]
    TooManyPods(String, u32),
    #[error("CoreDNS needs between 1 and 10 replicas (got {0})")]
    CoreDnsReplicas(u32),
    #[error("pod network CIDR {0:?} is invalid: it must be an IPv4 CIDR no narrower than /24")]
    PodNetworkCidr(String),
}

/// The zones the default topology spreads nodes over.
pub const DEFAULT_ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

impl Default for Topology {
    /// kubeadm's stacked-etcd HA topology with three workers.
    fn default() -> Self {
        TopologyBuilder::new()
            .build()
            .expect("the default topology is valid")
    }
}

impl Topology {
    pub fn builder() -> TopologyBuilder {
        TopologyBuilder::new()
    }

    /// Every node, control plane first, in name order within each role.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeSpec> {
        self.control_plane.iter().chain(self.workers.iter())
    }

    /// The number of etcd members: one per control-plane node (stacked etcd).
    pub fn etcd_members(&self) -> usize {
        self.control_plane.len()
    }
}

/// Builds a [`Topology`], checking it on `build`.
#[derive(Clone, Debug)]
pub struct TopologyBuilder {
    control_plane: usize,
    workers: usize,
    worker_capacity: Resources,
    control_plane_capacity: Resources,
    coredns_replicas: u32,
    cluster_signing_duration_secs: u64,
    disabled_controllers: Vec<String>,
    extra_nodes: Vec<NodeSpec>,
    pod_network_cidr: Option<String>,
    konnectivity: bool,
}

impl Default for TopologyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TopologyBuilder {
    pub fn new() -> Self {
        TopologyBuilder {
            control_plane: 3,
            workers: 3,
            worker_capacity: Resources::new(4, 16),
            control_plane_capacity: Resources::new(2, 8),
            coredns_replicas: 2,
            cluster_signing_duration_secs: DEFAULT_SIGNING_DURATION_SECS,
            disabled_controllers: Vec::new(),
            extra_nodes: Vec::new(),
            pod_network_cidr: None,
            konnectivity: false,
        }
    }

    /// Route the API servers' calls to nodes through Konnectivity.
    pub fn konnectivity(mut self, on: bool) -> Self {
        self.konnectivity = on;
        self
    }

    /// Control-plane nodes, each with a stacked etcd member: 1, 3 or 5.
    pub fn control_plane(mut self, n: usize) -> Self {
        self.control_plane = n;
        self
    }

    /// Worker nodes named `worker-1..N`, spread round-robin over the zones.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }

    pub fn worker_capacity(mut self, r: Resources) -> Self {
        self.worker_capacity = r;
        self
    }

    pub fn coredns_replicas(mut self, n: u32) -> Self {
        self.coredns_replicas = n;
        self
    }

    /// kubeadm's `--pod-network-cidr` (by default 10.244.0.0/16, or
    /// 100.64.0.0/10 for more than 256 nodes).
    pub fn pod_network_cidr(mut self, cidr: &str) -> Self {
        self.pod_network_cidr = Some(cidr.to_string());
        self
    }

    /// kube-controller-manager's `--cluster-signing-duration` (at least ten
    /// minutes, the shortest certificate a signer issues).
    pub fn cluster_signing_duration(mut self, d: crate::world::SimDuration) -> Self {
        self.cluster_signing_duration_secs = (d.as_millis() / 1000).max(600);
        self
    }

    /// Turns a kube-controller-manager controller off, as
    /// `--controllers=*,-<name>` does (`root-ca-certificate-publisher-controller`).
    pub fn disable_controller(mut self, name: &str) -> Self {
        self.disabled_controllers.push(name.to_string());
        self
    }

    /// A worker with a name, zone and capacity of its own.
    pub fn node(mut self, spec: NodeSpec) -> Self {
        self.extra_nodes.push(spec);
        self
    }

    pub fn build(self) -> Result<Topology, TopologyError> {
        if ![1, 3, 5].contains(&self.control_plane) {
            return Err(TopologyError::ControlPlaneCount(self.control_plane));
        }
        let zone = |i: usize| DEFAULT_ZONES[i % DEFAULT_ZONES.len()].to_string();
        let control_plane: Vec<NodeSpec> = (0..self.control_plane)
            .map(|i| NodeSpec {
                name: format!("control-plane-{}", i + 1),
                role: NodeRole::ControlPlane,
                zone: zone(i),
                instance_type: "e2-standard-2".into(),
                capacity: self.control_plane_capacity,
            })
            .collect();
        let mut workers: Vec<NodeSpec> = (0..self.workers)
            .map(|i| NodeSpec {
                name: format!("worker-{}", i + 1),
                role: NodeRole::Worker,
                zone: zone(i),
                instance_type: "e2-standard-4".into(),
                capacity: self.worker_capacity,
            })
            .collect();
        workers.extend(self.extra_nodes);
        if workers.len() > 5000 {
            return Err(TopologyError::TooManyWorkers(workers.len()));
        }
        if !(1..=10).contains(&self.coredns_replicas) {
            return Err(TopologyError::CoreDnsReplicas(self.coredns_replicas));
        }
        let mut seen = std::collections::BTreeSet::new();
        for node in control_plane.iter().chain(workers.iter()) {
            check_node_name(&node.name)?;
            if !seen.insert(node.name.as_str()) {
                return Err(TopologyError::DuplicateNode(node.name.clone()));
            }
            let c = node.capacity;
            if c.cpu_millis == 0 {
                return Err(TopologyError::EmptyCapacity(node.name.clone(), "cpu"));
            }
            if c.memory_bytes == 0 {
                return Err(TopologyError::EmptyCapacity(node.name.clone(), "memory"));
            }
            if c.pods == 0 {
                return Err(TopologyError::EmptyCapacity(node.name.clone(), "pods"));
            }
            if c.pods > 110 {
                return Err(TopologyError::TooManyPods(node.name.clone(), c.pods));
            }
        }
        let nodes = control_plane.len() + workers.len();
        let pod_network_cidr = self.pod_network_cidr.unwrap_or_else(|| {
            if nodes > 256 {
                LARGE_POD_NETWORK_CIDR.to_string()
            } else {
                DEFAULT_POD_NETWORK_CIDR.to_string()
            }
        });
        match crate::controllers::nodeipam::Cidr::parse(&pod_network_cidr) {
            Some(c) if c.prefix <= crate::controllers::nodeipam::NODE_CIDR_MASK_SIZE => {}
            _ => return Err(TopologyError::PodNetworkCidr(pod_network_cidr)),
        }
        Ok(Topology {
            control_plane,
            workers,
            coredns_replicas: self.coredns_replicas,
            cluster_signing_duration_secs: self.cluster_signing_duration_secs,
            disabled_controllers: self.disabled_controllers,
            pod_network_cidr,
            konnectivity: self.konnectivity,
        })
    }
}

/// Node names are DNS-1123 subdomains (`k8s.io/apimachinery` `IsDNS1123Subdomain`).
pub fn check_node_name(name: &str) -> Result<(), TopologyError> {
    let invalid = |reason: &str| TopologyError::InvalidNodeName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if name.len() > 253 {
        return Err(invalid("must be no more than 253 characters"));
    }
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok_chars || !ends_ok(name.chars().next()) || !ends_ok(name.chars().last()) {
        return Err(invalid(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_cluster_gets_kubeadms_example_pod_network_and_a_large_one_a_wider_range() {
        assert_eq!(Topology::default().pod_network_cidr, "10.244.0.0/16");
        let large = Topology::builder().workers(300).build().unwrap();
        assert_eq!(large.pod_network_cidr, "100.64.0.0/10");
        let chosen = Topology::builder()
            .pod_network_cidr("192.168.0.0/16")
            .build()
            .unwrap();
        assert_eq!(chosen.pod_network_cidr, "192.168.0.0/16");
    }

    #[test]
    fn a_pod_network_narrower_than_a_node_block_is_refused() {
        for bad in ["10.244.0.0/25", "not-a-cidr"] {
            assert_eq!(
                Topology::builder().pod_network_cidr(bad).build(),
                Err(TopologyError::PodNetworkCidr(bad.to_string()))
            );
        }
    }

    #[test]
    fn the_default_is_three_control_plane_nodes_and_three_workers() {
        let t = Topology::default();
        let names: Vec<_> = t.nodes().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "control-plane-1",
                "control-plane-2",
                "control-plane-3",
                "worker-1",
                "worker-2",
                "worker-3"
            ]
        );
        assert_eq!(t.etcd_members(), 3);
        assert_eq!(t.coredns_replicas, 2);
    }

    #[test]
    fn workers_are_spread_over_the_zones() {
        let t = Topology::builder().workers(4).build().unwrap();
        let zones: Vec<_> = t.workers.iter().map(|n| n.zone.as_str()).collect();
        assert_eq!(zones, ["zone-a", "zone-b", "zone-c", "zone-a"]);
    }

    #[test]
    fn an_even_number_of_control_plane_nodes_is_rejected() {
        for n in [0, 2, 4, 6] {
            assert_eq!(
                Topology::builder().control_plane(n).build(),
                Err(TopologyError::ControlPlaneCount(n))
            );
        }
        for n in [1, 3, 5] {
            assert!(Topology::builder().control_plane(n).build().is_ok());
        }
    }

    #[test]
    fn more_than_five_thousand_nodes_is_rejected() {
        assert_eq!(
            Topology::builder().workers(5001).build(),
            Err(TopologyError::TooManyWorkers(5001))
        );
        assert!(Topology::builder().workers(5000).build().is_ok());
    }

    #[test]
    fn a_node_name_that_is_not_dns_1123_is_rejected() {
        let node = |name: &str| NodeSpec {
            name: name.into(),
            role: NodeRole::Worker,
            zone: "zone-a".into(),
            instance_type: "sim.xlarge".into(),
            capacity: Resources::new(2, 4),
        };
        for bad in ["Worker", "-w", "w-", "", "w_1"] {
            let err = Topology::builder().node(node(bad)).build().unwrap_err();
            assert!(
                matches!(err, TopologyError::InvalidNodeName { .. }),
                "{bad}: {err}"
            );
        }
        assert!(Topology::builder()
            .node(node("gpu-1.example"))
            .build()
            .is_ok());
    }

    #[test]
    fn a_duplicate_node_name_is_rejected() {
        let dup = NodeSpec {
            name: "worker-1".into(),
            role: NodeRole::Worker,
            zone: "zone-a".into(),
            instance_type: "sim.xlarge".into(),
            capacity: Resources::new(2, 4),
        };
        assert_eq!(
            Topology::builder().node(dup).build(),
            Err(TopologyError::DuplicateNode("worker-1".into()))
        );
    }

    #[test]
    fn empty_or_oversized_capacity_is_rejected() {
        let mut r = Resources::new(0, 4);
        assert!(matches!(
            Topology::builder().worker_capacity(r).build(),
            Err(TopologyError::EmptyCapacity(_, "cpu"))
        ));
        r = Resources::new(2, 0);
        assert!(matches!(
            Topology::builder().worker_capacity(r).build(),
            Err(TopologyError::EmptyCapacity(_, "memory"))
        ));
        r = Resources::new(2, 4);
        r.pods = 111;
        assert!(matches!(
            Topology::builder().worker_capacity(r).build(),
            Err(TopologyError::TooManyPods(_, 111))
        ));
    }

    #[test]
    fn coredns_replicas_out_of_range_are_rejected() {
        assert_eq!(
            Topology::builder().coredns_replicas(0).build(),
            Err(TopologyError::CoreDnsReplicas(0))
        );
    }
}
