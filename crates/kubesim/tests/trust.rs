//! Behaviour tests of node trust through the command language: TLS
//! bootstrap with a bootstrap token, CSR approval and signing, the
//! kubelet's switch to `system:node:<name>`, certificate rotation, and what
//! a bootstrap identity may not do.

use kubesim::shell::{Outcome, Session};
use kubesim::{Cluster, SimDuration, Topology};

fn booted_with(topology: Topology, seed: u64) -> (Cluster, Session) {
    let mut c = Cluster::new(topology, seed);
    assert!(
        c.boot(SimDuration::from_secs(30)),
        "the control plane boots"
    );
    (c, Session::new())
}

fn booted(seed: u64) -> (Cluster, Session) {
    booted_with(Topology::default(), seed)
}

/// Runs one command and returns whether it succeeded and its output.
fn run(c: &mut Cluster, s: &mut Session, script: &str) -> (bool, String) {
    let out: Vec<Outcome> = s.run_script(c, script);
    assert_eq!(out.len(), 1, "{script}");
    (out[0].ok, out[0].output.clone())
}

/// Runs one command and returns its output, asserting it succeeded.
fn ok(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, output) = run(c, s, script);
    assert!(good, "{script} failed:\n{output}");
    output
}

/// The token id of the cluster's bootstrap token.
fn token_id(c: &Cluster) -> String {
    let token = c.bootstrap_token().expect("kubeadm init made a token");
    token.split('.').next().unwrap_or_default().to_string()
}

/// The CSR rows of `kubectl get csr` (without the header).
fn csr_rows(c: &mut Cluster, s: &mut Session) -> Vec<String> {
    let out = ok(c, s, "kubectl get csr");
    out.lines().skip(1).map(str::to_string).collect()
}

#[test]
fn kubeadm_init_leaves_a_bootstrap_token_secret_in_kube_system() {
    let (mut c, mut s) = booted(1);
    let id = token_id(&c);
    let ty = ok(
        &mut c,
        &mut s,
        &format!("kubectl get secret bootstrap-token-{id} -n kube-system -o jsonpath={{.type}}"),
    );
    assert_eq!(ty, "bootstrap.kubernetes.io/token");
}

#[test]
fn a_node_added_later_joins_through_a_csr_approved_and_issued_then_registers_and_heartbeats() {
    let (mut c, mut s) = booted(2);
    let id = token_id(&c);
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.metadata.name}'=worker-4 1m",
    );
    let rows = csr_rows(&mut c, &mut s);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let cells: Vec<&str> = rows[0].split_whitespace().collect();
    assert!(cells[0].starts_with("csr-"), "{rows:?}");
    assert_eq!(cells[2], "kubernetes.io/kube-apiserver-client-kubelet");
    assert_eq!(cells[3], format!("system:bootstrap:{id}"));
    assert_eq!(cells[4], "<none>");
    assert_eq!(cells[5], "Approved,Issued");
    let name = cells[0].to_string();
    let reason = ok(
        &mut c,
        &mut s,
        &format!("kubectl get csr {name} -o jsonpath={{.status.conditions[0].reason}}"),
    );
    assert_eq!(reason, "AutoApproved");
    let groups = ok(
        &mut c,
        &mut s,
        &format!("kubectl get csr {name} -o jsonpath={{.spec.groups}}"),
    );
    assert!(groups.contains("system:bootstrappers"), "{groups}");
    // The kubelet now speaks as the node: its Lease is held by the node and
    // renewed every 10 s.
    ok(
        &mut c,
        &mut s,
        "sim until lease/worker-4 -n kube-node-lease '{.spec.holderIdentity}'=worker-4 30s",
    );
    let first = ok(
        &mut c,
        &mut s,
        "kubectl get lease worker-4 -n kube-node-lease -o jsonpath={.spec.renewTime}",
    );
    ok(&mut c, &mut s, "sim advance 11s");
    let second = ok(
        &mut c,
        &mut s,
        "kubectl get lease worker-4 -n kube-node-lease -o jsonpath={.spec.renewTime}",
    );
    assert_ne!(first, second, "the lease renews");
    let cert = c
        .kubelet("worker-4")
        .and_then(|k| k.certificates().current().cloned())
        .expect("the kubelet has its certificate");
    assert_eq!(cert.common_name, "system:node:worker-4");
    assert_eq!(cert.organizations, vec!["system:nodes"]);
    // The initial nodes came with kubeadm's certificates: no CSR of theirs.
    assert_eq!(csr_rows(&mut c, &mut s).len(), 1);
}

#[test]
fn a_bootstrap_token_can_create_csrs_and_nothing_else() {
    let (mut c, mut s) = booted(3);
    let token = c.bootstrap_token().expect("a token").to_string();
    let id = token_id(&c);
    let (good, out) = run(&mut c, &mut s, &format!("kubectl get pods --token {token}"));
    assert!(!good);
    assert!(
        out.contains(&format!(
            "pods is forbidden: User \"system:bootstrap:{id}\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        )),
        "{out}"
    );
    let (good, out) = run(
        &mut c,
        &mut s,
        &format!("kubectl get nodes --token {token}"),
    );
    assert!(!good, "{out}");
    assert!(out.contains("cannot list resource \"nodes\""), "{out}");
    let (good, out) = run(&mut c, &mut s, &format!("kubectl get csr --token {token}"));
    assert!(good, "bootstrappers may read CSRs: {out}");
}

#[test]
fn a_kubelet_rotates_its_certificate_before_it_expires_as_the_node() {
    let topology = Topology::builder()
        .cluster_signing_duration(SimDuration::from_secs(3600))
        .build()
        .expect("a valid topology");
    let (mut c, mut s) = booted_with(topology, 4);
    ok(&mut c, &mut s, "sim node add worker-4");
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.metadata.name}'=worker-4 1m",
    );
    let first = c
        .kubelet("worker-4")
        .and_then(|k| k.certificates().current().cloned())
        .expect("a first certificate");
    // An hour from signing, backdated five minutes (not before the run).
    let signed = kubesim::SimTime(first.not_after.as_millis() - 3_600_000);
    assert!(
        signed <= c.now() && c.now().saturating_since(signed) < SimDuration::from_secs(10),
        "signed at {signed}, registered by {}",
        c.now()
    );
    assert_eq!(
        first.not_before.as_millis(),
        signed.as_millis().saturating_sub(300_000)
    );
    // Rotation comes between 70 % and 90 % of the validity.
    ok(&mut c, &mut s, "sim advance 55m");
    let k = c.kubelet("worker-4").expect("the kubelet runs");
    let second = k.certificates().current().cloned().expect("a certificate");
    assert_ne!(second, first, "rotated");
    assert!(
        second.not_before < first.not_after,
        "before the old one expired"
    );
    assert_eq!(k.certificates().requests().len(), 2);
    let renewal = k.certificates().requests()[1].clone();
    let requestor = ok(
        &mut c,
        &mut s,
        &format!("kubectl get csr {renewal} -o jsonpath={{.spec.username}}"),
    );
    assert_eq!(requestor, "system:node:worker-4");
    let msg = ok(
        &mut c,
        &mut s,
        &format!("kubectl get csr {renewal} -o jsonpath={{.status.conditions[0].message}}"),
    );
    assert!(msg.contains("self kubelet client certificate"), "{msg}");
    // The node stays Ready across the rotation.
    ok(
        &mut c,
        &mut s,
        "sim until node/worker-4 '{.status.conditions[?(@.type==\"Ready\")].status}'=True 10s",
    );
}

#[test]
fn a_new_namespace_gets_its_default_service_account_and_root_ca_within_a_second() {
    let (mut c, mut s) = booted(5);
    ok(&mut c, &mut s, "kubectl create namespace team-a");
    let created = c.now();
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default -n team-a '{.metadata.name}'=default 5s",
    );
    ok(
        &mut c,
        &mut s,
        "sim until configmap/kube-root-ca.crt -n team-a '{.metadata.name}'=kube-root-ca.crt 5s",
    );
    assert!(
        c.now().saturating_since(created) <= SimDuration::from_secs(1),
        "took {}",
        c.now().saturating_since(created)
    );
    let ca = ok(
        &mut c,
        &mut s,
        "kubectl get configmap kube-root-ca.crt -n team-a -o yaml",
    );
    assert!(ca.contains("-----BEGIN CERTIFICATE-----"), "{ca}");
    assert!(ca.contains("Subject: CN = kubernetes"), "{ca}");
    // Deleted, it comes back.
    ok(
        &mut c,
        &mut s,
        "kubectl delete serviceaccount default -n team-a",
    );
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default -n team-a '{.metadata.name}'=default 5s",
    );
}

#[test]
fn a_pod_naming_a_missing_service_account_is_refused_with_the_admission_plugins_error() {
    let (mut c, mut s) = booted(6);
    let (good, out) = run(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: Pod\nmetadata:\n  name: robot\nspec:\n  serviceAccountName: robot\n  containers:\n  - name: c\n    image: nginx\n---end",
    );
    assert!(!good);
    assert!(
        out.contains("pods \"robot\" is forbidden: error looking up service account default/robot: serviceaccount \"robot\" not found"),
        "{out}"
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n---end",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -\napiVersion: v1\nkind: Pod\nmetadata:\n  name: robot\nspec:\n  serviceAccountName: robot\n  containers:\n  - name: c\n    image: nginx\n---end",
    );
}
