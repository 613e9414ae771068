//! The scheduler cache: nodes with the pods bound or assumed on them.
//!
//! Ported from `pkg/scheduler/backend/cache/cache.go` (`AssumePod`,
//! `ForgetPod`, `AddPod`, `AddNode`, image states) and
//! `pkg/scheduler/framework/types.go` (`NodeInfo`). Upstream snapshots the
//! cache before each cycle because informers update it concurrently; here
//! the scheduler is one state machine and the cycle reads the cache itself.
//! Node order is the order nodes were added (upstream interleaves zones in
//! its `nodeTree`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use k8s_openapi::api::core::v1::Taint;

use super::podinfo::{PodInfo, Resources};
use crate::api::Object;

/// What does not change between a node's updates, shared so that cloning a
/// `NodeInfo` (preemption's dry runs) is cheap. The fields every cycle
/// reads of every node it visits come first, beside the reference count
/// (which decision records touch): one or two cache lines per node.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct NodeStatic {
    pub name: Rc<str>,
    pub taints: Vec<Taint>,
    pub allocatable: Resources,
    pub unschedulable: bool,
    pub labels: BTreeMap<String, String>,
    /// Normalized image name -> size in bytes (`node.status.images`).
    pub images: BTreeMap<String, i64>,
    pub node: Rc<Object>,
}

/// One node and its pods, with integer totals (`framework.NodeInfo`).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// Index in the cache's node slots (stable while the node exists).
    pub slot: usize,
    pub st: Rc<NodeStatic>,
    /// `None` once the node was deleted while pods remained on it.
    pub live: bool,
    pub requested: Resources,
    pub non_zero_cpu: i64,
    pub non_zero_memory: i64,
    pub pods: Vec<Rc<PodInfo>>,
    /// Pods with any (anti-)affinity term, and with required anti-affinity.
    pub pods_with_affinity: u32,
    pub pods_with_required_anti_affinity: u32,
}

impl NodeInfo {
    pub fn name(&self) -> &str {
        &self.st.name
    }

    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.st.labels
    }

    pub fn add_pod(&mut self, p: Rc<PodInfo>) {
        self.requested.add(&p.requests);
        self.non_zero_cpu = self.non_zero_cpu.saturating_add(p.non_zero_cpu);
        self.non_zero_memory = self.non_zero_memory.saturating_add(p.non_zero_memory);
        if p.has_affinity() {
            self.pods_with_affinity += 1;
        }
        if !p.required_anti_affinity().is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        self.pods.push(p);
    }

    pub fn remove_pod(&mut self, key: &str) -> Option<Rc<PodInfo>> {
        let i = self.pods.iter().position(|p| &*p.key == key)?;
        let p = self.pods.swap_remove(i);
        self.requested.sub(&p.requests);
        self.non_zero_cpu = self.non_zero_cpu.saturating_sub(p.non_zero_cpu);
        self.non_zero_memory = self.non_zero_memory.saturating_sub(p.non_zero_memory);
        if p.has_affinity() {
            self.pods_with_affinity = self.pods_with_affinity.saturating_sub(1);
        }
        if !p.required_anti_affinity().is_empty() {
            self.pods_with_required_anti_affinity =
                self.pods_with_required_anti_affinity.saturating_sub(1);
        }
        Some(p)
    }
}

/// The values of one node label key (a topology key), interned, by node
/// slot: PodTopologySpread reads a node's domain by index instead of
/// looking its labels up for every node in every cycle. The cache builds
/// one the first time a key is asked for and updates it as nodes change
/// (as upstream's snapshot is updated incrementally).
#[derive(Clone, Debug, Default)]
pub struct TopologyIndex {
    values: Vec<String>,
    ids: BTreeMap<String, usize>,
    /// Value id by node slot; `NONE` when the node lacks the label.
    of_slot: Vec<usize>,
}

impl TopologyIndex {
    const NONE: usize = usize::MAX;

    /// The id of the node's value, `None` if the node lacks the label.
    pub fn of(&self, slot: usize) -> Option<usize> {
        self.of_slot
            .get(slot)
            .copied()
            .filter(|&id| id != Self::NONE)
    }

    /// The id of `value`, if some node has (or had) it.
    pub fn id_of(&self, value: &str) -> Option<usize> {
        self.ids.get(value).copied()
    }

    /// How many values were ever seen: ids are `0..num_values()`.
    pub fn num_values(&self) -> usize {
        self.values.len()
    }

    /// The value with this id.
    pub fn value(&self, id: usize) -> Option<&str> {
        self.values.get(id).map(String::as_str)
    }

    fn set(&mut self, slot: usize, value: Option<&String>) {
        if self.of_slot.len() <= slot {
            self.of_slot.resize(slot + 1, Self::NONE);
        }
        self.of_slot[slot] = match value {
            None => Self::NONE,
            Some(v) => match self.ids.get(v) {
                Some(&id) => id,
                None => {
                    let id = self.values.len();
                    self.values.push(v.clone());
                    self.ids.insert(v.clone(), id);
                    id
                }
            },
        };
    }
}

/// Where a cached pod is.
#[derive(Clone, Debug)]
pub struct CachedPod {
    pub slot: usize,
    pub info: Rc<PodInfo>,
    /// Assumed by this scheduler, not yet seen bound by the informer.
    pub assumed: bool,
    /// The binding request finished (upstream `FinishBinding`).
    pub binding_finished: bool,
}

/// Nodes and the pods on them.
#[derive(Clone, Debug, Default)]
pub struct Cache {
    slots: Vec<NodeInfo>,
    by_name: BTreeMap<String, usize>,
    /// Live node slots in listing order.
    order: Vec<usize>,
    /// By `namespace/name`, the key shared with the pod's `PodInfo`.
    pods: BTreeMap<Rc<str>, CachedPod>,
    /// Normalized image name -> how many live nodes have it.
    image_nodes: BTreeMap<String, usize>,
    /// Controller uid -> node slot -> pods of that controller there (for
    /// default topology spreading).
    by_controller: BTreeMap<String, BTreeMap<usize, u32>>,
    /// Node slots with pods that have (anti-)affinity terms.
    pub nodes_with_affinity: BTreeSet<usize>,
    pub nodes_with_required_anti_affinity: BTreeSet<usize>,
    /// Topology key -> its values by node slot, built on first use.
    topology: RefCell<BTreeMap<String, Rc<TopologyIndex>>>,
}

impl Cache {
    /// The number of live nodes.
    pub fn num_nodes(&self) -> usize {
        self.order.len()
    }

    /// Live nodes in listing order.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> + '_ {
        self.order.iter().map(|&s| &self.slots[s])
    }

    /// The `i`-th live node in listing order.
    pub fn nth(&self, i: usize) -> Option<&NodeInfo> {
        self.order.get(i).map(|&s| &self.slots[s])
    }

    pub fn slot(&self, slot: usize) -> Option<&NodeInfo> {
        self.slots.get(slot)
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.by_name
            .get(name)
            .map(|&s| &self.slots[s])
            .filter(|n| n.live)
    }

    pub fn pod(&self, key: &str) -> Option<&CachedPod> {
        self.pods.get(key)
    }

    pub fn num_pods(&self) -> usize {
        self.pods.len()
    }

    /// How many live nodes carry this (normalized) image.
    pub fn image_node_count(&self, image: &str) -> usize {
        self.image_nodes.get(image).copied().unwrap_or(0)
    }

    /// Pods of controller `uid` per node slot.
    pub fn controller_pods(&self, uid: &str) -> Option<&BTreeMap<usize, u32>> {
        self.by_controller.get(uid)
    }

    /// The nodes' values of label `key`, by slot.
    pub fn topology_index(&self, key: &str) -> Rc<TopologyIndex> {
        if let Some(ix) = self.topology.borrow().get(key) {
            return ix.clone();
        }
        let mut ix = TopologyIndex::default();
        for n in &self.slots {
            ix.set(n.slot, n.st.labels.get(key));
        }
        let ix = Rc::new(ix);
        self.topology
            .borrow_mut()
            .insert(key.to_string(), ix.clone());
        ix
    }

    /// Keeps the topology indexes in step with a node's labels.
    fn index_labels(&mut self, slot: usize) {
        let labels = &self.slots[slot].st.labels;
        for (key, ix) in self.topology.get_mut().iter_mut() {
            Rc::make_mut(ix).set(slot, labels.get(key));
        }
    }

    /// Adds or replaces a node. `Err` if the object is not a Node.
    pub fn set_node(&mut self, obj: Rc<Object>) -> Result<(), String> {
        let Object::Node(node) = &*obj else {
            return Err("not a Node".to_string());
        };
        let name = node.metadata.name.clone().unwrap_or_default();
        let spec = node.spec.as_ref();
        let status = node.status.as_ref();
        // SetDefaults_NodeStatus: allocatable defaults to capacity.
        let list = status
            .and_then(|s| s.allocatable.as_ref().filter(|a| !a.is_empty()))
            .or_else(|| status.and_then(|s| s.capacity.as_ref()));
        // A malformed quantity on a node counts as nothing of that resource.
        let allocatable = Resources::from_list(list).unwrap_or_else(|_| {
            let mut r = Resources::default();
            for (k, v) in list.into_iter().flatten() {
                let one: BTreeMap<_, _> = [(k.clone(), v.clone())].into_iter().collect();
                if let Ok(x) = Resources::from_list(Some(&one)) {
                    r.add(&x);
                    r.allowed_pods += x.allowed_pods;
                }
            }
            r
        });
        let mut images = BTreeMap::new();
        for img in status.and_then(|s| s.images.as_ref()).into_iter().flatten() {
            for n in img.names.iter().flatten() {
                images.insert(
                    super::podinfo::normalized_image_name(n),
                    img.size_bytes.unwrap_or(0),
                );
            }
        }
        let st = Rc::new(NodeStatic {
            name: Rc::from(name.as_str()),
            labels: node.metadata.labels.clone().unwrap_or_default(),
            taints: spec.and_then(|s| s.taints.clone()).unwrap_or_default(),
            unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
            allocatable,
            images,
            node: obj.clone(),
        });
        match self.by_name.get(&name) {
            Some(&slot) => {
                let n = &mut self.slots[slot];
                let was_live = n.live;
                let old = std::mem::replace(&mut n.st, st);
                n.live = true;
                if was_live {
                    self.forget_images(&old.images);
                } else {
                    self.order.push(slot);
                }
                let new_images: Vec<String> = self.slots[slot].st.images.keys().cloned().collect();
                for i in new_images {
                    *self.image_nodes.entry(i).or_default() += 1;
                }
                self.index_labels(slot);
            }
            None => {
                let slot = self.slots.len();
                for i in st.images.keys() {
                    *self.image_nodes.entry(i.clone()).or_default() += 1;
                }
                self.slots.push(NodeInfo {
                    slot,
                    st,
                    live: true,
                    requested: Resources::default(),
                    non_zero_cpu: 0,
                    non_zero_memory: 0,
                    pods: Vec::new(),
                    pods_with_affinity: 0,
                    pods_with_required_anti_affinity: 0,
                });
                self.by_name.insert(name, slot);
                self.order.push(slot);
                self.index_labels(slot);
            }
        }
        Ok(())
    }

    fn forget_images(&mut self, images: &BTreeMap<String, i64>) {
        for i in images.keys() {
            if let Some(c) = self.image_nodes.get_mut(i) {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    self.image_nodes.remove(i);
                }
            }
        }
    }

    /// Removes a node. Its pods stay accounted (upstream keeps a NodeInfo
    /// without a node until they are deleted) but it is listed no more.
    pub fn remove_node(&mut self, name: &str) {
        let Some(&slot) = self.by_name.get(name) else {
            return;
        };
        if !self.slots[slot].live {
            return;
        }
        self.slots[slot].live = false;
        self.order.retain(|&s| s != slot);
        let images = self.slots[slot].st.images.clone();
        self.forget_images(&images);
    }

    fn ensure_slot(&mut self, node: &str) -> usize {
        if let Some(&s) = self.by_name.get(node) {
            return s;
        }
        // A pod bound to a node not (yet) seen: a placeholder, unlisted.
        let slot = self.slots.len();
        self.slots.push(NodeInfo {
            slot,
            st: Rc::new(NodeStatic {
                name: Rc::from(node),
                node: Rc::new(Object::Node(Default::default())),
                labels: BTreeMap::new(),
                taints: Vec::new(),
                unschedulable: false,
                allocatable: Resources::default(),
                images: BTreeMap::new(),
            }),
            live: false,
            requested: Resources::default(),
            non_zero_cpu: 0,
            non_zero_memory: 0,
            pods: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
        });
        self.by_name.insert(node.to_string(), slot);
        slot
    }

    fn place(&mut self, info: Rc<PodInfo>, node: &str, assumed: bool) {
        let slot = self.ensure_slot(node);
        if let Some(uid) = info.controller_uid() {
            let per_node = match self.by_controller.get_mut(uid) {
                Some(m) => m,
                None => self.by_controller.entry(uid.to_string()).or_default(),
            };
            *per_node.entry(slot).or_default() += 1;
        }
        let n = &mut self.slots[slot];
        n.add_pod(info.clone());
        if n.pods_with_affinity > 0 {
            self.nodes_with_affinity.insert(slot);
        }
        if n.pods_with_required_anti_affinity > 0 {
            self.nodes_with_required_anti_affinity.insert(slot);
        }
        self.pods.insert(
            info.key.clone(),
            CachedPod {
                slot,
                info,
                assumed,
                binding_finished: false,
            },
        );
    }

    /// Removes a pod from the cache; returns where it was.
    pub fn remove_pod(&mut self, key: &str) -> Option<CachedPod> {
        let cp = self.pods.remove(key)?;
        let slot = cp.slot;
        if let Some(uid) = cp.info.controller_uid() {
            if let Some(m) = self.by_controller.get_mut(uid) {
                if let Some(c) = m.get_mut(&slot) {
                    *c = c.saturating_sub(1);
                    if *c == 0 {
                        m.remove(&slot);
                    }
                }
                if m.is_empty() {
                    self.by_controller.remove(uid);
                }
            }
        }
        let n = &mut self.slots[slot];
        n.remove_pod(key);
        if n.pods_with_affinity == 0 {
            self.nodes_with_affinity.remove(&slot);
        }
        if n.pods_with_required_anti_affinity == 0 {
            self.nodes_with_required_anti_affinity.remove(&slot);
        }
        Some(cp)
    }

    /// `AssumePod`: count the pod on `node` before the binding is confirmed.
    pub fn assume(&mut self, info: Rc<PodInfo>, node: &str) {
        self.remove_pod(&info.key);
        self.place(info, node, true);
    }

    /// `FinishBinding`: the binding request succeeded.
    pub fn finish_binding(&mut self, key: &str) {
        if let Some(p) = self.pods.get_mut(key) {
            p.binding_finished = true;
        }
    }

    /// `ForgetPod`: the binding failed; the pod no longer counts.
    pub fn forget(&mut self, key: &str) {
        if self.pods.get(key).is_some_and(|p| p.assumed) {
            self.remove_pod(key);
        }
    }

    /// A pod seen bound to `node` by the informer (add or update). Replaces
    /// an assumed copy (confirming it) or the previous version.
    pub fn set_bound_pod(&mut self, info: Rc<PodInfo>, node: &str) {
        self.remove_pod(&info.key);
        self.place(info, node, false);
    }
}
