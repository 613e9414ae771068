//! Behaviour tests of Service networking through the command language:
//! ClusterIP and NodePort allocation, kube-proxy's rules on every node,
//! CoreDNS answering from its caches, and traffic from pods.

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

/// Runs one command; returns whether it succeeded and its output.
fn run(c: &mut Cluster, s: &mut Session, script: &str) -> (bool, String) {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    (out[0].ok, out[0].output.clone())
}

/// Runs one command and returns its output, asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, out) = run(c, s, script);
    assert!(good, "{script} failed:\n{out}");
    out
}

/// A Deployment `web` of agnhost netexec (answering its hostname on 8080,
/// ready by an httpGet probe), a `broken` Deployment with the same label
/// whose readiness probe always fails, the Service `web` (80 -> 8080), and
/// client pods with curl (nginx) and with wget/nslookup (busybox).
const APP: &str = "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web, track: good}
  template:
    metadata:
      labels: {app: web, track: good}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.39
        args: [netexec, --http-port=8080]
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: 1
  selector:
    matchLabels: {app: web, track: broken}
  template:
    metadata:
      labels: {app: web, track: broken}
    spec:
      containers:
      - name: app
        image: kubesim/unready
        readinessProbe:
          httpGet: {path: /, port: 8080}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: curler
spec:
  containers:
  - name: nginx
    image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata:
  name: box
spec:
  containers:
  - name: box
    image: busybox:1.36
    command: [sleep, '3600']
---end";

fn with_app(seed: u64) -> (Cluster, Session) {
    let (mut c, mut s) = booted(seed);
    ok(&mut c, &mut s, APP);
    ok(&mut c, &mut s, "sim advance 90s");
    (c, s)
}

fn pod_names(c: &mut Cluster, s: &mut Session, selector: &str) -> Vec<String> {
    ok(
        c,
        s,
        &format!("kubectl get pods -l {selector} -o jsonpath={{.items[*].metadata.name}}"),
    )
    .split_whitespace()
    .map(str::to_string)
    .collect()
}

#[test]
fn kubeadm_creates_the_kube_dns_service_and_two_coredns_replicas() {
    let (mut c, mut s) = booted(1);
    ok(&mut c, &mut s, "sim advance 60s");
    let svc = ok(&mut c, &mut s, "kubectl get svc kube-dns -n kube-system");
    assert!(
        svc.contains("ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP"),
        "{svc}"
    );
    let kubernetes = ok(&mut c, &mut s, "kubectl get svc kubernetes");
    assert!(kubernetes.contains("10.96.0.1 "), "{kubernetes}");
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get deployment coredns -n kube-system -o jsonpath={.status.readyReplicas}",
    );
    assert_eq!(ready, "2");
    let synced = c.coredns_replicas();
    assert_eq!(synced.len(), 2, "{synced:?}");
    assert!(synced.iter().all(|r| r.2), "{synced:?}");
}

#[test]
fn curl_through_a_service_reaches_only_ready_endpoints() {
    let (mut c, mut s) = with_app(2);
    let good: BTreeSet<String> = pod_names(&mut c, &mut s, "track=good")
        .into_iter()
        .collect();
    let broken = pod_names(&mut c, &mut s, "track=broken");
    assert_eq!(good.len(), 2);
    assert_eq!(broken.len(), 1);
    let mut answered = BTreeSet::new();
    for _ in 0..24 {
        let out = ok(
            &mut c,
            &mut s,
            "kubectl exec curler -- curl -s http://web.default.svc.cluster.local/hostname",
        );
        assert!(
            good.contains(out.trim()),
            "only a ready pod answers, got {out:?}"
        );
        answered.insert(out.trim().to_string());
    }
    assert_eq!(answered, good, "the rules spread requests over both");
    // With no ready endpoint the node's REJECT rule refuses the connection.
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=0");
    ok(&mut c, &mut s, "sim advance 20s");
    let (good_exit, out) = run(&mut c, &mut s, "kubectl exec curler -- curl http://web");
    assert!(!good_exit);
    assert!(
        out.contains("curl: (7) Failed to connect to web port 80 after 0 ms: Connection refused"),
        "{out}"
    );
    assert!(out.contains("command terminated with exit code 7"), "{out}");
}

#[test]
fn short_and_long_names_resolve_through_the_search_path() {
    let (mut c, mut s) = with_app(3);
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.clusterIP}",
    );
    for name in [
        "web",
        "web.default",
        "web.default.svc",
        "web.default.svc.cluster.local",
    ] {
        let out = ok(
            &mut c,
            &mut s,
            &format!("kubectl exec box -- nslookup {name}"),
        );
        assert!(out.contains("Server:\t\t10.96.0.10"), "{out}");
        assert!(
            out.contains("Name:\tweb.default.svc.cluster.local"),
            "{out}"
        );
        assert!(out.contains(&format!("Address: {ip}")), "{name}: {out}");
    }
    let body = ok(
        &mut c,
        &mut s,
        "kubectl exec box -- wget -qO- http://web/hostname",
    );
    assert!(body.starts_with("web-"), "{body}");
    let (good, out) = run(
        &mut c,
        &mut s,
        "kubectl exec box -- nslookup web.kube-system",
    );
    assert!(!good);
    assert!(
        out.contains("** server can't find web.kube-system: NXDOMAIN"),
        "{out}"
    );
    let (good, out) = run(
        &mut c,
        &mut s,
        "kubectl exec curler -- curl http://nothing-here",
    );
    assert!(!good);
    assert!(
        out.contains("curl: (6) Could not resolve host: nothing-here"),
        "{out}"
    );
    assert!(out.contains("command terminated with exit code 6"), "{out}");
    // A pod name answers its address.
    let out = ok(
        &mut c,
        &mut s,
        "kubectl exec box -- nslookup 10-244-9-9.default.pod.cluster.local",
    );
    assert!(out.contains("Address: 10.244.9.9"), "{out}");
}

#[test]
fn busybox_has_no_curl() {
    let (mut c, mut s) = with_app(4);
    let (good, out) = run(&mut c, &mut s, "kubectl exec box -- curl http://web");
    assert!(!good);
    assert!(
        out.contains("exec: \"curl\": executable file not found in $PATH"),
        "{out}"
    );
}

#[test]
fn a_headless_service_answers_its_ready_pods_ips() {
    let (mut c, mut s) = with_app(5);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - port: 8080
---end",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    let ips: BTreeSet<String> = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l track=good -o jsonpath={.items[*].status.podIP}",
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    let out = ok(&mut c, &mut s, "kubectl exec box -- nslookup web-headless");
    let answered: BTreeSet<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("Address: "))
        .map(str::to_string)
        .collect();
    assert_eq!(answered, ips, "{out}");
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert!(
        !rules.contains("web-headless"),
        "no rules for a headless Service"
    );
}

#[test]
fn cluster_ips_come_from_the_service_range_and_a_taken_one_is_refused() {
    let (mut c, mut s) = booted(6);
    let svc = |name: &str, ip: &str| {
        format!(
            "kubectl apply -f -\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  clusterIP: {ip}\n  ports:\n  - port: 80\n---end"
        )
    };
    let (good, out) = run(&mut c, &mut s, &svc("dns-again", "10.96.0.10"));
    assert!(!good);
    assert!(
        out.contains("The Service \"dns-again\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.0.10\"}: failed to allocate IP 10.96.0.10: provided IP is already allocated"),
        "{out}"
    );
    ok(&mut c, &mut s, &svc("mine", "10.96.0.50"));
    let (good, _) = run(&mut c, &mut s, &svc("theirs", "10.96.0.50"));
    assert!(!good);
    // Deleting the Service releases the address.
    ok(&mut c, &mut s, "kubectl delete svc mine");
    ok(&mut c, &mut s, &svc("theirs", "10.96.0.50"));
    // An unrequested address is from 10.96.0.0/12, past the low band.
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: Service\nmetadata:\n  name: any\nspec:\n  ports:\n  - port: 80\n---end",
    );
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get svc any -o jsonpath={.spec.clusterIP}",
    );
    let octets: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
    assert_eq!(octets.len(), 4, "{ip}");
    assert_eq!(octets[0], 10);
    assert!((96..=111).contains(&octets[1]), "{ip}");
    let yaml = ok(&mut c, &mut s, "kubectl get svc any -o yaml");
    for line in [
        "  ipFamilyPolicy: SingleStack",
        "  internalTrafficPolicy: Cluster",
        "  sessionAffinity: None",
        "  type: ClusterIP",
        "    protocol: TCP",
        "    targetPort: 80",
    ] {
        assert!(yaml.contains(line), "{line:?} in\n{yaml}");
    }
}

#[test]
fn node_ports_are_allocated_between_30000_and_32767() {
    let (mut c, mut s) = booted(7);
    let svc = |name: &str, np: Option<u32>| {
        format!(
            "kubectl apply -f -\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n{}---end",
            np.map(|n| format!("    nodePort: {n}\n")).unwrap_or_default()
        )
    };
    ok(&mut c, &mut s, &svc("a", None));
    let np: u32 = ok(
        &mut c,
        &mut s,
        "kubectl get svc a -o jsonpath={.spec.ports[0].nodePort}",
    )
    .parse()
    .expect("a number");
    assert!((30000..=32767).contains(&np), "{np}");
    // A NodePort on any node's address leads to the Service (here it has
    // no endpoints: the node's KUBE-EXTERNAL-SERVICES rejects).
    ok(&mut c, &mut s, "sim advance 10s");
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-2");
    assert!(
        rules.contains(&format!(
            "-m addrtype --dst-type LOCAL -m tcp --dport {np} -j REJECT"
        )),
        "{rules}"
    );
    let (good, out) = run(&mut c, &mut s, &svc("b", Some(np)));
    assert!(!good);
    assert!(
        out.contains(&format!(
            "spec.ports[0].nodePort: Invalid value: {np}: provided port is already allocated"
        )),
        "{out}"
    );
    let (good, out) = run(&mut c, &mut s, &svc("c", Some(40000)));
    assert!(!good);
    assert!(
        out.contains(
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        ),
        "{out}"
    );
}

fn dnat_lines(rules: &str, service: &str) -> usize {
    rules
        .lines()
        .filter(|l| l.contains(&format!("--comment \"{service}\"")) && l.contains("-j DNAT"))
        .count()
}

#[test]
fn kube_proxy_rules_follow_scaling_on_every_node() {
    let (mut c, mut s) = with_app(8);
    let rules = ok(&mut c, &mut s, "sim node proxy-rules control-plane-2");
    assert_eq!(dnat_lines(&rules, "default/web:http"), 2, "{rules}");
    assert!(rules.contains("--probability 0.5000000000"), "{rules}");
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=3");
    ok(&mut c, &mut s, "sim advance 30s");
    for node in ["control-plane-1", "worker-1", "worker-3"] {
        let rules = ok(&mut c, &mut s, &format!("sim node proxy-rules {node}"));
        assert_eq!(dnat_lines(&rules, "default/web:http"), 3, "{node}: {rules}");
        assert!(rules.contains("--probability 0.3333333333"), "{rules}");
    }
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=0");
    ok(&mut c, &mut s, "sim advance 30s");
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-2");
    assert_eq!(dnat_lines(&rules, "default/web:http"), 0, "{rules}");
    assert!(
        rules.contains(
            "--comment \"default/web:http has no endpoints\" -m tcp --dport 80 -j REJECT"
        ),
        "{rules}"
    );
}

#[test]
fn a_partitioned_nodes_kube_proxy_keeps_stale_rules() {
    let (mut c, mut s) = with_app(9);
    ok(&mut c, &mut s, "sim fault worker-3 partition");
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=4");
    ok(&mut c, &mut s, "sim advance 40s");
    let fresh = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    let stale = ok(&mut c, &mut s, "sim node proxy-rules worker-3");
    // A new replica may have landed on worker-3 and not start there: the
    // connected nodes see every ready one, worker-3 still the first two.
    let ready = dnat_lines(&fresh, "default/web:http");
    assert!(ready >= 3, "{fresh}");
    assert_eq!(dnat_lines(&stale, "default/web:http"), 2, "{stale}");
    ok(&mut c, &mut s, "sim heal worker-3");
    ok(&mut c, &mut s, "sim advance 40s");
    let healed = ok(&mut c, &mut s, "sim node proxy-rules worker-3");
    let fresh = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert_eq!(
        dnat_lines(&healed, "default/web:http"),
        dnat_lines(&fresh, "default/web:http"),
        "{healed}"
    );
    assert!(dnat_lines(&healed, "default/web:http") >= 3, "{healed}");
}

#[test]
fn a_crashed_kube_proxys_rules_stay_in_the_kernel() {
    let (mut c, mut s) = with_app(10);
    ok(&mut c, &mut s, "sim fault kube-proxy@worker-1 crash");
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=3");
    ok(&mut c, &mut s, "sim advance 30s");
    let stale = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert_eq!(dnat_lines(&stale, "default/web:http"), 2, "{stale}");
    assert!(
        stale.contains("kube-proxy is not running: these rules are stale"),
        "{stale}"
    );
}

/// The rows of a kubectl table, each a map from column to cell: the
/// leading columns read here have no spaces in their names or cells (of a
/// name seen twice, as `NODE` in `NOMINATED NODE`, the first counts).
fn table(out: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = out.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    lines
        .map(|l| {
            let mut row = std::collections::BTreeMap::new();
            for (h, v) in header.iter().zip(l.split_whitespace()) {
                row.entry(h.to_string()).or_insert_with(|| v.to_string());
            }
            row
        })
        .collect()
}

#[test]
fn kubectl_get_ds_lists_kube_proxy_with_one_ready_pod_per_node() {
    let (mut c, mut s) = booted(31);
    ok(&mut c, &mut s, "sim advance 20s");
    let out = ok(&mut c, &mut s, "kubectl get ds -n kube-system");
    let rows = table(&out);
    let ds = rows
        .iter()
        .find(|r| r["NAME"] == "kube-proxy")
        .unwrap_or_else(|| panic!("no kube-proxy DaemonSet: {out}"));
    for column in ["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"] {
        assert_eq!(ds[column], "6", "{column} is the node count: {out}");
    }
    assert_eq!(ds["NODE"], "kubernetes.io/os=linux", "{out}");
    let image = ok(
        &mut c,
        &mut s,
        "kubectl get ds kube-proxy -n kube-system -o jsonpath={.spec.template.spec.containers[0].image}/{.spec.template.spec.hostNetwork}/{.spec.template.spec.priorityClassName}/{.spec.updateStrategy.type}",
    );
    assert_eq!(
        image,
        "registry.k8s.io/kube-proxy:v1.34.0/true/system-node-critical/RollingUpdate"
    );
    let config = ok(
        &mut c,
        &mut s,
        "kubectl get cm kube-proxy -n kube-system -o yaml",
    );
    assert!(
        config.contains("clusterCIDR: 10.244.0.0/16")
            && config.contains("kind: KubeProxyConfiguration")
            && config.contains("server: https://api-load-balancer:6443"),
        "{config}"
    );
}

#[test]
fn every_node_runs_a_running_kube_proxy_pod_on_the_nodes_own_ip() {
    let (mut c, mut s) = booted(32);
    ok(&mut c, &mut s, "sim advance 20s");
    let nodes = table(&ok(&mut c, &mut s, "kubectl get nodes -o wide"));
    assert_eq!(nodes.len(), 6);
    let out = ok(&mut c, &mut s, "kubectl get pods -n kube-system -o wide");
    let proxies: Vec<_> = table(&out)
        .into_iter()
        .filter(|r| r["NAME"].starts_with("kube-proxy-"))
        .collect();
    assert_eq!(proxies.len(), 6, "one per node: {out}");
    for n in &nodes {
        let on_node: Vec<_> = proxies.iter().filter(|p| p["NODE"] == n["NAME"]).collect();
        assert_eq!(on_node.len(), 1, "{}: {out}", n["NAME"]);
        let p = on_node[0];
        assert_eq!(p["STATUS"], "Running", "{out}");
        assert_eq!(p["READY"], "1/1", "{out}");
        // hostNetwork: the pod's IP is its node's.
        assert_eq!(p["IP"], n["INTERNAL-IP"], "{out}");
    }
}

#[test]
fn a_crashed_kube_proxy_heals_and_rewrites_its_nodes_rules() {
    let (mut c, mut s) = with_app(33);
    ok(&mut c, &mut s, "sim fault kube-proxy@worker-2 crash");
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=3");
    ok(&mut c, &mut s, "sim advance 30s");
    let stale = ok(&mut c, &mut s, "sim node proxy-rules worker-2");
    assert_eq!(dnat_lines(&stale, "default/web:http"), 2, "{stale}");
    assert!(stale.contains("these rules are stale"), "{stale}");
    ok(&mut c, &mut s, "sim heal kube-proxy@worker-2");
    ok(&mut c, &mut s, "sim advance 5s");
    let fresh = ok(&mut c, &mut s, "sim node proxy-rules worker-2");
    assert_eq!(dnat_lines(&fresh, "default/web:http"), 3, "{fresh}");
    assert!(!fresh.contains("stale"), "{fresh}");
}

#[test]
fn deleting_a_nodes_kube_proxy_pod_leaves_stale_rules_until_the_daemonsets_replacement_rewrites_them(
) {
    let (mut c, mut s) = with_app(34);
    let pods = table(&ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l k8s-app=kube-proxy -o wide",
    ));
    let old = pods
        .iter()
        .find(|p| p["NODE"] == "worker-1")
        .map(|p| p["NAME"].clone())
        .expect("a kube-proxy pod on worker-1");
    let before = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert_eq!(dnat_lines(&before, "default/web:http"), 2, "{before}");
    let deleted_at = c.now();
    ok(
        &mut c,
        &mut s,
        &format!("kubectl delete pod {old} -n kube-system"),
    );
    // The kubelet stops the container: its kube-proxy goes, the rules stay
    // in the kernel, stale, until the DaemonSet's new pod runs there.
    let mut saw_stale = false;
    let mut fresh = String::new();
    for _ in 0..150 {
        ok(&mut c, &mut s, "sim advance 200ms");
        let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
        if rules.contains("kube-proxy is not running: these rules are stale") {
            assert_eq!(dnat_lines(&rules, "default/web:http"), 2, "{rules}");
            saw_stale = true;
        } else if saw_stale {
            fresh = rules;
            break;
        }
    }
    assert!(saw_stale, "the rules went stale while no kube-proxy ran");
    assert!(!fresh.is_empty(), "a new kube-proxy rewrote the rules");
    assert_eq!(dnat_lines(&fresh, "default/web:http"), 2, "{fresh}");
    let written = fresh
        .lines()
        .find_map(|l| l.strip_prefix("# Completed: last written by kube-proxy at "))
        .unwrap_or_default()
        .to_string();
    assert!(
        !written.is_empty() && written > format!("{deleted_at}"),
        "rewritten after the deletion ({deleted_at}): {fresh}"
    );
    let pods = table(&ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l k8s-app=kube-proxy -o wide",
    ));
    let new: Vec<_> = pods.iter().filter(|p| p["NODE"] == "worker-1").collect();
    assert_eq!(new.len(), 1);
    assert_ne!(new[0]["NAME"], old, "the DaemonSet made a new pod");
    assert_eq!(new[0]["STATUS"], "Running");
}

#[test]
fn without_coredns_names_do_not_resolve() {
    let (mut c, mut s) = with_app(11);
    let dns: Vec<String> = ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l k8s-app=kube-dns -o jsonpath={.items[*].metadata.name}",
    )
    .split_whitespace()
    .map(str::to_string)
    .collect();
    assert_eq!(dns.len(), 2);
    for pod in &dns {
        ok(&mut c, &mut s, &format!("sim fault {pod} crash"));
    }
    let (good, out) = run(&mut c, &mut s, "kubectl exec box -- nslookup web");
    assert!(!good);
    assert!(
        out.contains(";; connection timed out; no servers could be reached"),
        "{out}"
    );
    let (good, out) = run(&mut c, &mut s, "kubectl exec curler -- curl http://web");
    assert!(!good);
    assert!(
        out.contains("curl: (6) Could not resolve host: web"),
        "{out}"
    );
    // The ClusterIP still works: only names are gone.
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.clusterIP}",
    );
    let out = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec curler -- curl -s http://{ip}/hostname"),
    );
    assert!(out.starts_with("web-"), "{out}");
}

#[test]
fn a_pod_on_a_powered_off_node_times_out() {
    let (mut c, mut s) = with_app(12);
    let curler_node = ok(
        &mut c,
        &mut s,
        "kubectl get pod curler -o jsonpath={.spec.nodeName}",
    );
    let listing = ok(
        &mut c,
        &mut s,
        r#"kubectl get pods -l track=good -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.podIP}{"\n"}{end}'"#,
    );
    let (node, ip) = listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(n, _)| *n != curler_node)
        .unwrap_or_else(|| panic!("a web pod away from {curler_node}: {listing}"));
    let before = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec curler -- curl -s http://{ip}:8080/hostname"),
    );
    assert!(before.starts_with("web-"), "{before}");
    ok(&mut c, &mut s, &format!("sim fault {node} power-off"));
    let (good, out) = run(
        &mut c,
        &mut s,
        &format!("kubectl exec curler -- curl http://{ip}:8080/hostname"),
    );
    assert!(!good);
    assert!(
        out.contains(&format!(
            "curl: (7) Failed to connect to {ip} port 8080 after 127000 ms: Connection timed out"
        )),
        "{out}"
    );
}

#[test]
fn the_kubernetes_service_leads_to_the_live_api_servers() {
    let (mut c, mut s) = with_app(13);
    let ips = ok(
        &mut c,
        &mut s,
        "kubectl get endpointslice kubernetes -o jsonpath={.endpoints[*].addresses[0]}",
    );
    assert_eq!(ips, "10.0.0.11 10.0.0.12 10.0.0.13");
    let out = ok(
        &mut c,
        &mut s,
        "kubectl exec curler -- curl -sk https://kubernetes.default/healthz",
    );
    assert_eq!(out.trim(), "ok");
    // A powered-off API server leaves once its lease is 15 s old.
    ok(&mut c, &mut s, "sim fault control-plane-3 power-off");
    ok(&mut c, &mut s, "sim advance 30s");
    let ips = ok(
        &mut c,
        &mut s,
        "kubectl get endpointslice kubernetes -o jsonpath={.endpoints[*].addresses[0]}",
    );
    assert_eq!(ips, "10.0.0.11 10.0.0.12");
}

#[test]
fn a_node_port_on_any_nodes_address_reaches_the_service() {
    let (mut c, mut s) = with_app(14);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: web-np
spec:
  type: NodePort
  selector: {app: web, track: good}
  ports:
  - port: 80
    targetPort: 8080
    nodePort: 30080
---end",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    for node_ip in ["10.0.1.11", "10.0.0.12"] {
        let out = ok(
            &mut c,
            &mut s,
            &format!("kubectl exec curler -- curl -s http://{node_ip}:30080/hostname"),
        );
        assert!(out.starts_with("web-"), "{node_ip}: {out}");
    }
}

#[test]
fn a_node_that_joins_later_gets_its_kube_proxy_and_a_removed_one_takes_it_along() {
    let (mut c, mut s) = booted(21);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
---end",
    );
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.status.conditions[?(@.type==\"Ready\")].status}'=True 3m",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    // kubeadm's kube-proxy DaemonSet runs on every node, new ones too: a
    // pod of it runs on worker-4, and its rules send the Service's
    // ClusterIP to the endpoint.
    let pods = table(&ok(
        &mut c,
        &mut s,
        "kubectl get pods -n kube-system -l k8s-app=kube-proxy -o wide",
    ));
    let on_new: Vec<_> = pods.iter().filter(|p| p["NODE"] == "worker-4").collect();
    assert_eq!(on_new.len(), 1, "{pods:?}");
    assert_eq!(on_new[0]["STATUS"], "Running", "{pods:?}");
    let ds = table(&ok(
        &mut c,
        &mut s,
        "kubectl get ds kube-proxy -n kube-system",
    ));
    assert_eq!(
        (ds[0]["DESIRED"].as_str(), ds[0]["READY"].as_str()),
        ("7", "7")
    );
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-4");
    assert!(rules.contains("\"default/web cluster IP\""), "{rules}");
    assert!(
        rules.contains("# Completed: last written by kube-proxy at") && !rules.contains("stale"),
        "{rules}"
    );
    ok(&mut c, &mut s, "sim node remove worker-4");
    ok(&mut c, &mut s, "sim advance 1m");
    let (found, out) = run(&mut c, &mut s, "sim node proxy-rules worker-4");
    assert!(!found, "the machine and its rules are gone: {out}");
    let (_, faults) = run(&mut c, &mut s, "sim fault kube-proxy@worker-4 crash");
    assert!(
        !faults.contains("crashed"),
        "no kube-proxy is left behind on the removed machine: {faults}"
    );
}

#[test]
fn kubectl_expose_makes_the_service_kubectl_generates_from_the_deployment() {
    let (mut c, mut s) = booted(22);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --port=80 --replicas=2",
    );
    let out = ok(&mut c, &mut s, "kubectl expose deployment web");
    assert_eq!(out, "service/web exposed");
    let spec = ok(
        &mut c,
        &mut s,
        "kubectl get svc web -o jsonpath={.spec.selector.app}/{.spec.ports[0].port}/{.spec.ports[0].targetPort}/{.spec.ports[0].protocol}/{.spec.type}/{.metadata.labels.app}",
    );
    assert_eq!(
        spec, "web/80/80/TCP/ClusterIP/web",
        "the selector, port and labels come from the Deployment"
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let rules = ok(&mut c, &mut s, "sim node proxy-rules worker-1");
    assert!(
        rules.contains("\"default/web -> 10.244."),
        "kube-proxy sends the exposed port to the pods: {rules}"
    );
    let out = ok(
        &mut c,
        &mut s,
        "kubectl expose deploy/web --name=web-np --type=NodePort --port=8080 --target-port=80",
    );
    assert_eq!(out, "service/web-np exposed");
    let np = ok(
        &mut c,
        &mut s,
        "kubectl get svc web-np -o jsonpath={.spec.ports[0].port}/{.spec.ports[0].targetPort}/{.spec.type}",
    );
    assert_eq!(np, "8080/80/NodePort");
    // A Deployment whose containers name no port needs --port.
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment bare --image=nginx",
    );
    let (good, out) = run(&mut c, &mut s, "kubectl expose deployment bare");
    assert!(!good);
    assert!(
        out.starts_with("error: couldn't find port via --port flag or introspection"),
        "{out}"
    );
    let (good, out) = run(&mut c, &mut s, "kubectl expose node worker-1 --port=80");
    assert!(!good);
    assert_eq!(out, "error: cannot expose a Node");
    let (good, out) = run(
        &mut c,
        &mut s,
        "kubectl expose deployment missing --port=80",
    );
    assert!(!good);
    assert!(out.contains("\"missing\" not found"), "{out}");
}
