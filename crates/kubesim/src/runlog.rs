//! A run, recorded so it can be replayed: the seed, the topology and every
//! command with the virtual time it was typed at.
//!
//! The core is deterministic, so this is all a run is: replaying the log
//! from the seed gives the same cluster, message for message. The page keeps
//! the log in local storage (a reload replays it), encodes it into a share
//! link (another machine replays the same run) and replays it up to an
//! earlier time to scrub the timeline back.
//!
//! The encoding is JSON in URL-safe base64 without padding, so a link
//! survives being pasted into chat and mail. Time advances are not recorded:
//! the clock is a function of the commands and of how far the run went,
//! which the log's `now` keeps.

use crate::cluster::Cluster;
use crate::shell::{Outcome, Session};
use crate::topology::Topology;
use crate::world::{SimDuration, SimTime};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A share link longer than this is refused rather than produced: browsers
/// and chat tools cut URLs around here.
pub const MAX_ENCODED_LEN: usize = 64 * 1024;

/// One command of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Virtual milliseconds when it ran.
    pub at: u64,
    /// The script as typed (one or several lines, a manifest included).
    pub script: String,
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLog {
    /// The format, so a link from a future version is told apart.
    pub v: u32,
    pub seed: u64,
    /// `None` for the default topology (kept out of links to keep them short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<Topology>,
    #[serde(default)]
    pub entries: Vec<LogEntry>,
    /// How far the run had gone, in virtual milliseconds.
    #[serde(default)]
    pub now: u64,
    /// The run began with `Cluster::boot` (a lesson), which also installs
    /// kubeadm's addons: a replay boots the same way before the entries.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub booted: bool,
}

/// The log format this build writes and reads.
pub const VERSION: u32 = 1;

/// Why a log could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunLogError {
    #[error("the run link is damaged: {0}")]
    Encoding(String),
    #[error("the run link is damaged: {0}")]
    Json(String),
    #[error("the run was recorded by another version of kubesim (format {0}, this page reads {VERSION})")]
    Version(u32),
    #[error("the run is too long to share as a link ({0} characters, at most {MAX_ENCODED_LEN})")]
    TooLong(usize),
}

impl RunLog {
    /// A fresh run.
    pub fn new(topology: &Topology, seed: u64) -> RunLog {
        RunLog {
            v: VERSION,
            seed,
            topology: (*topology != Topology::default()).then(|| topology.clone()),
            entries: Vec::new(),
            now: 0,
            booted: false,
        }
    }

    /// The topology the run started from.
    pub fn topology(&self) -> Topology {
        self.topology.clone().unwrap_or_default()
    }

    /// Records a script typed at `at`.
    pub fn record(&mut self, at: SimTime, script: &str) {
        self.entries.push(LogEntry {
            at: at.as_millis(),
            script: script.to_string(),
        });
        self.now = self.now.max(at.as_millis());
    }

    /// Notes how far the run has gone.
    pub fn reached(&mut self, now: SimTime) {
        self.now = self.now.max(now.as_millis());
    }

    /// The run as a URL-safe string.
    pub fn encode(&self) -> Result<String, RunLogError> {
        let json = serde_json::to_vec(self).map_err(|e| RunLogError::Json(e.to_string()))?;
        let text = URL_SAFE_NO_PAD.encode(json);
        if text.len() > MAX_ENCODED_LEN {
            return Err(RunLogError::TooLong(text.len()));
        }
        Ok(text)
    }

    /// Reads what [`RunLog::encode`] wrote.
    pub fn decode(text: &str) -> Result<RunLog, RunLogError> {
        let text = text.trim();
        if text.len() > MAX_ENCODED_LEN {
            return Err(RunLogError::TooLong(text.len()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|e| RunLogError::Encoding(e.to_string()))?;
        let log: RunLog =
            serde_json::from_slice(&bytes).map_err(|e| RunLogError::Json(e.to_string()))?;
        if log.v != VERSION {
            return Err(RunLogError::Version(log.v));
        }
        Ok(log)
    }

    /// The entries recorded before `t` (a scrub back to `t` keeps these).
    pub fn truncated(&self, t: SimTime) -> RunLog {
        RunLog {
            entries: self
                .entries
                .iter()
                .filter(|e| e.at <= t.as_millis())
                .cloned()
                .collect(),
            now: t.as_millis(),
            ..self.clone()
        }
    }

    /// Replays the run from its seed up to `until` (or all of it), and
    /// returns the cluster, the terminal and what every command printed.
    ///
    /// A topology that no longer validates falls back to the default one, so
    /// a damaged link still opens a cluster.
    pub fn replay(&self, until: Option<SimTime>) -> Replayed {
        self.replay_from::<()>(None, until)
    }

    /// Replays the run up to `until` (or all of it) from a checkpoint of it
    /// (taken at or before `until`, after `checkpoint.entries` of this log's
    /// entries ran), or from its seed without one. The result is the one
    /// [`RunLog::replay`] gives: the checkpoint is an exact copy of the run
    /// at its moment (see [`Cluster::try_clone`]). `outcomes` holds only
    /// the entries replayed after the checkpoint.
    pub fn replay_from<T>(
        &self,
        checkpoint: Option<&Checkpoint<T>>,
        until: Option<SimTime>,
    ) -> Replayed {
        let limit = until.map(SimTime::as_millis).unwrap_or(self.now);
        let restored = checkpoint
            .filter(|cp| cp.at().as_millis() <= limit && cp.entries <= self.entries.len())
            .and_then(|cp| Some((cp.cluster.try_clone()?, cp.session.clone(), cp.entries)));
        let (mut cluster, mut session, skip) = match restored {
            Some(restored) => restored,
            None => {
                let mut cluster = Cluster::new(self.topology(), self.seed);
                if self.booted {
                    cluster.boot(crate::scenario::BOOT_LIMIT);
                }
                (cluster, Session::new(), 0)
            }
        };
        let mut outcomes = Vec::new();
        for entry in self.entries.iter().skip(skip).take_while(|e| e.at <= limit) {
            cluster.advance_to(SimTime::from_millis(entry.at));
            let out = session.run_script(&mut cluster, &entry.script);
            outcomes.push((entry.clone(), out));
        }
        cluster.advance_to(SimTime::from_millis(limit));
        Replayed {
            cluster,
            session,
            outcomes,
        }
    }
}

/// A copy of a run at one moment, which a scrub back restores instead of
/// replaying from the seed.
pub struct Checkpoint<T = ()> {
    pub cluster: Cluster,
    pub session: Session,
    /// How many of the log's entries had run.
    pub entries: usize,
    /// What the caller keeps with it (the page: the console's transcript).
    pub extra: T,
}

impl<T> Checkpoint<T> {
    /// The virtual time of the copy.
    pub fn at(&self) -> SimTime {
        self.cluster.now()
    }
}

/// The checkpoints of a run: one every `every` of virtual time at most, at
/// most `cap` of them (a new one beyond the cap drops the one whose loss
/// leaves the smallest gap, so they thin out evenly over a long run).
pub struct Checkpoints<T = ()> {
    every: SimDuration,
    cap: usize,
    /// By time.
    list: Vec<Checkpoint<T>>,
}

impl<T> Checkpoints<T> {
    pub fn new(every: SimDuration, cap: usize) -> Self {
        Checkpoints {
            every,
            cap: cap.max(2),
            list: Vec::new(),
        }
    }

    /// Whether a checkpoint at `now` is wanted: the latest one at or before
    /// `now` is `every` or more older (or there is none).
    pub fn is_due(&self, now: SimTime) -> bool {
        match self.nearest(now) {
            None => true,
            Some(cp) => now.saturating_since(cp.at()) >= self.every,
        }
    }

    /// Keeps a copy of the run (`entries` of its log's entries ran) if one
    /// is due and the cluster can be copied at this moment; returns whether
    /// it did. `extra` is asked for only then.
    pub fn offer(
        &mut self,
        cluster: &Cluster,
        session: &Session,
        entries: usize,
        extra: impl FnOnce() -> T,
    ) -> bool {
        if !self.is_due(cluster.now()) {
            return false;
        }
        let Some(copy) = cluster.try_clone() else {
            return false;
        };
        let cp = Checkpoint {
            cluster: copy,
            session: session.clone(),
            entries,
            extra: extra(),
        };
        let at = cp.at();
        let i = self.list.partition_point(|c| c.at() <= at);
        self.list.insert(i, cp);
        while self.list.len() > self.cap {
            self.thin();
        }
        true
    }

    /// Drops the checkpoint (not the first or the last) whose loss leaves
    /// the smallest gap.
    fn thin(&mut self) {
        let drop = (1..self.list.len().saturating_sub(1)).min_by_key(|&i| {
            self.list[i + 1]
                .at()
                .saturating_since(self.list[i - 1].at())
        });
        if let Some(i) = drop {
            self.list.remove(i);
        } else {
            self.list.truncate(self.cap);
        }
    }

    /// The latest checkpoint at or before `t`.
    pub fn nearest(&self, t: SimTime) -> Option<&Checkpoint<T>> {
        self.list.iter().rev().find(|cp| cp.at() <= t)
    }

    /// Forgets the checkpoints of a future that was dropped: those after
    /// `t`, or past the log's first `entries` entries (a command typed
    /// after a scrub back, a lesson's rewind).
    pub fn forget_after(&mut self, t: SimTime, entries: usize) {
        self.list.retain(|cp| cp.at() <= t && cp.entries <= entries);
    }

    /// Forgets every checkpoint (a new run).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// When the checkpoints were taken, oldest first.
    pub fn times(&self) -> Vec<SimTime> {
        self.list.iter().map(Checkpoint::at).collect()
    }
}

/// What a replay rebuilt.
pub struct Replayed {
    pub cluster: Cluster,
    pub session: Session,
    /// Each replayed entry with what it printed.
    pub outcomes: Vec<(LogEntry, Vec<Outcome>)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimDuration;

    #[test]
    fn checkpoints_are_kept_once_per_period_and_thin_out_evenly_beyond_the_cap() {
        let mut c = Cluster::new(Topology::default(), 2);
        let s = Session::new();
        let mut cps: Checkpoints = Checkpoints::new(SimDuration::from_secs(10), 4);
        let mut kept = 0;
        for _ in 0..=200 {
            if cps.offer(&c, &s, 0, || ()) {
                kept += 1;
            }
            c.advance(SimDuration::from_millis(500));
        }
        // One every 10 s of the 100 s: 11, thinned to 4.
        assert_eq!(kept, 11);
        let secs: Vec<u64> = cps.times().iter().map(|t| t.as_millis() / 1000).collect();
        assert_eq!(secs.len(), 4);
        assert_eq!(
            (secs[0], secs[3]),
            (0, 100),
            "the first and the last stay: {secs:?}"
        );
        let gaps: Vec<u64> = secs.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.iter().all(|&g| (20..=50).contains(&g)),
            "evenly spread: {secs:?}"
        );
        let t = SimTime::from_millis(65_000);
        assert!(cps.nearest(t).is_some_and(|cp| cp.at() <= t));
        assert!(
            !cps.is_due(SimTime::from_millis(100_500)),
            "one was just taken"
        );
    }

    #[test]
    fn a_log_survives_encoding_and_decoding() {
        let mut log = RunLog::new(&Topology::default(), 7);
        log.record(
            SimTime::from_millis(1500),
            "kubectl create deployment web --image=nginx\n",
        );
        log.reached(SimTime::from_millis(9000));
        let text = log.encode().unwrap();
        assert!(text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(RunLog::decode(&text).unwrap(), log);
    }

    #[test]
    fn the_default_topology_is_left_out_of_the_link() {
        let log = RunLog::new(&Topology::default(), 1);
        assert!(log.topology.is_none());
        let json = serde_json::to_string(&log).unwrap();
        assert!(!json.contains("topology"), "{json}");
    }

    #[test]
    fn a_damaged_link_gets_an_error_not_a_panic() {
        for text in [
            "",
            "%%%",
            "eyJ2Ijo",
            "bm90IGpzb24",
            &"A".repeat(MAX_ENCODED_LEN + 1),
        ] {
            assert!(RunLog::decode(text).is_err(), "{text:?}");
        }
        let future = URL_SAFE_NO_PAD.encode(br#"{"v":99,"seed":1}"#);
        assert_eq!(RunLog::decode(&future), Err(RunLogError::Version(99)));
    }

    #[test]
    fn truncating_keeps_the_commands_typed_before_the_time() {
        let mut log = RunLog::new(&Topology::default(), 1);
        log.record(SimTime::from_millis(1000), "sim status");
        log.record(SimTime::from_millis(5000), "sim status");
        let cut = log.truncated(SimTime::from_millis(3000));
        assert_eq!(cut.entries.len(), 1);
        assert_eq!(cut.now, 3000);
    }

    #[test]
    fn a_replay_matches_the_run_advanced_frame_by_frame() {
        // The page advances the clock a frame at a time and runs commands in
        // between; the replay jumps from command to command. Both must end
        // in the same cluster.
        let mut live = Cluster::new(Topology::default(), 3);
        let mut session = Session::new();
        let mut log = RunLog::new(live.topology(), 3);
        let script = "kubectl create deployment web --image=nginx --replicas=2";
        for step in 0..400u64 {
            live.advance(SimDuration::from_millis(16 + step % 7));
            if step == 250 {
                log.record(live.now(), script);
                session.run_script(&mut live, script);
            }
        }
        // At 10x a frame advances the clock by ~160 ms.
        for (i, script) in [
            "kubectl create deployment api --image=nginx --replicas=3",
            "sim advance 20s",
        ]
        .iter()
        .enumerate()
        {
            for step in 0..60u64 {
                live.advance(SimDuration::from_millis(150 + (step * 37 + i as u64) % 40));
            }
            log.record(live.now(), script);
            session.run_script(&mut live, script);
        }
        for step in 0..30u64 {
            live.advance(SimDuration::from_millis(160 + step % 9));
        }
        log.reached(live.now());
        let replayed = log.replay(None).cluster;
        assert_eq!(replayed.now(), live.now());
        let a = serde_json::to_string(&live.snapshot()).unwrap();
        let b = serde_json::to_string(&replayed.snapshot()).unwrap();
        assert_eq!(a, b);
        assert_eq!(live.trace().total(), replayed.trace().total());
    }
}
