//! Behaviour tests of kube-controller-manager's Deployment, node lifecycle
//! and taint eviction controllers, through the command language.
//!
//! The whole cluster runs: the scheduler binds the pods and the kubelets run
//! them, so Deployments roll out as far as availability lets them.

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

/// Seconds of a `2026-01-01T00:01:26.398000Z` timestamp since the run began.
fn seconds(t: &str) -> f64 {
    let time = t.trim().trim_end_matches('Z');
    let clock = time.split('T').nth(1).unwrap_or_default();
    let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap_or(0.0)).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

fn nginx(image: &str) -> String {
    nginx_with(image, 3)
}

fn nginx_with(image: &str, replicas: u32) -> String {
    format!(
        "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
---end"
    )
}

/// A ReplicaSet's `deployment.kubernetes.io/revision` annotation.
fn revision_of(c: &mut Cluster, s: &mut Session, rs: &str) -> String {
    let all = ok(
        c,
        s,
        &format!("kubectl get rs {rs} -o jsonpath={{.metadata.annotations}}"),
    );
    let compact: String = all.chars().filter(|c| !c.is_whitespace()).collect();
    let key = "\"deployment.kubernetes.io/revision\":\"";
    compact
        .split(key)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no revision in {all}"))
        .to_string()
}

fn names(c: &mut Cluster, s: &mut Session, what: &str) -> Vec<String> {
    ok(c, s, &format!("kubectl get {what} -o name"))
        .lines()
        .filter(|l| l.contains('/'))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_nginx_deployment_creates_one_replica_set_with_three_pods() {
    let (mut c, mut s) = booted(11);
    ok(&mut c, &mut s, &nginx("nginx:1.14.2"));
    ok(&mut c, &mut s, "sim advance 10s");
    let rss = names(&mut c, &mut s, "rs");
    assert_eq!(rss.len(), 1, "{rss:?}");
    let rs = rss[0].trim_start_matches("replicaset.apps/").to_string();
    let hash = rs
        .strip_prefix("nginx-deployment-")
        .unwrap_or_else(|| panic!("{rs} is named after its deployment"));
    assert!(!hash.is_empty() && hash.len() <= 10, "{hash}");
    let label = ok(
        &mut c,
        &mut s,
        &format!("kubectl get rs {rs} -o jsonpath={{.metadata.labels.pod-template-hash}}"),
    );
    assert_eq!(label, hash);
    let revision = revision_of(&mut c, &mut s, &rs);
    assert_eq!(revision, "1");
    let pods = names(&mut c, &mut s, "pods -l app=nginx");
    assert_eq!(pods.len(), 3, "{pods:?}");
    for p in &pods {
        assert!(p.starts_with(&format!("pod/{rs}-")), "{p}");
    }
    let replicas = ok(
        &mut c,
        &mut s,
        "kubectl get deploy nginx-deployment -o jsonpath={.status.replicas}/{.status.updatedReplicas}/{.status.availableReplicas}/{.status.observedGeneration}",
    );
    assert_eq!(
        replicas, "3/3/3/1",
        "the pods are scheduled, run and are available"
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(
        events.contains(&format!("Scaled up replica set {rs} from 0 to 3")),
        "{events}"
    );
}

/// Pods of the Deployment: (not being deleted, Ready).
fn pod_counts(c: &mut Cluster, s: &mut Session) -> (usize, usize) {
    let out = ok(
        c,
        s,
        "kubectl get pods -l app=nginx -o 'jsonpath={range .items[*]}{.metadata.name}={.metadata.deletionTimestamp}={.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}'",
    );
    let mut active = 0;
    let mut ready = 0;
    for line in out.lines().filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split('=').collect();
        if parts.get(1).is_some_and(|d| d.is_empty()) {
            active += 1;
            if parts.get(2) == Some(&"True") {
                ready += 1;
            }
        }
    }
    (active, ready)
}

#[test]
fn a_rolling_update_of_ten_replicas_never_exceeds_thirteen_pods_nor_drops_below_eight_available() {
    let (mut c, mut s) = booted(12);
    ok(&mut c, &mut s, &nginx_with("nginx:1.14.2", 10));
    ok(&mut c, &mut s, "sim advance 20s");
    assert_eq!(pod_counts(&mut c, &mut s), (10, 10), "all ten run first");
    let first = names(&mut c, &mut s, "rs");
    assert_eq!(first.len(), 1);
    ok(&mut c, &mut s, &nginx_with("nginx:1.16.1", 10));
    // replicas 10: maxSurge 25 % rounds up to 3, maxUnavailable 25 % rounds
    // down to 2 (`ResolveFenceposts`).
    let (mut most, mut fewest_ready) = (0, usize::MAX);
    for _ in 0..120 {
        ok(&mut c, &mut s, "sim advance 500ms");
        let (active, ready) = pod_counts(&mut c, &mut s);
        most = most.max(active);
        fewest_ready = fewest_ready.min(ready);
    }
    assert!(most <= 13, "at most replicas + maxSurge pods, saw {most}");
    assert!(most > 10, "the rollout surged, saw at most {most}");
    assert!(
        fewest_ready >= 8,
        "at least replicas - maxUnavailable available, saw {fewest_ready}"
    );
    let rss = names(&mut c, &mut s, "rs");
    assert_eq!(rss.len(), 2, "{rss:?}");
    let new = rss
        .iter()
        .find(|r| !first.contains(r))
        .map(|r| r.trim_start_matches("replicaset.apps/").to_string())
        .unwrap_or_default();
    let old = first[0].trim_start_matches("replicaset.apps/").to_string();
    let size = |c: &mut Cluster, s: &mut Session, rs: &str| {
        ok(
            c,
            s,
            &format!("kubectl get rs {rs} -o jsonpath={{.spec.replicas}}"),
        )
    };
    assert_eq!(size(&mut c, &mut s, &new), "10");
    assert_eq!(size(&mut c, &mut s, &old), "0");
    assert_eq!(revision_of(&mut c, &mut s, &new), "2");
    let status = ok(
        &mut c,
        &mut s,
        "kubectl rollout status deployment/nginx-deployment",
    );
    assert!(status.ends_with("successfully rolled out"), "{status}");
    let progressing = ok(
        &mut c,
        &mut s,
        "kubectl get deploy nginx-deployment -o jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}",
    );
    assert_eq!(progressing, "NewReplicaSetAvailable");
    // Rolling back makes the old ReplicaSet the new one, as revision 3.
    ok(
        &mut c,
        &mut s,
        "kubectl rollout undo deployment/nginx-deployment",
    );
    ok(&mut c, &mut s, "sim advance 60s");
    assert_eq!(revision_of(&mut c, &mut s, &old), "3");
    assert_eq!(size(&mut c, &mut s, &old), "10");
    assert_eq!(size(&mut c, &mut s, &new), "0");
}

#[test]
fn the_deployment_times_out_after_its_progress_deadline() {
    let (mut c, mut s) = booted(13);
    // An image tag that does not exist: the pods never become available.
    ok(&mut c, &mut s, &nginx("nginx:1.14.2-typo"));
    ok(&mut c, &mut s, "sim advance 30s");
    let reason = |c: &mut Cluster, s: &mut Session| {
        ok(
            c,
            s,
            "kubectl get deploy nginx-deployment -o jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}",
        )
    };
    assert_ne!(reason(&mut c, &mut s), "ProgressDeadlineExceeded");
    ok(&mut c, &mut s, "sim advance 600s");
    assert_eq!(reason(&mut c, &mut s), "ProgressDeadlineExceeded");
}

fn ready_status(c: &mut Cluster, s: &mut Session, node: &str) -> String {
    ok(
        c,
        s,
        &format!(
            "kubectl get node {node} -o jsonpath={{.status.conditions[?(@.type==\"Ready\")].status}}"
        ),
    )
}

fn taints(c: &mut Cluster, s: &mut Session, node: &str) -> Vec<String> {
    let keys = ok(
        c,
        s,
        &format!("kubectl get node {node} -o jsonpath={{.spec.taints[*].key}}"),
    );
    let effects = ok(
        c,
        s,
        &format!("kubectl get node {node} -o jsonpath={{.spec.taints[*].effect}}"),
    );
    keys.split_whitespace()
        .zip(effects.split_whitespace())
        .map(|(k, e)| format!("{k}:{e}"))
        .collect()
}

#[test]
fn a_node_whose_kubelet_stops_turns_unknown_fifty_seconds_after_its_last_renewal_and_is_tainted() {
    let (mut c, mut s) = booted(21);
    ok(&mut c, &mut s, "sim advance 30s");
    assert_eq!(ready_status(&mut c, &mut s, "worker-2"), "True");
    assert!(taints(&mut c, &mut s, "worker-2").is_empty());
    ok(&mut c, &mut s, "sim fault worker-2 kubelet-stop");
    let renewed = seconds(&ok(
        &mut c,
        &mut s,
        "kubectl get lease worker-2 -n kube-node-lease -o jsonpath={.spec.renewTime}",
    ));
    for _ in 0..90 {
        ok(&mut c, &mut s, "sim advance 1s");
        if ready_status(&mut c, &mut s, "worker-2") == "Unknown" {
            break;
        }
    }
    assert_eq!(ready_status(&mut c, &mut s, "worker-2"), "Unknown");
    let since = seconds(&ok(
        &mut c,
        &mut s,
        "kubectl get node worker-2 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].lastTransitionTime}",
    ));
    let gap = since - renewed;
    assert!(
        (45.0..=56.0).contains(&gap),
        "Unknown {gap} s after the last renewal"
    );
    let reason = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-2 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}",
    );
    assert_eq!(reason, "NodeStatusUnknown");
    let memory = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-2 -o jsonpath={.status.conditions[?(@.type==\"MemoryPressure\")].status}",
    );
    assert_eq!(memory, "Unknown");
    ok(&mut c, &mut s, "sim advance 10s");
    let t = taints(&mut c, &mut s, "worker-2");
    assert!(
        t.contains(&"node.kubernetes.io/unreachable:NoSchedule".to_string()),
        "{t:?}"
    );
    assert!(
        t.contains(&"node.kubernetes.io/unreachable:NoExecute".to_string()),
        "{t:?}"
    );
    // The other nodes are untouched.
    assert_eq!(ready_status(&mut c, &mut s, "worker-1"), "True");
    assert!(taints(&mut c, &mut s, "worker-1").is_empty());
    // A kubelet back: Ready again, untainted.
    ok(&mut c, &mut s, "sim heal worker-2");
    ok(&mut c, &mut s, "sim advance 20s");
    assert_eq!(ready_status(&mut c, &mut s, "worker-2"), "True");
    let t = taints(&mut c, &mut s, "worker-2");
    assert!(t.is_empty(), "{t:?}");
}

fn pod_on_worker_2(name: &str, toleration: Option<u32>) -> String {
    let tolerations = match toleration {
        Some(secs) => format!(
            "  tolerations:
  - key: node.kubernetes.io/unreachable
    operator: Exists
    effect: NoExecute
    tolerationSeconds: {secs}
"
        ),
        None => String::new(),
    };
    format!(
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  nodeName: worker-2
{tolerations}  containers:
  - name: web
    image: nginx:1.14.2
---end"
    )
}

fn deleting(c: &mut Cluster, s: &mut Session, pod: &str) -> bool {
    let out: Vec<Outcome> = s.run_script(
        c,
        &format!("kubectl get pod {pod} -o jsonpath={{.metadata.deletionTimestamp}}"),
    );
    // Gone, or marked for deletion.
    !out[0].ok || !out[0].output.trim().is_empty()
}

#[test]
fn pods_on_an_unreachable_node_are_evicted_when_their_toleration_runs_out() {
    let (mut c, mut s) = booted(22);
    ok(&mut c, &mut s, "sim advance 20s");
    ok(&mut c, &mut s, &pod_on_worker_2("default-toleration", None));
    ok(
        &mut c,
        &mut s,
        &pod_on_worker_2("short-toleration", Some(30)),
    );
    ok(&mut c, &mut s, "sim fault worker-2 kubelet-stop");
    let mut tainted = false;
    for _ in 0..120 {
        ok(&mut c, &mut s, "sim advance 1s");
        if taints(&mut c, &mut s, "worker-2")
            .contains(&"node.kubernetes.io/unreachable:NoExecute".to_string())
        {
            tainted = true;
            break;
        }
    }
    assert!(tainted, "worker-2 gets the NoExecute taint");
    ok(&mut c, &mut s, "sim advance 25s");
    assert!(!deleting(&mut c, &mut s, "short-toleration"));
    ok(&mut c, &mut s, "sim advance 10s");
    assert!(
        deleting(&mut c, &mut s, "short-toleration"),
        "30 s toleration"
    );
    assert!(!deleting(&mut c, &mut s, "default-toleration"));
    ok(&mut c, &mut s, "sim advance 255s");
    assert!(
        !deleting(&mut c, &mut s, "default-toleration"),
        "not before 300 s"
    );
    ok(&mut c, &mut s, "sim advance 15s");
    assert!(
        deleting(&mut c, &mut s, "default-toleration"),
        "DefaultTolerationSeconds' 300 s"
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(
        events.contains("Marking for deletion Pod default/default-toleration"),
        "{events}"
    );
}

#[test]
fn kubectl_rollout_undo_brings_the_first_replica_set_back_as_revision_three() {
    let (mut c, mut s) = booted(14);
    ok(&mut c, &mut s, &nginx("nginx:1.14.2"));
    ok(&mut c, &mut s, "sim advance 10s");
    let first = names(&mut c, &mut s, "rs")[0]
        .trim_start_matches("replicaset.apps/")
        .to_string();
    ok(
        &mut c,
        &mut s,
        "kubectl set image deployment/nginx-deployment nginx=nginx:1.16.1",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    assert_eq!(names(&mut c, &mut s, "rs").len(), 2);
    ok(
        &mut c,
        &mut s,
        "kubectl rollout undo deployment/nginx-deployment",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    assert_eq!(
        names(&mut c, &mut s, "rs").len(),
        2,
        "the old ReplicaSet is reused, not recreated"
    );
    assert_eq!(revision_of(&mut c, &mut s, &first), "3");
    let image = ok(
        &mut c,
        &mut s,
        "kubectl get deploy nginx-deployment -o jsonpath={.spec.template.spec.containers[0].image}",
    );
    assert_eq!(image, "nginx:1.14.2");
    let history = ok(
        &mut c,
        &mut s,
        "kubectl rollout history deployment/nginx-deployment",
    );
    assert!(history.contains('2') && history.contains('3'), "{history}");
}

/// The leading kube-controller-manager's control-plane node.
/// The control-plane node whose instance of a leader-elected component
/// (`kube-controller-manager`, `kube-scheduler`) leads, as `leads` tells.
fn leader_node(c: &Cluster, leads: impl Fn(&Cluster, &str) -> bool) -> Option<String> {
    ["control-plane-1", "control-plane-2", "control-plane-3"]
        .into_iter()
        .find(|n| leads(c, n))
        .map(str::to_string)
}

fn kcm_leader(c: &Cluster) -> Option<String> {
    leader_node(c, |c, n| {
        c.controller_activity(&format!("kube-controller-manager-{n}"))
            .is_some_and(|(leads, _)| leads)
    })
}

#[test]
fn a_controller_manager_that_loses_its_lease_starts_its_controllers_afresh() {
    // Upstream the process exits on `leaderelection lost` and restarts with
    // empty controllers; a partitioned leader must not keep their state.
    let (mut c, mut s) = booted(58);
    ok(&mut c, &mut s, &nginx("nginx:1.14.2"));
    ok(&mut c, &mut s, "sim advance 20s");
    let old = kcm_leader(&c).expect("a leader");
    let id = format!("kube-controller-manager-{old}");
    let (_, before) = c.controller_activity(&id).expect("the instance");
    assert!(
        before.iter().any(|a| a.syncs > 0),
        "the leader has been reconciling"
    );
    ok(&mut c, &mut s, &format!("sim fault {old} partition"));
    // Renew deadline 10 s on the old leader; lease duration 15 s for the
    // others, plus the retry period.
    ok(&mut c, &mut s, "sim advance 30s");
    ok(&mut c, &mut s, "sim heal all");
    ok(&mut c, &mut s, "sim advance 10s");
    let new = kcm_leader(&c).expect("a new leader");
    assert_ne!(new, old, "leadership moved");
    let (leads, after) = c.controller_activity(&id).expect("the instance");
    assert!(!leads);
    assert!(
        after.iter().all(|a| a.syncs == 0 && a.queued == 0),
        "the old leader's controllers start again from nothing: {after:?}"
    );
    // The Deployment still converges under the new leader.
    ok(
        &mut c,
        &mut s,
        "kubectl scale deployment nginx-deployment --replicas=5",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get deployment nginx-deployment -o jsonpath={.status.readyReplicas}",
    );
    assert_eq!(ready, "5");
}

fn scheduler_leader(c: &Cluster) -> Option<String> {
    leader_node(c, |c, n| {
        c.scheduler_activity(&format!("kube-scheduler-{n}"))
            .is_some_and(|(leads, _)| leads)
    })
}

#[test]
fn a_scheduler_that_loses_its_lease_starts_afresh_and_its_successor_schedules() {
    // cmd/kube-scheduler/app/server.go: `OnStoppedLeading` exits the
    // process ("Leaderelection lost"); the restarted one knows nothing of
    // what it bound before.
    let (mut c, mut s) = booted(59);
    ok(&mut c, &mut s, &nginx("nginx:1.14.2"));
    ok(&mut c, &mut s, "sim advance 20s");
    let old = scheduler_leader(&c).expect("a leader");
    let id = format!("kube-scheduler-{old}");
    let (_, bound) = c.scheduler_activity(&id).expect("the instance");
    assert!(
        bound >= 3,
        "the leader bound the Deployment's pods: {bound}"
    );
    ok(&mut c, &mut s, &format!("sim fault {old} partition"));
    ok(&mut c, &mut s, "sim advance 30s");
    ok(&mut c, &mut s, "sim heal all");
    ok(&mut c, &mut s, "sim advance 10s");
    let new = scheduler_leader(&c).expect("a new leader");
    assert_ne!(new, old, "leadership moved");
    let (leads, bound) = c.scheduler_activity(&id).expect("the instance");
    assert!(!leads);
    assert_eq!(bound, 0, "the old leader started again from nothing");
    ok(
        &mut c,
        &mut s,
        "kubectl scale deployment nginx-deployment --replicas=5",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get deployment nginx-deployment -o jsonpath={.status.readyReplicas}",
    );
    assert_eq!(ready, "5");
    let (_, bound) = c
        .scheduler_activity(&format!("kube-scheduler-{new}"))
        .expect("the new leader");
    assert!(bound >= 2, "the new leader bound the new pods: {bound}");
}

/// Seconds since the run began at which each pod of the Deployment was
/// created, in order.
fn creation_times(c: &mut Cluster, s: &mut Session) -> Vec<f64> {
    let out = ok(
        c,
        s,
        "kubectl get pods -l app=nginx --no-headers -o custom-columns=CREATED:.metadata.creationTimestamp",
    );
    let mut times: Vec<f64> = out.lines().map(seconds).collect();
    times.sort_by(f64::total_cmp);
    times
}

#[test]
fn a_large_rollout_is_paced_by_the_controller_managers_twenty_requests_a_second() {
    // kube-controller-manager's clients hold 30 tokens and get 20 a second
    // (`--kube-api-qps`, `--kube-api-burst`): the ReplicaSet controller's
    // 300 creates leave 30 at once, then one every 50 ms, so the last pod
    // is created (300 - 30) / 20 = 13.5 s after the first.
    let (mut c, mut s) = booted(12);
    ok(&mut c, &mut s, &nginx_with("nginx:1.14.2", 300));
    ok(&mut c, &mut s, "sim advance 5s");
    let early = creation_times(&mut c, &mut s).len();
    assert!(
        (60..=140).contains(&early),
        "about 30 + 20 a second after the first create, not all 300: {early}"
    );
    ok(&mut c, &mut s, "sim advance 30s");
    let times = creation_times(&mut c, &mut s);
    assert_eq!(times.len(), 300);
    let spread = times[299] - times[0];
    assert!(
        (12.5..=15.5).contains(&spread),
        "300 creates at 20/s after a burst of 30 take about 13.5 s: {spread}"
    );
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get deploy nginx-deployment -o jsonpath={.status.readyReplicas}",
    );
    assert_eq!(ready, "300", "every pod was bound and started");
}
