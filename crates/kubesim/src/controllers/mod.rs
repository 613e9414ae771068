//! kube-controller-manager: the control loops that move the cluster's current
//! state towards the desired state.
//!
//! In Kubernetes, kube-controller-manager is one binary running many
//! controllers. Instances run on every control-plane node; one leads
//! through the `kube-system/kube-controller-manager` Lease and only the
//! leader runs the controllers. Each controller (`pkg/controller/...`)
//! follows one pattern: shared informers feed event handlers that enqueue
//! object keys into the controller's rate-limited work queue; workers take a
//! key, read the object and everything related from the informer caches,
//! and issue the writes that close the gap (`syncHandler`). Controllers
//! never call each other: one's writes reach another only through the API
//! and the other's informers. With `--use-service-account-credentials`
//! (kubeadm's default) each controller writes as its own service account
//! (`system:serviceaccount:kube-system:replicaset-controller`), bound to
//! its `system:controller:*` ClusterRole.
//!
//! Here [`ControllerManager`] is that binary as an [`Agent`]: one informer
//! per kind any controller needs, one [`WorkQueue`] per controller, the Lease
//! lock, and the [`Controller`] trait each controller file implements.
//!
//! Left out: the controllers not yet written (see the issue list), the
//! `--concurrent-*-syncs` worker counts (a key is reconciled as soon as the
//! manager wakes), and the creation of the controllers' ServiceAccounts by
//! the client builder (the cluster hands each controller its token).

pub mod controllerref;
pub mod cronjob;
pub mod csrapproving;
pub mod csrcleaner;
pub mod csrsigning;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpointslice;
pub mod garbagecollector;
pub mod history;
pub mod job;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod podgc;
pub mod replicaset;
pub mod rootcacertpublisher;
pub mod serviceaccount;
pub mod statefulset;
pub mod tainteviction;
pub mod ttlafterfinished;

use crate::api::time::to_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification, Store};
use crate::client::leaselock::LeaseLock;
use crate::client::process::{
    Agent, ClientId, Ctx, RateLimit, Tag, CLIENT_EVENTS, CLIENT_INFORMERS, CLIENT_LEADER_ELECTION,
};
use crate::client::WorkQueue;
use crate::world::{SimDuration, SimRng, SimTime};
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The informer caches a controller reads, by kind.
#[derive(Clone, Copy)]
pub struct Caches<'a> {
    kinds: &'a [KindId],
    stores: &'a [Option<&'a Store>],
}

impl<'a> Caches<'a> {
    /// The cache of one kind (empty if no controller asked for it).
    pub fn store(&self, kind: KindId) -> Option<&'a Store> {
        self.kinds
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.stores.get(i).copied().flatten())
    }

    /// One cached object.
    pub fn get(&self, kind: KindId, key: &str) -> Option<&'a Rc<Object>> {
        self.store(kind).and_then(|s| s.get(key))
    }

    /// Every cached object of a kind, in key order.
    pub fn list(&self, kind: KindId) -> Vec<Rc<Object>> {
        self.store(kind).map(Store::list).unwrap_or_default()
    }

    /// Every cached object of a kind in one namespace, in key order.
    pub fn list_in(&self, kind: KindId, namespace: &str) -> Vec<Rc<Object>> {
        let prefix = format!("{namespace}/");
        match self.store(kind) {
            Some(s) => s
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .filter_map(|k| s.get(k).cloned())
                .collect(),
            None => Vec::new(),
        }
    }
}

/// What a controller's reconcile may read and do.
pub struct Reconcile<'a, 'b> {
    pub now: SimTime,
    pub rng: &'b mut SimRng,
    pub caches: Caches<'a>,
    writes: Vec<ApiRequest>,
    events: Vec<(ObjectReference, &'static str, String, String)>,
}

impl Reconcile<'_, '_> {
    /// Sends a write; the manager fills in the controller's credential, and
    /// the answer comes back through [`Controller::on_reply`].
    pub fn write(&mut self, request: ApiRequest) {
        self.writes.push(request);
    }

    /// Records an Event on `object` (`record.EventRecorder.Event`).
    pub fn event(&mut self, object: &Object, type_: &'static str, reason: &str, message: String) {
        self.events
            .push((object_reference(object), type_, reason.to_string(), message));
    }
}

#[cfg(test)]
impl<'a, 'b> Reconcile<'a, 'b> {
    /// A reconcile over test caches.
    pub(crate) fn for_test(now: SimTime, rng: &'b mut SimRng, caches: Caches<'a>) -> Self {
        Reconcile {
            now,
            rng,
            caches,
            writes: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The writes sent so far.
    pub(crate) fn writes(&self) -> &[ApiRequest] {
        &self.writes
    }

    /// The events recorded so far: (reason, message).
    pub(crate) fn events(&self) -> Vec<(String, String)> {
        self.events
            .iter()
            .map(|(_, _, r, m)| (r.clone(), m.clone()))
            .collect()
    }
}

#[cfg(test)]
impl<'a> Caches<'a> {
    /// Caches over test stores.
    pub(crate) fn for_test(kinds: &'a [KindId], stores: &'a [Option<&'a Store>]) -> Self {
        Caches { kinds, stores }
    }
}

/// An `ObjectReference` to `o`, as events and owner lookups use it.
pub fn object_reference(o: &Object) -> ObjectReference {
    let kind = o.kind();
    ObjectReference {
        api_version: Some(kind.api_version()),
        kind: Some(kind.kind.to_string()),
        name: Some(o.name().to_string()),
        namespace: o.namespace().map(str::to_string),
        uid: o.uid().map(str::to_string),
        resource_version: o.resource_version().map(str::to_string),
        ..Default::default()
    }
}

/// An event a controller records once a write is answered.
#[derive(Clone, Debug)]
pub struct ReplyEvent {
    pub object: ObjectReference,
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl ReplyEvent {
    /// An event on the owner named by an owner reference.
    pub fn on_owner(
        owner: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
        namespace: Option<&str>,
        type_: &'static str,
        reason: &'static str,
        message: String,
    ) -> Self {
        ReplyEvent {
            object: ObjectReference {
                api_version: Some(owner.api_version.clone()),
                kind: Some(owner.kind.clone()),
                name: Some(owner.name.clone()),
                namespace: namespace.map(str::to_string),
                uid: Some(owner.uid.clone()),
                ..Default::default()
            },
            type_,
            reason,
            message,
        }
    }
}

/// What an answer to a pod write means for a controller that creates and
/// deletes pods through `RealPodControl` (`pkg/controller/controller_utils.go`):
/// the `SuccessfulCreate` / `FailedCreate` event on the pod's controller, and
/// which expectation will never be observed (a failed create or delete).
pub struct PodReply {
    pub events: Vec<ReplyEvent>,
    pub create_failed: bool,
    pub delete_failed: bool,
}

/// Reads the answer to a pod create or delete (see [`PodReply`]).
pub fn pod_reply(request: &ApiRequest, response: &ApiResponse) -> PodReply {
    let mut r = PodReply {
        events: Vec::new(),
        create_failed: false,
        delete_failed: false,
    };
    match (request.verb, request.kind, response) {
        (Verb::Create, KindId::Pod, ApiResponse::Object(pod)) => {
            if let Some(owner) = pod.controller_ref() {
                r.events.push(ReplyEvent::on_owner(
                    owner,
                    pod.namespace(),
                    "Normal",
                    "SuccessfulCreate",
                    format!("Created pod: {}", pod.name()),
                ));
            }
        }
        (Verb::Create, KindId::Pod, ApiResponse::Error(e)) => {
            // The creation will never be observed.
            r.create_failed = true;
            if let Some(owner) = request.body.as_deref().and_then(Object::controller_ref) {
                r.events.push(ReplyEvent::on_owner(
                    owner,
                    request.namespace.as_deref(),
                    "Warning",
                    "FailedCreate",
                    format!("Error creating: {}", e.message),
                ));
            }
        }
        (Verb::Delete, KindId::Pod, ApiResponse::Error(_)) => r.delete_failed = true,
        _ => {}
    }
    r
}

/// What to do with a key after reconciling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// Done (`queue.Forget`).
    Done,
    /// Look again after this long (`queue.AddAfter`).
    After(SimDuration),
    /// It failed: retry with the per-item exponential back-off
    /// (`queue.AddRateLimited`).
    RateLimited,
}

/// Copies a controller (a cluster checkpoint copies every controller).
pub trait ControllerClone {
    fn clone_box(&self) -> Box<dyn Controller>;
}

impl<T: Controller + Clone + 'static> ControllerClone for T {
    fn clone_box(&self) -> Box<dyn Controller> {
        Box::new(self.clone())
    }
}

impl Clone for Box<dyn Controller> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// One control loop.
pub trait Controller: ControllerClone {
    /// The controller's name (`replicaset-controller`), which its events
    /// carry as their source component.
    fn name(&self) -> &'static str;
    /// The kinds whose informers it reads.
    fn kinds(&self) -> Vec<KindId>;
    /// The keys (of this controller's queue) to enqueue for a change
    /// (its event handlers).
    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String>;
    /// Reconciles one key (`syncHandler`).
    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue;
    /// The answer to a write the reconcile of `key` sent; returns the
    /// events to record about it.
    fn on_reply(
        &mut self,
        _key: &str,
        _request: &ApiRequest,
        _response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        Vec::new()
    }
    /// The manager starts its controllers (it became leader and its
    /// caches synced): a controller that builds state from the caches
    /// before its first sync does it here (upstream each controller is
    /// constructed afresh when the process starts leading).
    fn on_start(&mut self, _caches: Caches<'_>) {}
    /// Enqueue every key of this kind this often (a periodic monitor such as
    /// the node lifecycle controller's `nodeMonitorPeriod`).
    fn period(&self) -> Option<(SimDuration, KindId)> {
        None
    }
    /// Whether the answer to this request makes the key worth another look
    /// (a controller that reads an API answer, such as a
    /// SubjectAccessReview, before it writes).
    fn requeue_on_reply(&self, _request: &ApiRequest) -> bool {
        false
    }
}

/// The service accounts the controllers write as, in kube-system: the
/// cluster issues one token per entry. Each is the subject of the upstream
/// `system:controller:<name>` ClusterRoleBinding. A service account may carry
/// more than one controller: upstream's node lifecycle controller
/// (`node-lifecycle-controller`) and taint eviction controller
/// (`taint-eviction-controller`) both write as `node-controller`
/// (`cmd/kube-controller-manager/app/core.go`: "taint-manager uses existing
/// cluster role from node-controller").
pub const CONTROLLERS: &[&str] = &[
    "replicaset-controller",
    "deployment-controller",
    "node-controller",
    "generic-garbage-collector",
    "endpointslice-controller",
    "namespace-controller",
    "pod-garbage-collector",
    "job-controller",
    "daemon-set-controller",
    "statefulset-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "disruption-controller",
    "certificate-controller",
    "service-account-controller",
    "root-ca-cert-publisher",
];

/// kube-controller-manager's settings that the simulation lets a topology
/// change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `--cluster-signing-duration` (one year by default).
    pub cluster_signing_duration: SimDuration,
    /// `--controllers=*,-<name>`: controllers not run, by name.
    pub disabled: Vec<String>,
    /// `--cluster-cidr` (kubeadm's `--pod-network-cidr`).
    pub cluster_cidr: nodeipam::Cidr,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cluster_signing_duration: csrsigning::DEFAULT_CLUSTER_SIGNING_DURATION,
            disabled: Vec::new(),
            cluster_cidr: nodeipam::NodeIpamController::default_cluster_cidr(),
        }
    }
}

/// The controllers that write as one service account of [`CONTROLLERS`]
/// (`certificate-controller` carries csrapproving, csrsigning and
/// csrcleaner, as `cmd/kube-controller-manager/app/certificates.go` starts
/// them).
fn controllers_for(service_account: &str, settings: &Settings) -> Vec<Box<dyn Controller>> {
    match service_account {
        "replicaset-controller" => vec![Box::new(replicaset::ReplicaSetController::default())],
        "deployment-controller" => vec![Box::new(deployment::DeploymentController::default())],
        // Upstream the node IPAM controller also writes as
        // `node-controller` (`startNodeIpamController`).
        "node-controller" => vec![
            Box::new(nodelifecycle::NodeLifecycleController::default()),
            Box::new(tainteviction::TaintEvictionController::default()),
            Box::new(nodeipam::NodeIpamController::new(
                settings.cluster_cidr,
                nodeipam::NODE_CIDR_MASK_SIZE,
            )),
        ],
        "generic-garbage-collector" => {
            vec![Box::new(garbagecollector::GarbageCollector::default())]
        }
        "endpointslice-controller" => {
            vec![Box::new(endpointslice::EndpointSliceController::default())]
        }
        "namespace-controller" => vec![Box::new(namespace::NamespaceController::default())],
        "pod-garbage-collector" => vec![Box::new(podgc::PodGcController::default())],
        "job-controller" => vec![Box::new(job::JobController::default())],
        "daemon-set-controller" => vec![Box::new(daemonset::DaemonSetController::default())],
        "statefulset-controller" => {
            vec![Box::new(statefulset::StatefulSetController::default())]
        }
        "cronjob-controller" => vec![Box::new(cronjob::CronJobController::default())],
        "ttl-after-finished-controller" => {
            vec![Box::new(ttlafterfinished::TtlAfterFinishedController)]
        }
        "disruption-controller" => vec![Box::new(disruption::DisruptionController)],
        "certificate-controller" => vec![
            Box::new(csrapproving::CsrApprovingController::default()),
            Box::new(csrsigning::CsrSigningController {
                duration: settings.cluster_signing_duration,
            }),
            Box::new(csrcleaner::CsrCleanerController),
        ],
        "service-account-controller" => {
            vec![Box::new(serviceaccount::ServiceAccountController)]
        }
        "root-ca-cert-publisher" => vec![Box::new(rootcacertpublisher::RootCaCertPublisher)],
        _ => Vec::new(),
    }
}

#[derive(Clone)]
struct Slot {
    controller: Box<dyn Controller>,
    queue: WorkQueue<String>,
    credential: Credential,
    next_period: Option<SimTime>,
    /// Keys reconciled since the instance started, and when it last did.
    syncs: u64,
    last_sync: Option<SimTime>,
}

impl Slot {
    fn new(controller: Box<dyn Controller>, credential: Credential) -> Self {
        Slot {
            controller,
            queue: WorkQueue::new(),
            credential,
            next_period: None,
            syncs: 0,
            last_sync: None,
        }
    }
}

/// What one controller of an instance has been doing, for the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerActivity {
    pub name: &'static str,
    /// Keys waiting in its work queue.
    pub queued: usize,
    /// Keys reconciled since the instance started.
    pub syncs: u64,
    pub last_sync: Option<SimTime>,
}

/// Events are written by the controller manager's own event broadcaster.
const EVENT_TAG_BASE: Tag = 1 << 40;
/// The first controller's client; the others follow in order.
const CONTROLLER_CLIENT_BASE: ClientId = 16;

/// One kube-controller-manager instance.
#[derive(Clone)]
pub struct ControllerManager {
    node: String,
    credential: Credential,
    lock: LeaseLock,
    kinds: Vec<KindId>,
    slots: Vec<Slot>,
    /// Writes in flight: tag -> (controller, key, request).
    in_flight: BTreeMap<Tag, (usize, String, ApiRequest)>,
    /// Keys whose sync is still waiting on its writes: (controller, key)
    /// -> writes unanswered. Upstream a worker's sync blocks on its
    /// requests (including their wait for a rate-limiter token), so the key
    /// stays in the queue's processing set until they return and an add
    /// meanwhile only marks it dirty; here the key is `done` when its last
    /// write is answered.
    busy: BTreeMap<(usize, String), usize>,
    next_tag: Tag,
    /// Whether the manager has started its controllers (after becoming
    /// leader and its caches syncing).
    started: bool,
    /// Informers that have listed once.
    synced: std::collections::BTreeSet<usize>,
    /// How to build the controllers afresh (the tokens and settings the
    /// default controllers were made from), for a restart after a lost
    /// lease; `None` for a hand-made set, whose controllers are kept.
    recipe: Option<(Vec<(String, String)>, Settings)>,
    /// Whether it led when it last looked at its lock.
    leading: bool,
}

impl ControllerManager {
    /// An instance on `node`, with the controllers and each one's
    /// credential (its service account's token).
    pub fn new(
        node: &str,
        identity: String,
        controllers: Vec<(Box<dyn Controller>, Credential)>,
        now: SimTime,
    ) -> Self {
        let mut kinds: Vec<KindId> = controllers.iter().flat_map(|(c, _)| c.kinds()).collect();
        kinds.sort();
        kinds.dedup();
        ControllerManager {
            node: node.into(),
            credential: Credential::ClientCertificate(ClientCertificate::kube_controller_manager(
                SimTime::ZERO,
            )),
            lock: LeaseLock::new("kube-system", "kube-controller-manager", identity, now),
            kinds,
            slots: controllers
                .into_iter()
                .map(|(controller, credential)| Slot::new(controller, credential))
                .collect(),
            in_flight: BTreeMap::new(),
            busy: BTreeMap::new(),
            next_tag: 1,
            started: false,
            synced: Default::default(),
            recipe: None,
            leading: false,
        }
    }

    /// Upstream the process exits on losing its lease (`leaderelection
    /// lost`) and is restarted, so every controller starts again with
    /// nothing but its informers' caches: here, once the instance stops
    /// leading (its renew deadline passed, or it read another holder), the
    /// controllers are built afresh (their expectations, back-offs and
    /// in-flight writes forgotten) and start when it leads again.
    fn restart_if_lost(&mut self) {
        let leading = self.is_leader();
        let lost = self.leading && !leading;
        self.leading = leading;
        if !lost {
            return;
        }
        self.started = false;
        self.in_flight.clear();
        self.busy.clear();
        match &self.recipe {
            Some((tokens, settings)) => {
                let fresh = Self::default_controllers(tokens, settings);
                self.slots = fresh
                    .into_iter()
                    .map(|(controller, credential)| Slot::new(controller, credential))
                    .collect();
            }
            None => {
                for slot in &mut self.slots {
                    slot.queue = WorkQueue::new();
                }
            }
        }
    }

    /// The default controllers for `tokens` and `settings`, each with its
    /// service account's token.
    fn default_controllers(
        tokens: &[(String, String)],
        settings: &Settings,
    ) -> Vec<(Box<dyn Controller>, Credential)> {
        tokens
            .iter()
            .flat_map(|(name, token)| {
                controllers_for(name, settings)
                    .into_iter()
                    .filter(|c| !settings.disabled.iter().any(|d| d == c.name()))
                    .map(|c| (c, Credential::BearerToken(token.clone())))
            })
            .collect()
    }

    /// An instance running every controller of [`CONTROLLERS`], each
    /// with its token from `tokens` (service account name, bearer token).
    pub fn with_default_controllers(
        node: &str,
        identity: String,
        tokens: &[(String, String)],
        settings: Settings,
        now: SimTime,
    ) -> Self {
        let controllers = Self::default_controllers(tokens, &settings);
        let mut manager = Self::new(node, identity, controllers, now);
        manager.recipe = Some((tokens.to_vec(), settings));
        manager
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn is_leader(&self) -> bool {
        self.lock.is_leader()
    }

    pub fn identity(&self) -> &str {
        self.lock.identity()
    }

    /// The controllers' names, in order.
    pub fn controllers(&self) -> Vec<&'static str> {
        self.slots.iter().map(|s| s.controller.name()).collect()
    }

    /// Keys waiting in each controller's queue.
    pub fn queue_lengths(&self) -> Vec<(&'static str, usize)> {
        self.slots
            .iter()
            .map(|s| (s.controller.name(), s.queue.len()))
            .collect()
    }

    /// Each controller's queue and reconciles, in order.
    pub fn activity(&self) -> Vec<ControllerActivity> {
        self.slots
            .iter()
            .map(|s| ControllerActivity {
                name: s.controller.name(),
                queued: s.queue.len(),
                syncs: s.syncs,
                last_sync: s.last_sync,
            })
            .collect()
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

    /// Writes an Event as the controller's event recorder does.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        ctx: &mut Ctx<'_>,
        component: &str,
        credential: &Credential,
        reference: ObjectReference,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        let tag = EVENT_TAG_BASE + self.next_tag;
        self.next_tag += 1;
        let event = new_event(
            ctx.rng, ctx.now, tag, reference, type_, reason, message, component,
        );
        let ns = event.metadata.namespace.clone().unwrap_or_default();
        ctx.send(
            tag,
            ApiRequest::new(Verb::Create, KindId::Event, credential.clone())
                .in_namespace(ns)
                .with_body(Object::Event(Box::new(event))),
        );
    }

    fn caches<'a>(ctx: &Ctx<'a>, n: usize) -> Vec<Option<&'a Store>> {
        (0..n).map(|i| ctx.store(i)).collect()
    }

    fn run_controllers(&mut self, ctx: &mut Ctx<'_>) {
        if !self.is_leader() || !ctx.synced() {
            return;
        }
        let now = ctx.now;
        if !self.started {
            self.started = true;
            // Controllers start with a full pass over their caches, as the
            // informers' initial adds would enqueue everything.
            let stores = Self::caches(ctx, self.kinds.len());
            let caches = Caches {
                kinds: &self.kinds,
                stores: &stores,
            };
            for slot in &mut self.slots {
                slot.controller.on_start(caches);
                for kind in slot.controller.kinds() {
                    for o in caches.list(kind) {
                        let n = Notification::Add(o);
                        for key in slot.controller.keys_for(caches, kind, &n) {
                            slot.queue.add(key);
                        }
                    }
                }
                if let Some((period, _)) = slot.controller.period() {
                    slot.next_period = Some(now + period);
                }
            }
        }
        let stores = Self::caches(ctx, self.kinds.len());
        let mut to_record = Vec::new();
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            if let Some((period, kind)) = slot.controller.period() {
                if slot.next_period.is_some_and(|t| t <= now) {
                    slot.next_period = Some(now + period);
                    let caches = Caches {
                        kinds: &self.kinds,
                        stores: &stores,
                    };
                    if let Some(s) = caches.store(kind) {
                        for k in s.keys() {
                            slot.queue.add(k.to_string());
                        }
                    }
                }
            }
            slot.queue.promote_due(now);
            while let Some(key) = slot.queue.get() {
                let mut r = Reconcile {
                    now,
                    rng: &mut *ctx.rng,
                    caches: Caches {
                        kinds: &self.kinds,
                        stores: &stores,
                    },
                    writes: Vec::new(),
                    events: Vec::new(),
                };
                let requeue = slot.controller.reconcile(&mut r, &key);
                slot.syncs += 1;
                slot.last_sync = Some(now);
                let Reconcile { writes, events, .. } = r;
                match requeue {
                    Requeue::Done => slot.queue.forget(&key),
                    Requeue::After(d) => {
                        slot.queue.forget(&key);
                        slot.queue.add_after(key.clone(), now, d);
                    }
                    Requeue::RateLimited => {
                        slot.queue.add_rate_limited(key.clone(), now);
                    }
                }
                if writes.is_empty() {
                    slot.queue.done(&key);
                } else {
                    *self.busy.entry((i, key.clone())).or_default() += writes.len();
                }
                for mut w in writes {
                    w.credential = slot.credential.clone();
                    let tag = self.next_tag;
                    self.next_tag += 1;
                    self.in_flight.insert(tag, (i, key.clone(), w.clone()));
                    ctx.send(tag, w);
                }
                for (reference, type_, reason, message) in events {
                    to_record.push((
                        slot.controller.name(),
                        slot.credential.clone(),
                        reference,
                        type_,
                        reason,
                        message,
                    ));
                }
            }
        }
        for (name, credential, reference, type_, reason, message) in to_record {
            self.record(ctx, name, &credential, reference, type_, &reason, message);
        }
    }
}

/// A core/v1 Event as client-go's event recorder writes it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_event(
    rng: &mut SimRng,
    now: SimTime,
    seq: u64,
    involved: ObjectReference,
    type_: &str,
    reason: &str,
    message: String,
    component: &str,
) -> Event {
    let mut e = Event::default();
    let name = involved.name.clone().unwrap_or_default();
    // client-go's `makeEvent` (`tools/record/event.go`): `<object
    // name>.<hex UnixNano>`. The virtual clock counts milliseconds; the
    // nanoseconds under it are the recorder's own count of events (`seq`),
    // so that one component's events in the same millisecond list (by
    // name) in the order they happened, and a seeded draw, so that two
    // components' events on one object do not share a name.
    let nanos = (crate::api::time::EPOCH_UNIX_MILLIS as u64 + now.as_millis()) * 1_000_000
        + (seq % 1_000) * 1_000
        + rng.between(0, 999);
    e.metadata.name = Some(format!("{name}.{nanos:x}"));
    e.metadata.namespace = Some(
        involved
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
    );
    e.involved_object = involved;
    e.type_ = Some(type_.into());
    e.reason = Some(reason.into());
    e.message = Some(message);
    e.source = Some(EventSource {
        component: Some(component.into()),
        host: None,
    });
    e.reporting_component = Some(component.to_string());
    e.reporting_instance = Some(String::new());
    e.first_timestamp = Some(to_time(now));
    e.last_timestamp = Some(to_time(now));
    e.count = Some(1);
    e
}

impl Agent for ControllerManager {
    fn informers(&self) -> Vec<InformerConfig> {
        self.kinds.iter().map(|k| InformerConfig::new(*k)).collect()
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

    /// Each controller has its own client (built from its service account
    /// by `SAControllerClientBuilder`), hence its own bucket; the informers
    /// share the `shared-informers` client, events the broadcaster's, the
    /// lease the `leader-election` client.
    fn client_for(&self, tag: Tag, _request: &ApiRequest) -> Option<ClientId> {
        Some(if tag == LeaseLock::TAG {
            CLIENT_LEADER_ELECTION
        } else if tag >= EVENT_TAG_BASE {
            CLIENT_EVENTS
        } else {
            match self.in_flight.get(&tag) {
                Some((i, _, _)) => CONTROLLER_CLIENT_BASE + *i as ClientId,
                None => CLIENT_INFORMERS,
            }
        })
    }

    fn informer_client(&self) -> Option<ClientId> {
        Some(CLIENT_INFORMERS)
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.lock.poll(ctx, &self.credential.clone());
    }

    fn on_notification(&mut self, ctx: &mut Ctx<'_>, informer: usize, n: &Notification) {
        let Some(kind) = self.kinds.get(informer).copied() else {
            return;
        };
        if matches!(n, Notification::Synced) {
            self.synced.insert(informer);
            return;
        }
        if !self.started {
            return;
        }
        let stores = Self::caches(ctx, self.kinds.len());
        let caches = Caches {
            kinds: &self.kinds,
            stores: &stores,
        };
        for slot in &mut self.slots {
            if slot.controller.kinds().contains(&kind) {
                for key in slot.controller.keys_for(caches, kind, n) {
                    slot.queue.add(key);
                }
            }
        }
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        if tag == LeaseLock::TAG {
            let credential = self.credential.clone();
            self.lock.on_reply(ctx, &credential, response);
            self.restart_if_lost();
            self.run_controllers(ctx);
            return;
        }
        if let Some((i, key, request)) = self.in_flight.remove(&tag) {
            if let Some(slot) = self.slots.get_mut(i) {
                let events = slot.controller.on_reply(&key, &request, &response);
                if matches!(response, ApiResponse::Error(_)) {
                    // A failed write: look at the key again with back-off.
                    slot.queue.add_rate_limited(key.clone(), ctx.now);
                } else if slot.controller.requeue_on_reply(&request) {
                    slot.queue.add(key.clone());
                }
                if let Some(n) = self.busy.get_mut(&(i, key.clone())) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.busy.remove(&(i, key.clone()));
                        slot.queue.done(&key);
                    }
                }
                let name = slot.controller.name();
                let credential = slot.credential.clone();
                for e in events {
                    self.record(
                        ctx,
                        name,
                        &credential,
                        e.object,
                        e.type_,
                        e.reason,
                        e.message,
                    );
                }
            }
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        let credential = self.credential.clone();
        self.lock.poll(ctx, &credential);
        self.restart_if_lost();
        self.run_controllers(ctx);
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        let mut next = self.lock.next_wakeup();
        if self.is_leader() {
            for slot in &self.slots {
                let due = if !slot.queue.is_empty() {
                    Some(SimTime::ZERO)
                } else {
                    slot.queue.next_delayed()
                };
                for t in [due, slot.next_period].into_iter().flatten() {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
            if !self.started && self.synced.len() == self.kinds.len() {
                next = Some(SimTime::ZERO);
            }
        }
        next
    }
}

/// Helpers for the controllers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// One reconcile of `key` by `controller` over caches holding
    /// `objects`, at `now`: the writes, the events (reason, message) and
    /// the requeue.
    pub(crate) fn reconcile(
        controller: &mut dyn Controller,
        now: SimTime,
        objects: &[Object],
        key: &str,
    ) -> (Vec<ApiRequest>, Vec<(String, String)>, Requeue) {
        let kinds = controller.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|k| {
                Store::from_objects(
                    objects
                        .iter()
                        .filter(|o| o.kind_id() == *k)
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let mut rng = SimRng::new(1);
        let mut r = Reconcile::for_test(now, &mut rng, Caches::for_test(&kinds, &refs));
        let requeue = controller.reconcile(&mut r, key);
        (r.writes().to_vec(), r.events(), requeue)
    }

    /// An object from YAML, defaulted as the API server stores it.
    pub(crate) fn object(yaml: &str) -> Object {
        let value: serde_json::Value = serde_yaml_ng::from_str(yaml).unwrap_or_default();
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_string();
        let id = crate::api::Kind::for_api_version(&api_version, &kind)
            .map(|k| k.id)
            .unwrap_or(KindId::Pod);
        let mut o = Object::from_value_of(id, &value).unwrap_or_else(|e| panic!("{e}"));
        crate::api::apply_defaults(&mut o);
        o
    }
}
