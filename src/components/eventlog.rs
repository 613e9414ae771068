//! The event log: the most recent messages of the trace, newest first.

use crate::components::filter::MessageFilter;
use crate::messages::{kind_of, short_name, KindFilter};
use kubesim::world::TraceEvent;
use kubesim::SimTime;
use std::rc::Rc;
use yew::prelude::*;

/// At most this many rows are shown.
pub const LOG_ROWS: usize = 120;

/// One row of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The message's position in the whole run.
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
            from: e.from.clone(),
            to: e.to.clone(),
            kind: e.kind.clone(),
            summary: e.summary.clone(),
            dropped: e.dropped.as_ref().map(|d| format!("{d:?}").to_lowercase()),
        }
    }
}

#[derive(Properties)]
pub struct EventLogProps {
    pub rows: Rc<Vec<Row>>,
    pub filter: KindFilter,
    pub on_toggle: Callback<usize>,
    /// Messages recorded since the run started.
    pub total: u64,
}

impl PartialEq for EventLogProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.rows, &o.rows) && self.filter == o.filter && self.total == o.total
    }
}

#[function_component(EventLog)]
pub fn event_log(p: &EventLogProps) -> Html {
    html! {
        <section class="event-log panel" aria-labelledby="log-title">
            <header class="panel-head">
                <h2 id="log-title">{"Messages"}</h2>
                <span class="hint">{format!("newest first · last {} of {} sent", p.rows.len(), p.total)}</span>
            </header>
            <details class="log-filter">
                <summary>{"Kinds shown in the log"}</summary>
                <MessageFilter id="log-filter" label="Show in the log" filter={p.filter} on_toggle={p.on_toggle.clone()} />
            </details>
            <LogRows rows={p.rows.clone()} />
        </section>
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
