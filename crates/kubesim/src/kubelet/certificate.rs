//! The kubelet's client certificate manager: TLS bootstrap and rotation.
//!
//! In Kubernetes a node joining with `kubeadm join` starts its kubelet with
//! `--bootstrap-kubeconfig` (a bootstrap token, `<id>.<secret>`) and
//! `rotateCertificates: true`. With no client certificate yet, the kubelet
//! "bootstraps in background" (`pkg/kubelet/app/server.go`
//! `buildKubeletClientConfig`, `pkg/kubelet/certificate/kubelet.go`
//! `NewKubeletClientCertificateManager`, and client-go's
//! `util/certificate/certificate_manager.go`): it generates a key, creates
//! a CertificateSigningRequest as `system:bootstrap:<token-id>` (generateName
//! `csr-`, signer `kubernetes.io/kube-apiserver-client-kubelet`, usages
//! digital signature and client auth, subject `CN=system:node:<name>,
//! O=system:nodes`, no requested duration), waits for it with a watch on
//! its name until it is approved and has a certificate
//! (`util/certificate/csr/csr.go` `WaitForCertificate`), and from then on
//! every client of the kubelet speaks with that certificate.
//!
//! Rotation: the manager renews at a deadline drawn once per certificate
//! between 70 % and 90 % of its validity (`nextRotationDeadline`,
//! `jitteryDuration`: `wait.Jitter(d, 0.2) - 0.3 d`), creating the new CSR
//! with the current certificate, so the requester is `system:node:<name>`
//! and the approver's `selfnodeclient` check applies. A refused, failed or
//! unanswered request is tried again with back-off (2 s doubling to
//! 128 s); a request still unanswered after 15 minutes
//! (`certificateWaitTimeout`) is abandoned for a new one.
//!
//! The jitter is drawn from the seeded RNG when the earliest possible
//! deadline (70 %) is reached, which gives the same distribution without a
//! draw at start-up.

use crate::api::{KindId, Object, Reason};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::auth::pki::{
    parse_certificate, CertificateRequest, KUBELET_CLIENT_SIGNER, KUBELET_CLIENT_USAGES,
};
use crate::apiserver::{ApiRequest, ApiResponse, Verb, WatchEventType};
use crate::client::process::Tag;
use crate::world::{SimDuration, SimRng, SimTime};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec,
};

/// The manager's requests carry tags from here up (below the kubelet's pod
/// tags).
pub const TAG_CREATE: Tag = 20;
pub const TAG_WATCH: Tag = 21;
/// `certificateWaitTimeout`.
pub const WAIT_TIMEOUT: SimDuration = SimDuration::from_secs(15 * 60);
const BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(2);
const BACKOFF_MAX: SimDuration = SimDuration::from_secs(128);

/// Where the manager stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Nothing in flight; a request goes out at the given time (if due).
    Idle { retry_at: Option<SimTime> },
    /// The create is in flight.
    Creating,
    /// Watching the request named so, since then.
    Waiting { name: String, since: SimTime },
}

/// The kubelet's client certificate manager.
#[derive(Clone, Debug)]
pub struct CertificateManager {
    node: String,
    bootstrap: Option<Credential>,
    cert: Option<ClientCertificate>,
    state: State,
    rotation_deadline: Option<SimTime>,
    backoff: SimDuration,
    /// The certificate changed since the kubelet last asked.
    changed: bool,
    /// The requests this manager has created, newest last.
    requests: Vec<String>,
}

impl CertificateManager {
    /// A manager starting with `cert` (kubeadm's pre-provisioned one) or,
    /// without one, bootstrapping with the token `bootstrap`.
    pub fn new(node: &str, cert: Option<ClientCertificate>, bootstrap: Option<String>) -> Self {
        CertificateManager {
            node: node.to_string(),
            bootstrap: bootstrap.map(Credential::BearerToken),
            cert,
            state: State::Idle { retry_at: None },
            rotation_deadline: None,
            backoff: SimDuration::ZERO,
            changed: false,
            requests: Vec::new(),
        }
    }

    /// The certificate the kubelet's clients present, if any.
    pub fn current(&self) -> Option<&ClientCertificate> {
        self.cert.as_ref()
    }

    /// The rotation deadline once drawn.
    pub fn rotation_deadline(&self) -> Option<SimTime> {
        self.rotation_deadline
    }

    /// The names of the requests this manager created, oldest first.
    pub fn requests(&self) -> &[String] {
        &self.requests
    }

    /// Whether the certificate changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// A one-word state for the diagram.
    pub fn phase(&self) -> &'static str {
        match (&self.cert, &self.state) {
            (None, State::Waiting { .. }) => "waiting for its CSR",
            (None, _) => "bootstrapping",
            (Some(_), State::Waiting { .. } | State::Creating) => "rotating its certificate",
            (Some(_), _) => "",
        }
    }

    fn earliest_deadline(cert: &ClientCertificate) -> SimTime {
        let total = cert.not_after.saturating_since(cert.not_before).as_millis();
        cert.not_before + SimDuration::from_millis(total * 7 / 10)
    }

    fn credential(&self, now: SimTime) -> Option<Credential> {
        match &self.cert {
            Some(c) if now >= c.not_before && now <= c.not_after => {
                Some(Credential::ClientCertificate(c.clone()))
            }
            _ => self.bootstrap.clone(),
        }
    }

    /// What is due at `now`: a new request when there is no certificate, or
    /// the rotation deadline passed.
    pub fn poll(&mut self, now: SimTime, rng: &mut SimRng) -> Vec<(Tag, ApiRequest)> {
        if let State::Waiting { since, .. } = &self.state {
            if now.saturating_since(*since) >= WAIT_TIMEOUT {
                self.fail(now);
            }
        }
        let State::Idle { retry_at } = self.state else {
            return Vec::new();
        };
        if retry_at.is_some_and(|t| now < t) {
            return Vec::new();
        }
        if let Some(cert) = &self.cert {
            if self.rotation_deadline.is_none() && now >= Self::earliest_deadline(cert) {
                // `jitteryDuration`: 70 % to 90 % of the validity.
                let total = cert.not_after.saturating_since(cert.not_before).as_millis();
                let jitter = rng.between(0, total / 5 + 1);
                self.rotation_deadline =
                    Some(cert.not_before + SimDuration::from_millis(total * 7 / 10 + jitter));
            }
            if self.rotation_deadline.is_none_or(|d| now < d) {
                return Vec::new();
            }
        }
        let Some(credential) = self.credential(now) else {
            return Vec::new();
        };
        let request = CertificateRequest::for_node(&self.node);
        let mut csr = CertificateSigningRequest {
            spec: CertificateSigningRequestSpec {
                request: k8s_openapi::ByteString(request.to_pem().into_bytes()),
                signer_name: KUBELET_CLIENT_SIGNER.into(),
                usages: Some(
                    KUBELET_CLIENT_USAGES
                        .iter()
                        .map(|u| u.to_string())
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        csr.metadata.generate_name = Some("csr-".into());
        self.state = State::Creating;
        vec![(
            TAG_CREATE,
            ApiRequest::new(Verb::Create, KindId::CertificateSigningRequest, credential)
                .with_body(Object::CertificateSigningRequest(Box::new(csr))),
        )]
    }

    fn fail(&mut self, now: SimTime) {
        self.backoff = if self.backoff == SimDuration::ZERO {
            BACKOFF_INITIAL
        } else {
            (self.backoff + self.backoff).min(BACKOFF_MAX)
        };
        self.state = State::Idle {
            retry_at: Some(now + self.backoff),
        };
    }

    fn watch(&self, name: &str, rv: Option<&str>, now: SimTime) -> Option<(Tag, ApiRequest)> {
        let credential = self.credential(now)?;
        let mut r = ApiRequest::new(Verb::Watch, KindId::CertificateSigningRequest, credential);
        r.options.field_selector = Some(format!("metadata.name={name}"));
        r.options.resource_version = rv.map(str::to_string);
        Some((TAG_WATCH, r))
    }

    /// Looks at the request as the API returned it: issued, refused, or
    /// still pending.
    fn examine(&mut self, now: SimTime, csr: &CertificateSigningRequest) -> bool {
        let status = csr.status.clone().unwrap_or_default();
        let conditions = status.conditions.unwrap_or_default();
        if conditions
            .iter()
            .any(|c| c.type_ == "Denied" || c.type_ == "Failed")
        {
            // `WaitForCertificate`: "certificate signing request is denied"
            // or "failed"; the manager tries again later.
            self.fail(now);
            return true;
        }
        let approved = conditions.iter().any(|c| c.type_ == "Approved");
        let cert = status
            .certificate
            .as_ref()
            .and_then(|c| parse_certificate(&c.0));
        match cert {
            Some(cert) if approved => {
                self.cert = Some(cert);
                self.rotation_deadline = None;
                self.backoff = SimDuration::ZERO;
                self.changed = true;
                self.state = State::Idle { retry_at: None };
                true
            }
            _ => false,
        }
    }

    /// An answer to one of the manager's requests.
    pub fn on_reply(
        &mut self,
        now: SimTime,
        tag: Tag,
        response: ApiResponse,
    ) -> Vec<(Tag, ApiRequest)> {
        match (tag, &self.state) {
            (TAG_CREATE, State::Creating) => match response {
                ApiResponse::Object(o) => {
                    let Object::CertificateSigningRequest(csr) = &*o else {
                        self.fail(now);
                        return Vec::new();
                    };
                    let name = o.name().to_string();
                    self.requests.push(name.clone());
                    if self.examine(now, csr) {
                        return Vec::new();
                    }
                    self.state = State::Waiting {
                        name: name.clone(),
                        since: now,
                    };
                    self.watch(&name, o.resource_version(), now)
                        .into_iter()
                        .collect()
                }
                _ => {
                    self.fail(now);
                    Vec::new()
                }
            },
            (TAG_WATCH, State::Waiting { name, .. }) => {
                let name = name.clone();
                match response {
                    ApiResponse::Watch(e) => {
                        if let (WatchEventType::Added | WatchEventType::Modified, Some(o)) =
                            (e.kind, &e.object)
                        {
                            if let Object::CertificateSigningRequest(csr) = &**o {
                                if o.name() == name {
                                    self.examine(now, csr);
                                }
                            }
                        } else if e.kind == WatchEventType::Deleted {
                            self.fail(now);
                        }
                        Vec::new()
                    }
                    ApiResponse::Error(e) if e.reason == Reason::NotFound => {
                        self.fail(now);
                        Vec::new()
                    }
                    // The watch ended (a timeout, a closed stream): watch
                    // again from now on; an update in between is seen as
                    // the initial event of a watch without a version.
                    _ => self.watch(&name, None, now).into_iter().collect(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// When the manager next needs [`CertificateManager::poll`].
    pub fn next_wakeup(&self) -> Option<SimTime> {
        match &self.state {
            State::Idle { retry_at: Some(t) } => Some(*t),
            State::Idle { retry_at: None } => match &self.cert {
                None => self.bootstrap.as_ref().map(|_| SimTime::ZERO),
                Some(c) => Some(
                    self.rotation_deadline
                        .unwrap_or_else(|| Self::earliest_deadline(c)),
                ),
            },
            State::Creating => None,
            State::Waiting { since, .. } => Some(*since + WAIT_TIMEOUT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::auth::pki::certificate_pem;
    use crate::apiserver::WatchEvent;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestStatus,
    };
    use std::rc::Rc;

    fn created(name: &str, status: Option<CertificateSigningRequestStatus>) -> Rc<Object> {
        let mut csr = CertificateSigningRequest::default();
        csr.metadata.name = Some(name.into());
        csr.metadata.resource_version = Some("42".into());
        csr.status = status;
        Rc::new(Object::CertificateSigningRequest(Box::new(csr)))
    }

    fn issued(cert: &ClientCertificate) -> CertificateSigningRequestStatus {
        CertificateSigningRequestStatus {
            conditions: Some(vec![CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            certificate: Some(k8s_openapi::ByteString(
                certificate_pem(cert, 7).into_bytes(),
            )),
        }
    }

    #[test]
    fn a_bootstrapping_kubelet_asks_with_its_token_and_watches_its_request() {
        let mut rng = SimRng::new(1);
        let mut m =
            CertificateManager::new("worker-4", None, Some("abcdef.0123456789abcdef".into()));
        assert_eq!(m.next_wakeup(), Some(SimTime::ZERO));
        let sent = m.poll(SimTime(1_000), &mut rng);
        assert_eq!(sent.len(), 1);
        let (tag, req) = &sent[0];
        assert_eq!(*tag, TAG_CREATE);
        assert_eq!(
            req.credential,
            Credential::BearerToken("abcdef.0123456789abcdef".into())
        );
        let Some(Object::CertificateSigningRequest(csr)) = req.body.as_deref() else {
            panic!("a CSR")
        };
        assert_eq!(csr.spec.signer_name, KUBELET_CLIENT_SIGNER);
        assert!(String::from_utf8_lossy(&csr.spec.request.0).contains("CN = system:node:worker-4"));
        let sent = m.on_reply(
            SimTime(1_010),
            TAG_CREATE,
            ApiResponse::Object(created("csr-8b2fq", None)),
        );
        assert_eq!(sent[0].0, TAG_WATCH);
        assert_eq!(
            sent[0].1.options.field_selector.as_deref(),
            Some("metadata.name=csr-8b2fq")
        );
        let cert = ClientCertificate::node("worker-4", SimTime(1_500));
        m.on_reply(
            SimTime(1_600),
            TAG_WATCH,
            ApiResponse::Watch(WatchEvent {
                kind: WatchEventType::Modified,
                object: Some(created("csr-8b2fq", Some(issued(&cert)))),
                resource_version: 43,
            }),
        );
        assert_eq!(m.current(), Some(&cert));
        assert!(m.take_changed());
        assert_eq!(m.requests(), ["csr-8b2fq"]);
    }

    #[test]
    fn rotation_starts_between_seventy_and_ninety_percent_of_the_validity_as_the_node() {
        let cert = ClientCertificate::node("worker-4", SimTime::ZERO);
        let total = cert.not_after.as_millis();
        for seed in 1..20 {
            let mut rng = SimRng::new(seed);
            let mut m = CertificateManager::new("worker-4", Some(cert.clone()), None);
            let earliest = m.next_wakeup().unwrap();
            assert_eq!(earliest, SimTime(total * 7 / 10));
            let early = m.poll(earliest, &mut rng);
            let deadline = m.rotation_deadline().unwrap();
            assert!(
                deadline.as_millis() >= total * 7 / 10
                    && deadline.as_millis() <= total * 9 / 10 + 1
            );
            let sent = if early.is_empty() {
                m.poll(deadline, &mut rng)
            } else {
                early
            };
            assert_eq!(sent.len(), 1);
            assert_eq!(
                sent[0].1.credential,
                Credential::ClientCertificate(cert.clone())
            );
        }
    }

    #[test]
    fn a_denied_request_is_tried_again_after_a_back_off() {
        let mut rng = SimRng::new(1);
        let mut m = CertificateManager::new("w", None, Some("abcdef.0123456789abcdef".into()));
        m.poll(SimTime(0), &mut rng);
        let denied = CertificateSigningRequestStatus {
            conditions: Some(vec![CertificateSigningRequestCondition {
                type_: "Denied".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            certificate: None,
        };
        m.on_reply(
            SimTime(10),
            TAG_CREATE,
            ApiResponse::Object(created("csr-a", Some(denied))),
        );
        assert_eq!(m.next_wakeup(), Some(SimTime(2_010)));
        assert!(m.poll(SimTime(1_000), &mut rng).is_empty());
        assert_eq!(m.poll(SimTime(2_010), &mut rng).len(), 1);
    }
}
