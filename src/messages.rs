//! Messages on the wire: their kinds (colour, label, filter) and the pulses
//! that carry them across the diagram.
//!
//! Pulses are drawn straight into one SVG group through `web_sys`, outside
//! Yew's virtual DOM: a frame moves a few dozen dots, and re-rendering the
//! diagram for that would cost far more than setting their positions.
//! Virtual latencies are 1-3 ms, so every message travels over a fixed
//! stretch of wall time; per link only a few are drawn at once and later ones
//! are sampled, so 1000x stays smooth.

use crate::layout::{Layout, Route};
use kubesim::world::TraceEvent;
use std::collections::HashMap;
use web_sys::{Document, Element};

/// A kind of message, as the core's trace names it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MsgKind {
    pub id: &'static str,
    pub label: &'static str,
    /// The group it belongs to (`Raft`, `etcd`, `API`) and its name within it.
    pub group: &'static str,
    pub short: &'static str,
    pub color: &'static str,
    /// Radius of the pulse: heartbeats are small, votes and writes bigger.
    pub radius: f64,
    pub help: &'static str,
}

/// Every kind of message the core traces, grouped as the legend shows them.
pub const KINDS: [MsgKind; 11] = [
    MsgKind {
        id: "raft-heartbeat",
        label: "Raft heartbeat",
        group: "Raft",
        short: "heartbeat",
        color: "#5fbf9a",
        radius: 3.2,
        help: "The etcd leader tells followers it is alive (every 100 ms), and their answers",
    },
    MsgKind {
        id: "raft-append",
        label: "Raft append",
        group: "Raft",
        short: "append",
        color: "#00704f",
        radius: 4.6,
        help: "The etcd leader replicates log entries (writes) to followers, and their acks",
    },
    MsgKind {
        id: "raft-vote",
        label: "Raft vote",
        group: "Raft",
        short: "vote",
        color: "#e69f00",
        radius: 5.2,
        help:
            "A candidate asks for votes in a leader election (pre-vote and vote), and the answers",
    },
    MsgKind {
        id: "raft",
        label: "Raft read index",
        group: "Raft",
        short: "read index",
        color: "#8fa39b",
        radius: 3.4,
        help: "Other Raft messages: a follower asks the leader for a read index (linearizable reads), and the answer",
    },
    MsgKind {
        id: "etcd-request",
        label: "etcd request",
        group: "etcd",
        short: "request",
        color: "#56b4e9",
        radius: 4.2,
        help: "kube-apiserver reads or writes its etcd (gRPC :2379)",
    },
    MsgKind {
        id: "etcd-response",
        label: "etcd response",
        group: "etcd",
        short: "response",
        color: "#0072b2",
        radius: 4.2,
        help: "etcd answers a read or a write",
    },
    MsgKind {
        id: "etcd-watch",
        label: "etcd watch",
        group: "etcd",
        short: "watch",
        color: "#cc79a7",
        radius: 4.2,
        help: "etcd streams changes to the API server's watch cache",
    },
    MsgKind {
        id: "api-request",
        label: "API request",
        group: "API",
        short: "request",
        color: "#d55e00",
        radius: 4.6,
        help: "An HTTPS request to the Kubernetes API (kubectl, through the load balancer)",
    },
    MsgKind {
        id: "api-response",
        label: "API response",
        group: "API",
        short: "response",
        color: "#8f4a14",
        radius: 4.6,
        help: "The API server's answer",
    },
    MsgKind {
        id: "watch-event",
        label: "watch event",
        group: "API",
        short: "watch event",
        color: "#a23b72",
        radius: 4.2,
        help: "A change pushed to an API client's watch",
    },
    MsgKind {
        id: "health-check",
        label: "health check",
        group: "LB",
        short: "health check",
        color: "#7b8497",
        radius: 3.0,
        help: "The load balancer probes each API server's /readyz, and the answers",
    },
];

/// The index of a kind in [`KINDS`] (unknown kinds share the last slot's look).
pub fn kind_index(id: &str) -> Option<usize> {
    KINDS.iter().position(|k| k.id == id)
}

pub fn kind_of(id: &str) -> MsgKind {
    kind_index(id).map(|i| KINDS[i]).unwrap_or(MsgKind {
        id: "other",
        label: "other",
        group: "",
        short: "other",
        color: "#5b667a",
        radius: 3.5,
        help: "",
    })
}

/// Which kinds are shown, one flag per entry of [`KINDS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindFilter(pub [bool; KINDS.len()]);

impl KindFilter {
    pub const ALL: KindFilter = KindFilter([true; KINDS.len()]);

    /// Everything but the chatter that never stops (heartbeats, health checks).
    pub fn without_chatter() -> KindFilter {
        let mut f = Self::ALL;
        for (i, k) in KINDS.iter().enumerate() {
            if matches!(k.id, "raft-heartbeat" | "health-check") {
                f.0[i] = false;
            }
        }
        f
    }

    pub fn shows(&self, id: &str) -> bool {
        kind_index(id).map(|i| self.0[i]).unwrap_or(true)
    }

    pub fn toggled(mut self, i: usize) -> KindFilter {
        if let Some(v) = self.0.get_mut(i) {
            *v = !*v;
        }
        self
    }
}

/// A short name for a component id, for the log and tooltips.
pub fn short_name(id: &str) -> String {
    if let Some(n) = id.strip_prefix("kube-apiserver-control-plane-") {
        format!("apiserver-{n}")
    } else if let Some(n) = id.strip_prefix("etcd-control-plane-") {
        format!("etcd-{n}")
    } else if id == "api-load-balancer" {
        "load-balancer".into()
    } else {
        id.to_string()
    }
}

/// How long one message takes to cross its link, in wall milliseconds.
pub const TRAVEL_MS: f64 = 640.0;
/// Dots on one link (per direction and kind) at once.
const PER_LINK: usize = 4;
/// Wall milliseconds between two dots starting on the same link.
const MIN_SPACING_MS: f64 = 70.0;
/// Dots on the whole diagram at once.
const MAX_ACTIVE: usize = 160;
/// New trace events looked at per frame, newest first.
const SCAN_LIMIT: usize = 600;

const SVG_NS: &str = "http://www.w3.org/2000/svg";

struct Dot {
    el: Element,
    circle: Element,
    cross: Element,
    route: usize,
    lane: (usize, usize),
    start: f64,
    dropped: bool,
    /// What the dot was last drawn as, to skip unchanged DOM writes.
    shown: bool,
}

/// The message pulses of one diagram.
pub struct Pulses {
    layer: Option<Element>,
    routes: Vec<Route>,
    by_pair: HashMap<(String, String), usize>,
    active: Vec<Dot>,
    spare: Vec<Dot>,
    /// Per (route, kind): how many dots and when the last one started.
    lanes: HashMap<(usize, usize), (usize, f64)>,
    /// Trace events seen so far (the trace's running total).
    seen: u64,
}

impl Default for Pulses {
    fn default() -> Self {
        Self::new()
    }
}

impl Pulses {
    pub fn new() -> Pulses {
        Pulses {
            layer: None,
            routes: Vec::new(),
            by_pair: HashMap::new(),
            active: Vec::new(),
            spare: Vec::new(),
            lanes: HashMap::new(),
            seen: 0,
        }
    }

    /// Takes the routes of a new layout (in-flight dots are dropped).
    pub fn set_layout(&mut self, layout: &Layout) {
        self.clear();
        self.routes.clear();
        self.by_pair.clear();
        for (pair, route) in &layout.routes {
            self.by_pair.insert(pair.clone(), self.routes.len());
            self.routes.push(route.clone());
        }
    }

    /// The SVG group the dots are drawn into (it may be replaced by Yew).
    pub fn attach(&mut self, layer: Option<Element>) {
        let same = match (&self.layer, &layer) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.clear();
            self.active.clear();
            self.spare.clear();
            self.layer = layer;
        }
    }

    /// Treats every trace event up to `total` as seen (after the clock
    /// jumped: a replay or a reset is not animated).
    pub fn skip_to(&mut self, total: u64) {
        self.seen = total;
    }

    pub fn busy(&self) -> bool {
        !self.active.is_empty()
    }

    fn clear(&mut self) {
        for d in self.active.drain(..) {
            let _ = d.el.set_attribute("visibility", "hidden");
            self.spare.push(d);
        }
        self.lanes.clear();
    }

    /// Queues the messages the trace recorded since the last call.
    ///
    /// `start_of(at)` gives the wall time a message sent at virtual time `at`
    /// starts moving; `events` is the trace, oldest first, `total` its
    /// running count.
    pub fn spawn<'a, I>(
        &mut self,
        events: I,
        total: u64,
        filter: &KindFilter,
        start_of: impl Fn(kubesim::SimTime) -> f64,
    ) where
        I: Iterator<Item = &'a TraceEvent>,
    {
        let new = total.saturating_sub(self.seen) as usize;
        self.seen = total;
        if new == 0 || self.layer.is_none() {
            return;
        }
        let retained = events.size_hint().0;
        let recent: Vec<&TraceEvent> = events
            .skip(retained.saturating_sub(new.min(SCAN_LIMIT)))
            .collect();
        let mut picked: Vec<(usize, usize, f64, bool)> = Vec::new();
        // Newest first: when a link is busy, its latest messages win.
        for e in recent.into_iter().rev() {
            if self.active.len() + picked.len() >= MAX_ACTIVE {
                break;
            }
            if !filter.shows(&e.kind) {
                continue;
            }
            let Some(&route) = self.by_pair.get(&(e.from.to_string(), e.to.to_string())) else {
                continue;
            };
            let kind = kind_index(&e.kind).unwrap_or(KINDS.len());
            let start = start_of(e.at);
            let lane = self.lanes.entry((route, kind)).or_insert((0, f64::MIN));
            if lane.0 >= PER_LINK || (start - lane.1).abs() < MIN_SPACING_MS {
                continue;
            }
            lane.0 += 1;
            lane.1 = lane.1.max(start);
            picked.push((route, kind, start, e.dropped.is_some()));
        }
        for (route, kind, start, dropped) in picked.into_iter().rev() {
            if let Some(dot) = self.dot(kind) {
                let mut dot = dot;
                dot.route = route;
                dot.lane = (route, kind);
                dot.start = start;
                dot.dropped = dropped;
                dot.shown = false;
                let _ = dot
                    .cross
                    .set_attribute("visibility", if dropped { "visible" } else { "hidden" });
                let _ = dot.el.set_attribute("visibility", "hidden");
                self.active.push(dot);
            }
        }
    }

    /// A dot styled for `kind`, reused when one is spare.
    fn dot(&mut self, kind: usize) -> Option<Dot> {
        let k = KINDS.get(kind).copied().unwrap_or_else(|| kind_of(""));
        let dot = match self.spare.pop() {
            Some(d) => d,
            None => {
                let layer = self.layer.as_ref()?;
                let doc: Document = layer.owner_document()?;
                let el = doc.create_element_ns(Some(SVG_NS), "g").ok()?;
                let _ = el.set_attribute("class", "pulse");
                let circle = doc.create_element_ns(Some(SVG_NS), "circle").ok()?;
                let cross = doc.create_element_ns(Some(SVG_NS), "text").ok()?;
                let _ = cross.set_attribute("class", "pulse-drop");
                let _ = cross.set_attribute("y", "-7");
                cross.set_text_content(Some("✕"));
                el.append_child(&circle).ok()?;
                el.append_child(&cross).ok()?;
                layer.append_child(&el).ok()?;
                Dot {
                    el,
                    circle,
                    cross,
                    route: 0,
                    lane: (0, 0),
                    start: 0.0,
                    dropped: false,
                    shown: false,
                }
            }
        };
        let _ = dot.circle.set_attribute("r", &format!("{:.1}", k.radius));
        let _ = dot.circle.set_attribute("fill", k.color);
        let _ = dot.el.set_attribute("data-kind", k.id);
        Some(dot)
    }

    /// Moves every dot to where it is at wall time `now`; retires finished ones.
    pub fn draw(&mut self, now: f64) {
        let mut i = 0;
        while i < self.active.len() {
            let d = &mut self.active[i];
            let p = (now - d.start) / TRAVEL_MS;
            // A dropped message stops halfway, fades and shows a cross.
            let end = if d.dropped { 0.85 } else { 1.0 };
            if p >= end {
                let d = self.active.swap_remove(i);
                let _ = d.el.set_attribute("visibility", "hidden");
                if let Some(lane) = self.lanes.get_mut(&d.lane) {
                    lane.0 = lane.0.saturating_sub(1);
                }
                self.spare.push(d);
                continue;
            }
            if p < 0.0 {
                i += 1;
                continue;
            }
            let along = if d.dropped { p.min(0.5) } else { p };
            // Ease in and out so a dot leaves and arrives gently.
            let eased = along * along * (3.0 - 2.0 * along);
            let (x, y) = self.routes[d.route].at(eased);
            let _ =
                d.el.set_attribute("transform", &format!("translate({x:.1} {y:.1})"));
            // Only a dropped message's dot fades: the others keep the
            // opacity they were shown with (one DOM write a frame, not two).
            let fading = d.dropped && p > 0.5;
            if fading || !d.shown {
                let opacity = if fading {
                    1.0 - (p - 0.5) / (end - 0.5)
                } else {
                    1.0
                };
                let _ = d.el.set_attribute("opacity", &format!("{opacity:.2}"));
            }
            if !d.shown {
                let _ = d.el.set_attribute("visibility", "visible");
                d.shown = true;
            }
            i += 1;
        }
    }
}
