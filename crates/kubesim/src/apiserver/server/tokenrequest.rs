//! The token subresource: `POST serviceaccounts/<name>/token` (an
//! authentication.k8s.io/v1 `TokenRequest`), which issues a bound
//! service-account token and stores nothing.
//!
//! Ported from `pkg/registry/core/serviceaccount/storage/token.go`
//! (`TokenREST.Create`): the request is defaulted (`expirationSeconds`
//! 3600, the API server's audiences when none are given) and validated (at
//! least ten minutes), the service account must exist, and a
//! `boundObjectRef` to a Pod must name a pod that exists, has that uid when
//! one is given, and runs as that service account. A token bound to a pod
//! also names the pod's node. With `--service-account-extend-token-expiration`
//! (on by default) a pod-bound token asked for 3607 s, what the kubelet
//! asks, is issued for a year and marked `warnafter` the 3607 s; the
//! status still reports the expiry asked for, which is what the kubelet
//! refreshes by. NodeRestriction (`plugin/pkg/admission/noderestriction`
//! `admitServiceAccount`) lets a node ask only for tokens bound to a pod on
//! itself.
//!
//! The service account, pod and node are read from the instance's watch
//! cache (upstream reads them through its storage). Left out: binding to a
//! Secret or a Node, `--service-account-max-token-expiration`, and the
//! audit annotations.

use super::{ApiServer, Output};
use crate::api::time::to_time;
use crate::api::{ApiError, FieldError, KindId, Object};
use crate::apiserver::auth::serviceaccount::{
    self, unix_seconds, Claims, ObjectRef, DEFAULT_EXPIRATION_SECONDS, EXTENDED_EXPIRATION_SECONDS,
    KUBELET_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS,
};
use crate::apiserver::auth::user::NODE_USER_NAME_PREFIX;
use crate::apiserver::registry;
use crate::apiserver::request::{ApiRequest, ApiResponse, Verb};
use crate::world::SimDuration;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestStatus};
use std::rc::Rc;

/// Whether a request is a TokenRequest.
pub(super) fn is_token_request(r: &ApiRequest) -> bool {
    r.verb == Verb::Create
        && r.kind == KindId::ServiceAccount
        && r.subresource.as_deref() == Some("token")
}

impl ApiServer {
    /// `TokenREST.Create`.
    pub(super) fn token_request(
        &mut self,
        ctx: &mut super::Ctx<'_>,
        op_id: u64,
        out: &mut Vec<Output>,
    ) {
        let response = match self.issue_token(ctx, op_id) {
            Ok(tr) => ApiResponse::Object(Rc::new(Object::TokenRequest(Box::new(tr)))),
            Err(e) => ApiResponse::Error(e),
        };
        self.finish(op_id, response, out);
    }

    fn issue_token(&self, ctx: &mut super::Ctx<'_>, op_id: u64) -> Result<TokenRequest, ApiError> {
        let op = self
            .ops
            .get(&op_id)
            .ok_or_else(|| ApiError::internal("the request is gone"))?;
        let r = &op.request;
        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
        let name = r.name.clone().unwrap_or_default();
        let mut tr = match r.body.as_deref() {
            Some(Object::TokenRequest(tr)) => (**tr).clone(),
            _ => TokenRequest::default(),
        };
        // SetDefaults_TokenRequestSpec, and the server's audiences.
        let spec = tr.spec.get_or_insert_with(Default::default);
        let seconds = *spec
            .expiration_seconds
            .get_or_insert(DEFAULT_EXPIRATION_SECONDS);
        let audiences = spec.audiences.get_or_insert_with(Vec::new);
        if audiences.is_empty() {
            audiences.push(serviceaccount::ISSUER.to_string());
        }
        let audiences = audiences.clone();
        let bound = spec.bound_object_ref.clone();
        // ValidateTokenRequest.
        let tr_kind = KindId::TokenRequest.info();
        if seconds < MIN_EXPIRATION_SECONDS {
            return Err(ApiError::invalid(
                tr_kind,
                &name,
                vec![FieldError::invalid(
                    "spec.expirationSeconds",
                    seconds,
                    "may not specify a duration less than 10 minutes",
                )],
            ));
        }
        if seconds > 1 << 32 {
            return Err(ApiError::invalid(
                tr_kind,
                &name,
                vec![FieldError::invalid(
                    "spec.expirationSeconds",
                    seconds,
                    "may not specify a duration larger than 2^32 seconds",
                )],
            ));
        }
        let sa = match self
            .cache
            .get(&registry::key(KindId::ServiceAccount, Some(&ns), &name))
            .map(|o| &**o)
        {
            Some(Object::ServiceAccount(sa)) => sa.clone(),
            _ => return Err(ApiError::not_found(KindId::ServiceAccount.info(), &name)),
        };
        let mut pod_ref = None;
        let mut node_ref = None;
        if let Some(bound) = &bound {
            if bound.kind.as_deref() != Some("Pod") {
                return Err(ApiError::bad_request(format!(
                    "cannot bind token to object of kind {:?}: the simulation binds tokens to pods only",
                    bound.kind.as_deref().unwrap_or_default()
                )));
            }
            let pod_name = bound.name.clone().unwrap_or_default();
            let pod = match self
                .cache
                .get(&registry::key(KindId::Pod, Some(&ns), &pod_name))
                .map(|o| &**o)
            {
                Some(Object::Pod(p)) => p.clone(),
                _ => return Err(ApiError::not_found(KindId::Pod.info(), &pod_name)),
            };
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if let Some(want) = bound.uid.as_deref().filter(|u| !u.is_empty()) {
                if want != uid {
                    return Err(ApiError::conflict(
                        KindId::Pod.info(),
                        &pod_name,
                        &format!("the UID in the bound object reference ({want}) does not match the UID in record. The object might have been deleted and then recreated"),
                    ));
                }
            }
            let spec = pod.spec.clone().unwrap_or_default();
            let runs_as = spec.service_account_name.clone().unwrap_or_default();
            if runs_as != name {
                return Err(ApiError::bad_request(format!(
                    "cannot bind token for serviceaccount {name:?} to pod running with different serviceaccount name."
                )));
            }
            if let Some(node) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
                let node_uid = self
                    .cache
                    .get(&registry::key(KindId::Node, None, node))
                    .and_then(|o| o.uid().map(str::to_string));
                if let Some(node_uid) = node_uid {
                    node_ref = Some(ObjectRef {
                        name: node.to_string(),
                        uid: node_uid,
                    });
                }
            }
            pod_ref = Some((
                ObjectRef {
                    name: pod_name,
                    uid,
                },
                spec.node_name.unwrap_or_default(),
            ));
        }
        // NodeRestriction: a node's tokens are bound to its own pods.
        if let Some(node) = op
            .user
            .as_ref()
            .and_then(|u| u.name.strip_prefix(NODE_USER_NAME_PREFIX))
        {
            let why = match &pod_ref {
                None => Some("node requested token not bound to a pod"),
                Some((_, on)) if on != node => {
                    Some("node requested token bound to a pod scheduled on a different node")
                }
                Some(_) => None,
            };
            if let Some(why) = why {
                return Err(ApiError::forbidden("serviceaccounts", &name, why));
            }
        }
        let now = ctx.now;
        let issued = unix_seconds(now);
        let extend = pod_ref.is_some()
            && seconds == KUBELET_EXPIRATION_SECONDS
            && audiences == [serviceaccount::ISSUER];
        let lifetime = if extend {
            EXTENDED_EXPIRATION_SECONDS
        } else {
            seconds
        };
        let claims = Claims {
            namespace: ns.clone(),
            service_account: ObjectRef {
                name: name.clone(),
                uid: sa.metadata.uid.clone().unwrap_or_default(),
            },
            pod: pod_ref.map(|(p, _)| p),
            node: node_ref,
            audiences,
            issued_at: issued,
            expires_at: issued + lifetime,
            warn_after: extend.then_some(issued + seconds),
            id: ctx.rng.uuid(),
        };
        let token = ctx.authn.service_account_key.sign(&claims);
        tr.metadata.name = Some(name);
        tr.metadata.namespace = Some(ns);
        tr.metadata.creation_timestamp = None;
        tr.status = Some(TokenRequestStatus {
            token: Some(token),
            expiration_timestamp: Some(to_time(
                now + SimDuration::from_secs(seconds.max(0) as u64),
            )),
        });
        Ok(tr)
    }
}
