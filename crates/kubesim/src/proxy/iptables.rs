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
//! random match.
//!
//! Traffic to a `type: LoadBalancer` Service's ingress IP matches a
//! `loadbalancer IP` rule in `KUBE-SERVICES` and takes the port's
//! `KUBE-EXT-` chain, like a NodePort. `sessionAffinity: ClientIP` puts a
//! `-m recent --rcheck --seconds <timeout> --reap` rule per endpoint before
//! the random ones, and a `-m recent --set` in each `KUBE-SEP-` chain: the
//! kernel's `xt_recent` lists (one per endpoint chain, kept per node in
//! [`Recent`]) remember when each client IP last went to that endpoint.
//! The traffic policies (`syncProxyRules`' `internalPolicyChain` /
//! `externalPolicyChain`): `internalTrafficPolicy: Local` sends ClusterIP
//! traffic only to this node's endpoints (a `KUBE-SVL-` chain), and
//! `externalTrafficPolicy: Local` does the same for NodePort and
//! load-balancer traffic from outside, without masquerade so the endpoint
//! sees the client's address; traffic from the node's own pods or the node
//! itself to an external address short-circuits to the cluster-wide
//! `KUBE-SVC-` chain. With endpoints elsewhere but none here, the filter
//! table DROPs (`has no local endpoints`); with none at all it REJECTs.
//! kube-proxy's health-check server on a Local LoadBalancer Service's
//! `healthCheckNodePort` ([`ProxyRules::health_check`]) answers how many
//! local endpoints the node has, for the cloud's health checks.
//!
//! Left out: the chain hash is FNV-64 in base32 rather than upstream's
//! SHA-256 (same shape, different letters), `loadBalancerSourceRanges`
//! (`KUBE-FW-` chains), external IPs, terminating endpoints' fallback,
//! `xt_recent`'s list size limit, and the masquerade rules' details.

use crate::api::Object;
use crate::world::{SimDuration, SimRng, SimTime};
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
    /// `status.loadBalancer.ingress[].ip` of a `type: LoadBalancer` Service.
    pub load_balancer_ips: Vec<String>,
    /// `sessionAffinity: ClientIP`: how long (s) a client sticks to its
    /// endpoint (`sessionAffinityConfig.clientIP.timeoutSeconds`).
    pub affinity_seconds: Option<u32>,
    /// `internalTrafficPolicy: Local`.
    pub internal_local: bool,
    /// `externalTrafficPolicy: Local` (NodePort and LoadBalancer only).
    pub external_local: bool,
    /// `spec.healthCheckNodePort` (a Local LoadBalancer Service).
    pub health_check_node_port: Option<i32>,
    /// `namespace/name` of the Service.
    pub service: String,
    pub chain: String,
    pub ext_chain: String,
    /// `KUBE-SVL-`: the local endpoints' chain of a Local policy.
    pub local_chain: String,
    /// The ready endpoints, in the order the chain tries them.
    pub endpoints: Vec<Endpoint>,
}

impl ServicePort {
    /// Whether the port has external destinations (a NodePort or a load
    /// balancer IP) and so a `KUBE-EXT-` chain.
    pub fn has_external(&self) -> bool {
        self.node_port.is_some() || !self.load_balancer_ips.is_empty()
    }

    /// The endpoints on `node` (`categorizeEndpoints`' local ones).
    pub fn local_endpoints<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Endpoint> {
        self.endpoints
            .iter()
            .filter(move |e| e.node.as_deref() == Some(node))
    }
}

/// Where a packet comes from, as the rules tell sources apart
/// (`localDetector` for pods, `--src-type LOCAL` for the node itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A pod on this node (its address is in the pod CIDR).
    Pod,
    /// A process of the node itself (host network).
    Host,
    /// Anything arriving from outside the node: a cloud load balancer, a
    /// client on the internet, another node.
    External,
}

/// A new connection's first packet, as the nat table sees it.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'p> {
    pub src_ip: &'p str,
    pub origin: Origin,
    pub dst_ip: &'p str,
    pub dst_port: i32,
    /// `tcp`, `udp` or `sctp` (any case).
    pub protocol: &'p str,
    /// Whether `dst_ip` is one of this node's own addresses
    /// (`-m addrtype --dst-type LOCAL`, which leads to `KUBE-NODEPORTS`).
    pub to_node: bool,
}

/// The kernel's `xt_recent` lists of one node: for each endpoint chain,
/// when each source address last went through it. They belong to the
/// node, not to kube-proxy: they outlive its restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recent {
    seen: BTreeMap<(String, String), SimTime>,
}

impl Recent {
    /// `-m recent --name <list> --rcheck --seconds <s> --reap`: whether
    /// `src` is in the list and was seen at most `seconds` ago (older
    /// entries are reaped).
    fn rcheck(&mut self, list: &str, src: &str, seconds: u32, now: SimTime) -> bool {
        let key = (list.to_string(), src.to_string());
        match self.seen.get(&key) {
            Some(t) if now <= *t + SimDuration::from_secs(u64::from(seconds)) => true,
            Some(_) => {
                self.seen.remove(&key);
                false
            }
            None => false,
        }
    }

    /// `-m recent --name <list> --set --rsource`.
    fn set(&mut self, list: &str, src: &str, now: SimTime) {
        self.seen.insert((list.to_string(), src.to_string()), now);
    }

    /// The entries (`/proc/net/xt_recent/<list>`): list, source, last seen.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, SimTime)> {
        self.seen
            .iter()
            .map(|((l, s), t)| (l.as_str(), s.as_str(), *t))
    }
}

/// Where a packet to a Service address goes on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// DNATed to this endpoint.
    Endpoint(&'a ServicePort, &'a Endpoint),
    /// The filter table's REJECT: the port has no ready endpoint.
    Reject(&'a ServicePort),
    /// The filter table's DROP: the traffic policy is Local and this node
    /// has none of the port's endpoints (`has no local endpoints`).
    Drop(&'a ServicePort),
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

/// A policy chain (`KUBE-SVC-` or `KUBE-SVL-`) picking one of
/// `endpoints`: first the `-m recent --rcheck` rules of session affinity,
/// in endpoint order; then the `-m statistic` ones, the last without a
/// match, each with probability 1/(n-i). The chosen `KUBE-SEP-` chain's
/// `-m recent --set` records the client.
fn pick<'a>(
    rng: &mut SimRng,
    recent: &mut Recent,
    now: SimTime,
    src: &str,
    sp: &'a ServicePort,
    endpoints: &[&'a Endpoint],
) -> Route<'a> {
    if let Some(seconds) = sp.affinity_seconds {
        if let Some(e) = endpoints
            .iter()
            .find(|e| recent.rcheck(&e.chain, src, seconds, now))
        {
            recent.set(&e.chain, src, now);
            return Route::Endpoint(sp, e);
        }
    }
    let n = endpoints.len();
    for (i, e) in endpoints.iter().enumerate() {
        if i + 1 == n || rng.between(1, (n - i) as u64) == 1 {
            if sp.affinity_seconds.is_some() {
                recent.set(&e.chain, src, now);
            }
            return Route::Endpoint(sp, e);
        }
    }
    Route::Reject(sp)
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

    /// Where a new connection goes (the nat table's `KUBE-SERVICES`:
    /// cluster IPs, load-balancer IPs, then `KUBE-NODEPORTS` for one of
    /// the node's own addresses), walked with the RNG standing for
    /// `-m statistic` and `recent` for `-m recent`.
    pub fn route_packet(
        &self,
        rng: &mut SimRng,
        recent: &mut Recent,
        now: SimTime,
        pkt: &Packet<'_>,
    ) -> Route<'_> {
        let protocol = pkt.protocol.to_ascii_lowercase();
        let same = |p: &&ServicePort| p.protocol == protocol;
        if let Some(sp) = self
            .ports
            .iter()
            .filter(same)
            .find(|p| p.cluster_ip == pkt.dst_ip && p.port == pkt.dst_port)
        {
            return self.internal(rng, recent, now, pkt, sp);
        }
        if let Some(sp) = self.ports.iter().filter(same).find(|p| {
            p.port == pkt.dst_port && p.load_balancer_ips.iter().any(|ip| ip == pkt.dst_ip)
        }) {
            return self.external(rng, recent, now, pkt, sp);
        }
        if pkt.to_node {
            if let Some(sp) = self
                .ports
                .iter()
                .filter(same)
                .find(|p| p.node_port == Some(pkt.dst_port))
            {
                return self.external(rng, recent, now, pkt, sp);
            }
        }
        Route::NoRule
    }

    /// The ClusterIP rule's target: `internalPolicyChain`.
    fn internal<'a>(
        &'a self,
        rng: &mut SimRng,
        recent: &mut Recent,
        now: SimTime,
        pkt: &Packet<'_>,
        sp: &'a ServicePort,
    ) -> Route<'a> {
        if sp.endpoints.is_empty() {
            return Route::Reject(sp);
        }
        let endpoints: Vec<&Endpoint> = if sp.internal_local {
            sp.local_endpoints(&self.node).collect()
        } else {
            sp.endpoints.iter().collect()
        };
        if endpoints.is_empty() {
            return Route::Drop(sp);
        }
        pick(rng, recent, now, pkt.src_ip, sp, &endpoints)
    }

    /// A NodePort or load-balancer IP's `KUBE-EXT-` chain: pods and the
    /// node itself go to the cluster-wide chain; others follow
    /// `externalPolicyChain`.
    fn external<'a>(
        &'a self,
        rng: &mut SimRng,
        recent: &mut Recent,
        now: SimTime,
        pkt: &Packet<'_>,
        sp: &'a ServicePort,
    ) -> Route<'a> {
        if sp.endpoints.is_empty() {
            return Route::Reject(sp);
        }
        let endpoints: Vec<&Endpoint> = if sp.external_local && pkt.origin == Origin::External {
            sp.local_endpoints(&self.node).collect()
        } else {
            sp.endpoints.iter().collect()
        };
        if endpoints.is_empty() {
            return Route::Drop(sp);
        }
        pick(rng, recent, now, pkt.src_ip, sp, &endpoints)
    }

    /// kube-proxy's health-check server on a `healthCheckNodePort`
    /// (`pkg/proxy/healthcheck/service_health.go` `hcHandler.ServeHTTP`):
    /// 200 while the node has a local ready endpoint of the Service and
    /// kube-proxy is healthy, else 503; the body counts them. `None`: no
    /// Service has this health-check port.
    pub fn health_check(&self, port: i32, proxy_healthy: bool) -> Option<(u16, String)> {
        let sp = self
            .ports
            .iter()
            .find(|p| p.health_check_node_port == Some(port))?;
        // `LocalReadyEndpoints`: distinct local endpoints over the
        // Service's ports.
        let local: BTreeSet<(String, i32)> = self
            .ports
            .iter()
            .filter(|p| p.service == sp.service)
            .flat_map(|p| p.local_endpoints(&self.node))
            .map(|e| (e.ip.clone(), e.port))
            .collect();
        let (ns, name) = sp.service.split_once('/').unwrap_or(("", &sp.service));
        let body = format!(
            "{{\n\t\"service\": {{\n\t\t\"namespace\": {ns:?},\n\t\t\"name\": {name:?}\n\t}},\n\t\"localEndpoints\": {},\n\t\"serviceProxyHealthy\": {proxy_healthy}\n}}",
            local.len()
        );
        let status = if !local.is_empty() && proxy_healthy {
            200
        } else {
            503
        };
        Some((status, body))
    }

    /// The rules as `iptables-save` prints them (the nat and filter tables'
    /// KUBE chains), in `syncProxyRules`' order.
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
        for p in &self.ports {
            let local = p.local_endpoints(&self.node).count();
            let none = format!("{} has no endpoints", p.name);
            let no_local = format!("{} has no local endpoints", p.name);
            // internalTrafficFilterTarget / externalTrafficFilterTarget.
            let internal = if p.endpoints.is_empty() {
                Some(("REJECT --reject-with icmp-port-unreachable", &none))
            } else if p.internal_local && local == 0 {
                Some(("DROP", &no_local))
            } else {
                None
            };
            let external = if p.endpoints.is_empty() {
                Some(("REJECT --reject-with icmp-port-unreachable", &none))
            } else if p.external_local && local == 0 {
                Some(("DROP", &no_local))
            } else {
                None
            };
            if let Some((target, comment)) = internal {
                let _ = writeln!(
                    s,
                    "-A KUBE-SERVICES -d {}/32 -p {} -m comment --comment \"{comment}\" -m {} --dport {} -j {target}",
                    p.cluster_ip, p.protocol, p.protocol, p.port
                );
            }
            if let Some((target, comment)) = external {
                for ip in &p.load_balancer_ips {
                    let _ = writeln!(
                        s,
                        "-A KUBE-EXTERNAL-SERVICES -d {ip}/32 -p {} -m comment --comment \"{comment}\" -m {} --dport {} -j {target}",
                        p.protocol, p.protocol, p.port
                    );
                }
                if let Some(np) = p.node_port {
                    let _ = writeln!(
                        s,
                        "-A KUBE-EXTERNAL-SERVICES -p {} -m comment --comment \"{comment}\" -m addrtype --dst-type LOCAL -m {} --dport {np} -j {target}",
                        p.protocol, p.protocol
                    );
                }
            }
        }
        s.push_str("-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n");
        s.push_str("-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n");
        for p in &self.ports {
            if let Some(hc) = p.health_check_node_port {
                let _ = writeln!(
                    s,
                    "-A KUBE-NODEPORTS -m comment --comment \"{} health check node port\" -m tcp -p tcp --dport {hc} -j ACCEPT",
                    p.service
                );
            }
        }
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
        let with_endpoints: Vec<&ServicePort> = self
            .ports
            .iter()
            .filter(|p| !p.endpoints.is_empty())
            .collect();
        for p in &with_endpoints {
            let chosen = self.chains_of(p);
            chains.extend(chosen.iter().map(|c| c.to_string()));
            for e in &p.endpoints {
                chains.insert(e.chain.clone());
            }
        }
        for c in &chains {
            let _ = writeln!(s, ":{c} - [0:0]");
        }
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
            let local = p.local_endpoints(&self.node).count();
            if !p.internal_local || local > 0 {
                let _ = writeln!(
                    s,
                    "-A KUBE-SERVICES -d {}/32 -p {} -m comment --comment \"{} cluster IP\" -m {} --dport {} -j {}",
                    p.cluster_ip,
                    p.protocol,
                    p.name,
                    p.protocol,
                    p.port,
                    if p.internal_local { &p.local_chain } else { &p.chain }
                );
            }
            for ip in &p.load_balancer_ips {
                let _ = writeln!(
                    s,
                    "-A KUBE-SERVICES -d {ip}/32 -p {} -m comment --comment \"{} loadbalancer IP\" -m {} --dport {} -j {}",
                    p.protocol, p.name, p.protocol, p.port, p.ext_chain
                );
            }
        }
        s.push_str("-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n");
        s.push_str("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n");
        s.push_str("-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n");
        s.push_str("-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n");
        s.push_str("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n");
        for p in &with_endpoints {
            let local: Vec<&Endpoint> = p.local_endpoints(&self.node).collect();
            if p.has_external() {
                let ext = &p.ext_chain;
                if !p.external_local {
                    let _ = writeln!(
                        s,
                        "-A {ext} -m comment --comment \"masquerade traffic for {} external destinations\" -j KUBE-MARK-MASQ",
                        p.name
                    );
                } else {
                    let _ = writeln!(
                        s,
                        "-A {ext} -s {POD_CIDR} -m comment --comment \"pod traffic for {} external destinations\" -j {}",
                        p.name, p.chain
                    );
                    let _ = writeln!(
                        s,
                        "-A {ext} -m comment --comment \"masquerade LOCAL traffic for {} external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
                        p.name
                    );
                    let _ = writeln!(
                        s,
                        "-A {ext} -m comment --comment \"route LOCAL traffic for {} external destinations\" -m addrtype --src-type LOCAL -j {}",
                        p.name, p.chain
                    );
                }
                if !p.external_local {
                    let _ = writeln!(s, "-A {ext} -j {}", p.chain);
                } else if !local.is_empty() {
                    let _ = writeln!(s, "-A {ext} -j {}", p.local_chain);
                }
            }
            if self.chains_of(p).contains(&p.chain.as_str()) {
                let _ = writeln!(
                    s,
                    "-A {} ! -s {POD_CIDR} -d {}/32 -p {} -m comment --comment \"{} cluster IP\" -m {} --dport {} -j KUBE-MARK-MASQ",
                    p.chain, p.cluster_ip, p.protocol, p.name, p.protocol, p.port
                );
                let all: Vec<&Endpoint> = p.endpoints.iter().collect();
                write_policy_chain(&mut s, p, &p.chain, &all);
            }
            if self.chains_of(p).contains(&p.local_chain.as_str()) {
                write_policy_chain(&mut s, p, &p.local_chain, &local);
            }
            for e in &p.endpoints {
                let _ = writeln!(
                    s,
                    "-A {} -s {}/32 -m comment --comment \"{}\" -j KUBE-MARK-MASQ",
                    e.chain, e.ip, p.name
                );
                let recent = if p.affinity_seconds.is_some() {
                    format!(
                        " -m recent --set --name {} --mask 255.255.255.255 --rsource",
                        e.chain
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    "-A {} -p {} -m comment --comment \"{}\"{recent} -m {} -j DNAT --to-destination {}:{}",
                    e.chain, p.protocol, p.name, p.protocol, e.ip, e.port
                );
            }
        }
        s.push_str("COMMIT\n");
        s
    }

    /// The chains a port with endpoints uses on this node
    /// (`usesClusterPolicyChain`: internal Cluster traffic, or any external
    /// destination, whose pod traffic short-circuits to it;
    /// `usesLocalPolicyChain`; `usesExternalTrafficChain`).
    fn chains_of<'a>(&self, p: &'a ServicePort) -> Vec<&'a str> {
        let mut out = Vec::new();
        let has_local = p.local_endpoints(&self.node).next().is_some();
        if !p.internal_local || p.has_external() {
            out.push(p.chain.as_str());
        }
        if has_local && (p.internal_local || (p.has_external() && p.external_local)) {
            out.push(p.local_chain.as_str());
        }
        if p.has_external() {
            out.push(p.ext_chain.as_str());
        }
        out
    }
}

/// The pod network's CIDR the rules tell pods by (kube-proxy's
/// `--cluster-cidr`, kubeadm's `--pod-network-cidr` default).
const POD_CIDR: &str = "10.244.0.0/16";

/// A `KUBE-SVC-` or `KUBE-SVL-` chain's rules (`writeServiceToEndpointRules`):
/// session affinity's `-m recent --rcheck` first, then the random ones.
fn write_policy_chain(s: &mut String, p: &ServicePort, chain: &str, endpoints: &[&Endpoint]) {
    if let Some(seconds) = p.affinity_seconds {
        for e in endpoints {
            let _ = writeln!(
                s,
                "-A {chain} -m comment --comment \"{} -> {}:{}\" -m recent --name {} --rcheck --seconds {seconds} --reap -j {}",
                p.name, e.ip, e.port, e.chain, e.chain
            );
        }
    }
    let n = endpoints.len();
    for (i, e) in endpoints.iter().enumerate() {
        if i + 1 < n {
            let _ = writeln!(
                s,
                "-A {chain} -m comment --comment \"{} -> {}:{}\" -m statistic --mode random --probability {} -j {}",
                p.name, e.ip, e.port, probability(n - i), e.chain
            );
        } else {
            let _ = writeln!(
                s,
                "-A {chain} -m comment --comment \"{} -> {}:{}\" -j {}",
                p.name, e.ip, e.port, e.chain
            );
        }
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
    let ty = spec.type_.as_deref().unwrap_or("ClusterIP");
    // `ServiceInfo`: the load balancer's VIPs (`ipMode: Proxy` ones are
    // left to the load balancer), the affinity timeout, the policies.
    let load_balancer_ips: Vec<String> = if ty == "LoadBalancer" {
        svc.status
            .iter()
            .filter_map(|s| s.load_balancer.as_ref())
            .flat_map(|l| l.ingress.iter().flatten())
            .filter(|i| i.ip_mode.as_deref() != Some("Proxy"))
            .filter_map(|i| i.ip.clone())
            .collect()
    } else {
        Vec::new()
    };
    let affinity_seconds = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(crate::api::defaults::DEFAULT_CLIENT_IP_AFFINITY_SECONDS as u32)
    });
    let internal_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    // `ExternalPolicyLocal`: only Services with external destinations.
    let external_local = matches!(ty, "NodePort" | "LoadBalancer")
        && spec.external_traffic_policy.as_deref() == Some("Local");
    let health_check_node_port = spec
        .health_check_node_port
        .filter(|n| *n != 0 && external_local && ty == "LoadBalancer");
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
            load_balancer_ips: load_balancer_ips.clone(),
            affinity_seconds,
            internal_local,
            external_local,
            health_check_node_port,
            service: key.clone(),
            chain: format!("KUBE-SVC-{hash}"),
            ext_chain: format!("KUBE-EXT-{hash}"),
            local_chain: format!("KUBE-SVL-{hash}"),
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

    fn from(dst: &str, port: i32, origin: Origin, to_node: bool) -> Packet<'_> {
        Packet {
            src_ip: "10.244.1.9",
            origin,
            dst_ip: dst,
            dst_port: port,
            protocol: "TCP",
            to_node,
        }
    }

    fn route<'a>(r: &'a ProxyRules, rng: &mut SimRng, ip: &str, port: i32) -> Route<'a> {
        r.route_packet(
            rng,
            &mut Recent::default(),
            SimTime::ZERO,
            &from(ip, port, Origin::Pod, false),
        )
    }

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
            route(&r, &mut rng, "10.96.100.1", 80),
            Route::Reject(_)
        ));
        assert_eq!(route(&r, &mut rng, "10.96.100.1", 81), Route::NoRule);
    }

    #[test]
    fn the_random_match_reaches_every_ready_endpoint() {
        let r = rules(WEB);
        let mut rng = SimRng::new(7);
        let mut seen = BTreeSet::new();
        for _ in 0..50 {
            if let Route::Endpoint(_, e) = route(&r, &mut rng, "10.96.100.1", 80) {
                seen.insert(e.ip.clone());
            }
        }
        assert_eq!(
            seen,
            ["10.244.1.2".to_string(), "10.244.2.2".to_string()].into()
        );
        let pkt = from("10.0.1.11", 30080, Origin::External, true);
        assert!(matches!(
            r.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &pkt),
            Route::Endpoint(..)
        ));
        // Not the node's own address: KUBE-NODEPORTS is not reached.
        let pkt = from("10.0.1.12", 30080, Origin::External, false);
        assert_eq!(
            r.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &pkt),
            Route::NoRule
        );
    }

    #[test]
    fn client_ip_affinity_holds_until_the_timeout_then_lapses() {
        let yaml = WEB.replace(
            "  type: NodePort\n",
            "  type: NodePort\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n",
        );
        let r = rules(&yaml);
        assert_eq!(r.ports[0].affinity_seconds, Some(60));
        let text = r.render();
        assert!(
            text.contains("-m recent --rcheck --seconds 60 --reap -j KUBE-SEP-")
                || text.contains("--rcheck --seconds 60 --reap"),
            "{text}"
        );
        assert!(text.contains("-m recent --set --name KUBE-SEP-"), "{text}");
        let mut rng = SimRng::new(3);
        let mut recent = Recent::default();
        let pkt = from("10.96.100.1", 80, Origin::Pod, false);
        let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        let first = match r.route_packet(&mut rng, &mut recent, at(0), &pkt) {
            Route::Endpoint(_, e) => e.ip.clone(),
            other => panic!("{other:?}"),
        };
        // Each new connection within the timeout refreshes the entry.
        for s in [30, 80, 130] {
            match r.route_packet(&mut rng, &mut recent, at(s), &pkt) {
                Route::Endpoint(_, e) => assert_eq!(e.ip, first),
                other => panic!("{other:?}"),
            }
        }
        // After 60 s of silence, the random rules choose again: both
        // endpoints come back over many clients' first connections.
        let mut seen = BTreeSet::new();
        for i in 0..40 {
            let src = format!("10.244.2.{i}");
            let pkt = Packet {
                src_ip: &src,
                ..pkt
            };
            if let Route::Endpoint(_, e) = r.route_packet(&mut rng, &mut recent, at(191 + i), &pkt)
            {
                seen.insert(e.ip.clone());
            }
        }
        assert_eq!(seen.len(), 2);
        let mut lapsed = BTreeSet::new();
        for k in 0..20 {
            let t = at(1000 + k * 61);
            if let Route::Endpoint(_, e) = r.route_packet(&mut rng, &mut recent, t, &pkt) {
                lapsed.insert(e.ip.clone());
            }
        }
        assert_eq!(
            lapsed.len(),
            2,
            "an expired entry no longer pins the client"
        );
    }

    #[test]
    fn internal_traffic_policy_local_drops_without_a_local_endpoint() {
        let yaml = WEB.replace(
            "  type: NodePort\n",
            "  type: NodePort\n  internalTrafficPolicy: Local\n",
        );
        let r = rules(&yaml);
        let mut rng = SimRng::new(5);
        for _ in 0..10 {
            match route(&r, &mut rng, "10.96.100.1", 80) {
                Route::Endpoint(_, e) => assert_eq!(e.node.as_deref(), Some("worker-1")),
                other => panic!("{other:?}"),
            }
        }
        let other = ProxyRules {
            node: "worker-2".into(),
            ..r.clone()
        };
        assert!(matches!(
            route(&other, &mut rng, "10.96.100.1", 80),
            Route::Drop(_)
        ));
        let text = other.render();
        assert!(text.contains("-A KUBE-SERVICES -d 10.96.100.1/32 -p tcp -m comment --comment \"default/web:http has no local endpoints\" -m tcp --dport 80 -j DROP"), "{text}");
        // The NodePort (external, policy Cluster) still reaches every endpoint.
        let pkt = from("10.0.1.12", 30080, Origin::External, true);
        assert!(matches!(
            other.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &pkt),
            Route::Endpoint(..)
        ));
    }

    const LB: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: default\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  healthCheckNodePort: 32000\n  clusterIP: 10.96.100.2\n  ports:\n  - port: 80\n    protocol: TCP\n    nodePort: 30081\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: 203.0.113.1\n      ipMode: VIP\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: lb-abc\n  namespace: default\n  labels:\n    kubernetes.io/service-name: lb\naddressType: IPv4\nports:\n- port: 8080\n  protocol: TCP\nendpoints:\n- addresses: [10.244.1.2]\n  nodeName: worker-1\n- addresses: [10.244.2.2]\n  nodeName: worker-2\n";

    #[test]
    fn external_traffic_policy_local_keeps_outside_traffic_on_the_node() {
        let r = rules(LB);
        let p = &r.ports[0];
        assert_eq!(p.load_balancer_ips, ["203.0.113.1"]);
        assert!(p.external_local);
        let mut rng = SimRng::new(9);
        let outside = Packet {
            src_ip: "198.51.100.10",
            ..from("203.0.113.1", 80, Origin::External, false)
        };
        for _ in 0..10 {
            match r.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &outside) {
                Route::Endpoint(_, e) => assert_eq!(e.ip, "10.244.1.2"),
                other => panic!("{other:?}"),
            }
        }
        // A node without a local endpoint drops outside traffic...
        let w3 = ProxyRules {
            node: "worker-3".into(),
            ..r.clone()
        };
        assert!(matches!(
            w3.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &outside),
            Route::Drop(_)
        ));
        // ...but its pods' traffic to the load balancer short-circuits to
        // every endpoint.
        let pod = from("203.0.113.1", 80, Origin::Pod, false);
        assert!(matches!(
            w3.route_packet(&mut rng, &mut Recent::default(), SimTime::ZERO, &pod),
            Route::Endpoint(..)
        ));
        let text = w3.render();
        assert!(text.contains("-A KUBE-EXTERNAL-SERVICES -d 203.0.113.1/32 -p tcp -m comment --comment \"default/lb has no local endpoints\" -m tcp --dport 80 -j DROP"), "{text}");
        assert!(
            text.contains("\"default/lb loadbalancer IP\" -m tcp --dport 80 -j KUBE-EXT-"),
            "{text}"
        );
        assert!(
            text.contains("\"pod traffic for default/lb external destinations\""),
            "{text}"
        );
        assert!(text.contains("-A KUBE-NODEPORTS -m comment --comment \"default/lb health check node port\" -m tcp -p tcp --dport 32000 -j ACCEPT"), "{text}");
        let w1 = r.render();
        assert!(w1.contains(":KUBE-SVL-"), "{w1}");
        // The health check answers 200 only where a local endpoint is.
        let (status, body) = r.health_check(32000, true).unwrap();
        assert_eq!(status, 200);
        assert!(body.contains("\"localEndpoints\": 1"), "{body}");
        assert_eq!(w3.health_check(32000, true).map(|h| h.0), Some(503));
        assert_eq!(r.health_check(32000, false).map(|h| h.0), Some(503));
        assert_eq!(r.health_check(31999, true), None);
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
