//! The Job controller: runs pods until enough of them succeed, retrying
//! failures with an exponential back-off, and gives up at the back-off
//! limit or the active deadline.
//!
//! Ported from `pkg/controller/job/job_controller.go` (`syncJob`,
//! `manageJob`, `pastBackoffLimitOnFailure`, `pastActiveDeadline`,
//! `trackJobStatusAndRemoveFinalizers`' conditions, `enactJobFinished`) and
//! `backoff_utils.go` (`newBackoffRecord`, `getFinishedTime`,
//! `getRemainingTimeForFailuresCount`). On each sync the controller counts
//! the Job's pods (its controllerRef) by phase, decides whether the Job has
//! finished and otherwise creates or deletes pods to have
//! `min(parallelism, completions - succeeded)` active, then writes the
//! status: `active`, `ready`, `terminating`, `succeeded`, `failed`,
//! `startTime`, `completionTime` and the conditions.
//!
//! - A failed pod is replaced after 10 s, doubling per consecutive failure
//!   since the last success, capped at 6 minutes (the Job docs'
//!   "Pod backoff failure policy").
//! - More failures than `backoffLimit` (default 6), or, with
//!   `restartPolicy: OnFailure`, container restarts of the active pods
//!   adding up to it, fail the Job with reason `BackoffLimitExceeded`;
//!   running longer than `activeDeadlineSeconds` fails it with
//!   `DeadlineExceeded`. As upstream since v1.31, the interim
//!   `FailureTarget` (or `SuccessCriteriaMet`) condition comes first, the
//!   active pods are deleted, and `Failed` (or `Complete`) follows once no
//!   pod is terminating.
//! - `suspend: true` deletes the active pods and sets `Suspended`.
//!
//! Left out: the `batch.kubernetes.io/job-tracking` finalizer and
//! `status.uncountedTerminatedPods` (the counters come from the pods in the
//! cache, never going down, as before v1.26: a finished pod deleted before
//! the controller saw it is not counted); the back-off record is recomputed
//! from the pods' finish times on each sync instead of kept in memory (the
//! same numbers while pods are kept, and it survives a leader change);
//! Indexed completion mode, `podFailurePolicy`, `successPolicy`,
//! `backoffLimitPerIndex`, `managedBy` and `podReplacementPolicy: Failed`;
//! the 1 s batching of pod events.

use super::replicaset::{is_active, is_ready, owned_pods, pod_from_template};
use super::{controllerref, Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::pod::Pod;
use crate::api::time::{to_sim_time, to_time};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use std::collections::BTreeMap;

/// `DefaultJobPodFailureBackOff`.
pub const POD_FAILURE_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// The cap of the back-off (the Job docs: "capped at six minutes").
pub const MAX_POD_FAILURE_BACKOFF: SimDuration = SimDuration::from_secs(360);
/// `burstReplicas`: the most pods created or deleted in one sync.
const BURST: usize = 500;

/// The message of a Job failed by its back-off limit.
pub const BACKOFF_LIMIT_MESSAGE: &str = "Job has reached the specified backoff limit";
/// The message of a Job failed by its active deadline.
pub const DEADLINE_MESSAGE: &str = "Job was active longer than specified deadline";

/// Creations and deletions the controller waits to see (per Job key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Expectations {
    add: i64,
    del: i64,
}

/// The Job controller.
#[derive(Clone, Default)]
pub struct JobController {
    expectations: BTreeMap<String, Expectations>,
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Whether a condition of this type is True.
pub fn has_condition(job: &Job, type_: &str) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// `IsJobFinished`: a `Complete` or `Failed` condition is True.
pub fn is_finished(job: &Job) -> bool {
    has_condition(job, "Complete") || has_condition(job, "Failed")
}

/// When the Job finished (its terminal condition's transition time).
pub fn finish_time(job: &Job) -> Option<SimTime> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(to_sim_time)
}

/// `getFinishedTime`: the last container's finish, else the Ready=False
/// transition, else the deletion time less the grace period, else the
/// creation time.
pub fn pod_finished_time(pod: &Pod) -> SimTime {
    let status = pod.status.clone().unwrap_or_default();
    let statuses = status.container_statuses.clone().unwrap_or_default();
    if !statuses.is_empty() {
        let mut latest: Option<SimTime> = None;
        let mut all = true;
        for cs in &statuses {
            match cs
                .state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| t.finished_at.as_ref())
            {
                Some(t) => {
                    let t = to_sim_time(t);
                    latest = Some(latest.map_or(t, |l| l.max(t)));
                }
                None => all = false,
            }
        }
        if let (true, Some(t)) = (all, latest) {
            return t;
        }
    }
    if let Some(t) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready" && c.status == "False")
        .and_then(|c| c.last_transition_time.as_ref())
    {
        return to_sim_time(t);
    }
    if let Some(t) = &pod.metadata.deletion_timestamp {
        let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
        let at = to_sim_time(t);
        return SimTime(at.as_millis().saturating_sub(grace.max(0) as u64 * 1000));
    }
    pod.metadata
        .creation_timestamp
        .as_ref()
        .map(to_sim_time)
        .unwrap_or(SimTime::ZERO)
}

/// `newBackoffRecord` over every finished pod: the failures since the last
/// success and the time of the last of them.
pub fn backoff_record(pods: &[&Pod]) -> (u32, Option<SimTime>) {
    let mut finished: Vec<(SimTime, bool)> = pods
        .iter()
        .filter_map(|p| match phase(p) {
            "Succeeded" => Some((pod_finished_time(p), true)),
            "Failed" => Some((pod_finished_time(p), false)),
            _ => None,
        })
        .collect();
    finished.sort();
    let mut failures = 0;
    let mut last = None;
    for (t, succeeded) in finished {
        if succeeded {
            failures = 0;
            last = None;
        } else {
            failures += 1;
            last = Some(t);
        }
    }
    (failures, last)
}

/// `getRemainingTimeForFailuresCount`: how long until a replacement may be
/// created.
pub fn remaining_backoff(failures: u32, last: Option<SimTime>, now: SimTime) -> SimDuration {
    let Some(last) = last.filter(|_| failures > 0) else {
        return SimDuration::ZERO;
    };
    let mut delay = POD_FAILURE_BACKOFF;
    for _ in 1..failures {
        delay = SimDuration::from_millis(delay.as_millis().saturating_mul(2));
        if delay >= MAX_POD_FAILURE_BACKOFF {
            delay = MAX_POD_FAILURE_BACKOFF;
            break;
        }
    }
    let elapsed = now.saturating_since(last);
    if delay <= elapsed {
        SimDuration::ZERO
    } else {
        SimDuration::from_millis(delay.as_millis() - elapsed.as_millis())
    }
}

/// `pastBackoffLimitOnFailure`: with `restartPolicy: OnFailure` the
/// container restarts of the running and pending pods count as failures.
fn past_backoff_limit_on_failure(job: &Job, pods: &[&Pod]) -> bool {
    let Some(spec) = &job.spec else {
        return false;
    };
    let policy = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref());
    if policy != Some("OnFailure") {
        return false;
    }
    let limit = spec.backoff_limit.unwrap_or(6);
    let restarts: i32 = pods
        .iter()
        .filter(|p| matches!(phase(p), "Running" | "Pending"))
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .map(|c| c.restart_count)
        .sum();
    if limit == 0 {
        restarts > 0
    } else {
        restarts >= limit
    }
}

fn condition(type_: &str, reason: &str, message: &str, now: SimTime) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        message: (!message.is_empty()).then(|| message.to_string()),
        last_probe_time: Some(to_time(now)),
        last_transition_time: Some(to_time(now)),
    }
}

/// `ensureJobConditionStatus`: adds the condition unless one of its type
/// already has its status.
fn ensure_condition(conditions: &mut Vec<JobCondition>, c: JobCondition) -> bool {
    match conditions.iter_mut().find(|x| x.type_ == c.type_) {
        Some(x) if x.status == c.status => false,
        Some(x) => {
            *x = c;
            true
        }
        None => {
            conditions.push(c);
            true
        }
    }
}

impl JobController {
    fn owner_key(pod: &Object) -> Option<String> {
        let r = pod.controller_ref()?;
        (r.kind == "Job").then(|| format!("{}/{}", pod.namespace().unwrap_or_default(), r.name))
    }

    fn expect(&mut self, key: &str) -> &mut Expectations {
        self.expectations.entry(key.to_string()).or_default()
    }

    /// Deletes pods (`deleteJobPods`), recording `SuccessfulDelete` as
    /// the pod control does.
    fn delete_pods(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str, job: &Object, pods: &[&Pod]) {
        self.expect(key).del += pods.len() as i64;
        let ns = job.namespace().unwrap_or("default");
        for p in pods {
            let name = p.metadata.name.clone().unwrap_or_default();
            ctx.write(
                ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
                    .in_namespace(ns)
                    .named(name.clone()),
            );
            ctx.event(
                job,
                "Normal",
                "SuccessfulDelete",
                format!("Deleted pod: {name}"),
            );
        }
    }
}

impl Controller for JobController {
    fn name(&self) -> &'static str {
        "job-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Job, KindId::Pod]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Job, n) => n.key().into_iter().collect(),
            (KindId::Pod, Notification::Add(pod)) => {
                let key = Self::owner_key(pod);
                if let Some(k) = &key {
                    if pod.deletion_timestamp().is_none() {
                        self.expect(k).add -= 1;
                    }
                }
                // `addPod`: an orphan wakes every Job whose selector
                // matches it (`getPodJobs`), without observing a creation.
                if key.is_none() {
                    return controllerref::adopter_keys(caches, KindId::Job, n);
                }
                key.into_iter().collect()
            }
            (KindId::Pod, Notification::Update { old, new }) => {
                let mut keys: Vec<String> = Self::owner_key(new).into_iter().collect();
                // `updatePod`: an orphan whose labels changed, or that lost
                // its controllerRef, may now be some Job's.
                for k in controllerref::adopter_keys(caches, KindId::Job, n) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                if old.deletion_timestamp().is_none() && new.deletion_timestamp().is_some() {
                    if let Some(k) = keys.first().cloned() {
                        self.expect(&k).del -= 1;
                    }
                }
                if let Some(k) = Self::owner_key(old) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                keys
            }
            (KindId::Pod, Notification::Delete { object, .. }) => {
                let key = Self::owner_key(object);
                if let Some(k) = &key {
                    if object.deletion_timestamp().is_none() {
                        self.expect(k).del -= 1;
                    }
                }
                key.into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::Job, key).cloned() else {
            self.expectations.remove(key);
            return Requeue::Done;
        };
        let Object::Job(job) = &*object else {
            return Requeue::Done;
        };
        if is_finished(job) || object.deletion_timestamp().is_some() {
            return Requeue::Done;
        }
        let Some(spec) = job.spec.clone() else {
            return Requeue::Done;
        };
        let now = ctx.now;
        let ns = object.namespace().unwrap_or("default").to_string();
        let uid = object.uid().unwrap_or_default().to_string();
        // `getPodsForJob`: every pod of the namespace, claimed with the
        // Job's selector (`ClaimPods`), so a Job with `manualSelector`
        // adopts the orphans its selector matches and releases pods it no
        // longer selects.
        // (The API server always sets a selector; a Job without one, as
        // in unit tests, keeps the pods its controllerRef names.)
        let owned = match spec.selector.as_ref() {
            Some(selector) => {
                let candidates = ctx.caches.list_in(KindId::Pod, &ns);
                controllerref::claim_all(ctx, &object, Some(selector), candidates)
            }
            None => owned_pods(ctx.caches, &ns, &uid),
        };
        let pods: Vec<&Pod> = owned
            .iter()
            .filter_map(|p| match &**p {
                Object::Pod(pod) => Some(&**pod),
                _ => None,
            })
            .collect();
        let mut active: Vec<&Pod> = pods.iter().copied().filter(|p| is_active(p)).collect();
        let terminating = pods
            .iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_some()
                    && !matches!(phase(p), "Succeeded" | "Failed")
            })
            .count() as i32;
        let old = job.status.clone().unwrap_or_default();
        let succeeded = (pods.iter().filter(|p| phase(p) == "Succeeded").count() as i32)
            .max(old.succeeded.unwrap_or(0));
        let mut failed = (pods.iter().filter(|p| phase(p) == "Failed").count() as i32)
            .max(old.failed.unwrap_or(0));
        let suspended = spec.suspend == Some(true);
        let mut status = JobStatus {
            uncounted_terminated_pods: Some(UncountedTerminatedPods::default()),
            ..old.clone()
        };
        let mut conditions = old.conditions.clone().unwrap_or_default();
        if status.start_time.is_none() && !suspended {
            status.start_time = Some(to_time(now));
        }
        let start = status.start_time.as_ref().map(to_sim_time);
        let mut requeue = Requeue::Done;
        let satisfied = self
            .expectations
            .get(key)
            .is_none_or(|e| e.add <= 0 && e.del <= 0);

        // The interim condition already written, or a new finish.
        let mut failure: Option<(String, String)> = conditions
            .iter()
            .find(|c| c.type_ == "FailureTarget" && c.status == "True")
            .map(|c| {
                (
                    c.reason.clone().unwrap_or_default(),
                    c.message.clone().unwrap_or_default(),
                )
            });
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        if failure.is_none() {
            if failed > backoff_limit || past_backoff_limit_on_failure(job, &pods) {
                failure = Some(("BackoffLimitExceeded".into(), BACKOFF_LIMIT_MESSAGE.into()));
            } else if let (Some(deadline), Some(start)) = (spec.active_deadline_seconds, start) {
                // `pastActiveDeadline`.
                let end = start + SimDuration::from_secs(deadline.max(0) as u64);
                if !suspended && now >= end {
                    failure = Some(("DeadlineExceeded".into(), DEADLINE_MESSAGE.into()));
                } else if !suspended {
                    requeue = Requeue::After(end.saturating_since(now));
                }
            }
        }
        let completions = spec.completions;
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let complete = failure.is_none()
            && (has_condition(job, "SuccessCriteriaMet")
                || match completions {
                    // A work queue: done once one pod succeeded and none runs.
                    None => succeeded > 0 && active.is_empty(),
                    Some(c) => succeeded >= c,
                });

        let mut finished_event = None;
        if let Some((reason, message)) = &failure {
            ensure_condition(
                &mut conditions,
                condition("FailureTarget", reason, message, now),
            );
            if !active.is_empty() {
                // Every pod still running counts as failed.
                failed += active.len() as i32;
                if satisfied {
                    let pods = active.clone();
                    self.delete_pods(ctx, key, &object, &pods);
                }
                active.clear();
            } else if terminating == 0 {
                ensure_condition(&mut conditions, condition("Failed", reason, message, now));
                finished_event = Some(("Warning", reason.clone(), message.clone()));
            }
        } else if complete {
            ensure_condition(
                &mut conditions,
                condition("SuccessCriteriaMet", "", "", now),
            );
            if !active.is_empty() {
                if satisfied {
                    let pods = active.clone();
                    self.delete_pods(ctx, key, &object, &pods);
                }
                active.clear();
            } else if terminating == 0 {
                ensure_condition(&mut conditions, condition("Complete", "", "", now));
                status.completion_time = Some(to_time(now));
                finished_event = Some(("Normal", "Completed".into(), "Job completed".into()));
            }
        } else if suspended {
            // The Suspended condition; suspending deletes the active pods.
            if ensure_condition(
                &mut conditions,
                condition("Suspended", "JobSuspended", "Job suspended", now),
            ) {
                ctx.event(&object, "Normal", "Suspended", "Job suspended".into());
            }
            if !active.is_empty() && satisfied {
                let pods = active.clone();
                self.delete_pods(ctx, key, &object, &pods);
                active.clear();
            }
        } else {
            if let Some(c) = conditions
                .iter_mut()
                .find(|c| c.type_ == "Suspended" && c.status == "True")
            {
                // Resumed: the deadline counts from now.
                c.status = "False".into();
                c.reason = Some("JobResumed".into());
                c.message = Some("Job resumed".into());
                c.last_transition_time = Some(to_time(now));
                status.start_time = Some(to_time(now));
                ctx.event(&object, "Normal", "Resumed", "Job resumed".into());
            }
            // `manageJob`.
            let want = match completions {
                None if succeeded > 0 => active.len() as i32,
                None => parallelism,
                Some(c) => (c - succeeded).clamp(0, parallelism),
            } as usize;
            if satisfied && active.len() > want {
                // Delete the surplus: not ready and newest first.
                let mut ranked = active.clone();
                ranked.sort_by_key(|p| {
                    (
                        is_ready(p),
                        std::cmp::Reverse(
                            p.metadata
                                .creation_timestamp
                                .as_ref()
                                .map(to_sim_time)
                                .unwrap_or(SimTime::ZERO),
                        ),
                    )
                });
                let surplus: Vec<&Pod> = ranked.into_iter().take(active.len() - want).collect();
                self.delete_pods(ctx, key, &object, &surplus);
                let names: Vec<String> = surplus
                    .iter()
                    .filter_map(|p| p.metadata.name.clone())
                    .collect();
                active.retain(|p| {
                    !names.contains(p.metadata.name.as_ref().unwrap_or(&String::new()))
                });
            } else if satisfied && active.len() < want {
                let (failures, last) = backoff_record(&pods);
                let wait = remaining_backoff(failures, last, now);
                if wait > SimDuration::ZERO {
                    requeue = Requeue::After(wait);
                } else {
                    let n = (want - active.len()).min(BURST);
                    self.expect(key).add = n as i64;
                    for _ in 0..n {
                        let pod = pod_from_template(
                            &spec.template,
                            &object,
                            format!("{}-", object.name()),
                        );
                        ctx.write(
                            ApiRequest::new(Verb::Create, KindId::Pod, Credential::None)
                                .in_namespace(&ns)
                                .with_body(Object::Pod(Box::new(pod))),
                        );
                    }
                }
            }
        }

        status.active = Some(active.len() as i32).filter(|n| *n > 0);
        status.ready = Some(active.iter().filter(|p| is_ready(p)).count() as i32);
        status.terminating = Some(terminating);
        status.succeeded = Some(succeeded).filter(|n| *n > 0);
        status.failed = Some(failed).filter(|n| *n > 0);
        status.conditions = (!conditions.is_empty()).then_some(conditions);
        if job.status.as_ref() != Some(&status) {
            let mut next = job.clone();
            next.metadata.resource_version = None;
            next.status = Some(status);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::Job, Credential::None)
                    .in_namespace(&ns)
                    .named(object.name())
                    .with_subresource("status")
                    .with_body(Object::Job(next)),
            );
        }
        if let Some((type_, reason, message)) = finished_event {
            ctx.event(&object, type_, &reason, message);
            return Requeue::Done;
        }
        if failure.is_some() || complete {
            // Look again once the deleted pods are gone.
            return Requeue::After(SimDuration::from_secs(1));
        }
        requeue
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        let reply = super::pod_reply(request, response);
        if reply.create_failed {
            self.expect(key).add -= 1;
        }
        if reply.delete_failed {
            self.expect(key).del -= 1;
        }
        reply.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn job(extra: &str) -> Object {
        let mut o = object(&format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\n  namespace: default\n  uid: job-uid\nspec:\n{extra}  template:\n    spec:\n      containers:\n      - name: pi\n        image: perl:5.34.0\n      restartPolicy: Never\n"
        ));
        o.meta_mut().creation_timestamp = Some(to_time(SimTime::ZERO));
        o
    }

    fn pod(name: &str, phase: &str, finished_at: Option<u64>) -> Object {
        let finished = finished_at
            .map(|s| {
                format!(
                    "  containerStatuses:\n  - name: pi\n    image: perl\n    imageID: x\n    ready: false\n    restartCount: 0\n    state:\n      terminated:\n        exitCode: 1\n        finishedAt: \"2026-01-01T00:{:02}:{:02}Z\"\n",
                    s / 60,
                    s % 60
                )
            })
            .unwrap_or_default();
        object(&format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  creationTimestamp: \"2026-01-01T00:00:00Z\"\n  ownerReferences:\n  - apiVersion: batch/v1\n    kind: Job\n    name: pi\n    uid: job-uid\n    controller: true\nspec:\n  containers:\n  - name: pi\n    image: perl\nstatus:\n  phase: {phase}\n{finished}"
        ))
    }

    #[test]
    fn a_new_job_creates_one_pod_and_records_its_start_time() {
        let mut c = JobController::default();
        let (writes, _, requeue) = reconcile(&mut c, SimTime(5_000), &[job("")], "default/pi");
        assert_eq!(requeue, Requeue::Done);
        let creates: Vec<_> = writes.iter().filter(|w| w.verb == Verb::Create).collect();
        assert_eq!(creates.len(), 1);
        let body = creates[0]
            .body
            .as_deref()
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(body["metadata"]["generateName"], "pi-");
        assert_eq!(body["metadata"]["ownerReferences"][0]["kind"], "Job");
        let status = writes
            .iter()
            .find(|w| w.subresource.as_deref() == Some("status"))
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(status["status"]["startTime"], "2026-01-01T00:00:05Z");
    }

    #[test]
    fn a_failed_pod_is_replaced_after_ten_seconds_then_twenty() {
        let mut c = JobController::default();
        let objects = [job(""), pod("pi-a", "Failed", Some(30))];
        let (writes, _, requeue) = reconcile(&mut c, SimTime(32_000), &objects, "default/pi");
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(8)));
        assert!(writes.iter().all(|w| w.verb != Verb::Create));
        let (writes, _, _) = reconcile(&mut c, SimTime(40_000), &objects, "default/pi");
        assert_eq!(writes.iter().filter(|w| w.verb == Verb::Create).count(), 1);
        let objects = [
            job(""),
            pod("pi-a", "Failed", Some(30)),
            pod("pi-b", "Failed", Some(50)),
        ];
        let mut c = JobController::default();
        let (_, _, requeue) = reconcile(&mut c, SimTime(50_000), &objects, "default/pi");
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(20)));
    }

    #[test]
    fn the_back_off_doubles_and_stops_at_six_minutes() {
        let t = Some(SimTime::ZERO);
        assert_eq!(remaining_backoff(0, t, SimTime::ZERO), SimDuration::ZERO);
        assert_eq!(
            remaining_backoff(1, t, SimTime::ZERO),
            SimDuration::from_secs(10)
        );
        assert_eq!(
            remaining_backoff(3, t, SimTime::ZERO),
            SimDuration::from_secs(40)
        );
        assert_eq!(
            remaining_backoff(6, t, SimTime::ZERO),
            SimDuration::from_secs(320)
        );
        assert_eq!(
            remaining_backoff(7, t, SimTime::ZERO),
            SimDuration::from_secs(360)
        );
        assert_eq!(
            remaining_backoff(30, t, SimTime::ZERO),
            SimDuration::from_secs(360)
        );
    }

    #[test]
    fn more_failures_than_the_backoff_limit_fail_the_job() {
        let mut c = JobController::default();
        let mut objects = vec![job("  backoffLimit: 1\n")];
        objects.push(pod("pi-a", "Failed", Some(10)));
        objects.push(pod("pi-b", "Failed", Some(30)));
        let (writes, events, requeue) = reconcile(&mut c, SimTime(31_000), &objects, "default/pi");
        assert_eq!(requeue, Requeue::Done);
        let status = writes
            .iter()
            .find_map(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        let conds = &status["status"]["conditions"];
        assert_eq!(conds[0]["type"], "FailureTarget");
        assert_eq!(conds[1]["type"], "Failed");
        assert_eq!(conds[1]["reason"], "BackoffLimitExceeded");
        assert_eq!(conds[1]["message"], BACKOFF_LIMIT_MESSAGE);
        assert_eq!(status["status"]["failed"], 2);
        assert_eq!(
            events,
            vec![(
                "BackoffLimitExceeded".to_string(),
                BACKOFF_LIMIT_MESSAGE.to_string()
            )]
        );
    }

    #[test]
    fn a_job_past_its_deadline_deletes_its_running_pod_and_fails() {
        let mut c = JobController::default();
        let mut j = job("  activeDeadlineSeconds: 30\n");
        if let Object::Job(job) = &mut j {
            job.status = Some(JobStatus {
                start_time: Some(to_time(SimTime::ZERO)),
                ..Default::default()
            });
        }
        let objects = [j, pod("pi-a", "Running", None)];
        let (_, _, requeue) = reconcile(&mut c, SimTime(10_000), &objects, "default/pi");
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(20)));
        let (writes, _, _) = reconcile(&mut c, SimTime(30_000), &objects, "default/pi");
        assert!(writes.iter().any(|w| w.verb == Verb::Delete));
        let status = writes
            .iter()
            .find(|w| w.verb == Verb::Update)
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(status["status"]["conditions"][0]["type"], "FailureTarget");
        assert_eq!(
            status["status"]["conditions"][0]["reason"],
            "DeadlineExceeded"
        );
    }

    #[test]
    fn a_succeeded_pod_completes_the_job() {
        let mut c = JobController::default();
        let objects = [job(""), pod("pi-a", "Succeeded", Some(12))];
        let (writes, events, _) = reconcile(&mut c, SimTime(13_000), &objects, "default/pi");
        let status = writes
            .iter()
            .find_map(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(status["status"]["succeeded"], 1);
        assert_eq!(status["status"]["conditions"][1]["type"], "Complete");
        assert_eq!(status["status"]["completionTime"], "2026-01-01T00:00:13Z");
        assert_eq!(
            events,
            vec![("Completed".to_string(), "Job completed".to_string())]
        );
    }
}
