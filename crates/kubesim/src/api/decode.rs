//! Decoding manifests: YAML or JSON text in, typed [`Object`]s out, with
//! kubectl's and kube-apiserver's error messages.
//!
//! In Kubernetes, kubectl splits its input into documents
//! (apimachinery's `util/yaml.YAMLReader`: a line starting `---`), converts
//! each from YAML to JSON (`sigs.k8s.io/yaml.YAMLToJSON`), reads
//! `apiVersion` and `kind`, maps them to a resource through discovery, and
//! sends the JSON; kube-apiserver decodes it strictly (unknown and duplicate
//! fields are a 400 since server-side field validation became the default)
//! and answers `cannot be handled as a Pod` when a value has the wrong type.
//!
//! Left out: YAML 1.1 booleans (`yes`/`on` stay strings, as in YAML 1.2),
//! OpenAPI client-side validation, `--validate=false`/`warn`, and Go's exact
//! struct names in type errors (the innermost struct is guessed from the
//! field name for the common fields).

use super::field::FieldError;
use super::object::{split_api_version, Kind, KindId, Object};
use super::status::ApiError;
use serde_json::{Map, Value};

/// Why a manifest could not be turned into objects. `Display` is the line
/// kubectl prints.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not YAML (or JSON).
    #[error("error: error parsing {source_name}: error converting YAML to JSON: yaml: {}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Syntax {
        source_name: String,
        /// The line within the document, as go-yaml counts it.
        line: Option<usize>,
        message: String,
    },
    /// A document is not an object, or the JSON stream is malformed.
    #[error("error: error parsing {source_name}: {message}")]
    NotAnObject {
        source_name: String,
        message: String,
    },
    /// `apiVersion` or `kind` is missing.
    #[error("error: error validating \"{source_name}\": error validating data: [{}]; if you choose to ignore these errors, turn validation off with --validate=false", missing.join(", "))]
    MissingTypeInfo {
        source_name: String,
        /// `apiVersion not set`, `kind not set`.
        missing: Vec<&'static str>,
    },
    /// No served kind has this `apiVersion` and `kind`.
    #[error("error: resource mapping not found for name: \"{name}\" namespace: \"{namespace}\" from \"{source_name}\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first")]
    NoMatch {
        source_name: String,
        name: String,
        namespace: String,
        kind: String,
        api_version: String,
    },
    /// kube-apiserver refused the body (strict decoding or wrong types).
    /// `Display` assumes the object was being created.
    #[error("{}", error.to_kubectl_from("creating", source_name))]
    Rejected {
        source_name: String,
        error: ApiError,
    },
}

/// Decodes every object in `text` (YAML documents separated by `---`, a
/// JSON object or a stream of them; `kind: List` is expanded). Stops at the
/// first error, as kubectl does when it gathers its inputs. `source_name`
/// is what errors call the input: a file name, or `STDIN`.
pub fn decode(text: &str, source_name: &str) -> Result<Vec<Object>, DecodeError> {
    decode_each(text, source_name).into_iter().collect()
}

/// Like [`decode`], but one result per object so the good ones can still be
/// applied, as `kubectl apply` does. A syntax error ends the list.
pub fn decode_each(text: &str, source_name: &str) -> Vec<Result<Object, DecodeError>> {
    let mut out = Vec::new();
    let values = match parse_documents(text, source_name) {
        Ok(values) => values,
        Err(e) => return vec![Err(e)],
    };
    for value in values {
        match value {
            Value::Null => {}
            Value::Object(ref map)
                if map.get("kind").and_then(Value::as_str) == Some("List")
                    && map.get("items").is_some_and(Value::is_array) =>
            {
                if let Some(Value::Array(items)) = map.get("items") {
                    out.extend(items.iter().map(|v| decode_value(v, source_name)));
                }
            }
            v => out.push(decode_value(&v, source_name)),
        }
    }
    out
}

/// Decodes one JSON object into a typed object, strictly.
pub fn decode_value(value: &Value, source_name: &str) -> Result<Object, DecodeError> {
    let Some(map) = value.as_object() else {
        return Err(DecodeError::NotAnObject {
            source_name: source_name.to_string(),
            message: format!(
                "json: cannot unmarshal {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
                go_json_type(value)
            ),
        });
    };
    let text_of = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (text_of("apiVersion"), text_of("kind"));
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion not set");
    }
    if kind.is_empty() {
        missing.push("kind not set");
    }
    if !missing.is_empty() {
        return Err(DecodeError::MissingTypeInfo {
            source_name: source_name.to_string(),
            missing,
        });
    }
    let meta = map.get("metadata");
    let meta_text = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let Some(info) = Kind::for_api_version(api_version, kind) else {
        return Err(DecodeError::NoMatch {
            source_name: source_name.to_string(),
            name: meta_text("name"),
            namespace: meta_text("namespace"),
            kind: kind.to_string(),
            api_version: api_version.to_string(),
        });
    };
    decode_strict(info.id, value).map_err(|error| DecodeError::Rejected {
        source_name: source_name.to_string(),
        error,
    })
}

/// Decodes a JSON object of a known kind as kube-apiserver does with
/// strict field validation: a wrong type or an unknown field is a 400.
pub fn decode_strict(kind: KindId, value: &Value) -> Result<Object, ApiError> {
    let info = kind.info();
    let head = format!(
        "{} in version \"{}\" cannot be handled as a {}",
        info.kind, info.version, info.kind
    );
    let object = Object::from_value_of(kind, value).map_err(|e| {
        // Go decodes a missing field as its zero value and validation then
        // reports it; k8s-openapi makes a few required fields non-optional,
        // so their absence is reported here, as validation would.
        let inner = e.inner().to_string();
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
        {
            let mut path = go_path(e.path(), true);
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(field);
            let name = value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            return ApiError::invalid(info, name, vec![FieldError::required(path, "")]);
        }
        ApiError::bad_request(format!("{head}: {}", type_error(info, &e)))
    })?;
    let mut unknown = Vec::new();
    unknown_fields(value, &object.to_value(), &mut String::new(), &mut unknown);
    if !unknown.is_empty() {
        let list: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect();
        return Err(ApiError::bad_request(format!(
            "{head}: strict decoding error: {}",
            list.join(", ")
        )));
    }
    Ok(object)
}

/// Collects the paths present in what was sent but absent from what the
/// schema kept: the fields it does not know. `null` values are skipped
/// (they mean "unset" to Go too).
fn unknown_fields(sent: &Value, kept: &Value, path: &mut String, out: &mut Vec<String>) {
    match (sent, kept) {
        (Value::Object(s), Value::Object(k)) => {
            for (key, value) in s {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match k.get(key) {
                    Some(kv) => unknown_fields(value, kv, path, out),
                    None if value.is_null() => {}
                    None => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(s), Value::Array(k)) => {
            for (i, (sv, kv)) in s.iter().zip(k).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                unknown_fields(sv, kv, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// A serde path as a field path: `spec.containers[0].name` (with indexes)
/// or `spec.containers.name` (without, as Go's json errors print it).
fn go_path(path: &serde_path_to_error::Path, indexes: bool) -> String {
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            serde_path_to_error::Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Seq { index } if indexes => {
                out.push_str(&format!("[{index}]"));
            }
            _ => {}
        }
    }
    out
}

/// `json: cannot unmarshal string into Go struct field
/// ContainerPort.spec.containers.ports.containerPort of type int32`, from
/// serde's `invalid type: string "80", expected i32`.
fn type_error(info: &Kind, e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let fields: Vec<String> = e
        .path()
        .iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        })
        .collect();
    let inner = e.inner().to_string();
    let Some(rest) = inner.strip_prefix("invalid type: ") else {
        return match fields.is_empty() {
            true => inner,
            false => format!("{}: {inner}", fields.join(".")),
        };
    };
    let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let got = match got.split_whitespace().next().unwrap_or("") {
        "string" => "string",
        "integer" | "floating" => "number",
        "boolean" => "bool",
        "map" => "object",
        "sequence" => "array",
        "null" | "unit" => "null",
        other => other,
    };
    let field = fields.last().map(String::as_str).unwrap_or("");
    let go_type = match expected.trim() {
        "i32" => "int32".to_string(),
        "i64" => "int64".to_string(),
        "f64" => "float64".to_string(),
        "a boolean" | "bool" => "bool".to_string(),
        "a string" | "string" => "string".to_string(),
        "a sequence" => format!("[]{}", element_type(field)),
        "a map" => "map[string]string".to_string(),
        other => format!("v1.{}", other.trim_start_matches("struct ")),
    };
    let parent = match fields.len() {
        0 | 1 => info.kind.to_string(),
        n => struct_name(info, &fields[..n - 1]),
    };
    format!(
        "json: cannot unmarshal {got} into Go struct field {parent}.{} of type {go_type}",
        fields.join(".")
    )
}

/// The Go struct that holds the last field of `path`, for the fields
/// manifests most often get wrong; the kind itself otherwise.
fn struct_name(info: &Kind, path: &[String]) -> String {
    let last = path.last().map(String::as_str).unwrap_or("");
    let pod_spec = matches!(path, [.., t, s] if t == "template" && s == "spec")
        || (info.kind == "Pod" && path == ["spec"]);
    let name = match last {
        "metadata" => "ObjectMeta",
        "spec" if pod_spec => "PodSpec",
        "spec" if path.len() == 1 => return format!("{}Spec", info.kind),
        "status" if path.len() == 1 => return format!("{}Status", info.kind),
        "template" if info.kind == "CronJob" => "JobTemplateSpec",
        "template" => "PodTemplateSpec",
        "jobTemplate" => "JobTemplateSpec",
        "selector" if info.kind != "Service" => "LabelSelector",
        "containers" | "initContainers" => "Container",
        "ports" if info.kind == "Service" => "ServicePort",
        "ports" => "ContainerPort",
        "env" => "EnvVar",
        "resources" => "ResourceRequirements",
        "livenessProbe" | "readinessProbe" | "startupProbe" => "Probe",
        "httpGet" => "HTTPGetAction",
        "tcpSocket" => "TCPSocketAction",
        "exec" => "ExecAction",
        "volumeMounts" => "VolumeMount",
        "volumes" => "Volume",
        "strategy" => "DeploymentStrategy",
        "rollingUpdate" => "RollingUpdateDeployment",
        "tolerations" => "Toleration",
        "securityContext" => "SecurityContext",
        _ => return info.kind.to_string(),
    };
    name.to_string()
}

fn element_type(field: &str) -> &'static str {
    match field {
        "command" | "args" | "finalizers" => "string",
        "containers" | "initContainers" => "v1.Container",
        "env" => "v1.EnvVar",
        "volumes" => "v1.Volume",
        "volumeMounts" => "v1.VolumeMount",
        "tolerations" => "v1.Toleration",
        _ => "interface {}",
    }
}

fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Splits the text into documents and parses each into JSON.
fn parse_documents(text: &str, source_name: &str) -> Result<Vec<Value>, DecodeError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let mut values = Vec::new();
        for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            match v {
                Ok(Value::Array(items)) => values.extend(items),
                Ok(v) => values.push(v),
                Err(e) => {
                    return Err(DecodeError::NotAnObject {
                        source_name: source_name.to_string(),
                        message: e.to_string(),
                    })
                }
            }
        }
        return Ok(values);
    }
    let mut values = Vec::new();
    for doc in split_documents(text, source_name)? {
        if doc.trim().is_empty() {
            continue;
        }
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&doc).map_err(|e| syntax_error(&e, source_name))?;
        values.push(yaml_to_json(yaml).map_err(|message| DecodeError::Syntax {
            source_name: source_name.to_string(),
            line: None,
            message,
        })?);
    }
    Ok(values)
}

/// apimachinery's `YAMLReader`: a line starting with `---` ends a
/// document; only a comment may follow the marker.
fn split_documents(text: &str, source_name: &str) -> Result<Vec<String>, DecodeError> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(DecodeError::NotAnObject {
                    source_name: source_name.to_string(),
                    message: format!("invalid Yaml document separator: {rest}"),
                });
            }
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
        }
    }
    Ok(docs)
}

/// go-yaml's wording and line numbering for a libyaml error (go-yaml's
/// `parser.fail`: scanner errors count lines from 1, parser errors report
/// libyaml's 0-based line, and the context's line wins when not 0).
fn syntax_error(e: &serde_yaml_ng::Error, source_name: &str) -> DecodeError {
    let full = e.to_string();
    let problem_line = e.location().map(|l| l.line()).unwrap_or(0);
    let (problem, context) = match full.split_once(", while ") {
        Some((p, c)) => (p, Some(c)),
        None => (full.as_str(), None),
    };
    let message = match problem.find(" at line ") {
        Some(i) => &problem[..i],
        None => problem,
    };
    let scanner = match context {
        Some(c) => c.starts_with("scanning"),
        None => !message.starts_with("did not find expected"),
    };
    // The context's 1-based line if printed; if not, it was either the
    // problem's own mark (scanner) or the document start (parser).
    let context_line = match context.and_then(|c| c.split_once(" at line ")) {
        Some((_, l)) => l
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0),
        None if context.is_some() && scanner => problem_line,
        None => 0,
    };
    let (ctx0, prob0) = (
        context_line.saturating_sub(1),
        problem_line.saturating_sub(1),
    );
    let line = match (ctx0, prob0, scanner) {
        (0, 0, _) => None,
        (0, p, true) => Some(p + 1),
        (0, p, false) => Some(p),
        (c, _, true) => Some(c + 1),
        (c, _, false) => Some(c),
    };
    DecodeError::Syntax {
        source_name: source_name.to_string(),
        line,
        message: message.to_string(),
    }
}

/// `sigs.k8s.io/yaml.YAMLToJSON`: keys become strings, tags are dropped.
fn yaml_to_json(v: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| format!("json: unsupported value: {f}"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    other => return Err(format!("invalid map key: {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
}

/// Parses JSON or YAML text into one JSON value without decoding it into a
/// kind (for patches and `-f` inputs the shell inspects first).
pub fn parse_value(text: &str, source_name: &str) -> Result<Value, DecodeError> {
    let mut values = parse_documents(text, source_name)?;
    Ok(match values.len() {
        0 => Value::Null,
        _ => values.swap_remove(0),
    })
}

/// The group of an `apiVersion`, for messages that need it.
pub fn api_group(api_version: &str) -> &str {
    split_api_version(api_version).0
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
";

    fn err(text: &str) -> String {
        match decode(text, "STDIN") {
            Ok(objs) => panic!("decoded {} objects", objs.len()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_nginx_deployment_from_the_docs_decodes() {
        let objs = decode(NGINX, "STDIN").unwrap_or_default();
        assert_eq!(objs.len(), 1);
        let Object::Deployment(d) = &objs[0] else {
            panic!("not a deployment")
        };
        assert_eq!(d.metadata.name.as_deref(), Some("nginx-deployment"));
        assert_eq!(d.spec.replicas, Some(3));
    }

    #[test]
    fn several_documents_decode_in_order_and_empty_ones_are_skipped() {
        let text = format!(
            "---\n{NGINX}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n---\n# nothing\n"
        );
        let objs = decode(&text, "STDIN").unwrap_or_default();
        let kinds: Vec<_> = objs.iter().map(|o| o.kind().kind).collect();
        assert_eq!(kinds, ["Deployment", "Service"]);
    }

    #[test]
    fn json_input_and_lists_decode_too() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}},
            {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}]}"#;
        let objs = decode(text, "STDIN").unwrap_or_default();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].kind_id(), KindId::Namespace);
    }

    #[test]
    fn malformed_yaml_is_reported_with_go_yaml_wording_and_line() {
        assert_eq!(
            err("apiVersion: v1\nkind: Pod\nmetadata: name: x\n"),
            "error: error parsing STDIN: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context"
        );
        assert_eq!(
            err("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n labels: {}\n"),
            "error: error parsing STDIN: error converting YAML to JSON: yaml: line 4: did not find expected key"
        );
    }

    #[test]
    fn a_document_without_api_version_or_kind_fails_validation() {
        assert_eq!(
            err("metadata:\n  name: x\n"),
            "error: error validating \"STDIN\": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false"
        );
        assert!(err("apiVersion: v1\nmetadata: {}\n").contains("[kind not set]"));
    }

    #[test]
    fn an_unknown_kind_suggests_installing_crds() {
        assert_eq!(
            err("apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n"),
            "error: resource mapping not found for name: \"x\" namespace: \"\" from \"STDIN\": no matches for kind \"Foo\" in version \"v1\"\nensure CRDs are installed first"
        );
        assert!(
            err("apiVersion: apps/v1beta1\nkind: Deployment\nmetadata:\n  name: x\n")
                .contains("no matches for kind \"Deployment\" in version \"apps/v1beta1\"")
        );
    }

    #[test]
    fn unknown_fields_are_rejected_by_strict_decoding_with_their_paths() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n    image: nginx\n    imagePullPolicyy: Always\n";
        assert_eq!(
            err(text),
            "Error from server (BadRequest): error when creating \"STDIN\": Pod in version \"v1\" cannot be handled as a Pod: strict decoding error: unknown field \"spec.containers[0].imagePullPolicyy\""
        );
    }

    #[test]
    fn null_fields_are_not_unknown() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  creationTimestamp: null\nspec:\n  containers:\n  - name: c\n    image: nginx\n    resources: {}\nstatus: {}\n";
        assert_eq!(decode(text, "STDIN").map(|o| o.len()), Ok(1));
    }

    #[test]
    fn a_wrong_type_reads_like_go_json_unmarshalling() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n    - containerPort: \"80\"\n";
        assert_eq!(
            err(text),
            "Error from server (BadRequest): error when creating \"STDIN\": Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"
        );
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: \"3\"\n";
        assert!(err(text).ends_with(
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        ));
    }

    #[test]
    fn a_missing_required_field_is_reported_as_validation_would() {
        // k8s-openapi fills most missing required fields with their
        // defaults (validation then reports them); the rest fail here.
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: nginx\n";
        let got = decode(text, "STDIN")
            .map(|o| o.len())
            .map_err(|e| e.to_string());
        assert!(
            got == Ok(1)
                || got
                    == Err(
                        "The Pod \"p\" is invalid: spec.containers[0].name: Required value".into()
                    ),
            "{got:?}"
        );
    }

    #[test]
    fn a_bad_document_separator_is_an_error() {
        assert!(err("apiVersion: v1\n--- x\n").contains("invalid Yaml document separator: x"));
    }

    #[test]
    fn decode_each_keeps_the_good_objects_beside_the_bad_ones() {
        let text = "apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: y\n";
        let results = decode_each(text, "STDIN");
        assert_eq!(results.len(), 2);
        assert!(results[0].is_err());
        assert!(results[1].is_ok());
    }
}
