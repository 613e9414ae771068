//! `-o yaml` as kubectl prints it: the object's JSON turned into YAML by
//! `sigs.k8s.io/yaml`, whose encoder is go-yaml v2 (a port of libyaml's
//! emitter).
//!
//! What that means, and what this reproduces: keys sorted; two-space
//! indentation with sequences not indented under their key; `{}` and `[]`
//! for empty collections; strings that would read back as something else
//! (`"80"`, `"true"`, `""`, timestamps) double-quoted; strings that cannot be
//! plain (`'*'`, `'a: b'`) single-quoted; multi-line strings as literal
//! blocks (`|`, `|-`, `|+`); long plain and single-quoted strings folded at
//! spaces past column 80. Left out: folding of double-quoted strings and
//! YAML 1.1 float forms in output.

use serde_json::Value;

const BEST_WIDTH: usize = 80;

/// The YAML document for a JSON value, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_mapping(&mut out, value, 0),
        Value::Array(a) if !a.is_empty() => write_sequence(&mut out, value, 0),
        scalar => {
            write_inline(&mut out, scalar, 0, 0);
            out.push('\n');
        }
    }
    out
}

fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A non-empty mapping whose keys start at column `indent`; the first key
/// is written where the cursor is (after `- ` in a sequence).
fn write_mapping(out: &mut String, value: &Value, indent: usize) {
    let Value::Object(m) = value else { return };
    for (i, (k, v)) in sorted(m).into_iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        let key = scalar_text(k, true);
        out.push_str(&key);
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                out.push_str(&" ".repeat(indent + 2));
                write_mapping(out, v, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_sequence(out, v, indent);
            }
            scalar => {
                out.push(' ');
                let column = indent + key.chars().count() + 2;
                write_inline(out, scalar, indent + 2, column);
                out.push('\n');
            }
        }
    }
}

/// A non-empty sequence whose dashes sit at column `indent`.
fn write_sequence(out: &mut String, value: &Value, indent: usize) {
    let Value::Array(items) = value else { return };
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_mapping(out, item, indent + 2),
            Value::Array(a) if !a.is_empty() => {
                // go-yaml writes a nested sequence's first dash on the same line.
                let mut nested = String::new();
                write_sequence(&mut nested, item, indent + 2);
                out.push_str(nested.trim_start());
            }
            scalar => {
                write_inline(out, scalar, indent + 2, indent + 2);
                out.push('\n');
            }
        }
    }
}

/// A scalar or empty collection after `key: ` or `- `; `column` is where
/// the cursor is, `indent` where folded lines continue.
fn write_inline(out: &mut String, value: &Value, indent: usize, column: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_text(n)),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => write_string(out, s, indent, column),
    }
}

fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e6 {
        // Go's strconv 'g' with shortest precision: `1`, not `1.0`.
        return format!("{f:.0}");
    }
    // Go's %g switches to an exponent from 1e+06 and below 1e-04.
    if f.abs() >= 1e6 || f.abs() < 1e-4 {
        let e = format!("{f:e}");
        if let Some((m, exp)) = e.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
    }
    f.to_string()
}

/// The style go-yaml picks for a string.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

fn write_string(out: &mut String, s: &str, indent: usize, column: usize) {
    match choose_style(s, false) {
        Style::Literal => write_literal(out, s, indent),
        Style::Plain => write_folded(out, s, indent, column, false),
        Style::Single => write_folded(out, s, indent, column, true),
        Style::Double => out.push_str(&double_quoted(s)),
    }
}

/// A key or a short scalar, never folded.
fn scalar_text(s: &str, key: bool) -> String {
    match choose_style(s, key) {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double | Style::Literal => double_quoted(s),
    }
}

fn choose_style(s: &str, key: bool) -> Style {
    let a = analyze(s);
    if s.contains('\n') && !key {
        return if a.block_allowed {
            Style::Literal
        } else {
            Style::Double
        };
    }
    // go-yaml v2 `stringv`: a string that would resolve to another type
    // is double-quoted.
    if !resolves_to_string(s) || is_base60_float(s) {
        return Style::Double;
    }
    if a.plain_allowed && !(key && a.multiline) {
        Style::Plain
    } else if a.single_allowed && !a.multiline {
        Style::Single
    } else {
        Style::Double
    }
}

struct Analysis {
    plain_allowed: bool,
    single_allowed: bool,
    block_allowed: bool,
    multiline: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && c != '\u{FEFF}'
}

/// libyaml's `yaml_emitter_analyze_scalar`, block context.
fn analyze(s: &str) -> Analysis {
    let chars: Vec<char> = s.chars().collect();
    let mut a = Analysis {
        plain_allowed: true,
        single_allowed: true,
        block_allowed: true,
        multiline: false,
    };
    if chars.is_empty() {
        a.plain_allowed = false;
        return a;
    }
    if s.starts_with("---") || s.starts_with("...") {
        a.plain_allowed = false;
    }
    let blankz = |i: usize| i >= chars.len() || matches!(chars[i], ' ' | '\t' | '\n' | '\r');
    let (mut special, mut line_breaks) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut block_indicator = false;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = blankz(i + 1);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicator = true,
                '?' | ':' | '-' if followed_by_ws => block_indicator = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicator = true,
                '#' if prev_space || prev_break => block_indicator = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == '\n' {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if c == '\n' {
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
    }
    a.multiline = line_breaks;
    if block_indicator {
        a.plain_allowed = false;
    }
    if leading_space || leading_break || trailing_space || trailing_break {
        a.plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.plain_allowed = false;
        a.single_allowed = false;
    }
    if space_break || special {
        a.plain_allowed = false;
        a.single_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks {
        a.plain_allowed = false;
    }
    a
}

/// go-yaml v2's `resolve`: does a plain scalar with this text read back as
/// a string (not a bool, number, null or timestamp)?
fn resolves_to_string(s: &str) -> bool {
    const NON_STRINGS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF", "<<",
    ];
    if NON_STRINGS.contains(&s) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if !(first.is_ascii_digit() || matches!(first, '+' | '-' | '.')) {
        return true;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    !(is_go_int(&plain) || is_yaml_float(&plain) || is_timestamp(s))
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` would accept it.
fn is_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (b, 2)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (o, 8)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mant_ok = match mant.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.chars().all(|c| c.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => !mant.is_empty() && mant.chars().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        }
    };
    mant_ok && exp_ok
}

/// go-yaml v2's timestamp formats: `2006-1-2`, optionally followed by a
/// `T`, `t` or space and a time.
fn is_timestamp(s: &str) -> bool {
    let date_len = s.find(['T', 't', ' ']).unwrap_or(s.len());
    let parts: Vec<&str> = s[..date_len].split('-').collect();
    let date_ok = parts.len() == 3
        && parts[0].len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
        && parts[1].len() <= 2
        && parts[2].len() <= 2;
    if !date_ok {
        return false;
    }
    let rest = &s[date_len..];
    rest.is_empty()
        || rest[1..]
            .split(':')
            .take(1)
            .all(|h| !h.is_empty() && h.len() <= 2 && h.chars().all(|c| c.is_ascii_digit()))
            && rest.contains(':')
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let s = match s.split_once('.') {
        Some((head, frac)) if frac.chars().all(|c| c.is_ascii_digit() || c == '_') => head,
        Some(_) => return false,
        None => s,
    };
    let mut parts = s.split(':');
    let head = parts.next().unwrap_or("");
    let mut n = 0;
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    for p in parts {
        n += 1;
        let b = p.as_bytes();
        let ok = match b {
            [d] => d.is_ascii_digit(),
            [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    head_ok && n > 0
}

/// A plain or single-quoted scalar, folded at a space once the line is
/// past column 80 (libyaml's `write_plain_scalar`/`write_single_quoted`).
fn write_folded(out: &mut String, s: &str, indent: usize, mut column: usize, quoted: bool) {
    let chars: Vec<char> = s.chars().collect();
    if quoted {
        out.push('\'');
        column += 1;
    }
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_is_space = chars.get(i + 1) == Some(&' ');
            let last = i + 1 == chars.len();
            if !spaces && column > BEST_WIDTH && !next_is_space && !(quoted && (i == 0 || last)) {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                column = indent;
            } else {
                out.push(' ');
                column += 1;
            }
            spaces = true;
        } else {
            if quoted && c == '\'' {
                out.push('\'');
                column += 1;
            }
            out.push(c);
            column += 1;
            spaces = false;
        }
    }
    if quoted {
        out.push('\'');
    }
}

/// A literal block scalar: `|`, with `-` when there is no final newline
/// and `+` when there are several, and an indentation hint when the text
/// starts with a space.
fn write_literal(out: &mut String, s: &str, indent: usize) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if s == "\n" || s.ends_with("\n\n") {
        out.push('+');
    }
    out.push('\n');
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        if !line.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(line);
        }
        out.push('\n');
    }
    // Remove the newline write_mapping/write_sequence add after scalars.
    out.pop();
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if !is_printable(c) => {
                let n = c as u32;
                if n <= 0xFF {
                    out.push_str(&format!("\\x{n:02X}"));
                } else if n <= 0xFFFF {
                    out.push_str(&format!("\\u{n:04X}"));
                } else {
                    out.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_sort_keys_and_sequences_sit_under_their_key_unindented() {
        let v = json!({
            "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]},
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {}}
        });
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {}\n  name: p\nspec:\n  containers:\n  - image: nginx\n    name: c\n    ports:\n    - containerPort: 80\n"
        );
    }

    #[test]
    fn strings_that_would_read_as_other_types_are_double_quoted() {
        let v = json!({"a": "80", "b": "true", "c": "", "d": "2026-01-01T00:00:00Z", "e": "1.5", "f": "yes", "g": "null", "h": "0x1F", "i": "1:20"});
        assert_eq!(
            to_yaml(&v),
            "a: \"80\"\nb: \"true\"\nc: \"\"\nd: \"2026-01-01T00:00:00Z\"\ne: \"1.5\"\nf: \"yes\"\ng: \"null\"\nh: \"0x1F\"\ni: \"1:20\"\n"
        );
    }

    #[test]
    fn plain_safe_strings_stay_plain_and_the_rest_are_single_quoted() {
        let v = json!({"a": "nginx:1.14.2", "b": "*", "c": "a: b", "d": "{\"x\":1}", "e": "x #y", "f": "- x", "g": "10.0.0.1", "h": "25%", "i": "it's"});
        assert_eq!(
            to_yaml(&v),
            "a: nginx:1.14.2\nb: '*'\nc: 'a: b'\nd: '{\"x\":1}'\ne: 'x #y'\nf: '- x'\ng: 10.0.0.1\nh: 25%\ni: it's\n"
        );
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let v = json!({"a": {"script": "echo hi\necho bye\n", "b": "x\ny"}});
        assert_eq!(
            to_yaml(&v),
            "a:\n  b: |-\n    x\n    y\n  script: |\n    echo hi\n    echo bye\n"
        );
    }

    #[test]
    fn long_messages_fold_at_a_space_past_column_80() {
        let msg = "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
        let v = json!({"status": {"conditions": [{"message": msg, "type": "PodScheduled"}]}});
        assert_eq!(
            to_yaml(&v),
            "status:\n  conditions:\n  - message: '0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready:\n      }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'\n    type: PodScheduled\n"
        );
    }

    #[test]
    fn scalars_and_nested_sequences_print_like_go_yaml() {
        let v = json!({"n": null, "t": true, "i": 3, "f": 0.5, "l": [["a", "b"], "c"], "e": []});
        assert_eq!(
            to_yaml(&v),
            "e: []\nf: 0.5\ni: 3\nl:\n- - a\n  - b\n- c\n\"n\": null\nt: true\n"
        );
        assert_eq!(to_yaml(&json!({})), "{}\n");
        assert_eq!(to_yaml(&json!({"k": "tab\there"})), "k: \"tab\\there\"\n");
    }
}
