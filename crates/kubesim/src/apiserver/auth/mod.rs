//! Who is asking, and may they? kube-apiserver's authentication and
//! authorization stages.
//!
//! Every request to kube-apiserver first passes authentication ([`authn`]):
//! the credential it carries (a client certificate, a bearer token, or none)
//! becomes a [`UserInfo`], or the request ends with 401 Unauthorized. Then
//! authorization: kubeadm starts kube-apiserver with
//! `--authorization-mode=Node,RBAC`, so the [`node::NodeAuthorizer`] is asked
//! first and the [`rbac::RbacAuthorizer`] second
//! (`staging/src/k8s.io/apiserver/pkg/authorization/union/union.go`); the
//! first to allow wins, and a request nobody allows ends with 403 Forbidden,
//! its message built from the request's attributes plus the authorizers'
//! reasons ([`authorizer::forbidden_message`]). [`bootstrap`] holds the roles
//! and bindings a kubeadm cluster starts with, and [`node`] also holds the
//! NodeRestriction admission checks that complete the Node authorizer.
//!
//! Left out: the other authorization modes (ABAC, Webhook, AlwaysAllow,
//! AlwaysDeny) and the structured authorization configuration file, the
//! authorization decision cache, the self and local SubjectAccessReview
//! endpoints (`subjectaccessreviews` itself is served: see
//! [`crate::apiserver::certificates`]), and audit. [`pki`] holds the
//! readable stand-ins for certificates and certificate requests.

pub mod authn;
pub mod authorizer;
pub mod bootstrap;
pub mod node;
pub mod pki;
pub mod rbac;
pub mod serviceaccount;
pub mod user;

pub use authn::{Authenticated, Authenticator, AuthnError, Credential};
pub use authorizer::{forbidden_message, AuthorizationError, Decision, RequestAttributes};
pub use node::NodeAuthorizer;
pub use rbac::{RbacAuthorizer, RbacError};
pub use user::UserInfo;

/// kube-apiserver's authorizer chain with `--authorization-mode=Node,RBAC`.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    pub node: NodeAuthorizer,
    pub rbac: RbacAuthorizer,
}

impl Authorizer {
    /// A chain with an empty RBAC index and an empty node graph.
    pub fn new() -> Self {
        Authorizer::default()
    }

    /// A chain holding everything a kubeadm cluster with a
    /// cloud-controller-manager has after `kubeadm init`
    /// ([`bootstrap::cluster_policy`]).
    pub fn with_cluster_policy() -> Result<Self, RbacError> {
        let mut authorizer = Authorizer::new();
        bootstrap::cluster_policy().load_into(&mut authorizer.rbac)?;
        Ok(authorizer)
    }

    /// `unionAuthzHandler.Authorize`: Node, then RBAC; the first to allow
    /// decides; otherwise no opinion with every non-empty reason, one per
    /// line.
    pub fn authorize(&self, attrs: &RequestAttributes) -> Decision {
        let mut reasons = Vec::new();
        for decision in [self.node.authorize(attrs), self.rbac.authorize(attrs)] {
            match decision {
                Decision::Allow { .. } => return decision,
                Decision::NoOpinion { reason } => {
                    if !reason.is_empty() {
                        reasons.push(reason);
                    }
                }
            }
        }
        Decision::NoOpinion {
            reason: reasons.join("\n"),
        }
    }

    /// The authorization filter: the allowing reason, or the 403 that
    /// kube-apiserver returns.
    pub fn check(&self, attrs: &RequestAttributes) -> Result<String, AuthorizationError> {
        match self.authorize(attrs) {
            Decision::Allow { reason } => Ok(reason),
            Decision::NoOpinion { reason } => Err(AuthorizationError::Forbidden {
                message: forbidden_message(attrs, &reason),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::authn::{BootstrapToken, ClientCertificate};
    use super::bootstrap::{CLOUD_CONTROLLER_MANAGER_SA, KUBE_SYSTEM};
    use super::*;
    use crate::api::pod::{Pod, PodSpec};
    use crate::world::{SimRng, SimTime};
    use k8s_openapi::api::core::v1::{SecretVolumeSource, Volume};
    use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    const NOW: SimTime = SimTime(60_000);

    fn cluster() -> Authorizer {
        Authorizer::with_cluster_policy().expect("the bootstrap policy loads")
    }

    fn login(authn: &Authenticator, credential: Credential) -> UserInfo {
        authn
            .authenticate(&credential, NOW)
            .expect("authenticates")
            .user
    }

    fn cert_user(cert: ClientCertificate) -> UserInfo {
        login(&Authenticator::new(), Credential::ClientCertificate(cert))
    }

    fn forbidden(authz: &Authorizer, attrs: &RequestAttributes) -> String {
        match authz.check(attrs) {
            Ok(reason) => panic!("expected 403, allowed: {reason}"),
            Err(AuthorizationError::Forbidden { message }) => message,
        }
    }

    fn pod_on(node: &str, name: &str, secret: &str) -> Pod {
        Pod {
            metadata: crate::api::pod::PodMeta {
                namespace: Some("default".to_string()),
                name: Some(name.to_string()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some(node.to_string()),
                volumes: Some(vec![Volume {
                    name: "s".to_string(),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(secret.to_string()),
                        ..SecretVolumeSource::default()
                    }),
                    ..Volume::default()
                }]),
                ..PodSpec::default()
            }),
            status: None,
        }
    }

    #[test]
    fn the_kubeadm_admin_can_do_anything() {
        let authz = cluster();
        for admin in [
            cert_user(ClientCertificate::kubeadm_admin(SimTime::ZERO)),
            cert_user(ClientCertificate::kubeadm_super_admin(SimTime::ZERO)),
        ] {
            for attrs in [
                RequestAttributes::resource(admin.clone(), "delete", "", "nodes").named("worker-1"),
                RequestAttributes::resource(admin.clone(), "list", "", "secrets"),
                RequestAttributes::resource(
                    admin.clone(),
                    "escalate",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                ),
                RequestAttributes::resource(admin.clone(), "create", "apps", "deployments")
                    .in_namespace("prod"),
                RequestAttributes::non_resource(admin.clone(), "get", "/metrics"),
            ] {
                assert!(authz.check(&attrs).is_ok(), "{attrs:?}");
            }
        }
        let admin = cert_user(ClientCertificate::kubeadm_admin(SimTime::ZERO));
        let list = RequestAttributes::resource(admin, "list", "", "pods");
        assert_eq!(
            authz.check(&list),
            Ok(r#"RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins""#.to_string())
        );
    }

    #[test]
    fn a_view_role_binding_reads_its_namespace_only_and_never_writes() {
        let mut authz = cluster();
        authz
            .rbac
            .upsert_role_binding(RoleBinding {
                metadata: ObjectMeta {
                    name: Some("jane-view".to_string()),
                    namespace: Some("dev".to_string()),
                    ..ObjectMeta::default()
                },
                role_ref: RoleRef {
                    api_group: Some(rbac::RBAC_GROUP.to_string()),
                    kind: "ClusterRole".to_string(),
                    name: "view".to_string(),
                },
                subjects: Some(vec![Subject {
                    api_group: Some(rbac::RBAC_GROUP.to_string()),
                    kind: "User".to_string(),
                    name: "jane".to_string(),
                    namespace: None,
                }]),
            })
            .unwrap();
        let jane = UserInfo::new("jane", &["system:authenticated"]);
        let list = |ns: &str| {
            RequestAttributes::resource(jane.clone(), "list", "", "pods").in_namespace(ns)
        };
        assert_eq!(
            authz.check(&list("dev")),
            Ok(r#"RBAC: allowed by RoleBinding "jane-view/dev" of ClusterRole "view" to User "jane""#.to_string())
        );
        assert_eq!(
            forbidden(&authz, &list("default")),
            r#"pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default""#
        );
        let create =
            RequestAttributes::resource(jane.clone(), "create", "", "pods").in_namespace("dev");
        assert_eq!(
            forbidden(&authz, &create),
            r#"pods is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "dev""#
        );
        let logs = RequestAttributes::resource(jane.clone(), "get", "", "pods")
            .in_namespace("dev")
            .named("web-0")
            .with_subresource("log");
        assert!(authz.check(&logs).is_ok());
        let secrets = RequestAttributes::resource(jane.clone(), "get", "", "secrets")
            .in_namespace("dev")
            .named("db");
        assert_eq!(
            forbidden(&authz, &secrets),
            r#"secrets "db" is forbidden: User "jane" cannot get resource "secrets" in API group "" in the namespace "dev""#
        );
        let all_pods = RequestAttributes::resource(jane, "list", "", "pods");
        assert_eq!(
            forbidden(&authz, &all_pods),
            r#"pods is forbidden: User "jane" cannot list resource "pods" in API group "" at the cluster scope"#
        );
    }

    #[test]
    fn a_service_account_token_authenticates_as_its_service_account_and_an_unknown_token_is_401() {
        let mut authn = Authenticator::new();
        let mut rng = SimRng::new(1);
        let token =
            authn.issue_service_account_token(&mut rng, "dev", "builder", "uid-b", None, None);
        let user = login(&authn, Credential::BearerToken(token));
        assert_eq!(user.name, "system:serviceaccount:dev:builder");
        let authz = cluster();
        // Every authenticated identity may discover the API, and nothing more.
        assert!(authz
            .check(&RequestAttributes::non_resource(
                user.clone(),
                "get",
                "/apis/apps/v1"
            ))
            .is_ok());
        assert!(authz
            .check(&RequestAttributes::resource(user, "list", "", "pods").in_namespace("dev"))
            .is_err());

        let err = authn
            .authenticate(&Credential::BearerToken("made-up".to_string()), NOW)
            .unwrap_err();
        assert_eq!(err, AuthnError::InvalidBearerToken);
        assert_eq!((err.code(), err.status_message()), (401, "Unauthorized"));
    }

    #[test]
    fn a_node_reads_secrets_of_its_own_pods_but_not_of_pods_on_other_nodes() {
        let mut authz = cluster();
        authz.node.upsert_pod(&pod_on("worker-1", "a", "secret-a"));
        authz.node.upsert_pod(&pod_on("worker-2", "b", "secret-b"));
        let node_a = cert_user(ClientCertificate::node("worker-1", SimTime::ZERO));
        let get = |name: &str| {
            RequestAttributes::resource(node_a.clone(), "get", "", "secrets")
                .in_namespace("default")
                .named(name)
        };
        assert_eq!(authz.check(&get("secret-a")), Ok(String::new()));
        assert_eq!(
            forbidden(&authz, &get("secret-b")),
            r#"secrets "secret-b" is forbidden: User "system:node:worker-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'worker-1' and this object"#
        );
    }

    #[test]
    fn the_scheduler_binds_pods_and_cannot_delete_secrets() {
        let authz = cluster();
        let scheduler = cert_user(ClientCertificate::kube_scheduler(SimTime::ZERO));
        let bind = RequestAttributes::resource(scheduler.clone(), "create", "", "pods")
            .in_namespace("default")
            .named("web-0")
            .with_subresource("binding");
        assert_eq!(
            authz.check(&bind),
            Ok(r#"RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler""#.to_string())
        );
        let lease = RequestAttributes::resource(
            scheduler.clone(),
            "update",
            "coordination.k8s.io",
            "leases",
        )
        .in_namespace(KUBE_SYSTEM)
        .named("kube-scheduler");
        assert!(authz.check(&lease).is_ok());
        let delete = RequestAttributes::resource(scheduler, "delete", "", "secrets")
            .in_namespace(KUBE_SYSTEM)
            .named("bootstrap-token-abcdef");
        assert_eq!(
            forbidden(&authz, &delete),
            r#"secrets "bootstrap-token-abcdef" is forbidden: User "system:kube-scheduler" cannot delete resource "secrets" in API group "" in the namespace "kube-system""#
        );
    }

    #[test]
    fn the_cloud_controller_manager_has_exactly_its_documented_permissions() {
        let mut authz = cluster();
        let mut authn = Authenticator::new();
        let mut rng = SimRng::new(3);
        let token = authn.issue_service_account_token(
            &mut rng,
            KUBE_SYSTEM,
            CLOUD_CONTROLLER_MANAGER_SA,
            "uid-ccm",
            None,
            None,
        );
        let ccm = login(&authn, Credential::BearerToken(token));
        let patch_status = RequestAttributes::resource(ccm.clone(), "patch", "", "services")
            .in_namespace("default")
            .named("web")
            .with_subresource("status");
        assert!(authz.check(&patch_status).is_ok());
        let list_secrets = RequestAttributes::resource(ccm.clone(), "list", "", "secrets");
        assert_eq!(
            forbidden(&authz, &list_secrets),
            r#"secrets is forbidden: User "system:serviceaccount:kube-system:cloud-controller-manager" cannot list resource "secrets" in API group "" at the cluster scope"#
        );

        // Take services/status away and the same request is 403.
        let mut role = bootstrap::cloud_controller_manager_role();
        role.rules
            .as_mut()
            .unwrap()
            .retain(|r| r.resources.as_deref() != Some(&["services/status".to_string()][..]));
        authz.rbac.upsert_cluster_role(role).unwrap();
        assert_eq!(
            forbidden(&authz, &patch_status),
            r#"services "web" is forbidden: User "system:serviceaccount:kube-system:cloud-controller-manager" cannot patch resource "services/status" in API group "" in the namespace "default""#
        );

        // And without its role at all, RBAC says why.
        authz.rbac.remove_cluster_role("cloud-controller-manager");
        assert_eq!(
            forbidden(&authz, &patch_status),
            r#"services "web" is forbidden: User "system:serviceaccount:kube-system:cloud-controller-manager" cannot patch resource "services/status" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "cloud-controller-manager" not found"#
        );
    }

    #[test]
    fn a_bootstrap_token_can_ask_for_a_node_certificate_and_little_else() {
        let authz = cluster();
        let mut authn = Authenticator::new();
        let token = BootstrapToken::kubeadm("abcdef", "0123456789abcdef", SimTime::ZERO);
        authn.add_bootstrap_token(token.clone()).unwrap();
        let joiner = login(&authn, Credential::BearerToken(token.token()));
        let csr = |verb: &str, sub: &str| {
            RequestAttributes::resource(
                joiner.clone(),
                verb,
                "certificates.k8s.io",
                "certificatesigningrequests",
            )
            .with_subresource(sub)
        };
        assert!(authz.check(&csr("create", "")).is_ok());
        assert!(authz.check(&csr("watch", "")).is_ok());
        assert!(authz.check(&csr("create", "nodeclient")).is_ok());
        assert!(authz.check(&csr("create", "selfnodeclient")).is_err());
        assert!(authz.check(&csr("update", "approval")).is_err());
        for attrs in [
            RequestAttributes::resource(joiner.clone(), "list", "", "pods"),
            RequestAttributes::resource(joiner.clone(), "get", "", "secrets")
                .in_namespace(KUBE_SYSTEM)
                .named("x"),
            RequestAttributes::resource(joiner.clone(), "create", "", "nodes"),
            RequestAttributes::resource(joiner.clone(), "list", "", "nodes"),
        ] {
            assert!(authz.check(&attrs).is_err(), "{attrs:?}");
        }
        // kubeadm lets it read what `kubeadm join` needs.
        let kubelet_config = RequestAttributes::resource(joiner, "get", "", "configmaps")
            .in_namespace(KUBE_SYSTEM)
            .named("kubelet-config");
        assert!(authz.check(&kubelet_config).is_ok());
    }

    #[test]
    fn anonymous_users_see_health_and_cluster_info_only() {
        let authz = cluster();
        let anonymous = login(&Authenticator::new(), Credential::None);
        assert!(authz
            .check(&RequestAttributes::non_resource(
                anonymous.clone(),
                "get",
                "/healthz"
            ))
            .is_ok());
        assert_eq!(
            forbidden(
                &authz,
                &RequestAttributes::non_resource(anonymous.clone(), "get", "/api")
            ),
            r#"forbidden: User "system:anonymous" cannot get path "/api""#
        );
        let cluster_info = RequestAttributes::resource(anonymous, "get", "", "configmaps")
            .in_namespace("kube-public")
            .named("cluster-info");
        assert!(authz.check(&cluster_info).is_ok());
    }

    #[test]
    fn controllers_act_through_their_own_service_accounts() {
        let authz = cluster();
        let sa = |name: &str| {
            UserInfo::new(
                format!("system:serviceaccount:kube-system:{name}"),
                &[
                    "system:serviceaccounts",
                    "system:serviceaccounts:kube-system",
                    "system:authenticated",
                ],
            )
        };
        let create = |user: UserInfo, group: &str, resource: &str| {
            RequestAttributes::resource(user, "create", group, resource).in_namespace("default")
        };
        assert!(authz
            .check(&create(sa("deployment-controller"), "apps", "replicasets"))
            .is_ok());
        assert!(authz
            .check(&create(sa("deployment-controller"), "", "pods"))
            .is_err());
        assert!(authz
            .check(&create(sa("replicaset-controller"), "", "pods"))
            .is_ok());
        let taint = RequestAttributes::resource(sa("node-controller"), "patch", "", "nodes")
            .named("worker-1");
        assert!(authz.check(&taint).is_ok());
        let kcm = cert_user(ClientCertificate::kube_controller_manager(SimTime::ZERO));
        let list_secrets = RequestAttributes::resource(kcm, "list", "", "secrets");
        assert!(authz.check(&list_secrets).is_ok());
    }

    #[test]
    fn decisions_do_not_depend_on_the_order_objects_were_loaded() {
        let forward = cluster();
        let mut reverse = Authorizer::new();
        let mut policy = bootstrap::cluster_policy();
        policy.cluster_roles.reverse();
        policy.cluster_role_bindings.reverse();
        policy.load_into(&mut reverse.rbac).unwrap();
        let user = UserInfo::new("system:kube-scheduler", &["system:authenticated"]);
        let attrs = RequestAttributes::resource(user, "get", "", "nodes").named("worker-1");
        assert_eq!(forward.authorize(&attrs), reverse.authorize(&attrs));
        assert_eq!(
            forward.rbac.effective_cluster_role("admin"),
            reverse.rbac.effective_cluster_role("admin")
        );
    }
}
