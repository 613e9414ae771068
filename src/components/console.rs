//! The console: the command language (`kubectl ...`, `sim ...`) typed or
//! pasted, with history, Tab completion and multi-line input for
//! `kubectl apply -f -` ... `---end`.
//!
//! Tab asks the core (`kubesim::shell::complete`, through the page, which
//! holds the cluster) for the words that fit under the caret: the common
//! prefix goes in at once, and when several words fit they are listed under
//! the prompt, as bash lists them. Tab keeps the focus in the console while
//! there is something to complete; on an empty prompt, or right after
//! Escape, it moves the focus on as usual, and Shift+Tab always moves back.

use kubesim::shell::Completion;
use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// One command and what it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub input: String,
    pub output: String,
    pub ok: bool,
}

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub transcript: Rc<Vec<Entry>>,
    /// How many commands have been answered since the page opened (the
    /// transcript keeps only the last ones): `data-answered`, which a test
    /// or benchmark waits on.
    #[prop_or_default]
    pub answered: u64,
    pub on_run: Callback<String>,
    /// Whether commands can run (the core's shell is wired).
    pub available: bool,
    /// The `kubectl get -w` holding a watch open (its rows keep arriving).
    #[prop_or_default]
    pub watching: Option<String>,
    /// Ctrl+C or Stop: interrupt the watch.
    #[prop_or_default]
    pub on_interrupt: Callback<()>,
    /// Tab: the text and the caret (a byte offset) to complete.
    #[prop_or_default]
    pub on_complete: Callback<(String, usize)>,
    /// The answer to the last Tab.
    #[prop_or_default]
    pub completion: Option<Rc<CompletionReply>>,
}

/// What the core offered for a Tab, with the text and caret it was asked
/// about (the console applies it only if the text is still the same).
#[derive(Clone, Debug, PartialEq)]
pub struct CompletionReply {
    /// Counts the Tabs answered: the same question asked twice (after the
    /// text was edited back) is a new answer to apply.
    pub seq: u64,
    pub text: String,
    pub caret: usize,
    pub completion: Completion,
}

/// Commands offered as one-click examples.
const EXAMPLES: [&str; 5] = [
    "kubectl get namespaces",
    "sim status",
    "sim fault etcd/leader crash",
    "sim heal all",
    "sim advance 10s",
];

/// Whether an output is a kubectl table (kept on one line per row and
/// scrolled sideways, as a wide terminal shows it; prose still wraps).
fn is_table(output: &str) -> bool {
    let head = output.lines().next().unwrap_or_default();
    (head.starts_with("NAME ") || head.starts_with("NAMESPACE ") || head.starts_with("LAST SEEN "))
        && head.contains("   ")
}

/// Whether `text` is a complete script: a `-f -` must be followed by its
/// `---end` line before the script can run.
pub fn complete(text: &str) -> bool {
    let mut open = false;
    for line in text.lines() {
        let t = line.trim();
        if open {
            if t == "---end" {
                open = false;
            }
        } else if t
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w == ["-f", "-"])
        {
            open = true;
        }
    }
    !open
}

pub enum Msg {
    Input(String),
    /// Enter on a complete script: the text as it was when the key went down.
    Submit(String),
    /// Up on the first line of the input: the older command.
    HistoryUp(String),
    /// Down on the last line while browsing: the newer command.
    HistoryDown,
    /// Ctrl+C with nothing selected: interrupt a running watch.
    Interrupt,
    Run,
    Example(&'static str),
    /// Tab with something before the caret: complete it.
    Complete(String, usize),
    /// Escape: close the list of completions (and let the next Tab leave).
    Dismiss,
    /// A listed completion, clicked.
    Pick(String),
}

/// Set on the input by Escape: the next Tab moves the focus on instead of
/// completing. Kept on the element so the key after Escape sees it at once.
const LEAVE_ON_TAB: &str = "data-leave-on-tab";

/// What a key press in the input means, decided while the event is being
/// dispatched. Yew runs messages later (it yields to the browser while a
/// frame is busy), so reading the textarea or calling `preventDefault` in
/// `update` is too late: by then more keys may have been typed, and the
/// browser has already inserted the newline.
fn on_key(e: &KeyboardEvent, has_history: bool, browsing: bool) -> Option<Msg> {
    let area: HtmlTextAreaElement = e.target_dyn_into()?;
    let value = area.value();
    // The caret counts UTF-16 units; split at the char it falls on (slicing
    // a str by that count could land inside a char).
    let caret16 = area.selection_start().ok().flatten().unwrap_or(0) as usize;
    let mut units = 0;
    let caret = value
        .char_indices()
        .find(|(_, c)| {
            let before = units;
            units += c.len_utf16();
            before >= caret16
        })
        .map(|(i, _)| i)
        .unwrap_or(value.len());
    let selected = area.selection_end().ok().flatten().unwrap_or(0) as usize != caret16;
    let leave = area.has_attribute(LEAVE_ON_TAB);
    let _ = area.remove_attribute(LEAVE_ON_TAB);
    match e.key().as_str() {
        "Escape" => {
            let _ = area.set_attribute(LEAVE_ON_TAB, "");
            Some(Msg::Dismiss)
        }
        // Tab completes what is before the caret; with nothing there (an
        // empty prompt), after Escape, or with a modifier, it is the
        // browser's: the focus moves on.
        "Tab"
            if !leave
                && !e.shift_key()
                && !e.ctrl_key()
                && !e.alt_key()
                && !e.meta_key()
                && !value[..caret]
                    .rsplit('\n')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .is_empty() =>
        {
            e.prevent_default();
            Some(Msg::Complete(value, caret))
        }
        "c" | "C" if e.ctrl_key() && !selected => {
            e.prevent_default();
            Some(Msg::Interrupt)
        }
        "Enter" if !e.shift_key() && complete(&value) => {
            e.prevent_default();
            // Empty at once, so a key handled before the next render
            // cannot submit the same script again.
            area.set_value("");
            Some(Msg::Submit(value))
        }
        // Up on the first line, down on the last, walk the history.
        "ArrowUp" if has_history && !value[..caret].contains('\n') => {
            e.prevent_default();
            Some(Msg::HistoryUp(value))
        }
        "ArrowDown" if browsing && !value[caret..].contains('\n') => {
            e.prevent_default();
            Some(Msg::HistoryDown)
        }
        _ => None,
    }
}

pub struct Console {
    text: String,
    history: Vec<String>,
    /// Position while browsing history (None: editing a new command).
    cursor: Option<usize>,
    /// What was being typed before browsing history.
    draft: String,
    input: NodeRef,
    output: NodeRef,
    /// Where to put the caret after the next render (a byte offset).
    caret: Option<usize>,
    /// The completions listed under the prompt.
    listed: Vec<String>,
    /// The last Tab found nothing to offer.
    no_match: bool,
    /// Where the completed word starts and the caret after it, for a click
    /// on a listed completion.
    word_at: (usize, usize),
}

impl Console {
    /// Puts a Tab's answer in place, if the text is still the one it was
    /// asked about.
    fn apply(&mut self, reply: &CompletionReply) -> bool {
        if reply.text != self.text {
            return false;
        }
        let c = &reply.completion;
        let (text, caret) = c.apply(&reply.text, reply.caret);
        self.text = text;
        self.caret = Some(caret);
        self.word_at = (c.start, caret);
        self.no_match = c.candidates.is_empty();
        self.listed = if c.candidates.len() > 1 {
            c.candidates.clone()
        } else {
            Vec::new()
        };
        true
    }

    fn run(&mut self, ctx: &Context<Self>) {
        let text = self.text.trim_end().to_string();
        if text.trim().is_empty() {
            return;
        }
        if self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.cursor = None;
        self.text.clear();
        ctx.props().on_run.emit(text);
    }
}

impl Component for Console {
    type Message = Msg;
    type Properties = ConsoleProps;

    fn create(_ctx: &Context<Self>) -> Self {
        Console {
            text: String::new(),
            history: Vec::new(),
            cursor: None,
            draft: String::new(),
            input: NodeRef::default(),
            output: NodeRef::default(),
            caret: None,
            listed: Vec::new(),
            no_match: false,
            word_at: (0, 0),
        }
    }

    fn changed(&mut self, ctx: &Context<Self>, old: &Self::Properties) -> bool {
        let new = &ctx.props().completion;
        if new != &old.completion {
            if let Some(reply) = new.clone() {
                self.apply(&reply);
            }
        }
        true
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Input(text) => {
                self.text = text;
                // Typing closes the list of completions.
                let shown = !self.listed.is_empty() || self.no_match;
                self.listed.clear();
                self.no_match = false;
                shown
            }
            Msg::Complete(text, caret) => {
                self.text = text.clone();
                ctx.props().on_complete.emit((text, caret));
                false
            }
            Msg::Dismiss => {
                let shown = !self.listed.is_empty() || self.no_match;
                self.listed.clear();
                self.no_match = false;
                shown
            }
            Msg::Pick(word) => {
                let (start, caret) = self.word_at;
                let pick = Completion {
                    start,
                    word: self.text.get(start..caret).unwrap_or_default().to_string(),
                    candidates: vec![word.clone()],
                    prefix: word,
                };
                let (text, caret) = pick.apply(&self.text, caret);
                self.text = text;
                self.caret = Some(caret);
                self.listed.clear();
                true
            }
            Msg::Run => {
                self.listed.clear();
                self.no_match = false;
                self.run(ctx);
                true
            }
            Msg::Example(cmd) => {
                self.text = cmd.to_string();
                self.run(ctx);
                true
            }
            Msg::Interrupt => {
                ctx.props().on_interrupt.emit(());
                false
            }
            Msg::Submit(text) => {
                self.listed.clear();
                self.no_match = false;
                self.text = text;
                self.run(ctx);
                true
            }
            Msg::HistoryUp(draft) => {
                let Some(last) = self.history.len().checked_sub(1) else {
                    return false;
                };
                let i = match self.cursor {
                    None => {
                        self.draft = draft;
                        last
                    }
                    Some(i) => i.saturating_sub(1),
                };
                self.cursor = Some(i);
                self.text = self.history[i].clone();
                true
            }
            Msg::HistoryDown => {
                let Some(i) = self.cursor else { return false };
                if i + 1 < self.history.len() {
                    self.cursor = Some(i + 1);
                    self.text = self.history[i + 1].clone();
                } else {
                    self.cursor = None;
                    self.text = std::mem::take(&mut self.draft);
                }
                true
            }
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first: bool) {
        if let Some(out) = self.output.cast::<web_sys::Element>() {
            out.set_scroll_top(out.scroll_height());
        }
        if let Some(area) = self.input.cast::<HtmlTextAreaElement>() {
            if area.value() != self.text {
                area.set_value(&self.text);
            }
            // Grow with the text, up to a limit (CSS caps the height).
            let lines = self.text.lines().count().clamp(1, 12);
            let _ = area.set_attribute("rows", &lines.to_string());
            if let Some(caret) = self.caret.take() {
                // The DOM counts the caret in UTF-16 units.
                let at = self
                    .text
                    .get(..caret)
                    .unwrap_or(&self.text)
                    .encode_utf16()
                    .count() as u32;
                let _ = area.set_selection_range(at, at);
                let _ = area.focus();
            }
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let p = ctx.props();
        let link = ctx.link();
        let oninput = link.callback(|e: InputEvent| {
            let area: HtmlTextAreaElement = e.target_unchecked_into();
            Msg::Input(area.value())
        });
        let (has_history, browsing) = (!self.history.is_empty(), self.cursor.is_some());
        let onkeydown =
            link.batch_callback(move |e: KeyboardEvent| on_key(&e, has_history, browsing));
        html! {
            <section class="console panel" aria-labelledby="console-title">
                <header class="panel-head">
                    <h2 id="console-title">{"Console"}</h2>
                    <span class="hint">{"kubectl … · sim … · help"}</span>
                </header>
                <div class="console-output" ref={self.output.clone()} id="console-output"
                     data-answered={p.answered.to_string()}
                     role="log" aria-live="polite" aria-label="Console output" tabindex="0">
                    if p.transcript.is_empty() {
                        <p class="console-welcome">
                            if p.available {
                                {"Type a command and press Enter (Shift+Enter for a new line, ↑/↓ for history, Tab to complete). To create objects, paste "}
                                <code>{"kubectl apply -f -"}</code>{", a YAML document and a line "}<code>{"---end"}</code>{"."}
                            } else {
                                {"The console is not connected to the simulation yet in this build."}
                            }
                        </p>
                    }
                    { for p.transcript.iter().map(|e| html! {
                        <div class={classes!("console-entry", (!e.ok).then_some("failed"))}>
                            <pre class="console-input"><span class="ps1" aria-hidden="true">{"$ "}</span>{&e.input}</pre>
                            if !e.output.is_empty() {
                                <pre class={classes!("console-result", is_table(&e.output).then_some("table"))}>{&e.output}</pre>
                            }
                        </div>
                    }) }
                </div>
                if let Some(cmd) = &p.watching {
                    <div class="console-watching" role="status">
                        <span class="spinner-dot" aria-hidden="true"></span>
                        <code>{cmd.clone()}</code><span>{"watching…"}</span>
                        <button type="button" id="console-stop" onclick={p.on_interrupt.reform(|_| ())}
                            title="Interrupt it, as Ctrl+C does">{"Stop (Ctrl+C)"}</button>
                    </div>
                }
                <form class="console-form" onsubmit={link.callback(|e: SubmitEvent| { e.prevent_default(); Msg::Run })}>
                    <span class="ps1" aria-hidden="true">{"$"}</span>
                    <textarea id="console-input" ref={self.input.clone()} rows="1" spellcheck="false"
                        autocomplete="off" autocapitalize="off"
                        aria-label="Command (Enter runs it, Shift+Enter adds a line, Up and Down walk the history, Tab completes; Escape then Tab leaves)"
                        aria-controls="console-completions"
                        placeholder={if p.available { "kubectl get namespaces" } else { "not connected yet" }}
                        disabled={!p.available}
                        {oninput} {onkeydown} />
                    <button type="submit" id="console-run" disabled={!p.available} aria-label="Run the command">{"Run"}</button>
                </form>
                <div class="console-completions" aria-live="polite">
                    if !self.listed.is_empty() {
                        <ul id="console-completions" role="listbox"
                            aria-label={format!("{} completions (type more and press Tab, or click one)", self.listed.len())}>
                            { for self.listed.iter().map(|w| {
                                let word = w.clone();
                                html! {
                                    <li role="option" aria-selected="false"
                                        onmousedown={link.callback(move |e: MouseEvent| { e.prevent_default(); Msg::Pick(word.clone()) })}>
                                        {w.clone()}
                                    </li>
                                }
                            }) }
                        </ul>
                    } else if self.no_match {
                        <p id="console-completions" class="no-match">{"no completions"}</p>
                    }
                </div>
                <div class="examples" role="group" aria-label="Example commands">
                    { for EXAMPLES.iter().map(|cmd| html! {
                        <button type="button" class="example" disabled={!p.available}
                            onclick={link.callback(move |_| Msg::Example(cmd))}>{*cmd}</button>
                    }) }
                </div>
            </section>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::complete;

    #[test]
    fn kubectl_tables_are_told_from_prose() {
        assert!(super::is_table(
            "NAME    READY   STATUS\nweb     1/1     Running"
        ));
        assert!(!super::is_table(
            "Error from server (NotFound): pods \"x\" not found"
        ));
        assert!(!super::is_table("NAME is required"));
    }

    #[test]
    fn a_script_reading_a_manifest_is_complete_only_after_its_end_line() {
        assert!(complete("kubectl get pods"));
        assert!(!complete("kubectl apply -f -"));
        assert!(!complete(
            "kubectl apply -f -\napiVersion: v1\nkind: Namespace"
        ));
        assert!(complete("kubectl apply -f -\napiVersion: v1\n---end"));
        assert!(complete("kubectl apply -f manifest.yaml"));
    }
}
