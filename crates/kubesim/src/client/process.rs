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
//! Every clientset client-go builds from a `rest.Config` has its own
//! client-side rate limiter, a token bucket of `QPS` and `Burst`
//! (`flowcontrol.NewTokenBucketRateLimiter` in `rest.RESTClientFor`), and
//! a request waits for a token before it leaves (`Request.tryThrottle`);
//! watches do not (`Request.Watch`: "We specifically don't want to rate
//! limit watches"). A component whose [`Agent::rate_limit`] names its
//! QPS and burst gets that here: each of its clients ([`Agent::client_for`])
//! has a bucket, full at start, and a request with no token waits in the
//! process until its turn, as `rate.Limiter.Wait` reserves turns in order.
//! That is what makes a large rollout take its time in a real cluster:
//! kube-controller-manager's 20 requests/s, the scheduler's 50 binds/s.
//!
//! Left out: HTTP/2 connection sharing, and protobuf encoding.

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

/// A client-side rate limit: client-go's `rest.Config` `QPS` and `Burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second the bucket refills (must divide 1000 evenly to
    /// be exact on the millisecond clock; the defaults 5, 20, 50 do).
    pub qps: u32,
    /// The bucket's size: how many requests may leave at once.
    pub burst: u32,
}

/// Which of a component's clients sends a request: each has its own token
/// bucket. `None` from [`Agent::client_for`] is a client without a limit.
pub type ClientId = u64;

/// The component's main clientset (the one its informers use unless
/// [`Agent::informer_client`] says otherwise).
pub const CLIENT_MAIN: ClientId = 0;
/// The event broadcaster's own client (the scheduler's `eventClient`, the
/// kubelet's `EventClient`, the controller manager's broadcaster).
pub const CLIENT_EVENTS: ClientId = 1;
/// The leader-election client (`leaderElectionClient`).
pub const CLIENT_LEADER_ELECTION: ClientId = 2;
/// kube-controller-manager's `shared-informers` client.
pub const CLIENT_INFORMERS: ClientId = 3;

/// A token bucket as a generic cell rate: the time the bucket would be
/// full again (`tat`), in milliseconds. A request at `now` may leave at
/// `max(now, tat - (burst - 1) * interval)` and pushes `tat` on by one
/// interval: the same turns `rate.Limiter.Reserve` hands out in order.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    tat: u64,
}

impl Bucket {
    /// When a request arriving at `now` may leave, reserving its turn.
    fn reserve(&mut self, now: SimTime, limit: RateLimit) -> SimTime {
        let interval = 1000 / u64::from(limit.qps.max(1));
        let tat = self.tat.max(now.as_millis());
        let leave = tat
            .saturating_sub(interval * u64::from(limit.burst.max(1) - 1))
            .max(now.as_millis());
        self.tat = tat + interval;
        SimTime(leave)
    }
}

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
    /// The component's client-side rate limit (`--kube-api-qps`,
    /// `--kube-api-burst` or its config's `clientConnection`); `None` for
    /// none.
    fn rate_limit(&self) -> Option<RateLimit> {
        None
    }
    /// Which client sends the agent's request `tag`: events go through the
    /// event broadcaster's client and Leases through the leader-election
    /// client in every component, the rest through the main one.
    fn client_for(&self, _tag: Tag, request: &ApiRequest) -> Option<ClientId> {
        Some(match request.kind {
            crate::api::KindId::Event => CLIENT_EVENTS,
            crate::api::KindId::Lease => CLIENT_LEADER_ELECTION,
            _ => CLIENT_MAIN,
        })
    }
    /// Which client the informers' lists go through.
    fn informer_client(&self) -> Option<ClientId> {
        Some(CLIENT_MAIN)
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
    /// When it left the process (its turn from the rate limiter).
    sent_at: SimTime,
    answered: bool,
    /// Whether it still waits in the process for a token.
    held: bool,
}

/// A client process: an agent, its informers and its requests in flight.
#[derive(Clone)]
pub struct Process<A: Agent> {
    agent: A,
    informers: Vec<Informer>,
    /// The request each informer is waiting on.
    current: Vec<Option<u64>>,
    pending: BTreeMap<u64, Pending>,
    next_id: u64,
    /// Each client's token bucket.
    buckets: BTreeMap<ClientId, Bucket>,
    /// Requests waiting for their turn: (when they leave, id).
    held: BTreeMap<(SimTime, u64), Box<ApiRequest>>,
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
            buckets: BTreeMap::new(),
            held: BTreeMap::new(),
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
        self.release_due(now, &mut out);
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
        self.release_due(now, &mut out);
        // Requests of the agent's that went unanswered too long fail.
        let expired: Vec<(u64, Tag)> = self
            .pending
            .iter()
            .filter_map(|(id, p)| match p.owner {
                Owner::Agent { tag, watch } if !(p.held || watch && p.answered) => {
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
            .filter(|p| !p.held)
            .filter(|p| matches!(p.owner, Owner::Agent { watch, .. } if !(watch && p.answered)))
            .map(|p| p.sent_at + REQUEST_TIMEOUT);
        self.informers
            .iter()
            .filter_map(Informer::next_wakeup)
            .chain(self.agent.next_wakeup())
            .chain(agent_requests)
            .chain(self.held.keys().next().map(|(t, _)| *t))
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
            let client = self.agent.client_for(tag, &request);
            self.send(now, id, Owner::Agent { tag, watch }, client, request, out);
        }
    }

    /// Sends request `id` now, or holds it until its client's bucket gives
    /// it a turn.
    fn send(
        &mut self,
        now: SimTime,
        id: u64,
        owner: Owner,
        client: Option<ClientId>,
        request: ApiRequest,
        out: &mut Vec<Output>,
    ) {
        let leave = match (self.agent.rate_limit(), client) {
            (Some(limit), Some(client)) if request.verb != Verb::Watch => {
                self.buckets.entry(client).or_default().reserve(now, limit)
            }
            _ => now,
        };
        let held = leave > now;
        self.pending.insert(
            id,
            Pending {
                owner,
                sent_at: leave,
                answered: false,
                held,
            },
        );
        if held {
            self.held.insert((leave, id), Box::new(request));
        } else {
            out.push(Output::Send {
                id,
                request: Box::new(request),
            });
        }
    }

    /// Sends the held requests whose turn has come.
    fn release_due(&mut self, now: SimTime, out: &mut Vec<Output>) {
        while let Some(entry) = self.held.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, id), request) = entry.remove_entry();
            if let Some(p) = self.pending.get_mut(&id) {
                p.held = false;
                out.push(Output::Send { id, request });
            }
        }
    }

    /// Forgets request `id`: a held one never leaves, a sent one is
    /// cancelled on the wire.
    fn drop_request(&mut self, id: u64, out: &mut Vec<Output>) {
        if let Some(p) = self.pending.remove(&id) {
            if p.held {
                self.held.remove(&(p.sent_at, id));
            } else {
                out.push(Output::Cancel { id });
            }
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
                    self.drop_request(old, out);
                }
                let id = self.next_id;
                self.next_id += 1;
                self.current[i] = Some(id);
                let client = self.agent.informer_client();
                self.send(now, id, Owner::Informer(i), client, request, out);
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

    /// An agent that sends `n` Gets at start through a 20/30 client.
    struct Burst(usize);

    impl Agent for Burst {
        fn informers(&self) -> Vec<InformerConfig> {
            Vec::new()
        }
        fn credential(&self) -> Credential {
            Credential::None
        }
        fn on_start(&mut self, ctx: &mut Ctx<'_>) {
            for tag in 0..self.0 as Tag {
                ctx.send(
                    tag,
                    ApiRequest::new(Verb::Get, KindId::Namespace, Credential::None),
                );
            }
            ctx.send(
                99,
                ApiRequest::new(Verb::Watch, KindId::Namespace, Credential::None),
            );
        }
        fn on_notification(&mut self, _: &mut Ctx<'_>, _: usize, _: &Notification) {}
        fn on_reply(&mut self, _: &mut Ctx<'_>, _: Tag, _: ApiResponse) {}
        fn on_wake(&mut self, _: &mut Ctx<'_>) {}
        fn next_wakeup(&self) -> Option<SimTime> {
            None
        }
        fn rate_limit(&self) -> Option<RateLimit> {
            Some(RateLimit { qps: 20, burst: 30 })
        }
    }

    #[test]
    fn a_rate_limited_client_sends_its_burst_then_one_request_every_fiftieth_of_a_second() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(Burst(40)).unwrap();
        let out = p.start(SimTime::ZERO, &mut rng);
        let gets = |out: &[Output]| sends(out).iter().filter(|(_, v)| *v == Verb::Get).count();
        assert_eq!(gets(&out), 30, "the bucket starts full");
        assert!(
            sends(&out).iter().any(|(_, v)| *v == Verb::Watch),
            "a watch does not wait for a token"
        );
        assert_eq!(p.next_wakeup(), Some(SimTime(50)));
        assert_eq!(gets(&p.on_wake(SimTime(49), &mut rng)), 0);
        assert_eq!(gets(&p.on_wake(SimTime(50), &mut rng)), 1);
        // Ten more need nine more intervals after the first.
        assert_eq!(gets(&p.on_wake(SimTime(500), &mut rng)), 9);
        assert_eq!(
            p.next_wakeup(),
            Some(SimTime::ZERO + REQUEST_TIMEOUT),
            "all left: what is next is the burst's timeout"
        );
    }

    #[test]
    fn a_request_waiting_for_its_turn_does_not_time_out_while_it_waits() {
        let mut rng = SimRng::new(1);
        // 30 leave at once, then one every 50 ms: the 630th leaves at 30 s.
        let mut p = Process::new(Burst(630)).unwrap();
        p.start(SimTime::ZERO, &mut rng);
        let out = p.on_wake(SimTime::ZERO + REQUEST_TIMEOUT, &mut rng);
        let cancelled = out
            .iter()
            .filter(|o| matches!(o, Output::Cancel { .. }))
            .count();
        assert_eq!(
            cancelled, 31,
            "only the burst and the unanswered watch were on the wire for 30 s"
        );
        assert_eq!(sends(&out).len(), 600, "the rest left in their turns");
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
