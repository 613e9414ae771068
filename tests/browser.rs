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
    let mut ids: BTreeSet<String> = [
        "kubectl",
        "api-load-balancer",
        "cloud-controller-manager",
        "coredns",
    ]
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
    // The cloud-controller-manager's two replicas.
    for i in 1..=2 {
        ids.insert(format!("cloud-controller-manager-control-plane-{i}"));
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

/// The etcd member the diagram marks as leader, if any.
const LEADER_SCRIPT: &str =
    "const l = document.querySelector('svg.diagram [data-kind=Etcd].leader'); \
     return l ? l.dataset.component : null";

/// Enter as WebDriver types it.
const ENTER: &str = "\u{E007}";

/// Plays at 10x until the API answers; returns the etcd leader's id.
/// True when the pulse canvas painted dots on its last frame: its
/// `data-pulses` count is positive and some of its pixels are not clear.
const PULSES_PAINTED: &str =
    "const c = document.querySelector('.diagram-stack canvas.pulse-canvas'); \
    if (!c || !(Number(c.dataset.pulses) > 0)) return false; \
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true; return false";

fn boot(session: &Session) -> String {
    let leader = elect(session);
    wait_for_api(session);
    leader
}

/// Plays at 10x until an etcd member is leader; returns its id.
fn elect(session: &Session) -> String {
    session.click("#play");
    session.click("#speed option[value='10']");
    let leader = session.wait_for(LEADER_SCRIPT, Duration::from_secs(20), "an etcd leader");
    leader.as_str().expect("a component id").to_string()
}

/// Asks the API in the console until it answers (right after an etcd leader
/// is elected the API servers may still be starting: "connection refused").
fn wait_for_api(session: &Session) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let out = run_in_console(session, "kubectl get namespaces");
        if out.contains("kube-system") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the API server never answered: {out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Runs `command` in the console and returns the text of its answer.
fn run_in_console(session: &Session, command: &str) -> String {
    // The count of answers since the page opened (the transcript keeps
    // only the last 200 entries).
    let answered = "return Number(document.getElementById('console-output').dataset.answered)";
    let before = session.exec(answered).as_u64().unwrap_or(0);
    session.type_into("#console-input", &format!("{command}{ENTER}"));
    session.wait_for(
        &format!("{answered} > {before}"),
        Duration::from_secs(20),
        "the console to answer",
    );
    session
        .exec(
            "const e = document.querySelectorAll('#console-output .console-entry'); \
             const r = e[e.length - 1].querySelector('.console-result'); return r ? r.textContent : ''",
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn pressing_play_boots_the_control_plane_and_elects_an_etcd_leader() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    assert_eq!(
        session.exec(LEADER_SCRIPT),
        serde_json::Value::Null,
        "nothing is elected before play"
    );
    let leader = elect(&session);
    assert!(leader.starts_with("etcd-control-plane-"), "{leader}");
    assert!(
        clock_ms(&session) < 10_000,
        "a leader within seconds of virtual time"
    );
    // Its chip says so in words, with its term.
    let state = session.exec(&format!(
        "return document.querySelector('[data-component=\"{leader}\"] .chip-state').textContent"
    ));
    assert!(
        state.as_str().is_some_and(|s| s.contains("leader")),
        "{state}"
    );
    // Messages travel: dots move on the diagram (the pulse canvas says how
    // many it painted, and its pixels show them) and the log lists them.
    session.wait_for(
        PULSES_PAINTED,
        Duration::from_secs(10),
        "message pulses on the diagram",
    );
    session.wait_for(
        "return document.querySelectorAll('#event-log .log-row').length > 0",
        Duration::from_secs(10),
        "rows in the message log",
    );
    // The API servers become ready and the balancer puts them in rotation.
    session.wait_for(
        "return document.querySelector('[data-component=api-load-balancer]').dataset.state.startsWith('3/3')",
        Duration::from_secs(20),
        "three API servers in rotation",
    );
    session.screenshot(&support::screenshot_path("booted"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_console_answers_kubectl_get_namespaces_with_the_four_defaults() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    let out = run_in_console(&session, "kubectl get namespaces");
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(out.contains(ns), "{ns} missing from:\n{out}");
    }
    assert!(out.contains("Active"), "{out}");
    session.screenshot(&support::screenshot_path("console-namespaces"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn kubectl_explain_reads_the_schema_the_page_fetched() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    // The page fetches explain.json after it starts; the console answers
    // from it without the cluster (explain reads the schema only).
    let mut out = String::new();
    for _ in 0..20 {
        out = run_in_console(&session, "kubectl explain deployments.spec.replicas");
        if !out.contains("not been fetched yet") {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        out.contains("KIND:")
            && out.contains("Deployment")
            && out.contains("FIELD: replicas <integer>"),
        "{out}"
    );
    assert!(out.contains("Number of desired pods."), "{out}");
    session.screenshot(&support::screenshot_path("console-explain"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn crashing_the_etcd_leader_from_the_console_elects_another() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    let first = elect(&session);
    run_in_console(&session, "sim fault etcd/leader crash");
    session.wait_for(
        &format!(
            "return document.querySelector('[data-component=\"{first}\"]').dataset.health === 'down'"
        ),
        Duration::from_secs(10),
        "the old leader drawn as crashed",
    );
    let second = session.wait_for(
        &format!(
            "const l = document.querySelector('svg.diagram [data-kind=Etcd].leader'); \
             return l && l.dataset.component !== '{first}' ? l.dataset.component : null"
        ),
        Duration::from_secs(30),
        "another etcd member to become leader",
    );
    assert_ne!(second.as_str(), Some(first.as_str()));
    let crashed = session.exec(&format!(
        "return document.querySelector('[data-component=\"{first}\"] .chip-state').textContent"
    ));
    assert!(
        crashed.as_str().is_some_and(|s| s.contains("crashed")),
        "{crashed}"
    );
    session.screenshot(&support::screenshot_path("leader-crashed"));
}

/// The docs' nginx Deployment (concepts/workloads/controllers/deployment).
const NGINX_DEPLOYMENT: &str = "kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
---end";

/// The pods drawn on the diagram, sorted (`namespace/name`).
fn drawn_pods(session: &Session) -> Vec<String> {
    let v = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram [data-pod]')).map(e => e.dataset.pod).sort()",
    );
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Types a manifest into the console line by line, as a person pastes it.
fn apply_in_console(session: &Session, script: &str) -> String {
    let typed: String = script.lines().map(|l| format!("{l}\n")).collect();
    let typed = typed.trim_end_matches('\n').to_string();
    run_in_console(session, &typed)
}

/// Boots, applies the docs' nginx Deployment and waits for 3 Running pods.
fn three_nginx_pods(session: &Session) -> Vec<String> {
    boot(session);
    let out = apply_in_console(session, NGINX_DEPLOYMENT);
    assert!(
        out.contains("deployment.apps/nginx-deployment created"),
        "{out}\nthe whole console:\n{}",
        session.exec(
            "return Array.from(document.querySelectorAll('#console-output .console-entry')).map(e => e.textContent).join('\\n----\\n')"
        )
    );
    session.wait_for(
        "return document.querySelectorAll('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]').length === 3",
        Duration::from_secs(60),
        "three nginx pods Running on the diagram",
    );
    drawn_pods(session)
        .into_iter()
        .filter(|p| p.starts_with("default/nginx-deployment-"))
        .collect()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_docs_nginx_deployment_becomes_three_pods_and_the_inspector_explains_the_scheduling() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    let pods = three_nginx_pods(&session);
    assert_eq!(pods.len(), 3, "{pods:?}");
    // Each on a worker: control-plane nodes are tainted NoSchedule.
    let hosts = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]')).map(p => p.closest('[data-node]').dataset.node)",
    );
    for h in hosts.as_array().expect("hosts") {
        assert!(
            h.as_str().is_some_and(|h| h.starts_with("worker-")),
            "{hosts}"
        );
    }
    session.click(&format!("svg.diagram [data-pod=\"{}\"]", pods[0]));
    session.wait_for(
        "return document.querySelector('#inspector h2')",
        Duration::from_secs(5),
        "the inspector to open",
    );
    let title = session.exec("return document.querySelector('#inspector h2').textContent");
    assert_eq!(title.as_str(), Some(format!("Pod {}", pods[0]).as_str()));
    let spec = session.exec("return document.querySelector('#inspector .spec-status').textContent");
    assert!(
        spec.as_str()
            .is_some_and(|s| s.contains("nginx:1.14.2") && s.contains("Running")),
        "{spec}"
    );
    let tab = |name: &str| {
        session.exec(&format!(
            "Array.from(document.querySelectorAll('#inspector .tab')).find(t => t.textContent === '{name}').click()"
        ));
    };
    // The Owners tab: the pod hangs from its ReplicaSet, which hangs from
    // the Deployment.
    tab("Owners");
    let family = session.wait_for(
        "const t = document.querySelector('#inspector .family-tree'); return t && t.textContent",
        Duration::from_secs(5),
        "the owners tree",
    );
    let family = family.as_str().unwrap_or_default();
    for text in [
        "Deployment nginx-deployment",
        "ReplicaSet nginx-deployment-",
        "controller",
        "blockOwnerDeletion",
    ] {
        assert!(family.contains(text), "{text} missing from:\n{family}");
    }
    session.screenshot(&support::screenshot_path("inspector-owners"));
    tab("Scheduling");
    let table = session.wait_for(
        "const t = document.querySelector('#inspector .sched-table'); return t && t.textContent",
        Duration::from_secs(5),
        "the scheduler's table",
    );
    let table = table.as_str().unwrap_or_default();
    for text in [
        "TaintToleration",
        "NodeResourcesFit",
        "control-plane-1",
        "untolerated taint",
        "★ worker-",
    ] {
        assert!(
            table.contains(text),
            "{text} missing from the table:\n{table}"
        );
    }
    session.screenshot(&support::screenshot_path("inspector-scheduling"));
    // The leading kube-controller-manager lists its control loops, and the
    // Deployment and ReplicaSet controllers have been at work.
    session.exec(
        "const kcm = Array.from(document.querySelectorAll('svg.diagram [data-kind=\"KubeControllerManager\"]')).find(e => !e.textContent.includes('standby')); kcm.dispatchEvent(new MouseEvent('click', {bubbles: true}))",
    );
    let loops = session.wait_for(
        "const t = document.querySelector('#inspector .controllers-table'); return t && t.textContent",
        Duration::from_secs(5),
        "the controller-manager's control loops",
    );
    let loops = loops.as_str().unwrap_or_default();
    for text in ["deployment-controller", "replicaset-controller", "ago"] {
        assert!(loops.contains(text), "{text} missing from:\n{loops}");
    }
    session.screenshot(&support::screenshot_path("inspector-controller-manager"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_powered_off_node_turns_not_ready_and_its_pods_move_at_100x() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    three_nginx_pods(&session);
    let victim = session
        .exec("return document.querySelector('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]').closest('[data-node]').dataset.node")
        .as_str()
        .expect("a node")
        .to_string();
    run_in_console(&session, &format!("sim fault {victim} power-off"));
    session.click("#speed option[value='100']");
    session.wait_for(
        &format!("return document.querySelector('[data-node=\"{victim}\"]').textContent.includes('NotReady')"),
        Duration::from_secs(60),
        "the powered-off node drawn NotReady",
    );
    session.screenshot(&support::screenshot_path("node-not-ready"));
    // 300 s of tolerationSeconds later its pods are evicted and replaced on
    // the other workers.
    session.wait_for(
        &format!(
            "return Array.from(document.querySelectorAll('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]'))\
             .filter(p => p.closest('[data-node]').dataset.node !== '{victim}').length === 3"
        ),
        Duration::from_secs(120),
        "three Running nginx pods on the healthy workers",
    );
    session.screenshot(&support::screenshot_path("node-pods-moved"));
    // While the clock runs this fast the message log keeps 30 rows (every
    // one is replaced at each rebuild); paused, it shows 120 again.
    session.wait_for(
        "const n = document.querySelectorAll('#event-log .log-row').length; return n > 0 && n <= 30",
        Duration::from_secs(5),
        "the message log's 30 rows at 100x",
    );
    session.click("#play");
    session.wait_for(
        "return document.querySelectorAll('#event-log .log-row').length === 120",
        Duration::from_secs(5),
        "the paused message log's 120 rows",
    );
}

/// Opens the inspector's tab named `name`.
fn inspector_tab(session: &Session, name: &str) {
    session.exec(&format!(
        "Array.from(document.querySelectorAll('#inspector .tab')).find(t => t.textContent === '{name}').click()"
    ));
}

/// The chain's steps as `state|title|time` lines.
fn chain_steps(session: &Session) -> Vec<String> {
    let v = session.exec(
        "return Array.from(document.querySelectorAll('#inspector .chain-step')).map(li => li.className.replace('chain-step ', '') + '|' + li.querySelector('.chain-title').textContent + '|' + li.querySelector('.chain-time').textContent)",
    );
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The opacity of a diagram component (the chain's highlight dims the
/// others).
fn component_opacity(session: &Session, id: &str) -> String {
    session
        .exec(&format!(
            "return getComputedStyle(document.querySelector('svg.diagram [data-component=\"{id}\"]')).opacity"
        ))
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_pods_start_chain_shows_each_step_from_the_api_to_runc_and_lights_the_component() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    let pods = three_nginx_pods(&session);
    session.click(&format!("svg.diagram [data-pod=\"{}\"]", pods[0]));
    session.wait_for(
        "return document.querySelector('#inspector h2')",
        Duration::from_secs(5),
        "the inspector to open",
    );
    inspector_tab(&session, "Chain");
    session.wait_for(
        "return document.querySelectorAll('#inspector .chain-step').length > 8",
        Duration::from_secs(5),
        "the pod's start chain",
    );
    let steps = chain_steps(&session);
    let titles: Vec<&str> = steps
        .iter()
        .map(|s| s.split('|').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        titles,
        [
            "API create",
            "etcd commit",
            "scheduler bind",
            "kubelet sees it",
            "CRI RunPodSandbox",
            "PullImage nginx:1.14.2",
            "CreateContainer nginx",
            "StartContainer nginx · runc create/start",
            "nginx running",
            "Running / Ready",
        ],
        "{steps:?}"
    );
    // All happened; the last is the one reached, each with its time.
    assert!(steps.iter().all(|s| !s.starts_with("pending")), "{steps:?}");
    assert!(
        steps.last().is_some_and(|s| s.starts_with("current")),
        "{steps:?}"
    );
    assert!(
        steps[4].split('|').nth(2).is_some_and(|t| t.contains('.')),
        "the runtime's steps are timed to the millisecond: {steps:?}"
    );
    // The reached step's component (the pod's kubelet) is lit on the
    // diagram, the others dimmed.
    let node = session
        .exec(&format!(
            "return document.querySelector('svg.diagram [data-pod=\"{}\"]').closest('[data-node]').dataset.node",
            pods[0]
        ))
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(component_opacity(&session, &format!("kubelet@{node}")), "1");
    assert_ne!(component_opacity(&session, "etcd-control-plane-1"), "1");
    let current = session.exec(
        "return document.querySelector('#inspector .chain-step[aria-current=\"step\"]').getAttribute('aria-label')",
    );
    assert!(
        current
            .as_str()
            .is_some_and(|l| l.starts_with("Step 10: Running / Ready")),
        "{current}"
    );
    session.screenshot(&support::screenshot_path("chain-pod-start"));
    // The inspector covers the toggle: pressed as a keyboard user would.
    session.exec("document.querySelector('.theme-toggle').click()");
    session.screenshot(&support::screenshot_path("chain-pod-start-dark"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_nodes_failure_chain_lights_up_from_the_lease_to_the_replacement_pods() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    three_nginx_pods(&session);
    let victim = session
        .exec("return document.querySelector('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]').closest('[data-node]').dataset.node")
        .as_str()
        .expect("a node")
        .to_string();
    run_in_console(&session, &format!("sim fault {victim} power-off"));
    session.exec(&format!(
        "document.querySelector('svg.diagram [data-node=\"{victim}\"]').dispatchEvent(new MouseEvent('click', {{bubbles: true}}))"
    ));
    session.wait_for(
        "return document.querySelector('#inspector h2')",
        Duration::from_secs(5),
        "the node's inspector",
    );
    inspector_tab(&session, "Chain");
    session.wait_for(
        "return document.querySelectorAll('#inspector .chain-step').length > 4",
        Duration::from_secs(5),
        "the node's failure chain",
    );
    // Just powered off: the lease is the last thing that happened; the
    // rest is to come, Ready=Unknown due 50 s after it.
    let before = chain_steps(&session);
    assert!(
        before[0].starts_with("current|last lease renewal|"),
        "{before:?}"
    );
    assert!(
        before[1].starts_with("pending|Ready=Unknown|due ≈"),
        "{before:?}"
    );
    session.screenshot(&support::screenshot_path("chain-node-before"));
    run_in_console(&session, "sim advance 6m");
    let after = session.wait_for(
        "const s = Array.from(document.querySelectorAll('#inspector .chain-step')); return s.some(li => li.textContent.includes('replace default/nginx-deployment-')) && s.every(li => !li.classList.contains('pending')) && s.map(li => li.textContent).join('\\n')",
        Duration::from_secs(30),
        "every step done, replacements included",
    );
    let after = after.as_str().unwrap_or_default();
    for text in [
        "Ready=Unknown",
        "taint node.kubernetes.io/unreachable:NoSchedule",
        "taint node.kubernetes.io/unreachable:NoExecute",
        "evict default/nginx-deployment-",
        "bound it to worker-",
    ] {
        assert!(after.contains(text), "{text} missing from:\n{after}");
    }
    // The last step is the scheduler's: it is lit.
    let lit = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram [data-kind=\"KubeScheduler\"]')).map(e => getComputedStyle(e).opacity)",
    );
    assert!(
        lit.as_array().is_some_and(|a| a.iter().any(|o| o == "1")),
        "{lit}"
    );
    session.exec(
        "document.querySelector('#inspector .chain-step[aria-current=\"step\"]').scrollIntoView()",
    );
    session.screenshot(&support::screenshot_path("chain-node-failure"));
    // The inspector covers the toggle: pressed as a keyboard user would.
    session.exec("document.querySelector('.theme-toggle').click()");
    session.screenshot(&support::screenshot_path("chain-node-failure-dark"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_reload_replays_the_same_cluster() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    run_in_console(
        &session,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    run_in_console(&session, "sim advance 30s");
    session.wait_for(
        "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length === 2",
        Duration::from_secs(60),
        "two web pods on nodes",
    );
    session.click("#play"); // pause
    let before = drawn_pods(&session);
    assert_eq!(
        before
            .iter()
            .filter(|p| p.starts_with("default/web-"))
            .count(),
        2,
        "{before:?}"
    );
    let clock = clock_ms(&session);
    session.goto(&server.url);
    session.wait_for(
        "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length === 2",
        Duration::from_secs(60),
        "the replayed pods",
    );
    assert_eq!(drawn_pods(&session), before, "the same pods, same names");
    assert!(
        clock_ms(&session) >= clock,
        "the clock resumes where it was"
    );
    let notice = session.exec("return document.querySelector('.notice').textContent");
    assert!(
        notice.as_str().is_some_and(|n| n.contains("replayed")),
        "{notice}"
    );
    session.screenshot(&support::screenshot_path("reloaded"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_share_link_replays_the_run_in_a_fresh_profile() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let url = {
        let session = driver.session();
        open_page(&session, &server);
        boot(&session);
        run_in_console(
            &session,
            "kubectl create deployment web --image=nginx --replicas=3",
        );
        run_in_console(&session, "sim advance 20s");
        // The clock still runs at 10x: wait until all three are on nodes
        // (right after boot the scheduler may still be electing a leader).
        session.wait_for(
            "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length === 3",
            Duration::from_secs(60),
            "three web pods on nodes",
        );
        session.click("#play"); // pause
        session.click("#share");
        let url = session.wait_for(
            "const i = document.getElementById('share-url'); return i && i.value",
            Duration::from_secs(5),
            "the share link",
        );
        let pods = drawn_pods(&session);
        (
            url.as_str().expect("a link").to_string(),
            pods,
            clock_ms(&session),
        )
    };
    let (link, pods, clock) = url;
    assert!(link.contains("#run="), "{link}");
    let other = driver.session();
    other.goto(&link);
    other.wait_for(
        "const n = document.querySelector('.notice'); return n && n.textContent.includes('shared run')",
        Duration::from_secs(30),
        "the page to say it replayed a shared run",
    );
    other.wait_for(
        "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length === 3",
        Duration::from_secs(60),
        "the shared run's pods",
    );
    assert_eq!(drawn_pods(&other), pods, "the same pods, same names");
    assert_eq!(clock_ms(&other), clock, "the same moment of the run");
    other.screenshot(&support::screenshot_path("shared-run"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_embed_view_shows_the_diagram_without_the_side_panels() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    session.goto(&format!("{}?embed=1&autoplay=1&speed=10", server.url));
    session.wait_for(
        "return document.querySelectorAll('svg.diagram [data-component]').length > 0",
        Duration::from_secs(30),
        "the diagram",
    );
    let present = session.exec(
        "return ['#console-input', '#event-log', '.legend', '#scrub'].map(s => !!document.querySelector(s))",
    );
    assert_eq!(present, serde_json::json!([false, false, false, false]));
    assert_eq!(
        session.exec("return !!document.querySelector('.app.embed')"),
        serde_json::json!(true)
    );
    // autoplay: the clock runs without a click.
    session.wait_for(
        "return Number(document.getElementById('clock').dataset.ms) > 1000",
        Duration::from_secs(20),
        "the clock to run",
    );
    session.screenshot(&support::screenshot_path("embed"));
}

/// The guide's step number and status (`waiting`, `task`, `passed`,
/// `failed`).
fn guide_state(session: &Session) -> (u64, String) {
    let v = session.exec(
        "const g = document.getElementById('guide'); \
         return g ? [Number(g.dataset.step), g.dataset.status] : null",
    );
    (
        v[0].as_u64().unwrap_or(0),
        v[1].as_str().unwrap_or("").to_string(),
    )
}

/// Presses a button of the guide if it is there and enabled (by script: the
/// guide redraws as the clock runs, so an element WebDriver found may be
/// replaced, or the step may have moved on, before a WebDriver click lands;
/// the callers look at the guide again after each press).
fn press(session: &Session, id: &str) {
    session.exec(&format!(
        "const b = document.getElementById('{id}'); if (b && !b.disabled) b.click();"
    ));
}

/// Opens `?scenario=<name>` and waits for its first step.
fn open_lesson(session: &Session, server: &StaticServer, name: &str) {
    session.goto(&format!("{}?scenario={name}", server.url));
    session.wait_for(
        "return document.getElementById('guide')",
        Duration::from_secs(60),
        "the lesson guide",
    );
}

/// Plays the open lesson to its end as a learner would: Next after each
/// step, "Skip ahead" when a check waits, "Show me" for a task. Returns the
/// number of steps; fails on a failed step.
fn play_lesson_to_the_end(session: &Session) -> u64 {
    let total = session
        .exec("return Number(document.querySelector('#guide [role=progressbar]').getAttribute('aria-valuemax'))")
        .as_u64()
        .expect("a step count");
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the lesson did not finish: {:?}",
            guide_state(session)
        );
        let (step, status) = guide_state(session);
        match status.as_str() {
            "failed" => panic!(
                "step {step} failed: {}",
                session.exec("return document.querySelector('#guide .guide-status').textContent")
            ),
            "task" => press(session, "guide-solve"),
            "waiting" => {
                // The clock runs while a check waits; skipping ahead is
                // what a learner in a hurry does.
                if session.exec("return !!document.getElementById('guide-skip')")
                    == serde_json::json!(true)
                {
                    press(session, "guide-skip");
                }
            }
            "passed" if step == total => return total,
            "passed" => {
                press(session, "guide-next");
                session.wait_for(
                    &format!(
                        "return Number(document.getElementById('guide').dataset.step) === {}",
                        step + 1
                    ),
                    Duration::from_secs(30),
                    "the next step",
                );
                continue;
            }
            other => panic!("unexpected guide status {other:?} at step {step}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_life_of_a_pod_lesson_plays_to_the_end_on_the_page() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_lesson(&session, &server, "pod-life");
    // The first step names the kubelets: they are lit, the rest dimmed.
    let lit = session.exec(
        "return Array.from(document.querySelectorAll('svg.diagram .component[data-component]')) \
           .filter(e => getComputedStyle(e).opacity === '1').map(e => e.dataset.component)",
    );
    let lit: Vec<&str> = lit
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(!lit.is_empty(), "something is highlighted");
    assert!(lit.iter().all(|c| c.starts_with("kubelet@")), "{lit:?}");
    session.screenshot(&support::screenshot_path("lesson-pod-life-step-1"));
    let steps = play_lesson_to_the_end(&session);
    assert_eq!(steps, 6);
    let text = session.exec("return document.getElementById('guide').textContent");
    assert!(
        text.as_str().is_some_and(|t| t.contains("Lesson complete")),
        "{text}"
    );
    session.screenshot(&support::screenshot_path("lesson-pod-life-done"));
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_rolling_update_lesson_plays_to_the_end_and_back_replays_a_step() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_lesson(&session, &server, "rolling-update");
    let steps = play_lesson_to_the_end(&session);
    assert!(steps >= 3, "{steps}");
    // Back replays the run from its seed to where the previous step began:
    // the console then holds exactly what it held at that moment, every
    // output (ages included) reproduced by the replay.
    const ENTRIES: &str = "return Array.from(document.querySelectorAll('#console-output .console-entry')).map(e => e.textContent)";
    let before = session.exec(ENTRIES);
    let before = before.as_array().expect("entries").clone();
    press(&session, "guide-back");
    session.wait_for(
        &format!(
            "return Number(document.getElementById('guide').dataset.step) === {}",
            steps - 1
        ),
        Duration::from_secs(60),
        "the previous step",
    );
    let after = session.exec(ENTRIES);
    let after = after.as_array().expect("entries").clone();
    assert!(
        !after.is_empty() && after.len() < before.len(),
        "{} entries after Back, {} before",
        after.len(),
        before.len()
    );
    assert_eq!(
        after,
        before[..after.len()],
        "the replay prints what the run printed"
    );
    let back_to_end = play_lesson_to_the_end(&session);
    assert_eq!(back_to_end, steps);
    press(&session, "guide-restart");
    session.wait_for(
        "return Number(document.getElementById('guide').dataset.step) === 1",
        Duration::from_secs(60),
        "the first step again",
    );
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_lessons_menu_lists_the_library_and_a_missing_lesson_says_so() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    session.click("#lessons");
    let titles = session.wait_for(
        "const a = document.querySelectorAll('#lessons-menu a'); \
         return a.length ? Array.from(a).map(x => x.getAttribute('href')) : null",
        Duration::from_secs(10),
        "the lessons",
    );
    let hrefs: Vec<&str> = titles
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(hrefs.contains(&"?scenario=pod-life"), "{hrefs:?}");
    assert!(hrefs.len() >= 10, "{hrefs:?}");
    session.goto(&format!("{}?scenario=no-such-lesson", server.url));
    let notice = session.wait_for(
        "const n = document.querySelector('.notice'); return n && n.textContent.includes('could not be opened') && n.textContent",
        Duration::from_secs(30),
        "the page to say the lesson is missing",
    );
    assert!(
        notice.as_str().is_some_and(|n| n.contains("404")),
        "{notice}"
    );
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn kubectl_get_watch_streams_rows_in_the_console_until_ctrl_c() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    run_in_console(
        &session,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    run_in_console(&session, "kubectl get pods -w");
    session.wait_for(
        "return document.getElementById('console-stop')",
        Duration::from_secs(10),
        "the console to say a watch is open",
    );
    // The clock runs at 10x: the pods' changes arrive as rows.
    let rows = session.wait_for(
        "const e = document.querySelectorAll('#console-output .console-entry'); \
         const r = e[e.length - 1].querySelector('.console-result'); \
         const t = r ? r.textContent : ''; \
         return (t.match(/Running/g) || []).length >= 2 && t",
        Duration::from_secs(60),
        "both pods Running in the watch's rows",
    );
    assert!(rows.as_str().is_some_and(|t| t.contains("web-")), "{rows}");
    session.screenshot(&support::screenshot_path("console-watch"));
    // Ctrl+C (Control, c, then release the modifier).
    session.type_into("#console-input", "\u{E009}c\u{E000}");
    session.wait_for(
        "return !document.getElementById('console-stop')",
        Duration::from_secs(10),
        "the watch to stop",
    );
    let last = session.exec(
        "const e = document.querySelectorAll('#console-output .console-input'); return e[e.length - 1].textContent",
    );
    assert!(last.as_str().is_some_and(|t| t.ends_with("^C")), "{last}");
}

/// Puts `text` into the YAML editor as a paste does (one input event).
fn paste_into_editor(session: &Session, text: &str) {
    session.exec(&format!(
        "const a = document.getElementById('editor-input'); a.focus(); a.value = {}; \
         a.dispatchEvent(new InputEvent('input', {{ bubbles: true, inputType: 'insertFromPaste' }})); return true",
        serde_json::Value::String(text.to_string())
    ));
}

/// Clicks an editor button and waits for its verdict to change to one
/// containing `expect`; returns the verdict and messages.
fn editor_submit(session: &Session, button: &str, expect: &str) -> String {
    let seq = session
        .exec("const r = document.getElementById('editor-result'); return r ? Number(r.dataset.seq) : 0")
        .as_u64()
        .unwrap_or(0);
    session.click(button);
    let text = session.wait_for(
        &format!(
            "const r = document.getElementById('editor-result'); \
             return r && Number(r.dataset.seq) > {seq} && r.textContent"
        ),
        Duration::from_secs(20),
        "the editor's verdict",
    );
    let text = text.as_str().unwrap_or_default().to_string();
    assert!(
        text.contains(expect),
        "{expect} missing from the verdict:\n{text}"
    );
    text
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_yaml_editor_shows_a_typo_at_its_line_and_applies_the_fixed_manifest() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    session.click("#open-editor");
    session.wait_for(
        "return document.activeElement && document.activeElement.id === 'editor-input'",
        Duration::from_secs(5),
        "the editor to open with its text area focused",
    );
    let manifest: String = NGINX_DEPLOYMENT
        .lines()
        .skip(1)
        .take_while(|l| *l != "---end")
        .map(|l| format!("{l}\n"))
        .collect();
    // A typo'd field: strict decoding refuses it; the error sits at its line.
    let typo = manifest.replace("        image: nginx", "        imagee: nginx");
    let typo_line = typo
        .lines()
        .position(|l| l.contains("imagee"))
        .expect("the typo")
        + 1;
    paste_into_editor(&session, &typo);
    let verdict = editor_submit(&session, "#editor-validate", "unknown field");
    assert!(
        verdict.contains("spec.template.spec.containers[0].imagee"),
        "{verdict}"
    );
    let marked = session.exec(
        "return Array.from(document.querySelectorAll('#editor-result .editor-error[data-line]')).map(e => Number(e.dataset.line))",
    );
    assert_eq!(marked, serde_json::json!([typo_line]));
    let gutter = session.exec(
        "return Array.from(document.querySelectorAll('.editor-gutter .gutter-line')).map((e, i) => e.classList.contains('error') ? i + 1 : 0).filter(n => n)",
    );
    assert_eq!(gutter, serde_json::json!([typo_line]));
    assert_eq!(
        session.exec("return document.getElementById('editor-input').getAttribute('aria-invalid')"),
        serde_json::json!("true")
    );
    // "Go to line" puts the caret at the start of that line.
    session.click("#editor-result .editor-goto");
    let expected: usize = typo.lines().take(typo_line - 1).map(|l| l.len() + 1).sum();
    let caret = session.exec(&format!(
        "const a = document.getElementById('editor-input'); \
         return [a.selectionStart, document.activeElement && document.activeElement.id, {expected}]"
    ));
    assert_eq!(
        caret,
        serde_json::json!([expected, "editor-input", expected])
    );
    session.screenshot(&support::screenshot_path("editor-typo"));
    // Nothing was created by the refused manifest.
    assert!(drawn_pods(&session)
        .iter()
        .all(|p| !p.starts_with("default/nginx-deployment-")));
    // A 422 from validation: the field path leads to its line too.
    let negative = manifest.replace("replicas: 3", "replicas: -1");
    paste_into_editor(&session, &negative);
    editor_submit(&session, "#editor-validate", "is invalid");
    let replicas_line = negative
        .lines()
        .position(|l| l.contains("replicas: -1"))
        .expect("replicas")
        + 1;
    assert_eq!(
        session.exec(
            "return Array.from(document.querySelectorAll('#editor-result .editor-error[data-line]')).map(e => Number(e.dataset.line))",
        ),
        serde_json::json!([replicas_line])
    );
    // A YAML syntax error: at its line, and underlined at the column where
    // the parser stopped (the second colon).
    let broken = manifest.replace("  replicas: 3", "  replicas: 3: x");
    paste_into_editor(&session, &broken);
    editor_submit(
        &session,
        "#editor-validate",
        "mapping values are not allowed",
    );
    assert_eq!(
        session.exec(
            "return Array.from(document.querySelectorAll('#editor-result .editor-error[data-line]')).map(e => [Number(e.dataset.line), Number(e.dataset.column)])",
        ),
        serde_json::json!([[replicas_line, 14]])
    );
    assert_eq!(
        session.exec(
            "return Array.from(document.querySelectorAll('.editor-code .col-mark')).map(e => [Number(e.dataset.line), Number(e.dataset.column)])",
        ),
        serde_json::json!([[replicas_line, 14]])
    );
    session.click("#editor-result .editor-goto");
    let expected: usize = broken
        .lines()
        .take(replicas_line - 1)
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + 13;
    assert_eq!(
        session.exec("return document.getElementById('editor-input').selectionStart"),
        serde_json::json!(expected)
    );
    session.screenshot(&support::screenshot_path("editor-syntax-column"));
    // Fixed: the dry run passes and stores nothing, then Apply creates it.
    paste_into_editor(&session, &manifest);
    let valid = editor_submit(&session, "#editor-validate", "Valid");
    assert!(valid.contains("(server dry run)"), "{valid}");
    let applied = editor_submit(
        &session,
        "#editor-apply",
        "deployment.apps/nginx-deployment created",
    );
    assert!(!applied.contains("dry run"), "{applied}");
    // The console shows the same command, as if typed there.
    let typed = session.exec(
        "return Array.from(document.querySelectorAll('#console-output .console-input')).map(e => e.textContent).join('\\n')",
    );
    assert!(
        typed
            .as_str()
            .is_some_and(|t| t.contains("kubectl apply -f -")),
        "{typed}"
    );
    session.wait_for(
        "return document.querySelectorAll('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]').length === 3",
        Duration::from_secs(60),
        "three nginx pods Running on the diagram",
    );
    session.screenshot(&support::screenshot_path("editor-applied"));
    // Both themes: the dark one draws the editor too.
    session.click(".theme-toggle");
    paste_into_editor(&session, &typo);
    editor_submit(&session, "#editor-validate", "unknown field");
    session.screenshot(&support::screenshot_path("editor-typo-dark"));
    // Escape closes it.
    session.type_into("#editor-input", "\u{E00C}");
    session.wait_for(
        "return !document.getElementById('yaml-editor')",
        Duration::from_secs(5),
        "Escape to close the editor",
    );
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn kubectl_edit_opens_the_deployment_in_the_editor_and_save_sends_a_patch() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    three_nginx_pods(&session);
    run_in_console(&session, "kubectl edit deployment nginx-deployment");
    let title = session.wait_for(
        "const t = document.getElementById('editor-title'); return t && t.textContent",
        Duration::from_secs(5),
        "the editor to open on the Deployment",
    );
    assert_eq!(
        title,
        serde_json::json!("Editing: kubectl edit deployment nginx-deployment")
    );
    let text = session
        .exec("return document.getElementById('editor-input').value")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.starts_with("# Please edit the object below."),
        "{text}"
    );
    assert!(text.contains("\n  replicas: 3\n"), "{text}");
    assert!(text.contains("\n  resourceVersion: "), "{text}");
    assert_eq!(
        session.exec("return document.getElementById('editor-apply').textContent"),
        serde_json::json!("Save")
    );
    // Unchanged: nothing is sent.
    editor_submit(
        &session,
        "#editor-apply",
        "Edit cancelled, no changes made.",
    );
    // A typo: the API server's strict decoding refuses the patch, and the
    // error sits at the line of the field.
    let typo = text.replacen("\n  replicas: 3\n", "\n  replicass: 5\n", 1);
    let typo_line = typo
        .lines()
        .position(|l| l == "  replicass: 5")
        .expect("the typo")
        + 1;
    paste_into_editor(&session, &typo);
    let verdict = editor_submit(&session, "#editor-apply", "unknown field");
    assert!(verdict.contains("spec.replicass"), "{verdict}");
    assert_eq!(
        session.exec(
            "return Array.from(document.querySelectorAll('#editor-result .editor-error[data-line]')).map(e => Number(e.dataset.line))",
        ),
        serde_json::json!([typo_line])
    );
    session.screenshot(&support::screenshot_path("edit-typo"));
    // Fixed: Save sends what changed as a merge patch, typed in the
    // console as if by hand, and closes the editor.
    let scaled = text.replacen("\n  replicas: 3\n", "\n  replicas: 5\n", 1);
    paste_into_editor(&session, &scaled);
    session.click("#editor-apply");
    session.wait_for(
        "return !document.getElementById('yaml-editor')",
        Duration::from_secs(20),
        "a saved edit to close the editor",
    );
    let last = session.exec(
        "const e = document.querySelectorAll('#console-output .console-entry'); return e[e.length - 1].textContent",
    );
    let last = last.as_str().unwrap_or_default();
    assert!(
        last.contains(
            "kubectl patch deployments/nginx-deployment -n default --type merge -p '{\"spec\":{\"replicas\":5}}'"
        ),
        "{last}"
    );
    assert!(
        last.contains("deployment.apps/nginx-deployment patched"),
        "{last}"
    );
    session.wait_for(
        "return document.querySelectorAll('svg.diagram .pod.running[data-pod^=\"default/nginx-deployment-\"]').length === 5",
        Duration::from_secs(60),
        "five nginx pods Running on the diagram",
    );
    session.screenshot(&support::screenshot_path("edit-saved"));
    let errors: Vec<_> = session
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// WebDriver's Tab and Escape keys.
const TAB: &str = "\u{E004}";
const ESCAPE: &str = "\u{E00C}";

fn console_value(session: &Session) -> String {
    session
        .exec("return document.getElementById('console-input').value")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn tab_completes_types_and_names_in_the_console_and_escape_then_tab_leaves_it() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    three_nginx_pods(&session);

    // A resource type completes to its plural, and the focus stays.
    session.type_into("#console-input", &format!("kubectl get dep{TAB}"));
    session.wait_for(
        "return document.getElementById('console-input').value === 'kubectl get deployments '",
        Duration::from_secs(10),
        "`kubectl get dep` Tab to complete to `kubectl get deployments `",
    );
    assert_eq!(
        session.exec("return document.activeElement && document.activeElement.id"),
        serde_json::json!("console-input"),
        "Tab with something to complete keeps the focus in the console"
    );
    let out = run_in_console(&session, "");
    assert!(out.contains("nginx-deployment"), "{out}");

    // `type/name`: the Deployment's name from the cluster.
    session.type_into("#console-input", &format!("kubectl scale deploy/ng{TAB}"));
    session.wait_for(
        "return document.getElementById('console-input').value === 'kubectl scale deploy/nginx-deployment '",
        Duration::from_secs(10),
        "`kubectl scale deploy/ng` Tab to complete the Deployment's name",
    );
    let out = run_in_console(&session, "--replicas=2");
    assert!(
        out.contains("deployment.apps/nginx-deployment scaled"),
        "{out}"
    );

    // Several candidates are listed under the prompt.
    session.type_into("#console-input", &format!("kubectl c{TAB}"));
    let listed = session.wait_for(
        "const l = document.querySelectorAll('#console-completions[role=listbox] [role=option]'); \
         return l.length > 1 && Array.from(l).map(o => o.textContent)",
        Duration::from_secs(10),
        "the candidates listed under the prompt",
    );
    let listed: Vec<&str> = listed
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for verb in ["cordon", "create"] {
        assert!(listed.contains(&verb), "{verb} in {listed:?}");
    }
    assert_eq!(console_value(&session), "kubectl c");
    session.screenshot(&support::screenshot_path("console-completion"));

    // Escape closes the list, and the next Tab leaves the console.
    session.type_into("#console-input", &format!("{ESCAPE}{TAB}"));
    session.wait_for(
        "return !document.getElementById('console-completions') && document.activeElement && document.activeElement.id !== 'console-input'",
        Duration::from_secs(10),
        "Escape then Tab to close the list and move the focus on",
    );
    assert_eq!(console_value(&session), "kubectl c");
}

/// Moves the timeline's handle back to `ms`, as a person dragging it
/// does, and returns where the clock lands: `ms`, or later when a command
/// recorded before `ms` ran past it (a `sim advance` typed at 8:17 ends at
/// 9:17, from the seed as from a checkpoint).
fn scrub_back_to(session: &Session, ms: u64) -> u64 {
    let before = clock_ms(session);
    assert!(ms < before, "a scrub back");
    session.exec(&format!(
        "const s = document.getElementById('scrub'); s.value = '{ms}'; s.dispatchEvent(new Event('change'))"
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = clock_ms(session);
        if now < before && now >= ms {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the clock never went back to {ms}: it shows {now}; the browser console: {:?}",
            session.console()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the page shows of the cluster: the pods on the diagram, the
/// components' text (raft roles and terms, leaders) and the message log.
fn drawn_state(session: &Session) -> String {
    let v = session.exec(
        "return [\
           Array.from(document.querySelectorAll('svg.diagram [data-pod]')).map(e => e.dataset.pod + '@' + (e.closest('[data-node]') || {dataset: {}}).dataset.node).sort().join(' '),\
           Array.from(document.querySelectorAll('svg.diagram [data-component]')).map(e => e.dataset.component + ': ' + e.textContent).sort().join('\\n'),\
           Array.from(document.querySelectorAll('#event-log .log-row')).map(e => e.textContent).join('\\n')\
         ].join('\\n---\\n')",
    );
    v.as_str().unwrap_or_default().to_string()
}

/// The wall milliseconds of each scrub back this page did (`?perf=1`).
fn scrub_timings(session: &Session) -> Vec<f64> {
    session
        .exec("return window.__kubesimScrub || []")
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_scrub_back_on_a_ten_minute_run_restores_a_checkpoint_and_shows_the_replayed_state() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let target = 9 * 60_000;
    let (link, state, quick, landed, copies) = {
        let session = driver.session();
        session.goto(&format!("{}?perf=1", server.url));
        session.wait_for(
            "return document.querySelectorAll('svg.diagram [data-component]').length > 0",
            Duration::from_secs(30),
            "the diagram to be drawn",
        );
        boot(&session);
        session.click("#play"); // pause: the run is the commands below
        run_in_console(
            &session,
            "kubectl create deployment web --image=nginx --replicas=50",
        );
        // Ten minutes of run in one-minute strides, with faults on the way;
        // a checkpoint is kept after each stride.
        for minute in 1..=10 {
            // More than the page's wall-time gap between two checkpoints.
            std::thread::sleep(Duration::from_millis(1100));
            let cmd = match minute {
                3 => "sim fault etcd/leader crash",
                4 => "sim heal all",
                6 => "kubectl scale deployment web --replicas=30",
                _ => "sim advance 60s",
            };
            run_in_console(&session, cmd);
            if !cmd.starts_with("sim advance") {
                run_in_console(&session, "sim advance 60s");
            }
        }
        assert!(clock_ms(&session) > 10 * 60_000, "ten minutes ran");
        session.screenshot(&support::screenshot_path("scrub-before"));
        let landed = scrub_back_to(&session, target);
        session.wait_for(
            "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length >= 10",
            Duration::from_secs(30),
            "the Deployment's pods drawn at 9:00",
        );
        session.screenshot(&support::screenshot_path("scrub-back-checkpoint"));
        let state = drawn_state(&session);
        let quick = scrub_timings(&session);
        let copies: Vec<f64> = session
            .exec("return window.__kubesimCheckpoint || []")
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
            .unwrap_or_default();
        session.click("#share");
        let link = session.wait_for(
            "const i = document.getElementById('share-url'); return i && i.value",
            Duration::from_secs(5),
            "the share link",
        );
        (
            link.as_str().expect("a link").to_string(),
            state,
            quick,
            landed,
            copies,
        )
    };
    // The same run in a fresh page, which has no checkpoints: its scrub
    // back replays from the seed, and must show the same cluster.
    let other = driver.session();
    other.goto(&link);
    other.wait_for(
        "const n = document.querySelector('.notice'); return n && n.textContent.includes('shared run')",
        Duration::from_secs(60),
        "the page to say it replayed a shared run",
    );
    assert_eq!(
        scrub_back_to(&other, target),
        landed,
        "both land at the same moment"
    );
    other.wait_for(
        "return document.querySelectorAll('svg.diagram [data-pod^=\"default/web-\"]').length >= 10",
        Duration::from_secs(30),
        "the Deployment's pods drawn at 9:00",
    );
    other.screenshot(&support::screenshot_path("scrub-back-from-seed"));
    let slow = scrub_timings(&other);
    let replayed = drawn_state(&other);
    assert!(state.contains("default/web-"), "{state}");
    assert!(
        state == replayed,
        "the same cluster at 9:00 both ways:\n{state}\n=====\n{replayed}"
    );
    let (quick, slow) = (quick.last().copied(), slow.last().copied());
    eprintln!("checkpoints taken on the first page, ms each: {copies:?}");
    eprintln!("scrub back to 9:00: from a checkpoint {quick:?} ms, from the seed {slow:?} ms");
    assert!(
        quick.is_some() && slow.is_some(),
        "both pages timed their scrub"
    );
}

/// Plays at `speed` until the clock passes `ms`, then pauses; returns the
/// clock.
fn play_until(session: &Session, speed: &str, ms: u64) -> u64 {
    session.click("#play");
    session.click(&format!("#speed option[value='{speed}']"));
    session.wait_for(
        &format!("return Number(document.getElementById('clock').dataset.ms) >= {ms}"),
        Duration::from_secs(60),
        "the clock to play on",
    );
    session.click("#play");
    clock_ms(session)
}

fn console_text(session: &Session) -> String {
    session
        .exec("return document.getElementById('console-output').textContent")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn play_after_a_scrub_back_replays_the_later_commands_at_their_times() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    session.click("#play"); // pause
    run_in_console(&session, "kubectl create deployment early --image=nginx");
    let start = clock_ms(&session);
    let typed_late_at = play_until(&session, "100", start + 60_000);
    let out = run_in_console(
        &session,
        "kubectl create deployment late --image=nginx --replicas=2",
    );
    assert!(out.contains("deployment.apps/late created"), "{out}");
    play_until(&session, "100", typed_late_at + 60_000);
    let late_pods =
        "return document.querySelectorAll('svg.diagram [data-pod^=\"default/late-\"]').length";
    session.wait_for(
        &format!("{late_pods} === 2"),
        Duration::from_secs(10),
        "the late Deployment's two pods drawn",
    );

    // Back to before `late` was typed: its pods are gone.
    let landed = scrub_back_to(&session, typed_late_at - 20_000);
    assert_eq!(landed, typed_late_at - 20_000);
    session.wait_for(
        &format!("{late_pods} === 0"),
        Duration::from_secs(10),
        "no late pods before the command",
    );
    assert!(
        !console_text(&session).contains("deployment.apps/late created"),
        "the console is back to its state at the scrub"
    );
    session.screenshot(&support::screenshot_path("replay-scrubbed-back"));

    // Play replays the run onward: the recorded command runs at its time.
    let replayed_to = play_until(&session, "10", typed_late_at + 40_000);
    assert!(replayed_to > typed_late_at);
    assert!(
        console_text(&session).contains("deployment.apps/late created"),
        "the recorded command ran again: {}",
        console_text(&session)
    );
    session.wait_for(
        &format!("{late_pods} === 2"),
        Duration::from_secs(30),
        "the late Deployment's pods drawn again",
    );
    session.screenshot(&support::screenshot_path("replay-played-on"));

    // A command typed after a scrub back starts a new future instead: the
    // recorded `late` is forgotten.
    scrub_back_to(&session, typed_late_at - 20_000);
    let out = run_in_console(&session, "kubectl get deployments");
    assert!(out.contains("early") && !out.contains("late"), "{out}");
    play_until(&session, "100", typed_late_at + 40_000);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        session.exec(late_pods).as_u64(),
        Some(0),
        "the forgotten command did not run"
    );
    let marks = session.exec(
        "return Array.from(document.querySelectorAll('.marks .mark')).map(m => m.title).join('\\n')",
    );
    let marks = marks.as_str().unwrap_or_default();
    assert!(
        marks.contains("deployment early") && !marks.contains("deployment late"),
        "the timeline marks the commands kept, not the forgotten one: {marks}"
    );
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_page_works_offline_once_loaded() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    // The service worker keeps the page's files once the page has started:
    // the page, its wasm, and every lesson of the library.
    let cached = session.wait_for(
        "caches.open('kubesim').then(c => c.keys()).then(k => { window.__cached = k.map(r => new URL(r.url).pathname); }); \
         const c = window.__cached || []; \
         return navigator.serviceWorker.controller && c.some(u => u.endsWith('_bg.wasm')) \
           && c.some(u => u.endsWith('/explain.json')) && c.some(u => u.endsWith('/scenarios/node-failure.yaml')) && c",
        Duration::from_secs(30),
        "the service worker to keep the page's files",
    );
    assert!(
        cached
            .as_array()
            .is_some_and(|c| c.iter().any(|u| u.as_str() == Some("/"))),
        "the page itself is kept: {cached}"
    );

    // The network goes: a reload still opens a working cluster.
    server.go_offline();
    let refused =
        session.exec("return fetch('/nothing-here.txt').then(() => 'answered', () => 'failed')");
    assert_eq!(refused, serde_json::json!("failed"), "the server is gone");
    open_page(&session, &server);
    boot(&session);
    let out = run_in_console(&session, "kubectl explain pod.spec.nodeName");
    assert!(out.contains("FIELD: nodeName <string>"), "{out}");
    session.screenshot(&support::screenshot_path("offline-reload"));

    // A lesson never opened before opens too.
    open_lesson(&session, &server, "node-failure");
    let (step, _) = guide_state(&session);
    assert_eq!(step, 1, "the lesson's first step");
    let errors: Vec<_> = session
        .console()
        .into_iter()
        .filter(|(level, message)| level == "SEVERE" && !message.contains("nothing-here"))
        .collect();
    assert!(errors.is_empty(), "no console errors offline: {errors:?}");
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn the_events_tab_lists_kubernetes_events_filtered_by_object_and_component() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    open_page(&session, &server);
    boot(&session);
    let out = run_in_console(
        &session,
        "kubectl create deployment web --image=nginx --replicas=2",
    );
    assert!(out.contains("deployment.apps/web created"), "{out}");
    run_in_console(&session, "sim advance 20s");
    session.click("#log-tab-events");
    let reasons = session.wait_for(
        "const r = Array.from(document.querySelectorAll('#k8s-events .event-row')).map(e => e.dataset.reason); \
         return r.includes('Started') && r.includes('Scheduled') && r.includes('ScalingReplicaSet') && r",
        Duration::from_secs(20),
        "the Deployment's events in the Events tab",
    );
    assert!(reasons.is_array());
    assert_eq!(
        session
            .exec("return document.getElementById('log-tab-events').getAttribute('aria-selected')"),
        serde_json::json!("true")
    );
    session.screenshot(&support::screenshot_path("events-tab"));

    // By component: only the kubelets' events.
    session.exec(
        "const s = document.getElementById('events-source'); s.value = 'kubelet'; s.dispatchEvent(new Event('change'))",
    );
    session.wait_for(
        "const r = Array.from(document.querySelectorAll('#k8s-events .event-row')); \
         return r.length > 0 && r.every(e => e.dataset.source === 'kubelet')",
        Duration::from_secs(10),
        "only the kubelets' events",
    );
    // And by object: one pod's events, as `kubectl events --for pod/...`.
    let pod = session
        .exec(
            "return Array.from(document.querySelectorAll('#k8s-events .event-object')).map(e => e.textContent).find(t => t.startsWith('pod/web-'))",
        )
        .as_str()
        .expect("a web pod's event")
        .to_string();
    session.type_into("#events-object", &pod);
    let objects = session.wait_for(
        &format!(
            "const r = Array.from(document.querySelectorAll('#k8s-events .event-object')).map(e => e.textContent); \
             return r.length > 0 && r.every(t => t === '{pod}') && r"
        ),
        Duration::from_secs(10),
        "only that pod's events",
    );
    assert!(objects.as_array().is_some_and(|r| !r.is_empty()));
    session.screenshot(&support::screenshot_path("events-tab-filtered"));

    // The Messages tab is still there.
    session.click("#log-tab-messages");
    session.wait_for(
        "return document.querySelectorAll('#event-log .log-row').length > 0",
        Duration::from_secs(10),
        "the messages again",
    );
}

/// The centre of the first pod tile of the first canvas node with pods, in
/// client pixels (scrolled into view), from the node's hit box and the
/// layout's geometry of a worker (layout.rs: a 46 px header, two rows of
/// 48 px chips 8 apart, then the pods area; a tile is 62 x 16, 4 in from
/// the area's corner, the area 12 in from the node's edge).
const FIRST_TILE: &str = "const r = Array.from(document.querySelectorAll('svg.diagram rect.node-hit')) \
      .find(r => !/, 0 pods$/.test(r.getAttribute('aria-label'))); \
    if (!r) return null; \
    r.scrollIntoView({ block: 'center' }); \
    const b = r.getBoundingClientRect(); const k = b.width / Number(r.getAttribute('width')); \
    return { node: r.dataset.node, x: b.left + (12 + 4 + 31) * k, y: b.top + (46 + 56 + 56 + 4 + 8) * k }";

/// Dispatches a mouse event of `kind` at client `(x, y)` on what is there.
fn mouse_at(session: &Session, kind: &str, x: f64, y: f64) -> serde_json::Value {
    session.exec(&format!(
        "const el = document.elementFromPoint({x}, {y}); if (!el) return null; \
         el.dispatchEvent(new MouseEvent('{kind}', {{ clientX: {x}, clientY: {y}, bubbles: true, cancelable: true, view: window }})); \
         return el.getAttribute('class')"
    ))
}

#[test]
#[ignore = "drives the built page in headless Chromium: run by `cargo xtask test`"]
fn a_hundred_node_cluster_is_drawn_on_a_canvas_and_the_pod_under_the_pointer_opens() {
    let server = StaticServer::start(support::dist_dir());
    let driver = Driver::start();
    let session = driver.session();
    session.goto(&format!("{}?workers=97", server.url));
    session.wait_for(
        "const c = document.querySelector('.diagram-stack .node-canvas'); return c && c.dataset.nodes === '97'",
        Duration::from_secs(60),
        "the 97 workers painted on the canvas",
    );
    // The SVG keeps the control plane and a named, focusable hit box per
    // worker; the workers' boxes, chips and pods are not SVG elements.
    let counts = session.exec(
        "return [document.querySelectorAll('svg.diagram rect.node-hit[tabindex=\"0\"][aria-label]').length, \
                 document.querySelectorAll('svg.diagram [data-node]').length, \
                 document.querySelectorAll('svg.diagram .node.worker, svg.diagram [data-pod]').length, \
                 document.querySelectorAll('svg.diagram .node.control-plane').length]",
    );
    assert_eq!(counts, serde_json::json!([97, 100, 0, 3]));
    let role = session.exec(
        "const c = document.querySelector('.node-canvas'); return [c.getAttribute('role'), c.getAttribute('aria-label')]",
    );
    assert_eq!(role[0], "img", "{role}");
    assert!(
        role[1]
            .as_str()
            .is_some_and(|l| l.starts_with("97 worker nodes")),
        "{role}"
    );
    // The canvas has painted the nodes: a point inside a worker's box is
    // opaque (its fill) in the tile it falls on. The tiles' pixels go to
    // an OffscreenCanvas, so they are read back through an ImageBitmap.
    session.exec(
        "window.__kubesimPixel = null; \
         const r = document.querySelector('rect.node-hit[data-node=\"worker-50\"]').getBoundingClientRect(); \
         const x = r.left + r.width * 0.1, y = r.top + 6; \
         const tile = Array.from(document.querySelectorAll('.node-canvas canvas.node-tile')) \
           .find(t => { const b = t.getBoundingClientRect(); return y >= b.top && y < b.bottom; }); \
         const b = tile.getBoundingClientRect(); \
         createImageBitmap(tile).then(bmp => { \
           const c = document.createElement('canvas'); c.width = bmp.width; c.height = bmp.height; \
           const g = c.getContext('2d'); g.drawImage(bmp, 0, 0); \
           const k = bmp.width / b.width; \
           window.__kubesimPixel = [g.getImageData(Math.floor((x - b.left) * k), Math.floor((y - b.top) * k), 1, 1).data[3]]; \
         }, e => { window.__kubesimPixel = [String(e)]; }); \
         return true",
    );
    let painted = session.wait_for(
        "return window.__kubesimPixel",
        Duration::from_secs(5),
        "the tile's pixels read back",
    );
    assert_eq!(painted, serde_json::json!([255]));
    session.click("#play");
    session.click("#speed option[value='10']");
    wait_for_api(&session);
    let out = run_in_console(
        &session,
        "kubectl create deployment web --image=nginx --replicas=12",
    );
    assert!(out.contains("created"), "{out}");
    // The Deployment.s pods bound (the hit boxes. labels count them), then paused, so
    // the tile measured is the tile clicked.
    session.wait_for(
        "return Array.from(document.querySelectorAll('svg.diagram rect.node-hit')) \
           .map(r => Number((r.getAttribute('aria-label').match(/, (\\d+) pods$/) || [0, 0])[1])) \
           .reduce((a, b) => a + b, 0) >= 12",
        Duration::from_secs(60),
        "the 12 pods bound to workers",
    );
    session.click("#play");
    let tile = session.wait_for(FIRST_TILE, Duration::from_secs(10), "a worker with pods");
    let (x, y) = (
        tile["x"].as_f64().expect("x"),
        tile["y"].as_f64().expect("y"),
    );
    let node = tile["node"].as_str().expect("a node").to_string();
    // Hovering the tile names its pod.
    let under = mouse_at(&session, "mousemove", x, y);
    assert_eq!(
        under.as_str(),
        Some("node-hit"),
        "the hit box is under the pointer"
    );
    let tip = session.wait_for(
        "const t = document.querySelector('.diagram-tip'); return t && !t.hidden && t.textContent",
        Duration::from_secs(5),
        "the tooltip",
    );
    let tip = tip.as_str().unwrap_or_default().to_string();
    // The pod under the pointer (the Deployment's, or an add-on's).
    assert!(tip.starts_with("pod ") && tip.contains('/'), "{tip}");
    let pod = tip
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("pod ")
        .to_string();
    // ... and outlines its tile (a pod tile is 62 units wide).
    let outline = session.exec(
        "const o = document.querySelector('svg.diagram rect.canvas-hover'); \
         return [o.getAttribute('visibility'), Number(o.getAttribute('width'))]",
    );
    assert_eq!(outline, serde_json::json!(["visible", 64]), "{outline}");
    session.screenshot(&support::screenshot_path("canvas-view-light"));
    // Clicking it opens the pod in the inspector.
    mouse_at(&session, "click", x, y);
    session.wait_for(
        &format!("const h = document.querySelector('#inspector h2'); return h && h.textContent === 'Pod {pod}'"),
        Duration::from_secs(5),
        "the inspector on the pod under the pointer",
    );
    // The keyboard reaches the node: its hit box takes focus, and Enter
    // opens it.
    session.exec(&format!(
        "const r = document.querySelector('rect.node-hit[data-node=\"{node}\"]'); r.focus(); \
         r.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true, cancelable: true }}))"
    ));
    session.wait_for(
        &format!("const h = document.querySelector('#inspector h2'); return h && h.textContent.includes('{node}')"),
        Duration::from_secs(5),
        "the inspector on the focused node",
    );
    // The dark theme repaints the canvas in its colours (the toggle is
    // clicked by script: the page is scrolled down to the node).
    session.exec("document.querySelector('.theme-toggle').click()");
    session.exec(&format!(
        "document.querySelector('rect.node-hit[data-node=\"{node}\"]').scrollIntoView({{ block: 'center' }})"
    ));
    std::thread::sleep(Duration::from_millis(300));
    session.screenshot(&support::screenshot_path("canvas-view-dark"));
    let errors: Vec<_> = session
        .console()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
