//! The API load balancer in front of the kube-apiserver instances (kubeadm's
//! `controlPlaneEndpoint`), modelled on the HAProxy setup the kubeadm HA
//! guide suggests: round-robin over the instances whose `/readyz` passes,
//! checked every 2 s, out after 3 failed checks, back after 2 good ones
//! (`check inter 2s fall 3 rise 2`).
//!
//! It is a TCP proxy: a request goes to one instance and its answer comes
//! back the same way; a watch stays pinned to the instance that opened it,
//! and if that instance dies the connection breaks and the client must
//! watch again. With no instance in rotation, connections are refused.

use super::request::{ApiRequest, ApiResponse};
use super::server::Addr;
use crate::api::ApiError;
use crate::world::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Health-check interval, and the failures and successes that flip a backend.
pub const CHECK_INTERVAL: SimDuration = SimDuration::from_secs(2);
pub const FALL: u32 = 3;
pub const RISE: u32 = 2;

#[derive(Clone, Debug)]
pub enum Input {
    /// A client's request.
    Request {
        from: Addr,
        id: u64,
        request: Box<ApiRequest>,
    },
    /// A client closes a watch.
    CancelWatch { from: Addr, id: u64 },
    /// A client sends data on an upgraded connection (port-forward).
    StreamInput {
        from: Addr,
        id: u64,
        input: Box<crate::kubelet::server::StreamInput>,
    },
    /// An instance answers a proxied request.
    Reply {
        backend: Addr,
        id: u64,
        response: Box<ApiResponse>,
    },
    /// An instance answers a health check.
    ProbeResult { backend: Addr, ready: bool },
    /// An instance crashed and its connections closed.
    BackendReset { backend: Addr },
    /// Time for health checks.
    Tick,
}

#[derive(Clone, Debug)]
pub enum Output {
    /// Forward a request to an instance (under the balancer's own id).
    Forward {
        backend: Addr,
        id: u64,
        request: Box<ApiRequest>,
    },
    CancelWatch {
        backend: Addr,
        id: u64,
    },
    /// Pass a client's data along its connection.
    StreamInput {
        backend: Addr,
        id: u64,
        input: Box<crate::kubelet::server::StreamInput>,
    },
    /// Answer a client.
    Reply {
        to: Addr,
        id: u64,
        response: Box<ApiResponse>,
    },
    /// Check an instance's `/readyz`.
    Probe {
        backend: Addr,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BackendStatus {
    pub name: String,
    pub in_rotation: bool,
    pub failures: u32,
    pub successes: u32,
}

#[derive(Clone, Debug)]
struct Backend {
    in_rotation: bool,
    failures: u32,
    successes: u32,
    /// A check was sent and not yet answered.
    awaiting: bool,
}

/// A proxied request: which client and id it came from, and whether it is a
/// watch (kept open after the first answer).
#[derive(Clone, Debug)]
struct Proxied {
    client: Addr,
    client_id: u64,
    backend: Addr,
    watch: bool,
}

#[derive(Clone, Debug)]
pub struct LoadBalancer {
    backends: BTreeMap<Addr, Backend>,
    next: usize,
    next_id: u64,
    proxied: BTreeMap<u64, Proxied>,
    by_client: BTreeMap<(Addr, u64), u64>,
    next_check: SimTime,
}

impl LoadBalancer {
    /// The instance a client's request (or watch) was proxied to, while it
    /// is open.
    pub fn backend_of(&self, client: &str, id: u64) -> Option<String> {
        let lb_id = self.by_client.get(&(Addr::from(client), id))?;
        self.proxied.get(lb_id).map(|p| p.backend.to_string())
    }

    /// A balancer over `backends`, none in rotation until they pass their
    /// first health checks (the balancer is set up before the API servers
    /// start, as in kubeadm's HA guide).
    pub fn new(backends: &[Addr]) -> Self {
        LoadBalancer {
            backends: backends
                .iter()
                .map(|b| {
                    (
                        b.clone(),
                        Backend {
                            in_rotation: false,
                            failures: 0,
                            successes: 0,
                            awaiting: false,
                        },
                    )
                })
                .collect(),
            next: 0,
            next_id: 1,
            proxied: BTreeMap::new(),
            by_client: BTreeMap::new(),
            next_check: SimTime::ZERO,
        }
    }

    pub fn status(&self) -> Vec<BackendStatus> {
        self.backends
            .iter()
            .map(|(n, b)| BackendStatus {
                name: n.to_string(),
                in_rotation: b.in_rotation,
                failures: b.failures,
                successes: b.successes,
            })
            .collect()
    }

    /// When the next health checks are due.
    pub fn next_check(&self) -> SimTime {
        self.next_check
    }

    fn pick(&mut self) -> Option<Addr> {
        let live: Vec<&Addr> = self
            .backends
            .iter()
            .filter(|(_, b)| b.in_rotation)
            .map(|(a, _)| a)
            .collect();
        if live.is_empty() {
            return None;
        }
        let chosen = live[self.next % live.len()].clone();
        self.next = self.next.wrapping_add(1);
        Some(chosen)
    }

    /// Breaks every connection to `backend` (it left the rotation or died).
    fn drop_connections(&mut self, backend: &Addr, out: &mut Vec<Output>) {
        let ids: Vec<u64> = self
            .proxied
            .iter()
            .filter(|(_, p)| &p.backend == backend)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(p) = self.proxied.remove(&id) {
                self.by_client.remove(&(p.client.clone(), p.client_id));
                let err =
                    ApiError::service_unavailable("the connection to the API server was reset");
                out.push(Output::Reply {
                    to: p.client,
                    id: p.client_id,
                    response: Box::new(if p.watch {
                        ApiResponse::WatchClosed(err)
                    } else {
                        ApiResponse::Error(err)
                    }),
                });
            }
        }
    }

    pub fn handle(&mut self, now: SimTime, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Request { from, id, request } => match self.pick() {
                None => out.push(Output::Reply {
                    to: from,
                    id,
                    response: Box::new(ApiResponse::Error(ApiError::service_unavailable(
                        "connection refused: no kube-apiserver behind the load balancer is ready",
                    ))),
                }),
                Some(backend) => {
                    let lb_id = self.next_id;
                    self.next_id += 1;
                    // Watches, upgraded connections (attach,
                    // port-forward) and followed logs stay open on their
                    // instance.
                    let watch = request.verb == super::request::Verb::Watch
                        || super::request::stays_open(&request);
                    self.proxied.insert(
                        lb_id,
                        Proxied {
                            client: from.clone(),
                            client_id: id,
                            backend: backend.clone(),
                            watch,
                        },
                    );
                    self.by_client.insert((from, id), lb_id);
                    out.push(Output::Forward {
                        backend,
                        id: lb_id,
                        request,
                    });
                }
            },
            Input::CancelWatch { from, id } => {
                if let Some(lb_id) = self.by_client.remove(&(from, id)) {
                    if let Some(p) = self.proxied.remove(&lb_id) {
                        out.push(Output::CancelWatch {
                            backend: p.backend,
                            id: lb_id,
                        });
                    }
                }
            }
            Input::StreamInput { from, id, input } => {
                if let Some(lb_id) = self.by_client.get(&(from, id)).copied() {
                    if let Some(p) = self.proxied.get(&lb_id) {
                        out.push(Output::StreamInput {
                            backend: p.backend.clone(),
                            id: lb_id,
                            input,
                        });
                    }
                }
            }
            Input::Reply {
                backend,
                id,
                response,
            } => {
                let Some(p) = self.proxied.get(&id) else {
                    return out;
                };
                if p.backend != backend {
                    return out;
                }
                let (client, client_id, watch) = (p.client.clone(), p.client_id, p.watch);
                let ends = !watch
                    || matches!(
                        *response,
                        ApiResponse::WatchClosed(_)
                            | ApiResponse::Error(_)
                            | ApiResponse::StreamClosed(_)
                    );
                if ends {
                    self.proxied.remove(&id);
                    self.by_client.remove(&(client.clone(), client_id));
                }
                out.push(Output::Reply {
                    to: client,
                    id: client_id,
                    response,
                });
            }
            Input::BackendReset { backend } => self.drop_connections(&backend, &mut out),
            Input::ProbeResult { backend, ready } => {
                if let Some(b) = self.backends.get_mut(&backend) {
                    b.awaiting = false;
                    self.record(&backend, ready, &mut out);
                }
            }
            Input::Tick => {
                if now < self.next_check {
                    return out;
                }
                self.next_check = now + CHECK_INTERVAL;
                let names: Vec<Addr> = self.backends.keys().cloned().collect();
                for name in names {
                    // A check still unanswered from last time failed (timeout).
                    let unanswered = self.backends.get(&name).is_some_and(|b| b.awaiting);
                    if unanswered {
                        self.record(&name, false, &mut out);
                    }
                    if let Some(b) = self.backends.get_mut(&name) {
                        b.awaiting = true;
                    }
                    out.push(Output::Probe { backend: name });
                }
            }
        }
        out
    }

    fn record(&mut self, backend: &Addr, ready: bool, out: &mut Vec<Output>) {
        let Some(b) = self.backends.get_mut(backend) else {
            return;
        };
        if ready {
            b.failures = 0;
            b.successes = b.successes.saturating_add(1);
            if !b.in_rotation && b.successes >= RISE {
                b.in_rotation = true;
            }
        } else {
            b.successes = 0;
            b.failures = b.failures.saturating_add(1);
            if b.in_rotation && b.failures >= FALL {
                b.in_rotation = false;
                self.drop_connections(backend, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::KindId;
    use crate::apiserver::auth::authn::Credential;
    use crate::apiserver::request::Verb;

    fn addr(s: &str) -> Addr {
        s.into()
    }

    fn get() -> ApiRequest {
        ApiRequest::new(Verb::List, KindId::Pod, Credential::None)
    }

    fn healthy(names: &[&str]) -> LoadBalancer {
        let backends: Vec<Addr> = names.iter().map(|n| addr(n)).collect();
        let mut lb = LoadBalancer::new(&backends);
        for t in 0..RISE as u64 {
            lb.handle(SimTime(t * 2000), Input::Tick);
            for b in &backends {
                lb.handle(
                    SimTime(t * 2000),
                    Input::ProbeResult {
                        backend: b.clone(),
                        ready: true,
                    },
                );
            }
        }
        lb
    }

    #[test]
    fn backends_join_the_rotation_after_two_good_checks() {
        let mut lb = LoadBalancer::new(&[addr("a")]);
        assert!(!lb.status()[0].in_rotation);
        lb.handle(SimTime(0), Input::Tick);
        lb.handle(
            SimTime(0),
            Input::ProbeResult {
                backend: addr("a"),
                ready: true,
            },
        );
        assert!(!lb.status()[0].in_rotation);
        lb.handle(SimTime(2000), Input::Tick);
        lb.handle(
            SimTime(2000),
            Input::ProbeResult {
                backend: addr("a"),
                ready: true,
            },
        );
        assert!(lb.status()[0].in_rotation);
    }

    #[test]
    fn requests_are_spread_round_robin() {
        let mut lb = healthy(&["a", "b", "c"]);
        let picked: Vec<String> = (0..6)
            .flat_map(|i| {
                lb.handle(
                    SimTime::ZERO,
                    Input::Request {
                        from: addr("kubectl"),
                        id: i,
                        request: Box::new(get()),
                    },
                )
            })
            .filter_map(|o| match o {
                Output::Forward { backend, .. } => Some(backend.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c"]);
    }

    #[test]
    fn a_backend_failing_three_checks_leaves_the_rotation_and_returns_after_two() {
        let mut lb = healthy(&["a", "b"]);
        for t in 2..5 {
            lb.handle(SimTime(t * 2000), Input::Tick);
            lb.handle(
                SimTime(t * 2000),
                Input::ProbeResult {
                    backend: addr("a"),
                    ready: true,
                },
            );
            lb.handle(
                SimTime(t * 2000),
                Input::ProbeResult {
                    backend: addr("b"),
                    ready: false,
                },
            );
        }
        let status = lb.status();
        assert!(status[0].in_rotation);
        assert!(!status[1].in_rotation);
        for t in 5..7 {
            lb.handle(SimTime(t * 2000), Input::Tick);
            lb.handle(
                SimTime(t * 2000),
                Input::ProbeResult {
                    backend: addr("b"),
                    ready: true,
                },
            );
        }
        assert!(lb.status()[1].in_rotation);
    }

    #[test]
    fn an_unanswered_check_counts_as_a_failure() {
        let mut lb = healthy(&["a"]);
        for t in 2..6 {
            lb.handle(SimTime(t * 2000), Input::Tick);
        }
        assert!(!lb.status()[0].in_rotation);
        let out = lb.handle(
            SimTime(9000),
            Input::Request {
                from: addr("kubectl"),
                id: 1,
                request: Box::new(get()),
            },
        );
        match &out[0] {
            Output::Reply { response, .. } => match &**response {
                ApiResponse::Error(e) => assert_eq!(e.code(), 503),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_go_back_to_the_client_that_asked() {
        let mut lb = healthy(&["a"]);
        let out = lb.handle(
            SimTime::ZERO,
            Input::Request {
                from: addr("kubectl"),
                id: 7,
                request: Box::new(get()),
            },
        );
        let Output::Forward { id, .. } = &out[0] else {
            panic!()
        };
        let out = lb.handle(
            SimTime::ZERO,
            Input::Reply {
                backend: addr("a"),
                id: *id,
                response: Box::new(ApiResponse::WatchStarted),
            },
        );
        match &out[0] {
            Output::Reply { to, id, .. } => assert_eq!((to.as_ref(), *id), ("kubectl", 7)),
            other => panic!("{other:?}"),
        }
    }
}
