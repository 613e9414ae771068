//! Behaviour tests of the API server's paths to the kubelet through the
//! command language: `kubectl attach` and `kubectl port-forward` (with the
//! user's `curl` to the forwarded port), and Konnectivity carrying logs,
//! exec, attach and port-forward through its servers and per-node agents.

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
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    (c, s)
}

/// A pod printing `tick N` every 2 s, pinned to worker-1.
const TICKER: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  nodeName: worker-1
  containers:
  - name: ticker
    image: busybox:1.36
    command: [sh, -c, 'i=0; while true; do echo tick; sleep 2; done']
---end";

/// The trace's kubelet-api hops since `since`, as `from -> to: summary`.
fn kubelet_hops(c: &Cluster, since: kubesim::SimTime) -> Vec<String> {
    c.trace()
        .since(since)
        .filter(|e| e.kind == "kubelet-api")
        .map(|e| format!("{} -> {}: {}", e.from, e.to, e.summary))
        .collect()
}

#[test]
fn attach_streams_what_the_container_prints_until_interrupted() {
    let (mut c, mut s) = booted(Topology::default(), 3);
    ok(&mut c, &mut s, TICKER);
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    let before = ok(&mut c, &mut s, "kubectl logs ticker");
    let printed_before = before.lines().count();
    assert!(printed_before >= 2, "{before}");
    let header = ok(&mut c, &mut s, "kubectl attach ticker");
    assert_eq!(
        header,
        "All commands and output from this session will be recorded in container logs, including credentials and sensitive information passed through the command prompt.\nIf you don't see a command prompt, try pressing enter."
    );
    assert_eq!(s.watching(), Some("kubectl attach ticker"));
    // What the container prints from now on arrives while the clock runs:
    // one line every 2 s, none of those printed before the attach.
    let out = ok(&mut c, &mut s, "sim advance 6s");
    let ticks = out.lines().filter(|l| *l == "tick").count();
    assert!((2..=4).contains(&ticks), "{out}");
    // ^C detaches: nothing more prints.
    ok(&mut c, &mut s, "^C");
    assert_eq!(s.watching(), None);
    let later = ok(&mut c, &mut s, "sim advance 6s");
    assert!(!later.contains("tick"), "{later}");
    // The container kept running and logging all along.
    let after = ok(&mut c, &mut s, "kubectl logs ticker");
    assert!(
        after.lines().count() >= printed_before + ticks + 2,
        "{after}"
    );
}

#[test]
fn attach_is_refused_for_a_completed_pod_and_an_unknown_container() {
    let (mut c, mut s) = booted(Topology::default(), 4);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: once
spec:
  restartPolicy: Never
  containers:
  - name: once
    image: busybox:1.36
    command: [echo, done]
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/once '{.status.phase}'=Succeeded 2m",
    );
    let (good, out) = run(&mut c, &mut s, "kubectl attach once");
    assert!(!good);
    assert_eq!(
        out,
        "error: cannot attach a container in a completed pod; current phase is Succeeded"
    );
    ok(&mut c, &mut s, NGINX);
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    let (good, out) = run(&mut c, &mut s, "kubectl attach nginx -c sidecar");
    assert!(!good);
    assert_eq!(
        out,
        "error: cannot attach to the container: container sidecar not found in pod nginx"
    );
    let (good, out) = run(&mut c, &mut s, "kubectl attach pod/missing");
    assert!(!good);
    assert_eq!(
        out,
        "Error from server (NotFound): pods \"missing\" not found"
    );
}

#[test]
fn attach_needs_create_on_pods_attach() {
    let (mut c, mut s) = with_nginx(Topology::default(), 5);
    // The `view` ClusterRole reads pods but grants no pods/attach.
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: jane-view
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: view
  apiGroup: rbac.authorization.k8s.io
---end",
    );
    c.advance(SimDuration::from_millis(100));
    let (good, out) = run(&mut c, &mut s, "kubectl attach nginx --as=jane");
    assert!(!good);
    assert_eq!(
        out,
        "Error from server (Forbidden): pods \"nginx\" is forbidden: User \"jane\" cannot create resource \"pods/attach\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(s.watching(), None);
    // `edit` grants it.
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: jane-edit
  namespace: default
subjects:
- kind: User
  name: jane
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: edit
  apiGroup: rbac.authorization.k8s.io
---end",
    );
    c.advance(SimDuration::from_millis(100));
    ok(&mut c, &mut s, "kubectl attach nginx --as=jane");
    assert_eq!(s.watching(), Some("kubectl attach nginx"));
}

#[test]
fn port_forward_and_curl_return_nginxs_page_through_the_api_server_and_kubelet() {
    let (mut c, mut s) = with_nginx(Topology::default(), 6);
    let node = ok(
        &mut c,
        &mut s,
        "kubectl get pod nginx -o jsonpath={.spec.nodeName}",
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl port-forward pod/nginx 8080:80"),
        "Forwarding from 127.0.0.1:8080 -> 80\nForwarding from [::1]:8080 -> 80"
    );
    assert_eq!(
        ok(&mut c, &mut s, "jobs"),
        "[1]+  Running                 kubectl port-forward pod/nginx 8080:80 &"
    );
    let since = c.now();
    let page = ok(&mut c, &mut s, "curl localhost:8080");
    assert!(
        page.starts_with("Handling connection for 8080\n<!DOCTYPE html>"),
        "{page}"
    );
    assert!(page.contains("<title>Welcome to nginx!</title>"), "{page}");
    // The connection went kubectl -> load balancer -> API server ->
    // kubelet and back, as a stream on the upgraded connection.
    let hops: Vec<String> = c
        .trace()
        .since(since)
        .filter(|e| e.kind == "kubelet-api" || e.kind == "api-request")
        .map(|e| format!("{} -> {}", e.from, e.to))
        .collect();
    assert_eq!(hops[0], "kubectl -> api-load-balancer", "{hops:?}");
    assert!(
        hops[1].starts_with("api-load-balancer -> kube-apiserver-"),
        "{hops:?}"
    );
    assert!(
        hops[2].starts_with("kube-apiserver-") && hops[2].ends_with(&format!("-> kubelet@{node}")),
        "{hops:?}"
    );
    // nginx logged the request, from inside the pod's network namespace.
    let logs = ok(&mut c, &mut s, "kubectl logs nginx");
    assert!(logs.contains("127.0.0.1 - - ["), "{logs}");
    assert!(logs.contains("\"GET / HTTP/1.1\" 200 615"), "{logs}");
    // A second listener on the same port cannot bind.
    let (good, out) = run(&mut c, &mut s, "kubectl port-forward pod/nginx 8080:80");
    assert!(!good);
    assert!(out.starts_with("Unable to listen on port 8080:"), "{out}");
    // `kill %1` stops the forward: the port no longer answers.
    assert_eq!(
        ok(&mut c, &mut s, "kill %1"),
        "[1]+  Terminated              kubectl port-forward pod/nginx 8080:80"
    );
    let (good, out) = run(&mut c, &mut s, "curl localhost:8080");
    assert!(!good);
    assert_eq!(
        out,
        "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Couldn't connect to server"
    );
}

#[test]
fn port_forward_resolves_a_service_and_a_deployment_to_a_pod() {
    let (mut c, mut s) = booted(Topology::default(), 7);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: httpd:2.4
        ports:
        - {name: www, containerPort: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {port: 8000, targetPort: www}
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.readyReplicas}'=2 2m",
    );
    // The Service's port 8000 is the pods' named port `www`, 80.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl port-forward svc/web 9000:8000"),
        "Forwarding from 127.0.0.1:9000 -> 80\nForwarding from [::1]:9000 -> 80"
    );
    let page = ok(&mut c, &mut s, "curl -s http://127.0.0.1:9000/");
    assert!(page.contains("It works!"), "{page}");
    let (good, out) = run(&mut c, &mut s, "kubectl port-forward svc/web 9001:9999");
    assert!(!good);
    assert_eq!(out, "error: Service web does not have a service port 9999");
    // A Deployment's pod, on a port kubectl picks.
    let out = ok(&mut c, &mut s, "kubectl port-forward deploy/web :80");
    let local: u16 = out
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("Forwarding from 127.0.0.1:"))
        .and_then(|l| l.strip_suffix(" -> 80"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(local >= 32768, "{out}");
    let page = ok(&mut c, &mut s, &format!("curl -s localhost:{local}"));
    assert!(page.contains("It works!"), "{page}");
    assert_eq!(ok(&mut c, &mut s, "jobs").lines().count(), 2);
}

#[test]
fn a_forward_to_a_port_nothing_listens_on_fails_and_ends() {
    let (mut c, mut s) = with_nginx(Topology::default(), 8);
    ok(&mut c, &mut s, "kubectl port-forward pod/nginx 8081:81");
    let (good, out) = run(&mut c, &mut s, "curl localhost:8081");
    assert!(!good);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Handling connection for 8081");
    assert!(
        lines[1]
            .contains("an error occurred forwarding 8081 -> 81: error forwarding port 81 to pod ")
            && lines[1].contains("failed to connect to localhost:81 inside namespace")
            && lines[1].contains("dial tcp4 127.0.0.1:81: connect: connection refused"),
        "{out}"
    );
    assert_eq!(lines[2], "error: lost connection to pod");
    assert_eq!(
        lines.last().copied(),
        Some("curl: (52) Empty reply from server")
    );
    // The forward is gone.
    assert_eq!(ok(&mut c, &mut s, "jobs"), "");
}

#[test]
fn port_forward_needs_a_running_pod() {
    let (mut c, mut s) = booted(Topology::default(), 9);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: nowhere
spec:
  nodeSelector: {disk: ssd}
  containers:
  - name: nginx
    image: nginx:1.27
---end",
    );
    c.advance(SimDuration::from_secs(2));
    let (good, out) = run(&mut c, &mut s, "kubectl port-forward nowhere 8080:80");
    assert!(!good);
    assert_eq!(
        out,
        "error: unable to forward port because pod is not running. Current status=Pending"
    );
}

fn konnectivity() -> Topology {
    Topology::builder()
        .konnectivity(true)
        .build()
        .expect("a valid topology")
}

/// A booted cluster with Konnectivity whose agents' DaemonSet pods run on
/// every node, each agent holding a tunnel to every server.
fn with_agents(seed: u64) -> (Cluster, Session) {
    let (mut c, mut s) = booted(konnectivity(), seed);
    let nodes = c.topology().nodes().count();
    ok(
        &mut c,
        &mut s,
        &format!("sim until daemonset/konnectivity-agent -n kube-system '{{.status.numberReady}}'={nodes} 3m"),
    );
    tunnels_up(&mut c, nodes);
    (c, s)
}

/// Runs the clock until `agents` agents each hold a tunnel to every server.
fn tunnels_up(c: &mut Cluster, agents: usize) {
    for _ in 0..600 {
        let view = c.snapshot().konnectivity.expect("Konnectivity runs");
        let servers = view.servers.len();
        if view
            .agents
            .iter()
            .filter(|a| a.up && a.tunnels == servers)
            .count()
            >= agents
        {
            return;
        }
        c.advance(SimDuration::from_millis(100));
    }
    panic!("the agents did not tunnel to every server in 60 s");
}

#[test]
fn konnectivity_servers_run_as_static_pods_and_every_agent_tunnels_to_each() {
    // Before the DaemonSet's pods run, no node has an agent: each node's
    // place for one is drawn down.
    let fresh = Cluster::new(konnectivity(), 10)
        .snapshot()
        .konnectivity
        .expect("the snapshot has Konnectivity");
    assert_eq!(fresh.agents.len(), 6);
    assert!(
        fresh.agents.iter().all(|a| !a.up && a.tunnels == 0),
        "{fresh:?}"
    );
    let (mut c, mut s) = with_agents(10);
    let ds = ok(
        &mut c,
        &mut s,
        "kubectl get daemonset konnectivity-agent -n kube-system -o jsonpath={.spec.template.spec.containers[0].image}",
    );
    assert_eq!(ds, "registry.k8s.io/kas-network-proxy/proxy-agent:v0.33.0");
    // The agents log as the real one does at its default verbosity: only
    // trouble, such as the load balancer handing an agent a server it
    // already holds a tunnel to (the second tunnel is closed).
    let logs = ok(
        &mut c,
        &mut s,
        "kubectl logs -n kube-system -l k8s-app=konnectivity-agent --tail -1 --prefix",
    );
    let lines: Vec<&str> = logs.lines().collect();
    assert!(!lines.is_empty(), "{logs}");
    for l in &lines {
        let (_, line) = l.split_once("] ").unwrap_or_else(|| panic!("{logs}"));
        assert!(line.starts_with("E0101 00:0"), "{logs}");
        assert!(
            line.contains(" clientset.go:160] \"closing connection failure when adding a client\" err=\"client for proxy server konnectivity-server-control-plane-"),
            "{logs}"
        );
    }
    let pods = ok(&mut c, &mut s, "kubectl get pods -n kube-system");
    for n in 1..=3 {
        let line = pods
            .lines()
            .find(|l| l.starts_with(&format!("konnectivity-server-control-plane-{n} ")))
            .unwrap_or_else(|| panic!("{pods}"));
        assert!(line.contains("1/1     Running"), "{line}");
    }
    let manifests = ok(&mut c, &mut s, "sim node manifests control-plane-1");
    assert!(
        manifests.contains("konnectivity-server.yaml"),
        "{manifests}"
    );
    let apiserver = ok(
        &mut c,
        &mut s,
        "kubectl get pod kube-apiserver-control-plane-1 -n kube-system -o yaml",
    );
    assert!(
        apiserver.contains(
            "- --egress-selector-config-file=/etc/kubernetes/egress-selector-configuration.yaml"
        ),
        "{apiserver}"
    );
    let view = c
        .snapshot()
        .konnectivity
        .expect("the snapshot has Konnectivity");
    assert_eq!(view.servers.len(), 3);
    assert_eq!(view.agents.len(), 6);
    assert!(
        view.agents.iter().all(|a| a.up && a.tunnels == 3),
        "{view:?}"
    );
    assert!(
        view.servers.iter().all(|s| s.up && s.tunnels == 6),
        "{view:?}"
    );
    // Without the option there is none.
    let plain = Cluster::new(Topology::default(), 10);
    assert_eq!(plain.snapshot().konnectivity, None);
}

#[test]
fn logs_exec_and_port_forward_travel_through_konnectivity() {
    let (mut c, mut s) = with_agents(11);
    ok(&mut c, &mut s, TICKER);
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim advance 3s");
    let since = c.now();
    let logs = ok(&mut c, &mut s, "kubectl logs ticker");
    assert!(logs.starts_with("tick"), "{logs}");
    let hops = kubelet_hops(&c, since);
    let path: Vec<String> = hops
        .iter()
        .map(|h| h.split(':').next().unwrap_or_default().to_string())
        .collect();
    // API server -> the konnectivity-server beside it -> worker-1's agent
    // -> the kubelet, and the answer back the same way.
    let server = path[0]
        .strip_prefix("kube-apiserver-")
        .and_then(|p| p.split(" -> ").next())
        .unwrap_or_else(|| panic!("{hops:?}"))
        .to_string();
    assert_eq!(
        path,
        vec![
            format!("kube-apiserver-{server} -> konnectivity-server-{server}"),
            format!("konnectivity-server-{server} -> konnectivity-agent@worker-1"),
            "konnectivity-agent@worker-1 -> kubelet@worker-1".to_string(),
            "kubelet@worker-1 -> konnectivity-agent@worker-1".to_string(),
            format!("konnectivity-agent@worker-1 -> konnectivity-server-{server}"),
            format!("konnectivity-server-{server} -> kube-apiserver-{server}"),
        ],
        "{hops:?}"
    );
    assert!(
        hops[0].contains("GET https://10.0.1.11:10250/containerLogs/default/ticker/ticker"),
        "{hops:?}"
    );
    let since = c.now();
    assert_eq!(ok(&mut c, &mut s, "kubectl exec ticker -- echo hi"), "hi");
    assert!(kubelet_hops(&c, since)
        .iter()
        .any(|h| h.starts_with("konnectivity-agent@worker-1 -> kubelet@worker-1: POST")));
    // A port-forward's stream rides the tunnel too.
    ok(&mut c, &mut s, NGINX);
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    let node = ok(
        &mut c,
        &mut s,
        "kubectl get pod nginx -o jsonpath={.spec.nodeName}",
    );
    ok(&mut c, &mut s, "kubectl port-forward nginx 8080:80");
    let since = c.now();
    let page = ok(&mut c, &mut s, "curl -s localhost:8080");
    assert!(page.contains("Welcome to nginx!"), "{page}");
    assert!(
        kubelet_hops(&c, since)
            .iter()
            .any(|h| h.starts_with(&format!(
                "konnectivity-agent@{node} -> kubelet@{node}: stream 1 to port 80"
            ))),
        "{:?}",
        kubelet_hops(&c, since)
    );
}

#[test]
fn a_stopped_agent_makes_its_nodes_kubelet_calls_fail_while_the_rest_works() {
    let (mut c, mut s) = with_agents(12);
    ok(&mut c, &mut s, TICKER);
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim advance 3s");
    ok(
        &mut c,
        &mut s,
        "sim fault konnectivity-agent@worker-1 crash",
    );
    let since = c.now();
    let (good, out) = run(&mut c, &mut s, "kubectl logs ticker");
    assert!(!good);
    assert_eq!(
        out,
        "Error from server: Get \"https://10.0.1.11:10250/containerLogs/default/ticker/ticker\": No agent available"
    );
    // The server answered at once: no hop reached the node.
    let hops = kubelet_hops(&c, since);
    assert!(hops.iter().all(|h| !h.contains("worker-1")), "{hops:?}");
    assert!(c
        .trace()
        .since(since)
        .any(|e| e.kind == "konnectivity" && e.summary.contains("No agent available")));
    let (good, out) = run(&mut c, &mut s, "kubectl exec ticker -- echo hi");
    assert!(!good);
    assert_eq!(
        out,
        "Error from server: error dialing backend: No agent available"
    );
    let (good, out) = run(&mut c, &mut s, "kubectl attach ticker");
    assert!(!good, "{out}");
    assert!(
        out.ends_with("error dialing backend: No agent available"),
        "{out}"
    );
    // The rest of the cluster works: the API, the node's own kubelet
    // (its pod keeps running and its node stays Ready).
    ok(&mut c, &mut s, "sim advance 60s");
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get node worker-1 -o jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"),
        "True"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get pod ticker -o jsonpath={.status.phase}"
        ),
        "Running"
    );
    // Healed, the agent dials the servers again within the sync interval.
    // Healed, the agent dials again every second; each dial goes through
    // the load balancer to a random server, so it holds a tunnel to every
    // server after a few seconds (till then a request that lands on a
    // server without one still gets "No agent available").
    ok(&mut c, &mut s, "sim heal konnectivity-agent@worker-1");
    ok(&mut c, &mut s, "sim advance 30s");
    let logs = ok(&mut c, &mut s, "kubectl logs ticker --tail 1");
    assert_eq!(logs, "tick");
}

#[test]
fn a_partitioned_nodes_tunnel_gives_no_answer_and_the_dial_times_out() {
    let (mut c, mut s) = with_agents(13);
    ok(&mut c, &mut s, TICKER);
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim fault worker-1 partition");
    let start = c.now();
    let (good, out) = run(&mut c, &mut s, "kubectl logs ticker");
    assert!(!good);
    assert_eq!(
        out,
        "Error from server: Get \"https://10.0.1.11:10250/containerLogs/default/ticker/ticker\": dial timeout, backstop"
    );
    // The API server gives up on the dial after 30 s.
    let waited = c.now() - start;
    assert!(
        waited >= SimDuration::from_secs(30) && waited < SimDuration::from_secs(31),
        "{waited}"
    );
    // Pods elsewhere still answer through their agents.
    ok(
        &mut c,
        &mut s,
        "kubectl logs -n kube-system etcd-control-plane-1 --tail 1",
    );
}

/// The konnectivity-agent pod on `node`.
fn agent_pod(c: &mut Cluster, s: &mut Session, node: &str) -> String {
    ok(
        c,
        s,
        &format!("kubectl get pods -n kube-system -l k8s-app=konnectivity-agent --field-selector spec.nodeName={node} -o jsonpath={{.items[0].metadata.name}}"),
    )
}

#[test]
fn a_node_added_after_boot_gets_an_agent_and_its_pods_logs_go_through_it() {
    let (mut c, mut s) = with_agents(14);
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.status.conditions[?(@.type==\"Ready\")].status}'=True 5m",
    );
    // The DaemonSet puts an agent pod there, and the agent tunnels to every
    // server.
    ok(
        &mut c,
        &mut s,
        "sim until daemonset/konnectivity-agent -n kube-system '{.status.numberReady}'=7 3m",
    );
    assert!(agent_pod(&mut c, &mut s, "worker-4").starts_with("konnectivity-agent-"));
    tunnels_up(&mut c, 7);
    ok(&mut c, &mut s, &TICKER.replace("worker-1", "worker-4"));
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    ok(&mut c, &mut s, "sim advance 3s");
    let since = c.now();
    let logs = ok(&mut c, &mut s, "kubectl logs ticker");
    assert!(logs.starts_with("tick"), "{logs}");
    let hops = kubelet_hops(&c, since);
    assert!(
        hops.iter()
            .any(|h| h.starts_with("konnectivity-agent@worker-4 -> kubelet@worker-4: GET")),
        "{hops:?}"
    );
}

#[test]
fn deleting_an_agent_pod_fails_its_nodes_calls_until_the_daemonsets_replacement_runs() {
    let (mut c, mut s) = with_agents(15);
    ok(&mut c, &mut s, TICKER);
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    let old = agent_pod(&mut c, &mut s, "worker-1");
    ok(
        &mut c,
        &mut s,
        &format!("kubectl delete pod {old} -n kube-system"),
    );
    // Once its container stops, the servers have no agent for worker-1.
    let mut failed = None;
    for _ in 0..300 {
        let (good, out) = run(&mut c, &mut s, "kubectl logs ticker");
        if !good {
            failed = Some(out);
            break;
        }
        c.advance(SimDuration::from_millis(100));
    }
    assert_eq!(
        failed.as_deref(),
        Some("Error from server: Get \"https://10.0.1.11:10250/containerLogs/default/ticker/ticker\": No agent available")
    );
    // The DaemonSet's replacement starts a new agent, which tunnels to the
    // servers again: the node's logs work once more.
    ok(
        &mut c,
        &mut s,
        "sim until daemonset/konnectivity-agent -n kube-system '{.status.numberReady}'=6 3m",
    );
    let new = agent_pod(&mut c, &mut s, "worker-1");
    assert_ne!(new, old);
    tunnels_up(&mut c, 6);
    assert_eq!(ok(&mut c, &mut s, "kubectl logs ticker --tail 1"), "tick");
    // The agent's container serves its health port for its liveness probe.
    let restarts = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {new} -n kube-system -o jsonpath={{.status.containerStatuses[0].restartCount}}"),
    );
    assert_eq!(restarts, "0");
}
