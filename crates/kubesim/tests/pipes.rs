//! Behaviour tests of pipes in the command language, as `kubesim shell`
//! and the page's console run them: a command's standard output through
//! grep, wc, awk, head, sort, ... (`shell/pipe.rs`), kubectl's stderr and
//! errors kept out of the pipe, the pipeline's status that of its last
//! stage, and the filters kept for a watch, a followed log and a
//! port-forward's later lines.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted(seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), seed);
    assert!(
        c.boot(SimDuration::from_secs(60)),
        "the control plane boots"
    );
    (c, Session::new())
}

/// Runs one command; returns whether it succeeded and its output.
fn run(c: &mut Cluster, s: &mut Session, script: &str) -> (bool, String) {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}: {out:?}");
    (out[0].ok, out[0].output.clone())
}

fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, out) = run(c, s, script);
    assert!(good, "{script} failed:\n{out}");
    out
}

fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, out) = run(c, s, script);
    assert!(!good, "{script} should fail but printed:\n{out}");
    out
}

#[test]
fn grep_then_wc_counts_the_coredns_pods() {
    let (mut c, mut s) = booted(1);
    let all = ok(&mut c, &mut s, "kubectl get pods -A");
    assert_eq!(
        all.lines().filter(|l| l.contains("coredns")).count(),
        2,
        "{all}"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A | grep coredns | wc -l"),
        "2"
    );
    // Glued to the words, as bash splits it.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A|grep coredns|wc -l"),
        "2"
    );
    let rows = ok(&mut c, &mut s, "kubectl get pods -A | grep -i COREDNS");
    assert!(
        rows.lines()
            .all(|l| l.starts_with("kube-system") && l.contains("coredns-")),
        "{rows}"
    );
}

#[test]
fn awk_prints_the_node_names_column() {
    let (mut c, mut s) = booted(2);
    let names: Vec<String> = ok(&mut c, &mut s, "kubectl get nodes -o name")
        .lines()
        .map(|l| l.trim_start_matches("node/").to_string())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    let awk = ok(
        &mut c,
        &mut s,
        "kubectl get nodes --no-headers | awk '{print $1}'",
    );
    assert_eq!(awk.lines().collect::<Vec<_>>(), names);
    // The header is line 1.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get nodes | awk 'NR>1 {print $1}'"),
        awk
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get nodes | awk 'NR==1 {print $1, $2}'"
        ),
        "NAME STATUS"
    );
}

#[test]
fn head_tail_sort_and_uniq_work_on_kubectls_tables() {
    let (mut c, mut s) = booted(3);
    let all = ok(&mut c, &mut s, "kubectl get pods -A");
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A | head -3"),
        lines[..3].join("\n")
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A | tail -n 2"),
        lines[lines.len() - 2..].join("\n")
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A --no-headers | wc -l"),
        (lines.len() - 1).to_string()
    );
    // Namespaces of the pods, counted.
    let counted = ok(
        &mut c,
        &mut s,
        "kubectl get pods -A --no-headers | awk '{print $1}' | sort | uniq -c",
    );
    assert_eq!(
        counted.trim_start(),
        format!("{} kube-system", lines.len() - 1),
        "{counted}"
    );
    // A filter's own error, in its words, and nothing runs.
    assert_eq!(
        fails(&mut c, &mut s, "kubectl get pods -A | head -n x"),
        "head: invalid number of lines: 'x'"
    );
}

#[test]
fn a_quoted_pipe_in_a_jsonpath_is_not_a_pipe() {
    let (mut c, mut s) = booted(4);
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get namespace default -o jsonpath='{.metadata.name}|{.status.phase}'"
        ),
        "default|Active"
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get namespace default -o jsonpath=\"{.metadata.name}|x\" | grep -F '|x'"
        ),
        "default|x"
    );
}

#[test]
fn grep_with_no_match_fails_and_a_stage_after_it_succeeds() {
    let (mut c, mut s) = booted(5);
    assert_eq!(
        fails(&mut c, &mut s, "kubectl get pods -A | grep nginx"),
        ""
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A | grep nginx | wc -l"),
        "0"
    );
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods -A | grep -c nginx | cat"),
        "0"
    );
}

#[test]
fn an_unknown_program_after_a_pipe_is_bashs_command_not_found() {
    let (mut c, mut s) = booted(6);
    let out = fails(
        &mut c,
        &mut s,
        "kubectl get pods -A -o json | jq '.items[]'",
    );
    assert!(out.starts_with("bash: jq: command not found\n"), "{out}");
    assert!(out.contains("grep") && out.contains("awk"), "{out}");
    let out = fails(&mut c, &mut s, "kubectl get pods | grep -k x");
    assert!(out.starts_with("grep: invalid option -- 'k'"), "{out}");
    for bad in ["kubectl get pods |", "| grep x", "kubectl get pods || true"] {
        let out = fails(&mut c, &mut s, bad);
        assert!(out.starts_with("error: syntax error"), "{bad}: {out}");
    }
}

#[test]
fn stderr_is_not_piped() {
    let (mut c, mut s) = booted(7);
    // A failing first stage prints its error as is and fails the line.
    let out = fails(&mut c, &mut s, "kubectl get frobnicators | grep x");
    assert_eq!(
        out,
        "error: the server doesn't have a resource type \"frobnicators\""
    );
    // "No resources found" is kubectl's stderr: wc counts nothing.
    assert_eq!(
        ok(&mut c, &mut s, "kubectl get pods --no-headers | wc -l"),
        "No resources found in default namespace.\n0"
    );
    let out = fails(&mut c, &mut s, "kubectl get pods | grep web");
    assert_eq!(out, "No resources found in default namespace.");
}

#[test]
fn an_inline_manifest_is_applied_and_its_result_piped() {
    let (mut c, mut s) = booted(8);
    let out = s.run_script(
        &mut c,
        "kubectl apply -f - | grep created\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n---end\nkubectl get cm a -o name",
    );
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].ok, "{out:?}");
    assert_eq!(out[0].output, "configmap/a created\nnamespace/demo created");
    assert_eq!(out[1].output, "configmap/a");
}

#[test]
fn sim_help_and_curl_output_can_be_piped() {
    let (mut c, mut s) = booted(9);
    let etcd = ok(&mut c, &mut s, "sim status | grep -c etcd");
    assert!(etcd.parse::<u32>().is_ok_and(|n| n >= 1), "{etcd}");
    let help = ok(&mut c, &mut s, "help | grep -i pipe");
    assert!(help.contains("pipes"), "{help}");
    let advanced = ok(&mut c, &mut s, "sim advance 1s | awk '{print $1, $2}'");
    assert_eq!(advanced, "advanced 1s");
}

#[test]
fn a_watch_runs_its_later_rows_through_the_filters() {
    let (mut c, mut s) = booted(10);
    ok(
        &mut c,
        &mut s,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    ok(
        &mut c,
        &mut s,
        "sim until deployment/web '{.status.replicas}'=2 10s",
    );
    let first = ok(&mut c, &mut s, "kubectl get pods -w | awk '{print $1, $3}'");
    assert!(first.starts_with("NAME STATUS\nweb-"), "{first}");
    assert!(s.watching().is_some());
    let later = ok(&mut c, &mut s, "sim advance 30s");
    let rows: Vec<&str> = later.lines().skip(1).collect();
    assert!(rows.len() >= 4, "{later}");
    for r in &rows {
        let f: Vec<&str> = r.split(' ').collect();
        assert!(f.len() == 2 && f[0].starts_with("web-"), "{later}");
    }
    assert!(rows.iter().any(|r| r.ends_with(" Running")), "{later}");
    run(&mut c, &mut s, "^C");

    // grep on a watch: only the matching rows come, later too; nothing
    // matching yet is not a failure (grep has not seen the end).
    ok(&mut c, &mut s, "kubectl scale deployment web --replicas=4");
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl get pods -w | grep ContainerCreating"
        ),
        ""
    );
    let later = ok(&mut c, &mut s, "sim advance 30s");
    let rows: Vec<&str> = later.lines().skip(1).collect();
    assert!(!rows.is_empty(), "{later}");
    assert!(
        rows.iter().all(|r| r.contains("ContainerCreating")),
        "{later}"
    );
    run(&mut c, &mut s, "^C");

    // A filter that needs the whole input cannot follow a watch.
    let out = fails(&mut c, &mut s, "kubectl get pods -w | sort");
    assert!(out.contains("needs the whole input"), "{out}");
    assert_eq!(s.watching(), None);
}

#[test]
fn a_followed_log_runs_its_later_lines_through_the_filters() {
    let (mut c, mut s) = booted(11);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  nodeName: worker-1
  restartPolicy: Never
  containers:
  - name: ticker
    image: busybox:1.36
    command: [sh, -c, 'for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 2; done']
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/ticker '{.status.phase}'=Running 2m",
    );
    let mut seen = ok(
        &mut c,
        &mut s,
        "kubectl logs -f ticker | grep -E 'tick [2468]$' | awk '{print $2}'",
    );
    for _ in 0..4 {
        let more = ok(&mut c, &mut s, "sim advance 6s");
        for l in more.lines().skip(1) {
            seen.push('\n');
            seen.push_str(l);
        }
    }
    assert_eq!(s.watching(), None, "the container ended");
    assert_eq!(seen.trim_start_matches('\n'), "2\n4\n6\n8");
}

#[test]
fn a_piped_port_forward_filters_its_handling_connection_lines() {
    let (mut c, mut s) = booted(12);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - {containerPort: 80}
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/nginx '{.status.phase}'=Running 2m",
    );
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "kubectl port-forward pod/nginx 8080:80 | grep '::1' &"
        ),
        "Forwarding from [::1]:8080 -> 80"
    );
    // kubectl's `Handling connection for 8080` goes through the forward's
    // grep (and is dropped); curl's own output is piped separately.
    let page = ok(&mut c, &mut s, "curl -s localhost:8080");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(
        ok(
            &mut c,
            &mut s,
            "curl -s localhost:8080 | grep -o '<title>.*</title>'"
        ),
        "<title>Welcome to nginx!</title>"
    );
    ok(&mut c, &mut s, "kill %1");
    ok(&mut c, &mut s, "kubectl port-forward pod/nginx 8081:80");
    // Without a pipe on the forward, its line prints, but not into curl's
    // pipe.
    assert_eq!(
        ok(&mut c, &mut s, "curl -s localhost:8081 | head -1"),
        "Handling connection for 8081\n<!DOCTYPE html>"
    );
}
