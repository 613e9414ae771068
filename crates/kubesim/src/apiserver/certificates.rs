//! The API server's side of node trust: the CertificateSigningRequest
//! registry strategies, bootstrap token Secrets, and SubjectAccessReview.
//!
//! - `pkg/registry/certificates/certificates/strategy.go`: a created CSR
//!   records who asked (`spec.username`, `uid`, `groups`, `extra` from the
//!   authenticated user, whatever the body said) and starts with no status;
//!   the main resource never changes the spec; the `approval` subresource
//!   writes conditions but never the certificate; the `status` subresource
//!   writes the certificate and other conditions but keeps the existing
//!   Approved/Denied ones; condition timestamps are filled in by the server
//!   (`populateConditionTimestamps`).
//! - `plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go`: a
//!   bootstrap token `<id>.<secret>` is valid while the Secret
//!   `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`
//!   holds the same secret, allows authentication and has not expired.
//! - `pkg/registry/authorization/subjectaccessreview/rest.go`: a review asks
//!   the authorizer chain about another user and is never stored.
//!
//! Left out: the CertificateApproval and CertificateSigning admission
//! plugins (which check `approve` and `sign` on `signers`), and the CSR
//! request's real PKCS#10 parsing (see [`crate::controllers::csrsigning`]).

use super::auth::authn::BootstrapToken;
use super::auth::user::{UserInfo, SYSTEM_PRIVILEGED_GROUP};
use super::auth::{Authorizer, Decision, RequestAttributes};
use crate::api::time::{parse_millis, to_time};
use crate::api::{ApiError, FieldError, KindId};
use crate::world::SimTime;
use k8s_openapi::api::authorization::v1::{SubjectAccessReview, SubjectAccessReviewStatus};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use k8s_openapi::api::core::v1::Secret;

/// The Secret type of bootstrap tokens.
pub const BOOTSTRAP_TOKEN_SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";

/// `PrepareForCreate`: the requester's identity goes into the spec, the
/// status starts empty.
pub fn prepare_for_create(csr: &mut CertificateSigningRequest, user: Option<&UserInfo>) {
    let user = user.cloned().unwrap_or_default();
    csr.spec.username = Some(user.name).filter(|n| !n.is_empty());
    csr.spec.uid = Some(user.uid).filter(|u| !u.is_empty());
    csr.spec.groups = Some(user.groups).filter(|g| !g.is_empty());
    csr.spec.extra = Some(user.extra).filter(|e| !e.is_empty());
    csr.status = None;
}

fn is_approval(c: &CertificateSigningRequestCondition) -> bool {
    c.type_ == "Approved" || c.type_ == "Denied"
}

/// The update strategies of the main resource and of the `status` and
/// `approval` subresources, plus their validation.
pub fn prepare_update(
    next: &mut CertificateSigningRequest,
    current: &CertificateSigningRequest,
    status_only: bool,
    approval: bool,
    now: SimTime,
) -> Result<(), ApiError> {
    // Nothing but a subresource changes what was asked.
    next.spec = current.spec.clone();
    if !status_only {
        return Ok(());
    }
    let old = current.status.clone().unwrap_or_default();
    let status = next.status.get_or_insert_with(Default::default);
    if approval {
        // The approval subresource cannot issue a certificate.
        status.certificate = old.certificate.clone();
    } else {
        // The status subresource keeps the approval as it was.
        let mut conditions: Vec<CertificateSigningRequestCondition> = old
            .conditions
            .iter()
            .flatten()
            .filter(|c| is_approval(c))
            .cloned()
            .collect();
        conditions.extend(
            status
                .conditions
                .iter()
                .flatten()
                .filter(|c| !is_approval(c))
                .cloned(),
        );
        status.conditions = Some(conditions).filter(|c| !c.is_empty());
    }
    let mut errors = Vec::new();
    if let (Some(before), Some(after)) = (&old.certificate, &status.certificate) {
        if !before.0.is_empty() && before != after {
            errors.push(FieldError::forbidden(
                "status.certificate",
                "updates may not modify existing certificate content",
            ));
        }
    }
    let conditions = status.conditions.iter().flatten();
    let approved = conditions.clone().any(|c| c.type_ == "Approved");
    let denied = conditions.clone().any(|c| c.type_ == "Denied");
    if approved && denied {
        errors.push(FieldError::invalid(
            "status.conditions",
            "Denied",
            "Approved and Denied conditions are mutually exclusive",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(
            KindId::CertificateSigningRequest.info(),
            current.metadata.name.as_deref().unwrap_or_default(),
            errors,
        ));
    }
    // `populateConditionTimestamps`.
    for c in status.conditions.iter_mut().flatten() {
        if c.last_update_time.is_none() {
            c.last_update_time = Some(to_time(now));
        }
        if c.last_transition_time.is_none() {
            let same = old
                .conditions
                .iter()
                .flatten()
                .find(|o| o.type_ == c.type_ && o.status == c.status);
            c.last_transition_time = Some(
                same.and_then(|o| o.last_transition_time.clone())
                    .unwrap_or_else(|| to_time(now)),
            );
        }
    }
    Ok(())
}

/// The bootstrap token a `bootstrap-token-<id>` Secret holds, if it is one
/// (`bootstrap.go` `AuthenticateToken`'s checks of the Secret).
pub fn bootstrap_token_of(secret: &Secret) -> Option<BootstrapToken> {
    if secret.type_.as_deref() != Some(BOOTSTRAP_TOKEN_SECRET_TYPE) {
        return None;
    }
    let data = secret.data.as_ref()?;
    let get = |k: &str| {
        data.get(k)
            .and_then(|v| String::from_utf8(v.0.clone()).ok())
            .unwrap_or_default()
    };
    let id = get("token-id");
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    if name != format!("bootstrap-token-{id}") {
        return None;
    }
    let expiration = get("expiration");
    let expires_at = if expiration.is_empty() {
        None
    } else {
        // An expiration that does not parse counts as expired.
        Some(SimTime(parse_millis(&expiration).unwrap_or(0)))
    };
    Some(BootstrapToken {
        id,
        secret: get("token-secret"),
        expires_at,
        usage_authentication: get("usage-bootstrap-authentication") == "true",
        extra_groups: get("auth-extra-groups")
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Answers a SubjectAccessReview with the authorizer chain (the privileged
/// group first, then Node and RBAC, as kube-apiserver's union is built).
pub fn review(
    authorizer: &Authorizer,
    sar: &SubjectAccessReview,
) -> Result<SubjectAccessReview, ApiError> {
    let spec = &sar.spec;
    let name = spec.user.clone().unwrap_or_default();
    let groups: Vec<&str> = spec.groups.iter().flatten().map(String::as_str).collect();
    if name.is_empty() && groups.is_empty() {
        return Err(ApiError::invalid(
            KindId::SubjectAccessReview.info(),
            "",
            vec![FieldError::invalid(
                "spec.user",
                "",
                "at least one of user or group must be specified",
            )],
        ));
    }
    let mut user = UserInfo::new(name, &groups);
    user.uid = spec.uid.clone().unwrap_or_default();
    user.extra = spec.extra.clone().unwrap_or_default();
    let attrs = match (&spec.resource_attributes, &spec.non_resource_attributes) {
        (Some(r), _) => {
            let mut a = RequestAttributes::resource(
                user.clone(),
                r.verb.as_deref().unwrap_or_default(),
                r.group.as_deref().unwrap_or_default(),
                r.resource.as_deref().unwrap_or_default(),
            );
            if let Some(ns) = r.namespace.as_deref() {
                a = a.in_namespace(ns);
            }
            if let Some(n) = r.name.as_deref() {
                a = a.named(n);
            }
            if let Some(s) = r.subresource.as_deref() {
                a = a.with_subresource(s);
            }
            a
        }
        (None, Some(n)) => RequestAttributes::non_resource(
            user.clone(),
            n.verb.as_deref().unwrap_or_default(),
            n.path.as_deref().unwrap_or_default(),
        ),
        (None, None) => {
            return Err(ApiError::invalid(
                KindId::SubjectAccessReview.info(),
                "",
                vec![FieldError::invalid(
                    "spec.resourceAttributes",
                    "",
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )],
            ))
        }
    };
    let (allowed, reason) = if user.in_group(SYSTEM_PRIVILEGED_GROUP) {
        (true, String::new())
    } else {
        match authorizer.authorize(&attrs) {
            Decision::Allow { reason } => (true, reason),
            Decision::NoOpinion { reason } => (false, reason),
        }
    };
    let mut answered = sar.clone();
    answered.status = Some(SubjectAccessReviewStatus {
        allowed,
        denied: None,
        evaluation_error: None,
        reason: Some(reason).filter(|r| !r.is_empty()),
    });
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReviewSpec};
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn secret(id: &str, expiration: &str) -> Secret {
        let mut s = Secret {
            type_: Some(BOOTSTRAP_TOKEN_SECRET_TYPE.into()),
            ..Default::default()
        };
        s.metadata.name = Some(format!("bootstrap-token-{id}"));
        let mut data = BTreeMap::new();
        for (k, v) in [
            ("token-id", id),
            ("token-secret", "0123456789abcdef"),
            ("usage-bootstrap-authentication", "true"),
            (
                "auth-extra-groups",
                "system:bootstrappers:kubeadm:default-node-token",
            ),
            ("expiration", expiration),
        ] {
            data.insert(k.to_string(), ByteString(v.as_bytes().to_vec()));
        }
        s.data = Some(data);
        s
    }

    #[test]
    fn a_bootstrap_token_secret_becomes_its_token_with_expiry_and_groups() {
        let t = bootstrap_token_of(&secret("abcdef", "2026-01-02T00:00:00Z")).unwrap();
        assert_eq!(t.token(), "abcdef.0123456789abcdef");
        assert_eq!(t.expires_at, Some(SimTime(24 * 3600 * 1000)));
        assert!(t.usage_authentication);
        assert_eq!(
            t.extra_groups,
            vec!["system:bootstrappers:kubeadm:default-node-token"]
        );
        let mut wrong = secret("abcdef", "");
        wrong.metadata.name = Some("bootstrap-token-zzzzzz".into());
        assert_eq!(bootstrap_token_of(&wrong), None);
    }

    #[test]
    fn a_created_csr_records_its_requester_whatever_the_body_claims() {
        let mut csr = CertificateSigningRequest::default();
        csr.spec.username = Some("system:masters-wannabe".into());
        let user = UserInfo::new(
            "system:bootstrap:abcdef",
            &["system:bootstrappers", "system:authenticated"],
        );
        prepare_for_create(&mut csr, Some(&user));
        assert_eq!(
            csr.spec.username.as_deref(),
            Some("system:bootstrap:abcdef")
        );
        assert_eq!(csr.spec.groups.as_ref().map(Vec::len), Some(2));
        assert!(csr.status.is_none());
    }

    #[test]
    fn the_status_subresource_keeps_the_approval_and_the_approval_subresource_the_certificate() {
        let approved = CertificateSigningRequestCondition {
            type_: "Approved".into(),
            status: "True".into(),
            reason: Some("AutoApproved".into()),
            ..Default::default()
        };
        let current = CertificateSigningRequest {
            status: Some(Default::default()),
            ..Default::default()
        };
        let mut next = current.clone();
        next.status.as_mut().unwrap().conditions = Some(vec![approved.clone()]);
        next.status.as_mut().unwrap().certificate = Some(ByteString(b"cert".to_vec()));
        prepare_update(&mut next, &current, true, true, SimTime(5_000)).unwrap();
        let s = next.status.clone().unwrap();
        assert_eq!(s.certificate, None);
        let c = &s.conditions.unwrap()[0];
        assert_eq!(c.last_update_time, Some(to_time(SimTime(5_000))));
        let mut issued = next.clone();
        issued.status.as_mut().unwrap().conditions = None;
        issued.status.as_mut().unwrap().certificate = Some(ByteString(b"cert".to_vec()));
        prepare_update(&mut issued, &next, true, false, SimTime(6_000)).unwrap();
        let s = issued.status.unwrap();
        assert_eq!(s.conditions.unwrap()[0].type_, "Approved");
        assert_eq!(s.certificate, Some(ByteString(b"cert".to_vec())));
    }

    #[test]
    fn a_review_answers_whether_rbac_allows_the_user() {
        let authz = Authorizer::with_cluster_policy().unwrap();
        let review_of = |groups: Vec<String>| SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some("system:bootstrap:abcdef".into()),
                groups: Some(groups),
                resource_attributes: Some(ResourceAttributes {
                    group: Some("certificates.k8s.io".into()),
                    resource: Some("certificatesigningrequests".into()),
                    subresource: Some("nodeclient".into()),
                    verb: Some("create".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let yes = review(
            &authz,
            &review_of(vec![
                "system:bootstrappers".into(),
                "system:bootstrappers:kubeadm:default-node-token".into(),
            ]),
        )
        .unwrap();
        assert!(yes.status.unwrap().allowed);
        let no = review(&authz, &review_of(vec!["system:authenticated".into()])).unwrap();
        assert!(!no.status.unwrap().allowed);
    }
}
