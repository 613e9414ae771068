//! The inspector: a drawer showing whatever was clicked on the diagram:
//! an object's spec and status side by side (desired and current state),
//! its YAML, its events, and for a pod the scheduler's per-node,
//! per-plugin table. The core builds the view (`kubesim::inspect`); this
//! only draws it.

use super::guide::highlight_css;
use kubesim::inspect::{Chain, Inspection, Relative, SchedulerTable, Target};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub inspection: Rc<Inspection>,
    pub on_close: Callback<()>,
    /// Opens another object (a row of the owners tree).
    pub on_open: Callback<Target>,
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Overview,
    Yaml,
    Events,
    Scheduler,
    Family,
    Chain,
}

impl Tab {
    fn label(self) -> &'static str {
        match self {
            Tab::Overview => "Spec & status",
            Tab::Yaml => "YAML",
            Tab::Events => "Events",
            Tab::Scheduler => "Scheduling",
            Tab::Family => "Owners",
            Tab::Chain => "Chain",
        }
    }
}

fn scheduler(t: &SchedulerTable) -> Html {
    html! {
        <div class="sched">
            <p class="sched-summary">{t.summary.clone()}</p>
            <div class="table-scroll">
                <table class="sched-table">
                    <caption class="visually-hidden">{"The scheduler's verdict per node: each Filter plugin, then each Score plugin's weighted score"}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{"node"}</th>
                            { for t.filter_plugins.iter().map(|p| html! { <th scope="col" class="filter-col" title={format!("Filter: {p}")}>{p.clone()}</th> }) }
                            { for t.score_plugins.iter().map(|p| html! { <th scope="col" class="score-col" title={format!("Score: {p}")}>{p.clone()}</th> }) }
                            <th scope="col">{"total"}</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for t.rows.iter().map(|r| html! {
                            <tr class={classes!(r.chosen.then_some("chosen"), (!r.feasible).then_some("infeasible"))}>
                                <th scope="row">{ if r.chosen { format!("★ {}", r.node) } else { r.node.clone() } }</th>
                                { for r.filters.iter().map(|v| {
                                    let class = if v.starts_with('✗') { "fail" } else if v == "✓" { "pass" } else { "skip" };
                                    html! { <td class={class} title={v.clone()}>{v.clone()}</td> }
                                }) }
                                { for r.scores.iter().map(|s| html! { <td class="num">{s.clone()}</td> }) }
                                <td class="num total">{r.total.clone()}</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <p class="hint">{"✓ passed · ✗ rejected (reason) · – not run. Scores are normalized to 0–100 and multiplied by the plugin's weight; the highest total wins."}</p>
        </div>
    }
}

/// A chain of cause and effect (a pod's start, a node's failure): the
/// steps in order, those that happened with their virtual time, the one
/// reached marked (and its component lit on the diagram), those to come
/// dimmed with when they are due.
fn chain(c: &Chain) -> Html {
    let current = c.current();
    let lit = current
        .and_then(|i| c.steps.get(i))
        .map(|s| highlight_css(&s.components))
        .unwrap_or_default();
    html! {
        <div class="chain">
            <style>{lit}</style>
            <p class="chain-caption">{c.caption.clone()}</p>
            <ol class="chain-steps" aria-label={c.caption.clone()}>
                { for c.steps.iter().enumerate().map(|(i, s)| {
                    let is_current = Some(i) == current;
                    let state = if is_current { "current" } else if s.done() { "done" } else { "pending" };
                    let mark = if is_current { "▶" } else if s.done() { "✓" } else { "○" };
                    let who = match &s.node {
                        Some(n) => format!("{} @ {n}", s.actor.label()),
                        None => s.actor.label().to_string(),
                    };
                    html! {
                        <li class={classes!("chain-step", state)} data-step={i.to_string()}
                            aria-current={is_current.then_some("step")}
                            aria-label={format!("Step {}: {}, {}, {}", i + 1, s.title, who, if s.done() { s.when() } else { format!("{state}, {}", s.when()) })}>
                            <span class="chain-mark" aria-hidden="true">{mark}</span>
                            <span class="chain-time">{s.when()}</span>
                            <span class="chain-title">{s.title.clone()}</span>
                            <span class={classes!("chain-actor", format!("kind-{}", kind_slug(s.actor)))}>{who}</span>
                            <span class="chain-detail">{s.detail.clone()}</span>
                        </li>
                    }
                }) }
            </ol>
            <p class="hint">{c.note.clone()}</p>
        </div>
    }
}

fn kind_slug(k: kubesim::snapshot::ComponentKind) -> String {
    k.label().to_lowercase().replace(' ', "-")
}

/// The owners tree: each row indented by its depth, the inspected object
/// marked, every other row a button that opens it.
fn family(rows: &[Relative], on_open: &Callback<Target>) -> Html {
    html! {
        <div class="family">
            <ul class="family-tree" role="tree" aria-label="Owners and dependents">
                { for rows.iter().map(|r| {
                    let label = format!("{} {}", r.kind, r.name);
                    let mut notes = Vec::new();
                    if r.controller { notes.push("controller"); }
                    if r.blocks { notes.push("blockOwnerDeletion"); }
                    if r.deleting { notes.push("deleting"); }
                    let indent = format!("padding-left: {}rem", 0.25 + 1.25 * r.depth as f64);
                    let row = if r.this {
                        html! { <strong class="family-this" aria-current="true">{label}</strong> }
                    } else {
                        let open = { let t = r.target.clone(); on_open.reform(move |_: MouseEvent| t.clone()) };
                        html! { <button class="family-link" onclick={open} title={format!("Open {label}")}>{label}</button> }
                    };
                    html! {
                        <li role="treeitem" aria-level={(r.depth + 1).to_string()} style={indent}
                            class={classes!(r.deleting.then_some("deleting"))}>
                            if r.depth > 0 { <span class="family-branch" aria-hidden="true">{"└ "}</span> }
                            {row}
                            if !notes.is_empty() { <span class="hint">{format!(" · {}", notes.join(" · "))}</span> }
                        </li>
                    }
                }) }
            </ul>
            <p class="hint">{"Each object lists its owners in metadata.ownerReferences. The garbage collector deletes dependents when their owner goes (background), first (foreground: owners wait for dependents with blockOwnerDeletion) or never (orphan)."}</p>
        </div>
    }
}

#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let ins = &p.inspection;
    let tab = use_state(|| Tab::Overview);
    let mut tabs = vec![Tab::Overview];
    if ins.yaml.is_some() {
        tabs.push(Tab::Yaml);
    }
    if ins.yaml.is_some() {
        tabs.push(Tab::Events);
    }
    if ins.scheduler.is_some() {
        tabs.push(Tab::Scheduler);
    }
    if !ins.family.is_empty() {
        tabs.push(Tab::Family);
    }
    if ins.chain.is_some() {
        tabs.push(Tab::Chain);
    }
    let current = if tabs.contains(&*tab) {
        *tab
    } else {
        Tab::Overview
    };
    let close = p.on_close.reform(|_: MouseEvent| ());
    let on_key = {
        let on_close = p.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let body = match current {
        Tab::Overview => html! {
            <>
                <dl class="facts">
                    { for ins.facts.iter().map(|(k, v)| html! { <><dt>{k.clone()}</dt><dd>{v.clone()}</dd></> }) }
                </dl>
                if !ins.controllers.is_empty() {
                    <div class="table-scroll">
                        <table class="events-table controllers-table">
                            <caption class="visually-hidden">{"The control loops inside this kube-controller-manager"}</caption>
                            <thead><tr><th scope="col">{"Controller"}</th><th scope="col">{"Queued"}</th><th scope="col">{"Reconciles"}</th><th scope="col">{"Last"}</th></tr></thead>
                            <tbody>
                                { for ins.controllers.iter().map(|c| html! {
                                    <tr class={classes!((c.queued > 0).then_some("busy"))}>
                                        <th scope="row">{c.name.clone()}</th>
                                        <td class="num">{c.queued}</td><td class="num">{c.syncs}</td><td>{c.last_sync.clone()}</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
                if ins.spec.is_some() || ins.status.is_some() {
                    <div class="spec-status">
                        <div>
                            <h3>{"spec"}<span class="hint">{" · desired state, written by you or a controller"}</span></h3>
                            <pre>{ins.spec.clone().unwrap_or_else(|| "(none)".into())}</pre>
                        </div>
                        <div>
                            <h3>{"status"}<span class="hint">{" · current state, reported by the component that owns it"}</span></h3>
                            <pre>{ins.status.clone().unwrap_or_else(|| "(none yet)".into())}</pre>
                        </div>
                    </div>
                }
            </>
        },
        Tab::Yaml => html! { <pre class="yaml">{ins.yaml.clone().unwrap_or_default()}</pre> },
        Tab::Events => {
            if ins.events.is_empty() {
                html! { <p class="hint">{"No events."}</p> }
            } else {
                html! {
                    <div class="table-scroll">
                        <table class="events-table">
                            <thead><tr><th>{"Type"}</th><th>{"Reason"}</th><th>{"Age"}</th><th>{"From"}</th><th>{"Message"}</th></tr></thead>
                            <tbody>
                                { for ins.events.iter().map(|e| html! {
                                    <tr class={classes!((e.kind == "Warning").then_some("warning"))}>
                                        <td>{e.kind.clone()}</td><td>{e.reason.clone()}</td><td>{e.age.clone()}</td>
                                        <td>{e.from.clone()}</td><td>{e.message.clone()}</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
            }
        }
        Tab::Scheduler => ins.scheduler.as_ref().map(scheduler).unwrap_or_default(),
        Tab::Family => family(&ins.family, &p.on_open),
        Tab::Chain => ins.chain.as_ref().map(chain).unwrap_or_default(),
    };
    html! {
        <aside id="inspector" class="inspector" role="dialog" aria-label={format!("Inspector: {}", ins.title)}
            onkeydown={on_key}>
            <header class="inspector-head">
                <div>
                    <h2>{ins.title.clone()}</h2>
                    <span class="hint">{ins.subtitle.clone()}</span>
                </div>
                <button class="close" aria-label="Close the inspector" title="Close (Esc)" onclick={close}>{"✕"}</button>
            </header>
            <nav class="tabs" role="tablist">
                { for tabs.iter().map(|t| {
                    let t = *t;
                    let set = { let tab = tab.clone(); Callback::from(move |_: MouseEvent| tab.set(t)) };
                    html! {
                        <button role="tab" aria-selected={(t == current).to_string()}
                            class={classes!("tab", (t == current).then_some("active"))} onclick={set}>
                            {t.label()}
                        </button>
                    }
                }) }
            </nav>
            <div class="inspector-body" role="tabpanel">{body}</div>
        </aside>
    }
}
