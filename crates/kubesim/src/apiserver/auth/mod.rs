//! placeholder
pub mod authorizer;
pub mod rbac;
pub mod user;
