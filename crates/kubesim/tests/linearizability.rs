//! Issue 3: the history of acknowledged operations on ConfigMaps, issued by
//! several concurrent clients through the load balancer while etcd members
//! and API servers crash, are partitioned and heal, is linearizable.
//!
//! Each ConfigMap is a register keyed by name. Every write stores a value
//! never written before, so a resourceVersion (the etcd revision of the write
//! that produced the object) stands for exactly one value: a conditional
//! update "at resourceVersion R" is a compare-and-set against the value the
//! client read at R. The sequential spec is then a map of optional values
//! with create (if absent), compare-and-set, unconditional update, delete and
//! get. stateright's `LinearizabilityTester` checks each register's history
//! (linearizability is local: a history is linearizable if and only if every
//! object's is). A write whose outcome a client cannot know (a timeout, a
//! 5xx, a reset connection) stays invoked without a return: it may or may not
//! have taken effect, and its client is replaced by a fresh one.
//!
//! Besides the register values, the resourceVersions themselves are checked:
//! one revision names one write, and a write acknowledged after another
//! finished has a larger revision.

mod support;

use kubesim::api::{KindId, Reason};
use kubesim::apiserver::{ApiRequest, ApiResponse, Verb};
use kubesim::{Cluster, SimDuration, SimTime};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};
use std::collections::BTreeMap;
use support::{failure, for_seeds, register, rv_of, value_of, Chaos, Failure, TestRng, NS};

/// How many registers, clients, and how long the clients work under faults.
const KEYS: usize = 3;
const CLIENTS: usize = 4;
const WORK: SimDuration = SimDuration::from_secs(16);
/// A client gives up on an answer after this long (the outcome is unknown).
const CLIENT_TIMEOUT: SimDuration = SimDuration::from_secs(30);

/// An operation on one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Get,
    Create(u64),
    /// Update with the resourceVersion at which the client saw `expect`.
    Cas {
        expect: u64,
        new: u64,
    },
    /// Update without a resourceVersion (the server retries conflicts).
    Put(u64),
    Delete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    Value(Option<u64>),
    Created,
    AlreadyExists,
    Updated,
    Conflict,
    NotFound,
    /// A delete answers with the object as it was.
    Deleted(u64),
}

/// The sequential spec: one register that may be absent.
///
/// Kubernetes answers a conditional update of an object that is gone with
/// 404 (`GuaranteedUpdate` re-reads after a failed compare and finds
/// nothing). The simulated API server answers 409 when the object is deleted
/// between its read and its write; `conflict_when_absent` accepts that too
/// (it is still linearizable: the update took no effect), so the property
/// tests check linearizability and a separate, ignored test shows the
/// difference.
#[derive(Clone, Debug, Default)]
struct Register {
    value: Option<u64>,
    conflict_when_absent: bool,
}

impl Register {
    fn lenient() -> Self {
        Register {
            value: None,
            conflict_when_absent: true,
        }
    }
}

impl SequentialSpec for Register {
    type Op = Op;
    type Ret = Ret;

    fn is_valid_step(&mut self, op: &Op, ret: &Ret) -> bool {
        if self.conflict_when_absent
            && self.value.is_none()
            && matches!(op, Op::Cas { .. })
            && *ret == Ret::Conflict
        {
            return true;
        }
        self.invoke(op) == *ret
    }

    fn invoke(&mut self, op: &Op) -> Ret {
        match (*op, self.value) {
            (Op::Get, v) => Ret::Value(v),
            (Op::Create(_), Some(_)) => Ret::AlreadyExists,
            (Op::Create(v), None) => {
                self.value = Some(v);
                Ret::Created
            }
            (Op::Cas { .. } | Op::Put(_) | Op::Delete, None) => Ret::NotFound,
            (Op::Cas { expect, new }, Some(cur)) => {
                if cur == expect {
                    self.value = Some(new);
                    Ret::Updated
                } else {
                    Ret::Conflict
                }
            }
            (Op::Put(v), Some(_)) => {
                self.value = Some(v);
                Ret::Updated
            }
            (Op::Delete, Some(cur)) => {
                self.value = None;
                Ret::Deleted(cur)
            }
        }
    }
}

/// One step of the recorded history, in the order it happened.
#[derive(Clone, Debug)]
enum Entry {
    Invoke {
        thread: u64,
        key: usize,
        op: Op,
        /// Left out of the check: a read that failed, or a write the server
        /// refused (it took no effect and returned nothing to check).
        dropped: bool,
    },
    Return {
        thread: u64,
        ret: Ret,
    },
}

#[derive(Debug)]
struct Pending {
    id: u64,
    key: usize,
    op: Op,
    entry: usize,
    since: SimTime,
    /// The largest revision acknowledged for a write before this one began.
    floor: u64,
}

#[derive(Debug)]
struct Client {
    thread: u64,
    pending: Option<Pending>,
    /// The last (resourceVersion, value) this client saw for each register.
    seen: BTreeMap<usize, (u64, u64)>,
    /// After a failure the client backs off until then.
    idle_until: SimTime,
}

fn name(key: usize) -> String {
    format!("reg-{key}")
}

/// A run: the history, and the revisions every acknowledgement carried.
struct Run {
    seed: u64,
    cluster: Cluster,
    rng: TestRng,
    chaos: Chaos,
    clients: Vec<Client>,
    history: Vec<Entry>,
    next_thread: u64,
    next_value: u64,
    /// Every revision an acknowledgement or a read carried: (register, value).
    revisions: BTreeMap<u64, (usize, Option<u64>)>,
    /// The revision of each acknowledged write's value.
    written_at: BTreeMap<u64, u64>,
    max_acked_write: u64,
    errors: Vec<String>,
    why_unknown: BTreeMap<String, usize>,
    unknown: usize,
    acked: usize,
}

impl Run {
    fn new(seed: u64) -> Run {
        let cluster = support::booted(seed);
        if std::env::var("PROP_VERBOSE").is_ok() {
            eprintln!("seed {seed}: booted at {}", cluster.now());
        }
        let start = cluster.now() + SimDuration::from_millis(500);
        let clients = (0..CLIENTS as u64)
            .map(|thread| Client {
                thread,
                pending: None,
                seen: BTreeMap::new(),
                idle_until: SimTime(0),
            })
            .collect();
        Run {
            seed,
            cluster,
            rng: TestRng::new(seed),
            chaos: Chaos::new(2, start),
            clients,
            history: Vec::new(),
            next_thread: CLIENTS as u64,
            next_value: 1,
            revisions: BTreeMap::new(),
            written_at: BTreeMap::new(),
            max_acked_write: 0,
            errors: Vec::new(),
            why_unknown: BTreeMap::new(),
            unknown: 0,
            acked: 0,
        }
    }

    fn value(&mut self) -> u64 {
        self.next_value += 1;
        self.next_value
    }

    /// Starts a random operation for client `i`.
    fn start(&mut self, i: usize) {
        let key = self.rng.range(0, KEYS as u64) as usize;
        let cred = self.cluster.admin_credential();
        let cm = |verb| {
            ApiRequest::new(verb, KindId::ConfigMap, cred.clone())
                .in_namespace(NS)
                .named(name(key))
        };
        let roll = self.rng.range(0, 100);
        let seen = self.clients[i].seen.get(&key).copied();
        let (op, request) = match (roll, seen) {
            (0..=34, _) | (55..=79, None) => (Op::Get, cm(Verb::Get)),
            (35..=54, _) => {
                let v = self.value();
                let body = register(&name(key), v, &[], None);
                (
                    Op::Create(v),
                    ApiRequest::new(Verb::Create, KindId::ConfigMap, cred.clone())
                        .in_namespace(NS)
                        .with_body(body),
                )
            }
            (55..=79, Some((rv, expect))) => {
                let v = self.value();
                let body = register(&name(key), v, &[], Some(&rv.to_string()));
                (Op::Cas { expect, new: v }, cm(Verb::Update).with_body(body))
            }
            (80..=89, _) => {
                let v = self.value();
                let body = register(&name(key), v, &[], None);
                (Op::Put(v), cm(Verb::Update).with_body(body))
            }
            _ => (Op::Delete, cm(Verb::Delete)),
        };
        let id = self.cluster.submit(request);
        let thread = self.clients[i].thread;
        self.history.push(Entry::Invoke {
            thread,
            key,
            op,
            dropped: false,
        });
        self.clients[i].pending = Some(Pending {
            id,
            key,
            op,
            entry: self.history.len() - 1,
            since: self.cluster.now(),
            floor: self.max_acked_write,
        });
    }

    fn drop_entry(&mut self, entry: usize) {
        if let Entry::Invoke { dropped, .. } = &mut self.history[entry] {
            *dropped = true;
        }
    }

    /// The client's operation will never be known: it stays in flight and
    /// the client carries on as a new thread.
    fn abandon(&mut self, i: usize, p: Pending) {
        if p.op == Op::Get {
            self.drop_entry(p.entry);
        } else {
            self.unknown += 1;
        }
        self.clients[i].thread = self.next_thread;
        self.next_thread += 1;
        self.clients[i].seen.clear();
        self.back_off(i);
    }

    /// A client that got an error waits 1 to 3 s before its next request,
    /// as a controller's rate limiter would.
    fn back_off(&mut self, i: usize) {
        self.clients[i].idle_until =
            self.cluster.now() + SimDuration::from_millis(self.rng.range(1_000, 3_000));
    }

    /// Records that `rv` names `(key, value)` (None: the delete at `rv`).
    fn revision(&mut self, rv: u64, key: usize, value: Option<u64>, what: &str) {
        if let Some(&(k, v)) = self.revisions.get(&rv) {
            if (k, v) != (key, value) {
                self.errors.push(format!(
                    "{what}: revision {rv} names {}={value:?}, but it named {}={v:?} before",
                    name(key),
                    name(k)
                ));
            }
        }
        self.revisions.insert(rv, (key, value));
    }

    /// A write was acknowledged at `rv`.
    fn acked_write(&mut self, p: &Pending, rv: u64, value: Option<u64>) {
        self.acked += 1;
        if rv <= p.floor {
            self.errors.push(format!(
                "{:?} on {} was acknowledged at revision {rv}, but revision {} was acknowledged before it began",
                p.op,
                name(p.key),
                p.floor
            ));
        }
        self.max_acked_write = self.max_acked_write.max(rv);
        self.revision(rv, p.key, value, &format!("{:?}", p.op));
        if let Some(v) = value {
            self.written_at.insert(v, rv);
        }
    }

    /// Handles the answer to client `i`'s pending operation.
    fn answer(&mut self, i: usize, p: Pending, response: ApiResponse) {
        let thread = self.clients[i].thread;
        let ret = match (p.op, &response) {
            (Op::Get, ApiResponse::Object(o)) => {
                let (rv, v) = (rv_of(o), value_of(o));
                self.revision(rv, p.key, Some(v), "a get");
                if let Some(&w) = self.written_at.get(&v) {
                    if w != rv {
                        self.errors.push(format!(
                            "a get of {} read value {v} at resourceVersion {rv}, but it was written at {w}",
                            name(p.key)
                        ));
                    }
                }
                self.clients[i].seen.insert(p.key, (rv, v));
                Some(Ret::Value(Some(v)))
            }
            (Op::Create(v) | Op::Cas { new: v, .. } | Op::Put(v), ApiResponse::Object(o)) => {
                let (rv, got) = (rv_of(o), value_of(o));
                if got != v {
                    self.errors
                        .push(format!("{:?} answered with value {got}", p.op));
                }
                self.acked_write(&p, rv, Some(v));
                self.clients[i].seen.insert(p.key, (rv, v));
                Some(if matches!(p.op, Op::Create(_)) {
                    Ret::Created
                } else {
                    Ret::Updated
                })
            }
            (Op::Delete, ApiResponse::Deleted(o)) => {
                let (rv, was) = (rv_of(o), value_of(o));
                self.acked_write(&p, rv, None);
                self.clients[i].seen.remove(&p.key);
                Some(Ret::Deleted(was))
            }
            (_, ApiResponse::Error(_)) => match (p.op, failure(&response)) {
                (Op::Get, Failure::NotApplied(Reason::NotFound)) => {
                    self.clients[i].seen.remove(&p.key);
                    Some(Ret::Value(None))
                }
                (Op::Create(_), Failure::NotApplied(Reason::AlreadyExists)) => {
                    Some(Ret::AlreadyExists)
                }
                (Op::Cas { .. }, Failure::NotApplied(Reason::Conflict)) => Some(Ret::Conflict),
                (_, Failure::NotApplied(Reason::NotFound)) => {
                    self.clients[i].seen.remove(&p.key);
                    Some(Ret::NotFound)
                }
                (Op::Get, _) | (_, Failure::NotApplied(_)) => {
                    self.back_off(i);
                    self.drop_entry(p.entry);
                    None
                }
                (_, Failure::Unknown) => {
                    *self.why_unknown.entry(response.summary()).or_default() += 1;
                    self.abandon(i, p);
                    return;
                }
            },
            _ => {
                self.errors.push(format!(
                    "{:?} on {} got an unexpected answer {}",
                    p.op,
                    name(p.key),
                    response.summary()
                ));
                self.drop_entry(p.entry);
                None
            }
        };
        if let Some(ret) = ret {
            self.history.push(Entry::Return { thread, ret });
        }
    }

    /// Collects answers and gives up on those that took too long.
    fn poll(&mut self) {
        for i in 0..self.clients.len() {
            let Some(p) = self.clients[i].pending.take() else {
                continue;
            };
            let mut replies = self.cluster.take_replies(p.id);
            if !replies.is_empty() {
                let first = replies.remove(0);
                self.answer(i, p, first);
            } else if self.cluster.now().saturating_since(p.since) >= CLIENT_TIMEOUT {
                *self.why_unknown.entry("client timeout".into()).or_default() += 1;
                if std::env::var("PROP_VERBOSE").is_ok() {
                    eprintln!(
                        "{}: client {i} gave up on {:?} sent at {}",
                        self.cluster.now(),
                        p.op,
                        p.since
                    );
                }
                self.abandon(i, p);
            } else {
                self.clients[i].pending = Some(p);
            }
        }
    }

    fn run(&mut self) {
        let end = self.cluster.now() + WORK;
        while self.cluster.now() < end {
            self.chaos.step(&mut self.cluster, &mut self.rng);
            for i in 0..self.clients.len() {
                let c = &self.clients[i];
                if c.pending.is_none() && c.idle_until <= self.cluster.now() && self.rng.chance(0.5)
                {
                    self.start(i);
                }
            }
            let d = SimDuration::from_millis(self.rng.range(5, 150));
            self.cluster.advance(d);
            self.poll();
        }
        // Heal everything and let every operation finish; then one last read
        // of every register by a fresh client.
        self.chaos.heal_all(&mut self.cluster);
        let deadline = self.cluster.now() + SimDuration::from_secs(40);
        while self.clients.iter().any(|c| c.pending.is_some()) && self.cluster.now() < deadline {
            self.cluster.advance(SimDuration::from_millis(100));
            self.poll();
        }
        for c in &mut self.clients {
            if let Some(p) = c.pending.take() {
                // Left in flight: counted as unknown.
                let _ = p;
            }
        }
        self.cluster.advance(SimDuration::from_secs(10));
        let cred = self.cluster.admin_credential();
        for key in 0..KEYS {
            let thread = self.next_thread;
            self.next_thread += 1;
            self.history.push(Entry::Invoke {
                thread,
                key,
                op: Op::Get,
                dropped: false,
            });
            let r = self.cluster.call(
                ApiRequest::new(Verb::Get, KindId::ConfigMap, cred.clone())
                    .in_namespace(NS)
                    .named(name(key)),
            );
            let ret = match &r {
                ApiResponse::Object(o) => Ret::Value(Some(value_of(o))),
                ApiResponse::Error(e) if e.reason == Reason::NotFound => Ret::Value(None),
                other => {
                    self.errors.push(format!(
                        "after every fault healed, a get of {} failed: {}",
                        name(key),
                        other.summary()
                    ));
                    continue;
                }
            };
            self.history.push(Entry::Return { thread, ret });
        }
    }

    /// The history as calls: each operation with where (in the history) it
    /// was invoked and, if it returned, where and what.
    fn calls(&self) -> Vec<Call> {
        let mut calls: Vec<Call> = Vec::new();
        let mut open: BTreeMap<u64, usize> = BTreeMap::new();
        for (i, e) in self.history.iter().enumerate() {
            match *e {
                Entry::Invoke {
                    thread,
                    key,
                    op,
                    dropped: false,
                } => {
                    open.insert(thread, calls.len());
                    calls.push(Call {
                        key,
                        op,
                        invoked: 2 * i as u64 + 1,
                        returned: None,
                    });
                }
                Entry::Return { thread, ret, .. } => {
                    if let Some(c) = open.remove(&thread) {
                        calls[c].returned = Some((2 * i as u64 + 1, ret));
                    }
                }
                Entry::Invoke { .. } => {}
            }
        }
        // A write whose outcome is unknown but whose value somebody saw took
        // effect before that observation returned: it is given that return
        // (just before the observer's). This is sound, since it must be
        // ordered before the observer anyway, and it spares the tester from
        // searching where to place it.
        let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
        for c in &calls {
            let v = match (c.op, c.returned) {
                (_, Some((at, Ret::Value(Some(v)) | Ret::Deleted(v)))) => Some((v, at)),
                (Op::Cas { expect, .. }, Some((at, Ret::Updated))) => Some((expect, at)),
                _ => None,
            };
            if let Some((v, at)) = v {
                let first = seen.entry(v).or_insert(at);
                *first = (*first).min(at);
            }
        }
        for c in calls.iter_mut().filter(|c| c.returned.is_none()) {
            let (v, ret) = match c.op {
                Op::Create(v) => (v, Ret::Created),
                Op::Cas { new, .. } => (new, Ret::Updated),
                Op::Put(v) => (v, Ret::Updated),
                Op::Get | Op::Delete => continue,
            };
            if let Some(&at) = seen.get(&v) {
                if at > c.invoked {
                    c.returned = Some((at - 1, ret));
                }
            }
        }
        calls
    }

    /// Checks every register's history; the error names the register.
    fn check(&self, spec: &Register) -> Result<(), String> {
        if !self.errors.is_empty() {
            return Err(self.errors.join("\n"));
        }
        let calls = self.calls();
        if let Ok(path) = std::env::var("PROP_DUMP") {
            let lines: Vec<String> = calls.iter().map(|c| format!("{c:?}")).collect();
            std::fs::write(path, lines.join("\n")).expect("dump");
        }
        for key in 0..KEYS {
            let calls: Vec<&Call> = calls.iter().filter(|c| c.key == key).collect();
            // Every operation is given a thread of its own, numbered by when
            // it returned (those that never returned come last). Real-time
            // order (which includes each client's program order) still
            // constrains the tester; the numbering makes its search try first
            // the operation that returned first, and an operation whose
            // outcome is unknown only where the history needs it.
            let mut by_return: Vec<usize> = (0..calls.len()).collect();
            by_return.sort_by_key(|&c| calls[c].returned.map_or(u64::MAX, |r| r.0));
            let mut thread = vec![0u64; calls.len()];
            for (rank, &c) in by_return.iter().enumerate() {
                thread[c] = rank as u64;
            }
            let mut events: Vec<(u64, usize, Option<Ret>)> = Vec::new();
            for (i, c) in calls.iter().enumerate() {
                events.push((c.invoked, i, None));
                if let Some((at, ret)) = c.returned {
                    events.push((at, i, Some(ret)));
                }
            }
            events.sort_by_key(|e| e.0);
            let mut tester = LinearizabilityTester::new(spec.clone());
            for (_, i, ret) in events {
                match ret {
                    None => tester.on_invoke(thread[i], calls[i].op)?,
                    Some(ret) => tester.on_return(thread[i], ret)?,
                };
            }
            if tester.serialized_history().is_none() {
                let lines: Vec<String> = calls.iter().map(|c| format!("{c:?}")).collect();
                return Err(format!(
                    "the history of {} ({} operations) is not linearizable:\n{}\nfaults:\n{}",
                    name(key),
                    calls.len(),
                    lines.join("\n"),
                    self.chaos.log.join("\n")
                ));
            }
        }
        Ok(())
    }
}

/// One operation of the history.
#[derive(Clone, Copy, Debug)]
struct Call {
    key: usize,
    op: Op,
    invoked: u64,
    returned: Option<(u64, Ret)>,
}

fn linearizable(seed: u64) -> Result<(), String> {
    check_seed(seed, Register::lenient())
}

fn check_seed(seed: u64, spec: Register) -> Result<(), String> {
    let mut run = Run::new(seed);
    run.run();
    if std::env::var("PROP_VERBOSE").is_ok() {
        eprintln!(
            "seed {}: {} acknowledged writes, {} unknown {:?}\n{}",
            run.seed,
            run.acked,
            run.unknown,
            run.why_unknown,
            run.chaos.log.join("\n")
        );
    }
    if std::env::var("PROP_NOCHECK").is_ok() {
        return Ok(());
    }
    run.check(&spec)
}

macro_rules! seeds {
    ($($name:ident: $range:expr;)*) => {$(
        #[test]
        fn $name() {
            for_seeds($range, linearizable);
        }
    )*};
}

// 200 seeds, in four tests so the harness runs them in parallel.
seeds! {
    acknowledged_configmap_operations_are_linearizable_under_faults_seeds_0_to_49: 0..50;
    acknowledged_configmap_operations_are_linearizable_under_faults_seeds_50_to_99: 50..100;
    acknowledged_configmap_operations_are_linearizable_under_faults_seeds_100_to_149: 100..150;
    acknowledged_configmap_operations_are_linearizable_under_faults_seeds_150_to_199: 150..200;
}

#[test]
fn the_register_spec_is_a_compare_and_set_map_entry() {
    let mut r = Register::default();
    assert_eq!(r.invoke(&Op::Get), Ret::Value(None));
    assert_eq!(r.invoke(&Op::Put(1)), Ret::NotFound);
    assert_eq!(r.invoke(&Op::Create(1)), Ret::Created);
    assert_eq!(r.invoke(&Op::Create(2)), Ret::AlreadyExists);
    assert_eq!(r.invoke(&Op::Cas { expect: 2, new: 3 }), Ret::Conflict);
    assert_eq!(r.invoke(&Op::Cas { expect: 1, new: 3 }), Ret::Updated);
    assert_eq!(r.invoke(&Op::Put(4)), Ret::Updated);
    assert_eq!(r.invoke(&Op::Delete), Ret::Deleted(4));
    assert_eq!(r.invoke(&Op::Delete), Ret::NotFound);
}

#[test]
fn the_checker_rejects_a_stale_read_after_an_acknowledged_write() {
    let mut t = LinearizabilityTester::new(Register::default());
    t.on_invret(0, Op::Create(1), Ret::Created).unwrap();
    t.on_invret(1, Op::Get, Ret::Value(None)).unwrap();
    assert!(!t.is_consistent());
}

#[test]
fn the_checker_accepts_an_unknown_write_as_applied_or_not() {
    let mut applied = LinearizabilityTester::new(Register::default());
    applied.on_invoke(9, Op::Create(1)).unwrap();
    applied.on_invret(0, Op::Get, Ret::Value(Some(1))).unwrap();
    assert!(applied.is_consistent());
    let mut not = LinearizabilityTester::new(Register::default());
    not.on_invoke(9, Op::Create(1)).unwrap();
    not.on_invret(0, Op::Get, Ret::Value(None)).unwrap();
    assert!(not.is_consistent());
}

/// Seed 33 races a conditional update (at the current resourceVersion) with
/// a delete of the same ConfigMap: the update reads the object, the delete
/// removes it, the update's compare-and-swap fails, and the client gets 409
/// Conflict. kube-apiserver answers 404 NotFound: after a failed compare its
/// `GuaranteedUpdate` loop re-reads the object, finds nothing, and reports
/// that (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`).
#[test]
fn a_conditional_update_racing_a_delete_is_not_found_as_in_kubernetes() {
    check_seed(33, Register::default()).unwrap();
}
