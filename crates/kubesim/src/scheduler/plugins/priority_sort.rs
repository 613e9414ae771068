//! PrioritySort: the active queue's order.
//!
//! Port of `pkg/scheduler/framework/plugins/queuesort/priority_sort.go`
//! (`Less`): higher priority first, then the earlier queue timestamp.

use super::names;
use crate::scheduler::framework::{Plugin, QueueSortPlugin};
use crate::scheduler::queue::QueuedPodInfo;

pub struct PrioritySort;

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        names::PRIORITY_SORT
    }
}

impl QueueSortPlugin for PrioritySort {
    fn sort_key(&self, p: &QueuedPodInfo) -> (i64, u64) {
        (-i64::from(p.priority), p.timestamp.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::queue::SchedulingQueue;
    use crate::scheduler::testutil::pod;
    use crate::world::SimTime;
    use std::rc::Rc;

    #[test]
    fn priority_sort_puts_the_higher_priority_pod_first_even_if_younger() {
        let mut q = SchedulingQueue::new(Rc::new(PrioritySort));
        q.add(SimTime(0), pod("old").build(), 1);
        q.add(SimTime(9), pod("young").build(), 2);
        let a = q.pop(SimTime(10)).unwrap();
        assert_eq!(&*a.key, "default/young");
    }
}
