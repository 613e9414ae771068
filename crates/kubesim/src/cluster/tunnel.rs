//! The API servers' calls to kubelets: directly, or through Konnectivity;
//! and the streams (attach, port-forward) they keep open.
//!
//! Without Konnectivity an API server's call goes straight to the node's
//! kubelet (`https://<InternalIP>:10250`). With it (the topology's
//! `konnectivity` option), the cluster delivers every hop the way the
//! egress selector sends it: the API server dials the `konnectivity-server`
//! beside it over its Unix socket, the server relays the dial into the
//! tunnel that the destination node's `konnectivity-agent` opened, and the
//! agent dials its kubelet. Answers, stream data and closes travel the same
//! hops back. Each hop is a message, so the page draws the path and a
//! partition or a stopped agent cuts it. See [`crate::konnectivity`] for
//! the server's and agent's state.
//!
//! The agents run as the `konnectivity-agent` DaemonSet's pods: an agent
//! process `konnectivity-agent@<node>` exists exactly while a container of
//! the agent image runs on that node (as CoreDNS answers only where its
//! container runs), so a node added later gets one when the DaemonSet's
//! pod starts there, deleting or evicting the pod stops it (its tunnels
//! close and the servers find `No agent available` for that node until the
//! replacement runs), and a restarted container is a new agent that dials
//! the servers afresh. `sim fault konnectivity-agent@<node> crash` stops
//! the agent process inside its running container until `sim heal` (its
//! container is not restarted: the liveness probe is left out of this
//! fault), and powering the node off stops it with the node.

use super::{addr, kubelet_addr, Cluster, Event, Msg};
use crate::apiserver::server::Addr;
use crate::apiserver::{ApiRequest, ApiResponse};
use crate::konnectivity::{self, ProxyAgent, ProxyServer};
use crate::kubelet::server::{KubeletResponse, StreamInput};
use crate::kubelet::Kubelet;
use crate::world::{SimDuration, TraceEvent};
use std::collections::BTreeMap;

/// Konnectivity's processes in a cluster that runs it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Konnectivity {
    /// The servers, by address, each beside its node's API server.
    pub servers: BTreeMap<Addr, ProxyServer>,
    /// The agents, by address (one per node: `konnectivity-agent@<node>`),
    /// each while its DaemonSet pod's container runs.
    pub agents: BTreeMap<Addr, ProxyAgent>,
    /// The container each agent process runs in.
    containers: BTreeMap<Addr, String>,
    /// Dials a server relayed, by (server, the API server's id): the agent.
    dials: BTreeMap<(Addr, u64), Addr>,
}

/// The agent image's repository path, as containerd records it.
const AGENT_REPOSITORY: &str = "kas-network-proxy/proxy-agent";

/// Whether a kubelet's answer ends the call (a stream stays open until
/// its `Closed`).
fn ends_call(r: &KubeletResponse) -> bool {
    !matches!(r, KubeletResponse::Opened | KubeletResponse::Data(_))
}

impl Konnectivity {
    /// The servers beside `control_plane`'s API servers; agents join as
    /// their pods start ([`Cluster::sync_agent`]).
    pub fn new(control_plane: &[String]) -> Self {
        Konnectivity {
            servers: control_plane
                .iter()
                .map(|n| (addr(&konnectivity::server_addr(n)), ProxyServer::new()))
                .collect(),
            agents: BTreeMap::new(),
            containers: BTreeMap::new(),
            dials: BTreeMap::new(),
        }
    }

    pub fn owns(&self, a: &Addr) -> bool {
        self.servers.contains_key(a) || self.agents.contains_key(a)
    }
}

/// The API server beside a konnectivity-server.
fn apiserver_of(server: &Addr) -> Addr {
    addr(&server.replacen("konnectivity-server-", "kube-apiserver-", 1))
}

impl Cluster {
    /// Sends an API server's message for `node`'s kubelet: straight there,
    /// or to the konnectivity-server beside the API server.
    pub(super) fn send_to_kubelet(&mut self, apiserver: &Addr, node: &str, msg: Msg) {
        let via = self.tunnel.as_ref().map(|_| {
            addr(&apiserver.replacen("kube-apiserver-", konnectivity::server_addr("").as_str(), 1))
        });
        match via {
            Some(server) => self.send(apiserver.clone(), server, msg),
            None => self.send(apiserver.clone(), addr(&kubelet_addr(node)), msg),
        }
    }

    /// A message reaching a konnectivity-server or agent is handled here;
    /// any other is handed back.
    pub(super) fn tunnel_deliver(&mut self, from: &Addr, to: &Addr, msg: Msg) -> Option<Msg> {
        let owned = self.tunnel.as_ref().is_some_and(|t| t.owns(to));
        if !owned {
            return Some(msg);
        }
        let is_server = self
            .tunnel
            .as_ref()
            .is_some_and(|t| t.servers.contains_key(to));
        if is_server {
            self.server_deliver(from, to, msg);
        } else {
            self.agent_deliver(from, to, msg);
        }
        None
    }

    fn server_deliver(&mut self, from: &Addr, to: &Addr, msg: Msg) {
        let now = self.world.now();
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        let Some(server) = t.servers.get_mut(to) else {
            return;
        };
        let up = server.up;
        match msg {
            Msg::TunnelDial { identifier } => {
                // The server checks the agent's token with the API server
                // (a TokenReview), so it accepts only while that one answers.
                let apiserver_ready = self
                    .apiservers
                    .get(&apiserver_of(to))
                    .is_some_and(|s| s.is_ready());
                let accepted = up && apiserver_ready;
                if accepted {
                    if let Some(s) = self.tunnel.as_mut().and_then(|t| t.servers.get_mut(to)) {
                        s.add_backend(&identifier, from);
                    }
                }
                self.send(to.clone(), from.clone(), Msg::TunnelReply { accepted });
            }
            Msg::KubeletCall {
                id,
                address,
                request,
            } => {
                if !up {
                    let response = KubeletResponse::Error {
                        code: 502,
                        message: format!(
                            "dial unix {}: connect: connection refused",
                            konnectivity::UDS
                        ),
                    };
                    return self.send(
                        to.clone(),
                        from.clone(),
                        Msg::KubeletAnswer {
                            id,
                            response: Box::new(response),
                        },
                    );
                }
                let host = address.split(':').next().unwrap_or_default().to_string();
                match server.backend(&host).map(addr) {
                    Ok(agent) => {
                        t.dials.insert((to.clone(), id), agent.clone());
                        let _ = now;
                        self.send(
                            to.clone(),
                            agent,
                            Msg::KubeletCall {
                                id,
                                address,
                                request,
                            },
                        );
                    }
                    Err(e) => {
                        self.record_tunnel(
                            to,
                            from,
                            format!("DIAL_REQ {address}: Failed to get a backend: {e}"),
                        );
                        self.send(
                            to.clone(),
                            from.clone(),
                            Msg::KubeletAnswer {
                                id,
                                response: Box::new(KubeletResponse::Error {
                                    code: 503,
                                    message: e.to_string(),
                                }),
                            },
                        );
                    }
                }
            }
            Msg::KubeletInput { id, input } => {
                let agent = t.dials.get(&(to.clone(), id)).cloned();
                match agent {
                    Some(agent) if up => {
                        self.send(to.clone(), agent, Msg::KubeletInput { id, input })
                    }
                    _ => self.send(
                        to.clone(),
                        from.clone(),
                        Msg::KubeletAnswer {
                            id,
                            response: Box::new(KubeletResponse::Closed(Some(
                                konnectivity::NO_AGENT.into(),
                            ))),
                        },
                    ),
                }
            }
            Msg::KubeletClose { id } => {
                if let Some(agent) = t.dials.remove(&(to.clone(), id)) {
                    if up {
                        self.send(to.clone(), agent, Msg::KubeletClose { id });
                    }
                }
            }
            Msg::KubeletAnswer { id, response } => {
                if !up {
                    return;
                }
                if ends_call(&response) {
                    t.dials.remove(&(to.clone(), id));
                }
                self.send(
                    to.clone(),
                    apiserver_of(to),
                    Msg::KubeletAnswer { id, response },
                );
            }
            _ => {}
        }
    }

    fn agent_deliver(&mut self, from: &Addr, to: &Addr, msg: Msg) {
        let now = self.world.now();
        let Some(agent) = self.tunnel.as_mut().and_then(|t| t.agents.get_mut(to)) else {
            return;
        };
        if !agent.up {
            // Nothing listens any more: the connection was reset when the
            // process stopped.
            return;
        }
        let kubelet = addr(&kubelet_addr(&agent.node));
        match msg {
            Msg::TunnelReply { accepted } => {
                // The load balancer picked a server the agent already holds
                // a tunnel to: `ClientSet.AddClient` refuses the second one
                // and the agent logs it (at klog's default verbosity).
                let duplicate = accepted && agent.connected.contains(from.as_ref());
                agent.dialled(now, from, accepted);
                let next = agent.next_wakeup();
                if let Some(t) = next {
                    self.world.schedule_at(t.max(now), Event::Tick(to.clone()));
                }
                if duplicate {
                    self.agent_log(
                        to,
                        format!(
                            "\"closing connection failure when adding a client\" err=\"client for proxy server {from} already exists\""
                        ),
                    );
                }
            }
            Msg::KubeletCall {
                id,
                address,
                request,
            } => {
                let conn = agent.open(from, id);
                self.send(
                    to.clone(),
                    kubelet,
                    Msg::KubeletCall {
                        id: conn,
                        address,
                        request,
                    },
                );
            }
            Msg::KubeletInput { id, input } => {
                if let Some(conn) = agent.conn_for(from, id) {
                    self.send(to.clone(), kubelet, Msg::KubeletInput { id: conn, input });
                }
            }
            Msg::KubeletClose { id } => {
                if let Some(conn) = agent.conn_for(from, id) {
                    agent.close(conn);
                    self.send(to.clone(), kubelet, Msg::KubeletClose { id: conn });
                }
            }
            Msg::KubeletAnswer { id, response } => {
                if let Some((server, sid)) = agent.conn(id) {
                    if ends_call(&response) {
                        agent.close(id);
                    }
                    self.send(
                        to.clone(),
                        addr(&server),
                        Msg::KubeletAnswer { id: sid, response },
                    );
                }
            }
            _ => {}
        }
    }

    /// The konnectivity-agent of a kubelet's node follows its container:
    /// it starts when a container of the agent image runs there, stops when
    /// none does, and starts afresh when the container is a new one.
    pub(super) fn sync_agent(&mut self, kubelet: &Addr) {
        if self.tunnel.is_none() {
            return;
        }
        let Some(node) = self.hosts.get(kubelet).cloned() else {
            return;
        };
        let (running, ip) = {
            let Some(k) = self.clients.get(kubelet).and_then(|s| s.agent::<Kubelet>()) else {
                return;
            };
            let Some(rt) = k.runtime() else {
                return;
            };
            (
                rt.running_ids_with_image(AGENT_REPOSITORY)
                    .next()
                    .map(str::to_string),
                k.node_ip().to_string(),
            )
        };
        let a = addr(&konnectivity::agent_addr(&node));
        let current = self
            .tunnel
            .as_ref()
            .and_then(|t| t.containers.get(&a).cloned());
        if running == current {
            return;
        }
        let now = self.world.now();
        if current.is_some() {
            self.agent_gone(&a);
        }
        match running {
            None => {
                self.hosts.remove(&a);
                self.crashed.remove(&a);
                self.record_tunnel(&a, &a, "stopped with its container".into());
            }
            Some(id) => {
                let mut agent = ProxyAgent::new(&node, &ip, now);
                // A process a fault stopped stays stopped until healed.
                if self.crashed.contains(&a) {
                    agent.stop();
                }
                if let Some(t) = self.tunnel.as_mut() {
                    t.agents.insert(a.clone(), agent);
                    t.containers.insert(a.clone(), id.clone());
                }
                self.hosts.insert(a.clone(), node);
                self.record_tunnel(
                    &a,
                    &a,
                    format!("started in container {}", &id[..id.len().min(13)]),
                );
                self.world.schedule_at(now, Event::Tick(a));
            }
        }
    }

    /// An agent process is gone (its container stopped, its node went
    /// away): the servers drop its tunnels.
    pub(super) fn agent_gone(&mut self, a: &Addr) {
        if let Some(t) = self.tunnel.as_mut() {
            t.agents.remove(a);
            t.containers.remove(a);
            for s in t.servers.values_mut() {
                s.remove_agent(a);
            }
            t.dials.retain(|_, agent| agent != a);
        }
    }

    /// A klog error line the agent `a` writes to its container's stderr
    /// (`E0101 00:00:05.123000       1 clientset.go:NNN] ...`).
    fn agent_log(&mut self, a: &Addr, message: String) {
        let now = self.world.now();
        let Some(container) = self
            .tunnel
            .as_ref()
            .and_then(|t| t.containers.get(a).cloned())
        else {
            return;
        };
        let Some(node) = self.hosts.get(a).cloned() else {
            return;
        };
        let stamp = serde_json::to_value(crate::api::time::to_micro_time(now))
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        // `2026-01-01T00:00:05.123000Z` -> `0101 00:00:05.123000`.
        let (date, time) = stamp.split_once('T').unwrap_or(("", ""));
        let month_day: String = date.chars().skip(5).filter(|c| *c != '-').collect();
        let time = time.trim_end_matches('Z');
        let line = format!("E{month_day} {time:<15}       1 clientset.go:160] {message}");
        if let Some(rt) = self
            .clients
            .get_mut(&addr(&kubelet_addr(&node)))
            .and_then(|s| s.agent_mut::<Kubelet>())
            .and_then(Kubelet::runtime_mut)
        {
            rt.append_log(&container, now, crate::runtime::Stream::Stderr, line);
        }
    }

    /// An agent's sync loop; whether `who` is an agent.
    pub(super) fn tunnel_tick(&mut self, who: &Addr) -> bool {
        let now = self.world.now();
        let servers: Vec<String> = match &self.tunnel {
            Some(t) if t.agents.contains_key(who) => {
                t.servers.keys().map(|s| s.to_string()).collect()
            }
            _ => return false,
        };
        let rng = self.world.rng();
        let Some(agent) = self.tunnel.as_mut().and_then(|t| t.agents.get_mut(who)) else {
            return true;
        };
        let dial = agent.sync(now, &servers, rng);
        let identifier = agent.identifier.clone();
        let next = agent.next_wakeup();
        if let Some(server) = dial {
            self.send(who.clone(), addr(&server), Msg::TunnelDial { identifier });
        }
        if let Some(t) = next {
            self.world.schedule_at(
                t.max(now + SimDuration::from_millis(1)),
                Event::Tick(who.clone()),
            );
        }
        true
    }

    /// Whether a fault can target this address (a server or an agent).
    pub(super) fn is_tunnel_addr(&self, a: &Addr) -> bool {
        self.tunnel.as_ref().is_some_and(|t| t.owns(a))
    }

    /// A konnectivity process stops: its connections reset, so the other
    /// ends forget its tunnels at once.
    pub(super) fn tunnel_crash(&mut self, a: &Addr) {
        let now = self.world.now();
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        let mut woken = Vec::new();
        if let Some(s) = t.servers.get_mut(a) {
            s.up = false;
            s.backends.clear();
            t.dials.retain(|(server, _), _| server != a);
            for (agent_addr, agent) in t.agents.iter_mut() {
                if agent.connected.contains(a.as_ref()) || agent.dialing.as_deref() == Some(a) {
                    agent.lost(now, a);
                    woken.push((agent_addr.clone(), agent.next_wakeup()));
                }
            }
        } else if let Some(agent) = t.agents.get_mut(a) {
            agent.stop();
            for s in t.servers.values_mut() {
                s.remove_agent(a);
            }
            t.dials.retain(|_, agent| agent != a);
        }
        for (who, next) in woken {
            if let Some(at) = next {
                self.world.schedule_at(at.max(now), Event::Tick(who));
            }
        }
        self.trace.record(|| TraceEvent {
            at: now,
            arrives: now,
            from: a.clone(),
            to: a.clone(),
            kind: "konnectivity".into(),
            summary: "stopped: its tunnels' connections reset".into(),
            dropped: None,
        });
    }

    /// A konnectivity process starts afresh.
    pub(super) fn tunnel_restart(&mut self, a: &Addr) {
        let now = self.world.now();
        let Some(t) = self.tunnel.as_mut() else {
            return;
        };
        if let Some(s) = t.servers.get_mut(a) {
            s.up = true;
        } else if let Some(agent) = t.agents.get_mut(a) {
            agent.start(now);
            self.world.schedule_at(now, Event::Tick(a.clone()));
        }
    }

    fn record_tunnel(&mut self, from: &Addr, to: &Addr, summary: String) {
        let now = self.world.now();
        self.trace.record(|| TraceEvent {
            at: now,
            arrives: now,
            from: from.clone(),
            to: to.clone(),
            kind: "konnectivity".into(),
            summary,
            dropped: None,
        });
    }

    /// Data for a kubelet's open stream (a port-forward connection).
    pub(super) fn kubelet_stream_input(
        &mut self,
        from: Addr,
        to: Addr,
        id: u64,
        input: &StreamInput,
    ) {
        let now = self.world.now();
        let served = self
            .clients
            .get_mut(&to)
            .filter(|s| s.up)
            .and_then(|s| s.agent_mut::<Kubelet>())
            .map(|k| k.stream_input(now, &from, id, input));
        let answers = served.unwrap_or_else(|| {
            vec![KubeletResponse::Closed(Some(
                "the kubelet is not running".into(),
            ))]
        });
        for response in answers {
            self.send(
                to.clone(),
                from.clone(),
                Msg::KubeletAnswer {
                    id,
                    response: Box::new(response),
                },
            );
        }
        // A request in a container logs a line, which an attach carries.
        self.flush_kubelet_streams(&to);
    }

    /// Sends what a kubelet's open streams carry since the last call.
    pub(super) fn flush_kubelet_streams(&mut self, who: &Addr) {
        let out = match self
            .clients
            .get_mut(who)
            .filter(|s| s.up)
            .and_then(|s| s.agent_mut::<Kubelet>())
        {
            Some(k) => k.poll_streams(),
            None => return,
        };
        for (caller, id, response) in out {
            self.send(
                who.clone(),
                addr(&caller),
                Msg::KubeletAnswer {
                    id,
                    response: Box::new(response),
                },
            );
        }
    }

    // ----- kubectl's side of an upgraded connection -----

    /// Sends a request whose connection upgrades (`pods/attach`,
    /// `pods/portforward`) and runs the cluster until its first answer;
    /// what follows stays for [`Cluster::take_replies_timed`].
    pub fn open(&mut self, request: ApiRequest) -> (u64, ApiResponse) {
        let id = self.submit(request);
        let answer = self
            .await_reply(id, super::CLIENT_TIMEOUT)
            .unwrap_or_else(|| {
                ApiResponse::Error(crate::api::ApiError::timeout(
                    "the client gave up waiting for the server (the request may still complete)",
                ))
            });
        (id, answer)
    }

    /// Runs the cluster until something arrives for kubectl's request `id`
    /// (at most `timeout`), and takes the first thing that did.
    pub fn await_reply(&mut self, id: u64, timeout: SimDuration) -> Option<ApiResponse> {
        let deadline = self.now() + timeout;
        loop {
            if let Some(v) = self.inbox.get_mut(&id) {
                if !v.is_empty() {
                    let first = v.remove(0).1;
                    return Some(first);
                }
            }
            match self.world.next_due() {
                Some(t) if t <= deadline => {
                    self.step(deadline);
                }
                _ => {
                    self.advance_to(deadline);
                    return None;
                }
            }
        }
    }

    /// kubectl sends data on the upgraded connection of its request `id`.
    pub fn stream_send(&mut self, id: u64, input: StreamInput) {
        self.send(
            addr(super::KUBECTL),
            addr(super::LOAD_BALANCER),
            Msg::ApiStreamInput {
                id,
                input: Box::new(input),
            },
        );
    }

    /// Konnectivity's processes as the page draws them: (server, node, up,
    /// connected agents) and (agent, node, up, tunnels).
    pub fn konnectivity_status(&self) -> Option<crate::snapshot::KonnectivityView> {
        let t = self.tunnel.as_ref()?;
        Some(crate::snapshot::KonnectivityView {
            servers: t
                .servers
                .iter()
                .map(|(a, s)| crate::snapshot::TunnelEndView {
                    name: a.to_string(),
                    node: self.hosts.get(a).cloned().unwrap_or_default(),
                    up: s.up && !self.crashed.contains(a),
                    tunnels: s.backends.len(),
                })
                .collect(),
            // One per node, where the DaemonSet puts it: down until its
            // pod's container runs.
            agents: self
                .topology
                .nodes()
                .map(|n| {
                    let a = addr(&konnectivity::agent_addr(&n.name));
                    match t.agents.get(&a) {
                        Some(g) => crate::snapshot::TunnelEndView {
                            name: a.to_string(),
                            node: g.node.clone(),
                            up: g.up,
                            tunnels: g.connected.len(),
                        },
                        None => crate::snapshot::TunnelEndView {
                            name: a.to_string(),
                            node: n.name.clone(),
                            up: false,
                            tunnels: 0,
                        },
                    }
                })
                .collect(),
        })
    }
}
