//! The kubelet's node heartbeat: a Lease in `kube-node-lease` named after the
//! node, renewed every 10 s with a 40 s duration.
//!
//! Ported from the lease controller in
//! `k8s.io/component-helpers/apimachinery/lease/controller.go`, which the
//! kubelet runs (`nodeLeaseDurationSeconds` 40, renew interval a quarter of
//! it): on start it ensures the Lease exists (`ensureLease`: get, create if
//! missing, with the Node as owner once the Node exists), then every renew
//! interval updates `spec.renewTime` from the last Lease it wrote
//! (`retryUpdateLease`). A failed update falls back to reading the Lease
//! again; failures back off from 200 ms doubling to 7 s
//! (`backoffEnsureLease`). The node lifecycle controller in
//! kube-controller-manager watches these Leases: one not renewed for the
//! grace period makes the node `Ready=Unknown`.
//!
//! Left out: the `onRepeatedHeartbeatFailure` hook (the kubelet closes its
//! connections after repeated failures).

use crate::api::time::to_micro_time;
use crate::api::{KindId, Object, Reason};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::rc::Rc;

/// `nodeLeaseDurationSeconds`.
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// How often the Lease is renewed: a quarter of its duration
/// (`nodeLeaseRenewIntervalFraction` 0.25).
pub const RENEW_INTERVAL: SimDuration = SimDuration::from_secs(10);
/// The namespace of node Leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";
const BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(200);
const BACKOFF_MAX: SimDuration = SimDuration::from_secs(7);

/// Which request the heartbeat is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Get,
    Create,
    Update,
}

/// The heartbeat's state.
#[derive(Clone, Debug)]
pub struct NodeLease {
    node: String,
    /// The Lease as last written or read.
    latest: Option<Rc<Object>>,
    in_flight: Option<Step>,
    next: SimTime,
    backoff: SimDuration,
    /// When the Lease was last renewed successfully.
    pub last_renewed: Option<SimTime>,
    /// The Node's uid, for the owner reference.
    node_uid: Option<String>,
}

impl NodeLease {
    pub fn new(node: &str, now: SimTime) -> Self {
        NodeLease {
            node: node.to_string(),
            latest: None,
            in_flight: None,
            next: now,
            backoff: SimDuration::ZERO,
            last_renewed: None,
            node_uid: None,
        }
    }

    /// The Node was registered (or found): Leases created from now on are
    /// owned by it, so deleting the Node deletes its Lease.
    pub fn set_node_uid(&mut self, uid: Option<String>) {
        self.node_uid = uid;
    }

    /// When the heartbeat next has something to send.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        self.in_flight.is_none().then_some(self.next)
    }

    fn lease(&self, now: SimTime) -> Lease {
        let mut lease = Lease::default();
        lease.metadata.name = Some(self.node.clone());
        lease.metadata.namespace = Some(NODE_LEASE_NAMESPACE.into());
        if let Some(uid) = &self.node_uid {
            lease.metadata.owner_references = Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: self.node.clone(),
                uid: uid.clone(),
                ..Default::default()
            }]);
        }
        lease.spec = Some(LeaseSpec {
            holder_identity: Some(self.node.clone()),
            lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
            renew_time: Some(to_micro_time(now)),
            ..Default::default()
        });
        lease
    }

    /// The request to send now, if one is due.
    pub fn poll(&mut self, now: SimTime, credential: &Credential) -> Option<(Step, ApiRequest)> {
        if self.in_flight.is_some() || now < self.next {
            return None;
        }
        let base = |verb| {
            ApiRequest::new(verb, KindId::Lease, credential.clone())
                .in_namespace(NODE_LEASE_NAMESPACE)
        };
        let (step, request) = match &self.latest {
            None => (Step::Get, base(Verb::Get).named(self.node.clone())),
            Some(latest) => {
                let mut next = match &**latest {
                    Object::Lease(l) => l.clone(),
                    _ => Box::new(self.lease(now)),
                };
                let spec = next.spec.get_or_insert_with(Default::default);
                spec.renew_time = Some(to_micro_time(now));
                spec.holder_identity = Some(self.node.clone());
                spec.lease_duration_seconds = Some(LEASE_DURATION_SECONDS);
                if next.metadata.owner_references.is_none() {
                    next.metadata.owner_references = self.lease(now).metadata.owner_references;
                }
                (
                    Step::Update,
                    base(Verb::Update)
                        .named(self.node.clone())
                        .with_body(Object::Lease(next)),
                )
            }
        };
        self.in_flight = Some(step);
        Some((step, request))
    }

    /// The answer to the request in flight. Returns a create to send when
    /// the Lease turned out to be missing.
    pub fn on_reply(
        &mut self,
        now: SimTime,
        credential: &Credential,
        response: ApiResponse,
    ) -> Option<(Step, ApiRequest)> {
        let step = self.in_flight.take()?;
        match (step, response) {
            (Step::Get, ApiResponse::Object(o)) => {
                // Found: renew it right away.
                self.latest = Some(o);
                self.next = now;
                self.backoff = SimDuration::ZERO;
                None
            }
            (Step::Get, ApiResponse::Error(e)) if e.reason == Reason::NotFound => {
                self.in_flight = Some(Step::Create);
                Some((
                    Step::Create,
                    ApiRequest::new(Verb::Create, KindId::Lease, credential.clone())
                        .in_namespace(NODE_LEASE_NAMESPACE)
                        .with_body(Object::Lease(Box::new(self.lease(now)))),
                ))
            }
            (Step::Create | Step::Update, ApiResponse::Object(o)) => {
                self.latest = Some(o);
                self.last_renewed = Some(now);
                self.backoff = SimDuration::ZERO;
                self.next = now + RENEW_INTERVAL;
                None
            }
            (_, _) => {
                // A conflict, a vanished Lease or an unreachable API: read
                // it again after a back-off.
                self.latest = None;
                self.backoff = if self.backoff == SimDuration::ZERO {
                    BACKOFF_INITIAL
                } else {
                    (self.backoff + self.backoff).min(BACKOFF_MAX)
                };
                self.next = now + self.backoff;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;

    fn lease_object(rv: &str) -> Rc<Object> {
        let mut l = NodeLease::new("worker-1", SimTime::ZERO).lease(SimTime::ZERO);
        l.metadata.resource_version = Some(rv.into());
        Rc::new(Object::Lease(Box::new(l)))
    }

    #[test]
    fn a_missing_lease_is_created_with_a_forty_second_duration() {
        let cred = Credential::None;
        let mut h = NodeLease::new("worker-1", SimTime::ZERO);
        let (step, _) = h.poll(SimTime::ZERO, &cred).unwrap();
        assert_eq!(step, Step::Get);
        let (step, req) = h
            .on_reply(
                SimTime(5),
                &cred,
                ApiResponse::Error(ApiError::not_found(KindId::Lease.info(), "worker-1")),
            )
            .unwrap();
        assert_eq!(step, Step::Create);
        let Some(Object::Lease(l)) = req.body.as_deref() else {
            panic!("a lease body")
        };
        let spec = l.spec.clone().unwrap();
        assert_eq!(spec.lease_duration_seconds, Some(40));
        assert_eq!(spec.holder_identity.as_deref(), Some("worker-1"));
    }

    #[test]
    fn a_renewed_lease_is_renewed_again_ten_seconds_later() {
        let cred = Credential::None;
        let mut h = NodeLease::new("worker-1", SimTime::ZERO);
        h.poll(SimTime::ZERO, &cred);
        h.on_reply(SimTime(5), &cred, ApiResponse::Object(lease_object("3")));
        let (step, _) = h.poll(SimTime(5), &cred).unwrap();
        assert_eq!(step, Step::Update);
        h.on_reply(SimTime(8), &cred, ApiResponse::Object(lease_object("4")));
        assert_eq!(h.last_renewed, Some(SimTime(8)));
        assert_eq!(h.next_wakeup(), Some(SimTime(10_008)));
        assert!(h.poll(SimTime(10_007), &cred).is_none());
        assert!(h.poll(SimTime(10_008), &cred).is_some());
    }

    #[test]
    fn a_failed_renewal_reads_the_lease_again_after_a_growing_back_off() {
        let cred = Credential::None;
        let mut h = NodeLease::new("worker-1", SimTime::ZERO);
        h.poll(SimTime::ZERO, &cred);
        h.on_reply(SimTime(0), &cred, ApiResponse::Object(lease_object("3")));
        h.poll(SimTime(0), &cred);
        let fail = || ApiResponse::Error(ApiError::timeout("x"));
        h.on_reply(SimTime(1_000), &cred, fail());
        assert_eq!(h.next_wakeup(), Some(SimTime(1_200)));
        let (step, _) = h.poll(SimTime(1_200), &cred).unwrap();
        assert_eq!(step, Step::Get);
        h.on_reply(SimTime(1_300), &cred, fail());
        assert_eq!(h.next_wakeup(), Some(SimTime(1_700)));
    }
}
