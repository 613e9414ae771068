//! Behaviour tests of service-account tokens through the command language:
//! TokenRequest and `kubectl create token`, the bound token's validation
//! (expiry, the pod and service account it names), the projected
//! `kube-api-access-*` volume the kubelet fills and refreshes, a pod calling
//! the API server through the `kubernetes` Service as its service account,
//! and etcd refusing a pod.

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

/// Runs one command and returns its output, asserting it failed.
fn fails(c: &mut Cluster, s: &mut Session, script: &str) -> String {
    let (good, output) = run(c, s, script);
    assert!(!good, "{script} succeeded:\n{output}");
    output
}

/// A RoleBinding granting the `view` ClusterRole to `default:default`.
const SA_VIEW: &str = "kubectl apply -f -
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: sa-view
  namespace: default
subjects:
- kind: ServiceAccount
  name: default
  namespace: default
roleRef:
  kind: ClusterRole
  name: view
  apiGroup: rbac.authorization.k8s.io
---end";

/// The JSON payload of a JWT.
fn payload(token: &str) -> serde_json::Value {
    use base64::Engine;
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("the payload is JSON")
}

#[test]
fn kubectl_create_token_prints_a_jwt_for_the_service_account_valid_for_an_hour() {
    let (mut c, mut s) = booted(1);
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default '{.metadata.name}'=default 10s",
    );
    let token = ok(&mut c, &mut s, "kubectl create token default");
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let claims = payload(token);
    assert_eq!(claims["sub"], "system:serviceaccount:default:default");
    assert_eq!(
        claims["iss"],
        "https://kubernetes.default.svc.cluster.local"
    );
    assert_eq!(
        claims["aud"],
        serde_json::json!(["https://kubernetes.default.svc.cluster.local"])
    );
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 3600, "the default expirationSeconds");
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(claims["kubernetes.io"]["namespace"], "default");
    assert_eq!(claims["kubernetes.io"]["serviceaccount"]["name"], "default");
    let uid = ok(
        &mut c,
        &mut s,
        "kubectl get serviceaccount default -o jsonpath={.metadata.uid}",
    );
    assert_eq!(claims["kubernetes.io"]["serviceaccount"]["uid"], uid.trim());
}

#[test]
fn a_token_authenticates_as_its_service_account_which_rbac_forbids_until_a_rolebinding_grants() {
    let (mut c, mut s) = booted(2);
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default '{.metadata.name}'=default 10s",
    );
    let token = ok(
        &mut c,
        &mut s,
        "kubectl create token default --duration=10m",
    );
    let token = token.trim().to_string();
    let denied = fails(&mut c, &mut s, &format!("kubectl get pods --token={token}"));
    assert!(
        denied.contains(
            "pods is forbidden: User \"system:serviceaccount:default:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        ),
        "{denied}"
    );
    ok(&mut c, &mut s, SA_VIEW);
    ok(
        &mut c,
        &mut s,
        "sim until rolebinding/sa-view '{.roleRef.name}'=view 5s",
    );
    ok(&mut c, &mut s, "sim advance 1s");
    ok(&mut c, &mut s, &format!("kubectl get pods --token={token}"));
    // --duration=10m: after ten minutes the token has expired: 401.
    ok(&mut c, &mut s, "sim advance 10m");
    let expired = fails(&mut c, &mut s, &format!("kubectl get pods --token={token}"));
    assert!(expired.contains("Unauthorized"), "{expired}");
}

#[test]
fn a_token_of_a_deleted_service_account_is_unauthorized() {
    let (mut c, mut s) = booted(3);
    ok(&mut c, &mut s, "kubectl create namespace team-a");
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default -n team-a '{.metadata.name}'=default 10s",
    );
    let token = ok(&mut c, &mut s, "kubectl create token default -n team-a");
    let token = token.trim().to_string();
    let before = fails(
        &mut c,
        &mut s,
        &format!("kubectl get pods -n team-a --token={token}"),
    );
    assert!(before.contains("forbidden"), "{before}");
    ok(
        &mut c,
        &mut s,
        "kubectl delete serviceaccount default -n team-a",
    );
    // The serviceaccount controller recreates `default` with a new uid:
    // the old token names the old uid.
    ok(&mut c, &mut s, "sim advance 2s");
    let after = fails(
        &mut c,
        &mut s,
        &format!("kubectl get pods -n team-a --token={token}"),
    );
    assert!(after.contains("Unauthorized"), "{after}");
}

#[test]
fn kubectl_create_token_reports_the_servers_and_its_own_errors() {
    let (mut c, mut s) = booted(4);
    let missing = fails(&mut c, &mut s, "kubectl create token nobody");
    assert_eq!(
        missing.trim(),
        "error: failed to create token: serviceaccounts \"nobody\" not found"
    );
    let short = fails(&mut c, &mut s, "kubectl create token default --duration=5m");
    assert!(
        short.contains("spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes"),
        "{short}"
    );
    let sub_second = fails(
        &mut c,
        &mut s,
        "kubectl create token default --duration=1500ms",
    );
    assert_eq!(
        sub_second.trim(),
        "error: --duration cannot be expressed in units less than seconds"
    );
}
