//! `kubeadm init`'s addon phase, run inside the world as a short-lived API
//! client.
//!
//! In Kubernetes, once `kubeadm init` has written the control plane's static
//! pod manifests and waited for the API server to answer
//! (`wait-control-plane`), its last phase installs the cluster's essential
//! addons through the API (`kubeadm init phase addon coredns`,
//! `cmd/kubeadm/app/phases/addons/dns/dns.go` `EnsureDNSAddon`): the
//! `coredns` ServiceAccount, its Corefile ConfigMap, its ClusterRole and
//! binding, the `kube-dns` Service and the `coredns` Deployment. kubeadm's
//! API calls retry until they succeed (`apiclient.CreateOrUpdate*`, every
//! 500 ms, `constants.APICallRetryInterval`); then the program exits.
//!
//! [`KubeadmInit`] is that phase as an [`Agent`]: it creates each object in
//! order through the API load balancer with the kubeadm admin's credential,
//! takes `AlreadyExists` as done (the object is there), retries anything else
//! after 500 ms, and reports [`KubeadmInit::finished`] once every object
//! exists; the cluster then removes the process, as the program exits. Being
//! part of the world, the addon phase happens at the same virtual instant in
//! every run of a seed, whether or not anyone waits for it.
//!
//! Left out: the kube-proxy addon (kube-proxy runs as a process on every
//! node rather than as a DaemonSet pod), `kubeadm-config` and
//! `kubelet-config` uploads, and updating objects that differ from kubeadm's
//! (kubeadm's `CreateOrUpdate` would overwrite them; here an existing object
//! is left as it is).

use crate::api::{Object, Reason};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification};
use crate::client::process::{Agent, Ctx, Tag};
use crate::world::{SimDuration, SimTime};

/// `constants.APICallRetryInterval`.
pub const API_CALL_RETRY_INTERVAL: SimDuration = SimDuration::from_millis(500);

/// The addon phase of `kubeadm init`: creates its objects one by one.
#[derive(Clone)]
pub struct KubeadmInit {
    objects: Vec<Object>,
    /// The index of the object being created.
    next: usize,
    in_flight: bool,
    retry_at: Option<SimTime>,
}

impl KubeadmInit {
    /// The phase for these objects, created in this order.
    pub fn new(objects: Vec<Object>) -> Self {
        KubeadmInit {
            objects,
            next: 0,
            in_flight: false,
            retry_at: None,
        }
    }

    /// Whether every object exists (the program has exited).
    pub fn finished(&self) -> bool {
        self.next >= self.objects.len()
    }

    fn send_next(&mut self, ctx: &mut Ctx<'_>) {
        self.retry_at = None;
        let Some(o) = self.objects.get(self.next) else {
            return;
        };
        let ns = o.namespace().unwrap_or("kube-system").to_string();
        let request = ApiRequest::new(Verb::Create, o.kind_id(), self.credential())
            .in_namespace(ns)
            .with_body(o.clone());
        self.in_flight = true;
        ctx.send(self.next as Tag, request);
    }
}

impl Agent for KubeadmInit {
    fn informers(&self) -> Vec<InformerConfig> {
        Vec::new()
    }

    fn credential(&self) -> Credential {
        Credential::ClientCertificate(ClientCertificate::kubeadm_admin(SimTime::ZERO))
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.send_next(ctx);
    }

    fn on_notification(&mut self, _ctx: &mut Ctx<'_>, _informer: usize, _n: &Notification) {}

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        if tag != self.next as Tag {
            return;
        }
        self.in_flight = false;
        let created = match &response {
            ApiResponse::Object(_) => true,
            ApiResponse::Error(e) => e.reason == Reason::AlreadyExists,
            _ => false,
        };
        if created {
            self.next += 1;
            self.send_next(ctx);
        } else {
            // Not there yet (no API server answering, kube-system not yet
            // created, quorum lost): try again.
            self.retry_at = Some(ctx.now + API_CALL_RETRY_INTERVAL);
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        if !self.in_flight && self.retry_at.is_some_and(|t| t <= ctx.now) {
            self.send_next(ctx);
        }
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        self.retry_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, KindId};
    use crate::client::process::{Output, Process};
    use crate::world::SimRng;

    fn namespace(name: &str) -> Object {
        let mut ns = k8s_openapi::api::core::v1::Namespace::default();
        ns.metadata.name = Some(name.to_string());
        Object::Namespace(Box::new(ns))
    }

    fn sent(out: &[Output]) -> Vec<(u64, String)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send { id, request } => Some((
                    *id,
                    request
                        .body
                        .as_ref()
                        .map(|b| b.name().to_string())
                        .unwrap_or_default(),
                )),
                Output::Cancel { .. } => None,
            })
            .collect()
    }

    #[test]
    fn objects_are_created_in_order_and_already_existing_ones_count_as_created() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(KubeadmInit::new(vec![namespace("a"), namespace("b")]))
            .expect("no informers");
        let t = SimTime::ZERO;
        let first = sent(&p.start(t, &mut rng));
        assert_eq!(first.len(), 1);
        let kind = KindId::Namespace.info();
        let out = p.on_reply(
            t,
            &mut rng,
            first[0].0,
            ApiResponse::Error(ApiError::already_exists(kind, "a")),
        );
        let second = sent(&out);
        assert_eq!(second.len(), 1, "the next object is sent at once");
        assert!(!p.agent().finished());
        let out = p.on_reply(
            t,
            &mut rng,
            second[0].0,
            ApiResponse::Object(std::rc::Rc::new(namespace("b"))),
        );
        assert!(sent(&out).is_empty());
        assert!(p.agent().finished());
        assert_eq!(p.next_wakeup(), None, "a finished phase never wakes");
    }

    #[test]
    fn a_failed_create_is_retried_after_half_a_second() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(KubeadmInit::new(vec![namespace("a")])).expect("no informers");
        let first = sent(&p.start(SimTime::ZERO, &mut rng));
        let out = p.on_reply(
            SimTime::ZERO,
            &mut rng,
            first[0].0,
            ApiResponse::Error(ApiError::service_unavailable("etcdserver: leader changed")),
        );
        assert!(sent(&out).is_empty());
        let retry = SimTime::ZERO + API_CALL_RETRY_INTERVAL;
        assert_eq!(p.next_wakeup(), Some(retry));
        assert_eq!(sent(&p.on_wake(retry, &mut rng)).len(), 1);
    }

    #[test]
    fn the_addon_phase_installs_coredns_without_anyone_calling_the_api() {
        let mut c = crate::cluster::Cluster::new(crate::topology::Topology::default(), 7);
        let mut waited = 0;
        while !c.kubeadm_finished() && waited < 60 {
            c.advance(SimDuration::from_secs(1));
            waited += 1;
        }
        assert!(
            c.kubeadm_finished(),
            "the kubeadm process has exited within a minute"
        );
        let key = |kind, name| crate::apiserver::registry::key(kind, Some("kube-system"), name);
        assert!(c.observe(&key(KindId::Deployment, "coredns")).is_some());
        assert!(c.observe(&key(KindId::Service, "kube-dns")).is_some());
    }
}
