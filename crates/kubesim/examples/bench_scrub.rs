//! A scrub back on a long run, from the seed and from a checkpoint (issue
//! 6): a 10-minute run of the default cluster with a Deployment of 50
//! nginx pods (scaled, faulted, healed on the way), played as the page
//! plays it (50 ms steps, a checkpoint offered after each, one every 30
//! virtual seconds, at most 16), then a scrub back to 9:00 both ways.
//! Reports the wall time of each, what a checkpoint costs to take (time,
//! and bytes a counting allocator sees stay live), how often a moment
//! refused a copy, and checks the two scrubs reach the same cluster.
//! Run with `cargo run --release -p kubesim --example bench_scrub
//! [minutes [replicas]]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use kubesim::runlog::{Checkpoints, RunLog};
use kubesim::shell::Session;
use kubesim::{Cluster, SimDuration, SimTime, Topology};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes straight to `System` with the same arguments;
// the counter only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: as documented on `GlobalAlloc::alloc`, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

// A benchmark measures wall time; the simulation it drives never reads it.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let minutes: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let replicas: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let end = minutes * 60_000;
    let script: Vec<(u64, String)> = vec![
        (
            2_000,
            format!("kubectl create deployment web --image=nginx --replicas={replicas}"),
        ),
        (end / 5, "sim fault etcd/leader crash".into()),
        (end / 5 + 30_000, "sim heal all".into()),
        (
            end / 3,
            format!("kubectl scale deployment web --replicas={}", replicas / 2),
        ),
        (end / 2, "sim fault worker-2 power-off".into()),
        (end / 2 + 60_000, "sim heal all".into()),
        (
            2 * end / 3,
            format!("kubectl scale deployment web --replicas={replicas}"),
        ),
    ];
    let topology = Topology::default();
    let seed = 1;
    let mut log = RunLog::new(&topology, seed);
    let mut c = Cluster::new(topology, seed);
    // Booted as a lesson boots it (the replay boots the same way).
    if !c.boot(kubesim::scenario::BOOT_LIMIT) {
        eprintln!("scrub bench: the control plane did not boot");
        std::process::exit(1);
    }
    log.booted = true;
    log.reached(c.now());
    let mut s = Session::new();
    let mut checkpoints: Checkpoints = Checkpoints::new(SimDuration::from_secs(30), 16);
    let (mut offered, mut refused, mut kept) = (0u64, 0u64, 0u64);
    let mut keep_time = std::time::Duration::ZERO;
    let mut keep_bytes: isize = 0;
    let run_start = wall();
    let mut frames =
        |c: &mut Cluster, s: &Session, log: &RunLog, until: u64, cps: &mut Checkpoints| {
            while c.now().as_millis() < until {
                let next = (c.now().as_millis() + 50).min(until);
                c.advance_to(SimTime::from_millis(next));
                if cps.is_due(c.now()) {
                    offered += 1;
                    let (t0, b0) = (wall(), LIVE.load(Relaxed) as isize);
                    if cps.offer(c, s, log.entries.len(), || ()) {
                        kept += 1;
                        keep_time += t0.elapsed();
                        keep_bytes += LIVE.load(Relaxed) as isize - b0;
                    } else {
                        refused += 1;
                    }
                }
            }
        };
    for (at, cmd) in &script {
        frames(&mut c, &s, &log, *at, &mut checkpoints);
        log.record(c.now(), cmd);
        for o in s.run_script(&mut c, cmd) {
            if !o.ok {
                eprintln!("{}: {}", o.input, o.output);
            }
        }
    }
    frames(&mut c, &s, &log, end, &mut checkpoints);
    log.reached(c.now());
    let run_wall = run_start.elapsed();
    // Read on a copy, so the run itself stays as recorded.
    let running = match c.try_clone() {
        Some(mut copy) => s
            .clone()
            .run_script(&mut copy, "kubectl get pods --no-headers")
            .first()
            .map_or(0, |o| {
                o.output.lines().filter(|l| l.contains(" Running ")).count()
            }),
        None => 0,
    };
    println!("pods Running at the end: {running}");
    let live_now = LIVE.load(Relaxed);
    println!(
        "run: {minutes} virtual minutes, Deployment of {replicas}, {} trace events, {:.2} s wall (checkpoints included)",
        c.trace().total(),
        run_wall.as_secs_f64()
    );
    println!(
        "checkpoints: {kept} taken of {offered} due moments ({refused} refused: an etcd member mid-Ready, taken 50 ms later), kept {} at {:?}",
        checkpoints.times().len(),
        checkpoints.times().iter().map(|t| t.to_string()).collect::<Vec<_>>()
    );
    println!(
        "  per checkpoint: {:.2} ms to copy, {:.2} MB newly live (before thinning); live heap now {:.1} MB",
        keep_time.as_secs_f64() * 1e3 / kept.max(1) as f64,
        keep_bytes as f64 / 1e6 / kept.max(1) as f64,
        live_now as f64 / 1e6
    );
    let target = SimTime::from_millis(end.saturating_sub(60_000));
    let t0 = wall();
    let zero = log.replay(Some(target));
    let from_zero = t0.elapsed();
    let cp = checkpoints.nearest(target);
    let t0 = wall();
    let restored = log.replay_from(cp, Some(target));
    let from_cp = t0.elapsed();
    println!(
        "scrub back to {target}: from the seed {:.1} ms, from the checkpoint at {} {:.1} ms ({:.0}x faster)",
        from_zero.as_secs_f64() * 1e3,
        cp.map(|c| c.at().to_string()).unwrap_or_else(|| "-".into()),
        from_cp.as_secs_f64() * 1e3,
        from_zero.as_secs_f64() / from_cp.as_secs_f64().max(1e-9)
    );
    let same = serde_json::to_string(&zero.cluster.snapshot()).ok()
        == serde_json::to_string(&restored.cluster.snapshot()).ok()
        && zero.cluster.trace().total() == restored.cluster.trace().total();
    println!("same cluster both ways: {same}");
    if !same {
        std::process::exit(1);
    }
}
