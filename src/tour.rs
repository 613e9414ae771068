//! The lesson player's state: which step of a scenario the page shows, what
//! the step waits for, and where each step began in the run, so that Back
//! and Restart replay the run to that moment (the simulation is
//! deterministic, so the same steps give the same cluster).
//!
//! The scenario format and the native runner are the core's
//! (`kubesim::scenario`); this is only what the page adds: a learner who
//! reads at their own pace, watches the clock run while a check waits, and
//! types the answer to a task into the console.

use crate::components::console::Entry;
use kubesim::scenario::{Scenario, Step};
use kubesim::Cluster;
use std::rc::Rc;

/// Where the shown step stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// The step's check does not hold yet: the clock has to run (or the
    /// learner skips ahead).
    Waiting,
    /// A task for the learner, verified against the cluster as they work.
    Task,
    /// The check holds, or the step had none.
    Passed,
    /// A command failed that should not have (or one that should have
    /// failed did not): what went wrong.
    Failed(String),
}

/// A scenario being played on the page.
#[derive(Clone, Debug, PartialEq)]
pub struct Tour {
    /// The file's name, as `?scenario=<name>` gives it.
    pub name: String,
    pub scenario: Rc<Scenario>,
    /// The step shown (0-based).
    pub current: usize,
    /// Where each step up to the current one began: the virtual time (ms)
    /// and how many run-log entries came before its commands.
    pub starts: Vec<(u64, usize)>,
    pub status: Status,
    /// Auto-play: go on to the next step by itself after a reading pause.
    pub auto: bool,
    /// Whether the task's hint is shown.
    pub hint: bool,
    /// Wall time (ms) the step passed, for auto-play's reading pause.
    pub passed_at: Option<f64>,
    /// What the condition compares, as last seen (shown while waiting).
    pub seen: String,
}

impl Tour {
    pub fn new(name: &str, scenario: Scenario) -> Tour {
        Tour {
            name: name.to_string(),
            scenario: Rc::new(scenario),
            current: 0,
            starts: Vec::new(),
            status: Status::Waiting,
            auto: false,
            hint: false,
            passed_at: None,
            seen: String::new(),
        }
    }

    pub fn total(&self) -> usize {
        self.scenario.steps().len()
    }

    /// The shown step.
    pub fn step(&self) -> Option<&Step> {
        self.scenario.steps().get(self.current)
    }

    pub fn is_last(&self) -> bool {
        self.current + 1 >= self.total()
    }

    /// Whether the whole scenario is done: the last step passed.
    pub fn finished(&self) -> bool {
        self.is_last() && self.status == Status::Passed
    }

    /// Begins step `index` at virtual `now` with `entries` run-log entries
    /// before it; returns the commands to run (the caller runs them and
    /// hands the outcome to [`Tour::ran`]).
    pub fn begin(&mut self, index: usize, now: u64, entries: usize) -> Option<String> {
        let step = self.scenario.steps().get(index)?;
        let commands = step.commands.as_ref().map(|s| s.0.clone());
        self.current = index;
        self.starts.truncate(index);
        self.starts.push((now, entries));
        self.hint = false;
        self.passed_at = None;
        self.seen.clear();
        self.status = Status::Waiting;
        Some(commands.unwrap_or_default())
    }

    /// Takes in what the step's commands printed, and decides what the step
    /// now waits for.
    pub fn ran(&mut self, outcomes: &[Entry], wall: f64) {
        let Some(step) = self.step() else { return };
        let failed = outcomes.iter().find(|o| !o.ok);
        let status = if step.expect_error {
            match failed {
                Some(_) => None,
                None => Some(Status::Failed(
                    "This step expected one of its commands to fail, and none did.".into(),
                )),
            }
        } else {
            failed.map(|f| {
                Status::Failed(format!(
                    "`{}` failed: {}",
                    f.input.lines().next().unwrap_or_default(),
                    f.output.lines().next().unwrap_or_default()
                ))
            })
        };
        self.status = match (status, &step.check) {
            (Some(failure), _) => failure,
            (None, Some(check)) if check.task.is_some() => Status::Task,
            (None, Some(_)) => Status::Waiting,
            (None, None) => Status::Passed,
        };
        if self.status == Status::Passed {
            self.passed_at = Some(wall);
        }
    }

    /// Checks the step's condition against the cluster as it is now (no
    /// request, no clock movement); returns whether the status changed.
    pub fn poll(&mut self, cluster: &Cluster, wall: f64) -> bool {
        if !matches!(self.status, Status::Waiting | Status::Task) {
            return false;
        }
        let Some(check) = self.step().and_then(|s| s.check.clone()) else {
            return false;
        };
        match check.until.holds(cluster) {
            Ok((true, _)) => {
                self.status = Status::Passed;
                self.passed_at = Some(wall);
                true
            }
            Ok((false, seen)) => {
                let changed = seen != self.seen;
                self.seen = seen;
                changed
            }
            Err(e) => {
                self.status = Status::Failed(e);
                true
            }
        }
    }

    /// The command that runs the clock until the check holds (at most its
    /// timeout): "skip ahead" while waiting.
    pub fn skip_command(&self) -> Option<String> {
        let check = self.step()?.check.as_ref()?;
        (self.status == Status::Waiting).then(|| {
            format!(
                "sim until {} {}ms",
                check.until.text,
                check.timeout.as_millis()
            )
        })
    }

    /// The task's solution, as the learner would type it.
    pub fn solution(&self) -> Option<String> {
        let check = self.step()?.check.as_ref()?;
        check.task.as_ref()?;
        check.solution.as_ref().map(|s| s.0.trim_end().to_string())
    }

    /// The step Back goes to and where it began: (index, virtual ms,
    /// run-log entries before it).
    pub fn back_target(&self) -> Option<(usize, u64, usize)> {
        let index = self.current.checked_sub(1)?;
        let (at, entries) = *self.starts.get(index)?;
        Some((index, at, entries))
    }

    /// Where the first step began (Restart goes there).
    pub fn restart_target(&self) -> Option<(u64, usize)> {
        self.starts.first().copied()
    }

    /// How long auto-play leaves a passed step on screen: long enough to
    /// read its narration (about 4 words a second, 4 to 14 s).
    pub fn reading_ms(&self) -> f64 {
        let words = self
            .step()
            .map(|s| s.narration.split_whitespace().count())
            .unwrap_or(0);
        (words as f64 / 4.0 * 1000.0).clamp(4000.0, 14000.0)
    }

    /// Whether auto-play should go on now.
    pub fn due(&self, wall: f64) -> bool {
        self.auto
            && !self.is_last()
            && self.status == Status::Passed
            && self
                .passed_at
                .is_some_and(|t| wall - t >= self.reading_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubesim::scenario::BOOT_LIMIT;
    use kubesim::Topology;

    const LESSON: &str = r#"
title: Two steps
summary: A test lesson.
steps:
  - narration: A namespace is created.
    commands: |
      kubectl create namespace demo
    check:
      until: namespace/demo '{.status.phase}'=Active
      timeout: 10s
  - narration: Now you create one.
    check:
      until: namespace/mine '{.status.phase}'=Active
      task: Create the namespace mine.
      solution: |
        kubectl create namespace mine
  - narration: This must fail.
    commands: |
      kubectl get pods --as=nobody
    expectError: true
"#;

    fn entry(input: &str, ok: bool) -> Entry {
        Entry {
            input: input.into(),
            output: if ok {
                "ok".into()
            } else {
                "Error from server (Forbidden)".into()
            },
            ok,
        }
    }

    fn tour() -> Tour {
        Tour::new(
            "two",
            Scenario::from_yaml("two.yaml", LESSON).expect("the lesson parses"),
        )
    }

    #[test]
    fn a_step_with_a_check_waits_until_the_cluster_satisfies_it() {
        let mut cluster = Cluster::new(Topology::default(), 1);
        assert!(cluster.boot(BOOT_LIMIT));
        let mut t = tour();
        let commands = t.begin(0, cluster.now().as_millis(), 0).unwrap();
        assert!(commands.contains("create namespace demo"));
        t.ran(&[entry("kubectl create namespace demo", true)], 0.0);
        assert_eq!(t.status, Status::Waiting);
        assert!(!t.poll(&cluster, 1.0) || t.status == Status::Waiting);
        assert_eq!(
            t.skip_command().as_deref(),
            Some("sim until namespace/demo '{.status.phase}'=Active 10000ms")
        );
        let mut session = kubesim::shell::Session::new();
        session.run_script(&mut cluster, &commands);
        assert!(t.poll(&cluster, 2.0));
        assert_eq!(t.status, Status::Passed);
        assert_eq!(t.passed_at, Some(2.0));
    }

    #[test]
    fn a_task_shows_its_solution_and_passes_when_the_learner_does_it() {
        let mut cluster = Cluster::new(Topology::default(), 1);
        assert!(cluster.boot(BOOT_LIMIT));
        let mut t = tour();
        t.begin(0, 10, 0);
        t.ran(&[], 0.0);
        t.begin(1, 20, 1);
        t.ran(&[], 0.0);
        assert_eq!(t.status, Status::Task);
        assert_eq!(t.skip_command(), None, "a task is not skipped by waiting");
        let solution = t.solution().unwrap();
        assert_eq!(solution, "kubectl create namespace mine");
        t.poll(&cluster, 1.0);
        assert_eq!(t.status, Status::Task);
        kubesim::shell::Session::new().run_script(&mut cluster, &solution);
        t.poll(&cluster, 2.0);
        assert_eq!(t.status, Status::Passed);
    }

    #[test]
    fn a_failed_command_fails_the_step_unless_the_step_expects_it() {
        let mut t = tour();
        t.begin(0, 0, 0);
        t.ran(&[entry("kubectl create namespace demo", false)], 0.0);
        assert!(
            matches!(t.status, Status::Failed(ref m) if m.contains("kubectl create namespace demo"))
        );
        t.begin(2, 30, 2);
        t.ran(&[entry("kubectl get pods --as=nobody", false)], 5.0);
        assert_eq!(t.status, Status::Passed);
        t.begin(2, 30, 2);
        t.ran(&[entry("kubectl get pods --as=nobody", true)], 5.0);
        assert!(matches!(t.status, Status::Failed(_)));
    }

    #[test]
    fn back_returns_to_where_the_previous_step_began() {
        let mut t = tour();
        assert_eq!(t.back_target(), None);
        t.begin(0, 100, 0);
        t.begin(1, 900, 3);
        t.begin(2, 1500, 5);
        assert_eq!(t.back_target(), Some((1, 900, 3)));
        assert_eq!(t.restart_target(), Some((100, 0)));
        // Going back forgets the later starts.
        t.begin(1, 900, 3);
        assert_eq!(t.starts, vec![(100, 0), (900, 3)]);
    }

    #[test]
    fn auto_play_waits_for_a_reading_pause_and_stops_at_tasks_and_the_end() {
        let mut t = tour();
        t.auto = true;
        t.begin(0, 0, 0);
        t.status = Status::Passed;
        t.passed_at = Some(1000.0);
        assert!(!t.due(2000.0));
        assert!(t.due(1000.0 + t.reading_ms()));
        t.begin(1, 0, 0);
        t.status = Status::Task;
        assert!(!t.due(1e9));
        t.begin(2, 0, 0);
        t.status = Status::Passed;
        t.passed_at = Some(0.0);
        assert!(!t.due(1e9), "the last step does not go on");
        assert!(t.finished());
    }
}
