//! The cloud node controller: initialises the nodes a cloud's kubelets
//! register.
//!
//! In Kubernetes (`k8s.io/cloud-provider/controllers/node/node_controller.go`,
//! `syncNode`), a kubelet started with `--cloud-provider=external` registers
//! its Node with the taint `node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule`,
//! so nothing is scheduled there before the cloud has described it. The
//! controller asks the provider for the instance (`InstancesV2.InstanceMetadata`),
//! then patches the Node: `spec.providerID`, the labels
//! `node.kubernetes.io/instance-type`, `topology.kubernetes.io/zone` and
//! `topology.kubernetes.io/region` (`getNodeModifiersFromCloudProvider`),
//! and removes the taint. A node without the taint is already initialised
//! and left alone.
//!
//! Left out: the deprecated `beta.kubernetes.io/instance-type` and
//! `failure-domain.beta.kubernetes.io/*` labels, and the addresses update: the
//! cloud's addresses for a VM are the ones its kubelet already reports
//! (InternalIP and Hostname), so there is nothing to change.

use super::{has_taint, CloudController, Sync, UNINITIALIZED_TAINT};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::cloud::{CloudRequest, CloudResponse, InstanceMetadata};
use crate::controllers::Requeue;

pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";

/// The cloud node controller.
#[derive(Clone, Default)]
pub struct CloudNodeController;

/// The Node as initialised from the instance's metadata.
pub fn initialised(node: &Object, m: &InstanceMetadata) -> Option<Object> {
    let Object::Node(n) = node else {
        return None;
    };
    let mut n = n.clone();
    let spec = n.spec.get_or_insert_with(Default::default);
    if spec.provider_id.is_none() {
        spec.provider_id = Some(m.provider_id.clone());
    }
    if let Some(t) = spec.taints.as_mut() {
        t.retain(|t| t.key != UNINITIALIZED_TAINT);
    }
    // No taints left: the field goes (omitempty), as the API shows it.
    if spec.taints.as_ref().is_some_and(Vec::is_empty) {
        spec.taints = None;
    }
    let labels = n.metadata.labels.get_or_insert_with(Default::default);
    labels.insert(LABEL_INSTANCE_TYPE.into(), m.instance_type.clone());
    labels.insert(LABEL_ZONE.into(), m.zone.clone());
    labels.insert(LABEL_REGION.into(), m.region.clone());
    Some(Object::Node(n))
}

impl CloudController for CloudNodeController {
    fn name(&self) -> &'static str {
        "cloud-node-controller"
    }

    fn keys_for(&self, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Node, Notification::Add(o) | Notification::Update { new: o, .. })
                if has_taint(o, UNINITIALIZED_TAINT) =>
            {
                vec![o.name().to_string()]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, s: &mut Sync<'_>, key: &str) -> Requeue {
        match s.node(key) {
            Some(node) if has_taint(node, UNINITIALIZED_TAINT) => {
                s.call(CloudRequest::InstanceMetadata { node: key.into() });
            }
            _ => {}
        }
        Requeue::Done
    }

    fn on_cloud(
        &mut self,
        s: &mut Sync<'_>,
        key: &str,
        _request: &CloudRequest,
        response: &CloudResponse,
    ) -> Requeue {
        let Some(node) = s.node(key).cloned() else {
            return Requeue::Done;
        };
        if !has_taint(&node, UNINITIALIZED_TAINT) {
            return Requeue::Done;
        }
        match response {
            CloudResponse::Instance(Some(m)) => {
                let Some(next) = initialised(&node, m) else {
                    return Requeue::Done;
                };
                s.write(
                    ApiRequest::new(Verb::Patch, KindId::Node, Credential::None)
                        .named(key)
                        .with_body(next),
                );
                Requeue::Done
            }
            CloudResponse::Instance(None) => {
                s.log(format!(
                    "failed to initialize node {key} at cloudprovider: instance not found"
                ));
                Requeue::RateLimited
            }
            _ => Requeue::RateLimited,
        }
    }

    fn on_reply(
        &mut self,
        key: &str,
        _request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<String> {
        match response {
            ApiResponse::Object(_) => {
                vec![format!(
                    "Successfully initialized node {key} with cloud provider"
                )]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::informer::Store;
    use crate::controllers::testing::object;
    use crate::world::SimTime;

    fn node(taint: bool) -> Object {
        let taints = if taint {
            "  taints:\n  - key: node.cloudprovider.kubernetes.io/uninitialized\n    value: \"true\"\n    effect: NoSchedule\n"
        } else {
            ""
        };
        object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n  resourceVersion: \"5\"\nspec:\n{taints}  unschedulable: false\n"
        ))
    }

    fn metadata() -> InstanceMetadata {
        InstanceMetadata {
            name: "worker-1".into(),
            provider_id: "kubesim://zone-a/worker-1".into(),
            instance_type: "e2-standard-4".into(),
            zone: "zone-a".into(),
            region: "region-1".into(),
            addresses: vec![],
            shutdown: false,
        }
    }

    #[test]
    fn an_uninitialised_node_is_looked_up_in_the_cloud() {
        let nodes = Store::from_objects(vec![node(true)]);
        let mut s = Sync::new(SimTime::ZERO, Some(&nodes), None);
        let mut c = CloudNodeController;
        assert_eq!(c.reconcile(&mut s, "worker-1"), Requeue::Done);
        assert_eq!(
            s.calls(),
            [CloudRequest::InstanceMetadata {
                node: "worker-1".into()
            }]
        );
    }

    #[test]
    fn an_initialised_node_is_left_alone() {
        let nodes = Store::from_objects(vec![node(false)]);
        let mut s = Sync::new(SimTime::ZERO, Some(&nodes), None);
        CloudNodeController.reconcile(&mut s, "worker-1");
        assert!(s.calls().is_empty());
        assert!(CloudNodeController
            .keys_for(
                KindId::Node,
                &Notification::Add(std::rc::Rc::new(node(false)))
            )
            .is_empty());
    }

    #[test]
    fn the_instance_gives_the_node_its_provider_id_labels_and_lifts_the_taint() {
        let nodes = Store::from_objects(vec![node(true)]);
        let mut s = Sync::new(SimTime::ZERO, Some(&nodes), None);
        let request = CloudRequest::InstanceMetadata {
            node: "worker-1".into(),
        };
        CloudNodeController.on_cloud(
            &mut s,
            "worker-1",
            &request,
            &CloudResponse::Instance(Some(metadata())),
        );
        let [w] = s.writes() else { panic!("one patch") };
        assert_eq!(w.verb, Verb::Patch);
        let Some(Object::Node(n)) = w.body.as_deref() else {
            panic!()
        };
        let spec = n.spec.clone().unwrap_or_default();
        assert_eq!(
            spec.provider_id.as_deref(),
            Some("kubesim://zone-a/worker-1")
        );
        assert!(spec.taints.unwrap_or_default().is_empty());
        let labels = n.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels[LABEL_ZONE], "zone-a");
        assert_eq!(labels[LABEL_REGION], "region-1");
        assert_eq!(labels[LABEL_INSTANCE_TYPE], "e2-standard-4");
    }

    #[test]
    fn an_instance_the_cloud_does_not_know_is_retried_with_back_off() {
        let nodes = Store::from_objects(vec![node(true)]);
        let mut s = Sync::new(SimTime::ZERO, Some(&nodes), None);
        let request = CloudRequest::InstanceMetadata {
            node: "worker-1".into(),
        };
        let r = CloudNodeController.on_cloud(
            &mut s,
            "worker-1",
            &request,
            &CloudResponse::Instance(None),
        );
        assert_eq!(r, Requeue::RateLimited);
        assert!(s.writes().is_empty());
    }
}
