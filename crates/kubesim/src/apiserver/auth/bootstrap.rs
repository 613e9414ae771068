//! The RBAC objects a kubeadm cluster starts with.
//!
//! In Kubernetes, kube-apiserver's RBAC post-start hook creates (and on every
//! start reconciles) the default roles and bindings of
//! `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/` — `policy.go` (user-facing
//! and component roles), `controller_policy.go` (one `system:controller:<name>`
//! ClusterRole per kube-controller-manager controller, bound to the
//! controller's service account in kube-system, which kubeadm's
//! `--use-service-account-credentials` makes each controller use) and
//! `namespace_policy.go` (leader-locking and authentication-reader Roles). Then
//! `kubeadm init` adds its own (`cmd/kubeadm/app/phases/bootstraptoken`,
//! `.../addons/proxy`, `.../addons/dns`, `.../kubeconfig`): the
//! `kubeadm:cluster-admins` binding, the bootstrap-token bindings that let a
//! joining kubelet ask for a certificate, kube-proxy's and CoreDNS's. The
//! cloud-controller-manager's ClusterRole is the one the Kubernetes docs give
//! (<https://kubernetes.io/docs/concepts/architecture/cloud-controller/#authorization>).
//!
//! Every rule of a role ported here is upstream's, rule for rule, with lists
//! sorted as `PolicyRuleBuilder.Rule()` sorts them and upstream's
//! `kubernetes.io/bootstrapping: rbac-defaults` label and autoupdate
//! annotation, so `kubectl get clusterrole -o yaml` looks as it does on a real
//! cluster. The aggregated `admin`/`edit`/`view` rules follow upstream's
//! `system:aggregate-to-*` roles as of the v1.22 endpoints-write removal
//! (CVE-2021-25740); later additions to them are not ported.
//!
//! Left out (roles nothing in the simulation uses): `system:monitoring`,
//! `system:auth-delegator`, `system:kube-aggregator`, `system:heapster`,
//! `system:node-problem-detector`, `system:kubelet-api-admin`,
//! `system:persistent-volume-provisioner`, the certificate signer-approver
//! roles, `system:service-account-issuer-discovery`, the deprecated
//! `system:controller:cloud-provider` Role, the controller roles behind
//! feature gates that are off or storage-only alpha/beta features
//! (resource-claim, service-cidrs, volumeattributesclass-protection,
//! validatingadmissionpolicy-status, storage-version-garbage-collector,
//! storage-version-migrator), and the feature-gated rules of `system:node`
//! (DRA resource claims, ClusterTrustBundles, pod certificates) and of
//! `system:node-proxier` (servicecidrs).

use super::rbac::{RbacAuthorizer, RbacError, RBAC_GROUP};
use super::user::{
    ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS, KUBEADM_CLUSTER_ADMINS_GROUP,
    KUBEADM_DEFAULT_NODE_TOKEN_GROUP, KUBE_CONTROLLER_MANAGER, KUBE_PROXY, KUBE_SCHEDULER,
    NODES_GROUP, SYSTEM_PRIVILEGED_GROUP,
};
use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

const LEGACY: &str = "";
const APPS: &str = "apps";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";
const AUTOSCALING: &str = "autoscaling";
const BATCH: &str = "batch";
const CERTIFICATES: &str = "certificates.k8s.io";
const COORDINATION: &str = "coordination.k8s.io";
const DISCOVERY: &str = "discovery.k8s.io";
const EXTENSIONS: &str = "extensions";
const POLICY: &str = "policy";
const STORAGE: &str = "storage.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const EVENTS: &str = "events.k8s.io";
const NODE: &str = "node.k8s.io";
const RESOURCE_METRICS: &str = "metrics.k8s.io";
const CUSTOM_METRICS: &str = "custom.metrics.k8s.io";
const EXTERNAL_METRICS: &str = "external.metrics.k8s.io";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];
const READ_UPDATE: &[&str] = &["get", "list", "watch", "update", "patch"];

/// The prefix of the per-controller roles (`saRolePrefix`).
pub const CONTROLLER_ROLE_PREFIX: &str = "system:controller:";
/// kube-system, where control-plane service accounts live.
pub const KUBE_SYSTEM: &str = "kube-system";
/// kube-public, readable by everyone (the `cluster-info` ConfigMap).
pub const KUBE_PUBLIC: &str = "kube-public";
/// The label every bootstrap object carries.
pub const BOOTSTRAPPING_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");
/// `rbac.authorization.kubernetes.io/autoupdate: "true"`: reconciled on
/// every API server start.
pub const AUTOUPDATE_ANNOTATION: (&str, &str) =
    ("rbac.authorization.kubernetes.io/autoupdate", "true");
/// The cloud-controller-manager's service account.
pub const CLOUD_CONTROLLER_MANAGER_SA: &str = "cloud-controller-manager";

/// `rbacv1helpers.PolicyRuleBuilder`.
struct RuleBuilder(PolicyRule);

fn rule(verbs: &[&str]) -> RuleBuilder {
    RuleBuilder(PolicyRule {
        verbs: strings(verbs),
        ..PolicyRule::default()
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl RuleBuilder {
    fn groups(mut self, groups: &[&str]) -> Self {
        self.0.api_groups = Some(strings(groups));
        self
    }
    fn resources(mut self, resources: &[&str]) -> Self {
        self.0.resources = Some(strings(resources));
        self
    }
    fn names(mut self, names: &[&str]) -> Self {
        self.0.resource_names = Some(strings(names));
        self
    }
    fn urls(mut self, urls: &[&str]) -> Self {
        self.0.non_resource_urls = Some(strings(urls));
        self
    }
    /// `Rule()`: every list sorted.
    fn build(mut self) -> PolicyRule {
        for list in [
            &mut self.0.api_groups,
            &mut self.0.resources,
            &mut self.0.resource_names,
            &mut self.0.non_resource_urls,
        ]
        .into_iter()
        .flatten()
        {
            list.sort();
        }
        self.0.verbs.sort();
        self.0
    }
}

/// `eventsRule()`: write events in both event API groups.
fn events_rule() -> PolicyRule {
    rule(&["create", "update", "patch"])
        .groups(&[LEGACY, EVENTS])
        .resources(&["events"])
        .build()
}

/// `addDefaultMetadata`: the bootstrapping label and autoupdate annotation.
fn default_meta(name: &str, namespace: Option<&str>, labels: &[(&str, &str)]) -> ObjectMeta {
    let mut all_labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    all_labels.insert(
        BOOTSTRAPPING_LABEL.0.to_string(),
        BOOTSTRAPPING_LABEL.1.to_string(),
    );
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(all_labels),
        annotations: Some(
            [(
                AUTOUPDATE_ANNOTATION.0.to_string(),
                AUTOUPDATE_ANNOTATION.1.to_string(),
            )]
            .into(),
        ),
        ..ObjectMeta::default()
    }
}

/// Metadata of the objects kubeadm creates: a plain name.
fn plain_meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        ..ObjectMeta::default()
    }
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: default_meta(name, None, &[]),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

fn aggregated_role(name: &str, labels: &[(&str, &str)], selects: &str) -> ClusterRole {
    ClusterRole {
        metadata: default_meta(name, None, labels),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some([(selects.to_string(), "true".to_string())].into()),
                match_expressions: None,
            }]),
        }),
    }
}

fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "Group".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: "User".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn service_account(namespace: &str, name: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_string(),
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some(RBAC_GROUP.to_string()),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

/// `NewClusterBinding(role)`: a binding named after the ClusterRole.
fn cluster_binding(role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: default_meta(role, None, &[]),
        role_ref: role_ref("ClusterRole", role),
        subjects: Some(subjects),
    }
}

/// The rules of `system:node` (`NodeRules()`): what a kubelet may do. The
/// Node authorizer narrows them to the node's own objects.
pub fn node_rules() -> Vec<PolicyRule> {
    vec![
        // Needed to check API access. These creates are non-mutating.
        rule(&["create"])
            .groups(&[AUTHENTICATION])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&[AUTHORIZATION])
            .resources(&["subjectaccessreviews", "localsubjectaccessreviews"])
            .build(),
        // Needed to build serviceLister, to populate env vars for services.
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["services"])
            .build(),
        // Nodes can register Node API objects and report status.
        rule(&["create", "get", "list", "watch"])
            .groups(&[LEGACY])
            .resources(&["nodes"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["nodes/status"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["nodes"])
            .build(),
        rule(&["create", "update", "patch"])
            .groups(&[LEGACY])
            .resources(&["events"])
            .build(),
        rule(READ).groups(&[LEGACY]).resources(&["pods"]).build(),
        // Mirror pods.
        rule(&["create", "delete"])
            .groups(&[LEGACY])
            .resources(&["pods"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["pods/status"])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["pods/eviction"])
            .build(),
        // Secrets and configmaps for volumes, env and image pull secrets.
        rule(&["get", "list", "watch"])
            .groups(&[LEGACY])
            .resources(&["secrets", "configmaps"])
            .build(),
        rule(&["get"])
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        // Needed for glusterfs volumes.
        rule(&["get"])
            .groups(&[LEGACY])
            .resources(&["endpoints"])
            .build(),
        // Client certificate rotation.
        rule(&["create", "get", "list", "watch"])
            .groups(&[CERTIFICATES])
            .resources(&["certificatesigningrequests"])
            .build(),
        // Node leases.
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .build(),
        rule(&["get"])
            .groups(&[STORAGE])
            .resources(&["volumeattachments"])
            .build(),
        // Bound service account tokens for the pods on the node.
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["serviceaccounts/token"])
            .build(),
        rule(&["get", "update", "patch"])
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims/status"])
            .build(),
        rule(&["get", "watch", "list"])
            .groups(&[STORAGE])
            .resources(&["csidrivers"])
            .build(),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&[STORAGE])
            .resources(&["csinodes"])
            .build(),
        rule(&["get", "list", "watch"])
            .groups(&[NODE])
            .resources(&["runtimeclasses"])
            .build(),
    ]
}

/// `system:aggregate-to-edit`'s rules.
fn aggregate_to_edit_rules() -> Vec<PolicyRule> {
    vec![
        // Allow read on escalating resources.
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ])
            .build(),
        rule(&["impersonate"])
            .groups(&[LEGACY])
            .resources(&["serviceaccounts"])
            .build(),
        rule(WRITE)
            .groups(&[LEGACY])
            .resources(&[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ])
            .build(),
        rule(WRITE)
            .groups(&[LEGACY])
            .resources(&[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
            ])
            .build(),
        rule(WRITE)
            .groups(&[APPS])
            .resources(&[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ])
            .build(),
        rule(WRITE)
            .groups(&[AUTOSCALING])
            .resources(&["horizontalpodautoscalers"])
            .build(),
        rule(WRITE)
            .groups(&[BATCH])
            .resources(&["jobs", "cronjobs"])
            .build(),
        rule(WRITE)
            .groups(&[EXTENSIONS])
            .resources(&[
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(WRITE)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(WRITE)
            .groups(&[NETWORKING])
            .resources(&["networkpolicies", "ingresses"])
            .build(),
    ]
}

/// `system:aggregate-to-view`'s rules.
fn aggregate_to_view_rules() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ])
            .build(),
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ])
            .build(),
        // Read access to namespaces at the namespace scope means you can
        // read *this* namespace.
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["namespaces"])
            .build(),
        rule(READ)
            .groups(&[APPS])
            .resources(&[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ])
            .build(),
        rule(READ)
            .groups(&[AUTOSCALING])
            .resources(&[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ])
            .build(),
        rule(READ)
            .groups(&[BATCH])
            .resources(&["jobs", "cronjobs", "cronjobs/status", "jobs/status"])
            .build(),
        rule(READ)
            .groups(&[EXTENSIONS])
            .resources(&[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(READ)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets", "poddisruptionbudgets/status"])
            .build(),
        rule(READ)
            .groups(&[NETWORKING])
            .resources(&["networkpolicies", "ingresses", "ingresses/status"])
            .build(),
    ]
}

/// kube-scheduler's rules (`kubeSchedulerRules`).
fn kube_scheduler_rules() -> Vec<PolicyRule> {
    vec![
        events_rule(),
        // Leader election.
        rule(&["create"])
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .build(),
        rule(&["get", "update"])
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .names(&["kube-scheduler"])
            .build(),
        // Fundamental resources.
        rule(READ).groups(&[LEGACY]).resources(&["nodes"]).build(),
        rule(&["get", "list", "watch", "delete"])
            .groups(&[LEGACY])
            .resources(&["pods"])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["pods/binding", "bindings"])
            .build(),
        rule(&["patch", "update"])
            .groups(&[LEGACY])
            .resources(&["pods/status"])
            .build(),
        // Things that select pods.
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["services", "replicationcontrollers"])
            .build(),
        rule(READ)
            .groups(&[APPS, EXTENSIONS])
            .resources(&["replicasets"])
            .build(),
        rule(READ)
            .groups(&[APPS])
            .resources(&["statefulsets"])
            .build(),
        // Things that pods use or that apply to them.
        rule(READ)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        // Needed to check API access. These creates are non-mutating.
        rule(&["create"])
            .groups(&[AUTHENTICATION])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&[AUTHORIZATION])
            .resources(&["subjectaccessreviews"])
            .build(),
        // Volume limits.
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csinodes"])
            .build(),
        // namespaceSelector in pod affinity.
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["namespaces"])
            .build(),
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csidrivers"])
            .build(),
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csistoragecapacities"])
            .build(),
    ]
}

/// The ClusterRoles of `policy.go` (`ClusterRoles()`), less those listed as
/// left out in the module doc.
fn api_server_cluster_roles() -> Vec<ClusterRole> {
    vec![
        // A "root" role which can do absolutely anything.
        cluster_role(
            "cluster-admin",
            vec![
                rule(&["*"]).groups(&["*"]).resources(&["*"]).build(),
                rule(&["*"]).urls(&["*"]).build(),
            ],
        ),
        // Enough to tell whether the server is ready and discover API versions.
        cluster_role(
            "system:discovery",
            vec![rule(&["get"])
                .urls(&[
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/version",
                    "/version/",
                    "/openapi",
                    "/openapi/*",
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                ])
                .build()],
        ),
        // Enough for a user to learn about themselves.
        cluster_role(
            "system:basic-user",
            vec![
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["selfsubjectreviews"])
                    .build(),
            ],
        ),
        // Insensitive cluster information, for everyone.
        cluster_role(
            "system:public-info-viewer",
            vec![rule(&["get"])
                .urls(&["/livez", "/readyz", "/healthz", "/version", "/version/"])
                .build()],
        ),
        aggregated_role("admin", &[], "rbac.authorization.k8s.io/aggregate-to-admin"),
        aggregated_role(
            "edit",
            &[("rbac.authorization.k8s.io/aggregate-to-admin", "true")],
            "rbac.authorization.k8s.io/aggregate-to-edit",
        ),
        aggregated_role(
            "view",
            &[("rbac.authorization.k8s.io/aggregate-to-edit", "true")],
            "rbac.authorization.k8s.io/aggregate-to-view",
        ),
        ClusterRole {
            metadata: default_meta(
                "system:aggregate-to-admin",
                None,
                &[("rbac.authorization.k8s.io/aggregate-to-admin", "true")],
            ),
            rules: Some(vec![
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["localsubjectaccessreviews"])
                    .build(),
                rule(READ_WRITE)
                    .groups(&[RBAC_GROUP])
                    .resources(&["roles", "rolebindings"])
                    .build(),
            ]),
            aggregation_rule: None,
        },
        ClusterRole {
            metadata: default_meta(
                "system:aggregate-to-edit",
                None,
                &[("rbac.authorization.k8s.io/aggregate-to-edit", "true")],
            ),
            rules: Some(aggregate_to_edit_rules()),
            aggregation_rule: None,
        },
        ClusterRole {
            metadata: default_meta(
                "system:aggregate-to-view",
                None,
                &[("rbac.authorization.k8s.io/aggregate-to-view", "true")],
            ),
            rules: Some(aggregate_to_view_rules()),
            aggregation_rule: None,
        },
        // What kubelets need; in practice the Node authorizer grants it.
        cluster_role("system:node", node_rules()),
        // Bootstrapping a node's client certificate.
        cluster_role(
            "system:node-bootstrapper",
            vec![rule(&["create", "get", "list", "watch"])
                .groups(&[CERTIFICATES])
                .resources(&["certificatesigningrequests"])
                .build()],
        ),
        // kube-controller-manager's own identity: enough to start its shared
        // informers and hand out per-controller service account tokens.
        cluster_role(
            "system:kube-controller-manager",
            vec![
                events_rule(),
                // Leader election.
                rule(&["create"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .names(&["kube-controller-manager"])
                    .build(),
                // Fundamental resources.
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["secrets", "serviceaccounts"])
                    .build(),
                rule(&["delete"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["namespaces", "secrets", "serviceaccounts", "configmaps"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["secrets", "serviceaccounts"])
                    .build(),
                // Needed to check API access. These creates are non-mutating.
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"])
                    .build(),
                // Needed for all shared informers.
                rule(&["list", "watch"])
                    .groups(&["*"])
                    .resources(&["*"])
                    .build(),
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["serviceaccounts/token"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:kube-dns",
            vec![rule(&["list", "watch"])
                .groups(&[LEGACY])
                .resources(&["endpoints", "services"])
                .build()],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![rule(&["create"])
                .groups(&[CERTIFICATES])
                .resources(&["certificatesigningrequests/nodeclient"])
                .build()],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![rule(&["create"])
                .groups(&[CERTIFICATES])
                .resources(&["certificatesigningrequests/selfnodeclient"])
                .build()],
        ),
        cluster_role(
            "system:volume-scheduler",
            vec![
                rule(READ_UPDATE)
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                rule(READ)
                    .groups(&[STORAGE])
                    .resources(&["storageclasses"])
                    .build(),
                rule(READ_UPDATE)
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
            ],
        ),
        // kube-proxy.
        cluster_role(
            "system:node-proxier",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services", "endpoints"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                events_rule(),
                rule(&["list", "watch"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"])
                    .build(),
            ],
        ),
        cluster_role("system:kube-scheduler", kube_scheduler_rules()),
    ]
}

/// One `system:controller:<name>` role.
fn controller_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    cluster_role(&format!("{CONTROLLER_ROLE_PREFIX}{name}"), rules)
}

/// The roles of `controller_policy.go` (`buildControllerRoles`), less the
/// feature-gated ones listed in the module doc.
pub fn controller_roles() -> Vec<ClusterRole> {
    vec![
        controller_role(
            "attachdetach-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes", "persistentvolumeclaims"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["patch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["nodes/status"])
                    .build(),
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
                rule(&["get", "create", "delete", "list", "watch"])
                    .groups(&[STORAGE])
                    .resources(&["volumeattachments"])
                    .build(),
                rule(&["get", "watch", "list"])
                    .groups(&[STORAGE])
                    .resources(&["csidrivers"])
                    .build(),
                rule(&["get", "watch", "list"])
                    .groups(&[STORAGE])
                    .resources(&["csinodes"])
                    .build(),
            ],
        ),
        controller_role(
            "clusterrole-aggregation-controller",
            vec![
                rule(&["escalate", "get", "list", "watch", "update", "patch"])
                    .groups(&[RBAC_GROUP])
                    .resources(&["clusterroles"])
                    .build(),
            ],
        ),
        controller_role(
            "cronjob-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs"])
                    .build(),
                rule(&[
                    "get", "list", "watch", "create", "update", "delete", "patch",
                ])
                .groups(&[BATCH])
                .resources(&["jobs"])
                .build(),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["cronjobs/finalizers"])
                    .build(),
                rule(&["list", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "daemon-set-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets"])
                    .build(),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["daemonsets/finalizers"])
                    .build(),
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["list", "watch", "create", "delete", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["pods/binding"])
                    .build(),
                rule(&[
                    "get", "list", "watch", "create", "delete", "update", "patch",
                ])
                .groups(&[APPS])
                .resources(&["controllerrevisions"])
                .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "deployment-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments"])
                    .build(),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments/finalizers"])
                    .build(),
                rule(&[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ])
                .groups(&[APPS, EXTENSIONS])
                .resources(&["replicasets"])
                .build(),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "disruption-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[EXTENSIONS, APPS])
                    .resources(&["deployments"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["replicationcontrollers"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[POLICY])
                    .resources(&["poddisruptionbudgets"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[APPS])
                    .resources(&["statefulsets"])
                    .build(),
                rule(&["update"])
                    .groups(&[POLICY])
                    .resources(&["poddisruptionbudgets/status"])
                    .build(),
                rule(&["patch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["pods/status"])
                    .build(),
                rule(&["get"])
                    .groups(&["*"])
                    .resources(&["*/scale"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "endpoint-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services", "pods"])
                    .build(),
                rule(&["get", "list", "create", "update", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["endpoints"])
                    .build(),
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["endpoints/restricted"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "endpointslice-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services", "pods", "nodes"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["services/finalizers"])
                    .build(),
                rule(&["get", "list", "create", "update", "delete"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "endpointslicemirroring-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services", "endpoints"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["services/finalizers"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["endpoints/finalizers"])
                    .build(),
                rule(&["get", "list", "create", "update", "delete"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "expand-controller",
            vec![
                rule(&["get", "list", "watch", "update", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                rule(&["update", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims/status"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[STORAGE])
                    .resources(&["storageclasses"])
                    .build(),
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["services", "endpoints"])
                    .build(),
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "ephemeral-volume-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["pods/finalizers"])
                    .build(),
                rule(&["get", "list", "watch", "create"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "generic-garbage-collector",
            vec![
                rule(&["get", "list", "watch", "patch", "update", "delete"])
                    .groups(&["*"])
                    .resources(&["*"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "horizontal-pod-autoscaler",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[AUTOSCALING])
                    .resources(&["horizontalpodautoscalers"])
                    .build(),
                rule(&["update"])
                    .groups(&[AUTOSCALING])
                    .resources(&["horizontalpodautoscalers/status"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&["*"])
                    .resources(&["*/scale"])
                    .build(),
                rule(&["list"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["list"])
                    .groups(&[RESOURCE_METRICS])
                    .resources(&["pods"])
                    .build(),
                rule(&["get", "list"])
                    .groups(&[CUSTOM_METRICS])
                    .resources(&["*"])
                    .build(),
                rule(&["get", "list"])
                    .groups(&[EXTERNAL_METRICS])
                    .resources(&["*"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "job-controller",
            vec![
                rule(&["get", "list", "watch", "update", "patch"])
                    .groups(&[BATCH])
                    .resources(&["jobs"])
                    .build(),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["jobs/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[BATCH])
                    .resources(&["jobs/finalizers"])
                    .build(),
                rule(&["list", "watch", "create", "delete", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "namespace-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["namespaces"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["namespaces/finalize", "namespaces/status"])
                    .build(),
                rule(&["get", "list", "delete", "deletecollection"])
                    .groups(&["*"])
                    .resources(&["*"])
                    .build(),
            ],
        ),
        controller_role(
            "node-controller",
            // Upstream `controller_policy.go` (`system:controller:node-controller`):
            // the node lifecycle controller also watches nodes and pods, and the
            // taint eviction controller (which writes as this service account:
            // "taint-manager uses existing cluster role from node-controller")
            // lists and watches pods.
            vec![
                rule(&["get", "list", "watch", "update", "delete", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["patch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["nodes/status"])
                    .build(),
                // Used for pod deletion.
                rule(&["patch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["pods/status"])
                    .build(),
                rule(&["list", "watch", "get", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "persistent-volume-binder",
            vec![
                rule(&["get", "list", "watch", "update", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes/status"])
                    .build(),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims/status"])
                    .build(),
                rule(&["list", "watch", "get", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[STORAGE])
                    .resources(&["storageclasses"])
                    .build(),
                rule(&["get", "create", "update", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["endpoints"])
                    .build(),
                rule(&["get", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["services"])
                    .build(),
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                rule(&["get", "list"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["watch"])
                    .groups(&[LEGACY])
                    .resources(&["events"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "pod-garbage-collector",
            vec![
                rule(&["list", "watch", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["get", "list"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["patch"])
                    .groups(&[LEGACY])
                    .resources(&["pods/status"])
                    .build(),
            ],
        ),
        controller_role(
            "replicaset-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets"])
                    .build(),
                rule(&["update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[APPS, EXTENSIONS])
                    .resources(&["replicasets/finalizers"])
                    .build(),
                rule(&["list", "watch", "patch", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "replication-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["replicationcontrollers"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["replicationcontrollers/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["replicationcontrollers/finalizers"])
                    .build(),
                rule(&["list", "watch", "patch", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "resourcequota-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&["*"])
                    .resources(&["*"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["resourcequotas/status"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "route-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["patch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes/status"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "service-account-controller",
            vec![
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["serviceaccounts"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "service-controller",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services"])
                    .build(),
                rule(&["patch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["services/status"])
                    .build(),
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "statefulset-controller",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[APPS])
                    .resources(&["statefulsets"])
                    .build(),
                rule(&["update"])
                    .groups(&[APPS])
                    .resources(&["statefulsets/status"])
                    .build(),
                rule(&["update"])
                    .groups(&[APPS])
                    .resources(&["statefulsets/finalizers"])
                    .build(),
                rule(&["get", "create", "delete", "update", "patch"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                rule(&[
                    "get", "create", "delete", "update", "patch", "list", "watch",
                ])
                .groups(&[APPS])
                .resources(&["controllerrevisions"])
                .build(),
                rule(&["get", "create"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                events_rule(),
                // StatefulSetAutoDeletePVC (GA in v1.32).
                rule(&["update", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
            ],
        ),
        controller_role(
            "ttl-controller",
            vec![
                rule(&["update", "patch", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "certificate-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests"])
                    .build(),
                rule(&["update"])
                    .groups(&[CERTIFICATES])
                    .resources(&[
                        "certificatesigningrequests/status",
                        "certificatesigningrequests/approval",
                    ])
                    .build(),
                rule(&["approve"])
                    .groups(&[CERTIFICATES])
                    .resources(&["signers"])
                    .names(&["kubernetes.io/kube-apiserver-client-kubelet"])
                    .build(),
                rule(&["sign"])
                    .groups(&[CERTIFICATES])
                    .resources(&["signers"])
                    .names(&[
                        "kubernetes.io/legacy-unknown",
                        "kubernetes.io/kube-apiserver-client",
                        "kubernetes.io/kube-apiserver-client-kubelet",
                        "kubernetes.io/kubelet-serving",
                    ])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "pvc-protection-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                rule(&["list", "watch", "get"])
                    .groups(&[LEGACY])
                    .resources(&["pods"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "pv-protection-controller",
            vec![
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "ttl-after-finished-controller",
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[BATCH])
                    .resources(&["jobs"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "root-ca-cert-publisher",
            vec![
                rule(&["create", "update"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
                events_rule(),
            ],
        ),
        controller_role(
            "legacy-service-account-token-cleaner",
            vec![
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kube-apiserver-legacy-service-account-token-tracking"])
                    .build(),
                rule(&["patch", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
            ],
        ),
    ]
}

/// `addControllerRole`'s binding: each controller role to the controller's
/// service account in kube-system.
fn controller_role_bindings(roles: &[ClusterRole]) -> Vec<ClusterRoleBinding> {
    roles
        .iter()
        .filter_map(|role| role.metadata.name.as_deref())
        .map(|name| {
            let sa = name.strip_prefix(CONTROLLER_ROLE_PREFIX).unwrap_or(name);
            cluster_binding(name, vec![service_account(KUBE_SYSTEM, sa)])
        })
        .collect()
}

/// `ClusterRoleBindings()` of `policy.go`.
fn api_server_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        cluster_binding("cluster-admin", vec![group(SYSTEM_PRIVILEGED_GROUP)]),
        cluster_binding("system:discovery", vec![group(ALL_AUTHENTICATED)]),
        cluster_binding("system:basic-user", vec![group(ALL_AUTHENTICATED)]),
        cluster_binding(
            "system:public-info-viewer",
            vec![group(ALL_AUTHENTICATED), group(ALL_UNAUTHENTICATED)],
        ),
        cluster_binding("system:node-proxier", vec![user(KUBE_PROXY)]),
        cluster_binding(
            "system:kube-controller-manager",
            vec![user(KUBE_CONTROLLER_MANAGER)],
        ),
        cluster_binding(
            "system:kube-dns",
            vec![service_account(KUBE_SYSTEM, "kube-dns")],
        ),
        cluster_binding("system:kube-scheduler", vec![user(KUBE_SCHEDULER)]),
        cluster_binding("system:volume-scheduler", vec![user(KUBE_SCHEDULER)]),
        // Deprecated since the Node authorizer (v1.7): kept with no subjects.
        ClusterRoleBinding {
            metadata: default_meta("system:node", None, &[]),
            role_ref: role_ref("ClusterRole", "system:node"),
            subjects: None,
        },
    ]
}

fn role(name: &str, namespace: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: default_meta(name, Some(namespace), &[]),
        rules: Some(rules),
    }
}

fn role_binding(name: &str, namespace: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: default_meta(name, Some(namespace), &[]),
        role_ref: role_ref("Role", role),
        subjects: Some(subjects),
    }
}

/// The Roles of `namespace_policy.go`.
fn api_server_roles() -> Vec<Role> {
    vec![
        // Authentication configuration for servers that delegate to this one.
        role(
            "extension-apiserver-authentication-reader",
            KUBE_SYSTEM,
            vec![rule(&["get", "list", "watch"])
                .groups(&[LEGACY])
                .resources(&["configmaps"])
                .names(&["extension-apiserver-authentication"])
                .build()],
        ),
        role(
            &format!("{CONTROLLER_ROLE_PREFIX}bootstrap-signer"),
            KUBE_SYSTEM,
            vec![rule(READ).groups(&[LEGACY]).resources(&["secrets"]).build()],
        ),
        role(
            &format!("{CONTROLLER_ROLE_PREFIX}token-cleaner"),
            KUBE_SYSTEM,
            vec![
                rule(&["delete", "get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                events_rule(),
            ],
        ),
        role(
            "system::leader-locking-kube-controller-manager",
            KUBE_SYSTEM,
            vec![
                rule(&["watch"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kube-controller-manager"])
                    .build(),
            ],
        ),
        role(
            "system::leader-locking-kube-scheduler",
            KUBE_SYSTEM,
            vec![
                rule(&["watch"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kube-scheduler"])
                    .build(),
            ],
        ),
        role(
            &format!("{CONTROLLER_ROLE_PREFIX}bootstrap-signer"),
            KUBE_PUBLIC,
            vec![
                rule(READ)
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["cluster-info"])
                    .build(),
                events_rule(),
            ],
        ),
    ]
}

/// The RoleBindings of `namespace_policy.go`.
fn api_server_role_bindings() -> Vec<RoleBinding> {
    let bootstrap_signer = format!("{CONTROLLER_ROLE_PREFIX}bootstrap-signer");
    let token_cleaner = format!("{CONTROLLER_ROLE_PREFIX}token-cleaner");
    vec![
        role_binding(
            "system::extension-apiserver-authentication-reader",
            KUBE_SYSTEM,
            "extension-apiserver-authentication-reader",
            vec![user(KUBE_CONTROLLER_MANAGER), user(KUBE_SCHEDULER)],
        ),
        role_binding(
            "system::leader-locking-kube-controller-manager",
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            vec![
                user(KUBE_CONTROLLER_MANAGER),
                service_account(KUBE_SYSTEM, "kube-controller-manager"),
            ],
        ),
        role_binding(
            "system::leader-locking-kube-scheduler",
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            vec![
                user(KUBE_SCHEDULER),
                service_account(KUBE_SYSTEM, "kube-scheduler"),
            ],
        ),
        role_binding(
            &bootstrap_signer,
            KUBE_SYSTEM,
            &bootstrap_signer,
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
        role_binding(
            &token_cleaner,
            KUBE_SYSTEM,
            &token_cleaner,
            vec![service_account(KUBE_SYSTEM, "token-cleaner")],
        ),
        role_binding(
            &bootstrap_signer,
            KUBE_PUBLIC,
            &bootstrap_signer,
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
    ]
}

/// A set of RBAC objects to create together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BootstrapPolicy {
    pub cluster_roles: Vec<ClusterRole>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
    pub roles: Vec<Role>,
    pub role_bindings: Vec<RoleBinding>,
}

impl BootstrapPolicy {
    /// Appends another policy's objects.
    pub fn extend(&mut self, other: BootstrapPolicy) {
        self.cluster_roles.extend(other.cluster_roles);
        self.cluster_role_bindings
            .extend(other.cluster_role_bindings);
        self.roles.extend(other.roles);
        self.role_bindings.extend(other.role_bindings);
    }

    /// Puts every object into an RBAC index.
    pub fn load_into(&self, rbac: &mut RbacAuthorizer) -> Result<(), RbacError> {
        rbac.upsert_cluster_roles(self.cluster_roles.iter().cloned())?;
        for binding in &self.cluster_role_bindings {
            rbac.upsert_cluster_role_binding(binding.clone())?;
        }
        for role in &self.roles {
            rbac.upsert_role(role.clone())?;
        }
        for binding in &self.role_bindings {
            rbac.upsert_role_binding(binding.clone())?;
        }
        Ok(())
    }
}

/// What kube-apiserver's RBAC post-start hook creates.
pub fn api_server_policy() -> BootstrapPolicy {
    let mut cluster_roles = api_server_cluster_roles();
    let controllers = controller_roles();
    let mut cluster_role_bindings = api_server_cluster_role_bindings();
    cluster_role_bindings.extend(controller_role_bindings(&controllers));
    cluster_roles.extend(controllers);
    BootstrapPolicy {
        cluster_roles,
        cluster_role_bindings,
        roles: api_server_roles(),
        role_bindings: api_server_role_bindings(),
    }
}

/// What `kubeadm init` creates: the cluster-admins binding, the bootstrap
/// token and node certificate bindings, and the kube-proxy and CoreDNS
/// addons' RBAC.
pub fn kubeadm_policy() -> BootstrapPolicy {
    let bootstrappers = || group(KUBEADM_DEFAULT_NODE_TOKEN_GROUP);
    let kubeadm_binding = |name: &str, role: &str, subjects: Vec<Subject>| ClusterRoleBinding {
        metadata: plain_meta(name, None),
        role_ref: role_ref("ClusterRole", role),
        subjects: Some(subjects),
    };
    let kubeadm_role = |name: &str, namespace: &str, rules: Vec<PolicyRule>| Role {
        metadata: plain_meta(name, Some(namespace)),
        rules: Some(rules),
    };
    let kubeadm_role_binding = |name: &str, namespace: &str, subjects: Vec<Subject>| RoleBinding {
        metadata: plain_meta(name, Some(namespace)),
        role_ref: role_ref("Role", name),
        subjects: Some(subjects),
    };
    BootstrapPolicy {
        cluster_roles: vec![
            ClusterRole {
                metadata: plain_meta("kubeadm:get-nodes", None),
                rules: Some(vec![rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build()]),
                aggregation_rule: None,
            },
            ClusterRole {
                metadata: plain_meta("system:coredns", None),
                rules: Some(vec![
                    rule(&["list", "watch"])
                        .groups(&[LEGACY])
                        .resources(&["endpoints", "services", "pods", "namespaces"])
                        .build(),
                    rule(&["list", "watch"])
                        .groups(&[DISCOVERY])
                        .resources(&["endpointslices"])
                        .build(),
                ]),
                aggregation_rule: None,
            },
        ],
        cluster_role_bindings: vec![
            kubeadm_binding(
                "kubeadm:cluster-admins",
                "cluster-admin",
                vec![group(KUBEADM_CLUSTER_ADMINS_GROUP)],
            ),
            kubeadm_binding(
                "kubeadm:kubelet-bootstrap",
                "system:node-bootstrapper",
                vec![bootstrappers()],
            ),
            kubeadm_binding(
                "kubeadm:node-autoapprove-bootstrap",
                "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                vec![bootstrappers()],
            ),
            kubeadm_binding(
                "kubeadm:node-autoapprove-certificate-rotation",
                "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                vec![group(NODES_GROUP)],
            ),
            kubeadm_binding(
                "kubeadm:get-nodes",
                "kubeadm:get-nodes",
                vec![bootstrappers()],
            ),
            kubeadm_binding(
                "kubeadm:node-proxier",
                "system:node-proxier",
                vec![service_account(KUBE_SYSTEM, "kube-proxy")],
            ),
            kubeadm_binding(
                "system:coredns",
                "system:coredns",
                vec![service_account(KUBE_SYSTEM, "coredns")],
            ),
        ],
        roles: vec![
            kubeadm_role(
                "kubeadm:bootstrap-signer-clusterinfo",
                KUBE_PUBLIC,
                vec![rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["cluster-info"])
                    .build()],
            ),
            kubeadm_role(
                "kubeadm:nodes-kubeadm-config",
                KUBE_SYSTEM,
                vec![rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kubeadm-config"])
                    .build()],
            ),
            kubeadm_role(
                "kubeadm:kubelet-config",
                KUBE_SYSTEM,
                vec![rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kubelet-config"])
                    .build()],
            ),
            kubeadm_role(
                "kube-proxy",
                KUBE_SYSTEM,
                vec![rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["kube-proxy"])
                    .build()],
            ),
        ],
        role_bindings: vec![
            kubeadm_role_binding(
                "kubeadm:bootstrap-signer-clusterinfo",
                KUBE_PUBLIC,
                vec![user(ANONYMOUS)],
            ),
            kubeadm_role_binding(
                "kubeadm:nodes-kubeadm-config",
                KUBE_SYSTEM,
                vec![bootstrappers(), group(NODES_GROUP)],
            ),
            kubeadm_role_binding(
                "kubeadm:kubelet-config",
                KUBE_SYSTEM,
                vec![bootstrappers(), group(NODES_GROUP)],
            ),
            kubeadm_role_binding("kube-proxy", KUBE_SYSTEM, vec![bootstrappers()]),
        ],
    }
}

/// The cloud-controller-manager's ClusterRole, exactly as the Kubernetes
/// docs give it
/// (<https://kubernetes.io/docs/concepts/architecture/cloud-controller/#authorization>):
///
/// > Node controller: "The Node controller only works with Node objects. It
/// > requires full access to read and modify Node objects." `v1/Node`: get,
/// > list, create, update, patch, watch, delete.
/// >
/// > Route controller: "The route controller listens to Node object creation
/// > and configures routes appropriately. It requires Get access to Node
/// > objects." `v1/Node`: get.
/// >
/// > Service controller: "To access Services, it requires list, and watch
/// > access. To update Services, it requires patch and update access to the
/// > `status` subresource." `v1/Service`: list, get, watch, patch, update.
/// >
/// > Others: "The implementation of the core of the cloud controller manager
/// > requires access to create Event objects, and to ensure secure operation,
/// > it requires access to create ServiceAccounts." `v1/Event`: create,
/// > patch, update. `v1/ServiceAccount`: create.
///
/// and the page's ClusterRole: events create/patch/update; nodes `*`;
/// nodes/status patch; services get/list/watch/patch/update (the seeds'
/// list; the current page has only list/watch); services/status patch/update;
/// serviceaccounts create; persistentvolumes get/list/update/watch. (Older
/// versions of the page also listed endpoints create/get/list/watch/update
/// and services patch/update; the current page does not.)
pub fn cloud_controller_manager_role() -> ClusterRole {
    ClusterRole {
        metadata: plain_meta("cloud-controller-manager", None),
        rules: Some(vec![
            rule(&["create", "patch", "update"])
                .groups(&[LEGACY])
                .resources(&["events"])
                .build(),
            rule(&["*"]).groups(&[LEGACY]).resources(&["nodes"]).build(),
            rule(&["patch"])
                .groups(&[LEGACY])
                .resources(&["nodes/status"])
                .build(),
            // The seeds' list for v1/Service (the page's earlier version):
            // the service controller patches the Service itself to add and
            // remove its `service.kubernetes.io/load-balancer-cleanup`
            // finalizer, as upstream's `system:controller:service-controller`
            // role allows.
            rule(&["get", "list", "patch", "update", "watch"])
                .groups(&[LEGACY])
                .resources(&["services"])
                .build(),
            rule(&["patch", "update"])
                .groups(&[LEGACY])
                .resources(&["services/status"])
                .build(),
            rule(&["create"])
                .groups(&[LEGACY])
                .resources(&["serviceaccounts"])
                .build(),
            rule(&["get", "list", "update", "watch"])
                .groups(&[LEGACY])
                .resources(&["persistentvolumes"])
                .build(),
        ]),
        aggregation_rule: None,
    }
}

/// The cloud-controller-manager's RBAC: its ClusterRole bound to its service
/// account in kube-system, the identity it runs as.
pub fn cloud_controller_manager_policy() -> BootstrapPolicy {
    BootstrapPolicy {
        cluster_roles: vec![cloud_controller_manager_role()],
        cluster_role_bindings: vec![ClusterRoleBinding {
            metadata: plain_meta("cloud-controller-manager", None),
            role_ref: role_ref("ClusterRole", "cloud-controller-manager"),
            subjects: Some(vec![service_account(
                KUBE_SYSTEM,
                CLOUD_CONTROLLER_MANAGER_SA,
            )]),
        }],
        // Leader election: the docs' role has no Lease rights, yet the
        // cloud-controller-manager elects its leader through the
        // `kube-system/cloud-controller-manager` Lease; this Role grants just
        // that, as `system::leader-locking-kube-controller-manager` does for
        // kube-controller-manager.
        roles: vec![Role {
            metadata: plain_meta(CCM_LEADER_LOCKING, Some(KUBE_SYSTEM)),
            rules: Some(vec![
                rule(&["create"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .names(&["cloud-controller-manager"])
                    .build(),
            ]),
        }],
        role_bindings: vec![RoleBinding {
            metadata: plain_meta(CCM_LEADER_LOCKING, Some(KUBE_SYSTEM)),
            role_ref: role_ref("Role", CCM_LEADER_LOCKING),
            subjects: Some(vec![service_account(
                KUBE_SYSTEM,
                CLOUD_CONTROLLER_MANAGER_SA,
            )]),
        }],
    }
}

/// The Role that lets the cloud-controller-manager hold its Lease.
pub const CCM_LEADER_LOCKING: &str = "system::leader-locking-cloud-controller-manager";

/// Everything a kubeadm cluster with a cloud-controller-manager holds after
/// `kubeadm init`: the API server's bootstrap policy, kubeadm's, and the
/// cloud-controller-manager's.
pub fn cluster_policy() -> BootstrapPolicy {
    let mut policy = api_server_policy();
    policy.extend(kubeadm_policy());
    policy.extend(cloud_controller_manager_policy());
    policy
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_bootstrap_object_has_a_unique_name() {
        let policy = cluster_policy();
        let mut seen = BTreeSet::new();
        for role in &policy.cluster_roles {
            assert!(
                seen.insert(("ClusterRole", role.metadata.name.clone())),
                "{role:?}"
            );
        }
        for binding in &policy.cluster_role_bindings {
            assert!(seen.insert(("ClusterRoleBinding", binding.metadata.name.clone())));
        }
        for role in &policy.roles {
            let key = format!("{:?}/{:?}", role.metadata.namespace, role.metadata.name);
            assert!(seen.insert(("Role", Some(key))));
        }
        for binding in &policy.role_bindings {
            let key = format!(
                "{:?}/{:?}",
                binding.metadata.namespace, binding.metadata.name
            );
            assert!(seen.insert(("RoleBinding", Some(key))));
        }
    }

    #[test]
    fn every_binding_references_a_role_that_exists() {
        let policy = cluster_policy();
        let cluster_roles: BTreeSet<_> = policy
            .cluster_roles
            .iter()
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        for binding in &policy.cluster_role_bindings {
            assert!(
                cluster_roles.contains(&binding.role_ref.name),
                "{:?}",
                binding.metadata.name
            );
        }
        let roles: BTreeSet<_> = policy
            .roles
            .iter()
            .map(|r| (r.metadata.namespace.clone(), r.metadata.name.clone()))
            .collect();
        for binding in &policy.role_bindings {
            let key = (
                binding.metadata.namespace.clone(),
                Some(binding.role_ref.name.clone()),
            );
            assert!(roles.contains(&key), "{:?}", binding.metadata.name);
        }
    }

    #[test]
    fn the_controllers_the_controller_manager_runs_have_roles_bound_to_their_service_accounts() {
        let policy = api_server_policy();
        for controller in [
            "deployment-controller",
            "replicaset-controller",
            "statefulset-controller",
            "daemon-set-controller",
            "job-controller",
            "cronjob-controller",
            "node-controller",
            "endpointslice-controller",
            "namespace-controller",
            "generic-garbage-collector",
            "service-account-controller",
            "pod-garbage-collector",
            "ttl-after-finished-controller",
            "disruption-controller",
            "certificate-controller",
        ] {
            let name = format!("{CONTROLLER_ROLE_PREFIX}{controller}");
            let binding = policy
                .cluster_role_bindings
                .iter()
                .find(|b| b.metadata.name.as_deref() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("no binding for {name}"));
            assert_eq!(
                binding.subjects,
                Some(vec![service_account(KUBE_SYSTEM, controller)])
            );
        }
        for controller in ["bootstrap-signer", "token-cleaner"] {
            let name = format!("{CONTROLLER_ROLE_PREFIX}{controller}");
            assert!(policy
                .roles
                .iter()
                .any(|r| r.metadata.name.as_deref() == Some(name.as_str())
                    && r.metadata.namespace.as_deref() == Some(KUBE_SYSTEM)));
        }
    }

    #[test]
    fn rules_are_sorted_as_the_rule_builder_sorts_them() {
        let r = rule(&["watch", "get"])
            .groups(&["b", "a"])
            .resources(&["z", "y"])
            .build();
        assert_eq!(r.verbs, vec!["get", "watch"]);
        assert_eq!(r.api_groups, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(r.resources, Some(vec!["y".to_string(), "z".to_string()]));
    }

    #[test]
    fn upstream_bootstrap_objects_carry_the_bootstrapping_label_and_autoupdate_annotation() {
        for role in api_server_policy().cluster_roles {
            let labels = role.metadata.labels.unwrap_or_default();
            assert_eq!(
                labels
                    .get("kubernetes.io/bootstrapping")
                    .map(String::as_str),
                Some("rbac-defaults")
            );
            let annotations = role.metadata.annotations.unwrap_or_default();
            assert_eq!(
                annotations
                    .get("rbac.authorization.kubernetes.io/autoupdate")
                    .map(String::as_str),
                Some("true")
            );
        }
    }

    #[test]
    fn the_whole_policy_loads_into_an_rbac_index() {
        let mut rbac = RbacAuthorizer::new();
        cluster_policy().load_into(&mut rbac).unwrap();
        assert!(rbac.cluster_role("cluster-admin").is_some());
        let view = rbac.effective_cluster_role("view").unwrap();
        assert_eq!(view.rules, Some(aggregate_to_view_rules()));
        let admin = rbac.effective_cluster_role("admin").unwrap().rules.unwrap();
        // admin = aggregate-to-admin + edit (= aggregate-to-edit + view).
        let expected_len = 2 + aggregate_to_edit_rules().len() + aggregate_to_view_rules().len();
        assert_eq!(admin.len(), expected_len);
    }
}
