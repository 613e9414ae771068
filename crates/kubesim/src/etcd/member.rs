//! An etcd member as a pure state machine: raft below, MVCC above.
//!
//! In etcd, `etcdserver` runs a raft node (`server/etcdserver/raft.go`) and
//! applies every committed log entry to its MVCC store (`apply.go`); clients
//! (here: API servers) talk gRPC to any member. This module does the same
//! without I/O: an [`Input`] (a tick of time, a raft message from a peer, a
//! client request, a crash or a restart) goes in with `now` and the run's
//! [`SimRng`], and a `Vec` of [`Output`]s comes out as data (raft messages to
//! peers, responses to clients, watch events to watchers). The world delivers
//! them; the member never does.
//!
//! Replication is the `raft` crate (TiKV's port of etcd's own raft library,
//! `raft-rs`): [`RawNode`] over a [`MemStorage`] that stands for the member's
//! disk (the WAL). The member drives it as etcd's `raftNode.start` loop does:
//! `tick` every 100 ms (heartbeat 100 ms = 1 tick, election timeout 1000 ms =
//! 10 ticks, etcd's defaults), `step` for every peer message, then `ready`:
//! send, persist entries and hard state, apply committed entries, `advance`.
//! Pre-vote and check-quorum are on, as in etcd 3.5 and later, so a leader cut
//! off from the majority steps down and an isolated member does not inflate
//! the term.
//!
//! raft-rs draws its randomized election timeout from `thread_rng`, which
//! would make runs differ. After every call that may have reset it (the term
//! or role changed, or the timeout is not the one drawn last), the member
//! draws a new one from the run's [`SimRng`] in `[election_tick,
//! 2 * election_tick)`, the same range raft-rs uses.
//!
//! Client requests, and where this follows etcd:
//! - `Txn` and `Compact` are proposed through raft with the proposing member
//!   and a sequence number in the entry (etcd's `InternalRaftRequest` id);
//!   every member applies the entry, and the member the client talks to
//!   answers once it has applied it, with the resulting revision. On a
//!   follower, raft forwards the proposal to the leader (`MsgPropose`), as
//!   etcd does: the client never has to find the leader. With no known leader
//!   the member answers [`EtcdError::NoLeader`] at once (etcd returns
//!   `etcdserver: no leader` once the request times out; answering at once
//!   saves the caller the wait).
//! - `Range` is linearizable through raft's ReadIndex (etcd's
//!   `linearizableReadLoop`): the member asks the leader for the commit index,
//!   waits until it has applied that far, then reads its own store. A
//!   ReadIndex that gets no answer is asked again after 500 ms, as etcd's
//!   `readIndexRetryTime`. `serializable` ranges read the local store at once.
//! - `Watch` is served by the member the client talks to, from its own store:
//!   first every event since `start_revision` (or an error if that is below
//!   the compacted revision: the API server's 410 Gone), then, after every
//!   apply, the matching new events in revision order.
//!
//! Timeouts are the caller's job: a proposal that never commits (quorum lost,
//! or the entry was dropped when leadership changed) is never acknowledged.
//! Like etcd, the member gives up on it after its request timeout (7 s:
//! `etcdserver: request timed out`, whose outcome is unknown); a caller with
//! a shorter deadline (the API server's, a client's) times out on its own
//! clock and must treat the write as possibly applied. A crash ends the
//! member's connections: every request in flight gets [`EtcdError::Stopped`]
//! (outcome unknown too) and every watch ends with it. That output stands
//! for the client seeing its connection break, not for a message the dead
//! process sends.
//!
//! A crashed member keeps its disk (raft log, hard state, and the MVCC store
//! with its applied index, as etcd's bbolt keeps its consistent index) and
//! rejoins on restart, replaying only entries it had not applied. Every
//! [`SNAPSHOT_COUNT`] applied entries the raft log is compacted, keeping
//! [`SNAPSHOT_CATCH_UP_ENTRIES`] (etcd's `--snapshot-count` and
//! `SnapshotCatchUpEntries`); a follower that fell further behind receives
//! the leader's whole store as a raft snapshot, as etcd sends its backend,
//! and its watches catch up from the new store.
//!
//! What the simulation leaves out: membership changes (the member set is
//! fixed at bootstrap), learners, leader transfer, leases and their
//! keep-alives, auth, the gRPC gateway, request size limits and the
//! `--max-request-bytes` / backend-quota alarms, progress-notify watch
//! responses, and the cost of a snapshot's transfer (it arrives as one
//! message).

use super::codec::{CodecError, Op, Proposal};
use super::mvcc::{Event, KeyRange, MvccError, MvccStore, RangeRequest, RangeResponse, Revision};
use super::mvcc::{TxnRequest, TxnResponse};
use crate::world::{SimDuration, SimRng, SimTime};
use raft::eraftpb::{Entry, EntryType, Message, MessageType, Snapshot, SnapshotMetadata};
use raft::storage::{MemStorage, Storage};
use raft::{
    Config, GetEntriesContext, RaftState, RawNode, SnapshotStatus, StateRole, StorageError,
};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A member's raft id (non-zero; raft uses 0 for "none").
pub type MemberId = u64;

/// How often raft's logical clock ticks (etcd's `--heartbeat-interval`).
pub const TICK_INTERVAL: SimDuration = SimDuration::from_millis(100);
/// Heartbeat every tick: 100 ms.
pub const HEARTBEAT_TICK: usize = 1;
/// Election timeout of 10 ticks: 1000 ms (etcd's `--election-timeout`).
pub const ELECTION_TICK: usize = 10;
/// Ticks before an unanswered ReadIndex is asked again (etcd's
/// `readIndexRetryTime`, 500 ms).
const READ_INDEX_RETRY_TICKS: u64 = 5;
/// At most this many ticks are caught up at once after a long pause.
const MAX_CATCH_UP_TICKS: u64 = 4 * ELECTION_TICK as u64;
/// etcd's request timeout, `ReqTimeout()`: 5 s plus twice the election
/// timeout, 7 s. A request not answered by then gets
/// [`EtcdError::Timeout`].
pub const REQUEST_TIMEOUT_TICKS: u64 = 50 + 2 * ELECTION_TICK as u64;
/// Applied entries after which the raft log is compacted (etcd's
/// `--snapshot-count`; etcd's current default is 100,000, its default before
/// v3.2 was 10,000, which keeps a browser tab's memory small).
pub const SNAPSHOT_COUNT: u64 = 10_000;
/// Entries kept behind the applied index at a log compaction, so that a
/// follower slightly behind catches up by appends rather than a snapshot
/// (etcd's `SnapshotCatchUpEntries`).
pub const SNAPSHOT_CATCH_UP_ENTRIES: u64 = 5_000;

/// Who sent a client request (an API server instance), so that responses
/// and watch events go back to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClientId(pub u64);

/// A client's watch, named by the client (etcd's `watch_id`).
pub type WatchId = i64;

/// A client request, as etcd's `KV` and `Watch` services take them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A transaction (plain puts and deletes are transactions without
    /// compares), proposed through raft.
    Txn(TxnRequest),
    /// A range read: linearizable unless `serializable`.
    Range(RangeRequest),
    /// Drop history below `revision`, proposed through raft.
    Compact { revision: Revision },
    /// Start a watch on `range` from `start_revision` (0: from the next
    /// revision).
    Watch {
        watch_id: WatchId,
        range: KeyRange,
        start_revision: Revision,
    },
    /// End a watch.
    CancelWatch { watch_id: WatchId },
}

/// The successful answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Txn(TxnResponse),
    Range(RangeResponse),
    /// The compaction was applied; `revision` is the store's current one.
    Compact {
        revision: Revision,
    },
    /// The watch is registered; events will follow from its start revision.
    /// `revision` is the member's current revision.
    WatchCreated {
        watch_id: WatchId,
        revision: Revision,
    },
    WatchCanceled {
        watch_id: WatchId,
    },
}

/// Why a request failed (etcd's `rpctypes` errors, with their messages).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EtcdError {
    /// The store refused the request (compacted or future revision,
    /// duplicate key in a txn, ...).
    #[error(transparent)]
    Mvcc(#[from] MvccError),
    /// No leader is known, so nothing can be proposed or read linearizably.
    #[error("etcdserver: no leader")]
    NoLeader,
    /// raft dropped the proposal (for instance a leader that is stepping
    /// down).
    #[error("etcdserver: proposal dropped")]
    ProposalDropped,
    /// The member stopped while the request was in flight: the request may or
    /// may not have been applied.
    #[error("etcdserver: server stopped")]
    Stopped,
    /// The member is down and does not answer.
    #[error("etcdserver: member {0} is down")]
    MemberDown(MemberId),
    /// A watch with this id is already open on this connection.
    #[error("etcdserver: watch id {0} already exists")]
    DuplicateWatchId(WatchId),
    /// No watch with this id is open on this connection.
    #[error("etcdserver: watch id {0} does not exist")]
    UnknownWatchId(WatchId),
    /// The member was configured wrongly (raft refused the configuration).
    #[error("etcd member configuration is invalid: {0}")]
    InvalidConfig(String),
    /// etcd's `ErrTimeout`: the request was not answered within the request
    /// timeout (it may still be applied later).
    #[error("etcdserver: request timed out")]
    Timeout,
    /// A committed entry could not be decoded (never for entries this code
    /// proposed).
    #[error("etcdserver: corrupt raft entry: {0}")]
    Corrupt(#[from] CodecError),
}

/// What goes into a member.
#[derive(Clone, Debug)]
pub enum Input {
    /// Time passed: raft ticks once for every [`TICK_INTERVAL`] since the last
    /// tick (the world schedules one at [`EtcdMember::next_tick`]).
    Tick,
    /// A raft message from a peer.
    Raft(Message),
    /// A client request; `request_id` comes back in the response.
    Client {
        client: ClientId,
        request_id: u64,
        request: Request,
    },
    /// The member's process dies; its disk survives.
    Crash,
    /// The member's process starts again from its disk.
    Restart,
}

/// What comes out of a member, for the world to deliver.
#[derive(Clone, Debug)]
pub enum Output {
    /// A raft message for peer `to` (see [`RaftMessageSummary`] for what
    /// the UI draws of it).
    Raft { to: MemberId, msg: Message },
    /// The answer to a client request.
    Response {
        client: ClientId,
        request_id: u64,
        result: Result<Response, EtcdError>,
    },
    /// New events for an open watch, in revision order; `revision` is the
    /// member's revision after them.
    WatchEvents {
        client: ClientId,
        watch_id: WatchId,
        revision: Revision,
        events: Vec<Event>,
    },
    /// A watch ended without being cancelled (the member stopped).
    WatchEnded {
        client: ClientId,
        watch_id: WatchId,
        reason: EtcdError,
    },
}

/// What the UI and traces show of a raft message (an arrow between two
/// members: heartbeats, appends, votes, snapshots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaftMessageSummary {
    pub from: MemberId,
    pub to: MemberId,
    /// raft's message type without the `Msg` prefix: `Append`, `Heartbeat`,
    /// `RequestVote`, `Snapshot`, ...
    pub kind: String,
    pub term: u64,
    /// Log entries carried (appends).
    pub entries: usize,
    /// Whether a response refuses (a rejected append or vote).
    pub reject: bool,
}

impl RaftMessageSummary {
    pub fn of(msg: &Message) -> Self {
        let kind = format!("{:?}", msg.get_msg_type());
        RaftMessageSummary {
            from: msg.from,
            to: msg.to,
            kind: kind.strip_prefix("Msg").unwrap_or(&kind).to_string(),
            term: msg.term,
            entries: msg.entries.len(),
            reject: msg.reject,
        }
    }
}

/// A member's raft role, for the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Role {
    Leader,
    Follower,
    Candidate,
    PreCandidate,
    /// The member's process is down.
    Stopped,
}

impl Role {
    fn of(state: StateRole) -> Role {
        match state {
            StateRole::Leader => Role::Leader,
            StateRole::Follower => Role::Follower,
            StateRole::Candidate => Role::Candidate,
            StateRole::PreCandidate => Role::PreCandidate,
        }
    }
}

/// A read-only projection of a member for the UI and `sim status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberStatus {
    pub id: MemberId,
    pub role: Role,
    pub term: u64,
    /// The leader this member knows of, if any.
    pub leader: Option<MemberId>,
    pub commit_index: u64,
    pub applied_index: u64,
    pub revision: Revision,
    pub compacted_revision: Revision,
    /// Keys in the store now.
    pub key_count: usize,
}

/// What survives a crash: the WAL (raft log and hard state) and the backend
/// (the MVCC store with the index it has applied up to).
struct Disk {
    wal: Wal,
    /// The metadata of the last snapshot installed in the raft log (index 0
    /// before any): `MemStorage` keeps it without a getter, and a copy of
    /// the log (see [`EtcdMember::try_clone`]) needs it.
    snapshot_meta: SnapshotMetadata,
    store: MvccStore,
    applied: u64,
    /// The next proposal sequence number; on disk so that numbers are never
    /// reused across restarts (etcd's request ids carry a time prefix for the
    /// same reason).
    next_seq: u64,
}

/// The raft log and hard state (etcd's WAL and its raft storage), with a
/// place where the member leaves a snapshot of its store for raft to send.
///
/// raft-rs asks its storage for a snapshot when a follower needs entries
/// that were compacted away. The store is not the raft storage's to read,
/// so the first ask answers "temporarily unavailable" and raises `wanted`;
/// the member then encodes its store at its applied index, and raft's next
/// attempt (on the follower's next heartbeat response) takes it. etcd, too,
/// builds the snapshot it sends from its backend at send time.
#[derive(Clone)]
struct Wal {
    log: MemStorage,
    outbox: Rc<RefCell<SnapshotOutbox>>,
}

#[derive(Clone, Default)]
struct SnapshotOutbox {
    wanted: bool,
    ready: Option<Snapshot>,
}

impl Storage for Wal {
    fn initial_state(&self) -> raft::Result<RaftState> {
        self.log.initial_state()
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        self.log.entries(low, high, max_size, context)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        self.log.term(idx)
    }

    fn first_index(&self) -> raft::Result<u64> {
        self.log.first_index()
    }

    fn last_index(&self) -> raft::Result<u64> {
        self.log.last_index()
    }

    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        let unavailable = Err(raft::Error::Store(
            StorageError::SnapshotTemporarilyUnavailable,
        ));
        let Ok(mut outbox) = self.outbox.try_borrow_mut() else {
            return unavailable;
        };
        let first = self.log.first_index().unwrap_or(1);
        match outbox.ready.take() {
            // Still useful: the entries after it are in the log.
            Some(snap)
                if snap.get_metadata().index + 1 >= first
                    && snap.get_metadata().index >= request_index =>
            {
                Ok(snap)
            }
            _ => {
                outbox.wanted = true;
                unavailable
            }
        }
    }
}

/// A request waiting for its entry to be applied.
#[derive(Clone)]
struct PendingWrite {
    client: ClientId,
    request_id: u64,
    asked_at_tick: u64,
}

/// A linearizable read waiting for its read index, then for the apply.
#[derive(Clone)]
struct PendingRead {
    client: ClientId,
    request_id: u64,
    request: RangeRequest,
    read_index: Option<u64>,
    /// When the ReadIndex was last asked (for the retry).
    asked_at_tick: u64,
    /// When the client asked (for the timeout).
    since_tick: u64,
}

/// An open watch: its range and the first revision not yet delivered.
#[derive(Clone)]
struct Watcher {
    range: KeyRange,
    next_revision: Revision,
}

/// What lives only while the process runs.
struct Running {
    raw: RawNode<Wal>,
    last_tick: SimTime,
    ticks: u64,
    /// (term, role, timeout) when the election timeout was last drawn.
    drawn: (u64, StateRole, usize),
    writes: BTreeMap<u64, PendingWrite>,
    reads: BTreeMap<u64, PendingRead>,
    watchers: BTreeMap<(ClientId, WatchId), Watcher>,
}

/// One etcd member.
pub struct EtcdMember {
    id: MemberId,
    peers: Vec<MemberId>,
    disk: Disk,
    running: Option<Running>,
    logger: slog::Logger,
    snapshot_count: u64,
    catch_up_entries: u64,
}

impl std::fmt::Debug for EtcdMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdMember")
            .field("status", &self.status())
            .finish()
    }
}

impl EtcdMember {
    /// A new member `id` of a cluster of `peers` (which includes `id`),
    /// started at `now` with an empty disk, as `etcd --initial-cluster`
    /// bootstraps a fresh cluster.
    pub fn new(
        id: MemberId,
        peers: &[MemberId],
        now: SimTime,
        rng: &mut SimRng,
    ) -> Result<Self, EtcdError> {
        if id == 0 || peers.contains(&0) {
            return Err(EtcdError::InvalidConfig(
                "member ids must be non-zero".into(),
            ));
        }
        if !peers.contains(&id) {
            return Err(EtcdError::InvalidConfig(format!(
                "member {id} is not in the initial cluster {peers:?}"
            )));
        }
        let mut peers = peers.to_vec();
        peers.sort_unstable();
        peers.dedup();
        let log = MemStorage::new_with_conf_state((peers.clone(), vec![]));
        let mut member = EtcdMember {
            id,
            peers,
            disk: Disk {
                wal: Wal {
                    log,
                    outbox: Rc::default(),
                },
                snapshot_meta: SnapshotMetadata::default(),
                store: MvccStore::new(),
                applied: 0,
                next_seq: 0,
            },
            running: None,
            logger: slog::Logger::root(slog::Discard, slog::o!()),
            snapshot_count: SNAPSHOT_COUNT,
            catch_up_entries: SNAPSHOT_CATCH_UP_ENTRIES,
        };
        member.start(now, rng)?;
        Ok(member)
    }

    /// Compacts the raft log every `count` applied entries, keeping
    /// `catch_up` behind (tests use small numbers to exercise snapshots).
    #[cfg(test)]
    pub(crate) fn set_snapshot_count(&mut self, count: u64, catch_up: u64) {
        self.snapshot_count = count.max(1);
        self.catch_up_entries = catch_up;
    }

    fn config(&self) -> Config {
        Config {
            id: self.id,
            election_tick: ELECTION_TICK,
            heartbeat_tick: HEARTBEAT_TICK,
            applied: self.disk.applied,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 256,
            check_quorum: true,
            pre_vote: true,
            ..Config::default()
        }
    }

    /// Starts the process from the disk (`etcdserver.NewServer` restarting
    /// from its WAL and backend).
    fn start(&mut self, now: SimTime, rng: &mut SimRng) -> Result<(), EtcdError> {
        let raw = RawNode::new(&self.config(), self.disk.wal.clone(), &self.logger)
            .map_err(|e| EtcdError::InvalidConfig(e.to_string()))?;
        let mut running = Running {
            raw,
            last_tick: now,
            ticks: 0,
            drawn: (u64::MAX, StateRole::Follower, 0),
            writes: BTreeMap::new(),
            reads: BTreeMap::new(),
            watchers: BTreeMap::new(),
        };
        running.redraw_election_timeout(rng);
        self.running = Some(running);
        Ok(())
    }

    pub fn id(&self) -> MemberId {
        self.id
    }

    /// The members of the cluster, this one included, in id order.
    pub fn peers(&self) -> &[MemberId] {
        &self.peers
    }

    /// Whether the process runs.
    pub fn is_up(&self) -> bool {
        self.running.is_some()
    }

    /// The member's store (its disk: readable while down too).
    pub fn store(&self) -> &MvccStore {
        &self.disk.store
    }

    /// When the next raft tick is due, if the member runs.
    pub fn next_tick(&self) -> Option<SimTime> {
        self.running.as_ref().map(|r| r.last_tick + TICK_INTERVAL)
    }

    /// The projection the UI draws.
    pub fn status(&self) -> MemberStatus {
        let (role, term, leader, commit_index) = match &self.running {
            Some(r) => {
                let raft = &r.raw.raft;
                (
                    Role::of(raft.state),
                    raft.term,
                    Some(raft.leader_id).filter(|l| *l != 0),
                    raft.raft_log.committed,
                )
            }
            None => {
                let hs = self
                    .disk
                    .wal
                    .initial_state()
                    .map(|s| s.hard_state)
                    .unwrap_or_default();
                (Role::Stopped, hs.term, None, hs.commit)
            }
        };
        MemberStatus {
            id: self.id,
            role,
            term,
            leader,
            commit_index,
            applied_index: self.disk.applied,
            revision: self.disk.store.revision(),
            compacted_revision: self.disk.store.compacted_revision(),
            key_count: self.disk.store.key_count(),
        }
    }

    /// Feeds one input; returns what the world must deliver.
    pub fn handle(&mut self, now: SimTime, input: Input, rng: &mut SimRng) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Crash => {
                self.crash(&mut out);
                return out;
            }
            Input::Restart => {
                // A configuration that started once starts again; should raft
                // refuse it, the member stays down rather than panic.
                if self.running.is_none() && self.start(now, rng).is_err() {
                    return out;
                }
            }
            Input::Tick => {
                if let Some(r) = self.running.as_mut() {
                    r.tick(now, rng, &mut out);
                }
            }
            Input::Raft(msg) => {
                if msg.to != self.id {
                    return out;
                }
                if let Some(r) = self.running.as_mut() {
                    // Errors are for messages raft refuses (from unknown
                    // peers, or local message types): dropped, as etcd drops
                    // them.
                    let _ = r.raw.step(msg);
                    r.redraw_election_timeout(rng);
                }
            }
            Input::Client {
                client,
                request_id,
                request,
            } => {
                if self.running.is_none() {
                    out.push(Output::Response {
                        client,
                        request_id,
                        result: Err(EtcdError::MemberDown(self.id)),
                    });
                    return out;
                }
                self.client_request(client, request_id, request, &mut out);
                if let Some(r) = self.running.as_mut() {
                    r.redraw_election_timeout(rng);
                }
            }
        }
        self.process_ready(&mut out);
        self.prepare_snapshot();
        out
    }

    fn crash(&mut self, out: &mut Vec<Output>) {
        let Some(running) = self.running.take() else {
            return;
        };
        // A snapshot being prepared lived in the process's memory.
        if let Ok(mut outbox) = self.disk.wal.outbox.try_borrow_mut() {
            *outbox = SnapshotOutbox::default();
        }
        for (_, w) in running.writes {
            out.push(Output::Response {
                client: w.client,
                request_id: w.request_id,
                result: Err(EtcdError::Stopped),
            });
        }
        for (_, read) in running.reads {
            out.push(Output::Response {
                client: read.client,
                request_id: read.request_id,
                result: Err(EtcdError::Stopped),
            });
        }
        for ((client, watch_id), _) in running.watchers {
            out.push(Output::WatchEnded {
                client,
                watch_id,
                reason: EtcdError::Stopped,
            });
        }
    }

    fn client_request(
        &mut self,
        client: ClientId,
        request_id: u64,
        request: Request,
        out: &mut Vec<Output>,
    ) {
        let Some(running) = self.running.as_mut() else {
            return;
        };
        let respond = |out: &mut Vec<Output>, result| {
            out.push(Output::Response {
                client,
                request_id,
                result,
            })
        };
        match request {
            Request::Txn(txn) => {
                // etcd's v3rpc checks a txn before proposing it.
                if let Err(e) = txn.validate() {
                    return respond(out, Err(e.into()));
                }
                let result = self.propose(Op::Txn(txn), client, request_id);
                if let Err(e) = result {
                    respond(out, Err(e));
                }
            }
            Request::Compact { revision } => {
                let result = self.propose(Op::Compact(revision), client, request_id);
                if let Err(e) = result {
                    respond(out, Err(e));
                }
            }
            Request::Range(range) => {
                if range.serializable {
                    let result = self.disk.store.range(&range).map(Response::Range);
                    return respond(out, result.map_err(EtcdError::from));
                }
                if running.raw.raft.leader_id == 0 {
                    return respond(out, Err(EtcdError::NoLeader));
                }
                let seq = self.disk.next_seq;
                self.disk.next_seq += 1;
                running.raw.read_index(seq.to_be_bytes().to_vec());
                running.reads.insert(
                    seq,
                    PendingRead {
                        client,
                        request_id,
                        request: range,
                        read_index: None,
                        asked_at_tick: running.ticks,
                        since_tick: running.ticks,
                    },
                );
            }
            Request::Watch {
                watch_id,
                range,
                start_revision,
            } => {
                if running.watchers.contains_key(&(client, watch_id)) {
                    return respond(out, Err(EtcdError::DuplicateWatchId(watch_id)));
                }
                let store = &self.disk.store;
                let current = store.revision();
                let start = if start_revision <= 0 {
                    current + 1
                } else {
                    start_revision
                };
                // etcd's watchable store: a watch starting below the
                // compacted revision is cancelled with ErrCompacted.
                let backlog = match store.events_since(&range, start) {
                    Ok(events) => events,
                    Err(e) => return respond(out, Err(e.into())),
                };
                respond(
                    out,
                    Ok(Response::WatchCreated {
                        watch_id,
                        revision: current,
                    }),
                );
                if !backlog.is_empty() {
                    out.push(Output::WatchEvents {
                        client,
                        watch_id,
                        revision: current,
                        events: backlog,
                    });
                }
                running.watchers.insert(
                    (client, watch_id),
                    Watcher {
                        range,
                        next_revision: start.max(current + 1),
                    },
                );
            }
            Request::CancelWatch { watch_id } => {
                let result = match running.watchers.remove(&(client, watch_id)) {
                    Some(_) => Ok(Response::WatchCanceled { watch_id }),
                    None => Err(EtcdError::UnknownWatchId(watch_id)),
                };
                respond(out, result);
            }
        }
    }

    /// Proposes `op` through raft and remembers who waits for it.
    fn propose(&mut self, op: Op, client: ClientId, request_id: u64) -> Result<(), EtcdError> {
        let Some(running) = self.running.as_mut() else {
            return Err(EtcdError::MemberDown(self.id));
        };
        if running.raw.raft.leader_id == 0 {
            return Err(EtcdError::NoLeader);
        }
        let seq = self.disk.next_seq;
        self.disk.next_seq += 1;
        let data = Proposal {
            origin: self.id,
            seq,
            op,
        }
        .encode();
        match running.raw.propose(vec![], data) {
            Ok(()) => {
                let asked_at_tick = running.ticks;
                running.writes.insert(
                    seq,
                    PendingWrite {
                        client,
                        request_id,
                        asked_at_tick,
                    },
                );
                Ok(())
            }
            Err(_) => Err(EtcdError::ProposalDropped),
        }
    }

    /// Handles every pending `Ready` (raft-rs's `examples/five_mem_node`, and
    /// etcd's `raftNode.start`): send, persist, apply, advance; then serve the
    /// reads and watches that the applied entries unblocked, and compact the
    /// raft log when it has grown by `snapshot_count` entries.
    fn process_ready(&mut self, out: &mut Vec<Output>) {
        let id = self.id;
        let Some(running) = self.running.as_mut() else {
            return;
        };
        let disk = &mut self.disk;
        let mut events = Vec::new();
        let mut installed_snapshot = false;
        // A Ready can leave another behind (messages produced by advance or
        // by a snapshot report); a few rounds drain it, and the next input
        // picks up any rest.
        for _ in 0..4 {
            if !running.raw.has_ready() {
                break;
            }
            let mut snapshots_sent = Vec::new();
            let mut rd = running.raw.ready();
            send(id, rd.take_messages(), out, &mut snapshots_sent);
            if !rd.snapshot().is_empty() {
                installed_snapshot |= install_snapshot(disk, rd.snapshot());
            }
            let committed = rd.take_committed_entries();
            apply(id, disk, running, committed, &mut events, out);
            if !rd.entries().is_empty() {
                // Cannot fail: raft hands entries that follow the stored log.
                let _ = disk.wal.log.wl().append(rd.entries());
            }
            if let Some(hs) = rd.hs() {
                disk.wal.log.wl().set_hardstate(hs.clone());
            }
            for rs in rd.take_read_states() {
                let seq = <[u8; 8]>::try_from(rs.request_ctx.as_slice()).map(u64::from_be_bytes);
                if let Some(read) = seq.ok().and_then(|s| running.reads.get_mut(&s)) {
                    read.read_index = Some(rs.index);
                }
            }
            send(id, rd.take_persisted_messages(), out, &mut snapshots_sent);
            let mut light = running.raw.advance(rd);
            if let Some(commit) = light.commit_index() {
                disk.wal.log.wl().mut_hard_state().set_commit(commit);
            }
            send(id, light.take_messages(), out, &mut snapshots_sent);
            let committed = light.take_committed_entries();
            apply(id, disk, running, committed, &mut events, out);
            running.raw.advance_apply();
            // The world's network takes every message it is handed, as
            // etcd's rafthttp reports a snapshot finished once it is sent;
            // a lost one shows up as a rejected append and is sent again.
            for to in snapshots_sent {
                running.raw.report_snapshot(to, SnapshotStatus::Finish);
            }
        }
        serve_reads(disk, running, out);
        if installed_snapshot {
            resync_watchers(disk, running, out);
        }
        notify_watchers(disk, running, &events, out);
        // etcd's `triggerSnapshot`: once `snapshot_count` entries were applied
        // since the log's start, drop all but `catch_up_entries` of them.
        let first = disk.wal.log.first_index().unwrap_or(1);
        if disk.applied >= first + self.snapshot_count + self.catch_up_entries {
            let _ = disk
                .wal
                .log
                .wl()
                .compact(disk.applied - self.catch_up_entries);
        }
    }

    /// Encodes the store for raft when it asked for a snapshot to send.
    fn prepare_snapshot(&mut self) {
        let disk = &self.disk;
        let Ok(mut outbox) = disk.wal.outbox.try_borrow_mut() else {
            return;
        };
        if !outbox.wanted {
            return;
        }
        outbox.wanted = false;
        let Ok(term) = disk.wal.log.term(disk.applied) else {
            return;
        };
        let Ok(state) = disk.wal.log.initial_state() else {
            return;
        };
        let mut snap = Snapshot::default();
        let meta = snap.mut_metadata();
        meta.index = disk.applied;
        meta.term = term;
        meta.set_conf_state(state.conf_state);
        snap.data = disk.store.encode_snapshot().into();
        outbox.ready = Some(snap);
    }
}

impl EtcdMember {
    /// An exact copy of the member whose future is the same as this one's
    /// given the same inputs (a checkpoint of the run), sharing no mutable
    /// state with it.
    ///
    /// raft-rs's `RawNode` is not `Clone`, and `MemStorage` shares its core
    /// between clones, so both are rebuilt: the raft log is copied entry by
    /// entry into a new storage, and a new `RawNode` over it gets every
    /// field of the original's raft state (term, vote, role, leader, log
    /// indexes, election clock and drawn timeout, progress of the peers,
    /// pending reads, ...). What raft-rs keeps private is either fixed by
    /// the configuration (timeouts, `promotable` for a fixed member set, no
    /// uncommitted-size limit), or equal to what a fresh `RawNode` has once
    /// every `Ready` was handled: the last handed-out soft and hard state,
    /// no ready records, `commit_since_index` at the applied index, and a
    /// heartbeat clock at zero (it restarts every tick at `HEARTBEAT_TICK`
    /// 1). `None` when the member is between two halves of that work (a
    /// `Ready` left for its next input): the state is then not reproducible
    /// through raft-rs's API, and the caller tries again later.
    pub fn try_clone(&self) -> Option<EtcdMember> {
        let wal = Wal {
            log: copy_log(&self.disk.wal.log, &self.disk.snapshot_meta)?,
            outbox: Rc::new(RefCell::new(
                self.disk.wal.outbox.try_borrow().ok()?.clone(),
            )),
        };
        let running = match &self.running {
            None => None,
            Some(r) => {
                let mut config = self.config();
                config.applied = r.raw.raft.raft_log.applied;
                Some(Running {
                    raw: copy_raw_node(&r.raw, &config, wal.clone(), &self.logger)?,
                    last_tick: r.last_tick,
                    ticks: r.ticks,
                    drawn: r.drawn,
                    writes: r.writes.clone(),
                    reads: r.reads.clone(),
                    watchers: r.watchers.clone(),
                })
            }
        };
        Some(EtcdMember {
            id: self.id,
            peers: self.peers.clone(),
            disk: Disk {
                wal,
                snapshot_meta: self.disk.snapshot_meta.clone(),
                store: self.disk.store.clone(),
                applied: self.disk.applied,
                next_seq: self.disk.next_seq,
            },
            running,
            logger: self.logger.clone(),
            snapshot_count: self.snapshot_count,
            catch_up_entries: self.catch_up_entries,
        })
    }
}

/// A new `MemStorage` holding what `log` holds: the same entries, hard
/// state, configuration and snapshot metadata (so `first_index`, `term` and
/// the `Compacted` answers are the same). A compacted log is rebuilt by
/// appending placeholders up to its first entry and compacting them away,
/// the only way `MemStorage`'s API leaves a gap after the snapshot index.
fn copy_log(log: &MemStorage, snapshot: &SnapshotMetadata) -> Option<MemStorage> {
    let state = log.initial_state().ok()?;
    let first = log.first_index().ok()?;
    let last = log.last_index().ok()?;
    if first <= snapshot.index || last + 1 < first {
        return None;
    }
    let entries = if last >= first {
        log.entries(first, last + 1, None, GetEntriesContext::empty(false))
            .ok()?
    } else {
        Vec::new()
    };
    let copy = MemStorage::new();
    {
        let mut core = copy.wl();
        if snapshot.index > 0 {
            let mut snap = Snapshot::default();
            snap.set_metadata(snapshot.clone());
            core.apply_snapshot(snap).ok()?;
        }
        let placeholders: Vec<Entry> = (snapshot.index + 1..first)
            .map(|index| Entry {
                index,
                ..Entry::default()
            })
            .collect();
        core.append(&placeholders).ok()?;
        core.append(&entries).ok()?;
        core.compact(first).ok()?;
        core.set_hardstate(state.hard_state.clone());
        core.set_conf_state(state.conf_state.clone());
    }
    let copied = copy.initial_state().ok()?;
    let same = copied.hard_state == state.hard_state
        && copied.conf_state == state.conf_state
        && copy.first_index().ok()? == first
        && copy.last_index().ok()? == last
        && copy.term(snapshot.index).ok() == log.term(snapshot.index).ok();
    same.then_some(copy)
}

/// A `RawNode` over `store` (a copy of `src`'s storage) in `src`'s state;
/// see [`EtcdMember::try_clone`] for why this is exact, and `None` when
/// `src` has work pending.
fn copy_raw_node(
    src: &RawNode<Wal>,
    config: &Config,
    store: Wal,
    logger: &slog::Logger,
) -> Option<RawNode<Wal>> {
    let s = &src.raft;
    let log = &s.raft_log;
    if src.has_ready()
        || s.heartbeat_elapsed() != 0
        || !s.msgs.is_empty()
        || log.unstable.snapshot.is_some()
        || !log.unstable.entries.is_empty()
    {
        return None;
    }
    // Raft::new refuses (panics on) an applied index outside the log.
    let first = store.first_index().ok()?;
    let hs = store.initial_state().ok()?.hard_state;
    if config.applied != 0 && (config.applied + 1 < first || config.applied > hs.commit) {
        return None;
    }
    let mut raw = RawNode::new(config, store, logger).ok()?;
    let d = &mut raw.raft;
    // Loaded from the storage's hard state by Raft::new; checked below.
    d.term = s.term;
    d.vote = s.vote;
    d.raft_log.committed = log.committed;
    d.raft_log.persisted = log.persisted;
    d.raft_log.unstable.offset = log.unstable.offset;
    d.raft_log.unstable.entries_size = log.unstable.entries_size;
    d.read_states = s.read_states.clone();
    d.pending_request_snapshot = s.pending_request_snapshot;
    d.state = s.state;
    d.leader_id = s.leader_id;
    d.lead_transferee = s.lead_transferee;
    d.pending_conf_index = s.pending_conf_index;
    d.read_only = s.read_only.clone();
    d.election_elapsed = s.election_elapsed;
    d.set_randomized_election_timeout(s.randomized_election_timeout());
    d.check_quorum = s.check_quorum;
    d.pre_vote = s.pre_vote;
    d.priority = s.priority;
    d.max_inflight = s.max_inflight;
    d.max_msg_size = s.max_msg_size;
    *d.mut_prs() = s.prs().clone();
    // The soft state (role, leader) the original last handed out equals
    // its current one (it has no Ready pending); hand the copy's out too.
    if raw.has_ready() {
        let rd = raw.ready();
        let only_soft_state = rd.messages().is_empty()
            && rd.persisted_messages().is_empty()
            && rd.hs().is_none()
            && rd.entries().is_empty()
            && rd.snapshot().is_empty()
            && rd.committed_entries().is_empty()
            && rd.read_states().is_empty();
        if !only_soft_state {
            return None;
        }
        let light = raw.advance(rd);
        if light.commit_index().is_some()
            || !light.messages().is_empty()
            || !light.committed_entries().is_empty()
        {
            return None;
        }
        raw.advance_apply();
    }
    let (c, r) = (&raw.raft, &raw.raft.raft_log);
    let same = !raw.has_ready()
        && c.hard_state() == s.hard_state()
        && c.soft_state() == s.soft_state()
        && r.committed == log.committed
        && r.applied == log.applied
        && r.persisted == log.persisted
        && r.unstable.offset == log.unstable.offset
        && r.last_index() == log.last_index()
        && r.first_index() == log.first_index()
        && c.heartbeat_elapsed() == 0
        && c.election_elapsed == s.election_elapsed
        && c.randomized_election_timeout() == s.randomized_election_timeout()
        && c.promotable() == s.promotable()
        && c.pending_conf_index == s.pending_conf_index;
    same.then_some(raw)
}

/// Replaces the store and the log with a snapshot from the leader (etcd's
/// `applySnapshot`: the received backend replaces the old one). Returns
/// whether it did.
fn install_snapshot(disk: &mut Disk, snap: &Snapshot) -> bool {
    let index = snap.get_metadata().index;
    if index <= disk.applied {
        return false;
    }
    let Ok(store) = MvccStore::decode_snapshot(&snap.data) else {
        // A corrupt snapshot is not installed; raft asks again once the
        // follower rejects the next append.
        return false;
    };
    if disk.wal.log.wl().apply_snapshot(snap.clone()).is_err() {
        return false;
    }
    disk.snapshot_meta = snap.get_metadata().clone();
    disk.store = store;
    disk.applied = index;
    true
}

/// After a snapshot replaced the store, every watch catches up from it, or
/// ends if its next revision was compacted away (etcd moves its watchers to
/// the unsynced set and cancels those below the compacted revision).
fn resync_watchers(disk: &Disk, running: &mut Running, out: &mut Vec<Output>) {
    let revision = disk.store.revision();
    let mut ended = Vec::new();
    for (&(client, watch_id), w) in running.watchers.iter_mut() {
        match disk.store.events_since(&w.range, w.next_revision) {
            Ok(events) => {
                if !events.is_empty() {
                    out.push(Output::WatchEvents {
                        client,
                        watch_id,
                        revision,
                        events,
                    });
                }
                w.next_revision = w.next_revision.max(revision + 1);
            }
            Err(e) => {
                out.push(Output::WatchEnded {
                    client,
                    watch_id,
                    reason: e.into(),
                });
                ended.push((client, watch_id));
            }
        }
    }
    for key in ended {
        running.watchers.remove(&key);
    }
}

impl Running {
    /// Runs the raft ticks due since the last one, retries lost
    /// ReadIndex requests and times out requests left unanswered.
    fn tick(&mut self, now: SimTime, rng: &mut SimRng, out: &mut Vec<Output>) {
        let due = now.saturating_since(self.last_tick).as_millis() / TICK_INTERVAL.as_millis();
        if due == 0 {
            return;
        }
        let n = due.min(MAX_CATCH_UP_TICKS);
        self.last_tick = if due > n {
            now
        } else {
            self.last_tick + SimDuration::from_millis(n * TICK_INTERVAL.as_millis())
        };
        for _ in 0..n {
            self.raw.tick();
            self.ticks += 1;
            self.redraw_election_timeout(rng);
        }
        let ticks = self.ticks;
        // etcd's `processInternalRaftRequestOnce` and `linearizableReadLoop`
        // give up after the request timeout.
        let expired = |since: u64| ticks.saturating_sub(since) >= REQUEST_TIMEOUT_TICKS;
        let late_writes: Vec<u64> = self
            .writes
            .iter()
            .filter(|(_, w)| expired(w.asked_at_tick))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in late_writes {
            if let Some(w) = self.writes.remove(&seq) {
                out.push(Output::Response {
                    client: w.client,
                    request_id: w.request_id,
                    result: Err(EtcdError::Timeout),
                });
            }
        }
        let late_reads: Vec<u64> = self
            .reads
            .iter()
            .filter(|(_, r)| expired(r.since_tick))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in late_reads {
            if let Some(r) = self.reads.remove(&seq) {
                out.push(Output::Response {
                    client: r.client,
                    request_id: r.request_id,
                    result: Err(EtcdError::Timeout),
                });
            }
        }
        // etcd's linearizableReadLoop asks again when a ReadIndex got lost
        // (a leader change, a dropped message, a leader that has not yet
        // committed in its term).
        if self.raw.raft.leader_id != 0 {
            let mut again = Vec::new();
            for (seq, read) in self.reads.iter_mut() {
                if read.read_index.is_none()
                    && ticks.saturating_sub(read.asked_at_tick) >= READ_INDEX_RETRY_TICKS
                {
                    read.asked_at_tick = ticks;
                    again.push(*seq);
                }
            }
            for seq in again {
                self.raw.read_index(seq.to_be_bytes().to_vec());
            }
            self.redraw_election_timeout(rng);
        }
    }

    /// Replaces raft-rs's `thread_rng` election timeout with one from the
    /// run's RNG whenever raft may have drawn a new one (`Raft::reset`, on
    /// every term or role change).
    fn redraw_election_timeout(&mut self, rng: &mut SimRng) {
        let raft = &self.raw.raft;
        let now = (raft.term, raft.state, raft.randomized_election_timeout());
        if now == self.drawn {
            return;
        }
        let min = raft.election_timeout() as u64;
        let t = rng.between(min, 2 * min - 1) as usize;
        self.raw.raft.set_randomized_election_timeout(t);
        self.drawn = (now.0, now.1, t);
    }
}

/// Hands raft's messages to the world, noting who is sent a snapshot.
fn send(from: MemberId, msgs: Vec<Message>, out: &mut Vec<Output>, snapshots: &mut Vec<MemberId>) {
    for msg in msgs {
        if msg.to != from && msg.to != 0 {
            if msg.get_msg_type() == MessageType::MsgSnapshot {
                snapshots.push(msg.to);
            }
            out.push(Output::Raft { to: msg.to, msg });
        }
    }
}

/// Applies committed entries to the store (etcd's `applierV3`), answering
/// the requests this member proposed.
fn apply(
    id: MemberId,
    disk: &mut Disk,
    running: &mut Running,
    entries: Vec<raft::eraftpb::Entry>,
    events: &mut Vec<Event>,
    out: &mut Vec<Output>,
) {
    for entry in entries {
        if entry.index <= disk.applied {
            continue;
        }
        disk.applied = entry.index;
        // Empty entries are a new leader's no-op; conf changes are never
        // proposed (the member set is fixed).
        if entry.get_entry_type() != EntryType::EntryNormal || entry.data.is_empty() {
            continue;
        }
        let Ok(proposal) = Proposal::decode(&entry.data) else {
            continue;
        };
        let store = &mut disk.store;
        let result = match proposal.op {
            Op::Txn(txn) => store.txn(&txn).map(|(resp, evs)| {
                events.extend(evs);
                Response::Txn(resp)
            }),
            Op::Compact(rev) => store.compact(rev).map(|()| Response::Compact {
                revision: store.revision(),
            }),
        };
        if proposal.origin == id {
            if let Some(w) = running.writes.remove(&proposal.seq) {
                out.push(Output::Response {
                    client: w.client,
                    request_id: w.request_id,
                    result: result.map_err(EtcdError::from),
                });
            }
        }
    }
}

/// Answers the linearizable reads whose read index has been applied.
fn serve_reads(disk: &Disk, running: &mut Running, out: &mut Vec<Output>) {
    let ready: Vec<u64> = running
        .reads
        .iter()
        .filter(|(_, r)| r.read_index.is_some_and(|i| i <= disk.applied))
        .map(|(seq, _)| *seq)
        .collect();
    for seq in ready {
        if let Some(read) = running.reads.remove(&seq) {
            out.push(Output::Response {
                client: read.client,
                request_id: read.request_id,
                result: disk
                    .store
                    .range(&read.request)
                    .map(Response::Range)
                    .map_err(EtcdError::from),
            });
        }
    }
}

/// Sends every watcher the new events in its range (etcd's
/// `watchableStore.notify`), in revision order.
fn notify_watchers(disk: &Disk, running: &mut Running, events: &[Event], out: &mut Vec<Output>) {
    if events.is_empty() {
        return;
    }
    let revision = disk.store.revision();
    for ((client, watch_id), w) in running.watchers.iter_mut() {
        let matching: Vec<Event> = events
            .iter()
            .filter(|e| e.revision() >= w.next_revision && w.range.contains(&e.kv.key))
            .cloned()
            .collect();
        if !matching.is_empty() {
            out.push(Output::WatchEvents {
                client: *client,
                watch_id: *watch_id,
                revision,
                events: matching,
            });
        }
        w.next_revision = w.next_revision.max(revision + 1);
    }
}
