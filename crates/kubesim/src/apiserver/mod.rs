//! kube-apiserver: the hub every component talks to (DESIGN.md §1).
//!
//! - [`auth`]: authentication and authorization (Node, RBAC);
//! - [`admission`]: the admission plugins;
//! - [`registry`]: where objects live in etcd and how they are stored;
//! - [`watchcache`]: each instance's cache, fed by an etcd watch;
//! - [`server`]: one instance's request pipeline, as a state machine;
//! - [`loadbalancer`]: the API load balancer in front of the instances;
//! - [`request`] and [`selector`]: what clients send.

pub mod admission;
pub mod auth;
pub mod certificates;
pub mod endpointsreconciler;
pub mod fields;
pub mod ipallocator;
pub mod loadbalancer;
pub mod registry;
pub mod request;
pub mod selector;
pub mod server;
pub mod watchcache;

pub use request::{
    ApiRequest, ApiResponse, Propagation, RequestOptions, StreamOptions, Verb, WatchEvent,
    WatchEventType,
};
pub use server::{Addr, ApiServer, ApiServerStatus};
