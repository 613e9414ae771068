//! `cargo xtask serve|test|bench`: installs whatever is missing on a fresh
//! machine, then runs.
//!
//! - `serve`: builds the release page with Trunk and serves it on
//!   <http://127.0.0.1:8080>.
//! - `test`: `cargo fmt --check`, clippy with `-D warnings`, the native tests,
//!   the wasm release build and the browser tests in headless Chromium; it ends
//!   with one summary line (`N passed, N failed`) and exits non-zero on any
//!   failure.
//! - `bench [filter]`: the benchmarks of the core, run natively in release
//!   mode, each printing its measured number beside its budget: the world's
//!   event loop, the full write path, the scheduler (150,000 pods onto 5,000
//!   nodes, with its peak memory) and 1,000 nodes heartbeating for a virtual
//!   hour; then the page's (`page`, see `page_bench.rs`) in headless
//!   Chromium on the release build in `dist/` (built first if missing):
//!   compressed size, time to first diagram, and frame times with 100 nodes
//!   and 3,000 pods at 100x. A filter (`write-path`, `scheduler`,
//!   `heartbeat`, `page`, ...) runs only the benchmarks whose name contains
//!   it.
//!
//! Tools are installed only when missing (or at the wrong version): the
//! wasm32 target, Trunk 0.21.14, wasm-bindgen-cli at exactly the version in
//! Cargo.lock, binaryen 132's wasm-opt from npm (into the git-ignored
//! `.tools/`), and for `test` Debian's chromium and chromium-driver.

mod page_bench;
mod tools;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <serve [--port N] | test | bench [filter]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn step(title: &str) {
    println!("\n==> {title}");
}

/// Runs a command in the workspace root with the tools' PATH, failing on a
/// non-zero exit.
fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn serve(args: &[String]) -> Result<()> {
    let port = match args {
        [] => 8080,
        [flag, p] if flag == "--port" => p.parse().map_err(|_| format!("bad port {p:?}"))?,
        _ => return Err(USAGE.to_string()),
    };
    tools::ensure_web_toolchain()?;
    step("building the release page and serving it");
    println!("kubesim will be served at http://127.0.0.1:{port}/ (Ctrl-C stops it)");
    run(Command::new("trunk").args([
        "serve",
        "--release",
        "--address",
        "127.0.0.1",
        "--port",
        &port.to_string(),
    ]))
}

/// Pass and fail counts summed over every `cargo test` run.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Reads libtest's `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let words: Vec<&str> = part.split_whitespace().collect();
            let (Some(n), Some(what)) = (words.iter().rev().nth(1), words.last()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match *what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                _ => {}
            }
        }
    }
}

/// Runs `cargo test ...`, echoing its output and tallying its results.
fn cargo_test(tally: &mut Tally, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    let mut cmd = cargo();
    cmd.arg("test")
        .args(args)
        .current_dir(root())
        .env("PATH", tools::path_with_tools())
        .stdout(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn test() -> Result<()> {
    tools::ensure_web_toolchain()?;
    tools::ensure_chromium()?;
    let mut tally = Tally::default();
    let outcome = (|| {
        step("cargo fmt --check");
        run(cargo().args(["fmt", "--all", "--check"]))?;
        step("cargo clippy (workspace, all targets, -D warnings)");
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
        step("native tests");
        cargo_test(&mut tally, &["--workspace"], &[])?;
        step("wasm release build (trunk build --release)");
        run(Command::new("trunk").args(["build", "--release"]))?;
        step("browser tests in headless Chromium");
        let dist = root().join("dist");
        cargo_test(
            &mut tally,
            &["--test", "browser", "--", "--ignored", "--test-threads=1"],
            &[
                ("KUBESIM_DIST", dist.to_str().unwrap_or("dist")),
                ("CHROMEDRIVER", tools::CHROMEDRIVER),
            ],
        )
    })();
    println!();
    match &outcome {
        Ok(()) => println!("xtask test: every step passed"),
        Err(e) => println!("xtask test: {e}"),
    }
    // A failed step that is not a test (fmt, clippy, the build) counts as one
    // failure, so the closing line never reads as a pass when it was not.
    println!(
        "{} passed, {} failed",
        tally.passed,
        tally.failed + u64::from(outcome.is_err() && tally.failed == 0),
    );
    outcome
}

/// The benchmarks: each example of the core and the names of what it
/// measures (`cargo xtask bench <filter>` runs those whose name contains
/// the filter).
const BENCHES: &[(&str, &[&str])] = &[
    ("bench", &["event-loop", "write-path"]),
    ("bench_scheduler", &["scheduler"]),
    ("bench_heartbeat", &["heartbeat"]),
    ("bench_busy", &["busy"]),
];

/// The page's benchmark (run on the release build, in headless Chromium).
const PAGE_BENCH: &str = "page";

fn bench(args: &[String]) -> Result<()> {
    let filter = args.first().map(String::as_str);
    let chosen: Vec<&(&str, &[&str])> = BENCHES
        .iter()
        .filter(|(_, names)| filter.is_none_or(|f| names.iter().any(|n| n.contains(f))))
        .collect();
    let page = filter.is_none_or(|f| PAGE_BENCH.contains(f));
    if chosen.is_empty() && !page {
        let all: Vec<&str> = BENCHES
            .iter()
            .flat_map(|(_, n)| n.iter().copied())
            .chain([PAGE_BENCH])
            .collect();
        return Err(format!(
            "no benchmark matches {:?}; there are: {}",
            filter.unwrap_or(""),
            all.join(", ")
        ));
    }
    if !chosen.is_empty() {
        step("benchmarks of the core (native, opt-level 3)");
        let mut build = cargo();
        build.args(["build", "--profile", "bench-native", "-p", "kubesim"]);
        for (example, _) in &chosen {
            build.args(["--example", example]);
        }
        run(&mut build)?;
        for (example, _) in chosen {
            let mut cmd = cargo();
            cmd.args([
                "run",
                "--quiet",
                "--profile",
                "bench-native",
                "-p",
                "kubesim",
                "--example",
                example,
                "--",
            ])
            .args(filter);
            run(&mut cmd)?;
        }
    }
    if page {
        step("benchmark of the page (release build, headless Chromium)");
        let dist = std::env::var_os("KUBESIM_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("dist"));
        if !dist.join("index.html").exists() {
            tools::ensure_web_toolchain()?;
            run(Command::new("trunk").args(["build", "--release"]))?;
        }
        tools::ensure_chromium()?;
        page_bench::run(&dist)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_reads_libtest_summaries() {
        let mut t = Tally::default();
        t.add_line("test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        t.add_line(
            "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        t.add_line("running 4 tests");
        assert_eq!((t.passed, t.failed), (15, 1));
    }
}
