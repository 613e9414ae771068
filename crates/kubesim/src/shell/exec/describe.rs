//! `kubectl describe`: kubectl's own describers for the kinds people
//! describe most (pods, nodes, deployments, replica sets, services), and a
//! generic one for the rest.
//!
//! In kubectl, `describe` joins several API calls into one page of text: a
//! pod's containers with their states, its conditions, volumes, QoS class
//! and tolerations; a node's conditions, capacity, the pods it runs and what
//! they request; a deployment's replica counts, strategy and replica sets;
//! each followed by the Events whose `involvedObject` is the object. The
//! describers write `label:\tvalue` lines through a Go `tabwriter` (padding
//! 2), which aligns each run of lines that share a column.
//!
//! Ported from `staging/src/k8s.io/kubectl/pkg/describe/describe.go`
//! (`describePod`, `describeContainers`, `describeVolumes`, `describeNode`,
//! `describeNodeResource`, `describeDeployment`, `describeReplicaSet`,
//! `DescribePodTemplate`, `describeService`, `DescribeEvents`,
//! `tabbedString`). Left out: the describers of the other kinds (they get
//! the generic one: metadata, then spec and status as YAML), volume types
//! the simulation does not mount, resource slices, and ephemeral containers.

use crate::api::print::{human_duration, selector_string};
use crate::api::quantity::Quantity;
use crate::api::time::parse_millis;
use crate::runtime::{format_date, DateStyle};
use crate::world::SimTime;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What a describer reads besides the object itself.
#[derive(Default)]
pub struct Related<'a> {
    /// The events about the object (their JSON).
    pub events: Vec<Value>,
    /// Replica sets in the object's namespace (for a Deployment).
    pub replica_sets: Vec<Value>,
    /// Pods: in the namespace (for a ReplicaSet), or all (for a Node).
    pub pods: Vec<Value>,
    /// Endpoint slices in the namespace (for a Service).
    pub endpoint_slices: Vec<Value>,
    /// The node's Lease in `kube-node-lease` (for a Node).
    pub lease: Option<&'a Value>,
}

/// `kubectl describe` of one object (its JSON), at `now`.
pub fn describe(kind: &str, o: &Value, related: &Related<'_>, now: SimTime) -> String {
    let mut w = String::new();
    match kind {
        "Pod" => pod(&mut w, o, now),
        "Node" => node(&mut w, o, related, now),
        "Deployment" => deployment(&mut w, o, related),
        "ReplicaSet" => replica_set(&mut w, o, related),
        "Service" => service(&mut w, o, related),
        _ => generic(&mut w, o),
    }
    events(&mut w, &related.events, now);
    let out = tabbed(&w);
    out.trim_end_matches('\n').to_string()
}

// ---- reading the JSON ----

fn s<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn boolean(v: &Value, pointer: &str) -> bool {
    v.pointer(pointer).and_then(Value::as_bool).unwrap_or(false)
}

fn list<'v>(v: &'v Value, pointer: &str) -> &'v [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn map<'v>(v: &'v Value, pointer: &str) -> BTreeMap<&'v str, String> {
    v.pointer(pointer)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str(),
                        v.as_str().map_or_else(|| v.to_string(), String::from),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON scalar as Go's `%v` prints it (`<nil>` aside).
fn scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Go's `time.RFC1123Z` of an RFC 3339 timestamp: `Thu, 01 Jan 2026
/// 00:00:12 +0000` (the simulation's clock is UTC).
fn rfc1123z(text: &str) -> String {
    match parse_millis(text) {
        Some(ms) => format_date(SimTime(ms), DateStyle::Rfc1123z),
        None => text.to_string(),
    }
}

/// `translateTimestampSince`: how long ago, or `<unknown>`.
fn since(text: &str, now: SimTime) -> String {
    match parse_millis(text) {
        Some(ms) => human_duration(now.saturating_since(SimTime(ms))),
        None => "<unknown>".to_string(),
    }
}

// ---- Go's tabwriter ----

/// Go's `text/tabwriter` as `tabbedString` sets it up (min width 0, tab
/// width 8, padding 2, padded with spaces, no flags): each run of
/// consecutive lines with a cell in a column is aligned to that column's
/// widest cell plus two; a line's last cell (not ended by a tab) is not
/// padded.
pub fn tabbed(text: &str) -> String {
    let mut lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let trailing = text.ends_with('\n');
    if trailing {
        lines.pop();
    }
    let mut t = Tab {
        lines: &lines,
        widths: Vec::new(),
        out: String::with_capacity(text.len() * 2),
    };
    t.format(0, lines.len());
    let mut out = t.out;
    if !trailing && out.ends_with('\n') {
        out.pop();
    }
    out
}

struct Tab<'a> {
    lines: &'a [Vec<&'a str>],
    widths: Vec<usize>,
    out: String,
}

impl Tab<'_> {
    /// `Writer.format`: finds the column blocks left to right.
    fn format(&mut self, mut line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= self.lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;
            let mut width = 0;
            while this < line1 {
                let line = &self.lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].chars().count() + 2);
                this += 1;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    /// `Writer.writeLines`: the cells, padded to their columns' widths.
    fn write_lines(&mut self, line0: usize, line1: usize) {
        for line in &self.lines[line0..line1] {
            for (j, cell) in line.iter().enumerate() {
                self.out.push_str(cell);
                if let Some(&w) = self.widths.get(j) {
                    if j + 1 < line.len() {
                        let pad = w.saturating_sub(cell.chars().count());
                        self.out.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            self.out.push('\n');
        }
    }
}

// ---- shared sections ----

/// `printLabelsMultilineWithIndent`: `title:\tk=v`, one label a line.
fn labels(w: &mut String, indent: &str, title: &str, labels: &BTreeMap<&str, String>) {
    let _ = write!(w, "{indent}{title}:\t");
    if labels.is_empty() {
        w.push_str("<none>\n");
        return;
    }
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            let _ = write!(w, "{indent}\t");
        }
        let _ = writeln!(w, "{k}={v}");
    }
}

/// `printAnnotationsMultiline`: `k: v`, long or multi-line values below
/// their key, without `last-applied-configuration`.
fn annotations(w: &mut String, indent: &str, title: &str, annotations: &BTreeMap<&str, String>) {
    const MAX: usize = 140;
    let _ = write!(w, "{indent}{title}:\t");
    let keys: Vec<&&str> = annotations
        .keys()
        .filter(|k| **k != "kubectl.kubernetes.io/last-applied-configuration")
        .collect();
    if keys.is_empty() {
        w.push_str("<none>\n");
        return;
    }
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        let value = annotations
            .get(*k)
            .map(|v| v.trim_end_matches('\n'))
            .unwrap_or("");
        if value.len() + k.len() + 2 > MAX || value.contains('\n') {
            let _ = writeln!(w, "{k}:");
            for line in value.split('\n') {
                let short: String = if line.len() > MAX - 2 {
                    format!("{}...", line.chars().take(MAX - 2).collect::<String>())
                } else {
                    line.to_string()
                };
                let _ = writeln!(w, "\t  {short}");
            }
        } else {
            let _ = writeln!(w, "{k}: {value}");
        }
    }
}

fn meta_labels(w: &mut String, o: &Value) {
    labels(w, "", "Labels", &map(o, "/metadata/labels"));
    annotations(w, "", "Annotations", &map(o, "/metadata/annotations"));
}

/// `printController`: `Kind/name` of the controlling owner.
fn controller(o: &Value) -> Option<String> {
    list(o, "/metadata/ownerReferences")
        .iter()
        .find(|r| boolean(r, "/controller"))
        .map(|r| format!("{}/{}", s(r, "/kind"), s(r, "/name")))
}

/// `printTolerationsMultilineWithIndent`, sorted by key.
fn tolerations(w: &mut String, indent: &str, items: &[Value]) {
    let _ = write!(w, "{indent}Tolerations:\t");
    if items.is_empty() {
        w.push_str("<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by(|a, b| s(a, "/key").cmp(s(b, "/key")));
    for (i, t) in sorted.into_iter().enumerate() {
        if i > 0 {
            let _ = write!(w, "{indent}\t");
        }
        let (key, value, effect) = (s(t, "/key"), s(t, "/value"), s(t, "/effect"));
        w.push_str(key);
        if !value.is_empty() {
            let _ = write!(w, "={value}");
        }
        if !effect.is_empty() {
            let _ = write!(w, ":{effect}");
        }
        if s(t, "/operator") == "Exists" && value.is_empty() {
            w.push_str(if key.is_empty() && effect.is_empty() {
                "op=Exists"
            } else {
                " op=Exists"
            });
        }
        if let Some(secs) = t.pointer("/tolerationSeconds").and_then(Value::as_i64) {
            let _ = write!(w, " for {secs}s");
        }
        w.push('\n');
    }
}

/// `printNodeTaintsMultiline`: `key=value:Effect`, sorted by effect and key.
fn taints(w: &mut String, items: &[Value]) {
    w.push_str("Taints:\t");
    if items.is_empty() {
        w.push_str("<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by_key(|t| (s(t, "/effect"), s(t, "/key")));
    for (i, t) in sorted.into_iter().enumerate() {
        if i > 0 {
            w.push('\t');
        }
        let value = s(t, "/value");
        if value.is_empty() {
            let _ = writeln!(w, "{}:{}", s(t, "/key"), s(t, "/effect"));
        } else {
            let _ = writeln!(w, "{}={value}:{}", s(t, "/key"), s(t, "/effect"));
        }
    }
}

/// `DescribeEvents`: `Events:\t<none>`, or their table, oldest first.
fn events(w: &mut String, items: &[Value], now: SimTime) {
    if items.is_empty() {
        w.push_str("Events:\t<none>\n");
        return;
    }
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by_key(|e| {
        let last = s(e, "/lastTimestamp");
        parse_millis(if last.is_empty() {
            s(e, "/eventTime")
        } else {
            last
        })
        .unwrap_or(0)
    });
    w.push_str("Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.push_str("  ----\t------\t----\t----\t-------\n");
    for e in sorted {
        let first = match s(e, "/eventTime") {
            "" => since(s(e, "/firstTimestamp"), now),
            t => since(t, now),
        };
        let count = int(e, "/count");
        let interval = if e.pointer("/series").is_some_and(|v| !v.is_null()) {
            format!(
                "{} (x{} over {first})",
                since(s(e, "/series/lastObservedTime"), now),
                int(e, "/series/count")
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                since(s(e, "/lastTimestamp"), now)
            )
        } else {
            first
        };
        let source = match s(e, "/source/component") {
            "" => s(e, "/reportingComponent"),
            c => c,
        };
        let mut message = s(e, "/message").trim().to_string();
        let field = s(e, "/involvedObject/fieldPath");
        if !field.is_empty() {
            message = format!("{field}: {message}");
        }
        let _ = writeln!(
            w,
            "  {}\t{}\t{interval}\t{source}\t{message}",
            s(e, "/type"),
            s(e, "/reason")
        );
    }
}

// ---- containers and volumes ----

/// `describeContainers` (a pod's, with statuses; a template's, without).
fn containers(
    w: &mut String,
    label: &str,
    items: &[Value],
    statuses: &[Value],
    space: &str,
    pod: Option<&Value>,
) {
    let none = if items.is_empty() { " <none>" } else { "" };
    let _ = writeln!(w, "{space}{label}:{none}");
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in items {
        let name = s(c, "/name");
        let status = statuses.iter().find(|st| s(st, "/name") == name);
        let _ = writeln!(w, "  {name_indent}{name}:");
        if let Some(st) = status {
            let _ = writeln!(w, "    Container ID:\t{}", s(st, "/containerID"));
        }
        let _ = writeln!(w, "    Image:\t{}", s(c, "/image"));
        if let Some(st) = status {
            let _ = writeln!(w, "    Image ID:\t{}", s(st, "/imageID"));
        }
        let ports = list(c, "/ports");
        let port = |p: &Value, n: &str| {
            let proto = match s(p, "/protocol") {
                "" => "TCP",
                x => x,
            };
            let mut t = format!("{}/{proto}", int(p, n));
            if !s(p, "/name").is_empty() {
                let _ = write!(t, " ({})", s(p, "/name"));
            }
            t
        };
        let container_ports: Vec<String> =
            ports.iter().map(|p| port(p, "/containerPort")).collect();
        let host_ports: Vec<String> = ports.iter().map(|p| port(p, "/hostPort")).collect();
        for (one, many, list) in [
            ("Port", "Ports", container_ports),
            ("Host Port", "Host Ports", host_ports),
        ] {
            let text = list.join(", ");
            if text.contains(',') {
                let _ = writeln!(w, "    {many}:\t{text}");
            } else if text.is_empty() {
                let _ = writeln!(w, "    {one}:\t<none>");
            } else {
                let _ = writeln!(w, "    {one}:\t{text}");
            }
        }
        for (title, key) in [("Command", "/command"), ("Args", "/args")] {
            let args = list(c, key);
            if !args.is_empty() {
                let _ = writeln!(w, "    {title}:");
                for a in args {
                    for line in a.as_str().unwrap_or("").split('\n') {
                        let _ = writeln!(w, "      {line}");
                    }
                }
            }
        }
        if let Some(st) = status {
            container_state(w, "State", st.get("state"));
            if st.pointer("/lastState/terminated").is_some() {
                container_state(w, "Last State", st.get("lastState"));
            }
            let ready = if boolean(st, "/ready") {
                "True"
            } else {
                "False"
            };
            let _ = writeln!(w, "    Ready:\t{ready}");
            let _ = writeln!(w, "    Restart Count:\t{}", int(st, "/restartCount"));
        }
        resources(w, c.get("resources"), "    ");
        for (title, key) in [
            ("Liveness", "/livenessProbe"),
            ("Readiness", "/readinessProbe"),
            ("Startup", "/startupProbe"),
        ] {
            if let Some(p) = c.pointer(key) {
                let _ = writeln!(w, "    {title}:\t{}", probe(p));
            }
        }
        env_from(w, c);
        env(w, c, pod);
        mounts(w, c);
    }
}

/// `describeStatus`.
fn container_state(w: &mut String, name: &str, state: Option<&Value>) {
    let state = state.unwrap_or(&Value::Null);
    if let Some(r) = state.get("running") {
        let _ = writeln!(w, "    {name}:\tRunning");
        let _ = writeln!(w, "      Started:\t{}", rfc1123z(s(r, "/startedAt")));
    } else if let Some(t) = state.get("terminated") {
        let _ = writeln!(w, "    {name}:\tTerminated");
        if !s(t, "/reason").is_empty() {
            let _ = writeln!(w, "      Reason:\t{}", s(t, "/reason"));
        }
        if !s(t, "/message").is_empty() {
            let _ = writeln!(w, "      Message:\t{}", s(t, "/message"));
        }
        let _ = writeln!(w, "      Exit Code:\t{}", int(t, "/exitCode"));
        if int(t, "/signal") > 0 {
            let _ = writeln!(w, "      Signal:\t{}", int(t, "/signal"));
        }
        let _ = writeln!(w, "      Started:\t{}", rfc1123z(s(t, "/startedAt")));
        let _ = writeln!(w, "      Finished:\t{}", rfc1123z(s(t, "/finishedAt")));
    } else {
        let _ = writeln!(w, "    {name}:\tWaiting");
        if let Some(reason) = state.pointer("/waiting/reason").and_then(Value::as_str) {
            if !reason.is_empty() {
                let _ = writeln!(w, "      Reason:\t{reason}");
            }
        }
    }
}

/// `describeResources`: limits, then requests, by resource name.
fn resources(w: &mut String, r: Option<&Value>, indent: &str) {
    let Some(r) = r else {
        return;
    };
    for (title, key) in [("Limits", "/limits"), ("Requests", "/requests")] {
        let m = map(r, key);
        if !m.is_empty() {
            let _ = writeln!(w, "{indent}{title}:");
            for (name, q) in m {
                let _ = writeln!(w, "{indent}  {name}:\t{q}");
            }
        }
    }
}

/// `DescribeProbe`.
fn probe(p: &Value) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        int(p, "/initialDelaySeconds"),
        int(p, "/timeoutSeconds"),
        int(p, "/periodSeconds"),
        int(p, "/successThreshold"),
        int(p, "/failureThreshold")
    );
    if let Some(e) = p.get("exec") {
        let cmd: Vec<&str> = list(e, "/command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        format!("exec [{}] {attrs}", cmd.join(" "))
    } else if let Some(h) = p.get("httpGet") {
        let scheme = match s(h, "/scheme") {
            "" => "http".to_string(),
            x => x.to_ascii_lowercase(),
        };
        let port = scalar(h.get("port"));
        let host = s(h, "/host");
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let authority = if port.is_empty() {
            host
        } else {
            format!("{host}:{port}")
        };
        format!("http-get {scheme}://{authority}{} {attrs}", s(h, "/path"))
    } else if let Some(t) = p.get("tcpSocket") {
        format!(
            "tcp-socket {}:{} {attrs}",
            s(t, "/host"),
            scalar(t.get("port"))
        )
    } else if let Some(g) = p.get("grpc") {
        format!(
            "grpc <pod>:{} {} {attrs}",
            int(g, "/port"),
            s(g, "/service")
        )
    } else {
        format!("unknown {attrs}")
    }
}

/// `describeContainerEnvFrom`.
fn env_from(w: &mut String, c: &Value) {
    let items = list(c, "/envFrom");
    if items.is_empty() {
        return;
    }
    w.push_str("    Environment Variables from:\n");
    for e in items {
        let (from, r) = match (e.get("configMapRef"), e.get("secretRef")) {
            (Some(r), _) => ("ConfigMap", r),
            (None, Some(r)) => ("Secret", r),
            _ => ("", &Value::Null),
        };
        let optional = boolean(r, "/optional");
        match s(e, "/prefix") {
            "" => {
                let _ = writeln!(w, "      {}\t{from}\tOptional: {optional}", s(r, "/name"));
            }
            prefix => {
                let _ = writeln!(
                    w,
                    "      {}\t{from} with prefix '{prefix}'\tOptional: {optional}",
                    s(r, "/name")
                );
            }
        }
    }
}

/// `describeContainerEnvVars`; a pod's field references resolved against it.
fn env(w: &mut String, c: &Value, pod: Option<&Value>) {
    let items = list(c, "/env");
    if items.is_empty() {
        w.push_str("    Environment:\t<none>\n");
        return;
    }
    w.push_str("    Environment:\n");
    for e in items {
        let name = s(e, "/name");
        let Some(from) = e.get("valueFrom") else {
            for (i, line) in s(e, "/value").split('\n').enumerate() {
                if i == 0 {
                    let _ = writeln!(w, "      {name}:\t{line}");
                } else {
                    let _ = writeln!(w, "      \t{line}");
                }
            }
            continue;
        };
        if let Some(f) = from.get("fieldRef") {
            let path = s(f, "/fieldPath");
            let value = pod.map(|p| field_value(p, path)).unwrap_or_default();
            let version = match s(f, "/apiVersion") {
                "" => "v1",
                v => v,
            };
            let _ = writeln!(w, "      {name}:\t{value} ({version}:{path})");
        } else if let Some(r) = from.get("resourceFieldRef") {
            let resource = s(r, "/resource");
            let value = c
                .pointer(&format!("/resources/{}", resource.replacen('.', "/", 1)))
                .map(|v| scalar(Some(v)))
                .unwrap_or_else(|| {
                    if resource.starts_with("limits.") {
                        "node allocatable".into()
                    } else {
                        "0".into()
                    }
                });
            let _ = writeln!(w, "      {name}:\t{value} ({resource})");
        } else if let Some(r) = from.get("secretKeyRef") {
            let _ = writeln!(
                w,
                "      {name}:\t<set to the key '{}' in secret '{}'>\tOptional: {}",
                s(r, "/key"),
                s(r, "/name"),
                boolean(r, "/optional")
            );
        } else if let Some(r) = from.get("configMapKeyRef") {
            let _ = writeln!(
                w,
                "      {name}:\t<set to the key '{}' of config map '{}'>\tOptional: {}",
                s(r, "/key"),
                s(r, "/name"),
                boolean(r, "/optional")
            );
        }
    }
}

/// A pod's field as the downward API gives it (`fieldpath.ExtractFieldPathAsString`).
fn field_value(pod: &Value, path: &str) -> String {
    if let Some(key) = path
        .strip_prefix("metadata.labels['")
        .and_then(|k| k.strip_suffix("']"))
    {
        return map(pod, "/metadata/labels")
            .get(key)
            .cloned()
            .unwrap_or_default();
    }
    let pointer = match path {
        "metadata.name" => "/metadata/name",
        "metadata.namespace" => "/metadata/namespace",
        "metadata.uid" => "/metadata/uid",
        "spec.nodeName" => "/spec/nodeName",
        "spec.serviceAccountName" => "/spec/serviceAccountName",
        "status.podIP" => "/status/podIP",
        "status.hostIP" => "/status/hostIP",
        _ => return String::new(),
    };
    s(pod, pointer).to_string()
}

/// `describeContainerVolumes`: mounts by path.
fn mounts(w: &mut String, c: &Value) {
    let mut items: Vec<&Value> = list(c, "/volumeMounts").iter().collect();
    if items.is_empty() {
        w.push_str("    Mounts:\t<none>\n");
        return;
    }
    w.push_str("    Mounts:\n");
    items.sort_by(|a, b| s(a, "/mountPath").cmp(s(b, "/mountPath")));
    for m in items {
        let mut flags = vec![if boolean(m, "/readOnly") {
            "ro".to_string()
        } else {
            "rw".to_string()
        }];
        if !s(m, "/subPath").is_empty() {
            flags.push(format!("path={:?}", s(m, "/subPath")));
        }
        let _ = writeln!(
            w,
            "      {} from {} ({})",
            s(m, "/mountPath"),
            s(m, "/name"),
            flags.join(",")
        );
    }
}

/// `describeVolumes`, for the volume types the simulation mounts.
fn volumes(w: &mut String, items: &[Value], space: &str) {
    if items.is_empty() {
        let _ = writeln!(w, "{space}Volumes:\t<none>");
        return;
    }
    let _ = writeln!(w, "{space}Volumes:");
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in items {
        let _ = writeln!(w, "  {name_indent}{}:", s(v, "/name"));
        if let Some(h) = v.get("hostPath") {
            let kind = match s(h, "/type") {
                "" => "<none>",
                t => t,
            };
            let _ = write!(
                w,
                "    Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{kind}\n",
                s(h, "/path")
            );
        } else if let Some(e) = v.get("emptyDir") {
            let limit = match scalar(e.get("sizeLimit")) {
                l if l.is_empty() || l == "0" => "<unset>".to_string(),
                l => l,
            };
            let _ = write!(
                w,
                "    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{limit}\n",
                s(e, "/medium")
            );
        } else if let Some(sec) = v.get("secret") {
            let _ = write!(
                w,
                "    Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                s(sec, "/secretName"),
                boolean(sec, "/optional")
            );
        } else if let Some(cm) = v.get("configMap") {
            let _ = write!(
                w,
                "    Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                s(cm, "/name"),
                boolean(cm, "/optional")
            );
        } else if let Some(p) = v.get("projected") {
            w.push_str("    Type:\tProjected (a volume that contains injected data from multiple sources)\n");
            for src in list(p, "/sources") {
                if let Some(x) = src.get("secret") {
                    let _ = write!(
                        w,
                        "    SecretName:\t{}\n    Optional:\t{}\n",
                        s(x, "/name"),
                        boolean(x, "/optional")
                    );
                } else if src.get("downwardAPI").is_some() {
                    w.push_str("    DownwardAPI:\ttrue\n");
                } else if let Some(x) = src.get("configMap") {
                    let _ = write!(
                        w,
                        "    ConfigMapName:\t{}\n    Optional:\t{}\n",
                        s(x, "/name"),
                        boolean(x, "/optional")
                    );
                } else if let Some(x) = src.get("serviceAccountToken") {
                    let _ = writeln!(
                        w,
                        "    TokenExpirationSeconds:\t{}",
                        int(x, "/expirationSeconds")
                    );
                }
            }
        } else if let Some(c) = v.get("persistentVolumeClaim") {
            let _ = write!(
                w,
                "    Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                s(c, "/claimName"),
                boolean(c, "/readOnly")
            );
        } else if let Some(d) = v.get("downwardAPI") {
            w.push_str("    Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n");
            for item in list(d, "/items") {
                let from = match s(item, "/fieldRef/fieldPath") {
                    "" => s(item, "/resourceFieldRef/resource"),
                    f => f,
                };
                let _ = writeln!(w, "      {from} -> {}", s(item, "/path"));
            }
        } else {
            w.push_str("    <unknown>\n");
        }
    }
}

/// `DescribePodTemplate`.
fn pod_template(w: &mut String, t: Option<&Value>) {
    w.push_str("Pod Template:\n");
    let Some(t) = t else {
        w.push_str("  <unset>");
        return;
    };
    labels(w, "  ", "Labels", &map(t, "/metadata/labels"));
    let notes = map(t, "/metadata/annotations");
    if !notes.is_empty() {
        annotations(w, "  ", "Annotations", &notes);
    }
    if !s(t, "/spec/serviceAccountName").is_empty() {
        let _ = writeln!(
            w,
            "  Service Account:\t{}",
            s(t, "/spec/serviceAccountName")
        );
    }
    if !list(t, "/spec/initContainers").is_empty() {
        containers(
            w,
            "Init Containers",
            list(t, "/spec/initContainers"),
            &[],
            "  ",
            None,
        );
    }
    containers(
        w,
        "Containers",
        list(t, "/spec/containers"),
        &[],
        "  ",
        None,
    );
    volumes(w, list(t, "/spec/volumes"), "  ");
    spread(w, list(t, "/spec/topologySpreadConstraints"), "  ");
    if !s(t, "/spec/priorityClassName").is_empty() {
        let _ = writeln!(
            w,
            "  Priority Class Name:\t{}",
            s(t, "/spec/priorityClassName")
        );
    }
    labels(w, "  ", "Node-Selectors", &map(t, "/spec/nodeSelector"));
    tolerations(w, "  ", list(t, "/spec/tolerations"));
}

/// `describeTopologySpreadConstraints`, by topology key.
fn spread(w: &mut String, items: &[Value], space: &str) {
    if items.is_empty() {
        return;
    }
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by(|a, b| s(a, "/topologyKey").cmp(s(b, "/topologyKey")));
    let _ = write!(w, "{space}Topology Spread Constraints:\t");
    for (i, c) in sorted.into_iter().enumerate() {
        if i > 0 {
            let _ = write!(w, "{space}\t");
        }
        let _ = write!(
            w,
            "{}:{} when max skew {} is exceeded",
            s(c, "/topologyKey"),
            s(c, "/whenUnsatisfiable"),
            int(c, "/maxSkew")
        );
        if let Some(sel) = c.get("labelSelector") {
            let _ = write!(w, " for selector {}", selector_string(Some(sel)));
        }
        w.push('\n');
    }
}

// ---- the describers ----

/// `describePod`.
fn pod(w: &mut String, o: &Value, now: SimTime) {
    let _ = writeln!(w, "Name:\t{}", s(o, "/metadata/name"));
    let _ = writeln!(w, "Namespace:\t{}", s(o, "/metadata/namespace"));
    if let Some(p) = o.pointer("/spec/priority").and_then(Value::as_i64) {
        let _ = writeln!(w, "Priority:\t{p}");
    }
    if !s(o, "/spec/priorityClassName").is_empty() {
        let _ = writeln!(
            w,
            "Priority Class Name:\t{}",
            s(o, "/spec/priorityClassName")
        );
    }
    if !s(o, "/spec/serviceAccountName").is_empty() {
        let _ = writeln!(w, "Service Account:\t{}", s(o, "/spec/serviceAccountName"));
    }
    match s(o, "/spec/nodeName") {
        "" => w.push_str("Node:\t<none>\n"),
        node => {
            let _ = writeln!(w, "Node:\t{node}/{}", s(o, "/status/hostIP"));
        }
    }
    if !s(o, "/status/startTime").is_empty() {
        let _ = writeln!(w, "Start Time:\t{}", rfc1123z(s(o, "/status/startTime")));
    }
    meta_labels(w, o);
    let phase = s(o, "/status/phase");
    let deleting = s(o, "/metadata/deletionTimestamp");
    if !deleting.is_empty() && phase != "Failed" && phase != "Succeeded" {
        let _ = writeln!(w, "Status:\tTerminating (lasts {})", since(deleting, now));
        let _ = writeln!(
            w,
            "Termination Grace Period:\t{}s",
            int(o, "/metadata/deletionGracePeriodSeconds")
        );
    } else {
        let _ = writeln!(w, "Status:\t{phase}");
    }
    for (title, key) in [("Reason", "/status/reason"), ("Message", "/status/message")] {
        if !s(o, key).is_empty() {
            let _ = writeln!(w, "{title}:\t{}", s(o, key));
        }
    }
    let _ = writeln!(w, "IP:\t{}", s(o, "/status/podIP"));
    let ips = list(o, "/status/podIPs");
    if ips.is_empty() {
        w.push_str("IPs:\t<none>\n");
    } else {
        w.push_str("IPs:\n");
        for ip in ips {
            let _ = writeln!(w, "  IP:\t{}", s(ip, "/ip"));
        }
    }
    if let Some(c) = controller(o) {
        let _ = writeln!(w, "Controlled By:\t{c}");
    }
    if !s(o, "/status/nominatedNodeName").is_empty() {
        let _ = writeln!(
            w,
            "NominatedNodeName:\t{}",
            s(o, "/status/nominatedNodeName")
        );
    }
    if !list(o, "/spec/initContainers").is_empty() {
        containers(
            w,
            "Init Containers",
            list(o, "/spec/initContainers"),
            list(o, "/status/initContainerStatuses"),
            "",
            Some(o),
        );
    }
    containers(
        w,
        "Containers",
        list(o, "/spec/containers"),
        list(o, "/status/containerStatuses"),
        "",
        Some(o),
    );
    let gates = list(o, "/spec/readinessGates");
    let conditions = list(o, "/status/conditions");
    if !gates.is_empty() {
        w.push_str("Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let t = s(g, "/conditionType");
            let status = conditions
                .iter()
                .find(|c| s(c, "/type") == t)
                .map_or("<none>", |c| s(c, "/status"));
            let _ = writeln!(w, "  {t} \t{status} ");
        }
    }
    if !conditions.is_empty() {
        w.push_str("Conditions:\n  Type\tStatus\n");
        for c in conditions {
            let _ = writeln!(w, "  {} \t{} ", s(c, "/type"), s(c, "/status"));
        }
    }
    volumes(w, list(o, "/spec/volumes"), "");
    let qos = match s(o, "/status/qosClass") {
        "" => qos_class(o),
        q => q.to_string(),
    };
    let _ = writeln!(w, "QoS Class:\t{qos}");
    labels(w, "", "Node-Selectors", &map(o, "/spec/nodeSelector"));
    tolerations(w, "", list(o, "/spec/tolerations"));
    spread(w, list(o, "/spec/topologySpreadConstraints"), "");
}

/// `qos.GetPodQOS`: BestEffort with no requests or limits, Guaranteed when
/// every container limits CPU and memory and requests what it limits.
fn qos_class(o: &Value) -> String {
    let all: Vec<&Value> = list(o, "/spec/containers")
        .iter()
        .chain(list(o, "/spec/initContainers"))
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in all {
        let (req, lim) = (map(c, "/resources/requests"), map(c, "/resources/limits"));
        for name in ["cpu", "memory"] {
            let (r, l) = (req.get(name), lim.get(name));
            any |= r.is_some() || l.is_some();
            let same = match (r, l) {
                (Some(r), Some(l)) => Quantity::parse(r).ok() == Quantity::parse(l).ok(),
                (None, Some(_)) => true,
                _ => false,
            };
            guaranteed &= same;
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
    .to_string()
}

/// `describeDeployment`.
fn deployment(w: &mut String, o: &Value, related: &Related<'_>) {
    let _ = writeln!(w, "Name:\t{}", s(o, "/metadata/name"));
    let _ = writeln!(w, "Namespace:\t{}", s(o, "/metadata/namespace"));
    let _ = writeln!(
        w,
        "CreationTimestamp:\t{}",
        rfc1123z(s(o, "/metadata/creationTimestamp"))
    );
    meta_labels(w, o);
    let _ = writeln!(w, "Selector:\t{}", selector(o.pointer("/spec/selector")));
    let _ = writeln!(
        w,
        "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable",
        int(o, "/spec/replicas"),
        int(o, "/status/updatedReplicas"),
        int(o, "/status/replicas"),
        int(o, "/status/availableReplicas"),
        int(o, "/status/unavailableReplicas")
    );
    let _ = writeln!(w, "StrategyType:\t{}", s(o, "/spec/strategy/type"));
    let _ = writeln!(w, "MinReadySeconds:\t{}", int(o, "/spec/minReadySeconds"));
    if let Some(ru) = o.pointer("/spec/strategy/rollingUpdate") {
        let _ = writeln!(
            w,
            "RollingUpdateStrategy:\t{} max unavailable, {} max surge",
            scalar(ru.get("maxUnavailable")),
            scalar(ru.get("maxSurge"))
        );
    }
    pod_template(w, o.pointer("/spec/template"));
    conditions_with_reason(w, o);
    // `deploymentutil.GetAllReplicaSets`: the replica sets it controls; the
    // new one has its pod template (less the pod-template-hash label).
    let uid = s(o, "/metadata/uid");
    let owned: Vec<&Value> = related
        .replica_sets
        .iter()
        .filter(|rs| {
            list(rs, "/metadata/ownerReferences")
                .iter()
                .any(|r| boolean(r, "/controller") && s(r, "/uid") == uid)
        })
        .collect();
    let template = o.pointer("/spec/template").cloned().unwrap_or_default();
    let is_new = |rs: &Value| {
        let mut t = rs.pointer("/spec/template").cloned().unwrap_or_default();
        if let Some(labels) = t
            .pointer_mut("/metadata/labels")
            .and_then(Value::as_object_mut)
        {
            labels.remove("pod-template-hash");
        }
        t == template
    };
    let (new, old): (Vec<&Value>, Vec<&Value>) = owned.into_iter().partition(|rs| is_new(rs));
    if !new.is_empty() || !old.is_empty() {
        let _ = writeln!(w, "OldReplicaSets:\t{}", replica_sets_text(&old));
        let _ = writeln!(
            w,
            "NewReplicaSet:\t{}",
            replica_sets_text(&new[..new.len().min(1)])
        );
    }
}

/// `metav1.LabelSelectorAsSelector(...).String()`: empty for no selector.
fn selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        s if s == "<none>" => String::new(),
        s => s,
    }
}

/// `printReplicaSetsByLabels`.
fn replica_sets_text(items: &[&Value]) -> String {
    let text: Vec<String> = items
        .iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                s(rs, "/metadata/name"),
                int(rs, "/status/replicas"),
                int(rs, "/spec/replicas")
            )
        })
        .collect();
    if text.is_empty() {
        "<none>".into()
    } else {
        text.join(", ")
    }
}

/// A workload's conditions: `Type \tStatus\tReason`.
fn conditions_with_reason(w: &mut String, o: &Value) {
    let conditions = list(o, "/status/conditions");
    if conditions.is_empty() {
        return;
    }
    w.push_str("Conditions:\n  Type\tStatus\tReason\n  ----\t------\t------\n");
    for c in conditions {
        let _ = writeln!(
            w,
            "  {} \t{}\t{}",
            s(c, "/type"),
            s(c, "/status"),
            s(c, "/reason")
        );
    }
}

/// `describeReplicaSet`, with `getPodStatusForController`'s counts.
fn replica_set(w: &mut String, o: &Value, related: &Related<'_>) {
    let _ = writeln!(w, "Name:\t{}", s(o, "/metadata/name"));
    let _ = writeln!(w, "Namespace:\t{}", s(o, "/metadata/namespace"));
    let _ = writeln!(
        w,
        "Selector:\t{}",
        selector_string(o.pointer("/spec/selector"))
    );
    meta_labels(w, o);
    if let Some(c) = controller(o) {
        let _ = writeln!(w, "Controlled By:\t{c}");
    }
    let _ = writeln!(
        w,
        "Replicas:\t{} current / {} desired",
        int(o, "/status/replicas"),
        int(o, "/spec/replicas")
    );
    let uid = s(o, "/metadata/uid");
    let mut counts = [0; 4];
    for p in &related.pods {
        let mine = list(p, "/metadata/ownerReferences")
            .iter()
            .any(|r| boolean(r, "/controller") && s(r, "/uid") == uid);
        if !mine {
            continue;
        }
        match s(p, "/status/phase") {
            "Running" => counts[0] += 1,
            "Pending" => counts[1] += 1,
            "Succeeded" => counts[2] += 1,
            "Failed" => counts[3] += 1,
            _ => {}
        }
    }
    let _ = writeln!(
        w,
        "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed",
        counts[0], counts[1], counts[2], counts[3]
    );
    pod_template(w, o.pointer("/spec/template"));
    conditions_with_reason(w, o);
}

/// `describeService`, with its endpoint slices' ready addresses.
fn service(w: &mut String, o: &Value, related: &Related<'_>) {
    let name = s(o, "/metadata/name");
    let _ = writeln!(w, "Name:\t{name}");
    let _ = writeln!(w, "Namespace:\t{}", s(o, "/metadata/namespace"));
    meta_labels(w, o);
    let selector: Vec<String> = map(o, "/spec/selector")
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(w, "Selector:\t{}", selector.join(","));
    let _ = writeln!(w, "Type:\t{}", s(o, "/spec/type"));
    if !s(o, "/spec/ipFamilyPolicy").is_empty() {
        let _ = writeln!(w, "IP Family Policy:\t{}", s(o, "/spec/ipFamilyPolicy"));
    }
    let families: Vec<&str> = list(o, "/spec/ipFamilies")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let families = if families.is_empty() {
        "<none>".to_string()
    } else {
        families.join(",")
    };
    let _ = writeln!(w, "IP Families:\t{families}");
    let _ = writeln!(w, "IP:\t{}", s(o, "/spec/clusterIP"));
    let ips: Vec<&str> = list(o, "/spec/clusterIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ips = if ips.is_empty() {
        "<none>".to_string()
    } else {
        ips.join(",")
    };
    let _ = writeln!(w, "IPs:\t{ips}");
    let external: Vec<&str> = list(o, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !external.is_empty() {
        let _ = writeln!(w, "External IPs:\t{}", external.join(","));
    }
    if !s(o, "/spec/loadBalancerIP").is_empty() {
        let _ = writeln!(
            w,
            "Desired LoadBalancer IP:\t{}",
            s(o, "/spec/loadBalancerIP")
        );
    }
    if !s(o, "/spec/externalName").is_empty() {
        let _ = writeln!(w, "External Name:\t{}", s(o, "/spec/externalName"));
    }
    let ingress: Vec<&str> = list(o, "/status/loadBalancer/ingress")
        .iter()
        .map(|i| match s(i, "/ip") {
            "" => s(i, "/hostname"),
            ip => ip,
        })
        .collect();
    if !ingress.is_empty() {
        let _ = writeln!(w, "LoadBalancer Ingress:\t{}", ingress.join(", "));
    }
    let slices: Vec<&Value> = related
        .endpoint_slices
        .iter()
        .filter(|e| s(e, "/metadata/labels/kubernetes.io~1service-name") == name)
        .collect();
    for p in list(o, "/spec/ports") {
        let port_name = s(p, "/name");
        let shown = if port_name.is_empty() {
            "<unset>"
        } else {
            port_name
        };
        let proto = match s(p, "/protocol") {
            "" => "TCP",
            x => x,
        };
        let _ = writeln!(w, "Port:\t{shown}\t{}/{proto}", int(p, "/port"));
        let _ = writeln!(w, "TargetPort:\t{}/{proto}", scalar(p.get("targetPort")));
        if !s(p, "/appProtocol").is_empty() {
            let _ = writeln!(w, "AppProtocol:\t{}", s(p, "/appProtocol"));
        }
        if int(p, "/nodePort") != 0 {
            let _ = writeln!(w, "NodePort:\t{shown}\t{}/{proto}", int(p, "/nodePort"));
        }
        let _ = writeln!(w, "Endpoints:\t{}", endpoints_text(&slices, port_name));
    }
    let _ = writeln!(w, "Session Affinity:\t{}", s(o, "/spec/sessionAffinity"));
    if !s(o, "/spec/externalTrafficPolicy").is_empty() {
        let _ = writeln!(
            w,
            "External Traffic Policy:\t{}",
            s(o, "/spec/externalTrafficPolicy")
        );
    }
    if !s(o, "/spec/internalTrafficPolicy").is_empty() {
        let _ = writeln!(
            w,
            "Internal Traffic Policy:\t{}",
            s(o, "/spec/internalTrafficPolicy")
        );
    }
    if int(o, "/spec/healthCheckNodePort") != 0 {
        let _ = writeln!(
            w,
            "HealthCheck NodePort:\t{}",
            int(o, "/spec/healthCheckNodePort")
        );
    }
    if !s(o, "/spec/trafficDistribution").is_empty() {
        let _ = writeln!(
            w,
            "Traffic Distribution:\t{}",
            s(o, "/spec/trafficDistribution")
        );
    }
}

/// `formatEndpointSlices` for one port name: ready `ip:port`s, three at most.
fn endpoints_text(slices: &[&Value], port_name: &str) -> String {
    if slices.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut count = 0;
    for slice in slices {
        for port in list(slice, "/ports") {
            if s(port, "/name") != port_name {
                continue;
            }
            for e in list(slice, "/endpoints") {
                let ready = e
                    .pointer("/conditions/ready")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                if !ready {
                    continue;
                }
                let addr = list(e, "/addresses")
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if shown.len() < MAX {
                    let host = if addr.contains(':') {
                        format!("[{addr}]")
                    } else {
                        addr.to_string()
                    };
                    shown.push(format!("{host}:{}", int(port, "/port")));
                }
                count += 1;
            }
        }
    }
    let text = shown.join(",");
    if count > MAX {
        format!("{text} + {} more...", count - MAX)
    } else {
        text
    }
}

/// `describeNode`, with its Lease and `describeNodeResource`.
fn node(w: &mut String, o: &Value, related: &Related<'_>, now: SimTime) {
    let name = s(o, "/metadata/name");
    let _ = writeln!(w, "Name:\t{name}");
    let node_labels = map(o, "/metadata/labels");
    let mut roles: Vec<&str> = node_labels
        .iter()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) if !role.is_empty() => Some(role),
            _ if *k == "kubernetes.io/role" && !v.is_empty() => Some(v.as_str()),
            _ => None,
        })
        .collect();
    roles.sort_unstable();
    roles.dedup();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let _ = writeln!(w, "Roles:\t{roles}");
    meta_labels(w, o);
    let _ = writeln!(
        w,
        "CreationTimestamp:\t{}",
        rfc1123z(s(o, "/metadata/creationTimestamp"))
    );
    taints(w, list(o, "/spec/taints"));
    let _ = writeln!(w, "Unschedulable:\t{}", boolean(o, "/spec/unschedulable"));
    match related.lease {
        Some(l) => {
            w.push_str("Lease:\n");
            let or_unset = |t: &str| {
                if t.is_empty() {
                    "<unset>".to_string()
                } else {
                    t.to_string()
                }
            };
            let _ = writeln!(
                w,
                "  HolderIdentity:\t{}",
                or_unset(s(l, "/spec/holderIdentity"))
            );
            let time = |t: &str| {
                if t.is_empty() {
                    "<unset>".to_string()
                } else {
                    rfc1123z(t)
                }
            };
            let _ = writeln!(w, "  AcquireTime:\t{}", time(s(l, "/spec/acquireTime")));
            let _ = writeln!(w, "  RenewTime:\t{}", time(s(l, "/spec/renewTime")));
        }
        None => {
            let _ = writeln!(
                w,
                "Lease:\tFailed to get lease: leases.coordination.k8s.io \"{name}\" not found"
            );
        }
    }
    let conditions = list(o, "/status/conditions");
    if !conditions.is_empty() {
        w.push_str(
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.push_str("  ----\t------\t-----------------\t------------------\t------\t-------\n");
        for c in conditions {
            let _ = writeln!(
                w,
                "  {} \t{} \t{} \t{} \t{} \t{}",
                s(c, "/type"),
                s(c, "/status"),
                rfc1123z(s(c, "/lastHeartbeatTime")),
                rfc1123z(s(c, "/lastTransitionTime")),
                s(c, "/reason"),
                s(c, "/message")
            );
        }
    }
    w.push_str("Addresses:\n");
    for a in list(o, "/status/addresses") {
        let _ = writeln!(w, "  {}:\t{}", s(a, "/type"), s(a, "/address"));
    }
    for (title, key) in [
        ("Capacity", "/status/capacity"),
        ("Allocatable", "/status/allocatable"),
    ] {
        let m = map(o, key);
        if !m.is_empty() {
            let _ = writeln!(w, "{title}:");
            for (resource, q) in m {
                let _ = writeln!(w, "  {resource}:\t{q}");
            }
        }
    }
    w.push_str("System Info:\n");
    for (title, key) in [
        ("Machine ID", "machineID"),
        ("System UUID", "systemUUID"),
        ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"),
        ("OS Image", "osImage"),
        ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"),
        ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"),
    ] {
        let _ = writeln!(
            w,
            "  {title}:\t{}",
            s(o, &format!("/status/nodeInfo/{key}"))
        );
    }
    if !s(o, "/spec/podCIDR").is_empty() {
        let _ = writeln!(w, "PodCIDR:\t{}", s(o, "/spec/podCIDR"));
    }
    let cidrs: Vec<&str> = list(o, "/spec/podCIDRs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if !cidrs.is_empty() {
        let _ = writeln!(w, "PodCIDRs:\t{}", cidrs.join(","));
    }
    if !s(o, "/spec/providerID").is_empty() {
        let _ = writeln!(w, "ProviderID:\t{}", s(o, "/spec/providerID"));
    }
    node_resources(w, o, related, now);
}

/// A summed quantity, printed as `resource.Quantity.String()` would print
/// it: CPU in millicores or cores, bytes with the largest exact suffix of
/// the kind (binary or decimal) the first value was written in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Amount {
    milli: i64,
    binary: bool,
}

impl Amount {
    fn parse(text: &str) -> Option<Amount> {
        let q = Quantity::parse(text).ok()?;
        Some(Amount {
            milli: q.milli_value(),
            binary: text.trim_end().ends_with('i'),
        })
    }

    fn add(self, other: Amount) -> Amount {
        Amount {
            milli: self.milli.saturating_add(other.milli),
            binary: self.binary,
        }
    }

    fn text(self) -> String {
        if self.milli % 1000 != 0 {
            return format!("{}m", self.milli);
        }
        let units = self.milli / 1000;
        let (base, suffixes): (i64, [&str; 4]) = if self.binary {
            (1024, ["Ki", "Mi", "Gi", "Ti"])
        } else {
            (1000, ["k", "M", "G", "T"])
        };
        let mut best = (units, "");
        let mut scale = 1;
        for suffix in suffixes {
            scale *= base;
            if units != 0 && units % scale == 0 {
                best = (units / scale, suffix);
            }
        }
        format!("{}{}", best.0, best.1)
    }
}

/// A pod's summed container requests or limits of one resource
/// (`resourcehelper.PodRequests`: the containers' sum, or the largest init
/// container's when that is more).
fn pod_total(pod: &Value, which: &str, resource: &str) -> Option<Amount> {
    let pointer = format!("/resources/{which}/{resource}");
    let read = |c: &Value| {
        c.pointer(&pointer)
            .and_then(Value::as_str)
            .and_then(Amount::parse)
    };
    let mut sum: Option<Amount> = None;
    for c in list(pod, "/spec/containers") {
        if let Some(q) = read(c) {
            sum = Some(sum.map_or(q, |s| s.add(q)));
        }
    }
    for c in list(pod, "/spec/initContainers") {
        if let Some(q) = read(c) {
            if sum.is_none_or(|s| q.milli > s.milli) {
                sum = Some(q);
            }
        }
    }
    sum
}

/// `describeNodeResource`: the node's non-terminated pods and what they ask.
fn node_resources(w: &mut String, o: &Value, related: &Related<'_>, now: SimTime) {
    let name = s(o, "/metadata/name");
    let pods: Vec<&Value> = related
        .pods
        .iter()
        .filter(|p| {
            s(p, "/spec/nodeName") == name
                && !matches!(s(p, "/status/phase"), "Succeeded" | "Failed")
        })
        .collect();
    let mut allocatable = map(o, "/status/allocatable");
    if allocatable.is_empty() {
        allocatable = map(o, "/status/capacity");
    }
    let alloc_milli = |r: &str| {
        allocatable
            .get(r)
            .and_then(|q| Quantity::parse(q).ok())
            .map_or(0, |q| q.milli_value())
    };
    let percent = |q: &Option<Amount>, r: &str| {
        let a = alloc_milli(r);
        if a == 0 {
            0
        } else {
            (q.map_or(0, |q| q.milli) as f64 / a as f64 * 100.0) as i64
        }
    };
    let show = |q: &Option<Amount>| q.map_or_else(|| "0".to_string(), |q| q.text());
    let _ = writeln!(w, "Non-terminated Pods:\t({} in total)", pods.len());
    w.push_str(
        "  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.push_str(
        "  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let mut totals: BTreeMap<(&str, &str), Amount> = BTreeMap::new();
    for p in &pods {
        let mut cells = Vec::new();
        for (which, r) in [
            ("requests", "cpu"),
            ("limits", "cpu"),
            ("requests", "memory"),
            ("limits", "memory"),
        ] {
            let q = pod_total(p, which, r);
            cells.push(format!("{} ({}%)", show(&q), percent(&q, r)));
        }
        for which in ["requests", "limits"] {
            for r in ["cpu", "memory", "ephemeral-storage"] {
                if let Some(q) = pod_total(p, which, r) {
                    let t = totals.get(&(which, r)).map_or(q, |t| t.add(q));
                    totals.insert((which, r), t);
                }
            }
        }
        let _ = writeln!(
            w,
            "  {}\t{}\t\t{}\t{}\t{}\t{}\t{}",
            s(p, "/metadata/namespace"),
            s(p, "/metadata/name"),
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            since(s(p, "/metadata/creationTimestamp"), now)
        );
    }
    w.push_str(
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.push_str("  Resource\tRequests\tLimits\n  --------\t--------\t------\n");
    for r in ["cpu", "memory", "ephemeral-storage"] {
        let req = totals.get(&("requests", r)).copied();
        let lim = totals.get(&("limits", r)).copied();
        let _ = writeln!(
            w,
            "  {r}\t{} ({}%)\t{} ({}%)",
            show(&req),
            percent(&req, r),
            show(&lim),
            percent(&lim, r)
        );
    }
    for r in allocatable.keys().filter(|r| r.starts_with("hugepages-")) {
        let _ = writeln!(w, "  {r}\t0 (0%)\t0 (0%)");
    }
}

/// The generic describer: metadata, then the spec and status as YAML.
fn generic(w: &mut String, o: &Value) {
    let _ = writeln!(w, "Name:\t{}", s(o, "/metadata/name"));
    if !s(o, "/metadata/namespace").is_empty() {
        let _ = writeln!(w, "Namespace:\t{}", s(o, "/metadata/namespace"));
    }
    meta_labels(w, o);
    if !s(o, "/metadata/creationTimestamp").is_empty() {
        let _ = writeln!(
            w,
            "CreationTimestamp:\t{}",
            rfc1123z(s(o, "/metadata/creationTimestamp"))
        );
    }
    for section in ["spec", "status", "data", "rules", "subjects", "roleRef"] {
        if let Some(v) = o.get(section) {
            let mut title = section.to_string();
            if let Some(first) = title.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            let _ = writeln!(w, "{title}:");
            for line in crate::api::print::to_yaml(v).lines() {
                let _ = writeln!(w, "  {line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tab_writer_aligns_each_run_of_lines_as_go_s_does() {
        let text = "Name:\tweb\nNamespace:\tdefault\nLabels:\tapp=web\n\ttier=front\nContainers:\n  nginx:\n    Image:\tnginx\n    Port:\t80/TCP\n";
        assert_eq!(
            tabbed(text),
            "Name:       web\nNamespace:  default\nLabels:     app=web\n            tier=front\nContainers:\n  nginx:\n    Image:  nginx\n    Port:   80/TCP\n"
        );
        // A table's columns, with an empty column from a doubled tab.
        let table = "  Namespace\tName\t\tAge\n  default\tweb-1\t\t5s\n";
        assert_eq!(
            tabbed(table),
            "  Namespace  Name     Age\n  default    web-1    5s\n"
        );
    }

    #[test]
    fn timestamps_print_as_go_s_rfc1123z() {
        assert_eq!(
            rfc1123z("2026-01-01T00:00:12Z"),
            "Thu, 01 Jan 2026 00:00:12 +0000"
        );
        assert_eq!(
            rfc1123z("2026-03-02T13:04:05Z"),
            "Mon, 02 Mar 2026 13:04:05 +0000"
        );
    }

    #[test]
    fn a_probe_reads_as_kubectl_prints_it() {
        let p = serde_json::json!({"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3});
        assert_eq!(
            probe(&p),
            "http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3"
        );
        let e = serde_json::json!({"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5});
        assert_eq!(
            probe(&e),
            "exec [cat /tmp/healthy] delay=5s timeout=0s period=0s #success=0 #failure=0"
        );
    }

    #[test]
    fn summed_quantities_print_with_their_largest_exact_suffix() {
        let a = |t: &str| Amount::parse(t).map(Amount::text);
        assert_eq!(a("250m").as_deref(), Some("250m"));
        assert_eq!(
            Amount::parse("500m")
                .zip(Amount::parse("500m"))
                .map(|(x, y)| x.add(y).text())
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            Amount::parse("64Mi")
                .zip(Amount::parse("128Mi"))
                .map(|(x, y)| x.add(y).text())
                .as_deref(),
            Some("192Mi")
        );
        assert_eq!(a("1Gi").as_deref(), Some("1Gi"));
        assert_eq!(a("100M").as_deref(), Some("100M"));
        assert_eq!(a("0").as_deref(), Some("0"));
    }

    #[test]
    fn tolerations_and_qos_read_as_kubectl_prints_them() {
        let pod = serde_json::json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}}}],
            "tolerations": [
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]}});
        let mut w = String::new();
        tolerations(&mut w, "", list(&pod, "/spec/tolerations"));
        assert_eq!(
            tabbed(&w),
            "Tolerations:  node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n              node.kubernetes.io/unreachable:NoExecute op=Exists for 300s\n"
        );
        assert_eq!(qos_class(&pod), "Burstable");
        let none = serde_json::json!({"spec": {"containers": [{"name": "c"}]}});
        assert_eq!(qos_class(&none), "BestEffort");
    }
}
