//! The CSR cleaner: garbage-collects old CertificateSigningRequests.
//!
//! Ported from `pkg/controller/certificates/cleaner/cleaner.go`
//! (`handle`, `isIssuedExpired`, `isPendingPastDeadline`,
//! `isDeniedPastDeadline`, `isFailedPastDeadline`, `isIssuedPastDeadline`):
//! once an hour it looks at every request and deletes those approved and
//! issued more than an hour ago, denied or failed more than an hour ago,
//! still pending after a day, or whose certificate has expired.

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::time::to_sim_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::auth::pki::parse_certificate;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

/// How often the cleaner looks (`pollingInterval`).
pub const POLLING_INTERVAL: SimDuration = SimDuration::from_secs(3600);
/// `approvedExpiration`, `deniedExpiration`: one hour.
pub const DECIDED_EXPIRATION: SimDuration = SimDuration::from_secs(3600);
/// `pendingExpiration`: a day.
pub const PENDING_EXPIRATION: SimDuration = SimDuration::from_secs(24 * 3600);

/// The CSR cleaner.
#[derive(Clone, Default)]
pub struct CsrCleanerController;

/// Whether the request is due for deletion at `now`.
pub fn expired(csr: &CertificateSigningRequest, now: SimTime) -> bool {
    let older = |t: Option<SimTime>, d: SimDuration| t.is_some_and(|t| now.saturating_since(t) > d);
    let status = csr.status.clone().unwrap_or_default();
    let cert = status
        .certificate
        .as_ref()
        .and_then(|c| parse_certificate(&c.0));
    if cert.as_ref().is_some_and(|c| now > c.not_after) {
        return true;
    }
    let created = csr.metadata.creation_timestamp.as_ref().map(to_sim_time);
    let condition = |t: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == t)
            .map(|c| {
                c.last_update_time
                    .as_ref()
                    .map(to_sim_time)
                    .or(created)
                    .unwrap_or(SimTime::ZERO)
            })
    };
    if let Some(t) = condition("Denied").or(condition("Failed")) {
        return older(Some(t), DECIDED_EXPIRATION);
    }
    match condition("Approved") {
        Some(t) if cert.is_some() => older(Some(t), DECIDED_EXPIRATION),
        Some(_) => false,
        None => older(created, PENDING_EXPIRATION),
    }
}

impl Controller for CsrCleanerController {
    fn name(&self) -> &'static str {
        "csrcleaner"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::CertificateSigningRequest]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, _n: &Notification) -> Vec<String> {
        // Only the hourly pass looks (`worker` polls the lister).
        Vec::new()
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx
            .caches
            .get(KindId::CertificateSigningRequest, key)
            .cloned()
        else {
            return Requeue::Done;
        };
        if let Object::CertificateSigningRequest(csr) = &*object {
            if object.deletion_timestamp().is_none() && expired(csr, ctx.now) {
                ctx.write(
                    ApiRequest::new(
                        Verb::Delete,
                        KindId::CertificateSigningRequest,
                        Credential::None,
                    )
                    .named(object.name()),
                );
            }
        }
        Requeue::Done
    }

    fn period(&self) -> Option<(SimDuration, KindId)> {
        Some((POLLING_INTERVAL, KindId::CertificateSigningRequest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::time::to_time;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestStatus,
    };

    #[test]
    fn issued_requests_go_after_an_hour_and_pending_ones_after_a_day() {
        let mut csr = CertificateSigningRequest::default();
        csr.metadata.creation_timestamp = Some(to_time(SimTime::ZERO));
        assert!(!expired(&csr, SimTime(23 * 3_600_000)));
        assert!(expired(&csr, SimTime(25 * 3_600_000)));
        let cert = crate::apiserver::auth::authn::ClientCertificate::node("w", SimTime::ZERO);
        csr.status = Some(CertificateSigningRequestStatus {
            conditions: Some(vec![CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                last_update_time: Some(to_time(SimTime(1_000))),
                ..Default::default()
            }]),
            certificate: Some(k8s_openapi::ByteString(
                crate::apiserver::auth::pki::certificate_pem(&cert, 1).into_bytes(),
            )),
        });
        assert!(!expired(&csr, SimTime(1_800_000)));
        assert!(expired(&csr, SimTime(3_700_000)));
    }
}
