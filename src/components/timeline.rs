//! The timeline: the run from its start to the furthest point reached, a
//! mark for every command typed, a handle that scrubs back and forth (the
//! page replays the run from its seed), a step to the next event, and the
//! run's share link and reset.

use kubesim::SimTime;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// A command on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub at: u64,
    pub label: String,
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    /// The clock, in virtual milliseconds.
    pub now: u64,
    /// The furthest point the run has reached.
    pub end: u64,
    pub marks: Rc<Vec<Mark>>,
    /// The share link, once asked for (or why there is none).
    pub share: Option<Result<String, String>>,
    pub on_seek: Callback<u64>,
    pub on_step: Callback<()>,
    pub on_share: Callback<()>,
    pub on_reset: Callback<()>,
}

#[derive(Properties, PartialEq)]
struct MarksProps {
    marks: Rc<Vec<Mark>>,
    /// The virtual ms the marks' span stands for (the last mark's time).
    span: u64,
}

/// The commands' marks, placed along their span.
#[function_component(Marks)]
fn marks(p: &MarksProps) -> Html {
    let pct = |t: u64| format!("left: {:.3}%", t as f64 * 100.0 / p.span as f64);
    html! {
        { for p.marks.iter().map(|m| html! {
            <span class="mark" style={pct(m.at)} title={format!("{} {}", SimTime(m.at), m.label)}></span>
        }) }
    }
}

#[function_component(Timeline)]
pub fn timeline(p: &TimelineProps) -> Html {
    let end = p.end.max(p.now).max(1);
    let on_change = {
        let on_seek = p.on_seek.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Ok(v) = input.value().parse::<u64>() {
                on_seek.emit(v);
            }
        })
    };
    let span = p
        .marks
        .iter()
        .map(|m| m.at)
        .max()
        .unwrap_or(0)
        .clamp(1, end);
    let step = p.on_step.reform(|_: MouseEvent| ());
    let share = p.on_share.reform(|_: MouseEvent| ());
    let reset = p.on_reset.reform(|_: MouseEvent| ());
    let share_box = match &p.share {
        None => html! {},
        Some(Ok(url)) => html! {
            <div class="share-box" role="status">
                <label for="share-url">{"Share this run: whoever opens the link replays it exactly"}</label>
                <input id="share-url" readonly=true value={url.clone()}
                    onfocus={Callback::from(|e: FocusEvent| {
                        let input: HtmlInputElement = e.target_unchecked_into();
                        input.select();
                    })} />
            </div>
        },
        Some(Err(why)) => html! { <div class="share-box error" role="alert">{why.clone()}</div> },
    };
    html! {
        <section class="timeline" aria-label="Timeline">
            <button id="step" class="tool" title="Run up to the next event in the simulation"
                aria-label="Step to the next event" onclick={step}>{"Step ▸"}</button>
            <div class="track">
                <input id="scrub" type="range" min="0" max={end.to_string()} step="1"
                    value={p.now.to_string()} onchange={on_change}
                    aria-label="Scrub through the run"
                    aria-valuetext={SimTime(p.now).to_string()} />
                <div class="marks" aria-hidden="true">
                    // The marks are placed along the span up to the last
                    // one, and that span is scaled to the track: as the
                    // clock runs only its width changes, not every mark
                    // (one per command typed, hundreds in a long run).
                    <div class="marks-span" style={format!("width: {:.3}%", span as f64 * 100.0 / end as f64)}>
                        <Marks marks={p.marks.clone()} {span} />
                    </div>
                </div>
                <div class="track-ends" aria-hidden="true">
                    <span>{"0s"}</span><span>{SimTime(end).to_string()}</span>
                </div>
            </div>
            <button id="share" class="tool" title="A link that replays this run on any machine"
                onclick={share}>{"Share"}</button>
            <button id="reset" class="tool" title="Forget this run and start a new cluster"
                onclick={reset}>{"⟲ New run"}</button>
            {share_box}
        </section>
    }
}
