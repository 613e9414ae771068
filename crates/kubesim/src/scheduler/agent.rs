//! kube-scheduler as a process: the wiring of the pure [`Scheduler`] to the
//! API (`cmd/kube-scheduler/app/server.go` `Run`, `pkg/scheduler/schedule_one.go`
//! `bindingCycle` and `handleSchedulingFailure`).
//!
//! Informers for pods, nodes and PriorityClasses start at once (a standby
//! keeps warm caches, as upstream); only the instance holding the
//! `kube-system/kube-scheduler` Lease schedules. A successful cycle posts
//! the binding (`pods/<name>/binding`) and records a `Scheduled` event; a
//! failed one records `FailedScheduling` with the framework's message,
//! sets the pod's `PodScheduled=False` condition and, after preemption,
//! its `nominatedNodeName`, and deletes the victims.

use super::{Action, Decision, Scheduler};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification};
use crate::client::leaselock::LeaseLock;
use crate::client::process::{Agent, Ctx, RateLimit, Tag};
use crate::controllers::new_event;
use crate::world::SimTime;
use k8s_openapi::api::core::v1::PodCondition;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

const PODS: usize = 0;
const NODES: usize = 1;
const PRIORITY_CLASSES: usize = 2;
/// How many decisions are kept for the page's "why here / why Pending".
pub const DECISIONS_KEPT: usize = 1000;
/// Tags of event writes (answers are ignored).
const EVENT_TAG: Tag = 1 << 40;

/// What a write of the scheduler's is for.
#[derive(Clone, Debug)]
enum Write {
    Bind { key: String },
    Other,
}

/// One kube-scheduler instance.
#[derive(Clone)]
pub struct KubeScheduler {
    node: String,
    credential: Credential,
    lock: LeaseLock,
    scheduler: Scheduler,
    writes: BTreeMap<Tag, Write>,
    next_tag: Tag,
    decisions: BTreeMap<String, Rc<Decision>>,
    decision_order: VecDeque<String>,
    scheduled: u64,
    /// Whether the instance led when it last looked at its Lease.
    leading: bool,
}

impl KubeScheduler {
    pub fn new(node: &str, identity: String, now: SimTime) -> Self {
        KubeScheduler {
            node: node.into(),
            credential: Credential::ClientCertificate(ClientCertificate::kube_scheduler(
                SimTime::ZERO,
            )),
            lock: LeaseLock::new("kube-system", "kube-scheduler", identity, now),
            scheduler: Scheduler::default(),
            writes: BTreeMap::new(),
            next_tag: 1,
            decisions: BTreeMap::new(),
            decision_order: VecDeque::new(),
            scheduled: 0,
            leading: false,
        }
    }

    /// Upstream kube-scheduler exits when it loses its Lease
    /// (`cmd/kube-scheduler/app/server.go` `Run`, `OnStoppedLeading`:
    /// "Leaderelection lost", `klog.FlushAndExit`) and the kubelet restarts
    /// its static pod. Here the instance starts afresh in place: its queue,
    /// cache (assumed pods included), pending binds and kept decisions are
    /// forgotten, and the new scheduler is filled from the informer caches,
    /// as the restarted process's first list would fill it.
    fn restart_if_lost(&mut self, ctx: &Ctx<'_>) {
        let leading = self.is_leader();
        let lost = self.leading && !leading;
        self.leading = leading;
        if !lost {
            return;
        }
        self.scheduler = Scheduler::default();
        self.writes.clear();
        self.decisions.clear();
        self.decision_order.clear();
        self.scheduled = 0;
        let now = ctx.now;
        for o in ctx
            .store(PRIORITY_CLASSES)
            .map(|s| s.list())
            .unwrap_or_default()
        {
            self.scheduler.on_priority_class_add(o);
        }
        for o in ctx.store(NODES).map(|s| s.list()).unwrap_or_default() {
            self.scheduler.on_node_add(now, o);
        }
        for o in ctx.store(PODS).map(|s| s.list()).unwrap_or_default() {
            self.scheduler.on_pod_add(now, o);
        }
    }

    /// How many pods this instance has bound since it last started.
    pub fn scheduled(&self) -> u64 {
        self.scheduled
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn is_leader(&self) -> bool {
        self.lock.is_leader()
    }

    /// The last decision about a pod (`namespace/name`).
    pub fn decision(&self, pod: &str) -> Option<&Rc<Decision>> {
        self.decisions.get(pod)
    }

    /// A one-line state for the diagram.
    pub fn state_line(&self) -> String {
        if self.is_leader() {
            format!(
                "leader · {} bound · {} pending",
                self.scheduled,
                self.scheduler.queue.len_active()
            )
        } else {
            match self.lock.observed_holder() {
                Some(h) => format!("standby · leader {}", h.split('_').next().unwrap_or(h)),
                None => "standby".into(),
            }
        }
    }

    fn send(&mut self, ctx: &mut Ctx<'_>, write: Write, request: ApiRequest) {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.writes.insert(tag, write);
        ctx.send(tag, request);
    }

    fn record(
        &mut self,
        ctx: &mut Ctx<'_>,
        pod: &Object,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        let reference = crate::controllers::object_reference(pod);
        let tag = EVENT_TAG + self.next_tag;
        self.next_tag += 1;
        let event = new_event(
            ctx.rng,
            ctx.now,
            tag,
            reference,
            type_,
            reason,
            message,
            super::DEFAULT_SCHEDULER_NAME,
        );
        let ns = event.metadata.namespace.clone().unwrap_or_default();
        ctx.send(
            tag,
            ApiRequest::new(Verb::Create, KindId::Event, self.credential.clone())
                .in_namespace(ns)
                .with_body(Object::Event(Box::new(event))),
        );
    }

    fn keep(&mut self, decision: Decision) {
        let key = decision.pod.clone();
        if self
            .decisions
            .insert(key.clone(), Rc::new(decision))
            .is_none()
        {
            self.decision_order.push_back(key);
        }
        while self.decision_order.len() > DECISIONS_KEPT {
            if let Some(old) = self.decision_order.pop_front() {
                self.decisions.remove(&old);
            }
        }
    }

    fn schedule(&mut self, ctx: &mut Ctx<'_>) {
        if !self.is_leader() {
            return;
        }
        let now = ctx.now;
        while self.scheduler.has_work(now) {
            let Some(result) = self.scheduler.run_next(now, ctx.rng) else {
                break;
            };
            self.keep(result.decision);
            match result.action {
                Action::Bind {
                    namespace,
                    name,
                    node,
                    ..
                } => {
                    let mut target = Pod::default();
                    target.metadata.name = Some(name.clone());
                    target.metadata.namespace = Some(namespace.clone());
                    target.spec = Some(crate::api::pod::PodSpec {
                        node_name: Some(node),
                        ..Default::default()
                    });
                    let request =
                        ApiRequest::new(Verb::Create, KindId::Pod, self.credential.clone())
                            .in_namespace(&namespace)
                            .named(&name)
                            .with_subresource("binding")
                            .with_body(Object::Pod(Box::new(target)));
                    self.send(
                        ctx,
                        Write::Bind {
                            key: format!("{namespace}/{name}"),
                        },
                        request,
                    );
                }
                Action::Failed {
                    namespace,
                    name,
                    reason,
                    message,
                    nominated_node,
                    victims,
                } => {
                    let key = format!("{namespace}/{name}");
                    let Some(pod) = ctx.store(PODS).and_then(|s| s.get(&key)).cloned() else {
                        continue;
                    };
                    self.record(ctx, &pod, "Warning", "FailedScheduling", message.clone());
                    // `updatePod`: PodScheduled=False, and the nominated node.
                    if let Object::Pod(p) = &*pod {
                        let mut next = p.clone();
                        next.metadata.resource_version = None;
                        let status = next.status.get_or_insert_with(Default::default);
                        let conditions = status.conditions.get_or_insert_with(Vec::new);
                        let changed = !conditions.iter().any(|c| {
                            c.type_ == "PodScheduled"
                                && c.status == "False"
                                && c.message.as_deref() == Some(message.as_str())
                        });
                        conditions.retain(|c| c.type_ != "PodScheduled");
                        conditions.push(PodCondition {
                            type_: "PodScheduled".into(),
                            status: "False".into(),
                            reason: Some(reason.into()),
                            message: Some(message),
                            last_transition_time: Some(crate::api::time::to_time(now)),
                            ..Default::default()
                        });
                        if nominated_node.is_some() {
                            status.nominated_node_name = nominated_node;
                        }
                        if changed || status.nominated_node_name.is_some() {
                            let request =
                                ApiRequest::new(Verb::Update, KindId::Pod, self.credential.clone())
                                    .in_namespace(&namespace)
                                    .named(&name)
                                    .with_subresource("status")
                                    .with_body(Object::Pod(next));
                            self.send(ctx, Write::Other, request);
                        }
                    }
                    for victim in victims {
                        let (ns, n) = victim.split_once('/').unwrap_or(("default", &victim));
                        let request =
                            ApiRequest::new(Verb::Delete, KindId::Pod, self.credential.clone())
                                .in_namespace(ns)
                                .named(n);
                        self.send(ctx, Write::Other, request);
                    }
                }
            }
        }
    }
}

impl Agent for KubeScheduler {
    fn informers(&self) -> Vec<InformerConfig> {
        vec![
            InformerConfig::new(KindId::Pod),
            InformerConfig::new(KindId::Node),
            InformerConfig::new(KindId::PriorityClass),
        ]
    }

    fn credential(&self) -> Credential {
        self.credential.clone()
    }

    /// `clientConnection.qps` 50 and `burst` 100 (the
    /// KubeSchedulerConfiguration defaults,
    /// pkg/scheduler/apis/config/v1/defaults.go): binds leave at 50 a
    /// second once the burst is spent, while scheduling cycles go on.
    fn rate_limit(&self) -> Option<RateLimit> {
        Some(RateLimit {
            qps: 50,
            burst: 100,
        })
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let credential = self.credential.clone();
        self.lock.poll(ctx, &credential);
    }

    fn on_notification(&mut self, ctx: &mut Ctx<'_>, informer: usize, n: &Notification) {
        let now = ctx.now;
        match (informer, n) {
            (PODS, Notification::Add(o)) => self.scheduler.on_pod_add(now, o.clone()),
            (PODS, Notification::Update { new, .. }) => {
                self.scheduler.on_pod_update(now, new.clone())
            }
            (PODS, Notification::Delete { object, .. }) => {
                self.scheduler.on_pod_delete(now, &object.key())
            }
            (NODES, Notification::Add(o)) => self.scheduler.on_node_add(now, o.clone()),
            (NODES, Notification::Update { new, .. }) => {
                self.scheduler.on_node_update(now, new.clone())
            }
            (NODES, Notification::Delete { object, .. }) => {
                self.scheduler.on_node_delete(now, object.name())
            }
            (PRIORITY_CLASSES, Notification::Add(o))
            | (PRIORITY_CLASSES, Notification::Update { new: o, .. }) => {
                self.scheduler.on_priority_class_add(o.clone())
            }
            (PRIORITY_CLASSES, Notification::Delete { object, .. }) => {
                self.scheduler.on_priority_class_delete(object.name())
            }
            _ => {}
        }
    }

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        if tag == LeaseLock::TAG {
            let credential = self.credential.clone();
            self.lock.on_reply(ctx, &credential, response);
            self.restart_if_lost(ctx);
            self.schedule(ctx);
            return;
        }
        match self.writes.remove(&tag) {
            Some(Write::Bind { key }) => match response {
                ApiResponse::Object(pod) => {
                    self.scheduled += 1;
                    self.scheduler.binding_succeeded(&key);
                    let node = match &*pod {
                        Object::Pod(p) => p.spec.as_ref().and_then(|s| s.node_name.clone()),
                        _ => None,
                    }
                    .unwrap_or_default();
                    self.record(
                        ctx,
                        &pod,
                        "Normal",
                        "Scheduled",
                        format!("Successfully assigned {key} to {node}"),
                    );
                }
                _ => self.scheduler.binding_failed(ctx.now, &key),
            },
            Some(Write::Other) | None => {}
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        let credential = self.credential.clone();
        self.lock.poll(ctx, &credential);
        self.restart_if_lost(ctx);
        self.schedule(ctx);
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        let mut next = self.lock.next_wakeup();
        if self.is_leader() {
            let q = &self.scheduler.queue;
            let due = if q.len_active() > 0 {
                Some(SimTime::ZERO)
            } else {
                self.scheduler.next_wakeup()
            };
            if let Some(t) = due {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        next
    }
}
