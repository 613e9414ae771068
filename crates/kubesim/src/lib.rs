//! kubesim: Kubernetes' architecture as a deterministic discrete-event
//! simulation.
//!
//! The core has no web dependency and reads no wall clock: time is virtual
//! ([`world::SimTime`]), randomness comes from one seeded generator
//! ([`world::SimRng`]), and iteration is ordered wherever order reaches
//! output, so the same seed and commands give the same run, byte for byte.
//!
//! Layout (DESIGN.md §3): one module per Kubernetes component, plus `world`
//! (clock, event queue, RNG), `topology` (the cluster's shape), `cluster` (the
//! entry point) and `snapshot` (what the page draws).

pub mod api;
pub mod apiserver;
pub mod client;
pub mod cloud;
pub mod cluster;
pub mod controllers;
pub mod cow;
pub mod dns;
pub mod etcd;
pub mod eventlog;
pub mod images;
pub mod inspect;
pub mod konnectivity;
pub mod kubeadm;
pub mod kubelet;
pub mod proxy;
pub mod runlog;
pub mod runtime;
pub mod scenario;
pub mod scheduler;
pub mod shell;
pub mod snapshot;
pub mod topology;
pub mod world;

pub use cluster::Cluster;
pub use snapshot::{
    ComponentKind, ComponentView, ContainerView, Health, LeaseView, NodeView, PodView, Snapshot,
    SnapshotCache,
};
pub use topology::{NodeRole, NodeSpec, Resources, Topology, TopologyBuilder, TopologyError};
pub use world::{SimDuration, SimRng, SimTime};
