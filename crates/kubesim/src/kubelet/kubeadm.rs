//! The static pod manifests kubeadm writes on a control-plane node.
//!
//! `kubeadm init` and `kubeadm join --control-plane` write four files to
//! `/etc/kubernetes/manifests` (`cmd/kubeadm/app/phases/controlplane/manifests.go`
//! `GetStaticPodSpecs`, and `phases/etcd/local.go` `GetEtcdPodSpec` for the
//! stacked etcd member): `etcd.yaml`, `kube-apiserver.yaml`,
//! `kube-controller-manager.yaml` and `kube-scheduler.yaml`. The kubelet runs
//! them as static pods and mirrors them into the API, which is why
//! `kubectl get pods -n kube-system` lists `etcd-control-plane-1`,
//! `kube-apiserver-control-plane-1`, ...
//!
//! The manifests follow kubeadm's: host network, `system-node-critical`
//! priority, the same probes (ports, paths, periods, thresholds), resource
//! requests and the main command-line flags. Left out: most flags and the
//! certificate hostPath volumes beyond the pki directory (the simulated
//! components do not read them).

use crate::kubelet::KUBELET_VERSION;

/// The etcd image kubeadm pins for this Kubernetes version
/// (`constants.SupportedEtcdVersion`).
pub const ETCD_IMAGE: &str = "registry.k8s.io/etcd:3.6.4-0";

/// kubeadm's image for a control-plane component.
pub fn component_image(component: &str) -> String {
    format!("registry.k8s.io/{component}:{KUBELET_VERSION}")
}

/// Every image a control-plane node's manifests use (`kubeadm config images
/// pull` fetches them during `kubeadm init`'s preflight).
pub fn images() -> Vec<String> {
    vec![
        ETCD_IMAGE.to_string(),
        component_image("kube-apiserver"),
        component_image("kube-controller-manager"),
        component_image("kube-scheduler"),
    ]
}

fn probe(kind: &str, host: &str, path: &str, port: &str, scheme: &str, extra: &str) -> String {
    format!(
        "    {kind}:\n{extra}      httpGet:\n        host: {host}\n        path: {path}\n        port: {port}\n        scheme: {scheme}\n"
    )
}

fn liveness(host: &str, path: &str, port: &str, scheme: &str) -> String {
    probe(
        "livenessProbe",
        host,
        path,
        port,
        scheme,
        "      failureThreshold: 8\n      initialDelaySeconds: 10\n      periodSeconds: 10\n      timeoutSeconds: 15\n",
    )
}

fn startup(host: &str, path: &str, port: &str, scheme: &str) -> String {
    probe(
        "startupProbe",
        host,
        path,
        port,
        scheme,
        "      failureThreshold: 24\n      initialDelaySeconds: 10\n      periodSeconds: 10\n      timeoutSeconds: 15\n",
    )
}

fn readiness(host: &str, path: &str, port: &str, scheme: &str) -> String {
    probe(
        "readinessProbe",
        host,
        path,
        port,
        scheme,
        "      failureThreshold: 3\n      periodSeconds: 1\n      timeoutSeconds: 15\n",
    )
}

fn pod(
    name: &str,
    annotations: &str,
    command: &[String],
    image: &str,
    probes: &str,
    requests: &str,
    volumes: &[(&str, &str, &str)],
) -> String {
    let mut y = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n");
    if !annotations.is_empty() {
        y.push_str("  annotations:\n");
        y.push_str(annotations);
    }
    y.push_str(&format!(
        "  labels:\n    component: {name}\n    tier: control-plane\n  name: {name}\n  namespace: kube-system\nspec:\n  containers:\n  - command:\n"
    ));
    for c in command {
        y.push_str(&format!("    - {c}\n"));
    }
    y.push_str(&format!(
        "    image: {image}\n    imagePullPolicy: IfNotPresent\n{probes}    name: {name}\n    resources:\n      requests:\n{requests}"
    ));
    y.push_str("    volumeMounts:\n");
    for (vname, _, mount) in volumes {
        y.push_str(&format!(
            "    - mountPath: {mount}\n      name: {vname}\n      readOnly: true\n"
        ));
    }
    y.push_str("  hostNetwork: true\n  priority: 2000001000\n  priorityClassName: system-node-critical\n  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n  volumes:\n");
    for (vname, path, _) in volumes {
        y.push_str(&format!(
            "  - hostPath:\n      path: {path}\n      type: DirectoryOrCreate\n    name: {vname}\n"
        ));
    }
    y.push_str("status: {}\n");
    y
}

fn flags(binary: &str, flags: &[(&str, String)]) -> Vec<String> {
    std::iter::once(binary.to_string())
        .chain(flags.iter().map(|(k, v)| format!("--{k}={v}")))
        .collect()
}

/// The four manifests of a control-plane node, by file name.
pub fn control_plane_manifests(
    node: &str,
    ip: &str,
    peers: &[(String, String)],
) -> Vec<(String, String)> {
    let initial_cluster = peers
        .iter()
        .map(|(n, a)| format!("{n}=https://{a}:2380"))
        .collect::<Vec<_>>()
        .join(",");
    let etcd = pod(
        "etcd",
        &format!("    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://{ip}:2379\n"),
        &flags(
            "etcd",
            &[
                ("advertise-client-urls", format!("https://{ip}:2379")),
                ("cert-file", "/etc/kubernetes/pki/etcd/server.crt".into()),
                ("client-cert-auth", "true".into()),
                ("data-dir", "/var/lib/etcd".into()),
                ("initial-advertise-peer-urls", format!("https://{ip}:2380")),
                ("initial-cluster", initial_cluster),
                ("key-file", "/etc/kubernetes/pki/etcd/server.key".into()),
                (
                    "listen-client-urls",
                    format!("https://127.0.0.1:2379,https://{ip}:2379"),
                ),
                ("listen-metrics-urls", "http://127.0.0.1:2381".into()),
                ("listen-peer-urls", format!("https://{ip}:2380")),
                ("name", node.to_string()),
                ("peer-client-cert-auth", "true".into()),
                ("snapshot-count", "10000".into()),
                ("trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt".into()),
            ],
        ),
        ETCD_IMAGE,
        &(liveness("127.0.0.1", "/livez", "2381", "HTTP")
            + &readiness("127.0.0.1", "/readyz", "2381", "HTTP")
            + &startup("127.0.0.1", "/readyz", "2381", "HTTP")),
        "        cpu: 100m\n        memory: 100Mi\n",
        &[
            ("etcd-data", "/var/lib/etcd", "/var/lib/etcd"),
            (
                "etcd-certs",
                "/etc/kubernetes/pki/etcd",
                "/etc/kubernetes/pki/etcd",
            ),
        ],
    );
    let apiserver = pod(
        "kube-apiserver",
        &format!(
            "    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: {ip}:6443\n"
        ),
        &flags(
            "kube-apiserver",
            &[
                ("advertise-address", ip.to_string()),
                ("allow-privileged", "true".into()),
                ("authorization-mode", "Node,RBAC".into()),
                ("client-ca-file", "/etc/kubernetes/pki/ca.crt".into()),
                ("enable-admission-plugins", "NodeRestriction".into()),
                ("enable-bootstrap-token-auth", "true".into()),
                ("etcd-servers", "https://127.0.0.1:2379".into()),
                (
                    "kubelet-client-certificate",
                    "/etc/kubernetes/pki/apiserver-kubelet-client.crt".into(),
                ),
                (
                    "kubelet-client-key",
                    "/etc/kubernetes/pki/apiserver-kubelet-client.key".into(),
                ),
                (
                    "kubelet-preferred-address-types",
                    "InternalIP,ExternalIP,Hostname".into(),
                ),
                ("secure-port", "6443".into()),
                (
                    "service-account-issuer",
                    "https://kubernetes.default.svc.cluster.local".into(),
                ),
                ("service-cluster-ip-range", "10.96.0.0/12".into()),
                ("tls-cert-file", "/etc/kubernetes/pki/apiserver.crt".into()),
                (
                    "tls-private-key-file",
                    "/etc/kubernetes/pki/apiserver.key".into(),
                ),
            ],
        ),
        &component_image("kube-apiserver"),
        &(liveness(ip, "/livez", "6443", "HTTPS")
            + &readiness(ip, "/readyz", "6443", "HTTPS")
            + &startup(ip, "/livez", "6443", "HTTPS")),
        "        cpu: 250m\n",
        &[
            ("ca-certs", "/etc/ssl/certs", "/etc/ssl/certs"),
            ("k8s-certs", "/etc/kubernetes/pki", "/etc/kubernetes/pki"),
        ],
    );
    let controller_manager = pod(
        "kube-controller-manager",
        "",
        &flags(
            "kube-controller-manager",
            &[
                ("allocate-node-cidrs", "true".into()),
                (
                    "authentication-kubeconfig",
                    "/etc/kubernetes/controller-manager.conf".into(),
                ),
                (
                    "authorization-kubeconfig",
                    "/etc/kubernetes/controller-manager.conf".into(),
                ),
                ("bind-address", "127.0.0.1".into()),
                ("cluster-cidr", "10.244.0.0/16".into()),
                (
                    "cluster-signing-cert-file",
                    "/etc/kubernetes/pki/ca.crt".into(),
                ),
                (
                    "cluster-signing-key-file",
                    "/etc/kubernetes/pki/ca.key".into(),
                ),
                ("controllers", "*,bootstrapsigner,tokencleaner".into()),
                (
                    "kubeconfig",
                    "/etc/kubernetes/controller-manager.conf".into(),
                ),
                ("leader-elect", "true".into()),
                ("service-cluster-ip-range", "10.96.0.0/12".into()),
                ("use-service-account-credentials", "true".into()),
            ],
        ),
        &component_image("kube-controller-manager"),
        &(liveness("127.0.0.1", "/healthz", "10257", "HTTPS")
            + &startup("127.0.0.1", "/healthz", "10257", "HTTPS")),
        "        cpu: 200m\n",
        &[
            ("ca-certs", "/etc/ssl/certs", "/etc/ssl/certs"),
            ("k8s-certs", "/etc/kubernetes/pki", "/etc/kubernetes/pki"),
        ],
    );
    let scheduler = pod(
        "kube-scheduler",
        "",
        &flags(
            "kube-scheduler",
            &[
                (
                    "authentication-kubeconfig",
                    "/etc/kubernetes/scheduler.conf".into(),
                ),
                (
                    "authorization-kubeconfig",
                    "/etc/kubernetes/scheduler.conf".into(),
                ),
                ("bind-address", "127.0.0.1".into()),
                ("kubeconfig", "/etc/kubernetes/scheduler.conf".into()),
                ("leader-elect", "true".into()),
            ],
        ),
        &component_image("kube-scheduler"),
        &(liveness("127.0.0.1", "/livez", "10259", "HTTPS")
            + &readiness("127.0.0.1", "/readyz", "10259", "HTTPS")
            + &startup("127.0.0.1", "/livez", "10259", "HTTPS")),
        "        cpu: 100m\n",
        &[(
            "kubeconfig",
            "/etc/kubernetes/scheduler.conf",
            "/etc/kubernetes/scheduler.conf",
        )],
    );
    vec![
        ("etcd.yaml".into(), etcd),
        ("kube-apiserver.yaml".into(), apiserver),
        ("kube-controller-manager.yaml".into(), controller_manager),
        ("kube-scheduler.yaml".into(), scheduler),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadms_manifests_read_as_static_pods_named_after_the_node() {
        let peers = vec![("control-plane-1".to_string(), "10.0.0.11".to_string())];
        let files = control_plane_manifests("control-plane-1", "10.0.0.11", &peers);
        let mut names = Vec::new();
        for (file, content) in &files {
            let p = crate::kubelet::config::read_file(file, content, "control-plane-1")
                .unwrap_or_else(|e| panic!("{e}"));
            let spec = p.pod.spec.as_ref().unwrap();
            assert_eq!(spec.host_network, Some(true));
            assert_eq!(
                spec.priority_class_name.as_deref().map(String::as_str),
                Some("system-node-critical")
            );
            names.push(p.key);
        }
        assert_eq!(
            names,
            [
                "kube-system/etcd-control-plane-1",
                "kube-system/kube-apiserver-control-plane-1",
                "kube-system/kube-controller-manager-control-plane-1",
                "kube-system/kube-scheduler-control-plane-1"
            ]
        );
        assert!(files[1]
            .1
            .contains("image: registry.k8s.io/kube-apiserver:v1.34.0"));
    }

    #[test]
    fn every_manifest_image_is_in_the_catalog() {
        for image in images() {
            let r = crate::images::ImageRef::parse(&image).unwrap();
            assert!(crate::images::lookup(&r).is_some(), "{image}");
        }
    }
}
