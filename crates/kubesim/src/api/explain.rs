//! The API schema `kubectl explain` prints, and its plaintext rendering.
//!
//! In Kubernetes, kube-apiserver publishes an OpenAPI v3 document per
//! group-version (`/openapi/v3/apis/apps/v1`, ...); `kubectl explain`
//! downloads it and renders one kind or field through the template
//! `staging/src/k8s.io/kubectl/pkg/explain/v2/templates/plaintext.tmpl`,
//! with the helpers of `explain/v2/funcs.go` (`wrap` is go-wordwrap's
//! `WrapString`, `indent` pads every line).
//!
//! Here the schema is `data/explain.json`, generated from k8s-openapi's
//! JSON schemas of the kinds the simulation serves by
//! `tools/explain-schema` (descriptions, types, properties, required
//! fields, `$ref`s). The CLI and the tests compile it in; the page fetches
//! it once after it starts (it would add a twentieth to the page's
//! download) and hands it to [`install`]. The rendering follows the
//! template step by step: the field path is followed through properties,
//! array items, map values and `allOf`; types are guessed as the template
//! guesses them (`[]Container`, `map[string]string`, `Object`); fields are
//! listed in name order, each with its description wrapped at 76 columns.
//!
//! Left out: `enum` lists (k8s-openapi's schemas carry none, so the
//! `ENUM:` lines of kubectl 1.37 are missing), `externalDocs` (none in
//! these schemas), `--output plaintext-openapiv2`, and the request for the
//! document: it is read locally rather than through the API server.

use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// A schema node, reduced to what the template reads.
#[derive(Debug, Default)]
struct Node {
    description: String,
    ty: Option<String>,
    reference: Option<String>,
    all_of: Vec<Node>,
    properties: BTreeMap<String, Node>,
    required: Vec<String>,
    items: Option<Box<Node>>,
    additional: Option<Box<Node>>,
}

impl Node {
    fn parse(v: &Value) -> Node {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let child = |k: &str| {
            v.get(k)
                .filter(|c| c.is_object())
                .map(|c| Box::new(Node::parse(c)))
        };
        let mut node = Node {
            description: text("description").unwrap_or_default(),
            ty: text("type"),
            reference: text("$ref"),
            all_of: v
                .get("allOf")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Node::parse).collect())
                .unwrap_or_default(),
            properties: v
                .get("properties")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, p)| (k.clone(), Node::parse(p))).collect())
                .unwrap_or_default(),
            required: v
                .get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            items: child("items"),
            additional: child("additionalProperties"),
        };
        // The API server's OpenAPI v3 document wraps a described reference
        // as `{description, allOf: [{$ref}]}`, so a field's own description
        // comes before its type's; k8s-openapi's schemas put `$ref` beside
        // the description. Reshape to what the template expects.
        if node.reference.is_some() && !node.description.is_empty() {
            let reference = node.reference.take();
            node.all_of.push(Node {
                reference,
                ..Node::default()
            });
        }
        node
    }
}

/// One kind the schema describes.
#[derive(Debug)]
struct KindSchema {
    group: String,
    version: String,
    kind: String,
    definition: String,
}

/// The schema document: the kinds and the definitions they reach.
#[derive(Debug)]
pub struct Schema {
    kinds: Vec<KindSchema>,
    definitions: BTreeMap<String, Node>,
}

thread_local! {
    static INSTALLED: RefCell<Option<Rc<Schema>>> = const { RefCell::new(None) };
    /// The document fetched but not parsed yet (see [`install_later`]).
    static PENDING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The generated schema, compiled into native builds.
#[cfg(not(target_arch = "wasm32"))]
const EMBEDDED: &str = include_str!("../../data/explain.json");

/// Parses and installs the schema document (`data/explain.json`): what the
/// page does once it has fetched it.
pub fn install(json: &str) -> Result<(), String> {
    let schema = Schema::parse(json)?;
    INSTALLED.with(|s| *s.borrow_mut() = Some(Rc::new(schema)));
    Ok(())
}

/// Keeps the schema document to parse when it is first needed (by
/// `kubectl explain` or its completion): the page fetches it as it
/// starts, and parsing its 400 KB there would delay the first diagram.
pub fn install_later(json: String) {
    PENDING.with(|p| *p.borrow_mut() = Some(json));
}

/// The schema, if there is one yet (natively always: it is compiled in).
/// A document kept by [`install_later`] is parsed now; if it does not
/// parse, there is none.
pub fn schema() -> Option<Rc<Schema>> {
    if let Some(json) = PENDING.with(|p| p.borrow_mut().take()) {
        // Not parsable: no schema, as if it had not been fetched.
        let _ = install(&json);
    }
    let installed = INSTALLED.with(|s| s.borrow().clone());
    #[cfg(not(target_arch = "wasm32"))]
    if installed.is_none() {
        install(EMBEDDED).ok()?;
        return INSTALLED.with(|s| s.borrow().clone());
    }
    installed
}

impl Schema {
    pub fn parse(json: &str) -> Result<Schema, String> {
        let doc: Value = serde_json::from_str(json).map_err(|e| format!("the API schema: {e}"))?;
        let kinds = doc
            .get("kinds")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|k| {
                        let s =
                            |f: &str| k.get(f).and_then(Value::as_str).unwrap_or("").to_string();
                        KindSchema {
                            group: s("group"),
                            version: s("version"),
                            kind: s("kind"),
                            definition: s("schema"),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let definitions = doc
            .get("definitions")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), Node::parse(v))).collect())
            .unwrap_or_default();
        Ok(Schema { kinds, definitions })
    }

    /// Whether the document describes `group/version` `kind`.
    pub fn has_kind(&self, group: &str, version: &str, kind: &str) -> bool {
        self.kinds
            .iter()
            .any(|k| k.group == group && k.version == version && k.kind == kind)
    }

    /// `kubectl explain`'s plaintext output for a kind and a field path
    /// (`plaintext.tmpl`), or its error.
    pub fn explain(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        field_path: &[String],
        recursive: bool,
    ) -> Result<String, String> {
        let entry = self
            .kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.kind == kind);
        let gvr = || {
            // schema.GroupVersionResource's String: "group/version, Resource=r".
            format!("{group}/{version}, Kind={kind}")
        };
        let entry =
            entry.ok_or_else(|| format!("error: GVR ({}) not found in OpenAPI schema", gvr()))?;
        let root = self
            .definitions
            .get(&entry.definition)
            .ok_or_else(|| format!("error: GVK {} not found in OpenAPI schema", gvr()))?;
        let mut out = String::new();
        if !entry.group.is_empty() {
            out.push_str(&format!("GROUP:      {}\n", entry.group));
        }
        out.push_str(&format!("KIND:       {}\n", entry.kind));
        out.push_str(&format!("VERSION:    {}\n", entry.version));
        out.push('\n');
        let body = self.output(root, field_path, &BTreeSet::new(), recursive);
        if body.is_empty() {
            let field = field_path.last().map(String::as_str).unwrap_or("");
            return Err(format!("error: field \"{field}\" does not exist"));
        }
        out.push_str(&body);
        out.push('\n');
        Ok(out)
    }

    /// The fields at the end of a field path, each with whether it has
    /// fields of its own (what Tab offers after `kubectl explain pods.`).
    pub fn fields(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        path: &[String],
    ) -> Vec<(String, bool)> {
        let Some(entry) = self
            .kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.kind == kind)
        else {
            return Vec::new();
        };
        let Some(mut node) = self.definitions.get(&entry.definition) else {
            return Vec::new();
        };
        for field in path {
            match self.properties(node, 8).and_then(|p| p.get(field)) {
                Some(next) => node = next,
                None => return Vec::new(),
            }
        }
        self.properties(node, 8)
            .map(|p| {
                p.iter()
                    .map(|(name, f)| (name.clone(), self.properties(f, 8).is_some()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The properties a node has, through its reference, array items, map
    /// values and `allOf` (as the template's field path follows them).
    fn properties<'a>(
        &'a self,
        node: &'a Node,
        depth: usize,
    ) -> Option<&'a BTreeMap<String, Node>> {
        let resolved = self.resolve(node);
        if !resolved.properties.is_empty() {
            return Some(&resolved.properties);
        }
        let depth = depth.checked_sub(1)?;
        let nested = resolved
            .items
            .iter()
            .chain(&resolved.additional)
            .map(|b| &**b);
        nested
            .chain(&resolved.all_of)
            .find_map(|n| self.properties(n, depth))
    }

    /// `resolveRef`: the definition a `$ref` names.
    fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        node.reference
            .as_ref()
            .and_then(|r| self.definitions.get(r))
            .unwrap_or(node)
    }

    /// The template's `output`: follows the field path, then prints the
    /// description and the field list of where it ends.
    fn output(
        &self,
        node: &Node,
        path: &[String],
        history: &BTreeSet<String>,
        recursive: bool,
    ) -> String {
        let reference = node.reference.clone().unwrap_or_default();
        let mut next = history.clone();
        next.insert(reference.clone());
        let resolved = self.resolve(node);
        let Some((first, rest)) = path.split_first() else {
            let mut s = String::from("DESCRIPTION:\n");
            let description = self.description(resolved);
            let description = if description.is_empty() {
                "<empty>".to_string()
            } else {
                description
            };
            s.push_str(&indent(4, &wrap(76, &description)));
            s.push('\n');
            let fields = self.field_list(resolved, 1, &BTreeSet::new(), recursive);
            if !fields.is_empty() {
                s.push_str("FIELDS:\n");
                s.push_str(&fields);
            }
            return s;
        };
        if !reference.is_empty() && history.contains(&reference) {
            // A cycle: print nothing.
            return String::new();
        }
        if let Some(sub) = resolved.properties.get(first) {
            let mut s = String::new();
            if rest.is_empty() {
                s.push_str(&format!("FIELD: {first} <{}>\n", self.type_guess(sub)));
                s.push_str("\n\n");
            }
            s.push_str(&self.output(sub, rest, &BTreeSet::new(), recursive));
            return s;
        }
        if let Some(items) = &resolved.items {
            return self.output(items, path, &next, recursive);
        }
        if let Some(values) = &resolved.additional {
            return self.output(values, path, &next, recursive);
        }
        for alternative in &resolved.all_of {
            let s = self.output(alternative, path, &next, recursive);
            if !s.is_empty() {
                return s;
            }
        }
        String::new()
    }

    /// The template's `description`: the schema's own description, then
    /// those of its `allOf`, array items and map values, a line each.
    fn description(&self, node: &Node) -> String {
        let resolved = self.resolve(node);
        let mut s = String::new();
        if !resolved.description.is_empty() {
            s.push_str(&resolved.description);
            s.push('\n');
        }
        for alternative in &resolved.all_of {
            s.push_str(&self.description(alternative));
        }
        if let Some(items) = &resolved.items {
            s.push_str(&self.description(items));
        }
        if let Some(values) = &resolved.additional {
            s.push_str(&self.description(values));
        }
        s
    }

    /// The template's `fieldList`: each property in name order (and, with
    /// `--recursive`, the fields of its type, indented; a type already on
    /// the path is not entered again).
    fn field_list(
        &self,
        node: &Node,
        level: usize,
        history: &BTreeSet<String>,
        recursive: bool,
    ) -> String {
        let reference = node.reference.clone().unwrap_or_default();
        if !reference.is_empty() && history.contains(&reference) {
            return String::new();
        }
        let mut next = history.clone();
        next.insert(reference);
        let resolved = self.resolve(node);
        let mut s = String::new();
        for (name, field) in &resolved.properties {
            s.push_str(&self.field_detail(name, resolved, recursive, level));
            if recursive {
                s.push_str(&self.field_list(field, level + 1, &next, recursive));
            }
        }
        for alternative in &resolved.all_of {
            s.push_str(&self.field_list(alternative, level, &next, recursive));
        }
        if let Some(items) = &resolved.items {
            s.push_str(&self.field_list(items, level, &next, recursive));
        }
        if let Some(values) = &resolved.additional {
            s.push_str(&self.field_list(values, level, &next, recursive));
        }
        s
    }

    /// The template's `fieldDetail`: `name<TAB><type> -required-`, then
    /// (unless short) the description and a blank line.
    fn field_detail(&self, name: &str, parent: &Node, short: bool, level: usize) -> String {
        let amount = level * 2;
        let Some(field) = parent.properties.get(name) else {
            return String::new();
        };
        let mut s = indent(amount, name);
        s.push_str(&format!("\t<{}>", self.type_guess(field)));
        if parent.required.iter().any(|r| r == name) {
            s.push_str(" -required-");
        }
        s.push('\n');
        if !short {
            let description = if field.description.is_empty() {
                "<no description>"
            } else {
                field.description.as_str()
            };
            s.push_str(&indent(
                amount + 2,
                &wrap(78usize.saturating_sub(amount), description),
            ));
            s.push('\n');
            s.push('\n');
        }
        s
    }

    /// The template's `typeGuess`: `string`, `integer`, `Object`,
    /// `[]Container`, `map[string]string`, a referenced type's name (or its
    /// primitive type: `Time` is a `string`).
    fn type_guess(&self, node: &Node) -> String {
        if let Some(items) = &node.items {
            return format!("[]{}", self.type_guess(items));
        }
        if let Some(values) = &node.additional {
            return format!("map[string]{}", self.type_guess(values));
        }
        if node.all_of.len() == 1 && node.properties.is_empty() {
            return self.type_guess(&node.all_of[0]);
        }
        if let Some(reference) = &node.reference {
            let target = self.definitions.get(reference);
            return match target.and_then(|t| t.ty.as_deref()) {
                Some(ty) if ty != "object" => ty.to_string(),
                _ => {
                    let name = reference.rsplit('/').next().unwrap_or(reference);
                    match name.rsplit('.').next() {
                        Some(last) if !last.is_empty() => last.to_string(),
                        _ => "Object".to_string(),
                    }
                }
            };
        }
        match node.ty.as_deref() {
            Some("object") | None => "Object".to_string(),
            Some(ty) => ty.to_string(),
        }
    }
}

/// `indent`: pads the first line and every line after a newline.
fn indent(amount: usize, text: &str) -> String {
    let pad = " ".repeat(amount);
    format!("{pad}{}", text.replace('\n', &format!("\n{pad}")))
}

/// `wrap` (`term.NewWordWrapWriter`, go-wordwrap's `WrapString`): breaks
/// lines at white space so they fit in `limit` characters; a word longer
/// than the limit gets a line of its own; existing line breaks stay.
fn wrap(limit: usize, text: &str) -> String {
    const NBSP: char = '\u{a0}';
    /// The spaces and the word read since the last write, with their
    /// lengths in characters.
    #[derive(Default)]
    struct Pending {
        space: String,
        word: String,
        space_len: usize,
        word_len: usize,
    }
    impl Pending {
        /// Writes the spaces (if `spaces`) and the word, and forgets them.
        fn flush(&mut self, out: &mut String, spaces: bool) {
            if spaces {
                out.push_str(&self.space);
            }
            out.push_str(&self.word);
            *self = Pending::default();
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut current = 0usize;
    let mut p = Pending::default();
    for c in text.chars() {
        if c == '\n' {
            // The line ends here: what is pending is written (trailing
            // spaces only if they fit), and the count starts again.
            let spaces = !p.word.is_empty() || current + p.space_len <= limit;
            p.flush(&mut out, spaces);
            out.push(c);
            current = 0;
        } else if c.is_whitespace() && c != NBSP {
            if p.space.is_empty() || !p.word.is_empty() {
                current += p.space_len + p.word_len;
                p.flush(&mut out, true);
            }
            p.space.push(c);
            p.space_len += 1;
        } else {
            p.word.push(c);
            p.word_len += 1;
            if current + p.space_len + p.word_len > limit && p.word_len < limit {
                out.push('\n');
                current = 0;
                p.space.clear();
                p.space_len = 0;
            }
        }
    }
    let spaces = !p.word.is_empty() || current + p.space_len <= limit;
    p.flush(&mut out, spaces);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_kept_for_later_is_parsed_when_first_asked_for() {
        install_later(r#"{"kinds": [], "definitions": {}}"#.to_string());
        assert!(PENDING.with(|p| p.borrow().is_some()));
        let schema = schema().expect("the kept schema");
        assert!(schema.kinds.is_empty());
        assert!(PENDING.with(|p| p.borrow().is_none()));
        // The embedded one again, for the other tests on this thread.
        install(EMBEDDED).expect("the embedded schema");
        assert!(!schema_kinds_empty());
    }

    fn schema_kinds_empty() -> bool {
        schema().is_none_or(|s| s.kinds.is_empty())
    }

    fn explain(kind: (&str, &str, &str), path: &str, recursive: bool) -> Result<String, String> {
        let path: Vec<String> = path
            .split('.')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        schema()
            .ok_or("no schema")?
            .explain(kind.0, kind.1, kind.2, &path, recursive)
    }

    #[test]
    fn the_fields_of_a_path_say_which_have_fields_of_their_own() {
        let schema = schema().expect("the embedded schema parses");
        let spec = schema.fields("", "v1", "Pod", &["spec".to_string()]);
        assert!(spec.contains(&("containers".to_string(), true)));
        assert!(spec.contains(&("nodeName".to_string(), false)));
        let ports = schema.fields(
            "",
            "v1",
            "Pod",
            &["spec".into(), "containers".into(), "ports".into()],
        );
        assert!(ports.contains(&("containerPort".to_string(), false)));
        assert!(schema
            .fields("", "v1", "Pod", &["nosuch".to_string()])
            .is_empty());
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_gives_a_long_word_its_own_line() {
        assert_eq!(
            wrap(3, "this is a really good test"),
            "this\nis\na\nreally\ngood\ntest"
        );
        assert_eq!(wrap(10, "one two three"), "one two\nthree");
        assert_eq!(
            wrap(12, "More info: https://example.com/a/very/long/url ok"),
            "More info:\nhttps://example.com/a/very/long/url\nok"
        );
        assert_eq!(wrap(20, "first line\nsecond"), "first line\nsecond");
    }

    #[test]
    fn indent_pads_every_line() {
        assert_eq!(indent(2, "a\nb"), "  a\n  b");
        assert_eq!(indent(4, "a\n"), "    a\n    ");
    }

    #[test]
    fn the_schema_describes_every_kind_the_simulation_serves() {
        let schema = schema().expect("the embedded schema parses");
        for k in crate::api::object::KINDS {
            if k.id == crate::api::object::KindId::TokenRequest {
                continue;
            }
            assert!(
                schema.has_kind(k.group, k.version, k.kind),
                "{}/{} {} is missing from data/explain.json",
                k.group,
                k.version,
                k.kind
            );
        }
    }

    #[test]
    fn a_kind_prints_its_description_and_fields_in_name_order() {
        let out = explain(("", "v1", "Pod"), "", false).unwrap_or_default();
        assert!(out.starts_with("KIND:       Pod\nVERSION:    v1\n\nDESCRIPTION:\n    Pod is a collection of containers that can run on a host. This resource is\n    created by clients and scheduled onto hosts.\n    \nFIELDS:\n  apiVersion\t<string>\n    APIVersion defines"), "{out}");
        let order: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .map(|l| l.trim().split('\t').next().unwrap_or(""))
            .collect();
        assert_eq!(order, ["apiVersion", "kind", "metadata", "spec", "status"]);
        assert!(out
            .contains("  spec\t<PodSpec>\n    Specification of the desired behavior of the pod."));
    }

    #[test]
    fn a_grouped_kind_prints_its_group() {
        let out = explain(("apps", "v1", "Deployment"), "", false).unwrap_or_default();
        assert!(
            out.starts_with("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n"),
            "{out}"
        );
    }

    #[test]
    fn a_field_path_goes_through_arrays_and_prints_the_field_then_its_type() {
        let out = explain(("", "v1", "Pod"), "spec.containers", false).unwrap_or_default();
        assert!(out.contains("FIELD: containers <[]Container>\n\n\nDESCRIPTION:\n    List of containers belonging to the pod."), "{out}");
        assert!(
            out.contains(
                "\n    A single application container that you want to run within a pod.\n"
            ),
            "{out}"
        );
        assert!(out.contains("  name\t<string> -required-\n"), "{out}");
        let out = explain(("", "v1", "Pod"), "spec.containers.resources.limits", false)
            .unwrap_or_default();
        assert!(out.contains("FIELD: limits <map[string]Quantity>"), "{out}");
        let out = explain(
            ("apps", "v1", "Deployment"),
            "spec.strategy.rollingUpdate.maxSurge",
            false,
        )
        .unwrap_or_default();
        assert!(out.contains("FIELD: maxSurge <IntOrString>"), "{out}");
        let out =
            explain(("", "v1", "Pod"), "metadata.creationTimestamp", false).unwrap_or_default();
        assert!(out.contains("FIELD: creationTimestamp <string>"), "{out}");
    }

    #[test]
    fn a_missing_field_is_named_as_kubectl_names_it() {
        assert_eq!(
            explain(("", "v1", "Pod"), "spec.nosuch", false),
            Err("error: field \"nosuch\" does not exist".to_string())
        );
        // The template names the last element of the path.
        assert_eq!(
            explain(("", "v1", "Pod"), "nosuch.deeper", false),
            Err("error: field \"deeper\" does not exist".to_string())
        );
    }

    #[test]
    fn recursive_lists_nested_fields_by_indentation_without_descriptions() {
        let out = explain(("", "v1", "Pod"), "spec.affinity", true).unwrap_or_default();
        assert!(out.contains("FIELDS:\n  nodeAffinity\t<NodeAffinity>\n    preferredDuringSchedulingIgnoredDuringExecution\t<[]PreferredSchedulingTerm>\n      preference\t<NodeSelectorTerm> -required-\n"), "{out}");
        assert!(
            !out.contains("Describes node affinity scheduling rules for the pod.\n  "),
            "{out}"
        );
    }
}
