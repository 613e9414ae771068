//! The simulated cloud provider: the infrastructure a cloud cluster runs on.
//!
//! In Kubernetes a cloud cluster's nodes are the provider's virtual machines,
//! its `type: LoadBalancer` Services are the provider's load balancers, and
//! on many providers pod traffic between nodes follows the VPC's routes. The
//! cloud-controller-manager (see [`ccm`]) is the only Kubernetes component
//! that talks to the provider's API, through the `cloudprovider.Interface`
//! of `k8s.io/cloud-provider` (`InstancesV2`, `Routes`, `LoadBalancer`).
//!
//! Here [`Cloud`] is that provider: VMs with an instance type from a small
//! catalog of GCE-like machine types, a zone and a region, an internal IP and
//! a providerID `kubesim://<zone>/<vm-name>`; routes (one per node pod CIDR);
//! and load balancers with external IPs from the documentation range
//! 203.0.113.0/24 (RFC 5737). The world owns it and delivers the CCM's calls
//! to it as messages, with the network's latency; every answer is computed
//! from its state alone, so runs stay deterministic. The node group
//! ([`nodegroup`]) adds what a managed node pool adds: auto-repair and a
//! cluster autoscaler.
//!
//! Left out: quotas, operations that fail or take minutes, firewall rules,
//! health checks of the load balancers' backends, and any real traffic
//! through a load balancer (its IP is an address, not a path).

pub mod ccm;
pub mod nodegroup;

use crate::topology::{NodeRole, Resources};
use crate::world::SimTime;
use std::collections::BTreeMap;
use std::fmt;

/// The region every zone of the simulated cloud belongs to.
pub const REGION: &str = "region-1";
/// The first external IP a load balancer gets (203.0.113.0/24, TEST-NET-3).
const LB_NET: &str = "203.0.113";
/// The scheme of the providerIDs the cloud hands out.
pub const PROVIDER_PREFIX: &str = "kubesim://";

/// The machine types the cloud offers: name, vCPUs, memory in GiB (GCE's
/// `e2-standard-*` and friends).
pub const INSTANCE_TYPES: &[(&str, u64, u64)] = &[
    ("e2-standard-2", 2, 8),
    ("e2-standard-4", 4, 16),
    ("e2-standard-8", 8, 32),
    ("e2-highmem-4", 4, 32),
    ("e2-highcpu-8", 8, 8),
];

/// The capacity of a machine type, if the cloud offers it.
pub fn instance_type(name: &str) -> Option<Resources> {
    INSTANCE_TYPES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, cpu, mem)| Resources::new(*cpu, *mem))
}

/// A VM's providerID.
pub fn provider_id(zone: &str, name: &str) -> String {
    format!("{PROVIDER_PREFIX}{zone}/{name}")
}

/// Where a VM stands (GCE's instance status, simplified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VmStatus {
    /// Created, still booting: its kubelet has not started yet.
    Provisioning,
    Running,
    /// Powered off (GCE's `TERMINATED`): the disk stays, nothing runs.
    Stopped,
}

impl fmt::Display for VmStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VmStatus::Provisioning => "PROVISIONING",
            VmStatus::Running => "RUNNING",
            VmStatus::Stopped => "TERMINATED",
        })
    }
}

/// One virtual machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vm {
    pub name: String,
    pub zone: String,
    pub instance_type: String,
    pub capacity: Resources,
    pub role: NodeRole,
    pub internal_ip: String,
    /// The machine's index (stable per VM name: its machine and boot ids derive from it).
    pub index: usize,
    pub status: VmStatus,
    pub created: SimTime,
    /// When a provisioning VM finishes booting.
    pub boots_at: SimTime,
    /// The node group it belongs to, if any.
    pub group: Option<String>,
}

impl Vm {
    pub fn provider_id(&self) -> String {
        provider_id(&self.zone, &self.name)
    }
}

/// A route of the VPC: traffic for `destination` goes to the VM `target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub name: String,
    pub destination: String,
    pub target: String,
}

/// A cloud load balancer for one Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadBalancer {
    pub name: String,
    /// The Service it serves, `namespace/name`.
    pub service: String,
    pub ip: String,
    /// `TCP:80`, ...
    pub ports: Vec<String>,
    /// The nodes it forwards to.
    pub nodes: Vec<String>,
}

/// What the cloud tells the CCM about one instance (`InstanceMetadata` and
/// the `InstanceExists` / `InstanceShutdown` answers of `InstancesV2`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub name: String,
    pub provider_id: String,
    pub instance_type: String,
    pub zone: String,
    pub region: String,
    /// (type, address): `InternalIP`, `Hostname`.
    pub addresses: Vec<(String, String)>,
    pub shutdown: bool,
}

/// A call of the CCM to the cloud's API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudRequest {
    /// `InstancesV2.InstanceMetadata` for the VM named like the node.
    InstanceMetadata { node: String },
    /// Every instance, for the node lifecycle controller's pass.
    ListInstances,
    /// `Routes.ListRoutes`.
    ListRoutes,
    /// `Routes.CreateRoute`.
    CreateRoute { node: String, destination: String },
    /// `Routes.DeleteRoute`.
    DeleteRoute { name: String },
    /// `LoadBalancer.EnsureLoadBalancer`.
    EnsureLoadBalancer {
        name: String,
        service: String,
        ports: Vec<String>,
        nodes: Vec<String>,
    },
    /// `LoadBalancer.EnsureLoadBalancerDeleted`.
    EnsureLoadBalancerDeleted { name: String },
}

impl fmt::Display for CloudRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloudRequest::InstanceMetadata { node } => write!(f, "GET instances/{node}"),
            CloudRequest::ListInstances => write!(f, "LIST instances"),
            CloudRequest::ListRoutes => write!(f, "LIST routes"),
            CloudRequest::CreateRoute { node, destination } => {
                write!(f, "INSERT route {destination} -> {node}")
            }
            CloudRequest::DeleteRoute { name } => write!(f, "DELETE routes/{name}"),
            CloudRequest::EnsureLoadBalancer { name, service, .. } => {
                write!(f, "ENSURE load balancer {name} for {service}")
            }
            CloudRequest::EnsureLoadBalancerDeleted { name } => {
                write!(f, "DELETE load balancer {name}")
            }
        }
    }
}

/// The cloud's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudResponse {
    Instance(Option<InstanceMetadata>),
    Instances(Vec<InstanceMetadata>),
    Routes(Vec<Route>),
    /// The load balancer's external IP.
    LoadBalancer {
        ip: String,
    },
    Done,
    Error(String),
}

impl CloudResponse {
    pub fn summary(&self) -> String {
        match self {
            CloudResponse::Instance(Some(m)) => format!("instance {} ({})", m.name, m.provider_id),
            CloudResponse::Instance(None) => "404 instance not found".into(),
            CloudResponse::Instances(v) => format!("{} instances", v.len()),
            CloudResponse::Routes(v) => format!("{} routes", v.len()),
            CloudResponse::LoadBalancer { ip } => format!("load balancer at {ip}"),
            CloudResponse::Done => "done".into(),
            CloudResponse::Error(e) => format!("error: {e}"),
        }
    }
}

/// The simulated provider's state.
#[derive(Clone, Debug, Default)]
pub struct Cloud {
    vms: BTreeMap<String, Vm>,
    routes: BTreeMap<String, Route>,
    lbs: BTreeMap<String, LoadBalancer>,
    /// The node pool that auto-repair and the autoscaler manage.
    pub group: nodegroup::NodeGroup,
    /// Machine indexes handed out so far (a VM recreated under its name
    /// keeps its index).
    next_index: usize,
    /// Worker IPs handed out so far.
    next_worker: usize,
    /// What the cloud did, newest last (`sim cloud vms` shows the tail).
    pub operations: Vec<(SimTime, String)>,
}

/// How many operations the cloud remembers.
const OPERATIONS_KEPT: usize = 200;

impl Cloud {
    pub fn new() -> Self {
        Cloud::default()
    }

    /// Records an operation.
    pub fn log(&mut self, now: SimTime, what: String) {
        self.operations.push((now, what));
        if self.operations.len() > OPERATIONS_KEPT {
            self.operations.remove(0);
        }
    }

    pub fn vms(&self) -> impl Iterator<Item = &Vm> {
        self.vms.values()
    }

    pub fn vm(&self, name: &str) -> Option<&Vm> {
        self.vms.get(name)
    }

    pub fn vms_mut(&mut self) -> impl Iterator<Item = &mut Vm> {
        self.vms.values_mut()
    }

    pub fn vm_mut(&mut self, name: &str) -> Option<&mut Vm> {
        self.vms.get_mut(name)
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.values()
    }

    pub fn load_balancers(&self) -> impl Iterator<Item = &LoadBalancer> {
        self.lbs.values()
    }

    /// Adopts a VM that exists from the start (the topology's machines).
    pub fn adopt(&mut self, vm: Vm) {
        self.next_index = self.next_index.max(vm.index + 1);
        if vm.role == NodeRole::Worker {
            self.next_worker += 1;
        }
        self.vms.insert(vm.name.clone(), vm);
    }

    /// A fresh machine index and worker IP for a new VM.
    pub fn allocate(&mut self) -> (usize, usize) {
        let index = self.next_index;
        self.next_index += 1;
        let worker = self.next_worker;
        self.next_worker += 1;
        (index, worker)
    }

    /// Inserts a new VM.
    pub fn insert(&mut self, vm: Vm) {
        self.vms.insert(vm.name.clone(), vm);
    }

    /// Deletes a VM; returns it.
    pub fn remove(&mut self, name: &str) -> Option<Vm> {
        self.vms.remove(name)
    }

    fn metadata(&self, vm: &Vm) -> InstanceMetadata {
        InstanceMetadata {
            name: vm.name.clone(),
            provider_id: vm.provider_id(),
            instance_type: vm.instance_type.clone(),
            zone: vm.zone.clone(),
            region: REGION.into(),
            addresses: vec![
                ("InternalIP".into(), vm.internal_ip.clone()),
                ("Hostname".into(), vm.name.clone()),
            ],
            shutdown: vm.status == VmStatus::Stopped,
        }
    }

    /// Answers one API call.
    pub fn handle(&mut self, now: SimTime, request: &CloudRequest) -> CloudResponse {
        match request {
            CloudRequest::InstanceMetadata { node } => CloudResponse::Instance(
                self.vms
                    .get(node)
                    .filter(|vm| vm.status != VmStatus::Provisioning)
                    .map(|vm| self.metadata(vm)),
            ),
            CloudRequest::ListInstances => CloudResponse::Instances(
                self.vms
                    .values()
                    .filter(|vm| vm.status != VmStatus::Provisioning)
                    .map(|vm| self.metadata(vm))
                    .collect(),
            ),
            CloudRequest::ListRoutes => {
                CloudResponse::Routes(self.routes.values().cloned().collect())
            }
            CloudRequest::CreateRoute { node, destination } => {
                if !self.vms.contains_key(node) {
                    return CloudResponse::Error(format!(
                        "the resource 'instances/{node}' was not found"
                    ));
                }
                // `<cluster>-<node uid>` upstream; the node name is unique here.
                let name = format!("kubernetes-{node}");
                self.routes.insert(
                    name.clone(),
                    Route {
                        name: name.clone(),
                        destination: destination.clone(),
                        target: node.clone(),
                    },
                );
                self.log(
                    now,
                    format!("route {name}: {destination} -> {node} created"),
                );
                CloudResponse::Done
            }
            CloudRequest::DeleteRoute { name } => {
                if self.routes.remove(name).is_some() {
                    self.log(now, format!("route {name} deleted"));
                }
                CloudResponse::Done
            }
            CloudRequest::EnsureLoadBalancer {
                name,
                service,
                ports,
                nodes,
            } => {
                let ip = match self.lbs.get(name) {
                    Some(lb) => lb.ip.clone(),
                    None => match (1..=254u32)
                        .map(|h| format!("{LB_NET}.{h}"))
                        .find(|ip| self.lbs.values().all(|lb| &lb.ip != ip))
                    {
                        Some(ip) => {
                            self.log(now, format!("load balancer {name} for {service} at {ip}"));
                            ip
                        }
                        None => {
                            return CloudResponse::Error(
                                "quota exceeded: no external IP left in 203.0.113.0/24".into(),
                            )
                        }
                    },
                };
                self.lbs.insert(
                    name.clone(),
                    LoadBalancer {
                        name: name.clone(),
                        service: service.clone(),
                        ip: ip.clone(),
                        ports: ports.clone(),
                        nodes: nodes.clone(),
                    },
                );
                CloudResponse::LoadBalancer { ip }
            }
            CloudRequest::EnsureLoadBalancerDeleted { name } => {
                if let Some(lb) = self.lbs.remove(name) {
                    self.log(
                        now,
                        format!(
                            "load balancer {name} ({}) deleted, {} released",
                            lb.service, lb.ip
                        ),
                    );
                }
                CloudResponse::Done
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(name: &str, status: VmStatus) -> Vm {
        Vm {
            name: name.into(),
            zone: "zone-a".into(),
            instance_type: "e2-standard-4".into(),
            capacity: Resources::new(4, 16),
            role: NodeRole::Worker,
            internal_ip: "10.0.1.11".into(),
            index: 3,
            status,
            created: SimTime::ZERO,
            boots_at: SimTime::ZERO,
            group: None,
        }
    }

    #[test]
    fn an_instance_reports_its_provider_id_zone_region_and_type() {
        let mut c = Cloud::new();
        c.adopt(vm("worker-1", VmStatus::Running));
        let CloudResponse::Instance(Some(m)) = c.handle(
            SimTime::ZERO,
            &CloudRequest::InstanceMetadata {
                node: "worker-1".into(),
            },
        ) else {
            panic!("worker-1 exists")
        };
        assert_eq!(m.provider_id, "kubesim://zone-a/worker-1");
        assert_eq!(m.region, REGION);
        assert_eq!(m.instance_type, "e2-standard-4");
        assert!(!m.shutdown);
    }

    #[test]
    fn a_missing_or_booting_vm_is_not_found() {
        let mut c = Cloud::new();
        c.adopt(vm("worker-1", VmStatus::Provisioning));
        for node in ["worker-1", "worker-9"] {
            assert_eq!(
                c.handle(
                    SimTime::ZERO,
                    &CloudRequest::InstanceMetadata { node: node.into() }
                ),
                CloudResponse::Instance(None)
            );
        }
    }

    #[test]
    fn a_stopped_vm_reports_shutdown() {
        let mut c = Cloud::new();
        c.adopt(vm("worker-1", VmStatus::Stopped));
        let CloudResponse::Instances(v) = c.handle(SimTime::ZERO, &CloudRequest::ListInstances)
        else {
            panic!()
        };
        assert!(v[0].shutdown);
    }

    #[test]
    fn load_balancers_get_distinct_ips_from_the_documentation_range_and_keep_them() {
        let mut c = Cloud::new();
        let ensure = |name: &str| CloudRequest::EnsureLoadBalancer {
            name: name.into(),
            service: format!("default/{name}"),
            ports: vec!["TCP:80".into()],
            nodes: vec![],
        };
        let a = c.handle(SimTime::ZERO, &ensure("a"));
        let b = c.handle(SimTime::ZERO, &ensure("b"));
        assert_eq!(
            a,
            CloudResponse::LoadBalancer {
                ip: "203.0.113.1".into()
            }
        );
        assert_eq!(
            b,
            CloudResponse::LoadBalancer {
                ip: "203.0.113.2".into()
            }
        );
        assert_eq!(c.handle(SimTime::ZERO, &ensure("a")), a);
        c.handle(
            SimTime::ZERO,
            &CloudRequest::EnsureLoadBalancerDeleted { name: "a".into() },
        );
        assert_eq!(c.load_balancers().count(), 1);
        // The released IP is handed out again.
        assert_eq!(c.handle(SimTime::ZERO, &ensure("c")), a);
    }

    #[test]
    fn a_route_needs_its_target_vm() {
        let mut c = Cloud::new();
        let create = CloudRequest::CreateRoute {
            node: "worker-1".into(),
            destination: "10.244.3.0/24".into(),
        };
        assert!(matches!(
            c.handle(SimTime::ZERO, &create),
            CloudResponse::Error(_)
        ));
        c.adopt(vm("worker-1", VmStatus::Running));
        assert_eq!(c.handle(SimTime::ZERO, &create), CloudResponse::Done);
        assert_eq!(
            c.routes().next().map(|r| r.target.as_str()),
            Some("worker-1")
        );
    }

    #[test]
    fn the_catalog_knows_its_machine_types() {
        assert_eq!(instance_type("e2-standard-4"), Some(Resources::new(4, 16)));
        assert_eq!(instance_type("m5.large"), None);
    }
}
