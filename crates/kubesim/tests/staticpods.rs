//! Behaviour tests of static pods and mirror pods through the command
//! language, as `kubesim shell` runs it: kubeadm's control plane as static
//! pods, a manifest file written on a node, its mirror pod in the API
//! coming back when deleted, and going when the file is removed.

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

/// Runs one command (with its manifest, if any) and returns its output,
/// asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(out[0].ok, "{script} failed:\n{}", out[0].output);
    out[0].output.clone()
}

fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(!out[0].ok, "{script} succeeded:\n{}", out[0].output);
    out[0].output.clone()
}

const STATIC_WEB: &str = "sim node manifest add worker-1 -f -
apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels:
    role: myrole
spec:
  containers:
  - name: web
    image: nginx
    ports:
    - name: web
      containerPort: 80
      protocol: TCP
---end
";

#[test]
fn kubeadms_control_plane_runs_as_static_pods_mirrored_in_kube_system() {
    let (mut c, mut s) = booted(1);
    ok(
        &mut c,
        &mut s,
        "sim until pod/kube-apiserver-control-plane-1 -n kube-system '{.status.conditions[?(@.type==\"Ready\")].status}'=True 2m",
    );
    let out = ok(&mut c, &mut s, "kubectl get pods -n kube-system");
    for node in ["control-plane-1", "control-plane-2", "control-plane-3"] {
        for component in [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            let name = format!("{component}-{node}");
            assert!(
                out.lines().any(|l| l.starts_with(&format!("{name} "))),
                "{name} is listed:\n{out}"
            );
        }
    }
    assert!(
        !out.contains("worker-"),
        "workers have no static pods:\n{out}"
    );
    let image = ok(
        &mut c,
        &mut s,
        "kubectl get pod kube-apiserver-control-plane-1 -n kube-system -o jsonpath={.spec.containers[0].image}",
    );
    assert_eq!(image, "registry.k8s.io/kube-apiserver:v1.34.0");
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get pod etcd-control-plane-2 -n kube-system -o jsonpath={.status.podIP}",
    );
    assert_eq!(ip, "10.0.0.12", "host network: the node's IP");
    let owner = ok(
        &mut c,
        &mut s,
        "kubectl get pod kube-scheduler-control-plane-3 -n kube-system -o jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
    );
    assert_eq!(owner, "Node/control-plane-3");
    let listed = ok(&mut c, &mut s, "sim node manifests control-plane-1");
    assert!(
        listed.contains("kube-apiserver.yaml")
            && listed.contains("kube-system/etcd-control-plane-1"),
        "{listed}"
    );
}

#[test]
fn a_static_pod_file_creates_a_mirror_pod_owned_by_the_node() {
    let (mut c, mut s) = booted(2);
    let wrote = ok(&mut c, &mut s, STATIC_WEB);
    assert!(
        wrote.contains("/etc/kubernetes/manifests/static-web.yaml"),
        "{wrote}"
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-1 '{.status.phase}'=Running 2m",
    );
    let get = |c: &mut Cluster, s: &mut Session, path: &str| {
        ok(
            c,
            s,
            &format!("kubectl get pod static-web-worker-1 -o 'jsonpath={{{path}}}'"),
        )
    };
    let mirror = get(
        &mut c,
        &mut s,
        ".metadata.annotations.kubernetes\\.io/config\\.mirror",
    );
    let hash = get(
        &mut c,
        &mut s,
        ".metadata.annotations.kubernetes\\.io/config\\.hash",
    );
    assert_eq!(mirror.len(), 32, "{mirror}");
    assert_eq!(mirror, hash);
    assert_eq!(
        get(
            &mut c,
            &mut s,
            ".metadata.annotations.kubernetes\\.io/config\\.source"
        ),
        "file"
    );
    assert_eq!(get(&mut c, &mut s, ".spec.nodeName"), "worker-1");
    assert_eq!(
        get(&mut c, &mut s, ".metadata.ownerReferences[0].kind"),
        "Node"
    );
    assert_eq!(
        get(&mut c, &mut s, ".metadata.ownerReferences[0].controller"),
        "true"
    );
    // The API's uid is the mirror's own, not the static pod's hash.
    assert_ne!(get(&mut c, &mut s, ".metadata.uid"), hash);
    // A mirror pod gets no service account from admission.
    assert_eq!(get(&mut c, &mut s, ".spec.serviceAccountName"), "");
}

#[test]
fn a_deleted_mirror_pod_comes_back_and_the_containers_keep_running() {
    let (mut c, mut s) = booted(3);
    ok(&mut c, &mut s, STATIC_WEB);
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-1 '{.status.phase}'=Running 2m",
    );
    let uid = ok(
        &mut c,
        &mut s,
        "kubectl get pod static-web-worker-1 -o jsonpath={.metadata.uid}",
    );
    let started = ok(
        &mut c,
        &mut s,
        "kubectl get pod static-web-worker-1 -o jsonpath={.status.containerStatuses[0].state.running.startedAt}",
    );
    ok(&mut c, &mut s, "kubectl delete pod static-web-worker-1");
    ok(
        &mut c,
        &mut s,
        &format!("sim until pod/static-web-worker-1 '{{.metadata.uid}}'!={uid} 30s"),
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-1 '{.status.phase}'=Running 30s",
    );
    let new_uid = ok(
        &mut c,
        &mut s,
        "kubectl get pod static-web-worker-1 -o jsonpath={.metadata.uid}",
    );
    assert!(!new_uid.is_empty() && new_uid != uid);
    let still = ok(
        &mut c,
        &mut s,
        "kubectl get pod static-web-worker-1 -o jsonpath={.status.containerStatuses[0].state.running.startedAt}",
    );
    assert_eq!(
        still, started,
        "deleting the mirror does not restart the pod"
    );
    let restarts = ok(
        &mut c,
        &mut s,
        "kubectl get pod static-web-worker-1 -o jsonpath={.status.containerStatuses[0].restartCount}",
    );
    assert_eq!(restarts, "0");
}

#[test]
fn removing_the_file_stops_the_pod_and_deletes_its_mirror() {
    let (mut c, mut s) = booted(4);
    ok(&mut c, &mut s, STATIC_WEB);
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-1 '{.status.phase}'=Running 2m",
    );
    let removed = ok(
        &mut c,
        &mut s,
        "sim node manifest rm worker-1 static-web.yaml",
    );
    assert!(removed.contains("static-web.yaml"), "{removed}");
    ok(
        &mut c,
        &mut s,
        "sim until pod/static-web-worker-1 '{.metadata.name}'= 1m",
    );
    let err = fails(&mut c, &mut s, "kubectl get pod static-web-worker-1");
    assert!(err.contains("NotFound"), "{err}");
    let err = fails(
        &mut c,
        &mut s,
        "sim node manifest rm worker-1 static-web.yaml",
    );
    assert!(err.contains("No such file or directory"), "{err}");
    // The container stopped on the node.
    c.advance(SimDuration::from_secs(35));
    let running = c
        .kubelet("worker-1")
        .and_then(|k| k.runtime())
        .map(|r| {
            r.list_containers(None)
                .iter()
                .filter(|x| x.state == kubesim::runtime::ContainerState::Running)
                // kubeadm's CoreDNS replicas may run on the node too, and
                // its kube-proxy DaemonSet's pod runs on every node.
                .filter(|x| !x.image.contains("coredns") && !x.image.contains("kube-proxy"))
                .count()
        })
        .unwrap_or(99);
    assert_eq!(running, 0);
}

#[test]
fn a_file_that_is_not_a_pod_is_written_but_not_run() {
    let (mut c, mut s) = booted(5);
    let out = ok(
        &mut c,
        &mut s,
        "sim node manifest add worker-2 cm.yaml -f -\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---end\n",
    );
    assert!(out.contains("will not run it"), "{out}");
    ok(&mut c, &mut s, "sim advance 2s");
    let listed = ok(&mut c, &mut s, "sim node manifests worker-2");
    assert!(listed.contains("not run"), "{listed}");
    let err = fails(
        &mut c,
        &mut s,
        "sim node manifest add nowhere -f -\nkind: Pod\n---end\n",
    );
    assert!(err.contains("error:"), "{err}");
}

#[test]
fn a_crashed_api_server_shows_its_static_pod_not_ready_until_healed() {
    let (mut c, mut s) = booted(6);
    let ready = "'{.status.conditions[?(@.type==\"Ready\")].status}'";
    ok(
        &mut c,
        &mut s,
        &format!("sim until pod/kube-apiserver-control-plane-2 -n kube-system {ready}=True 2m"),
    );
    ok(
        &mut c,
        &mut s,
        "sim fault kube-apiserver-control-plane-2 crash",
    );
    // kubeadm's readiness probe: every second, three failures.
    let waited = ok(
        &mut c,
        &mut s,
        &format!("sim until pod/kube-apiserver-control-plane-2 -n kube-system {ready}=False 30s"),
    );
    assert!(waited.contains("False"), "{waited}");
    ok(&mut c, &mut s, "sim heal kube-apiserver-control-plane-2");
    ok(
        &mut c,
        &mut s,
        &format!("sim until pod/kube-apiserver-control-plane-2 -n kube-system {ready}=True 2m"),
    );
}
