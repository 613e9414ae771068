//! Behaviour tests of kube-proxy's remaining Service features through the
//! command language: `sessionAffinity: ClientIP`, the Local traffic
//! policies, and a LoadBalancer's external IP reached from outside the
//! cluster (the shell's `curl`) through the cloud's load balancer.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};
use std::collections::BTreeSet;

fn booted(seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
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

/// agnhost netexec Deployment `web` (answers `/hostname` and `/clientip`
/// on 8080), `replicas` pods, optionally pinned to one node, a Service
/// `web` with `spec` lines, and curl pods on worker-1 and worker-2.
fn app(replicas: u32, node: Option<&str>, service_spec: &str) -> String {
    let pin = node
        .map(|n| format!("      nodeSelector: {{kubernetes.io/hostname: {n}}}\n"))
        .unwrap_or_default();
    format!(
        "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
{pin}      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: [netexec, --http-port=8080]
        readinessProbe:
          httpGet: {{path: /, port: 8080}}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
{service_spec}  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: curl-1
spec:
  nodeName: worker-1
  containers:
  - name: nginx
    image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata:
  name: curl-2
spec:
  nodeName: worker-2
  containers:
  - name: nginx
    image: nginx:1.27
---end"
    )
}

fn hostname(c: &mut Cluster, s: &mut Session, pod: &str) -> String {
    ok(
        c,
        s,
        &format!("kubectl exec {pod} -- curl -s http://web/hostname"),
    )
    .trim()
    .to_string()
}

#[test]
fn client_ip_affinity_defaults_to_three_hours() {
    let (mut c, mut s) = booted(11);
    ok(
        &mut c,
        &mut s,
        &app(1, None, "  sessionAffinity: ClientIP\n"),
    );
    let timeout = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.sessionAffinityConfig.clientIP.timeoutSeconds}",
    );
    assert_eq!(timeout, "10800");
    ok(&mut c, &mut s, "sim advance 60s");
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert!(
        rules.contains("-m recent --name KUBE-SEP-")
            && rules.contains("--rcheck --seconds 10800 --reap"),
        "{rules}"
    );
}

#[test]
fn client_ip_affinity_holds_then_expires_on_the_virtual_clock() {
    let (mut c, mut s) = booted(12);
    ok(
        &mut c,
        &mut s,
        &app(
            3,
            None,
            "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP: {timeoutSeconds: 60}\n",
        ),
    );
    ok(&mut c, &mut s, "sim advance 90s");
    let first = hostname(&mut c, &mut s, "curl-1");
    assert!(first.starts_with("web-"), "{first}");
    // Within the timeout, every new connection from the client goes to
    // the same pod and refreshes its entry.
    for _ in 0..8 {
        ok(&mut c, &mut s, "sim advance 20s");
        assert_eq!(hostname(&mut c, &mut s, "curl-1"), first);
    }
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert!(rules.contains("# xt_recent KUBE-SEP-"), "{rules}");
    // Once 60 s pass without a connection, the client is free again: over
    // a few expiries it reaches other pods.
    let mut seen = BTreeSet::new();
    for _ in 0..12 {
        ok(&mut c, &mut s, "sim advance 61s");
        seen.insert(hostname(&mut c, &mut s, "curl-1"));
    }
    assert!(seen.len() >= 2, "{seen:?}");
}

#[test]
fn internal_traffic_policy_local_keeps_pod_traffic_on_its_node() {
    let (mut c, mut s) = booted(13);
    ok(
        &mut c,
        &mut s,
        &app(2, Some("worker-1"), "  internalTrafficPolicy: Local\n"),
    );
    ok(&mut c, &mut s, "sim advance 90s");
    let here = hostname(&mut c, &mut s, "curl-1");
    assert!(here.starts_with("web-"), "{here}");
    // worker-2 has no endpoint of its own: the filter table drops the SYN.
    let (good, out) = run(
        &mut c,
        &mut s,
        "kubectl exec curl-2 -- curl http://web/hostname",
    );
    assert!(!good);
    assert!(
        out.contains(
            "curl: (7) Failed to connect to web port 80 after 127000 ms: Connection timed out"
        ),
        "{out}"
    );
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-2");
    assert!(
        rules.contains("has no local endpoints\" -m tcp --dport 80 -j DROP"),
        "{rules}"
    );
}

fn lb_ip(c: &mut Cluster, s: &mut Session) -> String {
    ok(
        c,
        s,
        "sim until service/web '{.status.loadBalancer.ingress[0].ip}'=203.0.113.1 1m",
    );
    ok(c, s, "sim advance 5s");
    "203.0.113.1".to_string()
}

#[test]
fn a_load_balancer_ip_is_reachable_from_outside_and_from_pods() {
    let (mut c, mut s) = booted(14);
    ok(&mut c, &mut s, &app(2, None, "  type: LoadBalancer\n"));
    ok(&mut c, &mut s, "sim advance 60s");
    let ip = lb_ip(&mut c, &mut s);
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-3");
    assert!(rules.contains(&format!("-A KUBE-SERVICES -d {ip}/32 -p tcp -m comment --comment \"default/web loadbalancer IP\" -m tcp --dport 80 -j KUBE-EXT-")), "{rules}");
    let from_outside = ok(&mut c, &mut s, &format!("curl -s http://{ip}/hostname"));
    assert!(from_outside.starts_with("web-"), "{from_outside}");
    // externalTrafficPolicy: Cluster masquerades: the pod sees a node.
    let client = ok(&mut c, &mut s, &format!("curl -s http://{ip}/clientip"));
    assert!(client.starts_with("10.0.1."), "{client}");
    // A pod reaches the load balancer's IP through its own node's rules.
    let inside = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec curl-2 -- curl -s http://{ip}/hostname"),
    );
    assert!(inside.starts_with("web-"), "{inside}");
    // A port the load balancer does not listen on goes nowhere.
    let (good, out) = run(&mut c, &mut s, &format!("curl http://{ip}:81/"));
    assert!(!good);
    assert!(
        out.starts_with("curl: (28) Failed to connect to 203.0.113.1 port 81"),
        "{out}"
    );
}

#[test]
fn external_traffic_policy_local_keeps_the_client_ip_and_health_checks_pick_nodes() {
    let (mut c, mut s) = booted(15);
    ok(
        &mut c,
        &mut s,
        &app(
            1,
            Some("worker-1"),
            "  type: LoadBalancer\n  externalTrafficPolicy: Local\n",
        ),
    );
    ok(&mut c, &mut s, "sim advance 60s");
    let ip = lb_ip(&mut c, &mut s);
    let hc = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.healthCheckNodePort}",
    );
    let hc: i32 = hc.parse().expect("a health check node port");
    assert!((30000..=32767).contains(&hc), "{hc}");
    // Every request from outside lands on worker-1, the one node whose
    // health check passes, and the pod sees the client's own address.
    for _ in 0..10 {
        let client = ok(&mut c, &mut s, &format!("curl -s http://{ip}/clientip"));
        assert_eq!(client, "198.51.100.10:40000");
    }
    // kube-proxy's health-check server on each node.
    let w1 = ok(&mut c, &mut s, &format!("curl -s http://10.0.1.11:{hc}/"));
    assert!(w1.contains("\"localEndpoints\": 1"), "{w1}");
    let (good, w2) = run(&mut c, &mut s, &format!("curl -f http://10.0.1.12:{hc}/"));
    assert!(!good);
    assert_eq!(w2, "curl: (22) The requested URL returned error: 503");
    // worker-2's NodePort drops traffic from outside (no local endpoint)...
    let np = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.ports[0].nodePort}",
    );
    let (good, out) = run(
        &mut c,
        &mut s,
        &format!("curl http://10.0.1.12:{np}/hostname"),
    );
    assert!(!good);
    assert!(out.contains("Connection timed out"), "{out}");
    let ok1 = ok(
        &mut c,
        &mut s,
        &format!("curl -s http://10.0.1.11:{np}/hostname"),
    );
    assert!(ok1.starts_with("web-"), "{ok1}");
    // ...while a pod on worker-2 still reaches the Service by the load
    // balancer's IP (pod traffic short-circuits to every endpoint).
    let inside = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec curl-2 -- curl -s http://{ip}/hostname"),
    );
    assert!(inside.starts_with("web-"), "{inside}");
}

#[test]
fn outside_curl_cannot_resolve_service_names() {
    let (mut c, mut s) = booted(16);
    let (good, out) = run(&mut c, &mut s, "curl http://web.default.svc.cluster.local/");
    assert!(!good);
    assert_eq!(
        out,
        "curl: (6) Could not resolve host: web.default.svc.cluster.local"
    );
}

/// Only the Service of [`app`]: what `kubectl apply` sends again when the
/// manifest changes (without the values the server allocated).
fn service_only(spec: &str) -> String {
    format!(
        "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
{spec}  ports:
  - port: 80
    targetPort: 8080
---end"
    )
}

#[test]
fn switching_external_traffic_policy_on_update_allocates_and_releases_the_health_check_port() {
    let (mut c, mut s) = booted(17);
    ok(
        &mut c,
        &mut s,
        &app(1, Some("worker-1"), "  type: LoadBalancer\n"),
    );
    ok(&mut c, &mut s, "sim advance 60s");
    let ip = lb_ip(&mut c, &mut s);
    let read = |c: &mut Cluster, s: &mut Session, path: &str| {
        ok(c, s, &format!("kubectl get svc web -o jsonpath={{{path}}}"))
    };
    let cluster_ip = read(&mut c, &mut s, ".spec.clusterIP");
    let node_port = read(&mut c, &mut s, ".spec.ports[0].nodePort");
    assert_eq!(read(&mut c, &mut s, ".spec.healthCheckNodePort"), "");
    // Cluster -> Local: the registry allocates a health-check node port and
    // keeps the address and node port the manifest leaves out.
    ok(
        &mut c,
        &mut s,
        &service_only("  type: LoadBalancer\n  externalTrafficPolicy: Local\n"),
    );
    let hc: i32 = read(&mut c, &mut s, ".spec.healthCheckNodePort")
        .parse()
        .expect("a health-check node port after the update");
    assert!((30000..=32767).contains(&hc), "{hc}");
    assert_ne!(hc.to_string(), node_port);
    assert_eq!(read(&mut c, &mut s, ".spec.clusterIP"), cluster_ip);
    assert_eq!(read(&mut c, &mut s, ".spec.ports[0].nodePort"), node_port);
    // kube-proxy serves it: the node with the endpoint passes, the load
    // balancer sends outside traffic there with the client's address kept.
    ok(&mut c, &mut s, "sim advance 10s");
    let w1 = ok(&mut c, &mut s, &format!("curl -s http://10.0.1.11:{hc}/"));
    assert!(w1.contains("\"localEndpoints\": 1"), "{w1}");
    ok(&mut c, &mut s, "sim advance 10s");
    let client = ok(&mut c, &mut s, &format!("curl -s http://{ip}/clientip"));
    assert_eq!(client, "198.51.100.10:40000");
    // Local -> Cluster: released, and the field is cleared.
    ok(&mut c, &mut s, &service_only("  type: LoadBalancer\n"));
    assert_eq!(read(&mut c, &mut s, ".spec.healthCheckNodePort"), "");
    assert_eq!(read(&mut c, &mut s, ".spec.clusterIP"), cluster_ip);
    // A Service created next may take the released port.
    ok(
        &mut c,
        &mut s,
        &format!(
            "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: other
spec:
  type: NodePort
  selector: {{app: web}}
  ports:
  - port: 80
    targetPort: 8080
    nodePort: {hc}
---end"
        ),
    );
}
