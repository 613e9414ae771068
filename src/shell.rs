//! The console's link to the core's command language: one
//! `kubesim::shell::Session` (kubectl's context: the kubeadm admin's
//! credential and the current namespace) runs what the console sends.

use crate::components::console::Entry;
use kubesim::shell::{Completion, Session};
use kubesim::Cluster;

#[derive(Default)]
pub struct Shell {
    session: Session,
}

impl Shell {
    pub fn new() -> Shell {
        Shell::default()
    }

    /// The terminal a replayed run left behind (its current namespace).
    pub fn from_session(session: Session) -> Shell {
        Shell { session }
    }

    /// What a replayed run printed, as console entries.
    pub fn entries(outcomes: Vec<kubesim::shell::Outcome>) -> impl Iterator<Item = Entry> {
        outcomes.into_iter().map(|o| Entry {
            input: o.input,
            output: o.output.trim_end().to_string(),
            ok: o.ok,
        })
    }

    /// The terminal's state (a scrub checkpoint keeps a copy).
    pub fn session(&self) -> &kubesim::shell::Session {
        &self.session
    }

    /// Whether commands can run.
    pub fn available(&self) -> bool {
        true
    }

    /// The `kubectl get -w` holding a watch open, if any.
    pub fn watching(&self) -> Option<String> {
        self.session.watching().map(str::to_string)
    }

    /// The rows the open watch received since the last call.
    pub fn poll_watch(&mut self, cluster: &mut Cluster) -> Option<String> {
        self.session.poll_watch(cluster)
    }

    /// What Tab offers for the word before `caret` (a byte offset), in the
    /// session's namespace unless the line names another.
    pub fn complete(&self, cluster: &Cluster, text: &str, caret: usize) -> Completion {
        kubesim::shell::complete(cluster, &self.session.namespace, text, caret)
    }

    /// Runs a script (one command, or several lines), one entry per command.
    pub fn run(&mut self, cluster: &mut Cluster, script: &str) -> Vec<Entry> {
        Self::entries(self.session.run_script(cluster, script)).collect()
    }
}
