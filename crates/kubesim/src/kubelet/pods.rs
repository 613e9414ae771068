//! The kubelet's pod workers: from a pod bound to the node to containers
//! running under containerd, and the pod's status back to the API.
//!
//! Ported in outline from `pkg/kubelet/kubelet.go` (`SyncPod`,
//! `SyncTerminatingPod`), `pkg/kubelet/kuberuntime/kuberuntime_manager.go`
//! (`computePodActions`, `SyncPod`: sandbox, image pull, init containers in
//! order, then the app containers), `pkg/kubelet/images` (pull policies,
//! `ErrImagePull` then `ImagePullBackOff`), `kuberuntime_container.go`
//! (restart back-off: 10 s doubling to 300 s, `CrashLoopBackOff`, reset after
//! 10 minutes of running), `pkg/kubelet/prober` (startup, liveness and
//! readiness probes with their periods and thresholds) and
//! `pkg/kubelet/status` (`generateAPIPodStatus`: phase, conditions,
//! container statuses).
//!
//! Left out: volumes other than projected ones (see [`super::projected`]), the pod
//! lifecycle event generator's relist (containerd's events arrive
//! directly), ephemeral containers, sidecar (restartable init) containers,
//! resize, the eviction manager, and pod admission beyond CPU, memory and
//! pod count.

use crate::api::pod::{Container, ContainerStatus, Pod, PodStatus};
use crate::api::quantity::Quantity as Q;
use crate::api::time::to_time;
use crate::runtime::{
    ContainerState as CriState, Containerd, EventKind, PodSandboxConfig, ProbeResult, TraceStep,
};
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    PodCondition, PodIP, Probe,
};
use std::collections::BTreeMap;

/// The first restart back-off, doubling to [`MAX_BACKOFF`]
/// (`kubecontainer.MaxContainerBackOff`).
pub const INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(10);
pub const MAX_BACKOFF: SimDuration = SimDuration::from_secs(300);
/// A container that ran this long without failing starts its back-off over.
pub const BACKOFF_RESET: SimDuration = SimDuration::from_secs(600);

/// Where one container is.
#[derive(Clone, Debug, PartialEq)]
enum Stage {
    /// Waiting for its turn (an init container before it has not finished).
    Waiting,
    /// The image is being pulled until the runtime says it is done.
    Pulling,
    /// The pull failed; retry at `until`.
    PullBackOff {
        until: SimTime,
        message: String,
    },
    /// Created and starting (`StartContainer` returned a start time).
    Starting {
        id: String,
    },
    Running {
        id: String,
        since: SimTime,
    },
    /// Exited; restarts at `restart_at` if the policy says so.
    Exited {
        id: String,
        code: i32,
        reason: String,
        started: Option<SimTime>,
        finished: SimTime,
        restart_at: Option<SimTime>,
    },
    /// Could not be created or started (`CreateContainerError`,
    /// `StartError`); retried with back-off.
    Failed {
        reason: String,
        message: String,
        restart_at: Option<SimTime>,
    },
}

#[derive(Clone, Debug)]
struct Worker {
    spec: Container,
    /// The spec has a probe (the spec never changes: kept beside the stage
    /// so that [`PodWorker::next_wakeup`] need not reach into the spec).
    probed: bool,
    init: bool,
    stage: Stage,
    restarts: i32,
    backoff: SimDuration,
    pull_backoff: SimDuration,
    /// When the kubelet asked the runtime for the image it is pulling.
    pull_started: SimTime,
    last_terminated: Option<ContainerStateTerminated>,
    ready: bool,
    started_probe_ok: bool,
    next_probe: SimTime,
    liveness_failures: i32,
    readiness_failures: i32,
    readiness_successes: i32,
}

impl Worker {
    fn new(spec: Container, init: bool) -> Self {
        let probed = spec.readiness_probe.is_some()
            || spec.liveness_probe.is_some()
            || spec.startup_probe.is_some();
        Worker {
            spec,
            probed,
            init,
            stage: Stage::Waiting,
            restarts: 0,
            backoff: SimDuration::ZERO,
            pull_backoff: SimDuration::ZERO,
            pull_started: SimTime::ZERO,
            last_terminated: None,
            ready: false,
            started_probe_ok: false,
            next_probe: SimTime::ZERO,
            liveness_failures: 0,
            readiness_failures: 0,
            readiness_successes: 0,
        }
    }

    fn id(&self) -> Option<&str> {
        match &self.stage {
            Stage::Starting { id } | Stage::Running { id, .. } | Stage::Exited { id, .. } => {
                Some(id)
            }
            _ => None,
        }
    }

    fn image(&self) -> String {
        self.spec.image.clone().unwrap_or_default()
    }

    /// An Event about this container: its reference names it by field path
    /// (`GenerateContainerRef` in `pkg/kubelet/container/ref.go`:
    /// `spec.containers{nginx}`, `spec.initContainers{init}`), which
    /// `kubectl get events -o wide` shows as the SUBOBJECT.
    fn event(&self, type_: &'static str, reason: &'static str, message: String) -> Effect {
        let list = if self.init {
            "initContainers"
        } else {
            "containers"
        };
        let path = format!("spec.{list}{{{}}}", self.spec.name);
        Effect::Event(type_, reason, message, Some(path))
    }

    /// The API's view of this container (`convertToAPIContainerStatuses`).
    fn status(&self, runtime: &Containerd) -> ContainerStatus {
        let image = self.image();
        let id = self.id().map(|i| format!("containerd://{i}"));
        // The image as the runtime reports it (the whole CRI status is not
        // copied for two of its fields).
        let cri = self.id().and_then(|i| runtime.container_image(i));
        let state = match &self.stage {
            Stage::Running { since, .. } => ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(to_time(*since)),
                }),
                ..Default::default()
            },
            Stage::Exited {
                code,
                reason,
                started,
                finished,
                restart_at: None,
                ..
            } => ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: *code,
                    reason: Some(reason.clone()),
                    started_at: started.map(to_time),
                    finished_at: Some(to_time(*finished)),
                    container_id: id.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Stage::Exited { .. } => waiting(
                "CrashLoopBackOff",
                Some(format!(
                    "back-off {} restarting failed container={} pod=",
                    self.backoff, self.spec.name
                )),
            ),
            Stage::Waiting | Stage::Starting { .. } => {
                if self.init || self.restarts == 0 {
                    waiting(
                        if self.init {
                            "PodInitializing"
                        } else {
                            "ContainerCreating"
                        },
                        None,
                    )
                } else {
                    waiting("ContainerCreating", None)
                }
            }
            Stage::Pulling => waiting("ContainerCreating", None),
            Stage::PullBackOff { message, until } => {
                let _ = until;
                if self.pull_backoff > INITIAL_BACKOFF {
                    waiting(
                        "ImagePullBackOff",
                        Some(format!("Back-off pulling image \"{image}\": {message}")),
                    )
                } else {
                    waiting("ErrImagePull", Some(message.clone()))
                }
            }
            Stage::Failed {
                reason, message, ..
            } => waiting(reason, Some(message.clone())),
        };
        ContainerStatus {
            name: self.spec.name.clone(),
            image: cri.as_ref().map(|c| c.0.clone()).unwrap_or(image),
            image_id: cri.map(|c| c.1).unwrap_or_default(),
            container_id: id,
            ready: self.ready,
            restart_count: self.restarts,
            started: Some(matches!(self.stage, Stage::Running { .. }) && self.started_probe_ok),
            state: Some(state),
            last_state: self.last_terminated.clone().map(|t| {
                Box::new(ContainerState {
                    terminated: Some(t),
                    ..Default::default()
                })
            }),
            ..Default::default()
        }
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.into()),
            message,
        }),
        ..Default::default()
    }
}

/// One pod on the node.
#[derive(Clone, Debug)]
pub struct PodWorker {
    pub key: String,
    pub uid: String,
    pod: Pod,
    sandbox: Option<String>,
    /// The pod IP the kubelet's network plugin assigned from the node's
    /// pod CIDR.
    pub ip: Option<String>,
    workers: Vec<Worker>,
    start_time: Option<SimTime>,
    /// Set once the pod is being deleted: containers stop by then.
    terminating: Option<SimTime>,
    /// All containers have stopped and the sandbox is gone.
    pub terminated: bool,
    /// The admission verdict (`canAdmitPod`): `Some(reason, message)` if
    /// rejected.
    rejected: Option<(String, String)>,
    /// The status last sent to the API.
    pub sent: Option<PodStatus>,
    /// The process a static pod stands for (a simulated control-plane
    /// component) is stopped by a fault: its probes fail.
    pub down: bool,
    conditions: BTreeMap<String, (String, SimTime)>,
    /// The `NetworkNotReady` event went out (once per pod here; upstream
    /// each failed sync records it and the recorder aggregates them).
    network_wait_reported: bool,
    /// The pod's volumes are mounted (`WaitForAttachAndMount`): the kubelet
    /// sets it once its projected volumes are written.
    pub volumes_ready: bool,
    /// [`super::config::is_static`] of the pod, kept as the pod is replaced: the
    /// kubelet asks it of every pod at every wake.
    is_static: bool,
}

/// What a pod worker asks the kubelet to do or tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A step of the CRI chain, for the trace.
    Step(TraceStep),
    /// An Event on the pod (`type`, `reason`, `message`, and the
    /// involved object's `fieldPath` when it is about one container).
    Event(&'static str, &'static str, String, Option<String>),
}

impl PodWorker {
    pub fn new(key: String, pod: Pod) -> Self {
        let spec = pod.spec.clone().unwrap_or_default();
        let workers = spec
            .init_containers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|c| Worker::new(c, true))
            .chain(spec.containers.into_iter().map(|c| Worker::new(c, false)))
            .collect();
        PodWorker {
            key,
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            is_static: super::config::is_static(&pod),
            pod,
            sandbox: None,
            ip: None,
            workers,
            start_time: None,
            terminating: None,
            terminated: false,
            rejected: None,
            sent: None,
            down: false,
            conditions: BTreeMap::new(),
            network_wait_reported: false,
            volumes_ready: true,
        }
    }

    /// Whether the pod waits for the node's network: it is not on the
    /// host's network, has no IP yet, and has no sandbox.
    pub fn waits_for_network(&self) -> bool {
        let host_network = self.pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
        !host_network
            && self.ip.is_none()
            && self.sandbox.is_none()
            && self.rejected.is_none()
            && !self.terminated
    }

    pub fn pod(&self) -> &Pod {
        &self.pod
    }

    /// The pod's sandbox, once created.
    pub fn sandbox_id(&self) -> Option<&str> {
        self.sandbox.as_deref()
    }

    /// Whether a runtime event is about this pod.
    pub fn owns(&self, kind: &EventKind) -> bool {
        match kind {
            EventKind::ContainerStarted { sandbox_id, .. }
            | EventKind::ContainerExited { sandbox_id, .. } => {
                self.sandbox.as_deref() == Some(sandbox_id.as_str())
            }
            EventKind::PullDone { .. } | EventKind::PullFailed { .. } => {
                self.workers.iter().any(|w| w.stage == Stage::Pulling)
            }
        }
    }

    /// The containers' runtime ids (for `kubectl logs`), by name.
    pub fn container_ids(&self) -> Vec<(String, String)> {
        self.workers
            .iter()
            .filter_map(|w| w.id().map(|id| (w.spec.name.clone(), id.to_string())))
            .collect()
    }

    /// The pod as the API now holds it.
    pub fn update(&mut self, pod: Pod, now: SimTime) {
        if pod.metadata.deletion_timestamp.is_some() && self.terminating.is_none() {
            let grace = pod
                .metadata
                .deletion_grace_period_seconds
                .unwrap_or(30)
                .max(0) as u64;
            self.terminating = Some(now + SimDuration::from_secs(grace));
        }
        self.is_static = super::config::is_static(&pod);
        self.pod = pod;
    }

    /// Whether the pod comes from a manifest file ([`super::config::is_static`]).
    pub fn is_static(&self) -> bool {
        self.is_static
    }

    /// The pod is gone from the API (or being deleted): stop it.
    pub fn kill(&mut self, now: SimTime) {
        if self.terminating.is_none() {
            self.terminating = Some(now);
        }
    }

    pub fn reject(&mut self, reason: &str, message: String) {
        self.rejected = Some((reason.into(), message));
    }

    fn restart_policy(&self) -> String {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_else(|| "Always".into())
    }

    fn should_restart(&self, code: i32) -> bool {
        match self.restart_policy().as_str() {
            "Never" => false,
            "OnFailure" => code != 0,
            _ => true,
        }
    }

    /// Drives the pod one step: what can be done now is done.
    pub fn sync(&mut self, now: SimTime, runtime: &mut Containerd, effects: &mut Vec<Effect>) {
        if self.rejected.is_some() || self.terminated {
            return;
        }
        if let Some(deadline) = self.terminating {
            self.terminate(now, deadline, runtime, effects);
            return;
        }
        if self.start_time.is_none() {
            self.start_time = Some(now);
        }
        // `SyncPod` (pkg/kubelet/kubelet.go): "If the network plugin is not
        // ready, only start the pod if it uses the host network".
        if self.waits_for_network() {
            if !self.network_wait_reported {
                self.network_wait_reported = true;
                effects.push(Effect::Event(
                    "Warning",
                    "NetworkNotReady",
                    format!(
                        "network is not ready: {}",
                        crate::kubelet::NETWORK_NOT_READY
                    ),
                    None,
                ));
            }
            return;
        }
        // `WaitForAttachAndMount`: no sandbox before the volumes are there.
        if !self.volumes_ready && self.sandbox.is_none() {
            return;
        }
        // The sandbox (`RunPodSandbox`), with the pod IP from the node's
        // range.
        let Some(sandbox) = self.sandbox.clone() else {
            let spec = self.pod.spec.clone().unwrap_or_default();
            let mut config = PodSandboxConfig::for_pod(
                self.pod.metadata.name.as_deref().unwrap_or_default(),
                self.pod.metadata.namespace.as_deref().unwrap_or_default(),
                &self.uid,
                &spec,
            );
            config.ip = self.ip.clone();
            let ns = self.pod.metadata.namespace.clone().unwrap_or_default();
            config.dns_servers = vec![crate::kubelet::CLUSTER_DNS.into()];
            config.dns_searches = vec![
                format!("{ns}.svc.cluster.local"),
                "svc.cluster.local".into(),
                "cluster.local".into(),
            ];
            let reply = runtime.run_pod_sandbox(now, config);
            effects.extend(reply.steps.into_iter().map(Effect::Step));
            match reply.result {
                Ok(id) => {
                    self.sandbox = Some(id);
                }
                Err(e) => {
                    effects.push(Effect::Event(
                        "Warning",
                        "FailedCreatePodSandBox",
                        format!("Failed to create pod sandbox: {e}"),
                        None,
                    ));
                    return;
                }
            }
            return self.sync(now, runtime, effects);
        };
        // Init containers run one at a time, in order; app containers start
        // once every init container has succeeded.
        let n = self.workers.len();
        for i in 0..n {
            let init = self.workers[i].init;
            if init {
                let earlier_done = self.workers[..i]
                    .iter()
                    .all(|w| matches!(w.stage, Stage::Exited { code: 0, .. }));
                if !earlier_done {
                    break;
                }
            } else if !self
                .workers
                .iter()
                .filter(|w| w.init)
                .all(|w| matches!(w.stage, Stage::Exited { code: 0, .. }))
            {
                break;
            }
            self.sync_container(i, now, &sandbox, runtime, effects);
        }
    }

    fn sync_container(
        &mut self,
        i: usize,
        now: SimTime,
        sandbox: &str,
        runtime: &mut Containerd,
        effects: &mut Vec<Effect>,
    ) {
        let w = &mut self.workers[i];
        match w.stage.clone() {
            Stage::Waiting => {
                let image = w.image();
                let present = runtime.image_status(&image).ok().flatten().is_some();
                let pull_policy = w.spec.image_pull_policy.clone().unwrap_or_else(|| {
                    if image.ends_with(":latest")
                        || !image.rsplit('/').next().unwrap_or("").contains(':')
                    {
                        "Always".into()
                    } else {
                        "IfNotPresent".into()
                    }
                });
                let must_pull = match pull_policy.as_str() {
                    "Never" => {
                        if !present {
                            w.stage = Stage::Failed {
                                reason: "ErrImageNeverPull".into(),
                                message: format!("Container image \"{image}\" is not present with pull policy of Never"),
                                restart_at: None,
                            };
                            effects.push(w.event("Warning", "ErrImageNeverPull", format!("Container image \"{image}\" is not present with pull policy of Never")));
                            return;
                        }
                        false
                    }
                    "IfNotPresent" => !present,
                    _ => true,
                };
                if must_pull {
                    let reply = runtime.pull_image(now, &image);
                    effects.extend(reply.steps.into_iter().map(Effect::Step));
                    match reply.result {
                        Ok(_) => {
                            effects.push(w.event(
                                "Normal",
                                "Pulling",
                                format!("Pulling image \"{image}\""),
                            ));
                            w.stage = Stage::Pulling;
                            w.pull_started = now;
                        }
                        Err(e) => {
                            let message = e.to_string();
                            effects.push(w.event(
                                "Warning",
                                "Failed",
                                format!("Failed to pull image \"{image}\": {message}"),
                            ));
                            w.pull_backoff = next_backoff(w.pull_backoff);
                            w.stage = Stage::PullBackOff {
                                until: now + w.pull_backoff,
                                message,
                            };
                        }
                    }
                } else {
                    if present {
                        effects.push(w.event(
                            "Normal",
                            "Pulled",
                            format!("Container image \"{image}\" already present on machine"),
                        ));
                    }
                    Self::create_and_start(w, now, sandbox, runtime, effects);
                }
            }
            Stage::Pulling => {}
            Stage::PullBackOff { until, .. } => {
                if until <= now {
                    w.stage = Stage::Waiting;
                    self.sync_container(i, now, sandbox, runtime, effects);
                }
            }
            Stage::Starting { .. } | Stage::Running { .. } => {}
            Stage::Exited {
                restart_at: Some(t),
                ..
            } if t <= now => {
                w.stage = Stage::Waiting;
                self.sync_container(i, now, sandbox, runtime, effects);
            }
            Stage::Failed {
                restart_at: Some(t),
                ..
            } if t <= now => {
                w.stage = Stage::Waiting;
                self.sync_container(i, now, sandbox, runtime, effects);
            }
            Stage::Exited { .. } | Stage::Failed { .. } => {}
        }
    }

    fn create_and_start(
        w: &mut Worker,
        now: SimTime,
        sandbox: &str,
        runtime: &mut Containerd,
        effects: &mut Vec<Effect>,
    ) {
        let reply = runtime.create_container(now, sandbox, &w.spec, w.restarts.max(0) as u32);
        effects.extend(reply.steps.into_iter().map(Effect::Step));
        let id = match reply.result {
            Ok(id) => id,
            Err(e) => {
                w.backoff = next_backoff(w.backoff);
                w.stage = Stage::Failed {
                    reason: "CreateContainerError".into(),
                    message: e.to_string(),
                    restart_at: Some(now + w.backoff),
                };
                effects.push(w.event("Warning", "Failed", format!("Error: {e}")));
                return;
            }
        };
        effects.push(w.event(
            "Normal",
            "Created",
            format!("Created container: {}", w.spec.name),
        ));
        let reply = runtime.start_container(now, &id);
        effects.extend(reply.steps.into_iter().map(Effect::Step));
        match reply.result {
            Ok(_) => w.stage = Stage::Starting { id },
            Err(e) => {
                w.backoff = next_backoff(w.backoff);
                let finished = now;
                w.last_terminated = Some(ContainerStateTerminated {
                    exit_code: 128,
                    reason: Some("StartError".into()),
                    message: Some(e.to_string()),
                    finished_at: Some(to_time(finished)),
                    container_id: Some(format!("containerd://{id}")),
                    ..Default::default()
                });
                w.restarts += 1;
                w.stage = Stage::Failed {
                    reason: "CrashLoopBackOff".into(),
                    message: format!(
                        "back-off {} restarting failed container={}",
                        w.backoff, w.spec.name
                    ),
                    restart_at: Some(now + w.backoff),
                };
                effects.push(w.event("Warning", "Failed", format!("Error: {e}")));
            }
        }
    }

    /// A runtime event about one of this pod's containers or images.
    pub fn on_event(
        &mut self,
        now: SimTime,
        kind: &EventKind,
        runtime: &mut Containerd,
        effects: &mut Vec<Effect>,
    ) {
        let policy_restart = |code: i32, pw: &PodWorker| pw.should_restart(code);
        match kind {
            EventKind::PullDone {
                image, size_bytes, ..
            } => {
                for w in self
                    .workers
                    .iter_mut()
                    .filter(|w| w.stage == Stage::Pulling)
                {
                    if normalize(&w.image()) == *image || w.image() == *image {
                        // `pullImage` (`pkg/kubelet/images/image_manager.go`):
                        // the pull's own time, then the time since the
                        // kubelet asked, waiting included. This kubelet's
                        // pulls are not serialized, so it waits only for a
                        // pull of the same image already under way.
                        let waited = now.saturating_since(w.pull_started);
                        effects.push(w.event(
                            "Normal",
                            "Pulled",
                            format!(
                                "Successfully pulled image \"{}\" in {waited} ({waited} including waiting). Image size: {size_bytes} bytes.",
                                w.image()
                            ),
                        ));
                        w.pull_backoff = SimDuration::ZERO;
                        w.stage = Stage::Waiting;
                    }
                }
                if let Some(sandbox) = self.sandbox.clone() {
                    for i in 0..self.workers.len() {
                        if self.workers[i].stage == Stage::Waiting && self.may_run(i) {
                            let w = &mut self.workers[i];
                            Self::create_and_start(w, now, &sandbox, runtime, effects);
                        }
                    }
                }
            }
            EventKind::PullFailed { image, message, .. } => {
                for w in self
                    .workers
                    .iter_mut()
                    .filter(|w| w.stage == Stage::Pulling)
                {
                    if normalize(&w.image()) == *image || w.image() == *image {
                        effects.push(w.event(
                            "Warning",
                            "Failed",
                            format!("Failed to pull image \"{}\": {message}", w.image()),
                        ));
                        effects.push(w.event("Warning", "Failed", "Error: ErrImagePull".into()));
                        w.pull_backoff = next_backoff(w.pull_backoff);
                        w.stage = Stage::PullBackOff {
                            until: now + w.pull_backoff,
                            message: message.clone(),
                        };
                    }
                }
            }
            EventKind::ContainerStarted { id, .. } => {
                for w in self.workers.iter_mut() {
                    if matches!(&w.stage, Stage::Starting { id: i } if i == id) {
                        effects.push(w.event(
                            "Normal",
                            "Started",
                            format!("Started container {}", w.spec.name),
                        ));
                        w.stage = Stage::Running {
                            id: id.clone(),
                            since: now,
                        };
                        w.started_probe_ok = w.spec.startup_probe.is_none();
                        w.ready = w.spec.readiness_probe.is_none() && !w.init && w.started_probe_ok;
                        let delay = first_probe_delay(&w.spec);
                        w.next_probe = now + delay;
                        w.liveness_failures = 0;
                        w.readiness_failures = 0;
                        w.readiness_successes = 0;
                    }
                }
            }
            EventKind::ContainerExited {
                id,
                exit_code,
                reason,
                ..
            } => {
                let terminating = self.terminating.is_some();
                for idx in 0..self.workers.len() {
                    let matches = self.workers[idx].id() == Some(id.as_str())
                        && matches!(
                            self.workers[idx].stage,
                            Stage::Running { .. } | Stage::Starting { .. }
                        );
                    if !matches {
                        continue;
                    }
                    let restart = !terminating
                        && policy_restart(*exit_code, self)
                        && !(self.workers[idx].init && *exit_code == 0);
                    let w = &mut self.workers[idx];
                    let started = match &w.stage {
                        Stage::Running { since, .. } => Some(*since),
                        _ => None,
                    };
                    // The back-off starts over after ten minutes of running.
                    if started.is_some_and(|s| now.saturating_since(s) >= BACKOFF_RESET) {
                        w.backoff = SimDuration::ZERO;
                    }
                    w.ready = false;
                    let restart_at = if restart {
                        w.backoff = next_backoff(w.backoff);
                        w.last_terminated = Some(ContainerStateTerminated {
                            exit_code: *exit_code,
                            reason: Some(reason.clone()),
                            started_at: started.map(to_time),
                            finished_at: Some(to_time(now)),
                            container_id: Some(format!("containerd://{id}")),
                            ..Default::default()
                        });
                        w.restarts += 1;
                        effects.push(w.event(
                            "Warning",
                            "BackOff",
                            format!(
                                "Back-off restarting failed container {} in pod {}",
                                w.spec.name,
                                self.key.replace('/', "_")
                            ),
                        ));
                        Some(now + w.backoff)
                    } else {
                        None
                    };
                    w.stage = Stage::Exited {
                        id: id.clone(),
                        code: *exit_code,
                        reason: reason.clone(),
                        started,
                        finished: now,
                        restart_at,
                    };
                }
                // The next init container (or the app containers) may start.
                if !terminating {
                    self.sync(now, runtime, effects);
                }
            }
        }
    }

    fn may_run(&self, i: usize) -> bool {
        let inits_before_done = |upto: usize| {
            self.workers[..upto]
                .iter()
                .filter(|w| w.init)
                .all(|w| matches!(w.stage, Stage::Exited { code: 0, .. }))
        };
        if self.workers[i].init {
            inits_before_done(i)
        } else {
            inits_before_done(self.workers.len())
        }
    }

    /// Runs the probes that are due (`prober.worker.doProbe`).
    pub fn probe(&mut self, now: SimTime, runtime: &mut Containerd, effects: &mut Vec<Effect>) {
        let mut kill = Vec::new();
        let down = self.down;
        let ip = self.ip.clone().unwrap_or_default();
        let run = |runtime: &mut Containerd, id: &str, p: &Probe| {
            if down {
                refused(p, &ip)
            } else {
                runtime.probe(now, id, p)
            }
        };
        for (idx, w) in self.workers.iter_mut().enumerate() {
            let Stage::Running { id, .. } = w.stage.clone() else {
                continue;
            };
            if w.next_probe > now {
                continue;
            }
            let mut period = SimDuration::from_secs(10);
            if !w.started_probe_ok {
                if let Some(p) = w.spec.startup_probe.clone() {
                    period = probe_period(&p);
                    match run(runtime, &id, &p) {
                        ProbeResult::Success => w.started_probe_ok = true,
                        ProbeResult::Failure(msg) => {
                            w.liveness_failures += 1;
                            if w.liveness_failures >= p.failure_threshold.unwrap_or(3) {
                                effects.push(w.event(
                                    "Warning",
                                    "Unhealthy",
                                    format!("Startup probe failed: {msg}"),
                                ));
                                kill.push((idx, "failed startup probe"));
                            }
                        }
                        ProbeResult::NeedsCluster(_) => w.started_probe_ok = true,
                    }
                    w.next_probe = now + period;
                    continue;
                }
                w.started_probe_ok = true;
            }
            if let Some(p) = w.spec.liveness_probe.clone() {
                period = probe_period(&p);
                match run(runtime, &id, &p) {
                    ProbeResult::Failure(msg) => {
                        w.liveness_failures += 1;
                        effects.push(w.event(
                            "Warning",
                            "Unhealthy",
                            format!("Liveness probe failed: {msg}"),
                        ));
                        if w.liveness_failures >= p.failure_threshold.unwrap_or(3) {
                            effects.push(w.event(
                                "Normal",
                                "Killing",
                                format!(
                                    "Container {} failed liveness probe, will be restarted",
                                    w.spec.name
                                ),
                            ));
                            kill.push((idx, "failed liveness probe"));
                        }
                    }
                    _ => w.liveness_failures = 0,
                }
            }
            if let Some(p) = w.spec.readiness_probe.clone() {
                period = period.min(probe_period(&p));
                match run(runtime, &id, &p) {
                    ProbeResult::Failure(msg) => {
                        w.readiness_successes = 0;
                        w.readiness_failures += 1;
                        if w.readiness_failures == 1 || w.ready {
                            effects.push(w.event(
                                "Warning",
                                "Unhealthy",
                                format!("Readiness probe failed: {msg}"),
                            ));
                        }
                        if w.readiness_failures >= p.failure_threshold.unwrap_or(3) {
                            w.ready = false;
                        }
                    }
                    _ => {
                        w.readiness_failures = 0;
                        w.readiness_successes += 1;
                        if w.readiness_successes >= p.success_threshold.unwrap_or(1) {
                            w.ready = true;
                        }
                    }
                }
            } else if !w.init {
                w.ready = true;
            }
            w.next_probe = now + period;
        }
        for (idx, _why) in kill {
            if let Some(id) = self.workers[idx].id().map(str::to_string) {
                let grace = self.grace();
                let reply = runtime.stop_container(now, &id, grace);
                effects.extend(reply.steps.into_iter().map(Effect::Step));
            }
        }
    }

    fn grace(&self) -> SimDuration {
        let secs = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .or_else(|| {
                self.pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
            })
            .unwrap_or(30)
            .max(0) as u64;
        SimDuration::from_secs(secs)
    }

    fn terminate(
        &mut self,
        now: SimTime,
        deadline: SimTime,
        runtime: &mut Containerd,
        effects: &mut Vec<Effect>,
    ) {
        let grace = deadline.saturating_since(now);
        let mut running = false;
        for w in self.workers.iter_mut() {
            match w.stage.clone() {
                Stage::Running { id, .. } | Stage::Starting { id } => {
                    running = true;
                    if let Ok(s) = runtime.container_status(&id) {
                        if s.state == CriState::Exited {
                            w.stage = Stage::Exited {
                                id,
                                code: s.exit_code.unwrap_or(0),
                                reason: s.reason.clone(),
                                started: s.started_at,
                                finished: s.finished_at.unwrap_or(now),
                                restart_at: None,
                            };
                            continue;
                        }
                    }
                    effects.push(w.event(
                        "Normal",
                        "Killing",
                        format!("Stopping container {}", w.spec.name),
                    ));
                    let reply = runtime.stop_container(now, &id, grace);
                    effects.extend(reply.steps.into_iter().map(Effect::Step));
                }
                Stage::Exited {
                    restart_at: Some(_),
                    id,
                    code,
                    reason,
                    started,
                    finished,
                } => {
                    w.stage = Stage::Exited {
                        id,
                        code,
                        reason,
                        started,
                        finished,
                        restart_at: None,
                    };
                }
                _ => {}
            }
        }
        if running {
            return;
        }
        if let Some(sandbox) = self.sandbox.take() {
            let reply = runtime.stop_pod_sandbox(now, &sandbox);
            effects.extend(reply.steps.into_iter().map(Effect::Step));
            let reply = runtime.remove_pod_sandbox(now, &sandbox);
            effects.extend(reply.steps.into_iter().map(Effect::Step));
        }
        self.terminated = true;
    }

    /// When the worker next needs [`PodWorker::sync`] or [`PodWorker::probe`].
    pub fn next_wakeup(&self) -> Option<SimTime> {
        if self.rejected.is_some() || self.terminated {
            return None;
        }
        if self.sandbox.is_none() || self.terminating.is_some() {
            return self
                .terminating
                .map(|t| t.min(self.terminating.unwrap_or(t)));
        }
        self.workers
            .iter()
            .filter_map(|w| match &w.stage {
                Stage::PullBackOff { until, .. } => Some(*until),
                Stage::Exited {
                    restart_at: Some(t),
                    ..
                }
                | Stage::Failed {
                    restart_at: Some(t),
                    ..
                } => Some(*t),
                Stage::Running { .. } if w.probed => Some(w.next_probe),
                _ => None,
            })
            .min()
    }

    fn condition(
        &mut self,
        now: SimTime,
        type_: &str,
        ok: bool,
        reason: Option<&str>,
    ) -> PodCondition {
        let status = if ok { "True" } else { "False" };
        let since = match self.conditions.get(type_) {
            Some((s, t)) if s == status => *t,
            _ => {
                self.conditions.insert(type_.into(), (status.into(), now));
                now
            }
        };
        PodCondition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.map(str::to_string),
            last_transition_time: Some(to_time(since)),
            ..Default::default()
        }
    }

    /// The pod's status as the kubelet reports it (`generateAPIPodStatus`).
    pub fn status(&mut self, now: SimTime, runtime: &Containerd, host_ip: &str) -> PodStatus {
        if let Some((reason, message)) = &self.rejected {
            let mut status = self.pod.status.as_deref().cloned().unwrap_or_default();
            status.phase = Some("Failed".into());
            status.reason = Some(reason.clone());
            status.message = Some(message.clone());
            return status;
        }
        // The API's status without what is replaced below (the conditions,
        // but PodScheduled, and the container statuses): copying them only
        // to drop them cost more than the rest of the status (this runs
        // for every pod of the node whenever its Node changes).
        let (scheduled, mut status) = match self.pod.status.as_mut() {
            Some(s) => {
                let conditions = s.conditions.take();
                let containers = s.container_statuses.take();
                let inits = s.init_container_statuses.take();
                let copy = PodStatus::clone(s);
                s.conditions = conditions;
                s.container_statuses = containers;
                s.init_container_statuses = inits;
                let scheduled = s
                    .conditions
                    .as_ref()
                    .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
                    .cloned();
                (scheduled, copy)
            }
            None => (None, PodStatus::default()),
        };
        let init_statuses: Vec<ContainerStatus> = self
            .workers
            .iter()
            .filter(|w| w.init)
            .map(|w| w.status(runtime))
            .collect();
        let statuses: Vec<ContainerStatus> = self
            .workers
            .iter()
            .filter(|w| !w.init)
            .map(|w| w.status(runtime))
            .collect();
        let inits_done = self
            .workers
            .iter()
            .filter(|w| w.init)
            .all(|w| matches!(w.stage, Stage::Exited { code: 0, .. }));
        let init_failed = self.workers.iter().any(|w| {
            w.init && matches!(w.stage, Stage::Exited { code, restart_at: None, .. } if code != 0)
        });
        // `getPhase` (pkg/kubelet/kubelet_pods.go).
        let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
        for w in self.workers.iter().filter(|w| !w.init) {
            match &w.stage {
                Stage::Running { .. } => running += 1,
                Stage::Exited {
                    code,
                    restart_at: None,
                    ..
                } => {
                    stopped += 1;
                    if *code == 0 {
                        succeeded += 1;
                    }
                }
                _ if w.restarts > 0 => stopped += 1,
                _ => waiting += 1,
            }
        }
        let policy = self.restart_policy();
        let phase = if init_failed && policy == "Never" {
            "Failed"
        } else if !inits_done || waiting > 0 {
            "Pending"
        } else if running > 0 {
            "Running"
        } else if stopped > 0 {
            if policy == "Always" {
                "Running"
            } else if stopped == succeeded {
                "Succeeded"
            } else if policy == "Never" {
                "Failed"
            } else {
                "Running"
            }
        } else {
            "Pending"
        };
        let not_ready: Vec<String> = self
            .workers
            .iter()
            .filter(|w| !w.init && !w.ready)
            .map(|w| w.spec.name.clone())
            .collect();
        let has_apps = self.workers.iter().any(|w| !w.init);
        let containers_ready = has_apps && not_ready.is_empty();
        let sandbox_ready = self.sandbox.is_some();
        let terminal = matches!(phase, "Succeeded" | "Failed");
        let mut conditions = vec![
            self.condition(now, "PodReadyToStartContainers", sandbox_ready, None),
            self.condition(
                now,
                "Initialized",
                inits_done,
                (!inits_done).then_some("ContainersNotInitialized"),
            ),
            self.condition(
                now,
                "Ready",
                containers_ready && !terminal,
                (!containers_ready || terminal).then_some(if terminal {
                    "PodCompleted"
                } else {
                    "ContainersNotReady"
                }),
            ),
            self.condition(
                now,
                "ContainersReady",
                containers_ready && !terminal,
                (!containers_ready || terminal).then_some(if terminal {
                    "PodCompleted"
                } else {
                    "ContainersNotReady"
                }),
            ),
        ];
        for c in conditions.iter_mut() {
            if c.status == "False" && c.reason.as_deref() == Some("ContainersNotReady") {
                c.message = Some(format!(
                    "containers with unready status: [{}]",
                    not_ready.join(" ")
                ));
            }
        }
        if let Some(scheduled) = scheduled {
            conditions.push(scheduled);
        }
        status.conditions = Some(conditions);
        status.phase = Some(phase.into());
        status.host_ip = Some(host_ip.into());
        status.host_ips = Some(vec![k8s_openapi::api::core::v1::HostIP {
            ip: host_ip.into(),
        }]);
        if let Some(ip) = &self.ip {
            status.pod_ip = Some(ip.clone());
            status.pod_ips = Some(vec![PodIP { ip: ip.clone() }]);
        }
        status.start_time = self.start_time.map(to_time);
        status.container_statuses = Some(statuses);
        status.init_container_statuses = (!init_statuses.is_empty()).then_some(init_statuses);
        status
    }
}

/// What a probe of a stopped process answers: nothing listens.
fn refused(p: &Probe, ip: &str) -> ProbeResult {
    if let Some(h) = &p.http_get {
        let host = h.host.clone().unwrap_or_else(|| ip.to_string());
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        let path = h.path.clone().unwrap_or_else(|| "/".into());
        return ProbeResult::Failure(format!(
            "Get \"{scheme}://{host}:{port}{path}\": dial tcp {host}:{port}: connect: connection refused"
        ));
    }
    ProbeResult::Failure(format!("dial tcp {ip}: connect: connection refused"))
}

fn next_backoff(current: SimDuration) -> SimDuration {
    if current == SimDuration::ZERO {
        INITIAL_BACKOFF
    } else {
        (current + current).min(MAX_BACKOFF)
    }
}

fn probe_period(p: &Probe) -> SimDuration {
    SimDuration::from_secs(p.period_seconds.unwrap_or(10).max(1) as u64)
}

fn first_probe_delay(c: &Container) -> SimDuration {
    let delay = |p: &Option<Box<Probe>>| {
        p.as_ref()
            .map(|p| p.initial_delay_seconds.unwrap_or(0).max(0) as u64)
    };
    let d = [
        delay(&c.startup_probe),
        delay(&c.liveness_probe),
        delay(&c.readiness_probe),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(0);
    SimDuration::from_secs(d)
}

/// containerd's normalized reference (`nginx` -> `docker.io/library/nginx:latest`).
fn normalize(image: &str) -> String {
    crate::images::ImageRef::parse(image)
        .map(|r| r.to_string())
        .unwrap_or_else(|_| image.to_string())
}

/// Whether a pod's requests fit what is left on the node
/// (`noderesources.Fits` as the kubelet's admission runs it).
pub fn fits(
    requests: (i64, i64),
    used: (i64, i64, usize),
    allocatable: (i64, i64, usize),
) -> Result<(), (String, String)> {
    let (cpu, mem) = requests;
    let (ucpu, umem, upods) = used;
    let (acpu, amem, apods) = allocatable;
    if upods + 1 > apods {
        return Err(("OutOfpods".into(), format!("Node didn't have enough resource: pods, requested: 1, used: {upods}, capacity: {apods}")));
    }
    if ucpu + cpu > acpu {
        return Err(("OutOfcpu".into(), format!("Pod was rejected: Node didn't have enough resource: cpu, requested: {cpu}, used: {ucpu}, capacity: {acpu}")));
    }
    if umem + mem > amem {
        return Err(("OutOfmemory".into(), format!("Pod was rejected: Node didn't have enough resource: memory, requested: {mem}, used: {umem}, capacity: {amem}")));
    }
    Ok(())
}

/// Whether the API's copy of a pod's status agrees with what the kubelet
/// sent on what the kubelet owns: the phase and the status of each
/// condition it reported (others, such as `DisruptionTarget`, are not its
/// business).
pub fn same_kubelet_status(sent: &PodStatus, api: &PodStatus) -> bool {
    let status_of = |s: &PodStatus, t: &str| {
        s.conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == t)
            .map(|c| c.status.clone())
    };
    sent.phase == api.phase
        && sent
            .conditions
            .iter()
            .flatten()
            .all(|c| status_of(api, &c.type_).as_ref() == Some(&c.status))
}

/// A pod's CPU (milli) and memory (bytes) requests.
pub fn requests(pod: &Pod) -> (i64, i64) {
    let mut cpu = 0;
    let mut mem = 0;
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        let r = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        if let Some(q) = r
            .and_then(|r| r.get("cpu"))
            .and_then(|q| Q::parse(&q.0).ok())
        {
            cpu += q.milli_value();
        }
        if let Some(q) = r
            .and_then(|r| r.get("memory"))
            .and_then(|q| Q::parse(&q.0).ok())
        {
            mem += q.value();
        }
    }
    (cpu, mem)
}

#[cfg(test)]
mod status_tests {
    use super::*;

    fn status(phase: &str, conditions: &[(&str, &str)]) -> PodStatus {
        PodStatus {
            phase: Some(phase.into()),
            conditions: Some(
                conditions
                    .iter()
                    .map(|(t, s)| PodCondition {
                        type_: t.to_string(),
                        status: s.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn a_pod_marked_not_ready_by_the_node_controller_needs_its_status_sent_again() {
        let sent = status("Running", &[("Ready", "True"), ("ContainersReady", "True")]);
        let marked = status(
            "Running",
            &[("Ready", "False"), ("ContainersReady", "True")],
        );
        assert!(!same_kubelet_status(&sent, &marked));
        // A condition the kubelet does not report is not its business.
        let disrupted = status(
            "Running",
            &[
                ("Ready", "True"),
                ("ContainersReady", "True"),
                ("DisruptionTarget", "True"),
            ],
        );
        assert!(same_kubelet_status(&sent, &disrupted));
    }
}
