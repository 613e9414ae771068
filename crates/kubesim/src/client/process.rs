//! A client process of the API: what every component other than etcd and
//! kube-apiserver is, seen from the network.
//!
//! In Kubernetes the kubelet, kube-proxy, the scheduler, the controller
//! managers and CoreDNS are all programs built on client-go: a REST client
//! with a credential (a kubeconfig), shared informers that list and watch the
//! kinds the program cares about, and the program's own logic reacting to
//! informer events, timers and the answers to its writes.
//!
//! [`Process`] is that shell as a pure state machine. It owns the
//! [`Informer`]s an [`Agent`] asks for, numbers every request, routes each
//! answer back to the informer or the agent's request that it belongs to,
//! cancels watches an informer replaced, gives up on requests that go
//! unanswered (client-go's default request timeout is none; here a lost
//! answer fails after [`REQUEST_TIMEOUT`] so no agent waits forever) and
//! says when it next needs to wake. The cluster delivers what it returns.
//!
//! Left out: client-side rate limiting (client-go's QPS/burst), HTTP/2
//! connection sharing, and protobuf encoding.

use super::informer::{Informer, InformerConfig, InformerError, Notification, Store};
use crate::api::ApiError;
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::world::{SimDuration, SimRng, SimTime};
use std::collections::BTreeMap;

/// How long an agent's request may go unanswered before it fails.
pub const REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// The agent's own label for a request, handed back with its answer.
pub type Tag = u64;

/// What an agent sees and does while handling one input.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub rng: &'a mut SimRng,
    informers: &'a [Informer],
    sent: &'a mut Vec<(Tag, ApiRequest)>,
}

impl<'a> Ctx<'a> {
    /// The store of the agent's `i`-th informer (in the order
    /// [`Agent::informers`] listed them).
    pub fn store(&self, i: usize) -> Option<&'a Store> {
        self.informers.get(i).map(Informer::store)
    }

    /// Whether every informer has listed once (`WaitForCacheSync`).
    pub fn synced(&self) -> bool {
        self.informers.iter().all(|i| i.store().has_synced())
    }

    /// Sends a request; its answer comes back through
    /// [`Agent::on_reply`] with `tag`.
    pub fn send(&mut self, tag: Tag, request: ApiRequest) {
        self.sent.push((tag, request));
    }
}

/// A component's logic, driven by its process.
pub trait Agent {
    /// The informers to run, in the order [`Ctx::store`] numbers them.
    fn informers(&self) -> Vec<InformerConfig>;
    /// The credential the process's requests carry (its kubeconfig).
    fn credential(&self) -> Credential;
    /// The process just started (or restarted with a fresh state).
    fn on_start(&mut self, ctx: &mut Ctx<'_>);
    /// An informer heard of a change.
    fn on_notification(&mut self, ctx: &mut Ctx<'_>, informer: usize, n: &Notification);
    /// The answer to a request the agent sent (watches the agent opens
    /// itself get one call per event).
    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse);
    /// A timer the agent asked for (through [`Agent::next_wakeup`]) is due.
    fn on_wake(&mut self, ctx: &mut Ctx<'_>);
    /// When the agent next needs [`Agent::on_wake`].
    fn next_wakeup(&self) -> Option<SimTime>;
    /// Whether [`Agent::credential`] changed since the last call (a
    /// rotated client certificate): the informers' next requests carry the
    /// new one, as client-go's rotating transport hands every client the
    /// current certificate.
    fn take_credential_change(&mut self) -> bool {
        false
    }
}

/// What a process asks the network to carry.
#[derive(Clone, Debug)]
pub enum Output {
    Send { id: u64, request: Box<ApiRequest> },
    Cancel { id: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Informer(usize),
    Agent { tag: Tag, watch: bool },
}

#[derive(Clone, Debug)]
struct Pending {
    owner: Owner,
    sent_at: SimTime,
    answered: bool,
}

/// A client process: an agent, its informers and its requests in flight.
pub struct Process<A: Agent> {
    agent: A,
    informers: Vec<Informer>,
    /// The request each informer is waiting on.
    current: Vec<Option<u64>>,
    pending: BTreeMap<u64, Pending>,
    next_id: u64,
}

impl<A: Agent> Process<A> {
    /// A process for `agent`; fails if one of its informers is misconfigured.
    pub fn new(agent: A) -> Result<Self, InformerError> {
        let credential = agent.credential();
        let informers = agent
            .informers()
            .into_iter()
            .map(|c| Informer::new(c, credential.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let n = informers.len();
        Ok(Process {
            agent,
            informers,
            current: vec![None; n],
            pending: BTreeMap::new(),
            next_id: 1,
        })
    }

    pub fn agent(&self) -> &A {
        &self.agent
    }

    pub fn agent_mut(&mut self) -> &mut A {
        &mut self.agent
    }

    /// The `i`-th informer's store.
    pub fn store(&self, i: usize) -> Option<&Store> {
        self.informers.get(i).map(Informer::store)
    }

    /// Requests sent and not yet answered (watches count while open).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Starts the process: the agent's start, then the informers' lists.
    pub fn start(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output> {
        let mut out = Vec::new();
        let mut sent = Vec::new();
        {
            let mut ctx = Ctx {
                now,
                rng,
                informers: &self.informers,
                sent: &mut sent,
            };
            self.agent.on_start(&mut ctx);
        }
        self.flush(now, sent, &mut out);
        self.pump(now, rng, &mut out);
        out
    }

    /// An answer to request `id` arrived.
    pub fn on_reply(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        id: u64,
        response: ApiResponse,
    ) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(p) = self.pending.get_mut(&id) else {
            // An answer to a request given up on, or to a replaced watch.
            return out;
        };
        p.answered = true;
        let owner = p.owner;
        let ends = match owner {
            Owner::Agent { watch: false, .. } => true,
            _ => matches!(
                response,
                ApiResponse::Error(_) | ApiResponse::WatchClosed(_) | ApiResponse::List { .. }
            ),
        };
        if ends {
            self.pending.remove(&id);
        }
        match owner {
            Owner::Informer(i) => {
                if self.current.get(i).copied().flatten() != Some(id) {
                    return out;
                }
                if ends {
                    self.current[i] = None;
                }
                let heard = match self.informers.get_mut(i) {
                    Some(inf) => inf.on_response(now, response),
                    None => Vec::new(),
                };
                self.notify(now, rng, i, heard, &mut out);
            }
            Owner::Agent { tag, .. } => {
                let mut sent = Vec::new();
                {
                    let mut ctx = Ctx {
                        now,
                        rng,
                        informers: &self.informers,
                        sent: &mut sent,
                    };
                    self.agent.on_reply(&mut ctx, tag, response);
                }
                self.flush(now, sent, &mut out);
            }
        }
        self.pump(now, rng, &mut out);
        out
    }

    /// Time passed: due timers, resyncs, back-offs and timeouts.
    pub fn on_wake(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<Output> {
        let mut out = Vec::new();
        // Requests of the agent's that went unanswered too long fail.
        let expired: Vec<(u64, Tag)> = self
            .pending
            .iter()
            .filter_map(|(id, p)| match p.owner {
                Owner::Agent { tag, watch } if !(watch && p.answered) => {
                    (now.saturating_since(p.sent_at) >= REQUEST_TIMEOUT).then_some((*id, tag))
                }
                _ => None,
            })
            .collect();
        for (id, tag) in expired {
            self.pending.remove(&id);
            out.push(Output::Cancel { id });
            let mut sent = Vec::new();
            {
                let mut ctx = Ctx {
                    now,
                    rng,
                    informers: &self.informers,
                    sent: &mut sent,
                };
                self.agent.on_reply(
                    &mut ctx,
                    tag,
                    ApiResponse::Error(ApiError::timeout(
                        "the client gave up waiting for the server",
                    )),
                );
            }
            self.flush(now, sent, &mut out);
        }
        for i in 0..self.informers.len() {
            let heard = self.informers[i].resync(now);
            self.notify(now, rng, i, heard, &mut out);
        }
        if self.agent.next_wakeup().is_some_and(|t| t <= now) {
            let mut sent = Vec::new();
            {
                let mut ctx = Ctx {
                    now,
                    rng,
                    informers: &self.informers,
                    sent: &mut sent,
                };
                self.agent.on_wake(&mut ctx);
            }
            self.flush(now, sent, &mut out);
        }
        self.pump(now, rng, &mut out);
        out
    }

    /// When the process next needs [`Process::on_wake`].
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let agent_requests = self
            .pending
            .values()
            .filter(|p| matches!(p.owner, Owner::Agent { watch, .. } if !(watch && p.answered)))
            .map(|p| p.sent_at + REQUEST_TIMEOUT);
        self.informers
            .iter()
            .filter_map(Informer::next_wakeup)
            .chain(self.agent.next_wakeup())
            .chain(agent_requests)
            .min()
    }

    fn notify(
        &mut self,
        now: SimTime,
        rng: &mut SimRng,
        i: usize,
        heard: Vec<Notification>,
        out: &mut Vec<Output>,
    ) {
        if heard.is_empty() {
            return;
        }
        let mut sent = Vec::new();
        {
            let mut ctx = Ctx {
                now,
                rng,
                informers: &self.informers,
                sent: &mut sent,
            };
            for n in &heard {
                self.agent.on_notification(&mut ctx, i, n);
            }
        }
        self.flush(now, sent, out);
    }

    fn flush(&mut self, now: SimTime, sent: Vec<(Tag, ApiRequest)>, out: &mut Vec<Output>) {
        for (tag, request) in sent {
            let id = self.next_id;
            self.next_id += 1;
            let watch = request.verb == Verb::Watch;
            self.pending.insert(
                id,
                Pending {
                    owner: Owner::Agent { tag, watch },
                    sent_at: now,
                    answered: false,
                },
            );
            out.push(Output::Send {
                id,
                request: Box::new(request),
            });
        }
    }

    /// Sends what the informers ask for until none asks for more.
    fn pump(&mut self, now: SimTime, _rng: &mut SimRng, out: &mut Vec<Output>) {
        if self.agent.take_credential_change() {
            let credential = self.agent.credential();
            for informer in &mut self.informers {
                informer.set_credential(credential.clone());
            }
        }
        for i in 0..self.informers.len() {
            for request in self.informers[i].poll(now) {
                if let Some(old) = self.current[i].take() {
                    if self.pending.remove(&old).is_some() {
                        out.push(Output::Cancel { id: old });
                    }
                }
                let id = self.next_id;
                self.next_id += 1;
                self.current[i] = Some(id);
                self.pending.insert(
                    id,
                    Pending {
                        owner: Owner::Informer(i),
                        sent_at: now,
                        answered: false,
                    },
                );
                out.push(Output::Send {
                    id,
                    request: Box::new(request),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{KindId, Object};
    use k8s_openapi::api::core::v1::ConfigMap;
    use std::rc::Rc;

    #[derive(Default)]
    struct Probe {
        heard: Vec<String>,
        replies: Vec<(Tag, u16)>,
        wake_at: Option<SimTime>,
        woke: u32,
    }

    impl Agent for Probe {
        fn informers(&self) -> Vec<InformerConfig> {
            vec![InformerConfig::new(KindId::ConfigMap)]
        }
        fn credential(&self) -> Credential {
            Credential::None
        }
        fn on_start(&mut self, ctx: &mut Ctx<'_>) {
            ctx.send(
                7,
                ApiRequest::new(Verb::Get, KindId::Namespace, Credential::None),
            );
            self.wake_at = Some(ctx.now + SimDuration::from_secs(5));
        }
        fn on_notification(&mut self, _ctx: &mut Ctx<'_>, i: usize, n: &Notification) {
            self.heard.push(format!("{i}:{:?}", n.key()));
        }
        fn on_reply(&mut self, _ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
            self.replies.push((tag, response.code()));
        }
        fn on_wake(&mut self, _ctx: &mut Ctx<'_>) {
            self.woke += 1;
            self.wake_at = None;
        }
        fn next_wakeup(&self) -> Option<SimTime> {
            self.wake_at
        }
    }

    fn sends(out: &[Output]) -> Vec<(u64, Verb)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send { id, request } => Some((*id, request.verb)),
                Output::Cancel { .. } => None,
            })
            .collect()
    }

    fn config_map(name: &str, rv: &str) -> Rc<Object> {
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(name.into());
        cm.metadata.namespace = Some("default".into());
        cm.metadata.resource_version = Some(rv.into());
        Rc::new(Object::ConfigMap(Box::new(cm)))
    }

    #[test]
    fn starting_sends_the_agents_requests_and_the_informers_list() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(Probe::default()).unwrap();
        let out = p.start(SimTime::ZERO, &mut rng);
        assert_eq!(sends(&out), vec![(1, Verb::Get), (2, Verb::List)]);
    }

    #[test]
    fn a_list_answer_feeds_the_informer_which_then_watches() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(Probe::default()).unwrap();
        p.start(SimTime::ZERO, &mut rng);
        let out = p.on_reply(
            SimTime(10),
            &mut rng,
            2,
            ApiResponse::List {
                kind: KindId::ConfigMap,
                items: vec![config_map("a", "5")],
                resource_version: 5,
            },
        );
        assert_eq!(sends(&out), vec![(3, Verb::Watch)]);
        assert_eq!(p.agent().heard, vec!["0:Some(\"default/a\")", "0:None"]);
        assert_eq!(p.store(0).map(Store::len), Some(1));
    }

    #[test]
    fn an_agents_answer_reaches_it_with_its_tag() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(Probe::default()).unwrap();
        p.start(SimTime::ZERO, &mut rng);
        p.on_reply(
            SimTime(5),
            &mut rng,
            1,
            ApiResponse::Error(ApiError::not_found(KindId::Namespace.info(), "x")),
        );
        assert_eq!(p.agent().replies, vec![(7, 404)]);
        assert_eq!(p.in_flight(), 1, "only the informer's list is left");
    }

    #[test]
    fn an_unanswered_request_fails_with_a_timeout_after_thirty_seconds() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(Probe::default()).unwrap();
        p.start(SimTime::ZERO, &mut rng);
        assert_eq!(
            p.next_wakeup(),
            Some(SimTime::ZERO + SimDuration::from_secs(5))
        );
        p.on_wake(SimTime::ZERO + SimDuration::from_secs(5), &mut rng);
        assert_eq!(p.agent().woke, 1);
        let out = p.on_wake(SimTime::ZERO + REQUEST_TIMEOUT, &mut rng);
        assert!(out.iter().any(|o| matches!(o, Output::Cancel { id: 1 })));
        assert_eq!(p.agent().replies, vec![(7, 504)]);
    }
}
