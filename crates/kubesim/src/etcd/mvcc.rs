//! The MVCC key-value store an etcd member keeps, as etcd's
//! `server/storage/mvcc` (`kvstore.go`, `kvstore_txn.go`, `key_index.go`).
//!
//! What it does in etcd: every mutation (a `Put`, a `DeleteRange`, or a `Txn`
//! that writes) creates one new *revision* of the whole key space. The store
//! starts at revision 1 with no keys, so the first write gets revision 2. Each
//! key remembers when it was created (`create_revision`), last modified
//! (`mod_revision`) and how often it was written since its creation
//! (`version`; a delete ends the key's generation and the next put starts at
//! version 1 again). Old revisions stay readable ("time travel") until a
//! compaction drops them; reading or watching below the compacted revision
//! gives `ErrCompacted`, which the Kubernetes API server turns into
//! `410 Gone`. A `Txn` compares fields of keys and then runs either its
//! success or its failure operations, atomically, at one revision: this is
//! what the API server's optimistic concurrency (`409 Conflict` on a stale
//! `resourceVersion`) and create-if-absent are built on (`k8s.io/apiserver`
//! `storage/etcd3/store.go`: `GuaranteedUpdate`, `Create`).
//!
//! Every write also produces watch events (`PUT` / `DELETE`, with the previous
//! key-value), kept in an event log in revision order so a watch can start
//! from any revision that has not been compacted (etcd's
//! `watchable_store.go` reads them back from its backend instead).
//!
//! What the simulation leaves out: leases (TTL keys), nested transactions,
//! `keys_only` / `count_only` / sorting options of range requests, range
//! compares (compares are on a single key), the bbolt backend, its
//! defragmentation and quota (`mvcc: database space exceeded`), and hashing.
//! Keys are UTF-8 strings rather than arbitrary bytes (the API server's keys,
//! `/registry/<resource>/<namespace>/<name>`, always are).

use super::codec::{CodecError, Reader, Writer};
use std::collections::BTreeSet;
use std::ops::Bound;
use std::rc::Rc;

use crate::cow::{CowDeque, CowMap};

/// A revision of the key space (etcd's main revision, an `int64`).
pub type Revision = i64;

/// One version of a key, as etcd's `mvccpb.KeyValue` (without the lease).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Rc<str>,
    /// The revision of the put that created this generation of the key.
    pub create_revision: Revision,
    /// The revision of the last write to the key.
    pub mod_revision: Revision,
    /// Writes since the key was created: 1 for a new key, 0 for a delete.
    pub version: i64,
    pub value: Rc<[u8]>,
}

/// Which keys a range, a delete or a watch covers.
///
/// etcd expresses this with `key` and `range_end` (empty for one key, the
/// prefix with its last byte incremented for a prefix, as
/// `clientv3.GetPrefixRangeEnd`); an enum says the same without byte
/// arithmetic on strings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyRange {
    /// Exactly this key.
    Key(String),
    /// Every key starting with this prefix (the empty prefix is every key).
    Prefix(String),
    /// Keys in `[start, end)`.
    Interval { start: String, end: String },
}

impl KeyRange {
    pub fn key(key: impl Into<String>) -> Self {
        KeyRange::Key(key.into())
    }

    pub fn prefix(prefix: impl Into<String>) -> Self {
        KeyRange::Prefix(prefix.into())
    }

    /// Whether `key` lies in this range.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            KeyRange::Key(k) => k == key,
            KeyRange::Prefix(p) => key.starts_with(p.as_str()),
            KeyRange::Interval { start, end } => start.as_str() <= key && key < end.as_str(),
        }
    }

    /// The entries of `map` whose keys lie in this range, in key order.
    fn iter<'a, V: Clone>(
        &'a self,
        map: &'a CowMap<Rc<str>, V>,
    ) -> Box<dyn Iterator<Item = (&'a Rc<str>, &'a V)> + 'a> {
        match self {
            KeyRange::Key(k) => Box::new(map.get_key_value(k.as_str()).into_iter()),
            KeyRange::Prefix(p) => Box::new(
                map.range::<str>(Bound::Included(p.as_str()), Bound::Unbounded)
                    .take_while(move |(k, _)| k.starts_with(p.as_str())),
            ),
            KeyRange::Interval { start, end } => {
                if start >= end {
                    // BTreeMap::range panics on an inverted range; etcd
                    // returns nothing for it.
                    return Box::new(std::iter::empty());
                }
                Box::new(map.range::<str>(
                    Bound::Included(start.as_str()),
                    Bound::Excluded(end.as_str()),
                ))
            }
        }
    }
}

/// A range read, as etcd's `RangeRequest` (the subset the API server uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRequest {
    pub range: KeyRange,
    /// Read the key space as of this revision; 0 reads the latest.
    pub revision: Revision,
    /// At most this many key-values; 0 means no limit.
    pub limit: usize,
    /// Serve from the member's local store without a ReadIndex round
    /// (etcd's `serializable`); ignored by the store itself.
    pub serializable: bool,
}

impl RangeRequest {
    /// A linearizable read of the latest revision of `range`, without limit.
    pub fn new(range: KeyRange) -> Self {
        RangeRequest {
            range,
            revision: 0,
            limit: 0,
            serializable: false,
        }
    }
}

/// The answer to a range read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeResponse {
    /// The store's revision when the read was served (etcd's header revision).
    pub revision: Revision,
    pub kvs: Vec<KeyValue>,
    /// Whether more keys matched than `limit` returned.
    pub more: bool,
    /// How many keys matched in all (not only those returned).
    pub count: usize,
}

/// A put, as etcd's `PutRequest` (without lease and `ignore_*` options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutRequest {
    pub key: String,
    pub value: Rc<[u8]>,
}

/// The answer to a put: the key's previous value, if it had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutResponse {
    pub revision: Revision,
    pub prev_kv: Option<KeyValue>,
}

/// A delete of every key in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRangeRequest {
    pub range: KeyRange,
}

/// The answer to a delete: how many keys went, and what they held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRangeResponse {
    pub revision: Revision,
    pub deleted: usize,
    pub prev_kvs: Vec<KeyValue>,
}

/// What a compare looks at, and the operand to compare it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareTarget {
    Version(i64),
    CreateRevision(Revision),
    ModRevision(Revision),
    Value(Rc<[u8]>),
}

/// The comparison a compare applies (the key's field on the left).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareResult {
    Equal,
    NotEqual,
    Greater,
    Less,
}

/// One condition of a transaction, as etcd's `Compare` on a single key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compare {
    pub key: String,
    pub target: CompareTarget,
    pub result: CompareResult,
}

impl Compare {
    /// `mod_revision(key) == rev`: the API server's precondition for an
    /// update (`0` means the key must not exist: create-if-absent).
    pub fn mod_revision(key: impl Into<String>, result: CompareResult, rev: Revision) -> Self {
        Compare {
            key: key.into(),
            target: CompareTarget::ModRevision(rev),
            result,
        }
    }

    pub fn version(key: impl Into<String>, result: CompareResult, version: i64) -> Self {
        Compare {
            key: key.into(),
            target: CompareTarget::Version(version),
            result,
        }
    }

    pub fn create_revision(key: impl Into<String>, result: CompareResult, rev: Revision) -> Self {
        Compare {
            key: key.into(),
            target: CompareTarget::CreateRevision(rev),
            result,
        }
    }

    pub fn value(key: impl Into<String>, result: CompareResult, value: Rc<[u8]>) -> Self {
        Compare {
            key: key.into(),
            target: CompareTarget::Value(value),
            result,
        }
    }
}

/// One operation of a transaction branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestOp {
    Range(RangeRequest),
    Put(PutRequest),
    DeleteRange(DeleteRangeRequest),
}

impl RequestOp {
    pub fn put(key: impl Into<String>, value: impl Into<Rc<[u8]>>) -> Self {
        RequestOp::Put(PutRequest {
            key: key.into(),
            value: value.into(),
        })
    }

    pub fn delete(range: KeyRange) -> Self {
        RequestOp::DeleteRange(DeleteRangeRequest { range })
    }

    pub fn range(range: KeyRange) -> Self {
        RequestOp::Range(RangeRequest::new(range))
    }
}

/// The answer to one operation of a transaction branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseOp {
    Range(RangeResponse),
    Put(PutResponse),
    DeleteRange(DeleteRangeResponse),
}

/// A transaction, as etcd's `TxnRequest`: if every compare holds, run
/// `success`, else `failure`, atomically at one new revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxnRequest {
    pub compare: Vec<Compare>,
    pub success: Vec<RequestOp>,
    pub failure: Vec<RequestOp>,
}

impl TxnRequest {
    /// A transaction with no compare that runs `ops` (a plain put or delete).
    pub fn ops(ops: Vec<RequestOp>) -> Self {
        TxnRequest {
            compare: vec![],
            success: ops,
            failure: vec![],
        }
    }

    /// Refuses a branch that writes one key twice or names an empty key,
    /// before anything is proposed (etcd's v3rpc `checkTxnRequest`).
    pub fn validate(&self) -> Result<(), MvccError> {
        check_branch(&self.success)?;
        check_branch(&self.failure)
    }

    /// A single put.
    pub fn put(key: impl Into<String>, value: impl Into<Rc<[u8]>>) -> Self {
        Self::ops(vec![RequestOp::put(key, value)])
    }
}

/// The answer to a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnResponse {
    /// The store's revision after the transaction (the new revision if it
    /// wrote, else the unchanged current one).
    pub revision: Revision,
    /// Whether the compares held (and `success` ran).
    pub succeeded: bool,
    pub responses: Vec<ResponseOp>,
}

/// The kind of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Put,
    Delete,
}

/// A change to one key, as etcd's `mvccpb.Event`. For a delete, `kv` holds
/// the key and the deletion's revision (`mod_revision`), with version 0 and
/// an empty value, as etcd's tombstones do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub kv: KeyValue,
    pub prev_kv: Option<KeyValue>,
}

impl Event {
    /// The revision at which the change happened.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// Errors of the store, with etcd's messages.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MvccError {
    /// `mvcc.ErrCompacted`: the revision asked for was compacted away (the
    /// API server answers `410 Gone`).
    #[error(
        "mvcc: required revision has been compacted (requested {requested}, compacted {compacted})"
    )]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// `mvcc.ErrFutureRev`: the revision asked for does not exist yet.
    #[error(
        "mvcc: required revision is a future revision (requested {requested}, current {current})"
    )]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    /// `rpctypes.ErrDuplicateKey`: one transaction branch writes a key twice.
    #[error("etcdserver: duplicate key given in txn request: {0:?}")]
    DuplicateKey(String),
    /// `rpctypes.ErrEmptyKey`.
    #[error("etcdserver: key is not provided")]
    EmptyKey,
}

/// The history of one key: every write still kept, in revision order;
/// `None` is a tombstone (a delete).
#[derive(Clone, Debug, Default)]
struct KeyHistory {
    revs: Vec<(Revision, Option<KeyValue>)>,
}

impl KeyHistory {
    /// The key as of revision `rev` (`keyIndex.get` in etcd).
    fn at(&self, rev: Revision) -> Option<&KeyValue> {
        let n = self.revs.partition_point(|(r, _)| *r <= rev);
        n.checked_sub(1)
            .and_then(|i| self.revs.get(i))
            .and_then(|(_, kv)| kv.as_ref())
    }

    /// The key now.
    fn latest(&self) -> Option<&KeyValue> {
        self.revs.last().and_then(|(_, kv)| kv.as_ref())
    }

    /// Drops every write at or below `rev` except the last one, which stays
    /// if it is a put (`keyIndex.compact`: "removing the versions with smaller
    /// or equal revision than the given atRev except the largest one (if the
    /// largest one is a tombstone, it will not be kept)").
    fn compact(&mut self, rev: Revision) {
        let n = self.revs.partition_point(|(r, _)| *r <= rev);
        if n == 0 {
            return;
        }
        let keep_last = matches!(self.revs.get(n - 1), Some((_, Some(_))));
        let drop = if keep_last { n - 1 } else { n };
        self.revs.drain(..drop);
    }
}

/// etcd's MVCC store: the key space at every revision since the last
/// compaction, and the events that led there.
#[derive(Clone, Debug)]
pub struct MvccStore {
    /// Copy-on-write (as `events`): a copy of the store (a checkpoint of
    /// the cluster) shares them until one side writes.
    keys: CowMap<Rc<str>, KeyHistory>,
    /// Every change with a revision at or above `compacted`, in revision
    /// order (and, within one revision, in the order of the txn's ops).
    events: CowDeque<Event>,
    revision: Revision,
    compacted: Revision,
    live_keys: usize,
}

impl Default for MvccStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MvccStore {
    /// An empty store at revision 1 (etcd's `store.currentRev` starts at 1).
    pub fn new() -> Self {
        MvccStore {
            keys: CowMap::new(),
            events: CowDeque::new(),
            revision: 1,
            compacted: 0,
            live_keys: 0,
        }
    }

    /// The current revision.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The revision of the last compaction (0 if never compacted).
    pub fn compacted_revision(&self) -> Revision {
        self.compacted
    }

    /// How many keys exist now.
    pub fn key_count(&self) -> usize {
        self.live_keys
    }

    /// The latest value of one key.
    pub fn get(&self, key: &str) -> Option<&KeyValue> {
        self.keys.get(key).and_then(KeyHistory::latest)
    }

    /// Checks that `rev` can be read: not compacted, not in the future.
    /// 0 stands for the current revision.
    fn read_revision(&self, rev: Revision) -> Result<Revision, MvccError> {
        if rev <= 0 {
            return Ok(self.revision);
        }
        if rev > self.revision {
            return Err(MvccError::FutureRevision {
                requested: rev,
                current: self.revision,
            });
        }
        if rev < self.compacted {
            return Err(MvccError::Compacted {
                requested: rev,
                compacted: self.compacted,
            });
        }
        Ok(rev)
    }

    /// A range read (etcd's `storeTxnRead.rangeKeys`): the keys of the range
    /// as of the request's revision, in key order, at most `limit` of them,
    /// with the count of all matches.
    pub fn range(&self, req: &RangeRequest) -> Result<RangeResponse, MvccError> {
        let rev = self.read_revision(req.revision)?;
        Ok(self.range_at(&req.range, rev, req.limit))
    }

    /// Runs a transaction (etcd's `apply.go` `Txn`: compares against the
    /// latest revision, then one branch in one write transaction). Writes
    /// get one new revision; the events they produced are returned beside
    /// the response, in op order, and kept for watches.
    ///
    /// A branch that writes the same key twice (two puts, or a put inside a
    /// deleted range) is refused before anything happens, as etcd's
    /// `checkIntervals` does; so is a range at a compacted or future
    /// revision.
    pub fn txn(&mut self, req: &TxnRequest) -> Result<(TxnResponse, Vec<Event>), MvccError> {
        req.validate()?;
        let succeeded = req.compare.iter().all(|c| self.compare(c));
        let ops = if succeeded {
            &req.success
        } else {
            &req.failure
        };
        for op in ops {
            if let RequestOp::Range(r) = op {
                self.read_revision(r.revision)?;
            }
        }
        let next = self.revision + 1;
        let mut events = Vec::new();
        let mut responses = Vec::with_capacity(ops.len());
        for op in ops {
            let response = match op {
                RequestOp::Range(r) => {
                    // Reads inside a writing txn see its earlier writes, as
                    // etcd's `storeTxnWrite.Range` (it reads at beginRev + 1
                    // once the txn has changes). Explicit revisions were
                    // checked above.
                    let rev = if r.revision > 0 {
                        r.revision
                    } else if events.is_empty() {
                        self.revision
                    } else {
                        next
                    };
                    let mut resp = self.range_at(&r.range, rev, r.limit);
                    resp.revision = if events.is_empty() {
                        self.revision
                    } else {
                        next
                    };
                    ResponseOp::Range(resp)
                }
                RequestOp::Put(p) => {
                    let prev_kv = self.put_at(next, &p.key, p.value.clone(), &mut events);
                    ResponseOp::Put(PutResponse {
                        revision: next,
                        prev_kv,
                    })
                }
                RequestOp::DeleteRange(d) => {
                    let prev_kvs = self.delete_at(next, &d.range, &mut events);
                    ResponseOp::DeleteRange(DeleteRangeResponse {
                        revision: next,
                        deleted: prev_kvs.len(),
                        prev_kvs,
                    })
                }
            };
            responses.push(response);
        }
        // Only a txn that changed something moves the revision (etcd's
        // `storeTxnWrite.End`): deleting a missing key writes nothing.
        let revision = if events.is_empty() {
            self.revision
        } else {
            self.revision = next;
            self.events.extend(events.iter().cloned());
            next
        };
        for r in &mut responses {
            match r {
                ResponseOp::Put(p) => p.revision = revision,
                ResponseOp::DeleteRange(d) => d.revision = revision,
                ResponseOp::Range(_) => {}
            }
        }
        Ok((
            TxnResponse {
                revision,
                succeeded,
                responses,
            },
            events,
        ))
    }

    /// A range at a revision already checked against the compacted and the
    /// current one (or the revision a running txn is writing).
    fn range_at(&self, range: &KeyRange, rev: Revision, limit: usize) -> RangeResponse {
        let mut kvs = Vec::new();
        let mut count = 0;
        for (_, history) in range.iter(&self.keys) {
            if let Some(kv) = history.at(rev) {
                if limit == 0 || kvs.len() < limit {
                    kvs.push(kv.clone());
                }
                count += 1;
            }
        }
        RangeResponse {
            revision: self.revision,
            more: count > kvs.len(),
            kvs,
            count,
        }
    }

    /// etcd's `applyCompare`: a missing key has version, create and mod
    /// revision 0, and fails every compare on its value ("nil == empty
    /// string in grpc; no way to represent missing value").
    fn compare(&self, c: &Compare) -> bool {
        let kv = self.get(&c.key);
        let ord = match (&c.target, kv) {
            (CompareTarget::Value(_), None) => return false,
            (CompareTarget::Value(v), Some(kv)) => kv.value.as_ref().cmp(v.as_ref()),
            (CompareTarget::Version(v), kv) => kv.map_or(0, |kv| kv.version).cmp(v),
            (CompareTarget::CreateRevision(r), kv) => kv.map_or(0, |kv| kv.create_revision).cmp(r),
            (CompareTarget::ModRevision(r), kv) => kv.map_or(0, |kv| kv.mod_revision).cmp(r),
        };
        match c.result {
            CompareResult::Equal => ord.is_eq(),
            CompareResult::NotEqual => ord.is_ne(),
            CompareResult::Greater => ord.is_gt(),
            CompareResult::Less => ord.is_lt(),
        }
    }

    /// Writes `key` at revision `rev` (`storeTxnWrite.put`), returning the
    /// previous value.
    fn put_at(
        &mut self,
        rev: Revision,
        key: &str,
        value: Rc<[u8]>,
        events: &mut Vec<Event>,
    ) -> Option<KeyValue> {
        let key: Rc<str> = match self.keys.get_key_value(key) {
            Some((k, _)) => k.clone(),
            None => Rc::from(key),
        };
        let history = self.keys.get_or_default(key.clone());
        let prev = history.latest().cloned();
        let kv = KeyValue {
            key,
            create_revision: prev.as_ref().map_or(rev, |p| p.create_revision),
            mod_revision: rev,
            version: prev.as_ref().map_or(1, |p| p.version + 1),
            value,
        };
        history.revs.push((rev, Some(kv.clone())));
        if prev.is_none() {
            self.live_keys += 1;
        }
        events.push(Event {
            kind: EventKind::Put,
            kv,
            prev_kv: prev.clone(),
        });
        prev
    }

    /// Deletes every live key in `range` at revision `rev`
    /// (`storeTxnWrite.deleteRange`), returning what they held.
    fn delete_at(
        &mut self,
        rev: Revision,
        range: &KeyRange,
        events: &mut Vec<Event>,
    ) -> Vec<KeyValue> {
        let live: Vec<Rc<str>> = range
            .iter(&self.keys)
            .filter(|(_, h)| h.latest().is_some())
            .map(|(k, _)| k.clone())
            .collect();
        let mut prev_kvs = Vec::with_capacity(live.len());
        for key in live {
            let Some(history) = self.keys.get_mut(&key) else {
                continue;
            };
            let Some(prev) = history.latest().cloned() else {
                continue;
            };
            history.revs.push((rev, None));
            self.live_keys = self.live_keys.saturating_sub(1);
            events.push(Event {
                kind: EventKind::Delete,
                kv: KeyValue {
                    key,
                    create_revision: 0,
                    mod_revision: rev,
                    version: 0,
                    value: Rc::from(&[][..]),
                },
                prev_kv: Some(prev.clone()),
            });
            prev_kvs.push(prev);
        }
        prev_kvs
    }

    /// Drops the history below `rev` (etcd's `store.Compact`): afterwards
    /// reads at a revision below `rev`, and watches starting below it, get
    /// [`MvccError::Compacted`]. Compacting at or below the last compaction
    /// is `ErrCompacted`, beyond the current revision `ErrFutureRev`, as in
    /// etcd.
    pub fn compact(&mut self, rev: Revision) -> Result<(), MvccError> {
        if rev <= self.compacted {
            return Err(MvccError::Compacted {
                requested: rev,
                compacted: self.compacted,
            });
        }
        if rev > self.revision {
            return Err(MvccError::FutureRevision {
                requested: rev,
                current: self.revision,
            });
        }
        self.keys.retain(|_, history| {
            history.compact(rev);
            !history.revs.is_empty()
        });
        let keep_from = self.events.partition_point(|e| e.revision() < rev);
        self.events.drop_front(keep_from);
        self.compacted = rev;
        Ok(())
    }

    /// Every change to a key in `range` at or after `start`, in revision
    /// order: what a watch starting at `start` must deliver first. Below the
    /// compacted revision this is [`MvccError::Compacted`]; 0 or a revision
    /// beyond the current one gives nothing (yet).
    pub fn events_since(&self, range: &KeyRange, start: Revision) -> Result<Vec<Event>, MvccError> {
        if start > 0 && start < self.compacted {
            return Err(MvccError::Compacted {
                requested: start,
                compacted: self.compacted,
            });
        }
        if start <= 0 || start > self.revision {
            return Ok(vec![]);
        }
        let from = self.events.partition_point(|e| e.revision() < start);
        Ok(self
            .events
            .iter_from(from)
            .filter(|e| range.contains(&e.kv.key))
            .cloned()
            .collect())
    }
}

/// The format version of an encoded store snapshot.
const SNAPSHOT_VERSION: u8 = 1;

impl MvccStore {
    /// The whole store as bytes: what a leader sends a follower that fell
    /// behind its compacted raft log. etcd sends its entire bbolt file
    /// (`etcdserver/snapshot_merge.go`, `createMergedSnapshotMessage`), so
    /// history and the compacted revision travel too; here every key's kept
    /// history and the event log do.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        fn kv_fields(w: &mut Writer, kv: &KeyValue) {
            w.int(kv.create_revision);
            w.int(kv.mod_revision);
            w.int(kv.version);
            w.bytes(&kv.value);
        }
        let mut w = Writer(Vec::new());
        w.byte(SNAPSHOT_VERSION);
        w.int(self.revision);
        w.int(self.compacted);
        w.uint(self.keys.len() as u64);
        for (key, history) in self.keys.iter() {
            w.str(key);
            w.uint(history.revs.len() as u64);
            for (rev, kv) in &history.revs {
                w.int(*rev);
                match kv {
                    None => w.byte(0),
                    Some(kv) => {
                        w.byte(1);
                        kv_fields(&mut w, kv);
                    }
                }
            }
        }
        w.uint(self.events.len() as u64);
        for e in self.events.iter() {
            w.byte(match e.kind {
                EventKind::Put => 0,
                EventKind::Delete => 1,
            });
            w.str(&e.kv.key);
            kv_fields(&mut w, &e.kv);
            match &e.prev_kv {
                None => w.byte(0),
                Some(prev) => {
                    w.byte(1);
                    kv_fields(&mut w, prev);
                }
            }
        }
        w.0
    }

    /// A store from [`MvccStore::encode_snapshot`]'s bytes; corrupt bytes
    /// give an error, never a panic.
    pub fn decode_snapshot(bytes: &[u8]) -> Result<MvccStore, CodecError> {
        fn kv_fields(r: &mut Reader, key: &Rc<str>) -> Result<KeyValue, CodecError> {
            Ok(KeyValue {
                key: key.clone(),
                create_revision: r.int()?,
                mod_revision: r.int()?,
                version: r.int()?,
                value: Rc::from(r.bytes()?),
            })
        }
        let mut r = Reader::new(bytes);
        let version = r.byte()?;
        if version != SNAPSHOT_VERSION {
            return Err(CodecError::UnknownVersion(version));
        }
        let revision = r.int()?;
        let compacted = r.int()?;
        let mut keys = CowMap::new();
        let mut live_keys = 0;
        // Every count is bounded by the bytes left (each item takes at least
        // one byte), so a corrupt count cannot allocate much.
        for _ in 0..r.len()? {
            let key: Rc<str> = Rc::from(r.string()?);
            let n = r.len()?;
            let mut revs = Vec::with_capacity(n);
            for _ in 0..n {
                let rev = r.int()?;
                let kv = match r.byte()? {
                    0 => None,
                    1 => Some(kv_fields(&mut r, &key)?),
                    tag => {
                        return Err(CodecError::UnknownTag {
                            what: "history",
                            tag,
                        })
                    }
                };
                revs.push((rev, kv));
            }
            let history = KeyHistory { revs };
            if history.latest().is_some() {
                live_keys += 1;
            }
            keys.insert(key, history);
        }
        let n = r.len()?;
        let mut events = CowDeque::new();
        for _ in 0..n {
            let kind = match r.byte()? {
                0 => EventKind::Put,
                1 => EventKind::Delete,
                tag => return Err(CodecError::UnknownTag { what: "event", tag }),
            };
            let name = r.string()?;
            let key = match keys.get_key_value(name.as_str()) {
                Some((k, _)) => Rc::clone(k),
                None => Rc::from(name),
            };
            let kv = kv_fields(&mut r, &key)?;
            let prev_kv = match r.byte()? {
                0 => None,
                1 => Some(kv_fields(&mut r, &key)?),
                tag => {
                    return Err(CodecError::UnknownTag {
                        what: "prev kv",
                        tag,
                    })
                }
            };
            events.push_back(Event { kind, kv, prev_kv });
        }
        r.finish()?;
        Ok(MvccStore {
            keys,
            events,
            revision,
            compacted,
            live_keys,
        })
    }
}

/// Refuses a branch that writes one key twice (etcd's `checkIntervals`).
fn check_branch(ops: &[RequestOp]) -> Result<(), MvccError> {
    let mut puts: BTreeSet<&str> = BTreeSet::new();
    let mut deletes: Vec<&KeyRange> = Vec::new();
    for op in ops {
        match op {
            RequestOp::Put(p) => {
                if p.key.is_empty() {
                    return Err(MvccError::EmptyKey);
                }
                if !puts.insert(p.key.as_str()) {
                    return Err(MvccError::DuplicateKey(p.key.clone()));
                }
            }
            RequestOp::DeleteRange(d) => {
                if matches!(&d.range, KeyRange::Key(k) if k.is_empty()) {
                    return Err(MvccError::EmptyKey);
                }
                deletes.push(&d.range);
            }
            RequestOp::Range(r) => {
                if matches!(&r.range, KeyRange::Key(k) if k.is_empty()) {
                    return Err(MvccError::EmptyKey);
                }
            }
        }
    }
    for key in &puts {
        if deletes.iter().any(|d| d.contains(key)) {
            return Err(MvccError::DuplicateKey((*key).to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn v(s: &str) -> Rc<[u8]> {
        Rc::from(s.as_bytes())
    }

    fn put(s: &mut MvccStore, k: &str, val: &str) -> Revision {
        s.txn(&TxnRequest::put(k, v(val))).unwrap().0.revision
    }

    fn del(s: &mut MvccStore, range: KeyRange) -> TxnResponse {
        s.txn(&TxnRequest::ops(vec![RequestOp::delete(range)]))
            .unwrap()
            .0
    }

    fn get_at(s: &MvccStore, k: &str, rev: Revision) -> Result<Option<KeyValue>, MvccError> {
        let mut r = RangeRequest::new(KeyRange::key(k));
        r.revision = rev;
        s.range(&r).map(|r| r.kvs.into_iter().next())
    }

    #[test]
    fn an_empty_store_is_at_revision_1_and_the_first_write_gets_revision_2() {
        let mut s = MvccStore::new();
        assert_eq!(s.revision(), 1);
        assert_eq!(put(&mut s, "/a", "1"), 2);
        assert_eq!(s.revision(), 2);
        assert_eq!(s.key_count(), 1);
    }

    #[test]
    fn a_key_tracks_its_create_and_mod_revision_and_its_version() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        put(&mut s, "/b", "x");
        put(&mut s, "/a", "2");
        let a = s.get("/a").unwrap();
        assert_eq!(
            (a.create_revision, a.mod_revision, a.version),
            (2, 4, 2),
            "created at 2, modified at 4, written twice"
        );
        assert_eq!(&*a.value, b"2");
    }

    #[test]
    fn a_delete_ends_the_generation_and_the_next_put_starts_at_version_1() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        put(&mut s, "/a", "2");
        let d = del(&mut s, KeyRange::key("/a"));
        assert_eq!(d.revision, 4);
        assert_eq!(s.get("/a"), None);
        assert_eq!(s.key_count(), 0);
        put(&mut s, "/a", "3");
        let a = s.get("/a").unwrap();
        assert_eq!((a.create_revision, a.mod_revision, a.version), (5, 5, 1));
    }

    #[test]
    fn deleting_a_missing_key_does_not_move_the_revision() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        let d = del(&mut s, KeyRange::key("/nope"));
        assert_eq!(d.revision, 2);
        assert_eq!(s.revision(), 2);
        match &d.responses[0] {
            ResponseOp::DeleteRange(r) => assert_eq!(r.deleted, 0),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reads_at_an_older_revision_see_the_key_space_as_it_was() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1"); // 2
        put(&mut s, "/a", "2"); // 3
        del(&mut s, KeyRange::key("/a")); // 4
        assert_eq!(&*get_at(&s, "/a", 2).unwrap().unwrap().value, b"1");
        assert_eq!(&*get_at(&s, "/a", 3).unwrap().unwrap().value, b"2");
        assert_eq!(get_at(&s, "/a", 4).unwrap(), None);
        assert_eq!(get_at(&s, "/a", 1).unwrap(), None);
        assert_eq!(
            get_at(&s, "/a", 5),
            Err(MvccError::FutureRevision {
                requested: 5,
                current: 4
            })
        );
    }

    #[test]
    fn a_prefix_range_returns_keys_in_order_with_limit_and_total_count() {
        let mut s = MvccStore::new();
        for name in ["c", "a", "b"] {
            put(&mut s, &format!("/registry/pods/default/{name}"), name);
        }
        put(&mut s, "/registry/pods/kube-system/x", "x");
        put(&mut s, "/registry/podsx", "not a pod");
        let mut r = RangeRequest::new(KeyRange::prefix("/registry/pods/default/"));
        r.limit = 2;
        let resp = s.range(&r).unwrap();
        let keys: Vec<&str> = resp.kvs.iter().map(|kv| &*kv.key).collect();
        assert_eq!(
            keys,
            ["/registry/pods/default/a", "/registry/pods/default/b"]
        );
        assert_eq!(resp.count, 3);
        assert!(resp.more);
        assert_eq!(resp.revision, 6);
        let all = s
            .range(&RangeRequest::new(KeyRange::prefix("/registry/pods/")))
            .unwrap();
        assert_eq!(all.count, 4);
    }

    #[test]
    fn an_inverted_interval_is_empty_rather_than_a_panic() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        let r = RangeRequest::new(KeyRange::Interval {
            start: "/z".into(),
            end: "/a".into(),
        });
        assert_eq!(s.range(&r).unwrap().count, 0);
        let r = RangeRequest::new(KeyRange::Interval {
            start: "/a".into(),
            end: "/b".into(),
        });
        assert_eq!(s.range(&r).unwrap().count, 1);
    }

    #[test]
    fn create_if_absent_succeeds_once_and_then_fails_its_compare() {
        let mut s = MvccStore::new();
        let create = TxnRequest {
            compare: vec![Compare::mod_revision("/k", CompareResult::Equal, 0)],
            success: vec![RequestOp::put("/k", v("first"))],
            failure: vec![RequestOp::range(KeyRange::key("/k"))],
        };
        let (r1, ev1) = s.txn(&create).unwrap();
        assert!(r1.succeeded);
        assert_eq!(ev1.len(), 1);
        let (r2, ev2) = s.txn(&create).unwrap();
        assert!(!r2.succeeded);
        assert!(ev2.is_empty());
        assert_eq!(r2.revision, 2);
        match &r2.responses[0] {
            ResponseOp::Range(r) => assert_eq!(&*r.kvs[0].value, b"first"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_update_with_a_stale_mod_revision_fails_as_the_api_servers_conflict() {
        let mut s = MvccStore::new();
        let rev = put(&mut s, "/k", "v1");
        put(&mut s, "/k", "v2");
        let update = TxnRequest {
            compare: vec![Compare::mod_revision("/k", CompareResult::Equal, rev)],
            success: vec![RequestOp::put("/k", v("v3"))],
            failure: vec![],
        };
        let (r, _) = s.txn(&update).unwrap();
        assert!(!r.succeeded);
        assert_eq!(&*s.get("/k").unwrap().value, b"v2");
    }

    #[test]
    fn compares_on_version_create_revision_and_value_use_each_operator() {
        let mut s = MvccStore::new();
        put(&mut s, "/k", "b"); // 2
        put(&mut s, "/k", "b"); // 3, version 2
        let holds = |s: &mut MvccStore, c: Compare| {
            s.txn(&TxnRequest {
                compare: vec![c],
                ..Default::default()
            })
            .unwrap()
            .0
            .succeeded
        };
        use CompareResult::*;
        assert!(holds(&mut s, Compare::version("/k", Equal, 2)));
        assert!(holds(&mut s, Compare::version("/k", Greater, 1)));
        assert!(holds(&mut s, Compare::version("/k", Less, 3)));
        assert!(holds(&mut s, Compare::version("/k", NotEqual, 1)));
        assert!(holds(&mut s, Compare::create_revision("/k", Equal, 2)));
        assert!(!holds(&mut s, Compare::create_revision("/k", Greater, 2)));
        assert!(holds(&mut s, Compare::mod_revision("/k", Greater, 2)));
        assert!(holds(&mut s, Compare::value("/k", Equal, v("b"))));
        assert!(holds(&mut s, Compare::value("/k", Greater, v("a"))));
        assert!(holds(&mut s, Compare::value("/k", Less, v("c"))));
        assert!(!holds(&mut s, Compare::value("/k", NotEqual, v("b"))));
        // A missing key has version 0 and fails every value compare.
        assert!(holds(&mut s, Compare::version("/missing", Equal, 0)));
        assert!(!holds(&mut s, Compare::value("/missing", NotEqual, v("x"))));
    }

    #[test]
    fn a_txn_writes_all_its_ops_at_one_revision_and_reads_its_own_writes() {
        let mut s = MvccStore::new();
        put(&mut s, "/old", "o");
        let (r, events) = s
            .txn(&TxnRequest::ops(vec![
                RequestOp::put("/a", v("1")),
                RequestOp::put("/b", v("2")),
                RequestOp::delete(KeyRange::key("/old")),
                RequestOp::range(KeyRange::prefix("/")),
            ]))
            .unwrap();
        assert_eq!(r.revision, 3);
        assert!(events.iter().all(|e| e.revision() == 3));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [EventKind::Put, EventKind::Put, EventKind::Delete]
        );
        match &r.responses[3] {
            ResponseOp::Range(rr) => {
                let keys: Vec<&str> = rr.kvs.iter().map(|kv| &*kv.key).collect();
                assert_eq!(keys, ["/a", "/b"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_txn_writing_one_key_twice_is_refused_before_anything_happens() {
        let mut s = MvccStore::new();
        let twice = TxnRequest::ops(vec![
            RequestOp::put("/a", v("1")),
            RequestOp::put("/a", v("2")),
        ]);
        assert_eq!(s.txn(&twice), Err(MvccError::DuplicateKey("/a".into())));
        let put_in_deleted = TxnRequest::ops(vec![
            RequestOp::delete(KeyRange::prefix("/")),
            RequestOp::put("/a", v("2")),
        ]);
        assert_eq!(
            s.txn(&put_in_deleted),
            Err(MvccError::DuplicateKey("/a".into()))
        );
        assert_eq!(
            s.txn(&TxnRequest::put("", v("x"))),
            Err(MvccError::EmptyKey)
        );
        assert_eq!(s.revision(), 1);
    }

    #[test]
    fn puts_and_deletes_produce_events_with_the_previous_value() {
        let mut s = MvccStore::new();
        let (_, e1) = s.txn(&TxnRequest::put("/a", v("1"))).unwrap();
        assert_eq!(e1[0].kind, EventKind::Put);
        assert_eq!(e1[0].prev_kv, None);
        let (_, e2) = s.txn(&TxnRequest::put("/a", v("2"))).unwrap();
        assert_eq!(&*e2[0].prev_kv.as_ref().unwrap().value, b"1");
        let (_, e3) = s
            .txn(&TxnRequest::ops(vec![RequestOp::delete(KeyRange::key(
                "/a",
            ))]))
            .unwrap();
        assert_eq!(e3[0].kind, EventKind::Delete);
        assert_eq!(e3[0].kv.mod_revision, 4);
        assert_eq!(e3[0].kv.version, 0);
        assert_eq!(&*e3[0].prev_kv.as_ref().unwrap().value, b"2");
    }

    #[test]
    fn events_since_a_revision_come_in_revision_order_for_the_watched_prefix() {
        let mut s = MvccStore::new();
        put(&mut s, "/pods/a", "1"); // 2
        put(&mut s, "/nodes/n", "n"); // 3
        put(&mut s, "/pods/b", "1"); // 4
        del(&mut s, KeyRange::key("/pods/a")); // 5
        let evs = s.events_since(&KeyRange::prefix("/pods/"), 3).unwrap();
        let seen: Vec<(Revision, EventKind)> = evs.iter().map(|e| (e.revision(), e.kind)).collect();
        assert_eq!(seen, [(4, EventKind::Put), (5, EventKind::Delete)]);
        assert_eq!(s.events_since(&KeyRange::prefix("/"), 2).unwrap().len(), 4);
        assert!(s
            .events_since(&KeyRange::prefix("/"), 6)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_watch_below_the_compacted_revision_gets_compacted() {
        let mut s = MvccStore::new();
        for i in 0..5 {
            put(&mut s, "/a", &i.to_string()); // 2..=6
        }
        s.compact(4).unwrap();
        assert_eq!(
            s.events_since(&KeyRange::prefix("/"), 3),
            Err(MvccError::Compacted {
                requested: 3,
                compacted: 4
            })
        );
        let from_compacted = s.events_since(&KeyRange::prefix("/"), 4).unwrap();
        assert_eq!(
            from_compacted
                .iter()
                .map(Event::revision)
                .collect::<Vec<_>>(),
            [4, 5, 6]
        );
    }

    #[test]
    fn compaction_drops_history_below_it_but_keeps_the_value_at_it() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1"); // 2
        put(&mut s, "/a", "2"); // 3
        put(&mut s, "/gone", "g"); // 4
        del(&mut s, KeyRange::key("/gone")); // 5
        put(&mut s, "/a", "3"); // 6
        s.compact(5).unwrap();
        assert_eq!(s.compacted_revision(), 5);
        assert_eq!(
            get_at(&s, "/a", 4),
            Err(MvccError::Compacted {
                requested: 4,
                compacted: 5
            })
        );
        assert_eq!(&*get_at(&s, "/a", 5).unwrap().unwrap().value, b"2");
        assert_eq!(&*get_at(&s, "/a", 6).unwrap().unwrap().value, b"3");
        assert_eq!(get_at(&s, "/gone", 5).unwrap(), None);
        assert!(
            !s.keys.contains_key("/gone"),
            "a deleted key's history goes"
        );
        assert_eq!(s.keys.get("/a").map(|h| h.revs.len()), Some(2));
    }

    #[test]
    fn compacting_twice_or_into_the_future_is_refused_as_etcd_does() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        put(&mut s, "/a", "2");
        s.compact(2).unwrap();
        assert_eq!(
            s.compact(2),
            Err(MvccError::Compacted {
                requested: 2,
                compacted: 2
            })
        );
        assert_eq!(
            s.compact(9),
            Err(MvccError::FutureRevision {
                requested: 9,
                current: 3
            })
        );
    }

    #[test]
    fn a_txn_ranging_at_a_compacted_revision_is_refused_without_writing() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        put(&mut s, "/a", "2");
        s.compact(3).unwrap();
        let mut old = RangeRequest::new(KeyRange::key("/a"));
        old.revision = 2;
        let txn = TxnRequest::ops(vec![RequestOp::put("/b", v("b")), RequestOp::Range(old)]);
        assert!(matches!(s.txn(&txn), Err(MvccError::Compacted { .. })));
        assert_eq!(s.get("/b"), None);
        assert_eq!(s.revision(), 3);
    }

    #[test]
    fn a_store_snapshot_restores_keys_history_and_events() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1"); // 2
        put(&mut s, "/b", "1"); // 3
        put(&mut s, "/a", "2"); // 4
        del(&mut s, KeyRange::key("/b")); // 5
        s.compact(3).unwrap();
        put(&mut s, "/c", "1"); // 6
        let copy = MvccStore::decode_snapshot(&s.encode_snapshot()).unwrap();
        assert_eq!(copy.revision(), 6);
        assert_eq!(copy.compacted_revision(), 3);
        assert_eq!(copy.key_count(), 2);
        let all = RangeRequest::new(KeyRange::prefix("/"));
        assert_eq!(copy.range(&all), s.range(&all));
        assert_eq!(get_at(&copy, "/b", 3), get_at(&s, "/b", 3));
        assert_eq!(
            copy.events_since(&KeyRange::prefix("/"), 3),
            s.events_since(&KeyRange::prefix("/"), 3)
        );
    }

    #[test]
    fn a_corrupt_store_snapshot_is_an_error_not_a_panic() {
        let mut s = MvccStore::new();
        put(&mut s, "/a", "1");
        del(&mut s, KeyRange::key("/a"));
        put(&mut s, "/a", "2");
        let bytes = s.encode_snapshot();
        for n in 0..bytes.len() {
            assert!(MvccStore::decode_snapshot(&bytes[..n]).is_err());
        }
        let mut rng = crate::world::SimRng::new(3);
        for _ in 0..2_000 {
            let mut b = bytes.clone();
            let at = rng.between(0, b.len() as u64 - 1) as usize;
            b[at] = rng.between(0, 255) as u8;
            let _ = MvccStore::decode_snapshot(&b);
        }
    }

    #[test]
    fn many_writes_stay_consistent_with_a_plain_map() {
        let mut s = MvccStore::new();
        let mut model: BTreeMap<String, String> = BTreeMap::new();
        let mut rng = crate::world::SimRng::new(5);
        for i in 0..2_000 {
            let k = format!("/k/{}", rng.between(0, 50));
            if rng.chance(0.2) {
                del(&mut s, KeyRange::key(k.clone()));
                model.remove(&k);
            } else {
                put(&mut s, &k, &i.to_string());
                model.insert(k, i.to_string());
            }
            if i % 500 == 499 {
                s.compact(s.revision() - 10).unwrap();
            }
        }
        let all = s.range(&RangeRequest::new(KeyRange::prefix("/"))).unwrap();
        let got: BTreeMap<String, String> = all
            .kvs
            .iter()
            .map(|kv| {
                (
                    kv.key.to_string(),
                    String::from_utf8_lossy(&kv.value).into_owned(),
                )
            })
            .collect();
        assert_eq!(got, model);
        assert_eq!(s.key_count(), model.len());
    }
}
