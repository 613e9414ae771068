//! Issue 3: every watcher sees every revision in order.
//!
//! Writers create, update and delete ConfigMaps through the load balancer
//! while etcd members and API servers crash, are partitioned and heal.
//! Watchers behave as a correct client (client-go's reflector) does: list,
//! then watch from the list's resourceVersion, and when the server closes the
//! watch (WatchClosed, or an error such as 410 Gone), list and watch again.
//!
//! Checked, for each watch (a "segment": one list and the watch after it):
//! - its events are in strictly increasing resourceVersion, all after the
//!   list's, and each matches the watcher's filter;
//! - each event agrees with what is known about its revision (the
//!   acknowledged write at that revision, or what another watcher saw), and
//!   with its write's kind (ADDED for a create, MODIFIED for an update,
//!   DELETED for a delete);
//! - no gaps: every known write matching the filter whose revision lies
//!   between the list's and the last event's is in the stream;
//! - the list is the state at its resourceVersion: no known write to a
//!   listed object lies between the object's resourceVersion and the list's,
//!   and a missing object was deleted, and it is at least as new as every
//!   write acknowledged before it was asked for;
//!
//! and for each watcher across its segments: a relist never goes back before
//! what the watcher had seen, so the union of the lists and streams covers
//! every acknowledged write matching its filter, up to the last one once the
//! faults are healed.

mod support;

use kubesim::api::KindId;
use kubesim::apiserver::{ApiRequest, ApiResponse, Verb, WatchEventType};
use kubesim::{Cluster, SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet};
use support::{failure, for_seeds, register, rv_of, value_of, Chaos, Failure, TestRng, NS};

const KEYS: usize = 4;
const WRITERS: usize = 3;
const WORK: SimDuration = SimDuration::from_secs(14);
const CLIENT_TIMEOUT: SimDuration = SimDuration::from_secs(30);

fn name(key: usize) -> String {
    format!("obj-{key}")
}

/// Registers 0 and 1 carry `group=a`, the others `group=b`, for life.
fn group(key: usize) -> &'static str {
    if key < 2 {
        "a"
    } else {
        "b"
    }
}

/// What a write did to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    Created(u64),
    Updated(u64),
    Deleted,
}

impl Effect {
    fn event(self) -> WatchEventType {
        match self {
            Effect::Created(_) => WatchEventType::Added,
            Effect::Updated(_) => WatchEventType::Modified,
            Effect::Deleted => WatchEventType::Deleted,
        }
    }

    fn value(self) -> Option<u64> {
        match self {
            Effect::Created(v) | Effect::Updated(v) => Some(v),
            Effect::Deleted => None,
        }
    }
}

/// A watcher's filter.
#[derive(Clone, Copy, Debug)]
enum Filter {
    All,
    Group(&'static str),
    Name(usize),
}

impl Filter {
    fn matches(self, key: usize) -> bool {
        match self {
            Filter::All => true,
            Filter::Group(g) => group(key) == g,
            Filter::Name(k) => k == key,
        }
    }

    fn apply(self, mut r: ApiRequest) -> ApiRequest {
        match self {
            Filter::All => {}
            Filter::Group(g) => r.options.label_selector = Some(format!("group={g}")),
            Filter::Name(k) => {
                r.options.field_selector = Some(format!("metadata.name={}", name(k)))
            }
        }
        r
    }
}

/// One list and the watch that followed it.
#[derive(Clone, Debug, Default)]
struct Segment {
    list_rv: u64,
    /// The largest revision acknowledged for a write before the list began.
    floor: u64,
    /// Unknown deletes submitted before the list was answered, by key.
    unknown_deletes: BTreeSet<usize>,
    items: BTreeMap<usize, (u64, u64)>,
    /// (type, key, revision, value).
    events: Vec<(WatchEventType, usize, u64, Option<u64>)>,
    closed: Option<String>,
}

#[derive(Debug)]
enum WatcherState {
    Idle { until: SimTime },
    Listing { id: u64, since: SimTime, floor: u64 },
    Watching { id: u64 },
}

#[derive(Debug)]
struct Watcher {
    filter: Filter,
    state: WatcherState,
    segments: Vec<Segment>,
}

#[derive(Debug)]
struct Write {
    id: u64,
    key: usize,
    verb: Verb,
    value: Option<u64>,
    since: SimTime,
    floor: u64,
}

struct Run {
    cluster: Cluster,
    rng: TestRng,
    chaos: Chaos,
    writers: Vec<Option<Write>>,
    watchers: Vec<Watcher>,
    next_value: u64,
    /// Acknowledged writes by revision.
    acked: BTreeMap<u64, (usize, Effect)>,
    max_acked: u64,
    /// Values of writes whose outcome is unknown, and keys of such deletes.
    unknown_values: BTreeMap<u64, usize>,
    unknown_deletes: BTreeSet<usize>,
    errors: Vec<String>,
}

fn parse_key(o: &kubesim::api::Object) -> Option<usize> {
    o.name().strip_prefix("obj-")?.parse().ok()
}

impl Run {
    fn new(seed: u64) -> Run {
        let cluster = support::booted(seed);
        let start = cluster.now() + SimDuration::from_millis(500);
        let now = cluster.now();
        let watchers = [
            Filter::All,
            Filter::Group("a"),
            Filter::Name(2),
            Filter::All,
        ]
        .into_iter()
        .map(|filter| Watcher {
            filter,
            state: WatcherState::Idle { until: now },
            segments: Vec::new(),
        })
        .collect();
        Run {
            cluster,
            rng: TestRng::new(seed),
            chaos: Chaos::new(2, start),
            writers: (0..WRITERS).map(|_| None).collect(),
            watchers,
            next_value: 0,
            acked: BTreeMap::new(),
            max_acked: 0,
            unknown_values: BTreeMap::new(),
            unknown_deletes: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    fn start_write(&mut self, i: usize) {
        let key = self.rng.range(0, KEYS as u64) as usize;
        let cred = self.cluster.admin_credential();
        self.next_value += 1;
        let v = self.next_value;
        let body = register(&name(key), v, &[("group", group(key))], None);
        let (verb, value, request) = match self.rng.range(0, 10) {
            0..=3 => (
                Verb::Create,
                Some(v),
                ApiRequest::new(Verb::Create, KindId::ConfigMap, cred)
                    .in_namespace(NS)
                    .with_body(body),
            ),
            4..=7 => (
                Verb::Update,
                Some(v),
                ApiRequest::new(Verb::Update, KindId::ConfigMap, cred)
                    .in_namespace(NS)
                    .named(name(key))
                    .with_body(body),
            ),
            _ => (
                Verb::Delete,
                None,
                ApiRequest::new(Verb::Delete, KindId::ConfigMap, cred)
                    .in_namespace(NS)
                    .named(name(key)),
            ),
        };
        let id = self.cluster.submit(request);
        self.writers[i] = Some(Write {
            id,
            key,
            verb,
            value,
            since: self.cluster.now(),
            floor: self.max_acked,
        });
    }

    fn unknown(&mut self, w: &Write) {
        match w.value {
            Some(v) => {
                self.unknown_values.insert(v, w.key);
            }
            None => {
                self.unknown_deletes.insert(w.key);
            }
        }
    }

    fn poll_writers(&mut self) {
        for i in 0..self.writers.len() {
            let Some(w) = self.writers[i].take() else {
                continue;
            };
            let mut replies = self.cluster.take_replies(w.id);
            if replies.is_empty() {
                if self.cluster.now().saturating_since(w.since) >= CLIENT_TIMEOUT {
                    self.unknown(&w);
                } else {
                    self.writers[i] = Some(w);
                }
                continue;
            }
            let r = replies.remove(0);
            let effect = match (&r, w.verb) {
                (ApiResponse::Object(o), Verb::Create) => {
                    Some((rv_of(o), Effect::Created(value_of(o))))
                }
                (ApiResponse::Object(o), _) => Some((rv_of(o), Effect::Updated(value_of(o)))),
                (ApiResponse::Deleted(o), _) => Some((rv_of(o), Effect::Deleted)),
                _ => None,
            };
            match effect {
                Some((rv, effect)) => {
                    if effect.value() != w.value {
                        self.errors
                            .push(format!("{:?} answered {}", w, r.summary()));
                    }
                    if rv <= w.floor {
                        self.errors.push(format!(
                            "{:?} acknowledged at revision {rv}, not after {}",
                            w, w.floor
                        ));
                    }
                    if let Some(prev) = self.acked.insert(rv, (w.key, effect)) {
                        self.errors.push(format!(
                            "revision {rv} acknowledged twice: {prev:?} and {effect:?}"
                        ));
                    }
                    self.max_acked = self.max_acked.max(rv);
                }
                None => {
                    if failure(&r) == Failure::Unknown {
                        self.unknown(&w);
                    }
                }
            }
        }
    }

    fn request(&self, verb: Verb, filter: Filter) -> ApiRequest {
        filter.apply(
            ApiRequest::new(verb, KindId::ConfigMap, self.cluster.admin_credential())
                .in_namespace(NS),
        )
    }

    fn poll_watchers(&mut self) {
        let now = self.cluster.now();
        for i in 0..self.watchers.len() {
            let filter = self.watchers[i].filter;
            match self.watchers[i].state {
                WatcherState::Idle { until } if until <= now => {
                    let id = self.cluster.submit(self.request(Verb::List, filter));
                    self.watchers[i].state = WatcherState::Listing {
                        id,
                        since: now,
                        floor: self.max_acked,
                    };
                }
                WatcherState::Idle { .. } => {}
                WatcherState::Listing { id, since, floor } => {
                    let mut replies = self.cluster.take_replies(id);
                    if replies.is_empty() {
                        if now.saturating_since(since) >= CLIENT_TIMEOUT {
                            self.backoff(i);
                        }
                        continue;
                    }
                    let ApiResponse::List {
                        items,
                        resource_version,
                        ..
                    } = replies.remove(0)
                    else {
                        self.backoff(i);
                        continue;
                    };
                    let mut segment = Segment {
                        list_rv: resource_version,
                        floor,
                        unknown_deletes: self.unknown_deletes.clone(),
                        ..Segment::default()
                    };
                    for o in items {
                        match parse_key(&o) {
                            Some(k) => {
                                segment.items.insert(k, (rv_of(&o), value_of(&o)));
                            }
                            None => self
                                .errors
                                .push(format!("a list returned an unknown object {}", o.name())),
                        }
                    }
                    let mut watch = self.request(Verb::Watch, filter);
                    watch.options.resource_version = Some(resource_version.to_string());
                    let id = self.cluster.submit(watch);
                    self.watchers[i].segments.push(segment);
                    self.watchers[i].state = WatcherState::Watching { id };
                }
                WatcherState::Watching { id } => {
                    let replies = self.cluster.take_replies(id);
                    let mut closed = None;
                    for r in replies {
                        match r {
                            ApiResponse::WatchStarted => {}
                            ApiResponse::Watch(e) => {
                                if e.kind == WatchEventType::Bookmark {
                                    continue;
                                }
                                let Some(o) = e.object.as_ref() else {
                                    self.errors.push(format!("an event without object: {e:?}"));
                                    continue;
                                };
                                let Some(key) = parse_key(o) else {
                                    self.errors.push(format!(
                                        "a watch sent an unknown object {}",
                                        o.name()
                                    ));
                                    continue;
                                };
                                let value =
                                    (e.kind != WatchEventType::Deleted).then(|| value_of(o));
                                if let Some(s) = self.watchers[i].segments.last_mut() {
                                    s.events.push((e.kind, key, e.resource_version, value));
                                }
                            }
                            ApiResponse::WatchClosed(err) | ApiResponse::Error(err) => {
                                closed = Some(format!("{} {}", err.code(), err.message));
                                break;
                            }
                            other => self.errors.push(format!("a watch got {}", other.summary())),
                        }
                    }
                    if let Some(why) = closed {
                        if let Some(s) = self.watchers[i].segments.last_mut() {
                            s.closed = Some(why);
                        }
                        self.backoff(i);
                    }
                }
            }
        }
    }

    fn backoff(&mut self, i: usize) {
        let until = self.cluster.now() + SimDuration::from_millis(self.rng.range(100, 1_000));
        self.watchers[i].state = WatcherState::Idle { until };
    }

    fn run(&mut self) {
        let end = self.cluster.now() + WORK;
        while self.cluster.now() < end {
            self.chaos.step(&mut self.cluster, &mut self.rng);
            for i in 0..self.writers.len() {
                if self.writers[i].is_none() && self.rng.chance(0.4) {
                    self.start_write(i);
                }
            }
            let d = SimDuration::from_millis(self.rng.range(5, 150));
            self.cluster.advance(d);
            self.poll_writers();
            self.poll_watchers();
        }
        self.chaos.heal_all(&mut self.cluster);
        let deadline = self.cluster.now() + SimDuration::from_secs(60);
        loop {
            self.cluster.advance(SimDuration::from_millis(100));
            self.poll_writers();
            self.poll_watchers();
            let quiet = self.writers.iter().all(Option::is_none)
                && self.watchers.iter().all(|w| {
                    matches!(w.state, WatcherState::Watching { .. })
                        && w.segments.last().is_some_and(|s| {
                            let high = s.events.last().map_or(s.list_rv, |e| e.2);
                            high >= self.max_acked_matching(w.filter)
                        })
                });
            if quiet || self.cluster.now() >= deadline {
                break;
            }
        }
    }

    fn max_acked_matching(&self, f: Filter) -> u64 {
        self.acked
            .iter()
            .filter(|(_, (k, _))| f.matches(*k))
            .map(|(rv, _)| *rv)
            .max()
            .unwrap_or(0)
    }

    /// Everything known about each revision: acknowledged writes, and what
    /// some watcher saw (which also reveals unknown writes that took effect).
    fn known(&mut self) -> BTreeMap<u64, (usize, Effect)> {
        let mut known = self.acked.clone();
        let mut errors = Vec::new();
        for w in &self.watchers {
            for s in &w.segments {
                for &(kind, key, rv, value) in &s.events {
                    let seen = match (kind, value) {
                        (WatchEventType::Deleted, _) => Effect::Deleted,
                        (WatchEventType::Added, Some(v)) => Effect::Created(v),
                        (_, Some(v)) => Effect::Updated(v),
                        (_, None) => continue,
                    };
                    match known.get(&rv) {
                        Some(&(k, e)) if (k, e) != (key, seen) => errors.push(format!(
                            "revision {rv}: a watch on {:?} saw {kind:?} {} {value:?}, but it is {} {e:?}",
                            w.filter,
                            name(key),
                            name(k)
                        )),
                        Some(_) => {}
                        None => {
                            let from_unknown = match seen.value() {
                                Some(v) => self.unknown_values.get(&v) == Some(&key),
                                None => self.unknown_deletes.contains(&key),
                            };
                            if !from_unknown {
                                errors.push(format!(
                                    "revision {rv}: a watch on {:?} saw {kind:?} {} {value:?}, which no write made",
                                    w.filter,
                                    name(key)
                                ));
                            }
                            known.insert(rv, (key, seen));
                        }
                    }
                }
            }
        }
        // A list reveals unknown writes that took effect too, when the
        // watch that would have shown them was replaced by a relist.
        for w in &self.watchers {
            for s in &w.segments {
                for (&key, &(rv, v)) in &s.items {
                    if !known.contains_key(&rv) && self.unknown_values.get(&v) == Some(&key) {
                        known.insert(rv, (key, Effect::Updated(v)));
                    }
                }
            }
        }
        self.errors.extend(errors);
        known
    }

    /// `streams`: also check each stream's order and gaps, and coverage.
    fn check(&mut self, streams: bool) -> Result<(), String> {
        let known = self.known();
        let mut errors = std::mem::take(&mut self.errors);
        for (wi, w) in self.watchers.iter().enumerate() {
            let f = w.filter;
            let who = format!("watcher {wi} ({f:?})");
            let mut prev_high = 0;
            let mut covered: BTreeSet<u64> = BTreeSet::new();
            for (si, s) in w.segments.iter().enumerate() {
                let at = format!("{who}, segment {si} (list at {})", s.list_rv);
                // The list: as new as every write acknowledged before it.
                if s.list_rv < s.floor {
                    errors.push(format!(
                        "{at}: the list is older than revision {}, acknowledged before it was asked for",
                        s.floor
                    ));
                }
                if s.list_rv < prev_high {
                    errors.push(format!(
                        "{at}: the relist went back before revision {prev_high}, already seen"
                    ));
                }
                // The list is the state at its revision.
                for key in (0..KEYS).filter(|k| f.matches(*k)) {
                    let last = known
                        .range(..=s.list_rv)
                        .rev()
                        .find(|(_, (k, _))| *k == key)
                        .map(|(rv, (_, e))| (*rv, *e));
                    match (s.items.get(&key), last) {
                        (Some(&(rv, v)), Some((lrv, e))) => {
                            if lrv != rv || e.value() != Some(v) {
                                errors.push(format!(
                                    "{at}: lists {} = {v} at {rv}, but the last write before the list is {e:?} at {lrv}",
                                    name(key)
                                ));
                            }
                        }
                        (Some(&(rv, v)), None) => {
                            if self.unknown_values.get(&v) != Some(&key) {
                                errors.push(format!(
                                    "{at}: lists {} = {v} at {rv}, which no write made",
                                    name(key)
                                ));
                            }
                        }
                        (None, Some((lrv, e))) => {
                            if e != Effect::Deleted && !s.unknown_deletes.contains(&key) {
                                errors.push(format!(
                                    "{at}: {} is missing, but the last write before the list is {e:?} at {lrv}",
                                    name(key)
                                ));
                            }
                        }
                        (None, None) => {}
                    }
                }
                covered.extend(
                    known
                        .range(prev_high + 1..s.list_rv.max(prev_high) + 1)
                        .filter(|(_, (k, _))| f.matches(*k))
                        .map(|(rv, _)| *rv),
                );
                if !streams {
                    continue;
                }
                // The stream.
                let mut last = s.list_rv;
                for &(kind, key, rv, _) in &s.events {
                    if rv <= last {
                        errors.push(format!(
                            "{at}: {kind:?} {} at {rv} came after revision {last}",
                            name(key)
                        ));
                    }
                    if !f.matches(key) {
                        errors.push(format!("{at}: {kind:?} {} does not match", name(key)));
                    }
                    if let Some(&(_, e)) = known.get(&rv) {
                        if e.event() != kind && self.acked.contains_key(&rv) {
                            errors.push(format!(
                                "{at}: the write at {rv} was {e:?}, the watch says {kind:?}"
                            ));
                        }
                    }
                    last = last.max(rv);
                }
                let high = last;
                let delivered: BTreeSet<u64> = s.events.iter().map(|e| e.2).collect();
                for (rv, (key, e)) in known.range(s.list_rv + 1..high + 1) {
                    if f.matches(*key) && !delivered.contains(rv) {
                        errors.push(format!(
                            "{at}: missed {e:?} of {} at {rv} (the stream reached {high})",
                            name(*key)
                        ));
                    }
                }
                covered.extend(delivered);
                prev_high = high;
            }
            if !streams {
                continue;
            }
            // Every acknowledged write matching the filter is covered by some
            // list or some stream.
            let missing: Vec<u64> = self
                .acked
                .iter()
                .filter(|(rv, (k, _))| f.matches(*k) && !covered.contains(rv))
                .map(|(rv, _)| *rv)
                .collect();
            if !missing.is_empty() {
                errors.push(format!(
                    "{who}: acknowledged writes at {missing:?} are in no list and no stream (reached {prev_high})"
                ));
            }
            match w.segments.last() {
                Some(s) if s.closed.is_none() => {}
                _ => errors.push(format!(
                    "{who}: no open watch once every fault was healed ({:?})",
                    w.state
                )),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.truncate(12);
            Err(format!(
                "{}\nfaults:\n{}",
                errors.join("\n"),
                self.chaos.log.join("\n")
            ))
        }
    }
}

fn watched(seed: u64, streams: bool) -> Result<(), String> {
    let mut run = Run::new(seed);
    run.run();
    run.check(streams)
}

/// 200 seeds. This used to fail on about a quarter of them, for two reasons
/// now fixed in the API server and the cluster: a watch opened at a
/// resourceVersion (from a quorum list) that the serving API server's watch
/// cache had not reached yet was served at once, so the cache's later events
/// up to that version reached the client and, after a relist of the cache,
/// writes in between were skipped (upstream waits until the cache is fresh,
/// `waitUntilFreshAndBlock`, else answers 504 "Too large resource version");
/// and a crashed API server's watches vanished while the load balancer kept
/// the client's connection open, so the client waited forever.
#[test]
fn every_watcher_sees_every_revision_in_order_and_a_relist_covers_what_it_missed() {
    for_seeds(0..200, |seed| watched(seed, true));
}

#[test]
fn every_list_is_the_state_at_its_resource_version_and_events_agree_with_writes() {
    for_seeds(0..40, |seed| watched(seed, false));
}
