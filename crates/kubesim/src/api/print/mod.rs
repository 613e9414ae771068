//! What kubectl prints: `-o yaml`, `-o json`, `-o jsonpath`, and the
//! `get` tables (see each submodule for what it ports and leaves out).

pub mod columns;
mod json;
mod jsonpath;
mod table;
mod yaml;

pub use json::to_json;
pub use jsonpath::{value_text, JsonPath, JsonPathError};
pub use table::{
    age, human_duration, no_resources_found, print_labelled_table, print_table, selector_string,
    tabwrite, TableOptions,
};
pub use yaml::to_yaml;

use super::object::{Kind, Object};
use serde_json::{json, Value};

/// A `kind: List` of objects as `kubectl get -o yaml|json` wraps several
/// (`metadata.resourceVersion: ""`).
pub fn list_value(objects: &[&Object]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": objects.iter().map(|o| o.to_value()).collect::<Vec<_>>(),
        "metadata": {"resourceVersion": ""},
    })
}

/// The typed list (`PodList`) kubectl receives from a list call, for
/// JSONPath over `.items` with the server's list metadata.
pub fn typed_list_value(kind: &Kind, objects: &[&Object], resource_version: &str) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": format!("{}List", kind.kind),
        "items": objects.iter().map(|o| o.to_value()).collect::<Vec<_>>(),
        "metadata": {"resourceVersion": resource_version},
    })
}
