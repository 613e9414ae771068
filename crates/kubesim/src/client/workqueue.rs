//! A controller's work queue, as client-go's `workqueue` package has it.
//!
//! Event handlers only add keys; workers take one key at a time, reconcile,
//! and report `done`. The queue guarantees what controllers rely on
//! (`k8s.io/client-go/util/workqueue/queue.go`):
//! - a key waiting in the queue is not added twice (dedupe);
//! - a key being processed is never handed to a second worker; if it is added
//!   meanwhile it is marked dirty and queued again when `done` is called;
//! - `add_after` delays a key on the virtual clock (`delaying_queue.go`);
//! - `add_rate_limited` delays a key exponentially per failure, 5 ms doubling
//!   up to 1000 s, until `forget` (`default_rate_limiters.go`,
//!   `DefaultTypedControllerRateLimiter`'s per-item part). The overall token
//!   bucket (10 qps, burst 100) is left out: the simulation has no thundering
//!   herd of retries worth modelling yet.

use crate::world::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// client-go's per-item exponential back-off: base 5 ms, cap 1000 s.
pub const RATE_LIMIT_BASE: SimDuration = SimDuration::from_millis(5);
pub const RATE_LIMIT_MAX: SimDuration = SimDuration::from_secs(1000);

#[derive(Clone, Debug)]
pub struct WorkQueue<K: Ord + Clone> {
    queue: VecDeque<K>,
    dirty: BTreeSet<K>,
    processing: BTreeSet<K>,
    waiting: BTreeMap<(SimTime, u64), K>,
    waiting_seq: u64,
    failures: BTreeMap<K, u32>,
}

impl<K: Ord + Clone> Default for WorkQueue<K> {
    fn default() -> Self {
        WorkQueue {
            queue: VecDeque::new(),
            dirty: BTreeSet::new(),
            processing: BTreeSet::new(),
            waiting: BTreeMap::new(),
            waiting_seq: 0,
            failures: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> WorkQueue<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `key` as needing work.
    pub fn add(&mut self, key: K) {
        if self.dirty.contains(&key) {
            return;
        }
        self.dirty.insert(key.clone());
        if self.processing.contains(&key) {
            return;
        }
        self.queue.push_back(key);
    }

    /// Adds `key` once the virtual clock reaches `now + delay`.
    pub fn add_after(&mut self, key: K, now: SimTime, delay: SimDuration) {
        if delay == SimDuration::ZERO {
            self.add(key);
            return;
        }
        self.waiting_seq += 1;
        self.waiting.insert((now + delay, self.waiting_seq), key);
    }

    /// Adds `key` after its exponential back-off, and counts the failure.
    pub fn add_rate_limited(&mut self, key: K, now: SimTime) -> SimDuration {
        let failures = self.failures.entry(key.clone()).or_insert(0);
        let exp = (*failures).min(40);
        *failures += 1;
        let delay_ms = RATE_LIMIT_BASE
            .as_millis()
            .saturating_mul(1u64 << exp)
            .min(RATE_LIMIT_MAX.as_millis());
        let delay = SimDuration::from_millis(delay_ms);
        self.add_after(key, now, delay);
        delay
    }

    /// Clears `key`'s failure count (it reconciled successfully).
    pub fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// How many times `key` has failed since it was last forgotten.
    pub fn num_requeues(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }

    /// Moves delayed keys whose time has come into the queue.
    pub fn promote_due(&mut self, now: SimTime) {
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.add(key);
        }
    }

    /// When the next delayed key becomes due.
    pub fn next_delayed(&self) -> Option<SimTime> {
        self.waiting.keys().next().map(|(t, _)| *t)
    }

    /// Hands out the next key to work on.
    pub fn get(&mut self) -> Option<K> {
        let key = self.queue.pop_front()?;
        self.dirty.remove(&key);
        self.processing.insert(key.clone());
        Some(key)
    }

    /// Reports that work on `key` ended; if it was added meanwhile it is
    /// queued again.
    pub fn done(&mut self, key: &K) {
        self.processing.remove(key);
        if self.dirty.contains(key) {
            self.queue.push_back(key.clone());
        }
    }

    /// Keys ready to be handed out.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_already_waiting_is_not_queued_twice() {
        let mut q = WorkQueue::new();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        assert_eq!(q.get(), Some("a"));
        assert_eq!(q.get(), Some("b"));
        assert_eq!(q.get(), None);
    }

    #[test]
    fn a_key_being_processed_is_requeued_only_when_done() {
        let mut q = WorkQueue::new();
        q.add("a");
        let k = q.get().unwrap();
        q.add("a");
        assert_eq!(q.get(), None, "never handed to a second worker");
        q.done(&k);
        assert_eq!(q.get(), Some("a"));
        q.done(&"a");
        assert_eq!(q.get(), None);
    }

    #[test]
    fn delayed_keys_wait_for_the_virtual_clock() {
        let mut q = WorkQueue::new();
        q.add_after("a", SimTime(0), SimDuration::from_secs(10));
        q.promote_due(SimTime(9_999));
        assert!(q.is_empty());
        assert_eq!(q.next_delayed(), Some(SimTime(10_000)));
        q.promote_due(SimTime(10_000));
        assert_eq!(q.get(), Some("a"));
    }

    #[test]
    fn rate_limited_requeues_back_off_exponentially_until_forgotten() {
        let mut q = WorkQueue::new();
        let delays: Vec<u64> = (0..5)
            .map(|_| q.add_rate_limited("a", SimTime(0)).as_millis())
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80]);
        assert_eq!(q.num_requeues(&"a"), 5);
        q.forget(&"a");
        assert_eq!(q.add_rate_limited("a", SimTime(0)).as_millis(), 5);
    }

    #[test]
    fn the_back_off_is_capped_at_a_thousand_seconds() {
        let mut q = WorkQueue::new();
        let mut last = SimDuration::ZERO;
        for _ in 0..60 {
            last = q.add_rate_limited("a", SimTime(0));
        }
        assert_eq!(last, RATE_LIMIT_MAX);
    }
}
