//! Client machinery every control-plane component and controller uses, as
//! client-go provides it: work queues and leader election (informers arrive
//! with the API server they list and watch).

pub mod leaderelection;
pub mod workqueue;

pub use leaderelection::{
    Action as LeaderAction, LeaderElectionConfig, LeaderElector, LeaseRecord,
};
pub use workqueue::WorkQueue;
