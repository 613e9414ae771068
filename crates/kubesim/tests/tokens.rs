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
    // kubectl words a 401 as a login problem (cmdutil.StandardErrorMessage).
    assert_eq!(
        expired,
        "error: You must be logged in to the server (Unauthorized)"
    );
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

/// A pod running nginx in `default`.
const CLIENT_POD: &str = "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  containers:
  - name: client
    image: nginx:1.27
---end";

/// A booted cluster with the `client` pod running.
fn running_client(seed: u64) -> (Cluster, Session) {
    let (mut c, mut s) = client_started(seed);
    // `kubernetes.default.svc` resolves once CoreDNS runs...
    ok(
        &mut c,
        &mut s,
        "sim until deployment/coredns -n kube-system '{.status.readyReplicas}'=2 2m",
    );
    // ... and kube-proxy has its endpoints in the nodes' rules.
    ok(&mut c, &mut s, "sim advance 15s");
    (c, s)
}

/// A booted cluster, the moment the `client` pod runs.
fn client_started(seed: u64) -> (Cluster, Session) {
    let (mut c, mut s) = booted(seed);
    ok(
        &mut c,
        &mut s,
        "sim until serviceaccount/default '{.metadata.name}'=default 10s",
    );
    ok(&mut c, &mut s, CLIENT_POD);
    ok(
        &mut c,
        &mut s,
        "sim until pod/client '{.status.phase}'=Running 2m",
    );
    (c, s)
}

const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[test]
fn a_pod_has_its_bound_token_the_root_ca_and_its_namespace_in_the_service_account_directory() {
    let (mut c, mut s) = running_client(5);
    let ns = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- cat {SA_DIR}/namespace"),
    );
    assert_eq!(ns.trim(), "default");
    let listing = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- ls {SA_DIR}"),
    );
    let names: Vec<&str> = listing.split_whitespace().collect();
    assert_eq!(names, vec!["ca.crt", "namespace", "token"], "{listing}");
    let ca = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- cat {SA_DIR}/ca.crt"),
    );
    let published = ok(
        &mut c,
        &mut s,
        "kubectl get configmap kube-root-ca.crt -o yaml",
    );
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    for line in ca.lines() {
        assert!(
            published.contains(line.trim()),
            "{line} not in\n{published}"
        );
    }
    let token = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- cat {SA_DIR}/token"),
    );
    let claims = payload(token.trim());
    let pod_uid = ok(
        &mut c,
        &mut s,
        "kubectl get pod client -o jsonpath={.metadata.uid}",
    );
    let node = ok(
        &mut c,
        &mut s,
        "kubectl get pod client -o jsonpath={.spec.nodeName}",
    );
    assert_eq!(claims["sub"], "system:serviceaccount:default:default");
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "client");
    assert_eq!(claims["kubernetes.io"]["pod"]["uid"], pod_uid.trim());
    assert_eq!(claims["kubernetes.io"]["node"]["name"], node.trim());
    // The kubelet asks for 3607 s; the API server extends a pod-bound
    // token to a year and marks when it would have expired.
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 365 * 24 * 3600);
    assert_eq!(
        claims["kubernetes.io"]["warnafter"].as_i64().unwrap() - iat,
        3607
    );
}

#[test]
fn the_kubelet_refreshes_the_token_at_eighty_percent_of_its_lifetime() {
    let (mut c, mut s) = client_started(6);
    let read = |c: &mut Cluster, s: &mut Session| {
        ok(c, s, &format!("kubectl exec client -- cat {SA_DIR}/token"))
            .trim()
            .to_string()
    };
    let first = read(&mut c, &mut s);
    let iat = payload(&first)["iat"].as_i64().unwrap();
    // 80 % of 3607 s is 2885.6 s; the kubelet refreshes up to 10 s early.
    ok(&mut c, &mut s, "sim advance 2870s");
    let before = read(&mut c, &mut s);
    assert_eq!(before, first, "not refreshed before 80 % less the jitter");
    ok(&mut c, &mut s, "sim advance 20s");
    let after = read(&mut c, &mut s);
    assert_ne!(after, first, "refreshed by 80 % of the lifetime");
    let new_iat = payload(&after)["iat"].as_i64().unwrap();
    assert!(
        (2876..=2887).contains(&(new_iat - iat)),
        "refreshed {} s after issue",
        new_iat - iat
    );
}

#[test]
fn the_pod_yaml_shows_the_admitted_service_account_volume_and_mounts() {
    let (mut c, mut s) = running_client(7);
    let yaml = ok(&mut c, &mut s, "kubectl get pod client -o yaml");
    for needle in [
        "serviceAccountName: default",
        "name: kube-api-access-",
        "mountPath: /var/run/secrets/kubernetes.io/serviceaccount",
        "readOnly: true",
        "expirationSeconds: 3607",
        "path: token",
        "name: kube-root-ca.crt",
        "key: ca.crt",
        "fieldPath: metadata.namespace",
        "defaultMode: 420",
    ] {
        assert!(yaml.contains(needle), "{needle} missing from\n{yaml}");
    }
}

#[test]
fn a_pod_whose_service_account_opts_out_gets_no_token() {
    let (mut c, mut s) = booted(8);
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: ServiceAccount
metadata:
  name: quiet
automountServiceAccountToken: false
---end",
    );
    ok(
        &mut c,
        &mut s,
        "kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: quiet
spec:
  serviceAccountName: quiet
  containers:
  - name: c
    image: nginx:1.27
---end",
    );
    ok(
        &mut c,
        &mut s,
        "sim until pod/quiet '{.status.phase}'=Running 2m",
    );
    let volumes = ok(
        &mut c,
        &mut s,
        "kubectl get pod quiet -o jsonpath={.spec.volumes}",
    );
    assert_eq!(volumes.trim(), "");
    let missing = fails(
        &mut c,
        &mut s,
        &format!("kubectl exec quiet -- cat {SA_DIR}/token"),
    );
    assert!(missing.contains("No such file or directory"), "{missing}");
}

const CURL_PODS: &str = "curl -s --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt https://kubernetes.default.svc/api/v1/namespaces/default/pods";

#[test]
fn a_pod_calls_the_api_server_as_its_service_account_forbidden_then_allowed_by_a_rolebinding() {
    let (mut c, mut s) = running_client(9);
    let script = format!(
        "kubectl exec client -- sh -c 'TOKEN=$(cat {SA_DIR}/token); {CURL_PODS} -H \"Authorization: Bearer $TOKEN\"'"
    );
    let denied = ok(&mut c, &mut s, &script);
    assert!(denied.contains("\"kind\": \"Status\""), "{denied}");
    assert!(denied.contains("\"code\": 403"), "{denied}");
    assert!(
        denied.contains(r#""message": "pods is forbidden: User \"system:serviceaccount:default:default\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"""#),
        "{denied}"
    );
    ok(&mut c, &mut s, SA_VIEW);
    ok(&mut c, &mut s, "sim advance 2s");
    let allowed = ok(&mut c, &mut s, &script);
    assert!(allowed.contains("\"kind\": \"PodList\""), "{allowed}");
    assert!(allowed.contains("\"name\": \"client\""), "{allowed}");
}

#[test]
fn without_a_token_a_pod_is_anonymous_and_without_the_ca_curl_refuses_the_server() {
    let (mut c, mut s) = running_client(10);
    let anonymous = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- {CURL_PODS}"),
    );
    assert!(
        anonymous.contains(
            r#"pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\""#
        ),
        "{anonymous}"
    );
    let version = ok(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- curl -s --cacert {SA_DIR}/ca.crt https://kubernetes.default.svc/version"),
    );
    assert!(version.contains("\"gitVersion\""), "{version}");
    let untrusted = fails(
        &mut c,
        &mut s,
        "kubectl exec client -- curl https://kubernetes.default.svc/version",
    );
    assert!(
        untrusted
            .contains("curl: (60) SSL certificate problem: unable to get local issuer certificate"),
        "{untrusted}"
    );
    let failing = fails(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- curl -sSf --cacert {SA_DIR}/ca.crt https://kubernetes.default.svc/api/v1/namespaces/default/pods"),
    );
    assert!(
        failing.contains("curl: (22) The requested URL returned error: 403"),
        "{failing}"
    );
}

#[test]
fn etcd_refuses_a_pod_that_has_no_client_certificate_from_etcds_ca() {
    let (mut c, mut s) = running_client(11);
    let ip = ok(
        &mut c,
        &mut s,
        "kubectl get node control-plane-1 -o jsonpath={.status.addresses[0].address}",
    );
    let ip = ip.trim();
    let alert = fails(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- curl -k https://{ip}:2379/version"),
    );
    assert!(alert.contains("alert certificate required"), "{alert}");
    assert!(alert.contains("curl: (56)"), "{alert}");
    let untrusted = fails(
        &mut c,
        &mut s,
        &format!("kubectl exec client -- curl --cacert {SA_DIR}/ca.crt https://{ip}:2379/version"),
    );
    assert!(untrusted.contains("curl: (60)"), "{untrusted}");
}

/// A CSR for the user `jane`, which no approver handles on its own.
fn jane_csr(name: &str) -> String {
    use base64::Engine;
    let pem = kubesim::apiserver::auth::pki::CertificateRequest {
        common_name: "jane".into(),
        organizations: vec![],
    }
    .to_pem();
    let request = base64::engine::general_purpose::STANDARD.encode(pem);
    format!(
        "kubectl apply -f -
apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: {name}
spec:
  request: {request}
  signerName: kubernetes.io/kube-apiserver-client
  usages:
  - client auth
---end"
    )
}

#[test]
fn kubectl_certificate_approve_and_deny_set_the_csrs_condition() {
    let (mut c, mut s) = booted(12);
    ok(&mut c, &mut s, &jane_csr("jane"));
    ok(&mut c, &mut s, &jane_csr("mallory"));
    let row = |c: &mut Cluster, s: &mut Session, name: &str| {
        ok(c, s, &format!("kubectl get csr {name}"))
            .lines()
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert!(row(&mut c, &mut s, "jane").contains("Pending"));
    let approved = ok(&mut c, &mut s, "kubectl certificate approve jane");
    assert_eq!(
        approved.trim(),
        "certificatesigningrequest.certificates.k8s.io/jane approved"
    );
    let denied = ok(&mut c, &mut s, "kubectl certificate deny mallory");
    assert_eq!(
        denied.trim(),
        "certificatesigningrequest.certificates.k8s.io/mallory denied"
    );
    ok(&mut c, &mut s, "sim advance 5s");
    assert!(
        row(&mut c, &mut s, "jane").contains("Approved"),
        "{}",
        row(&mut c, &mut s, "jane")
    );
    assert!(row(&mut c, &mut s, "mallory").contains("Denied"));
    let reason = ok(
        &mut c,
        &mut s,
        "kubectl get csr jane -o jsonpath={.status.conditions[0].reason}",
    );
    assert_eq!(reason.trim(), "KubectlApprove");
    let missing = fails(&mut c, &mut s, "kubectl certificate approve nobody");
    assert!(missing.contains("NotFound"), "{missing}");
}
