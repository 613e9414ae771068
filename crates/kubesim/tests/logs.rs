//! Behaviour tests of `kubectl logs` through the command language: a
//! followed log (`-f`) streaming a container's new lines as the clock runs,
//! ending with the container (not followed into its restart) or at `^C`;
//! and the options kubectl turns into `PodLogOptions` (`--tail`, `--since`,
//! `--timestamps`, `--all-containers`, `-l` with `--prefix` and
//! `--max-log-requests`), with kubectl's errors.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted(topology: Topology, seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(topology, seed);
    assert!(
        c.boot(SimDuration::from_secs(60)),
        "the control plane boots"
    );
    (c, Session::new())
}

fn run(c: &mut Cluster, s: &mut Session, script: &str) -> (bool, String) {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    (out[0].ok, out[0].output.clone())
}

fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, out) = run(c, s, script);
    assert!(good, "{script} failed:\n{out}");
    out
}

fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, out) = run(c, s, script);
    assert!(!good, "{script} succeeded:\n{out}");
    out
}

/// A pod on worker-1 printing `tick N` every 2 s, `runs` times, then
/// exiting 0 (and restarting as `restart` says).
fn ticker(name: &str, runs: usize, restart: &str) -> String {
    let list: Vec<String> = (1..=runs).map(|i| i.to_string()).collect();
    format!(
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: ticker}}
spec:
  nodeName: worker-1
  restartPolicy: {restart}
  containers:
  - name: ticker
    image: busybox:1.36
    command: [sh, -c, 'for i in {}; do echo tick $i; sleep 2; done']
---end",
        list.join(" ")
    )
}

fn running(c: &mut Cluster, s: &mut Session, pod: &str) {
    ok(
        c,
        s,
        &format!("sim until pod/{pod} '{{.status.phase}}'=Running 2m"),
    );
}

fn ticks(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("tick "))
        .map(str::to_string)
        .collect()
}

#[test]
fn logs_f_prints_the_log_then_new_lines_as_the_clock_runs_and_returns_when_the_container_ends() {
    let (mut c, mut s) = booted(Topology::default(), 31);
    ok(&mut c, &mut s, &ticker("ticker", 8, "Never"));
    running(&mut c, &mut s, "ticker");
    ok(&mut c, &mut s, "sim advance 3s");
    // The lines already written come at once, and kubectl stays.
    let first = ok(&mut c, &mut s, "kubectl logs -f ticker");
    let seen = ticks(&first);
    assert!(!seen.is_empty() && seen[0] == "tick 1", "{first}");
    assert_eq!(s.watching(), Some("kubectl logs ticker -f"));
    // Each line the container prints next arrives while the clock runs,
    // none twice.
    let more = ok(&mut c, &mut s, "sim advance 4s");
    let next = ticks(&more);
    assert!((1..=3).contains(&next.len()), "{more}");
    assert_eq!(
        next[0],
        format!("tick {}", seen.len() + 1),
        "{first}\n--\n{more}"
    );
    // The container ends after `tick 8`: the stream closes and kubectl
    // returns, with every line printed exactly once.
    let rest = ok(&mut c, &mut s, "sim advance 20s");
    assert_eq!(s.watching(), None, "{rest}");
    let all: Vec<String> = seen
        .iter()
        .chain(next.iter())
        .chain(ticks(&rest).iter())
        .cloned()
        .collect();
    let expected: Vec<String> = (1..=8).map(|i| format!("tick {i}")).collect();
    assert_eq!(all, expected);
    // Following a finished container prints its log and returns at once.
    let done = ok(&mut c, &mut s, "kubectl logs --follow ticker --tail 2");
    assert_eq!(done, "tick 7\ntick 8");
    ok(&mut c, &mut s, "sim advance 1s");
    assert_eq!(s.watching(), None);
}

#[test]
fn a_followed_log_ends_with_its_container_and_does_not_follow_the_restart() {
    let (mut c, mut s) = booted(Topology::default(), 32);
    ok(&mut c, &mut s, &ticker("looper", 3, "Always"));
    running(&mut c, &mut s, "looper");
    let first = ok(&mut c, &mut s, "kubectl logs looper -f");
    assert!(first.starts_with("tick 1"), "{first}");
    // The first run ends after ~6 s: so does the stream.
    let out = ok(&mut c, &mut s, "sim advance 8s");
    assert_eq!(s.watching(), None, "{out}");
    // The kubelet restarts it; the new run's lines are not printed to the
    // finished kubectl.
    let later = ok(&mut c, &mut s, "sim advance 15s");
    assert!(ticks(&later).is_empty(), "{later}");
    let restarts: u32 = ok(
        &mut c,
        &mut s,
        "kubectl get pod looper -o jsonpath={.status.containerStatuses[0].restartCount}",
    )
    .parse()
    .expect("a restart count");
    assert!(restarts >= 1, "{restarts}");
    running(&mut c, &mut s, "looper");
    // The new run logs again: a new `logs -f` follows it.
    let again = ok(&mut c, &mut s, "kubectl logs looper -f");
    assert!(again.starts_with("tick 1"), "{again}");
    assert_eq!(s.watching(), Some("kubectl logs looper -f"));
}

#[test]
fn ctrl_c_or_the_next_kubectl_command_stops_following() {
    let (mut c, mut s) = booted(Topology::default(), 33);
    ok(&mut c, &mut s, &ticker("ticker", 100, "Never"));
    running(&mut c, &mut s, "ticker");
    ok(&mut c, &mut s, "kubectl logs -f ticker");
    ok(&mut c, &mut s, "^C");
    assert_eq!(s.watching(), None);
    let quiet = ok(&mut c, &mut s, "sim advance 6s");
    assert!(ticks(&quiet).is_empty(), "{quiet}");
    ok(&mut c, &mut s, "kubectl logs -f ticker");
    let pods = ok(&mut c, &mut s, "kubectl get pods");
    assert!(pods.starts_with("NAME"), "{pods}");
    assert_eq!(s.watching(), None);
    let quiet = ok(&mut c, &mut s, "sim advance 6s");
    assert!(ticks(&quiet).is_empty(), "{quiet}");
}

#[test]
fn tail_since_and_timestamps_select_and_stamp_lines() {
    let (mut c, mut s) = booted(Topology::default(), 34);
    ok(&mut c, &mut s, &ticker("ticker", 100, "Never"));
    running(&mut c, &mut s, "ticker");
    ok(&mut c, &mut s, "sim advance 20s");
    let all = ticks(&ok(&mut c, &mut s, "kubectl logs ticker"));
    assert!(all.len() >= 10, "{all:?}");
    let tail = ok(&mut c, &mut s, "kubectl logs ticker --tail 3");
    assert_eq!(tail, all[all.len() - 3..].join("\n"));
    // One line every 2 s: the last 5 s hold two or three.
    let since = ticks(&ok(&mut c, &mut s, "kubectl logs ticker --since 5s"));
    assert!((2..=3).contains(&since.len()), "{since:?}");
    assert_eq!(since.last(), all.last());
    let stamped = ok(&mut c, &mut s, "kubectl logs ticker --tail 1 --timestamps");
    let (time, line) = stamped.split_once(' ').expect("a timestamp first");
    assert!(
        time.starts_with("2026-01-01T00:0") && time.ends_with('Z'),
        "{stamped}"
    );
    assert!(line.starts_with("tick "), "{stamped}");
    // kubectl's own checks.
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl logs ticker --since 5s --since-time 2026-01-01T00:00:00Z"
        ),
        "error: at most one of `sinceTime` or `sinceSeconds` may be specified"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs ticker --since 5"),
        "error: invalid argument \"5\" for \"--since\" flag: time: missing unit in duration \"5\""
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs ticker --tail -2"),
        "error: --tail must be greater than or equal to -1"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs"),
        "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs ticker -l app=ticker"),
        "error: only a selector (-l) or a POD name is allowed\nSee 'kubectl logs -h' for help and examples"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs ticker ticker -c ticker"),
        "error: only one of -c or an inline [CONTAINER] arg is allowed"
    );
    // `logs POD CONTAINER` names the container inline.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs ticker ticker --tail 1"),
        all[all.len() - 1..].join("")
    );
}

const TWO_CONTAINERS: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  nodeName: worker-2
  initContainers:
  - name: setup
    image: busybox:1.36
    command: [sh, -c, 'echo prepared']
  containers:
  - name: left
    image: busybox:1.36
    command: [sh, -c, 'echo left up; sleep 3600']
  - name: right
    image: busybox:1.36
    command: [sh, -c, 'echo right up; sleep 3600']
---end";

#[test]
fn all_containers_reads_init_containers_then_containers_and_prefix_names_them() {
    let (mut c, mut s) = booted(Topology::default(), 35);
    ok(&mut c, &mut s, TWO_CONTAINERS);
    running(&mut c, &mut s, "duo");
    ok(&mut c, &mut s, "sim advance 2s");
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs duo --all-containers"),
        "prepared\nleft up\nright up"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs duo --all-containers --prefix"),
        "[pod/duo/setup] prepared\n[pod/duo/left] left up\n[pod/duo/right] right up"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs duo"),
        "Defaulted container \"left\" out of: left, right, setup (init)\nleft up"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs duo --all-containers -c left"),
        "error: --all-containers=true should not be specified with container name left"
    );
    // Three streams followed at once: more than --max-log-requests refuses.
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs duo --all-containers -f --max-log-requests 2"),
        "error: you are attempting to follow 3 log streams, but maximum allowed concurrency is 2, use --max-log-requests to increase the limit"
    );
    // The init container has ended: its stream closes at once, the others
    // stay open.
    let out = ok(
        &mut c,
        &mut s,
        "kubectl logs duo --all-containers -f --prefix",
    );
    assert!(out.contains("[pod/duo/setup] prepared"), "{out}");
    assert!(s.watching().is_some());
}

#[test]
fn a_selector_reads_every_matching_pod_with_ten_lines_each_and_follows_them_together() {
    let (mut c, mut s) = booted(Topology::default(), 36);
    ok(&mut c, &mut s, &ticker("tick-a", 100, "Never"));
    ok(&mut c, &mut s, &ticker("tick-b", 100, "Never"));
    running(&mut c, &mut s, "tick-a");
    running(&mut c, &mut s, "tick-b");
    ok(&mut c, &mut s, "sim advance 30s");
    // Ten lines per pod by default with a selector.
    let out = ok(&mut c, &mut s, "kubectl logs -l app=ticker --prefix");
    let a = out
        .lines()
        .filter(|l| l.starts_with("[pod/tick-a/ticker] tick "))
        .count();
    let b = out
        .lines()
        .filter(|l| l.starts_with("[pod/tick-b/ticker] tick "))
        .count();
    assert_eq!((a, b), (10, 10), "{out}");
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs -l app=none"),
        "No resources found in default namespace."
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl logs -l app=ticker -f --max-log-requests 1"),
        "error: you are attempting to follow 2 log streams, but maximum allowed concurrency is 1, use --max-log-requests to increase the limit"
    );
    ok(
        &mut c,
        &mut s,
        "kubectl logs -l app=ticker -f --prefix --tail 0",
    );
    assert_eq!(s.watching(), Some("kubectl logs -l app=ticker -f"));
    let more = ok(&mut c, &mut s, "sim advance 5s");
    assert!(more.contains("[pod/tick-a/ticker] tick "), "{more}");
    assert!(more.contains("[pod/tick-b/ticker] tick "), "{more}");
}

#[test]
fn a_followed_log_travels_through_konnectivity() {
    let topology = Topology::builder()
        .konnectivity(true)
        .build()
        .expect("a valid topology");
    let (mut c, mut s) = booted(topology, 37);
    // The agents run as a DaemonSet: wait for its pods and their tunnels.
    ok(
        &mut c,
        &mut s,
        "sim until daemonset/konnectivity-agent -n kube-system '{.status.numberReady}'=6 3m",
    );
    let mut tunnels = false;
    for _ in 0..600 {
        let view = c.snapshot().konnectivity.expect("Konnectivity runs");
        if view
            .agents
            .iter()
            .all(|a| a.up && a.tunnels == view.servers.len())
        {
            tunnels = true;
            break;
        }
        c.advance(SimDuration::from_millis(100));
    }
    assert!(tunnels, "every agent tunnels to every server");
    ok(&mut c, &mut s, &ticker("ticker", 100, "Never"));
    running(&mut c, &mut s, "ticker");
    ok(&mut c, &mut s, "sim advance 5s");
    let since = c.now();
    ok(&mut c, &mut s, "kubectl logs -f ticker");
    let hops: Vec<String> = c
        .trace()
        .since(since)
        .filter(|e| e.kind == "kubelet-api")
        .map(|e| format!("{} -> {}: {}", e.from, e.to, e.summary))
        .collect();
    assert!(
        hops.iter().any(|h| h.starts_with(
            "konnectivity-agent@worker-1 -> kubelet@worker-1: GET https://10.0.1.11:10250/containerLogs/default/ticker/ticker?follow=true"
        )),
        "{hops:?}"
    );
    let since = c.now();
    let more = ok(&mut c, &mut s, "sim advance 4s");
    assert!(!ticks(&more).is_empty(), "{more}");
    // New lines come back through the agent and the server.
    assert!(c
        .trace()
        .since(since)
        .any(|e| &*e.from == "kubelet@worker-1" && &*e.to == "konnectivity-agent@worker-1"));
}
