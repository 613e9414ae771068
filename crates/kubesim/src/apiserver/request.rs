//! What travels between API clients and kube-apiserver.
//!
//! A request names a verb, a kind (the REST resource), an optional
//! subresource, namespace and name, and carries a credential, as an HTTP
//! request to `/api/v1/namespaces/default/pods/nginx/status` with a bearer
//! token or a client certificate would. Bodies are typed objects: the wire
//! encoding is left out (the storage layer does encode objects for etcd).

use super::auth::authn::Credential;
use crate::api::{ApiError, KindId, Object};
use std::fmt;
use std::rc::Rc;

/// The Kubernetes API verbs (RBAC's verbs for resource requests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    /// The verb as RBAC rules and audit logs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }

    /// The HTTP method kubectl uses.
    pub fn http_method(self) -> &'static str {
        match self {
            Verb::Get | Verb::List | Verb::Watch => "GET",
            Verb::Create => "POST",
            Verb::Update => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete | Verb::DeleteCollection => "DELETE",
        }
    }

    /// Whether the verb changes stored state.
    pub fn is_write(self) -> bool {
        !matches!(self, Verb::Get | Verb::List | Verb::Watch)
    }
}

/// How dependents are treated when their owner is deleted
/// (`metav1.DeletionPropagation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Propagation> {
        match s.to_ascii_lowercase().as_str() {
            "background" | "true" => Some(Propagation::Background),
            "foreground" => Some(Propagation::Foreground),
            "orphan" | "false" => Some(Propagation::Orphan),
            _ => None,
        }
    }
}

/// Query parameters and delete options.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestOptions {
    /// `resourceVersion`: on reads, where to read from; on writes, the
    /// precondition is the body's `metadata.resourceVersion` instead.
    pub resource_version: Option<String>,
    /// `labelSelector`, in the selector syntax (`app=web,tier!=db`).
    pub label_selector: Option<String>,
    /// `fieldSelector` (`spec.nodeName=worker-1`, `metadata.name=x`).
    pub field_selector: Option<String>,
    /// `propagationPolicy` for deletes.
    pub propagation: Option<Propagation>,
    /// `gracePeriodSeconds` for deletes.
    pub grace_period_seconds: Option<i64>,
    /// `allowWatchBookmarks` on watches.
    pub allow_bookmarks: bool,
    /// `dryRun=All`: run the whole pipeline but store nothing.
    pub dry_run: bool,
    /// The query of `pods/log` and `pods/exec` (boxed: most requests have
    /// none).
    pub stream: Option<Box<StreamOptions>>,
}

/// `PodLogOptions` and `PodExecOptions`, as far as simulated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamOptions {
    /// `container`.
    pub container: Option<String>,
    /// `previous` (logs).
    pub previous: bool,
    /// `tailLines` (logs).
    pub tail_lines: Option<i64>,
    /// `timestamps` (logs).
    pub timestamps: bool,
    /// `follow` (logs): the response streams the container's new lines
    /// until it stops.
    pub follow: bool,
    /// `sinceSeconds` (logs).
    pub since_seconds: Option<i64>,
    /// `sinceTime` (logs), as a virtual instant.
    pub since_time: Option<crate::world::SimTime>,
    /// `command`, repeated (exec).
    pub command: Vec<String>,
    /// `stdin` (attach): the client sends input.
    pub stdin: bool,
    /// `tty` (attach).
    pub tty: bool,
    /// `ports` (portforward): the pod's ports the connection forwards to.
    pub ports: Vec<u16>,
}

/// Whether a request upgrades its connection to a long-lived stream
/// (`pods/attach`, `pods/portforward`: SPDY or WebSocket in Kubernetes):
/// its answers keep coming until the stream closes.
pub fn is_upgrade(r: &ApiRequest) -> bool {
    r.kind == KindId::Pod
        && matches!(
            r.subresource.as_deref(),
            Some("attach") | Some("portforward")
        )
}

/// Whether the connection of a request stays open after its first answer:
/// an upgraded one ([`is_upgrade`]) or a followed `pods/log`, whose
/// response body streams until the container stops.
pub fn stays_open(r: &ApiRequest) -> bool {
    is_upgrade(r)
        || (r.kind == KindId::Pod
            && r.subresource.as_deref() == Some("log")
            && r.options.stream.as_ref().is_some_and(|s| s.follow))
}

/// One request to the API.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub verb: Verb,
    pub kind: KindId,
    /// `status`, `binding`, `eviction`, `log`, `exec`, `scale`, ...
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub body: Option<Rc<Object>>,
    /// A PATCH's document (`kubectl patch`): applied by the API server to
    /// the stored object, which then takes the update path. Without it, a
    /// PATCH carries the whole patched object in `body` (the controllers
    /// compute their patches themselves).
    pub patch: Option<Rc<crate::api::patch::Patch>>,
    pub options: RequestOptions,
    pub credential: Credential,
    /// `Impersonate-User` / `Impersonate-Group` (kubectl `--as`, `--as-group`).
    pub impersonate: Option<(String, Vec<String>)>,
}

impl ApiRequest {
    /// A request with no body, options or subresource.
    pub fn new(verb: Verb, kind: KindId, credential: Credential) -> Self {
        ApiRequest {
            verb,
            kind,
            subresource: None,
            namespace: None,
            name: None,
            body: None,
            patch: None,
            options: RequestOptions::default(),
            credential,
            impersonate: None,
        }
    }

    pub fn in_namespace(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn with_body(mut self, body: Object) -> Self {
        self.body = Some(Rc::new(body));
        self
    }

    /// A PATCH of `patch` (kubectl's `-p`).
    pub fn with_patch(mut self, patch: crate::api::patch::Patch) -> Self {
        self.patch = Some(Rc::new(patch));
        self
    }

    pub fn with_subresource(mut self, sub: impl Into<String>) -> Self {
        self.subresource = Some(sub.into());
        self
    }

    /// The request path, as kubectl `-v=6` logs it.
    pub fn path(&self) -> String {
        let k = self.kind.info();
        let mut p = if k.group.is_empty() {
            format!("/api/{}", k.version)
        } else {
            format!("/apis/{}/{}", k.group, k.version)
        };
        if let Some(ns) = self.namespace.as_deref().filter(|_| k.namespaced) {
            p.push_str("/namespaces/");
            p.push_str(ns);
        }
        p.push('/');
        p.push_str(k.plural);
        if let Some(n) = &self.name {
            p.push('/');
            p.push_str(n);
        }
        if let Some(s) = &self.subresource {
            p.push('/');
            p.push_str(s);
        }
        if self.verb == Verb::Watch {
            p.push_str("?watch=true");
        }
        p
    }
}

impl fmt::Display for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb.http_method(), self.path())
    }
}

/// The kind of change a watch event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    /// Progress: nothing changed, the watch is at `resourceVersion`.
    Bookmark,
}

impl WatchEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
            WatchEventType::Bookmark => "BOOKMARK",
        }
    }
}

/// One watch event (`metav1.WatchEvent`).
#[derive(Clone, Debug)]
pub struct WatchEvent {
    pub kind: WatchEventType,
    /// The object after the change (before it, for a delete). A bookmark
    /// carries only its resourceVersion.
    pub object: Option<Rc<Object>>,
    pub resource_version: u64,
}

/// The answer to an [`ApiRequest`].
#[derive(Clone, Debug)]
pub enum ApiResponse {
    /// One object (get, create, update, patch, and deletes that leave the
    /// object in place with a deletionTimestamp).
    Object(Rc<Object>),
    /// A list, at a resourceVersion.
    List {
        kind: KindId,
        items: Vec<Rc<Object>>,
        resource_version: u64,
    },
    /// A delete that removed the object: kube-apiserver answers with the
    /// object as it was (or a Success Status for some kinds).
    Deleted(Rc<Object>),
    /// A watch was opened; its events follow as [`ApiResponse::Watch`]
    /// messages with the same request id.
    WatchStarted,
    /// An event on an open watch.
    Watch(WatchEvent),
    /// The watch was closed by the server (its events are gone: relist).
    WatchClosed(ApiError),
    /// A failure, as a `Status`.
    Error(ApiError),
    /// What a kubelet streamed back through the API server (`pods/log`:
    /// the log; `pods/exec`: the command's output and exit code).
    Stream {
        stdout: String,
        stderr: String,
        exit_code: Option<i32>,
    },
    /// An upgraded connection (`pods/attach`, `pods/portforward`) is open
    /// (`101 Switching Protocols`); its data follows as
    /// [`ApiResponse::StreamData`] with the same request id.
    StreamOpened,
    /// Data on an upgraded connection.
    StreamData(crate::kubelet::server::StreamFrame),
    /// The upgraded connection closed, with the reason if it broke.
    StreamClosed(Option<String>),
}

impl ApiResponse {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiResponse::Error(e) | ApiResponse::WatchClosed(e) => e.code(),
            _ => 200,
        }
    }

    /// A one-line summary for the trace.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        self.write_summary(&mut out);
        out
    }

    /// Writes [`ApiResponse::summary`] into `out` (the trace reuses its
    /// buffers).
    pub fn write_summary(&self, out: &mut String) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            ApiResponse::Object(o) => write!(
                out,
                "200 {} {} rv={}",
                o.kind().kind,
                o.name(),
                o.resource_version().unwrap_or("")
            ),
            ApiResponse::List {
                kind,
                items,
                resource_version,
            } => write!(
                out,
                "200 {}List ({} items) rv={resource_version}",
                kind.info().kind,
                items.len()
            ),
            ApiResponse::Deleted(o) => write!(out, "200 deleted {} {}", o.kind().kind, o.name()),
            ApiResponse::WatchStarted => out.write_str("200 watch started"),
            ApiResponse::Watch(e) => match &e.object {
                Some(o) => write!(
                    out,
                    "{} {} {} rv={}",
                    e.kind.as_str(),
                    o.kind().kind,
                    o.name(),
                    e.resource_version
                ),
                None => write!(out, "{} rv={}", e.kind.as_str(), e.resource_version),
            },
            ApiResponse::WatchClosed(e) => write!(out, "watch closed: {}", e.message),
            ApiResponse::Error(e) => write!(out, "{} {}", e.code(), e.message),
            ApiResponse::Stream {
                stdout, exit_code, ..
            } => match exit_code {
                Some(code) => write!(out, "101 exec stream, exit code {code}"),
                None => write!(out, "200 log stream ({} lines)", stdout.lines().count()),
            },
            ApiResponse::StreamOpened => out.write_str("101 Switching Protocols"),
            ApiResponse::StreamData(f) => out.write_str(&f.summary()),
            ApiResponse::StreamClosed(None) => out.write_str("stream closed"),
            ApiResponse::StreamClosed(Some(e)) => write!(out, "stream closed: {e}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_those_kubectl_logs() {
        let r = ApiRequest::new(Verb::Get, KindId::Pod, Credential::None)
            .in_namespace("default")
            .named("nginx")
            .with_subresource("status");
        assert_eq!(
            r.to_string(),
            "GET /api/v1/namespaces/default/pods/nginx/status"
        );
        let r =
            ApiRequest::new(Verb::List, KindId::Deployment, Credential::None).in_namespace("web");
        assert_eq!(r.path(), "/apis/apps/v1/namespaces/web/deployments");
        let r =
            ApiRequest::new(Verb::Watch, KindId::Node, Credential::None).in_namespace("ignored");
        assert_eq!(r.path(), "/api/v1/nodes?watch=true");
    }

    #[test]
    fn propagation_policies_parse_as_kubectl_cascade_values() {
        assert_eq!(
            Propagation::parse("foreground"),
            Some(Propagation::Foreground)
        );
        assert_eq!(Propagation::parse("orphan"), Some(Propagation::Orphan));
        assert_eq!(
            Propagation::parse("background"),
            Some(Propagation::Background)
        );
        assert_eq!(Propagation::parse("sideways"), None);
    }
}
