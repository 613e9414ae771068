//! Parts of pods held once for every pod that has the same ones
//! (hash-consing).
//!
//! In Kubernetes every component decodes its own copy of each pod, and the
//! pods a ReplicaSet, Job or DaemonSet creates from one template carry the
//! same containers, labels and owner reference, each pod its own copy. A
//! simulation of 150,000 pods in one address space can keep one copy of
//! each such part instead: [`Shared`] holds a value behind an `Rc`, and
//! building one from a value looks the value up in a per-type table of
//! those live ([`Intern`]), so equal values share one allocation.
//!
//! Sharing is invisible to the code reading a pod: a `Shared<T>` reads
//! as a `&T` (`Deref`), compares and serializes as `T` does, and writing
//! through it (`DerefMut`) copies the value first when another pod shares
//! it (`Rc::make_mut`), so a change to one pod never shows in another.
//! A table drops the values no pod holds any more each time it has grown
//! to twice what it kept at the last sweep.
//!
//! The tables are thread-local and keyed by a fingerprint (a hash with
//! fixed keys) of the value, each with the values of that fingerprint, so
//! a fingerprint collision costs a comparison, never a wrong sharing. No
//! table is ever iterated into output: sharing changes no result.

use serde::{Serialize, Serializer};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::thread::LocalKey;

/// A value that [`Shared`] looks up in a table of the live ones.
pub trait Intern: PartialEq + Clone + Default + 'static {
    /// A hash of the value (equal values, equal fingerprints).
    fn fingerprint(&self) -> u64;
    /// This type's table.
    fn table() -> &'static LocalKey<RefCell<Table<Self>>>;
}

/// The live values of one type, by fingerprint.
pub struct Table<T> {
    buckets: BTreeMap<u64, Vec<Rc<T>>>,
    len: usize,
    sweep_at: usize,
}

/// The most values one fingerprint keeps: a lookup compares against each.
const BUCKET_MAX: usize = 8;

/// A table sweeps first when it holds this many values.
const FIRST_SWEEP: usize = 1024;

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            buckets: BTreeMap::new(),
            len: 0,
            sweep_at: FIRST_SWEEP,
        }
    }
}

impl<T: PartialEq> Table<T> {
    /// The live value equal to `value`, or `value` itself, now live.
    fn intern(&mut self, fingerprint: u64, value: T) -> Rc<T> {
        let bucket = self.buckets.entry(fingerprint).or_default();
        if let Some(rc) = bucket.iter().find(|rc| ***rc == value) {
            return Rc::clone(rc);
        }
        let rc = Rc::new(value);
        if bucket.len() >= BUCKET_MAX {
            let before = bucket.len();
            bucket.retain(|rc| Rc::strong_count(rc) > 1);
            self.len -= before - bucket.len();
            if bucket.len() >= BUCKET_MAX {
                // Many live unequal values with one fingerprint (one that
                // leaves out what tells them apart): each lookup would
                // compare against all of them, so the value stays unshared.
                return rc;
            }
        }
        bucket.push(Rc::clone(&rc));
        self.len += 1;
        if self.len >= self.sweep_at {
            self.sweep();
        }
        rc
    }

    /// Drops the values only the table holds.
    fn sweep(&mut self) {
        self.buckets.retain(|_, bucket| {
            bucket.retain(|rc| Rc::strong_count(rc) > 1);
            !bucket.is_empty()
        });
        self.len = self.buckets.values().map(Vec::len).sum();
        self.sweep_at = (self.len * 2).max(FIRST_SWEEP);
    }

    /// How many values the table holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A fingerprint hasher: SipHash with fixed keys, the same in every run.
pub fn hasher() -> std::hash::DefaultHasher {
    std::hash::DefaultHasher::new()
}

/// Declares `$ty`'s table.
macro_rules! intern_table {
    ($ty:ty) => {
        fn table() -> &'static ::std::thread::LocalKey<::std::cell::RefCell<$crate::api::shared::Table<Self>>> {
            ::std::thread_local! {
                static TABLE: ::std::cell::RefCell<$crate::api::shared::Table<$ty>> =
                    ::std::cell::RefCell::new($crate::api::shared::Table::default());
            }
            &TABLE
        }
    };
}
pub(crate) use intern_table;

/// A value shared by every holder of an equal one (see the module doc).
pub struct Shared<T>(Rc<T>);

impl<T: Intern> Shared<T> {
    /// The live value equal to `value`, shared, or `value`.
    pub fn new(value: T) -> Shared<T> {
        let fingerprint = value.fingerprint();
        let mut value = Some(value);
        // A table in use (an `Intern` impl building a `Shared` while
        // comparing) or being torn down: hold the value unshared.
        let shared = T::table()
            .try_with(|t| {
                let mut t = t.try_borrow_mut().ok()?;
                value.take().map(|v| t.intern(fingerprint, v))
            })
            .ok()
            .flatten();
        Shared(shared.or_else(|| value.map(Rc::new)).unwrap_or_default())
    }
}

impl<T: Clone> Shared<T> {
    /// The value, copied when another holder shares it.
    pub fn into_inner(self) -> T {
        Rc::try_unwrap(self.0).unwrap_or_else(|rc| (*rc).clone())
    }
}

impl<T> Shared<T> {
    /// Whether `a` and `b` are one allocation.
    pub fn ptr_eq(a: &Shared<T>, b: &Shared<T>) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

impl<T: Intern> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> std::ops::DerefMut for Shared<T> {
    /// Copies the value first when another holder shares it.
    fn deref_mut(&mut self) -> &mut T {
        Rc::make_mut(&mut self.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T: Default> Default for Shared<T> {
    fn default() -> Self {
        Shared(Rc::new(T::default()))
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}

impl<T: Eq> Eq for Shared<T> {}

impl<T: PartialEq> PartialEq<T> for Shared<T> {
    fn eq(&self, other: &T) -> bool {
        *self.0 == *other
    }
}

impl<T: Hash> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0.hash(h)
    }
}

impl<T: PartialOrd> PartialOrd for Shared<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

impl<T: Ord> Ord for Shared<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<T: Serialize> Serialize for Shared<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'a, T> IntoIterator for &'a Shared<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T: Clone> IntoIterator for &'a mut Shared<Vec<T>> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        Rc::make_mut(&mut self.0).iter_mut()
    }
}

impl<T: Clone> IntoIterator for Shared<Vec<T>> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq)]
    struct Name(String);

    impl Intern for Name {
        fn fingerprint(&self) -> u64 {
            // Every value collides: sharing must still compare.
            7
        }
        intern_table!(Name);
    }

    #[test]
    fn equal_values_share_one_allocation_and_different_ones_do_not() {
        let a = Shared::new(Name("web".into()));
        let b = Shared::new(Name("web".into()));
        let c = Shared::new(Name("db".into()));
        assert!(Shared::ptr_eq(&a, &b));
        assert!(!Shared::ptr_eq(&a, &c));
        assert_eq!(*c, Name("db".into()));
    }

    /// A type of its own, so no other test's values share its table.
    #[derive(Clone, Debug, Default, PartialEq)]
    struct Volume(String);

    impl Intern for Volume {
        fn fingerprint(&self) -> u64 {
            7
        }
        intern_table!(Volume);
    }

    #[test]
    fn unequal_values_with_one_fingerprint_stop_being_kept_past_a_bucket_s_size() {
        let volumes: Vec<_> = (0..100)
            .map(|i| Shared::new(Volume(format!("kube-api-access-{i}"))))
            .collect();
        let again = Shared::new(Volume("kube-api-access-3".into()));
        assert!(Shared::ptr_eq(&volumes[3], &again));
        let late = Shared::new(Volume("kube-api-access-99".into()));
        assert!(!Shared::ptr_eq(&volumes[99], &late));
        assert_eq!(*late, Volume("kube-api-access-99".into()));
        Volume::table().with(|t| assert_eq!(t.borrow().len(), BUCKET_MAX));
    }

    #[test]
    fn writing_through_a_shared_value_changes_only_that_holder() {
        let a = Shared::new(Name("web".into()));
        let mut b = a.clone();
        let name: &mut Name = &mut b;
        name.0.push_str("-2");
        assert_eq!(*a, Name("web".into()));
        assert_eq!(*b, Name("web-2".into()));
    }

    #[test]
    fn a_table_drops_the_values_no_holder_keeps() {
        for i in 0..3 * FIRST_SWEEP {
            drop(Shared::new(Name(format!("pod-{i}"))));
        }
        let kept = Shared::new(Name("kept".into()));
        let len = Name::table().with(|t| t.borrow().len());
        assert!(len <= FIRST_SWEEP, "{len} values still held");
        assert!(Shared::ptr_eq(&kept, &Shared::new(Name("kept".into()))));
    }
}
