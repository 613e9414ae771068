//! The same seed and the same commands give the same run, byte for byte.

use kubesim::{Cluster, SimDuration, Topology};

fn run(seed: u64) -> String {
    let mut cluster = Cluster::new(Topology::default(), seed);
    let mut snapshots = Vec::new();
    for step in [100, 2_500, 10_000, 60_000] {
        cluster.advance(SimDuration::from_millis(step));
        snapshots.push(serde_json::to_string(&cluster.snapshot()).expect("snapshots serialize"));
    }
    snapshots.join("\n")
}

#[test]
fn two_runs_with_the_same_seed_produce_identical_snapshots() {
    assert_eq!(run(2026), run(2026));
}

#[test]
fn the_seed_is_part_of_the_snapshot() {
    assert_ne!(run(1), run(2));
}
