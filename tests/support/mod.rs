//! What the browser tests stand on: a static server for the built page and a
//! small WebDriver client for ChromeDriver.

pub mod server;
pub mod webdriver;

use std::path::PathBuf;

/// The built page (`trunk build --release`), as `cargo xtask test` makes it.
pub fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("KUBESIM_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dist"));
    assert!(
        dir.join("index.html").exists(),
        "no built page at {}: run `cargo xtask test`, which builds it first",
        dir.display()
    );
    dir
}

/// Where screenshots of the tests go (git-ignored).
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("browser-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir.join(format!("{name}.png"))
}
