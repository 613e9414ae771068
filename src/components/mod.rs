//! One component per file: the diagram, the time controls, the message
//! filter, the console, the message log and the legend.

pub mod console;
pub mod controls;
pub mod diagram;
pub mod eventlog;
pub mod filter;
pub mod inspector;
pub mod legend;
pub mod timeline;
