//! A plain HTTPS client in a pod (`curl https://kubernetes.default.svc/...`)
//! talking to an instance: what it gets back, body and status code.
//!
//! The request passes the same stages as any other: authentication (the
//! `Authorization: Bearer` token, or anonymous without one), authorization
//! (a resource path becomes its resource attributes, anything else a
//! non-resource path, which `system:public-info-viewer` opens to everyone
//! for `/version`, `/healthz`, `/livez` and `/readyz`), then the read. The
//! body is what kube-apiserver writes for such a client: JSON indented by
//! two spaces (it pretty-prints for a `curl` user agent,
//! `responsewriters.isPrettyPrint`), a `metav1.Status` on failure.
//!
//! Simplifications: only GET; the answer is served at once from the
//! instance's watch cache (as a `resourceVersion=0` read would be) rather
//! than by a quorum read through etcd, because the exec that runs curl
//! answers within one step of the world; list items keep their `kind` and
//! `apiVersion`; no field or label selectors, paging or watch.

use super::ApiServer;
use crate::api::{ApiError, Object, KINDS};
use crate::apiserver::auth::authn::{Authenticator, Credential};
use crate::apiserver::auth::RequestAttributes;
use crate::apiserver::request::{ApiRequest, ApiResponse, Verb};
use crate::world::SimTime;
use serde_json::{json, Value};

/// The version `/version` reports.
fn version_body() -> Value {
    let v = crate::shell::exec::KUBERNETES_VERSION;
    let minor = v.split('.').nth(1).unwrap_or("0");
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": v,
        "platform": "linux/amd64",
    })
}

/// A JSON value as kube-apiserver pretty-prints it for curl (two spaces).
fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `metav1.Status` in its Go field order, pretty-printed.
pub fn status_body(e: &ApiError) -> String {
    let v = e.to_status();
    let mut out = String::from("{\n");
    let mut fields = Vec::new();
    for key in [
        "kind",
        "apiVersion",
        "metadata",
        "status",
        "message",
        "reason",
        "details",
        "code",
    ] {
        if let Some(value) = v.get(key) {
            let text = serde_json::to_string_pretty(value).unwrap_or_default();
            fields.push(format!("  {key:?}: {}", text.replace('\n', "\n  ")));
        }
    }
    out.push_str(&fields.join(",\n"));
    out.push_str("\n}\n");
    out
}

/// Compact JSON re-indented by two spaces, keys left in their order
/// (Go's `json.Indent`).
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

/// An object in its typed field order, pretty-printed.
fn object_body(o: &Object) -> String {
    indent(&String::from_utf8_lossy(&o.to_json_bytes()))
}

fn list_body(kind: &crate::api::Kind, items: &[std::rc::Rc<Object>], rv: u64) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|o| {
            let body = object_body(o);
            format!("    {}", body.trim_end().replace('\n', "\n    "))
        })
        .collect();
    let items = if items.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n  ]", items.join(",\n"))
    };
    format!(
        "{{\n  \"kind\": \"{}List\",\n  \"apiVersion\": \"{}\",\n  \"metadata\": {{\n    \"resourceVersion\": \"{rv}\"\n  }},\n  \"items\": {items}\n}}\n",
        kind.kind,
        kind.api_version()
    )
}

/// A resource path split into a request: `/api/v1/namespaces/<ns>/<plural>[/<name>]`,
/// `/api/v1/<plural>[/<name>]`, or the same under `/apis/<group>/<version>`.
fn resource_request(path: &str, credential: Credential) -> Option<ApiRequest> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, rest @ ..] => (Some(*ns), {
            let mut v = vec![*plural];
            v.extend_from_slice(rest);
            v
        }),
        other => (None, other.to_vec()),
    };
    let (plural, name) = match rest.as_slice() {
        [plural] => (*plural, None),
        [plural, name] => (*plural, Some(*name)),
        _ => return None,
    };
    let kind = KINDS.iter().find(|k| {
        k.plural == plural
            && k.group == group
            && k.version == version
            && k.id != crate::api::KindId::TokenRequest
    })?;
    let verb = if name.is_some() {
        Verb::Get
    } else {
        Verb::List
    };
    let mut r = ApiRequest::new(verb, kind.id, credential);
    if let Some(ns) = namespace {
        r = r.in_namespace(ns);
    }
    if let Some(n) = name {
        r = r.named(n);
    }
    r.options.resource_version = Some("0".into());
    Some(r)
}

impl ApiServer {
    /// A pod's `GET <path>` over HTTPS with an optional bearer token: the
    /// HTTP status and body.
    pub fn serve_pod_request(
        &self,
        authn: &Authenticator,
        now: SimTime,
        path: &str,
        bearer: Option<&str>,
    ) -> (u16, String) {
        let fail = |e: ApiError| (e.code(), status_body(&e));
        if !self.cache.synced() {
            return fail(ApiError::service_unavailable(
                "the server is currently unable to handle the request",
            ));
        }
        let credential =
            bearer.map_or(Credential::None, |t| Credential::BearerToken(t.to_string()));
        let user = match authn.authenticate_with(&credential, now, self) {
            Ok(a) => a.user,
            Err(_) => return fail(ApiError::unauthorized()),
        };
        let path = path.split('?').next().unwrap_or("/");
        let Some(request) = resource_request(path, credential) else {
            let attrs = RequestAttributes::non_resource(user, "get", path);
            if let Err(e) = self.authorize(&attrs) {
                return fail(e);
            }
            return match path.trim_end_matches('/') {
                "/version" => (200, pretty(&version_body())),
                "/healthz" | "/livez" | "/readyz" => (200, "ok".into()),
                _ => fail(ApiError::not_found_resource()),
            };
        };
        let attrs = Self::attributes(&user, &request);
        if let Err(e) = self.authorize(&attrs) {
            return fail(e);
        }
        match self.read_from_cache(&request) {
            ApiResponse::Object(o) => (200, object_body(&o)),
            ApiResponse::List {
                kind,
                items,
                resource_version,
            } => (200, list_body(kind.info(), &items, resource_version)),
            ApiResponse::Error(e) => fail(e),
            other => (500, other.summary()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::KindId;

    #[test]
    fn resource_paths_become_requests_and_others_do_not() {
        let r = resource_request("/api/v1/namespaces/default/pods", Credential::None).unwrap();
        assert_eq!((r.verb, r.kind), (Verb::List, KindId::Pod));
        assert_eq!(r.namespace.as_deref(), Some("default"));
        let r = resource_request(
            "/apis/apps/v1/namespaces/x/deployments/web",
            Credential::None,
        )
        .unwrap();
        assert_eq!((r.verb, r.kind), (Verb::Get, KindId::Deployment));
        assert_eq!(r.name.as_deref(), Some("web"));
        let r = resource_request("/api/v1/nodes", Credential::None).unwrap();
        assert_eq!(r.kind, KindId::Node);
        assert!(resource_request("/version", Credential::None).is_none());
        assert!(resource_request("/api/v1/namespaces/x/nothings", Credential::None).is_none());
    }

    #[test]
    fn compact_json_is_indented_by_two_spaces_in_its_own_key_order() {
        assert_eq!(
            indent(r#"{"z":1,"a":{"b":[1,"x,{"],"e":{}},"c":[]}"#),
            "{\n  \"z\": 1,\n  \"a\": {\n    \"b\": [\n      1,\n      \"x,{\"\n    ],\n    \"e\": {}\n  },\n  \"c\": []\n}\n"
        );
    }

    #[test]
    fn a_status_body_keeps_the_go_field_order() {
        let body = status_body(&ApiError::unauthorized());
        let keys: Vec<&str> = body
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            vec![
                "kind",
                "apiVersion",
                "metadata",
                "status",
                "message",
                "reason",
                "code"
            ]
        );
        assert!(body.contains("\"code\": 401"), "{body}");
    }
}
