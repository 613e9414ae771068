//! One component per file: the diagram, the time controls and the legend.

pub mod controls;
pub mod diagram;
pub mod legend;
