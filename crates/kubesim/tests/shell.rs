//! Behaviour tests through the command language, as `kubesim shell` runs it:
//! the API server and etcd, end to end.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, SimTime, Topology};

fn booted(seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    (c, Session::new())
}

fn run(c: &mut Cluster, s: &mut Session, script: &str) -> Vec<Outcome> {
    s.run_script(c, script)
}

/// Runs one command and returns its output, asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out = run(c, s, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(out[0].ok, "{script} failed:\n{}", out[0].output);
    out[0].output.clone()
}

/// Runs one command and returns its output, asserting it failed.
fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let out = run(c, s, script);
    assert_eq!(out.len(), 1, "{script}");
    assert!(
        !out[0].ok,
        "{script} should fail but printed:\n{}",
        out[0].output
    );
    out[0].output.clone()
}

const CONFIGMAP: &str = "kubectl apply -f -
apiVersion: v1
kind: ConfigMap
metadata:
  name: game-config
data:
  lives: \"3\"
---end";

#[test]
fn a_fresh_cluster_has_the_four_system_namespaces() {
    let (mut c, mut s) = booted(1);
    let out = ok(&mut c, &mut s, "kubectl get namespaces -o name");
    assert_eq!(
        out,
        "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system"
    );
}

#[test]
fn apply_get_update_and_delete_round_trip() {
    let (mut c, mut s) = booted(2);
    assert_eq!(
        ok(&mut c, &mut s, CONFIGMAP),
        "configmap/game-config created"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get cm game-config -o jsonpath={.data.lives}"
        ),
        "3"
    );
    // Applying the same manifest again changes nothing.
    assert_eq!(
        ok(&mut c, &mut s, CONFIGMAP),
        "configmap/game-config unchanged"
    );
    let changed = CONFIGMAP.replace("\"3\"", "\"5\"");
    assert_eq!(
        ok(&mut c, &mut s, &changed),
        "configmap/game-config configured"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get configmap/game-config -o jsonpath={.data.lives}"
        ),
        "5"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl delete configmap game-config"),
        "configmap \"game-config\" deleted"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl get cm game-config"),
        "Error from server (NotFound): configmaps \"game-config\" not found"
    );
}

#[test]
fn every_write_gets_a_new_resource_version_from_etcds_revision() {
    let (mut c, mut s) = booted(3);
    ok(&mut c, &mut s, CONFIGMAP);
    let rv1: u64 = ok(
        &mut c,
        &mut s,
        "kubectl get cm game-config -o jsonpath={.metadata.resourceVersion}",
    )
    .parse()
    .unwrap();
    ok(&mut c, &mut s, "kubectl label cm game-config tier=backend");
    let rv2: u64 = ok(
        &mut c,
        &mut s,
        "kubectl get cm game-config -o jsonpath={.metadata.resourceVersion}",
    )
    .parse()
    .unwrap();
    assert!(rv2 > rv1, "{rv1} then {rv2}");
}

#[test]
fn a_stale_update_gets_409_conflict() {
    let (mut c, mut s) = booted(4);
    ok(&mut c, &mut s, CONFIGMAP);
    let rv = ok(
        &mut c,
        &mut s,
        "kubectl get cm game-config -o jsonpath={.metadata.resourceVersion}",
    );
    ok(&mut c, &mut s, "kubectl label cm game-config edited=yes");
    let stale = format!(
        "kubectl replace -f -\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: game-config\n  resourceVersion: \"{rv}\"\ndata:\n  lives: \"9\"\n---end"
    );
    assert_eq!(
        fails(&mut c, &mut s, &stale),
        "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be fulfilled on configmaps \"game-config\": the object has been modified; please apply your changes to the latest version and try again"
    );
    // Nothing changed.
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get cm game-config -o jsonpath={.data.lives}"
        ),
        "3"
    );
}

#[test]
fn a_forbidden_request_gets_403_with_the_rbac_reason() {
    let (mut c, mut s) = booted(5);
    assert_eq!(
        fails(&mut c, &mut s, "kubectl get pods --as=jane"),
        "Error from server (Forbidden): pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    // A RoleBinding to the `view` ClusterRole lets jane read, not write.
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
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods --as=jane"),
        "No resources found in default namespace."
    );
    let denied = fails(&mut c, &mut s, "kubectl create namespace janes --as=jane");
    assert!(denied.contains("(Forbidden)"), "{denied}");
    assert!(
        fails(&mut c, &mut s, "kubectl get pods -n kube-system --as=jane")
            .contains("in the namespace \"kube-system\""),
    );
}

#[test]
fn apply_with_a_dry_run_reports_what_it_would_do_and_stores_nothing() {
    let (mut c, mut s) = booted(7);
    let server = CONFIGMAP.replace("apply -f -", "apply --dry-run=server -f -");
    assert_eq!(
        ok(&mut c, &mut s, &server),
        "configmap/game-config created (server dry run)"
    );
    let client = CONFIGMAP.replace("apply -f -", "apply --dry-run=client -f -");
    assert_eq!(
        ok(&mut c, &mut s, &client),
        "configmap/game-config created (dry run)"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl get cm game-config"),
        "Error from server (NotFound): configmaps \"game-config\" not found"
    );
    // The server still validates: a bad name is a 422 with nothing stored.
    let invalid = fails(
        &mut c,
        &mut s,
        "kubectl apply --dry-run=server -f -\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n---end",
    );
    assert!(
        invalid.starts_with("The ConfigMap \"Bad_Name\" is invalid: metadata.name"),
        "{invalid}"
    );
    ok(&mut c, &mut s, CONFIGMAP);
    assert_eq!(
        ok(&mut c, &mut s, &client),
        "configmap/game-config configured (dry run)"
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            &CONFIGMAP.replace("apply -f -", "apply --dry-run=maybe -f -")
        ),
        "error: Invalid dry-run value (maybe). Must be \"none\", \"server\", or \"client\"."
    );
}

#[test]
fn invalid_and_unknown_manifests_get_kubectls_errors_and_change_nothing() {
    let (mut c, mut s) = booted(6);
    let invalid = fails(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n---end",
    );
    assert!(
        invalid.starts_with(
            "The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\""
        ),
        "{invalid}"
    );
    let unknown = fails(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: Frob\nmetadata:\n  name: x\n---end",
    );
    assert!(
        unknown.contains("no matches for kind \"Frob\" in version \"v1\""),
        "{unknown}"
    );
    let malformed = fails(&mut c, &mut s, "kubectl apply -f -\nkind: [\n---end");
    assert!(
        malformed.starts_with("error: error parsing STDIN"),
        "{malformed}"
    );
    // Only the root CA the publisher puts in every namespace.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get cm -o name"),
        "configmap/kube-root-ca.crt"
    );
    assert!(fails(&mut c, &mut s, "kubectl get frobs")
        .contains("doesn't have a resource type \"frobs\""));
    assert!(fails(&mut c, &mut s, "kubectl get pods --colour")
        .starts_with("error: unknown flag: --colour"));
}

fn leader(c: &Cluster) -> Option<(String, u64)> {
    c.etcd_status()
        .into_iter()
        .find(|(_, s)| s.role == kubesim::etcd::Role::Leader)
        .map(|(n, s)| (n, s.term))
}

#[test]
fn crashing_the_etcd_leader_elects_a_new_one_within_a_few_election_timeouts_and_writes_resume() {
    for seed in 10..15 {
        let (mut c, mut s) = booted(seed);
        let (old, term) = leader(&c).expect("a leader after boot");
        ok(&mut c, &mut s, "sim fault etcd/leader crash");
        let crashed_at = c.now();
        // Election timeout is 1 s (randomized up to 2 s); allow a few.
        let mut elected = None;
        while c.now() < crashed_at + SimDuration::from_secs(5) {
            c.advance(SimDuration::from_millis(50));
            if let Some((name, t)) = leader(&c) {
                if name != old {
                    elected = Some((name, t, c.now()));
                    break;
                }
            }
        }
        let (new, new_term, at) =
            elected.unwrap_or_else(|| panic!("seed {seed}: no new leader within 5s"));
        assert!(new_term > term, "seed {seed}: term {term} -> {new_term}");
        let took = at - crashed_at;
        // A follower's election timer runs from the last heartbeat it heard,
        // up to one heartbeat interval (100 ms) before the crash.
        assert!(
            took >= SimDuration::from_millis(900),
            "seed {seed}: elected after {took}, before an election timeout"
        );
        assert!(
            took <= SimDuration::from_millis(3500),
            "seed {seed}: took {took}"
        );
        assert_ne!(new, old);
        // The balancer drops the API server on the dead member's node after its
        // failed checks; writes through the others succeed.
        c.advance(SimDuration::from_secs(8));
        assert_eq!(
            ok(&mut c, &mut s, CONFIGMAP),
            "configmap/game-config created",
            "seed {seed}"
        );
    }
}

#[test]
fn with_two_of_three_members_down_writes_fail_and_succeed_again_after_heal() {
    let (mut c, mut s) = booted(21);
    ok(&mut c, &mut s, "sim fault etcd-control-plane-1 crash");
    ok(&mut c, &mut s, "sim fault etcd-control-plane-2 crash");
    c.advance(SimDuration::from_secs(10));
    let failed = fails(&mut c, &mut s, CONFIGMAP);
    assert!(
        failed.contains("(ServiceUnavailable)") || failed.contains("(Timeout)"),
        "{failed}"
    );
    let status = ok(&mut c, &mut s, "sim status");
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("etcd-control-plane-1 ") && l.ends_with("crashed")),
        "{status}"
    );
    ok(&mut c, &mut s, "sim heal all");
    c.advance(SimDuration::from_secs(10));
    assert_eq!(
        ok(&mut c, &mut s, CONFIGMAP),
        "configmap/game-config created"
    );
}

#[test]
fn the_api_server_identity_leases_are_renewed_every_ten_seconds() {
    let (mut c, mut s) = booted(30);
    c.advance(SimDuration::from_secs(25));
    let names = ok(&mut c, &mut s, "kubectl get leases -n kube-system -l apiserver.kubernetes.io/identity=kube-apiserver -o name");
    assert_eq!(names.lines().count(), 3, "{names}");
    let first = names
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("lease.coordination.k8s.io/")
        .to_string();
    let renew = |c: &mut Cluster, s: &mut Session| {
        ok(
            c,
            s,
            &format!("kubectl get lease {first} -n kube-system -o jsonpath={{.spec.renewTime}}"),
        )
    };
    let a = renew(&mut c, &mut s);
    c.advance(SimDuration::from_secs(10));
    let b = renew(&mut c, &mut s);
    assert_ne!(a, b, "renewed within 10s");
    assert_eq!(
        ok(&mut c, &mut s, &format!("kubectl get lease {first} -n kube-system -o jsonpath={{.spec.leaseDurationSeconds}}")),
        "3600"
    );
}

#[test]
fn a_dead_api_servers_identity_lease_is_collected_after_it_expires() {
    // Each instance deletes identity Leases that expired (renewTime plus
    // leaseDurationSeconds, 3600 s, in the past) once an hour
    // (pkg/controlplane/apiserver/... apiserverleasegc).
    let (mut c, mut s) = booted(31);
    c.advance(SimDuration::from_secs(25));
    let list = "kubectl get leases -n kube-system -l apiserver.kubernetes.io/identity=kube-apiserver -o jsonpath='{range .items[*]}{.metadata.name}{\" \"}{.spec.renewTime}{\"\\n\"}{end}'";
    let before = ok(&mut c, &mut s, list);
    assert_eq!(before.lines().count(), 3, "{before}");
    ok(
        &mut c,
        &mut s,
        "sim fault kube-apiserver-control-plane-2 crash",
    );
    // An hour later the lease has not expired yet by much: the hourly
    // collection may not have seen it expired.
    c.advance(SimDuration::from_secs(3000));
    assert_eq!(ok(&mut c, &mut s, list).lines().count(), 3);
    c.advance(SimDuration::from_secs(2 * 3600));
    let after = ok(&mut c, &mut s, list);
    assert_eq!(
        after.lines().count(),
        2,
        "the dead instance's lease is gone:\n{after}"
    );
    let now = c.now();
    for line in after.lines() {
        let renewed = line.split_whitespace().nth(1).unwrap_or_default();
        let at = kubesim::api::time::parse_millis(renewed).expect("a renewTime");
        assert!(
            now.as_millis() - at <= 10_000,
            "the survivors are still renewed every 10 s: {line} (now {now})"
        );
    }
    let gone: Vec<&str> = before
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| !after.contains(n))
        .collect();
    assert_eq!(gone.len(), 1, "{before}\n{after}");
}

#[test]
fn the_same_seed_and_script_print_the_same_transcript() {
    let script = format!("{CONFIGMAP}\nsim fault etcd/leader crash\nsim advance 3s\nkubectl get cm -o yaml\nsim status\n");
    let transcript = |seed| {
        let (mut c, mut s) = booted(seed);
        run(&mut c, &mut s, &script)
            .into_iter()
            .map(|o| o.output)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(transcript(40), transcript(40));
    let _ = SimTime::ZERO;
}

#[test]
fn kubectl_taint_adds_overwrites_and_removes_taints_as_kubectl_does() {
    let (mut c, mut s) = booted(4);
    ok(&mut c, &mut s, "sim advance 20s");
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl taint nodes worker-1 dedicated=gpu:NoSchedule"
        ),
        "node/worker-1 tainted"
    );
    let taints = "kubectl get node worker-1 -o 'jsonpath={range .spec.taints[*]}{.key}={.value}:{.effect}{\" \"}{end}'";
    assert_eq!(
        ok(&mut c, &mut s, taints).trim(),
        "dedicated=gpu:NoSchedule"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl taint nodes worker-1 dedicated=cpu:NoSchedule"),
        "error: node worker-1 already has dedicated taint(s) with same effect(s) and --overwrite is false"
    );
    ok(
        &mut c,
        &mut s,
        "kubectl taint node/worker-1 dedicated=cpu:NoSchedule --overwrite",
    );
    assert_eq!(
        ok(&mut c, &mut s, taints).trim(),
        "dedicated=cpu:NoSchedule"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl taint nodes worker-1 dedicated-"),
        "node/worker-1 untainted"
    );
    assert_eq!(ok(&mut c, &mut s, taints).trim(), "");
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl taint nodes worker-1 dedicated:NoSchedule-"
        ),
        "error: taint \"dedicated:NoSchedule\" not found"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl taint pods nginx a=b:NoSchedule"),
        "error: invalid resource type pods, only node types are supported"
    );
}

#[test]
fn kubectl_get_watch_prints_a_row_per_change_while_the_clock_runs_until_interrupted() {
    let (mut c, mut s) = booted(32);
    ok(&mut c, &mut s, "sim advance 10s");
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    // The ReplicaSet has created its pods (a few controller round trips).
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.replicas}'=2 10s",
    );
    let first = ok(&mut c, &mut s, "kubectl get pods -w");
    assert!(
        first.starts_with("NAME"),
        "the list first, with its header:\n{first}"
    );
    assert_eq!(s.watching(), Some("kubectl get pods -w"));
    // The clock runs: the pods' changes arrive as rows without a header.
    let later = ok(&mut c, &mut s, "sim advance 30s");
    let rows: Vec<&str> = later.lines().skip(1).collect();
    assert!(later.starts_with("advanced 30s"), "{later}");
    assert!(
        rows.len() >= 4,
        "two pods, each scheduled and started:\n{later}"
    );
    assert!(rows.iter().all(|r| r.starts_with("web-")), "{later}");
    assert!(!later.contains("NAME"), "{later}");
    assert!(
        rows.iter().filter(|r| r.contains("Running")).count() >= 2,
        "{later}"
    );
    // Ctrl+C closes it: later changes print nothing.
    let out = run(&mut c, &mut s, "^C");
    assert!(out[0].ok && out[0].output.is_empty());
    assert_eq!(s.watching(), None);
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=3");
    assert_eq!(ok(&mut c, &mut s, "sim advance 30s").lines().count(), 1);
}

#[test]
fn a_kubectl_command_closes_the_watch_and_a_watch_of_one_object_follows_only_it() {
    let (mut c, mut s) = booted(33);
    ok(
        &mut c,
        &mut s,
        "kubectl create configmap a --from-literal=k=1",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl create configmap b --from-literal=k=1",
    );
    let first = ok(&mut c, &mut s, "kubectl get configmap a -w -o name");
    assert_eq!(first, "configmap/a");
    // A kubectl command interrupts the watch before it runs.
    ok(&mut c, &mut s, "kubectl label configmap b x=y");
    assert_eq!(s.watching(), None);
    ok(&mut c, &mut s, "kubectl get configmap a -w -o name");
    assert!(s.watching().is_some());
    assert_eq!(ok(&mut c, &mut s, "sim advance 5s").lines().count(), 1);
    assert!(fails(&mut c, &mut s, "kubectl get pods,services -w").contains("single resource type"));
    assert!(fails(&mut c, &mut s, "kubectl get pods -w -o jsonpath={.items}").contains("--watch"));
}

#[test]
fn an_empty_watch_prints_nothing_until_its_first_event() {
    let (mut c, mut s) = booted(34);
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get pods -n kube-system -l tier=demo -w"
        ),
        ""
    );
    let out = ok(
        &mut c,
        &mut s,
        "sim node manifest add worker-1 demo.yaml -f -\napiVersion: v1\nkind: Pod\nmetadata:\n  name: demo\n  namespace: kube-system\n  labels:\n    tier: demo\nspec:\n  containers:\n  - name: c\n    image: nginx\n---end",
    );
    let later = ok(&mut c, &mut s, "sim advance 20s");
    assert!(
        later.lines().any(|l| l.starts_with("demo-worker-1")),
        "the mirror pod's rows:\n{out}\n{later}"
    );
}

#[test]
fn field_selectors_filter_by_the_fields_each_kind_exposes() {
    // The examples of the docs' "Field Selectors" page.
    let (mut c, mut s) = booted(71);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: stuck
spec:
  nodeSelector:
    disk: ssd
  containers:
  - name: nginx
    image: nginx
---end",
    );
    ok(&mut c, &mut s, "sim advance 20s");
    let running = ok(
        &mut c,
        &mut s,
        "kubectl get pods --field-selector status.phase=Running -o name",
    );
    assert_eq!(running.lines().count(), 2, "{running}");
    assert!(
        running.lines().all(|l| l.starts_with("pod/web-")),
        "{running}"
    );
    let not_running = ok(
        &mut c,
        &mut s,
        "kubectl get pods --field-selector=status.phase!=Running,spec.restartPolicy=Always -o name",
    );
    assert_eq!(not_running.trim(), "pod/stuck");
    let services = ok(
        &mut c,
        &mut s,
        "kubectl get services --all-namespaces --field-selector metadata.namespace!=default -o name",
    );
    assert_eq!(services.trim(), "service/kube-dns");
    let scheduled = ok(
        &mut c,
        &mut s,
        "kubectl get events --field-selector involvedObject.kind=Pod,reason=Scheduled -o name",
    );
    assert_eq!(scheduled.lines().count(), 2, "{scheduled}");
    let refused = fails(
        &mut c,
        &mut s,
        "kubectl get pods --field-selector foo.bar=baz",
    );
    assert_eq!(
        refused,
        "Error from server (BadRequest): Unable to find \"pods\" that match label selector \"\", field selector \"foo.bar=baz\": field label not supported: foo.bar"
    );
}

#[test]
fn the_api_servers_compact_etcd_every_five_minutes_up_to_the_revision_of_the_previous_round() {
    let (mut c, _s) = booted(1);
    let revision = |c: &Cluster| {
        c.etcd_status()
            .iter()
            .map(|(_, s)| s.revision)
            .max()
            .unwrap_or(0)
    };
    let compacted = |c: &Cluster| {
        c.etcd_status()
            .iter()
            .map(|(_, s)| s.compacted_revision)
            .collect::<Vec<_>>()
    };
    let at_boot = revision(&c);
    // The API servers started during the boot: their first round, five
    // minutes later, only records the revision ("we don't compact on
    // bootstrap").
    c.advance(SimDuration::from_secs(6 * 60));
    let first_round = revision(&c);
    assert_eq!(
        compacted(&c),
        vec![0, 0, 0],
        "the first round compacts nothing"
    );
    // The second round compacts up to what etcd had at the first.
    c.advance(SimDuration::from_secs(5 * 60));
    let after = compacted(&c);
    assert!(
        after.iter().all(|r| *r == after[0]),
        "every member applies the compaction: {after:?}"
    );
    assert!(
        at_boot < after[0] && after[0] <= first_round,
        "compacted to {} (boot at {at_boot}, first round by {first_round})",
        after[0]
    );
}

#[test]
fn kubectl_run_makes_a_pod_as_kubectls_generator_does() {
    let (mut c, mut s) = booted(61);
    assert_eq!(
        ok(&mut c, &mut s, "kubectl run nginx --image=nginx --port=80"),
        "pod/nginx created"
    );
    ok(
        &mut c,
        &mut s,
        "kubectl run hello --image=busybox --restart=Never -- sh -c \"echo hello; exit 0\"",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/hello '{.status.phase}'=Succeeded 2m",
    );
    assert_eq!(ok(&mut c, &mut s, "kubectl logs hello"), "hello");
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get pod nginx -o jsonpath={.metadata.labels.run}/{.spec.containers[0].name}/{.spec.containers[0].ports[0].containerPort}/{.spec.restartPolicy}"
        ),
        "nginx/nginx/80/Always"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get pod hello -o jsonpath={.spec.restartPolicy}/{.spec.containers[0].args[0]}"
        ),
        "Never/sh"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl run x"),
        "error: required flag(s) \"image\" not set"
    );
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl run y --image=nginx --restart=Sometimes"
        ),
        "error: invalid restart policy: Sometimes"
    );
}

#[test]
fn kubectl_explain_prints_a_fields_type_and_docs_as_kubectl_does_and_its_errors() {
    let (mut c, mut s) = booted(7);
    let before = c.now();
    let out = ok(&mut c, &mut s, "kubectl explain deployments.spec.replicas");
    assert!(
        out.starts_with("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: replicas <integer>\n\n\nDESCRIPTION:\n    Number of desired pods."),
        "{out}"
    );
    let out = ok(&mut c, &mut s, "kubectl explain po.spec.tolerations");
    assert!(out.contains("FIELD: tolerations <[]Toleration>"), "{out}");
    assert!(out.contains("  tolerationSeconds\t<integer>\n"), "{out}");
    let out = ok(&mut c, &mut s, "kubectl explain svc --recursive");
    assert!(
        out.contains("\n    ports\t<[]ServicePort>\n      appProtocol\t<string>\n"),
        "{out}"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl explain widgets"),
        "error: the server doesn't have a resource type \"widgets\""
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl explain pods.spec.replicas"),
        "error: field \"replicas\" does not exist"
    );
    assert!(fails(&mut c, &mut s, "kubectl explain")
        .starts_with("error: You must specify the type of resource to explain."));
    assert!(
        fails(&mut c, &mut s, "kubectl explain pods --api-version=apps/v1")
            .starts_with("error: couldn't find resource for")
    );
    // Reading the schema leaves the cluster and its clock alone.
    assert_eq!(c.now(), before);
}

#[test]
fn kubectl_top_finds_no_metrics_api_as_on_a_kubeadm_cluster_without_metrics_server() {
    let (mut c, mut s) = booted(7);
    assert_eq!(
        fails(&mut c, &mut s, "kubectl top nodes"),
        "error: Metrics API not available"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl top pods -A"),
        "error: Metrics API not available"
    );
}

#[test]
fn kubectl_wait_runs_the_clock_until_conditions_hold_and_times_out_as_kubectl_does() {
    let (mut c, mut s) = booted(7);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    let start = c.now();
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl wait --for=condition=Available deployment/web --timeout=60s"
        ),
        "deployment.apps/web condition met"
    );
    // The pods were scheduled, pulled and started in virtual time.
    let waited = c.now() - start;
    assert!(
        waited > SimDuration::from_secs(1) && waited < SimDuration::from_secs(60),
        "{waited}"
    );
    let out = ok(
        &mut c,
        &mut s,
        "kubectl wait --for=condition=ready pod -l app=web",
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines()
            .all(|l| l.starts_with("pod/web-") && l.ends_with(" condition met")),
        "{out}"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl wait --for=jsonpath='{.status.readyReplicas}'=2 deploy/web"
        ),
        "deployment.apps/web condition met"
    );
    let before = c.now();
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl wait --for=condition=Complete deployment/web --timeout=5s"
        ),
        "error: timed out waiting for the condition on deployments/web"
    );
    assert_eq!(c.now() - before, SimDuration::from_secs(5));
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl wait --for=condition=Ready pod/nope"
        ),
        "Error from server (NotFound): pods \"nope\" not found"
    );
    assert_eq!(
        fails(&mut c, &mut s, "kubectl wait --for=bogus pod/x"),
        "error: unrecognized condition: \"bogus\""
    );
    ok(&mut c, &mut s, "kubectl delete deployment web");
    let out = ok(
        &mut c,
        &mut s,
        "kubectl wait --for=delete pod -l app=web --timeout=90s",
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(
        fails(
            &mut c,
            &mut s,
            "kubectl wait --for=condition=Ready pod -l app=web"
        ),
        "error: no matching resources found"
    );
}
