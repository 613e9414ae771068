//! `kubectl explain RESOURCE[.FIELD...] [--recursive] [--api-version]`, as
//! kubectl does it (`k8s.io/kubectl/pkg/cmd/explain/explain.go`
//! `Validate` and `Run`, `explain.SplitAndParseResourceRequest`): the
//! resource before the first dot goes through the REST mapper (plural,
//! singular, short name or kind), the rest is the field path, and the
//! schema renders through `api::explain` (the plaintext template).
//!
//! Left out: `--output plaintext-openapiv2` (the pre-1.27 renderer).

use super::{Result, Session};
use crate::api::{explain, Kind, KINDS};
use crate::shell::command::Kubectl;

impl Session {
    pub(super) fn explain(&mut self, k: &Kubectl) -> Result<String> {
        let input = match k.args.as_slice() {
            [] => {
                return Err("error: You must specify the type of resource to explain. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nSee 'kubectl explain -h' for help and examples".into())
            }
            [one] => one,
            _ => {
                return Err("error: We accept only this format: explain RESOURCE\n\nSee 'kubectl explain -h' for help and examples".into())
            }
        };
        match k.flags.get("output").unwrap_or("plaintext") {
            "plaintext" => {}
            "plaintext-openapiv2" => {
                return Err("error: `kubectl explain --output plaintext-openapiv2` is not simulated yet".into())
            }
            other => {
                return Err(format!(
                    "error: unsupported output format \"{other}\"; supported formats: plaintext, plaintext-openapiv2"
                ))
            }
        }
        // splitDotNotation: the resource, then the field path.
        let (resource, fields) = match input.split_once('.') {
            Some((r, rest)) => (r, rest.split('.').map(str::to_string).collect::<Vec<_>>()),
            None => (input.as_str(), Vec::new()),
        };
        let unknown = || format!("error: the server doesn't have a resource type \"{resource}\"");
        let mut kind: &'static Kind = Kind::resolve(resource).ok_or_else(unknown)?;
        if kind.id == crate::api::KindId::TokenRequest {
            return Err(unknown());
        }
        if let Some(api_version) = k.flags.get("api-version") {
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            kind = KINDS
                .iter()
                .find(|c| c.plural == kind.plural && c.group == group && c.version == version)
                .ok_or_else(|| {
                    format!(
                        "error: couldn't find resource for \"{}, Resource={}\"",
                        if group.is_empty() {
                            format!("/{version}")
                        } else {
                            format!("{group}/{version}")
                        },
                        kind.plural
                    )
                })?;
        }
        let schema = explain::schema().ok_or(
            "error: the API server's OpenAPI document has not been fetched yet: try again in a moment",
        )?;
        let out = schema.explain(
            kind.group,
            kind.version,
            kind.kind,
            &fields,
            k.flags.has("recursive"),
        )?;
        Ok(out.trim_end_matches('\n').to_string())
    }
}
