//! A busy cluster at steady state (the page benchmark's cluster, natively):
//! 3 control-plane nodes and 97 workers, a Deployment of 3,000 nginx pods
//! that all run, then one virtual minute of steady state with tracing on (as
//! the page runs it), advanced in the page's 50 ms steps. Reported as
//! virtual seconds per wall second and wall milliseconds per 50 ms step: the
//! page at 100x needs a 50 ms step to cost under about 0.5 ms of a frame.
//! Then the diagram's snapshot as the page takes it, reusing the last
//! one's pod views, and a cold one. Then a scrub checkpoint as the page
//! takes it (a copy of the whole cluster, `Cluster::try_clone`), a few of
//! them a few virtual seconds apart.
//! Run with `cargo xtask bench busy` (or the example with `[workers
//! [replicas]]`; `BUSY_PERF_CTL`: see [`perf_control`]).

use kubesim::shell::Session;
use kubesim::world::SimDuration;
use kubesim::{Cluster, Topology};

// A benchmark measures wall time; the simulation it drives never reads it.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Profiling one phase: with `BUSY_PERF_CTL` naming the control FIFO of
/// `perf record --control fifo:<path> -D -1`, the phase named by
/// `BUSY_PERF_PHASE` (`steady`, the default, `snapshot` or `checkpoint`) turns the
/// recording on and off.
fn perf_control(phase: &str, command: &str) {
    let wanted = std::env::var("BUSY_PERF_PHASE").unwrap_or_else(|_| "steady".into());
    if wanted != phase {
        return;
    }
    if let Some(path) = std::env::var_os("BUSY_PERF_CTL") {
        if let Err(e) = std::fs::write(path, format!("{command}\n")) {
            eprintln!("busy bench: perf control: {e}");
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "busy");
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(97);
    let replicas: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let topology = match Topology::builder().workers(workers).build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("busy bench: {e}");
            return;
        }
    };
    let setup = wall();
    let mut c = Cluster::new(topology, 1);
    if !c.boot(SimDuration::from_secs(60)) {
        eprintln!("busy bench: the control plane did not boot");
        return;
    }
    let boot_cpu = cpu_ns();
    let rollout_from = c.now();
    let mut shell = Session::new();
    let script = format!(
        "kubectl create deployment web --image=nginx --replicas={replicas}\n\
         sim until deployment/web '{{.status.availableReplicas}}'={replicas} 20m"
    );
    for o in shell.run_script(&mut c, &script) {
        if !o.ok {
            eprintln!("busy bench: {} failed: {}", o.input, o.output);
            return;
        }
    }
    let setup_secs = setup.elapsed().as_secs_f64();
    let rollout_virtual = (c.now() - rollout_from).as_millis() as f64 / 1000.0;
    let rollout_cpu = cpu_ns()
        .zip(boot_cpu)
        .map(|(e, s)| e.saturating_sub(s) as f64 / 1e9);
    println!(
        "busy rollout: {replicas} pods available after {rollout_virtual:.0} virtual s{}",
        rollout_cpu
            .map(|cpu| format!(
                ", {cpu:.1} CPU s ({:.1} virtual s per CPU s; {:.2} CPU ms per 50 ms step)",
                rollout_virtual / cpu,
                cpu * 1000.0 / (rollout_virtual * 20.0)
            ))
            .unwrap_or_default()
    );
    // Settle: let the rollout's last writes and events drain.
    c.advance(SimDuration::from_secs(30));
    let events_start = c.snapshot().events_delivered;
    perf_control("steady", "enable");
    let start = wall();
    let cpu_start = cpu_ns();
    let steps = 1200; // one virtual minute in 50 ms steps
    for _ in 0..steps {
        c.advance(SimDuration::from_millis(50));
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_ns()
        .zip(cpu_start)
        .map(|(e, s)| e.saturating_sub(s) as f64 / 1e9);
    perf_control("steady", "disable");
    let events = c.snapshot().events_delivered - events_start;
    println!(
        "busy: {:.1} virtual s per wall s; {:.2} wall ms per 50 ms step ({} workers, {replicas} pods running, tracing on, {events} events in 60 virtual s; setup {setup_secs:.1} wall s)",
        60.0 / secs,
        secs * 1000.0 / steps as f64,
        workers,
    );
    if let Some(cpu) = cpu {
        println!(
            "  on CPU time alone: {:.2} ms per 50 ms step; the page at 100x needs under 0.5 ms",
            cpu * 1000.0 / steps as f64
        );
    }
    // The diagram's snapshot, as the page takes it while the clock runs: a
    // snapshot every 100 virtual ms (two 50 ms steps), reusing the last
    // one's pod views through a `SnapshotCache`; then a cold one (no cache).
    let rounds = 100;
    let mut cache = kubesim::SnapshotCache::default();
    let _warm = c.snapshot_reusing(&mut cache);
    // Wall time: a thread's CPU time in /proc moves only at scheduler
    // ticks, too coarse for one snapshot; the least of them is the figure
    // a loaded machine disturbs least.
    let (mut snap_total, mut snap_least) = (0.0f64, f64::MAX);
    for _ in 0..rounds {
        c.advance(SimDuration::from_millis(100));
        let w = wall();
        let s = c.snapshot_reusing(&mut cache);
        let t = w.elapsed().as_secs_f64();
        snap_total += t;
        snap_least = snap_least.min(t);
        std::hint::black_box(&s);
    }
    // Profiled apart (the clock's advances between them left out).
    if std::env::var("BUSY_PERF_PHASE").is_ok_and(|p| p == "snapshot") {
        perf_control("snapshot", "enable");
        for _ in 0..500 {
            std::hint::black_box(c.snapshot_reusing(&mut cache));
        }
        perf_control("snapshot", "disable");
    }
    let w = wall();
    let cold = c.snapshot();
    let cold_wall = w.elapsed().as_secs_f64();
    let pods: usize =
        cold.nodes.iter().map(|n| n.pods.len()).sum::<usize>() + cold.pending_pods.len();
    println!(
        "  snapshot ({} nodes, {pods} pods): {:.0} µs wall per snapshot reusing the last one's views (mean of {rounds}, one every 100 virtual ms; least {:.0} µs); cold {:.0} µs",
        cold.nodes.len(),
        snap_total * 1e6 / rounds as f64,
        snap_least * 1e6,
        cold_wall * 1e6,
    );
    // A scrub checkpoint, as the page takes one: a copy of the whole
    // cluster. A few of them, a few virtual seconds apart (each dropped,
    // as the page's cap drops them, after the next is taken).
    let copies = 8;
    let (mut cp_total, mut cp_max, mut cp_least) = (0.0f64, 0.0f64, f64::MAX);
    let mut kept = None;
    let mut failed = 0;
    // The 50 ms steps after each copy, while it is kept: what the copy's
    // sharing defers (a value both hold is copied when one side writes
    // it) lands there, to compare with the steady state's steps above.
    let (mut after_total, mut after_steps) = (0.0f64, 0usize);
    for _ in 0..copies {
        let w = wall();
        for _ in 0..60 {
            c.advance(SimDuration::from_millis(50));
        }
        if kept.is_some() {
            after_total += w.elapsed().as_secs_f64();
            after_steps += 60;
        }
        let w = wall();
        let copy = c.try_clone();
        let t = w.elapsed().as_secs_f64();
        if copy.is_none() {
            failed += 1;
            continue;
        }
        cp_total += t;
        cp_max = cp_max.max(t);
        cp_least = cp_least.min(t);
        // Dropped outside the timing (the page drops one at thinning).
        drop(std::mem::replace(&mut kept, copy));
    }
    let taken = copies - failed;
    if taken > 0 {
        println!(
            "  checkpoint (a copy of the cluster): {:.1} ms wall mean of {taken}, max {:.1} ms, least {:.1} ms{}",
            cp_total * 1e3 / taken as f64,
            cp_max * 1e3,
            cp_least * 1e3,
            if failed > 0 {
                format!(" ({failed} moments could not be copied)")
            } else {
                String::new()
            }
        );
    }
    if after_steps > 0 {
        println!(
            "  steps while a checkpoint is kept: {:.2} wall ms per 50 ms step (mean of {after_steps})",
            after_total * 1e3 / after_steps as f64
        );
    }
    // Profiled apart (the clock's advances between them left out).
    if std::env::var("BUSY_PERF_PHASE").is_ok_and(|p| p == "checkpoint") {
        perf_control("checkpoint", "enable");
        for _ in 0..20 {
            std::hint::black_box(c.try_clone());
        }
        perf_control("checkpoint", "disable");
    }
    drop(kept);
}
