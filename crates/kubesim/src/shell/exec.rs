//! Running the command language against a cluster: what kubectl and the
//! simulator print.
//!
//! A [`Session`] is one person's terminal: it holds kubectl's context (the
//! kubeadm admin's credentials, the current namespace) and runs scripts,
//! one [`Outcome`] per command. kubectl commands become API requests that
//! travel from the user's machine through the load balancer to an API server
//! and on to etcd, so running one advances virtual time by the few
//! milliseconds the round trip takes. `sim` commands act on the world itself.
//!
//! kubectl here is a subset: `get` (tables, `-o wide|yaml|json|name|
//! jsonpath`), `describe` (a generic form), `apply`/`create`/`replace` (from
//! `-f -`), `create namespace|configmap|deployment`, `delete`, `label`,
//! `annotate`, `scale`, `rollout`, `set image`, `taint`, `api-resources`,
//! `explain` (`exec/explain.rs`), `wait` (`exec/wait.rs`),
//! `version`, `cluster-info`, `logs` (`exec/logs.rs`, followed with `-f`),
//! `exec`, `attach` and `port-forward` (through the API server to the
//! node's kubelet, see `exec/stream.rs`),
//! and, on the user's own machine, `curl` to a forwarded port, `jobs` and
//! `kill %N` for background port-forwards. `apply` is
//! client-side and simplified: an existing object is replaced by the
//! manifest (keeping what the server owns: status, uid, creation time)
//! rather than three-way merged through the last-applied annotation. Verbs
//! whose components are not simulated yet say so instead of pretending.
//!
//! A line `command | filter ...` runs the command, then its standard
//! output through the filters of `shell/pipe.rs`; a command that keeps
//! printing (`get -w`, `logs -f`, `attach`, `port-forward`) keeps its
//! filters for the rows that arrive later.

mod describe;
mod drain;
mod explain;
mod expose;
mod logs;
pub mod patch;
mod rollout;
mod stream;
mod taint;
mod wait;
mod watch;

use super::command::{parse_script, streaming, Command, Comparison, Kubectl, Sim};
use super::pipe::{self, Filter};
use crate::api::print::{self, JsonPath, TableOptions};
use crate::api::{self, ApiError, Kind, KindId, Object, KINDS};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Propagation, Verb};
use crate::cluster::Cluster;
use crate::world::{SimDuration, SimTime};
use std::fmt::Write as _;
use std::rc::Rc;

/// What one command printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The script line the command started on (1-based).
    pub line: usize,
    /// The command as typed.
    pub input: String,
    /// What it printed (stdout and stderr together, as a terminal shows them).
    pub output: String,
    /// Whether it succeeded (kubectl's exit status 0).
    pub ok: bool,
}

/// kubectl's version string for the simulated cluster.
pub const KUBERNETES_VERSION: &str = "v1.34.0";

/// One person's terminal.
#[derive(Clone, Debug)]
pub struct Session {
    /// The namespace of the current context.
    pub namespace: String,
    credential: Credential,
    /// The watch `kubectl get -w` holds open.
    watch: Option<watch::OpenWatch>,
    /// The attach `kubectl attach` holds open.
    attach: Option<stream::OpenAttach>,
    /// The log `kubectl logs -f` follows.
    follow: Option<logs::OpenFollow>,
    /// Background `kubectl port-forward`s.
    forwards: Vec<stream::Forward>,
}

type Result<T> = std::result::Result<T, String>;

fn err(e: &ApiError) -> String {
    e.to_kubectl()
}

/// kubectl's `--dry-run`: `none`, `client` (nothing sent but reads) or
/// `server` (the API server runs admission and validation but stores
/// nothing: `dryRun=All`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DryRun {
    None,
    Client,
    Server,
}

impl DryRun {
    /// What kubectl's printer adds to each line
    /// (`PrintFlags.WithDryRunStrategy`).
    fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go GetDryRunStrategy
/// (the old boolean values still accepted, as kubectl does with a warning).
fn dry_run_strategy(k: &Kubectl) -> Result<DryRun> {
    match k.flags.get("dry-run") {
        None | Some("none") | Some("false") => Ok(DryRun::None),
        Some("client") | Some("true") => Ok(DryRun::Client),
        Some("server") => Ok(DryRun::Server),
        Some(other) => Err(format!(
            "error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
        )),
    }
}

/// `deployment.apps/web`, `pod/nginx`: how kubectl names an object it acted on.
fn qualified_name(kind: &Kind, name: &str) -> String {
    if kind.group.is_empty() {
        format!("{}/{name}", kind.singular())
    } else {
        format!("{}.{}/{name}", kind.singular(), kind.group)
    }
}

fn resolve_kind(word: &str) -> Result<&'static Kind> {
    Kind::resolve(word)
        .ok_or_else(|| format!("error: the server doesn't have a resource type {word:?}"))
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a `sim until` condition holds right now, and the value it
/// compares: read from the state the API servers hold, as an observer
/// outside the cluster (no request is sent, the clock does not move), so the
/// page can ask on every frame without changing the run.
pub fn condition_now(
    cluster: &Cluster,
    target: &str,
    namespace: &str,
    jsonpath: &str,
    comparison: Comparison,
    value: &str,
) -> Result<(bool, String)> {
    let (kind_word, name) = target.split_once('/').unwrap_or((target, ""));
    let kind = resolve_kind(kind_word)?;
    let path = JsonPath::parse(jsonpath).map_err(|e| format!("error: {e}"))?;
    let ns = kind.namespaced.then_some(namespace);
    let key = crate::apiserver::registry::key(kind.id, ns, name);
    let current = cluster
        .observe(&key)
        .map(|o| path.render(&o.to_value()))
        .unwrap_or_default();
    let holds = match comparison {
        Comparison::Equals => current == value,
        Comparison::NotEquals => current != value,
    };
    Ok((holds, current))
}

impl Session {
    /// A terminal with `/etc/kubernetes/admin.conf`: the kubeadm admin, in
    /// the `default` namespace.
    pub fn new() -> Self {
        Session {
            namespace: "default".into(),
            credential: Credential::ClientCertificate(
                crate::apiserver::auth::authn::ClientCertificate::kubeadm_admin(SimTime::ZERO),
            ),
            watch: None,
            attach: None,
            follow: None,
            forwards: Vec::new(),
        }
    }

    /// Runs every command of `script`, in order. A command that fails does
    /// not stop the rest, as in an interactive terminal.
    ///
    /// While `kubectl get -w` holds a watch open, `sim` commands (which only
    /// move the clock or inject faults) leave it open and its new rows print
    /// after theirs; a kubectl command, or a line `^C`, closes it first.
    pub fn run_script(&mut self, cluster: &mut Cluster, script: &str) -> Vec<Outcome> {
        parse_script(script)
            .into_iter()
            .map(|line| {
                if line.text.trim() == "^C" {
                    self.stop_watch(cluster);
                    return Outcome {
                        line: line.line,
                        input: line.text,
                        output: String::new(),
                        ok: true,
                    };
                }
                if !matches!(
                    line.command.as_ref().map(Command::first),
                    Ok(Command::Sim(_)) | Ok(Command::Host(_))
                ) {
                    self.stop_watch(cluster);
                }
                let (mut output, ok) = match line.command {
                    Err(e) => (e.to_string(), false),
                    Ok(command) => match self.run(cluster, &command) {
                        Ok(out) => (out, true),
                        Err(e) => (e, false),
                    },
                };
                if let Some(rows) = self.poll_watch(cluster) {
                    if !output.is_empty() {
                        output.push('\n');
                    }
                    output.push_str(&rows);
                }
                Outcome {
                    line: line.line,
                    input: line.text,
                    output,
                    ok,
                }
            })
            .collect()
    }

    /// Runs one parsed command.
    pub fn run(&mut self, cluster: &mut Cluster, command: &Command) -> Result<String> {
        match command {
            Command::Help => Ok(HELP.to_string()),
            Command::Sim(s) => self.sim(cluster, s),
            Command::Kubectl(k) => self.kubectl(cluster, k),
            Command::Host(super::Host::Curl { args }) => self.curl(cluster, args),
            Command::Host(super::Host::Jobs) => Ok(self.jobs()),
            Command::Host(super::Host::Kill { job }) => self.kill(cluster, job),
            Command::Pipeline { command, filters } => self.pipeline(cluster, command, filters),
        }
    }

    /// `command | filters...`: the command's standard output through the
    /// filters. Its error (`Err`) prints unfiltered and fails the line;
    /// what kubectl writes to stderr while succeeding prints first,
    /// unfiltered; the line succeeds as the last filter does. A command
    /// that keeps printing hands the filters to its open stream, and the
    /// line succeeds (the filters have not seen the end of their input).
    fn pipeline(
        &mut self,
        cluster: &mut Cluster,
        command: &Command,
        filters: &[Filter],
    ) -> Result<String> {
        let output = self.run(cluster, command)?;
        let (stderr, stdout) = match command {
            // What a container printed is all standard output.
            Command::Kubectl(k) if !matches!(k.verb.as_str(), "logs" | "exec" | "attach") => {
                pipe::split_stderr(&output)
            }
            // `Handling connection for 8080` is the background
            // port-forward's line, not curl's output.
            Command::Host(super::Host::Curl { .. }) => {
                let job_lines = output
                    .split_inclusive('\n')
                    .take_while(|l| l.starts_with("Handling connection for "))
                    .map(str::len)
                    .sum::<usize>();
                (
                    output[..job_lines].to_string(),
                    output[job_lines..].to_string(),
                )
            }
            _ => (String::new(), output),
        };
        let stdout = pipe::terminated(&stdout);
        if streaming(command).is_some() {
            if let Some(slot) = self.open_stream_pipe(command) {
                let mut stream = pipe::Stream::new(filters);
                let shown = stream.feed(&stdout);
                *slot = Some(stream);
                return Ok(join_output(&[&stderr, &shown]));
            }
        }
        let piped = pipe::run(filters, &stdout);
        let text = join_output(&[&stderr, &piped.stdout, &piped.stderr]);
        if piped.ok {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// Where the filters of the stream `command` just opened go: the
    /// watch, the followed log, the attach, or the newest port-forward.
    /// `None` when the command did not leave one open (a log whose
    /// containers had already ended).
    fn open_stream_pipe(&mut self, command: &Command) -> Option<&mut Option<pipe::Stream>> {
        let Command::Kubectl(k) = command else {
            return None;
        };
        match k.verb.as_str() {
            "get" => self.watch.as_mut().map(|w| &mut w.pipe),
            "logs" => self.follow.as_mut().map(|f| &mut f.pipe),
            "attach" => self.attach.as_mut().map(|a| &mut a.pipe),
            "port-forward" => self.forwards.last_mut().map(|f| &mut f.pipe),
            _ => None,
        }
    }

    // ----- sim -----

    fn sim(&mut self, cluster: &mut Cluster, s: &Sim) -> Result<String> {
        match s {
            Sim::Help => Ok(HELP.to_string()),
            Sim::Advance(d) => {
                cluster.advance(*d);
                Ok(format!("advanced {d} to {}", cluster.now()))
            }
            Sim::Seed(seed) => {
                let topology = cluster.topology().clone();
                *cluster = Cluster::new(topology, *seed);
                let ready = cluster.boot(SimDuration::from_secs(60));
                Ok(format!(
                    "new run with seed {seed}: {}",
                    if ready {
                        format!("the control plane is ready at {}", cluster.now())
                    } else {
                        "the control plane did not become ready within 60s".into()
                    }
                ))
            }
            Sim::Fault { target, kind } => cluster.fault(target, *kind).map_err(|e| e.to_string()),
            Sim::Heal { target } => cluster.heal(target).map_err(|e| e.to_string()),
            Sim::Status => Ok(status(cluster)),
            Sim::NodeManifests { node } => node_manifests(cluster, node),
            Sim::NodeProxyRules { node } => cluster.proxy_rules(node),
            Sim::NodeManifestAdd {
                node,
                file,
                content,
            } => node_manifest_add(cluster, node, file.as_deref(), content.as_deref()),
            Sim::NodeManifestRm { node, file } => {
                cluster.remove_manifest(node, file)?;
                Ok(format!(
                    "removed {}/{file} on {node}",
                    crate::kubelet::config::STATIC_POD_PATH
                ))
            }
            Sim::Cloud(c) => super::cloud::run(cluster, c),
            Sim::Until {
                target,
                namespace,
                jsonpath,
                comparison,
                value,
                timeout,
            } => self.until(
                cluster,
                target,
                namespace.as_deref(),
                jsonpath,
                *comparison,
                value,
                *timeout,
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn until(
        &mut self,
        cluster: &mut Cluster,
        target: &str,
        namespace: Option<&str>,
        jsonpath: &str,
        comparison: Comparison,
        value: &str,
        timeout: SimDuration,
    ) -> Result<String> {
        let namespace = namespace.unwrap_or(&self.namespace).to_string();
        let start = cluster.now();
        let deadline = start + timeout;
        // `sim until` watches as an observer outside the cluster: it reads the
        // state the API servers hold, without sending requests.
        loop {
            let (holds, current) =
                condition_now(cluster, target, &namespace, jsonpath, comparison, value)?;
            if holds {
                return Ok(format!(
                    "{target}: {jsonpath} is {current:?} at {} (after {})",
                    cluster.now(),
                    cluster.now() - start
                ));
            }
            if cluster.now() >= deadline {
                return Err(format!(
                    "error: timed out after {timeout} waiting for {target} {jsonpath}{}{value} (it is {current:?})",
                    if comparison == Comparison::Equals { "=" } else { "!=" }
                ));
            }
            let step = (cluster.now() + SimDuration::from_millis(100)).min(deadline);
            cluster.advance_to(step);
        }
    }

    // ----- kubectl -----

    fn request(&self, k: &Kubectl, verb: Verb, kind: KindId) -> ApiRequest {
        let mut r = ApiRequest::new(verb, kind, self.credential.clone());
        if let Some(token) = k.flags.get("token") {
            r.credential = Credential::BearerToken(token.to_string());
        }
        if let Some(user) = k.flags.get("as") {
            r.impersonate = Some((user.to_string(), k.flags.all("as-group").to_vec()));
        }
        if kind.info().namespaced {
            r.namespace = Some(self.namespace_of(k));
        }
        r
    }

    fn namespace_of(&self, k: &Kubectl) -> String {
        k.flags
            .get("namespace")
            .map(str::to_string)
            .unwrap_or_else(|| self.namespace.clone())
    }

    fn kubectl(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        if k.flags.has("help") {
            return Ok(format!(
                "kubectl {}: see `help` for what the simulation supports",
                k.verb
            ));
        }
        match k.verb.as_str() {
            "get" => self.get(cluster, k),
            "describe" => self.describe(cluster, k),
            "apply" | "create" | "replace" if k.flags.has("filename") => self.write_manifest(cluster, k),
            "create" => self.create_imperative(cluster, k),
            "run" => self.run_pod(cluster, k),
            "expose" => self.expose(cluster, k),
            "explain" => self.explain(k),
            "wait" => self.wait(cluster, k),
            "delete" => self.delete(cluster, k),
            "label" | "annotate" => self.label(cluster, k),
            "scale" => self.scale(cluster, k),
            "rollout" => self.rollout(cluster, k),
            "set" => self.set(cluster, k),
            "patch" => self.patch(cluster, k),
            "edit" => self.edit(cluster, k),
            "logs" => self.logs(cluster, k),
            "exec" => self.exec(cluster, k),
            "attach" => self.attach(cluster, k),
            "port-forward" => self.port_forward(cluster, k),
            "taint" => self.taint(cluster, k),
            "cordon" | "uncordon" => self.cordon(cluster, k),
            "certificate" => self.certificate(cluster, k),
            "drain" => self.drain(cluster, k),
            "version" => Ok(format!(
                "Client Version: {KUBERNETES_VERSION}\nKustomize Version: v5.7.1\nServer Version: {KUBERNETES_VERSION}"
            )),
            "cluster-info" => Ok(format!(
                "Kubernetes control plane is running at https://{}:6443\n\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.",
                crate::cluster::LOAD_BALANCER
            )),
            "api-resources" => Ok(api_resources()),
            // `kubectl top` reads the Metrics API (metrics.k8s.io), which
            // metrics-server serves through the API server's aggregation
            // layer; kubeadm does not install it and neither does the
            // simulation, so kubectl finds the group missing from discovery
            // (`top_node.go`/`top_pod.go`: `metricsAPIAvailable`).
            "top" => match k.args.first().map(String::as_str) {
                Some("node" | "nodes" | "no" | "pod" | "pods" | "po") => {
                    Err("error: Metrics API not available".into())
                }
                Some(other) => Err(format!(
                    "error: unknown command \"{other}\" for \"kubectl top\""
                )),
                None => Err("error: specify `kubectl top node` or `kubectl top pod`".into()),
            },
            "apply" | "replace" => Err("error: must specify one of -f and -k".into()),
            other => Err(format!(
                "error: `kubectl {other}` is not simulated yet"
            )),
        }
    }

    /// `kubectl get`'s targets: (kind, names) from `pods`, `pods a b`,
    /// `pod/a`, `pods,services`.
    fn targets(args: &[String]) -> Result<Vec<(&'static Kind, Vec<String>)>> {
        let Some(first) = args.first() else {
            return Err("error: You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.".into());
        };
        if first.contains('/') {
            return args
                .iter()
                .map(|a| {
                    let (k, n) = a
                        .split_once('/')
                        .ok_or_else(|| "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'".to_string())?;
                    Ok((resolve_kind(k)?, vec![n.to_string()]))
                })
                .collect();
        }
        let kinds: Vec<&'static Kind> =
            first.split(',').map(resolve_kind).collect::<Result<_>>()?;
        let names: Vec<String> = args[1..].to_vec();
        if kinds.len() > 1 && !names.is_empty() {
            return Err(
                "error: arguments in resource/name form must have a single resource and name"
                    .into(),
            );
        }
        Ok(kinds.into_iter().map(|k| (k, names.clone())).collect())
    }

    fn get(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let targets = Self::targets(&k.args)?;
        let output = k.flags.get("output").unwrap_or("");
        let all_ns = k.flags.has("all-namespaces");
        let selector = k.flags.get("selector").map(str::to_string);
        for unsupported in ["watch-only"] {
            if k.flags.has(unsupported) {
                return Err(format!(
                    "error: --{unsupported} is not supported by the simulated kubectl yet"
                ));
            }
        }
        let watching = k.flags.has("watch");
        let watch_format = if watching {
            if targets.len() != 1 {
                return Err("error: you may only specify a single resource type".into());
            }
            Some(watch::watch_format(output, all_ns)?)
        } else {
            None
        };
        let mut objects: Vec<Rc<Object>> = Vec::new();
        let mut errors = Vec::new();
        let mut list_rv = String::new();
        let mut single = false;
        for (kind, names) in &targets {
            if names.is_empty() {
                let mut r = self.request(k, Verb::List, kind.id);
                if all_ns {
                    r.namespace = None;
                }
                r.options.label_selector = selector.clone();
                r.options.field_selector = k.flags.get("field-selector").map(str::to_string);
                match cluster.call(r) {
                    ApiResponse::List {
                        items,
                        resource_version,
                        ..
                    } => {
                        list_rv = resource_version.to_string();
                        objects.extend(items);
                    }
                    ApiResponse::Error(mut e) => {
                        // kubectl's resource builder names the query it
                        // could not run (the field-selectors docs page).
                        if e.code() == 400 {
                            if let Some(fs) = k.flags.get("field-selector") {
                                e.message = format!(
                                    "Unable to find \"{}\" that match label selector \"{}\", field selector \"{fs}\": {}",
                                    kind.plural,
                                    selector.as_deref().unwrap_or_default(),
                                    e.message
                                );
                            }
                        }
                        return Err(err(&e));
                    }
                    other => return Err(format!("error: unexpected answer {}", other.summary())),
                }
            } else {
                single = names.len() == 1 && targets.len() == 1;
                for name in names {
                    match cluster.call(self.request(k, Verb::Get, kind.id).named(name.clone())) {
                        ApiResponse::Object(o) => objects.push(o),
                        ApiResponse::Error(e) => errors.push(err(&e)),
                        other => {
                            errors.push(format!("error: unexpected answer {}", other.summary()))
                        }
                    }
                }
            }
        }
        if let Some(sort_by) = k.flags.get("sort-by") {
            objects = sort_objects(objects, sort_by)?;
        }
        let refs: Vec<&Object> = objects.iter().map(|o| o.as_ref()).collect();
        let mut out = String::new();
        let fmt_value = |refs: &[&Object]| {
            if single && refs.len() == 1 {
                refs[0].to_value()
            } else if targets.len() == 1 && !single {
                print::typed_list_value(targets[0].0, refs, &list_rv)
            } else {
                print::list_value(refs)
            }
        };
        match output {
            "yaml" => out.push_str(&print::to_yaml(&fmt_value(&refs))),
            "json" => out.push_str(&print::to_json(&fmt_value(&refs))),
            "name" => {
                for o in &refs {
                    let _ = writeln!(out, "{}", qualified_name(o.kind(), o.name()));
                }
            }
            o if o.starts_with("custom-columns=") => {
                let spec = o.split_once('=').map(|(_, t)| t).unwrap_or_default();
                out.push_str(&custom_columns(&refs, spec, k.flags.has("no-headers"))?);
            }
            o if o.starts_with("jsonpath=") || o.starts_with("jsonpath-as-json=") => {
                let template = o.split_once('=').map(|(_, t)| t).unwrap_or_default();
                let path = JsonPath::parse(template).map_err(|e| format!("error: error parsing jsonpath {template}, {e}"))?;
                out.push_str(&path.render(&fmt_value(&refs)));
            }
            "" | "wide" => {
                if refs.is_empty() && errors.is_empty() && watching {
                    // A watch over nothing yet prints nothing until the first
                    // event arrives (the rows then come without a header).
                } else if refs.is_empty() && errors.is_empty() {
                    let ns = self.namespace_of(k);
                    let namespaced = targets.iter().all(|(kind, _)| kind.namespaced);
                    return Ok(print::no_resources_found((namespaced && !all_ns).then_some(ns.as_str())));
                }
                let opts = TableOptions {
                    now: cluster.now(),
                    wide: output == "wide",
                    with_namespace: all_ns,
                    show_kind: targets.len() > 1,
                    no_headers: k.flags.has("no-headers"),
                };
                let label_keys = print::columns::label_column_keys(k.flags.all("label-columns"));
                let show_labels = k.flags.has("show-labels");
                // One table per kind, separated by a blank line.
                let mut first = true;
                for (kind, _) in &targets {
                    let of_kind: Vec<&Object> = refs.iter().copied().filter(|o| o.kind_id() == kind.id).collect();
                    if of_kind.is_empty() {
                        continue;
                    }
                    if !first {
                        out.push('\n');
                    }
                    first = false;
                    out.push_str(&print::print_labelled_table(&of_kind, &opts, &label_keys, show_labels));
                }
            }
            other => {
                return Err(format!(
                    "error: unable to match a printer suitable for the output format {other:?}, allowed formats are: custom-columns,json,jsonpath,jsonpath-as-json,name,wide,yaml"
                ))
            }
        }
        for e in &errors {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(e);
        }
        if errors.is_empty() {
            if let (Some(format), Some((kind, names))) = (watch_format, targets.first()) {
                let rv = if single {
                    refs.first()
                        .and_then(|o| o.resource_version())
                        .unwrap_or_default()
                        .to_string()
                } else {
                    list_rv.clone()
                };
                self.open_watch(
                    cluster,
                    k,
                    kind,
                    names.first().map(String::as_str),
                    &rv,
                    format,
                );
            }
            Ok(out.trim_end_matches('\n').to_string())
        } else {
            Err(out.trim_end_matches('\n').to_string())
        }
    }

    fn describe(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let targets = Self::targets(&k.args)?;
        let mut out = String::new();
        for (kind, names) in targets {
            let objects: Vec<Rc<Object>> = if names.is_empty() {
                match cluster.call(self.request(k, Verb::List, kind.id)) {
                    ApiResponse::List { items, .. } => items,
                    ApiResponse::Error(e) => return Err(err(&e)),
                    _ => vec![],
                }
            } else {
                let mut v = vec![];
                for n in names {
                    match cluster.call(self.request(k, Verb::Get, kind.id).named(n.clone())) {
                        ApiResponse::Object(o) => v.push(o),
                        // `kubectl describe TYPE NAME_PREFIX`: with no exact
                        // match, every object whose name starts with it.
                        ApiResponse::Error(e) if e.reason == api::Reason::NotFound => {
                            let prefixed: Vec<Rc<Object>> =
                                match cluster.call(self.request(k, Verb::List, kind.id)) {
                                    ApiResponse::List { items, .. } => items
                                        .into_iter()
                                        .filter(|o| o.name().starts_with(n.as_str()))
                                        .collect(),
                                    _ => Vec::new(),
                                };
                            if prefixed.is_empty() {
                                return Err(err(&e));
                            }
                            v.extend(prefixed);
                        }
                        ApiResponse::Error(e) => return Err(err(&e)),
                        _ => {}
                    }
                }
                v
            };
            // kubectl describe lists the events whose involvedObject is the
            // object (a field-selector list of events in its namespace).
            let events: Vec<Rc<Object>> = match cluster.call(ApiRequest::new(
                Verb::List,
                KindId::Event,
                self.credential.clone(),
            )) {
                ApiResponse::List { items, .. } => items,
                _ => Vec::new(),
            };
            // What the kind's describer reads besides the object.
            let list_of = |cluster: &mut Cluster, kind: KindId, namespace: Option<&str>| {
                let mut r = ApiRequest::new(Verb::List, kind, self.credential.clone());
                if let Some(ns) = namespace {
                    r = r.in_namespace(ns);
                }
                match cluster.call(r) {
                    ApiResponse::List { items, .. } => {
                        items.iter().map(|o| o.to_value()).collect::<Vec<_>>()
                    }
                    _ => Vec::new(),
                }
            };
            let namespace = self.namespace_of(k);
            let mut related = describe::Related::default();
            let mut leases = Vec::new();
            match kind.id {
                KindId::Deployment => {
                    related.replica_sets = list_of(cluster, KindId::ReplicaSet, Some(&namespace));
                }
                KindId::ReplicaSet => {
                    related.pods = list_of(cluster, KindId::Pod, Some(&namespace));
                }
                KindId::Service => {
                    related.endpoint_slices =
                        list_of(cluster, KindId::EndpointSlice, Some(&namespace));
                }
                KindId::Node => {
                    related.pods = list_of(cluster, KindId::Pod, None);
                    leases = list_of(cluster, KindId::Lease, Some("kube-node-lease"));
                }
                _ => {}
            }
            for o in objects {
                if !out.is_empty() {
                    out.push_str("\n\n");
                }
                related.events = events
                    .iter()
                    .filter(|e| match &***e {
                        Object::Event(ev) => {
                            ev.involved_object.uid.as_deref() == o.uid()
                                || (ev.involved_object.name.as_deref() == Some(o.name())
                                    && ev.involved_object.kind.as_deref() == Some(o.kind().kind)
                                    && ev.involved_object.namespace.as_deref() == o.namespace())
                        }
                        _ => false,
                    })
                    .map(|e| e.to_value())
                    .collect();
                related.lease = leases.iter().find(|l| {
                    l.pointer("/metadata/name").and_then(|n| n.as_str()) == Some(o.name())
                });
                out.push_str(&describe::describe(
                    o.kind().kind,
                    &o.to_value(),
                    &related,
                    cluster.now(),
                ));
            }
        }
        Ok(out)
    }

    fn decode_manifest(k: &Kubectl) -> Result<Vec<std::result::Result<Object, String>>> {
        let files = k.flags.all("filename");
        if files.iter().any(|f| f != "-") {
            return Err(format!(
                "error: the path {:?} does not exist: the simulation has no file system; use `-f -` and the manifest on the following lines, ended by `---end`",
                files.iter().find(|f| *f != "-").cloned().unwrap_or_default()
            ));
        }
        let text = k.stdin.clone().unwrap_or_default();
        let decoded = api::decode_each(&text, "STDIN");
        if decoded.is_empty() {
            return Err("error: no objects passed to apply".into());
        }
        Ok(decoded
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect())
    }

    fn write_manifest(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let mut lines = Vec::new();
        let mut ok = true;
        let verb = k.verb.as_str();
        let dry_run = dry_run_strategy(k)?;
        for item in Self::decode_manifest(k)? {
            let object = match item {
                Ok(o) => o,
                Err(e) => {
                    ok = false;
                    lines.push(e);
                    continue;
                }
            };
            let kind = object.kind();
            let mut base = self.request(k, Verb::Create, kind.id);
            base.options.dry_run = dry_run == DryRun::Server;
            if kind.namespaced {
                if let Some(ns) = object.namespace().filter(|n| !n.is_empty()) {
                    if k.flags.get("namespace").is_some_and(|f| f != ns) {
                        ok = false;
                        lines.push(format!(
                            "error: the namespace from the provided object {ns:?} does not match the namespace {:?}. You must pass '--namespace={ns}' to perform this operation.",
                            self.namespace_of(k)
                        ));
                        continue;
                    }
                    base.namespace = Some(ns.to_string());
                }
            }
            let name = object.name().to_string();
            let verb_ing = match verb {
                "apply" => "applying",
                "replace" => "replacing",
                _ => "creating",
            };
            let result = match verb {
                // A client dry run only reads: kubectl prints what it would
                // have done (created, or configured an object that exists).
                _ if dry_run == DryRun::Client => {
                    let mut get = base.clone();
                    get.verb = Verb::Get;
                    get.name = Some(name.clone());
                    match verb {
                        "create" => Ok(format!("{} created", qualified_name(kind, &name))),
                        _ => match cluster.call(get) {
                            ApiResponse::Error(e) if e.code() == 404 && verb == "apply" => {
                                Ok(format!("{} created", qualified_name(kind, &name)))
                            }
                            ApiResponse::Error(e) => Err(e.to_kubectl_from(verb_ing, "STDIN")),
                            ApiResponse::Object(_) if verb == "replace" => {
                                Ok(format!("{} replaced", qualified_name(kind, &name)))
                            }
                            ApiResponse::Object(_) => {
                                Ok(format!("{} configured", qualified_name(kind, &name)))
                            }
                            other => Err(other.summary()),
                        },
                    }
                }
                "create" => match cluster.call(base.with_body(object)) {
                    ApiResponse::Object(o) => {
                        Ok(format!("{} created", qualified_name(kind, o.name())))
                    }
                    ApiResponse::Error(e) => Err(e.to_kubectl_from(verb_ing, "STDIN")),
                    other => Err(other.summary()),
                },
                _ => {
                    // apply / replace: read, then write the manifest over it.
                    let mut get = base.clone();
                    get.verb = Verb::Get;
                    get.name = Some(name.clone());
                    get.body = None;
                    match cluster.call(get) {
                        ApiResponse::Error(e) if e.code() == 404 && verb == "apply" => {
                            match cluster.call(base.with_body(object)) {
                                ApiResponse::Object(o) => {
                                    Ok(format!("{} created", qualified_name(kind, o.name())))
                                }
                                ApiResponse::Error(e) => Err(e.to_kubectl_from(verb_ing, "STDIN")),
                                other => Err(other.summary()),
                            }
                        }
                        ApiResponse::Error(e) => Err(e.to_kubectl_from(verb_ing, "STDIN")),
                        ApiResponse::Object(current) => {
                            let mut desired = object;
                            if verb == "apply" || desired.resource_version().is_none() {
                                desired.meta_mut().resource_version =
                                    current.meta().resource_version.clone();
                            }
                            let mut put = base.clone();
                            put.verb = Verb::Update;
                            put.name = Some(name.clone());
                            match cluster.call(put.with_body(desired)) {
                                ApiResponse::Object(o) => {
                                    let word = if verb == "replace" {
                                        "replaced"
                                    } else if o.resource_version() == current.resource_version() {
                                        "unchanged"
                                    } else {
                                        "configured"
                                    };
                                    Ok(format!("{} {word}", qualified_name(kind, o.name())))
                                }
                                ApiResponse::Error(e) => Err(e.to_kubectl_from(verb_ing, "STDIN")),
                                other => Err(other.summary()),
                            }
                        }
                        other => Err(other.summary()),
                    }
                }
            };
            match result {
                Ok(l) => lines.push(format!("{l}{}", dry_run.suffix())),
                Err(l) => {
                    ok = false;
                    lines.push(l);
                }
            }
        }
        let text = lines.join("\n");
        if ok {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// `kubectl run NAME --image=IMAGE [-- ARGS...]`: a Pod, as kubectl's
    /// `run` generator makes it (`staging/src/k8s.io/kubectl/pkg/cmd/run`,
    /// `generate/versioned/run.go` `BasicPod`): the container named after
    /// the pod, the label `run=NAME` unless `--labels` says otherwise,
    /// `restartPolicy` from `--restart` (Always), the words after `--` as
    /// its args (its command with `--command`). Interactive sessions
    /// (`-i`, `-t`, `--rm`) are not simulated: the pod is made, and the
    /// output says how to reach it.
    fn run_pod(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let name = match k.args.as_slice() {
            [name] => name.clone(),
            [] => {
                return Err(
                    "error: NAME is required for run\nSee 'kubectl run -h' for help and examples"
                        .into(),
                )
            }
            _ => return Err(
                "error: exactly one NAME is required\nSee 'kubectl run -h' for help and examples"
                    .into(),
            ),
        };
        let image = k
            .flags
            .get("image")
            .ok_or("error: required flag(s) \"image\" not set")?;
        let restart = k.flags.get("restart").unwrap_or("Always");
        if !matches!(restart, "Always" | "OnFailure" | "Never") {
            return Err(format!("error: invalid restart policy: {restart}"));
        }
        let mut labels = serde_json::Map::new();
        match k.flags.get("labels") {
            Some(l) => {
                for pair in l.split(',') {
                    let (key, value) = pair
                        .split_once('=')
                        .ok_or_else(|| format!("error: invalid label spec: {pair}"))?;
                    labels.insert(key.to_string(), value.into());
                }
            }
            None => {
                labels.insert("run".into(), name.clone().into());
            }
        }
        let mut container = serde_json::json!({ "name": name, "image": image });
        if !k.command.is_empty() {
            let field = if k.flags.has("command") {
                "command"
            } else {
                "args"
            };
            container[field] = k.command.clone().into();
        }
        if let Some(port) = k.flags.get("port") {
            let port: i64 = port
                .parse()
                .map_err(|_| format!("error: invalid argument {port:?} for \"--port\" flag"))?;
            container["ports"] = serde_json::json!([{ "containerPort": port }]);
        }
        let env: Vec<serde_json::Value> = k
            .flags
            .all("env")
            .iter()
            .map(|e| {
                let (n, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
                serde_json::json!({ "name": n, "value": v })
            })
            .collect();
        if !env.is_empty() {
            container["env"] = env.into();
        }
        if let Some(policy) = k.flags.get("image-pull-policy") {
            container["imagePullPolicy"] = policy.into();
        }
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": { "name": name, "namespace": self.namespace_of(k), "labels": labels },
            "spec": { "containers": [container], "restartPolicy": restart },
        });
        let mut with_file = k.clone();
        with_file.stdin = Some(pod.to_string());
        with_file.verb = "create".into();
        with_file.args.clear();
        let mut out = self.write_generated_manifest(cluster, &with_file)?;
        if k.flags.has("stdin") || k.flags.has("tty") || k.flags.has("rm") {
            out.push_str(&format!(
                "\n(interactive sessions are not simulated: the pod runs on its own; see `kubectl logs {name}`, `kubectl exec {name} -- <command>`, `kubectl attach {name}`, and `kubectl delete pod {name}` for --rm)"
            ));
        }
        Ok(out)
    }

    fn create_imperative(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let what = k.args.first().map(String::as_str).unwrap_or_default();
        let name = k.args.get(1).cloned().ok_or_else(|| {
            format!("error: exactly one NAME is required, got 0\nSee 'kubectl create {what} -h' for help and examples")
        })?;
        let ns = self.namespace_of(k);
        let manifest = match what {
            "token" => return self.create_token(cluster, k, &name),
            "namespace" | "ns" => format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
            "configmap" | "cm" => {
                let mut m = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n");
                for lit in k.flags.all("from-literal") {
                    let (key, value) = lit.split_once('=').ok_or_else(|| {
                        format!("error: invalid literal source {lit}, expected key=value")
                    })?;
                    let _ = writeln!(m, "  {key}: {}", serde_json::Value::String(value.to_string()));
                }
                if k.flags.all("from-literal").is_empty() {
                    m = m.replace("data:\n", "");
                }
                m
            }
            "deployment" | "deploy" => {
                // `create_deployment.go`: one container per `--image`, named
                // after it; the words after `--` are the (single) container's
                // command (`buildPodSpec`).
                let images = k.flags.all("image").to_vec();
                if images.is_empty() {
                    return Err("error: required flag(s) \"image\" not set".into());
                }
                if images.len() > 1 && !k.command.is_empty() {
                    return Err("error: cannot specify multiple --image options and command".into());
                }
                let replicas = k.flags.get("replicas").unwrap_or("1");
                // `--port`: the container's port (`create_deployment.go`).
                let ports = match k.flags.get("port") {
                    Some(p) => {
                        let port: i32 = p.parse().map_err(|_| {
                            format!("error: invalid argument {p:?} for \"--port\" flag: strconv.ParseInt: parsing {p:?}: invalid syntax")
                        })?;
                        format!("        ports:\n        - containerPort: {port}\n")
                    }
                    None => String::new(),
                };
                let command = if k.command.is_empty() {
                    String::new()
                } else {
                    let words: Vec<String> = k
                        .command
                        .iter()
                        .map(|w| serde_json::Value::String(w.clone()).to_string())
                        .collect();
                    format!("        command: [{}]\n", words.join(", "))
                };
                // `--port` goes to the first container only.
                let containers: String = images
                    .iter()
                    .enumerate()
                    .map(|(i, image)| {
                        let ports = if i == 0 { ports.as_str() } else { "" };
                        let container = image
                            .rsplit('/')
                            .next()
                            .unwrap_or(image)
                            .split([':', '@'])
                            .next()
                            .unwrap_or("app");
                        format!("      - name: {container}\n        image: {image}\n{command}{ports}")
                    })
                    .collect();
                format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n{containers}"
                )
            }
            "" => return Err("error: must specify one of -f and -k".into()),
            other => {
                return Err(format!(
                    "error: `kubectl create {other}` is not part of the simulated subset: use `kubectl create -f -` with a manifest"
                ))
            }
        };
        let mut with_file = k.clone();
        with_file.stdin = Some(manifest);
        with_file.flags = k.flags.clone();
        with_file.verb = "create".into();
        self.write_generated_manifest(cluster, &with_file)
    }

    /// `kubectl create token SA` (kubectl's `pkg/cmd/create/create_token.go`):
    /// a TokenRequest through `serviceaccounts/<name>/token`, printing the
    /// token.
    fn create_token(&mut self, cluster: &mut Cluster, k: &Kubectl, name: &str) -> Result<String> {
        use k8s_openapi::api::authentication::v1::{
            BoundObjectReference, TokenRequest, TokenRequestSpec,
        };
        let audiences = k.flags.all("audience").to_vec();
        if audiences.iter().any(String::is_empty) {
            return Err("error: --audience must not be an empty string".into());
        }
        let mut spec = TokenRequestSpec {
            audiences: (!audiences.is_empty()).then_some(audiences),
            ..Default::default()
        };
        if let Some(d) = k.flags.get("duration") {
            let negative = d.starts_with('-');
            let d = SimDuration::parse(d.trim_start_matches('-')).map_err(|e| {
                format!("error: invalid argument {d:?} for \"--duration\" flag: {e}")
            })?;
            if negative && d > SimDuration::ZERO {
                return Err("error: --duration must be greater than or equal to 0".into());
            }
            if d.as_millis() % 1000 != 0 {
                return Err(
                    "error: --duration cannot be expressed in units less than seconds".into(),
                );
            }
            if d > SimDuration::ZERO {
                spec.expiration_seconds = Some((d.as_millis() / 1000) as i64);
            }
        }
        match (
            k.flags.get("bound-object-kind"),
            k.flags.get("bound-object-name"),
        ) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(
                    "error: --bound-object-name can only be set if --bound-object-kind is provided"
                        .into(),
                )
            }
            (Some(kind), _) if !matches!(kind, "Pod" | "Secret" | "Node") => {
                return Err(
                    "error: supported --bound-object-kind values are Node, Pod, Secret".into(),
                )
            }
            (Some(_), None) => {
                return Err(
                    "error: --bound-object-name is required if --bound-object-kind is provided"
                        .into(),
                )
            }
            (Some(kind), Some(object)) => {
                spec.bound_object_ref = Some(BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some(kind.to_string()),
                    name: Some(object.to_string()),
                    uid: k.flags.get("bound-object-uid").map(str::to_string),
                });
            }
        }
        let request = self
            .request(k, Verb::Create, KindId::ServiceAccount)
            .named(name)
            .with_subresource("token")
            .with_body(Object::TokenRequest(Box::new(TokenRequest {
                spec: Some(spec),
                ..Default::default()
            })));
        match cluster.call(request) {
            ApiResponse::Object(o) => match &*o {
                Object::TokenRequest(tr) => Ok(tr
                    .status
                    .as_ref()
                    .and_then(|s| s.token.clone())
                    .unwrap_or_default()),
                other => Err(format!("error: unexpected {} in answer", other.kind().kind)),
            },
            ApiResponse::Error(e) => Err(format!("error: failed to create token: {}", e.message)),
            other => Err(other.summary()),
        }
    }

    /// `kubectl certificate approve|deny NAME...` (kubectl's
    /// `pkg/cmd/certificates/certificates.go`): adds the Approved or
    /// Denied condition through the `approval` subresource; a request that
    /// already has it is left alone.
    fn certificate(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        use k8s_openapi::api::certificates::v1::CertificateSigningRequestCondition;
        let (action, names) = k
            .args
            .split_first()
            .ok_or("error: kubectl certificate needs a subcommand: approve or deny")?;
        let (condition, reason, message, done) = match action.as_str() {
            "approve" => (
                "Approved",
                "KubectlApprove",
                "This CSR was approved by kubectl certificate approve.",
                "approved",
            ),
            "deny" => (
                "Denied",
                "KubectlDeny",
                "This CSR was denied by kubectl certificate deny.",
                "denied",
            ),
            other => {
                return Err(format!(
                    "error: unknown command \"{other}\" for \"kubectl certificate\""
                ))
            }
        };
        if names.is_empty() {
            return Err(
                "error: one or more CSRs must be specified as <name> or -f <filename>".into(),
            );
        }
        let mut out = Vec::new();
        for name in names {
            let get = self
                .request(k, Verb::Get, KindId::CertificateSigningRequest)
                .named(name.clone());
            let mut csr = match cluster.call(get) {
                ApiResponse::Object(o) => match &*o {
                    Object::CertificateSigningRequest(csr) => csr.clone(),
                    other => return Err(format!("error: unexpected {}", other.kind().kind)),
                },
                ApiResponse::Error(e) => return Err(e.to_kubectl()),
                other => return Err(other.summary()),
            };
            let status = csr.status.get_or_insert_with(Default::default);
            let conditions = status.conditions.get_or_insert_with(Vec::new);
            if !conditions.iter().any(|c| c.type_ == condition) {
                conditions.push(CertificateSigningRequestCondition {
                    type_: condition.to_string(),
                    status: "True".into(),
                    reason: Some(reason.into()),
                    message: Some(message.into()),
                    last_update_time: Some(crate::api::time::to_time(cluster.now())),
                    last_transition_time: None,
                });
                let update = self
                    .request(k, Verb::Update, KindId::CertificateSigningRequest)
                    .named(name.clone())
                    .with_subresource("approval")
                    .with_body(Object::CertificateSigningRequest(csr));
                match cluster.call(update) {
                    ApiResponse::Object(_) => {}
                    ApiResponse::Error(e) => return Err(e.to_kubectl()),
                    other => return Err(other.summary()),
                }
            }
            out.push(format!(
                "certificatesigningrequest.certificates.k8s.io/{name} {done}"
            ));
        }
        Ok(out.join("\n"))
    }

    fn write_generated_manifest(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let mut k = k.clone();
        k.flags = super::command::Flags::with_filename_stdin(&k.flags);
        self.write_manifest(cluster, &k)
    }

    fn delete(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let mut targets: Vec<(&'static Kind, String, Option<String>)> = Vec::new();
        if k.flags.has("filename") {
            for item in Self::decode_manifest(k)? {
                let o = item?;
                targets.push((
                    o.kind(),
                    o.name().to_string(),
                    o.namespace().map(str::to_string),
                ));
            }
        } else {
            let parsed = Self::targets(&k.args).map_err(|e| e.replace("to get", "to delete"))?;
            for (kind, names) in parsed {
                if names.is_empty() {
                    if !k.flags.has("selector") && !k.flags.has("all") {
                        return Err(
                            "error: resource(s) were provided, but no name was specified".into(),
                        );
                    }
                    let mut r = self.request(k, Verb::List, kind.id);
                    r.options.label_selector = k.flags.get("selector").map(str::to_string);
                    match cluster.call(r) {
                        ApiResponse::List { items, .. } => {
                            if items.is_empty() {
                                return Ok(print::no_resources_found(
                                    kind.namespaced.then_some(self.namespace_of(k).as_str()),
                                ));
                            }
                            for o in items {
                                targets.push((kind, o.name().to_string(), None));
                            }
                        }
                        ApiResponse::Error(e) => return Err(err(&e)),
                        _ => {}
                    }
                } else {
                    for n in names {
                        targets.push((kind, n, None));
                    }
                }
            }
        }
        // `GetCascadingStrategy` (kubectl `delete.go`): kubectl always
        // sends a propagation policy, background unless told otherwise; the
        // old boolean values still work, with a warning.
        let mut warnings = Vec::new();
        let propagation = match k.flags.get("cascade") {
            None => Propagation::Background,
            Some(c) => match c {
                "background" => Propagation::Background,
                "foreground" => Propagation::Foreground,
                "orphan" => Propagation::Orphan,
                "1" | "t" | "T" | "TRUE" | "true" | "True" => {
                    warnings.push(format!("warning: --cascade={c} is deprecated (boolean value) and can be replaced with --cascade=background."));
                    Propagation::Background
                }
                "0" | "f" | "F" | "FALSE" | "false" | "False" => {
                    warnings.push(format!("warning: --cascade={c} is deprecated (boolean value) and can be replaced with --cascade=orphan."));
                    Propagation::Orphan
                }
                _ => {
                    return Err(format!(
                        "error: invalid cascade value ({c}). Must be \"background\", \"foreground\", or \"orphan\""
                    ))
                }
            },
        };
        let mut grace = match k.flags.get("grace-period") {
            Some(g) => Some(g.parse::<i64>().map_err(|_| {
                format!("error: invalid argument {g:?} for \"--grace-period\" flag")
            })?),
            None => None,
        };
        if k.flags.has("now") {
            grace = Some(1);
        }
        if k.flags.has("force") && grace.is_none() {
            grace = Some(0);
        }
        let mut lines = warnings;
        let mut ok = true;
        for (kind, name, ns) in targets {
            let mut r = self.request(k, Verb::Delete, kind.id).named(name.clone());
            if let (Some(ns), true) = (ns, kind.namespaced) {
                r.namespace = Some(ns);
            }
            r.options.propagation = Some(propagation);
            r.options.grace_period_seconds = grace;
            match cluster.call(r) {
                ApiResponse::Object(_) | ApiResponse::Deleted(_) => {
                    let label = if kind.group.is_empty() {
                        kind.singular()
                    } else {
                        format!("{}.{}", kind.singular(), kind.group)
                    };
                    lines.push(format!("{label} {name:?} deleted"));
                }
                ApiResponse::Error(e) if e.code() == 404 && k.flags.has("ignore-not-found") => {}
                ApiResponse::Error(e) => {
                    ok = false;
                    lines.push(err(&e));
                }
                other => lines.push(other.summary()),
            }
        }
        let text = lines.join("\n");
        if ok {
            Ok(text)
        } else {
            Err(text)
        }
    }

    fn label(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let annotate = k.verb == "annotate";
        let (target_words, changes): (Vec<&String>, Vec<&String>) = k
            .args
            .iter()
            .partition(|a| !(a.contains('=') || a.ends_with('-')));
        let target_words: Vec<String> = target_words.into_iter().cloned().collect();
        if changes.is_empty() {
            return Err(format!(
                "error: at least one {} update is required",
                if annotate { "annotation" } else { "label" }
            ));
        }
        let targets = Self::targets(&target_words)?;
        let mut lines = Vec::new();
        for (kind, names) in targets {
            for name in names {
                let current =
                    match cluster.call(self.request(k, Verb::Get, kind.id).named(name.clone())) {
                        ApiResponse::Object(o) => o,
                        ApiResponse::Error(e) => return Err(err(&e)),
                        other => return Err(other.summary()),
                    };
                let mut next = (*current).clone();
                {
                    let mut meta = next.meta_mut();
                    let map = if annotate {
                        &mut meta.annotations
                    } else {
                        &mut meta.labels
                    };
                    let map = map.get_or_insert_with(Default::default);
                    for change in &changes {
                        if let Some(key) = change.strip_suffix('-') {
                            map.remove(key);
                        } else if let Some((key, value)) = change.split_once('=') {
                            if map.get(key).is_some_and(|v| v != value) && !k.flags.has("overwrite")
                            {
                                return Err(format!(
                                    "error: '{key}' already has a value ({}), and --overwrite is false",
                                    map.get(key).cloned().unwrap_or_default()
                                ));
                            }
                            map.insert(key.to_string(), value.to_string());
                        }
                    }
                }
                let put = self
                    .request(k, Verb::Update, kind.id)
                    .named(name.clone())
                    .with_body(next);
                match cluster.call(put) {
                    ApiResponse::Object(o) => {
                        let word = if o.resource_version() == current.resource_version() {
                            "not labeled"
                                .replace("labeled", if annotate { "annotated" } else { "labeled" })
                        } else if annotate {
                            "annotated".into()
                        } else {
                            "labeled".into()
                        };
                        lines.push(format!("{} {word}", qualified_name(kind, &name)));
                    }
                    ApiResponse::Error(e) => return Err(err(&e)),
                    other => return Err(other.summary()),
                }
            }
        }
        Ok(lines.join("\n"))
    }
}

impl Session {
    /// The pod a `kubectl exec` names (`nginx`, `pod/nginx`, or a
    /// workload's or Service's most active pod: `deploy/nginx`), read from
    /// the API, and the container to use with kubectl's
    /// "Defaulted container" note when it picked one among several
    /// (`podcmd.FindOrDefaultContainerByName`).
    fn pod_and_container(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        usage: &str,
    ) -> Result<(crate::api::pod::Pod, String, Option<String>)> {
        let target = match k.args.as_slice() {
            [one] => one.clone(),
            [] => return Err(format!("error: expected {usage}.\nPOD is a required argument for the {} command\nSee 'kubectl {} -h' for help and examples", k.verb, k.verb)),
            _ if k.verb == "exec" => {
                return Err("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples".into())
            }
            _ => return Err(format!("error: expected {usage}")),
        };
        // `exec` takes a workload or Service too (`ExecutablePodFn`, which
        // is `attachablePodForObject`).
        let (pod, _) = self.attachable_pod(cluster, k, &target)?;
        if let Some(c) = k.flags.get("container") {
            return Ok((pod, c.to_string(), None));
        }
        // `podcmd.FindOrDefaultContainerByName`, as logs chooses.
        let (container, note) = logs::default_container(&pod)?;
        Ok((pod, container, note))
    }

    /// `kubectl exec POD [-c CONTAINER] -- COMMAND [args...]`: through the
    /// API server's `pods/exec` to the node's kubelet and the container's
    /// runtime; the command runs to completion (no interactive session).
    fn exec(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        if k.command.is_empty() {
            return Err("error: you must specify at least one command for the container".into());
        }
        let (pod, container, note) = self.pod_and_container(
            cluster,
            k,
            "'exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]'",
        )?;
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            return Err(format!(
                "error: cannot exec into a container in a completed pod; current phase is {phase}"
            ));
        }
        let mut r = self
            .request(k, Verb::Create, KindId::Pod)
            .named(pod.metadata.name.clone().unwrap_or_default())
            .with_subresource("exec");
        r.options.stream = Some(Box::new(crate::apiserver::StreamOptions {
            container: Some(container),
            command: k.command.clone(),
            ..Default::default()
        }));
        let mut out = note.map(|n| format!("{n}\n")).unwrap_or_default();
        match cluster.call(r) {
            ApiResponse::Stream {
                stdout,
                stderr,
                exit_code,
            } => {
                out.push_str(&stdout);
                out.push_str(&stderr);
                if !stderr.is_empty() && !stderr.ends_with('\n') {
                    out.push('\n');
                }
                let code = exit_code.unwrap_or(0);
                if code != 0 {
                    out.push_str(&format!("command terminated with exit code {code}"));
                    return Err(out);
                }
                Ok(out.strip_suffix('\n').unwrap_or(&out).to_string())
            }
            // The kubelet refused the stream before it started.
            ApiResponse::Error(e)
                if e.reason == crate::api::Reason::NotFound
                    && e.message.starts_with("container not found") =>
            {
                out.push_str(&format!(
                    "error: unable to upgrade connection: {}",
                    e.message
                ));
                Err(out)
            }
            ApiResponse::Error(e) => {
                out.push_str(&err(&e));
                Err(out)
            }
            other => Err(format!("error: unexpected answer {}", other.summary())),
        }
    }

    /// `kubectl scale (-f FILE | TYPE NAME | TYPE/NAME) --replicas=N`: sets
    /// `spec.replicas` through the `scale` subresource
    /// (`k8s.io/kubectl/pkg/cmd/scale`); here a read and a conditional
    /// update of the object, which is what the subresource does server-side.
    fn scale(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let Some(replicas) = k.flags.get("replicas") else {
            return Err("error: required flag(s) \"replicas\" not set".into());
        };
        let replicas: i32 = replicas
            .parse()
            .ok()
            .filter(|r: &i32| *r >= 0)
            .ok_or_else(|| "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0".to_string())?;
        let targets = Self::targets(&k.args)?;
        let mut lines = Vec::new();
        for (kind, names) in targets {
            if !matches!(
                kind.id,
                KindId::Deployment | KindId::ReplicaSet | KindId::StatefulSet
            ) {
                return Err(format!(
                    "error: no scaler has been implemented for {{\"{}\" \"{}\"}}",
                    kind.group, kind.kind
                ));
            }
            if names.is_empty() {
                return Err("error: resource(s) were provided, but no name was specified".into());
            }
            for name in names {
                let current =
                    match cluster.call(self.request(k, Verb::Get, kind.id).named(name.clone())) {
                        ApiResponse::Object(o) => o,
                        ApiResponse::Error(e) => return Err(err(&e)),
                        other => return Err(other.summary()),
                    };
                if let Some(expected) = k.flags.get("current-replicas") {
                    let now = match &*current {
                        Object::Deployment(d) => d.spec.replicas,
                        Object::ReplicaSet(r) => r.spec.replicas,
                        Object::StatefulSet(s) => s.spec.replicas,
                        _ => None,
                    }
                    .unwrap_or(1);
                    if expected != now.to_string() {
                        return Err(format!(
                            "error: Expected replicas to be {expected}, was {now}"
                        ));
                    }
                }
                let mut next = (*current).clone();
                match &mut next {
                    Object::Deployment(d) => d.spec.replicas = Some(replicas),
                    Object::ReplicaSet(r) => r.spec.replicas = Some(replicas),
                    Object::StatefulSet(s) => s.spec.replicas = Some(replicas),
                    _ => {}
                }
                let put = self
                    .request(k, Verb::Update, kind.id)
                    .named(name.clone())
                    .with_body(next);
                match cluster.call(put) {
                    ApiResponse::Object(_) => {
                        lines.push(format!("{} scaled", qualified_name(kind, &name)))
                    }
                    ApiResponse::Error(e) => return Err(err(&e)),
                    other => return Err(other.summary()),
                }
            }
        }
        Ok(lines.join("\n"))
    }
}

/// `kubectl api-resources` for the served kinds.
/// `kubectl get --sort-by` (`get/sorter.go` `SortObjects`).
fn sort_objects(objects: Vec<Rc<Object>>, sort_by: &str) -> Result<Vec<Rc<Object>>> {
    let values: Vec<serde_json::Value> = objects.iter().map(|o| o.to_value()).collect();
    let order = print::columns::sort_order(sort_by, &values)?;
    Ok(order
        .into_iter()
        .filter_map(|i| objects.get(i).cloned())
        .collect())
}

/// `kubectl get -o custom-columns=NAME:.metadata.name,...`.
fn custom_columns(objects: &[&Object], spec: &str, no_headers: bool) -> Result<String> {
    let columns = print::columns::parse_custom_columns(spec)?;
    let values: Vec<serde_json::Value> = objects.iter().map(|o| o.to_value()).collect();
    Ok(print::tabwrite(&print::columns::custom_column_rows(
        &columns, &values, no_headers,
    )))
}

fn api_resources() -> String {
    let mut rows = vec![vec![
        "NAME".to_string(),
        "SHORTNAMES".into(),
        "APIVERSION".into(),
        "NAMESPACED".into(),
        "KIND".into(),
    ]];
    for k in KINDS {
        // TokenRequest is the `serviceaccounts/token` subresource, not a
        // resource of its own.
        if matches!(k.id, KindId::EventsEvent | KindId::TokenRequest) {
            continue;
        }
        rows.push(vec![
            k.plural.to_string(),
            k.short_names.join(","),
            k.api_version(),
            k.namespaced.to_string(),
            k.kind.to_string(),
        ]);
    }
    print::tabwrite(&rows).trim_end().to_string()
}

/// `sim node manifests <node>`: the files and the static pods they make.
fn node_manifests(cluster: &Cluster, node: &str) -> Result<String> {
    let (files, errors) = cluster.node_manifests(node)?;
    let dir = crate::kubelet::config::STATIC_POD_PATH;
    if files.is_empty() {
        return Ok(format!("{dir} on {node} is empty"));
    }
    let mut rows = vec![vec!["FILE".to_string(), "STATIC POD".into()]];
    for (file, content) in &files {
        let pod = match errors.get(file) {
            Some(e) => format!("(not run: {e})"),
            None if file.starts_with('.') => "(ignored: hidden file)".into(),
            None => match crate::kubelet::config::read_file(file, content, node) {
                Ok(p) => p.key,
                Err(e) => format!("(not run: {e})"),
            },
        };
        rows.push(vec![file.clone(), pod]);
    }
    Ok(format!(
        "{dir} on {node}:\n{}",
        print::tabwrite(&rows).trim_end()
    ))
}

/// `sim node manifest add <node> [<file>] -f -`.
fn node_manifest_add(
    cluster: &mut Cluster,
    node: &str,
    file: Option<&str>,
    content: Option<&str>,
) -> Result<String> {
    let content = content.ok_or("error: the manifest follows `-f -`, ended by a line ---end")?;
    let parsed = crate::kubelet::config::read_file(file.unwrap_or("manifest.yaml"), content, node);
    let file = match (file, &parsed) {
        (Some(f), _) => f.to_string(),
        (None, Ok(p)) => {
            // Named after the pod as written (before the node suffix).
            let name = p
                .pod
                .metadata
                .name
                .as_deref()
                .unwrap_or_default()
                .strip_suffix(&format!("-{}", node.to_lowercase()))
                .unwrap_or_default()
                .to_string();
            format!("{name}.yaml")
        }
        (None, Err(e)) => {
            return Err(format!(
                "error: name the file (sim node manifest add {node} <file> -f -): {e}"
            ))
        }
    };
    cluster.write_manifest(node, &file, content)?;
    let dir = crate::kubelet::config::STATIC_POD_PATH;
    match parsed {
        Ok(p) => Ok(format!(
            "wrote {dir}/{file} on {node}: the kubelet runs static pod {} and mirrors it to the API",
            p.key
        )),
        Err(e) => Ok(format!(
            "wrote {dir}/{file} on {node}; the kubelet will not run it: {e}"
        )),
    }
}

/// `sim status`: every simulated component and fault.
fn status(cluster: &Cluster) -> String {
    let mut rows = vec![vec!["COMPONENT".to_string(), "NODE".into(), "STATE".into()]];
    for (name, s) in cluster.etcd_status() {
        let node = name.trim_start_matches("etcd-").to_string();
        let state = if s.role == crate::etcd::Role::Stopped {
            "crashed".to_string()
        } else {
            format!(
                "{:?}, term {}, leader {}, commit {}, revision {}",
                s.role,
                s.term,
                s.leader
                    .map(|l| format!("member {l}"))
                    .unwrap_or_else(|| "unknown".into()),
                s.commit_index,
                s.revision
            )
            .to_lowercase()
        };
        rows.push(vec![name, node, state]);
    }
    for s in cluster.apiserver_status() {
        let node = s.name.trim_start_matches("kube-apiserver-").to_string();
        let state = if !s.up {
            "crashed".into()
        } else if s.ready {
            format!(
                "ready, cache at revision {}, {} watches",
                s.cache_revision, s.watches
            )
        } else {
            format!(
                "not ready: {}",
                s.not_ready_reason.clone().unwrap_or_default()
            )
        };
        rows.push(vec![s.name, node, state]);
    }
    let lb = cluster.load_balancer_status();
    let in_rotation: Vec<String> = lb
        .iter()
        .filter(|b| b.in_rotation)
        .map(|b| b.name.clone())
        .collect();
    rows.push(vec![
        crate::cluster::LOAD_BALANCER.into(),
        "-".into(),
        format!(
            "{}/{} in rotation: {}",
            in_rotation.len(),
            lb.len(),
            in_rotation.join(", ")
        ),
    ]);
    let snap = cluster.snapshot();
    for c in snap.components().filter(|c| {
        c.simulated
            && !matches!(
                c.kind,
                crate::ComponentKind::Etcd
                    | crate::ComponentKind::KubeApiserver
                    | crate::ComponentKind::ApiLoadBalancer
            )
    }) {
        rows.push(vec![
            c.id.clone(),
            c.node.clone().unwrap_or_else(|| "-".into()),
            c.state.clone(),
        ]);
    }
    let mut placed: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in snap.components().filter(|c| !c.simulated) {
        *placed.entry(c.kind.label()).or_default() += 1;
    }
    let mut out = format!("time {}  seed {}\n", cluster.now(), cluster.seed());
    out.push_str(print::tabwrite(&rows).trim_end());
    if !placed.is_empty() {
        let list: Vec<String> = placed.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        out.push_str("\nplaced, not simulated yet: ");
        out.push_str(&list.join(", "));
    }
    let faults: Vec<String> = snap
        .nodes
        .iter()
        .filter_map(|n| {
            if n.powered_off {
                Some(format!("{} is powered off", n.name))
            } else if n.partitioned {
                Some(format!("{} is partitioned", n.name))
            } else {
                None
            }
        })
        .collect();
    if !faults.is_empty() {
        out.push_str("\nfaults: ");
        out.push_str(&faults.join("; "));
    }
    out
}

/// Outputs printed one after another, as a terminal shows them: the
/// empty ones left out, and no newline at the end (the language's style).
fn join_output(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim_end_matches('\n'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `help` prints.
pub const HELP: &str = "\
kubectl get <type>[/<name>] [<name>...] [-n NS | -A] [-l SELECTOR] [--field-selector F=V,F!=V] [-o wide|yaml|json|name|jsonpath=TEMPLATE]
kubectl describe <type> [<name>...]
kubectl apply|create|replace -f -      (the manifest follows, ended by a line ---end)
kubectl create namespace|configmap|deployment NAME [--image=IMAGE] [--replicas=N] [--port=N] [--from-literal=k=v]
kubectl expose deployment|rs|pod|svc NAME [--port=N] [--target-port=N] [--name=N] [--type=NodePort|LoadBalancer] [--protocol=TCP]
kubectl run <name> --image=IMAGE [--restart=Always|OnFailure|Never] [--port=N] [-l k=v] [--env K=V] [--command] [-- ARGS...]
kubectl create token <serviceaccount> [--duration=1h] [--audience=A]   (a bound service-account token, TokenRequest)
kubectl certificate approve|deny <csr>...
kubectl delete <type> <name>... | -f - | -l SELECTOR  [--cascade=background|foreground|orphan] [--grace-period=N] [--now] [--force]
kubectl label|annotate <type> <name> key=value... key-... [--overwrite]
kubectl scale deployment|replicaset|statefulset <name> --replicas=N
kubectl rollout status|history|undo|restart|pause|resume deployment/<name> [--to-revision=N]
kubectl set image deployment/<name> <container>=<image>
kubectl patch <type> <name> -p PATCH [--type strategic|merge|json] [--dry-run=server|client] [-o yaml|json|name]
kubectl edit <type> <name>               (the page opens it in the YAML editor; Save sends the changes as a patch)
kubectl logs <pod> [CONTAINER] | -l SELECTOR [-c CONTAINER] [--all-containers] [-p] [--tail N] [--since 5m | --since-time T]
             [--timestamps] [--prefix] [-f [--max-log-requests 5]]   (API server -> kubelet :10250; -f streams like get -w)
kubectl exec <pod> [-c CONTAINER] -- <command> [args...]   (runs to completion: echo, cat, env, hostname, ls, ...)
kubectl attach <pod>|TYPE/NAME [-c CONTAINER] [-q]   (streams what the container prints, like get -w: after each
                                        sim command and live on the page; any kubectl command or ^C detaches)
kubectl port-forward pod/<name>|deploy/<name>|svc/<name> [LOCAL:]REMOTE... [--address A]   (a background job)
curl [-s] [-i] [-f] <url>               (your machine: localhost reaches a forwarded port, an IP a load balancer or NodePort)
jobs | kill %N                          list | stop the background port-forwards
kubectl taint nodes <name> key[=value]:Effect | key[:Effect]-  [--overwrite]
kubectl cordon|uncordon <node>...   kubectl drain <node> [--ignore-daemonsets] [--delete-emptydir-data] [--force] [--grace-period=N] [--timeout=D]
kubectl api-resources | version | cluster-info      (add --as=USER to impersonate, -n NS for a namespace)
kubectl explain <type>[.<field>...] [--recursive] [--api-version=GROUP/VERSION]   (the API schema's fields and docs)
kubectl wait TYPE/NAME... | TYPE -l SELECTOR | TYPE --all --for=condition=Ready|delete|jsonpath='{.status.phase}'=Running [--timeout=30s]
kubectl top node|pod                    (Metrics API not available: like kubeadm, the cluster has no metrics-server)
sim advance <duration>                  run the cluster for a while (250ms, 30s, 5m)
sim until <type>/<name> '{<jsonpath>}'=<value> [timeout]
sim fault <target> crash|power-off|partition|kubelet-stop|delete-vm|loss=<rate>
                                        (targets: etcd/leader, kube-controller-manager/leader, etcd-control-plane-2,
                                         kube-apiserver-control-plane-1, kube-controller-manager-control-plane-1,
                                         cloud-controller-manager/leader, worker-2 (a node), vm/worker-2, network,
                                         kube-proxy@worker-1 (the process in the node's kube-proxy pod),
                                         konnectivity-agent@worker-1, konnectivity-server-control-plane-1)
sim heal <target>|all
sim status                              components, raft roles, faults
sim seed <N>                            start a new run with seed N
sim node manifests <node>               the node's /etc/kubernetes/manifests (static pod files)
sim node manifest add <node> [<file>] -f -   write a static pod file (the manifest follows, ended by ---end)
sim node manifest rm <node> <file>      remove a static pod file (the kubelet stops the pod, its mirror goes)
sim node add [<name>] [--zone Z] [--type T]   create a worker VM; its kubelet registers the node
sim node remove <name>                  delete the node's VM (the cloud-controller-manager deletes the Node)
sim cloud [vms|routes|lbs|operations|logs]    the cloud provider: VMs, routes, load balancers, what it did, CCM logs
sim cloud autorepair on|off [--after 10m]     replace a VM whose node stays NotReady
sim cloud autoscaler on|off [--min N] [--max N]   add nodes for unschedulable pods, remove empty ones
sim cloud delete-vm <name>              delete a worker's VM (also: sim fault vm/<name> delete)
sim node proxy-rules <node>             the node's kube-proxy rules (iptables-save of the KUBE chains; they stay,
                                        stale, while no kube-proxy pod runs there)
curl [-s] [-f] [-k] <url>               curl on your machine, outside the cluster: a LoadBalancer's
                                        EXTERNAL-IP, or a node's address (NodePort, health check port)
CMD | grep [-i -v -c -n -o -w -x -E -F] PATTERN | head|tail [-n N] | wc [-l] | sort [-n -r -u -k N -t SEP] | uniq [-c]
    | cut -d SEP -f LIST | tr -s ' ' | awk '[NR>1] {print $1, $3}' | column -t | less
                                        pipes: CMD's output through text filters (stderr is not piped; after
                                        get -w, logs -f or attach only line-by-line filters: grep, awk, cut, tr)
In the page's console, Tab completes commands, flags, types, names, namespaces and fault targets
(Escape then Tab, or Tab on an empty prompt, moves on).";
