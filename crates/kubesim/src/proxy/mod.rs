//! kube-proxy: every node's Service rules.
//!
//! In Kubernetes kube-proxy runs on every node (kubeadm deploys it as the
//! `kube-proxy` DaemonSet). It watches Services and EndpointSlices through
//! informers and, in iptables mode, rewrites the node's `KUBE-*` chains
//! (`syncProxyRules` in `pkg/proxy/iptables/proxier.go`) whenever they change,
//! at most once per `minSyncPeriod` (kubeadm's default 1 s) and at least every
//! `syncPeriod` (30 s). The rules live in the node's kernel: if kube-proxy
//! stops, or loses the API server, the last rules stay and keep routing to
//! whatever endpoints they name, however stale.
//!
//! Here [`KubeProxy`] is that agent; the rules it writes are
//! [`iptables::ProxyRules`], which the cluster keeps per node as the node's
//! kernel state and which the simulated packet path walks. kubeadm's addon
//! phase creates the DaemonSet (`kubeadm.rs` `kube_proxy_addon`); the agent
//! of a node runs while a container of that DaemonSet's pod runs there
//! (`cluster/traffic.rs` `sync_proxy`), so it starts after the DaemonSet
//! controller, the scheduler, the image pull and the container start, and
//! goes when the pod does. Left out: reading its flags and
//! KubeProxyConfiguration from the container (the agent uses kubeadm's
//! defaults and the `kube-proxy` service account's token whatever the pod
//! says), ipvs and nftables modes, conntrack and the metrics server. The health-check
//! server on a Local LoadBalancer Service's `healthCheckNodePort` answers
//! from the rules ([`iptables::ProxyRules::health_check`]).

pub mod iptables;

use crate::api::KindId;
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::ApiResponse;
use crate::client::informer::{InformerConfig, Notification};
use crate::client::process::{Agent, Ctx, RateLimit, Tag};
use crate::world::{SimDuration, SimTime};
use iptables::ProxyRules;
use std::rc::Rc;

/// kubeadm's `KubeProxyConfiguration` `iptables.minSyncPeriod`.
pub const MIN_SYNC_PERIOD: SimDuration = SimDuration::from_secs(1);
/// `iptables.syncPeriod`: a full resync even without changes.
pub const SYNC_PERIOD: SimDuration = SimDuration::from_secs(30);

const SERVICES: usize = 0;
const SLICES: usize = 1;

/// One node's kube-proxy.
#[derive(Clone)]
pub struct KubeProxy {
    node: String,
    credential: Credential,
    /// When the next `syncProxyRules` runs.
    next_sync: Option<SimTime>,
    last_sync: Option<SimTime>,
    rules: Option<Rc<ProxyRules>>,
    /// Bumped on every write, so the cluster copies only new rules.
    generation: u64,
}

impl KubeProxy {
    /// kube-proxy on `node`, speaking with `credential` (the `kube-proxy`
    /// service account's token, as kubeadm's DaemonSet mounts it).
    pub fn new(node: &str, credential: Credential) -> Self {
        KubeProxy {
            node: node.to_string(),
            credential,
            next_sync: None,
            last_sync: None,
            rules: None,
            generation: 0,
        }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// The rules last written, with their generation.
    pub fn rules(&self) -> Option<(u64, &Rc<ProxyRules>)> {
        self.rules.as_ref().map(|r| (self.generation, r))
    }

    /// Asks for a sync, no sooner than `minSyncPeriod` after the last one
    /// (`syncRunner.Run`, a bounded-frequency runner).
    fn request_sync(&mut self, now: SimTime) {
        let earliest = self
            .last_sync
            .map_or(now, |t| (t + MIN_SYNC_PERIOD).max(now));
        if self.next_sync.is_none_or(|t| t > earliest) {
            self.next_sync = Some(earliest);
        }
    }

    /// `syncProxyRules`: the rules from the informers' caches.
    fn sync(&mut self, ctx: &mut Ctx<'_>) {
        let services = ctx.store(SERVICES).map(|s| s.list()).unwrap_or_default();
        let slices = ctx.store(SLICES).map(|s| s.list()).unwrap_or_default();
        let svcs: Vec<&crate::api::Object> = services.iter().map(|o| &**o).collect();
        let sls: Vec<&crate::api::Object> = slices.iter().map(|o| &**o).collect();
        let rules = ProxyRules::build(&self.node, &svcs, &sls, ctx.now);
        if self.rules.as_ref().is_none_or(|r| r.ports != rules.ports) {
            self.generation += 1;
        }
        self.rules = Some(Rc::new(rules));
        self.last_sync = Some(ctx.now);
        self.next_sync = Some(ctx.now + SYNC_PERIOD);
    }
}

impl Agent for KubeProxy {
    fn informers(&self) -> Vec<InformerConfig> {
        vec![
            InformerConfig::new(KindId::Service),
            InformerConfig::new(KindId::EndpointSlice),
        ]
    }

    fn credential(&self) -> Credential {
        self.credential.clone()
    }

    /// `clientConnection.qps` 5 and `burst` 10 (KubeProxyConfiguration's
    /// defaults, pkg/proxy/apis/config/v1alpha1/defaults.go).
    fn rate_limit(&self) -> Option<RateLimit> {
        Some(RateLimit { qps: 5, burst: 10 })
    }

    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}

    fn on_notification(&mut self, ctx: &mut Ctx<'_>, _informer: usize, _n: &Notification) {
        // The first sync waits for both caches (`proxier.isInitialized`).
        if ctx.synced() {
            self.request_sync(ctx.now);
        }
    }

    fn on_reply(&mut self, _ctx: &mut Ctx<'_>, _tag: Tag, _response: ApiResponse) {}

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        if self.next_sync.is_some_and(|t| t <= ctx.now) {
            if ctx.synced() {
                self.sync(ctx);
            } else {
                // Informers relisting (an API server went away): try again
                // shortly rather than waking at this same instant forever.
                self.next_sync = Some(ctx.now + SimDuration::from_millis(100));
            }
        }
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        self.next_sync
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_are_at_least_min_sync_period_apart() {
        let mut p = KubeProxy::new("worker-1", Credential::None);
        p.last_sync = Some(SimTime::ZERO + SimDuration::from_millis(500));
        p.request_sync(SimTime::ZERO + SimDuration::from_millis(600));
        assert_eq!(
            p.next_sync,
            Some(SimTime::ZERO + SimDuration::from_millis(1500))
        );
        // A periodic sync further away is brought forward, not pushed back.
        p.next_sync = Some(SimTime::ZERO + SimDuration::from_secs(30));
        p.request_sync(SimTime::ZERO + SimDuration::from_secs(2));
        assert_eq!(p.next_sync, Some(SimTime::ZERO + SimDuration::from_secs(2)));
    }
}
