//! Messages on the wire: their kinds (colour, label, filter) and the pulses
//! that carry them across the diagram.
//!
//! Pulses are painted on a `<canvas>` laid over the diagram (the same
//! coordinates as its viewBox, see `canvas.rs`), outside Yew's virtual DOM:
//! a frame clears where the dots were and paints where they are, with no
//! element to restyle, and one attribute (`data-pulses`, the number of
//! dots drawn) changes when that number does. Virtual latencies are 1-3 ms, so every message travels over a fixed
//! stretch of wall time; per link only a few are drawn at once and later ones
//! are sampled, so 1000x stays smooth.

use crate::canvas::{self, Fit};
use crate::layout::{Layout, Rect, Route};
use kubesim::world::TraceEvent;
use std::collections::HashMap;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

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

struct Dot {
    kind: usize,
    route: usize,
    lane: (usize, usize),
    start: f64,
    dropped: bool,
}

/// A dot's look: its kind's colour and radius.
fn look(kind: usize) -> MsgKind {
    KINDS.get(kind).copied().unwrap_or_else(|| kind_of(""))
}

/// Where a dot at `p` (0 to 1 of its travel time) is along its route, and
/// its opacity; None once it has arrived (or, dropped, faded out).
pub fn dot_at(p: f64, dropped: bool) -> Option<(f64, f64)> {
    // A dropped message stops halfway, fades and shows a cross.
    let end = if dropped { 0.85 } else { 1.0 };
    if p >= end {
        return None;
    }
    let p = p.max(0.0);
    let along = if dropped { p.min(0.5) } else { p };
    // Ease in and out so a dot leaves and arrives gently.
    let eased = along * along * (3.0 - 2.0 * along);
    let opacity = if dropped && p > 0.5 {
        1.0 - (p - 0.5) / (end - 0.5)
    } else {
        1.0
    };
    Some((eased, opacity))
}

/// The message pulses of one diagram.
pub struct Pulses {
    canvas: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
    /// The part of the diagram the canvas covers, in the diagram's units.
    area: Rect,
    /// The canvas's backing size and scale when last drawn.
    fit: Option<Fit>,
    /// Backing-pixel boxes painted last frame, cleared by the next.
    painted: Vec<(f64, f64, f64, f64)>,
    /// The count last written to `data-pulses`.
    told: Option<usize>,
    routes: Vec<Route>,
    by_pair: HashMap<(String, String), usize>,
    active: Vec<Dot>,
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
            canvas: None,
            area: Rect {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0,
            },
            fit: None,
            painted: Vec::new(),
            told: None,
            routes: Vec::new(),
            by_pair: HashMap::new(),
            active: Vec::new(),
            lanes: HashMap::new(),
            seen: 0,
        }
    }

    /// Takes the routes of a new layout (in-flight dots are dropped).
    pub fn set_layout(&mut self, layout: &Layout) {
        self.clear();
        self.routes.clear();
        self.by_pair.clear();
        self.area = layout.pulse_area;
        for (pair, route) in &layout.routes {
            self.by_pair.insert(pair.clone(), self.routes.len());
            self.routes.push(route.clone());
        }
    }

    /// The canvas the dots are drawn on (it may be replaced by Yew).
    pub fn attach(&mut self, canvas: Option<HtmlCanvasElement>) {
        let same = match (&self.canvas, &canvas) {
            (Some((a, _)), Some(b)) => a == b,
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.clear();
            self.fit = None;
            self.told = None;
            self.painted.clear();
            self.canvas = canvas.and_then(|c| canvas::context(&c).map(|ctx| (c, ctx)));
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
        self.active.clear();
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
        if new == 0 || self.canvas.is_none() {
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
            self.active.push(Dot {
                kind,
                route,
                lane: (route, kind),
                start,
                dropped,
            });
        }
    }

    /// Moves every dot to where it is at wall time `now`: clears where the
    /// dots were painted last frame, paints them where they are now, and
    /// retires finished ones.
    pub fn draw(&mut self, now: f64) {
        let lanes = &mut self.lanes;
        self.active.retain(|d| {
            let live = dot_at((now - d.start) / TRAVEL_MS, d.dropped).is_some();
            if !live {
                if let Some(lane) = lanes.get_mut(&d.lane) {
                    lane.0 = lane.0.saturating_sub(1);
                }
            }
            live
        });
        let Some((el, ctx)) = &self.canvas else {
            return;
        };
        if self.active.is_empty() && self.painted.is_empty() && self.told == Some(0) {
            return;
        }
        let a = self.area;
        let Some(fit) = canvas::fit(el, a.w, a.h) else {
            return;
        };
        ctx.set_transform(1.0, 0.0, 0.0, 1.0, 0.0, 0.0).ok();
        if self.fit != Some(fit) {
            // Resized (which cleared it) or new: clear it all.
            ctx.clear_rect(0.0, 0.0, f64::from(fit.w), f64::from(fit.h));
            self.fit = Some(fit);
        } else {
            for (x, y, w, h) in self.painted.drain(..) {
                ctx.clear_rect(x, y, w, h);
            }
        }
        self.painted.clear();
        let dark = canvas::dark_theme();
        let ring = if dark { "#171d27" } else { "#fff" };
        let k = fit.scale;
        ctx.set_transform(k, 0.0, 0.0, k, -a.x * k, -a.y * k).ok();
        ctx.set_line_width(1.3);
        ctx.set_stroke_style_str(ring);
        let mut drawn = 0;
        for d in &self.active {
            let p = (now - d.start) / TRAVEL_MS;
            if p < 0.0 {
                continue;
            }
            let Some((eased, opacity)) = dot_at(p, d.dropped) else {
                continue;
            };
            let Some(route) = self.routes.get(d.route) else {
                continue;
            };
            let (x, y) = route.at(eased);
            let look = look(d.kind);
            ctx.set_global_alpha(opacity);
            ctx.begin_path();
            ctx.arc(x, y, look.radius, 0.0, std::f64::consts::TAU).ok();
            ctx.set_fill_style_str(look.color);
            ctx.fill();
            ctx.stroke();
            let (top, bottom) = if d.dropped {
                // The cross above a dropped message's dot.
                ctx.set_font("800 11px sans-serif");
                ctx.set_text_align("center");
                ctx.set_line_width(3.0);
                ctx.stroke_text("✕", x, y - 7.0).ok();
                ctx.set_fill_style_str("#d55e00");
                ctx.fill_text("✕", x, y - 7.0).ok();
                ctx.set_line_width(1.3);
                (y - 22.0, y + look.radius + 2.0)
            } else {
                (y - look.radius - 2.0, y + look.radius + 2.0)
            };
            let half = look.radius.max(8.0) + 2.0;
            // In backing pixels, rounded out, for the next frame to clear.
            let (x0, y0) = ((x - half - a.x) * k - 1.0, (top - a.y) * k - 1.0);
            self.painted.push((
                x0.floor(),
                y0.floor(),
                (2.0 * half * k + 2.0).ceil() + 1.0,
                ((bottom - top) * k + 2.0).ceil() + 1.0,
            ));
            drawn += 1;
        }
        ctx.set_global_alpha(1.0);
        if self.told != Some(drawn) {
            let _ = el.set_attribute("data-pulses", &drawn.to_string());
            self.told = Some(drawn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dot_eases_from_its_start_to_its_end_and_then_is_gone() {
        assert_eq!(dot_at(0.0, false), Some((0.0, 1.0)));
        let (mid, opacity) = dot_at(0.5, false).unwrap_or_default();
        assert!((mid - 0.5).abs() < 1e-9 && opacity == 1.0);
        let (late, _) = dot_at(0.99, false).unwrap_or_default();
        assert!(late > 0.99 && late < 1.0, "{late}");
        assert_eq!(dot_at(1.0, false), None);
    }

    #[test]
    fn a_dropped_message_stops_halfway_and_fades_out() {
        let (at, opacity) = dot_at(0.7, true).unwrap_or_default();
        assert!((at - 0.5).abs() < 1e-9, "{at}");
        assert!(opacity > 0.0 && opacity < 1.0, "{opacity}");
        assert_eq!(dot_at(0.85, true), None);
    }
}
