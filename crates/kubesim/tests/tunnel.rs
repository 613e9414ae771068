//! Behaviour tests of the API server's paths to the kubelet through the
//! command language: `kubectl attach` and `kubectl port-forward` (with the
//! user's `curl` to the forwarded port), and Konnectivity carrying logs,
//! exec, attach and port-forward through its servers and per-node agents.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted(topology: Topology, seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(topology, seed);
    assert!(c.boot(SimDuration::from_secs(60)), "the control plane boots");
    (c, Session::new())
}

/// Runs one command; returns whether it succeeded and its output.
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

const NGINX: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels: {app: nginx}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - {name: http, containerPort: 80}
---end";

fn with_nginx(topology: Topology, seed: u64) -> (Cluster, Session) {
    let (mut c, mut s) = booted(topology, seed);
    ok(&mut c, &mut s, NGINX);
    ok(&mut c, &mut s, "sim until pod/nginx '{.status.phase}'=Running 2m");
    (c, s)
}

#[test]
fn explore() {
    let (mut c, mut s) = with_nginx(Topology::default(), 1);
    for cmd in ["kubectl attach nginx", "sim advance 1s", "kubectl port-forward pod/nginx 8080:80", "curl -s localhost:8080", "sim advance 2s", "jobs", "kubectl port-forward pod/nginx 8081:81", "curl localhost:8081", "jobs", "kubectl logs nginx"] {
        let (good, out) = run(&mut c, &mut s, cmd);
        println!("$ {cmd}  [{good}]\n{out}");
    }
}
