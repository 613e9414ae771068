//! The short markdown of a lesson's narration, drawn as HTML elements (never
//! as raw HTML, so a scenario file cannot inject markup): paragraphs, `-`
//! lists, `code`, **bold**, *emphasis* and [links](https://...).
//!
//! Written by hand because the narration uses only this much, and a full
//! CommonMark crate would add more to the page's download than the whole
//! lesson player.

use yew::prelude::*;

/// A piece of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Span {
    Text(String),
    Code(String),
    Strong(String),
    Em(String),
    Link { text: String, href: String },
}

/// A block of the narration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Span>),
    List(Vec<Vec<Span>>),
}

/// Splits the text into paragraphs (blank lines) and lists (lines starting
/// with `- ` or `* `); the lines of a paragraph or item are joined.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    fn flush_para(para: &mut Vec<&str>, out: &mut Vec<Block>) {
        if !para.is_empty() {
            out.push(Block::Paragraph(spans(&para.join(" "))));
            para.clear();
        }
    }
    fn flush_list(items: &mut Vec<String>, out: &mut Vec<Block>) {
        if !items.is_empty() {
            out.push(Block::List(items.iter().map(|i| spans(i)).collect()));
            items.clear();
        }
    }
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            flush_para(&mut para, &mut out);
            flush_list(&mut items, &mut out);
        } else if let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
            flush_para(&mut para, &mut out);
            items.push(item.to_string());
        } else if let (Some(last), true) = (items.last_mut(), line.starts_with(' ')) {
            // An indented line continues the list item.
            last.push(' ');
            last.push_str(t);
        } else {
            flush_list(&mut items, &mut out);
            para.push(t);
        }
    }
    flush_para(&mut para, &mut out);
    flush_list(&mut items, &mut out);
    out
}

/// The inline pieces of one line: `code` first (nothing inside it is
/// markup), then **strong**, *em* and [text](http...) links.
pub fn spans(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut plain = String::new();
    let push_text = |plain: &mut String, out: &mut Vec<Span>| {
        if !plain.is_empty() {
            out.push(Span::Text(std::mem::take(plain)));
        }
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let closing = |open: &str, close: &str| -> Option<(String, usize)> {
            let inner = rest.strip_prefix(open)?;
            let end = inner.find(close)?;
            (end > 0).then(|| (inner[..end].to_string(), open.len() + end + close.len()))
        };
        if c == '`' {
            if let Some((code, used)) = closing("`", "`") {
                push_text(&mut plain, &mut out);
                out.push(Span::Code(code));
                rest = &rest[used..];
                continue;
            }
        } else if rest.starts_with("**") {
            if let Some((s, used)) = closing("**", "**") {
                push_text(&mut plain, &mut out);
                out.push(Span::Strong(s));
                rest = &rest[used..];
                continue;
            }
        } else if c == '*' || c == '_' {
            let mark = if c == '*' { "*" } else { "_" };
            // `_` only as emphasis at a word start (not in snake_case).
            let at_word_start = plain.is_empty() || plain.ends_with([' ', '(']);
            if c == '*' || at_word_start {
                if let Some((s, used)) = closing(mark, mark) {
                    if !s.starts_with(' ') {
                        push_text(&mut plain, &mut out);
                        out.push(Span::Em(s));
                        rest = &rest[used..];
                        continue;
                    }
                }
            }
        } else if c == '[' {
            if let Some((label, used)) = closing("[", "](") {
                let after = &rest[used..];
                if let Some(end) = after.find(')') {
                    let href = &after[..end];
                    if href.starts_with("https://") || href.starts_with("http://") {
                        push_text(&mut plain, &mut out);
                        out.push(Span::Link {
                            text: label,
                            href: href.to_string(),
                        });
                        rest = &after[end + 1..];
                        continue;
                    }
                }
            }
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    push_text(&mut plain, &mut out);
    out
}

fn span_html(s: &Span) -> Html {
    match s {
        Span::Text(t) => html! { {t.clone()} },
        Span::Code(t) => html! { <code>{t.clone()}</code> },
        Span::Strong(t) => html! { <strong>{t.clone()}</strong> },
        Span::Em(t) => html! { <em>{t.clone()}</em> },
        Span::Link { text, href } => html! {
            <a href={href.clone()} target="_blank" rel="noopener noreferrer">{text.clone()}</a>
        },
    }
}

/// One line of markdown (a task, a hint, a summary) as inline HTML.
pub fn render_inline(text: &str) -> Html {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    html! { { for spans(&joined).iter().map(span_html) } }
}

/// The narration as HTML.
pub fn render(text: &str) -> Html {
    html! {
        { for blocks(text).into_iter().map(|b| match b {
            Block::Paragraph(s) => html! { <p>{ for s.iter().map(span_html) }</p> },
            Block::List(items) => html! {
                <ul>{ for items.iter().map(|i| html! { <li>{ for i.iter().map(span_html) }</li> }) }</ul>
            },
        }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Span {
        Span::Text(s.into())
    }

    #[test]
    fn code_bold_and_emphasis_become_spans() {
        assert_eq!(
            spans("the **scheduler** binds `nginx` to *one* node"),
            vec![
                t("the "),
                Span::Strong("scheduler".into()),
                t(" binds "),
                Span::Code("nginx".into()),
                t(" to "),
                Span::Em("one".into()),
                t(" node"),
            ]
        );
    }

    #[test]
    fn markup_inside_code_stays_literal() {
        assert_eq!(
            spans("`kubectl get pods -o jsonpath='{.items[*].metadata.name}'`"),
            vec![Span::Code(
                "kubectl get pods -o jsonpath='{.items[*].metadata.name}'".into()
            )]
        );
    }

    #[test]
    fn unclosed_marks_and_snake_case_are_plain_text() {
        assert_eq!(spans("2 * 3 and a_b_c"), vec![t("2 * 3 and a_b_c")]);
        assert_eq!(spans("a ` alone"), vec![t("a ` alone")]);
    }

    #[test]
    fn only_web_links_become_links() {
        assert_eq!(
            spans("see [the docs](https://kubernetes.io/docs/) or [x](javascript:alert(1))"),
            vec![
                t("see "),
                Span::Link {
                    text: "the docs".into(),
                    href: "https://kubernetes.io/docs/".into()
                },
                t(" or [x](javascript:alert(1))"),
            ]
        );
    }

    #[test]
    fn blank_lines_separate_paragraphs_and_dashes_make_lists() {
        let b = blocks("One line\nand its continuation.\n\n- first\n  continued\n- second\n\nEnd.");
        assert_eq!(
            b,
            vec![
                Block::Paragraph(vec![t("One line and its continuation.")]),
                Block::List(vec![vec![t("first continued")], vec![t("second")]]),
                Block::Paragraph(vec![t("End.")]),
            ]
        );
    }
}
