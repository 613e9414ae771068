//! `cargo xtask bench`: the core's benchmarks, reported, never asserted.
//!
//! - the world's event loop (self-re-arming timers through the virtual clock);
//! - the full write path (DESIGN.md §6): kubectl → load balancer →
//!   kube-apiserver (authentication, RBAC, admission, validation) → etcd with
//!   3 Raft members → MVCC → the API servers' watch caches → client watches,
//!   measured as acknowledged creates per second of wall time.

use kubesim::api::{KindId, Object};
use kubesim::apiserver::{ApiRequest, ApiResponse, Verb};
use kubesim::world::{SimDuration, SimTime, World};
use kubesim::{Cluster, Topology};

// A benchmark measures wall time; the simulation it drives never reads it.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

/// Nanoseconds this thread has run on a CPU (Linux's schedstat), to tell
/// the simulation's own cost from time lost to other processes on a shared
/// machine. `None` where the kernel does not say.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn event_loop(events: u64) -> f64 {
    let mut world: World<u64> = World::new(1);
    let start = wall();
    for i in 0..1000 {
        let d = world.rng().between(1, 100);
        world.schedule_in(SimDuration::from_millis(d), i);
    }
    let mut delivered = 0;
    while delivered < events {
        let Some(e) = world.pop_until(SimTime(u64::MAX)) else {
            break;
        };
        delivered += 1;
        // Every delivered timer re-arms itself, as heartbeats do.
        let d = world.rng().between(1, 100);
        world.schedule_in(SimDuration::from_millis(d), e);
    }
    delivered as f64 / start.elapsed().as_secs_f64()
}

fn configmap(i: usize) -> Object {
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bench-{i}\n  labels:\n    app: bench\ndata:\n  value: \"{i}\"\n"
    );
    kubesim::api::decode(&yaml, "bench")
        .ok()
        .and_then(|mut v| v.pop())
        .expect("the benchmark's manifest decodes")
}

/// Creates `total` ConfigMaps with `in_flight` requests outstanding at a time,
/// and `watchers` client watches on ConfigMaps open through the balancer.
/// The clock stops once every write is acknowledged and every watch has
/// received the ADDED event of every write (it fails otherwise).
fn write_path(total: usize, in_flight: usize, watchers: usize) -> WritePath {
    let mut cluster = Cluster::new(Topology::default(), 1);
    cluster.set_tracing(false);
    assert!(cluster.boot(SimDuration::from_secs(30)));
    let cred = cluster.admin_credential();
    let mut watches = Vec::new();
    for _ in 0..watchers {
        let r =
            ApiRequest::new(Verb::Watch, KindId::ConfigMap, cred.clone()).in_namespace("default");
        watches.push(cluster.submit(r));
    }
    cluster.advance(SimDuration::from_millis(100));
    let objects: Vec<Object> = (0..total).map(configmap).collect();
    let start = wall();
    let cpu_start = cpu_ns();
    let sim_start = cluster.now();
    let mut pending = std::collections::VecDeque::new();
    let mut next = 0;
    let mut acked = 0;
    let mut seen = vec![0usize; watches.len()];
    let deadline = cluster.now() + SimDuration::from_secs(600);
    while acked < total || seen.iter().any(|n| *n < total) {
        assert!(
            cluster.now() < deadline,
            "the benchmark stalled: {acked} of {total} writes acknowledged, watches saw {seen:?}"
        );
        while pending.len() < in_flight && next < total {
            let r = ApiRequest::new(Verb::Create, KindId::ConfigMap, cred.clone())
                .in_namespace("default")
                .with_body(objects[next].clone());
            pending.push_back(cluster.submit(r));
            next += 1;
        }
        cluster.advance(SimDuration::from_millis(5));
        pending.retain(|id| {
            let replies = cluster.take_replies(*id);
            match replies.first() {
                Some(ApiResponse::Object(_)) => {
                    acked += 1;
                    false
                }
                Some(other) => panic!("a benchmark write failed: {}", other.summary()),
                None => true,
            }
        });
        for (w, n) in watches.iter().zip(seen.iter_mut()) {
            for r in cluster.take_replies(*w) {
                match r {
                    ApiResponse::Watch(e)
                        if e.kind == kubesim::apiserver::WatchEventType::Added =>
                    {
                        *n += 1
                    }
                    ApiResponse::WatchStarted => {}
                    other => panic!("a benchmark watch got {}", other.summary()),
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = cpu_ns()
        .zip(cpu_start)
        .map(|(end, start)| end.saturating_sub(start) as f64 / 1e9);
    WritePath {
        rate: total as f64 / secs,
        cpu_rate: cpu_secs.map(|c| total as f64 / c),
        sim_ms: (cluster.now() - sim_start).as_millis(),
        watch_events: seen.iter().sum(),
    }
}

/// What the write path measured.
struct WritePath {
    /// Acknowledged writes per wall second (the budgeted number).
    rate: f64,
    /// Writes per second of this thread's CPU time: the rate the machine
    /// would give without other processes competing for it.
    cpu_rate: Option<f64>,
    sim_ms: u64,
    watch_events: usize,
}

/// The write path's budget (issue 3), in writes per wall second.
const WRITE_BUDGET: f64 = 20_000.0;

fn report_write_path(w: &WritePath) {
    println!(
        "full write path: {:.0} writes/s (20,000 ConfigMap creates acknowledged per wall second, 500 in flight, kubectl -> LB -> kube-apiserver -> etcd raft x3 -> MVCC -> 3 watch caches -> 10 client watches; the clock stops when every watch has all {} ADDED events; {:.1} s of virtual time)",
        w.rate,
        w.watch_events,
        w.sim_ms as f64 / 1000.0
    );
    if let Some(cpu) = w.cpu_rate {
        println!(
            "  on CPU time alone: {cpu:.0} writes/s (wall time also counts other processes on a shared machine)"
        );
    }
    let verdict = if w.rate >= WRITE_BUDGET {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "  budget: {WRITE_BUDGET:.0} writes/s; result: {:.0} writes/s: {verdict}",
        w.rate
    );
}

fn main() {
    // `cargo xtask bench write` runs the write path alone (for profiling):
    // a filter runs the benchmarks whose name contains it.
    let filter = std::env::args().nth(1);
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if wanted("event-loop") {
        let rate = event_loop(5_000_000);
        println!(
            "world event loop: {rate:.0} events/s (1,000 self-re-arming timers, 5,000,000 deliveries; no budget)"
        );
    }
    if wanted("write-path") {
        report_write_path(&write_path(20_000, 500, 10));
    }
}
