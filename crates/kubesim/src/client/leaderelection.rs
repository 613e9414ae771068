//! Leader election over a Lease, as client-go's `tools/leaderelection` does it.
//!
//! Several instances of kube-scheduler or kube-controller-manager run; only
//! the one holding the Lease acts. Each instance, every `retry_period`, reads
//! the Lease and decides (`LeaderElector.tryAcquireOrRenew`):
//! - no Lease: create it, naming itself holder;
//! - held by another and still valid (the record was last seen to change less
//!   than `lease_duration` ago, by the observer's own clock): wait;
//! - held by itself, or expired: write it (renewTime = now; on a takeover
//!   acquireTime = now and leaseTransitions + 1), conditional on the
//!   resourceVersion it read, so two candidates cannot both win.
//!
//! A leader that has not renewed successfully for `renew_deadline` gives up
//! leadership (upstream, kube-scheduler and kube-controller-manager then exit
//! and are restarted). Defaults: 15 s / 10 s / 2 s (DESIGN.md §2). The retry
//! jitter (`JitterFactor` 1.2) is drawn by the caller from the seeded RNG.

use crate::world::{SimDuration, SimTime};

/// Lease duration, renew deadline and retry period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    pub lease_duration: SimDuration,
    pub renew_deadline: SimDuration,
    pub retry_period: SimDuration,
}

impl Default for LeaderElectionConfig {
    /// kube-scheduler's and kube-controller-manager's defaults.
    fn default() -> Self {
        LeaderElectionConfig {
            lease_duration: SimDuration::from_secs(15),
            renew_deadline: SimDuration::from_secs(10),
            retry_period: SimDuration::from_secs(2),
        }
    }
}

/// What a Lease says (coordination.k8s.io/v1 `LeaseSpec`), plus the
/// resourceVersion it was read at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    pub holder: Option<String>,
    pub lease_duration_seconds: u64,
    pub acquire_time: SimTime,
    pub renew_time: SimTime,
    pub lease_transitions: u32,
    pub resource_version: Option<String>,
}

/// What the elector wants done after reading the Lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave the Lease alone and try again after the retry period.
    Wait,
    /// Create the Lease with this record.
    Create(LeaseRecord),
    /// Update the Lease to this record, if it is still at `resource_version`.
    Update(LeaseRecord),
}

/// One candidate's elector.
#[derive(Clone, Debug)]
pub struct LeaderElector {
    identity: String,
    config: LeaderElectionConfig,
    observed: Option<LeaseRecord>,
    observed_time: SimTime,
    leader: bool,
    last_renewed: SimTime,
}

impl LeaderElector {
    pub fn new(identity: impl Into<String>, config: LeaderElectionConfig) -> Self {
        LeaderElector {
            identity: identity.into(),
            config,
            observed: None,
            observed_time: SimTime::ZERO,
            leader: false,
            last_renewed: SimTime::ZERO,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn config(&self) -> LeaderElectionConfig {
        self.config
    }

    /// Whether this candidate believes it leads.
    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// The holder last observed, if any.
    pub fn observed_holder(&self) -> Option<&str> {
        self.observed.as_ref().and_then(|r| r.holder.as_deref())
    }

    fn lease_valid(&self, now: SimTime) -> bool {
        let Some(obs) = &self.observed else {
            return false;
        };
        self.observed_time + SimDuration::from_secs(obs.lease_duration_seconds) > now
    }

    /// Decides what to do given the Lease just read (`None`: it does not exist).
    pub fn on_read(&mut self, now: SimTime, lease: Option<LeaseRecord>) -> Action {
        let mine = LeaseRecord {
            holder: Some(self.identity.clone()),
            lease_duration_seconds: self.config.lease_duration.as_millis() / 1000,
            acquire_time: now,
            renew_time: now,
            lease_transitions: 0,
            resource_version: None,
        };
        let Some(current) = lease else {
            return Action::Create(mine);
        };
        // Validity is judged by when *we* saw the record change, not by its
        // renewTime, so clock skew between machines cannot steal a lease.
        let changed = self.observed.as_ref().map(|o| {
            (&o.holder, o.renew_time, &o.resource_version)
                != (
                    &current.holder,
                    current.renew_time,
                    &current.resource_version,
                )
        });
        if changed.unwrap_or(true) {
            self.observed_time = now;
        }
        self.observed = Some(current.clone());
        let held_by_other = current
            .holder
            .as_deref()
            .is_some_and(|h| !h.is_empty() && h != self.identity);
        if held_by_other && self.lease_valid(now) {
            self.leader = false;
            return Action::Wait;
        }
        let mut record = mine;
        record.resource_version = current.resource_version.clone();
        if current.holder.as_deref() == Some(self.identity.as_str()) {
            record.acquire_time = current.acquire_time;
            record.lease_transitions = current.lease_transitions;
        } else {
            record.lease_transitions = current.lease_transitions + 1;
        }
        Action::Update(record)
    }

    /// Reports whether the create or update succeeded.
    pub fn on_write(&mut self, now: SimTime, written: Option<LeaseRecord>) {
        match written {
            Some(record) => {
                self.observed = Some(record);
                self.observed_time = now;
                self.leader = true;
                self.last_renewed = now;
            }
            None => {
                self.check_deadline(now);
            }
        }
    }

    /// Gives up leadership if the last successful renewal is older than the
    /// renew deadline. Returns true when leadership was just lost.
    pub fn check_deadline(&mut self, now: SimTime) -> bool {
        if self.leader && now.saturating_since(self.last_renewed) >= self.config.renew_deadline {
            self.leader = false;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1000)
    }

    fn written(action: Action, rv: &str) -> LeaseRecord {
        match action {
            Action::Create(mut r) | Action::Update(mut r) => {
                r.resource_version = Some(rv.into());
                r
            }
            Action::Wait => panic!("expected a write"),
        }
    }

    #[test]
    fn the_first_candidate_creates_the_lease_and_leads() {
        let mut a = LeaderElector::new("a", LeaderElectionConfig::default());
        let action = a.on_read(at(0), None);
        let rec = written(action, "1");
        assert_eq!(rec.holder.as_deref(), Some("a"));
        assert_eq!(rec.lease_duration_seconds, 15);
        a.on_write(at(0), Some(rec));
        assert!(a.is_leader());
    }

    #[test]
    fn a_standby_waits_while_the_lease_is_renewed() {
        let mut a = LeaderElector::new("a", LeaderElectionConfig::default());
        let mut b = LeaderElector::new("b", LeaderElectionConfig::default());
        let rec = written(a.on_read(at(0), None), "1");
        a.on_write(at(0), Some(rec.clone()));
        assert_eq!(b.on_read(at(1), Some(rec)), Action::Wait);
        // The leader renews every 2 s; the standby keeps waiting.
        let mut rv = 1;
        for t in (2..60).step_by(2) {
            let cur = a.observed.clone();
            rv += 1;
            let renewed = written(a.on_read(at(t), cur), &rv.to_string());
            a.on_write(at(t), Some(renewed.clone()));
            assert_eq!(b.on_read(at(t), Some(renewed)), Action::Wait);
        }
        assert!(a.is_leader() && !b.is_leader());
    }

    #[test]
    fn a_standby_takes_over_once_the_lease_expires() {
        let mut a = LeaderElector::new("a", LeaderElectionConfig::default());
        let mut b = LeaderElector::new("b", LeaderElectionConfig::default());
        let rec = written(a.on_read(at(0), None), "1");
        a.on_write(at(0), Some(rec.clone()));
        // The leader dies at t=0. The standby first sees the record at t=1.
        let mut t = 1;
        let action = loop {
            match b.on_read(at(t), Some(rec.clone())) {
                Action::Wait => t += 2,
                other => break other,
            }
        };
        // It was first observed at t=1, so it is valid until t=16.
        assert_eq!(t, 17);
        let taken = written(action, "2");
        assert_eq!(taken.holder.as_deref(), Some("b"));
        assert_eq!(taken.lease_transitions, 1);
        assert_eq!(taken.acquire_time, at(17));
    }

    #[test]
    fn a_takeover_is_conditional_on_the_version_read() {
        let mut b = LeaderElector::new("b", LeaderElectionConfig::default());
        let stale = LeaseRecord {
            holder: Some("a".into()),
            lease_duration_seconds: 15,
            acquire_time: at(0),
            renew_time: at(0),
            lease_transitions: 3,
            resource_version: Some("41".into()),
        };
        b.on_read(at(0), Some(stale.clone()));
        match b.on_read(at(20), Some(stale)) {
            Action::Update(r) => assert_eq!(r.resource_version.as_deref(), Some("41")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_leader_that_cannot_renew_for_the_deadline_steps_down() {
        let mut a = LeaderElector::new("a", LeaderElectionConfig::default());
        let rec = written(a.on_read(at(0), None), "1");
        a.on_write(at(0), Some(rec));
        for t in (2..10).step_by(2) {
            a.on_write(at(t), None);
            assert!(a.is_leader(), "still within the renew deadline at {t}s");
        }
        a.on_write(at(10), None);
        assert!(!a.is_leader());
    }
}
