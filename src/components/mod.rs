//! One component per file: the diagram, the time controls, the message
//! filter, the console, the message log, the legend, the inspector, the timeline and
//! the lesson guide.

pub mod console;
pub mod controls;
pub mod diagram;
pub mod editor;
pub mod eventlog;
pub mod filter;
pub mod guide;
pub mod inspector;
pub mod legend;
pub mod timeline;
