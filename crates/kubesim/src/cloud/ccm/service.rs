//! The service controller: a cloud load balancer per `type: LoadBalancer`
//! Service.
//!
//! In Kubernetes (`k8s.io/cloud-provider/controllers/service/controller.go`,
//! `syncService` / `processServiceCreateOrUpdate` /
//! `processLoadBalancerDelete`) a Service that wants a load balancer first
//! gets the finalizer `service.kubernetes.io/load-balancer-cleanup`
//! (`addFinalizer`), so it cannot disappear before its load balancer does;
//! then the controller calls `EnsureLoadBalancer` (events
//! `EnsuringLoadBalancer`, `EnsuredLoadBalancer`) with the nodes that may
//! take traffic (Ready, without the
//! `node.kubernetes.io/exclude-from-external-load-balancers` label) and
//! writes the address to `status.loadBalancer.ingress`. When the Service is
//! deleted, or stops being `type: LoadBalancer`, it calls
//! `EnsureLoadBalancerDeleted` (`DeletingLoadBalancer`,
//! `DeletedLoadBalancer`), clears the status and removes the finalizer. A
//! failed call is retried with back-off (`SyncLoadBalancerFailed`). The
//! load balancer's name is `cloudprovider.DefaultLoadBalancerName`: `a`
//! and the Service's uid without dashes, at most 32 characters.
//!
//! The cloud's load balancer health-checks its nodes when traffic
//! arrives (`cluster/traffic.rs`): on the Service's `healthCheckNodePort`
//! under `externalTrafficPolicy: Local`, else kube-proxy's `/healthz`.
//! Left out: `spec.loadBalancerClass`, `loadBalancerSourceRanges` and the
//! periodic node sync (`nodeSyncPeriod`).

use super::{CloudController, Sync};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::cloud::{CloudRequest, CloudResponse};
use crate::controllers::Requeue;
use k8s_openapi::api::core::v1::{LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus};
use std::collections::BTreeMap;

/// The finalizer that holds a Service until its load balancer is gone.
pub const LOAD_BALANCER_CLEANUP_FINALIZER: &str = "service.kubernetes.io/load-balancer-cleanup";
/// Nodes with this label take no load-balancer traffic.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// The service controller.
#[derive(Clone, Default)]
pub struct ServiceController {
    /// The load balancer of each Service seen wanting one (the controller's
    /// `serviceCache`), so one deleted without its finalizer is still
    /// cleaned up.
    known: BTreeMap<String, String>,
}

/// `cloudprovider.DefaultLoadBalancerName`.
pub fn load_balancer_name(svc: &Object) -> String {
    let mut name: String = format!("a{}", svc.uid().unwrap_or_default()).replace('-', "");
    name.truncate(32);
    name
}

fn service(o: &Object) -> Option<&Service> {
    match o {
        Object::Service(s) => Some(s),
        _ => None,
    }
}

/// `wantsLoadBalancer`.
fn wants_load_balancer(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

fn ingress_ips(svc: &Service) -> Vec<String> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .map(|i| i.iter().filter_map(|i| i.ip.clone()).collect())
        .unwrap_or_default()
}

fn has_finalizer(o: &Object) -> bool {
    o.finalizers()
        .iter()
        .any(|f| f == LOAD_BALANCER_CLEANUP_FINALIZER)
}

fn patch(s: &mut Sync<'_>, o: &Object, body: Service, status: bool) {
    let mut r = ApiRequest::new(Verb::Patch, KindId::Service, Credential::None)
        .in_namespace(o.namespace().unwrap_or("default"))
        .named(o.name())
        .with_body(Object::Service(Box::new(body)));
    if status {
        r = r.with_subresource("status");
    }
    s.write(r);
}

impl ServiceController {
    fn ensure(&mut self, s: &mut Sync<'_>, key: &str, o: &Object, svc: &Service) {
        let ports = svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .map(|p| {
                p.iter()
                    .map(|p| format!("{}:{}", p.protocol.as_deref().unwrap_or("TCP"), p.port))
                    .collect()
            })
            .unwrap_or_default();
        let nodes = s
            .nodes()
            .iter()
            .filter(|n| !n.labels().contains_key(EXCLUDE_LABEL))
            .filter(|n| super::ready_status(n) == "True")
            .map(|n| n.name().to_string())
            .collect();
        let name = load_balancer_name(o);
        self.known.insert(key.to_string(), name.clone());
        s.event(
            o,
            "Normal",
            "EnsuringLoadBalancer",
            "Ensuring load balancer".into(),
        );
        s.call(CloudRequest::EnsureLoadBalancer {
            name,
            service: key.to_string(),
            ports,
            nodes,
        });
    }
}

impl CloudController for ServiceController {
    fn name(&self) -> &'static str {
        "service-controller"
    }

    fn keys_for(&self, kind: KindId, n: &Notification) -> Vec<String> {
        match kind {
            KindId::Service => n.key().into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, s: &mut Sync<'_>, key: &str) -> Requeue {
        let Some(o) = s.service(key).cloned() else {
            // Deleted without our finalizer (or before we added it).
            if let Some(name) = self.known.remove(key) {
                s.call(CloudRequest::EnsureLoadBalancerDeleted { name });
            }
            return Requeue::Done;
        };
        let Some(svc) = service(&o) else {
            return Requeue::Done;
        };
        let deleting = o.deletion_timestamp().is_some();
        if wants_load_balancer(svc) && !deleting {
            if !has_finalizer(&o) {
                let mut next = svc.clone();
                next.metadata
                    .finalizers
                    .get_or_insert_with(Vec::new)
                    .push(LOAD_BALANCER_CLEANUP_FINALIZER.into());
                patch(s, &o, next, false);
                return Requeue::Done;
            }
            self.ensure(s, key, &o, svc);
        } else if has_finalizer(&o) || !ingress_ips(svc).is_empty() {
            s.event(
                &o,
                "Normal",
                "DeletingLoadBalancer",
                "Deleting load balancer".into(),
            );
            let name = self
                .known
                .get(key)
                .cloned()
                .unwrap_or_else(|| load_balancer_name(&o));
            s.call(CloudRequest::EnsureLoadBalancerDeleted { name });
        }
        Requeue::Done
    }

    fn on_cloud(
        &mut self,
        s: &mut Sync<'_>,
        key: &str,
        request: &CloudRequest,
        response: &CloudResponse,
    ) -> Requeue {
        let current = s.service(key).cloned();
        let Some(o) = current else {
            if matches!(request, CloudRequest::EnsureLoadBalancerDeleted { .. }) {
                self.known.remove(key);
            }
            return Requeue::Done;
        };
        let Some(svc) = service(&o).cloned() else {
            return Requeue::Done;
        };
        match response {
            CloudResponse::LoadBalancer { ip } => {
                if ingress_ips(&svc) != [ip.clone()] {
                    let mut next = svc.clone();
                    next.metadata.resource_version = None;
                    next.status = Some(ServiceStatus {
                        load_balancer: Some(LoadBalancerStatus {
                            ingress: Some(vec![LoadBalancerIngress {
                                ip: Some(ip.clone()),
                                ip_mode: Some("VIP".into()),
                                ..Default::default()
                            }]),
                        }),
                        ..svc.status.clone().unwrap_or_default()
                    });
                    patch(s, &o, next, true);
                }
                s.event(
                    &o,
                    "Normal",
                    "EnsuredLoadBalancer",
                    "Ensured load balancer".into(),
                );
                Requeue::Done
            }
            CloudResponse::Done => {
                self.known.remove(key);
                let deleting = o.deletion_timestamp().is_some();
                if !deleting && !ingress_ips(&svc).is_empty() {
                    let mut next = svc.clone();
                    next.metadata.resource_version = None;
                    let mut status = svc.status.clone().unwrap_or_default();
                    status.load_balancer = Some(LoadBalancerStatus::default());
                    next.status = Some(status);
                    patch(s, &o, next, true);
                }
                if has_finalizer(&o) {
                    let mut next = svc.clone();
                    // The finalizer's removal is a patch of that list alone
                    // upstream: it does not wait for the status write.
                    next.metadata.resource_version = None;
                    if let Some(f) = next.metadata.finalizers.as_mut() {
                        f.retain(|f| f != LOAD_BALANCER_CLEANUP_FINALIZER);
                    }
                    patch(s, &o, next, false);
                }
                s.event(
                    &o,
                    "Normal",
                    "DeletedLoadBalancer",
                    "Deleted load balancer".into(),
                );
                Requeue::Done
            }
            CloudResponse::Error(e) => {
                s.event(
                    &o,
                    "Warning",
                    "SyncLoadBalancerFailed",
                    format!("Error syncing load balancer: failed to ensure load balancer: {e}"),
                );
                Requeue::RateLimited
            }
            _ => Requeue::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::informer::Store;
    use crate::controllers::testing::object;
    use crate::world::SimTime;

    fn svc(extra_meta: &str, type_: &str) -> Object {
        object(&format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\n  uid: 0a1b2c3d-0000-4000-8000-000000000001\n{extra_meta}spec:\n  type: {type_}\n  ports:\n  - port: 80\n"
        ))
    }

    #[test]
    fn a_load_balancer_service_first_gets_the_cleanup_finalizer() {
        let store = Store::from_objects(vec![svc("", "LoadBalancer")]);
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        ServiceController::default().reconcile(&mut s, "default/web");
        let [w] = s.writes() else { panic!() };
        assert!(w.body.as_ref().is_some_and(|b| has_finalizer(b)));
        assert!(s.calls().is_empty());
    }

    #[test]
    fn with_its_finalizer_it_gets_a_load_balancer_and_its_ip() {
        let o = svc(
            "  finalizers:\n  - service.kubernetes.io/load-balancer-cleanup\n",
            "LoadBalancer",
        );
        let store = Store::from_objects(vec![o]);
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        let mut c = ServiceController::default();
        c.reconcile(&mut s, "default/web");
        let [CloudRequest::EnsureLoadBalancer { name, ports, .. }] = s.calls() else {
            panic!("{:?}", s.calls())
        };
        assert_eq!(
            name,
            "a0a1b2c3d000040008000000000000001"[..32]
                .to_string()
                .as_str()
        );
        assert_eq!(ports, &["TCP:80".to_string()]);
        let request = s.calls()[0].clone();
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        c.on_cloud(
            &mut s,
            "default/web",
            &request,
            &CloudResponse::LoadBalancer {
                ip: "203.0.113.1".into(),
            },
        );
        let [w] = s.writes() else { panic!() };
        assert_eq!(w.subresource.as_deref(), Some("status"));
        let Some(Object::Service(next)) = w.body.as_deref() else {
            panic!()
        };
        assert_eq!(ingress_ips(next), ["203.0.113.1"]);
        assert_eq!(s.events()[0].0, "EnsuredLoadBalancer");
    }

    #[test]
    fn a_deleted_service_loses_its_load_balancer_then_its_finalizer() {
        let o = svc(
            "  finalizers:\n  - service.kubernetes.io/load-balancer-cleanup\n  deletionTimestamp: \"2026-01-01T00:01:00Z\"\n",
            "LoadBalancer",
        );
        let store = Store::from_objects(vec![o]);
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        let mut c = ServiceController::default();
        c.reconcile(&mut s, "default/web");
        let [request @ CloudRequest::EnsureLoadBalancerDeleted { .. }] = s.calls() else {
            panic!("{:?}", s.calls())
        };
        let request = request.clone();
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        c.on_cloud(&mut s, "default/web", &request, &CloudResponse::Done);
        let [w] = s.writes() else { panic!() };
        assert!(w.body.as_ref().is_some_and(|b| !has_finalizer(b)));
    }

    #[test]
    fn a_cluster_ip_service_is_none_of_its_business() {
        let store = Store::from_objects(vec![svc("", "ClusterIP")]);
        let mut s = Sync::new(SimTime::ZERO, None, Some(&store));
        ServiceController::default().reconcile(&mut s, "default/web");
        assert!(s.writes().is_empty() && s.calls().is_empty());
    }
}
