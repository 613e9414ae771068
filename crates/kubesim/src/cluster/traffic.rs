//! Service traffic inside the cluster: kube-proxy in its DaemonSet's pod on
//! every node, CoreDNS in its pods, and the packet path of a `curl`, `wget`
//! or `nslookup` run with `kubectl exec`. Each process lives while its
//! container runs in the node's containerd, as the real ones are the
//! containers' main processes.
//!
//! In Kubernetes a pod's request to `http://web` leaves the pod's network
//! namespace twice: first a DNS query to the nameserver of its
//! `/etc/resolv.conf` (10.96.0.10, the kube-dns Service), which the source
//! node's iptables rules DNAT to one CoreDNS pod, which answers from its
//! informer caches; then the TCP connection to the answer (a ClusterIP),
//! which the same node's rules DNAT to one ready endpoint, or reject when the
//! Service has none. The answer is whatever the endpoint's container serves.
//!
//! Here the path is computed when the exec reaches the kubelet, from the
//! components' current state: the source node's rules as its kube-proxy
//! last wrote them (kept per node as the node's kernel state, so they
//! survive kube-proxy and go stale with it), the cache of the CoreDNS
//! replica the rules pick, and the endpoint container's behaviour in its
//! node's containerd. Each hop is recorded in the trace for the page.
//!
//! The control plane's TLS servers on the control-plane nodes' addresses
//! answer for themselves. kube-apiserver (port 6443, also behind the
//! `kubernetes` Service at 10.96.0.1:443) presents a certificate from the
//! cluster CA for kubeadm's names (`kubernetes`, `kubernetes.default`,
//! `kubernetes.default.svc`, `kubernetes.default.svc.cluster.local`,
//! 10.96.0.1, the node): curl trusts it with `--cacert` set to the pod's
//! `ca.crt` (else exit 60), and the request runs through authentication
//! (`Authorization: Bearer`) and authorization like any other (see
//! `apiserver/server/podclient.rs`). etcd (port 2379) presents a
//! certificate from etcd's own CA and demands a client certificate from it
//! (kubeadm's `--client-cert-auth=true`), which only the API servers hold:
//! a pod gets exit 60, or with `-k` the TLS 1.3 alert `certificate
//! required` (exit 56). A plain `http://` request to the API server gets
//! Go's `400 Client sent an HTTP request to an HTTPS server.` Left
//! out: packet timing (the answer arrives with the exec's reply), retries of
//! a lost DNS query on another replica, conntrack, UDP and SCTP payloads
//! beyond DNS.
//!
//! From outside the cluster (the shell's `curl` on the user's machine, at
//! 198.51.100.10): a load balancer's address goes to the cloud's load
//! balancer, which forwards to a node passing its health check (the
//! Service's `healthCheckNodePort` under `externalTrafficPolicy: Local`,
//! else kube-proxy's `/healthz`), destination unchanged, where the node's
//! `loadbalancer IP` rule takes it; a node's address reaches its
//! NodePorts and kube-proxy's health-check server. The endpoint sees the
//! client's address under the Local policy and the node's otherwise
//! (masquerade). The load balancer picks a node with the RNG standing for
//! its 5-tuple hash.

use super::{addr, ClientSlot, Cluster, Running, LOAD_BALANCER};

use crate::apiserver::auth::authn::Credential;
use crate::apiserver::server::Addr;
use crate::dns::{self, Answer, CoreDns};
use crate::kubelet::server::{KubeletResponse, NetworkCall};
use crate::kubelet::Kubelet;
use crate::proxy::iptables::{Origin, Packet, ProxyRules, Recent, Route};
use crate::proxy::KubeProxy;
use crate::runtime::{ClusterRequest, HttpOutcome};
use crate::world::{SimDuration, TraceEvent};
use std::collections::BTreeMap;
use std::rc::Rc;

/// What the cluster keeps for Service networking.
#[derive(Clone, Default)]
pub(crate) struct NetState {
    /// Each node's rules as its kube-proxy last wrote them (the kernel's
    /// state: they outlive kube-proxy), with kube-proxy's generation.
    pub rules: BTreeMap<String, (u64, Rc<ProxyRules>)>,
    /// The CoreDNS processes, by address: (node, pod key, pod IP).
    pub dns_pods: BTreeMap<Addr, (String, String, String)>,
    /// The `coredns` service account's token (the pods' projected token).
    pub coredns_token: String,
    /// The `kube-proxy` service account's token, for the kube-proxy
    /// process of each node's DaemonSet pod.
    pub proxy_token: String,
    /// The kube-proxy container each node runs (its process runs while
    /// this container does), by node.
    pub proxy_containers: BTreeMap<String, String>,
    /// Each node's `xt_recent` lists (session affinity), kernel state too.
    pub recent: BTreeMap<String, Recent>,
}

/// Where a new connection's first packet went through a node's rules.
pub(crate) enum Hop {
    /// DNATed to this endpoint address (and the pod behind it).
    Dnat(String, i32),
    /// REJECTed: connection refused at once.
    Refused,
    /// DROPped (no local endpoint) or sent nowhere: the SYN times out.
    Dropped,
    /// No rule matched: the packet goes on unchanged.
    NoRule,
}

/// The address of a node's kube-proxy.
pub fn kube_proxy_addr(node: &str) -> String {
    format!("kube-proxy@{node}")
}

/// The user's machine, outside the cluster, as the trace names it.
pub const OUTSIDE: &str = "outside";
/// The user's machine's address, from the documentation range
/// TEST-NET-2 (the cloud's load balancers use TEST-NET-3).
pub const OUTSIDE_CLIENT_IP: &str = "198.51.100.10";

/// How long a connection attempt to a silent address takes to fail: the
/// kernel's SYN retries (`tcp_syn_retries` 6: 1+2+4+8+16+32+64 s), well
/// before curl's own 300 s connect timeout, so curl reports the kernel's
/// ETIMEDOUT as a failed connect (exit 7), not its own timeout (28).
const CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(127);

/// Why a name did not resolve.
enum DnsFailure {
    /// No server answered (no rule, no ready CoreDNS, a dead or unreachable one).
    Timeout,
    /// Every candidate name was NXDOMAIN (or SERVFAIL).
    NotFound,
}

/// Where a connection ended.
enum Connect {
    Answer {
        status: u16,
        body: String,
    },
    NotHttp,
    Refused,
    TimedOut,
    /// A TLS server of the control plane answered the SYN.
    Tls(TlsServer),
}

/// The control plane's TLS servers a pod may reach on a control-plane
/// node's address (kubeadm: kube-apiserver `--secure-port=6443` and etcd
/// `--listen-client-urls=https://127.0.0.1:2379,https://<node-ip>:2379`,
/// both on the host's network).
#[derive(Clone, Debug, PartialEq, Eq)]
enum TlsServer {
    /// A kube-apiserver, by its address.
    ApiServer(Addr),
    /// An etcd member, by its node.
    Etcd(String),
}

/// The names kubeadm puts in the API server's serving certificate
/// (`certs.GetAPIServerAltNames`), besides the node's name and address.
const APISERVER_SANS: [&str; 5] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    crate::apiserver::server::KUBERNETES_SERVICE_IP,
];

/// curl's complaint about a certificate its CA bundle does not vouch for.
const CURL_UNKNOWN_ISSUER: &str =
    "curl: (60) SSL certificate problem: unable to get local issuer certificate
More details here: https://curl.se/docs/sslcerts.html

curl failed to verify the legitimacy of the server and therefore could not
establish a secure connection to it. To learn more about this situation and
how to fix it, please visit the webpage mentioned above.
";

/// What a TLS client in a pod sends: its CA bundle, whether it checks the
/// server at all, and the headers that matter.
struct TlsClient<'a> {
    https: bool,
    insecure: bool,
    /// `--cacert` given: its path, and the file's content if it exists.
    ca_flag: Option<(String, Option<&'a str>)>,
    bearer: Option<String>,
    fail_on_error: bool,
}

impl<'a> TlsClient<'a> {
    fn of(url: &str, tool: &str, args: &'a [String], ca_file: &'a Option<String>) -> Self {
        let wget = tool == "wget";
        let mut headers = Vec::new();
        let mut ca_flag = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "-H" || a == "--header" {
                headers.extend(it.next().cloned());
            } else if let Some(h) = a.strip_prefix("--header=") {
                headers.push(h.to_string());
            } else if let Some(h) = a.strip_prefix("-H").filter(|h| !h.is_empty()) {
                headers.push(h.to_string());
            } else if a == "--cacert" {
                ca_flag = Some((it.next().cloned().unwrap_or_default(), ca_file.as_deref()));
            } else if let Some(path) = a.strip_prefix("--cacert=") {
                ca_flag = Some((path.to_string(), ca_file.as_deref()));
            }
        }
        let bearer = headers.iter().find_map(|h| {
            let (name, value) = h.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("authorization") {
                return None;
            }
            let value = value.trim();
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
        TlsClient {
            https: url.starts_with("https://"),
            // busybox wget does not verify certificates.
            insecure: wget
                || args
                    .iter()
                    .any(|a| a == "--insecure" || is_short_flag(a, 'k')),
            ca_flag,
            bearer,
            fail_on_error: !wget && args.iter().any(|a| a == "--fail" || is_short_flag(a, 'f')),
        }
    }

    /// The TLS handshake against a server whose certificate the cluster
    /// CA signed (`cluster_ca`: else etcd's own CA) for `names`: `None` if
    /// it goes through, else curl's error and exit code.
    fn verify(&self, host: &str, cluster_ca: bool, names: &[String]) -> Option<(String, i32)> {
        if self.insecure {
            return None;
        }
        let trusted = match &self.ca_flag {
            Some((path, None)) => {
                return Some((
                    format!("curl: (77) error setting certificate file: {path}\n"),
                    77,
                ));
            }
            Some((_, Some(pem))) => {
                cluster_ca && pem.trim() == crate::apiserver::auth::pki::ca_certificate_pem().trim()
            }
            // The image's system bundle knows no cluster's CA.
            None => false,
        };
        if !trusted {
            return Some((CURL_UNKNOWN_ISSUER.to_string(), 60));
        }
        if !names.iter().any(|n| n == host) {
            return Some((
                format!("curl: (60) SSL: no alternative certificate subject name matches target host name '{host}'\nMore details here: https://curl.se/docs/sslcerts.html\n"),
                60,
            ));
        }
        None
    }
}

/// The repository of kube-proxy's image (kubeadm's DaemonSet runs
/// `registry.k8s.io/kube-proxy:<version>`).
pub(crate) const PROXY_REPOSITORY: &str = "kube-proxy";

/// The kubeadm CoreDNS addon (`kubeadm init phase addon coredns`,
/// `cmd/kubeadm/app/phases/addons/dns/manifests.go`): its service account,
/// Corefile, the `kube-dns` Service and the `coredns` Deployment.
pub fn coredns_addon(replicas: u32) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: coredns
  namespace: kube-system
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns
  namespace: kube-system
data:
  Corefile: |
    .:53 {{
        errors
        health {{
           lameduck 5s
        }}
        ready
        kubernetes cluster.local in-addr.arpa ip6.arpa {{
           pods insecure
           fallthrough in-addr.arpa ip6.arpa
           ttl 30
        }}
        prometheus :9153
        forward . /etc/resolv.conf {{
           max_concurrent 1000
        }}
        cache 30
        loop
        reload
        loadbalance
    }}
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
    kubernetes.io/cluster-service: "true"
    kubernetes.io/name: CoreDNS
  annotations:
    prometheus.io/port: "9153"
    prometheus.io/scrape: "true"
spec:
  selector:
    k8s-app: kube-dns
  clusterIP: {ip}
  ports:
  - name: dns
    port: 53
    protocol: UDP
    targetPort: 53
  - name: dns-tcp
    port: 53
    protocol: TCP
    targetPort: 53
  - name: metrics
    port: 9153
    protocol: TCP
    targetPort: 9153
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coredns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  replicas: {replicas}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  selector:
    matchLabels:
      k8s-app: kube-dns
  template:
    metadata:
      labels:
        k8s-app: kube-dns
    spec:
      priorityClassName: system-cluster-critical
      serviceAccountName: coredns
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector:
                matchExpressions:
                - key: k8s-app
                  operator: In
                  values: ["kube-dns"]
              topologyKey: kubernetes.io/hostname
      tolerations:
      - key: CriticalAddonsOnly
        operator: Exists
      - key: node-role.kubernetes.io/control-plane
        effect: NoSchedule
      nodeSelector:
        kubernetes.io/os: linux
      dnsPolicy: Default
      containers:
      - name: coredns
        image: {image}
        imagePullPolicy: IfNotPresent
        args: ["-conf", "/etc/coredns/Corefile"]
        resources:
          limits:
            memory: 170Mi
          requests:
            cpu: 100m
            memory: 70Mi
        ports:
        - containerPort: 53
          name: dns
          protocol: UDP
        - containerPort: 53
          name: dns-tcp
          protocol: TCP
        - containerPort: 9153
          name: metrics
          protocol: TCP
        livenessProbe:
          httpGet:
            path: /health
            port: 8080
            scheme: HTTP
          initialDelaySeconds: 60
          timeoutSeconds: 5
          successThreshold: 1
          failureThreshold: 5
        readinessProbe:
          httpGet:
            path: /ready
            port: 8181
            scheme: HTTP
"#,
        ip = dns::DNS_SERVICE_IP,
        image = dns::COREDNS_IMAGE,
    )
}

impl Cluster {
    /// After a client process acted: a kube-proxy's new rules go to its
    /// node's kernel; a kubelet's node gets its kube-proxy process while a
    /// kube-proxy container runs there, a CoreDNS process for each coredns
    /// container it runs (and loses those it stopped), and its
    /// konnectivity-agent process while the agent's container runs.
    pub(crate) fn after_client(&mut self, who: &Addr) {
        let Some(slot) = self.clients.get(who) else {
            return;
        };
        if let Some(p) = slot.agent::<KubeProxy>() {
            if let Some((generation, rules)) = p.rules() {
                let node = p.node().to_string();
                let stale = self
                    .net
                    .rules
                    .get(&node)
                    .is_none_or(|(g, r)| *g != generation || r.synced_at != rules.synced_at);
                if stale {
                    let rules = rules.clone();
                    self.net.rules.insert(node, (generation, rules));
                }
            }
        } else if slot.agent::<Kubelet>().is_some() {
            self.sync_proxy(who);
            self.sync_dns_pods(who);
            self.sync_agent(who);
        }
    }

    /// The container runtime of a kubelet's node, while the kubelet runs.
    fn kubelet_runtime(&self, kubelet: &Addr) -> Option<&crate::runtime::Containerd> {
        self.clients
            .get(kubelet)
            .and_then(|s| s.agent::<Kubelet>())
            .and_then(Kubelet::runtime)
    }

    /// The kube-proxy of a kubelet's node follows its DaemonSet pod's
    /// container: it starts when a container of kube-proxy's image runs
    /// there, stops when none does (the node's rules stay in its kernel,
    /// stale), and starts afresh when the container is a new one. A process
    /// a fault stopped stays stopped until healed, in a new container too.
    fn sync_proxy(&mut self, kubelet: &Addr) {
        let Some(node) = self.hosts.get(kubelet).cloned() else {
            return;
        };
        let running = {
            let Some(rt) = self.kubelet_runtime(kubelet) else {
                return;
            };
            rt.running_ids_with_image(PROXY_REPOSITORY)
                .next()
                .map(str::to_string)
        };
        let current = self.net.proxy_containers.get(&node).cloned();
        if running == current {
            return;
        }
        let a = addr(&kube_proxy_addr(&node));
        self.clients.remove(&a);
        self.net.proxy_containers.remove(&node);
        let now = self.world.now();
        match running {
            None => {
                self.hosts.remove(&a);
                self.crashed.remove(&a);
                self.record(
                    a.to_string(),
                    a.to_string(),
                    "process",
                    "stopped with its container (the node's rules stay, stale)".into(),
                );
            }
            Some(id) => {
                let credential = Credential::BearerToken(self.net.proxy_token.clone());
                let n = node.clone();
                let make: super::clients::Factory = std::rc::Rc::new(move |_now| {
                    crate::client::Process::new(KubeProxy::new(&n, credential.clone()))
                        .ok()
                        .map(|p| Box::new(p) as Box<dyn Running>)
                });
                // A process a fault stopped stays stopped until healed.
                let up = !self.crashed.contains(&a);
                self.hosts.insert(a.clone(), node.clone());
                self.clients.insert(
                    a.clone(),
                    ClientSlot {
                        process: None,
                        make,
                        target: addr(LOAD_BALANCER),
                        wake: up.then_some(now),
                        up,
                        runtime: None,
                        manifests: None,
                    },
                );
                self.record(
                    a.to_string(),
                    a.to_string(),
                    "process",
                    format!("started in container {}", &id[..id.len().min(13)]),
                );
                self.net.proxy_containers.insert(node, id);
                if up {
                    self.world.schedule_at(now, super::Event::Tick(a));
                }
            }
        }
    }

    /// The coredns containers running on a kubelet's node, each with its
    /// CoreDNS process.
    fn sync_dns_pods(&mut self, kubelet: &Addr) {
        let Some(node) = self.hosts.get(kubelet).cloned() else {
            return;
        };
        let running: BTreeMap<Addr, (String, String)> = {
            let Some(rt) = self.kubelet_runtime(kubelet) else {
                return;
            };
            rt.running_with_image("coredns/coredns")
                .filter_map(|(namespace, name, ip)| {
                    Some((addr(name), (format!("{namespace}/{name}"), ip?.to_string())))
                })
                .collect()
        };
        let gone: Vec<Addr> = self
            .net
            .dns_pods
            .iter()
            .filter(|(a, (n, _, _))| *n == node && !running.contains_key(*a))
            .map(|(a, _)| a.clone())
            .collect();
        for a in gone {
            self.net.dns_pods.remove(&a);
            self.clients.remove(&a);
            self.hosts.remove(&a);
            self.crashed.remove(&a);
        }
        let now = self.world.now();
        for (a, (pod, ip)) in running {
            if self.net.dns_pods.contains_key(&a) || self.clients.contains_key(&a) {
                continue;
            }
            let credential = Credential::BearerToken(self.net.coredns_token.clone());
            let (p, i) = (pod.clone(), ip.clone());
            let make: super::clients::Factory = std::rc::Rc::new(move |_now| {
                crate::client::Process::new(CoreDns::new(&p, &i, credential.clone()))
                    .ok()
                    .map(|p| Box::new(p) as Box<dyn Running>)
            });
            self.net.dns_pods.insert(a.clone(), (node.clone(), pod, ip));
            self.hosts.insert(a.clone(), node.clone());
            self.clients.insert(
                a.clone(),
                ClientSlot {
                    process: None,
                    make,
                    target: addr(LOAD_BALANCER),
                    wake: Some(now),
                    up: true,
                    runtime: None,
                    manifests: None,
                },
            );
            self.world.schedule_at(now, super::Event::Tick(a));
        }
    }

    /// A node's rules as `iptables-save` prints them (`sim node proxy-rules`).
    pub fn proxy_rules(&self, node: &str) -> Result<String, String> {
        if !self.topology.nodes().any(|n| n.name == node) {
            return Err(format!(
                "error: no node named {node:?} (try `kubectl get nodes`)"
            ));
        }
        if self.powered_off.contains(node) {
            return Err(format!("error: {node} is powered off"));
        }
        match self.net.rules.get(node) {
            Some((_, r)) => {
                let mut text = r.render();
                let running = self
                    .clients
                    .get(&addr(&kube_proxy_addr(node)))
                    .is_some_and(|s| s.up && s.process.is_some());
                if let Some(at) = r.synced_at {
                    if let Some(recent) = self.net.recent.get(node) {
                        // `/proc/net/xt_recent/<list>`: session affinity's memory.
                        for (list, src, seen) in recent.entries() {
                            text.push_str(&format!(
                                "# xt_recent {list}: src={src} last_seen={seen}\n"
                            ));
                        }
                    }
                    text.push_str(&format!(
                        "# Completed: last written by kube-proxy at {at}{}\n",
                        if running {
                            ""
                        } else {
                            " (kube-proxy is not running: these rules are stale)"
                        }
                    ));
                }
                Ok(text)
            }
            None => Ok(format!(
                "# {node}: kube-proxy has not written any rules yet\n"
            )),
        }
    }

    /// The pod (`namespace/name`) whose running container is `node`'s
    /// kube-proxy, if one runs there.
    pub fn kube_proxy_pod(&self, node: &str) -> Option<String> {
        self.node_runtime(node)?
            .running_with_image(PROXY_REPOSITORY)
            .next()
            .map(|(namespace, name, _)| format!("{namespace}/{name}"))
    }

    /// A node's rules as its kernel holds them (what kube-proxy last wrote).
    pub fn kernel_rules(&self, node: &str) -> Option<&ProxyRules> {
        self.net.rules.get(node).map(|(_, r)| r.as_ref())
    }

    /// The ready CoreDNS pods' view (`namespace/name`, IP, synced), for
    /// views and tests.
    pub fn coredns_replicas(&self) -> Vec<(String, String, bool)> {
        self.net
            .dns_pods
            .iter()
            .map(|(a, (_, pod, ip))| {
                let synced = self
                    .clients
                    .get(a)
                    .and_then(|s| s.agent::<CoreDns>())
                    .is_some_and(CoreDns::is_synced);
                (pod.clone(), ip.clone(), synced)
            })
            .collect()
    }

    fn record(&mut self, from: String, to: String, kind: &'static str, summary: String) {
        let now = self.world.now();
        self.trace.record(|| TraceEvent {
            at: now,
            arrives: now,
            from: from.into(),
            to: to.into(),
            kind: kind.into(),
            summary,
            dropped: None,
        });
    }

    /// Whether `to_node` answers packets from `from_node`.
    fn reachable(&self, from_node: &str, to_node: &str) -> bool {
        !self.powered_off.contains(to_node)
            && (from_node == to_node || self.network.connected(from_node, to_node))
    }

    /// Resolves `name` from a pod on `node` in `namespace`, through the
    /// node's rules for the kube-dns Service and the picked CoreDNS's cache.
    fn resolve_name(
        &mut self,
        node: &str,
        source: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(Vec<String>, String), DnsFailure> {
        if is_ipv4(name) {
            return Ok((vec![name.to_string()], String::new()));
        }
        let rules = self.net.rules.get(node).map(|(_, r)| r.clone());
        let now = self.world.now();
        let target = match rules.as_deref() {
            Some(r) => {
                let recent = self.net.recent.entry(node.to_string()).or_default();
                let pkt = Packet {
                    src_ip: "",
                    origin: Origin::Pod,
                    dst_ip: dns::DNS_SERVICE_IP,
                    dst_port: 53,
                    protocol: "udp",
                    to_node: false,
                };
                match r.route_packet(self.world.rng(), recent, now, &pkt) {
                    Route::Endpoint(_, e) => Some((e.ip.clone(), e.node.clone())),
                    _ => None,
                }
            }
            None => None,
        };
        let Some((ip, _)) = target else {
            self.record(
                source.to_string(),
                kube_proxy_addr(node),
                "dns",
                format!(
                    "DNS A? {name} to {}: no rule leads to a CoreDNS endpoint (query times out)",
                    dns::DNS_SERVICE_IP
                ),
            );
            return Err(DnsFailure::Timeout);
        };
        let server = self
            .net
            .dns_pods
            .iter()
            .find(|(_, (_, _, i))| *i == ip)
            .map(|(a, (n, _, _))| (a.clone(), n.clone()));
        let Some((server, server_node)) = server else {
            self.record(
                source.to_string(),
                ip.clone(),
                "dns",
                format!(
                    "DNS A? {name} to {} -> {ip}:53: nothing answers (query times out)",
                    dns::DNS_SERVICE_IP
                ),
            );
            return Err(DnsFailure::Timeout);
        };
        if !self.reachable(node, &server_node) {
            self.record(
                source.to_string(),
                server.to_string(),
                "dns",
                format!(
                    "DNS A? {name} to {} -> {ip}:53: {server_node} unreachable (query times out)",
                    dns::DNS_SERVICE_IP
                ),
            );
            return Err(DnsFailure::Timeout);
        }
        let candidates = dns::search_list(name, namespace);
        let answers: Vec<(String, Answer)> = {
            let Some(agent) = self
                .clients
                .get(&server)
                .filter(|s| s.up)
                .and_then(|s| s.agent::<CoreDns>())
            else {
                self.record(
                    source.to_string(),
                    server.to_string(),
                    "dns",
                    format!("DNS A? {name} to {ip}:53: CoreDNS is not running (query times out)"),
                );
                return Err(DnsFailure::Timeout);
            };
            let mut out = Vec::new();
            for c in candidates {
                let a = agent.answer(&c);
                let found = matches!(&a, Answer::Records(r) if !r.is_empty());
                out.push((c, a));
                if found {
                    break;
                }
            }
            out
        };
        for (q, a) in &answers {
            let text = match a {
                Answer::Records(r) if !r.is_empty() => r.join(", "),
                Answer::Records(_) => "NODATA".to_string(),
                Answer::NxDomain => "NXDOMAIN".to_string(),
                Answer::ServFail => "SERVFAIL".to_string(),
            };
            self.record(
                source.to_string(),
                server.to_string(),
                "dns",
                format!("DNS A? {q} via {} -> {ip}:53: {text}", dns::DNS_SERVICE_IP),
            );
        }
        match answers.into_iter().last() {
            Some((q, Answer::Records(r))) if !r.is_empty() => Ok((r, q)),
            _ => Err(DnsFailure::NotFound),
        }
    }

    /// A new TCP connection's first packet through `node`'s rules
    /// (kube-proxy's chains as the node's kernel holds them), recorded in
    /// the trace.
    pub(crate) fn through_rules(&mut self, node: &str, source: &str, pkt: &Packet<'_>) -> Hop {
        let Some(rules) = self.net.rules.get(node).map(|(_, r)| r.clone()) else {
            return Hop::NoRule;
        };
        let now = self.world.now();
        let recent = self.net.recent.entry(node.to_string()).or_default();
        let (ip, port) = (pkt.dst_ip, pkt.dst_port);
        let what = |sp: &crate::proxy::iptables::ServicePort| {
            if sp.cluster_ip == ip {
                sp.name.clone()
            } else if sp.load_balancer_ips.iter().any(|l| l == ip) {
                format!("load balancer IP of {}", sp.name)
            } else {
                format!("NodePort of {}", sp.name)
            }
        };
        let (hop, summary) = match rules.route_packet(self.world.rng(), recent, now, pkt) {
            Route::Endpoint(sp, e) => {
                let sticky = if sp.affinity_seconds.is_some() {
                    format!(", ClientIP affinity for {}", pkt.src_ip)
                } else {
                    String::new()
                };
                (
                    Hop::Dnat(e.ip.clone(), e.port),
                    format!(
                        "TCP {ip}:{port} ({}): {} DNAT to {}:{}{sticky}",
                        what(sp),
                        e.chain,
                        e.ip,
                        e.port
                    ),
                )
            }
            Route::Reject(sp) => (
                Hop::Refused,
                format!("TCP {ip}:{port}: REJECT ({} has no endpoints)", sp.name),
            ),
            Route::Drop(sp) => (
                Hop::Dropped,
                format!(
                    "TCP {ip}:{port}: DROP ({} has no local endpoints on {node})",
                    sp.name
                ),
            ),
            Route::NoRule => return Hop::NoRule,
        };
        self.record(
            source.to_string(),
            kube_proxy_addr(node),
            "service-traffic",
            summary,
        );
        hop
    }

    /// A TCP connection from a pod on `node` to `ip:port`, through the
    /// node's rules, and an HTTP GET of `path` on it.
    fn connect(
        &mut self,
        node: &str,
        source: &str,
        source_ip: &str,
        ip: &str,
        port: i32,
        path: &str,
    ) -> Connect {
        let mut target = (ip.to_string(), port);
        // The source node's KUBE-SERVICES: cluster IPs, and load-balancer
        // IPs, which iptables mode short-circuits inside the cluster.
        let pkt = Packet {
            src_ip: source_ip,
            origin: Origin::Pod,
            dst_ip: ip,
            dst_port: port,
            protocol: "tcp",
            to_node: self.node_with_ip(ip).as_deref() == Some(node),
        };
        match self.through_rules(node, source, &pkt) {
            Hop::Dnat(eip, eport) => target = (eip, eport),
            Hop::Refused => return Connect::Refused,
            Hop::Dropped => return Connect::TimedOut,
            Hop::NoRule if crate::apiserver::ipallocator::in_range(ip) => {
                self.record(
                    source.to_string(),
                    kube_proxy_addr(node),
                    "service-traffic",
                    format!("TCP {ip}:{port}: no rule on {node} (the SYN goes nowhere)"),
                );
                return Connect::TimedOut;
            }
            Hop::NoRule => {
                // Another node's address on a NodePort: that node's
                // KUBE-NODEPORTS (a pod's address counts as pod traffic
                // there too: kube-proxy tells pods by the cluster CIDR).
                if let Some(dst) = self.node_with_ip(ip).filter(|d| d != node) {
                    if self.reachable(node, &dst) {
                        let pkt = Packet {
                            to_node: true,
                            ..pkt
                        };
                        match self.through_rules(&dst, source, &pkt) {
                            Hop::Dnat(eip, eport) => target = (eip, eport),
                            Hop::Refused => return Connect::Refused,
                            Hop::Dropped => return Connect::TimedOut,
                            Hop::NoRule => {}
                        }
                    }
                }
            }
        }
        self.last_leg(node, source, source_ip, &target.0, target.1, path)
    }

    /// The connection's last leg, from `node` (where it was DNATed, if it
    /// was) to whatever holds `tip:tport`, and an HTTP GET of `path`.
    fn last_leg(
        &mut self,
        node: &str,
        source: &str,
        source_ip: &str,
        tip: &str,
        tport: i32,
        path: &str,
    ) -> Connect {
        let (tip, tport) = (tip.to_string(), tport);
        if let Some((server, dst_node)) = self.tls_server(&tip, tport) {
            if !self.reachable(node, &dst_node) {
                self.record(
                    source.to_string(),
                    format!("node/{dst_node}"),
                    "service-traffic",
                    format!("TCP {tip}:{tport}: {dst_node} does not answer (times out)"),
                );
                return Connect::TimedOut;
            }
            return match server {
                Some(server) => Connect::Tls(server),
                None => {
                    self.record(
                        source.to_string(),
                        format!("node/{dst_node}"),
                        "service-traffic",
                        format!("TCP {tip}:{tport}: RST (the server is down)"),
                    );
                    Connect::Refused
                }
            };
        }
        // The pods holding the address, on whichever node (host-network
        // pods, such as the control plane's static pods, share the node's).
        let mut found: Option<(Addr, String, Vec<String>, String)> = None;
        for (a, slot) in &self.clients {
            let rt = slot
                .runtime
                .as_ref()
                .or_else(|| slot.agent::<Kubelet>().and_then(Kubelet::runtime));
            let Some(rt) = rt else { continue };
            let sandboxes: Vec<crate::runtime::SandboxStatus> = rt
                .list_pod_sandboxes()
                .into_iter()
                .filter(|s| {
                    s.ip.as_deref() == Some(tip.as_str())
                        && s.state == crate::runtime::SandboxState::Ready
                })
                .collect();
            if let Some(first) = sandboxes.first() {
                let dst_node = self.hosts.get(a).cloned().unwrap_or_default();
                let pod = format!("{}/{}", first.namespace, first.name);
                found = Some((
                    a.clone(),
                    dst_node,
                    sandboxes.into_iter().map(|s| s.id).collect(),
                    pod,
                ));
                break;
            }
        }
        let Some((kubelet, dst_node, sandboxes, mut pod)) = found else {
            self.record(
                source.to_string(),
                tip.clone(),
                "service-traffic",
                format!("TCP {tip}:{tport}: no pod has this address (times out)"),
            );
            return Connect::TimedOut;
        };
        if !self.reachable(node, &dst_node) {
            self.record(
                source.to_string(),
                format!("pod/{pod}"),
                "service-traffic",
                format!("TCP {tip}:{tport}: {dst_node} does not answer (times out)"),
            );
            return Connect::TimedOut;
        }
        let now = self.world.now();
        let outcome = {
            let Some(slot) = self.clients.get_mut(&kubelet) else {
                return Connect::TimedOut;
            };
            let rt = match slot.runtime.as_mut() {
                Some(r) => Some(r),
                None => slot.agent_mut::<Kubelet>().and_then(Kubelet::runtime_mut),
            };
            let Some(rt) = rt else {
                return Connect::TimedOut;
            };
            let port16 = u16::try_from(tport).unwrap_or(0);
            let mut outcome = HttpOutcome::Refused;
            'sandboxes: for sandbox in &sandboxes {
                let containers: Vec<String> = rt
                    .list_containers(Some(sandbox))
                    .into_iter()
                    .filter(|c| c.state == crate::runtime::ContainerState::Running)
                    .map(|c| c.id)
                    .collect();
                for id in containers {
                    outcome = rt.http_get(now, &id, port16, path, source_ip);
                    if outcome != HttpOutcome::Refused {
                        if let Ok(sb) = rt.pod_sandbox_status(sandbox) {
                            pod = format!("{}/{}", sb.namespace, sb.name);
                        }
                        break 'sandboxes;
                    }
                }
            }
            outcome
        };
        let (summary, result) = match outcome {
            HttpOutcome::Response { status, body } => (
                format!(
                    "GET {path} -> {tip}:{tport}: {status} ({} bytes)",
                    body.len()
                ),
                Connect::Answer { status, body },
            ),
            HttpOutcome::Refused => (
                format!("TCP {tip}:{tport}: RST (nothing listens)"),
                Connect::Refused,
            ),
            HttpOutcome::NotHttp(_) => (format!("TCP {tip}:{tport}: not HTTP"), Connect::NotHttp),
        };
        self.record(
            source.to_string(),
            format!("pod/{pod}"),
            "service-traffic",
            summary,
        );
        result
    }

    /// The control plane's TLS server at `ip:port`, with its node (`None`
    /// inside: the component is stopped, so nothing listens).
    fn tls_server(&self, ip: &str, port: i32) -> Option<(Option<TlsServer>, String)> {
        let node = self.node_with_ip(ip)?;
        if !self.topology.control_plane.iter().any(|n| n.name == node) {
            return None;
        }
        match port {
            6443 => {
                let server = self
                    .apiservers
                    .iter()
                    .find(|(a, s)| s.node() == node && s.is_up() && !self.crashed.contains(*a))
                    .map(|(a, _)| TlsServer::ApiServer(a.clone()));
                Some((server, node))
            }
            2379 => {
                let a = addr(&format!("etcd-{node}"));
                let up = self.etcd.get(&a).is_some_and(|m| m.is_up()) && !self.crashed.contains(&a);
                Some((up.then(|| TlsServer::Etcd(node.clone())), node))
            }
            _ => None,
        }
    }

    /// An HTTP(S) request from a pod that reached a TLS server of the
    /// control plane: curl's output and exit code.
    fn tls_exchange(
        &mut self,
        source: &str,
        server: &TlsServer,
        host: &str,
        path: &str,
        client: &TlsClient<'_>,
    ) -> Result<(u16, String), (String, i32)> {
        match server {
            TlsServer::ApiServer(a) => {
                let node = self
                    .apiservers
                    .get(a)
                    .map(|s| s.node().to_string())
                    .unwrap_or_default();
                if !client.https {
                    // Go's TLS server answering plain HTTP
                    // (net/http `tlsRecordHeaderLooksLikeHTTP`).
                    return Ok((
                        400,
                        "Client sent an HTTP request to an HTTPS server.\n".into(),
                    ));
                }
                let mut names: Vec<String> = APISERVER_SANS.iter().map(|n| n.to_string()).collect();
                names.push(node.clone());
                if let Some(i) = self
                    .topology
                    .control_plane
                    .iter()
                    .position(|n| n.name == node)
                {
                    names.push(super::node_ip(crate::topology::NodeRole::ControlPlane, i));
                }
                if let Some(e) = client.verify(host, true, &names) {
                    self.record(
                        source.to_string(),
                        a.to_string(),
                        "service-traffic",
                        "TLS handshake: the client does not trust the API server's certificate"
                            .into(),
                    );
                    return Err(e);
                }
                let now = self.world.now();
                let Some(server) = self.apiservers.get(a) else {
                    return Err((format!("curl: (7) Failed to connect to {host} port 443 after 0 ms: Connection refused\n"), 7));
                };
                let (status, body) =
                    server.serve_pod_request(&self.authn, now, path, client.bearer.as_deref());
                let who = if client.bearer.is_some() {
                    "with a bearer token"
                } else {
                    "anonymously"
                };
                self.record(
                    source.to_string(),
                    a.to_string(),
                    "service-traffic",
                    format!("GET {path} over TLS ({who}) -> {status}"),
                );
                Ok((status, body))
            }
            TlsServer::Etcd(node) => {
                let target = format!("etcd-{node}");
                if !client.https {
                    // etcd's TLS listener sits under cmux: a plain request
                    // fails the handshake and the connection is closed.
                    self.record(
                        source.to_string(),
                        target,
                        "service-traffic",
                        "TLS handshake failed: plain HTTP on etcd's client port".into(),
                    );
                    return Err(("curl: (52) Empty reply from server\n".into(), 52));
                }
                let mut names = vec![
                    node.clone(),
                    "localhost".to_string(),
                    "127.0.0.1".to_string(),
                ];
                if let Some(i) = self
                    .topology
                    .control_plane
                    .iter()
                    .position(|n| &n.name == node)
                {
                    names.push(super::node_ip(crate::topology::NodeRole::ControlPlane, i));
                }
                // etcd's serving certificate is from etcd's own CA
                // (`/etc/kubernetes/pki/etcd/ca.crt`), which no pod has.
                if let Some(e) = client.verify(host, false, &names) {
                    self.record(
                        source.to_string(),
                        target,
                        "service-traffic",
                        "TLS handshake: the client does not trust etcd's certificate".into(),
                    );
                    return Err(e);
                }
                // `--client-cert-auth=true`: etcd asks for a client
                // certificate from etcd's CA (only the API servers'
                // `apiserver-etcd-client` has one); a client without one
                // gets TLS 1.3's `certificate_required` alert.
                self.record(
                    source.to_string(),
                    target,
                    "service-traffic",
                    "TLS handshake: no client certificate, etcd sends alert certificate_required"
                        .into(),
                );
                Err(("curl: (56) OpenSSL SSL_read: OpenSSL/3.3.2: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0\n".into(), 56))
            }
        }
    }

    /// The node whose InternalIP is `ip`.
    fn node_with_ip(&self, ip: &str) -> Option<String> {
        let cp = self
            .topology
            .control_plane
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.name.clone(),
                    super::node_ip(crate::topology::NodeRole::ControlPlane, i),
                )
            });
        let workers = self.topology.workers.iter().enumerate().map(|(i, n)| {
            (
                n.name.clone(),
                super::node_ip(crate::topology::NodeRole::Worker, i),
            )
        });
        cp.chain(workers).find(|(_, a)| a == ip).map(|(n, _)| n)
    }

    /// Answers an exec's network command (`curl`, `wget`, `nslookup`,
    /// `ping`) from a pod on `node`.
    pub(crate) fn network_exec(&mut self, node: &str, call: NetworkCall) -> KubeletResponse {
        let source = format!("pod/{}/{}", call.namespace, call.pod);
        match &call.request {
            ClusterRequest::Dns { name } => {
                let server = format!(
                    "Server:\t\t{}\nAddress:\t{}:53\n\n",
                    dns::DNS_SERVICE_IP,
                    dns::DNS_SERVICE_IP
                );
                match self.resolve_name(node, &source, &call.namespace, name) {
                    Ok((ips, fqdn)) => {
                        let mut out = call.stdout.clone();
                        out.push_str(&server);
                        for ip in ips {
                            out.push_str(&format!(
                                "Name:\t{}\nAddress: {ip}\n",
                                if fqdn.is_empty() { name } else { &fqdn }
                            ));
                        }
                        out.push('\n');
                        KubeletResponse::Exec {
                            stdout: out,
                            stderr: String::new(),
                            exit_code: 0,
                        }
                    }
                    Err(DnsFailure::NotFound) => KubeletResponse::Exec {
                        stdout: format!("{}{server}", call.stdout),
                        stderr: format!("** server can't find {name}: NXDOMAIN\n"),
                        exit_code: 1,
                    },
                    Err(DnsFailure::Timeout) => KubeletResponse::Exec {
                        stdout: format!(
                            "{};; connection timed out; no servers could be reached\n\n",
                            call.stdout
                        ),
                        stderr: String::new(),
                        exit_code: 1,
                    },
                }
            }
            ClusterRequest::Ping { host } => {
                match self.resolve_name(node, &source, &call.namespace, host) {
                    Ok((ips, _)) => {
                        let ip = ips.first().cloned().unwrap_or_default();
                        // A ClusterIP is only a rule for TCP/UDP/SCTP ports: ICMP
                        // to it is never answered in iptables mode.
                        KubeletResponse::Exec {
                        stdout: format!("{}PING {host} ({ip}): 56 data bytes\n\n--- {host} ping statistics ---\n4 packets transmitted, 0 packets received, 100% packet loss\n", call.stdout),
                        stderr: String::new(),
                        exit_code: 1,
                    }
                    }
                    Err(_) => KubeletResponse::Exec {
                        stdout: call.stdout.clone(),
                        stderr: format!("ping: bad address '{host}'\n"),
                        exit_code: 1,
                    },
                }
            }
            ClusterRequest::Http {
                url,
                tool,
                args,
                ca_file,
            } => {
                let wget = tool == "wget";
                let u = parse_url(url);
                let silent = !wget
                    && args
                        .iter()
                        .any(|a| is_short_flag(a, 's') || a == "--silent")
                    && !args
                        .iter()
                        .any(|a| is_short_flag(a, 'S') || a == "--show-error");
                let quiet = wget && args.iter().any(|a| is_short_flag(a, 'q'));
                let to_stdout = !wget
                    || args
                        .iter()
                        .any(|a| a == "-O-" || a == "-qO-" || a.ends_with("O-"))
                    || args.windows(2).any(|w| w[0] == "-O" && w[1] == "-");
                let fail = |stderr: String, code: i32| KubeletResponse::Exec {
                    stdout: call.stdout.clone(),
                    stderr: if silent { String::new() } else { stderr },
                    exit_code: code,
                };
                let ip = match self.resolve_name(node, &source, &call.namespace, &u.host) {
                    Ok((ips, _)) => ips.first().cloned().unwrap_or_default(),
                    Err(_) => {
                        return if wget {
                            fail(format!("wget: bad address '{}'\n", u.host), 1)
                        } else {
                            fail(format!("curl: (6) Could not resolve host: {}\n", u.host), 6)
                        }
                    }
                };
                let mut stderr = String::new();
                if wget && !quiet {
                    stderr.push_str(&format!("Connecting to {} ({ip}:{})\n", u.host, u.port));
                }
                let client = TlsClient::of(url, tool, args, ca_file);
                let outcome = match self.connect(node, &source, &call.pod_ip, &ip, u.port, &u.path)
                {
                    Connect::Tls(server) => match self
                        .tls_exchange(&source, &server, &u.host, &u.path, &client)
                    {
                        Ok((status, _)) if client.fail_on_error && status >= 400 => {
                            return fail(
                                format!("curl: (22) The requested URL returned error: {status}\n"),
                                22,
                            );
                        }
                        Ok((status, body)) => Connect::Answer { status, body },
                        Err((message, code)) => return fail(message, code),
                    },
                    other => other,
                };
                match outcome {
                    Connect::Tls(_) => fail("curl: (35) TLS connect error\n".into(), 35),
                    Connect::Answer { status, body } => {
                        if wget && status >= 400 {
                            stderr.push_str(&format!("wget: server returned error: HTTP/1.1 {status} {}\n", reason(status)));
                            return KubeletResponse::Exec { stdout: call.stdout.clone(), stderr, exit_code: 1 };
                        }
                        let mut stdout = call.stdout.clone();
                        if to_stdout {
                            stdout.push_str(&body);
                            if wget && !quiet {
                                stderr.push_str("writing to stdout\n-                    100% |********************************|   {} 0:00:00 ETA\nwritten to stdout\n".replace("{}", &format!("{:>5}", body.len())).as_str());
                            }
                        } else if !quiet {
                            stderr.push_str("saving to 'index.html'\nindex.html           100% |********************************|  ");
                            stderr.push_str(&format!("{:>5}  0:00:00 ETA\n'index.html' saved\n", body.len()));
                        }
                        KubeletResponse::Exec { stdout, stderr, exit_code: 0 }
                    }
                    Connect::NotHttp if !wget => fail("curl: (1) Received HTTP/0.9 when not allowed\n".into(), 1),
                    Connect::NotHttp => {
                        stderr.push_str("wget: error getting response\n");
                        KubeletResponse::Exec { stdout: call.stdout.clone(), stderr, exit_code: 1 }
                    }
                    Connect::Refused if wget => {
                        stderr.push_str(&format!("wget: can't connect to remote host ({ip}): Connection refused\n"));
                        KubeletResponse::Exec { stdout: call.stdout.clone(), stderr, exit_code: 1 }
                    }
                    Connect::Refused => fail(
                        format!("curl: (7) Failed to connect to {} port {} after 0 ms: Connection refused\n", u.host, u.port),
                        7,
                    ),
                    Connect::TimedOut if wget => {
                        stderr.push_str(&format!("wget: can't connect to remote host ({ip}): Connection timed out\n"));
                        KubeletResponse::Exec { stdout: call.stdout.clone(), stderr, exit_code: 1 }
                    }
                    Connect::TimedOut => fail(
                        format!(
                            "curl: (7) Failed to connect to {} port {} after {} ms: Connection timed out\n",
                            u.host,
                            u.port,
                            CONNECT_TIMEOUT.as_millis()
                        ),
                        7,
                    ),
                }
            }
        }
    }

    /// A kubelet's answer to an exec, finished by the network if the
    /// command needed it.
    pub(crate) fn finish_exec(
        &mut self,
        kubelet: &Addr,
        response: KubeletResponse,
    ) -> KubeletResponse {
        let call = self
            .clients
            .get_mut(kubelet)
            .and_then(|s| s.agent_mut::<Kubelet>())
            .and_then(Kubelet::take_network_call);
        match call {
            Some(call) => {
                let node = self.hosts.get(kubelet).cloned().unwrap_or_default();
                self.network_exec(&node, call)
            }
            None => response,
        }
    }

    /// Whether `node`'s kube-proxy runs (its health server answers).
    fn kube_proxy_running(&self, node: &str) -> bool {
        !self.powered_off.contains(node)
            && self
                .clients
                .get(&addr(&kube_proxy_addr(node)))
                .is_some_and(|s| s.up && s.process.is_some())
    }

    /// The InternalIP of the node named `node`.
    fn ip_of_node(&self, node: &str) -> Option<String> {
        let cp = self
            .topology
            .control_plane
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.name.as_str(),
                    super::node_ip(crate::topology::NodeRole::ControlPlane, i),
                )
            });
        let workers = self.topology.workers.iter().enumerate().map(|(i, n)| {
            (
                n.name.as_str(),
                super::node_ip(crate::topology::NodeRole::Worker, i),
            )
        });
        cp.chain(workers)
            .find(|(n, _)| *n == node)
            .map(|(_, ip)| ip)
    }

    /// `curl` on the user's machine, outside the cluster (the shell's
    /// host-side `curl`): to a cloud load balancer's address, which
    /// forwards to a node its health checks find healthy, or to a node's
    /// address (a NodePort, a health-check node port). Its stdout and
    /// stderr together, and whether it exited 0.
    pub fn curl_from_outside(&mut self, args: &[String]) -> (String, bool) {
        let mut url = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if matches!(
                a.as_str(),
                "-H" | "--header"
                    | "-o"
                    | "--output"
                    | "-m"
                    | "--max-time"
                    | "--connect-timeout"
                    | "--cacert"
                    | "-X"
                    | "--request"
            ) {
                it.next();
            } else if !a.starts_with('-') && url.is_none() {
                url = Some(a.clone());
            }
        }
        let Some(url) = url else {
            return (
                "curl: try 'curl --help' or 'curl --manual' for more information".into(),
                false,
            );
        };
        let silent = args
            .iter()
            .any(|a| is_short_flag(a, 's') || a == "--silent")
            && !args
                .iter()
                .any(|a| is_short_flag(a, 'S') || a == "--show-error");
        let fail_on_error = args.iter().any(|a| a == "--fail" || is_short_flag(a, 'f'));
        let fail = |message: String| (if silent { String::new() } else { message }, false);
        let u = parse_url(&url);
        if !is_ipv4(&u.host) {
            // The cluster's DNS is for pods; the user's machine knows no
            // Service names.
            return fail(format!("curl: (6) Could not resolve host: {}", u.host));
        }
        let lb = self
            .cloud
            .load_balancers()
            .find(|lb| lb.ip == u.host)
            .cloned();
        let outcome = match lb {
            Some(lb) => self.through_load_balancer(&lb, u.port, &u.path),
            None => match self.node_with_ip(&u.host) {
                Some(node) => self.outside_to_node(&node, &u.host, u.port, &u.path),
                None => {
                    self.record(
                        OUTSIDE.into(),
                        u.host.clone(),
                        "service-traffic",
                        format!(
                            "TCP {}:{}: nothing has this address (times out)",
                            u.host, u.port
                        ),
                    );
                    Connect::TimedOut
                }
            },
        };
        let outcome = match outcome {
            Connect::Tls(server) => {
                let none = None;
                let client = TlsClient::of(&url, "curl", args, &none);
                match self.tls_exchange(OUTSIDE, &server, &u.host, &u.path, &client) {
                    Ok((status, body)) => Connect::Answer { status, body },
                    Err((message, _)) => return fail(message.trim_end().to_string()),
                }
            }
            other => other,
        };
        match outcome {
            Connect::Answer { status, .. } if fail_on_error && status >= 400 => fail(format!(
                "curl: (22) The requested URL returned error: {status}"
            )),
            Connect::Answer { body, .. } => (body, true),
            Connect::NotHttp => fail("curl: (1) Received HTTP/0.9 when not allowed".into()),
            Connect::Refused => fail(format!(
                "curl: (7) Failed to connect to {} port {} after 0 ms: Connection refused",
                u.host, u.port
            )),
            Connect::TimedOut | Connect::Tls(_) => fail(format!(
                "curl: (28) Failed to connect to {} port {} after {} ms: Connection timed out",
                u.host,
                u.port,
                CONNECT_TIMEOUT.as_millis()
            )),
        }
    }

    /// A connection to a cloud load balancer: the cloud forwards it,
    /// destination unchanged (a passthrough load balancer, as GCE's and
    /// Azure's are), to one of its nodes that passes the health check:
    /// the Service's `healthCheckNodePort` for `externalTrafficPolicy:
    /// Local` (only nodes with a local endpoint answer 200), else
    /// kube-proxy's own `/healthz` on port 10256. There the node's
    /// `loadbalancer IP` rule takes it.
    fn through_load_balancer(
        &mut self,
        lb: &crate::cloud::LoadBalancer,
        port: i32,
        path: &str,
    ) -> Connect {
        let target = format!("cloud-lb/{}", lb.name);
        if !lb.ports.iter().any(|p| p.ends_with(&format!(":{port}"))) {
            self.record(
                OUTSIDE.into(),
                target,
                "service-traffic",
                format!(
                    "TCP {}:{port}: the load balancer has no listener on this port (times out)",
                    lb.ip
                ),
            );
            return Connect::TimedOut;
        }
        let mut healthy = Vec::new();
        for node in &lb.nodes {
            let running = self.kube_proxy_running(node);
            let rules = self.net.rules.get(node).map(|(_, r)| r.clone());
            let hc = rules.as_deref().and_then(|r| {
                r.ports
                    .iter()
                    .find(|p| p.load_balancer_ips.contains(&lb.ip))
                    .and_then(|p| p.health_check_node_port)
                    .and_then(|hc| r.health_check(hc, running))
            });
            let ok = match hc {
                Some((status, _)) => status == 200,
                None => running,
            };
            if ok {
                healthy.push(node.clone());
            }
        }
        if healthy.is_empty() {
            self.record(
                OUTSIDE.into(),
                target,
                "service-traffic",
                format!(
                    "TCP {}:{port}: no backend node passes the health check (times out)",
                    lb.ip
                ),
            );
            return Connect::TimedOut;
        }
        let i = self.world.rng().between(1, healthy.len() as u64) as usize - 1;
        let node = healthy[i].clone();
        self.record(
            OUTSIDE.into(),
            target,
            "service-traffic",
            format!(
                "TCP {}:{port}: healthy backends {}; forwarded to {node}",
                lb.ip,
                healthy.join(", ")
            ),
        );
        self.arrive_from_outside(&node, &lb.ip, port, false, path)
    }

    /// A connection from outside to one of `node`'s addresses.
    fn outside_to_node(&mut self, node: &str, ip: &str, port: i32, path: &str) -> Connect {
        if self.powered_off.contains(node) {
            self.record(
                OUTSIDE.into(),
                format!("node/{node}"),
                "service-traffic",
                format!("TCP {ip}:{port}: {node} does not answer (times out)"),
            );
            return Connect::TimedOut;
        }
        let running = self.kube_proxy_running(node);
        let hc = self
            .net
            .rules
            .get(node)
            .and_then(|(_, r)| r.health_check(port, running));
        if let Some((status, body)) = hc {
            self.record(
                OUTSIDE.into(),
                kube_proxy_addr(node),
                "service-traffic",
                format!("GET {path} on {ip}:{port} (health check node port) -> {status}"),
            );
            return Connect::Answer { status, body };
        }
        self.arrive_from_outside(node, ip, port, true, path)
    }

    /// A packet from outside arriving at `node` for `ip:port`: the node's
    /// rules, then the endpoint, which sees the client's address under
    /// `externalTrafficPolicy: Local` and the node's (masquerade) otherwise.
    fn arrive_from_outside(
        &mut self,
        node: &str,
        ip: &str,
        port: i32,
        to_node: bool,
        path: &str,
    ) -> Connect {
        let pkt = Packet {
            src_ip: OUTSIDE_CLIENT_IP,
            origin: Origin::External,
            dst_ip: ip,
            dst_port: port,
            protocol: "tcp",
            to_node,
        };
        let local = self.net.rules.get(node).is_some_and(|(_, r)| {
            r.ports.iter().any(|p| {
                p.external_local
                    && p.port == port
                    && (p.load_balancer_ips.iter().any(|l| l == ip)
                        || (to_node && p.node_port == Some(port)))
            })
        });
        match self.through_rules(node, OUTSIDE, &pkt) {
            Hop::Dnat(eip, eport) => {
                let seen = if local {
                    OUTSIDE_CLIENT_IP.to_string()
                } else {
                    self.ip_of_node(node).unwrap_or_default()
                };
                self.last_leg(node, OUTSIDE, &seen, &eip, eport, path)
            }
            Hop::Refused => Connect::Refused,
            Hop::Dropped => Connect::TimedOut,
            Hop::NoRule => self.last_leg(node, OUTSIDE, OUTSIDE_CLIENT_IP, ip, port, path),
        }
    }

    /// The client address of a node's kube-proxy, if the node exists.
    pub fn kube_proxy(&self, node: &str) -> Option<&KubeProxy> {
        self.clients
            .get(&addr(&kube_proxy_addr(node)))
            .and_then(|s| s.agent::<KubeProxy>())
    }
}

pub(crate) fn is_short_flag(a: &str, c: char) -> bool {
    a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c)
}

fn is_ipv4(s: &str) -> bool {
    s.split('.').count() == 4 && s.split('.').all(|p| p.parse::<u8>().is_ok())
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

pub(crate) struct Url {
    pub host: String,
    pub port: i32,
    pub path: String,
}

/// `http://host[:port][/path]` (curl assumes `http://` without a scheme).
pub(crate) fn parse_url(url: &str) -> Url {
    let (rest, default_port) = if let Some(r) = url.strip_prefix("http://") {
        (r, 80)
    } else if let Some(r) = url.strip_prefix("https://") {
        (r, 443)
    } else {
        (url, 80)
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(default_port)),
        None => (hostport.to_string(), default_port),
    };
    Url { host, port, path }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{KindId, Object};

    #[test]
    fn urls_split_into_host_port_and_path() {
        let u = parse_url("http://web.default.svc.cluster.local:8080/healthz");
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("web.default.svc.cluster.local", 8080, "/healthz")
        );
        let u = parse_url("web");
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("web", 80, "/"));
    }

    #[test]
    fn the_addon_decodes_into_four_objects() {
        let objects = crate::api::decode::decode(&coredns_addon(2), "addon").unwrap();
        let kinds: Vec<KindId> = objects.iter().map(Object::kind_id).collect();
        assert_eq!(
            kinds,
            vec![
                KindId::ServiceAccount,
                KindId::ConfigMap,
                KindId::Service,
                KindId::Deployment
            ]
        );
    }
}
