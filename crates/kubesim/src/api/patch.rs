//! Patches: what `kubectl patch` sends and kube-apiserver applies to the
//! stored object before it runs the update path (defaults, admission,
//! validation, the conditional write).
//!
//! Kubernetes takes three patch types (`types.PatchType`), each applied on
//! the JSON of the current object (`staging/.../endpoints/handlers/patch.go`,
//! `jsonPatcher` and `smpPatcher`):
//! - **strategic merge** (`application/strategic-merge-patch+json`,
//!   kubectl's default): a JSON merge patch whose lists follow the Go
//!   types' `patchStrategy`/`patchMergeKey` tags: `containers` merge by
//!   `name`, a container's `ports` by `containerPort`, `finalizers` as a
//!   set, and so on (`k8s.io/apimachinery/pkg/util/strategicpatch`);
//! - **JSON merge** (RFC 7386): maps merge, `null` deletes, lists replace;
//! - **JSON patch** (RFC 6902): a list of `add`/`remove`/`replace`/
//!   `move`/`copy`/`test` operations on JSON pointers.
//!
//! Left out: the `$setElementOrder` directive is accepted and dropped (the
//! order of merged lists is the original's, then the patch's new items),
//! and the merge keys are a table of the fields that have one in the kinds
//! simulated rather than read from the Go structs.

use serde_json::{Map, Value};

/// The `Content-Type` of a PATCH (`types.PatchType`); kubectl's `--type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Strategic,
    Merge,
    Json,
}

impl PatchType {
    /// kubectl's `--type` value (`json`, `merge`, `strategic`).
    pub fn parse(s: &str) -> Option<PatchType> {
        match s {
            "strategic" => Some(PatchType::Strategic),
            "merge" => Some(PatchType::Merge),
            "json" => Some(PatchType::Json),
            _ => None,
        }
    }

    /// The media type the request carries.
    pub fn content_type(self) -> &'static str {
        match self {
            PatchType::Strategic => "application/strategic-merge-patch+json",
            PatchType::Merge => "application/merge-patch+json",
            PatchType::Json => "application/json-patch+json",
        }
    }
}

/// A patch as sent: its type and its JSON document.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    pub kind: PatchType,
    pub document: Value,
}

/// Applies `patch` to `current` (an object's JSON). The error is the
/// message kube-apiserver answers with (a 400, or a 422 for a JSON patch
/// operation that does not apply).
pub fn apply(current: &Value, patch: &Patch) -> Result<Value, PatchError> {
    match patch.kind {
        PatchType::Merge => match &patch.document {
            Value::Object(_) => Ok(merge_patch(current, &patch.document)),
            _ => Err(PatchError::BadRequest(
                "json: cannot unmarshal array into Go value of type map[string]interface {}".into(),
            )),
        },
        PatchType::Strategic => match &patch.document {
            Value::Object(p) => {
                let Value::Object(original) = current else {
                    return Ok(current.clone());
                };
                strategic_map(original, p, &mut Vec::new())
                    .map(|m| Value::Object(m.unwrap_or_default()))
                    .map_err(PatchError::BadRequest)
            }
            _ => Err(PatchError::BadRequest(
                "json: cannot unmarshal array into Go value of type map[string]interface {}".into(),
            )),
        },
        PatchType::Json => json_patch(current, &patch.document),
    }
}

/// Why a patch was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum PatchError {
    /// The patch cannot be read (400).
    BadRequest(String),
    /// A JSON patch operation does not apply to the object (422).
    Unprocessable(String),
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatchError::BadRequest(m) | PatchError::Unprocessable(m) => f.write_str(m),
        }
    }
}

/// RFC 7386 JSON merge patch (`jsonpatch.MergePatch`).
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (key, value) in p {
        if value.is_null() {
            out.remove(key);
        } else {
            let merged = merge_patch(out.get(key).unwrap_or(&Value::Null), value);
            out.insert(key.clone(), merged);
        }
    }
    Value::Object(out)
}

/// How a list field is patched, from the Go types' `patchStrategy` and
/// `patchMergeKey` tags (`k8s.io/api`): `None` replaces the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListStrategy {
    Replace,
    /// Merge maps that share the value of this key.
    MergeByKey(&'static str),
    /// A list of scalars merged as a set (`finalizers`).
    MergeScalars,
}

/// The strategy of list field `field`, whose parent fields (outermost
/// first, without list indexes) are `path`.
fn list_strategy(path: &[String], field: &str) -> ListStrategy {
    let parent = path.last().map(String::as_str).unwrap_or("");
    let in_container = matches!(
        parent,
        "containers" | "initContainers" | "ephemeralContainers"
    );
    match field {
        "containers" | "initContainers" | "ephemeralContainers" => ListStrategy::MergeByKey("name"),
        "volumes" | "imagePullSecrets" | "resourceClaims" | "schedulingGates" => {
            ListStrategy::MergeByKey("name")
        }
        "env" if in_container => ListStrategy::MergeByKey("name"),
        "volumeMounts" if in_container => ListStrategy::MergeByKey("mountPath"),
        "volumeDevices" if in_container => ListStrategy::MergeByKey("devicePath"),
        "ports" if in_container => ListStrategy::MergeByKey("containerPort"),
        // ServiceSpec.ports: `patchMergeKey:"port"`.
        "ports" if parent == "spec" && path.len() == 1 => ListStrategy::MergeByKey("port"),
        "hostAliases" => ListStrategy::MergeByKey("ip"),
        "topologySpreadConstraints" => ListStrategy::MergeByKey("topologyKey"),
        "podIPs" | "hostIPs" => ListStrategy::MergeByKey("ip"),
        "conditions" if parent == "status" => ListStrategy::MergeByKey("type"),
        "addresses" if parent == "status" => ListStrategy::MergeByKey("type"),
        "ownerReferences" if parent == "metadata" => ListStrategy::MergeByKey("uid"),
        "finalizers" if parent == "metadata" => ListStrategy::MergeScalars,
        "secrets" if path.is_empty() => ListStrategy::MergeByKey("name"),
        _ => ListStrategy::Replace,
    }
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Go's `%v` of a JSON value, as strategicpatch's errors print maps:
/// `map[hostPath:map[path:/var/lib]]`.
fn go_value(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_value(&m[k])))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}

/// Strategic merge of map `patch` into map `original`
/// (`strategicpatch.mergeMap`). `None`: the map is deleted
/// (`$patch: delete`).
fn strategic_map(
    original: &Map<String, Value>,
    patch: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Result<Option<Map<String, Value>>, String> {
    match patch.get(DIRECTIVE) {
        None => {}
        Some(Value::String(d)) if d == "replace" => {
            let mut replaced = patch.clone();
            replaced.remove(DIRECTIVE);
            return Ok(Some(strip_directives(replaced)));
        }
        Some(Value::String(d)) if d == "delete" => return Ok(None),
        Some(Value::String(d)) if d == "merge" => {}
        Some(other) => return Err(format!("Unknown patch type: {}", go_value(other))),
    }
    let mut out = original.clone();
    for (key, value) in patch {
        if key == DIRECTIVE || key == RETAIN_KEYS || key.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let Value::Array(gone) = value else {
                return Err(format!(
                    "unable to delete from primitive list: {}",
                    go_value(value)
                ));
            };
            if let Some(Value::Array(list)) = out.get_mut(field) {
                list.retain(|v| !gone.contains(v));
            }
            continue;
        }
        if value.is_null() {
            out.remove(key);
            continue;
        }
        let merged = match (out.get(key), value) {
            (Some(Value::Object(o)), Value::Object(p)) => {
                path.push(key.clone());
                let m = strategic_map(o, p, path);
                path.pop();
                match m? {
                    Some(m) => Value::Object(m),
                    None => {
                        out.remove(key);
                        continue;
                    }
                }
            }
            (Some(Value::Array(o)), Value::Array(p)) => {
                let strategy = list_strategy(path, key);
                path.push(key.clone());
                let merged = strategic_list(o, p, strategy, path);
                path.pop();
                Value::Array(merged?)
            }
            (_, Value::Object(p)) => {
                // Nothing to merge with: the patch's map, without its
                // directives (a `$patch: delete` of nothing deletes nothing).
                if p.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                    continue;
                }
                Value::Object(strip_directives(p.clone()))
            }
            (_, Value::Array(p)) => {
                let strategy = list_strategy(path, key);
                path.push(key.clone());
                let merged = strategic_list(&[], p, strategy, path);
                path.pop();
                Value::Array(merged?)
            }
            (_, v) => v.clone(),
        };
        out.insert(key.clone(), merged);
    }
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Value::Array(keep) = retain else {
            return Err(format!("invalid $retainKeys: {}", go_value(retain)));
        };
        out.retain(|k, _| keep.iter().any(|v| v.as_str() == Some(k.as_str())));
    }
    Ok(Some(out))
}

/// A map with the strategic directives of it and its children removed.
fn strip_directives(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| {
        k != DIRECTIVE
            && k != RETAIN_KEYS
            && !k.starts_with(SET_ELEMENT_ORDER)
            && !k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
    });
    for v in m.values_mut() {
        strip_value(v);
    }
    m
}

fn strip_value(v: &mut Value) {
    match v {
        Value::Object(m) => *m = strip_directives(std::mem::take(m)),
        Value::Array(items) => {
            items.retain(|i| i.get(DIRECTIVE).is_none());
            items.iter_mut().for_each(strip_value);
        }
        _ => {}
    }
}

/// Strategic merge of list `patch` into list `original`
/// (`strategicpatch.mergeSlice`).
fn strategic_list(
    original: &[Value],
    patch: &[Value],
    strategy: ListStrategy,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    // An item `{"$patch": "replace"}` replaces the whole list with the
    // patch's other items.
    if patch
        .iter()
        .any(|p| p.get(DIRECTIVE).and_then(Value::as_str) == Some("replace"))
    {
        let mut items: Vec<Value> = patch
            .iter()
            .filter(|p| p.get(DIRECTIVE).is_none())
            .cloned()
            .collect();
        items.iter_mut().for_each(strip_value);
        return Ok(items);
    }
    match strategy {
        ListStrategy::Replace => {
            let mut items = patch.to_vec();
            items.iter_mut().for_each(strip_value);
            Ok(items)
        }
        ListStrategy::MergeScalars => {
            let mut out = original.to_vec();
            for p in patch {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            Ok(out)
        }
        ListStrategy::MergeByKey(key) => {
            let mut out = original.to_vec();
            for p in patch {
                let Value::Object(pm) = p else {
                    // A list of scalars under a merge key: a set.
                    if !out.contains(p) {
                        out.push(p.clone());
                    }
                    continue;
                };
                let Some(wanted) = pm.get(key) else {
                    return Err(format!(
                        "map: {} does not contain declared merge key: {key}",
                        go_value(p)
                    ));
                };
                let at = out.iter().position(|o| o.get(key) == Some(wanted));
                let directive = pm.get(DIRECTIVE).and_then(Value::as_str);
                match (at, directive) {
                    (Some(i), Some("delete")) => {
                        out.remove(i);
                    }
                    (None, Some("delete")) => {}
                    (Some(i), _) => {
                        let merged = match &out[i] {
                            Value::Object(o) => strategic_map(o, pm, path)?,
                            _ => Some(strip_directives(pm.clone())),
                        };
                        match merged {
                            Some(m) => out[i] = Value::Object(m),
                            None => {
                                out.remove(i);
                            }
                        }
                    }
                    (None, _) => out.push(Value::Object(strip_directives(pm.clone()))),
                }
            }
            Ok(out)
        }
    }
}

/// RFC 6902 JSON patch, as evanphx/json-patch applies it.
fn json_patch(current: &Value, ops: &Value) -> Result<Value, PatchError> {
    let Value::Array(ops) = ops else {
        return Err(PatchError::BadRequest(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch".into(),
        ));
    };
    let mut doc = current.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str);
        let missing = |field: &str| {
            PatchError::Unprocessable(format!("{name} operation missing {field} field"))
        };
        match name {
            "add" => {
                let path = path.ok_or_else(|| missing("path"))?;
                let value = op.get("value").ok_or_else(|| missing("value"))?;
                add(&mut doc, path, value.clone(), "add")?;
            }
            "remove" => {
                let path = path.ok_or_else(|| missing("path"))?;
                remove(&mut doc, path, "remove")?;
            }
            "replace" => {
                let path = path.ok_or_else(|| missing("path"))?;
                let value = op.get("value").ok_or_else(|| missing("value"))?;
                match doc.pointer_mut(path) {
                    Some(slot) if !path.is_empty() => *slot = value.clone(),
                    _ if path.is_empty() => doc = value.clone(),
                    _ => {
                        return Err(PatchError::Unprocessable(format!(
                            "replace operation does not apply: doc is missing key: {path}: missing value"
                        )))
                    }
                }
            }
            "move" | "copy" => {
                let path = path.ok_or_else(|| missing("path"))?;
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("from"))?;
                let Some(value) = doc.pointer(from).cloned() else {
                    return Err(PatchError::Unprocessable(format!(
                        "{name} operation does not apply: doc is missing from path: {from}: missing value"
                    )));
                };
                if name == "move" {
                    remove(&mut doc, from, "move")?;
                }
                add(&mut doc, path, value, name)?;
            }
            "test" => {
                let path = path.ok_or_else(|| missing("path"))?;
                let value = op.get("value").unwrap_or(&Value::Null);
                if doc.pointer(path) != Some(value) {
                    return Err(PatchError::Unprocessable(format!(
                        "testing value {path} failed: test failed"
                    )));
                }
            }
            other => {
                return Err(PatchError::Unprocessable(format!(
                    "Unexpected kind: {other}"
                )))
            }
        }
    }
    Ok(doc)
}

/// Splits a JSON pointer into its parent pointer and last token
/// (unescaped: `~1` is `/`, `~0` is `~`).
fn split_pointer(path: &str) -> Option<(&str, String)> {
    let (parent, last) = path.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(doc: &mut Value, path: &str, value: Value, op: &str) -> Result<(), PatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let missing = || {
        PatchError::Unprocessable(format!(
            "{op} operation does not apply: doc is missing path: \"{path}\": missing value"
        ))
    };
    let (parent, last) = split_pointer(path).ok_or_else(missing)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            let at = if last == "-" {
                items.len()
            } else {
                match last.parse::<usize>() {
                    Ok(i) if i <= items.len() => i,
                    _ => {
                        return Err(PatchError::Unprocessable(format!(
                            "{op} operation does not apply: doc is missing path: \"{path}\": invalid index referenced: {last}"
                        )))
                    }
                }
            };
            items.insert(at, value);
            Ok(())
        }
        _ => Err(missing()),
    }
}

fn remove(doc: &mut Value, path: &str, op: &str) -> Result<(), PatchError> {
    let missing = || {
        PatchError::Unprocessable(format!(
            "{op} operation does not apply: doc is missing path: \"{path}\": missing value"
        ))
    };
    let (parent, last) = split_pointer(path).ok_or_else(missing)?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.remove(&last).map(|_| ()).ok_or_else(missing),
        Some(Value::Array(items)) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                Ok(())
            }
            _ => Err(missing()),
        },
        _ => Err(missing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strategic(current: Value, patch: Value) -> Result<Value, PatchError> {
        apply(
            &current,
            &Patch {
                kind: PatchType::Strategic,
                document: patch,
            },
        )
    }

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "finalizers": ["a"]},
            "spec": {"replicas": 2, "template": {"spec": {
                "containers": [
                    {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}
                ],
                "tolerations": [{"key": "a", "operator": "Exists"}]
            }}}
        })
    }

    #[test]
    fn a_strategic_patch_adds_a_container_beside_the_existing_one() {
        // The docs' "Update API Objects in Place Using kubectl patch" task:
        // patching in a second container keeps the first.
        let out = strategic(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "patch-demo-ctr-2", "image": "redis"}
            ]}}}}),
        )
        .unwrap();
        let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["nginx", "patch-demo-ctr-2"]);
    }

    #[test]
    fn a_strategic_patch_merges_a_container_by_name_and_replaces_tolerations() {
        let out = strategic(
            deployment(),
            json!({"spec": {"replicas": 5, "template": {"spec": {
                "containers": [{"name": "nginx", "image": "nginx:1.16.1"}],
                "tolerations": [{"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}]
            }}}}),
        )
        .unwrap();
        let spec = &out["spec"]["template"]["spec"];
        assert_eq!(out["spec"]["replicas"], 5);
        assert_eq!(spec["containers"][0]["image"], "nginx:1.16.1");
        assert_eq!(spec["containers"][0]["ports"][0]["containerPort"], 80);
        assert_eq!(spec["tolerations"].as_array().unwrap().len(), 1);
        assert_eq!(spec["tolerations"][0]["key"], "dedicated");
    }

    #[test]
    fn a_merge_patch_replaces_the_whole_list_of_containers() {
        let out = apply(
            &deployment(),
            &Patch {
                kind: PatchType::Merge,
                document: json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/hello-app:2.0"}
                ]}}}}),
            },
        )
        .unwrap();
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "patch-demo-ctr-3");
    }

    #[test]
    fn null_deletes_a_field_and_directives_delete_list_items() {
        let out = strategic(
            deployment(),
            json!({
                "metadata": {"finalizers": null},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "nginx", "$patch": "delete"}
                ]}}}
            }),
        )
        .unwrap();
        assert!(out["metadata"].get("finalizers").is_none());
        assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([]));
    }

    #[test]
    fn finalizers_merge_as_a_set_and_retain_keys_drops_the_others() {
        let out = strategic(
            deployment(),
            json!({
                "metadata": {"finalizers": ["a", "b"]},
                "spec": {"$retainKeys": ["replicas", "template"], "replicas": 1}
            }),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["a", "b"]));
        assert_eq!(out["spec"]["replicas"], 1);
    }

    #[test]
    fn a_list_item_without_its_merge_key_is_refused_as_the_api_server_words_it() {
        let err = strategic(
            deployment(),
            json!({"spec": {"template": {"spec": {"volumes": [
                {"hostPath": {"path": "/var/lib/kubelet/pods"}}
            ]}}}}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            PatchError::BadRequest(
                "map: map[hostPath:map[path:/var/lib/kubelet/pods]] does not contain declared merge key: name".into()
            )
        );
    }

    #[test]
    fn a_json_patch_applies_its_operations_in_order() {
        let out = apply(
            &deployment(),
            &Patch {
                kind: PatchType::Json,
                document: json!([
                    {"op": "replace", "path": "/spec/replicas", "value": 3},
                    {"op": "add", "path": "/metadata/labels", "value": {"app": "web"}},
                    {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b", "image": "busybox"}},
                    {"op": "remove", "path": "/metadata/finalizers/0"},
                    {"op": "test", "path": "/spec/replicas", "value": 3}
                ]),
            },
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 3);
        assert_eq!(out["metadata"]["labels"]["app"], "web");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][1]["name"],
            "b"
        );
        assert_eq!(out["metadata"]["finalizers"], json!([]));
    }

    #[test]
    fn a_json_patch_on_a_missing_path_is_unprocessable() {
        let err = apply(
            &deployment(),
            &Patch {
                kind: PatchType::Json,
                document: json!([{"op": "replace", "path": "/spec/paused", "value": true}]),
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            PatchError::Unprocessable(
                "replace operation does not apply: doc is missing key: /spec/paused: missing value"
                    .into()
            )
        );
    }
}
