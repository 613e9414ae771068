//! Field errors, as apimachinery's `util/validation/field` package words them.
//!
//! kube-apiserver's validation returns a `field.ErrorList`: each error has a
//! path (`spec.containers[0].image`), a type (`Required value`,
//! `Invalid value`...), the offending value and a detail. They become the
//! causes of a 422 `Invalid` status. The simulation keeps the wording; the
//! offending value is printed as Go's `%q`, `%v` or `%#v` would print it.

use std::collections::BTreeMap;
use std::fmt;

/// The type of a field error (apimachinery's `field.ErrorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    /// Not a field error: the cause of a 504 for a resourceVersion the
    /// watch cache has not reached (`metav1.CauseTypeResourceVersionTooLarge`).
    ResourceVersionTooLarge,
    /// Not a field error: why an eviction was refused
    /// (`policyv1.DisruptionBudgetCause`); the detail is the whole message.
    DisruptionBudget,
}

impl ErrorType {
    /// The human text, `ErrorType.String()`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
            ErrorType::ResourceVersionTooLarge => "Too large resource version",
            ErrorType::DisruptionBudget => "",
        }
    }

    /// The `metav1.CauseType` the error becomes in a `Status`.
    pub fn cause_type(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::ResourceVersionTooLarge => "ResourceVersionTooLarge",
            ErrorType::DisruptionBudget => "DisruptionBudget",
        }
    }
}

/// The offending value of a field error, printed as Go prints it.
#[derive(Clone, Debug, PartialEq)]
pub enum BadValue {
    /// No value (Required, Forbidden...).
    None,
    /// A string, printed quoted (`%q`).
    Str(String),
    /// A number, printed as is (`%v`).
    Int(i64),
    Bool(bool),
    /// A value already printed in Go's `%#v` form, e.g.
    /// `map[string]string{"app":"x"}`.
    Go(String),
}

impl BadValue {
    /// A label map as Go's `%#v` prints a `map[string]string`.
    pub fn string_map(map: &BTreeMap<String, String>) -> BadValue {
        BadValue::Go(go_string_map(map))
    }
}

/// Go's `%#v` of a `map[string]string` (keys sorted).
pub fn go_string_map(map: &BTreeMap<String, String>) -> String {
    let body: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
        .collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// Go's `%q` of a string: double-quoted with Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl From<&str> for BadValue {
    fn from(s: &str) -> Self {
        BadValue::Str(s.to_string())
    }
}
impl From<String> for BadValue {
    fn from(s: String) -> Self {
        BadValue::Str(s)
    }
}
impl From<i64> for BadValue {
    fn from(n: i64) -> Self {
        BadValue::Int(n)
    }
}
impl From<i32> for BadValue {
    fn from(n: i32) -> Self {
        BadValue::Int(n.into())
    }
}
impl From<bool> for BadValue {
    fn from(b: bool) -> Self {
        BadValue::Bool(b)
    }
}

/// One validation error on one field (apimachinery's `field.Error`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub kind: ErrorType,
    /// The field path, e.g. `spec.containers[0].image`.
    pub field: String,
    pub value: BadValue,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, BadValue::None, detail)
    }
    pub fn invalid(
        field: impl Into<String>,
        value: impl Into<BadValue>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorType::Invalid, field, value.into(), detail)
    }
    pub fn duplicate(field: impl Into<String>, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::Duplicate, field, value.into(), "")
    }
    pub fn not_found(field: impl Into<String>, value: impl Into<BadValue>) -> Self {
        Self::new(ErrorType::NotFound, field, value.into(), "")
    }
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, BadValue::None, detail)
    }
    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        Self::new(
            ErrorType::TooLong,
            field,
            BadValue::None,
            format!("must have at most {max} bytes"),
        )
    }
    /// `Unsupported value: "X": supported values: "A", "B"`.
    pub fn not_supported(
        field: impl Into<String>,
        value: impl Into<BadValue>,
        supported: &[&str],
    ) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
        Self::new(
            ErrorType::NotSupported,
            field,
            value.into(),
            if quoted.is_empty() {
                String::new()
            } else {
                format!("supported values: {}", quoted.join(", "))
            },
        )
    }

    /// The `DisruptionBudget` cause of a refused eviction.
    pub fn disruption_budget(message: impl Into<String>) -> Self {
        Self::new(ErrorType::DisruptionBudget, "", BadValue::None, message)
    }

    fn new(
        kind: ErrorType,
        field: impl Into<String>,
        value: BadValue,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }

    /// The message without the field: `field.Error.ErrorBody()`.
    pub fn body(&self) -> String {
        if self.kind == ErrorType::DisruptionBudget {
            return self.detail.clone();
        }
        let mut s = match self.kind {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::Internal
            | ErrorType::ResourceVersionTooLarge => self.kind.as_str().to_string(),
            _ => match &self.value {
                BadValue::None => format!("{}: null", self.kind.as_str()),
                BadValue::Str(s) => format!("{}: {}", self.kind.as_str(), go_quote(s)),
                BadValue::Int(n) => format!("{}: {n}", self.kind.as_str()),
                BadValue::Bool(b) => format!("{}: {b}", self.kind.as_str()),
                BadValue::Go(g) => format!("{}: {g}", self.kind.as_str()),
            },
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    /// `spec.containers[0].image: Required value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// Several field errors, as `field.ErrorList.ToAggregate()` prints them: one
/// alone as itself, several as `[a, b]`.
pub fn aggregate(errors: &[FieldError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let parts: Vec<String> = many.iter().map(|e| e.to_string()).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_required_field_prints_without_a_value() {
        let e = FieldError::required("spec.containers[0].image", "");
        assert_eq!(e.to_string(), "spec.containers[0].image: Required value");
        assert_eq!(e.kind.cause_type(), "FieldValueRequired");
    }

    #[test]
    fn an_invalid_string_is_quoted_and_followed_by_the_detail() {
        let e = FieldError::invalid("metadata.name", "Web", "must be lowercase");
        assert_eq!(
            e.to_string(),
            r#"metadata.name: Invalid value: "Web": must be lowercase"#
        );
    }

    #[test]
    fn unsupported_values_list_the_supported_ones() {
        let e = FieldError::not_supported(
            "spec.restartPolicy",
            "Sometimes",
            &["Always", "OnFailure", "Never"],
        );
        assert_eq!(
            e.to_string(),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#
        );
    }

    #[test]
    fn a_label_map_prints_as_go_prints_a_map() {
        let m: BTreeMap<String, String> = [("app".to_string(), "x".to_string())].into();
        assert_eq!(go_string_map(&m), r#"map[string]string{"app":"x"}"#);
    }

    #[test]
    fn several_errors_aggregate_in_brackets() {
        let a = FieldError::required("a", "");
        let b = FieldError::duplicate("b", "x");
        assert_eq!(aggregate(std::slice::from_ref(&a)), "a: Required value");
        assert_eq!(
            aggregate(&[a, b]),
            r#"[a: Required value, b: Duplicate value: "x"]"#
        );
    }
}
