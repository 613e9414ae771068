//! The EndpointSlice controller: for every Service with a selector, keeps
//! EndpointSlices listing the pods that back it.
//!
//! Ported from `pkg/controller/endpointslice/endpointslice_controller.go`
//! (`syncService`, the pod and service event handlers) and
//! `staging/src/k8s.io/endpointslice/reconciler.go` (`reconcile`,
//! `reconcileByAddressType`, `reconcileByPortMapping`) with `utils.go`
//! (`podToEndpoint`, `getEndpointPorts`, `newEndpointSlice`). Each sync
//! selects the Service's pods, turns each one that has an IP and is not
//! terminal into an endpoint (its address, `ready` / `serving` /
//! `terminating` conditions, `nodeName`, the node's zone and a `targetRef`
//! to the pod), with the Service's ports resolved against the pod's
//! container ports. The endpoints go into the slices the controller already
//! manages (labelled `kubernetes.io/service-name` and
//! `endpointslice.kubernetes.io/managed-by`, owned by the Service),
//! keeping each endpoint where it is, filling slices up to 100 endpoints
//! (`--max-endpoints-per-slice`) and creating new ones named by
//! `generateName: <service>-`; slices left empty are deleted, and a
//! Service with no endpoints keeps one empty placeholder slice. The
//! controller's `EndpointSliceTracker` stops it from acting on a cache
//! that has not yet seen its own writes.
//!
//! Left out: IPv6 and dual-stack (every slice is `IPv4`), topology hints
//! and traffic distribution, `hostname` for pods with a subdomain, the
//! `endpoints.kubernetes.io/last-change-trigger-time` annotation, the
//! one-second batching of pod updates (`endpointUpdatesBatchPeriod` is 0
//! by default), and mirroring of user-made slices.

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::core::v1::{ObjectReference, Service, ServicePort};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::rc::Rc;

/// `discovery.LabelServiceName`.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// `discovery.LabelManagedBy`.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// The controller's `managedBy` value.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// `--max-endpoints-per-slice` default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// What the controller wrote and waits to see in its cache
/// (`EndpointSliceTracker`): slice name -> resourceVersion, or `None`
/// for a deletion.
#[derive(Clone, Default)]
struct Tracker {
    in_flight: usize,
    expected: BTreeMap<String, Option<u64>>,
}

/// The EndpointSlice controller.
#[derive(Clone, Default)]
pub struct EndpointSliceController {
    trackers: BTreeMap<String, Tracker>,
}

fn rv(o: &Object) -> u64 {
    o.resource_version()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The Services in `namespace` whose selector matches `labels`.
fn services_selecting(
    caches: Caches<'_>,
    namespace: &str,
    labels: crate::api::labels::LabelsRef<'_>,
) -> Vec<String> {
    caches
        .list_in(KindId::Service, namespace)
        .iter()
        .filter_map(|o| match &**o {
            Object::Service(s) => {
                let sel = s.spec.as_ref().and_then(|s| s.selector.as_ref())?;
                (!sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
                    .then(|| o.key())
            }
            _ => None,
        })
        .collect()
}

/// Whether a pod belongs in the Service's endpoints
/// (`endpointsliceutil.ShouldPodBeInEndpoints` with terminating pods
/// included): it has an IP and has not finished.
fn should_be_in_endpoints(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let has_ip = status
        .and_then(|s| s.pod_ip.as_deref())
        .is_some_and(|ip| !ip.is_empty());
    let phase = status.and_then(|s| s.phase.as_deref());
    has_ip && !matches!(phase, Some("Succeeded") | Some("Failed"))
}

/// `findPort`: the container port a Service port targets on a pod.
fn find_port(pod: &Pod, sp: &ServicePort) -> Option<i32> {
    match &sp.target_port {
        None => Some(sp.port),
        Some(IntOrString::Int(p)) => Some(*p),
        Some(IntOrString::String(name)) => {
            let protocol = sp.protocol.as_deref().unwrap_or("TCP");
            pod.spec.as_ref()?.containers.iter().find_map(|c| {
                c.ports.as_ref()?.iter().find_map(|p| {
                    (p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol)
                        .then_some(p.container_port)
                })
            })
        }
    }
}

/// `getEndpointPorts`.
fn endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .filter_map(|sp| {
                    Some(EndpointPort {
                        name: Some(sp.name.clone().unwrap_or_default()),
                        port: Some(find_port(pod, sp)?),
                        protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                        app_protocol: sp.app_protocol.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `podToEndpoint`.
fn pod_to_endpoint(caches: Caches<'_>, service: &Service, pod: &Pod) -> Endpoint {
    let publish_not_ready = service
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let serving = publish_not_ready || super::replicaset::is_ready(pod);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    // "ready" is never true for a terminating pod unless
    // publishNotReadyAddresses is set.
    let ready = publish_not_ready || (serving && !terminating);
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let zone = node_name
        .as_deref()
        .and_then(|n| caches.get(KindId::Node, n))
        .and_then(|n| n.labels().get(ZONE_LABEL).cloned());
    Endpoint {
        addresses: vec![pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_default()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        node_name,
        zone,
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: pod.metadata.namespace.clone(),
            name: pod.metadata.name.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The pod an endpoint stands for.
fn endpoint_pod(e: &Endpoint) -> Option<&str> {
    e.target_ref.as_ref().and_then(|r| r.uid.as_deref())
}

impl EndpointSliceController {
    fn tracker(&mut self, key: &str) -> &mut Tracker {
        self.trackers.entry(key.to_string()).or_default()
    }

    /// Whether the cache shows every write this controller made for the
    /// Service (`EndpointSliceTracker.StaleSlices`).
    fn cache_is_current(&mut self, key: &str, slices: &[Rc<Object>]) -> bool {
        let Some(t) = self.trackers.get_mut(key) else {
            return true;
        };
        if t.in_flight > 0 {
            return false;
        }
        t.expected.retain(|name, want| {
            let seen = slices.iter().find(|s| s.name() == name);
            match (want, seen) {
                (Some(v), Some(s)) => rv(s) < *v,
                (Some(_), None) => true,
                (None, Some(_)) => true,
                (None, None) => false,
            }
        });
        t.expected.is_empty()
    }

    fn new_slice(
        service_obj: &Object,
        service: &Service,
        ports: &[EndpointPort],
        endpoints: Vec<Endpoint>,
    ) -> EndpointSlice {
        let mut labels = service.metadata.labels.clone().unwrap_or_default();
        labels.remove("service.kubernetes.io/headless");
        if service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None") {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        labels.insert(LABEL_SERVICE_NAME.into(), service_obj.name().to_string());
        labels.insert(LABEL_MANAGED_BY.into(), MANAGED_BY.into());
        let name = service_obj.name();
        // `getEndpointSlicePrefix`: names are cut to leave room for the suffix.
        let prefix: String = name.chars().take(57).collect();
        EndpointSlice {
            metadata: ObjectMeta {
                generate_name: Some(format!("{prefix}-")),
                namespace: service_obj.namespace().map(str::to_string),
                labels: Some(labels),
                owner_references: Some(vec![super::replicaset::controller_ref(service_obj)]),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints: Some(endpoints),
            ports: Some(ports.to_vec()),
        }
    }
}

impl Controller for EndpointSliceController {
    fn name(&self) -> &'static str {
        "endpointslice-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![
            KindId::Service,
            KindId::Pod,
            KindId::EndpointSlice,
            KindId::Node,
        ]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match kind {
            KindId::Service => n.key().into_iter().collect(),
            KindId::Pod => {
                let mut keys = Vec::new();
                let (old, new) = match n {
                    Notification::Add(o) => (None, Some(o)),
                    Notification::Update { old, new } => (Some(old), Some(new)),
                    Notification::Delete { object, .. } => (Some(object), None),
                    Notification::Synced => (None, None),
                };
                for o in [old, new].into_iter().flatten() {
                    let ns = o.namespace().unwrap_or_default();
                    for k in services_selecting(caches, ns, o.labels()) {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                keys
            }
            KindId::EndpointSlice => {
                let o = match n {
                    Notification::Add(o)
                    | Notification::Update { new: o, .. }
                    | Notification::Delete { object: o, .. } => o,
                    Notification::Synced => return Vec::new(),
                };
                if o.labels().get(LABEL_MANAGED_BY).map(String::as_str) != Some(MANAGED_BY) {
                    return Vec::new();
                }
                match o.labels().get(LABEL_SERVICE_NAME) {
                    Some(svc) => vec![format!("{}/{svc}", o.namespace().unwrap_or_default())],
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(service_obj) = ctx.caches.get(KindId::Service, key).cloned() else {
            // The garbage collector deletes the slices it owned.
            self.trackers.remove(key);
            return Requeue::Done;
        };
        let Object::Service(service) = &*service_obj else {
            return Requeue::Done;
        };
        let ns = service_obj.namespace().unwrap_or("default").to_string();
        let spec = service.spec.clone().unwrap_or_default();
        let slices: Vec<Rc<Object>> = ctx
            .caches
            .list_in(KindId::EndpointSlice, &ns)
            .into_iter()
            .filter(|s| {
                s.labels().get(LABEL_SERVICE_NAME).map(String::as_str) == Some(service_obj.name())
                    && s.labels().get(LABEL_MANAGED_BY).map(String::as_str) == Some(MANAGED_BY)
            })
            .collect();
        if !self.cache_is_current(key, &slices) {
            return Requeue::RateLimited;
        }
        let slices: Vec<Rc<Object>> = slices
            .into_iter()
            .filter(|s| s.deletion_timestamp().is_none())
            .collect();
        let selector = spec.selector.clone().unwrap_or_default();
        if selector.is_empty() || spec.type_.as_deref() == Some("ExternalName") {
            // Services without a selector have their slices made by hand;
            // ExternalName services have none.
            if spec.type_.as_deref() == Some("ExternalName") {
                for s in &slices {
                    self.tracker(key).in_flight += 1;
                    ctx.write(
                        ApiRequest::new(Verb::Delete, KindId::EndpointSlice, Credential::None)
                            .in_namespace(&ns)
                            .named(s.name()),
                    );
                }
            }
            return Requeue::Done;
        }
        // The desired endpoints, grouped by their port mapping.
        let mut desired: BTreeMap<String, (Vec<EndpointPort>, Vec<Endpoint>)> = BTreeMap::new();
        for p in ctx.caches.list_in(KindId::Pod, &ns) {
            let Object::Pod(pod) = &*p else { continue };
            if !selector.iter().all(|(k, v)| p.labels().get(k) == Some(v)) {
                continue;
            }
            if !should_be_in_endpoints(pod) {
                continue;
            }
            let ports = endpoint_ports(service, pod);
            let port_key = format!("{ports:?}");
            desired
                .entry(port_key)
                .or_insert_with(|| (ports, Vec::new()))
                .1
                .push(pod_to_endpoint(ctx.caches, service, pod));
        }
        // `reconcileByPortMapping`: per port mapping, keep endpoints in the
        // slices that hold them, fill slices with room, create slices for
        // the rest.
        let mut updates: Vec<EndpointSlice> = Vec::new();
        let mut creates: Vec<EndpointSlice> = Vec::new();
        let mut deletes: Vec<String> = Vec::new();
        let mut kept_any = false;
        let mut used: Vec<bool> = vec![false; slices.len()];
        for (ports, endpoints) in desired.values() {
            let mut wanted: BTreeMap<&str, &Endpoint> = endpoints
                .iter()
                .filter_map(|e| endpoint_pod(e).map(|u| (u, e)))
                .collect();
            let mut kept: Vec<(usize, EndpointSlice, bool)> = Vec::new();
            for (i, s) in slices.iter().enumerate() {
                let Object::EndpointSlice(slice) = &**s else {
                    continue;
                };
                if used[i] || slice.ports.clone().unwrap_or_default() != *ports {
                    continue;
                }
                used[i] = true;
                let mut next = slice.clone();
                let mut list = Vec::new();
                for e in slice.endpoints.clone().unwrap_or_default() {
                    if let Some(w) = endpoint_pod(&e).and_then(|u| wanted.remove(u)) {
                        list.push(w.clone());
                    }
                }
                let changed = Some(&list) != slice.endpoints.as_ref();
                next.endpoints = Some(list);
                kept.push((i, *next, changed));
            }
            // Fill slices that have room, fullest first (as upstream
            // prefers), then create new ones.
            let mut rest: Vec<Endpoint> = wanted.into_values().cloned().collect();
            kept.sort_by_key(|(_, s, _)| {
                std::cmp::Reverse(s.endpoints.as_ref().map_or(0, Vec::len))
            });
            for (_, s, changed) in kept.iter_mut() {
                let list = s.endpoints.get_or_insert_with(Vec::new);
                while list.len() < MAX_ENDPOINTS_PER_SLICE && !rest.is_empty() {
                    list.push(rest.remove(0));
                    *changed = true;
                }
            }
            for (_, s, changed) in kept {
                if s.endpoints.as_ref().is_none_or(Vec::is_empty) {
                    deletes.push(s.metadata.name.clone().unwrap_or_default());
                } else {
                    kept_any = true;
                    if changed {
                        updates.push(s);
                    }
                }
            }
            for chunk in rest.chunks(MAX_ENDPOINTS_PER_SLICE) {
                creates.push(Self::new_slice(
                    &service_obj,
                    service,
                    ports,
                    chunk.to_vec(),
                ));
            }
        }
        // Slices whose port mapping no one wants any more.
        for (i, s) in slices.iter().enumerate() {
            if !used[i] {
                deletes.push(s.name().to_string());
            }
        }
        if !kept_any && creates.is_empty() {
            // A placeholder: an empty slice stands for the Service
            // (`placeholderSliceCompare`); keep an existing one.
            let placeholder = slices.iter().find_map(|s| match &**s {
                Object::EndpointSlice(e)
                    if e.endpoints.as_ref().is_none_or(Vec::is_empty)
                        && e.ports.as_ref().is_none_or(Vec::is_empty) =>
                {
                    Some(s.name().to_string())
                }
                _ => None,
            });
            match placeholder {
                Some(name) => deletes.retain(|d| *d != name),
                None => creates.push(Self::new_slice(&service_obj, service, &[], Vec::new())),
            }
        }
        for s in updates {
            let name = s.metadata.name.clone().unwrap_or_default();
            self.tracker(key).in_flight += 1;
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::EndpointSlice, Credential::None)
                    .in_namespace(&ns)
                    .named(name)
                    .with_body(Object::EndpointSlice(Box::new(s))),
            );
        }
        for s in creates {
            self.tracker(key).in_flight += 1;
            ctx.write(
                ApiRequest::new(Verb::Create, KindId::EndpointSlice, Credential::None)
                    .in_namespace(&ns)
                    .with_body(Object::EndpointSlice(Box::new(s))),
            );
        }
        for name in deletes {
            self.tracker(key).in_flight += 1;
            ctx.write(
                ApiRequest::new(Verb::Delete, KindId::EndpointSlice, Credential::None)
                    .in_namespace(&ns)
                    .named(name),
            );
        }
        Requeue::Done
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        let Some(t) = self.trackers.get_mut(key) else {
            return Vec::new();
        };
        t.in_flight = t.in_flight.saturating_sub(1);
        match (request.verb, response) {
            (Verb::Create | Verb::Update, ApiResponse::Object(o)) => {
                t.expected.insert(o.name().to_string(), Some(rv(o)));
            }
            (Verb::Delete, ApiResponse::Deleted(o) | ApiResponse::Object(o)) => {
                t.expected.insert(o.name().to_string(), None);
            }
            _ => {}
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};
    use crate::world::SimTime;

    const NOW: SimTime = SimTime(100_000);

    fn service() -> Object {
        object(
            "apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, uid: svc-1}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
",
        )
    }

    fn pod(n: u32, ready: bool, deleting: bool) -> Object {
        let deletion = if deleting {
            "  deletionTimestamp: \"2026-01-01T00:01:00Z\"\n"
        } else {
            ""
        };
        object(&format!(
            "apiVersion: v1
kind: Pod
metadata:
  name: web-{n}
  namespace: default
  uid: pod-{n}
  labels: {{app: web}}
{deletion}spec:
  nodeName: worker-1
  containers:
  - name: c
    image: nginx
    ports: [{{name: http, containerPort: 8080}}]
status:
  phase: Running
  podIP: 10.244.1.{n}
  conditions: [{{type: Ready, status: \"{}\"}}]
",
            if ready { "True" } else { "False" }
        ))
    }

    fn slices(writes: &[ApiRequest]) -> Vec<(Verb, EndpointSlice)> {
        writes
            .iter()
            .filter_map(|w| match w.body.as_deref() {
                Some(Object::EndpointSlice(s)) => Some((w.verb, (**s).clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_service_gets_a_slice_of_its_pods_with_their_conditions_and_resolved_ports() {
        let objects = [
            service(),
            pod(1, true, false),
            pod(2, false, false),
            pod(3, true, true),
        ];
        let (writes, _, _) = reconcile(
            &mut EndpointSliceController::default(),
            NOW,
            &objects,
            "default/web",
        );
        let created = slices(&writes);
        assert_eq!(created.len(), 1);
        let (verb, slice) = &created[0];
        assert_eq!(*verb, Verb::Create);
        assert_eq!(slice.metadata.generate_name.as_deref(), Some("web-"));
        assert_eq!(slice.address_type, "IPv4");
        let labels = slice.metadata.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get(LABEL_SERVICE_NAME).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            labels.get(LABEL_MANAGED_BY).map(String::as_str),
            Some(MANAGED_BY)
        );
        let port = &slice.ports.as_ref().unwrap()[0];
        assert_eq!(
            (port.name.as_deref(), port.port),
            (Some("http"), Some(8080))
        );
        let conditions: Vec<(String, bool, bool, bool)> = slice
            .endpoints
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let c = e.conditions.clone().unwrap_or_default();
                (
                    e.addresses[0].clone(),
                    c.ready.unwrap_or_default(),
                    c.serving.unwrap_or_default(),
                    c.terminating.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            conditions,
            [
                ("10.244.1.1".to_string(), true, true, false),
                ("10.244.1.2".to_string(), false, false, false),
                // A terminating pod is never ready, though it may serve.
                ("10.244.1.3".to_string(), false, true, true),
            ]
        );
    }

    #[test]
    fn more_than_a_hundred_pods_fill_slices_of_a_hundred() {
        let mut objects = vec![service()];
        objects.extend((1..=150).map(|n| pod(n, true, false)));
        let (writes, _, _) = reconcile(
            &mut EndpointSliceController::default(),
            NOW,
            &objects,
            "default/web",
        );
        let sizes: Vec<usize> = slices(&writes)
            .iter()
            .map(|(_, s)| s.endpoints.as_ref().map_or(0, Vec::len))
            .collect();
        assert_eq!(sizes, [100, 50]);
    }

    #[test]
    fn a_service_without_pods_has_one_empty_placeholder_slice() {
        let (writes, _, _) = reconcile(
            &mut EndpointSliceController::default(),
            NOW,
            &[service()],
            "default/web",
        );
        let created = slices(&writes);
        assert_eq!(created.len(), 1);
        assert!(created[0].1.endpoints.as_ref().is_none_or(Vec::is_empty));
    }
}
