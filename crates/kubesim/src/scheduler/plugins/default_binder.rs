//! DefaultBinder: the `v1.Binding` posted to `pods/binding`.
//!
//! Port of `pkg/scheduler/framework/plugins/defaultbinder/default_binder.go`
//! (`Bind`): `{apiVersion: v1, kind: Binding, metadata: {name, namespace,
//! uid}, target: {apiVersion: v1, kind: Node, name}}`.

use super::names;
use crate::scheduler::framework::{BindPlugin, Plugin};
use crate::scheduler::podinfo::PodInfo;

pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        names::DEFAULT_BINDER
    }
}

/// The Binding body for `POST /api/v1/namespaces/{ns}/pods/{name}/binding`.
pub fn binding_body(namespace: &str, name: &str, uid: &str, node: &str) -> serde_json::Value {
    let mut meta = serde_json::json!({"name": name, "namespace": namespace});
    if !uid.is_empty() {
        meta["uid"] = serde_json::Value::String(uid.to_string());
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": meta,
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    })
}

impl BindPlugin for DefaultBinder {
    fn bind(&self, pod: &PodInfo, node: &str) -> serde_json::Value {
        binding_body(pod.namespace(), pod.name(), pod.uid(), node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_body_targets_the_node() {
        let b = binding_body("default", "web-1", "", "worker-2");
        assert_eq!(
            b,
            serde_json::json!({"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": "web-1", "namespace": "default"},
                "target": {"apiVersion": "v1", "kind": "Node", "name": "worker-2"}})
        );
        // It decodes as a k8s-openapi Binding.
        let typed: k8s_openapi::api::core::v1::Binding = serde_json::from_value(b).unwrap();
        assert_eq!(typed.target.name.as_deref(), Some("worker-2"));
    }
}
