//! Informers: a reflector that lists and watches one kind, and the store it
//! keeps, as client-go's `tools/cache` provides them.
//!
//! In Kubernetes every controller, the scheduler, the kubelet and kube-proxy
//! read the cluster through informers rather than asking the API server each
//! time. The reflector (`tools/cache/reflector.go`, `ListAndWatch`) lists the
//! objects of one kind, opens a watch from the list's resourceVersion, and
//! applies every event to a local store; when the watch breaks it lists again
//! and reconciles the store with the fresh list (`DeltaFIFO.Replace`), so
//! handlers hear of objects deleted while it was disconnected (as
//! `DeletedFinalStateUnknown` tombstones). The shared informer
//! (`shared_informer.go`) turns the changes into `OnAdd` / `OnUpdate` /
//! `OnDelete` calls, reports `HasSynced` once the first list is in, and
//! can replay every cached object as an update every `resyncPeriod`.
//!
//! Here the reflector is a pure state machine shaped like kube-rs's
//! `kube-runtime` watcher: an explicit [`State`] enum (`Empty` -> `Listing`
//! -> `Listed` -> `Watching`, and back to `Listing` through `BackingOff` on
//! a 410 Gone, a closed watch, an error or a timeout). It knows nothing of
//! the network. The component that owns it drives it:
//! - [`Informer::poll`] returns the requests to send now (a LIST with the
//!   filter, then a WATCH from the list's resourceVersion with bookmarks);
//! - [`Informer::on_response`] takes each answer and returns
//!   [`Notification`]s (add, update, delete, and a one-off `Synced`);
//! - [`Informer::resync`] returns the periodic resync's notifications;
//! - [`Informer::next_wakeup`] says when either has something to do.
//!
//! Each request `poll` returns supersedes the informer's previous one: the
//! owner remembers which request id belongs to which informer, feeds back the
//! answers to the latest request only, and cancels the earlier watch (it is
//! usually closed already).
//!
//! Failures back off as client-go's reflector does: 800 ms, doubling, capped
//! at 30 s, and back to 800 ms once two minutes have passed without a
//! failure (`NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, ...)`).
//!
//! Left out: the jitter on the back-off (the owner may add its own, drawn
//! from the seeded RNG), indexers other than the `namespace/name` key, the
//! DeltaFIFO between reflector and handlers (notifications are returned
//! directly, in order), paginated lists, the streaming WatchList protocol,
//! the watch's server-side `timeoutSeconds`, and per-handler resync periods.
//! Lists are always consistent reads (no `resourceVersion=0` from the watch
//! cache), so a relist never goes back in time. On a relist client-go
//! reports every listed object that is already cached as an update; here
//! only those whose resourceVersion changed are reported.

use crate::api::{ApiError, KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::selector::Selector;
use crate::apiserver::{ApiRequest, ApiResponse, Verb, WatchEvent, WatchEventType};
use crate::world::{SimDuration, SimTime};
use std::rc::Rc;

/// The reflector's first back-off after a failure.
pub const BACKOFF_INITIAL: SimDuration = SimDuration::from_millis(800);
/// The longest back-off.
pub const BACKOFF_MAX: SimDuration = SimDuration::from_secs(30);
/// After this long without a failure the back-off starts again from
/// [`BACKOFF_INITIAL`].
pub const BACKOFF_RESET: SimDuration = SimDuration::from_secs(120);
/// How long a LIST, or a WATCH before its first answer, may go unanswered.
pub const DEFAULT_REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(60);
/// The shortest resync period (client-go's `minimumResyncPeriod`).
pub const MIN_RESYNC_PERIOD: SimDuration = SimDuration::from_secs(1);

/// Why an informer could not be built, or why its last list or watch failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum InformerError {
    #[error("invalid label selector {selector:?}: {reason}")]
    InvalidLabelSelector { selector: String, reason: String },
    #[error("invalid field selector {0:?}: expected key=value pairs separated by commas")]
    InvalidFieldSelector(String),
    #[error(
        "{kind} is cluster-scoped: an informer for it cannot be limited to namespace {namespace:?}"
    )]
    NamespaceOnClusterScoped {
        kind: &'static str,
        namespace: String,
    },
    #[error("resync period {0} is shorter than the minimum of 1s (leave it unset for no resync)")]
    ResyncTooShort(SimDuration),
    #[error("the request timeout must be longer than zero")]
    ZeroRequestTimeout,
    #[error("list failed: {0}")]
    ListFailed(ApiError),
    #[error("watch failed: {0}")]
    WatchFailed(ApiError),
    #[error("watch closed by the server: {0}")]
    WatchClosed(ApiError),
    #[error("the {verb} got no answer within {timeout}")]
    Timeout {
        verb: &'static str,
        timeout: SimDuration,
    },
}

/// What an informer lists and watches, and how often it resyncs.
#[derive(Clone, Debug, PartialEq)]
pub struct InformerConfig {
    pub kind: KindId,
    /// Limit to one namespace (`None`: all namespaces).
    pub namespace: Option<String>,
    /// `labelSelector`, in the selector syntax (`app=web,tier!=db`).
    pub label_selector: Option<String>,
    /// `fieldSelector` (`spec.nodeName=worker-1`).
    pub field_selector: Option<String>,
    /// Replay every cached object as an update this often (`resyncPeriod`;
    /// `None`, as client-go's 0, turns it off).
    pub resync_period: Option<SimDuration>,
    /// How long a request may go unanswered before it counts as failed.
    pub request_timeout: SimDuration,
}

impl InformerConfig {
    /// Every object of `kind`, in every namespace, without resync.
    pub fn new(kind: KindId) -> Self {
        InformerConfig {
            kind,
            namespace: None,
            label_selector: None,
            field_selector: None,
            resync_period: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    pub fn with_label_selector(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    pub fn with_field_selector(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    pub fn with_resync_period(mut self, period: SimDuration) -> Self {
        self.resync_period = Some(period);
        self
    }

    pub fn with_request_timeout(mut self, timeout: SimDuration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Rejects settings the API server or client-go would refuse.
    fn validate(&self) -> Result<(), InformerError> {
        if let Some(s) = &self.label_selector {
            Selector::parse(s).map_err(|e| InformerError::InvalidLabelSelector {
                selector: s.clone(),
                reason: e.0,
            })?;
        }
        if let Some(s) = &self.field_selector {
            let well_formed = s.split(',').filter(|p| !p.is_empty()).all(|p| {
                p.split_once('=')
                    .is_some_and(|(k, _)| !k.trim_end_matches('!').is_empty())
            });
            if !well_formed {
                return Err(InformerError::InvalidFieldSelector(s.clone()));
            }
        }
        let info = self.kind.info();
        if let Some(ns) = self.namespace.as_deref().filter(|n| !n.is_empty()) {
            if !info.namespaced {
                return Err(InformerError::NamespaceOnClusterScoped {
                    kind: info.kind,
                    namespace: ns.to_string(),
                });
            }
        }
        if let Some(p) = self.resync_period {
            if p < MIN_RESYNC_PERIOD {
                return Err(InformerError::ResyncTooShort(p));
            }
        }
        if self.request_timeout == SimDuration::ZERO {
            return Err(InformerError::ZeroRequestTimeout);
        }
        Ok(())
    }
}

/// Where the reflector is (kube-rs `watcher::State`).
#[derive(Clone, Debug)]
pub enum State {
    /// Nothing sent yet: the next poll lists.
    Empty,
    /// A LIST is in flight.
    Listing {
        request: ApiRequest,
        sent_at: SimTime,
    },
    /// The list is in the store; the next poll watches from its
    /// resourceVersion (kube-rs `InitListed`).
    Listed { resource_version: u64 },
    /// A WATCH is open (`started` once the server said so or sent an event)
    /// and the store is at `resource_version`.
    Watching {
        request: ApiRequest,
        resource_version: u64,
        started: bool,
        sent_at: SimTime,
    },
    /// The last list or watch failed; the next poll from `until` lists again.
    BackingOff { until: SimTime },
}

/// A change the informer's handlers hear of
/// (`ResourceEventHandler.OnAdd` / `OnUpdate` / `OnDelete`).
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    Add(Rc<Object>),
    /// Also a resync, with `old` and `new` the same object.
    Update {
        old: Rc<Object>,
        new: Rc<Object>,
    },
    /// The object as last seen. `final_state_unknown` when the deletion was
    /// inferred from a relist (client-go's `DeletedFinalStateUnknown`).
    Delete {
        object: Rc<Object>,
        final_state_unknown: bool,
    },
    /// The first list is in the store (`HasSynced` turned true); once.
    Synced,
}

impl Notification {
    /// The `namespace/name` key the notification is about (`None` for
    /// `Synced`).
    pub fn key(&self) -> Option<String> {
        match self {
            Notification::Add(o)
            | Notification::Update { new: o, .. }
            | Notification::Delete { object: o, .. } => Some(o.key()),
            Notification::Synced => None,
        }
    }
}

/// The informer's cache, read-only to everyone but its informer
/// (kube-rs's `Store`; client-go's `Indexer` with only the key index).
#[derive(Clone, Debug, Default)]
pub struct Store {
    /// Copy-on-write: a copy of the cluster shares the cache until one
    /// side writes (see [`crate::cow::CowMap`]).
    objects: crate::cow::CowMap<String, Rc<Object>>,
    resource_version: Option<u64>,
    synced: bool,
}

impl Store {
    /// A synced store holding `objects` (for controller unit tests).
    #[cfg(test)]
    pub(crate) fn from_objects(objects: Vec<Object>) -> Store {
        Store {
            objects: objects.into_iter().map(|o| (o.key(), Rc::new(o))).collect(),
            resource_version: None,
            synced: true,
        }
    }

    /// The object at `namespace/name` (or `name` for cluster-scoped kinds).
    pub fn get(&self, key: &str) -> Option<&Rc<Object>> {
        self.objects.get(key)
    }

    /// Every cached object, in key order.
    pub fn list(&self) -> Vec<Rc<Object>> {
        self.objects.values().cloned().collect()
    }

    /// Every cached key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Whether the first list has been applied (`HasSynced`); it stays true
    /// across relists.
    pub fn has_synced(&self) -> bool {
        self.synced
    }

    /// The resourceVersion the store reflects: the last list's, advanced by
    /// every event and bookmark since (`LastSyncResourceVersion`).
    pub fn resource_version(&self) -> Option<u64> {
        self.resource_version
    }

    fn advance(&mut self, rv: u64) {
        self.resource_version = Some(self.resource_version.map_or(rv, |c| c.max(rv)));
    }
}

/// client-go's `ExponentialBackoffManager` without jitter.
#[derive(Clone, Debug, Default)]
struct Backoff {
    current: SimDuration,
    last_failure: Option<SimTime>,
}

impl Backoff {
    fn next(&mut self, now: SimTime) -> SimDuration {
        let reset = self
            .last_failure
            .is_none_or(|t| now.saturating_since(t) >= BACKOFF_RESET);
        self.current = if reset {
            BACKOFF_INITIAL
        } else {
            SimDuration::from_millis(self.current.as_millis().saturating_mul(2)).min(BACKOFF_MAX)
        };
        self.last_failure = Some(now);
        self.current
    }
}

fn object_rv(o: &Object) -> Option<u64> {
    o.resource_version().and_then(|r| r.parse().ok())
}

/// One reflector and its store.
#[derive(Clone, Debug)]
pub struct Informer {
    config: InformerConfig,
    credential: Credential,
    state: State,
    store: Store,
    backoff: Backoff,
    last_error: Option<InformerError>,
    next_resync: Option<SimTime>,
    lists: u64,
    watches: u64,
}

impl Informer {
    /// The credential of the informer's next requests.
    pub fn set_credential(&mut self, credential: Credential) {
        self.credential = credential;
    }

    /// An informer for `config`, sending requests with `credential`.
    pub fn new(config: InformerConfig, credential: Credential) -> Result<Self, InformerError> {
        config.validate()?;
        Ok(Informer {
            config,
            credential,
            state: State::Empty,
            store: Store::default(),
            backoff: Backoff::default(),
            last_error: None,
            next_resync: None,
            lists: 0,
            watches: 0,
        })
    }

    pub fn config(&self) -> &InformerConfig {
        &self.config
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The cache, read-only.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Why the last list or watch failed, if one has.
    pub fn last_error(&self) -> Option<&InformerError> {
        self.last_error.as_ref()
    }

    /// How many LISTs the informer has sent (1 + the relists).
    pub fn lists_sent(&self) -> u64 {
        self.lists
    }

    /// How many WATCHes the informer has sent.
    pub fn watches_sent(&self) -> u64 {
        self.watches
    }

    fn request(&self, verb: Verb) -> ApiRequest {
        let mut r = ApiRequest::new(verb, self.config.kind, self.credential.clone());
        r.namespace = self.config.namespace.clone().filter(|n| !n.is_empty());
        r.options.label_selector = self.config.label_selector.clone();
        r.options.field_selector = self.config.field_selector.clone();
        r
    }

    /// The requests to send at `now`: a LIST when the informer starts or its
    /// back-off has run out, a WATCH once a list is in. Each supersedes the
    /// informer's previous request.
    pub fn poll(&mut self, now: SimTime) -> Vec<ApiRequest> {
        self.check_timeout(now);
        match self.state {
            State::Empty => self.start_list(now),
            State::BackingOff { until } if now >= until => self.start_list(now),
            State::Listed { resource_version } => {
                let mut request = self.request(Verb::Watch);
                request.options.resource_version = Some(resource_version.to_string());
                request.options.allow_bookmarks = true;
                self.watches += 1;
                self.state = State::Watching {
                    request: request.clone(),
                    resource_version,
                    started: false,
                    sent_at: now,
                };
                vec![request]
            }
            _ => Vec::new(),
        }
    }

    fn start_list(&mut self, now: SimTime) -> Vec<ApiRequest> {
        let request = self.request(Verb::List);
        self.lists += 1;
        self.state = State::Listing {
            request: request.clone(),
            sent_at: now,
        };
        vec![request]
    }

    /// A LIST unanswered, or a WATCH not acknowledged, for the request
    /// timeout counts as a failure.
    fn check_timeout(&mut self, now: SimTime) {
        let timeout = self.config.request_timeout;
        let verb = match self.state {
            State::Listing { sent_at, .. } if now.saturating_since(sent_at) >= timeout => "list",
            State::Watching {
                started: false,
                sent_at,
                ..
            } if now.saturating_since(sent_at) >= timeout => "watch",
            _ => return,
        };
        self.fail(now, InformerError::Timeout { verb, timeout });
    }

    fn fail(&mut self, now: SimTime, error: InformerError) {
        let delay = self.backoff.next(now);
        self.state = State::BackingOff { until: now + delay };
        self.last_error = Some(error);
    }

    /// Takes one answer to the informer's latest request. Answers the
    /// current state did not ask for (a list while watching, an event while
    /// listing) are stale and ignored.
    pub fn on_response(&mut self, now: SimTime, response: ApiResponse) -> Vec<Notification> {
        match (&mut self.state, response) {
            (
                State::Listing { .. },
                ApiResponse::List {
                    kind,
                    items,
                    resource_version,
                },
            ) if kind == self.config.kind => self.replace(now, items, resource_version),
            (State::Listing { .. }, ApiResponse::Error(e)) => {
                self.fail(now, InformerError::ListFailed(e));
                Vec::new()
            }
            (State::Watching { started, .. }, ApiResponse::WatchStarted) => {
                *started = true;
                Vec::new()
            }
            (
                State::Watching {
                    started,
                    resource_version,
                    ..
                },
                ApiResponse::Watch(event),
            ) => {
                *started = true;
                *resource_version = (*resource_version).max(event.resource_version);
                self.apply(event)
            }
            (State::Watching { .. }, ApiResponse::WatchClosed(e)) => {
                self.fail(now, InformerError::WatchClosed(e));
                Vec::new()
            }
            (State::Watching { .. }, ApiResponse::Error(e)) => {
                self.fail(now, InformerError::WatchFailed(e));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Applies a full list (`Reflector.syncWith` / `DeltaFIFO.Replace`):
    /// new objects are added, changed ones updated, and cached objects the
    /// list no longer has are deleted with their final state unknown.
    fn replace(&mut self, now: SimTime, items: Vec<Rc<Object>>, rv: u64) -> Vec<Notification> {
        let mut out = Vec::new();
        let mut previous = std::mem::take(&mut self.store.objects);
        for item in items {
            let key = item.key();
            match previous.remove(&key) {
                None => out.push(Notification::Add(item.clone())),
                Some(old) if old.resource_version() != item.resource_version() => {
                    out.push(Notification::Update {
                        old,
                        new: item.clone(),
                    })
                }
                Some(_) => {}
            }
            self.store.objects.insert(key, item);
        }
        out.extend(previous.into_values().map(|object| Notification::Delete {
            object,
            final_state_unknown: true,
        }));
        self.store.resource_version = Some(rv);
        if !self.store.synced {
            self.store.synced = true;
            out.push(Notification::Synced);
            self.next_resync = self.config.resync_period.map(|p| now + p);
        }
        self.state = State::Listed {
            resource_version: rv,
        };
        out
    }

    /// Applies one watch event. An event older than the cached object (the
    /// network may reorder messages) is dropped rather than going back in
    /// time.
    fn apply(&mut self, event: WatchEvent) -> Vec<Notification> {
        self.store.advance(event.resource_version);
        let Some(object) = event.object else {
            return Vec::new();
        };
        let key = object.key();
        let cached = self.store.objects.get(&key);
        if let (Some(c), Some(new)) = (cached.and_then(|c| object_rv(c)), object_rv(&object)) {
            if new < c {
                return Vec::new();
            }
        }
        match event.kind {
            WatchEventType::Bookmark => Vec::new(),
            WatchEventType::Added | WatchEventType::Modified => {
                match self.store.objects.insert(key, object.clone()) {
                    Some(old) => vec![Notification::Update { old, new: object }],
                    None => vec![Notification::Add(object)],
                }
            }
            WatchEventType::Deleted => match self.store.objects.remove(&key) {
                // The event carries the object as it was when deleted.
                Some(_) => vec![Notification::Delete {
                    object,
                    final_state_unknown: false,
                }],
                None => Vec::new(),
            },
        }
    }

    /// The periodic resync (`resyncPeriod`): once due, every cached object
    /// as an update of itself, in key order.
    pub fn resync(&mut self, now: SimTime) -> Vec<Notification> {
        let (Some(period), Some(due)) = (self.config.resync_period, self.next_resync) else {
            return Vec::new();
        };
        if now < due {
            return Vec::new();
        }
        self.next_resync = Some(now + period);
        self.store
            .objects
            .values()
            .map(|o| Notification::Update {
                old: o.clone(),
                new: o.clone(),
            })
            .collect()
    }

    /// The earliest time at which [`Informer::poll`] or
    /// [`Informer::resync`] has something to do (a time already past means
    /// now); `None` while it only waits for answers.
    pub fn next_wakeup(&self) -> Option<SimTime> {
        let timeout = self.config.request_timeout;
        let state = match self.state {
            State::Empty | State::Listed { .. } => Some(SimTime::ZERO),
            State::Listing { sent_at, .. } => Some(sent_at + timeout),
            State::Watching {
                started: false,
                sent_at,
                ..
            } => Some(sent_at + timeout),
            State::Watching { .. } => None,
            State::BackingOff { until } => Some(until),
        };
        match (state, self.next_resync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Reason;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn cm(name: &str, rv: u64) -> Rc<Object> {
        Rc::new(Object::ConfigMap(Box::new(ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                resource_version: Some(rv.to_string()),
                ..Default::default()
            },
            ..Default::default()
        })))
    }

    fn at(ms: u64) -> SimTime {
        SimTime(ms)
    }

    fn informer() -> Informer {
        Informer::new(
            InformerConfig::new(KindId::ConfigMap).in_namespace("default"),
            Credential::None,
        )
        .expect("a valid config")
    }

    fn list(items: Vec<Rc<Object>>, rv: u64) -> ApiResponse {
        ApiResponse::List {
            kind: KindId::ConfigMap,
            items,
            resource_version: rv,
        }
    }

    fn event(kind: WatchEventType, object: Option<Rc<Object>>, rv: u64) -> ApiResponse {
        ApiResponse::Watch(WatchEvent {
            kind,
            object,
            resource_version: rv,
        })
    }

    /// Short descriptions of notifications: `add default/a`, `synced`, ...
    fn describe(ns: &[Notification]) -> Vec<String> {
        ns.iter()
            .map(|n| match n {
                Notification::Add(o) => format!("add {}", o.key()),
                Notification::Update { old, new } => format!(
                    "update {} {}->{}",
                    new.key(),
                    old.resource_version().unwrap_or_default(),
                    new.resource_version().unwrap_or_default()
                ),
                Notification::Delete {
                    object,
                    final_state_unknown,
                } => format!(
                    "delete {}{}",
                    object.key(),
                    if *final_state_unknown {
                        " (unknown)"
                    } else {
                        ""
                    }
                ),
                Notification::Synced => "synced".into(),
            })
            .collect()
    }

    /// An informer that listed `items` at `rv` and opened its watch.
    fn watching(items: Vec<Rc<Object>>, rv: u64) -> Informer {
        let mut inf = informer();
        inf.poll(at(0));
        inf.on_response(at(1), list(items, rv));
        inf.poll(at(1));
        inf.on_response(at(2), ApiResponse::WatchStarted);
        inf
    }

    #[test]
    fn a_new_informer_lists_first_then_watches_from_the_lists_resource_version() {
        let mut inf = informer();
        let reqs = inf.poll(at(0));
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].verb, Verb::List);
        assert_eq!(
            reqs[0].to_string(),
            "GET /api/v1/namespaces/default/configmaps"
        );
        assert_eq!(reqs[0].options.resource_version, None, "a consistent read");
        assert!(inf.poll(at(5)).is_empty(), "one list in flight at a time");
        inf.on_response(at(10), list(vec![cm("a", 5)], 7));
        let reqs = inf.poll(at(10));
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].verb, Verb::Watch);
        assert_eq!(reqs[0].options.resource_version.as_deref(), Some("7"));
        assert!(reqs[0].options.allow_bookmarks);
        assert!(matches!(
            inf.state(),
            State::Watching {
                resource_version: 7,
                ..
            }
        ));
        assert_eq!((inf.lists_sent(), inf.watches_sent()), (1, 1));
    }

    #[test]
    fn the_requests_carry_the_informers_filter() {
        let mut inf = Informer::new(
            InformerConfig::new(KindId::Pod)
                .with_label_selector("app=web")
                .with_field_selector("spec.nodeName=worker-1"),
            Credential::BearerToken("t".into()),
        )
        .expect("a valid config");
        let r = inf.poll(at(0)).remove(0);
        assert_eq!(r.namespace, None);
        assert_eq!(r.options.label_selector.as_deref(), Some("app=web"));
        assert_eq!(
            r.options.field_selector.as_deref(),
            Some("spec.nodeName=worker-1")
        );
        assert_eq!(r.credential, Credential::BearerToken("t".into()));
    }

    #[test]
    fn the_first_list_adds_every_object_and_reports_synced_once() {
        let mut inf = informer();
        inf.poll(at(0));
        assert!(!inf.store().has_synced());
        let got = inf.on_response(at(1), list(vec![cm("a", 3), cm("b", 4)], 9));
        assert_eq!(describe(&got), ["add default/a", "add default/b", "synced"]);
        assert!(inf.store().has_synced());
        assert_eq!(inf.store().resource_version(), Some(9));
        assert_eq!(
            inf.store().keys().collect::<Vec<_>>(),
            ["default/a", "default/b"]
        );
        // A relist does not report Synced again.
        inf.poll(at(1));
        inf.on_response(at(2), ApiResponse::WatchClosed(ApiError::gone("x")));
        inf.poll(at(1_000));
        let got = inf.on_response(at(1_001), list(vec![cm("a", 3), cm("b", 4)], 12));
        assert!(describe(&got).is_empty(), "{got:?}");
        assert!(inf.store().has_synced());
    }

    #[test]
    fn watch_events_add_update_and_delete_objects_in_the_store() {
        let mut inf = watching(vec![cm("a", 3)], 3);
        let mut got = inf.on_response(at(3), event(WatchEventType::Added, Some(cm("b", 4)), 4));
        got.extend(inf.on_response(at(4), event(WatchEventType::Modified, Some(cm("a", 5)), 5)));
        got.extend(inf.on_response(at(5), event(WatchEventType::Deleted, Some(cm("b", 6)), 6)));
        assert_eq!(
            describe(&got),
            ["add default/b", "update default/a 3->5", "delete default/b"]
        );
        assert_eq!(inf.store().keys().collect::<Vec<_>>(), ["default/a"]);
        assert_eq!(inf.store().get("default/a"), Some(&cm("a", 5)));
        assert_eq!(inf.store().resource_version(), Some(6));
        let Some(Notification::Delete { object, .. }) = got.last() else {
            panic!("{got:?}")
        };
        assert_eq!(object.resource_version(), Some("6"), "the final state");
    }

    #[test]
    fn a_bookmark_advances_the_resource_version_without_notifying() {
        let mut inf = watching(vec![cm("a", 3)], 3);
        let got = inf.on_response(at(3), event(WatchEventType::Bookmark, None, 40));
        assert!(got.is_empty());
        assert_eq!(inf.store().resource_version(), Some(40));
        assert!(matches!(
            inf.state(),
            State::Watching {
                resource_version: 40,
                ..
            }
        ));
        assert_eq!(inf.store().len(), 1);
    }

    #[test]
    fn a_relist_reports_what_changed_while_the_informer_was_disconnected() {
        let mut inf = watching(vec![cm("a", 3), cm("b", 4), cm("c", 5)], 5);
        inf.on_response(
            at(10),
            ApiResponse::WatchClosed(ApiError::service_unavailable("reset")),
        );
        assert!(inf.poll(at(500)).is_empty(), "backing off");
        assert_eq!(inf.poll(at(810)).remove(0).verb, Verb::List);
        // While disconnected: b was deleted, c changed, d appeared; a is as it was.
        let got = inf.on_response(at(811), list(vec![cm("a", 3), cm("c", 8), cm("d", 9)], 9));
        assert_eq!(
            describe(&got),
            [
                "update default/c 5->8",
                "add default/d",
                "delete default/b (unknown)"
            ]
        );
        assert_eq!(
            inf.store().keys().collect::<Vec<_>>(),
            ["default/a", "default/c", "default/d"]
        );
        assert_eq!(inf.store().resource_version(), Some(9));
    }

    #[test]
    fn a_gone_watch_sends_the_informer_back_to_list_after_the_initial_backoff() {
        let mut inf = informer();
        inf.poll(at(0));
        inf.on_response(at(1), list(vec![cm("a", 3)], 3));
        inf.poll(at(1));
        let gone = ApiError::gone("too old resource version: 3 (50)");
        inf.on_response(at(2), ApiResponse::Error(gone.clone()));
        assert!(matches!(inf.state(), State::BackingOff { until } if *until == at(802)));
        assert_eq!(inf.last_error(), Some(&InformerError::WatchFailed(gone)));
        assert!(matches!(
            inf.last_error(),
            Some(InformerError::WatchFailed(e)) if e.reason == Reason::Gone
        ));
        assert_eq!(inf.next_wakeup(), Some(at(802)));
        assert!(inf.poll(at(801)).is_empty());
        assert_eq!(inf.poll(at(802)).remove(0).verb, Verb::List);
        assert_eq!(inf.lists_sent(), 2);
        assert_eq!(inf.store().len(), 1, "the cache is kept until the relist");
    }

    #[test]
    fn repeated_failures_back_off_exponentially_up_to_thirty_seconds() {
        let mut inf = informer();
        let mut now = at(0);
        let mut delays = Vec::new();
        for _ in 0..9 {
            assert_eq!(inf.poll(now).len(), 1);
            inf.on_response(now, ApiResponse::Error(ApiError::service_unavailable("no")));
            let State::BackingOff { until } = *inf.state() else {
                panic!("{:?}", inf.state())
            };
            delays.push(until.saturating_since(now).as_millis());
            now = until;
        }
        assert_eq!(
            delays,
            [800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000, 30_000]
        );
        assert!(matches!(
            inf.last_error(),
            Some(InformerError::ListFailed(_))
        ));
    }

    #[test]
    fn the_backoff_starts_again_after_two_minutes_without_a_failure() {
        let mut inf = watching(vec![], 1);
        let closed = || ApiResponse::WatchClosed(ApiError::service_unavailable("reset"));
        inf.on_response(at(10), closed());
        inf.poll(at(810));
        inf.on_response(at(811), list(vec![], 2));
        inf.poll(at(811));
        // A short-lived watch: the next failure backs off longer.
        inf.on_response(at(5_000), closed());
        assert!(matches!(inf.state(), State::BackingOff { until } if *until == at(6_600)));
        inf.poll(at(6_600));
        inf.on_response(at(6_601), list(vec![], 3));
        inf.poll(at(6_601));
        inf.on_response(at(6_602), ApiResponse::WatchStarted);
        // A healthy watch, more than two minutes after the last failure.
        let later = at(5_000 + 120_000);
        inf.on_response(later, closed());
        assert!(
            matches!(inf.state(), State::BackingOff { until } if *until == later + BACKOFF_INITIAL)
        );
    }

    #[test]
    fn a_list_that_gets_no_answer_times_out_and_is_retried() {
        let mut inf = informer();
        inf.poll(at(0));
        assert_eq!(inf.next_wakeup(), Some(at(60_000)));
        assert!(inf.poll(at(59_999)).is_empty());
        assert!(inf.poll(at(60_000)).is_empty(), "backing off first");
        assert_eq!(
            inf.last_error(),
            Some(&InformerError::Timeout {
                verb: "list",
                timeout: DEFAULT_REQUEST_TIMEOUT
            })
        );
        assert_eq!(inf.poll(at(60_800)).remove(0).verb, Verb::List);
    }

    #[test]
    fn a_watch_that_is_never_acknowledged_times_out_but_an_open_one_does_not() {
        let mut inf = informer();
        inf.poll(at(0));
        inf.on_response(at(1), list(vec![], 1));
        inf.poll(at(1));
        assert_eq!(inf.next_wakeup(), Some(at(60_001)));
        inf.poll(at(60_001));
        assert!(matches!(
            inf.last_error(),
            Some(InformerError::Timeout { verb: "watch", .. })
        ));
        let mut open = watching(vec![], 1);
        assert_eq!(open.next_wakeup(), None);
        assert!(open.poll(at(3_600_000)).is_empty());
        assert!(matches!(open.state(), State::Watching { .. }));
    }

    #[test]
    fn periodic_resync_reports_every_cached_object_as_an_update_of_itself() {
        let mut inf = Informer::new(
            InformerConfig::new(KindId::ConfigMap).with_resync_period(SimDuration::from_secs(30)),
            Credential::None,
        )
        .expect("a valid config");
        assert!(
            inf.resync(at(0)).is_empty(),
            "nothing before the first list"
        );
        inf.poll(at(0));
        inf.on_response(at(1_000), list(vec![cm("a", 3), cm("b", 4)], 4));
        assert_eq!(inf.next_wakeup(), Some(SimTime::ZERO), "the watch is due");
        inf.poll(at(1_000));
        inf.on_response(at(1_001), ApiResponse::WatchStarted);
        assert_eq!(inf.next_wakeup(), Some(at(31_000)));
        assert!(inf.resync(at(30_999)).is_empty());
        let got = inf.resync(at(31_000));
        assert_eq!(
            describe(&got),
            ["update default/a 3->3", "update default/b 4->4"]
        );
        assert!(inf.resync(at(31_001)).is_empty());
        assert_eq!(inf.next_wakeup(), Some(at(61_000)));
    }

    #[test]
    fn an_informer_without_resync_never_resyncs() {
        let mut inf = watching(vec![cm("a", 3)], 3);
        assert!(inf.resync(at(10_000_000)).is_empty());
    }

    #[test]
    fn answers_the_informer_did_not_ask_for_are_ignored() {
        let mut inf = informer();
        assert!(inf
            .on_response(at(0), event(WatchEventType::Added, Some(cm("a", 1)), 1))
            .is_empty());
        inf.poll(at(0));
        // An event from an old watch while listing.
        assert!(inf
            .on_response(at(1), event(WatchEventType::Added, Some(cm("x", 1)), 1))
            .is_empty());
        assert!(inf.on_response(at(1), ApiResponse::WatchStarted).is_empty());
        // A list of another kind.
        let other = ApiResponse::List {
            kind: KindId::Secret,
            items: vec![],
            resource_version: 1,
        };
        assert!(inf.on_response(at(1), other).is_empty());
        assert!(matches!(inf.state(), State::Listing { .. }));
        inf.on_response(at(2), list(vec![cm("a", 1)], 1));
        inf.poll(at(2));
        // A list while watching.
        assert!(inf.on_response(at(3), list(vec![], 9)).is_empty());
        assert_eq!(inf.store().len(), 1);
        assert!(inf.store().is_empty().eq(&false));
    }

    #[test]
    fn an_event_older_than_the_cached_object_does_not_go_back_in_time() {
        let mut inf = watching(vec![], 1);
        inf.on_response(at(3), event(WatchEventType::Modified, Some(cm("a", 7)), 7));
        let got = inf.on_response(at(4), event(WatchEventType::Added, Some(cm("a", 5)), 5));
        assert!(got.is_empty());
        assert_eq!(inf.store().get("default/a"), Some(&cm("a", 7)));
        assert_eq!(inf.store().resource_version(), Some(7));
    }

    #[test]
    fn a_delete_of_an_object_never_seen_is_not_reported() {
        let mut inf = watching(vec![], 1);
        let got = inf.on_response(at(3), event(WatchEventType::Deleted, Some(cm("a", 2)), 2));
        assert!(got.is_empty());
    }

    #[test]
    fn an_added_event_for_a_cached_object_is_an_update() {
        let mut inf = watching(vec![cm("a", 1)], 1);
        let got = inf.on_response(at(3), event(WatchEventType::Added, Some(cm("a", 2)), 2));
        assert_eq!(describe(&got), ["update default/a 1->2"]);
    }

    #[test]
    fn cluster_scoped_objects_are_keyed_by_name() {
        let ns = Rc::new(Object::Namespace(Box::new(Namespace {
            metadata: ObjectMeta {
                name: Some("demo".into()),
                resource_version: Some("3".into()),
                ..Default::default()
            },
            ..Default::default()
        })));
        let mut inf = Informer::new(InformerConfig::new(KindId::Namespace), Credential::None)
            .expect("a valid config");
        let r = inf.poll(at(0)).remove(0);
        assert_eq!(r.path(), "/api/v1/namespaces");
        let got = inf.on_response(
            at(1),
            ApiResponse::List {
                kind: KindId::Namespace,
                items: vec![ns.clone()],
                resource_version: 3,
            },
        );
        assert_eq!(got[0].key().as_deref(), Some("demo"));
        assert_eq!(got[1].key(), None);
        assert_eq!(inf.store().get("demo"), Some(&ns));
        assert_eq!(inf.store().list(), vec![ns]);
    }

    #[test]
    fn an_invalid_label_selector_is_rejected() {
        let err = Informer::new(
            InformerConfig::new(KindId::Pod).with_label_selector("app in (web"),
            Credential::None,
        )
        .err();
        assert!(
            matches!(err, Some(InformerError::InvalidLabelSelector { ref selector, .. }) if selector == "app in (web"),
            "{err:?}"
        );
    }

    #[test]
    fn an_invalid_field_selector_is_rejected() {
        let err = Informer::new(
            InformerConfig::new(KindId::Pod).with_field_selector("spec.nodeName"),
            Credential::None,
        )
        .err();
        assert_eq!(
            err,
            Some(InformerError::InvalidFieldSelector("spec.nodeName".into()))
        );
    }

    #[test]
    fn a_namespace_on_a_cluster_scoped_kind_is_rejected() {
        let err = Informer::new(
            InformerConfig::new(KindId::Node).in_namespace("default"),
            Credential::None,
        )
        .err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("Node is cluster-scoped: an informer for it cannot be limited to namespace \"default\"")
        );
    }

    #[test]
    fn a_resync_period_under_a_second_is_rejected() {
        let err = Informer::new(
            InformerConfig::new(KindId::Pod).with_resync_period(SimDuration::from_millis(500)),
            Credential::None,
        )
        .err();
        assert_eq!(
            err,
            Some(InformerError::ResyncTooShort(SimDuration::from_millis(500)))
        );
    }

    #[test]
    fn a_zero_request_timeout_is_rejected() {
        let err = Informer::new(
            InformerConfig::new(KindId::Pod).with_request_timeout(SimDuration::ZERO),
            Credential::None,
        )
        .err();
        assert_eq!(err, Some(InformerError::ZeroRequestTimeout));
    }
}
