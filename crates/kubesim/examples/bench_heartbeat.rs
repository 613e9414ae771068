//! 1,000 nodes heartbeating for one virtual hour (issue 4's benchmark): a
//! whole simulated cluster (3 control-plane nodes with etcd, the API
//! servers, controller-manager, scheduler) and 1,000 workers whose kubelets
//! renew their Leases in `kube-node-lease` every 10 s while the node
//! lifecycle controller monitors them every 5 s. Reported as virtual
//! seconds per wall second (and simulation events per wall second).
//! Run with `cargo xtask bench heartbeat`.

use kubesim::api::{KindId, Object};
use kubesim::world::SimDuration;
use kubesim::{Cluster, SimTime, Topology};

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

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Ready worker Nodes and Leases renewed in the last `within`, as the API
/// servers hold them.
fn census(c: &Cluster, within: SimDuration) -> (usize, usize) {
    let ready = c
        .observe_all(KindId::Node)
        .iter()
        .filter(|o| match &***o {
            Object::Node(n)
                if !n
                    .metadata
                    .name
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("control-plane") =>
            {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
            }
            _ => false,
        })
        .count();
    // Renewals are stamped with the simulation's calendar: count those
    // within `within` of the newest.
    let renewals: Vec<i64> = c
        .observe_all(KindId::Lease)
        .iter()
        .filter_map(|o| match &**o {
            Object::Lease(l) if l.metadata.namespace.as_deref() == Some("kube-node-lease") => l
                .spec
                .as_ref()
                .and_then(|s| s.renew_time.as_ref())
                .map(|t| t.0.as_millisecond()),
            _ => None,
        })
        .collect();
    let newest = renewals.iter().copied().max().unwrap_or(0);
    let fresh = renewals
        .iter()
        .filter(|t| newest - **t <= within.as_millis() as i64)
        .count();
    (ready, fresh)
}

/// The virtual hour the benchmark runs, and the most wall time it may take
/// before it stops and reports what it reached.
const VIRTUAL: SimDuration = SimDuration::from_secs(3600);
const WALL_LIMIT_SECS: f64 = 900.0;

fn main() {
    let workers: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let topology = match Topology::builder().workers(workers).build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("heartbeat bench: {e}");
            return;
        }
    };
    let setup = wall();
    let mut c = Cluster::new(topology, 1);
    c.set_tracing(false);
    if !c.boot(SimDuration::from_secs(60)) {
        eprintln!("heartbeat bench: the control plane did not boot");
        return;
    }
    // Let every kubelet join (TLS bootstrap, registration, first leases).
    let join_deadline = c.now() + SimDuration::from_secs(300);
    loop {
        c.advance(SimDuration::from_secs(10));
        let (ready, _) = census(&c, SimDuration::from_secs(10));
        if ready >= workers || c.now() >= join_deadline {
            break;
        }
    }
    let (ready_before, _) = census(&c, SimDuration::from_secs(10));
    let setup_secs = setup.elapsed().as_secs_f64();
    let events_start = c.snapshot().events_delivered;
    let sim_start: SimTime = c.now();
    let start = wall();
    let cpu_start = cpu_ns();
    let end = sim_start + VIRTUAL;
    let mut stopped_early = false;
    while c.now() < end {
        c.advance(SimDuration::from_secs(60));
        if start.elapsed().as_secs_f64() > WALL_LIMIT_SECS {
            stopped_early = true;
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_secs = cpu_ns()
        .zip(cpu_start)
        .map(|(e, s)| e.saturating_sub(s) as f64 / 1e9);
    let virtual_secs = (c.now() - sim_start).as_millis() as f64 / 1000.0;
    let events = c.snapshot().events_delivered - events_start;
    let (ready, fresh) = census(&c, SimDuration::from_secs(10));
    println!(
        "heartbeat: {:.1} virtual s per wall s ({:.0} events/s); {workers} workers renewing their Leases every 10 s, node lifecycle monitoring every 5 s: {virtual_secs:.0} virtual s in {secs:.1} wall s{}, {events} events",
        virtual_secs / secs,
        events as f64 / secs,
        if stopped_early {
            format!(" (stopped at the {WALL_LIMIT_SECS:.0} s wall limit before the virtual hour)")
        } else {
            String::new()
        }
    );
    if let Some(cpu) = cpu_secs {
        println!(
            "  on CPU time alone: {:.1} virtual s per CPU s (wall time also counts other processes on a shared machine)",
            virtual_secs / cpu
        );
    }
    println!(
        "  nodes Ready: {ready_before} before, {ready} after; Leases renewed in the last 10 s at the end: {fresh} (boot and join took {setup_secs:.1} wall s){}",
        peak_rss_mib()
            .map(|m| format!("; peak memory {m:.0} MiB"))
            .unwrap_or_default()
    );
}
