//! The scheduling queue: activeQ, podBackoffQ and unschedulablePods.
//!
//! Ported from `pkg/scheduler/backend/queue/scheduling_queue.go`
//! (`PriorityQueue`: `Add`, `Pop`, `AddUnschedulableIfNotPresent`,
//! `MoveAllToActiveOrBackoffQueue`, `flushBackoffQCompleted`,
//! `flushUnschedulablePodsLeftover`, `calculateBackoffDuration`).
//! Simplifications: upstream flushes the back-off queue every second and
//! leftovers every 30 s; here a pod moves exactly when its back-off or its
//! 5 minutes expire (callers wake at `next_wakeup`). QueueingHints are
//! reduced to "which plugins care about this event" (their
//! `EventsToRegister`), without per-event hint functions.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::framework::QueueSortPlugin;
use crate::api::Object;
use crate::world::{SimDuration, SimTime};

/// `DefaultPodInitialBackoffDuration`.
pub const INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(1);
/// `DefaultPodMaxBackoffDuration`.
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(10);
/// `DefaultPodMaxInUnschedulablePodsDuration`.
pub const MAX_IN_UNSCHEDULABLE: SimDuration = SimDuration::from_secs(5 * 60);

/// A pod waiting in (or popped from) the queue (`framework.QueuedPodInfo`).
#[derive(Clone, Debug)]
pub struct QueuedPodInfo {
    pub pod: Rc<Object>,
    /// `namespace/name`, one string shared by the queue's indexes.
    pub key: Rc<str>,
    pub priority: i32,
    /// When the pod last entered the queue.
    pub timestamp: SimTime,
    /// Scheduling attempts so far.
    pub attempts: u32,
    pub initial_attempt: Option<SimTime>,
    /// Plugins that rejected the pod in its last attempt.
    pub unschedulable_plugins: BTreeSet<&'static str>,
    seq: u64,
}

/// A cluster event that may make unschedulable pods schedulable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterEvent {
    NodeAdd,
    NodeUpdate,
    AssignedPodAdd,
    AssignedPodUpdate,
    AssignedPodDelete,
    /// A PriorityClass or anything else: wakes every pod.
    Other,
}

impl ClusterEvent {
    /// The plugins that registered this event (`EventsToRegister`).
    fn interested(self, plugin: &str) -> bool {
        use super::plugins::names::*;
        match self {
            ClusterEvent::NodeAdd | ClusterEvent::NodeUpdate | ClusterEvent::Other => true,
            ClusterEvent::AssignedPodAdd | ClusterEvent::AssignedPodUpdate => {
                matches!(plugin, POD_TOPOLOGY_SPREAD | INTER_POD_AFFINITY)
            }
            ClusterEvent::AssignedPodDelete => matches!(
                plugin,
                NODE_RESOURCES_FIT | POD_TOPOLOGY_SPREAD | INTER_POD_AFFINITY | DEFAULT_PREEMPTION
            ),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

#[derive(Clone)]
struct Entry {
    info: QueuedPodInfo,
    at: Where,
    sort: (i64, u64),
    backoff_until: SimTime,
}

/// The three queues.
#[derive(Clone)]
pub struct SchedulingQueue {
    sort: Rc<dyn QueueSortPlugin>,
    // Boxed: a B-tree node then holds eleven keys and pointers rather than
    // eleven 120-byte entries, and its empty slots cost far less (the
    // queue of 150,000 pods of the scheduler benchmark took 76 bytes per
    // pod more unboxed).
    entries: BTreeMap<Rc<str>, Box<Entry>>,
    active: BTreeSet<((i64, u64), u64, Rc<str>)>,
    backoff: BTreeSet<(SimTime, u64, Rc<str>)>,
    unschedulable: BTreeSet<(SimTime, u64, Rc<str>)>,
    seq: u64,
    scheduling_cycle: u64,
    move_request_cycle: u64,
    in_flight_cycle: BTreeMap<Rc<str>, u64>,
}

impl SchedulingQueue {
    pub fn new(sort: Rc<dyn QueueSortPlugin>) -> SchedulingQueue {
        SchedulingQueue {
            sort,
            entries: BTreeMap::new(),
            active: BTreeSet::new(),
            backoff: BTreeSet::new(),
            unschedulable: BTreeSet::new(),
            seq: 0,
            scheduling_cycle: 0,
            move_request_cycle: 0,
            in_flight_cycle: BTreeMap::new(),
        }
    }

    /// The number of cycles started (upstream `SchedulingCycle`).
    pub fn scheduling_cycle(&self) -> u64 {
        self.scheduling_cycle
    }

    pub fn len_active(&self) -> usize {
        self.active.len()
    }
    pub fn len_backoff(&self) -> usize {
        self.backoff.len()
    }
    pub fn len_unschedulable(&self) -> usize {
        self.unschedulable.len()
    }
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
    /// Keys of the pods in unschedulablePods (sorted).
    pub fn unschedulable_keys(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .unschedulable
            .iter()
            .map(|(_, _, k)| k.to_string())
            .collect();
        v.sort();
        v
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn unlink(&mut self, key: &str) {
        if let Some(e) = self.entries.get(key) {
            let key = e.info.key.clone();
            match e.at {
                Where::Active => {
                    self.active.remove(&(e.sort, e.info.seq, key));
                }
                Where::Backoff => {
                    self.backoff.remove(&(e.backoff_until, e.info.seq, key));
                }
                Where::Unschedulable => {
                    self.unschedulable
                        .remove(&(e.info.timestamp, e.info.seq, key));
                }
                Where::InFlight => {}
            }
        }
    }

    fn link(&mut self, key: &str, at: Where) {
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        e.at = at;
        let key = e.info.key.clone();
        match at {
            Where::Active => {
                e.sort = self.sort.sort_key(&e.info);
                self.active.insert((e.sort, e.info.seq, key));
            }
            Where::Backoff => {
                self.backoff.insert((e.backoff_until, e.info.seq, key));
            }
            Where::Unschedulable => {
                self.unschedulable
                    .insert((e.info.timestamp, e.info.seq, key));
            }
            Where::InFlight => {}
        }
    }

    /// `Add`: a new pending pod goes to activeQ.
    pub fn add(&mut self, now: SimTime, pod: Rc<Object>, priority: i32) {
        let key = pod_key(&pod);
        if let Some(e) = self.entries.get_mut(key.as_str()) {
            e.info.pod = pod;
            e.info.priority = priority;
            return;
        }
        let key: Rc<str> = Rc::from(key);
        let seq = self.next_seq();
        let info = QueuedPodInfo {
            pod,
            key: key.clone(),
            priority,
            timestamp: now,
            attempts: 0,
            initial_attempt: None,
            unschedulable_plugins: BTreeSet::new(),
            seq,
        };
        self.entries.insert(
            key.clone(),
            Box::new(Entry {
                info,
                at: Where::InFlight,
                sort: (0, 0),
                backoff_until: now,
            }),
        );
        self.link(&key, Where::Active);
    }

    /// `Update`: a pending pod changed. In activeQ or backoffQ it is
    /// replaced in place; from unschedulablePods it moves on (its spec
    /// may now fit), to backoffQ if still backing off.
    pub fn update(&mut self, now: SimTime, pod: Rc<Object>, priority: i32) {
        let key = pod_key(&pod);
        let key = key.as_str();
        let Some(e) = self.entries.get(key) else {
            self.add(now, pod, priority);
            return;
        };
        let at = e.at;
        self.unlink(key);
        if let Some(e) = self.entries.get_mut(key) {
            e.info.pod = pod;
            e.info.priority = priority;
        }
        match at {
            Where::Unschedulable => {
                let backing_off = self.entries.get(key).is_some_and(|e| e.backoff_until > now);
                self.link(
                    key,
                    if backing_off {
                        Where::Backoff
                    } else {
                        Where::Active
                    },
                );
            }
            other => self.link(key, other),
        }
    }

    /// `Delete`: the pod is gone or was bound by someone else.
    pub fn delete(&mut self, key: &str) {
        self.unlink(key);
        self.entries.remove(key);
        self.in_flight_cycle.remove(key);
    }

    /// Moves back-offs that expired to activeQ and pods unschedulable for
    /// more than 5 minutes to activeQ or backoffQ.
    pub fn flush(&mut self, now: SimTime) {
        while let Some((t, _, key)) = self.backoff.first().cloned() {
            if t > now {
                break;
            }
            self.unlink(&key);
            self.link(&key, Where::Active);
        }
        while let Some((t, _, key)) = self.unschedulable.first().cloned() {
            if now.saturating_since(t) <= MAX_IN_UNSCHEDULABLE {
                break;
            }
            self.requeue(now, &key);
        }
    }

    fn requeue(&mut self, now: SimTime, key: &str) {
        self.unlink(key);
        let backing_off = self.entries.get(key).is_some_and(|e| e.backoff_until > now);
        self.link(
            key,
            if backing_off {
                Where::Backoff
            } else {
                Where::Active
            },
        );
    }

    /// `Pop`: the head of activeQ after flushing. The pod is in flight until
    /// `done` or `add_unschedulable`.
    pub fn pop(&mut self, now: SimTime) -> Option<QueuedPodInfo> {
        self.flush(now);
        let (_, _, key) = self.active.pop_first()?;
        self.scheduling_cycle += 1;
        let cycle = self.scheduling_cycle;
        let e = self.entries.get_mut(&key)?;
        e.at = Where::InFlight;
        e.info.attempts += 1;
        e.info.initial_attempt.get_or_insert(now);
        self.in_flight_cycle.insert(key, cycle);
        Some(e.info.clone())
    }

    /// When the next back-off or unschedulable timeout expires, if any pod
    /// waits on one.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let b = self.backoff.first().map(|(t, _, _)| *t);
        let u = self
            .unschedulable
            .first()
            .map(|(t, _, _)| SimTime(t.0 + MAX_IN_UNSCHEDULABLE.0 + 1));
        match (b, u) {
            (Some(b), Some(u)) => Some(b.min(u)),
            (b, u) => b.or(u),
        }
    }

    /// `calculateBackoffDuration`: 1 s doubling per attempt, at most 10 s.
    pub fn backoff_duration(attempts: u32) -> SimDuration {
        let mut d = INITIAL_BACKOFF.0;
        for _ in 1..attempts {
            d = d.saturating_mul(2);
            if d > MAX_BACKOFF.0 {
                return MAX_BACKOFF;
            }
        }
        SimDuration(d)
    }

    /// `Done`: the in-flight pod was scheduled (or dropped): forget it.
    pub fn done(&mut self, key: &str) {
        if self
            .entries
            .get(key)
            .is_some_and(|e| e.at == Where::InFlight)
        {
            self.entries.remove(key);
        }
        self.in_flight_cycle.remove(key);
    }

    /// `AddUnschedulableIfNotPresent`: an in-flight pod failed. An error
    /// goes to backoffQ; "unschedulable" goes to unschedulablePods unless a
    /// cluster event arrived while it was in flight (then backoffQ).
    pub fn add_unschedulable(
        &mut self,
        now: SimTime,
        key: &str,
        plugins: BTreeSet<&'static str>,
        is_error: bool,
    ) {
        let cycle = self.in_flight_cycle.remove(key).unwrap_or(0);
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        if e.at != Where::InFlight {
            return;
        }
        e.info.timestamp = now;
        e.info.unschedulable_plugins = plugins;
        e.backoff_until = SimTime(
            now.0
                .saturating_add(Self::backoff_duration(e.info.attempts).0),
        );
        let to_backoff = is_error || self.move_request_cycle >= cycle;
        self.link(
            key,
            if to_backoff {
                Where::Backoff
            } else {
                Where::Unschedulable
            },
        );
    }

    /// `MoveAllToActiveOrBackoffQueue` for one event: unschedulable pods
    /// rejected by a plugin interested in it move on.
    pub fn on_event(&mut self, now: SimTime, event: ClusterEvent) {
        let keys: Vec<Rc<str>> = self
            .unschedulable
            .iter()
            .map(|(_, _, k)| k.clone())
            .filter(|k| {
                self.entries.get(k).is_some_and(|e| {
                    e.info.unschedulable_plugins.is_empty()
                        || e.info
                            .unschedulable_plugins
                            .iter()
                            .any(|p| event.interested(p))
                })
            })
            .collect();
        for k in keys {
            self.requeue(now, &k);
        }
        self.move_request_cycle = self.scheduling_cycle;
    }
}

pub(crate) fn pod_key(pod: &Object) -> String {
    format!("{}/{}", pod.namespace().unwrap_or(""), pod.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::priority_sort::PrioritySort;
    use crate::scheduler::testutil::pod;

    fn q() -> SchedulingQueue {
        SchedulingQueue::new(Rc::new(PrioritySort))
    }

    #[test]
    fn the_active_queue_pops_higher_priority_first_then_older() {
        let mut q = q();
        q.add(SimTime(0), pod("a").build(), 0);
        q.add(SimTime(1), pod("b").build(), 10);
        q.add(SimTime(2), pod("c").build(), 0);
        let order: Vec<String> = (0..3)
            .map(|_| q.pop(SimTime(5)).unwrap().key.to_string())
            .collect();
        assert_eq!(order, ["default/b", "default/a", "default/c"]);
        assert!(q.pop(SimTime(5)).is_none());
    }

    #[test]
    fn back_off_starts_at_one_second_and_doubles_to_ten() {
        let secs: Vec<u64> = (1..=6)
            .map(|a| SchedulingQueue::backoff_duration(a).0 / 1000)
            .collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn an_errored_pod_waits_in_backoff_then_returns_to_active() {
        let mut q = q();
        q.add(SimTime(0), pod("a").build(), 0);
        let p = q.pop(SimTime(0)).unwrap();
        q.add_unschedulable(SimTime(0), &p.key, BTreeSet::new(), true);
        assert_eq!(q.len_backoff(), 1);
        assert_eq!(q.next_wakeup(), Some(SimTime(1000)));
        assert!(q.pop(SimTime(999)).is_none());
        let p = q.pop(SimTime(1000)).unwrap();
        assert_eq!(p.attempts, 2);
        q.add_unschedulable(SimTime(1000), &p.key, BTreeSet::new(), true);
        assert_eq!(q.next_wakeup(), Some(SimTime(3000)));
    }

    #[test]
    fn an_unschedulable_pod_waits_for_an_event_its_plugin_cares_about() {
        let mut q = q();
        q.add(SimTime(0), pod("a").build(), 0);
        let p = q.pop(SimTime(0)).unwrap();
        let plugins = [crate::scheduler::plugins::names::TAINT_TOLERATION]
            .into_iter()
            .collect();
        q.add_unschedulable(SimTime(0), &p.key, plugins, false);
        assert_eq!(q.len_unschedulable(), 1);
        // A pod deletion frees resources, not taints: it stays.
        q.on_event(SimTime(5000), ClusterEvent::AssignedPodDelete);
        assert_eq!(q.len_unschedulable(), 1);
        // A node update may remove the taint: back to active (its back-off is over).
        q.on_event(SimTime(5000), ClusterEvent::NodeUpdate);
        assert_eq!(q.len_active(), 1);
    }

    #[test]
    fn an_event_during_the_cycle_sends_the_pod_to_backoff_not_unschedulable() {
        let mut q = q();
        q.add(SimTime(0), pod("a").build(), 0);
        let p = q.pop(SimTime(0)).unwrap();
        q.on_event(SimTime(0), ClusterEvent::NodeAdd);
        q.add_unschedulable(SimTime(0), &p.key, BTreeSet::new(), false);
        assert_eq!(q.len_backoff(), 1);
    }

    #[test]
    fn unschedulable_pods_are_flushed_after_five_minutes() {
        let mut q = q();
        q.add(SimTime(0), pod("a").build(), 0);
        let p = q.pop(SimTime(0)).unwrap();
        q.add_unschedulable(SimTime(0), &p.key, BTreeSet::new(), false);
        assert_eq!(q.next_wakeup(), Some(SimTime(300_001)));
        assert!(q.pop(SimTime(300_000)).is_none());
        assert!(q.pop(SimTime(300_001)).is_some());
    }
}
