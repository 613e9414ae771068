//! The projected volume plugin: what the kubelet writes into a pod's
//! `kube-api-access-<suffix>` volume.
//!
//! Ported from `pkg/volume/projected/projected.go` (`collectData`): each
//! source of a projected volume adds files. A `serviceAccountToken` source
//! is the pod's bound token from the [`super::token`] manager (requested
//! for the pod's service account, bound to the pod, for the source's
//! audience and `expirationSeconds`); a `configMap` source is the listed
//! keys of the ConfigMap (a missing ConfigMap or key fails the mount unless
//! the source is optional); a `downwardAPI` source is the pod's own fields.
//! The atomic writer then swaps the volume's `..data` link, so a container
//! sees all files change at once (here: [`crate::runtime::Containerd::write_volume`]).
//!
//! The volume manager mounts a pod's volumes before its sandbox starts
//! (`WaitForAttachAndMount`); a failed mount is retried with exponential
//! back-off from 500 ms to 2 min 2 s (`nestedpendingoperations`) and
//! reported as a `FailedMount` event.
//!
//! Left out: the other volume types (secret, configMap, emptyDir... volumes
//! are not mounted), `defaultMode` and file modes, the `..data` links
//! themselves, projected Secret and ClusterTrustBundle sources, resource
//! fields in downward API items, and watching the ConfigMap for changes
//! (it is read when the volume is mounted).

use crate::api::pod::Pod;
use std::collections::BTreeMap;

use crate::world::SimDuration;

/// `initialDurationBeforeRetry`.
pub const INITIAL_RETRY: SimDuration = SimDuration::from_millis(500);
/// `maxDurationBeforeRetry`: 2 min 2 s.
pub const MAX_RETRY: SimDuration = SimDuration::from_millis(122_000);

/// One source of a projected volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Token {
        audience: String,
        seconds: i64,
        path: String,
    },
    ConfigMap {
        name: String,
        /// (key, path); empty: every key at its own name.
        items: Vec<(String, String)>,
        optional: bool,
    },
    DownwardApi {
        /// (path, fieldPath).
        items: Vec<(String, String)>,
    },
}

/// A projected volume of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Projection {
    pub volume: String,
    pub sources: Vec<Source>,
}

/// The projected volumes of a pod.
pub fn projections(pod: &Pod) -> Vec<Projection> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            let projected = v.projected.as_ref()?;
            let sources = projected
                .sources
                .iter()
                .flatten()
                .filter_map(|s| {
                    if let Some(t) = &s.service_account_token {
                        return Some(Source::Token {
                            audience: t.audience.clone().unwrap_or_default(),
                            seconds: t.expiration_seconds.unwrap_or(3600),
                            path: t.path.clone(),
                        });
                    }
                    if let Some(cm) = &s.config_map {
                        return Some(Source::ConfigMap {
                            name: cm.name.clone(),
                            items: cm
                                .items
                                .iter()
                                .flatten()
                                .map(|i| (i.key.clone(), i.path.clone()))
                                .collect(),
                            optional: cm.optional == Some(true),
                        });
                    }
                    let d = s.downward_api.as_ref()?;
                    Some(Source::DownwardApi {
                        items: d
                            .items
                            .iter()
                            .flatten()
                            .filter_map(|i| {
                                Some((i.path.clone(), i.field_ref.as_ref()?.field_path.clone()))
                            })
                            .collect(),
                    })
                })
                .collect();
            Some(Projection {
                volume: v.name.clone(),
                sources,
            })
        })
        .collect()
}

/// A downward API field of the pod (`fieldpath.ExtractFieldPathAsString`).
fn field(pod: &Pod, path: &str) -> Option<String> {
    let m = &pod.metadata;
    let map = |x: &Option<BTreeMap<String, String>>| {
        x.iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Some(match path {
        "metadata.namespace" => m.namespace.clone().unwrap_or_default(),
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "metadata.labels" => map(&m.labels.as_ref().map(|l| l.to_map())),
        "metadata.annotations" => map(&m.annotations),
        "spec.serviceAccountName" => pod.spec.as_ref()?.service_account_name.clone()?,
        "spec.nodeName" => pod.spec.as_ref()?.node_name.clone()?,
        _ => return None,
    })
}

/// `collectData`: the volume's files, from the pod, its tokens (by source
/// index) and the ConfigMaps read (`None`: not found). The error is the
/// mount failure's message.
pub fn collect(
    projection: &Projection,
    pod: &Pod,
    token: &dyn Fn(&Source) -> Option<String>,
    configmaps: &BTreeMap<String, Option<BTreeMap<String, String>>>,
) -> Result<BTreeMap<String, String>, String> {
    let mut files = BTreeMap::new();
    for source in &projection.sources {
        match source {
            Source::Token { path, .. } => {
                let t = token(source).ok_or("failed to fetch token: not yet issued")?;
                files.insert(path.clone(), t);
            }
            Source::ConfigMap {
                name,
                items,
                optional,
            } => {
                let data = match configmaps.get(name) {
                    Some(Some(data)) => data,
                    Some(None) if *optional => continue,
                    _ => return Err(format!("configmap \"{name}\" not found")),
                };
                if items.is_empty() {
                    for (k, v) in data {
                        files.insert(k.clone(), v.clone());
                    }
                }
                for (key, path) in items {
                    match data.get(key) {
                        Some(v) => {
                            files.insert(path.clone(), v.clone());
                        }
                        None if *optional => {}
                        None => {
                            return Err(format!(
                                "configmap references non-existent config key: {key}"
                            ))
                        }
                    }
                }
            }
            Source::DownwardApi { items } => {
                for (path, field_path) in items {
                    let v = field(pod, field_path)
                        .ok_or_else(|| format!("unsupported fieldPath: {field_path}"))?;
                    files.insert(path.clone(), v);
                }
            }
        }
    }
    Ok(files)
}

/// A pod's projected volumes as the kubelet's volume manager tracks them.
#[derive(Clone, Debug)]
pub struct PodVolumes {
    pub projections: Vec<Projection>,
    /// ConfigMaps read for the sources, by name (`None`: not found).
    pub configmaps: BTreeMap<String, Option<BTreeMap<String, String>>>,
    /// Every volume is written.
    pub mounted: bool,
    /// The refresh times of the tokens the files were last written from.
    pub mounted_from: Vec<crate::world::SimTime>,
    /// A failed mount is retried then.
    pub retry_at: Option<crate::world::SimTime>,
    pub backoff: SimDuration,
    /// Written and up to date until then (the first of its tokens' refresh
    /// times; `SimTime::MAX` without tokens): until an answer for the pod
    /// comes, the volume manager's pass has nothing to look at before.
    pub settled_until: Option<crate::world::SimTime>,
}

impl PodVolumes {
    pub fn new(pod: &Pod) -> Self {
        PodVolumes {
            projections: projections(pod),
            configmaps: BTreeMap::new(),
            mounted: false,
            mounted_from: Vec::new(),
            retry_at: None,
            backoff: SimDuration::ZERO,
            settled_until: None,
        }
    }

    /// A failed mount: the next try waits twice as long as the last.
    pub fn failed(&mut self, now: crate::world::SimTime) {
        self.backoff = if self.backoff == SimDuration::ZERO {
            INITIAL_RETRY
        } else {
            SimDuration::from_millis((self.backoff.as_millis() * 2).min(MAX_RETRY.as_millis()))
        };
        self.retry_at = Some(now + self.backoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{Container, PodSpec};
    use crate::api::Object;
    use crate::world::SimRng;

    fn admitted_pod() -> Pod {
        let mut o = Object::Pod(Box::new(Pod {
            metadata: crate::api::pod::PodMeta {
                name: Some("client".into()),
                namespace: Some("team-a".into()),
                uid: Some("pod-uid".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    image: Some("nginx".into()),
                    ..Default::default()
                }]
                .into(),
                ..Default::default()
            }),
            status: None,
        }));
        crate::apiserver::admission::mutate_on_create(&mut o, None, &mut SimRng::new(1));
        let Object::Pod(p) = o else { unreachable!() };
        *p
    }

    #[test]
    fn the_api_access_volume_holds_the_token_the_root_ca_and_the_namespace() {
        let pod = admitted_pod();
        let ps = projections(&pod);
        assert_eq!(ps.len(), 1);
        assert!(ps[0].volume.starts_with("kube-api-access-"));
        let mut cms = BTreeMap::new();
        let tok = |s: &Source| match s {
            Source::Token { seconds: 3607, .. } => Some("jwt".to_string()),
            _ => None,
        };
        assert_eq!(
            collect(&ps[0], &pod, &tok, &cms),
            Err("configmap \"kube-root-ca.crt\" not found".to_string())
        );
        cms.insert(
            "kube-root-ca.crt".to_string(),
            Some(BTreeMap::from([("ca.crt".to_string(), "PEM".to_string())])),
        );
        let files = collect(&ps[0], &pod, &tok, &cms).unwrap();
        assert_eq!(
            files,
            BTreeMap::from([
                ("ca.crt".to_string(), "PEM".to_string()),
                ("namespace".to_string(), "team-a".to_string()),
                ("token".to_string(), "jwt".to_string()),
            ])
        );
    }

    #[test]
    fn a_failed_mount_backs_off_from_half_a_second_to_two_minutes() {
        let mut v = PodVolumes::new(&admitted_pod());
        let t = crate::world::SimTime(0);
        v.failed(t);
        assert_eq!(v.retry_at, Some(t + INITIAL_RETRY));
        for _ in 0..20 {
            v.failed(t);
        }
        assert_eq!(v.backoff, MAX_RETRY);
    }
}
