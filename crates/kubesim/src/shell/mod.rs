//! The command language shared by the page's console and `kubesim shell`
//! (DESIGN.md §4): `kubectl ...` for the Kubernetes API, `sim ...` for what
//! only a simulator has (advancing time, waiting for a condition, faults).

pub mod cloud;
pub mod command;
pub mod complete;
pub mod exec;
pub mod lex;
pub mod pipe;

pub use command::{
    parse_line, parse_script, Command, Comparison, FaultKind, Flags, Host, Kubectl, ParseError,
    ScriptLine, Sim,
};
pub use complete::{complete, Completion};
pub use exec::patch::{edit_command, EDIT_HEADER};
pub use exec::{Outcome, Session};
