//! Service ClusterIPs and NodePorts: what the Service REST storage
//! allocates on create.
//!
//! In Kubernetes the Service registry (`pkg/registry/core/service/storage`,
//! `alloc.go` `allocClusterIPs`, `allocServiceNodePorts`) takes a ClusterIP
//! from the service CIDR (`--service-cluster-ip-range`, kubeadm's default
//! 10.96.0.0/12) through `pkg/registry/core/service/ipallocator` and, for
//! NodePort and LoadBalancer Services, a port from `--service-node-port-range`
//! (30000-32767) through `pkg/registry/core/service/portallocator`. An
//! explicitly requested address or port is honoured if free; a taken one
//! fails the create with 422 "provided IP is already allocated". Deleting
//! the Service releases both. An update keeps what the Service holds (a
//! manifest sent again without them keeps its address and ports),
//! releases what its new type or policy no longer needs, and allocates
//! what it newly needs: a LoadBalancer switched to `externalTrafficPolicy:
//! Local` gets its `healthCheckNodePort`, switched back loses it
//! ([`allocate_update`]).
//!
//! Here the allocators are rebuilt from the API server's watch cache of
//! Services on every create (the "bitmap" is the set of addresses live
//! Services hold, which is also what upstream's repair loops reconcile the
//! bitmap to), so a delete releases by itself. Left out: the race of two API
//! server instances allocating the same address at once (upstream serialises
//! through the bitmap in etcd or IPAddress objects), dual-stack and the
//! lower "static" band upstream prefers for requested IPs.

use crate::api::{ApiError, FieldError};
use k8s_openapi::api::core::v1 as core;
use std::collections::BTreeSet;

/// kubeadm's `serviceSubnet`: 10.96.0.0/12.
pub const SERVICE_CIDR: &str = "10.96.0.0/12";
/// `--service-node-port-range`'s default.
pub const NODE_PORT_MIN: i32 = 30000;
pub const NODE_PORT_MAX: i32 = 32767;

const BASE: u32 = 10 << 24 | 96 << 16;
const SIZE: u32 = 1 << 20;

fn parse_ipv4(s: &str) -> Option<u32> {
    let mut n: u32 = 0;
    let mut parts = 0;
    for p in s.split('.') {
        let b: u8 = p.parse().ok()?;
        n = n << 8 | u32::from(b);
        parts += 1;
    }
    (parts == 4).then_some(n)
}

fn format_ipv4(n: u32) -> String {
    format!(
        "{}.{}.{}.{}",
        n >> 24,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

/// Whether `ip` is a usable address of the service range (not the network
/// or broadcast address: `ipallocator.NewInMemory` leaves both out).
pub fn in_range(ip: &str) -> bool {
    parse_ipv4(ip).is_some_and(|n| n > BASE && n < BASE + SIZE - 1)
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What live Services hold: ClusterIPs and NodePorts.
#[derive(Clone, Debug, Default)]
pub struct Allocated {
    pub ips: BTreeSet<String>,
    pub node_ports: BTreeSet<i32>,
}

impl Allocated {
    pub fn from_services<'a>(services: impl Iterator<Item = &'a core::Service>) -> Self {
        let mut a = Allocated::default();
        for s in services {
            let Some(spec) = s.spec.as_ref() else {
                continue;
            };
            for ip in spec
                .cluster_ips
                .iter()
                .flatten()
                .chain(spec.cluster_ip.iter())
            {
                if ip != "None" && !ip.is_empty() {
                    a.ips.insert(ip.clone());
                }
            }
            for p in spec.ports.iter().flatten() {
                if let Some(np) = p.node_port.filter(|n| *n != 0) {
                    a.node_ports.insert(np);
                }
            }
            if let Some(hc) = spec.health_check_node_port.filter(|n| *n != 0) {
                a.node_ports.insert(hc);
            }
        }
        a
    }

    /// A free address (`AllocateNext`): upstream picks a random offset and
    /// scans; here the offset derives from the Service's key so a run is
    /// reproducible. The first 32 addresses stay for requested ones
    /// (kubeadm's `kubernetes` .1 and kube-dns .10).
    fn next_ip(&self, key: &str) -> Option<String> {
        let span = SIZE - 32 - 1;
        let h = (fnv(key) % u64::from(span)) as u32;
        (0..span)
            .map(|i| BASE + 32 + (h + i) % span)
            .map(format_ipv4)
            .find(|ip| !self.ips.contains(ip))
    }

    fn next_node_port(&self, key: &str) -> Option<i32> {
        let span = (NODE_PORT_MAX - NODE_PORT_MIN + 1) as u64;
        let h = fnv(key) % span;
        (0..span)
            .map(|i| NODE_PORT_MIN + ((h + i) % span) as i32)
            .find(|p| !self.node_ports.contains(p))
    }
}

/// Allocates the ClusterIP and NodePorts of a Service being created
/// (`allocClusterIPs`, `allocServiceNodePorts` in
/// `pkg/registry/core/service/storage/alloc.go`), or the 422 upstream gives.
pub fn allocate(
    service: &mut core::Service,
    allocated: &Allocated,
    kind: &crate::api::Kind,
) -> Result<(), ApiError> {
    let name = service.metadata.name.clone().unwrap_or_default();
    let key = format!(
        "{}/{name}",
        service.metadata.namespace.as_deref().unwrap_or_default()
    );
    let spec = service.spec.get_or_insert_with(Default::default);
    let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
    let invalid = |e: FieldError| ApiError::invalid(kind, &name, vec![e]);
    if ty != "ExternalName" {
        let requested = spec
            .cluster_ip
            .clone()
            .or_else(|| spec.cluster_ips.as_ref().and_then(|v| v.first().cloned()))
            .filter(|ip| !ip.is_empty());
        match requested {
            Some(ip) if ip == "None" => {
                spec.cluster_ip = Some(ip.clone());
                spec.cluster_ips = Some(vec![ip]);
            }
            Some(ip) => {
                let value = crate::api::field::BadValue::Go(format!("[]string{{{ip:?}}}"));
                if !in_range(&ip) {
                    return Err(invalid(FieldError::invalid(
                        "spec.clusterIPs",
                        value,
                        format!("failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {SERVICE_CIDR}"),
                    )));
                }
                if allocated.ips.contains(&ip) {
                    return Err(invalid(FieldError::invalid(
                        "spec.clusterIPs",
                        value,
                        format!("failed to allocate IP {ip}: provided IP is already allocated"),
                    )));
                }
                spec.cluster_ip = Some(ip.clone());
                spec.cluster_ips = Some(vec![ip]);
            }
            None => {
                let Some(ip) = allocated.next_ip(&key) else {
                    return Err(ApiError::internal(
                        "failed to allocate a serviceIP: range is full",
                    ));
                };
                spec.cluster_ip = Some(ip.clone());
                spec.cluster_ips = Some(vec![ip]);
            }
        }
    }
    let wants_node_ports = ty == "NodePort"
        || (ty == "LoadBalancer" && spec.allocate_load_balancer_node_ports != Some(false));
    if wants_node_ports {
        let mut taken = allocated.node_ports.clone();
        for (i, p) in spec.ports.iter_mut().flatten().enumerate() {
            match p.node_port.filter(|n| *n != 0) {
                Some(np) => {
                    let field = format!("spec.ports[{i}].nodePort");
                    if !(NODE_PORT_MIN..=NODE_PORT_MAX).contains(&np) {
                        return Err(invalid(FieldError::invalid(
                            field,
                            np,
                            format!("provided port is not in the valid range. The range of valid ports is {NODE_PORT_MIN}-{NODE_PORT_MAX}"),
                        )));
                    }
                    if !taken.insert(np) {
                        return Err(invalid(FieldError::invalid(
                            field,
                            np,
                            "provided port is already allocated",
                        )));
                    }
                }
                None => {
                    let pool = Allocated {
                        ips: BTreeSet::new(),
                        node_ports: taken.clone(),
                    };
                    let Some(np) = pool.next_node_port(&format!("{key}:{i}")) else {
                        return Err(ApiError::internal(
                            "failed to allocate a nodePort: range is full",
                        ));
                    };
                    taken.insert(np);
                    p.node_port = Some(np);
                }
            }
        }
    }
    // `allocHealthCheckNodePort`: a LoadBalancer Service with
    // `externalTrafficPolicy: Local` gets a port from the NodePort range
    // on which every node's kube-proxy answers how many local endpoints
    // it has (`needsHCNodePort`), for the cloud's health checks.
    let needs_hc = ty == "LoadBalancer" && spec.external_traffic_policy.as_deref() == Some("Local");
    if needs_hc {
        let mut taken = allocated.node_ports.clone();
        taken.extend(spec.ports.iter().flatten().filter_map(|p| p.node_port));
        match spec.health_check_node_port.filter(|n| *n != 0) {
            Some(hc) => {
                let field = "spec.healthCheckNodePort";
                if !(NODE_PORT_MIN..=NODE_PORT_MAX).contains(&hc) {
                    return Err(invalid(FieldError::invalid(
                        field,
                        hc,
                        format!("provided port is not in the valid range. The range of valid ports is {NODE_PORT_MIN}-{NODE_PORT_MAX}"),
                    )));
                }
                if taken.contains(&hc) {
                    return Err(invalid(FieldError::invalid(
                        field,
                        hc,
                        "provided port is already allocated",
                    )));
                }
            }
            None => {
                let pool = Allocated {
                    ips: BTreeSet::new(),
                    node_ports: taken,
                };
                let Some(hc) = pool.next_node_port(&format!("{key}:healthcheck")) else {
                    return Err(ApiError::internal(
                        "failed to allocate a nodePort: range is full",
                    ));
                };
                spec.health_check_node_port = Some(hc);
            }
        }
    }
    Ok(())
}

/// Whether a Service needs node ports (`needsNodePort`).
fn needs_node_ports(spec: &core::ServiceSpec) -> bool {
    match spec.type_.as_deref() {
        Some("NodePort") => true,
        Some("LoadBalancer") => spec.allocate_load_balancer_node_ports != Some(false),
        _ => false,
    }
}

/// Whether a Service needs a health-check node port
/// (`apiservice.NeedsHealthCheck`: a LoadBalancer with the Local policy).
fn needs_health_check(spec: &core::ServiceSpec) -> bool {
    spec.type_.as_deref() == Some("LoadBalancer")
        && spec.external_traffic_policy.as_deref() == Some("Local")
}

/// An update of a Service: what the registry keeps of the old object's
/// allocations, drops with the type that needed them, and allocates anew
/// (`pkg/registry/core/service/storage/storage.go` `patchAllocatedValues`,
/// `strategy.go` `dropTypeDependentFields`, `alloc.go` `allocateUpdate` and
/// `updateHealthCheckNodePort`). `others` is what every other Service
/// holds, so this one's old ports and address count as free for itself
/// and what it no longer uses is released.
pub fn allocate_update(
    service: &mut core::Service,
    old: &core::Service,
    others: &Allocated,
    kind: &crate::api::Kind,
) -> Result<(), ApiError> {
    let old_spec = old.spec.clone().unwrap_or_default();
    let spec = service.spec.get_or_insert_with(Default::default);
    // `patchAllocatedValues`: a client that sends the object back without
    // the values the server allocated (as `kubectl apply` of the original
    // manifest does) keeps them.
    if spec.type_.as_deref() != Some("ExternalName")
        && old_spec.type_.as_deref() != Some("ExternalName")
        && spec.cluster_ip.as_deref().unwrap_or_default().is_empty()
    {
        spec.cluster_ip = old_spec.cluster_ip.clone();
        if spec.cluster_ips.as_ref().is_none_or(|v| v.is_empty()) {
            spec.cluster_ips = old_spec.cluster_ips.clone();
        }
    }
    if needs_node_ports(&old_spec) && needs_node_ports(spec) {
        for p in spec.ports.iter_mut().flatten() {
            if p.node_port.filter(|n| *n != 0).is_none() {
                p.node_port = old_spec
                    .ports
                    .iter()
                    .flatten()
                    .find(|o| o.port == p.port && o.protocol == p.protocol)
                    .and_then(|o| o.node_port);
            }
        }
    }
    let (old_hc, new_hc) = (needs_health_check(&old_spec), needs_health_check(spec));
    if old_hc && new_hc && spec.health_check_node_port.filter(|n| *n != 0).is_none() {
        spec.health_check_node_port = old_spec.health_check_node_port;
    }
    // `dropTypeDependentFields`: what the old type needed and the new one
    // does not goes, if the client left it as it was.
    if needs_node_ports(&old_spec) && !needs_node_ports(spec) {
        for p in spec.ports.iter_mut().flatten() {
            let same = old_spec
                .ports
                .iter()
                .flatten()
                .any(|o| o.port == p.port && o.node_port == p.node_port);
            if same {
                p.node_port = None;
            }
        }
    }
    if old_hc && !new_hc && spec.health_check_node_port == old_spec.health_check_node_port {
        // `updateHealthCheckNodePort` case 2: the port is released.
        spec.health_check_node_port = None;
    }
    // Case 1 (and the node ports a new type needs): allocated as on create.
    allocate(service, others, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::KindId;

    fn svc(name: &str, ty: &str, ip: Option<&str>, node_port: Option<i32>) -> core::Service {
        core::Service {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(core::ServiceSpec {
                type_: Some(ty.into()),
                cluster_ip: ip.map(str::to_string),
                ports: Some(vec![core::ServicePort {
                    port: 80,
                    node_port,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn kind() -> &'static crate::api::Kind {
        KindId::Service.info()
    }

    #[test]
    fn a_service_gets_a_free_address_of_the_service_range() {
        let mut s = svc("web", "ClusterIP", None, None);
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        let ip = s.spec.unwrap().cluster_ip.unwrap();
        assert!(in_range(&ip), "{ip}");
        assert!(ip.starts_with("10.9") || ip.starts_with("10.10") || ip.starts_with("10.11"));
    }

    #[test]
    fn a_requested_free_address_is_honoured_and_a_taken_one_is_refused() {
        let mut s = svc("dns", "ClusterIP", Some("10.96.0.10"), None);
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        assert_eq!(
            s.spec.as_ref().unwrap().cluster_ips,
            Some(vec!["10.96.0.10".into()])
        );
        let taken = Allocated::from_services([&s].into_iter());
        let mut again = svc("dns2", "ClusterIP", Some("10.96.0.10"), None);
        let e = allocate(&mut again, &taken, kind()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Service \"dns2\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: failed to allocate IP 10.96.0.10: provided IP is already allocated"
        );
    }

    #[test]
    fn a_local_load_balancer_gets_a_health_check_node_port_of_its_own() {
        let mut s = svc("lb", "LoadBalancer", None, None);
        if let Some(spec) = s.spec.as_mut() {
            spec.external_traffic_policy = Some("Local".into());
        }
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        let spec = s.spec.as_ref().unwrap();
        let hc = spec.health_check_node_port.unwrap();
        assert!((NODE_PORT_MIN..=NODE_PORT_MAX).contains(&hc), "{hc}");
        assert_ne!(Some(hc), spec.ports.as_ref().unwrap()[0].node_port);
        let taken = Allocated::from_services([&s].into_iter());
        assert!(taken.node_ports.contains(&hc));
        // A Cluster policy, or a NodePort Service, needs none.
        let mut cluster = svc("lb2", "LoadBalancer", None, None);
        allocate(&mut cluster, &taken, kind()).unwrap();
        assert_eq!(cluster.spec.unwrap().health_check_node_port, None);
    }

    #[test]
    fn an_address_outside_the_range_is_refused() {
        let mut s = svc("x", "ClusterIP", Some("192.168.0.1"), None);
        let e = allocate(&mut s, &Allocated::default(), kind()).unwrap_err();
        assert!(e.to_string().contains("is not in the valid range"), "{e}");
    }

    #[test]
    fn a_headless_service_gets_no_address() {
        let mut s = svc("db", "ClusterIP", Some("None"), None);
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        assert_eq!(s.spec.unwrap().cluster_ips, Some(vec!["None".into()]));
    }

    #[test]
    fn node_port_services_get_a_port_between_30000_and_32767() {
        let mut s = svc("web", "NodePort", None, None);
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        let np = s.spec.as_ref().unwrap().ports.as_ref().unwrap()[0]
            .node_port
            .unwrap();
        assert!((30000..=32767).contains(&np));
        let taken = Allocated::from_services([&s].into_iter());
        let mut again = svc("web2", "NodePort", None, Some(np));
        let e = allocate(&mut again, &taken, kind()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("provided port is already allocated"),
            "{e}"
        );
        let mut out = svc("web3", "NodePort", None, Some(40000));
        assert!(allocate(&mut out, &taken, kind()).is_err());
    }

    #[test]
    fn a_cluster_ip_service_gets_no_node_port() {
        let mut s = svc("web", "ClusterIP", None, None);
        allocate(&mut s, &Allocated::default(), kind()).unwrap();
        assert_eq!(s.spec.unwrap().ports.unwrap()[0].node_port, None);
    }

    #[test]
    fn switching_a_load_balancer_to_local_allocates_a_health_check_port_and_back_releases_it() {
        let mut lb = svc("lb", "LoadBalancer", None, None);
        allocate(&mut lb, &Allocated::default(), kind()).unwrap();
        let before = lb.spec.clone().unwrap();
        assert_eq!(before.health_check_node_port, None);
        // The client sends its manifest again with the Local policy and
        // without the allocated values.
        let mut local = svc("lb", "LoadBalancer", None, None);
        if let Some(spec) = local.spec.as_mut() {
            spec.external_traffic_policy = Some("Local".into());
        }
        allocate_update(&mut local, &lb, &Allocated::default(), kind()).unwrap();
        let spec = local.spec.clone().unwrap();
        let hc = spec
            .health_check_node_port
            .expect("a health-check node port");
        assert!((NODE_PORT_MIN..=NODE_PORT_MAX).contains(&hc), "{hc}");
        // Address and node port are kept.
        assert_eq!(spec.cluster_ip, before.cluster_ip);
        assert_eq!(
            spec.ports.as_ref().unwrap()[0].node_port,
            before.ports.as_ref().unwrap()[0].node_port
        );
        assert_ne!(Some(hc), spec.ports.as_ref().unwrap()[0].node_port);
        // Back to Cluster (the object as read, policy changed): released.
        let mut cluster = local.clone();
        if let Some(spec) = cluster.spec.as_mut() {
            spec.external_traffic_policy = Some("Cluster".into());
        }
        allocate_update(&mut cluster, &local, &Allocated::default(), kind()).unwrap();
        assert_eq!(cluster.spec.as_ref().unwrap().health_check_node_port, None);
        let held = Allocated::from_services([&cluster].into_iter());
        assert!(!held.node_ports.contains(&hc));
    }

    #[test]
    fn an_update_to_a_health_check_port_another_service_holds_is_refused() {
        let mut other = svc("other", "NodePort", None, None);
        allocate(&mut other, &Allocated::default(), kind()).unwrap();
        let taken = other.spec.as_ref().unwrap().ports.as_ref().unwrap()[0]
            .node_port
            .unwrap();
        let others = Allocated::from_services([&other].into_iter());
        let mut lb = svc("lb", "LoadBalancer", None, None);
        allocate(&mut lb, &others, kind()).unwrap();
        let mut local = lb.clone();
        if let Some(spec) = local.spec.as_mut() {
            spec.external_traffic_policy = Some("Local".into());
            spec.health_check_node_port = Some(taken);
        }
        let e = allocate_update(&mut local, &lb, &others, kind()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Service \"lb\" is invalid: spec.healthCheckNodePort: Invalid value: {taken}: provided port is already allocated")
        );
    }
}
