//! The disruption controller: keeps each PodDisruptionBudget's status up to
//! date, so the eviction API knows how many pods may go.
//!
//! Ported from `pkg/controller/disruption/disruption.go` (`trySync`,
//! `getPodsForPdb`, `getExpectedPodCount`, `getExpectedScale`,
//! `buildDisruptedPodMap`, `countHealthyPods`, `updatePdbStatus`,
//! `failSafe`) and `pkg/apis/policy/helper` (`UpdateDisruptionAllowedCondition`,
//! `ConditionsAreUpToDate`). For each budget: the pods its selector
//! selects in its namespace; the pods expected (with an integer
//! `minAvailable`, the number of pods; with a percentage or with
//! `maxUnavailable`, the sum of the scales of the pods' controllers, a
//! Deployment through its ReplicaSet, a ReplicaSet or a StatefulSet);
//! the healthy pods wanted (`minAvailable`, or expected minus
//! `maxUnavailable`, percentages rounded up); the healthy pods (Ready, not
//! being deleted, and not just evicted: a pod the eviction API recorded in
//! `disruptedPods` counts as gone for two minutes); and from these
//! `disruptionsAllowed = currentHealthy - desiredHealthy` (zero when no pod
//! is expected). The `DisruptionAllowed` condition says whether one may go.
//! A pod whose controller has no scale (a DaemonSet, a Job) makes the sync
//! fail: the budget then allows nothing (`SyncFailed`).
//!
//! Left out: the generic `/scale` lookup (custom resources), the recheck of
//! pods whose `DisruptionTarget` condition went stale, and the
//! `MultiplePodDisruptionBudgets` event on pods.

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::pod::Pod;
use crate::api::time::{to_sim_time as from_time, to_time};
use crate::api::{Kind, KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::rc::Rc;

/// How long a pod the eviction API recorded as disrupted is expected to be
/// deleted within (`DeletionTimeout`).
pub const DELETION_TIMEOUT: SimDuration = SimDuration::from_secs(120);

/// The disruption controller.
#[derive(Clone, Default)]
pub struct DisruptionController;

/// `UpdateDisruptionAllowedCondition`: `DisruptionAllowed` True
/// (`SufficientPods`) while a disruption is allowed, else False
/// (`InsufficientPods`).
pub fn update_disruption_allowed_condition(status: &mut PodDisruptionBudgetStatus, now: SimTime) {
    if status.disruptions_allowed.unwrap_or(0) > 0 {
        set_condition(status, "True", "SufficientPods", "", now);
    } else {
        set_condition(status, "False", "InsufficientPods", "", now);
    }
}

/// `meta.SetStatusCondition` for `DisruptionAllowed`: the transition time
/// moves only when the status changes.
fn set_condition(
    status: &mut PodDisruptionBudgetStatus,
    value: &str,
    reason: &str,
    message: &str,
    now: SimTime,
) {
    let observed = status.observed_generation;
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    match conditions
        .iter_mut()
        .find(|c| c.type_ == "DisruptionAllowed")
    {
        Some(c) => {
            if c.status != value {
                c.last_transition_time = to_time(now);
            }
            c.status = value.into();
            c.reason = reason.into();
            c.message = message.into();
            c.observed_generation = observed;
        }
        None => conditions.push(Condition {
            type_: "DisruptionAllowed".into(),
            status: value.into(),
            reason: reason.into(),
            message: message.into(),
            last_transition_time: to_time(now),
            observed_generation: observed,
        }),
    }
}

/// `ConditionsAreUpToDate`.
fn conditions_up_to_date(pdb: &PodDisruptionBudget) -> bool {
    let status = pdb.status.clone().unwrap_or_default();
    let Some(c) = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "DisruptionAllowed")
    else {
        return false;
    };
    if status.observed_generation != pdb.metadata.generation {
        return false;
    }
    if status.disruptions_allowed.unwrap_or(0) > 0 {
        c.status == "True" && c.reason == "SufficientPods"
    } else {
        c.status == "False" && c.reason == "InsufficientPods"
    }
}

/// Whether a budget selects these labels (a nil selector selects nothing,
/// an empty one everything).
pub fn selects(pdb: &PodDisruptionBudget, labels: crate::api::labels::LabelsRef<'_>) -> bool {
    pdb.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|sel| crate::api::validation::selector_matches(sel, labels))
}

fn as_pdb(o: &Object) -> Option<&PodDisruptionBudget> {
    match o {
        Object::PodDisruptionBudget(p) => Some(p),
        _ => None,
    }
}

fn as_pod(o: &Object) -> Option<&Pod> {
    match o {
        Object::Pod(p) => Some(p),
        _ => None,
    }
}

/// What the expected count needs: the scale of the pods' controllers.
struct Expected {
    expected: i32,
    desired: i32,
    unmanaged: Vec<String>,
}

/// `getExpectedScale`: the sum of the scales of the pods' controllers
/// (the topmost: a Deployment rather than its ReplicaSet).
fn expected_scale(
    caches: Caches<'_>,
    namespace: &str,
    pods: &[&Pod],
) -> Result<(i32, Vec<String>), String> {
    let mut scales: BTreeMap<String, i32> = BTreeMap::new();
    let mut unmanaged = Vec::new();
    for pod in pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let Some(owner) = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
        else {
            unmanaged.push(name);
            continue;
        };
        if scales.contains_key(&owner.uid) {
            continue;
        }
        let key = format!("{namespace}/{}", owner.name);
        let found = match owner.kind.as_str() {
            // `getPodDeployment`, then `getPodReplicaSet`.
            "ReplicaSet" => match caches.get(KindId::ReplicaSet, &key).map(|o| &**o) {
                Some(Object::ReplicaSet(rs)) if rs.metadata.uid.as_deref() == Some(&owner.uid) => {
                    let parent = rs
                        .metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .find(|r| r.controller == Some(true) && r.kind == "Deployment");
                    match parent {
                        Some(d) => match caches
                            .get(KindId::Deployment, &format!("{namespace}/{}", d.name))
                            .map(|o| &**o)
                        {
                            Some(Object::Deployment(dep))
                                if dep.metadata.uid.as_deref() == Some(&d.uid) =>
                            {
                                Some((d.uid.clone(), dep.spec.replicas.unwrap_or(1)))
                            }
                            _ => None,
                        },
                        None => Some((owner.uid.clone(), rs.spec.replicas.unwrap_or(1))),
                    }
                }
                _ => None,
            },
            // `getPodStatefulSet`.
            "StatefulSet" => match caches.get(KindId::StatefulSet, &key).map(|o| &**o) {
                Some(Object::StatefulSet(ss)) if ss.metadata.uid.as_deref() == Some(&owner.uid) => {
                    Some((owner.uid.clone(), ss.spec.replicas.unwrap_or(1)))
                }
                _ => None,
            },
            // `getScaleController`: kinds without a scale subresource.
            other => {
                let group = owner.api_version.split('/').rev().nth(1).unwrap_or("");
                let resource = crate::api::KINDS
                    .iter()
                    .find(|k: &&Kind| k.kind == other && k.group == group)
                    .map(Kind::group_resource)
                    .unwrap_or_else(|| other.to_ascii_lowercase());
                return Err(format!(
                    "{resource} does not implement the scale subresource"
                ));
            }
        };
        match found {
            Some((uid, scale)) => {
                scales.insert(uid, scale);
                // The pod's direct owner, so its siblings skip the lookup.
                scales.entry(owner.uid.clone()).or_insert(0);
            }
            None => return Err(format!("found no controllers for pod {name:?}")),
        }
    }
    Ok((scales.values().sum(), unmanaged))
}

/// `getExpectedPodCount`.
fn expected_pod_count(
    caches: Caches<'_>,
    pdb: &PodDisruptionBudget,
    namespace: &str,
    pods: &[&Pod],
) -> Result<Expected, String> {
    let spec = pdb.spec.clone().unwrap_or_default();
    let mut e = Expected {
        expected: 0,
        desired: 0,
        unmanaged: Vec::new(),
    };
    if let Some(max_unavailable) = &spec.max_unavailable {
        let (expected, unmanaged) = expected_scale(caches, namespace, pods)?;
        let max = crate::controllers::deployment::scaled_value(max_unavailable, expected, true);
        e.expected = expected;
        e.unmanaged = unmanaged;
        e.desired = (expected - max).max(0);
    } else if let Some(min_available) = &spec.min_available {
        match min_available {
            IntOrString::Int(n) => {
                e.desired = *n;
                e.expected = pods.len() as i32;
            }
            IntOrString::String(_) => {
                let (expected, unmanaged) = expected_scale(caches, namespace, pods)?;
                e.expected = expected;
                e.unmanaged = unmanaged;
                e.desired =
                    crate::controllers::deployment::scaled_value(min_available, expected, true);
            }
        }
    }
    Ok(e)
}

impl Controller for DisruptionController {
    fn name(&self) -> &'static str {
        "disruption-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![
            KindId::PodDisruptionBudget,
            KindId::Pod,
            KindId::ReplicaSet,
            KindId::Deployment,
            KindId::StatefulSet,
        ]
    }

    fn keys_for(&mut self, caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        let objects: Vec<&Rc<Object>> = match n {
            Notification::Add(o) => vec![o],
            Notification::Update { old, new } => vec![old, new],
            Notification::Delete { object, .. } => vec![object],
            _ => Vec::new(),
        };
        match kind {
            KindId::PodDisruptionBudget => {
                objects.first().map(|o| vec![o.key()]).unwrap_or_default()
            }
            // `addPod` / `updatePod` / `deletePod`: the budgets of the pod.
            KindId::Pod => {
                let mut keys: Vec<String> = Vec::new();
                for o in objects {
                    let ns = o.namespace().unwrap_or("default");
                    for b in caches.list_in(KindId::PodDisruptionBudget, ns) {
                        if as_pdb(&b).is_some_and(|p| selects(p, o.labels()))
                            && !keys.contains(&b.key())
                        {
                            keys.push(b.key());
                        }
                    }
                }
                keys
            }
            // A scale change changes the expected count of percentages.
            _ => {
                let Some(o) = objects.first() else {
                    return Vec::new();
                };
                let ns = o.namespace().unwrap_or("default");
                caches
                    .list_in(KindId::PodDisruptionBudget, ns)
                    .iter()
                    .map(|b| b.key())
                    .collect()
            }
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::PodDisruptionBudget, key).cloned() else {
            return Requeue::Done;
        };
        let Some(pdb) = as_pdb(&object) else {
            return Requeue::Done;
        };
        if object.deletion_timestamp().is_some() {
            return Requeue::Done;
        }
        let namespace = object.namespace().unwrap_or("default").to_string();
        let now = ctx.now;
        // `getPodsForPdb`.
        let all = ctx.caches.list_in(KindId::Pod, &namespace);
        let pods: Vec<&Pod> = all
            .iter()
            .filter(|o| selects(pdb, o.labels()))
            .filter_map(|o| as_pod(o))
            .collect();
        if pods.is_empty() {
            ctx.event(&object, "Normal", "NoPods", "No matching pods found".into());
        }
        let expected = match expected_pod_count(ctx.caches, pdb, &namespace, &pods) {
            Ok(e) => e,
            Err(why) => {
                ctx.event(
                    &object,
                    "Warning",
                    "CalculateExpectedPodCountFailed",
                    format!("Failed to calculate the number of expected pods: {why}"),
                );
                return self.fail_safe(ctx, pdb, &namespace, &why);
            }
        };
        if !expected.unmanaged.is_empty() {
            let selector = pdb
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .map(|s| format!("{s:?}"))
                .unwrap_or_default();
            ctx.event(
                &object,
                "Warning",
                "UnmanagedPods",
                format!("Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."),
            );
        }
        // `buildDisruptedPodMap`.
        let recorded = pdb
            .status
            .as_ref()
            .and_then(|s| s.disrupted_pods.clone())
            .unwrap_or_default();
        let mut disrupted: BTreeMap<String, Time> = BTreeMap::new();
        let mut recheck: Option<SimTime> = None;
        for pod in &pods {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let name = pod.metadata.name.clone().unwrap_or_default();
            let Some(at) = recorded.get(&name) else {
                continue;
            };
            let expected_deletion = from_time(at) + DELETION_TIMEOUT;
            if expected_deletion < now {
                ctx.event(
                    &Object::Pod(Box::new((*pod).clone())),
                    "Warning",
                    "NotDeleted",
                    format!(
                        "Pod was expected by PDB {namespace}/{} to be deleted but it wasn't",
                        object.name()
                    ),
                );
            } else {
                recheck = Some(recheck.map_or(expected_deletion, |r| r.min(expected_deletion)));
                disrupted.insert(name, at.clone());
            }
        }
        // `countHealthyPods`.
        let current_healthy = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| {
                let name = p.metadata.name.as_deref().unwrap_or_default();
                disrupted
                    .get(name)
                    .is_none_or(|at| from_time(at) + DELETION_TIMEOUT <= now)
            })
            .filter(|p| crate::controllers::replicaset::is_ready(p))
            .count() as i32;
        // `updatePdbStatus`.
        let mut allowed = current_healthy - expected.desired;
        if expected.expected <= 0 || allowed <= 0 {
            allowed = 0;
        }
        let old = pdb.status.clone().unwrap_or_default();
        let disrupted_opt = (!disrupted.is_empty()).then_some(disrupted);
        let unchanged = old.current_healthy.unwrap_or(0) == current_healthy
            && old.desired_healthy.unwrap_or(0) == expected.desired
            && old.expected_pods.unwrap_or(0) == expected.expected
            && old.disruptions_allowed.unwrap_or(0) == allowed
            && old.disrupted_pods.clone().unwrap_or_default()
                == disrupted_opt.clone().unwrap_or_default()
            && conditions_up_to_date(pdb);
        if !unchanged {
            let mut next = pdb.clone();
            let mut status = PodDisruptionBudgetStatus {
                current_healthy: Some(current_healthy),
                desired_healthy: Some(expected.desired),
                expected_pods: Some(expected.expected),
                disruptions_allowed: Some(allowed),
                disrupted_pods: disrupted_opt,
                observed_generation: pdb.metadata.generation,
                conditions: old.conditions.clone(),
            };
            update_disruption_allowed_condition(&mut status, now);
            next.status = Some(status);
            write_status(ctx, &namespace, next);
        }
        match recheck {
            Some(at) => Requeue::After(at.saturating_since(now)),
            None => Requeue::Done,
        }
    }
}

impl DisruptionController {
    /// `failSafe`: the budget allows nothing until a sync succeeds.
    fn fail_safe(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        pdb: &PodDisruptionBudget,
        namespace: &str,
        why: &str,
    ) -> Requeue {
        let mut next = pdb.clone();
        let status = next.status.get_or_insert_with(Default::default);
        let before = status.clone();
        status.disruptions_allowed = Some(0);
        set_condition(status, "False", "SyncFailed", why, ctx.now);
        if *status != before {
            write_status(ctx, namespace, next);
        }
        Requeue::RateLimited
    }
}

/// `dc.getUpdater()`: an update of the status subresource, with the
/// cached resourceVersion as precondition.
fn write_status(ctx: &mut Reconcile<'_, '_>, namespace: &str, pdb: PodDisruptionBudget) {
    let name = pdb.metadata.name.clone().unwrap_or_default();
    ctx.write(
        ApiRequest::new(Verb::Update, KindId::PodDisruptionBudget, Credential::None)
            .in_namespace(namespace)
            .named(name)
            .with_subresource("status")
            .with_body(Object::PodDisruptionBudget(Box::new(pdb))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    fn pod(name: &str, ready: bool, owner: Option<(&str, &str, &str)>) -> Object {
        let mut y = format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  labels:\n    app: web\n");
        if let Some((kind, n, uid)) = owner {
            y.push_str(&format!("  ownerReferences:\n  - apiVersion: apps/v1\n    kind: {kind}\n    name: {n}\n    uid: {uid}\n    controller: true\n"));
        }
        y.push_str(&format!("spec:\n  containers:\n  - name: c\n    image: nginx\nstatus:\n  phase: Running\n  conditions:\n  - type: Ready\n    status: \"{}\"\n", if ready { "True" } else { "False" }));
        object(&y)
    }

    fn pdb(rule: &str) -> Object {
        let mut o = object(&format!("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: default\nspec:\n  {rule}\n  selector:\n    matchLabels:\n      app: web\n"));
        o.meta_mut().generation = Some(1);
        o
    }

    fn written_status(writes: &[ApiRequest]) -> PodDisruptionBudgetStatus {
        assert_eq!(writes.len(), 1, "{writes:?}");
        match writes[0].body.as_deref() {
            Some(Object::PodDisruptionBudget(p)) => p.status.clone().unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_integer_min_available_allows_the_healthy_pods_above_it() {
        let objects = vec![
            pdb("minAvailable: 2"),
            pod("a", true, None),
            pod("b", true, None),
            pod("c", true, None),
            pod("d", false, None),
        ];
        let (writes, _, _) = reconcile(
            &mut DisruptionController,
            SimTime::ZERO,
            &objects,
            "default/web",
        );
        let s = written_status(&writes);
        assert_eq!(
            (
                s.current_healthy,
                s.desired_healthy,
                s.expected_pods,
                s.disruptions_allowed
            ),
            (Some(3), Some(2), Some(4), Some(1))
        );
        assert_eq!(s.observed_generation, Some(1));
        let c = &s.conditions.unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("True", "SufficientPods")
        );
    }

    #[test]
    fn a_percentage_counts_the_scale_of_the_deployment_behind_the_replica_set() {
        let dep = object("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n  uid: d1\nspec:\n  replicas: 4\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: c\n        image: nginx\n");
        let rs = object("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: default\n  uid: r1\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: Deployment\n    name: web\n    uid: d1\n    controller: true\nspec:\n  replicas: 4\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: c\n        image: nginx\n");
        let owner = Some(("ReplicaSet", "web-1", "r1"));
        let objects = vec![
            pdb("maxUnavailable: 25%"),
            dep,
            rs,
            pod("a", true, owner),
            pod("b", true, owner),
            pod("c", true, owner),
        ];
        let (writes, _, _) = reconcile(
            &mut DisruptionController,
            SimTime::ZERO,
            &objects,
            "default/web",
        );
        let s = written_status(&writes);
        // 4 expected (the Deployment's replicas), 25 % of 4 is 1: 3 wanted,
        // 3 healthy, none may go.
        assert_eq!(
            (
                s.expected_pods,
                s.desired_healthy,
                s.current_healthy,
                s.disruptions_allowed
            ),
            (Some(4), Some(3), Some(3), Some(0))
        );
        let c = &s.conditions.unwrap()[0];
        assert_eq!(
            (c.status.as_str(), c.reason.as_str()),
            ("False", "InsufficientPods")
        );
    }

    #[test]
    fn pods_of_a_daemon_set_make_a_percentage_budget_fail_safe() {
        let objects = vec![
            pdb("minAvailable: 50%"),
            pod("a", true, Some(("DaemonSet", "agent", "x1"))),
        ];
        let (writes, events, requeue) = reconcile(
            &mut DisruptionController,
            SimTime::ZERO,
            &objects,
            "default/web",
        );
        let s = written_status(&writes);
        assert_eq!(s.disruptions_allowed, Some(0));
        let c = &s.conditions.unwrap()[0];
        assert_eq!(c.reason, "SyncFailed");
        assert_eq!(
            c.message,
            "daemonsets.apps does not implement the scale subresource"
        );
        assert!(events
            .iter()
            .any(|(r, _)| r == "CalculateExpectedPodCountFailed"));
        assert_eq!(requeue, Requeue::RateLimited);
    }

    #[test]
    fn a_pod_just_evicted_does_not_count_as_healthy_for_two_minutes() {
        let mut budget = pdb("minAvailable: 1");
        if let Object::PodDisruptionBudget(p) = &mut budget {
            p.status = Some(PodDisruptionBudgetStatus {
                disrupted_pods: Some([("a".to_string(), to_time(SimTime(10_000)))].into()),
                ..Default::default()
            });
        }
        let objects = vec![budget, pod("a", true, None), pod("b", true, None)];
        let (writes, _, requeue) = reconcile(
            &mut DisruptionController,
            SimTime(20_000),
            &objects,
            "default/web",
        );
        let s = written_status(&writes);
        assert_eq!(
            (s.current_healthy, s.disruptions_allowed),
            (Some(1), Some(0))
        );
        assert_eq!(requeue, Requeue::After(SimDuration::from_secs(110)));
    }
}
