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
        &format!(
            "kubectl get pod {} -o jsonpath={{.metadata.labels}}",
            pods[0]
        ),
    );
    let uid = ok(
        &mut c,
        &mut s,
        "kubectl get job pi -o jsonpath={.metadata.uid}",
    );
    let compact: String = labels.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains(&format!(
            "\"batch.kubernetes.io/controller-uid\":\"{}\"",
            uid.trim()
        )),
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
    assert!(
        table.contains("Complete") && table.contains("1/1"),
        "{table}"
    );
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
    assert!(
        events.contains(&format!("Created pod: {}", pods[0])),
        "{events}"
    );
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
    let failed = ok(
        &mut c,
        &mut s,
        "kubectl get job fail -o jsonpath={.status.failed}",
    );
    assert_eq!(failed.trim(), "6", "six failures after ten minutes");
    ok(&mut c, &mut s, "sim until job/fail '{.status.failed}'=7 5m");
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
    assert_eq!(
        pods.len(),
        7,
        "the first try and backoffLimit 6 retries: {pods:?}"
    );
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

/// `kubectl get pods` of a selector: (name, node) pairs.
fn pods_on_nodes(c: &mut Cluster, s: &mut Session, what: &str) -> Vec<(String, String)> {
    lines(c, s, what, "{.metadata.name} {.spec.nodeName}")
        .iter()
        .map(|l| {
            let mut w = l.split_whitespace();
            (
                w.next().unwrap_or_default().to_string(),
                w.next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_daemon_set_runs_one_pod_on_each_worker_and_not_on_tainted_control_planes() {
    let (mut c, mut s) = booted(31);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      app: node-agent
  template:
    metadata:
      labels:
        app: node-agent
    spec:
      containers:
      - name: agent
        image: registry.k8s.io/pause:3.10
---end",
    );
    ok(&mut c, &mut s, "sim advance 30s");
    let mut nodes: Vec<String> = pods_on_nodes(&mut c, &mut s, "pods -l app=node-agent")
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    nodes.sort();
    assert_eq!(nodes, vec!["worker-1", "worker-2", "worker-3"]);
    let status = ok(
        &mut c,
        &mut s,
        "kubectl get ds node-agent -o jsonpath={.status.desiredNumberScheduled}/{.status.currentNumberScheduled}/{.status.numberReady}/{.status.updatedNumberScheduled}/{.status.numberAvailable}",
    );
    assert_eq!(status.trim(), "3/3/3/3/3");
    let table = ok(&mut c, &mut s, "kubectl get ds");
    assert!(
        table.contains("DESIRED") && table.contains("NODE SELECTOR"),
        "{table}"
    );
    let hashes = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.metadata.labels.controller-revision-hash}",
    );
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| h == &hashes[0] && !h.is_empty()));
    // A deleted daemon pod comes back on its node.
    let (victim, node) = pods_on_nodes(&mut c, &mut s, "pods -l app=node-agent")[0].clone();
    ok(&mut c, &mut s, &format!("kubectl delete pod {victim}"));
    ok(&mut c, &mut s, "sim advance 40s");
    let after = pods_on_nodes(&mut c, &mut s, "pods -l app=node-agent");
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(
        after.iter().any(|(p, n)| n == &node && p != &victim),
        "{after:?}"
    );
}

#[test]
fn the_docs_fluentd_daemon_set_tolerates_the_control_plane_and_runs_everywhere() {
    let (mut c, mut s) = booted(32);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd-elasticsearch
  namespace: kube-system
  labels:
    k8s-app: fluentd-logging
spec:
  selector:
    matchLabels:
      name: fluentd-elasticsearch
  template:
    metadata:
      labels:
        name: fluentd-elasticsearch
    spec:
      tolerations:
      # these tolerations are to have the daemonset runnable on control plane nodes
      # remove them if your control plane nodes should not run pods
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      - key: node-role.kubernetes.io/master
        operator: Exists
        effect: NoSchedule
      containers:
      - name: fluentd-elasticsearch
        image: quay.io/fluentd_elasticsearch/fluentd:v2.5.2
        resources:
          limits:
            memory: 200Mi
          requests:
            cpu: 100m
            memory: 200Mi
        volumeMounts:
        - name: varlog
          mountPath: /var/log
      # it may be desirable to set a high priority class to ensure that a DaemonSet Pod
      # preempts running Pods
      # priorityClassName: important
      terminationGracePeriodSeconds: 30
      volumes:
      - name: varlog
        hostPath:
          path: /var/log
---end",
    );
    ok(&mut c, &mut s, "sim advance 60s");
    let mut nodes: Vec<String> = pods_on_nodes(
        &mut c,
        &mut s,
        "pods -n kube-system -l name=fluentd-elasticsearch",
    )
    .into_iter()
    .map(|(_, n)| n)
    .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        vec![
            "control-plane-1",
            "control-plane-2",
            "control-plane-3",
            "worker-1",
            "worker-2",
            "worker-3"
        ]
    );
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get ds -n kube-system fluentd-elasticsearch -o jsonpath={.status.numberReady}",
    );
    assert_eq!(ready.trim(), "6");
    let affinity = ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l name=fluentd-elasticsearch -o jsonpath={.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key}",
    );
    assert_eq!(affinity.trim(), "metadata.name", "pinned by node affinity");
}

const WEB: &str = "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: nginx # has to match .spec.template.metadata.labels
  serviceName: \"nginx\"
  replicas: 3 # by default is 1
  minReadySeconds: 10 # by default is 0
  template:
    metadata:
      labels:
        app: nginx # has to match .spec.selector.matchLabels
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.24
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ \"ReadWriteOnce\" ]
      storageClassName: \"my-storage-class\"
      resources:
        requests:
          storage: 1Gi
---end";

/// Pods of the `web` StatefulSet: name, pod-name label, hostname,
/// deletion timestamp, phase, node.
fn web_pods(c: &mut Cluster, s: &mut Session) -> Vec<Vec<String>> {
    lines(
        c,
        s,
        "pods -l app=nginx",
        "{.metadata.name}|{.metadata.labels.statefulset\\.kubernetes\\.io/pod-name}|{.spec.hostname}|{.metadata.deletionTimestamp}|{.status.phase}|{.spec.nodeName}",
    )
    .iter()
    .map(|l| l.split('|').map(str::to_string).collect())
    .collect()
}

#[test]
fn the_docs_web_stateful_set_creates_web_0_then_web_1_then_web_2() {
    let (mut c, mut s) = booted(41);
    ok(&mut c, &mut s, WEB);
    ok(&mut c, &mut s, "sim advance 2s");
    let first = lines(&mut c, &mut s, "pods -l app=nginx", "{.metadata.name}");
    assert_eq!(first, vec!["web-0"], "one pod at a time");
    ok(
        &mut c,
        &mut s,
        "sim until statefulset/web '{.status.availableReplicas}'=3 3m",
    );
    let pods = lines(
        &mut c,
        &mut s,
        "pods -l app=nginx",
        "{.metadata.name} {.metadata.creationTimestamp} {.status.conditions[?(@.type==\"Ready\")].lastTransitionTime} {.spec.hostname} {.spec.subdomain}",
    );
    assert_eq!(pods.len(), 3, "{pods:?}");
    let rows: Vec<Vec<&str>> = pods
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], format!("web-{i}"));
        assert_eq!(r[3], r[0], "hostname is the pod name");
        assert_eq!(r[4], "nginx", "subdomain is the governing service");
    }
    for pair in rows.windows(2) {
        let (ready, next_created) = (seconds(pair[0][2]), seconds(pair[1][1]));
        // OrderedReady with minReadySeconds 10: the next ordinal comes
        // once the previous pod has been Ready for ten seconds.
        assert!(
            next_created >= ready + 10.0 && next_created <= ready + 13.0,
            "{} created at {next_created}, {} ready at {ready}: {pods:?}",
            pair[1][0],
            pair[0][0]
        );
    }
    let status = ok(
        &mut c,
        &mut s,
        "kubectl get sts web -o jsonpath={.status.replicas}/{.status.readyReplicas}/{.status.currentReplicas}/{.status.updatedReplicas}",
    );
    assert_eq!(status.trim(), "3/3/3/3");
    let revs = ok(
        &mut c,
        &mut s,
        "kubectl get sts web -o jsonpath={.status.currentRevision}/{.status.updateRevision}",
    );
    let (cur, upd) = revs.trim().split_once('/').unwrap_or_default();
    assert!(cur.starts_with("web-") && cur == upd, "{revs}");
    let table = ok(&mut c, &mut s, "kubectl get sts");
    assert!(table.contains("web") && table.contains("3/3"), "{table}");
    let claim = ok(
        &mut c,
        &mut s,
        "kubectl get pod web-1 -o jsonpath={.spec.volumes[?(@.name==\"www\")].persistentVolumeClaim.claimName}",
    );
    assert_eq!(claim.trim(), "www-web-1");
    // Scaling down removes the highest ordinal.
    ok(&mut c, &mut s, "kubectl scale sts web --replicas=1");
    ok(&mut c, &mut s, "sim advance 60s");
    let left = lines(&mut c, &mut s, "pods -l app=nginx", "{.metadata.name}");
    assert_eq!(left, vec!["web-0"]);
}

#[test]
fn no_two_pods_of_a_stateful_set_share_an_identity_when_nodes_power_off() {
    for seed in [51, 52, 53] {
        let (mut c, mut s) = booted(seed);
        ok(&mut c, &mut s, WEB);
        ok(
            &mut c,
            &mut s,
            "sim until statefulset/web '{.status.readyReplicas}'=3 3m",
        );
        let before = web_pods(&mut c, &mut s);
        let node = before
            .iter()
            .find(|p| p[0] == "web-1")
            .map(|p| p[5].clone())
            .unwrap_or_default();
        assert!(node.starts_with("worker-"), "{before:?}");
        ok(&mut c, &mut s, &format!("sim fault {node} power-off"));
        for _ in 0..24 {
            ok(&mut c, &mut s, "sim advance 30s");
            let pods = web_pods(&mut c, &mut s);
            let mut identities: Vec<&str> = Vec::new();
            for p in &pods {
                assert_eq!(p[0], p[1], "seed {seed}: the pod-name label: {pods:?}");
                assert_eq!(p[0], p[2], "seed {seed}: the hostname: {pods:?}");
                assert!(
                    ["web-0", "web-1", "web-2"].contains(&p[0].as_str()),
                    "seed {seed}: {pods:?}"
                );
                assert!(
                    !identities.contains(&p[1].as_str()),
                    "seed {seed}: {pods:?}"
                );
                identities.push(&p[1]);
            }
        }
        // The pod on the dead node keeps its identity (evicted after 300 s,
        // it stays Terminating: no kubelet confirms it stopped).
        let stuck = web_pods(&mut c, &mut s);
        let web1 = stuck
            .iter()
            .find(|p| p[0] == "web-1")
            .cloned()
            .unwrap_or_default();
        assert_eq!(web1.get(5), Some(&node), "seed {seed}: {stuck:?}");
        assert!(
            !web1[3].is_empty(),
            "seed {seed}: web-1 is being deleted: {stuck:?}"
        );
        // Once the node is back, its kubelet finishes the deletion and
        // web-1 comes back, with the same identity.
        ok(&mut c, &mut s, &format!("sim heal {node}"));
        ok(
            &mut c,
            &mut s,
            "sim until statefulset/web '{.status.readyReplicas}'=3 5m",
        );
        let after = web_pods(&mut c, &mut s);
        let names: Vec<&str> = after.iter().map(|p| p[0].as_str()).collect();
        assert_eq!(names, vec!["web-0", "web-1", "web-2"], "seed {seed}");
    }
}

fn cronjob(name: &str, schedule: &str, policy: &str, script: &str) -> String {
    format!(
        "kubectl apply -f -
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
spec:
  schedule: \"{schedule}\"
  concurrencyPolicy: {policy}
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - {script}
          restartPolicy: OnFailure
---end"
    )
}

#[test]
fn a_cron_job_every_minute_creates_a_job_each_virtual_minute_and_keeps_three() {
    let (mut c, mut s) = booted(61);
    ok(
        &mut c,
        &mut s,
        &cronjob(
            "hello",
            "*/1 * * * *",
            "Allow",
            "date; echo Hello from the Kubernetes cluster",
        ),
    );
    ok(&mut c, &mut s, "sim advance 330s");
    let jobs = lines(
        &mut c,
        &mut s,
        "jobs",
        "{.metadata.name} {.metadata.creationTimestamp} {.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp} {.status.succeeded}",
    );
    assert_eq!(jobs.len(), 3, "successfulJobsHistoryLimit 3: {jobs:?}");
    let mut minutes = Vec::new();
    for j in &jobs {
        let w: Vec<&str> = j.split_whitespace().collect();
        let minute: i64 = w[0]
            .strip_prefix("hello-")
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("{j}"));
        let created = seconds(w[1]);
        // Named after the scheduled minute (Unix minutes); created just after.
        let scheduled = (minute - 29_453_760) as f64 * 60.0;
        assert!(created >= scheduled && created < scheduled + 2.0, "{j}");
        assert_eq!(seconds(w[2]), scheduled, "{j}");
        assert_eq!(w.get(3), Some(&"1"), "each Job succeeded: {j}");
        minutes.push(minute);
    }
    minutes.sort();
    assert!(
        minutes.windows(2).all(|m| m[1] == m[0] + 1),
        "one Job per minute: {minutes:?}"
    );
    let last = ok(
        &mut c,
        &mut s,
        "kubectl get cronjob hello -o jsonpath={.status.lastScheduleTime}",
    );
    assert_eq!(
        seconds(&last),
        (minutes[2] - 29_453_760) as f64 * 60.0,
        "{last}"
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(events.contains("Created job hello-"), "{events}");
    assert!(events.contains("Saw completed job: hello-"), "{events}");
    assert!(events.contains("Deleted job hello-"), "{events}");
    let table = ok(&mut c, &mut s, "kubectl get cronjob hello");
    assert!(
        table.contains("*/1 * * * *") && table.contains("False"),
        "{table}"
    );
}

#[test]
fn a_forbidding_cron_job_skips_runs_while_one_is_active() {
    let (mut c, mut s) = booted(62);
    ok(
        &mut c,
        &mut s,
        &cronjob("slow", "* * * * *", "Forbid", "sleep 150"),
    );
    for _ in 0..8 {
        ok(&mut c, &mut s, "sim advance 30s");
        let active = ok(
            &mut c,
            &mut s,
            "kubectl get cronjob slow -o jsonpath={.status.active[*].name}",
        );
        assert!(
            active.split_whitespace().count() <= 1,
            "at most one active Job: {active}"
        );
    }
    let jobs = lines(&mut c, &mut s, "jobs", "{.metadata.name}");
    assert!(
        jobs.len() == 2,
        "a 150 s Job each minute runs every third minute: {jobs:?}"
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(
        events.contains(
            "Not starting job because prior execution is running and concurrency policy is Forbid"
        ),
        "{events}"
    );
}

#[test]
fn a_bad_schedule_is_rejected_with_the_api_servers_message() {
    let (mut c, mut s) = booted(63);
    let out = s.run_script(&mut c, &cronjob("bad", "61 * * * *", "Allow", "echo hi"));
    assert_eq!(out.len(), 1);
    assert!(!out[0].ok);
    assert!(
        out[0].output.contains(
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
        ),
        "{}",
        out[0].output
    );
}

fn agent(image: &str) -> String {
    format!(
        "kubectl apply -f -
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-agent
spec:
  selector:
    matchLabels:
      app: node-agent
  template:
    metadata:
      labels:
        app: node-agent
    spec:
      containers:
      - name: agent
        image: {image}
        readinessProbe:
          httpGet:
            port: 80
          periodSeconds: 2
---end"
    )
}

#[test]
fn a_daemon_set_rolling_update_replaces_one_node_at_a_time() {
    let (mut c, mut s) = booted(33);
    ok(&mut c, &mut s, &agent("nginx:1.14.2"));
    ok(
        &mut c,
        &mut s,
        "sim until daemonset/node-agent '{.status.numberAvailable}'=3 2m",
    );
    // At rest the controller writes nothing more.
    ok(&mut c, &mut s, "sim advance 5s");
    let rv = ok(
        &mut c,
        &mut s,
        "kubectl get ds node-agent -o jsonpath={.metadata.resourceVersion}",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    let rv2 = ok(
        &mut c,
        &mut s,
        "kubectl get ds node-agent -o jsonpath={.metadata.resourceVersion}",
    );
    assert_eq!(rv, rv2, "no status writes at rest");
    let old_hash = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.metadata.labels.controller-revision-hash}",
    );
    ok(&mut c, &mut s, &agent("nginx:1.16.1"));
    let mut done = false;
    for _ in 0..240 {
        ok(&mut c, &mut s, "sim advance 500ms");
        let pods = lines(
            &mut c,
            &mut s,
            "pods -l app=node-agent",
            "{.spec.nodeName} {.metadata.deletionTimestamp}{.status.conditions[?(@.type==\"Ready\")].status} {.metadata.labels.controller-revision-hash}",
        );
        // maxUnavailable 1: at least two nodes keep a ready pod.
        let ready = pods.iter().filter(|p| p.contains(" True ")).count();
        assert!(ready >= 2, "{pods:?}");
        let updated = pods
            .iter()
            .filter(|p| p.contains(" True ") && !p.ends_with(old_hash[0].as_str()))
            .count();
        if updated == 3 && pods.len() == 3 {
            done = true;
            break;
        }
    }
    assert!(done, "the update finished within two minutes");
    let images = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.spec.containers[0].image}",
    );
    assert_eq!(images, vec!["nginx:1.16.1"; 3]);
}

#[test]
fn a_stateful_set_rolling_update_goes_from_the_highest_ordinal_down() {
    let (mut c, mut s) = booted(42);
    ok(&mut c, &mut s, WEB);
    ok(
        &mut c,
        &mut s,
        "sim until statefulset/web '{.status.availableReplicas}'=3 3m",
    );
    let before = ok(
        &mut c,
        &mut s,
        "kubectl get sts web -o jsonpath={.status.currentRevision}",
    );
    ok(
        &mut c,
        &mut s,
        &WEB.replace("nginx-slim:0.24", "nginx-slim:0.21"),
    );
    ok(
        &mut c,
        &mut s,
        "sim until statefulset/web '{.status.currentRevision}'!=",
    );
    ok(&mut c, &mut s, "sim advance 2s");
    let mut step = 0;
    loop {
        let rev = ok(
            &mut c,
            &mut s,
            "kubectl get sts web -o jsonpath={.status.currentRevision}/{.status.updateRevision}/{.status.updatedReplicas}",
        );
        let parts: Vec<&str> = rev.trim().split('/').collect();
        if parts[0] == parts[1] && parts[0] != before.trim() {
            break;
        }
        step += 1;
        assert!(step < 120, "the update finishes: {rev}");
        ok(&mut c, &mut s, "sim advance 1s");
    }
    let pods = lines(
        &mut c,
        &mut s,
        "pods -l app=nginx",
        "{.metadata.name} {.metadata.creationTimestamp} {.spec.containers[0].image}",
    );
    let rows: Vec<Vec<&str>> = pods
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{pods:?}");
    assert!(
        rows.iter()
            .all(|r| r[2] == "registry.k8s.io/nginx-slim:0.21"),
        "{pods:?}"
    );
    assert!(
        seconds(rows[2][1]) < seconds(rows[1][1]) && seconds(rows[1][1]) < seconds(rows[0][1]),
        "web-2 is replaced first, web-0 last: {pods:?}"
    );
}

#[test]
fn an_on_failure_job_fails_when_container_restarts_reach_the_backoff_limit() {
    let (mut c, mut s) = booted(23);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: flaky
spec:
  backoffLimit: 2
  template:
    spec:
      containers:
      - name: flaky
        image: busybox:1.36
        command: [\"sh\", \"-c\", \"exit 1\"]
      restartPolicy: OnFailure
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until job/flaky '{.status.conditions[?(@.type==\"Failed\")].status}'=True 3m",
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    let created = events.matches("Created pod: flaky-").count();
    assert_eq!(created, 1, "the kubelet restarts the one pod: {events}");
    assert!(
        events.contains("Deleted pod: flaky-"),
        "the running pod is deleted once the Job fails: {events}"
    );
    assert!(events.contains("BackOff"), "restarts back off: {events}");
    let reason = ok(
        &mut c,
        &mut s,
        "kubectl get job flaky -o jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}",
    );
    assert_eq!(reason.trim(), "BackoffLimitExceeded");
}

#[test]
fn a_finished_job_is_deleted_after_its_ttl() {
    let (mut c, mut s) = booted(24);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: quick
spec:
  ttlSecondsAfterFinished: 30
  template:
    spec:
      containers:
      - name: quick
        image: busybox:1.36
        command: [\"sh\", \"-c\", \"echo done\"]
      restartPolicy: Never
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until job/quick '{.status.succeeded}'=1 1m",
    );
    ok(&mut c, &mut s, "sim advance 25s");
    let still = ok(
        &mut c,
        &mut s,
        "kubectl get job quick -o jsonpath={.metadata.deletionTimestamp}",
    );
    assert!(still.trim().is_empty(), "not before the TTL: {still}");
    ok(&mut c, &mut s, "sim advance 10s");
    let out = s.run_script(
        &mut c,
        "kubectl get job quick -o jsonpath={.metadata.deletionTimestamp}",
    );
    // Deleted with foreground propagation: gone, or waiting for the
    // garbage collector to delete its pod first.
    assert!(
        !out[0].ok || !out[0].output.trim().is_empty(),
        "deleted after the TTL: {}",
        out[0].output
    );
}

#[test]
fn a_stateful_set_keeps_its_history_in_controller_revisions_and_rolls_back_with_undo() {
    let (mut c, mut s) = booted(43);
    ok(&mut c, &mut s, WEB);
    let status = ok(&mut c, &mut s, "kubectl rollout status statefulset/web");
    assert!(
        status.ends_with("partitioned roll out complete: 3 new pods have been updated..."),
        "{status}"
    );
    let first = ok(
        &mut c,
        &mut s,
        "kubectl get sts web -o jsonpath={.status.updateRevision}",
    );
    let revs = ok(&mut c, &mut s, "kubectl get controllerrevisions");
    let header: Vec<&str> = revs.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, vec!["NAME", "CONTROLLER", "REVISION", "AGE"]);
    let row = revs.lines().nth(1).unwrap();
    assert!(row.starts_with(&first), "{revs}");
    assert!(row.contains("statefulset.apps/web"), "{revs}");
    // Every pod carries its revision's name.
    let labels = lines(
        &mut c,
        &mut s,
        "pods -l app=nginx",
        "{.metadata.labels.controller-revision-hash}",
    );
    assert_eq!(labels, vec![first.clone(); 3]);
    ok(
        &mut c,
        &mut s,
        &WEB.replace("nginx-slim:0.24", "nginx-slim:0.21"),
    );
    ok(&mut c, &mut s, "kubectl rollout status statefulset/web");
    let (current, update) = {
        let r = ok(
            &mut c,
            &mut s,
            "kubectl get sts web -o jsonpath={.status.currentRevision}/{.status.updateRevision}",
        );
        let (a, b) = r.split_once('/').unwrap();
        (a.to_string(), b.to_string())
    };
    assert_ne!(update, first);
    ok(
        &mut c,
        &mut s,
        &format!("sim until statefulset/web '{{.status.currentRevision}}'={update} 2m"),
    );
    let _ = current;
    let history = ok(&mut c, &mut s, "kubectl rollout history statefulset/web");
    assert_eq!(
        history,
        "statefulset.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>"
    );
    let two = ok(
        &mut c,
        &mut s,
        "kubectl rollout history statefulset/web --revision=2",
    );
    assert!(
        two.contains("image: registry.k8s.io/nginx-slim:0.21"),
        "{two}"
    );
    // Undo goes back to revision 1, which becomes revision 3.
    let undo = ok(&mut c, &mut s, "kubectl rollout undo statefulset/web");
    assert_eq!(undo, "statefulset.apps/web rolled back");
    ok(
        &mut c,
        &mut s,
        &format!("sim until statefulset/web '{{.status.currentRevision}}'={first} 3m"),
    );
    let images = lines(
        &mut c,
        &mut s,
        "pods -l app=nginx",
        "{.spec.containers[0].image}",
    );
    assert_eq!(images, vec!["registry.k8s.io/nginx-slim:0.24"; 3]);
    let history = ok(&mut c, &mut s, "kubectl rollout history statefulset/web");
    assert!(
        history.ends_with("2         <none>\n3         <none>"),
        "{history}"
    );
    let again = ok(
        &mut c,
        &mut s,
        "kubectl rollout undo statefulset/web --to-revision=3",
    );
    assert_eq!(
        again,
        "statefulset.apps/web skipped rollback (current template already matches revision 3)"
    );
    // Deleting the set takes its revisions with it (the garbage collector).
    ok(&mut c, &mut s, "kubectl delete statefulset web");
    ok(&mut c, &mut s, "sim advance 30s");
    let left = ok(&mut c, &mut s, "kubectl get controllerrevisions");
    assert!(!left.contains("web-"), "{left}");
}

#[test]
fn a_daemon_set_rollout_is_recorded_and_undone_through_controller_revisions() {
    let (mut c, mut s) = booted(34);
    // The nodes have registered (with none, a DaemonSet is rolled out at
    // once: 0 of 0).
    ok(&mut c, &mut s, "sim advance 20s");
    ok(&mut c, &mut s, &agent("nginx:1.14.2"));
    let status = ok(
        &mut c,
        &mut s,
        "kubectl rollout status daemonset/node-agent",
    );
    assert!(
        status.ends_with("daemon set \"node-agent\" successfully rolled out"),
        "{status}"
    );
    let hash = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.metadata.labels.controller-revision-hash}",
    );
    assert_eq!(hash.len(), 3, "{status}");
    let revs = ok(&mut c, &mut s, "kubectl get controllerrevisions -o name");
    assert_eq!(
        revs,
        format!("controllerrevision.apps/node-agent-{}", hash[0])
    );
    ok(&mut c, &mut s, &agent("nginx:1.16.1"));
    let status = ok(&mut c, &mut s, "kubectl rollout status ds/node-agent");
    assert!(
        status.contains("Waiting for daemon set \"node-agent\" rollout to finish: 1 out of 3 new pods have been updated..."),
        "{status}"
    );
    assert!(status.ends_with("successfully rolled out"), "{status}");
    let updated = ok(
        &mut c,
        &mut s,
        "kubectl get ds node-agent -o jsonpath={.status.updatedNumberScheduled}",
    );
    assert_eq!(updated, "3");
    let history = ok(
        &mut c,
        &mut s,
        "kubectl rollout history daemonset/node-agent",
    );
    assert_eq!(
        history,
        "daemonset.apps/node-agent \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>"
    );
    ok(&mut c, &mut s, "kubectl rollout undo daemonset/node-agent");
    ok(
        &mut c,
        &mut s,
        "kubectl rollout status daemonset/node-agent",
    );
    let images = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.spec.containers[0].image}",
    );
    assert_eq!(images, vec!["nginx:1.14.2"; 3]);
    let back = lines(
        &mut c,
        &mut s,
        "pods -l app=node-agent",
        "{.metadata.labels.controller-revision-hash}",
    );
    assert_eq!(
        back, hash,
        "the old revision's pods come back with its hash"
    );
    let history = ok(
        &mut c,
        &mut s,
        "kubectl rollout history daemonset/node-agent",
    );
    assert!(
        history.ends_with("2         <none>\n3         <none>"),
        "{history}"
    );
    let pause = s.run_script(&mut c, "kubectl rollout pause daemonset/node-agent");
    assert!(!pause[0].ok);
    assert_eq!(
        pause[0].output,
        "error: daemonsets.apps \"node-agent\" pausing is not supported"
    );
}

#[test]
fn a_re_created_stateful_set_adopts_the_pods_an_orphaning_delete_left() {
    // The docs' StatefulSet tutorial, "Non-cascading delete": the pods stay
    // after `--cascade=orphan`, a deleted one is not replaced, and the
    // re-created StatefulSet adopts the others and makes the missing one.
    let (mut c, mut s) = booted(47);
    ok(&mut c, &mut s, WEB);
    ok(&mut c, &mut s, "sim advance 90s");
    let uid_of = |c: &mut Cluster, s: &mut Session, pod: &str| {
        ok(
            c,
            s,
            &format!("kubectl get pod {pod} -o jsonpath={{.metadata.uid}}"),
        )
    };
    let web1 = uid_of(&mut c, &mut s, "web-1");
    let revision_before = ok(
        &mut c,
        &mut s,
        "kubectl get statefulset web -o jsonpath={.status.currentRevision}",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl delete statefulset web --cascade=orphan",
    );
    ok(&mut c, &mut s, "kubectl delete pod web-0");
    ok(&mut c, &mut s, "sim advance 30s");
    let names: Vec<String> = web_pods(&mut c, &mut s)
        .into_iter()
        .map(|p| p[0].clone())
        .collect();
    assert_eq!(names, vec!["web-1", "web-2"], "nothing replaces web-0");
    ok(&mut c, &mut s, WEB);
    ok(&mut c, &mut s, "sim advance 60s");
    let pods = web_pods(&mut c, &mut s);
    let names: Vec<&str> = pods.iter().map(|p| p[0].as_str()).collect();
    assert_eq!(names, vec!["web-0", "web-1", "web-2"]);
    assert!(pods.iter().all(|p| p[4] == "Running"), "{pods:?}");
    assert_eq!(
        uid_of(&mut c, &mut s, "web-1"),
        web1,
        "web-1 was adopted, not replaced"
    );
    let set_uid = ok(
        &mut c,
        &mut s,
        "kubectl get statefulset web -o jsonpath={.metadata.uid}",
    );
    let owners = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l app=nginx -o jsonpath={.items[*].metadata.ownerReferences[0].uid}",
    );
    assert_eq!(
        owners.split_whitespace().collect::<Vec<_>>(),
        vec![set_uid.as_str(); 3]
    );
    // Its history too: the orphaned revision is adopted (same template, so
    // no new revision and no rolling restart of the adopted pods).
    let revisions = ok(
        &mut c,
        &mut s,
        "kubectl get controllerrevisions -l app=nginx -o jsonpath={.items[*].metadata.ownerReferences[0].uid}",
    );
    assert_eq!(revisions, set_uid, "one revision, owned by the new set");
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get statefulset web -o jsonpath={.status.currentRevision}/{.status.updateRevision}",
        ),
        format!("{rev}/{rev}", rev = revision_before),
    );
}

#[test]
fn a_job_with_a_manual_selector_adopts_the_orphans_it_selects() {
    // The docs' "Specifying your own Pod selector": the old Job is deleted
    // with `--cascade=orphan`, and a new one with `manualSelector: true`
    // and the old selector takes its pods over instead of making new ones.
    let (mut c, mut s) = booted(31);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: old
spec:
  template:
    spec:
      containers:
      - name: sleeper
        image: busybox
        command: [\"sleep\", \"3600\"]
      restartPolicy: Never
---end",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let uid = ok(
        &mut c,
        &mut s,
        "kubectl get job old -o jsonpath={.metadata.uid}",
    );
    let pod = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l job-name=old -o jsonpath={.items[0].metadata.name}",
    );
    ok(&mut c, &mut s, "kubectl delete job old --cascade=orphan");
    ok(&mut c, &mut s, "sim advance 5s");
    let owners = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {pod} -o jsonpath={{.metadata.ownerReferences}}"),
    );
    assert_eq!(owners, "", "the orphaning delete released the pod");
    ok(
        &mut c,
        &mut s,
        &format!(
            "kubectl apply -f -
apiVersion: batch/v1
kind: Job
metadata:
  name: new
spec:
  manualSelector: true
  selector:
    matchLabels:
      batch.kubernetes.io/controller-uid: {uid}
  template:
    metadata:
      labels:
        batch.kubernetes.io/controller-uid: {uid}
    spec:
      containers:
      - name: sleeper
        image: busybox
        command: [\"sleep\", \"3600\"]
      restartPolicy: Never
---end"
        ),
    );
    ok(&mut c, &mut s, "sim advance 5s");
    let owner = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {pod} -o jsonpath={{.metadata.ownerReferences[0].name}}"),
    );
    assert_eq!(owner, "new", "the new Job adopted the old pod");
    let pods = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pods -l batch.kubernetes.io/controller-uid={uid} -o name"),
    );
    assert_eq!(
        pods.lines().count(),
        1,
        "the adopted pod counts as the new Job's one active pod: {pods}"
    );
    let active = ok(
        &mut c,
        &mut s,
        "kubectl get job new -o jsonpath={.status.active}",
    );
    assert_eq!(active, "1");
}
