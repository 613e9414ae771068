//! The pod garbage collector: removes pods nobody else will.
//!
//! Ported from `pkg/controller/podgc/gc_controller.go` (`gc`,
//! `gcTerminated`, `gcTerminating`, `gcOrphaned`, `gcUnscheduledTerminating`,
//! `markFailedAndDeletePodWithCondition`). Every 20 s (`gcCheckPeriod`) it:
//! - deletes the oldest finished pods (`Succeeded` / `Failed`) beyond
//!   `--terminated-pod-gc-threshold` (12,500);
//! - force-deletes terminating pods on NotReady nodes tainted
//!   `node.kubernetes.io/out-of-service`;
//! - deletes pods bound to nodes that no longer exist: a missing node is
//!   quarantined for 40 s (`quarantineTime`), then looked up live, and
//!   only if the API server says it is gone are its pods marked `Failed`
//!   (with a `DisruptionTarget` condition, reason `DeletionByPodGC`) and
//!   deleted with no grace period;
//! - force-deletes terminating pods that were never scheduled.
//!
//! Here the controller's single work-queue key `podgc` carries the
//! period. Left out: the per-pod metrics, and the status patch's
//! precondition on the pod's uid.

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::time::to_time;
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::PodCondition;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// `gcCheckPeriod`.
pub const GC_CHECK_PERIOD: SimDuration = SimDuration::from_secs(20);
/// `quarantineTime`: how long a node must be missing from the cache before
/// its pods are collected.
pub const QUARANTINE: SimDuration = SimDuration::from_secs(40);
/// `--terminated-pod-gc-threshold` default.
pub const TERMINATED_POD_GC_THRESHOLD: usize = 12_500;
/// The work-queue key that runs a collection.
const KEY: &str = "podgc";
const OUT_OF_SERVICE_TAINT: &str = "node.kubernetes.io/out-of-service";

/// The pod garbage collector.
#[derive(Clone)]
pub struct PodGcController {
    threshold: usize,
    next_run: Option<SimTime>,
    /// Nodes missing from the cache, since when.
    quarantine: BTreeMap<String, SimTime>,
    /// Nodes being looked up live.
    checking: BTreeSet<String>,
    /// Nodes the API server says are gone.
    gone: BTreeSet<String>,
}

impl Default for PodGcController {
    fn default() -> Self {
        Self::with_threshold(TERMINATED_POD_GC_THRESHOLD)
    }
}

fn phase(p: &Pod) -> Option<&str> {
    p.status.as_ref().and_then(|s| s.phase.as_deref())
}

fn is_terminated(p: &Pod) -> bool {
    matches!(phase(p), Some("Succeeded") | Some("Failed"))
}

fn node_name(p: &Pod) -> Option<&str> {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

impl PodGcController {
    /// A collector keeping at most `threshold` finished pods (0 turns that
    /// collection off, as upstream).
    pub fn with_threshold(threshold: usize) -> Self {
        PodGcController {
            threshold,
            next_run: None,
            quarantine: BTreeMap::new(),
            checking: BTreeSet::new(),
            gone: BTreeSet::new(),
        }
    }

    /// `markFailedAndDeletePodWithCondition`: a pod that has not finished is
    /// marked `Failed` first; then it is deleted with no grace period.
    fn fail_and_delete(
        ctx: &mut Reconcile<'_, '_>,
        o: &Rc<Object>,
        pod: &Pod,
        condition: Option<(&str, &str)>,
    ) {
        let ns = o.namespace().unwrap_or("default").to_string();
        if !is_terminated(pod) {
            let mut next = pod.clone();
            let status = next.status.get_or_insert_with(Default::default);
            status.phase = Some("Failed".into());
            if let Some((reason, message)) = condition {
                let conditions = status.conditions.get_or_insert_with(Vec::new);
                conditions.retain(|c| c.type_ != "DisruptionTarget");
                conditions.push(PodCondition {
                    type_: "DisruptionTarget".into(),
                    status: "True".into(),
                    reason: Some(reason.into()),
                    message: Some(message.into()),
                    last_transition_time: Some(to_time(ctx.now)),
                    ..Default::default()
                });
            }
            next.metadata.resource_version = None;
            ctx.write(
                ApiRequest::new(Verb::Patch, KindId::Pod, Credential::None)
                    .in_namespace(&ns)
                    .named(o.name())
                    .with_subresource("status")
                    .with_body(Object::Pod(Box::new(next))),
            );
        }
        let mut r = ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
            .in_namespace(&ns)
            .named(o.name());
        r.options.grace_period_seconds = Some(0);
        ctx.write(r);
    }

    /// `gcTerminated`.
    fn gc_terminated(&self, ctx: &mut Reconcile<'_, '_>, pods: &[Rc<Object>]) {
        if self.threshold == 0 {
            return;
        }
        let mut terminated: Vec<(&Rc<Object>, &Pod)> = pods
            .iter()
            .filter_map(|o| match &**o {
                Object::Pod(p) if is_terminated(p) => Some((o, &**p)),
                _ => None,
            })
            .collect();
        if terminated.len() <= self.threshold {
            return;
        }
        let excess = terminated.len() - self.threshold;
        // `byEvictionAndCreationTimestamp`: evicted pods first, then oldest.
        terminated.sort_by_key(|(o, p)| {
            let evicted = p.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted");
            (
                !evicted,
                o.creation_timestamp()
                    .map(|t| t.0.to_string())
                    .unwrap_or_default(),
                o.key(),
            )
        });
        for (o, p) in terminated.into_iter().take(excess) {
            Self::fail_and_delete(ctx, o, p, None);
        }
    }

    /// `gcTerminating`: terminating pods on out-of-service NotReady nodes.
    fn gc_terminating(ctx: &mut Reconcile<'_, '_>, pods: &[Rc<Object>]) {
        let out_of_service: BTreeSet<String> = ctx
            .caches
            .list(KindId::Node)
            .iter()
            .filter_map(|o| match &**o {
                Object::Node(n) => {
                    let ready = n
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| {
                            cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")
                        });
                    let tainted = n
                        .spec
                        .as_ref()
                        .and_then(|s| s.taints.as_ref())
                        .is_some_and(|ts| ts.iter().any(|t| t.key == OUT_OF_SERVICE_TAINT));
                    (!ready && tainted).then(|| o.name().to_string())
                }
                _ => None,
            })
            .collect();
        if out_of_service.is_empty() {
            return;
        }
        for o in pods {
            let Object::Pod(p) = &**o else { continue };
            if o.deletion_timestamp().is_some()
                && node_name(p).is_some_and(|n| out_of_service.contains(n))
            {
                Self::fail_and_delete(
                    ctx,
                    o,
                    p,
                    Some(("DeletionByPodGC", "PodGC: node no longer exists")),
                );
            }
        }
    }

    /// `gcOrphaned`: pods on nodes that are gone, after the quarantine and
    /// a live check.
    fn gc_orphaned(&mut self, ctx: &mut Reconcile<'_, '_>, pods: &[Rc<Object>]) {
        let now = ctx.now;
        let nodes: BTreeSet<String> = ctx
            .caches
            .list(KindId::Node)
            .iter()
            .map(|n| n.name().to_string())
            .collect();
        self.quarantine.retain(|n, _| !nodes.contains(n));
        self.gone.retain(|n| !nodes.contains(n));
        for o in pods {
            let Object::Pod(p) = &**o else { continue };
            if let Some(n) = node_name(p).filter(|n| !nodes.contains(*n)) {
                self.quarantine.entry(n.to_string()).or_insert(now);
            }
        }
        let due: Vec<String> = self
            .quarantine
            .iter()
            .filter(|(n, since)| {
                now.saturating_since(**since) >= QUARANTINE
                    && !self.checking.contains(*n)
                    && !self.gone.contains(*n)
            })
            .map(|(n, _)| n.clone())
            .collect();
        for n in due {
            // `checkIfNodeExists`: a live read, not the cache.
            self.checking.insert(n.clone());
            ctx.write(ApiRequest::new(Verb::Get, KindId::Node, Credential::None).named(n));
        }
        self.delete_on_gone_nodes(ctx, pods);
    }

    fn delete_on_gone_nodes(&mut self, ctx: &mut Reconcile<'_, '_>, pods: &[Rc<Object>]) {
        if self.gone.is_empty() {
            return;
        }
        for o in pods {
            let Object::Pod(p) = &**o else { continue };
            if node_name(p).is_some_and(|n| self.gone.contains(n)) {
                Self::fail_and_delete(
                    ctx,
                    o,
                    p,
                    Some(("DeletionByPodGC", "PodGC: node no longer exists")),
                );
            }
        }
        for n in std::mem::take(&mut self.gone) {
            self.quarantine.remove(&n);
        }
    }

    /// `gcUnscheduledTerminating`.
    fn gc_unscheduled_terminating(ctx: &mut Reconcile<'_, '_>, pods: &[Rc<Object>]) {
        for o in pods {
            let Object::Pod(p) = &**o else { continue };
            if o.deletion_timestamp().is_some() && node_name(p).is_none() {
                Self::fail_and_delete(ctx, o, p, None);
            }
        }
    }
}

impl Controller for PodGcController {
    fn name(&self) -> &'static str {
        "pod-garbage-collector"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Pod, KindId::Node]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        // The controller runs on its own period; the nodes' initial adds
        // start it.
        match (kind, n) {
            (KindId::Node, Notification::Add(_)) => vec![KEY.to_string()],
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        if key != KEY {
            return Requeue::Done;
        }
        let now = ctx.now;
        let pods = ctx.caches.list(KindId::Pod);
        let due = self.next_run.is_none_or(|t| now >= t);
        if !due {
            // Woken early: collect pods of nodes the API server just
            // confirmed gone, and keep the period.
            self.delete_on_gone_nodes(ctx, &pods);
            let next = self.next_run.unwrap_or(now);
            return Requeue::After(next.saturating_since(now));
        }
        self.next_run = Some(now + GC_CHECK_PERIOD);
        self.gc_terminated(ctx, &pods);
        Self::gc_terminating(ctx, &pods);
        self.gc_orphaned(ctx, &pods);
        Self::gc_unscheduled_terminating(ctx, &pods);
        Requeue::After(GC_CHECK_PERIOD)
    }

    fn on_reply(
        &mut self,
        _key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        if request.verb == Verb::Get && request.kind == KindId::Node {
            let name = request.name.clone().unwrap_or_default();
            self.checking.remove(&name);
            match response {
                ApiResponse::Error(e) if e.code() == 404 => {
                    self.gone.insert(name);
                }
                ApiResponse::Object(_) => {
                    self.quarantine.remove(&name);
                }
                _ => {}
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    const NOW: SimTime = SimTime(100_000);

    fn pod(name: &str, node: Option<&str>, phase: &str, created: &str, deleting: bool) -> Object {
        let node = node
            .map(|n| format!("  nodeName: {n}\n"))
            .unwrap_or_default();
        let deletion = if deleting {
            "  deletionTimestamp: \"2026-01-01T00:01:00Z\"\n"
        } else {
            ""
        };
        object(&format!(
            "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: default
  creationTimestamp: \"{created}\"
{deletion}spec:
{node}  containers: [{{name: c, image: busybox}}]
status:
  phase: {phase}
"
        ))
    }

    fn node(name: &str) -> Object {
        object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n"
        ))
    }

    fn deleted(writes: &[ApiRequest]) -> Vec<String> {
        writes
            .iter()
            .filter(|w| w.verb == Verb::Delete)
            .map(|w| w.name.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn finished_pods_beyond_the_threshold_are_deleted_oldest_first() {
        let objects = [
            node("n1"),
            pod(
                "new",
                Some("n1"),
                "Succeeded",
                "2026-01-01T00:03:00Z",
                false,
            ),
            pod("old", Some("n1"), "Failed", "2026-01-01T00:01:00Z", false),
            pod(
                "running",
                Some("n1"),
                "Running",
                "2026-01-01T00:00:00Z",
                false,
            ),
        ];
        let (writes, _, requeue) =
            reconcile(&mut PodGcController::with_threshold(1), NOW, &objects, KEY);
        assert_eq!(deleted(&writes), ["old"]);
        assert_eq!(requeue, Requeue::After(GC_CHECK_PERIOD));
    }

    #[test]
    fn unscheduled_terminating_pods_are_force_deleted() {
        let objects = [
            node("n1"),
            pod("pending", None, "Pending", "2026-01-01T00:01:00Z", true),
        ];
        let (writes, _, _) = reconcile(&mut PodGcController::default(), NOW, &objects, KEY);
        assert_eq!(deleted(&writes), ["pending"]);
        let delete = writes.iter().find(|w| w.verb == Verb::Delete).unwrap();
        assert_eq!(delete.options.grace_period_seconds, Some(0));
        assert!(
            writes
                .iter()
                .any(|w| w.verb == Verb::Patch && w.subresource.as_deref() == Some("status")),
            "marked Failed first"
        );
    }

    #[test]
    fn a_pod_on_a_missing_node_waits_out_the_quarantine_and_a_live_check() {
        let objects = [pod(
            "stranded",
            Some("gone"),
            "Running",
            "2026-01-01T00:01:00Z",
            false,
        )];
        let mut gc = PodGcController::default();
        let (writes, _, _) = reconcile(&mut gc, NOW, &objects, KEY);
        assert!(writes.is_empty(), "quarantined first");
        let later = NOW + QUARANTINE;
        let (writes, _, _) = reconcile(&mut gc, later, &objects, KEY);
        assert_eq!(writes.len(), 1);
        assert_eq!((writes[0].verb, writes[0].kind), (Verb::Get, KindId::Node));
        gc.on_reply(
            KEY,
            &writes[0],
            &ApiResponse::Error(crate::api::ApiError::not_found(KindId::Node.info(), "gone")),
        );
        let (writes, _, _) = reconcile(&mut gc, later, &objects, KEY);
        assert_eq!(deleted(&writes), ["stranded"]);
    }
}
