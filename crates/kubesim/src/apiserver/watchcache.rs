//! The watch cache: each kube-apiserver's copy of the cluster's state, fed by
//! one etcd watch, from which it serves watches (and reads asking for
//! `resourceVersion=0`) without touching etcd (`storage/cacher`).
//!
//! It keeps the current object of every key and a bounded window of recent
//! events. A watch from a resourceVersion still in the window replays what
//! came after it; one from before the window gets `410 Gone` ("too old
//! resource version") and the client must list again. Upstream keeps one
//! cache per resource with a window of at least 100 events, growing with
//! load; here one window serves every kind.

use super::request::{WatchEvent, WatchEventType};
use super::selector::Selector;
use crate::api::{KindId, Object};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// The default window of recent events.
pub const DEFAULT_WINDOW: usize = 2048;

/// One change, as the cache keeps it.
#[derive(Clone, Debug)]
pub struct CachedEvent {
    pub key: Rc<str>,
    pub kind_id: KindId,
    pub event: WatchEventType,
    pub object: Rc<Object>,
    pub revision: u64,
}

/// What a watcher is interested in.
#[derive(Clone, Debug)]
pub struct Filter {
    pub kind: KindId,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub selector: Selector,
    /// `spec.nodeName=<node>` for pods (the kubelet's watch).
    pub node_name: Option<String>,
    /// The field selector's other terms (see `fields`).
    pub fields: Vec<super::fields::FieldTerm>,
}

impl Filter {
    pub fn matches(&self, kind: KindId, object: &Object) -> bool {
        if kind != self.kind {
            return false;
        }
        if let Some(ns) = &self.namespace {
            if object.namespace().unwrap_or_default() != ns {
                return false;
            }
        }
        if let Some(n) = &self.name {
            if object.name() != n {
                return false;
            }
        }
        if let Some(node) = &self.node_name {
            let on = match object {
                Object::Pod(p) => p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
                _ => None,
            };
            if on.unwrap_or_default() != node {
                return false;
            }
        }
        self.fields.iter().all(|t| t.matches(object)) && self.selector.matches(object.labels())
    }
}

/// Why a watch could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooOld {
    pub requested: u64,
    pub oldest: u64,
}

#[derive(Clone, Debug)]
pub struct WatchCache {
    objects: BTreeMap<Rc<str>, (KindId, Rc<Object>)>,
    window: VecDeque<CachedEvent>,
    capacity: usize,
    revision: u64,
    /// Events after this revision are all in the window.
    oldest: u64,
    synced: bool,
    /// The revision of the last change to each kind's objects (see
    /// [`WatchCache::kind_revision`]).
    changed: BTreeMap<KindId, u64>,
    /// The revision of the last full list.
    listed: u64,
}

impl Default for WatchCache {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW)
    }
}

impl WatchCache {
    pub fn new(capacity: usize) -> Self {
        WatchCache {
            objects: BTreeMap::new(),
            window: VecDeque::new(),
            capacity: capacity.max(1),
            revision: 0,
            oldest: 0,
            synced: false,
            changed: BTreeMap::new(),
            listed: 0,
        }
    }

    /// The revision at which the cache's objects of `kind` last changed,
    /// or were replaced by a list: the objects of `kind` are etcd's at that
    /// revision, so two synced caches with the same figure hold the same
    /// objects of the kind (what lets a reader skip unchanged kinds).
    pub fn kind_revision(&self, kind: KindId) -> u64 {
        self.changed
            .get(&kind)
            .copied()
            .unwrap_or(0)
            .max(self.listed)
    }

    /// Whether the cache holds a full list (it is empty until the first).
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// The latest revision the cache has seen.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Replaces everything with a fresh list at `revision` (after a start or a
    /// broken etcd watch). The event window restarts there.
    pub fn reset(&mut self, objects: Vec<(Rc<str>, KindId, Rc<Object>)>, revision: u64) {
        self.objects = objects.into_iter().map(|(k, id, o)| (k, (id, o))).collect();
        self.window.clear();
        self.revision = revision;
        self.oldest = revision;
        self.synced = true;
        self.listed = revision;
        self.changed.clear();
    }

    /// Forgets everything (the API server restarts or loses etcd).
    pub fn invalidate(&mut self) {
        self.synced = false;
    }

    /// Applies one change from etcd; returns the event for watchers.
    pub fn apply(
        &mut self,
        key: Rc<str>,
        kind_id: KindId,
        object: Option<Rc<Object>>,
        revision: u64,
    ) -> Option<CachedEvent> {
        if revision <= self.revision {
            return None;
        }
        self.revision = revision;
        let event = match object {
            Some(obj) => {
                let previous = self.objects.insert(key.clone(), (kind_id, obj.clone()));
                self.changed.insert(kind_id, revision);
                if let Some((was, _)) = &previous {
                    self.changed.insert(*was, revision);
                }
                CachedEvent {
                    key,
                    kind_id,
                    event: if previous.is_some() {
                        WatchEventType::Modified
                    } else {
                        WatchEventType::Added
                    },
                    object: obj,
                    revision,
                }
            }
            None => {
                let (was, old) = self.objects.remove(&key)?;
                self.changed.insert(was, revision);
                // A deleted object is reported as it was, at the delete's revision.
                let mut last = (*old).clone();
                last.meta_mut().resource_version = Some(revision.to_string());
                CachedEvent {
                    key,
                    kind_id,
                    event: WatchEventType::Deleted,
                    object: Rc::new(last),
                    revision,
                }
            }
        };
        if self.window.len() == self.capacity {
            if let Some(dropped) = self.window.pop_front() {
                self.oldest = dropped.revision;
            }
        }
        self.window.push_back(event.clone());
        Some(event)
    }

    /// The current object at `key`.
    pub fn get(&self, key: &str) -> Option<&Rc<Object>> {
        self.objects.get(key).map(|(_, o)| o)
    }

    /// Every current object matching `filter`, in key order.
    pub fn list(&self, filter: &Filter) -> Vec<Rc<Object>> {
        let prefix = super::registry::list_prefix(filter.kind, filter.namespace.as_deref());
        self.objects
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(prefix.as_str()))
            .filter(|(_, (id, o))| filter.matches(*id, o))
            .map(|(_, (_, o))| o.clone())
            .collect()
    }

    /// Every object of one kind (for authorizer and admission indexes).
    /// They are the keys under the kind's prefix (`registry::key`): a range
    /// of the map, not a pass over every object of every kind.
    pub fn all_of(&self, kind: KindId) -> impl Iterator<Item = &Rc<Object>> {
        let prefix = super::registry::prefix(kind);
        self.objects
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(prefix.as_str()))
            .filter(move |(_, (id, _))| *id == kind)
            .map(|(_, (_, o))| o)
    }

    /// The events a watch starting at `resource_version` must first receive:
    /// with no version (or `0`), one ADDED per current object; otherwise every
    /// event after it, if the window still reaches back that far.
    pub fn start_watch(
        &self,
        filter: &Filter,
        resource_version: Option<u64>,
    ) -> Result<Vec<WatchEvent>, TooOld> {
        match resource_version {
            None | Some(0) => Ok(self
                .list(filter)
                .into_iter()
                .map(|o| WatchEvent {
                    kind: WatchEventType::Added,
                    resource_version: o
                        .resource_version()
                        .and_then(|r| r.parse().ok())
                        .unwrap_or(self.revision),
                    object: Some(o),
                })
                .collect()),
            Some(rv) if rv < self.oldest => Err(TooOld {
                requested: rv,
                oldest: self.oldest,
            }),
            Some(rv) => Ok(self
                .window
                .iter()
                .filter(|e| e.revision > rv && filter.matches(e.kind_id, &e.object))
                .map(|e| WatchEvent {
                    kind: e.event,
                    object: Some(e.object.clone()),
                    resource_version: e.revision,
                })
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::Pod;

    fn pod(name: &str, rv: u64) -> Rc<Object> {
        Rc::new(Object::Pod(Box::new(Pod {
            metadata: crate::api::pod::PodMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                resource_version: Some(rv.to_string()),
                ..Default::default()
            },
            ..Default::default()
        })))
    }

    fn pods() -> Filter {
        Filter {
            kind: KindId::Pod,
            namespace: None,
            name: None,
            selector: Selector::default(),
            node_name: None,
            fields: Vec::new(),
        }
    }

    fn key(name: &str) -> Rc<str> {
        format!("/registry/pods/default/{name}").into()
    }

    #[test]
    fn a_watch_from_a_version_in_the_window_replays_what_came_after() {
        let mut c = WatchCache::new(10);
        c.reset(vec![], 1);
        c.apply(key("a"), KindId::Pod, Some(pod("a", 2)), 2);
        c.apply(key("b"), KindId::Pod, Some(pod("b", 3)), 3);
        c.apply(key("a"), KindId::Pod, None, 4);
        let events = c.start_watch(&pods(), Some(2)).unwrap();
        let got: Vec<_> = events
            .iter()
            .map(|e| (e.kind, e.resource_version))
            .collect();
        assert_eq!(
            got,
            [(WatchEventType::Added, 3), (WatchEventType::Deleted, 4)]
        );
    }

    #[test]
    fn a_kind_revision_moves_only_when_that_kinds_objects_change_or_a_list_replaces_them() {
        let mut c = WatchCache::new(8);
        c.reset(vec![], 3);
        assert_eq!(c.kind_revision(KindId::Pod), 3);
        c.apply(key("a"), KindId::Pod, Some(pod("a", 4)), 4);
        c.apply(key("lease"), KindId::Lease, None, 5); // nothing to delete
        assert_eq!(c.kind_revision(KindId::Pod), 4);
        assert_eq!(c.kind_revision(KindId::Lease), 3);
        c.apply(key("a"), KindId::Pod, None, 6);
        assert_eq!(c.kind_revision(KindId::Pod), 6);
        c.apply(key("a"), KindId::Pod, None, 7); // gone already
        assert_eq!(c.kind_revision(KindId::Pod), 6);
        c.reset(vec![], 9);
        assert_eq!(c.kind_revision(KindId::Pod), 9);
        assert_eq!(c.kind_revision(KindId::Node), 9);
    }

    #[test]
    fn a_watch_from_before_the_window_is_too_old() {
        let mut c = WatchCache::new(2);
        c.reset(vec![], 1);
        for rv in 2..6 {
            c.apply(key(&format!("p{rv}")), KindId::Pod, Some(pod("p", rv)), rv);
        }
        assert_eq!(
            c.start_watch(&pods(), Some(2)).unwrap_err(),
            TooOld {
                requested: 2,
                oldest: 3
            }
        );
        assert!(c.start_watch(&pods(), Some(4)).is_ok());
    }

    #[test]
    fn a_watch_without_a_version_starts_with_the_current_state() {
        let mut c = WatchCache::new(10);
        c.reset(vec![(key("a"), KindId::Pod, pod("a", 5))], 5);
        c.apply(key("b"), KindId::Pod, Some(pod("b", 6)), 6);
        let events = c.start_watch(&pods(), None).unwrap();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.kind == WatchEventType::Added));
    }

    #[test]
    fn stale_events_are_ignored() {
        let mut c = WatchCache::new(10);
        c.reset(vec![], 10);
        assert!(c
            .apply(key("a"), KindId::Pod, Some(pod("a", 9)), 9)
            .is_none());
    }

    #[test]
    fn lists_filter_by_namespace_and_labels() {
        let mut c = WatchCache::new(10);
        c.reset(vec![], 1);
        c.apply(key("a"), KindId::Pod, Some(pod("a", 2)), 2);
        let mut f = pods();
        f.namespace = Some("other".into());
        assert!(c.list(&f).is_empty());
        f.namespace = Some("default".into());
        assert_eq!(c.list(&f).len(), 1);
        f.selector = Selector::parse("app=web").unwrap();
        assert!(c.list(&f).is_empty());
    }
}
