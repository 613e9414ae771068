//! Behaviour tests of the node agents through the command language, as
//! `kubesim shell` runs it: registration, node status and Lease heartbeats.

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

fn renew_time(c: &mut Cluster, s: &mut Session, node: &str) -> String {
    ok(
        c,
        s,
        &format!("kubectl get lease {node} -n kube-node-lease -o jsonpath={{.spec.renewTime}}"),
    )
}

/// Seconds of a `2026-01-01T00:01:26.398000Z` timestamp since the run began.
fn seconds(t: &str) -> f64 {
    let time = t.trim().trim_end_matches('Z');
    let clock = time.split('T').nth(1).unwrap_or_default();
    let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap_or(0.0)).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[test]
fn every_node_registers_itself_and_turns_ready() {
    let (mut c, mut s) = booted(3);
    ok(&mut c, &mut s, "sim advance 20s");
    let out = ok(&mut c, &mut s, "kubectl get nodes");
    for node in [
        "control-plane-1",
        "control-plane-2",
        "control-plane-3",
        "worker-1",
        "worker-2",
        "worker-3",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(node))
            .unwrap_or_else(|| panic!("{node} is listed:\n{out}"));
        assert!(line.contains(" Ready "), "{line}");
    }
    let taints = ok(
        &mut c,
        &mut s,
        "kubectl get node control-plane-1 -o jsonpath={.spec.taints[0].key}",
    );
    assert_eq!(taints, "node-role.kubernetes.io/control-plane");
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-1 -o jsonpath={.status.addresses[0].address}",
    );
    assert_eq!(ip, "10.0.1.11");
}

#[test]
fn a_stopped_kubelets_lease_freezes_while_the_others_renew_every_ten_seconds() {
    let (mut c, mut s) = booted(5);
    ok(&mut c, &mut s, "sim advance 30s");
    ok(&mut c, &mut s, "sim fault worker-2 kubelet-stop");
    let frozen = renew_time(&mut c, &mut s, "worker-2");
    let mut seen = Vec::new();
    for _ in 0..6 {
        ok(&mut c, &mut s, "sim advance 10s");
        assert_eq!(
            renew_time(&mut c, &mut s, "worker-2"),
            frozen,
            "a stopped kubelet renews nothing"
        );
        seen.push(seconds(&renew_time(&mut c, &mut s, "worker-1")));
    }
    for pair in seen.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            (9.9..=10.1).contains(&gap),
            "worker-1 renews every 10 s: {seen:?}"
        );
    }
    let lease = ok(
        &mut c,
        &mut s,
        "kubectl get lease worker-1 -n kube-node-lease -o jsonpath={.spec.leaseDurationSeconds}",
    );
    assert_eq!(lease, "40");
    // Healing restarts the kubelet, which renews again.
    ok(&mut c, &mut s, "sim heal worker-2");
    ok(&mut c, &mut s, "sim advance 5s");
    assert_ne!(renew_time(&mut c, &mut s, "worker-2"), frozen);
}

#[test]
fn a_node_created_by_hand_is_adopted_by_its_kubelet() {
    let mut c = Cluster::new(Topology::builder().workers(1).build().unwrap(), 9);
    let mut s = Session::new();
    // The kubelet is stopped before it can register; an administrator
    // creates the Node first.
    ok(&mut c, &mut s, "sim fault worker-1 kubelet-stop");
    assert!(c.boot(SimDuration::from_secs(30)));
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Node
metadata:
  name: worker-1
  labels:
    disk: ssd
---end",
    );
    ok(&mut c, &mut s, "sim heal worker-1");
    ok(&mut c, &mut s, "sim advance 15s");
    let disk = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-1 -o jsonpath={.metadata.labels.disk}",
    );
    assert_eq!(disk, "ssd", "the kubelet keeps what the administrator set");
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-1 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    );
    assert_eq!(
        ready, "True",
        "the kubelet reports the adopted Node's status"
    );
}

#[test]
fn a_powered_off_node_stops_heartbeating() {
    let (mut c, mut s) = booted(7);
    ok(&mut c, &mut s, "sim advance 20s");
    ok(&mut c, &mut s, "sim fault worker-3 power-off");
    let frozen = renew_time(&mut c, &mut s, "worker-3");
    ok(&mut c, &mut s, "sim advance 30s");
    assert_eq!(renew_time(&mut c, &mut s, "worker-3"), frozen);
    let snap = c.snapshot();
    let node = snap.nodes.iter().find(|n| n.name == "worker-3").unwrap();
    let lease = node
        .lease
        .clone()
        .expect("the lease is visible to the page");
    assert!(lease.remaining(c.now()) < SimDuration::from_secs(15));
    assert!(node.powered_off);
}

fn jsonpath(c: &mut Cluster, s: &mut Session, what: &str, path: &str) -> String {
    ok(c, s, &format!("kubectl get {what} -o jsonpath={{{path}}}"))
}

const NGINX_POD: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports:
    - containerPort: 80
---end";

#[test]
fn the_docs_nginx_pod_is_scheduled_pulled_and_running_within_seconds() {
    let (mut c, mut s) = booted(11);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(&mut c, &mut s, NGINX_POD);
    let created = c.now();
    let mut running_at = None;
    for _ in 0..100 {
        ok(&mut c, &mut s, "sim advance 100ms");
        let ready = jsonpath(
            &mut c,
            &mut s,
            "pod nginx",
            ".status.conditions[?(@.type==\"Ready\")].status",
        );
        if ready == "True" {
            running_at = Some(c.now());
            break;
        }
    }
    let at = running_at.expect("the pod turns Ready");
    let took = at.saturating_since(created);
    // Scheduling, a 44.7 MB pull at 50 MB/s plus the registry round trip,
    // and the container start: a second or two, as on a real cluster.
    assert!(
        took >= SimDuration::from_millis(1_000) && took <= SimDuration::from_secs(5),
        "took {took}"
    );
    assert_eq!(
        jsonpath(&mut c, &mut s, "pod nginx", ".status.phase"),
        "Running"
    );
    let node = jsonpath(&mut c, &mut s, "pod nginx", ".spec.nodeName");
    assert!(
        node.starts_with("worker-"),
        "scheduled on a worker, not {node}"
    );
    let ip = jsonpath(&mut c, &mut s, "pod nginx", ".status.podIP");
    assert!(ip.starts_with("10.244."), "{ip}");
    let events = ok(&mut c, &mut s, "kubectl describe pod nginx");
    for reason in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
        assert!(events.contains(reason), "{reason} in\n{events}");
    }
}

#[test]
fn a_container_over_its_memory_limit_is_oom_killed_with_exit_137() {
    let (mut c, mut s) = booted(12);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: leak
spec:
  restartPolicy: Never
  containers:
  - name: leak
    image: kubesim/leak:50Mi-per-s
    resources:
      limits:
        memory: 100Mi
---end",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let reason = jsonpath(
        &mut c,
        &mut s,
        "pod leak",
        ".status.containerStatuses[0].state.terminated.reason",
    );
    assert_eq!(reason, "OOMKilled");
    let code = jsonpath(
        &mut c,
        &mut s,
        "pod leak",
        ".status.containerStatuses[0].state.terminated.exitCode",
    );
    assert_eq!(code, "137");
    assert_eq!(
        jsonpath(&mut c, &mut s, "pod leak", ".status.phase"),
        "Failed"
    );
}

#[test]
fn a_crashing_container_backs_off_ten_twenty_forty_seconds() {
    let (mut c, mut s) = booted(13);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  containers:
  - name: crash
    image: busybox:1.36
    command: [\"sh\", \"-c\", \"exit 1\"]
---end",
    );
    let mut restarts_at: Vec<f64> = Vec::new();
    let mut last = String::from("0");
    let start = c.now();
    for _ in 0..(100 * 2) {
        ok(&mut c, &mut s, "sim advance 500ms");
        let n = jsonpath(
            &mut c,
            &mut s,
            "pod crash",
            ".status.containerStatuses[0].restartCount",
        );
        if n != last && !n.is_empty() {
            restarts_at.push(c.now().saturating_since(start).as_millis() as f64 / 1000.0);
            last = n;
        }
    }
    assert!(restarts_at.len() >= 4, "restarts at {restarts_at:?}");
    let gaps: Vec<f64> = restarts_at.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, want) in gaps.iter().zip([10.0, 20.0, 40.0]) {
        assert!(
            (gap - want).abs() <= 1.5,
            "back-off gaps {gaps:?} should be 10, 20, 40 s"
        );
    }
    let reason = jsonpath(
        &mut c,
        &mut s,
        "pod crash",
        ".status.containerStatuses[0].state.waiting.reason",
    );
    assert_eq!(reason, "CrashLoopBackOff");
}

#[test]
fn an_image_that_does_not_exist_ends_in_image_pull_back_off() {
    let (mut c, mut s) = booted(14);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: typo
spec:
  containers:
  - name: web
    image: nginxx:1.14.2
---end",
    );
    ok(&mut c, &mut s, "sim advance 3s");
    let reason = jsonpath(
        &mut c,
        &mut s,
        "pod typo",
        ".status.containerStatuses[0].state.waiting.reason",
    );
    assert_eq!(reason, "ErrImagePull");
    ok(&mut c, &mut s, "sim advance 15s");
    let reason = jsonpath(
        &mut c,
        &mut s,
        "pod typo",
        ".status.containerStatuses[0].state.waiting.reason",
    );
    assert_eq!(reason, "ImagePullBackOff");
    let events = ok(&mut c, &mut s, "kubectl describe pod typo");
    assert!(events.contains("Failed to pull image"), "{events}");
}

fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(!out[0].ok, "{script} succeeded:\n{}", out[0].output);
    out[0].output.clone()
}

#[test]
fn kubectl_logs_returns_what_the_busybox_command_printed() {
    let (mut c, mut s) = booted(15);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  restartPolicy: Never
  containers:
  - name: hello
    image: busybox:1.36
    command: [\"sh\", \"-c\", \"echo hello; echo from kubesim\"]
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/hello '{.status.phase}'=Succeeded 1m",
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs hello"),
        "hello\nfrom kubesim"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs pod/hello --tail 1"),
        "from kubesim"
    );
    // The request went kubectl -> load balancer -> API server -> kubelet,
    // as the apiserver-kubelet-client, at the node's address and port 10250.
    let node = jsonpath(&mut c, &mut s, "pod hello", ".spec.nodeName");
    let ip = jsonpath(
        &mut c,
        &mut s,
        &format!("node {node}"),
        ".status.addresses[0].address",
    );
    let call = c
        .trace()
        .events()
        .find(|e| e.kind == "kubelet-api" && *e.to == *format!("kubelet@{node}"))
        .map(|e| (e.from.clone(), e.summary.clone()))
        .expect("the API server called the kubelet");
    assert!(call.0.starts_with("kube-apiserver-"), "{call:?}");
    assert_eq!(
        call.1,
        format!("GET https://{ip}:10250/containerLogs/default/hello/hello (as kube-apiserver-kubelet-client)")
    );
    let err = fails(&mut c, &mut s, "kubectl logs hello -c nope");
    assert_eq!(
        err,
        "Error from server (BadRequest): container nope is not valid for pod hello"
    );
    let err = fails(&mut c, &mut s, "kubectl logs missing");
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"missing\" not found"
    );
    let err = fails(&mut c, &mut s, "kubectl logs hello --previous");
    assert_eq!(
        err,
        "Error from server (BadRequest): previous terminated container \"hello\" in pod \"hello\" not found"
    );
}

#[test]
fn kubectl_logs_of_the_docs_pi_job_prints_pi() {
    let (mut c, mut s) = booted(16);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: pi
spec:
  restartPolicy: Never
  containers:
  - name: pi
    image: perl:5.34.0
    command: [\"perl\",  \"-Mbignum=bpi\", \"-wle\", \"print bpi(2000)\"]
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/pi '{.status.phase}'=Succeeded 3m",
    );
    let pi = ok(&mut c, &mut s, "kubectl logs pi");
    assert!(pi.starts_with("3.14159265358979323846"), "{pi}");
    assert!(pi.len() > 2000, "2000 digits: {}", pi.len());
}

#[test]
fn kubectl_logs_and_exec_take_a_workload_and_read_one_of_its_pods() {
    let (mut c, mut s) = booted(18);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment hello --image=busybox --replicas=2 -- sh -c 'echo hello from $HOSTNAME; sleep 3600'",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/hello '{.status.readyReplicas}'=2 2m",
    );
    // Two pods: kubectl says which it read (`LogsForObject`).
    let out = ok(&mut c, &mut s, "kubectl logs deploy/hello");
    let (found, log) = out.split_once('\n').expect("two lines");
    let pod = found
        .strip_prefix("Found 2 pods, using pod/")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(pod.starts_with("hello-"), "{out}");
    assert_eq!(log, format!("hello from {pod}"));
    // One pod: no note.
    ok(
        &mut c,
        &mut s,
        "kubectl scale deployment hello --replicas=1",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/hello '{.status.replicas}'=1 2m",
    );
    ok(&mut c, &mut s, "sim advance 40s");
    let out = ok(&mut c, &mut s, "kubectl logs deployment/hello");
    assert!(
        out.starts_with("hello from hello-") && !out.contains("Found"),
        "{out}"
    );
    // exec through a Service's selector, as `kubectl exec svc/x` does.
    ok(&mut c, &mut s, "kubectl expose deployment hello --port=80");
    let host = ok(&mut c, &mut s, "kubectl exec svc/hello -- hostname");
    assert!(out.ends_with(&host), "{host} vs {out}");
    let err = fails(
        &mut c,
        &mut s,
        "kubectl create deployment two --image=nginx --image=redis -- sleep 1",
    );
    assert_eq!(
        err,
        "error: cannot specify multiple --image options and command"
    );
    // A kind without a selector: kubectl's error.
    ok(
        &mut c,
        &mut s,
        "kubectl create configmap cfg --from-literal=a=b",
    );
    let err = fails(&mut c, &mut s, "kubectl logs configmap/cfg");
    assert_eq!(
        err,
        "error: cannot get the logs from *v1.ConfigMap: selector for *v1.ConfigMap not implemented"
    );
    let err = fails(&mut c, &mut s, "kubectl logs deploy/nothing");
    assert_eq!(
        err,
        "Error from server (NotFound): deployments.apps \"nothing\" not found"
    );
}

#[test]
fn kubectl_logs_of_a_crashed_container_shows_the_previous_run() {
    let (mut c, mut s) = booted(17);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: crash
spec:
  containers:
  - name: crash
    image: busybox:1.36
    command: [\"sh\", \"-c\", \"echo about to fail; exit 1\"]
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/crash '{.status.containerStatuses[0].restartCount}'=2 2m",
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl logs crash --previous"),
        "about to fail"
    );
}

#[test]
fn kubectl_exec_runs_in_the_container_and_fails_as_kubectl_does() {
    let (mut c, mut s) = booted(18);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(&mut c, &mut s, NGINX_POD);
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 1m",
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl exec nginx -- echo hi there"),
        "hi there"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl exec nginx -- hostname"),
        "nginx"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl exec nginx -- cat /etc/hostname"),
        "nginx"
    );
    let env = ok(&mut c, &mut s, "kubectl exec nginx -- env");
    assert!(env.contains("HOSTNAME=nginx"), "{env}");
    let err = fails(&mut c, &mut s, "kubectl exec nginx -c nope -- ls");
    assert_eq!(
        err,
        "Error from server (BadRequest): container nope is not valid for pod nginx"
    );
    let err = fails(&mut c, &mut s, "kubectl exec missing -- ls");
    assert_eq!(
        err,
        "Error from server (NotFound): pods \"missing\" not found"
    );
    let err = fails(&mut c, &mut s, "kubectl exec nginx -- frobnicate");
    assert!(
        err.contains("executable file not found in $PATH")
            && err.ends_with("command terminated with exit code 126"),
        "{err}"
    );
    let err = fails(&mut c, &mut s, "kubectl exec nginx");
    assert_eq!(
        err,
        "error: you must specify at least one command for the container"
    );
    let err = fails(&mut c, &mut s, "kubectl exec nginx -- sh -c 'exit 3'");
    assert!(
        err.ends_with("command terminated with exit code 3"),
        "{err}"
    );
}

#[test]
fn kubectl_exec_into_a_container_not_running_cannot_upgrade_the_connection() {
    let (mut c, mut s) = booted(19);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: broken
spec:
  containers:
  - name: app
    image: nginxx:1.14.2
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/broken '{.spec.nodeName}'!= 30s",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    let err = fails(&mut c, &mut s, "kubectl exec broken -- ls");
    assert_eq!(
        err,
        "error: unable to upgrade connection: container not found (\"app\")"
    );
    let err = fails(&mut c, &mut s, "kubectl logs broken");
    assert!(
        err.starts_with("Error from server (BadRequest): container \"app\" in pod \"broken\" is waiting to start"),
        "{err}"
    );
    // A stopped kubelet refuses the connection.
    let node = jsonpath(&mut c, &mut s, "pod broken", ".spec.nodeName");
    ok(&mut c, &mut s, &format!("sim fault {node} kubelet-stop"));
    let err = fails(&mut c, &mut s, "kubectl logs broken");
    assert!(err.contains(":10250: connect: connection refused"), "{err}");
}

/// Each node's `spec.podCIDR`, by name.
fn pod_cidrs(c: &mut Cluster, s: &mut Session) -> std::collections::BTreeMap<String, String> {
    let out = ok(
        c,
        s,
        "kubectl get nodes -o 'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{\"\\n\"}{end}'",
    );
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect()
}

/// Advances 5 s at a time until `f` holds, for at most `limit`.
fn eventually(
    c: &mut Cluster,
    s: &mut Session,
    limit: SimDuration,
    mut f: impl FnMut(&mut Cluster, &mut Session) -> bool,
) -> bool {
    let deadline = c.now() + limit;
    while c.now() < deadline {
        if f(c, s) {
            return true;
        }
        c.advance(SimDuration::from_secs(5));
    }
    f(c, s)
}

#[test]
fn node_ipam_gives_every_node_its_own_slash_24_of_the_cluster_cidr_in_order() {
    let (mut c, mut s) = booted(3);
    ok(&mut c, &mut s, "sim advance 10s");
    let cidrs = pod_cidrs(&mut c, &mut s);
    assert_eq!(cidrs.len(), 6, "{cidrs:?}");
    // The allocator hands out 10.244.0.0/24, 10.244.1.0/24, ... in the
    // order the nodes register (`CidrSet.AllocateNext`): six nodes, the
    // first six blocks, no two alike.
    let expected: Vec<String> = (0..6).map(|i| format!("10.244.{i}.0/24")).collect();
    let mut got: Vec<String> = cidrs.values().cloned().collect();
    got.sort_by_key(|c| c.split('.').nth(2).and_then(|o| o.parse::<u32>().ok()));
    assert_eq!(got, expected, "{cidrs:?}");
    // `spec.podCIDRs` agrees, and the kubelet turned Ready with it.
    let list = jsonpath(&mut c, &mut s, "node worker-2", ".spec.podCIDRs[0]");
    assert_eq!(list, cidrs["worker-2"]);
    let ready = jsonpath(
        &mut c,
        &mut s,
        "node worker-2",
        ".status.conditions[?(@.type==\"Ready\")].status",
    );
    assert_eq!(ready, "True");
    // Nobody may change a pod CIDR once set (`ValidateNodeUpdate`).
    let out: Vec<Outcome> = s.run_script(
        &mut c,
        "kubectl apply -f -
apiVersion: v1
kind: Node
metadata:
  name: worker-2
spec:
  podCIDR: 10.244.99.0/24
  podCIDRs: [10.244.99.0/24]
---end",
    );
    assert!(!out[0].ok, "{}", out[0].output);
    assert!(
        out[0]
            .output
            .contains("node updates may not change podCIDR except from \"\" to valid"),
        "{}",
        out[0].output
    );
}

#[test]
fn a_removed_nodes_pod_cidr_is_released_and_handed_to_a_new_node() {
    let (mut c, mut s) = booted(5);
    ok(&mut c, &mut s, "sim advance 10s");
    let before = pod_cidrs(&mut c, &mut s);
    let freed = before["worker-3"].clone();
    ok(&mut c, &mut s, "sim node remove worker-3");
    let gone = eventually(&mut c, &mut s, SimDuration::from_secs(180), |c, s| {
        !pod_cidrs(c, s).contains_key("worker-3")
    });
    assert!(gone, "the cloud node controller deletes the Node");
    // The running allocator goes on round robin after the last block it
    // handed out, as upstream's `CidrSet` does...
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.spec.podCIDR}'=10.244.6.0/24 1m",
    );
    // ...and a freshly elected leader starts from the first free block:
    // the one worker-3 gave back.
    ok(
        &mut c,
        &mut s,
        "sim fault kube-controller-manager/leader crash",
    );
    ok(&mut c, &mut s, "sim advance 30s");
    ok(&mut c, &mut s, "sim node add worker-5");
    ok(
        &mut c,
        &mut s,
        &format!("sim until node/worker-5 '{{.spec.podCIDR}}'={freed} 2m"),
    );
    let after = pod_cidrs(&mut c, &mut s);
    let mut values: Vec<&String> = after.values().collect();
    values.sort();
    values.dedup();
    assert_eq!(
        values.len(),
        after.len(),
        "no two nodes share a block: {after:?}"
    );
}

#[test]
fn pod_ips_lie_in_their_nodes_pod_cidr() {
    let (mut c, mut s) = booted(8);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=6",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=6 2m",
    );
    let cidrs = pod_cidrs(&mut c, &mut s);
    let pods = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l app=web -o 'jsonpath={range .items[*]}{.spec.nodeName}={.status.podIP}{\"\\n\"}{end}'",
    );
    let mut ips = Vec::new();
    for line in pods.lines() {
        let (node, ip) = line.split_once('=').unwrap();
        let cidr = &cidrs[node];
        let prefix = cidr.trim_end_matches("0/24");
        assert!(ip.starts_with(prefix), "{ip} on {node} lies in {cidr}");
        let host: u32 = ip[prefix.len()..].parse().unwrap();
        assert!((2..=254).contains(&host), "{ip}");
        ips.push(ip.to_string());
    }
    assert_eq!(ips.len(), 6, "{pods}");
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 6, "pod IPs are unique: {pods}");
}

#[test]
fn without_the_node_ipam_controller_nodes_stay_not_ready_with_no_pod_cidr() {
    // `--controllers=*,-nodeipam`: nobody hands out pod CIDRs. (Crashing
    // every controller-manager would also stop a new node from joining at
    // all: its CSR is approved and signed there.)
    let topology = Topology::builder()
        .workers(1)
        .disable_controller("node-ipam-controller")
        .build()
        .unwrap();
    let mut c = Cluster::new(topology, 4);
    let mut s = Session::new();
    assert!(
        !c.boot(SimDuration::from_secs(30)),
        "the nodes never turn Ready"
    );
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-1 '{.metadata.name}'=worker-1 1m",
    );
    assert_eq!(
        jsonpath(&mut c, &mut s, "node worker-1", ".spec.podCIDR"),
        ""
    );
    let message = jsonpath(
        &mut c,
        &mut s,
        "node worker-1",
        ".status.conditions[?(@.type==\"Ready\")].message",
    );
    assert!(message.contains("NetworkPluginNotReady"), "{message}");
}

#[test]
fn a_pod_deleted_while_its_kubelet_was_stopped_is_killed_when_the_kubelet_returns() {
    let (mut c, mut s) = booted(12);
    ok(&mut c, &mut s, "sim advance 10s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: pinned
spec:
  nodeName: worker-2
  containers:
  - name: nginx
    image: nginx:1.14.2
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/pinned '{.status.phase}'=Running 1m",
    );
    let sandboxes = |c: &Cluster| -> usize {
        c.node_runtime("worker-2")
            .map(|r| {
                r.list_pod_sandboxes()
                    .iter()
                    .filter(|s| {
                        s.name == "pinned" && s.state == kubesim::runtime::SandboxState::Ready
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(sandboxes(&c), 1);
    // The kubelet stops; the containers go on. The pod is force-deleted
    // from the API meanwhile.
    ok(&mut c, &mut s, "sim fault worker-2 kubelet-stop");
    ok(
        &mut c,
        &mut s,
        "kubectl delete pod pinned --force --grace-period=0",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    assert_eq!(
        sandboxes(&c),
        1,
        "nobody stops it while the kubelet is down"
    );
    // The kubelet comes back, lists its pods, and removes the orphan
    // (`HandlePodCleanups`).
    ok(&mut c, &mut s, "sim heal worker-2");
    ok(&mut c, &mut s, "sim advance 10s");
    assert_eq!(sandboxes(&c), 0);
}

/// The value of a `Label:   value` line of `kubectl describe`.
fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{label} in\n{out}"))
}

#[test]
fn kubectl_describe_pod_prints_kubectl_s_pod_page() {
    let (mut c, mut s) = booted(21);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.14.2
    ports: [{containerPort: 80, name: http}]
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
    readinessProbe: {httpGet: {path: /, port: 80}}
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
---end",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let out = ok(&mut c, &mut s, "kubectl describe pod web");
    let node = jsonpath(&mut c, &mut s, "pod web", ".spec.nodeName");
    let host_ip = jsonpath(&mut c, &mut s, "pod web", ".status.hostIP");
    // describePod's fields, aligned by Go's tabwriter as kubectl prints them.
    assert!(
        out.starts_with("Name:             web\nNamespace:        default\n"),
        "{out}"
    );
    assert_eq!(field(&out, "Node:"), format!("{node}/{host_ip}"));
    assert_eq!(field(&out, "Status:"), "Running");
    assert_eq!(field(&out, "Labels:"), "app=web");
    assert!(
        field(&out, "Start Time:").starts_with("Thu, 01 Jan 2026 00:00:"),
        "{out}"
    );
    assert_eq!(field(&out, "    Image:"), "nginx:1.14.2");
    assert_eq!(field(&out, "    Port:"), "80/TCP (http)");
    assert_eq!(field(&out, "    State:"), "Running");
    assert_eq!(field(&out, "    Ready:"), "True");
    assert_eq!(field(&out, "    Restart Count:"), "0");
    assert_eq!(
        field(&out, "    Readiness:"),
        "http-get http://:80/ delay=0s timeout=1s period=10s #success=1 #failure=3"
    );
    assert_eq!(field(&out, "      POD_NAME:"), "web (v1:metadata.name)");
    assert!(out.contains("    Limits:\n      memory:  128Mi\n    Requests:\n      cpu:      100m\n      memory:   64Mi\n    Readiness:  http-get"), "{out}");
    assert!(
        out.contains("Conditions:\n  Type                        Status\n"),
        "{out}"
    );
    assert!(
        out.contains("  Ready                       True \n"),
        "{out}"
    );
    assert_eq!(field(&out, "QoS Class:"), "Burstable");
    assert!(out.contains("Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n"), "{out}");
    let events = out
        .split("Events:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("events in\n{out}"));
    assert!(events.starts_with("  Type    Reason     Age   From               Message\n  ----    ------     ----  ----               -------\n"), "{events}");
    assert!(
        events.contains(&format!(
            "default-scheduler  Successfully assigned default/web to {node}"
        )),
        "{events}"
    );
    // A name prefix describes every pod it starts (`NAME_PREFIX`).
    let coredns = ok(
        &mut c,
        &mut s,
        "kubectl describe pods -n kube-system coredns",
    );
    assert_eq!(
        coredns
            .matches("\nControlled By:  ReplicaSet/coredns-")
            .count(),
        2,
        "{coredns}"
    );
}

#[test]
fn kubectl_describe_node_and_deployment_print_kubectl_s_pages() {
    let (mut c, mut s) = booted(22);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let d = ok(&mut c, &mut s, "kubectl describe deployment web");
    assert_eq!(
        field(&d, "Replicas:"),
        "2 desired | 2 updated | 2 total | 2 available | 0 unavailable"
    );
    assert_eq!(
        field(&d, "RollingUpdateStrategy:"),
        "25% max unavailable, 25% max surge"
    );
    assert_eq!(field(&d, "OldReplicaSets:"), "<none>");
    let rs = field(&d, "NewReplicaSet:");
    assert!(
        rs.starts_with("web-") && rs.ends_with(" (2/2 replicas created)"),
        "{d}"
    );
    assert!(
        d.contains("  Available      True    MinimumReplicasAvailable\n"),
        "{d}"
    );
    assert!(
        d.contains("ScalingReplicaSet  20s   deployment-controller  Scaled up replica set web-"),
        "{d}"
    );

    let node = jsonpath(&mut c, &mut s, "pods -l app=web", ".items[0].spec.nodeName");
    let n = ok(&mut c, &mut s, &format!("kubectl describe node {node}"));
    assert_eq!(field(&n, "Roles:"), "<none>");
    assert_eq!(field(&n, "Taints:"), "<none>");
    assert_eq!(field(&n, "Unschedulable:"), "false");
    assert_eq!(field(&n, "  HolderIdentity:"), node);
    assert!(n.contains("  Ready            True    "), "{n}");
    assert!(
        n.contains("KubeletReady                 kubelet is posting ready status"),
        "{n}"
    );
    assert!(n.contains("\nNon-terminated Pods:"), "{n}");
    assert!(n.contains("  default                     web-"), "{n}");
    assert!(n.contains("Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n"), "{n}");
    let cp = ok(&mut c, &mut s, "kubectl describe node control-plane-1");
    assert_eq!(field(&cp, "Roles:"), "control-plane");
    assert_eq!(
        field(&cp, "Taints:"),
        "node-role.kubernetes.io/control-plane:NoSchedule"
    );
    assert!(
        cp.contains("  kube-system                 kube-apiserver-control-plane-1"),
        "{cp}"
    );
}

#[test]
fn the_kubelet_counts_a_repeated_event_instead_of_creating_it_again() {
    // client-go's EventCorrelator: the same event again patches the first
    // one's count and lastTimestamp, which describe prints as `(xN over T)`.
    let (mut c, mut s) = booted(23);
    ok(&mut c, &mut s, "sim advance 15s");
    ok(&mut c, &mut s, "kubectl run typo --image=nginx:no-such-tag");
    ok(&mut c, &mut s, "sim advance 90s");
    let out = ok(&mut c, &mut s, "kubectl describe pod typo");
    let pulling = out
        .lines()
        .filter(|l| l.contains("Pulling image \"nginx:no-such-tag\""))
        .collect::<Vec<_>>();
    assert_eq!(pulling.len(), 1, "one Pulling event, counted:\n{out}");
    assert!(pulling[0].contains(" over 90s)"), "{}", pulling[0]);
    let count: i64 = jsonpath(
        &mut c,
        &mut s,
        "events --field-selector reason=Pulling,involvedObject.name=typo",
        ".items[0].count",
    )
    .parse()
    .unwrap_or(0);
    assert!(count >= 3, "pulled again after each back-off: {count}");
    assert!(
        pulling[0].contains(&format!("(x{count} over 90s)")),
        "{}",
        pulling[0]
    );
}

#[test]
fn kubectl_get_events_wide_names_the_container_and_lists_a_pods_start_in_order() {
    // `kubectl get events -o wide` (`printEvent`): SUBOBJECT is the
    // container's field path, SOURCE the component and node; events are
    // named `<object>.<hex UnixNano>`, so one pod's events list in the order
    // they happened even within one millisecond.
    let (mut c, mut s) = booted(29);
    ok(&mut c, &mut s, NGINX_POD);
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    let out = ok(
        &mut c,
        &mut s,
        "kubectl get events -o wide --field-selector involvedObject.name=nginx",
    );
    let mut lines = out.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "LAST SEEN",
            "TYPE",
            "REASON",
            "OBJECT",
            "SUBOBJECT",
            "SOURCE",
            "MESSAGE",
            "FIRST SEEN",
            "COUNT",
            "NAME"
        ],
        "{out}"
    );
    let rows: Vec<&str> = lines.collect();
    let reasons: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        reasons,
        ["Scheduled", "Pulling", "Pulled", "Created", "Started"],
        "{out}"
    );
    let node = jsonpath(&mut c, &mut s, "pod nginx", ".spec.nodeName");
    for row in &rows[1..] {
        assert!(row.contains("spec.containers{nginx}"), "{row}");
        assert!(row.contains(&format!("kubelet, {node}")), "{row}");
    }
    assert!(!rows[0].contains("spec.containers"), "{}", rows[0]);
    assert!(rows[0].contains("default-scheduler"), "{}", rows[0]);
    // kubelet's message since 1.30: the pull's time, then with waiting.
    let pulled = rows[2];
    assert!(
        pulled.contains("Successfully pulled image \"nginx:1.14.2\" in ")
            && pulled.contains(" including waiting). Image size: 44700000 bytes."),
        "{pulled}"
    );
    // The name is the object's, then 16 hex digits of Unix nanoseconds.
    for row in &rows {
        let name = row.split_whitespace().last().unwrap_or_default();
        let (object, nanos) = name.split_once('.').unwrap_or_default();
        assert_eq!(object, "nginx", "{row}");
        assert_eq!(nanos.len(), 16, "{row}");
        assert!(u64::from_str_radix(nanos, 16).is_ok(), "{row}");
    }
    assert_eq!(
        jsonpath(
            &mut c,
            &mut s,
            "events --field-selector reason=Started",
            ".items[0].involvedObject.fieldPath"
        ),
        "spec.containers{nginx}"
    );
}

#[test]
fn a_running_containers_image_id_is_its_repository_digest() {
    // containerd's CRI reports the image's repo digest as `image_ref`, and
    // the kubelet writes it as the container's `imageID`.
    let (mut c, mut s) = booted(31);
    ok(&mut c, &mut s, NGINX_POD);
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    let id = jsonpath(
        &mut c,
        &mut s,
        "pod nginx",
        ".status.containerStatuses[0].imageID",
    );
    let digest = id
        .strip_prefix("docker.io/library/nginx@sha256:")
        .unwrap_or_else(|| panic!("{id}"));
    assert_eq!(digest.len(), 64, "{id}");
    assert_eq!(
        jsonpath(
            &mut c,
            &mut s,
            "pod nginx",
            ".status.containerStatuses[0].image"
        ),
        "docker.io/library/nginx:1.14.2"
    );
}
