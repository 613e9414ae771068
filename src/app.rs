//! The page: holds the cluster, drives its clock on animation frames, and
//! lays out the diagram (with its message pulses), the time controls, the
//! console, the message log and the legend.

use crate::components::console::{CompletionReply, Console, Entry};
use crate::components::controls::Controls;
use crate::components::diagram::Diagram;
use crate::components::editor::{EditSession, Editor, EditorResult};
use crate::components::eventlog::{EventLog, LogTab, Row, FAST_SPEED, LOG_ROWS, LOG_ROWS_FAST};
use crate::components::filter::MessageFilter;
use crate::components::guide::Guide;
use crate::components::inspector::Inspector;
use crate::components::legend::Legend;
use crate::components::timeline::{Mark, Timeline};
use crate::embed::{self, Inbound, Outbound};
use crate::frames::{Budget, Kind, Probe};
use crate::layout::{layout, Layout};
use crate::messages::{KindFilter, Pulses};
use crate::persist::{self, Origin, Params};
use crate::shell::Shell;
use crate::tour::{Status, Tour};
use gloo::render::{request_animation_frame, AnimationFrame};
use kubesim::eventlog::{event_log, EventLogView, EventQuery};
use kubesim::inspect::{inspect, Inspection, Target};
use kubesim::runlog::{Checkpoints, RunLog};
use kubesim::scenario::{Index, IndexEntry, Scenario, BOOT_LIMIT};
use kubesim::{Cluster, SimDuration, SimTime, Snapshot, SnapshotCache};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The seed of a fresh page (sharing a run by URL arrives with the page work).
const DEFAULT_SEED: u64 = 1;
/// A frame gap longer than this (a hidden tab, a slow frame) is not replayed
/// in one jump: when frames are slow the clock runs slower than asked rather
/// than making the next frame slower still.
const MAX_FRAME_GAP_MS: f64 = 100.0;
/// The message log is redrawn at most this often while the clock runs.
const LOG_REFRESH_MS: f64 = 300.0;
/// The Events tab is rebuilt at most this often while the clock runs (it
/// reads every Event the cluster holds).
const EVENTS_REFRESH_MS: f64 = 1000.0;
/// The Events tab shows at most this many rows.
const EVENT_ROWS: usize = 150;
/// Messages caused by a console command are replayed hop by hop: one virtual
/// millisecond becomes this many wall milliseconds...
const CONSOLE_STRETCH: f64 = 160.0;
/// ...unless the command ran the world longer: then it all fits in this.
const CONSOLE_REPLAY_MS: f64 = 2500.0;
/// The console keeps this many commands.
const TRANSCRIPT_CAP: usize = 200;
/// While the clock runs, the diagram's snapshot is taken at most this often
/// (ten redraws a wall second; the clock itself is drawn every frame).
const SNAPSHOT_EVERY_MS: f64 = 100.0;
/// While the clock runs, a snapshot redraws one node in this many (in
/// turns), so every node is redrawn every `REDRAW_TURNS` snapshots ...
const REDRAW_TURNS: usize = 4;
/// ... or, in a large cluster, about this many nodes per snapshot: every
/// node's kubelet chip changes each virtual second (its lease's age), and
/// a hundred workers' quarter made the diagram's frames twice as dear as
/// the others (`cargo xtask bench page`). A hundred nodes are then each
/// redrawn about once a wall second.
const REDRAW_NODES: usize = 12;
/// Virtual time owed is carried for at most this much wall time's worth:
/// a simulation slower than the speed asked runs the clock slower rather
/// than piling up a debt it could never pay.
const CARRY_MAX_WALL_MS: f64 = 250.0;
/// While the clock runs, the run is saved to local storage at most this often.
const SAVE_EVERY_MS: f64 = 2000.0;
/// A scrub checkpoint (a copy of the run) is kept every this much virtual
/// time, so a scrub back replays at most this much (plus the frames' gaps)
/// instead of the whole run from its seed.
const CHECKPOINT_EVERY: SimDuration = SimDuration::from_secs(30);
/// At most this many checkpoints are kept (each a copy of the cluster:
/// about 6 MB for the default cluster with a Deployment of 50 after ten
/// minutes, natively); older ones thin out evenly.
const CHECKPOINT_CAP: usize = 8;
/// At least this much wall time between two checkpoints: a copy costs
/// tens of milliseconds, which at high speed must stay a few percent of
/// the frames.
const CHECKPOINT_WALL_GAP_MS: f64 = 1000.0;
/// ... and at least this many times what the last copy cost: a large
/// cluster's copy takes a few frames (about 90 ms with 100 nodes and 3,000
/// pods), a stutter that must stay rare: at 150 times its cost, one every
/// 13 s or so and under 1 % of the wall time. A scrub back then replays at
/// most that long at the clock's speed.
const CHECKPOINT_COST_FACTOR: f64 = 150.0;

pub enum Msg {
    Play,
    Pause,
    SetSpeed(f64),
    Frame(f64),
    ToggleDiagramKind(usize),
    ToggleLogKind(usize),
    SetLogTab(LogTab),
    SetEventQuery(EventQuery),
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
    /// Ctrl+C in the console: interrupt `kubectl get -w`.
    Interrupt,
    /// A lesson's file arrived (its name, its text or why it did not).
    TourLoaded(String, Result<String, String>),
    TourNext,
    TourBack,
    TourRestart,
    TourSkip,
    TourSolve,
    TourHint,
    TourAuto(bool),
    /// Open or close the list of lessons.
    ToggleLessons,
    LessonsLoaded(Result<Vec<IndexEntry>, String>),
    /// Open or close the YAML editor.
    ToggleEditor,
    /// The editor's text, applied (`false`) or validated by a dry run.
    EditorSubmit(String, bool),
    /// Tab in the console: the text and the caret (a byte offset).
    Complete(String, usize),
}

pub struct App {
    cluster: Cluster,
    shell: Shell,
    snapshot: Rc<Snapshot>,
    /// The pod views of the last snapshot, reused for unchanged pods.
    snapshot_cache: SnapshotCache,
    layout: Rc<Layout>,
    playing: bool,
    speed: f64,
    last_frame: Option<f64>,
    /// Virtual milliseconds owed but not yet advanced (a fraction of one, or
    /// what the last frames had no time for).
    carry_ms: f64,
    frame: Option<AnimationFrame>,
    pulses: Pulses,
    pulse_layer: NodeRef,
    diagram_filter: KindFilter,
    log_filter: KindFilter,
    log_rows: Rc<Vec<Row>>,
    log_total: u64,
    /// How many rows the log was rebuilt with (fewer while the clock runs
    /// fast: see [`LOG_ROWS_FAST`]).
    log_limit: usize,
    log_drawn_at: f64,
    log_tab: LogTab,
    /// The Kubernetes Events tab's rows, as of `events_at`.
    events: Rc<EventLogView>,
    events_at: SimTime,
    event_query: EventQuery,
    events_drawn_at: f64,
    transcript: Rc<Vec<Entry>>,
    /// How many commands typed in the console have been answered since the
    /// page opened (the transcript keeps only the last ones).
    answered: u64,
    /// The run so far: seed, topology, commands; what reload and share replay.
    log: RunLog,
    /// Copies of this run at earlier moments, with the console's transcript
    /// then: a scrub back restores the nearest and replays from there.
    checkpoints: Checkpoints<Rc<Vec<Entry>>>,
    /// When the last checkpoint was taken (wall ms).
    checkpointed_at: f64,
    /// The wall time to leave before the next one (ms): see
    /// [`CHECKPOINT_COST_FACTOR`].
    checkpoint_gap: f64,
    /// How many of the log's entries ran in `cluster` (after a scrub back,
    /// the later ones have not, until a seek forward runs them).
    ran: usize,
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
    /// The other components' callbacks, made once for the same reason.
    callbacks: Callbacks,
    /// `light` or `dark`.
    theme: String,
    /// The lesson being played (`?scenario=<name>`).
    tour: Option<Rc<Tour>>,
    /// The diagram components the lesson's step lights up.
    highlight: Rc<Vec<String>>,
    /// The lessons menu: open or not, and the index once fetched.
    lessons_open: bool,
    lessons: Option<Result<Vec<IndexEntry>, String>>,
    /// With `?perf=1`: when the frame being rendered began its work.
    frame_work_from: Option<f64>,
    /// When the last snapshot was taken (wall ms).
    refreshed_at: f64,
    /// Whose turn it is to be redrawn (see [`REDRAW_TURNS`]).
    redraw_turn: usize,
    /// With `?perf=1`: when that frame's update ended (its render began).
    frame_updated_at: f64,
    /// A layout made by the last snapshot, drawn at the next frame (one
    /// heavy step per frame: see [`Kind`]).
    pending_layout: Option<Layout>,
    /// What each kind of frame costs besides the simulation's advance.
    budget: Budget,
    /// Measures a frame's work after its advance, the browser's drawing included.
    probe: Option<Probe>,
    /// The running frame being measured: its kind and when its advance
    /// ended (wall ms).
    measuring: Option<(Kind, f64)>,
    /// The kind of the last frame measured, waiting for the browser to
    /// have drawn it.
    measured: Option<Kind>,
    editor_open: bool,
    /// What the editor's last Apply or Validate printed, line by line.
    editor_result: Option<Rc<EditorResult>>,
    /// The object `kubectl edit` opened in the editor, if it did.
    edit: Option<Rc<EditSession>>,
    /// The console's last Tab, answered.
    completion: Option<Rc<CompletionReply>>,
}

/// The page's callbacks, made once: a callback made in `view` is a new one
/// every frame, so every component it is passed to would compare unequal
/// and be drawn again on every frame (the console with its whole
/// transcript, the controls, the timeline).
struct Callbacks {
    tour_next: Callback<()>,
    tour_back: Callback<()>,
    tour_restart: Callback<()>,
    tour_skip: Callback<()>,
    tour_solve: Callback<()>,
    tour_hint: Callback<()>,
    tour_auto: Callback<bool>,
    play: Callback<()>,
    pause: Callback<()>,
    speed: Callback<f64>,
    diagram_kind: Callback<usize>,
    seek: Callback<u64>,
    step: Callback<()>,
    share: Callback<()>,
    reset: Callback<()>,
    close_inspector: Callback<()>,
    editor_submit: Callback<(String, bool)>,
    toggle_editor: Callback<()>,
    run: Callback<String>,
    interrupt: Callback<()>,
    complete: Callback<(String, usize)>,
    log_kind: Callback<usize>,
    log_tab: Callback<LogTab>,
    event_query: Callback<EventQuery>,
}

impl Callbacks {
    fn new(link: &yew::html::Scope<App>) -> Callbacks {
        Callbacks {
            tour_next: link.callback(|_| Msg::TourNext),
            tour_back: link.callback(|_| Msg::TourBack),
            tour_restart: link.callback(|_| Msg::TourRestart),
            tour_skip: link.callback(|_| Msg::TourSkip),
            tour_solve: link.callback(|_| Msg::TourSolve),
            tour_hint: link.callback(|_| Msg::TourHint),
            tour_auto: link.callback(Msg::TourAuto),
            play: link.callback(|_| Msg::Play),
            pause: link.callback(|_| Msg::Pause),
            speed: link.callback(Msg::SetSpeed),
            diagram_kind: link.callback(Msg::ToggleDiagramKind),
            seek: link.callback(Msg::Seek),
            step: link.callback(|_| Msg::Step),
            share: link.callback(|_| Msg::Share),
            reset: link.callback(|_| Msg::Reset),
            close_inspector: link.callback(|_| Msg::CloseInspector),
            editor_submit: link
                .callback(|(text, dry): (String, bool)| Msg::EditorSubmit(text, dry)),
            toggle_editor: link.callback(|_| Msg::ToggleEditor),
            run: link.callback(Msg::Run),
            interrupt: link.callback(|_| Msg::Interrupt),
            complete: link.callback(|(text, caret): (String, usize)| Msg::Complete(text, caret)),
            log_kind: link.callback(Msg::ToggleLogKind),
            log_tab: link.callback(Msg::SetLogTab),
            event_query: link.callback(Msg::SetEventQuery),
        }
    }
}

/// Appends one frame's work, in milliseconds, to
/// `window.__kubesimFrameWork` (with `?perf=1`).
fn record_frame_work(ms: f64) {
    record_timing("__kubesimFrameWork", ms);
}

/// Appends a duration in milliseconds to the array `window[name]` (with
/// `?perf=1`: the frame's phases are `__kubesimPhase_<phase>`).
fn record_timing(name: &str, ms: f64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = wasm_bindgen::JsValue::from_str(name);
    let list = match js_sys::Reflect::get(&window, &key).map(|v| v.dyn_into::<js_sys::Array>()) {
        Ok(Ok(list)) => list,
        _ => {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&window, &key, &a);
            a
        }
    };
    list.push(&wasm_bindgen::JsValue::from_f64(ms));
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

    /// Puts a replayed run in place of the current one: replayed from the
    /// latest checkpoint at or before `until` (one of this run's, so
    /// `log` must be this run's log or a truncation of it), or from the
    /// seed.
    fn install(&mut self, log: &RunLog, until: Option<SimTime>) {
        let limit = until.unwrap_or(SimTime::from_millis(log.now));
        let checkpoint = self.checkpoints.nearest(limit);
        let started = wall_now();
        let replayed = log.replay_from(checkpoint, until);
        if self.params.perf {
            record_timing("__kubesimScrub", wall_now() - started);
        }
        let mut transcript: Vec<Entry> =
            checkpoint.map(|cp| (*cp.extra).clone()).unwrap_or_default();
        self.ran = checkpoint.map_or(0, |cp| cp.entries) + replayed.outcomes.len();
        self.cluster = replayed.cluster;
        self.shell = Shell::from_session(replayed.session);
        transcript.extend(
            replayed
                .outcomes
                .into_iter()
                .flat_map(|(_, out)| Shell::entries(out)),
        );
        trim_transcript(&mut transcript);
        self.transcript = Rc::new(transcript);
        self.after_jump();
    }

    /// Redraws everything after the clock jumped (a replay, a step).
    fn after_jump(&mut self) {
        self.pending_layout = None;
        self.snapshot = Rc::new(self.cluster.snapshot_reusing(&mut self.snapshot_cache));
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

    /// Keeps a copy of the run if one is due (see [`CHECKPOINT_EVERY`]).
    fn offer_checkpoint(&mut self, wall: f64) {
        if wall - self.checkpointed_at < self.checkpoint_gap
            || !self.checkpoints.is_due(self.cluster.now())
        {
            return;
        }
        // Only while the cluster is the recorded run: every command
        // recorded up to now ran in it (a frame stops the clock at the next
        // one and runs it, so this holds but for a moment).
        let now = self.cluster.now().as_millis();
        if self.log.entries.get(self.ran).is_some_and(|e| e.at <= now) {
            return;
        }
        let transcript = self.transcript.clone();
        let ran = self.ran;
        let started = wall_now();
        if self
            .checkpoints
            .offer(&self.cluster, self.shell.session(), ran, || transcript)
        {
            self.checkpointed_at = wall;
            let cost = wall_now() - started;
            self.checkpoint_gap = CHECKPOINT_WALL_GAP_MS.max(cost * CHECKPOINT_COST_FACTOR);
            if self.params.perf {
                record_timing("__kubesimCheckpoint", cost);
            }
        }
    }

    /// Moves the clock to `t`: back by replaying the run from the nearest
    /// checkpoint (or its seed), forward by running the recorded commands
    /// due on the way (after a scrub back) and then the clock.
    fn seek(&mut self, t: u64) {
        let now = self.cluster.now().as_millis();
        if t < now {
            let log = self.log.clone();
            self.install(&log, Some(SimTime::from_millis(t)));
            return;
        }
        let target = SimTime::from_millis(t);
        while let Some(at) = self.next_recorded(target) {
            self.cluster.advance_to(at.max(self.cluster.now()));
            self.run_recorded();
        }
        self.cluster.advance_to(target);
        self.after_jump();
    }

    /// When the next recorded command the cluster has not run yet is due,
    /// if that is at or before `t`. There is one only after a scrub back:
    /// the run's later commands, which moving forward replays at the
    /// virtual times they were typed at, as a replay from the seed does.
    fn next_recorded(&self, t: SimTime) -> Option<SimTime> {
        self.log
            .entries
            .get(self.ran)
            .map(|e| SimTime::from_millis(e.at))
            .filter(|at| *at <= t)
    }

    /// Runs the recorded commands due by now that the cluster has not run
    /// yet (see [`App::next_recorded`]), showing them in the console as
    /// when they were typed. Returns whether any ran.
    fn run_recorded(&mut self) -> bool {
        let now = self.cluster.now();
        let mut transcript: Option<Vec<Entry>> = None;
        while let Some(entry) = self
            .log
            .entries
            .get(self.ran)
            .filter(|e| e.at <= now.as_millis())
        {
            let script = entry.script.clone();
            self.ran += 1;
            let outcomes = self.shell.run(&mut self.cluster, &script);
            transcript
                .get_or_insert_with(|| (*self.transcript).clone())
                .extend(outcomes);
        }
        let Some(mut transcript) = transcript else {
            return false;
        };
        trim_transcript(&mut transcript);
        self.transcript = Rc::new(transcript);
        true
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
    /// With `stagger` (while the clock runs), only a turn of the nodes is
    /// drawn again, the others at the next snapshots (see
    /// [`Layout::stagger_nodes`]).
    fn refresh(&mut self, stagger: bool) {
        if let Some(new) = self.take_snapshot(stagger) {
            self.install_layout(new);
        }
    }

    /// Takes a new snapshot and returns the diagram's new layout if
    /// something drawn changed (to install now or, while the clock runs, at
    /// the next frame: see [`Kind`]).
    fn take_snapshot(&mut self, stagger: bool) -> Option<Layout> {
        // A layout still waiting is the one the new snapshot is compared with.
        if let Some(pending) = self.pending_layout.take() {
            self.install_layout(pending);
        }
        self.refreshed_at = wall_now();
        let snapshot = self.cluster.snapshot_reusing(&mut self.snapshot_cache);
        let new = (snapshot.nodes != self.snapshot.nodes
            || snapshot.cluster_components != self.snapshot.cluster_components)
            .then(|| {
                let mut new = layout(&snapshot);
                new.reuse_nodes(&self.layout);
                if stagger {
                    let turns = new.nodes.len().div_ceil(REDRAW_NODES).max(REDRAW_TURNS);
                    self.redraw_turn = (self.redraw_turn + 1) % turns;
                    new.stagger_nodes(&self.layout, self.redraw_turn, turns);
                }
                new
            });
        self.snapshot = Rc::new(snapshot);
        if self.tour.is_some() {
            self.refresh_highlight();
        }
        new
    }

    /// Puts a new layout on the diagram (its pulses follow new routes).
    fn install_layout(&mut self, new: Layout) {
        if new.routes != self.layout.routes {
            self.pulses.set_layout(&new);
        }
        self.layout = Rc::new(new);
    }

    /// Rebuilds the Events tab (while it is open) at most every
    /// [`EVENTS_REFRESH_MS`] unless `force`: it reads every Event the
    /// cluster holds.
    fn refresh_events(&mut self, wall: f64, force: bool) {
        if self.log_tab != LogTab::Events
            || (!force && wall - self.events_drawn_at < EVENTS_REFRESH_MS)
        {
            return;
        }
        self.events_drawn_at = wall;
        self.events_at = self.cluster.now();
        let view = event_log(&self.cluster, &self.event_query, EVENT_ROWS);
        if view != *self.events {
            self.events = Rc::new(view);
        }
    }

    /// Rebuilds the message log from the trace (and the Events tab).
    fn refresh_log(&mut self, wall: f64) {
        self.refresh_events(wall, self.log_total == u64::MAX);
        let trace = self.cluster.trace();
        let total = trace.total();
        self.log_drawn_at = wall;
        let limit = if self.playing && self.speed >= FAST_SPEED {
            LOG_ROWS_FAST
        } else {
            LOG_ROWS
        };
        if total == self.log_total && limit == self.log_limit && !self.log_rows.is_empty() {
            return;
        }
        self.log_total = total;
        self.log_limit = limit;
        let filter = self.log_filter;
        let rows: Vec<Row> = trace
            .events()
            .rev()
            .enumerate()
            .filter(|(_, e)| filter.shows(&e.kind))
            .take(limit)
            .map(|(i, e)| Row::new(total - 1 - i as u64, e))
            .collect();
        self.log_rows = Rc::new(rows);
    }

    /// Queues pulses for the messages sent since the last call: those sent
    /// at virtual `from..=to` start over the wall interval `wall..wall+span`.
    fn spawn_pulses(&mut self, from: SimTime, to: SimTime, wall: f64, span: f64) {
        self.pulses
            .attach(self.pulse_layer.cast::<web_sys::HtmlCanvasElement>());
        let v0 = from.as_millis() as f64;
        let v_span = (to.as_millis() as f64 - v0).max(1.0);
        let trace = self.cluster.trace();
        self.pulses
            .spawn(trace.events(), trace.total(), &self.diagram_filter, |at| {
                wall + ((at.as_millis() as f64 - v0) / v_span).clamp(0.0, 1.0) * span
            });
    }

    /// Runs a script as if typed in the console: recorded in the run log,
    /// shown in the console, its messages replayed hop by hop on the
    /// diagram. Returns what each command printed.
    fn run_command(&mut self, ctx: &Context<Self>, text: &str) -> Vec<Entry> {
        let before = self.cluster.now();
        if self.log.now > before.as_millis() || self.ran < self.log.entries.len() {
            // A command typed after a scrub back starts a new future: the
            // old one (the recorded commands not replayed yet) is dropped,
            // as in an editor's undo, and its checkpoints with it.
            self.log = self.log.truncated(before);
            self.log.entries.truncate(self.ran);
            self.checkpoints
                .forget_after(before, self.log.entries.len());
        }
        self.log.record(before, text);
        self.ran = self.log.entries.len();
        self.marks = marks_of(&self.log);
        self.share = None;
        let outcomes = self.shell.run(&mut self.cluster, text);
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
        self.answered += outcomes.len() as u64;
        let mut transcript = (*self.transcript).clone();
        transcript.extend(outcomes.iter().cloned());
        trim_transcript(&mut transcript);
        self.transcript = Rc::new(transcript);
        self.save(wall_now(), true);
        // A long `sim advance` is a stretch of run like the frames' ones.
        self.offer_checkpoint(wall_now());
        // Replay what the command caused hop by hop, slowly enough to follow
        // a request from kubectl to etcd and back.
        let v_span = after.as_millis().saturating_sub(before.as_millis()) as f64;
        let span = (v_span * CONSOLE_STRETCH).min(CONSOLE_REPLAY_MS);
        let wall = wall_now();
        self.spawn_pulses(before, after, wall, span);
        self.refresh(false);
        self.refresh_log(wall);
        self.refresh_inspector(wall, true);
        if self.pulses.busy() {
            self.ensure_frames(ctx);
        }
        outcomes
    }

    /// Checks the lesson step's condition against the cluster; returns
    /// whether the guide changed.
    fn poll_tour(&mut self, wall: f64) -> bool {
        let Some(tour) = self.tour.as_mut() else {
            return false;
        };
        if !matches!(tour.status, Status::Waiting | Status::Task) {
            return false;
        }
        let mut next = (**tour).clone();
        if next.poll(&self.cluster, wall) {
            *tour = Rc::new(next);
            true
        } else {
            false
        }
    }

    /// Recomputes which diagram components the lesson's step lights up (a
    /// leader may have changed).
    fn refresh_highlight(&mut self) {
        let ids: Vec<String> = match self.tour.as_ref().and_then(|t| t.step()) {
            Some(step) => {
                let mut ids: Vec<String> = step
                    .highlight
                    .iter()
                    .flat_map(|h| h.components(&self.snapshot))
                    .collect();
                ids.sort();
                ids.dedup();
                ids
            }
            None => Vec::new(),
        };
        if *self.highlight != ids {
            self.highlight = Rc::new(ids);
        }
    }

    /// Opens a lesson: its cluster booted from its topology and seed, then
    /// its first step.
    fn start_tour(&mut self, ctx: &Context<Self>, name: &str, text: &str) -> Result<(), String> {
        let scenario = Scenario::from_yaml(&format!("scenarios/{name}.yaml"), text)
            .map_err(|e| e.to_string())?;
        let topology = scenario.topology.build().map_err(|e| e.to_string())?;
        let mut cluster = Cluster::new(topology.clone(), scenario.seed);
        if !cluster.boot(BOOT_LIMIT) {
            return Err(format!(
                "its control plane did not become ready within {BOOT_LIMIT} of virtual time"
            ));
        }
        self.log = RunLog::new(&topology, scenario.seed);
        self.checkpoints.clear();
        self.ran = 0;
        self.log.booted = true;
        self.log.reached(cluster.now());
        self.cluster = cluster;
        self.shell = Shell::new();
        self.transcript = Rc::new(Vec::new());
        self.marks = Rc::new(Vec::new());
        self.share = None;
        self.after_jump();
        self.tour = Some(Rc::new(Tour::new(name, scenario)));
        self.begin_step(ctx, 0);
        Ok(())
    }

    /// Shows step `index` of the lesson and runs its commands.
    fn begin_step(&mut self, ctx: &Context<Self>, index: usize) {
        let now = self.cluster.now().as_millis();
        let entries = self.log.entries.len();
        let Some(tour) = self.tour.as_mut() else {
            return;
        };
        let mut t = (**tour).clone();
        let Some(commands) = t.begin(index, now, entries) else {
            return;
        };
        *tour = Rc::new(t);
        let outcomes = if commands.trim().is_empty() {
            Vec::new()
        } else {
            self.run_command(ctx, &commands)
        };
        let wall = wall_now();
        if let Some(tour) = self.tour.as_mut() {
            let mut t = (**tour).clone();
            t.ran(&outcomes, wall);
            t.poll(&self.cluster, wall);
            let waits = t.status == Status::Waiting;
            *tour = Rc::new(t);
            // A check waits on the cluster: the clock has to run for it.
            if waits && !self.playing {
                ctx.link().send_message(Msg::Play);
            }
        }
        self.refresh_highlight();
        self.ensure_frames(ctx);
    }

    /// Back and Restart: replays the run to where step `index` began (the
    /// same seed and commands give the same cluster), then plays the step
    /// again.
    fn rewind(&mut self, ctx: &Context<Self>, index: usize, at: u64, entries: usize) {
        let mut log = self.log.clone();
        log.entries.truncate(entries);
        log.now = at;
        self.checkpoints
            .forget_after(SimTime::from_millis(at), entries);
        self.install(&log, Some(SimTime::from_millis(at)));
        self.marks = marks_of(&log);
        self.log = log;
        self.share = None;
        self.begin_step(ctx, index);
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let params = persist::params();
        let (saved, origin) = persist::initial_run();
        let seed = params.seed.unwrap_or(DEFAULT_SEED);
        // `?workers=N` sizes a fresh cluster (a count the topology refuses,
        // over 5,000, opens the default one); `?konnectivity=1` routes the
        // API servers' calls to kubelets through Konnectivity.
        let topology = if params.workers.is_some() || params.konnectivity {
            let mut b = kubesim::TopologyBuilder::new().konnectivity(params.konnectivity);
            if let Some(n) = params.workers {
                b = b.workers(n);
            }
            b.build()
                .or_else(|_| {
                    kubesim::TopologyBuilder::new()
                        .konnectivity(params.konnectivity)
                        .build()
                })
                .unwrap_or_default()
        } else {
            kubesim::Topology::default()
        };
        let cluster = Cluster::new(topology.clone(), seed);
        crate::fetch::load_api_schema();
        let mut snapshot_cache = SnapshotCache::default();
        let snapshot = cluster.snapshot_reusing(&mut snapshot_cache);
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
            checkpoints: Checkpoints::new(CHECKPOINT_EVERY, CHECKPOINT_CAP),
            checkpointed_at: f64::MIN,
            checkpoint_gap: CHECKPOINT_WALL_GAP_MS,
            ran: 0,
            marks: Rc::new(Vec::new()),
            saved_at: f64::MIN,
            share: None,
            notice,
            layout: Rc::new(layout),
            snapshot: Rc::new(snapshot),
            snapshot_cache,
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
            log_limit: LOG_ROWS,
            log_tab: LogTab::default(),
            events: Rc::new(EventLogView::default()),
            events_at: SimTime::ZERO,
            event_query: EventQuery::default(),
            events_drawn_at: f64::MIN,
            log_drawn_at: f64::MIN,
            transcript: Rc::new(Vec::new()),
            answered: 0,
            params: Params::default(),
            _host_listener: None,
            told_time_at: f64::MIN,
            inspected: None,
            inspected_at: f64::MIN,
            on_inspect: ctx.link().callback(Msg::Inspect),
            callbacks: Callbacks::new(ctx.link()),
            theme: persist::initial_theme(params.theme.as_deref()),
            tour: None,
            highlight: Rc::new(Vec::new()),
            lessons_open: false,
            lessons: None,
            frame_work_from: None,
            refreshed_at: f64::MIN,
            redraw_turn: 0,
            frame_updated_at: 0.0,
            pending_layout: None,
            budget: Budget::new(),
            probe: Probe::new(),
            measuring: None,
            measured: None,
            editor_open: false,
            editor_result: None,
            edit: None,
            completion: None,
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
        if let Some(name) = params.scenario.clone() {
            app.notice = Some(format!("Loading the lesson {name}…"));
            let link = ctx.link().clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = crate::fetch::text(&format!("scenarios/{name}.yaml")).await;
                link.send_message(Msg::TourLoaded(name, text));
            });
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
                // The last frames may not have taken one (see
                // SNAPSHOT_EVERY_MS): the paused diagram shows the clock's time.
                self.refresh(false);
                // The log's rows, all of them again (see LOG_ROWS_FAST).
                self.refresh_log(wall_now());
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
            Msg::SetLogTab(tab) => {
                self.log_tab = tab;
                self.refresh_events(wall_now(), true);
                true
            }
            Msg::SetEventQuery(query) => {
                self.event_query = query;
                self.refresh_events(wall_now(), true);
                true
            }
            Msg::ToggleLogKind(i) => {
                self.log_filter = self.log_filter.toggled(i);
                self.log_total = u64::MAX;
                self.refresh_log(wall_now());
                true
            }
            Msg::Complete(text, caret) => {
                let completion = self.shell.complete(&self.cluster, &text, caret);
                let seq = self.completion.as_ref().map_or(0, |c| c.seq + 1);
                self.completion = Some(Rc::new(CompletionReply {
                    seq,
                    text,
                    caret,
                    completion,
                }));
                true
            }
            Msg::Run(text) => {
                let outcomes = self.run_command(ctx, &text);
                self.open_edit(&outcomes);
                if self.poll_tour(wall_now()) {
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::TourLoaded(name, text) => {
                self.notice = None;
                match text.and_then(|t| self.start_tour(ctx, &name, &t)) {
                    Ok(()) => {}
                    Err(e) => {
                        self.notice = Some(format!(
                            "The lesson {name:?} could not be opened: {e}. The free sandbox is open instead."
                        ))
                    }
                }
                true
            }
            Msg::Interrupt => {
                if self.shell.watching().is_some() {
                    self.run_command(ctx, "^C");
                }
                true
            }
            Msg::TourNext => {
                let next = self.tour.as_ref().map(|t| t.current + 1);
                if let Some(i) = next.filter(|i| self.tour.as_ref().is_some_and(|t| *i < t.total()))
                {
                    self.begin_step(ctx, i);
                }
                true
            }
            Msg::TourBack => {
                if let Some((index, at, entries)) = self.tour.as_ref().and_then(|t| t.back_target())
                {
                    self.rewind(ctx, index, at, entries);
                }
                true
            }
            Msg::TourRestart => {
                if let Some((at, entries)) = self.tour.as_ref().and_then(|t| t.restart_target()) {
                    self.rewind(ctx, 0, at, entries);
                }
                true
            }
            Msg::TourSkip => {
                if let Some(cmd) = self.tour.as_ref().and_then(|t| t.skip_command()) {
                    self.run_command(ctx, &cmd);
                    self.poll_tour(wall_now());
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::TourSolve => {
                if let Some(cmd) = self.tour.as_ref().and_then(|t| t.solution()) {
                    self.run_command(ctx, &cmd);
                    self.poll_tour(wall_now());
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::TourHint => {
                if let Some(t) = self.tour.as_mut() {
                    Rc::make_mut(t).hint = true;
                }
                true
            }
            Msg::TourAuto(on) => {
                if let Some(t) = self.tour.as_mut() {
                    Rc::make_mut(t).auto = on;
                }
                if on && !self.playing {
                    ctx.link().send_message(Msg::Play);
                }
                self.ensure_frames(ctx);
                true
            }
            Msg::ToggleLessons => {
                self.lessons_open = !self.lessons_open;
                if self.lessons_open && self.lessons.is_none() {
                    let link = ctx.link().clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let index =
                            crate::fetch::text("scenarios/index.yaml")
                                .await
                                .and_then(|t| {
                                    Index::from_yaml("scenarios/index.yaml", &t)
                                        .map(|i| i.scenarios)
                                        .map_err(|e| e.to_string())
                                });
                        link.send_message(Msg::LessonsLoaded(index));
                    });
                }
                true
            }
            Msg::ToggleEditor => {
                self.editor_open = !self.editor_open;
                // Closing abandons an edit, as quitting the editor does.
                self.edit = None;
                true
            }
            Msg::EditorSubmit(text, dry_run) => {
                let result = match self.edit.clone() {
                    Some(edit) => self.save_edit(ctx, &edit, &text, dry_run),
                    None => self.apply_manifest(ctx, &text, dry_run),
                };
                self.editor_result = Some(Rc::new(result));
                if self.poll_tour(wall_now()) {
                    self.ensure_frames(ctx);
                }
                true
            }
            Msg::LessonsLoaded(index) => {
                self.lessons = Some(index);
                true
            }
            Msg::Seek(t) => {
                self.seek(t);
                self.save(wall_now(), true);
                true
            }
            Msg::Step => {
                let before = self.cluster.now();
                let next = match (
                    self.cluster.next_event(),
                    self.next_recorded(SimTime(u64::MAX)),
                ) {
                    (Some(event), Some(command)) => Some(event.min(command)),
                    (event, command) => event.or(command),
                };
                if let Some(t) = next {
                    self.cluster.advance_to(t.max(before));
                    self.run_recorded();
                    let wall = wall_now();
                    self.spawn_pulses(before, self.cluster.now(), wall, 600.0);
                    self.refresh(false);
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
                self.checkpoints.clear();
                self.ran = 0;
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
                let work_from = self.params.perf.then(wall_now);
                let changed = self.on_frame(ctx, ts);
                match work_from {
                    Some(from) if changed => {
                        self.frame_work_from = Some(from);
                        self.frame_updated_at = wall_now();
                    }
                    Some(from) => record_frame_work(wall_now() - from),
                    None => {}
                }
                self.frame_done();
                changed
            }
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if let Some(from) = self.frame_work_from.take() {
            let now = wall_now();
            record_frame_work(now - from);
            record_timing("__kubesimPhase_render", now - self.frame_updated_at);
            // The render again by the frame's kind: a diagram frame's is
            // the one that counts.
            if let Some(kind) = self.measured {
                record_timing(
                    &format!("__kubesimPhase_render_{}", kind.name()),
                    now - self.frame_updated_at,
                );
            }
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.page(ctx)
    }
}

impl App {
    /// The editor's Apply and Validate: `kubectl apply [--dry-run=server]
    /// -f -` with the text, run as if typed in the console (recorded in the
    /// run, shown in the console), and what it printed placed on lines of
    /// the text.
    fn apply_manifest(&mut self, ctx: &Context<Self>, text: &str, dry_run: bool) -> EditorResult {
        use crate::manifest_lines::{annotate, Annotation};
        if let Some(n) = text.lines().position(|l| l.trim() == "---end") {
            return EditorResult {
                seq: self.editor_runs(),
                dry_run,
                ok: false,
                annotations: vec![Annotation {
                    line: Some(n),
                    column: None,
                    message: "a line ---end would end the manifest here: remove it".to_string(),
                }],
            };
        }
        let flag = if dry_run { " --dry-run=server" } else { "" };
        let script = format!("kubectl apply{flag} -f -\n{}\n---end", text.trim_end());
        let outcomes = self.run_command(ctx, &script);
        let output = outcomes
            .iter()
            .map(|o| o.output.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        EditorResult {
            seq: self.editor_runs(),
            dry_run,
            ok: !outcomes.is_empty() && outcomes.iter().all(|o| o.ok),
            annotations: annotate(text, &output),
        }
    }

    /// After a console command: a `kubectl edit` that read its object
    /// opens the file in the editor, as kubectl opens `$EDITOR`.
    fn open_edit(&mut self, outcomes: &[Entry]) {
        let [one] = outcomes else {
            return;
        };
        let verb = one.input.split_whitespace().take(2).collect::<Vec<_>>();
        if !one.ok
            || verb != ["kubectl", "edit"]
            || !one.output.starts_with(kubesim::shell::EDIT_HEADER)
        {
            return;
        }
        let seq = self.edit.as_ref().map_or(1, |e| e.seq + 1);
        self.edit = Some(Rc::new(EditSession {
            seq,
            command: one.input.trim().to_string(),
            original: one.output.clone(),
        }));
        self.editor_open = true;
        self.editor_result = None;
    }

    /// The editor's Save in a `kubectl edit`: what changed, sent as the
    /// `kubectl patch` that does it (run as if typed in the console, so it
    /// is recorded and replayed); nothing when nothing changed. A dry run
    /// (Ctrl+Shift+Enter) sends it with `--dry-run=server`. A saved edit
    /// closes the editor, as kubectl's does.
    fn save_edit(
        &mut self,
        ctx: &Context<Self>,
        edit: &EditSession,
        text: &str,
        dry_run: bool,
    ) -> EditorResult {
        use crate::manifest_lines::{annotate, Annotation};
        let seq = self.editor_runs();
        let command = match kubesim::shell::edit_command(&edit.original, text) {
            Ok(Some(command)) => command,
            Ok(None) => {
                return EditorResult {
                    seq,
                    dry_run: false,
                    ok: true,
                    annotations: vec![Annotation {
                        line: None,
                        column: None,
                        message: "Edit cancelled, no changes made.".into(),
                    }],
                }
            }
            Err(e) => {
                return EditorResult {
                    seq,
                    dry_run,
                    ok: false,
                    annotations: annotate(text, &e),
                }
            }
        };
        let command = if dry_run {
            format!("{command} --dry-run=server")
        } else {
            command
        };
        let outcomes = self.run_command(ctx, &command);
        let ok = !outcomes.is_empty() && outcomes.iter().all(|o| o.ok);
        let output = outcomes
            .iter()
            .map(|o| o.output.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if ok && !dry_run {
            self.edit = None;
            self.editor_open = false;
        }
        EditorResult {
            seq,
            dry_run,
            ok,
            annotations: annotate(text, &output),
        }
    }

    /// The number of the editor's next result.
    fn editor_runs(&self) -> u64 {
        self.editor_result.as_ref().map_or(1, |r| r.seq + 1)
    }

    /// With `?perf=1`, records the time since `from` as the frame phase
    /// `name` (unless `name` is `start`) and returns the time now.
    fn phase(&self, name: &str, from: f64) -> f64 {
        if !self.params.perf {
            return 0.0;
        }
        let now = wall_now();
        if name != "start" {
            record_timing(&format!("__kubesimPhase_{name}"), now - from);
        }
        now
    }

    /// Ends the update of a running frame: a message posted now is
    /// handled once Yew has rendered (in this same task) and the browser
    /// has drawn the frame (see [`Probe`]).
    fn frame_done(&mut self) {
        if let Some((kind, advanced_at)) = self.measuring.take() {
            self.measured = Some(kind);
            if let Some(probe) = &self.probe {
                probe.post(advanced_at);
            }
        }
    }

    /// Learns what the last frame cost after its advance: the rest of the
    /// page's work and the browser's drawing (not learnt if the browser
    /// has not drawn it yet).
    fn learn_frame_cost(&mut self) {
        if let Some(kind) = self.measured.take() {
            if let Some(rest) = self.probe.as_ref().and_then(Probe::take) {
                if self.params.perf {
                    record_timing(&format!("__kubesimPhase_after_{}", kind.name()), rest);
                }
                self.budget.learn(kind, rest);
            }
        }
    }

    /// One animation frame: the clock advances by the wall time since the
    /// last one times the speed, pulses move, panels refresh. Returns
    /// whether the page has to be drawn again.
    fn on_frame(&mut self, ctx: &Context<Self>, ts: f64) -> bool {
        self.frame = None;
        self.learn_frame_cost();
        let dt = self
            .last_frame
            .map(|last| (ts - last).clamp(0.0, MAX_FRAME_GAP_MS))
            .unwrap_or(0.0);
        self.last_frame = Some(ts);
        let mut advanced = false;
        if self.playing {
            self.carry_ms = (self.carry_ms + dt * self.speed).min(self.speed * CARRY_MAX_WALL_MS);
            let whole = self.carry_ms.floor();
            if whole >= 1.0 {
                // At most one heavy step per frame, chosen first so the
                // advance leaves room for it: the diagram drawn from the
                // last snapshot's layout, a snapshot, or the message log.
                let kind = if self.pending_layout.is_some() {
                    Kind::Diagram
                } else if ts - self.refreshed_at >= SNAPSHOT_EVERY_MS {
                    Kind::Snapshot
                } else if ts - self.log_drawn_at >= LOG_REFRESH_MS {
                    Kind::Log
                } else {
                    Kind::Plain
                };
                let before = self.cluster.now();
                let t = self.phase("start", 0.0);
                let started = wall_now();
                // What the frame has left once this kind's other work
                // (measured on the last frames of its kind, the browser's
                // drawing included) and what went before are counted.
                let budget = self.budget.advance_ms(kind, started - ts);
                // Event by event, checking the budget between them: a busy
                // cluster's events come in bursts (every kubelet's status
                // sync, a controller's resync), and stopping between two
                // events leaves the run exactly as one long advance would.
                let mut target = before + SimDuration::from_millis(whole as u64);
                // After a scrub back, the run's later commands replay at
                // their times: the clock stops at the next one and runs it.
                let command_at = self.next_recorded(target);
                target = command_at.unwrap_or(target);
                loop {
                    if !self.cluster.step(target) {
                        self.cluster.advance_to(target);
                        break;
                    }
                    if wall_now() - started > budget {
                        // Over budget: the rest is carried to the next
                        // frames (up to CARRY_MAX_WALL_MS of it). The
                        // events left at this instant run first, so a
                        // command typed now comes after all of them, as
                        // when the run is replayed (`advance_to` its time).
                        let now = self.cluster.now();
                        self.cluster.advance_to(now);
                        break;
                    }
                }
                self.carry_ms -= self.cluster.now().saturating_since(before).as_millis() as f64;
                if command_at.is_some_and(|at| self.cluster.now() >= at) && self.run_recorded() {
                    // A command's own clock (`sim advance`) is not owed by
                    // the frames.
                    self.carry_ms = self.carry_ms.max(0.0);
                }
                self.measuring = Some((kind, wall_now()));
                if self.params.perf {
                    record_timing("__kubesimPhase_budget", budget);
                }
                let t = self.phase("advance", t);
                self.offer_checkpoint(ts);
                let t = self.phase("checkpoint", t);
                self.spawn_pulses(before, self.cluster.now(), ts, dt.max(1.0));
                let t = self.phase("pulses", t);
                match kind {
                    Kind::Snapshot => self.pending_layout = self.take_snapshot(true),
                    Kind::Diagram => {
                        if let Some(new) = self.pending_layout.take() {
                            self.install_layout(new);
                        }
                    }
                    Kind::Log => self.refresh_log(ts),
                    Kind::Plain => {}
                }
                let t = self.phase(kind.name(), t);
                self.save(ts, false);
                self.phase("save", t);
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
        let t = self.phase("start", 0.0);
        self.pulses.draw(ts);
        self.phase("draw", t);
        if advanced {
            if let Some(rows) = self.shell.poll_watch(&mut self.cluster) {
                let mut transcript = (*self.transcript).clone();
                if let Some(last) = transcript.last_mut() {
                    if !last.output.is_empty() {
                        last.output.push('\n');
                    }
                    last.output.push_str(&rows);
                }
                self.transcript = Rc::new(transcript);
            }
        }
        let mut tour_changed = advanced && self.poll_tour(ts);
        if self.tour.as_ref().is_some_and(|t| t.due(ts)) {
            ctx.link().send_message(Msg::TourNext);
            tour_changed = true;
        }
        let auto_pending = self
            .tour
            .as_ref()
            .is_some_and(|t| t.auto && t.status == Status::Passed && !t.is_last());
        if self.playing || self.pulses.busy() || auto_pending {
            self.request_frame(ctx);
        }
        advanced || tour_changed
    }

    fn page(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let cb = &self.callbacks;
        let p = &self.params;
        let lesson = self.tour.is_some();
        // A lesson's tasks are typed in the console, so an embedded lesson
        // shows it too unless `panels=` says otherwise.
        let console = p.shows("console") || (lesson && p.panels.is_none());
        let side = console || p.shows("log") || lesson;
        let guide = self.tour.as_ref().map(|t| {
            html! {
                <Guide tour={t.clone()} highlight={self.highlight.clone()} playing={self.playing}
                    on_next={cb.tour_next.clone()}
                    on_back={cb.tour_back.clone()}
                    on_restart={cb.tour_restart.clone()}
                    on_skip={cb.tour_skip.clone()}
                    on_solve={cb.tour_solve.clone()}
                    on_hint={cb.tour_hint.clone()}
                    on_auto={cb.tour_auto.clone()} />
            }
        });
        let lessons = self.lessons_open.then(|| {
            let body = match &self.lessons {
                None => html! { <p class="hint">{"Loading…"}</p> },
                Some(Err(e)) => html! { <p class="hint">{e.clone()}</p> },
                Some(Ok(list)) => html! {
                    <ol>
                        { for list.iter().map(|e| html! {
                            <li><a href={format!("?scenario={}", e.name)}>{e.title.clone()}</a></li>
                        }) }
                    </ol>
                },
            };
            html! {
                <div class="lessons-menu" id="lessons-menu" role="dialog" aria-label="Lessons">
                    <p class="lessons-intro">{"Guided lessons: each plays on its own cluster, step by step."}</p>
                    {body}
                </div>
            }
        });
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
                        now={self.cluster.now()}
                        seed={self.snapshot.seed}
                        events={self.snapshot.events_delivered}
                        on_play={cb.play.clone()}
                        on_pause={cb.pause.clone()}
                        on_speed={cb.speed.clone()}
                    />
                    if !p.embed {
                        <div class="lessons">
                            <button type="button" id="lessons" class="lessons-button"
                                aria-expanded={self.lessons_open.to_string()} aria-controls="lessons-menu"
                                onclick={link.callback(|_| Msg::ToggleLessons)}>{"Lessons ▾"}</button>
                            {for lessons}
                        </div>
                    }
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
                                on_toggle={cb.diagram_kind.clone()} />
                            <Diagram layout={self.layout.clone()} pulse_layer={self.pulse_layer.clone()}
                                theme={AttrValue::from(self.theme.clone())}
                                highlight={self.highlight.clone()}
                                on_inspect={self.on_inspect.clone()} />
                        </section>
                        if p.shows("timeline") || !p.embed {
                            <Timeline now={self.cluster.now().as_millis()}
                                end={self.log.now}
                                marks={self.marks.clone()}
                                share={self.share.clone()}
                                on_seek={cb.seek.clone()}
                                on_step={cb.step.clone()}
                                on_share={cb.share.clone()}
                                on_reset={cb.reset.clone()} />
                        }
                        if p.shows("legend") || !p.embed {
                            <Legend />
                        }
                    </div>
                    if let Some((_, ins)) = &self.inspected {
                        <Inspector inspection={ins.clone()} on_close={cb.close_inspector.clone()} on_open={self.on_inspect.clone()} />
                    }
                    if side {
                        <aside class="side-panel" aria-label="Console and message log">
                            {for guide}
                            if console {
                                <div class="side-tools">
                                    <button type="button" id="open-editor" class="tool"
                                        aria-expanded={self.editor_open.to_string()} aria-controls="yaml-editor"
                                        onclick={link.callback(|_| Msg::ToggleEditor)}>
                                        {if self.editor_open { "Close the YAML editor" } else { "✎ YAML editor" }}
                                    </button>
                                </div>
                                if self.editor_open {
                                    <Editor result={self.editor_result.clone()} edit={self.edit.clone()}
                                        on_submit={cb.editor_submit.clone()}
                                        on_close={cb.toggle_editor.clone()} />
                                }
                            }
                            if console {
                                <Console transcript={self.transcript.clone()}
                                    answered={self.answered}
                                    on_run={cb.run.clone()}
                                    available={self.shell.available()}
                                    watching={self.shell.watching()}
                                    on_interrupt={cb.interrupt.clone()}
                                    on_complete={cb.complete.clone()}
                                    completion={self.completion.clone()} />
                            }
                            if p.shows("log") {
                                <EventLog rows={self.log_rows.clone()} filter={self.log_filter}
                                    total={self.log_total.min(self.cluster.trace().total())}
                                    on_toggle={cb.log_kind.clone()}
                                    tab={self.log_tab} on_tab={cb.log_tab.clone()}
                                    events={self.events.clone()} events_at={self.events_at}
                                    query={self.event_query.clone()} on_query={cb.event_query.clone()} />
                            }
                        </aside>
                    }
                </main>
            </div>
        }
    }
}
