//! Guided scenarios: lessons in the command language, with narration and
//! checks (issue 7).
//!
//! A scenario is a YAML file:
//!
//! ```yaml
//! title: The life of a pod
//! summary: One pod, from kubectl to a running process.
//! topology: {controlPlane: 3, workers: 3}   # optional; these are the defaults
//! seed: 1                                   # optional; 1 by default
//! steps:
//!   - title: Apply a pod                    # optional
//!     narration: |                          # short markdown
//!       `kubectl apply` sends the pod to the API server...
//!     highlight: [kube-apiserver, etcd]     # optional: components to light up
//!     commands: |                           # optional: lines of the command language
//!       kubectl apply -f -
//!       ...
//!       ---end
//!     check:                                # optional
//!       until: pod/nginx '{.status.phase}'=Running   # a `sim until` condition
//!       timeout: 1m                                   # optional, 5m by default
//!       task: Scale the deployment to 5.              # optional: a task for the learner
//!       solution: kubectl scale deploy/web --replicas=5   # required with a task
//!     expectError: true                     # optional: a command of this step must fail
//! ```
//!
//! The file is validated when it is loaded: unknown fields are rejected, and
//! commands, conditions, durations and highlighted component names are
//! checked, each error naming the file, the line and the field
//! (`scenarios/pod-life.yaml:12: steps[3].check: unknown field "untill"`).
//!
//! A [`Player`] plays a scenario against a fresh cluster booted from its
//! topology and seed: a step runs its commands, then (for a task) the
//! learner's commands or the solution, then waits for its check like
//! `sim until` does. The same seed and steps give the same run, so going back
//! a step is a replay from the start.

use crate::cluster::Cluster;
use crate::shell::command::DEFAULT_UNTIL_TIMEOUT;
use crate::shell::lex::split_words;
use crate::shell::{parse_line, parse_script, Command, Outcome, Session, Sim};
use crate::snapshot::{ComponentKind, Snapshot};
use crate::topology::Topology;
use crate::world::SimDuration;
use serde::{Deserialize, Deserializer};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

/// Deserializes a string and validates it inside the deserializer, so an
/// error carries the value's own path and line (an error raised after the
/// value was read would be reported at the enclosing mapping).
fn validated<'de, D, T, F>(d: D, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct V<F>(F);
    impl<'de, T, F: FnOnce(&str) -> Result<T, String>> serde::de::Visitor<'de> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            (self.0)(v).map_err(E::custom)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            (self.0)(&v.to_string()).map_err(E::custom)
        }
    }
    d.deserialize_str(V(check))
}

/// The seed of a scenario that does not name one.
pub const DEFAULT_SEED: u64 = 1;

/// How long the control plane may take to boot before a scenario starts.
pub const BOOT_LIMIT: SimDuration = SimDuration::from_secs(60);

/// A scenario that failed to load, or whose cluster did not boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file, as the caller named it.
    pub file: String,
    /// The 1-based line the error is at, when known.
    pub line: Option<usize>,
    /// What is wrong, starting with the field's path (`steps[3].check: ...`).
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The cluster a scenario runs on.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopologySpec {
    /// Control-plane nodes, each with a stacked etcd member: 1, 3 or 5.
    #[serde(default = "three")]
    pub control_plane: usize,
    /// Worker nodes `worker-1..N`.
    #[serde(default = "three")]
    pub workers: usize,
}

fn three() -> usize {
    3
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

impl Default for TopologySpec {
    fn default() -> Self {
        TopologySpec {
            control_plane: 3,
            workers: 3,
        }
    }
}

impl TopologySpec {
    pub fn build(&self) -> Result<Topology, crate::topology::TopologyError> {
        Topology::builder()
            .control_plane(self.control_plane)
            .workers(self.workers)
            .build()
    }
}

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    pub title: NonEmpty,
    pub summary: NonEmpty,
    #[serde(default)]
    pub topology: TopologySpec,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub steps: Steps,
}

/// The steps of a scenario (at least one).
#[derive(Clone, Debug, PartialEq)]
pub struct Steps(pub Vec<Step>);

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let steps = Vec::<Step>::deserialize(d)?;
        if steps.is_empty() {
            return Err(serde::de::Error::custom(
                "a scenario needs at least one step",
            ));
        }
        Ok(Steps(steps))
    }
}

/// A string that must not be blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NonEmpty(pub String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated(d, |s| {
            if s.trim().is_empty() {
                Err("must not be empty".to_string())
            } else {
                Ok(NonEmpty(s.to_string()))
            }
        })
    }
}

impl std::ops::Deref for NonEmpty {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// One step of a scenario.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step {
    /// A short heading.
    #[serde(default)]
    pub title: Option<String>,
    /// What the step teaches, in short markdown.
    pub narration: NonEmpty,
    /// Lines of the command language, run when the step begins.
    #[serde(default)]
    pub commands: Option<Script>,
    /// Components to light up on the diagram.
    #[serde(default)]
    pub highlight: Vec<Highlight>,
    /// What must hold before the scenario goes on.
    #[serde(default)]
    pub check: Option<Check>,
    /// At least one of the step's commands must fail (a write without a
    /// quorum, a forbidden request): the failure is the lesson.
    #[serde(default)]
    pub expect_error: bool,
}

/// Lines of the command language, checked to parse when loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script(pub String);

impl<'de> Deserialize<'de> for Script {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated(d, |text| {
            check_script(text).map(|()| Script(text.to_string()))
        })
    }
}

fn check_script(text: &str) -> Result<(), String> {
    for line in parse_script(text) {
        match line.command.as_ref().map(Command::first) {
            Err(e) => {
                return Err(format!(
                    "line {} of the commands ({:?}): {e}",
                    line.line,
                    line.text.trim()
                ))
            }
            Ok(Command::Sim(Sim::Seed(_))) => {
                return Err(format!(
                    "line {} of the commands: `sim seed` would start another run; set the scenario's `seed` instead",
                    line.line
                ))
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

/// A `sim until` condition: `<kind>/<name> '{<jsonpath>}'=<value>`
/// (or `!=`), optionally with `-n <namespace>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The condition as written.
    pub text: String,
    /// The parsed `sim until`, with the default timeout.
    pub until: Sim,
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated(d, Condition::parse)
    }
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let words = split_words(text).map_err(|e| e.to_string())?;
        if words.len() > 4 || (words.len() == 3 && !words.iter().any(|w| w == "-n")) {
            return Err(format!(
                "{text:?}: write the condition alone (`<kind>/<name> '{{<jsonpath>}}'=<value>`) and the wait in `timeout`"
            ));
        }
        match parse_line(&format!("sim until {text}")) {
            Ok(Some(Command::Sim(until @ Sim::Until { .. }))) => Ok(Condition {
                text: text.to_string(),
                until,
            }),
            Ok(_) => Err(format!("{text:?} is not a condition")),
            Err(e) => Err(e.to_string().trim_start_matches("error: ").to_string()),
        }
    }

    /// Whether the condition holds in `cluster` right now, and the value it
    /// compares (names without `-n` are looked up in `default`). Reads what
    /// the API servers hold: no request, no clock movement, so the page can
    /// ask on every frame without changing the run.
    pub fn holds(&self, cluster: &Cluster) -> Result<(bool, String), String> {
        match &self.until {
            Sim::Until {
                target,
                namespace,
                jsonpath,
                comparison,
                value,
                ..
            } => crate::shell::exec::condition_now(
                cluster,
                target,
                namespace.as_deref().unwrap_or("default"),
                jsonpath,
                *comparison,
                value,
            ),
            _ => Err(format!("{:?} is not a condition", self.text)),
        }
    }

    /// The `sim until` command that waits at most `timeout` for it.
    pub fn with_timeout(&self, timeout: SimDuration) -> Sim {
        match &self.until {
            Sim::Until {
                target,
                namespace,
                jsonpath,
                comparison,
                value,
                ..
            } => Sim::Until {
                target: target.clone(),
                namespace: namespace.clone(),
                jsonpath: jsonpath.clone(),
                comparison: *comparison,
                value: value.clone(),
                timeout,
            },
            other => other.clone(),
        }
    }
}

/// A duration as the command language writes it (`30s`, `2m`, `500ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration(pub SimDuration);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated(d, |t| {
            SimDuration::parse(t)
                .map(Duration)
                .map_err(|e| format!("{e} (write 30s, 2m, 500ms)"))
        })
    }
}

/// What must hold before a scenario goes on.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase", try_from = "RawCheck")]
pub struct Check {
    /// The condition, as `sim until` takes it.
    pub until: Condition,
    /// How long the cluster may run for it to hold.
    pub timeout: SimDuration,
    /// A task for the learner ("Scale the deployment web to 5 replicas"):
    /// the page waits for the learner to act, then verifies the condition
    /// against the cluster.
    pub task: Option<String>,
    /// A hint the page can reveal.
    pub hint: Option<String>,
    /// What a learner would type; the native runner and the tests play it.
    pub solution: Option<Script>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCheck {
    until: Condition,
    #[serde(default)]
    timeout: Option<Duration>,
    #[serde(default)]
    task: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    solution: Option<Script>,
}

impl TryFrom<RawCheck> for Check {
    type Error = String;
    fn try_from(r: RawCheck) -> Result<Check, String> {
        if r.task.is_some() && r.solution.is_none() {
            return Err("check: a `task` needs a `solution`: the commands a learner would type (the tests play them)".into());
        }
        if r.task.is_none() && (r.solution.is_some() || r.hint.is_some()) {
            return Err("check: `solution` and `hint` belong to a learner `task`".into());
        }
        Ok(Check {
            until: r.until,
            timeout: r.timeout.map(|d| d.0).unwrap_or(DEFAULT_UNTIL_TIMEOUT),
            task: r.task,
            hint: r.hint,
            solution: r.solution,
        })
    }
}

/// The names a highlight may use (a component kind as the diagram labels it
/// in kebab case).
pub const HIGHLIGHT_KINDS: [(&str, ComponentKind); 11] = [
    ("api-load-balancer", ComponentKind::ApiLoadBalancer),
    ("kube-apiserver", ComponentKind::KubeApiserver),
    ("etcd", ComponentKind::Etcd),
    ("kube-scheduler", ComponentKind::KubeScheduler),
    (
        "kube-controller-manager",
        ComponentKind::KubeControllerManager,
    ),
    (
        "cloud-controller-manager",
        ComponentKind::CloudControllerManager,
    ),
    ("coredns", ComponentKind::CoreDns),
    ("kubelet", ComponentKind::Kubelet),
    ("kube-proxy", ComponentKind::KubeProxy),
    ("containerd", ComponentKind::Containerd),
    ("runc", ComponentKind::Runc),
];

/// What a highlight names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Highlight {
    /// Every instance of a kind: `etcd`, `kubelet`.
    Kind(ComponentKind),
    /// The current leader of a kind: `kube-scheduler/leader`.
    Leader(ComponentKind),
    /// One instance, as the diagram names it: `etcd-control-plane-1`,
    /// `kubelet@worker-2`.
    Component(String),
    /// A whole node: `worker-2`.
    Node(String),
}

thread_local! {
    /// The component and node names of the topology being loaded, so a
    /// highlight can be checked where it is written (with its line).
    static KNOWN_NAMES: RefCell<Option<(BTreeSet<String>, BTreeSet<String>)>> = const { RefCell::new(None) };
}

impl<'de> Deserialize<'de> for Highlight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        validated(d, Highlight::parse)
    }
}

impl Highlight {
    fn parse(name: &str) -> Result<Highlight, String> {
        let kind = |n: &str| {
            HIGHLIGHT_KINDS
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, kind)| *kind)
        };
        if let Some(k) = kind(name) {
            return Ok(Highlight::Kind(k));
        }
        if let Some(k) = name.strip_suffix("/leader").and_then(kind) {
            if matches!(
                k,
                ComponentKind::Etcd
                    | ComponentKind::KubeScheduler
                    | ComponentKind::KubeControllerManager
            ) {
                return Ok(Highlight::Leader(k));
            }
        }
        let known = KNOWN_NAMES.with(|k| {
            k.borrow().as_ref().map(|(components, nodes)| {
                if components.contains(name) {
                    Some(Highlight::Component(name.to_string()))
                } else if nodes.contains(name) {
                    Some(Highlight::Node(name.to_string()))
                } else {
                    None
                }
            })
        });
        match known {
            Some(Some(h)) => Ok(h),
            // Loaded without a topology to check against.
            None => Ok(Highlight::Component(name.to_string())),
            Some(None) => Err(format!(
                "unknown component {name:?}: name a kind (etcd, kube-apiserver, kube-scheduler, kubelet, ...), a leader (kube-scheduler/leader), an instance as the diagram names it (etcd-control-plane-1, kubelet@worker-2) or a node (worker-2)"
            )),
        }
    }

    /// The ids of the components this highlight lights up in `snapshot`
    /// (for a node, every component on it).
    pub fn components(&self, snapshot: &Snapshot) -> Vec<String> {
        let all = snapshot
            .cluster_components
            .iter()
            .chain(snapshot.nodes.iter().flat_map(|n| n.components.iter()));
        match self {
            Highlight::Kind(k) => all.filter(|c| c.kind == *k).map(|c| c.id.clone()).collect(),
            Highlight::Leader(k) => all
                .filter(|c| c.kind == *k && c.state.to_ascii_lowercase().starts_with("leader"))
                .map(|c| c.id.clone())
                .collect(),
            Highlight::Component(id) => all.filter(|c| &c.id == id).map(|c| c.id.clone()).collect(),
            Highlight::Node(n) => snapshot
                .nodes
                .iter()
                .filter(|node| &node.name == n)
                .flat_map(|node| node.components.iter().map(|c| c.id.clone()))
                .collect(),
        }
    }
}

impl fmt::Display for Highlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind_name = |k: &ComponentKind| {
            HIGHLIGHT_KINDS
                .iter()
                .find(|(_, kind)| kind == k)
                .map(|(n, _)| *n)
                .unwrap_or("?")
        };
        match self {
            Highlight::Kind(k) => f.write_str(kind_name(k)),
            Highlight::Leader(k) => write!(f, "{}/leader", kind_name(k)),
            Highlight::Component(n) | Highlight::Node(n) => f.write_str(n),
        }
    }
}

/// Only the header, read first so the highlights can be checked against the
/// scenario's own topology.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    #[serde(default)]
    topology: Option<serde_yaml_ng::Value>,
}

/// Splits serde_yaml_ng's "path: message at line L column C" into the line
/// and the rest.
fn located(file: &str, e: serde_yaml_ng::Error) -> ScenarioError {
    let text = e.to_string();
    let message = match text.rsplit_once(" at line ") {
        Some((m, _)) => m.to_string(),
        None => text,
    };
    // serde's "unknown field `untill`, expected one of ..." quotes with
    // backticks; say it as the issue words it.
    let message = message.replacen("unknown field `", "unknown field \"", 1);
    let message = match message.split_once("unknown field \"") {
        Some((head, rest)) => match rest.split_once('`') {
            Some((field, tail)) => format!("{head}unknown field \"{field}\"{tail}"),
            None => message.clone(),
        },
        None => message,
    };
    ScenarioError {
        file: file.to_string(),
        line: e.location().map(|l| l.line()),
        message,
    }
}

impl Scenario {
    /// Parses and validates a scenario; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        // The topology first: it says which component names exist.
        let names = serde_yaml_ng::from_str::<Header>(text)
            .ok()
            .and_then(|h| match h.topology {
                None => Some(TopologySpec::default()),
                Some(v) => serde_yaml_ng::from_value::<TopologySpec>(v).ok(),
            })
            .and_then(|t| t.build().ok())
            .map(|t| known_names(&t));
        KNOWN_NAMES.with(|k| *k.borrow_mut() = names);
        let parsed = serde_yaml_ng::from_str::<Scenario>(text);
        KNOWN_NAMES.with(|k| *k.borrow_mut() = None);
        let scenario = parsed.map_err(|e| located(file, e))?;
        if let Err(e) = scenario.topology.build() {
            return Err(ScenarioError {
                file: file.to_string(),
                line: line_of(text, "topology:"),
                message: format!("topology: {e}"),
            });
        }
        Ok(scenario)
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps.0
    }
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
}

/// Every component id and node name a cluster of this topology draws.
fn known_names(topology: &Topology) -> (BTreeSet<String>, BTreeSet<String>) {
    let snapshot = Cluster::new(topology.clone(), DEFAULT_SEED).snapshot();
    let components = snapshot.components().map(|c| c.id.clone()).collect();
    let nodes = topology.nodes().map(|n| n.name.clone()).collect();
    (components, nodes)
}

/// How a check came out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOutcome {
    /// The condition as written.
    pub condition: String,
    pub passed: bool,
    /// What `sim until` printed.
    pub output: String,
}

/// What playing one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// 0-based.
    pub index: usize,
    /// The step's own commands.
    pub outcomes: Vec<Outcome>,
    /// The learner's (or the solution's) commands, for a task.
    pub task_outcomes: Vec<Outcome>,
    pub check: Option<CheckOutcome>,
    /// For a step with `expectError`: whether a command failed as expected.
    pub expected_error_seen: Option<bool>,
}

impl StepReport {
    /// Whether the step met its check and its expectations (no command
    /// failed unless the step expects one to).
    pub fn passed(&self) -> bool {
        self.check.as_ref().is_none_or(|c| c.passed)
            && self.expected_error_seen != Some(false)
            && self.unexpected_failures().is_empty()
    }

    /// Commands that failed when the step did not expect a failure.
    pub fn unexpected_failures(&self) -> Vec<&Outcome> {
        if self.expected_error_seen.is_some() {
            return Vec::new();
        }
        self.outcomes
            .iter()
            .chain(self.task_outcomes.iter())
            .filter(|o| !o.ok)
            .collect()
    }
}

/// A scenario being played against its cluster.
pub struct Player {
    scenario: Scenario,
    cluster: Cluster,
    session: Session,
    /// The next step to play.
    next: usize,
}

impl Player {
    /// Boots the scenario's cluster from its topology and seed.
    pub fn new(scenario: Scenario) -> Result<Player, String> {
        let topology = scenario.topology.build().map_err(|e| e.to_string())?;
        let mut cluster = Cluster::new(topology, scenario.seed);
        if !cluster.boot(BOOT_LIMIT) {
            return Err(format!(
                "the control plane did not become ready within {BOOT_LIMIT} of virtual time"
            ));
        }
        Ok(Player {
            scenario,
            cluster,
            session: Session::new(),
            next: 0,
        })
    }

    /// A player with the first `steps` steps already played (tasks solved
    /// with their solutions): going back a step replays from the start.
    pub fn replayed(scenario: Scenario, steps: usize) -> Result<Player, String> {
        let mut p = Player::new(scenario)?;
        while p.next < steps.min(p.scenario.steps().len()) {
            p.play_next(true);
        }
        Ok(p)
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn cluster_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }

    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The index of the next step to play.
    pub fn next_step(&self) -> usize {
        self.next
    }

    pub fn finished(&self) -> bool {
        self.next >= self.scenario.steps().len()
    }

    /// Runs the next step's commands and, unless it is a task, its check.
    /// A task's check waits for [`Player::verify`] (the page) or, with
    /// `solve`, runs the solution first (the native runner and the tests).
    pub fn play_next(&mut self, solve: bool) -> Option<StepReport> {
        let index = self.next;
        let step = self.scenario.steps().get(index)?.clone();
        self.next += 1;
        let outcomes = match &step.commands {
            Some(script) => self.session.run_script(&mut self.cluster, &script.0),
            None => Vec::new(),
        };
        let mut report = StepReport {
            index,
            expected_error_seen: step.expect_error.then(|| outcomes.iter().any(|o| !o.ok)),
            outcomes,
            task_outcomes: Vec::new(),
            check: None,
        };
        if let Some(check) = &step.check {
            match (&check.task, &check.solution) {
                (Some(_), Some(solution)) if solve => {
                    report.task_outcomes = self.session.run_script(&mut self.cluster, &solution.0);
                    report.check = Some(self.run_check(check));
                }
                (Some(_), _) => {}
                (None, _) => report.check = Some(self.run_check(check)),
            }
        }
        Some(report)
    }

    /// Verifies the check of the step last played (a learner's task), letting
    /// the cluster run up to the check's timeout for it to hold.
    pub fn verify(&mut self) -> Option<CheckOutcome> {
        let step = self.scenario.steps().get(self.next.checked_sub(1)?)?;
        let check = step.check.clone()?;
        Some(self.run_check(&check))
    }

    fn run_check(&mut self, check: &Check) -> CheckOutcome {
        let until = Command::Sim(check.until.with_timeout(check.timeout));
        let (output, passed) = match self.session.run(&mut self.cluster, &until) {
            Ok(out) => (out, true),
            Err(e) => (e, false),
        };
        CheckOutcome {
            condition: check.until.text.clone(),
            passed,
            output,
        }
    }
}

/// A step as the native runner prints it: heading, narration, highlights,
/// each command with its output, the task and its solution, the check's
/// verdict.
pub fn render_step(scenario: &Scenario, report: &StepReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let Some(step) = scenario.steps().get(report.index) else {
        return out;
    };
    let _ = write!(
        out,
        "\n## Step {}/{}",
        report.index + 1,
        scenario.steps().len()
    );
    if let Some(title) = &step.title {
        let _ = write!(out, ": {title}");
    }
    out.push_str("\n\n");
    out.push_str(step.narration.trim_end());
    out.push('\n');
    if !step.highlight.is_empty() {
        let names: Vec<String> = step.highlight.iter().map(|h| h.to_string()).collect();
        let _ = writeln!(out, "\n[highlight: {}]", names.join(", "));
    }
    let command = |out: &mut String, o: &Outcome| {
        let mut lines = o.input.lines();
        let _ = writeln!(out, "$ {}", lines.next().unwrap_or_default());
        if !o.output.is_empty() {
            let _ = writeln!(out, "{}", o.output);
        }
    };
    if !report.outcomes.is_empty() {
        out.push('\n');
    }
    for o in &report.outcomes {
        command(&mut out, o);
    }
    if let Some(check) = &step.check {
        if let Some(task) = &check.task {
            let _ = writeln!(out, "\nTask: {}", task.trim_end());
            if !report.task_outcomes.is_empty() {
                out.push_str("(playing the solution)\n");
            }
            for o in &report.task_outcomes {
                command(&mut out, o);
            }
        }
    }
    match report.expected_error_seen {
        Some(true) => out.push_str("\u{2713} a command failed, as this step expects\n"),
        Some(false) => out.push_str("\u{2717} this step expects a command to fail, and none did\n"),
        None => {
            for o in report.unexpected_failures() {
                let _ = writeln!(
                    out,
                    "\u{2717} unexpected error from `{}`",
                    o.input.lines().next().unwrap_or_default()
                );
            }
        }
    }
    if let Some(c) = &report.check {
        let _ = writeln!(
            out,
            "{} check {}: {}",
            if c.passed { "\u{2713}" } else { "\u{2717}" },
            if c.passed { "passed" } else { "FAILED" },
            c.output
        );
    }
    out
}

/// The scenario library's index (`static/scenarios/index.yaml`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub scenarios: Vec<IndexEntry>,
}

/// One scenario in the index.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    /// The file's name without `.yaml`, as `?scenario=<name>` takes it.
    pub name: String,
    pub title: String,
}

impl Index {
    pub fn from_yaml(file: &str, text: &str) -> Result<Index, ScenarioError> {
        serde_yaml_ng::from_str(text).map_err(|e| located(file, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "title: T\nsummary: S\nsteps:\n  - narration: hello\n";

    fn error(text: &str) -> ScenarioError {
        Scenario::from_yaml("s.yaml", text).expect_err("the scenario is rejected")
    }

    #[test]
    fn a_condition_is_checked_without_moving_the_clock() {
        let mut cluster = Cluster::new(Topology::default(), 1);
        assert!(cluster.boot(BOOT_LIMIT));
        let now = cluster.now();
        let active = Condition::parse("namespace/default '{.status.phase}'=Active").unwrap();
        assert_eq!(active.holds(&cluster), Ok((true, "Active".to_string())));
        let missing = Condition::parse("deployment/web '{.status.readyReplicas}'=3").unwrap();
        assert_eq!(missing.holds(&cluster), Ok((false, String::new())));
        assert_eq!(cluster.now(), now);
    }

    #[test]
    fn a_minimal_scenario_takes_the_default_topology_and_seed() {
        let s = Scenario::from_yaml("s.yaml", MINIMAL).unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.topology, TopologySpec::default());
        assert_eq!(s.steps().len(), 1);
    }

    #[test]
    fn an_unknown_field_is_named_with_its_path_and_line() {
        let text = "title: T\nsummary: S\nsteps:\n  - narration: a\n  - narration: b\n    check:\n      untill: pod/x '{.status.phase}'=Running\n";
        let e = error(text);
        assert_eq!(e.line, Some(7), "{e}");
        assert!(
            e.to_string()
                .starts_with("s.yaml:7: steps[1].check: unknown field \"untill\""),
            "{e}"
        );
    }

    #[test]
    fn a_bad_command_is_reported_at_its_field() {
        let text = "title: T\nsummary: S\nsteps:\n  - narration: a\n    commands: |\n      sim advance 5s\n      kubectl get pods --colour\n";
        let e = error(text);
        assert_eq!(e.line, Some(5), "{e}");
        assert!(
            e.message
                .starts_with("steps[0].commands: line 2 of the commands"),
            "{e}"
        );
        assert!(e.message.contains("unknown flag: --colour"), "{e}");
    }

    #[test]
    fn a_bad_condition_and_a_bad_timeout_are_rejected() {
        let e = error("title: T\nsummary: S\nsteps:\n  - narration: a\n    check:\n      until: pod/x phase=Running\n");
        assert!(
            e.message
                .starts_with("steps[0].check.until: usage: sim until"),
            "{e}"
        );
        assert_eq!(e.line, Some(6));
        let e = error("title: T\nsummary: S\nsteps:\n  - narration: a\n    check:\n      until: pod/x '{.status.phase}'=Running\n      timeout: soon\n");
        assert!(e.message.starts_with("steps[0].check.timeout:"), "{e}");
    }

    #[test]
    fn a_task_without_a_solution_is_rejected() {
        let e = error("title: T\nsummary: S\nsteps:\n  - narration: a\n    check:\n      until: deployment/web '{.status.readyReplicas}'=5\n      task: Scale web to 5.\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(
            e.message
                .starts_with("steps[0]: check: a `task` needs a `solution`"),
            "{e}"
        );
    }

    #[test]
    fn highlights_are_checked_against_the_scenarios_topology() {
        let ok = "title: T\nsummary: S\nsteps:\n  - narration: a\n    highlight: [etcd, kube-scheduler/leader, etcd-control-plane-1, kubelet@worker-2, worker-3]\n";
        let s = Scenario::from_yaml("s.yaml", ok).unwrap();
        assert_eq!(s.steps()[0].highlight.len(), 5);
        let e = error(&ok.replace("worker-3", "worker-4"));
        assert_eq!(e.line, Some(5));
        assert!(
            e.message
                .starts_with("steps[0].highlight[4]: unknown component \"worker-4\""),
            "{e}"
        );
        let one_worker = format!("topology: {{workers: 1}}\n{ok}");
        assert!(error(&one_worker).message.contains("\"kubelet@worker-2\""));
    }

    #[test]
    fn an_empty_scenario_and_an_impossible_topology_are_rejected() {
        assert!(error("title: T\nsummary: S\nsteps: []\n")
            .message
            .contains("at least one step"));
        let e = error(&format!("topology: {{controlPlane: 2}}\n{MINIMAL}"));
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("1, 3 or 5"), "{e}");
    }

    #[test]
    fn a_played_step_runs_its_commands_then_waits_for_its_check() {
        let text = "title: T\nsummary: S\nsteps:\n  - narration: a\n    commands: kubectl create namespace demo\n    check:\n      until: namespace/demo '{.status.phase}'=Active\n      timeout: 10s\n  - narration: b\n    commands: kubectl create namespace demo\n    expectError: true\n";
        let mut p = Player::new(Scenario::from_yaml("s.yaml", text).unwrap()).unwrap();
        let first = p.play_next(true).unwrap();
        assert!(first.outcomes[0].ok, "{:?}", first.outcomes);
        assert!(first.passed(), "{first:?}");
        let second = p.play_next(true).unwrap();
        assert_eq!(second.expected_error_seen, Some(true));
        assert!(second.passed());
        assert!(p.finished());
        assert!(p.play_next(true).is_none());
    }
}
