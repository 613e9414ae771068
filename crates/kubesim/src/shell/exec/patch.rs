//! `kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json]`, as
//! kubectl does it (`k8s.io/kubectl/pkg/cmd/patch/patch.go` `RunPatch`):
//! the patch is read as YAML or JSON and sent as it is, in a PATCH with the
//! patch type as its content type; the API server applies it to the stored
//! object and takes the update path (`api::patch`). kubectl reads the
//! object first and says `patched (no change)` when what came back is what
//! it read.
//!
//! `--dry-run=server` sends the patch with `dryRun=All` (the API server
//! runs the whole update and stores nothing); `--dry-run=client` applies it
//! to the object read, locally.
//!
//! Left out: `--patch-file` (the page has no files), `--local`,
//! `--subresource`, and patching several objects by `-f` or `-l`.

use super::{dry_run_strategy, err, qualified_name, DryRun, Result, Session};
use crate::api::patch::{Patch, PatchType};
use crate::api::print;
use crate::api::Kind;
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;

impl Session {
    pub(super) fn patch(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        if k.flags.has("patch-file") {
            return Err(
                "error: --patch-file is not simulated (the page has no files): pass the patch with -p"
                    .into(),
            );
        }
        let kind_word = k.flags.get("type").unwrap_or("strategic");
        let Some(patch_type) = PatchType::parse(kind_word) else {
            return Err(format!(
                "error: --type must be one of [json merge strategic], not \"{kind_word}\""
            ));
        };
        let (kind, name) = Self::one_target(k, "patch")?;
        let Some(text) = k.flags.get("patch") else {
            return Err(
                "error: must specify --patch or --patch-file containing the contents of the patch"
                    .into(),
            );
        };
        // kubectl turns the patch from YAML (a superset of JSON) into JSON
        // (`yaml.ToJSON`).
        let document: serde_json::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("error: unable to parse \"{text}\": {e}"))?;
        if document.is_null() {
            return Err(format!(
                "error: unable to parse \"{text}\": the patch is empty"
            ));
        }
        let dry_run = dry_run_strategy(k)?;
        let before = self.get_object(cluster, k, kind.id, &name)?;
        let patch = Patch {
            kind: patch_type,
            document,
        };
        let after = if dry_run == DryRun::Client {
            // kubectl applies the patch to what it read (`--dry-run=client`).
            let value = crate::api::patch::apply(&before.to_value(), &patch)
                .map_err(|e| format!("error: {e}"))?;
            std::rc::Rc::new(
                crate::api::decode::decode_strict(kind.id, &value).map_err(|e| err(&e))?,
            )
        } else {
            let mut request = self
                .request(k, Verb::Patch, kind.id)
                .named(name.clone())
                .with_patch(patch);
            request.options.dry_run = dry_run == DryRun::Server;
            match cluster.call(request) {
                ApiResponse::Object(o) => o,
                ApiResponse::Error(e) => return Err(err(&e)),
                other => return Err(other.summary()),
            }
        };
        match k.flags.get("output").unwrap_or("") {
            "yaml" => return Ok(print::to_yaml(&after.to_value())),
            "json" => return Ok(print::to_json(&after.to_value())),
            "name" => return Ok(qualified_name(kind, &name)),
            "" => {}
            other => {
                return Err(format!(
                    "error: unable to match a printer suitable for the output format \"{other}\", allowed formats are: json,name,yaml"
                ))
            }
        }
        // `patched (no change)` when the object came back as it was read
        // (`RunPatch`: `didPatch`); a dry run's object differs by content.
        let changed = match dry_run {
            DryRun::None => after.resource_version() != before.resource_version(),
            _ => after.to_value() != before.to_value(),
        };
        let word = if changed {
            "patched"
        } else {
            "patched (no change)"
        };
        Ok(format!(
            "{} {word}{}",
            qualified_name(kind, &name),
            dry_run.suffix()
        ))
    }
}

impl Session {
    /// The one object `kubectl patch` or `kubectl edit` (`verb`) names, as
    /// TYPE NAME or TYPE/NAME.
    fn one_target(k: &Kubectl, verb: &str) -> Result<(&'static Kind, String)> {
        let targets = Self::targets(&k.args)?;
        match targets.as_slice() {
            [(kind, names)] if names.len() == 1 => Ok((*kind, names[0].clone())),
            [(_, names)] if names.is_empty() => {
                Err("error: resource(s) were provided, but no name was specified".into())
            }
            _ => Err(format!(
                "error: you must specify exactly one resource to {verb} (TYPE NAME or TYPE/NAME)"
            )),
        }
    }
}

/// The lines `kubectl edit` puts above the object in the file it opens
/// (`k8s.io/kubectl/pkg/cmd/util/editor/editoptions.go`).
pub const EDIT_HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

impl Session {
    /// `kubectl edit TYPE NAME`: reads the object and prints the file an
    /// editor would open (the header and the object's YAML). The page opens
    /// it in its YAML editor, and saving it runs the command
    /// [`edit_command`] makes; the command line has no editor, so there the
    /// file is only printed.
    pub(super) fn edit(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let (kind, name) = Self::one_target(k, "edit")?;
        let object = self.get_object(cluster, k, kind.id, &name)?;
        Ok(format!(
            "{EDIT_HEADER}{}",
            print::to_yaml(&object.to_value())
        ))
    }
}

/// The text of an edited file as JSON: its `#` lines dropped, as kubectl
/// does; `None` when nothing is left.
fn edited_value(text: &str) -> std::result::Result<Option<serde_json::Value>, String> {
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    if body.trim().is_empty() {
        return Ok(None);
    }
    serde_yaml_ng::from_str(&body)
        .map(Some)
        .map_err(|e| format!("error: error parsing edited file: {e}"))
}

/// A JSON merge patch (RFC 7386) that turns `from` into `to`: changed and
/// new fields as they are in `to`, removed ones as `null`, lists whole
/// (`jsonmergepatch.CreateMergePatch`). `None` when they are equal.
pub fn merge_diff(from: &serde_json::Value, to: &serde_json::Value) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            for (key, value) in b {
                match a.get(key) {
                    Some(old) => {
                        if let Some(d) = merge_diff(old, value) {
                            patch.insert(key.clone(), d);
                        }
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (a, b) if a == b => None,
        (_, b) => Some(b.clone()),
    }
}

/// A word quoted for the command language (POSIX single quotes).
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// What saving an edited file does: the `kubectl patch` command that sends
/// its changes (a JSON merge patch of what changed, as `kubectl edit` sends
/// a patch rather than the whole object), `Ok(None)` when nothing changed
/// (kubectl's `Edit cancelled, no changes made.`), or kubectl's error.
pub fn edit_command(original: &str, edited: &str) -> std::result::Result<Option<String>, String> {
    let Some(before) = edited_value(original)? else {
        return Err("error: the original object is empty".into());
    };
    let Some(after) = edited_value(edited)? else {
        return Ok(None);
    };
    let field = |v: &serde_json::Value, path: &str| {
        v.pointer(path)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    for path in ["/apiVersion", "/kind", "/metadata/name"] {
        if field(&before, path) != field(&after, path) {
            return Err("error: At least one of apiVersion, kind and name was changed".into());
        }
    }
    let Some(patch) = merge_diff(&before, &after) else {
        return Ok(None);
    };
    let kind =
        crate::api::Kind::for_api_version(&field(&before, "/apiVersion"), &field(&before, "/kind"))
            .ok_or_else(|| format!("error: unknown kind {}", field(&before, "/kind")))?;
    let name = field(&before, "/metadata/name");
    let namespace = field(&before, "/metadata/namespace");
    let ns = if namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {namespace}")
    };
    Ok(Some(format!(
        "kubectl patch {}/{name}{ns} --type merge -p {}",
        kind.plural,
        quoted(&patch.to_string())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_merge_diff_holds_what_changed_and_nulls_what_was_removed() {
        let from = json!({"a": 1, "b": {"c": [1, 2], "d": "x"}, "e": true});
        let to = json!({"a": 1, "b": {"c": [1, 2, 3], "d": "x"}, "f": "new"});
        assert_eq!(
            merge_diff(&from, &to),
            Some(json!({"b": {"c": [1, 2, 3]}, "e": null, "f": "new"}))
        );
        assert_eq!(merge_diff(&from, &from), None);
    }

    #[test]
    fn saving_an_edit_makes_the_patch_command_and_an_unchanged_file_cancels() {
        let original = format!(
            "{EDIT_HEADER}apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 2\n"
        );
        let edited = original.replace("replicas: 2", "replicas: 5\n  paused: true");
        assert_eq!(
            edit_command(&original, &edited),
            Ok(Some(
                r#"kubectl patch deployments/web -n default --type merge -p '{"spec":{"paused":true,"replicas":5}}'"#
                    .to_string()
            ))
        );
        assert_eq!(edit_command(&original, &original), Ok(None));
        assert_eq!(edit_command(&original, "# all gone\n"), Ok(None));
        assert_eq!(
            edit_command(&original, &original.replace("name: web", "name: other")),
            Err("error: At least one of apiVersion, kind and name was changed".into())
        );
    }

    #[test]
    fn a_quote_inside_the_patch_survives_the_command_line() {
        let words =
            crate::shell::lex::split_words(&format!("x {}", quoted("{\"a\":\"it's\"}"))).unwrap();
        assert_eq!(words, ["x", "{\"a\":\"it's\"}"]);
    }
}
