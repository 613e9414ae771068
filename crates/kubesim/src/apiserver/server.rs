//! One kube-apiserver instance as a pure state machine.
//!
//! Every request goes through the pipeline of the real server
//! (`staging/src/k8s.io/apiserver/pkg/server/handler.go` and
//! `endpoints/handlers`): authentication, impersonation, authorization
//! (`--authorization-mode=Node,RBAC`, with `system:masters` always
//! allowed), admission (defaulting, NamespaceLifecycle, ServiceAccount,
//! DefaultTolerationSeconds), then the registry, which stores the object in
//! etcd with optimistic concurrency (`storage/etcd3/store.go`): a create is
//! an etcd transaction "if the key does not exist, put", an update "if the
//! key's mod_revision is still the one read, put", so a stale write gets
//! `409 Conflict`. Reads without a resourceVersion are quorum reads from
//! etcd; reads at `resourceVersion=0` and every watch are served from the
//! instance's watch cache, fed by one etcd watch on `/registry/`.
//!
//! Like the real server, an instance talks only to its own etcd member
//! (kubeadm's stacked topology: `--etcd-servers=https://127.0.0.1:2379`);
//! followers forward proposals to the raft leader. An etcd request that gets
//! no answer within etcd's request timeout (7 s: 5 s plus two election
//! timeouts) fails with `504`. `/readyz` fails while the watch cache is not
//! synced with etcd, which is what the load balancer's health check sees.
//!
//! Post-start hooks create, if absent, what every cluster has: the
//! `default`, `kube-system`, `kube-public` and `kube-node-lease`
//! namespaces, the `kubernetes` Service, the system PriorityClasses and the
//! bootstrap RBAC policy. Each instance keeps its identity Lease
//! (`apiserver-<hash>` in kube-system) renewed every 10 s with a 3600 s
//! duration, and once an hour deletes identity Leases that expired
//! (`pkg/controlplane/apiserver/...`, the `apiserver_identity` feature).
//!
//! Left out: HTTP/2 and protobuf, API priority and fairness, audit,
//! server-side apply (kubectl's apply is client-side here), field
//! selectors beyond `metadata.name` and `spec.nodeName`, paging, and
//! admission webhooks.

use super::admission::{self, NamespaceState, SYSTEM_NAMESPACES};
use super::auth::authn::{Authenticator, Credential};
use super::auth::user::{UserInfo, SYSTEM_PRIVILEGED_GROUP};
use super::auth::{Authorizer, Decision, RequestAttributes};
use super::fields;
use super::registry;
use super::request::{ApiRequest, ApiResponse, Propagation, Verb, WatchEvent, WatchEventType};
use super::selector::Selector;
use super::watchcache::{Filter, WatchCache};
use crate::api::time::to_time;
use crate::api::{ApiError, KindId, Object};
use crate::etcd::member::MemberId;
use crate::etcd::member::{
    ClientId, EtcdError, Output as EtcdOutput, Request as EtcdRequest, Response as EtcdResponse,
    WatchId,
};
use crate::etcd::mvcc::{Compare, CompareResult, KeyRange, RangeRequest, RequestOp, TxnRequest};
use crate::kubelet::server::{KubeletRequest, KubeletResponse, StreamInput};
use crate::world::{SimDuration, SimRng, SimTime};
use k8s_openapi::api::coordination::v1 as coordination;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

mod eviction;
mod podclient;
mod tokenrequest;
pub use eviction::VIOLATES_BUDGET;

/// A component address on the simulated network.
pub type Addr = Rc<str>;

/// etcd's request timeout as the API server sees it: 5 s + 2 × 1 s election.
pub const ETCD_REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(7);
/// How often the instance renews its identity Lease.
pub const IDENTITY_LEASE_RENEW: SimDuration = SimDuration::from_secs(10);
/// The identity Lease's duration.
pub const IDENTITY_LEASE_DURATION_SECONDS: i32 = 3600;
/// How often expired identity Leases are collected.
pub const IDENTITY_LEASE_GC: SimDuration = SimDuration::from_secs(3600);
/// How often the instance wakes up for its timers.
pub const TICK: SimDuration = SimDuration::from_millis(250);
/// How long the API server waits for a kubelet to answer a proxied call
/// (the dial and TLS handshake time out after 30 s).
pub const KUBELET_TIMEOUT: SimDuration = SimDuration::from_secs(30);
/// How often the etcd readiness check runs, and how long it may take
/// (`--etcd-healthcheck-timeout`, 2 s).
pub const ETCD_HEALTH_EVERY: SimDuration = SimDuration::from_secs(1);
pub const ETCD_HEALTH_TIMEOUT: SimDuration = SimDuration::from_secs(2);
/// How often the instance asks etcd to compact its history
/// (`--etcd-compaction-interval`, `storagebackend.DefaultCompactInterval`).
pub const COMPACTION_INTERVAL: SimDuration = SimDuration::from_secs(5 * 60);
/// The key whose version the instances use as the compaction's logical
/// clock and whose value is the last compacted revision
/// (`storage/etcd3/compact.go` `compactRevKey`).
pub const COMPACT_REV_KEY: &str = "compact_rev_key";
/// How long a watch from a resourceVersion the watch cache has not reached
/// yet waits for it (`blockTimeout` in `storage/cacher/watch_cache.go`).
pub const FRESHNESS_TIMEOUT: SimDuration = SimDuration::from_secs(3);
/// Watches get a bookmark this often (`cacher`'s bookmark frequency).
pub const BOOKMARK_EVERY: SimDuration = SimDuration::from_secs(60);
/// The label every identity Lease carries.
pub const IDENTITY_LABEL: &str = "apiserver.kubernetes.io/identity";
/// The first address of the default service range, the `kubernetes` Service.
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// What the world hands an instance.
#[derive(Clone, Debug)]
pub enum Input {
    /// An API request; the answer goes back to `from` with the same `id`.
    Request {
        from: Addr,
        id: u64,
        request: ApiRequest,
    },
    /// The client closed a watch.
    CancelWatch {
        from: Addr,
        id: u64,
    },
    /// Something from the instance's etcd member.
    Etcd(EtcdOutput),
    /// The load balancer's health check (`GET /readyz`).
    Probe {
        from: Addr,
        id: u64,
    },
    /// A kubelet answered a `pods/log` or `pods/exec` call (`id` is the
    /// operation's).
    KubeletReply {
        id: u64,
        response: KubeletResponse,
    },
    /// The client sent data on an upgraded connection (`pods/portforward`).
    StreamInput {
        from: Addr,
        id: u64,
        input: StreamInput,
    },
    /// Time passed (every [`TICK`]).
    Tick,
    Crash,
    Restart,
}

/// What an instance asks the world to deliver.
#[derive(Clone, Debug)]
pub enum Output {
    Reply {
        to: Addr,
        id: u64,
        response: ApiResponse,
    },
    Etcd {
        member: MemberId,
        request_id: u64,
        request: EtcdRequest,
    },
    ProbeResult {
        to: Addr,
        id: u64,
        ready: bool,
    },
    /// A call to a node's kubelet (`https://<address>/containerLogs/...`),
    /// as the apiserver-kubelet-client.
    Kubelet {
        node: String,
        address: String,
        id: u64,
        request: KubeletRequest,
    },
    /// Data for an open stream to a kubelet.
    KubeletInput {
        node: String,
        address: String,
        id: u64,
        input: StreamInput,
    },
    /// The stream to a kubelet closes (the client went away).
    KubeletClose {
        node: String,
        address: String,
        id: u64,
    },
}

/// The etcd side of the instance: its list-then-watch of `/registry/`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Link {
    Down { retry_at: SimTime },
    Listing { request_id: u64 },
    Watching { watch_id: WatchId },
}

/// What an etcd request in flight is for.
#[derive(Clone, Debug)]
enum Purpose {
    CacheList,
    CacheWatch,
    /// The `/readyz` etcd check: a linearizable read of the key `health`.
    HealthCheck,
    /// A read on behalf of an operation (a get, a list, or the read before
    /// an update or delete).
    Read(u64),
    /// The write of an operation, with the object it will have stored.
    Write(u64, WriteKind),
    /// The compactor's compare-and-swap of `compact_rev_key`.
    CompactTxn,
    /// The compactor's compaction of etcd's history.
    Compact,
}

/// The compactor's state (`storage/etcd3/compact.go` `compactor`): the
/// version of `compact_rev_key` it last saw (the compactions' logical
/// clock), the revision etcd had then, and when it tries next.
#[derive(Clone, Debug)]
struct Compactor {
    time: i64,
    rev: i64,
    next: SimTime,
}

impl Compactor {
    /// A compactor that starts (with the instance) at `now`: its first try
    /// is one interval later.
    fn new(now: SimTime) -> Compactor {
        Compactor {
            time: 0,
            rev: 0,
            next: now + COMPACTION_INTERVAL,
        }
    }
}

#[derive(Clone, Debug)]
enum WriteKind {
    Create(Rc<Object>),
    Put(Rc<Object>),
    Delete(Rc<Object>),
}

/// A request being served.
#[derive(Clone, Debug)]
struct Op {
    reply_to: Option<(Addr, u64)>,
    request: ApiRequest,
    retries: u32,
    /// Who asked (`None` for the server's own loopback requests): the
    /// CertificateSigningRequest strategy records it in the spec.
    user: Option<UserInfo>,
}

/// An open watch.
#[derive(Clone, Debug)]
struct Watcher {
    filter: Filter,
    bookmarks: bool,
    last_sent: SimTime,
    /// The revision the watch started from: only later events are sent
    /// (`cacheWatcher.process`: "only send events newer than resourceVersion").
    from: u64,
}

/// A read-only projection for the page and `sim status`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ApiServerStatus {
    pub name: String,
    pub up: bool,
    pub ready: bool,
    pub etcd_member: MemberId,
    pub cache_revision: u64,
    pub watches: usize,
    pub requests_in_flight: usize,
    pub requests_served: u64,
    pub identity_lease: String,
    /// Why `/readyz` fails, if it does.
    pub not_ready_reason: Option<String>,
}

/// One kube-apiserver.
#[derive(Clone)]
pub struct ApiServer {
    name: String,
    node: String,
    member: MemberId,
    client: ClientId,
    up: bool,
    link: Link,
    cache: WatchCache,
    authorizer: Authorizer,
    next_request: u64,
    next_watch: WatchId,
    etcd: BTreeMap<u64, (Purpose, SimTime)>,
    ops: BTreeMap<u64, Op>,
    next_op: u64,
    watchers: BTreeMap<(Addr, u64), Watcher>,
    /// Watches from a resourceVersion newer than the cache, by operation:
    /// the revision they wait for and until when.
    waiting_fresh: BTreeMap<u64, (u64, SimTime)>,
    /// Pod creates the ServiceAccount admission plugin holds while it looks
    /// for the `default` service account again, by operation: the next
    /// look, the interval, and the looks left.
    waiting_service_account: BTreeMap<u64, (SimTime, SimDuration, u32)>,
    bootstrapped: bool,
    bootstrap_pending: BTreeSet<u64>,
    etcd_healthy: bool,
    next_health_check: SimTime,
    compactor: Compactor,
    lease_name: String,
    lease_holder: String,
    next_lease_renew: SimTime,
    next_lease_gc: SimTime,
    served: u64,
    /// Calls to kubelets in flight, by operation: when they time out and
    /// the URL called.
    kubelet_calls: BTreeMap<u64, (SimTime, String)>,
    /// Upgraded connections proxied to kubelets (`pods/attach`,
    /// `pods/portforward`), by operation: the node and the kubelet's address.
    streams: BTreeMap<u64, (String, String)>,
    /// Whether its egress to the nodes goes through a Konnectivity server
    /// (`--egress-selector-config-file`): a dial the tunnel never answers
    /// fails as konnectivity-client's backstop timer says.
    egress_konnectivity: bool,
    /// Evictions being served (`pods/eviction`).
    evictions: eviction::Evictions,
}

/// What handling an input needs from the world besides the input.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub rng: &'a mut SimRng,
    pub authn: &'a Authenticator,
    /// Objects already decoded from the same etcd bytes (see
    /// [`registry::Decoded`]).
    pub decoded: &'a mut registry::Decoded,
}

/// A short stable hash, for identity Lease names (`apiserver-<hash>`).
fn stable_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn revision_of(object: &Object) -> i64 {
    object
        .resource_version()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}

/// A kubelet's error as the API server passes it on: 404 and 400 keep
/// their meaning; anything else (a failed dial, a kubelet's 5xx) is a Go
/// error, not a `Status`, which `responsewriters.ErrorToAPIStatus` turns
/// into a 500 with no reason (kubectl: `Error from server: ...`), both for
/// `pods/log` (`LocationStreamer.InputStream`) and for the upgrade handler's
/// `error dialing backend: ...` (`proxy.UpgradeAwareHandler` through its
/// `ErrorResponder`).
fn kubelet_error(code: u16, message: String) -> ApiError {
    match code {
        400 => ApiError::bad_request(message),
        404 => ApiError {
            reason: crate::api::Reason::NotFound,
            message,
            details: None,
        },
        _ => ApiError {
            reason: crate::api::Reason::Unknown,
            message,
            details: None,
        },
    }
}

/// Kinds whose status is written only through the `status` subresource.
fn has_status_subresource(kind: KindId) -> bool {
    matches!(
        kind,
        KindId::Pod
            | KindId::Node
            | KindId::Namespace
            | KindId::Service
            | KindId::Deployment
            | KindId::ReplicaSet
            | KindId::StatefulSet
            | KindId::DaemonSet
            | KindId::Job
            | KindId::CronJob
            | KindId::CertificateSigningRequest
            | KindId::PodDisruptionBudget
    )
}

/// Kinds whose `metadata.generation` counts spec changes.
fn has_generation(kind: KindId) -> bool {
    matches!(
        kind,
        KindId::Pod
            | KindId::Deployment
            | KindId::ReplicaSet
            | KindId::StatefulSet
            | KindId::DaemonSet
            | KindId::Job
            | KindId::CronJob
            | KindId::PodDisruptionBudget
    )
}

fn spec_of(object: &Object) -> serde_json::Value {
    let v = object.to_value();
    v.get("spec").cloned().unwrap_or(serde_json::Value::Null)
}

fn etcd_error(e: &EtcdError) -> ApiError {
    match e {
        EtcdError::NoLeader | EtcdError::ProposalDropped => {
            ApiError::service_unavailable(e.to_string())
        }
        EtcdError::Mvcc(m) => ApiError::internal(&m.to_string()),
        other => ApiError::internal(&other.to_string()),
    }
}

impl ApiServer {
    /// The instance `name` on `node`, talking to etcd member `member` as
    /// etcd client `client`.
    pub fn new(name: &str, node: &str, member: MemberId, client: ClientId, now: SimTime) -> Self {
        let hash = stable_hash(node);
        let authorizer = Authorizer::with_cluster_policy().unwrap_or_else(|_| Authorizer::new());
        ApiServer {
            name: name.to_string(),
            node: node.to_string(),
            member,
            client,
            up: true,
            link: Link::Down { retry_at: now },
            cache: WatchCache::default(),
            authorizer,
            next_request: 1,
            next_watch: 1,
            etcd: BTreeMap::new(),
            ops: BTreeMap::new(),
            next_op: 1,
            watchers: BTreeMap::new(),
            waiting_fresh: BTreeMap::new(),
            waiting_service_account: BTreeMap::new(),
            kubelet_calls: BTreeMap::new(),
            streams: BTreeMap::new(),
            egress_konnectivity: false,
            evictions: Default::default(),
            bootstrapped: false,
            bootstrap_pending: BTreeSet::new(),
            etcd_healthy: false,
            next_health_check: now,
            compactor: Compactor::new(now),
            lease_name: format!("apiserver-{}", &hash[..16]),
            lease_holder: format!("apiserver-{}_{}", &hash[..16], &stable_hash(name)[..8]),
            next_lease_renew: now,
            next_lease_gc: now + IDENTITY_LEASE_GC,
            served: 0,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn client_id(&self) -> ClientId {
        self.client
    }

    pub fn member(&self) -> MemberId {
        self.member
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// `/readyz`: up, the watch cache is synced with etcd, and etcd answers
    /// a linearizable read (it has a leader and a quorum).
    pub fn is_ready(&self) -> bool {
        self.up
            && self.etcd_healthy
            && self.cache.synced()
            && matches!(self.link, Link::Watching { .. })
    }

    /// The instance's watch cache (what informers would see from it).
    pub fn cache(&self) -> &WatchCache {
        &self.cache
    }

    pub fn status(&self) -> ApiServerStatus {
        ApiServerStatus {
            name: self.name.clone(),
            up: self.up,
            ready: self.is_ready(),
            etcd_member: self.member,
            cache_revision: self.cache.revision(),
            watches: self.watchers.len(),
            requests_in_flight: self.ops.len(),
            requests_served: self.served,
            identity_lease: self.lease_name.clone(),
            not_ready_reason: if !self.up {
                Some("crashed".into())
            } else if !matches!(self.link, Link::Watching { .. }) || !self.cache.synced() {
                Some(format!(
                    "cannot list and watch its etcd member {}",
                    self.member
                ))
            } else if !self.etcd_healthy {
                Some("[-]etcd failed: etcd has no leader or did not answer within 2s".into())
            } else {
                None
            },
        }
    }

    /// Handles one input.
    pub fn handle(&mut self, ctx: &mut Ctx<'_>, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Crash => self.crash(),
            Input::Restart => {
                if !self.up {
                    self.up = true;
                    self.etcd_healthy = false;
                    self.next_health_check = ctx.now;
                    self.compactor = Compactor::new(ctx.now);
                    self.link = Link::Down { retry_at: ctx.now };
                    self.next_lease_renew = ctx.now;
                }
            }
            _ if !self.up => {}
            Input::Request { from, id, request } => {
                self.on_request(ctx, from, id, request, &mut out)
            }
            Input::CancelWatch { from, id } => {
                self.watchers.remove(&(from.clone(), id));
                self.close_stream(&from, id, &mut out);
            }
            Input::StreamInput { from, id, input } => {
                let op = self.stream_of(&from, id);
                if let Some((op_id, (node, address))) = op {
                    out.push(Output::KubeletInput {
                        node,
                        address,
                        id: op_id,
                        input,
                    });
                }
            }
            Input::Etcd(o) => self.on_etcd(ctx, o, &mut out),
            Input::Probe { from, id } => out.push(Output::ProbeResult {
                to: from,
                id,
                ready: self.is_ready(),
            }),
            Input::Tick => self.on_tick(ctx, &mut out),
            Input::KubeletReply { id, response } => {
                if self.stream_reply(id, &response, &mut out) {
                    // An open stream's data or end.
                } else if let Some((_, url)) = self.kubelet_calls.remove(&id) {
                    let response = match response {
                        KubeletResponse::Logs(text) => ApiResponse::Stream {
                            stdout: text,
                            stderr: String::new(),
                            exit_code: None,
                        },
                        KubeletResponse::Exec {
                            stdout,
                            stderr,
                            exit_code,
                        } => ApiResponse::Stream {
                            stdout,
                            stderr,
                            exit_code: Some(exit_code),
                        },
                        KubeletResponse::Error { code, message } if code >= 500 => {
                            ApiResponse::Error(kubelet_error(
                                code,
                                if self.is_upgrade_op(id) {
                                    // `UpgradeAwareHandler`: the dial failed.
                                    format!("error dialing backend: {message}")
                                } else {
                                    format!("Get \"{url}\": {message}")
                                },
                            ))
                        }
                        KubeletResponse::Error { code, message } => {
                            ApiResponse::Error(kubelet_error(code, message))
                        }
                        KubeletResponse::Opened => {
                            // The kubelet upgraded the connection: the
                            // operation stays open as a stream.
                            self.open_stream(id, &url, &mut out);
                            self.run_evictions(ctx, &mut out);
                            return out;
                        }
                        KubeletResponse::Data(_) | KubeletResponse::Closed(_) => {
                            ApiResponse::StreamClosed(None)
                        }
                    };
                    self.finish(id, response, &mut out);
                }
            }
        }
        self.run_evictions(ctx, &mut out);
        out
    }

    fn crash(&mut self) {
        self.up = false;
        self.cache.invalidate();
        self.cache = WatchCache::default();
        self.etcd.clear();
        self.ops.clear();
        self.watchers.clear();
        self.waiting_fresh.clear();
        self.waiting_service_account.clear();
        self.bootstrap_pending.clear();
        self.kubelet_calls.clear();
        self.streams.clear();
        self.evictions = Default::default();
        self.link = Link::Down {
            retry_at: SimTime(u64::MAX),
        };
    }

    fn send_etcd(
        &mut self,
        now: SimTime,
        purpose: Purpose,
        request: EtcdRequest,
        out: &mut Vec<Output>,
    ) -> u64 {
        let request_id = self.next_request;
        self.next_request += 1;
        self.etcd
            .insert(request_id, (purpose, now + ETCD_REQUEST_TIMEOUT));
        out.push(Output::Etcd {
            member: self.member,
            request_id,
            request,
        });
        request_id
    }

    fn reply(&mut self, op: &Op, response: ApiResponse, out: &mut Vec<Output>) {
        self.served += 1;
        if let Some((to, id)) = &op.reply_to {
            out.push(Output::Reply {
                to: to.clone(),
                id: *id,
                response,
            });
        }
    }

    /// Ends an operation with `response`.
    fn finish(&mut self, op_id: u64, response: ApiResponse, out: &mut Vec<Output>) {
        if let Some(op) = self.ops.remove(&op_id) {
            self.bootstrap_pending.remove(&op_id);
            if let Some(response) = self.evictions.take(op_id, response) {
                self.reply(&op, response, out);
            }
        }
    }

    // ----- the etcd link and the watch cache -----

    fn on_tick(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        let now = ctx.now;
        // Kubelets that did not answer in time (a node powered off or cut
        // off by a partition).
        let late: Vec<(u64, String)> = self
            .kubelet_calls
            .iter()
            .filter(|(_, (deadline, _))| *deadline <= now)
            .map(|(id, (_, url))| (*id, url.clone()))
            .collect();
        for (id, url) in late {
            self.kubelet_calls.remove(&id);
            let host = url
                .trim_start_matches("https://")
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let cause = if self.egress_konnectivity {
                // konnectivity-client `DialContext`: no DIAL_RSP in 30 s.
                "dial timeout, backstop".to_string()
            } else {
                format!("dial tcp {host}: i/o timeout")
            };
            let message = if self.is_upgrade_op(id) {
                format!("error dialing backend: {cause}")
            } else {
                format!("Get \"{url}\": {cause}")
            };
            self.finish(id, ApiResponse::Error(kubelet_error(500, message)), out);
        }
        // etcd requests that got no answer in time.
        let expired: Vec<(u64, Purpose)> = self
            .etcd
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(id, (p, _))| (*id, p.clone()))
            .collect();
        for (id, purpose) in expired {
            self.etcd.remove(&id);
            match purpose {
                Purpose::HealthCheck => self.etcd_healthy = false,
                Purpose::CompactTxn | Purpose::Compact => {}
                Purpose::CacheList | Purpose::CacheWatch => self.lose_etcd(now, out),
                Purpose::Read(op) | Purpose::Write(op, _) => self.finish(
                    op,
                    ApiResponse::Error(ApiError::timeout("etcdserver: request timed out")),
                    out,
                ),
            }
        }
        self.expire_fresh_waits(now, out);
        let due: Vec<u64> = self
            .waiting_service_account
            .iter()
            .filter(|(_, (at, _, _))| *at <= now)
            .map(|(op, _)| *op)
            .collect();
        for op_id in due {
            self.create(ctx, op_id, out);
        }
        if let Link::Down { retry_at } = self.link {
            if retry_at <= now {
                let mut req = RangeRequest::new(KeyRange::Prefix("/registry/".into()));
                req.serializable = false;
                let request_id =
                    self.send_etcd(now, Purpose::CacheList, EtcdRequest::Range(req), out);
                self.link = Link::Listing { request_id };
            }
        }
        if now >= self.next_health_check
            && matches!(self.link, Link::Watching { .. })
            && !self
                .etcd
                .values()
                .any(|(p, _)| matches!(p, Purpose::HealthCheck))
        {
            self.next_health_check = now + ETCD_HEALTH_EVERY;
            let request_id = self.send_etcd(
                now,
                Purpose::HealthCheck,
                EtcdRequest::Range(RangeRequest::new(KeyRange::Key("health".into()))),
                out,
            );
            if let Some((_, deadline)) = self.etcd.get_mut(&request_id) {
                *deadline = now + ETCD_HEALTH_TIMEOUT;
            }
        }
        self.compact_on_interval(now, out);
        if !self.is_ready() {
            return;
        }
        if !self.bootstrapped && self.bootstrap_pending.is_empty() {
            self.bootstrap(ctx, out);
        }
        if now >= self.next_lease_renew {
            self.next_lease_renew = now + IDENTITY_LEASE_RENEW;
            self.renew_identity_lease(ctx, out);
            self.reconcile_kubernetes_endpoints(ctx, out);
        }
        if now >= self.next_lease_gc {
            self.next_lease_gc = now + IDENTITY_LEASE_GC;
            self.collect_identity_leases(ctx, out);
        }
        // Bookmarks: progress notifications on quiet watches.
        let rv = self.cache.revision();
        for ((to, id), w) in self.watchers.iter_mut() {
            if w.bookmarks && now.saturating_since(w.last_sent) >= BOOKMARK_EVERY {
                w.last_sent = now;
                out.push(Output::Reply {
                    to: to.clone(),
                    id: *id,
                    response: ApiResponse::Watch(WatchEvent {
                        kind: WatchEventType::Bookmark,
                        object: None,
                        resource_version: rv,
                    }),
                });
            }
        }
    }

    /// The etcd watch broke: close client watches (they must relist) and
    /// list again shortly.
    fn lose_etcd(&mut self, now: SimTime, out: &mut Vec<Output>) {
        self.cache.invalidate();
        self.link = Link::Down {
            retry_at: now + SimDuration::from_secs(1),
        };
        self.etcd
            .retain(|_, (p, _)| !matches!(p, Purpose::CacheList | Purpose::CacheWatch));
        for ((to, id), _) in std::mem::take(&mut self.watchers) {
            out.push(Output::Reply {
                to,
                id,
                response: ApiResponse::WatchClosed(ApiError::service_unavailable(
                    "the watch cache lost its connection to etcd",
                )),
            });
        }
    }

    fn sync_authorizer(&mut self, kind: KindId, object: &Object, deleted: bool) {
        // Only RBAC objects and pods (the Node authorizer's graph) matter.
        if !matches!(
            object,
            Object::Role(_)
                | Object::ClusterRole(_)
                | Object::RoleBinding(_)
                | Object::ClusterRoleBinding(_)
                | Object::Pod(_)
        ) {
            return;
        }
        let a = &mut self.authorizer;
        let ns = object.namespace().unwrap_or_default().to_string();
        let name = object.name().to_string();
        // Errors here are objects RBAC itself rejects (a binding to an
        // unsupported kind): they simply grant nothing.
        match (object, deleted) {
            (Object::Role(r), false) => drop(a.rbac.upsert_role(*(r.clone()))),
            (Object::Role(_), true) => drop(a.rbac.remove_role(&ns, &name)),
            (Object::ClusterRole(r), false) => drop(a.rbac.upsert_cluster_role(*(r.clone()))),
            (Object::ClusterRole(_), true) => drop(a.rbac.remove_cluster_role(&name)),
            (Object::RoleBinding(b), false) => drop(a.rbac.upsert_role_binding(*(b.clone()))),
            (Object::RoleBinding(_), true) => drop(a.rbac.remove_role_binding(&ns, &name)),
            (Object::ClusterRoleBinding(b), false) => {
                drop(a.rbac.upsert_cluster_role_binding(*(b.clone())))
            }
            (Object::ClusterRoleBinding(_), true) => {
                drop(a.rbac.remove_cluster_role_binding(&name))
            }
            (Object::Pod(p), false) => a.node.upsert_pod(p),
            (Object::Pod(_), true) => a.node.remove_pod(&ns, &name),
            _ => {}
        }
        let _ = kind;
    }

    /// Every `COMPACTION_INTERVAL`, compacts etcd's history up to the
    /// revision it had at the previous interval, so that etcd keeps about
    /// five to ten minutes of changes. Every instance runs the compactor; a
    /// compare-and-swap on `compact_rev_key`'s version makes one of them
    /// compact per interval (`storage/etcd3/compact.go` `compactor`).
    fn compact_on_interval(&mut self, now: SimTime, out: &mut Vec<Output>) {
        if now < self.compactor.next || !matches!(self.link, Link::Watching { .. }) {
            return;
        }
        self.compactor.next = now + COMPACTION_INTERVAL;
        if self
            .etcd
            .values()
            .any(|(p, _)| matches!(p, Purpose::CompactTxn | Purpose::Compact))
        {
            return;
        }
        // `compact`: if compact_rev_key's version is the one this instance
        // saw last, bump it (the put) and compact; else learn the new one.
        let txn = TxnRequest {
            compare: vec![Compare::version(
                COMPACT_REV_KEY,
                CompareResult::Equal,
                self.compactor.time,
            )],
            success: vec![RequestOp::put(
                COMPACT_REV_KEY,
                self.compactor.rev.to_string().into_bytes(),
            )],
            failure: vec![RequestOp::range(KeyRange::Key(COMPACT_REV_KEY.into()))],
        };
        self.send_etcd(now, Purpose::CompactTxn, EtcdRequest::Txn(txn), out);
    }

    fn on_compact_txn(
        &mut self,
        now: SimTime,
        result: Result<EtcdResponse, EtcdError>,
        out: &mut Vec<Output>,
    ) {
        let Ok(EtcdResponse::Txn(t)) = result else {
            return;
        };
        let previous = self.compactor.rev;
        self.compactor.rev = t.revision;
        if !t.succeeded {
            // Another instance compacted since: take its clock.
            if let Some(crate::etcd::mvcc::ResponseOp::Range(r)) = t.responses.first() {
                self.compactor.time = r.kvs.first().map_or(0, |kv| kv.version);
            }
            return;
        }
        self.compactor.time += 1;
        // "We don't compact on bootstrap."
        if previous != 0 {
            self.send_etcd(
                now,
                Purpose::Compact,
                EtcdRequest::Compact { revision: previous },
                out,
            );
        }
    }

    fn on_etcd(&mut self, ctx: &mut Ctx<'_>, output: EtcdOutput, out: &mut Vec<Output>) {
        let now = ctx.now;
        match output {
            EtcdOutput::Response {
                client,
                request_id,
                result,
            } if client == self.client => {
                let Some((purpose, _)) = self.etcd.remove(&request_id) else {
                    return;
                };
                match purpose {
                    Purpose::HealthCheck => self.etcd_healthy = result.is_ok(),
                    Purpose::CompactTxn => self.on_compact_txn(now, result, out),
                    // A failed compaction (a revision already compacted by
                    // etcd itself, no leader) is tried again at the next
                    // interval.
                    Purpose::Compact => {}
                    Purpose::CacheList => self.on_cache_list(now, result, out),
                    Purpose::CacheWatch => {
                        if result.is_err() {
                            self.lose_etcd(now, out);
                        }
                    }
                    Purpose::Read(op) => self.on_read(ctx, op, result, out),
                    Purpose::Write(op, kind) => self.on_write(now, op, kind, result, out),
                }
            }
            EtcdOutput::WatchEvents {
                client,
                watch_id,
                events,
                ..
            } if client == self.client => {
                if self.link != (Link::Watching { watch_id }) {
                    return;
                }
                for e in events {
                    let Some(kind) = registry::kind_of_key(&e.kv.key) else {
                        continue;
                    };
                    let rev = e.kv.mod_revision as u64;
                    let object = match e.kind {
                        crate::etcd::mvcc::EventKind::Put => {
                            match ctx.decoded.decode(
                                kind,
                                &e.kv.key,
                                &e.kv.value,
                                e.kv.mod_revision,
                            ) {
                                Some(o) => Some(o),
                                None => continue,
                            }
                        }
                        crate::etcd::mvcc::EventKind::Delete => None,
                    };
                    let key: Rc<str> = e.kv.key.clone();
                    let Some(event) = self.cache.apply(key, kind, object, rev) else {
                        continue;
                    };
                    self.sync_authorizer(
                        kind,
                        &event.object,
                        event.event == WatchEventType::Deleted,
                    );
                    for ((to, id), w) in self.watchers.iter_mut() {
                        if rev > w.from && w.filter.matches(kind, &event.object) {
                            w.last_sent = now;
                            out.push(Output::Reply {
                                to: to.clone(),
                                id: *id,
                                response: ApiResponse::Watch(WatchEvent {
                                    kind: event.event,
                                    object: Some(event.object.clone()),
                                    resource_version: rev,
                                }),
                            });
                        }
                    }
                }
                self.start_fresh_watches(now, out);
            }
            EtcdOutput::WatchEnded {
                client, watch_id, ..
            } if client == self.client && self.link == (Link::Watching { watch_id }) => {
                self.lose_etcd(now, out);
            }
            _ => {}
        }
    }

    fn on_cache_list(
        &mut self,
        now: SimTime,
        result: Result<EtcdResponse, EtcdError>,
        out: &mut Vec<Output>,
    ) {
        let Ok(EtcdResponse::Range(range)) = result else {
            self.link = Link::Down {
                retry_at: now + SimDuration::from_secs(1),
            };
            return;
        };
        let mut objects = Vec::with_capacity(range.kvs.len());
        let mut authorizer =
            Authorizer::with_cluster_policy().unwrap_or_else(|_| Authorizer::new());
        std::mem::swap(&mut authorizer, &mut self.authorizer);
        for kv in &range.kvs {
            let Some(kind) = registry::kind_of_key(&kv.key) else {
                continue;
            };
            if let Some(o) = registry::decode(kind, &kv.value, kv.mod_revision) {
                let o = Rc::new(o);
                self.sync_authorizer(kind, &o, false);
                objects.push((kv.key.clone(), kind, o));
            }
        }
        self.cache.reset(objects, range.revision as u64);
        let watch_id = self.next_watch;
        self.next_watch += 1;
        self.send_etcd(
            now,
            Purpose::CacheWatch,
            EtcdRequest::Watch {
                watch_id,
                range: KeyRange::Prefix("/registry/".into()),
                start_revision: range.revision + 1,
            },
            out,
        );
        // The watch registration is answered at once; keep no deadline on it.
        if let Some((_, deadline)) = self
            .etcd
            .values_mut()
            .find(|(p, _)| matches!(p, Purpose::CacheWatch))
        {
            *deadline = SimTime(u64::MAX);
        }
        self.link = Link::Watching { watch_id };
        self.start_fresh_watches(now, out);
    }

    /// Starts the watches that waited for the cache to reach their
    /// resourceVersion and now can.
    fn start_fresh_watches(&mut self, now: SimTime, out: &mut Vec<Output>) {
        if self.waiting_fresh.is_empty() || !self.cache.synced() {
            return;
        }
        let rv = self.cache.revision();
        let fresh: Vec<u64> = self
            .waiting_fresh
            .iter()
            .filter(|(_, (wanted, _))| *wanted <= rv)
            .map(|(op, _)| *op)
            .collect();
        for op_id in fresh {
            self.start_watch(op_id, now, out);
        }
    }

    /// Answers the watches that waited [`FRESHNESS_TIMEOUT`] in vain with
    /// `504 Too large resource version` (`NewTooLargeResourceVersionError`,
    /// retry after 1 s): the client lists and watches again.
    fn expire_fresh_waits(&mut self, now: SimTime, out: &mut Vec<Output>) {
        let expired: Vec<(u64, u64)> = self
            .waiting_fresh
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(op, (wanted, _))| (*op, *wanted))
            .collect();
        for (op_id, wanted) in expired {
            self.waiting_fresh.remove(&op_id);
            let current = self.cache.revision();
            self.finish(
                op_id,
                ApiResponse::Error(ApiError::too_large_resource_version(wanted, current)),
                out,
            );
        }
    }

    // ----- the request pipeline -----

    fn attributes(user: &UserInfo, r: &ApiRequest) -> RequestAttributes {
        let k = r.kind.info();
        let mut a = RequestAttributes::resource(user.clone(), r.verb.as_str(), k.group, k.plural);
        if let Some(ns) = r.namespace.as_deref().filter(|_| k.namespaced) {
            a = a.in_namespace(ns);
        }
        if let Some(n) = &r.name {
            a = a.named(n);
        }
        if let Some(s) = &r.subresource {
            a = a.with_subresource(s);
        }
        if let Some(fs) = &r.options.field_selector {
            for part in fs.split(',') {
                if let Some((f, v)) = part.split_once('=') {
                    let f = f.trim_end_matches('=');
                    let v = v.trim_start_matches('=');
                    // `RequestInfoFactory.NewRequestInfo`: a list or watch
                    // with a `metadata.name` field selector names its object
                    // (so a node may watch its own Node).
                    if f == "metadata.name"
                        && r.name.is_none()
                        && matches!(r.verb, Verb::List | Verb::Watch)
                    {
                        a = a.named(v);
                    }
                    a = a.with_field(f, v);
                }
            }
        }
        a.path = r.path();
        a
    }

    fn authorize(&self, attrs: &RequestAttributes) -> Result<(), ApiError> {
        if attrs.user.in_group(SYSTEM_PRIVILEGED_GROUP) {
            return Ok(());
        }
        match self.authorizer.authorize(attrs) {
            Decision::Allow { .. } => Ok(()),
            d => Err(ApiError {
                reason: crate::api::Reason::Forbidden,
                message: super::auth::forbidden_message(attrs, d.reason()),
                details: Some(Box::new(crate::api::status::Details {
                    name: attrs.name.clone(),
                    group: attrs.api_group.clone(),
                    kind: attrs.resource.clone(),
                    causes: vec![],
                })),
            }),
        }
    }

    fn on_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        from: Addr,
        id: u64,
        request: ApiRequest,
        out: &mut Vec<Output>,
    ) {
        let fail = |out: &mut Vec<Output>, e: ApiError| {
            out.push(Output::Reply {
                to: from.clone(),
                id,
                response: ApiResponse::Error(e),
            })
        };
        if !self.cache.synced() {
            return fail(
                out,
                ApiError::service_unavailable(
                    "the server is currently unable to handle the request",
                ),
            );
        }
        // Authentication.
        let user = match ctx
            .authn
            .authenticate_with(&request.credential, ctx.now, &*self)
        {
            Ok(a) => a.user,
            Err(_) => return fail(out, ApiError::unauthorized()),
        };
        // Impersonation (`kubectl --as`): the real user must be allowed to
        // impersonate, then the request proceeds as the impersonated user.
        let user = match &request.impersonate {
            None => user,
            Some((name, groups)) => {
                let mut attrs =
                    RequestAttributes::resource(user.clone(), "impersonate", "", "users")
                        .named(name);
                attrs.path = request.path();
                if let Err(e) = self.authorize(&attrs) {
                    return fail(out, e);
                }
                let mut groups: Vec<&str> = groups.iter().map(String::as_str).collect();
                groups.push(super::auth::user::ALL_AUTHENTICATED);
                UserInfo::new(name.clone(), &groups)
            }
        };
        let attrs = Self::attributes(&user, &request);
        if let Err(e) = self.authorize(&attrs) {
            return fail(out, e);
        }
        let op_id = self.next_op;
        self.next_op += 1;
        self.ops.insert(
            op_id,
            Op {
                reply_to: Some((from, id)),
                request,
                retries: 0,
                user: Some(user),
            },
        );
        self.start(ctx, op_id, out);
    }

    /// Starts an authorized operation.
    fn start(&mut self, ctx: &mut Ctx<'_>, op_id: u64, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        // Creates and watches read the request where it is kept (a
        // `pods/exec` is a create too, but it goes to the kubelet below).
        match op.request.verb {
            _ if eviction::is_eviction(&op.request) => return self.start_eviction(ctx, op_id, out),
            _ if tokenrequest::is_token_request(&op.request) => {
                return self.token_request(ctx, op_id, out)
            }
            // TokenRequest is served only as `serviceaccounts/<name>/token`.
            _ if op.request.kind == KindId::TokenRequest => {
                return self.finish(
                    op_id,
                    ApiResponse::Error(ApiError::not_found_resource()),
                    out,
                )
            }
            _ if is_kubelet_proxy(&op.request) => {}
            _ if op.request.kind == KindId::SubjectAccessReview => {
                return self.subject_access_review(op_id, out)
            }
            Verb::Watch => return self.start_watch(op_id, ctx.now, out),
            Verb::Create if !is_binding(&op.request) => return self.create(ctx, op_id, out),
            _ => {}
        }
        let r = op.request.clone();
        let kind = r.kind;
        let info = kind.info();
        let ns = r.namespace.as_deref().filter(|_| info.namespaced);
        let now = ctx.now;
        match r.verb {
            _ if is_kubelet_proxy(&r) => self.proxy_to_kubelet(op_id, now, out),
            Verb::Get | Verb::List => {
                let from_cache = r.options.resource_version.as_deref() == Some("0");
                if r.verb == Verb::Get && r.name.is_none() {
                    return self.finish(
                        op_id,
                        ApiResponse::Error(ApiError::bad_request("a get needs a name")),
                        out,
                    );
                }
                if from_cache {
                    let response = self.read_from_cache(&r);
                    return self.finish(op_id, response, out);
                }
                let range = match (&r.verb, &r.name) {
                    (Verb::Get, Some(n)) => KeyRange::Key(registry::key(kind, ns, n)),
                    _ => KeyRange::Prefix(registry::list_prefix(kind, ns)),
                };
                self.send_etcd(
                    now,
                    Purpose::Read(op_id),
                    EtcdRequest::Range(RangeRequest::new(range)),
                    out,
                );
            }
            Verb::Watch => self.start_watch(op_id, now, out),
            Verb::Create if !is_binding(&r) => self.create(ctx, op_id, out),
            Verb::Create | Verb::Update | Verb::Patch | Verb::Delete => {
                let Some(name) = r.name.clone() else {
                    return self.finish(
                        op_id,
                        ApiResponse::Error(ApiError::bad_request(
                            "the request needs the name of the object",
                        )),
                        out,
                    );
                };
                if r.verb == Verb::Delete
                    && kind == KindId::Namespace
                    && SYSTEM_NAMESPACES.contains(&name.as_str())
                {
                    return self.finish(
                        op_id,
                        ApiResponse::Error(ApiError::forbidden(
                            "namespaces",
                            &name,
                            "this namespace may not be deleted",
                        )),
                        out,
                    );
                }
                let key = registry::key(kind, ns, &name);
                self.send_etcd(
                    now,
                    Purpose::Read(op_id),
                    EtcdRequest::Range(RangeRequest::new(KeyRange::Key(key))),
                    out,
                );
            }
            Verb::DeleteCollection => self.finish(
                op_id,
                ApiResponse::Error(ApiError::method_not_supported(info, "deletecollection")),
                out,
            ),
        }
    }

    /// `pods/log` and `pods/exec`: `LogLocation` / `ExecLocation`
    /// (pkg/registry/core/pod/strategy.go) pick the container and the node's
    /// kubelet, then the call is proxied there. The pod and node are read
    /// from the watch cache.
    fn proxy_to_kubelet(&mut self, op_id: u64, now: SimTime, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let r = op.request.clone();
        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
        let name = r.name.clone().unwrap_or_default();
        let exec = matches!(
            r.subresource.as_deref(),
            Some("exec") | Some("attach") | Some("portforward")
        );
        let portforward = r.subresource.as_deref() == Some("portforward");
        let q = r.options.stream.clone().unwrap_or_default();
        let fail = |s: &mut Self, out: &mut Vec<Output>, e: ApiError| {
            s.finish(op_id, ApiResponse::Error(e), out)
        };
        let pod = match self
            .cache
            .get(&registry::key(KindId::Pod, Some(&ns), &name))
            .map(|o| (**o).clone())
        {
            Some(Object::Pod(p)) => p,
            _ => return fail(self, out, ApiError::not_found(KindId::Pod.info(), &name)),
        };
        let spec = pod.spec.clone().unwrap_or_default();
        let names: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
        let container = match q.container.clone().filter(|c| !c.is_empty()) {
            // A port-forward reaches the pod's network, not a container.
            _ if portforward => String::new(),
            Some(c) => {
                let known = spec
                    .containers
                    .iter()
                    .chain(spec.init_containers.iter().flatten())
                    .any(|x| x.name == c);
                if !known {
                    return fail(
                        self,
                        out,
                        ApiError::bad_request(format!("container {c} is not valid for pod {name}")),
                    );
                }
                c
            }
            None => match names.as_slice() {
                [one] => one.clone(),
                [] => {
                    return fail(
                        self,
                        out,
                        ApiError::bad_request(format!(
                            "a container name must be specified for pod {name}"
                        )),
                    )
                }
                many => {
                    return fail(
                        self,
                        out,
                        ApiError::bad_request(format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        many.join(" ")
                    )),
                    )
                }
            },
        };
        let node = spec.node_name.clone().unwrap_or_default();
        if node.is_empty() {
            // A pod not yet scheduled has no logs; it cannot exec.
            if exec {
                return fail(
                    self,
                    out,
                    ApiError::bad_request(format!("pod {name} does not have a host assigned")),
                );
            }
            return self.finish(
                op_id,
                ApiResponse::Stream {
                    stdout: String::new(),
                    stderr: String::new(),
                    exit_code: None,
                },
                out,
            );
        }
        // `GetNodeInfo`: the preferred address (InternalIP) and the
        // kubelet's port from the Node's status.
        let address = match self
            .cache
            .get(&registry::key(KindId::Node, None, &node))
            .map(|o| (**o).clone())
        {
            Some(Object::Node(n)) => {
                let status = n.status.unwrap_or_default();
                let ip = status
                    .addresses
                    .iter()
                    .flatten()
                    .find(|a| a.type_ == "InternalIP")
                    .map(|a| a.address.clone());
                let port = status
                    .daemon_endpoints
                    .and_then(|d| d.kubelet_endpoint)
                    .map(|e| e.port)
                    .filter(|p| *p > 0)
                    .unwrap_or(crate::kubelet::KUBELET_PORT);
                match ip {
                    Some(ip) => format!("{ip}:{port}"),
                    None => {
                        return fail(
                            self,
                            out,
                            ApiError::internal(&format!("node {node:?} has no address")),
                        )
                    }
                }
            }
            _ => return fail(self, out, ApiError::not_found(KindId::Node.info(), &node)),
        };
        let request = if portforward {
            KubeletRequest::PortForward {
                namespace: ns,
                pod: name,
            }
        } else if r.subresource.as_deref() == Some("attach") {
            KubeletRequest::Attach {
                namespace: ns,
                pod: name,
                container,
                stdin: q.stdin,
                tty: q.tty,
            }
        } else if exec {
            KubeletRequest::Exec {
                namespace: ns,
                pod: name,
                container,
                command: q.command.clone(),
            }
        } else {
            KubeletRequest::ContainerLogs {
                namespace: ns,
                pod: name,
                container,
                previous: q.previous,
                tail_lines: q.tail_lines,
                timestamps: q.timestamps,
                follow: q.follow,
                since_seconds: q.since_seconds,
                since_time: q.since_time,
            }
        };
        let url = format!("https://{address}{}", request.path());
        self.kubelet_calls
            .insert(op_id, (now + KUBELET_TIMEOUT, url));
        out.push(Output::Kubelet {
            node,
            address,
            id: op_id,
            request,
        });
    }

    /// Routes the instance's calls to nodes through Konnectivity.
    pub fn set_egress_konnectivity(&mut self, on: bool) {
        self.egress_konnectivity = on;
    }

    /// Whether operation `op_id` upgrades its connection (exec, attach,
    /// port-forward), so that a failed dial reads as the upgrade handler's.
    fn is_upgrade_op(&self, op_id: u64) -> bool {
        self.ops.get(&op_id).is_some_and(|op| {
            matches!(
                op.request.subresource.as_deref(),
                Some("exec") | Some("attach") | Some("portforward")
            )
        })
    }

    /// The kubelet upgraded operation `op_id`'s connection: it stays open
    /// and the client learns so (`101 Switching Protocols`).
    fn open_stream(&mut self, op_id: u64, url: &str, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id).cloned() else {
            return;
        };
        let address = url
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let node = self.node_of_op(&op).unwrap_or_default();
        self.streams.insert(op_id, (node, address));
        self.reply(&op, ApiResponse::StreamOpened, out);
    }

    /// The node the pod of an operation runs on, from the watch cache.
    fn node_of_op(&self, op: &Op) -> Option<String> {
        let r = &op.request;
        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
        let name = r.name.clone().unwrap_or_default();
        match self
            .cache
            .get(&registry::key(KindId::Pod, Some(&ns), &name))
            .map(|o| (**o).clone())
        {
            Some(Object::Pod(p)) => p.spec.and_then(|s| s.node_name),
            _ => None,
        }
    }

    /// A kubelet's data or end on an open stream, passed to the client;
    /// whether `op_id` was an open stream.
    fn stream_reply(
        &mut self,
        op_id: u64,
        response: &KubeletResponse,
        out: &mut Vec<Output>,
    ) -> bool {
        if !self.streams.contains_key(&op_id) {
            return false;
        }
        let Some(op) = self.ops.get(&op_id).cloned() else {
            self.streams.remove(&op_id);
            return true;
        };
        match response {
            KubeletResponse::Data(frame) => {
                self.reply(&op, ApiResponse::StreamData(frame.clone()), out);
            }
            KubeletResponse::Closed(reason) => {
                self.streams.remove(&op_id);
                self.finish(op_id, ApiResponse::StreamClosed(reason.clone()), out);
            }
            KubeletResponse::Error { message, .. } => {
                self.streams.remove(&op_id);
                self.finish(op_id, ApiResponse::StreamClosed(Some(message.clone())), out);
            }
            _ => {}
        }
        true
    }

    /// The open stream kubectl's request `(from, id)` holds, if any.
    fn stream_of(&self, from: &Addr, id: u64) -> Option<(u64, (String, String))> {
        self.streams.iter().find_map(|(op_id, target)| {
            self.ops
                .get(op_id)
                .filter(|op| op.reply_to.as_ref() == Some(&(from.clone(), id)))
                .map(|_| (*op_id, target.clone()))
        })
    }

    /// The client closed its upgraded connection: the stream to the
    /// kubelet closes too.
    fn close_stream(&mut self, from: &Addr, id: u64, out: &mut Vec<Output>) {
        if let Some((op_id, (node, address))) = self.stream_of(from, id) {
            self.streams.remove(&op_id);
            self.ops.remove(&op_id);
            out.push(Output::KubeletClose {
                node,
                address,
                id: op_id,
            });
        }
    }

    fn filter_of(r: &ApiRequest) -> Result<Filter, ApiError> {
        let info = r.kind.info();
        let selector = Selector::parse(r.options.label_selector.as_deref().unwrap_or_default())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        let mut filter = Filter {
            kind: r.kind,
            namespace: r
                .namespace
                .clone()
                .filter(|n| info.namespaced && !n.is_empty()),
            name: r.name.clone(),
            selector,
            node_name: None,
            fields: Vec::new(),
        };
        if let Some(fs) = &r.options.field_selector {
            // `fields.ParseSelector`, then the kind's selectable fields;
            // `metadata.name`, `metadata.namespace` and pods'
            // `spec.nodeName` equalities narrow the read directly.
            let terms = fields::parse(fs).map_err(ApiError::bad_request)?;
            fields::validate(r.kind, &terms).map_err(ApiError::bad_request)?;
            for t in terms {
                match (t.field.as_str(), t.equal) {
                    ("metadata.name", true) => filter.name = Some(t.value),
                    ("metadata.namespace", true) => filter.namespace = Some(t.value),
                    ("spec.nodeName", true) if r.kind == KindId::Pod => {
                        filter.node_name = Some(t.value)
                    }
                    _ => filter.fields.push(t),
                }
            }
        }
        Ok(filter)
    }

    fn read_from_cache(&self, r: &ApiRequest) -> ApiResponse {
        let filter = match Self::filter_of(r) {
            Ok(f) => f,
            Err(e) => return ApiResponse::Error(e),
        };
        let items = self.cache.list(&filter);
        if r.verb == Verb::Get {
            return match items.into_iter().next() {
                Some(o) => ApiResponse::Object(o),
                None => ApiResponse::Error(ApiError::not_found(
                    r.kind.info(),
                    r.name.as_deref().unwrap_or_default(),
                )),
            };
        }
        ApiResponse::List {
            kind: r.kind,
            items,
            resource_version: self.cache.revision(),
        }
    }

    fn start_watch(&mut self, op_id: u64, now: SimTime, out: &mut Vec<Output>) {
        let Some(op) = self.ops.remove(&op_id) else {
            return;
        };
        let Some((to, id)) = op.reply_to.clone() else {
            return;
        };
        let filter = match Self::filter_of(&op.request) {
            Ok(f) => f,
            Err(e) => return self.reply(&op, ApiResponse::Error(e), out),
        };
        let rv = match op.request.options.resource_version.as_deref() {
            None | Some("") => None,
            Some(s) => match s.parse::<u64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    return self.reply(
                        &op,
                        ApiResponse::Error(ApiError::bad_request(format!(
                            "invalid resource version: {s}"
                        ))),
                        out,
                    )
                }
            },
        };
        // A watch from a revision the cache has not reached yet waits for it
        // (`Cacher.Watch` calls `watchCache.waitUntilFreshAndBlock`, which
        // gives up after 3 s with "Too large resource version"). Serving it
        // at once would skip the events in between, or send events older
        // than the watch's start.
        if let Some(wanted) =
            rv.filter(|v| *v > 0 && (*v > self.cache.revision() || !self.cache.synced()))
        {
            let deadline = match self.waiting_fresh.get(&op_id) {
                Some((_, deadline)) => *deadline,
                None => now + FRESHNESS_TIMEOUT,
            };
            self.waiting_fresh.insert(op_id, (wanted, deadline));
            self.ops.insert(op_id, op);
            return;
        }
        self.waiting_fresh.remove(&op_id);
        let from = rv.filter(|v| *v > 0).unwrap_or(self.cache.revision());
        match self.cache.start_watch(&filter, rv) {
            Err(too_old) => self.reply(
                &op,
                ApiResponse::Error(ApiError::gone(format!(
                    "too old resource version: {} ({})",
                    too_old.requested, too_old.oldest
                ))),
                out,
            ),
            Ok(initial) => {
                self.reply(&op, ApiResponse::WatchStarted, out);
                for e in initial {
                    out.push(Output::Reply {
                        to: to.clone(),
                        id,
                        response: ApiResponse::Watch(e),
                    });
                }
                self.watchers.insert(
                    (to, id),
                    Watcher {
                        filter,
                        bookmarks: op.request.options.allow_bookmarks,
                        last_sent: now,
                        from,
                    },
                );
            }
        }
    }

    /// The bootstrap token whose `bootstrap-token-<id>` Secret the watch
    /// cache holds in kube-system (the bootstrap token authenticator's
    /// Secret lister).
    fn bootstrap_token_secret(&self, id: &str) -> Option<super::auth::authn::BootstrapToken> {
        let key = registry::key(
            KindId::Secret,
            Some("kube-system"),
            &format!("bootstrap-token-{id}"),
        );
        match self.cache.get(&key).map(|o| &**o) {
            Some(Object::Secret(secret)) => super::certificates::bootstrap_token_of(secret),
            _ => None,
        }
    }

    /// `POST subjectaccessreviews` (pkg/registry/authorization/subjectaccessreview/rest.go
    /// `Create`): asks the authorizer chain about the spec's user and
    /// attributes and answers the object with its status; nothing is stored.
    fn subject_access_review(&mut self, op_id: u64, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let info = KindId::SubjectAccessReview.info();
        let response = match (op.request.verb, op.request.body.as_deref()) {
            (Verb::Create, Some(Object::SubjectAccessReview(sar))) => {
                match super::certificates::review(&self.authorizer, sar) {
                    Ok(answered) => ApiResponse::Object(Rc::new(Object::SubjectAccessReview(
                        Box::new(answered),
                    ))),
                    Err(e) => ApiResponse::Error(e),
                }
            }
            (Verb::Create, _) => {
                ApiResponse::Error(ApiError::bad_request("the request has no body"))
            }
            (verb, _) => ApiResponse::Error(ApiError::method_not_supported(info, verb.as_str())),
        };
        self.finish(op_id, response, out);
    }

    fn namespace_state(&self, ns: &str) -> NamespaceState {
        match self.cache.get(&registry::key(KindId::Namespace, None, ns)) {
            None => NamespaceState::Missing,
            Some(o) if o.deletion_timestamp().is_some() => NamespaceState::Terminating,
            Some(_) => NamespaceState::Active,
        }
    }

    fn create(&mut self, ctx: &mut Ctx<'_>, op_id: u64, out: &mut Vec<Output>) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let r = &op.request;
        let info = r.kind.info();
        let Some(body) = r.body.clone() else {
            return self.finish(
                op_id,
                ApiResponse::Error(ApiError::bad_request("the request has no body")),
                out,
            );
        };
        if body.kind_id() != r.kind {
            return self.finish(
                op_id,
                ApiResponse::Error(ApiError::bad_request(format!(
                    "the API version in the data ({}) does not match the expected API version ({})",
                    body.kind().api_version(),
                    info.api_version()
                ))),
                out,
            );
        }
        let mut object = (*body).clone();
        let request_ns = r.namespace.clone().filter(|_| info.namespaced);
        if info.namespaced {
            let ns = request_ns.clone().unwrap_or_else(|| "default".into());
            match object.namespace() {
                Some(obj_ns) if !obj_ns.is_empty() && obj_ns != ns => {
                    return self.finish(
                        op_id,
                        ApiResponse::Error(ApiError::bad_request(
                            "the namespace of the provided object does not match the namespace sent on the request",
                        )),
                        out,
                    )
                }
                _ => object.meta_mut().namespace = Some(ns),
            }
        } else {
            object.meta_mut().namespace = None;
        }
        let now = ctx.now;
        // metadata.name from generateName (`names.SimpleNameGenerator`).
        if object.name().is_empty() {
            if let Some(base) = object
                .meta()
                .generate_name
                .clone()
                .filter(|g| !g.is_empty())
            {
                let suffix = ctx.rng.k8s_suffix(5);
                object.meta_mut().name = Some(format!("{base}{suffix}"));
            }
        }
        if object.name().is_empty() {
            return self.finish(
                op_id,
                ApiResponse::Error(ApiError::invalid(
                    info,
                    "",
                    vec![crate::api::FieldError::required(
                        "metadata.name",
                        "name or generateName is required",
                    )],
                )),
                out,
            );
        }
        if let Some(ns) = object.namespace().map(str::to_string) {
            if let Err(e) =
                admission::namespace_lifecycle(info, object.name(), &ns, self.namespace_state(&ns))
            {
                return self.finish(op_id, ApiResponse::Error(e), out);
            }
        }
        if let Some((ns, sa)) = admission::service_account_to_check(&object) {
            let key = registry::key(KindId::ServiceAccount, Some(&ns), &sa);
            if self.cache.get(&key).is_some() {
                self.waiting_service_account.remove(&op_id);
            } else {
                // `getServiceAccount`: not in the informer's cache; ask
                // again, ten times for `default` (the controller should be
                // creating it), at one interval of 100 to 200 ms.
                let (interval, left) = match self.waiting_service_account.get(&op_id) {
                    Some((_, i, left)) => (*i, left.saturating_sub(1)),
                    None if sa == "default" => (
                        SimDuration::from_millis(ctx.rng.between(100, 200)),
                        admission::DEFAULT_SERVICE_ACCOUNT_ATTEMPTS - 1,
                    ),
                    None => (SimDuration::ZERO, 0),
                };
                if left > 0 {
                    self.waiting_service_account
                        .insert(op_id, (now + interval, interval, left));
                    return;
                }
                self.waiting_service_account.remove(&op_id);
                return self.finish(
                    op_id,
                    ApiResponse::Error(admission::service_account_not_found(&body, &ns, &sa)),
                    out,
                );
            }
        }
        // The pod's service account's `automountServiceAccountToken`.
        let sa_automount = admission::service_account_to_check(&object).and_then(|(ns, sa)| {
            match self
                .cache
                .get(&registry::key(KindId::ServiceAccount, Some(&ns), &sa))
                .map(|o| &**o)
            {
                Some(Object::ServiceAccount(sa)) => sa.automount_service_account_token,
                _ => None,
            }
        });
        admission::mutate_on_create(&mut object, sa_automount, ctx.rng);
        if let Object::CertificateSigningRequest(csr) = &mut object {
            let user = self.ops.get(&op_id).and_then(|op| op.user.clone());
            super::certificates::prepare_for_create(csr, user.as_ref());
        }
        if let Err(e) = crate::api::check_create(&object) {
            return self.finish(op_id, ApiResponse::Error(e), out);
        }
        // What the registry sets on every new object.
        let uid = ctx.rng.uuid();
        {
            let mut m = object.meta_mut();
            m.uid = Some(uid);
            m.creation_timestamp = Some(to_time(now));
            m.resource_version = None;
            m.deletion_timestamp = None;
            m.generation = has_generation(r.kind).then_some(1);
        }
        // The Service registry allocates ClusterIPs and NodePorts
        // (`pkg/registry/core/service/storage/alloc.go`).
        if let Object::Service(s) = &mut object {
            let allocated = super::ipallocator::Allocated::from_services(
                self.cache
                    .all_of(KindId::Service)
                    .filter_map(|o| match &**o {
                        Object::Service(s) => Some(&**s),
                        _ => None,
                    }),
            );
            if let Err(e) = super::ipallocator::allocate(s, &allocated, info) {
                return self.finish(op_id, ApiResponse::Error(e), out);
            }
        }
        self.prepare_for_create(&mut object);
        let Some(r) = self.ops.get(&op_id).map(|op| &op.request) else {
            return;
        };
        let key = registry::key(r.kind, object.namespace(), object.name());
        let dry_run = r.options.dry_run;
        let object = Rc::new(object);
        if dry_run {
            return self.finish(op_id, ApiResponse::Object(object), out);
        }
        let txn = TxnRequest {
            compare: vec![Compare::create_revision(
                key.clone(),
                CompareResult::Equal,
                0,
            )],
            success: vec![RequestOp::put(key, registry::encode(&object))],
            failure: vec![],
        };
        self.send_etcd(
            now,
            Purpose::Write(op_id, WriteKind::Create(object)),
            EtcdRequest::Txn(txn),
            out,
        );
    }

    /// `PrepareForCreate` of each kind's strategy: status starts fresh.
    fn prepare_for_create(&self, object: &mut Object) {
        match object {
            Object::Pod(p) => {
                p.status = Some(Box::new(crate::api::pod::PodStatus {
                    phase: Some("Pending".into()),
                    qos_class: Some(qos_class(p.spec.as_ref()).into()),
                    ..Default::default()
                }));
            }
            Object::Namespace(n) => {
                n.spec = Some(core::NamespaceSpec {
                    finalizers: Some(vec!["kubernetes".into()]),
                });
                n.status = Some(core::NamespaceStatus {
                    phase: Some("Active".into()),
                    conditions: None,
                });
            }
            Object::Service(s) => {
                s.status = Some(core::ServiceStatus {
                    load_balancer: Some(Default::default()),
                    conditions: None,
                });
            }
            Object::Deployment(d) => d.status = None,
            Object::ReplicaSet(rs) => {
                rs.status = Some(k8s_openapi::api::apps::v1::ReplicaSetStatus {
                    replicas: 0,
                    ..Default::default()
                })
            }
            Object::StatefulSet(s) => s.status = None,
            Object::DaemonSet(d) => d.status = None,
            Object::Job(j) => {
                j.status = None;
                generate_job_selector(j);
            }
            Object::CronJob(c) => c.status = None,
            _ => {}
        }
    }

    fn on_read(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        result: Result<EtcdResponse, EtcdError>,
        out: &mut Vec<Output>,
    ) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let r = op.request.clone();
        let range = match result {
            Ok(EtcdResponse::Range(range)) => range,
            Ok(_) => {
                return self.finish(
                    op_id,
                    ApiResponse::Error(ApiError::internal("unexpected etcd response")),
                    out,
                )
            }
            Err(e) => return self.finish(op_id, ApiResponse::Error(etcd_error(&e)), out),
        };
        let decode = |kv: &crate::etcd::mvcc::KeyValue| {
            registry::decode(r.kind, &kv.value, kv.mod_revision).map(Rc::new)
        };
        match r.verb {
            Verb::List => {
                let filter = match Self::filter_of(&r) {
                    Ok(f) => f,
                    Err(e) => return self.finish(op_id, ApiResponse::Error(e), out),
                };
                let items = range
                    .kvs
                    .iter()
                    .filter_map(decode)
                    .filter(|o| filter.matches(r.kind, o))
                    .collect();
                self.finish(
                    op_id,
                    ApiResponse::List {
                        kind: r.kind,
                        items,
                        resource_version: range.revision as u64,
                    },
                    out,
                )
            }
            Verb::Get => {
                let response = match range.kvs.first().and_then(decode) {
                    Some(o) => ApiResponse::Object(o),
                    None => ApiResponse::Error(ApiError::not_found(
                        r.kind.info(),
                        r.name.as_deref().unwrap_or_default(),
                    )),
                };
                self.finish(op_id, response, out)
            }
            _ => {
                let current = range.kvs.first().and_then(decode);
                self.write_after_read(ctx, op_id, current, out)
            }
        }
    }

    /// The second half of an update, patch or delete (`GuaranteedUpdate`):
    /// compute the new state from the current one and write it, on the
    /// condition that nobody wrote in between.
    fn write_after_read(
        &mut self,
        ctx: &mut Ctx<'_>,
        op_id: u64,
        current: Option<Rc<Object>>,
        out: &mut Vec<Output>,
    ) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let r = op.request.clone();
        let info = r.kind.info();
        let name = r.name.clone().unwrap_or_default();
        let now = ctx.now;
        let Some(current) = current else {
            // Leases may be created by an update (`AllowCreateOnUpdate`).
            if r.verb == Verb::Update && r.kind == KindId::Lease && r.subresource.is_none() {
                if let Some(op) = self.ops.get_mut(&op_id) {
                    op.request.verb = Verb::Create;
                }
                return self.create(ctx, op_id, out);
            }
            return self.finish(
                op_id,
                ApiResponse::Error(ApiError::not_found(info, &name)),
                out,
            );
        };
        let key = registry::key(r.kind, current.namespace(), current.name());
        let current_rv = revision_of(&current);
        let next = match r.verb {
            Verb::Delete => self.prepare_delete(&r, &current, now),
            Verb::Create => prepare_binding(&r, &current, now),
            _ => self.prepare_update(&r, &current, now),
        };
        let write = match next {
            Err(e) => return self.finish(op_id, ApiResponse::Error(e), out),
            Ok(None) => return self.finish(op_id, ApiResponse::Object(current), out),
            Ok(Some(w)) => w,
        };
        if r.options.dry_run {
            let response = match write {
                WriteKind::Delete(o) => ApiResponse::Deleted(o),
                WriteKind::Put(o) | WriteKind::Create(o) => ApiResponse::Object(o),
            };
            return self.finish(op_id, response, out);
        }
        let op = match &write {
            WriteKind::Delete(_) => RequestOp::delete(KeyRange::Key(key.clone())),
            WriteKind::Put(o) | WriteKind::Create(o) => {
                RequestOp::put(key.clone(), registry::encode(o))
            }
        };
        let txn = TxnRequest {
            compare: vec![Compare::mod_revision(key, CompareResult::Equal, current_rv)],
            success: vec![op],
            failure: vec![],
        };
        self.send_etcd(
            now,
            Purpose::Write(op_id, write),
            EtcdRequest::Txn(txn),
            out,
        );
    }

    fn prepare_update(
        &self,
        r: &ApiRequest,
        current: &Rc<Object>,
        now: SimTime,
    ) -> Result<Option<WriteKind>, ApiError> {
        let info = r.kind.info();
        let name = current.name().to_string();
        let body = match (&r.patch, r.body.clone()) {
            (Some(patch), _) => Rc::new(patched(r.kind, current, patch)?),
            (None, Some(body)) => body,
            (None, None) => return Err(ApiError::bad_request("the request has no body")),
        };
        if body.kind_id() != r.kind {
            return Err(ApiError::bad_request(
                "the kind of the body does not match the request",
            ));
        }
        if !body.name().is_empty() && body.name() != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                body.name()
            )));
        }
        // Optimistic concurrency: a resourceVersion in the body is a
        // precondition.
        if let Some(rv) = body.resource_version().filter(|rv| !rv.is_empty()) {
            if rv != current.resource_version().unwrap_or_default() {
                return Err(ApiError::stale(info, &name));
            }
        }
        // A CertificateSigningRequest's `approval` subresource writes status
        // too (its conditions; see `certificates::prepare_status_update`).
        let csr_approval = r.kind == KindId::CertificateSigningRequest
            && r.subresource.as_deref() == Some("approval");
        let status_only = r.subresource.as_deref() == Some("status") || csr_approval;
        let finalize = r.kind == KindId::Namespace && r.subresource.as_deref() == Some("finalize");
        let mut next = if finalize {
            // `namespaces/finalize` changes `spec.finalizers` only
            // (`pkg/registry/core/namespace/storage`, `FinalizeREST`).
            let mut value = current.to_value();
            value["spec"]["finalizers"] = body
                .to_value()
                .pointer("/spec/finalizers")
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            Object::from_value_of(r.kind, &value)
                .map_err(|e| ApiError::bad_request(e.to_string()))?
        } else if status_only {
            // The status subresource changes status only.
            let mut value = current.to_value();
            if let Some(status) = body.to_value().get("status") {
                value["status"] = status.clone();
            }
            Object::from_value_of(r.kind, &value)
                .map_err(|e| ApiError::bad_request(e.to_string()))?
        } else {
            let mut next = (*body).clone();
            if has_status_subresource(r.kind) {
                let mut value = next.to_value();
                match current.to_value().get("status") {
                    Some(s) => value["status"] = s.clone(),
                    None => {
                        if let Some(m) = value.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                next = Object::from_value_of(r.kind, &value)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
            }
            crate::api::apply_defaults(&mut next);
            next
        };
        // The registry owns these fields.
        {
            let cur = current.meta();
            let mut m = next.meta_mut();
            m.name = cur.name.clone();
            m.namespace = cur.namespace.clone();
            m.uid = cur.uid.clone();
            m.creation_timestamp = cur.creation_timestamp.clone();
            m.deletion_timestamp = cur.deletion_timestamp.clone();
            m.deletion_grace_period_seconds = cur.deletion_grace_period_seconds;
            m.resource_version = None;
            m.generation = cur.generation;
            if status_only || finalize {
                m.labels = cur.labels.clone();
                m.annotations = cur.annotations.clone();
                m.finalizers = cur.finalizers.clone();
                m.owner_references = cur.owner_references.clone();
            }
        }
        if let (false, Object::Namespace(n), Object::Namespace(cur)) =
            (finalize, &mut next, &**current)
        {
            // Only the finalize subresource changes `spec.finalizers`
            // (`namespaceStrategy.PrepareForUpdate`).
            let finalizers = cur.spec.as_ref().and_then(|s| s.finalizers.clone());
            match &mut n.spec {
                Some(spec) => spec.finalizers = finalizers,
                None if finalizers.is_some() => {
                    n.spec = Some(core::NamespaceSpec { finalizers });
                }
                None => {}
            }
        }
        if let (Object::CertificateSigningRequest(n), Object::CertificateSigningRequest(cur)) =
            (&mut next, &**current)
        {
            super::certificates::prepare_update(n, cur, status_only, csr_approval, now)?;
        }
        if !status_only && !finalize {
            // The Service registry keeps, releases and allocates addresses
            // and ports on update as on create
            // (`pkg/registry/core/service/storage/alloc.go` `allocateUpdate`).
            if let (Object::Service(n), Object::Service(cur)) = (&mut next, &**current) {
                let others = super::ipallocator::Allocated::from_services(
                    self.cache
                        .all_of(KindId::Service)
                        .filter_map(|o| match &**o {
                            Object::Service(s) if s.metadata.uid != cur.metadata.uid => Some(&**s),
                            _ => None,
                        }),
                );
                super::ipallocator::allocate_update(n, cur, &others, info)?;
            }
            crate::api::check_update(&next, current)?;
            if has_generation(r.kind) && spec_of(&next) != spec_of(current) {
                next.meta_mut().generation = Some(current.generation().unwrap_or(0) + 1);
            }
        }
        // An object being deleted goes once its last finalizer is removed
        // and no grace period is pending (`ShouldDeleteDuringUpdate`); a
        // Namespace also waits for its `spec.finalizers`.
        if next.deletion_timestamp().is_some()
            && next.finalizers().is_empty()
            && next.meta().deletion_grace_period_seconds.unwrap_or(0) == 0
            && !namespace_has_finalizers(&next)
        {
            return Ok(Some(WriteKind::Delete(current.clone())));
        }
        let mut unchanged = next.clone();
        unchanged.meta_mut().resource_version = current.meta().resource_version.clone();
        if unchanged == **current {
            // A no-op update writes nothing and keeps the resourceVersion.
            return Ok(None);
        }
        Ok(Some(WriteKind::Put(Rc::new(next))))
    }

    fn prepare_delete(
        &self,
        r: &ApiRequest,
        current: &Rc<Object>,
        now: SimTime,
    ) -> Result<Option<WriteKind>, ApiError> {
        let mut next = (**current).clone();
        let already = current.deletion_timestamp().is_some();
        // Pods bound to a node are deleted gracefully: the kubelet stops the
        // containers and then deletes the pod with a zero grace period.
        let grace = match &next {
            Object::Pod(p) if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() => r
                .options
                .grace_period_seconds
                .or_else(|| {
                    p.spec
                        .as_ref()
                        .and_then(|s| s.termination_grace_period_seconds)
                })
                .unwrap_or(30)
                .max(0),
            _ => 0,
        };
        // `deletionFinalizersForGarbageCollection`: the propagation policy
        // becomes the `orphan` or `foregroundDeletion` finalizer.
        let (finalizers_changed, finalizers) =
            gc_finalizers(r.kind, current.finalizers(), r.options.propagation);
        if already {
            let pending_graceful = current
                .meta()
                .deletion_grace_period_seconds
                .is_some_and(|g| g > 0);
            if grace == 0 && r.options.grace_period_seconds == Some(0) {
                if current.finalizers().is_empty() {
                    return Ok(Some(WriteKind::Delete(current.clone())));
                }
                if pending_graceful {
                    // Finalizers still hold it: the grace period ends now
                    // and the last finalizer's removal deletes it.
                    let mut m = next.meta_mut();
                    m.deletion_grace_period_seconds = Some(0);
                    m.resource_version = None;
                    drop(m);
                    return Ok(Some(WriteKind::Put(Rc::new(next))));
                }
            }
            // Finalizers may change by a new delete only once no graceful
            // deletion is pending (`updateForGracefulDeletionAndFinalizers`).
            if pending_graceful || !finalizers_changed {
                return Ok(None);
            }
            if finalizers.is_empty() && !namespace_has_finalizers(&next) {
                return Ok(Some(WriteKind::Delete(current.clone())));
            }
            let mut m = next.meta_mut();
            m.finalizers = (!finalizers.is_empty()).then_some(finalizers);
            m.resource_version = None;
            drop(m);
            return Ok(Some(WriteKind::Put(Rc::new(next))));
        }
        let namespace_finalizers = namespace_has_finalizers(&next);
        if grace == 0 && finalizers.is_empty() && !namespace_finalizers {
            return Ok(Some(WriteKind::Delete(current.clone())));
        }
        {
            let mut m = next.meta_mut();
            m.deletion_timestamp = Some(to_time(now + SimDuration::from_secs(grace as u64)));
            m.deletion_grace_period_seconds = Some(grace);
            m.finalizers = (!finalizers.is_empty()).then_some(finalizers);
            m.resource_version = None;
        }
        if let Object::Namespace(n) = &mut next {
            n.status.get_or_insert_with(Default::default).phase = Some("Terminating".into());
        }
        Ok(Some(WriteKind::Put(Rc::new(next))))
    }

    fn on_write(
        &mut self,
        now: SimTime,
        op_id: u64,
        kind: WriteKind,
        result: Result<EtcdResponse, EtcdError>,
        out: &mut Vec<Output>,
    ) {
        let Some(op) = self.ops.get(&op_id) else {
            return;
        };
        let info = op.request.kind.info();
        let retries = op.retries;
        let txn = match result {
            Ok(EtcdResponse::Txn(t)) => t,
            Ok(_) => {
                return self.finish(
                    op_id,
                    ApiResponse::Error(ApiError::internal("unexpected etcd response")),
                    out,
                )
            }
            Err(e) => return self.finish(op_id, ApiResponse::Error(etcd_error(&e)), out),
        };
        // The written object, with the write's revision. The write's own
        // copy is usually not shared: it is then updated where it is, which
        // nobody can observe (`make_mut` copies a shared one).
        let with_rv = |mut o: Rc<Object>| {
            Rc::make_mut(&mut o).meta_mut().resource_version = Some(txn.revision.to_string());
            o
        };
        match (txn.succeeded, kind) {
            (true, WriteKind::Create(o)) | (true, WriteKind::Put(o)) => {
                self.finish(op_id, ApiResponse::Object(with_rv(o)), out)
            }
            (true, WriteKind::Delete(o)) => {
                self.finish(op_id, ApiResponse::Deleted(with_rv(o)), out)
            }
            (false, WriteKind::Create(o)) => self.finish(
                op_id,
                ApiResponse::Error(ApiError::already_exists(info, o.name())),
                out,
            ),
            (false, _) => {
                // Somebody wrote in between (`GuaranteedUpdate`'s loop): read
                // again and decide afresh. A precondition on the
                // resourceVersion then fails as 409, a vanished object as
                // 404, and a write without a precondition is retried.
                let r = &op.request;
                let name = r.name.clone().unwrap_or_default();
                let key = registry::key(
                    r.kind,
                    r.namespace.as_deref().filter(|_| info.namespaced),
                    &name,
                );
                if retries >= 5 {
                    return self.finish(
                        op_id,
                        ApiResponse::Error(ApiError::stale(info, &name)),
                        out,
                    );
                }
                if let Some(op) = self.ops.get_mut(&op_id) {
                    op.retries += 1;
                }
                self.send_etcd(
                    now,
                    Purpose::Read(op_id),
                    EtcdRequest::Range(RangeRequest::new(KeyRange::Key(key))),
                    out,
                );
            }
        }
    }

    // ----- post-start hooks and the identity lease -----

    /// An operation of the server's own (post-start hooks, its identity
    /// Lease), run as `system:apiserver` past authentication and
    /// authorization, as kube-apiserver's loopback client is.
    fn internal(&mut self, request: ApiRequest) -> u64 {
        let op_id = self.next_op;
        self.next_op += 1;
        self.ops.insert(
            op_id,
            Op {
                reply_to: None,
                request,
                retries: 0,
                user: None,
            },
        );
        op_id
    }

    fn bootstrap(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        let mut objects: Vec<Object> = Vec::new();
        for ns in SYSTEM_NAMESPACES {
            objects.push(Object::Namespace(Box::new(core::Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.into()),
                    labels: Some(
                        [("kubernetes.io/metadata.name".to_string(), ns.to_string())].into(),
                    ),
                    ..Default::default()
                },
                ..Default::default()
            })));
        }
        objects.push(Object::Service(Box::new(core::Service {
            metadata: ObjectMeta {
                name: Some("kubernetes".into()),
                namespace: Some("default".into()),
                labels: Some(
                    [
                        ("component".to_string(), "apiserver".to_string()),
                        ("provider".to_string(), "kubernetes".to_string()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(core::ServiceSpec {
                cluster_ip: Some(KUBERNETES_SERVICE_IP.into()),
                ports: Some(vec![core::ServicePort {
                    name: Some("https".into()),
                    port: 443,
                    protocol: Some("TCP".into()),
                    target_port: Some(
                        k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(6443),
                    ),
                    ..Default::default()
                }]),
                type_: Some("ClusterIP".into()),
                ..Default::default()
            }),
            status: None,
        })));
        for (name, value, description) in [
            ("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
            ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
        ] {
            objects.push(Object::PriorityClass(Box::new(scheduling::PriorityClass {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    ..Default::default()
                },
                value: Some(value),
                description: Some(description.into()),
                preemption_policy: Some("PreemptLowerPriority".into()),
                global_default: None,
            })));
        }
        let policy = super::auth::bootstrap::cluster_policy();
        objects.extend(policy.cluster_roles.into_iter().map(Object::from));
        objects.extend(policy.cluster_role_bindings.into_iter().map(Object::from));
        objects.extend(policy.roles.into_iter().map(Object::from));
        objects.extend(policy.role_bindings.into_iter().map(Object::from));
        // Create only what the cache does not show yet (another instance
        // may have done it).
        for o in objects {
            let key = registry::key(o.kind_id(), o.namespace(), o.name());
            if self.cache.get(&key).is_some() {
                continue;
            }
            let mut req = ApiRequest::new(Verb::Create, o.kind_id(), Credential::None);
            req.namespace = o.namespace().map(str::to_string);
            req.body = Some(Rc::new(o));
            let op = self.internal(req);
            self.bootstrap_pending.insert(op);
            self.start(ctx, op, out);
        }
        if self.bootstrap_pending.is_empty() {
            self.bootstrapped = true;
        }
    }

    fn renew_identity_lease(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        // The Lease namespace must exist first.
        if self.namespace_state("kube-system") != NamespaceState::Active {
            return;
        }
        let now = ctx.now;
        let lease = coordination::Lease {
            metadata: ObjectMeta {
                name: Some(self.lease_name.clone()),
                namespace: Some("kube-system".into()),
                labels: Some(
                    [
                        (IDENTITY_LABEL.to_string(), "kube-apiserver".to_string()),
                        ("kubernetes.io/hostname".to_string(), self.node.clone()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(coordination::LeaseSpec {
                holder_identity: Some(self.lease_holder.clone()),
                lease_duration_seconds: Some(IDENTITY_LEASE_DURATION_SECONDS),
                renew_time: Some(crate::api::time::to_micro_time(now)),
                ..Default::default()
            }),
        };
        let req = ApiRequest::new(Verb::Update, KindId::Lease, Credential::None)
            .in_namespace("kube-system")
            .named(self.lease_name.clone())
            .with_body(Object::Lease(Box::new(lease)));
        let op = self.internal(req);
        self.start(ctx, op, out);
    }

    /// The lease endpoint reconciler: the `kubernetes` Service's
    /// EndpointSlice lists the live API servers (see
    /// `endpointsreconciler.rs`).
    fn reconcile_kubernetes_endpoints(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        if self.namespace_state("default") != NamespaceState::Active {
            return;
        }
        let leases: Vec<Rc<Object>> = self.cache.all_of(KindId::Lease).cloned().collect();
        let nodes: Vec<Rc<Object>> = self.cache.all_of(KindId::Node).cloned().collect();
        let Some(mut desired) =
            super::endpointsreconciler::desired_slice(&leases, &nodes, IDENTITY_LABEL, ctx.now)
        else {
            return;
        };
        let key = registry::key(KindId::EndpointSlice, Some("default"), "kubernetes");
        let verb = match self.cache.get(&key).map(|o| &**o) {
            Some(Object::EndpointSlice(stored)) => {
                if super::endpointsreconciler::same(stored, &desired) {
                    return;
                }
                desired.metadata.resource_version = stored.metadata.resource_version.clone();
                Verb::Update
            }
            _ => Verb::Create,
        };
        let mut req = ApiRequest::new(verb, KindId::EndpointSlice, Credential::None)
            .in_namespace("default")
            .with_body(Object::EndpointSlice(Box::new(desired)));
        if verb == Verb::Update {
            req = req.named("kubernetes");
        }
        let op = self.internal(req);
        self.start(ctx, op, out);
    }

    fn collect_identity_leases(&mut self, ctx: &mut Ctx<'_>, out: &mut Vec<Output>) {
        let now = ctx.now;
        let expired: Vec<String> = self
            .cache
            .all_of(KindId::Lease)
            .filter(|o| o.namespace() == Some("kube-system"))
            .filter(|o| {
                o.labels().get(IDENTITY_LABEL).map(String::as_str) == Some("kube-apiserver")
            })
            .filter_map(|o| match &**o {
                Object::Lease(l) => {
                    let spec = l.spec.as_ref()?;
                    let renewed = spec.renew_time.as_ref().map(micro_to_sim_time)?;
                    let duration = spec.lease_duration_seconds.unwrap_or(0).max(0) as u64;
                    (renewed + SimDuration::from_secs(duration) < now).then(|| o.name().to_string())
                }
                _ => None,
            })
            .collect();
        for name in expired {
            let req = ApiRequest::new(Verb::Delete, KindId::Lease, Credential::None)
                .in_namespace("kube-system")
                .named(name);
            let op = self.internal(req);
            self.start(ctx, op, out);
        }
    }
}

/// The virtual instant of a `MicroTime` (lease renewals).
/// Whether a request is a pod binding (`POST pods/<name>/binding`).
/// Whether a Namespace still waits for its `spec.finalizers` (the
/// namespace controller's `kubernetes`).
fn namespace_has_finalizers(o: &Object) -> bool {
    match o {
        Object::Namespace(n) => n
            .spec
            .as_ref()
            .and_then(|s| s.finalizers.as_ref())
            .is_some_and(|f| !f.is_empty()),
        _ => false,
    }
}

/// `DefaultGarbageCollectionPolicy` of a kind's strategy: batch/v1 Jobs
/// orphan their pods when the request names no policy (kept for backward
/// compatibility, `pkg/registry/batch/job/strategy.go`); everything else
/// deletes its dependents in the background.
fn default_orphans(kind: KindId) -> bool {
    kind == KindId::Job
}

/// The finalizers an object gets from a delete's propagation policy, and
/// whether they changed (`registry/generic/registry/store.go`,
/// `deletionFinalizersForGarbageCollection` with `shouldOrphanDependents`
/// and `shouldDeleteDependents`): an explicit policy wins, then a GC
/// finalizer already on the object, then the kind's default.
pub(crate) fn gc_finalizers(
    kind: KindId,
    current: &[String],
    policy: Option<Propagation>,
) -> (bool, Vec<String>) {
    const ORPHAN: &str = "orphan";
    const FOREGROUND: &str = "foregroundDeletion";
    let has = |f: &str| current.iter().any(|x| x == f);
    let (orphan, foreground) = match policy {
        Some(Propagation::Orphan) => (true, false),
        Some(Propagation::Foreground) => (false, true),
        Some(Propagation::Background) => (false, false),
        None if has(ORPHAN) => (true, false),
        None if has(FOREGROUND) => (false, true),
        None => (default_orphans(kind), false),
    };
    let mut next: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND)
        .cloned()
        .collect();
    if orphan {
        next.push(ORPHAN.into());
    }
    if foreground {
        next.push(FOREGROUND.into());
    }
    let old: BTreeSet<&String> = current.iter().collect();
    let new: BTreeSet<&String> = next.iter().collect();
    if old == new {
        (false, current.to_vec())
    } else {
        (true, next)
    }
}

/// `pods/log`, `pods/exec`, `pods/attach` and `pods/portforward`: answered
/// by the node's kubelet, through the API server.
fn is_kubelet_proxy(r: &ApiRequest) -> bool {
    r.kind == KindId::Pod
        && matches!(
            r.subresource.as_deref(),
            Some("log") | Some("exec") | Some("attach") | Some("portforward")
        )
}

fn is_binding(r: &ApiRequest) -> bool {
    r.verb == Verb::Create && r.kind == KindId::Pod && r.subresource.as_deref() == Some("binding")
}

/// Binds a pod to a node (`BindingREST.Create` -> `assignPod` ->
/// `setPodNodeNameAndAnnotations` in `pkg/registry/core/pod/storage`):
/// the pod must not be assigned yet nor being deleted; `spec.nodeName` is
/// set and the `PodScheduled` condition turns True.
///
/// The body stands for the `v1.Binding` (whose wire form the simulation
/// leaves out): a Pod whose `spec.nodeName` is the binding's target.
fn prepare_binding(
    r: &ApiRequest,
    current: &Rc<Object>,
    now: SimTime,
) -> Result<Option<WriteKind>, ApiError> {
    let info = KindId::Pod.info();
    let name = current.name().to_string();
    let target = match r.body.as_deref() {
        Some(Object::Pod(p)) => p.spec.as_ref().and_then(|s| s.node_name.clone()),
        _ => None,
    };
    let Some(target) = target.filter(|t| !t.is_empty()) else {
        return Err(ApiError::invalid(
            info,
            &name,
            vec![crate::api::FieldError::required("target.name", "")],
        ));
    };
    let Object::Pod(pod) = &**current else {
        return Err(ApiError::internal("not a pod"));
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(ApiError::conflict(
            info,
            &name,
            &format!("pod {name} is being deleted, cannot be assigned to a host"),
        ));
    }
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        if !node.is_empty() {
            return Err(ApiError::conflict(
                info,
                &name,
                &format!("pod {name} is already assigned to node \"{node}\""),
            ));
        }
    }
    let mut next = pod.clone();
    next.metadata.resource_version = None;
    next.spec.get_or_insert_with(Default::default).node_name = Some(target);
    let status = next.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    conditions.retain(|c| c.type_ != "PodScheduled");
    conditions.push(core::PodCondition {
        type_: "PodScheduled".into(),
        status: "True".into(),
        last_transition_time: Some(crate::api::time::to_time(now)),
        ..Default::default()
    });
    Ok(Some(WriteKind::Put(Rc::new(Object::Pod(next)))))
}

fn micro_to_sim_time(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime) -> SimTime {
    crate::api::time::to_sim_time(&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t.0))
}

/// The pod's QoS class (`pkg/apis/core/v1/helper/qos.GetPodQOS`, simplified
/// to requests and limits of cpu and memory).
fn qos_class(spec: Option<&crate::api::pod::PodSpec>) -> &'static str {
    let Some(spec) = spec else {
        return "BestEffort";
    };
    let containers: Vec<&crate::api::pod::Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        let r = c.resources.as_ref();
        let requests = r.and_then(|r| r.requests.as_ref());
        let limits = r.and_then(|r| r.limits.as_ref());
        for res in ["cpu", "memory"] {
            let req = requests.and_then(|m| m.get(res));
            let lim = limits.and_then(|m| m.get(res));
            if req.is_some() || lim.is_some() {
                any = true;
            }
            match (req, lim) {
                (_, None) => guaranteed = false,
                (Some(a), Some(b)) if a != b => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// `generateSelector` of the Job registry strategy
/// (`pkg/registry/batch/job/strategy.go`, run before validation once the
/// uid is set): unless `spec.manualSelector` is true, the template gets the
/// `job-name` and `controller-uid` labels (legacy and `batch.kubernetes.io/`
/// forms) and the selector matches `batch.kubernetes.io/controller-uid`.
fn generate_job_selector(job: &mut k8s_openapi::api::batch::v1::Job) {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else {
        return;
    };
    if spec.manual_selector == Some(true) {
        return;
    }
    let labels = spec
        .template
        .metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default);
    for key in ["job-name", "batch.kubernetes.io/job-name"] {
        labels.entry(key.into()).or_insert_with(|| name.clone());
    }
    for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
        labels.entry(key.into()).or_insert_with(|| uid.clone());
    }
    spec.selector
        .get_or_insert_with(Default::default)
        .match_labels
        .get_or_insert_with(Default::default)
        .entry("batch.kubernetes.io/controller-uid".into())
        .or_insert(uid);
}

/// The token authenticators' look-ups, from the instance's watch cache.
impl super::auth::authn::Lookup for ApiServer {
    fn bootstrap_token(&self, id: &str) -> Option<super::auth::authn::BootstrapToken> {
        self.bootstrap_token_secret(id)
    }

    fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.cache
            .get(&registry::key(
                KindId::ServiceAccount,
                Some(namespace),
                name,
            ))
            .and_then(|o| o.uid().map(str::to_string))
    }

    fn pod(&self, namespace: &str, name: &str) -> Option<super::auth::authn::BoundPod> {
        let o = self
            .cache
            .get(&registry::key(KindId::Pod, Some(namespace), name))?;
        Some(super::auth::authn::BoundPod {
            uid: o.uid().unwrap_or_default().to_string(),
            deleted_at: o.deletion_timestamp().map(crate::api::time::to_sim_time),
        })
    }
}

/// The object a PATCH makes of `current`: the patch applied to its JSON and
/// decoded strictly, as `patchResource` does before the update path
/// (`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`:
/// `applyPatch`, then `applyPatchToObject`, whose strict decoding answers an
/// unknown field with a 400 `strict decoding error`).
fn patched(
    kind: KindId,
    current: &Object,
    patch: &crate::api::patch::Patch,
) -> Result<Object, ApiError> {
    use crate::api::patch::{apply, PatchError};
    let value = apply(&current.to_value(), patch).map_err(|e| match e {
        PatchError::BadRequest(m) => ApiError::bad_request(m),
        PatchError::Unprocessable(_) => ApiError::unprocessable(),
    })?;
    crate::api::decode::decode_strict(kind, &value).map_err(|mut e| {
        if let Some(at) = e.message.find("strict decoding error: ") {
            e.message = e.message[at..].to_string();
        }
        e
    })
}

#[cfg(test)]
mod gc_finalizer_tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_propagation_policy_becomes_the_garbage_collectors_finalizer() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            gc_finalizers(KindId::Deployment, &none, Some(Propagation::Foreground)),
            (true, strings(&["foregroundDeletion"]))
        );
        assert_eq!(
            gc_finalizers(KindId::Deployment, &none, Some(Propagation::Orphan)),
            (true, strings(&["orphan"]))
        );
        assert_eq!(
            gc_finalizers(KindId::Deployment, &none, Some(Propagation::Background)),
            (false, none.clone())
        );
        // Other finalizers stay; an explicit policy replaces the GC's.
        assert_eq!(
            gc_finalizers(
                KindId::ReplicaSet,
                &strings(&["example.com/keep", "orphan"]),
                Some(Propagation::Foreground)
            ),
            (true, strings(&["example.com/keep", "foregroundDeletion"]))
        );
    }

    #[test]
    fn without_a_policy_the_finalizer_on_the_object_then_the_kinds_default_decides() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            gc_finalizers(KindId::Deployment, &strings(&["orphan"]), None),
            (false, strings(&["orphan"]))
        );
        assert_eq!(
            gc_finalizers(KindId::Deployment, &none, None),
            (false, none.clone())
        );
        // batch/v1 Jobs orphan their pods by default.
        assert_eq!(
            gc_finalizers(KindId::Job, &none, None),
            (true, strings(&["orphan"]))
        );
    }
}
