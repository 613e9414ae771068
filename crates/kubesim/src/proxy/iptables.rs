//! A node's service rules as kube-proxy's iptables mode writes them.
//!
//! `syncProxyRules` (`pkg/proxy/iptables/proxier.go`) turns every Service
//! port with a ClusterIP into a jump from `KUBE-SERVICES` to a per-port chain
//! `KUBE-SVC-<hash>`, which picks one of the port's ready endpoints with
//! `-m statistic --mode random --probability 1/(n-i)` rules, each jumping to
//! a `KUBE-SEP-<hash>` chain that DNATs to the endpoint. NodePorts get a rule
//! in `KUBE-NODEPORTS` (through a `KUBE-EXT-<hash>` chain that marks the
//! packet for masquerade). A Service port with no ready endpoint gets a
//! `REJECT` in the filter table, so clients see "connection refused" at once.
//!
//! [`ProxyRules`] is that rule set as data: built from the Services and
//! EndpointSlices in kube-proxy's informer caches, printed as
//! `iptables-save` prints it, and walked by the simulated packet path
//! ([`ProxyRules::route`]) with the seeded RNG standing for the kernel's
//! random match. Left out: the chain hash is FNV-64 in base32 rather than
//! upstream's SHA-256 (same shape, different letters), LoadBalancer ingress
//! IPs and firewall chains, session affinity (`-m recent`),
//! externalTrafficPolicy/internalTrafficPolicy Local, terminating endpoints'
//! fallback, and the masquerade rules' details.

use crate::api::Object;
use crate::world::{SimRng, SimTime};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The label EndpointSlices carry naming their Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// One endpoint of a Service port: a `KUBE-SEP-` chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub ip: String,
    pub port: i32,
    pub chain: String,
    /// The node the endpoint's pod runs on, from the EndpointSlice.
    pub node: Option<String>,
    /// The pod (`namespace/name`) behind the address, from its targetRef.
    pub pod: Option<String>,
}

/// One Service port: a `KUBE-SVC-` chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    /// `namespace/name:port` (`ServicePortName.String()`; no `:port` for an
    /// unnamed port).
    pub name: String,
    pub cluster_ip: String,
    pub port: i32,
    /// `tcp`, `udp` or `sctp`, as iptables spells them.
    pub protocol: String,
    pub node_port: Option<i32>,
    pub chain: String,
    pub ext_chain: String,
    /// The ready endpoints, in the order the chain tries them.
    pub endpoints: Vec<Endpoint>,
}

/// Where a packet to a Service address goes on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// DNATed to this endpoint.
    Endpoint(&'a ServicePort, &'a Endpoint),
    /// The filter table's REJECT: the port has no ready endpoint.
    Reject(&'a ServicePort),
    /// No rule matches: the packet goes out unchanged (to nowhere, for a
    /// Service address).
    NoRule,
}

/// A node's rules, as kube-proxy last wrote them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyRules {
    pub node: String,
    pub ports: Vec<ServicePort>,
    /// When kube-proxy last wrote them (`iptables-restore`).
    pub synced_at: Option<SimTime>,
}

/// `portProtoHash`: a 16-character base32 digest (upstream hashes with
/// SHA-256; FNV-64 twice gives the same shape).
fn chain_hash(s: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in s.bytes() {
        h1 ^= u64::from(b);
        h1 = h1.wrapping_mul(0x0100_0000_01b3);
        h2 = (h2 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x5bd1e995);
    }
    let bits = [h1, h2];
    (0..16)
        .map(|i| {
            let word = bits[i / 12];
            ALPHABET[((word >> ((i % 12) * 5)) & 31) as usize] as char
        })
        .collect()
}

/// `computeProbability`: `%0.10f` of 1/n.
fn probability(n: usize) -> String {
    format!("{:.10}", 1.0 / n as f64)
}

impl ProxyRules {
    /// The rules `syncProxyRules` writes for these Services and
    /// EndpointSlices (`pkg/proxy/iptables/proxier.go`).
    pub fn build(node: &str, services: &[&Object], slices: &[&Object], now: SimTime) -> Self {
        // EndpointSlices by Service (`namespace/name`).
        let mut by_service: BTreeMap<String, Vec<&EndpointSlice>> = BTreeMap::new();
        for o in slices {
            if let Object::EndpointSlice(s) = o {
                let Some(svc) = s
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(SERVICE_NAME_LABEL))
                else {
                    continue;
                };
                let ns = s.metadata.namespace.clone().unwrap_or_default();
                by_service.entry(format!("{ns}/{svc}")).or_default().push(s);
            }
        }
        let mut ports = Vec::new();
        for o in services {
            let Object::Service(svc) = o else { continue };
            ports.extend(service_ports(svc, &by_service));
        }
        ports.sort_by(|a, b| a.name.cmp(&b.name).then(a.protocol.cmp(&b.protocol)));
        ProxyRules {
            node: node.to_string(),
            ports,
            synced_at: Some(now),
        }
    }

    /// Where a packet from this node to `ip:port` goes: the nat table's
    /// `KUBE-SERVICES` (and `KUBE-NODEPORTS` for a node's own address on a
    /// NodePort), walked with the RNG standing for `-m statistic`.
    pub fn route(&self, rng: &mut SimRng, ip: &str, port: i32, protocol: &str) -> Route<'_> {
        let protocol = protocol.to_ascii_lowercase();
        let found = self
            .ports
            .iter()
            .find(|p| p.cluster_ip == ip && p.port == port && p.protocol == protocol);
        let Some(sp) = found else {
            return Route::NoRule;
        };
        self.pick(rng, sp)
    }

    /// A packet to a NodePort on any of the node's addresses.
    pub fn route_node_port(&self, rng: &mut SimRng, port: i32, protocol: &str) -> Route<'_> {
        let protocol = protocol.to_ascii_lowercase();
        match self
            .ports
            .iter()
            .find(|p| p.node_port == Some(port) && p.protocol == protocol)
        {
            Some(sp) => self.pick(rng, sp),
            None => Route::NoRule,
        }
    }

    fn pick<'a>(&'a self, rng: &mut SimRng, sp: &'a ServicePort) -> Route<'a> {
        let n = sp.endpoints.len();
        for (i, e) in sp.endpoints.iter().enumerate() {
            // The last rule has no statistic match; the others match with
            // probability 1/(n-i).
            if i + 1 == n || rng.between(1, (n - i) as u64) == 1 {
                return Route::Endpoint(sp, e);
            }
        }
        Route::Reject(sp)
    }

    /// The rules as `iptables-save` prints them (the nat and filter tables'
    /// KUBE chains).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Generated by kube-proxy (iptables mode) on {}",
            self.node
        );
        s.push_str("*filter\n");
        for c in [
            "KUBE-EXTERNAL-SERVICES",
            "KUBE-FIREWALL",
            "KUBE-FORWARD",
            "KUBE-NODEPORTS",
            "KUBE-PROXY-FIREWALL",
            "KUBE-SERVICES",
        ] {
            let _ = writeln!(s, ":{c} - [0:0]");
        }
        for p in self.ports.iter().filter(|p| p.endpoints.is_empty()) {
            let _ = writeln!(
                s,
                "-A KUBE-SERVICES -d {}/32 -p {} -m comment --comment \"{} has no endpoints\" -m {} --dport {} -j REJECT --reject-with icmp-port-unreachable",
                p.cluster_ip, p.protocol, p.name, p.protocol, p.port
            );
            if let Some(np) = p.node_port {
                let _ = writeln!(
                    s,
                    "-A KUBE-EXTERNAL-SERVICES -p {} -m comment --comment \"{} has no endpoints\" -m addrtype --dst-type LOCAL -m {} --dport {np} -j REJECT --reject-with icmp-port-unreachable",
                    p.protocol, p.name, p.protocol
                );
            }
        }
        s.push_str("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        s.push_str("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n");
        s.push_str("COMMIT\n*nat\n");
        let mut chains: BTreeSet<String> = [
            "KUBE-MARK-MASQ",
            "KUBE-NODEPORTS",
            "KUBE-POSTROUTING",
            "KUBE-SERVICES",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        for p in self.ports.iter().filter(|p| !p.endpoints.is_empty()) {
            chains.insert(p.chain.clone());
            if p.node_port.is_some() {
                chains.insert(p.ext_chain.clone());
            }
            for e in &p.endpoints {
                chains.insert(e.chain.clone());
            }
        }
        for c in &chains {
            let _ = writeln!(s, ":{c} - [0:0]");
        }
        let with_endpoints: Vec<&ServicePort> = self
            .ports
            .iter()
            .filter(|p| !p.endpoints.is_empty())
            .collect();
        for p in &with_endpoints {
            if let Some(np) = p.node_port {
                let _ = writeln!(
                    s,
                    "-A KUBE-NODEPORTS -p {} -m comment --comment \"{}\" -m {} --dport {np} -j {}",
                    p.protocol, p.name, p.protocol, p.ext_chain
                );
            }
        }
        for p in &with_endpoints {
            let _ = writeln!(
                s,
                "-A KUBE-SERVICES -d {}/32 -p {} -m comment --comment \"{} cluster IP\" -m {} --dport {} -j {}",
                p.cluster_ip, p.protocol, p.name, p.protocol, p.port, p.chain
            );
        }
        s.push_str("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
        s.push_str("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n");
        s.push_str("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n");
        s.push_str("-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n");
        s.push_str("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        for p in &with_endpoints {
            if p.node_port.is_some() {
                let _ = writeln!(
                    s,
                    "-A {} -m comment --comment \"masquerade traffic for {} external destinations\" -j KUBE-MARK-MASQ",
                    p.ext_chain, p.name
                );
                let _ = writeln!(s, "-A {} -j {}", p.ext_chain, p.chain);
            }
            let _ = writeln!(
                s,
                "-A {} ! -s 10.244.0.0/16 -d {}/32 -p {} -m comment --comment \"{} cluster IP\" -m {} --dport {} -j KUBE-MARK-MASQ",
                p.chain, p.cluster_ip, p.protocol, p.name, p.protocol, p.port
            );
            let n = p.endpoints.len();
            for (i, e) in p.endpoints.iter().enumerate() {
                if i + 1 < n {
                    let _ = writeln!(
                        s,
                        "-A {} -m comment --comment \"{} -> {}:{}\" -m statistic --mode random --probability {} -j {}",
                        p.chain, p.name, e.ip, e.port, probability(n - i), e.chain
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "-A {} -m comment --comment \"{} -> {}:{}\" -j {}",
                        p.chain, p.name, e.ip, e.port, e.chain
                    );
                }
            }
            for e in &p.endpoints {
                let _ = writeln!(
                    s,
                    "-A {} -s {}/32 -m comment --comment \"{}\" -j KUBE-MARK-MASQ",
                    e.chain, e.ip, p.name
                );
                let _ = writeln!(
                    s,
                    "-A {} -p {} -m comment --comment \"{}\" -m {} -j DNAT --to-destination {}:{}",
                    e.chain, p.protocol, p.name, p.protocol, e.ip, e.port
                );
            }
        }
        s.push_str("COMMIT\n");
        s
    }
}

/// The Service's ports kube-proxy programs, each with its ready endpoints
/// (`categorizeEndpoints` keeps the ready ones; a port of an EndpointSlice
/// matches the Service port of the same name).
fn service_ports(
    svc: &Service,
    by_service: &BTreeMap<String, Vec<&EndpointSlice>>,
) -> Vec<ServicePort> {
    let Some(spec) = svc.spec.as_ref() else {
        return Vec::new();
    };
    let ip = spec.cluster_ip.clone().unwrap_or_default();
    // Headless and ExternalName Services have no rules (`shouldSkipService`).
    if ip.is_empty() || ip == "None" || spec.type_.as_deref() == Some("ExternalName") {
        return Vec::new();
    }
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let key = format!("{ns}/{name}");
    let slices = by_service.get(&key).map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::new();
    for p in spec.ports.iter().flatten() {
        let port_name = p.name.clone().unwrap_or_default();
        let full = if port_name.is_empty() {
            key.clone()
        } else {
            format!("{key}:{port_name}")
        };
        let protocol = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
        let mut endpoints: BTreeMap<(String, i32), Endpoint> = BTreeMap::new();
        for slice in slices {
            let Some(sp) = slice
                .ports
                .iter()
                .flatten()
                .find(|sp| sp.name.clone().unwrap_or_default() == port_name)
            else {
                continue;
            };
            let Some(target) = sp.port else { continue };
            for e in slice.endpoints.iter().flatten() {
                // A nil `ready` means ready (the API's documented meaning).
                let ready = e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true);
                let Some(addr) = e.addresses.first() else {
                    continue;
                };
                if !ready {
                    continue;
                }
                let proto_upper = protocol.to_ascii_uppercase();
                endpoints.insert(
                    (addr.clone(), target),
                    Endpoint {
                        ip: addr.clone(),
                        port: target,
                        chain: format!(
                            "KUBE-SEP-{}",
                            chain_hash(&format!("{full}{proto_upper}{addr}:{target}"))
                        ),
                        node: e.node_name.clone(),
                        pod: e.target_ref.as_ref().map(|r| {
                            format!(
                                "{}/{}",
                                r.namespace.clone().unwrap_or_else(|| ns.clone()),
                                r.name.clone().unwrap_or_default()
                            )
                        }),
                    },
                );
            }
        }
        let hash = chain_hash(&format!("{full}{}", protocol.to_ascii_uppercase()));
        out.push(ServicePort {
            name: full,
            cluster_ip: ip.clone(),
            port: p.port,
            protocol,
            node_port: p.node_port.filter(|n| *n != 0),
            chain: format!("KUBE-SVC-{hash}"),
            ext_chain: format!("KUBE-EXT-{hash}"),
            endpoints: endpoints.into_values().collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(yaml: &str) -> Vec<Object> {
        crate::api::decode::decode(yaml, "test").expect("valid objects")
    }

    const WEB: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: NodePort\n  clusterIP: 10.96.100.1\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n    nodePort: 30080\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-abc\n  namespace: default\n  labels:\n    kubernetes.io/service-name: web\naddressType: IPv4\nports:\n- name: http\n  port: 8080\n  protocol: TCP\nendpoints:\n- addresses: [10.244.1.2]\n  conditions: {ready: true}\n  nodeName: worker-1\n- addresses: [10.244.2.2]\n  conditions: {ready: true}\n- addresses: [10.244.3.2]\n  conditions: {ready: false}\n";

    fn rules(yaml: &str) -> ProxyRules {
        let objs = objects(yaml);
        let svcs: Vec<&Object> = objs
            .iter()
            .filter(|o| matches!(o, Object::Service(_)))
            .collect();
        let slices: Vec<&Object> = objs
            .iter()
            .filter(|o| matches!(o, Object::EndpointSlice(_)))
            .collect();
        ProxyRules::build("worker-1", &svcs, &slices, SimTime::ZERO)
    }

    #[test]
    fn only_ready_endpoints_get_a_sep_chain_with_probabilities() {
        let r = rules(WEB);
        assert_eq!(r.ports.len(), 1);
        let p = &r.ports[0];
        assert_eq!(p.name, "default/web:http");
        assert_eq!(p.endpoints.len(), 2);
        let text = r.render();
        assert!(text.contains("-A KUBE-SERVICES -d 10.96.100.1/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-"), "{text}");
        assert!(
            text.contains("--probability 0.5000000000 -j KUBE-SEP-"),
            "{text}"
        );
        assert!(
            text.contains("-j DNAT --to-destination 10.244.2.2:8080"),
            "{text}"
        );
        assert!(!text.contains("10.244.3.2"), "{text}");
        assert!(text.contains("-A KUBE-NODEPORTS -p tcp -m comment --comment \"default/web:http\" -m tcp --dport 30080 -j KUBE-EXT-"), "{text}");
    }

    #[test]
    fn a_port_without_ready_endpoints_is_rejected() {
        let r = rules(&WEB.replace("ready: true", "ready: false"));
        let text = r.render();
        assert!(text.contains("-A KUBE-SERVICES -d 10.96.100.1/32 -p tcp -m comment --comment \"default/web:http has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable"), "{text}");
        let mut rng = SimRng::new(1);
        assert!(matches!(
            r.route(&mut rng, "10.96.100.1", 80, "TCP"),
            Route::Reject(_)
        ));
        assert_eq!(r.route(&mut rng, "10.96.100.1", 81, "TCP"), Route::NoRule);
    }

    #[test]
    fn the_random_match_reaches_every_ready_endpoint() {
        let r = rules(WEB);
        let mut rng = SimRng::new(7);
        let mut seen = BTreeSet::new();
        for _ in 0..50 {
            if let Route::Endpoint(_, e) = r.route(&mut rng, "10.96.100.1", 80, "tcp") {
                seen.insert(e.ip.clone());
            }
        }
        assert_eq!(
            seen,
            ["10.244.1.2".to_string(), "10.244.2.2".to_string()].into()
        );
        assert!(matches!(
            r.route_node_port(&mut rng, 30080, "TCP"),
            Route::Endpoint(..)
        ));
    }

    #[test]
    fn headless_services_get_no_rules() {
        let r = rules(&WEB.replace("clusterIP: 10.96.100.1", "clusterIP: None"));
        assert!(r.ports.is_empty());
    }

    #[test]
    fn chain_names_are_stable_and_distinct() {
        assert_eq!(
            chain_hash("default/web:httpTCP"),
            chain_hash("default/web:httpTCP")
        );
        assert_ne!(
            chain_hash("default/web:httpTCP"),
            chain_hash("default/web:httpUDP")
        );
        assert_eq!(chain_hash("x").len(), 16);
    }
}
