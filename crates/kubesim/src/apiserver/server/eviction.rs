//! The eviction subresource: `POST pods/<name>/eviction` (a policy/v1
//! `Eviction`), a delete that respects PodDisruptionBudgets.
//!
//! Ported from `pkg/registry/core/pod/storage/eviction.go`
//! (`EvictionREST.Create`, `canIgnorePDB`, `getPodDisruptionBudgets`,
//! `checkAndDecrement`, `addConditionAndDeletePod`,
//! `createTooManyRequestsError`). The server reads the pod; a pod that is
//! Pending, Succeeded, Failed or already being deleted is deleted at once
//! (it disrupts nothing). Otherwise it lists the PodDisruptionBudgets of the
//! namespace whose selector selects the pod: more than one is a 500, none
//! means delete. With one, a pod that is not Ready is deleted without
//! touching the budget when the budget is met (`unhealthyPodEvictionPolicy`
//! `IfHealthyBudget`, the default) or when the policy is `AlwaysAllow`.
//! Else the budget must allow a disruption: its status must have observed
//! its generation (else 429 "... is still being processed by the server"),
//! and `disruptionsAllowed` must be above zero (else 429 "Cannot evict pod
//! as it would violate the pod's disruption budget." with the cause "The
//! disruption budget web needs 2 healthy pods and has 2 currently"). The
//! server then decrements `disruptionsAllowed`, records the pod in
//! `disruptedPods` (so the disruption controller does not count it while
//! it goes) and writes the budget's status with its resourceVersion as a
//! precondition, re-reading and checking again on a conflict. Finally the
//! pod gets the `DisruptionTarget` condition (reason
//! `EvictionByEvictionAPI`) and is deleted with the eviction's grace period.
//!
//! Each step is an operation of the server's own (read or written through
//! etcd like any request, as upstream's store and loopback client do).
//!
//! Left out: `deleteOptions.preconditions` (uid, resourceVersion) and the
//! resourceVersion precondition upstream puts on the delete of an unready
//! pod, the `metav1.Status{Success}` answer (the deleted pod is returned),
//! the 2000-entry `disruptedPods` limit, and `retryAfterSeconds`.

use super::{ApiServer, Ctx, Output};
use crate::api::pod::Pod;
use crate::api::time::to_time;
use crate::api::{ApiError, FieldError, KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::request::{ApiRequest, ApiResponse, Verb};
use k8s_openapi::api::core::v1::PodCondition;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use std::collections::BTreeMap;

/// The message of a refused eviction.
pub const VIOLATES_BUDGET: &str =
    "Cannot evict pod as it would violate the pod's disruption budget.";
/// How often a conflict on the budget's status is retried
/// (`EvictionsRetry.Steps`).
const RETRIES: u32 = 20;

/// Whether a request is an eviction.
pub(super) fn is_eviction(r: &ApiRequest) -> bool {
    r.verb == Verb::Create && r.kind == KindId::Pod && r.subresource.as_deref() == Some("eviction")
}

/// Where an eviction is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    GetPod,
    ListBudgets,
    GetBudget,
    UpdateBudget,
    Condition,
    Delete,
}

#[derive(Clone, Debug)]
struct Eviction {
    step: Step,
    namespace: String,
    name: String,
    pod: Option<Pod>,
    budget: Option<PodDisruptionBudget>,
    conflicts: u32,
    dry_run: bool,
    grace: Option<i64>,
}

/// The evictions an instance is serving.
#[derive(Clone, Default, Debug)]
pub(super) struct Evictions {
    by_op: BTreeMap<u64, Eviction>,
    /// Operations of the server's own, by the eviction they serve.
    children: BTreeMap<u64, u64>,
    /// Answers to those operations, to act on.
    answered: Vec<(u64, ApiResponse)>,
}

impl Evictions {
    /// Takes the answer of an operation if it is an eviction's step;
    /// gives it back otherwise.
    pub(super) fn take(&mut self, op_id: u64, response: ApiResponse) -> Option<ApiResponse> {
        match self.children.remove(&op_id) {
            Some(parent) => {
                self.answered.push((parent, response));
                None
            }
            None => Some(response),
        }
    }
}

fn is_pod_ready(pod: &Pod) -> bool {
    crate::controllers::replicaset::is_ready(pod)
}

/// `canIgnorePDB`.
fn can_ignore_budget(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(
        phase,
        Some("Succeeded") | Some("Failed") | Some("Pending") | None
    ) || pod.metadata.deletion_timestamp.is_some()
}

/// `createTooManyRequestsError`.
fn still_processing(name: &str) -> ApiError {
    ApiError::too_many_requests(
        VIOLATES_BUDGET,
        Some(FieldError::disruption_budget(format!(
            "The disruption budget {name} is still being processed by the server."
        ))),
    )
}

/// `checkAndDecrement`: the budget with one disruption fewer, or why not.
fn check_and_decrement(
    pod_name: &str,
    mut pdb: PodDisruptionBudget,
    now: crate::world::SimTime,
) -> Result<PodDisruptionBudget, ApiError> {
    let name = pdb.metadata.name.clone().unwrap_or_default();
    let generation = pdb.metadata.generation.unwrap_or(0);
    let status = pdb.status.get_or_insert_with(Default::default);
    if status.observed_generation.unwrap_or(0) < generation {
        return Err(still_processing(&name));
    }
    let allowed = status.disruptions_allowed.unwrap_or(0);
    if allowed < 0 {
        return Err(ApiError::forbidden(
            "poddisruptionbudget.policy",
            &name,
            "pdb disruptions allowed is negative",
        ));
    }
    if allowed == 0 {
        return Err(ApiError::too_many_requests(
            VIOLATES_BUDGET,
            Some(FieldError::disruption_budget(format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                status.desired_healthy.unwrap_or(0),
                status.current_healthy.unwrap_or(0)
            ))),
        ));
    }
    status.disruptions_allowed = Some(allowed - 1);
    if allowed == 1 {
        crate::controllers::disruption::update_disruption_allowed_condition(status, now);
    }
    status
        .disrupted_pods
        .get_or_insert_with(BTreeMap::new)
        .insert(pod_name.to_string(), to_time(now));
    Ok(pdb)
}

impl ApiServer {
    /// Starts serving an eviction (the operation `op_id`).
    pub(super) fn start_eviction(&mut self, ctx: &mut Ctx<'_>, op_id: u64, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let r = &op.request;
        let eviction = Eviction {
            step: Step::GetPod,
            namespace: r.namespace.clone().unwrap_or_else(|| "default".into()),
            name: r.name.clone().unwrap_or_default(),
            pod: None,
            budget: None,
            conflicts: 0,
            dry_run: r.options.dry_run,
            grace: r.options.grace_period_seconds,
        };
        if eviction.name.is_empty() {
            return self.finish(
                op_id,
                ApiResponse::Error(ApiError::bad_request(
                    "the request needs the name of the object",
                )),
                out,
            );
        }
        let get = ApiRequest::new(Verb::Get, KindId::Pod, Credential::None)
            .in_namespace(&eviction.namespace)
            .named(&eviction.name);
        self.evictions.by_op.insert(op_id, eviction);
        self.eviction_step(ctx, op_id, get, out);
    }

    /// Runs one step of eviction `parent` as an operation of the server's own.
    fn eviction_step(
        &mut self,
        ctx: &mut Ctx<'_>,
        parent: u64,
        request: ApiRequest,
        out: &mut Vec<Output>,
    ) {
        let child = self.internal(request);
        self.evictions.children.insert(child, parent);
        self.start(ctx, child, out);
    }

    /// Acts on the answers to the evictions' steps.
    pub(super) fn run_evictions(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        // A step's answer may come at once and start the next step.
        for _ in 0..64 {
            let answered = std::mem::take(&mut self.evictions.answered);
            if answered.is_empty() {
                return;
            }
            for (parent, response) in answered {
                self.continue_eviction(ctx, parent, response, out);
            }
        }
    }

    fn fail_eviction(&mut self, op_id: u64, e: ApiError, out: &mut Vec<Output>) {
        self.evictions.by_op.remove(&op_id);
        self.finish(op_id, ApiResponse::Error(e), out);
    }

    fn continue_eviction(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        response: ApiResponse,
        out: &mut Vec<Output>,
    ) {
        let Some(mut e) = self.evictions.by_op.get(&op_id).cloned() else {
            return;
        };
        if let ApiResponse::Error(err) = &response {
            // A conflict on the budget's status: read it again and decide
            // afresh (`retry.RetryOnConflict(EvictionsRetry, ...)`).
            if e.step == Step::UpdateBudget
                && err.reason == crate::api::Reason::Conflict
                && e.conflicts < RETRIES
            {
                e.conflicts += 1;
                e.step = Step::GetBudget;
                let name = e
                    .budget
                    .as_ref()
                    .and_then(|b| b.metadata.name.clone())
                    .unwrap_or_default();
                let get = ApiRequest::new(Verb::Get, KindId::PodDisruptionBudget, Credential::None)
                    .in_namespace(&e.namespace)
                    .named(name);
                self.evictions.by_op.insert(op_id, e);
                return self.eviction_step(ctx, op_id, get, out);
            }
            let err = if e.step == Step::UpdateBudget && err.reason == crate::api::Reason::Conflict
            {
                ApiError::timeout(&format!(
                    "couldn't update PodDisruptionBudget {:?} due to conflicts",
                    e.budget
                        .as_ref()
                        .and_then(|b| b.metadata.name.clone())
                        .unwrap_or_default()
                ))
            } else {
                err.clone()
            };
            return self.fail_eviction(op_id, err, out);
        }
        match e.step {
            Step::GetPod => {
                let pod = match &response {
                    ApiResponse::Object(o) => match &**o {
                        Object::Pod(p) => p.clone(),
                        _ => {
                            return self.fail_eviction(op_id, ApiError::internal("not a pod"), out)
                        }
                    },
                    _ => return self.fail_eviction(op_id, ApiError::internal("no pod"), out),
                };
                let ignore = can_ignore_budget(&pod);
                e.pod = Some(*pod);
                if ignore {
                    // Evicting a pod that disrupts nothing is deleting it.
                    return self.eviction_condition(ctx, op_id, e, out);
                }
                e.step = Step::ListBudgets;
                let list =
                    ApiRequest::new(Verb::List, KindId::PodDisruptionBudget, Credential::None)
                        .in_namespace(&e.namespace);
                self.evictions.by_op.insert(op_id, e);
                self.eviction_step(ctx, op_id, list, out);
            }
            Step::ListBudgets => {
                let items = match response {
                    ApiResponse::List { items, .. } => items,
                    _ => Vec::new(),
                };
                let labels = e
                    .pod
                    .as_ref()
                    .and_then(|p| p.metadata.labels.clone())
                    .unwrap_or_default();
                // `getPodDisruptionBudgets`: a nil selector selects nothing,
                // an empty one everything (policy/v1).
                let budgets: Vec<PodDisruptionBudget> = items
                    .iter()
                    .filter_map(|o| match &**o {
                        Object::PodDisruptionBudget(b) => Some((**b).clone()),
                        _ => None,
                    })
                    .filter(|b| {
                        b.spec
                            .as_ref()
                            .and_then(|s| s.selector.as_ref())
                            .is_some_and(|sel| {
                                crate::api::validation::selector_matches(sel, (&labels).into())
                            })
                    })
                    .collect();
                match budgets.as_slice() {
                    [] => self.eviction_condition(ctx, op_id, e, out),
                    [one] => {
                        let one = one.clone();
                        let ready = e.pod.as_ref().is_some_and(is_pod_ready);
                        if !ready {
                            let policy = one
                                .spec
                                .as_ref()
                                .and_then(|s| s.unhealthy_pod_eviction_policy.clone());
                            let status = one.status.clone().unwrap_or_default();
                            let (current, desired) = (
                                status.current_healthy.unwrap_or(0),
                                status.desired_healthy.unwrap_or(0),
                            );
                            if policy.as_deref() == Some("AlwaysAllow")
                                || (current >= desired && desired > 0)
                            {
                                // An unready pod, and the application is not
                                // disrupted: delete it without counting it.
                                e.budget = Some(one);
                                return self.eviction_condition(ctx, op_id, e, out);
                            }
                        }
                        self.eviction_check(ctx, op_id, e, one, out)
                    }
                    _ => self.fail_eviction(
                        op_id,
                        ApiError::internal_plain(
                            "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                        ),
                        out,
                    ),
                }
            }
            Step::GetBudget => match response {
                ApiResponse::Object(o) => match &*o {
                    Object::PodDisruptionBudget(b) => {
                        let b = b.clone();
                        self.eviction_check(ctx, op_id, e, *b, out)
                    }
                    _ => self.fail_eviction(op_id, ApiError::internal("not a budget"), out),
                },
                _ => self.fail_eviction(op_id, ApiError::internal("no budget"), out),
            },
            Step::UpdateBudget => self.eviction_condition(ctx, op_id, e, out),
            Step::Condition => self.eviction_delete(ctx, op_id, e, out),
            Step::Delete => {
                self.evictions.by_op.remove(&op_id);
                self.finish(op_id, response, out);
            }
        }
    }

    /// `checkAndDecrement`, then the budget's status write.
    fn eviction_check(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        mut e: Eviction,
        budget: PodDisruptionBudget,
        out: &mut Vec<Output>,
    ) {
        let next = match check_and_decrement(&e.name, budget, ctx.now) {
            Ok(b) => b,
            Err(err) => return self.fail_eviction(op_id, err, out),
        };
        e.budget = Some(next.clone());
        if e.dry_run {
            return self.eviction_condition(ctx, op_id, e, out);
        }
        e.step = Step::UpdateBudget;
        let name = next.metadata.name.clone().unwrap_or_default();
        let update = ApiRequest::new(Verb::Update, KindId::PodDisruptionBudget, Credential::None)
            .in_namespace(&e.namespace)
            .named(name)
            .with_subresource("status")
            .with_body(Object::PodDisruptionBudget(Box::new(next)));
        self.evictions.by_op.insert(op_id, e);
        self.eviction_step(ctx, op_id, update, out);
    }

    /// `addConditionAndDeletePod`, first half: the `DisruptionTarget`
    /// condition (skipped on a dry run).
    fn eviction_condition(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        mut e: Eviction,
        out: &mut Vec<Output>,
    ) {
        let Some(mut pod) = e.pod.clone() else {
            return self.fail_eviction(op_id, ApiError::internal("no pod"), out);
        };
        if e.dry_run {
            return self.eviction_delete(ctx, op_id, e, out);
        }
        pod.metadata.resource_version = None;
        let status = pod.status.get_or_insert_with(Default::default);
        let conditions = status.conditions.get_or_insert_with(Vec::new);
        conditions.retain(|c| c.type_ != "DisruptionTarget");
        conditions.push(PodCondition {
            type_: "DisruptionTarget".into(),
            status: "True".into(),
            reason: Some("EvictionByEvictionAPI".into()),
            message: Some("Eviction API: evicting".into()),
            last_transition_time: Some(to_time(ctx.now)),
            ..Default::default()
        });
        e.step = Step::Condition;
        let update = ApiRequest::new(Verb::Update, KindId::Pod, Credential::None)
            .in_namespace(&e.namespace)
            .named(&e.name)
            .with_subresource("status")
            .with_body(Object::Pod(Box::new(pod)));
        self.evictions.by_op.insert(op_id, e);
        self.eviction_step(ctx, op_id, update, out);
    }

    /// `addConditionAndDeletePod`, second half: the delete, with the
    /// eviction's grace period.
    fn eviction_delete(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        mut e: Eviction,
        out: &mut Vec<Output>,
    ) {
        e.step = Step::Delete;
        let mut delete = ApiRequest::new(Verb::Delete, KindId::Pod, Credential::None)
            .in_namespace(&e.namespace)
            .named(&e.name);
        delete.options.grace_period_seconds = e.grace;
        delete.options.dry_run = e.dry_run;
        self.evictions.by_op.insert(op_id, e);
        self.eviction_step(ctx, op_id, delete, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimTime;
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus;

    fn budget(generation: i64, observed: i64, allowed: i32) -> PodDisruptionBudget {
        PodDisruptionBudget {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("web".into()),
                generation: Some(generation),
                ..Default::default()
            },
            spec: None,
            status: Some(PodDisruptionBudgetStatus {
                observed_generation: Some(observed),
                disruptions_allowed: Some(allowed),
                current_healthy: Some(2),
                desired_healthy: Some(2),
                expected_pods: Some(3),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_budget_with_no_disruption_left_refuses_with_429_and_the_upstream_message() {
        let e = check_and_decrement("web-1", budget(1, 1, 0), SimTime::ZERO).unwrap_err();
        assert_eq!(e.code(), 429);
        assert_eq!(
            e.to_kubectl(),
            "Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget."
        );
        assert_eq!(
            e.to_status()["details"]["causes"][0]["message"],
            "The disruption budget web needs 2 healthy pods and has 2 currently"
        );
        assert_eq!(
            e.to_status()["details"]["causes"][0]["reason"],
            "DisruptionBudget"
        );
    }

    #[test]
    fn a_budget_whose_status_is_behind_its_generation_is_still_being_processed() {
        let e = check_and_decrement("web-1", budget(2, 1, 3), SimTime::ZERO).unwrap_err();
        assert_eq!(e.code(), 429);
        assert_eq!(
            e.to_status()["details"]["causes"][0]["message"],
            "The disruption budget web is still being processed by the server."
        );
    }

    #[test]
    fn an_allowed_eviction_decrements_and_records_the_pod_as_disrupted() {
        let b = check_and_decrement("web-1", budget(1, 1, 1), SimTime(5_000)).unwrap();
        let s = b.status.unwrap();
        assert_eq!(s.disruptions_allowed, Some(0));
        assert!(s.disrupted_pods.unwrap().contains_key("web-1"));
        let c = &s.conditions.unwrap()[0];
        assert_eq!(
            (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
            ("DisruptionAllowed", "False", "InsufficientPods")
        );
    }

    #[test]
    fn pending_terminal_and_terminating_pods_skip_the_budget() {
        let mut p = Pod::default();
        assert!(can_ignore_budget(&p), "no phase yet is Pending");
        p.status = Some(Box::new(crate::api::pod::PodStatus {
            phase: Some("Running".into()),
            ..Default::default()
        }));
        assert!(!can_ignore_budget(&p));
        p.metadata.deletion_timestamp = Some(to_time(SimTime::ZERO));
        assert!(can_ignore_budget(&p));
    }
}
