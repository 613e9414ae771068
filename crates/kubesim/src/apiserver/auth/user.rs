//! Who a request is from, once authenticated.
//!
//! In Kubernetes every authenticator turns a credential into a `user.Info`
//! (`staging/src/k8s.io/apiserver/pkg/authentication/user/user.go`): a name, a
//! uid, groups and extra attributes. Authorization sees nothing else. The
//! well-known names below are those of `user.go`,
//! `staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount/util.go`,
//! `pkg/auth/nodeidentifier/default.go` and kubeadm's constants.
//!
//! Left out: impersonation (`Impersonate-User` headers) and the
//! request-header (front proxy) authenticator's extra mapping.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `system:masters`: the break-glass group that `cluster-admin` is bound to.
pub const SYSTEM_PRIVILEGED_GROUP: &str = "system:masters";
/// `system:nodes`: the group of every kubelet's client certificate.
pub const NODES_GROUP: &str = "system:nodes";
/// `system:monitoring`.
pub const MONITORING_GROUP: &str = "system:monitoring";
/// Added to every authenticated user by the authenticated-group adder.
pub const ALL_AUTHENTICATED: &str = "system:authenticated";
/// The group of the anonymous user.
pub const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
/// The name given to requests that present no credential.
pub const ANONYMOUS: &str = "system:anonymous";
/// The API server's own loopback identity.
pub const API_SERVER_USER: &str = "system:apiserver";
/// kube-proxy's user when it authenticates with a certificate.
pub const KUBE_PROXY: &str = "system:kube-proxy";
/// kube-controller-manager's client certificate CN (kubeadm).
pub const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
/// kube-scheduler's client certificate CN (kubeadm).
pub const KUBE_SCHEDULER: &str = "system:kube-scheduler";

/// kubeadm's `admin.conf` user (`kubernetes-admin`), since v1.29 in
/// [`KUBEADM_CLUSTER_ADMINS_GROUP`] rather than `system:masters`.
pub const KUBEADM_ADMIN_USER: &str = "kubernetes-admin";
/// kubeadm's `super-admin.conf` user, in `system:masters`.
pub const KUBEADM_SUPER_ADMIN_USER: &str = "kubernetes-super-admin";
/// The group kubeadm binds to `cluster-admin` with a ClusterRoleBinding.
pub const KUBEADM_CLUSTER_ADMINS_GROUP: &str = "kubeadm:cluster-admins";

/// Prefix of a kubelet's user name: `system:node:<nodeName>`.
pub const NODE_USER_NAME_PREFIX: &str = "system:node:";
/// Prefix of a service account's user name.
pub const SERVICE_ACCOUNT_USERNAME_PREFIX: &str = "system:serviceaccount:";
/// Every service account is in this group.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// Prefix of the per-namespace service-account group.
pub const SERVICE_ACCOUNT_GROUP_PREFIX: &str = "system:serviceaccounts:";

/// Prefix of a bootstrap token's user: `system:bootstrap:<token-id>`.
pub const BOOTSTRAP_USER_PREFIX: &str = "system:bootstrap:";
/// Every bootstrap token is in this group.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";
/// The extra group of the tokens `kubeadm token create` makes by default.
pub const KUBEADM_DEFAULT_NODE_TOKEN_GROUP: &str =
    "system:bootstrappers:kubeadm:default-node-token";

/// An authenticated identity, as authorization and admission see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with a name and groups, no uid and no extra.
    pub fn new(name: impl Into<String>, groups: &[&str]) -> Self {
        UserInfo {
            name: name.into(),
            uid: String::new(),
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
            extra: BTreeMap::new(),
        }
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// `system:serviceaccount:<namespace>:<name>` (`serviceaccount.MakeUsername`).
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_USERNAME_PREFIX}{namespace}:{name}")
}

/// `system:serviceaccounts` and `system:serviceaccounts:<namespace>`
/// (`serviceaccount.MakeGroupNames`).
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        ALL_SERVICE_ACCOUNTS_GROUP.to_string(),
        format!("{SERVICE_ACCOUNT_GROUP_PREFIX}{namespace}"),
    ]
}

/// Splits a service account user name into (namespace, name)
/// (`serviceaccount.SplitUsername`); `None` if it is not one.
pub fn split_service_account_username(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SERVICE_ACCOUNT_USERNAME_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    if namespace.is_empty() || name.is_empty() || name.contains(':') {
        return None;
    }
    Some((namespace, name))
}

/// `serviceaccount.MatchesUsername`: whether `username` is the service
/// account `namespace/name`.
pub fn matches_service_account(namespace: &str, name: &str, username: &str) -> bool {
    split_service_account_username(username) == Some((namespace, name))
}

/// Who a request comes from, as the Node authorizer and NodeRestriction see
/// it (`pkg/auth/nodeidentifier/default.go`, `NodeIdentity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeIdentity<'a> {
    /// Not a node: the user name lacks `system:node:` or the user is not in
    /// `system:nodes`.
    NotANode,
    /// A node, but its name could not be determined (`system:node:` alone).
    UnknownNode,
    /// The node with this name.
    Node(&'a str),
}

/// Identifies the node a user is, if any.
pub fn node_identity(user: &UserInfo) -> NodeIdentity<'_> {
    let Some(node_name) = user.name.strip_prefix(NODE_USER_NAME_PREFIX) else {
        return NodeIdentity::NotANode;
    };
    if !user.in_group(NODES_GROUP) {
        return NodeIdentity::NotANode;
    }
    if node_name.is_empty() {
        NodeIdentity::UnknownNode
    } else {
        NodeIdentity::Node(node_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_user_names_round_trip() {
        let name = service_account_username("kube-system", "coredns");
        assert_eq!(name, "system:serviceaccount:kube-system:coredns");
        assert_eq!(
            split_service_account_username(&name),
            Some(("kube-system", "coredns"))
        );
        assert!(matches_service_account("kube-system", "coredns", &name));
        assert!(!matches_service_account("default", "coredns", &name));
    }

    #[test]
    fn malformed_service_account_user_names_are_not_service_accounts() {
        for name in [
            "system:serviceaccount:",
            "system:serviceaccount:ns",
            "system:serviceaccount::name",
            "system:serviceaccount:ns:",
            "system:serviceaccount:ns:a:b",
            "jane",
        ] {
            assert_eq!(split_service_account_username(name), None, "{name}");
        }
    }

    #[test]
    fn a_node_needs_both_the_name_prefix_and_the_nodes_group() {
        let kubelet = UserInfo::new("system:node:worker-1", &[NODES_GROUP]);
        assert_eq!(node_identity(&kubelet), NodeIdentity::Node("worker-1"));
        let no_group = UserInfo::new("system:node:worker-1", &[]);
        assert_eq!(node_identity(&no_group), NodeIdentity::NotANode);
        let no_prefix = UserInfo::new("worker-1", &[NODES_GROUP]);
        assert_eq!(node_identity(&no_prefix), NodeIdentity::NotANode);
        let nameless = UserInfo::new("system:node:", &[NODES_GROUP]);
        assert_eq!(node_identity(&nameless), NodeIdentity::UnknownNode);
    }
}
