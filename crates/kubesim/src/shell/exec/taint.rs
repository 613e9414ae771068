//! `kubectl taint nodes NAME KEY[=VALUE]:EFFECT[-] ...`, as kubectl does it
//! client-side (`k8s.io/kubectl/pkg/cmd/taint/taint.go` `RunTaint`,
//! `pkg/cmd/taint/utils.go` `parseTaints`, `reorganizeTaints`): a read of
//! the Node, its `spec.taints` changed, and an update.
//!
//! Left out: `--all` and `-l` (taint the nodes named on the line), and the
//! strategic-merge patch kubectl sends (an update with the read
//! resourceVersion does the same here).

use super::{err, Result, Session};
use crate::api::{Kind, KindId, Object};
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;
use k8s_openapi::api::core::v1::Taint;

const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One taint argument: to add (key, value, effect) or to remove (key and
/// maybe effect).
#[derive(Debug, PartialEq)]
enum Change {
    Add(Taint),
    Remove { key: String, effect: Option<String> },
}

/// `parseTaints`: `key=value:Effect`, `key:Effect`, `key:Effect-`, `key-`.
fn parse(spec: &str) -> Result<Change> {
    let invalid = || format!("error: invalid taint spec: {spec}");
    if let Some(body) = spec.strip_suffix('-') {
        let (key, effect) = match body.split_once(':') {
            Some((k, e)) => (k, Some(e.to_string())),
            None => (body, None),
        };
        if let Some(e) = &effect {
            if !EFFECTS.contains(&e.as_str()) {
                return Err(format!(
                    "error: invalid taint effect: {e}, unsupported taint effect"
                ));
            }
        }
        // kubectl accepts `key=value:Effect-` and ignores the value.
        let key = key.split('=').next().unwrap_or_default();
        if key.is_empty() {
            return Err(invalid());
        }
        return Ok(Change::Remove {
            key: key.to_string(),
            effect,
        });
    }
    let (kv, effect) = spec.split_once(':').ok_or_else(invalid)?;
    if !EFFECTS.contains(&effect) {
        return Err(format!(
            "error: invalid taint effect: {effect}, unsupported taint effect"
        ));
    }
    let (key, value) = match kv.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (kv, None),
    };
    if key.is_empty() {
        return Err(invalid());
    }
    Ok(Change::Add(Taint {
        key: key.to_string(),
        value,
        effect: effect.to_string(),
        time_added: None,
    }))
}

impl Session {
    pub(super) fn taint(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let (resource, rest): (&[String], &[String]) = match k.args.first() {
            Some(a) if a.contains('/') => k.args.split_at(1),
            Some(_) if k.args.len() >= 2 => k.args.split_at(2),
            _ => {
                return Err(
                    "error: at least one taint update is required\nSee 'kubectl taint -h' for help and examples"
                        .into(),
                )
            }
        };
        let targets = Self::targets(resource)?;
        let Some((kind, names)) = targets.into_iter().next() else {
            return Err("error: a node name is required".into());
        };
        if kind.id != KindId::Node {
            return Err(format!(
                "error: invalid resource type {}, only node types are supported",
                kind.plural
            ));
        }
        if rest.is_empty() {
            return Err(
                "error: at least one taint update is required\nSee 'kubectl taint -h' for help and examples"
                    .into(),
            );
        }
        let changes: Vec<Change> = rest.iter().map(|s| parse(s)).collect::<Result<_>>()?;
        let mut lines = Vec::new();
        for name in names {
            lines.push(self.taint_node(cluster, k, kind, &name, &changes)?);
        }
        Ok(lines.join("\n"))
    }

    fn taint_node(
        &mut self,
        cluster: &mut Cluster,
        k: &Kubectl,
        kind: &Kind,
        name: &str,
        changes: &[Change],
    ) -> Result<String> {
        let current =
            match cluster.call(self.request(k, Verb::Get, kind.id).named(name.to_string())) {
                ApiResponse::Object(o) => o,
                ApiResponse::Error(e) => return Err(err(&e)),
                other => return Err(other.summary()),
            };
        let mut next = (*current).clone();
        let Object::Node(node) = &mut next else {
            return Err(format!("error: {name} is not a node"));
        };
        let spec = node.spec.get_or_insert_with(Default::default);
        let mut taints = spec.taints.clone().unwrap_or_default();
        let overwrite = k.flags.has("overwrite");
        let mut removed_any = false;
        let mut added_any = false;
        // `reorganizeTaints`: removals first, then additions.
        for change in changes {
            if let Change::Remove { key, effect } = change {
                let before = taints.len();
                taints
                    .retain(|t| !(t.key == *key && effect.as_ref().is_none_or(|e| *e == t.effect)));
                if taints.len() == before {
                    let shown = match effect {
                        Some(e) => format!("{key}:{e}"),
                        None => key.clone(),
                    };
                    return Err(format!("error: taint {shown:?} not found"));
                }
                removed_any = true;
            }
        }
        for change in changes {
            if let Change::Add(t) = change {
                if let Some(existing) = taints
                    .iter_mut()
                    .find(|e| e.key == t.key && e.effect == t.effect)
                {
                    if !overwrite {
                        return Err(format!(
                            "error: node {name} already has {} taint(s) with same effect(s) and --overwrite is false",
                            t.key
                        ));
                    }
                    *existing = t.clone();
                } else {
                    taints.push(t.clone());
                }
                added_any = true;
            }
        }
        spec.taints = if taints.is_empty() {
            None
        } else {
            Some(taints)
        };
        let put = self
            .request(k, Verb::Update, kind.id)
            .named(name.to_string())
            .with_body(next);
        match cluster.call(put) {
            ApiResponse::Object(_) => Ok(format!(
                "node/{name} {}",
                if removed_any && !added_any {
                    "untainted"
                } else {
                    "tainted"
                }
            )),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taint_specs_parse_as_kubectl_reads_them() {
        assert_eq!(
            parse("dedicated=gpu:NoSchedule").unwrap(),
            Change::Add(Taint {
                key: "dedicated".into(),
                value: Some("gpu".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            })
        );
        assert_eq!(
            parse("dedicated:NoSchedule-").unwrap(),
            Change::Remove {
                key: "dedicated".into(),
                effect: Some("NoSchedule".into())
            }
        );
        assert_eq!(
            parse("dedicated-").unwrap(),
            Change::Remove {
                key: "dedicated".into(),
                effect: None
            }
        );
        assert_eq!(
            parse("dedicated=gpu:Sometimes").unwrap_err(),
            "error: invalid taint effect: Sometimes, unsupported taint effect"
        );
        assert_eq!(
            parse("dedicated=gpu").unwrap_err(),
            "error: invalid taint spec: dedicated=gpu"
        );
    }
}
