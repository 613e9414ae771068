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
//! Left out: the tour's highlight of a component (the teaching sizes it is
//! written for are SVG) and the chips' hover outline.

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
    fn read() -> Ink {
        let dark = dark_theme();
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
    text(
        ctx,
        &format!("10.5px {SANS}"),
        facts_ink,
        "left",
        &node_facts(v),
        r.x + 12.0,
        r.y + 36.0,
    );
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
    if let Some(lease) = &v.lease {
        let (state, label, fraction, _) = lease_look(lease, n.now);
        let (color, bar_color) = match state {
            "expired" => ("#a33f00", "#d55e00"),
            "late" => ("#a36a00", "#e69f00"),
            _ => (ink.lease_text, "#009e73"),
        };
        let bar = 60.0;
        let x = r.right() - bar - 86.0;
        let y = r.bottom() - 9.0;
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

/// Where a tile's pixels go: an `OffscreenCanvas` the tile's control was
/// transferred to, or (in a browser without one) the tile's own context.
enum Surface {
    Offscreen(
        web_sys::OffscreenCanvas,
        web_sys::OffscreenCanvasRenderingContext2d,
    ),
    Plain(CanvasRenderingContext2d),
}

/// A tile as set up: the element it shows in, where its pixels go, and
/// its backing size.
struct Tile {
    el: HtmlCanvasElement,
    surface: Surface,
    size: (u32, u32),
}

impl Tile {
    fn new(el: HtmlCanvasElement) -> Option<Tile> {
        let surface = match el.transfer_control_to_offscreen() {
            Ok(off) => {
                let c2d = off
                    .get_context("2d")
                    .ok()
                    .flatten()?
                    .dyn_into::<web_sys::OffscreenCanvasRenderingContext2d>()
                    .ok()?;
                Surface::Offscreen(off, c2d)
            }
            Err(_) => Surface::Plain(context(&el)?),
        };
        Some(Tile {
            el,
            surface,
            size: (0, 0),
        })
    }

    /// Sizes the backing store (which clears it); true when it changed.
    fn resize(&mut self, w: u32, h: u32) -> bool {
        if self.size == (w, h) {
            return false;
        }
        match &self.surface {
            Surface::Offscreen(off, _) => {
                off.set_width(w);
                off.set_height(h);
            }
            Surface::Plain(_) => {
                self.el.set_width(w);
                self.el.set_height(h);
            }
        }
        self.size = (w, h);
        true
    }

    /// Copies the source's rows `y..y + h` (columns `x..x + w`) into the
    /// tile, whose first row is the source's row `from`.
    fn copy(&self, source: &HtmlCanvasElement, x: f64, y: f64, w: f64, h: f64, from: f64) {
        match &self.surface {
            Surface::Offscreen(_, c2d) => {
                c2d.clear_rect(x, y - from, w, h);
                let _ = c2d
                    .draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                        source,
                        x,
                        y,
                        w,
                        h,
                        x,
                        y - from,
                        w,
                        h,
                    );
            }
            Surface::Plain(c2d) => {
                c2d.clear_rect(x, y - from, w, h);
                let _ = c2d
                    .draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
                        source,
                        x,
                        y,
                        w,
                        h,
                        x,
                        y - from,
                        w,
                        h,
                    );
            }
        }
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

/// The worker nodes of a large cluster, painted on a canvas under the SVG
/// (a detached one, shown through tiles: see [`TILE_UNITS`]).
pub struct NodeCanvas {
    /// The element holding the tiles.
    holder: NodeRef,
    /// Where the band is painted (not in the page).
    source: Option<HtmlCanvasElement>,
    tiles: Vec<Option<Tile>>,
    /// The nodes as last painted (compared by allocation).
    painted: Vec<Rc<PlacedNode>>,
    fit: Option<Fit>,
    ink: Option<Ink>,
    band: Option<Rect>,
    /// What the canvas says it shows (`data-nodes`), when last written.
    told: Option<usize>,
    _resize: Option<gloo::events::EventListener>,
}

impl Component for NodeCanvas {
    type Message = ();
    type Properties = NodeCanvasProps;

    fn create(ctx: &Context<Self>) -> Self {
        // A window resize changes the canvas's CSS width: repaint at the
        // new backing size.
        let link = ctx.link().clone();
        let resize = web_sys::window().map(|w| {
            gloo::events::EventListener::new(&w, "resize", move |_| link.send_message(()))
        });
        NodeCanvas {
            holder: NodeRef::default(),
            source: None,
            tiles: Vec::new(),
            painted: Vec::new(),
            fit: None,
            ink: None,
            band: None,
            told: None,
            _resize: resize,
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

    fn rendered(&mut self, ctx: &Context<Self>, _first: bool) {
        self.paint(ctx);
    }
}

impl NodeCanvas {
    /// Paints what changed since the last paint: every node after a
    /// resize, a theme change or a new topology, else only the nodes whose
    /// layout is a new allocation; then copies what was painted to the
    /// tiles it falls on.
    fn paint(&mut self, ctx: &Context<Self>) {
        let layout = &ctx.props().layout;
        let Some(holder) = self.holder.cast::<web_sys::HtmlElement>() else {
            return;
        };
        let document = web_sys::window().and_then(|w| w.document());
        if self.source.is_none() {
            self.source = document
                .and_then(|d| d.create_element("canvas").ok())
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok());
        }
        let Some(source) = self.source.clone() else {
            return;
        };
        let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let Some(fit) = fit_for(
            f64::from(holder.client_width()),
            dpr,
            layout.width,
            layout.height,
        ) else {
            return;
        };
        if source.width() != fit.w {
            source.set_width(fit.w);
        }
        if source.height() != fit.h {
            source.set_height(fit.h);
        }
        let Some(c2d) = context(&source) else {
            return;
        };
        let ink = Ink::read();
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
        let k = fit.scale;
        let _ = c2d.set_transform(k, 0.0, 0.0, k, 0.0, 0.0);
        c2d.set_global_alpha(1.0);
        c2d.set_filter("none");
        // What was painted, in the diagram's units.
        let mut dirty: Vec<Rect> = Vec::new();
        if full {
            c2d.clear_rect(0.0, 0.0, layout.width, layout.height);
            if let Some(b) = band {
                paint_band(&c2d, b.rect, b.title, &ink);
            }
            for n in &nodes {
                paint_node(&c2d, n, &ink);
            }
            dirty.push(Rect {
                x: 0.0,
                y: 0.0,
                w: layout.width,
                h: layout.height,
            });
        } else {
            for (n, before) in nodes.iter().zip(&self.painted) {
                if Rc::ptr_eq(n, before) {
                    continue;
                }
                // The band behind the node, then the node.
                let r = Rect {
                    x: n.rect.x - 3.0,
                    y: n.rect.y - 3.0,
                    w: n.rect.w + 6.0,
                    h: n.rect.h + 6.0,
                };
                c2d.set_fill_style_str(&ink.band);
                c2d.fill_rect(r.x, r.y, r.w, r.h);
                paint_node(&c2d, n, &ink);
                dirty.push(r);
            }
        }
        self.copy_to_tiles(&holder, &source, fit, layout.height, &dirty);
        self.painted = nodes.into_iter().cloned().collect();
        self.fit = Some(fit);
        self.ink = Some(ink);
        self.band = band.map(|b| b.rect);
        if self.told != Some(self.painted.len()) {
            let _ = holder.set_attribute("data-nodes", &self.painted.len().to_string());
            self.told = Some(self.painted.len());
        }
    }

    /// Copies the `dirty` parts of the source (the diagram's units) to
    /// the tiles they fall on; a tile new to this paint, or resized, gets
    /// all of its rows.
    fn copy_to_tiles(
        &mut self,
        holder: &web_sys::HtmlElement,
        source: &HtmlCanvasElement,
        fit: Fit,
        height: f64,
        dirty: &[Rect],
    ) {
        let k = fit.scale;
        let elements = holder.children();
        let shown: Vec<(f64, f64)> = tiles(height).collect();
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
            let whole = tile.resize(fit.w, (to - from).max(1));
            let (from, to) = (f64::from(from), f64::from(to));
            let rows = |r: &Rect| {
                // In backing pixels, rounded out (antialiased edges).
                let y0 = ((r.y * k).floor() - 1.0).max(from);
                let y1 = (((r.y + r.h) * k).ceil() + 1.0).min(to);
                let x0 = ((r.x * k).floor() - 1.0).max(0.0);
                let x1 = (((r.x + r.w) * k).ceil() + 1.0).min(f64::from(fit.w));
                (x0 < x1 && y0 < y1).then_some((x0, y0, x1 - x0, y1 - y0))
            };
            if whole {
                tile.copy(source, 0.0, from, f64::from(fit.w), to - from, from);
                continue;
            }
            for (x, y, w, h) in dirty.iter().filter_map(rows) {
                tile.copy(source, x, y, w, h, from);
            }
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
