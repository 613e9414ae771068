//! The runtime driven as the kubelet will drive it.

use super::*;
use crate::api::pod::ResourceRequirements;
use k8s_openapi::api::core::v1::{
    ContainerPort, ExecAction, GRPCAction, HTTPGetAction, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

fn t(s: u64) -> SimTime {
    SimTime(s * 1000)
}

fn ctr(image: &str) -> Container {
    Container {
        name: "c".into(),
        image: Some(image.into()),
        ..Default::default()
    }
}

fn with_cmd(mut c: Container, cmd: &[&str]) -> Container {
    c.command = Some(cmd.iter().map(|s| s.to_string()).collect());
    c
}

fn with_args(mut c: Container, args: &[&str]) -> Container {
    c.args = Some(args.iter().map(|s| s.to_string()).collect());
    c
}

fn with_memory_limit(mut c: Container, q: &str) -> Container {
    c.resources = Some(Box::new(ResourceRequirements {
        limits: Some([("memory".to_string(), Q(q.into()))].into()),
        ..Default::default()
    }));
    c
}

fn sandbox(rt: &mut Containerd, now: SimTime, spec_containers: Vec<Container>) -> String {
    let spec = PodSpec {
        containers: spec_containers.into(),
        ..Default::default()
    };
    let mut cfg = PodSandboxConfig::for_pod("web", "default", "1234-abcd", &spec);
    cfg.ip = Some("10.244.1.5".into());
    rt.run_pod_sandbox(now, cfg).result.unwrap()
}

/// Pulls the image, creates a sandbox and starts the container; returns the
/// container id and the runtime advanced to when it runs.
fn run(c: Container) -> (Containerd, String, SimTime) {
    let mut rt = Containerd::new("worker-1");
    let image = c.image.clone().unwrap();
    let done = rt.pull_image(SimTime(0), &image).result.unwrap();
    let events = rt.advance(done);
    assert!(
        matches!(events[0].kind, EventKind::PullDone { .. }),
        "{events:?}"
    );
    let sb = sandbox(&mut rt, done, vec![c.clone()]);
    let id = rt.create_container(done, &sb, &c, 0).result.unwrap();
    let at = rt.start_container(done, &id).result.unwrap();
    let events = rt.advance(at);
    assert!(events
        .iter()
        .any(|e| matches!(e.kind, EventKind::ContainerStarted { .. })));
    (rt, id, at)
}

fn exited(rt: &Containerd, id: &str) -> (Option<i32>, String) {
    let st = rt.container_status(id).unwrap();
    assert_eq!(st.state, ContainerState::Exited);
    (st.exit_code, st.reason)
}

fn exits(events: &[RuntimeEvent]) -> Vec<(i32, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ContainerExited {
                exit_code, reason, ..
            } => Some((*exit_code, reason.clone())),
            _ => None,
        })
        .collect()
}

fn run_until_quiet(rt: &mut Containerd, until: SimTime) -> Vec<RuntimeEvent> {
    let mut all = Vec::new();
    for _ in 0..100_000 {
        match rt.next_wakeup() {
            Some(w) if w <= until => all.extend(rt.advance(w)),
            _ => break,
        }
    }
    all.extend(rt.advance(until));
    all
}

fn texts(rt: &Containerd, id: &str) -> Vec<String> {
    rt.logs(id).unwrap().into_iter().map(|l| l.text).collect()
}

#[test]
fn pulling_takes_a_round_trip_plus_size_over_bandwidth() {
    let mut rt = Containerd::new("n");
    let r = rt.pull_image(SimTime(0), "nginx:1.14.2");
    // 44.7 MB at 50 MB/s = 894 ms, plus 500 ms.
    assert_eq!(r.result, Ok(SimTime(1394)));
    assert_eq!(
        r.steps[0].to_string(),
        "containerd: PullImage docker.io/library/nginx:1.14.2 (pulling 44.7 MB at 50.0 MB/s)"
    );
    assert_eq!(rt.next_wakeup(), Some(SimTime(1394)));
    assert!(rt.advance(SimTime(1000)).is_empty());
    let ev = rt.advance(SimTime(1394));
    assert!(matches!(
        &ev[0].kind,
        EventKind::PullDone {
            size_bytes: 44_700_000,
            ..
        }
    ));
}

#[test]
fn image_status_tells_whether_an_image_is_present() {
    let mut rt = Containerd::new("n");
    assert_eq!(rt.image_status("nginx"), Ok(None));
    assert!(rt
        .image_status("registry.k8s.io/pause:3.10")
        .unwrap()
        .is_some());
    let done = rt.pull_image(SimTime(0), "nginx").result.unwrap();
    rt.advance(done);
    let s = rt
        .image_status("docker.io/library/nginx:latest")
        .unwrap()
        .unwrap();
    assert_eq!(
        s.repo_tags,
        vec!["docker.io/library/nginx:latest".to_string()]
    );
    assert_eq!(rt.list_images().len(), 2);
    assert!(matches!(
        rt.image_status("Nginx"),
        Err(CriError::InvalidImageName(_))
    ));
    // Pulling a present image only checks the registry.
    assert_eq!(
        rt.pull_image(done, "nginx").result,
        Ok(done + REGISTRY_ROUND_TRIP)
    );
}

#[test]
fn an_image_that_does_not_exist_fails_to_pull_with_err_image_pull() {
    let mut rt = Containerd::new("n");
    let done = rt.pull_image(SimTime(0), "nginxx").result.unwrap();
    let ev = rt.advance(done);
    match &ev[0].kind {
        EventKind::PullFailed {
            reason, message, ..
        } => {
            assert_eq!(reason, "ErrImagePull");
            assert!(message.starts_with(
                "rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginxx:latest\""
            ));
            assert!(message.ends_with("not found"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rt.image_status("nginxx"), Ok(None));
}

#[test]
fn creating_a_container_needs_its_image_present() {
    let mut rt = Containerd::new("n");
    let sb = sandbox(&mut rt, SimTime(0), vec![ctr("nginx")]);
    let r = rt.create_container(SimTime(0), &sb, &ctr("nginx"), 0);
    assert!(matches!(r.result, Err(CriError::NotFound(_))));
}

#[test]
fn nginx_serves_the_welcome_page_on_80_and_refuses_other_ports() {
    let (mut rt, id, at) = run(ctr("nginx:1.14.2"));
    match rt.http_get(at, &id, 80, "/", "10.244.0.1") {
        HttpOutcome::Response { status, body } => {
            assert_eq!(status, 200);
            assert!(body.contains("Welcome to nginx!"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        rt.http_get(at, &id, 80, "/nope", "10.244.0.1"),
        HttpOutcome::Response { status: 404, .. }
    ));
    assert_eq!(rt.http_get(at, &id, 8080, "/", "x"), HttpOutcome::Refused);
    let logs = texts(&rt, &id);
    assert!(logs
        .iter()
        .any(|l| l.starts_with("10.244.0.1 - - [") && l.contains("\"GET / HTTP/1.1\" 200")));
    let st = rt.container_status(&id).unwrap();
    assert_eq!(st.state, ContainerState::Running);
    assert_eq!(st.state.to_string(), "CONTAINER_RUNNING");
}

#[test]
fn the_start_shows_the_chain_containerd_cgroup_runc() {
    let mut rt = Containerd::new("n");
    let done = rt.pull_image(SimTime(0), "nginx").result.unwrap();
    rt.advance(done);
    let sb = rt.run_pod_sandbox(
        t(1),
        PodSandboxConfig::for_pod("web", "default", "ab-cd", &PodSpec::default()),
    );
    let lines: Vec<String> = sb.steps.iter().map(|s| s.to_string()).collect();
    assert!(lines[0].starts_with("containerd: RunPodSandbox default/web"));
    assert!(lines.contains(&"cgroup mkdir kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab_cd.slice cpu.max=max 100000 memory.max=max cpu.weight=1".to_string()));
    let sb = sb.result.unwrap();
    let id = rt
        .create_container(t(1), &sb, &ctr("nginx"), 0)
        .result
        .unwrap();
    let start = rt.start_container(t(1), &id);
    let lines: Vec<String> = start.steps.iter().map(|s| s.to_string()).collect();
    assert!(lines[0].starts_with("containerd: StartContainer"));
    assert!(lines[1].starts_with("cgroup mkdir kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab_cd.slice/cri-containerd-"));
    assert!(
        lines[2].starts_with("runc create ")
            && lines[2].ends_with("(/docker-entrypoint.sh nginx -g daemon off;)")
    );
    assert!(lines[3].starts_with("runc start "));
}

#[test]
fn a_missing_executable_fails_start_container_with_start_error_128() {
    let mut rt = Containerd::new("n");
    let done = rt.pull_image(SimTime(0), "nginx").result.unwrap();
    rt.advance(done);
    let c = with_cmd(ctr("nginx"), &["foo"]);
    let sb = sandbox(&mut rt, t(1), vec![c.clone()]);
    let id = rt.create_container(t(1), &sb, &c, 0).result.unwrap();
    let r = rt.start_container(t(1), &id);
    let err = r.result.unwrap_err();
    assert!(err
        .to_string()
        .contains("exec: \"foo\": executable file not found in $PATH"));
    let st = rt.container_status(&id).unwrap();
    assert_eq!(
        (st.exit_code, st.reason.as_str()),
        (Some(128), "StartError")
    );
    assert_eq!(st.state, ContainerState::Exited);
}

#[test]
fn busybox_sleep_runs_then_completes_with_exit_0() {
    let (mut rt, id, at) = run(with_cmd(ctr("busybox"), &["sleep", "5"]));
    assert_eq!(rt.next_wakeup(), Some(at + SimDuration::from_secs(5)));
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(10));
    assert_eq!(exits(&ev), vec![(0, "Completed".to_string())]);
    let st = rt.container_status(&id).unwrap();
    assert_eq!(st.finished_at, Some(at + SimDuration::from_secs(5)));
}

#[test]
fn echo_output_lands_in_the_logs_with_its_time() {
    let (mut rt, id, at) = run(with_cmd(
        ctr("busybox"),
        &["sh", "-c", "echo hello; sleep 10; echo bye"],
    ));
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(20));
    assert_eq!(exits(&ev), vec![(0, "Completed".to_string())]);
    let logs = rt.logs(&id).unwrap();
    assert_eq!(logs[0].text, "hello");
    assert_eq!(logs[0].at, at);
    assert_eq!(logs[1].text, "bye");
    assert_eq!(logs[1].at, at + SimDuration::from_secs(10));
}

#[test]
fn sh_exit_1_exits_with_error() {
    let (rt, id, _) = run(with_cmd(ctr("busybox"), &["sh", "-c", "exit 1"]));
    assert_eq!(exited(&rt, &id), (Some(1), "Error".to_string()));
}

#[test]
fn busybox_without_a_command_exits_at_once() {
    let (rt, id, _) = run(ctr("busybox"));
    assert_eq!(exited(&rt, &id), (Some(0), "Completed".to_string()));
}

#[test]
fn a_while_loop_prints_until_stopped() {
    let (mut rt, id, at) = run(with_cmd(
        ctr("busybox"),
        &["sh", "-c", "while true; do echo tick; sleep 1; done"],
    ));
    run_until_quiet(&mut rt, at + SimDuration::from_millis(4500));
    assert_eq!(texts(&rt, &id).len(), 5);
}

#[test]
fn the_pi_job_computes_for_about_ten_seconds_then_prints_pi() {
    let (mut rt, id, at) = run(with_cmd(
        ctr("perl:5.34.0"),
        &["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
    ));
    assert!(texts(&rt, &id).is_empty());
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(30));
    assert_eq!(exits(&ev), vec![(0, "Completed".to_string())]);
    let logs = rt.logs(&id).unwrap();
    assert_eq!(logs[0].at, at + SimDuration::from_secs(10));
    assert!(logs[0].text.starts_with("3.14159265358979"));
}

#[test]
fn a_container_leaking_memory_is_oom_killed_with_exit_137() {
    let c = with_memory_limit(ctr("kubesim/leak:50Mi-per-s"), "100Mi");
    let (mut rt, id, at) = run(c);
    let views = rt.cgroups(at + SimDuration::from_secs(1));
    let v = views
        .iter()
        .find(|v| v.container_id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!(v.memory_max, "104857600");
    assert!(v.memory_current > 50 * 1024 * 1024);
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(10));
    assert_eq!(exits(&ev), vec![(137, "OOMKilled".to_string())]);
    let st = rt.container_status(&id).unwrap();
    // (100Mi - 5Mi) / 50Mi per second = 1.9 s.
    assert_eq!(st.finished_at, Some(at + SimDuration::from_millis(1900)));
    assert!(ev
        .iter()
        .flat_map(|e| &e.steps)
        .any(|s| s.to_string().contains("oom_kill")));
}

#[test]
fn the_docs_stress_example_over_its_limit_is_oom_killed() {
    let c = with_memory_limit(
        with_args(
            ctr("polinux/stress"),
            &["--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"],
        ),
        "100Mi",
    );
    let c = with_cmd(c, &["stress"]);
    let (mut rt, _, at) = run(c);
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(5));
    assert_eq!(exits(&ev), vec![(137, "OOMKilled".to_string())]);
}

#[test]
fn kubesim_exit_and_crash_images_exit_with_their_codes() {
    let (rt, id, _) = run(ctr("kubesim/exit:3"));
    assert_eq!(exited(&rt, &id), (Some(3), "Error".to_string()));
    let (mut rt, id, at) = run(ctr("kubesim/crash:after-10s"));
    assert!(matches!(
        rt.http_get(at, &id, 8080, "/", "x"),
        HttpOutcome::Response { status: 200, .. }
    ));
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(60));
    assert_eq!(exits(&ev), vec![(1, "Error".to_string())]);
    assert_eq!(
        rt.container_status(&id).unwrap().finished_at,
        Some(at + SimDuration::from_secs(10))
    );
}

fn http_probe(port: i32, path: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            port: IntOrString::Int(port),
            path: Some(path.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn probes_answer_by_the_images_behaviour() {
    let (mut rt, id, at) = run(ctr("nginx"));
    assert_eq!(
        rt.probe(at, &id, &http_probe(80, "/")),
        ProbeResult::Success
    );
    assert_eq!(
        rt.probe(at, &id, &http_probe(8080, "/")),
        ProbeResult::Failure(
            "Get \"http://10.244.1.5:8080/\": dial tcp 10.244.1.5:8080: connect: connection refused".into()
        )
    );
    let tcp = |p| Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(p),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(rt.probe(at, &id, &tcp(80)), ProbeResult::Success);
    assert!(matches!(
        rt.probe(at, &id, &tcp(81)),
        ProbeResult::Failure(_)
    ));
    let grpc = Probe {
        grpc: Some(GRPCAction {
            port: 80,
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(matches!(rt.probe(at, &id, &grpc), ProbeResult::Failure(_)));
    // A named port resolves through the container's ports.
    let mut c = ctr("nginx");
    c.ports = Some(vec![ContainerPort {
        name: Some("http".into()),
        container_port: 80,
        ..Default::default()
    }]);
    let (mut rt, id, at) = run(c);
    let named = Probe {
        http_get: Some(HTTPGetAction {
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(rt.probe(at, &id, &named), ProbeResult::Success);
}

#[test]
fn the_docs_exec_liveness_probe_fails_after_the_file_is_removed() {
    let c = with_args(
        ctr("registry.k8s.io/busybox"),
        &[
            "/bin/sh",
            "-c",
            "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600",
        ],
    );
    let (mut rt, id, at) = run(c);
    let probe = Probe {
        exec: Some(ExecAction {
            command: Some(vec!["cat".into(), "/tmp/healthy".into()]),
        }),
        ..Default::default()
    };
    assert_eq!(
        rt.probe(at + SimDuration::from_secs(5), &id, &probe),
        ProbeResult::Success
    );
    run_until_quiet(&mut rt, at + SimDuration::from_secs(35));
    assert_eq!(
        rt.probe(at + SimDuration::from_secs(35), &id, &probe),
        ProbeResult::Failure("cat: can't open '/tmp/healthy': No such file or directory\n".into())
    );
}

#[test]
fn agnhost_liveness_is_healthy_for_ten_seconds_then_fails() {
    let c = with_args(
        ctr("registry.k8s.io/e2e-test-images/agnhost:2.40"),
        &["liveness"],
    );
    let (mut rt, id, at) = run(c);
    let p = http_probe(8080, "/healthz");
    assert_eq!(
        rt.probe(at + SimDuration::from_secs(3), &id, &p),
        ProbeResult::Success
    );
    assert_eq!(
        rt.probe(at + SimDuration::from_secs(11), &id, &p),
        ProbeResult::Failure("HTTP probe failed with statuscode: 500".into())
    );
}

#[test]
fn slow_start_is_not_ready_until_started_and_unready_never_is() {
    let (mut rt, id, at) = run(ctr("kubesim/slow-start:30s"));
    let p = http_probe(8080, "/");
    assert!(matches!(
        rt.probe(at + SimDuration::from_secs(29), &id, &p),
        ProbeResult::Failure(_)
    ));
    assert_eq!(
        rt.probe(at + SimDuration::from_secs(30), &id, &p),
        ProbeResult::Success
    );
    let (mut rt, id, at) = run(ctr("kubesim/unready"));
    assert_eq!(
        rt.probe(at, &id, &http_probe(8080, "/readyz")),
        ProbeResult::Failure("HTTP probe failed with statuscode: 503".into())
    );
    assert_eq!(
        rt.probe(at, &id, &http_probe(8080, "/healthz")),
        ProbeResult::Success
    );
}

#[test]
fn agnhost_answers_with_the_pod_name() {
    let (mut rt, id, at) = run(with_args(
        ctr("registry.k8s.io/e2e-test-images/agnhost:2.40"),
        &["netexec", "--http-port=8080"],
    ));
    assert_eq!(
        rt.http_get(at, &id, 8080, "/hostname", "x"),
        HttpOutcome::Response {
            status: 200,
            body: "web".into()
        }
    );
    let (mut rt, id, at) = run(with_args(
        ctr("registry.k8s.io/e2e-test-images/agnhost:2.40"),
        &["serve-hostname"],
    ));
    assert_eq!(
        rt.http_get(at, &id, 9376, "/", "x"),
        HttpOutcome::Response {
            status: 200,
            body: "web".into()
        }
    );
}

fn exec(
    rt: &mut Containerd,
    at: SimTime,
    id: &str,
    argv: &[&str],
) -> Result<ExecOutcome, CriError> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    rt.exec_sync(at, id, &argv, SimDuration::from_secs(10))
        .result
}

fn stdout(o: Result<ExecOutcome, CriError>) -> String {
    match o {
        Ok(ExecOutcome::Done { stdout, .. }) => stdout,
        other => panic!("{other:?}"),
    }
}

#[test]
fn exec_runs_simple_commands_in_the_container() {
    let mut c = ctr("nginx");
    c.env = Some(vec![k8s_openapi::api::core::v1::EnvVar {
        name: "GREETING".into(),
        value: Some("hi".into()),
        ..Default::default()
    }]);
    let (mut rt, id, at) = run(c);
    assert_eq!(
        stdout(exec(&mut rt, at, &id, &["echo", "hello"])),
        "hello\n"
    );
    assert_eq!(
        stdout(exec(&mut rt, at, &id, &["cat", "/etc/hostname"])),
        "web\n"
    );
    assert_eq!(stdout(exec(&mut rt, at, &id, &["hostname"])), "web\n");
    assert!(stdout(exec(&mut rt, at, &id, &["env"])).contains("GREETING=hi\n"));
    assert!(
        stdout(exec(&mut rt, at, &id, &["ls", "/usr/share/nginx/html"])).contains("index.html")
    );
    assert!(
        stdout(exec(&mut rt, at, &id, &["curl", "-s", "localhost"])).contains("Welcome to nginx!")
    );
    // A change through exec shows in what nginx serves.
    exec(
        &mut rt,
        at,
        &id,
        &[
            "sh",
            "-c",
            "echo changed > /usr/share/nginx/html/index.html",
        ],
    )
    .unwrap();
    assert_eq!(
        rt.http_get(at, &id, 80, "/", "x"),
        HttpOutcome::Response {
            status: 200,
            body: "changed\n".into()
        }
    );
    assert!(matches!(
        exec(&mut rt, at, &id, &["sh", "-c", "exit 3"]),
        Ok(ExecOutcome::Done { exit_code: 3, .. })
    ));
    assert!(
        matches!(exec(&mut rt, at, &id, &["foo"]), Err(CriError::ExecFailed(m)) if m.contains("executable file not found"))
    );
}

#[test]
fn exec_hands_cluster_lookups_back_to_the_kubelet() {
    let (mut rt, id, at) = run(with_cmd(ctr("busybox"), &["sleep", "3600"]));
    assert_eq!(
        exec(&mut rt, at, &id, &["nslookup", "kubernetes.default"]),
        Ok(ExecOutcome::NeedsCluster {
            request: ClusterRequest::Dns {
                name: "kubernetes.default".into()
            },
            stdout: String::new()
        })
    );
    assert!(matches!(
        exec(&mut rt, at, &id, &["wget", "-qO-", "http://my-svc"]),
        Ok(ExecOutcome::NeedsCluster {
            request: ClusterRequest::Http { .. },
            ..
        })
    ));
    assert!(matches!(
        exec(&mut rt, at, &id, &["sleep", "20"]),
        Ok(ExecOutcome::TimedOut { .. })
    ));
}

#[test]
fn stopping_a_shell_waits_the_grace_period_then_sigkills_but_nginx_exits_at_once() {
    let (mut rt, id, at) = run(with_cmd(ctr("busybox"), &["sleep", "3600"]));
    let r = rt.stop_container(at, &id, SimDuration::from_secs(30));
    assert_eq!(r.result, Ok(at + SimDuration::from_secs(30)));
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(31));
    assert_eq!(exits(&ev), vec![(137, "Error".to_string())]);
    let (mut rt, id, at) = run(ctr("nginx"));
    let r = rt.stop_container(at, &id, SimDuration::from_secs(30));
    assert_eq!(r.result, Ok(at + SimDuration::from_millis(100)));
    let ev = run_until_quiet(&mut rt, at + SimDuration::from_secs(1));
    assert_eq!(exits(&ev), vec![(0, "Completed".to_string())]);
    assert_eq!(
        rt.container_status(&id).unwrap().state,
        ContainerState::Exited
    );
}

#[test]
fn sandboxes_stop_and_remove_with_their_containers() {
    let (mut rt, id, at) = run(ctr("nginx"));
    let sb = rt.container_status(&id).unwrap().sandbox_id;
    assert!(rt.remove_pod_sandbox(at, &sb).result.is_err());
    assert!(rt.remove_container(at, &id).result.is_err());
    rt.stop_pod_sandbox(at, &sb);
    let ev = rt.advance(at);
    assert_eq!(exits(&ev), vec![(137, "Error".to_string())]);
    assert_eq!(rt.list_pod_sandboxes()[0].state, SandboxState::NotReady);
    rt.remove_pod_sandbox(at, &sb).result.unwrap();
    assert!(rt.list_containers(None).is_empty());
    assert!(rt.cgroups(at).is_empty());
}

#[test]
fn cgroup_views_show_pod_and_container_files() {
    let mut c = ctr("nginx");
    c.resources = Some(Box::new(ResourceRequirements {
        limits: Some(
            [
                ("cpu".to_string(), Q("500m".into())),
                ("memory".to_string(), Q("128Mi".into())),
            ]
            .into(),
        ),
        ..Default::default()
    }));
    let (rt, id, at) = run(c);
    let views = rt.cgroups(at);
    assert_eq!(views.len(), 2);
    assert_eq!(views[0].path, "kubepods.slice/kubepods-pod1234_abcd.slice");
    assert_eq!(views[0].memory_max, "134217728");
    assert_eq!(
        views[1].path,
        format!("kubepods.slice/kubepods-pod1234_abcd.slice/cri-containerd-{id}.scope")
    );
    assert_eq!(views[1].cpu_max, "50000 100000");
    assert_eq!(views[1].cpu_weight, 20);
    assert!(views[0].memory_current >= views[1].memory_current);
}

#[test]
fn unknown_ids_and_odd_inputs_are_errors_not_panics() {
    let mut rt = Containerd::new("n");
    assert!(rt.start_container(t(0), "nope").result.is_err());
    assert!(rt
        .stop_container(t(0), "", SimDuration::ZERO)
        .result
        .is_err());
    assert!(rt.container_status("").is_err());
    assert!(rt.pull_image(t(0), "").result.is_err());
    assert!(rt
        .exec_sync(t(0), "x", &[], SimDuration::ZERO)
        .result
        .is_err());
    assert_eq!(rt.http_get(t(0), "x", 80, "", ""), HttpOutcome::Refused);
    assert!(matches!(
        rt.probe(t(0), "x", &Probe::default()),
        ProbeResult::Failure(_)
    ));
    let (mut rt, id, at) = run(with_cmd(
        ctr("busybox"),
        &["sh", "-c", "while true; do echo spin; done"],
    ));
    // A loop without sleeps spins instead of hanging the simulation.
    rt.advance(at + SimDuration::from_secs(1));
    assert_eq!(
        rt.container_status(&id).unwrap().state,
        ContainerState::Running
    );
    for script in [
        "'",
        "do done",
        "for",
        "$(",
        "echo $((1+",
        "exit 99999999999999999999",
        "sleep -1",
        "sleep 1e400",
    ] {
        let (mut rt, _, at) = run(with_cmd(ctr("busybox"), &["sh", "-c", script]));
        rt.advance(at + SimDuration::from_secs(1));
    }
}

#[test]
fn the_same_calls_give_the_same_ids_and_events() {
    let go = || {
        let (mut rt, id, at) = run(with_cmd(ctr("busybox"), &["sh", "-c", "echo a; exit 2"]));
        (id, rt.advance(at + SimDuration::from_secs(1)))
    };
    assert_eq!(go(), go());
}
