//! cloud-controller-manager: the control loops that need the cloud.
//!
//! In Kubernetes the cloud-controller-manager (`k8s.io/cloud-provider`,
//! `app/controllermanager.go`) is one binary a provider builds around its
//! `cloudprovider.Interface`. It runs as a Deployment or DaemonSet in
//! kube-system, leader-elected through the `kube-system/cloud-controller-manager`
//! Lease, and only the leader runs its controllers: the cloud node
//! controller ([`node`]), the cloud node lifecycle controller
//! ([`nodelifecycle`]), the route controller ([`route`]) and the service
//! controller ([`service`]). Like kube-controller-manager's, each controller
//! enqueues keys from informer events and reconciles from the caches; unlike
//! them, a reconcile calls the cloud's API, and here that call is a message
//! to the simulated provider whose answer continues the reconcile.
//!
//! The process writes as the `kube-system/cloud-controller-manager` service
//! account, bound to the ClusterRole the Kubernetes docs give (see
//! `apiserver/auth/bootstrap.rs`): take a permission away and the write
//! that needed it fails with 403, which its log shows (`sim cloud logs`).
//!
//! Left out: the controllers' worker counts, the node controller's periodic
//! `UpdateNodeStatus` (addresses here never change after boot), the
//! service controller's node sync (a load balancer's node list is refreshed
//! when its Service is synced), and the PersistentVolume labels controller.

pub mod node;
pub mod nodelifecycle;
pub mod route;
pub mod service;

use super::{CloudRequest, CloudResponse};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification, Store};
use crate::client::leaselock::LeaseLock;
use crate::client::process::{Agent, Ctx, RateLimit, Tag};
use crate::client::WorkQueue;
use crate::controllers::{new_event, object_reference, ReplyEvent, Requeue};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::ObjectReference;
use std::collections::{BTreeMap, BTreeSet};

/// The Lease the instances compete for.
pub const LEASE_NAME: &str = "cloud-controller-manager";
/// The taint a kubelet started with `--cloud-provider=external` registers
/// with (`cloudproviderapi.TaintExternalCloudProvider`).
pub const UNINITIALIZED_TAINT: &str = "node.cloudprovider.kubernetes.io/uninitialized";
/// The taint on a node whose VM is shut down (`cloudproviderapi.TaintNodeShutdown`).
pub const SHUTDOWN_TAINT: &str = "node.cloudprovider.kubernetes.io/shutdown";
/// A cloud call unanswered this long fails.
const CLOUD_TIMEOUT: SimDuration = SimDuration::from_secs(30);
/// Log lines kept per instance.
const LOG_LINES: usize = 200;
/// Events are written with tags from here up.
const EVENT_TAG_BASE: Tag = 1 << 40;

/// What a controller's reconcile reads and does.
pub struct Sync<'a> {
    pub now: SimTime,
    nodes: Option<&'a Store>,
    services: Option<&'a Store>,
    writes: Vec<ApiRequest>,
    calls: Vec<CloudRequest>,
    events: Vec<(ObjectReference, &'static str, String, String)>,
    log: Vec<String>,
}

impl<'a> Sync<'a> {
    /// A sync over these caches (the informers' stores, or a test's).
    pub fn new(now: SimTime, nodes: Option<&'a Store>, services: Option<&'a Store>) -> Self {
        Sync {
            now,
            nodes,
            services,
            writes: Vec::new(),
            calls: Vec::new(),
            events: Vec::new(),
            log: Vec::new(),
        }
    }

    pub fn node(&self, name: &str) -> Option<&'a std::rc::Rc<Object>> {
        self.nodes.and_then(|s| s.get(name))
    }

    pub fn nodes(&self) -> Vec<std::rc::Rc<Object>> {
        self.nodes.map(Store::list).unwrap_or_default()
    }

    pub fn service(&self, key: &str) -> Option<&'a std::rc::Rc<Object>> {
        self.services.and_then(|s| s.get(key))
    }

    /// Sends an API write (the manager fills in its credential).
    pub fn write(&mut self, request: ApiRequest) {
        self.writes.push(request);
    }

    /// Calls the cloud; the answer comes back through
    /// [`CloudController::on_cloud`] with the same key.
    pub fn call(&mut self, request: CloudRequest) {
        self.calls.push(request);
    }

    /// Records an Event on `object`.
    pub fn event(&mut self, object: &Object, type_: &'static str, reason: &str, message: String) {
        self.events
            .push((object_reference(object), type_, reason.into(), message));
    }

    /// A log line (klog's `Infof` / `Errorf`).
    pub fn log(&mut self, line: String) {
        self.log.push(line);
    }

    /// The writes so far (tests).
    pub fn writes(&self) -> &[ApiRequest] {
        &self.writes
    }

    /// The cloud calls so far (tests).
    pub fn calls(&self) -> &[CloudRequest] {
        &self.calls
    }

    /// The events so far, as (reason, message) (tests).
    pub fn events(&self) -> Vec<(String, String)> {
        self.events
            .iter()
            .map(|(_, _, r, m)| (r.clone(), m.clone()))
            .collect()
    }
}

/// Copies a cloud controller (a cluster checkpoint copies every one).
pub trait CloudControllerClone {
    fn clone_box(&self) -> Box<dyn CloudController>;
}

impl<T: CloudController + Clone + 'static> CloudControllerClone for T {
    fn clone_box(&self) -> Box<dyn CloudController> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn CloudController> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// One control loop of the cloud-controller-manager.
pub trait CloudController: CloudControllerClone {
    fn name(&self) -> &'static str;
    /// The keys to enqueue for a change of a Node or a Service.
    fn keys_for(&self, kind: KindId, n: &Notification) -> Vec<String>;
    /// Enqueue [`PERIODIC`] this often.
    fn period(&self) -> Option<SimDuration> {
        None
    }
    /// Reconciles one key.
    fn reconcile(&mut self, s: &mut Sync<'_>, key: &str) -> Requeue;
    /// The cloud's answer to a call the reconcile of `key` made.
    fn on_cloud(
        &mut self,
        s: &mut Sync<'_>,
        key: &str,
        request: &CloudRequest,
        response: &CloudResponse,
    ) -> Requeue;
    /// The answer to a write; returns log lines.
    fn on_reply(
        &mut self,
        _key: &str,
        _request: &ApiRequest,
        _response: &ApiResponse,
    ) -> Vec<String> {
        Vec::new()
    }
}

/// The key a periodic controller's timer enqueues.
pub const PERIODIC: &str = "";

#[derive(Clone)]
struct Slot {
    controller: Box<dyn CloudController>,
    queue: WorkQueue<String>,
    next_period: Option<SimTime>,
    /// Keys reconciled since the instance started, and the last time.
    syncs: u64,
    last_sync: Option<SimTime>,
}

/// One cloud-controller-manager instance.
#[derive(Clone)]
pub struct CloudControllerManager {
    credential: Credential,
    lock: LeaseLock,
    slots: Vec<Slot>,
    started: bool,
    synced: BTreeSet<usize>,
    /// Since when the leader has been waiting for its informers to sync
    /// again (after a relist): it polls then instead of waking at once,
    /// or its queued work would wake it forever at the same instant.
    unsynced_since: Option<SimTime>,
    in_flight: BTreeMap<Tag, (usize, String, ApiRequest)>,
    next_tag: Tag,
    /// Cloud calls to send (the world takes them), by call id.
    outbox: Vec<(u64, CloudRequest)>,
    /// Calls awaiting the cloud: id -> (controller, key, request, sent at).
    calls: BTreeMap<u64, (usize, String, CloudRequest, SimTime)>,
    /// The cloud's answers not yet handled.
    inbox: Vec<(u64, CloudResponse)>,
    next_call: u64,
    log: Vec<(SimTime, String)>,
}

const NODES: usize = 0;
const SERVICES: usize = 1;

impl CloudControllerManager {
    /// An instance with `identity` for the Lease, writing with `credential`
    /// (the service account's token).
    pub fn new(identity: String, credential: Credential, now: SimTime) -> Self {
        let controllers: Vec<Box<dyn CloudController>> = vec![
            Box::new(node::CloudNodeController),
            Box::new(nodelifecycle::CloudNodeLifecycleController),
            Box::new(route::RouteController),
            Box::new(service::ServiceController::default()),
        ];
        CloudControllerManager {
            credential,
            lock: LeaseLock::new("kube-system", LEASE_NAME, identity, now),
            slots: controllers
                .into_iter()
                .map(|controller| Slot {
                    controller,
                    queue: WorkQueue::new(),
                    next_period: None,
                    syncs: 0,
                    last_sync: None,
                })
                .collect(),
            started: false,
            synced: BTreeSet::new(),
            unsynced_since: None,
            in_flight: BTreeMap::new(),
            next_tag: 1,
            outbox: Vec::new(),
            calls: BTreeMap::new(),
            inbox: Vec::new(),
            next_call: 1,
            log: Vec::new(),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.lock.is_leader()
    }

    pub fn identity(&self) -> &str {
        self.lock.identity()
    }

    /// The controllers' names.
    pub fn controllers(&self) -> Vec<&'static str> {
        self.slots.iter().map(|s| s.controller.name()).collect()
    }

    /// Each controller's work, for the inspector (as
    /// `ControllerManager::activity`).
    pub fn activity(&self) -> Vec<crate::controllers::ControllerActivity> {
        self.slots
            .iter()
            .map(|s| crate::controllers::ControllerActivity {
                name: s.controller.name(),
                queued: s.queue.len(),
                syncs: s.syncs,
                last_sync: s.last_sync,
            })
            .collect()
    }

    /// The log, oldest first.
    pub fn log_lines(&self) -> &[(SimTime, String)] {
        &self.log
    }

    /// A one-line state for the diagram.
    pub fn state_line(&self) -> String {
        if self.is_leader() {
            format!("leader · {} controllers", self.slots.len())
        } else {
            match self.lock.observed_holder() {
                Some(h) => format!("standby · leader {}", h.split('_').next().unwrap_or(h)),
                None => "standby".into(),
            }
        }
    }

    /// Takes the cloud calls to send.
    pub fn take_cloud_calls(&mut self) -> Vec<(u64, CloudRequest)> {
        std::mem::take(&mut self.outbox)
    }

    /// The cloud answered call `id`.
    pub fn cloud_answer(&mut self, id: u64, response: CloudResponse) {
        self.inbox.push((id, response));
    }

    fn push_log(&mut self, now: SimTime, line: String) {
        self.log.push((now, line));
        if self.log.len() > LOG_LINES {
            self.log.remove(0);
        }
    }

    fn record(&mut self, ctx: &mut Ctx<'_>, component: &str, e: ReplyEvent) {
        let tag = EVENT_TAG_BASE + self.next_tag;
        self.next_tag += 1;
        let event = new_event(
            ctx.rng, ctx.now, tag, e.object, e.type_, e.reason, e.message, component,
        );
        let ns = event.metadata.namespace.clone().unwrap_or_default();
        ctx.send(
            tag,
            ApiRequest::new(Verb::Create, KindId::Event, self.credential.clone())
                .in_namespace(ns)
                .with_body(Object::Event(Box::new(event))),
        );
    }

    /// Sends what a sync produced.
    fn flush(&mut self, ctx: &mut Ctx<'_>, i: usize, key: &str, s: Sync<'_>) {
        let Sync {
            writes,
            calls,
            events,
            log,
            ..
        } = s;
        let name = self.slots[i].controller.name();
        for line in log {
            self.push_log(ctx.now, format!("{name}: {line}"));
        }
        for mut w in writes {
            w.credential = self.credential.clone();
            let tag = self.next_tag;
            self.next_tag += 1;
            self.in_flight.insert(tag, (i, key.to_string(), w.clone()));
            ctx.send(tag, w);
        }
        for c in calls {
            let id = self.next_call;
            self.next_call += 1;
            self.calls
                .insert(id, (i, key.to_string(), c.clone(), ctx.now));
            self.outbox.push((id, c));
        }
        for (object, type_, reason, message) in events {
            // The recorder's reasons are static strings upstream.
            let reason: &'static str = match reason.as_str() {
                "DeletingNode" => "DeletingNode",
                "EnsuringLoadBalancer" => "EnsuringLoadBalancer",
                "EnsuredLoadBalancer" => "EnsuredLoadBalancer",
                "DeletingLoadBalancer" => "DeletingLoadBalancer",
                "DeletedLoadBalancer" => "DeletedLoadBalancer",
                "SyncLoadBalancerFailed" => "SyncLoadBalancerFailed",
                _ => "CloudControllerManager",
            };
            self.record(
                ctx,
                name,
                ReplyEvent {
                    object,
                    type_,
                    reason,
                    message,
                },
            );
        }
    }

    fn apply_requeue(&mut self, i: usize, key: String, now: SimTime, requeue: Requeue) {
        let q = &mut self.slots[i].queue;
        match requeue {
            Requeue::Done => q.forget(&key),
            Requeue::After(d) => {
                q.forget(&key);
                q.add_after(key, now, d);
            }
            Requeue::RateLimited => {
                q.add_rate_limited(key, now);
            }
        }
    }

    fn run(&mut self, ctx: &mut Ctx<'_>) {
        if !self.is_leader() {
            // Answers to calls made while leading have nobody to go to.
            self.inbox.clear();
            self.unsynced_since = None;
            return;
        }
        if !ctx.synced() {
            self.unsynced_since = Some(ctx.now);
            return;
        }
        self.unsynced_since = None;
        let now = ctx.now;
        let nodes = ctx.store(NODES);
        let services = ctx.store(SERVICES);
        if !self.started {
            self.started = true;
            for slot in &mut self.slots {
                for (kind, store) in [(KindId::Node, nodes), (KindId::Service, services)] {
                    for o in store.map(Store::list).unwrap_or_default() {
                        for key in slot.controller.keys_for(kind, &Notification::Add(o)) {
                            slot.queue.add(key);
                        }
                    }
                }
                if slot.controller.period().is_some() {
                    slot.queue.add(PERIODIC.to_string());
                    slot.next_period = slot.controller.period().map(|p| now + p);
                }
            }
        }
        // The cloud's answers continue their reconciles.
        for (id, response) in std::mem::take(&mut self.inbox) {
            let Some((i, key, request, _)) = self.calls.remove(&id) else {
                continue;
            };
            let mut s = Sync::new(now, nodes, services);
            let requeue = self.slots[i]
                .controller
                .on_cloud(&mut s, &key, &request, &response);
            if let CloudResponse::Error(e) = &response {
                s.log(format!("cloud call {request} failed: {e}"));
            }
            self.flush(ctx, i, &key, s);
            self.apply_requeue(i, key, now, requeue);
        }
        // Calls the cloud never answered.
        let expired: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| now.saturating_since(c.3) >= CLOUD_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some((i, key, request, _)) = self.calls.remove(&id) {
                self.push_log(now, format!("cloud call {request} timed out"));
                self.slots[i].queue.add_rate_limited(key, now);
            }
        }
        for i in 0..self.slots.len() {
            if let Some(p) = self.slots[i].controller.period() {
                if self.slots[i].next_period.is_some_and(|t| t <= now) {
                    self.slots[i].next_period = Some(now + p);
                    self.slots[i].queue.add(PERIODIC.to_string());
                }
            }
            self.slots[i].queue.promote_due(now);
            while let Some(key) = self.slots[i].queue.get() {
                let mut s = Sync::new(now, nodes, services);
                let requeue = self.slots[i].controller.reconcile(&mut s, &key);
                self.slots[i].queue.done(&key);
                self.slots[i].syncs += 1;
                self.slots[i].last_sync = Some(now);
                self.flush(ctx, i, &key, s);
                self.apply_requeue(i, key, now, requeue);
            }
        }
    }
}

impl Agent for CloudControllerManager {
    fn informers(&self) -> Vec<InformerConfig> {
        vec![
            InformerConfig::new(KindId::Node),
            InformerConfig::new(KindId::Service),
        ]
    }

    fn credential(&self) -> Credential {
        self.credential.clone()
    }

    /// The generic controller-manager defaults, `--kube-api-qps` 20 and
    /// `--kube-api-burst` 30 (k8s.io/controller-manager/config/v1alpha1
    /// `RecommendedDefaultGenericControllerManagerConfiguration`).
    fn rate_limit(&self) -> Option<RateLimit> {
        Some(RateLimit { qps: 20, burst: 30 })
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let credential = self.credential.clone();
        self.lock.poll(ctx, &credential);
    }

    fn on_notification(&mut self, _ctx: &mut Ctx<'_>, informer: usize, n: &Notification) {
        if matches!(n, Notification::Synced) {
            self.synced.insert(informer);
            return;
        }
        if !self.started {
            return;
        }
        let kind = if informer == NODES {
            KindId::Node
        } else {
            KindId::Service
        };
        for slot in &mut self.slots {
            for key in slot.controller.keys_for(kind, n) {
                slot.queue.add(key);
            }
        }
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        if tag == LeaseLock::TAG {
            let credential = self.credential.clone();
            let was = self.is_leader();
            if let ApiResponse::Error(e) = &response {
                if e.code() == 403 {
                    self.push_log(
                        ctx.now,
                        format!("leaderelection: error retrieving resource lock kube-system/{LEASE_NAME}: {}", e.message),
                    );
                }
            }
            self.lock.on_reply(ctx, &credential, response);
            if !was && self.is_leader() {
                let id = self.identity().to_string();
                self.push_log(
                    ctx.now,
                    format!("leaderelection: successfully acquired lease kube-system/{LEASE_NAME} ({id})"),
                );
            }
            self.run(ctx);
            return;
        }
        let Some((i, key, request)) = self.in_flight.remove(&tag) else {
            return;
        };
        let lines = self.slots[i].controller.on_reply(&key, &request, &response);
        let name = self.slots[i].controller.name();
        for line in lines {
            self.push_log(ctx.now, format!("{name}: {line}"));
        }
        if let ApiResponse::Error(e) = &response {
            // klog.Errorf, and the key again with back-off.
            self.push_log(
                ctx.now,
                format!(
                    "{name}: error syncing {key:?}: {} {}: {} {}",
                    request.verb.http_method(),
                    request.path(),
                    e.code(),
                    e.message
                ),
            );
            self.slots[i].queue.add_rate_limited(key, ctx.now);
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        let credential = self.credential.clone();
        if self.lock.poll(ctx, &credential) {
            // Upstream the process exits on losing its lease.
            self.started = false;
            for slot in &mut self.slots {
                slot.queue = WorkQueue::new();
            }
            self.calls.clear();
            self.inbox.clear();
            self.push_log(ctx.now, "leaderelection: lost the lease".into());
        }
        self.run(ctx);
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        let mut next = self.lock.next_wakeup();
        let mut add = |t: SimTime| next = Some(next.map_or(t, |n: SimTime| n.min(t)));
        // Work to do now, unless the informers are resyncing: then poll.
        let soon = self
            .unsynced_since
            .map_or(SimTime::ZERO, |t| t + SimDuration::from_millis(100));
        if !self.inbox.is_empty() {
            add(soon);
        }
        if self.is_leader() {
            if !self.started && self.synced.len() == 2 {
                add(soon);
            }
            for slot in &self.slots {
                if !slot.queue.is_empty() {
                    add(soon);
                }
                if let Some(t) = slot.queue.next_delayed() {
                    add(t);
                }
                if let Some(t) = slot.next_period {
                    add(t);
                }
            }
            if let Some(t) = self.calls.values().map(|c| c.3 + CLOUD_TIMEOUT).min() {
                add(t);
            }
        }
        next
    }
}

/// Whether a node carries a taint with this key.
pub fn has_taint(node: &Object, key: &str) -> bool {
    match node {
        Object::Node(n) => n
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .is_some_and(|t| t.iter().any(|t| t.key == key)),
        _ => false,
    }
}

/// The status of a node's Ready condition (`Unknown` when it has none).
pub fn ready_status(node: &Object) -> String {
    match node {
        Object::Node(n) => n
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone())
            .unwrap_or_else(|| "Unknown".into()),
        _ => "Unknown".into(),
    }
}
