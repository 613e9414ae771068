//! `kubesim shell`: the command language on a terminal; `kubesim scenario`:
//! a guided scenario played to the end.
//!
//! ```text
//! kubesim shell [--seed N] [--workers N] [--control-plane 1|3|5] [--konnectivity] [--echo] [FILE]
//! kubesim scenario FILE
//! ```
//!
//! Boots a simulated cluster, then reads commands (`kubectl ...`, `sim ...`)
//! from FILE or standard input, line by line, and prints what kubectl and the
//! simulator print. `kubectl apply -f -` (and `sim node manifest add <node>
//! -f -`) reads the manifest from the lines that follow, up to a line
//! `---end`. `--konnectivity` routes the API server's calls to kubelets
//! through a Konnectivity server and agents. The exit status is 1 if any
//! command failed.
//!
//! `kubesim scenario FILE` loads a scenario (see the README's "Guided
//! scenarios"), boots its cluster and plays every step: narration, the
//! commands and their output, each learner task's solution, and each check's
//! verdict. The exit status is 1 if a check failed or a command failed in a
//! step that did not expect it, 2 if the file is invalid.

use kubesim::scenario::{render_step, Player, Scenario};
use kubesim::shell::{parse_script, ParseError, Session};
use kubesim::{Cluster, SimDuration, Topology};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

const USAGE: &str =
    "usage: kubesim shell [--seed N] [--workers N] [--control-plane 1|3|5] [--konnectivity] [--echo] [FILE]
       kubesim scenario FILE";

struct Options {
    seed: u64,
    workers: usize,
    control_plane: usize,
    konnectivity: bool,
    echo: bool,
    file: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seed: 1,
        workers: 3,
        control_plane: 3,
        konnectivity: false,
        echo: false,
        file: None,
    };
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("shell") => {}
        Some("-h") | Some("--help") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}")),
    }
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
                .cloned()
        };
        match a.as_str() {
            "--seed" => {
                o.seed = value("--seed")?
                    .parse()
                    .map_err(|_| "--seed takes a non-negative integer".to_string())?
            }
            "--workers" => {
                o.workers = value("--workers")?
                    .parse()
                    .map_err(|_| "--workers takes a number".to_string())?
            }
            "--control-plane" => {
                o.control_plane = value("--control-plane")?
                    .parse()
                    .map_err(|_| "--control-plane takes 1, 3 or 5".to_string())?
            }
            "--konnectivity" => o.konnectivity = true,
            "--echo" => o.echo = true,
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with('-') && o.file.is_none() => o.file = Some(f.to_string()),
            other => return Err(format!("unknown option {other:?}\n{USAGE}")),
        }
    }
    Ok(o)
}

/// Whether `buffer` is a complete command (not a `-f -` still waiting for
/// its `---end`).
fn complete(buffer: &str) -> bool {
    !parse_script(buffer)
        .iter()
        .any(|l| l.command == Err(ParseError::UnterminatedManifest))
}

/// `kubesim scenario FILE`.
fn scenario(args: &[String]) -> ExitCode {
    let [file] = args else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match Scenario::from_yaml(file, &text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("# {}\n\n{}", scenario.title.trim(), scenario.summary.trim());
    println!(
        "\n(seed {}, {} control-plane node(s), {} worker(s))",
        scenario.seed, scenario.topology.control_plane, scenario.topology.workers
    );
    let mut player = match Player::new(scenario) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = 0;
    while let Some(report) = player.play_next(true) {
        print!("{}", render_step(player.scenario(), &report));
        if !report.passed() {
            failed += 1;
        }
    }
    let total = player.scenario().steps().len();
    if failed == 0 {
        println!("\nAll {total} steps passed at {}.", player.cluster().now());
        ExitCode::SUCCESS
    } else {
        println!("\n{failed} of {total} steps failed.");
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("scenario") {
        return scenario(&args[1..]);
    }
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let topology = match Topology::builder()
        .control_plane(opts.control_plane)
        .workers(opts.workers)
        .konnectivity(opts.konnectivity)
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let reader: Box<dyn BufRead> = match &opts.file {
        Some(path) => match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let interactive = opts.file.is_none() && std::io::stdin().is_terminal();
    let mut cluster = Cluster::new(topology, opts.seed);
    if !cluster.boot(SimDuration::from_secs(60)) {
        eprintln!("error: the control plane did not become ready within 60s of virtual time");
        return ExitCode::FAILURE;
    }
    if interactive {
        println!(
            "kubesim: a simulated cluster (seed {}) is ready at {}. Type `help` for the commands.",
            opts.seed,
            cluster.now()
        );
    }
    let mut session = Session::new();
    let mut buffer = String::new();
    let mut failed = false;
    let stdout = std::io::stdout();
    let prompt = |buffer: &str| {
        if interactive {
            print!("{}", if buffer.is_empty() { "$ " } else { "> " });
            let _ = std::io::stdout().flush();
        }
    };
    prompt(&buffer);
    for line in reader.lines() {
        let Ok(line) = line else { break };
        buffer.push_str(&line);
        buffer.push('\n');
        if !complete(&buffer) {
            prompt(&buffer);
            continue;
        }
        let mut out = stdout.lock();
        for outcome in session.run_script(&mut cluster, &buffer) {
            if opts.echo {
                let _ = writeln!(out, "$ {}", outcome.input.trim());
            }
            if !outcome.output.is_empty() {
                let _ = writeln!(out, "{}", outcome.output);
            }
            failed |= !outcome.ok;
        }
        drop(out);
        buffer.clear();
        prompt(&buffer);
    }
    if !buffer.trim().is_empty() {
        // Input ended inside a `-f -` manifest.
        for outcome in session.run_script(&mut cluster, &buffer) {
            println!("{}", outcome.output);
            failed |= !outcome.ok;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
