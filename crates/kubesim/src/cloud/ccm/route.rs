//! The route controller: a cloud route per node pod CIDR.
//!
//! In Kubernetes (`k8s.io/cloud-provider/controllers/route/route_controller.go`,
//! `reconcile`, every `--route-reconciliation-period` = 10 s) the
//! controller lists the provider's routes and compares them with the Nodes'
//! `spec.podCIDRs`: a node without a route to its pod CIDR gets one
//! (`CreateRoute`, target the node's instance), and a route whose node is
//! gone or whose CIDR no longer matches is deleted (`DeleteRoute`), so pods
//! on different nodes reach each other through the VPC.
//!
//! Left out: the `NodeNetworkUnavailable` condition the controller sets
//! (the kubelet's status here owns the conditions), and dual-stack CIDRs.

use super::{CloudController, Sync, PERIODIC};
use crate::api::{KindId, Object};
use crate::client::informer::Notification;
use crate::cloud::{CloudRequest, CloudResponse, Route};
use crate::controllers::Requeue;
use crate::world::SimDuration;

/// `--route-reconciliation-period`.
pub const RECONCILIATION_PERIOD: SimDuration = SimDuration::from_secs(10);

/// The route controller.
#[derive(Clone, Default)]
pub struct RouteController;

fn pod_cidr(node: &Object) -> Option<String> {
    match node {
        Object::Node(n) => n.spec.as_ref()?.pod_cidr.clone(),
        _ => None,
    }
}

impl RouteController {
    fn reconcile_routes(&self, s: &mut Sync<'_>, routes: &[Route]) {
        let nodes: Vec<(String, String)> = s
            .nodes()
            .iter()
            .filter_map(|n| Some((n.name().to_string(), pod_cidr(n)?)))
            .collect();
        for (node, cidr) in &nodes {
            if !routes
                .iter()
                .any(|r| &r.target == node && &r.destination == cidr)
            {
                s.call(CloudRequest::CreateRoute {
                    node: node.clone(),
                    destination: cidr.clone(),
                });
            }
        }
        for r in routes {
            if !nodes
                .iter()
                .any(|(n, c)| n == &r.target && c == &r.destination)
            {
                s.call(CloudRequest::DeleteRoute {
                    name: r.name.clone(),
                });
            }
        }
    }
}

impl CloudController for RouteController {
    fn name(&self) -> &'static str {
        "route-controller"
    }

    fn keys_for(&self, _kind: KindId, _n: &Notification) -> Vec<String> {
        Vec::new()
    }

    fn period(&self) -> Option<SimDuration> {
        Some(RECONCILIATION_PERIOD)
    }

    fn reconcile(&mut self, s: &mut Sync<'_>, key: &str) -> Requeue {
        if key == PERIODIC {
            s.call(CloudRequest::ListRoutes);
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
        if let CloudResponse::Routes(routes) = response {
            self.reconcile_routes(s, routes);
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

    #[test]
    fn a_node_gets_a_route_and_a_stale_route_goes() {
        let node = object(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\nspec:\n  podCIDR: 10.244.3.0/24\n",
        );
        let store = Store::from_objects(vec![node]);
        let mut s = Sync::new(SimTime::ZERO, Some(&store), None);
        let stale = Route {
            name: "kubernetes-worker-9".into(),
            destination: "10.244.9.0/24".into(),
            target: "worker-9".into(),
        };
        RouteController.on_cloud(
            &mut s,
            PERIODIC,
            &CloudRequest::ListRoutes,
            &CloudResponse::Routes(vec![stale]),
        );
        assert_eq!(
            s.calls(),
            [
                CloudRequest::CreateRoute {
                    node: "worker-1".into(),
                    destination: "10.244.3.0/24".into()
                },
                CloudRequest::DeleteRoute {
                    name: "kubernetes-worker-9".into()
                }
            ]
        );
    }
}
