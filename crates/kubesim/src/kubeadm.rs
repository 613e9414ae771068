//! `kubeadm init`'s addon phase, run inside the world as a short-lived API
//! client.
//!
//! In Kubernetes, once `kubeadm init` has written the control plane's static
//! pod manifests and waited for the API server to answer
//! (`wait-control-plane`), its last phase installs the cluster's two
//! essential addons through the API. `kubeadm init phase addon coredns`
//! (`cmd/kubeadm/app/phases/addons/dns/dns.go` `EnsureDNSAddon`) creates the
//! `coredns` ServiceAccount, its Corefile ConfigMap, its ClusterRole and
//! binding, the `kube-dns` Service and the `coredns` Deployment. `kubeadm
//! init phase addon kube-proxy` (`cmd/kubeadm/app/phases/addons/proxy/proxy.go`
//! `EnsureProxyAddon`, manifests in `manifests.go`) creates the `kube-proxy`
//! ServiceAccount, the `kube-proxy` ConfigMap (`config.conf`: the
//! KubeProxyConfiguration; `kubeconfig.conf`: the service account's
//! kubeconfig for the control-plane endpoint), the `kube-proxy` DaemonSet
//! (one host-network pod per Linux node, tolerating every taint), and the
//! RBAC that lets kube-proxy read Services and EndpointSlices
//! (`kubeadm:node-proxier`) and joining nodes read the ConfigMap. kubeadm's
//! API calls retry until they succeed (`apiclient.CreateOrUpdate*`, every
//! 500 ms, `constants.APICallRetryInterval`); then the program exits.
//!
//! [`KubeadmInit`] is that phase as an [`Agent`]: it creates each object in
//! order through the API load balancer with the kubeadm admin's credential,
//! takes `AlreadyExists` as done (the object is there), retries anything else
//! after 500 ms, and reports [`KubeadmInit::finished`] once every object
//! exists; the cluster then removes the process, as the program exits. Being
//! part of the world, the addon phase happens at the same virtual instant in
//! every run of a seed, whether or not anyone waits for it. The objects go
//! through the same decoding, admission and validation as `kubectl apply`.
//!
//! Left out: `kubeadm-config` and `kubelet-config` uploads, and updating
//! objects that differ from kubeadm's (kubeadm's `CreateOrUpdate` would
//! overwrite them; here an existing object is left as it is). The addons'
//! RBAC (the `system:coredns` ClusterRole and binding, `kubeadm:node-proxier`
//! and the `kube-proxy` Role and RoleBinding) comes with the API server's
//! bootstrap policy (`apiserver/auth/bootstrap.rs` `kubeadm_policy`) instead
//! of through this phase. The KubeProxyConfiguration lists the fields that
//! matter here, not every defaulted one kubeadm prints.

use crate::api::{Object, Reason};
use crate::apiserver::auth::authn::{ClientCertificate, Credential};
use crate::apiserver::{ApiRequest, ApiResponse, Verb};
use crate::client::informer::{InformerConfig, Notification};
use crate::client::process::{Agent, Ctx, Tag};
use crate::world::{SimDuration, SimTime};

/// `constants.APICallRetryInterval`.
pub const API_CALL_RETRY_INTERVAL: SimDuration = SimDuration::from_millis(500);

/// The image tag of the cluster's Kubernetes components.
const KUBERNETES_VERSION: &str = crate::shell::exec::KUBERNETES_VERSION;

/// The kubeadm kube-proxy addon (`kubeadm init phase addon kube-proxy`):
/// its ServiceAccount, ConfigMap and DaemonSet, as
/// `cmd/kubeadm/app/phases/addons/proxy/manifests.go` (`KubeProxyConfigMap19`,
/// `KubeProxyDaemonSet19`) and `proxy.go` (`EnsureProxyAddon`) write them.
/// `control_plane_endpoint` is the API servers' address
/// (`https://<controlPlaneEndpoint>:6443`); `pod_network_cidr` becomes
/// `clusterCIDR` (kubeadm's `networking.podSubnet`). `mode` stays empty, as
/// kubeadm leaves it: kube-proxy then picks iptables on Linux.
pub fn kube_proxy_addon(control_plane_endpoint: &str, pod_network_cidr: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: kube-proxy
  namespace: kube-system
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-proxy
  namespace: kube-system
  labels:
    app: kube-proxy
data:
  kubeconfig.conf: |-
    apiVersion: v1
    kind: Config
    clusters:
    - cluster:
        certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
        server: {control_plane_endpoint}
      name: default
    contexts:
    - context:
        cluster: default
        namespace: default
        user: default
      name: default
    current-context: default
    users:
    - name: default
      user:
        tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
  config.conf: |-
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    bindAddress: 0.0.0.0
    clientConnection:
      kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
    clusterCIDR: {pod_network_cidr}
    configSyncPeriod: 0s
    healthzBindAddress: ""
    iptables:
      masqueradeAll: false
      minSyncPeriod: 0s
      syncPeriod: 0s
    kind: KubeProxyConfiguration
    metricsBindAddress: ""
    mode: ""
    nodePortAddresses: null
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  labels:
    k8s-app: kube-proxy
  name: kube-proxy
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: kube-proxy
  updateStrategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        k8s-app: kube-proxy
    spec:
      priorityClassName: system-node-critical
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:{KUBERNETES_VERSION}
        imagePullPolicy: IfNotPresent
        command:
        - /usr/local/bin/kube-proxy
        - --config=/var/lib/kube-proxy/config.conf
        - --hostname-override=$(NODE_NAME)
        securityContext:
          privileged: true
        volumeMounts:
        - mountPath: /var/lib/kube-proxy
          name: kube-proxy
        - mountPath: /run/xtables.lock
          name: xtables-lock
          readOnly: false
        - mountPath: /lib/modules
          name: lib-modules
          readOnly: true
        env:
          - name: NODE_NAME
            valueFrom:
              fieldRef:
                fieldPath: spec.nodeName
      hostNetwork: true
      serviceAccountName: kube-proxy
      volumes:
      - name: kube-proxy
        configMap:
          name: kube-proxy
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
      - name: lib-modules
        hostPath:
          path: /lib/modules
      tolerations:
      - operator: Exists
      nodeSelector:
        kubernetes.io/os: linux
"#
    )
}

/// The addon phase of `kubeadm init`: creates its objects one by one.
#[derive(Clone)]
pub struct KubeadmInit {
    objects: Vec<Object>,
    /// The index of the object being created.
    next: usize,
    in_flight: bool,
    retry_at: Option<SimTime>,
}

impl KubeadmInit {
    /// The phase for these objects, created in this order.
    pub fn new(objects: Vec<Object>) -> Self {
        KubeadmInit {
            objects,
            next: 0,
            in_flight: false,
            retry_at: None,
        }
    }

    /// Whether every object exists (the program has exited).
    pub fn finished(&self) -> bool {
        self.next >= self.objects.len()
    }

    fn send_next(&mut self, ctx: &mut Ctx<'_>) {
        self.retry_at = None;
        let Some(o) = self.objects.get(self.next) else {
            return;
        };
        let ns = o.namespace().unwrap_or("kube-system").to_string();
        let request = ApiRequest::new(Verb::Create, o.kind_id(), self.credential())
            .in_namespace(ns)
            .with_body(o.clone());
        self.in_flight = true;
        ctx.send(self.next as Tag, request);
    }
}

impl Agent for KubeadmInit {
    fn informers(&self) -> Vec<InformerConfig> {
        Vec::new()
    }

    fn credential(&self) -> Credential {
        Credential::ClientCertificate(ClientCertificate::kubeadm_admin(SimTime::ZERO))
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.send_next(ctx);
    }

    fn on_notification(&mut self, _ctx: &mut Ctx<'_>, _informer: usize, _n: &Notification) {}

    fn on_reply(&mut self, ctx: &mut Ctx<'_>, tag: Tag, response: ApiResponse) {
        if tag != self.next as Tag {
            return;
        }
        self.in_flight = false;
        let created = match &response {
            ApiResponse::Object(_) => true,
            ApiResponse::Error(e) => e.reason == Reason::AlreadyExists,
            _ => false,
        };
        if created {
            self.next += 1;
            self.send_next(ctx);
        } else {
            // Not there yet (no API server answering, kube-system not yet
            // created, quorum lost): try again.
            self.retry_at = Some(ctx.now + API_CALL_RETRY_INTERVAL);
        }
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>) {
        if !self.in_flight && self.retry_at.is_some_and(|t| t <= ctx.now) {
            self.send_next(ctx);
        }
    }

    fn next_wakeup(&self) -> Option<SimTime> {
        self.retry_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, KindId};
    use crate::client::process::{Output, Process};
    use crate::world::SimRng;

    fn namespace(name: &str) -> Object {
        let mut ns = k8s_openapi::api::core::v1::Namespace::default();
        ns.metadata.name = Some(name.to_string());
        Object::Namespace(Box::new(ns))
    }

    fn sent(out: &[Output]) -> Vec<(u64, String)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send { id, request } => Some((
                    *id,
                    request
                        .body
                        .as_ref()
                        .map(|b| b.name().to_string())
                        .unwrap_or_default(),
                )),
                Output::Cancel { .. } => None,
            })
            .collect()
    }

    #[test]
    fn objects_are_created_in_order_and_already_existing_ones_count_as_created() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(KubeadmInit::new(vec![namespace("a"), namespace("b")]))
            .expect("no informers");
        let t = SimTime::ZERO;
        let first = sent(&p.start(t, &mut rng));
        assert_eq!(first.len(), 1);
        let kind = KindId::Namespace.info();
        let out = p.on_reply(
            t,
            &mut rng,
            first[0].0,
            ApiResponse::Error(ApiError::already_exists(kind, "a")),
        );
        let second = sent(&out);
        assert_eq!(second.len(), 1, "the next object is sent at once");
        assert!(!p.agent().finished());
        let out = p.on_reply(
            t,
            &mut rng,
            second[0].0,
            ApiResponse::Object(std::rc::Rc::new(namespace("b"))),
        );
        assert!(sent(&out).is_empty());
        assert!(p.agent().finished());
        assert_eq!(p.next_wakeup(), None, "a finished phase never wakes");
    }

    #[test]
    fn a_failed_create_is_retried_after_half_a_second() {
        let mut rng = SimRng::new(1);
        let mut p = Process::new(KubeadmInit::new(vec![namespace("a")])).expect("no informers");
        let first = sent(&p.start(SimTime::ZERO, &mut rng));
        let out = p.on_reply(
            SimTime::ZERO,
            &mut rng,
            first[0].0,
            ApiResponse::Error(ApiError::service_unavailable("etcdserver: leader changed")),
        );
        assert!(sent(&out).is_empty());
        let retry = SimTime::ZERO + API_CALL_RETRY_INTERVAL;
        assert_eq!(p.next_wakeup(), Some(retry));
        assert_eq!(sent(&p.on_wake(retry, &mut rng)).len(), 1);
    }

    #[test]
    fn the_kube_proxy_addon_decodes_into_kubeadms_three_objects() {
        let text = kube_proxy_addon("https://api-load-balancer:6443", "10.244.0.0/16");
        let objects = crate::api::decode::decode(&text, "kube-proxy-addon").unwrap();
        let kinds: Vec<KindId> = objects.iter().map(Object::kind_id).collect();
        assert_eq!(
            kinds,
            vec![KindId::ServiceAccount, KindId::ConfigMap, KindId::DaemonSet]
        );
        assert!(objects.iter().all(|o| o.name() == "kube-proxy"));
        assert!(text.contains("    clusterCIDR: 10.244.0.0/16\n"));
        assert!(text.contains("        server: https://api-load-balancer:6443\n"));
        assert!(text.contains("image: registry.k8s.io/kube-proxy:v1.34.0\n"));
    }

    #[test]
    fn the_addon_phase_installs_coredns_and_kube_proxy_without_anyone_calling_the_api() {
        let mut c = crate::cluster::Cluster::new(crate::topology::Topology::default(), 7);
        let mut waited = 0;
        while !c.kubeadm_finished() && waited < 60 {
            c.advance(SimDuration::from_secs(1));
            waited += 1;
        }
        assert!(
            c.kubeadm_finished(),
            "the kubeadm process has exited within a minute"
        );
        let key = |kind, name| crate::apiserver::registry::key(kind, Some("kube-system"), name);
        assert!(c.observe(&key(KindId::Deployment, "coredns")).is_some());
        assert!(c.observe(&key(KindId::Service, "kube-dns")).is_some());
        // And kube-proxy, through the same admission and validation.
        assert!(c.observe(&key(KindId::DaemonSet, "kube-proxy")).is_some());
        assert!(c.observe(&key(KindId::ConfigMap, "kube-proxy")).is_some());
        assert!(c
            .observe(&key(KindId::ServiceAccount, "kube-proxy"))
            .is_some());
    }
}
