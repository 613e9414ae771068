//! `kubectl get`'s column and ordering flags: `-o custom-columns`,
//! `-L`/`--label-columns`, `--show-labels` and `--sort-by`.
//!
//! Ported from kubectl: `get/customcolumn.go` (`NewCustomColumnsPrinterFromSpec`,
//! `printOneObject`), `get/sorter.go` (`SortObjects`, `isLess`),
//! cli-runtime's `printers/tableprinter.go` (`decorateTable`,
//! `formatLabelHeaders`, `labelValues`) and
//! `cmd/get/customcolumn.go`'s use of `RelaxedJSONPathExpression`. Left
//! out: `-o custom-columns-file`, Go's `%v` spelling of maps and lists in a
//! custom column (they print as JSON here), and sorting a watch's rows.

use super::jsonpath::{value_text, JsonPath};
use serde_json::Value;
use std::cmp::Ordering;

/// `RelaxedJSONPathExpression`: `.a.b`, `a.b`, `{a.b}` and `{.a.b}` all
/// mean `{.a.b}`.
pub fn relaxed_jsonpath(expr: &str) -> Result<String, String> {
    let bad = || {
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'".to_string()
    };
    let inner = match expr.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}').ok_or_else(bad)?,
        None => expr,
    };
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    if inner.is_empty() || inner.contains(['{', '}']) {
        return Err(bad());
    }
    Ok(format!("{{.{inner}}}"))
}

/// One `HEADER:path` column of `-o custom-columns`.
#[derive(Clone, Debug)]
pub struct CustomColumn {
    pub header: String,
    path: JsonPath,
}

/// Parses `NAME:.metadata.name,NODE:.spec.nodeName`
/// (`NewCustomColumnsPrinterFromSpec`).
pub fn parse_custom_columns(spec: &str) -> Result<Vec<CustomColumn>, String> {
    if spec.is_empty() {
        return Err("error: custom-columns format specified but no custom columns given".into());
    }
    spec.split(',')
        .map(|part| {
            let Some((header, path)) = part.split_once(':').filter(|(_, p)| !p.contains(':'))
            else {
                return Err(format!(
                    "error: unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
                ));
            };
            let relaxed = relaxed_jsonpath(path).map_err(|e| format!("error: {e}"))?;
            let path = JsonPath::parse(&relaxed).map_err(|e| format!("error: {e}"))?;
            Ok(CustomColumn {
                header: header.to_string(),
                path,
            })
        })
        .collect()
}

/// The rows of `-o custom-columns` (`printOneObject`): every value the
/// path selects, joined by commas, or `<none>`.
pub fn custom_column_rows(
    columns: &[CustomColumn],
    objects: &[Value],
    no_headers: bool,
) -> Vec<Vec<String>> {
    let mut rows = Vec::with_capacity(objects.len() + 1);
    if !no_headers {
        rows.push(columns.iter().map(|c| c.header.to_uppercase()).collect());
    }
    for v in objects {
        rows.push(
            columns
                .iter()
                .map(|c| {
                    let values = c.path.values(v);
                    if values.is_empty() {
                        "<none>".to_string()
                    } else {
                        values
                            .into_iter()
                            .map(value_text)
                            .collect::<Vec<_>>()
                            .join(",")
                    }
                })
                .collect(),
        );
    }
    rows
}

/// `formatLabelHeaders`: a `-L` column is headed by the last segment of
/// its key, upper-cased (`app.kubernetes.io/name` -> `NAME`).
pub fn label_headers(keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| k.rsplit('/').next().unwrap_or(k).to_uppercase())
        .collect()
}

/// `labelValues`: the value of each `-L` key, or an empty cell.
pub fn label_values(labels: crate::api::labels::LabelsRef<'_>, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| labels.get(k).cloned().unwrap_or_default())
        .collect()
}

/// `labels.FormatLabels`: `k=v,k2=v2` in key order, `<none>` if empty
/// (the `--show-labels` column).
pub fn format_labels(labels: crate::api::labels::LabelsRef<'_>) -> String {
    if labels.is_empty() {
        return "<none>".into();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `-L` keys: every `-L` flag, each a comma-separated list.
pub fn label_column_keys(flags: &[String]) -> Vec<String> {
    flags
        .iter()
        .flat_map(|f| f.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// `SortObjects`: the order `--sort-by` puts `values` in (indexes into
/// it). An object without the field sorts first; an expression that finds
/// the field in no object is an error.
pub fn sort_order(sort_by: &str, values: &[Value]) -> Result<Vec<usize>, String> {
    let relaxed = relaxed_jsonpath(sort_by).map_err(|e| format!("error: {e}"))?;
    let path = JsonPath::parse(&relaxed).map_err(|e| format!("error: {e}"))?;
    let keys: Vec<Option<&Value>> = values
        .iter()
        .map(|v| path.values(v).into_iter().next())
        .collect();
    if !values.is_empty() && keys.iter().all(Option::is_none) {
        return Err(format!(
            "error: couldn't find any field with path \"{relaxed}\" in the list of objects"
        ));
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| match (keys[i], keys[j]) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare(a, b),
    });
    Ok(order)
}

/// `isLess` over JSON values: numbers by value, strings in natural order.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => natural_cmp(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => value_text(a).cmp(&value_text(b)),
    }
}

/// `sortorder.NaturalLess`: runs of digits compare as numbers (`pod-2` <
/// `pod-10`, `40Mi` < `100Mi`), the rest byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da && db {
            let si = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let na = trim_zeros(&a[si..i]);
            let nb = trim_zeros(&b[sj..j]);
            let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if ord != Ordering::Equal {
                return ord;
            }
            // Equal numbers: fewer leading zeros first.
            let ord = (i - si).cmp(&(j - sj));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let n = digits.iter().take_while(|d| **d == b'0').count();
    &digits[n..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn relaxed_paths_gain_braces_and_a_leading_dot() {
        for p in [
            ".metadata.name",
            "metadata.name",
            "{.metadata.name}",
            "{metadata.name}",
        ] {
            assert_eq!(relaxed_jsonpath(p).as_deref(), Ok("{.metadata.name}"));
        }
        assert!(relaxed_jsonpath("{.a}{.b}").is_err());
    }

    #[test]
    fn custom_columns_print_none_for_a_missing_field_and_join_lists() {
        let cols = parse_custom_columns(
            "NAME:.metadata.name,IMAGES:.spec.containers[*].image,NODE:.spec.nodeName",
        )
        .unwrap();
        let v = json!({"metadata": {"name": "web"}, "spec": {"containers": [{"image": "nginx"}, {"image": "busybox"}]}});
        let rows = custom_column_rows(&cols, &[v], false);
        assert_eq!(rows[0], ["NAME", "IMAGES", "NODE"]);
        assert_eq!(rows[1], ["web", "nginx,busybox", "<none>"]);
        assert!(parse_custom_columns("NAME").is_err());
        assert_eq!(
            parse_custom_columns("").unwrap_err(),
            "error: custom-columns format specified but no custom columns given"
        );
    }

    #[test]
    fn label_columns_are_headed_by_the_keys_last_segment() {
        let keys = label_column_keys(&["app.kubernetes.io/name,tier".into(), "env".into()]);
        assert_eq!(label_headers(&keys), ["NAME", "TIER", "ENV"]);
        let labels: std::collections::BTreeMap<String, String> =
            [("tier".to_string(), "web".to_string())].into();
        assert_eq!(label_values((&labels).into(), &keys), ["", "web", ""]);
        assert_eq!(format_labels((&labels).into()), "tier=web");
        assert_eq!(
            format_labels(crate::api::labels::LabelsRef::empty()),
            "<none>"
        );
    }

    #[test]
    fn sorting_is_natural_for_strings_and_numeric_for_numbers() {
        let vs = vec![
            json!({"n": "pod-10", "r": 3}),
            json!({"n": "pod-2", "r": 10}),
            json!({"x": 1}),
        ];
        assert_eq!(sort_order(".n", &vs).unwrap(), [2, 1, 0]);
        assert_eq!(sort_order("{.r}", &vs).unwrap(), [2, 0, 1]);
        assert_eq!(
            sort_order(".nope", &vs).unwrap_err(),
            "error: couldn't find any field with path \"{.nope}\" in the list of objects"
        );
        assert_eq!(natural_cmp("40Mi", "100Mi"), Ordering::Less);
    }
}
