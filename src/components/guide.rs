//! The lesson guide: a scenario's narration beside the diagram, one step at
//! a time, with what the step waits for, the learner's task, a progress bar
//! and Back / Next / Restart / Auto-play. The components a step names are
//! lit on the diagram (the rest dimmed) by a style sheet this panel writes.

use crate::markdown;
use crate::tour::{Status, Tour};
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GuideProps {
    pub tour: Rc<Tour>,
    /// The diagram components the step highlights (their ids).
    pub highlight: Rc<Vec<String>>,
    /// Whether the clock runs (a waiting check needs it to).
    pub playing: bool,
    pub on_next: Callback<()>,
    pub on_back: Callback<()>,
    pub on_restart: Callback<()>,
    /// Run the clock until the check holds.
    pub on_skip: Callback<()>,
    /// Run the task's solution in the console.
    pub on_solve: Callback<()>,
    pub on_hint: Callback<()>,
    pub on_auto: Callback<bool>,
}

/// The style sheet that lights the highlighted components and dims the
/// others (ids are the simulation's, made of `[a-z0-9@.-]`; anything else
/// is dropped so a scenario cannot write CSS).
pub fn highlight_css(ids: &[String]) -> String {
    let safe: Vec<String> = ids
        .iter()
        .map(|id| {
            id.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_'))
                .collect::<String>()
        })
        .filter(|id| !id.is_empty())
        .collect();
    if safe.is_empty() {
        return String::new();
    }
    let sel = |suffix: &str| {
        safe.iter()
            .map(|id| format!("svg.diagram [data-component=\"{id}\"]{suffix}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "svg.diagram .component, svg.diagram .kubectl {{ opacity: 0.38; }} {} {{ opacity: 1; }} {} {{ stroke-width: 3px; stroke: var(--highlight) !important; }}",
        sel(""),
        sel(" .chip")
    )
}

#[function_component(Guide)]
pub fn guide(p: &GuideProps) -> Html {
    let t = &p.tour;
    let Some(step) = t.step() else {
        return html! {};
    };
    let total = t.total();
    let n = t.current + 1;
    let waiting_on = step.check.as_ref().map(|c| c.until.text.clone());
    let status = match &t.status {
        Status::Passed if t.finished() => html! {
            <p class="guide-status passed" role="status">{"✓ Lesson complete."}</p>
        },
        Status::Passed => html! {
            <p class="guide-status passed" role="status">
                {"✓ Done."}
                if t.auto { {" Going on shortly…"} } else { {" Press Next when you are ready."} }
            </p>
        },
        Status::Waiting => html! {
            <div class="guide-status waiting" role="status">
                <p>
                    <span class="spinner-dot" aria-hidden="true"></span>
                    {"Waiting for "}<code>{waiting_on.clone().unwrap_or_default()}</code>
                    if !t.seen.is_empty() { {format!(" (now {:?})", t.seen)} }
                    {"."}
                    if !p.playing { {" The clock is paused: press Play, or skip ahead."} }
                </p>
                <button type="button" id="guide-skip" class="ghost"
                    onclick={p.on_skip.reform(|_| ())}
                    title="Run the clock until the condition holds">{"Skip ahead ⏭"}</button>
            </div>
        },
        Status::Task => html! {},
        Status::Failed(why) => html! {
            <p class="guide-status failed" role="alert">{"✗ "}{why.clone()}</p>
        },
    };
    let task = step
        .check
        .as_ref()
        .and_then(|c| c.task.clone().map(|task| (task, c.hint.clone())))
        .map(|(task, hint)| {
            let done = t.status == Status::Passed;
            html! {
                <div class={classes!("guide-task", done.then_some("done"))}>
                    <p><strong>{if done { "✓ Your turn: done. " } else { "Your turn: " }}</strong>
                        { markdown::render_inline(&task) }</p>
                    if !done {
                        <p class="hint">{"Type it in the console below; the lesson checks the cluster as you go."}</p>
                        <div class="guide-task-buttons">
                            if let Some(h) = hint.filter(|_| t.hint) {
                                <p class="guide-hint">{"Hint: "}{ markdown::render_inline(&h) }</p>
                            } else if t.hint {
                            } else {
                                <button type="button" class="ghost" id="guide-hint" onclick={p.on_hint.reform(|_| ())}>{"Show a hint"}</button>
                            }
                            <button type="button" class="ghost" id="guide-solve" onclick={p.on_solve.reform(|_| ())}
                                title="Type the solution into the console for me">{"Show me"}</button>
                        </div>
                    }
                </div>
            }
        });
    let can_next = !t.is_last() && matches!(t.status, Status::Passed | Status::Failed(_));
    let auto = t.auto;
    html! {
        <section class="guide panel" id="guide" aria-labelledby="guide-title" data-step={n.to_string()}
            data-status={match t.status { Status::Waiting => "waiting", Status::Task => "task", Status::Passed => "passed", Status::Failed(_) => "failed" }}>
            <header class="panel-head">
                <h2 id="guide-title">{t.scenario.title.0.clone()}</h2>
                <a class="hint" href="./" title="Back to the free sandbox">{"Leave lesson"}</a>
            </header>
            <div class="guide-body">
                <div class="guide-progress" role="progressbar" aria-label="Lesson progress"
                    aria-valuemin="1" aria-valuemax={total.to_string()} aria-valuenow={n.to_string()}>
                    <div class="bar"><div class="fill" style={format!("width:{:.1}%", 100.0 * n as f64 / total as f64)}></div></div>
                    <span class="count">{format!("Step {n} of {total}")}</span>
                </div>
                if t.current == 0 {
                    <p class="guide-summary">{ markdown::render_inline(&t.scenario.summary) }</p>
                }
                if let Some(title) = &step.title {
                    <h3 class="guide-step-title">{title.clone()}</h3>
                }
                <div class="narration">{ markdown::render(&step.narration) }</div>
                {for task}
                {status}
            </div>
            <nav class="guide-buttons" aria-label="Lesson steps">
                <button type="button" id="guide-back" class="ghost" disabled={t.current == 0}
                    onclick={p.on_back.reform(|_| ())} title="Replay the run to the previous step">{"◀ Back"}</button>
                <button type="button" id="guide-restart" class="ghost" disabled={t.current == 0}
                    onclick={p.on_restart.reform(|_| ())}>{"↺ Restart"}</button>
                <label class="guide-auto" title="Go on to the next step by itself after a pause to read">
                    <input type="checkbox" id="guide-auto" checked={auto}
                        onchange={p.on_auto.reform(move |_| !auto)} />
                    {"Auto-play"}
                </label>
                <button type="button" id="guide-next" class="primary" disabled={!can_next}
                    onclick={p.on_next.reform(|_| ())}>{"Next ▶"}</button>
            </nav>
            <style>{highlight_css(&p.highlight)}</style>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::highlight_css;

    #[test]
    fn the_highlight_style_names_only_the_given_components() {
        let css = highlight_css(&["kubelet@worker-1".into(), "etcd-control-plane-2".into()]);
        assert!(css.contains("[data-component=\"kubelet@worker-1\"]"));
        assert!(css.contains("[data-component=\"etcd-control-plane-2\"] .chip"));
        assert!(css.starts_with("svg.diagram .component, svg.diagram .kubectl { opacity: 0.38; }"));
        assert_eq!(highlight_css(&[]), "");
    }

    #[test]
    fn a_component_name_cannot_break_out_of_the_selector() {
        let css = highlight_css(&["x\"] { } body { display:none } [a=\"".into()]);
        assert!(!css.contains("display:none"));
        assert!(!css.contains("body {"));
    }
}
