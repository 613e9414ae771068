//! ImageLocality: prefers nodes that already have the pod's images, scaled
//! by how widely each image is spread.
//!
//! Port of `pkg/scheduler/framework/plugins/imagelocality/image_locality.go`
//! (`Score`, `sumImageScores`, `scaledImageScore`, `calculatePriority`,
//! thresholds 23 MiB and 1000 MiB per container). The PreScore here is an
//! optimization: when no node has any of the images every score would be
//! 0, so the plugin is skipped.

use super::names;
use crate::scheduler::cache::{Cache, NodeInfo};
use crate::scheduler::framework::{
    CycleState, Plugin, PreScorePlugin, ScorePlugin, Status, MAX_NODE_SCORE,
};

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The pod's images present somewhere, with their node counts.
#[derive(Clone, Debug, Default)]
pub struct ScoreState {
    images: Vec<(String, usize)>,
    total_nodes: usize,
    containers: i64,
}

pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        names::IMAGE_LOCALITY
    }
}

impl PreScorePlugin for ImageLocality {
    fn pre_score(&self, cs: &mut CycleState, cache: &Cache, _f: &[&NodeInfo]) -> Status {
        let all = cs.pod.images();
        let containers = all.len() as i64;
        let images: Vec<(String, usize)> = all
            .into_iter()
            .map(|i| {
                let n = cache.image_node_count(&i);
                (i, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        if images.is_empty() {
            return Status::skip();
        }
        cs.image_score = Some(ScoreState {
            images,
            total_nodes: cache.num_nodes(),
            containers,
        });
        Status::success()
    }
}

/// `calculatePriority`.
pub fn calculate_priority(sum: i64, containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD.saturating_mul(containers.max(1));
    let sum = sum.clamp(MIN_THRESHOLD, max_threshold);
    MAX_NODE_SCORE * (sum - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

impl ScorePlugin for ImageLocality {
    fn score(&self, cs: &CycleState, _cache: &Cache, node: &NodeInfo) -> i64 {
        let Some(st) = &cs.image_score else {
            return 0;
        };
        let mut sum = 0i64;
        for (img, count) in &st.images {
            if let Some(size) = node.st.images.get(img) {
                let spread = *count as f64 / st.total_nodes.max(1) as f64;
                sum = sum.saturating_add((*size as f64 * spread) as i64);
            }
        }
        calculate_priority(sum, st.containers)
    }
}

#[cfg(test)]
mod tests {
    use crate::scheduler::testutil::*;

    #[test]
    fn image_locality_prefers_the_node_with_the_image() {
        let mut s = sched(&[
            node("a").build(),
            node("b")
                .image("registry.k8s.io/big:1", 600 * 1024 * 1024)
                .build(),
        ]);
        let d = cycle(&mut s, pod("p").image("registry.k8s.io/big:1").build());
        let i = score_index(&d, "ImageLocality");
        // 600 MiB * 1/2 spread = 300 MiB -> 100 * (300-23)/(1000-23) = 28.
        assert_eq!(d.node("b").unwrap().scores[i].raw, 28);
        assert_eq!(d.node("a").unwrap().scores[i].raw, 0);
        assert_eq!(d.chosen(), Some("b"));
    }
}
