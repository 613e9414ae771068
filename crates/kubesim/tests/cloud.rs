//! Behaviour tests of the cloud-controller-manager and the simulated cloud
//! through the command language: node initialisation, load balancers,
//! deleted VMs, auto-repair, the autoscaler, and the CCM's RBAC.

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

/// Runs one command and returns whether it succeeded and its output.
fn run(c: &mut Cluster, s: &mut Session, script: &str) -> (bool, String) {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    (out[0].ok, out[0].output.clone())
}

fn deployment(name: &str, replicas: u32, cpu: &str) -> String {
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
      - name: nginx
        image: nginx:1.27
        resources:
          requests:
            cpu: {cpu}
            memory: 128Mi
---end"
    )
}

/// Advances in steps until `f` holds; returns whether it did.
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
fn every_node_is_initialised_by_the_cloud_controller_manager_within_seconds_of_registering() {
    let (mut c, mut s) = booted(3);
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-3 '{.spec.providerID}'=kubesim://zone-c/worker-3 30s",
    );
    for (node, zone, kind) in [
        ("control-plane-1", "zone-a", "e2-standard-2"),
        ("worker-1", "zone-a", "e2-standard-4"),
        ("worker-2", "zone-b", "e2-standard-4"),
    ] {
        ok(
            &mut c,
            &mut s,
            &format!("sim until node/{node} '{{.spec.providerID}}'=kubesim://{zone}/{node} 10s"),
        );
        let labels = ok(
            &mut c,
            &mut s,
            &format!("kubectl get node {node} -o jsonpath={{.metadata.labels}}"),
        );
        assert!(
            labels.contains(&format!("\"topology.kubernetes.io/zone\":\"{zone}\"")),
            "{labels}"
        );
        assert!(labels.contains("\"topology.kubernetes.io/region\":\"region-1\""));
        assert!(labels.contains(&format!("\"node.kubernetes.io/instance-type\":\"{kind}\"")));
        let taints = ok(
            &mut c,
            &mut s,
            &format!("kubectl get node {node} -o jsonpath={{.spec.taints[*].key}}"),
        );
        assert!(
            !taints.contains("node.cloudprovider.kubernetes.io/uninitialized"),
            "{node}: {taints}"
        );
    }
    // The routes follow the nodes' pod CIDRs.
    c.advance(SimDuration::from_secs(15));
    let routes = ok(&mut c, &mut s, "sim cloud routes");
    assert!(
        routes.contains("10.244.3.0/24") && routes.contains("instance worker-1"),
        "{routes}"
    );
    // A new node starts tainted, and the controller lifts the taint.
    ok(
        &mut c,
        &mut s,
        "sim node add worker-4 --zone zone-b --type e2-standard-8",
    );
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.metadata.name}'=worker-4 1m",
    );
    let registered = c.now();
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.spec.providerID}'=kubesim://zone-b/worker-4 30s",
    );
    let waited = c.now().saturating_since(registered);
    assert!(
        waited <= SimDuration::from_secs(6),
        "initialised {waited} after registering"
    );
    let cpu = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-4 -o jsonpath={.status.capacity.cpu}",
    );
    assert_eq!(cpu, "8");
}

#[test]
fn a_load_balancer_service_gets_an_external_ip_and_gives_it_back_when_deleted() {
    let (mut c, mut s) = booted(5);
    ok(&mut c, &mut s, &deployment("web", 2, "100m"));
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - port: 80
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until service/web '{.status.loadBalancer.ingress[0].ip}'=203.0.113.1 1m",
    );
    let finalizers = ok(
        &mut c,
        &mut s,
        "kubectl get service web -o jsonpath={.metadata.finalizers}",
    );
    assert!(
        finalizers.contains("service.kubernetes.io/load-balancer-cleanup"),
        "{finalizers}"
    );
    let lbs = ok(&mut c, &mut s, "sim cloud lbs");
    assert!(
        lbs.contains("default/web") && lbs.contains("203.0.113.1"),
        "{lbs}"
    );
    assert!(
        !lbs.contains("control-plane-1"),
        "control-plane nodes are excluded: {lbs}"
    );
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(events.contains("EnsuredLoadBalancer"), "{events}");

    ok(&mut c, &mut s, "kubectl delete service web");
    let gone = eventually(&mut c, &mut s, SimDuration::from_secs(60), |c, s| {
        !run(c, s, "kubectl get service web").0
    });
    assert!(gone, "the Service goes once its load balancer is deleted");
    assert_eq!(ok(&mut c, &mut s, "sim cloud lbs"), "no load balancers");
}

#[test]
fn a_deleted_vm_takes_its_node_away_and_its_pods_are_replaced_elsewhere() {
    let (mut c, mut s) = booted(7);
    ok(&mut c, &mut s, &deployment("web", 6, "100m"));
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=6 2m",
    );
    let wide = ok(&mut c, &mut s, "kubectl get pods -o wide");
    assert!(wide.contains("worker-2"), "{wide}");
    ok(&mut c, &mut s, "sim fault vm/worker-2 delete");
    // The node lifecycle controller marks it NotReady after the grace
    // period; the cloud node lifecycle controller then deletes it.
    let deleted = eventually(&mut c, &mut s, SimDuration::from_secs(120), |c, s| {
        !run(c, s, "kubectl get node worker-2").0
    });
    assert!(deleted, "the Node is deleted");
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(events.contains("DeletingNode"), "{events}");
    let replaced = eventually(&mut c, &mut s, SimDuration::from_secs(300), |c, s| {
        let pods = ok(c, s, "kubectl get pods -o wide");
        let ready = ok(
            c,
            s,
            "kubectl get deployment web -o jsonpath={.status.readyReplicas}",
        );
        !pods.contains("worker-2") && ready == "6"
    });
    assert!(
        replaced,
        "{}",
        ok(&mut c, &mut s, "kubectl get pods -o wide")
    );
}

#[test]
fn auto_repair_replaces_the_vm_of_a_node_that_stays_not_ready() {
    let (mut c, mut s) = booted(11);
    ok(&mut c, &mut s, "sim advance 10s");
    ok(&mut c, &mut s, "sim cloud autorepair on");
    ok(&mut c, &mut s, "sim fault worker-3 power-off");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-3 '{.status.conditions[?(@.type==\"Ready\")].status}'=Unknown 2m",
    );
    let shutdown = eventually(&mut c, &mut s, SimDuration::from_secs(30), |c, s| {
        ok(
            c,
            s,
            "kubectl get node worker-3 -o jsonpath={.spec.taints[*].key}",
        )
        .contains("node.cloudprovider.kubernetes.io/shutdown")
    });
    assert!(shutdown, "a stopped VM's node gets the shutdown taint");
    // Not before ten minutes.
    ok(&mut c, &mut s, "sim advance 8m");
    assert!(!ok(&mut c, &mut s, "sim cloud operations").contains("auto-repair"));
    let repaired = eventually(&mut c, &mut s, SimDuration::from_secs(180), |c, s| {
        ok(c, s, "sim cloud operations").contains("auto-repair: recreating VM worker-3")
    });
    assert!(repaired);
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-3 '{.status.conditions[?(@.type==\"Ready\")].status}'=True 3m",
    );
    // The new VM's kubelet registers a fresh Node with the uninitialized
    // taint, which the cloud-controller-manager then removes (Ready may come
    // first).
    let clean = eventually(&mut c, &mut s, SimDuration::from_secs(30), |c, s| {
        let taints = ok(
            c,
            s,
            "kubectl get node worker-3 -o jsonpath={.spec.taints[*].key}",
        );
        !taints.contains("shutdown") && !taints.contains("uninitialized")
    });
    assert!(clean, "the repaired node is initialised and not shut down");
    assert!(ok(&mut c, &mut s, "sim cloud vms").contains("worker-3"));
}

#[test]
fn the_autoscaler_adds_nodes_for_pods_that_do_not_fit_and_they_schedule() {
    let (mut c, mut s) = booted(13);
    ok(&mut c, &mut s, "sim cloud autoscaler on --max 6");
    // Three 4-core workers hold one 3-core pod each; three more need room.
    ok(&mut c, &mut s, &deployment("big", 6, "3"));
    ok(
        &mut c,
        &mut s,
        "sim until deployment/big '{.status.readyReplicas}'=3 2m",
    );
    ok(&mut c, &mut s, "sim advance 15s");
    let ops = ok(&mut c, &mut s, "sim cloud operations");
    assert!(ops.contains("scale-up default-pool 3->6"), "{ops}");
    ok(
        &mut c,
        &mut s,
        "sim until deployment/big '{.status.readyReplicas}'=6 3m",
    );
    let nodes = ok(&mut c, &mut s, "kubectl get nodes");
    assert_eq!(nodes.matches("default-pool-").count(), 3, "{nodes}");
}

#[test]
fn a_cloud_controller_manager_without_the_nodes_patch_permission_fails_with_403() {
    let (mut c, mut s) = booted(17);
    ok(&mut c, &mut s, "sim advance 10s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cloud-controller-manager
rules:
- apiGroups: [\"\"]
  resources: [events]
  verbs: [create, patch, update]
- apiGroups: [\"\"]
  resources: [nodes]
  verbs: [get, list, watch, create, update, delete]
- apiGroups: [\"\"]
  resources: [services]
  verbs: [get, list, watch, patch, update]
- apiGroups: [\"\"]
  resources: [services/status]
  verbs: [patch, update]
---end",
    );
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.metadata.name}'=worker-4 1m",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    let taints = ok(
        &mut c,
        &mut s,
        "kubectl get node worker-4 -o jsonpath={.spec.taints[*].key}",
    );
    assert!(
        taints.contains("node.cloudprovider.kubernetes.io/uninitialized"),
        "{taints}"
    );
    let logs = ok(&mut c, &mut s, "sim cloud logs");
    assert!(
        logs.contains("403") && logs.contains("cannot patch resource \"nodes\""),
        "{logs}"
    );
}
