//! A busy cluster at steady state (the page benchmark's cluster, natively):
//! 3 control-plane nodes and 97 workers, a Deployment of 3,000 nginx pods
//! that all run, then one virtual minute of steady state with tracing on (as
//! the page runs it), advanced in the page's 50 ms steps. Reported as
//! virtual seconds per wall second and wall milliseconds per 50 ms step: the
//! page at 100x needs a 50 ms step to cost under about 0.5 ms of a frame.
//! Run with `cargo xtask bench busy` (or the example with `[workers
//! [replicas]]`).

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
}
