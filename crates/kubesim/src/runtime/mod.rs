//! The container runtime: containerd behind a CRI-shaped interface, driving
//! runc, with a cgroup v2 hierarchy per pod and container.
//!
//! In Kubernetes the kubelet never starts processes itself. It calls the
//! Container Runtime Interface (gRPC `RuntimeService` and `ImageService`) of
//! a runtime such as containerd: `PullImage` fetches an image, `RunPodSandbox`
//! creates the pod's sandbox (the `pause` container holding the network
//! namespace, plus the pod's cgroup slice), `CreateContainer` and
//! `StartContainer` run each container in it, `StopContainer` sends SIGTERM
//! and, after the grace period, SIGKILL. containerd hands the low-level work
//! to runc (`runc create`, `runc start`, `runc kill`, `runc delete`), which
//! puts the process in a cgroup whose `cpu.max`, `memory.max` and `cpu.weight`
//! come from the container's limits and requests. When a cgroup's memory
//! reaches `memory.max`, the kernel's OOM killer ends the process and the
//! kubelet sees exit code 137 with reason `OOMKilled`.
//!
//! Here [`Containerd`] is a pure state machine for one node. Every call takes
//! the virtual time and returns a [`Reply`]: the result plus the
//! [`TraceStep`]s (`containerd: PullImage ...`, `runc create ...`,
//! `cgroup ... memory.max=...`) the page shows to make the chain
//! kubelet -> containerd -> runc visible. Calls that take time (pulls,
//! starts, graceful stops) answer "in progress until T"; [`Containerd::advance`]
//! completes them and reports [`RuntimeEvent`]s, and
//! [`Containerd::next_wakeup`] says when to call it next. Processes follow
//! their image's behaviour ([`crate::images`]) over virtual time: they
//! print, sleep, serve ports, leak memory and exit. [`Containerd::probe`],
//! [`Containerd::http_get`], [`Containerd::exec_sync`] and
//! [`Containerd::logs`] answer from that behaviour; what needs other pods or
//! DNS comes back as a [`ClusterRequest`] for the kubelet to resolve.
//!
//! Volumes: the kubelet writes a pod's (projected) volumes on the node
//! ([`Containerd::write_volume`]) and every container sees them at its
//! `volumeMounts`, rewritten files included, as through a bind mount.
//!
//! Left out: networking (CNI only records the IP the caller gives), other
//! volume types, read-only mounts, image layers and snapshotters (a pull moves the whole image),
//! CPU throttling and accounting (`cpu.stat`), swap, user namespaces,
//! seccomp/AppArmor, attach and port-forward streams, container checkpoints,
//! and the pod-level `memory.max` enforcement (OOM is per container).

mod cgroup;
mod containerd;
mod program;
mod runc;

pub use cgroup::{
    container_scope, milli_cpu_to_quota, milli_cpu_to_shares, pod_slice, shares_to_weight,
    CgroupLimits, ContainerResources, QosClass, CPU_PERIOD_US,
};
pub use containerd::{Containerd, PodSandboxConfig, DEFAULT_BANDWIDTH, REGISTRY_ROUND_TRIP};
pub use program::Stream;
pub(crate) use program::{format_date, DateStyle};

use crate::world::{SimDuration, SimTime};
use serde::Serialize;
use std::fmt;

/// Who did a step of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Actor {
    Containerd,
    Runc,
    Cgroup,
    Cni,
}

/// One step of the kubelet -> containerd -> runc chain, for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceStep {
    pub at: SimTime,
    pub actor: Actor,
    pub text: String,
}

impl fmt::Display for TraceStep {
    /// `containerd: PullImage ...`, `runc start <id>`, `cgroup <path> memory.max=max`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.actor {
            Actor::Containerd => write!(f, "containerd: {}", self.text),
            Actor::Runc => write!(f, "runc {}", self.text),
            Actor::Cgroup => write!(f, "cgroup {}", self.text),
            Actor::Cni => write!(f, "cni: {}", self.text),
        }
    }
}

/// A call's answer and the steps it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply<T> {
    pub result: Result<T, CriError>,
    pub steps: Vec<TraceStep>,
}

/// CRI errors, worded as containerd's gRPC status messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum CriError {
    /// The kubelet reports `InvalidImageName`.
    #[error("{0}")]
    InvalidImageName(String),
    #[error("rpc error: code = NotFound desc = {0}")]
    NotFound(String),
    /// runc could not start the process: reason `StartError`, exit 128.
    #[error("rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: {0}: unknown")]
    StartError(String),
    #[error("rpc error: code = FailedPrecondition desc = {0}")]
    FailedPrecondition(String),
    /// The command of an exec could not run.
    #[error("rpc error: code = Unknown desc = failed to exec in container: failed to start exec: OCI runtime exec failed: exec failed: unable to start container process: {0}: unknown")]
    ExecFailed(String),
}

/// crictl's container states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerState::Created => "CONTAINER_CREATED",
            ContainerState::Running => "CONTAINER_RUNNING",
            ContainerState::Exited => "CONTAINER_EXITED",
        })
    }
}

/// `ContainerStatus`, as crictl inspect shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    pub attempt: u32,
    /// The normalized reference (`docker.io/library/nginx:1.14.2`).
    pub image: String,
    /// `sha256:...`
    pub image_id: String,
    pub state: ContainerState,
    pub created_at: SimTime,
    pub started_at: Option<SimTime>,
    pub finished_at: Option<SimTime>,
    pub exit_code: Option<i32>,
    /// `Completed`, `Error`, `OOMKilled`, `StartError`, or empty.
    pub reason: String,
    pub message: String,
    /// The container's cgroup, under `/sys/fs/cgroup`.
    pub cgroup: String,
}

/// Pod sandbox states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SandboxState {
    Ready,
    NotReady,
}

impl fmt::Display for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SandboxState::Ready => "SANDBOX_READY",
            SandboxState::NotReady => "SANDBOX_NOTREADY",
        })
    }
}

/// `PodSandboxStatus`, as `crictl pods` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SandboxStatus {
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub attempt: u32,
    pub state: SandboxState,
    pub created_at: SimTime,
    pub ip: Option<String>,
    pub qos: QosClass,
    /// The pod's slice, under `/sys/fs/cgroup`.
    pub cgroup_parent: String,
}

/// An image in the node's store (`crictl images`, `node.status.images`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageSummary {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub size_bytes: u64,
}

/// The cgroup files of a pod or a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CgroupView {
    pub path: String,
    /// The container id, or `None` for a pod's slice.
    pub container_id: Option<String>,
    pub cpu_max: String,
    pub memory_max: String,
    pub memory_current: u64,
    pub cpu_weight: u64,
}

/// One line of a container's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub at: SimTime,
    pub stream: Stream,
    pub text: String,
}

/// Something only the cluster can answer (other pods, services, DNS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ClusterRequest {
    /// `curl` / `wget` to a non-loopback URL (`tool` is the program, `args`
    /// its flags, which decide what it prints).
    Http {
        url: String,
        tool: String,
        args: Vec<String>,
        /// The content of curl's `--cacert` file as curl starts (`None`:
        /// no such flag, or no such file).
        ca_file: Option<String>,
    },
    /// `nslookup` / `dig`.
    Dns {
        name: String,
    },
    Ping {
        host: String,
    },
}

impl fmt::Display for ClusterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterRequest::Http { url, .. } => write!(f, "HTTP GET {url}"),
            ClusterRequest::Dns { name } => write!(f, "DNS lookup of {name}"),
            ClusterRequest::Ping { host } => write!(f, "ping {host}"),
        }
    }
}

/// The outcome of `ExecSync`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ExecOutcome {
    Done {
        exit_code: i32,
        stdout: String,
        stderr: String,
        /// Virtual time the command took (its sleeps).
        took: SimDuration,
    },
    /// The command did not finish within the timeout.
    TimedOut { stdout: String },
    /// The command needs the cluster; `stdout` is what it printed before.
    NeedsCluster {
        request: ClusterRequest,
        stdout: String,
    },
}

/// The answer to an HTTP request to a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum HttpOutcome {
    Response {
        status: u16,
        body: String,
    },
    /// Nothing listens on the port.
    Refused,
    /// Something listens but does not speak HTTP.
    NotHttp(String),
}

/// A probe's verdict, with the kubelet's message on failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum ProbeResult {
    Success,
    Failure(String),
    /// An exec probe whose command needs the cluster.
    NeedsCluster(ClusterRequest),
}

/// What finished (reported by [`Containerd::advance`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum EventKind {
    PullDone {
        image: String,
        image_id: String,
        size_bytes: u64,
        took: SimDuration,
    },
    /// `reason` is `ErrImagePull`.
    PullFailed {
        image: String,
        reason: String,
        message: String,
    },
    ContainerStarted {
        id: String,
        sandbox_id: String,
        name: String,
    },
    /// `reason` is `Completed` (0), `Error` or `OOMKilled` (137).
    ContainerExited {
        id: String,
        sandbox_id: String,
        name: String,
        exit_code: i32,
        reason: String,
    },
}

/// An event and the chain steps that led to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeEvent {
    pub at: SimTime,
    pub kind: EventKind,
    pub steps: Vec<TraceStep>,
}
