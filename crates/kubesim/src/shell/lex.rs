//! Splitting a command line into words, as a POSIX shell would for the
//! commands people type: whitespace separates words, single quotes keep
//! everything literally, double quotes keep spaces and honour `\"` and `\\`,
//! a backslash outside quotes escapes the next character, and `#` at the start
//! of a word begins a comment.
//!
//! [`split_pipeline`] also reads bash's pipe: an unquoted, unescaped `|`
//! ends a stage (`kubectl get pods|grep web` too, as bash splits it), while a
//! quoted one (`-o jsonpath='{..}'`, `"a|b"`) or `\|` stays in its word. A
//! stage with no words is bash's syntax error. The other control operators
//! (`||`, `&&`, `;`, redirections) are not read: `||` is an error, the rest
//! stay literal characters of their words.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LexError {
    #[error("unterminated {0} quote")]
    UnterminatedQuote(&'static str),
    #[error("a trailing backslash escapes nothing")]
    TrailingBackslash,
    /// A `|` with no command before it (`| grep x`, `a | | b`), as bash
    /// words it.
    #[error("syntax error near unexpected token `|'")]
    EmptyStage,
    /// A `|` with no command after it (`kubectl get pods |`): bash would
    /// wait for the rest of the line; a line here is complete.
    #[error("syntax error: unexpected end of line after `|' (a pipe needs a command after it)")]
    TrailingPipe,
    /// `a || b`: bash's "or" list, which this shell does not run.
    #[error("syntax error near unexpected token `||' (this shell runs pipes, `a | b`, but not `||` lists)")]
    OrList,
}

/// Splits `line` into words. A `|` is an ordinary character here: this
/// reads one command's words (use [`split_pipeline`] for a whole line).
pub fn split_words(line: &str) -> Result<Vec<String>, LexError> {
    let mut stages = lex(line, false)?;
    Ok(stages.pop().unwrap_or_default())
}

/// Splits `line` into the words of each stage of its pipeline: one stage
/// for a line without an unquoted `|`, none for a blank or comment line.
pub fn split_pipeline(line: &str) -> Result<Vec<Vec<String>>, LexError> {
    lex(line, true)
}

fn lex(line: &str, pipes: bool) -> Result<Vec<Vec<String>>, LexError> {
    let mut stages: Vec<Vec<String>> = Vec::new();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // Whether the previous character was an unquoted `|` (for `||`).
    let mut after_pipe = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        let pipe_before = std::mem::take(&mut after_pipe);
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '|' if pipes => {
                if pipe_before {
                    return Err(LexError::OrList);
                }
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                if words.is_empty() {
                    return Err(LexError::EmptyStage);
                }
                stages.push(std::mem::take(&mut words));
                after_pipe = true;
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(LexError::UnterminatedQuote("single")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(LexError::UnterminatedQuote("double")),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(LexError::UnterminatedQuote("double")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err(LexError::TrailingBackslash),
                }
            }
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        if !stages.is_empty() {
            return Err(LexError::TrailingPipe);
        }
    } else {
        stages.push(words);
    }
    Ok(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(line: &str) -> Vec<String> {
        split_words(line).unwrap()
    }

    #[test]
    fn words_are_split_on_whitespace() {
        assert_eq!(w("  kubectl get   pods "), ["kubectl", "get", "pods"]);
    }

    #[test]
    fn single_quotes_keep_jsonpath_braces_and_spaces_literally() {
        assert_eq!(
            w("kubectl get pod x -o jsonpath='{.status.phase} {\"\\n\"}'"),
            [
                "kubectl",
                "get",
                "pod",
                "x",
                "-o",
                "jsonpath={.status.phase} {\"\\n\"}"
            ]
        );
    }

    #[test]
    fn double_quotes_keep_spaces_and_honour_escapes() {
        assert_eq!(
            w(r#"kubectl exec p -- sh -c "echo \"hi there\"; exit 1""#),
            [
                "kubectl",
                "exec",
                "p",
                "--",
                "sh",
                "-c",
                "echo \"hi there\"; exit 1"
            ]
        );
    }

    #[test]
    fn a_hash_at_the_start_of_a_word_begins_a_comment() {
        assert_eq!(
            w("sim advance 30s # wait for the lease"),
            ["sim", "advance", "30s"]
        );
        assert_eq!(
            w("kubectl label pod a x=y#z"),
            ["kubectl", "label", "pod", "a", "x=y#z"]
        );
        assert!(w("# only a comment").is_empty());
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            split_words("echo 'oops"),
            Err(LexError::UnterminatedQuote("single"))
        );
        assert_eq!(
            split_words("echo \"oops"),
            Err(LexError::UnterminatedQuote("double"))
        );
        assert_eq!(split_words("echo \\"), Err(LexError::TrailingBackslash));
    }

    #[test]
    fn empty_quotes_make_an_empty_word() {
        assert_eq!(
            w("kubectl annotate pod a note=''"),
            ["kubectl", "annotate", "pod", "a", "note="]
        );
        assert_eq!(w("x ''"), ["x", ""]);
    }

    fn stages(line: &str) -> Vec<Vec<String>> {
        split_pipeline(line).unwrap()
    }

    #[test]
    fn an_unquoted_pipe_separates_stages_even_glued_to_words() {
        assert_eq!(
            stages("kubectl get pods -A | grep coredns|wc -l"),
            [
                vec!["kubectl", "get", "pods", "-A"],
                vec!["grep", "coredns"],
                vec!["wc", "-l"]
            ]
        );
        assert_eq!(stages("a|b"), [["a"], ["b"]]);
    }

    #[test]
    fn a_quoted_or_escaped_pipe_stays_in_its_word() {
        assert_eq!(
            stages("kubectl get pods -o jsonpath='{.items[*].metadata.name}|x' | grep web"),
            [
                vec![
                    "kubectl",
                    "get",
                    "pods",
                    "-o",
                    "jsonpath={.items[*].metadata.name}|x"
                ],
                vec!["grep", "web"]
            ]
        );
        assert_eq!(stages(r#"grep "a|b" c\|d"#), [["grep", "a|b", "c|d"]]);
    }

    #[test]
    fn a_comment_still_ends_a_piped_line() {
        assert_eq!(
            stages("kubectl get pods | grep web # only the web pods | wc"),
            [vec!["kubectl", "get", "pods"], vec!["grep", "web"]]
        );
        assert!(stages("# a | b").is_empty());
    }

    #[test]
    fn an_empty_stage_is_bashs_syntax_error() {
        assert_eq!(split_pipeline("| grep x"), Err(LexError::EmptyStage));
        assert_eq!(split_pipeline("a | | b"), Err(LexError::EmptyStage));
        assert_eq!(
            split_pipeline("kubectl get pods |"),
            Err(LexError::TrailingPipe)
        );
        assert_eq!(split_pipeline("a | # x"), Err(LexError::TrailingPipe));
        assert_eq!(split_pipeline("a || b"), Err(LexError::OrList));
        assert_eq!(
            LexError::EmptyStage.to_string(),
            "syntax error near unexpected token `|'"
        );
    }

    #[test]
    fn split_words_keeps_a_pipe_as_an_ordinary_character() {
        assert_eq!(w("a | b"), ["a", "|", "b"]);
    }
}
