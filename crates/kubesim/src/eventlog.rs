//! The cluster's event log, as `kubectl get events -w` shows it: the
//! Kubernetes Events the components record (`Scheduled`, `Pulled`,
//! `Started`, `SuccessfulCreate`, `NodeNotReady`, `FailedScheduling` ...),
//! newest first, filtered by the object they are about and by the component
//! that reported them.
//!
//! In Kubernetes, components record events through client-go's event
//! recorder (`k8s.io/client-go/tools/record`), which writes `v1.Event`
//! objects to the API server and merges repeats into one event with a
//! `count`; `kubectl get events` lists them with the columns LAST SEEN,
//! TYPE, REASON, OBJECT and MESSAGE (`-o wide` adds SOURCE, COUNT ...).
//!
//! Read as an observer, like the inspector ([`Cluster::observe_all`]): the
//! log sends no request and never changes the run. Left out: the
//! `events.k8s.io/v1` series fields (the simulation's components write
//! core `v1` events, as `kubectl` reads them).

use crate::api::{print, time, KindId, Object};
use crate::cluster::Cluster;
use crate::world::{SimDuration, SimTime};
use serde::Serialize;
use std::collections::BTreeSet;

/// One row of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEvent {
    /// The Event object's `namespace/name`, stable across its repeats.
    pub key: String,
    /// Its `resourceVersion`: the order the API server stored the writes
    /// in, finer than the timestamps' seconds.
    pub revision: u64,
    /// When it last happened.
    pub last_seen: SimTime,
    /// `Normal` or `Warning`.
    pub kind: String,
    pub reason: String,
    /// The object it is about, as kubectl's OBJECT column prints it
    /// (`pod/web-7c5d9f-x2x7q`, `node/worker-1`).
    pub object: String,
    /// That object's namespace (empty for cluster-scoped ones).
    pub namespace: String,
    /// The component that reported it (`source.component`, or
    /// `reportingComponent`): `default-scheduler`, `kubelet`,
    /// `replicaset-controller` ...
    pub source: String,
    /// The node of a kubelet's event (`source.host`).
    pub host: String,
    /// How many times it happened (repeats are merged, as client-go does).
    pub count: i32,
    pub message: String,
}

impl LogEvent {
    /// LAST SEEN as kubectl prints it at `now` (`5s`, `2m3s`).
    pub fn age(&self, now: SimTime) -> String {
        print::human_duration(SimDuration(
            now.as_millis().saturating_sub(self.last_seen.as_millis()),
        ))
    }
}

/// Which events to show: everything when both are empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Part of the object's name, kind or namespace (`web`, `pod/`,
    /// `kube-system/`), case-insensitive.
    pub object: String,
    /// A component, exactly (`kubelet`); empty for all.
    pub source: String,
}

impl EventQuery {
    /// The object filter as compared: trimmed and lower-case (made once
    /// per listing, not per event).
    fn needle(&self) -> String {
        self.object.trim().to_ascii_lowercase()
    }

    fn matches(&self, needle: &str, e: &LogEvent) -> bool {
        (self.source.is_empty() || e.source == self.source)
            && (needle.is_empty() || {
                let qualified = format!("{}/{}", e.namespace, e.object).to_ascii_lowercase();
                qualified.contains(needle)
            })
    }
}

/// The log at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventLogView {
    /// The newest events that match, newest first, at most the limit asked.
    pub rows: Vec<LogEvent>,
    /// How many events match.
    pub matched: usize,
    /// How many events the cluster holds.
    pub total: usize,
    /// Every reporting component, for the filter's choices.
    pub sources: Vec<String>,
}

fn row(event: &k8s_openapi::api::core::v1::Event) -> LogEvent {
    let meta = &event.metadata;
    let involved = &event.involved_object;
    let last_seen = event
        .last_timestamp
        .as_ref()
        .or(event.first_timestamp.as_ref())
        .map(time::to_sim_time)
        .or_else(|| {
            event.event_time.as_ref().map(|t| {
                time::to_sim_time(&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t.0))
            })
        })
        .or_else(|| meta.creation_timestamp.as_ref().map(time::to_sim_time))
        .unwrap_or(SimTime::ZERO);
    let source = event
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| event.reporting_component.clone())
        .unwrap_or_default();
    LogEvent {
        key: format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or("")
        ),
        revision: meta
            .resource_version
            .as_deref()
            .and_then(|rv| rv.parse().ok())
            .unwrap_or(0),
        last_seen,
        kind: event.type_.clone().unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        // kubectl's printer: `strings.ToLower(kind)/name`
        // (pkg/printers/internalversion/printers.go printEvent).
        object: format!(
            "{}/{}",
            involved.kind.as_deref().unwrap_or("").to_ascii_lowercase(),
            involved.name.as_deref().unwrap_or("")
        ),
        namespace: involved.namespace.clone().unwrap_or_default(),
        source,
        host: event
            .source
            .as_ref()
            .and_then(|s| s.host.clone())
            .unwrap_or_default(),
        count: event.count.unwrap_or(1),
        message: event.message.clone().unwrap_or_default(),
    }
}

/// The events the cluster holds that `query` matches: the newest `limit`
/// of them, newest first (within a second, the last written first).
pub fn event_log(cluster: &Cluster, query: &EventQuery, limit: usize) -> EventLogView {
    let events = cluster.observe_all(KindId::Event);
    let needle = query.needle();
    let mut sources = BTreeSet::new();
    let mut matched: Vec<LogEvent> = Vec::new();
    for object in &events {
        let Object::Event(event) = &**object else {
            continue;
        };
        let e = row(event);
        if !e.source.is_empty() {
            sources.insert(e.source.clone());
        }
        if query.matches(&needle, &e) {
            matched.push(e);
        }
    }
    matched.sort_by_key(|e| std::cmp::Reverse((e.last_seen, e.revision)));
    let count = matched.len();
    matched.truncate(limit);
    EventLogView {
        rows: matched,
        matched: count,
        total: events.len(),
        sources: sources.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Session;
    use crate::topology::Topology;

    fn cluster_with_a_deployment() -> Cluster {
        let mut cluster = Cluster::new(Topology::default(), 7);
        cluster.boot(crate::scenario::BOOT_LIMIT);
        let mut shell = Session::new();
        let out = shell.run_script(
            &mut cluster,
            "kubectl create deployment web --image=nginx --replicas=2\nsim advance 30s",
        );
        assert!(out.iter().all(|o| o.ok), "{out:?}");
        cluster
    }

    #[test]
    fn the_log_lists_a_deployments_events_newest_first_with_kubectls_object_names() {
        let cluster = cluster_with_a_deployment();
        let log = event_log(&cluster, &EventQuery::default(), 500);
        assert!(log.total >= log.matched && log.matched == log.rows.len());
        let reasons: BTreeSet<&str> = log.rows.iter().map(|e| e.reason.as_str()).collect();
        for reason in [
            "ScalingReplicaSet",
            "SuccessfulCreate",
            "Scheduled",
            "Pulled",
            "Started",
        ] {
            assert!(reasons.contains(reason), "{reason} in {reasons:?}");
        }
        assert!(
            log.rows
                .windows(2)
                .all(|w| (w[0].last_seen, w[0].revision) > (w[1].last_seen, w[1].revision)),
            "{:?}",
            log.rows
                .iter()
                .map(|e| (e.last_seen, e.revision, &e.reason))
                .collect::<Vec<_>>()
        );
        // Within a second, as they were written: a pod's Started is the
        // newest of its events, its Scheduled the oldest.
        let pod = log
            .rows
            .iter()
            .find(|e| e.reason == "Started")
            .map(|e| e.object.clone());
        let order: Vec<&str> = log
            .rows
            .iter()
            .filter(|e| Some(&e.object) == pod.as_ref())
            .map(|e| e.reason.as_str())
            .collect();
        assert_eq!(order.first(), Some(&"Started"), "{order:?}");
        assert_eq!(order.last(), Some(&"Scheduled"), "{order:?}");
        let scaled = log
            .rows
            .iter()
            .find(|e| e.reason == "ScalingReplicaSet")
            .expect("the deployment's event");
        assert_eq!(scaled.object, "deployment/web");
        assert_eq!(scaled.source, "deployment-controller");
        assert_eq!(scaled.namespace, "default");
        let started = log
            .rows
            .iter()
            .find(|e| e.reason == "Started")
            .expect("a start");
        assert!(started.object.starts_with("pod/web-"), "{started:?}");
        assert_eq!(started.source, "kubelet");
        assert!(!started.host.is_empty(), "a kubelet names its node");
        for source in [
            "default-scheduler",
            "deployment-controller",
            "kubelet",
            "replicaset-controller",
        ] {
            assert!(
                log.sources.iter().any(|s| s == source),
                "{source} in {:?}",
                log.sources
            );
        }
    }

    #[test]
    fn the_log_filters_by_object_and_by_component() {
        let cluster = cluster_with_a_deployment();
        let by_component = event_log(
            &cluster,
            &EventQuery {
                object: String::new(),
                source: "default-scheduler".into(),
            },
            500,
        );
        assert!(by_component
            .rows
            .iter()
            .all(|e| e.source == "default-scheduler"));
        // Both filters: the scheduler's events about the Deployment's pods
        // (CoreDNS's pods waited for the nodes, so kube-system has more).
        let both = event_log(
            &cluster,
            &EventQuery {
                object: "default/pod/web-".into(),
                source: "default-scheduler".into(),
            },
            500,
        );
        assert_eq!(both.matched, 2, "{:?}", both.rows);
        assert!(both.rows.iter().all(|e| e.reason == "Scheduled"
            && e.message.starts_with("Successfully assigned default/web-")));
        assert!(by_component.matched > both.matched);
        let by_object = event_log(
            &cluster,
            &EventQuery {
                object: "Deployment/WEB".into(),
                source: String::new(),
            },
            500,
        );
        assert!(by_object.matched >= 1);
        assert!(by_object.rows.iter().all(|e| e.object == "deployment/web"));
        let namespaced = event_log(
            &cluster,
            &EventQuery {
                object: "kube-system/".into(),
                source: String::new(),
            },
            500,
        );
        assert!(namespaced.rows.iter().all(|e| e.namespace == "kube-system"));
        let limited = event_log(&cluster, &EventQuery::default(), 3);
        assert_eq!(limited.rows.len(), 3);
        assert!(limited.matched > 3);
    }

    #[test]
    fn an_events_age_is_printed_as_kubectl_prints_it() {
        let e = LogEvent {
            key: "default/x".into(),
            revision: 1,
            last_seen: SimTime::from_millis(1_000),
            kind: "Normal".into(),
            reason: "Started".into(),
            object: "pod/x".into(),
            namespace: "default".into(),
            source: "kubelet".into(),
            host: "worker-1".into(),
            count: 1,
            message: String::new(),
        };
        assert_eq!(e.age(SimTime::from_millis(6_000)), "5s");
        assert_eq!(e.age(SimTime::from_millis(1_000 + 125_000)), "2m5s");
    }
}
