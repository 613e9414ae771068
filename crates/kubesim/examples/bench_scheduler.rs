//! Scheduling throughput: 150,000 pods onto 5,000 nodes through the
//! scheduler's pure core (queue, filters, scores, assume), without the API
//! server. Run with `cargo xtask bench scheduler` (or the example with
//! `[pods [nodes]]` for a smaller run to profile).
//! Budget (DESIGN.md §6): at least 10,000 pods/s natively, and at most
//! 256 MiB peak memory.
//!
//! A counting allocator tallies the bytes live after each phase (nodes,
//! pod objects, pods queued, pods scheduled), so the report says where the
//! memory goes: the pod objects themselves or the scheduler's structures.
//! A pod object's count includes its share of what the pods of its
//! ReplicaSet hold once (containers, labels, owner reference).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use k8s_openapi::api::core::v1::{Node, NodeSpec, NodeStatus};

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kubesim::api::pod::{Container, Pod, PodMeta, PodSpec, ResourceList, ResourceRequirements};
use kubesim::api::Object;
use kubesim::scheduler::{Action, Scheduler};
use kubesim::{SimRng, SimTime};

/// The system allocator, counting what is live: the bytes asked for, and
/// what glibc's malloc takes for them (a 16-byte-aligned chunk with an
/// 8-byte header, 32 bytes at least), and the number of blocks.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIVE_CHUNKS: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);

fn chunk(size: usize) -> usize {
    (size + 8).div_ceil(16).max(2) * 16
}

// SAFETY: every call goes straight to `System` with the same arguments;
// the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        LIVE_CHUNKS.fetch_add(chunk(l.size()), Relaxed);
        BLOCKS.fetch_add(1, Relaxed);
        // SAFETY: as documented on `GlobalAlloc::alloc`, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        LIVE_CHUNKS.fetch_add(chunk(l.size()), Relaxed);
        BLOCKS.fetch_add(1, Relaxed);
        // SAFETY: forwarded.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        LIVE_CHUNKS.fetch_sub(chunk(l.size()), Relaxed);
        BLOCKS.fetch_sub(1, Relaxed);
        // SAFETY: forwarded.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        LIVE_CHUNKS.fetch_add(chunk(new), Relaxed);
        LIVE_CHUNKS.fetch_sub(chunk(l.size()), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes asked for, malloc chunk bytes, blocks: what is live now.
#[derive(Clone, Copy, Default)]
struct Tally {
    bytes: usize,
    chunks: usize,
    blocks: usize,
}

fn tally() -> Tally {
    Tally {
        bytes: LIVE.load(Relaxed),
        chunks: LIVE_CHUNKS.load(Relaxed),
        blocks: BLOCKS.load(Relaxed),
    }
}

impl Tally {
    /// `what: X MiB (Y B per item in Z blocks)`, from `before` to `self`.
    fn since(self, before: Tally, what: &str, items: usize) -> String {
        let d = |a: usize, b: usize| a.saturating_sub(b) as f64;
        let n = items.max(1) as f64;
        format!(
            "{what} {:.0} MiB ({:.0} B per item asked, {:.0} B in malloc chunks, {:.1} blocks)",
            d(self.chunks, before.chunks) / 1048576.0,
            d(self.bytes, before.bytes) / n,
            d(self.chunks, before.chunks) / n,
            d(self.blocks, before.blocks) / n,
        )
    }
}

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
    Rc::new(Object::Node(Box::new(Node {
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
    })))
}

fn pod(i: usize) -> Rc<Object> {
    let requests: ResourceList = [("cpu", "100m"), ("memory", "128Mi")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Q(v.to_string())))
        .collect();
    // Ten replicas per ReplicaSet, so default topology spreading applies.
    let rs = i / 10;
    Rc::new(Object::Pod(Box::new(Pod {
        metadata: PodMeta {
            name: Some(format!("app-{rs}-{i}")),
            namespace: Some("default".into()),
            uid: Some(format!("pod-uid-{i}")),
            labels: Some(
                [("app".to_string(), format!("app-{rs}"))]
                    .into_iter()
                    .collect(),
            ),
            owner_references: Some(
                vec![OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "ReplicaSet".into(),
                    name: format!("app-{rs}"),
                    uid: format!("rs-uid-{rs}"),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]
                .into(),
            ),
            ..Default::default()
        },
        spec: Some(PodSpec {
            // `into`: looked up by value (api/shared.rs), so the pods share
            // one copy of their containers, as the pods a controller
            // creates from one template do (and likewise the labels and
            // owner reference of the pods of one ReplicaSet).
            containers: vec![Container {
                name: "app".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: Some(Box::new(ResourceRequirements {
                    requests: Some(requests),
                    ..Default::default()
                })),
                ..Default::default()
            }]
            .into(),
            ..Default::default()
        }),
        status: None,
    })))
}

/// Nanoseconds this thread has run on a CPU (Linux's schedstat), to tell
/// the scheduler's own cost from time lost to other processes on a shared
/// machine. `None` where the kernel does not say.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The throughput budget (DESIGN.md §6), pods per wall second.
const PODS_PER_SEC_BUDGET: f64 = 10_000.0;
/// The memory budget (DESIGN.md §6) for 5,000 nodes and 150,000 pods.
const MEMORY_BUDGET_MIB: f64 = 256.0;

fn main() {
    // `bench_scheduler [pods [nodes]]`: smaller runs for profiling.
    let arg = |i: usize, default: usize| {
        std::env::args()
            .nth(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (pods, nodes) = (arg(1, 150_000), arg(2, 5_000));
    let start = tally();
    let mut s = Scheduler::default();
    let mut rng = SimRng::new(1);
    let now = SimTime(0);
    for i in 0..nodes {
        s.on_node_add(now, node(i));
    }
    let with_nodes = tally();
    // The pod objects first (as an informer's store would hold them), then
    // the scheduler's queue of them.
    let objects: Vec<Rc<Object>> = (0..pods).map(pod).collect();
    let with_objects = tally();
    for p in &objects {
        s.on_pod_add(now, p.clone());
    }
    let with_queue = tally();
    drop(objects);
    let queued_kib = peak_rss_kib();
    let t = wall();
    let cpu_start = cpu_ns();
    let (mut bound, mut failed) = (0usize, 0usize);
    let mut decisions: u64 = 0xcbf2_9ce4_8422_2325;
    while let Some(r) = s.run_next(now, &mut rng) {
        match r.action {
            Action::Bind { node, .. } => {
                // FNV-1a over the chosen nodes in order: a change to any
                // decision changes it.
                for b in node.bytes().chain([0]) {
                    decisions = (decisions ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                }
                s.binding_succeeded(&r.decision.pod);
                bound += 1;
            }
            Action::Failed { .. } => failed += 1,
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let scheduled = tally();
    let cpu_secs = cpu_ns()
        .zip(cpu_start)
        .map(|(e, s)| e.saturating_sub(s) as f64 / 1e9);
    let busiest = s.cache.nodes().map(|n| n.pods.len()).max().unwrap_or(0);
    let idlest = s.cache.nodes().map(|n| n.pods.len()).min().unwrap_or(0);
    let rate = bound as f64 / secs;
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "scheduler: {rate:.0} pods/s (budget {PODS_PER_SEC_BUDGET:.0}: {}); {bound} pods bound ({failed} failed) onto {nodes} nodes in {secs:.2} s through the scheduler's pure core (queue, PreFilter, Filter from the rotating start with percentageOfNodesToScore, PreScore, Score, assume); pods per node {idlest}..{busiest}; decisions' checksum {decisions:016x}",
        verdict(rate >= PODS_PER_SEC_BUDGET)
    );
    if let Some(cpu) = cpu_secs {
        println!(
            "  on CPU time alone: {:.0} pods/s (wall time also counts other processes on a shared machine)",
            bound as f64 / cpu
        );
    }
    println!(
        "  sizes: an Object {} B inline (a Pod {} B: its PodMeta {} B, PodSpec {} B, and a pointer to its PodStatus of {} B, boxed when set; a Container {} B; k8s-openapi's {} B and {} B), a PodInfo {} B; {} pods resident in the scheduler",
        std::mem::size_of::<Object>(),
        std::mem::size_of::<Pod>(),
        std::mem::size_of::<PodMeta>(),
        std::mem::size_of::<PodSpec>(),
        std::mem::size_of::<kubesim::api::pod::PodStatus>(),
        std::mem::size_of::<Container>(),
        std::mem::size_of::<k8s_openapi::api::core::v1::Pod>(),
        std::mem::size_of::<k8s_openapi::api::core::v1::Container>(),
        std::mem::size_of::<kubesim::scheduler::PodInfo>(),
        s.cache.num_pods()
    );
    // The pod objects are the same before and after: what scheduling adds
    // over the queue is the cache's (PodInfo, its maps, node lists).
    let objects_only = Tally {
        bytes: with_objects.bytes - with_objects.bytes.min(with_nodes.bytes),
        chunks: with_objects.chunks - with_objects.chunks.min(with_nodes.chunks),
        blocks: with_objects.blocks - with_objects.blocks.min(with_nodes.blocks),
    };
    let after_objects = Tally {
        bytes: with_nodes.bytes + objects_only.bytes,
        chunks: with_nodes.chunks + objects_only.chunks,
        blocks: with_nodes.blocks + objects_only.blocks,
    };
    println!(
        "  live memory: {}; {}; {}; {}",
        with_nodes.since(start, "nodes", nodes),
        with_objects.since(with_nodes, "pod objects", pods),
        with_queue.since(with_objects, "queued", pods),
        scheduled.since(after_objects, "scheduled (the cache)", pods),
    );
    if let Some(kib) = peak_rss_kib() {
        let mib = kib as f64 / 1024.0;
        println!(
            "scheduler peak memory: {mib:.0} MiB (VmHWM; budget {MEMORY_BUDGET_MIB:.0} MiB: {}){}",
            verdict(mib <= MEMORY_BUDGET_MIB),
            queued_kib
                .map(|q| format!(
                    "; {:.0} MiB once every node and pod was in the scheduler, before the first cycle",
                    q as f64 / 1024.0
                ))
                .unwrap_or_default()
        );
    }
}
