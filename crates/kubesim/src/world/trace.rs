//! The trace: every delivered (or dropped) message, for the page's arrows and
//! event log.
//!
//! A bounded ring of the most recent entries, plus running totals, so a long
//! run does not grow without bound.

use super::network::Drop;
use super::SimTime;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::rc::Rc;

/// One message as the page shows it.
///
/// The ends are the senders' shared addresses and the kind a constant, so
/// recording a message allocates only its summary (the page traces every
/// message: hundreds per virtual second in a busy cluster).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// When it was sent.
    pub at: SimTime,
    /// When it arrives (equal to `at` for a dropped message).
    pub arrives: SimTime,
    #[serde(with = "shared_str")]
    pub from: Rc<str>,
    #[serde(with = "shared_str")]
    pub to: Rc<str>,
    /// A short kind for filtering and colouring (`raft-append`, `api-request`, ...).
    pub kind: Cow<'static, str>,
    /// A one-line summary (`PUT /api/v1/namespaces/default/pods/nginx`).
    pub summary: String,
    pub dropped: Option<Drop>,
}

/// Shared strings (de)serialized as plain ones.
mod shared_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::rc::Rc;

    pub fn serialize<S: Serializer>(s: &Rc<str>, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Rc<str>, D::Error> {
        Ok(String::deserialize(d)?.into())
    }
}

/// The most recent trace events.
#[derive(Clone, Debug)]
pub struct Trace {
    events: VecDeque<TraceEvent>,
    capacity: usize,
    total: u64,
    enabled: bool,
}

impl Trace {
    pub fn new(capacity: usize) -> Self {
        Trace {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            total: 0,
            enabled: true,
        }
    }

    /// Turns recording off (benchmarks) or on; totals are kept either way.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records an event (the summary is only built when recording is on).
    pub fn record(&mut self, make: impl FnOnce() -> TraceEvent) {
        self.total += 1;
        if !self.enabled || self.capacity == 0 {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(make());
    }

    /// Records an event whose summary `make` writes into the empty buffer
    /// it is given: the buffer of the entry the full ring evicts, so a long
    /// run records a message without allocating its summary.
    pub fn record_into(&mut self, make: impl FnOnce(String) -> TraceEvent) {
        self.total += 1;
        if !self.enabled || self.capacity == 0 {
            return;
        }
        let mut buffer = String::new();
        if self.events.len() == self.capacity {
            if let Some(old) = self.events.pop_front() {
                buffer = old.summary;
                buffer.clear();
            }
        }
        self.events.push_back(make(buffer));
    }

    /// Messages recorded since the run started.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The retained events, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }

    /// Retained events sent at or after `since`.
    pub fn since(&self, since: SimTime) -> impl Iterator<Item = &TraceEvent> {
        self.events.iter().filter(move |e| e.at >= since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at: u64) -> TraceEvent {
        TraceEvent {
            at: SimTime(at),
            arrives: SimTime(at + 1),
            from: "a".into(),
            to: "b".into(),
            kind: "test".into(),
            summary: format!("#{at}"),
            dropped: None,
        }
    }

    #[test]
    fn the_trace_keeps_only_the_most_recent_events_but_counts_all() {
        let mut t = Trace::new(3);
        for i in 0..5 {
            t.record(|| ev(i));
        }
        let kept: Vec<_> = t.events().map(|e| e.at.0).collect();
        assert_eq!(kept, [2, 3, 4]);
        assert_eq!(t.total(), 5);
        assert_eq!(t.since(SimTime(4)).count(), 1);
    }

    #[test]
    fn a_full_trace_hands_the_evicted_entrys_buffer_empty_to_the_next_one() {
        let mut t = Trace::new(2);
        for i in 0..2 {
            t.record(|| ev(i));
        }
        t.record_into(|mut summary| {
            assert!(summary.is_empty());
            assert!(
                summary.capacity() > 0,
                "the evicted summary's buffer is reused"
            );
            summary.push_str("#2");
            TraceEvent { summary, ..ev(2) }
        });
        let kept: Vec<_> = t.events().map(|e| e.summary.as_str()).collect();
        assert_eq!(kept, ["#1", "#2"]);
        assert_eq!(t.total(), 3);
    }

    #[test]
    fn a_disabled_trace_builds_no_summaries() {
        let mut t = Trace::new(3);
        t.set_enabled(false);
        t.record(|| panic!("the summary must not be built"));
        assert_eq!(t.total(), 1);
        assert_eq!(t.events().count(), 0);
    }
}
