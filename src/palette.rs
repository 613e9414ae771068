//! Colours and short glyphs for each kind of component.
//!
//! The colours are the Okabe-Ito palette, which stays distinguishable with
//! every common colour-vision deficiency; each kind also carries a short text
//! glyph, so nothing is told by colour alone.

use kubesim::ComponentKind;

/// (fill, stroke) for a component chip.
pub fn colors(kind: ComponentKind) -> (&'static str, &'static str) {
    match kind {
        ComponentKind::ApiLoadBalancer => ("#e7f1fa", "#0072b2"),
        ComponentKind::KubeApiserver => ("#dcebf7", "#0072b2"),
        ComponentKind::Etcd => ("#d9f0e8", "#009e73"),
        ComponentKind::KubeScheduler => ("#fbecd3", "#e69f00"),
        ComponentKind::KubeControllerManager => ("#f9e0d2", "#d55e00"),
        ComponentKind::CloudControllerManager => ("#f5e1ec", "#cc79a7"),
        ComponentKind::CoreDns => ("#e2f2fb", "#56b4e9"),
        ComponentKind::Kubelet => ("#e8eaf0", "#3d4a63"),
        ComponentKind::KubeProxy => ("#eef0f3", "#6b7689"),
        ComponentKind::Containerd => ("#fbf7d6", "#9a8a00"),
        ComponentKind::Runc => ("#f4f1dc", "#7a6f22"),
    }
}

/// A two-to-four letter glyph drawn in the chip's badge.
pub fn glyph(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::ApiLoadBalancer => "LB",
        ComponentKind::KubeApiserver => "API",
        ComponentKind::Etcd => "KV",
        ComponentKind::KubeScheduler => "SCH",
        ComponentKind::KubeControllerManager => "KCM",
        ComponentKind::CloudControllerManager => "CCM",
        ComponentKind::CoreDns => "DNS",
        ComponentKind::Kubelet => "KL",
        ComponentKind::KubeProxy => "KP",
        ComponentKind::Containerd => "CRI",
        ComponentKind::Runc => "OCI",
    }
}

/// A label short enough for a narrow chip.
pub fn short_label(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::KubeApiserver => "apiserver",
        ComponentKind::KubeScheduler => "scheduler",
        ComponentKind::KubeControllerManager => "controller-mgr",
        ComponentKind::CloudControllerManager => "cloud-ctrl-mgr",
        other => other.label(),
    }
}
