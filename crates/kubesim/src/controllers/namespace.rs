//! The namespace controller: empties a namespace being deleted, then lets
//! it go.
//!
//! In Kubernetes deleting a Namespace only marks it: the API server sets
//! its deletionTimestamp and phase `Terminating`, and the Namespace stays
//! while `spec.finalizers` holds `kubernetes`. The namespace controller
//! (`pkg/controller/namespace/namespace_controller.go`, `syncNamespaceFromKey`,
//! and `deletion/namespaced_resources_deleter.go`, `Delete`,
//! `deleteAllContent`) then lists every namespaced resource in it, deletes
//! each item (background propagation; pods terminate gracefully), and lists
//! again: while pods are terminating it looks again after half their
//! grace period plus a second (`ResourcesRemainingError`), while other
//! items remain it retries with back-off, and once nothing is left it
//! removes `kubernetes` through the `namespaces/<name>/finalize`
//! subresource, which deletes the Namespace.
//!
//! Here the lists are live reads of the API server (as upstream's metadata
//! client does), one per namespaced kind the simulated API serves.
//!
//! Left out: discovery of resources at run time (the kinds are fixed),
//! DeleteCollection (items are deleted one by one, upstream's fallback),
//! and the `NamespaceDeletion*` status conditions.

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::{KindId, Object, KINDS};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Propagation, Verb};
use crate::client::informer::Notification;
use crate::world::SimDuration;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The finalizer the namespace controller owns (`v1.FinalizerKubernetes`).
pub const FINALIZER_KUBERNETES: &str = "kubernetes";

/// How soon to look for the answers to a round of lists.
const LIST_POLL: SimDuration = SimDuration::from_millis(20);

/// One round of lists of a namespace's content.
#[derive(Clone, Default)]
struct Pass {
    pending: usize,
    failed: bool,
    items: Vec<Rc<Object>>,
}

/// The namespace controller.
#[derive(Clone, Default)]
pub struct NamespaceController {
    passes: BTreeMap<String, Pass>,
}

/// The namespaced kinds whose objects a namespace's deletion removes
/// (events.k8s.io Events are the core Events again).
fn namespaced_kinds() -> impl Iterator<Item = KindId> {
    KINDS
        .iter()
        .filter(|k| k.namespaced && !matches!(k.id, KindId::EventsEvent | KindId::TokenRequest))
        .map(|k| k.id)
}

/// `estimateGracefulTerminationForPods`: the longest grace period of a pod
/// that has not finished.
fn estimate(items: &[Rc<Object>]) -> i64 {
    items
        .iter()
        .filter_map(|o| match &**o {
            Object::Pod(p) => {
                let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
                if matches!(phase, Some("Succeeded") | Some("Failed")) {
                    return None;
                }
                p.spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
            }
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

impl Controller for NamespaceController {
    fn name(&self) -> &'static str {
        "namespace-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Namespace]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, n: &Notification) -> Vec<String> {
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. }
                if o.deletion_timestamp().is_some() =>
            {
                vec![o.name().to_string()]
            }
            Notification::Delete { object, .. } => {
                self.passes.remove(object.name());
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(ns) = ctx.caches.get(KindId::Namespace, key).cloned() else {
            self.passes.remove(key);
            return Requeue::Done;
        };
        let Object::Namespace(namespace) = &*ns else {
            return Requeue::Done;
        };
        if ns.deletion_timestamp().is_none() {
            return Requeue::Done;
        }
        let finalizers = namespace
            .spec
            .as_ref()
            .and_then(|s| s.finalizers.clone())
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == FINALIZER_KUBERNETES) {
            // Already finalized by this controller.
            return Requeue::Done;
        }
        match self.passes.get(key) {
            None => {
                // List everything in the namespace.
                let mut pass = Pass::default();
                for kind in namespaced_kinds() {
                    pass.pending += 1;
                    ctx.write(
                        ApiRequest::new(Verb::List, kind, Credential::None).in_namespace(key),
                    );
                }
                self.passes.insert(key.to_string(), pass);
                return Requeue::After(LIST_POLL);
            }
            Some(p) if p.pending > 0 => return Requeue::After(LIST_POLL),
            Some(_) => {}
        }
        let Some(pass) = self.passes.remove(key) else {
            return Requeue::Done;
        };
        if pass.failed {
            return Requeue::RateLimited;
        }
        if pass.items.is_empty() {
            // `finalizeNamespace`: nothing left; remove our finalizer.
            let mut next = namespace.clone();
            let rest: Vec<String> = finalizers
                .into_iter()
                .filter(|f| f != FINALIZER_KUBERNETES)
                .collect();
            next.spec.get_or_insert_with(Default::default).finalizers = Some(rest);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::Namespace, Credential::None)
                    .named(key)
                    .with_subresource("finalize")
                    .with_body(Object::Namespace(next)),
            );
            return Requeue::Done;
        }
        // `deleteEachItem`, background propagation.
        for o in &pass.items {
            if o.deletion_timestamp().is_some() {
                continue;
            }
            let mut r = ApiRequest::new(Verb::Delete, o.kind_id(), Credential::None)
                .in_namespace(key)
                .named(o.name());
            r.options.propagation = Some(Propagation::Background);
            ctx.write(r);
        }
        let estimate = estimate(&pass.items);
        if estimate > 0 {
            // `ResourcesRemainingError`: look again after half the estimate.
            Requeue::After(SimDuration::from_secs((estimate / 2 + 1) as u64))
        } else {
            Requeue::RateLimited
        }
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        if request.verb != Verb::List {
            return Vec::new();
        }
        if let Some(pass) = self.passes.get_mut(key) {
            pass.pending = pass.pending.saturating_sub(1);
            match response {
                ApiResponse::List { items, .. } => pass.items.extend(items.iter().cloned()),
                _ => pass.failed = true,
            }
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

    fn terminating() -> Object {
        object(
            "apiVersion: v1
kind: Namespace
metadata:
  name: team
  uid: ns-1
  deletionTimestamp: \"2026-01-01T00:01:00Z\"
spec:
  finalizers: [kubernetes]
status:
  phase: Terminating
",
        )
    }

    fn list_of(kind: KindId, items: Vec<Object>) -> ApiResponse {
        ApiResponse::List {
            kind,
            items: items.into_iter().map(Rc::new).collect(),
            resource_version: 9,
        }
    }

    #[test]
    fn a_terminating_namespace_is_listed_then_emptied_then_finalized() {
        let mut nc = NamespaceController::default();
        let (writes, _, requeue) = reconcile(&mut nc, NOW, &[terminating()], "team");
        assert!(writes.iter().all(|w| w.verb == Verb::List));
        assert_eq!(writes.len(), namespaced_kinds().count());
        assert_eq!(requeue, Requeue::After(LIST_POLL));
        let pod = object(
            "apiVersion: v1
kind: Pod
metadata: {name: p, namespace: team}
spec:
  terminationGracePeriodSeconds: 30
  containers: [{name: c, image: nginx}]
",
        );
        for w in &writes {
            let items = if w.kind == KindId::Pod {
                vec![pod.clone()]
            } else {
                Vec::new()
            };
            nc.on_reply("team", w, &list_of(w.kind, items));
        }
        let (writes, _, requeue) = reconcile(&mut nc, NOW, &[terminating()], "team");
        let deletes: Vec<(KindId, Option<String>)> =
            writes.iter().map(|w| (w.kind, w.name.clone())).collect();
        assert_eq!(deletes, [(KindId::Pod, Some("p".to_string()))]);
        // Half the pod's grace period plus a second.
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(16)));
        // The next round finds nothing: the finalizer goes.
        let (writes, _, _) = reconcile(&mut nc, NOW, &[terminating()], "team");
        for w in &writes {
            nc.on_reply("team", w, &list_of(w.kind, Vec::new()));
        }
        let (writes, _, requeue) = reconcile(&mut nc, NOW, &[terminating()], "team");
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].subresource.as_deref(), Some("finalize"));
        let Some(Object::Namespace(n)) = writes[0].body.as_deref() else {
            panic!("a namespace body")
        };
        assert_eq!(
            n.spec.as_ref().and_then(|s| s.finalizers.clone()),
            Some(vec![])
        );
        assert_eq!(requeue, Requeue::Done);
    }
}
