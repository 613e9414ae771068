//! `kubectl get` tables: kubectl's default columns per kind, `-o wide`,
//! `-A`'s `NAMESPACE` column, ages, and `No resources found`.
//!
//! Ported from kubectl's printers (`pkg/printers/internalversion/printers.go`:
//! `printPod`, `printNode`, `printService`, `printDeployment`, ...), the
//! tab writer kubectl prints through (`text/tabwriter`, padding 3), and
//! apimachinery's `duration.HumanDuration` for ages. Ages are measured on
//! the virtual clock. `-L` and `--show-labels` columns come from
//! [`super::columns`]. Left out: the `kind/name` prefix rules beyond
//! `show_kind`.

use super::super::object::{KindId, Object};
use super::super::time::to_sim_time;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

/// How to print a table.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableOptions {
    /// The virtual time ages are measured at.
    pub now: SimTime,
    /// `-o wide`.
    pub wide: bool,
    /// `-A`/`--all-namespaces`: a `NAMESPACE` column first.
    pub with_namespace: bool,
    /// Prefix names with `kind/` (kubectl does when several kinds print).
    pub show_kind: bool,
    /// `--no-headers`.
    pub no_headers: bool,
}

/// `No resources found in default namespace.`, or `No resources found`
/// for cluster-scoped kinds and `-A`.
pub fn no_resources_found(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("No resources found in {ns} namespace."),
        None => "No resources found".to_string(),
    }
}

/// apimachinery's `duration.HumanDuration`: `5s`, `2m3s`, `10m`, `3h`,
/// `5h30m`, `2d`, `3d4h`, `400d`, `2y30d`.
pub fn human_duration(d: SimDuration) -> String {
    let secs = d.as_millis() / 1000;
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        return match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            dy => format!("{}y{dy}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// kubectl's `translateTimestampSince`: the age, or `<unknown>`.
pub fn age(created: Option<&Time>, now: SimTime) -> String {
    match created {
        Some(t) => human_duration(now.saturating_since(to_sim_time(t))),
        None => "<unknown>".to_string(),
    }
}

fn age_of(v: &Value, pointer: &str, now: SimTime) -> String {
    let t = v
        .pointer(pointer)
        .and_then(|t| serde_json::from_value::<Time>(t.clone()).ok());
    match t {
        Some(t) => age(Some(&t), now),
        None => "<none>".to_string(),
    }
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s
    }
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn items<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `app=x,tier=y` for a label map, `<none>` when empty.
fn label_string(v: Option<&Value>) -> String {
    let Some(Value::Object(m)) = v else {
        return "<none>".into();
    };
    let mut pairs: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    or_none(pairs.join(","))
}

/// A label selector as `metav1.FormatLabelSelector` prints it.
pub fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel else {
        return "<none>".into();
    };
    let mut parts = Vec::new();
    if let Some(Value::Object(m)) = sel.get("matchLabels") {
        let mut pairs: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        pairs.sort();
        parts.extend(pairs);
    }
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = text(e, "/key");
        let values: Vec<&str> = items(e, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let op = text(e, "/operator");
        parts.push(match op.as_str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key,
            "DoesNotExist" => format!("!{key}"),
            _ => format!("{key} {op} ({})", values.join(",")),
        });
    }
    or_none(parts.join(","))
}

fn containers_and_images(v: &Value, spec: &str) -> (String, String) {
    let cs = items(v, &format!("{spec}/containers"));
    let names: Vec<String> = cs.iter().map(|c| text(c, "/name")).collect();
    let images: Vec<String> = cs.iter().map(|c| text(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// Headers and cells of one kind's table.
fn columns(kind: KindId, wide: bool) -> Vec<&'static str> {
    // Events' wide columns sit between the others (`printers.go`
    // `eventColumnDefinitions`: Subobject and Source before Message).
    if wide && matches!(kind, KindId::Event | KindId::EventsEvent) {
        return vec![
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME",
        ];
    }
    let (base, extra): (&[&str], &[&str]) = match kind {
        KindId::Pod => (
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        KindId::Node => (
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            &[
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        ),
        KindId::Namespace => (&["NAME", "STATUS", "AGE"], &[]),
        KindId::Service => (
            &[
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            &["SELECTOR"],
        ),
        KindId::Deployment => (
            &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        KindId::ReplicaSet => (
            &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        KindId::StatefulSet => (&["NAME", "READY", "AGE"], &["CONTAINERS", "IMAGES"]),
        KindId::DaemonSet => (
            &[
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        KindId::Job => (
            &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        KindId::CronJob => (
            &[
                "NAME",
                "SCHEDULE",
                "TIMEZONE",
                "SUSPEND",
                "ACTIVE",
                "LAST SCHEDULE",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        KindId::ConfigMap => (&["NAME", "DATA", "AGE"], &[]),
        KindId::Secret => (&["NAME", "TYPE", "DATA", "AGE"], &[]),
        KindId::ServiceAccount => (&["NAME", "SECRETS", "AGE"], &[]),
        KindId::Event | KindId::EventsEvent => {
            (&["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], &[])
        }
        KindId::EndpointSlice => (&["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], &[]),
        KindId::Lease => (&["NAME", "HOLDER", "AGE"], &[]),
        KindId::Role | KindId::ClusterRole => (&["NAME", "CREATED AT"], &[]),
        KindId::RoleBinding | KindId::ClusterRoleBinding => (
            &["NAME", "ROLE", "AGE"],
            &["USERS", "GROUPS", "SERVICEACCOUNTS"],
        ),
        KindId::PriorityClass => (
            &["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
            &[],
        ),
        KindId::SubjectAccessReview | KindId::TokenRequest => (&["NAME", "AGE"], &[]),
        KindId::CertificateSigningRequest => (
            &[
                "NAME",
                "AGE",
                "SIGNERNAME",
                "REQUESTOR",
                "REQUESTEDDURATION",
                "CONDITION",
            ],
            &[],
        ),
        KindId::ControllerRevision => (&["NAME", "CONTROLLER", "REVISION", "AGE"], &[]),
        KindId::PodDisruptionBudget => (
            &[
                "NAME",
                "MIN AVAILABLE",
                "MAX UNAVAILABLE",
                "ALLOWED DISRUPTIONS",
                "AGE",
            ],
            &[],
        ),
    };
    let mut cols = base.to_vec();
    if wide {
        cols.extend_from_slice(extra);
    }
    cols
}

/// kubectl's pod status and readiness (`printPod`): (ready, status,
/// restarts).
fn pod_cells(v: &Value, now: SimTime) -> (String, String, String) {
    let mut reason = text(v, "/status/phase");
    let status_reason = text(v, "/status/reason");
    if !status_reason.is_empty() {
        reason = status_reason.clone();
    }
    let conditions = items(v, "/status/conditions");
    let cond_true = |ty: &str| {
        conditions
            .iter()
            .any(|c| text(c, "/type") == ty && text(c, "/status") == "True")
    };
    if let Some(c) = conditions
        .iter()
        .find(|c| text(c, "/type") == "PodScheduled")
    {
        if text(c, "/status") == "False" && text(c, "/reason") == "SchedulingGated" {
            reason = "SchedulingGated".into();
        }
    }
    let total = items(v, "/spec/containers").len();
    let init_total = items(v, "/spec/initContainers").len();
    let mut restarts = 0;
    let mut ready = 0;
    let mut last_restart: Option<Time> = None;
    let mut note_restart = |c: &Value| {
        if let Some(t) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(|t| serde_json::from_value::<Time>(t.clone()).ok())
        {
            if last_restart.as_ref().is_none_or(|l| t > *l) {
                last_restart = Some(t);
            }
        }
    };
    let mut initializing = false;
    for (i, c) in items(v, "/status/initContainerStatuses").iter().enumerate() {
        restarts += int(c, "/restartCount");
        note_restart(c);
        if c.pointer("/state/terminated").is_some() && int(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if let Some(t) = c.pointer("/state/terminated") {
            let r = text(t, "/reason");
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if int(t, "/signal") != 0 {
                format!("Init:Signal:{}", int(t, "/signal"))
            } else {
                format!("Init:ExitCode:{}", int(t, "/exitCode"))
            };
        } else {
            let waiting = text(c, "/state/waiting/reason");
            if !waiting.is_empty() && waiting != "PodInitializing" {
                reason = format!("Init:{waiting}");
            } else {
                reason = format!("Init:{i}/{init_total}");
            }
        }
        initializing = true;
        break;
    }
    if !initializing || cond_true("Initialized") {
        restarts = 0;
        let mut has_running = false;
        for c in items(v, "/status/containerStatuses").iter().rev() {
            restarts += int(c, "/restartCount");
            note_restart(c);
            let waiting = text(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated");
            if !waiting.is_empty() {
                reason = waiting;
            } else if let Some(t) = terminated {
                let r = text(t, "/reason");
                reason = if !r.is_empty() {
                    r
                } else if int(t, "/signal") != 0 {
                    format!("Signal:{}", int(t, "/signal"))
                } else {
                    format!("ExitCode:{}", int(t, "/exitCode"))
                };
            } else if c.get("ready") == Some(&Value::Bool(true))
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if cond_true("Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .into();
        }
    }
    if v.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if status_reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts = match last_restart {
        Some(t) if restarts > 0 => format!("{restarts} ({} ago)", age(Some(&t), now)),
        _ => restarts.to_string(),
    };
    (format!("{ready}/{total}"), reason, restarts)
}

fn node_status(v: &Value) -> String {
    let ready = items(v, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == "Ready")
        .map(|c| text(c, "/status"));
    let mut s = match ready.as_deref() {
        Some("True") => "Ready".to_string(),
        Some("False") => "NotReady".to_string(),
        _ => "Unknown".to_string(),
    };
    if v.pointer("/spec/unschedulable") == Some(&Value::Bool(true)) {
        s.push_str(",SchedulingDisabled");
    }
    s
}

fn node_roles(v: &Value) -> String {
    let mut roles: Vec<String> = match v.pointer("/metadata/labels") {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, val)| {
                if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                    Some(r.to_string())
                } else if k == "kubernetes.io/role" {
                    val.as_str().map(str::to_string)
                } else {
                    None
                }
            })
            .filter(|r| !r.is_empty())
            .collect(),
        _ => vec![],
    };
    roles.sort();
    roles.dedup();
    or_none(roles.join(","))
}

fn node_address(v: &Value, ty: &str) -> String {
    or_none(
        items(v, "/status/addresses")
            .iter()
            .find(|a| text(a, "/type") == ty)
            .map(|a| text(a, "/address"))
            .unwrap_or_default(),
    )
}

fn service_cells(v: &Value) -> (String, String, String, String) {
    let ty = text(v, "/spec/type");
    let ty = if ty.is_empty() {
        "ClusterIP".to_string()
    } else {
        ty
    };
    let cluster_ip = or_none(text(v, "/spec/clusterIP"));
    let mut external: Vec<String> = items(v, "/spec/externalIPs")
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect();
    let external = match ty.as_str() {
        "LoadBalancer" => {
            for i in items(v, "/status/loadBalancer/ingress") {
                let ip = text(i, "/ip");
                external.push(if ip.is_empty() {
                    text(i, "/hostname")
                } else {
                    ip
                });
            }
            if external.is_empty() {
                "<pending>".to_string()
            } else {
                external.join(",")
            }
        }
        "ExternalName" => text(v, "/spec/externalName"),
        _ => or_none(external.join(",")),
    };
    let ports: Vec<String> = items(v, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = text(p, "/protocol");
            let proto = if proto.is_empty() {
                "TCP".into()
            } else {
                proto
            };
            match int(p, "/nodePort") {
                0 => format!("{}/{proto}", int(p, "/port")),
                np => format!("{}:{np}/{proto}", int(p, "/port")),
            }
        })
        .collect();
    (ty, cluster_ip, external, or_none(ports.join(",")))
}

fn job_cells(v: &Value, now: SimTime) -> (String, String, String) {
    let conds = items(v, "/status/conditions");
    let has = |ty: &str| {
        conds
            .iter()
            .any(|c| text(c, "/type") == ty && text(c, "/status") == "True")
    };
    let status = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if v.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        "SuccessCriteriaMet"
    } else if has("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    let completions = match v.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(c) => format!("{}/{c}", int(v, "/status/succeeded")),
        None => {
            let p = int(v, "/spec/parallelism");
            if p > 1 {
                format!("{}/1 of {p}", int(v, "/status/succeeded"))
            } else {
                format!("{}/1", int(v, "/status/succeeded"))
            }
        }
    };
    let time_at = |p: &str| {
        v.pointer(p)
            .and_then(|t| serde_json::from_value::<Time>(t.clone()).ok())
            .map(|t| to_sim_time(&t))
    };
    let duration = match (
        time_at("/status/startTime"),
        time_at("/status/completionTime"),
    ) {
        (Some(s), Some(c)) => human_duration(c.saturating_since(s)),
        (Some(s), None) => human_duration(now.saturating_since(s)),
        _ => String::new(),
    };
    (status.to_string(), completions, duration)
}

/// kubectl's `printEvent` (`pkg/printers/internalversion/printers.go`):
/// the row of a core Event, or of an events.k8s.io Event read through its
/// deprecated core fields.
fn event_cells(v: &Value, now: SimTime, core_event: bool, wide: bool) -> Vec<String> {
    let (first, last, obj, message, source) = if core_event {
        (
            "/firstTimestamp",
            "/lastTimestamp",
            "/involvedObject",
            "/message",
            "/source",
        )
    } else {
        (
            "/deprecatedFirstTimestamp",
            "/deprecatedLastTimestamp",
            "/regarding",
            "/note",
            "/deprecatedSource",
        )
    };
    let set = |p: &str| v.pointer(p).is_some_and(|x| !x.is_null());
    let since = |p: &str| {
        if set(p) {
            age_of(v, p, now)
        } else {
            "<unknown>".into()
        }
    };
    // No firstTimestamp (the events.k8s.io API): the eventTime; no
    // lastTimestamp: the first; a series: its last observation and count.
    let first_seen = if set(first) {
        since(first)
    } else {
        since("/eventTime")
    };
    let mut last_seen = if set(last) {
        since(last)
    } else {
        first_seen.clone()
    };
    let count_field = if core_event {
        "/count"
    } else {
        "/deprecatedCount"
    };
    let mut count = v.pointer(count_field).and_then(Value::as_i64).unwrap_or(0);
    if set("/series") {
        last_seen = since("/series/lastObservedTime");
        count = v
            .pointer("/series/count")
            .and_then(Value::as_i64)
            .unwrap_or(0);
    } else if count == 0 {
        // Singleton events have no count in the new API.
        count = 1;
    }
    let kind = text(v, &format!("{obj}/kind")).to_ascii_lowercase();
    let name = text(v, &format!("{obj}/name"));
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let message = text(v, message).trim().to_string();
    if !wide {
        return vec![
            last_seen,
            text(v, "/type"),
            text(v, "/reason"),
            target,
            message,
        ];
    }
    // `formatEventSource`: the component (or reporting controller), then
    // the host (or reporting instance) after a comma when there is one.
    let first_non_empty = |a: String, b: String| if a.is_empty() { b } else { a };
    let component = first_non_empty(
        text(v, &format!("{source}/component")),
        text(
            v,
            if core_event {
                "/reportingComponent"
            } else {
                "/reportingController"
            },
        ),
    );
    let host = first_non_empty(
        text(v, &format!("{source}/host")),
        text(v, "/reportingInstance"),
    );
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        last_seen,
        text(v, "/type"),
        text(v, "/reason"),
        target,
        text(v, &format!("{obj}/fieldPath")),
        source,
        message,
        first_seen,
        count.to_string(),
        text(v, "/metadata/name"),
    ]
}

/// The cells of one object's row, in [`columns`] order, without the
/// namespace.
fn row(obj: &Object, v: &Value, opts: &TableOptions) -> Vec<String> {
    let now = opts.now;
    let name = if opts.show_kind {
        format!("{}/{}", obj.kind().singular(), obj.name())
    } else {
        obj.name().to_string()
    };
    let created = age(obj.creation_timestamp(), now);
    let wide = opts.wide;
    let mut cells: Vec<String> = match obj.kind_id() {
        KindId::Pod => {
            let (ready, status, restarts) = pod_cells(v, now);
            let mut c = vec![name, ready, status, restarts, created];
            if wide {
                let gates = items(v, "/spec/readinessGates");
                let gates = if gates.is_empty() {
                    "<none>".to_string()
                } else {
                    let conds = items(v, "/status/conditions");
                    let ok = gates
                        .iter()
                        .filter(|g| {
                            conds.iter().any(|c| {
                                text(c, "/type") == text(g, "/conditionType")
                                    && text(c, "/status") == "True"
                            })
                        })
                        .count();
                    format!("{ok}/{}", gates.len())
                };
                c.extend([
                    or_none(text(v, "/status/podIP")),
                    or_none(text(v, "/spec/nodeName")),
                    or_none(text(v, "/status/nominatedNodeName")),
                    gates,
                ]);
            }
            c
        }
        KindId::Node => {
            let mut c = vec![
                name,
                node_status(v),
                node_roles(v),
                created,
                text(v, "/status/nodeInfo/kubeletVersion"),
            ];
            if wide {
                c.extend([
                    node_address(v, "InternalIP"),
                    node_address(v, "ExternalIP"),
                    or_none(text(v, "/status/nodeInfo/osImage")),
                    or_none(text(v, "/status/nodeInfo/kernelVersion")),
                    or_none(text(v, "/status/nodeInfo/containerRuntimeVersion")),
                ]);
            }
            c
        }
        KindId::Namespace => vec![name, text(v, "/status/phase"), created],
        KindId::Service => {
            let (ty, ip, ext, ports) = service_cells(v);
            let mut c = vec![name, ty, ip, ext, ports, created];
            if wide {
                c.push(label_string(v.pointer("/spec/selector")));
            }
            c
        }
        KindId::Deployment => {
            let mut c = vec![
                name,
                format!(
                    "{}/{}",
                    int(v, "/status/readyReplicas"),
                    int(v, "/spec/replicas")
                ),
                int(v, "/status/updatedReplicas").to_string(),
                int(v, "/status/availableReplicas").to_string(),
                created,
            ];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/template/spec");
                c.extend([cs, is, selector_string(v.pointer("/spec/selector"))]);
            }
            c
        }
        KindId::ReplicaSet => {
            let mut c = vec![
                name,
                int(v, "/spec/replicas").to_string(),
                int(v, "/status/replicas").to_string(),
                int(v, "/status/readyReplicas").to_string(),
                created,
            ];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/template/spec");
                c.extend([cs, is, selector_string(v.pointer("/spec/selector"))]);
            }
            c
        }
        KindId::StatefulSet => {
            let mut c = vec![
                name,
                format!(
                    "{}/{}",
                    int(v, "/status/readyReplicas"),
                    int(v, "/spec/replicas")
                ),
                created,
            ];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/template/spec");
                c.extend([cs, is]);
            }
            c
        }
        KindId::DaemonSet => {
            let mut c = vec![
                name,
                int(v, "/status/desiredNumberScheduled").to_string(),
                int(v, "/status/currentNumberScheduled").to_string(),
                int(v, "/status/numberReady").to_string(),
                int(v, "/status/updatedNumberScheduled").to_string(),
                int(v, "/status/numberAvailable").to_string(),
                label_string(v.pointer("/spec/template/spec/nodeSelector")),
                created,
            ];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/template/spec");
                c.extend([cs, is, selector_string(v.pointer("/spec/selector"))]);
            }
            c
        }
        KindId::Job => {
            let (status, completions, duration) = job_cells(v, now);
            let mut c = vec![name, status, completions, duration, created];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/template/spec");
                c.extend([cs, is, selector_string(v.pointer("/spec/selector"))]);
            }
            c
        }
        KindId::CronJob => {
            let suspend = v.pointer("/spec/suspend") == Some(&Value::Bool(true));
            let mut c = vec![
                name,
                text(v, "/spec/schedule"),
                or_none(text(v, "/spec/timeZone")),
                if suspend { "True" } else { "False" }.into(),
                items(v, "/status/active").len().to_string(),
                age_of(v, "/status/lastScheduleTime", now),
                created,
            ];
            if wide {
                let (cs, is) = containers_and_images(v, "/spec/jobTemplate/spec/template/spec");
                c.extend([
                    cs,
                    is,
                    selector_string(v.pointer("/spec/jobTemplate/spec/selector")),
                ]);
            }
            c
        }
        KindId::ConfigMap => {
            let n = ["/data", "/binaryData"]
                .iter()
                .filter_map(|p| v.pointer(p).and_then(Value::as_object))
                .map(|m| m.len())
                .sum::<usize>();
            vec![name, n.to_string(), created]
        }
        KindId::Secret => {
            let n = v
                .pointer("/data")
                .and_then(Value::as_object)
                .map_or(0, |m| m.len());
            vec![name, text(v, "/type"), n.to_string(), created]
        }
        KindId::ServiceAccount => {
            vec![name, items(v, "/secrets").len().to_string(), created]
        }
        KindId::Event => event_cells(v, now, true, wide),
        KindId::EventsEvent => event_cells(v, now, false, wide),
        KindId::EndpointSlice => {
            let ports: Vec<String> = items(v, "/ports")
                .iter()
                .map(|p| int(p, "/port").to_string())
                .collect();
            let addrs: Vec<String> = items(v, "/endpoints")
                .iter()
                .flat_map(|e| items(e, "/addresses").iter().filter_map(Value::as_str))
                .map(str::to_string)
                .collect();
            let shown = if addrs.len() > 3 {
                format!("{} + {} more...", addrs[..3].join(","), addrs.len() - 3)
            } else {
                addrs.join(",")
            };
            vec![
                name,
                text(v, "/addressType"),
                if ports.is_empty() {
                    "<unset>".into()
                } else {
                    ports.join(",")
                },
                if shown.is_empty() {
                    "<unset>".into()
                } else {
                    shown
                },
                created,
            ]
        }
        KindId::Lease => vec![name, text(v, "/spec/holderIdentity"), created],
        KindId::Role | KindId::ClusterRole => vec![name, text(v, "/metadata/creationTimestamp")],
        KindId::RoleBinding | KindId::ClusterRoleBinding => {
            let mut c = vec![
                name,
                format!("{}/{}", text(v, "/roleRef/kind"), text(v, "/roleRef/name")),
                created,
            ];
            if wide {
                let subjects = items(v, "/subjects");
                let of = |kind: &str| {
                    subjects
                        .iter()
                        .filter(|s| text(s, "/kind") == kind)
                        .map(|s| {
                            if kind == "ServiceAccount" {
                                format!("{}/{}", text(s, "/namespace"), text(s, "/name"))
                            } else {
                                text(s, "/name")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                c.extend([of("User"), of("Group"), of("ServiceAccount")]);
            }
            c
        }
        KindId::PriorityClass => vec![
            name,
            int(v, "/value").to_string(),
            (v.pointer("/globalDefault") == Some(&Value::Bool(true))).to_string(),
            created,
            text(v, "/preemptionPolicy"),
        ],
        KindId::SubjectAccessReview | KindId::TokenRequest => vec![name, created],
        KindId::CertificateSigningRequest => {
            // kubectl's `extractCSRStatus` (pkg/printers/internalversion/printers.go).
            let types: Vec<String> = items(v, "/status/conditions")
                .iter()
                .map(|c| text(c, "/type"))
                .collect();
            let has = |t: &str| types.iter().any(|x| x == t);
            let mut condition = if has("Denied") {
                "Denied".to_string()
            } else if has("Approved") {
                "Approved".to_string()
            } else {
                "Pending".to_string()
            };
            if has("Failed") {
                condition.push_str(",Failed");
            }
            if v.pointer("/status/certificate")
                .and_then(Value::as_str)
                .is_some_and(|c| !c.is_empty())
            {
                condition.push_str(",Issued");
            }
            let duration = match v.pointer("/spec/expirationSeconds").and_then(Value::as_u64) {
                Some(s) => human_duration(SimDuration::from_secs(s)),
                None => "<none>".into(),
            };
            vec![
                name,
                created,
                text(v, "/spec/signerName"),
                text(v, "/spec/username"),
                duration,
                condition,
            ]
        }
        KindId::ControllerRevision => {
            // `printControllerRevision`: the controller as `kind.group/name`.
            let controller = obj
                .controller_ref()
                .map(|r| {
                    let group = crate::api::object::split_api_version(&r.api_version).0;
                    let kind = r.kind.to_lowercase();
                    if group.is_empty() {
                        format!("{kind}/{}", r.name)
                    } else {
                        format!("{kind}.{group}/{}", r.name)
                    }
                })
                .unwrap_or_else(|| "<none>".into());
            vec![name, controller, int(v, "/revision").to_string(), created]
        }
        KindId::PodDisruptionBudget => {
            let n_a = |p: &str| match v.pointer(p) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => "N/A".into(),
            };
            vec![
                name,
                n_a("/spec/minAvailable"),
                n_a("/spec/maxUnavailable"),
                int(v, "/status/disruptionsAllowed").to_string(),
                created,
            ]
        }
    };
    if opts.with_namespace && obj.kind().namespaced {
        cells.insert(0, obj.namespace().unwrap_or("").to_string());
    }
    cells
}

/// Prints objects of one kind as `kubectl get` does. An empty slice prints
/// nothing (the caller says [`no_resources_found`]).
pub fn print_table(objects: &[&Object], opts: &TableOptions) -> String {
    print_labelled_table(objects, opts, &[], false)
}

/// [`print_table`] with `-L`'s columns (`label_keys`) and
/// `--show-labels`' `LABELS` column after kubectl's own, as cli-runtime's
/// `decorateTable` adds them.
pub fn print_labelled_table(
    objects: &[&Object],
    opts: &TableOptions,
    label_keys: &[String],
    show_labels: bool,
) -> String {
    let Some(first) = objects.first() else {
        return String::new();
    };
    let mut headers: Vec<String> = columns(first.kind_id(), opts.wide)
        .into_iter()
        .map(str::to_string)
        .collect();
    if opts.with_namespace && first.kind().namespaced {
        headers.insert(0, "NAMESPACE".into());
    }
    headers.extend(super::columns::label_headers(label_keys));
    if show_labels {
        headers.push("LABELS".into());
    }
    let mut rows = Vec::with_capacity(objects.len() + 1);
    if !opts.no_headers {
        rows.push(headers);
    }
    for obj in objects {
        let v = obj.to_value();
        let mut cells = row(obj, &v, opts);
        cells.extend(super::columns::label_values(obj.labels(), label_keys));
        if show_labels {
            cells.push(super::columns::format_labels(obj.labels()));
        }
        rows.push(cells);
    }
    tabwrite(&rows)
}

/// `text/tabwriter` as kubectl's `GetNewTabWriter` sets it up (padding 3,
/// minimum width 6): every column but the last is padded to its widest
/// cell plus three spaces, and to at least six characters.
pub fn tabwrite(rows: &[Vec<String>]) -> String {
    const TABWRITER_MIN_WIDTH: usize = 6;
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            if i + 1 < r.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < r.len() {
                let pad = (widths[i] + 3).max(TABWRITER_MIN_WIDTH) - cell.chars().count();
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode::decode;
    use crate::api::time::to_time;

    fn obj(yaml: &str, created: SimTime) -> Object {
        let mut o = decode(yaml, "STDIN")
            .unwrap_or_default()
            .pop()
            .unwrap_or_else(|| Object::from(crate::api::pod::Pod::default()));
        o.meta_mut().creation_timestamp = Some(to_time(created));
        o
    }

    #[test]
    fn an_event_row_falls_back_to_event_time_and_reads_its_series() {
        // `printEvent`: no firstTimestamp means the eventTime, no
        // lastTimestamp means the first; a series gives the last observation
        // and the count; the source is the reporting controller and
        // instance when `source` is empty.
        let t = |secs: u64| {
            serde_json::to_value(to_time(SimTime::from_millis(secs * 1000))).unwrap_or_default()
        };
        let v = serde_json::json!({
            "metadata": {"name": "web.1886725368fd6e3d"},
            "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
            "eventTime": t(10),
            "series": {"count": 4, "lastObservedTime": t(70)},
            "reportingComponent": "default-scheduler",
            "reportingInstance": "default-scheduler-control-plane-1",
            "type": "Warning",
            "reason": "FailedScheduling",
            "message": " 0/3 nodes are available \n",
        });
        let now = SimTime::from_millis(100_000);
        assert_eq!(
            event_cells(&v, now, true, false),
            [
                "30s",
                "Warning",
                "FailedScheduling",
                "pod/web",
                "0/3 nodes are available"
            ]
        );
        assert_eq!(
            event_cells(&v, now, true, true),
            [
                "30s",
                "Warning",
                "FailedScheduling",
                "pod/web",
                "spec.containers{app}",
                "default-scheduler, default-scheduler-control-plane-1",
                "0/3 nodes are available",
                "90s",
                "4",
                "web.1886725368fd6e3d"
            ]
        );
        let singleton = serde_json::json!({
            "involvedObject": {"kind": "Node"},
            "firstTimestamp": t(40),
            "source": {"component": "kubelet"},
        });
        let cells = event_cells(&singleton, now, true, true);
        assert_eq!((cells[0].as_str(), cells[3].as_str()), ("60s", "node"));
        assert_eq!((cells[5].as_str(), cells[8].as_str()), ("kubelet", "1"));
        assert_eq!(
            event_cells(&serde_json::json!({}), now, true, false)[0],
            "<unknown>"
        );
    }

    #[test]
    fn ages_read_like_human_duration() {
        let s = |secs| human_duration(SimDuration::from_secs(secs));
        assert_eq!(s(5), "5s");
        assert_eq!(s(119), "119s");
        assert_eq!(s(123), "2m3s");
        assert_eq!(s(600), "10m");
        assert_eq!(s(3 * 3600), "3h");
        assert_eq!(s(5 * 3600 + 30 * 60), "5h30m");
        assert_eq!(s(47 * 3600), "47h");
        assert_eq!(s(2 * 86400), "2d");
        assert_eq!(s(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(s(400 * 86400), "400d");
        assert_eq!(s(3 * 365 * 86400 + 86400), "3y1d");
        assert_eq!(age(None, SimTime::ZERO), "<unknown>");
    }

    #[test]
    fn pods_print_ready_status_restarts_and_age() {
        let p = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: nginx\n  namespace: default\nspec:\n  containers:\n  - name: nginx\n    image: nginx\nstatus:\n  phase: Running\n  podIP: 10.244.1.5\n  containerStatuses:\n  - name: nginx\n    ready: true\n    restartCount: 0\n    image: nginx\n    imageID: ''\n    state:\n      running: {}\n", SimTime::ZERO);
        let pending = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: dev\nspec:\n  containers:\n  - name: c\n    image: x\nstatus:\n  phase: Pending\n  containerStatuses:\n  - name: c\n    ready: false\n    restartCount: 0\n    image: x\n    imageID: ''\n    state:\n      waiting:\n        reason: ContainerCreating\n", SimTime(60_000));
        let now = SimTime(65_000);
        let opts = TableOptions {
            now,
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&p, &pending], &opts),
            "NAME    READY   STATUS              RESTARTS   AGE\nnginx   1/1     Running             0          65s\nweb-1   0/1     ContainerCreating   0          5s\n"
        );
        let opts = TableOptions {
            now,
            wide: true,
            with_namespace: true,
            ..Default::default()
        };
        let out = print_table(&[&p], &opts);
        assert_eq!(
            out,
            "NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES\ndefault     nginx   1/1     Running   0          65s   10.244.1.5   <none>   <none>           <none>\n"
        );
    }

    #[test]
    fn a_crashing_container_shows_its_waiting_reason_and_last_restart() {
        let p = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: crash\nspec:\n  containers:\n  - name: c\n    image: x\nstatus:\n  phase: Running\n  containerStatuses:\n  - name: c\n    ready: false\n    restartCount: 4\n    image: x\n    imageID: ''\n    state:\n      waiting:\n        reason: CrashLoopBackOff\n    lastState:\n      terminated:\n        exitCode: 1\n        finishedAt: \"2026-01-01T00:02:00Z\"\n", SimTime::ZERO);
        let opts = TableOptions {
            now: SimTime(150_000),
            no_headers: true,
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&p], &opts),
            "crash   0/1   CrashLoopBackOff   4 (30s ago)   2m30s\n"
        );
    }

    #[test]
    fn deployments_services_and_nodes_print_kubectls_columns() {
        let d = obj("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx-deployment\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: nginx}\n  template:\n    metadata:\n      labels: {app: nginx}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.14.2\nstatus:\n  readyReplicas: 2\n  updatedReplicas: 3\n  availableReplicas: 2\n", SimTime::ZERO);
        let opts = TableOptions {
            now: SimTime(600_000),
            wide: true,
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&d], &opts),
            "NAME               READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES         SELECTOR\nnginx-deployment   2/3     3            2           10m   nginx        nginx:1.14.2   app=nginx\n"
        );
        let s = obj("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  clusterIP: 10.96.0.10\n  selector: {app: web}\n  ports:\n  - port: 80\n    nodePort: 30080\n    protocol: TCP\n  - port: 53\n    protocol: UDP\n", SimTime::ZERO);
        let opts = TableOptions {
            now: SimTime(3_000),
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&s], &opts),
            "NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)               AGE\nweb    NodePort   10.96.0.10   <none>        80:30080/TCP,53/UDP   3s\n"
        );
        let n = obj("apiVersion: v1\nkind: Node\nmetadata:\n  name: control-plane-1\n  labels:\n    node-role.kubernetes.io/control-plane: \"\"\nspec:\n  unschedulable: true\nstatus:\n  conditions:\n  - type: Ready\n    status: \"True\"\n  nodeInfo:\n    kubeletVersion: v1.37.0\n    architecture: amd64\n    bootID: ''\n    containerRuntimeVersion: containerd://2.0.0\n    kernelVersion: ''\n    kubeProxyVersion: ''\n    machineID: ''\n    operatingSystem: linux\n    osImage: ''\n    systemUUID: ''\n", SimTime::ZERO);
        let opts = TableOptions {
            now: SimTime(3_600_000 * 50),
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&n], &opts),
            "NAME              STATUS                     ROLES           AGE    VERSION\ncontrol-plane-1   Ready,SchedulingDisabled   control-plane   2d2h   v1.37.0\n"
        );
    }

    #[test]
    fn jobs_show_status_completions_and_duration() {
        let j = obj("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  completions: 1\n  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl\n      restartPolicy: Never\nstatus:\n  succeeded: 1\n  startTime: \"2026-01-01T00:00:01Z\"\n  completionTime: \"2026-01-01T00:00:31Z\"\n  conditions:\n  - type: Complete\n    status: \"True\"\n", SimTime::ZERO);
        let opts = TableOptions {
            now: SimTime(60_000),
            ..Default::default()
        };
        assert_eq!(
            print_table(&[&j], &opts),
            "NAME   STATUS     COMPLETIONS   DURATION   AGE\npi     Complete   1/1           30s        60s\n"
        );
    }

    #[test]
    fn nothing_found_names_the_namespace() {
        assert_eq!(
            no_resources_found(Some("default")),
            "No resources found in default namespace."
        );
        assert_eq!(no_resources_found(None), "No resources found");
        assert_eq!(print_table(&[], &TableOptions::default()), "");
    }
}
