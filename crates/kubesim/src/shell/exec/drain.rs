//! `kubectl cordon`, `kubectl uncordon` and `kubectl drain`, as kubectl
//! does them client-side (`staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go`
//! `RunCordonOrUncordon`, `RunDrain`, `deleteOrEvictPodsSimple`;
//! `staging/src/k8s.io/kubectl/pkg/drain`: `cordon.go` `CordonHelper`,
//! `drain.go` `GetPodsForDeletion`, `evictPods`, `waitForDelete`,
//! `filters.go` `daemonSetFilter`, `mirrorPodFilter`, `localStorageFilter`,
//! `unreplicatedFilter`).
//!
//! Cordoning sets the Node's `spec.unschedulable`, which the scheduler's
//! NodeUnschedulable plugin honours. Draining cordons the node, lists the
//! pods bound to it, and sorts them: mirror pods are skipped (the kubelet
//! owns them), DaemonSet pods need `--ignore-daemonsets` (their controller
//! would put them back at once), pods with an `emptyDir` need
//! `--delete-emptydir-data` (the data goes with the pod), pods no
//! controller manages need `--force` (nothing recreates them); finished
//! pods always go. Every other pod is evicted through the `pods/eviction`
//! subresource, which checks PodDisruptionBudgets: an eviction refused with
//! 429 is retried every 5 s, as kubectl does. kubectl then waits, polling
//! every second, until each evicted pod is gone, and prints
//! `node/<name> drained`. The command advances virtual time while it
//! waits; `--timeout` bounds it (kubectl's default, 0, waits forever; here
//! a script's drain gives up after an hour of virtual time).
//!
//! Left out: `--disable-eviction` (deleting instead of evicting),
//! `--pod-selector`, `--skip-wait-for-delete-timeout`, `--chunk-size` and
//! server-side dry runs (a client dry run prints what would be done).

use super::{err, Result, Session};
use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use crate::apiserver::{ApiResponse, Verb};
use crate::cluster::Cluster;
use crate::shell::command::Kubectl;
use crate::world::{SimDuration, SimTime};
use std::collections::BTreeMap;
use std::rc::Rc;

/// How long kubectl waits before retrying an eviction refused with 429.
pub const EVICTION_RETRY: SimDuration = SimDuration::from_secs(5);
/// How often kubectl polls for an evicted pod's deletion (`waitForDelete`).
const POLL: SimDuration = SimDuration::from_secs(1);
/// The longest a drain without `--timeout` waits in the simulation.
const DEFAULT_TIMEOUT: SimDuration = SimDuration::from_secs(3600);

const DAEMON_SET_FATAL: &str = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)";
const DAEMON_SET_WARNING: &str = "ignoring DaemonSet-managed Pods";
const LOCAL_STORAGE_FATAL: &str =
    "Pods with local storage (use --delete-emptydir-data to override)";
const LOCAL_STORAGE_WARNING: &str = "deleting Pods with local storage";
const UNMANAGED_FATAL: &str = "Pods declare no controller (use --force to override)";
const UNMANAGED_WARNING: &str = "deleting Pods that declare no controller";
/// The annotation of a mirror pod (`kubetypes.ConfigMirrorAnnotationKey`).
const MIRROR: &str = "kubernetes.io/config.mirror";

/// What the filters decided for one pod (`PodDeleteStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Okay,
    Skip,
    Warning(&'static str),
    Error(String),
}

/// One pod being evicted.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Progress {
    /// Evict at this time.
    Evict(SimTime),
    /// Evicted: wait until the pod with this uid is gone.
    Wait(String),
    Done,
}

fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

/// kubectl's `--timeout` (`0s` means forever).
fn parse_timeout(k: &Kubectl) -> Result<Option<SimDuration>> {
    match k.flags.get("timeout") {
        None => Ok(None),
        Some(t) => {
            let d = SimDuration::parse(t).map_err(|_| {
                format!("error: invalid argument {t:?} for \"--timeout\" flag: time: invalid duration {t:?}")
            })?;
            Ok((d > SimDuration::ZERO).then_some(d))
        }
    }
}

impl Session {
    /// The nodes named on the line (`NODE ...`, `node/NODE`), or selected by `-l`.
    fn drain_nodes(&self, cluster: &mut Cluster, k: &Kubectl) -> Result<Vec<Rc<Object>>> {
        let mut names: Vec<String> = Vec::new();
        for a in &k.args {
            let name = match a.split_once('/') {
                Some((kind, n)) => {
                    if !matches!(kind, "node" | "nodes" | "no") {
                        return Err(format!(
                            "error: Node {a:?} is not valid: only nodes can be {}",
                            if k.verb == "drain" {
                                "drained"
                            } else {
                                "cordoned"
                            }
                        ));
                    }
                    n.to_string()
                }
                None => a.clone(),
            };
            names.push(name);
        }
        if let Some(sel) = k.flags.get("selector") {
            if !names.is_empty() {
                return Err(
                    "error: cannot specify both a node name and a --selector option".into(),
                );
            }
            let mut r = self.request(k, Verb::List, KindId::Node);
            r.options.label_selector = Some(sel.to_string());
            return match cluster.call(r) {
                ApiResponse::List { items, .. } if items.is_empty() => {
                    Err("No resources found".into())
                }
                ApiResponse::List { items, .. } => Ok(items),
                ApiResponse::Error(e) => Err(err(&e)),
                other => Err(other.summary()),
            };
        }
        if names.is_empty() {
            return Err(format!(
                "error: USAGE: {} NODE [flags]\nSee 'kubectl {} -h' for help and examples",
                k.verb, k.verb
            ));
        }
        let mut nodes = Vec::new();
        for n in names {
            match cluster.call(self.request(k, Verb::Get, KindId::Node).named(n)) {
                ApiResponse::Object(o) => nodes.push(o),
                ApiResponse::Error(e) => return Err(err(&e)),
                other => return Err(other.summary()),
            }
        }
        Ok(nodes)
    }

    /// `CordonHelper.PatchOrReplace`: sets `spec.unschedulable`; the line
    /// kubectl prints.
    fn set_unschedulable(
        &self,
        cluster: &mut Cluster,
        k: &Kubectl,
        node: &Object,
        desired: bool,
    ) -> Result<String> {
        let name = node.name().to_string();
        let word = if desired { "cordoned" } else { "uncordoned" };
        let Object::Node(n) = node else {
            return Err(format!("error: {name} is not a node"));
        };
        let current = n
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        if current == desired {
            return Ok(format!("node/{name} already {word}"));
        }
        if k.flags.get("dry-run").is_some_and(|d| d != "none") {
            return Ok(format!("node/{name} {word} (dry run)"));
        }
        let mut next = n.clone();
        next.spec.get_or_insert_with(Default::default).unschedulable = desired.then_some(true);
        let put = self
            .request(k, Verb::Update, KindId::Node)
            .named(name.clone())
            .with_body(Object::Node(next));
        match cluster.call(put) {
            ApiResponse::Object(_) => Ok(format!("node/{name} {word}")),
            ApiResponse::Error(e) => Err(err(&e)),
            other => Err(other.summary()),
        }
    }

    /// `kubectl cordon` / `kubectl uncordon`.
    pub(super) fn cordon(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let desired = k.verb == "cordon";
        let nodes = self.drain_nodes(cluster, k)?;
        let mut lines = Vec::new();
        for node in nodes {
            lines.push(self.set_unschedulable(cluster, k, &node, desired)?);
        }
        Ok(lines.join("\n"))
    }

    /// `GetPodsForDeletion`'s filters for one pod.
    fn drain_verdict(&self, cluster: &mut Cluster, k: &Kubectl, pod: &Object) -> Verdict {
        let Object::Pod(p) = pod else {
            return Verdict::Skip;
        };
        let force = k.flags.has("force");
        let controller = pod.controller_ref();
        // `daemonSetFilter`.
        if let Some(owner) = controller.filter(|o| o.kind == "DaemonSet") {
            if !is_finished(p) {
                let get = self
                    .request(k, Verb::Get, KindId::DaemonSet)
                    .in_namespace(pod.namespace().unwrap_or("default"))
                    .named(owner.name.clone());
                match cluster.call(get) {
                    ApiResponse::Object(_) => {}
                    ApiResponse::Error(e) if e.reason == crate::api::Reason::NotFound && force => {
                        return Verdict::Warning("deleting orphaned DaemonSet-managed Pods")
                    }
                    ApiResponse::Error(e) => return Verdict::Error(e.message),
                    other => return Verdict::Error(other.summary()),
                }
                if !k.flags.has("ignore-daemonsets") {
                    return Verdict::Error(DAEMON_SET_FATAL.into());
                }
                return Verdict::Warning(DAEMON_SET_WARNING);
            }
        }
        // `mirrorPodFilter`.
        if pod.annotations().contains_key(MIRROR) {
            return Verdict::Skip;
        }
        if is_finished(p) {
            return Verdict::Okay;
        }
        let mut verdict = Verdict::Okay;
        // `localStorageFilter`.
        let empty_dir = p
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_ref())
            .is_some_and(|vs| vs.iter().any(|v| v.empty_dir.is_some()));
        if empty_dir {
            if !k.flags.has("delete-emptydir-data") {
                return Verdict::Error(LOCAL_STORAGE_FATAL.into());
            }
            verdict = Verdict::Warning(LOCAL_STORAGE_WARNING);
        }
        // `unreplicatedFilter`.
        if controller.is_none() {
            if !force {
                return Verdict::Error(UNMANAGED_FATAL.into());
            }
            verdict = Verdict::Warning(UNMANAGED_WARNING);
        }
        verdict
    }

    /// `kubectl drain NODE`.
    pub(super) fn drain(&mut self, cluster: &mut Cluster, k: &Kubectl) -> Result<String> {
        let timeout = parse_timeout(k)?;
        let grace: Option<i64> = match k.flags.get("grace-period") {
            None => None,
            Some(g) => {
                let v: i64 = g.parse().map_err(|_| {
                    format!("error: invalid argument {g:?} for \"--grace-period\" flag: strconv.ParseInt: parsing {g:?}: invalid syntax")
                })?;
                // `--grace-period=-1` (the default) uses the pod's own.
                (v >= 0).then_some(v)
            }
        };
        if k.flags.has("disable-eviction") {
            return Err(
                "error: --disable-eviction is not simulated: drain evicts through the eviction API"
                    .into(),
            );
        }
        let dry_run = k.flags.get("dry-run").is_some_and(|d| d != "none");
        let nodes = self.drain_nodes(cluster, k)?;
        let mut out: Vec<String> = Vec::new();
        for node in &nodes {
            out.push(self.set_unschedulable(cluster, k, node, true)?);
        }
        let mut fatal: Vec<String> = Vec::new();
        let mut remaining: Vec<String> = Vec::new();
        for node in &nodes {
            let name = node.name().to_string();
            match self.drain_node(cluster, k, &name, timeout, grace, dry_run, &mut out) {
                Ok(()) => out.push(format!(
                    "node/{name} {}",
                    if dry_run {
                        "drained (dry run)"
                    } else {
                        "drained"
                    }
                )),
                Err(e) => {
                    out.push(format!(
                        "error: unable to drain node {name:?} due to error:{e}, continuing command..."
                    ));
                    fatal.push(e);
                    remaining.push(name);
                }
            }
        }
        if !remaining.is_empty() {
            out.push("There are pending nodes to be drained:".into());
            for n in &remaining {
                out.push(format!(" {n}"));
            }
            // The aggregate of the nodes' errors, as kubectl prints it.
            out.push(match fatal.as_slice() {
                [one] => one.clone(),
                many => format!("[{}]", many.join(", ")),
            });
            return Err(out.join("\n"));
        }
        Ok(out.join("\n"))
    }

    /// `deleteOrEvictPodsSimple` for one node: the pods to evict, then the
    /// evictions, concurrently, each retried while a budget refuses it.
    #[allow(clippy::too_many_arguments)]
    fn drain_node(
        &mut self,
        cluster: &mut Cluster,
        k: &Kubectl,
        node: &str,
        timeout: Option<SimDuration>,
        grace: Option<i64>,
        dry_run: bool,
        out: &mut Vec<String>,
    ) -> std::result::Result<(), String> {
        let mut list = self.request(k, Verb::List, KindId::Pod);
        list.namespace = None;
        list.options.field_selector = Some(format!("spec.nodeName={node}"));
        let pods = match cluster.call(list) {
            ApiResponse::List { items, .. } => items,
            ApiResponse::Error(e) => return Err(e.message),
            other => return Err(other.summary()),
        };
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut warnings: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut to_evict: Vec<Rc<Object>> = Vec::new();
        for pod in pods {
            let who = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name());
            match self.drain_verdict(cluster, k, &pod) {
                Verdict::Skip => {}
                Verdict::Okay => to_evict.push(pod),
                Verdict::Warning(w) => {
                    warnings.entry(w).or_default().push(who);
                    if w != DAEMON_SET_WARNING {
                        to_evict.push(pod);
                    }
                }
                Verdict::Error(e) => errors.entry(e).or_default().push(who),
            }
        }
        if !errors.is_empty() {
            let msgs: Vec<String> = errors
                .iter()
                .map(|(m, pods)| format!("cannot delete {m}: {}", pods.join(", ")))
                .collect();
            return Err(match msgs.as_slice() {
                [one] => one.clone(),
                many => format!("[{}]", many.join(", ")),
            });
        }
        if !warnings.is_empty() {
            let msgs: Vec<String> = warnings
                .iter()
                .map(|(m, pods)| format!("{m}: {}", pods.join(", ")))
                .collect();
            out.push(format!("Warning: {}", msgs.join("; ")));
        }
        if dry_run {
            for pod in &to_evict {
                out.push(format!(
                    "evicting pod {}/{} (dry run)",
                    pod.namespace().unwrap_or_default(),
                    pod.name()
                ));
            }
            return Ok(());
        }
        // `evictPods`: one goroutine per pod in kubectl; here one loop over
        // virtual time, acting for each pod when its time comes.
        let start = cluster.now();
        let deadline = start + timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut progress: Vec<(Rc<Object>, Progress)> = to_evict
            .into_iter()
            .map(|p| (p, Progress::Evict(start)))
            .collect();
        loop {
            for (pod, state) in progress.iter_mut() {
                let ns = pod.namespace().unwrap_or("default").to_string();
                let name = pod.name().to_string();
                match state.clone() {
                    Progress::Evict(at) if at <= cluster.now() => {
                        out.push(format!("evicting pod {ns}/{name}"));
                        let mut r = self
                            .request(k, Verb::Create, KindId::Pod)
                            .in_namespace(&ns)
                            .named(&name)
                            .with_subresource("eviction");
                        r.options.grace_period_seconds = grace;
                        match cluster.call(r) {
                            ApiResponse::Error(e) if e.reason == crate::api::Reason::NotFound => {
                                *state = Progress::Done;
                            }
                            ApiResponse::Error(e)
                                if e.reason == crate::api::Reason::TooManyRequests =>
                            {
                                out.push(format!(
                                    "error when evicting pods/{name:?} -n {ns:?} (will retry after 5s): {}",
                                    e.message
                                ));
                                *state = Progress::Evict(cluster.now() + EVICTION_RETRY);
                            }
                            ApiResponse::Error(e) => {
                                return Err(format!(
                                    "error when evicting pods/{name:?} -n {ns:?}: {}",
                                    e.message
                                ));
                            }
                            _ => {
                                *state = Progress::Wait(pod.uid().unwrap_or_default().to_string());
                            }
                        }
                    }
                    Progress::Wait(uid) => {
                        // `waitForDelete`: gone, or replaced by a pod of the
                        // same name with another uid.
                        let get = self
                            .request(k, Verb::Get, KindId::Pod)
                            .in_namespace(&ns)
                            .named(&name);
                        let gone = match cluster.call(get) {
                            ApiResponse::Object(o) => o.uid() != Some(uid.as_str()),
                            ApiResponse::Error(e) => e.reason == crate::api::Reason::NotFound,
                            _ => false,
                        };
                        if gone {
                            out.push(format!("pod/{name} evicted"));
                            *state = Progress::Done;
                        }
                    }
                    _ => {}
                }
            }
            if progress.iter().all(|(_, s)| *s == Progress::Done) {
                return Ok(());
            }
            if cluster.now() >= deadline {
                // Every pod not done reports the global timeout; kubectl
                // aggregates them.
                let waited = timeout.unwrap_or(DEFAULT_TIMEOUT);
                let errors: Vec<String> = progress
                    .iter()
                    .filter(|(_, s)| *s != Progress::Done)
                    .map(|(pod, state)| {
                        let ns = pod.namespace().unwrap_or("default");
                        match state {
                            Progress::Wait(_) => format!(
                                "error when waiting for pod {:?} in namespace {ns:?} to terminate: global timeout reached: {waited}",
                                pod.name()
                            ),
                            _ => format!(
                                "error when evicting pods/{:?} -n {ns:?}: global timeout reached: {waited}",
                                pod.name()
                            ),
                        }
                    })
                    .collect();
                return Err(match errors.as_slice() {
                    [one] => one.clone(),
                    many => format!("[{}]", many.join(", ")),
                });
            }
            let next = (cluster.now() + POLL).min(deadline);
            cluster.advance_to(next);
        }
    }
}
