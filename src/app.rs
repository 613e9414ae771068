//! The page: holds the cluster, drives its clock on animation frames, and
//! lays out the diagram (with its message pulses), the time controls, the
//! console, the message log and the legend.

use crate::components::console::{Console, Entry};
use crate::components::controls::Controls;
use crate::components::diagram::Diagram;
use crate::components::eventlog::{EventLog, Row, LOG_ROWS};
use crate::components::filter::MessageFilter;
use crate::components::legend::Legend;
use crate::layout::{layout, Layout};
use crate::messages::{KindFilter, Pulses};
use crate::shell::Shell;
use gloo::render::{request_animation_frame, AnimationFrame};
use kubesim::{Cluster, SimDuration, SimTime, Snapshot, Topology};
use std::rc::Rc;
use yew::prelude::*;

/// The seed of a fresh page (sharing a run by URL arrives with the page work).
const DEFAULT_SEED: u64 = 1;
/// A frame gap longer than this (a hidden tab, a slow frame) is not replayed
/// in one jump: when frames are slow the clock runs slower than asked rather
/// than making the next frame slower still.
const MAX_FRAME_GAP_MS: f64 = 100.0;
/// The message log is redrawn at most this often while the clock runs.
const LOG_REFRESH_MS: f64 = 300.0;
/// Messages caused by a console command are replayed hop by hop: one virtual
/// millisecond becomes this many wall milliseconds...
const CONSOLE_STRETCH: f64 = 160.0;
/// ...unless the command ran the world longer: then it all fits in this.
const CONSOLE_REPLAY_MS: f64 = 2500.0;
/// The console keeps this many commands.
const TRANSCRIPT_CAP: usize = 200;

pub enum Msg {
    Play,
    Pause,
    SetSpeed(f64),
    Frame(f64),
    ToggleDiagramKind(usize),
    ToggleLogKind(usize),
    Run(String),
}

pub struct App {
    cluster: Cluster,
    shell: Shell,
    snapshot: Rc<Snapshot>,
    layout: Rc<Layout>,
    playing: bool,
    speed: f64,
    last_frame: Option<f64>,
    /// Virtual milliseconds owed but not yet advanced (below one ms).
    carry_ms: f64,
    frame: Option<AnimationFrame>,
    pulses: Pulses,
    pulse_layer: NodeRef,
    diagram_filter: KindFilter,
    log_filter: KindFilter,
    log_rows: Rc<Vec<Row>>,
    log_total: u64,
    log_drawn_at: f64,
    transcript: Rc<Vec<Entry>>,
}

fn wall_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

impl App {
    fn request_frame(&mut self, ctx: &Context<Self>) {
        let link = ctx.link().clone();
        self.frame = Some(request_animation_frame(move |ts| {
            link.send_message(Msg::Frame(ts))
        }));
    }

    /// Keeps the frame loop alive while the clock runs or dots still move.
    fn ensure_frames(&mut self, ctx: &Context<Self>) {
        if self.frame.is_none() {
            self.last_frame = None;
            self.request_frame(ctx);
        }
    }

    /// Takes a new snapshot; lays the diagram out again only if something
    /// drawn changed (structure or a component's state), so the static SVG
    /// is not re-rendered on every frame.
    fn refresh(&mut self) {
        let snapshot = self.cluster.snapshot();
        if snapshot.nodes != self.snapshot.nodes
            || snapshot.cluster_components != self.snapshot.cluster_components
        {
            let new = layout(&snapshot);
            if new.routes != self.layout.routes {
                self.pulses.set_layout(&new);
            }
            self.layout = Rc::new(new);
        }
        self.snapshot = Rc::new(snapshot);
    }

    /// Rebuilds the message log from the trace.
    fn refresh_log(&mut self, wall: f64) {
        let trace = self.cluster.trace();
        let total = trace.total();
        self.log_drawn_at = wall;
        if total == self.log_total && !self.log_rows.is_empty() {
            return;
        }
        self.log_total = total;
        let filter = self.log_filter;
        let all: Vec<_> = trace.events().collect();
        let rows: Vec<Row> = all
            .into_iter()
            .rev()
            .enumerate()
            .filter(|(_, e)| filter.shows(&e.kind))
            .take(LOG_ROWS)
            .map(|(i, e)| Row::new(total - 1 - i as u64, e))
            .collect();
        self.log_rows = Rc::new(rows);
    }

    /// Queues pulses for the messages sent since the last call: those sent
    /// at virtual `from..=to` start over the wall interval `wall..wall+span`.
    fn spawn_pulses(&mut self, from: SimTime, to: SimTime, wall: f64, span: f64) {
        self.pulses
            .attach(self.pulse_layer.cast::<web_sys::Element>());
        let v0 = from.as_millis() as f64;
        let v_span = (to.as_millis() as f64 - v0).max(1.0);
        let trace = self.cluster.trace();
        self.pulses
            .spawn(trace.events(), trace.total(), &self.diagram_filter, |at| {
                wall + ((at.as_millis() as f64 - v0) / v_span).clamp(0.0, 1.0) * span
            });
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let cluster = Cluster::new(Topology::default(), DEFAULT_SEED);
        let snapshot = cluster.snapshot();
        let layout = layout(&snapshot);
        let mut pulses = Pulses::new();
        pulses.set_layout(&layout);
        App {
            layout: Rc::new(layout),
            snapshot: Rc::new(snapshot),
            cluster,
            shell: Shell::new(),
            playing: false,
            speed: 1.0,
            last_frame: None,
            carry_ms: 0.0,
            frame: None,
            pulses,
            pulse_layer: NodeRef::default(),
            diagram_filter: KindFilter::ALL,
            log_filter: KindFilter::without_chatter(),
            log_rows: Rc::new(Vec::new()),
            log_total: 0,
            log_drawn_at: f64::MIN,
            transcript: Rc::new(Vec::new()),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Play => {
                if !self.playing {
                    self.playing = true;
                    self.frame = None;
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::Pause => {
                self.playing = false;
                self.carry_ms = 0.0;
                true
            }
            Msg::SetSpeed(speed) => {
                self.speed = speed;
                true
            }
            Msg::ToggleDiagramKind(i) => {
                self.diagram_filter = self.diagram_filter.toggled(i);
                true
            }
            Msg::ToggleLogKind(i) => {
                self.log_filter = self.log_filter.toggled(i);
                self.log_total = u64::MAX;
                self.refresh_log(wall_now());
                true
            }
            Msg::Run(text) => {
                let before = self.cluster.now();
                let outcomes = self.shell.run(&mut self.cluster, &text);
                let after = self.cluster.now();
                let mut transcript = (*self.transcript).clone();
                transcript.extend(outcomes);
                let excess = transcript.len().saturating_sub(TRANSCRIPT_CAP);
                transcript.drain(..excess);
                self.transcript = Rc::new(transcript);
                // Replay what the command caused hop by hop, slowly enough
                // to follow a request from kubectl to etcd and back.
                let v_span = after.as_millis().saturating_sub(before.as_millis()) as f64;
                let span = (v_span * CONSOLE_STRETCH).min(CONSOLE_REPLAY_MS);
                let wall = wall_now();
                self.spawn_pulses(before, after, wall, span);
                self.refresh();
                self.refresh_log(wall);
                if self.pulses.busy() {
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::Frame(ts) => {
                self.frame = None;
                let dt = self
                    .last_frame
                    .map(|last| (ts - last).clamp(0.0, MAX_FRAME_GAP_MS))
                    .unwrap_or(0.0);
                self.last_frame = Some(ts);
                let mut advanced = false;
                if self.playing {
                    self.carry_ms += dt * self.speed;
                    let whole = self.carry_ms.floor();
                    self.carry_ms -= whole;
                    if whole >= 1.0 {
                        let before = self.cluster.now();
                        self.cluster.advance(SimDuration::from_millis(whole as u64));
                        self.spawn_pulses(before, self.cluster.now(), ts, dt.max(1.0));
                        self.refresh();
                        advanced = true;
                    }
                }
                self.pulses.draw(ts);
                if advanced && ts - self.log_drawn_at >= LOG_REFRESH_MS {
                    self.refresh_log(ts);
                }
                if self.playing || self.pulses.busy() {
                    self.request_frame(ctx);
                }
                advanced
            }
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        html! {
            <div class="app">
                <header class="topbar">
                    <div class="brand">
                        <span class="logo" aria-hidden="true">{"☸"}</span>
                        <div>
                            <h1>{"kubesim"}</h1>
                            <p class="tagline">{"Kubernetes' architecture, simulated in your browser"}</p>
                        </div>
                    </div>
                    <Controls
                        playing={self.playing}
                        speed={self.speed}
                        now={self.snapshot.now}
                        seed={self.snapshot.seed}
                        events={self.snapshot.events_delivered}
                        on_play={link.callback(|_| Msg::Play)}
                        on_pause={link.callback(|_| Msg::Pause)}
                        on_speed={link.callback(Msg::SetSpeed)}
                    />
                </header>
                <main class="content">
                    <div class="main-column">
                        <section class="diagram-panel" aria-label="Architecture diagram">
                            <MessageFilter id="diagram-filter" label="Messages shown"
                                filter={self.diagram_filter}
                                on_toggle={link.callback(Msg::ToggleDiagramKind)} />
                            <Diagram layout={self.layout.clone()} pulse_layer={self.pulse_layer.clone()} />
                        </section>
                        <Legend />
                    </div>
                    <aside class="side-panel" aria-label="Console and message log">
                        <Console transcript={self.transcript.clone()}
                            on_run={link.callback(Msg::Run)}
                            available={self.shell.available()} />
                        <EventLog rows={self.log_rows.clone()} filter={self.log_filter}
                            total={self.log_total.min(self.cluster.trace().total())}
                            on_toggle={link.callback(Msg::ToggleLogKind)} />
                    </aside>
                </main>
            </div>
        }
    }
}
