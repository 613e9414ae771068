//! Admission: the plugins kube-apiserver runs on every write after
//! authorization and before validation and storage
//! (`--enable-admission-plugins`, in upstream's order).
//!
//! Mutating, then validating:
//! - defaulting (`SetDefaults_*`, applied when a request is decoded);
//! - **NamespaceLifecycle** (`plugin/pkg/admission/namespace/lifecycle`):
//!   nothing is created in a namespace that does not exist or is being
//!   terminated, and the system namespaces cannot be deleted;
//! - **ServiceAccount** (`plugin/pkg/admission/serviceaccount`): a pod
//!   without `serviceAccountName` gets `default`, and unless automounting is
//!   turned off, the projected `kube-api-access-<suffix>` volume (a bound
//!   token, the cluster's root CA from `kube-root-ca.crt`, the namespace)
//!   mounted at `/var/run/secrets/kubernetes.io/serviceaccount`;
//! - **DefaultTolerationSeconds**: pods tolerate
//!   `node.kubernetes.io/not-ready` and `unreachable` (NoExecute) for 300 s
//!   unless they say otherwise;
//! - **NodeRestriction** runs inside the authorization stage's node checks.
//!
//!   The plugin also refuses a pod whose service account does not exist
//!   (`getServiceAccount`): it looks in its informer's cache, then asks
//!   again, ten times for `default` (which the serviceaccount controller
//!   should be creating) at one interval drawn between 100 and 200 ms, and
//!   fails with `error looking up service account <ns>/<name>: serviceaccount
//!   "<name>" not found`. Here the second looks read the API server's watch
//!   cache, which is what a direct read would see a moment later.
//!
//! Left out for now: LimitRanger, ResourceQuota, PodSecurity, Priority, and
//! webhooks.

use crate::api::{apply_defaults, ApiError, Object};
use crate::world::SimRng;
use k8s_openapi::api::core::v1 as core;

/// Namespaces that always exist and cannot be deleted.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// `DefaultTolerationSeconds`: 300 s.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// What a namespace looks like to the lifecycle plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamespaceState {
    Missing,
    Active,
    Terminating,
}

/// NamespaceLifecycle for a create of `kind` named `name` into `namespace`.
pub fn namespace_lifecycle(
    kind: &crate::api::Kind,
    name: &str,
    namespace: &str,
    state: NamespaceState,
) -> Result<(), ApiError> {
    match state {
        NamespaceState::Active => Ok(()),
        NamespaceState::Missing => Err(ApiError::not_found(
            crate::api::KindId::Namespace.info(),
            namespace,
        )),
        NamespaceState::Terminating => Err(ApiError::forbidden(
            &kind.group_resource(),
            name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            ),
        )),
    }
}

/// How often the ServiceAccount plugin looks for `default` before it
/// refuses a pod.
pub const DEFAULT_SERVICE_ACCOUNT_ATTEMPTS: u32 = 10;

/// The namespace and service account the ServiceAccount plugin checks for a
/// create, if any: every pod's but a mirror pod's.
pub fn service_account_to_check(object: &Object) -> Option<(String, String)> {
    let Object::Pod(pod) = object else {
        return None;
    };
    let mirror = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(super::auth::node::MIRROR_POD_ANNOTATION));
    if mirror {
        return None;
    }
    let sa = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    Some((pod.metadata.namespace.clone().unwrap_or_default(), sa))
}

/// The ServiceAccount plugin's refusal (`admission.NewForbidden` around
/// `getServiceAccount`'s NotFound), naming the pod as the request did
/// (its generateName when it has no name yet).
pub fn service_account_not_found(request_body: &Object, namespace: &str, sa: &str) -> ApiError {
    let name = match request_body.name() {
        "" => request_body
            .meta()
            .generate_name
            .clone()
            .unwrap_or_default(),
        n => n.to_string(),
    };
    ApiError::forbidden(
        "pods",
        &name,
        &format!(
            "error looking up service account {namespace}/{sa}: serviceaccount \"{sa}\" not found"
        ),
    )
}

/// Runs the mutating plugins on an object about to be created;
/// `sa_automount` is the pod's service account's
/// `automountServiceAccountToken`, if it sets it.
pub fn mutate_on_create(object: &mut Object, sa_automount: Option<bool>, rng: &mut SimRng) {
    apply_defaults(object);
    if let Object::Pod(pod) = object {
        // "Don't modify the spec of mirror pods": the kubelet would see a
        // mirror that no longer matches its static pod
        // (plugin/pkg/admission/serviceaccount/admission.go `Admit`).
        let mirror = pod
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(super::auth::node::MIRROR_POD_ANNOTATION));
        if let Some(spec) = pod.spec.as_mut().filter(|_| !mirror) {
            service_account(spec, sa_automount, rng);
            default_toleration_seconds(spec);
        }
    }
}

fn service_account(
    spec: &mut crate::api::pod::PodSpec,
    sa_automount: Option<bool>,
    rng: &mut SimRng,
) {
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        spec.service_account_name = Some("default".into());
    }
    // `shouldAutomount`: the pod's setting wins over its service account's.
    if !spec
        .automount_service_account_token
        .or(sa_automount)
        .unwrap_or(true)
    {
        return;
    }
    let mount_path = "/var/run/secrets/kubernetes.io/serviceaccount";
    let already = spec.containers.iter().any(|c| {
        c.volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == mount_path)
    });
    if already {
        return;
    }
    let name = format!("kube-api-access-{}", rng.k8s_suffix(5));
    let projected = core::ProjectedVolumeSource {
        default_mode: Some(0o644),
        sources: Some(vec![
            core::VolumeProjection {
                service_account_token: Some(core::ServiceAccountTokenProjection {
                    expiration_seconds: Some(3607),
                    path: "token".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            core::VolumeProjection {
                config_map: Some(core::ConfigMapProjection {
                    name: "kube-root-ca.crt".into(),
                    items: Some(vec![core::KeyToPath {
                        key: "ca.crt".into(),
                        path: "ca.crt".into(),
                        mode: None,
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            core::VolumeProjection {
                downward_api: Some(core::DownwardAPIProjection {
                    items: Some(vec![core::DownwardAPIVolumeFile {
                        path: "namespace".into(),
                        field_ref: Some(core::ObjectFieldSelector {
                            api_version: Some("v1".into()),
                            field_path: "metadata.namespace".into(),
                        }),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    spec.volumes
        .get_or_insert_with(Vec::new)
        .push(core::Volume {
            name: name.clone(),
            projected: Some(projected),
            ..Default::default()
        });
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        c.volume_mounts
            .get_or_insert_with(Vec::new)
            .push(core::VolumeMount {
                name: name.clone(),
                mount_path: mount_path.into(),
                read_only: Some(true),
                ..Default::default()
            });
    }
}

fn default_toleration_seconds(spec: &mut crate::api::pod::PodSpec) {
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = tolerations.iter().any(|t| {
            (t.key.as_deref() == Some(key)
                || t.key.is_none() && t.operator.as_deref() == Some("Exists"))
                && t.effect
                    .as_deref()
                    .is_none_or(|e| e.is_empty() || e == "NoExecute")
        });
        if !tolerated {
            tolerations.push(core::Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                value: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Object {
        Object::Pod(Box::new(crate::api::pod::Pod {
            metadata: Default::default(),
            spec: Some(crate::api::pod::PodSpec {
                containers: vec![crate::api::pod::Container {
                    name: "web".into(),
                    image: Some("nginx".into()),
                    ..Default::default()
                }]
                .into(),
                ..Default::default()
            }),
            status: None,
        }))
    }

    #[test]
    fn a_pod_gets_the_default_service_account_and_its_token_volume() {
        let mut p = pod();
        mutate_on_create(&mut p, None, &mut SimRng::new(1));
        let Object::Pod(p) = p else { unreachable!() };
        let spec = p.spec.unwrap();
        assert_eq!(spec.service_account_name.as_deref(), Some("default"));
        let vol = &spec.volumes.unwrap()[0];
        assert!(vol.name.starts_with("kube-api-access-"));
        let mounts = spec.containers[0].volume_mounts.clone().unwrap();
        assert_eq!(
            mounts[0].mount_path,
            "/var/run/secrets/kubernetes.io/serviceaccount"
        );
    }

    #[test]
    fn automount_false_leaves_the_token_out() {
        let mut p = pod();
        if let Object::Pod(p) = &mut p {
            p.spec.as_mut().unwrap().automount_service_account_token = Some(false);
        }
        mutate_on_create(&mut p, None, &mut SimRng::new(1));
        let Object::Pod(p) = p else { unreachable!() };
        assert!(p.spec.unwrap().volumes.is_none());
    }

    #[test]
    fn a_service_account_with_automount_false_leaves_the_token_out_unless_the_pod_asks() {
        let mut p = pod();
        mutate_on_create(&mut p, Some(false), &mut SimRng::new(1));
        let Object::Pod(plain) = p else {
            unreachable!()
        };
        assert!(plain.spec.unwrap().volumes.is_none());
        let mut p = pod();
        if let Object::Pod(p) = &mut p {
            p.spec.as_mut().unwrap().automount_service_account_token = Some(true);
        }
        mutate_on_create(&mut p, Some(false), &mut SimRng::new(1));
        let Object::Pod(asks) = p else { unreachable!() };
        let volumes = asks.spec.unwrap().volumes.unwrap();
        let sources = volumes[0]
            .projected
            .as_ref()
            .unwrap()
            .sources
            .as_ref()
            .unwrap();
        let token = sources[0].service_account_token.as_ref().unwrap();
        assert_eq!(
            (token.expiration_seconds, token.path.as_str()),
            (Some(3607), "token")
        );
        assert_eq!(
            sources[1].config_map.as_ref().unwrap().name,
            "kube-root-ca.crt"
        );
        assert_eq!(
            volumes[0].projected.as_ref().unwrap().default_mode,
            Some(420)
        );
    }

    #[test]
    fn pods_tolerate_not_ready_and_unreachable_for_five_minutes() {
        let mut p = pod();
        mutate_on_create(&mut p, None, &mut SimRng::new(1));
        let Object::Pod(p) = p else { unreachable!() };
        let t = p.spec.unwrap().tolerations.unwrap();
        assert_eq!(t.len(), 2);
        assert!(
            t.iter()
                .all(|t| t.toleration_seconds == Some(300)
                    && t.effect.as_deref() == Some("NoExecute"))
        );
    }

    #[test]
    fn creating_in_a_missing_or_terminating_namespace_is_refused() {
        let pods = crate::api::KindId::Pod.info();
        assert_eq!(
            namespace_lifecycle(pods, "p", "x", NamespaceState::Missing)
                .unwrap_err()
                .message,
            "namespaces \"x\" not found"
        );
        let err = namespace_lifecycle(pods, "p", "x", NamespaceState::Terminating).unwrap_err();
        assert_eq!(err.code(), 403);
        assert_eq!(
            err.message,
            "pods \"p\" is forbidden: unable to create new content in namespace x because it is being terminated"
        );
    }
}
