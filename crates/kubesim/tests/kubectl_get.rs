//! Behaviour tests of `kubectl get`'s common output flags as kubectl
//! prints them: `--show-labels`, `-L`, `--sort-by`, `--no-headers`,
//! `-o custom-columns` and `-o name`.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

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

/// Three ConfigMaps created out of name order, with labels.
fn with_config_maps() -> (Cluster, Session) {
    let mut c = Cluster::new(Topology::default(), 3);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    let mut s = Session::new();
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-10
  labels: {app.kubernetes.io/name: shop, tier: db}
data: {a: '1', b: '2', c: '3'}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-2
  labels: {tier: web}
data: {a: '1'}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-1
data: {a: '1', b: '2'}
---end",
    );
    (c, s)
}

#[test]
fn show_labels_adds_a_labels_column_in_key_order() {
    let (mut c, mut s) = with_config_maps();
    let out = ok(&mut c, &mut s, "kubectl get cm cm-10 cm-1 --show-labels");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "NAME    DATA   AGE   LABELS");
    assert_eq!(
        lines[1],
        "cm-10   3      0s    app.kubernetes.io/name=shop,tier=db"
    );
    assert_eq!(lines[2], "cm-1    2      0s    <none>");
}

#[test]
fn label_columns_are_headed_by_the_keys_last_segment() {
    let (mut c, mut s) = with_config_maps();
    let out = ok(
        &mut c,
        &mut s,
        "kubectl get cm cm-10 cm-2 -L tier -L app.kubernetes.io/name",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "NAME    DATA   AGE   TIER   NAME");
    assert_eq!(lines[1], "cm-10   3      0s    db     shop");
    assert_eq!(lines[2], "cm-2    1      0s    web    ");
    // -L and --show-labels together: the label columns, then LABELS.
    let both = ok(&mut c, &mut s, "kubectl get cm cm-2 -Ltier --show-labels");
    assert_eq!(
        both.lines().next(),
        Some("NAME   DATA   AGE   TIER   LABELS")
    );
}

#[test]
fn sort_by_orders_rows_naturally_and_numbers_by_value() {
    let (mut c, mut s) = with_config_maps();
    let names = |c: &mut Cluster, s: &mut Session, cmd: &str| -> Vec<String> {
        ok(c, s, cmd)
            .lines()
            .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
            .collect()
    };
    let by_name = names(
        &mut c,
        &mut s,
        "kubectl get cm -l '!kube-root' --sort-by=.metadata.name --no-headers",
    );
    let ours: Vec<&String> = by_name.iter().filter(|n| n.starts_with("cm-")).collect();
    assert_eq!(ours, ["cm-1", "cm-2", "cm-10"]);
    // A field some objects lack: those sort first.
    let by_tier = names(
        &mut c,
        &mut s,
        "kubectl get cm cm-10 cm-2 cm-1 --sort-by={.metadata.labels.tier} --no-headers",
    );
    assert_eq!(by_tier, ["cm-1", "cm-10", "cm-2"]);
    let (good, err) = run(&mut c, &mut s, "kubectl get cm --sort-by=.spec.nothing");
    assert!(!good);
    assert_eq!(
        err,
        "error: couldn't find any field with path \"{.spec.nothing}\" in the list of objects"
    );
}

#[test]
fn no_headers_drops_the_header_row() {
    let (mut c, mut s) = with_config_maps();
    let out = ok(&mut c, &mut s, "kubectl get cm cm-1 --no-headers");
    // kubectl's tab writer pads every column to at least six characters.
    assert_eq!(out, "cm-1   2     0s");
}

#[test]
fn custom_columns_print_the_paths_asked_for() {
    let (mut c, mut s) = with_config_maps();
    let out = ok(
        &mut c,
        &mut s,
        "kubectl get cm cm-10 cm-1 -o custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,A:{.data.a}",
    );
    assert_eq!(
        out,
        "NAME    TIER     A\ncm-10   db       1\ncm-1    <none>   1"
    );
    let bare = ok(
        &mut c,
        &mut s,
        "kubectl get cm cm-1 -o custom-columns=NAME:metadata.name --no-headers",
    );
    assert_eq!(bare, "cm-1");
    let (good, err) = run(&mut c, &mut s, "kubectl get cm -o custom-columns=NAME");
    assert!(!good);
    assert_eq!(
        err,
        "error: unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"
    );
}

#[test]
fn output_name_prints_kind_slash_name() {
    let (mut c, mut s) = with_config_maps();
    let out = ok(&mut c, &mut s, "kubectl get cm cm-2 cm-1 -o name");
    assert_eq!(out, "configmap/cm-2\nconfigmap/cm-1");
}
