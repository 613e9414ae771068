//! The `kubernetes` Service's endpoints: the API servers themselves.
//!
//! In Kubernetes the `default/kubernetes` Service has no selector; the API
//! servers keep its endpoints (`pkg/controlplane/reconcilers/lease.go`,
//! `--endpoint-reconciler-type=lease`, the default): every instance renews a
//! short lease under `/masterleases/<its IP>` (15 s TTL) and writes the IPs of
//! the unexpired leases, port 6443, into the Endpoints and EndpointSlice
//! named `kubernetes`. A crashed instance drops out once its lease expires,
//! so pods reaching `kubernetes.default` through kube-proxy find only live
//! API servers.
//!
//! Here the API servers' identity Leases (renewed every 10 s, labelled with
//! their host) stand for the master leases: an instance whose Lease was
//! renewed in the last 15 s counts, and its address is its Node's
//! InternalIP. Left out: the Endpoints object (only the EndpointSlice is
//! written) and the separate etcd keys.

use crate::api::Object;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeSet;
use std::rc::Rc;

/// The master leases' TTL (`--endpoint-reconciler-type=lease`'s 15 s).
pub const MASTER_LEASE_TTL: SimDuration = SimDuration::from_secs(15);
/// The port the `kubernetes` Service targets (`--secure-port`).
pub const SECURE_PORT: i32 = 6443;

/// The EndpointSlice the API servers want, from the live identity Leases
/// and the Nodes they run on; `None` while no address is known.
pub fn desired_slice(
    leases: &[Rc<Object>],
    nodes: &[Rc<Object>],
    identity_label: &str,
    now: SimTime,
) -> Option<EndpointSlice> {
    let mut ips = BTreeSet::new();
    for o in leases {
        let Object::Lease(l) = &**o else { continue };
        let labels = l.metadata.labels.clone().unwrap_or_default();
        if labels.get(identity_label).map(String::as_str) != Some("kube-apiserver") {
            continue;
        }
        let Some(host) = labels.get("kubernetes.io/hostname") else {
            continue;
        };
        let renewed = l
            .spec
            .as_ref()
            .and_then(|s| s.renew_time.as_ref())
            .map(|t| {
                crate::api::time::to_sim_time(
                    &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t.0),
                )
            });
        if renewed.is_none_or(|t| now.saturating_since(t) > MASTER_LEASE_TTL) {
            continue;
        }
        let ip = nodes.iter().find_map(|n| match &**n {
            Object::Node(n) if n.metadata.name.as_deref() == Some(host.as_str()) => n
                .status
                .as_ref()
                .and_then(|s| s.addresses.as_ref())
                .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                .map(|a| a.address.clone()),
            _ => None,
        });
        if let Some(ip) = ip {
            ips.insert(ip);
        }
    }
    if ips.is_empty() {
        return None;
    }
    Some(EndpointSlice {
        metadata: ObjectMeta {
            name: Some("kubernetes".into()),
            namespace: Some("default".into()),
            labels: Some(
                [(
                    "kubernetes.io/service-name".to_string(),
                    "kubernetes".to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: Some(
            ips.into_iter()
                .map(|ip| Endpoint {
                    addresses: vec![ip],
                    conditions: Some(EndpointConditions {
                        ready: Some(true),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        ports: Some(vec![EndpointPort {
            name: Some("https".into()),
            port: Some(SECURE_PORT),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
    })
}

/// Whether the stored slice already says what `desired` says.
pub fn same(stored: &EndpointSlice, desired: &EndpointSlice) -> bool {
    stored.endpoints == desired.endpoints && stored.ports == desired.ports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(yaml: &str) -> Vec<Rc<Object>> {
        crate::api::decode::decode(yaml, "test")
            .expect("valid objects")
            .into_iter()
            .map(Rc::new)
            .collect()
    }

    const NODES: &str = "apiVersion: v1\nkind: Node\nmetadata:\n  name: cp-1\nstatus:\n  addresses:\n  - type: InternalIP\n    address: 10.0.0.11\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: cp-2\nstatus:\n  addresses:\n  - type: InternalIP\n    address: 10.0.0.12\n";

    fn lease(host: &str, renewed: &str) -> String {
        format!("apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: apiserver-{host}\n  namespace: kube-system\n  labels:\n    apiserver.kubernetes.io/identity: kube-apiserver\n    kubernetes.io/hostname: {host}\nspec:\n  renewTime: \"{renewed}\"\n")
    }

    #[test]
    fn only_api_servers_with_a_fresh_lease_are_endpoints() {
        let leases = objects(&format!(
            "{}---\n{}",
            lease("cp-1", "2026-01-01T00:00:50.000000Z"),
            lease("cp-2", "2026-01-01T00:00:30.000000Z")
        ));
        let nodes = objects(NODES);
        let now = SimTime::ZERO + SimDuration::from_secs(55);
        let slice = desired_slice(&leases, &nodes, "apiserver.kubernetes.io/identity", now)
            .expect("one live server");
        let addresses: Vec<String> = slice
            .endpoints
            .unwrap_or_default()
            .into_iter()
            .flat_map(|e| e.addresses)
            .collect();
        assert_eq!(addresses, vec!["10.0.0.11".to_string()]);
        assert_eq!(slice.ports.unwrap()[0].port, Some(6443));
    }

    #[test]
    fn no_known_address_means_no_slice() {
        let leases = objects(&lease("cp-9", "2026-01-01T00:00:50.000000Z"));
        let now = SimTime::ZERO + SimDuration::from_secs(55);
        assert!(desired_slice(
            &leases,
            &objects(NODES),
            "apiserver.kubernetes.io/identity",
            now
        )
        .is_none());
    }
}
