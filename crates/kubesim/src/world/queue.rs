//! The event queue: what happens next, in a deterministic order.
//!
//! Events are ordered by their due time and, for equal times, by the order in
//! which they were scheduled, so two runs that schedule the same events in the
//! same order pop them in the same order, byte for byte. This is the heart of
//! the discrete-event loop (turmoil's `sim.rs`, stateright's actor runtime):
//! the world pops the next event, hands it to a component, and schedules what
//! the component returned.

use super::time::SimTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A handle to a scheduled event, used to cancel it (a timer being reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u64);

/// Empty buckets kept for reuse, so that a busy millisecond does not cost
/// an allocation.
const SPARE_BUCKETS: usize = 64;

/// A priority queue of events keyed by virtual time, ties broken by insertion.
///
/// Time is counted in whole milliseconds, so many events share an instant:
/// the queue keeps one FIFO bucket per instant. Sequence numbers grow with
/// every schedule, so a bucket is always in sequence order and popping the
/// front of the earliest bucket gives exactly the (time, sequence) order.
#[derive(Clone)]
pub struct EventQueue<E> {
    buckets: BTreeMap<SimTime, VecDeque<(u64, E)>>,
    spare: Vec<VecDeque<(u64, E)>>,
    queued: usize,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            buckets: BTreeMap::new(),
            spare: Vec::new(),
            queued: 0,
            next_seq: 0,
            cancelled: Default::default(),
        }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `at`. Events at the same instant pop in the order
    /// they were scheduled.
    pub fn schedule(&mut self, at: SimTime, event: E) -> EventId {
        let seq = self.next_seq;
        self.next_seq += 1;
        let spare = &mut self.spare;
        self.buckets
            .entry(at)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .push_back((seq, event));
        self.queued += 1;
        EventId(seq)
    }

    /// Cancels a scheduled event; cancelling one already popped does nothing.
    pub fn cancel(&mut self, id: EventId) {
        if id.0 < self.next_seq {
            self.cancelled.insert(id.0);
        }
    }

    /// Removes and returns the earliest event, cancelled or not.
    fn pop_head(&mut self) -> Option<(SimTime, u64, E)> {
        let mut first = self.buckets.first_entry()?;
        let at = *first.key();
        let popped = first.get_mut().pop_front();
        if first.get().is_empty() {
            let bucket = first.remove();
            if self.spare.len() < SPARE_BUCKETS {
                self.spare.push(bucket);
            }
        }
        let (seq, event) = popped?;
        self.queued -= 1;
        Some((at, seq, event))
    }

    fn drop_cancelled_head(&mut self) {
        if self.cancelled.is_empty() {
            return;
        }
        while let Some(seq) = self
            .buckets
            .first_key_value()
            .and_then(|(_, b)| b.front())
            .map(|(seq, _)| *seq)
        {
            if self.cancelled.remove(&seq) {
                self.pop_head();
            } else {
                break;
            }
        }
    }

    /// When the next live event is due, if any.
    pub fn next_due(&mut self) -> Option<SimTime> {
        self.drop_cancelled_head();
        self.buckets.first_key_value().map(|(at, _)| *at)
    }

    /// Pops the next event if it is due at or before `until`.
    pub fn pop_due(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        if self.next_due()? > until {
            return None;
        }
        self.pop_head().map(|(at, _, event)| (at, event))
    }

    /// The number of live events waiting.
    pub fn len(&self) -> usize {
        self.queued.saturating_sub(self.cancelled.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_pop_in_time_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(30), "c");
        q.schedule(SimTime(10), "a");
        q.schedule(SimTime(20), "b");
        let order: Vec<_> =
            std::iter::from_fn(|| q.pop_due(SimTime(100)).map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn events_at_the_same_instant_pop_in_the_order_they_were_scheduled() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.schedule(SimTime(5), i);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(SimTime(5)).map(|(_, e)| e)).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn events_not_yet_due_stay_in_the_queue() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(50), ());
        assert_eq!(q.pop_due(SimTime(49)), None);
        assert_eq!(q.next_due(), Some(SimTime(50)));
        assert_eq!(q.pop_due(SimTime(50)), Some((SimTime(50), ())));
        assert!(q.is_empty());
    }

    #[test]
    fn a_cancelled_event_never_pops() {
        let mut q = EventQueue::new();
        let a = q.schedule(SimTime(1), "a");
        q.schedule(SimTime(2), "b");
        q.cancel(a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next_due(), Some(SimTime(2)));
        assert_eq!(q.pop_due(SimTime(10)), Some((SimTime(2), "b")));
        assert_eq!(q.pop_due(SimTime(10)), None);
    }

    #[test]
    fn interleaved_schedules_and_cancels_pop_in_time_then_schedule_order() {
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        let mut rng = crate::world::SimRng::new(4);
        let mut now = 0;
        for i in 0..2_000u64 {
            let at = now + rng.between(0, 5);
            let id = q.schedule(SimTime(at), i);
            if rng.chance(0.1) {
                q.cancel(id);
            } else {
                expected.push((at, i));
            }
            // Pop what is due now and then, as the world's loop does.
            if i % 7 == 0 {
                now += 1;
                while let Some((t, e)) = q.pop_due(SimTime(now)) {
                    let pos = expected.iter().position(|x| x.1 == e).unwrap();
                    let (want_at, _) = expected.remove(pos);
                    assert_eq!(t.0, want_at);
                    // Nothing earlier (or scheduled before it at its time) is left.
                    assert!(expected.iter().all(|&(a, j)| (a, j) > (want_at, e)));
                }
            }
        }
        let rest: Vec<_> = std::iter::from_fn(|| q.pop_due(SimTime(u64::MAX)))
            .map(|(t, e)| (t.0, e))
            .collect();
        expected.sort();
        assert_eq!(rest, expected);
        assert!(q.is_empty());
    }
}
