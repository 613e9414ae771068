//! cgroup v2 values and paths as the kubelet asks for them.
//!
//! The kubelet (systemd cgroup driver) puts every pod in a slice under its
//! QoS class and containerd puts every container in a scope inside it:
//! `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`
//! (Guaranteed pods sit directly under `kubepods.slice`). Limits become
//! `cpu.max` and `memory.max`, requests become `cpu.weight`.
//! Ported from `pkg/kubelet/cm/helpers_linux.go` (`MilliCPUToShares`,
//! `MilliCPUToQuota`, `ResourceConfigForPod`), `pkg/apis/core/helper/qos`
//! (`GetPodQOS`) and runc's `ConvertCPUSharesToCgroupV2Value`.

use crate::api::pod::{Container, PodSpec};
use crate::api::quantity::Quantity;
use serde::Serialize;

/// `cpu.max`'s period, in microseconds (the kernel's and kubelet's default).
pub const CPU_PERIOD_US: u64 = 100_000;
const MIN_SHARES: u64 = 2;
const MAX_SHARES: u64 = 262_144;
const MIN_QUOTA_US: u64 = 1_000;

/// A pod's quality-of-service class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    /// `GetPodQOS` over the pod's containers and init containers.
    pub fn of_pod(spec: &PodSpec) -> QosClass {
        let all: Vec<&Container> = spec
            .init_containers
            .iter()
            .flatten()
            .chain(spec.containers.iter())
            .collect();
        let mut any_set = false;
        let mut guaranteed = !all.is_empty();
        for c in all {
            let r = ContainerResources::of(c);
            if r.cpu_request_milli.is_some_and(|v| v > 0)
                || r.memory_request.is_some_and(|v| v > 0)
                || r.cpu_limit_milli.is_some_and(|v| v > 0)
                || r.memory_limit.is_some_and(|v| v > 0)
            {
                any_set = true;
            }
            let cpu_ok = r.cpu_limit_milli.is_some()
                && r.cpu_request_milli
                    .is_none_or(|q| Some(q) == r.cpu_limit_milli);
            let mem_ok = r.memory_limit.is_some()
                && r.memory_request.is_none_or(|q| Some(q) == r.memory_limit);
            if !(cpu_ok && mem_ok) {
                guaranteed = false;
            }
        }
        if !any_set {
            QosClass::BestEffort
        } else if guaranteed {
            QosClass::Guaranteed
        } else {
            QosClass::Burstable
        }
    }

    /// `guaranteed`, `burstable`, `besteffort`.
    pub fn slug(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "guaranteed",
            QosClass::Burstable => "burstable",
            QosClass::BestEffort => "besteffort",
        }
    }
}

/// A container's CPU and memory requests and limits, parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContainerResources {
    pub cpu_request_milli: Option<u64>,
    pub cpu_limit_milli: Option<u64>,
    pub memory_request: Option<u64>,
    pub memory_limit: Option<u64>,
}

fn parse_q(map: Option<&crate::api::pod::ResourceList>, key: &str, milli: bool) -> Option<u64> {
    let q = Quantity::parse(&map?.get(key)?.0).ok()?;
    let v = if milli { q.milli_value() } else { q.value() };
    u64::try_from(v).ok()
}

impl ContainerResources {
    /// Reads `resources.requests` and `resources.limits`; a quantity that
    /// does not parse counts as absent (the API server rejects it earlier).
    pub fn of(c: &Container) -> ContainerResources {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        ContainerResources {
            cpu_request_milli: parse_q(req, "cpu", true),
            cpu_limit_milli: parse_q(lim, "cpu", true),
            memory_request: parse_q(req, "memory", false),
            memory_limit: parse_q(lim, "memory", false),
        }
    }
}

/// `MilliCPUToShares`.
pub fn milli_cpu_to_shares(milli: u64) -> u64 {
    if milli == 0 {
        return MIN_SHARES;
    }
    (milli.saturating_mul(1024) / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// runc's `ConvertCPUSharesToCgroupV2Value`: shares [2, 262144] to weight [1, 10000].
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + (shares.clamp(MIN_SHARES, MAX_SHARES) - 2) * 9999 / 262_142
}

/// `MilliCPUToQuota` with the default period.
pub fn milli_cpu_to_quota(milli: u64) -> u64 {
    if milli == 0 {
        return 0;
    }
    (milli.saturating_mul(CPU_PERIOD_US) / 1000).max(MIN_QUOTA_US)
}

/// The limits of one cgroup, as files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CgroupLimits {
    /// `<quota> 100000` or `max 100000`.
    pub cpu_max: String,
    /// Bytes, or `max`.
    pub memory_max: Option<u64>,
    pub cpu_weight: u64,
}

impl CgroupLimits {
    /// `memory.max` as the file reads.
    pub fn memory_max_text(&self) -> String {
        self.memory_max
            .map(|b| b.to_string())
            .unwrap_or_else(|| "max".to_string())
    }

    /// A container's cgroup (`generateLinuxContainerResources`).
    pub fn for_container(r: &ContainerResources) -> CgroupLimits {
        let request = match (r.cpu_request_milli, r.cpu_limit_milli) {
            (None | Some(0), Some(l)) => l,
            (Some(q), _) => q,
            (None, None) => 0,
        };
        CgroupLimits {
            cpu_max: cpu_max(r.cpu_limit_milli),
            memory_max: r.memory_limit.filter(|b| *b > 0),
            cpu_weight: shares_to_weight(milli_cpu_to_shares(request)),
        }
    }

    /// A pod's cgroup (`ResourceConfigForPod`, regular containers only).
    pub fn for_pod(spec: &PodSpec) -> CgroupLimits {
        let qos = QosClass::of_pod(spec);
        let mut cpu_req = 0u64;
        let mut cpu_lim = 0u64;
        let mut mem_lim = 0u64;
        let mut cpu_declared = true;
        let mut mem_declared = true;
        for c in &spec.containers {
            let r = ContainerResources::of(c);
            cpu_req =
                cpu_req.saturating_add(r.cpu_request_milli.or(r.cpu_limit_milli).unwrap_or(0));
            match r.cpu_limit_milli {
                Some(l) if l > 0 => cpu_lim = cpu_lim.saturating_add(l),
                _ => cpu_declared = false,
            }
            match r.memory_limit {
                Some(l) if l > 0 => mem_lim = mem_lim.saturating_add(l),
                _ => mem_declared = false,
            }
        }
        if qos == QosClass::BestEffort {
            return CgroupLimits {
                cpu_max: cpu_max(None),
                memory_max: None,
                cpu_weight: shares_to_weight(MIN_SHARES),
            };
        }
        CgroupLimits {
            cpu_max: cpu_max(cpu_declared.then_some(cpu_lim)),
            memory_max: mem_declared.then_some(mem_lim),
            cpu_weight: shares_to_weight(milli_cpu_to_shares(cpu_req)),
        }
    }
}

fn cpu_max(limit_milli: Option<u64>) -> String {
    match limit_milli.filter(|m| *m > 0) {
        Some(m) => format!("{} {CPU_PERIOD_US}", milli_cpu_to_quota(m)),
        None => format!("max {CPU_PERIOD_US}"),
    }
}

/// The pod's slice, relative to `/sys/fs/cgroup` (systemd driver: dashes in
/// the uid become underscores).
pub fn pod_slice(qos: QosClass, uid: &str) -> String {
    let uid = uid.replace('-', "_");
    match qos {
        QosClass::Guaranteed => format!("kubepods.slice/kubepods-pod{uid}.slice"),
        q => format!(
            "kubepods.slice/kubepods-{0}.slice/kubepods-{0}-pod{uid}.slice",
            q.slug()
        ),
    }
}

/// A container's scope inside its pod's slice.
pub fn container_scope(pod_slice: &str, id: &str) -> String {
    format!("{pod_slice}/cri-containerd-{id}.scope")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::ResourceRequirements;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

    fn container(req: &[(&str, &str)], lim: &[(&str, &str)]) -> Container {
        let map = |v: &[(&str, &str)]| {
            (!v.is_empty()).then(|| {
                v.iter()
                    .map(|(k, q)| (k.to_string(), Q(q.to_string())))
                    .collect()
            })
        };
        Container {
            name: "c".into(),
            resources: Some(Box::new(ResourceRequirements {
                requests: map(req),
                limits: map(lim),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn pod(cs: Vec<Container>) -> PodSpec {
        PodSpec {
            containers: cs.into(),
            ..Default::default()
        }
    }

    #[test]
    fn cpu_max_comes_from_the_cpu_limit() {
        let r = ContainerResources::of(&container(&[], &[("cpu", "500m")]));
        assert_eq!(CgroupLimits::for_container(&r).cpu_max, "50000 100000");
        let r = ContainerResources::of(&container(&[], &[("cpu", "2")]));
        assert_eq!(CgroupLimits::for_container(&r).cpu_max, "200000 100000");
        let r = ContainerResources::of(&container(&[], &[("cpu", "1m")]));
        assert_eq!(CgroupLimits::for_container(&r).cpu_max, "1000 100000");
        let r = ContainerResources::of(&container(&[("cpu", "1")], &[]));
        assert_eq!(CgroupLimits::for_container(&r).cpu_max, "max 100000");
    }

    #[test]
    fn memory_max_comes_from_the_memory_limit_or_is_max() {
        let r = ContainerResources::of(&container(&[], &[("memory", "128Mi")]));
        assert_eq!(
            CgroupLimits::for_container(&r).memory_max_text(),
            "134217728"
        );
        let r = ContainerResources::of(&container(&[], &[]));
        assert_eq!(CgroupLimits::for_container(&r).memory_max_text(), "max");
    }

    #[test]
    fn cpu_weight_converts_requests_through_shares_as_runc_does() {
        assert_eq!(shares_to_weight(milli_cpu_to_shares(0)), 1);
        assert_eq!(shares_to_weight(milli_cpu_to_shares(1000)), 39);
        assert_eq!(shares_to_weight(milli_cpu_to_shares(250)), 10);
        assert_eq!(shares_to_weight(MAX_SHARES), 10_000);
        // A limit without a request counts as the request.
        let r = ContainerResources::of(&container(&[], &[("cpu", "1")]));
        assert_eq!(CgroupLimits::for_container(&r).cpu_weight, 39);
    }

    #[test]
    fn the_qos_class_follows_requests_and_limits() {
        assert_eq!(
            QosClass::of_pod(&pod(vec![container(&[], &[])])),
            QosClass::BestEffort
        );
        assert_eq!(
            QosClass::of_pod(&pod(vec![container(&[("memory", "64Mi")], &[])])),
            QosClass::Burstable
        );
        assert_eq!(
            QosClass::of_pod(&pod(vec![container(
                &[],
                &[("cpu", "1"), ("memory", "1Gi")]
            )])),
            QosClass::Guaranteed
        );
        assert_eq!(
            QosClass::of_pod(&pod(vec![container(
                &[("cpu", "500m")],
                &[("cpu", "1"), ("memory", "1Gi")]
            )])),
            QosClass::Burstable
        );
    }

    #[test]
    fn pod_slices_sit_under_their_qos_class() {
        assert_eq!(
            pod_slice(QosClass::BestEffort, "ab-cd"),
            "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab_cd.slice"
        );
        assert_eq!(
            pod_slice(QosClass::Guaranteed, "x"),
            "kubepods.slice/kubepods-podx.slice"
        );
    }

    #[test]
    fn a_pod_cgroup_limits_memory_only_when_every_container_has_a_limit() {
        let spec = pod(vec![
            container(&[("cpu", "100m")], &[("memory", "100Mi")]),
            container(&[("cpu", "100m")], &[]),
        ]);
        let l = CgroupLimits::for_pod(&spec);
        assert_eq!(l.memory_max, None);
        assert_eq!(l.cpu_max, "max 100000");
        assert_eq!(l.cpu_weight, shares_to_weight(milli_cpu_to_shares(200)));
    }
}
