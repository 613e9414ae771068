//! The page: holds the cluster, drives its clock on animation frames, and
//! lays out the diagram (with its message pulses), the time controls, the
//! console, the message log and the legend.

use crate::components::console::{Console, Entry};
use crate::components::controls::Controls;
use crate::components::diagram::Diagram;
use crate::components::eventlog::{EventLog, Row, LOG_ROWS};
use crate::components::filter::MessageFilter;
use crate::components::inspector::Inspector;
use crate::components::legend::Legend;
use crate::components::timeline::{Mark, Timeline};
use crate::embed::{self, Inbound, Outbound};
use crate::layout::{layout, Layout};
use crate::messages::{KindFilter, Pulses};
use crate::persist::{self, Origin, Params};
use crate::shell::Shell;
use gloo::render::{request_animation_frame, AnimationFrame};
use kubesim::inspect::{inspect, Inspection, Target};
use kubesim::runlog::RunLog;
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
/// While the clock runs, the run is saved to local storage at most this often.
const SAVE_EVERY_MS: f64 = 2000.0;

pub enum Msg {
    Play,
    Pause,
    SetSpeed(f64),
    Frame(f64),
    ToggleDiagramKind(usize),
    ToggleLogKind(usize),
    Run(String),
    /// Scrub to a virtual time (replaying the run from its seed if it is
    /// in the past).
    Seek(u64),
    /// Run up to the next event.
    Step,
    Share,
    Reset,
    Inspect(Target),
    CloseInspector,
    ToggleTheme,
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
    /// The run so far: seed, topology, commands; what reload and share replay.
    log: RunLog,
    marks: Rc<Vec<Mark>>,
    saved_at: f64,
    share: Option<Result<String, String>>,
    params: Params,
    /// A one-line notice about how the page opened (restored, shared, bad link).
    notice: Option<String>,
    /// The host page's postMessage listener, when embedded with `host=`.
    _host_listener: Option<embed::Listener>,
    told_time_at: f64,
    /// What the inspector shows, refreshed with the snapshots.
    inspected: Option<(Target, Rc<Inspection>)>,
    inspected_at: f64,
    /// Made once, so the diagram's props stay equal between frames.
    on_inspect: Callback<Target>,
    /// `light` or `dark`.
    theme: String,
}

fn wall_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

fn marks_of(log: &RunLog) -> Rc<Vec<Mark>> {
    Rc::new(
        log.entries
            .iter()
            .map(|e| Mark {
                at: e.at,
                label: e.script.lines().next().unwrap_or("").to_string(),
            })
            .collect(),
    )
}

fn trim_transcript(transcript: &mut Vec<Entry>) {
    let excess = transcript.len().saturating_sub(TRANSCRIPT_CAP);
    transcript.drain(..excess);
}

impl App {
    /// The embedding page's origin, when the postMessage API is on.
    fn host(&self) -> Option<String> {
        self.params.host.clone().filter(|_| self.params.embed)
    }

    /// Puts a replayed run in place of the current one.
    fn install(&mut self, log: &RunLog, until: Option<SimTime>) {
        let replayed = log.replay(until);
        self.cluster = replayed.cluster;
        self.shell = Shell::from_session(replayed.session);
        let mut transcript: Vec<Entry> = replayed
            .outcomes
            .into_iter()
            .flat_map(|(_, out)| Shell::entries(out))
            .collect();
        trim_transcript(&mut transcript);
        self.transcript = Rc::new(transcript);
        self.after_jump();
    }

    /// Redraws everything after the clock jumped (a replay, a step).
    fn after_jump(&mut self) {
        self.snapshot = Rc::new(self.cluster.snapshot());
        let new = layout(&self.snapshot);
        self.pulses.set_layout(&new);
        self.pulses.skip_to(self.cluster.trace().total());
        self.layout = Rc::new(new);
        self.log_total = u64::MAX;
        self.refresh_log(wall_now());
        self.refresh_inspector(wall_now(), true);
    }

    /// Rebuilds the inspector's view (at most every 250 ms unless `force`).
    fn refresh_inspector(&mut self, wall: f64, force: bool) {
        if !force && wall - self.inspected_at < 250.0 {
            return;
        }
        self.inspected_at = wall;
        if let Some((target, _)) = &self.inspected {
            let target = target.clone();
            self.inspected = inspect(&self.cluster, &target).map(|i| (target, Rc::new(i)));
        }
    }

    /// Saves the run, at most every [`SAVE_EVERY_MS`] unless `now`.
    fn save(&mut self, wall: f64, force: bool) {
        self.log.reached(self.cluster.now());
        if force || wall - self.saved_at >= SAVE_EVERY_MS {
            self.saved_at = wall;
            persist::save(&self.log);
        }
    }

    /// Moves the clock to `t`: back by replaying the run from its seed,
    /// forward by running the recorded commands due on the way (after a
    /// scrub back) and then the clock.
    fn seek(&mut self, t: u64) {
        let now = self.cluster.now().as_millis();
        if t < now {
            let log = self.log.clone();
            self.install(&log, Some(SimTime::from_millis(t)));
            return;
        }
        let due: Vec<_> = self
            .log
            .entries
            .iter()
            .filter(|e| e.at > now && e.at <= t)
            .cloned()
            .collect();
        let mut transcript = (*self.transcript).clone();
        for e in due {
            self.cluster.advance_to(SimTime::from_millis(e.at));
            transcript.extend(self.shell.run(&mut self.cluster, &e.script));
        }
        trim_transcript(&mut transcript);
        self.transcript = Rc::new(transcript);
        self.cluster.advance_to(SimTime::from_millis(t));
        self.after_jump();
    }

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

    fn create(ctx: &Context<Self>) -> Self {
        let params = persist::params();
        let (saved, origin) = persist::initial_run();
        let seed = params.seed.unwrap_or(DEFAULT_SEED);
        let topology = Topology::default();
        let cluster = Cluster::new(topology.clone(), seed);
        let snapshot = cluster.snapshot();
        let layout = layout(&snapshot);
        let mut pulses = Pulses::new();
        pulses.set_layout(&layout);
        let notice = match &origin {
            Origin::Fresh => None,
            Origin::Restored => {
                Some("Your last run was replayed from its seed and commands.".to_string())
            }
            Origin::Shared => Some(
                "This is a shared run, replayed exactly from its seed and commands.".to_string(),
            ),
            Origin::BadLink(why) => Some(format!("{why}. A new cluster was started instead.")),
        };
        let mut app = App {
            log: RunLog::new(&topology, seed),
            marks: Rc::new(Vec::new()),
            saved_at: f64::MIN,
            share: None,
            notice,
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
            params: Params::default(),
            _host_listener: None,
            told_time_at: f64::MIN,
            inspected: None,
            inspected_at: f64::MIN,
            on_inspect: ctx.link().callback(Msg::Inspect),
            theme: persist::initial_theme(params.theme.as_deref()),
        };
        persist::apply_theme(&app.theme, false);
        if let Some(speed) = params.speed {
            app.speed = speed;
        }
        if let Some(log) = saved {
            app.install(&log, None);
            app.marks = marks_of(&log);
            app.log = log;
        }
        if params.autoplay {
            ctx.link().send_message(Msg::Play);
        }
        if let Some(host) = params.host.clone().filter(|_| params.embed) {
            let link = ctx.link().clone();
            app._host_listener = embed::listen(host.clone(), move |m| {
                link.send_message(match m {
                    Inbound::Run { command } => Msg::Run(command),
                    Inbound::Play => Msg::Play,
                    Inbound::Pause => Msg::Pause,
                    Inbound::Speed { speed } => Msg::SetSpeed(speed),
                })
            });
            embed::send(&host, &Outbound::Ready { seed: app.log.seed });
        }
        app.params = params;
        app
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
                self.save(wall_now(), true);
                true
            }
            Msg::SetSpeed(speed) => {
                if !(speed.is_finite() && speed > 0.0) {
                    return false;
                }
                self.speed = speed.min(1000.0);
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
                if self.log.now > before.as_millis() {
                    // A command typed after a scrub back starts a new
                    // future: the old one is dropped, as in an editor's undo.
                    self.log = self.log.truncated(before);
                }
                self.log.record(before, &text);
                self.marks = marks_of(&self.log);
                self.share = None;
                let outcomes = self.shell.run(&mut self.cluster, &text);
                let after = self.cluster.now();
                if let Some(host) = self.host() {
                    for o in &outcomes {
                        embed::send(
                            &host,
                            &Outbound::Output {
                                input: o.input.clone(),
                                output: o.output.clone(),
                                ok: o.ok,
                            },
                        );
                    }
                }
                let mut transcript = (*self.transcript).clone();
                transcript.extend(outcomes);
                trim_transcript(&mut transcript);
                self.transcript = Rc::new(transcript);
                self.save(wall_now(), true);
                // Replay what the command caused hop by hop, slowly enough
                // to follow a request from kubectl to etcd and back.
                let v_span = after.as_millis().saturating_sub(before.as_millis()) as f64;
                let span = (v_span * CONSOLE_STRETCH).min(CONSOLE_REPLAY_MS);
                let wall = wall_now();
                self.spawn_pulses(before, after, wall, span);
                self.refresh();
                self.refresh_log(wall);
                self.refresh_inspector(wall, true);
                if self.pulses.busy() {
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::Seek(t) => {
                self.seek(t);
                self.save(wall_now(), true);
                true
            }
            Msg::Step => {
                if let Some(t) = self.cluster.next_event() {
                    let before = self.cluster.now();
                    self.cluster.advance_to(t.max(before));
                    let wall = wall_now();
                    self.spawn_pulses(before, self.cluster.now(), wall, 600.0);
                    self.refresh();
                    self.refresh_log(wall);
                    self.save(wall, true);
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::Share => {
                self.save(wall_now(), true);
                self.share = Some(persist::share_url(&persist::page_url(), &self.log));
                true
            }
            Msg::Reset => {
                persist::clear();
                let seed = self.log.seed;
                let topology = self.log.topology();
                self.log = RunLog::new(&topology, seed);
                self.marks = Rc::new(Vec::new());
                self.share = None;
                self.notice = None;
                self.playing = false;
                self.cluster = Cluster::new(topology, seed);
                self.shell = Shell::new();
                self.transcript = Rc::new(Vec::new());
                self.after_jump();
                true
            }
            Msg::Inspect(target) => {
                self.inspected = inspect(&self.cluster, &target).map(|i| (target, Rc::new(i)));
                self.inspected_at = wall_now();
                true
            }
            Msg::CloseInspector => {
                self.inspected = None;
                true
            }
            Msg::ToggleTheme => {
                self.theme = if self.theme == "dark" {
                    "light"
                } else {
                    "dark"
                }
                .to_string();
                persist::apply_theme(&self.theme, true);
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
                        self.save(ts, false);
                        self.refresh_inspector(ts, false);
                        if ts - self.told_time_at >= 1000.0 {
                            self.told_time_at = ts;
                            if let Some(host) = self.host() {
                                let now = self.cluster.now();
                                embed::send(
                                    &host,
                                    &Outbound::Time {
                                        now: now.to_string(),
                                        ms: now.as_millis(),
                                    },
                                );
                            }
                        }
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
        let p = &self.params;
        let side = p.shows("console") || p.shows("log");
        let notice = self.notice.as_ref().map(|n| {
            html! { <div class="notice" role="status">{n.clone()}</div> }
        });
        html! {
            <div class={classes!("app", p.embed.then_some("embed"))}>
                <header class="topbar">
                    <div class="brand">
                        <span class="logo" aria-hidden="true">{"☸"}</span>
                        <div>
                            <h1>{"kubesim"}</h1>
                            if !p.embed {
                                <p class="tagline">{"Kubernetes' architecture, simulated in your browser"}</p>
                            }
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
                    <button class="theme-toggle" onclick={link.callback(|_| Msg::ToggleTheme)}
                        aria-label={if self.theme == "dark" { "Switch to the light theme" } else { "Switch to the dark theme" }}
                        title={if self.theme == "dark" { "Light theme" } else { "Dark theme" }}>
                        { if self.theme == "dark" { "☀" } else { "☾" } }
                    </button>
                </header>
                {for notice}
                <main class={classes!("content", (!side).then_some("no-side"))}>
                    <div class="main-column">
                        <section class="diagram-panel" aria-label="Architecture diagram">
                            <MessageFilter id="diagram-filter" label="Messages shown"
                                filter={self.diagram_filter}
                                on_toggle={link.callback(Msg::ToggleDiagramKind)} />
                            <Diagram layout={self.layout.clone()} pulse_layer={self.pulse_layer.clone()}
                                on_inspect={self.on_inspect.clone()} />
                        </section>
                        if p.shows("timeline") || !p.embed {
                            <Timeline now={self.cluster.now().as_millis()}
                                end={self.log.now}
                                marks={self.marks.clone()}
                                share={self.share.clone()}
                                on_seek={link.callback(Msg::Seek)}
                                on_step={link.callback(|_| Msg::Step)}
                                on_share={link.callback(|_| Msg::Share)}
                                on_reset={link.callback(|_| Msg::Reset)} />
                        }
                        if p.shows("legend") || !p.embed {
                            <Legend />
                        }
                    </div>
                    if let Some((_, ins)) = &self.inspected {
                        <Inspector inspection={ins.clone()} on_close={link.callback(|_| Msg::CloseInspector)} />
                    }
                    if side {
                        <aside class="side-panel" aria-label="Console and message log">
                            if p.shows("console") {
                                <Console transcript={self.transcript.clone()}
                                    on_run={link.callback(Msg::Run)}
                                    available={self.shell.available()} />
                            }
                            if p.shows("log") {
                                <EventLog rows={self.log_rows.clone()} filter={self.log_filter}
                                    total={self.log_total.min(self.cluster.trace().total())}
                                    on_toggle={link.callback(Msg::ToggleLogKind)} />
                            }
                        </aside>
                    }
                </main>
            </div>
        }
    }
}
