//! `-o json` as kubectl prints it: Go's `json.MarshalIndent(obj, "", "    ")`
//! of the object as a map, so keys are sorted, indentation is four spaces,
//! and `<`, `>`, `&`, U+2028 and U+2029 are escaped as `\u003c`... (Go's
//! HTML-safe escaping). Left out: Go's exponent form for floats ≥ 1e21.

use serde_json::Value;

/// The JSON text for a value, ending with a newline.
pub fn to_json(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, 0);
    out.push('\n');
    out
}

fn write(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => quote(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                write(out, item, indent + 1);
            }
            newline(out, indent);
            out.push(']');
        }
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                quote(out, k);
                out.push_str(": ");
                write(out, v, indent + 1);
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    out.push_str(&"    ".repeat(indent));
}

/// Go's `encoding/json` string encoding with HTML escaping.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_print_sorted_with_four_space_indentation() {
        let v = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "labels": {}}, "items": [1, 2], "e": []});
        assert_eq!(
            to_json(&v),
            "{\n    \"apiVersion\": \"v1\",\n    \"e\": [],\n    \"items\": [\n        1,\n        2\n    ],\n    \"kind\": \"Pod\",\n    \"metadata\": {\n        \"labels\": {},\n        \"name\": \"p\"\n    }\n}\n"
        );
    }

    #[test]
    fn html_characters_are_escaped_as_go_does() {
        assert_eq!(
            to_json(&json!("a<b>&c\n")),
            "\"a\\u003cb\\u003e\\u0026c\\n\"\n"
        );
    }
}
