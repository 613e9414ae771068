//! End-to-end tests of the built page in headless Chromium.
//!
//! They need the release build (`trunk build --release`) and ChromeDriver,
//! so they are ignored by a plain `cargo test`; `cargo xtask test` builds the
//! page, installs what is missing and runs them with `--ignored`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;
use support::server::StaticServer;
use support::webdriver::{Driver, Session};

/// Opens the page and waits for the diagram to be drawn.
fn open_page(session: &Session, server: &StaticServer) {
    session.goto(&server.url);
    session.wait_for(
        "return document.querySelectorAll('svg.diagram [data-component]').length > 0",
        Duration::from_secs(30),
        "the diagram to be drawn",
    );
}

fn clock_ms(session: &Session) -> u64 {
    session
        .exec("return document.getElementById('clock').dataset.ms")
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("the clock shows its milliseconds in data-ms")
}

/// The component instances of the default topology, as DESIGN.md §4 names them.
fn default_topology_components() -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = ["api-load-balancer", "cloud-controller-manager", "coredns"]
        .into_iter()
        .map(String::from)
        .collect();
    for i in 1..=3 {
        for c in [
            "kube-apiserver",
            "etcd",
            "kube-scheduler",
            "kube-controller-manager",
        ] {
            ids.insert(format!("{c}-control-plane-{i}"));
        }
    }
    let nodes = (1..=3)
        .map(|i| format!("control-plane-{i}"))
        .chain((1..=3).map(|i| format!("worker-{i}")));
    for node in nodes {
        for agent in ["kubelet", "kube-proxy", "containerd", "runc"] {
            ids.insert(format!("{agent}@{node}"));
        }
    }
    ids
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_diagram_shows_every_component_of_the_default_topology() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    let shown = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram [data-component]')).map(e => e.dataset.component)",
    );
    let shown: BTreeSet<String> = shown
        .as_array()
        .expect("a list of component ids")
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    assert_eq!(shown, default_topology_components());
    let nodes = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram [data-node]')).map(e => e.dataset.node)",
    );
    assert_eq!(
        nodes,
        serde_json::json!([
            "control-plane-1",
            "control-plane-2",
            "control-plane-3",
            "worker-1",
            "worker-2",
            "worker-3"
        ])
    );
    // Every component is drawn with its name, not only its colour.
    let unlabelled = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram [data-component]')).filter(g => !g.querySelector('.chip-label') || !g.querySelector('.chip-label').textContent.trim()).length",
    );
    assert_eq!(unlabelled, serde_json::json!(0));
    session.screenshot(&support::screenshot_path("diagram"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn play_advances_the_clock_and_pause_stops_it() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(clock_ms(&session), 0, "the clock waits for play");

    session.click("#play");
    session.wait_for(
        "return Number(document.getElementById('clock').dataset.ms) >= 300",
        Duration::from_secs(10),
        "the clock to advance after play",
    );
    assert_eq!(
        session.exec("return document.getElementById('play').getAttribute('aria-pressed')"),
        serde_json::json!("true")
    );

    // A faster speed makes virtual time run faster than the wall clock.
    session.click("#speed option[value='100']");
    let before = clock_ms(&session);
    session.wait_for(
        &format!(
            "return Number(document.getElementById('clock').dataset.ms) >= {}",
            before + 20_000
        ),
        Duration::from_secs(10),
        "the clock to run at 100x",
    );

    session.click("#play");
    let paused_at = clock_ms(&session);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(clock_ms(&session), paused_at, "pause stops the clock");
    let shown = session.exec("return document.getElementById('clock').textContent");
    assert!(
        shown.as_str().is_some_and(|s| s.contains(':')),
        "the clock reads hh:mm:ss.mmm: {shown}"
    );
    session.screenshot(&support::screenshot_path("paused"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_console_shows_no_error() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    session.click("#play");
    session.click("#speed option[value='1000']");
    std::thread::sleep(Duration::from_millis(1500));
    session.click("#play");
    let errors: Vec<_> = session
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
