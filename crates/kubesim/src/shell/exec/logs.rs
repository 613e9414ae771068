//! `kubectl logs`: a container's log through the API server's `pods/log`
//! and the node's kubelet, once or followed.
//!
//! kubectl (`staging/src/k8s.io/kubectl/pkg/cmd/logs/logs.go`) turns its
//! flags into `PodLogOptions` (`ToLogOptions`: `--since` rounded to seconds,
//! `--tail` 10 by default with a selector, else all lines), checks them
//! (`Validate`), and asks `LogsForObject` for one request per container: the
//! named one, the pod's default one (the `kubectl.kubernetes.io/default-
//! container` annotation, else the first, saying `Defaulted container ...`
//! when there are more), or with `--all-containers` every init container
//! and container in order; with `-l` the same for every pod the selector
//! matches. Without `-f` it reads the requests one after another and stops
//! at the first error (`sequentialConsumeRequest`). With `-f` and more than
//! one request it refuses more than `--max-log-requests` (5) and reads them
//! all at once (`parallelConsumeRequest`). `--prefix` starts every line
//! with `[pod/<pod>/<container>] `.
//!
//! A followed log (`follow=true`) is a response whose body keeps growing:
//! the API server proxies it from the kubelet's
//! `/containerLogs/...?follow=true` (through Konnectivity when the cluster
//! runs it), which sends what the log holds and then each line as the
//! container writes it, until the container stops. Like `kubectl get -w`
//! and `kubectl attach` here, it stays open while the terminal only moves
//! the clock (`sim ...`): new lines print after each of those commands
//! (and on the page as they arrive), and `^C` or the next kubectl command
//! ends it; kubectl also returns by itself when every stream has ended. A
//! container that restarts is not followed into its next run: the stream
//! ends with the run it started on. A `TYPE/NAME` target (`deploy/web`,
//! `svc/web`, `job/pi` ...) reads one of the pods its selector matches, the
//! first in `podutils.ByLogging` order, and says `Found N pods, using
//! pod/NAME` when there were several. Left out: `--limit-bytes`,
//! `--ignore-errors`, `--all-pods`, `--pod-running-timeout` (kubectl
//! reads the pods once).

use super::{err, Result, Session};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::{ApiResponse, StreamOptions, Verb};
use crate::cluster::Cluster;
use crate::kubelet::server::StreamFrame;
use crate::shell::Kubectl;
use crate::world::{SimDuration, SimTime};
use std::fmt::Write as _;

/// The pod `kubectl logs TYPE/NAME` reads among those its selector matched:
/// the first in `podutils.ByLogging` order
/// (`k8s.io/kubectl/pkg/util/podutils/podutils.go`): assigned before
/// unassigned; Running, then Unknown, then Pending (any other phase ranks
/// with Running, as upstream's map leaves it at 0); ready before not
/// ready; ready for longer first; more container restarts first; older
/// first. Ties keep the list's (name) order.
fn first_for_logging(mut pods: Vec<Pod>) -> Option<Pod> {
    let ready_since = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready" && c.status == "True"))
            .map(|c| {
                c.last_transition_time
                    .as_ref()
                    .map(crate::api::time::to_sim_time)
            })
    };
    let key = |p: &Pod| {
        let unassigned = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_none_or(str::is_empty);
        let phase = match p.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Unknown") => 1,
            Some("Pending") => 2,
            _ => 0,
        };
        let ready = ready_since(p);
        // Ready longer first: an earlier transition, an unknown time last.
        let since = match ready {
            Some(Some(t)) => (0, t),
            Some(None) => (1, SimTime::ZERO),
            None => (0, SimTime::ZERO),
        };
        let restarts = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().map(|c| c.restart_count).max())
            .unwrap_or(0);
        let created = p
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| (0, crate::api::time::to_sim_time(t)))
            .unwrap_or((1, SimTime::ZERO));
        (
            unassigned,
            phase,
            ready.is_none(),
            since,
            std::cmp::Reverse(restarts),
            created,
        )
    };
    pods.sort_by_key(key);
    pods.into_iter().next()
}

/// kubectl's tail with a selector and no `--tail` (`selectorTail`).
const SELECTOR_TAIL: i64 = 10;
/// `--max-log-requests`' default.
const MAX_FOLLOW_CONCURRENCY: usize = 5;

/// A followed log kubectl holds open: its streams (request id and line
/// prefix) and the command as typed.
#[derive(Clone, Debug)]
pub(super) struct OpenFollow {
    streams: Vec<(u64, String)>,
    command: String,
    /// The filters of `kubectl logs -f ... | grep ...`: the lines that
    /// arrive later run through them (`shell/pipe.rs`).
    pub(super) pipe: Option<crate::shell::pipe::Stream>,
}

/// The `PodLogOptions` kubectl sends, as far as simulated.
#[derive(Clone, Debug, Default)]
struct LogOptions {
    previous: bool,
    timestamps: bool,
    follow: bool,
    tail: Option<i64>,
    since_seconds: Option<i64>,
    since_time: Option<SimTime>,
}

/// One container whose log is asked (kubectl's prefix names it
/// `[pod/<pod>/<container>]`).
struct Target {
    pod: String,
    container: String,
}

const USAGE: &str = "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples";

/// `--since`: a Go duration (`time.ParseDuration`).
fn parse_since(v: &str) -> Result<i64> {
    let bad = |why: String| format!("error: invalid argument {v:?} for \"--since\" flag: {why}");
    if !v.is_empty() && v != "0" && v.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad(format!("time: missing unit in duration {v:?}")));
    }
    let d = SimDuration::parse(v).map_err(|_| bad(format!("time: invalid duration {v:?}")))?;
    // Rounded to the nearest second.
    Ok(i64::try_from(d.as_millis().saturating_add(500) / 1000).unwrap_or(i64::MAX))
}

/// The default container of a pod for logs (`podcmd.FindOrDefaultContainerByName`
/// as `logsForObjectWithClient` does it), with kubectl's note when it chose
/// among several.
pub(super) fn default_container(pod: &Pod) -> Result<(String, Option<String>)> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let names: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
        .filter(|c| names.contains(c))
        .cloned();
    if let Some(c) = annotated {
        return Ok((c, None));
    }
    let Some(first) = names.first().cloned() else {
        return Err(format!("error: pod {name} has no containers"));
    };
    let note = (names.len() > 1).then(|| {
        format!(
            "Defaulted container {first:?} out of: {}",
            spec.containers
                .iter()
                .map(|c| c.name.clone())
                .chain(
                    spec.init_containers
                        .iter()
                        .flatten()
                        .map(|c| format!("{} (init)", c.name))
                )
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    Ok((first, note))
}

/// Every container of a pod in `--all-containers` order: init containers,
/// then containers.
fn all_containers(pod: &Pod) -> Vec<String> {
    let spec = pod.spec.clone().unwrap_or_default();
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| c.name.clone())
        .collect()
}

/// Text with `prefix` before each line.
fn prefixed(prefix: &str, text: &str) -> String {
    if prefix.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        out.push_str(prefix);
        out.push_str(line);
    }
    out
}

impl Session {
    /// `kubectl logs (POD | -l SELECTOR) [CONTAINER] [-c CONTAINER] [-f]
    /// [-p] [--tail N] [--since D | --since-time T] [--timestamps]
    /// [--all-containers] [--prefix] [--max-log-requests N]`.
    pub(super) fn logs(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let selector = k.flags.get("selector").map(str::to_string);
        let all = k.flags.has("all-containers");
        let prefix = k.flags.has("prefix");
        let tail = match k.flags.get("tail") {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| format!("error: invalid argument {t:?} for \"--tail\" flag: strconv.ParseInt: parsing {t:?}: invalid syntax"))?),
        };
        let max_requests = match k.flags.get("max-log-requests") {
            None => MAX_FOLLOW_CONCURRENCY,
            Some(v) => match v.parse::<i64>() {
                Ok(n) => usize::try_from(n).unwrap_or(0),
                Err(_) => return Err(format!("error: invalid argument {v:?} for \"--max-log-requests\" flag: strconv.ParseInt: parsing {v:?}: invalid syntax")),
            },
        };
        let since_seconds = k.flags.get("since").map(parse_since).transpose()?;
        let since_time = match k.flags.get("since-time") {
            None => None,
            Some(v) => Some(
                crate::api::time::parse_millis(v)
                    .map(SimTime)
                    .ok_or_else(|| {
                        format!("error: parsing time {v:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {v:?} as \"2006\"")
                    })?,
            ),
        };
        // `Complete`.
        let mut container = k.flags.get("container").map(str::to_string);
        let pod_arg = match k.args.as_slice() {
            [] if selector.is_none() => return Err(USAGE.into()),
            [] => None,
            [_] | [_, _] if selector.is_some() => {
                return Err("error: only a selector (-l) or a POD name is allowed\nSee 'kubectl logs -h' for help and examples".into())
            }
            [one] => Some(one.clone()),
            [one, inline] => {
                if container.is_some() {
                    return Err(
                        "error: only one of -c or an inline [CONTAINER] arg is allowed".into(),
                    );
                }
                container = Some(inline.clone());
                Some(one.clone())
            }
            _ => return Err(USAGE.into()),
        };
        // `Validate`.
        if since_seconds.is_some() && since_time.is_some() {
            return Err(
                "error: at most one of `sinceTime` or `sinceSeconds` may be specified".into(),
            );
        }
        if let (true, Some(c)) = (all, container.as_deref()) {
            return Err(format!(
                "error: --all-containers=true should not be specified with container name {c}"
            ));
        }
        if tail.is_some_and(|t| t < -1) {
            return Err("error: --tail must be greater than or equal to -1".into());
        }
        if since_seconds.is_some_and(|s| s < 0) {
            return Err("error: --since must be greater than 0".into());
        }
        let options = LogOptions {
            previous: k.flags.has("previous"),
            timestamps: k.flags.has("timestamps"),
            follow: k.flags.has("follow"),
            tail: match (tail, &selector) {
                (None, Some(_)) => Some(SELECTOR_TAIL),
                (Some(-1), _) | (None, None) => None,
                (t, _) => t,
            },
            since_seconds,
            since_time,
        };
        // `LogsForObject`: the requests, one per container.
        let mut out = String::new();
        let pods: Vec<Pod> = match (&pod_arg, &selector) {
            (Some(target), _) => {
                // `LogsForObject`: a pod as named; a workload's or
                // Service's pods through its selector, the first by
                // `podutils.ByLogging`, saying which when it had a choice.
                match self.pods_for_target(cluster, k, target, "get the logs from")? {
                    super::stream::Selected::Pod(p) => vec![p],
                    super::stream::Selected::Pods { pods, .. } => {
                        let count = pods.len();
                        let Some(pod) = first_for_logging(pods) else {
                            // `GetFirstPod` waits `--pod-running-timeout`
                            // for a pod; here it looks once.
                            return Err("error: timed out waiting for the condition".into());
                        };
                        if count > 1 {
                            let _ = writeln!(
                                out,
                                "Found {count} pods, using pod/{}",
                                pod.metadata.name.as_deref().unwrap_or("")
                            );
                        }
                        vec![pod]
                    }
                }
            }
            (None, Some(sel)) => {
                let mut r = self.request(k, Verb::List, KindId::Pod);
                r.options.label_selector = Some(sel.clone());
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
                if pods.is_empty() {
                    return Ok(format!(
                        "No resources found in {} namespace.",
                        self.namespace_of(k)
                    ));
                }
                pods
            }
            (None, None) => return Err(USAGE.into()),
        };
        let mut targets = Vec::new();
        for pod in &pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let containers = if all {
                all_containers(pod)
            } else if let Some(c) = &container {
                vec![c.clone()]
            } else {
                let (c, note) = default_container(pod)?;
                if let Some(n) = note {
                    let _ = writeln!(out, "{n}");
                }
                vec![c]
            };
            targets.extend(containers.into_iter().map(|container| Target {
                pod: name.clone(),
                container,
            }));
        }
        let prefix_of = |t: &Target| {
            if prefix {
                format!("[pod/{}/{}] ", t.pod, t.container)
            } else {
                String::new()
            }
        };
        if !options.follow {
            // `sequentialConsumeRequest`: one after another, the first
            // error ends the command.
            for t in &targets {
                match cluster.call(self.log_request(k, t, &options)) {
                    ApiResponse::Stream { stdout, .. } => {
                        out.push_str(&prefixed(&prefix_of(t), &stdout))
                    }
                    ApiResponse::Error(e) => {
                        out.push_str(&err(&e));
                        return Err(out);
                    }
                    other => {
                        out.push_str(&format!("error: unexpected answer {}", other.summary()));
                        return Err(out);
                    }
                }
            }
            return Ok(out.trim_end_matches('\n').to_string());
        }
        if targets.len() > 1 && targets.len() > max_requests {
            return Err(format!(
                "error: you are attempting to follow {} log streams, but maximum allowed concurrency is {max_requests}, use --max-log-requests to increase the limit",
                targets.len()
            ));
        }
        // Followed: every stream opens and sends what the log holds; those
        // still open stay for the next polls.
        let mut open: Vec<(u64, String)> = Vec::new();
        for t in &targets {
            let p = prefix_of(t);
            let (id, first) = cluster.open(self.log_request(k, t, &options));
            let failed = match first {
                ApiResponse::StreamOpened => None,
                // A pod on no node yet: the API server answers at once with
                // no lines and nothing to follow.
                ApiResponse::Stream { stdout, .. } => {
                    out.push_str(&prefixed(&p, &stdout));
                    continue;
                }
                ApiResponse::Error(e) => Some(err(&e)),
                other => Some(format!("error: unexpected answer {}", other.summary())),
            };
            if let Some(e) = failed {
                cluster.cancel(id);
                for (other, _) in &open {
                    cluster.cancel(*other);
                }
                out.push_str(&e);
                return Err(out);
            }
            let mut ended = false;
            let mut replies: Vec<ApiResponse> = cluster
                .await_reply(id, crate::cluster::CLIENT_TIMEOUT)
                .into_iter()
                .collect();
            replies.extend(cluster.take_replies_timed(id).into_iter().map(|(_, r)| r));
            for reply in replies {
                match reply {
                    ApiResponse::StreamData(StreamFrame::Output { stdout, stderr }) => {
                        out.push_str(&prefixed(&p, &stdout));
                        out.push_str(&prefixed(&p, &stderr));
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
            if !ended {
                open.push((id, p));
            }
        }
        if !open.is_empty() {
            self.follow = Some(OpenFollow {
                streams: open,
                command: {
                    let mut c = vec!["kubectl".to_string(), "logs".into()];
                    c.extend(k.args.iter().cloned());
                    if let Some(sel) = &selector {
                        c.push(format!("-l {sel}"));
                    }
                    if let Some(ct) = k.flags.get("container") {
                        c.push(format!("-c {ct}"));
                    }
                    c.push("-f".into());
                    c.join(" ")
                },
                pipe: None,
            });
        }
        Ok(out.trim_end_matches('\n').to_string())
    }

    /// The `pods/log` request for one container.
    fn log_request(&self, k: &Kubectl, t: &Target, o: &LogOptions) -> crate::apiserver::ApiRequest {
        let mut r = self
            .request(k, Verb::Get, KindId::Pod)
            .named(t.pod.clone())
            .with_subresource("log");
        r.options.stream = Some(Box::new(StreamOptions {
            container: Some(t.container.clone()),
            previous: o.previous,
            tail_lines: o.tail,
            timestamps: o.timestamps,
            follow: o.follow,
            since_seconds: o.since_seconds,
            since_time: o.since_time,
            ..Default::default()
        }));
        r
    }

    /// The command of the log kubectl follows, if any.
    pub(super) fn following(&self) -> Option<&str> {
        self.follow.as_ref().map(|f| f.command.as_str())
    }

    /// Ends the followed log (kubectl interrupted); whether one was open.
    pub(super) fn stop_follow(&mut self, cluster: &mut Cluster) -> bool {
        match self.follow.take() {
            Some(f) => {
                for (id, _) in f.streams {
                    cluster.cancel(id);
                }
                true
            }
            None => false,
        }
    }

    /// The lines the followed log received since the last call, in the
    /// order they arrived. kubectl returns once every stream has ended.
    pub(super) fn poll_follow(&mut self, cluster: &mut Cluster) -> Option<String> {
        let f = self.follow.as_ref()?;
        // (arrival, stream, stdout, stderr): only stdout goes down a pipe.
        let mut frames: Vec<(SimTime, usize, String, String)> = Vec::new();
        let mut still_open = Vec::new();
        for (i, (id, p)) in f.streams.iter().enumerate() {
            let mut ended = false;
            for (at, reply) in cluster.take_replies_timed(*id) {
                match reply {
                    ApiResponse::StreamData(StreamFrame::Output { stdout, stderr }) => {
                        frames.push((at, i, prefixed(p, &stdout), prefixed(p, &stderr)));
                    }
                    ApiResponse::StreamClosed(None) => ended = true,
                    ApiResponse::StreamClosed(Some(e)) => {
                        ended = true;
                        frames.push((at, i, String::new(), format!("error: {e}\n")));
                    }
                    ApiResponse::Error(e) => {
                        ended = true;
                        frames.push((at, i, String::new(), format!("{}\n", err(&e))));
                    }
                    _ => {}
                }
            }
            if !ended {
                still_open.push((*id, p.clone()));
            }
        }
        let mut pipe = self.follow.as_mut().and_then(|f| f.pipe.take());
        match self.follow.as_mut() {
            Some(f) if !still_open.is_empty() => f.streams = still_open,
            _ => self.follow = None,
        }
        frames.sort_by_key(|(at, i, _, _)| (*at, *i));
        let mut out = String::new();
        for (_, _, stdout, stderr) in frames {
            match pipe.as_mut() {
                Some(p) => out.push_str(&p.feed(&stdout)),
                None => out.push_str(&stdout),
            }
            out.push_str(&stderr);
        }
        if let Some(f) = self.follow.as_mut() {
            f.pipe = pipe;
        }
        (!out.is_empty()).then(|| out.trim_end_matches('\n').to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_go_duration_rounded_to_seconds() {
        assert_eq!(parse_since("5s"), Ok(5));
        assert_eq!(parse_since("2m"), Ok(120));
        assert_eq!(parse_since("1h30m"), Ok(5400));
        assert_eq!(
            parse_since("5"),
            Err("error: invalid argument \"5\" for \"--since\" flag: time: missing unit in duration \"5\"".into())
        );
        assert!(parse_since("soon")
            .unwrap_err()
            .contains("time: invalid duration"));
    }

    #[test]
    fn a_prefix_starts_every_line() {
        assert_eq!(
            prefixed("[pod/a/b] ", "x\ny\n"),
            "[pod/a/b] x\n[pod/a/b] y\n"
        );
        assert_eq!(prefixed("", "x\n"), "x\n");
        assert_eq!(prefixed("[p] ", ""), "");
    }
}
