//! The scenario library (`static/scenarios/`): every scenario plays to the
//! end natively, its checks passing, its tasks solved by their solutions,
//! and no command failing except where a step expects it. The directory is
//! globbed, so a new scenario is covered as soon as it is added; the index
//! must list exactly the scenarios there.

use kubesim::scenario::{render_step, Index, Player, Scenario};
use std::path::{Path, PathBuf};

fn library() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../static/scenarios")
}

/// Every scenario file, by name (without `.yaml`), the index excluded.
fn scenario_files() -> Vec<(String, PathBuf)> {
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(library())
        .expect("static/scenarios exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (name != "index").then_some((name, p))
        })
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).expect("the scenario reads");
    let file = format!(
        "scenarios/{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("?")
    );
    Scenario::from_yaml(&file, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Plays a scenario to the end; returns the transcript, or the transcript
/// with the failures.
fn play(scenario: Scenario) -> Result<String, String> {
    let mut player = Player::new(scenario).map_err(|e| e.to_string())?;
    let mut transcript = String::new();
    let mut failures = Vec::new();
    let mut checks = 0;
    while let Some(report) = player.play_next(true) {
        transcript.push_str(&render_step(player.scenario(), &report));
        checks += usize::from(report.check.is_some());
        if !report.passed() {
            failures.push(report.index + 1);
        }
    }
    if failures.is_empty() && checks > 0 {
        Ok(transcript)
    } else if checks == 0 {
        Err(format!("the scenario checks nothing\n{transcript}"))
    } else {
        Err(format!("steps {failures:?} failed\n{transcript}"))
    }
}

#[test]
fn every_scenario_in_the_library_plays_to_the_end_with_its_checks_passing() {
    let files = scenario_files();
    assert!(files.len() >= 9, "the library has its scenarios: {files:?}");
    let mut failed = Vec::new();
    for (name, path) in &files {
        if let Err(e) = play(load(path)) {
            eprintln!("==== {name}: {e}");
            failed.push(name.clone());
        }
    }
    assert!(failed.is_empty(), "scenarios that failed: {failed:?}");
}

#[test]
fn the_index_lists_every_scenario_with_its_title() {
    let path = library().join("index.yaml");
    let text = std::fs::read_to_string(&path).expect("the index exists");
    let index = Index::from_yaml("scenarios/index.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<&str> = index.scenarios.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    let files = scenario_files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(sorted, names, "the index lists exactly the files");
    for entry in &index.scenarios {
        let scenario = load(&library().join(format!("{}.yaml", entry.name)));
        assert_eq!(&*scenario.title, entry.title, "{}", entry.name);
    }
}

#[test]
fn a_scenario_is_the_same_run_every_time() {
    let (_, path) = scenario_files()
        .into_iter()
        .find(|(n, _)| n == "pod-life")
        .expect("pod-life is in the library");
    let first = play(load(&path)).expect("it plays");
    let second = play(load(&path)).expect("it plays again");
    assert_eq!(first, second);
}

#[test]
fn going_back_a_step_replays_the_same_state() {
    let (_, path) = scenario_files()
        .into_iter()
        .find(|(n, _)| n == "spec-and-status")
        .expect("spec-and-status is in the library");
    let mut forward = Player::new(load(&path)).expect("it boots");
    for _ in 0..3 {
        forward.play_next(true);
    }
    let replayed = Player::replayed(load(&path), 3).expect("it replays");
    assert_eq!(replayed.next_step(), 3);
    assert_eq!(replayed.cluster().now(), forward.cluster().now());
    assert_eq!(replayed.cluster().snapshot(), forward.cluster().snapshot());
}

#[test]
fn a_typo_in_a_scenario_is_reported_with_its_file_line_and_field() {
    let text = "\
title: The life of a pod
summary: A typo in a check.
steps:
  - narration: Apply a pod.
    commands: kubectl create namespace demo
  - narration: Wait for it.
    check:
      untill: namespace/demo '{.status.phase}'=Active
";
    let e = Scenario::from_yaml("scenarios/pod-life.yaml", text).expect_err("the typo is caught");
    assert!(
        e.to_string()
            .starts_with("scenarios/pod-life.yaml:8: steps[1].check: unknown field \"untill\""),
        "{e}"
    );
    let text = text
        .replace("untill", "until")
        .replace("narration: Wait", "narating: Wait");
    let e = Scenario::from_yaml("scenarios/pod-life.yaml", &text).expect_err("the typo is caught");
    assert!(
        e.to_string()
            .starts_with("scenarios/pod-life.yaml:6: steps[1]: unknown field \"narating\""),
        "{e}"
    );
}

#[test]
fn a_failing_check_fails_the_step() {
    let text = "\
title: T
summary: S
steps:
  - narration: Wait for a pod nobody created.
    check:
      until: pod/ghost '{.status.phase}'=Running
      timeout: 2s
";
    let err = play(Scenario::from_yaml("t.yaml", text).expect("it loads")).expect_err("it fails");
    assert!(err.contains("timed out after 2s"), "{err}");
}
