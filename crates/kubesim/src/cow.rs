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
//! Unlike [`crate::api::shared::Shared`], nothing is looked up: equal
//! values built apart stay apart. The simulation leaves nothing out: a
//! `CowRc<T>` behaves as a `T` would, only its copies are deferred.

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
}
