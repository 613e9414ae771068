//! The frame budget: how much of a 60 fps frame the simulation may have.
//!
//! A frame's main-thread work is the page's (the simulation's advance, a
//! snapshot, Yew's render) and then the browser's own (style, layout and
//! paint of what the render changed: with thousands of SVG elements, a
//! share that has to be measured, not guessed). A message posted at the end
//! of the frame's update is handled once Yew has rendered (in the same
//! task, a microtask later) and the browser has drawn the frame, so the time
//! from the end of the advance until it arrives is all the frame's other
//! work. (Yew's `rendered` callbacks are no mark of that: Yew may run them
//! after yielding to the browser.)
//!
//! Each frame is of one [`Kind`] (at most one heavy step per frame: a
//! snapshot, a redraw of the diagram, a rebuild of the message log), and
//! the page remembers what each kind costs besides the advance. The
//! simulation is given what remains of the frame's target after that.

use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// A display frame at 60 Hz.
pub const VSYNC_MS: f64 = 1000.0 / 60.0;
/// The main thread's share of a 16.7 ms frame the page aims at: the rest
/// is slack for timer jitter and other tabs' work.
pub const TARGET_MS: f64 = 13.0;
/// The simulation always gets at least this much of a running frame, so
/// the clock never stalls behind a slow render.
pub const ADVANCE_MIN_MS: f64 = 2.0;
/// ... and at most this much.
pub const ADVANCE_MAX_MS: f64 = 11.0;
/// How fast the estimates follow a change in the measured costs.
const SMOOTHING: f64 = 0.25;

/// What a frame does besides advancing the clock and moving the pulses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only the clock, the controls and the pulses.
    Plain = 0,
    /// A snapshot of the cluster and the diagram's layout (not yet drawn).
    Snapshot = 1,
    /// The diagram redrawn from the layout the last snapshot made.
    Diagram = 2,
    /// The message log rebuilt and redrawn.
    Log = 3,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Snapshot => "snapshot",
            Kind::Diagram => "diagram",
            Kind::Log => "log",
        }
    }
}

/// The costs of each kind of frame, learnt from the frames drawn.
pub struct Budget {
    /// Per kind: the main-thread time a frame spends besides the advance
    /// (ms), smoothed; `None` until measured once.
    rest: [Option<f64>; 4],
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

impl Budget {
    pub fn new() -> Budget {
        Budget { rest: [None; 4] }
    }

    /// The advance's share of a frame of `kind` when `spent` ms of it
    /// have gone already (since the frame began).
    pub fn advance_ms(&self, kind: Kind, spent: f64) -> f64 {
        // Until a kind is measured, assume the costliest one known: a
        // first redraw must not find its frame full.
        let rest = self.rest[kind as usize]
            .or_else(|| self.rest.iter().flatten().copied().reduce(f64::max))
            .unwrap_or(TARGET_MS / 2.0);
        // A frame that cannot fit one display frame (a slow machine, a
        // large redraw) takes two or more: the simulation may have what
        // those leave, rather than only its minimum.
        let vsyncs = ((spent + rest + ADVANCE_MIN_MS) / VSYNC_MS).ceil().max(1.0);
        let target = TARGET_MS + (vsyncs - 1.0) * VSYNC_MS;
        (target - spent - rest).clamp(ADVANCE_MIN_MS, ADVANCE_MAX_MS)
    }

    /// Learns from a frame of `kind` that spent `rest` ms besides its
    /// advance. A frame dearer than the estimate counts in full at once
    /// (the next ones of its kind should fit), a cheaper one only slowly.
    pub fn learn(&mut self, kind: Kind, rest: f64) {
        if !rest.is_finite() || rest < 0.0 {
            return;
        }
        let slot = &mut self.rest[kind as usize];
        *slot = Some(match *slot {
            None => rest,
            Some(old) if rest > old => old + (rest - old) * 0.5,
            Some(old) => old + (rest - old) * SMOOTHING,
        });
    }
}

/// Measures a frame's work after a given instant: see the module docs.
pub struct Probe {
    port: JsValue,
    post: js_sys::Function,
    /// The time from the instant posted to the message's handling (ms).
    done: Rc<Cell<Option<f64>>>,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

impl Probe {
    /// A probe on a new `MessageChannel` (`None` where there is none).
    pub fn new() -> Option<Probe> {
        let global = js_sys::global();
        let ctor: js_sys::Function = js_sys::Reflect::get(&global, &"MessageChannel".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let channel = js_sys::Reflect::construct(&ctor, &js_sys::Array::new()).ok()?;
        let receiver = js_sys::Reflect::get(&channel, &"port1".into()).ok()?;
        let port = js_sys::Reflect::get(&channel, &"port2".into()).ok()?;
        let post: js_sys::Function = js_sys::Reflect::get(&port, &"postMessage".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let done = Rc::new(Cell::new(None));
        let sink = done.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let posted = js_sys::Reflect::get(&e, &"data".into())
                .ok()
                .and_then(|d| d.as_f64());
            if let Some(posted) = posted {
                sink.set(Some((now() - posted).max(0.0)));
            }
        });
        js_sys::Reflect::set(&receiver, &"onmessage".into(), on_message.as_ref()).ok()?;
        Some(Probe {
            port,
            post,
            done,
            _on_message: on_message,
        })
    }

    /// Posts a message at the end of a frame's update, carrying the wall
    /// time `at` to measure from.
    pub fn post(&self, at: f64) {
        self.done.set(None);
        let _ = self.post.call1(&self.port, &JsValue::from_f64(at));
    }

    /// The time from the instant posted to the handling of the message
    /// (the browser having drawn the frame), if it was handled.
    pub fn take(&self) -> Option<f64> {
        self.done.take()
    }
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmeasured_kind_is_budgeted_as_the_costliest_one_measured() {
        let mut b = Budget::new();
        assert_eq!(b.advance_ms(Kind::Plain, 0.0), TARGET_MS / 2.0);
        b.learn(Kind::Plain, 2.0);
        b.learn(Kind::Diagram, 8.0);
        assert_eq!(b.advance_ms(Kind::Plain, 0.0), TARGET_MS - 2.0);
        assert_eq!(b.advance_ms(Kind::Snapshot, 0.0), TARGET_MS - 8.0);
    }

    #[test]
    fn the_advance_gets_what_the_frame_has_left_within_its_bounds() {
        let mut b = Budget::new();
        b.learn(Kind::Plain, 3.0);
        assert_eq!(b.advance_ms(Kind::Plain, 2.0), TARGET_MS - 5.0);
        assert_eq!(b.advance_ms(Kind::Plain, 9.5), ADVANCE_MIN_MS);
        b.learn(Kind::Log, 0.0);
        assert_eq!(b.advance_ms(Kind::Log, 0.0), ADVANCE_MAX_MS);
    }

    #[test]
    fn a_frame_that_takes_two_display_frames_anyway_gives_the_simulation_their_slack() {
        let mut b = Budget::new();
        b.learn(Kind::Diagram, 20.0);
        // 20 ms of other work: two display frames (33.3 ms) at best.
        let two = TARGET_MS + VSYNC_MS - 20.0;
        assert!((b.advance_ms(Kind::Diagram, 0.0) - two).abs() < 1e-9);
        b.learn(Kind::Snapshot, 16.0);
        // 16 ms and the minimum do not fit in one: two, up to the maximum.
        assert_eq!(b.advance_ms(Kind::Snapshot, 0.0), ADVANCE_MAX_MS);
        b.learn(Kind::Plain, 12.5);
        // 12.5 ms and the minimum fit in one, past the target: the minimum.
        assert_eq!(b.advance_ms(Kind::Plain, 0.0), ADVANCE_MIN_MS);
    }

    #[test]
    fn a_dearer_frame_raises_the_estimate_faster_than_a_cheaper_one_lowers_it() {
        let mut b = Budget::new();
        b.learn(Kind::Diagram, 4.0);
        b.learn(Kind::Diagram, 12.0);
        let up = TARGET_MS - b.advance_ms(Kind::Diagram, 0.0) - 4.0;
        b.learn(Kind::Diagram, 4.0);
        let raised = 8.0;
        let down = raised - (TARGET_MS - b.advance_ms(Kind::Diagram, 0.0));
        assert!(up > down, "raised by {up}, lowered by {down}");
        b.learn(Kind::Diagram, f64::NAN);
        b.learn(Kind::Diagram, -1.0);
        assert_eq!(
            TARGET_MS - b.advance_ms(Kind::Diagram, 0.0),
            raised - down,
            "nonsense measures are ignored"
        );
    }
}
