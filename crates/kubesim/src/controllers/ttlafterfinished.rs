//! The TTL-after-finished controller: deletes a finished Job once its
//! `ttlSecondsAfterFinished` has passed.
//!
//! Ported from `pkg/controller/ttlafterfinished/ttlafterfinished_controller.go`
//! (`processJob`, `processTTL`, `timeLeft`, `jobFinishTime`). A Job with
//! the field set and a `Complete` or `Failed` condition expires at the
//! condition's transition time plus the TTL; the controller looks again
//! then and deletes the Job with foreground propagation, so its pods go
//! first (the garbage collector does that part).
//!
//! Left out: the re-read of the Job straight from the API server before
//! deleting (the cache is trusted) and the uid precondition on the delete.

use super::job::{finish_time, is_finished};
use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Propagation, Verb};
use crate::client::informer::Notification;
use crate::world::SimDuration;

/// The TTL-after-finished controller.
#[derive(Clone, Default)]
pub struct TtlAfterFinishedController;

fn needs_cleanup(o: &Object) -> bool {
    match o {
        Object::Job(j) => {
            o.deletion_timestamp().is_none()
                && j.spec
                    .as_ref()
                    .is_some_and(|s| s.ttl_seconds_after_finished.is_some())
                && is_finished(j)
        }
        _ => false,
    }
}

impl Controller for TtlAfterFinishedController {
    fn name(&self) -> &'static str {
        "ttl-after-finished-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Job]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, n: &Notification) -> Vec<String> {
        match n {
            Notification::Add(o) | Notification::Update { new: o, .. } if needs_cleanup(o) => {
                vec![o.key()]
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::Job, key).cloned() else {
            return Requeue::Done;
        };
        let Object::Job(job) = &*object else {
            return Requeue::Done;
        };
        if !needs_cleanup(&object) {
            return Requeue::Done;
        }
        let ttl = job
            .spec
            .as_ref()
            .and_then(|s| s.ttl_seconds_after_finished)
            .unwrap_or(0)
            .max(0);
        let Some(finished) = finish_time(job) else {
            return Requeue::Done;
        };
        let expire = finished + SimDuration::from_secs(ttl as u64);
        if ctx.now < expire {
            return Requeue::After(expire.saturating_since(ctx.now));
        }
        let mut req = ApiRequest::new(Verb::Delete, KindId::Job, Credential::None)
            .in_namespace(object.namespace().unwrap_or("default"))
            .named(object.name());
        req.options.propagation = Some(Propagation::Foreground);
        ctx.write(req);
        Requeue::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::time::to_time;
    use crate::controllers::testing::{object, reconcile};
    use crate::world::SimTime;

    #[test]
    fn a_finished_job_is_deleted_when_its_ttl_expires() {
        let mut job = object("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\n  namespace: default\nspec:\n  ttlSecondsAfterFinished: 100\n  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl\n      restartPolicy: Never\n");
        if let Object::Job(j) = &mut job {
            j.status = Some(k8s_openapi::api::batch::v1::JobStatus {
                conditions: Some(vec![k8s_openapi::api::batch::v1::JobCondition {
                    type_: "Complete".into(),
                    status: "True".into(),
                    last_transition_time: Some(to_time(SimTime(20_000))),
                    ..Default::default()
                }]),
                ..Default::default()
            });
        }
        let mut c = TtlAfterFinishedController;
        let (writes, _, requeue) = reconcile(&mut c, SimTime(60_000), &[job.clone()], "default/pi");
        assert!(writes.is_empty());
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(60)));
        let (writes, _, _) = reconcile(&mut c, SimTime(120_000), &[job], "default/pi");
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].verb, Verb::Delete);
        assert_eq!(writes[0].options.propagation, Some(Propagation::Foreground));
    }
}
