//! placeholder
pub mod authn;
pub mod authorizer;
pub mod bootstrap;
pub mod node;
pub mod rbac;
pub mod user;
