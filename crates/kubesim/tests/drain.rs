//! Behaviour tests of node maintenance through the command language:
//! `kubectl cordon`, `uncordon` and `drain`, the eviction API and the
//! PodDisruptionBudgets the disruption controller keeps up to date.

use kubesim::api::{KindId, Reason};
use kubesim::apiserver::{ApiRequest, ApiResponse, Verb};
use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted(seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    let mut s = Session::new();
    // The workers join after the control plane (TLS bootstrap, registration).
    for w in ["worker-1", "worker-2", "worker-3"] {
        ok(
            &mut c,
            &mut s,
            &format!(
                "sim until node/{w} '{{.status.conditions[?(@.type==\"Ready\")].status}}'=True 2m"
            ),
        );
    }
    (c, s)
}

fn run(c: &mut Cluster, s: &mut Session, script: &str) -> Outcome {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    out[0].clone()
}

fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let o = run(c, s, script);
    assert!(o.ok, "{script} failed:\n{}", o.output);
    o.output
}

fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let o = run(c, s, script);
    assert!(!o.ok, "{script} succeeded:\n{}", o.output);
    o.output
}

/// (name, node, ready, terminating) of the pods of a selector.
fn pods(c: &mut Cluster, s: &mut Session, selector: &str) -> Vec<(String, String, bool, bool)> {
    ok(
        c,
        s,
        &format!("kubectl get pods -l {selector} -o 'jsonpath={{range .items[*]}}{{.metadata.name}} {{.spec.nodeName}} {{.status.conditions[?(@.type==\"Ready\")].status}} {{.metadata.deletionTimestamp}}{{\"\\n\"}}{{end}}'"),
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (
            w.first().unwrap_or(&"").to_string(),
            w.get(1).unwrap_or(&"").to_string(),
            w.get(2) == Some(&"True"),
            w.len() > 3,
        )
    })
    .collect()
}

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---end"
    )
}

fn budget(name: &str, rule: &str) -> String {
    format!(
        "kubectl apply -f -
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
spec:
  {rule}
  selector:
    matchLabels:
      app: {name}
---end"
    )
}

/// Two replicas both on worker-1 (the other workers cordoned while they
/// start), guarded by `minAvailable: 1`.
fn two_pods_on_worker_1(c: &mut Cluster, s: &mut Session) {
    ok(c, s, "kubectl cordon worker-2 worker-3");
    ok(c, s, &deployment("web", 2));
    ok(
        c,
        s,
        "sim until deployment/web '{.status.readyReplicas}'=2 3m",
    );
    let out = ok(c, s, "kubectl uncordon worker-2 worker-3");
    assert_eq!(out, "node/worker-2 uncordoned\nnode/worker-3 uncordoned");
    assert!(pods(c, s, "app=web").iter().all(|p| p.1 == "worker-1"));
    ok(c, s, &budget("web", "minAvailable: 1"));
    ok(
        c,
        s,
        "sim until pdb/web '{.status.disruptionsAllowed}'=1 30s",
    );
}

#[test]
fn the_disruption_controller_keeps_the_budget_status_and_kubectl_prints_it() {
    let (mut c, mut s) = booted(61);
    two_pods_on_worker_1(&mut c, &mut s);
    let status = ok(
        &mut c,
        &mut s,
        "kubectl get pdb web -o jsonpath={.status.currentHealthy}/{.status.desiredHealthy}/{.status.expectedPods}/{.status.disruptionsAllowed}/{.status.observedGeneration}/{.status.conditions[0].type}={.status.conditions[0].status}={.status.conditions[0].reason}",
    );
    assert_eq!(status, "2/1/2/1/1/DisruptionAllowed=True=SufficientPods");
    let table = ok(&mut c, &mut s, "kubectl get pdb");
    let mut rows = table.lines();
    let header: Vec<&str> = rows
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ]
    );
    let row: Vec<&str> = rows.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(&row[..4], ["web", "1", "N/A", "1"], "{table}");
    // A percentage of maxUnavailable counts the Deployment's replicas: 25 %
    // of 4 rounds up to 1, so 3 must stay healthy.
    ok(&mut c, &mut s, &deployment("api", 4));
    ok(&mut c, &mut s, &budget("api", "maxUnavailable: 25%"));
    ok(
        &mut c,
        &mut s,
        "sim until deployment/api '{.status.readyReplicas}'=4 3m",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pdb/api '{.status.currentHealthy}'=4 30s",
    );
    let status = ok(
        &mut c,
        &mut s,
        "kubectl get pdb api -o jsonpath={.status.expectedPods}/{.status.desiredHealthy}/{.status.disruptionsAllowed}",
    );
    assert_eq!(status, "4/3/1");
    // Both rules at once are invalid.
    let e = fails(
        &mut c,
        &mut s,
        &budget("both", "minAvailable: 1\n  maxUnavailable: 1"),
    );
    assert!(
        e.contains("minAvailable and maxUnavailable cannot be both set"),
        "{e}"
    );
}

#[test]
fn drain_never_takes_a_budget_below_min_available_and_waits_for_the_replacement() {
    let (mut c, mut s) = booted(62);
    two_pods_on_worker_1(&mut c, &mut s);
    let before = pods(&mut c, &mut s, "app=web");
    // A short drain: the first pod is evicted, the second refused by the
    // budget (kubectl would retry it 5 s later, after the timeout).
    // kubeadm's kube-proxy DaemonSet has a pod on every node.
    let out = fails(
        &mut c,
        &mut s,
        "kubectl drain worker-1 --ignore-daemonsets --timeout=4s",
    );
    let first = &before[0].0;
    let second = &before[1].0;
    assert!(out.starts_with("node/worker-1 cordoned\n"), "{out}");
    assert!(
        out.contains(&format!("evicting pod default/{first}")),
        "{out}"
    );
    let refused = format!("error when evicting pods/\"{second}\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.");
    assert_eq!(out.matches(&refused).count(), 1, "{out}");
    // The first pod's nginx stops at once on SIGTERM: it is gone within
    // the timeout.
    assert!(out.contains(&format!("pod/{first} evicted")), "{out}");
    assert!(
        out.contains(&format!(
            "error when evicting pods/\"{second}\" -n \"default\": global timeout reached: 4s"
        )),
        "{out}"
    );
    assert!(
        out.contains("There are pending nodes to be drained:\n worker-1"),
        "{out}"
    );
    let now = pods(&mut c, &mut s, "app=web");
    assert!(
        now.iter()
            .any(|p| &p.0 == second && p.1 == "worker-1" && p.2 && !p.3),
        "the second pod still runs: {now:?}"
    );
    // Drain again, a few seconds at a time, and check between the tries
    // that a healthy pod always remains.
    let mut drained = false;
    for _ in 0..60 {
        let o = run(
            &mut c,
            &mut s,
            "kubectl drain worker-1 --ignore-daemonsets --timeout=3s",
        );
        let healthy = pods(&mut c, &mut s, "app=web")
            .iter()
            .filter(|p| p.2 && !p.3)
            .count();
        assert!(healthy >= 1, "minAvailable 1 holds:\n{}", o.output);
        if o.ok {
            assert!(
                o.output.starts_with("node/worker-1 already cordoned"),
                "{}",
                o.output
            );
            assert!(o.output.ends_with("node/worker-1 drained"), "{}", o.output);
            drained = true;
            break;
        }
    }
    assert!(drained, "the drain finished");
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=2 2m",
    );
    let after = pods(&mut c, &mut s, "app=web");
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().all(|p| p.1 != "worker-1"), "{after:?}");
    let node = ok(&mut c, &mut s, "kubectl get node worker-1");
    assert!(node.contains("Ready,SchedulingDisabled"), "{node}");
}

#[test]
fn one_drain_evicts_the_second_pod_once_the_first_ones_replacement_is_ready() {
    let (mut c, mut s) = booted(63);
    two_pods_on_worker_1(&mut c, &mut s);
    let out = ok(&mut c, &mut s, "kubectl drain worker-1 --ignore-daemonsets");
    assert!(out.contains("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."), "{out}");
    // Both web pods go (a CoreDNS replica on the node is evicted too).
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("pod/web-") && l.ends_with(" evicted"))
            .count(),
        2,
        "{out}"
    );
    assert!(out.ends_with("node/worker-1 drained"), "{out}");
}

#[test]
fn daemon_set_pods_need_ignore_daemonsets_unmanaged_pods_need_force_and_mirror_pods_stay() {
    let (mut c, mut s) = booted(64);
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
    ok(
        &mut c,
        &mut s,
        "sim node manifest add worker-2 -f -
apiVersion: v1
kind: Pod
metadata:
  name: static-web
spec:
  containers:
  - name: web
    image: nginx
---end",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: bare
spec:
  nodeName: worker-2
  containers:
  - name: web
    image: nginx
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-2 '{.status.phase}'=Running 2m",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/bare '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    let agent = pods(&mut c, &mut s, "app=node-agent")
        .into_iter()
        .find(|p| p.1 == "worker-2")
        .map(|p| p.0)
        .unwrap_or_default();
    assert!(!agent.is_empty(), "a DaemonSet pod on worker-2");
    // And one of kubeadm's kube-proxy DaemonSet, as on every node.
    let proxy = ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l k8s-app=kube-proxy --field-selector spec.nodeName=worker-2 -o jsonpath={.items[*].metadata.name}",
    );
    assert!(proxy.starts_with("kube-proxy-"), "{proxy}");
    let daemons = format!("default/{agent}, kube-system/{proxy}");
    let e = fails(&mut c, &mut s, "kubectl drain worker-2");
    assert_eq!(
        e,
        format!("node/worker-2 cordoned\nerror: unable to drain node \"worker-2\" due to error:[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {daemons}, cannot delete Pods declare no controller (use --force to override): default/bare], continuing command...\nThere are pending nodes to be drained:\n worker-2\n[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {daemons}, cannot delete Pods declare no controller (use --force to override): default/bare]")
    );
    let e = fails(&mut c, &mut s, "kubectl drain worker-2 --ignore-daemonsets");
    assert!(
        e.contains("due to error:cannot delete Pods declare no controller (use --force to override): default/bare, continuing command..."),
        "{e}"
    );
    let out = ok(
        &mut c,
        &mut s,
        "kubectl drain worker-2 --ignore-daemonsets --force --grace-period=5",
    );
    assert_eq!(
        out,
        format!("node/worker-2 already cordoned\nWarning: deleting Pods that declare no controller: default/bare; ignoring DaemonSet-managed Pods: {daemons}\nevicting pod default/bare\npod/bare evicted\nnode/worker-2 drained")
    );
    // The mirror pod and the DaemonSet pod stay: the kubelet and the
    // DaemonSet controller own them.
    let left = ok(
        &mut c,
        &mut s,
        "kubectl get pods --field-selector spec.nodeName=worker-2 -o name",
    );
    assert!(left.contains("pod/static-web-worker-2"), "{left}");
    assert!(left.contains(&format!("pod/{agent}")), "{left}");
    assert!(!left.contains("pod/bare"), "{left}");
}

#[test]
fn a_cordoned_node_takes_no_new_pods_until_it_is_uncordoned() {
    let (mut c, mut s) = booted(65);
    assert_eq!(
        ok(&mut c, &mut s, "kubectl cordon worker-1"),
        "node/worker-1 cordoned"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl cordon node/worker-1"),
        "node/worker-1 already cordoned"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get node worker-1 -o jsonpath={.spec.unschedulable}"
        ),
        "true"
    );
    ok(&mut c, &mut s, &deployment("web", 6));
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=6 3m",
    );
    let placed = pods(&mut c, &mut s, "app=web");
    assert!(placed.iter().all(|p| p.1 != "worker-1"), "{placed:?}");
    assert_eq!(
        ok(&mut c, &mut s, "kubectl uncordon worker-1"),
        "node/worker-1 uncordoned"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get node worker-1 -o jsonpath={.spec.unschedulable}"
        ),
        ""
    );
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=9");
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=9 3m",
    );
    let placed = pods(&mut c, &mut s, "app=web");
    assert!(
        placed.iter().filter(|p| p.1 == "worker-1").count() >= 2,
        "the spread fills the empty node: {placed:?}"
    );
    let e = fails(&mut c, &mut s, "kubectl cordon worker-9");
    assert_eq!(
        e,
        "Error from server (NotFound): nodes \"worker-9\" not found"
    );
}

#[test]
fn the_eviction_api_answers_429_with_the_upstream_message_and_cause() {
    let (mut c, mut s) = booted(66);
    ok(&mut c, &mut s, &deployment("web", 1));
    ok(&mut c, &mut s, &budget("web", "minAvailable: 1"));
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=1 3m",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pdb/web '{.status.currentHealthy}'=1 30s",
    );
    let pod = pods(&mut c, &mut s, "app=web")[0].0.clone();
    let evict = ApiRequest::new(Verb::Create, KindId::Pod, c.admin_credential())
        .in_namespace("default")
        .named(pod.clone())
        .with_subresource("eviction");
    let e = match c.call(evict.clone()) {
        ApiResponse::Error(e) => e,
        other => panic!("{}", other.summary()),
    };
    assert_eq!((e.reason, e.code()), (Reason::TooManyRequests, 429));
    assert_eq!(
        e.message,
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        e.to_status()["details"]["causes"][0]["message"],
        "The disruption budget web needs 1 healthy pods and has 1 currently"
    );
    // Without the budget, the eviction deletes the pod, marked as disrupted.
    ok(&mut c, &mut s, "kubectl delete pdb web");
    ok(&mut c, &mut s, "sim advance 1s");
    match c.call(evict) {
        ApiResponse::Object(o) => {
            assert!(o.deletion_timestamp().is_some(), "deleted gracefully");
            let v = o.to_value();
            let conds = v["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                conds.iter().any(|c| c["type"] == "DisruptionTarget"
                    && c["reason"] == "EvictionByEvictionAPI"
                    && c["message"] == "Eviction API: evicting"),
                "{conds:?}"
            );
        }
        other => panic!("{}", other.summary()),
    }
    let missing = ApiRequest::new(Verb::Create, KindId::Pod, c.admin_credential())
        .in_namespace("default")
        .named("nope")
        .with_subresource("eviction");
    match c.call(missing) {
        ApiResponse::Error(e) => assert_eq!(e.message, "pods \"nope\" not found"),
        other => panic!("{}", other.summary()),
    }
}
