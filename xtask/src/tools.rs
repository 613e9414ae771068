//! Installing the toolchain on a fresh machine, and only what is missing.

use super::{root, run, step, Result};
use std::path::PathBuf;
use std::process::Command;

pub const TRUNK_VERSION: &str = "0.21.14";
/// binaryen's wasm-opt from npm: the first that parses what rustc 1.95 emits.
pub const BINARYEN_VERSION: &str = "132";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where npm installs binaryen (git-ignored).
fn binaryen_dir() -> PathBuf {
    root().join(".tools").join("binaryen")
}

/// PATH with binaryen's `wasm-opt` and cargo's bin directory first.
pub fn path_with_tools() -> String {
    let mut parts = vec![binaryen_dir().join("node_modules").join(".bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        parts.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        parts.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    let mut path = std::env::join_paths(parts)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Ok(existing) = std::env::var("PATH") {
        path.push(':');
        path.push_str(&existing);
    }
    path
}

/// The first line a tool prints for `--version`, if it runs at all.
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .env("PATH", path_with_tools())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(text.lines().next().unwrap_or_default().trim().to_string())
}

/// The `wasm-bindgen` version Cargo.lock pins; the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    parse_locked_version(&lock, "wasm-bindgen")
        .ok_or_else(|| "Cargo.lock has no wasm-bindgen package".to_string())
}

fn parse_locked_version(lock: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}

/// The wasm32 target, Trunk, wasm-bindgen-cli and binaryen's wasm-opt.
pub fn ensure_web_toolchain() -> Result<()> {
    ensure_wasm_target()?;
    ensure_trunk()?;
    let wb = locked_wasm_bindgen_version()?;
    ensure_wasm_bindgen(&wb)?;
    ensure_binaryen()?;
    sync_trunk_toml(&wb)
}

fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if !installed {
        step("installing the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

fn ensure_trunk() -> Result<()> {
    let want = format!("trunk {TRUNK_VERSION}");
    if version_of("trunk", &["--version"]).as_deref() != Some(want.as_str()) {
        step(&format!(
            "installing Trunk {TRUNK_VERSION} (cargo install --locked; about 9 minutes on 2 cores)"
        ));
        run(super::cargo().args(["install", "--locked", "trunk", "--version", TRUNK_VERSION]))?;
    }
    Ok(())
}

fn ensure_wasm_bindgen(version: &str) -> Result<()> {
    let want = format!("wasm-bindgen {version}");
    if version_of("wasm-bindgen", &["--version"]).as_deref() != Some(want.as_str()) {
        step(&format!(
            "installing wasm-bindgen-cli {version} (the version Cargo.lock pins)"
        ));
        // Not --locked: one of its locked dependencies is gone from the registry.
        run(super::cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={version}"),
        ]))?;
    }
    Ok(())
}

fn ensure_binaryen() -> Result<()> {
    let wasm_opt = binaryen_dir()
        .join("node_modules")
        .join(".bin")
        .join("wasm-opt");
    let ok = version_of(wasm_opt.to_str().unwrap_or("wasm-opt"), &["--version"])
        .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")));
    if !ok {
        step(&format!(
            "installing binaryen {BINARYEN_VERSION} (wasm-opt) from npm into .tools/"
        ));
        std::fs::create_dir_all(binaryen_dir()).map_err(|e| e.to_string())?;
        run(Command::new("npm").args([
            "install",
            "--prefix",
            binaryen_dir().to_str().unwrap_or(".tools/binaryen"),
            "--no-audit",
            "--no-fund",
            "--no-save",
            &format!("binaryen@{BINARYEN_VERSION}"),
        ]))?;
    }
    Ok(())
}

/// Tells Trunk which tool versions to use (found on PATH, never downloaded).
fn sync_trunk_toml(wasm_bindgen: &str) -> Result<()> {
    let path = root().join("Trunk.toml");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read Trunk.toml: {e}"))?;
    let mut out = String::new();
    let mut changed = false;
    for line in text.lines() {
        if line.trim_start().starts_with("wasm_bindgen =") {
            let wanted = format!("wasm_bindgen = \"{wasm_bindgen}\"");
            changed |= line.trim() != wanted;
            out.push_str(&wanted);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    if changed {
        println!("Trunk.toml: wasm_bindgen set to {wasm_bindgen} (the Cargo.lock version)");
        std::fs::write(&path, out).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Debian's Chromium and ChromeDriver, for the browser tests.
pub fn ensure_chromium() -> Result<()> {
    if std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    step("installing Debian's chromium and chromium-driver");
    run(Command::new("apt-get").args(["update"]))?;
    run(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_version_is_read_from_the_package_entry() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"9.9.9\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.100\"\n";
        assert_eq!(
            parse_locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.100")
        );
        assert_eq!(parse_locked_version(lock, "yew"), None);
    }
}
