//! Where in a manifest's text an error from `kubectl apply` points: the
//! YAML editor shows each error at the line it concerns.
//!
//! kubectl and kube-apiserver name fields by path
//! (`spec.template.spec.containers[0].imagee`: strict decoding's unknown
//! fields, a 422's causes, a JSON type error), and a YAML syntax error by
//! its line within the document. A path is found in the text by following
//! the YAML's indentation: a key is looked for at its mapping's column, an
//! index counts the list's `- ` items. Block YAML only (what people write
//! for manifests); a path through flow style (`{a: 1}`) or anchors stops
//! at the deepest key it could follow, which is still the nearest line.

use kubesim::api::{decode_each, DecodeError};

/// One error of an apply, and the line of the text (0-based) it concerns.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub line: Option<usize>,
    /// For a YAML syntax error: the column (0-based, in characters) of
    /// `line` where the parser stopped, when it stopped on that line.
    pub column: Option<usize>,
    pub message: String,
}

/// A line of YAML as far as paths care.
#[derive(Clone, Debug)]
struct Line {
    /// The column of the first character (a `-` or a key).
    indent: usize,
    /// The line starts a list item.
    dash: bool,
    /// The key on the line and its column (after a `- `).
    key: Option<(usize, String)>,
}

fn scan_line(raw: &str) -> Option<Line> {
    let raw = raw.trim_end_matches('\r');
    let indent = raw.len() - raw.trim_start_matches(' ').len();
    let content = &raw[indent..];
    if content.is_empty() || content.starts_with('#') {
        return None;
    }
    let (dash, col, rest) = if content == "-" {
        (true, indent + 1, "")
    } else if let Some(r) = content.strip_prefix("- ") {
        let pad = r.len() - r.trim_start_matches(' ').len();
        (true, indent + 2 + pad, r.trim_start_matches(' '))
    } else {
        (false, indent, content)
    };
    let key = rest
        .find(": ")
        .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))
        .map(|end| rest[..end].trim().trim_matches(['"', '\'']).to_string())
        .filter(|k| !k.is_empty() && !k.starts_with(['{', '[', '-']))
        .map(|k| (col, k));
    Some(Line { indent, dash, key })
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`.
fn parse_path(path: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    let flush = |key: &mut String, steps: &mut Vec<Step>| {
        if !key.is_empty() {
            steps.push(Step::Key(std::mem::take(key)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut key, &mut steps),
            '[' => {
                flush(&mut key, &mut steps);
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                steps.push(match inner.parse() {
                    Ok(i) => Step::Index(i),
                    Err(_) => Step::Key(inner),
                });
            }
            c => key.push(c),
        }
    }
    flush(&mut key, &mut steps);
    steps
}

/// The documents of a manifest (`---` lines separate them, as
/// apimachinery's YAMLReader splits): each one's range of lines.
fn documents(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut docs = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("---") {
            docs.push((start, i));
            start = i + 1;
        }
    }
    docs.push((start, lines.len()));
    docs.retain(|(a, b)| lines[*a..*b].iter().any(|l| scan_line(l).is_some()));
    docs
}

/// Follows `steps` through the lines `lo..hi`: the line of the deepest step
/// found and whether every step was.
fn follow(lines: &[Option<Line>], lo: usize, hi: usize, steps: &[Step]) -> (Option<usize>, bool) {
    let (mut lo, mut hi) = (lo, hi);
    let mut found = None;
    // Set when the range starts at a list item's own line: its key sits
    // after the dash.
    for step in steps {
        let in_range = || (lo..hi).filter_map(|i| lines[i].as_ref().map(|l| (i, l)));
        match step {
            Step::Key(k) => {
                let Some(col) = in_range().find_map(|(_, l)| l.key.as_ref().map(|(c, _)| *c))
                else {
                    return (found, false);
                };
                let Some(at) = in_range()
                    .find(|(_, l)| l.key.as_ref().is_some_and(|(c, key)| *c == col && key == k))
                    .map(|(i, _)| i)
                else {
                    return (found, false);
                };
                // The value's block: until a line at the key's column or
                // left of it (a list may sit at the key's own column).
                let end = (at + 1..hi)
                    .find(|&i| {
                        lines[i]
                            .as_ref()
                            .is_some_and(|l| l.indent < col || (l.indent == col && !l.dash))
                    })
                    .unwrap_or(hi);
                found = Some(at);
                (lo, hi) = (at + 1, end);
            }
            Step::Index(n) => {
                let Some(col) = in_range().find(|(_, l)| l.dash).map(|(_, l)| l.indent) else {
                    return (found, false);
                };
                let Some(at) = in_range()
                    .filter(|(_, l)| l.dash && l.indent == col)
                    .nth(*n)
                    .map(|(i, _)| i)
                else {
                    return (found, false);
                };
                let end = (at + 1..hi)
                    .find(|&i| lines[i].as_ref().is_some_and(|l| l.indent <= col))
                    .unwrap_or(hi);
                found = Some(at);
                (lo, hi) = (at, end);
            }
        }
    }
    (found, true)
}

/// The line (0-based) of the field `path` in `text`: in the first document
/// that has the whole path, else where the deepest part of it was found.
pub fn line_of_path(text: &str, path: &str) -> Option<usize> {
    let raw: Vec<&str> = text.lines().collect();
    let lines: Vec<Option<Line>> = raw.iter().map(|l| scan_line(l)).collect();
    let steps = parse_path(path);
    let mut best: Option<(usize, usize)> = None; // (depth proxy, line)
    for (lo, hi) in documents(&raw) {
        match follow(&lines, lo, hi, &steps) {
            (Some(line), true) => return Some(line),
            (Some(line), false) => {
                let depth = lines[line].as_ref().map_or(0, |l| l.indent + 1);
                if best.is_none_or(|(d, _)| depth > d) {
                    best = Some((depth, line));
                }
            }
            _ => {}
        }
    }
    best.map(|(_, line)| line)
}

/// The field paths an error line of kubectl names.
pub fn paths_in(message: &str) -> Vec<String> {
    let is_path = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-[]/".contains(c))
            && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    };
    let mut paths = Vec::new();
    // Strict decoding: unknown field "spec.replicass".
    for part in message.split("unknown field \"").skip(1) {
        if let Some(p) = part.split('"').next().filter(|p| is_path(p)) {
            paths.push(p.to_string());
        }
    }
    // A JSON type error: ... Go struct field DeploymentSpec.spec.replicas of type int32.
    for part in message.split("Go struct field ").skip(1) {
        if let Some(p) = part
            .split_whitespace()
            .next()
            .and_then(|p| p.split_once('.'))
            .map(|(_, p)| p)
            .filter(|p| is_path(p))
        {
            paths.push(p.to_string());
        }
    }
    // A 422: The Deployment "x" is invalid: [a.b: Required value, c: Invalid value: ...]
    if let Some((_, causes)) = message.split_once(" is invalid: ") {
        let causes = causes.trim_start_matches('[');
        for cause in std::iter::once(causes).chain(causes.split(", ").skip(1)) {
            if let Some((p, _)) = cause.split_once(": ") {
                if is_path(p) {
                    paths.push(p.to_string());
                }
            }
        }
    }
    paths.dedup();
    paths
}

/// The line (0-based) of a YAML syntax error in `text`: each document is
/// decoded on its own (the core's decoder, as `apply` does) and the first
/// to fail names its line within itself.
pub fn syntax_error_line(text: &str) -> Option<usize> {
    let raw: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut bounds = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        if l.starts_with("---") {
            bounds.push((start, i));
            start = i + 1;
        }
    }
    bounds.push((start, raw.len()));
    for (lo, hi) in bounds {
        let doc = raw[lo..hi].join("\n");
        for r in decode_each(&doc, "STDIN") {
            if let Err(DecodeError::Syntax { line, .. }) = r {
                return Some(lo + line.unwrap_or(1).saturating_sub(1).min(hi - lo));
            }
        }
    }
    None
}

/// Where (0-based line and column, in characters) the YAML parser stopped
/// on a syntax error in `text`: libyaml's problem mark, in the first
/// document that does not parse (documents split as `syntax_error_line`
/// splits them).
pub fn syntax_error_position(text: &str) -> Option<(usize, usize)> {
    let raw: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut bounds = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        if l.starts_with("---") {
            bounds.push((start, i));
            start = i + 1;
        }
    }
    bounds.push((start, raw.len()));
    for (lo, hi) in bounds {
        let doc = raw[lo..hi].join("\n");
        if let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&doc) {
            let loc = e.location()?;
            let line = (lo + loc.line().saturating_sub(1)).min(hi.saturating_sub(1).max(lo));
            let width = raw.get(line).map_or(0, |l| l.chars().count());
            return Some((line, loc.column().saturating_sub(1).min(width)));
        }
    }
    None
}

/// Each line of what `kubectl apply` printed, with the line of `text` it
/// concerns: the first field path it names, or for a syntax error its line.
pub fn annotate(text: &str, output: &str) -> Vec<Annotation> {
    let mut out = Vec::new();
    for message in output.lines().filter(|l| !l.trim().is_empty()) {
        let (line, column) = if message.contains("error converting YAML to JSON") {
            let line = syntax_error_line(text);
            // The caret goes where the parser stopped if that is on the
            // line kubectl names (go-yaml sometimes names the line of the
            // construct the parser was in instead).
            let column = syntax_error_position(text)
                .filter(|(l, _)| Some(*l) == line)
                .map(|(_, c)| c);
            (line, column)
        } else {
            (
                paths_in(message).iter().find_map(|p| line_of_path(text, p)),
                None,
            )
        };
        out.push(Annotation {
            line,
            column,
            message: message.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
";

    #[test]
    fn a_field_path_leads_to_its_key_through_mappings_and_lists() {
        assert_eq!(line_of_path(NGINX, "metadata.name"), Some(3));
        assert_eq!(line_of_path(NGINX, "spec.replicas"), Some(7));
        assert_eq!(
            line_of_path(NGINX, "spec.template.metadata.labels"),
            Some(13)
        );
        assert_eq!(
            line_of_path(NGINX, "spec.template.spec.containers[0]"),
            Some(17)
        );
        assert_eq!(
            line_of_path(NGINX, "spec.template.spec.containers[0].name"),
            Some(17)
        );
        assert_eq!(
            line_of_path(NGINX, "spec.template.spec.containers[0].image"),
            Some(18)
        );
        assert_eq!(
            line_of_path(
                NGINX,
                "spec.template.spec.containers[0].ports[0].containerPort"
            ),
            Some(20)
        );
        assert_eq!(
            line_of_path(NGINX, "spec.selector.matchLabels[app]"),
            Some(10)
        );
    }

    #[test]
    fn a_missing_field_points_at_the_deepest_part_found() {
        // No such container: the containers list.
        assert_eq!(
            line_of_path(NGINX, "spec.template.spec.containers[3].image"),
            Some(16)
        );
        assert_eq!(line_of_path(NGINX, "spec.strategy"), Some(6));
        assert_eq!(line_of_path(NGINX, "status"), None);
    }

    #[test]
    fn keys_of_the_same_name_deeper_down_are_not_taken_for_the_path() {
        // `metadata.labels` at the top, not the template's.
        assert_eq!(line_of_path(NGINX, "metadata.labels"), Some(4));
        // Indented lists, comments and blank lines.
        let text = "kind: Pod\n# a comment\nspec:\n  containers:\n    - name: a\n\n      image: x\n    - name: b\n      imagee: y\n";
        assert_eq!(line_of_path(text, "spec.containers[1].imagee"), Some(8));
        assert_eq!(line_of_path(text, "spec.containers[0].image"), Some(6));
    }

    #[test]
    fn the_document_that_has_the_path_is_chosen() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  portz: []\n";
        assert_eq!(line_of_path(text, "spec.portz"), Some(10));
        assert_eq!(line_of_path(text, "metadata.name"), Some(3));
    }

    #[test]
    fn kubectl_errors_name_their_field_paths() {
        assert_eq!(
            paths_in("Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.template.spec.containers[0].imagee\", unknown field \"spec.replicass\""),
            vec!["spec.template.spec.containers[0].imagee", "spec.replicass"]
        );
        assert_eq!(
            paths_in("The Deployment \"web\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.template.spec.containers[0].image: Required value]"),
            vec!["spec.replicas", "spec.template.spec.containers[0].image"]
        );
        assert_eq!(
            paths_in("The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"),
            vec!["metadata.name"]
        );
        assert_eq!(
            paths_in("... cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
            vec!["spec.replicas"]
        );
        assert!(paths_in("deployment.apps/web created").is_empty());
    }

    #[test]
    fn a_syntax_error_is_placed_at_its_line_in_its_document() {
        assert_eq!(
            syntax_error_line("apiVersion: v1\nkind: Pod\nmetadata: name: x\n"),
            Some(2)
        );
        let two = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: name: x\n";
        assert_eq!(syntax_error_line(two), Some(7));
        assert_eq!(syntax_error_line(NGINX), None);
    }

    #[test]
    fn every_printed_line_is_annotated_with_its_line_if_any() {
        let typo = NGINX.replace("        image: nginx", "        imagee: nginx");
        let out = "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.template.spec.containers[0].imagee\"";
        assert_eq!(
            annotate(&typo, out),
            vec![Annotation {
                line: Some(18),
                column: None,
                message: out.to_string()
            }]
        );
        assert_eq!(
            annotate(NGINX, "deployment.apps/nginx-deployment created"),
            vec![Annotation {
                line: None,
                column: None,
                message: "deployment.apps/nginx-deployment created".to_string()
            }]
        );
    }

    #[test]
    fn a_syntax_error_is_placed_at_its_column_where_the_parser_stopped() {
        // `name: x` after `metadata: ` is a mapping where a value must be:
        // libyaml stops at the second colon.
        let text = "apiVersion: v1\nkind: Pod\nmetadata: name: x\n";
        assert_eq!(syntax_error_position(text), Some((2, 14)));
        let out = "error: error parsing STDIN: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context";
        assert_eq!(
            annotate(text, out),
            vec![Annotation {
                line: Some(2),
                column: Some(14),
                message: out.to_string()
            }]
        );
        // In the second document, counted from the top of the text.
        let two = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: name: x\n";
        assert_eq!(syntax_error_position(two), Some((7, 14)));
        // A tab where indentation must be spaces.
        let tab = "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n";
        assert_eq!(syntax_error_position(tab).map(|(l, _)| l), Some(3));
        assert_eq!(syntax_error_position(NGINX), None);
    }

    #[test]
    fn a_field_error_has_a_line_but_no_column() {
        let out = "The Deployment \"nginx-deployment\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0";
        let a = annotate(NGINX, out);
        assert_eq!(a[0].line, Some(7));
        assert_eq!(a[0].column, None);
    }
}
