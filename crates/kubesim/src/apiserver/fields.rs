//! Field selectors: the fields each kind can be listed and watched by
//! (`--field-selector status.phase!=Running`).
//!
//! Upstream every registry says which fields it exposes
//! (`pkg/registry/core/pod/strategy.go` `ToSelectableFields`, and the same
//! function in the event, node, namespace, secret, service, replicaset, job
//! and certificate registries, each adding `metadata.name` and, for
//! namespaced kinds, `metadata.namespace` through
//! `generic.ObjectMetaFieldsSet`). A selector is a comma-separated list of
//! `field=value`, `field==value` or `field!=value` terms
//! (`fields.ParseSelector`); a field the kind does not expose is refused with
//! `field label not supported: <field>`.
//!
//! Left out: `status.podIPs` and the pod fields behind feature gates.

use crate::api::{KindId, Object};

/// One term of a field selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    pub field: String,
    /// `=`/`==` (true) or `!=` (false).
    pub equal: bool,
    pub value: String,
}

impl FieldTerm {
    /// Whether `object`'s field satisfies the term (an unset field is "").
    pub fn matches(&self, object: &Object) -> bool {
        let actual = field_value(object, &self.field).unwrap_or_default();
        (actual == self.value) == self.equal
    }
}

/// Parses `a=b,c!=d` (`fields.ParseSelector`).
pub fn parse(selector: &str) -> Result<Vec<FieldTerm>, String> {
    let mut terms = Vec::new();
    for part in selector.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
            (f, false, v)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, true, v)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, true, v)
        } else {
            return Err(format!(
                "invalid selector: '{selector}'; can't understand '{part}'"
            ));
        };
        terms.push(FieldTerm {
            field: field.trim().to_string(),
            equal,
            value: value.trim().to_string(),
        });
    }
    Ok(terms)
}

/// The fields `kind` exposes besides `metadata.name` and
/// `metadata.namespace`.
pub fn selectable_fields(kind: KindId) -> &'static [&'static str] {
    match kind {
        // `PodToSelectableFields`.
        KindId::Pod => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        // `event.ToSelectableFields`.
        KindId::Event => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        KindId::Node => &["spec.unschedulable"],
        KindId::Namespace => &["status.phase"],
        KindId::Secret => &["type"],
        KindId::Service => &["spec.clusterIP", "spec.type"],
        KindId::ReplicaSet => &["status.replicas"],
        KindId::Job => &["status.successful"],
        KindId::CertificateSigningRequest => &["spec.signerName"],
        _ => &[],
    }
}

/// Checks every term names a field of `kind`.
pub fn validate(kind: KindId, terms: &[FieldTerm]) -> Result<(), String> {
    for t in terms {
        let known = t.field == "metadata.name"
            || (t.field == "metadata.namespace" && kind.info().namespaced)
            || selectable_fields(kind).contains(&t.field.as_str());
        if !known {
            return Err(format!("field label not supported: {}", t.field));
        }
    }
    Ok(())
}

/// The value of a selectable field, as upstream renders it into the field
/// set (booleans and numbers as text, unset as "").
pub fn field_value(object: &Object, field: &str) -> Option<String> {
    let text = |s: Option<&str>| Some(s.unwrap_or_default().to_string());
    match field {
        "metadata.name" => return text(Some(object.name())),
        "metadata.namespace" => return text(object.namespace()),
        _ => {}
    }
    match object {
        Object::Pod(p) => {
            let spec = p.spec.as_ref();
            let status = p.status.as_ref();
            match field {
                "spec.nodeName" => text(spec.and_then(|s| s.node_name.as_deref())),
                "spec.restartPolicy" => text(spec.and_then(|s| s.restart_policy.as_deref())),
                "spec.schedulerName" => text(spec.and_then(|s| s.scheduler_name.as_deref())),
                "spec.serviceAccountName" => {
                    text(spec.and_then(|s| s.service_account_name.as_deref()))
                }
                "spec.hostNetwork" => Some(
                    spec.and_then(|s| s.host_network)
                        .unwrap_or(false)
                        .to_string(),
                ),
                "status.phase" => text(status.and_then(|s| s.phase.as_deref())),
                "status.podIP" => text(status.and_then(|s| s.pod_ip.as_deref())),
                "status.nominatedNodeName" => {
                    text(status.and_then(|s| s.nominated_node_name.as_deref()))
                }
                _ => None,
            }
        }
        Object::Event(e) => {
            let o = &e.involved_object;
            match field {
                "involvedObject.kind" => text(o.kind.as_deref()),
                "involvedObject.namespace" => text(o.namespace.as_deref()),
                "involvedObject.name" => text(o.name.as_deref()),
                "involvedObject.uid" => text(o.uid.as_deref()),
                "involvedObject.apiVersion" => text(o.api_version.as_deref()),
                "involvedObject.resourceVersion" => text(o.resource_version.as_deref()),
                "involvedObject.fieldPath" => text(o.field_path.as_deref()),
                "reason" => text(e.reason.as_deref()),
                "reportingComponent" => text(Some(e.reporting_component.as_deref().unwrap_or(""))),
                "source" => text(e.source.as_ref().and_then(|s| s.component.as_deref())),
                "type" => text(e.type_.as_deref()),
                _ => None,
            }
        }
        Object::Node(n) => match field {
            "spec.unschedulable" => Some(
                n.spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false)
                    .to_string(),
            ),
            _ => None,
        },
        Object::Namespace(n) => match field {
            "status.phase" => text(n.status.as_ref().and_then(|s| s.phase.as_deref())),
            _ => None,
        },
        Object::Secret(s) => match field {
            "type" => text(s.type_.as_deref()),
            _ => None,
        },
        Object::Service(s) => {
            let spec = s.spec.as_ref();
            match field {
                "spec.clusterIP" => text(spec.and_then(|s| s.cluster_ip.as_deref())),
                "spec.type" => text(spec.and_then(|s| s.type_.as_deref())),
                _ => None,
            }
        }
        Object::ReplicaSet(r) => match field {
            "status.replicas" => Some(r.status.as_ref().map_or(0, |s| s.replicas).to_string()),
            _ => None,
        },
        Object::Job(j) => match field {
            "status.successful" => Some(
                j.status
                    .as_ref()
                    .and_then(|s| s.succeeded)
                    .unwrap_or(0)
                    .to_string(),
            ),
            _ => None,
        },
        Object::CertificateSigningRequest(c) => match field {
            "spec.signerName" => text(Some(&c.spec.signer_name)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pod::{Pod, PodStatus};

    fn pod(phase: &str) -> Object {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.status = Some(Box::new(PodStatus {
            phase: Some(phase.into()),
            ..Default::default()
        }));
        Object::Pod(Box::new(p))
    }

    #[test]
    fn equal_double_equal_and_not_equal_terms_parse() {
        let terms = parse("status.phase!=Running,metadata.name==web,spec.nodeName=a").unwrap();
        assert_eq!(
            terms
                .iter()
                .map(|t| (t.field.as_str(), t.equal, t.value.as_str()))
                .collect::<Vec<_>>(),
            [
                ("status.phase", false, "Running"),
                ("metadata.name", true, "web"),
                ("spec.nodeName", true, "a")
            ]
        );
    }

    #[test]
    fn a_term_without_an_operator_is_refused() {
        assert!(parse("status.phase").is_err());
    }

    #[test]
    fn a_pending_pod_matches_phase_not_running() {
        let terms = parse("status.phase!=Running").unwrap();
        assert!(terms[0].matches(&pod("Pending")));
        assert!(!terms[0].matches(&pod("Running")));
    }

    #[test]
    fn a_field_the_kind_does_not_expose_is_not_supported() {
        let terms = parse("spec.replicas=3").unwrap();
        assert_eq!(
            validate(KindId::Deployment, &terms),
            Err("field label not supported: spec.replicas".to_string())
        );
        assert!(validate(KindId::Pod, &parse("status.phase=Failed").unwrap()).is_ok());
        assert!(validate(KindId::Event, &parse("involvedObject.kind=Pod").unwrap()).is_ok());
    }

    #[test]
    fn an_unset_boolean_field_reads_false() {
        assert_eq!(
            field_value(&pod("Running"), "spec.hostNetwork").as_deref(),
            Some("false")
        );
    }
}
