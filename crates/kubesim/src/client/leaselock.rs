//! The Lease lock a [`LeaderElector`] runs over, as an agent uses it:
//! client-go's `resourcelock.LeaseLock` plus the elector's loop
//! (`LeaderElector.acquire` / `renew`, every `retryPeriod` with jitter 1.2).
//!
//! The lock reads the Lease, lets the elector decide, and writes; the agent
//! forwards the answers to requests tagged [`LeaseLock::TAG`] and asks
//! [`LeaseLock::is_leader`] before acting.

use super::leaderelection::{Action, LeaderElectionConfig, LeaderElector, LeaseRecord};
use super::process::{Ctx, Tag};
use crate::api::time::{to_micro_time, to_sim_time};
use crate::api::{KindId, Object, Reason};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};

/// client-go's `JitterFactor`.
const JITTER: f64 = 1.2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InFlight {
    Read,
    Write,
}

/// A candidate's Lease lock.
#[derive(Clone, Debug)]
pub struct LeaseLock {
    namespace: String,
    name: String,
    elector: LeaderElector,
    in_flight: Option<InFlight>,
    next: SimTime,
    /// When leadership was last gained.
    pub leading_since: Option<SimTime>,
}

fn micro(t: &MicroTime) -> SimTime {
    to_sim_time(&Time(t.0))
}

fn record_of(lease: &Lease) -> LeaseRecord {
    let spec = lease.spec.clone().unwrap_or_default();
    LeaseRecord {
        holder: spec.holder_identity,
        lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0).max(0) as u64,
        acquire_time: spec
            .acquire_time
            .as_ref()
            .map(micro)
            .unwrap_or(SimTime::ZERO),
        renew_time: spec.renew_time.as_ref().map(micro).unwrap_or(SimTime::ZERO),
        lease_transitions: spec.lease_transitions.unwrap_or(0).max(0) as u32,
        resource_version: lease.metadata.resource_version.clone(),
    }
}

impl LeaseLock {
    /// Requests of the lock carry this tag; the agent hands their answers
    /// to [`LeaseLock::on_reply`].
    pub const TAG: Tag = u64::MAX - 1;

    pub fn new(namespace: &str, name: &str, identity: String, now: SimTime) -> Self {
        LeaseLock {
            namespace: namespace.into(),
            name: name.into(),
            elector: LeaderElector::new(identity, LeaderElectionConfig::default()),
            in_flight: None,
            next: now,
            leading_since: None,
        }
    }

    pub fn identity(&self) -> &str {
        self.elector.identity()
    }

    pub fn is_leader(&self) -> bool {
        self.elector.is_leader()
    }

    /// The holder this candidate last saw.
    pub fn observed_holder(&self) -> Option<&str> {
        self.elector.observed_holder()
    }

    pub fn next_wakeup(&self) -> Option<SimTime> {
        match self.in_flight {
            None => Some(self.next),
            Some(_) => None,
        }
    }

    fn request(&self, verb: Verb, credential: &Credential) -> ApiRequest {
        ApiRequest::new(verb, KindId::Lease, credential.clone()).in_namespace(&self.namespace)
    }

    /// Reads the Lease if a retry is due. Returns whether leadership was
    /// just lost (the renew deadline passed).
    pub fn poll(&mut self, ctx: &mut Ctx<'_>, credential: &Credential) -> bool {
        let lost = self.elector.check_deadline(ctx.now);
        if lost {
            self.leading_since = None;
        }
        if self.in_flight.is_none() && self.next <= ctx.now {
            self.in_flight = Some(InFlight::Read);
            ctx.send(
                Self::TAG,
                self.request(Verb::Get, credential).named(&self.name),
            );
        }
        lost
    }

    fn schedule_retry(&mut self, ctx: &mut Ctx<'_>) {
        let period = self.elector.config().retry_period.as_millis();
        // `wait.JitterUntil(..., retryPeriod, JitterFactor, ...)`: a wait
        // in [period, period * (1 + JitterFactor)).
        let extra = (period as f64 * JITTER) as u64;
        let jittered = period + ctx.rng.between(0, extra.max(1) - 1);
        self.next = ctx.now + SimDuration::from_millis(jittered);
    }

    /// The answer to the lock's request. Returns whether this candidate just
    /// became leader.
    pub fn on_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        credential: &Credential,
        response: ApiResponse,
    ) -> bool {
        let was = self.is_leader();
        match self.in_flight.take() {
            Some(InFlight::Read) => {
                let current = match response {
                    ApiResponse::Object(o) => match &*o {
                        Object::Lease(l) => Some(record_of(l)),
                        _ => None,
                    },
                    ApiResponse::Error(e) if e.reason == Reason::NotFound => None,
                    _ => {
                        // The API is unreachable: try again later.
                        self.elector.check_deadline(ctx.now);
                        self.schedule_retry(ctx);
                        return false;
                    }
                };
                match self.elector.on_read(ctx.now, current) {
                    Action::Wait => self.schedule_retry(ctx),
                    Action::Create(r) => {
                        self.in_flight = Some(InFlight::Write);
                        ctx.send(
                            Self::TAG,
                            self.request(Verb::Create, credential)
                                .with_body(Object::Lease(Box::new(self.lease(&r)))),
                        );
                    }
                    Action::Update(r) => {
                        self.in_flight = Some(InFlight::Write);
                        ctx.send(
                            Self::TAG,
                            self.request(Verb::Update, credential)
                                .named(&self.name)
                                .with_body(Object::Lease(Box::new(self.lease(&r)))),
                        );
                    }
                }
            }
            Some(InFlight::Write) => {
                let written = match response {
                    ApiResponse::Object(o) => match &*o {
                        Object::Lease(l) => Some(record_of(l)),
                        _ => None,
                    },
                    _ => None,
                };
                self.elector.on_write(ctx.now, written);
                self.schedule_retry(ctx);
            }
            None => {}
        }
        let now_leader = self.is_leader();
        if now_leader && !was {
            self.leading_since = Some(ctx.now);
        }
        if !now_leader {
            self.leading_since = None;
        }
        now_leader && !was
    }

    fn lease(&self, r: &LeaseRecord) -> Lease {
        let mut lease = Lease::default();
        lease.metadata.name = Some(self.name.clone());
        lease.metadata.namespace = Some(self.namespace.clone());
        lease.metadata.resource_version = r.resource_version.clone();
        lease.spec = Some(LeaseSpec {
            holder_identity: r.holder.clone(),
            lease_duration_seconds: Some(r.lease_duration_seconds as i32),
            acquire_time: Some(to_micro_time(r.acquire_time)),
            renew_time: Some(to_micro_time(r.renew_time)),
            lease_transitions: Some(r.lease_transitions as i32),
            ..Default::default()
        });
        lease
    }
}
