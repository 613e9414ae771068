//! The YAML editor: a manifest typed or pasted into a text area with line
//! numbers, applied (or validated with a server-side dry run) through the
//! same path as the console's `kubectl apply -f -`. What kubectl printed is
//! listed below the text, each error at the line it concerns (marked in the
//! gutter and behind the text; a click on it moves the caret there).
//!
//! `kubectl edit TYPE NAME` typed in the console opens the object here, as
//! kubectl opens it in `$EDITOR`; Save then sends what changed as the
//! `kubectl patch` command that does it (recorded in the run like any
//! command, so a replay or a shared link repeats it).

use crate::manifest_lines::Annotation;
use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// What the last Apply or Validate printed, placed on lines of the text.
#[derive(Clone, Debug, PartialEq)]
pub struct EditorResult {
    /// Counts the editor's runs (a new result is told from the same text
    /// printed again).
    pub seq: u64,
    pub dry_run: bool,
    pub ok: bool,
    pub annotations: Vec<Annotation>,
}

/// An object opened by `kubectl edit` in the console: the editor holds the
/// file kubectl would open, and saving sends what changed as a patch.
#[derive(Clone, Debug, PartialEq)]
pub struct EditSession {
    /// Counts the edits (a new one replaces the text).
    pub seq: u64,
    /// The command typed (`kubectl edit deploy web`).
    pub command: String,
    /// The file as opened: kubectl's header and the object's YAML.
    pub original: String,
}

#[derive(Properties, PartialEq)]
pub struct EditorProps {
    pub result: Option<Rc<EditorResult>>,
    /// The object being edited, if the editor was opened by `kubectl edit`.
    #[prop_or_default]
    pub edit: Option<Rc<EditSession>>,
    /// Apply (`false`) or validate with a dry run (`true`) the text.
    pub on_submit: Callback<(String, bool)>,
    pub on_close: Callback<()>,
}

pub enum Msg {
    Input(String),
    Submit(bool),
    /// Puts the caret at a line and, if known, a column.
    GoTo(usize, Option<usize>),
}

pub struct Editor {
    text: String,
    area: NodeRef,
}

/// The byte offset where line `line` (0-based) of `text` starts, in UTF-16
/// units as the text area counts them.
fn line_start_utf16(text: &str, line: usize) -> u32 {
    let mut units = 0u32;
    let mut current = 0;
    for c in text.chars() {
        if current == line {
            break;
        }
        units += c.len_utf16() as u32;
        if c == '\n' {
            current += 1;
        }
    }
    units
}

/// The UTF-16 units of the first `column` characters of line `line`.
fn column_utf16(text: &str, line: usize, column: usize) -> u32 {
    text.lines()
        .nth(line)
        .map(|l| l.chars().take(column).map(|c| c.len_utf16() as u32).sum())
        .unwrap_or(0)
}

impl Component for Editor {
    type Message = Msg;
    type Properties = EditorProps;

    fn create(ctx: &Context<Self>) -> Self {
        Editor {
            text: ctx
                .props()
                .edit
                .as_ref()
                .map(|e| e.original.clone())
                .unwrap_or_default(),
            area: NodeRef::default(),
        }
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &EditorProps) -> bool {
        // A new `kubectl edit` replaces the text with its file.
        let seq = |p: &EditorProps| p.edit.as_ref().map(|e| e.seq);
        if seq(ctx.props()) != seq(old) {
            if let Some(e) = &ctx.props().edit {
                self.text = e.original.clone();
            }
        }
        true
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Input(text) => {
                let lines_before = self.text.lines().count();
                self.text = text;
                // Only the gutter depends on the text: redraw when its
                // number of lines changed.
                self.text.lines().count() != lines_before
            }
            Msg::Submit(dry_run) => {
                ctx.props().on_submit.emit((self.text.clone(), dry_run));
                false
            }
            Msg::GoTo(line, column) => {
                if let Some(area) = self.area.cast::<HtmlTextAreaElement>() {
                    let at = line_start_utf16(&self.text, line)
                        + column_utf16(&self.text, line, column.unwrap_or(0));
                    let _ = area.focus();
                    let _ = area.set_selection_range(at, at);
                }
                false
            }
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, first: bool) {
        if first {
            if let Some(area) = self.area.cast::<HtmlTextAreaElement>() {
                let _ = area.focus();
            }
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let p = ctx.props();
        let link = ctx.link();
        let lines = self.text.lines().count().max(1) + usize::from(self.text.ends_with('\n'));
        let errors: Vec<&Annotation> = p
            .result
            .as_ref()
            .filter(|r| !r.ok)
            .map(|r| r.annotations.iter().collect())
            .unwrap_or_default();
        let error_at = |n: usize| errors.iter().find(|a| a.line == Some(n));
        let oninput = link.callback(|e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            Msg::Input(area.value())
        });
        let onkeydown = {
            let close = p.on_close.clone();
            link.batch_callback(move |e: KeyboardEvent| {
                if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                    e.prevent_default();
                    Some(Msg::Submit(e.shift_key()))
                } else {
                    if e.key() == "Escape" {
                        e.prevent_default();
                        close.emit(());
                    }
                    None
                }
            })
        };
        let verdict = p.result.as_ref().map(|r| {
            let editing = p.edit.is_some();
            let head = match (r.ok, r.dry_run) {
                (true, false) if editing => "No changes to save.",
                (false, false) if editing => "Not saved:",
                (true, true) => "Valid: the API server accepted it (dry run, nothing stored).",
                (true, false) => "Applied.",
                (false, true) => "Not valid:",
                (false, false) => "Not applied:",
            };
            html! {
                <div class={classes!("editor-result", if r.ok { "ok" } else { "failed" })}
                     id="editor-result" data-seq={r.seq.to_string()} role="status" aria-live="polite">
                    <p class="editor-verdict">{head}</p>
                    <ul class="editor-messages">
                        { for r.annotations.iter().map(|a| {
                            let class = if r.ok { "editor-ok" } else { "editor-error" };
                            let column = a.column;
                            match a.line {
                                Some(n) => html! {
                                    <li class={class} data-line={(n + 1).to_string()}
                                        data-column={column.map(|c| (c + 1).to_string())}>
                                        <button type="button" class="editor-goto"
                                            aria-label={match column {
                                                Some(c) => format!("Go to line {}, column {}", n + 1, c + 1),
                                                None => format!("Go to line {}", n + 1),
                                            }}
                                            onclick={link.callback(move |_| Msg::GoTo(n, column))}>
                                            {match column {
                                                Some(c) => format!("line {}:{}", n + 1, c + 1),
                                                None => format!("line {}", n + 1),
                                            }}
                                        </button>
                                        <span class="editor-message">{a.message.clone()}</span>
                                    </li>
                                },
                                None => html! {
                                    <li class={class}><span class="editor-message">{a.message.clone()}</span></li>
                                },
                            }
                        }) }
                    </ul>
                </div>
            }
        });
        html! {
            <section class="editor panel" id="yaml-editor" role="dialog" aria-modal="false"
                     aria-labelledby="editor-title">
                <header class="panel-head">
                    { match &p.edit {
                        Some(e) => html! {
                            <>
                                <h2 id="editor-title">{"Editing: "}<code>{e.command.clone()}</code></h2>
                                <span class="hint">{"Save sends what changed as a patch · Ctrl+Enter saves · Esc closes"}</span>
                            </>
                        },
                        None => html! {
                            <>
                                <h2 id="editor-title">{"YAML editor"}</h2>
                                <span class="hint">{"kubectl apply -f - · Ctrl+Enter applies · Esc closes"}</span>
                            </>
                        },
                    } }
                    <button type="button" class="close" id="editor-close" aria-label="Close the YAML editor"
                        onclick={p.on_close.reform(|_| ())}>{"×"}</button>
                </header>
                <div class="editor-body">
                    <pre class="editor-gutter" aria-hidden="true">
                        { for (0..lines).map(|n| {
                            let err = error_at(n);
                            html! {
                                <span class={classes!("gutter-line", err.is_some().then_some("error"))}
                                      title={err.map(|a| a.message.clone())}>
                                    {(n + 1).to_string()}
                                </span>
                            }
                        }) }
                    </pre>
                    <div class="editor-code">
                        { for errors.iter().filter_map(|a| a.line).map(|n| html! {
                            <div class="line-mark" aria-hidden="true"
                                 style={format!("top: calc({n} * 1.5em + 0.5rem)")}></div>
                        }) }
                        // The caret under the character where the YAML
                        // parser stopped (the text area's padding is 10px).
                        { for errors.iter().filter_map(|a| Some((a.line?, a.column?))).map(|(n, c)| html! {
                            <div class="col-mark" aria-hidden="true" data-line={(n + 1).to_string()} data-column={(c + 1).to_string()}
                                 style={format!("top: calc({n} * 1.5em + 0.5rem); left: calc(10px + {c}ch)")}></div>
                        }) }
                        // Controlled: Yew would empty a text area without a
                        // value when it redraws the editor.
                        <textarea id="editor-input" ref={self.area.clone()} spellcheck="false"
                            value={self.text.clone()}
                            autocomplete="off" autocapitalize="off" wrap="off"
                            rows={(lines + 1).to_string()}
                            aria-label="Manifest (YAML): Ctrl+Enter applies it, Ctrl+Shift+Enter validates it"
                            aria-describedby="editor-result"
                            aria-invalid={(!errors.is_empty()).to_string()}
                            placeholder={"apiVersion: apps/v1\nkind: Deployment\n…"}
                            {oninput} {onkeydown} />
                    </div>
                </div>
                <div class="editor-actions">
                    <button type="button" id="editor-apply" class="primary"
                        onclick={link.callback(|_| Msg::Submit(false))}>
                        {if p.edit.is_some() { "Save" } else { "Apply" }}
                    </button>
                    if p.edit.is_none() {
                        <button type="button" id="editor-validate"
                            title="kubectl apply --dry-run=server: the API server validates it and stores nothing"
                            onclick={link.callback(|_| Msg::Submit(true))}>{"Validate (dry run)"}</button>
                    }
                </div>
                { for verdict }
            </section>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{column_utf16, line_start_utf16};

    #[test]
    fn the_caret_of_a_line_counts_utf16_units() {
        assert_eq!(line_start_utf16("a\nbc\nd", 0), 0);
        assert_eq!(line_start_utf16("a\nbc\nd", 2), 5);
        // An astral character is two units.
        assert_eq!(line_start_utf16("😀\nx", 1), 3);
        assert_eq!(line_start_utf16("a", 5), 1);
    }

    #[test]
    fn the_caret_of_a_column_counts_utf16_units_on_its_line() {
        assert_eq!(column_utf16("ab\ncdef", 1, 2), 2);
        assert_eq!(column_utf16("ab\n😀x", 1, 2), 3);
        assert_eq!(column_utf16("ab", 4, 2), 0);
    }
}
