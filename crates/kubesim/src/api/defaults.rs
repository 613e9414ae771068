//! Defaulting: the values kube-apiserver fills in before it validates and
//! stores an object, so that `kubectl get -o yaml` shows them.
//!
//! Ported from `pkg/apis/core/v1/defaults.go` (`SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_Probe`,
//! `SetDefaults_Service`, `SetDefaults_Secret`, `SetDefaults_Namespace`),
//! `pkg/apis/apps/v1/defaults.go`, `pkg/apis/batch/v1/defaults.go` and
//! `pkg/apis/scheduling/v1/defaults.go`. Pods also get what the Priority
//! admission plugin sets when no priority class applies (`priority: 0`,
//! `preemptionPolicy: PreemptLowerPriority`), and Namespaces what their
//! registry strategy sets (`spec.finalizers: [kubernetes]`, phase
//! `Active`). Left out: the other admission plugins (service account,
//! default tolerations: the API server's admission chain adds those), IP
//! allocation (`clusterIP`), and defaults of fields the simulation never
//! reads (volume sources beyond `defaultMode`, host-network ports).

use super::object::Object;
use super::pod::{Container, Pod, PodSpec};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Fills in every default for the object's kind, in place. Idempotent:
/// fields already set are kept.
pub fn apply_defaults(obj: &mut Object) {
    match obj {
        Object::Pod(p) => default_pod(p),
        Object::Service(s) => {
            if let Some(spec) = s.spec.as_mut() {
                default_service_spec(spec)
            }
        }
        Object::Namespace(ns) => {
            let name = ns.metadata.name.clone().unwrap_or_default();
            if !name.is_empty() {
                ns.metadata
                    .labels
                    .get_or_insert_with(Default::default)
                    .insert("kubernetes.io/metadata.name".into(), name);
            }
            let spec = ns.spec.get_or_insert_with(Default::default);
            spec.finalizers
                .get_or_insert_with(|| vec!["kubernetes".into()]);
            let status = ns.status.get_or_insert_with(Default::default);
            status.phase.get_or_insert_with(|| "Active".into());
        }
        Object::Secret(s) => {
            s.type_.get_or_insert_with(|| "Opaque".into());
        }
        Object::Deployment(d) => default_deployment_spec(&mut d.spec),
        Object::ReplicaSet(rs) => {
            rs.spec.replicas.get_or_insert(1);
            if let Some(t) = rs.spec.template.as_mut() {
                default_template(t);
            }
        }
        Object::StatefulSet(s) => default_stateful_set_spec(&mut s.spec),
        Object::DaemonSet(d) => default_daemon_set_spec(&mut d.spec),
        Object::Job(j) => {
            if let Some(spec) = j.spec.as_mut() {
                default_job_spec(spec)
            }
        }
        Object::CronJob(c) => {
            let spec = &mut c.spec;
            spec.concurrency_policy
                .get_or_insert_with(|| "Allow".into());
            spec.suspend.get_or_insert(false);
            spec.successful_jobs_history_limit.get_or_insert(3);
            spec.failed_jobs_history_limit.get_or_insert(1);
            if let Some(job) = spec.job_template.spec.as_mut() {
                default_job_spec(job);
            }
        }
        Object::PriorityClass(pc) => {
            pc.preemption_policy
                .get_or_insert_with(|| "PreemptLowerPriority".into());
        }
        Object::Node(n) => {
            // SetDefaults_NodeStatus: allocatable defaults to capacity.
            if let Some(status) = n.status.as_mut() {
                if status.allocatable.is_none() {
                    status.allocatable = status.capacity.clone();
                }
            }
        }
        Object::EndpointSlice(es) => {
            for p in es.ports.iter_mut().flatten() {
                p.protocol.get_or_insert_with(|| "TCP".into());
                p.name.get_or_insert_with(String::new);
            }
        }
        Object::ConfigMap(_)
        | Object::ServiceAccount(_)
        | Object::Event(_)
        | Object::EventsEvent(_)
        | Object::Lease(_)
        | Object::Role(_)
        | Object::ClusterRole(_)
        | Object::RoleBinding(_)
        | Object::ClusterRoleBinding(_)
        | Object::CertificateSigningRequest(_)
        | Object::PodDisruptionBudget(_)
        | Object::ControllerRevision(_)
        | Object::SubjectAccessReview(_)
        | Object::TokenRequest(_) => {}
    }
}

/// `SetDefaults_Pod` plus the pod spec's own defaults.
fn default_pod(p: &mut Pod) {
    let Some(spec) = p.spec.as_mut() else {
        return;
    };
    default_pod_spec(spec);
    // SetDefaults_Pod: requests default to limits.
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if let Some(r) = c.resources.as_mut() {
            if let Some(limits) = r.limits.clone() {
                let requests = r.requests.get_or_insert_with(Default::default);
                for (k, v) in limits {
                    if !requests.contains_key(&k) {
                        requests.insert(k, v);
                    }
                }
            }
        }
    }
    spec.enable_service_links.get_or_insert(true);
    // The Priority admission plugin, with no priority class named.
    if spec.priority_class_name.is_none() {
        spec.priority.get_or_insert(0);
    }
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".into());
}

fn default_template(t: &mut core::PodTemplateSpec) {
    // Templates keep k8s-openapi's types; defaulting works on the
    // compact pod spec (the conversion moves, it does not copy).
    if let Some(spec) = t.spec.as_mut() {
        let mut compact = PodSpec::from(std::mem::take(spec));
        default_pod_spec(&mut compact);
        *spec = compact.into();
    }
}

/// `SetDefaults_PodSpec` and the defaults of what a pod spec contains.
pub fn default_pod_spec(spec: &mut PodSpec) {
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.security_context.get_or_insert_with(Default::default);
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        default_container(c);
    }
    for v in spec.volumes.iter_mut().flatten() {
        if let Some(cm) = v.config_map.as_mut() {
            cm.default_mode.get_or_insert(0o644);
        }
        if let Some(s) = v.secret.as_mut() {
            s.default_mode.get_or_insert(0o644);
        }
    }
}

/// `SetDefaults_Container`: pull policy from the tag, termination message,
/// port protocols, probe timings.
pub fn default_container(c: &mut Container) {
    if c.image_pull_policy.is_none() {
        let image = c.image.as_deref().unwrap_or("");
        c.image_pull_policy = Some(default_pull_policy(image).into());
    }
    c.termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".into());
    c.termination_message_policy
        .get_or_insert_with(|| "File".into());
    c.resources.get_or_insert_with(Default::default);
    for p in c.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
    }
    for probe in [
        c.liveness_probe.as_deref_mut(),
        c.readiness_probe.as_deref_mut(),
        c.startup_probe.as_deref_mut(),
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            f.api_version.get_or_insert_with(|| "v1".into());
        }
    }
}

/// `Always` for `:latest` or untagged images, else `IfNotPresent`
/// (a digest counts as a tag).
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    // The tag follows the last ':' after the last '/' (a registry may
    // carry a port: `localhost:5000/app`).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

/// `SetDefaults_Probe` and `SetDefaults_HTTPGetAction`.
fn default_probe(p: &mut core::Probe) {
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(h) = p.http_get.as_mut() {
        h.path.get_or_insert_with(|| "/".into());
        h.scheme.get_or_insert_with(|| "HTTP".into());
    }
}

/// `DefaultClientIPServiceAffinitySeconds` (pkg/apis/core/types.go).
pub const DEFAULT_CLIENT_IP_AFFINITY_SECONDS: i32 = 10800;

/// `SetDefaults_Service`.
pub fn default_service_spec(spec: &mut core::ServiceSpec) {
    let ty = spec.type_.get_or_insert_with(|| "ClusterIP".into()).clone();
    spec.session_affinity.get_or_insert_with(|| "None".into());
    // `core.DefaultClientIPServiceAffinitySeconds`: three hours.
    if spec.session_affinity.as_deref() == Some("ClientIP") {
        let config = spec
            .session_affinity_config
            .get_or_insert_with(Default::default);
        config
            .client_ip
            .get_or_insert_with(Default::default)
            .timeout_seconds
            .get_or_insert(DEFAULT_CLIENT_IP_AFFINITY_SECONDS);
    }
    if ty != "ExternalName" {
        spec.internal_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
        spec.ip_family_policy
            .get_or_insert_with(|| "SingleStack".into());
        spec.ip_families.get_or_insert_with(|| vec!["IPv4".into()]);
    }
    if ty == "NodePort" || ty == "LoadBalancer" {
        spec.external_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
    }
    if ty == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
    for p in spec.ports.iter_mut().flatten() {
        p.protocol.get_or_insert_with(|| "TCP".into());
        if p.target_port.is_none() {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
}

fn quarter() -> Option<IntOrString> {
    Some(IntOrString::String("25%".into()))
}

/// `SetDefaults_Deployment` (apps/v1).
fn default_deployment_spec(spec: &mut apps::DeploymentSpec) {
    spec.replicas.get_or_insert(1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    let ty = strategy.type_.get_or_insert_with(|| "RollingUpdate".into());
    if ty == "RollingUpdate" {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        if ru.max_surge.is_none() {
            ru.max_surge = quarter();
        }
        if ru.max_unavailable.is_none() {
            ru.max_unavailable = quarter();
        }
    }
    spec.revision_history_limit.get_or_insert(10);
    spec.progress_deadline_seconds.get_or_insert(600);
    default_template(&mut spec.template);
}

/// `SetDefaults_StatefulSet`.
fn default_stateful_set_spec(spec: &mut apps::StatefulSetSpec) {
    spec.replicas.get_or_insert(1);
    spec.pod_management_policy
        .get_or_insert_with(|| "OrderedReady".into());
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    let ty = us.type_.get_or_insert_with(|| "RollingUpdate".into());
    if ty == "RollingUpdate" {
        us.rolling_update
            .get_or_insert_with(Default::default)
            .partition
            .get_or_insert(0);
    }
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(Default::default);
    retention
        .when_deleted
        .get_or_insert_with(|| "Retain".into());
    retention.when_scaled.get_or_insert_with(|| "Retain".into());
    spec.revision_history_limit.get_or_insert(10);
    default_template(&mut spec.template);
}

/// `SetDefaults_DaemonSet`.
fn default_daemon_set_spec(spec: &mut apps::DaemonSetSpec) {
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    let ty = us.type_.get_or_insert_with(|| "RollingUpdate".into());
    if ty == "RollingUpdate" {
        let ru = us.rolling_update.get_or_insert_with(Default::default);
        if ru.max_unavailable.is_none() {
            ru.max_unavailable = Some(IntOrString::Int(1));
        }
        if ru.max_surge.is_none() {
            ru.max_surge = Some(IntOrString::Int(0));
        }
    }
    spec.revision_history_limit.get_or_insert(10);
    default_template(&mut spec.template);
}

/// `SetDefaults_Job` (batch/v1).
fn default_job_spec(spec: &mut batch::JobSpec) {
    if spec.completions.is_none() && spec.parallelism.is_none() {
        spec.completions = Some(1);
        spec.parallelism = Some(1);
    }
    spec.parallelism.get_or_insert(1);
    spec.backoff_limit.get_or_insert(6);
    spec.completion_mode
        .get_or_insert_with(|| "NonIndexed".into());
    spec.suspend.get_or_insert(false);
    spec.pod_replacement_policy
        .get_or_insert_with(|| "TerminatingOrFailed".into());
    spec.manual_selector.get_or_insert(false);
    default_template(&mut spec.template);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode::decode;

    fn one(text: &str) -> Object {
        let mut objs = decode(text, "STDIN").unwrap_or_default();
        assert_eq!(objs.len(), 1);
        let mut o = objs.remove(0);
        apply_defaults(&mut o);
        o
    }

    #[test]
    fn a_bare_pod_gets_the_defaults_kubectl_shows() {
        let o = one("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n    - containerPort: 80\n");
        let v = o.to_value();
        let spec = &v["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["securityContext"], serde_json::json!({}));
        assert_eq!(spec["enableServiceLinks"], true);
        assert_eq!(spec["priority"], 0);
        assert_eq!(spec["preemptionPolicy"], "PreemptLowerPriority");
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["resources"], serde_json::json!({}));
        assert_eq!(c["ports"][0]["protocol"], "TCP");
    }

    #[test]
    fn the_pull_policy_follows_the_image_tag() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("nginx:1.14.2"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/app"), "Always");
        assert_eq!(default_pull_policy("app@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn probes_get_their_timings_and_http_defaults() {
        let o = one("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n    livenessProbe:\n      httpGet:\n        port: 8080\n");
        let p = &o.to_value()["spec"]["containers"][0]["livenessProbe"];
        assert_eq!(p["timeoutSeconds"], 1);
        assert_eq!(p["periodSeconds"], 10);
        assert_eq!(p["successThreshold"], 1);
        assert_eq!(p["failureThreshold"], 3);
        assert_eq!(p["httpGet"]["path"], "/");
        assert_eq!(p["httpGet"]["scheme"], "HTTP");
    }

    #[test]
    fn a_deployment_gets_a_rolling_update_strategy_and_history_limits() {
        let o = one("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.14.2\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["replicas"], 1);
        assert_eq!(s["strategy"]["type"], "RollingUpdate");
        assert_eq!(s["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(s["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");
        assert_eq!(s["revisionHistoryLimit"], 10);
        assert_eq!(s["progressDeadlineSeconds"], 600);
        assert_eq!(s["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(
            s["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert!(s["template"]["spec"].get("priority").is_none());
    }

    #[test]
    fn jobs_and_cronjobs_get_batch_defaults() {
        let o = one("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl:5.34.0\n        command: [\"perl\", \"-Mbignum=bpi\", \"-wle\", \"print bpi(2000)\"]\n      restartPolicy: Never\n  backoffLimit: 4\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["backoffLimit"], 4);
        assert_eq!(s["completions"], 1);
        assert_eq!(s["parallelism"], 1);
        assert_eq!(s["completionMode"], "NonIndexed");
        assert_eq!(s["suspend"], false);
        let o = one("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: hello\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: hello\n            image: busybox:1.28\n          restartPolicy: OnFailure\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["concurrencyPolicy"], "Allow");
        assert_eq!(s["successfulJobsHistoryLimit"], 3);
        assert_eq!(s["failedJobsHistoryLimit"], 1);
        assert_eq!(s["jobTemplate"]["spec"]["backoffLimit"], 6);
    }

    #[test]
    fn a_service_targets_its_own_port_by_default() {
        let o = one("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {app: x}\n  ports:\n  - port: 80\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["type"], "ClusterIP");
        assert_eq!(s["sessionAffinity"], "None");
        assert_eq!(s["ports"][0]["protocol"], "TCP");
        assert_eq!(s["ports"][0]["targetPort"], 80);
        assert_eq!(s["ipFamilyPolicy"], "SingleStack");
        assert_eq!(s["internalTrafficPolicy"], "Cluster");
    }

    #[test]
    fn stateful_and_daemon_sets_get_their_update_strategies() {
        let o = one("apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: x}\n  serviceName: web\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["podManagementPolicy"], "OrderedReady");
        assert_eq!(s["updateStrategy"]["rollingUpdate"]["partition"], 0);
        assert_eq!(s["revisionHistoryLimit"], 10);
        let o = one("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds\nspec:\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: c\n        image: fluentd\n");
        let s = &o.to_value()["spec"];
        assert_eq!(s["updateStrategy"]["rollingUpdate"]["maxUnavailable"], 1);
    }

    #[test]
    fn defaulting_twice_changes_nothing() {
        let mut o = one("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n");
        let once = o.clone();
        apply_defaults(&mut o);
        assert_eq!(o, once);
        assert_eq!(
            o.labels()
                .get("kubernetes.io/metadata.name")
                .map(String::as_str),
            Some("dev")
        );
    }
}
