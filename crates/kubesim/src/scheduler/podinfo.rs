//! What the scheduler computes once per pod: resource requests, priority,
//! parsed affinity terms, images; plus the matching helpers the plugins
//! share (label selectors, node selectors, tolerations).
//!
//! Ported from `pkg/scheduler/framework/types.go` (`PodInfo`,
//! `AffinityTerm`, `NewPodInfo`), `k8s.io/component-helpers/resource`
//! (`PodRequests`), `pkg/scheduler/util` (`GetNonzeroRequests`),
//! `k8s.io/component-helpers/scheduling/corev1/nodeaffinity` and
//! `k8s.io/api/core/v1/toleration.go` (`ToleratesTaint`).

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{
    Affinity, NodeSelectorRequirement, NodeSelectorTerm, PodAffinityTerm, Taint, Toleration,
};

use crate::api::pod::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::api::labels::LabelsRef;
use crate::api::quantity::Quantity;
use crate::api::Object;

/// `schedutil.DefaultMilliCPURequest`: what scoring assumes for a container
/// without a cpu request.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// `schedutil.DefaultMemoryRequest`: 200 MiB.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Requested or allocatable resources as integers (`framework.Resource`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// `pods` (allocatable only).
    pub allowed_pods: i64,
    /// Extended resources (`nvidia.com/gpu`, hugepages-*), sorted by name.
    pub scalar: Vec<(String, i64)>,
}

impl Resources {
    /// Reads a ResourceList; `Err` names the first malformed quantity.
    pub fn from_list<'a, L>(list: Option<L>) -> Result<Resources, String>
    where
        L: IntoIterator<
            Item = (
                &'a String,
                &'a k8s_openapi::apimachinery::pkg::api::resource::Quantity,
            ),
        >,
    {
        let mut r = Resources::default();
        for (name, q) in list.into_iter().flatten() {
            let v = Quantity::parse(&q.0).map_err(|e| format!("{name}: {e}"))?;
            r.add_one(name, &v);
        }
        Ok(r)
    }

    fn add_one(&mut self, name: &str, q: &Quantity) {
        match name {
            "cpu" => self.milli_cpu = self.milli_cpu.saturating_add(q.milli_value()),
            "memory" => self.memory = self.memory.saturating_add(q.value()),
            "ephemeral-storage" => {
                self.ephemeral_storage = self.ephemeral_storage.saturating_add(q.value())
            }
            "pods" => self.allowed_pods = self.allowed_pods.saturating_add(q.value()),
            // Upstream counts only extended (domain-prefixed) resources,
            // hugepages and attachable volumes as scalars.
            n if n.contains('/') || n.starts_with("hugepages-") => {
                self.add_scalar(n, q.value());
            }
            _ => {}
        }
    }

    fn add_scalar(&mut self, name: &str, v: i64) {
        match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalar[i].1 = self.scalar[i].1.saturating_add(v),
            Err(i) => self.scalar.insert(i, (name.to_string(), v)),
        }
    }

    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .map(|i| self.scalar[i].1)
            .unwrap_or(0)
    }

    pub fn add(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(o.milli_cpu);
        self.memory = self.memory.saturating_add(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(o.ephemeral_storage);
        for (n, v) in &o.scalar {
            self.add_scalar(n, *v);
        }
    }

    pub fn sub(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(o.milli_cpu);
        self.memory = self.memory.saturating_sub(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(o.ephemeral_storage);
        for (n, v) in &o.scalar {
            self.add_scalar(n, v.saturating_neg());
        }
    }

    fn max_with(&mut self, o: &Resources) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (n, v) in &o.scalar {
            let cur = self.scalar(n);
            if *v > cur {
                self.add_scalar(n, v - cur);
            }
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.iter().all(|(_, v)| *v == 0)
    }
}

/// A compiled label selector (`metav1.LabelSelectorAsSelector`). A nil
/// selector matches nothing, an empty one everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    nothing: bool,
    reqs: Vec<(String, SelOp, Vec<String>)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SelOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    pub fn nothing() -> Selector {
        Selector {
            nothing: true,
            reqs: Vec::new(),
        }
    }

    pub fn compile(sel: Option<&LabelSelector>) -> Result<Selector, String> {
        let Some(sel) = sel else {
            return Ok(Selector::nothing());
        };
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push((k.clone(), SelOp::In, vec![v.clone()]));
        }
        for e in sel.match_expressions.iter().flatten() {
            let values = e.values.clone().unwrap_or_default();
            let op = match e.operator.as_str() {
                "In" => SelOp::In,
                "NotIn" => SelOp::NotIn,
                "Exists" => SelOp::Exists,
                "DoesNotExist" => SelOp::DoesNotExist,
                other => {
                    return Err(format!(
                        "\"{other}\" is not a valid label selector operator"
                    ))
                }
            };
            if matches!(op, SelOp::In | SelOp::NotIn) && values.is_empty() {
                return Err(format!(
                    "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty (key {})",
                    e.key
                ));
            }
            reqs.push((e.key.clone(), op, values));
        }
        Ok(Selector {
            nothing: false,
            reqs,
        })
    }

    /// Adds `key in (value)` (matchLabelKeys) or `key notin (value)`.
    pub fn require(&mut self, key: &str, value: &str, equal: bool) {
        let op = if equal { SelOp::In } else { SelOp::NotIn };
        self.reqs
            .push((key.to_string(), op, vec![value.to_string()]));
    }

    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    pub fn matches(&self, labels: LabelsRef<'_>) -> bool {
        if self.nothing {
            return false;
        }
        self.reqs.iter().all(|(k, op, vals)| {
            let v = labels.get(k);
            match op {
                SelOp::In => v.is_some_and(|v| vals.contains(v)),
                SelOp::NotIn => v.is_none_or(|v| !vals.contains(v)),
                SelOp::Exists => v.is_some(),
                SelOp::DoesNotExist => v.is_none(),
            }
        })
    }
}

/// A pod (anti-)affinity term, compiled (`framework.AffinityTerm`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffinityTerm {
    /// Empty with `all_namespaces` false means the pod's own namespace was
    /// filled in already.
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    pub selector: Selector,
    pub topology_key: String,
    pub weight: i64,
}

impl AffinityTerm {
    fn compile(term: &PodAffinityTerm, pod: &Pod, weight: i64) -> Result<AffinityTerm, String> {
        let mut selector = Selector::compile(term.label_selector.as_ref())?;
        let labels = pod.metadata.labels.as_ref();
        // matchLabelKeys / mismatchLabelKeys merge the pod's own values.
        if !selector.is_nothing() {
            for k in term.match_label_keys.iter().flatten() {
                if let Some(v) = labels.and_then(|l| l.get(k)) {
                    selector.require(k, v, true);
                }
            }
            for k in term.mismatch_label_keys.iter().flatten() {
                if let Some(v) = labels.and_then(|l| l.get(k)) {
                    selector.require(k, v, false);
                }
            }
        }
        let mut namespaces = term.namespaces.clone().unwrap_or_default();
        // An empty namespaceSelector ({}) selects every namespace. A
        // non-empty one needs Namespace labels, which this library does not
        // track: it adds no namespaces.
        let all_namespaces = term.namespace_selector.as_ref().is_some_and(|s| {
            s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                && s.match_expressions.as_ref().is_none_or(|m| m.is_empty())
        });
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.push(pod.metadata.namespace.clone().unwrap_or_default());
        }
        Ok(AffinityTerm {
            namespaces,
            all_namespaces,
            selector,
            topology_key: term.topology_key.clone(),
            weight,
        })
    }

    /// `AffinityTerm.Matches`: namespace and labels.
    pub fn matches(&self, pod: &PodInfo) -> bool {
        (self.all_namespaces || self.namespaces.iter().any(|n| n == pod.namespace()))
            && self.selector.matches(pod.labels())
    }
}

/// Everything the scheduler needs of one pod, computed once.
///
/// The scheduler keeps one for every pod bound or assumed, so it holds no
/// copy of what the pod object says plainly (namespace, name, uid, the
/// controller's uid: read from `pod`), and boxes the affinity terms most
/// pods lack.
#[derive(Clone, Debug)]
pub struct PodInfo {
    pub pod: Rc<Object>,
    /// `namespace/name`, shared with the cache's index of pods.
    pub key: Rc<str>,
    pub priority: i32,
    /// `PodRequests` (containers, init containers, sidecars, overhead).
    pub requests: Resources,
    /// The same with upstream's non-zero defaults for cpu and memory (used
    /// for scoring).
    pub non_zero_cpu: i64,
    pub non_zero_memory: i64,
    /// Pod (anti-)affinity terms; `None` when the pod has none.
    pub affinity: Option<Box<PodAffinityTerms>>,
    /// `status.startTime` in Unix milliseconds (preemption's tie-breaker).
    pub start_millis: Option<i64>,
    pub terminating: bool,
    /// Whether the controller owner counts (default spreading groups pods
    /// by its uid); false for a pod whose info was read leniently.
    has_controller: bool,
}

/// A pod's (anti-)affinity terms, compiled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodAffinityTerms {
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<AffinityTerm>,
    pub preferred_anti_affinity: Vec<AffinityTerm>,
}

impl PodAffinityTerms {
    fn is_empty(&self) -> bool {
        self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty()
    }
}

impl PodInfo {
    /// Computes a pod's scheduling data. `priority_of_class` resolves
    /// `priorityClassName` when `spec.priority` is unset. `Err` for a
    /// malformed quantity or selector (upstream: validation or an error
    /// status from PreFilter).
    pub fn new(
        obj: Rc<Object>,
        priority_of_class: &dyn Fn(Option<&str>) -> i32,
    ) -> Result<PodInfo, String> {
        let Object::Pod(pod) = &*obj else {
            return Err("not a Pod".to_string());
        };
        let spec = pod.spec.as_ref();
        let priority = spec.and_then(|s| s.priority).unwrap_or_else(|| {
            priority_of_class(
                spec.and_then(|s| s.priority_class_name.as_deref())
                    .map(String::as_str),
            )
        });
        let (requests, nz_cpu, nz_mem) = match spec {
            Some(s) => pod_requests(s)?,
            None => (Resources::default(), 0, 0),
        };
        let mut terms = PodAffinityTerms::default();
        let mut info = PodInfo {
            key: Rc::from(super::queue::pod_key(&obj)),
            priority,
            requests,
            non_zero_cpu: nz_cpu,
            non_zero_memory: nz_mem,
            affinity: None,
            has_controller: true,
            start_millis: pod
                .status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0.as_millisecond()),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            pod: obj.clone(),
        };
        if let Some(s) = spec {
            if let Some(a) = &s.affinity {
                if let Some(pa) = &a.pod_affinity {
                    for t in pa
                        .required_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                    {
                        terms
                            .required_affinity
                            .push(AffinityTerm::compile(t, pod, 1)?);
                    }
                    for w in pa
                        .preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                    {
                        terms.preferred_affinity.push(AffinityTerm::compile(
                            &w.pod_affinity_term,
                            pod,
                            i64::from(w.weight),
                        )?);
                    }
                }
                if let Some(pa) = &a.pod_anti_affinity {
                    for t in pa
                        .required_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                    {
                        terms
                            .required_anti_affinity
                            .push(AffinityTerm::compile(t, pod, 1)?);
                    }
                    for w in pa
                        .preferred_during_scheduling_ignored_during_execution
                        .iter()
                        .flatten()
                    {
                        terms.preferred_anti_affinity.push(AffinityTerm::compile(
                            &w.pod_affinity_term,
                            pod,
                            i64::from(w.weight),
                        )?);
                    }
                }
            }
        }
        if !terms.is_empty() {
            info.affinity = Some(Box::new(terms));
        }
        Ok(info)
    }

    /// For pods already on nodes: a malformed part counts as absent rather
    /// than dropping the pod from the cache.
    pub fn new_lenient(
        obj: Rc<Object>,
        priority_of_class: &dyn Fn(Option<&str>) -> i32,
    ) -> PodInfo {
        match PodInfo::new(obj.clone(), priority_of_class) {
            Ok(p) => p,
            Err(_) => PodInfo {
                key: Rc::from(super::queue::pod_key(&obj)),
                priority: match &*obj {
                    Object::Pod(p) => p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0),
                    _ => 0,
                },
                requests: Resources::default(),
                non_zero_cpu: 0,
                non_zero_memory: 0,
                affinity: None,
                has_controller: false,
                start_millis: None,
                terminating: obj.deletion_timestamp().is_some(),
                pod: obj,
            },
        }
    }

    pub fn namespace(&self) -> &str {
        self.pod.namespace().unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.pod.name()
    }

    pub fn uid(&self) -> &str {
        self.pod.uid().unwrap_or_default()
    }

    /// The controller owner's uid (default spreading groups by it).
    pub fn controller_uid(&self) -> Option<&str> {
        if !self.has_controller {
            return None;
        }
        self.pod.controller_ref().map(|o| o.uid.as_str())
    }

    pub fn required_affinity(&self) -> &[AffinityTerm] {
        self.affinity.as_ref().map_or(&[], |a| &a.required_affinity)
    }

    pub fn required_anti_affinity(&self) -> &[AffinityTerm] {
        self.affinity
            .as_ref()
            .map_or(&[], |a| &a.required_anti_affinity)
    }

    pub fn preferred_affinity(&self) -> &[AffinityTerm] {
        self.affinity
            .as_ref()
            .map_or(&[], |a| &a.preferred_affinity)
    }

    pub fn preferred_anti_affinity(&self) -> &[AffinityTerm] {
        self.affinity
            .as_ref()
            .map_or(&[], |a| &a.preferred_anti_affinity)
    }

    pub fn pod(&self) -> Option<&Pod> {
        match &*self.pod {
            Object::Pod(p) => Some(p),
            _ => None,
        }
    }

    /// Container and init-container images, normalized (`:latest` added).
    /// Computed when asked (once per scheduling cycle, by ImageLocality's
    /// PreScore) rather than held by every pod in the cache.
    pub fn images(&self) -> Vec<String> {
        let Some(s) = self.spec() else {
            return Vec::new();
        };
        s.init_containers
            .iter()
            .flatten()
            .chain(s.containers.iter())
            .filter_map(|c| c.image.as_deref().filter(|i| !i.is_empty()))
            .map(normalized_image_name)
            .collect()
    }

    pub fn spec(&self) -> Option<&PodSpec> {
        self.pod().and_then(|p| p.spec.as_ref())
    }

    pub fn labels(&self) -> LabelsRef<'_> {
        self.pod.labels()
    }

    pub fn tolerations(&self) -> &[Toleration] {
        self.spec()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or(&[])
    }

    pub fn has_affinity(&self) -> bool {
        self.affinity.as_ref().is_some_and(|a| !a.is_empty())
    }

    /// `spec.preemptionPolicy` (default PreemptLowerPriority).
    pub fn preemption_policy(&self) -> &str {
        self.spec()
            .and_then(|s| s.preemption_policy.as_deref())
            .unwrap_or("PreemptLowerPriority")
    }
}

/// `PodRequests` plus the non-zero cpu and memory of `GetNonzeroRequests`.
fn pod_requests(spec: &PodSpec) -> Result<(Resources, i64, i64), String> {
    let container = |c: &Container| -> Result<(Resources, i64, i64), String> {
        let r = Resources::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
            .map_err(|e| format!("container {}: requests {e}", c.name))?;
        let has = |n: &str| {
            c.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .is_some_and(|l| l.contains_key(n))
        };
        let cpu = if has("cpu") {
            r.milli_cpu
        } else {
            DEFAULT_MILLI_CPU_REQUEST
        };
        let mem = if has("memory") {
            r.memory
        } else {
            DEFAULT_MEMORY_REQUEST
        };
        Ok((r, cpu, mem))
    };
    let mut reqs = Resources::default();
    let (mut nz_cpu, mut nz_mem) = (0i64, 0i64);
    for c in &spec.containers {
        let (r, cpu, mem) = container(c)?;
        reqs.add(&r);
        nz_cpu = nz_cpu.saturating_add(cpu);
        nz_mem = nz_mem.saturating_add(mem);
    }
    // Init containers run before the app containers; sidecars (restartPolicy
    // Always) keep running and add up.
    let mut restartable = Resources::default();
    let (mut rs_cpu, mut rs_mem) = (0i64, 0i64);
    let mut init_max = Resources::default();
    let (mut init_cpu, mut init_mem) = (0i64, 0i64);
    for c in spec.init_containers.iter().flatten() {
        let (r, cpu, mem) = container(c)?;
        let (eff, ecpu, emem);
        if c.restart_policy.as_deref() == Some("Always") {
            reqs.add(&r);
            nz_cpu = nz_cpu.saturating_add(cpu);
            nz_mem = nz_mem.saturating_add(mem);
            restartable.add(&r);
            rs_cpu = rs_cpu.saturating_add(cpu);
            rs_mem = rs_mem.saturating_add(mem);
            eff = restartable.clone();
            (ecpu, emem) = (rs_cpu, rs_mem);
        } else {
            let mut t = r;
            t.add(&restartable);
            eff = t;
            (ecpu, emem) = (cpu.saturating_add(rs_cpu), mem.saturating_add(rs_mem));
        }
        init_max.max_with(&eff);
        init_cpu = init_cpu.max(ecpu);
        init_mem = init_mem.max(emem);
    }
    reqs.max_with(&init_max);
    nz_cpu = nz_cpu.max(init_cpu);
    nz_mem = nz_mem.max(init_mem);
    let overhead =
        Resources::from_list(spec.overhead.as_deref()).map_err(|e| format!("overhead {e}"))?;
    reqs.add(&overhead);
    nz_cpu = nz_cpu.saturating_add(overhead.milli_cpu);
    nz_mem = nz_mem.saturating_add(overhead.memory);
    Ok((reqs, nz_cpu, nz_mem))
}

/// `normalizedImageName` (imagelocality): adds `:latest` to an untagged name.
pub fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':');
    let slash = name.rfind('/');
    if colon.map(|c| c as i64).unwrap_or(-1) <= slash.map(|s| s as i64).unwrap_or(-1) {
        format!("{name}:latest")
    } else {
        name.to_string()
    }
}

/// `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if e != taint.effect {
            return false;
        }
    }
    if let Some(k) = t.key.as_deref().filter(|k| !k.is_empty()) {
        if k != taint.key {
            return false;
        }
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// `TolerationsTolerateTaint`.
pub fn tolerations_tolerate(ts: &[Toleration], taint: &Taint) -> bool {
    ts.iter().any(|t| tolerates(t, taint))
}

/// A compiled node selector term (`nodeaffinity.nodeSelectorTerm`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeTerm {
    exprs: Vec<NodeSelectorRequirement>,
    fields: Vec<NodeSelectorRequirement>,
    /// A term with an invalid requirement matches nothing (upstream keeps
    /// the parse error and treats the term as unmatched).
    invalid: bool,
}

impl NodeTerm {
    pub fn compile(t: &NodeSelectorTerm) -> NodeTerm {
        let exprs = t.match_expressions.clone().unwrap_or_default();
        let fields = t.match_fields.clone().unwrap_or_default();
        let invalid = exprs.iter().any(|r| !valid_node_req(r, false))
            || fields.iter().any(|r| !valid_node_req(r, true));
        NodeTerm {
            exprs,
            fields,
            invalid,
        }
    }

    /// An empty term matches no node.
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        if self.invalid || (self.exprs.is_empty() && self.fields.is_empty()) {
            return false;
        }
        self.exprs
            .iter()
            .all(|r| node_req_matches(r, labels.get(&r.key).map(|s| s.as_str())))
            && self.fields.iter().all(|r| {
                // Only metadata.name is a supported field.
                node_req_matches(r, (r.key == "metadata.name").then_some(node_name))
            })
    }
}

fn valid_node_req(r: &NodeSelectorRequirement, field: bool) -> bool {
    let n = r.values.as_ref().map_or(0, |v| v.len());
    if field {
        return r.key == "metadata.name" && matches!(r.operator.as_str(), "In" | "NotIn") && n == 1;
    }
    match r.operator.as_str() {
        "In" | "NotIn" => n > 0,
        "Exists" | "DoesNotExist" => n == 0,
        "Gt" | "Lt" => {
            n == 1
                && r.values
                    .as_ref()
                    .is_some_and(|v| v[0].parse::<i64>().is_ok())
        }
        _ => false,
    }
}

fn node_req_matches(r: &NodeSelectorRequirement, v: Option<&str>) -> bool {
    let vals = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => v.is_some_and(|v| vals.iter().any(|x| x == v)),
        "NotIn" => v.is_none_or(|v| !vals.iter().any(|x| x == v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(want)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                vals.first().and_then(|w| w.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > want
            } else {
                v < want
            }
        }
        _ => false,
    }
}

/// `nodeaffinity.GetRequiredNodeAffinity`: `spec.nodeSelector` AND the
/// required node affinity terms (ORed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequiredNodeAffinity {
    node_selector: Vec<(String, String)>,
    /// `None`: no required affinity; `Some([])`: no terms, nothing matches.
    terms: Option<Vec<NodeTerm>>,
}

impl RequiredNodeAffinity {
    pub fn of(spec: Option<&PodSpec>) -> RequiredNodeAffinity {
        let Some(spec) = spec else {
            return RequiredNodeAffinity::default();
        };
        RequiredNodeAffinity::of_parts(spec.node_selector.as_ref(), spec.affinity.as_deref())
    }

    /// From a pod's (or a pod template's) `nodeSelector` and `affinity`.
    pub fn of_parts(
        node_selector: Option<&BTreeMap<String, String>>,
        affinity: Option<&Affinity>,
    ) -> RequiredNodeAffinity {
        RequiredNodeAffinity {
            node_selector: node_selector
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            terms: affinity
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|n| {
                    n.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .map(|ns| {
                    ns.node_selector_terms
                        .iter()
                        .map(NodeTerm::compile)
                        .collect()
                }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.node_selector.is_empty() && self.terms.is_none()
    }

    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        self.node_selector
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .terms
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.matches(node_name, labels)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::testutil::pod;

    #[test]
    fn a_pod_info_reads_names_and_the_controller_from_the_pod_it_shares() {
        let obj = pod("web-1").owner("rs-uid").cpu("250m").build();
        let info = PodInfo::new(obj.clone(), &|_| 0).ok();
        let info = info.as_ref();
        assert_eq!(info.map(|i| &*i.key), Some("default/web-1"));
        assert_eq!(info.map(PodInfo::namespace), Some("default"));
        assert_eq!(info.map(PodInfo::name), Some("web-1"));
        assert_eq!(info.map(PodInfo::uid), Some("uid-web-1"));
        assert_eq!(info.and_then(PodInfo::controller_uid), Some("rs-uid"));
        assert!(info.is_some_and(|i| Rc::ptr_eq(&i.pod, &obj)));
        assert_eq!(info.map(|i| i.requests.milli_cpu), Some(250));
        // No (anti-)affinity terms: nothing boxed, the accessors are empty.
        assert!(info.is_some_and(|i| i.affinity.is_none() && !i.has_affinity()));
        assert!(info.is_some_and(|i| i.required_anti_affinity().is_empty()));
    }

    #[test]
    fn a_pod_with_anti_affinity_keeps_its_compiled_terms() {
        let obj = pod("db-0")
            .anti_affinity("kubernetes.io/hostname", "app", "db")
            .build();
        let info = PodInfo::new(obj, &|_| 0).ok();
        let terms = info.as_ref().map(|i| i.required_anti_affinity().len());
        assert_eq!(terms, Some(1));
        assert!(info.as_ref().is_some_and(|i| i.has_affinity()));
        assert!(info.is_some_and(|i| i.required_affinity().is_empty()));
    }

    #[test]
    fn a_leniently_read_pod_counts_for_no_controller() {
        let obj = pod("bad").owner("rs-uid").cpu("lots").build();
        assert!(PodInfo::new(obj.clone(), &|_| 0).is_err());
        let info = PodInfo::new_lenient(obj, &|_| 0);
        assert_eq!(info.controller_uid(), None);
        assert_eq!(info.name(), "bad");
    }
}
