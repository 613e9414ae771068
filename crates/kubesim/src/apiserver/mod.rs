//! kube-apiserver: the hub every component talks to (DESIGN.md §1); so far its request-pipeline stage `auth` (authentication and authorization).
pub mod auth;
