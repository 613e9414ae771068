//! The command language (DESIGN.md §4): `kubectl ...` and `sim ...` lines.
//!
//! This module turns text into [`Command`]s and reports bad input as kubectl
//! does (`error: unknown flag: --foo`, `error: unknown command "foo" for
//! "kubectl"`). Running the commands against a cluster is the executor's job.
//!
//! A script is a sequence of lines. `kubectl apply|create|delete -f -` reads
//! the manifest from the lines that follow, up to a line `---end`.
//!
//! A line may pipe its command's output through text filters (`kubectl get
//! pods -A | grep coredns | wc -l`): a [`Command::Pipeline`], whose filters
//! `shell/pipe.rs` parses and runs.

use super::lex::{split_pipeline, LexError};
use super::pipe::Filter;
use crate::world::SimDuration;
use std::collections::BTreeMap;
use thiserror::Error;

/// The line that ends an inline manifest after `-f -`.
pub const END_OF_MANIFEST: &str = "---end";

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("error: {0}")]
    Lex(#[from] LexError),
    #[error("error: unknown command {0:?}: commands start with `kubectl`, `sim`, `curl`, `jobs` or `kill` (try `help`)")]
    UnknownProgram(String),
    #[error("error: unknown command {0:?} for \"kubectl\"\nRun 'kubectl --help' for usage.")]
    UnknownKubectlCommand(String),
    #[error("error: unknown flag: --{flag}\nSee 'kubectl {verb} --help' for usage.")]
    UnknownFlag { verb: String, flag: String },
    #[error("error: unknown shorthand flag: '{short}' in -{group}\nSee 'kubectl {verb} --help' for usage.")]
    UnknownShorthand {
        verb: String,
        short: char,
        group: String,
    },
    #[error("error: flag needs an argument: --{0}")]
    MissingFlagValue(String),
    #[error("error: flag --{0} takes no value")]
    UnexpectedFlagValue(String),
    #[error("error: `-f -` reads a manifest from the lines that follow, ended by a line `{END_OF_MANIFEST}`; the input ended first")]
    UnterminatedManifest,
    #[error("error: {0}")]
    Usage(String),
    /// A filter after `|` that its program would refuse, in that program's
    /// words (`grep: invalid option -- 'k'`, `bash: jq: command not found`).
    #[error("{0}")]
    Filter(String),
}

/// The programs a line can start with (`k` is kubectl's usual alias, `?`
/// is `help`'s): what completion offers as a first word.
pub const PROGRAMS: &[&str] = &["kubectl", "sim", "curl", "jobs", "kill", "help"];

/// The `sim` subcommands.
pub const SIM_COMMANDS: &[&str] = &[
    "advance", "until", "fault", "heal", "status", "seed", "node", "cloud", "help",
];

/// The kinds of fault `sim fault <target> <kind>` injects (`loss=` takes a
/// rate).
pub const FAULT_KINDS: &[&str] = &[
    "crash",
    "power-off",
    "kubelet-stop",
    "partition",
    "delete-vm",
    "loss=",
];

/// A flag a kubectl subcommand accepts.
#[derive(Clone, Copy, Debug)]
struct FlagSpec {
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
}

const fn value(long: &'static str, short: Option<char>) -> FlagSpec {
    FlagSpec {
        long,
        short,
        takes_value: true,
    }
}

const fn switch(long: &'static str, short: Option<char>) -> FlagSpec {
    FlagSpec {
        long,
        short,
        takes_value: false,
    }
}

/// Flags every kubectl command accepts.
const GLOBAL: &[FlagSpec] = &[
    value("namespace", Some('n')),
    value("as", None),
    value("as-group", None),
    value("user", None),
    value("token", None),
    value("context", None),
    value("request-timeout", None),
    switch("help", Some('h')),
];

const FILENAME: FlagSpec = value("filename", Some('f'));
const SELECTOR: FlagSpec = value("selector", Some('l'));
const ALL_NS: FlagSpec = switch("all-namespaces", Some('A'));
const OUTPUT: FlagSpec = value("output", Some('o'));
const DRY_RUN: FlagSpec = value("dry-run", None);

/// The kubectl subcommands the language speaks, with their own flags (the
/// parser's table, which completion reads too).
static KUBECTL_COMMANDS: &[(&str, &[FlagSpec])] = &[
    (
        "get",
        &[
            OUTPUT,
            SELECTOR,
            ALL_NS,
            switch("watch", Some('w')),
            switch("watch-only", None),
            value("field-selector", None),
            switch("show-labels", None),
            switch("no-headers", None),
            value("sort-by", None),
            value("label-columns", Some('L')),
            FILENAME,
        ],
    ),
    ("describe", &[SELECTOR, ALL_NS, FILENAME]),
    (
        "apply",
        &[
            FILENAME,
            OUTPUT,
            DRY_RUN,
            switch("server-side", None),
            switch("force-conflicts", None),
            value("field-manager", None),
        ],
    ),
    (
        "create",
        &[
            FILENAME,
            OUTPUT,
            DRY_RUN,
            value("image", None),
            value("replicas", Some('r')),
            value("port", None),
            value("from-literal", None),
            value("tcp", None),
            value("schedule", None),
            value("verb", None),
            value("resource", None),
            value("role", None),
            value("clusterrole", None),
            value("serviceaccount", None),
            value("group", None),
            value("duration", None),
            value("audience", None),
            value("bound-object-kind", None),
            value("bound-object-name", None),
            value("bound-object-uid", None),
        ],
    ),
    (
        "delete",
        &[
            FILENAME,
            SELECTOR,
            ALL_NS,
            switch("all", None),
            value("cascade", None),
            value("grace-period", None),
            switch("now", None),
            switch("force", None),
            value("wait", None),
            switch("ignore-not-found", None),
        ],
    ),
    (
        "expose",
        &[
            value("port", None),
            value("target-port", None),
            value("type", None),
            value("name", None),
            value("protocol", None),
            value("selector", None),
            value("labels", Some('l')),
            value("cluster-ip", None),
            value("external-ip", None),
            value("session-affinity", None),
            OUTPUT,
            DRY_RUN,
        ],
    ),
    (
        "scale",
        &[
            value("replicas", None),
            FILENAME,
            value("current-replicas", None),
        ],
    ),
    (
        "rollout",
        &[
            value("to-revision", None),
            value("revision", None),
            value("timeout", None),
            switch("watch", Some('w')),
        ],
    ),
    ("certificate", &[switch("force", None), FILENAME]),
    ("cordon", &[SELECTOR, DRY_RUN]),
    ("uncordon", &[SELECTOR, DRY_RUN]),
    (
        "drain",
        &[
            SELECTOR,
            switch("ignore-daemonsets", None),
            switch("delete-emptydir-data", None),
            switch("force", None),
            value("grace-period", None),
            value("timeout", None),
            switch("disable-eviction", None),
            DRY_RUN,
        ],
    ),
    (
        "taint",
        &[switch("overwrite", None), SELECTOR, switch("all", None)],
    ),
    (
        "label",
        &[
            switch("overwrite", None),
            SELECTOR,
            switch("all", None),
            ALL_NS,
        ],
    ),
    (
        "annotate",
        &[
            switch("overwrite", None),
            SELECTOR,
            switch("all", None),
            ALL_NS,
        ],
    ),
    (
        "logs",
        &[
            value("container", Some('c')),
            switch("follow", Some('f')),
            switch("previous", Some('p')),
            value("tail", None),
            switch("timestamps", None),
            switch("all-containers", None),
            SELECTOR,
            switch("prefix", None),
            value("max-log-requests", None),
            value("since", None),
            value("since-time", None),
        ],
    ),
    (
        "run",
        &[
            OUTPUT,
            DRY_RUN,
            value("image", None),
            value("restart", None),
            value("labels", Some('l')),
            value("port", None),
            value("env", None),
            value("image-pull-policy", None),
            switch("command", None),
            switch("stdin", Some('i')),
            switch("tty", Some('t')),
            switch("rm", None),
        ],
    ),
    (
        "exec",
        &[
            value("container", Some('c')),
            switch("stdin", Some('i')),
            switch("tty", Some('t')),
        ],
    ),
    (
        "attach",
        &[
            value("container", Some('c')),
            switch("stdin", Some('i')),
            switch("tty", Some('t')),
            switch("quiet", Some('q')),
            value("pod-running-timeout", None),
        ],
    ),
    (
        "port-forward",
        &[value("address", None), value("pod-running-timeout", None)],
    ),
    (
        "top",
        &[
            SELECTOR,
            ALL_NS,
            switch("containers", None),
            value("sort-by", None),
        ],
    ),
    (
        "explain",
        &[
            switch("recursive", None),
            value("api-version", None),
            value("output", Some('o')),
        ],
    ),
    (
        "wait",
        &[
            value("for", None),
            value("timeout", None),
            SELECTOR,
            switch("all", None),
            ALL_NS,
        ],
    ),
    (
        "auth",
        &[ALL_NS, switch("list", None), switch("quiet", Some('q'))],
    ),
    ("version", &[OUTPUT, switch("client", None)]),
    ("cluster-info", &[OUTPUT, switch("namespaced", None)]),
    ("api-resources", &[OUTPUT, switch("namespaced", None)]),
    ("api-versions", &[OUTPUT, switch("namespaced", None)]),
    ("config", &[OUTPUT, switch("namespaced", None)]),
    (
        "edit",
        &[
            FILENAME,
            value("patch", Some('p')),
            value("type", None),
            OUTPUT,
        ],
    ),
    (
        "patch",
        &[
            FILENAME,
            value("patch", Some('p')),
            value("patch-file", None),
            value("type", None),
            DRY_RUN,
            OUTPUT,
        ],
    ),
    (
        "set",
        &[
            FILENAME,
            value("patch", Some('p')),
            value("type", None),
            OUTPUT,
        ],
    ),
    (
        "replace",
        &[
            FILENAME,
            value("patch", Some('p')),
            value("type", None),
            OUTPUT,
        ],
    ),
];

/// The kubectl subcommands the language speaks, in the table's order.
pub fn kubectl_verbs() -> impl Iterator<Item = &'static str> {
    KUBECTL_COMMANDS.iter().map(|(v, _)| *v)
}

/// A flag as completion offers it: its long name, its shorthand, and
/// whether it takes a value.
pub fn kubectl_flags(verb: Option<&str>) -> Vec<(&'static str, Option<char>, bool)> {
    GLOBAL
        .iter()
        .chain(verb.and_then(subcommand_flags).unwrap_or(&[]))
        .map(|f| (f.long, f.short, f.takes_value))
        .collect()
}

fn subcommand_flags(verb: &str) -> Option<&'static [FlagSpec]> {
    KUBECTL_COMMANDS
        .iter()
        .find(|(v, _)| *v == verb)
        .map(|(_, f)| *f)
}

/// Parsed flags, keyed by their long name; repeated flags keep every value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    /// The last value given for `long` (`-o yaml -o json` means json).
    pub fn get(&self, long: &str) -> Option<&str> {
        self.values
            .get(long)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Every value given for `long`, in order.
    pub fn all(&self, long: &str) -> &[String] {
        self.values.get(long).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether a switch (or any valued flag) was given.
    pub fn has(&self, long: &str) -> bool {
        self.values.contains_key(long)
    }

    fn push(&mut self, long: &'static str, v: String) {
        self.values.entry(long).or_default().push(v);
    }

    /// These flags with `-f -` (a command that builds its own manifest).
    pub fn with_filename_stdin(flags: &Flags) -> Flags {
        let mut f = flags.clone();
        f.values.insert("filename", vec!["-".into()]);
        f
    }
}

/// One `kubectl` invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kubectl {
    /// The subcommand: `get`, `apply`, `rollout`, ...
    pub verb: String,
    /// Positional arguments after the verb (`pods`, `nginx`, `status`, ...).
    pub args: Vec<String>,
    pub flags: Flags,
    /// Words after `--` (the command of `kubectl exec`).
    pub command: Vec<String>,
    /// The manifest read after `-f -`.
    pub stdin: Option<String>,
}

/// What a fault does to its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultKind {
    /// A component process dies (etcd member, API server, scheduler, ...).
    Crash,
    /// A machine loses power: everything on it stops.
    PowerOff,
    /// The kubelet on a node stops (the node itself keeps running).
    KubeletStop,
    /// A node is cut off from every other host.
    Partition,
    /// The cloud deletes the node's VM.
    DeleteVm,
    /// Messages between hosts are lost with this probability.
    Loss(f64),
}

impl FaultKind {
    fn parse(s: &str) -> Result<FaultKind, ParseError> {
        Ok(match s {
            "crash" | "kill" | "stop" => FaultKind::Crash,
            "power-off" | "poweroff" => FaultKind::PowerOff,
            "kubelet-stop" => FaultKind::KubeletStop,
            "partition" | "isolate" => FaultKind::Partition,
            "delete-vm" | "delete" => FaultKind::DeleteVm,
            other => {
                if let Some(p) = other.strip_prefix("loss=") {
                    let p: f64 = p.trim_end_matches('%').parse().map_err(|_| {
                        ParseError::Usage(format!(
                            "invalid loss rate {p:?}: use loss=0.1 or loss=10%"
                        ))
                    })?;
                    let p = if other.ends_with('%') { p / 100.0 } else { p };
                    if !(0.0..=1.0).contains(&p) {
                        return Err(ParseError::Usage(format!(
                            "loss rate must be between 0 and 1 (got {p})"
                        )));
                    }
                    return Ok(FaultKind::Loss(p));
                }
                return Err(ParseError::Usage(format!(
                    "unknown fault {other:?}: use {} or loss=<rate>",
                    FAULT_KINDS[..FAULT_KINDS.len() - 1].join(", ")
                )));
            }
        })
    }
}

/// A `sim until` comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Equals,
    NotEquals,
}

/// A `sim ...` command: what only a simulator has.
#[derive(Clone, Debug, PartialEq)]
pub enum Sim {
    /// Runs the cluster for a span of virtual time.
    Advance(SimDuration),
    /// Runs the cluster until a condition on an object holds, or the timeout.
    Until {
        /// `pod/nginx`, `deployment/web`, `node/worker-1`.
        target: String,
        namespace: Option<String>,
        /// A kubectl JSONPath template, `{.status.phase}`.
        jsonpath: String,
        comparison: Comparison,
        value: String,
        timeout: SimDuration,
    },
    Fault {
        target: String,
        kind: FaultKind,
    },
    Heal {
        target: String,
    },
    Status,
    Seed(u64),
    Help,
    /// `sim node manifests <node>`: the node's `/etc/kubernetes/manifests`.
    NodeManifests {
        node: String,
    },
    /// `sim node manifest add <node> [<file>] -f -`: writes a static pod file
    /// (the manifest follows, ended by `---end`).
    NodeManifestAdd {
        node: String,
        file: Option<String>,
        content: Option<String>,
    },
    /// `sim node manifest rm <node> <file>`.
    NodeManifestRm {
        node: String,
        file: String,
    },
    /// `sim cloud ...`, `sim node add|remove` (see `shell/cloud.rs`).
    Cloud(super::cloud::CloudCommand),
    /// `sim node proxy-rules <node>`: the node's kube-proxy rules, as
    /// `iptables-save` prints them.
    NodeProxyRules {
        node: String,
    },
}

/// A program on the user's own machine, beside kubectl.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// `curl [-s] [-i] [-f] URL` on the user's machine, outside the
    /// cluster: `localhost` reaches what a `kubectl port-forward` listens
    /// on, and an IP a load balancer's or a node's address.
    Curl { args: Vec<String> },
    /// `jobs`: the background `kubectl port-forward`s.
    Jobs,
    /// `kill %N`: stops background job N.
    Kill { job: String },
}

/// One line of the language.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Kubectl(Kubectl),
    Sim(Sim),
    Host(Host),
    Help,
    /// `command | filter | ...`: the command's standard output through
    /// text filters (`shell/pipe.rs`). `command` is never a pipeline.
    Pipeline {
        command: Box<Command>,
        filters: Vec<Filter>,
    },
}

impl Command {
    /// The command that runs against the cluster: the first stage of a
    /// pipeline, or the command itself.
    pub fn first(&self) -> &Command {
        match self {
            Command::Pipeline { command, .. } => command,
            other => other,
        }
    }

    fn first_mut(&mut self) -> &mut Command {
        match self {
            Command::Pipeline { command, .. } => command,
            other => other,
        }
    }
}

/// What a command that keeps printing after it returns is (`kubectl get
/// -w`, `kubectl logs -f`, `kubectl attach`, `kubectl port-forward`), for
/// messages; `None` for a command whose output is complete.
pub(crate) fn streaming(command: &Command) -> Option<&'static str> {
    let Command::Kubectl(k) = command.first() else {
        return None;
    };
    match k.verb.as_str() {
        "get" if k.flags.has("watch") || k.flags.has("watch-only") => Some("kubectl get -w"),
        "logs" if k.flags.has("follow") => Some("kubectl logs -f"),
        "attach" => Some("kubectl attach"),
        "port-forward" => Some("kubectl port-forward"),
        _ => None,
    }
}

/// `sim until` waits at most this long unless told otherwise.
pub const DEFAULT_UNTIL_TIMEOUT: SimDuration = SimDuration::from_secs(300);

fn parse_kubectl(words: &[String]) -> Result<Kubectl, ParseError> {
    let mut flags = Flags::default();
    let mut positional = Vec::new();
    let mut command = Vec::new();
    let mut verb: Option<String> = None;
    let mut specs: Vec<FlagSpec> = GLOBAL.to_vec();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        if word == "--" {
            command.extend(words[i..].iter().cloned());
            break;
        }
        let verb_name = verb.clone().unwrap_or_default();
        if let Some(body) = word.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let spec = specs
                .iter()
                .find(|s| s.long == name)
                .copied()
                .ok_or_else(|| ParseError::UnknownFlag {
                    verb: verb_name.clone(),
                    flag: name.to_string(),
                })?;
            if spec.takes_value {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let v = words
                            .get(i)
                            .cloned()
                            .ok_or_else(|| ParseError::MissingFlagValue(name.to_string()))?;
                        i += 1;
                        v
                    }
                };
                flags.push(spec.long, v);
            } else {
                match inline.as_deref() {
                    None | Some("true") => flags.push(spec.long, "true".into()),
                    Some("false") => {}
                    Some(_) => return Err(ParseError::UnexpectedFlagValue(name.to_string())),
                }
            }
            continue;
        }
        if word.len() > 1 && word.starts_with('-') && word != "-" {
            // A group of shorthands, `-it`, or a shorthand with its value
            // attached, `-oyaml` / `-o=yaml`.
            let group = &word[1..];
            for (pos, c) in group.char_indices() {
                let spec = specs
                    .iter()
                    .find(|s| s.short == Some(c))
                    .copied()
                    .ok_or_else(|| ParseError::UnknownShorthand {
                        verb: verb_name.clone(),
                        short: c,
                        group: group.to_string(),
                    })?;
                if spec.takes_value {
                    let rest = &group[pos + c.len_utf8()..];
                    let v = if !rest.is_empty() {
                        rest.strip_prefix('=').unwrap_or(rest).to_string()
                    } else {
                        let v = words
                            .get(i)
                            .cloned()
                            .ok_or_else(|| ParseError::MissingFlagValue(spec.long.to_string()))?;
                        i += 1;
                        v
                    };
                    flags.push(spec.long, v);
                    break;
                }
                flags.push(spec.long, "true".into());
            }
            continue;
        }
        if verb.is_none() {
            let extra = subcommand_flags(word)
                .ok_or_else(|| ParseError::UnknownKubectlCommand(word.clone()))?;
            specs.extend_from_slice(extra);
            verb = Some(word.clone());
        } else {
            positional.push(word.clone());
        }
    }
    let verb = verb.ok_or_else(|| {
        ParseError::Usage(
            "kubectl needs a command: get, describe, apply, create, delete, ...".into(),
        )
    })?;
    Ok(Kubectl {
        verb,
        args: positional,
        flags,
        command,
        stdin: None,
    })
}

fn parse_sim(words: &[String]) -> Result<Sim, ParseError> {
    let usage = |m: &str| ParseError::Usage(m.to_string());
    let duration = |s: &str| SimDuration::parse(s).map_err(ParseError::Usage);
    match words.first().map(String::as_str) {
        Some("advance") => match words.get(1..) {
            Some([d]) => Ok(Sim::Advance(duration(d)?)),
            _ => Err(usage("usage: sim advance <duration>, e.g. sim advance 30s")),
        },
        Some("until") => {
            let mut rest: Vec<&str> = words[1..].iter().map(String::as_str).collect();
            let mut namespace = None;
            if let Some(pos) = rest.iter().position(|w| *w == "-n" || *w == "--namespace") {
                let ns = rest
                    .get(pos + 1)
                    .ok_or_else(|| ParseError::MissingFlagValue("namespace".into()))?;
                namespace = Some(ns.to_string());
                rest.drain(pos..pos + 2);
            }
            const USAGE: &str = "usage: sim until <kind>/<name> '{<jsonpath>}'=<value> [timeout], e.g. sim until pod/nginx '{.status.phase}'=Running 2m";
            let (target, condition, timeout) = match rest.as_slice() {
                [t, c] => (*t, *c, DEFAULT_UNTIL_TIMEOUT),
                [t, c, d] => (*t, *c, duration(d)?),
                _ => return Err(usage(USAGE)),
            };
            if !target.contains('/') {
                return Err(usage(USAGE));
            }
            let (jsonpath, comparison, value) = if let Some((l, r)) = condition.split_once("!=") {
                (l, Comparison::NotEquals, r)
            } else if let Some(end) = condition.rfind("}=") {
                (&condition[..end + 1], Comparison::Equals, &condition[end + 2..])
            } else {
                return Err(usage(USAGE));
            };
            if !(jsonpath.starts_with('{') && jsonpath.ends_with('}')) {
                return Err(usage(USAGE));
            }
            Ok(Sim::Until {
                target: target.to_string(),
                namespace,
                jsonpath: jsonpath.to_string(),
                comparison,
                value: value.to_string(),
                timeout,
            })
        }
        Some("fault") => match words.get(1..) {
            Some([target, kind]) => Ok(Sim::Fault {
                target: target.clone(),
                kind: FaultKind::parse(kind)?,
            }),
            _ => Err(usage(
                "usage: sim fault <target> <crash|power-off|kubelet-stop|partition|delete-vm|loss=<rate>>",
            )),
        },
        Some("heal") => match words.get(1..) {
            Some([target]) => Ok(Sim::Heal {
                target: target.clone(),
            }),
            _ => Err(usage("usage: sim heal <target>|all")),
        },
        Some("status") if words.len() == 1 => Ok(Sim::Status),
        Some("seed") => match words.get(1..) {
            Some([n]) => n
                .parse()
                .map(Sim::Seed)
                .map_err(|_| usage("usage: sim seed <non-negative integer>")),
            _ => Err(usage("usage: sim seed <non-negative integer>")),
        },
        Some("node") => super::cloud::parse_node(&words[1..])
            .unwrap_or_else(|| parse_sim_node(&words[1..])),
        Some("cloud") => super::cloud::parse(&words[1..]),
        Some("help") | None => Ok(Sim::Help),
        Some(other) => Err(ParseError::Usage(format!(
            "unknown sim command {other:?}: use {}",
            SIM_COMMANDS[..SIM_COMMANDS.len() - 1].join(", ")
        ))),
    }
}

const NODE_USAGE: &str = "usage: sim node manifests <node> | sim node manifest add <node> [<file>] -f - | sim node manifest rm <node> <file> | sim node proxy-rules <node>";

/// `sim node ...`: a node's static pod files.
fn parse_sim_node(words: &[String]) -> Result<Sim, ParseError> {
    let usage = || ParseError::Usage(NODE_USAGE.to_string());
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["manifests", node] => Ok(Sim::NodeManifests {
            node: node.to_string(),
        }),
        ["manifest", "add", node, rest @ ..] => {
            let (file, flag) = match rest {
                ["-f", "-"] | ["--filename", "-"] | ["-f=-"] | ["--filename=-"] => (None, true),
                [file, "-f", "-"] | [file, "--filename", "-"] | ["-f", "-", file] => {
                    (Some(file.to_string()), true)
                }
                _ => (None, false),
            };
            if !flag {
                return Err(usage());
            }
            Ok(Sim::NodeManifestAdd {
                node: node.to_string(),
                file,
                content: None,
            })
        }
        ["manifest", "rm" | "remove" | "delete", node, file] => Ok(Sim::NodeManifestRm {
            node: node.to_string(),
            file: file.to_string(),
        }),
        ["proxy-rules", node] => Ok(Sim::NodeProxyRules {
            node: node.to_string(),
        }),
        _ => Err(usage()),
    }
}

/// Whether a kubectl invocation reads its manifest from the lines that follow.
fn reads_stdin(k: &Kubectl) -> bool {
    k.flags.all("filename").iter().any(|f| f == "-")
}

/// Parses one line that does not need following lines. Returns `Ok(None)` for
/// a blank or comment line. A line with pipes becomes a
/// [`Command::Pipeline`].
pub fn parse_line(line: &str) -> Result<Option<Command>, ParseError> {
    let mut stages = split_pipeline(line)?;
    if stages.len() > 1 {
        // `kubectl port-forward ... | grep F &`: bash backgrounds the whole
        // pipeline; the `&` is not the last filter's argument.
        if let Some(last) = stages.last_mut() {
            if last.len() > 1 && last.last().is_some_and(|w| w == "&") {
                last.pop();
            }
        }
    }
    let mut stages = stages.drain(..);
    let Some(words) = stages.next() else {
        return Ok(None);
    };
    let Some(command) = parse_command(words)? else {
        return Ok(None);
    };
    let filters = stages
        .map(|w| Filter::parse(&w).map_err(ParseError::Filter))
        .collect::<Result<Vec<_>, _>>()?;
    if filters.is_empty() {
        return Ok(Some(command));
    }
    if let Some(what) = streaming(&command) {
        if let Some(f) = filters.iter().find(|f| f.needs_whole_input()) {
            return Err(ParseError::Usage(format!(
                "`{}` needs the whole input, and `{what}` keeps printing until ^C: after it the simulated shell pipes only through filters that work line by line (grep, awk, cut, tr, tail -n +N, cat)",
                f.words().join(" ")
            )));
        }
    }
    Ok(Some(Command::Pipeline {
        command: Box::new(command),
        filters,
    }))
}

/// Parses one command's words (a line's first stage).
fn parse_command(words: Vec<String>) -> Result<Option<Command>, ParseError> {
    let Some(first) = words.first() else {
        return Ok(None);
    };
    match first.as_str() {
        "kubectl" | "k" => {
            // A trailing `&` (run in the background) is what a terminal
            // does with a port-forward anyway.
            let mut words = words[1..].to_vec();
            if words.last().is_some_and(|w| w == "&") {
                words.pop();
            }
            parse_kubectl(&words).map(|k| Some(Command::Kubectl(k)))
        }
        "curl" => Ok(Some(Command::Host(Host::Curl {
            args: words[1..].to_vec(),
        }))),
        "jobs" => Ok(Some(Command::Host(Host::Jobs))),
        "kill" => match words.get(1..) {
            Some([job]) => Ok(Some(Command::Host(Host::Kill { job: job.clone() }))),
            _ => Err(ParseError::Usage(
                "kill: usage: kill %<job> (see `jobs`)".into(),
            )),
        },
        "sim" => parse_sim(&words[1..]).map(|s| Some(Command::Sim(s))),
        "help" | "?" => Ok(Some(Command::Help)),
        other => Err(ParseError::UnknownProgram(other.to_string())),
    }
}

/// A command with the line it started on (1-based), for error messages.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptLine {
    pub line: usize,
    pub text: String,
    pub command: Result<Command, ParseError>,
}

/// Parses a whole script: one command per line, `-f -` manifests inline up to
/// `---end`. A bad line is reported in place; the rest still parses.
pub fn parse_script(text: &str) -> Vec<ScriptLine> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let parsed = match parse_line(line) {
            Ok(None) => continue,
            Ok(Some(mut command)) => read_inline(&mut command, &mut lines).map(|()| command),
            Err(e) => {
                // A bad filter after `kubectl apply -f -`: the manifest
                // still belongs to the line (its lines are not commands).
                let first = split_pipeline(line)
                    .ok()
                    .and_then(|mut stages| (stages.len() > 1).then(|| stages.remove(0)))
                    .and_then(|words| parse_command(words).ok().flatten());
                if let Some(mut command) = first {
                    let _ = read_inline(&mut command, &mut lines);
                }
                Err(e)
            }
        };
        out.push(ScriptLine {
            line: n + 1,
            text: line.to_string(),
            command: parsed,
        });
    }
    out
}

/// Reads the manifest that follows `-f -` (of the command, or of a
/// pipeline's first stage) from `lines`, up to `---end`.
fn read_inline<'a>(
    command: &mut Command,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<(), ParseError> {
    let mut read = || {
        let mut manifest = String::new();
        for (_, body) in lines.by_ref() {
            if body.trim_end() == END_OF_MANIFEST {
                return Ok(manifest);
            }
            manifest.push_str(body);
            manifest.push('\n');
        }
        Err(ParseError::UnterminatedManifest)
    };
    match command.first_mut() {
        Command::Kubectl(k) if reads_stdin(k) => {
            k.stdin = Some(read()?);
        }
        Command::Sim(Sim::NodeManifestAdd { content, .. }) if content.is_none() => {
            *content = Some(read()?);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubectl(line: &str) -> Kubectl {
        match parse_line(line) {
            Ok(Some(Command::Kubectl(k))) => k,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn flags_parse_in_every_form_kubectl_accepts() {
        for line in [
            "kubectl get pods -n kube-system -o yaml",
            "kubectl get pods --namespace=kube-system --output yaml",
            "kubectl -n kube-system get pods -oyaml",
            "kubectl get -o=yaml pods -n=kube-system",
        ] {
            let k = kubectl(line);
            assert_eq!(k.verb, "get", "{line}");
            assert_eq!(k.args, ["pods"], "{line}");
            assert_eq!(k.flags.get("namespace"), Some("kube-system"), "{line}");
            assert_eq!(k.flags.get("output"), Some("yaml"), "{line}");
        }
    }

    #[test]
    fn grouped_shorthand_switches_are_split() {
        let k = kubectl("kubectl exec -it web-0 -c app -- sh -c 'echo hi'");
        assert!(k.flags.has("stdin") && k.flags.has("tty"));
        assert_eq!(k.flags.get("container"), Some("app"));
        assert_eq!(k.args, ["web-0"]);
        assert_eq!(k.command, ["sh", "-c", "echo hi"]);
    }

    #[test]
    fn an_unknown_flag_gets_kubectls_error() {
        let err = parse_line("kubectl get pods --colour").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: unknown flag: --colour\nSee 'kubectl get --help' for usage."
        );
        let err = parse_line("kubectl get pods -z").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error: unknown shorthand flag: 'z' in -z\nSee 'kubectl get --help' for usage."
        );
    }

    #[test]
    fn an_unknown_subcommand_gets_kubectls_error() {
        assert_eq!(
            parse_line("kubectl frobnicate pods").unwrap_err().to_string(),
            "error: unknown command \"frobnicate\" for \"kubectl\"\nRun 'kubectl --help' for usage."
        );
    }

    #[test]
    fn a_flag_missing_its_value_is_an_error() {
        assert_eq!(
            parse_line("kubectl get pods -n"),
            Err(ParseError::MissingFlagValue("namespace".into()))
        );
    }

    #[test]
    fn a_manifest_after_dash_f_dash_runs_to_the_end_marker() {
        let script = "kubectl apply -f -\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---end\nsim advance 5s\n";
        let lines = parse_script(script);
        assert_eq!(lines.len(), 2);
        match &lines[0].command {
            Ok(Command::Kubectl(k)) => assert_eq!(
                k.stdin.as_deref(),
                Some("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n")
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(lines[1].line, 7);
        assert_eq!(
            lines[1].command,
            Ok(Command::Sim(Sim::Advance(SimDuration::from_secs(5))))
        );
    }

    #[test]
    fn a_static_pod_file_follows_sim_node_manifest_add() {
        let lines = parse_script(
            "sim node manifest add worker-1 web.yaml -f -\nkind: Pod\n---end\nsim node manifest rm worker-1 web.yaml\nsim node manifests worker-1\n",
        );
        assert_eq!(
            lines[0].command,
            Ok(Command::Sim(Sim::NodeManifestAdd {
                node: "worker-1".into(),
                file: Some("web.yaml".into()),
                content: Some("kind: Pod\n".into()),
            }))
        );
        assert_eq!(
            lines[1].command,
            Ok(Command::Sim(Sim::NodeManifestRm {
                node: "worker-1".into(),
                file: "web.yaml".into(),
            }))
        );
        assert_eq!(
            lines[2].command,
            Ok(Command::Sim(Sim::NodeManifests {
                node: "worker-1".into()
            }))
        );
        assert!(parse_line("sim node manifest add worker-1").is_err());
        assert_eq!(
            parse_script("sim node manifest add worker-1 -f -\nkind: Pod\n")[0].command,
            Err(ParseError::UnterminatedManifest)
        );
    }

    #[test]
    fn a_manifest_without_its_end_marker_is_an_error() {
        let lines = parse_script("kubectl apply -f -\nkind: Pod\n");
        assert_eq!(lines[0].command, Err(ParseError::UnterminatedManifest));
    }

    #[test]
    fn yaml_document_separators_stay_inside_the_manifest() {
        let lines = parse_script("kubectl apply -f -\na: 1\n---\nb: 2\n---end\n");
        match &lines[0].command {
            Ok(Command::Kubectl(k)) => assert_eq!(k.stdin.as_deref(), Some("a: 1\n---\nb: 2\n")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sim_commands_parse() {
        assert_eq!(
            parse_line("sim until pod/nginx '{.status.phase}'=Running 2m").unwrap(),
            Some(Command::Sim(Sim::Until {
                target: "pod/nginx".into(),
                namespace: None,
                jsonpath: "{.status.phase}".into(),
                comparison: Comparison::Equals,
                value: "Running".into(),
                timeout: SimDuration::from_secs(120),
            }))
        );
        assert_eq!(
            parse_line("sim fault etcd/leader crash").unwrap(),
            Some(Command::Sim(Sim::Fault {
                target: "etcd/leader".into(),
                kind: FaultKind::Crash
            }))
        );
        assert_eq!(
            parse_line("sim fault network loss=10%").unwrap(),
            Some(Command::Sim(Sim::Fault {
                target: "network".into(),
                kind: FaultKind::Loss(0.1)
            }))
        );
        assert_eq!(
            parse_line("sim heal all").unwrap(),
            Some(Command::Sim(Sim::Heal {
                target: "all".into()
            }))
        );
        assert_eq!(
            parse_line("sim seed 42").unwrap(),
            Some(Command::Sim(Sim::Seed(42)))
        );
        assert_eq!(
            parse_line("sim status").unwrap(),
            Some(Command::Sim(Sim::Status))
        );
    }

    #[test]
    fn bad_sim_commands_say_how_to_use_them() {
        for bad in [
            "sim advance",
            "sim advance soon",
            "sim until nginx Running",
            "sim until pod/nginx phase=Running",
            "sim fault worker-1 explode",
            "sim fault network loss=2",
            "sim seed -1",
            "sim teleport",
        ] {
            let err = parse_line(bad).unwrap_err();
            assert!(matches!(err, ParseError::Usage(_)), "{bad}: {err:?}");
        }
    }

    fn pipeline(line: &str) -> (Command, Vec<String>) {
        match parse_line(line) {
            Ok(Some(Command::Pipeline { command, filters })) => (
                *command,
                filters.iter().map(|f| f.words().join(" ")).collect(),
            ),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn a_piped_line_is_a_pipeline_of_the_command_and_its_filters() {
        let (command, filters) = pipeline("kubectl get pods -A | head -3");
        assert_eq!(command, Command::Kubectl(kubectl("kubectl get pods -A")));
        assert_eq!(filters, ["head -3"]);
        let (command, filters) = pipeline("sim status|grep -i etcd | wc -l");
        assert_eq!(command, Command::Sim(Sim::Status));
        assert_eq!(filters, ["grep -i etcd", "wc -l"]);
        assert_eq!(
            parse_line("kubectl get pods").unwrap().unwrap().first(),
            &Command::Kubectl(kubectl("kubectl get pods"))
        );
    }

    #[test]
    fn a_quoted_pipe_stays_in_kubectls_argument() {
        let k = kubectl("kubectl get pods -o jsonpath='{.items[*].metadata.name}{\"|\"}'");
        assert_eq!(
            k.flags.get("output"),
            Some("jsonpath={.items[*].metadata.name}{\"|\"}")
        );
    }

    #[test]
    fn an_empty_pipeline_stage_is_a_syntax_error() {
        for bad in [
            "kubectl get pods |",
            "| grep x",
            "kubectl get pods || grep x",
            "a | | b",
        ] {
            let e = parse_line(bad).unwrap_err().to_string();
            assert!(e.starts_with("error: syntax error"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_bad_filter_is_reported_in_its_programs_words() {
        assert_eq!(
            parse_line("kubectl get pods | head -n x")
                .unwrap_err()
                .to_string(),
            "head: invalid number of lines: 'x'"
        );
        assert!(parse_line("kubectl get pods | jq .")
            .unwrap_err()
            .to_string()
            .starts_with("bash: jq: command not found"));
    }

    #[test]
    fn a_manifest_after_dash_f_dash_is_read_for_a_piped_apply_too() {
        let lines = parse_script(
            "kubectl apply -f - | grep created\nkind: Namespace\n---end\nsim advance 1s\n",
        );
        assert_eq!(lines.len(), 2);
        match &lines[0].command {
            Ok(Command::Pipeline { command, filters }) => {
                assert_eq!(filters.len(), 1);
                match command.as_ref() {
                    Command::Kubectl(k) => {
                        assert_eq!(k.stdin.as_deref(), Some("kind: Namespace\n"))
                    }
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
        // A bad filter fails the line, and the manifest still belongs to it.
        let lines =
            parse_script("kubectl apply -f - | jq .\nkind: Namespace\n---end\nsim advance 1s\n");
        assert_eq!(lines.len(), 2);
        assert!(lines[0].command.is_err());
        assert_eq!(lines[1].line, 4);
    }

    #[test]
    fn a_stream_takes_only_line_by_line_filters() {
        assert!(parse_line("kubectl get pods -w | grep web").is_ok());
        assert!(parse_line("kubectl logs -f web | awk '{print $1}'").is_ok());
        for bad in [
            "kubectl get pods -w | head -3",
            "kubectl get pods --watch | sort",
            "kubectl logs -f web | wc -l",
            "kubectl attach web | grep -c x",
            "kubectl port-forward pod/web 8080:80 | tail -1",
        ] {
            let e = parse_line(bad).unwrap_err().to_string();
            assert!(
                e.contains("needs the whole input") && e.contains("keeps printing"),
                "{bad}: {e}"
            );
        }
        // bash backgrounds the whole pipeline: `&` is not grep's argument.
        let (_, filters) = pipeline("kubectl port-forward pod/web 8080:80 | grep Forward &");
        assert_eq!(filters, ["grep Forward"]);
    }

    #[test]
    fn lines_that_are_not_commands_are_rejected() {
        assert_eq!(
            parse_line("ls -la"),
            Err(ParseError::UnknownProgram("ls".into()))
        );
        assert_eq!(parse_line("   # a comment"), Ok(None));
    }
}
