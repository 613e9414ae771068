//! The RBAC authorizer: may this user do this, according to the Roles,
//! ClusterRoles and their bindings?
//!
//! In Kubernetes, kube-apiserver's RBAC authorizer
//! (`plugin/pkg/auth/authorizer/rbac/rbac.go`) walks, for each request, every
//! ClusterRoleBinding and then every RoleBinding in the request's namespace
//! (`pkg/registry/rbac/validation/rule.go`, `VisitRulesFor`); for each binding
//! whose subjects include the user it resolves the referenced Role or
//! ClusterRole and tries each rule (`RuleAllows`, with the matchers of
//! `pkg/apis/rbac/v1/evaluation_helpers.go`). The first matching rule allows;
//! otherwise it has no opinion, and any binding whose role could not be found
//! becomes the reason (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not
//! found`). RBAC only adds permissions: there are no deny rules.
//!
//! The index here is kept up to date from objects (`upsert_*` / `remove_*`)
//! the way kube-apiserver's informers keep its listers, and iterates in name
//! order so decisions and reasons are deterministic. It also does the work of
//! kube-controller-manager's clusterrole-aggregation controller
//! (`pkg/controller/clusterroleaggregation`): an aggregated ClusterRole's
//! rules are the rules of every ClusterRole its label selectors match, in name
//! order, without duplicates, recomputed on every change until stable.
//!
//! Left out: escalation checks on writes of roles and bindings (`escalate`,
//! `bind`, `ConfirmNoEscalation`), which belong to the RBAC REST storage, and
//! the `rbac.authorization.kubernetes.io/autoupdate` reconciliation of
//! bootstrap roles on API server restart.

use super::authorizer::{Decision, RequestAttributes};
use super::user::{matches_service_account, UserInfo};
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// The API group of Role, ClusterRole and their bindings.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// An object the index cannot hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RbacError {
    #[error("{kind} has no metadata.name")]
    MissingName { kind: &'static str },
    #[error("{kind} {name:?} has no metadata.namespace")]
    MissingNamespace { kind: &'static str, name: String },
}

/// Why a binding could not be resolved; these become the RBAC reason of a
/// denial (the listers' NotFound errors and `GetRoleReferenceRules`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionError {
    #[error("role.rbac.authorization.k8s.io {name:?} not found")]
    RoleNotFound { namespace: String, name: String },
    #[error("clusterrole.rbac.authorization.k8s.io {name:?} not found")]
    ClusterRoleNotFound { name: String },
    #[error("unsupported role reference kind: {kind:?}")]
    UnsupportedRoleRefKind { kind: String },
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several as
/// `[a, b]`, duplicates dropped.
pub fn aggregate_message(errors: &[ResolutionError]) -> String {
    let mut seen = BTreeSet::new();
    let mut parts = Vec::new();
    for error in errors {
        let message = error.to_string();
        if seen.insert(message.clone()) {
            parts.push(message);
        }
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        _ => format!("[{}]", parts.join(", ")),
    }
}

/// The RBAC authorizer and the index of RBAC objects it reads.
#[derive(Clone, Debug, Default)]
pub struct RbacAuthorizer {
    roles: BTreeMap<(String, String), Role>,
    role_bindings: BTreeMap<(String, String), RoleBinding>,
    cluster_roles: BTreeMap<String, ClusterRole>,
    cluster_role_bindings: BTreeMap<String, ClusterRoleBinding>,
    /// Each ClusterRole's rules after aggregation.
    effective_rules: BTreeMap<String, Vec<PolicyRule>>,
}

/// Which binding granted a rule, for the `RBAC: allowed by ...` reason.
enum Source<'a> {
    ClusterRoleBinding(&'a ClusterRoleBinding, &'a Subject),
    RoleBinding(&'a RoleBinding, &'a Subject),
}

impl Source<'_> {
    /// `clusterRoleBindingDescriber` / `roleBindingDescriber`.
    fn describe(&self) -> String {
        match self {
            Source::ClusterRoleBinding(binding, subject) => format!(
                "ClusterRoleBinding {:?} of {} {:?} to {}",
                name_of(&binding.metadata),
                binding.role_ref.kind,
                binding.role_ref.name,
                describe_subject(subject, "")
            ),
            Source::RoleBinding(binding, subject) => {
                let namespace = binding.metadata.namespace.as_deref().unwrap_or("");
                format!(
                    "RoleBinding {:?} of {} {:?} to {}",
                    format!("{}/{}", name_of(&binding.metadata), namespace),
                    binding.role_ref.kind,
                    binding.role_ref.name,
                    describe_subject(subject, namespace)
                )
            }
        }
    }
}

fn name_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// `describeSubject`: service accounts print as `name/namespace`.
fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    if subject.kind == "ServiceAccount" {
        let namespace = match subject.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => binding_namespace,
        };
        format!(
            "{} {:?}",
            subject.kind,
            format!("{}/{}", subject.name, namespace)
        )
    } else {
        format!("{} {:?}", subject.kind, subject.name)
    }
}

/// One step of `VisitRulesFor`: the rules of a binding that applies, or an
/// error resolving one.
enum Visit<'a> {
    Rules(Source<'a>, &'a [PolicyRule]),
    Error(ResolutionError),
}

impl RbacAuthorizer {
    pub fn new() -> Self {
        RbacAuthorizer::default()
    }

    /// Adds or replaces a Role.
    pub fn upsert_role(&mut self, role: Role) -> Result<(), RbacError> {
        let key = namespaced_key("Role", &role.metadata)?;
        self.roles.insert(key, role);
        Ok(())
    }

    pub fn remove_role(&mut self, namespace: &str, name: &str) -> Option<Role> {
        self.roles
            .remove(&(namespace.to_string(), name.to_string()))
    }

    /// Adds or replaces a RoleBinding.
    pub fn upsert_role_binding(&mut self, binding: RoleBinding) -> Result<(), RbacError> {
        let key = namespaced_key("RoleBinding", &binding.metadata)?;
        self.role_bindings.insert(key, binding);
        Ok(())
    }

    pub fn remove_role_binding(&mut self, namespace: &str, name: &str) -> Option<RoleBinding> {
        self.role_bindings
            .remove(&(namespace.to_string(), name.to_string()))
    }

    /// Adds or replaces a ClusterRole, then re-aggregates.
    pub fn upsert_cluster_role(&mut self, role: ClusterRole) -> Result<(), RbacError> {
        let name = cluster_key("ClusterRole", &role.metadata)?;
        // What aggregation reads of a role: its rules, its labels and its
        // own aggregation rule. The API server's bootstrap hook writes the
        // roles it was started with: nothing to aggregate again then.
        let same = self.cluster_roles.get(&name).is_some_and(|old| {
            old.rules == role.rules
                && old.aggregation_rule == role.aggregation_rule
                && old.metadata.labels == role.metadata.labels
        });
        self.cluster_roles.insert(name, role);
        if !same {
            self.aggregate();
        }
        Ok(())
    }

    /// Adds or replaces many ClusterRoles, aggregating once at the end
    /// (the bootstrap policy's seventy-odd roles: aggregating after each
    /// cost the page a tenth of a second at start).
    pub fn upsert_cluster_roles(
        &mut self,
        roles: impl IntoIterator<Item = ClusterRole>,
    ) -> Result<(), RbacError> {
        let mut result = Ok(());
        for role in roles {
            match cluster_key("ClusterRole", &role.metadata) {
                Ok(name) => {
                    self.cluster_roles.insert(name, role);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.aggregate();
        result
    }

    pub fn remove_cluster_role(&mut self, name: &str) -> Option<ClusterRole> {
        let removed = self.cluster_roles.remove(name);
        if removed.is_some() {
            self.aggregate();
        }
        removed
    }

    /// Adds or replaces a ClusterRoleBinding.
    pub fn upsert_cluster_role_binding(
        &mut self,
        binding: ClusterRoleBinding,
    ) -> Result<(), RbacError> {
        let name = cluster_key("ClusterRoleBinding", &binding.metadata)?;
        self.cluster_role_bindings.insert(name, binding);
        Ok(())
    }

    pub fn remove_cluster_role_binding(&mut self, name: &str) -> Option<ClusterRoleBinding> {
        self.cluster_role_bindings.remove(name)
    }

    pub fn role(&self, namespace: &str, name: &str) -> Option<&Role> {
        self.roles.get(&(namespace.to_string(), name.to_string()))
    }

    /// A ClusterRole as stored (an aggregated one with the rules it was
    /// written with).
    pub fn cluster_role(&self, name: &str) -> Option<&ClusterRole> {
        self.cluster_roles.get(name)
    }

    /// A ClusterRole with its rules as the aggregation controller writes
    /// them: what `kubectl get clusterrole admin -o yaml` shows.
    pub fn effective_cluster_role(&self, name: &str) -> Option<ClusterRole> {
        let mut role = self.cluster_roles.get(name)?.clone();
        if role.aggregation_rule.is_some() {
            role.rules = self.effective_rules.get(name).cloned();
        }
        Some(role)
    }

    /// Names of the ClusterRoles held, in order.
    pub fn cluster_role_names(&self) -> impl Iterator<Item = &str> {
        self.cluster_roles.keys().map(String::as_str)
    }

    /// Names of the ClusterRoleBindings held, in order.
    pub fn cluster_role_binding_names(&self) -> impl Iterator<Item = &str> {
        self.cluster_role_bindings.keys().map(String::as_str)
    }

    /// The clusterrole-aggregation controller's sync, for every aggregated
    /// role, repeated until nothing changes (an aggregated role may select
    /// another: `admin` selects `edit`, which selects `view`).
    fn aggregate(&mut self) {
        let mut effective: BTreeMap<String, Vec<PolicyRule>> = self
            .cluster_roles
            .iter()
            .map(|(name, role)| (name.clone(), role.rules.clone().unwrap_or_default()))
            .collect();
        let aggregated: Vec<&String> = self
            .cluster_roles
            .iter()
            .filter(|(_, role)| role.aggregation_rule.is_some())
            .map(|(name, _)| name)
            .collect();
        // Each pass can only lengthen chains of aggregation by one, so
        // len + 1 passes reach the fixed point of any acyclic setup; cycles
        // are cut off there rather than looping.
        for _ in 0..=aggregated.len() {
            let mut changed = false;
            for &name in &aggregated {
                let Some(rule) = self.cluster_roles[name].aggregation_rule.as_ref() else {
                    continue;
                };
                let mut rules: Vec<PolicyRule> = Vec::new();
                for selector in rule.cluster_role_selectors.iter().flatten() {
                    for (other_name, other) in &self.cluster_roles {
                        if other_name == name
                            || !label_selector_matches(selector, other.metadata.labels.as_ref())
                        {
                            continue;
                        }
                        for candidate in effective.get(other_name).into_iter().flatten() {
                            if !rules.contains(candidate) {
                                rules.push(candidate.clone());
                            }
                        }
                    }
                }
                if effective.get(name.as_str()) != Some(&rules) {
                    effective.insert(name.clone(), rules);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        self.effective_rules = effective;
    }

    /// `GetRoleReferenceRules`.
    fn role_ref_rules(
        &self,
        role_ref: &RoleRef,
        binding_namespace: &str,
    ) -> Result<&[PolicyRule], ResolutionError> {
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .get(&(binding_namespace.to_string(), role_ref.name.clone()))
                .map(|role| role.rules.as_deref().unwrap_or(&[]))
                .ok_or_else(|| ResolutionError::RoleNotFound {
                    namespace: binding_namespace.to_string(),
                    name: role_ref.name.clone(),
                }),
            "ClusterRole" => self
                .effective_rules
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| ResolutionError::ClusterRoleNotFound {
                    name: role_ref.name.clone(),
                }),
            other => Err(ResolutionError::UnsupportedRoleRefKind {
                kind: other.to_string(),
            }),
        }
    }

    /// `VisitRulesFor`: ClusterRoleBindings first, then the RoleBindings of
    /// `namespace` (if any), each in name order.
    fn visit<'a>(
        &'a self,
        user: &UserInfo,
        namespace: &str,
        mut visitor: impl FnMut(Visit<'a>) -> ControlFlow<()>,
    ) {
        for binding in self.cluster_role_bindings.values() {
            let Some(subject) = applies_to(user, binding.subjects.as_deref(), "") else {
                continue;
            };
            let step = match self.role_ref_rules(&binding.role_ref, "") {
                Ok(rules) => Visit::Rules(Source::ClusterRoleBinding(binding, subject), rules),
                Err(error) => Visit::Error(error),
            };
            if visitor(step).is_break() {
                return;
            }
        }
        if namespace.is_empty() {
            return;
        }
        let start = (namespace.to_string(), String::new());
        for ((binding_namespace, _), binding) in self.role_bindings.range(start..) {
            if binding_namespace != namespace {
                break;
            }
            let Some(subject) = applies_to(user, binding.subjects.as_deref(), namespace) else {
                continue;
            };
            let step = match self.role_ref_rules(&binding.role_ref, namespace) {
                Ok(rules) => Visit::Rules(Source::RoleBinding(binding, subject), rules),
                Err(error) => Visit::Error(error),
            };
            if visitor(step).is_break() {
                return;
            }
        }
    }

    /// `RBACAuthorizer.Authorize`.
    pub fn authorize(&self, attrs: &RequestAttributes) -> Decision {
        let mut allowed_by = None;
        let mut errors = Vec::new();
        self.visit(&attrs.user, &attrs.namespace, |step| match step {
            Visit::Rules(source, rules) => {
                if rules_allow(attrs, rules) {
                    allowed_by = Some(source.describe());
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            }
            Visit::Error(error) => {
                errors.push(error);
                ControlFlow::Continue(())
            }
        });
        if let Some(source) = allowed_by {
            return Decision::allow(format!("RBAC: allowed by {source}"));
        }
        if errors.is_empty() {
            Decision::no_opinion("")
        } else {
            Decision::no_opinion(format!("RBAC: {}", aggregate_message(&errors)))
        }
    }

    /// `RulesFor`: every rule that applies to `user` in `namespace`, and the
    /// bindings that could not be resolved (what `kubectl auth can-i --list`
    /// shows).
    pub fn rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<PolicyRule>, Vec<ResolutionError>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit(user, namespace, |step| {
            match step {
                Visit::Rules(_, found) => rules.extend(found.iter().cloned()),
                Visit::Error(error) => errors.push(error),
            }
            ControlFlow::Continue(())
        });
        (rules, errors)
    }
}

fn cluster_key(
    kind: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Result<String, RbacError> {
    match meta.name.as_deref() {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(RbacError::MissingName { kind }),
    }
}

fn namespaced_key(
    kind: &'static str,
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> Result<(String, String), RbacError> {
    let name = cluster_key(kind, meta)?;
    match meta.namespace.as_deref() {
        Some(namespace) if !namespace.is_empty() => Ok((namespace.to_string(), name)),
        _ => Err(RbacError::MissingNamespace { kind, name }),
    }
}

/// `appliesTo`: the first subject of a binding that is this user.
fn applies_to<'a>(
    user: &UserInfo,
    subjects: Option<&'a [Subject]>,
    namespace: &str,
) -> Option<&'a Subject> {
    subjects?
        .iter()
        .find(|subject| applies_to_user(user, subject, namespace))
}

/// `appliesToUser`: a User by name, a Group by membership, a ServiceAccount
/// by its user name (its namespace defaulting to the binding's).
fn applies_to_user(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let sa_namespace = match subject.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => namespace,
            };
            !sa_namespace.is_empty()
                && matches_service_account(sa_namespace, &subject.name, &user.name)
        }
        _ => false,
    }
}

/// `RulesAllow`: whether any rule allows the request.
pub fn rules_allow(attrs: &RequestAttributes, rules: &[PolicyRule]) -> bool {
    rules.iter().any(|rule| rule_allows(attrs, rule))
}

/// `RuleAllows`: verbs, API groups, `resource/subresource` and resource
/// names for resource requests; verbs and URLs for non-resource requests.
pub fn rule_allows(attrs: &RequestAttributes, rule: &PolicyRule) -> bool {
    if !verb_matches(rule, &attrs.verb) {
        return false;
    }
    if attrs.resource_request {
        api_group_matches(rule, &attrs.api_group)
            && resource_matches(rule, &attrs.combined_resource(), &attrs.subresource)
            && resource_name_matches(rule, &attrs.name)
    } else {
        non_resource_url_matches(rule, &attrs.path)
    }
}

/// `VerbMatches`: `*` or the verb itself.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

/// `APIGroupMatches`: `*` or the group itself (`""` is the core group).
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .flatten()
        .any(|g| g == "*" || g == group)
}

/// `ResourceMatches`: `*`, the combined `resource/subresource`, or
/// `*/subresource`.
pub fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().flatten().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// `ResourceNameMatches`: no names means every name; otherwise the name
/// must be listed (so a list, which has no name, never matches).
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => names.iter().any(|n| n == name),
    }
}

/// `NonResourceURLMatches`: `*`, the path itself, or a prefix ending in `*`.
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|url| {
        url == "*"
            || url == path
            || (url.ends_with('*') && path.starts_with(url.trim_end_matches('*')))
    })
}

/// `metav1.LabelSelectorAsSelector(...).Matches(labels)`: every
/// `matchLabels` pair and every `matchExpressions` requirement must hold; an
/// empty selector matches everything; an invalid requirement (unknown
/// operator, `In`/`NotIn` without values) matches nothing.
pub fn label_selector_matches(
    selector: &LabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    let get = |key: &str| labels.and_then(|l| l.get(key));
    for (key, value) in selector.match_labels.iter().flatten() {
        if get(key) != Some(value) {
            return false;
        }
    }
    for requirement in selector.match_expressions.iter().flatten() {
        let values = requirement.values.as_deref().unwrap_or(&[]);
        let actual = get(&requirement.key);
        let holds = match requirement.operator.as_str() {
            "In" => !values.is_empty() && actual.is_some_and(|v| values.contains(v)),
            "NotIn" => !values.is_empty() && actual.is_none_or(|v| !values.contains(v)),
            "Exists" => values.is_empty() && actual.is_some(),
            "DoesNotExist" => values.is_empty() && actual.is_none(),
            _ => false,
        };
        if !holds {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::rbac::v1::AggregationRule;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, ObjectMeta};

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            ..PolicyRule::default()
        }
    }

    fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            non_resource_urls: Some(urls.iter().map(|s| s.to_string()).collect()),
            ..PolicyRule::default()
        }
    }

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_string),
            ..ObjectMeta::default()
        }
    }

    fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
        Subject {
            api_group: (kind != "ServiceAccount").then(|| RBAC_GROUP.to_string()),
            kind: kind.to_string(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
        }
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: Some(RBAC_GROUP.to_string()),
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    fn jane() -> UserInfo {
        UserInfo::new("jane", &["developers", "system:authenticated"])
    }

    fn get_pod(user: UserInfo, ns: &str, name: &str) -> RequestAttributes {
        RequestAttributes::resource(user, "get", "", "pods")
            .in_namespace(ns)
            .named(name)
    }

    #[test]
    fn star_verbs_groups_and_resources_match_anything() {
        let r = rule(&["*"], &["*"], &["*"]);
        let attrs = RequestAttributes::resource(jane(), "deletecollection", "apps", "deployments");
        assert!(rule_allows(&attrs, &r));
    }

    #[test]
    fn a_resource_rule_does_not_match_its_subresources() {
        let r = rule(&["get"], &[""], &["pods"]);
        assert!(rule_allows(&get_pod(jane(), "default", "web"), &r));
        assert!(!rule_allows(
            &get_pod(jane(), "default", "web").with_subresource("log"),
            &r
        ));
        let log = rule(&["get"], &[""], &["pods/log"]);
        assert!(rule_allows(
            &get_pod(jane(), "default", "web").with_subresource("log"),
            &log
        ));
    }

    #[test]
    fn star_slash_subresource_matches_that_subresource_of_any_resource() {
        let r = rule(&["get"], &["*"], &["*/scale"]);
        let scale = RequestAttributes::resource(jane(), "get", "apps", "deployments")
            .in_namespace("default")
            .named("web")
            .with_subresource("scale");
        assert!(rule_allows(&scale, &r));
        let status = scale.clone().with_subresource("status");
        assert!(!rule_allows(&status, &r));
        let whole = RequestAttributes::resource(jane(), "get", "apps", "deployments");
        assert!(!rule_allows(&whole, &r));
    }

    #[test]
    fn resource_names_restrict_to_those_names_and_never_match_a_list() {
        let mut r = rule(&["get", "list"], &[""], &["configmaps"]);
        r.resource_names = Some(vec!["kube-proxy".to_string()]);
        let get = RequestAttributes::resource(jane(), "get", "", "configmaps")
            .in_namespace("kube-system")
            .named("kube-proxy");
        assert!(rule_allows(&get, &r));
        assert!(!rule_allows(&get.clone().named("other"), &r));
        let list = RequestAttributes::resource(jane(), "list", "", "configmaps")
            .in_namespace("kube-system");
        assert!(!rule_allows(&list, &r));
    }

    #[test]
    fn the_api_group_must_match() {
        let r = rule(&["get"], &["apps"], &["deployments"]);
        let extensions = RequestAttributes::resource(jane(), "get", "extensions", "deployments");
        assert!(!rule_allows(&extensions, &r));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_trailing_star_prefix() {
        let r = url_rule(&["get"], &["/healthz", "/apis/*"]);
        let path = |p: &str| RequestAttributes::non_resource(jane(), "get", p);
        assert!(rule_allows(&path("/healthz"), &r));
        assert!(!rule_allows(&path("/healthz/etcd"), &r));
        assert!(rule_allows(&path("/apis/apps/v1"), &r));
        assert!(rule_allows(&path("/apis/"), &r));
        assert!(!rule_allows(&path("/apis"), &r));
        let post = RequestAttributes::non_resource(jane(), "post", "/healthz");
        assert!(!rule_allows(&post, &r));
    }

    #[test]
    fn a_resource_rule_never_matches_a_path_and_a_url_rule_never_matches_a_resource() {
        let resources = rule(&["*"], &["*"], &["*"]);
        let urls = url_rule(&["*"], &["*"]);
        assert!(!rule_allows(
            &RequestAttributes::non_resource(jane(), "get", "/metrics"),
            &resources
        ));
        assert!(!rule_allows(&get_pod(jane(), "default", "web"), &urls));
    }

    #[test]
    fn a_role_binding_grants_only_in_its_namespace() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_role(Role {
            metadata: meta("pod-reader", Some("dev")),
            rules: Some(vec![rule(&["get", "list"], &[""], &["pods"])]),
        })
        .unwrap();
        rbac.upsert_role_binding(RoleBinding {
            metadata: meta("read-pods", Some("dev")),
            role_ref: role_ref("Role", "pod-reader"),
            subjects: Some(vec![subject("User", "jane", None)]),
        })
        .unwrap();
        let decision = rbac.authorize(&get_pod(jane(), "dev", "web"));
        assert_eq!(
            decision,
            Decision::allow(
                r#"RBAC: allowed by RoleBinding "read-pods/dev" of Role "pod-reader" to User "jane""#
            )
        );
        assert!(!rbac.authorize(&get_pod(jane(), "prod", "web")).is_allowed());
        let cluster_wide = RequestAttributes::resource(jane(), "list", "", "pods");
        assert!(!rbac.authorize(&cluster_wide).is_allowed());
    }

    #[test]
    fn a_role_binding_may_reference_a_cluster_role() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role(ClusterRole {
            metadata: meta("pod-reader", None),
            rules: Some(vec![rule(&["get"], &[""], &["pods"])]),
            ..ClusterRole::default()
        })
        .unwrap();
        rbac.upsert_role_binding(RoleBinding {
            metadata: meta("read-pods", Some("dev")),
            role_ref: role_ref("ClusterRole", "pod-reader"),
            subjects: Some(vec![subject("Group", "developers", None)]),
        })
        .unwrap();
        assert!(rbac.authorize(&get_pod(jane(), "dev", "web")).is_allowed());
        assert!(!rbac.authorize(&get_pod(jane(), "prod", "web")).is_allowed());
    }

    #[test]
    fn a_service_account_subject_defaults_to_the_binding_namespace() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role(ClusterRole {
            metadata: meta("pod-reader", None),
            rules: Some(vec![rule(&["get"], &[""], &["pods"])]),
            ..ClusterRole::default()
        })
        .unwrap();
        rbac.upsert_role_binding(RoleBinding {
            metadata: meta("read-pods", Some("dev")),
            role_ref: role_ref("ClusterRole", "pod-reader"),
            subjects: Some(vec![subject("ServiceAccount", "builder", None)]),
        })
        .unwrap();
        let sa = UserInfo::new(
            "system:serviceaccount:dev:builder",
            &["system:serviceaccounts"],
        );
        let decision = rbac.authorize(&get_pod(sa.clone(), "dev", "web"));
        assert_eq!(
            decision.reason(),
            r#"RBAC: allowed by RoleBinding "read-pods/dev" of ClusterRole "pod-reader" to ServiceAccount "builder/dev""#
        );
        let other = UserInfo::new("system:serviceaccount:prod:builder", &[]);
        assert!(!rbac.authorize(&get_pod(other, "dev", "web")).is_allowed());
    }

    #[test]
    fn a_binding_to_a_missing_role_becomes_the_reason() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role_binding(ClusterRoleBinding {
            metadata: meta("jane-x", None),
            role_ref: role_ref("ClusterRole", "x"),
            subjects: Some(vec![subject("User", "jane", None)]),
        })
        .unwrap();
        assert_eq!(
            rbac.authorize(&get_pod(jane(), "default", "web")),
            Decision::no_opinion(r#"RBAC: clusterrole.rbac.authorization.k8s.io "x" not found"#)
        );
        rbac.upsert_role_binding(RoleBinding {
            metadata: meta("jane-y", Some("default")),
            role_ref: role_ref("Role", "y"),
            subjects: Some(vec![subject("User", "jane", None)]),
        })
        .unwrap();
        assert_eq!(
            rbac.authorize(&get_pod(jane(), "default", "web")).reason(),
            r#"RBAC: [clusterrole.rbac.authorization.k8s.io "x" not found, role.rbac.authorization.k8s.io "y" not found]"#
        );
    }

    #[test]
    fn a_binding_that_does_not_apply_is_not_a_reason() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role_binding(ClusterRoleBinding {
            metadata: meta("bob-x", None),
            role_ref: role_ref("ClusterRole", "x"),
            subjects: Some(vec![subject("User", "bob", None)]),
        })
        .unwrap();
        assert_eq!(
            rbac.authorize(&get_pod(jane(), "default", "web")),
            Decision::no_opinion("")
        );
    }

    #[test]
    fn an_unsupported_role_ref_kind_is_reported() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role_binding(ClusterRoleBinding {
            metadata: meta("odd", None),
            role_ref: role_ref("Policy", "p"),
            subjects: Some(vec![subject("User", "jane", None)]),
        })
        .unwrap();
        assert_eq!(
            rbac.authorize(&get_pod(jane(), "default", "web")).reason(),
            r#"RBAC: unsupported role reference kind: "Policy""#
        );
    }

    #[test]
    fn objects_without_names_or_namespaces_are_rejected() {
        let mut rbac = RbacAuthorizer::new();
        assert_eq!(
            rbac.upsert_cluster_role(ClusterRole::default()),
            Err(RbacError::MissingName {
                kind: "ClusterRole"
            })
        );
        assert_eq!(
            rbac.upsert_role(Role {
                metadata: meta("r", None),
                rules: None
            }),
            Err(RbacError::MissingNamespace {
                kind: "Role",
                name: "r".to_string()
            })
        );
    }

    #[test]
    fn removing_a_binding_revokes_what_it_granted() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role(ClusterRole {
            metadata: meta("reader", None),
            rules: Some(vec![rule(&["get"], &[""], &["pods"])]),
            ..ClusterRole::default()
        })
        .unwrap();
        rbac.upsert_cluster_role_binding(ClusterRoleBinding {
            metadata: meta("jane-reader", None),
            role_ref: role_ref("ClusterRole", "reader"),
            subjects: Some(vec![subject("User", "jane", None)]),
        })
        .unwrap();
        assert!(rbac.authorize(&get_pod(jane(), "a", "b")).is_allowed());
        assert!(rbac.remove_cluster_role_binding("jane-reader").is_some());
        assert!(!rbac.authorize(&get_pod(jane(), "a", "b")).is_allowed());
    }

    fn labelled(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
        let mut m = meta(name, None);
        m.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        ClusterRole {
            metadata: m,
            rules: Some(rules),
            aggregation_rule: None,
        }
    }

    fn aggregating(name: &str, labels: &[(&str, &str)], selects: &str) -> ClusterRole {
        let mut role = labelled(name, labels, Vec::new());
        role.rules = None;
        role.aggregation_rule = Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some([(selects.to_string(), "true".to_string())].into()),
                match_expressions: None,
            }]),
        });
        role
    }

    #[test]
    fn aggregated_cluster_roles_collect_rules_through_chains_of_selectors() {
        let mut rbac = RbacAuthorizer::new();
        // Inserted out of dependency order on purpose.
        rbac.upsert_cluster_role(aggregating("admin", &[], "to-admin"))
            .unwrap();
        rbac.upsert_cluster_role(aggregating("edit", &[("to-admin", "true")], "to-edit"))
            .unwrap();
        rbac.upsert_cluster_role(aggregating("view", &[("to-edit", "true")], "to-view"))
            .unwrap();
        let read = rule(&["get"], &[""], &["pods"]);
        let write = rule(&["create"], &[""], &["pods"]);
        rbac.upsert_cluster_role(labelled("v", &[("to-view", "true")], vec![read.clone()]))
            .unwrap();
        rbac.upsert_cluster_role(labelled(
            "e",
            &[("to-edit", "true")],
            vec![write.clone(), read.clone()],
        ))
        .unwrap();
        let rules_of =
            |rbac: &RbacAuthorizer, name: &str| rbac.effective_cluster_role(name).unwrap().rules;
        assert_eq!(rules_of(&rbac, "view"), Some(vec![read.clone()]));
        assert_eq!(
            rules_of(&rbac, "edit"),
            Some(vec![write.clone(), read.clone()])
        );
        assert_eq!(
            rules_of(&rbac, "admin"),
            Some(vec![write.clone(), read.clone()])
        );

        rbac.remove_cluster_role("e");
        assert_eq!(rules_of(&rbac, "admin"), Some(vec![read.clone()]));
    }

    #[test]
    fn roles_loaded_at_once_aggregate_as_roles_loaded_one_by_one() {
        let read = rule(&["get"], &[""], &["pods"]);
        let write = rule(&["create"], &[""], &["pods"]);
        let roles = vec![
            aggregating("admin", &[], "to-admin"),
            aggregating("edit", &[("to-admin", "true")], "to-edit"),
            labelled("v", &[("to-edit", "true")], vec![read.clone()]),
            labelled("w", &[("to-admin", "true")], vec![write.clone()]),
        ];
        let mut one_by_one = RbacAuthorizer::new();
        for role in roles.clone() {
            one_by_one.upsert_cluster_role(role).unwrap();
        }
        let mut at_once = RbacAuthorizer::new();
        at_once.upsert_cluster_roles(roles.clone()).unwrap();
        for name in ["admin", "edit", "v", "w"] {
            assert_eq!(
                at_once.effective_cluster_role(name),
                one_by_one.effective_cluster_role(name),
                "{name}"
            );
        }
        assert_eq!(
            at_once.effective_cluster_role("admin").unwrap().rules,
            Some(vec![read.clone(), write.clone()])
        );
        // Written again as it was (the bootstrap hook's write), a role
        // keeps the aggregation; written with new rules, it changes it.
        at_once.upsert_cluster_role(roles[2].clone()).unwrap();
        assert_eq!(
            at_once.effective_cluster_role("admin").unwrap().rules,
            Some(vec![read.clone(), write.clone()])
        );
        at_once
            .upsert_cluster_role(labelled("v", &[("to-edit", "true")], vec![]))
            .unwrap();
        assert_eq!(
            at_once.effective_cluster_role("admin").unwrap().rules,
            Some(vec![write.clone()])
        );
        // A role without a name is refused.
        let mut nameless = labelled("x", &[], vec![]);
        nameless.metadata.name = None;
        assert!(RbacAuthorizer::new()
            .upsert_cluster_roles(vec![nameless])
            .is_err());
    }

    #[test]
    fn aggregation_cycles_terminate() {
        let mut rbac = RbacAuthorizer::new();
        rbac.upsert_cluster_role(aggregating("a", &[("b", "true")], "a"))
            .unwrap();
        rbac.upsert_cluster_role(aggregating("b", &[("a", "true")], "b"))
            .unwrap();
        assert_eq!(
            rbac.effective_cluster_role("a").unwrap().rules,
            Some(vec![])
        );
    }

    #[test]
    fn label_selector_expressions_follow_kubernetes_semantics() {
        let labels: BTreeMap<String, String> = [("tier".to_string(), "web".to_string())].into();
        let expr = |op: &str, values: &[&str]| LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".to_string(),
                operator: op.to_string(),
                values: (!values.is_empty())
                    .then(|| values.iter().map(|s| s.to_string()).collect()),
            }]),
        };
        assert!(label_selector_matches(
            &expr("In", &["web", "db"]),
            Some(&labels)
        ));
        assert!(!label_selector_matches(
            &expr("NotIn", &["web"]),
            Some(&labels)
        ));
        assert!(label_selector_matches(&expr("NotIn", &["db"]), None));
        assert!(label_selector_matches(&expr("Exists", &[]), Some(&labels)));
        assert!(label_selector_matches(&expr("DoesNotExist", &[]), None));
        assert!(!label_selector_matches(&expr("In", &[]), Some(&labels)));
        assert!(!label_selector_matches(
            &expr("Near", &["web"]),
            Some(&labels)
        ));
        assert!(label_selector_matches(&LabelSelector::default(), None));
    }
}
