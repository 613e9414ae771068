//! The taint eviction controller: deletes pods from nodes with `NoExecute`
//! taints they do not tolerate.
//!
//! Ported from `pkg/controller/tainteviction/taint_eviction.go` (a
//! controller of its own, `taint-eviction-controller`, since v1.29; it
//! writes as the `node-controller` service account). For each pod bound to
//! a node (`processPodOnNode`): with no `NoExecute` taint nothing happens
//! (a scheduled eviction is cancelled); a taint the pod does not tolerate
//! (`GetMatchingTolerations`) deletes it at once; otherwise it is deleted
//! once the smallest `tolerationSeconds` of the tolerations used
//! (`getMinTolerationTime`) has passed, never if they tolerate forever.
//! Before deleting, it records `TaintManagerEviction` ("Marking for
//! deletion Pod default/x") and sets the pod's `DisruptionTarget`
//! condition (`addConditionAndDeletePod`). Every pod gets 300 s tolerations
//! of `not-ready` and `unreachable` from the DefaultTolerationSeconds
//! admission plugin, so by default pods leave an unreachable node five
//! minutes after it is tainted.
//!
//! The toleration time counts from the taint's `timeAdded` (upstream counts
//! from when its event handler sees the taint, which is `timeAdded` plus
//! the watch latency, and starts over after a controller-manager failover).

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::time::{to_sim_time, to_time};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::{Node, PodCondition, Taint, Toleration};
use std::collections::{BTreeMap, BTreeSet};

/// `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// `GetMatchingTolerations`: whether every taint is tolerated, and the
/// first toleration matching each.
pub fn matching_tolerations(
    taints: &[Taint],
    tolerations: &[Toleration],
) -> (bool, Vec<Toleration>) {
    let mut used = Vec::new();
    for taint in taints {
        match tolerations.iter().find(|t| tolerates(t, taint)) {
            Some(t) => used.push(t.clone()),
            None => return (false, Vec::new()),
        }
    }
    (true, used)
}

/// `getMinTolerationTime`: `None` is forever.
pub fn min_toleration_time(used: &[Toleration]) -> Option<SimDuration> {
    if used.is_empty() {
        return Some(SimDuration::ZERO);
    }
    let mut min: Option<i64> = None;
    for t in used {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Some(SimDuration::ZERO);
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map(|s| SimDuration::from_secs(s as u64))
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// The taint eviction controller.
#[derive(Clone, Default)]
pub struct TaintEvictionController {
    /// Evictions scheduled: pod key -> when.
    scheduled: BTreeMap<String, SimTime>,
    /// Pods whose deletion was sent.
    deleted: BTreeSet<String>,
}

impl TaintEvictionController {
    /// `cancelWorkWithEvent`.
    fn cancel(&mut self, ctx: &mut Reconcile<'_, '_>, pod: Option<&Object>, key: &str) {
        if self.scheduled.remove(key).is_some() {
            if let Some(pod) = pod {
                ctx.event(
                    pod,
                    "Normal",
                    "TaintManagerEviction",
                    format!("Cancelling deletion of Pod {key}"),
                );
            }
        }
    }

    /// `addConditionAndDeletePod` after `emitPodDeletionEvent`.
    fn delete(&mut self, ctx: &mut Reconcile<'_, '_>, object: &Object, pod: &Pod, key: &str) {
        self.scheduled.remove(key);
        if !self.deleted.insert(key.to_string()) {
            return;
        }
        ctx.event(
            object,
            "Normal",
            "TaintManagerEviction",
            format!("Marking for deletion Pod {key}"),
        );
        let ns = object.namespace().unwrap_or("default").to_string();
        let mut next = pod.clone();
        next.metadata.resource_version = None;
        let status = next.status.get_or_insert_with(Default::default);
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        conditions.retain(|c| c.type_ != "DisruptionTarget");
        conditions.push(PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("DeletionByTaintManager".into()),
            message: Some("Taint manager: deleting due to NoExecute taint".into()),
            last_transition_time: Some(to_time(ctx.now)),
            ..Default::default()
        });
        ctx.write(
            ApiRequest::new(Verb::Update, KindId::Pod, Credential::None)
                .in_namespace(&ns)
                .named(object.name())
                .with_subresource("status")
                .with_body(Object::Pod(Box::new(next))),
        );
        ctx.write(
            ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
                .in_namespace(&ns)
                .named(object.name()),
        );
    }
}

impl Controller for TaintEvictionController {
    fn name(&self) -> &'static str {
        "taint-eviction-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Node, KindId::Pod]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            // `podUpdated`.
            (KindId::Pod, n) => n.key().into_iter().collect(),
            // `nodeUpdated`: every pod on the node.
            (KindId::Node, Notification::Add(o))
            | (KindId::Node, Notification::Update { new: o, .. }) => {
                let name = o.name().to_string();
                caches
                    .list(KindId::Pod)
                    .into_iter()
                    .filter(|p| match &**p {
                        Object::Pod(pod) => node_name(pod) == Some(name.as_str()),
                        _ => false,
                    })
                    .map(|p| p.key())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let now = ctx.now;
        let object = ctx.caches.get(KindId::Pod, key).cloned();
        let pod = match object.as_deref() {
            Some(Object::Pod(p)) if p.metadata.deletion_timestamp.is_none() => p.clone(),
            _ => {
                // Gone or going: nothing left to evict.
                self.scheduled.remove(key);
                self.deleted.remove(key);
                return Requeue::Done;
            }
        };
        let Some(object) = object else {
            return Requeue::Done;
        };
        let Some(node) =
            node_name(&pod).and_then(|n| match ctx.caches.get(KindId::Node, n).map(|o| &**o) {
                Some(Object::Node(n)) => Some(n.clone()),
                _ => None,
            })
        else {
            self.cancel(ctx, Some(&object), key);
            return Requeue::Done;
        };
        let taints = no_execute_taints(&node);
        if taints.is_empty() {
            self.cancel(ctx, Some(&object), key);
            return Requeue::Done;
        }
        let tolerations = pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.clone())
            .unwrap_or_default();
        let (all, used) = matching_tolerations(&taints, &tolerations);
        if !all {
            self.delete(ctx, &object, &pod, key);
            return Requeue::Done;
        }
        let Some(min) = min_toleration_time(&used) else {
            // Tolerated forever.
            self.cancel(ctx, Some(&object), key);
            return Requeue::Done;
        };
        // Counted from the newest NoExecute taint's timeAdded.
        let start = taints
            .iter()
            .filter_map(|t| t.time_added.as_ref().map(to_sim_time))
            .max()
            .unwrap_or(now)
            .min(now);
        let trigger = start + min;
        if trigger <= now {
            self.delete(ctx, &object, &pod, key);
            return Requeue::Done;
        }
        self.scheduled.insert(key.to_string(), trigger);
        Requeue::After(SimDuration::from_millis(
            trigger.as_millis() - now.as_millis(),
        ))
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        // A deletion that failed (other than the pod being gone already) is
        // tried again when the manager requeues the key.
        if let (Verb::Delete, ApiResponse::Error(e)) = (request.verb, response) {
            if e.code() != 404 {
                self.deleted.remove(key);
            }
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn tainted_node(time_added: &str) -> Object {
        object(&format!(
            "apiVersion: v1
kind: Node
metadata:
  name: worker-2
spec:
  taints:
  - key: node.kubernetes.io/unreachable
    effect: NoExecute
    timeAdded: \"{time_added}\"
  - key: node.kubernetes.io/unreachable
    effect: NoSchedule
"
        ))
    }

    fn pod(name: &str, tolerations: &str) -> Object {
        object(&format!(
            "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: default
spec:
  nodeName: worker-2
  tolerations: {tolerations}
  containers:
  - name: c
    image: nginx
"
        ))
    }

    fn deletes(writes: &[ApiRequest]) -> Vec<String> {
        writes
            .iter()
            .filter(|w| w.verb == Verb::Delete)
            .filter_map(|w| w.name.clone())
            .collect()
    }

    #[test]
    fn tolerations_match_taints_as_upstream() {
        let taint = Taint {
            key: "node.kubernetes.io/unreachable".into(),
            effect: "NoExecute".into(),
            ..Default::default()
        };
        let exists = Toleration {
            key: Some("node.kubernetes.io/unreachable".into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(300),
            ..Default::default()
        };
        assert!(tolerates(&exists, &taint));
        let everything = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(tolerates(&everything, &taint));
        let other = Toleration {
            key: Some("node.kubernetes.io/not-ready".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(!tolerates(&other, &taint));
        assert_eq!(
            min_toleration_time(std::slice::from_ref(&exists)),
            Some(SimDuration::from_secs(300))
        );
        assert_eq!(min_toleration_time(&[everything]), None, "forever");
        assert_eq!(min_toleration_time(&[]), Some(SimDuration::ZERO));
    }

    #[test]
    fn a_pod_that_does_not_tolerate_the_taint_is_deleted_at_once() {
        let mut c = TaintEvictionController::default();
        let objects = [tainted_node("2026-01-01T00:01:00Z"), pod("x", "[]")];
        let (writes, events, _) = reconcile(&mut c, SimTime(61_000), &objects, "default/x");
        assert_eq!(deletes(&writes), vec!["x".to_string()]);
        assert_eq!(
            events,
            vec![(
                "TaintManagerEviction".to_string(),
                "Marking for deletion Pod default/x".to_string()
            )]
        );
    }

    #[test]
    fn a_pod_goes_when_its_toleration_seconds_have_passed_since_the_taint() {
        let mut c = TaintEvictionController::default();
        let objects = [
            tainted_node("2026-01-01T00:01:00Z"),
            pod(
                "x",
                "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]",
            ),
        ];
        let (writes, _, requeue) = reconcile(&mut c, SimTime(61_000), &objects, "default/x");
        assert!(deletes(&writes).is_empty());
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(29)));
        let (writes, _, _) = reconcile(&mut c, SimTime(90_000), &objects, "default/x");
        assert_eq!(deletes(&writes), vec!["x".to_string()]);
    }

    #[test]
    fn a_pod_tolerating_forever_stays() {
        let mut c = TaintEvictionController::default();
        let objects = [
            tainted_node("2026-01-01T00:01:00Z"),
            pod("x", "[{operator: Exists}]"),
        ];
        let (writes, _, requeue) = reconcile(&mut c, SimTime(600_000), &objects, "default/x");
        assert!(deletes(&writes).is_empty());
        assert_eq!(requeue, Requeue::Done);
    }
}
