//! The cloud node lifecycle controller: deletes the Nodes whose VM is gone
//! and taints those whose VM is shut down.
//!
//! In Kubernetes (`k8s.io/cloud-provider/controllers/nodelifecycle/node_lifecycle_controller.go`,
//! `MonitorNodes`, every `--node-monitor-period` = 5 s) the controller
//! looks at every Node: a Ready one loses the
//! `node.cloudprovider.kubernetes.io/shutdown` taint if it has it; for one
//! that is not Ready it asks the provider whether the instance still
//! exists (`ensureNodeExistsByProviderID`) and deletes the Node if not
//! (event `DeletingNode`), and whether it is shut down
//! (`shutdownInCloudProvider`), in which case it adds the shutdown taint
//! (NoSchedule).
//!
//! Here one `ListInstances` call per pass answers both questions for every
//! node, which is what the provider's API would answer node by node. A Node
//! with no providerID is looked up by name, as upstream's
//! `InstanceExists` does.

use super::{has_taint, ready_status, CloudController, Sync, PERIODIC, SHUTDOWN_TAINT};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::cloud::{CloudRequest, CloudResponse, InstanceMetadata};
use crate::controllers::Requeue;
use crate::world::SimDuration;
use k8s_openapi::api::core::v1::Taint;

/// `--node-monitor-period`.
pub const MONITOR_PERIOD: SimDuration = SimDuration::from_secs(5);

/// The cloud node lifecycle controller.
#[derive(Clone, Default)]
pub struct CloudNodeLifecycleController;

fn provider_id(node: &Object) -> Option<&str> {
    match node {
        Object::Node(n) => n.spec.as_ref()?.provider_id.as_deref(),
        _ => None,
    }
}

fn with_taints(node: &Object, f: impl FnOnce(&mut Vec<Taint>)) -> Option<Object> {
    let Object::Node(n) = node else {
        return None;
    };
    let mut n = n.clone();
    let taints = n
        .spec
        .get_or_insert_with(Default::default)
        .taints
        .get_or_insert_with(Vec::new);
    f(taints);
    // No taints left: the field goes (omitempty), as the API shows it.
    if let Some(spec) = n.spec.as_mut() {
        if spec.taints.as_ref().is_some_and(Vec::is_empty) {
            spec.taints = None;
        }
    }
    Some(Object::Node(n))
}

fn patch(s: &mut Sync<'_>, name: &str, body: Object) {
    s.write(
        ApiRequest::new(Verb::Patch, KindId::Node, Credential::None)
            .named(name)
            .with_body(body),
    );
}

impl CloudNodeLifecycleController {
    fn monitor(&self, s: &mut Sync<'_>, instances: &[InstanceMetadata]) {
        for node in s.nodes() {
            let name = node.name().to_string();
            if ready_status(&node) == "True" {
                if has_taint(&node, SHUTDOWN_TAINT) {
                    if let Some(next) =
                        with_taints(&node, |t| t.retain(|t| t.key != SHUTDOWN_TAINT))
                    {
                        patch(s, &name, next);
                    }
                }
                continue;
            }
            let instance = instances.iter().find(|i| match provider_id(&node) {
                Some(id) => i.provider_id == id,
                None => i.name == name,
            });
            let Some(instance) = instance else {
                s.log(format!(
                    "deleting node {name} because it does not exist in the cloud provider"
                ));
                s.event(
                    &node,
                    "Normal",
                    "DeletingNode",
                    format!("Deleting node {name} because it does not exist in the cloud provider"),
                );
                s.write(ApiRequest::new(Verb::Delete, KindId::Node, Credential::None).named(&name));
                continue;
            };
            if instance.shutdown && !has_taint(&node, SHUTDOWN_TAINT) {
                if let Some(next) = with_taints(&node, |t| {
                    t.push(Taint {
                        key: SHUTDOWN_TAINT.into(),
                        effect: "NoSchedule".into(),
                        ..Default::default()
                    })
                }) {
                    patch(s, &name, next);
                }
            }
        }
    }
}

impl CloudController for CloudNodeLifecycleController {
    fn name(&self) -> &'static str {
        "cloud-node-lifecycle-controller"
    }

    fn keys_for(&self, _kind: KindId, _n: &Notification) -> Vec<String> {
        Vec::new()
    }

    fn period(&self) -> Option<SimDuration> {
        Some(MONITOR_PERIOD)
    }

    fn reconcile(&mut self, s: &mut Sync<'_>, key: &str) -> Requeue {
        if key == PERIODIC {
            s.call(CloudRequest::ListInstances);
        }
        Requeue::Done
    }

    fn on_cloud(
        &mut self,
        s: &mut Sync<'_>,
        _key: &str,
        _request: &CloudRequest,
        response: &CloudResponse,
    ) -> Requeue {
        if let CloudResponse::Instances(instances) = response {
            self.monitor(s, instances);
        }
        Requeue::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::informer::Store;
    use crate::controllers::testing::object;
    use crate::world::SimTime;

    fn node(name: &str, ready: &str, taint: Option<&str>) -> Object {
        let taints = taint
            .map(|k| format!("  taints:\n  - key: {k}\n    effect: NoSchedule\n"))
            .unwrap_or_default();
        object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\nspec:\n  providerID: kubesim://zone-a/{name}\n{taints}status:\n  conditions:\n  - type: Ready\n    status: \"{ready}\"\n"
        ))
    }

    fn instance(name: &str, shutdown: bool) -> InstanceMetadata {
        InstanceMetadata {
            name: name.into(),
            provider_id: format!("kubesim://zone-a/{name}"),
            instance_type: "e2-standard-4".into(),
            zone: "zone-a".into(),
            region: "region-1".into(),
            addresses: vec![],
            shutdown,
        }
    }

    fn pass(
        nodes: Vec<Object>,
        instances: Vec<InstanceMetadata>,
    ) -> (Vec<ApiRequest>, Vec<(String, String)>) {
        let store = Store::from_objects(nodes);
        let mut s = Sync::new(SimTime::ZERO, Some(&store), None);
        CloudNodeLifecycleController.on_cloud(
            &mut s,
            PERIODIC,
            &CloudRequest::ListInstances,
            &CloudResponse::Instances(instances),
        );
        (s.writes().to_vec(), s.events())
    }

    #[test]
    fn a_not_ready_node_whose_vm_is_gone_is_deleted() {
        let (writes, events) = pass(vec![node("worker-1", "Unknown", None)], vec![]);
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].verb, Verb::Delete);
        assert_eq!(writes[0].name.as_deref(), Some("worker-1"));
        assert_eq!(events[0].0, "DeletingNode");
    }

    #[test]
    fn a_ready_node_is_never_deleted_even_without_a_vm() {
        let (writes, _) = pass(vec![node("worker-1", "True", None)], vec![]);
        assert!(writes.is_empty());
    }

    #[test]
    fn a_not_ready_node_whose_vm_is_shut_down_gets_the_shutdown_taint() {
        let (writes, _) = pass(
            vec![node("worker-1", "Unknown", None)],
            vec![instance("worker-1", true)],
        );
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].verb, Verb::Patch);
        let Some(Object::Node(n)) = writes[0].body.as_deref() else {
            panic!()
        };
        let taints = n
            .spec
            .clone()
            .unwrap_or_default()
            .taints
            .unwrap_or_default();
        assert_eq!(taints[0].key, SHUTDOWN_TAINT);
    }

    #[test]
    fn a_ready_node_loses_the_shutdown_taint() {
        let (writes, _) = pass(
            vec![node("worker-1", "True", Some(SHUTDOWN_TAINT))],
            vec![instance("worker-1", false)],
        );
        let Some(Object::Node(n)) = writes[0].body.as_deref() else {
            panic!()
        };
        assert!(n
            .spec
            .clone()
            .unwrap_or_default()
            .taints
            .unwrap_or_default()
            .is_empty());
    }
}
