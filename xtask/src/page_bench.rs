//! `cargo xtask bench page`: the page's budgets, measured on the release
//! build in `dist/` in headless Chromium through ChromeDriver (the browser
//! tests' WebDriver client and static server):
//!
//! - the compressed size of the wasm and JS (gzip -9, and brotli when the
//!   `brotli` tool is installed), budget 400 KiB;
//! - the time to the first diagram: navigation start to the
//!   `kubesim:first-diagram` mark the diagram sets when first drawn;
//! - frames with 100 nodes (`?workers=97` beside kubeadm's three control
//!   plane nodes) and a Deployment of 3,000 replicas, the clock at 100x:
//!   `requestAnimationFrame` timestamps collected in the page for 10 s give
//!   the frame times (mean fps, p50/p95/max), `?perf=1` the page's own work
//!   per frame (update and render), DevTools' metrics the browser's share
//!   (script, style, layout, the rest), and the clock's `data-ms` how fast
//!   virtual time really ran. `KUBESIM_BENCH_JS` runs a script on the page
//!   before the frames are measured (to try a change of style, say).

#[allow(dead_code)]
#[path = "../../tests/support/server.rs"]
mod server;
#[allow(dead_code)]
#[path = "../../tests/support/webdriver.rs"]
mod webdriver;

use serde_json::Value;
use server::StaticServer;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{Driver, Session};

/// The compressed wasm + JS budget (issue 6), in KiB.
const SIZE_BUDGET_KIB: f64 = 400.0;
/// 60 fps: a frame every 16.7 ms.
const FRAME_BUDGET_MS: f64 = 1000.0 / 60.0;
/// The first diagram's budget, in ms after navigation start (no number is
/// given by the issue: a second on a shared machine).
const FIRST_DIAGRAM_BUDGET_MS: f64 = 1000.0;
/// How long the frames are measured.
const MEASURE: Duration = Duration::from_secs(10);
const NODES: usize = 100;
const CONTROL_PLANE: usize = 3;
const REPLICAS: usize = 3000;
const SPEED: f64 = 100.0;

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The size of `path` compressed by `tool args`, if the tool runs.
fn compressed(tool: &str, args: &[&str], path: &Path) -> Option<u64> {
    let out = Command::new(tool)
        .args(args)
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

fn sizes(dist: &Path) -> Result<(), String> {
    let mut files: Vec<_> = std::fs::read_dir(dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no wasm or JS in {}", dist.display()));
    }
    let raw: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let gzip: Option<u64> = files
        .iter()
        .map(|f| compressed("gzip", &["-9", "-c"], f))
        .sum();
    let brotli: Option<u64> = files
        .iter()
        .map(|f| compressed("brotli", &["-q", "11", "-c"], f))
        .sum();
    let kib = |b: u64| b as f64 / 1024.0;
    println!(
        "page size: wasm + JS {:.0} KiB uncompressed ({} files)",
        kib(raw),
        files.len()
    );
    match gzip {
        Some(g) => println!(
            "page size: wasm + JS gzip -9 {:.1} KiB (budget {SIZE_BUDGET_KIB:.0} KiB: {})",
            kib(g),
            verdict(kib(g) <= SIZE_BUDGET_KIB)
        ),
        None => println!("page size: gzip is not installed: not measured"),
    }
    match brotli {
        Some(b) => println!(
            "page size: wasm + JS brotli -q 11 {:.1} KiB (budget {SIZE_BUDGET_KIB:.0} KiB: {})",
            kib(b),
            verdict(kib(b) <= SIZE_BUDGET_KIB)
        ),
        None => println!("page size: brotli is not installed: not measured"),
    }
    Ok(())
}

fn wait_for(
    session: &Session,
    script: &str,
    timeout: Duration,
    what: &str,
) -> Result<Value, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let v = session.exec(script);
        if !(v.is_null() || v == false || v == 0 || v == "") {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a command in the page's console and returns what it printed.
fn console(session: &Session, command: &str) -> Result<String, String> {
    // The count of answers since the page opened (the transcript keeps
    // only the last 200 entries, so their number stops growing).
    let count = "return Number(document.getElementById('console-output').dataset.answered)";
    let before = session.exec(count).as_u64().unwrap_or(0);
    session.type_into("#console-input", &format!("{command}\u{E007}"));
    wait_for(
        session,
        &format!("{count} > {before}"),
        Duration::from_secs(60),
        "the console to answer",
    )?;
    Ok(session
        .exec(
            "const e = document.querySelectorAll('#console-output .console-entry'); \
             const r = e[e.length - 1].querySelector('.console-result'); return r ? r.textContent : ''",
        )
        .as_str()
        .unwrap_or_default()
        .to_string())
}

fn first_diagram(driver: &Driver, server: &StaticServer) -> Result<(), String> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let session = driver.session();
        session.goto(&server.url);
        let t = wait_for(
            &session,
            "const m = performance.getEntriesByName('kubesim:first-diagram'); return m.length ? m[0].startTime : null",
            Duration::from_secs(60),
            "the diagram's first drawing",
        )?;
        times.push(t.as_f64().unwrap_or(f64::NAN));
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "page first diagram: {median:.0} ms after navigation start (median of {}: {}; budget {FIRST_DIAGRAM_BUDGET_MS:.0} ms: {})",
        times.len(),
        times.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", "),
        verdict(median <= FIRST_DIAGRAM_BUDGET_MS)
    );
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// `name` from the environment as a number, or `default`: a busy machine
/// may need a smaller Deployment or a longer wait to compare two builds
/// (the report says when the defaults were not used).
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn frames(driver: &Driver, server: &StaticServer) -> Result<(), String> {
    let replicas = env_or("KUBESIM_BENCH_REPLICAS", REPLICAS as u64);
    let ready_s = env_or("KUBESIM_BENCH_READY_S", 600);
    if replicas != REPLICAS as u64 {
        println!(
            "page frames: KUBESIM_BENCH_REPLICAS={replicas}: NOT the budget's {REPLICAS} pods"
        );
    }
    let session = driver.session();
    let workers = NODES - CONTROL_PLANE;
    session.goto(&format!(
        "{}?workers={workers}&speed={SPEED}&perf=1",
        server.url
    ));
    wait_for(
        &session,
        &format!("return document.querySelectorAll('svg.diagram [data-node]').length === {NODES}"),
        Duration::from_secs(120),
        "the diagram with 100 nodes",
    )?;
    let started = Instant::now();
    session.click("#play");
    // The API answers once etcd has a leader and the servers are ready.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let out = console(&session, "kubectl get namespaces")?;
        if out.contains("kube-system") {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!("the API server never answered: {out}"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = console(
        &session,
        &format!("kubectl create deployment web --image=nginx --replicas={replicas}"),
    )?;
    if !out.contains("created") {
        return Err(format!("the Deployment was not created: {out}"));
    }
    let deadline = Instant::now() + Duration::from_secs(ready_s);
    loop {
        let out = console(&session, "kubectl get deployment web")?;
        if out.contains(&format!("{replicas}/{replicas}")) {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!("{replicas} replicas never became ready: {out}"));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "page frames: {NODES} nodes booted and {replicas} pods ready after {:.0} s of wall time; measuring for {} s",
        started.elapsed().as_secs_f64(),
        MEASURE.as_secs()
    );
    // An experiment on the measured page (a style to try, say), run
    // before the frames are measured; the report says it was.
    if let Ok(script) = std::env::var("KUBESIM_BENCH_JS") {
        println!("page frames: KUBESIM_BENCH_JS ran before measuring: {script}");
        session.exec(&script);
    }
    // The browser's own accounting of its main thread (DevTools'
    // `Performance.getMetrics`: cumulative script, style, layout and task
    // time), read before and after the measured stretch.
    session.cdp("Performance.enable", serde_json::json!({}));
    let metrics_before = browser_metrics(&session);
    session.exec(
        "window.__kubesimFrameWork = []; \
         for (const k of Object.keys(window)) if (k.startsWith('__kubesimPhase_')) window[k] = []; \
         const b = { frames: [], t0: performance.now(), c0: Number(document.getElementById('clock').dataset.ms) }; \
         window.__kubesimBench = b; \
         b.busy = []; b.mutations = 0; \
         const ch = new MessageChannel(); let pending = []; \
         ch.port1.onmessage = e => { b.busy.push(performance.now() - e.data); }; \
         const svg = document.querySelector('svg.diagram'); \
         b.observer = new MutationObserver(list => { b.mutations += list.length; }); \
         b.observer.observe(svg, { subtree: true, childList: true, attributes: true, characterData: true }); \
         const loop = ts => { if (!b.stop) { b.frames.push(ts); ch.port2.postMessage(ts); requestAnimationFrame(loop); } }; \
         requestAnimationFrame(loop); return true",
    );
    std::thread::sleep(MEASURE);
    let metrics_after = browser_metrics(&session);
    let result = session.exec(
        "const b = window.__kubesimBench; b.stop = true; b.observer.takeRecords(); b.observer.disconnect(); \
         return { frames: b.frames, busy: b.busy, mutations: b.mutations, t0: b.t0, t1: performance.now(), c0: b.c0, \
                  c1: Number(document.getElementById('clock').dataset.ms), \
                  work: window.__kubesimFrameWork || [], \
                  phases: Object.fromEntries(Object.keys(window).filter(k => k.startsWith('__kubesimPhase_')).map(k => [k.slice(15), window[k]])), \
                  pods: document.querySelectorAll('svg.diagram [data-pod]').length, \
                  canvas_nodes: Number((document.querySelector('.node-canvas') || { dataset: {} }).dataset.nodes || 0), \
                  elements: document.querySelectorAll('svg.diagram *').length }",
    );
    // What the measured page looked like, to compare builds by eye.
    if let Some(path) = std::env::var_os("KUBESIM_BENCH_SCREENSHOT") {
        session.screenshot(Path::new(&path));
        println!(
            "page frames: screenshot saved to {}",
            Path::new(&path).display()
        );
    }
    let stamps = numbers(&result["frames"]);
    let mut gaps: Vec<f64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_by(f64::total_cmp);
    let wall = result["t1"].as_f64().unwrap_or(0.0) - result["t0"].as_f64().unwrap_or(0.0);
    let virt = result["c1"].as_f64().unwrap_or(0.0) - result["c0"].as_f64().unwrap_or(0.0);
    let fps = if wall > 0.0 {
        gaps.len() as f64 / (wall / 1000.0)
    } else {
        0.0
    };
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let (p50, p95, max) = (
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.95),
        gaps.last().copied().unwrap_or(f64::NAN),
    );
    let speed = if wall > 0.0 { virt / wall } else { 0.0 };
    let mut work = numbers(&result["work"]);
    work.sort_by(f64::total_cmp);
    // requestAnimationFrame fires on the display's 60 Hz beat, so a page
    // keeping up shows 16.7 ms frames with a little timer jitter: the budget
    // allows the jitter (0.5 ms) but not a missed beat.
    let met = fps >= 59.0 && p95 < FRAME_BUDGET_MS + 0.5;
    println!(
        "page frames ({NODES} nodes, {replicas} pods, {SPEED:.0}x): {fps:.1} fps; frame time mean {mean_gap:.1} ms, p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms over {} frames (budget 60 fps, p95 under {FRAME_BUDGET_MS:.1} ms: {})",
        gaps.len(),
        verdict(met)
    );
    // A message posted in a frame's requestAnimationFrame callback is
    // handled once the main thread is done with that frame: its scripts and
    // the browser's style, layout and paint. From the frame's start to then
    // is the main thread's whole share of the frame.
    let mut busy = numbers(&result["busy"]);
    busy.sort_by(f64::total_cmp);
    if !busy.is_empty() {
        println!(
            "page frames: main thread per frame (scripts + style/layout/paint, frame start to a message posted in it): mean {:.1} ms, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} frames",
            busy.iter().sum::<f64>() / busy.len() as f64,
            percentile(&busy, 0.5),
            percentile(&busy, 0.95),
            busy.last().copied().unwrap_or(f64::NAN),
            busy.len()
        );
    }
    let delta = |name: &str| {
        metrics_after.get(name).copied().unwrap_or(0.0)
            - metrics_before.get(name).copied().unwrap_or(0.0)
    };
    let per_frame = |name: &str| delta(name) * 1000.0 / gaps.len().max(1) as f64;
    if delta("TaskDuration") > 0.0 {
        let task = per_frame("TaskDuration");
        let script = per_frame("ScriptDuration");
        let style = per_frame("RecalcStyleDuration");
        let layout = per_frame("LayoutDuration");
        println!(
            "page frames: the browser's main thread per frame (DevTools metrics): tasks {task:.1} ms = script {script:.1} + style {style:.1} ({:.1} recalcs) + layout {layout:.1} ({:.1} layouts) + the rest (paint, compositing, GC) {:.1}",
            delta("RecalcStyleCount") / gaps.len().max(1) as f64,
            delta("LayoutCount") / gaps.len().max(1) as f64,
            task - script - style - layout
        );
    }
    if let Some(m) = result["mutations"].as_f64() {
        println!(
            "page frames: {:.1} DOM mutations of the diagram per frame ({m:.0} in {} frames, MutationObserver records)",
            m / gaps.len().max(1) as f64,
            gaps.len()
        );
    }
    if !work.is_empty() {
        println!(
            "page frames: the page's own work per frame (update + render, ?perf=1): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms over {} frames",
            percentile(&work, 0.5),
            percentile(&work, 0.95),
            work.last().copied().unwrap_or(f64::NAN),
            work.len()
        );
    }
    if let Some(phases) = result["phases"].as_object() {
        let mut parts = Vec::new();
        for (name, v) in phases {
            let mut t = numbers(v);
            if t.is_empty() {
                continue;
            }
            t.sort_by(f64::total_cmp);
            let mean = t.iter().sum::<f64>() / t.len().max(1) as f64;
            parts.push(format!(
                "{name} mean {mean:.2} p95 {:.2} max {:.1}",
                percentile(&t, 0.95),
                t.last().copied().unwrap_or(f64::NAN)
            ));
        }
        println!(
            "page frames: phases of a frame's update (ms): {}",
            parts.join("; ")
        );
    }
    println!(
        "page frames: the clock ran at {speed:.1}x ({:.1} virtual s in {:.1} wall s; asked {SPEED:.0}x: {}); {} pod tiles and {} SVG elements drawn, {} worker nodes painted on the canvas view",
        virt / 1000.0,
        wall / 1000.0,
        verdict(speed >= SPEED * 0.95),
        result["pods"],
        result["elements"],
        result["canvas_nodes"]
    );
    Ok(())
}

/// DevTools' `Performance.getMetrics`, by name (durations in seconds).
fn browser_metrics(session: &Session) -> std::collections::BTreeMap<String, f64> {
    session.cdp("Performance.getMetrics", serde_json::json!({}))["metrics"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["value"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the page's benchmark on the build in `dist`.
pub fn run(dist: &Path) -> Result<(), String> {
    if !dist.join("index.html").exists() {
        return Err(format!(
            "no built page in {}: build it first (trunk build --release)",
            dist.display()
        ));
    }
    sizes(dist)?;
    let server = StaticServer::start(dist.to_path_buf());
    let driver = Driver::start();
    first_diagram(&driver, &server)?;
    frames(&driver, &server)
}
