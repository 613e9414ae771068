//! The page: holds the cluster, drives its clock on animation frames, and
//! lays out the diagram, the time controls and the legend.

use crate::components::controls::Controls;
use crate::components::diagram::Diagram;
use crate::components::legend::Legend;
use crate::layout::{layout, Layout};
use gloo::render::{request_animation_frame, AnimationFrame};
use kubesim::{Cluster, SimDuration, Snapshot, Topology};
use std::rc::Rc;
use yew::prelude::*;

/// The seed of a fresh page (sharing a run by URL arrives with the page work).
const DEFAULT_SEED: u64 = 1;
/// A frame gap longer than this (a hidden tab) is not replayed in one jump.
const MAX_FRAME_GAP_MS: f64 = 250.0;

pub enum Msg {
    Play,
    Pause,
    SetSpeed(f64),
    Frame(f64),
}

pub struct App {
    cluster: Cluster,
    snapshot: Rc<Snapshot>,
    layout: Rc<Layout>,
    playing: bool,
    speed: f64,
    last_frame: Option<f64>,
    /// Virtual milliseconds owed but not yet advanced (below one ms).
    carry_ms: f64,
    frame: Option<AnimationFrame>,
}

impl App {
    fn request_frame(&mut self, ctx: &Context<Self>) {
        let link = ctx.link().clone();
        self.frame = Some(request_animation_frame(move |ts| {
            link.send_message(Msg::Frame(ts))
        }));
    }

    /// Takes a new snapshot; lays the diagram out again only if its shape changed.
    fn refresh(&mut self) {
        let snapshot = self.cluster.snapshot();
        if snapshot.nodes != self.snapshot.nodes
            || snapshot.cluster_components != self.snapshot.cluster_components
        {
            self.layout = Rc::new(layout(&snapshot));
        }
        self.snapshot = Rc::new(snapshot);
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let cluster = Cluster::new(Topology::default(), DEFAULT_SEED);
        let snapshot = cluster.snapshot();
        App {
            layout: Rc::new(layout(&snapshot)),
            snapshot: Rc::new(snapshot),
            cluster,
            playing: false,
            speed: 1.0,
            last_frame: None,
            carry_ms: 0.0,
            frame: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Play => {
                if !self.playing {
                    self.playing = true;
                    self.last_frame = None;
                    self.request_frame(ctx);
                }
                true
            }
            Msg::Pause => {
                self.playing = false;
                self.frame = None;
                self.carry_ms = 0.0;
                true
            }
            Msg::SetSpeed(speed) => {
                self.speed = speed;
                true
            }
            Msg::Frame(ts) => {
                if !self.playing {
                    return false;
                }
                let dt = self
                    .last_frame
                    .map(|last| (ts - last).clamp(0.0, MAX_FRAME_GAP_MS))
                    .unwrap_or(0.0);
                self.last_frame = Some(ts);
                self.carry_ms += dt * self.speed;
                let whole = self.carry_ms.floor();
                self.carry_ms -= whole;
                if whole >= 1.0 {
                    self.cluster.advance(SimDuration::from_millis(whole as u64));
                    self.refresh();
                }
                self.request_frame(ctx);
                whole >= 1.0
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
                    <section class="diagram-panel" aria-label="Architecture diagram">
                        <Diagram layout={self.layout.clone()} />
                    </section>
                    <aside class="side-panel">
                        <Legend />
                    </aside>
                </main>
            </div>
        }
    }
}
