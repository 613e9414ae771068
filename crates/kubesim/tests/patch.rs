//! `kubectl patch`, through the command language, with the manifest and the
//! commands of the docs' task "Update API Objects in Place Using kubectl
//! patch" (kubernetes.io/docs/tasks/manage-kubernetes-objects/
//! update-api-object-kubectl-patch): a strategic merge patch adds a
//! container beside the existing one and replaces the tolerations, a JSON
//! merge patch replaces the whole list, a JSON patch edits by pointer, and
//! the API server's errors read as kubectl prints them.

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

fn run(c: &mut Cluster, s: &mut Session, script: &str) -> Outcome {
    let mut out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    out.remove(0)
}

/// Runs one command and returns its output, asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out = run(c, s, script);
    assert!(out.ok, "{script} failed:\n{}", out.output);
    out.output
}

/// Runs one command and returns its output, asserting it failed.
fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out = run(c, s, script);
    assert!(!out.ok, "{script} should fail, printed:\n{}", out.output);
    out.output
}

const PATCH_DEMO: &str = "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: patch-demo
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: patch-demo-ctr
        image: nginx
      tolerations:
      - effect: NoSchedule
        key: dedicated
        value: test-team
---end";

fn container_names(c: &mut Cluster, s: &mut Session) -> String {
    ok(
        c,
        s,
        "kubectl get deployment patch-demo -o 'jsonpath={.spec.template.spec.containers[*].name}'",
    )
}

#[test]
fn a_strategic_merge_patch_adds_a_container_and_the_new_pods_run_both() {
    let (mut c, mut s) = booted(7);
    ok(&mut c, &mut s, PATCH_DEMO);
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.availableReplicas}'=2 3m",
    );
    let out = ok(
        &mut c,
        &mut s,
        r#"kubectl patch deployment patch-demo --patch '{"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}}'"#,
    );
    assert_eq!(out, "deployment.apps/patch-demo patched");
    assert_eq!(
        container_names(&mut c, &mut s),
        "patch-demo-ctr patch-demo-ctr-2"
    );
    // The Deployment rolls out pods with both containers, once its
    // controller has seen the new template.
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.observedGeneration}'=2 1m",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.updatedReplicas}'=2 5m",
    );
    // The old pods go once the new ones are available.
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.replicas}'=2 5m",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.availableReplicas}'=2 5m",
    );
    let pods = ok(&mut c, &mut s, "kubectl get pods -l app=nginx");
    let running_both = pods
        .lines()
        .filter(|l| l.contains(" 2/2 ") && l.contains(" Running "))
        .count();
    assert_eq!(running_both, 2, "{pods}");
    // A toleration list has no merge key: the patch replaces it.
    ok(
        &mut c,
        &mut s,
        r#"kubectl patch deployment patch-demo --patch '{"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}}'"#,
    );
    let tolerations = ok(
        &mut c,
        &mut s,
        "kubectl get deployment patch-demo -o 'jsonpath={.spec.template.spec.tolerations[*].key}'",
    );
    assert_eq!(tolerations, "disktype");
}

#[test]
fn a_merge_patch_replaces_the_list_and_a_json_patch_edits_by_pointer() {
    let (mut c, mut s) = booted(8);
    ok(&mut c, &mut s, PATCH_DEMO);
    ok(
        &mut c,
        &mut s,
        r#"kubectl patch deployment patch-demo --type merge --patch '{"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/hello-app:2.0"}]}}}}'"#,
    );
    assert_eq!(container_names(&mut c, &mut s), "patch-demo-ctr-3");
    // A patch in YAML works as well as one in JSON.
    ok(
        &mut c,
        &mut s,
        "kubectl patch deployment patch-demo --type=merge -p 'spec: {replicas: 3}'",
    );
    let out = ok(
        &mut c,
        &mut s,
        r#"kubectl patch deployment/patch-demo --type json -p '[{"op": "replace", "path": "/spec/replicas", "value": 4}, {"op": "add", "path": "/metadata/labels", "value": {"team": "a"}}]'"#,
    );
    assert_eq!(out, "deployment.apps/patch-demo patched");
    let got = ok(
        &mut c,
        &mut s,
        "kubectl get deployment patch-demo -o 'jsonpath={.spec.replicas} {.metadata.labels.team}'",
    );
    assert_eq!(got, "4 a");
    // Once the Deployment controller has stopped writing its status, the
    // same patch again changes nothing, and kubectl says so.
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.availableReplicas}'=4 3m",
    );
    ok(&mut c, &mut s, "sim advance 10s");
    let again = ok(
        &mut c,
        &mut s,
        r#"kubectl patch deployment patch-demo -p '{"spec":{"replicas":4}}'"#,
    );
    assert_eq!(again, "deployment.apps/patch-demo patched (no change)");
    // Dry runs print what would happen and store nothing.
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo -p '{"spec":{"replicas":9}}' --dry-run=server"#,
        ),
        "deployment.apps/patch-demo patched (server dry run)"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo -p '{"spec":{"replicas":9}}' --dry-run=client"#,
        ),
        "deployment.apps/patch-demo patched (dry run)"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get deployment patch-demo -o 'jsonpath={.spec.replicas}'"
        ),
        "4"
    );
    // The ReplicaSet scales to what the patch asked.
    ok(
        &mut c,
        &mut s,
        "sim until deployment/patch-demo '{.status.readyReplicas}'=4 5m",
    );
}

#[test]
fn a_bad_patch_gets_the_error_kubectl_and_the_api_server_give() {
    let (mut c, mut s) = booted(9);
    ok(&mut c, &mut s, PATCH_DEMO);
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo -p '{"spec":{"replica":3}}'"#
        ),
        r#"Error from server (BadRequest): strict decoding error: unknown field "spec.replica""#
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo -p '{"spec":{"template":{"spec":{"volumes":[{"hostPath":{"path":"/var/lib/kubelet/pods"}}]}}}}'"#
        ),
        "Error from server (BadRequest): map: map[hostPath:map[path:/var/lib/kubelet/pods]] does not contain declared merge key: name"
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo --type json -p '[{"op": "replace", "path": "/spec/paused", "value": true}]'"#
        ),
        "The request is invalid: the server rejected our request due to an error in our request"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl patch deployment patch-demo"),
        "error: must specify --patch or --patch-file containing the contents of the patch"
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            r#"kubectl patch deployment patch-demo --type strategy -p '{}'"#
        ),
        r#"error: --type must be one of [json merge strategic], not "strategy""#
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            r#"kubectl patch deployment nope -p '{"spec":{"replicas":1}}'"#
        ),
        r#"Error from server (NotFound): deployments.apps "nope" not found"#
    );
    // Validation runs on the patched object, as on any update.
    let invalid = fails(
        &mut c,
        &mut s,
        r#"kubectl patch deployment patch-demo -p '{"spec":{"replicas":-1}}'"#,
    );
    assert!(
        invalid.starts_with(
            r#"The Deployment "patch-demo" is invalid: spec.replicas: Invalid value: -1"#
        ),
        "{invalid}"
    );
}
