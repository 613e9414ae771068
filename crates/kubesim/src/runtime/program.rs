//! What a container's process does: its argv, compiled against the image
//! into a list of steps (print, sleep, write a file, serve ports, exit...).
//!
//! A small shell understands what pod specs in the docs pass to `sh -c`:
//! `;`, `&&`, `||`, newlines, `while true; do ...; done`, `until`, `for x in
//! ...`, `if ...; then ...; else ...; fi`, `> file` / `>> file`, `$VAR`,
//! `$(hostname)`, `$(date)` and `$(cat FILE)` (the file as the command
//! starts). Arithmetic, pipes (the left side's output is
//! dropped), functions, globbing and most flags are left out.

use super::ClusterRequest;
use crate::images::{Behaviour, ImageInfo, ImageKind};
use crate::world::{SimDuration, SimTime};
use std::collections::BTreeMap;

/// Which stream a line went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A listening socket and the application behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub port: u16,
    pub app: App,
    /// How long after the step runs the socket opens (slow starts).
    pub open_after: SimDuration,
}

/// An application answering on a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum App {
    Http(HttpApp),
    /// A TCP server that is not HTTP (redis).
    Tcp(&'static str),
    /// gRPC with the standard health service (answers SERVING).
    Grpc,
}

/// HTTP servers the images run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpApp {
    Nginx(String),
    Httpd,
    Netexec,
    ServeHostname,
    /// agnhost liveness: `/healthz` 200 for 10 s after start, then 500.
    Liveness,
    TestWebserver,
    HelloApp(&'static str),
    /// A health endpoint answering `ok` (control-plane components).
    Health,
    /// kubesim images; `unready` answers 503 except on `/healthz`.
    Kubesim {
        unready: bool,
    },
}

/// One step of a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Print(Stream, String),
    Sleep(SimDuration),
    Status(i32),
    /// Exit with this code, or the last status.
    Exit(Option<i32>),
    Write {
        path: String,
        text: String,
        append: bool,
    },
    Remove {
        paths: Vec<String>,
        force: bool,
    },
    Cat(Vec<String>),
    Ls(String),
    /// Open the listeners, then run until stopped.
    Serve(Vec<Listener>),
    /// Open the listeners and go on.
    Open(Vec<Listener>),
    /// Allocate this many bytes over this long (then hold them).
    Allocate {
        bytes: u64,
        over: SimDuration,
    },
    /// Grow memory at this many bytes per second, forever.
    Leak(u64),
    /// Block until stopped.
    Forever,
    Loop(Vec<Step>),
    While {
        cond: Vec<Step>,
        body: Vec<Step>,
        until: bool,
    },
    WhileCheck {
        cond: Vec<Step>,
        body: Vec<Step>,
        until: bool,
    },
    Branch {
        ok: Vec<Step>,
        fail: Vec<Step>,
    },
    LocalHttp {
        port: u16,
        path: String,
        quiet: bool,
    },
    RedisPing,
    Cluster(ClusterRequest),
}

/// A compiled main process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Program {
    pub steps: Vec<Step>,
    /// Exit code on SIGTERM (after a short shutdown); `None`: ignored, as a
    /// shell or `sleep` running as PID 1 ignores it.
    pub on_sigterm: Option<i32>,
}

/// What compiling a command needs to know.
pub(crate) struct Ctx<'a> {
    pub image: &'a ImageInfo,
    pub hostname: &'a str,
    pub env: &'a [(String, String)],
    /// The container's files when the command starts (`$(cat FILE)`).
    pub files: &'a BTreeMap<String, String>,
}

/// Marker replaced by the time when a line is printed.
pub(crate) const DATE_MARK: &str = "\u{1}DATE\u{1}";

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// runc's message for a binary that is not in the image.
pub(crate) fn not_found_message(argv0: &str) -> String {
    if argv0.contains('/') {
        format!("exec: \"{argv0}\": stat {argv0}: no such file or directory")
    } else {
        format!("exec: \"{argv0}\": executable file not found in $PATH")
    }
}

pub(crate) fn has_binary(image: &ImageInfo, argv0: &str) -> bool {
    let b = basename(argv0);
    !b.is_empty() && image.binaries.contains(&b)
}

/// Compiles the main process (`runc create` fails with the message on `Err`).
pub(crate) fn compile_main(argv: &[String], ctx: &Ctx) -> Result<Program, String> {
    let mut argv = argv;
    if argv.is_empty() {
        return Err("no command specified".to_string());
    }
    // Entrypoint wrappers exec their arguments.
    while argv
        .first()
        .is_some_and(|a| basename(a) == "docker-entrypoint.sh")
        && has_binary(ctx.image, &argv[0])
    {
        argv = &argv[1..];
        if argv.is_empty() {
            return Ok(Program {
                steps: vec![Step::Exit(Some(0))],
                on_sigterm: Some(0),
            });
        }
    }
    if !has_binary(ctx.image, &argv[0]) {
        return Err(not_found_message(&argv[0]));
    }
    let on_sigterm = match basename(&argv[0]) {
        "nginx"
        | "httpd"
        | "httpd-foreground"
        | "redis-server"
        | "pause"
        | "kubesim"
        | "coredns"
        | "kube-apiserver"
        | "kube-controller-manager"
        | "kube-scheduler"
        | "kube-proxy"
        | "etcd"
        | "proxy-server"
        | "proxy-agent" => Some(0),
        // Go binaries without a SIGTERM handler: as PID 1 the signal's
        // default action is ignored and the runtime falls back to exit(2).
        "agnhost" | "hello-app" => Some(2),
        _ => None,
    };
    let mut steps = Vec::new();
    compile_command(argv, ctx, &BTreeMap::new(), &mut steps, false);
    steps.push(Step::Exit(None));
    Ok(Program { steps, on_sigterm })
}

/// Compiles a command run by `exec` (the binary was checked by the caller).
pub(crate) fn compile_exec(argv: &[String], ctx: &Ctx) -> Vec<Step> {
    let mut steps = Vec::new();
    compile_command(argv, ctx, &BTreeMap::new(), &mut steps, false);
    steps.push(Step::Exit(None));
    steps
}

fn parse_sleep(arg: &str) -> Option<SimDuration> {
    let (num, mult) = match arg.chars().last()? {
        's' => (&arg[..arg.len() - 1], 1000.0),
        'm' => (&arg[..arg.len() - 1], 60_000.0),
        'h' => (&arg[..arg.len() - 1], 3_600_000.0),
        'd' => (&arg[..arg.len() - 1], 86_400_000.0),
        _ => (arg, 1000.0),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let ms = v * mult;
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    Some(SimDuration::from_millis(ms.min(1e15) as u64))
}

fn flag_value(args: &[String], name: &str) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            return Some(v.to_string());
        }
        if a == name {
            return it.next().cloned();
        }
    }
    None
}

fn http(port: u16, app: HttpApp) -> Listener {
    Listener {
        port,
        app: App::Http(app),
        open_after: SimDuration::ZERO,
    }
}

/// Compiles one command (argv already expanded) into steps.
fn compile_command(
    argv: &[String],
    ctx: &Ctx,
    vars: &BTreeMap<String, String>,
    out: &mut Vec<Step>,
    in_shell: bool,
) {
    let Some(argv0) = argv.first() else {
        return;
    };
    let args = &argv[1..];
    let name = basename(argv0);
    let builtin = in_shell
        && matches!(
            name,
            "echo"
                | "exit"
                | "true"
                | "false"
                | ":"
                | "cd"
                | "export"
                | "set"
                | "trap"
                | "printf"
                | "test"
                | "["
        );
    if !builtin && !has_binary(ctx.image, argv0) {
        out.push(Step::Print(
            Stream::Stderr,
            format!("sh: {argv0}: not found"),
        ));
        out.push(Step::Status(127));
        return;
    }
    let print = |out: &mut Vec<Step>, s: String| out.push(Step::Print(Stream::Stdout, s));
    match name {
        "echo" => {
            let words: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-ne" | "-en"))
                .collect();
            let text = words.join(" ").replace("\\n", "\n");
            for line in text.split('\n') {
                print(out, line.to_string());
            }
            out.push(Step::Status(0));
        }
        "printf" => {
            let text = args
                .first()
                .cloned()
                .unwrap_or_default()
                .replace("\\n", "\n");
            let text = text.replacen("%s", args.get(1).map(String::as_str).unwrap_or(""), 1);
            let text = text.strip_suffix('\n').unwrap_or(&text).to_string();
            for line in text.split('\n') {
                print(out, line.to_string());
            }
            out.push(Step::Status(0));
        }
        "sleep" => match args.first().map(String::as_str) {
            Some("infinity" | "inf") => out.push(Step::Forever),
            Some(a) => match parse_sleep(a) {
                Some(d) => {
                    out.push(Step::Sleep(d));
                    out.push(Step::Status(0));
                }
                None => {
                    out.push(Step::Print(
                        Stream::Stderr,
                        format!("sleep: invalid number '{a}'"),
                    ));
                    out.push(Step::Status(1));
                }
            },
            None => {
                out.push(Step::Print(Stream::Stderr, "sleep: missing operand".into()));
                out.push(Step::Status(1));
            }
        },
        "true" | ":" | "cd" | "export" | "set" | "trap" | "mkdir" | "test" | "[" => {
            out.push(Step::Status(0))
        }
        "false" => out.push(Step::Status(1)),
        "exit" => {
            let code = args
                .first()
                .and_then(|a| a.parse::<i64>().ok())
                .map(|c| c.rem_euclid(256) as i32);
            out.push(Step::Exit(code));
        }
        "sh" | "bash" | "ash" => {
            if args.first().map(String::as_str) == Some("-c") {
                let script = args.get(1).map(String::as_str).unwrap_or("");
                match parse_script(script) {
                    Ok(nodes) => compile_nodes(&nodes, ctx, vars, out),
                    Err(e) => {
                        out.push(Step::Print(Stream::Stderr, format!("sh: {e}")));
                        out.push(Step::Status(2));
                    }
                }
            } else if let Some(file) = args.first() {
                out.push(Step::Print(
                    Stream::Stderr,
                    format!("{name}: can't open '{file}': No such file or directory"),
                ));
                out.push(Step::Status(2));
            } else {
                // No script and no stdin: the shell reads EOF and exits 0.
                out.push(Step::Status(0));
            }
        }
        "cat" => {
            if args.is_empty() {
                out.push(Step::Status(0));
            } else {
                out.push(Step::Cat(args.to_vec()));
            }
        }
        "ls" => out.push(Step::Ls(
            args.iter()
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_else(|| "/".to_string()),
        )),
        "touch" => {
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                out.push(Step::Write {
                    path: a.clone(),
                    text: String::new(),
                    append: true,
                });
            }
            out.push(Step::Status(0));
        }
        "rm" => out.push(Step::Remove {
            paths: args
                .iter()
                .filter(|a| !a.starts_with('-'))
                .cloned()
                .collect(),
            force: args.iter().any(|a| a.starts_with('-') && a.contains('f')),
        }),
        "env" | "printenv" => {
            for (k, v) in ctx.env {
                print(out, format!("{k}={v}"));
            }
            out.push(Step::Status(0));
        }
        "hostname" => {
            print(out, ctx.hostname.to_string());
            out.push(Step::Status(0));
        }
        "date" => {
            print(out, DATE_MARK.to_string());
            out.push(Step::Status(0));
        }
        "pwd" => {
            print(out, "/".into());
            out.push(Step::Status(0));
        }
        "whoami" => {
            print(out, "root".into());
            out.push(Step::Status(0));
        }
        "id" => {
            print(out, "uid=0(root) gid=0(root) groups=0(root)".into());
            out.push(Step::Status(0));
        }
        "uname" => {
            print(out, "Linux".into());
            out.push(Step::Status(0));
        }
        "ps" => {
            print(out, "PID   USER     TIME  COMMAND".into());
            print(out, "    1 root      0:00 (main process)".into());
            out.push(Step::Status(0));
        }
        "nginx" => {
            if args.iter().any(|a| a == "-v" || a == "-V") {
                out.push(Step::Print(
                    Stream::Stderr,
                    format!("nginx version: nginx/{}", nginx_version(ctx)),
                ));
                out.push(Step::Status(0));
            } else if args.iter().any(|a| a == "-t") {
                out.push(Step::Print(
                    Stream::Stderr,
                    "nginx: configuration file /etc/nginx/nginx.conf test is successful".into(),
                ));
                out.push(Step::Status(0));
            } else {
                if nginx_version(ctx) != "1.14.2" && nginx_version(ctx) != "1.16.1" {
                    print(
                        out,
                        "/docker-entrypoint.sh: Configuration complete; ready for start up".into(),
                    );
                }
                out.push(Step::Serve(vec![http(
                    80,
                    HttpApp::Nginx(nginx_version(ctx).to_string()),
                )]));
            }
        }
        "httpd-foreground" | "httpd" | "apachectl" => {
            out.push(Step::Print(Stream::Stderr, format!("AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {}. Set the 'ServerName' directive globally to suppress this message", ctx.hostname)));
            out.push(Step::Print(
                Stream::Stderr,
                "[mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations".into(),
            ));
            out.push(Step::Serve(vec![http(80, HttpApp::Httpd)]));
        }
        "redis-server" => {
            print(out, "1:M * Server initialized".into());
            print(out, "1:M * Ready to accept connections tcp".into());
            out.push(Step::Serve(vec![Listener {
                port: 6379,
                app: App::Tcp("redis"),
                open_after: SimDuration::ZERO,
            }]));
        }
        "redis-cli" => out.push(Step::RedisPing),
        "perl" => compile_perl(args, out),
        "agnhost" => compile_agnhost(args, ctx, out),
        "pause" => out.push(Step::Forever),
        "stress" => {
            let bytes = flag_value(args, "--vm-bytes")
                .and_then(|v| parse_stress_bytes(&v))
                .unwrap_or(256 * 1024 * 1024);
            if args.iter().any(|a| a == "--vm") {
                out.push(Step::Print(
                    Stream::Stdout,
                    "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd".into(),
                ));
                out.push(Step::Allocate {
                    bytes,
                    over: SimDuration::from_millis(500),
                });
                match flag_value(args, "--timeout").and_then(|t| parse_sleep(&t)) {
                    Some(d) => {
                        out.push(Step::Sleep(d));
                        out.push(Step::Print(
                            Stream::Stdout,
                            "stress: info: [1] successful run completed".into(),
                        ));
                        out.push(Step::Status(0));
                    }
                    None => out.push(Step::Forever),
                }
            } else {
                print(
                    out,
                    "`stress' imposes certain types of compute stress on your system".into(),
                );
                out.push(Step::Status(1));
            }
        }
        "hello-app" => {
            print(out, "Server listening on port 8080".into());
            let v = if ctx.image.reference.tag_or_latest() == "2.0" {
                "2.0.0"
            } else {
                "1.0.0"
            };
            out.push(Step::Serve(vec![http(8080, HttpApp::HelloApp(v))]));
        }
        "kubesim" => compile_kubesim(ctx, out),
        "fluentd" | "entrypoint.sh" => {
            print(out, "starting fluentd-1.4.2 pid=1 ruby=\"2.5.5\"".into());
            out.push(Step::Forever);
        }
        "kube-apiserver" => out.push(Step::Serve(vec![http(6443, HttpApp::Health)])),
        "kube-controller-manager" => out.push(Step::Serve(vec![http(10257, HttpApp::Health)])),
        "kube-scheduler" => out.push(Step::Serve(vec![http(10259, HttpApp::Health)])),
        "kube-proxy" => out.push(Step::Serve(vec![http(10256, HttpApp::Health)])),
        // Konnectivity: the agents' port, the admin and health ports.
        "proxy-server" => out.push(Step::Serve(vec![
            Listener {
                port: crate::konnectivity::AGENT_PORT,
                app: App::Grpc,
                open_after: SimDuration::ZERO,
            },
            http(8133, HttpApp::Health),
            http(crate::konnectivity::HEALTH_PORT, HttpApp::Health),
        ])),
        // The agent's health and admin servers (`--health-server-port`,
        // default 8093; `--admin-server-port`, default 8094); its tunnels
        // are the cluster's to simulate (`cluster/tunnel.rs`). klog at the
        // default verbosity prints nothing while all goes well.
        "proxy-agent" => {
            let port = |flag: &str, default: u16| {
                flag_value(args, flag)
                    .and_then(|v| v.parse::<u16>().ok())
                    .unwrap_or(default)
            };
            let health = port("--health-server-port", 8093);
            let admin = port("--admin-server-port", 8094);
            let mut listeners = vec![http(health, HttpApp::Health)];
            if admin != health {
                listeners.push(http(admin, HttpApp::Health));
            }
            out.push(Step::Serve(listeners));
        }
        "etcd" => out.push(Step::Serve(vec![
            Listener {
                port: 2379,
                app: App::Grpc,
                open_after: SimDuration::ZERO,
            },
            http(2381, HttpApp::Health),
        ])),
        "coredns" => out.push(Step::Serve(vec![
            Listener {
                port: 53,
                app: App::Tcp("dns"),
                open_after: SimDuration::ZERO,
            },
            http(8080, HttpApp::Health),
            http(8181, HttpApp::Health),
        ])),
        "curl" | "wget" => {
            // The last operand that is not a flag's value.
            let takes_value = |a: &str| {
                matches!(
                    a,
                    "-H" | "--header"
                        | "--cacert"
                        | "-o"
                        | "--output"
                        | "-X"
                        | "--request"
                        | "-d"
                        | "--data"
                        | "-u"
                        | "--user"
                        | "-A"
                        | "--user-agent"
                        | "-m"
                        | "--max-time"
                        | "--connect-timeout"
                        | "-w"
                        | "--write-out"
                        | "-T"
                        | "--timeout"
                )
            };
            let mut url = String::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                // wget's `-O FILE` (curl's `-O` takes none).
                if takes_value(a) || (name == "wget" && a == "-O") {
                    it.next();
                } else if !a.starts_with('-') {
                    url = a.clone();
                }
            }
            let quiet = args
                .iter()
                .any(|a| a.starts_with('-') && (a.contains('s') || a.contains('q')));
            match local_url(&url) {
                Some((port, path)) => out.push(Step::LocalHttp { port, path, quiet }),
                None => out.push(Step::Cluster(ClusterRequest::Http {
                    url,
                    tool: name.to_string(),
                    args: args.to_vec(),
                    ca_file: None,
                })),
            }
        }
        "nslookup" | "dig" => {
            let host = args
                .iter()
                .find(|a| !a.starts_with('-') && !a.starts_with('+'))
                .cloned()
                .unwrap_or_default();
            out.push(Step::Cluster(ClusterRequest::Dns { name: host }));
        }
        "ping" => {
            let host = args
                .iter()
                .rev()
                .find(|a| !a.starts_with('-'))
                .cloned()
                .unwrap_or_default();
            out.push(Step::Cluster(ClusterRequest::Ping { host }));
        }
        _ => out.push(Step::Status(0)),
    }
}

fn nginx_version<'a>(ctx: &'a Ctx) -> &'a str {
    ctx.image
        .env
        .iter()
        .find(|(k, _)| k == "NGINX_VERSION")
        .map(|(_, v)| v.as_str())
        .unwrap_or("1.27.3")
}

/// `http://localhost:8080/path` -> (8080, "/path") for loopback URLs.
fn local_url(url: &str) -> Option<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 80),
    };
    matches!(host, "localhost" | "127.0.0.1").then_some((port, path))
}

fn parse_stress_bytes(v: &str) -> Option<u64> {
    let (num, mult) = match v.chars().last()? {
        'B' | 'b' => (&v[..v.len() - 1], 1u64),
        'K' | 'k' => (&v[..v.len() - 1], 1024),
        'M' | 'm' => (&v[..v.len() - 1], 1024 * 1024),
        'G' | 'g' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

fn compile_perl(args: &[String], out: &mut Vec<Step>) {
    if args.iter().any(|a| a == "-v") {
        out.push(Step::Print(
            Stream::Stdout,
            "This is perl 5, version 34, subversion 0 (v5.34.0)".into(),
        ));
        out.push(Step::Status(0));
        return;
    }
    let script = args.iter().rev().find(|a| !a.starts_with('-')).cloned();
    let Some(script) = script else {
        // `perl -de0` without a terminal: the debugger reads EOF and exits.
        out.push(Step::Status(0));
        return;
    };
    if let Some(i) = script.find("bpi(") {
        let digits: String = script[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let n = digits.parse::<usize>().unwrap_or(0).clamp(1, 5_000);
        // About 5 ms of CPU per digit: the docs' 2000 digits take ~10 s.
        out.push(Step::Sleep(SimDuration::from_millis(n as u64 * 5)));
        out.push(Step::Print(Stream::Stdout, pi(n)));
        out.push(Step::Status(0));
    } else if let Some(i) = script.find("print") {
        let text = script[i + 5..]
            .trim()
            .trim_end_matches(';')
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        out.push(Step::Print(Stream::Stdout, text));
        out.push(Step::Status(0));
    } else {
        out.push(Step::Status(0));
    }
}

fn compile_agnhost(args: &[String], ctx: &Ctx, out: &mut Vec<Step>) {
    let sub = args.first().map(String::as_str).unwrap_or("");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let port = |name: &str, default: u16| -> u16 {
        flag_value(rest, name)
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    };
    match sub {
        "netexec" => {
            let p = port("--http-port", 8080);
            out.push(Step::Print(
                Stream::Stderr,
                format!("Started HTTP server on port {p}"),
            ));
            out.push(Step::Serve(vec![http(p, HttpApp::Netexec)]));
        }
        "serve-hostname" => {
            let p = port("--port", 9376);
            out.push(Step::Print(Stream::Stderr, format!("Serving on port {p}.")));
            out.push(Step::Serve(vec![http(p, HttpApp::ServeHostname)]));
        }
        "liveness" => out.push(Step::Serve(vec![http(8080, HttpApp::Liveness)])),
        "test-webserver" => out.push(Step::Serve(vec![http(
            port("--port", 80),
            HttpApp::TestWebserver,
        )])),
        "grpc-health-checking" => out.push(Step::Serve(vec![
            Listener {
                port: port("--port", 5000),
                app: App::Grpc,
                open_after: SimDuration::ZERO,
            },
            http(port("--http-port", 8080), HttpApp::Health),
        ])),
        "pause" => {
            out.push(Step::Print(Stream::Stdout, "Paused".into()));
            out.push(Step::Forever);
        }
        "" => {
            out.push(Step::Print(
                Stream::Stdout,
                "Usage: agnhost [command]".into(),
            ));
            out.push(Step::Status(0));
        }
        other => {
            let _ = ctx;
            out.push(Step::Print(
                Stream::Stderr,
                format!("Error: unknown command \"{other}\" for \"agnhost\""),
            ));
            out.push(Step::Status(1));
        }
    }
}

fn compile_kubesim(ctx: &Ctx, out: &mut Vec<Step>) {
    let ImageKind::Kubesim(b) = &ctx.image.kind else {
        out.push(Step::Status(0));
        return;
    };
    let serve = |open_after: SimDuration, unready: bool| {
        Step::Serve(vec![Listener {
            port: 8080,
            app: App::Http(HttpApp::Kubesim { unready }),
            open_after,
        }])
    };
    match b {
        Behaviour::CrashAfter(d) => {
            out.push(Step::Print(Stream::Stdout, "serving on :8080".into()));
            out.push(Step::Open(vec![Listener {
                port: 8080,
                app: App::Http(HttpApp::Kubesim { unready: false }),
                open_after: SimDuration::ZERO,
            }]));
            out.push(Step::Sleep(*d));
            out.push(Step::Print(
                Stream::Stderr,
                format!("panic: crashing after {d} as configured"),
            ));
            out.push(Step::Exit(Some(1)));
        }
        Behaviour::Leak(rate) => {
            out.push(Step::Print(
                Stream::Stdout,
                format!("leaking {rate} bytes per second"),
            ));
            out.push(Step::Leak(*rate));
            out.push(serve(SimDuration::ZERO, false));
        }
        Behaviour::SlowStart(d) => {
            out.push(Step::Print(Stream::Stdout, format!("warming up for {d}")));
            out.push(serve(*d, false));
        }
        Behaviour::Unready => {
            out.push(Step::Print(
                Stream::Stdout,
                "serving on :8080 (never ready)".into(),
            ));
            out.push(serve(SimDuration::ZERO, true));
        }
        Behaviour::Exit(code) => {
            out.push(Step::Print(
                Stream::Stdout,
                format!("exiting with code {code}"),
            ));
            out.push(Step::Exit(Some(*code)));
        }
    }
}

// ---- the shell ----

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Lit(String),
    Var(String),
    Subst(String),
}

type Word = Vec<Part>;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(Word),
    Op(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Simple {
        words: Vec<Word>,
        redirect: Option<(Word, bool, bool)>,
    },
    AndOr(Box<Node>, bool, Box<Node>),
    Pipe(Box<Node>, Box<Node>),
    While(Vec<Node>, Vec<Node>, bool),
    For(String, Vec<Word>, Vec<Node>),
    If(Vec<Node>, Vec<Node>, Vec<Node>),
}

fn lit(w: &Word) -> Option<&str> {
    match w.as_slice() {
        [Part::Lit(s)] => Some(s),
        _ => None,
    }
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut word: Word = Vec::new();
    let mut in_word = false;
    let push_lit = |word: &mut Word, c: char| match word.last_mut() {
        Some(Part::Lit(s)) => s.push(c),
        _ => word.push(Part::Lit(c.to_string())),
    };
    macro_rules! end_word {
        () => {
            if in_word {
                toks.push(Tok::Word(std::mem::take(&mut word)));
                in_word = false;
            }
        };
    }
    let read_dollar = |i: &mut usize, word: &mut Word| -> Result<(), String> {
        // chars[*i] == '$'
        let next = chars.get(*i + 1).copied();
        match next {
            Some('(') => {
                let mut depth = 0;
                let start = *i + 2;
                let mut j = *i + 1;
                while j < chars.len() {
                    match chars[j] {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err("syntax error: unterminated $(".into());
                }
                word.push(Part::Subst(chars[start..j].iter().collect()));
                *i = j + 1;
            }
            Some('{') => {
                let end = chars[*i..]
                    .iter()
                    .position(|c| *c == '}')
                    .ok_or("syntax error: bad substitution")?;
                let name: String = chars[*i + 2..*i + end].iter().collect();
                let name = name.split(':').next().unwrap_or("").to_string();
                word.push(Part::Var(name));
                *i += end + 1;
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '?' => {
                let mut j = *i + 1;
                if c == '?' {
                    j += 1;
                } else {
                    while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                        j += 1;
                    }
                }
                word.push(Part::Var(chars[*i + 1..j].iter().collect()));
                *i = j;
            }
            _ => {
                match word.last_mut() {
                    Some(Part::Lit(s)) => s.push('$'),
                    _ => word.push(Part::Lit("$".into())),
                }
                *i += 1;
            }
        }
        Ok(())
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                end_word!();
                i += 1;
            }
            '\n' | ';' => {
                end_word!();
                if c == ';' && chars.get(i + 1) == Some(&';') {
                    return Err("syntax error: unexpected \";;\"".into());
                }
                toks.push(Tok::Op(";"));
                i += 1;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '&' | '|' => {
                end_word!();
                let double = chars.get(i + 1) == Some(&c);
                toks.push(Tok::Op(match (c, double) {
                    ('&', true) => "&&",
                    ('&', false) => ";",
                    ('|', true) => "||",
                    _ => "|",
                }));
                i += if double { 2 } else { 1 };
            }
            '>' => {
                // `2>` redirects stderr.
                let fd2 =
                    matches!(word.as_slice(), [Part::Lit(s)] if s == "2" || s == "1") && in_word;
                let is_err = fd2 && matches!(word.as_slice(), [Part::Lit(s)] if s == "2");
                if fd2 {
                    word.clear();
                    in_word = false;
                } else {
                    end_word!();
                }
                let append = chars.get(i + 1) == Some(&'>');
                toks.push(Tok::Op(match (append, is_err) {
                    (_, true) => "2>",
                    (true, false) => ">>",
                    (false, false) => ">",
                }));
                i += if append { 2 } else { 1 };
            }
            '<' | '(' | ')' => {
                end_word!();
                i += 1;
            }
            '\'' => {
                in_word = true;
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| *c == '\'')
                    .ok_or("syntax error: unterminated quoted string")?;
                let s: String = chars[i + 1..i + 1 + end].iter().collect();
                match word.last_mut() {
                    Some(Part::Lit(w)) => w.push_str(&s),
                    _ => word.push(Part::Lit(s)),
                }
                i += end + 2;
            }
            '"' => {
                in_word = true;
                if word.is_empty() {
                    word.push(Part::Lit(String::new()));
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("syntax error: unterminated quoted string".into()),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\' | '$')) => {
                            push_lit(&mut word, chars[i + 1]);
                            i += 2;
                        }
                        Some('$') => read_dollar(&mut i, &mut word)?,
                        Some(c) => {
                            push_lit(&mut word, *c);
                            i += 1;
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.get(i + 1) {
                    if *n != '\n' {
                        push_lit(&mut word, *n);
                    }
                }
                i += 2;
            }
            '$' => {
                in_word = true;
                read_dollar(&mut i, &mut word)?;
            }
            c => {
                in_word = true;
                push_lit(&mut word, c);
                i += 1;
            }
        }
    }
    if in_word {
        toks.push(Tok::Word(word));
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => lit(w),
            _ => None,
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.toks.get(self.pos), Some(Tok::Op(";"))) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, kw: &str) -> Result<(), String> {
        self.skip_separators();
        if self.peek_word() == Some(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("syntax error: expected \"{kw}\""))
        }
    }

    /// A list, ending at end of input or at one of the keywords.
    fn list(&mut self, stop: &[&str]) -> Result<Vec<Node>, String> {
        self.depth += 1;
        if self.depth > 32 {
            return Err("syntax error: nested too deep".into());
        }
        let mut nodes = Vec::new();
        loop {
            self.skip_separators();
            if self.pos >= self.toks.len() {
                break;
            }
            if let Some(w) = self.peek_word() {
                if stop.contains(&w) {
                    break;
                }
            }
            nodes.push(self.and_or(stop)?);
        }
        self.depth -= 1;
        Ok(nodes)
    }

    fn and_or(&mut self, stop: &[&str]) -> Result<Node, String> {
        let mut left = self.pipeline(stop)?;
        loop {
            match self.toks.get(self.pos) {
                Some(Tok::Op("&&")) => {
                    self.pos += 1;
                    let right = self.pipeline(stop)?;
                    left = Node::AndOr(Box::new(left), true, Box::new(right));
                }
                Some(Tok::Op("||")) => {
                    self.pos += 1;
                    let right = self.pipeline(stop)?;
                    left = Node::AndOr(Box::new(left), false, Box::new(right));
                }
                _ => return Ok(left),
            }
        }
    }

    fn pipeline(&mut self, stop: &[&str]) -> Result<Node, String> {
        let mut left = self.command(stop)?;
        while matches!(self.toks.get(self.pos), Some(Tok::Op("|"))) {
            self.pos += 1;
            let right = self.command(stop)?;
            left = Node::Pipe(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn command(&mut self, stop: &[&str]) -> Result<Node, String> {
        match self.peek_word() {
            Some(kw @ ("while" | "until")) => {
                let until = kw == "until";
                self.pos += 1;
                let cond = self.list(&["do"])?;
                self.expect("do")?;
                let body = self.list(&["done"])?;
                self.expect("done")?;
                Ok(Node::While(cond, body, until))
            }
            Some("for") => {
                self.pos += 1;
                let var = self
                    .peek_word()
                    .ok_or("syntax error: bad for loop variable")?
                    .to_string();
                self.pos += 1;
                let mut items = Vec::new();
                if self.peek_word() == Some("in") {
                    self.pos += 1;
                    while let Some(Tok::Word(w)) = self.toks.get(self.pos) {
                        items.push(w.clone());
                        self.pos += 1;
                    }
                }
                self.expect("do")?;
                let body = self.list(&["done"])?;
                self.expect("done")?;
                Ok(Node::For(var, items, body))
            }
            Some("if") => {
                self.pos += 1;
                let cond = self.list(&["then"])?;
                self.expect("then")?;
                let then = self.list(&["else", "fi"])?;
                self.skip_separators();
                let mut otherwise = Vec::new();
                if self.peek_word() == Some("else") {
                    self.pos += 1;
                    otherwise = self.list(&["fi"])?;
                }
                self.expect("fi")?;
                Ok(Node::If(cond, then, otherwise))
            }
            Some(w) if ["do", "done", "then", "else", "fi"].contains(&w) && !stop.contains(&w) => {
                Err(format!("syntax error: unexpected \"{w}\""))
            }
            _ => {
                let mut words = Vec::new();
                let mut redirect = None;
                loop {
                    match self.toks.get(self.pos) {
                        Some(Tok::Word(w)) => {
                            words.push(w.clone());
                            self.pos += 1;
                        }
                        Some(Tok::Op(op @ (">" | ">>" | "2>"))) => {
                            let op = *op;
                            self.pos += 1;
                            let Some(Tok::Word(target)) = self.toks.get(self.pos) else {
                                return Err("syntax error: unexpected redirection".into());
                            };
                            redirect = Some((target.clone(), op == ">>", op == "2>"));
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                if words.is_empty() && redirect.is_none() {
                    return Err("syntax error: unexpected operator".into());
                }
                Ok(Node::Simple { words, redirect })
            }
        }
    }
}

fn parse_script(script: &str) -> Result<Vec<Node>, String> {
    let toks = tokenize(script)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let nodes = p.list(&[])?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "syntax error: unexpected \"{}\"",
            p.peek_word().unwrap_or("token")
        ));
    }
    Ok(nodes)
}

fn expand(w: &Word, ctx: &Ctx, vars: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for p in w {
        match p {
            Part::Lit(l) => s.push_str(l),
            Part::Var(v) => {
                if let Some(x) = vars.get(v) {
                    s.push_str(x);
                } else if v == "HOSTNAME" {
                    s.push_str(ctx.hostname);
                } else if let Some((_, x)) = ctx.env.iter().find(|(k, _)| k == v) {
                    s.push_str(x);
                }
            }
            Part::Subst(cmd) => match cmd.trim() {
                "hostname" | "cat /etc/hostname" => s.push_str(ctx.hostname),
                // `$(cat FILE)`: the file as the command starts, without
                // its trailing newlines (as command substitution strips).
                c if c.starts_with("cat ") => {
                    let path = c["cat ".len()..].trim().trim_matches(['"', '\'']);
                    if let Some(text) = ctx.files.get(path) {
                        s.push_str(text.trim_end_matches('\n'));
                    }
                }
                c if c.starts_with("date") => s.push_str(DATE_MARK),
                "whoami" => s.push_str("root"),
                _ => {}
            },
        }
    }
    s
}

fn compile_nodes(nodes: &[Node], ctx: &Ctx, vars: &BTreeMap<String, String>, out: &mut Vec<Step>) {
    let mut vars = vars.clone();
    for n in nodes {
        compile_node(n, ctx, &mut vars, out);
    }
}

fn compile_node(n: &Node, ctx: &Ctx, vars: &mut BTreeMap<String, String>, out: &mut Vec<Step>) {
    match n {
        Node::Simple { words, redirect } => {
            let mut argv: Vec<String> = Vec::new();
            let mut assigning = true;
            for w in words {
                let text = expand(w, ctx, vars);
                if assigning {
                    if let Some((k, v)) = text.split_once('=') {
                        if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        {
                            vars.insert(k.to_string(), v.to_string());
                            continue;
                        }
                    }
                }
                assigning = false;
                argv.push(text);
            }
            if argv.is_empty() {
                out.push(Step::Status(0));
                return;
            }
            if argv[0] == "exec" {
                argv.remove(0);
            }
            let mut steps = Vec::new();
            compile_command(&argv, ctx, vars, &mut steps, true);
            if let Some((target, append, stderr)) = redirect {
                let path = expand(target, ctx, vars);
                let stream = if *stderr {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                };
                let mut first = !append;
                steps = steps
                    .into_iter()
                    .filter_map(|s| match s {
                        Step::Print(st, text) if st == stream => {
                            if path == "/dev/null" {
                                return None;
                            }
                            let w = Step::Write {
                                path: path.clone(),
                                text: format!("{text}\n"),
                                append: !first,
                            };
                            first = false;
                            Some(w)
                        }
                        other => Some(other),
                    })
                    .collect();
                if first && path != "/dev/null" {
                    // `> file` with no output still creates (truncates) it.
                    steps.insert(
                        0,
                        Step::Write {
                            path,
                            text: String::new(),
                            append: false,
                        },
                    );
                }
            }
            out.extend(steps);
        }
        Node::AndOr(left, and, right) => {
            compile_node(left, ctx, vars, out);
            let mut body = Vec::new();
            compile_node(right, ctx, vars, &mut body);
            out.push(if *and {
                Step::Branch {
                    ok: body,
                    fail: vec![],
                }
            } else {
                Step::Branch {
                    ok: vec![],
                    fail: body,
                }
            });
        }
        Node::Pipe(left, right) => {
            let mut l = Vec::new();
            compile_node(left, ctx, vars, &mut l);
            out.extend(
                l.into_iter()
                    .filter(|s| !matches!(s, Step::Print(Stream::Stdout, _))),
            );
            compile_node(right, ctx, vars, out);
        }
        Node::While(cond, body, until) => {
            let mut c = Vec::new();
            compile_nodes(cond, ctx, vars, &mut c);
            let mut b = Vec::new();
            compile_nodes(body, ctx, vars, &mut b);
            let always = c.iter().all(|s| matches!(s, Step::Status(0)));
            if always && !until {
                out.push(Step::Loop(b));
            } else {
                out.push(Step::While {
                    cond: c,
                    body: b,
                    until: *until,
                });
            }
        }
        Node::For(var, items, body) => {
            for item in items.iter().take(1000) {
                let v = expand(item, ctx, vars);
                for word in v.split_whitespace() {
                    vars.insert(var.clone(), word.to_string());
                    compile_nodes(body, ctx, vars, out);
                }
            }
        }
        Node::If(cond, then, otherwise) => {
            compile_nodes(cond, ctx, vars, out);
            let mut ok = Vec::new();
            compile_nodes(then, ctx, vars, &mut ok);
            let mut fail = Vec::new();
            compile_nodes(otherwise, ctx, vars, &mut fail);
            out.push(Step::Branch { ok, fail });
        }
    }
}

// ---- HTTP applications ----

/// What an HTTP handler can see.
pub(crate) struct HttpCtx<'a> {
    pub hostname: &'a str,
    pub client: &'a str,
    pub started_at: SimTime,
    pub now: SimTime,
    pub files: &'a BTreeMap<String, String>,
}

const NGINX_404: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The nginx default page, as `/usr/share/nginx/html/index.html` holds it.
pub(crate) const NGINX_INDEX: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n<a href=\"http://nginx.org/\">nginx.org</a>.<br/>\nCommercial support is available at\n<a href=\"http://nginx.com/\">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n</body>\n</html>\n";

pub(crate) const HTTPD_INDEX: &str = "<html><body><h1>It works!</h1></body></html>\n";

fn serve_file(files: &BTreeMap<String, String>, root: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or("/");
    let mut full = format!("{root}{path}");
    if full.ends_with('/') {
        full.push_str("index.html");
    }
    files.get(&full).cloned()
}

/// Answers one request: (status, body).
pub(crate) fn handle_http(app: &HttpApp, path: &str, c: &HttpCtx) -> (u16, String) {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let up = c.now.saturating_since(c.started_at);
    match app {
        HttpApp::Nginx(_) => match serve_file(c.files, "/usr/share/nginx/html", path) {
            Some(body) => (200, body),
            None => (404, NGINX_404.to_string()),
        },
        HttpApp::Httpd => match serve_file(c.files, "/usr/local/apache2/htdocs", path) {
            Some(body) => (200, body),
            None => (
                404,
                "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n".to_string(),
            ),
        },
        HttpApp::Netexec => match route {
            "/hostname" => (200, c.hostname.to_string()),
            "/healthz" => (200, String::new()),
            "/clientip" => (200, format!("{}:40000", c.client)),
            "/echo" => (
                200,
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("msg="))
                    .unwrap_or("")
                    .replace("%20", " ")
                    .replace('+', " "),
            ),
            "/" => (200, format!("NOW: {}", format_date(c.now, DateStyle::Go))),
            _ => (404, "404 page not found\n".to_string()),
        },
        HttpApp::ServeHostname => (200, c.hostname.to_string()),
        HttpApp::Liveness => match route {
            "/healthz" if up <= SimDuration::from_secs(10) => (200, "ok".to_string()),
            "/healthz" => (500, format!("error: {up}")),
            _ => (404, "404 page not found\n".to_string()),
        },
        HttpApp::TestWebserver => (200, "Hello World!".to_string()),
        HttpApp::HelloApp(v) => (
            200,
            format!("Hello, world!\nVersion: {v}\nHostname: {}\n", c.hostname),
        ),
        HttpApp::Health => (200, "ok".to_string()),
        HttpApp::Kubesim { unready } => match route {
            "/healthz" | "/livez" => (200, "ok".to_string()),
            _ if *unready => (503, "not ready".to_string()),
            "/" => (200, format!("kubesim on {}\n", c.hostname)),
            _ => (200, "ok".to_string()),
        },
    }
}

#[derive(Clone, Copy)]
pub(crate) enum DateStyle {
    /// `Thu Jan  1 00:00:05 UTC 2026` (busybox `date`)
    Busybox,
    /// `01/Jan/2026:00:00:05 +0000` (nginx access log)
    Clf,
    /// `2026-01-01 00:00:05 +0000 UTC` (Go's time.Time)
    Go,
    /// `Thu, 01 Jan 2026 00:00:05 +0000` (Go's `time.RFC1123Z`, `kubectl describe`)
    Rfc1123z,
}

/// Formats a virtual instant as a wall-clock date (runs start at the API's epoch).
pub(crate) fn format_date(t: SimTime, style: DateStyle) -> String {
    let secs = crate::api::time::EPOCH_UNIX_MILLIS.max(0) as u64 / 1000 + t.as_millis() / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem / 60) % 60, rem % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let mon = MONTHS[((mo - 1).clamp(0, 11)) as usize];
    match style {
        DateStyle::Busybox => format!(
            "{} {mon} {d:>2} {h:02}:{m:02}:{s:02} UTC {y}",
            DAYS[(days.rem_euclid(7)) as usize]
        ),
        DateStyle::Clf => format!("{d:02}/{mon}/{y}:{h:02}:{m:02}:{s:02} +0000"),
        DateStyle::Go => format!("{y}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02} +0000 UTC"),
        DateStyle::Rfc1123z => format!(
            "{}, {d:02} {mon} {y} {h:02}:{m:02}:{s:02} +0000",
            DAYS[(days.rem_euclid(7)) as usize]
        ),
    }
}

/// The first `n` significant digits of pi, as `perl -Mbignum=bpi` prints
/// `bpi(n)` (Rabinowitz–Wagon spigot, rounded at the last digit).
pub(crate) fn pi(n: usize) -> String {
    let want = n.clamp(1, 5_000);
    let total = want + 3;
    let len = total * 10 / 3 + 2;
    let mut a = vec![2u64; len + 1];
    let mut digits: Vec<u8> = Vec::with_capacity(total + 2);
    let mut nines = 0usize;
    let mut predigit = 0u64;
    let mut first = true;
    for _ in 0..=total {
        let mut q = 0u64;
        for i in (1..=len).rev() {
            let x = 10 * a[i] + q * i as u64;
            let d = 2 * i as u64 - 1;
            a[i] = x % d;
            q = x / d;
        }
        a[1] = q % 10;
        q /= 10;
        if q == 9 {
            nines += 1;
        } else if q == 10 {
            digits.push((predigit + 1) as u8);
            digits.extend(std::iter::repeat_n(0, nines));
            predigit = 0;
            nines = 0;
        } else {
            if !first {
                digits.push(predigit as u8);
            }
            first = false;
            predigit = q;
            digits.extend(std::iter::repeat_n(9, nines));
            nines = 0;
        }
    }
    digits.push(predigit as u8);
    // Round to `want` digits.
    let mut kept: Vec<u8> = digits.iter().take(want).copied().collect();
    if digits.get(want).is_some_and(|d| *d >= 5) {
        let mut i = kept.len();
        while i > 0 {
            i -= 1;
            if kept[i] == 9 {
                kept[i] = 0;
            } else {
                kept[i] += 1;
                break;
            }
        }
    }
    let mut s = String::with_capacity(want + 1);
    for (i, d) in kept.iter().enumerate() {
        s.push(char::from(b'0' + d));
        if i == 0 && want > 1 {
            s.push('.');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pi_has_the_right_leading_digits() {
        assert_eq!(pi(10), "3.141592654");
        let p = pi(2000);
        assert!(p.starts_with("3.14159265358979323846264338327950288419716939937510"));
        assert_eq!(p.len(), 2001);
    }

    #[test]
    fn dates_start_at_the_runs_epoch() {
        assert_eq!(
            format_date(SimTime(5_000), DateStyle::Busybox),
            "Thu Jan  1 00:00:05 UTC 2026"
        );
        assert_eq!(
            format_date(SimTime(0), DateStyle::Clf),
            "01/Jan/2026:00:00:00 +0000"
        );
    }

    #[test]
    fn the_shell_parses_the_docs_liveness_command() {
        let nodes =
            parse_script("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600").unwrap();
        assert_eq!(nodes.len(), 4);
        assert!(parse_script("while true; do echo hi; sleep 1; done").is_ok());
        assert!(parse_script("for i in 1 2 3; do echo $i; done").is_ok());
        assert!(parse_script("if true; then echo a; else echo b; fi").is_ok());
    }

    #[test]
    fn malformed_scripts_are_errors_not_panics() {
        for bad in [
            "'",
            "\"",
            "do",
            "while true",
            "echo $(",
            "for",
            "if true; then",
            "${",
            "&& x",
            ">",
            "echo \\",
        ] {
            let _ = parse_script(bad);
        }
        assert!(parse_script("'").is_err());
        assert!(parse_script("while true").is_err());
    }
}
