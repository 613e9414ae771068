//! The simulated world: the virtual clock, the event queue and the seeded RNG.
//!
//! Components never act on their own: they are state machines that receive
//! (now, input) and return effects as data (messages to send, timers to set).
//! Only the world advances time and delivers, one event at a time, in a
//! deterministic order (see turmoil's `sim.rs` and stateright's `Out`).

pub mod network;
mod queue;
mod rng;
mod time;
pub mod trace;

pub use network::{Network, NetworkConfig};
pub use queue::{EventId, EventQueue};
pub use rng::SimRng;
pub use time::{SimDuration, SimTime};
pub use trace::{Trace, TraceEvent};

/// The clock, the queue of pending events and the run's RNG.
#[derive(Clone)]
pub struct World<E> {
    now: SimTime,
    queue: EventQueue<E>,
    rng: SimRng,
    delivered: u64,
}

impl<E> World<E> {
    pub fn new(seed: u64) -> Self {
        World {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            rng: SimRng::new(seed),
            delivered: 0,
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.rng.seed()
    }

    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// How many events have been delivered since the run started.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Schedules `event` after `delay` from now.
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) -> EventId {
        self.queue.schedule(self.now + delay, event)
    }

    /// Schedules `event` at `at` (never in the past: the clock only moves on).
    pub fn schedule_at(&mut self, at: SimTime, event: E) -> EventId {
        self.queue.schedule(at.max(self.now), event)
    }

    pub fn cancel(&mut self, id: EventId) {
        self.queue.cancel(id);
    }

    /// When the next pending event is due.
    pub fn next_due(&mut self) -> Option<SimTime> {
        self.queue.next_due()
    }

    /// Pops the next event due at or before `until`, moving the clock to it.
    /// Returns `None` (and leaves the clock alone) when nothing is due.
    pub fn pop_until(&mut self, until: SimTime) -> Option<E> {
        let (at, event) = self.queue.pop_due(until)?;
        self.now = self.now.max(at);
        self.delivered += 1;
        Some(event)
    }

    /// Moves the clock forward to `t` once every event up to it was handled.
    pub fn settle_at(&mut self, t: SimTime) {
        self.now = self.now.max(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_jumps_to_each_event_and_then_to_the_target() {
        let mut w = World::new(1);
        w.schedule_in(SimDuration::from_millis(300), "a");
        w.schedule_in(SimDuration::from_millis(100), "b");
        let target = SimTime(1000);
        let mut seen = vec![];
        while let Some(e) = w.pop_until(target) {
            seen.push((w.now(), e));
        }
        w.settle_at(target);
        assert_eq!(seen, vec![(SimTime(100), "b"), (SimTime(300), "a")]);
        assert_eq!(w.now(), SimTime(1000));
        assert_eq!(w.delivered(), 2);
    }

    #[test]
    fn an_event_scheduled_in_the_past_runs_now() {
        let mut w: World<u8> = World::new(1);
        w.settle_at(SimTime(500));
        w.schedule_at(SimTime(100), 7);
        assert_eq!(w.next_due(), Some(SimTime(500)));
    }

    #[test]
    fn seeded_random_delays_give_the_same_order_on_every_run() {
        fn run(seed: u64) -> Vec<(SimTime, u32)> {
            let mut w = World::new(seed);
            for i in 0..200 {
                let d = w.rng().between(0, 50);
                w.schedule_in(SimDuration::from_millis(d), i);
            }
            let mut out = vec![];
            while let Some(e) = w.pop_until(SimTime(100)) {
                out.push((w.now(), e));
            }
            out
        }
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
    }
}
