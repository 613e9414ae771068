//! Authentication: who is asking?
//!
//! In Kubernetes, kube-apiserver runs each request through a union of
//! authenticators (`staging/src/k8s.io/apiserver/pkg/authentication/request/union/union.go`):
//! client certificates (`.../request/x509/x509.go`, `CommonNameUserConversion`:
//! CN is the user, each O a group), bearer tokens (`.../request/bearertoken`)
//! checked by the service-account token authenticator (`pkg/serviceaccount`,
//! user `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts` and
//! `system:serviceaccounts:<ns>`) and the bootstrap-token authenticator
//! (`plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go`, tokens
//! `<id>.<secret>` as user `system:bootstrap:<id>` in `system:bootstrappers`
//! plus the token's extra groups). Every success gets `system:authenticated`
//! (`.../authentication/group/authenticated_group_adder.go`). A request with
//! no credential is `system:anonymous` in `system:unauthenticated` when
//! anonymous auth is on (kube-apiserver's default), and a request whose
//! credential fails is 401 Unauthorized — never anonymous
//! (`union.NewFailOnError`).
//!
//! The simulation keeps credentials as data: a certificate is its subject,
//! issuer and validity window on the virtual clock; bound service-account
//! tokens (TokenRequest's) are JWTs signed with the cluster's key (see
//! [`super::serviceaccount`]), checked for their signature, audience and
//! expiry, and for the service account and pod they name still being there
//! (looked up through [`Lookup`] in the API server's cache); the control
//! plane's own long-lived service-account tokens are opaque strings in a
//! registry this module keeps (drawn from the seeded RNG), standing in for
//! legacy token Secrets; bootstrap tokens stand for their
//! `bootstrap-token-<id>` Secrets in kube-system.
//!
//! Left out: real X.509 and JWT cryptography (a certificate is trusted when its
//! issuer is the cluster CA's name; a JWT's signature is a keyed hash), the
//! static token file, OIDC, webhook token review, the front-proxy
//! request-header authenticator, and impersonation.

use super::serviceaccount::{self, SigningKey};
use super::user::{
    service_account_groups, service_account_username, UserInfo, ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED, ANONYMOUS, BOOTSTRAPPERS_GROUP, BOOTSTRAP_USER_PREFIX, KUBEADM_ADMIN_USER,
    KUBEADM_CLUSTER_ADMINS_GROUP, KUBEADM_SUPER_ADMIN_USER, KUBE_CONTROLLER_MANAGER,
    KUBE_SCHEDULER, NODES_GROUP, NODE_USER_NAME_PREFIX, SYSTEM_PRIVILEGED_GROUP,
};
use crate::world::{SimDuration, SimRng, SimTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The common name of the cluster CA kubeadm generates.
pub const KUBEADM_CA_NAME: &str = "kubernetes";
/// kubeadm's client certificate validity: one year.
pub const KUBEADM_CERT_VALIDITY: SimDuration = SimDuration::from_secs(365 * 24 * 3600);
/// kubeadm's default bootstrap token TTL: 24 hours.
pub const KUBEADM_TOKEN_TTL: SimDuration = SimDuration::from_secs(24 * 3600);

/// Extra keys set for bound service-account tokens.
pub const EXTRA_POD_NAME: &str = "authentication.kubernetes.io/pod-name";
pub const EXTRA_POD_UID: &str = "authentication.kubernetes.io/pod-uid";
pub const EXTRA_NODE_NAME: &str = "authentication.kubernetes.io/node-name";
pub const EXTRA_NODE_UID: &str = "authentication.kubernetes.io/node-uid";
pub const EXTRA_CREDENTIAL_ID: &str = "authentication.kubernetes.io/credential-id";

/// A client certificate, reduced to what authentication reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCertificate {
    /// The subject's CN: the user name.
    pub common_name: String,
    /// The subject's O values: the groups.
    pub organizations: Vec<String>,
    /// The issuer's CN; trusted when it is the cluster CA.
    pub issuer: String,
    pub not_before: SimTime,
    pub not_after: SimTime,
}

impl ClientCertificate {
    /// A certificate from the cluster CA, valid for kubeadm's one year from
    /// `issued_at`.
    pub fn issued(common_name: &str, organizations: &[&str], issued_at: SimTime) -> Self {
        ClientCertificate {
            common_name: common_name.to_string(),
            organizations: organizations.iter().map(|o| (*o).to_string()).collect(),
            issuer: KUBEADM_CA_NAME.to_string(),
            not_before: issued_at,
            not_after: issued_at + KUBEADM_CERT_VALIDITY,
        }
    }

    /// kubeadm's `admin.conf`: `kubernetes-admin` in `kubeadm:cluster-admins`.
    pub fn kubeadm_admin(issued_at: SimTime) -> Self {
        Self::issued(
            KUBEADM_ADMIN_USER,
            &[KUBEADM_CLUSTER_ADMINS_GROUP],
            issued_at,
        )
    }

    /// kubeadm's `super-admin.conf`: the break-glass `system:masters` user.
    pub fn kubeadm_super_admin(issued_at: SimTime) -> Self {
        Self::issued(
            KUBEADM_SUPER_ADMIN_USER,
            &[SYSTEM_PRIVILEGED_GROUP],
            issued_at,
        )
    }

    /// A kubelet's client certificate: `system:node:<name>` in `system:nodes`.
    pub fn node(node_name: &str, issued_at: SimTime) -> Self {
        Self::issued(
            &format!("{NODE_USER_NAME_PREFIX}{node_name}"),
            &[NODES_GROUP],
            issued_at,
        )
    }

    /// kube-scheduler's `scheduler.conf`.
    pub fn kube_scheduler(issued_at: SimTime) -> Self {
        Self::issued(KUBE_SCHEDULER, &[], issued_at)
    }

    /// kube-controller-manager's `controller-manager.conf`.
    pub fn kube_controller_manager(issued_at: SimTime) -> Self {
        Self::issued(KUBE_CONTROLLER_MANAGER, &[], issued_at)
    }
}

/// What a request carries to say who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Credential {
    /// A TLS client certificate.
    ClientCertificate(ClientCertificate),
    /// `Authorization: Bearer <token>`.
    BearerToken(String),
    /// Nothing.
    None,
}

/// The pod (and node) a service-account token is bound to, as the kubelet
/// requests through `serviceaccounts/token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBinding {
    pub pod_name: String,
    pub pod_uid: String,
    pub node_name: Option<String>,
    pub node_uid: Option<String>,
}

/// A service-account token the registry has issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountToken {
    pub namespace: String,
    pub name: String,
    /// The ServiceAccount's uid.
    pub uid: String,
    /// `None` for legacy Secret-based tokens, which never expire.
    pub expires_at: Option<SimTime>,
    pub bound_to: Option<TokenBinding>,
    /// The token's JWT ID, reported as `credential-id: JTI=<id>`.
    pub token_id: String,
}

/// A bootstrap token, standing for its `bootstrap-token-<id>` Secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapToken {
    /// Six characters `[a-z0-9]`.
    pub id: String,
    /// Sixteen characters `[a-z0-9]`.
    pub secret: String,
    pub expires_at: Option<SimTime>,
    /// `usage-bootstrap-authentication: "true"`.
    pub usage_authentication: bool,
    /// `auth-extra-groups`, each `system:bootstrappers:...`.
    pub extra_groups: Vec<String>,
}

impl BootstrapToken {
    /// A token as `kubeadm token create` makes it: for authentication, in
    /// `system:bootstrappers:kubeadm:default-node-token`, expiring after 24 h.
    pub fn kubeadm(id: &str, secret: &str, created_at: SimTime) -> Self {
        BootstrapToken {
            id: id.to_string(),
            secret: secret.to_string(),
            expires_at: Some(created_at + KUBEADM_TOKEN_TTL),
            usage_authentication: true,
            extra_groups: vec![super::user::KUBEADM_DEFAULT_NODE_TOKEN_GROUP.to_string()],
        }
    }

    /// `<id>.<secret>`, what a joining kubelet presents.
    pub fn token(&self) -> String {
        format!("{}.{}", self.id, self.secret)
    }
}

/// Why a request is 401 Unauthorized. The response body always says
/// `Unauthorized`; these say why, as kube-apiserver logs it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthnError {
    #[error("x509: certificate has expired or is not yet valid: current time {now} is after {not_after}")]
    CertificateExpired { now: SimTime, not_after: SimTime },
    #[error("x509: certificate has expired or is not yet valid: current time {now} is before {not_before}")]
    CertificateNotYetValid { now: SimTime, not_before: SimTime },
    #[error("x509: certificate signed by unknown authority (issuer {issuer:?})")]
    UnknownAuthority { issuer: String },
    /// An unknown token, a bootstrap token whose Secret is gone or not for
    /// authentication, or a malformed one: all `invalid bearer token`.
    #[error("invalid bearer token")]
    InvalidBearerToken,
    #[error("service account token has expired")]
    ServiceAccountTokenExpired,
    /// Upstream logs this and answers `invalid bearer token`.
    #[error("invalid bearer token (bootstrap token {id:?} has expired)")]
    BootstrapTokenExpired { id: String },
    #[error("anonymous requests are disabled")]
    AnonymousDisabled,
    /// A bound token whose service account or pod is gone, or whose uids
    /// no longer match (`claims.go` `Validate`).
    #[error("{0}")]
    ServiceAccountTokenInvalidated(String),
    /// A token for other audiences (`authenticator.Audiences` mismatch).
    #[error(
        "token audiences {audiences:?} is invalid for the target audiences [\"{}\"]",
        serviceaccount::ISSUER
    )]
    TokenAudienceInvalid { audiences: Vec<String> },
}

/// The bound pod of a token as the API server's cache holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundPod {
    pub uid: String,
    pub deleted_at: Option<SimTime>,
}

/// What the token authenticators look up in the API server's caches: the
/// bootstrap-token Secrets, and for bound service-account tokens the
/// service accounts and pods (`--service-account-lookup`).
pub trait Lookup {
    /// The bootstrap token of `bootstrap-token-<id>` in kube-system.
    fn bootstrap_token(&self, _id: &str) -> Option<BootstrapToken> {
        None
    }
    /// A ServiceAccount's uid.
    fn service_account_uid(&self, _namespace: &str, _name: &str) -> Option<String> {
        None
    }
    /// A pod's uid and deletion time.
    fn pod(&self, _namespace: &str, _name: &str) -> Option<BoundPod> {
        None
    }
}

/// Looks nothing up.
pub struct NoLookup;

impl Lookup for NoLookup {}

impl AuthnError {
    /// The HTTP status: always 401.
    pub fn code(&self) -> u16 {
        401
    }

    /// The Status message the client sees.
    pub fn status_message(&self) -> &'static str {
        "Unauthorized"
    }
}

/// A token the registry refuses to hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("bootstrap token {token:?} does not match [a-z0-9]{{6}}.[a-z0-9]{{16}}")]
    MalformedBootstrapToken { token: String },
    #[error("bootstrap token extra group {group:?} must match system:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]")]
    InvalidExtraGroup { group: String },
}

/// Which authenticator recognised the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthenticatedBy {
    X509,
    ServiceAccountToken,
    BootstrapToken,
    Anonymous,
}

/// A successful authentication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    pub user: UserInfo,
    pub by: AuthenticatedBy,
}

/// kube-apiserver's authenticator chain and the tokens it knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticator {
    /// The issuer name client certificates must carry.
    pub client_ca: String,
    /// `--anonymous-auth` (true by default).
    pub anonymous_enabled: bool,
    /// The key bound service-account tokens are signed with (`sa.key`).
    pub service_account_key: SigningKey,
    service_account_tokens: BTreeMap<String, ServiceAccountToken>,
    bootstrap_tokens: BTreeMap<String, BootstrapToken>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator::new()
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `^([a-z0-9]{6})\.([a-z0-9]{16})$`, split into (id, secret).
fn parse_bootstrap_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let ok = id.len() == 6
        && secret.len() == 16
        && id.chars().all(is_token_char)
        && secret.chars().all(is_token_char);
    ok.then_some((id, secret))
}

/// `^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`.
fn valid_extra_group(group: &str) -> bool {
    let Some(rest) = group.strip_prefix("system:bootstrappers:") else {
        return false;
    };
    let Some(last) = rest.chars().last() else {
        return false;
    };
    rest.len() <= 256
        && is_token_char(last)
        && rest
            .chars()
            .all(|c| is_token_char(c) || c == ':' || c == '-')
}

impl Authenticator {
    /// An authenticator trusting kubeadm's CA, anonymous auth on.
    pub fn new() -> Self {
        Authenticator {
            client_ca: KUBEADM_CA_NAME.to_string(),
            anonymous_enabled: true,
            service_account_key: SigningKey::for_seed(0),
            service_account_tokens: BTreeMap::new(),
            bootstrap_tokens: BTreeMap::new(),
        }
    }

    /// Issues a service-account token (TokenRequest, or a legacy token
    /// Secret when `expires_at` is `None`); the opaque token string is drawn
    /// from the run's RNG.
    pub fn issue_service_account_token(
        &mut self,
        rng: &mut SimRng,
        namespace: &str,
        name: &str,
        uid: &str,
        expires_at: Option<SimTime>,
        bound_to: Option<TokenBinding>,
    ) -> String {
        loop {
            let token = format!("sa.{}{}", rng.k8s_suffix(16), rng.k8s_suffix(16));
            if self.service_account_tokens.contains_key(&token) {
                continue;
            }
            let token_id = rng.uuid();
            self.service_account_tokens.insert(
                token.clone(),
                ServiceAccountToken {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    uid: uid.to_string(),
                    expires_at,
                    bound_to,
                    token_id,
                },
            );
            return token;
        }
    }

    /// Forgets every token of a deleted ServiceAccount; returns how many.
    pub fn revoke_service_account(&mut self, namespace: &str, name: &str) -> usize {
        let before = self.service_account_tokens.len();
        self.service_account_tokens
            .retain(|_, t| !(t.namespace == namespace && t.name == name));
        before - self.service_account_tokens.len()
    }

    /// Forgets every token bound to a deleted pod; returns how many.
    pub fn revoke_pod_tokens(&mut self, pod_uid: &str) -> usize {
        let before = self.service_account_tokens.len();
        self.service_account_tokens
            .retain(|_, t| t.bound_to.as_ref().is_none_or(|b| b.pod_uid != pod_uid));
        before - self.service_account_tokens.len()
    }

    /// Adds (or replaces) a bootstrap token, as creating its Secret does.
    pub fn add_bootstrap_token(&mut self, token: BootstrapToken) -> Result<(), TokenError> {
        let joined = token.token();
        if parse_bootstrap_token(&joined).is_none() {
            return Err(TokenError::MalformedBootstrapToken { token: joined });
        }
        if let Some(group) = token.extra_groups.iter().find(|g| !valid_extra_group(g)) {
            return Err(TokenError::InvalidExtraGroup {
                group: group.clone(),
            });
        }
        self.bootstrap_tokens.insert(token.id.clone(), token);
        Ok(())
    }

    /// Removes a bootstrap token (its Secret deleted, e.g. by the
    /// token-cleaner after expiry).
    pub fn remove_bootstrap_token(&mut self, id: &str) -> Option<BootstrapToken> {
        self.bootstrap_tokens.remove(id)
    }

    /// Authenticates a request at virtual time `now`.
    pub fn authenticate(
        &self,
        credential: &Credential,
        now: SimTime,
    ) -> Result<Authenticated, AuthnError> {
        self.authenticate_with(credential, now, &NoLookup)
    }

    /// Authenticates a request, looking up through `lookup` the bootstrap
    /// tokens the registry does not hold (the API server's view of the
    /// `bootstrap-token-<id>` Secrets in kube-system) and the service
    /// accounts and pods bound tokens name.
    pub fn authenticate_with(
        &self,
        credential: &Credential,
        now: SimTime,
        lookup: &dyn Lookup,
    ) -> Result<Authenticated, AuthnError> {
        let (user, by) = match credential {
            Credential::ClientCertificate(cert) => {
                (self.authenticate_x509(cert, now)?, AuthenticatedBy::X509)
            }
            Credential::BearerToken(token) => self.authenticate_token(token, now, lookup)?,
            Credential::None => {
                if !self.anonymous_enabled {
                    return Err(AuthnError::AnonymousDisabled);
                }
                let user = UserInfo::new(ANONYMOUS, &[ALL_UNAUTHENTICATED]);
                return Ok(Authenticated {
                    user,
                    by: AuthenticatedBy::Anonymous,
                });
            }
        };
        Ok(Authenticated {
            user: add_authenticated_group(user),
            by,
        })
    }

    /// `x509.Authenticator` with `CommonNameUserConversion`.
    fn authenticate_x509(
        &self,
        cert: &ClientCertificate,
        now: SimTime,
    ) -> Result<UserInfo, AuthnError> {
        if cert.issuer != self.client_ca {
            return Err(AuthnError::UnknownAuthority {
                issuer: cert.issuer.clone(),
            });
        }
        if now < cert.not_before {
            return Err(AuthnError::CertificateNotYetValid {
                now,
                not_before: cert.not_before,
            });
        }
        if now > cert.not_after {
            return Err(AuthnError::CertificateExpired {
                now,
                not_after: cert.not_after,
            });
        }
        Ok(UserInfo {
            name: cert.common_name.clone(),
            uid: String::new(),
            groups: cert.organizations.clone(),
            extra: BTreeMap::new(),
        })
    }

    /// Service-account tokens first, then bootstrap tokens, as kube-apiserver
    /// orders its token authenticators.
    fn authenticate_token(
        &self,
        token: &str,
        now: SimTime,
        lookup: &dyn Lookup,
    ) -> Result<(UserInfo, AuthenticatedBy), AuthnError> {
        if serviceaccount::looks_like_jwt(token) {
            let user = self.authenticate_jwt(token, now, lookup)?;
            return Ok((user, AuthenticatedBy::ServiceAccountToken));
        }
        if let Some(sa) = self.service_account_tokens.get(token) {
            if sa.expires_at.is_some_and(|at| now >= at) {
                return Err(AuthnError::ServiceAccountTokenExpired);
            }
            let mut extra = BTreeMap::new();
            if let Some(binding) = &sa.bound_to {
                extra.insert(EXTRA_POD_NAME.to_string(), vec![binding.pod_name.clone()]);
                extra.insert(EXTRA_POD_UID.to_string(), vec![binding.pod_uid.clone()]);
                if let Some(node) = &binding.node_name {
                    extra.insert(EXTRA_NODE_NAME.to_string(), vec![node.clone()]);
                }
                if let Some(node_uid) = &binding.node_uid {
                    extra.insert(EXTRA_NODE_UID.to_string(), vec![node_uid.clone()]);
                }
            }
            if sa.expires_at.is_some() {
                extra.insert(
                    EXTRA_CREDENTIAL_ID.to_string(),
                    vec![format!("JTI={}", sa.token_id)],
                );
            }
            let user = UserInfo {
                name: service_account_username(&sa.namespace, &sa.name),
                uid: sa.uid.clone(),
                groups: service_account_groups(&sa.namespace),
                extra,
            };
            return Ok((user, AuthenticatedBy::ServiceAccountToken));
        }
        let (id, secret) = parse_bootstrap_token(token).ok_or(AuthnError::InvalidBearerToken)?;
        let from_secret;
        let stored = match self.bootstrap_tokens.get(id) {
            Some(t) => t,
            None => {
                from_secret = lookup
                    .bootstrap_token(id)
                    .ok_or(AuthnError::InvalidBearerToken)?;
                &from_secret
            }
        };
        if stored.secret != secret || !stored.usage_authentication {
            return Err(AuthnError::InvalidBearerToken);
        }
        if stored.expires_at.is_some_and(|at| now >= at) {
            return Err(AuthnError::BootstrapTokenExpired { id: id.to_string() });
        }
        let mut groups = vec![BOOTSTRAPPERS_GROUP.to_string()];
        groups.extend(stored.extra_groups.iter().cloned());
        let user = UserInfo {
            name: format!("{BOOTSTRAP_USER_PREFIX}{id}"),
            uid: String::new(),
            groups,
            extra: BTreeMap::new(),
        };
        Ok((user, AuthenticatedBy::BootstrapToken))
    }

    /// A bound service-account token: the signature
    /// (`pkg/serviceaccount/jwt.go` `Validate`), the audiences, then the
    /// claims (`claims.go` `validator.Validate`): not expired, the service
    /// account and bound pod still there with the same uids, the pod not
    /// deleted more than 60 s ago.
    fn authenticate_jwt(
        &self,
        token: &str,
        now: SimTime,
        lookup: &dyn Lookup,
    ) -> Result<UserInfo, AuthnError> {
        let claims = self
            .service_account_key
            .verify(token)
            .ok_or(AuthnError::InvalidBearerToken)?;
        if !claims.audiences.iter().any(|a| a == serviceaccount::ISSUER) {
            return Err(AuthnError::TokenAudienceInvalid {
                audiences: claims.audiences,
            });
        }
        let now_s = serviceaccount::unix_seconds(now);
        if now_s >= claims.expires_at {
            return Err(AuthnError::ServiceAccountTokenExpired);
        }
        if now_s < claims.issued_at {
            return Err(AuthnError::ServiceAccountTokenInvalidated(
                "service account token is not valid yet".into(),
            ));
        }
        let invalidated = || {
            AuthnError::ServiceAccountTokenInvalidated(
                "service account token has been invalidated".into(),
            )
        };
        let ns = &claims.namespace;
        let sa_uid = lookup
            .service_account_uid(ns, &claims.service_account.name)
            .ok_or_else(invalidated)?;
        if sa_uid != claims.service_account.uid {
            return Err(AuthnError::ServiceAccountTokenInvalidated(format!(
                "service account UID ({sa_uid}) does not match claim ({})",
                claims.service_account.uid
            )));
        }
        let mut extra = BTreeMap::new();
        if let Some(pod_ref) = &claims.pod {
            let pod = lookup.pod(ns, &pod_ref.name).ok_or_else(invalidated)?;
            if pod.uid != pod_ref.uid {
                return Err(AuthnError::ServiceAccountTokenInvalidated(format!(
                    "pod UID ({}) does not match service account token claim ({})",
                    pod.uid, pod_ref.uid
                )));
            }
            if pod
                .deleted_at
                .is_some_and(|at| at + serviceaccount::DELETED_POD_GRACE < now)
            {
                return Err(invalidated());
            }
            extra.insert(EXTRA_POD_NAME.to_string(), vec![pod_ref.name.clone()]);
            extra.insert(EXTRA_POD_UID.to_string(), vec![pod_ref.uid.clone()]);
        }
        if let Some(node) = &claims.node {
            extra.insert(EXTRA_NODE_NAME.to_string(), vec![node.name.clone()]);
            extra.insert(EXTRA_NODE_UID.to_string(), vec![node.uid.clone()]);
        }
        if !claims.id.is_empty() {
            extra.insert(
                EXTRA_CREDENTIAL_ID.to_string(),
                vec![format!("JTI={}", claims.id)],
            );
        }
        Ok(UserInfo {
            name: claims.subject(),
            uid: claims.service_account.uid.clone(),
            groups: service_account_groups(ns),
            extra,
        })
    }
}

/// `AuthenticatedGroupAdder`: every authenticated user but the anonymous one
/// is in `system:authenticated`.
fn add_authenticated_group(mut user: UserInfo) -> UserInfo {
    if user.name == ANONYMOUS
        || user
            .groups
            .iter()
            .any(|g| g == ALL_AUTHENTICATED || g == ALL_UNAUTHENTICATED)
    {
        return user;
    }
    user.groups.push(ALL_AUTHENTICATED.to_string());
    user
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::auth::user::KUBEADM_DEFAULT_NODE_TOKEN_GROUP;

    const T0: SimTime = SimTime(1_000);

    fn cert(c: ClientCertificate) -> Credential {
        Credential::ClientCertificate(c)
    }

    #[test]
    fn a_client_certificate_authenticates_as_its_common_name_and_organizations() {
        let authn = Authenticator::new();
        let got = authn
            .authenticate(&cert(ClientCertificate::kubeadm_admin(T0)), T0)
            .unwrap();
        assert_eq!(got.by, AuthenticatedBy::X509);
        assert_eq!(got.user.name, "kubernetes-admin");
        assert_eq!(
            got.user.groups,
            vec!["kubeadm:cluster-admins", "system:authenticated"]
        );
    }

    #[test]
    fn a_node_certificate_is_system_node_in_system_nodes() {
        let got = Authenticator::new()
            .authenticate(&cert(ClientCertificate::node("worker-1", T0)), T0)
            .unwrap();
        assert_eq!(got.user.name, "system:node:worker-1");
        assert_eq!(
            got.user.groups,
            vec!["system:nodes", "system:authenticated"]
        );
    }

    #[test]
    fn an_expired_certificate_is_unauthorized() {
        let c = ClientCertificate::kube_scheduler(T0);
        let later = c.not_after + SimDuration::from_millis(1);
        let err = Authenticator::new()
            .authenticate(&cert(c.clone()), later)
            .unwrap_err();
        assert_eq!(
            err,
            AuthnError::CertificateExpired {
                now: later,
                not_after: c.not_after
            }
        );
        assert_eq!((err.code(), err.status_message()), (401, "Unauthorized"));
        let early = Authenticator::new()
            .authenticate(&cert(c), SimTime(0))
            .unwrap_err();
        assert!(matches!(early, AuthnError::CertificateNotYetValid { .. }));
    }

    #[test]
    fn a_certificate_from_another_ca_is_unauthorized() {
        let mut c = ClientCertificate::kubeadm_admin(T0);
        c.issuer = "evil-ca".to_string();
        assert_eq!(
            Authenticator::new().authenticate(&cert(c), T0),
            Err(AuthnError::UnknownAuthority {
                issuer: "evil-ca".to_string()
            })
        );
    }

    #[test]
    fn a_service_account_token_authenticates_as_its_service_account() {
        let mut authn = Authenticator::new();
        let mut rng = SimRng::new(7);
        let token = authn.issue_service_account_token(
            &mut rng,
            "kube-system",
            "coredns",
            "uid-1",
            Some(SimTime(3_600_000)),
            Some(TokenBinding {
                pod_name: "coredns-abc".to_string(),
                pod_uid: "pod-uid".to_string(),
                node_name: Some("worker-1".to_string()),
                node_uid: None,
            }),
        );
        let got = authn
            .authenticate(&Credential::BearerToken(token.clone()), T0)
            .unwrap();
        assert_eq!(got.by, AuthenticatedBy::ServiceAccountToken);
        assert_eq!(got.user.name, "system:serviceaccount:kube-system:coredns");
        assert_eq!(got.user.uid, "uid-1");
        assert_eq!(
            got.user.groups,
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:kube-system",
                "system:authenticated"
            ]
        );
        assert_eq!(got.user.extra[EXTRA_POD_NAME], vec!["coredns-abc"]);
        assert_eq!(got.user.extra[EXTRA_NODE_NAME], vec!["worker-1"]);
        assert!(got.user.extra[EXTRA_CREDENTIAL_ID][0].starts_with("JTI="));
        assert_eq!(
            authn.authenticate(&Credential::BearerToken(token.clone()), SimTime(3_600_000)),
            Err(AuthnError::ServiceAccountTokenExpired)
        );
        assert_eq!(authn.revoke_pod_tokens("pod-uid"), 1);
        assert_eq!(
            authn.authenticate(&Credential::BearerToken(token), T0),
            Err(AuthnError::InvalidBearerToken)
        );
    }

    #[test]
    fn issued_tokens_are_the_same_for_the_same_seed() {
        let issue = || {
            let mut authn = Authenticator::new();
            let mut rng = SimRng::new(42);
            authn.issue_service_account_token(&mut rng, "default", "default", "u", None, None)
        };
        assert_eq!(issue(), issue());
    }

    #[test]
    fn an_unknown_token_is_unauthorized_not_anonymous() {
        let authn = Authenticator::new();
        assert_eq!(
            authn.authenticate(&Credential::BearerToken("nope".to_string()), T0),
            Err(AuthnError::InvalidBearerToken)
        );
    }

    #[test]
    fn no_credential_is_anonymous_unless_anonymous_auth_is_off() {
        let mut authn = Authenticator::new();
        let got = authn.authenticate(&Credential::None, T0).unwrap();
        assert_eq!(
            got.user,
            UserInfo::new("system:anonymous", &["system:unauthenticated"])
        );
        authn.anonymous_enabled = false;
        assert_eq!(
            authn.authenticate(&Credential::None, T0),
            Err(AuthnError::AnonymousDisabled)
        );
    }

    #[test]
    fn a_bootstrap_token_authenticates_until_it_expires() {
        let mut authn = Authenticator::new();
        let token = BootstrapToken::kubeadm("abcdef", "0123456789abcdef", T0);
        authn.add_bootstrap_token(token.clone()).unwrap();
        let got = authn
            .authenticate(&Credential::BearerToken(token.token()), T0)
            .unwrap();
        assert_eq!(got.by, AuthenticatedBy::BootstrapToken);
        assert_eq!(got.user.name, "system:bootstrap:abcdef");
        assert_eq!(
            got.user.groups,
            vec![
                "system:bootstrappers",
                KUBEADM_DEFAULT_NODE_TOKEN_GROUP,
                "system:authenticated"
            ]
        );
        let expired = T0 + KUBEADM_TOKEN_TTL;
        assert_eq!(
            authn.authenticate(&Credential::BearerToken(token.token()), expired),
            Err(AuthnError::BootstrapTokenExpired {
                id: "abcdef".to_string()
            })
        );
        let wrong_secret = "abcdef.ffffffffffffffff".to_string();
        assert_eq!(
            authn.authenticate(&Credential::BearerToken(wrong_secret), T0),
            Err(AuthnError::InvalidBearerToken)
        );
    }

    #[test]
    fn malformed_bootstrap_tokens_and_groups_are_refused() {
        let mut authn = Authenticator::new();
        let bad = BootstrapToken::kubeadm("ABCDEF", "0123456789abcdef", T0);
        assert!(matches!(
            authn.add_bootstrap_token(bad),
            Err(TokenError::MalformedBootstrapToken { .. })
        ));
        let mut token = BootstrapToken::kubeadm("abcdef", "0123456789abcdef", T0);
        token.extra_groups = vec!["system:masters".to_string()];
        assert_eq!(
            authn.add_bootstrap_token(token),
            Err(TokenError::InvalidExtraGroup {
                group: "system:masters".to_string()
            })
        );
    }

    #[test]
    fn a_bootstrap_token_not_for_authentication_is_invalid() {
        let mut authn = Authenticator::new();
        let mut token = BootstrapToken::kubeadm("abcdef", "0123456789abcdef", T0);
        token.usage_authentication = false;
        authn.add_bootstrap_token(token.clone()).unwrap();
        assert_eq!(
            authn.authenticate(&Credential::BearerToken(token.token()), T0),
            Err(AuthnError::InvalidBearerToken)
        );
    }
}
