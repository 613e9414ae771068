//! Scheduling throughput: 150,000 pods onto 5,000 nodes through the
//! scheduler's pure core (queue, filters, scores, assume), without the API
//! server. Run with `cargo run --release -p kubesim --example bench_scheduler`.
//! Budget (DESIGN.md §6): at least 10,000 pods/s natively.

use std::collections::BTreeMap;
use std::rc::Rc;

use k8s_openapi::api::core::v1::{
    Container, Node, NodeSpec, NodeStatus, Pod, PodSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kubesim::api::Object;
use kubesim::scheduler::{Action, Scheduler};
use kubesim::{SimRng, SimTime};

#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

fn node(i: usize) -> Rc<Object> {
    let name = format!("worker-{i}");
    let labels: BTreeMap<String, String> = [
        ("kubernetes.io/hostname".to_string(), name.clone()),
        (
            "topology.kubernetes.io/zone".to_string(),
            format!("zone-{}", i % 3),
        ),
    ]
    .into_iter()
    .collect();
    let alloc: BTreeMap<String, Q> = [("cpu", "4"), ("memory", "16Gi"), ("pods", "110")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Q(v.to_string())))
        .collect();
    Rc::new(Object::Node(Node {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            allocatable: Some(alloc),
            ..Default::default()
        }),
    }))
}

fn pod(i: usize) -> Rc<Object> {
    let requests: BTreeMap<String, Q> = [("cpu", "100m"), ("memory", "128Mi")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Q(v.to_string())))
        .collect();
    // Ten replicas per ReplicaSet, so default topology spreading applies.
    let rs = i / 10;
    Rc::new(Object::Pod(Pod {
        metadata: ObjectMeta {
            name: Some(format!("app-{rs}-{i}")),
            namespace: Some("default".into()),
            uid: Some(format!("pod-uid-{i}")),
            labels: Some(
                [("app".to_string(), format!("app-{rs}"))]
                    .into_iter()
                    .collect(),
            ),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "ReplicaSet".into(),
                name: format!("app-{rs}"),
                uid: format!("rs-uid-{rs}"),
                controller: Some(true),
                block_owner_deletion: None,
            }]),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "app".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(requests),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: None,
    }))
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let (nodes, pods) = (5_000, 150_000);
    let mut s = Scheduler::default();
    let mut rng = SimRng::new(1);
    let now = SimTime(0);
    for i in 0..nodes {
        s.on_node_add(now, node(i));
    }
    for i in 0..pods {
        s.on_pod_add(now, pod(i));
    }
    let t = wall();
    let (mut bound, mut failed) = (0usize, 0usize);
    while let Some(r) = s.run_next(now, &mut rng) {
        match r.action {
            Action::Bind { .. } => {
                s.binding_succeeded(&r.decision.pod);
                bound += 1;
            }
            Action::Failed { .. } => failed += 1,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let busiest = s.cache.nodes().map(|n| n.pods.len()).max().unwrap_or(0);
    let idlest = s.cache.nodes().map(|n| n.pods.len()).min().unwrap_or(0);
    println!(
        "scheduled {bound} pods ({failed} failed) onto {nodes} nodes in {secs:.2} s: {:.0} pods/s; pods per node {idlest}..{busiest}",
        bound as f64 / secs
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak resident memory (VmHWM): {:.0} MiB",
            kib as f64 / 1024.0
        );
    }
}
