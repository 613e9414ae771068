//! The default profile's plugins, one per file, each porting its upstream
//! counterpart in `pkg/scheduler/framework/plugins/`.

pub mod default_binder;
pub mod default_preemption;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_resources_balanced_allocation;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod priority_sort;
pub mod taint_toleration;

/// Plugin names as in `pkg/scheduler/framework/plugins/names/names.go`.
pub mod names {
    pub const PRIORITY_SORT: &str = "PrioritySort";
    pub const DEFAULT_BINDER: &str = "DefaultBinder";
    pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";
    pub const IMAGE_LOCALITY: &str = "ImageLocality";
    pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";
    pub const NODE_AFFINITY: &str = "NodeAffinity";
    pub const NODE_NAME: &str = "NodeName";
    pub const NODE_RESOURCES_BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
    pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
    pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
    pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
    pub const TAINT_TOLERATION: &str = "TaintToleration";
}
