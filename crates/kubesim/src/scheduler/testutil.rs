//! Builders for the scheduler's unit tests.

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{
    Affinity, ContainerImage, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, NodeSpec, NodeStatus, PodAffinity, PodAffinityTerm, PodAntiAffinity,
    PreferredSchedulingTerm, Taint, Toleration, TopologySpreadConstraint, WeightedPodAffinityTerm,
};

use crate::api::pod::{Container, Pod, PodSpec};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

use super::{Action, Decision, Outcome, Scheduler};
use crate::api::Object;
use crate::world::{SimRng, SimTime};

pub struct NodeB(Node);

pub fn node(name: &str) -> NodeB {
    let mut n = Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus::default()),
    };
    let alloc: BTreeMap<String, Q> = [("cpu", "4"), ("memory", "16Gi"), ("pods", "110")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Q(v.to_string())))
        .collect();
    n.status.as_mut().unwrap().allocatable = Some(alloc);
    NodeB(n)
}

impl NodeB {
    fn alloc(mut self, k: &str, v: &str) -> Self {
        self.0
            .status
            .as_mut()
            .unwrap()
            .allocatable
            .as_mut()
            .unwrap()
            .insert(k.into(), Q(v.into()));
        self
    }
    pub fn cpu(self, v: &str) -> Self {
        self.alloc("cpu", v)
    }
    pub fn pods(self, n: u32) -> Self {
        self.alloc("pods", &n.to_string())
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn hostname(self) -> Self {
        let n = self.0.metadata.name.clone().unwrap_or_default();
        self.label("kubernetes.io/hostname", &n)
    }
    pub fn taint(mut self, k: &str, v: &str, effect: &str) -> Self {
        self.0
            .spec
            .as_mut()
            .unwrap()
            .taints
            .get_or_insert_with(Vec::new)
            .push(Taint {
                key: k.into(),
                value: (!v.is_empty()).then(|| v.into()),
                effect: effect.into(),
                time_added: None,
            });
        self
    }
    pub fn unschedulable(mut self) -> Self {
        self.0.spec.as_mut().unwrap().unschedulable = Some(true);
        self
    }
    pub fn image(mut self, name: &str, size: i64) -> Self {
        self.0
            .status
            .as_mut()
            .unwrap()
            .images
            .get_or_insert_with(Vec::new)
            .push(ContainerImage {
                names: Some(vec![name.into()]),
                size_bytes: Some(size),
            });
        self
    }
    pub fn build(self) -> Rc<Object> {
        Rc::new(Object::Node(Box::new(self.0)))
    }
}

pub struct PodB(Pod);

pub fn pod(name: &str) -> PodB {
    PodB(Pod {
        metadata: crate::api::pod::PodMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: Some("nginx".into()),
                ..Default::default()
            }]
            .into(),
            ..Default::default()
        }),
        status: None,
    })
}

fn sel(k: &str, v: &str) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_labels: Some([(k.to_string(), v.to_string())].into_iter().collect()),
        match_expressions: None,
    })
}

fn term(key: &str, k: &str, v: &str) -> PodAffinityTerm {
    PodAffinityTerm {
        label_selector: sel(k, v),
        topology_key: key.into(),
        ..Default::default()
    }
}

impl PodB {
    fn spec(&mut self) -> &mut PodSpec {
        self.0.spec.as_mut().unwrap()
    }
    fn aff(&mut self) -> &mut Affinity {
        self.spec().affinity.get_or_insert_with(Default::default)
    }
    fn request(mut self, k: &str, v: &str) -> Self {
        self.spec().containers[0]
            .resources
            .get_or_insert_with(Default::default)
            .requests
            .get_or_insert_with(Default::default)
            .insert(k.into(), Q(v.into()));
        self
    }
    pub fn cpu(self, v: &str) -> Self {
        self.request("cpu", v)
    }
    pub fn memory(self, v: &str) -> Self {
        self.request("memory", v)
    }
    pub fn label(mut self, k: &str, v: &str) -> Self {
        self.0
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn node_name(mut self, n: &str) -> Self {
        self.spec().node_name = Some(n.into());
        self
    }
    pub fn scheduler_name(mut self, n: &str) -> Self {
        self.spec().scheduler_name = Some(n.into());
        self
    }
    pub fn image(mut self, i: &str) -> Self {
        self.spec().containers[0].image = Some(i.into());
        self
    }
    pub fn priority(mut self, p: i32) -> Self {
        self.spec().priority = Some(p);
        self
    }
    pub fn priority_class(mut self, c: &str) -> Self {
        self.spec().priority_class_name = Some(Box::new(c.into()));
        self
    }
    pub fn preemption_never(mut self) -> Self {
        self.spec().preemption_policy = Some("Never".into());
        self
    }
    pub fn node_selector(mut self, k: &str, v: &str) -> Self {
        self.spec()
            .node_selector
            .get_or_insert_with(Default::default)
            .insert(k.into(), v.into());
        self
    }
    pub fn toleration(mut self, k: &str, op: &str, v: &str, effect: &str) -> Self {
        self.spec()
            .tolerations
            .get_or_insert_with(Vec::new)
            .push(Toleration {
                key: Some(k.into()),
                operator: Some(op.into()),
                value: (!v.is_empty()).then(|| v.into()),
                effect: Some(effect.into()),
                toleration_seconds: None,
            });
        self
    }
    fn node_affinity(&mut self) -> &mut NodeAffinity {
        self.aff()
            .node_affinity
            .get_or_insert_with(Default::default)
    }
    pub fn required_node_in(mut self, k: &str, vals: &[&str]) -> Self {
        let req = NodeSelectorRequirement {
            key: k.into(),
            operator: "In".into(),
            values: Some(vals.iter().map(|s| s.to_string()).collect()),
        };
        self.node_affinity()
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(NodeSelector::default)
            .node_selector_terms
            .push(NodeSelectorTerm {
                match_expressions: Some(vec![req]),
                match_fields: None,
            });
        self
    }
    pub fn preferred_node_in(mut self, w: i32, k: &str, vals: &[&str]) -> Self {
        let req = NodeSelectorRequirement {
            key: k.into(),
            operator: "In".into(),
            values: Some(vals.iter().map(|s| s.to_string()).collect()),
        };
        self.node_affinity()
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(PreferredSchedulingTerm {
                weight: w,
                preference: NodeSelectorTerm {
                    match_expressions: Some(vec![req]),
                    match_fields: None,
                },
            });
        self
    }
    pub fn spread(mut self, key: &str, skew: i32, when: &str, k: &str, v: &str) -> Self {
        self.spec()
            .topology_spread_constraints
            .get_or_insert_with(Default::default)
            .push(TopologySpreadConstraint {
                max_skew: skew,
                topology_key: key.into(),
                when_unsatisfiable: when.into(),
                label_selector: sel(k, v),
                ..Default::default()
            });
        self
    }
    pub fn owner(mut self, uid: &str) -> Self {
        self.0.metadata.owner_references = Some(
            vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: "rs".into(),
                uid: uid.into(),
                controller: Some(true),
                block_owner_deletion: None,
            }]
            .into(),
        );
        self
    }
    pub fn affinity(mut self, key: &str, k: &str, v: &str) -> Self {
        self.aff()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term(key, k, v));
        self
    }
    pub fn anti_affinity(mut self, key: &str, k: &str, v: &str) -> Self {
        self.aff()
            .pod_anti_affinity
            .get_or_insert_with(PodAntiAffinity::default)
            .required_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(term(key, k, v));
        self
    }
    pub fn preferred_affinity(mut self, w: i32, key: &str, k: &str, v: &str) -> Self {
        self.aff()
            .pod_affinity
            .get_or_insert_with(PodAffinity::default)
            .preferred_during_scheduling_ignored_during_execution
            .get_or_insert_with(Vec::new)
            .push(WeightedPodAffinityTerm {
                weight: w,
                pod_affinity_term: term(key, k, v),
            });
        self
    }
    pub fn build(self) -> Rc<Object> {
        Rc::new(Object::Pod(Box::new(self.0)))
    }
}

pub fn priority_class(name: &str, value: i32) -> Rc<Object> {
    Rc::new(Object::PriorityClass(Box::new(PriorityClass {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        value: Some(value),
        ..Default::default()
    })))
}

pub fn sched(nodes: &[Rc<Object>]) -> Scheduler {
    let mut s = Scheduler::default();
    for n in nodes {
        s.on_node_add(SimTime(0), n.clone());
    }
    s
}

/// Runs one cycle for `pod` and undoes its effects (no assume, not queued).
pub fn cycle(s: &mut Scheduler, pod: Rc<Object>) -> Decision {
    let key = super::queue::pod_key(&pod);
    let prio = s.priority_of(&pod);
    s.queue.add(SimTime(0), pod, prio);
    let qpi = s.queue.pop(SimTime(0)).expect("a pod to schedule");
    let (_, d) = s.schedule_one(&qpi, &mut SimRng::new(42));
    s.queue.delete(&key);
    d
}

/// Runs one cycle and, if it chose a node, binds the pod there.
pub fn cycle_and_bind(s: &mut Scheduler, pod: Rc<Object>) -> Decision {
    let Object::Pod(p) = &*pod else {
        unreachable!()
    };
    let mut p = p.clone();
    s.on_pod_add(SimTime(0), pod);
    let r = s
        .run_next(SimTime(0), &mut SimRng::new(42))
        .expect("a pod to schedule");
    if let Action::Bind { node, .. } = &r.action {
        s.binding_succeeded(&r.decision.pod);
        p.spec.as_mut().unwrap().node_name = Some(node.clone());
        s.on_pod_update(SimTime(0), Rc::new(Object::Pod(p)));
    }
    r.decision
}

/// Puts a pod on a node directly (as if bound earlier).
pub fn cycle_and_bind_on(s: &mut Scheduler, pod: Rc<Object>, node: &str) {
    let Object::Pod(p) = &*pod else {
        unreachable!()
    };
    let mut p = p.clone();
    p.spec.as_mut().unwrap().node_name = Some(node.into());
    s.on_pod_add(SimTime(0), Rc::new(Object::Pod(p)));
}

pub fn unschedulable_message(d: &Decision) -> String {
    match &d.outcome {
        Outcome::Unschedulable { message, .. } | Outcome::Error { message } => message.clone(),
        Outcome::Scheduled { node, .. } => format!("scheduled on {node}"),
    }
}

pub fn score_index(d: &Decision, name: &str) -> usize {
    d.score_plugins
        .iter()
        .position(|p| p.0 == name)
        .expect("score plugin")
}
