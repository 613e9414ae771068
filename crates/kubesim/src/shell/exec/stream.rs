//! `kubectl attach` and `kubectl port-forward`: connections upgraded
//! through the API server to the kubelet (and, with Konnectivity, through
//! its server and the node's agent), which stay open; and the user's own
//! `curl` to a forwarded port.
//!
//! `kubectl attach` (`staging/src/k8s.io/kubectl/pkg/cmd/attach/attach.go`
//! `AttachOptions.Run`) reads the pod, refuses a completed one, picks the
//! container as `logs` does, and POSTs `pods/<name>/attach`. Its output
//! streams like `kubectl get -w` rows: the attach stays open while the
//! terminal only moves the clock (`sim ...`), what the container prints
//! shows after each of those commands (and as it arrives on the page), and
//! any other command, or `^C`, detaches.
//!
//! `kubectl port-forward` (`cmd/portforward/portforward.go`) resolves
//! `pod/x`, `deploy/x`, `svc/x`, ... to a pod as `AttachablePodForObject`
//! does (the most active pod the object's selector matches), maps a
//! Service's port to the pod's target port, checks that the pod is
//! Running and POSTs `pods/<name>/portforward`. In a terminal it holds the
//! foreground; here it runs as a background job of the session (as
//! `kubectl port-forward ... &` does), listed by `jobs` and stopped by
//! `kill %N`. Each `curl localhost:<port>` is one connection kubectl
//! accepts (`Handling connection for <port>`), a new stream on the upgraded
//! connection; the kubelet connects to the port inside the pod. A
//! connection the pod refuses ends the forward, as client-go's
//! `PortForwarder` does since v1.23 (`error: lost connection to pod`).
//! Left out: waiting `--pod-running-timeout` for a pod to appear, UDP, and
//! sending stdin (no image in the catalog reads it interactively).

use super::{err, Result, Session};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::kubelet::server::{StreamFrame, StreamInput};
use crate::shell::Kubectl;
use crate::world::SimDuration;
use std::fmt::Write as _;

/// An attach kubectl holds open.
#[derive(Clone, Debug)]
pub(super) struct OpenAttach {
    id: u64,
    command: String,
    /// The filters of `kubectl attach ... | grep ...`: what the container
    /// prints on stdout later runs through them (`shell/pipe.rs`).
    pub(super) pipe: Option<crate::shell::pipe::Stream>,
}

/// A background `kubectl port-forward`.
#[derive(Clone, Debug)]
pub(super) struct Forward {
    /// The job number (`%1`).
    job: usize,
    /// The request id of the upgraded connection.
    id: u64,
    command: String,
    /// The addresses it listens on.
    addresses: Vec<String>,
    /// (local port, pod port).
    ports: Vec<(u16, u16)>,
    next_connection: u64,
    /// The filters of `kubectl port-forward ... | grep ...`: the
    /// `Handling connection for` lines it prints later run through them.
    pub(super) pipe: Option<crate::shell::pipe::Stream>,
}

/// `[LOCAL_PORT:]REMOTE_PORT` (client-go `portforward.parsePorts`): the
/// local port (0: any free one) and the remote port as typed.
fn split_port(spec: &str) -> Result<(u16, String)> {
    let (local, remote) = match spec.split_once(':') {
        Some((l, r)) => (l, r),
        None => (spec, spec),
    };
    if remote.is_empty() {
        return Err("error: remote port cannot be empty".into());
    }
    let local = if local.is_empty() {
        0
    } else if local == remote && local.parse::<u16>().is_err() {
        // A named port forwarded to the same local number: resolved later.
        0
    } else {
        local.parse::<u16>().map_err(|_| {
            format!("error: Error parsing local port '{local}': strconv.ParseUint: parsing {local:?}: invalid syntax")
        })?
    };
    Ok((local, remote.to_string()))
}

/// `podutils.ActivePods` reversed: the pod `AttachablePodForObject` picks
/// among those a selector matches (assigned before unassigned, Running
/// before Pending, ready before not, older before newer).
fn most_active(pods: &[Pod]) -> Option<Pod> {
    let rank = |p: &Pod| {
        let assigned = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
        let phase = match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Running") => 2,
            Some("Pending") => 0,
            _ => 1,
        };
        let ready = p
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        let created = p
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| std::cmp::Reverse(crate::api::time::to_sim_time(t)))
            .unwrap_or(std::cmp::Reverse(crate::world::SimTime::ZERO));
        (assigned, phase, ready, created)
    };
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .max_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| b.metadata.name.cmp(&a.metadata.name))
        })
        .cloned()
}

/// What a `TYPE/NAME` target names (see [`Session::pods_for_target`]).
pub(super) enum Selected {
    Pod(Pod),
    Pods {
        pods: Vec<Pod>,
        service: Option<k8s_openapi::api::core::v1::Service>,
    },
}

/// A container port by name in a pod (`util.LookupContainerPortNumberByName`).
fn named_port(pod: &Pod, name: &str) -> Option<u16> {
    pod.spec.as_ref()?.containers.iter().find_map(|c| {
        c.ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name))
            .and_then(|p| u16::try_from(p.container_port).ok())
    })
}

impl Session {
    /// The pod a `kubectl attach|port-forward|exec` target names: `x` or
    /// `pod/x` read directly, a workload or Service through its selector,
    /// the most active of its pods (`attachablePodForObject`, sorting by
    /// `sort.Reverse(podutils.ActivePods)`).
    pub(super) fn attachable_pod(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        target: &str,
    ) -> Result<(Pod, Option<k8s_openapi::api::core::v1::Service>)> {
        match self.pods_for_target(cluster, k, target, "attach to")? {
            Selected::Pod(p) => Ok((p, None)),
            Selected::Pods { pods, service } => match most_active(&pods) {
                Some(p) => Ok((p, service)),
                // `GetFirstPod` waits `--pod-running-timeout` for a pod;
                // here it looks once.
                None => Err("error: timed out waiting for the condition".into()),
            },
        }
    }

    /// What a `TYPE/NAME` target (or a bare pod name) names: a pod, or the
    /// pods a workload's or Service's selector matches
    /// (`polymorphichelpers.SelectorsForObject`). `doing` words kubectl's
    /// error for a kind without a selector (`attach to`, `get the logs
    /// from`).
    pub(super) fn pods_for_target(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        target: &str,
        doing: &str,
    ) -> Result<Selected> {
        let (kind_word, name) = match target.split_once('/') {
            Some((kd, n)) => (kd, n),
            None => ("pods", target),
        };
        let kind = super::resolve_kind(kind_word)?;
        let get = |s: &Self, cluster: &mut Cluster, kind: KindId, name: &str| match cluster
            .call(s.request(k, Verb::Get, kind).named(name.to_string()))
        {
            ApiResponse::Object(o) => Ok(o),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(format!("error: unexpected answer {}", other.summary())),
        };
        let object = get(self, cluster, kind.id, name)?;
        let (selector, service) = match &*object {
            Object::Pod(p) => return Ok(Selected::Pod((**p).clone())),
            Object::Service(s) => {
                let sel = s
                    .spec
                    .as_ref()
                    .and_then(|sp| sp.selector.clone())
                    .unwrap_or_default();
                if sel.is_empty() {
                    return Err(format!(
                        "error: cannot {doing} *v1.Service: invalid service '{name}': Service is defined without a selector"
                    ));
                }
                (sel, Some((**s).clone()))
            }
            Object::Deployment(d) => (
                d.spec.selector.match_labels.clone().unwrap_or_default(),
                None,
            ),
            Object::ReplicaSet(r) => (
                r.spec.selector.match_labels.clone().unwrap_or_default(),
                None,
            ),
            Object::StatefulSet(s) => (
                s.spec.selector.match_labels.clone().unwrap_or_default(),
                None,
            ),
            Object::DaemonSet(d) => (
                d.spec.selector.match_labels.clone().unwrap_or_default(),
                None,
            ),
            Object::Job(j) => (
                j.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .and_then(|s| s.match_labels.clone())
                    .unwrap_or_default(),
                None,
            ),
            other => {
                let kind = other.kind();
                let go_type = match kind.api_version().split_once('/') {
                    Some((_, version)) => format!("*{version}.{}", kind.kind),
                    None => format!("*v1.{}", kind.kind),
                };
                return Err(format!(
                    "error: cannot {doing} {go_type}: selector for {go_type} not implemented"
                ));
            }
        };
        let selector: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut r = self.request(k, Verb::List, KindId::Pod);
        r.options.label_selector = Some(selector.join(","));
        let pods: Vec<Pod> = match cluster.call(r) {
            ApiResponse::List { items, .. } => items
                .iter()
                .filter_map(|o| match &**o {
                    Object::Pod(p) => Some((**p).clone()),
                    _ => None,
                })
                .collect(),
            ApiResponse::Error(e) => return Err(err(&e)),
            other => return Err(format!("error: unexpected answer {}", other.summary())),
        };
        Ok(Selected::Pods { pods, service })
    }

    /// `kubectl attach (POD | TYPE/NAME) [-c CONTAINER] [-i] [-t] [-q]`.
    pub(super) fn attach(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let target = match k.args.as_slice() {
            [] => return Err("error: at least 1 argument is required for attach".into()),
            [one] => one.clone(),
            [kind, name] => format!("{kind}/{name}"),
            more => {
                return Err(format!(
                "error: expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw {}: [{}]",
                more.len(),
                more.join(" ")
            ))
            }
        };
        let (pod, _) = self.attachable_pod(cluster, k, &target)?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            return Err(format!(
                "error: cannot attach a container in a completed pod; current phase is {phase}"
            ));
        }
        // `podcmd.FindOrDefaultContainerByName`.
        let spec = pod.spec.clone().unwrap_or_default();
        let mut out = String::new();
        let quiet = k.flags.has("quiet");
        let container = match k.flags.get("container") {
            Some(c) => match spec.containers.iter().find(|x| x.name == c) {
                Some(x) => x.clone(),
                None => {
                    return Err(format!(
                    "error: cannot attach to the container: container {c} not found in pod {name}"
                ))
                }
            },
            None => {
                let annotated = pod
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
                    .and_then(|c| spec.containers.iter().find(|x| &x.name == c));
                match annotated.or(spec.containers.first()) {
                    Some(x) => {
                        if annotated.is_none() && spec.containers.len() > 1 && !quiet {
                            let names: Vec<String> =
                                spec.containers.iter().map(|c| c.name.clone()).collect();
                            let _ = writeln!(
                                out,
                                "Defaulted container {:?} out of: {}",
                                x.name,
                                names.join(", ")
                            );
                        }
                        x.clone()
                    }
                    None => return Err(format!("error: pod {name} has no containers")),
                }
            }
        };
        let mut tty = k.flags.has("tty");
        if tty && !container.tty.unwrap_or(false) {
            tty = false;
            if !quiet {
                let _ = writeln!(
                    out,
                    "error: Unable to use a TTY - container {} did not allocate one",
                    container.name
                );
            }
        } else if !tty && container.tty.unwrap_or(false) {
            tty = true;
        }
        let stdin = k.flags.has("stdin");
        let mut r = self
            .request(k, Verb::Create, KindId::Pod)
            .named(name.clone())
            .with_subresource("attach");
        r.options.stream = Some(Box::new(crate::apiserver::StreamOptions {
            container: Some(container.name.clone()),
            stdin,
            tty,
            ..Default::default()
        }));
        let (id, first) = cluster.open(r);
        match first {
            ApiResponse::StreamOpened => {}
            ApiResponse::Error(e)
                if e.reason == crate::api::Reason::NotFound
                    && e.message.starts_with("container not found") =>
            {
                cluster.cancel(id);
                out.push_str(&format!(
                    "error: unable to upgrade connection: {}",
                    e.message
                ));
                return Err(out);
            }
            ApiResponse::Error(e) => {
                cluster.cancel(id);
                out.push_str(&err(&e));
                return Err(out);
            }
            other => {
                cluster.cancel(id);
                return Err(format!("error: unexpected answer {}", other.summary()));
            }
        }
        if !quiet {
            out.push_str("All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt.\nIf you don't see a command prompt, try pressing enter.");
        }
        if stdin {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str("(the simulation sends no input: no image in the catalog reads stdin interactively)");
        }
        let mut command = format!("kubectl attach {target}");
        if let Some(c) = k.flags.get("container") {
            command.push_str(&format!(" -c {c}"));
        }
        self.attach = Some(OpenAttach {
            id,
            command,
            pipe: None,
        });
        Ok(out.trim_end_matches('\n').to_string())
    }

    /// The command of the attach kubectl holds open, if any.
    pub(super) fn attaching(&self) -> Option<&str> {
        self.attach.as_ref().map(|a| a.command.as_str())
    }

    /// Closes the open attach (kubectl interrupted); whether one was open.
    pub(super) fn stop_attach(&mut self, cluster: &mut Cluster) -> bool {
        match self.attach.take() {
            Some(a) => {
                cluster.cancel(a.id);
                true
            }
            None => false,
        }
    }

    /// What the open attach and the background forwards printed since the
    /// last call. Sends nothing and does not move the clock.
    pub(super) fn poll_streams(&mut self, cluster: &mut Cluster) -> Option<String> {
        let mut out = String::new();
        if let Some(a) = self.attach.as_mut() {
            let mut ended = false;
            for (_, reply) in cluster.take_replies_timed(a.id) {
                match reply {
                    ApiResponse::StreamData(StreamFrame::Output { stdout, stderr }) => {
                        match a.pipe.as_mut() {
                            Some(p) => out.push_str(&p.feed(&stdout)),
                            None => out.push_str(&stdout),
                        }
                        out.push_str(&stderr);
                    }
                    ApiResponse::StreamClosed(None) => ended = true,
                    ApiResponse::StreamClosed(Some(e)) => {
                        ended = true;
                        let _ = writeln!(out, "error: {e}");
                    }
                    ApiResponse::Error(e) => {
                        ended = true;
                        let _ = writeln!(out, "{}", err(&e));
                    }
                    _ => {}
                }
            }
            if ended {
                self.attach = None;
            }
        }
        let mut lost = Vec::new();
        for f in &self.forwards {
            for (_, reply) in cluster.take_replies_timed(f.id) {
                if matches!(reply, ApiResponse::StreamClosed(_) | ApiResponse::Error(_)) {
                    lost.push(f.job);
                }
            }
        }
        if !lost.is_empty() {
            self.forwards.retain(|f| !lost.contains(&f.job));
            for job in lost {
                let _ = writeln!(out, "error: lost connection to pod\n[{job}]+  Exit 1");
            }
        }
        (!out.is_empty()).then(|| out.trim_end_matches('\n').to_string())
    }

    /// `kubectl port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT...`.
    pub(super) fn port_forward(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        if k.args.len() < 2 {
            return Err("error: TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples".into());
        }
        let target = k.args[0].clone();
        let specs: Vec<(bool, u16, String)> = k.args[1..]
            .iter()
            .map(|p| split_port(p).map(|(l, r)| (p.contains(':'), l, r)))
            .collect::<Result<_>>()?;
        let (pod, service) = self.attachable_pod(cluster, k, &target)?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        // Ports: a Service's port becomes the pod's target port
        // (`translateServicePortToTargetPort`); a named port becomes its
        // number (`convertPodNamedPortToNumber`).
        let mut ports: Vec<(u16, u16)> = Vec::new();
        for (with_local, local, remote) in specs {
            let number = match &service {
                Some(svc) => {
                    let svc_name = svc.metadata.name.clone().unwrap_or_default();
                    let sp = svc
                        .spec
                        .as_ref()
                        .and_then(|s| s.ports.as_ref())
                        .and_then(|ps| {
                            ps.iter().find(|p| {
                                p.port.to_string() == remote
                                    || p.name.as_deref() == Some(remote.as_str())
                            })
                        });
                    let Some(sp) = sp else {
                        return Err(match remote.parse::<u16>() {
                            Ok(n) => format!(
                                "error: Service {svc_name} does not have a service port {n}"
                            ),
                            Err(_) => format!(
                                "error: Service '{svc_name}' does not have a named port '{remote}'"
                            ),
                        });
                    };
                    match &sp.target_port {
                        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n)) => {
                            u16::try_from(*n).unwrap_or(0)
                        }
                        Some(
                            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(n),
                        ) => named_port(&pod, n).ok_or_else(|| {
                            format!("error: Pod '{name}' does not have a named port '{n}'")
                        })?,
                        None => u16::try_from(sp.port).unwrap_or(0),
                    }
                }
                None => match remote.parse::<u16>() {
                    Ok(n) => n,
                    Err(_) => named_port(&pod, &remote).ok_or_else(|| {
                        format!("error: Pod '{name}' does not have a named port '{remote}'")
                    })?,
                },
            };
            if number == 0 {
                return Err("error: remote port must be > 0".into());
            }
            // A port alone (`80`, `http`) listens on the same number locally.
            let local = if with_local { local } else { number };
            ports.push((local, number));
        }
        // `RunPortForwardContext` reads the pod again and wants it Running.
        let fresh = match cluster.call(self.request(k, Verb::Get, KindId::Pod).named(name.clone()))
        {
            ApiResponse::Object(o) => match &*o {
                Object::Pod(p) => (**p).clone(),
                _ => pod.clone(),
            },
            ApiResponse::Error(e) => return Err(err(&e)),
            _ => pod.clone(),
        };
        let phase = fresh
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase != "Running" {
            return Err(format!(
                "error: unable to forward port because pod is not running. Current status={phase}"
            ));
        }
        let addresses: Vec<String> = match k.flags.get("address") {
            None | Some("localhost") => vec!["127.0.0.1".into(), "[::1]".into()],
            Some(list) => list
                .split(',')
                .flat_map(|a| {
                    if a == "localhost" {
                        vec!["127.0.0.1".to_string(), "[::1]".to_string()]
                    } else {
                        vec![a.to_string()]
                    }
                })
                .collect(),
        };
        let mut r = self
            .request(k, Verb::Create, KindId::Pod)
            .named(name.clone())
            .with_subresource("portforward");
        r.options.stream = Some(Box::new(crate::apiserver::StreamOptions {
            ports: ports.iter().map(|(_, p)| *p).collect(),
            ..Default::default()
        }));
        let (id, first) = cluster.open(r);
        match first {
            ApiResponse::StreamOpened => {}
            ApiResponse::Error(e) if e.reason == crate::api::Reason::Forbidden => {
                cluster.cancel(id);
                return Err(format!("error: error upgrading connection: {}", e.message));
            }
            ApiResponse::Error(e) => {
                cluster.cancel(id);
                return Err(format!(
                    "error: error upgrading connection: unable to upgrade connection: {}",
                    e.message
                ));
            }
            other => {
                cluster.cancel(id);
                return Err(format!("error: unexpected answer {}", other.summary()));
            }
        }
        // A local port 0 gets a free ephemeral port (deterministic here).
        let mut taken: Vec<u16> = self
            .forwards
            .iter()
            .flat_map(|f| f.ports.iter().map(|(l, _)| *l))
            .collect();
        let mut resolved = Vec::new();
        for (local, remote) in ports {
            let local = if local == 0 {
                let mut p = 32768 + ((id * 7919) % 28000) as u16;
                while taken.contains(&p) {
                    p += 1;
                }
                p
            } else {
                local
            };
            if taken.contains(&local) {
                cluster.cancel(id);
                let errs: Vec<String> = addresses
                    .iter()
                    .map(|a| {
                        let fam = if a.starts_with('[') { "tcp6" } else { "tcp4" };
                        format!("unable to create listener: Error listen {fam} {a}:{local}: bind: address already in use")
                    })
                    .collect();
                return Err(format!(
                    "Unable to listen on port {local}: Listeners failed to create with the following errors: [{}]\nerror: unable to listen on any of the requested ports: [{{{local} {remote}}}]",
                    errs.join(" ")
                ));
            }
            taken.push(local);
            resolved.push((local, remote));
        }
        let mut out = String::new();
        for (local, remote) in &resolved {
            for a in &addresses {
                let _ = writeln!(out, "Forwarding from {a}:{local} -> {remote}");
            }
        }
        let job = self.forwards.iter().map(|f| f.job).max().unwrap_or(0) + 1;
        self.forwards.push(Forward {
            job,
            id,
            command: format!("kubectl port-forward {}", k.args.join(" ")),
            addresses,
            ports: resolved,
            next_connection: 1,
            pipe: None,
        });
        Ok(out.trim_end().to_string())
    }

    /// `jobs`: the background port-forwards.
    pub(super) fn jobs(&self) -> String {
        self.forwards
            .iter()
            .map(|f| format!("[{}]+  Running                 {} &", f.job, f.command))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `kill %N`: stops a background port-forward.
    pub(super) fn kill(&mut self, cluster: &mut Cluster, job: &str) -> Result<String> {
        let n: Option<usize> = job.strip_prefix('%').and_then(|n| n.parse().ok());
        let Some(pos) = n.and_then(|n| self.forwards.iter().position(|f| f.job == n)) else {
            return Err(format!("kill: {job}: no such job"));
        };
        let f = self.forwards.remove(pos);
        cluster.cancel(f.id);
        Ok(format!(
            "[{}]+  Terminated              {}",
            f.job, f.command
        ))
    }

    /// `curl URL` on the user's machine: a forwarded local port reaches the
    /// pod through kubectl's upgraded connection; nothing else in the
    /// cluster is reachable from outside it here.
    pub(super) fn curl(&mut self, cluster: &mut Cluster, args: &[String]) -> Result<String> {
        let takes_value = |a: &str| {
            matches!(
                a,
                "-H" | "--header" | "-o" | "--output" | "-m" | "--max-time" | "-X" | "--request"
            )
        };
        let mut url = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if takes_value(a) {
                it.next();
            } else if !a.starts_with('-') {
                url = Some(a.clone());
            }
        }
        let Some(url) = url else {
            return Err("curl: try 'curl --help' or 'curl --manual' for more information".into());
        };
        let silent = args
            .iter()
            .any(|a| crate::cluster::is_short_flag(a, 's') || a == "--silent");
        let include = args
            .iter()
            .any(|a| crate::cluster::is_short_flag(a, 'i') || a == "--include");
        let fail_on_error = args
            .iter()
            .any(|a| crate::cluster::is_short_flag(a, 'f') || a == "--fail");
        let fail = |m: String| if silent { String::new() } else { m };
        let u = crate::cluster::parse_url(&url);
        let port = u16::try_from(u.port).unwrap_or(0);
        let local = matches!(u.host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1");
        let forward = self.forwards.iter_mut().find(|f| {
            f.ports.iter().any(|(l, _)| *l == port)
                && (local || f.addresses.iter().any(|a| *a == u.host || a == "0.0.0.0"))
        });
        let Some(f) = forward else {
            if local {
                return Err(fail(format!(
                    "curl: (7) Failed to connect to {} port {port} after 0 ms: Couldn't connect to server",
                    u.host
                )));
            }
            // Not a forward: out over the network, to a load balancer's or
            // a node's address (names of Services do not resolve here).
            return match cluster.curl_from_outside(args) {
                (out, true) => Ok(out),
                (out, false) => Err(out),
            };
        };
        let remote = f
            .ports
            .iter()
            .find(|(l, _)| *l == port)
            .map(|(_, r)| *r)
            .unwrap_or(port);
        let connection = f.next_connection;
        f.next_connection += 1;
        let (id, job) = (f.id, f.job);
        let handling = format!("Handling connection for {port}\n");
        let mut out = match f.pipe.as_mut() {
            Some(p) => p.feed(&handling),
            None => handling,
        };
        cluster.stream_send(
            id,
            StreamInput::Connect {
                connection,
                port: remote,
                path: u.path.clone(),
            },
        );
        let deadline = SimDuration::from_secs(60);
        let answer = loop {
            match cluster.await_reply(id, deadline) {
                Some(ApiResponse::StreamData(StreamFrame::Forwarded {
                    connection: c,
                    result,
                    ..
                })) if c == connection => break Some(result),
                Some(ApiResponse::StreamData(_)) => continue,
                Some(ApiResponse::StreamClosed(e)) => {
                    break Some(Err(e.unwrap_or_else(|| "lost connection to pod".into())))
                }
                Some(ApiResponse::Error(e)) => break Some(Err(e.message)),
                Some(_) => continue,
                None => break None,
            }
        };
        match answer {
            Some(Ok((0, _))) => {
                out.push_str(&fail("curl: (1) Received HTTP/0.9 when not allowed".into()));
                Err(out)
            }
            Some(Ok((status, _))) if fail_on_error && status >= 400 => {
                out.push_str(&fail(format!(
                    "curl: (22) The requested URL returned error: {status}"
                )));
                Err(out)
            }
            Some(Ok((status, body))) => {
                if include {
                    let _ = write!(
                        out,
                        "HTTP/1.1 {status} {}\nContent-Length: {}\n\n",
                        crate::cluster::reason(status),
                        body.len()
                    );
                }
                out.push_str(&body);
                Ok(out.trim_end_matches('\n').to_string())
            }
            Some(Err(e)) => {
                // The kubelet wrote the error on the stream's error channel:
                // kubectl logs it, closes the connection and exits.
                let _ = writeln!(
                    out,
                    "E portforward.go:424] \"Unhandled Error\" err=\"an error occurred forwarding {port} -> {remote}: {e}\""
                );
                out.push_str("error: lost connection to pod\n");
                let _ = writeln!(
                    out,
                    "[{job}]+  Exit 1                  kubectl port-forward"
                );
                out.push_str(&fail("curl: (52) Empty reply from server".into()));
                self.forwards.retain(|f| f.job != job);
                cluster.cancel(id);
                Err(out)
            }
            None => {
                out.push_str(&fail(
                    "curl: (28) Operation timed out after 60000 milliseconds with 0 bytes received"
                        .into(),
                ));
                Err(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_split_as_kubectl_parses_them() {
        assert_eq!(split_port("8080:80"), Ok((8080, "80".into())));
        assert_eq!(split_port(":80"), Ok((0, "80".into())));
        assert_eq!(split_port("80"), Ok((80, "80".into())));
        assert_eq!(split_port("8080:http"), Ok((8080, "http".into())));
        assert!(split_port("x:80")
            .unwrap_err()
            .contains("Error parsing local port 'x'"));
        assert_eq!(
            split_port("8080:"),
            Err("error: remote port cannot be empty".into())
        );
    }
}
