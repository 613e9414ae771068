//! The cloud provider and the cloud-controller-manager, hosted by the
//! cluster.
//!
//! The world owns the simulated provider ([`crate::cloud::Cloud`]): every
//! machine of the topology is one of its VMs, and a VM created at runtime
//! (`sim node add`, the autoscaler, auto-repair) boots a fresh machine
//! whose kubelet registers its Node. The cloud-controller-manager runs as
//! client processes on the first control-plane nodes (leader-elected) and
//! reaches the provider's API with messages across the simulated network,
//! as it reaches the API servers. Deleting a VM takes its machine away at
//! once: its kubelet, containers and network presence are gone, and it is
//! the cloud-controller-manager that deletes the Node.

use super::clients::{ClientSlot, Factory, Running};
use super::{addr, kubelet_addr, node_ip, Cluster, Event, Msg, LOAD_BALANCER};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::server::Addr;
use crate::cloud::ccm::CloudControllerManager;
use crate::cloud::nodegroup::{Action, Member, PendingPod, SCAN_INTERVAL};
use crate::cloud::{CloudResponse, Vm, VmStatus};
use crate::kubelet::{Kubelet, Machine};
use crate::snapshot::Health;
use crate::topology::{NodeRole, NodeSpec, Resources};
use crate::world::{SimDuration, SimTime};

/// The provider API's address (and host).
pub const CLOUD: &str = "cloud-provider";
/// From a VM's creation to its kubelet starting (a GCE VM boots in about
/// 20 to 30 seconds).
pub const VM_BOOT: SimDuration = SimDuration::from_secs(20);
/// How often the cloud looks at its VMs (boots) when nothing else is due.
const CLOUD_TICK: SimDuration = SimDuration::from_secs(1);
/// The cloud-controller-manager's instances: on this many control-plane nodes.
const CCM_REPLICAS: usize = 2;

/// The address of the cloud-controller-manager instance on `node`.
pub fn ccm_addr(node: &str) -> String {
    format!("cloud-controller-manager-{node}")
}

impl Cluster {
    /// Creates the VMs of the topology's machines and the
    /// cloud-controller-manager instances (called once, by `Cluster::new`).
    pub(super) fn start_cloud(&mut self) {
        let cp = self.topology.control_plane.len();
        for (i, n) in self.topology.control_plane.iter().enumerate() {
            self.cloud
                .adopt(vm_of(n, node_ip(NodeRole::ControlPlane, i), i, None));
        }
        let pool = self.cloud.group.name.clone();
        for (i, n) in self.topology.workers.iter().enumerate() {
            self.cloud.adopt(vm_of(
                n,
                node_ip(NodeRole::Worker, i),
                cp + i,
                Some(pool.clone()),
            ));
        }
        if let Some(w) = self.topology.workers.first() {
            let g = &mut self.cloud.group;
            g.instance_type = w.instance_type.clone();
            g.cpu_millis = w.capacity.cpu_millis;
            g.memory_bytes = w.capacity.memory_bytes;
        }
        let size = self.topology.workers.len();
        self.cloud.group.min = size;
        self.cloud.group.max = size + 3;
        // One service-account token for every instance (the Deployment's pods
        // share the service account).
        let uid = self.world.rng().uuid();
        let token = self.authn.issue_service_account_token(
            self.world.rng(),
            "kube-system",
            crate::apiserver::auth::bootstrap::CLOUD_CONTROLLER_MANAGER_SA,
            &uid,
            None,
            None,
        );
        let nodes: Vec<String> = self
            .topology
            .control_plane
            .iter()
            .take(CCM_REPLICAS)
            .map(|n| n.name.clone())
            .collect();
        for node in nodes {
            let a = addr(&ccm_addr(&node));
            let identity = format!("{node}_{}", self.world.rng().uuid());
            let credential = Credential::BearerToken(token.clone());
            let make: Factory = std::rc::Rc::new(move |now| {
                crate::client::Process::new(CloudControllerManager::new(
                    identity.clone(),
                    credential.clone(),
                    now,
                ))
                .ok()
                .map(|p| Box::new(p) as Box<dyn Running>)
            });
            self.hosts.insert(a.clone(), node.clone());
            self.world
                .schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
            self.clients.insert(
                a,
                ClientSlot {
                    process: None,
                    make,
                    target: addr(LOAD_BALANCER),
                    wake: Some(SimTime::ZERO),
                    up: true,
                    runtime: None,
                    manifests: None,
                },
            );
        }
        self.hosts.insert(addr(CLOUD), CLOUD.into());
        self.world.schedule_in(CLOUD_TICK, Event::Tick(addr(CLOUD)));
    }

    /// The simulated provider.
    pub fn cloud(&self) -> &crate::cloud::Cloud {
        &self.cloud
    }

    /// The provider, to change its node group's settings.
    pub fn cloud_mut(&mut self) -> &mut crate::cloud::Cloud {
        &mut self.cloud
    }

    /// The cloud-controller-manager instances: (name, agent if running).
    pub fn cloud_controller_managers(&self) -> Vec<(String, Option<&CloudControllerManager>)> {
        self.clients
            .iter()
            .filter(|(a, _)| a.as_ref().starts_with("cloud-controller-manager-"))
            .map(|(a, s)| (a.to_string(), s.agent::<CloudControllerManager>()))
            .collect()
    }

    /// `cloud-controller-manager/leader` as a fault target.
    pub(super) fn resolve_ccm_leader(&self) -> Option<Result<Vec<Addr>, super::FaultError>> {
        Some(
            self.clients
                .iter()
                .find(|(_, c)| {
                    c.agent::<CloudControllerManager>()
                        .is_some_and(|m| m.is_leader())
                })
                .map(|(a, _)| vec![a.clone()])
                .ok_or_else(|| {
                    super::FaultError::Unsupported(
                        "cloud-controller-manager has no leader right now".into(),
                    )
                }),
        )
    }

    /// The diagram's state of the cloud-controller-manager.
    pub(super) fn ccm_view(&self) -> (bool, Health, String) {
        let instances = self.cloud_controller_managers();
        if let Some((name, Some(m))) = instances
            .iter()
            .find(|(_, m)| m.is_some_and(|m| m.is_leader()))
        {
            // `leader on control-plane-2 · 4 controllers`: the node first,
            // so a narrow chip that drops the details still says where.
            let node = name
                .strip_prefix("cloud-controller-manager-")
                .unwrap_or(name);
            let line = m.state_line();
            let (role, rest) = line.split_once(" · ").unwrap_or((line.as_str(), ""));
            let rest = if rest.is_empty() {
                String::new()
            } else {
                format!(" · {rest}")
            };
            return (true, Health::Up, format!("{role} on {node}{rest}"));
        }
        let up = instances.iter().filter(|(_, m)| m.is_some()).count();
        if up == 0 {
            (true, Health::Down, "no instance running".into())
        } else {
            (true, Health::Degraded, "electing a leader".into())
        }
    }

    /// Sends the cloud calls a cloud-controller-manager instance made.
    pub(super) fn send_cloud_calls(&mut self, who: &Addr) {
        let calls = self
            .clients
            .get_mut(who)
            .and_then(|c| c.agent_mut::<CloudControllerManager>())
            .map(|m| m.take_cloud_calls())
            .unwrap_or_default();
        for (id, request) in calls {
            self.send(
                who.clone(),
                addr(CLOUD),
                Msg::Cloud {
                    id,
                    request: Box::new(request),
                },
            );
        }
    }

    /// The VMs' power states, as the provider sees them.
    fn sync_vm_status(&mut self) {
        for vm in self.cloud.vms_mut() {
            if vm.status == VmStatus::Provisioning {
                continue;
            }
            vm.status = if self.powered_off.contains(&vm.name) {
                VmStatus::Stopped
            } else {
                VmStatus::Running
            };
        }
    }

    /// A message reaching the provider's API.
    pub(super) fn cloud_deliver(&mut self, from: Addr, msg: Msg) {
        let Msg::Cloud { id, request } = msg else {
            return;
        };
        self.sync_vm_status();
        let now = self.world.now();
        let response = self.cloud.handle(now, &request);
        self.send(
            addr(CLOUD),
            from,
            Msg::CloudReply {
                id,
                response: Box::new(response),
            },
        );
    }

    /// The provider's answer reaching a cloud-controller-manager.
    pub(super) fn cloud_answer(&mut self, to: &Addr, id: u64, response: CloudResponse) {
        let Some(m) = self
            .clients
            .get_mut(to)
            .and_then(|c| c.agent_mut::<CloudControllerManager>())
        else {
            return;
        };
        m.cloud_answer(id, response);
        self.client_tick(to);
    }

    /// The provider's own loop: VMs finishing their boot, and the node
    /// group's scan.
    pub(super) fn cloud_tick(&mut self) {
        let now = self.world.now();
        let booted: Vec<String> = self
            .cloud
            .vms()
            .filter(|vm| vm.status == VmStatus::Provisioning && vm.boots_at <= now)
            .map(|vm| vm.name.clone())
            .collect();
        for name in booted {
            self.boot_vm(&name);
        }
        if self.cloud.group.active() && self.cloud.group.next_scan <= now {
            self.cloud.group.next_scan = now + SCAN_INTERVAL;
            self.scan_node_group();
        }
        self.world.schedule_in(CLOUD_TICK, Event::Tick(addr(CLOUD)));
    }

    fn boot_vm(&mut self, name: &str) {
        let Some(vm) = self.cloud.vm_mut(name) else {
            return;
        };
        vm.status = VmStatus::Running;
        let vm = vm.clone();
        let spec = NodeSpec {
            name: vm.name.clone(),
            role: vm.role,
            zone: vm.zone.clone(),
            instance_type: vm.instance_type.clone(),
            capacity: vm.capacity,
        };
        self.topology.workers.push(spec.clone());
        let now = self.world.now();
        self.cloud
            .log(now, format!("VM {name} is running; its kubelet starts"));
        let a = addr(&kubelet_addr(name));
        let machine = Machine {
            spec,
            ip: vm.internal_ip.clone(),
            index: vm.index,
            external_cloud_provider: true,
            // `kubeadm join`: the kubelet bootstraps its client certificate.
            bootstrap_token: self.join_token(),
        };
        let make: Factory = std::rc::Rc::new(move |now| {
            crate::client::Process::new(Kubelet::new(machine.clone(), now))
                .ok()
                .map(|p| Box::new(p) as Box<dyn Running>)
        });
        self.hosts.insert(a.clone(), name.to_string());
        self.world
            .schedule_in(SimDuration::ZERO, Event::Tick(a.clone()));
        self.clients.insert(
            a,
            ClientSlot {
                process: None,
                make,
                target: addr(LOAD_BALANCER),
                wake: Some(now),
                up: true,
                runtime: Some(crate::runtime::Containerd::new(name)),
                manifests: Some(crate::kubelet::config::ManifestDir::new()),
            },
        );
        // Its kube-proxy comes with the pod kubeadm's DaemonSet (which
        // tolerates everything) runs there (`traffic.rs` `sync_proxy`).
    }

    /// Creates a worker VM; its kubelet starts once it has booted. `reuse`
    /// keeps a recreated VM's machine index and IP.
    fn create_vm(
        &mut self,
        name: &str,
        zone: &str,
        instance_type: &str,
        capacity: Resources,
        reuse: Option<(usize, String)>,
    ) {
        let now = self.world.now();
        let (index, ip) = match reuse {
            Some(r) => r,
            None => {
                let (index, worker) = self.cloud.allocate();
                (index, node_ip(NodeRole::Worker, worker))
            }
        };
        let jitter = SimDuration::from_millis(self.world.rng().between(0, 10_000));
        let group = Some(self.cloud.group.name.clone());
        self.cloud.insert(Vm {
            name: name.into(),
            zone: zone.into(),
            instance_type: instance_type.into(),
            capacity,
            role: NodeRole::Worker,
            internal_ip: ip.clone(),
            index,
            status: VmStatus::Provisioning,
            created: now,
            boots_at: now + VM_BOOT + jitter,
            group,
        });
        self.cloud.log(
            now,
            format!("VM {name} ({instance_type}, {zone}, {ip}) created; booting"),
        );
    }

    /// Takes a machine out of the world: its kubelet, containers and
    /// network presence.
    fn remove_machine(&mut self, name: &str) {
        let a = addr(&kubelet_addr(name));
        self.clients.remove(&a);
        self.hosts.remove(&a);
        self.crashed.remove(&a);
        self.powered_off.remove(name);
        self.network.repair_host(name);
        self.held.retain(|(f, t, _)| f != &a && t != &a);
        self.topology.workers.retain(|n| n.name != name);
        self.agent_gone(&addr(&crate::konnectivity::agent_addr(name)));
        // The node's kube-proxy, its CoreDNS replicas' processes and its
        // kernel's rules go with the machine.
        let proxy = addr(&super::traffic::kube_proxy_addr(name));
        let dns: Vec<Addr> = self
            .net
            .dns_pods
            .iter()
            .filter(|(_, (node, _, _))| node == name)
            .map(|(a, _)| a.clone())
            .collect();
        for a in dns.iter().chain([&proxy]) {
            self.clients.remove(a);
            self.hosts.remove(a);
            self.crashed.remove(a);
            self.net.dns_pods.remove(a);
        }
        self.net.proxy_containers.remove(name);
        self.net.rules.remove(name);
        self.net.recent.remove(name);
    }

    /// Deletes a worker's VM (`sim cloud delete-vm`, `sim node remove`,
    /// `sim fault <node> delete-vm`).
    pub fn delete_vm(&mut self, name: &str) -> Result<String, String> {
        let name = name.strip_prefix("vm/").unwrap_or(name);
        match self.cloud.vm(name) {
            None => Err(format!(
                "error: no VM named {name:?} (try `sim cloud vms`)"
            )),
            Some(vm) if vm.role == NodeRole::ControlPlane => Err(format!(
                "error: {name} is a control-plane VM (it holds an etcd member): delete a worker's VM"
            )),
            Some(_) => {
                self.cloud.remove(name);
                self.remove_machine(name);
                let now = self.world.now();
                self.cloud.log(now, format!("VM {name} deleted"));
                Ok(format!(
                    "VM {name} deleted: its node stops; the cloud-controller-manager deletes the Node once it is NotReady"
                ))
            }
        }
    }

    /// `sim node add [NAME] [--zone Z] [--type T]`: a new worker VM.
    pub fn add_node(
        &mut self,
        name: Option<&str>,
        zone: Option<&str>,
        instance_type: Option<&str>,
    ) -> Result<String, String> {
        let instance_type = instance_type
            .map(str::to_string)
            .unwrap_or_else(|| self.cloud.group.instance_type.clone());
        let capacity = match crate::cloud::instance_type(&instance_type) {
            Some(c) => c,
            None if instance_type == self.cloud.group.instance_type => Resources {
                cpu_millis: self.cloud.group.cpu_millis,
                memory_bytes: self.cloud.group.memory_bytes,
                pods: 110,
            },
            None => {
                let known: Vec<&str> = crate::cloud::INSTANCE_TYPES
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect();
                return Err(format!(
                    "error: unknown machine type {instance_type:?}: use one of {}",
                    known.join(", ")
                ));
            }
        };
        let zones = self.zones();
        let zone = match zone {
            Some(z) if zones.iter().any(|k| k == z) => z.to_string(),
            Some(z) => {
                return Err(format!(
                    "error: unknown zone {z:?}: use one of {}",
                    zones.join(", ")
                ))
            }
            None => self.emptiest_zone(),
        };
        let name = match name {
            Some(n) => {
                crate::topology::check_node_name(n).map_err(|e| format!("error: {e}"))?;
                n.to_string()
            }
            None => (1..)
                .map(|i| format!("worker-{i}"))
                .find(|n| {
                    self.cloud.vm(n).is_none() && !self.topology.nodes().any(|m| &m.name == n)
                })
                .unwrap_or_default(),
        };
        if self.cloud.vm(&name).is_some() || self.topology.nodes().any(|n| n.name == name) {
            return Err(format!("error: a VM named {name:?} already exists"));
        }
        self.create_vm(&name, &zone, &instance_type, capacity, None);
        Ok(format!(
            "VM {name} ({instance_type}, {zone}) created: it boots in about {}s and its kubelet registers node/{name}",
            VM_BOOT.as_millis() / 1000
        ))
    }

    /// The zones the cloud offers (the topology's).
    pub fn zones(&self) -> Vec<String> {
        let mut z: Vec<String> = crate::topology::DEFAULT_ZONES
            .iter()
            .map(|z| z.to_string())
            .collect();
        for vm in self.cloud.vms() {
            if !z.contains(&vm.zone) {
                z.push(vm.zone.clone());
            }
        }
        z
    }

    /// The zone with the fewest node-group VMs (the autoscaler's zone
    /// balancing).
    fn emptiest_zone(&self) -> String {
        let zones = self.zones();
        zones
            .iter()
            .min_by_key(|z| {
                self.cloud
                    .vms()
                    .filter(|vm| &vm.zone == *z && vm.role == NodeRole::Worker)
                    .count()
            })
            .cloned()
            .unwrap_or_default()
    }

    /// Auto-repair and the autoscaler, over the provider's view of the API.
    fn scan_node_group(&mut self) {
        let now = self.world.now();
        let pool = self.cloud.group.name.clone();
        let pods = self.observe_all(KindId::Pod);
        let members: Vec<Member> = self
            .cloud
            .vms()
            .filter(|vm| vm.group.as_deref() == Some(pool.as_str()))
            .map(|vm| {
                let node = self.observe(&crate::apiserver::registry::key(
                    KindId::Node,
                    None,
                    &vm.name,
                ));
                Member {
                    name: vm.name.clone(),
                    ready: node.map(|n| crate::cloud::ccm::ready_status(&n)),
                    provisioning: vm.status == VmStatus::Provisioning,
                    created: vm.created,
                    workload_pods: pods.iter().filter(|p| is_workload_on(p, &vm.name)).count(),
                }
            })
            .collect();
        let pending: Vec<PendingPod> = pods.iter().filter_map(|p| unschedulable(p)).collect();
        let actions = self.cloud.group.scan(now, &members, &pending);
        for a in actions {
            match a {
                Action::Repair { node, reason } => {
                    self.cloud
                        .log(now, format!("auto-repair: recreating VM {node} ({reason})"));
                    if let Some(vm) = self.cloud.remove(&node) {
                        self.remove_machine(&node);
                        self.create_vm(
                            &vm.name,
                            &vm.zone,
                            &vm.instance_type,
                            vm.capacity,
                            Some((vm.index, vm.internal_ip.clone())),
                        );
                    }
                }
                Action::ScaleUp { count, reason } => {
                    let before = members.len();
                    self.cloud.log(
                        now,
                        format!(
                            "cluster-autoscaler: scale-up {pool} {before}->{} (max {}): {reason}",
                            before + count,
                            self.cloud.group.max
                        ),
                    );
                    for _ in 0..count {
                        let name = loop {
                            let n = format!("{pool}-{}", self.world.rng().k8s_suffix(4));
                            if self.cloud.vm(&n).is_none() {
                                break n;
                            }
                        };
                        let zone = self.emptiest_zone();
                        let g = &self.cloud.group;
                        let (t, c) = (
                            g.instance_type.clone(),
                            Resources {
                                cpu_millis: g.cpu_millis,
                                memory_bytes: g.memory_bytes,
                                pods: 110,
                            },
                        );
                        self.create_vm(&name, &zone, &t, c, None);
                    }
                }
                Action::ScaleDown { node, reason } => {
                    self.cloud.log(
                        now,
                        format!("cluster-autoscaler: scale-down: removing {node} ({reason})"),
                    );
                    let _ = self.delete_vm(&node);
                }
            }
        }
    }
}

fn vm_of(n: &NodeSpec, ip: String, index: usize, group: Option<String>) -> Vm {
    Vm {
        name: n.name.clone(),
        zone: n.zone.clone(),
        instance_type: n.instance_type.clone(),
        capacity: n.capacity,
        role: n.role,
        internal_ip: ip,
        index,
        status: VmStatus::Running,
        created: SimTime::ZERO,
        boots_at: SimTime::ZERO,
        group,
    }
}

/// Whether a pod counts against emptiness on `node`: bound there, not
/// finished, and neither a DaemonSet's nor a mirror pod.
fn is_workload_on(p: &Object, node: &str) -> bool {
    let Object::Pod(pod) = p else {
        return false;
    };
    let on = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    let done = matches!(phase, Some("Succeeded" | "Failed"));
    let daemon = p.controller_ref().is_some_and(|o| o.kind == "DaemonSet");
    let mirror = p.annotations().contains_key("kubernetes.io/config.mirror");
    on && !done && !daemon && !mirror
}

/// A pod the scheduler marked unschedulable, with its requests.
fn unschedulable(p: &Object) -> Option<PendingPod> {
    let Object::Pod(pod) = p else {
        return None;
    };
    if pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_ref())
        .is_some()
        || p.deletion_timestamp().is_some()
    {
        return None;
    }
    let marked = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter().any(|c| {
                c.type_ == "PodScheduled"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
            })
        });
    if !marked {
        return None;
    }
    let (cpu, mem) = crate::kubelet::pods::requests(pod);
    Some(PendingPod {
        key: p.key(),
        cpu_millis: cpu.max(0) as u64,
        memory_bytes: mem.max(0) as u64,
    })
}
