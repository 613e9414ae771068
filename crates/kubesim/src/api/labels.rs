//! Labels held compactly: a sorted vector of (key, value) pairs.
//!
//! In Kubernetes, `ObjectMeta.Labels` is a Go `map[string]string`, a small
//! hash table. `k8s-openapi` holds it as a `BTreeMap<String, String>`,
//! whose first node has room for eleven pairs: 536 bytes (a 560-byte
//! malloc chunk) for the one to three labels a pod carries. [`Labels`]
//! keeps the pairs sorted by key in a vector sized to them instead (64
//! bytes for one label), with the part of `BTreeMap`'s API callers use,
//! and serializes as the same JSON object in the same key order.
//!
//! [`LabelsRef`] reads either: the labels of a Pod (a [`Labels`]) or of
//! any other kind (`k8s-openapi`'s `BTreeMap`), as `Object::labels` returns
//! them and as label selectors match them.

use super::shared::{hasher, intern_table, Intern, Shared};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// A label map: keys sorted, each once. The pairs are [`Shared`]: the
/// pods of one template hold one copy of their labels.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Shared<Vec<(String, String)>>);

impl Intern for Vec<(String, String)> {
    fn fingerprint(&self) -> u64 {
        let mut h = hasher();
        self.hash(&mut h);
        h.finish()
    }
    intern_table!(Vec<(String, String)>);
}

impl Default for Labels {
    fn default() -> Self {
        Labels::new()
    }
}

impl Labels {
    pub fn new() -> Labels {
        Labels(Shared::new(Vec::new()))
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut String> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut String) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    /// The pairs in key order.
    pub fn iter(&self) -> std::iter::Map<std::slice::Iter<'_, (String, String)>, PairRef> {
        self.0.iter().map(pair_ref)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy as `k8s-openapi` holds labels.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

type PairRef = for<'a> fn(&'a (String, String)) -> (&'a String, &'a String);

fn pair_ref(p: &(String, String)) -> (&String, &String) {
    (&p.0, &p.1)
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(m: BTreeMap<String, String>) -> Self {
        // In key order already, each key once; exactly as long as the map.
        Labels(Shared::new(m.into_iter().collect()))
    }
}

impl From<Labels> for BTreeMap<String, String> {
    fn from(l: Labels) -> Self {
        l.0.into_iter().collect()
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(a: [(String, String); N]) -> Self {
        a.into_iter().collect()
    }
}

impl FromIterator<(String, String)> for Labels {
    /// As `BTreeMap`'s: a later pair replaces an earlier one's value.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(it: I) -> Self {
        Labels::from(it.into_iter().collect::<BTreeMap<_, _>>())
    }
}

impl Extend<(String, String)> for Labels {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, it: I) {
        for (k, v) in it {
            self.insert(k, v);
        }
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, String)>, PairRef>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Labels {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl PartialEq<BTreeMap<String, String>> for Labels {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(d).map(Labels::from)
    }
}

/// Labels to read: a Pod's [`Labels`] or another kind's `BTreeMap`.
#[derive(Clone, Copy, Debug)]
pub enum LabelsRef<'a> {
    Map(&'a BTreeMap<String, String>),
    List(&'a Labels),
}

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl<'a> LabelsRef<'a> {
    /// No labels.
    pub fn empty() -> LabelsRef<'static> {
        LabelsRef::Map(&NO_LABELS)
    }

    pub fn get(self, key: &str) -> Option<&'a String> {
        match self {
            LabelsRef::Map(m) => m.get(key),
            LabelsRef::List(l) => l.get(key),
        }
    }

    pub fn contains_key(self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The pairs in key order.
    pub fn iter(self) -> LabelsIter<'a> {
        match self {
            LabelsRef::Map(m) => LabelsIter::Map(m.iter()),
            LabelsRef::List(l) => LabelsIter::List(l.0.iter()),
        }
    }

    pub fn keys(self) -> impl Iterator<Item = &'a String> {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(self) -> impl Iterator<Item = &'a String> {
        self.iter().map(|(_, v)| v)
    }

    pub fn len(self) -> usize {
        match self {
            LabelsRef::Map(m) => m.len(),
            LabelsRef::List(l) => l.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// A copy as `k8s-openapi` holds labels.
    pub fn to_map(self) -> BTreeMap<String, String> {
        match self {
            LabelsRef::Map(m) => m.clone(),
            LabelsRef::List(l) => l.to_map(),
        }
    }

    /// A copy as a Pod holds labels.
    pub fn to_labels(self) -> Labels {
        match self {
            LabelsRef::Map(m) => Labels::from(m.clone()),
            LabelsRef::List(l) => l.clone(),
        }
    }
}

/// The pairs of a [`LabelsRef`], in key order.
pub enum LabelsIter<'a> {
    Map(std::collections::btree_map::Iter<'a, String, String>),
    List(std::slice::Iter<'a, (String, String)>),
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = (&'a String, &'a String);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            LabelsIter::Map(i) => i.next(),
            LabelsIter::List(i) => i.next().map(pair_ref),
        }
    }
}

impl<'a> IntoIterator for LabelsRef<'a> {
    type Item = (&'a String, &'a String);
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> From<&'a BTreeMap<String, String>> for LabelsRef<'a> {
    fn from(m: &'a BTreeMap<String, String>) -> Self {
        LabelsRef::Map(m)
    }
}

impl<'a> From<&'a Labels> for LabelsRef<'a> {
    fn from(l: &'a Labels) -> Self {
        LabelsRef::List(l)
    }
}

impl PartialEq for LabelsRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for LabelsRef<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn labels_keep_keys_sorted_and_write_the_same_json_as_a_btreemap() {
        let mut l = Labels::new();
        assert_eq!(l.insert(s("tier"), s("web")), None);
        assert_eq!(l.insert(s("app"), s("a")), None);
        assert_eq!(l.insert(s("app"), s("b")), Some(s("a")));
        l.insert(s("pod-template-hash"), s("7d9f"));
        assert_eq!(l.get("app"), Some(&s("b")));
        assert!(l.contains_key("tier") && !l.contains_key("zone"));
        let keys: Vec<&String> = l.keys().collect();
        assert_eq!(keys, ["app", "pod-template-hash", "tier"]);
        let map = l.to_map();
        assert_eq!(l, map);
        assert_eq!(
            serde_json::to_string(&l).ok(),
            serde_json::to_string(&map).ok()
        );
        let back: Option<Labels> =
            serde_json::from_str(r#"{"tier":"web","app":"b","pod-template-hash":"7d9f"}"#).ok();
        assert_eq!(back.as_ref(), Some(&l));
        assert_eq!(l.remove("pod-template-hash"), Some(s("7d9f")));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn a_label_view_reads_a_map_and_a_list_alike() {
        let map: BTreeMap<String, String> = [(s("b"), s("2")), (s("a"), s("1"))].into();
        let list = Labels::from(map.clone());
        let (m, l) = (LabelsRef::from(&map), LabelsRef::from(&list));
        assert_eq!(m, l);
        assert_eq!(l.get("a"), Some(&s("1")));
        assert!(l.contains_key("b") && !m.contains_key("c"));
        assert_eq!(l.iter().collect::<Vec<_>>(), m.iter().collect::<Vec<_>>());
        assert_eq!(l.to_map(), map);
        assert!(LabelsRef::empty().is_empty() && LabelsRef::empty() != m);
    }

    #[test]
    fn one_label_takes_a_small_allocation_rather_than_a_btree_node() {
        let list: Labels = [(s("app"), s("web"))].into();
        // One (String, String) pair: 48 bytes, against a 536-byte node.
        assert_eq!(
            list.0.capacity() * std::mem::size_of::<(String, String)>(),
            48
        );
    }
}
