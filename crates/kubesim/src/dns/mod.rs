//! CoreDNS: the cluster's DNS server, and the resolver in every pod.
//!
//! In Kubernetes kubeadm's CoreDNS addon is a Deployment `coredns` in
//! kube-system (label `k8s-app=kube-dns`) behind the `kube-dns` Service
//! (10.96.0.10). Its `kubernetes` plugin (`plugin/kubernetes` in
//! coredns/coredns) lists and watches Services and EndpointSlices and
//! answers from its own caches: `<svc>.<ns>.svc.cluster.local` is an A record
//! to the ClusterIP, or for a headless Service one record per ready
//! endpoint; `<a-b-c-d>.<ns>.pod.cluster.local` echoes the address (`pods
//! insecure`). Other names go to the `forward` plugin (the node's
//! resolv.conf). A CoreDNS whose caches are stale answers stale; one that
//! is down does not answer at all.
//!
//! The pod side: the kubelet writes each pod's `/etc/resolv.conf` with
//! `nameserver 10.96.0.10`, `search <ns>.svc.cluster.local svc.cluster.local
//! cluster.local` and `options ndots:5` (`pkg/kubelet/network/dns/dns.go`),
//! so a short name such as `web` is tried with each search suffix first.
//!
//! Here [`CoreDns`] is one CoreDNS replica's process (the cluster runs one
//! for every running coredns container) and [`search_list`] the resolver's
//! candidate names. Left out: SRV and PTR records, ExternalName CNAME
//! chasing, the `cache` plugin's TTLs, the upstream forwarders (there is no
//! internet in the simulation: other names fail), and the `ready` plugin
//! telling the kubelet about the informers' sync (readiness comes from the
//! image's health endpoint).

use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::ApiResponse;
use crate::client::informer::{InformerConfig, Notification};
use crate::client::process::{Agent, Ctx, RateLimit, Tag};
use crate::world::SimTime;
use std::collections::BTreeMap;

/// The cluster domain (`clusterDomain` in the kubelet configuration).
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// kubeadm's DNS Service address: the tenth address of 10.96.0.0/12.
pub const DNS_SERVICE_IP: &str = "10.96.0.10";
/// The image kubeadm v1.31+ deploys.
pub const COREDNS_IMAGE: &str = "registry.k8s.io/coredns/coredns:v1.11.3";

/// A DNS answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A records (empty: NODATA).
    Records(Vec<String>),
    NxDomain,
    ServFail,
}

#[derive(Clone, Debug, Default)]
struct ServiceEntry {
    cluster_ip: String,
    external_name: Option<String>,
}

/// One CoreDNS replica.
#[derive(Clone)]
pub struct CoreDns {
    /// The pod it runs in (`namespace/name`) and the pod's IP.
    pod: String,
    ip: String,
    credential: Credential,
    /// The `kubernetes` plugin's caches: Services by `namespace/name`,
    /// ready addresses by EndpointSlice key with the slice's Service.
    services: BTreeMap<String, ServiceEntry>,
    slices: BTreeMap<String, (String, Vec<String>)>,
    synced: bool,
}

impl CoreDns {
    pub fn new(pod: &str, ip: &str, credential: Credential) -> Self {
        CoreDns {
            pod: pod.to_string(),
            ip: ip.to_string(),
            credential,
            services: BTreeMap::new(),
            slices: BTreeMap::new(),
            synced: false,
        }
    }

    pub fn pod(&self) -> &str {
        &self.pod
    }

    pub fn ip(&self) -> &str {
        &self.ip
    }

    /// Whether the caches have listed once.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    fn on_object(&mut self, o: &Object, deleted: bool) {
        let key = format!("{}/{}", o.namespace().unwrap_or_default(), o.name());
        match o {
            Object::Service(s) => {
                if deleted {
                    self.services.remove(&key);
                    return;
                }
                let spec = s.spec.clone().unwrap_or_default();
                self.services.insert(
                    key,
                    ServiceEntry {
                        cluster_ip: spec.cluster_ip.unwrap_or_default(),
                        external_name: spec
                            .external_name
                            .filter(|_| spec.type_.as_deref() == Some("ExternalName")),
                    },
                );
            }
            Object::EndpointSlice(s) => {
                if deleted {
                    self.slices.remove(&key);
                    return;
                }
                let Some(svc) = s
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                else {
                    return;
                };
                let ready: Vec<String> = s
                    .endpoints
                    .iter()
                    .flatten()
                    .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
                    .flat_map(|e| e.addresses.first().cloned())
                    .collect();
                self.slices.insert(
                    key,
                    (
                        format!("{}/{svc}", o.namespace().unwrap_or_default()),
                        ready,
                    ),
                );
            }
            _ => {}
        }
    }

    /// The answer to an A query, from the caches (`kubernetes.ServeDNS`).
    pub fn answer(&self, qname: &str) -> Answer {
        if !self.synced {
            // The plugin has not listed yet: it answers SERVFAIL.
            return Answer::ServFail;
        }
        let name = qname.trim_end_matches('.').to_ascii_lowercase();
        let Some(rest) = name.strip_suffix(&format!(".{CLUSTER_DOMAIN}")) else {
            // Not the cluster's zone: `forward . /etc/resolv.conf`, and the
            // simulation has no upstream.
            return Answer::ServFail;
        };
        let labels: Vec<&str> = rest.split('.').collect();
        match labels.as_slice() {
            [svc, ns, "svc"] => {
                let key = format!("{ns}/{svc}");
                let Some(entry) = self.services.get(&key) else {
                    return Answer::NxDomain;
                };
                if let Some(ext) = &entry.external_name {
                    return Answer::Records(vec![format!("{ext}.")]);
                }
                if entry.cluster_ip == "None" {
                    let mut ips: Vec<String> = self
                        .slices
                        .values()
                        .filter(|(s, _)| *s == key)
                        .flat_map(|(_, ips)| ips.iter().cloned())
                        .collect();
                    ips.sort();
                    ips.dedup();
                    if ips.is_empty() {
                        return Answer::NxDomain;
                    }
                    return Answer::Records(ips);
                }
                Answer::Records(vec![entry.cluster_ip.clone()])
            }
            [addr, _ns, "pod"] => {
                let ip = addr.replace('-', ".");
                let ok =
                    ip.split('.').count() == 4 && ip.split('.').all(|p| p.parse::<u8>().is_ok());
                if ok {
                    Answer::Records(vec![ip])
                } else {
                    Answer::NxDomain
                }
            }
            // The zone itself, `svc.cluster.local`, `<ns>.svc.cluster.local`:
            // names that exist without records.
            [] | ["svc"] | [_, "svc"] | ["pod"] | [_, "pod"] => Answer::Records(Vec::new()),
            _ => Answer::NxDomain,
        }
    }
}

impl Agent for CoreDns {
    fn informers(&self) -> Vec<InformerConfig> {
        vec![
            InformerConfig::new(KindId::Service),
            InformerConfig::new(KindId::EndpointSlice),
        ]
    }

    fn credential(&self) -> Credential {
        self.credential.clone()
    }

    /// CoreDNS's kubernetes plugin leaves client-go's defaults, QPS 5 and
    /// burst 10 (`rest.DefaultQPS`, `rest.DefaultBurst`).
    fn rate_limit(&self) -> Option<RateLimit> {
        Some(RateLimit { qps: 5, burst: 10 })
    }

    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}

    fn on_notification(&mut self, ctx: &mut Ctx<'_>, _informer: usize, n: &Notification) {
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. } => self.on_object(o, false),
            Notification::Delete { object, .. } => self.on_object(object, true),
            Notification::Synced => {}
        }
        if ctx.synced() {
            self.synced = true;
        }
    }

    fn on_reply(&mut self, _ctx: &mut Ctx<'_>, _tag: Tag, _response: ApiResponse) {}

    fn on_wake(&mut self, _ctx: &mut Ctx<'_>) {}

    fn next_wakeup(&self) -> Option<SimTime> {
        None
    }
}

/// The names a pod's resolver tries for `name`, in order: with ndots:5 a
/// name with fewer than five dots goes through the search list first
/// (resolv.conf(5); musl and glibc agree here).
pub fn search_list(name: &str, namespace: &str) -> Vec<String> {
    if let Some(absolute) = name.strip_suffix('.') {
        return vec![absolute.to_string()];
    }
    let search = [
        format!("{namespace}.svc.{CLUSTER_DOMAIN}"),
        format!("svc.{CLUSTER_DOMAIN}"),
        CLUSTER_DOMAIN.to_string(),
    ];
    let mut out: Vec<String> = Vec::new();
    if name.matches('.').count() >= 5 {
        out.push(name.to_string());
    }
    out.extend(search.iter().map(|s| format!("{name}.{s}")));
    if name.matches('.').count() < 5 {
        out.push(name.to_string());
    }
    out
}

/// The pod's `/etc/resolv.conf` as the kubelet writes it for
/// `dnsPolicy: ClusterFirst`.
pub fn resolv_conf(namespace: &str) -> String {
    format!(
        "search {namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\nnameserver {DNS_SERVICE_IP}\noptions ndots:5\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(yaml: &str) -> CoreDns {
        let mut d = CoreDns::new("kube-system/coredns-x", "10.244.0.2", Credential::None);
        for o in crate::api::decode::decode(yaml, "test").expect("valid objects") {
            d.on_object(&o, false);
        }
        d.synced = true;
        d
    }

    const OBJECTS: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  clusterIP: 10.96.100.1\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: default\nspec:\n  clusterIP: None\n  ports:\n  - port: 5432\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: db-abc\n  namespace: default\n  labels:\n    kubernetes.io/service-name: db\naddressType: IPv4\nendpoints:\n- addresses: [10.244.2.7]\n  conditions: {ready: true}\n- addresses: [10.244.1.9]\n  conditions: {ready: true}\n- addresses: [10.244.3.3]\n  conditions: {ready: false}\n";

    #[test]
    fn a_service_name_answers_its_cluster_ip() {
        let d = server(OBJECTS);
        assert_eq!(
            d.answer("web.default.svc.cluster.local."),
            Answer::Records(vec!["10.96.100.1".into()])
        );
        assert_eq!(d.answer("web.other.svc.cluster.local"), Answer::NxDomain);
    }

    #[test]
    fn a_headless_service_answers_its_ready_endpoints() {
        let d = server(OBJECTS);
        assert_eq!(
            d.answer("db.default.svc.cluster.local"),
            Answer::Records(vec!["10.244.1.9".into(), "10.244.2.7".into()])
        );
    }

    #[test]
    fn pod_names_echo_their_address() {
        let d = server(OBJECTS);
        assert_eq!(
            d.answer("10-244-1-9.default.pod.cluster.local"),
            Answer::Records(vec!["10.244.1.9".into()])
        );
        assert_eq!(d.answer("x-y.default.pod.cluster.local"), Answer::NxDomain);
    }

    #[test]
    fn an_unsynced_server_fails_and_outside_names_fail() {
        let mut d = server(OBJECTS);
        assert_eq!(d.answer("example.com"), Answer::ServFail);
        d.synced = false;
        assert_eq!(d.answer("web.default.svc.cluster.local"), Answer::ServFail);
    }

    #[test]
    fn short_names_go_through_the_search_list_first() {
        assert_eq!(
            search_list("web", "default"),
            vec![
                "web.default.svc.cluster.local",
                "web.svc.cluster.local",
                "web.cluster.local",
                "web"
            ]
        );
        assert_eq!(
            search_list("web.default.svc.cluster.local.", "x"),
            vec!["web.default.svc.cluster.local"]
        );
        assert_eq!(search_list("a.b.c.d.e.f", "x")[0], "a.b.c.d.e.f");
    }
}
