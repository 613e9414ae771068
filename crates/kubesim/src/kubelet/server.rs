//! The kubelet's HTTPS endpoint (port 10250): container logs, exec, attach
//! and port-forward.
//!
//! In Kubernetes `kubectl logs` and `kubectl exec` never reach a node
//! directly. kubectl calls the API server's `pods/log` and `pods/exec`
//! subresources; the API server checks the pod and container
//! (`LogLocation`, `ExecLocation` in `pkg/registry/core/pod/strategy.go`),
//! finds the node's address and kubelet port in the Node's status, and calls
//! the kubelet's server (`pkg/kubelet/server/server.go`:
//! `/containerLogs/<ns>/<pod>/<container>`, `/exec/<ns>/<pod>/<container>`)
//! with its `apiserver-kubelet-client` certificate. The kubelet finds the
//! container in its pod workers, checks its state
//! (`validateContainerLogStatus` in `pkg/kubelet/kubelet_pods.go`) and asks
//! the runtime for the log file or an exec.
//!
//! Here a request and its answer are messages between the API server and
//! the kubelet across the simulated network (so they are drawn and can be
//! cut by a partition), and the answer comes from the container's simulated
//! behaviour in containerd. Left out: the kubelet's own authentication and
//! authorization of the caller (a SubjectAccessReview for `nodes/proxy`),
//! and streaming exec (`-f`, an interactive `-it` shell: an exec runs to
//! completion and answers once).
//!
//! Attach and port-forward upgrade the connection (SPDY or WebSocket in
//! Kubernetes; `/attach/<ns>/<pod>/<container>`, `/portForward/<ns>/<pod>`,
//! which the kubelet redirects to the CRI streaming server, `getAttach`,
//! `getPortForward` in `server.go`): the kubelet answers
//! [`KubeletResponse::Opened`] and keeps the stream. An attached container's
//! new output goes back as [`StreamFrame::Output`] when the kubelet's pod
//! workers next run; each connection kubectl accepts on a forwarded local
//! port arrives as a [`StreamInput::Connect`], which containerd serves from
//! inside the pod's network namespace (`localhost:<port>`, as
//! `PortForward` in containerd's `sandbox_portforward_linux.go` does), and
//! its answer goes back as [`StreamFrame::Forwarded`]. An HTTP GET is the
//! only payload a forwarded connection carries here; stdin is not sent
//! (no image in the catalog reads it interactively).

use crate::world::SimDuration;
use std::fmt;

/// The identity the API server presents to kubelets (kubeadm's
/// `apiserver-kubelet-client.crt`).
pub const APISERVER_KUBELET_CLIENT: &str = "kube-apiserver-kubelet-client";

/// How long an exec may run before the kubelet gives up on it
/// (`streamingConnectionIdleTimeout` is 4 h; a script cannot wait that long).
pub const EXEC_TIMEOUT: SimDuration = SimDuration::from_secs(300);

/// An exec whose command needs the cluster's network (a Service, another
/// pod, the cluster DNS): the container's own output so far and where it
/// runs, for the cluster to finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkCall {
    pub request: crate::runtime::ClusterRequest,
    pub stdout: String,
    pub namespace: String,
    pub pod: String,
    pub pod_ip: String,
}

/// What the API server asks a kubelet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeletRequest {
    /// `GET /containerLogs/<ns>/<pod>/<container>?follow=true&tailLines=N&...`.
    ContainerLogs {
        namespace: String,
        pod: String,
        container: String,
        previous: bool,
        tail_lines: Option<i64>,
        timestamps: bool,
        /// The response streams new lines until the container stops.
        follow: bool,
        since_seconds: Option<i64>,
        since_time: Option<crate::world::SimTime>,
    },
    /// `POST /exec/<ns>/<pod>/<container>?command=...&output=1&error=1`.
    Exec {
        namespace: String,
        pod: String,
        container: String,
        command: Vec<String>,
    },
    /// `POST /attach/<ns>/<pod>/<container>?output=1&error=1[&input=1][&tty=1]`.
    Attach {
        namespace: String,
        pod: String,
        container: String,
        stdin: bool,
        tty: bool,
    },
    /// `POST /portForward/<ns>/<pod>` (the ports come per connection).
    PortForward { namespace: String, pod: String },
}

/// What the caller sends on an open stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamInput {
    /// A connection kubectl accepted on a forwarded local port: a new stream
    /// pair for `port`, carrying an HTTP GET of `path`.
    Connect {
        connection: u64,
        port: u16,
        path: String,
    },
}

impl fmt::Display for StreamInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamInput::Connect {
                connection,
                port,
                path,
            } => write!(f, "stream {connection} to port {port}: GET {path}"),
        }
    }
}

/// What comes back on an open stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFrame {
    /// New output of an attached container, or new lines of a followed
    /// log (all in `stdout`, in the order the log file has them).
    Output { stdout: String, stderr: String },
    /// The answer on a forwarded connection: the HTTP status and body, or
    /// the error the kubelet wrote on the stream's error channel.
    Forwarded {
        connection: u64,
        port: u16,
        result: Result<(u16, String), String>,
    },
}

impl StreamFrame {
    pub fn summary(&self) -> String {
        match self {
            StreamFrame::Output { stdout, stderr } => format!(
                "output ({} lines)",
                stdout.lines().count() + stderr.lines().count()
            ),
            StreamFrame::Forwarded {
                connection,
                port,
                result,
            } => match result {
                Ok((status, body)) => {
                    format!(
                        "stream {connection} port {port}: {status} ({} bytes)",
                        body.len()
                    )
                }
                Err(e) => format!("stream {connection} port {port} error: {e}"),
            },
        }
    }
}

impl KubeletRequest {
    /// The request's path and query on the kubelet's server.
    pub fn path(&self) -> String {
        match self {
            KubeletRequest::ContainerLogs {
                namespace,
                pod,
                container,
                previous,
                tail_lines,
                timestamps,
                follow,
                since_seconds,
                since_time,
            } => {
                // `url.Values.Encode`: sorted by key.
                let mut q = Vec::new();
                if *follow {
                    q.push("follow=true".to_string());
                }
                if *previous {
                    q.push("previous=true".to_string());
                }
                if let Some(s) = since_seconds {
                    q.push(format!("sinceSeconds={s}"));
                }
                if let Some(t) = since_time {
                    let v = serde_json::to_value(crate::api::time::to_time(*t))
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    q.push(format!("sinceTime={}", v.replace(':', "%3A")));
                }
                if let Some(n) = tail_lines {
                    q.push(format!("tailLines={n}"));
                }
                if *timestamps {
                    q.push("timestamps=true".to_string());
                }
                let q = if q.is_empty() {
                    String::new()
                } else {
                    format!("?{}", q.join("&"))
                };
                format!("/containerLogs/{namespace}/{pod}/{container}{q}")
            }
            KubeletRequest::Exec {
                namespace,
                pod,
                container,
                command,
            } => {
                let q: Vec<String> = command.iter().map(|c| format!("command={c}")).collect();
                format!(
                    "/exec/{namespace}/{pod}/{container}?{}&error=1&output=1",
                    q.join("&")
                )
            }
            KubeletRequest::Attach {
                namespace,
                pod,
                container,
                stdin,
                tty,
            } => {
                let mut q = vec!["error=1", "output=1"];
                if *stdin {
                    q.push("input=1");
                }
                if *tty {
                    q.push("tty=1");
                }
                format!("/attach/{namespace}/{pod}/{container}?{}", q.join("&"))
            }
            KubeletRequest::PortForward { namespace, pod } => {
                format!("/portForward/{namespace}/{pod}")
            }
        }
    }

    pub fn method(&self) -> &'static str {
        match self {
            KubeletRequest::ContainerLogs { .. } => "GET",
            _ => "POST",
        }
    }

    /// The pod's namespace and name.
    pub fn pod(&self) -> (&str, &str) {
        match self {
            KubeletRequest::ContainerLogs { namespace, pod, .. }
            | KubeletRequest::Exec { namespace, pod, .. }
            | KubeletRequest::Attach { namespace, pod, .. }
            | KubeletRequest::PortForward { namespace, pod } => (namespace, pod),
        }
    }
}

/// A kubelet's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeletResponse {
    /// The log lines, each ending in a newline.
    Logs(String),
    Exec {
        stdout: String,
        stderr: String,
        exit_code: i32,
    },
    /// An HTTP error with the kubelet's message (404 for a pod or container
    /// it does not run, 400 for a container with no logs yet).
    Error { code: u16, message: String },
    /// The connection was upgraded: a stream is open (attach, port-forward).
    Opened,
    /// Data on an open stream.
    Data(StreamFrame),
    /// The stream ended (the container exited, the pod went away), with
    /// the reason if it broke.
    Closed(Option<String>),
}

impl KubeletResponse {
    pub fn summary(&self) -> String {
        match self {
            KubeletResponse::Logs(text) => format!("200 {} log lines", text.lines().count()),
            KubeletResponse::Exec { exit_code, .. } => {
                format!("101 exec done, exit code {exit_code}")
            }
            KubeletResponse::Error { code, message } => format!("{code} {message}"),
            KubeletResponse::Opened => "101 Switching Protocols".into(),
            KubeletResponse::Data(f) => f.summary(),
            KubeletResponse::Closed(None) => "stream closed".into(),
            KubeletResponse::Closed(Some(e)) => format!("stream closed: {e}"),
        }
    }
}

impl fmt::Display for KubeletRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

/// `validateContainerLogStatus`: which container's log to read, from the
/// container's status as the kubelet reports it.
pub fn log_container_id(
    status: &crate::api::pod::ContainerStatus,
    pod: &str,
    previous: bool,
) -> Result<String, String> {
    let name = &status.name;
    let state = status.state.clone().unwrap_or_default();
    let last = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.container_id.clone())
        .filter(|id| !id.is_empty());
    let id = if previous {
        last.ok_or_else(|| {
            format!("previous terminated container {name:?} in pod {pod:?} not found")
        })?
    } else if state.running.is_some() {
        status.container_id.clone().unwrap_or_default()
    } else if let Some(t) = &state.terminated {
        t.container_id
            .clone()
            .filter(|id| !id.is_empty())
            .or(last)
            .ok_or_else(|| format!("container {name:?} in pod {pod:?} is terminated"))?
    } else if let Some(id) = last {
        id
    } else if let Some(w) = &state.waiting {
        let reason = w.reason.clone().unwrap_or_default();
        return Err(match reason.as_str() {
            "ErrImagePull" => {
                format!("container {name:?} in pod {pod:?} is waiting to start: image can't be pulled")
            }
            "ImagePullBackOff" => format!(
                "container {name:?} in pod {pod:?} is waiting to start: trying and failing to pull image"
            ),
            _ => format!("container {name:?} in pod {pod:?} is waiting to start: {reason}"),
        });
    } else {
        return Err(format!(
            "container {name:?} in pod {pod:?} is waiting to start - no logs yet"
        ));
    };
    Ok(id.strip_prefix("containerd://").unwrap_or(&id).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::ContainerStatus;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateTerminated, ContainerStateWaiting,
    };

    fn waiting(reason: &str) -> ContainerStatus {
        ContainerStatus {
            name: "app".into(),
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.into()),
                    message: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_waiting_container_has_no_logs_and_says_why() {
        assert_eq!(
            log_container_id(&waiting("ContainerCreating"), "web", false),
            Err("container \"app\" in pod \"web\" is waiting to start: ContainerCreating".into())
        );
        assert_eq!(
            log_container_id(&waiting("ImagePullBackOff"), "web", false),
            Err("container \"app\" in pod \"web\" is waiting to start: trying and failing to pull image".into())
        );
        assert_eq!(
            log_container_id(&waiting("ContainerCreating"), "web", true),
            Err("previous terminated container \"app\" in pod \"web\" not found".into())
        );
    }

    #[test]
    fn a_crash_looping_container_shows_its_last_run() {
        let mut s = waiting("CrashLoopBackOff");
        s.last_state = Some(Box::new(ContainerState {
            terminated: Some(ContainerStateTerminated {
                container_id: Some("containerd://abc".into()),
                exit_code: 1,
                ..Default::default()
            }),
            ..Default::default()
        }));
        assert_eq!(log_container_id(&s, "web", false), Ok("abc".into()));
        assert_eq!(log_container_id(&s, "web", true), Ok("abc".into()));
    }

    #[test]
    fn paths_are_the_kubelets() {
        let r = KubeletRequest::ContainerLogs {
            namespace: "default".into(),
            pod: "nginx".into(),
            container: "nginx".into(),
            previous: true,
            tail_lines: Some(5),
            timestamps: false,
            follow: false,
            since_seconds: None,
            since_time: None,
        };
        assert_eq!(
            r.to_string(),
            "GET /containerLogs/default/nginx/nginx?previous=true&tailLines=5"
        );
    }
}
