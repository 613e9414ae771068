//! Client machinery every control-plane component and controller uses, as
//! client-go provides it: informers (a reflector listing and watching one
//! kind into a local store), work queues and leader election.

pub mod informer;
pub mod leaderelection;
pub mod leaselock;
pub mod process;
pub mod workqueue;

pub use informer::{
    Informer, InformerConfig, InformerError, Notification, State as InformerState, Store,
};
pub use leaderelection::{
    Action as LeaderAction, LeaderElectionConfig, LeaderElector, LeaseRecord,
};
pub use process::{Agent, Ctx as AgentCtx, Process, Tag};
pub use workqueue::WorkQueue;
