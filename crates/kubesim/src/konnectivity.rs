//! Konnectivity: the API servers reach the nodes through a tunnel the
//! nodes open (the "Set up Konnectivity service" task page;
//! kubernetes-sigs/apiserver-network-proxy).
//!
//! In Kubernetes, with an `EgressSelectorConfiguration` whose `cluster`
//! egress goes to a Konnectivity server over gRPC on a Unix socket, every
//! connection the API server opens to a node (the kubelet's logs, exec,
//! attach and port-forward, and anything else in the cluster network) is a
//! `DIAL_REQ` to the `konnectivity-server` beside it, a static pod on the
//! same control-plane node. The server does not dial the node: it picks a
//! backend among the `konnectivity-agent`s (a DaemonSet) that have dialled
//! *it*, through the API load balancer on port 8132, each keeping one gRPC
//! tunnel to every server (`--sync-interval` 1 s, backing off to
//! `--sync-interval-cap` 10 s until it holds as many tunnels as the server
//! count it learns). The agent on the target node dials the kubelet and
//! relays the bytes both ways. With `--proxy-strategies=destHost` and agents
//! identified by their node's address (`--agent-identifiers=ipv4=$(HOST_IP)`),
//! the server picks the agent on the destination node; with none connected
//! the dial fails with `No agent available`
//! (`pkg/server/backend_manager.go`, `ErrNotFound`).
//!
//! Here [`ProxyServer`] and [`ProxyAgent`] are that state: which agents a
//! server holds tunnels from, which servers an agent reached and the
//! connections it relays. The cluster delivers their messages
//! (`cluster/tunnel.rs`). Left out: the agents' service-account token
//! review by the server, the `default` and `defaultRoute` strategies, gRPC
//! keepalives (a tunnel across a partition looks alive until it heals; the
//! API server's dial times out) and the admin and health ports' content.
//! The agents run as the task page's DaemonSet ([`agent_addon`]); an agent
//! process lives while its pod's container runs (`cluster/tunnel.rs`).

use crate::world::{SimDuration, SimRng, SimTime};
use std::collections::{BTreeMap, BTreeSet};

/// The server's image (kas-network-proxy release matching Kubernetes 1.34).
pub const SERVER_IMAGE: &str = "registry.k8s.io/kas-network-proxy/proxy-server:v0.33.0";
/// The agent's image.
pub const AGENT_IMAGE: &str = "registry.k8s.io/kas-network-proxy/proxy-agent:v0.33.0";
/// Where agents dial the servers (`--agent-port`).
pub const AGENT_PORT: u16 = 8132;
/// The servers' health port (`--health-port`).
pub const HEALTH_PORT: u16 = 8134;
/// The Unix socket the API server dials (`--uds-name`).
pub const UDS: &str = "/etc/kubernetes/konnectivity-server/konnectivity-server.socket";
/// The API server's `--egress-selector-config-file`.
pub const EGRESS_CONFIG_FILE: &str = "/etc/kubernetes/egress-selector-configuration.yaml";
/// The error a dial gets when no agent serves the destination.
pub const NO_AGENT: &str = "No agent available";
/// The agent's `--sync-interval` and `--sync-interval-cap`.
pub const SYNC_INTERVAL: SimDuration = SimDuration::from_secs(1);
pub const SYNC_INTERVAL_CAP: SimDuration = SimDuration::from_secs(10);

/// The address of the server beside `node`'s API server.
pub fn server_addr(node: &str) -> String {
    format!("konnectivity-server-{node}")
}

/// The address of `node`'s agent.
pub fn agent_addr(node: &str) -> String {
    format!("konnectivity-agent@{node}")
}

/// The agents' DaemonSet and what it needs, as the task page installs them
/// (`konnectivity-agent.yaml`, `konnectivity-rbac.yaml`): the
/// `konnectivity-agent` ServiceAccount, whose token (projected with the
/// audience `system:konnectivity-server`) the agent presents to the
/// servers, the binding that lets the servers review it, and the DaemonSet.
/// Two changes to the page's example: the agents dial the API load
/// balancer's name, and they tolerate the control-plane taint and identify
/// themselves by their node's address (`--agent-identifiers=ipv4=...`, the
/// downward API's `status.hostIP`), so that the servers' `destHost`
/// strategy finds an agent on every node, control-plane nodes included.
pub fn agent_addon(load_balancer: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: konnectivity-agent
  namespace: kube-system
  labels:
    kubernetes.io/cluster-service: "true"
    addonmanager.kubernetes.io/mode: Reconcile
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:konnectivity-server
  labels:
    kubernetes.io/cluster-service: "true"
    addonmanager.kubernetes.io/mode: Reconcile
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: system:konnectivity-server
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    addonmanager.kubernetes.io/mode: Reconcile
    k8s-app: konnectivity-agent
  namespace: kube-system
  name: konnectivity-agent
spec:
  selector:
    matchLabels:
      k8s-app: konnectivity-agent
  template:
    metadata:
      labels:
        k8s-app: konnectivity-agent
    spec:
      priorityClassName: system-cluster-critical
      tolerations:
        - key: "CriticalAddonsOnly"
          operator: "Exists"
        - key: node-role.kubernetes.io/control-plane
          operator: Exists
          effect: NoSchedule
      containers:
        - image: {AGENT_IMAGE}
          name: konnectivity-agent
          command: ["/proxy-agent"]
          args: [
                  "--logtostderr=true",
                  "--ca-cert=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                  "--proxy-server-host={load_balancer}",
                  "--proxy-server-port={AGENT_PORT}",
                  "--admin-server-port=8133",
                  "--health-server-port={HEALTH_PORT}",
                  "--agent-identifiers=ipv4=$(HOST_IP)",
                  "--service-account-token-path=/var/run/secrets/tokens/konnectivity-agent-token"
                  ]
          env:
            - name: HOST_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.hostIP
          volumeMounts:
            - mountPath: /var/run/secrets/tokens
              name: konnectivity-agent-token
          livenessProbe:
            httpGet:
              port: {HEALTH_PORT}
              path: /healthz
            initialDelaySeconds: 15
            timeoutSeconds: 15
      serviceAccountName: konnectivity-agent
      volumes:
        - name: konnectivity-agent-token
          projected:
            sources:
              - serviceAccountToken:
                  path: konnectivity-agent-token
                  audience: system:konnectivity-server
"#
    )
}

/// The `EgressSelectorConfiguration` the API servers read (the task page's).
pub fn egress_selector_configuration() -> String {
    format!(
        "apiVersion: apiserver.k8s.io/v1beta1\nkind: EgressSelectorConfiguration\negressSelections:\n# Since we want to control the egress traffic to the cluster, we use the\n# \"cluster\" as the name. Other supported values are \"etcd\", and \"controlplane\".\n- name: cluster\n  connection:\n    # This controls the protocol between the API Server and the Konnectivity\n    # server. Supported values are \"GRPC\" and \"HTTPConnect\".\n    proxyProtocol: GRPC\n    transport:\n      uds:\n        udsName: {UDS}\n"
    )
}

/// The `konnectivity-server` static pod beside a kube-apiserver, as the
/// task page's manifest, with the destHost strategy.
pub fn server_manifest(server_count: usize) -> String {
    let args = [
        "--logtostderr=true".to_string(),
        "--uds-name=".to_string() + UDS,
        "--delete-existing-uds-file".into(),
        "--cluster-cert=/etc/kubernetes/pki/apiserver.crt".into(),
        "--cluster-key=/etc/kubernetes/pki/apiserver.key".into(),
        "--mode=grpc".into(),
        "--server-port=0".into(),
        format!("--agent-port={AGENT_PORT}"),
        "--admin-port=8133".into(),
        format!("--health-port={HEALTH_PORT}"),
        "--agent-namespace=kube-system".into(),
        "--agent-service-account=konnectivity-agent".into(),
        "--kubeconfig=/etc/kubernetes/konnectivity-server.conf".into(),
        "--authentication-audience=system:konnectivity-server".into(),
        "--proxy-strategies=destHost".into(),
        format!("--server-count={server_count}"),
    ];
    let mut y = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    component: konnectivity-server\n    tier: control-plane\n  name: konnectivity-server\n  namespace: kube-system\nspec:\n  containers:\n  - name: konnectivity-server-container\n",
    );
    y.push_str(&format!(
        "    image: {SERVER_IMAGE}\n    command: [\"/proxy-server\"]\n    args:\n"
    ));
    for a in args {
        y.push_str(&format!("    - {a:?}\n"));
    }
    y.push_str(&format!(
        "    livenessProbe:\n      httpGet:\n        scheme: HTTP\n        host: 127.0.0.1\n        port: {HEALTH_PORT}\n        path: /healthz\n      initialDelaySeconds: 30\n      timeoutSeconds: 60\n    ports:\n    - name: agentport\n      containerPort: {AGENT_PORT}\n      hostPort: {AGENT_PORT}\n    - name: adminport\n      containerPort: 8133\n      hostPort: 8133\n    - name: healthport\n      containerPort: {HEALTH_PORT}\n      hostPort: {HEALTH_PORT}\n    volumeMounts:\n    - name: k8s-certs\n      mountPath: /etc/kubernetes/pki\n      readOnly: true\n    - name: kubeconfig\n      mountPath: /etc/kubernetes/konnectivity-server.conf\n      readOnly: true\n    - name: konnectivity-uds\n      mountPath: /etc/kubernetes/konnectivity-server\n      readOnly: false\n  hostNetwork: true\n  priority: 2000001000\n  priorityClassName: system-node-critical\n  volumes:\n  - name: k8s-certs\n    hostPath:\n      path: /etc/kubernetes/pki\n  - name: kubeconfig\n    hostPath:\n      path: /etc/kubernetes/konnectivity-server.conf\n      type: FileOrCreate\n  - name: konnectivity-uds\n    hostPath:\n      path: /etc/kubernetes/konnectivity-server\n      type: DirectoryOrCreate\n"
    ));
    y
}

/// A `konnectivity-server`: the tunnels agents opened to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyServer {
    pub up: bool,
    /// Connected agents by identifier (their node's IPv4): the agent's address.
    pub backends: BTreeMap<String, String>,
}

impl ProxyServer {
    pub fn new() -> Self {
        ProxyServer {
            up: true,
            backends: BTreeMap::new(),
        }
    }

    /// The `destHost` strategy: the agent whose identifier is the dial's
    /// host (`DestHostBackendManager.Backend`), else `No agent available`.
    pub fn backend(&self, dest_host: &str) -> Result<&str, &'static str> {
        self.backends
            .get(dest_host)
            .map(String::as_str)
            .ok_or(NO_AGENT)
    }

    /// An agent's tunnel was accepted.
    pub fn add_backend(&mut self, identifier: &str, agent: &str) {
        self.backends
            .insert(identifier.to_string(), agent.to_string());
    }

    /// An agent's tunnel closed.
    pub fn remove_agent(&mut self, agent: &str) {
        self.backends.retain(|_, a| a != agent);
    }
}

/// A `konnectivity-agent`: its tunnels and the connections it relays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyAgent {
    pub node: String,
    /// `--agent-identifiers=ipv4=<node IP>`.
    pub identifier: String,
    pub up: bool,
    /// The servers it holds a tunnel to.
    pub connected: BTreeSet<String>,
    /// A dial in flight, to this server.
    pub dialing: Option<String>,
    /// When it next tries to reach a server it lacks.
    pub next_sync: SimTime,
    interval: SimDuration,
    /// The connections it relays to its node: its id -> (server, the
    /// server's id).
    conns: BTreeMap<u64, (String, u64)>,
    next_conn: u64,
}

impl ProxyAgent {
    pub fn new(node: &str, ip: &str, now: SimTime) -> Self {
        ProxyAgent {
            node: node.to_string(),
            identifier: ip.to_string(),
            up: true,
            connected: BTreeSet::new(),
            dialing: None,
            next_sync: now,
            interval: SYNC_INTERVAL,
            conns: BTreeMap::new(),
            next_conn: 1,
        }
    }

    /// The sync loop (`ClientSet.sync`): if it holds fewer tunnels than
    /// there are servers and no dial is in flight, it dials the load
    /// balancer, which picks one of `servers` at random. Returns the server
    /// dialled.
    pub fn sync(&mut self, now: SimTime, servers: &[String], rng: &mut SimRng) -> Option<String> {
        if !self.up || now < self.next_sync || self.dialing.is_some() {
            return None;
        }
        if self.connected.len() >= servers.len() || servers.is_empty() {
            self.interval = SYNC_INTERVAL;
            self.next_sync = now + SYNC_INTERVAL_CAP;
            return None;
        }
        let pick = servers[rng.between(0, servers.len() as u64 - 1) as usize].clone();
        self.dialing = Some(pick.clone());
        self.next_sync = now + self.interval;
        Some(pick)
    }

    /// The dialled server answered: a tunnel, or a duplicate the agent
    /// closes (`ClientSet.AddClient` refuses a second tunnel to one
    /// server), and the sync goes on every second; or a refusal, and the
    /// sync backs off, doubling up to its cap (`ClientSet.sync`).
    pub fn dialled(&mut self, now: SimTime, server: &str, accepted: bool) {
        self.dialing = None;
        if accepted {
            self.connected.insert(server.to_string());
            self.interval = SYNC_INTERVAL;
        } else {
            self.interval = (self.interval + self.interval).min(SYNC_INTERVAL_CAP);
        }
        self.next_sync = now + self.interval;
    }

    /// A tunnel broke (the server went away).
    pub fn lost(&mut self, now: SimTime, server: &str) {
        self.connected.remove(server);
        if self.dialing.as_deref() == Some(server) {
            self.dialing = None;
        }
        self.conns.retain(|_, (s, _)| s != server);
        self.interval = SYNC_INTERVAL;
        self.next_sync = self.next_sync.min(now + SYNC_INTERVAL);
    }

    /// The process stopped: tunnels and connections are gone.
    pub fn stop(&mut self) {
        self.up = false;
        self.connected.clear();
        self.dialing = None;
        self.conns.clear();
    }

    /// The process starts afresh.
    pub fn start(&mut self, now: SimTime) {
        self.up = true;
        self.interval = SYNC_INTERVAL;
        self.next_sync = now;
    }

    /// A new connection to the node for the server's `id`; the agent's id.
    pub fn open(&mut self, server: &str, id: u64) -> u64 {
        if let Some(c) = self.conn_for(server, id) {
            return c;
        }
        let c = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(c, (server.to_string(), id));
        c
    }

    /// The agent's connection for the server's `id`.
    pub fn conn_for(&self, server: &str, id: u64) -> Option<u64> {
        self.conns
            .iter()
            .find(|(_, (s, i))| s == server && *i == id)
            .map(|(c, _)| *c)
    }

    /// The server and its id for connection `conn`.
    pub fn conn(&self, conn: u64) -> Option<(String, u64)> {
        self.conns.get(&conn).cloned()
    }

    pub fn close(&mut self, conn: u64) {
        self.conns.remove(&conn);
    }

    /// When the sync loop next runs.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        (self.up && self.dialing.is_none()).then_some(self.next_sync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dest_host_strategy_finds_no_agent_for_an_unknown_node() {
        let mut s = ProxyServer::new();
        s.add_backend("10.0.1.11", "konnectivity-agent@worker-1");
        assert_eq!(s.backend("10.0.1.11"), Ok("konnectivity-agent@worker-1"));
        assert_eq!(s.backend("10.0.1.12"), Err("No agent available"));
        s.remove_agent("konnectivity-agent@worker-1");
        assert_eq!(s.backend("10.0.1.11"), Err(NO_AGENT));
    }

    #[test]
    fn an_agent_dials_until_it_holds_a_tunnel_to_every_server() {
        let servers = vec!["a".to_string(), "b".to_string()];
        let mut rng = SimRng::new(7);
        let mut agent = ProxyAgent::new("worker-1", "10.0.1.11", SimTime::ZERO);
        let mut now = SimTime::ZERO;
        for _ in 0..50 {
            if let Some(s) = agent.sync(now, &servers, &mut rng) {
                agent.dialled(now, &s, true);
            }
            now += SimDuration::from_secs(1);
        }
        assert_eq!(agent.connected.len(), 2);
        // Holding both, it stops dialling.
        assert_eq!(agent.sync(now, &servers, &mut rng), None);
    }

    #[test]
    fn refused_dials_back_the_sync_off_to_its_cap_and_a_tunnel_resets_it() {
        let mut agent = ProxyAgent::new("worker-1", "10.0.1.11", SimTime::ZERO);
        agent.dialled(SimTime::ZERO, "a", false);
        assert_eq!(agent.next_sync, SimTime::ZERO + SimDuration::from_secs(2));
        for _ in 0..6 {
            agent.dialled(SimTime::ZERO, "a", false);
        }
        assert_eq!(agent.next_sync, SimTime::ZERO + SYNC_INTERVAL_CAP);
        agent.dialled(SimTime::ZERO, "a", true);
        assert_eq!(agent.next_sync, SimTime::ZERO + SYNC_INTERVAL);
    }
}
