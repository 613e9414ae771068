//! Validation: what kube-apiserver checks before it stores an object, with
//! the field paths and words of its 422 `Invalid` errors.
//!
//! Ported from apimachinery's `util/validation` (`IsDNS1123Label`,
//! `IsDNS1123Subdomain`, `IsDNS1035Label`, `IsQualifiedName`,
//! `IsValidLabelValue`, `IsValidPortName`, `IsConfigMapKey`),
//! `api/validation.ValidateObjectMeta`, and `pkg/apis/*/validation`
//! (`ValidatePodSpec`, `validateContainers`, `validateProbe`,
//! `ValidateResourceRequirements`, `ValidatePodUpdate`,
//! `ValidateDeploymentSpec`, `ValidateJobSpec`, `ValidateService`,
//! `ValidateRoleBinding`, ...). Each kind's own name rule applies
//! (Namespaces and StatefulSets are DNS-1123 labels, Services DNS-1035
//! labels, RBAC objects path segments, the rest DNS-1123 subdomains).
//!
//! Left out: volume source details, security contexts, affinity terms,
//! topology spread constraints, ephemeral containers, resize policies,
//! CIDRs, dual-stack Services, IP-family checks, and the full diff that
//! kube-apiserver appends to a forbidden Pod update.

use super::field::{go_quote, go_string_map, BadValue, FieldError};
use super::object::{Kind, Object};
use super::quantity::{Quantity, QUANTITY_ERROR};
use super::status::ApiError;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::{BTreeMap, BTreeSet};

type Errors = Vec<FieldError>;

// ---- apimachinery/pkg/util/validation ----------------------------------

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const IMMUTABLE: &str = "field is immutable";

fn max_len_msg(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `IsDNS1123Label`: the messages for a bad value, empty when valid.
pub fn is_dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_msg(63));
    }
    if !is_label_shape(s) {
        errs.push(DNS1123_LABEL_MSG.into());
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len_msg(253));
    }
    if !s.split('.').all(is_label_shape) {
        errs.push(DNS1123_SUBDOMAIN_MSG.into());
    }
    errs
}

/// `IsDNS1035Label` (Service names).
pub fn is_dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_msg(63));
    }
    if !is_label_shape(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(DNS1035_LABEL_MSG.into());
    }
    errs
}

/// `ValidatePathSegmentName` (RBAC names).
pub fn is_path_segment_name(s: &str) -> Vec<String> {
    if s == "." || s == ".." {
        return vec![format!("may not be '{s}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|bad| s.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

fn is_qualified_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// `IsQualifiedName`: label and annotation keys, `prefix/name`.
pub fn is_qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    is_dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            name
        }
        _ => {
            return vec![format!("a qualified name {QUALIFIED_NAME_MSG} (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_msg(63)));
    }
    if !is_qualified_part(name) {
        errs.push(format!("name part {QUALIFIED_NAME_MSG} (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn is_valid_label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_msg(63));
    }
    if !s.is_empty() && !is_qualified_part(s) {
        errs.push(LABEL_VALUE_MSG.into());
    }
    errs
}

/// `IsValidPortName` (IANA_SVC_NAME).
pub fn is_valid_port_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.is_empty() || s.len() > 15 {
        errs.push("must be no more than 15 characters".into());
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !s.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

fn port_range(path: &str, port: i32) -> Errors {
    if (1..=65535).contains(&port) {
        vec![]
    } else {
        vec![FieldError::invalid(
            path,
            port,
            "must be between 1 and 65535, inclusive",
        )]
    }
}

fn non_negative(path: &str, v: Option<i64>) -> Errors {
    match v {
        Some(n) if n < 0 => vec![FieldError::invalid(
            path,
            n,
            "must be greater than or equal to 0",
        )],
        _ => vec![],
    }
}

fn supported(path: &str, v: Option<&str>, values: &[&str]) -> Errors {
    match v {
        Some(s) if !values.contains(&s) => vec![FieldError::not_supported(path, s, values)],
        _ => vec![],
    }
}

fn msgs(path: &str, value: &str, messages: Vec<String>) -> Errors {
    messages
        .into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

// ---- ObjectMeta -----------------------------------------------------------

type NameFn = fn(&str) -> Vec<String>;

/// The name rule of a kind.
fn name_rule(obj: &Object) -> NameFn {
    match obj {
        Object::Namespace(_) | Object::StatefulSet(_) => is_dns1123_label,
        Object::Service(_) => is_dns1035_label,
        Object::Role(_)
        | Object::ClusterRole(_)
        | Object::RoleBinding(_)
        | Object::ClusterRoleBinding(_) => is_path_segment_name,
        _ => is_dns1123_subdomain,
    }
}

fn mask_trailing_dash(s: &str) -> String {
    match s.strip_suffix('-') {
        Some(rest) if rest.len() > 1 => format!("{rest}a"),
        _ => s.to_string(),
    }
}

/// `ValidateObjectMeta`.
fn validate_meta(meta: &ObjectMeta, kind: &Kind, name_fn: NameFn) -> Errors {
    let mut errs = Vec::new();
    let name = meta.name.as_deref().unwrap_or("");
    let generate = meta.generate_name.as_deref().unwrap_or("");
    if !generate.is_empty() {
        errs.extend(msgs(
            "metadata.generateName",
            generate,
            name_fn(&mask_trailing_dash(generate)),
        ));
    }
    if name.is_empty() {
        if generate.is_empty() {
            errs.push(FieldError::required(
                "metadata.name",
                "name or generateName is required",
            ));
        }
    } else {
        errs.extend(msgs("metadata.name", name, name_fn(name)));
    }
    let ns = meta.namespace.as_deref().unwrap_or("");
    if kind.namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            errs.extend(msgs("metadata.namespace", ns, is_dns1123_label(ns)));
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    if let Some(labels) = &meta.labels {
        errs.extend(validate_labels(labels, "metadata.labels"));
    }
    if let Some(ann) = &meta.annotations {
        let mut size = 0;
        for (k, v) in ann {
            errs.extend(msgs(
                "metadata.annotations",
                k,
                is_qualified_name(&k.to_ascii_lowercase()),
            ));
            size += k.len() + v.len();
        }
        if size > 262_144 {
            errs.push(FieldError::too_long("metadata.annotations", 262_144));
        }
    }
    for (i, r) in meta.owner_references.iter().flatten().enumerate() {
        let p = format!("metadata.ownerReferences[{i}]");
        if r.api_version.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.apiVersion"),
                "",
                "version must not be empty",
            ));
        }
        if r.kind.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.kind"),
                "",
                "kind must not be empty",
            ));
        }
        if r.name.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.name"),
                "",
                "name must not be empty",
            ));
        }
        if r.uid.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.uid"),
                "",
                "uid must not be empty",
            ));
        }
    }
    let controllers = meta
        .owner_references
        .iter()
        .flatten()
        .filter(|r| r.controller == Some(true))
        .count();
    if controllers > 1 {
        errs.push(FieldError::invalid(
            "metadata.ownerReferences",
            BadValue::Go("[]v1.OwnerReference{...}".into()),
            "Only one reference can have Controller set to true",
        ));
    }
    for f in meta.finalizers.iter().flatten() {
        errs.extend(msgs("metadata.finalizers", f, is_qualified_name(f)));
        if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f.as_str())
        {
            errs.push(FieldError::invalid(
                "metadata.finalizers",
                f.as_str(),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}

/// `ValidateLabels`: keys are qualified names, values label values.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels {
        errs.extend(msgs(path, k, is_qualified_name(k)));
        errs.extend(msgs(path, v, is_valid_label_value(v)));
    }
    errs
}

fn validate_selector(sel: &LabelSelector, path: &str) -> Errors {
    let mut errs = Vec::new();
    if let Some(ml) = &sel.match_labels {
        errs.extend(validate_labels(ml, &format!("{path}.matchLabels")));
    }
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let values = e.values.as_deref().unwrap_or(&[]);
        match e.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.push(FieldError::required(
                format!("{p}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.push(FieldError::forbidden(
                format!("{p}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => errs.push(FieldError::invalid(
                format!("{p}.operator"),
                other,
                "not a valid selector operator",
            )),
        }
        errs.extend(msgs(&format!("{p}.key"), &e.key, is_qualified_name(&e.key)));
    }
    errs
}

/// Does a label selector select these labels (`metav1.LabelSelectorAsSelector`)?
pub fn selector_matches(sel: &LabelSelector, labels: crate::api::labels::LabelsRef<'_>) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or(&[]);
        let got = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => got.is_some_and(|v| values.contains(v)),
            "NotIn" => got.is_none_or(|v| !values.contains(v)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

fn selector_is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
        && sel.match_expressions.as_ref().is_none_or(Vec::is_empty)
}

/// Go's `%#v` of a `v1.LabelSelector`, as immutable-selector errors print it.
fn go_selector(sel: &LabelSelector) -> BadValue {
    let ml = match &sel.match_labels {
        Some(m) => go_string_map(m),
        None => "map[string]string(nil)".into(),
    };
    let me = match &sel.match_expressions {
        Some(v) if !v.is_empty() => {
            format!("[]v1.LabelSelectorRequirement{{...{} items}}", v.len())
        }
        _ => "[]v1.LabelSelectorRequirement(nil)".into(),
    };
    BadValue::Go(format!(
        "v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}"
    ))
}

// ---- Pods -------------------------------------------------------------------

fn validate_resources(r: &super::pod::ResourceRequirements, path: &str) -> Errors {
    let mut errs = Vec::new();
    let mut parsed: [BTreeMap<&str, Quantity>; 2] = [BTreeMap::new(), BTreeMap::new()];
    for (i, (which, map)) in [("limits", &r.limits), ("requests", &r.requests)]
        .into_iter()
        .enumerate()
    {
        for (name, q) in map.iter().flatten() {
            let p = format!("{path}.{which}[{name}]");
            errs.extend(msgs(&p, name, is_qualified_name(name)));
            match Quantity::parse(&q.0) {
                Ok(v) if v.milli_value() < 0 => errs.push(FieldError::invalid(
                    &p,
                    q.0.as_str(),
                    "must be greater than or equal to 0",
                )),
                Ok(v) => {
                    parsed[i].insert(name, v);
                }
                Err(_) => errs.push(FieldError::invalid(&p, q.0.as_str(), QUANTITY_ERROR)),
            }
        }
    }
    let [limits, requests] = &parsed;
    for (name, req) in requests {
        if let Some(lim) = limits.get(name) {
            if req > lim {
                let text = r
                    .requests
                    .as_ref()
                    .and_then(|m| m.get(name))
                    .map(|q| q.0.clone())
                    .unwrap_or_default();
                let lim_text = r
                    .limits
                    .as_ref()
                    .and_then(|m| m.get(name))
                    .map(|q| q.0.clone())
                    .unwrap_or_default();
                errs.push(FieldError::invalid(
                    format!("{path}.requests"),
                    text,
                    format!("must be less than or equal to {name} limit of {lim_text}"),
                ));
            }
        }
    }
    errs
}

fn validate_port_ref(path: &str, port: &IntOrString) -> Errors {
    match port {
        IntOrString::Int(n) => port_range(path, *n),
        IntOrString::String(s) => msgs(path, s, is_valid_port_name(s)),
    }
}

fn validate_probe(p: &core::Probe, path: &str, must_succeed_once: bool) -> Errors {
    let mut errs = Vec::new();
    let handlers = [
        p.exec.is_some(),
        p.http_get.is_some(),
        p.tcp_socket.is_some(),
        p.grpc.is_some(),
    ]
    .iter()
    .filter(|h| **h)
    .count();
    match handlers {
        0 => errs.push(FieldError::required(path, "must specify a handler type")),
        1 => {}
        _ => errs.push(FieldError::forbidden(
            path,
            "may not specify more than 1 handler type",
        )),
    }
    if let Some(h) = &p.http_get {
        errs.extend(validate_port_ref(&format!("{path}.httpGet.port"), &h.port));
        errs.extend(supported(
            &format!("{path}.httpGet.scheme"),
            h.scheme.as_deref(),
            &["HTTP", "HTTPS"],
        ));
    }
    if let Some(t) = &p.tcp_socket {
        errs.extend(validate_port_ref(
            &format!("{path}.tcpSocket.port"),
            &t.port,
        ));
    }
    if let Some(e) = &p.exec {
        if e.command.as_ref().is_none_or(Vec::is_empty) {
            errs.push(FieldError::required(format!("{path}.exec.command"), ""));
        }
    }
    for (name, v) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        errs.extend(non_negative(&format!("{path}.{name}"), v.map(i64::from)));
    }
    if must_succeed_once {
        if let Some(s) = p.success_threshold.filter(|s| *s != 1) {
            errs.push(FieldError::invalid(
                format!("{path}.successThreshold"),
                s,
                "must be 1",
            ));
        }
    }
    errs
}

fn validate_container(
    c: &super::pod::Container,
    path: &str,
    volumes: &BTreeSet<&str>,
    names: &mut BTreeSet<String>,
) -> Errors {
    let mut errs = Vec::new();
    if c.name.is_empty() {
        errs.push(FieldError::required(format!("{path}.name"), ""));
    } else {
        errs.extend(msgs(
            &format!("{path}.name"),
            &c.name,
            is_dns1123_label(&c.name),
        ));
        if !names.insert(c.name.clone()) {
            errs.push(FieldError::duplicate(
                format!("{path}.name"),
                c.name.as_str(),
            ));
        }
    }
    if c.image.as_deref().unwrap_or("").trim().is_empty() {
        errs.push(FieldError::required(format!("{path}.image"), ""));
    }
    errs.extend(supported(
        &format!("{path}.imagePullPolicy"),
        c.image_pull_policy.as_deref(),
        &["Always", "IfNotPresent", "Never"],
    ));
    errs.extend(supported(
        &format!("{path}.terminationMessagePolicy"),
        c.termination_message_policy.as_deref(),
        &["File", "FallbackToLogsOnError"],
    ));
    let mut port_names = BTreeSet::new();
    for (i, p) in c.ports.iter().flatten().enumerate() {
        let pp = format!("{path}.ports[{i}]");
        errs.extend(port_range(&format!("{pp}.containerPort"), p.container_port));
        if let Some(hp) = p.host_port.filter(|h| *h != 0) {
            errs.extend(port_range(&format!("{pp}.hostPort"), hp));
        }
        errs.extend(supported(
            &format!("{pp}.protocol"),
            p.protocol.as_deref(),
            &["SCTP", "TCP", "UDP"],
        ));
        if let Some(n) = p.name.as_deref().filter(|n| !n.is_empty()) {
            errs.extend(msgs(&format!("{pp}.name"), n, is_valid_port_name(n)));
            if !port_names.insert(n) {
                errs.push(FieldError::duplicate(format!("{pp}.name"), n));
            }
        }
    }
    for (i, e) in c.env.iter().flatten().enumerate() {
        let p = format!("{path}.env[{i}].name");
        if e.name.is_empty() {
            errs.push(FieldError::required(p, ""));
        } else if e.name.contains('=') || !e.name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            errs.push(FieldError::invalid(
                p,
                e.name.as_str(),
                "a valid environment variable name must consist only of printable ASCII characters other than '='",
            ));
        }
    }
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let p = format!("{path}.volumeMounts[{i}]");
        if m.name.is_empty() {
            errs.push(FieldError::required(format!("{p}.name"), ""));
        } else if !volumes.contains(m.name.as_str()) {
            errs.push(FieldError::not_found(format!("{p}.name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(format!("{p}.mountPath"), ""));
        }
    }
    if let Some(r) = &c.resources {
        errs.extend(validate_resources(r, &format!("{path}.resources")));
    }
    if let Some(p) = &c.liveness_probe {
        errs.extend(validate_probe(p, &format!("{path}.livenessProbe"), true));
    }
    if let Some(p) = &c.readiness_probe {
        errs.extend(validate_probe(p, &format!("{path}.readinessProbe"), false));
    }
    if let Some(p) = &c.startup_probe {
        errs.extend(validate_probe(p, &format!("{path}.startupProbe"), true));
    }
    errs
}

/// `ValidatePodSpec` at `path` (`spec`, or `spec.template.spec`).
pub fn validate_pod_spec(spec: &super::pod::PodSpec, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut volumes = BTreeSet::new();
    for (i, v) in spec.volumes.iter().flatten().enumerate() {
        let p = format!("{path}.volumes[{i}]");
        if v.name.is_empty() {
            errs.push(FieldError::required(format!("{p}.name"), ""));
        } else {
            errs.extend(msgs(
                &format!("{p}.name"),
                &v.name,
                is_dns1123_label(&v.name),
            ));
            if !volumes.insert(v.name.as_str()) {
                errs.push(FieldError::duplicate(format!("{p}.name"), v.name.as_str()));
            }
        }
        let value = serde_json::to_value(v).unwrap_or_default();
        if value.as_object().is_some_and(|m| m.len() < 2) {
            errs.push(FieldError::required(p, "must specify a volume type"));
        }
    }
    let mut names = BTreeSet::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        errs.extend(validate_container(
            c,
            &format!("{path}.initContainers[{i}]"),
            &volumes,
            &mut names,
        ));
    }
    if spec.containers.is_empty() {
        errs.push(FieldError::required(format!("{path}.containers"), ""));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        errs.extend(validate_container(
            c,
            &format!("{path}.containers[{i}]"),
            &volumes,
            &mut names,
        ));
    }
    errs.extend(supported(
        &format!("{path}.restartPolicy"),
        spec.restart_policy.as_deref(),
        &["Always", "OnFailure", "Never"],
    ));
    errs.extend(supported(
        &format!("{path}.dnsPolicy"),
        spec.dns_policy.as_deref(),
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ));
    if let Some(a) = spec.active_deadline_seconds {
        if !(1..=i64::from(i32::MAX)).contains(&a) {
            errs.push(FieldError::invalid(
                format!("{path}.activeDeadlineSeconds"),
                a,
                "must be between 1 and 2147483647, inclusive",
            ));
        }
    }
    if let Some(ns) = &spec.node_selector {
        errs.extend(validate_labels(ns, &format!("{path}.nodeSelector")));
    }
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        errs.extend(msgs(
            &format!("{path}.serviceAccountName"),
            sa,
            is_dns1123_subdomain(sa),
        ));
    }
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        let p = format!("{path}.tolerations[{i}]");
        if let Some(k) = t.key.as_deref().filter(|k| !k.is_empty()) {
            errs.extend(msgs(&format!("{p}.key"), k, is_qualified_name(k)));
        }
        match t.operator.as_deref() {
            Some("Exists") if t.value.as_deref().is_some_and(|v| !v.is_empty()) => {
                errs.push(FieldError::invalid(
                    format!("{p}.operator"),
                    "Exists",
                    "value must be empty when `operator` is 'Exists'",
                ))
            }
            None | Some("") | Some("Equal") | Some("Exists") => {}
            Some(other) => errs.push(FieldError::not_supported(
                format!("{p}.operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if t.key.as_deref().unwrap_or("").is_empty() && t.operator.as_deref() != Some("Exists") {
            errs.push(FieldError::invalid(
                format!("{p}.operator"),
                t.operator.clone().unwrap_or_default(),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        errs.extend(supported(
            &format!("{p}.effect"),
            t.effect.as_deref().filter(|e| !e.is_empty()),
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        ));
        if t.toleration_seconds.is_some() && t.effect.as_deref() != Some("NoExecute") {
            errs.push(FieldError::invalid(
                format!("{p}.effect"),
                t.effect.clone().unwrap_or_default(),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
    }
    errs
}

fn validate_template(
    t: &core::PodTemplateSpec,
    selector: &LabelSelector,
    path: &str,
    restart: &[&str],
) -> Errors {
    let mut errs = Vec::new();
    let empty = BTreeMap::new();
    let labels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .unwrap_or(&empty);
    if !selector_is_empty(selector) && !selector_matches(selector, labels.into()) {
        let shown = if labels.is_empty() {
            BadValue::Go("map[string]string(nil)".into())
        } else {
            BadValue::string_map(labels)
        };
        errs.push(FieldError::invalid(
            format!("{path}.metadata.labels"),
            shown,
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(validate_labels(labels, &format!("{path}.metadata.labels")));
    match &t.spec {
        Some(spec) => {
            // Templates keep k8s-openapi's types; pods the compact ones.
            let spec = super::pod::PodSpec::from(spec.clone());
            errs.extend(validate_pod_spec(&spec, &format!("{path}.spec")));
            if let Some(rp) = spec.restart_policy.as_deref() {
                if !restart.contains(&rp) {
                    errs.push(FieldError::not_supported(
                        format!("{path}.spec.restartPolicy"),
                        rp,
                        restart,
                    ));
                }
            }
            if restart == ["Always"] && spec.active_deadline_seconds.is_some() {
                errs.push(FieldError::forbidden(
                    format!("{path}.spec.activeDeadlineSeconds"),
                    "activeDeadlineSeconds in ReplicaSet is not Supported",
                ));
            }
        }
        None => errs.push(FieldError::required(format!("{path}.spec.containers"), "")),
    }
    errs
}

fn validate_selector_required(sel: &LabelSelector, path: &str) -> Errors {
    if selector_is_empty(sel) {
        vec![FieldError::required(path, "")]
    } else {
        validate_selector(sel, path)
    }
}

fn validate_int_or_percent(path: &str, v: Option<&IntOrString>) -> (Errors, Option<i64>) {
    match v {
        None => (vec![], None),
        Some(IntOrString::Int(n)) => (non_negative(path, Some(i64::from(*n))), Some(i64::from(*n))),
        Some(IntOrString::String(s)) => {
            let pct = s.strip_suffix('%').and_then(|d| d.parse::<i64>().ok());
            match pct {
                None => (
                    vec![FieldError::invalid(path, s.as_str(), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")],
                    None,
                ),
                Some(p) if p > 100 => (vec![FieldError::invalid(path, s.as_str(), "must not be greater than 100%")], Some(p)),
                Some(p) => (vec![], Some(p)),
            }
        }
    }
}

// ---- Services -------------------------------------------------------------

fn validate_service_spec(spec: &core::ServiceSpec) -> Errors {
    let mut errs = Vec::new();
    let ty = spec.type_.as_deref().unwrap_or("ClusterIP");
    errs.extend(supported(
        "spec.type",
        Some(ty),
        &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
    ));
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    if ty == "ExternalName" {
        if spec.external_name.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::required("spec.externalName", ""));
        }
    } else if ports.is_empty() && !headless {
        errs.push(FieldError::required("spec.ports", ""));
    }
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = format!("spec.ports[{i}]");
        let name = p.name.as_deref().unwrap_or("");
        if ports.len() > 1 && name.is_empty() {
            errs.push(FieldError::required(format!("{pp}.name"), ""));
        } else if !name.is_empty() {
            errs.extend(msgs(&format!("{pp}.name"), name, is_dns1123_label(name)));
            if !names.insert(name) {
                errs.push(FieldError::duplicate(format!("{pp}.name"), name));
            }
        }
        errs.extend(port_range(&format!("{pp}.port"), p.port));
        errs.extend(supported(
            &format!("{pp}.protocol"),
            p.protocol.as_deref(),
            &["SCTP", "TCP", "UDP"],
        ));
        if let Some(t) = &p.target_port {
            errs.extend(validate_port_ref(&format!("{pp}.targetPort"), t));
        }
        if let Some(np) = p.node_port.filter(|n| *n != 0) {
            if ty != "NodePort" && ty != "LoadBalancer" {
                errs.push(FieldError::forbidden(
                    format!("{pp}.nodePort"),
                    format!("may not be used when `type` is '{ty}'"),
                ));
            } else {
                errs.extend(port_range(&format!("{pp}.nodePort"), np));
            }
        }
    }
    errs.extend(supported(
        "spec.sessionAffinity",
        spec.session_affinity.as_deref(),
        &["ClientIP", "None"],
    ));
    if let Some(sel) = &spec.selector {
        errs.extend(validate_labels(sel, "spec.selector"));
    }
    if let Some(ip) = spec
        .cluster_ip
        .as_deref()
        .filter(|ip| !ip.is_empty() && *ip != "None")
    {
        if ip.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ));
        }
    }
    for (name, v) in [
        (
            "spec.internalTrafficPolicy",
            spec.internal_traffic_policy.as_deref(),
        ),
        (
            "spec.externalTrafficPolicy",
            spec.external_traffic_policy.as_deref(),
        ),
    ] {
        errs.extend(supported(name, v, &["Cluster", "Local"]));
    }
    errs
}

// ---- the kinds ----------------------------------------------------------------

fn validate_config_keys<'a>(keys: impl Iterator<Item = &'a String>, field: &str) -> Errors {
    let mut errs = Vec::new();
    for k in keys {
        let p = format!("{field}[{k}]");
        let ok = !k.is_empty()
            && k.len() <= 253
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !ok {
            errs.push(FieldError::invalid(p.as_str(), k.as_str(), CONFIG_KEY_MSG));
        } else if k == "." || k == ".." || k.starts_with("..") {
            errs.push(FieldError::invalid(
                p.as_str(),
                k.as_str(),
                format!("must not be '{k}'"),
            ));
        }
    }
    errs
}

/// Everything kube-apiserver checks on create, as field errors (empty
/// when valid). The namespace must already be filled in for namespaced
/// kinds, as the API server does from the request path.
pub fn validate_create(obj: &Object) -> Vec<FieldError> {
    let kind = obj.kind();
    let mut errs = validate_meta(&obj.meta(), kind, name_rule(obj));
    match obj {
        Object::Pod(p) => match &p.spec {
            Some(spec) => errs.extend(validate_pod_spec(spec, "spec")),
            None => errs.push(FieldError::required("spec.containers", "")),
        },
        Object::Service(s) => {
            if let Some(spec) = &s.spec {
                errs.extend(validate_service_spec(spec));
            } else {
                errs.push(FieldError::required("spec.ports", ""));
            }
        }
        Object::Deployment(d) => {
            let s = &d.spec;
            errs.extend(non_negative("spec.replicas", s.replicas.map(i64::from)));
            errs.extend(validate_selector_required(&s.selector, "spec.selector"));
            errs.extend(validate_template(
                &s.template,
                &s.selector,
                "spec.template",
                &["Always"],
            ));
            if let Some(st) = &s.strategy {
                let ty = st.type_.as_deref().unwrap_or("RollingUpdate");
                errs.extend(supported(
                    "spec.strategy.type",
                    Some(ty),
                    &["Recreate", "RollingUpdate"],
                ));
                if ty == "Recreate" && st.rolling_update.is_some() {
                    errs.push(FieldError::forbidden(
                        "spec.strategy.rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
                if let Some(ru) = &st.rolling_update {
                    let (e1, unavailable) = validate_int_or_percent(
                        "spec.strategy.rollingUpdate.maxUnavailable",
                        ru.max_unavailable.as_ref(),
                    );
                    let (e2, surge) = validate_int_or_percent(
                        "spec.strategy.rollingUpdate.maxSurge",
                        ru.max_surge.as_ref(),
                    );
                    errs.extend(e1);
                    errs.extend(e2);
                    if unavailable == Some(0) && surge == Some(0) {
                        errs.push(FieldError::invalid(
                            "spec.strategy.rollingUpdate.maxUnavailable",
                            0,
                            "may not be 0 when `maxSurge` is 0",
                        ));
                    }
                }
            }
            errs.extend(non_negative(
                "spec.revisionHistoryLimit",
                s.revision_history_limit.map(i64::from),
            ));
            errs.extend(non_negative(
                "spec.minReadySeconds",
                s.min_ready_seconds.map(i64::from),
            ));
            if let Some(pd) = s.progress_deadline_seconds {
                errs.extend(non_negative(
                    "spec.progressDeadlineSeconds",
                    Some(i64::from(pd)),
                ));
                if pd <= s.min_ready_seconds.unwrap_or(0) {
                    errs.push(FieldError::invalid(
                        "spec.progressDeadlineSeconds",
                        pd,
                        "must be greater than minReadySeconds",
                    ));
                }
            }
        }
        Object::ReplicaSet(rs) => {
            let s = &rs.spec;
            errs.extend(non_negative("spec.replicas", s.replicas.map(i64::from)));
            errs.extend(validate_selector_required(&s.selector, "spec.selector"));
            if let Some(t) = &s.template {
                errs.extend(validate_template(
                    t,
                    &s.selector,
                    "spec.template",
                    &["Always"],
                ));
            }
        }
        Object::StatefulSet(ss) => {
            let s = &ss.spec;
            errs.extend(non_negative("spec.replicas", s.replicas.map(i64::from)));
            errs.extend(validate_selector_required(&s.selector, "spec.selector"));
            // Each volumeClaimTemplate becomes a volume of the pods (the
            // StatefulSet controller's `updateStorage`), so mounts may name
            // them.
            let mut template = s.template.clone();
            if let Some(spec) = template.spec.as_mut() {
                for claim in s.volume_claim_templates.iter().flatten() {
                    let name = claim.metadata.name.clone().unwrap_or_default();
                    spec.volumes
                        .get_or_insert_with(Vec::new)
                        .push(core::Volume {
                            name,
                            empty_dir: Some(Default::default()),
                            ..Default::default()
                        });
                }
            }
            errs.extend(validate_template(
                &template,
                &s.selector,
                "spec.template",
                &["Always"],
            ));
            errs.extend(supported(
                "spec.podManagementPolicy",
                s.pod_management_policy.as_deref(),
                &["OrderedReady", "Parallel"],
            ));
            if let Some(us) = &s.update_strategy {
                errs.extend(supported(
                    "spec.updateStrategy.type",
                    us.type_.as_deref(),
                    &["OnDelete", "RollingUpdate"],
                ));
            }
        }
        Object::DaemonSet(ds) => {
            let s = &ds.spec;
            errs.extend(validate_selector_required(&s.selector, "spec.selector"));
            errs.extend(validate_template(
                &s.template,
                &s.selector,
                "spec.template",
                &["Always"],
            ));
            if let Some(us) = &s.update_strategy {
                errs.extend(supported(
                    "spec.updateStrategy.type",
                    us.type_.as_deref(),
                    &["OnDelete", "RollingUpdate"],
                ));
            }
        }
        Object::Job(j) => match &j.spec {
            Some(s) => errs.extend(validate_job_spec(s, "spec")),
            None => errs.push(FieldError::required("spec.template", "")),
        },
        Object::CronJob(cj) => {
            let s = &cj.spec;
            let name = obj.name();
            if name.len() > 52 {
                errs.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    "must be no more than 52 characters",
                ));
            }
            if s.schedule.is_empty() {
                errs.push(FieldError::required("spec.schedule", ""));
            } else if let Err(m) = check_cron(&s.schedule) {
                errs.push(FieldError::invalid("spec.schedule", s.schedule.as_str(), m));
            }
            errs.extend(supported(
                "spec.concurrencyPolicy",
                s.concurrency_policy.as_deref(),
                &["Allow", "Forbid", "Replace"],
            ));
            errs.extend(non_negative(
                "spec.startingDeadlineSeconds",
                s.starting_deadline_seconds,
            ));
            errs.extend(non_negative(
                "spec.successfulJobsHistoryLimit",
                s.successful_jobs_history_limit.map(i64::from),
            ));
            errs.extend(non_negative(
                "spec.failedJobsHistoryLimit",
                s.failed_jobs_history_limit.map(i64::from),
            ));
            match &s.job_template.spec {
                Some(js) => errs.extend(validate_job_spec(js, "spec.jobTemplate.spec")),
                None => errs.push(FieldError::required("spec.jobTemplate.spec.template", "")),
            }
        }
        Object::ConfigMap(cm) => {
            errs.extend(validate_config_keys(
                cm.data.iter().flat_map(|m| m.keys()),
                "data",
            ));
            errs.extend(validate_config_keys(
                cm.binary_data.iter().flat_map(|m| m.keys()),
                "binaryData",
            ));
            if let (Some(d), Some(b)) = (&cm.data, &cm.binary_data) {
                for k in d.keys().filter(|k| b.contains_key(*k)) {
                    errs.push(FieldError::invalid(
                        format!("data[{k}]"),
                        k.as_str(),
                        "duplicate of key present in binaryData",
                    ));
                }
            }
            let size: usize = cm
                .data
                .iter()
                .flatten()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
                + cm.binary_data
                    .iter()
                    .flatten()
                    .map(|(k, v)| k.len() + v.0.len())
                    .sum::<usize>();
            if size > 1_048_576 {
                errs.push(FieldError::too_long("", 1_048_576));
            }
        }
        Object::Secret(s) => {
            errs.extend(validate_config_keys(
                s.data.iter().flat_map(|m| m.keys()),
                "data",
            ));
            let has = |k: &str| {
                s.data.as_ref().is_some_and(|d| d.contains_key(k))
                    || s.string_data.as_ref().is_some_and(|d| d.contains_key(k))
            };
            let required: &[&str] = match s.type_.as_deref() {
                Some("kubernetes.io/tls") => &["tls.crt", "tls.key"],
                Some("kubernetes.io/dockerconfigjson") => &[".dockerconfigjson"],
                Some("kubernetes.io/basic-auth") => &[],
                Some("kubernetes.io/ssh-auth") => &["ssh-privatekey"],
                _ => &[],
            };
            for k in required.iter().filter(|k| !has(k)) {
                errs.push(FieldError::required(format!("data[{k}]"), ""));
            }
            let size: usize = s
                .data
                .iter()
                .flatten()
                .map(|(k, v)| k.len() + v.0.len())
                .sum();
            if size > 1_048_576 {
                errs.push(FieldError::too_long("data", 1_048_576));
            }
        }
        Object::Node(n) => {
            let mut seen = BTreeSet::new();
            for (i, t) in n
                .spec
                .iter()
                .flat_map(|s| s.taints.iter().flatten())
                .enumerate()
            {
                let p = format!("spec.taints[{i}]");
                errs.extend(msgs(&format!("{p}.key"), &t.key, is_qualified_name(&t.key)));
                if let Some(v) = t.value.as_deref() {
                    errs.extend(msgs(&format!("{p}.value"), v, is_valid_label_value(v)));
                }
                errs.extend(supported(
                    &format!("{p}.effect"),
                    Some(t.effect.as_str()),
                    &["NoSchedule", "PreferNoSchedule", "NoExecute"],
                ));
                if !seen.insert((t.key.clone(), t.effect.clone())) {
                    errs.push(FieldError::duplicate(
                        p.clone(),
                        BadValue::Go(format!(
                            "core.Taint{{Key:{}, Effect:{}}}",
                            go_quote(&t.key),
                            go_quote(&t.effect)
                        )),
                    ));
                }
            }
        }
        Object::Lease(l) => {
            if let Some(spec) = &l.spec {
                if let Some(d) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
                    errs.push(FieldError::invalid(
                        "spec.leaseDurationSeconds",
                        d,
                        "must be greater than 0",
                    ));
                }
                errs.extend(non_negative(
                    "spec.leaseTransitions",
                    spec.lease_transitions.map(i64::from),
                ));
            }
        }
        Object::Role(r) => errs.extend(validate_rules(r.rules.as_deref().unwrap_or(&[]), true)),
        Object::ClusterRole(r) => {
            errs.extend(validate_rules(r.rules.as_deref().unwrap_or(&[]), false))
        }
        Object::RoleBinding(b) => errs.extend(validate_binding(
            &b.role_ref,
            b.subjects.as_deref().unwrap_or(&[]),
            &["Role", "ClusterRole"],
            false,
        )),
        Object::ClusterRoleBinding(b) => errs.extend(validate_binding(
            &b.role_ref,
            b.subjects.as_deref().unwrap_or(&[]),
            &["ClusterRole"],
            true,
        )),
        Object::PriorityClass(pc) => {
            let name = obj.name();
            let value = pc.value.unwrap_or(0);
            if name.starts_with("system-")
                && !["system-node-critical", "system-cluster-critical"].contains(&name)
            {
                errs.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    "priority class names with 'system-' prefix are reserved",
                ));
            } else if !name.starts_with("system-") && value > 1_000_000_000 {
                errs.push(FieldError::forbidden(
                    "value",
                    "maximum allowed value of a user defined priority is 1000000000",
                ));
            }
            errs.extend(supported(
                "preemptionPolicy",
                pc.preemption_policy.as_deref(),
                &["Never", "PreemptLowerPriority"],
            ));
        }
        Object::CertificateSigningRequest(csr) => {
            let s = &csr.spec;
            if s.request.0.is_empty() {
                errs.push(FieldError::required("spec.request", ""));
            }
            if s.signer_name.is_empty() {
                errs.push(FieldError::required("spec.signerName", ""));
            }
            if let Some(e) = s.expiration_seconds.filter(|e| *e < 600) {
                errs.push(FieldError::invalid(
                    "spec.expirationSeconds",
                    e,
                    "may not specify a duration less than 600 seconds (10 minutes)",
                ));
            }
            if s.usages.as_ref().is_none_or(Vec::is_empty) {
                errs.push(FieldError::required("spec.usages", ""));
            }
        }
        Object::ControllerRevision(r) => {
            // `ValidateControllerRevision`.
            if r.revision.unwrap_or(0) < 0 {
                errs.push(FieldError::invalid(
                    "revision",
                    r.revision.unwrap_or(0),
                    "must be greater than or equal to 0",
                ));
            }
        }
        Object::SubjectAccessReview(_) | Object::TokenRequest(_) => {}
        Object::PodDisruptionBudget(pdb) => {
            if let Some(s) = &pdb.spec {
                if s.min_available.is_some() && s.max_unavailable.is_some() {
                    errs.push(FieldError::invalid(
                        "spec",
                        BadValue::Go("policy.PodDisruptionBudgetSpec{...}".into()),
                        "minAvailable and maxUnavailable cannot be both set",
                    ));
                }
                errs.extend(
                    validate_int_or_percent("spec.minAvailable", s.min_available.as_ref()).0,
                );
                errs.extend(
                    validate_int_or_percent("spec.maxUnavailable", s.max_unavailable.as_ref()).0,
                );
                if let Some(sel) = &s.selector {
                    errs.extend(validate_selector(sel, "spec.selector"));
                }
            }
        }
        Object::EndpointSlice(es) => {
            errs.extend(supported(
                "addressType",
                Some(es.address_type.as_str()),
                &["IPv4", "IPv6", "FQDN"],
            ));
            for (i, e) in es.endpoints.iter().flatten().enumerate() {
                if e.addresses.is_empty() {
                    errs.push(FieldError::required(
                        format!("endpoints[{i}].addresses"),
                        "must contain at least 1 address",
                    ));
                }
            }
            for (i, p) in es.ports.iter().flatten().enumerate() {
                errs.extend(supported(
                    &format!("ports[{i}].protocol"),
                    p.protocol.as_deref(),
                    &["SCTP", "TCP", "UDP"],
                ));
            }
        }
        Object::Namespace(_)
        | Object::ServiceAccount(_)
        | Object::Event(_)
        | Object::EventsEvent(_) => {}
    }
    errs
}

fn validate_job_spec(s: &k8s_openapi::api::batch::v1::JobSpec, path: &str) -> Errors {
    let mut errs = Vec::new();
    for (name, v) in [
        ("parallelism", s.parallelism.map(i64::from)),
        ("completions", s.completions.map(i64::from)),
        ("backoffLimit", s.backoff_limit.map(i64::from)),
        (
            "ttlSecondsAfterFinished",
            s.ttl_seconds_after_finished.map(i64::from),
        ),
    ] {
        errs.extend(non_negative(&format!("{path}.{name}"), v));
    }
    if let Some(a) = s.active_deadline_seconds.filter(|a| *a <= 0) {
        errs.push(FieldError::invalid(
            format!("{path}.activeDeadlineSeconds"),
            a,
            "must be greater than or equal to 1",
        ));
    }
    errs.extend(supported(
        &format!("{path}.completionMode"),
        s.completion_mode.as_deref(),
        &["NonIndexed", "Indexed"],
    ));
    if s.completion_mode.as_deref() == Some("Indexed") && s.completions.is_none() {
        errs.push(FieldError::required(
            format!("{path}.completions"),
            "when completion mode is Indexed",
        ));
    }
    let selector = s.selector.clone().unwrap_or_default();
    if s.manual_selector == Some(true) {
        errs.extend(validate_selector_required(
            &selector,
            &format!("{path}.selector"),
        ));
    }
    let restart = ["OnFailure", "Never"];
    let rp = s
        .template
        .spec
        .as_ref()
        .and_then(|p| p.restart_policy.as_deref())
        .unwrap_or("Always");
    let mut template_errs = validate_template(
        &s.template,
        &selector,
        &format!("{path}.template"),
        &restart,
    );
    if !restart.contains(&rp)
        && !template_errs
            .iter()
            .any(|e| e.field.ends_with(".restartPolicy"))
    {
        template_errs.push(FieldError::not_supported(
            format!("{path}.template.spec.restartPolicy"),
            rp,
            &restart,
        ));
    }
    errs.extend(template_errs);
    errs
}

/// A five-field cron schedule or a `@` macro (robfig/cron's standard parser).
pub fn check_cron(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    let s = s
        .strip_prefix("TZ=")
        .or_else(|| s.strip_prefix("CRON_TZ="))
        .and_then(|r| r.split_once(' ').map(|(_, rest)| rest))
        .unwrap_or(s);
    if s.starts_with('@') {
        return match s {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight"
            | "@hourly" => Ok(()),
            _ if s.starts_with("@every ") => Ok(()),
            _ => Err(format!("unrecognized descriptor: {s}")),
        };
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: {s}",
            fields.len()
        ));
    }
    let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (f, (lo, hi)) in fields.iter().zip(bounds) {
        for part in f.split(',') {
            let (range, step) = part.split_once('/').unwrap_or((part, "1"));
            if step.parse::<u32>().map_or(true, |s| s == 0) {
                return Err(format!("failed to parse int from {step}"));
            }
            if range == "*" || range == "?" {
                continue;
            }
            for n in range.split('-') {
                let v = n.parse::<u32>().ok().or_else(|| month_or_day(n));
                match v {
                    Some(v) if (lo..=hi).contains(&v) => {}
                    Some(v) => {
                        return Err(format!("end of range ({v}) above maximum ({hi}): {range}"))
                    }
                    None => return Err(format!("failed to parse int from {n}")),
                }
            }
        }
    }
    Ok(())
}

fn month_or_day(n: &str) -> Option<u32> {
    const NAMES: [&str; 19] = [
        "sun", "mon", "tue", "wed", "thu", "fri", "sat", "jan", "feb", "mar", "apr", "may", "jun",
        "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = n.to_ascii_lowercase();
    NAMES
        .iter()
        .position(|x| *x == lower)
        .map(|i| if i < 7 { i as u32 } else { i as u32 - 6 })
}

fn validate_rules(rules: &[k8s_openapi::api::rbac::v1::PolicyRule], namespaced: bool) -> Errors {
    let mut errs = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let p = format!("rules[{i}]");
        if r.verbs.is_empty() {
            errs.push(FieldError::required(
                format!("{p}.verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = r.non_resource_urls.as_deref().unwrap_or(&[]);
        if namespaced && !urls.is_empty() {
            errs.push(FieldError::invalid(
                format!("{p}.nonResourceURLs"),
                BadValue::Go(format!(
                    "[]string{{{}}}",
                    urls.iter()
                        .map(|u| go_quote(u))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        let resources = r.resources.as_deref().unwrap_or(&[]);
        if urls.is_empty() || !resources.is_empty() {
            if r.api_groups.as_ref().is_none_or(Vec::is_empty) {
                errs.push(FieldError::required(
                    format!("{p}.apiGroups"),
                    "resource rules must supply at least one api group",
                ));
            }
            if resources.is_empty() {
                errs.push(FieldError::required(
                    format!("{p}.resources"),
                    "resource rules must supply at least one resource",
                ));
            }
        }
    }
    errs
}

fn validate_binding(
    role_ref: &k8s_openapi::api::rbac::v1::RoleRef,
    subjects: &[k8s_openapi::api::rbac::v1::Subject],
    kinds: &[&str],
    cluster: bool,
) -> Errors {
    let mut errs = Vec::new();
    errs.extend(supported(
        "roleRef.apiGroup",
        Some(role_ref.api_group.as_deref().unwrap_or("")),
        &["rbac.authorization.k8s.io"],
    ));
    if !kinds.contains(&role_ref.kind.as_str()) {
        errs.push(FieldError::not_supported(
            "roleRef.kind",
            role_ref.kind.as_str(),
            kinds,
        ));
    }
    if role_ref.name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        errs.extend(msgs(
            "roleRef.name",
            &role_ref.name,
            is_path_segment_name(&role_ref.name),
        ));
    }
    for (i, s) in subjects.iter().enumerate() {
        let p = format!("subjects[{i}]");
        if s.name.is_empty() {
            errs.push(FieldError::required(format!("{p}.name"), ""));
        }
        match s.kind.as_str() {
            "ServiceAccount" => {
                if cluster && s.namespace.as_deref().unwrap_or("").is_empty() {
                    errs.push(FieldError::required(format!("{p}.namespace"), ""));
                }
            }
            "User" | "Group" => {}
            other => errs.push(FieldError::not_supported(
                format!("{p}.kind"),
                other,
                &["ServiceAccount", "User", "Group"],
            )),
        }
    }
    errs
}

// ---- updates -----------------------------------------------------------------

/// The message of a forbidden Pod update (`ValidatePodUpdate`; the
/// `core.PodSpec` diff kube-apiserver appends is left out).
pub const POD_UPDATE_FORBIDDEN: &str = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Everything kube-apiserver checks when `new` replaces `old` (create
/// validation plus immutable fields), as field errors.
pub fn validate_update(new: &Object, old: &Object) -> Vec<FieldError> {
    let mut errs = validate_create(new);
    let (nm, om) = (new.meta(), old.meta());
    if nm.name != om.name {
        errs.push(FieldError::invalid("metadata.name", new.name(), IMMUTABLE));
    }
    if nm.namespace != om.namespace {
        errs.push(FieldError::invalid(
            "metadata.namespace",
            new.namespace().unwrap_or(""),
            IMMUTABLE,
        ));
    }
    if om.uid.is_some() && nm.uid.is_some() && nm.uid != om.uid {
        errs.push(FieldError::invalid(
            "metadata.uid",
            new.uid().unwrap_or(""),
            IMMUTABLE,
        ));
    }
    if om.creation_timestamp.is_some()
        && nm.creation_timestamp.is_some()
        && nm.creation_timestamp != om.creation_timestamp
    {
        errs.push(FieldError::invalid(
            "metadata.creationTimestamp",
            BadValue::Go("v1.Time{...}".into()),
            IMMUTABLE,
        ));
    }
    let selector_changed = |a: &LabelSelector, b: &LabelSelector| {
        (a != b).then(|| FieldError::invalid("spec.selector", go_selector(a), IMMUTABLE))
    };
    match (new, old) {
        (Object::Pod(n), Object::Pod(o)) => {
            if let (Some(ns), Some(os)) = (&n.spec, &o.spec) {
                let mut allowed = os.clone();
                for (a, b) in allowed.containers.iter_mut().zip(&ns.containers) {
                    a.image = b.image.clone();
                }
                for (a, b) in allowed
                    .init_containers
                    .iter_mut()
                    .flatten()
                    .zip(ns.init_containers.iter().flatten())
                {
                    a.image = b.image.clone();
                }
                allowed.active_deadline_seconds = ns.active_deadline_seconds;
                let old_tols = os.tolerations.as_deref().unwrap_or(&[]);
                let new_tols = ns.tolerations.as_deref().unwrap_or(&[]);
                if old_tols.iter().all(|t| new_tols.contains(t)) {
                    allowed.tolerations = ns.tolerations.clone();
                }
                if os.termination_grace_period_seconds.is_some_and(|g| g < 0)
                    && ns.termination_grace_period_seconds == Some(1)
                {
                    allowed.termination_grace_period_seconds = Some(1);
                }
                if &allowed != ns {
                    errs.push(FieldError::forbidden("spec", POD_UPDATE_FORBIDDEN));
                }
            }
        }
        (Object::Node(n), Object::Node(o)) => {
            // `ValidateNodeUpdate`: the node IPAM controller may assign a
            // pod CIDR to a node that has none; nobody may change it after.
            let cidrs = |x: &core::Node| {
                x.spec
                    .as_ref()
                    .and_then(|s| s.pod_cidrs.clone())
                    .unwrap_or_default()
            };
            let (nc, oc) = (cidrs(n), cidrs(o));
            if !oc.is_empty() && nc != oc {
                errs.push(FieldError::forbidden(
                    "spec.podCIDRs",
                    "node updates may not change podCIDR except from \"\" to valid",
                ));
            }
        }
        (Object::ControllerRevision(n), Object::ControllerRevision(o)) if n.data != o.data => {
            // `ValidateControllerRevisionUpdate`.
            errs.push(FieldError::invalid(
                "data",
                BadValue::Go("runtime.RawExtension{...}".into()),
                "field is immutable",
            ));
        }
        (Object::Deployment(n), Object::Deployment(o)) => {
            errs.extend(selector_changed(&n.spec.selector, &o.spec.selector))
        }
        (Object::ReplicaSet(n), Object::ReplicaSet(o)) => {
            errs.extend(selector_changed(&n.spec.selector, &o.spec.selector))
        }
        (Object::DaemonSet(n), Object::DaemonSet(o)) => {
            errs.extend(selector_changed(&n.spec.selector, &o.spec.selector))
        }
        (Object::StatefulSet(n), Object::StatefulSet(o)) => {
            let mut allowed = o.spec.clone();
            allowed.replicas = n.spec.replicas;
            allowed.ordinals = n.spec.ordinals.clone();
            allowed.template = n.spec.template.clone();
            allowed.update_strategy = n.spec.update_strategy.clone();
            allowed.persistent_volume_claim_retention_policy =
                n.spec.persistent_volume_claim_retention_policy.clone();
            allowed.min_ready_seconds = n.spec.min_ready_seconds;
            allowed.revision_history_limit = n.spec.revision_history_limit;
            if allowed != n.spec {
                errs.push(FieldError::forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
            }
        }
        (Object::Job(n), Object::Job(o)) => {
            if let (Some(ns), Some(os)) = (&n.spec, &o.spec) {
                if ns.selector != os.selector {
                    errs.push(FieldError::invalid(
                        "spec.selector",
                        go_selector(&ns.selector.clone().unwrap_or_default()),
                        IMMUTABLE,
                    ));
                }
                if ns.template != os.template {
                    errs.push(FieldError::invalid(
                        "spec.template",
                        BadValue::Go("core.PodTemplateSpec{...}".into()),
                        IMMUTABLE,
                    ));
                }
                if ns.completion_mode != os.completion_mode {
                    errs.push(FieldError::invalid(
                        "spec.completionMode",
                        ns.completion_mode.clone().unwrap_or_default(),
                        IMMUTABLE,
                    ));
                }
                if ns.completions != os.completions
                    && ns.completion_mode.as_deref() != Some("Indexed")
                {
                    errs.push(FieldError::invalid(
                        "spec.completions",
                        ns.completions.unwrap_or(0),
                        IMMUTABLE,
                    ));
                }
            }
        }
        (Object::Service(n), Object::Service(o)) => {
            let ip = |s: &core::Service| {
                s.spec
                    .as_ref()
                    .and_then(|s| s.cluster_ip.clone())
                    .unwrap_or_default()
            };
            let (nip, oip) = (ip(n), ip(o));
            if !oip.is_empty() && !nip.is_empty() && nip != oip {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    BadValue::Go(format!("[]string{{{}}}", go_quote(&nip))),
                    "may not change once set",
                ));
            }
        }
        (Object::RoleBinding(n), Object::RoleBinding(o)) if n.role_ref != o.role_ref => {
            errs.push(FieldError::invalid(
                "roleRef",
                BadValue::Go("rbac.RoleRef{...}".into()),
                "cannot change roleRef",
            ));
        }
        (Object::ClusterRoleBinding(n), Object::ClusterRoleBinding(o))
            if n.role_ref != o.role_ref =>
        {
            errs.push(FieldError::invalid(
                "roleRef",
                BadValue::Go("rbac.RoleRef{...}".into()),
                "cannot change roleRef",
            ));
        }
        (Object::PriorityClass(n), Object::PriorityClass(o)) if n.value != o.value => {
            errs.push(FieldError::forbidden(
                "value",
                "may not be changed in an update.",
            ));
        }
        (Object::ConfigMap(n), Object::ConfigMap(o)) if o.immutable == Some(true) => {
            if n.data != o.data {
                errs.push(FieldError::forbidden(
                    "data",
                    "field is immutable when `immutable` is set",
                ));
            }
            if n.binary_data != o.binary_data {
                errs.push(FieldError::forbidden(
                    "binaryData",
                    "field is immutable when `immutable` is set",
                ));
            }
            if n.immutable != Some(true) {
                errs.push(FieldError::forbidden(
                    "immutable",
                    "field is immutable when `immutable` is set",
                ));
            }
        }
        (Object::Secret(n), Object::Secret(o)) => {
            if o.type_ != n.type_ {
                errs.push(FieldError::invalid(
                    "type",
                    n.type_.clone().unwrap_or_default(),
                    IMMUTABLE,
                ));
            }
            if o.immutable == Some(true) && n.data != o.data {
                errs.push(FieldError::forbidden(
                    "data",
                    "field is immutable when `immutable` is set",
                ));
            }
        }
        _ => {}
    }
    errs
}

/// [`validate_create`] as kube-apiserver answers it: `Ok`, or a 422.
pub fn check_create(obj: &Object) -> Result<(), ApiError> {
    let errs = validate_create(obj);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(obj.kind(), obj.name(), errs))
    }
}

/// [`validate_update`] as kube-apiserver answers it: `Ok`, or a 422.
pub fn check_update(new: &Object, old: &Object) -> Result<(), ApiError> {
    let errs = validate_update(new, old);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(new.kind(), new.name(), errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode::decode;
    use crate::api::defaults::apply_defaults;

    /// Decodes, puts it in `default` if namespaced, and defaults it, as the
    /// API server does before validating.
    fn obj(yaml: &str) -> Object {
        let mut o = decode(yaml, "STDIN")
            .unwrap_or_default()
            .pop()
            .unwrap_or_else(|| Object::from(crate::api::pod::Pod::default()));
        if o.kind().namespaced && o.namespace().is_none() {
            o.meta_mut().namespace = Some("default".into());
        }
        apply_defaults(&mut o);
        o
    }

    fn kubectl(o: &Object) -> String {
        match check_create(o) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_kubectl(),
        }
    }

    const PROBES: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: goproxy\n  labels:\n    app: goproxy\nspec:\n  containers:\n  - name: goproxy\n    image: registry.k8s.io/goproxy:0.1\n    ports:\n    - containerPort: 8080\n    readinessProbe:\n      tcpSocket:\n        port: 8080\n      initialDelaySeconds: 15\n      periodSeconds: 10\n    livenessProbe:\n      tcpSocket:\n        port: 8080\n      initialDelaySeconds: 15\n      periodSeconds: 10\n    resources:\n      requests:\n        cpu: 250m\n        memory: 64Mi\n      limits:\n        cpu: 500m\n        memory: 128Mi\n";

    const NGINX: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: nginx\n  template:\n    metadata:\n      labels:\n        app: nginx\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.14.2\n        ports:\n        - containerPort: 80\n";

    #[test]
    fn the_docs_manifests_are_valid() {
        assert_eq!(kubectl(&obj(PROBES)), "ok");
        assert_eq!(kubectl(&obj(NGINX)), "ok");
        let pi = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl:5.34.0\n        command: [\"perl\",  \"-Mbignum=bpi\", \"-wle\", \"print bpi(2000)\"]\n      restartPolicy: Never\n  backoffLimit: 4\n";
        assert_eq!(kubectl(&obj(pi)), "ok");
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-service\nspec:\n  selector:\n    app.kubernetes.io/name: MyApp\n  ports:\n    - protocol: TCP\n      port: 80\n      targetPort: 9376\n";
        assert_eq!(kubectl(&obj(svc)), "ok");
        let cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: hello\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: hello\n            image: busybox:1.28\n            command: [\"/bin/sh\", \"-c\", \"date; echo Hello\"]\n          restartPolicy: OnFailure\n";
        assert_eq!(kubectl(&obj(cron)), "ok");
    }

    #[test]
    fn a_container_without_an_image_is_required() {
        let o = obj(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n",
        );
        assert_eq!(
            kubectl(&o),
            r#"The Pod "x" is invalid: spec.containers[0].image: Required value"#
        );
    }

    #[test]
    fn a_pod_without_containers_and_with_duplicate_names_lists_every_cause() {
        let o = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: []\n");
        assert_eq!(
            kubectl(&o),
            r#"The Pod "x" is invalid: spec.containers: Required value"#
        );
        let o = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: i\n  - name: a\n    image: i\n  - name: B\n    image: i\n");
        let e = validate_create(&o);
        assert_eq!(
            e[0].to_string(),
            r#"spec.containers[1].name: Duplicate value: "a""#
        );
        assert!(e[1].to_string().starts_with(
            r#"spec.containers[2].name: Invalid value: "B": a lowercase RFC 1123 label"#
        ));
    }

    #[test]
    fn names_follow_each_kinds_rule() {
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Web_1\n");
        assert_eq!(
            kubectl(&o),
            "The ConfigMap \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        );
        let o = obj("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a.b\n");
        assert!(kubectl(&o).contains("a lowercase RFC 1123 label must consist"));
        let o = obj("apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports:\n  - port: 80\n");
        assert!(kubectl(&o).contains("a DNS-1035 label must consist"));
        let o = obj("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:viewer\nrules: []\n");
        assert_eq!(kubectl(&o), "ok");
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: Web-\n");
        assert!(validate_create(&o)[0]
            .to_string()
            .starts_with(r#"metadata.generateName: Invalid value: "Web-""#));
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n");
        assert_eq!(
            kubectl(&o),
            r#"The ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required"#
        );
    }

    #[test]
    fn label_keys_and_values_are_checked() {
        let o = obj("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    \"-bad\": ok\n    good: \"bad value\"\n");
        let e = validate_create(&o);
        assert_eq!(e.len(), 2);
        assert!(e[0].to_string().starts_with(r#"metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters"#));
        assert!(e[1].to_string().starts_with(
            r#"metadata.labels: Invalid value: "bad value": a valid label must be an empty string"#
        ));
    }

    #[test]
    fn a_selector_that_misses_the_template_labels_is_invalid() {
        let o = obj(&NGINX.replace(
            "      labels:\n        app: nginx",
            "      labels:\n        app: x",
        ));
        assert_eq!(
            kubectl(&o),
            "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"
        );
        let o = obj(&NGINX.replace("  selector:\n    matchLabels:\n      app: nginx\n", ""));
        assert_eq!(
            kubectl(&o),
            "The Deployment \"web\" is invalid: spec.selector: Required value"
        );
    }

    #[test]
    fn a_deployment_template_must_restart_always() {
        let o = obj(&NGINX.replace(
            "      containers:",
            "      restartPolicy: Never\n      containers:",
        ));
        assert_eq!(
            kubectl(&o),
            "The Deployment \"web\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""
        );
    }

    #[test]
    fn a_job_must_not_restart_always() {
        let o = obj("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl\n");
        assert_eq!(
            kubectl(&o),
            "The Job \"pi\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn requests_above_limits_and_bad_quantities_are_invalid() {
        let o = obj(&PROBES.replace("cpu: 250m", "cpu: \"2\""));
        assert_eq!(
            kubectl(&o),
            "The Pod \"goproxy\" is invalid: spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 500m"
        );
        let o = obj(&PROBES.replace("memory: 64Mi", "memory: lots"));
        assert!(kubectl(&o).contains("spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression"));
    }

    #[test]
    fn a_probe_needs_exactly_one_handler() {
        let o = obj(&PROBES.replace("    livenessProbe:\n      tcpSocket:\n        port: 8080\n", "    livenessProbe:\n      tcpSocket:\n        port: 8080\n      httpGet:\n        port: 8080\n"));
        assert_eq!(
            kubectl(&o),
            "The Pod \"goproxy\" is invalid: spec.containers[0].livenessProbe: Forbidden: may not specify more than 1 handler type"
        );
        let o = obj(&PROBES.replace(
            "    readinessProbe:\n      tcpSocket:\n        port: 8080\n",
            "    readinessProbe:\n",
        ));
        assert_eq!(
            kubectl(&o),
            "The Pod \"goproxy\" is invalid: spec.containers[0].readinessProbe: Required value: must specify a handler type"
        );
    }

    #[test]
    fn unsupported_enum_values_list_what_is_supported() {
        let o = obj("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  restartPolicy: Sometimes\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: 70000\n");
        assert_eq!(
            kubectl(&o),
            "The Pod \"x\" is invalid: \n* spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive\n* spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""
        );
    }

    #[test]
    fn services_need_ports_and_names_when_several() {
        let o = obj(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {app: x}\n",
        );
        assert_eq!(
            kubectl(&o),
            "The Service \"s\" is invalid: spec.ports: Required value"
        );
        let o = obj("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n  - port: 443\n");
        assert_eq!(
            kubectl(&o),
            "The Service \"s\" is invalid: \n* spec.ports[0].name: Required value\n* spec.ports[1].name: Required value"
        );
    }

    #[test]
    fn a_pod_update_may_change_only_images_and_a_few_fields() {
        let old = obj(PROBES);
        let mut new = old.clone();
        if let Object::Pod(p) = &mut new {
            if let Some(s) = p.spec.as_mut() {
                s.containers[0].image = Some("registry.k8s.io/goproxy:0.2".into());
            }
        }
        assert_eq!(check_update(&new, &old), Ok(()));
        if let Object::Pod(p) = &mut new {
            if let Some(s) = p.spec.as_mut() {
                s.containers[0].ports = None;
            }
        }
        assert_eq!(
            check_update(&new, &old).map_err(|e| e.to_kubectl()),
            Err(format!(
                "The Pod \"goproxy\" is invalid: spec: Forbidden: {POD_UPDATE_FORBIDDEN}"
            ))
        );
    }

    #[test]
    fn selectors_and_cluster_ips_are_immutable() {
        let old = obj(NGINX);
        let new = obj(&NGINX.replace("app: nginx", "app: web"));
        assert_eq!(
            check_update(&new, &old).map_err(|e| e.to_kubectl()),
            Err("The Deployment \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable".into())
        );
        let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - port: 80\n";
        let old = obj(svc);
        let new = obj(&svc.replace("10.96.0.10", "10.96.0.11"));
        assert_eq!(
            check_update(&new, &old).map_err(|e| e.to_kubectl()),
            Err("The Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set".into())
        );
    }

    #[test]
    fn rbac_bindings_check_their_role_ref_and_subjects() {
        let o = obj("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read-pods\nsubjects:\n- kind: Robot\n  name: jane\nroleRef:\n  kind: Role\n  name: pod-reader\n  apiGroup: rbac.authorization.k8s.io\n");
        assert_eq!(
            kubectl(&o),
            "The RoleBinding \"read-pods\" is invalid: subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
        );
    }

    #[test]
    fn cron_schedules_are_parsed() {
        assert_eq!(check_cron("*/5 * * * *"), Ok(()));
        assert_eq!(check_cron("@hourly"), Ok(()));
        assert_eq!(check_cron("0 0 * * mon-fri"), Ok(()));
        assert!(check_cron("every minute").is_err());
        assert!(check_cron("61 * * * *").is_err());
    }

    #[test]
    fn name_helpers_match_apimachinery() {
        assert!(is_dns1123_label("my-name").is_empty());
        assert_eq!(
            is_dns1123_label(&"a".repeat(64))[0],
            "must be no more than 63 characters"
        );
        assert!(is_dns1123_subdomain("example.com").is_empty());
        assert!(!is_dns1123_subdomain("Example.com").is_empty());
        assert!(is_qualified_name("app.kubernetes.io/name").is_empty());
        assert_eq!(is_qualified_name("/x")[0], "prefix part must be non-empty");
        assert!(is_valid_label_value("").is_empty());
        assert!(is_valid_port_name("http").is_empty());
        assert!(!is_valid_port_name("80").is_empty());
        assert_eq!(
            is_path_segment_name(".."),
            vec!["may not be '..'".to_string()]
        );
    }
}
