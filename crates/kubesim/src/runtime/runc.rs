//! runc's side: a container's process running its steps over virtual time,
//! with its memory under the cgroup's `memory.max`.
//!
//! runc creates the container's namespaces and cgroup (`runc create`),
//! starts the process (`runc start`), signals it (`runc kill`) and cleans up
//! (`runc delete`). The kernel's OOM killer ends a process whose cgroup
//! reaches `memory.max`; containerd reports it as exit 137, reason OOMKilled.

use super::program::{
    format_date, handle_http, App, DateStyle, HttpCtx, Listener, Program, Step, Stream, DATE_MARK,
};
use super::{ClusterRequest, LogLine};
use crate::world::{SimDuration, SimTime};
use std::collections::{BTreeMap, VecDeque};

/// The files a container sees (only the ones the simulation writes).
pub(crate) type Files = BTreeMap<String, String>;

/// Steps one `run` may take before a process counts as spinning.
const STEP_BUDGET: u32 = 20_000;

/// Why a machine stopped running steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Halt {
    /// Waiting (sleeping) until the cursor.
    Pending,
    /// Exited with this code at the cursor.
    Exited(i32),
    /// Runs until stopped.
    Forever,
    /// Needs the cluster (exec only).
    Cluster(ClusterRequest),
}

/// What steps act on.
pub(crate) struct Fx<'a> {
    pub files: &'a mut Files,
    pub out: &'a mut Vec<LogLine>,
    pub listeners: &'a mut Vec<(SimTime, Listener)>,
    pub memory: &'a mut Memory,
    pub hostname: &'a str,
    pub exec: bool,
    pub started_at: SimTime,
}

/// A step interpreter: a queue, a clock cursor and the last status.
#[derive(Clone, Debug)]
pub(crate) struct Machine {
    queue: VecDeque<Step>,
    pub cursor: SimTime,
    pub status: i32,
}

impl Machine {
    pub fn new(steps: Vec<Step>, at: SimTime) -> Self {
        Machine {
            queue: steps.into(),
            cursor: at,
            status: 0,
        }
    }

    fn push_front_all(&mut self, steps: Vec<Step>) {
        for s in steps.into_iter().rev() {
            self.queue.push_front(s);
        }
    }

    /// Runs the steps due at or before `until`.
    pub fn run(&mut self, until: SimTime, fx: &mut Fx) -> Halt {
        let mut budget = STEP_BUDGET;
        loop {
            if matches!(self.queue.front(), Some(Step::Forever)) {
                return Halt::Forever;
            }
            if self.cursor > until {
                return Halt::Pending;
            }
            let Some(step) = self.queue.pop_front() else {
                return Halt::Exited(self.status);
            };
            budget -= 1;
            if budget == 0 {
                // A loop without sleeps: the process spins on the CPU.
                self.queue.clear();
                self.queue.push_front(Step::Forever);
                return Halt::Forever;
            }
            let at = self.cursor;
            let mut say = |stream: Stream, text: String| {
                if fx.out.len() < 100_000 {
                    let text = text.replace(DATE_MARK, &format_date(at, DateStyle::Busybox));
                    fx.out.push(LogLine { at, stream, text });
                }
            };
            match step {
                Step::Print(stream, text) => say(stream, text),
                Step::Sleep(d) => self.cursor += d,
                Step::Status(s) => self.status = s,
                Step::Exit(code) => {
                    let code = code.unwrap_or(self.status);
                    self.queue.clear();
                    return Halt::Exited(code);
                }
                Step::Write { path, text, append } => {
                    let text = text.replace(DATE_MARK, &format_date(at, DateStyle::Busybox));
                    let f = fx.files.entry(path).or_default();
                    if !append {
                        f.clear();
                    }
                    if f.len() < 1_000_000 {
                        f.push_str(&text);
                    }
                    self.status = 0;
                }
                Step::Remove { paths, force } => {
                    self.status = 0;
                    for p in paths {
                        if fx.files.remove(&p).is_none() && !force {
                            say(
                                Stream::Stderr,
                                format!("rm: can't remove '{p}': No such file or directory"),
                            );
                            self.status = 1;
                        }
                    }
                }
                Step::Cat(paths) => {
                    self.status = 0;
                    for p in paths {
                        match fx.files.get(&p) {
                            Some(content) => {
                                for line in content.lines() {
                                    say(Stream::Stdout, line.to_string());
                                }
                            }
                            None => {
                                say(
                                    Stream::Stderr,
                                    format!("cat: can't open '{p}': No such file or directory"),
                                );
                                self.status = 1;
                            }
                        }
                    }
                }
                Step::Ls(dir) => {
                    let entries = list_dir(fx.files, &dir);
                    match entries {
                        Some(es) => {
                            for e in es {
                                say(Stream::Stdout, e);
                            }
                            self.status = 0;
                        }
                        None => {
                            say(
                                Stream::Stderr,
                                format!("ls: {dir}: No such file or directory"),
                            );
                            self.status = 1;
                        }
                    }
                }
                Step::Serve(ls) => {
                    for l in ls {
                        fx.listeners.push((at + l.open_after, l));
                    }
                    self.queue.clear();
                    self.queue.push_front(Step::Forever);
                    return Halt::Forever;
                }
                Step::Open(ls) => {
                    for l in ls {
                        fx.listeners.push((at + l.open_after, l));
                    }
                }
                Step::Allocate { bytes, over } => {
                    let ms = over.as_millis().max(1);
                    fx.memory.alloc = Some(Alloc {
                        start: at,
                        rate_per_s: (u128::from(bytes) * 1000 / u128::from(ms))
                            .min(u128::from(u64::MAX)) as u64,
                        cap: Some(bytes),
                    });
                    self.status = 0;
                }
                Step::Leak(rate) => {
                    fx.memory.alloc = Some(Alloc {
                        start: at,
                        rate_per_s: rate,
                        cap: None,
                    });
                }
                Step::Forever => {
                    self.queue.push_front(Step::Forever);
                    return Halt::Forever;
                }
                Step::Loop(body) => {
                    self.queue.push_front(Step::Loop(body.clone()));
                    self.push_front_all(body);
                }
                Step::While { cond, body, until } => {
                    self.queue.push_front(Step::WhileCheck {
                        cond: cond.clone(),
                        body,
                        until,
                    });
                    self.push_front_all(cond);
                }
                Step::WhileCheck { cond, body, until } => {
                    if (self.status == 0) != until {
                        self.queue.push_front(Step::While {
                            cond,
                            body: body.clone(),
                            until,
                        });
                        self.push_front_all(body);
                    } else {
                        self.status = 0;
                    }
                }
                Step::Branch { ok, fail } => {
                    if self.status == 0 {
                        self.push_front_all(ok);
                    } else {
                        self.push_front_all(fail);
                    }
                }
                Step::LocalHttp { port, path, quiet } => {
                    let open = fx
                        .listeners
                        .iter()
                        .find(|(t, l)| l.port == port && *t <= at)
                        .map(|(_, l)| l.app.clone());
                    match open {
                        Some(App::Http(app)) => {
                            let (code, body) = handle_http(
                                &app,
                                &path,
                                &HttpCtx {
                                    hostname: fx.hostname,
                                    client: "127.0.0.1",
                                    started_at: fx.started_at,
                                    now: at,
                                    files: fx.files,
                                },
                            );
                            for line in body.lines() {
                                say(Stream::Stdout, line.to_string());
                            }
                            self.status = if code < 400 { 0 } else { 22 };
                        }
                        Some(_) => {
                            say(
                                Stream::Stderr,
                                "curl: (1) Received HTTP/0.9 when not allowed".into(),
                            );
                            self.status = 1;
                        }
                        None => {
                            if !quiet {
                                say(Stream::Stderr, format!("curl: (7) Failed to connect to localhost port {port}: Connection refused"));
                            }
                            self.status = 7;
                        }
                    }
                }
                Step::RedisPing => {
                    let open = fx
                        .listeners
                        .iter()
                        .any(|(t, l)| l.port == 6379 && *t <= at && l.app == App::Tcp("redis"));
                    if open {
                        say(Stream::Stdout, "PONG".into());
                        self.status = 0;
                    } else {
                        say(
                            Stream::Stdout,
                            "Could not connect to Redis at 127.0.0.1:6379: Connection refused"
                                .into(),
                        );
                        self.status = 1;
                    }
                }
                Step::Cluster(mut req) => {
                    if fx.exec {
                        // curl reads its CA bundle as it starts.
                        if let ClusterRequest::Http { args, ca_file, .. } = &mut req {
                            let path = args.iter().enumerate().find_map(|(i, a)| {
                                if a == "--cacert" {
                                    args.get(i + 1).cloned()
                                } else {
                                    a.strip_prefix("--cacert=").map(str::to_string)
                                }
                            });
                            *ca_file = path.and_then(|p| fx.files.get(&p).cloned());
                        }
                        return Halt::Cluster(req);
                    }
                    say(
                        Stream::Stderr,
                        format!("kubesim: {req} needs the cluster (not wired into the node yet)"),
                    );
                    self.status = 1;
                }
            }
        }
    }
}

/// `ls` of a directory: the simulated files under it, plus a base layout for `/`.
fn list_dir(files: &Files, dir: &str) -> Option<Vec<String>> {
    let dir = dir.trim_end_matches('/');
    let prefix = format!("{dir}/");
    let mut out: Vec<String> = if dir.is_empty() {
        [
            "bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "var",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    } else {
        Vec::new()
    };
    for path in files.keys() {
        if let Some(rest) = path.strip_prefix(&prefix) {
            let name = rest.split('/').next().unwrap_or(rest).to_string();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        } else if path == dir {
            return Some(vec![dir.rsplit('/').next().unwrap_or(dir).to_string()]);
        }
    }
    if out.is_empty() && !matches!(dir, "/tmp" | "/etc" | "/var" | "/root" | "/home") {
        return None;
    }
    out.sort();
    Some(out)
}

/// Memory growing over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Alloc {
    pub start: SimTime,
    pub rate_per_s: u64,
    pub cap: Option<u64>,
}

/// A process's memory: a base plus what it allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Memory {
    pub base: u64,
    pub alloc: Option<Alloc>,
}

impl Memory {
    pub fn at(&self, t: SimTime) -> u64 {
        let grown = match self.alloc {
            Some(a) if t > a.start => {
                let g = u128::from(a.rate_per_s)
                    * u128::from(t.saturating_since(a.start).as_millis())
                    / 1000;
                let g = u64::try_from(g).unwrap_or(u64::MAX);
                a.cap.map_or(g, |c| g.min(c))
            }
            _ => 0,
        };
        self.base.saturating_add(grown)
    }

    /// When the memory first reaches `limit`, if ever.
    pub fn reaches(&self, limit: u64, since: SimTime) -> Option<SimTime> {
        if self.base >= limit {
            return Some(since);
        }
        let a = self.alloc?;
        if a.rate_per_s == 0 || a.cap.is_some_and(|c| self.base.saturating_add(c) < limit) {
            return None;
        }
        let need = u128::from(limit - self.base) * 1000;
        let ms = need.div_ceil(u128::from(a.rate_per_s));
        let ms = u64::try_from(ms).unwrap_or(u64::MAX / 2);
        Some((a.start + SimDuration::from_millis(ms)).max(since))
    }
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    pub at: SimTime,
    pub code: i32,
    pub oom: bool,
    pub killed: bool,
}

/// A running (or finished) main process.
#[derive(Clone, Debug)]
pub(crate) struct Process {
    pub started_at: SimTime,
    machine: Machine,
    halted_forever: bool,
    pub listeners: Vec<(SimTime, Listener)>,
    pub memory: Memory,
    pub exit: Option<Exit>,
    on_sigterm: Option<i32>,
    /// When a stop ends the process, and with which code.
    pub kill: Option<(SimTime, i32, bool)>,
}

impl Process {
    pub fn start(program: Program, at: SimTime, base_memory: u64) -> Self {
        Process {
            started_at: at,
            machine: Machine::new(program.steps, at),
            halted_forever: false,
            listeners: Vec::new(),
            memory: Memory {
                base: base_memory,
                alloc: None,
            },
            exit: None,
            on_sigterm: program.on_sigterm,
            kill: None,
        }
    }

    pub fn running(&self) -> bool {
        self.exit.is_none()
    }

    /// Runs the process up to `now`; returns the exit if it ended.
    pub fn advance(
        &mut self,
        now: SimTime,
        limit: Option<u64>,
        files: &mut Files,
        logs: &mut Vec<LogLine>,
        hostname: &str,
    ) -> Option<Exit> {
        if self.exit.is_some() {
            return None;
        }
        let mut rounds = 0;
        loop {
            rounds += 1;
            let oom_at = limit.and_then(|l| self.memory.reaches(l, self.started_at));
            let kill_at = self.kill.map(|k| k.0);
            let horizon = [Some(now), oom_at, kill_at]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now);
            let before = self.memory.alloc;
            if !self.halted_forever {
                let mut fx = Fx {
                    files,
                    out: logs,
                    listeners: &mut self.listeners,
                    memory: &mut self.memory,
                    hostname,
                    exec: false,
                    started_at: self.started_at,
                };
                match self.machine.run(horizon, &mut fx) {
                    Halt::Exited(code) => {
                        let exit = Exit {
                            at: self.machine.cursor,
                            code,
                            oom: false,
                            killed: false,
                        };
                        self.exit = Some(exit.clone());
                        return Some(exit);
                    }
                    Halt::Forever => self.halted_forever = true,
                    Halt::Pending | Halt::Cluster(_) => {}
                }
            }
            if self.memory.alloc != before && rounds < 4 {
                continue;
            }
            let exit =
                if let Some(t) = oom_at.filter(|t| *t <= now && kill_at.is_none_or(|k| *t <= k)) {
                    Exit {
                        at: t,
                        code: 137,
                        oom: true,
                        killed: true,
                    }
                } else if let Some((t, code, _)) = self.kill.filter(|k| k.0 <= now) {
                    Exit {
                        at: t,
                        code,
                        oom: false,
                        killed: true,
                    }
                } else {
                    return None;
                };
            self.exit = Some(exit.clone());
            return Some(exit);
        }
    }

    /// Whether [`Process::advance`] (under memory limit `limit`) could
    /// change the process, its files or its logs: false only for one that
    /// exited, or that halted for good (a server) with no stop under way
    /// and no memory limit it can reach, for which `advance` returns `None`
    /// and writes nothing.
    pub fn may_advance(&self, limit: Option<u64>) -> bool {
        self.exit.is_none()
            && (!self.halted_forever
                || self.kill.is_some()
                || limit
                    .and_then(|l| self.memory.reaches(l, self.started_at))
                    .is_some())
    }

    /// The next instant something happens without outside input.
    pub fn next_wakeup(&self, limit: Option<u64>) -> Option<SimTime> {
        if self.exit.is_some() {
            return None;
        }
        let steps = (!self.halted_forever).then_some(self.machine.cursor);
        let oom = limit.and_then(|l| self.memory.reaches(l, self.started_at));
        [steps, oom, self.kill.map(|k| k.0)]
            .into_iter()
            .flatten()
            .min()
    }

    /// SIGTERM, then SIGKILL after `grace`. Returns when it will have
    /// exited and whether SIGKILL was needed.
    pub fn stop(&mut self, now: SimTime, grace: SimDuration) -> (SimTime, bool) {
        let (at, code, sigkill) = match self.on_sigterm {
            Some(code) if grace > SimDuration::ZERO => {
                (now + SimDuration::from_millis(100).min(grace), code, false)
            }
            _ => (now + grace, 137, true),
        };
        match self.kill {
            Some(k) if k.0 <= at => (k.0, k.2),
            _ => {
                self.kill = Some((at, code, sigkill));
                (at, sigkill)
            }
        }
    }

    /// The open listener on a port at `now`.
    pub fn listener(&self, port: u16, now: SimTime) -> Option<&Listener> {
        if self.exit.is_some() {
            return None;
        }
        self.listeners
            .iter()
            .find(|(t, l)| l.port == port && *t <= now)
            .map(|(_, l)| l)
    }
}
