//! The CSR approving controller: approves kubelets' client certificate
//! requests when the requester is allowed to have them approved.
//!
//! Ported from `pkg/controller/certificates/approver/sarapprove.go`
//! (`handle`, `recognizers`, `isNodeClientCert`, `isSelfNodeClientCert`,
//! `authorize`, `appendApprovalCondition`). A pending request for the
//! `kubernetes.io/kube-apiserver-client-kubelet` signer whose subject is
//! `system:node:<name>` in `system:nodes` with client usages is recognised
//! twice: as a *self* node client request when the requester already is
//! that node (certificate rotation), and as a node client request. For each
//! recognition in turn the controller asks the API, through a
//! SubjectAccessReview about the requester, whether it may `create` the
//! subresource `certificatesigningrequests/selfnodeclient` (or
//! `nodeclient`); the first allowed one approves the request through the
//! `approval` subresource with the condition `Approved`, reason
//! `AutoApproved`. kubeadm binds `nodeclient` to its bootstrap token group and
//! `selfnodeclient` to `system:nodes`, so a joining kubelet's first request
//! and every node's renewals are approved, and nothing else is.
//!
//! Left out: the per-key retry of a denied review (upstream returns an
//! ignorable error and the work queue retries; here the request waits until
//! it changes or someone approves it by hand).

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::auth::pki::{is_kubelet_client_request, CertificateRequest};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use std::collections::BTreeMap;

/// The subresource, and the message of an approval, of each recogniser.
const SELF_NODE_CLIENT: (&str, &str) = (
    "selfnodeclient",
    "Auto approving self kubelet client certificate after SubjectAccessReview.",
);
const NODE_CLIENT: (&str, &str) = (
    "nodeclient",
    "Auto approving kubelet client certificate after SubjectAccessReview.",
);

/// Where the review of one request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Review {
    /// A SubjectAccessReview for this recogniser (index) is in flight.
    Asking(usize),
    /// The recogniser at this index was refused.
    Refused(usize),
    /// This recogniser was allowed: approve.
    Allowed(usize),
}

/// The CSR approving controller.
#[derive(Clone, Default)]
pub struct CsrApprovingController {
    /// Reviews by CSR key and uid.
    reviews: BTreeMap<String, (String, Review)>,
}

/// Whether the request has neither a certificate nor a decision.
pub(crate) fn is_pending(csr: &CertificateSigningRequest) -> bool {
    let status = csr.status.as_ref();
    let issued = status
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty());
    let decided = status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| {
        c.iter()
            .any(|c| c.type_ == "Approved" || c.type_ == "Denied")
    });
    !issued && !decided
}

/// The recognisers that match the request, in upstream's order.
fn recognized(csr: &CertificateSigningRequest) -> Vec<(&'static str, &'static str)> {
    if csr.spec.signer_name != crate::apiserver::auth::pki::KUBELET_CLIENT_SIGNER {
        return Vec::new();
    }
    let Some(req) = CertificateRequest::parse(&csr.spec.request.0) else {
        return Vec::new();
    };
    let usages = csr.spec.usages.clone().unwrap_or_default();
    if !is_kubelet_client_request(&req, &usages) {
        return Vec::new();
    }
    let mut r = Vec::new();
    if csr.spec.username.as_deref() == Some(req.common_name.as_str()) {
        r.push(SELF_NODE_CLIENT);
    }
    r.push(NODE_CLIENT);
    r
}

fn review_request(csr: &CertificateSigningRequest, subresource: &str) -> ApiRequest {
    let sar = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: csr.spec.username.clone(),
            uid: csr.spec.uid.clone(),
            groups: csr.spec.groups.clone(),
            extra: csr.spec.extra.clone(),
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                subresource: Some(subresource.into()),
                verb: Some("create".into()),
                version: Some("*".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    ApiRequest::new(Verb::Create, KindId::SubjectAccessReview, Credential::None)
        .with_body(Object::SubjectAccessReview(Box::new(sar)))
}

impl Controller for CsrApprovingController {
    fn name(&self) -> &'static str {
        "csrapproving"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::CertificateSigningRequest]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, n: &Notification) -> Vec<String> {
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. } => vec![o.key()],
            Notification::Delete { object, .. } => {
                self.reviews.remove(&object.key());
                Vec::new()
            }
            Notification::Synced => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx
            .caches
            .get(KindId::CertificateSigningRequest, key)
            .cloned()
        else {
            self.reviews.remove(key);
            return Requeue::Done;
        };
        let Object::CertificateSigningRequest(csr) = &*object else {
            return Requeue::Done;
        };
        if !is_pending(csr) {
            self.reviews.remove(key);
            return Requeue::Done;
        }
        let tried = recognized(csr);
        if tried.is_empty() {
            return Requeue::Done;
        }
        let uid = object.uid().unwrap_or_default().to_string();
        let review = self
            .reviews
            .get(key)
            .filter(|(u, _)| *u == uid)
            .map(|(_, r)| r.clone());
        let next = match review {
            None => Some(0),
            Some(Review::Asking(_)) => None,
            Some(Review::Refused(i)) => Some(i + 1),
            Some(Review::Allowed(i)) => {
                let (_, message) = tried[i.min(tried.len() - 1)];
                let mut approved = csr.clone();
                let status = approved.status.get_or_insert_with(Default::default);
                status.conditions.get_or_insert_with(Vec::new).push(
                    CertificateSigningRequestCondition {
                        type_: "Approved".into(),
                        status: "True".into(),
                        reason: Some("AutoApproved".into()),
                        message: Some(message.into()),
                        ..Default::default()
                    },
                );
                ctx.write(
                    ApiRequest::new(
                        Verb::Update,
                        KindId::CertificateSigningRequest,
                        Credential::None,
                    )
                    .named(object.name())
                    .with_subresource("approval")
                    .with_body(Object::CertificateSigningRequest(approved)),
                );
                self.reviews.remove(key);
                return Requeue::Done;
            }
        };
        if let Some(i) = next.filter(|i| *i < tried.len()) {
            self.reviews
                .insert(key.to_string(), (uid, Review::Asking(i)));
            ctx.write(review_request(csr, tried[i].0));
        }
        Requeue::Done
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<super::ReplyEvent> {
        if request.kind != KindId::SubjectAccessReview {
            return Vec::new();
        }
        let Some((_, review)) = self.reviews.get_mut(key) else {
            return Vec::new();
        };
        let Review::Asking(i) = *review else {
            return Vec::new();
        };
        *review = match response {
            ApiResponse::Object(o) => match &**o {
                Object::SubjectAccessReview(s) if s.status.as_ref().is_some_and(|s| s.allowed) => {
                    Review::Allowed(i)
                }
                _ => Review::Refused(i),
            },
            // A failed review is asked again (the manager requeues failed
            // writes with back-off).
            _ => {
                self.reviews.remove(key);
                return Vec::new();
            }
        };
        Vec::new()
    }

    fn requeue_on_reply(&self, request: &ApiRequest) -> bool {
        request.kind == KindId::SubjectAccessReview
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apiserver::auth::pki::{KUBELET_CLIENT_SIGNER, KUBELET_CLIENT_USAGES};
    use crate::controllers::testing::reconcile;
    use crate::world::SimTime;
    use std::rc::Rc;

    fn csr(username: &str, node: &str) -> Object {
        let mut c = CertificateSigningRequest::default();
        c.metadata.name = Some("csr-abcde".into());
        c.metadata.uid = Some("u1".into());
        c.spec.signer_name = KUBELET_CLIENT_SIGNER.into();
        c.spec.request =
            k8s_openapi::ByteString(CertificateRequest::for_node(node).to_pem().into_bytes());
        c.spec.usages = Some(
            KUBELET_CLIENT_USAGES
                .iter()
                .map(|u| u.to_string())
                .collect(),
        );
        c.spec.username = Some(username.into());
        Object::CertificateSigningRequest(Box::new(c))
    }

    fn review_subresource(r: &ApiRequest) -> String {
        match r.body.as_deref() {
            Some(Object::SubjectAccessReview(s)) => s
                .spec
                .resource_attributes
                .as_ref()
                .and_then(|a| a.subresource.clone())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn answer(allowed: bool) -> ApiResponse {
        let s = SubjectAccessReview {
            status: Some(
                k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus {
                    allowed,
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        ApiResponse::Object(Rc::new(Object::SubjectAccessReview(Box::new(s))))
    }

    #[test]
    fn a_bootstrap_request_is_reviewed_as_nodeclient_then_approved_as_auto_approved() {
        let mut c = CsrApprovingController::default();
        let o = csr("system:bootstrap:abcdef", "worker-4");
        let (writes, _, _) = reconcile(&mut c, SimTime(0), std::slice::from_ref(&o), "csr-abcde");
        assert_eq!(writes.len(), 1);
        assert_eq!(review_subresource(&writes[0]), "nodeclient");
        c.on_reply("csr-abcde", &writes[0], &answer(true));
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[o], "csr-abcde");
        assert_eq!(writes[0].subresource.as_deref(), Some("approval"));
        let Some(Object::CertificateSigningRequest(a)) = writes[0].body.as_deref() else {
            panic!("an approval carries the request");
        };
        let cond = &a.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
        assert_eq!(
            (cond.type_.as_str(), cond.reason.as_deref()),
            ("Approved", Some("AutoApproved"))
        );
    }

    #[test]
    fn a_renewal_is_reviewed_as_selfnodeclient_first_and_a_refused_request_stays_pending() {
        let mut c = CsrApprovingController::default();
        let o = csr("system:node:worker-4", "worker-4");
        let (writes, _, _) = reconcile(&mut c, SimTime(0), std::slice::from_ref(&o), "csr-abcde");
        assert_eq!(review_subresource(&writes[0]), "selfnodeclient");
        c.on_reply("csr-abcde", &writes[0], &answer(false));
        let (writes, _, _) = reconcile(&mut c, SimTime(0), std::slice::from_ref(&o), "csr-abcde");
        assert_eq!(review_subresource(&writes[0]), "nodeclient");
        c.on_reply("csr-abcde", &writes[0], &answer(false));
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[o], "csr-abcde");
        assert!(writes.is_empty(), "nobody approves it");
    }

    #[test]
    fn a_request_for_another_nodes_name_is_not_self_and_other_signers_are_ignored() {
        let mut c = CsrApprovingController::default();
        let o = csr("system:node:worker-1", "worker-4");
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[o], "csr-abcde");
        assert_eq!(review_subresource(&writes[0]), "nodeclient");
        let mut other = csr("jane", "worker-4");
        if let Object::CertificateSigningRequest(x) = &mut other {
            x.spec.signer_name = "kubernetes.io/kube-apiserver-client".into();
        }
        let (writes, _, _) = reconcile(&mut c, SimTime(0), &[other], "csr-abcde");
        assert!(writes.is_empty());
    }
}
