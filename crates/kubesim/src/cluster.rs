//! A cluster: a topology brought to life in a world.
//!
//! `Cluster` is the one entry point of the core for the page and the CLI: it
//! is built from a [`Topology`] and a seed, advances its virtual clock, and
//! projects itself into a [`Snapshot`].
//!
//! What this step of the simulation leaves out: the components are placed as
//! kubeadm places them, but none has behaviour yet, so every component view
//! says `simulated: false` and no events are scheduled. The API server and
//! etcd, the nodes and the control loops bring behaviour in later steps.

use crate::snapshot::{ComponentKind, ComponentView, NodeView, Snapshot};
use crate::topology::{NodeRole, Topology};
use crate::world::{SimDuration, SimTime, World};

/// What the world delivers. Components gain variants here as they gain
/// behaviour; the foundation has none yet, so nothing is ever scheduled.
#[derive(Debug)]
pub enum Event {}

/// A simulated cluster.
pub struct Cluster {
    topology: Topology,
    world: World<Event>,
}

impl Cluster {
    /// A cluster of `topology`, whose every random choice derives from `seed`.
    pub fn new(topology: Topology, seed: u64) -> Cluster {
        Cluster {
            topology,
            world: World::new(seed),
        }
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

    /// Runs every event due in the next `d` of virtual time, in order, and
    /// leaves the clock at `now + d`.
    pub fn advance(&mut self, d: SimDuration) {
        let target = self.world.now() + d;
        self.advance_to(target);
    }

    /// Runs every event due up to `t` and leaves the clock at `t` (or where it
    /// is, if `t` is in the past: time never runs backwards).
    pub fn advance_to(&mut self, t: SimTime) {
        // No component schedules events yet: `Event` has no variant to deliver.
        if let Some(event) = self.world.pop_until(t) {
            match event {}
        }
        self.world.settle_at(t);
    }

    /// The projection of the cluster the page draws.
    pub fn snapshot(&self) -> Snapshot {
        let component =
            |kind: ComponentKind, id: String, node: Option<&str>, runs_as: &str| ComponentView {
                id,
                kind,
                node: node.map(str::to_string),
                runs_as: runs_as.to_string(),
                simulated: false,
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
                }
                components.push(component(
                    ComponentKind::Kubelet,
                    format!("kubelet@{name}"),
                    Some(name),
                    "systemd service",
                ));
                components.push(component(
                    ComponentKind::KubeProxy,
                    format!("kube-proxy@{name}"),
                    Some(name),
                    "DaemonSet pod",
                ));
                components.push(component(
                    ComponentKind::Containerd,
                    format!("containerd@{name}"),
                    Some(name),
                    "systemd service",
                ));
                components.push(component(
                    ComponentKind::Runc,
                    format!("runc@{name}"),
                    Some(name),
                    "binary called by containerd",
                ));
                NodeView {
                    name: n.name.clone(),
                    role: n.role,
                    zone: n.zone.clone(),
                    instance_type: n.instance_type.clone(),
                    capacity: n.capacity,
                    components,
                }
            })
            .collect();
        let cluster_components = vec![
            component(
                ComponentKind::ApiLoadBalancer,
                "api-load-balancer".into(),
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cluster_has_every_component_of_the_ha_topology() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        let count = |k| snap.components().filter(|c| c.kind == k).count();
        assert_eq!(count(ComponentKind::ApiLoadBalancer), 1);
        assert_eq!(count(ComponentKind::KubeApiserver), 3);
        assert_eq!(count(ComponentKind::Etcd), 3);
        assert_eq!(count(ComponentKind::KubeScheduler), 3);
        assert_eq!(count(ComponentKind::KubeControllerManager), 3);
        assert_eq!(count(ComponentKind::CloudControllerManager), 1);
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
    fn advancing_moves_the_clock_and_never_back() {
        let mut c = Cluster::new(Topology::default(), 1);
        c.advance(SimDuration::from_secs(30));
        assert_eq!(c.now(), SimTime(30_000));
        c.advance_to(SimTime(10_000));
        assert_eq!(c.now(), SimTime(30_000));
    }

    #[test]
    fn no_component_claims_behaviour_the_simulation_does_not_have_yet() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        assert!(snap.components().all(|c| !c.simulated));
    }
}
