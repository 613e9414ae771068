//! Behaviour tests of kube-controller-manager's garbage collector,
//! namespace controller, EndpointSlice controller and pod GC, through the
//! command language.
//!
//! The whole cluster runs: `kubectl delete` with each `--cascade` leaves
//! what Kubernetes leaves (the garbage-collection page of the Kubernetes
//! docs, "Cascading deletion"), a deleted namespace empties and goes, and a
//! Service's EndpointSlice follows its ready pods.

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

fn nginx_in(namespace: &str) -> String {
    format!(
        "kubectl apply -n {namespace} -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
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
        image: nginx:1.14.2
        ports:
        - containerPort: 80
---end"
    )
}

/// `kind/name` of each object `kubectl get <what> -o name` lists.
fn names(c: &mut Cluster, s: &mut Session, what: &str) -> Vec<String> {
    ok(c, s, &format!("kubectl get {what} -o name"))
        .lines()
        .filter(|l| l.contains('/'))
        .map(str::to_string)
        .collect()
}

/// A running nginx Deployment: its ReplicaSet's name and its pods' names.
fn running_nginx(c: &mut Cluster, s: &mut Session) -> (String, Vec<String>) {
    ok(c, s, &nginx_in("default"));
    ok(c, s, "sim advance 20s");
    let rss = names(c, s, "rs");
    assert_eq!(rss.len(), 1, "{rss:?}");
    let pods = names(c, s, "pods -l app=nginx");
    assert_eq!(pods.len(), 3, "{pods:?}");
    (rss[0].clone(), pods)
}

#[test]
fn background_deletion_removes_the_deployment_at_once_and_its_replica_set_and_pods_after() {
    let (mut c, mut s) = booted(31);
    let (rs, _) = running_nginx(&mut c, &mut s);
    let out = ok(&mut c, &mut s, "kubectl delete deployment nginx-deployment");
    assert_eq!(out, "deployment.apps \"nginx-deployment\" deleted");
    // kubectl asks for background propagation: the Deployment goes at once.
    assert!(names(&mut c, &mut s, "deploy").is_empty());
    // The garbage collector deletes the orphaned ReplicaSet, then its pods.
    ok(&mut c, &mut s, "sim advance 2s");
    assert!(names(&mut c, &mut s, "rs").is_empty(), "{rs} is collected");
    let terminating = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l app=nginx -o jsonpath={.items[*].metadata.deletionTimestamp}",
    );
    let pods_left = names(&mut c, &mut s, "pods -l app=nginx");
    assert!(
        pods_left.is_empty() || terminating.split_whitespace().count() == pods_left.len(),
        "every pod left is terminating: {pods_left:?} {terminating}"
    );
    ok(&mut c, &mut s, "sim advance 40s");
    assert!(names(&mut c, &mut s, "pods -l app=nginx").is_empty());
}

#[test]
fn foreground_deletion_keeps_the_deployment_until_its_pods_are_gone() {
    let (mut c, mut s) = booted(32);
    let (rs, pods) = running_nginx(&mut c, &mut s);
    let out = ok(
        &mut c,
        &mut s,
        "kubectl delete deployment nginx-deployment --cascade=foreground",
    );
    assert_eq!(out, "deployment.apps \"nginx-deployment\" deleted");
    // The API server marks the Deployment and keeps it.
    let marked = ok(
        &mut c,
        &mut s,
        "kubectl get deploy nginx-deployment -o jsonpath={.metadata.finalizers}/{.metadata.deletionTimestamp}",
    );
    assert!(
        marked.starts_with("[\"foregroundDeletion\"]/20"),
        "{marked}"
    );
    // Owners wait for their blocking dependents: the Deployment and the
    // ReplicaSet stay as long as any pod does.
    let (mut pods_gone_at, mut deploy_gone_at, mut rs_gone_at) = (None, None, None);
    for step in 0..120 {
        ok(&mut c, &mut s, "sim advance 500ms");
        let p = names(&mut c, &mut s, "pods -l app=nginx").len();
        let d = names(&mut c, &mut s, "deploy").len();
        let r = names(&mut c, &mut s, "rs").len();
        if p == 0 && pods_gone_at.is_none() {
            pods_gone_at = Some(step);
        }
        if r == 0 && rs_gone_at.is_none() {
            rs_gone_at = Some(step);
        }
        if d == 0 && deploy_gone_at.is_none() {
            deploy_gone_at = Some(step);
        }
        if p > 0 {
            assert_eq!(d, 1, "the Deployment waits for its pods");
            assert_eq!(r, 1, "{rs} waits for its pods");
        }
        if deploy_gone_at.is_some() {
            break;
        }
    }
    let pods_gone_at = pods_gone_at.expect("the pods are deleted");
    let rs_gone_at = rs_gone_at.expect("the ReplicaSet is deleted");
    let deploy_gone_at = deploy_gone_at.expect("the Deployment is deleted in the end");
    assert!(pods_gone_at <= rs_gone_at && rs_gone_at <= deploy_gone_at);
    for p in pods {
        assert!(!names(&mut c, &mut s, "pods").contains(&p));
    }
}

#[test]
fn orphan_deletion_keeps_the_replica_set_and_pods_without_their_owner() {
    let (mut c, mut s) = booted(33);
    let (rs, pods) = running_nginx(&mut c, &mut s);
    let out = ok(
        &mut c,
        &mut s,
        "kubectl delete deployment nginx-deployment --cascade=orphan",
    );
    assert_eq!(out, "deployment.apps \"nginx-deployment\" deleted");
    ok(&mut c, &mut s, "sim advance 5s");
    assert!(
        names(&mut c, &mut s, "deploy").is_empty(),
        "the Deployment goes"
    );
    assert_eq!(names(&mut c, &mut s, "rs"), vec![rs.clone()]);
    let rs_name = rs.trim_start_matches("replicaset.apps/");
    let owners = ok(
        &mut c,
        &mut s,
        &format!("kubectl get rs {rs_name} -o jsonpath={{.metadata.ownerReferences}}"),
    );
    assert_eq!(owners, "", "the ReplicaSet's owner reference is removed");
    // The pods stay, still owned by the ReplicaSet, and keep running.
    ok(&mut c, &mut s, "sim advance 60s");
    assert_eq!(names(&mut c, &mut s, "pods -l app=nginx"), pods);
    let pod_owners = ok(
        &mut c,
        &mut s,
        "kubectl get pods -l app=nginx -o jsonpath={.items[*].metadata.ownerReferences[0].name}",
    );
    assert_eq!(
        pod_owners.split_whitespace().collect::<Vec<_>>(),
        vec![rs_name; 3]
    );
}

#[test]
fn cascade_false_orphans_with_kubectls_deprecation_warning() {
    let (mut c, mut s) = booted(34);
    let (rs, _) = running_nginx(&mut c, &mut s);
    let rs_name = rs.trim_start_matches("replicaset.apps/").to_string();
    let out = ok(
        &mut c,
        &mut s,
        &format!("kubectl delete rs {rs_name} --cascade=false"),
    );
    assert_eq!(
        out,
        format!(
            "warning: --cascade=false is deprecated (boolean value) and can be replaced with --cascade=orphan.\nreplicaset.apps \"{rs_name}\" deleted"
        )
    );
    let bad = s.run_script(&mut c, "kubectl delete rs x --cascade=sideways");
    assert!(!bad[0].ok);
    assert_eq!(
        bad[0].output,
        "error: invalid cascade value (sideways). Must be \"background\", \"foreground\", or \"orphan\""
    );
}

#[test]
fn deleting_a_namespace_removes_its_objects_and_then_the_namespace() {
    let (mut c, mut s) = booted(35);
    ok(&mut c, &mut s, "kubectl create namespace team");
    ok(&mut c, &mut s, &nginx_in("team"));
    ok(
        &mut c,
        &mut s,
        "kubectl create configmap settings -n team --from-literal=a=b",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    assert_eq!(names(&mut c, &mut s, "pods -n team").len(), 3);
    let out = ok(&mut c, &mut s, "kubectl delete namespace team");
    assert_eq!(out, "namespace \"team\" deleted");
    let phase = ok(
        &mut c,
        &mut s,
        "kubectl get ns team -o jsonpath={.status.phase}",
    );
    assert_eq!(phase, "Terminating");
    // NamespaceLifecycle admission refuses new objects meanwhile.
    let refused = s.run_script(
        &mut c,
        "kubectl create configmap late -n team --from-literal=a=b",
    );
    assert!(!refused[0].ok);
    assert!(
        refused[0].output.contains("because it is being terminated"),
        "{}",
        refused[0].output
    );
    let mut gone_at = None;
    for step in 0..120 {
        ok(&mut c, &mut s, "sim advance 1s");
        let ns = s.run_script(&mut c, "kubectl get ns team -o name");
        if !ns[0].ok {
            gone_at = Some(step);
            break;
        }
    }
    assert!(gone_at.is_some(), "the namespace goes once it is empty");
    for what in ["pods", "deploy", "rs", "configmaps"] {
        let left = s.run_script(&mut c, &format!("kubectl get {what} -n team -o name"));
        assert_eq!(left[0].output.trim(), "", "{what} left in team");
    }
}

fn nginx_service() -> &'static str {
    "kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  selector:
    app: nginx
  ports:
  - name: http
    port: 80
    targetPort: 80
---end"
}

/// The ready addresses of the Service's slices, sorted.
fn ready_addresses(c: &mut Cluster, s: &mut Session) -> Vec<String> {
    let out = ok(
        c,
        s,
        "kubectl get endpointslices -l kubernetes.io/service-name=nginx -o 'jsonpath={range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{\"\\n\"}{end}'",
    );
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The IPs of the ready nginx pods, sorted.
fn ready_pod_ips(c: &mut Cluster, s: &mut Session) -> Vec<String> {
    let out = ok(
        c,
        s,
        "kubectl get pods -l app=nginx -o 'jsonpath={range .items[*]}{.status.podIP}={.metadata.deletionTimestamp}={.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}'",
    );
    let mut v: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split('=').collect();
            (parts.len() == 3 && parts[1].is_empty() && parts[2] == "True")
                .then(|| parts[0].to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_endpoint_slice_lists_the_ready_pods_behind_a_service_and_follows_a_deletion() {
    let (mut c, mut s) = booted(36);
    ok(&mut c, &mut s, nginx_service());
    ok(&mut c, &mut s, &nginx_in("default"));
    ok(&mut c, &mut s, "sim advance 20s");
    let slices = names(
        &mut c,
        &mut s,
        "endpointslices -l kubernetes.io/service-name=nginx",
    );
    assert_eq!(slices.len(), 1, "{slices:?}");
    let slice = slices[0].trim_start_matches("endpointslice.discovery.k8s.io/");
    let suffix = slice.strip_prefix("nginx-").unwrap_or_default();
    assert_eq!(
        suffix.len(),
        5,
        "{slice} is generated from the service name"
    );
    let managed = ok(
        &mut c,
        &mut s,
        &format!("kubectl get endpointslice {slice} -o 'jsonpath={{.metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}} {{.addressType}} {{.ports[0].name}}:{{.ports[0].port}} {{.metadata.ownerReferences[0].kind}}/{{.metadata.ownerReferences[0].name}}'"),
    );
    assert_eq!(
        managed,
        "endpointslice-controller.k8s.io IPv4 http:80 Service/nginx"
    );
    let ips = ready_pod_ips(&mut c, &mut s);
    assert_eq!(ips.len(), 3);
    assert_eq!(ready_addresses(&mut c, &mut s), ips);
    let table = ok(&mut c, &mut s, "kubectl get endpointslices");
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    assert!(
        table.contains(&format!("{slice}   IPv4          80")),
        "{table}"
    );

    // Delete one pod: it leaves the ready endpoints at once, and its
    // replacement joins once it is ready.
    let pods = names(&mut c, &mut s, "pods -l app=nginx");
    let victim = pods[0].trim_start_matches("pod/").to_string();
    let victim_ip = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {victim} -o jsonpath={{.status.podIP}}"),
    );
    ok(&mut c, &mut s, &format!("kubectl delete pod {victim}"));
    ok(&mut c, &mut s, "sim advance 1s");
    let ready = ready_addresses(&mut c, &mut s);
    assert!(!ready.contains(&victim_ip), "{ready:?}");
    ok(&mut c, &mut s, "sim advance 40s");
    let ips = ready_pod_ips(&mut c, &mut s);
    assert_eq!(ips.len(), 3, "the ReplicaSet replaced the pod");
    assert_eq!(ready_addresses(&mut c, &mut s), ips);
    let all = ok(
        &mut c,
        &mut s,
        "kubectl get endpointslices -l kubernetes.io/service-name=nginx -o jsonpath={.items[*].endpoints[*].addresses[0]}",
    );
    assert_eq!(all.split_whitespace().count(), 3, "{all}");
}

#[test]
fn deleting_a_service_collects_its_endpoint_slices() {
    let (mut c, mut s) = booted(37);
    ok(&mut c, &mut s, nginx_service());
    ok(&mut c, &mut s, "sim advance 5s");
    // No pods yet: one placeholder slice with no endpoints.
    let table = ok(
        &mut c,
        &mut s,
        "kubectl get endpointslices -l kubernetes.io/service-name=nginx",
    );
    assert!(table.contains("<unset>   <unset>"), "{table}");
    ok(&mut c, &mut s, "kubectl delete service nginx");
    ok(&mut c, &mut s, "sim advance 5s");
    assert!(names(
        &mut c,
        &mut s,
        "endpointslices -l kubernetes.io/service-name=nginx"
    )
    .is_empty());
}

#[test]
fn pods_of_a_node_that_no_longer_exists_are_collected_after_the_quarantine() {
    let (mut c, mut s) = booted(38);
    // Let every kubelet register and the pod GC (every 20 s) see the nodes:
    // a pod bound to a node its cache has not seen yet starts the
    // quarantine at once, as upstream's gcOrphaned does.
    ok(&mut c, &mut s, "sim advance 30s");
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: stranded
spec:
  nodeName: worker-3
  containers:
  - name: nginx
    image: nginx:1.14.2
---end",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    ok(&mut c, &mut s, "sim fault worker-3 power-off");
    ok(&mut c, &mut s, "kubectl delete node worker-3");
    // The pod GC waits 40 s (`quarantineTime`) before trusting that the
    // node is gone, and runs every 20 s.
    ok(&mut c, &mut s, "sim advance 39s");
    assert_eq!(names(&mut c, &mut s, "pods"), ["pod/stranded"]);
    let mut gone_after = None;
    for second in 40..=65 {
        ok(&mut c, &mut s, "sim advance 1s");
        if names(&mut c, &mut s, "pods").is_empty() {
            gone_after = Some(second);
            break;
        }
    }
    let gone_after = gone_after.expect("the pod GC deletes the orphaned pod");
    assert!((40..=61).contains(&gone_after), "{gone_after}");
    let events = ok(&mut c, &mut s, "kubectl get nodes -o name");
    assert!(!events.contains("worker-3"), "{events}");
}

/// The ReplicaSet of the Kubernetes docs' "ReplicaSet" page
/// (`controllers/frontend.yaml`).
const FRONTEND: &str = "kubectl apply -f -
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels:
    app: guestbook
    tier: frontend
spec:
  # modify replicas according to your case
  replicas: 3
  selector:
    matchLabels:
      tier: frontend
  template:
    metadata:
      labels:
        tier: frontend
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
---end";

/// The bare pods of the same page (`pods/pod-rs.yaml`), which the
/// ReplicaSet's selector matches.
const POD_RS: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: pod1
  labels:
    tier: frontend
spec:
  containers:
  - name: hello1
    image: gcr.io/google-samples/hello-app:2.0

---

apiVersion: v1
kind: Pod
metadata:
  name: pod2
  labels:
    tier: frontend
spec:
  containers:
  - name: hello2
    image: gcr.io/google-samples/hello-app:1.0
---end";

/// `name owner` for each pod with `tier=frontend`.
fn frontend_pods(c: &mut Cluster, s: &mut Session) -> Vec<String> {
    ok(
        c,
        s,
        r#"kubectl get pods -l tier=frontend -o 'jsonpath={range .items[*]}{.metadata.name} {.metadata.ownerReferences[0].name}{"\n"}{end}'"#,
    )
    .lines()
    .map(|l| l.trim().to_string())
    .collect()
}

#[test]
fn a_replica_set_acquires_bare_pods_created_before_it_and_makes_only_the_rest() {
    // The docs: "the ReplicaSet acquired the Pods and only created new ones
    // according to its spec until the number of its new Pods and the
    // original matches its desired count".
    let (mut c, mut s) = booted(34);
    ok(&mut c, &mut s, POD_RS);
    ok(&mut c, &mut s, "sim advance 5s");
    ok(&mut c, &mut s, FRONTEND);
    ok(&mut c, &mut s, "sim advance 10s");
    let pods = frontend_pods(&mut c, &mut s);
    assert_eq!(pods.len(), 3, "{pods:?}");
    assert!(pods.contains(&"pod1 frontend".to_string()), "{pods:?}");
    assert!(pods.contains(&"pod2 frontend".to_string()), "{pods:?}");
    assert!(
        pods.iter().all(|p| p.ends_with(" frontend")),
        "every pod is the ReplicaSet's: {pods:?}"
    );
    let made: Vec<_> = pods.iter().filter(|p| p.starts_with("frontend-")).collect();
    assert_eq!(made.len(), 1, "it made one pod of its own: {pods:?}");
}

#[test]
fn bare_pods_created_after_a_full_replica_set_are_acquired_and_deleted() {
    // The docs: "the ReplicaSet will acquire them and immediately terminate
    // them as it'd exceed its desired count of three".
    let (mut c, mut s) = booted(35);
    ok(&mut c, &mut s, FRONTEND);
    ok(&mut c, &mut s, "sim advance 10s");
    let before = names(&mut c, &mut s, "pods -l tier=frontend");
    assert_eq!(before.len(), 3, "{before:?}");
    ok(&mut c, &mut s, POD_RS);
    ok(&mut c, &mut s, "sim advance 60s");
    let after = names(&mut c, &mut s, "pods -l tier=frontend");
    assert_eq!(after, before, "pod1 and pod2 are acquired, then deleted");
    let events = ok(&mut c, &mut s, "kubectl get events");
    assert!(
        events.contains("Deleted pod: pod1") && events.contains("Deleted pod: pod2"),
        "{events}"
    );
}

#[test]
fn a_recreated_deployment_adopts_the_replica_set_its_orphaned_predecessor_left() {
    let (mut c, mut s) = booted(36);
    let (rs, pods) = running_nginx(&mut c, &mut s);
    ok(
        &mut c,
        &mut s,
        "kubectl delete deployment nginx-deployment --cascade=orphan",
    );
    ok(&mut c, &mut s, "sim advance 5s");
    ok(&mut c, &mut s, &nginx_in("default"));
    ok(&mut c, &mut s, "sim advance 10s");
    // The same template hashes to the same ReplicaSet, which the new
    // Deployment adopts instead of making another: no pod is replaced.
    assert_eq!(names(&mut c, &mut s, "rs"), vec![rs.clone()]);
    assert_eq!(names(&mut c, &mut s, "pods -l app=nginx"), pods);
    let rs_name = rs.trim_start_matches("replicaset.apps/");
    let owner_uid = ok(
        &mut c,
        &mut s,
        &format!("kubectl get rs {rs_name} -o jsonpath={{.metadata.ownerReferences[0].uid}}"),
    );
    let uid = ok(
        &mut c,
        &mut s,
        "kubectl get deployment nginx-deployment -o jsonpath={.metadata.uid}",
    );
    assert_eq!(owner_uid, uid, "the new Deployment owns the old ReplicaSet");
    let ready = ok(
        &mut c,
        &mut s,
        "kubectl get deployment nginx-deployment -o jsonpath={.status.readyReplicas}",
    );
    assert_eq!(ready, "3");
}

#[test]
fn a_relabelled_pod_is_released_and_its_replica_set_makes_a_replacement() {
    // The docs' "Isolating Pods from a ReplicaSet": change a pod's labels
    // and it leaves the ReplicaSet, which replaces it.
    let (mut c, mut s) = booted(37);
    ok(&mut c, &mut s, FRONTEND);
    ok(&mut c, &mut s, "sim advance 10s");
    let before = names(&mut c, &mut s, "pods -l tier=frontend");
    let pod = before[0].trim_start_matches("pod/").to_string();
    ok(
        &mut c,
        &mut s,
        &format!("kubectl label pod {pod} tier=debug --overwrite"),
    );
    ok(&mut c, &mut s, "sim advance 10s");
    let owners = ok(
        &mut c,
        &mut s,
        &format!("kubectl get pod {pod} -o jsonpath={{.metadata.ownerReferences}}"),
    );
    assert_eq!(owners, "", "the pod is released");
    let after = names(&mut c, &mut s, "pods -l tier=frontend");
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(!after.contains(&format!("pod/{pod}")), "{after:?}");
}
