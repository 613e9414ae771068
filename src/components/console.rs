//! The console: the command language (`kubectl ...`, `sim ...`) typed or
//! pasted, with history and multi-line input for `kubectl apply -f -` ...
//! `---end`.

use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// One command and what it printed.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub input: String,
    pub output: String,
    pub ok: bool,
}

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub transcript: Rc<Vec<Entry>>,
    pub on_run: Callback<String>,
    /// Whether commands can run (the core's shell is wired).
    pub available: bool,
    /// The `kubectl get -w` holding a watch open (its rows keep arriving).
    #[prop_or_default]
    pub watching: Option<String>,
    /// Ctrl+C or Stop: interrupt the watch.
    #[prop_or_default]
    pub on_interrupt: Callback<()>,
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
}

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
    match e.key().as_str() {
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
}

impl Console {
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
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Input(text) => {
                self.text = text;
                false
            }
            Msg::Run => {
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
                     role="log" aria-live="polite" aria-label="Console output" tabindex="0">
                    if p.transcript.is_empty() {
                        <p class="console-welcome">
                            if p.available {
                                {"Type a command and press Enter (Shift+Enter for a new line, ↑/↓ for history). To create objects, paste "}
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
                        aria-label="Command (Enter runs it, Shift+Enter adds a line, Up and Down walk the history)"
                        placeholder={if p.available { "kubectl get namespaces" } else { "not connected yet" }}
                        disabled={!p.available}
                        {oninput} {onkeydown} />
                    <button type="submit" id="console-run" disabled={!p.available} aria-label="Run the command">{"Run"}</button>
                </form>
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
