//! NodeUnschedulable: cordoned nodes take no new pods.
//!
//! Port of `pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`
//! (`Filter`, `ErrReasonUnschedulable`): a pod tolerating
//! `node.kubernetes.io/unschedulable:NoSchedule` may still go there.

use k8s_openapi::api::core::v1::Taint;

use super::names;
use crate::scheduler::cache::NodeInfo;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};
use crate::scheduler::podinfo::tolerations_tolerate;

/// `ErrReasonUnschedulable`.
pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        names::NODE_UNSCHEDULABLE
    }
}

impl FilterPlugin for NodeUnschedulable {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        if !node.st.unschedulable {
            return Status::success();
        }
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if tolerations_tolerate(cs.pod.tolerations(), &taint) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn a_cordoned_node_is_skipped_unless_the_pod_tolerates_it() {
        let mut s = sched(&[node("a").unschedulable().build()]);
        let d = cycle(&mut s, pod("p").build());
        assert_eq!(
            unschedulable_message(&d),
            "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
        );
        let d = cycle(
            &mut s,
            pod("q")
                .toleration(
                    "node.kubernetes.io/unschedulable",
                    "Exists",
                    "",
                    "NoSchedule",
                )
                .build(),
        );
        assert_eq!(d.chosen(), Some("a"));
    }
}
