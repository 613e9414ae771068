//! The canvas view of a large cluster's worker nodes, and the canvas
//! helpers the message pulses share.
//!
//! Past `layout::CANVAS_WORKERS` workers the SVG diagram would hold thousands of
//! elements (a box, four chips, a lease meter and a few pod tiles per node)
//! that the browser restyles, lays out and repaints whenever any of them
//! changes. In the canvas view the worker band is painted on a canvas
//! (shown under the diagram's SVG through tiles: see [`TILE_UNITS`])
//! instead, with the same geometry (`layout.rs`),
//! palette and marks as the SVG: the control plane, the links and the
//! Konnectivity tabs stay SVG above it. A node is painted again only when
//! its layout changed (a new allocation: see `Layout::reuse_nodes` and
//! `Layout::stagger_nodes`); a resize or a theme change repaints the band.
//!
//! Pointer and keyboard: each canvas node has a transparent, focusable
//! hit box in the SVG (`diagram.rs`) carrying `data-node`, so Tab reaches
//! the nodes and Enter opens one; a click or hover is hit-tested against
//! the layout (`Layout::hit`) for the pod tile or chip under the pointer.
//!
//! A lesson's lit chips and the pod tile or chip under the pointer are
//! outlined by SVG rectangles over the canvas (`diagram.rs`). Left out: the
//! lesson's dimming of the other components, which the SVG view has.

use crate::layout::{
    chip_look, lease_look, node_badges, node_facts, pod_label, Layout, PlacedNode, PodGrid,
    PodState, Rect,
};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// At most this many backing pixels per canvas (4096 x 4096): a tall
/// diagram on a HiDPI screen is drawn a little softer rather than
/// allocating hundreds of megabytes.
const MAX_PIXELS: f64 = 16_777_216.0;

const SANS: &str = "\"Inter\", \"Segoe UI\", system-ui, -apple-system, sans-serif";
const MONO: &str = "\"JetBrains Mono\", Menlo, Consolas, \"DejaVu Sans Mono\", monospace";

/// A canvas's backing size and the scale from the diagram's units to its
/// backing pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    pub w: u32,
    pub h: u32,
    pub scale: f64,
}

/// The backing size for a canvas `css_w` CSS pixels wide showing a
/// `view_w` x `view_h` diagram on a screen of `dpr` device pixels per CSS
/// pixel: crisp on HiDPI, within [`MAX_PIXELS`]. None when it has no size.
pub fn fit_for(css_w: f64, dpr: f64, view_w: f64, view_h: f64) -> Option<Fit> {
    if !(css_w > 0.0 && view_w > 0.0 && view_h > 0.0 && css_w.is_finite()) {
        return None;
    }
    let dpr = if dpr.is_finite() && dpr > 0.0 {
        dpr
    } else {
        1.0
    };
    let mut scale = css_w / view_w * dpr;
    let area = view_w * scale * view_h * scale;
    if area > MAX_PIXELS {
        scale *= (MAX_PIXELS / area).sqrt();
    }
    let w = (view_w * scale).round().max(1.0);
    let h = (view_h * scale).round().max(1.0);
    Some(Fit {
        w: w as u32,
        h: h as u32,
        scale,
    })
}

/// Sizes `canvas` for a `view_w` x `view_h` diagram at its CSS width
/// (resizing clears it) and returns the fit.
pub fn fit(canvas: &HtmlCanvasElement, view_w: f64, view_h: f64) -> Option<Fit> {
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let fit = fit_for(f64::from(canvas.client_width()), dpr, view_w, view_h)?;
    if canvas.width() != fit.w {
        canvas.set_width(fit.w);
    }
    if canvas.height() != fit.h {
        canvas.set_height(fit.h);
    }
    Some(fit)
}

/// The canvas's 2D context.
pub fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()?
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()
}

/// Whether the page shows its dark theme (`data-theme` on the root).
pub fn dark_theme() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"))
        .is_some_and(|t| t == "dark")
}

/// A CSS custom property of the page's root, or `fallback`.
fn css_var(name: &str, fallback: &str) -> String {
    web_sys::window()
        .and_then(|w| {
            let root = w.document()?.document_element()?;
            w.get_computed_style(&root).ok().flatten()
        })
        .and_then(|s| s.get_property_value(name).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

/// The colours of the canvas view in one theme: style.css's, read from its
/// custom properties where it has them, the rest as style.css sets them.
#[derive(Clone, Debug, PartialEq)]
struct Ink {
    dark: bool,
    band: String,
    band_stroke: &'static str,
    ink: String,
    muted: String,
    node_fill: &'static str,
    node_stroke: &'static str,
    pods_fill: &'static str,
    pods_stroke: &'static str,
    chip_detail: &'static str,
    lease_text: &'static str,
    lease_track: &'static str,
}

impl Ink {
    fn read(dark: bool) -> Ink {
        let band = css_var("--band-workers", if dark { "#13231c" } else { "#eef6f1" });
        let ink = css_var("--ink", if dark { "#e3e8f0" } else { "#1c2433" });
        let muted = css_var("--muted", if dark { "#9aa6ba" } else { "#5b667a" });
        if dark {
            Ink {
                dark,
                band,
                band_stroke: "#2a3a52",
                ink,
                muted,
                node_fill: "#1b2230",
                node_stroke: "#3b4658",
                pods_fill: "#151b25",
                pods_stroke: "#3b4658",
                chip_detail: "#4a5468",
                lease_text: "#4fd1a5",
                lease_track: "#2d3646",
            }
        } else {
            Ink {
                dark,
                band,
                band_stroke: "#c6dfd0",
                ink,
                muted,
                node_fill: "#fff",
                node_stroke: "#b9c3d3",
                pods_fill: "#fafbfc",
                pods_stroke: "#c9d0da",
                chip_detail: "#5b667a",
                lease_text: "#2c7a5b",
                lease_track: "#e3e6ec",
            }
        }
    }
}

/// (fill, stroke, text) of a pod tile, as style.css colours `.pod.<state>`.
fn pod_colors(state: PodState) -> (&'static str, &'static str, &'static str) {
    match state {
        PodState::Running => ("#d5f0e6", "#009e73", "#0b5c44"),
        PodState::Unready => ("#e4f1fa", "#56b4e9", "#1f5f85"),
        PodState::Pending => ("#fff6dc", "#e69f00", "#7a5200"),
        PodState::Succeeded => ("#eceef2", "#8a94a6", "#3b4150"),
        PodState::Failed => ("#fde3d3", "#d55e00", "#a33f00"),
        PodState::Terminating => ("#f3e8f1", "#cc79a7", "#7d3f6a"),
    }
}

/// (fill, stroke, text) of a node badge, as style.css colours `.node-badge`.
fn badge_colors(class: &str) -> (&'static str, &'static str, &'static str) {
    match class {
        "partitioned" => ("#fde3d3", "#d55e00", "#a33f00"),
        "off" => ("#e3e6ec", "#8a94a6", "#3b4150"),
        _ => ("#fff1cc", "#e69f00", "#7a5200"),
    }
}

fn dash(ctx: &CanvasRenderingContext2d, segments: &[f64]) {
    let a = js_sys::Array::new();
    for s in segments {
        a.push(&JsValue::from_f64(*s));
    }
    let _ = ctx.set_line_dash(&a);
}

fn round_rect(ctx: &CanvasRenderingContext2d, r: Rect, radius: f64) {
    ctx.begin_path();
    let _ = ctx.round_rect_with_f64(r.x, r.y, r.w, r.h, radius);
}

/// Fills and strokes a rounded rectangle.
fn boxed(ctx: &CanvasRenderingContext2d, r: Rect, radius: f64, fill: &str, stroke: &str, lw: f64) {
    round_rect(ctx, r, radius);
    ctx.set_fill_style_str(fill);
    ctx.fill();
    if lw > 0.0 {
        ctx.set_stroke_style_str(stroke);
        ctx.set_line_width(lw);
        ctx.stroke();
    }
}

fn text(
    ctx: &CanvasRenderingContext2d,
    font: &str,
    color: &str,
    align: &str,
    s: &str,
    x: f64,
    y: f64,
) {
    ctx.set_font(font);
    ctx.set_fill_style_str(color);
    ctx.set_text_align(align);
    let _ = ctx.fill_text(s, x, y);
}

/// Paints the worker band: its box and title.
fn paint_band(ctx: &CanvasRenderingContext2d, r: Rect, title: &str, ink: &Ink) {
    boxed(ctx, r, 14.0, &ink.band, ink.band_stroke, 1.0);
    // The title as `.band-title` sets it: bold, upper case, spaced out.
    let _ = js_sys::Reflect::set(ctx, &"letterSpacing".into(), &"1px".into());
    text(
        ctx,
        &format!("700 13px {SANS}"),
        &ink.muted,
        "left",
        &title.to_uppercase(),
        r.x + 16.0,
        r.y + 22.0,
    );
    let _ = js_sys::Reflect::set(ctx, &"letterSpacing".into(), &"0px".into());
}

/// Paints one worker node as the SVG view draws it: its box, name and
/// facts, badges, component chips, pod tiles and lease meter.
fn paint_node(ctx: &CanvasRenderingContext2d, n: &PlacedNode, ink: &Ink) {
    let r = n.rect;
    let v = &n.view;
    let (fill, stroke, lw) = if v.powered_off {
        ("#eceef2", "#8a94a6", 1.2)
    } else if v.partitioned {
        (ink.node_fill, "#d55e00", 2.0)
    } else {
        (ink.node_fill, ink.node_stroke, 1.2)
    };
    boxed(ctx, r, 10.0, fill, stroke, lw);
    let name_ink = if v.powered_off {
        "#1c2433"
    } else {
        ink.ink.as_str()
    };
    text(
        ctx,
        &format!("700 14px {SANS}"),
        name_ink,
        "left",
        &v.name,
        r.x + 12.0,
        r.y + 20.0,
    );
    let facts_ink = if v.powered_off {
        "#5b667a"
    } else {
        ink.muted.as_str()
    };
    let facts = node_facts(v);
    ctx.set_font(&format!("10.5px {SANS}"));
    ctx.set_fill_style_str(facts_ink);
    ctx.set_text_align("left");
    let _ = match crate::layout::facts_squeeze(&facts, r) {
        Some(w) => ctx.fill_text_with_max_width(&facts, r.x + 12.0, r.y + 36.0, w),
        None => ctx.fill_text(&facts, r.x + 12.0, r.y + 36.0),
    };
    let mut bx = r.right() - 10.0;
    for (class, label, _) in node_badges(v) {
        let w = label.chars().count() as f64 * 6.4 + 14.0;
        bx -= w;
        let (f, s, t) = badge_colors(class);
        let b = Rect {
            x: bx,
            y: r.y + 8.0,
            w,
            h: 18.0,
        };
        boxed(ctx, b, 9.0, f, s, 1.0);
        text(
            ctx,
            &format!("700 10.5px {SANS}"),
            t,
            "center",
            label,
            b.cx(),
            r.y + 21.0,
        );
        bx -= 6.0;
    }
    // A machine that is off: its chips and pods greyed, as style.css does.
    if v.powered_off {
        ctx.set_global_alpha(0.45);
        ctx.set_filter("grayscale(1)");
    }
    for c in &n.components {
        paint_chip(ctx, c, ink);
    }
    if let Some(area) = n.pods_area {
        paint_pods(ctx, area, &v.pods, ink);
    }
    if v.powered_off {
        ctx.set_global_alpha(1.0);
        ctx.set_filter("none");
    }
    paint_lease(ctx, n, ink, false);
}

/// The lease meter's bar, in the diagram's units.
const LEASE_BAR: f64 = 60.0;

/// What the lease meter of a node at `r` covers: its label's 10 px line
/// and its bar, inside the node's border.
fn lease_box(r: Rect) -> Rect {
    let x = r.right() - LEASE_BAR - 86.0;
    let y = r.bottom() - 9.0;
    Rect {
        x: x - 2.0,
        y: y - 11.0,
        w: LEASE_BAR + 84.0,
        h: 14.0,
    }
}

/// The node's lease meter (its label and bar over the node's footer);
/// with `clear`, over the node's fill first (painted again alone).
fn paint_lease(ctx: &CanvasRenderingContext2d, n: &PlacedNode, ink: &Ink, clear: bool) {
    let r = n.rect;
    let Some(lease) = &n.view.lease else {
        return;
    };
    let (state, label, fraction, _) = lease_look(lease, n.now);
    let (color, bar_color) = match state {
        "expired" => ("#a33f00", "#d55e00"),
        "late" => ("#a36a00", "#e69f00"),
        _ => (ink.lease_text, "#009e73"),
    };
    let bar = LEASE_BAR;
    let x = r.right() - bar - 86.0;
    let y = r.bottom() - 9.0;
    if clear {
        let b = lease_box(r);
        ctx.set_fill_style_str(ink.node_fill);
        ctx.fill_rect(b.x, b.y, b.w, b.h);
    }
    text(
        ctx,
        &format!("600 10px {SANS}"),
        color,
        "left",
        &label,
        x,
        y,
    );
    let track = Rect {
        x: x + 80.0,
        y: y - 6.0,
        w: bar,
        h: 5.0,
    };
    boxed(ctx, track, 2.5, ink.lease_track, "", 0.0);
    if fraction > 0.0 {
        boxed(
            ctx,
            Rect {
                w: bar * fraction,
                ..track
            },
            2.5,
            bar_color,
            "",
            0.0,
        );
    }
}

/// A component chip, as `diagram.rs` draws it in SVG.
fn paint_chip(ctx: &CanvasRenderingContext2d, c: &crate::layout::PlacedComponent, ink: &Ink) {
    let r = c.rect;
    let look = chip_look(c, None);
    let lw = if look.leader {
        3.2
    } else if look.down {
        2.2
    } else {
        1.5
    };
    if !c.view.simulated {
        dash(ctx, &[5.0, 3.0]);
    }
    boxed(ctx, r, 7.0, look.fill, look.stroke, lw);
    dash(ctx, &[]);
    let badge = Rect {
        x: r.x + 6.0,
        y: r.cy() - 10.0,
        w: 30.0,
        h: 20.0,
    };
    boxed(ctx, badge, 4.0, look.badge, "", 0.0);
    text(
        ctx,
        &format!("800 10px {MONO}"),
        "#fff",
        "center",
        look.glyph,
        r.x + 21.0,
        r.cy() + 3.8,
    );
    let label_ink = if look.crashed { "#e6e9ef" } else { "#1c2433" };
    let font = format!("600 13px {SANS}");
    ctx.set_font(&font);
    ctx.set_fill_style_str(label_ink);
    ctx.set_text_align("left");
    let _ = match look.label_squeeze {
        Some(w) => ctx.fill_text_with_max_width(look.label, r.x + 44.0, look.top, w),
        None => ctx.fill_text(look.label, r.x + 44.0, look.top),
    };
    if look.crashed {
        let w = ctx
            .measure_text(look.label)
            .map_or(0.0, |m| m.width())
            .min(look.label_squeeze.unwrap_or(f64::INFINITY));
        ctx.set_fill_style_str(label_ink);
        ctx.fill_rect(r.x + 44.0, look.top - 4.5, w, 1.2);
    }
    for (i, (class, line, squeeze)) in look.lines.iter().enumerate() {
        let y = look.top + 13.5 * (i as f64 + 1.0);
        let (font, color) = match *class {
            "chip-state" => (
                format!("700 11.5px {SANS}"),
                if look.crashed {
                    "#ffb38a"
                } else if look.down {
                    "#a4281b"
                } else if look.leader {
                    "#00704f"
                } else if look.degraded {
                    "#8a5200"
                } else {
                    "#1c2433"
                },
            ),
            _ => (
                format!("11px {SANS}"),
                if look.crashed {
                    "#b7bfcc"
                } else {
                    ink.chip_detail
                },
            ),
        };
        ctx.set_font(&font);
        ctx.set_fill_style_str(color);
        ctx.set_text_align("left");
        let _ = match squeeze {
            Some(w) => ctx.fill_text_with_max_width(line, r.x + 44.0, y, *w),
            None => ctx.fill_text(line, r.x + 44.0, y),
        };
    }
}

/// A node's pods area: a tile per pod, coloured and marked by state.
fn paint_pods(
    ctx: &CanvasRenderingContext2d,
    area: Rect,
    pods: &[Rc<kubesim::PodView>],
    ink: &Ink,
) {
    dash(ctx, &[4.0, 3.0]);
    boxed(ctx, area, 6.0, ink.pods_fill, ink.pods_stroke, 1.0);
    dash(ctx, &[]);
    if pods.is_empty() {
        text(
            ctx,
            &format!("italic 11px {SANS}"),
            "#8a94a6",
            "center",
            "no pods",
            area.cx(),
            area.cy() + 4.0,
        );
        return;
    }
    let grid = PodGrid::new(area, pods.len());
    let font = format!("9.5px {MONO}");
    for (i, pod) in pods.iter().take(grid.shown).enumerate() {
        let t = grid.slot(i);
        let state = PodState::of(pod);
        let (fill, stroke, color) = pod_colors(state);
        if state == PodState::Terminating {
            dash(ctx, &[3.0, 2.0]);
        }
        boxed(ctx, t, 4.0, fill, stroke, 1.0);
        dash(ctx, &[]);
        text(
            ctx,
            &font,
            color,
            "left",
            &pod_label(pod, state),
            t.x + 4.0,
            t.y + 11.5,
        );
    }
    if let Some(more) = grid.more() {
        let t = grid.slot(grid.shown);
        let color = if ink.dark { "#9aa6ba" } else { "#5a6478" };
        text(
            ctx,
            &format!("10px {SANS}"),
            color,
            "left",
            &format!("+{more} more"),
            t.x + 4.0,
            t.y + 11.5,
        );
    }
}

/// The height of one tile of the canvas view, in the diagram's units
/// (about three rows of nodes).
///
/// Chromium without a GPU copies a 2D canvas's whole bitmap into the
/// compositor on *every* frame that commits anything, drawn on or not: a
/// hundred workers' band as one canvas (926 x 5,337 backing pixels, 20 MB)
/// cost 3-4 ms of every frame. So the band is painted on a detached canvas
/// and shown through tiles whose control is transferred to an
/// `OffscreenCanvas`: such a tile is sent to the compositor only when
/// something is drawn on it, and a snapshot's redraw (a run of
/// neighbouring nodes: `Layout::stagger_nodes`) touches one or two tiles.
pub const TILE_UNITS: f64 = 640.0;

/// How many tiles show a `height`-tall diagram, and tile `i`'s top and
/// height in the diagram's units.
pub fn tiles(height: f64) -> impl Iterator<Item = (f64, f64)> {
    let n = if height.is_finite() && height > 0.0 {
        (height / TILE_UNITS).ceil() as usize
    } else {
        0
    };
    (0..n).map(move |i| {
        let top = i as f64 * TILE_UNITS;
        (top, TILE_UNITS.min(height - top))
    })
}

/// The backing rows `[from, to)` of a tile `top..top + h` (the diagram's
/// units) at scale `k`, within a canvas `rows` tall: neighbouring tiles
/// share their edge, so together they cover every row once.
pub fn tile_rows(top: f64, h: f64, k: f64, rows: u32) -> (u32, u32) {
    let at = |y: f64| ((y * k).round().max(0.0) as u32).min(rows);
    (at(top), at(top + h))
}

/// A tile as set up: the element it shows in, the context that paints
/// it, and its backing size.
struct Tile {
    el: HtmlCanvasElement,
    /// The `OffscreenCanvas` the tile's control was transferred to (none
    /// in a browser without one: the tile is then painted as it is).
    offscreen: Option<web_sys::OffscreenCanvas>,
    ctx: CanvasRenderingContext2d,
    size: (u32, u32),
}

impl Tile {
    fn new(el: HtmlCanvasElement) -> Option<Tile> {
        match el.transfer_control_to_offscreen() {
            Ok(off) => {
                // An OffscreenCanvasRenderingContext2D has every method and
                // property of a CanvasRenderingContext2D the painting uses
                // (the same mixins in the HTML standard, less the focus
                // ring's), and wasm-bindgen calls them by name: the
                // painting code is shared as it is.
                let ctx = off
                    .get_context("2d")
                    .ok()
                    .flatten()?
                    .unchecked_into::<CanvasRenderingContext2d>();
                Some(Tile {
                    el,
                    offscreen: Some(off),
                    ctx,
                    size: (0, 0),
                })
            }
            Err(_) => {
                let ctx = context(&el)?;
                Some(Tile {
                    el,
                    offscreen: None,
                    ctx,
                    size: (0, 0),
                })
            }
        }
    }

    /// Sizes the backing store (which clears it); true when it changed.
    fn resize(&mut self, w: u32, h: u32) -> bool {
        if self.size == (w, h) {
            return false;
        }
        match &self.offscreen {
            Some(off) => {
                off.set_width(w);
                off.set_height(h);
            }
            None => {
                self.el.set_width(w);
                self.el.set_height(h);
            }
        }
        self.size = (w, h);
        true
    }
}

/// What of a node has to be painted again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// All of it (and the band around it).
    Whole,
    /// Only the chips that changed and the lease meter: while time runs,
    /// the kubelet's chip (the lease's age) and the meter change on every
    /// snapshot, the rest rarely.
    Parts,
}

/// How `new` differs from `before` as the canvas draws them.
fn change(new: &PlacedNode, before: &PlacedNode) -> Change {
    if new.view.powered_off
        || !new.same_box(before)
        || new.components.len() != before.components.len()
    {
        Change::Whole
    } else {
        Change::Parts
    }
}

#[derive(Properties)]
pub struct NodeCanvasProps {
    pub layout: Rc<Layout>,
    /// The page's theme (a change repaints the band in its colours).
    pub theme: AttrValue,
}

impl PartialEq for NodeCanvasProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.layout, &other.layout) && self.theme == other.theme
    }
}

/// A ResizeObserver's callback.
type OnResize = wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array)>;

/// The worker nodes of a large cluster, painted on the canvas tiles under
/// the SVG (see [`TILE_UNITS`]).
pub struct NodeCanvas {
    /// The element holding the tiles.
    holder: NodeRef,
    tiles: Vec<Option<Tile>>,
    /// The nodes as last painted (compared by allocation).
    painted: Vec<Rc<PlacedNode>>,
    fit: Option<Fit>,
    ink: Option<Ink>,
    band: Option<Rect>,
    /// What the canvas says it shows (`data-nodes`), when last written.
    told: Option<usize>,
    /// The holder's CSS width, as its ResizeObserver last reported it
    /// (read from the element only once: reading it after Yew's changes
    /// would lay the page out in the middle of a frame).
    width: Rc<std::cell::Cell<Option<f64>>>,
    observer: Option<(web_sys::ResizeObserver, OnResize)>,
}

impl Component for NodeCanvas {
    type Message = ();
    type Properties = NodeCanvasProps;

    fn create(_ctx: &Context<Self>) -> Self {
        NodeCanvas {
            holder: NodeRef::default(),
            tiles: Vec::new(),
            painted: Vec::new(),
            fit: None,
            ink: None,
            band: None,
            told: None,
            width: Rc::new(std::cell::Cell::new(None)),
            observer: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, _: ()) -> bool {
        self.paint(ctx);
        false
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let layout = &ctx.props().layout;
        let n = layout.canvas_nodes().count();
        let height = layout.height;
        let pct = |v: f64| {
            if height > 0.0 {
                v / height * 100.0
            } else {
                0.0
            }
        };
        html! {
            <div class="node-canvas" ref={self.holder.clone()} role="img"
                aria-label={format!("{n} worker nodes, drawn on a canvas: each is a button in the diagram (Tab), and Enter opens it in the inspector")}>
                { for tiles(height).map(|(top, h)| html! {
                    <canvas class="node-tile" style={format!("top:{:.4}%;height:{:.4}%", pct(top), pct(h))} />
                }) }
            </div>
        }
    }

    fn rendered(&mut self, ctx: &Context<Self>, first: bool) {
        if first {
            self.observe(ctx);
        }
        self.paint(ctx);
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        if let Some((observer, _)) = self.observer.take() {
            observer.disconnect();
        }
    }
}

impl NodeCanvas {
    /// Watches the holder's width (a window resize, the inspector opening
    /// beside the diagram): a new width repaints at the new backing size.
    fn observe(&mut self, ctx: &Context<Self>) {
        let Some(holder) = self.holder.cast::<web_sys::Element>() else {
            return;
        };
        let width = self.width.clone();
        let link = ctx.link().clone();
        let on_resize = wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array)>::new(
            move |entries: js_sys::Array| {
                let w = entries
                    .get(0)
                    .dyn_into::<web_sys::ResizeObserverEntry>()
                    .ok()
                    .map(|e| e.content_rect().width());
                if let Some(w) = w.filter(|w| w.is_finite()) {
                    if width.get() != Some(w) {
                        width.set(Some(w));
                        link.send_message(());
                    }
                }
            },
        );
        if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
            observer.observe(&holder);
            self.observer = Some((observer, on_resize));
        }
    }

    /// Paints what changed since the last paint: every node after a
    /// resize, a theme change or a new topology, else only the nodes whose
    /// layout is a new allocation (and of those, only the parts that
    /// changed), each on the tiles it falls on.
    fn paint(&mut self, ctx: &Context<Self>) {
        let layout = &ctx.props().layout;
        let Some(holder) = self.holder.cast::<web_sys::HtmlElement>() else {
            return;
        };
        let css_w = match self.width.get() {
            Some(w) => w,
            None => {
                let w = f64::from(holder.client_width());
                self.width.set(Some(w));
                w
            }
        };
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let Some(fit) = fit_for(css_w, dpr, layout.width, layout.height) else {
            return;
        };
        // The theme's colours are read from the computed style (a style
        // flush) only when the theme changed since the last paint.
        let dark = dark_theme();
        let ink = match &self.ink {
            Some(ink) if ink.dark == dark => ink.clone(),
            _ => Ink::read(dark),
        };
        let band = layout.canvas_band();
        let nodes: Vec<&Rc<PlacedNode>> = layout.canvas_nodes().collect();
        let full = self.fit != Some(fit)
            || self.ink.as_ref() != Some(&ink)
            || self.band != band.map(|b| b.rect)
            || self.painted.len() != nodes.len()
            || nodes
                .iter()
                .zip(&self.painted)
                .any(|(a, b)| a.rect != b.rect || a.view.name != b.view.name);
        // The nodes to paint again, with what of them.
        let changed: Vec<(&PlacedNode, &PlacedNode, Change)> = if full {
            Vec::new()
        } else {
            nodes
                .iter()
                .zip(&self.painted)
                .filter(|(n, before)| !Rc::ptr_eq(n, before))
                .map(|(n, before)| (&***n, &**before, change(n, before)))
                .collect()
        };
        let k = fit.scale;
        let elements = holder.children();
        let shown: Vec<(f64, f64)> = tiles(layout.height).collect();
        self.tiles.resize_with(shown.len(), || None);
        for (i, &(top, h)) in shown.iter().enumerate() {
            let Some(el) = elements
                .item(i as u32)
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok())
            else {
                continue;
            };
            // A tile element Yew made anew is set up anew.
            if self.tiles[i].as_ref().is_none_or(|t| t.el != el) {
                self.tiles[i] = Tile::new(el);
            }
            let Some(tile) = self.tiles[i].as_mut() else {
                continue;
            };
            let (from, to) = tile_rows(top, h, k, fit.h);
            let resized = tile.resize(fit.w, (to - from).max(1));
            let c2d = &tile.ctx;
            // The diagram's units, shifted up to the tile's first row.
            let _ = c2d.set_transform(k, 0.0, 0.0, k, 0.0, -f64::from(from));
            c2d.set_global_alpha(1.0);
            c2d.set_filter("none");
            // Nodes reaching into the tile (their band margin included).
            let meets = |r: &Rect| r.y - 4.0 < top + h && r.bottom() + 4.0 > top;
            if full || resized {
                c2d.clear_rect(0.0, top - 1.0, layout.width, h + 2.0);
                if let Some(b) = band {
                    paint_band(c2d, b.rect, b.title, &ink);
                }
                for n in nodes.iter().filter(|n| meets(&n.rect)) {
                    paint_node(c2d, n, &ink);
                }
                continue;
            }
            for &(n, before, what) in changed.iter().filter(|(n, _, _)| meets(&n.rect)) {
                match what {
                    Change::Whole => {
                        // The band behind the node, then the node.
                        let r = n.rect;
                        c2d.set_fill_style_str(&ink.band);
                        c2d.fill_rect(r.x - 3.0, r.y - 3.0, r.w + 6.0, r.h + 6.0);
                        paint_node(c2d, n, &ink);
                    }
                    Change::Parts => {
                        for (c, was) in n.components.iter().zip(&before.components) {
                            if c != was {
                                let r = c.rect;
                                c2d.set_fill_style_str(ink.node_fill);
                                c2d.fill_rect(r.x - 1.5, r.y - 1.5, r.w + 3.0, r.h + 3.0);
                                paint_chip(c2d, c, &ink);
                            }
                        }
                        if n.view.lease != before.view.lease || n.now != before.now {
                            paint_lease(c2d, n, &ink, true);
                        }
                    }
                }
            }
        }
        self.painted = nodes.into_iter().cloned().collect();
        self.fit = Some(fit);
        self.ink = Some(ink);
        self.band = band.map(|b| b.rect);
        if self.told != Some(self.painted.len()) {
            let _ = holder.set_attribute("data-nodes", &self.painted.len().to_string());
            self.told = Some(self.painted.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canvas_is_backed_at_the_screens_pixel_ratio() {
        let fit = fit_for(600.0, 2.0, 1200.0, 800.0).unwrap_or(Fit {
            w: 0,
            h: 0,
            scale: 0.0,
        });
        assert_eq!((fit.w, fit.h), (1200, 800));
        assert!((fit.scale - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_very_tall_diagram_is_backed_by_at_most_the_pixel_cap() {
        let fit = fit_for(1800.0, 3.0, 1200.0, 9000.0).unwrap_or(Fit {
            w: 0,
            h: 0,
            scale: 0.0,
        });
        assert!(f64::from(fit.w) * f64::from(fit.h) <= MAX_PIXELS * 1.01);
        // The aspect ratio is kept.
        let ratio = f64::from(fit.h) / f64::from(fit.w);
        assert!((ratio - 7.5).abs() < 0.01, "{ratio}");
    }

    #[test]
    fn the_tiles_stack_down_the_diagram_and_cover_each_backing_row_once() {
        let shown: Vec<(f64, f64)> = tiles(1500.0).collect();
        assert_eq!(shown, [(0.0, 640.0), (640.0, 640.0), (1280.0, 220.0)]);
        assert_eq!(tiles(0.0).count(), 0);
        assert_eq!(tiles(f64::NAN).count(), 0);
        assert_eq!(tiles(640.0).count(), 1);
        // At an odd scale the tiles' rows meet edge to edge.
        for height in [1500.0, 5337.3, 640.0, 641.0] {
            for k in [0.37_f64, 1.0, 1.333, 2.0] {
                let rows = (height * k).round() as u32;
                let mut next = 0;
                for (top, h) in tiles(height) {
                    let (from, to) = tile_rows(top, h, k, rows);
                    assert_eq!(from, next, "{height} {k}");
                    assert!(to >= from);
                    next = to;
                }
                assert_eq!(next, rows, "{height} {k}");
            }
        }
    }

    #[test]
    fn a_lease_meter_painted_again_alone_clears_only_its_own_footer() {
        use kubesim::{Cluster, Topology};
        let topology = Topology::builder().workers(97).build().unwrap();
        let l = crate::layout::layout(&Cluster::new(topology, 1).snapshot());
        let mut seen = 0;
        for n in l.canvas_nodes() {
            let b = lease_box(n.rect);
            let inside = |o: &Rect| {
                o.x < b.right() && b.x < o.right() && o.y < b.bottom() && b.y < o.bottom()
            };
            // Within the node's border (1.2 wide) ...
            assert!(
                b.x > n.rect.x + 1.0 && b.right() < n.rect.right() - 1.0,
                "{:?}",
                n.rect
            );
            assert!(
                b.y > n.rect.y + 1.0 && b.bottom() < n.rect.bottom() - 1.0,
                "{:?}",
                n.rect
            );
            // ... and clear of its chips and its pods.
            for c in &n.components {
                assert!(!inside(&c.rect), "{} {:?}", c.view.id, c.rect);
            }
            if let Some(area) = n.pods_area {
                assert!(!inside(&area), "{:?} {:?}", area, b);
            }
            seen += 1;
        }
        assert_eq!(seen, 97);
    }

    #[test]
    fn a_canvas_without_a_size_is_not_drawn() {
        assert_eq!(fit_for(0.0, 1.0, 1200.0, 800.0), None);
        assert_eq!(fit_for(600.0, 1.0, 0.0, 800.0), None);
        assert_eq!(fit_for(f64::NAN, 1.0, 1200.0, 800.0), None);
        // A nonsensical pixel ratio counts as 1.
        assert_eq!(
            fit_for(600.0, f64::NAN, 1200.0, 800.0).map(|f| f.w),
            Some(600)
        );
    }
}
