//! `kubectl expose (TYPE NAME | TYPE/NAME) [--port] [--target-port]
//! [--name] [--type] [--protocol] [--selector] [--labels] ...`, as kubectl
//! does it (`k8s.io/kubectl/pkg/cmd/expose/expose.go` `RunExpose` and
//! `generateService`): read the object, take its selector and ports
//! (`MapBasedSelectorForObject`, `PortsForObject`, `ProtocolsForObject`
//! in `polymorphichelpers`), and create a Service with them.
//!
//! Left out: `-f FILENAME`, `--container-port`, `--load-balancer-ip`,
//! `--override-type`; ReplicationControllers do not exist here.

use super::{err, Result, Session};
use crate::api::Object;
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;
use serde_json::{json, Map, Value};

/// A selector as `key=value,...` for a label map (`MapBasedSelectorForObject`).
fn selector_of(object: &Object) -> std::result::Result<Map<String, Value>, String> {
    let labels = |m: Option<&std::collections::BTreeMap<String, String>>| {
        m.map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<Map<_, _>>()
        })
        .unwrap_or_default()
    };
    let from_selector = |s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector| {
        if s.match_expressions.as_ref().is_some_and(|e| !e.is_empty()) {
            return Err(
                "error: couldn't convert expressions - \"...\" to map-based selector format"
                    .to_string(),
            );
        }
        Ok(labels(s.match_labels.as_ref()))
    };
    match object {
        Object::Pod(p) => Ok(labels(
            p.metadata.labels.as_ref().map(|l| l.to_map()).as_ref(),
        )),
        Object::Service(s) => Ok(labels(s.spec.as_ref().and_then(|s| s.selector.as_ref()))),
        Object::Deployment(d) => from_selector(&d.spec.selector),
        Object::ReplicaSet(r) => from_selector(&r.spec.selector),
        other => Err(format!(
            "error: cannot expose a {}",
            group_kind(other.kind().kind, &other.kind().api_version())
        )),
    }
}

/// `Kind.group` as kubectl prints a GroupKind (`Deployment.apps`, `Node`).
fn group_kind(kind: &str, api_version: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_string(),
    }
}

/// The ports and their protocols (`PortsForObject`, `ProtocolsForObject`):
/// a pod template's container ports, or a Service's ports.
fn ports_of(object: &Object) -> Vec<(i32, String)> {
    let containers = |spec: Option<&k8s_openapi::api::core::v1::PodSpec>| {
        spec.map(|s| {
            s.containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .map(|p| {
                    (
                        p.container_port,
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    )
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    match object {
        Object::Pod(p) => p
            .spec
            .iter()
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .map(|p| {
                (
                    p.container_port,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                )
            })
            .collect(),
        Object::Service(s) => s
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .map(|p| (p.port, p.protocol.clone().unwrap_or_else(|| "TCP".into())))
            .collect(),
        Object::Deployment(d) => containers(d.spec.template.spec.as_ref()),
        Object::ReplicaSet(r) => containers(r.spec.template.as_ref().and_then(|t| t.spec.as_ref())),
        _ => Vec::new(),
    }
}

/// `key=value,...` as a label map, or kubectl's error.
fn parse_labels(flag: &str, text: &str) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("error: invalid {flag} spec: {pair}"))?;
        m.insert(k.to_string(), Value::String(v.to_string()));
    }
    Ok(m)
}

impl Session {
    pub(super) fn expose(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let (kind, name) = match k.args.as_slice() {
            [one] if one.contains('/') => {
                let (t, n) = one.split_once('/').unwrap_or_default();
                (super::resolve_kind(t)?, n.to_string())
            }
            [t, n] => (super::resolve_kind(t)?, n.clone()),
            [] => return Err("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'".into()),
            _ => return Err("error: exactly one NAME is required for expose\nSee 'kubectl expose -h' for help and examples".into()),
        };
        let object = match cluster.call(self.request(k, Verb::Get, kind.id).named(name.clone())) {
            ApiResponse::Object(o) => o,
            ApiResponse::Error(e) => return Err(err(&e)),
            other => return Err(format!("error: unexpected answer {}", other.code())),
        };
        let selector = match k.flags.get("selector") {
            Some(s) => parse_labels("selector", s)?,
            None => selector_of(&object)?,
        };
        if selector.is_empty() {
            return Err(
                "error: couldn't retrieve selectors via --selector flag or introspection".into(),
            );
        }
        let introspected = ports_of(&object);
        let ports: Vec<(i32, String)> = match k.flags.get("port") {
            Some(p) => {
                let port: i32 = p
                    .parse()
                    .map_err(|_| format!("error: strconv.Atoi: parsing {p:?}: invalid syntax"))?;
                let protocol = k
                    .flags
                    .get("protocol")
                    .map(str::to_string)
                    .or_else(|| introspected.first().map(|(_, p)| p.clone()))
                    .unwrap_or_else(|| "TCP".into());
                vec![(port, protocol)]
            }
            None => introspected
                .into_iter()
                .map(|(port, proto)| {
                    (
                        port,
                        k.flags.get("protocol").map(str::to_string).unwrap_or(proto),
                    )
                })
                .collect(),
        };
        if ports.is_empty() && k.flags.get("type") != Some("ExternalName") {
            return Err(
                "error: couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and examples"
                    .into(),
            );
        }
        let target = k.flags.get("target-port");
        let several = ports.len() > 1;
        let service_ports: Vec<Value> = ports
            .iter()
            .enumerate()
            .map(|(i, (port, protocol))| {
                let mut p = json!({ "port": port, "protocol": protocol });
                // "If we are going to assign multiple ports to a service, we
                // need to generate a different name for each one."
                if several {
                    p["name"] = format!("port-{}", i + 1).into();
                }
                // Without --target-port, each targets its own number.
                p["targetPort"] = match target {
                    Some(t) => t
                        .parse::<i64>()
                        .map(Value::from)
                        .unwrap_or_else(|_| Value::from(t)),
                    None => Value::from(*port),
                };
                p
            })
            .collect();
        let labels = match k.flags.get("labels") {
            Some(l) => parse_labels("label", l)?,
            None => object
                .labels()
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        };
        let svc_name = k.flags.get("name").map(str::to_string).unwrap_or(name);
        let mut metadata = json!({ "name": svc_name, "namespace": self.namespace_of(k) });
        if !labels.is_empty() {
            metadata["labels"] = Value::Object(labels);
        }
        let mut spec = json!({ "ports": service_ports, "selector": selector });
        if let Some(t) = k.flags.get("type") {
            spec["type"] = t.into();
        }
        if let Some(ip) = k.flags.get("cluster-ip") {
            spec["clusterIP"] = ip.into();
        }
        if let Some(ips) = k.flags.get("external-ip") {
            spec["externalIPs"] = ips.split(',').map(Value::from).collect::<Vec<_>>().into();
        }
        if let Some(a) = k.flags.get("session-affinity") {
            spec["sessionAffinity"] = a.into();
        }
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": spec,
        });
        let mut with_file = k.clone();
        with_file.stdin = Some(service.to_string());
        with_file.verb = "create".into();
        with_file.args.clear();
        let out = self.write_generated_manifest(cluster, &with_file)?;
        // kubectl says "exposed" where create says "created".
        Ok(out.replace(" created", " exposed"))
    }
}

#[cfg(test)]
mod tests {
    use super::group_kind;

    #[test]
    fn a_group_kind_names_the_group_after_the_kind() {
        assert_eq!(group_kind("StatefulSet", "apps/v1"), "StatefulSet.apps");
        assert_eq!(group_kind("Node", "v1"), "Node");
    }
}
