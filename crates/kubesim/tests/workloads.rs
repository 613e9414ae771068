//! Behaviour tests of kube-controller-manager's workload controllers (Job,
//! CronJob, DaemonSet, StatefulSet), through the command language, with
//! the docs' manifests.
//!
//! The whole cluster runs: the scheduler binds the pods and the kubelets run
//! them through containerd, so Jobs really compute and fail, and timings
//! follow the real defaults.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted(seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    (c, Session::new())
}

/// Runs one command and returns its output, asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(out[0].ok, "{script} failed:\n{}", out[0].output);
    out[0].output.clone()
}

/// Seconds of a `2026-01-01T00:01:26Z` timestamp since the run began.
fn seconds(t: &str) -> f64 {
    let time = t.trim().trim_end_matches('Z');
    let clock = time.split('T').nth(1).unwrap_or_default();
    let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap_or(0.0)).collect();
    if parts.len() < 3 {
        return f64::NAN;
    }
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// `jsonpath` over `what`, one line per item.
fn lines(c: &mut Cluster, s: &mut Session, what: &str, fields: &str) -> Vec<String> {
    ok(
        c,
        s,
        &format!("kubectl get {what} -o 'jsonpath={{range .items[*]}}{fields}{{\"\\n\"}}{{end}}'"),
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(str::to_string)
    .collect()
}

const PI_JOB: &str = "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34.0
        command: [\"perl\",  \"-Mbignum=bpi\", \"-wle\", \"print bpi(2000)\"]
      restartPolicy: Never
  backoffLimit: 4
---end";

#[test]
fn the_docs_pi_job_computes_pi_and_completes() {
    let (mut c, mut s) = booted(21);
    ok(&mut c, &mut s, PI_JOB);
    ok(&mut c, &mut s, "sim advance 5s");
    let pods = lines(&mut c, &mut s, "pods -l job-name=pi", "{.metadata.name}");
    assert_eq!(pods.len(), 1, "one pod: {pods:?}");
    assert!(pods[0].starts_with("pi-"), "{pods:?}");
    let labels = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {} -o jsonpath={{.metadata.labels}}", pods[0]),
    );
    let uid = ok(&mut c, &mut s, "kubectl get job pi -o jsonpath={.metadata.uid}");
    let compact: String = labels.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains(&format!("\"batch.kubernetes.io/controller-uid\":\"{}\"", uid.trim())),
        "pods carry the Job's controller-uid: {labels}"
    );
    assert!(compact.contains("\"job-name\":\"pi\""), "{labels}");
    let running = ok(&mut c, &mut s, "kubectl get job pi");
    assert!(running.contains("Running"), "{running}");
    ok(
        &mut c,
        &mut s,
        "sim until job/pi '{.status.succeeded}'=1 2m",
    );
    ok(&mut c, &mut s, "sim advance 2s");
    let status = ok(
        &mut c,
        &mut s,
        "kubectl get job pi -o jsonpath={.status.conditions[*].type}/{.status.startTime}/{.status.completionTime}",
    );
    let parts: Vec<&str> = status.trim().split('/').collect();
    assert_eq!(parts[0], "SuccessCriteriaMet Complete", "{status}");
    // perl computes 2000 digits in about ten seconds, after the pull of a
    // 336 MB image.
    let took = seconds(parts[2]) - seconds(parts[1]);
    assert!((10.0..120.0).contains(&took), "took {took} s: {status}");
    let table = ok(&mut c, &mut s, "kubectl get job pi");
    assert!(table.contains("Complete") && table.contains("1/1"), "{table}");
    let exit = ok(
        &mut c,
        &mut s,
        &format!(
            "kubectl get pod {} -o jsonpath={{.status.phase}}/{{.status.containerStatuses[0].state.terminated.reason}}/{{.status.containerStatuses[0].state.terminated.exitCode}}",
            pods[0]
        ),
    );
    assert_eq!(exit.trim(), "Succeeded/Completed/0");
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(events.contains(&format!("Created pod: {}", pods[0])), "{events}");
    assert!(events.contains("Job completed"), "{events}");
}

#[test]
fn a_failing_job_backs_off_ten_twenty_forty_seconds_and_fails_at_the_backoff_limit() {
    let (mut c, mut s) = booted(22);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: fail
spec:
  template:
    spec:
      containers:
      - name: fail
        image: busybox:1.36
        command: [\"sh\", \"-c\", \"exit 1\"]
      restartPolicy: Never
---end",
    );
    ok(&mut c, &mut s, "sim advance 600s");
    let failed = ok(&mut c, &mut s, "kubectl get job fail -o jsonpath={.status.failed}");
    assert_eq!(failed.trim(), "6", "six failures after ten minutes");
    ok(
        &mut c,
        &mut s,
        "sim until job/fail '{.status.failed}'=7 5m",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    let mut pods: Vec<(f64, f64)> = lines(
        &mut c,
        &mut s,
        "pods -l job-name=fail",
        "{.metadata.creationTimestamp} {.status.containerStatuses[0].state.terminated.finishedAt} {.status.phase}",
    )
    .iter()
    .map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(w.get(2), Some(&"Failed"), "{l}");
        (seconds(w[0]), seconds(w[1]))
    })
    .collect();
    pods.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(pods.len(), 7, "the first try and backoffLimit 6 retries: {pods:?}");
    for (i, pair) in pods.windows(2).enumerate() {
        let delay = pair[1].0 - pair[0].1;
        let want = 10.0 * f64::from(1u32 << i);
        assert!(
            (delay - want).abs() <= 2.0,
            "retry {} came {delay} s after the failure, want {want} s: {pods:?}",
            i + 1
        );
    }
    let conds = ok(
        &mut c,
        &mut s,
        "kubectl get job fail -o 'jsonpath={range .status.conditions[*]}{.type}={.reason}={.message}{\"\\n\"}{end}'",
    );
    assert!(
        conds.contains("Failed=BackoffLimitExceeded=Job has reached the specified backoff limit"),
        "{conds}"
    );
    let table = ok(&mut c, &mut s, "kubectl get job fail");
    assert!(table.contains("Failed") && table.contains("0/1"), "{table}");
    ok(&mut c, &mut s, "sim advance 60s");
    let after = lines(&mut c, &mut s, "pods -l job-name=fail", "{.metadata.name}");
    assert_eq!(after.len(), 7, "no retry after the Job failed");
}
