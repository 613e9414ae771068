//! `-o jsonpath=...`: kubectl's JSONPath templates
//! (`k8s.io/client-go/util/jsonpath`), which `sim until` reuses.
//!
//! Supported: text around `{...}` actions, `{.a.b}`, `$`, `@`, `..name`,
//! `[*]`, `.*`, `[n]` (negative from the end), `[a:b]`, `['key']`, names with
//! `\.` escapes, filters `[?(@.type=="Ready")]` with `== != < > <= >=` or a
//! bare existence test, `{range ...}...{end}` and string literals
//! (`{"\n"}`). Missing keys print nothing (kubectl's `--allow-missing-template-keys`
//! default). Results of one action are joined by spaces; maps and lists
//! print as compact JSON. Left out: unions (`[a,b]`), `{else}`, steps in
//! slices.

use serde_json::Value;
use std::cmp::Ordering;

/// A template that does not parse: `Display` reads like kubectl's
/// `error parsing jsonpath {.x, unclosed action`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("error parsing jsonpath {template}, {reason}")]
pub struct JsonPathError {
    pub template: String,
    pub reason: String,
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Root,
    Field(String),
    Recursive(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Filter(Vec<Step>, Option<(String, Value)>),
}

impl JsonPath {
    /// Parses a template such as `{.items[*].metadata.name}` or
    /// `{range .items[*]}{.metadata.name}{"\n"}{end}`.
    pub fn parse(template: &str) -> Result<JsonPath, JsonPathError> {
        let err = |reason: &str| JsonPathError {
            template: template.to_string(),
            reason: reason.to_string(),
        };
        let mut stack: Vec<(Vec<Step>, Vec<Node>)> = vec![(vec![], vec![])];
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '{' {
                text.push(c);
                continue;
            }
            let mut action = String::new();
            let mut quote: Option<char> = None;
            let mut closed = false;
            while let Some(a) = chars.next() {
                match (quote, a) {
                    (None, '}') => {
                        closed = true;
                        break;
                    }
                    (None, '"' | '\'') => quote = Some(a),
                    (Some(q), _) if a == q => quote = None,
                    (Some(_), '\\') => {
                        action.push(a);
                        if let Some(n) = chars.next() {
                            action.push(n);
                        }
                        continue;
                    }
                    _ => {}
                }
                action.push(a);
            }
            if !closed {
                return Err(err("unclosed action"));
            }
            let top = &mut stack.last_mut().ok_or_else(|| err("internal"))?.1;
            if !text.is_empty() {
                top.push(Node::Text(std::mem::take(&mut text)));
            }
            let action = action.trim();
            if action == "end" {
                if stack.len() < 2 {
                    return Err(err("not in range, nothing to end"));
                }
                let (steps, body) = stack.pop().ok_or_else(|| err("internal"))?;
                let parent = &mut stack.last_mut().ok_or_else(|| err("internal"))?.1;
                parent.push(Node::Range(steps, body));
            } else if let Some(path) = action.strip_prefix("range ") {
                let steps = parse_path(path.trim()).map_err(|r| err(&r))?;
                stack.push((steps, vec![]));
            } else if action.starts_with('"') || action.starts_with('\'') {
                top.push(Node::Text(unquote(action).map_err(|r| err(&r))?));
            } else {
                let steps = parse_path(action).map_err(|r| err(&r))?;
                top.push(Node::Path(steps));
            }
        }
        if stack.len() != 1 {
            return Err(err("unclosed range"));
        }
        let (_, mut nodes) = stack.pop().ok_or_else(|| err("internal"))?;
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok(JsonPath { nodes })
    }

    /// Renders the template against `root`, as `kubectl get -o jsonpath`
    /// prints it.
    pub fn render(&self, root: &Value) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, root, root, &mut out);
        out
    }

    /// The values the template's first expression selects (for `sim
    /// until`, which compares them).
    pub fn values<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        self.nodes
            .iter()
            .find_map(|n| match n {
                Node::Path(steps) => Some(eval(steps, root, root)),
                _ => None,
            })
            .unwrap_or_default()
    }
}

fn render_nodes(nodes: &[Node], root: &Value, current: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(steps) => {
                let texts: Vec<String> = eval(steps, root, current)
                    .into_iter()
                    .map(value_text)
                    .collect();
                out.push_str(&texts.join(" "));
            }
            Node::Range(steps, body) => {
                for item in eval(steps, root, current) {
                    render_nodes(body, root, item, out);
                }
            }
        }
    }
}

/// A selected value as kubectl prints it: strings raw, maps and lists as
/// JSON, null as nothing.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn unquote(s: &str) -> Result<String, String> {
    let q = s.chars().next().unwrap_or('"');
    let inner = s
        .strip_prefix(q)
        .and_then(|r| r.strip_suffix(q))
        .ok_or("unterminated quoted string")?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let name = |i: &mut usize| {
        let mut n = String::new();
        while *i < chars.len() {
            match chars[*i] {
                '\\' if *i + 1 < chars.len() => {
                    n.push(chars[*i + 1]);
                    *i += 2;
                }
                '.' | '[' | ' ' | ')' | '=' | '!' | '<' | '>' => break,
                c => {
                    n.push(c);
                    *i += 1;
                }
            }
        }
        n
    };
    while i < chars.len() {
        match chars[i] {
            '$' => {
                steps.push(Step::Root);
                i += 1;
            }
            '@' => i += 1,
            '.' if chars.get(i + 1) == Some(&'.') => {
                i += 2;
                let n = name(&mut i);
                steps.push(if n.is_empty() || n == "*" {
                    Step::Wildcard
                } else {
                    Step::Recursive(n)
                });
            }
            '.' => {
                i += 1;
                let n = name(&mut i);
                match n.as_str() {
                    "" => {}
                    "*" => steps.push(Step::Wildcard),
                    _ => steps.push(Step::Field(n)),
                }
            }
            '[' => {
                let mut depth = 0;
                let start = i + 1;
                let mut quote: Option<char> = None;
                let mut end = None;
                for (j, &c) in chars.iter().enumerate().skip(i) {
                    match (quote, c) {
                        (Some(q), _) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '\'' | '"') => quote = Some(c),
                        (None, '[') => depth += 1,
                        (None, ']') => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or("unterminated array")?;
                let inner: String = chars[start..end].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = end + 1;
            }
            ' ' => i += 1,
            c if steps.is_empty() && (c.is_alphanumeric() || c == '_') => {
                // kubectl accepts `{metadata.name}` without the leading dot.
                let n = name(&mut i);
                steps.push(Step::Field(n));
            }
            c => {
                return Err(format!(
                    "unrecognized character in action: U+{:04X} '{c}'",
                    c as u32
                ))
            }
        }
    }
    Ok(steps)
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if inner.starts_with('\'') || inner.starts_with('"') {
        return Ok(Step::Field(unquote(inner)?));
    }
    if let Some(filter) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        let ops = ["==", "!=", "<=", ">=", "<", ">"];
        let found = ops
            .iter()
            .filter_map(|op| find_outside_quotes(filter, op).map(|i| (i, *op)))
            .min_by_key(|(i, _)| *i);
        return Ok(match found {
            Some((i, op)) => {
                let left = parse_path(filter[..i].trim())?;
                let right = filter[i + op.len()..].trim();
                let literal = if right.starts_with('\'') || right.starts_with('"') {
                    Value::String(unquote(right)?)
                } else {
                    serde_json::from_str(right).unwrap_or_else(|_| Value::String(right.into()))
                };
                Step::Filter(left, Some((op.to_string(), literal)))
            }
            None => Step::Filter(parse_path(filter.trim())?, None),
        });
    }
    if let Some((a, b)) = inner.split_once(':') {
        let num = |s: &str| -> Result<Option<i64>, String> {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse()
                    .map(Some)
                    .map_err(|_| format!("invalid array index {s}"))
            }
        };
        let b = b.split(':').next().unwrap_or("");
        return Ok(Step::Slice(num(a)?, num(b)?));
    }
    inner
        .parse()
        .map(Step::Index)
        .map_err(|_| format!("invalid array index {inner}"))
}

fn find_outside_quotes(s: &str, pat: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, _) if s[i..].starts_with(pat) => return Some(i),
            _ => {}
        }
    }
    None
}

fn eval<'a>(steps: &[Step], root: &'a Value, current: &'a Value) -> Vec<&'a Value> {
    let mut set = vec![current];
    for step in steps {
        let mut next = Vec::new();
        for v in set {
            match step {
                Step::Root => next.push(root),
                Step::Field(name) => {
                    if let Some(x) = v.get(name.as_str()) {
                        next.push(x);
                    }
                }
                Step::Recursive(name) => collect_recursive(v, name, &mut next),
                Step::Wildcard => match v {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(m) => {
                        let mut keys: Vec<_> = m.keys().collect();
                        keys.sort();
                        next.extend(keys.into_iter().filter_map(|k| m.get(k)));
                    }
                    _ => {}
                },
                Step::Index(i) => {
                    if let Value::Array(items) = v {
                        let len = items.len() as i64;
                        let idx = if *i < 0 { len + i } else { *i };
                        if (0..len).contains(&idx) {
                            next.push(&items[idx as usize]);
                        }
                    }
                }
                Step::Slice(a, b) => {
                    if let Value::Array(items) = v {
                        let len = items.len() as i64;
                        let clamp = |x: i64| (if x < 0 { len + x } else { x }).clamp(0, len);
                        let (s, e) = (clamp(a.unwrap_or(0)), clamp(b.unwrap_or(len)));
                        if s < e {
                            next.extend(items[s as usize..e as usize].iter());
                        }
                    }
                }
                Step::Filter(path, cond) => {
                    let items: Vec<&Value> = match v {
                        Value::Array(items) => items.iter().collect(),
                        _ => vec![],
                    };
                    for item in items {
                        let got = eval(path, root, item);
                        let keep = match cond {
                            None => !got.is_empty(),
                            Some((op, lit)) => got.iter().any(|g| compare(g, op, lit)),
                        };
                        if keep {
                            next.push(item);
                        }
                    }
                }
            }
        }
        set = next;
    }
    set
}

fn collect_recursive<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            for k in keys {
                if let Some(child) = m.get(k) {
                    collect_recursive(child, name, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_recursive(i, name, out)),
        _ => {}
    }
}

fn compare(a: &Value, op: &str, b: &Value) -> bool {
    let ord = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (x, Value::String(y)) => Some(value_text(x).cmp(y)),
        _ => None,
    };
    match (op, ord) {
        ("==", Some(o)) => o == Ordering::Equal,
        ("!=", Some(o)) => o != Ordering::Equal,
        ("!=", None) => true,
        ("<", Some(o)) => o == Ordering::Less,
        (">", Some(o)) => o == Ordering::Greater,
        ("<=", Some(o)) => o != Ordering::Greater,
        (">=", Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(t: &str, v: &Value) -> String {
        JsonPath::parse(t)
            .map(|p| p.render(v))
            .unwrap_or_else(|e| e.to_string())
    }

    fn pods() -> Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "web"}}, "status": {"phase": "Running",
              "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}},
            {"metadata": {"name": "b"}, "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]}}
        ]})
    }

    #[test]
    fn a_field_path_prints_the_value() {
        assert_eq!(
            render("{.status.phase}", &json!({"status": {"phase": "Running"}})),
            "Running"
        );
        assert_eq!(
            render("{.spec.replicas}", &json!({"spec": {"replicas": 3}})),
            "3"
        );
        assert_eq!(render("{.missing.key}", &json!({})), "");
    }

    #[test]
    fn wildcards_join_results_with_spaces() {
        assert_eq!(render("{.items[*].metadata.name}", &pods()), "a b");
        assert_eq!(render("{.items[0].metadata.name}", &pods()), "a");
        assert_eq!(render("{.items[-1].metadata.name}", &pods()), "b");
        assert_eq!(render("{.items[0:1].status.phase}", &pods()), "Running");
    }

    #[test]
    fn range_repeats_its_body_for_each_item() {
        assert_eq!(
            render("{range .items[*]}{.metadata.name}{\"\\n\"}{end}", &pods()),
            "a\nb\n"
        );
        assert_eq!(
            render(
                "{range .items[*]}{.metadata.name}={.status.phase} {end}",
                &pods()
            ),
            "a=Running b=Pending "
        );
    }

    #[test]
    fn filters_select_list_items_by_a_field() {
        assert_eq!(
            render(
                "{.items[*].status.conditions[?(@.type==\"Ready\")].status}",
                &pods()
            ),
            "True False"
        );
        assert_eq!(
            render(
                "{.items[?(@.status.phase=='Pending')].metadata.name}",
                &pods()
            ),
            "b"
        );
    }

    #[test]
    fn escaped_dots_and_quoted_keys_name_one_key() {
        assert_eq!(
            render(
                "{.items[0].metadata.labels.app\\.kubernetes\\.io/name}",
                &pods()
            ),
            "web"
        );
        assert_eq!(
            render(
                "{.items[0].metadata.labels['app.kubernetes.io/name']}",
                &pods()
            ),
            "web"
        );
    }

    #[test]
    fn maps_print_as_json_and_text_passes_through() {
        assert_eq!(
            render(
                "labels: {.metadata.labels}",
                &json!({"metadata": {"labels": {"a": "b"}}})
            ),
            "labels: {\"a\":\"b\"}"
        );
        assert_eq!(render("{..name}", &pods()), "a b");
    }

    #[test]
    fn malformed_templates_are_rejected_like_kubectl() {
        assert_eq!(
            render("{.status.phase", &json!({})),
            "error parsing jsonpath {.status.phase, unclosed action"
        );
        assert!(JsonPath::parse("{end}").is_err());
        assert!(JsonPath::parse("{range .items[*]}{.x}").is_err());
        assert!(JsonPath::parse("{.items[x]}").is_err());
    }

    #[test]
    fn values_returns_what_the_first_expression_selects() {
        let p = JsonPath::parse("{.items[*].status.phase}");
        let v = pods();
        let got: Vec<&Value> = p.as_ref().map(|p| p.values(&v)).unwrap_or_default();
        assert_eq!(got, vec![&json!("Running"), &json!("Pending")]);
    }
}
