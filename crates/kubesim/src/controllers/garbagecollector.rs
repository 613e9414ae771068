//! The garbage collector: deletes objects whose owners are gone, and
//! carries out foreground and orphan cascading deletion.
//!
//! In Kubernetes (`pkg/controller/garbagecollector`) the collector keeps a
//! graph of every object that has or is named as an owner
//! (`graph_builder.go`): nodes are objects keyed by uid, edges go from an
//! owner to its dependents, built from `metadata.ownerReferences` as the
//! informers of every deletable resource report changes
//! (`processGraphChanges`). An owner named by a dependent but not yet seen
//! becomes a *virtual* node, verified against the API. Two queues drive it:
//! - `attemptToDelete` (`garbagecollector.go`, `attemptToDeleteItem`): an
//!   object whose owners may be gone. Each owner reference is *dangling*
//!   (the owner is absent), *waiting* (the owner is being deleted in the
//!   foreground) or *solid*. With a solid owner the dangling and waiting
//!   references are removed from the object; without one the object itself
//!   is deleted (in the foreground if an owner waits for it and it has
//!   dependents, else by the propagation its own finalizers ask for,
//!   background by default). An owner being deleted in the foreground
//!   (`processDeletingDependentsItem`) waits until no dependent blocks it
//!   (`blockOwnerDeletion: true`), then loses its `foregroundDeletion`
//!   finalizer and goes.
//! - `attemptToOrphan` (`attemptToOrphanWorker`, `orphanDependents`): an
//!   owner deleted with the `orphan` finalizer; the collector removes the
//!   owner's reference from every dependent, then the finalizer.
//!
//! Here the graph is a `petgraph` [`StableGraph`] (indices survive removals),
//! fed by the controller manager's informers through
//! [`Controller::keys_for`]; the two queues share the controller's work
//! queue as `delete/<uid>` and `orphan/<uid>` keys. Where upstream reads an
//! object live (`getObject`, `isDangling`), the collector trusts its
//! informer cache when the object is there and otherwise asks the API server
//! (a GET as the collector's service account), remembering absent owners as
//! upstream's `absentOwnerCache` does. [`GarbageCollector::owners_of`] and
//! [`GarbageCollector::dependents_of`] expose the graph for the inspector.
//!
//! Left out: deletion preconditions on the uid, the detection of owner
//! references whose coordinates disagree (`partitionDependents`), the
//! cycle breaking that makes blocking references non-blocking, the monitors'
//! discovery of resources at run time (the kinds are fixed, see
//! [`GC_KINDS`]), and repairing a graph that missed deletions while the
//! instance was not leader (a stale node is dropped when next processed).

use super::{Caches, Controller, Reconcile, Requeue};
use crate::api::{Kind, KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Propagation, Verb};
use crate::client::informer::Notification;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use petgraph::stable_graph::{NodeIndex, StableGraph};
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// The kinds whose objects the collector tracks: every kind here that is
/// an owner or a dependent (upstream watches every deletable resource).
pub const GC_KINDS: &[KindId] = &[
    KindId::Pod,
    KindId::Service,
    KindId::ConfigMap,
    KindId::Secret,
    KindId::EndpointSlice,
    KindId::Lease,
    KindId::Node,
    KindId::Deployment,
    KindId::ReplicaSet,
    KindId::StatefulSet,
    KindId::DaemonSet,
    KindId::ControllerRevision,
    KindId::Job,
    KindId::CronJob,
];

/// `metav1.FinalizerOrphanDependents`.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// `metav1.FinalizerDeleteDependents`.
pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
/// The size of upstream's `absentOwnerCache` (an LRU of 500).
const ABSENT_OWNER_CACHE_SIZE: usize = 500;

/// Who an object is: the coordinates an owner reference uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
}

impl Identity {
    fn of(o: &Object) -> Self {
        Identity {
            api_version: o.kind().api_version(),
            kind: o.kind().kind.to_string(),
            namespace: o.namespace().map(str::to_string),
            name: o.name().to_string(),
            uid: o.uid().unwrap_or_default().to_string(),
        }
    }

    /// The owner an owner reference of a dependent in `namespace` names
    /// (an owner is in its dependent's namespace, or cluster-scoped).
    fn of_owner(r: &OwnerReference, namespace: Option<&str>) -> Self {
        let namespaced =
            Kind::for_api_version(&r.api_version, &r.kind).is_none_or(|k| k.namespaced);
        Identity {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: namespace.filter(|_| namespaced).map(str::to_string),
            name: r.name.clone(),
            uid: r.uid.clone(),
        }
    }

    fn kind_id(&self) -> Option<KindId> {
        Kind::for_api_version(&self.api_version, &self.kind).map(|k| k.id)
    }

    /// The informer key.
    fn key(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// One object in the graph (`graph.go`, `node`).
#[derive(Clone, Debug)]
struct Node {
    identity: Identity,
    /// The object's owner references as last observed.
    owners: Vec<OwnerReference>,
    /// It has a deletionTimestamp.
    being_deleted: bool,
    /// It is being deleted in the foreground (`foregroundDeletion`).
    deleting_dependents: bool,
    /// Known only from a dependent's reference, not yet observed.
    virtual_: bool,
}

/// What a live lookup of an owner found.
#[derive(Clone, Debug)]
enum Lookup {
    Pending,
    Present(Rc<Object>),
    Absent,
}

/// The garbage collector.
#[derive(Clone, Default)]
pub struct GarbageCollector {
    /// Edges go from an owner to each of its dependents.
    graph: StableGraph<Node, ()>,
    by_uid: BTreeMap<String, NodeIndex>,
    /// Owners known to be gone (`absentOwnerCache`), oldest first.
    absent: VecDeque<String>,
    /// Live lookups of owners, by uid.
    lookups: BTreeMap<String, Lookup>,
}

fn delete_key(uid: &str) -> String {
    format!("delete/{uid}")
}

fn orphan_key(uid: &str) -> String {
    format!("orphan/{uid}")
}

fn has_finalizer(o: &Object, f: &str) -> bool {
    o.finalizers().iter().any(|x| x == f)
}

/// `deletionStartsWithFinalizer`: `new` is being deleted with finalizer `f`
/// and `old` was not.
fn starts_deletion_with(old: Option<&Object>, new: &Object, f: &str) -> bool {
    if new.deletion_timestamp().is_none() || !has_finalizer(new, f) {
        return false;
    }
    old.is_none_or(|o| o.deletion_timestamp().is_none() || !has_finalizer(o, f))
}

fn blocks(r: &OwnerReference) -> bool {
    r.block_owner_deletion == Some(true)
}

impl GarbageCollector {
    fn node(&self, uid: &str) -> Option<&Node> {
        self.by_uid
            .get(uid)
            .and_then(|i| self.graph.node_weight(*i))
    }

    fn node_mut(&mut self, uid: &str) -> Option<&mut Node> {
        let i = *self.by_uid.get(uid)?;
        self.graph.node_weight_mut(i)
    }

    /// The uids of a node's dependents, in uid order.
    fn dependents(&self, uid: &str) -> Vec<String> {
        let Some(i) = self.by_uid.get(uid) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .graph
            .neighbors_directed(*i, Direction::Outgoing)
            .filter_map(|d| self.graph.node_weight(d))
            .map(|n| n.identity.uid.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn is_absent(&self, uid: &str) -> bool {
        self.absent.iter().any(|u| u == uid)
    }

    fn mark_absent(&mut self, uid: &str) {
        if self.is_absent(uid) {
            return;
        }
        self.absent.push_back(uid.to_string());
        while self.absent.len() > ABSENT_OWNER_CACHE_SIZE {
            self.absent.pop_front();
        }
    }

    /// The identities of `uid`'s owners as the graph records them.
    pub fn owners_of(&self, uid: &str) -> Vec<Identity> {
        let Some(i) = self.by_uid.get(uid) else {
            return Vec::new();
        };
        self.graph
            .neighbors_directed(*i, Direction::Incoming)
            .filter_map(|o| self.graph.node_weight(o))
            .map(|n| n.identity.clone())
            .collect()
    }

    /// The identities of `uid`'s dependents as the graph records them.
    pub fn dependents_of(&self, uid: &str) -> Vec<Identity> {
        self.dependents(uid)
            .iter()
            .filter_map(|d| self.node(d))
            .map(|n| n.identity.clone())
            .collect()
    }

    /// How many objects the graph holds (virtual ones included).
    pub fn graph_len(&self) -> usize {
        self.graph.node_count()
    }

    /// Links `dependent` to each owner of `refs`, creating virtual nodes
    /// for owners not seen yet (`addDependentToOwners`); returns the keys to
    /// enqueue (the new virtual nodes, to verify them).
    fn add_to_owners(
        &mut self,
        dependent: NodeIndex,
        namespace: Option<&str>,
        refs: &[OwnerReference],
    ) -> Vec<String> {
        let mut keys = Vec::new();
        for r in refs {
            let owner = match self.by_uid.get(&r.uid) {
                Some(i) => *i,
                None => {
                    let i = self.graph.add_node(Node {
                        identity: Identity::of_owner(r, namespace),
                        owners: Vec::new(),
                        being_deleted: false,
                        deleting_dependents: false,
                        virtual_: true,
                    });
                    self.by_uid.insert(r.uid.clone(), i);
                    keys.push(delete_key(&r.uid));
                    i
                }
            };
            if self.graph.find_edge(owner, dependent).is_none() {
                self.graph.add_edge(owner, dependent, ());
            }
        }
        keys
    }

    fn remove_from_owners(&mut self, dependent: NodeIndex, refs: &[OwnerReference]) {
        for r in refs {
            if let Some(owner) = self.by_uid.get(&r.uid).copied() {
                while let Some(e) = self.graph.find_edge(owner, dependent) {
                    self.graph.remove_edge(e);
                }
            }
        }
    }

    /// An added or updated object (`processGraphChanges`, add and update).
    fn observe(&mut self, old: Option<&Object>, o: &Object) -> Vec<String> {
        let Some(uid) = o.uid().map(str::to_string) else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        let new_refs = o.owner_references().to_vec();
        let index = match self.by_uid.get(&uid).copied() {
            Some(i) => i,
            None => {
                let i = self.graph.add_node(Node {
                    identity: Identity::of(o),
                    owners: Vec::new(),
                    being_deleted: false,
                    deleting_dependents: false,
                    virtual_: false,
                });
                self.by_uid.insert(uid.clone(), i);
                i
            }
        };
        let old_refs = match self.graph.node_weight_mut(index) {
            Some(n) => {
                // Observed through an informer: no longer virtual.
                n.virtual_ = false;
                n.identity = Identity::of(o);
                n.being_deleted = o.deletion_timestamp().is_some();
                std::mem::replace(&mut n.owners, new_refs.clone())
            }
            None => return keys,
        };
        self.lookups.remove(&uid);
        // `referencesDiffs`.
        let removed: Vec<OwnerReference> = old_refs
            .iter()
            .filter(|r| !new_refs.iter().any(|n| n.uid == r.uid))
            .cloned()
            .collect();
        let added: Vec<OwnerReference> = new_refs
            .iter()
            .filter(|r| !old_refs.iter().any(|o| o.uid == r.uid))
            .cloned()
            .collect();
        // `addUnblockedOwnersToDeleteQueue`: an owner waiting for its
        // dependents may now be free to go.
        for r in &old_refs {
            let unblocked = match new_refs.iter().find(|n| n.uid == r.uid) {
                None => blocks(r),
                Some(n) => blocks(r) && !blocks(n),
            };
            if unblocked && self.node(&r.uid).is_some_and(|n| n.deleting_dependents) {
                keys.push(delete_key(&r.uid));
            }
        }
        self.remove_from_owners(index, &removed);
        keys.extend(self.add_to_owners(index, o.namespace(), &added));
        // `processTransitions`.
        if starts_deletion_with(old, o, FINALIZER_ORPHAN) {
            keys.push(orphan_key(&uid));
        } else if starts_deletion_with(old, o, FINALIZER_FOREGROUND) {
            if let Some(n) = self.node_mut(&uid) {
                n.deleting_dependents = true;
            }
            keys.extend(self.dependents(&uid).iter().map(|d| delete_key(d)));
            keys.push(delete_key(&uid));
        }
        keys
    }

    /// Removes a node (`removeNode`); returns the keys its removal
    /// enqueues: its dependents, and its owners that wait for their
    /// dependents to go.
    fn remove(&mut self, uid: &str) -> Vec<String> {
        let Some(index) = self.by_uid.get(uid).copied() else {
            return Vec::new();
        };
        let dependents = self.dependents(uid);
        let owners = self
            .graph
            .node_weight(index)
            .map(|n| n.owners.clone())
            .unwrap_or_default();
        self.graph.remove_node(index);
        self.by_uid.remove(uid);
        self.lookups.remove(uid);
        if !dependents.is_empty() {
            self.mark_absent(uid);
        }
        let mut keys: Vec<String> = dependents.iter().map(|d| delete_key(d)).collect();
        for r in owners {
            if self.node(&r.uid).is_some_and(|n| n.deleting_dependents) {
                keys.push(delete_key(&r.uid));
            }
        }
        keys
    }

    /// The object a node stands for, from the informer cache.
    fn cached<'a>(caches: Caches<'a>, identity: &Identity) -> Option<&'a Rc<Object>> {
        let kind = identity.kind_id()?;
        caches
            .get(kind, &identity.key())
            .filter(|o| o.uid() == Some(identity.uid.as_str()))
    }

    /// Asks the API server for an owner the cache does not show.
    fn look_up(&mut self, ctx: &mut Reconcile<'_, '_>, identity: &Identity) {
        if self.lookups.contains_key(&identity.uid) {
            return;
        }
        let Some(kind) = identity.kind_id() else {
            // A kind this API does not serve: the owner cannot exist.
            self.lookups.insert(identity.uid.clone(), Lookup::Absent);
            return;
        };
        self.lookups.insert(identity.uid.clone(), Lookup::Pending);
        let mut r = ApiRequest::new(Verb::Get, kind, Credential::None).named(identity.name.clone());
        r.namespace = identity.namespace.clone();
        ctx.write(r);
    }

    fn delete(ctx: &mut Reconcile<'_, '_>, identity: &Identity, policy: Propagation) {
        let Some(kind) = identity.kind_id() else {
            return;
        };
        let mut r =
            ApiRequest::new(Verb::Delete, kind, Credential::None).named(identity.name.clone());
        r.namespace = identity.namespace.clone();
        r.options.propagation = Some(policy);
        ctx.write(r);
    }

    /// An update of `o` as the collector patches it (with `o`'s
    /// resourceVersion as precondition).
    fn update(ctx: &mut Reconcile<'_, '_>, o: Object) {
        let kind = o.kind_id();
        let mut r =
            ApiRequest::new(Verb::Update, kind, Credential::None).named(o.name().to_string());
        r.namespace = o.namespace().map(str::to_string);
        ctx.write(r.with_body(o));
    }

    /// `removeFinalizer`.
    fn remove_finalizer(ctx: &mut Reconcile<'_, '_>, o: &Object, f: &str) {
        let mut next = o.clone();
        let rest: Vec<String> = o.finalizers().iter().filter(|x| *x != f).cloned().collect();
        next.meta_mut().finalizers = (!rest.is_empty()).then_some(rest);
        Self::update(ctx, next);
    }

    /// `o` without its references to the owners in `uids`.
    fn without_owners(o: &Object, uids: &BTreeSet<&str>) -> Object {
        let mut next = o.clone();
        let rest: Vec<OwnerReference> = o
            .owner_references()
            .iter()
            .filter(|r| !uids.contains(r.uid.as_str()))
            .cloned()
            .collect();
        next.meta_mut().owner_references = (!rest.is_empty()).then_some(rest);
        next
    }

    /// `attemptToDeleteItem`.
    fn attempt_to_delete(&mut self, ctx: &mut Reconcile<'_, '_>, uid: &str) -> Requeue {
        let Some(node) = self.node(uid).cloned() else {
            return Requeue::Done;
        };
        // "Being deleted" is a one-way trip: wait for the final deletion.
        if node.being_deleted && !node.deleting_dependents {
            return Requeue::Done;
        }
        if node.virtual_ {
            return self.verify_virtual(ctx, &node);
        }
        let Some(latest) = Self::cached(ctx.caches, &node.identity).cloned() else {
            // Gone from the cache: its informer reports the deletion.
            return Requeue::Done;
        };
        if node.deleting_dependents {
            return self.process_deleting_dependents(ctx, &node, &latest);
        }
        let refs = latest.owner_references().to_vec();
        if refs.is_empty() {
            return Requeue::Done;
        }
        // `classifyReferences`.
        let (mut solid, mut dangling, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
        let mut pending = false;
        for r in &refs {
            match self.owner_state(ctx, r, latest.namespace()) {
                OwnerState::Pending => pending = true,
                OwnerState::Dangling => dangling.push(r),
                OwnerState::Waiting => waiting.push(r),
                OwnerState::Solid => solid.push(r),
            }
        }
        if pending {
            return Requeue::RateLimited;
        }
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Requeue::Done;
            }
            // Remove the references to owners that are gone or going.
            let uids: BTreeSet<&str> = dangling
                .iter()
                .chain(waiting.iter())
                .map(|r| r.uid.as_str())
                .collect();
            Self::update(ctx, Self::without_owners(&latest, &uids));
            return Requeue::Done;
        }
        let policy = if !waiting.is_empty() && !self.dependents(uid).is_empty() {
            // An owner waits for this object, which has dependents of its
            // own: delete it in the foreground too.
            Propagation::Foreground
        } else if has_finalizer(&latest, FINALIZER_ORPHAN) {
            Propagation::Orphan
        } else if has_finalizer(&latest, FINALIZER_FOREGROUND) {
            Propagation::Foreground
        } else {
            Propagation::Background
        };
        Self::delete(ctx, &node.identity, policy);
        Requeue::Done
    }

    /// A virtual node: an owner only named by references. If the API server
    /// says it is gone, the collector acts as if it saw it deleted
    /// (`enqueueVirtualDeleteEvent`): its dependents are attempted.
    fn verify_virtual(&mut self, ctx: &mut Reconcile<'_, '_>, node: &Node) -> Requeue {
        if Self::cached(ctx.caches, &node.identity).is_some() {
            // Its informer will report it.
            return Requeue::Done;
        }
        match self.lookups.get(&node.identity.uid).cloned() {
            None => {
                self.look_up(ctx, &node.identity);
                if matches!(self.lookups.get(&node.identity.uid), Some(Lookup::Pending)) {
                    return Requeue::RateLimited;
                }
                self.verify_virtual(ctx, node)
            }
            Some(Lookup::Pending) => Requeue::RateLimited,
            Some(Lookup::Present(_)) => {
                // It exists; its informer (if the collector watches its
                // kind) will report it.
                self.lookups.remove(&node.identity.uid);
                Requeue::Done
            }
            Some(Lookup::Absent) => {
                let uid = node.identity.uid.clone();
                let dependents = self.remove(&uid);
                self.mark_absent(&uid);
                for d in dependents {
                    if let Some(d) = d.strip_prefix("delete/") {
                        let d = d.to_string();
                        self.attempt_to_delete(ctx, &d);
                    }
                }
                Requeue::Done
            }
        }
    }

    /// `isDangling` and the waiting check of `classifyReferences`.
    fn owner_state(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        r: &OwnerReference,
        namespace: Option<&str>,
    ) -> OwnerState {
        if self.is_absent(&r.uid) {
            return OwnerState::Dangling;
        }
        let identity = Identity::of_owner(r, namespace);
        let owner = match Self::cached(ctx.caches, &identity) {
            Some(o) => o.clone(),
            None => match self.lookups.get(&r.uid).cloned() {
                Some(Lookup::Present(o)) if o.uid() == Some(r.uid.as_str()) => {
                    self.lookups.remove(&r.uid);
                    o
                }
                Some(Lookup::Present(_)) | Some(Lookup::Absent) => {
                    self.mark_absent(&r.uid);
                    return OwnerState::Dangling;
                }
                Some(Lookup::Pending) => return OwnerState::Pending,
                None => {
                    self.look_up(ctx, &identity);
                    return match self.lookups.get(&r.uid) {
                        Some(Lookup::Absent) => {
                            self.mark_absent(&r.uid);
                            OwnerState::Dangling
                        }
                        _ => OwnerState::Pending,
                    };
                }
            },
        };
        if owner.deletion_timestamp().is_some() && has_finalizer(&owner, FINALIZER_FOREGROUND) {
            OwnerState::Waiting
        } else {
            OwnerState::Solid
        }
    }

    /// `processDeletingDependentsItem`: an owner deleted in the foreground
    /// goes once no dependent blocks it.
    fn process_deleting_dependents(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        node: &Node,
        latest: &Object,
    ) -> Requeue {
        let uid = node.identity.uid.clone();
        let blocking: Vec<String> = self
            .dependents(&uid)
            .into_iter()
            .filter(|d| {
                self.node(d)
                    .is_some_and(|n| n.owners.iter().any(|r| r.uid == uid && blocks(r)))
            })
            .collect();
        if blocking.is_empty() {
            if has_finalizer(latest, FINALIZER_FOREGROUND) {
                Self::remove_finalizer(ctx, latest, FINALIZER_FOREGROUND);
            }
            return Requeue::Done;
        }
        // Upstream enqueues the blocking dependents; here they are attempted
        // at once (a reconcile can only requeue its own key).
        for d in blocking {
            if self.node(&d).is_some_and(|n| !n.deleting_dependents) {
                self.attempt_to_delete(ctx, &d);
            }
        }
        Requeue::Done
    }

    /// `attemptToOrphanWorker`: remove the owner's reference from each
    /// dependent, then (once the cache shows none left) the finalizer.
    fn attempt_to_orphan(&mut self, ctx: &mut Reconcile<'_, '_>, uid: &str) -> Requeue {
        let Some(node) = self.node(uid).cloned() else {
            return Requeue::Done;
        };
        let Some(latest) = Self::cached(ctx.caches, &node.identity).cloned() else {
            return Requeue::Done;
        };
        if latest.deletion_timestamp().is_none() || !has_finalizer(&latest, FINALIZER_ORPHAN) {
            return Requeue::Done;
        }
        let owner: BTreeSet<&str> = [uid].into();
        let mut left = 0;
        for d in self.dependents(uid) {
            let Some(dep) = self.node(&d) else { continue };
            let Some(o) = Self::cached(ctx.caches, &dep.identity) else {
                continue;
            };
            if o.owner_references().iter().any(|r| r.uid == uid) {
                left += 1;
                Self::update(ctx, Self::without_owners(o, &owner));
            }
        }
        if left > 0 {
            // Look again once the updates are in the cache.
            return Requeue::RateLimited;
        }
        Self::remove_finalizer(ctx, &latest, FINALIZER_ORPHAN);
        Requeue::Done
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OwnerState {
    Solid,
    Dangling,
    Waiting,
    Pending,
}

impl Controller for GarbageCollector {
    fn name(&self) -> &'static str {
        "garbage-collector-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        GC_KINDS.to_vec()
    }

    fn keys_for(&mut self, _caches: Caches<'_>, _kind: KindId, n: &Notification) -> Vec<String> {
        let mut keys = match n {
            Notification::Add(o) => self.observe(None, o),
            Notification::Update { old, new } => self.observe(Some(old), new),
            Notification::Delete { object, .. } => match object.uid() {
                Some(uid) => {
                    let uid = uid.to_string();
                    self.remove(&uid)
                }
                None => Vec::new(),
            },
            Notification::Synced => Vec::new(),
        };
        keys.dedup();
        keys
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        if let Some(uid) = key.strip_prefix("delete/") {
            self.attempt_to_delete(ctx, uid)
        } else if let Some(uid) = key.strip_prefix("orphan/") {
            self.attempt_to_orphan(ctx, uid)
        } else {
            Requeue::Done
        }
    }

    fn on_reply(
        &mut self,
        _key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<super::ReplyEvent> {
        if request.verb != Verb::Get {
            return Vec::new();
        }
        // Which lookups this answers: the pending ones for these coordinates.
        let name = request.name.as_deref().unwrap_or_default();
        let pending: Vec<String> = self
            .lookups
            .iter()
            .filter(|(_, l)| matches!(l, Lookup::Pending))
            .map(|(u, _)| u.clone())
            .filter(|u| {
                self.node(u).is_some_and(|n| {
                    n.identity.kind_id() == Some(request.kind)
                        && n.identity.name == name
                        && n.identity.namespace.as_deref().filter(|ns| !ns.is_empty())
                            == request
                                .namespace
                                .as_deref()
                                .filter(|_| request.kind.info().namespaced)
                })
            })
            .collect();
        for uid in pending {
            let found = match response {
                ApiResponse::Object(o) if o.name() == name => Some(o.clone()),
                ApiResponse::Error(e) if e.code() == 404 => None,
                // Another failure: ask again next time.
                _ => {
                    self.lookups.remove(&uid);
                    continue;
                }
            };
            let result = match found {
                Some(o) if o.uid() == Some(uid.as_str()) => Lookup::Present(o),
                _ => Lookup::Absent,
            };
            self.lookups.insert(uid, result);
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::informer::Store;
    use crate::controllers::testing::object;
    use crate::world::{SimRng, SimTime};

    const NOW: SimTime = SimTime(100_000);

    fn deployment(extra: &str) -> Object {
        object(&format!(
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  uid: d-1
{extra}spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers: [{{name: c, image: nginx}}]
"
        ))
    }

    fn owned(
        kind: &str,
        api_version: &str,
        name: &str,
        uid: &str,
        owner: (&str, &str, &str),
    ) -> Object {
        let body = if kind == "Pod" {
            "spec:\n  containers: [{name: c, image: nginx}]\n"
        } else {
            "spec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: c, image: nginx}]\n"
        };
        object(&format!(
            "apiVersion: {api_version}
kind: {kind}
metadata:
  name: {name}
  namespace: default
  uid: {uid}
  ownerReferences:
  - apiVersion: apps/v1
    kind: {}
    name: {}
    uid: {}
    controller: true
    blockOwnerDeletion: true
{body}",
            owner.0, owner.1, owner.2
        ))
    }

    fn replica_set() -> Object {
        owned(
            "ReplicaSet",
            "apps/v1",
            "web-1",
            "rs-1",
            ("Deployment", "web", "d-1"),
        )
    }

    fn pod(n: u32) -> Object {
        owned(
            "Pod",
            "v1",
            &format!("web-1-{n}"),
            &format!("pod-{n}"),
            ("ReplicaSet", "web-1", "rs-1"),
        )
    }

    /// The collector after observing `objects`, and the keys it enqueued.
    fn observed(objects: &[Object]) -> (GarbageCollector, Vec<String>) {
        let mut gc = GarbageCollector::default();
        let mut keys = Vec::new();
        let kinds = gc.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|_| Store::from_objects(Vec::new()))
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let caches = Caches::for_test(&kinds, &refs);
        for o in objects {
            keys.extend(gc.keys_for(caches, o.kind_id(), &Notification::Add(Rc::new(o.clone()))));
        }
        (gc, keys)
    }

    /// One reconcile of `key` over caches holding `objects`.
    fn run(gc: &mut GarbageCollector, objects: &[Object], key: &str) -> (Vec<ApiRequest>, Requeue) {
        let kinds = gc.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|k| {
                Store::from_objects(
                    objects
                        .iter()
                        .filter(|o| o.kind_id() == *k)
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let mut rng = SimRng::new(1);
        let mut r = Reconcile::for_test(NOW, &mut rng, Caches::for_test(&kinds, &refs));
        let requeue = gc.reconcile(&mut r, key);
        (r.writes().to_vec(), requeue)
    }

    fn summary(writes: &[ApiRequest]) -> Vec<String> {
        writes
            .iter()
            .map(|w| {
                let extra = match (w.verb, &w.body) {
                    (Verb::Delete, _) => format!(" {:?}", w.options.propagation),
                    (Verb::Update, Some(b)) => format!(
                        " owners={:?} finalizers={:?}",
                        b.owner_references()
                            .iter()
                            .map(|r| r.name.clone())
                            .collect::<Vec<_>>(),
                        b.finalizers()
                    ),
                    _ => String::new(),
                };
                format!(
                    "{} {} {}{extra}",
                    w.verb.as_str(),
                    w.kind.info().plural,
                    w.name.clone().unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn the_graph_links_owners_to_dependents_by_uid() {
        let (gc, keys) = observed(&[deployment(""), replica_set(), pod(1), pod(2)]);
        assert!(keys.is_empty(), "{keys:?}");
        assert_eq!(gc.graph_len(), 4);
        let deps: Vec<String> = gc
            .dependents_of("rs-1")
            .into_iter()
            .map(|i| i.name)
            .collect();
        assert_eq!(deps, ["web-1-1", "web-1-2"]);
        let owners: Vec<String> = gc.owners_of("rs-1").into_iter().map(|i| i.name).collect();
        assert_eq!(owners, ["web"]);
    }

    #[test]
    fn an_owner_known_only_from_a_reference_is_verified_with_the_api_server() {
        let (mut gc, keys) = observed(&[pod(1)]);
        assert_eq!(keys, ["delete/rs-1"], "the virtual owner is checked");
        let (writes, requeue) = run(&mut gc, &[pod(1)], "delete/rs-1");
        assert_eq!(summary(&writes), ["get replicasets web-1"]);
        assert_eq!(requeue, Requeue::RateLimited);
        // The API server says it does not exist: its dependent goes.
        let request = writes[0].clone();
        let info = KindId::ReplicaSet.info();
        gc.on_reply(
            "delete/rs-1",
            &request,
            &ApiResponse::Error(crate::api::ApiError::not_found(info, "web-1")),
        );
        let (writes, requeue) = run(&mut gc, &[pod(1)], "delete/rs-1");
        assert_eq!(summary(&writes), ["delete pods web-1-1 Some(Background)"]);
        assert_eq!(requeue, Requeue::Done);
    }

    #[test]
    fn the_dependents_of_a_deleted_owner_are_deleted_in_the_background() {
        let all = [deployment(""), replica_set(), pod(1)];
        let (mut gc, _) = observed(&all);
        let kinds = gc.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|_| Store::from_objects(Vec::new()))
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let keys = gc.keys_for(
            Caches::for_test(&kinds, &refs),
            KindId::Deployment,
            &Notification::Delete {
                object: Rc::new(deployment("")),
                final_state_unknown: false,
            },
        );
        assert_eq!(keys, ["delete/rs-1"]);
        let (writes, _) = run(&mut gc, &[replica_set(), pod(1)], "delete/rs-1");
        assert_eq!(
            summary(&writes),
            ["delete replicasets web-1 Some(Background)"]
        );
        // A pod whose owner is alive stays.
        let (writes, _) = run(&mut gc, &[replica_set(), pod(1)], "delete/pod-1");
        assert!(writes.is_empty());
    }

    #[test]
    fn a_foreground_deletion_deletes_blocking_dependents_before_removing_the_finalizer() {
        let deleting = deployment(
            "  deletionTimestamp: \"2026-01-01T00:01:00Z\"\n  finalizers: [foregroundDeletion]\n",
        );
        let (mut gc, _) = observed(&[deployment(""), replica_set(), pod(1)]);
        let kinds = gc.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|_| Store::from_objects(Vec::new()))
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let keys = gc.keys_for(
            Caches::for_test(&kinds, &refs),
            KindId::Deployment,
            &Notification::Update {
                old: Rc::new(deployment("")),
                new: Rc::new(deleting.clone()),
            },
        );
        assert_eq!(keys, ["delete/rs-1", "delete/d-1"]);
        let objects = [deleting.clone(), replica_set(), pod(1)];
        // The ReplicaSet has pods of its own: it goes in the foreground too.
        let (writes, _) = run(&mut gc, &objects, "delete/rs-1");
        assert_eq!(
            summary(&writes),
            ["delete replicasets web-1 Some(Foreground)"]
        );
        // The Deployment waits while the ReplicaSet blocks it.
        let (writes, _) = run(&mut gc, &objects, "delete/d-1");
        assert!(
            !summary(&writes).iter().any(|w| w.starts_with("update")),
            "{writes:?}"
        );
        // Once the ReplicaSet is gone, the finalizer goes.
        let keys = gc.keys_for(
            Caches::for_test(&kinds, &refs),
            KindId::ReplicaSet,
            &Notification::Delete {
                object: Rc::new(replica_set()),
                final_state_unknown: false,
            },
        );
        assert!(keys.contains(&"delete/d-1".to_string()), "{keys:?}");
        let (writes, _) = run(&mut gc, &[deleting], "delete/d-1");
        assert_eq!(
            summary(&writes),
            ["update deployments web owners=[] finalizers=[]"]
        );
    }

    #[test]
    fn an_orphaning_deletion_removes_the_owner_reference_and_then_the_finalizer() {
        let deleting =
            deployment("  deletionTimestamp: \"2026-01-01T00:01:00Z\"\n  finalizers: [orphan]\n");
        let (mut gc, _) = observed(&[replica_set()]);
        let kinds = gc.kinds();
        let stores: Vec<Store> = kinds
            .iter()
            .map(|_| Store::from_objects(Vec::new()))
            .collect();
        let refs: Vec<Option<&Store>> = stores.iter().map(Some).collect();
        let keys = gc.keys_for(
            Caches::for_test(&kinds, &refs),
            KindId::Deployment,
            &Notification::Add(Rc::new(deleting.clone())),
        );
        assert_eq!(keys, ["orphan/d-1"]);
        let (writes, requeue) = run(&mut gc, &[deleting.clone(), replica_set()], "orphan/d-1");
        assert_eq!(
            summary(&writes),
            ["update replicasets web-1 owners=[] finalizers=[]"]
        );
        assert_eq!(requeue, Requeue::RateLimited, "the finalizer waits");
        // The cache shows the ReplicaSet without its owner.
        let mut freed = replica_set();
        freed.meta_mut().owner_references = None;
        gc.keys_for(
            Caches::for_test(&kinds, &refs),
            KindId::ReplicaSet,
            &Notification::Update {
                old: Rc::new(replica_set()),
                new: Rc::new(freed.clone()),
            },
        );
        let (writes, requeue) = run(&mut gc, &[deleting, freed], "orphan/d-1");
        assert_eq!(
            summary(&writes),
            ["update deployments web owners=[] finalizers=[]"]
        );
        assert_eq!(requeue, Requeue::Done);
    }
}
