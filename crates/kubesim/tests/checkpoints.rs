//! Issue 6: a copy of a cluster taken mid-run (a scrub checkpoint) has the
//! same future as the original: driven by the same commands, both produce
//! the same trace, the same objects, the same etcd revisions and the same
//! raft terms and roles, message for message.

use kubesim::runlog::{Checkpoints, RunLog};
use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, SimTime, Topology};

/// Runs a script and returns what it printed, asserting every command ran.
/// A booted default cluster (seed `seed`) after `script`, and its terminal.
fn booted_after(seed: u64, script: &str) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    let mut s = Session::new();
    run(&mut c, &mut s, script);
    (c, s)
}

fn run(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert!(!out.is_empty(), "{script}");
    out.iter()
        .map(|o| format!("$ {}\n{}\n", o.input, o.output))
        .collect()
}

/// Everything observable about a cluster, as text: the clock, the trace
/// (every event it keeps and the count of all), every object as YAML, the
/// etcd members' status (revisions, raft terms and roles, commit indexes)
/// and the snapshot the page draws.
fn observe(c: &mut Cluster, s: &mut Session) -> String {
    let trace: Vec<String> = c
        .trace()
        .events()
        .map(|e| serde_json::to_string(e).expect("trace events serialize"))
        .collect();
    let etcd: Vec<String> = c
        .etcd_status()
        .iter()
        .map(|(name, st)| format!("{name} {st:?}"))
        .collect();
    let snapshot = serde_json::to_string(&c.snapshot()).expect("snapshots serialize");
    let objects = run(
        c,
        s,
        "kubectl get nodes,pods,deployments,replicasets,services,endpointslices,leases,configmaps -A -o yaml",
    );
    format!(
        "{}\n--- trace ({} events in all)\n{}\n--- etcd\n{}\n--- objects\n{}\n--- snapshot\n{}",
        c.now(),
        c.trace().total(),
        trace.join("\n"),
        etcd.join("\n"),
        objects,
        snapshot
    )
}

/// A copy of `c` now, or a moment later if an etcd member is between two
/// halves of its raft work (the copy is refused then).
fn copy_soon(c: &mut Cluster) -> Cluster {
    for _ in 0..1000 {
        if let Some(copy) = c.try_clone() {
            return copy;
        }
        c.advance(SimDuration::from_millis(1));
    }
    panic!("no moment in a second where the cluster could be copied");
}

/// The commands both the original and the copy run after the copy.
const FUTURE: &[&str] = &[
    "kubectl scale deployment web --replicas=8",
    "sim advance 3s",
    "sim fault etcd/leader crash",
    "sim advance 4s",
    "sim fault worker-2 partition",
    "kubectl create deployment api --image=nginx --replicas=3",
    "sim advance 20s",
    "sim heal all",
    "sim advance 30s",
    "kubectl delete deployment api",
    "sim fault kube-scheduler/leader crash",
    "sim advance 25s",
    "sim status",
    "kubectl get pods -A -o wide",
];

#[test]
fn a_cluster_copied_mid_run_after_faults_has_exactly_the_original_future() {
    for seed in [3, 11] {
        let (mut c, mut s) = booted_after(
            seed,
            "kubectl create deployment web --image=nginx --replicas=5\nsim advance 10s",
        );
        // Faults before the copy: an etcd leader election under way and a
        // node cut off while the copy is taken.
        run(
            &mut c,
            &mut s,
            "sim fault etcd/leader crash\nsim advance 700ms",
        );
        run(
            &mut c,
            &mut s,
            "sim fault worker-3 partition\nsim advance 1200ms",
        );
        let terms_before: Vec<u64> = c.etcd_status().iter().map(|(_, st)| st.term).collect();
        let mut copy = copy_soon(&mut c);
        let mut copy_session = s.clone();
        assert_eq!(
            observe(&mut copy, &mut copy_session),
            observe(&mut c, &mut s)
        );
        let mut printed = (String::new(), String::new());
        for cmd in FUTURE {
            printed.0 += &run(&mut c, &mut s, cmd);
            printed.1 += &run(&mut copy, &mut copy_session, cmd);
        }
        assert_eq!(
            printed.1, printed.0,
            "seed {seed}: the commands print the same"
        );
        let (a, b) = (
            observe(&mut c, &mut s),
            observe(&mut copy, &mut copy_session),
        );
        assert!(
            a == b,
            "seed {seed}: the copy's future differs from the original's"
        );
        // The run did what it claims: elections happened after the copy,
        // and the copy shares no state with the original (it moved on its
        // own: the original's clock is where both went, not further).
        let terms_after: Vec<u64> = c.etcd_status().iter().map(|(_, st)| st.term).collect();
        assert!(
            terms_after.iter().max() > terms_before.iter().max(),
            "seed {seed}: a new etcd term after the copy ({terms_before:?} -> {terms_after:?})"
        );
        assert!(
            a.contains("web-"),
            "seed {seed}: the deployment's pods are listed"
        );
    }
}

#[test]
fn a_copy_shares_no_state_with_the_original() {
    let (mut c, mut s) = booted_after(
        5,
        "kubectl create deployment web --image=nginx --replicas=2\nsim advance 5s",
    );
    let mut twin = copy_soon(&mut c);
    let mut twin_session = s.clone();
    let mut copy = twin
        .try_clone()
        .expect("a copy of a copy, at the same moment");
    let mut copy_session = s.clone();
    // The copy lives a different future: crashes, a scale, time.
    run(
        &mut copy,
        &mut copy_session,
        "kubectl scale deployment web --replicas=6\nsim fault etcd/leader crash\nsim fault worker-1 power-off\nsim advance 20s",
    );
    let replicas = run(
        &mut copy,
        &mut copy_session,
        "kubectl get deployment web -o jsonpath={.spec.replicas}",
    );
    assert!(
        replicas.contains("\n6\n"),
        "the copy has 6 replicas: {replicas}"
    );
    // The original and its untouched twin are still alike, and unmoved.
    assert_eq!(
        observe(&mut c, &mut s),
        observe(&mut twin, &mut twin_session)
    );
    let replicas = run(
        &mut c,
        &mut s,
        "kubectl get deployment web -o jsonpath={.spec.replicas}",
    );
    assert!(
        replicas.contains("\n2\n"),
        "the original still has 2: {replicas}"
    );
    assert!(
        c.etcd_status()
            .iter()
            .all(|(_, st)| st.role != kubesim::etcd::Role::Stopped),
        "no member of the original crashed"
    );
}

/// Plays a run as the page does: the clock advanced in frames, checkpoints
/// offered after every frame, each command recorded at the time it is
/// typed. Returns the log and the checkpoints.
fn live_run(seed: u64, script: &[(u64, &str)], end: u64) -> (RunLog, Checkpoints) {
    let topology = Topology::default();
    let mut log = RunLog::new(&topology, seed);
    let mut c = Cluster::new(topology, seed);
    let mut s = Session::new();
    let mut checkpoints = Checkpoints::new(SimDuration::from_secs(20), 4);
    let frame = |c: &mut Cluster, s: &Session, log: &RunLog, until: u64, cps: &mut Checkpoints| {
        while c.now().as_millis() < until {
            let next = (c.now().as_millis() + 250).min(until);
            c.advance_to(SimTime::from_millis(next));
            cps.offer(c, s, log.entries.len(), || ());
        }
    };
    for (at, cmd) in script {
        frame(&mut c, &s, &log, *at, &mut checkpoints);
        log.record(c.now(), cmd);
        s.run_script(&mut c, cmd);
    }
    frame(&mut c, &s, &log, end, &mut checkpoints);
    log.reached(c.now());
    (log, checkpoints)
}

#[test]
fn a_scrub_restored_from_a_checkpoint_equals_a_replay_from_the_seed() {
    let script: &[(u64, &str)] = &[
        (
            5_000,
            "kubectl create deployment web --image=nginx --replicas=6",
        ),
        (31_000, "sim fault etcd/leader crash"),
        (
            33_500,
            "kubectl scale deployment web --replicas=9\nsim advance 2s",
        ),
        (47_000, "sim fault worker-1 partition"),
        (70_000, "sim heal all"),
        (
            85_250,
            "kubectl create deployment api --image=nginx --replicas=2",
        ),
        (101_000, "sim fault kube-controller-manager/leader crash"),
    ];
    let (log, checkpoints) = live_run(9, script, 130_000);
    let times = checkpoints.times();
    assert!(times.len() == 4, "thinned to the cap: {times:?}");
    assert!(
        times.last().unwrap().as_millis() >= 110_000,
        "a late checkpoint: {times:?}"
    );
    for target in [12_000, 47_000, 95_400, 125_000] {
        let t = SimTime::from_millis(target);
        let cp = checkpoints.nearest(t);
        assert!(target < 40_000 || cp.is_some(), "a checkpoint before {t}");
        let zero = log.replay(Some(t));
        let restored = log.replay_from(cp, Some(t));
        let skipped = cp.map_or(0, |cp| cp.entries);
        assert_eq!(
            restored.outcomes.len() + skipped,
            zero.outcomes.len(),
            "every entry up to {t} ran once"
        );
        let (mut a, mut sa) = (zero.cluster, zero.session);
        let (mut b, mut sb) = (restored.cluster, restored.session);
        assert_eq!(a.now(), t);
        assert_eq!(observe(&mut b, &mut sb), observe(&mut a, &mut sa), "at {t}");
        // The same later run: a new future typed after the scrub.
        for cmd in [
            "kubectl scale deployment web --replicas=3",
            "sim fault etcd/leader crash",
            "sim advance 15s",
        ] {
            assert_eq!(
                run(&mut b, &mut sb, cmd),
                run(&mut a, &mut sa, cmd),
                "{cmd} after {t}"
            );
        }
        assert_eq!(
            observe(&mut b, &mut sb),
            observe(&mut a, &mut sa),
            "after {t}"
        );
    }
}

#[test]
fn checkpoints_of_a_dropped_future_are_forgotten() {
    let (log, mut checkpoints) = live_run(
        4,
        &[(3_000, "kubectl create deployment web --image=nginx")],
        90_000,
    );
    assert!(checkpoints.times().len() >= 3, "{:?}", checkpoints.times());
    // A command typed at 50 s after a scrub back there: the checkpoints
    // after 50 s belong to the dropped future.
    let t = SimTime::from_millis(50_000);
    checkpoints.forget_after(t, log.truncated(t).entries.len());
    assert!(
        checkpoints.times().iter().all(|&at| at <= t),
        "{:?}",
        checkpoints.times()
    );
    assert!(checkpoints.nearest(t).is_some());
    // A rewind to before the first command drops the ones after it too.
    checkpoints.forget_after(t, 0);
    assert!(
        checkpoints.times().iter().all(|&at| at.as_millis() < 3_000),
        "{:?}",
        checkpoints.times()
    );
}
