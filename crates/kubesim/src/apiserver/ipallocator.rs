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
//! the Service releases both.
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
}
