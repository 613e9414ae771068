//! etcd: the key-value store behind the Kubernetes API server.
//!
//! In Kubernetes, etcd is the only component that keeps state: every object
//! the API server accepts is stored under `/registry/<resource>/...`, and
//! every watch the API server serves is fed by etcd's watch. A cluster runs
//! 1, 3 or 5 members that replicate one log through Raft; a write is
//! acknowledged once a majority has it, so a majority must be up for the
//! cluster to accept writes.
//!
//! - [`mvcc`]: the multi-version store each member applies the log to
//!   (revisions, transactions, history, compaction, watch events).
//! - [`member`]: one member as a pure state machine driving raft-rs, with
//!   client requests in and raft messages, responses and watch events out.
//! - [`codec`]: the bytes of a proposal in the raft log.
//!
//! What the simulation leaves out is listed in each submodule.

pub mod codec;
pub mod member;
pub mod mvcc;

#[cfg(test)]
mod cluster_tests;

pub use member::{
    ClientId, EtcdError, EtcdMember, Input, MemberId, MemberStatus, Output, RaftMessageSummary,
    Request, Response, Role, WatchId, ELECTION_TICK, HEARTBEAT_TICK, REQUEST_TIMEOUT_TICKS,
    SNAPSHOT_CATCH_UP_ENTRIES, SNAPSHOT_COUNT, TICK_INTERVAL,
};
pub use mvcc::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResponse, Event,
    EventKind, KeyRange, KeyValue, MvccError, MvccStore, PutRequest, PutResponse, RangeRequest,
    RangeResponse, RequestOp, ResponseOp, Revision, TxnRequest, TxnResponse,
};
/// The raft message type members exchange (the world carries it opaquely).
pub use raft::eraftpb::Message as RaftMessage;
