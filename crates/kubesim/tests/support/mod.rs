//! What the property tests share: a seeded generator of their own (so the
//! tests' choices never draw from the cluster's RNG), ConfigMaps used as
//! registers, a random schedule of crashes, partitions and heals, and the
//! classification of an API answer into "applied", "not applied" or
//! "unknown" (the outcome a client cannot know).

#![allow(dead_code)] // each test binary uses a part of this module

use kubesim::api::{Object, Reason};
use kubesim::apiserver::ApiResponse;
use kubesim::shell::FaultKind;
use kubesim::{Cluster, SimDuration, Topology};
use std::collections::{BTreeMap, BTreeSet};

/// The namespace every register lives in.
pub const NS: &str = "default";

/// splitmix64: a small generator that is the tests' own.
#[derive(Clone, Debug)]
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }
}

/// A booted default cluster (3 etcd members, 3 API servers).
/// The registers are the only ConfigMaps of their namespace: the root CA
/// publisher, which would add `kube-root-ca.crt` there, is turned off
/// (`--controllers=*,-root-ca-certificate-publisher-controller`).
pub fn booted(seed: u64) -> Cluster {
    let topology = Topology::builder()
        .disable_controller("root-ca-certificate-publisher-controller")
        .build()
        .expect("a valid topology");
    let mut c = Cluster::new(topology, seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "seed {seed}: the control plane boots"
    );
    c
}

/// A ConfigMap register named `name` holding `value`, with `labels`, and, for
/// a conditional update, the `resource_version` it was read at.
pub fn register(
    name: &str,
    value: u64,
    labels: &[(&str, &str)],
    resource_version: Option<&str>,
) -> Object {
    let mut yaml =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {NS}\n");
    if let Some(rv) = resource_version {
        yaml.push_str(&format!("  resourceVersion: \"{rv}\"\n"));
    }
    if !labels.is_empty() {
        yaml.push_str("  labels:\n");
        for (k, v) in labels {
            yaml.push_str(&format!("    {k}: {v}\n"));
        }
    }
    yaml.push_str(&format!("data:\n  value: \"{value}\"\n"));
    kubesim::api::decode(&yaml, "STDIN")
        .expect("the register manifest decodes")
        .remove(0)
}

/// The value a register object holds.
pub fn value_of(o: &Object) -> u64 {
    let Object::ConfigMap(cm) = o else {
        panic!("not a ConfigMap: {o:?}")
    };
    cm.data
        .as_ref()
        .and_then(|d| d.get("value"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a register without a value: {cm:?}"))
}

/// An object's resourceVersion as a number.
pub fn rv_of(o: &Object) -> u64 {
    o.resource_version()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("an object without a resourceVersion: {o:?}"))
}

/// What a client may conclude from a failed write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server said why, and nothing was stored (404, 409, 4xx).
    NotApplied(Reason),
    /// A timeout, a 5xx, a reset connection: the write may have been applied.
    Unknown,
}

/// Classifies an error answer.
pub fn failure(response: &ApiResponse) -> Failure {
    match response {
        ApiResponse::Error(e) => match e.reason {
            Reason::NotFound
            | Reason::AlreadyExists
            | Reason::Conflict
            | Reason::Invalid
            | Reason::BadRequest
            | Reason::Forbidden
            | Reason::Unauthorized
            | Reason::MethodNotAllowed
            | Reason::Gone => Failure::NotApplied(e.reason),
            // The balancer refuses a connection when no API server is in
            // rotation: the request went nowhere. etcd refuses a proposal when
            // it knows no leader, raft drops one it cannot forward, and a
            // member that is down takes none: nothing entered the raft log.
            // An API server whose watch cache is not synced refuses a request
            // before it starts (`the server is currently unable...`).
            Reason::ServiceUnavailable
                if e.message.starts_with("connection refused")
                    || e.message == "the server is currently unable to handle the request"
                    || e.message == "etcdserver: no leader"
                    || e.message == "etcdserver: proposal dropped" =>
            {
                Failure::NotApplied(e.reason)
            }
            Reason::InternalError
                if e.message
                    .starts_with("Internal error occurred: etcdserver: member")
                    && e.message.ends_with("is down") =>
            {
                Failure::NotApplied(e.reason)
            }
            _ => Failure::Unknown,
        },
        _ => Failure::Unknown,
    }
}

/// The faults the schedule draws from: crashes of etcd members and API
/// servers (by name, or the etcd leader) and partitions of control-plane
/// nodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Crash(String),
    Partition(String),
}

impl Fault {
    pub fn target(&self) -> &str {
        match self {
            Fault::Crash(t) | Fault::Partition(t) => t,
        }
    }
}

/// Random faults and heals: at most `max_active` faults at a time, a change
/// every 1 to 4 s of virtual time. Every change is logged (`log`) so a failing
/// seed can be read.
#[derive(Debug)]
pub struct Chaos {
    pub active: BTreeSet<Fault>,
    pub max_active: usize,
    pub next_change: kubesim::SimTime,
    pub log: Vec<String>,
}

impl Chaos {
    pub fn new(max_active: usize, start: kubesim::SimTime) -> Self {
        Chaos {
            active: BTreeSet::new(),
            max_active,
            next_change: start,
            log: Vec::new(),
        }
    }

    /// Injects or heals one fault if one is due.
    pub fn step(&mut self, c: &mut Cluster, rng: &mut TestRng) {
        if c.now() < self.next_change {
            return;
        }
        self.next_change = c.now() + SimDuration::from_millis(rng.range(1_000, 4_000));
        let heal =
            !self.active.is_empty() && (self.active.len() >= self.max_active || rng.chance(0.45));
        if heal {
            let all: Vec<Fault> = self.active.iter().cloned().collect();
            let f = rng.pick(&all).clone();
            self.heal(c, &f);
            return;
        }
        let node = format!("control-plane-{}", rng.range(1, 4));
        let fault = match rng.range(0, 4) {
            0 => Fault::Crash(format!("etcd-{node}")),
            1 => Fault::Crash(format!("kube-apiserver-{node}")),
            2 => match leader(c) {
                Some(l) => Fault::Crash(l),
                None => Fault::Crash(format!("etcd-{node}")),
            },
            _ => Fault::Partition(node),
        };
        if self.active.contains(&fault) {
            return;
        }
        let result = match &fault {
            Fault::Crash(t) => c.fault(t, FaultKind::Crash),
            Fault::Partition(n) => c.fault(n, FaultKind::Partition),
        };
        let what = result.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        self.log.push(format!("{} {what}", c.now()));
        self.active.insert(fault);
    }

    fn heal(&mut self, c: &mut Cluster, f: &Fault) {
        let what = c
            .heal(f.target())
            .unwrap_or_else(|e| panic!("heal {f:?}: {e}"));
        self.log.push(format!("{} {what}", c.now()));
        self.active.remove(f);
        // Healing a node also restarts what had crashed on it.
        if let Fault::Partition(node) = f {
            self.active.retain(|a| match a {
                Fault::Crash(t) => !t.ends_with(node.as_str()),
                Fault::Partition(_) => true,
            });
        }
    }

    /// Heals every fault.
    pub fn heal_all(&mut self, c: &mut Cluster) {
        c.heal("all").expect("heal all");
        self.log.push(format!("{} every fault healed", c.now()));
        self.active.clear();
    }
}

/// The name of the current etcd leader's instance, if there is one.
pub fn leader(c: &Cluster) -> Option<String> {
    c.etcd_status()
        .into_iter()
        .find(|(_, s)| s.role == kubesim::etcd::Role::Leader)
        .map(|(n, _)| n)
}

/// Runs `f` for every seed in `seeds` and reports every failing one at once.
/// `PROP_SEED=n` runs seed `n` alone (to read one failure).
pub fn for_seeds(seeds: std::ops::Range<u64>, f: impl Fn(u64) -> Result<(), String>) {
    let only: Option<u64> = std::env::var("PROP_SEED").ok().and_then(|s| s.parse().ok());
    let seeds: Vec<u64> = match only {
        Some(s) if seeds.contains(&s) => vec![s],
        Some(_) => vec![],
        None => seeds.collect(),
    };
    let mut failures = BTreeMap::new();
    for seed in seeds {
        if let Err(e) = f(seed) {
            failures.insert(seed, e);
        }
    }
    if !failures.is_empty() {
        let report: Vec<String> = failures
            .iter()
            .take(3)
            .map(|(s, e)| format!("seed {s}: {e}"))
            .collect();
        panic!(
            "{} seeds failed ({:?}); the first ones:\n{}",
            failures.len(),
            failures.keys().collect::<Vec<_>>(),
            report.join("\n\n")
        );
    }
}
