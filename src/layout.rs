//! Where each thing goes on the architecture diagram.
//!
//! Pure geometry from a [`Snapshot`]: no DOM, so it is unit-tested natively.
//! The picture is hub and spoke, as in Kubernetes: the control-plane nodes
//! across the top (each with its static pods and node agents, the etcd
//! members joined as Raft peers), the API load balancer in the middle with
//! the cluster add-ons beside it, and the worker nodes below, every one of
//! them reaching the API only through the load balancer. The user's kubectl
//! sits at the left of the balancer: every request the console sends starts
//! there.
//!
//! Besides the boxes, the layout holds a [`Route`] for every pair of
//! components that exchange messages, so the page can animate a message along
//! the same line the diagram draws between them.

use kubesim::inspect::Target;
use kubesim::{ComponentKind, ComponentView, Health, NodeRole, NodeView, Snapshot};
use std::collections::BTreeMap;
use std::rc::Rc;

pub const WIDTH: f64 = 1200.0;
const MARGIN: f64 = 24.0;
const GAP: f64 = 18.0;
const HEADER: f64 = 46.0;
const CHIP_H: f64 = 34.0;
/// Chips that show a live state line (the simulated control-plane row).
const CHIP_STATE_H: f64 = 48.0;
const CHIP_GAP: f64 = 8.0;
const PAD: f64 = 12.0;
/// At most this many worker nodes side by side; more wrap into rows.
const WORKERS_PER_ROW: usize = 4;
/// More worker nodes than this and they are drawn on a canvas (see
/// `canvas.rs`): the teaching sizes (the default 3 workers, up to a dozen)
/// stay SVG, one element per pod and chip; past a dozen the SVG has
/// thousands of elements the browser restyles and repaints.
pub const CANVAS_WORKERS: usize = 12;

/// Whether a cluster of `workers` worker nodes is drawn in the canvas view.
pub fn uses_canvas(workers: usize) -> bool {
    workers > CANVAS_WORKERS
}

/// A pod tile's size and the gap around it.
pub const TILE_W: f64 = 62.0;
pub const TILE_H: f64 = 16.0;
const TILE_GAP: f64 = 4.0;

/// Where a node's pods go in its pods area: tiles in rows, and when they do
/// not all fit, the last slot says how many more there are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PodGrid {
    pub area: Rect,
    per_row: usize,
    /// Tiles drawn (the first `shown` pods of the node).
    pub shown: usize,
    /// Pods on the node.
    pub total: usize,
}

impl PodGrid {
    pub fn new(area: Rect, total: usize) -> PodGrid {
        let per_row = (((area.w - TILE_GAP) / (TILE_W + TILE_GAP)).floor() as usize).max(1);
        let rows = (((area.h - TILE_GAP) / (TILE_H + TILE_GAP)).floor() as usize).max(1);
        let room = per_row * rows;
        let shown = if total > room { room - 1 } else { total };
        PodGrid {
            area,
            per_row,
            shown,
            total,
        }
    }

    /// The rectangle of slot `i` (a tile, or the "+N more" after the last).
    pub fn slot(&self, i: usize) -> Rect {
        Rect {
            x: self.area.x + TILE_GAP + (i % self.per_row) as f64 * (TILE_W + TILE_GAP),
            y: self.area.y + TILE_GAP + (i / self.per_row) as f64 * (TILE_H + TILE_GAP),
            w: TILE_W,
            h: TILE_H,
        }
    }

    /// How many pods the "+N more" slot stands for (none when all are drawn).
    pub fn more(&self) -> Option<usize> {
        (self.total > self.shown).then(|| self.total - self.shown)
    }

    /// The index of the tile under the point, if one is.
    pub fn tile_at(&self, x: f64, y: f64) -> Option<usize> {
        (0..self.shown).find(|&i| self.slot(i).contains(x, y))
    }
}

/// A pod's state as its tile shows it: a class (its colours) and a mark, so
/// the state is told by shape as well as colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodState {
    Running,
    Unready,
    Pending,
    Succeeded,
    Failed,
    Terminating,
}

impl PodState {
    pub fn of(pod: &kubesim::PodView) -> PodState {
        // The first container waiting for a reason says whether it backs off.
        let backing_off = pod
            .containers
            .iter()
            .find_map(|c| c.reason.as_deref())
            .is_some_and(|r| r.contains("BackOff") || r.starts_with("Err"));
        match pod.phase.as_str() {
            "Running" if pod.ready => PodState::Running,
            "Running" => PodState::Unready,
            "Succeeded" => PodState::Succeeded,
            "Failed" => PodState::Failed,
            "Terminating" => PodState::Terminating,
            _ if backing_off => PodState::Failed,
            _ => PodState::Pending,
        }
    }

    /// The class style.css colours the tile by.
    pub fn class(self) -> &'static str {
        match self {
            PodState::Running => "running",
            PodState::Unready => "unready",
            PodState::Pending => "pending",
            PodState::Succeeded => "succeeded",
            PodState::Failed => "failed",
            PodState::Terminating => "terminating",
        }
    }

    pub fn mark(self) -> &'static str {
        match self {
            PodState::Running => "●",
            PodState::Unready => "◐",
            PodState::Succeeded => "✓",
            PodState::Failed => "✗",
            PodState::Terminating => "↓",
            PodState::Pending => "○",
        }
    }
}

/// A pod tile's text: its mark and the start of its name.
pub fn pod_label(pod: &kubesim::PodView, state: PodState) -> String {
    let short: String = pod.name.chars().take(8).collect();
    format!("{} {short}", state.mark())
}

/// A pod tile's tooltip: its name, phase and containers.
pub fn pod_tooltip(pod: &kubesim::PodView) -> String {
    let containers: Vec<String> = pod
        .containers
        .iter()
        .map(|c| match &c.reason {
            Some(r) => format!("{}: {} ({r})", c.name, c.state),
            None => format!("{}: {}", c.name, c.state),
        })
        .collect();
    format!(
        "pod {}/{}\n{}{}\n{}",
        pod.namespace,
        pod.name,
        pod.phase,
        if pod.ready { " · Ready" } else { "" },
        containers.join("\n")
    )
}

/// The width to squeeze a node's facts line (10.5 px, from 12 units in)
/// into when it would run past the node's box.
pub fn facts_squeeze(facts: &str, node: Rect) -> Option<f64> {
    let room = (node.w - 24.0).max(1.0);
    (text_width(facts, 10.5, false) > room).then_some(room)
}

/// About how wide `text` is drawn in the diagram's sans-serif face at
/// `font_px` (SVG units), from per-glyph widths in em close to DejaVu Sans
/// (the face headless Chromium and most Linux desktops fall back to):
/// within 5 % of the browser's own measure on the chips' texts.
pub fn text_width(text: &str, font_px: f64, bold: bool) -> f64 {
    let em = |c: char| match c {
        'i' | 'j' | 'l' | '|' => 0.28,
        '.' | ',' | ':' | ';' | '\'' | '!' | ' ' | '·' => 0.32,
        'f' | 't' | 'I' => 0.38,
        '(' | ')' | '[' | ']' | '/' | '-' => 0.39,
        'r' => 0.41,
        'm' | 'w' | 'M' | 'W' | '@' | '%' | '⚠' | '★' | '✕' | '…' => 0.9,
        c if c.is_ascii_uppercase() => 0.7,
        c if c.is_ascii_digit() => 0.64,
        _ => 0.6,
    };
    let w: f64 = text.chars().map(em).sum();
    w * font_px * if bold { 1.12 } else { 1.0 }
}

/// `text` made to fit `room` units: trailing ` · ` details are dropped
/// first (the chip's tooltip keeps the whole line), then the rest is cut
/// with an ellipsis.
pub fn fit_text(text: &str, room: f64, font_px: f64, bold: bool) -> String {
    let fits = |t: &str| text_width(t, font_px, bold) <= room;
    let mut t = text;
    while !fits(t) {
        match t.rsplit_once(" · ") {
            Some((head, _)) => t = head,
            None => break,
        }
    }
    if fits(t) {
        return t.to_string();
    }
    let mut out: String = t.chars().collect();
    while !out.is_empty() && !fits(&format!("{out}…")) {
        out.pop();
    }
    format!("{}…", out.trim_end())
}

pub fn health_word(h: Health) -> &'static str {
    match h {
        Health::Up => "up",
        Health::Degraded => "degraded",
        Health::Down => "down",
        Health::Unknown => "unknown",
    }
}

/// A component's state in words (`leader · term 2 (up)`).
pub fn component_status(v: &ComponentView) -> String {
    if !v.simulated {
        "placed; behaviour not simulated yet".to_string()
    } else if v.state.is_empty() {
        format!("simulated, {}", health_word(v.health))
    } else {
        format!("{} ({})", v.state, health_word(v.health))
    }
}

/// A component chip's tooltip: its id, kind, what it runs as and its state.
pub fn component_tooltip(v: &ComponentView) -> String {
    format!(
        "{} ({})\nruns as: {}\n{}\nstate: {}",
        v.id,
        v.kind.label(),
        v.runs_as,
        v.kind.summary(),
        component_status(v)
    )
}

/// A node's one-line facts: zone, instance type, capacity.
pub fn node_facts(v: &NodeView) -> String {
    format!(
        "{} · {} · {} CPU · {} GiB · {} pods",
        v.zone,
        v.instance_type,
        v.capacity.cpu_millis / 1000,
        v.capacity.memory_bytes / kubesim::Resources::GI,
        v.capacity.pods
    )
}

/// A node's tooltip (the canvas view's: the SVG's node has none of its own).
pub fn node_tooltip(v: &NodeView) -> String {
    let ready = match v.ready.as_deref() {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        Some("Unknown") => "NotReady (Unknown: no heartbeat)",
        _ => "not registered yet",
    };
    let mut text = format!(
        "node {}\n{}\n{ready} · {} pods",
        v.name,
        node_facts(v),
        v.pods.len()
    );
    if v.powered_off {
        text.push_str("\npowered off");
    }
    if v.partitioned {
        text.push_str("\npartitioned from the network");
    }
    text
}

/// The badges on a node's header: (class, text, help).
pub fn node_badges(v: &NodeView) -> Vec<(&'static str, &'static str, &'static str)> {
    [
        v.powered_off.then_some((
            "off",
            "⏼ powered off",
            "The machine is powered off: every component on it is down",
        )),
        v.partitioned.then_some((
            "partitioned",
            "✂ partitioned",
            "The machine is cut off from the network: its messages are dropped",
        )),
        match v.ready.as_deref() {
            Some("Unknown") => Some((
                "not-ready",
                "? NotReady (Unknown)",
                "The node lifecycle controller heard no heartbeat for 50 s: Ready is Unknown",
            )),
            Some("False") => Some((
                "not-ready",
                "✗ NotReady",
                "The kubelet reports the node not ready",
            )),
            _ => None,
        },
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A node's lease meter: its state (`fresh`, `late`, `expired`), its text,
/// the fraction of the lease left and the seconds left.
pub fn lease_look(
    lease: &kubesim::LeaseView,
    now: kubesim::SimTime,
) -> (&'static str, String, f64, f64) {
    let left = lease.remaining(now).as_millis() as f64 / 1000.0;
    let total = f64::from(lease.duration_seconds.max(1));
    let fraction = (left / total).clamp(0.0, 1.0);
    let state = if left <= 0.0 {
        "expired"
    } else if left < total - 10.5 {
        "late"
    } else {
        "fresh"
    };
    let text = if left <= 0.0 {
        "♥ lease expired".to_string()
    } else {
        format!("♥ lease {:.0}s", left.ceil())
    };
    (state, text, fraction, left)
}

/// How a component chip is drawn, the same in the SVG and on the canvas.
#[derive(Clone, Debug, PartialEq)]
pub struct ChipLook {
    pub fill: &'static str,
    pub stroke: &'static str,
    pub badge: &'static str,
    /// The kind's name, or its short form on a narrow chip.
    pub label: &'static str,
    /// The width to squeeze the name into when it is wider than the chip
    /// has room for ("containerd" on a worker's chip in the canvas view).
    pub label_squeeze: Option<f64>,
    pub glyph: &'static str,
    pub crashed: bool,
    pub down: bool,
    pub degraded: bool,
    pub leader: bool,
    /// Lines under the name: (class, text, width to squeeze the text into).
    pub lines: Vec<(&'static str, String, Option<f64>)>,
    /// The baseline of the name (the lines follow 13.5 apart).
    pub top: f64,
}

/// A component's live state, split for the chip: the role or readiness
/// (`leader`, `ready`, `crashed`) and the details after it (`term 2 · rev 57`).
fn state_lines(state: &str) -> (String, String) {
    match state.split_once(" · ") {
        Some((head, rest)) => (head.to_string(), rest.to_string()),
        None => (state.to_string(), String::new()),
    }
}

/// A chip's look: colours by kind and health, the name, its live state when
/// simulated (`sub`: a last line for cluster-wide chips), fitted to the chip.
pub fn chip_look(c: &PlacedComponent, sub: Option<String>) -> ChipLook {
    let r = c.rect;
    let v = &c.view;
    let kind = v.kind;
    let (fill, stroke) = crate::palette::colors(kind);
    let wide = r.w >= kind.label().len() as f64 * 7.2 + 52.0;
    let label = if wide {
        kind.label()
    } else {
        crate::palette::short_label(kind)
    };
    // Crashed: dark, name struck through. Down for another reason (a
    // balancer with no API server in rotation): a red outline and a cross.
    let crashed = v.simulated && v.health == Health::Down && v.state == "crashed";
    let down = v.simulated && v.health == Health::Down && !crashed;
    let degraded = v.simulated && v.health == Health::Degraded;
    let leader = kind == ComponentKind::Etcd && v.state.starts_with("leader");
    let (head, rest) = state_lines(&v.state);
    // Lines of text inside the chip: name, then state (role, details), then
    // the "runs as" line of cluster-wide components.
    let mut lines: Vec<(&'static str, String)> = Vec::new();
    if v.simulated && !v.state.is_empty() {
        let role = if crashed {
            "✕ crashed".to_string()
        } else if down {
            format!("✕ {head}")
        } else if leader {
            format!("★ {head}")
        } else if degraded {
            format!("⚠ {head}")
        } else {
            head
        };
        if sub.is_some() {
            // Cluster-wide chips are wide: one line for the whole state.
            let whole = if rest.is_empty() {
                role
            } else {
                format!("{role} · {rest}")
            };
            lines.push(("chip-state", whole));
        } else {
            lines.push(("chip-state", role));
            if !rest.is_empty() {
                lines.push(("chip-detail", rest));
            }
        }
    }
    if let Some(s) = sub {
        lines.push(("chip-sub", s));
    }
    // Each line fits the chip (11.5 px bold state, 11 px details, as
    // style.css draws them): a line a little too long is drawn a little
    // narrower (SVG `textLength`), a longer one drops its trailing details
    // or is cut; the tooltip keeps the whole state.
    let room = r.w - 44.0 - 4.0;
    // The name at 13 px bold, as style.css draws it.
    let label_squeeze = (text_width(label, 13.0, true) > room).then_some(room.max(1.0));
    let lines: Vec<(&'static str, String, Option<f64>)> = lines
        .into_iter()
        .map(|(class, text)| {
            let (px, bold) = if class == "chip-state" {
                (11.5, true)
            } else {
                (11.0, false)
            };
            let width = text_width(&text, px, bold);
            if width <= room {
                (class, text, None)
            } else if width <= room * 1.15 {
                (class, text, Some(room))
            } else {
                (class, fit_text(&text, room, px, bold), None)
            }
        })
        .collect();
    let n = lines.len() as f64;
    // The name and the lines below it, centred as a block.
    let block = 13.0 + 13.0 * n;
    let top = r.cy() - block / 2.0 + 10.5;
    let (fill, stroke) = if crashed {
        ("#3b4150", "#1c2433")
    } else if down {
        ("#fde3d3", "#c0392b")
    } else if degraded {
        ("#fff4dc", "#b86e00")
    } else {
        (fill, stroke)
    };
    ChipLook {
        fill,
        stroke,
        badge: if crashed { "#1c2433" } else { stroke },
        label,
        label_squeeze,
        glyph: crate::palette::glyph(kind),
        crashed,
        down,
        degraded,
        leader,
        lines,
        top,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    /// Whether the point is inside (edges included).
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.right() && y >= self.y && y <= self.bottom()
    }
}

/// A component placed on the diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedComponent {
    pub view: ComponentView,
    pub rect: Rect,
}

/// A node placed on the diagram, with its components.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedNode {
    pub view: NodeView,
    /// The virtual time of the snapshot the node was drawn from (its
    /// lease meter counts down from it).
    pub now: kubesim::SimTime,
    pub rect: Rect,
    pub components: Vec<PlacedComponent>,
    /// The empty area where the node's pods will be drawn.
    pub pods_area: Option<Rect>,
}

/// What a link between two components stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// An API client's HTTPS connection to the API (through the load balancer
    /// or, on a control-plane node, to the local kube-apiserver).
    Api,
    /// kube-apiserver to its etcd (gRPC, client port 2379).
    EtcdClient,
    /// Raft between etcd members (peer port 2380).
    RaftPeer,
    /// containerd driving runc on the same node.
    Runtime,
    /// The user's kubectl to the API load balancer.
    Kubectl,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub kind: LinkKind,
    pub from: (f64, f64),
    pub to: (f64, f64),
    /// The drawn line from `from` to `to`.
    pub route: Route,
}

pub type Point = (f64, f64);

/// One piece of a route: a straight line or a Bézier curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seg {
    Line(Point, Point),
    Quad(Point, Point, Point),
    Cubic(Point, Point, Point, Point),
}

impl Seg {
    fn at(&self, t: f64) -> Point {
        let u = 1.0 - t;
        match *self {
            Seg::Line(a, b) => (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t),
            Seg::Quad(a, c, b) => (
                u * u * a.0 + 2.0 * u * t * c.0 + t * t * b.0,
                u * u * a.1 + 2.0 * u * t * c.1 + t * t * b.1,
            ),
            Seg::Cubic(a, c1, c2, b) => (
                u * u * u * a.0 + 3.0 * u * u * t * c1.0 + 3.0 * u * t * t * c2.0 + t * t * t * b.0,
                u * u * u * a.1 + 3.0 * u * u * t * c1.1 + 3.0 * u * t * t * c2.1 + t * t * t * b.1,
            ),
        }
    }

    fn reversed(&self) -> Seg {
        match *self {
            Seg::Line(a, b) => Seg::Line(b, a),
            Seg::Quad(a, c, b) => Seg::Quad(b, c, a),
            Seg::Cubic(a, c1, c2, b) => Seg::Cubic(b, c2, c1, a),
        }
    }

    /// Length, measured along a few chords (good enough to pace an animation).
    fn length(&self) -> f64 {
        let steps = match self {
            Seg::Line(..) => 1,
            _ => 16,
        };
        let mut len = 0.0;
        let mut prev = self.at(0.0);
        for i in 1..=steps {
            let p = self.at(i as f64 / steps as f64);
            len += ((p.0 - prev.0).powi(2) + (p.1 - prev.1).powi(2)).sqrt();
            prev = p;
        }
        len
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// A path between two points on the diagram, made of segments.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    segs: Vec<Seg>,
    lens: Vec<f64>,
    total: f64,
}

impl Route {
    pub fn new(segs: Vec<Seg>) -> Route {
        let lens: Vec<f64> = segs.iter().map(Seg::length).collect();
        let total = lens.iter().sum();
        Route { segs, lens, total }
    }

    /// The same path travelled the other way.
    pub fn reversed(&self) -> Route {
        Route::new(self.segs.iter().rev().map(Seg::reversed).collect())
    }

    /// The point at fraction `t` (0 to 1) of the way along, by length.
    pub fn at(&self, t: f64) -> Point {
        let mut d = t.clamp(0.0, 1.0) * self.total;
        for (seg, len) in self.segs.iter().zip(&self.lens) {
            if d <= *len || *len == 0.0 && d == 0.0 {
                let f = if *len > 0.0 { d / len } else { 0.0 };
                return seg.at(f);
            }
            d -= len;
        }
        self.segs.last().map(|s| s.at(1.0)).unwrap_or((0.0, 0.0))
    }

    /// The SVG path data.
    pub fn svg_d(&self) -> String {
        let mut d = String::new();
        let mut pen: Option<Point> = None;
        for seg in &self.segs {
            let start = match seg {
                Seg::Line(a, _) | Seg::Quad(a, _, _) | Seg::Cubic(a, _, _, _) => *a,
            };
            if pen != Some(start) {
                d.push_str(&format!("M{} {} ", fmt(start.0), fmt(start.1)));
            }
            let end = match *seg {
                Seg::Line(_, b) => {
                    d.push_str(&format!("L{} {} ", fmt(b.0), fmt(b.1)));
                    b
                }
                Seg::Quad(_, c, b) => {
                    d.push_str(&format!(
                        "Q{} {} {} {} ",
                        fmt(c.0),
                        fmt(c.1),
                        fmt(b.0),
                        fmt(b.1)
                    ));
                    b
                }
                Seg::Cubic(_, c1, c2, b) => {
                    d.push_str(&format!(
                        "C{} {} {} {} {} {} ",
                        fmt(c1.0),
                        fmt(c1.1),
                        fmt(c2.0),
                        fmt(c2.1),
                        fmt(b.0),
                        fmt(b.1)
                    ));
                    b
                }
            };
            pen = Some(end);
        }
        d.trim_end().to_string()
    }
}

/// A gentle S-curve between two points: vertical ends when the points are
/// mostly above one another, horizontal ends otherwise.
fn s_curve(a: Point, b: Point) -> Seg {
    if (a.1 - b.1).abs() > (a.0 - b.0).abs() / 3.0 {
        let my = (a.1 + b.1) / 2.0;
        Seg::Cubic(a, (a.0, my), (b.0, my), b)
    } else {
        let mx = (a.0 + b.0) / 2.0;
        Seg::Cubic(a, (mx, a.1), (mx, b.1), b)
    }
}

/// How far a Raft arc's control point rises above its ends.
pub fn raft_lift(dx: f64) -> f64 {
    24.0 + 0.08 * dx.abs()
}

fn link(kind: LinkKind, segs: Vec<Seg>) -> Link {
    let route = Route::new(segs);
    Link {
        kind,
        from: route.at(0.0),
        to: route.at(1.0),
        route,
    }
}

/// The title of the worker nodes' band.
pub const WORKERS_TITLE: &str = "Worker nodes";

/// A labelled region behind a group of things.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub title: &'static str,
    pub rect: Rect,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The virtual time of the snapshot laid out (for lease countdowns).
    pub now: kubesim::SimTime,
    pub width: f64,
    pub height: f64,
    pub bands: Vec<Band>,
    /// Shared, so a node unchanged since the last layout keeps its
    /// allocation and the diagram can skip redrawing it.
    pub nodes: Vec<Rc<PlacedNode>>,
    pub cluster_components: Vec<PlacedComponent>,
    /// The user's kubectl, outside the cluster.
    pub kubectl: Rect,
    pub links: Rc<Vec<Link>>,
    /// Where a message from one component to another travels, by (from, to)
    /// component id, both directions.
    pub routes: BTreeMap<(String, String), Route>,
    /// Konnectivity, when the cluster runs it: a tab on the top edge of each
    /// node for its agent, and of each control-plane node for its server.
    pub tunnel_chips: Vec<TunnelChip>,
    /// The box every route stays inside, with room around for a dot and a
    /// dropped message's cross: where the pulse canvas lies.
    pub pulse_area: Rect,
    /// The worker nodes are drawn on a canvas (more than
    /// [`CANVAS_WORKERS`] of them), not as SVG elements.
    pub canvas: bool,
}

/// A konnectivity-server or konnectivity-agent, drawn as a small tab.
#[derive(Clone, Debug, PartialEq)]
pub struct TunnelChip {
    /// `konnectivity-agent@worker-1`, `konnectivity-server-control-plane-1`.
    pub id: String,
    /// `agent · 3 tunnels`.
    pub label: String,
    pub up: bool,
    pub rect: Rect,
}

/// Width of a Konnectivity tab.
const TUNNEL_W: f64 = 118.0;

impl Layout {
    /// The nodes drawn on the canvas: the workers in the canvas view, none
    /// in the SVG view.
    pub fn canvas_nodes(&self) -> impl Iterator<Item = &Rc<PlacedNode>> {
        self.nodes
            .iter()
            .filter(move |n| self.canvas && n.view.role == NodeRole::Worker)
    }

    /// The band drawn behind the canvas nodes, in the canvas view.
    pub fn canvas_band(&self) -> Option<&Band> {
        self.canvas
            .then(|| self.bands.iter().find(|b| b.title == WORKERS_TITLE))
            .flatten()
    }

    /// What is drawn at `(x, y)` (the diagram's units) on a node: a pod's
    /// tile, a component's chip or else the node itself, with the tooltip
    /// the SVG view shows for it. None off every node.
    pub fn hit(&self, x: f64, y: f64) -> Option<(Target, String)> {
        let node = self.nodes.iter().find(|n| n.rect.contains(x, y))?;
        let v = &node.view;
        if let Some(area) = node.pods_area {
            let grid = PodGrid::new(area, v.pods.len());
            if let Some(pod) = grid.tile_at(x, y).and_then(|i| v.pods.get(i)) {
                return Some((
                    Target::Pod(format!("{}/{}", pod.namespace, pod.name)),
                    pod_tooltip(pod),
                ));
            }
        }
        if let Some(c) = node.components.iter().find(|c| c.rect.contains(x, y)) {
            return Some((
                Target::Component(c.view.id.clone()),
                component_tooltip(&c.view),
            ));
        }
        Some((Target::Node(v.name.clone()), node_tooltip(v)))
    }

    /// The pod tile or chip at `(x, y)` (the diagram's units), to outline
    /// under the pointer in the canvas view as the SVG outlines a hovered
    /// chip. None on a node's other parts and off every node.
    pub fn hit_outline(&self, x: f64, y: f64) -> Option<Rect> {
        let node = self.nodes.iter().find(|n| n.rect.contains(x, y))?;
        if let Some(area) = node.pods_area {
            let pods = node.view.pods.len();
            let grid = PodGrid::new(area, pods);
            if let Some(i) = grid.tile_at(x, y).filter(|&i| i < pods) {
                return Some(grid.slot(i));
            }
        }
        node.components
            .iter()
            .find(|c| c.rect.contains(x, y))
            .map(|c| c.rect)
    }

    /// Takes the nodes of `old` that are unchanged (equal in every drawn
    /// field but the ticking lease), so they are the same allocation and
    /// the diagram's per-node components skip them.
    pub fn reuse_nodes(&mut self, old: &Layout) {
        for (new, before) in self.nodes.iter_mut().zip(&old.nodes) {
            if !Rc::ptr_eq(new, before)
                && new.same_but_lease(before)
                && new.view.lease == before.view.lease
                && (new.view.lease.is_none() || new.now == before.now)
            {
                *new = before.clone();
            }
        }
    }

    /// Keeps the nodes of `old` that are not in turn `turn` of `turns`
    /// where they sit at the same place: while the clock runs fast every
    /// node changes on every snapshot (its kubelet's lease age), and
    /// redrawing a quarter of them per snapshot keeps a frame from
    /// redrawing a hundred nodes at once. A turn is a run of neighbouring
    /// nodes ([`Layout::redraw_turn`]), so the canvas view's redraw falls
    /// on one or two of its tiles.
    pub fn stagger_nodes(&mut self, old: &Layout, turn: usize, turns: usize) {
        let count = self.nodes.len();
        for (i, (new, before)) in self.nodes.iter_mut().zip(&old.nodes).enumerate() {
            if Layout::redraw_turn(i, count, turns) != turn
                && new.rect == before.rect
                && new.view.name == before.view.name
                && new.components.len() == before.components.len()
            {
                *new = before.clone();
            }
        }
    }

    /// The turn (of `turns`) in which node `i` of `count` is redrawn: the
    /// nodes in order, cut into `turns` runs of about equal length.
    pub fn redraw_turn(i: usize, count: usize, turns: usize) -> usize {
        if count == 0 || turns == 0 {
            return 0;
        }
        (i * turns / count).min(turns - 1)
    }
}

impl PlacedNode {
    /// Equal in what the node's box draws itself: everything but its
    /// Lease and its components' chips (each drawn by its own component:
    /// the kubelet's chip says how long ago it renewed its lease, so it
    /// changes every virtual second).
    pub fn same_box(&self, other: &PlacedNode) -> bool {
        let (a, b) = (&self.view, &other.view);
        self.rect == other.rect
            && self.pods_area == other.pods_area
            && a.name == b.name
            && a.role == b.role
            && a.zone == b.zone
            && a.instance_type == b.instance_type
            && a.capacity == b.capacity
            && a.powered_off == b.powered_off
            && a.partitioned == b.partitioned
            && a.ready == b.ready
            && a.pods == b.pods
    }

    /// Equal but for the node's Lease (drawn by its own meter, which
    /// changes every frame as time runs).
    pub fn same_but_lease(&self, other: &PlacedNode) -> bool {
        let (a, b) = (&self.view, &other.view);
        self.rect == other.rect
            && self.pods_area == other.pods_area
            && self.components == other.components
            && a.name == b.name
            && a.role == b.role
            && a.zone == b.zone
            && a.instance_type == b.instance_type
            && a.capacity == b.capacity
            && a.components == b.components
            && a.powered_off == b.powered_off
            && a.partitioned == b.partitioned
            && a.ready == b.ready
            && a.pods == b.pods
    }
}

#[cfg(test)]
impl Layout {
    /// Every placed component, cluster-wide ones first.
    pub fn components(&self) -> impl Iterator<Item = &PlacedComponent> {
        self.cluster_components
            .iter()
            .chain(self.nodes.iter().flat_map(|n| n.components.iter()))
    }
}

/// Splits `row` into `n` equal columns separated by `gap`.
pub fn columns(row: Rect, n: usize, gap: f64) -> Vec<Rect> {
    let n = n.max(1);
    let w = (row.w - gap * (n as f64 - 1.0)) / n as f64;
    (0..n)
        .map(|i| Rect {
            x: row.x + i as f64 * (w + gap),
            y: row.y,
            w,
            h: row.h,
        })
        .collect()
}

/// Places a node's components inside its box; returns the box height used.
fn place_node(view: &NodeView, now: kubesim::SimTime, x: f64, y: f64, w: f64) -> PlacedNode {
    let inner_x = x + PAD;
    let inner_w = w - 2.0 * PAD;
    let mut cy = y + HEADER;
    let by_kind = |k: ComponentKind| view.components.iter().find(|c| c.kind == k).cloned();
    let mut placed = Vec::new();
    let row = |kinds: &[ComponentKind], cy: &mut f64, placed: &mut Vec<PlacedComponent>| {
        let present: Vec<ComponentView> = kinds.iter().filter_map(|k| by_kind(*k)).collect();
        if present.is_empty() {
            return;
        }
        let h = if present.iter().any(|c| c.simulated) {
            CHIP_STATE_H
        } else {
            CHIP_H
        };
        let rect = Rect {
            x: inner_x,
            y: *cy,
            w: inner_w,
            h,
        };
        for (view, rect) in present
            .into_iter()
            .zip(columns(rect, kinds.len(), CHIP_GAP))
        {
            placed.push(PlacedComponent { view, rect });
        }
        *cy += h + CHIP_GAP;
    };
    if view.role == NodeRole::ControlPlane {
        row(
            &[ComponentKind::KubeApiserver, ComponentKind::Etcd],
            &mut cy,
            &mut placed,
        );
        row(
            &[
                ComponentKind::KubeScheduler,
                ComponentKind::KubeControllerManager,
            ],
            &mut cy,
            &mut placed,
        );
        // A cloud-controller-manager replica, on the control-plane nodes
        // that run one: drawn as kube-controller-manager's are.
        row(
            &[ComponentKind::CloudControllerManager],
            &mut cy,
            &mut placed,
        );
        cy += 20.0; // the "node agents" divider
    }
    row(
        &[ComponentKind::Kubelet, ComponentKind::KubeProxy],
        &mut cy,
        &mut placed,
    );
    row(
        &[ComponentKind::Containerd, ComponentKind::Runc],
        &mut cy,
        &mut placed,
    );
    if view.role == NodeRole::ControlPlane {
        cy += 16.0; // the taint footer
    }
    let pods_area = (view.role == NodeRole::Worker).then(|| {
        let r = Rect {
            x: inner_x,
            y: cy,
            w: inner_w,
            h: 44.0,
        };
        cy += r.h + CHIP_GAP;
        r
    });
    if view.role == NodeRole::Worker {
        cy += 16.0; // the lease footer
    }
    PlacedNode {
        view: view.clone(),
        now,
        rect: Rect {
            x,
            y,
            w,
            h: cy - y + PAD - CHIP_GAP,
        },
        components: placed,
        pods_area,
    }
}

/// Lays out the whole diagram at the fixed width [`WIDTH`].
pub fn layout(snapshot: &Snapshot) -> Layout {
    let inner = WIDTH - 2.0 * MARGIN;
    let mut bands = Vec::new();
    let mut nodes = Vec::new();
    let mut links = Vec::new();

    // Control plane across the top.
    let cp: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::ControlPlane)
        .collect();
    // Room above the nodes for the band title and the Raft arcs.
    let cp_top = MARGIN + 64.0;
    let cp_cols = columns(
        Rect {
            x: MARGIN + PAD,
            y: cp_top,
            w: inner - 2.0 * PAD,
            h: 0.0,
        },
        cp.len(),
        GAP,
    );
    let mut cp_bottom = cp_top;
    for (view, col) in cp.iter().zip(&cp_cols) {
        let placed = place_node(view, snapshot.now, col.x, col.y, col.w);
        cp_bottom = cp_bottom.max(placed.rect.bottom());
        nodes.push(Rc::new(placed));
    }
    bands.push(Band {
        title: "Control plane",
        rect: Rect {
            x: MARGIN,
            y: MARGIN,
            w: inner,
            h: cp_bottom - MARGIN + PAD,
        },
    });

    // The middle row: the user's kubectl at the left, the API load balancer
    // in the middle, the add-ons stacked at the right.
    let mid_top = cp_bottom + PAD + 56.0;
    let mid_h = 100.0;
    let lb = Rect {
        x: (WIDTH - 280.0) / 2.0,
        y: mid_top + 20.0,
        w: 280.0,
        h: 60.0,
    };
    let kubectl = Rect {
        x: MARGIN + PAD,
        y: lb.y + 4.0,
        w: 220.0,
        h: 52.0,
    };
    let mut cluster_components = Vec::new();
    for view in &snapshot.cluster_components {
        let addon = |row: f64| Rect {
            x: WIDTH - MARGIN - PAD - 300.0,
            y: mid_top + row * 56.0,
            w: 300.0,
            h: 44.0,
        };
        let rect = match view.kind {
            ComponentKind::ApiLoadBalancer => lb,
            ComponentKind::CloudControllerManager => addon(0.0),
            _ => addon(1.0),
        };
        cluster_components.push(PlacedComponent {
            view: view.clone(),
            rect,
        });
    }
    let mid_bottom = mid_top + mid_h;

    // Workers below, wrapping into rows.
    let workers: Vec<&NodeView> = snapshot
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Worker)
        .collect();
    let workers_top = mid_bottom + 48.0;
    let mut y = workers_top + 28.0;
    let mut workers_bottom = y;
    for chunk in workers.chunks(WORKERS_PER_ROW) {
        let cols = columns(
            Rect {
                x: MARGIN + PAD,
                y,
                w: inner - 2.0 * PAD,
                h: 0.0,
            },
            WORKERS_PER_ROW.min(workers.len()),
            GAP,
        );
        let mut row_bottom = y;
        for (view, col) in chunk.iter().zip(&cols) {
            let placed = place_node(view, snapshot.now, col.x, y, col.w);
            row_bottom = row_bottom.max(placed.rect.bottom());
            nodes.push(Rc::new(placed));
        }
        workers_bottom = row_bottom;
        y = row_bottom + GAP;
    }
    if !workers.is_empty() {
        bands.push(Band {
            title: WORKERS_TITLE,
            rect: Rect {
                x: MARGIN,
                y: workers_top,
                w: inner,
                h: workers_bottom - workers_top + PAD,
            },
        });
    }

    let mut layout = Layout {
        now: snapshot.now,
        width: WIDTH,
        height: workers_bottom.max(mid_bottom) + PAD + MARGIN,
        bands,
        nodes,
        cluster_components,
        kubectl,
        links: Rc::new(Vec::new()),
        routes: BTreeMap::new(),
        tunnel_chips: Vec::new(),
        canvas: uses_canvas(workers.len()),
        pulse_area: Rect {
            x: 0.0,
            y: 0.0,
            w: WIDTH,
            h: 0.0,
        },
    };

    // Links: hub and spoke through the load balancer. Each link that carries
    // simulated messages also becomes a route, both ways.
    let mut routes: BTreeMap<(String, String), Route> = BTreeMap::new();
    let mut add_route = |a: &str, b: &str, r: &Route| {
        routes.insert((a.to_string(), b.to_string()), r.clone());
        routes.insert((b.to_string(), a.to_string()), r.reversed());
    };
    if let Some(lb) = layout
        .cluster_components
        .iter()
        .find(|c| c.view.kind == ComponentKind::ApiLoadBalancer)
    {
        let (lb_id, lb) = (lb.view.id.clone(), lb.rect);
        let k = layout.kubectl;
        let l = link(
            LinkKind::Kubectl,
            vec![Seg::Line((k.right(), k.cy()), (lb.x, lb.cy()))],
        );
        add_route("kubectl", &lb_id, &l.route);
        links.push(l);
        for node in &layout.nodes {
            let api = node
                .components
                .iter()
                .find(|c| c.view.kind == ComponentKind::KubeApiserver);
            match (node.view.role, api) {
                (NodeRole::ControlPlane, Some(api)) => {
                    // Into the node at its bottom-left corner, up the gutter
                    // along its left edge, and into the API server's side.
                    let gx = node.rect.x + PAD / 2.0;
                    let entry = (gx, node.rect.bottom());
                    let l = link(
                        LinkKind::Api,
                        vec![
                            s_curve((lb.cx(), lb.y), entry),
                            Seg::Line(entry, (gx, api.rect.cy())),
                            Seg::Line((gx, api.rect.cy()), (api.rect.x, api.rect.cy())),
                        ],
                    );
                    add_route(&lb_id, &api.view.id, &l.route);
                    links.push(l);
                }
                _ => links.push(link(
                    LinkKind::Api,
                    vec![s_curve(
                        (node.rect.cx(), node.rect.y),
                        (lb.cx(), lb.bottom()),
                    )],
                )),
            }
        }
        for c in &layout.cluster_components {
            let dy = match c.view.kind {
                ComponentKind::CloudControllerManager => -10.0,
                ComponentKind::CoreDns => 10.0,
                _ => continue,
            };
            links.push(link(
                LinkKind::Api,
                vec![s_curve((c.rect.x, c.rect.cy()), (lb.right(), lb.cy() + dy))],
            ));
        }
    }
    // On each control-plane node: the apiserver talks to its local etcd.
    let mut etcd_chips = Vec::new();
    for node in &layout.nodes {
        let find = |k| node.components.iter().find(|c| c.view.kind == k);
        if let (Some(api), Some(etcd)) = (
            find(ComponentKind::KubeApiserver),
            find(ComponentKind::Etcd),
        ) {
            let l = link(
                LinkKind::EtcdClient,
                vec![Seg::Line(
                    (api.rect.right(), api.rect.cy()),
                    (etcd.rect.x, etcd.rect.cy()),
                )],
            );
            add_route(&api.view.id, &etcd.view.id, &l.route);
            links.push(l);
            etcd_chips.push((etcd.view.id.clone(), etcd.rect, node.rect.y));
        }
        if let (Some(ctr), Some(runc)) =
            (find(ComponentKind::Containerd), find(ComponentKind::Runc))
        {
            links.push(link(
                LinkKind::Runtime,
                vec![Seg::Line(
                    (ctr.rect.right(), ctr.rect.cy()),
                    (runc.rect.x, runc.rect.cy()),
                )],
            ));
        }
    }
    // Raft peers: every pair of etcd members, joined by an arc above their
    // nodes; a message climbs from the member to its node's edge first.
    for (i, (a_id, a, a_top)) in etcd_chips.iter().enumerate() {
        for (b_id, b, b_top) in &etcd_chips[i + 1..] {
            let (pa, pb) = ((a.cx(), *a_top), (b.cx(), *b_top));
            let lift = raft_lift(pb.0 - pa.0);
            let ctrl = ((pa.0 + pb.0) / 2.0, pa.1.min(pb.1) - lift);
            let arc = link(LinkKind::RaftPeer, vec![Seg::Quad(pa, ctrl, pb)]);
            add_route(
                a_id,
                b_id,
                &Route::new(vec![
                    Seg::Line((a.cx(), a.y), pa),
                    Seg::Quad(pa, ctrl, pb),
                    Seg::Line(pb, (b.cx(), b.y)),
                ]),
            );
            links.push(arc);
        }
    }
    // Konnectivity: tabs on the nodes' top edges; a route from each to the
    // component it serves (agent -> kubelet, server -> kube-apiserver) and
    // between each server and each agent (the tunnels).
    if let Some(k) = &snapshot.konnectivity {
        let mut placed: Vec<(String, Rect, bool)> = Vec::new();
        for node in &layout.nodes {
            let find = |kind| node.components.iter().find(|c| c.view.kind == kind);
            let mut x = node.rect.right() - PAD - TUNNEL_W;
            let y = node.rect.y - 7.0;
            for (end, server, serves) in k
                .agents
                .iter()
                .map(|a| (a, false, find(ComponentKind::Kubelet)))
                .chain(
                    k.servers
                        .iter()
                        .map(|s| (s, true, find(ComponentKind::KubeApiserver))),
                )
                .filter(|(e, _, _)| e.node == node.view.name)
            {
                let rect = Rect {
                    x,
                    y,
                    w: TUNNEL_W,
                    h: 14.0,
                };
                x -= TUNNEL_W + 6.0;
                let label = format!(
                    "{} · {} tunnel{}",
                    if server { "konn-server" } else { "konn-agent" },
                    end.tunnels,
                    if end.tunnels == 1 { "" } else { "s" }
                );
                if let Some(c) = serves {
                    let r = Route::new(vec![Seg::Line(
                        (rect.cx(), rect.bottom()),
                        (c.rect.cx(), c.rect.y),
                    )]);
                    add_route(&end.name, &c.view.id, &r);
                }
                placed.push((end.name.clone(), rect, server));
                layout.tunnel_chips.push(TunnelChip {
                    id: end.name.clone(),
                    label,
                    up: end.up,
                    rect,
                });
            }
        }
        for (sid, s, _) in placed.iter().filter(|(_, _, server)| *server) {
            for (aid, a, _) in placed.iter().filter(|(_, _, server)| !*server) {
                add_route(
                    sid,
                    aid,
                    &Route::new(vec![s_curve((s.cx(), s.y), (a.cx(), a.y))]),
                );
            }
        }
    }
    layout.links = Rc::new(links);
    layout.pulse_area = pulse_area(routes.values(), layout.width, layout.height);
    layout.routes = routes;
    layout
}

/// The box around `routes` (a Bézier curve stays inside its control
/// points' box), padded for the dots and crosses drawn on them, within the
/// diagram; the whole diagram when there is no route.
fn pulse_area<'a>(routes: impl Iterator<Item = &'a Route>, width: f64, height: f64) -> Rect {
    const PAD: f64 = 24.0;
    let mut b = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for r in routes {
        for seg in &r.segs {
            let points: &[Point] = match seg {
                Seg::Line(a, c) => &[*a, *c],
                Seg::Quad(a, c, d) => &[*a, *c, *d],
                Seg::Cubic(a, c, d, e) => &[*a, *c, *d, *e],
            };
            for &(x, y) in points {
                b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
            }
        }
    }
    if !(b.0.is_finite() && b.1.is_finite() && b.2.is_finite() && b.3.is_finite()) {
        return Rect {
            x: 0.0,
            y: 0.0,
            w: width,
            h: height,
        };
    }
    let (x0, y0) = ((b.0 - PAD).max(0.0).floor(), (b.1 - PAD).max(0.0).floor());
    let (x1, y1) = (
        (b.2 + PAD).min(width).ceil(),
        (b.3 + PAD).min(height).ceil(),
    );
    Rect {
        x: x0,
        y: y0,
        w: (x1 - x0).max(1.0),
        h: (y1 - y0).max(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim::{Cluster, Topology};

    fn default_layout() -> Layout {
        layout(&Cluster::new(Topology::default(), 1).snapshot())
    }

    fn overlaps(a: &Rect, b: &Rect) -> bool {
        a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
    }

    #[test]
    fn every_component_of_the_snapshot_is_placed_once() {
        let snap = Cluster::new(Topology::default(), 1).snapshot();
        let l = layout(&snap);
        let placed: Vec<_> = l.components().map(|c| c.view.id.clone()).collect();
        let expected: Vec<_> = snap.components().map(|c| c.id.clone()).collect();
        assert_eq!(placed.len(), expected.len());
        for id in expected {
            assert!(placed.contains(&id), "{id} is not placed");
        }
    }

    #[test]
    fn components_sit_inside_their_node_and_never_overlap() {
        let l = default_layout();
        for node in &l.nodes {
            for (i, c) in node.components.iter().enumerate() {
                let r = c.rect;
                assert!(
                    r.x >= node.rect.x && r.right() <= node.rect.right(),
                    "{}",
                    c.view.id
                );
                assert!(
                    r.y >= node.rect.y && r.bottom() <= node.rect.bottom(),
                    "{}",
                    c.view.id
                );
                for other in &node.components[i + 1..] {
                    assert!(
                        !overlaps(&r, &other.rect),
                        "{} / {}",
                        c.view.id,
                        other.view.id
                    );
                }
            }
        }
    }

    #[test]
    fn nodes_never_overlap_each_other_or_the_load_balancer() {
        let l = default_layout();
        for (i, a) in l.nodes.iter().enumerate() {
            for b in &l.nodes[i + 1..] {
                assert!(
                    !overlaps(&a.rect, &b.rect),
                    "{} / {}",
                    a.view.name,
                    b.view.name
                );
            }
            for c in &l.cluster_components {
                assert!(
                    !overlaps(&a.rect, &c.rect),
                    "{} / {}",
                    a.view.name,
                    c.view.id
                );
            }
        }
    }

    #[test]
    fn three_etcd_members_are_joined_pairwise_as_raft_peers() {
        let l = default_layout();
        let raft = l
            .links
            .iter()
            .filter(|k| k.kind == LinkKind::RaftPeer)
            .count();
        assert_eq!(raft, 3);
    }

    #[test]
    fn every_node_reaches_the_api_through_the_load_balancer() {
        let l = default_layout();
        let api = l.links.iter().filter(|k| k.kind == LinkKind::Api).count();
        // 6 nodes plus the cloud-controller-manager and CoreDNS.
        assert_eq!(api, 8);
    }

    #[test]
    fn every_pair_that_exchanges_messages_has_a_route_both_ways() {
        let l = default_layout();
        let pairs = [
            ("kubectl", "api-load-balancer"),
            ("api-load-balancer", "kube-apiserver-control-plane-2"),
            ("kube-apiserver-control-plane-3", "etcd-control-plane-3"),
            ("etcd-control-plane-1", "etcd-control-plane-3"),
        ];
        for (a, b) in pairs {
            let there = &l.routes[&(a.to_string(), b.to_string())];
            let back = &l.routes[&(b.to_string(), a.to_string())];
            let close = |p: Point, q: Point| (p.0 - q.0).abs() < 1e-6 && (p.1 - q.1).abs() < 1e-6;
            assert!(close(there.at(0.0), back.at(1.0)), "{a} -> {b}");
            assert!(close(there.at(1.0), back.at(0.0)), "{a} -> {b}");
        }
    }

    #[test]
    fn a_route_starts_at_its_sender_and_ends_at_its_receiver() {
        let l = default_layout();
        let rect = |id: &str| l.components().find(|c| c.view.id == id).unwrap().rect;
        let inside = |p: Point, r: Rect| {
            p.0 >= r.x - 0.01
                && p.0 <= r.right() + 0.01
                && p.1 >= r.y - 0.01
                && p.1 <= r.bottom() + 0.01
        };
        let r = &l.routes[&(
            "api-load-balancer".to_string(),
            "kube-apiserver-control-plane-1".to_string(),
        )];
        assert!(inside(r.at(0.0), rect("api-load-balancer")));
        assert!(inside(r.at(1.0), rect("kube-apiserver-control-plane-1")));
        let r = &l.routes[&(
            "etcd-control-plane-2".to_string(),
            "etcd-control-plane-1".to_string(),
        )];
        assert!(inside(r.at(0.0), rect("etcd-control-plane-2")));
        assert!(inside(r.at(1.0), rect("etcd-control-plane-1")));
        // Halfway along a Raft route is above both nodes.
        assert!(r.at(0.5).1 < l.nodes[0].rect.y);
    }

    #[test]
    fn kubectl_sits_left_of_the_load_balancer_clear_of_everything() {
        let l = default_layout();
        let lb = l
            .components()
            .find(|c| c.view.kind == ComponentKind::ApiLoadBalancer)
            .unwrap()
            .rect;
        assert!(l.kubectl.right() < lb.x);
        for c in l.components() {
            assert!(!overlaps(&l.kubectl, &c.rect), "{}", c.view.id);
        }
        for n in &l.nodes {
            assert!(!overlaps(&l.kubectl, &n.rect), "{}", n.view.name);
        }
    }

    #[test]
    fn many_workers_wrap_into_rows_that_stay_inside_the_width() {
        let snap = Cluster::new(Topology::builder().workers(10).build().unwrap(), 1).snapshot();
        let l = layout(&snap);
        for n in &l.nodes {
            assert!(n.rect.right() <= WIDTH - MARGIN, "{}", n.view.name);
        }
        assert!(l.height > default_layout().height);
    }

    #[test]
    fn konnectivity_draws_a_tab_per_agent_and_server_with_routes_to_what_they_serve() {
        let topology = Topology::builder().konnectivity(true).build().unwrap();
        let l = layout(&Cluster::new(topology, 1).snapshot());
        assert_eq!(l.tunnel_chips.len(), 9);
        for (a, b) in [
            ("konnectivity-agent@worker-1", "kubelet@worker-1"),
            (
                "konnectivity-server-control-plane-1",
                "kube-apiserver-control-plane-1",
            ),
            (
                "konnectivity-server-control-plane-2",
                "konnectivity-agent@worker-3",
            ),
        ] {
            assert!(
                l.routes.contains_key(&(a.to_string(), b.to_string())),
                "{a} -> {b}"
            );
            assert!(
                l.routes.contains_key(&(b.to_string(), a.to_string())),
                "{b} -> {a}"
            );
        }
        // Without the option, none.
        assert!(layout(&Cluster::new(Topology::default(), 1).snapshot())
            .tunnel_chips
            .is_empty());
    }

    #[test]
    fn the_cloud_controller_manager_replicas_sit_in_their_control_plane_nodes() {
        let l = default_layout();
        for (node, has) in [
            ("control-plane-1", true),
            ("control-plane-2", true),
            ("control-plane-3", false),
        ] {
            let n = l.nodes.iter().find(|n| n.view.name == node).unwrap();
            let ccm = n
                .components
                .iter()
                .find(|c| c.view.kind == ComponentKind::CloudControllerManager);
            assert_eq!(ccm.is_some(), has, "{node}");
            if let Some(c) = ccm {
                assert_eq!(c.view.id, format!("cloud-controller-manager-{node}"));
                // Below the scheduler and the controller-manager.
                let kcm = n
                    .components
                    .iter()
                    .find(|c| c.view.kind == ComponentKind::KubeControllerManager)
                    .unwrap();
                assert!(c.rect.y >= kcm.rect.bottom(), "{node}");
            }
        }
    }

    #[test]
    fn text_that_does_not_fit_drops_its_details_then_is_cut() {
        assert_eq!(fit_text("ready", 100.0, 11.0, false), "ready");
        let long = "leader on control-plane-2 · 4 controllers";
        let room = text_width("leader on control-plane-2", 11.5, true) + 1.0;
        assert_eq!(
            fit_text(long, room, 11.5, true),
            "leader on control-plane-2"
        );
        let cut = fit_text("a-very-long-name-without-separators", 60.0, 11.0, false);
        assert!(
            cut.ends_with('…') && text_width(&cut, 11.0, false) <= 60.0,
            "{cut}"
        );
        assert_eq!(fit_text("anything", 0.0, 11.0, false), "…");
    }

    fn pod(name: &str, phase: &str, ready: bool, reason: Option<&str>) -> Rc<kubesim::PodView> {
        Rc::new(kubesim::PodView {
            namespace: "default".into(),
            name: name.into(),
            phase: phase.into(),
            ready,
            containers: vec![kubesim::ContainerView {
                name: "app".into(),
                state: if ready { "running" } else { "waiting" }.into(),
                reason: reason.map(String::from),
            }],
        })
    }

    /// The default layout with `n` pods (`web-0`, `web-1`, ...) on worker-1.
    fn with_pods_on_worker_1(n: usize) -> (Layout, Rc<PlacedNode>) {
        let mut l = default_layout();
        let i = l
            .nodes
            .iter()
            .position(|n| n.view.name == "worker-1")
            .expect("worker-1 is laid out");
        let mut node = (*l.nodes[i]).clone();
        node.view.pods = Rc::new(
            (0..n)
                .map(|k| pod(&format!("web-{k}"), "Running", true, None))
                .collect(),
        );
        l.nodes[i] = Rc::new(node);
        let node = l.nodes[i].clone();
        (l, node)
    }

    fn centre(r: Rect) -> (f64, f64) {
        (r.cx(), r.cy())
    }

    #[test]
    fn a_point_on_a_pod_tile_hits_that_pod_with_its_tooltip() {
        let (l, node) = with_pods_on_worker_1(3);
        let area = node.pods_area.expect("a worker has a pods area");
        let grid = PodGrid::new(area, 3);
        let (x, y) = centre(grid.slot(1));
        let (target, tip) = l.hit(x, y).expect("something is under the tile");
        assert_eq!(target, Target::Pod("default/web-1".into()));
        assert!(
            tip.starts_with("pod default/web-1\nRunning · Ready"),
            "{tip}"
        );
        // Between two tiles (in the gap) is the node, not a pod.
        let gap_x = grid.slot(0).right() + 2.0;
        assert_eq!(
            l.hit(gap_x, y).map(|h| h.0),
            Some(Target::Node("worker-1".into()))
        );
    }

    #[test]
    fn a_point_on_a_chip_hits_its_component_and_the_rest_of_a_node_the_node() {
        let (l, node) = with_pods_on_worker_1(0);
        let kubelet = node
            .components
            .iter()
            .find(|c| c.view.kind == ComponentKind::Kubelet)
            .expect("a worker runs a kubelet");
        let (x, y) = centre(kubelet.rect);
        let (target, tip) = l.hit(x, y).expect("the chip is hit");
        assert_eq!(target, Target::Component("kubelet@worker-1".into()));
        assert!(tip.starts_with("kubelet@worker-1 (kubelet)"), "{tip}");
        let (target, tip) = l
            .hit(node.rect.x + 20.0, node.rect.y + 10.0)
            .expect("the header is the node");
        assert_eq!(target, Target::Node("worker-1".into()));
        assert!(tip.starts_with("node worker-1\n"), "{tip}");
    }

    #[test]
    fn the_outline_under_the_pointer_is_the_pod_tile_or_chip_hit_and_nothing_else() {
        let (l, node) = with_pods_on_worker_1(3);
        let grid = PodGrid::new(node.pods_area.expect("a pods area"), 3);
        let (x, y) = centre(grid.slot(2));
        assert_eq!(l.hit_outline(x, y), Some(grid.slot(2)));
        let kubelet = node
            .components
            .iter()
            .find(|c| c.view.kind == ComponentKind::Kubelet)
            .expect("a worker runs a kubelet");
        let (x, y) = centre(kubelet.rect);
        assert_eq!(l.hit_outline(x, y), Some(kubelet.rect));
        // The node's header, an empty tile slot and the space off the nodes.
        assert_eq!(l.hit_outline(node.rect.x + 20.0, node.rect.y + 10.0), None);
        let (x, y) = centre(grid.slot(3));
        assert_eq!(l.hit_outline(x, y), None);
        assert_eq!(l.hit_outline(1.0, 1.0), None);
    }

    #[test]
    fn a_point_off_every_node_hits_nothing() {
        let l = default_layout();
        assert_eq!(l.hit(1.0, 1.0), None);
        assert_eq!(l.hit(-50.0, f64::NAN), None);
        assert_eq!(l.hit(l.width / 2.0, l.height + 100.0), None);
    }

    #[test]
    fn more_pods_than_room_end_in_a_more_slot_that_is_not_a_pod() {
        let (l, node) = with_pods_on_worker_1(30);
        let grid = PodGrid::new(node.pods_area.expect("a pods area"), 30);
        assert!(grid.shown < 30);
        assert_eq!(grid.more(), Some(30 - grid.shown));
        let (x, y) = centre(grid.slot(grid.shown));
        assert_eq!(
            l.hit(x, y).map(|h| h.0),
            Some(Target::Node("worker-1".into()))
        );
        // Every tile shown stays inside the pods area.
        for i in 0..=grid.shown {
            let r = grid.slot(i);
            assert!(r.right() <= grid.area.right() && r.bottom() <= grid.area.bottom());
        }
    }

    #[test]
    fn a_hundred_node_cluster_is_laid_out_for_the_canvas_and_the_default_is_not() {
        let snap = Cluster::new(Topology::builder().workers(97).build().unwrap(), 1).snapshot();
        let big = layout(&snap);
        assert!(big.canvas);
        assert_eq!(big.canvas_nodes().count(), 97);
        let band = big
            .canvas_band()
            .expect("the workers' band is on the canvas");
        for n in big.canvas_nodes() {
            assert_eq!(n.view.role, NodeRole::Worker);
            assert!(band.rect.x < n.rect.x && n.rect.bottom() < band.rect.bottom());
        }
        // The last worker's header is hit as that node.
        let last = big.nodes.last().expect("nodes");
        assert_eq!(
            big.hit(last.rect.x + 5.0, last.rect.y + 5.0).map(|h| h.0),
            Some(Target::Node(last.view.name.clone()))
        );
        let small = default_layout();
        assert!(!small.canvas);
        assert_eq!(small.canvas_nodes().count(), 0);
        assert!(small.canvas_band().is_none());
        assert!(!uses_canvas(CANVAS_WORKERS) && uses_canvas(CANVAS_WORKERS + 1));
    }

    #[test]
    fn a_pods_tile_tells_its_state_by_a_mark_as_well_as_a_colour() {
        let cases = [
            (pod("a", "Running", true, None), PodState::Running, "●"),
            (pod("b", "Running", false, None), PodState::Unready, "◐"),
            (
                pod("c", "Pending", false, Some("ContainerCreating")),
                PodState::Pending,
                "○",
            ),
            (
                pod("d", "Pending", false, Some("CrashLoopBackOff")),
                PodState::Failed,
                "✗",
            ),
            (
                pod("e", "Pending", false, Some("ErrImagePull")),
                PodState::Failed,
                "✗",
            ),
            (pod("f", "Succeeded", false, None), PodState::Succeeded, "✓"),
            (
                pod("g", "Terminating", true, None),
                PodState::Terminating,
                "↓",
            ),
        ];
        for (p, state, mark) in cases {
            assert_eq!(PodState::of(&p), state, "{}", p.name);
            assert_eq!(pod_label(&p, state), format!("{mark} {}", p.name));
        }
        let long = pod("a-very-long-pod-name", "Running", true, None);
        assert_eq!(pod_label(&long, PodState::Running), "● a-very-l");
    }

    #[test]
    fn every_chip_s_name_fits_its_chip_or_is_squeezed_into_it() {
        for topology in [
            Topology::default(),
            Topology::builder().workers(97).build().unwrap(),
        ] {
            let l = layout(&Cluster::new(topology, 1).snapshot());
            let mut squeezed = 0;
            for c in l.components() {
                let look = chip_look(c, None);
                let room = c.rect.w - 48.0;
                let drawn = look
                    .label_squeeze
                    .unwrap_or_else(|| text_width(look.label, 13.0, true));
                assert!(drawn <= room + 1e-9, "{} in {:?}", look.label, c.rect);
                // Squeezed only a little where it is at all (the canvas
                // view's narrower chips: containerd, kube-proxy).
                if let Some(w) = look.label_squeeze {
                    squeezed += 1;
                    assert!(
                        text_width(look.label, 13.0, true) / w < 1.2,
                        "{}",
                        look.label
                    );
                }
            }
            assert!(squeezed < l.components().count());
        }
    }

    #[test]
    fn a_node_s_facts_line_stays_inside_its_box() {
        for topology in [
            Topology::default(),
            Topology::builder().workers(97).build().unwrap(),
        ] {
            let l = layout(&Cluster::new(topology, 1).snapshot());
            for n in &l.nodes {
                let facts = node_facts(&n.view);
                let drawn = facts_squeeze(&facts, n.rect)
                    .unwrap_or_else(|| text_width(&facts, 10.5, false));
                assert!(
                    12.0 + drawn <= n.rect.w - 12.0 + 1e-9,
                    "{facts} in {:?}",
                    n.rect
                );
            }
        }
        let narrow = Rect {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 50.0,
        };
        assert_eq!(
            facts_squeeze("a long line of facts about a node", narrow),
            Some(76.0)
        );
        assert_eq!(facts_squeeze("short", narrow), None);
    }

    #[test]
    fn the_redraw_turns_cut_the_nodes_into_runs_of_neighbours_and_cover_them_all() {
        let turns: Vec<usize> = (0..10).map(|i| Layout::redraw_turn(i, 10, 4)).collect();
        assert_eq!(turns, [0, 0, 0, 1, 1, 2, 2, 2, 3, 3]);
        // Every turn has nodes, and no node is past the last turn.
        for count in 1..120 {
            for n in 1..=count.min(12) {
                let mut seen = vec![0; n];
                for i in 0..count {
                    let t = Layout::redraw_turn(i, count, n);
                    assert!(t < n);
                    seen[t] += 1;
                }
                assert!(seen.iter().all(|&c| c > 0), "{count} {n} {seen:?}");
            }
        }
        assert_eq!(Layout::redraw_turn(3, 0, 4), 0);
        assert_eq!(Layout::redraw_turn(3, 5, 0), 0);
    }

    #[test]
    fn the_pulse_area_holds_every_route_and_no_more_than_the_diagram() {
        for topology in [
            Topology::default(),
            Topology::builder().konnectivity(true).build().unwrap(),
            Topology::builder().workers(97).build().unwrap(),
        ] {
            let l = layout(&Cluster::new(topology, 1).snapshot());
            let a = l.pulse_area;
            assert!(a.x >= 0.0 && a.y >= 0.0 && a.right() <= l.width && a.bottom() <= l.height);
            for route in l.routes.values() {
                for i in 0..=20 {
                    let (x, y) = route.at(f64::from(i) / 20.0);
                    assert!(a.contains(x, y), "({x}, {y}) is outside {a:?}");
                }
            }
        }
        // With a hundred nodes the pulses stay above the workers: their
        // canvas is a small part of the diagram.
        let big =
            layout(&Cluster::new(Topology::builder().workers(97).build().unwrap(), 1).snapshot());
        assert!(big.pulse_area.h < big.height / 4.0, "{:?}", big.pulse_area);
    }
}
