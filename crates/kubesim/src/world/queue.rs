//! The event queue: what happens next, in a deterministic order.
//!
//! Events are ordered by their due time and, for equal times, by the order in
//! which they were scheduled, so two runs that schedule the same events in the
//! same order pop them in the same order, byte for byte. This is the heart of
//! the discrete-event loop (turmoil's `sim.rs`, stateright's actor runtime):
//! the world pops the next event, hands it to a component, and schedules what
//! the component returned.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A handle to a scheduled event, used to cancel it (a timer being reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u64);

/// The heap holds only the ordering key and the slot of the event's payload,
/// so that sifting moves 24 bytes rather than whole messages.
struct Entry {
    at: SimTime,
    seq: u64,
    slot: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that the max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// A priority queue of events keyed by virtual time, ties broken by insertion.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    /// The payloads, by slot; `None` for a free slot.
    slots: Vec<Option<E>>,
    /// Free slots, reused before the vector grows.
    free: Vec<usize>,
    next_seq: u64,
    cancelled: std::collections::BTreeSet<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
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
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                self.slots.len() - 1
            }
        };
        self.heap.push(Entry { at, seq, slot });
        EventId(seq)
    }

    /// Cancels a scheduled event; cancelling one already popped does nothing.
    pub fn cancel(&mut self, id: EventId) {
        if id.0 < self.next_seq {
            self.cancelled.insert(id.0);
        }
    }

    fn drop_cancelled_head(&mut self) {
        while let Some(head) = self.heap.peek() {
            if self.cancelled.remove(&head.seq) {
                if let Some(e) = self.heap.pop() {
                    self.take(e.slot);
                }
            } else {
                break;
            }
        }
    }

    /// When the next live event is due, if any.
    pub fn next_due(&mut self) -> Option<SimTime> {
        self.drop_cancelled_head();
        self.heap.peek().map(|e| e.at)
    }

    /// Pops the next event if it is due at or before `until`.
    pub fn pop_due(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        self.drop_cancelled_head();
        if self.heap.peek()?.at > until {
            return None;
        }
        let e = self.heap.pop()?;
        Some((e.at, self.take(e.slot)?))
    }

    /// Takes the payload out of `slot` and frees the slot.
    fn take(&mut self, slot: usize) -> Option<E> {
        let event = self.slots.get_mut(slot)?.take();
        self.free.push(slot);
        event
    }

    /// The number of live events waiting.
    pub fn len(&self) -> usize {
        self.heap.len() - self.cancelled.len()
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
}
