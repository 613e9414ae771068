//! An informer driven against a real simulated cluster: its store converges
//! to what kubectl writes, across a crash of the API server its watch is
//! pinned to, and after a watch from a resourceVersion the API server's watch
//! cache no longer holds (410 Gone).
//!
//! The test plays the informer's owner: it sends what `poll` asks through
//! the load balancer as kubectl's machine, remembers the id of the latest
//! request, and feeds that request's answers back.

use kubesim::api::{decode, KindId, Object, Reason};
use kubesim::apiserver::{ApiRequest, ApiResponse, Verb};
use kubesim::client::{Informer, InformerConfig, InformerError, InformerState, Notification};
use kubesim::shell::FaultKind;
use kubesim::{Cluster, SimDuration, Topology};

/// An informer and the id of its latest request.
struct Owner {
    informer: Informer,
    current: Option<u64>,
    heard: Vec<Notification>,
}

impl Owner {
    fn new(cluster: &Cluster) -> Owner {
        let config = InformerConfig::new(KindId::ConfigMap).in_namespace("default");
        Owner {
            informer: Informer::new(config, cluster.admin_credential()).expect("a valid config"),
            current: None,
            heard: Vec::new(),
        }
    }

    /// Sends what the informer asks for and feeds back what has arrived.
    fn pump(&mut self, cluster: &mut Cluster) {
        loop {
            let now = cluster.now();
            let requests = self.informer.poll(now);
            let sent = !requests.is_empty();
            for r in requests {
                if let Some(old) = self.current.take() {
                    cluster.cancel(old);
                }
                self.current = Some(cluster.submit(r));
            }
            let replies = self
                .current
                .map(|id| cluster.take_replies(id))
                .unwrap_or_default();
            let got = !replies.is_empty();
            for reply in replies {
                let heard = self.informer.on_response(now, reply);
                self.heard.extend(heard);
            }
            let resynced = self.informer.resync(now);
            self.heard.extend(resynced);
            if !sent && !got {
                return;
            }
        }
    }

    /// Runs the cluster for `d`, pumping every 10 ms of virtual time.
    fn run(&mut self, cluster: &mut Cluster, d: SimDuration) {
        let end = cluster.now() + d;
        while cluster.now() < end {
            cluster.advance(SimDuration::from_millis(10));
            self.pump(cluster);
        }
    }

    fn heard(&self) -> Vec<String> {
        self.heard
            .iter()
            .map(|n| match n {
                Notification::Add(o) => format!("add {}", o.key()),
                Notification::Update { new, .. } => format!("update {}", new.key()),
                Notification::Delete {
                    object,
                    final_state_unknown: false,
                } => format!("delete {}", object.key()),
                Notification::Delete { object, .. } => format!("delete {} (unknown)", object.key()),
                Notification::Synced => "synced".into(),
            })
            .collect()
    }

    /// The store as (key, resourceVersion) pairs.
    fn cached(&self) -> Vec<(String, String)> {
        self.informer
            .store()
            .list()
            .iter()
            .map(|o| {
                (
                    o.key(),
                    o.resource_version().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

/// The informer watches the ConfigMaps of `default`: the root CA
/// publisher, which would add `kube-root-ca.crt` there, is turned off
/// (`--controllers=*,-root-ca-certificate-publisher-controller`).
fn booted(seed: u64) -> Cluster {
    let topology = Topology::builder()
        .disable_controller("root-ca-certificate-publisher-controller")
        .build()
        .expect("a valid topology");
    let mut c = Cluster::new(topology, seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    c
}

fn config_map(name: &str, value: &str) -> Object {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  value: \"{value}\"\n"
    );
    decode(&text, "STDIN").expect("a valid manifest").remove(0)
}

/// Sends a kubectl request until it succeeds (a request routed to a crashed
/// API server fails once the load balancer notices).
fn kubectl(c: &mut Cluster, request: ApiRequest) -> ApiResponse {
    for _ in 0..10 {
        match c.call(request.clone()) {
            ApiResponse::Error(e) if e.reason == Reason::ServiceUnavailable => continue,
            ApiResponse::Error(e) if e.reason == Reason::Timeout => continue,
            other => return other,
        }
    }
    panic!("{request} kept failing")
}

fn create(c: &mut Cluster, name: &str, value: &str) {
    let r = ApiRequest::new(Verb::Create, KindId::ConfigMap, c.admin_credential())
        .in_namespace("default")
        .with_body(config_map(name, value));
    let got = kubectl(c, r);
    assert!(
        matches!(got, ApiResponse::Object(_)),
        "create {name}: {got:?}"
    );
}

fn update(c: &mut Cluster, name: &str, value: &str) {
    let r = ApiRequest::new(Verb::Update, KindId::ConfigMap, c.admin_credential())
        .in_namespace("default")
        .named(name)
        .with_body(config_map(name, value));
    let got = kubectl(c, r);
    assert!(
        matches!(got, ApiResponse::Object(_)),
        "update {name}: {got:?}"
    );
}

fn delete(c: &mut Cluster, name: &str) {
    let r = ApiRequest::new(Verb::Delete, KindId::ConfigMap, c.admin_credential())
        .in_namespace("default")
        .named(name);
    let got = kubectl(c, r);
    assert!(
        matches!(got, ApiResponse::Deleted(_) | ApiResponse::Object(_)),
        "delete {name}: {got:?}"
    );
}

/// What a fresh `kubectl get configmaps -n default` says, as (key,
/// resourceVersion) pairs.
fn listed(c: &mut Cluster) -> Vec<(String, String)> {
    let r = ApiRequest::new(Verb::List, KindId::ConfigMap, c.admin_credential())
        .in_namespace("default");
    match kubectl(c, r) {
        ApiResponse::List { items, .. } => items
            .iter()
            .map(|o| {
                (
                    o.key(),
                    o.resource_version().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_store_converges_to_the_objects_kubectl_creates_updates_and_deletes() {
    let mut c = booted(11);
    let mut owner = Owner::new(&c);
    owner.run(&mut c, SimDuration::from_secs(1));
    assert!(owner.informer.store().has_synced());
    assert_eq!(owner.heard(), ["synced"]);
    assert!(matches!(
        owner.informer.state(),
        InformerState::Watching { started: true, .. }
    ));

    create(&mut c, "a", "1");
    create(&mut c, "b", "1");
    create(&mut c, "c", "1");
    update(&mut c, "b", "2");
    delete(&mut c, "c");
    owner.run(&mut c, SimDuration::from_secs(1));

    assert_eq!(
        owner.heard(),
        [
            "synced",
            "add default/a",
            "add default/b",
            "add default/c",
            "update default/b",
            "delete default/c"
        ]
    );
    let cached = owner.cached();
    assert_eq!(cached.len(), 2);
    assert_eq!(cached, listed(&mut c));
    assert_eq!(owner.informer.lists_sent(), 1, "no relist was needed");
    assert_eq!(owner.informer.last_error(), None);
}

#[test]
fn a_bookmark_on_a_quiet_watch_advances_the_stores_resource_version() {
    let mut c = booted(12);
    let mut owner = Owner::new(&c);
    owner.run(&mut c, SimDuration::from_secs(1));
    let before = owner.informer.store().resource_version();
    // Writes to other kinds move the cluster's revision; the API server
    // bookmarks quiet watches every minute.
    let ns = decode(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: elsewhere\n",
        "STDIN",
    )
    .expect("a valid manifest")
    .remove(0);
    let r = ApiRequest::new(Verb::Create, KindId::Namespace, c.admin_credential()).with_body(ns);
    assert!(matches!(kubectl(&mut c, r), ApiResponse::Object(_)));
    owner.run(&mut c, SimDuration::from_secs(70));
    assert!(owner.informer.store().resource_version() > before);
    assert_eq!(owner.heard(), ["synced"], "a bookmark notifies nobody");
}

#[test]
fn after_a_crash_of_the_api_server_its_watch_is_pinned_to_the_informer_relists_and_converges() {
    let mut c = booted(21);
    let mut owner = Owner::new(&c);
    owner.run(&mut c, SimDuration::from_secs(1));
    create(&mut c, "a", "1");
    create(&mut c, "b", "1");
    owner.run(&mut c, SimDuration::from_secs(1));
    assert_eq!(owner.cached().len(), 2);

    // The API server holding the informer's watch crashes.
    let pinned = owner
        .current
        .and_then(|id| c.kubectl_backend(id))
        .expect("one API server holds the watch");
    c.fault(&pinned, FaultKind::Crash)
        .expect("the crash applies");

    // While the informer is cut off: a is deleted, b changed, d created.
    delete(&mut c, "a");
    update(&mut c, "b", "2");
    create(&mut c, "d", "1");
    owner.run(&mut c, SimDuration::from_secs(30));

    // The crash resets the connection: the load balancer ends the watch
    // with 503, as a closed stream or a failed request; a relist that
    // reached the dead instance before the health checks took it out of
    // rotation may be the last 503 seen.
    assert!(
        matches!(
            owner.informer.last_error(),
            Some(InformerError::WatchClosed(e) | InformerError::WatchFailed(e) | InformerError::ListFailed(e))
                if e.reason == Reason::ServiceUnavailable
        ),
        "{:?}",
        owner.informer.last_error()
    );
    // It relists; a relist sent to the dead instance before the balancer's
    // health checks take it out of rotation (3 failed checks, 2 s apart)
    // fails and is retried, a handful of times at most.
    assert!(
        (2..=6).contains(&owner.informer.lists_sent()),
        "relisted: {}",
        owner.informer.lists_sent()
    );
    assert!(matches!(
        owner.informer.state(),
        InformerState::Watching { started: true, .. }
    ));
    let heard = owner.heard();
    assert!(
        heard.contains(&"delete default/a (unknown)".to_string()),
        "{heard:?}"
    );
    assert!(heard.contains(&"update default/b".to_string()), "{heard:?}");
    assert!(heard.contains(&"add default/d".to_string()), "{heard:?}");
    assert_eq!(owner.cached(), listed(&mut c));

    // The new watch works: later changes arrive as events.
    create(&mut c, "e", "1");
    owner.run(&mut c, SimDuration::from_secs(1));
    assert_eq!(
        owner.heard().last().map(String::as_str),
        Some("add default/e")
    );
    assert_eq!(owner.cached(), listed(&mut c));
}

#[test]
fn a_watch_from_a_resource_version_the_watch_cache_no_longer_holds_is_gone_and_the_informer_relists(
) {
    let mut c = booted(31);
    let mut owner = Owner::new(&c);
    // The list only: the informer is between its list and its watch.
    let list = owner.informer.poll(c.now()).remove(0);
    let reply = c.call(list);
    let heard = owner.informer.on_response(c.now(), reply);
    assert_eq!(heard, [Notification::Synced]);
    let InformerState::Listed { resource_version } = *owner.informer.state() else {
        panic!("{:?}", owner.informer.state())
    };

    // The cluster moves on, and every API server restarts: their watch
    // caches start again from the current revision, newer than the list.
    create(&mut c, "late", "1");
    for s in c.apiserver_status() {
        c.fault(&s.name, FaultKind::Crash)
            .expect("the crash applies");
    }
    c.heal("all").expect("everything heals");
    assert!(
        c.boot(SimDuration::from_secs(60)),
        "the API servers come back"
    );
    assert!(c
        .apiserver_status()
        .iter()
        .all(|s| s.cache_revision > resource_version));

    owner.run(&mut c, SimDuration::from_secs(5));
    assert!(
        matches!(
            owner.informer.last_error(),
            Some(InformerError::WatchFailed(e)) if e.reason == Reason::Gone
        ),
        "{:?}",
        owner.informer.last_error()
    );
    assert_eq!(owner.informer.lists_sent(), 2, "the 410 made it list again");
    assert!(matches!(
        owner.informer.state(),
        InformerState::Watching { started: true, .. }
    ));
    assert_eq!(owner.heard(), ["add default/late"]);
    assert_eq!(owner.cached(), listed(&mut c));
}
