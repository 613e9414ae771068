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
//! - [`decode`]: YAML/JSON text to objects, with kubectl's errors;
//! - [`status`] and [`field`]: API errors and field errors;
//! - [`validation`], [`defaults`], [`quantity`]: what kube-apiserver checks
//!   and fills in;
//! - [`print`]: `-o yaml|json|jsonpath|wide` and tables;
//! - [`time`]: virtual time as API timestamps.
//!
//! Left out: other API versions and conversion between them, custom
//! resources, server-side apply's field managers, protobuf.

pub mod decode;
pub mod defaults;
pub mod field;
pub mod object;
pub mod print;
pub mod quantity;
pub mod status;
pub mod time;
pub mod validation;

pub use decode::{decode, decode_each, DecodeError};
pub use defaults::apply_defaults;
pub use field::{BadValue, ErrorType, FieldError};
pub use object::{Kind, KindId, Object, KINDS};
pub use quantity::Quantity;
pub use status::{ApiError, Reason};
pub use validation::{check_create, check_update, validate_create, validate_update};
