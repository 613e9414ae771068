//! What a request asks to do, the answer an authorizer gives, and the 403
//! message kube-apiserver writes when nobody allows it.
//!
//! Kubernetes: `staging/src/k8s.io/apiserver/pkg/authorization/authorizer/interfaces.go`
//! (`Attributes`, `Decision`), `.../authorization/union/union.go` (how a chain
//! of authorizers is asked in turn), and
//! `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`
//! (`Forbidden`, `forbiddenMessage`) wrapped by `apierrors.NewForbidden`.
//!
//! Left out: the `Deny` decision (only webhook authorizers give it), label and
//! field selector *authorization* beyond the equality field requirements the
//! Node authorizer reads, and API versions (RBAC ignores them).

use super::user::UserInfo;
use serde::{Deserialize, Serialize};

/// One `field=value` requirement of a list/watch field selector, e.g.
/// `spec.nodeName=worker-1` (the only operator the Node authorizer honours).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
}

/// The attributes of one request, as the authorizers see them
/// (`authorizer.AttributesRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestAttributes {
    pub user: UserInfo,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or a special verb (`impersonate`, `bind`,
    /// `escalate`, `approve`, `sign`, `use`).
    pub verb: String,
    /// True for `/api` and `/apis` resource requests, false for
    /// non-resource paths such as `/healthz`.
    pub resource_request: bool,
    /// `""` is the core group.
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// `""` for cluster-scoped resources and for requests across namespaces.
    pub namespace: String,
    /// `""` for list, watch, create without a name, deletecollection.
    pub name: String,
    /// The request path; what non-resource rules match.
    pub path: String,
    /// Equality requirements of the request's field selector.
    pub field_selector: Vec<FieldRequirement>,
}

impl RequestAttributes {
    /// A resource request: `verb` on `resource` in `api_group`, cluster-wide
    /// until [`Self::in_namespace`] says otherwise.
    pub fn resource(user: UserInfo, verb: &str, api_group: &str, resource: &str) -> Self {
        RequestAttributes {
            user,
            verb: verb.to_string(),
            resource_request: true,
            api_group: api_group.to_string(),
            resource: resource.to_string(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            path: String::new(),
            field_selector: Vec::new(),
        }
    }

    /// A non-resource request such as `get /healthz`.
    pub fn non_resource(user: UserInfo, verb: &str, path: &str) -> Self {
        RequestAttributes {
            user,
            verb: verb.to_string(),
            resource_request: false,
            api_group: String::new(),
            resource: String::new(),
            subresource: String::new(),
            namespace: String::new(),
            name: String::new(),
            path: path.to_string(),
            field_selector: Vec::new(),
        }
    }

    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.to_string();
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn with_subresource(mut self, subresource: &str) -> Self {
        self.subresource = subresource.to_string();
        self
    }

    pub fn with_field(mut self, field: &str, value: &str) -> Self {
        self.field_selector.push(FieldRequirement {
            field: field.to_string(),
            value: value.to_string(),
        });
        self
    }

    /// `resource` or `resource/subresource`, as rules and messages name it.
    pub fn combined_resource(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// An authorizer's answer. Authorizers never deny here: they allow or have
/// no opinion, and a request nobody allows is forbidden.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Allowed, with the reason (RBAC names the binding and role).
    Allow { reason: String },
    /// Not allowed by this authorizer; the reason may be empty.
    NoOpinion { reason: String },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow { reason } | Decision::NoOpinion { reason } => reason,
        }
    }

    pub(crate) fn allow(reason: impl Into<String>) -> Self {
        Decision::Allow {
            reason: reason.into(),
        }
    }

    pub(crate) fn no_opinion(reason: impl Into<String>) -> Self {
        Decision::NoOpinion {
            reason: reason.into(),
        }
    }
}

/// The 403 an unauthorized request gets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// `Status{reason: Forbidden, code: 403, message}`.
    #[error("{message}")]
    Forbidden { message: String },
}

impl AuthorizationError {
    pub fn code(&self) -> u16 {
        403
    }
}

/// kube-apiserver escapes `&`, `<` and `>` in the part of the message built
/// from request attributes (`sanitizer` in `responsewriters/errors.go`).
fn sanitize(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `forbiddenMessage`: `User "jane" cannot list resource "pods" in API group
/// "" in the namespace "default"`, `... at the cluster scope`, or
/// `User "jane" cannot get path "/metrics"`.
pub fn forbidden_detail(attrs: &RequestAttributes) -> String {
    let user = &attrs.user.name;
    if !attrs.resource_request {
        return format!(
            "User {:?} cannot {} path {:?}",
            user, attrs.verb, attrs.path
        );
    }
    let resource = attrs.combined_resource();
    if attrs.namespace.is_empty() {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} at the cluster scope",
            user, attrs.verb, resource, attrs.api_group
        )
    } else {
        format!(
            "User {:?} cannot {} resource {:?} in API group {:?} in the namespace {:?}",
            user, attrs.verb, resource, attrs.api_group, attrs.namespace
        )
    }
}

/// The full message of the 403 Status, as kube-apiserver writes it:
/// `responsewriters.Forbidden` appends the authorizers' reason (`msg: reason`)
/// and `apierrors.NewForbidden` prefixes the group-resource and name
/// (`pods "web" is forbidden: ...`, or `forbidden: ...` for paths).
pub fn forbidden_message(attrs: &RequestAttributes, reason: &str) -> String {
    let detail = sanitize(&forbidden_detail(attrs));
    let err = if reason.is_empty() {
        detail
    } else {
        format!("{detail}: {reason}")
    };
    let group_resource = if attrs.api_group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.api_group)
    };
    if group_resource.is_empty() {
        format!("forbidden: {err}")
    } else if attrs.name.is_empty() {
        format!("{group_resource} is forbidden: {err}")
    } else {
        format!("{group_resource} {:?} is forbidden: {err}", attrs.name)
    }
}

// Messages quote with Rust's `{:?}`, which matches Go's `%q` for the plain
// ASCII names Kubernetes allows; the two differ only for control and
// non-ASCII characters.

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> UserInfo {
        UserInfo::new("jane", &["system:authenticated"])
    }

    #[test]
    fn a_namespaced_list_is_forbidden_in_the_namespace() {
        let attrs = RequestAttributes::resource(jane(), "list", "", "pods").in_namespace("default");
        assert_eq!(
            forbidden_message(&attrs, ""),
            r#"pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#
        );
    }

    #[test]
    fn a_named_subresource_is_forbidden_with_its_name_and_combined_resource() {
        let attrs = RequestAttributes::resource(jane(), "get", "", "pods")
            .in_namespace("default")
            .named("web-0")
            .with_subresource("log");
        assert_eq!(
            forbidden_message(&attrs, ""),
            r#"pods "web-0" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "default""#
        );
    }

    #[test]
    fn a_cluster_scoped_request_in_a_named_group_is_forbidden_at_the_cluster_scope() {
        let attrs = RequestAttributes::resource(
            jane(),
            "list",
            "rbac.authorization.k8s.io",
            "clusterroles",
        );
        assert_eq!(
            forbidden_message(&attrs, ""),
            r#"clusterroles.rbac.authorization.k8s.io is forbidden: User "jane" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        );
    }

    #[test]
    fn the_reason_is_appended_after_a_colon() {
        let attrs = RequestAttributes::resource(jane(), "list", "", "pods").in_namespace("default");
        assert_eq!(
            forbidden_message(
                &attrs,
                r#"RBAC: clusterrole.rbac.authorization.k8s.io "x" not found"#
            ),
            r#"pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "x" not found"#
        );
    }

    #[test]
    fn a_non_resource_path_is_forbidden_without_a_group_resource() {
        let attrs = RequestAttributes::non_resource(jane(), "get", "/metrics");
        assert_eq!(
            forbidden_message(&attrs, ""),
            r#"forbidden: User "jane" cannot get path "/metrics""#
        );
    }

    #[test]
    fn angle_brackets_in_request_attributes_are_escaped() {
        let attrs = RequestAttributes::non_resource(jane(), "get", "/<script>");
        assert_eq!(
            forbidden_message(&attrs, ""),
            r#"forbidden: User "jane" cannot get path "/&lt;script&gt;""#
        );
    }
}
