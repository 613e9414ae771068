//! `cargo xtask bench`: the core's benchmarks, reported, never asserted.
//!
//! Measured so far: the world's event loop (schedule and deliver timers
//! through the virtual clock). Later steps add the write path, heartbeats and
//! scheduling throughput named in DESIGN.md §6.

use kubesim::world::{SimDuration, SimTime, World};

// A benchmark measures wall time; the simulation it drives never reads it.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)]
fn event_loop(events: u64) -> f64 {
    let mut world: World<u64> = World::new(1);
    let start = std::time::Instant::now();
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

fn main() {
    let rate = event_loop(5_000_000);
    println!(
        "world event loop: {rate:.0} events/s (1,000 self-re-arming timers, 5,000,000 deliveries)"
    );
}
