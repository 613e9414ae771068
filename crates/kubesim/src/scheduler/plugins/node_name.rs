//! NodeName: a pod that names its node fits only there.
//!
//! Port of `pkg/scheduler/framework/plugins/nodename/node_name.go`
//! (`Filter`, `ErrReason`).

use super::names;
use crate::scheduler::cache::NodeInfo;
use crate::scheduler::framework::{CycleState, FilterPlugin, Plugin, Status};

/// `ErrReason`.
pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        names::NODE_NAME
    }
}

impl FilterPlugin for NodeName {
    fn filter(&self, cs: &CycleState, node: &NodeInfo) -> Status {
        match cs.pod.spec().and_then(|s| s.node_name.as_deref()) {
            Some(n) if !n.is_empty() && n != node.name() => Status::unresolvable(ERR_REASON),
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn node_name_rejects_every_node_but_the_named_one() {
        let mut s = sched(&[node("a").build(), node("b").build()]);
        let d = cycle(&mut s, pod("p").node_name("b").build());
        assert_eq!(d.chosen(), Some("b"));
        let rec = d.node("a").unwrap();
        assert_eq!(
            rec.failure.as_ref().unwrap().1.reasons[0],
            super::ERR_REASON
        );
    }
}
