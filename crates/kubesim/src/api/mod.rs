//! The object model at the API boundary: real Kubernetes YAML in, real
//! YAML out.
//!
//! In Kubernetes, apimachinery and kube-apiserver give every object a
//! versioned schema, decode and validate what clients send, default unset
//! fields, and answer failures with `Status` objects; kubectl prints what
//! comes back as YAML, JSON, tables or JSONPath. This module does the same
//! for the kinds the simulation serves ([`KINDS`]), using the `k8s-openapi`
//! schema of Kubernetes 1.37 so any manifest from the documentation applies
//! unchanged.
//!
//! - [`object`]: the kind registry and the [`Object`] enum;
//! - [`pod`]: the compact Pod the simulation holds;
//! - [`labels`]: labels as a sorted vector (a Pod's), and a view that
//!   reads a Pod's or another kind's alike;
//! - [`decode`]: YAML/JSON text to objects, with kubectl's errors;
//! - [`status`] and [`field`]: API errors and field errors;
//! - [`validation`], [`defaults`], [`quantity`]: what kube-apiserver checks
//!   and fills in;
//! - [`patch`]: strategic merge, JSON merge and JSON patches;
//! - [`print`]: `-o yaml|json|jsonpath|wide` and tables;
//! - [`time`]: virtual time as API timestamps.
//!
//! Left out: other API versions and conversion between them, custom
//! resources, server-side apply's field managers, protobuf.

pub mod decode;
pub mod defaults;
pub mod explain;
pub mod field;
pub mod labels;
pub mod object;
pub mod patch;
pub mod pod;
pub mod print;
pub mod quantity;
pub mod shared;
pub mod status;
pub mod time;
pub mod validation;

pub use decode::{decode, decode_each, DecodeError};
pub use defaults::apply_defaults;
pub use field::{BadValue, ErrorType, FieldError};
pub use object::{Kind, KindId, Object, KINDS};
pub use pod::Pod;
pub use quantity::Quantity;
pub use status::{ApiError, Reason};
pub use validation::{check_create, check_update, validate_create, validate_update};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimTime;

    #[test]
    fn a_docs_manifest_comes_back_out_as_kubectl_prints_it() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: my-service\nspec:\n  selector:\n    app.kubernetes.io/name: MyApp\n  ports:\n    - protocol: TCP\n      port: 80\n      targetPort: 9376\n";
        let mut objs = decode(text, "STDIN").unwrap_or_default();
        assert_eq!(objs.len(), 1);
        let obj = &mut objs[0];
        obj.meta_mut().namespace = Some("default".into());
        obj.meta_mut().creation_timestamp = Some(time::to_time(SimTime(1_000)));
        apply_defaults(obj);
        assert_eq!(check_create(obj), Ok(()));
        assert_eq!(
            print::to_yaml(&obj.to_value()),
            "apiVersion: v1\nkind: Service\nmetadata:\n  creationTimestamp: \"2026-01-01T00:00:01Z\"\n  name: my-service\n  namespace: default\nspec:\n  internalTrafficPolicy: Cluster\n  ipFamilies:\n  - IPv4\n  ipFamilyPolicy: SingleStack\n  ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 9376\n  selector:\n    app.kubernetes.io/name: MyApp\n  sessionAffinity: None\n  type: ClusterIP\n"
        );
        let json = print::to_json(&obj.to_value());
        assert!(json.starts_with("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Service\",\n"));
    }
}
