//! `kubectl wait ([-f FILENAME] | TYPE NAME | TYPE/NAME | TYPE -l SELECTOR
//! | TYPE --all) --for=delete|condition=NAME[=VALUE]|jsonpath=EXPR[=VALUE]
//! [--timeout=30s]`, as kubectl does it
//! (`k8s.io/kubectl/pkg/cmd/wait/wait.go` `conditionFuncFor`,
//! `ConditionalWait.checkCondition`, `JSONPathWait`, `IsDeleted`): each
//! object in turn, until its condition holds or the timeout (30 s by
//! default; a negative one is a week) passes on the virtual clock.
//!
//! A condition holds when `status.conditions` has one of that type
//! (compared case-insensitively, as are their statuses; `true` by default)
//! and neither it nor the status was observed at an older generation than
//! the object's.
//!
//! Left out: `-f`, `--for=create`, `--local`. kubectl watches through the
//! API server; here the wait reads what the API servers hold, as `sim
//! until` does, every 100 ms of virtual time (the page's own watchers and
//! the cluster do not notice).

use super::{qualified_name, Result, Session};
use crate::api::print::JsonPath;
use crate::api::{Kind, Object};
use crate::apiserver::selector::Selector;
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;
use crate::world::SimDuration;
use serde_json::Value;

/// What `--for` asks.
enum For {
    Delete,
    Condition {
        name: String,
        status: String,
    },
    JsonPath {
        path: JsonPath,
        value: Option<String>,
    },
}

impl For {
    fn parse(text: &str) -> Result<For> {
        if text.eq_ignore_ascii_case("delete") {
            return Ok(For::Delete);
        }
        if let Some(rest) = text.strip_prefix("condition=") {
            let (name, status) = rest.split_once('=').unwrap_or((rest, "true"));
            return Ok(For::Condition {
                name: name.to_string(),
                status: status.to_string(),
            });
        }
        if let Some(rest) = text.strip_prefix("jsonpath=") {
            // The expression is `{...}` or relaxed (`.status.phase`); the
            // value, after the `=` that follows it, is optional.
            let (expr, value) = match rest.find("}=") {
                Some(i) => (&rest[..=i], Some(&rest[i + 2..])),
                None => match rest.rsplit_once('=') {
                    Some((e, v)) if !rest.starts_with('{') => (e, Some(v)),
                    _ => (rest, None),
                },
            };
            let expr = expr.trim_matches(|c| c == '\'' || c == '"');
            if expr.is_empty() {
                return Err("error: jsonpath expression cannot be empty".into());
            }
            let relaxed = if expr.starts_with('{') {
                expr.to_string()
            } else {
                format!(
                    "{{{}}}",
                    if expr.starts_with('.') {
                        expr.to_string()
                    } else {
                        format!(".{expr}")
                    }
                )
            };
            let path = JsonPath::parse(&relaxed).map_err(|e| format!("error: {e}"))?;
            let value = match value.map(|v| v.trim_matches(|c| c == '\'' || c == '"')) {
                Some("") => return Err("error: jsonpath wait condition cannot be empty".into()),
                v => v.map(str::to_string),
            };
            return Ok(For::JsonPath { path, value });
        }
        Err(format!("error: unrecognized condition: {text:?}"))
    }

    /// Whether the object (or its absence) satisfies the wait.
    fn holds(&self, object: Option<&Object>) -> bool {
        let Some(object) = object else {
            return matches!(self, For::Delete);
        };
        let value = object.to_value();
        match self {
            For::Delete => false,
            For::Condition { name, status } => {
                let generation = value
                    .pointer("/metadata/generation")
                    .and_then(Value::as_i64);
                let older = |v: Option<&Value>| matches!((v.and_then(Value::as_i64), generation), (Some(o), Some(g)) if o < g);
                if older(value.pointer("/status/observedGeneration")) {
                    return false;
                }
                value
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|c| {
                        c.get("type")
                            .and_then(Value::as_str)
                            .is_some_and(|t| t.eq_ignore_ascii_case(name))
                    })
                    .any(|c| {
                        c.get("status")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.eq_ignore_ascii_case(status))
                            && !older(c.get("observedGeneration"))
                    })
            }
            For::JsonPath {
                path,
                value: wanted,
            } => {
                let got = path.render(&value);
                match wanted {
                    Some(w) => got == *w,
                    None => !got.is_empty(),
                }
            }
        }
    }
}

impl Session {
    pub(super) fn wait(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let condition = For::parse(k.flags.get("for").unwrap_or(""))?;
        let timeout = match k.flags.get("timeout") {
            None => SimDuration::from_secs(30),
            Some(t) if t.starts_with('-') => SimDuration::from_secs(7 * 24 * 3600),
            Some("0") => SimDuration::ZERO,
            Some(t) => SimDuration::parse(t).map_err(|_| {
                format!("error: invalid argument {t:?} for \"--timeout\" flag: time: invalid duration {t:?}")
            })?,
        };
        let namespace = self.namespace_of(k);
        let targets = self.wait_targets(cluster, k, &namespace)?;
        // The objects as the wait finds them when it starts (kubectl's
        // resource finder): a delete is met when one is gone or replaced by
        // another of the same name (a new uid).
        let found: Vec<(&'static Kind, String, String, Option<String>)> = targets
            .into_iter()
            .map(|(kind, name)| {
                let ns = kind.namespaced.then_some(namespace.as_str());
                let key = crate::apiserver::registry::key(kind.id, ns, &name);
                let uid = cluster.observe(&key).and_then(|o| o.meta().uid.clone());
                (kind, name, key, uid)
            })
            .collect();
        let mut out = Vec::new();
        for (kind, name, key, uid) in found {
            let deadline = cluster.now() + timeout;
            if uid.is_none() && !matches!(condition, For::Delete) {
                return Err(format!(
                    "Error from server (NotFound): {} \"{name}\" not found",
                    kind.group_resource()
                ));
            }
            loop {
                let now = cluster.observe(&key);
                let same = now.as_deref().filter(|o| o.meta().uid == uid);
                let met = match condition {
                    For::Delete => same.is_none(),
                    _ => condition.holds(now.as_deref()),
                };
                if met {
                    if !(matches!(condition, For::Delete) && uid.is_none()) {
                        out.push(format!("{} condition met", qualified_name(kind, &name)));
                    }
                    break;
                }
                if cluster.now() >= deadline {
                    let mut message = out.join("\n");
                    if !message.is_empty() {
                        message.push('\n');
                    }
                    message.push_str(&format!(
                        "error: timed out waiting for the condition on {}/{name}",
                        kind.plural
                    ));
                    return Err(message);
                }
                let step = (cluster.now() + SimDuration::from_millis(100)).min(deadline);
                cluster.advance_to(step);
            }
        }
        Ok(out.join("\n"))
    }

    /// The objects to wait on: `TYPE/NAME...`, `TYPE NAME...`, or a type
    /// with `-l SELECTOR` or `--all` (those that exist when the wait starts).
    fn wait_targets(
        &self,
        cluster: &Cluster,
        k: &Kubectl,
        namespace: &str,
    ) -> Result<Vec<(&'static Kind, String)>> {
        if k.args.is_empty() {
            return Err("error: resource(s) were provided, but no name was specified".into());
        }
        // The same forms `kubectl get` takes (`Session::targets`).
        let mut named = Vec::new();
        let mut selected = Vec::new();
        for (kind, names) in Self::targets(&k.args)? {
            if names.is_empty() {
                selected.push(kind);
            } else {
                named.extend(names.into_iter().map(|n| (kind, n)));
            }
        }
        if selected.is_empty() {
            return Ok(named);
        }
        let selector = match (k.flags.get("selector"), k.flags.has("all")) {
            (Some(s), _) => Selector::parse(s).map_err(|e| format!("error: {}", e.0))?,
            (None, true) => Selector::parse("").map_err(|e| format!("error: {}", e.0))?,
            (None, false) => {
                return Err("error: resource(s) were provided, but no name was specified".into())
            }
        };
        let found: Vec<(&'static Kind, String)> = selected
            .into_iter()
            .flat_map(|kind| {
                cluster
                    .observe_all(kind.id)
                    .into_iter()
                    .map(move |o| (kind, o))
            })
            .filter(|(kind, o)| !kind.namespaced || o.namespace() == Some(namespace))
            .filter(|(_, o)| selector.matches(o.labels()))
            .map(|(kind, o)| (kind, o.name().to_string()))
            .collect();
        if found.is_empty() {
            return Err("error: no matching resources found".into());
        }
        Ok(found)
    }
}
