//! Tab completion for the command language, as kubectl's shell completion
//! offers it (`kubectl __complete`, cobra's `ValidArgsFunction`s in
//! staging/src/k8s.io/kubectl/pkg/cmd/util/completion.go: resource types,
//! then names of that type from the server, `type/name`, namespaces after
//! `-n`, the values of `-o`), plus the simulator's own words: the `sim`
//! subcommands, fault targets and kinds, node names and static pod files.
//! After a `|` it offers the names of the pipe's filters (`shell/pipe.rs`).
//!
//! [`complete`] looks at the word under the caret and what comes before it
//! on its line, and returns the candidates for that word and their longest
//! common prefix; [`Completion::apply`] puts that prefix in place, as a
//! terminal's first Tab does. The words come from the parser's own tables
//! ([`PROGRAMS`], the kubectl subcommands and their flags, [`SIM_COMMANDS`],
//! [`FAULT_KINDS`]) so a command added there is offered here too.
//!
//! Names are read as an observer outside the cluster (the freshest ready API
//! server's cache, as `sim until` reads them): completing sends no request
//! and does not move the clock. The simulation leaves out kubectl's
//! completion of contexts, clusters and users (one context here), of label
//! keys after `-l`, and of fields after `-o jsonpath=`.

use super::command::{kubectl_flags, kubectl_verbs, FAULT_KINDS, PROGRAMS, SIM_COMMANDS};
use super::pipe::FILTERS;
use crate::api::{Kind, KindId, KINDS};
use crate::cluster::Cluster;

/// What Tab can put in place of the word under the caret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// Where the word being completed starts (a byte offset in the text).
    pub start: usize,
    /// The word as typed, from `start` to the caret.
    pub word: String,
    /// Every word that fits, sorted.
    pub candidates: Vec<String>,
    /// The candidates' longest common prefix (the word itself when nothing
    /// fits).
    pub prefix: String,
}

impl Completion {
    /// The text after Tab, and the caret's new place: the word replaced by
    /// the common prefix, and a space after a single candidate that is a
    /// whole word (not `custom-columns=` or `deploy/`), as bash does.
    pub fn apply(&self, text: &str, caret: usize) -> (String, usize) {
        let caret = caret.min(text.len());
        if self.start > caret || !text.is_char_boundary(self.start) || !text.is_char_boundary(caret)
        {
            return (text.to_string(), caret);
        }
        let mut insert = self.prefix.clone();
        if self.candidates.len() == 1
            && !insert.ends_with('=')
            && !insert.ends_with('/')
            && !insert.ends_with('.')
            && !text[caret..].starts_with(char::is_whitespace)
        {
            insert.push(' ');
        }
        let mut out = String::with_capacity(text.len() + insert.len());
        out.push_str(&text[..self.start]);
        out.push_str(&insert);
        let new_caret = out.len();
        out.push_str(&text[caret..]);
        (out, new_caret)
    }

    /// Whether Tab adds anything to what was typed.
    pub fn extends(&self) -> bool {
        self.prefix.len() > self.word.len() || self.candidates.len() == 1
    }
}

/// The candidates for the word under `caret` in `text` (a byte offset; the
/// console may hold several lines, and only the caret's line counts).
/// `namespace` is the session's current one, used unless `-n` names another.
pub fn complete(cluster: &Cluster, namespace: &str, text: &str, caret: usize) -> Completion {
    let mut caret = caret.min(text.len());
    while !text.is_char_boundary(caret) {
        caret -= 1;
    }
    let line_start = text[..caret].rfind('\n').map_or(0, |i| i + 1);
    let (words, start, word, piped) = split_before(&text[line_start..caret]);
    let start = line_start + start;
    let none = || Completion {
        start,
        word: word.clone(),
        candidates: Vec::new(),
        prefix: word.clone(),
    };
    if inside_manifest(&text[..line_start]) || word.starts_with('#') {
        return none();
    }
    let ctx = Context {
        cluster,
        namespace,
        all_namespaces: false,
    };
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let candidates = match words.split_first() {
        // After `|`: the filters' names, then nothing for their arguments.
        None if piped => fixed(FILTERS),
        Some(_) if piped => Vec::new(),
        None => fixed(PROGRAMS),
        Some((&"kubectl" | &"k", rest)) => ctx.kubectl(rest, &word),
        Some((&"sim", rest)) => ctx.sim(rest, &word),
        Some(_) => Vec::new(),
    };
    let mut candidates: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.starts_with(word.as_str()))
        .collect();
    candidates.sort();
    candidates.dedup();
    if candidates.is_empty() {
        return none();
    }
    let prefix = common_prefix(&candidates);
    Completion {
        start,
        word,
        candidates,
        prefix,
    }
}

/// The words before the caret's word in its pipeline stage, where that
/// word starts, the word typed so far (quotes dropped, as the shell reads
/// them), and whether the stage follows a `|`.
fn split_before(line: &str) -> (Vec<String>, usize, String, bool) {
    let mut words = Vec::new();
    let mut piped = false;
    let mut word = String::new();
    let mut start = None;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            word.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, ' ' | '\t' | '\r') => {
                if start.take().is_some() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, '|') => {
                // A new stage: the words before it are another command's.
                start = None;
                word.clear();
                words.clear();
                piped = true;
            }
            (None, '\'' | '"') => {
                start.get_or_insert(i);
                quote = Some(c);
            }
            (None, '\\') => {
                start.get_or_insert(i);
                escaped = true;
            }
            (None, c) => {
                start.get_or_insert(i);
                word.push(c);
            }
        }
    }
    (words, start.unwrap_or(line.len()), word, piped)
}

/// Whether the lines before the caret's line opened a `-f -` manifest that
/// has not ended: its lines are YAML, not commands.
fn inside_manifest(before: &str) -> bool {
    let mut open = false;
    for line in before.lines() {
        let t = line.trim();
        if open {
            open = t != super::command::END_OF_MANIFEST;
        } else {
            let w: Vec<&str> = t.split_whitespace().collect();
            open = w
                .windows(2)
                .any(|p| matches!(p, ["-f" | "--filename", "-"]))
                || w.iter().any(|x| *x == "-f=-" || *x == "--filename=-");
        }
    }
    open
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}

fn fixed(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The `sim node` subcommands (`shell/command.rs` parse_sim_node and
/// `shell/cloud.rs` parse_node).
const SIM_NODE: &[&str] = &["add", "manifest", "manifests", "proxy-rules", "remove"];
/// The `sim cloud` subcommands (`shell/cloud.rs` parse).
const SIM_CLOUD: &[&str] = &[
    "vms",
    "routes",
    "lbs",
    "operations",
    "logs",
    "autorepair",
    "autoscaler",
    "delete-vm",
];
/// `kubectl rollout`'s subcommands.
const ROLLOUT: &[&str] = &["history", "pause", "restart", "resume", "status", "undo"];
/// What `kubectl create <what> NAME` makes without a manifest.
const CREATE: &[&str] = &["configmap", "deployment", "namespace", "token"];
/// The values `-o` takes (kubectl's printers the simulation has).
const OUTPUTS: &[&str] = &[
    "yaml",
    "json",
    "wide",
    "name",
    "custom-columns=",
    "jsonpath=",
    "jsonpath-as-json=",
];

struct Context<'a> {
    cluster: &'a Cluster,
    namespace: &'a str,
    all_namespaces: bool,
}

/// A kubectl line read up to the word being completed.
#[derive(Default)]
struct KubectlLine<'a> {
    verb: Option<&'a str>,
    args: Vec<&'a str>,
    namespace: Option<&'a str>,
    all_namespaces: bool,
    /// The word being completed is the value of this flag (`-n <Tab>`).
    value_of: Option<&'static str>,
    /// The words after `--` (a command for `kubectl exec`): nothing to offer.
    after_dashes: bool,
}

/// Walks kubectl's words as `parse_kubectl` does, without failing on what
/// is not finished yet.
fn read_kubectl<'a>(words: &[&'a str]) -> KubectlLine<'a> {
    let mut line = KubectlLine::default();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if w == "--" {
            line.after_dashes = true;
            break;
        }
        let specs = kubectl_flags(line.verb);
        let mut value_for = None;
        if let Some(body) = w.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            if let Some(&(long, _, takes)) = specs.iter().find(|s| s.0 == name) {
                if long == "all-namespaces" {
                    line.all_namespaces = true;
                }
                if takes {
                    value_for = Some((long, inline));
                }
            }
        } else if w.len() > 1 && w.starts_with('-') {
            for (pos, c) in w[1..].char_indices() {
                let Some(&(long, _, takes)) = specs.iter().find(|s| s.1 == Some(c)) else {
                    break;
                };
                if long == "all-namespaces" {
                    line.all_namespaces = true;
                }
                if takes {
                    let rest = &w[1 + pos + c.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    value_for = Some((long, (!rest.is_empty()).then_some(rest)));
                    break;
                }
            }
        } else if line.verb.is_none() {
            line.verb = Some(w);
            continue;
        } else {
            line.args.push(w);
            continue;
        }
        if let Some((long, inline)) = value_for {
            let value = match inline {
                Some(v) => Some(v),
                None => {
                    let v = words.get(i).copied();
                    if v.is_none() {
                        line.value_of = Some(long);
                    }
                    i += 1;
                    v
                }
            };
            if long == "namespace" {
                line.namespace = value.or(line.namespace);
            }
        }
    }
    line
}

impl Context<'_> {
    fn kubectl(&self, words: &[&str], word: &str) -> Vec<String> {
        let line = read_kubectl(words);
        if line.after_dashes {
            return Vec::new();
        }
        let ctx = Context {
            cluster: self.cluster,
            namespace: line.namespace.unwrap_or(self.namespace),
            all_namespaces: line.all_namespaces,
        };
        if let Some(long) = line.value_of {
            return ctx.flag_values(&line, long);
        }
        if let Some(body) = word.strip_prefix("--") {
            if let Some((name, _)) = body.split_once('=') {
                return ctx
                    .flag_values(&line, name)
                    .into_iter()
                    .map(|v| format!("--{name}={v}"))
                    .collect();
            }
        } else if let Some(short) = word.strip_prefix('-') {
            let mut chars = short.chars();
            if let (Some(c), Some('=')) = (chars.next(), chars.next()) {
                let flags = kubectl_flags(line.verb);
                let Some(&(long, _, _)) = flags.iter().find(|s| s.1 == Some(c)) else {
                    return Vec::new();
                };
                return ctx
                    .flag_values(&line, long)
                    .into_iter()
                    .map(|v| format!("-{c}={v}"))
                    .collect();
            }
        }
        if word.starts_with('-') {
            return kubectl_flags(line.verb)
                .into_iter()
                .flat_map(|(long, short, _)| {
                    std::iter::once(format!("--{long}")).chain(short.map(|c| format!("-{c}")))
                })
                .collect();
        }
        let Some(verb) = line.verb else {
            return kubectl_verbs().map(str::to_string).collect();
        };
        ctx.positional(verb, &line.args, word)
    }

    /// The values a flag takes.
    fn flag_values(&self, line: &KubectlLine, long: &str) -> Vec<String> {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        match (long, line.verb) {
            ("namespace", _) => self.names(kind(KindId::Namespace)),
            ("output", _) => list(OUTPUTS),
            // The simulation has no file system: `-f -` reads the lines
            // that follow.
            ("filename", _) => list(&["-"]),
            ("dry-run", _) => list(&["none", "server", "client"]),
            ("cascade", _) => list(&["background", "foreground", "orphan"]),
            ("restart", _) => list(&["Always", "OnFailure", "Never"]),
            ("image-pull-policy", _) => list(&["Always", "IfNotPresent", "Never"]),
            ("type", Some("expose")) => {
                list(&["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"])
            }
            ("type", Some("patch")) => list(&["json", "merge", "strategic"]),
            ("for", _) => list(&["condition=", "delete", "jsonpath="]),
            ("container", _) => self.containers(line.args.first().copied()),
            _ => Vec::new(),
        }
    }

    /// The containers of the pod a `logs`/`exec`/`attach` names.
    fn containers(&self, target: Option<&str>) -> Vec<String> {
        let Some(target) = target else {
            return Vec::new();
        };
        let name = match target.split_once('/') {
            Some((k, n)) if Kind::resolve(k).is_some_and(|k| k.id == KindId::Pod) => n,
            Some(_) => return Vec::new(),
            None => target,
        };
        let key = crate::apiserver::registry::key(KindId::Pod, Some(self.namespace), name);
        let Some(pod) = self.cluster.observe(&key) else {
            return Vec::new();
        };
        let spec = pod.to_value();
        ["initContainers", "containers"]
            .iter()
            .filter_map(|f| spec["spec"][f].as_array())
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    }

    /// The words after the verb.
    fn positional(&self, verb: &str, args: &[&str], word: &str) -> Vec<String> {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        match verb {
            "get" | "describe" | "delete" | "label" | "annotate" | "edit" | "patch" | "wait"
            | "scale" | "expose" => self.resources(args, word, None),
            "explain" if args.is_empty() => match word.split_once('.') {
                None => self.types(word, None),
                Some((resource, path)) => explain_fields(resource, path),
            },
            "rollout" => match args.split_first() {
                None => list(ROLLOUT),
                Some((_, rest)) => self.resources(
                    rest,
                    word,
                    Some(&[KindId::Deployment, KindId::DaemonSet, KindId::StatefulSet]),
                ),
            },
            "set" => match args.split_first() {
                None => list(&["image"]),
                Some((_, rest)) => self.resources(rest, word, Some(&[KindId::Deployment])),
            },
            "create" => match args {
                [] => list(CREATE),
                ["token"] => self.names(kind(KindId::ServiceAccount)),
                _ => Vec::new(),
            },
            "logs" | "exec" | "attach" | "port-forward" => {
                if !args.is_empty() {
                    Vec::new()
                } else if word.contains('/') {
                    self.resources(args, word, None)
                } else {
                    self.names(kind(KindId::Pod))
                }
            }
            "top" => match args {
                [] => list(&["node", "pod"]),
                [t] => Kind::resolve(t)
                    .filter(|k| matches!(k.id, KindId::Node | KindId::Pod))
                    .map(|k| self.names(k))
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
            "cordon" | "uncordon" | "drain" => self.names(kind(KindId::Node)),
            "taint" => match args {
                [] if word.contains('/') => self.resources(args, word, Some(&[KindId::Node])),
                [] => list(&["nodes"]),
                [t] if Kind::resolve(t).is_some_and(|k| k.id == KindId::Node) => {
                    self.names(kind(KindId::Node))
                }
                _ => Vec::new(),
            },
            "certificate" => match args {
                [] => list(&["approve", "deny"]),
                _ => self.names(kind(KindId::CertificateSigningRequest)),
            },
            _ => Vec::new(),
        }
    }

    /// `TYPE [NAME...]` or `TYPE/NAME...`, as `kubectl get` takes them.
    fn resources(&self, args: &[&str], word: &str, only: Option<&[KindId]>) -> Vec<String> {
        let allowed = |k: &Kind| only.is_none_or(|o| o.contains(&k.id));
        if let Some((t, _)) = word.split_once('/') {
            return match Kind::resolve(t).filter(|k| allowed(k)) {
                Some(k) => self
                    .names(k)
                    .into_iter()
                    .map(|n| format!("{t}/{n}"))
                    .collect(),
                None => Vec::new(),
            };
        }
        match args.first() {
            None => self.types(word, only),
            Some(t) if t.contains('/') || t.contains(',') => Vec::new(),
            Some(t) => match Kind::resolve(t).filter(|k| allowed(k)) {
                Some(k) => self
                    .names(k)
                    .into_iter()
                    .filter(|n| !args[1..].contains(&n.as_str()))
                    .collect(),
                None => Vec::new(),
            },
        }
    }

    /// Resource types by their plural (`kubectl api-resources -o name`);
    /// a short or singular name already typed in full (`svc`, `deploy`)
    /// is offered as it stands; after a comma, the next type of a list.
    fn types(&self, word: &str, only: Option<&[KindId]>) -> Vec<String> {
        let (head, tail) = match word.rfind(',') {
            Some(i) => word.split_at(i + 1),
            None => ("", word),
        };
        let kinds = KINDS
            .iter()
            .filter(|k| only.is_none_or(|o| o.contains(&k.id)));
        let plurals: Vec<String> = kinds
            .filter(|k| k.plural.starts_with(tail))
            .map(|k| format!("{head}{}", k.plural))
            .collect();
        if plurals.is_empty() && Kind::resolve(tail).is_some() {
            return vec![word.to_string()];
        }
        plurals
    }

    /// The names of a kind's objects in the namespace (every namespace's
    /// with `-A`), as the API servers hold them.
    fn names(&self, kind: &Kind) -> Vec<String> {
        self.cluster
            .observe_all(kind.id)
            .iter()
            .filter(|o| {
                !kind.namespaced || self.all_namespaces || o.namespace() == Some(self.namespace)
            })
            .map(|o| o.name().to_string())
            .collect()
    }

    fn node_names(&self) -> Vec<String> {
        self.cluster
            .topology()
            .nodes()
            .map(|n| n.name.clone())
            .collect()
    }

    fn sim(&self, words: &[&str], word: &str) -> Vec<String> {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        match words {
            [] => list(SIM_COMMANDS),
            ["fault"] => self.cluster.fault_targets(),
            ["fault", target] => {
                if *target == "network" {
                    list(&["loss="])
                } else if self.node_names().iter().any(|n| n == target) {
                    FAULT_KINDS
                        .iter()
                        .filter(|k| !matches!(**k, "crash" | "loss="))
                        .map(|k| k.to_string())
                        .collect()
                } else {
                    list(&["crash"])
                }
            }
            ["heal"] => {
                let mut t = vec!["all".to_string()];
                t.extend(self.cluster.fault_targets());
                t
            }
            ["until", rest @ ..] => {
                let line = read_kubectl(&[&["get"], rest].concat());
                let ctx = Context {
                    cluster: self.cluster,
                    namespace: line.namespace.unwrap_or(self.namespace),
                    all_namespaces: false,
                };
                match line.value_of {
                    Some("namespace") => self.names(kind(KindId::Namespace)),
                    Some(_) => Vec::new(),
                    None if line.args.is_empty() && !word.starts_with('-') => {
                        // `sim until` takes `kind/name`: a type comes with
                        // its slash.
                        if word.contains('/') {
                            ctx.resources(&[], word, None)
                        } else {
                            ctx.types(word, None)
                                .into_iter()
                                .map(|t| format!("{t}/"))
                                .collect()
                        }
                    }
                    None => Vec::new(),
                }
            }
            ["node"] => list(SIM_NODE),
            ["node", "manifests" | "proxy-rules" | "remove" | "rm"] => self.node_names(),
            ["node", "manifest"] => list(&["add", "rm"]),
            ["node", "manifest", "add" | "rm" | "remove" | "delete"] => self.node_names(),
            ["node", "manifest", "rm" | "remove" | "delete", node] => self
                .cluster
                .node_manifests(node)
                .map(|(files, _)| files.into_iter().map(|(f, _)| f).collect())
                .unwrap_or_default(),
            ["cloud"] => list(SIM_CLOUD),
            ["cloud", "autorepair" | "auto-repair" | "autoscaler"] => list(&["on", "off"]),
            ["cloud", "delete-vm"] => self.node_names(),
            _ => Vec::new(),
        }
    }
}

fn kind(id: KindId) -> &'static Kind {
    id.info()
}

/// `kubectl explain pods.spec.co`: the fields of the schema at the path
/// typed so far; one with fields of its own ends in `.` (so Tab goes on).
fn explain_fields(resource: &str, path: &str) -> Vec<String> {
    let (Some(kind), Some(schema)) = (Kind::resolve(resource), crate::api::explain::schema())
    else {
        return Vec::new();
    };
    let (done, partial) = path.rsplit_once('.').unwrap_or(("", path));
    let walked: Vec<String> = done
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let head = if done.is_empty() {
        format!("{resource}.")
    } else {
        format!("{resource}.{done}.")
    };
    schema
        .fields(kind.group, kind.version, kind.kind, &walked)
        .into_iter()
        .filter(|(name, _)| name.starts_with(partial))
        .map(|(name, nested)| format!("{head}{name}{}", if nested { "." } else { "" }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{parse_line, ParseError, Session};
    use crate::topology::Topology;
    use crate::world::SimDuration;

    fn booted() -> Cluster {
        let mut c = Cluster::new(Topology::default(), 1);
        assert!(c.boot(SimDuration::from_secs(60)));
        c
    }

    fn with_nginx() -> Cluster {
        let mut c = booted();
        let out = Session::new().run_script(
            &mut c,
            "kubectl apply -f -\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx-deployment\n  labels:\n    app: nginx\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app: nginx\n  template:\n    metadata:\n      labels:\n        app: nginx\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.14.2\n        ports:\n        - containerPort: 80\n---end\nkubectl create namespace demo\nkubectl create deployment web -n demo --image=nginx\nsim advance 20s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        c
    }

    /// Completes `line` with the caret at its end, in `default`.
    fn tab(c: &Cluster, line: &str) -> Completion {
        complete(c, "default", line, line.len())
    }

    /// The line after one Tab.
    fn after_tab(c: &Cluster, line: &str) -> String {
        tab(c, line).apply(line, line.len()).0
    }

    #[test]
    fn the_first_word_is_a_program_of_the_language() {
        let c = booted();
        assert_eq!(after_tab(&c, "kub"), "kubectl ");
        assert_eq!(after_tab(&c, "si"), "sim ");
        let all = tab(&c, "").candidates;
        for p in PROGRAMS {
            assert!(all.contains(&p.to_string()), "{p}");
            // Each one is a program the parser knows.
            assert!(
                !matches!(parse_line(p), Err(ParseError::UnknownProgram(_))),
                "{p}"
            );
        }
    }

    #[test]
    fn after_a_pipe_the_filter_programs_are_offered() {
        let c = booted();
        assert_eq!(
            after_tab(&c, "kubectl get pods | gr"),
            "kubectl get pods | grep "
        );
        assert_eq!(
            after_tab(&c, "kubectl get pods|he"),
            "kubectl get pods|head "
        );
        let all = tab(&c, "kubectl get pods -A | ").candidates;
        assert_eq!(all, crate::shell::pipe::FILTERS);
        // Each one parses as a filter (with a pattern for grep's).
        for f in FILTERS {
            let words = [f.to_string(), "x".to_string()];
            let program = crate::shell::pipe::Filter::parse(&words[..1])
                .or_else(|_| crate::shell::pipe::Filter::parse(&words));
            assert!(
                !program.is_err_and(|e| e.contains("command not found")),
                "{f}"
            );
        }
        // A filter's arguments: nothing to offer.
        assert!(tab(&c, "kubectl get pods | grep ").candidates.is_empty());
        // A quoted `|` is not a pipe; before a pipe, kubectl completes.
        assert!(tab(&c, "kubectl get pods -o 'jsonpath={|}' | ")
            .candidates
            .contains(&"wc".to_string()));
        let line = "kubectl get po | wc -l";
        let before = line.find(" |").unwrap();
        assert_eq!(
            complete(&c, "default", line, before).candidates,
            tab(&c, "kubectl get po").candidates
        );
    }

    #[test]
    fn kubectl_verbs_come_from_the_parsers_table() {
        let c = booted();
        assert_eq!(after_tab(&c, "kubectl desc"), "kubectl describe ");
        let r = tab(&c, "kubectl ro");
        assert_eq!(r.candidates, ["rollout"]);
        let all = tab(&c, "kubectl ").candidates;
        assert!(all.contains(&"get".to_string()) && all.contains(&"port-forward".to_string()));
        for verb in &all {
            assert!(
                !matches!(
                    parse_line(&format!("kubectl {verb}")),
                    Err(ParseError::UnknownKubectlCommand(_))
                ),
                "{verb}"
            );
        }
        // `c` could be several: the common prefix only, and the list.
        let r = tab(&c, "kubectl c");
        assert!(r.candidates.len() > 1);
        assert_eq!(r.prefix, "c");
        assert!(!r.extends());
    }

    #[test]
    fn explain_completes_field_paths_from_the_schema() {
        let c = booted();
        assert_eq!(
            after_tab(&c, "kubectl explain pods.sp"),
            "kubectl explain pods.spec."
        );
        assert_eq!(
            after_tab(&c, "kubectl explain pods.spec.nodeN"),
            "kubectl explain pods.spec.nodeName "
        );
        assert!(tab(&c, "kubectl explain deploy.spec.")
            .candidates
            .contains(&"deploy.spec.strategy.".to_string()));
    }

    #[test]
    fn a_resource_type_completes_to_its_plural() {
        let c = booted();
        assert_eq!(after_tab(&c, "kubectl get dep"), "kubectl get deployments ");
        assert_eq!(after_tab(&c, "kubectl get svc"), "kubectl get svc ");
        assert_eq!(
            after_tab(&c, "kubectl get pods,confi"),
            "kubectl get pods,configmaps "
        );
        let r = tab(&c, "kubectl get po");
        assert!(r.candidates.contains(&"pods".to_string()), "{r:?}");
        assert!(r.candidates.iter().all(|t| t.starts_with("po")));
    }

    #[test]
    fn names_of_the_typed_kind_come_from_the_current_namespace() {
        let c = with_nginx();
        assert_eq!(
            after_tab(&c, "kubectl scale deploy/ng"),
            "kubectl scale deploy/nginx-deployment "
        );
        assert_eq!(
            after_tab(&c, "kubectl get deployments ng"),
            "kubectl get deployments nginx-deployment "
        );
        // `web` is in `demo`, not in `default`.
        assert!(tab(&c, "kubectl get deploy w").candidates.is_empty());
        assert_eq!(
            after_tab(&c, "kubectl get deploy -n demo w"),
            "kubectl get deploy -n demo web "
        );
        assert_eq!(
            after_tab(&c, "kubectl -n=demo describe deployment/w"),
            "kubectl -n=demo describe deployment/web "
        );
        assert_eq!(
            tab(&c, "kubectl get deploy -A ").candidates,
            ["coredns", "nginx-deployment", "web"]
        );
        // The session's namespace counts when no flag names one.
        assert_eq!(
            complete(&c, "demo", "kubectl get deploy ", 19).candidates,
            ["web"]
        );
    }

    #[test]
    fn namespaces_follow_dash_n() {
        let c = with_nginx();
        assert_eq!(
            after_tab(&c, "kubectl get pods -n kube-s"),
            "kubectl get pods -n kube-system "
        );
        assert_eq!(
            after_tab(&c, "kubectl get pods --namespace=de"),
            "kubectl get pods --namespace=de"
        );
        assert_eq!(
            tab(&c, "kubectl get pods --namespace=de").candidates,
            ["--namespace=default", "--namespace=demo"]
        );
        assert_eq!(
            after_tab(&c, "kubectl get pods -n dem"),
            "kubectl get pods -n demo "
        );
    }

    #[test]
    fn flags_of_the_verb_and_their_values_are_offered() {
        let c = booted();
        let r = tab(&c, "kubectl get pods --sh");
        assert_eq!(r.candidates, ["--show-labels"]);
        assert!(tab(&c, "kubectl get pods -")
            .candidates
            .contains(&"-o".to_string()));
        // `--replicas` is scale's, not get's.
        assert!(tab(&c, "kubectl get pods --rep").candidates.is_empty());
        assert_eq!(
            after_tab(&c, "kubectl scale --rep"),
            "kubectl scale --replicas "
        );
        assert_eq!(
            tab(&c, "kubectl get pods -o ").candidates,
            [
                "custom-columns=",
                "json",
                "jsonpath-as-json=",
                "jsonpath=",
                "name",
                "wide",
                "yaml"
            ]
        );
        assert_eq!(
            after_tab(&c, "kubectl get pods -o ya"),
            "kubectl get pods -o yaml "
        );
        // A value ending in `=` waits for the rest: no space.
        assert_eq!(
            after_tab(&c, "kubectl get pods -o cu"),
            "kubectl get pods -o custom-columns="
        );
        assert_eq!(
            after_tab(&c, "kubectl get pods --output=w"),
            "kubectl get pods --output=wide "
        );
        assert_eq!(after_tab(&c, "kubectl apply -f "), "kubectl apply -f - ");
    }

    #[test]
    fn the_container_flag_offers_the_pods_containers() {
        let mut c = booted();
        let out =
            Session::new().run_script(&mut c, "kubectl run web --image=nginx\nsim advance 5s");
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        assert_eq!(after_tab(&c, "kubectl logs w"), "kubectl logs web ");
        assert_eq!(
            after_tab(&c, "kubectl exec web -c "),
            "kubectl exec web -c web "
        );
        // After `--` comes the container's command: nothing to offer.
        assert!(tab(&c, "kubectl exec web -- s").candidates.is_empty());
    }

    #[test]
    fn sim_subcommands_and_fault_targets_are_offered() {
        let c = booted();
        assert_eq!(after_tab(&c, "sim fa"), "sim fault ");
        for sub in tab(&c, "sim ").candidates {
            let parsed = parse_line(&format!("sim {sub}"));
            assert!(
                !matches!(&parsed, Err(ParseError::Usage(m)) if m.starts_with("unknown sim command")),
                "{sub}: {parsed:?}"
            );
        }
        let targets = tab(&c, "sim fault ").candidates;
        for t in [
            "etcd/leader",
            "kube-scheduler/leader",
            "network",
            "worker-1",
            "etcd-control-plane-2",
            "kube-apiserver-control-plane-1",
        ] {
            assert!(targets.contains(&t.to_string()), "{t} in {targets:?}");
        }
        assert_eq!(
            after_tab(&c, "sim fault worker-2 po"),
            "sim fault worker-2 power-off "
        );
        assert_eq!(
            after_tab(&c, "sim fault etcd/leader "),
            "sim fault etcd/leader crash "
        );
        assert_eq!(
            after_tab(&c, "sim fault network "),
            "sim fault network loss="
        );
        assert!(tab(&c, "sim heal ").candidates.contains(&"all".to_string()));
        // Every target offered is one `sim fault` resolves.
        let mut c = c;
        for t in targets {
            let kind = if t == "network" { "loss=0.1" } else { "crash" };
            let r = c.fault(&t, parse_fault(kind));
            assert!(
                !matches!(r, Err(crate::cluster::FaultError::UnknownTarget(_))),
                "{t}: {r:?}"
            );
        }
    }

    fn parse_fault(kind: &str) -> crate::shell::FaultKind {
        match parse_line(&format!("sim fault x {kind}")) {
            Ok(Some(crate::shell::Command::Sim(crate::shell::Sim::Fault { kind, .. }))) => kind,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sim_node_and_cloud_take_node_names_and_manifest_files() {
        let c = booted();
        assert_eq!(
            after_tab(&c, "sim node manifests worker-"),
            "sim node manifests worker-"
        );
        assert_eq!(
            tab(&c, "sim node manifests worker-").candidates,
            ["worker-1", "worker-2", "worker-3"]
        );
        assert_eq!(
            after_tab(&c, "sim node manifest rm control-plane-1 etcd"),
            "sim node manifest rm control-plane-1 etcd.yaml "
        );
        assert_eq!(after_tab(&c, "sim cloud autor"), "sim cloud autorepair ");
        assert_eq!(tab(&c, "sim cloud autoscaler ").candidates, ["off", "on"]);
        assert_eq!(after_tab(&c, "sim until deploy"), "sim until deployments/");
    }

    #[test]
    fn only_the_word_before_the_caret_on_its_line_is_completed() {
        let c = booted();
        let text = "sim advance 5s\nkubectl get no -o wide";
        let caret = "sim advance 5s\nkubectl get no".len();
        let r = complete(&c, "default", text, caret);
        assert_eq!(r.word, "no");
        let (after, at) = r.apply(text, caret);
        assert_eq!(after, "sim advance 5s\nkubectl get nodes -o wide");
        assert_eq!(&after[..at], "sim advance 5s\nkubectl get nodes");
        // Lines of a manifest after `-f -` are YAML, not commands.
        let yaml = "kubectl apply -f -\nkind: Pod\nku";
        assert!(complete(&c, "default", yaml, yaml.len())
            .candidates
            .is_empty());
    }

    #[test]
    fn odd_input_completes_to_nothing_without_panicking() {
        let c = booted();
        for line in [
            "kubectl get pods 'unterminated",
            "kubectl -- get",
            "kubectl get pods -n",
            "kubectl get nosuchtype/x",
            "sim fault",
            "frobnicate ",
            "kubectl get pods -o=",
            "kubectl get é",
            "# comment",
        ] {
            let r = tab(&c, line);
            let _ = r.apply(line, line.len());
        }
        // A caret past the end or inside a character is clamped.
        let r = complete(&c, "default", "kubectl get é", 100);
        assert!(r.candidates.is_empty());
        let r = complete(&c, "default", "kubectl get é", 13);
        assert_eq!(r.start, 12);
    }
}
