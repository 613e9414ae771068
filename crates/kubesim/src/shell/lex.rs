//! Splitting a command line into words, as a POSIX shell would for the
//! commands people type: whitespace separates words, single quotes keep
//! everything literally, double quotes keep spaces and honour `\"` and `\\`,
//! a backslash outside quotes escapes the next character, and `#` at the start
//! of a word begins a comment.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LexError {
    #[error("unterminated {0} quote")]
    UnterminatedQuote(&'static str),
    #[error("a trailing backslash escapes nothing")]
    TrailingBackslash,
}

/// Splits `line` into words.
pub fn split_words(line: &str) -> Result<Vec<String>, LexError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
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
    Ok(words)
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
}
