//! The node IPAM controller: gives every Node a pod CIDR.
//!
//! In Kubernetes, kube-controller-manager started with
//! `--allocate-node-cidrs=true` (kubeadm passes it with
//! `--cluster-cidr=10.244.0.0/16` from `--pod-network-cidr`) runs the node
//! IPAM controller with the range allocator
//! (`pkg/controller/nodeipam/ipam/range_allocator.go`). It cuts the cluster
//! CIDR into blocks of `--node-cidr-mask-size` (24 for IPv4, so 256 blocks of
//! 254 pod IPs each) and keeps a bitmap of the blocks in use
//! (`ipam/cidrset/cidr_set.go`, `CidrSet`). On start it marks the blocks of
//! every existing Node as used (`NewCIDRRangeAllocator` with the node list);
//! then each Node without `spec.podCIDRs` gets the next free block
//! (`AllocateOrOccupyCIDR`, `CidrSet.AllocateNext`: round robin from the
//! block after the last one handed out, so a freed block is reused only
//! once the allocator has wrapped around, or by a freshly started leader,
//! which starts from the first block) through a patch of `spec.podCIDR` and
//! `spec.podCIDRs` (`updateCIDRsAllocation`, three tries with the same block
//! before giving it back, `CIDRAssignmentFailed`). A deleted Node's block is
//! released (`ReleaseCIDR` in the informer's delete handler). When no block
//! is left, the Node gets a `CIDRNotAvailable` warning event ("Node worker-9
//! status is now: CIDRNotAvailable") and is retried with back-off. The
//! kubelet never sets its pod CIDR: it waits for this controller (see
//! `kubelet::Kubelet::pod_cidr`).
//!
//! The API server forbids changing a Node's `podCIDRs` once set
//! (`ValidateNodeUpdate`), which upstream is what keeps a slow informer from
//! making the allocator hand one node two blocks; here the controller also
//! remembers the block it patched until its informer shows it.
//!
//! Upstream the controller writes as the `node-controller` service account
//! (`startNodeIpamController`), as here.
//!
//! Left out: the cloud allocator, dual-stack (a second cluster CIDR), the
//! multi-CIDR allocator, and the service CIDR filter (kubeadm's service range
//! 10.96.0.0/12 does not overlap the cluster CIDR).

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::Notification;
use k8s_openapi::api::core::v1::Node;
use std::collections::BTreeMap;

/// kubeadm's `--cluster-cidr` (from `--pod-network-cidr`).
pub const CLUSTER_CIDR: &str = "10.244.0.0/16";
/// `--node-cidr-mask-size` default for IPv4.
pub const NODE_CIDR_MASK_SIZE: u8 = 24;
/// `cidrUpdateRetries`: patches tried with one block before it goes back.
const CIDR_UPDATE_RETRIES: u32 = 3;

/// An IPv4 CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cidr {
    /// The first address, masked.
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `10.244.3.0/24` (the address is masked, as
    /// `netutils.ParseCIDRSloppy` returns the network).
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, prefix) = s.trim().split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let ip = parse_ipv4(ip)?;
        Some(Cidr {
            base: ip & mask(prefix),
            prefix,
        })
    }

    /// How many addresses the block holds.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `ip` lies in the block.
    pub fn contains(&self, ip: u32) -> bool {
        ip & mask(self.prefix) == self.base
    }

    /// The address `offset` places after the block's first.
    pub fn nth(&self, offset: u64) -> Option<u32> {
        (offset < self.size()).then(|| self.base.wrapping_add(offset as u32))
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", format_ipv4(self.base), self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// `a.b.c.d` as a number.
pub fn parse_ipv4(s: &str) -> Option<u32> {
    let parts: Vec<u8> = s
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// A number as `a.b.c.d`.
pub fn format_ipv4(ip: u32) -> String {
    let [a, b, c, d] = ip.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// Why a block could not be handed out or taken back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// `ErrCIDRRangeNoCIDRsRemaining`.
    #[error("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")]
    NoCidrsRemaining,
    #[error("failed to parse CIDR {0}")]
    Parse(String),
    #[error("cidr {0} is out the range of cluster cidr {1}")]
    OutOfRange(String, String),
    /// `ErrCIDRSetSubNetTooBig` (or a mask shorter than the cluster's).
    #[error("New CIDR set failed; the node CIDR size is too big")]
    SubNetTooBig,
}

/// The blocks of a cluster CIDR and which are in use
/// (`pkg/controller/nodeipam/ipam/cidrset/cidr_set.go`).
#[derive(Clone, Debug)]
pub struct CidrSet {
    cluster: Cidr,
    sub_prefix: u8,
    used: Vec<bool>,
    next_candidate: usize,
}

impl CidrSet {
    /// `NewCIDRSet`: blocks of `/sub_prefix` in `cluster`.
    pub fn new(cluster: Cidr, sub_prefix: u8) -> Result<CidrSet, CidrError> {
        // IPv4 only: at most 2^16 blocks, as upstream's bitmap allows.
        if sub_prefix < cluster.prefix || sub_prefix > 32 || sub_prefix - cluster.prefix > 16 {
            return Err(CidrError::SubNetTooBig);
        }
        Ok(CidrSet {
            cluster,
            sub_prefix,
            used: vec![false; 1 << (sub_prefix - cluster.prefix)],
            next_candidate: 0,
        })
    }

    fn block(&self, index: usize) -> Cidr {
        Cidr {
            base: self.cluster.base | ((index as u32) << (32 - u32::from(self.sub_prefix))),
            prefix: self.sub_prefix,
        }
    }

    /// The range of block indexes `cidr` covers (`getBeginingAndEndIndices`).
    fn indices(&self, cidr: &str) -> Result<(usize, usize), CidrError> {
        let c = Cidr::parse(cidr).ok_or_else(|| CidrError::Parse(cidr.to_string()))?;
        if !self.cluster.contains(c.base) && !c.contains(self.cluster.base) {
            return Err(CidrError::OutOfRange(
                cidr.to_string(),
                self.cluster.to_string(),
            ));
        }
        let shift = 32 - u32::from(self.sub_prefix);
        let index = |ip: u32| ((ip ^ self.cluster.base) >> shift) as usize;
        if c.prefix <= self.cluster.prefix {
            return Ok((0, self.used.len() - 1));
        }
        let last = c.base | !mask(c.prefix);
        let (begin, end) = (index(c.base), index(last));
        Ok((begin.min(self.used.len() - 1), end.min(self.used.len() - 1)))
    }

    /// `AllocateNext`: the first free block from the one after the last
    /// handed out, wrapping around.
    pub fn allocate_next(&mut self) -> Result<Cidr, CidrError> {
        let n = self.used.len();
        let found = (0..n)
            .map(|i| (i + self.next_candidate) % n)
            .find(|c| !self.used[*c]);
        let Some(index) = found else {
            return Err(CidrError::NoCidrsRemaining);
        };
        self.next_candidate = (index + 1) % n;
        self.used[index] = true;
        Ok(self.block(index))
    }

    /// `Occupy`: marks the blocks `cidr` covers as used.
    pub fn occupy(&mut self, cidr: &str) -> Result<(), CidrError> {
        let (b, e) = self.indices(cidr)?;
        for u in &mut self.used[b..=e] {
            *u = true;
        }
        Ok(())
    }

    /// `Release`: marks the blocks `cidr` covers as free.
    pub fn release(&mut self, cidr: &str) -> Result<(), CidrError> {
        let (b, e) = self.indices(cidr)?;
        for u in &mut self.used[b..=e] {
            *u = false;
        }
        Ok(())
    }

    /// Blocks in use.
    pub fn used(&self) -> usize {
        self.used.iter().filter(|u| **u).count()
    }
}

/// A block patched onto a node and not yet seen in the informer.
#[derive(Clone, Debug)]
struct Assignment {
    cidr: String,
    /// The patch is out, or it succeeded: wait for the informer. False
    /// after a failed patch, which the next sync sends again.
    waiting: bool,
    failures: u32,
}

/// The node IPAM controller with the range allocator.
#[derive(Clone)]
pub struct NodeIpamController {
    cluster_cidr: Cidr,
    mask_size: u8,
    set: Option<CidrSet>,
    /// Blocks patched (or being patched) onto nodes, by node name.
    assigned: BTreeMap<String, Assignment>,
}

impl Default for NodeIpamController {
    fn default() -> Self {
        Self::new(Self::default_cluster_cidr(), NODE_CIDR_MASK_SIZE)
    }
}

impl NodeIpamController {
    /// [`CLUSTER_CIDR`], parsed.
    pub fn default_cluster_cidr() -> Cidr {
        Cidr::parse(CLUSTER_CIDR).unwrap_or(Cidr {
            base: 0x0af4_0000,
            prefix: 16,
        })
    }
}

fn pod_cidrs(node: &Node) -> Vec<String> {
    let spec = node.spec.as_ref();
    match spec.and_then(|s| s.pod_cidrs.clone()) {
        Some(c) if !c.is_empty() => c,
        _ => spec
            .and_then(|s| s.pod_cidr.clone())
            .filter(|c| !c.is_empty())
            .into_iter()
            .collect(),
    }
}

impl NodeIpamController {
    /// A controller allocating `/mask_size` blocks of `cluster`
    /// (`--cluster-cidr`, `--node-cidr-mask-size`).
    pub fn new(cluster: Cidr, mask_size: u8) -> Self {
        NodeIpamController {
            cluster_cidr: cluster,
            mask_size,
            set: None,
            assigned: BTreeMap::new(),
        }
    }

    /// `NewCIDRRangeAllocator`: a fresh set with every existing node's
    /// blocks occupied.
    fn start(&mut self, caches: Caches<'_>) {
        let Ok(mut set) = CidrSet::new(self.cluster_cidr, self.mask_size) else {
            return;
        };
        for o in caches.list(KindId::Node) {
            if let Object::Node(n) = &*o {
                for c in pod_cidrs(n) {
                    // Garbage or a block outside the range: upstream refuses
                    // to start; here the node is left alone.
                    let _ = set.occupy(&c);
                }
            }
        }
        self.set = Some(set);
        self.assigned.clear();
    }

    /// Blocks in use, for tests and the page.
    pub fn used(&self) -> usize {
        self.set.as_ref().map_or(0, CidrSet::used)
    }

    /// The patch setting a node's pod CIDR (`nodeutil.PatchNodeCIDRs`): on
    /// the cached node, with its resourceVersion as precondition so a
    /// stale copy never overwrites another writer.
    fn patch(ctx: &mut Reconcile<'_, '_>, node: &Node, cidr: &str) {
        let mut next = node.clone();
        let spec = next.spec.get_or_insert_with(Default::default);
        spec.pod_cidr = Some(cidr.to_string());
        spec.pod_cidrs = Some(vec![cidr.to_string()]);
        let name = node.metadata.name.clone().unwrap_or_default();
        ctx.write(
            ApiRequest::new(Verb::Patch, KindId::Node, Credential::None)
                .named(name)
                .with_body(Object::Node(Box::new(next))),
        );
    }
}

impl Controller for NodeIpamController {
    fn name(&self) -> &'static str {
        "node-ipam-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::Node]
    }

    fn on_start(&mut self, caches: Caches<'_>) {
        self.start(caches);
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::Node, Notification::Add(o))
            | (KindId::Node, Notification::Update { new: o, .. }) => {
                vec![o.key()]
            }
            (KindId::Node, Notification::Delete { object, .. }) => {
                // The delete handler releases the node's blocks at once.
                if let (Object::Node(n), Some(set)) = (&**object, self.set.as_mut()) {
                    for c in pod_cidrs(n) {
                        let _ = set.release(&c);
                    }
                }
                let name = object.name().to_string();
                if let Some(a) = self.assigned.remove(&name) {
                    if let Some(set) = self.set.as_mut() {
                        let _ = set.release(&a.cidr);
                    }
                }
                vec![name]
            }
            _ => Vec::new(),
        }
    }

    /// `syncNode`.
    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        if self.set.is_none() {
            self.start(ctx.caches);
        }
        let Some(object) = ctx.caches.get(KindId::Node, key).cloned() else {
            return Requeue::Done;
        };
        let Object::Node(node) = &*object else {
            return Requeue::Done;
        };
        let Some(set) = self.set.as_mut() else {
            return Requeue::Done;
        };
        let cidrs = pod_cidrs(node);
        if object.deletion_timestamp().is_some() {
            for c in &cidrs {
                let _ = set.release(c);
            }
            return Requeue::Done;
        }
        if !cidrs.is_empty() {
            // `occupyCIDRs`. A block this controller patched that lost to
            // another writer goes back.
            if let Some(a) = self.assigned.remove(key) {
                if !cidrs.contains(&a.cidr) {
                    let _ = set.release(&a.cidr);
                }
            }
            for c in &cidrs {
                let _ = set.occupy(c);
            }
            return Requeue::Done;
        }
        if let Some(a) = self.assigned.get_mut(key) {
            // A patch is out, or answered and not yet in the cache.
            if a.waiting {
                return Requeue::Done;
            }
            // It failed: try again with the same block.
            a.waiting = true;
            let cidr = a.cidr.clone();
            Self::patch(ctx, node, &cidr);
            return Requeue::Done;
        }
        match set.allocate_next() {
            Ok(block) => {
                let cidr = block.to_string();
                self.assigned.insert(
                    key.to_string(),
                    Assignment {
                        cidr: cidr.clone(),
                        waiting: true,
                        failures: 0,
                    },
                );
                Self::patch(ctx, node, &cidr);
                Requeue::Done
            }
            Err(_) => {
                // `controllerutil.RecordNodeStatusChange`.
                ctx.event(
                    &object,
                    "Warning",
                    "CIDRNotAvailable",
                    format!("Node {key} status is now: CIDRNotAvailable"),
                );
                Requeue::RateLimited
            }
        }
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        if request.verb != Verb::Patch {
            return Vec::new();
        }
        let Some(a) = self.assigned.get_mut(key) else {
            return Vec::new();
        };
        if !matches!(response, ApiResponse::Error(_)) {
            return Vec::new();
        }
        a.waiting = false;
        a.failures += 1;
        if a.failures < CIDR_UPDATE_RETRIES {
            // The manager requeues the key with back-off; the next sync
            // patches the same block again.
            return Vec::new();
        }
        // `updateCIDRsAllocation`: give the block back and say so.
        let cidr = a.cidr.clone();
        self.assigned.remove(key);
        if let Some(set) = self.set.as_mut() {
            let _ = set.release(&cidr);
        }
        vec![ReplyEvent {
            object: k8s_openapi::api::core::v1::ObjectReference {
                kind: Some("Node".into()),
                name: Some(key.to_string()),
                // `RecordNodeStatusChange` refers to a node by name as uid.
                uid: Some(key.to_string()),
                ..Default::default()
            },
            type_: "Warning",
            reason: "CIDRAssignmentFailed",
            message: format!("Node {key} status is now: CIDRAssignmentFailed"),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::informer::Store;
    use crate::controllers::testing::object;
    use crate::world::{SimRng, SimTime};
    use std::rc::Rc;

    fn node(name: &str, cidr: Option<&str>) -> Object {
        let spec = cidr
            .map(|c| format!("spec:\n  podCIDR: {c}\n  podCIDRs: [{c}]\n"))
            .unwrap_or_default();
        object(&format!(
            "apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  resourceVersion: \"7\"\n{spec}"
        ))
    }

    /// Runs one reconcile of each key over `nodes`; returns the CIDR each
    /// patch assigns (node, cidr) and the events' reasons.
    fn sync(
        c: &mut NodeIpamController,
        nodes: &[Object],
        keys: &[&str],
    ) -> (Vec<(String, String)>, Vec<String>, Vec<Requeue>) {
        let store = Store::from_objects(nodes.to_vec());
        let kinds = [KindId::Node];
        let stores = [Some(&store)];
        let caches = Caches::for_test(&kinds, &stores);
        let mut rng = SimRng::new(1);
        let mut patches = Vec::new();
        let mut events = Vec::new();
        let mut requeues = Vec::new();
        for key in keys {
            let mut r = Reconcile::for_test(SimTime(1_000), &mut rng, caches);
            requeues.push(c.reconcile(&mut r, key));
            for w in r.writes() {
                if let Some(Object::Node(n)) = w.body.as_deref() {
                    let spec = n.spec.clone().unwrap_or_default();
                    assert_eq!(w.verb, Verb::Patch);
                    assert_eq!(
                        spec.pod_cidrs.clone().unwrap_or_default(),
                        vec![spec.pod_cidr.clone().unwrap_or_default()]
                    );
                    assert_eq!(n.metadata.resource_version.as_deref(), Some("7"));
                    patches.push((key.to_string(), spec.pod_cidr.unwrap_or_default()));
                }
            }
            events.extend(r.events().into_iter().map(|(reason, _)| reason));
        }
        (patches, events, requeues)
    }

    fn answered(c: &mut NodeIpamController, key: &str, ok: bool) {
        let request = ApiRequest::new(Verb::Patch, KindId::Node, Credential::None).named(key);
        let response = if ok {
            ApiResponse::Object(Rc::new(node(key, None)))
        } else {
            ApiResponse::Error(crate::api::ApiError::stale(KindId::Node.info(), key))
        };
        c.on_reply(key, &request, &response);
    }

    #[test]
    fn a_cidr_set_hands_out_blocks_round_robin_and_reuses_released_ones_after_wrapping() {
        let mut s = CidrSet::new(Cidr::parse("10.244.0.0/23").unwrap(), 24).unwrap();
        assert_eq!(s.allocate_next().unwrap().to_string(), "10.244.0.0/24");
        assert_eq!(s.allocate_next().unwrap().to_string(), "10.244.1.0/24");
        assert_eq!(s.allocate_next(), Err(CidrError::NoCidrsRemaining));
        s.release("10.244.0.0/24").unwrap();
        assert_eq!(s.allocate_next().unwrap().to_string(), "10.244.0.0/24");
        assert!(s.occupy("10.245.0.0/24").is_err());
        assert!(s.release("garbage").is_err());
    }

    #[test]
    fn the_next_candidate_follows_the_last_block_handed_out_not_the_lowest_free_one() {
        let mut s = CidrSet::new(Cidr::parse(CLUSTER_CIDR).unwrap(), 24).unwrap();
        for _ in 0..3 {
            s.allocate_next().unwrap();
        }
        s.release("10.244.1.0/24").unwrap();
        assert_eq!(s.allocate_next().unwrap().to_string(), "10.244.3.0/24");
        assert_eq!(s.used(), 3);
    }

    #[test]
    fn a_mask_longer_than_sixteen_bits_below_the_cluster_range_is_refused() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert_eq!(CidrSet::new(c, 28).err(), Some(CidrError::SubNetTooBig));
        assert_eq!(CidrSet::new(c, 6).err(), Some(CidrError::SubNetTooBig));
        assert!(CidrSet::new(c, 24).is_ok());
    }

    #[test]
    fn nodes_without_a_pod_cidr_get_the_next_free_slash_24_skipping_the_ones_in_use() {
        let mut c = NodeIpamController::default();
        let nodes = [
            node("a", None),
            node("b", Some("10.244.0.0/24")),
            node("c", None),
        ];
        let (patches, events, _) = sync(&mut c, &nodes, &["a", "b", "c"]);
        assert_eq!(
            patches,
            vec![
                ("a".to_string(), "10.244.1.0/24".to_string()),
                ("c".to_string(), "10.244.2.0/24".to_string())
            ]
        );
        assert!(events.is_empty());
    }

    #[test]
    fn a_patch_not_yet_seen_is_not_followed_by_a_second_block() {
        let mut c = NodeIpamController::default();
        let nodes = [node("a", None)];
        let (p1, _, _) = sync(&mut c, &nodes, &["a"]);
        answered(&mut c, "a", true);
        // The informer has not caught up: no second block.
        let (p2, _, _) = sync(&mut c, &nodes, &["a"]);
        assert_eq!(p1.len(), 1);
        assert!(p2.is_empty());
        // Once seen, the assignment is done.
        let seen = [node("a", Some(&p1[0].1))];
        sync(&mut c, &seen, &["a"]);
        assert!(c.assigned.is_empty());
        assert_eq!(c.used(), 1);
    }

    #[test]
    fn a_failed_patch_is_retried_with_the_same_block_then_given_back() {
        let mut c = NodeIpamController::default();
        let nodes = [node("a", None)];
        let (p, _, _) = sync(&mut c, &nodes, &["a"]);
        answered(&mut c, "a", false);
        let (again, _, _) = sync(&mut c, &nodes, &["a"]);
        assert_eq!(again, p);
        answered(&mut c, "a", false);
        sync(&mut c, &nodes, &["a"]);
        let request = ApiRequest::new(Verb::Patch, KindId::Node, Credential::None).named("a");
        let events = c.on_reply(
            "a",
            &request,
            &ApiResponse::Error(crate::api::ApiError::stale(KindId::Node.info(), "a")),
        );
        assert_eq!(events[0].reason, "CIDRAssignmentFailed");
        assert_eq!(c.used(), 0);
    }

    #[test]
    fn an_exhausted_range_records_cidr_not_available_and_retries_with_back_off() {
        let mut c = NodeIpamController::new(Cidr::parse("10.244.0.0/24").unwrap(), 24);
        let nodes = [node("a", Some("10.244.0.0/24")), node("b", None)];
        let (patches, events, requeues) = sync(&mut c, &nodes, &["a", "b"]);
        assert!(patches.is_empty());
        assert_eq!(events, vec!["CIDRNotAvailable".to_string()]);
        assert_eq!(requeues[1], Requeue::RateLimited);
    }

    #[test]
    fn a_deleted_nodes_block_is_released_for_the_allocator_to_hand_out_again() {
        let mut c = NodeIpamController::new(Cidr::parse("10.244.0.0/23").unwrap(), 24);
        let nodes = [
            node("a", Some("10.244.0.0/24")),
            node("b", Some("10.244.1.0/24")),
        ];
        sync(&mut c, &nodes, &["a", "b"]);
        assert_eq!(c.used(), 2);
        let store = Store::from_objects(Vec::new());
        let kinds = [KindId::Node];
        let stores = [Some(&store)];
        let deleted = Notification::Delete {
            object: Rc::new(nodes[0].clone()),
            final_state_unknown: false,
        };
        let keys = c.keys_for(Caches::for_test(&kinds, &stores), KindId::Node, &deleted);
        assert_eq!(keys, vec!["a".to_string()]);
        assert_eq!(c.used(), 1);
        let (patches, _, _) = sync(&mut c, &[nodes[1].clone(), node("new", None)], &["new"]);
        assert_eq!(
            patches,
            vec![("new".to_string(), "10.244.0.0/24".to_string())]
        );
    }

    #[test]
    fn cidrs_parse_and_print_as_go_does() {
        let c = Cidr::parse("10.244.3.7/24").unwrap();
        assert_eq!(c.to_string(), "10.244.3.0/24");
        assert_eq!(c.size(), 256);
        assert_eq!(c.nth(2).map(format_ipv4).as_deref(), Some("10.244.3.2"));
        assert!(c.contains(parse_ipv4("10.244.3.254").unwrap()));
        assert!(!c.contains(parse_ipv4("10.244.4.1").unwrap()));
        assert!(Cidr::parse("10.244.0.0").is_none());
        assert!(Cidr::parse("10.244.0.0/33").is_none());
        assert!(Cidr::parse("10.244.0/24").is_none());
    }
}
