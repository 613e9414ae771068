//! The log panel, two tabs:
//! - **Messages**: the most recent messages of the trace (who sent what to
//!   whom), newest first, filtered by kind;
//! - **Events**: the Kubernetes Events the components recorded, as
//!   `kubectl get events -w` shows them, newest first, filtered by the
//!   object they are about and the component that reported them.

use crate::components::filter::MessageFilter;
use crate::messages::{kind_of, short_name, KindFilter};
use kubesim::eventlog::{EventLogView, EventQuery};
use kubesim::world::TraceEvent;
use kubesim::SimTime;
use std::rc::Rc;
use yew::prelude::*;

/// At most this many rows are shown.
pub const LOG_ROWS: usize = 120;
/// ... and this many while the clock runs at [`FAST_SPEED`] or faster:
/// the panel shows about ten, every row is replaced at each rebuild before
/// anyone could scroll to the rest, and 120 rows cost a busy frame
/// (measured by `cargo xtask bench page`: the log's frames were the
/// dearest after the diagram's). Pausing shows all [`LOG_ROWS`] again.
pub const LOG_ROWS_FAST: usize = 30;
/// The speed from which the log keeps [`LOG_ROWS_FAST`] rows.
pub const FAST_SPEED: f64 = 10.0;

/// One row of the log.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The message's position in the whole run (a stable key).
    pub seq: u64,
    pub at: SimTime,
    pub arrives: SimTime,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub summary: String,
    pub dropped: Option<String>,
}

impl Row {
    pub fn new(seq: u64, e: &TraceEvent) -> Row {
        Row {
            seq,
            at: e.at,
            arrives: e.arrives,
            from: e.from.to_string(),
            to: e.to.to_string(),
            kind: e.kind.to_string(),
            summary: e.summary.clone(),
            dropped: e.dropped.as_ref().map(|d| format!("{d:?}").to_lowercase()),
        }
    }
}

/// Which tab of the log panel is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogTab {
    #[default]
    Messages,
    Events,
}

#[derive(Properties)]
pub struct EventLogProps {
    pub rows: Rc<Vec<Row>>,
    pub filter: KindFilter,
    pub on_toggle: Callback<usize>,
    /// Messages recorded since the run started.
    pub total: u64,
    pub tab: LogTab,
    pub on_tab: Callback<LogTab>,
    /// The Kubernetes Events, as of `events_at`.
    pub events: Rc<EventLogView>,
    pub events_at: SimTime,
    pub query: EventQuery,
    pub on_query: Callback<EventQuery>,
}

impl PartialEq for EventLogProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.rows, &o.rows)
            && self.filter == o.filter
            && self.total == o.total
            && self.tab == o.tab
            && Rc::ptr_eq(&self.events, &o.events)
            && self.events_at == o.events_at
            && self.query == o.query
    }
}

#[function_component(EventLog)]
pub fn event_log(p: &EventLogProps) -> Html {
    let tab = |which: LogTab, id: &'static str, label: &'static str| {
        let on_tab = p.on_tab.clone();
        let selected = p.tab == which;
        html! {
            <button type="button" role="tab" id={id} class={classes!("log-tab", selected.then_some("selected"))}
                aria-selected={selected.to_string()} aria-controls="log-body"
                onclick={Callback::from(move |_| on_tab.emit(which))}>{label}</button>
        }
    };
    html! {
        <section class="event-log panel" aria-labelledby="log-title">
            <header class="panel-head">
                <h2 id="log-title" class="visually-hidden">{"Log"}</h2>
                <div class="log-tabs" role="tablist" aria-label="Log">
                    { tab(LogTab::Messages, "log-tab-messages", "Messages") }
                    { tab(LogTab::Events, "log-tab-events", "Events") }
                </div>
                <span class="hint">{
                    match p.tab {
                        LogTab::Messages => format!("newest first · last {} of {} sent", p.rows.len(), p.total),
                        LogTab::Events => format!("newest first · {} of {} events", p.events.rows.len().min(p.events.matched), p.events.total),
                    }
                }</span>
            </header>
            <div id="log-body" role="tabpanel" class="log-body">
                { match p.tab {
                    LogTab::Messages => messages(p),
                    LogTab::Events => events(p),
                } }
            </div>
        </section>
    }
}

fn messages(p: &EventLogProps) -> Html {
    html! {
        <>
            <details class="log-filter">
                <summary>{"Kinds shown in the log"}</summary>
                <MessageFilter id="log-filter" label="Show in the log" filter={p.filter} on_toggle={p.on_toggle.clone()} />
            </details>
            <LogRows rows={p.rows.clone()} />
        </>
    }
}

fn events(p: &EventLogProps) -> Html {
    // A filter's change: the query with that field replaced.
    let set = |field: fn(&mut EventQuery) -> &mut String| {
        let on_query = p.on_query.clone();
        let query = p.query.clone();
        move |value: String| {
            let mut q = query.clone();
            *field(&mut q) = value;
            on_query.emit(q);
        }
    };
    let on_object = {
        let set = set(|q| &mut q.object);
        Callback::from(move |e: InputEvent| {
            set(e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value())
        })
    };
    let on_source = {
        let set = set(|q| &mut q.source);
        Callback::from(move |e: Event| {
            set(e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value())
        })
    };
    let now = p.events_at;
    html! {
        <>
            <div class="log-filter events-filter">
                <label>{"Object "}
                    <input id="events-object" type="search" placeholder="pod/web, node/worker-1, kube-system/"
                        value={p.query.object.clone()} oninput={on_object} aria-label="Show events about objects matching" />
                </label>
                <label>{"Component "}
                    <select id="events-source" onchange={on_source} aria-label="Show events reported by">
                        <option value="" selected={p.query.source.is_empty()}>{"all"}</option>
                        { for p.events.sources.iter().map(|s| html! {
                            <option value={s.clone()} selected={p.query.source == *s}>{s}</option>
                        }) }
                    </select>
                </label>
            </div>
            <ol class="log-rows" id="k8s-events" aria-label="Kubernetes events, newest first">
                if p.events.rows.is_empty() {
                    <li class="log-empty">{
                        if p.events.total == 0 {
                            "No events yet: the components record them as they act (kubectl get events)."
                        } else {
                            "No event matches the filter."
                        }
                    }</li>
                }
                { for p.events.rows.iter().map(|e| {
                    let warning = e.kind == "Warning";
                    let from = if e.host.is_empty() { e.source.clone() } else { format!("{}, {}", e.source, e.host) };
                    let title = format!(
                        "{} {}: {}\nfrom {}{}",
                        e.kind,
                        e.reason,
                        e.message,
                        from,
                        if e.count > 1 { format!(" (×{})", e.count) } else { String::new() }
                    );
                    html! {
                        <li key={e.key.clone()} class={classes!("log-row", "event-row", warning.then_some("warning"))}
                            data-reason={e.reason.clone()} data-source={e.source.clone()} title={title}>
                            <span class="log-time">{e.age(now)}</span>
                            <span class={classes!("event-type", warning.then_some("warning"))}
                                aria-label={e.kind.clone()}>{ if warning { "⚠" } else { "•" } }</span>
                            <span class="log-route">
                                <span class="event-reason">{&e.reason}</span>{" "}
                                <span class="event-object">{&e.object}</span>
                                if e.count > 1 { <span class="event-count">{format!(" ×{}", e.count)}</span> }
                            </span>
                            <span class="log-summary event-message">{&e.message}</span>
                            <span class="event-source">{from}</span>
                        </li>
                    }
                }) }
            </ol>
        </>
    }
}

#[derive(Properties)]
struct LogRowsProps {
    rows: Rc<Vec<Row>>,
}

impl PartialEq for LogRowsProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.rows, &o.rows)
    }
}

/// The rows, drawn again only when the page rebuilt them (at most every
/// few hundred milliseconds). Not keyed: while the clock runs fast every
/// row is new at each rebuild, and keyed rows would be 120 list items
/// removed and 120 made (a thousand DOM nodes); unkeyed, the same items
/// take the new rows' text.
#[function_component(LogRows)]
fn log_rows(p: &LogRowsProps) -> Html {
    html! {
        <ol class="log-rows" id="event-log" aria-label="Recent messages, newest first">
            if p.rows.is_empty() {
                <li class="log-empty">{"No messages yet: press Play to boot the control plane."}</li>
            }
            { for p.rows.iter().map(|r| {
                let k = kind_of(&r.kind);
                let latency = r.arrives.as_millis().saturating_sub(r.at.as_millis());
                let title = format!(
                    "{} → {}\n{} at {}{}",
                    r.from,
                    r.to,
                    k.label,
                    r.at,
                    match &r.dropped {
                        Some(d) => format!(", dropped ({d})"),
                        None => format!(", arrives {latency} ms later"),
                    }
                );
                html! {
                    <li class={classes!("log-row", r.dropped.is_some().then_some("dropped"))}
                        data-kind={r.kind.clone()} title={title}>
                        <span class="log-time">{r.at.to_string()}</span>
                        <span class="kind-dot" style={format!("background:{}", k.color)} aria-hidden="true"></span>
                        <span class="log-route">
                            {short_name(&r.from)}<span class="arrow" aria-label="to">{" → "}</span>{short_name(&r.to)}
                            if r.dropped.is_some() { <span class="dropped-mark">{" ✕ dropped"}</span> }
                        </span>
                        <span class="log-summary">{&r.summary}</span>
                    </li>
                }
            }) }
        </ol>
    }
}
