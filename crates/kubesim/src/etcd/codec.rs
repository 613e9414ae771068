//! The bytes of a raft log entry: what an etcd member proposes.
//!
//! In etcd, `etcdserver` marshals an `InternalRaftRequest` (protobuf) holding
//! the request and a unique request id (`etcdserver/v3_server.go`,
//! `processInternalRaftRequestOnce`); every member unmarshals it when the
//! entry is applied, and the member that proposed it finds the waiting client
//! by that id (`wait.Wait`). Here a [`Proposal`] carries the proposing
//! member's id and a sequence number for the same purpose, and a compact
//! hand-written binary form (LEB128 integers, length-prefixed strings) stands
//! in for protobuf: the raft log really holds bytes, as etcd's WAL does, so
//! entry sizes mean something and nothing is shared between members by
//! reference.
//!
//! The same primitives encode a member's store when raft sends a snapshot
//! (see `MvccStore::encode_snapshot`). Decoding never panics: corrupt bytes
//! give a [`CodecError`].

use super::mvcc::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, KeyRange, PutRequest, RangeRequest,
    RequestOp, Revision, TxnRequest,
};
use std::rc::Rc;

/// What a member proposes through raft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Txn(TxnRequest),
    Compact(Revision),
}

/// A proposal: the operation, and who proposed it (to answer the client once
/// the entry is applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The member the client's request arrived at.
    pub origin: u64,
    /// That member's sequence number for the request.
    pub seq: u64,
    pub op: Op,
}

/// Why bytes could not be decoded into a [`Proposal`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("entry data ends early")]
    Truncated,
    #[error("data has an unknown format version {0}")]
    UnknownVersion(u8),
    #[error("entry data has an unknown {what} tag {tag}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("entry data holds a string that is not UTF-8")]
    NotUtf8,
    #[error("entry data has an integer that does not fit")]
    Overflow,
    #[error("entry data has {0} bytes left over")]
    TrailingBytes(usize),
}

const VERSION: u8 = 1;

impl Proposal {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64));
        w.byte(VERSION);
        w.uint(self.origin);
        w.uint(self.seq);
        match &self.op {
            Op::Txn(t) => {
                w.byte(0);
                w.txn(t);
            }
            Op::Compact(rev) => {
                w.byte(1);
                w.int(*rev);
            }
        }
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Proposal, CodecError> {
        let mut r = Reader::new(bytes);
        let version = r.byte()?;
        if version != VERSION {
            return Err(CodecError::UnknownVersion(version));
        }
        let origin = r.uint()?;
        let seq = r.uint()?;
        let op = match r.byte()? {
            0 => Op::Txn(r.txn()?),
            1 => Op::Compact(r.int()?),
            tag => return Err(CodecError::UnknownTag { what: "op", tag }),
        };
        r.finish()?;
        Ok(Proposal { origin, seq, op })
    }
}

/// Appends the binary forms (also used for store snapshots in `mvcc`).
pub(super) struct Writer(pub(super) Vec<u8>);

impl Writer {
    pub(super) fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    pub(super) fn uint(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(low);
                return;
            }
            self.0.push(low | 0x80);
        }
    }

    /// Zig-zag, so small negative numbers stay short (as protobuf's sint64).
    pub(super) fn int(&mut self, v: i64) {
        self.uint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    pub(super) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn range(&mut self, r: &KeyRange) {
        match r {
            KeyRange::Key(k) => {
                self.byte(0);
                self.str(k);
            }
            KeyRange::Prefix(p) => {
                self.byte(1);
                self.str(p);
            }
            KeyRange::Interval { start, end } => {
                self.byte(2);
                self.str(start);
                self.str(end);
            }
        }
    }

    fn range_request(&mut self, r: &RangeRequest) {
        self.range(&r.range);
        self.int(r.revision);
        self.uint(r.limit as u64);
        self.byte(u8::from(r.serializable));
    }

    fn ops(&mut self, ops: &[RequestOp]) {
        self.uint(ops.len() as u64);
        for op in ops {
            match op {
                RequestOp::Range(r) => {
                    self.byte(0);
                    self.range_request(r);
                }
                RequestOp::Put(p) => {
                    self.byte(1);
                    self.str(&p.key);
                    self.bytes(&p.value);
                }
                RequestOp::DeleteRange(d) => {
                    self.byte(2);
                    self.range(&d.range);
                }
            }
        }
    }

    fn txn(&mut self, t: &TxnRequest) {
        self.uint(t.compare.len() as u64);
        for c in &t.compare {
            self.str(&c.key);
            match &c.target {
                CompareTarget::Version(v) => {
                    self.byte(0);
                    self.int(*v);
                }
                CompareTarget::CreateRevision(v) => {
                    self.byte(1);
                    self.int(*v);
                }
                CompareTarget::ModRevision(v) => {
                    self.byte(2);
                    self.int(*v);
                }
                CompareTarget::Value(v) => {
                    self.byte(3);
                    self.bytes(v);
                }
            }
            self.byte(match c.result {
                CompareResult::Equal => 0,
                CompareResult::NotEqual => 1,
                CompareResult::Greater => 2,
                CompareResult::Less => 3,
            });
        }
        self.ops(&t.success);
        self.ops(&t.failure);
    }
}

/// Reads the binary forms back, refusing anything malformed.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Refuses bytes left over after a complete value.
    pub(super) fn finish(&self) -> Result<(), CodecError> {
        let left = self.bytes.len().saturating_sub(self.pos);
        if left > 0 {
            return Err(CodecError::TrailingBytes(left));
        }
        Ok(())
    }

    pub(super) fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.pos).ok_or(CodecError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    pub(super) fn uint(&mut self) -> Result<u64, CodecError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let low = u64::from(b & 0x7f);
            if shift == 63 && low > 1 {
                return Err(CodecError::Overflow);
            }
            v |= low << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CodecError::Overflow)
    }

    pub(super) fn int(&mut self) -> Result<i64, CodecError> {
        let u = self.uint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub(super) fn len(&mut self) -> Result<usize, CodecError> {
        let n = usize::try_from(self.uint()?).map_err(|_| CodecError::Overflow)?;
        // A length can never exceed what is left: refuse before allocating.
        if n > self.bytes.len().saturating_sub(self.pos) {
            return Err(CodecError::Truncated);
        }
        Ok(n)
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.len()?;
        let end = self.pos.checked_add(n).ok_or(CodecError::Overflow)?;
        let b = self.bytes.get(self.pos..end).ok_or(CodecError::Truncated)?;
        self.pos = end;
        Ok(b)
    }

    pub(super) fn string(&mut self) -> Result<String, CodecError> {
        let b = self.bytes()?;
        std::str::from_utf8(b)
            .map(str::to_string)
            .map_err(|_| CodecError::NotUtf8)
    }

    fn range(&mut self) -> Result<KeyRange, CodecError> {
        Ok(match self.byte()? {
            0 => KeyRange::Key(self.string()?),
            1 => KeyRange::Prefix(self.string()?),
            2 => KeyRange::Interval {
                start: self.string()?,
                end: self.string()?,
            },
            tag => return Err(CodecError::UnknownTag { what: "range", tag }),
        })
    }

    fn range_request(&mut self) -> Result<RangeRequest, CodecError> {
        Ok(RangeRequest {
            range: self.range()?,
            revision: self.int()?,
            limit: usize::try_from(self.uint()?).map_err(|_| CodecError::Overflow)?,
            serializable: self.byte()? != 0,
        })
    }

    fn ops(&mut self) -> Result<Vec<RequestOp>, CodecError> {
        // Every op takes at least one byte, so the count is bounded by the
        // bytes left (no huge allocation from a corrupt count).
        let n = self.len()?;
        let mut ops = Vec::with_capacity(n);
        for _ in 0..n {
            ops.push(match self.byte()? {
                0 => RequestOp::Range(self.range_request()?),
                1 => RequestOp::Put(PutRequest {
                    key: self.string()?,
                    value: Rc::from(self.bytes()?),
                }),
                2 => RequestOp::DeleteRange(DeleteRangeRequest {
                    range: self.range()?,
                }),
                tag => {
                    return Err(CodecError::UnknownTag {
                        what: "request op",
                        tag,
                    })
                }
            });
        }
        Ok(ops)
    }

    fn txn(&mut self) -> Result<TxnRequest, CodecError> {
        let n = self.len()?;
        let mut compare = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.string()?;
            let target = match self.byte()? {
                0 => CompareTarget::Version(self.int()?),
                1 => CompareTarget::CreateRevision(self.int()?),
                2 => CompareTarget::ModRevision(self.int()?),
                3 => CompareTarget::Value(Rc::from(self.bytes()?)),
                tag => {
                    return Err(CodecError::UnknownTag {
                        what: "compare target",
                        tag,
                    })
                }
            };
            let result = match self.byte()? {
                0 => CompareResult::Equal,
                1 => CompareResult::NotEqual,
                2 => CompareResult::Greater,
                3 => CompareResult::Less,
                tag => {
                    return Err(CodecError::UnknownTag {
                        what: "compare result",
                        tag,
                    })
                }
            };
            compare.push(Compare {
                key,
                target,
                result,
            });
        }
        Ok(TxnRequest {
            compare,
            success: self.ops()?,
            failure: self.ops()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimRng;
    use rand::RngCore;

    fn sample() -> Proposal {
        Proposal {
            origin: 3,
            seq: 1 << 40,
            op: Op::Txn(TxnRequest {
                compare: vec![
                    Compare::mod_revision("/registry/pods/default/a", CompareResult::Equal, 0),
                    Compare::version("/v", CompareResult::Greater, -5),
                    Compare::create_revision("/c", CompareResult::Less, i64::MAX),
                    Compare::value("/x", CompareResult::NotEqual, Rc::from(&b"\0\xff"[..])),
                ],
                success: vec![
                    RequestOp::put("/registry/pods/default/a", &b"pod bytes"[..]),
                    RequestOp::delete(KeyRange::Interval {
                        start: "/a".into(),
                        end: "/b".into(),
                    }),
                ],
                failure: vec![RequestOp::Range(RangeRequest {
                    range: KeyRange::prefix("/registry/"),
                    revision: 42,
                    limit: 500,
                    serializable: true,
                })],
            }),
        }
    }

    #[test]
    fn a_proposal_survives_encoding_and_decoding() {
        let p = sample();
        assert_eq!(Proposal::decode(&p.encode()), Ok(p));
        let c = Proposal {
            origin: 1,
            seq: 0,
            op: Op::Compact(-1),
        };
        assert_eq!(Proposal::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn truncated_or_padded_bytes_are_refused() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(
                Proposal::decode(&bytes[..n]).is_err(),
                "prefix of {n} bytes"
            );
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(Proposal::decode(&padded), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn random_bytes_never_panic_the_decoder() {
        let mut rng = SimRng::new(99);
        let good = sample().encode();
        for i in 0..5_000 {
            let mut b = good.clone();
            if i % 2 == 0 {
                let n = rng.between(0, 64) as usize;
                b = vec![0; n];
                rng.core().fill_bytes(&mut b);
                b.insert(0, VERSION);
            } else {
                let at = rng.between(0, b.len() as u64 - 1) as usize;
                b[at] = rng.between(0, 255) as u8;
            }
            let _ = Proposal::decode(&b);
        }
    }
}
