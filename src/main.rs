//! The kubesim page: a Yew app that holds a simulated cluster, advances its
//! virtual clock on animation frames and draws its snapshots.
//!
//! Components draw snapshots and send commands, nothing more: all behaviour
//! lives in the `kubesim` core.

mod app;
mod canvas;
mod components;
mod embed;
mod fetch;
mod frames;
mod layout;
mod manifest_lines;
mod markdown;
mod messages;
mod palette;
mod persist;
mod shell;
mod tour;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
