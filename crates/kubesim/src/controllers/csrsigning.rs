//! The CSR signing controller: issues the certificates of approved requests
//! from the cluster CA.
//!
//! Ported from `pkg/controller/certificates/signer/signer.go` (`handle`,
//! `sign`, `duration`, the kubelet client signer's `isKubeletClient` check)
//! and `pkg/controller/certificates/authority/policies.go`
//! (`PermissiveSigningPolicy`: the certificate is backdated five minutes for
//! clock skew). kube-controller-manager runs one signer per built-in
//! signerName with the CA kubeadm gives it (`--cluster-signing-cert-file`,
//! `/etc/kubernetes/pki/ca.crt`, common name `kubernetes`); the
//! certificate's lifetime is `--cluster-signing-duration` (8760h, one year,
//! by default), shortened to the request's `spec.expirationSeconds` when
//! that is shorter. An approved request that is not a valid kubelet client
//! request gets the condition `Failed` (reason `SignerValidationFailure`)
//! instead of a certificate.
//!
//! Simulated: only the `kubernetes.io/kube-apiserver-client-kubelet` signer
//! (the one TLS bootstrap uses); the certificate is the readable stand-in of
//! [`crate::apiserver::auth::pki`], valid until the CA's own expiry at most
//! (kubeadm's CA lasts ten years, beyond any simulated run).

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::{ClientCertificate, Credential, KUBEADM_CA_NAME};
use crate::apiserver::auth::pki::{
    certificate_pem, is_kubelet_client_request, CertificateRequest, KUBELET_CLIENT_SIGNER,
};
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};

/// `--cluster-signing-duration`'s default: one year.
pub const DEFAULT_CLUSTER_SIGNING_DURATION: SimDuration = SimDuration::from_secs(365 * 24 * 3600);
/// How far a certificate's `NotBefore` is backdated.
pub const BACKDATE: SimDuration = SimDuration::from_secs(5 * 60);

/// The CSR signing controller.
#[derive(Clone)]
pub struct CsrSigningController {
    /// `--cluster-signing-duration`.
    pub duration: SimDuration,
}

impl Default for CsrSigningController {
    fn default() -> Self {
        CsrSigningController {
            duration: DEFAULT_CLUSTER_SIGNING_DURATION,
        }
    }
}

fn approved_and_unsigned(csr: &CertificateSigningRequest) -> bool {
    let Some(status) = csr.status.as_ref() else {
        return false;
    };
    let conditions = status.conditions.iter().flatten();
    let approved = conditions.clone().any(|c| c.type_ == "Approved");
    let stopped = conditions
        .clone()
        .any(|c| c.type_ == "Denied" || c.type_ == "Failed");
    let issued = status.certificate.as_ref().is_some_and(|c| !c.0.is_empty());
    approved && !stopped && !issued
}

/// The certificate the signer issues for a request at `now`.
pub fn issue(
    request: &CertificateRequest,
    now: SimTime,
    duration: SimDuration,
    expiration_seconds: Option<i32>,
) -> ClientCertificate {
    // `duration`: the shorter of the signer's and the request's.
    let ttl = match expiration_seconds {
        Some(s) if s > 0 && SimDuration::from_secs(s as u64) < duration => {
            SimDuration::from_secs(s as u64)
        }
        _ => duration,
    };
    let not_before = SimTime(now.as_millis().saturating_sub(BACKDATE.as_millis()));
    ClientCertificate {
        common_name: request.common_name.clone(),
        organizations: request.organizations.clone(),
        issuer: KUBEADM_CA_NAME.to_string(),
        not_before,
        not_after: now + ttl,
    }
}

impl Controller for CsrSigningController {
    fn name(&self) -> &'static str {
        "csrsigning"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::CertificateSigningRequest]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, n: &Notification) -> Vec<String> {
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. } => vec![o.key()],
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx
            .caches
            .get(KindId::CertificateSigningRequest, key)
            .cloned()
        else {
            return Requeue::Done;
        };
        let Object::CertificateSigningRequest(csr) = &*object else {
            return Requeue::Done;
        };
        if csr.spec.signer_name != KUBELET_CLIENT_SIGNER || !approved_and_unsigned(csr) {
            return Requeue::Done;
        }
        let mut next = csr.clone();
        let status = next.status.get_or_insert_with(Default::default);
        let usages = csr.spec.usages.clone().unwrap_or_default();
        match CertificateRequest::parse(&csr.spec.request.0)
            .filter(|r| is_kubelet_client_request(r, &usages))
        {
            Some(request) => {
                let cert = issue(
                    &request,
                    ctx.now,
                    self.duration,
                    csr.spec.expiration_seconds,
                );
                let serial = ctx.rng.between(1 << 32, u64::MAX >> 1);
                status.certificate = Some(k8s_openapi::ByteString(
                    certificate_pem(&cert, serial).into_bytes(),
                ));
            }
            None => {
                status
                    .conditions
                    .get_or_insert_with(Vec::new)
                    .push(CertificateSigningRequestCondition {
                        type_: "Failed".into(),
                        status: "True".into(),
                        reason: Some("SignerValidationFailure".into()),
                        message: Some(
                            "invalid usage for client certificate or subject is not system:node:<name> in system:nodes"
                                .into(),
                        ),
                        ..Default::default()
                    });
            }
        }
        ctx.write(
            ApiRequest::new(
                Verb::Update,
                KindId::CertificateSigningRequest,
                Credential::None,
            )
            .named(object.name())
            .with_subresource("status")
            .with_body(Object::CertificateSigningRequest(next)),
        );
        Requeue::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::auth::pki::{parse_certificate, KUBELET_CLIENT_USAGES};
    use crate::controllers::testing::reconcile;

    fn approved(request: &CertificateRequest, expiration: Option<i32>) -> Object {
        let mut c = CertificateSigningRequest::default();
        c.metadata.name = Some("csr-abcde".into());
        c.spec.signer_name = KUBELET_CLIENT_SIGNER.into();
        c.spec.request = k8s_openapi::ByteString(request.to_pem().into_bytes());
        c.spec.usages = Some(
            KUBELET_CLIENT_USAGES
                .iter()
                .map(|u| u.to_string())
                .collect(),
        );
        c.spec.expiration_seconds = expiration;
        c.status = Some(
            k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus {
                conditions: Some(vec![CertificateSigningRequestCondition {
                    type_: "Approved".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                certificate: None,
            },
        );
        Object::CertificateSigningRequest(Box::new(c))
    }

    fn issued(w: &ApiRequest) -> Option<ClientCertificate> {
        match w.body.as_deref() {
            Some(Object::CertificateSigningRequest(c)) => c
                .status
                .as_ref()
                .and_then(|s| s.certificate.as_ref())
                .and_then(|p| parse_certificate(&p.0)),
            _ => None,
        }
    }

    #[test]
    fn an_approved_request_gets_a_one_year_certificate_from_the_cluster_ca() {
        let mut c = CsrSigningController::default();
        let now = SimTime(3_600_000);
        let req = CertificateRequest::for_node("worker-4");
        let (writes, _, _) = reconcile(&mut c, now, &[approved(&req, None)], "csr-abcde");
        assert_eq!(writes[0].subresource.as_deref(), Some("status"));
        let cert = issued(&writes[0]).expect("a certificate");
        assert_eq!(cert.common_name, "system:node:worker-4");
        assert_eq!(cert.issuer, "kubernetes");
        assert_eq!(cert.not_before, SimTime(3_300_000));
        assert_eq!(cert.not_after, now + DEFAULT_CLUSTER_SIGNING_DURATION);
    }

    #[test]
    fn a_shorter_requested_duration_wins_and_an_invalid_request_fails() {
        let mut c = CsrSigningController::default();
        let req = CertificateRequest::for_node("worker-4");
        let (writes, _, _) = reconcile(
            &mut c,
            SimTime(0),
            &[approved(&req, Some(3600))],
            "csr-abcde",
        );
        let cert = issued(&writes[0]).expect("a certificate");
        assert_eq!(cert.not_after, SimTime(3_600_000));
        let admin = CertificateRequest {
            common_name: "system:node:worker-4".into(),
            organizations: vec!["system:masters".into()],
        };
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[approved(&admin, None)], "csr-abcde");
        assert!(issued(&writes[0]).is_none());
        let Some(Object::CertificateSigningRequest(f)) = writes[0].body.as_deref() else {
            panic!()
        };
        let conds = f.status.as_ref().unwrap().conditions.as_ref().unwrap();
        assert_eq!(conds[1].reason.as_deref(), Some("SignerValidationFailure"));
    }
}
