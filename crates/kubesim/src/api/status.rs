//! API errors: the `metav1.Status` kube-apiserver answers with when a
//! request fails, and how kubectl prints it.
//!
//! Ported from apimachinery's `pkg/api/errors/errors.go` (`NewNotFound`,
//! `NewAlreadyExists`, `NewConflict`, `NewInvalid`, `NewForbidden`, ...),
//! the apiserver's `forbiddenMessage`
//! (`endpoints/handlers/responsewriters/errors.go`) and kubectl's
//! `cmdutil.CheckErr` / `StandardErrorMessage` / `MultilineError`. Left out:
//! `retryAfterSeconds` (kept on [`ApiError::too_many_requests`] errors only in
//! their message's cause), `RequestEntityTooLarge`.

use super::field::{aggregate, FieldError};
use super::object::Kind;
use serde_json::{json, Map, Value};

/// `metav1.StatusReason`, with the HTTP code each one comes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    InternalError,
    ServiceUnavailable,
    Timeout,
    /// 429, e.g. an eviction a PodDisruptionBudget does not allow.
    TooManyRequests,
    /// `StatusReasonUnknown` (an empty reason): what the API server's
    /// `ErrorToAPIStatus` makes of an error that is not a `Status`, such as
    /// a failed dial to a kubelet (`500`, the error's text as the message).
    Unknown,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            // apimachinery: StatusReasonGone = "Gone"; an expired watch
            // says "Expired" with the same 410.
            Reason::Gone => "Gone",
            Reason::Invalid => "Invalid",
            Reason::InternalError => "InternalError",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::Timeout => "Timeout",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::Unknown => "",
        }
    }

    /// The HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Gone => 410,
            Reason::Invalid => 422,
            Reason::InternalError | Reason::Unknown => 500,
            Reason::ServiceUnavailable => 503,
            Reason::Timeout => 504,
            Reason::TooManyRequests => 429,
        }
    }
}

/// `metav1.StatusDetails`: which object the error is about.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Details {
    pub name: String,
    pub group: String,
    /// The resource (`pods`) for most errors, the kind (`Pod`) for Invalid.
    pub kind: String,
    pub causes: Vec<FieldError>,
}

/// A failed API request: what kube-apiserver returns as a `Status`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub reason: Reason,
    pub message: String,
    /// Boxed: errors travel in `Result`s and should stay small.
    pub details: Option<Box<Details>>,
}

/// The optimistic-concurrency message (`registry/rest.OptimisticLockErrorMsg`).
pub const OPTIMISTIC_LOCK_MSG: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl ApiError {
    fn new(reason: Reason, message: String, details: Option<Details>) -> Self {
        ApiError {
            reason,
            message,
            details: details.map(Box::new),
        }
    }

    fn about(kind: &Kind, name: &str) -> Option<Details> {
        Some(Details {
            name: name.to_string(),
            group: kind.group.to_string(),
            kind: kind.plural.to_string(),
            causes: vec![],
        })
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        self.reason.code()
    }

    /// `pods "nginx" not found`.
    pub fn not_found(kind: &Kind, name: &str) -> Self {
        let msg = format!("{} \"{name}\" not found", kind.group_resource());
        Self::new(Reason::NotFound, msg, Self::about(kind, name))
    }

    /// `pods "nginx" already exists`.
    pub fn already_exists(kind: &Kind, name: &str) -> Self {
        let msg = format!("{} \"{name}\" already exists", kind.group_resource());
        Self::new(Reason::AlreadyExists, msg, Self::about(kind, name))
    }

    /// `Operation cannot be fulfilled on pods "x": <why>`.
    pub fn conflict(kind: &Kind, name: &str, why: &str) -> Self {
        let msg = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            kind.group_resource()
        );
        Self::new(Reason::Conflict, msg, Self::about(kind, name))
    }

    /// A stale `resourceVersion`: [`ApiError::conflict`] with
    /// [`OPTIMISTIC_LOCK_MSG`].
    pub fn stale(kind: &Kind, name: &str) -> Self {
        Self::conflict(kind, name, OPTIMISTIC_LOCK_MSG)
    }

    /// `Pod "x" is invalid: spec.containers[0].image: Required value`
    /// (kubectl prints it as `The Pod "x" is invalid: ...`).
    pub fn invalid(kind: &Kind, name: &str, causes: Vec<FieldError>) -> Self {
        let mut msg = format!("{} \"{name}\" is invalid", kind.group_kind());
        if !causes.is_empty() {
            msg.push_str(": ");
            msg.push_str(&aggregate(&causes));
        }
        let details = Details {
            name: name.to_string(),
            group: kind.group.to_string(),
            kind: kind.kind.to_string(),
            causes,
        };
        Self::new(Reason::Invalid, msg, Some(details))
    }

    /// `pods "x" is forbidden: <why>`, or `pods is forbidden: <why>` when
    /// no name applies (a list, a create).
    pub fn forbidden(group_resource: &str, name: &str, why: &str) -> Self {
        let msg = if name.is_empty() {
            format!("{group_resource} is forbidden: {why}")
        } else {
            format!("{group_resource} \"{name}\" is forbidden: {why}")
        };
        let (resource, group) = group_resource
            .split_once('.')
            .unwrap_or((group_resource, ""));
        let details = Details {
            name: name.to_string(),
            group: group.to_string(),
            kind: resource.to_string(),
            causes: vec![],
        };
        Self::new(Reason::Forbidden, msg, Some(details))
    }

    /// The RBAC denial: `pods is forbidden: User "jane" cannot list
    /// resource "pods" in API group "" in the namespace "default"`.
    /// `namespace` empty means cluster scope.
    pub fn forbidden_by_rbac(req: &ForbiddenRequest<'_>) -> Self {
        let resource = if req.subresource.is_empty() {
            req.resource.to_string()
        } else {
            format!("{}/{}", req.resource, req.subresource)
        };
        let scope = if req.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", req.namespace)
        };
        let why = format!(
            "User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
            req.user, req.verb, req.group
        );
        let gr = if req.group.is_empty() {
            req.resource.to_string()
        } else {
            format!("{}.{}", req.resource, req.group)
        };
        Self::forbidden(&gr, req.name, &why)
    }

    /// 404 for a path the server does not serve.
    pub fn not_found_resource() -> Self {
        Self::new(
            Reason::NotFound,
            "the server could not find the requested resource".into(),
            None,
        )
    }

    /// 401: the credential was missing, unknown or expired. kube-apiserver
    /// says no more than `Unauthorized`, so as not to help an attacker.
    pub fn unauthorized() -> Self {
        Self::new(Reason::Unauthorized, "Unauthorized".into(), None)
    }

    /// 400 with the given message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message.into(), None)
    }

    /// 422 for a request that cannot be carried out on the object, such
    /// as a JSON patch operation that does not apply
    /// (`NewGenericServerResponse(422, ...)` in `handlers/patch.go`): the
    /// server's own message goes no further than its logs, and kubectl
    /// prints `The request is invalid: the server rejected our request due
    /// to an error in our request`.
    pub fn unprocessable() -> Self {
        Self::new(
            Reason::Invalid,
            "the server rejected our request due to an error in our request".into(),
            Some(Details::default()),
        )
    }

    /// 405: `<verb> is not supported on resources of kind "pods"`.
    pub fn method_not_supported(kind: &Kind, action: &str) -> Self {
        let msg = format!(
            "{action} is not supported on resources of kind {:?}",
            kind.group_resource()
        );
        Self::new(Reason::MethodNotAllowed, msg, Self::about(kind, ""))
    }

    /// 410, e.g. a watch from a compacted revision:
    /// `too old resource version: 5 (120)`.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(Reason::Gone, message.into(), None)
    }

    /// 500: `Internal error occurred: <why>`.
    pub fn internal(why: &str) -> Self {
        Self::new(
            Reason::InternalError,
            format!("Internal error occurred: {why}"),
            None,
        )
    }

    /// 500 whose message is `message` as is (a `Status` a handler builds
    /// itself, such as the eviction API's "more than one
    /// PodDisruptionBudget").
    pub fn internal_plain(message: impl Into<String>) -> Self {
        Self::new(Reason::InternalError, message.into(), None)
    }

    /// 503 with the given reason (e.g. etcd lost quorum).
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(Reason::ServiceUnavailable, message.into(), None)
    }

    /// 504: `Timeout: <message>`.
    pub fn timeout(message: &str) -> Self {
        Self::new(Reason::Timeout, format!("Timeout: {message}"), None)
    }

    /// 429 with a message and one cause of type `cause_type`
    /// (`errors.NewTooManyRequests` plus `Details.Causes`), e.g. the
    /// eviction API's "Cannot evict pod as it would violate the pod's
    /// disruption budget." with a `DisruptionBudget` cause.
    pub fn too_many_requests(message: impl Into<String>, cause: Option<FieldError>) -> Self {
        Self::new(
            Reason::TooManyRequests,
            message.into(),
            Some(Details {
                causes: cause.into_iter().collect(),
                ..Details::default()
            }),
        )
    }

    /// 504 for a watch or read from a resourceVersion the watch cache did not
    /// reach in time: `Timeout: Too large resource version: 12, current: 10`
    /// with the `ResourceVersionTooLarge` cause
    /// (`storage.NewTooLargeResourceVersionError`).
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut e = Self::timeout(&format!(
            "Too large resource version: {requested}, current: {current}"
        ));
        e.details = Some(Box::new(Details {
            causes: vec![FieldError {
                kind: super::field::ErrorType::ResourceVersionTooLarge,
                field: String::new(),
                value: super::field::BadValue::None,
                detail: String::new(),
            }],
            ..Details::default()
        }));
        e
    }

    /// The `metav1.Status` object kube-apiserver sends in the body.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
            "code": self.code(),
        });
        if self.reason == Reason::Unknown {
            // `reason,omitempty`.
            if let Some(m) = status.as_object_mut() {
                m.remove("reason");
            }
        }
        if let Some(d) = &self.details {
            let mut details = Map::new();
            for (k, v) in [("name", &d.name), ("group", &d.group), ("kind", &d.kind)] {
                if !v.is_empty() {
                    details.insert(k.to_string(), Value::from(v.as_str()));
                }
            }
            if !d.causes.is_empty() {
                let causes = d
                    .causes
                    .iter()
                    .map(|c| {
                        let mut cause = json!({"reason": c.kind.cause_type(), "message": c.body()});
                        if !c.field.is_empty() {
                            cause["field"] = Value::from(c.field.as_str());
                        }
                        cause
                    })
                    .collect();
                details.insert("causes".into(), Value::Array(causes));
            }
            status["details"] = Value::Object(details);
        }
        status
    }

    /// How kubectl prints the error: `Error from server (NotFound): pods
    /// "nginx" not found`, or for Invalid `The Pod "x" is invalid: ...`
    /// (one line per cause, prefixed `* `, when there are several).
    pub fn to_kubectl(&self) -> String {
        self.render(None)
    }

    /// As [`ApiError::to_kubectl`] for a request made from a file:
    /// `Error from server (AlreadyExists): error when creating "STDIN":
    /// pods "nginx" already exists` (`verb` is `creating`, `applying`,
    /// `deleting`...). Invalid errors read the same as without a file.
    pub fn to_kubectl_from(&self, verb: &str, source: &str) -> String {
        self.render(Some((verb, source)))
    }

    fn render(&self, from: Option<(&str, &str)>) -> String {
        if self.reason == Reason::Invalid {
            if let Some(d) = &self.details {
                let head = if d.kind.is_empty() && d.name.is_empty() {
                    "The request is invalid".to_string()
                } else {
                    format!("The {} \"{}\" is invalid", d.kind, d.name)
                };
                return match d.causes.as_slice() {
                    [] => format!("{head}: {}", self.message),
                    [one] => format!("{head}: {one}"),
                    many => {
                        let mut s = format!("{head}: ");
                        for c in many {
                            s.push_str(&format!("\n* {c}"));
                        }
                        s
                    }
                };
            }
        }
        let message = match from {
            Some((verb, source)) => format!("error when {verb} \"{source}\": {}", self.message),
            None => self.message.clone(),
        };
        // staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go
        // StandardErrorMessage: a 401 reads as a login problem, not as the
        // server's error.
        if self.reason == Reason::Unauthorized {
            return format!("error: You must be logged in to the server ({message})");
        }
        // An empty reason prints none.
        if self.reason == Reason::Unknown {
            return format!("Error from server: {message}");
        }
        match from {
            Some((verb, source)) => format!(
                "Error from server ({}): error when {verb} \"{source}\": {}",
                self.reason.as_str(),
                self.message
            ),
            None => format!(
                "Error from server ({}): {}",
                self.reason.as_str(),
                self.message
            ),
        }
    }
}

/// Who asked for what, for [`ApiError::forbidden_by_rbac`] (the
/// authorizer's attributes).
#[derive(Clone, Copy, Debug, Default)]
pub struct ForbiddenRequest<'a> {
    pub user: &'a str,
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    /// Empty for cluster-scoped requests.
    pub namespace: &'a str,
    /// Empty for lists and creates.
    pub name: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::object::KindId;

    #[test]
    fn not_found_reads_as_kube_apiserver_and_kubectl_word_it() {
        let e = ApiError::not_found(KindId::Pod.info(), "nginx");
        assert_eq!(e.code(), 404);
        assert_eq!(e.to_string(), r#"pods "nginx" not found"#);
        assert_eq!(
            e.to_kubectl(),
            r#"Error from server (NotFound): pods "nginx" not found"#
        );
    }

    #[test]
    fn kubectl_words_a_401_as_a_login_problem() {
        let e = ApiError::unauthorized();
        assert_eq!(
            e.to_kubectl(),
            "error: You must be logged in to the server (Unauthorized)"
        );
        assert_eq!(
            e.to_kubectl_from("creating", "STDIN"),
            "error: You must be logged in to the server (error when creating \"STDIN\": Unauthorized)"
        );
    }

    #[test]
    fn group_resources_are_qualified_by_their_group() {
        let e = ApiError::not_found(KindId::Deployment.info(), "web");
        assert_eq!(e.to_string(), r#"deployments.apps "web" not found"#);
    }

    #[test]
    fn already_exists_names_the_file_when_created_from_one() {
        let e = ApiError::already_exists(KindId::Pod.info(), "nginx");
        assert_eq!(e.code(), 409);
        assert_eq!(
            e.to_kubectl_from("creating", "STDIN"),
            r#"Error from server (AlreadyExists): error when creating "STDIN": pods "nginx" already exists"#
        );
    }

    #[test]
    fn a_stale_resource_version_is_a_conflict_with_the_optimistic_lock_message() {
        let e = ApiError::stale(KindId::Pod.info(), "x");
        assert_eq!(e.code(), 409);
        assert_eq!(
            e.to_string(),
            r#"Operation cannot be fulfilled on pods "x": the object has been modified; please apply your changes to the latest version and try again"#
        );
    }

    #[test]
    fn invalid_prints_one_cause_inline_and_several_as_a_list() {
        let one = ApiError::invalid(
            KindId::Pod.info(),
            "x",
            vec![FieldError::required("spec.containers[0].image", "")],
        );
        assert_eq!(one.code(), 422);
        assert_eq!(
            one.to_string(),
            r#"Pod "x" is invalid: spec.containers[0].image: Required value"#
        );
        assert_eq!(
            one.to_kubectl(),
            r#"The Pod "x" is invalid: spec.containers[0].image: Required value"#
        );
        let two = ApiError::invalid(
            KindId::Deployment.info(),
            "web",
            vec![
                FieldError::required("spec.selector", ""),
                FieldError::invalid("spec.replicas", -1, "must be greater than or equal to 0"),
            ],
        );
        assert_eq!(
            two.to_string(),
            r#"Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"#
        );
        assert_eq!(
            two.to_kubectl(),
            "The Deployment \"web\" is invalid: \n* spec.selector: Required value\n* spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
    }

    #[test]
    fn rbac_denials_name_the_user_verb_resource_group_and_scope() {
        let e = ApiError::forbidden_by_rbac(&ForbiddenRequest {
            user: "jane",
            verb: "list",
            resource: "pods",
            namespace: "default",
            ..Default::default()
        });
        assert_eq!(e.code(), 403);
        assert_eq!(
            e.to_kubectl(),
            r#"Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#
        );
        let e = ApiError::forbidden_by_rbac(&ForbiddenRequest {
            user: "system:node:worker-1",
            verb: "get",
            group: "apps",
            resource: "deployments",
            name: "web",
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            r#"deployments.apps "web" is forbidden: User "system:node:worker-1" cannot get resource "deployments" in API group "apps" at the cluster scope"#
        );
    }

    #[test]
    fn the_other_reasons_carry_their_codes_and_wording() {
        assert_eq!(
            ApiError::gone("too old resource version: 5 (120)").code(),
            410
        );
        assert_eq!(ApiError::bad_request("x").code(), 400);
        let m = ApiError::method_not_supported(KindId::Pod.info(), "patch");
        assert_eq!(m.code(), 405);
        assert_eq!(
            m.to_string(),
            r#"patch is not supported on resources of kind "pods""#
        );
        assert_eq!(ApiError::service_unavailable("etcd: no leader").code(), 503);
        let t = ApiError::timeout("request did not complete within 60s");
        assert_eq!(
            (t.code(), t.to_string().as_str()),
            (504, "Timeout: request did not complete within 60s")
        );
        let i = ApiError::internal("boom");
        assert_eq!(
            (i.code(), i.to_string().as_str()),
            (500, "Internal error occurred: boom")
        );
    }

    #[test]
    fn the_status_object_carries_reason_code_details_and_causes() {
        let e = ApiError::invalid(
            KindId::Pod.info(),
            "x",
            vec![FieldError::required("spec.containers", "")],
        );
        let s = e.to_status();
        assert_eq!(s["kind"], "Status");
        assert_eq!(s["status"], "Failure");
        assert_eq!(s["reason"], "Invalid");
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["kind"], "Pod");
        assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueRequired");
        assert_eq!(s["details"]["causes"][0]["message"], "Required value");
        assert_eq!(s["details"]["causes"][0]["field"], "spec.containers");
        let nf = ApiError::not_found(KindId::Pod.info(), "nginx").to_status();
        assert_eq!(nf["details"], json!({"name": "nginx", "kind": "pods"}));
    }
}
