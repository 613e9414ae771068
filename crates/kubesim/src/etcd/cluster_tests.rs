//! A tiny network of etcd members over the world's event queue: raft
//! messages are delivered with a seeded latency of 1-10 ms, ticks every
//! 100 ms, clients talk to members directly. The properties of the member
//! (election, replication, failover, quorum loss, watches, determinism, no
//! lost acknowledged write) are checked here, over many seeds where it
//! matters.

use super::member::{
    ClientId, EtcdError, EtcdMember, Input, MemberId, Output, Request, Response, Role,
};
use super::mvcc::{
    Event, KeyRange, RangeRequest, RequestOp, ResponseOp, Revision, TxnRequest, TxnResponse,
};
use crate::world::{SimDuration, SimTime, World};
use std::collections::BTreeMap;

enum Ev {
    /// A tick for a member; `incarnation` drops ticks of an earlier life.
    Tick { id: MemberId, incarnation: u64 },
    Deliver {
        to: MemberId,
        msg: raft::eraftpb::Message,
    },
}

const CLIENT: ClientId = ClientId(7);

struct Net {
    world: World<Ev>,
    members: BTreeMap<MemberId, EtcdMember>,
    incarnation: BTreeMap<MemberId, u64>,
    /// Responses by request id.
    responses: BTreeMap<u64, Result<Response, EtcdError>>,
    /// Watch events delivered to the client, per watch id.
    watched: BTreeMap<i64, Vec<Event>>,
    next_request: u64,
    trace: Vec<String>,
    /// Members cut off from the network: messages to and from them are lost.
    isolated: std::collections::BTreeSet<MemberId>,
}

impl Net {
    fn new(seed: u64, n: u64) -> Net {
        let mut world = World::new(seed);
        let ids: Vec<MemberId> = (1..=n).collect();
        let mut members = BTreeMap::new();
        for &id in &ids {
            let m = EtcdMember::new(id, &ids, world.now(), world.rng()).unwrap();
            members.insert(id, m);
        }
        let mut net = Net {
            world,
            members,
            incarnation: ids.iter().map(|&id| (id, 0)).collect(),
            responses: BTreeMap::new(),
            watched: BTreeMap::new(),
            next_request: 1,
            trace: Vec::new(),
            isolated: Default::default(),
        };
        for id in ids {
            net.schedule_tick(id);
        }
        net
    }

    /// Compacts every member's raft log often, to exercise snapshots.
    fn small_snapshots(mut self, count: u64, catch_up: u64) -> Net {
        for m in self.members.values_mut() {
            m.set_snapshot_count(count, catch_up);
        }
        self
    }

    fn schedule_tick(&mut self, id: MemberId) {
        let Some(at) = self.members.get(&id).and_then(EtcdMember::next_tick) else {
            return;
        };
        let incarnation = self.incarnation[&id];
        self.world.schedule_at(at, Ev::Tick { id, incarnation });
    }

    fn input(&mut self, id: MemberId, input: Input) {
        let now = self.world.now();
        let Some(member) = self.members.get_mut(&id) else {
            return;
        };
        let outputs = member.handle(now, input, self.world.rng());
        for o in outputs {
            match o {
                Output::Raft { to, msg } => {
                    if self.isolated.contains(&id) || self.isolated.contains(&to) {
                        continue;
                    }
                    self.trace.push(format!(
                        "{now} {id}->{to} {:?} term={} index={} commit={} entries={}",
                        msg.get_msg_type(),
                        msg.term,
                        msg.index,
                        msg.commit,
                        msg.entries.len()
                    ));
                    let delay = self.world.rng().between(1, 10);
                    self.world
                        .schedule_in(SimDuration::from_millis(delay), Ev::Deliver { to, msg });
                }
                Output::Response {
                    request_id, result, ..
                } => {
                    self.trace
                        .push(format!("{now} {id} response {request_id} {result:?}"));
                    self.responses.insert(request_id, result);
                }
                Output::WatchEvents {
                    watch_id, events, ..
                } => {
                    self.trace.push(format!(
                        "{now} {id} watch {watch_id} {} events",
                        events.len()
                    ));
                    self.watched.entry(watch_id).or_default().extend(events);
                }
                Output::WatchEnded { watch_id, .. } => {
                    self.trace
                        .push(format!("{now} {id} watch {watch_id} ended"));
                }
            }
        }
    }

    fn run_for(&mut self, d: SimDuration) {
        let until = self.world.now() + d;
        while let Some(ev) = self.world.pop_until(until) {
            match ev {
                Ev::Tick { id, incarnation } => {
                    if self.incarnation.get(&id) == Some(&incarnation) {
                        self.input(id, Input::Tick);
                        self.schedule_tick(id);
                    }
                }
                Ev::Deliver { to, msg } => {
                    let from = msg.from;
                    let cut = self.isolated.contains(&to) || self.isolated.contains(&from);
                    if !cut && self.members.get(&to).is_some_and(EtcdMember::is_up) {
                        self.input(to, Input::Raft(msg));
                    }
                }
            }
        }
        self.world.settle_at(until);
    }

    fn submit(&mut self, to: MemberId, request: Request) -> u64 {
        let request_id = self.next_request;
        self.next_request += 1;
        self.input(
            to,
            Input::Client {
                client: CLIENT,
                request_id,
                request,
            },
        );
        request_id
    }

    fn put(&mut self, to: MemberId, key: &str, value: &str) -> u64 {
        self.submit(to, Request::Txn(TxnRequest::put(key, value.as_bytes())))
    }

    fn txn_ok(&self, request_id: u64) -> Option<&TxnResponse> {
        match self.responses.get(&request_id) {
            Some(Ok(Response::Txn(t))) => Some(t),
            _ => None,
        }
    }

    fn crash(&mut self, id: MemberId) {
        self.input(id, Input::Crash);
        *self.incarnation.entry(id).or_default() += 1;
    }

    fn restart(&mut self, id: MemberId) {
        if self.members.get(&id).is_some_and(EtcdMember::is_up) {
            return;
        }
        self.input(id, Input::Restart);
        self.schedule_tick(id);
    }

    /// The leader of the highest term among running members.
    fn leader(&self) -> Option<MemberId> {
        self.members
            .values()
            .map(EtcdMember::status)
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.term)
            .map(|s| s.id)
    }

    fn leaders(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.status().role == Role::Leader)
            .count()
    }

    fn term(&self, id: MemberId) -> u64 {
        self.members[&id].status().term
    }

    fn up(&self) -> Vec<MemberId> {
        self.members
            .values()
            .filter(|m| m.is_up())
            .map(EtcdMember::id)
            .collect()
    }

    /// Every key-value in a member's store, with its revisions.
    fn contents(&self, id: MemberId) -> Vec<(String, Vec<u8>, Revision, Revision, i64)> {
        let r = self.members[&id]
            .store()
            .range(&RangeRequest::new(KeyRange::prefix("")))
            .unwrap();
        r.kvs
            .into_iter()
            .map(|kv| {
                (
                    kv.key.to_string(),
                    kv.value.to_vec(),
                    kv.create_revision,
                    kv.mod_revision,
                    kv.version,
                )
            })
            .collect()
    }
}

const SECOND: SimDuration = SimDuration::from_secs(1);

fn elected(seed: u64) -> (Net, MemberId) {
    let mut net = Net::new(seed, 3);
    for _ in 0..50 {
        net.run_for(SimDuration::from_millis(100));
        if let Some(l) = net.leader() {
            return (net, l);
        }
    }
    panic!("seed {seed}: no leader after 5 s");
}

#[test]
fn three_members_elect_one_leader_within_a_few_election_timeouts() {
    for seed in 0..20 {
        let mut net = Net::new(seed, 3);
        net.run_for(SimDuration::from_secs(4));
        assert_eq!(net.leaders(), 1, "seed {seed}");
        let leader = net.leader().unwrap();
        let term = net.term(leader);
        for m in net.members.values() {
            let s = m.status();
            assert_eq!(s.leader, Some(leader), "seed {seed}: {s:?}");
            assert_eq!(s.term, term, "seed {seed}: {s:?}");
        }
    }
}

#[test]
fn a_write_commits_and_is_applied_on_all_three_with_the_same_revision() {
    let (mut net, leader) = elected(1);
    let rid = net.put(leader, "/registry/pods/default/web", "pod");
    net.run_for(SECOND);
    let resp = net.txn_ok(rid).expect("the write is acknowledged");
    assert!(resp.succeeded);
    assert_eq!(resp.revision, 2);
    for m in net.members.values() {
        let kv = m.store().get("/registry/pods/default/web").unwrap();
        assert_eq!(kv.mod_revision, 2);
        assert_eq!(&*kv.value, b"pod");
        assert_eq!(m.store().revision(), 2);
        assert_eq!(
            m.status().applied_index,
            net.members[&leader].status().applied_index
        );
    }
}

#[test]
fn a_follower_forwards_a_write_to_the_leader_and_answers_once_applied() {
    let (mut net, leader) = elected(2);
    let follower = net.up().into_iter().find(|&id| id != leader).unwrap();
    let rid = net.put(follower, "/k", "v");
    assert!(
        !net.responses.contains_key(&rid),
        "not answered before commit"
    );
    net.run_for(SECOND);
    assert_eq!(net.txn_ok(rid).map(|t| t.revision), Some(2));
}

#[test]
fn crashing_the_leader_elects_a_new_one_with_a_higher_term_and_writes_resume() {
    for seed in 0..10 {
        let (mut net, old) = elected(seed);
        let old_term = net.term(old);
        let first = net.put(old, "/a", "1");
        net.run_for(SECOND);
        assert!(net.txn_ok(first).is_some());
        net.crash(old);
        net.run_for(SimDuration::from_secs(5));
        let new = net.leader().expect("a new leader");
        assert_ne!(new, old, "seed {seed}");
        assert!(net.term(new) > old_term, "seed {seed}");
        let second = net.put(new, "/b", "2");
        net.run_for(SECOND);
        assert_eq!(
            net.txn_ok(second).map(|t| t.revision),
            Some(3),
            "seed {seed}"
        );
        // The old leader rejoins and catches up.
        net.restart(old);
        net.run_for(SimDuration::from_secs(3));
        assert_eq!(net.contents(old), net.contents(new), "seed {seed}");
        assert_eq!(net.members[&old].status().role, Role::Follower);
    }
}

#[test]
fn with_two_of_three_down_a_write_never_commits_until_they_restart() {
    let (mut net, leader) = elected(3);
    let others: Vec<MemberId> = net.up().into_iter().filter(|&i| i != leader).collect();
    for &o in &others {
        net.crash(o);
    }
    let lost = net.put(leader, "/k", "lost?");
    net.run_for(SimDuration::from_secs(10));
    assert_eq!(
        net.responses.get(&lost),
        Some(&Err(EtcdError::Timeout)),
        "a write without quorum is never acknowledged; etcd times it out after 7 s"
    );
    assert_eq!(net.members[&leader].store().get("/k"), None);
    // check-quorum made the lonely leader step down; pre-vote kept the term.
    assert_ne!(net.members[&leader].status().role, Role::Leader);
    let retry_now = net.put(leader, "/k", "retry");
    assert_eq!(
        net.responses.get(&retry_now),
        Some(&Err(EtcdError::NoLeader))
    );
    for &o in &others {
        net.restart(o);
    }
    net.run_for(SimDuration::from_secs(5));
    let l = net.leader().expect("quorum is back");
    let retry = net.put(l, "/k", "retry");
    net.run_for(SECOND);
    assert!(net.txn_ok(retry).is_some());
    let all: Vec<_> = net.up().iter().map(|&i| net.contents(i)).collect();
    assert!(all.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn a_watcher_sees_every_revision_in_order() {
    let (mut net, leader) = elected(4);
    let watcher = net.up().into_iter().find(|&i| i != leader).unwrap();
    let early = net.put(leader, "/registry/pods/default/a", "0");
    net.run_for(SECOND);
    assert_eq!(net.txn_ok(early).map(|t| t.revision), Some(2));
    // Watch from revision 2: the backlog, then everything after.
    net.submit(
        watcher,
        Request::Watch {
            watch_id: 1,
            range: KeyRange::prefix("/registry/pods/"),
            start_revision: 2,
        },
    );
    for i in 0..30 {
        let to = net.up()[i % 3];
        net.put(
            to,
            &format!("/registry/pods/default/p{}", i % 7),
            &i.to_string(),
        );
        net.put(to, "/registry/nodes/n1", &i.to_string());
        if i % 5 == 0 {
            net.submit(
                to,
                Request::Txn(TxnRequest::ops(vec![RequestOp::delete(KeyRange::key(
                    format!("/registry/pods/default/p{}", i % 7),
                ))])),
            );
        }
        net.run_for(SimDuration::from_millis(30));
    }
    net.run_for(SECOND);
    let events = &net.watched[&1];
    let revs: Vec<Revision> = events.iter().map(Event::revision).collect();
    assert!(
        revs.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {revs:?}"
    );
    assert_eq!(revs.first(), Some(&2));
    assert!(events
        .iter()
        .all(|e| e.kv.key.starts_with("/registry/pods/")));
    // Exactly the pod changes the store went through.
    let store = net.members[&watcher].store();
    let expected: Vec<Revision> = store
        .events_since(&KeyRange::prefix("/registry/pods/"), 2)
        .unwrap()
        .iter()
        .map(Event::revision)
        .collect();
    assert_eq!(revs, expected);
    assert!(revs.len() > 30);
}

#[test]
fn a_watch_below_a_compaction_made_through_raft_is_refused_as_compacted() {
    let (mut net, leader) = elected(5);
    for i in 0..5 {
        net.put(leader, "/k", &i.to_string());
    }
    net.run_for(SECOND);
    let c = net.submit(leader, Request::Compact { revision: 4 });
    net.run_for(SECOND);
    assert_eq!(
        net.responses.get(&c),
        Some(&Ok(Response::Compact { revision: 6 }))
    );
    for m in net.members.values() {
        assert_eq!(m.status().compacted_revision, 4);
    }
    let w = net.submit(
        leader,
        Request::Watch {
            watch_id: 9,
            range: KeyRange::prefix("/"),
            start_revision: 3,
        },
    );
    assert!(matches!(
        net.responses.get(&w),
        Some(Err(EtcdError::Mvcc(super::mvcc::MvccError::Compacted {
            requested: 3,
            compacted: 4
        })))
    ));
}

#[test]
fn a_linearizable_read_on_a_follower_sees_a_write_acknowledged_before_it() {
    for seed in 0..10 {
        let (mut net, leader) = elected(seed);
        let follower = net.up().into_iter().find(|&i| i != leader).unwrap();
        let w = net.put(leader, "/k", "new");
        // Run until the leader acknowledges, then read from the follower at
        // once: ReadIndex makes the follower wait for the apply.
        for _ in 0..100 {
            if net.responses.contains_key(&w) {
                break;
            }
            net.run_for(SimDuration::from_millis(1));
        }
        assert!(net.txn_ok(w).is_some());
        let r = net.submit(
            follower,
            Request::Range(RangeRequest::new(KeyRange::key("/k"))),
        );
        net.run_for(SECOND);
        match net.responses.get(&r) {
            Some(Ok(Response::Range(rr))) => {
                assert_eq!(&*rr.kvs[0].value, b"new", "seed {seed}")
            }
            other => panic!("seed {seed}: {other:?}"),
        }
    }
}

#[test]
fn a_request_to_a_crashed_member_fails_and_a_crash_ends_its_watches() {
    let (mut net, leader) = elected(6);
    net.submit(
        leader,
        Request::Watch {
            watch_id: 3,
            range: KeyRange::prefix("/"),
            start_revision: 0,
        },
    );
    let pending = net.put(leader, "/k", "v");
    net.crash(leader);
    assert_eq!(net.responses.get(&pending), Some(&Err(EtcdError::Stopped)));
    assert!(net.trace.last().unwrap().ends_with("watch 3 ended"));
    let down = net.put(leader, "/k", "v");
    assert_eq!(
        net.responses.get(&down),
        Some(&Err(EtcdError::MemberDown(leader)))
    );
}

#[test]
fn the_same_seed_gives_the_identical_run() {
    fn run(seed: u64) -> Vec<String> {
        let (mut net, leader) = elected(seed);
        for i in 0..20 {
            net.put(net.up()[i % 3], &format!("/k{i}"), "v");
            net.run_for(SimDuration::from_millis(50));
        }
        net.crash(leader);
        net.run_for(SimDuration::from_secs(3));
        net.restart(leader);
        net.run_for(SimDuration::from_secs(2));
        net.trace
    }
    let a = run(42);
    assert!(a.len() > 100);
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
}

#[test]
fn no_acknowledged_write_is_lost_across_random_crashes_and_restarts() {
    for seed in 0..50 {
        no_acknowledged_write_is_lost(seed, None);
    }
}

#[test]
fn no_acknowledged_write_is_lost_when_members_catch_up_from_snapshots() {
    let sent: usize = (100..120)
        .map(|seed| no_acknowledged_write_is_lost(seed, Some((40, 5))))
        .sum();
    assert!(sent > 10, "only {sent} snapshots sent");
}

/// Random crashes and restarts under a steady write load; returns how many
/// snapshots were sent.
fn no_acknowledged_write_is_lost(seed: u64, snapshots: Option<(u64, u64)>) -> usize {
    {
        let mut net = Net::new(seed, 3);
        if let Some((count, catch_up)) = snapshots {
            net = net.small_snapshots(count, catch_up);
        }
        net.run_for(SimDuration::from_secs(3));
        let mut down_until: BTreeMap<MemberId, SimTime> = BTreeMap::new();
        let mut written: BTreeMap<u64, String> = BTreeMap::new();
        for step in 0..300u64 {
            // A write every 50 ms to a random running member.
            let up = net.up();
            let to = up[net.world.rng().between(0, up.len() as u64 - 1) as usize];
            let key = format!("/w/{step}");
            let rid = net.put(to, &key, &format!("{seed}-{step}"));
            written.insert(rid, key);
            // Now and then a crash: the leader more often than not.
            if net.world.rng().chance(0.03) {
                let victim = match net.leader() {
                    Some(l) if net.world.rng().chance(0.7) => l,
                    _ => up[net.world.rng().between(0, up.len() as u64 - 1) as usize],
                };
                if net.up().len() > 1 {
                    net.crash(victim);
                    let back = net.world.now()
                        + SimDuration::from_millis(net.world.rng().between(200, 3000));
                    down_until.insert(victim, back);
                }
            }
            let now = net.world.now();
            let due: Vec<MemberId> = down_until
                .iter()
                .filter(|(_, t)| **t <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                down_until.remove(&id);
                net.restart(id);
            }
            net.run_for(SimDuration::from_millis(50));
        }
        for id in 1..=3 {
            net.restart(id);
        }
        net.run_for(SimDuration::from_secs(5));
        let reference = net.contents(1);
        for id in 2..=3 {
            assert_eq!(
                net.contents(id),
                reference,
                "seed {seed}: member {id} differs"
            );
        }
        let mut acked = 0;
        let mut revisions = std::collections::BTreeSet::new();
        for (rid, key) in &written {
            if let Some(t) = net.txn_ok(*rid) {
                acked += 1;
                assert!(revisions.insert(t.revision), "seed {seed}: revision reused");
                let kv = net.members[&1].store().get(key);
                let kv = kv.unwrap_or_else(|| panic!("seed {seed}: acknowledged {key} lost"));
                assert_eq!(kv.mod_revision, t.revision, "seed {seed}: {key}");
                assert!(matches!(&t.responses[0], ResponseOp::Put(_)));
            }
        }
        assert!(acked > 50, "seed {seed}: only {acked} writes acknowledged");
        net.trace
            .iter()
            .filter(|t| t.contains("MsgSnapshot"))
            .count()
    }
}

#[test]
fn a_member_behind_the_compacted_log_catches_up_from_a_snapshot() {
    let (net, leader) = elected(8);
    let mut net = net.small_snapshots(50, 10);
    let lagging = net.up().into_iter().find(|&i| i != leader).unwrap();
    net.crash(lagging);
    for i in 0..300 {
        net.put(leader, &format!("/k/{}", i % 40), &i.to_string());
        net.run_for(SimDuration::from_millis(5));
    }
    net.run_for(SECOND);
    assert!(net.members[&leader].store().revision() > 250);
    net.restart(lagging);
    net.run_for(SimDuration::from_secs(3));
    assert!(
        net.trace.iter().any(|t| t.contains("MsgSnapshot")),
        "the log was compacted, so the leader sent a snapshot"
    );
    assert_eq!(net.contents(lagging), net.contents(leader));
    let (a, b) = (
        net.members[&lagging].status(),
        net.members[&leader].status(),
    );
    assert_eq!((a.applied_index, a.revision), (b.applied_index, b.revision));
    // And it goes on replicating by appends.
    let w = net.put(leader, "/after", "x");
    net.run_for(SECOND);
    let rev = net.txn_ok(w).unwrap().revision;
    assert_eq!(
        net.members[&lagging]
            .store()
            .get("/after")
            .unwrap()
            .mod_revision,
        rev
    );
}

#[test]
fn a_watch_on_a_member_that_installs_a_snapshot_still_sees_every_revision() {
    let (net, leader) = elected(9);
    let mut net = net.small_snapshots(50, 10);
    let lagging = net.up().into_iter().find(|&i| i != leader).unwrap();
    net.submit(
        lagging,
        Request::Watch {
            watch_id: 4,
            range: KeyRange::prefix("/k/"),
            start_revision: 0,
        },
    );
    net.isolated.insert(lagging);
    for i in 0..300 {
        net.put(leader, &format!("/k/{}", i % 40), &i.to_string());
        net.run_for(SimDuration::from_millis(5));
    }
    net.run_for(SECOND);
    net.isolated.clear();
    net.run_for(SimDuration::from_secs(3));
    assert!(net.trace.iter().any(|t| t.contains("MsgSnapshot")));
    let revs: Vec<Revision> = net.watched[&4].iter().map(Event::revision).collect();
    let expected: Vec<Revision> = (2..=net.members[&leader].store().revision()).collect();
    assert_eq!(revs, expected);
}

#[test]
fn a_single_member_cluster_elects_itself_and_commits_alone() {
    let mut net = Net::new(10, 1);
    net.run_for(SimDuration::from_secs(3));
    assert_eq!(net.leader(), Some(1));
    let w = net.put(1, "/k", "v");
    net.run_for(SimDuration::from_millis(10));
    assert_eq!(net.txn_ok(w).map(|t| t.revision), Some(2));
}

#[test]
fn five_members_keep_writing_with_two_down() {
    let mut net = Net::new(11, 5);
    net.run_for(SimDuration::from_secs(4));
    let leader = net.leader().unwrap();
    let others: Vec<MemberId> = net.up().into_iter().filter(|&i| i != leader).collect();
    net.crash(others[0]);
    net.crash(others[1]);
    let w = net.put(leader, "/k", "v");
    net.run_for(SECOND);
    assert!(net.txn_ok(w).is_some());
}

#[test]
fn a_member_outside_its_initial_cluster_or_with_id_zero_is_refused() {
    let mut rng = crate::world::SimRng::new(1);
    assert!(matches!(
        EtcdMember::new(4, &[1, 2, 3], SimTime::ZERO, &mut rng),
        Err(EtcdError::InvalidConfig(_))
    ));
    assert!(matches!(
        EtcdMember::new(0, &[0, 1], SimTime::ZERO, &mut rng),
        Err(EtcdError::InvalidConfig(_))
    ));
}

#[test]
fn a_raft_message_summary_names_the_arrow_the_ui_draws() {
    let mut msg = raft::eraftpb::Message::default();
    msg.set_msg_type(raft::eraftpb::MessageType::MsgHeartbeat);
    msg.from = 1;
    msg.to = 2;
    msg.term = 3;
    let s = super::member::RaftMessageSummary::of(&msg);
    assert_eq!(
        (s.kind.as_str(), s.from, s.to, s.term),
        ("Heartbeat", 1, 2, 3)
    );
}
