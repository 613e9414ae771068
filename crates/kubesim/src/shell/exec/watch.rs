//! `kubectl get -w`: after the list, a watch from the list's
//! resourceVersion through the API load balancer, as kubectl's
//! `watchtools.UntilWithoutRetry` in
//! `staging/src/k8s.io/kubectl/pkg/cmd/get/get.go` (`GetOptions.watch`)
//! opens it; each event prints one more row, without the header, with its
//! own column widths (kubectl flushes its tab writer per event, so later rows
//! do not line up with the first table either).
//!
//! A watch stays open while the terminal only moves the clock (`sim
//! advance`, `sim until`, faults): its rows print after each of those
//! commands, and the page prints them as they arrive while the clock runs.
//! Any kubectl command, or `^C` (Ctrl+C on the page), closes it first, as
//! interrupting kubectl does. The simulation leaves out `--watch-only`,
//! `--output-watch-events` and a watch over several kinds.

use super::{err, qualified_name, Result, Session};
use crate::api::print::{self, TableOptions};
use crate::api::{Kind, Object};
use crate::apiserver::{ApiResponse, Verb, WatchEventType};
use crate::cluster::Cluster;
use crate::world::SimTime;
use std::fmt::Write as _;

/// How the rows of a watch print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum WatchFormat {
    /// A table row (`wide` with the extra columns).
    Table {
        wide: bool,
        with_namespace: bool,
    },
    Name,
    /// Each object as a YAML document after `---`.
    Yaml,
    Json,
}

/// A watch kubectl holds open.
#[derive(Clone, Debug)]
pub(super) struct OpenWatch {
    /// The request id at the API load balancer.
    id: u64,
    kind: &'static Kind,
    format: WatchFormat,
    /// The command that opened it, as typed.
    command: String,
    /// The filters of `kubectl get -w | grep ...`: each later row runs
    /// through them (`shell/pipe.rs`).
    pub(super) pipe: Option<crate::shell::pipe::Stream>,
}

impl Session {
    /// Opens the watch for `kubectl get -w` after the list printed: from
    /// `resource_version`, with the get's namespace and selectors (a single
    /// name becomes `metadata.name=<name>`, as kubectl does).
    pub(super) fn open_watch(
        &mut self,
        cluster: &mut Cluster,
        k: &super::Kubectl,
        kind: &'static Kind,
        name: Option<&str>,
        resource_version: &str,
        format: WatchFormat,
    ) {
        let mut r = self.request(k, Verb::Watch, kind.id);
        if k.flags.has("all-namespaces") {
            r.namespace = None;
        }
        r.options.resource_version = Some(resource_version.to_string());
        r.options.label_selector = k.flags.get("selector").map(str::to_string);
        r.options.field_selector = match name {
            Some(n) => Some(format!("metadata.name={n}")),
            None => k.flags.get("field-selector").map(str::to_string),
        };
        let id = cluster.submit(r);
        self.watch = Some(OpenWatch {
            id,
            kind,
            format,
            command: format!("kubectl get {} -w", k.args.join(" ")),
            pipe: None,
        });
    }

    /// The command of the watch (or attach, or followed log) kubectl holds
    /// open, if any.
    pub fn watching(&self) -> Option<&str> {
        self.watch
            .as_ref()
            .map(|w| w.command.as_str())
            .or_else(|| self.attaching())
            .or_else(|| self.following())
    }

    /// Closes the open watch, attach or followed log (kubectl interrupted);
    /// whether one was open.
    pub fn stop_watch(&mut self, cluster: &mut Cluster) -> bool {
        let attached = self.stop_attach(cluster);
        let followed = self.stop_follow(cluster);
        match self.watch.take() {
            Some(w) => {
                cluster.cancel(w.id);
                true
            }
            None => attached || followed,
        }
    }

    /// What the open watch printed since the last call (None: nothing
    /// new). Reads only what reached kubectl: it sends nothing and does not
    /// move the clock. A watch the server closed ends here, as kubectl's
    /// does.
    pub fn poll_watch(&mut self, cluster: &mut Cluster) -> Option<String> {
        let streams = self.poll_streams(cluster);
        let followed = self.poll_follow(cluster);
        let rows = self.poll_watch_rows(cluster);
        let parts: Vec<String> = [rows, streams, followed].into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    fn poll_watch_rows(&mut self, cluster: &mut Cluster) -> Option<String> {
        let w = self.watch.as_mut()?;
        let replies = cluster.take_replies_timed(w.id);
        if replies.is_empty() {
            return None;
        }
        let (kind, format) = (w.kind, w.format.clone());
        let mut out = String::new();
        let mut ended = false;
        for (at, reply) in replies {
            match reply {
                ApiResponse::Watch(event) => {
                    if event.kind == WatchEventType::Bookmark {
                        continue;
                    }
                    if let Some(o) = event.object {
                        // A row is standard output: a pipe's filters see
                        // it; the errors below are not piped.
                        let r = row(at, kind, &o, &format);
                        match w.pipe.as_mut() {
                            Some(p) => out.push_str(&p.feed(&r)),
                            None => out.push_str(&r),
                        }
                    }
                }
                ApiResponse::WatchStarted => {}
                ApiResponse::WatchClosed(e) | ApiResponse::Error(e) => {
                    ended = true;
                    out.push_str(&err(&e));
                    out.push('\n');
                }
                other => {
                    ended = true;
                    let _ = writeln!(out, "error: unexpected answer {}", other.summary());
                }
            }
        }
        if ended {
            self.watch = None;
        }
        (!out.is_empty()).then(|| out.trim_end_matches('\n').to_string())
    }
}

/// One watch event as kubectl prints it.
fn row(at: SimTime, kind: &Kind, o: &Object, format: &WatchFormat) -> String {
    match format {
        WatchFormat::Table {
            wide,
            with_namespace,
        } => {
            let opts = TableOptions {
                now: at,
                wide: *wide,
                with_namespace: *with_namespace,
                show_kind: false,
                no_headers: true,
            };
            let mut s = print::print_table(&[o], &opts);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        WatchFormat::Name => format!("{}\n", qualified_name(kind, o.name())),
        WatchFormat::Yaml => format!("---\n{}", print::to_yaml(&o.to_value())),
        WatchFormat::Json => format!("{}\n", print::to_json(&o.to_value())),
    }
}

/// The format of `-o` for a watch, or kubectl's error.
pub(super) fn watch_format(output: &str, with_namespace: bool) -> Result<WatchFormat> {
    match output {
        "" => Ok(WatchFormat::Table {
            wide: false,
            with_namespace,
        }),
        "wide" => Ok(WatchFormat::Table {
            wide: true,
            with_namespace,
        }),
        "name" => Ok(WatchFormat::Name),
        "yaml" => Ok(WatchFormat::Yaml),
        "json" => Ok(WatchFormat::Json),
        other => Err(format!(
            "error: --watch with -o {other} is not supported by the simulated kubectl (use the table, wide, name, yaml or json)"
        )),
    }
}
