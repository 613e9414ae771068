//! The kubelet's file pod source: static pods from `/etc/kubernetes/manifests`.
//!
//! In Kubernetes the kubelet runs pods from three sources: the API server
//! (pods bound to its node), a directory of manifests (`staticPodPath`,
//! `/etc/kubernetes/manifests` under kubeadm) and a URL. The file source
//! (`pkg/kubelet/config/file.go`, `extractFromDir`/`extractFromFile`) reads
//! every file of the directory that does not start with a dot, decodes one
//! Pod from each (`tryDecodeSinglePod` in `config/common.go`), validates it
//! and applies the file source's defaults (`applyDefaults`): the UID is a
//! hash of the pod, the node and the file, the name gets the node's name as
//! a suffix (`etcd` becomes `etcd-control-plane-1`), the namespace defaults
//! to `default`, `spec.nodeName` is the node, the pod tolerates every
//! NoExecute taint, and it carries `kubernetes.io/config.hash`,
//! `kubernetes.io/config.source: file` and `kubernetes.io/config.seen`.
//!
//! Here the directory is a [`ManifestDir`] held with the node (it outlives a
//! kubelet restart, as a disk does): a map from file name to content with a
//! version that changes on every write, which stands for inotify and the
//! 20 s `fileCheckFrequency` re-list (the kubelet notices a change at its
//! next wake-up). Left out: the URL source, YAML files holding several
//! documents (the kubelet rejects them too, as "not a pod"), symlinks and
//! sub-directories.

use crate::api::pod::Pod;
use crate::api::{KindId, Object};
use k8s_openapi::api::core::v1::Toleration;
use std::collections::BTreeMap;

/// kubeadm's `staticPodPath`.
pub const STATIC_POD_PATH: &str = "/etc/kubernetes/manifests";
/// `kubetypes.ConfigSourceAnnotationKey`.
pub const CONFIG_SOURCE_ANNOTATION: &str = "kubernetes.io/config.source";
/// `kubetypes.ConfigHashAnnotationKey`.
pub const CONFIG_HASH_ANNOTATION: &str = "kubernetes.io/config.hash";
/// `kubetypes.ConfigFirstSeenAnnotationKey`.
pub const CONFIG_SEEN_ANNOTATION: &str = "kubernetes.io/config.seen";
/// `kubetypes.ConfigMirrorAnnotationKey`.
pub const CONFIG_MIRROR_ANNOTATION: &str = crate::apiserver::auth::node::MIRROR_POD_ANNOTATION;

/// A node's manifest directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestDir {
    files: BTreeMap<String, String>,
    version: u64,
}

impl ManifestDir {
    pub fn new() -> Self {
        Self::default()
    }

    /// The files, by name, in name order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// Writes (or overwrites) a file.
    pub fn write(&mut self, name: &str, content: &str) {
        self.files.insert(name.to_string(), content.to_string());
        self.version += 1;
    }

    /// Removes a file; returns whether it was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let removed = self.files.remove(name).is_some();
        if removed {
            self.version += 1;
        }
        removed
    }

    /// Changes on every write or removal.
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// Whether a file name is valid in the directory (a plain name, no path).
pub fn valid_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." {
        return Err(format!("invalid file name {name:?}"));
    }
    if name.contains('/') || name.contains('\0') {
        return Err(format!(
            "invalid file name {name:?}: a file directly in {STATIC_POD_PATH} has no '/' in its name"
        ));
    }
    Ok(())
}

/// A pod read from a manifest file, with the file source's defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct StaticPod {
    /// The file's name in the directory.
    pub file: String,
    /// `namespace/name`.
    pub key: String,
    /// `kubernetes.io/config.hash`, also the pod's UID on the node.
    pub hash: String,
    pub pod: Pod,
}

/// The kubelet's reading of its manifest directory: pods, and the files it
/// could not use with the reason it logs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DirContents {
    pub pods: BTreeMap<String, StaticPod>,
    pub errors: BTreeMap<String, String>,
}

/// `extractFromDir`: every file not starting with a dot. Two files naming
/// the same pod: the first (in name order) wins, as the config merge keeps
/// the first pod of a name and reports a duplicate.
pub fn read_dir(dir: &ManifestDir, node: &str) -> DirContents {
    let mut out = DirContents::default();
    for (file, content) in dir.files() {
        if file.starts_with('.') {
            continue;
        }
        match read_file(file, content, node) {
            Ok(p) => {
                if out.pods.contains_key(&p.key) {
                    out.errors.insert(
                        file.to_string(),
                        format!(
                            "pod {:?} is already defined in another file; this one is ignored",
                            p.key
                        ),
                    );
                } else {
                    out.pods.insert(p.key.clone(), p);
                }
            }
            Err(e) => {
                out.errors.insert(file.to_string(), e);
            }
        }
    }
    out
}

/// `extractFromFile` + `tryDecodeSinglePod` + `applyDefaults`.
pub fn read_file(file: &str, content: &str, node: &str) -> Result<StaticPod, String> {
    let path = format!("{STATIC_POD_PATH}/{file}");
    let mut objects = crate::api::decode(content, &path)
        .map_err(|e| format!("{path}: couldn't parse as pod({e}), please check config file"))?;
    if objects.len() != 1 {
        return Err(format!(
            "{path}: couldn't parse as pod(the file holds {} objects, a static pod file holds one Pod), please check config file",
            objects.len()
        ));
    }
    let mut object = objects.remove(0);
    if object.kind_id() != KindId::Pod {
        return Err(format!(
            "{path}: couldn't parse as pod(Object 'Kind' is {:?}, not \"Pod\"), please check config file",
            object.kind().kind
        ));
    }
    crate::api::apply_defaults(&mut object);
    let Object::Pod(mut pod) = object else {
        return Err(format!(
            "{path}: couldn't parse as pod, please check config file"
        ));
    };
    if pod.metadata.name.as_deref().unwrap_or_default().is_empty() {
        return Err(format!(
            "{path}: invalid pod: metadata.name: Required value: name or generateName is required"
        ));
    }
    // `applyDefaults` (pkg/kubelet/config/common.go): the UID hashes the
    // pod, then the host and the file.
    let hash = {
        let body = serde_json::to_string(&pod).unwrap_or_default();
        hash_hex(&[body.as_str(), "host:", node, "file:", path.as_str()])
    };
    let name = format!(
        "{}-{}",
        pod.metadata.name.clone().unwrap_or_default(),
        node.to_lowercase()
    );
    pod.metadata.name = Some(name.clone());
    pod.metadata.uid = Some(hash.clone());
    if pod
        .metadata
        .namespace
        .as_deref()
        .unwrap_or_default()
        .is_empty()
    {
        pod.metadata.namespace = Some("default".into());
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.node_name = Some(node.to_string());
    // Static pods tolerate every NoExecute taint, so node problems never
    // evict them (`AddOrUpdateTolerationInPod`).
    let tolerate_all = Toleration {
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        ..Default::default()
    };
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    if !tolerations.contains(&tolerate_all) {
        tolerations.push(tolerate_all);
    }
    let annotations = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(CONFIG_HASH_ANNOTATION.into(), hash.clone());
    annotations.insert(CONFIG_SOURCE_ANNOTATION.into(), "file".into());
    pod.status = Some(Box::new(crate::api::pod::PodStatus {
        phase: Some("Pending".into()),
        ..Default::default()
    }));
    // `ValidatePodCreate` on the defaulted pod.
    crate::api::check_create(&Object::Pod(pod.clone()))
        .map_err(|e| format!("{path}: invalid pod: {}", e.message))?;
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    Ok(StaticPod {
        file: file.to_string(),
        key: format!("{ns}/{name}"),
        hash,
        pod: *pod,
    })
}

/// Whether a pod came from a file (`kubetypes.IsStaticPod`).
pub fn is_static(pod: &Pod) -> bool {
    annotation(pod, CONFIG_SOURCE_ANNOTATION) == Some("file")
}

/// Whether a pod is a mirror pod (`kubetypes.IsMirrorPod`).
pub fn is_mirror(pod: &Pod) -> bool {
    annotation(pod, CONFIG_MIRROR_ANNOTATION).is_some()
}

pub fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// 32 hex digits (the width of the md5 the kubelet uses) from two FNV-1a
/// passes: deterministic, and only an identity, not a security boundary.
fn hash_hex(parts: &[&str]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for p in parts {
        for byte in p.bytes() {
            a ^= byte as u64;
            a = a.wrapping_mul(0x0000_0100_0000_01b3);
            b ^= byte as u64;
            b = b.wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
        }
    }
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: web\n    image: nginx\n";

    #[test]
    fn a_static_pod_is_named_after_its_node_and_hashed() {
        let p = read_file("web.yaml", NGINX, "worker-1").unwrap();
        assert_eq!(p.key, "default/static-web-worker-1");
        assert_eq!(p.hash.len(), 32);
        assert_eq!(p.pod.metadata.uid.as_deref(), Some(p.hash.as_str()));
        assert_eq!(annotation(&p.pod, CONFIG_SOURCE_ANNOTATION), Some("file"));
        assert_eq!(
            annotation(&p.pod, CONFIG_HASH_ANNOTATION),
            Some(p.hash.as_str())
        );
        let spec = p.pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("worker-1"));
        assert!(spec
            .tolerations
            .iter()
            .flatten()
            .any(|t| t.operator.as_deref() == Some("Exists") && t.key.is_none()));
    }

    #[test]
    fn the_same_file_on_another_node_hashes_differently() {
        let a = read_file("web.yaml", NGINX, "worker-1").unwrap();
        let b = read_file("web.yaml", NGINX, "worker-2").unwrap();
        let again = read_file("web.yaml", NGINX, "worker-1").unwrap();
        assert_ne!(a.hash, b.hash);
        assert_eq!(a.hash, again.hash);
    }

    #[test]
    fn files_that_are_not_one_pod_are_reported_and_dot_files_ignored() {
        let mut dir = ManifestDir::new();
        dir.write("web.yaml", NGINX);
        dir.write(".web.yaml.swp", "garbage");
        dir.write(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        );
        dir.write("bad.yaml", "kind: [");
        let c = read_dir(&dir, "worker-1");
        assert_eq!(c.pods.len(), 1);
        assert!(
            c.errors["cm.yaml"].contains("not \"Pod\""),
            "{:?}",
            c.errors
        );
        assert!(c.errors["bad.yaml"].contains("couldn't parse as pod"));
        assert!(!c.errors.contains_key(".web.yaml.swp"));
    }

    #[test]
    fn a_file_name_is_a_plain_name() {
        assert!(valid_file_name("etcd.yaml").is_ok());
        assert!(valid_file_name("../etc/passwd").is_err());
        assert!(valid_file_name("").is_err());
    }
}
