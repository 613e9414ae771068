//! The simulated image catalog: what a registry would serve to containerd.
//!
//! In Kubernetes a container image is named by a reference
//! (`nginx:1.14.2`), which containerd normalizes (`docker.io/library/nginx:1.14.2`,
//! as `reference.ParseNormalizedNamed` in distribution/reference does) and
//! pulls from a registry, layer by layer. The image brings an entrypoint and a
//! default command, the binaries on its `$PATH` and, in the end, what the
//! process does. Here an image is a catalog entry: a size near the real
//! compressed size (what `crictl images` shows), a start time, the binaries it
//! ships and a [`ImageKind`] that [`crate::runtime`] turns into behaviour.
//!
//! Images in the catalog (any other reference fails to pull):
//! - `nginx` (`latest`, `1.14.2`, `1.16.1`, `1.25`, `1.27`): serves HTTP on 80
//!   (`Welcome to nginx!` from `/usr/share/nginx/html/index.html`), runs forever.
//! - `httpd` (`latest`, `2.4`): serves HTTP on 80 (`It works!`).
//! - `redis` (`latest`, `7`, `5.0.4`): serves Redis on 6379 (TCP, not HTTP).
//! - `busybox` (`latest`, `1.28`, `1.36`), `registry.k8s.io/busybox`: runs its
//!   command; with none, `sh` reads an empty stdin and exits 0.
//! - `perl` (`latest`, `5.34.0`): `perl -Mbignum=bpi -wle 'print bpi(2000)'`
//!   (the docs' `pi` Job) computes for ~10 s, prints pi and exits 0.
//! - `registry.k8s.io/e2e-test-images/agnhost` (`2.39`, `2.40`, `2.47`, `2.52`,
//!   `2.53`): subcommands `netexec --http-port=8080`, `serve-hostname`
//!   (9376), `liveness` (8080, `/healthz` 200 for 10 s then 500, as the
//!   docs' liveness example), `test-webserver` (80), `pause`.
//! - `registry.k8s.io/pause` (`3.9`, `3.10`): the sandbox image; sleeps forever.
//! - `polinux/stress`: `stress --vm 1 --vm-bytes 150M --vm-hang 1` allocates
//!   the bytes in about a second (the docs' memory-limit example).
//! - `gcr.io/google-samples/hello-app` (`1.0`, `2.0`): serves 8080.
//! - `registry.k8s.io/nginx-slim` (`0.24`, `0.21`, `0.8`, `0.7`): nginx, as
//!   the StatefulSet docs' `web` example runs it.
//! - `quay.io/fluentd_elasticsearch/fluentd` (`v2.5.2`, `v4.7.2`): the
//!   DaemonSet docs' log shipper; starts and runs forever.
//! - control-plane images (`registry.k8s.io/kube-apiserver`, `etcd`,
//!   `kube-scheduler`, `kube-controller-manager`, `kube-proxy`,
//!   `coredns/coredns`, `kas-network-proxy/proxy-server` and `proxy-agent`
//!   (`v0.*`, Konnectivity)): serve their health ports, for static pods' probes.
//! - kubesim behaviour images (`docker.io/kubesim/...`), the tag is the knob:
//!   - `kubesim/crash:after-10s` runs, then exits 1 after the given time
//!     (`latest` = 10 s), serving HTTP on 8080 meanwhile;
//!   - `kubesim/leak:50Mi-per-s` grows memory at that rate until memory.max
//!     kills it (`latest` = 10Mi per second), serving 8080;
//!   - `kubesim/slow-start:30s` listens on 8080 only after that time
//!     (`latest` = 30 s);
//!   - `kubesim/unready` serves 8080 with `/healthz` 200 and 503 for every
//!     other path, so an httpGet readiness probe fails while liveness passes;
//!   - `kubesim/exit:3` prints a line and exits at once with that code
//!     (`latest` = 1).
//!
//! Left out: registries, authentication and pull secrets, manifests lists
//! and platforms, layer sharing between images (every pull moves the whole
//! size), digests that match the real ones (they are derived from the name).

use crate::world::SimDuration;
use std::fmt;

/// The registry containerd assumes for a name without one.
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// The sandbox ("pause") image containerd's CRI plugin uses (containerd 2.x).
pub const SANDBOX_IMAGE: &str = "registry.k8s.io/pause:3.10";

/// A malformed image reference (kubelet reports `InvalidImageName`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("couldn't parse image name {input:?}: invalid reference format{detail}")]
pub struct ReferenceError {
    pub input: String,
    detail: String,
}

/// A normalized image reference: `docker.io/library/nginx:1.14.2`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef {
    /// `docker.io`, `registry.k8s.io`, ...
    pub domain: String,
    /// `library/nginx`, `e2e-test-images/agnhost`, ...
    pub path: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:<hex>` when pinned by digest.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses and normalizes a reference as containerd does
    /// (`reference.ParseNormalizedNamed` + `TagNameOnly`).
    pub fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
        let err = |detail: &str| ReferenceError {
            input: input.to_string(),
            detail: detail.to_string(),
        };
        if input.is_empty() || input.len() > 255 || input.trim() != input {
            return Err(err(""));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => {
                let hex = d.strip_prefix("sha256:").ok_or_else(|| err(""))?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err(""));
                }
                (r, Some(d.to_string()))
            }
            None => (input, None),
        };
        // The tag is after the last ':' that follows the last '/'.
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err(err(""));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        };
        if domain.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(err(""));
        }
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        for component in path.split('/') {
            if !valid_component(component) {
                if component.chars().any(|c| c.is_ascii_uppercase()) {
                    return Err(err(&format!(
                        ": repository name ({path}) must be lowercase"
                    )));
                }
                return Err(err(""));
            }
        }
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        Ok(ImageRef {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `docker.io/library/nginx` (no tag).
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The tag, or `latest`.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_component(c: &str) -> bool {
    if c.is_empty() {
        return false;
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// What a kubesim behaviour image does (the tag is the parameter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves 8080, exits 1 after this long.
    CrashAfter(SimDuration),
    /// Serves 8080, memory grows by this many bytes per second.
    Leak(u64),
    /// Listens on 8080 only after this long.
    SlowStart(SimDuration),
    /// Serves 8080 with 503 everywhere but `/healthz`.
    Unready,
    /// Exits at once with this code.
    Exit(i32),
}

/// The kind of software an image holds, which decides its behaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Nginx,
    Httpd,
    Redis,
    Busybox,
    Perl,
    Agnhost,
    Pause,
    Stress,
    HelloApp,
    Fluentd,
    /// A control-plane component (`kube-apiserver`, `etcd`, `coredns`, ...).
    Component(&'static str),
    Kubesim(Behaviour),
}

/// A resolved catalog entry for one reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub reference: ImageRef,
    /// Compressed size in bytes, as `crictl images` and `node.status.images` report.
    pub size_bytes: u64,
    /// `sha256:<hex>`: the image id (config digest).
    pub id: String,
    /// `docker.io/library/nginx@sha256:<hex>`.
    pub repo_digest: String,
    pub kind: ImageKind,
    /// How long `runc start` takes to have the process running.
    pub start_time: SimDuration,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Binary names on `$PATH` (or at `/`); anything else is not found.
    pub binaries: &'static [&'static str],
    /// Environment from the image config.
    pub env: Vec<(String, String)>,
    /// Resident memory of the main process when idle, in bytes.
    pub base_memory: u64,
}

const MB: u64 = 1_000_000;
const MI: u64 = 1024 * 1024;

const NGINX_BINS: &[&str] = &[
    "nginx",
    "docker-entrypoint.sh",
    "sh",
    "bash",
    "echo",
    "sleep",
    "cat",
    "ls",
    "env",
    "hostname",
    "true",
    "false",
    "touch",
    "rm",
    "mkdir",
    "date",
    "pwd",
    "whoami",
    "id",
    "printf",
    "test",
    "[",
    "curl",
];
const HTTPD_BINS: &[&str] = &[
    "httpd",
    "httpd-foreground",
    "apachectl",
    "sh",
    "bash",
    "echo",
    "sleep",
    "cat",
    "ls",
    "env",
    "hostname",
    "true",
    "false",
    "touch",
    "rm",
    "mkdir",
    "date",
    "pwd",
    "whoami",
    "id",
    "printf",
];
const REDIS_BINS: &[&str] = &[
    "redis-server",
    "redis-cli",
    "docker-entrypoint.sh",
    "sh",
    "bash",
    "echo",
    "sleep",
    "cat",
    "ls",
    "env",
    "hostname",
    "true",
    "false",
    "touch",
    "rm",
    "mkdir",
    "date",
    "pwd",
    "whoami",
];
const FLUENTD_BINS: &[&str] = &[
    "fluentd",
    "entrypoint.sh",
    "ruby",
    "sh",
    "bash",
    "echo",
    "sleep",
    "cat",
    "ls",
    "env",
    "hostname",
    "true",
    "false",
    "date",
];
const PERL_BINS: &[&str] = &[
    "perl", "sh", "bash", "echo", "sleep", "cat", "ls", "env", "hostname", "true", "false",
    "touch", "rm", "mkdir", "date", "pwd", "whoami", "id", "printf", "curl", "wget",
];
const BUSYBOX_BINS: &[&str] = &[
    "sh", "ash", "echo", "sleep", "cat", "ls", "env", "hostname", "true", "false", "touch", "rm",
    "mkdir", "date", "pwd", "whoami", "id", "printf", "test", "[", "wget", "nslookup", "ping",
    "ps", "head", "tail", "uname",
];
const AGNHOST_BINS: &[&str] = &[
    "agnhost", "sh", "ash", "echo", "sleep", "cat", "ls", "env", "hostname", "true", "false",
    "touch", "rm", "mkdir", "date", "pwd", "printf", "nslookup", "curl", "wget", "dig",
];
const STRESS_BINS: &[&str] = &[
    "stress", "sh", "ash", "echo", "sleep", "cat", "ls", "env", "hostname", "true", "false",
];
const KUBESIM_BINS: &[&str] = &[
    "kubesim", "sh", "ash", "echo", "sleep", "cat", "ls", "env", "hostname", "true", "false",
    "touch", "rm", "mkdir", "date", "pwd", "printf", "wget", "nslookup",
];

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A stable fake digest for a name (FNV-1a, widened to 256 bits).
pub fn fake_digest(seed: &str) -> String {
    let mut out = String::with_capacity(64);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..4u8 {
        for b in seed.bytes().chain(std::iter::once(round)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Looks an image up in the catalog; `None` means the registry has no such
/// repository or tag.
pub fn lookup(r: &ImageRef) -> Option<ImageInfo> {
    let tag = r.tag_or_latest();
    let repo = r.repository();
    let pick = |tags: &[(&str, u64)]| -> Option<u64> {
        if r.tag.is_none() {
            // Pinned by digest only: any digest of a known repository.
            return tags.first().map(|t| t.1);
        }
        tags.iter().find(|(t, _)| *t == tag).map(|t| t.1)
    };
    let kube_version = tag.starts_with("v1.");
    let (kind, size, start_ms, entrypoint, cmd, bins, env, mem): Entry = match repo.as_str() {
        "docker.io/library/nginx" => {
            let size = pick(&[
                ("latest", 72_200_000),
                ("1.27", 72_100_000),
                ("1.25", 70_500_000),
                ("1.16.1", 51_000_000),
                ("1.14.2", 44_700_000),
                ("alpine", 20_500_000),
            ])?;
            (
                ImageKind::Nginx,
                size,
                200,
                s(&["/docker-entrypoint.sh"]),
                s(&["nginx", "-g", "daemon off;"]),
                NGINX_BINS,
                vec![("NGINX_VERSION", nginx_version(tag))],
                4 * MI,
            )
        }
        // The image of the StatefulSet docs' `web` example.
        "registry.k8s.io/nginx-slim" => (
            ImageKind::Nginx,
            pick(&[
                ("0.24", 21_600_000),
                ("0.21", 21_400_000),
                ("0.8", 51_200_000),
                ("0.7", 51_100_000),
            ])?,
            150,
            vec![],
            s(&["nginx", "-g", "daemon off;"]),
            NGINX_BINS,
            vec![],
            3 * MI,
        ),
        // The log shipper of the DaemonSet docs' example: runs forever.
        "quay.io/fluentd_elasticsearch/fluentd" => (
            ImageKind::Fluentd,
            pick(&[("v2.5.2", 139_400_000), ("v4.7.2", 152_000_000)])?,
            400,
            s(&["/entrypoint.sh"]),
            s(&["fluentd"]),
            FLUENTD_BINS,
            vec![],
            60 * MI,
        ),
        "docker.io/library/httpd" => (
            ImageKind::Httpd,
            pick(&[("latest", 58_200_000), ("2.4", 58_200_000)])?,
            200,
            vec![],
            s(&["httpd-foreground"]),
            HTTPD_BINS,
            vec![("HTTPD_PREFIX", "/usr/local/apache2")],
            6 * MI,
        ),
        "docker.io/library/redis" => (
            ImageKind::Redis,
            pick(&[
                ("latest", 45_300_000),
                ("7", 45_300_000),
                ("5.0.4", 34_500_000),
            ])?,
            250,
            s(&["docker-entrypoint.sh"]),
            s(&["redis-server"]),
            REDIS_BINS,
            vec![],
            3 * MI,
        ),
        "docker.io/library/busybox" | "registry.k8s.io/busybox" => (
            ImageKind::Busybox,
            if repo.starts_with("registry.k8s.io") {
                pick(&[("latest", 1_140_000)])?
            } else {
                pick(&[
                    ("latest", 2_160_000),
                    ("1.36", 2_160_000),
                    ("1.28", 728_000),
                ])?
            },
            100,
            vec![],
            s(&["sh"]),
            BUSYBOX_BINS,
            vec![],
            MI / 2,
        ),
        "docker.io/library/perl" => (
            ImageKind::Perl,
            pick(&[
                ("latest", 343_000_000),
                ("5.34.0", 336_400_000),
                ("5.34", 336_400_000),
            ])?,
            300,
            vec![],
            s(&["perl", "-de0"]),
            PERL_BINS,
            vec![("PERL_VERSION", "5.34.0")],
            8 * MI,
        ),
        "registry.k8s.io/e2e-test-images/agnhost" => (
            ImageKind::Agnhost,
            pick(&[
                ("2.39", 51_500_000),
                ("2.40", 51_600_000),
                ("2.47", 53_900_000),
                ("2.52", 56_300_000),
                ("2.53", 56_400_000),
            ])?,
            150,
            s(&["/agnhost"]),
            vec![],
            AGNHOST_BINS,
            vec![],
            6 * MI,
        ),
        "registry.k8s.io/pause" => (
            ImageKind::Pause,
            pick(&[("3.10", 320_368), ("3.9", 321_520), ("latest", 320_368)])?,
            50,
            s(&["/pause"]),
            vec![],
            &["pause"],
            vec![],
            300 * 1024,
        ),
        "docker.io/polinux/stress" => (
            ImageKind::Stress,
            pick(&[("latest", 4_040_000)])?,
            100,
            vec![],
            s(&["stress", "--help"]),
            STRESS_BINS,
            vec![],
            MI,
        ),
        "gcr.io/google-samples/hello-app" => (
            ImageKind::HelloApp,
            pick(&[("1.0", 11_000_000), ("2.0", 11_000_000)])?,
            100,
            s(&["/hello-app"]),
            vec![],
            &["hello-app"],
            vec![("PORT", "8080")],
            5 * MI,
        ),
        "registry.k8s.io/kube-apiserver" if kube_version => component("kube-apiserver", 28 * MB),
        "registry.k8s.io/kube-controller-manager" if kube_version => {
            component("kube-controller-manager", 26 * MB)
        }
        "registry.k8s.io/kube-scheduler" if kube_version => component("kube-scheduler", 20 * MB),
        "registry.k8s.io/kube-proxy" if kube_version => component("kube-proxy", 30 * MB),
        "registry.k8s.io/etcd" if tag.starts_with('3') => component("etcd", 58 * MB),
        "registry.k8s.io/coredns/coredns" if tag.starts_with("v1.") => {
            component("coredns", 18 * MB)
        }
        "registry.k8s.io/kas-network-proxy/proxy-server" if tag.starts_with("v0.") => {
            component("proxy-server", 10 * MB)
        }
        "registry.k8s.io/kas-network-proxy/proxy-agent" if tag.starts_with("v0.") => {
            component("proxy-agent", 9 * MB)
        }
        _ if r.domain == DEFAULT_DOMAIN && r.path.starts_with("kubesim/") => {
            let behaviour = kubesim_behaviour(&r.path["kubesim/".len()..], tag)?;
            (
                ImageKind::Kubesim(behaviour),
                5_200_000,
                100,
                s(&["/kubesim"]),
                vec![],
                KUBESIM_BINS,
                vec![],
                5 * MI,
            )
        }
        _ => return None,
    };
    let id = format!("sha256:{}", fake_digest(&format!("config {r}")));
    let repo_digest = format!(
        "{}@sha256:{}",
        repo,
        match &r.digest {
            Some(d) => d.trim_start_matches("sha256:").to_string(),
            None => fake_digest(&format!("manifest {r}")),
        }
    );
    Some(ImageInfo {
        reference: r.clone(),
        size_bytes: size,
        id,
        repo_digest,
        kind,
        start_time: SimDuration::from_millis(start_ms),
        entrypoint,
        cmd,
        binaries: bins,
        env: env
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        base_memory: mem,
    })
}

type Entry = (
    ImageKind,
    u64,
    u64,
    Vec<String>,
    Vec<String>,
    &'static [&'static str],
    Vec<(&'static str, &'static str)>,
    u64,
);

fn component(name: &'static str, size: u64) -> Entry {
    let bins: &'static [&'static str] = match name {
        "kube-apiserver" => &["kube-apiserver"],
        "kube-controller-manager" => &["kube-controller-manager"],
        "kube-scheduler" => &["kube-scheduler"],
        "kube-proxy" => &["kube-proxy", "iptables", "sh", "echo", "cat", "ls"],
        "etcd" => &["etcd", "etcdctl", "etcdutl"],
        "proxy-server" => &["proxy-server"],
        "proxy-agent" => &["proxy-agent"],
        _ => &["coredns"],
    };
    let entrypoint = if name == "coredns" {
        s(&["/coredns"])
    } else {
        vec![]
    };
    (
        ImageKind::Component(name),
        size,
        300,
        entrypoint,
        vec![],
        bins,
        vec![],
        30 * MI,
    )
}

fn nginx_version(tag: &str) -> &'static str {
    match tag {
        "1.14.2" => "1.14.2",
        "1.16.1" => "1.16.1",
        "1.25" => "1.25.5",
        _ => "1.27.3",
    }
}

fn kubesim_behaviour(name: &str, tag: &str) -> Option<Behaviour> {
    let latest = tag == "latest";
    match name {
        "crash" => {
            let d = if latest {
                SimDuration::from_secs(10)
            } else {
                SimDuration::parse(tag.strip_prefix("after-")?).ok()?
            };
            Some(Behaviour::CrashAfter(d))
        }
        "leak" => {
            let rate = if latest {
                10 * MI
            } else {
                let q = crate::api::quantity::Quantity::parse(tag.strip_suffix("-per-s")?).ok()?;
                u64::try_from(q.value()).ok().filter(|v| *v > 0)?
            };
            Some(Behaviour::Leak(rate))
        }
        "slow-start" => {
            let d = if latest {
                SimDuration::from_secs(30)
            } else {
                SimDuration::parse(tag).ok()?
            };
            Some(Behaviour::SlowStart(d))
        }
        "unready" if latest => Some(Behaviour::Unready),
        "exit" => {
            let code = if latest { 1 } else { tag.parse().ok()? };
            (0..=255).contains(&code).then_some(Behaviour::Exit(code))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> String {
        ImageRef::parse(s)
            .map(|r| r.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn a_bare_name_normalizes_to_docker_hub_library_latest() {
        assert_eq!(parse("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(parse("nginx:1.14.2"), "docker.io/library/nginx:1.14.2");
        assert_eq!(parse("polinux/stress"), "docker.io/polinux/stress:latest");
    }

    #[test]
    fn a_name_with_a_registry_keeps_its_domain() {
        assert_eq!(
            parse("registry.k8s.io/pause:3.10"),
            "registry.k8s.io/pause:3.10"
        );
        assert_eq!(parse("localhost:5000/app"), "localhost:5000/app:latest");
        let d = "a".repeat(64);
        assert_eq!(
            parse(&format!("nginx@sha256:{d}")),
            format!("docker.io/library/nginx@sha256:{d}")
        );
    }

    #[test]
    fn malformed_references_are_rejected_without_panicking() {
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "nginx::1",
            "-nginx",
            "nginx@sha256:zz",
            " nginx",
            "a//b",
            "nginx:-x",
            "ngi..nx",
            "ü",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse("Nginx").contains("must be lowercase"));
    }

    #[test]
    fn the_catalog_knows_the_docs_images_with_sizes_near_the_real_ones() {
        let info = |s: &str| lookup(&ImageRef::parse(s).unwrap());
        assert_eq!(info("nginx:1.14.2").unwrap().size_bytes, 44_700_000);
        assert_eq!(
            info("registry.k8s.io/pause:3.10").unwrap().kind,
            ImageKind::Pause
        );
        assert_eq!(info("perl:5.34.0").unwrap().kind, ImageKind::Perl);
        assert!(info("registry.k8s.io/e2e-test-images/agnhost:2.40").is_some());
        assert!(info("registry.k8s.io/kube-apiserver:v1.37.0").is_some());
        assert!(info("nginxx").is_none());
        assert!(info("nginx:9.9.9").is_none());
    }

    #[test]
    fn kubesim_behaviour_images_take_their_knob_from_the_tag() {
        let kind = |s: &str| lookup(&ImageRef::parse(s).unwrap()).map(|i| i.kind);
        assert_eq!(
            kind("kubesim/crash:after-10s"),
            Some(ImageKind::Kubesim(Behaviour::CrashAfter(
                SimDuration::from_secs(10)
            )))
        );
        assert_eq!(
            kind("kubesim/leak:50Mi-per-s"),
            Some(ImageKind::Kubesim(Behaviour::Leak(50 * MI)))
        );
        assert_eq!(
            kind("kubesim/slow-start:30s"),
            Some(ImageKind::Kubesim(Behaviour::SlowStart(
                SimDuration::from_secs(30)
            )))
        );
        assert_eq!(
            kind("kubesim/unready"),
            Some(ImageKind::Kubesim(Behaviour::Unready))
        );
        assert_eq!(
            kind("kubesim/exit:3"),
            Some(ImageKind::Kubesim(Behaviour::Exit(3)))
        );
        assert_eq!(kind("kubesim/exit:999"), None);
        assert_eq!(kind("kubesim/leak:lots"), None);
    }
}
