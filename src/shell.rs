//! The console's link to the core's command language.
//!
//! `kubesim::shell::Session` (kubectl's context: the admin credential and
//! the current namespace) is not on `main` yet; until it is, the console is
//! shown but disabled, and says so.

use crate::components::console::Entry;
use kubesim::Cluster;

pub struct Shell;

impl Shell {
    pub fn new() -> Shell {
        Shell
    }

    /// Whether commands can run.
    pub fn available(&self) -> bool {
        false
    }

    /// Runs a script (one command, or several lines), one entry per command.
    pub fn run(&mut self, _cluster: &mut Cluster, script: &str) -> Vec<Entry> {
        vec![Entry {
            input: script.to_string(),
            output: "error: the console is not connected to the simulation in this build".into(),
            ok: false,
        }]
    }
}
