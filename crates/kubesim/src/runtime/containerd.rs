//! containerd: the CRI `RuntimeService` and `ImageService` of one node.

use super::cgroup::{container_scope, pod_slice, CgroupLimits, ContainerResources, QosClass};
use super::program::{
    compile_exec, compile_main, format_date, handle_http, has_binary, not_found_message, App, Ctx,
    DateStyle, HttpApp, HttpCtx, HTTPD_INDEX, NGINX_INDEX,
};
use super::runc::{Files, Fx, Halt, Machine, Memory, Process};
use super::*;
use crate::api::pod::{Container, PodSpec};
use crate::cow::CowRc;
use crate::images::{fake_digest, lookup, ImageInfo, ImageRef, SANDBOX_IMAGE};
use k8s_openapi::api::core::v1::Probe;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// Simulated registry bandwidth: 50 MB/s.
pub const DEFAULT_BANDWIDTH: u64 = 50_000_000;
/// A registry round trip (resolve the reference, fetch the manifest).
pub const REGISTRY_ROUND_TRIP: SimDuration = SimDuration::from_millis(500);
/// Memory of the pause process.
const PAUSE_MEMORY: u64 = 300 * 1024;
/// Log lines kept per container.
const LOG_LINES: usize = 5_000;

/// What `RunPodSandbox` needs to know about the pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSandboxConfig {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub attempt: u32,
    pub hostname: String,
    /// The pod IP, as the kubelet's network plugin assigned it.
    pub ip: Option<String>,
    pub dns_servers: Vec<String>,
    pub dns_searches: Vec<String>,
    pub qos: QosClass,
    pub limits: CgroupLimits,
}

impl PodSandboxConfig {
    /// A sandbox for a pod: QoS class and pod cgroup limits from its spec.
    pub fn for_pod(name: &str, namespace: &str, uid: &str, spec: &PodSpec) -> Self {
        PodSandboxConfig {
            name: name.to_string(),
            namespace: namespace.to_string(),
            uid: uid.to_string(),
            attempt: 0,
            hostname: spec.hostname.clone().unwrap_or_else(|| name.to_string()),
            ip: None,
            dns_servers: Vec::new(),
            dns_searches: Vec::new(),
            qos: QosClass::of_pod(spec),
            limits: CgroupLimits::for_pod(spec),
        }
    }
}

#[derive(Clone, Debug)]
struct Sandbox {
    config: PodSandboxConfig,
    state: SandboxState,
    created_at: SimTime,
    slice: String,
}

#[derive(Clone, Debug)]
struct Ctr {
    sandbox_id: String,
    name: String,
    attempt: u32,
    spec: Container,
    image: ImageInfo,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    limits: CgroupLimits,
    cgroup: String,
    state: ContainerState,
    created_at: SimTime,
    starting: Option<SimTime>,
    started_at: Option<SimTime>,
    finished_at: Option<SimTime>,
    exit_code: Option<i32>,
    reason: String,
    message: String,
    process: Option<Process>,
    files: Files,
    logs: Vec<LogLine>,
    hostname: String,
}

impl Ctr {
    /// What the container's command sees when it starts.
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            image: &self.image,
            hostname: &self.hostname,
            env: &self.env,
            files: &self.files,
        }
    }
}

#[derive(Clone, Debug)]
struct Pull {
    image: ImageRef,
    started: SimTime,
    done_at: SimTime,
    info: Option<ImageInfo>,
}

/// containerd and runc on one node.
#[derive(Clone, Debug)]
pub struct Containerd {
    node: String,
    bandwidth: u64,
    images: BTreeMap<String, ImageInfo>,
    pulls: BTreeMap<String, Pull>,
    sandboxes: BTreeMap<String, CowRc<Sandbox>>,
    containers: BTreeMap<String, CowRc<Ctr>>,
    next_id: u64,
    queued: Vec<RuntimeEvent>,
    /// The node's pod volume directories as the kubelet wrote them
    /// (`/var/lib/kubelet/pods/<uid>/volumes/...`), by pod uid and volume
    /// name: each file's path inside the volume and its content.
    volumes: BTreeMap<String, BTreeMap<String, Files>>,
}

/// Whether [`sync_one`] at `now` could change `c`: a start that is due, a
/// process [`Process::advance`] could move (see [`Process::may_advance`]),
/// or logs over the cap. [`Containerd::advance`] leaves the others
/// unwritten, so a copy of the cluster keeps sharing them (see
/// [`crate::cow`]); `sync_one` on them would change nothing.
fn sync_may_change(c: &Ctr, now: SimTime) -> bool {
    c.starting.is_some_and(|t| t <= now)
        || c.logs.len() > LOG_LINES
        || c.process
            .as_ref()
            .is_some_and(|p| p.may_advance(c.limits.memory_max))
}

/// [`Containerd::sync_container`] on one container: starts it when its
/// start is due, advances its process, and queues what happened.
fn sync_one(id: &str, c: &mut Ctr, now: SimTime, queued: &mut Vec<RuntimeEvent>) {
    if let Some(at) = c.starting.filter(|t| *t <= now) {
        c.starting = None;
        let ctx = c.ctx();
        match compile_main(&c.argv, &ctx) {
            Ok(program) => {
                c.process = Some(Process::start(program, at, c.image.base_memory));
                c.state = ContainerState::Running;
                c.started_at = Some(at);
                queued.push(RuntimeEvent {
                    at,
                    kind: EventKind::ContainerStarted {
                        id: id.to_string(),
                        sandbox_id: c.sandbox_id.clone(),
                        name: c.name.clone(),
                    },
                    steps: vec![step(
                        at,
                        Actor::Runc,
                        format!("{}: process running ({})", short(id), c.argv.join(" ")),
                    )],
                });
            }
            Err(_) => {
                c.state = ContainerState::Exited;
            }
        }
    }
    let Some(p) = c.process.as_mut() else {
        return;
    };
    let Some(exit) = p.advance(
        now,
        c.limits.memory_max,
        &mut c.files,
        &mut c.logs,
        &c.hostname,
    ) else {
        if c.logs.len() > LOG_LINES {
            let extra = c.logs.len() - LOG_LINES;
            c.logs.drain(..extra);
        }
        return;
    };
    if c.logs.len() > LOG_LINES {
        let extra = c.logs.len() - LOG_LINES;
        c.logs.drain(..extra);
    }
    let reason = exit_reason(exit.code, exit.oom);
    c.state = ContainerState::Exited;
    c.finished_at = Some(exit.at);
    c.exit_code = Some(exit.code);
    c.reason = reason.to_string();
    let mut steps = Vec::new();
    if exit.oom {
        steps.push(step(
            exit.at,
            Actor::Cgroup,
            format!(
                "{} memory.events oom_kill 1 (memory.max={})",
                c.cgroup,
                c.limits.memory_max_text()
            ),
        ));
    } else if exit.killed && exit.code == 137 {
        steps.push(step(
            exit.at,
            Actor::Runc,
            format!("kill {} SIGKILL (grace period over)", short(id)),
        ));
    }
    steps.push(step(
        exit.at,
        Actor::Runc,
        format!(
            "{}: process exited with code {} ({reason})",
            short(id),
            exit.code
        ),
    ));
    queued.push(RuntimeEvent {
        at: exit.at,
        kind: EventKind::ContainerExited {
            id: id.to_string(),
            sandbox_id: c.sandbox_id.clone(),
            name: c.name.clone(),
            exit_code: exit.code,
            reason: reason.to_string(),
        },
        steps,
    });
}

fn short(id: &str) -> &str {
    id.get(..13).unwrap_or(id)
}

fn step(at: SimTime, actor: Actor, text: impl Into<String>) -> TraceStep {
    TraceStep {
        at,
        actor,
        text: text.into(),
    }
}

fn mb(bytes: u64) -> String {
    format!("{}.{} MB", bytes / 1_000_000, (bytes % 1_000_000) / 100_000)
}

fn exit_reason(code: i32, oom: bool) -> &'static str {
    if oom {
        "OOMKilled"
    } else if code == 0 {
        "Completed"
    } else {
        "Error"
    }
}

fn summary(info: &ImageInfo) -> ImageSummary {
    ImageSummary {
        id: info.id.clone(),
        repo_tags: info
            .reference
            .tag
            .as_ref()
            .map(|_| vec![info.reference.to_string()])
            .unwrap_or_default(),
        repo_digests: vec![info.repo_digest.clone()],
        size_bytes: info.size_bytes,
    }
}

impl Containerd {
    /// A node's runtime with the sandbox image already in its store (kubeadm
    /// pre-pulls it).
    pub fn new(node: &str) -> Self {
        let mut images = BTreeMap::new();
        if let Some(info) = ImageRef::parse(SANDBOX_IMAGE)
            .ok()
            .as_ref()
            .and_then(lookup)
        {
            images.insert(info.reference.to_string(), info);
        }
        Containerd {
            node: node.to_string(),
            bandwidth: DEFAULT_BANDWIDTH,
            images,
            pulls: BTreeMap::new(),
            sandboxes: BTreeMap::new(),
            containers: BTreeMap::new(),
            next_id: 0,
            queued: Vec::new(),
            volumes: BTreeMap::new(),
        }
    }

    /// Puts an image in the store without a pull (`kubeadm config images
    /// pull` ran before the node joined). Unknown images are ignored.
    pub fn preload_image(&mut self, image: &str) {
        if let Some(info) = ImageRef::parse(image).ok().as_ref().and_then(lookup) {
            self.images.insert(info.reference.to_string(), info);
        }
    }

    /// Sets the registry bandwidth in bytes per second (at least 1).
    pub fn set_bandwidth(&mut self, bytes_per_second: u64) {
        self.bandwidth = bytes_per_second.max(1);
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        fake_digest(&format!("{}/{}", self.node, self.next_id))
    }

    fn find_container(&self, id: &str) -> Option<String> {
        if self.containers.contains_key(id) {
            return Some(id.to_string());
        }
        let mut m = self
            .containers
            .keys()
            .filter(|k| !id.is_empty() && k.starts_with(id));
        match (m.next(), m.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    }

    fn find_sandbox(&self, id: &str) -> Option<String> {
        if self.sandboxes.contains_key(id) {
            return Some(id.to_string());
        }
        let mut m = self
            .sandboxes
            .keys()
            .filter(|k| !id.is_empty() && k.starts_with(id));
        match (m.next(), m.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    }

    // ---- ImageService ----

    /// `PullImage`: in progress until the returned time; the outcome comes
    /// as `PullDone` or `PullFailed` from [`Containerd::advance`].
    pub fn pull_image(&mut self, now: SimTime, image: &str) -> Reply<SimTime> {
        let r = match ImageRef::parse(image) {
            Ok(r) => r,
            Err(e) => {
                return Reply {
                    result: Err(CriError::InvalidImageName(e.to_string())),
                    steps: vec![],
                }
            }
        };
        let key = r.to_string();
        if let Some(p) = self.pulls.get(&key) {
            return Reply {
                result: Ok(p.done_at),
                steps: vec![step(
                    now,
                    Actor::Containerd,
                    format!("PullImage {key} (already pulling)"),
                )],
            };
        }
        let info = lookup(&r);
        let (took, text) = match (&info, self.images.contains_key(&key)) {
            (Some(_), true) => (
                REGISTRY_ROUND_TRIP,
                format!("PullImage {key} (up to date, checking the registry)"),
            ),
            (Some(i), false) => {
                let ms = u128::from(i.size_bytes) * 1000 / u128::from(self.bandwidth.max(1));
                let d = REGISTRY_ROUND_TRIP
                    + SimDuration::from_millis(ms.min(u128::from(u32::MAX)) as u64);
                (
                    d,
                    format!(
                        "PullImage {key} (pulling {} at {}/s)",
                        mb(i.size_bytes),
                        mb(self.bandwidth)
                    ),
                )
            }
            (None, _) => (REGISTRY_ROUND_TRIP, format!("PullImage {key} (resolving)")),
        };
        let done_at = now + took;
        self.pulls.insert(
            key.clone(),
            Pull {
                image: r,
                started: now,
                done_at,
                info,
            },
        );
        Reply {
            result: Ok(done_at),
            steps: vec![step(now, Actor::Containerd, text)],
        }
    }

    /// `ImageStatus`: the image if it is in the node's store.
    pub fn image_status(&self, image: &str) -> Result<Option<ImageSummary>, CriError> {
        let r = ImageRef::parse(image).map_err(|e| CriError::InvalidImageName(e.to_string()))?;
        Ok(self.images.get(&r.to_string()).map(summary))
    }

    /// `ListImages`.
    pub fn list_images(&self) -> Vec<ImageSummary> {
        self.images.values().map(summary).collect()
    }

    /// `RemoveImage` (removing an absent image succeeds, as in CRI).
    pub fn remove_image(&mut self, now: SimTime, image: &str) -> Reply<()> {
        match ImageRef::parse(image) {
            Ok(r) => {
                let key = r.to_string();
                let removed = self.images.remove(&key).is_some();
                Reply {
                    result: Ok(()),
                    steps: if removed {
                        vec![step(now, Actor::Containerd, format!("RemoveImage {key}"))]
                    } else {
                        vec![]
                    },
                }
            }
            Err(e) => Reply {
                result: Err(CriError::InvalidImageName(e.to_string())),
                steps: vec![],
            },
        }
    }

    // ---- RuntimeService: sandboxes ----

    /// `RunPodSandbox`: the pod's cgroup slice, the network (CNI), the pause
    /// container.
    pub fn run_pod_sandbox(&mut self, now: SimTime, config: PodSandboxConfig) -> Reply<String> {
        let mut steps = vec![step(
            now,
            Actor::Containerd,
            format!(
                "RunPodSandbox {}/{} (uid {}, attempt {})",
                config.namespace, config.name, config.uid, config.attempt
            ),
        )];
        if !self.images.contains_key(SANDBOX_IMAGE) {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "failed to get sandbox image \"{SANDBOX_IMAGE}\": not found"
                ))),
                steps,
            };
        }
        let id = self.new_id();
        let slice = pod_slice(config.qos, &config.uid);
        steps.push(step(
            now,
            Actor::Cgroup,
            format!(
                "mkdir {slice} cpu.max={} memory.max={} cpu.weight={}",
                config.limits.cpu_max,
                config.limits.memory_max_text(),
                config.limits.cpu_weight
            ),
        ));
        steps.push(step(
            now,
            Actor::Cni,
            format!(
                "ADD {}/{} netns for sandbox {}{}",
                config.namespace,
                config.name,
                short(&id),
                config
                    .ip
                    .as_ref()
                    .map(|ip| format!(", ip {ip}"))
                    .unwrap_or_default()
            ),
        ));
        steps.push(step(
            now,
            Actor::Runc,
            format!("create {} ({SANDBOX_IMAGE})", short(&id)),
        ));
        steps.push(step(
            now,
            Actor::Runc,
            format!("start {} (/pause)", short(&id)),
        ));
        self.sandboxes.insert(
            id.clone(),
            Sandbox {
                config,
                state: SandboxState::Ready,
                created_at: now,
                slice,
            }
            .into(),
        );
        Reply {
            result: Ok(id),
            steps,
        }
    }

    /// `StopPodSandbox`: kills what still runs in it and tears the network down.
    pub fn stop_pod_sandbox(&mut self, now: SimTime, sandbox_id: &str) -> Reply<()> {
        let Some(sid) = self.find_sandbox(sandbox_id) else {
            // Stopping an absent sandbox succeeds (CRI is idempotent here).
            return Reply {
                result: Ok(()),
                steps: vec![],
            };
        };
        let mut steps = vec![step(
            now,
            Actor::Containerd,
            format!("StopPodSandbox {}", short(&sid)),
        )];
        let ids: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, c)| c.sandbox_id == sid && c.state == ContainerState::Running)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            self.sync_container(&id, now);
            if let Some(c) = self.containers.get_mut(&id) {
                if let Some(p) = c.process.as_mut() {
                    p.stop(now, SimDuration::ZERO);
                }
            }
            steps.push(step(
                now,
                Actor::Runc,
                format!("kill {} SIGKILL", short(&id)),
            ));
            self.sync_container(&id, now);
        }
        if let Some(sb) = self.sandboxes.get_mut(&sid) {
            if sb.state == SandboxState::Ready {
                steps.push(step(
                    now,
                    Actor::Runc,
                    format!("kill {} SIGKILL (pause)", short(&sid)),
                ));
                steps.push(step(
                    now,
                    Actor::Cni,
                    format!("DEL {}/{}", sb.config.namespace, sb.config.name),
                ));
            }
            sb.state = SandboxState::NotReady;
        }
        Reply {
            result: Ok(()),
            steps,
        }
    }

    /// `RemovePodSandbox`: removes its containers and its cgroup slice.
    pub fn remove_pod_sandbox(&mut self, now: SimTime, sandbox_id: &str) -> Reply<()> {
        let Some(sid) = self.find_sandbox(sandbox_id) else {
            return Reply {
                result: Ok(()),
                steps: vec![],
            };
        };
        if self
            .sandboxes
            .get(&sid)
            .is_some_and(|s| s.state == SandboxState::Ready)
        {
            return Reply {
                result: Err(CriError::FailedPrecondition(format!(
                    "sandbox container \"{sid}\" is not fully stopped"
                ))),
                steps: vec![],
            };
        }
        let mut steps = vec![step(
            now,
            Actor::Containerd,
            format!("RemovePodSandbox {}", short(&sid)),
        )];
        let ids: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, c)| c.sandbox_id == sid)
            .map(|(k, _)| k.clone())
            .collect();
        for id in ids {
            if let Some(c) = self.containers.remove(&id) {
                steps.push(step(now, Actor::Runc, format!("delete {}", short(&id))));
                steps.push(step(now, Actor::Cgroup, format!("rmdir {}", c.cgroup)));
            }
        }
        if let Some(sb) = self.sandboxes.remove(&sid) {
            steps.push(step(
                now,
                Actor::Runc,
                format!("delete {} (pause)", short(&sid)),
            ));
            steps.push(step(now, Actor::Cgroup, format!("rmdir {}", sb.slice)));
        }
        Reply {
            result: Ok(()),
            steps,
        }
    }

    /// `PodSandboxStatus`.
    pub fn pod_sandbox_status(&self, sandbox_id: &str) -> Result<SandboxStatus, CriError> {
        let sid = self.find_sandbox(sandbox_id).ok_or_else(|| {
            CriError::NotFound(format!(
                "an error occurred when try to find sandbox \"{sandbox_id}\": not found"
            ))
        })?;
        self.sandboxes
            .get(&sid)
            .map(|s| sandbox_status(&sid, s))
            .ok_or_else(|| CriError::NotFound(format!("sandbox {sandbox_id} not found")))
    }

    /// `ListPodSandbox` (`crictl pods`).
    pub fn list_pod_sandboxes(&self) -> Vec<SandboxStatus> {
        self.sandboxes
            .iter()
            .map(|(id, s)| sandbox_status(id, s))
            .collect()
    }

    // ---- RuntimeService: containers ----

    /// `CreateContainer`: the container's config from its pod spec entry (env
    /// values already resolved by the kubelet). The image must be present.
    pub fn create_container(
        &mut self,
        now: SimTime,
        sandbox_id: &str,
        spec: &Container,
        attempt: u32,
    ) -> Reply<String> {
        let fail = |e: CriError| Reply {
            result: Err(e),
            steps: vec![],
        };
        let Some(sid) = self.find_sandbox(sandbox_id) else {
            return fail(CriError::NotFound(format!(
                "sandbox {sandbox_id} not found"
            )));
        };
        let Some(sb) = self.sandboxes.get(&sid) else {
            return fail(CriError::NotFound(format!(
                "sandbox {sandbox_id} not found"
            )));
        };
        if sb.state != SandboxState::Ready {
            return fail(CriError::FailedPrecondition(format!(
                "sandbox {} is not ready",
                short(&sid)
            )));
        }
        let image_name = spec.image.clone().unwrap_or_default();
        let r = match ImageRef::parse(&image_name) {
            Ok(r) => r,
            Err(e) => return fail(CriError::InvalidImageName(e.to_string())),
        };
        let Some(image) = self.images.get(&r.to_string()).cloned() else {
            return fail(CriError::NotFound(format!(
                "failed to create containerd container: get image \"{r}\": not found"
            )));
        };
        // Kubernetes: command replaces the entrypoint, args the image's cmd.
        let command = spec.command.clone().unwrap_or_default();
        let args = spec.args.clone().unwrap_or_default();
        let argv: Vec<String> = match (command.is_empty(), args.is_empty()) {
            (false, _) => command.into_iter().chain(args).collect(),
            (true, false) => image.entrypoint.iter().cloned().chain(args).collect(),
            (true, true) => image
                .entrypoint
                .iter()
                .chain(image.cmd.iter())
                .cloned()
                .collect(),
        };
        let config = &sb.config;
        let hostname = config.hostname.clone();
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ),
            ("HOSTNAME".into(), hostname.clone()),
        ];
        for (k, v) in image.env.iter().cloned().chain(
            spec.env
                .iter()
                .flatten()
                .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default())),
        ) {
            match env.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => env.push((k, v)),
            }
        }
        let mut files = Files::new();
        files.insert("/etc/hostname".into(), format!("{hostname}\n"));
        let ip = config.ip.clone().unwrap_or_else(|| "127.0.0.1".into());
        files.insert(
            "/etc/hosts".into(),
            format!("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{hostname}\n"),
        );
        let mut resolv = String::new();
        if !config.dns_searches.is_empty() {
            resolv.push_str(&format!("search {}\n", config.dns_searches.join(" ")));
        }
        for s in &config.dns_servers {
            resolv.push_str(&format!("nameserver {s}\n"));
        }
        if !config.dns_servers.is_empty() {
            resolv.push_str("options ndots:5\n");
        }
        files.insert("/etc/resolv.conf".into(), resolv);
        match image.kind {
            crate::images::ImageKind::Nginx => {
                files.insert(
                    "/usr/share/nginx/html/index.html".into(),
                    NGINX_INDEX.into(),
                );
                files.insert(
                    "/usr/share/nginx/html/50x.html".into(),
                    "<h1>An error occurred.</h1>\n".into(),
                );
            }
            crate::images::ImageKind::Httpd => {
                files.insert(
                    "/usr/local/apache2/htdocs/index.html".into(),
                    HTTPD_INDEX.into(),
                );
            }
            _ => {}
        }
        // The container's bind mounts of the pod's volumes.
        if let Some(pod_volumes) = self.volumes.get(&config.uid) {
            project_mounts(&mut files, spec, pod_volumes);
        }
        let id = self.new_id();
        let Some(sb) = self.sandboxes.get(&sid) else {
            return fail(CriError::NotFound(format!(
                "sandbox {sandbox_id} not found"
            )));
        };
        let cgroup = container_scope(&sb.slice, &id);
        let limits = CgroupLimits::for_container(&ContainerResources::of(spec));
        let steps = vec![step(
            now,
            Actor::Containerd,
            format!(
                "CreateContainer {} in sandbox {} (image {r}) -> {}",
                spec.name,
                short(&sid),
                short(&id)
            ),
        )];
        self.containers.insert(
            id.clone(),
            Ctr {
                sandbox_id: sid,
                name: spec.name.clone(),
                attempt,
                spec: spec.clone(),
                image,
                argv,
                env,
                limits,
                cgroup,
                state: ContainerState::Created,
                created_at: now,
                starting: None,
                started_at: None,
                finished_at: None,
                exit_code: None,
                reason: String::new(),
                message: String::new(),
                process: None,
                files,
                logs: Vec::new(),
                hostname,
            }
            .into(),
        );
        Reply {
            result: Ok(id),
            steps,
        }
    }

    /// The kubelet writes a pod volume's files on the node (a projected
    /// volume's atomic writer swaps its `..data` link): the containers
    /// that mount it see the new files at once.
    pub fn write_volume(&mut self, pod_uid: &str, volume: &str, files: Files) {
        self.volumes
            .entry(pod_uid.to_string())
            .or_default()
            .insert(volume.to_string(), files);
        let Some(pod_volumes) = self.volumes.get(pod_uid) else {
            return;
        };
        let sandboxes: Vec<&String> = self
            .sandboxes
            .iter()
            .filter(|(_, sb)| sb.config.uid == pod_uid)
            .map(|(id, _)| id)
            .collect();
        for c in self
            .containers
            .values_mut()
            .filter(|c| sandboxes.contains(&&c.sandbox_id))
        {
            let c: &mut Ctr = c;
            project_mounts(&mut c.files, &c.spec, pod_volumes);
        }
    }

    /// The files of a pod's volume on the node, if written.
    pub fn volume(&self, pod_uid: &str, volume: &str) -> Option<&Files> {
        self.volumes.get(pod_uid)?.get(volume)
    }

    /// The kubelet removes a pod's volume directories (the pod is gone).
    pub fn remove_volumes(&mut self, pod_uid: &str) {
        self.volumes.remove(pod_uid);
    }

    /// `StartContainer`: `runc create` + `runc start`. A missing binary fails
    /// here (reason `StartError`, exit 128); otherwise the process runs from
    /// the returned time (`ContainerStarted`).
    pub fn start_container(&mut self, now: SimTime, container_id: &str) -> Reply<SimTime> {
        let Some(id) = self.find_container(container_id) else {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "container \"{container_id}\" not found"
                ))),
                steps: vec![],
            };
        };
        let Some(c) = self.containers.get_mut(&id) else {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "container \"{container_id}\" not found"
                ))),
                steps: vec![],
            };
        };
        if c.state != ContainerState::Created || c.starting.is_some() {
            return Reply {
                result: Err(CriError::FailedPrecondition(format!(
                    "container {} is in {} state",
                    short(&id),
                    c.state
                ))),
                steps: vec![],
            };
        }
        let mut steps = vec![
            step(
                now,
                Actor::Containerd,
                format!("StartContainer {} ({})", short(&id), c.name),
            ),
            step(
                now,
                Actor::Cgroup,
                format!(
                    "mkdir {} cpu.max={} memory.max={} cpu.weight={}",
                    c.cgroup,
                    c.limits.cpu_max,
                    c.limits.memory_max_text(),
                    c.limits.cpu_weight
                ),
            ),
        ];
        let ctx = c.ctx();
        match compile_main(&c.argv, &ctx) {
            Err(msg) => {
                steps.push(step(
                    now,
                    Actor::Runc,
                    format!("create {}: {msg}", short(&id)),
                ));
                c.state = ContainerState::Exited;
                c.finished_at = Some(now);
                c.exit_code = Some(128);
                c.reason = "StartError".into();
                let err = CriError::StartError(msg);
                c.message = err.to_string();
                Reply {
                    result: Err(err),
                    steps,
                }
            }
            Ok(_) => {
                let at = now + c.image.start_time;
                steps.push(step(
                    now,
                    Actor::Runc,
                    format!("create {} ({})", short(&id), c.argv.join(" ")),
                ));
                steps.push(step(now, Actor::Runc, format!("start {}", short(&id))));
                c.starting = Some(at);
                Reply {
                    result: Ok(at),
                    steps,
                }
            }
        }
    }

    /// `StopContainer`: SIGTERM, then SIGKILL after `timeout`. Returns when
    /// the container will have exited (`ContainerExited`).
    pub fn stop_container(
        &mut self,
        now: SimTime,
        container_id: &str,
        timeout: SimDuration,
    ) -> Reply<SimTime> {
        let Some(id) = self.find_container(container_id) else {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "container \"{container_id}\" not found"
                ))),
                steps: vec![],
            };
        };
        self.sync_container(&id, now);
        let mut steps = vec![step(
            now,
            Actor::Containerd,
            format!("StopContainer {} (timeout {timeout})", short(&id)),
        )];
        let Some(c) = self.containers.get_mut(&id) else {
            return Reply {
                result: Ok(now),
                steps,
            };
        };
        if let Some(at) = c.starting.take() {
            // Not started yet: it never runs.
            let _ = at;
            c.state = ContainerState::Exited;
            c.exit_code = Some(137);
            c.reason = "Error".into();
            c.finished_at = Some(now);
            steps.push(step(
                now,
                Actor::Runc,
                format!("kill {} SIGKILL", short(&id)),
            ));
            return Reply {
                result: Ok(now),
                steps,
            };
        }
        let Some(p) = c.process.as_mut().filter(|p| p.running()) else {
            return Reply {
                result: Ok(c.finished_at.unwrap_or(now)),
                steps,
            };
        };
        let sig = if timeout == SimDuration::ZERO {
            "SIGKILL"
        } else {
            "SIGTERM"
        };
        steps.push(step(now, Actor::Runc, format!("kill {} {sig}", short(&id))));
        let (at, _) = p.stop(now, timeout);
        Reply {
            result: Ok(at),
            steps,
        }
    }

    /// `RemoveContainer` (a running container must be stopped first).
    pub fn remove_container(&mut self, now: SimTime, container_id: &str) -> Reply<()> {
        let Some(id) = self.find_container(container_id) else {
            return Reply {
                result: Ok(()),
                steps: vec![],
            };
        };
        self.sync_container(&id, now);
        if self
            .containers
            .get(&id)
            .is_some_and(|c| c.state == ContainerState::Running)
        {
            return Reply {
                result: Err(CriError::FailedPrecondition(format!(
                    "container {} is running, stop it first",
                    short(&id)
                ))),
                steps: vec![],
            };
        }
        let mut steps = vec![step(
            now,
            Actor::Containerd,
            format!("RemoveContainer {}", short(&id)),
        )];
        if let Some(c) = self.containers.remove(&id) {
            steps.push(step(now, Actor::Runc, format!("delete {}", short(&id))));
            steps.push(step(now, Actor::Cgroup, format!("rmdir {}", c.cgroup)));
        }
        Reply {
            result: Ok(()),
            steps,
        }
    }

    /// The image a container runs, as the CRI's `ContainerStatus` names it
    /// for the kubelet: the reference, and the `image_ref`, the image's
    /// repository digest (`docker.io/library/nginx@sha256:...`), which the
    /// kubelet reports as the pod's `imageID` (`convertContainerStatus`).
    pub fn container_image(&self, container_id: &str) -> Option<(String, String)> {
        let id = self.find_container(container_id)?;
        self.containers
            .get(&id)
            .map(|c| (c.image.reference.to_string(), c.image.repo_digest.clone()))
    }

    /// The IDs of the pod sandboxes (`ListPodSandbox`'s, without their
    /// statuses).
    pub fn pod_sandbox_ids(&self) -> Vec<String> {
        self.sandboxes.keys().cloned().collect()
    }

    /// `ContainerStatus`.
    pub fn container_status(&self, container_id: &str) -> Result<ContainerStatus, CriError> {
        let id = self.find_container(container_id).ok_or_else(|| {
            CriError::NotFound(format!(
                "an error occurred when try to find container \"{container_id}\": not found"
            ))
        })?;
        self.containers
            .get(&id)
            .map(|c| container_status(&id, c))
            .ok_or_else(|| CriError::NotFound(format!("container {container_id} not found")))
    }

    /// The running containers of an image repository (`coredns/coredns`),
    /// each as its sandbox's (namespace, name, IP), without copying the
    /// rest of their status (what the cluster's DNS wiring asks after
    /// every kubelet action).
    pub fn running_with_image<'a>(
        &'a self,
        repository: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str, Option<&'a str>)> + 'a {
        self.containers
            .values()
            .filter(move |c| {
                c.state == ContainerState::Running && c.image.reference.path == repository
            })
            .filter_map(|c| {
                let sb = self.sandboxes.get(&c.sandbox_id)?;
                Some((
                    sb.config.namespace.as_str(),
                    sb.config.name.as_str(),
                    sb.config.ip.as_deref(),
                ))
            })
    }

    /// The ids of the running containers of an image repository
    /// (`kas-network-proxy/proxy-agent`), in id order: what the cluster's
    /// Konnectivity wiring asks after every kubelet action.
    pub fn running_ids_with_image<'a>(
        &'a self,
        repository: &'a str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.containers
            .iter()
            .filter(move |(_, c)| {
                c.state == ContainerState::Running && c.image.reference.path == repository
            })
            .map(|(id, _)| id.as_str())
    }

    /// A line a running container's process wrote that the cluster, not the
    /// image's program, simulates (a konnectivity-agent's klog lines about
    /// its tunnels). Ignored for a container that is not running.
    pub fn append_log(&mut self, container_id: &str, at: SimTime, stream: Stream, text: String) {
        let Some(id) = self.find_container(container_id) else {
            return;
        };
        if let Some(c) = self.containers.get_mut(&id) {
            if c.state == ContainerState::Running && c.logs.len() < LOG_LINES {
                c.logs.push(LogLine { at, stream, text });
            }
        }
    }

    /// `ListContainers`, optionally of one sandbox (`crictl ps -a`).
    /// How many containers exist and how many of them run (the diagram's
    /// runc chip, without building every container's status).
    pub fn container_counts(&self) -> (usize, usize) {
        let running = self
            .containers
            .values()
            .filter(|c| c.state == ContainerState::Running)
            .count();
        (self.containers.len(), running)
    }

    /// How many pod sandboxes and images the runtime holds (the diagram's
    /// containerd chip).
    pub fn sandbox_and_image_counts(&self) -> (usize, usize) {
        (self.sandboxes.len(), self.images.len())
    }

    pub fn list_containers(&self, sandbox_id: Option<&str>) -> Vec<ContainerStatus> {
        let sid = sandbox_id.map(|s| self.find_sandbox(s).unwrap_or_else(|| s.to_string()));
        self.containers
            .iter()
            .filter(|(_, c)| sid.as_ref().is_none_or(|s| c.sandbox_id == *s))
            .map(|(id, c)| container_status(id, c))
            .collect()
    }

    /// The output lines so far (`crictl logs`, `kubectl logs`).
    pub fn logs(&self, container_id: &str) -> Result<Vec<LogLine>, CriError> {
        let id = self
            .find_container(container_id)
            .ok_or_else(|| CriError::NotFound(format!("container \"{container_id}\" not found")))?;
        Ok(self
            .containers
            .get(&id)
            .map(|c| c.logs.clone())
            .unwrap_or_default())
    }

    /// The cgroup files of every pod and container (`memory.current` at `now`).
    pub fn cgroups(&self, now: SimTime) -> Vec<CgroupView> {
        let mut out = Vec::new();
        for (sid, sb) in &self.sandboxes {
            let mut pod_mem = if sb.state == SandboxState::Ready {
                PAUSE_MEMORY
            } else {
                0
            };
            let mut ctrs = Vec::new();
            for (id, c) in self.containers.iter().filter(|(_, c)| c.sandbox_id == *sid) {
                let mem = c
                    .process
                    .as_ref()
                    .filter(|p| p.running())
                    .map(|p| {
                        let m = p.memory.at(now);
                        c.limits.memory_max.map_or(m, |l| m.min(l))
                    })
                    .unwrap_or(0);
                pod_mem = pod_mem.saturating_add(mem);
                ctrs.push(CgroupView {
                    path: c.cgroup.clone(),
                    container_id: Some(id.clone()),
                    cpu_max: c.limits.cpu_max.clone(),
                    memory_max: c.limits.memory_max_text(),
                    memory_current: mem,
                    cpu_weight: c.limits.cpu_weight,
                });
            }
            out.push(CgroupView {
                path: sb.slice.clone(),
                container_id: None,
                cpu_max: sb.config.limits.cpu_max.clone(),
                memory_max: sb.config.limits.memory_max_text(),
                memory_current: pod_mem,
                cpu_weight: sb.config.limits.cpu_weight,
            });
            out.extend(ctrs);
        }
        out
    }

    // ---- time ----

    /// Brings one container's process up to `now`, queueing its exit.
    fn sync_container(&mut self, id: &str, now: SimTime) {
        let Some(c) = self.containers.get_mut(id) else {
            return;
        };
        if sync_may_change(c, now) {
            sync_one(id, c, now, &mut self.queued);
        }
    }

    /// Completes what is due at or before `now` and reports it, oldest first.
    pub fn advance(&mut self, now: SimTime) -> Vec<RuntimeEvent> {
        let due: Vec<String> = self
            .pulls
            .iter()
            .filter(|(_, p)| p.done_at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(p) = self.pulls.remove(&key) else {
                continue;
            };
            let event = match p.info {
                Some(info) => {
                    let took = p.done_at.saturating_since(p.started);
                    let e = RuntimeEvent {
                        at: p.done_at,
                        kind: EventKind::PullDone {
                            image: key.clone(),
                            image_id: info.id.clone(),
                            size_bytes: info.size_bytes,
                            took,
                        },
                        steps: vec![step(
                            p.done_at,
                            Actor::Containerd,
                            format!("pulled {key} ({}) in {took}", mb(info.size_bytes)),
                        )],
                    };
                    self.images.insert(key.clone(), info);
                    e
                }
                None => {
                    let message = format!(
                        "rpc error: code = NotFound desc = failed to pull and unpack image \"{key}\": failed to resolve reference \"{key}\": {}: not found",
                        p.image
                    );
                    RuntimeEvent {
                        at: p.done_at,
                        kind: EventKind::PullFailed {
                            image: key.clone(),
                            reason: "ErrImagePull".into(),
                            message: message.clone(),
                        },
                        steps: vec![step(
                            p.done_at,
                            Actor::Containerd,
                            format!("PullImage {key} failed: not found"),
                        )],
                    }
                }
            };
            self.queued.push(event);
        }
        for (id, c) in self.containers.iter_mut() {
            if sync_may_change(c, now) {
                sync_one(id, c, now, &mut self.queued);
            }
        }
        let mut events = std::mem::take(&mut self.queued);
        events.sort_by_key(|e| e.at);
        events
    }

    /// When [`Containerd::advance`] next has something to do.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let queued = self.queued.iter().map(|e| e.at).min();
        let pulls = self.pulls.values().map(|p| p.done_at).min();
        let ctrs = self
            .containers
            .values()
            .filter_map(|c| {
                c.starting.or_else(|| {
                    c.process
                        .as_ref()
                        .and_then(|p| p.next_wakeup(c.limits.memory_max))
                })
            })
            .min();
        [queued, pulls, ctrs].into_iter().flatten().min()
    }

    // ---- behaviour: exec, HTTP, probes ----

    /// `ExecSync`: runs a command in a running container, up to `timeout`.
    pub fn exec_sync(
        &mut self,
        now: SimTime,
        container_id: &str,
        argv: &[String],
        timeout: SimDuration,
    ) -> Reply<ExecOutcome> {
        let Some(id) = self.find_container(container_id) else {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "container \"{container_id}\" not found"
                ))),
                steps: vec![],
            };
        };
        self.sync_container(&id, now);
        let Some(c) = self.containers.get_mut(&id).map(|c| &mut **c) else {
            return Reply {
                result: Err(CriError::NotFound(format!(
                    "container \"{container_id}\" not found"
                ))),
                steps: vec![],
            };
        };
        let steps = vec![step(
            now,
            Actor::Containerd,
            format!("ExecSync {} {:?}", short(&id), argv.join(" ")),
        )];
        let Some(p) = c.process.as_mut().filter(|p| p.running()) else {
            return Reply {
                result: Err(CriError::FailedPrecondition(format!(
                    "container {} is not running",
                    short(&id)
                ))),
                steps,
            };
        };
        let Some(argv0) = argv.first() else {
            return Reply {
                result: Err(CriError::ExecFailed("exec: no command".into())),
                steps,
            };
        };
        if !has_binary(&c.image, argv0) {
            return Reply {
                result: Err(CriError::ExecFailed(not_found_message(argv0))),
                steps,
            };
        }
        let ctx = Ctx {
            image: &c.image,
            hostname: &c.hostname,
            env: &c.env,
            files: &c.files,
        };
        let program = compile_exec(argv, &ctx);
        let mut out = Vec::new();
        let mut memory = Memory::default();
        let mut machine = Machine::new(program, now);
        // An exec sees the main process's ports but opens none of its own.
        let mut listeners = p.listeners.clone();
        let halt = {
            let mut fx = Fx {
                files: &mut c.files,
                out: &mut out,
                listeners: &mut listeners,
                memory: &mut memory,
                hostname: &c.hostname,
                exec: true,
                started_at: p.started_at,
            };
            machine.run(now + timeout, &mut fx)
        };
        let stdout = join(&out, Stream::Stdout);
        let outcome = match halt {
            Halt::Exited(code) => ExecOutcome::Done {
                exit_code: code,
                stdout,
                stderr: join(&out, Stream::Stderr),
                took: machine.cursor.saturating_since(now),
            },
            Halt::Cluster(request) => ExecOutcome::NeedsCluster { request, stdout },
            Halt::Pending | Halt::Forever => ExecOutcome::TimedOut { stdout },
        };
        Reply {
            result: Ok(outcome),
            steps,
        }
    }

    /// An HTTP GET to a container's port, from `client` (an IP).
    pub fn http_get(
        &mut self,
        now: SimTime,
        container_id: &str,
        port: u16,
        path: &str,
        client: &str,
    ) -> HttpOutcome {
        self.http_request(now, container_id, port, path, client, "curl/8.5.0")
    }

    fn http_request(
        &mut self,
        now: SimTime,
        container_id: &str,
        port: u16,
        path: &str,
        client: &str,
        agent: &str,
    ) -> HttpOutcome {
        let Some(id) = self.find_container(container_id) else {
            return HttpOutcome::Refused;
        };
        self.sync_container(&id, now);
        let Some(c) = self.containers.get_mut(&id).map(|c| &mut **c) else {
            return HttpOutcome::Refused;
        };
        let Some(p) = c.process.as_ref() else {
            return HttpOutcome::Refused;
        };
        let Some(l) = p.listener(port, now) else {
            return HttpOutcome::Refused;
        };
        let path = if path.is_empty() { "/" } else { path };
        match &l.app {
            App::Http(app) => {
                let (status, body) = handle_http(
                    app,
                    path,
                    &HttpCtx {
                        hostname: &c.hostname,
                        client,
                        started_at: p.started_at,
                        now,
                        files: &c.files,
                    },
                );
                if matches!(app, HttpApp::Nginx(_) | HttpApp::Httpd) && c.logs.len() < LOG_LINES * 2 {
                    let text = if matches!(app, HttpApp::Nginx(_)) {
                        format!(
                            "{client} - - [{}] \"GET {path} HTTP/1.1\" {status} {} \"-\" \"{agent}\" \"-\"",
                            format_date(now, DateStyle::Clf),
                            body.len()
                        )
                    } else {
                        format!(
                            "{client} - - [{}] \"GET {path} HTTP/1.1\" {status} {}",
                            format_date(now, DateStyle::Clf),
                            body.len()
                        )
                    };
                    c.logs.push(LogLine {
                        at: now,
                        stream: Stream::Stdout,
                        text,
                    });
                }
                HttpOutcome::Response { status, body }
            }
            App::Tcp(what) => HttpOutcome::NotHttp(format!(
                "net/http: HTTP/1.x transport connection broken: malformed HTTP response (a {what} server)"
            )),
            App::Grpc => HttpOutcome::NotHttp(
                "net/http: HTTP/1.x transport connection broken: malformed HTTP response (a gRPC server)".into(),
            ),
        }
    }

    /// Runs a probe as the kubelet's prober would, by the image's behaviour.
    pub fn probe(&mut self, now: SimTime, container_id: &str, probe: &Probe) -> ProbeResult {
        let Some(id) = self.find_container(container_id) else {
            return ProbeResult::Failure(format!("container {container_id} not found"));
        };
        self.sync_container(&id, now);
        let Some(c) = self.containers.get(&id) else {
            return ProbeResult::Failure(format!("container {container_id} not found"));
        };
        if c.state != ContainerState::Running {
            return ProbeResult::Failure("container is not running".into());
        }
        let ip = self
            .sandboxes
            .get(&c.sandbox_id)
            .and_then(|s| s.config.ip.clone())
            .unwrap_or_else(|| "127.0.0.1".into());
        let timeout =
            SimDuration::from_secs(probe.timeout_seconds.unwrap_or(1).clamp(1, 3600) as u64);
        let resolve = |port: &IntOrString| -> Result<u16, String> {
            match port {
                IntOrString::Int(n) => {
                    u16::try_from(*n).map_err(|_| format!("invalid port number: {n}"))
                }
                IntOrString::String(name) => c
                    .spec
                    .ports
                    .iter()
                    .flatten()
                    .find(|p| p.name.as_deref() == Some(name.as_str()))
                    .and_then(|p| u16::try_from(p.container_port).ok())
                    .ok_or_else(|| format!("couldn't find port: {name} in {}", c.name)),
            }
        };
        if let Some(exec) = &probe.exec {
            let argv = exec.command.clone().unwrap_or_default();
            let r = self.exec_sync(now, &id, &argv, timeout);
            return match r.result {
                Ok(ExecOutcome::Done { exit_code: 0, .. }) => ProbeResult::Success,
                Ok(ExecOutcome::Done { stdout, stderr, .. }) => ProbeResult::Failure(format!(
                    "{stdout}{}{stderr}",
                    if stdout.is_empty() || stderr.is_empty() {
                        ""
                    } else {
                        "\n"
                    }
                )),
                Ok(ExecOutcome::TimedOut { .. }) => {
                    ProbeResult::Failure(format!("command \"{}\" timed out", argv.join(" ")))
                }
                Ok(ExecOutcome::NeedsCluster { request, .. }) => ProbeResult::NeedsCluster(request),
                Err(e) => ProbeResult::Failure(e.to_string()),
            };
        }
        if let Some(h) = &probe.http_get {
            let port = match resolve(&h.port) {
                Ok(p) => p,
                Err(e) => return ProbeResult::Failure(e),
            };
            let path = h.path.clone().unwrap_or_else(|| "/".into());
            let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
            let ua = "kube-probe/1.37";
            return match self.http_request(now, &id, port, &path, &ip, ua) {
                HttpOutcome::Response { status, .. } if (200..400).contains(&status) => ProbeResult::Success,
                HttpOutcome::Response { status, .. } => {
                    ProbeResult::Failure(format!("HTTP probe failed with statuscode: {status}"))
                }
                HttpOutcome::Refused => ProbeResult::Failure(format!(
                    "Get \"{scheme}://{ip}:{port}{path}\": dial tcp {ip}:{port}: connect: connection refused"
                )),
                HttpOutcome::NotHttp(m) => ProbeResult::Failure(format!("Get \"{scheme}://{ip}:{port}{path}\": {m}")),
            };
        }
        if let Some(t) = &probe.tcp_socket {
            let port = match resolve(&t.port) {
                Ok(p) => p,
                Err(e) => return ProbeResult::Failure(e),
            };
            let open = c
                .process
                .as_ref()
                .and_then(|p| p.listener(port, now))
                .is_some();
            return if open {
                ProbeResult::Success
            } else {
                ProbeResult::Failure(format!("dial tcp {ip}:{port}: connect: connection refused"))
            };
        }
        if let Some(g) = &probe.grpc {
            let port = u16::try_from(g.port).unwrap_or(0);
            return match c.process.as_ref().and_then(|p| p.listener(port, now)).map(|l| &l.app) {
                Some(App::Grpc) => ProbeResult::Success,
                Some(_) => ProbeResult::Failure(format!(
                    "rpc error: code = Unimplemented desc = unknown service grpc.health.v1.Health (port {port})"
                )),
                None => ProbeResult::Failure(format!(
                    "timeout: failed to connect service \"{ip}:{port}\" within {timeout}: context deadline exceeded"
                )),
            };
        }
        ProbeResult::Failure("probe has no handler".into())
    }
}

fn join(lines: &[LogLine], stream: Stream) -> String {
    let mut s = String::new();
    for l in lines.iter().filter(|l| l.stream == stream) {
        s.push_str(&l.text);
        s.push('\n');
    }
    s
}

fn sandbox_status(id: &str, s: &Sandbox) -> SandboxStatus {
    SandboxStatus {
        id: id.to_string(),
        name: s.config.name.clone(),
        namespace: s.config.namespace.clone(),
        uid: s.config.uid.clone(),
        attempt: s.config.attempt,
        state: s.state,
        created_at: s.created_at,
        ip: s.config.ip.clone(),
        qos: s.config.qos,
        cgroup_parent: s.slice.clone(),
    }
}

fn container_status(id: &str, c: &Ctr) -> ContainerStatus {
    ContainerStatus {
        id: id.to_string(),
        sandbox_id: c.sandbox_id.clone(),
        name: c.name.clone(),
        attempt: c.attempt,
        image: c.image.reference.to_string(),
        image_id: c.image.id.clone(),
        state: c.state,
        created_at: c.created_at,
        started_at: c.started_at,
        finished_at: c.finished_at,
        exit_code: c.exit_code,
        reason: c.reason.clone(),
        message: c.message.clone(),
        cgroup: c.cgroup.clone(),
    }
}

#[cfg(test)]
mod tests;

/// Puts a pod's volumes at the container's `volumeMounts`: every file of a
/// mounted volume appears under the mount path, replacing what was there.
fn project_mounts(files: &mut Files, spec: &Container, volumes: &BTreeMap<String, Files>) {
    for m in spec.volume_mounts.iter().flatten() {
        let Some(volume) = volumes.get(&m.name) else {
            continue;
        };
        let root = m.mount_path.trim_end_matches('/');
        let prefix = format!("{root}/");
        files.retain(|path, _| !path.starts_with(&prefix));
        for (path, content) in volume {
            files.insert(format!("{prefix}{path}"), content.clone());
        }
    }
}
