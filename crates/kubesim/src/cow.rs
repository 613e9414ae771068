//! Copy-on-write values: what makes a copy of the whole cluster (a scrub
//! checkpoint, [`crate::Cluster::try_clone`]) cheap.
//!
//! A [`CowRc`] holds its value behind an `Rc`. Cloning one only counts a
//! holder more; reading it is reading the value (`Deref`); writing through
//! it (`DerefMut`) first copies the value if another holder shares it
//! (`Rc::make_mut`), so a change made in one copy of the cluster never
//! shows in another. A copy of a map of them copies the map's nodes and
//! counts each value once more, instead of copying every value (a pod
//! worker, a container and its pod spec); the value is copied later, only
//! if and when one side changes it.
//!
//! A [`CowMap`] does the same for a big map whose entries change one at a
//! time (a pod per entry): an ordered map kept as runs of at most
//! [`CHUNK`] entries, each run a copy-on-write `BTreeMap`. Copying the map
//! copies an index of its runs; a write copies the one run it falls in (if
//! shared), not the map.
//!
//! Unlike [`crate::api::shared::Shared`], nothing is looked up: equal
//! values built apart stay apart. The simulation leaves nothing out: a
//! `CowRc<T>` behaves as a `T` would and a `CowMap<K, V>` as a
//! `BTreeMap<K, V>`, in the same key order; only their copies are deferred.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;

/// A value whose copies share it until one of them writes (see the module
/// doc).
pub struct CowRc<T>(Rc<T>);

impl<T> CowRc<T> {
    pub fn new(value: T) -> CowRc<T> {
        CowRc(Rc::new(value))
    }

    /// Whether `a` and `b` share one value (neither wrote since one was
    /// copied from the other).
    pub fn ptr_eq(a: &CowRc<T>, b: &CowRc<T>) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: Clone> CowRc<T> {
    /// The value, copied when another holder shares it.
    pub fn into_inner(self) -> T {
        Rc::try_unwrap(self.0).unwrap_or_else(|rc| (*rc).clone())
    }
}

impl<T> From<T> for CowRc<T> {
    fn from(value: T) -> Self {
        CowRc::new(value)
    }
}

impl<T> std::ops::Deref for CowRc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> std::ops::DerefMut for CowRc<T> {
    /// Copies the value first when another holder shares it.
    fn deref_mut(&mut self) -> &mut T {
        Rc::make_mut(&mut self.0)
    }
}

impl<T> Clone for CowRc<T> {
    fn clone(&self) -> Self {
        CowRc(Rc::clone(&self.0))
    }
}

impl<T: Default> Default for CowRc<T> {
    fn default() -> Self {
        CowRc::new(T::default())
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for CowRc<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for CowRc<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl<T: Eq> Eq for CowRc<T> {}

/// The most entries a run of a [`CowMap`] holds before it splits in two.
pub const CHUNK: usize = 64;

/// An ordered map whose copies share its entries until one side writes
/// (see the module doc). Iteration is in key order, as a `BTreeMap`'s.
pub struct CowMap<K, V> {
    /// The runs, by their first key; none is empty.
    runs: BTreeMap<K, Rc<BTreeMap<K, V>>>,
    len: usize,
}

impl<K, V> Default for CowMap<K, V> {
    fn default() -> Self {
        CowMap {
            runs: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<K: Clone, V> Clone for CowMap<K, V> {
    fn clone(&self) -> Self {
        CowMap {
            runs: self.runs.clone(),
            len: self.len,
        }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for CowMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: PartialEq, V: PartialEq> PartialEq for CowMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq> Eq for CowMap<K, V> {}

impl<K, V> CowMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.runs.values().flat_map(|run| run.iter())
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + '_ {
        self.iter().map(|(_, v)| v)
    }

    pub fn clear(&mut self) {
        self.runs.clear();
        self.len = 0;
    }
}

impl<K: Clone, V: Clone> CowMap<K, V> {
    /// The values, in key order (each run copied only if shared).
    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.runs.into_values().flat_map(|run| {
            Rc::try_unwrap(run)
                .unwrap_or_else(|rc| (*rc).clone())
                .into_values()
        })
    }
}

impl<K: Ord + Clone, V: Clone> CowMap<K, V> {
    /// The first key of the run that holds (or would hold) `key`: the last
    /// run starting at or before it, or the first run.
    fn run_of<Q>(&self, key: &Q) -> Option<&K>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.runs
            .range::<Q, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .or_else(|| self.runs.iter().next())
            .map(|(k, _)| k)
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.runs
            .range::<Q, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .and_then(|(_, run)| run.get(key))
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.get(key).is_some()
    }

    /// The entry at `key` to write: its run is copied first if a copy of
    /// the map shares it.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let (_, run) = self
            .runs
            .range_mut::<Q, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()?;
        if !run.contains_key(key) {
            return None;
        }
        Rc::make_mut(run).get_mut(key)
    }

    /// Inserts or replaces; returns the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let Some(first) = self.run_of(&key).cloned() else {
            let mut run = BTreeMap::new();
            run.insert(key.clone(), value);
            self.runs.insert(key, Rc::new(run));
            self.len = 1;
            return None;
        };
        if key >= first {
            // The run keeps its first key: written in place unless it
            // must split.
            if let Some(run) = self.runs.get_mut(&first) {
                let old = Rc::make_mut(run).insert(key, value);
                if old.is_none() {
                    self.len += 1;
                    if run.len() > CHUNK {
                        if let Some(run) = self.runs.remove(&first) {
                            self.put_back(run);
                        }
                    }
                }
                return old;
            }
        }
        let mut run = self.runs.remove(&first)?;
        let old = Rc::make_mut(&mut run).insert(key, value);
        if old.is_none() {
            self.len += 1;
        }
        self.put_back(run);
        old
    }

    /// The entry at `key` to write, inserted as `V::default()` if missing
    /// (as `BTreeMap`'s `entry(key).or_default()`).
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        if !self.contains_key(&key) {
            self.insert(key.clone(), V::default());
        }
        // The run holding `key` (inserted above if it was missing); the
        // fallback, a run filed under `key` itself, only keeps this total.
        let first = self.run_of(&key).cloned().unwrap_or_else(|| key.clone());
        let run = self.runs.entry(first).or_default();
        Rc::make_mut(run).entry(key).or_default()
    }

    /// The entries whose keys lie within `lower` and `upper`, in key order
    /// (as `BTreeMap::range`; an inverted range gives nothing rather than
    /// a panic).
    pub fn range<'a, Q>(
        &'a self,
        lower: Bound<&'a Q>,
        upper: Bound<&'a Q>,
    ) -> impl Iterator<Item = (&'a K, &'a V)> + 'a
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let inverted = match (lower, upper) {
            (Bound::Included(a), Bound::Included(b)) => a > b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b))
            | (Bound::Excluded(a), Bound::Included(b)) => a >= b,
            _ => false,
        };
        let start = match lower {
            Bound::Included(k) | Bound::Excluded(k) => self
                .runs
                .range::<Q, _>((Bound::Unbounded, Bound::Included(k)))
                .next_back()
                .map(|(k, _)| k),
            Bound::Unbounded => None,
        };
        let runs = match (inverted, start) {
            (true, _) => self.runs.range::<K, _>(..).take(0),
            (false, Some(k)) => self
                .runs
                .range::<K, _>((Bound::Included(k), Bound::Unbounded))
                .take(usize::MAX),
            (false, None) => self.runs.range::<K, _>(..).take(usize::MAX),
        };
        runs.take_while(move |(first, _)| match upper {
            Bound::Included(u) => (*first).borrow() <= u,
            Bound::Excluded(u) => (*first).borrow() < u,
            Bound::Unbounded => true,
        })
        .flat_map(move |(_, run)| run.range::<Q, _>((lower, upper)))
    }

    /// The key and value at `key`.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.runs
            .range::<Q, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .and_then(|(_, run)| run.get_key_value(key))
    }

    /// Keeps the entries for which `keep` holds (as `BTreeMap::retain`):
    /// every run is written, so copied if shared.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let runs = std::mem::take(&mut self.runs);
        self.len = 0;
        for (_, mut run) in runs {
            Rc::make_mut(&mut run).retain(&mut keep);
            self.len += run.len();
            if let Some(first) = run.keys().next().cloned() {
                self.runs.insert(first, run);
            }
        }
    }

    /// Removes the entry at `key`; returns its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let first = self
            .runs
            .range::<Q, _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .filter(|(_, run)| run.contains_key(key))
            .map(|(k, _)| k.clone())?;
        let mut run = self.runs.remove::<K>(&first)?;
        let old = Rc::make_mut(&mut run).remove(key);
        if old.is_some() {
            self.len -= 1;
        }
        self.put_back(run);
        old
    }

    /// Files a run under its first key, split in two if it grew past
    /// [`CHUNK`]; an empty run is dropped.
    fn put_back(&mut self, mut run: Rc<BTreeMap<K, V>>) {
        if run.len() > CHUNK {
            let mid = run.keys().nth(run.len() / 2).cloned();
            if let Some(mid) = mid {
                let upper = Rc::make_mut(&mut run).split_off(&mid);
                self.runs.insert(mid, Rc::new(upper));
            }
        }
        if let Some(first) = run.keys().next().cloned() {
            self.runs.insert(first, run);
        }
    }

    /// Entries from `from` on (included), in key order.
    pub fn range_from<'a, Q>(&'a self, from: &'a Q) -> impl Iterator<Item = (&'a K, &'a V)> + 'a
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let start = self
            .runs
            .range::<Q, _>((Bound::Unbounded, Bound::Included(from)))
            .next_back()
            .map(|(k, _)| k);
        let runs = match start {
            Some(k) => self
                .runs
                .range::<K, _>((Bound::Included(k), Bound::Unbounded)),
            None => self.runs.range::<K, _>(..),
        };
        runs.flat_map(move |(_, run)| run.range::<Q, _>((Bound::Included(from), Bound::Unbounded)))
    }
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for CowMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = CowMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

/// The most items a run of a [`CowDeque`] holds.
pub const DEQUE_CHUNK: usize = 256;

/// A queue (pushed at the back, dropped from the front) whose copies share
/// its items until one side writes (see the module doc): runs of at most
/// [`DEQUE_CHUNK`] items, each copy-on-write. A push copies at most the
/// last run; dropping from the front copies at most the first.
pub struct CowDeque<T> {
    runs: std::collections::VecDeque<Rc<Vec<T>>>,
    len: usize,
}

impl<T> Default for CowDeque<T> {
    fn default() -> Self {
        CowDeque {
            runs: std::collections::VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> Clone for CowDeque<T> {
    fn clone(&self) -> Self {
        CowDeque {
            runs: self.runs.clone(),
            len: self.len,
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for CowDeque<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> CowDeque<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every item, front to back.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.runs.iter().flat_map(|run| run.iter())
    }

    /// The items from index `from` on.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &T> + '_ {
        let mut skip = from;
        let mut first_run = self.runs.len();
        for (i, run) in self.runs.iter().enumerate() {
            if skip < run.len() {
                first_run = i;
                break;
            }
            skip -= run.len();
        }
        self.runs
            .range(first_run..)
            .enumerate()
            .flat_map(move |(i, run)| run.iter().skip(if i == 0 { skip } else { 0 }))
    }

    /// The number of items, from the front, for which `pred` holds, given
    /// that it holds for a prefix of them (as `VecDeque::partition_point`).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let whole = self
            .runs
            .partition_point(|run| run.last().is_some_and(&mut pred));
        let before: usize = self.runs.range(..whole).map(|run| run.len()).sum();
        before
            + self
                .runs
                .get(whole)
                .map_or(0, |run| run.partition_point(&mut pred))
    }
}

impl<T: Clone> CowDeque<T> {
    pub fn push_back(&mut self, item: T) {
        self.len += 1;
        if let Some(last) = self.runs.back_mut().filter(|run| run.len() < DEQUE_CHUNK) {
            Rc::make_mut(last).push(item);
            return;
        }
        let mut run = Vec::with_capacity(DEQUE_CHUNK);
        run.push(item);
        self.runs.push_back(Rc::new(run));
    }

    /// Drops the first `n` items (all of them if fewer).
    pub fn drop_front(&mut self, mut n: usize) {
        while n > 0 {
            let Some(first) = self.runs.front_mut() else {
                break;
            };
            if first.len() <= n {
                n -= first.len();
                self.len -= first.len();
                self.runs.pop_front();
            } else {
                Rc::make_mut(first).drain(..n);
                self.len -= n;
                n = 0;
            }
        }
    }
}

impl<T: Clone> Extend<T> for CowDeque<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.push_back(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_copy_shares_the_value_until_one_side_writes() {
        let a = CowRc::new(vec![1, 2, 3]);
        let b = a.clone();
        assert!(CowRc::ptr_eq(&a, &b));
        assert_eq!(*b, vec![1, 2, 3]);
    }

    #[test]
    fn writing_to_a_copy_leaves_the_original_unchanged() {
        let original = CowRc::new(vec![1, 2, 3]);
        let mut copy = original.clone();
        copy.push(4);
        assert_eq!(*original, vec![1, 2, 3]);
        assert_eq!(*copy, vec![1, 2, 3, 4]);
        assert!(!CowRc::ptr_eq(&original, &copy));
    }

    #[test]
    fn writing_to_the_original_leaves_the_copy_unchanged() {
        let mut original = CowRc::new(String::from("running"));
        let copy = original.clone();
        original.push_str(" (restarted)");
        assert_eq!(*copy, "running");
        assert_eq!(*original, "running (restarted)");
    }

    #[test]
    fn a_value_held_once_is_written_in_place() {
        let mut only = CowRc::new(vec![1]);
        let before: *const Vec<i32> = &*only;
        only.push(2);
        let after: *const Vec<i32> = &*only;
        assert_eq!(before, after);
        assert_eq!(*only, vec![1, 2]);
    }

    #[test]
    fn a_copied_map_of_them_is_independent_both_ways() {
        let mut live: BTreeMap<&str, CowRc<Vec<u32>>> = BTreeMap::new();
        live.insert("a", CowRc::new(vec![1]));
        live.insert("b", CowRc::new(vec![2]));
        let checkpoint = live.clone();
        if let Some(a) = live.get_mut("a") {
            a.push(10);
        }
        live.remove("b");
        assert_eq!(checkpoint.get("a").map(|v| v.to_vec()), Some(vec![1]));
        assert_eq!(checkpoint.get("b").map(|v| v.to_vec()), Some(vec![2]));
        let mut restored = checkpoint.clone();
        if let Some(b) = restored.get_mut("b") {
            b.push(20);
        }
        assert_eq!(checkpoint.get("b").map(|v| v.to_vec()), Some(vec![2]));
        assert_eq!(restored.get("b").map(|v| v.to_vec()), Some(vec![2, 20]));
        assert_eq!(live.get("a").map(|v| v.to_vec()), Some(vec![1, 10]));
    }

    #[test]
    fn into_inner_copies_only_a_shared_value() {
        let a = CowRc::new(vec![7]);
        let b = a.clone();
        let mut taken = b.into_inner();
        taken.push(8);
        assert_eq!(*a, vec![7]);
        assert_eq!(taken, vec![7, 8]);
    }

    fn model_check(map: &CowMap<u32, u32>, model: &BTreeMap<u32, u32>) {
        assert_eq!(map.len(), model.len());
        assert!(map.iter().eq(model.iter()));
        for k in 0..400 {
            assert_eq!(map.get(&k), model.get(&k));
        }
        for from in [0, 1, 77, 150, 399, 500] {
            assert!(map.range_from(&from).eq(model.range(from..)));
        }
    }

    #[test]
    fn a_cow_map_behaves_as_a_btree_map_through_inserts_replaces_and_removes() {
        let mut map = CowMap::new();
        let mut model = BTreeMap::new();
        // A fixed pseudo-random walk over 400 keys (splits, empty runs,
        // new first keys).
        let mut x: u32 = 12345;
        for step in 0..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let k = (x >> 8) % 400;
            if (x >> 4).is_multiple_of(3) {
                assert_eq!(map.remove(&k), model.remove(&k));
            } else {
                assert_eq!(map.insert(k, step), model.insert(k, step));
            }
            if step % 500 == 0 {
                model_check(&map, &model);
            }
        }
        model_check(&map, &model);
        for k in 0..400 {
            if let Some(v) = map.get_mut(&k) {
                *v += 1;
            }
            if let Some(v) = model.get_mut(&k) {
                *v += 1;
            }
        }
        model_check(&map, &model);
    }

    #[test]
    fn writing_to_a_copied_cow_map_leaves_the_original_unchanged() {
        let original: CowMap<u32, u32> = (0..300).map(|k| (k, k)).collect();
        let mut copy = original.clone();
        copy.insert(1000, 1);
        copy.remove(&5);
        if let Some(v) = copy.get_mut(&200) {
            *v = 0;
        }
        copy.insert(0, 99);
        let expected: BTreeMap<u32, u32> = (0..300).map(|k| (k, k)).collect();
        model_check(&original, &expected);
        let mut changed = expected.clone();
        changed.insert(1000, 1);
        changed.remove(&5);
        changed.insert(200, 0);
        changed.insert(0, 99);
        model_check(&copy, &changed);
        assert_ne!(original, copy);
    }

    #[test]
    fn a_write_copies_only_the_run_it_falls_in() {
        let original: CowMap<u32, u32> = (0..1000).map(|k| (k, k)).collect();
        let mut copy = original.clone();
        if let Some(v) = copy.get_mut(&500) {
            *v = 0;
        }
        let shared = original
            .runs
            .values()
            .zip(copy.runs.values())
            .filter(|(a, b)| Rc::ptr_eq(a, b))
            .count();
        assert_eq!(shared, original.runs.len() - 1);
        assert!(original.runs.values().all(|run| run.len() <= CHUNK));
    }

    #[test]
    fn a_cow_map_ranges_as_a_btree_map_does() {
        let map: CowMap<u32, u32> = (0..500).map(|k| (k * 2, k)).collect();
        let model: BTreeMap<u32, u32> = (0..500).map(|k| (k * 2, k)).collect();
        for (a, b) in [
            (0, 0),
            (3, 3),
            (3, 4),
            (100, 900),
            (999, 2000),
            (5, 1),
            (0, 1),
        ] {
            for (lo, hi) in [
                (Bound::Included(&a), Bound::Included(&b)),
                (Bound::Included(&a), Bound::Excluded(&b)),
                (Bound::Excluded(&a), Bound::Included(&b)),
                (Bound::Unbounded, Bound::Excluded(&b)),
                (Bound::Included(&a), Bound::Unbounded),
            ] {
                let inverted = match (lo, hi) {
                    (Bound::Included(x), Bound::Included(y)) => x > y,
                    (Bound::Included(x), Bound::Excluded(y)) => x >= y,
                    (Bound::Excluded(x), Bound::Included(y)) => x >= y,
                    _ => false,
                };
                let got: Vec<_> = map.range(lo, hi).collect();
                if inverted {
                    assert!(got.is_empty());
                } else {
                    assert!(got.into_iter().eq(model.range((lo, hi))));
                }
            }
        }
        assert_eq!(map.get_key_value(&10), Some((&10, &5)));
        assert_eq!(map.get_key_value(&11), None);
    }

    #[test]
    fn a_cow_map_retains_and_inserts_defaults_as_a_btree_map_does() {
        let mut map: CowMap<u32, Vec<u32>> = (0..300).map(|k| (k, vec![k])).collect();
        let copy = map.clone();
        map.retain(|k, v| {
            v.push(0);
            k % 3 != 0
        });
        assert_eq!(map.len(), 200);
        assert!(map.iter().all(|(k, v)| k % 3 != 0 && *v == vec![*k, 0]));
        map.get_or_default(3).push(7);
        map.get_or_default(4).push(8);
        assert_eq!(map.get(&3), Some(&vec![7]));
        assert_eq!(map.get(&4), Some(&vec![4, 0, 8]));
        assert_eq!(map.len(), 201);
        // The copy taken before saw none of it.
        assert_eq!(copy.len(), 300);
        assert!(copy.iter().all(|(k, v)| *v == vec![*k]));
    }

    #[test]
    fn a_cow_deque_behaves_as_a_vec_deque_and_its_copy_is_independent() {
        let mut q = CowDeque::new();
        let mut model = std::collections::VecDeque::new();
        for i in 0..1000u32 {
            q.push_back(i);
            model.push_back(i);
        }
        let copy = q.clone();
        q.drop_front(300);
        model.drain(..300);
        q.extend(1000..1100);
        model.extend(1000..1100);
        assert_eq!(q.len(), model.len());
        assert!(q.iter().eq(model.iter()));
        for from in [0, 1, 255, 256, 700, 799, 800, 900] {
            assert!(q.iter_from(from).eq(model.range(from.min(model.len())..)));
        }
        for cut in [0, 299, 300, 301, 555, 1099, 5000] {
            assert_eq!(
                q.partition_point(|x| *x < cut),
                model.partition_point(|x| *x < cut)
            );
        }
        assert_eq!(copy.len(), 1000);
        assert!(copy.iter().copied().eq(0..1000));
        q.drop_front(10_000);
        assert!(q.is_empty());
        assert_eq!(q.iter().count(), 0);
    }
}
