//! The kubelet's streaming endpoints: `attach`, `portForward`, and a
//! followed `containerLogs`.
//!
//! In Kubernetes the API server's `pods/attach` and `pods/portforward`
//! upgrade the client's connection and proxy it to the kubelet
//! (`pkg/kubelet/server/server.go` `getAttach`, `getPortForward`), which
//! hands it to the container runtime's streaming server
//! (`pkg/kubelet/cri/streaming`): attach joins the container's own stdio,
//! port-forward opens, for every stream pair the client creates, a TCP
//! connection to `localhost:<port>` inside the pod's network namespace
//! (containerd's `PortForward`, `sandbox_portforward_linux.go`).
//!
//! Here an open stream is kept by the kubelet, keyed by its caller and the
//! caller's request id. An attached container's new log lines are what its
//! stdout and stderr carried (the runtime writes both to the log), sent when
//! the pod workers have run ([`Kubelet::poll_streams`]). A forwarded
//! connection carries one HTTP GET, answered by the pod's container that
//! listens on the port. A followed log (`kubectl logs -f`: a plain HTTP
//! response whose body keeps growing, not an upgrade) sends the lines
//! already written as its first frame, then each new line, and ends when
//! the container stops running. Left out: stdin (no image in the catalog reads it
//! interactively), terminal resizing, UDP forwarding.

use super::server::{KubeletRequest, KubeletResponse, StreamFrame, StreamInput};
use super::Kubelet;
use crate::runtime::{ContainerState, HttpOutcome, SandboxState, Stream};
use crate::world::SimTime;

/// A stream the kubelet holds open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OpenStream {
    /// An attached container, and how many of its log lines were sent.
    Attach { container_id: String, sent: usize },
    /// A followed log (`/containerLogs/...?follow=true`): the container,
    /// how many of its lines were sent, whether lines carry their time, and
    /// whether the first frame (the lines already written) went out.
    Logs {
        container_id: String,
        sent: usize,
        timestamps: bool,
        primed: bool,
    },
    /// A port-forward to a pod.
    PortForward { namespace: String, pod: String },
}

/// The error containerd's port-forward gives when nothing listens on the
/// port inside the pod (`sandbox_portforward_linux.go`), as the kubelet's
/// streaming server wraps it (`portforward/httpstream.go`: `error
/// forwarding port %d to pod %s, uid %v: %v`, the pod being the sandbox id
/// and the uid empty for CRI runtimes).
pub fn port_forward_refused(port: u16, sandbox_id: &str) -> String {
    format!(
        "error forwarding port {port} to pod {sandbox_id}, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-{}\": failed to connect to localhost:{port} inside namespace \"{sandbox_id}\", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused ",
        &sandbox_id[..sandbox_id.len().min(12)]
    )
}

impl Kubelet {
    /// Serves a call from `caller` (its request `id`): streams are opened
    /// and kept; logs and exec are answered at once ([`Kubelet::serve`]).
    pub fn serve_from(
        &mut self,
        now: SimTime,
        caller: &str,
        id: u64,
        request: &KubeletRequest,
    ) -> KubeletResponse {
        let not_found = |message: String| KubeletResponse::Error { code: 404, message };
        match request {
            KubeletRequest::Attach {
                namespace,
                pod,
                container,
                ..
            } => {
                let key = format!("{namespace}/{pod}");
                let Some(runtime) = self.runtime.as_ref() else {
                    return KubeletResponse::Error {
                        code: 503,
                        message: "container runtime is down".into(),
                    };
                };
                let Some(w) = self.workers.get(&key).filter(|w| !w.terminated) else {
                    return not_found(format!("pod {pod:?} does not exist"));
                };
                // `findContainer`: only a running container can be attached.
                let id_of = w
                    .container_ids()
                    .into_iter()
                    .find(|(n, _)| n == container)
                    .map(|(_, id)| id)
                    .filter(|id| {
                        runtime
                            .container_status(id)
                            .is_ok_and(|s| s.state == ContainerState::Running)
                    });
                let Some(container_id) = id_of else {
                    return not_found(format!("container not found ({container:?})"));
                };
                let sent = runtime.logs(&container_id).map(|l| l.len()).unwrap_or(0);
                self.streams.insert(
                    (caller.to_string(), id),
                    OpenStream::Attach { container_id, sent },
                );
                KubeletResponse::Opened
            }
            KubeletRequest::PortForward { namespace, pod } => {
                let key = format!("{namespace}/{pod}");
                if self.runtime.is_none() {
                    return KubeletResponse::Error {
                        code: 503,
                        message: "container runtime is down".into(),
                    };
                }
                if self.workers.get(&key).is_none_or(|w| w.terminated) {
                    return not_found("pod does not exist".into());
                }
                self.streams.insert(
                    (caller.to_string(), id),
                    OpenStream::PortForward {
                        namespace: namespace.clone(),
                        pod: pod.clone(),
                    },
                );
                KubeletResponse::Opened
            }
            KubeletRequest::ContainerLogs { timestamps, .. } => {
                self.follow = None;
                let answer = self.serve(now, request);
                // A followed log stays open (`getContainerLogs` copies the
                // file and waits for more, `ReadLogs` with `Follow`) until
                // its container stops.
                if let Some((container_id, sent)) = self.follow.take() {
                    self.streams.insert(
                        (caller.to_string(), id),
                        OpenStream::Logs {
                            container_id,
                            sent,
                            timestamps: *timestamps,
                            primed: false,
                        },
                    );
                }
                answer
            }
            _ => self.serve(now, request),
        }
    }

    /// The caller closed its stream (kubectl interrupted).
    pub fn close_stream(&mut self, caller: &str, id: u64) {
        self.streams.remove(&(caller.to_string(), id));
    }

    /// Whether the kubelet holds a stream open for `caller`'s request `id`.
    pub fn has_stream(&self, caller: &str, id: u64) -> bool {
        self.streams.contains_key(&(caller.to_string(), id))
    }

    /// Data the caller sent on an open stream; what goes back.
    pub fn stream_input(
        &mut self,
        now: SimTime,
        caller: &str,
        id: u64,
        input: &StreamInput,
    ) -> Vec<KubeletResponse> {
        let Some(stream) = self.streams.get(&(caller.to_string(), id)).cloned() else {
            return vec![KubeletResponse::Closed(Some("stream not found".into()))];
        };
        let StreamInput::Connect {
            connection,
            port,
            path,
        } = input;
        let OpenStream::PortForward { namespace, pod } = stream else {
            return Vec::new();
        };
        let Some(runtime) = self.runtime.as_mut() else {
            return vec![KubeletResponse::Closed(Some(
                "container runtime is down".into(),
            ))];
        };
        let sandbox = runtime
            .list_pod_sandboxes()
            .into_iter()
            .find(|s| s.name == pod && s.namespace == namespace && s.state == SandboxState::Ready);
        let Some(sandbox) = sandbox else {
            self.streams.remove(&(caller.to_string(), id));
            return vec![KubeletResponse::Closed(Some(format!(
                "pod {pod:?} has no running sandbox"
            )))];
        };
        let containers: Vec<String> = runtime
            .list_containers(Some(&sandbox.id))
            .into_iter()
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| c.id)
            .collect();
        // Every container of the pod shares its network namespace: the one
        // listening on the port answers.
        let mut outcome = HttpOutcome::Refused;
        for c in containers {
            outcome = runtime.http_get(now, &c, *port, path, "127.0.0.1");
            if outcome != HttpOutcome::Refused {
                break;
            }
        }
        let result = match outcome {
            HttpOutcome::Response { status, body } => Ok((status, body)),
            HttpOutcome::NotHttp(text) => Ok((0, text)),
            HttpOutcome::Refused => Err(port_forward_refused(*port, &sandbox.id)),
        };
        vec![KubeletResponse::Data(StreamFrame::Forwarded {
            connection: *connection,
            port: *port,
            result,
        })]
    }

    /// What the open streams carry since the last call: an attached
    /// container's new output, and the end of streams whose container or
    /// pod is gone. By caller and request id.
    pub fn poll_streams(&mut self) -> Vec<(String, u64, KubeletResponse)> {
        let mut out = Vec::new();
        let Some(runtime) = self.runtime.as_ref() else {
            return out;
        };
        let mut closed = Vec::new();
        for ((caller, id), stream) in self.streams.iter_mut() {
            match stream {
                OpenStream::Attach { container_id, sent } => {
                    let lines = runtime.logs(container_id).unwrap_or_default();
                    if lines.len() > *sent {
                        let (mut stdout, mut stderr) = (String::new(), String::new());
                        for l in &lines[*sent..] {
                            let to = match l.stream {
                                Stream::Stdout => &mut stdout,
                                Stream::Stderr => &mut stderr,
                            };
                            to.push_str(&l.text);
                            to.push('\n');
                        }
                        *sent = lines.len();
                        out.push((
                            caller.clone(),
                            *id,
                            KubeletResponse::Data(StreamFrame::Output { stdout, stderr }),
                        ));
                    }
                    let running = runtime
                        .container_status(container_id)
                        .is_ok_and(|s| s.state == ContainerState::Running);
                    if !running {
                        closed.push((caller.clone(), *id));
                        out.push((caller.clone(), *id, KubeletResponse::Closed(None)));
                    }
                }
                OpenStream::Logs {
                    container_id,
                    sent,
                    timestamps,
                    primed,
                } => {
                    let lines = runtime.logs(container_id).unwrap_or_default();
                    let from = (*sent).min(lines.len());
                    if lines.len() > from || !*primed {
                        let stdout = super::log_text(&lines[from..], *timestamps);
                        *sent = lines.len();
                        *primed = true;
                        out.push((
                            caller.clone(),
                            *id,
                            KubeletResponse::Data(StreamFrame::Output {
                                stdout,
                                stderr: String::new(),
                            }),
                        ));
                    }
                    // The runtime's log reader stops at the end of a
                    // container that is no longer running: a restart is a
                    // new container, not followed.
                    let running = runtime
                        .container_status(container_id)
                        .is_ok_and(|s| s.state == ContainerState::Running);
                    if !running {
                        closed.push((caller.clone(), *id));
                        out.push((caller.clone(), *id, KubeletResponse::Closed(None)));
                    }
                }
                OpenStream::PortForward { namespace, pod } => {
                    let key = format!("{namespace}/{pod}");
                    if self.workers.get(&key).is_none_or(|w| w.terminated) {
                        closed.push((caller.clone(), *id));
                        out.push((
                            caller.clone(),
                            *id,
                            KubeletResponse::Closed(Some(format!("pod {pod:?} is gone"))),
                        ));
                    }
                }
            }
        }
        for k in closed {
            self.streams.remove(&k);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_forward_names_the_port_and_the_sandbox() {
        let m = port_forward_refused(81, "0123456789abcdef");
        assert!(m.starts_with("error forwarding port 81 to pod 0123456789abcdef, uid : "));
        assert!(m.contains("dial tcp4 127.0.0.1:81: connect: connection refused"));
    }
}
