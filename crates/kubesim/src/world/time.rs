//! Virtual time.
//!
//! Every component of the simulation reads time only from the world's virtual
//! clock, counted in milliseconds from the start of the run. Nothing in the
//! core reads the wall clock: the page decides how fast virtual time passes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of virtual time: milliseconds since the run started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimTime(pub u64);

/// A span of virtual time in milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any time a run reaches ("never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `ms` milliseconds after the start of the run.
    pub const fn from_millis(ms: u64) -> Self {
        SimTime(ms)
    }

    /// Milliseconds since the start of the run.
    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// The time elapsed since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }

    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1000)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// Parses a Go-style duration as kubectl and `sim advance` accept it:
    /// `250ms`, `30s`, `5m`, `1h`, `1m30s`, or a bare number of seconds.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty duration".to_string());
        }
        if text.chars().all(|c| c.is_ascii_digit()) {
            return text
                .parse::<u64>()
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .map(SimDuration)
                .ok_or_else(|| format!("duration {text:?} is too large"));
        }
        let mut total: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(format!("invalid duration {text:?}"));
            }
            let value: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("invalid duration {text:?}"))?;
            rest = &rest[digits..];
            let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            let unit_ms = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(format!("missing unit in duration {text:?}")),
                other => return Err(format!("unknown unit {other:?} in duration {text:?}")),
            };
            rest = &rest[unit_len..];
            total = value
                .checked_mul(unit_ms)
                .and_then(|ms| total.checked_add(ms))
                .ok_or_else(|| format!("duration {text:?} is too large"))?;
        }
        Ok(SimDuration(total))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        *self = *self + d;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.saturating_since(earlier)
    }
}

impl fmt::Display for SimTime {
    /// `hh:mm:ss.mmm` since the start of the run, as the page's clock shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let s = self.0 / 1000;
        write!(
            f,
            "{:02}:{:02}:{:02}.{:03}",
            s / 3600,
            (s / 60) % 60,
            s % 60,
            ms
        )
    }
}

impl fmt::Display for SimDuration {
    /// Go's `time.Duration` form, as kubectl prints durations: `1h0m0s`,
    /// `1m30s`, `1.5s`, `250ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0;
        if total == 0 {
            return f.write_str("0s");
        }
        if total < 1000 {
            return write!(f, "{total}ms");
        }
        let (h, m, s, ms) = (
            total / 3_600_000,
            (total / 60_000) % 60,
            (total / 1000) % 60,
            total % 1000,
        );
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if h > 0 || m > 0 {
            write!(f, "{m}m")?;
        }
        write!(f, "{s}")?;
        if ms > 0 {
            let frac = format!("{ms:03}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go_durations() {
        assert_eq!(SimDuration::parse("250ms"), Ok(SimDuration(250)));
        assert_eq!(SimDuration::parse("30s"), Ok(SimDuration(30_000)));
        assert_eq!(SimDuration::parse("1m30s"), Ok(SimDuration(90_000)));
        assert_eq!(SimDuration::parse("2h"), Ok(SimDuration(7_200_000)));
        assert_eq!(SimDuration::parse("45"), Ok(SimDuration(45_000)));
    }

    #[test]
    fn malformed_durations_are_rejected_with_a_reason() {
        assert!(SimDuration::parse("").is_err());
        assert!(SimDuration::parse("s").is_err());
        assert!(SimDuration::parse("10").is_ok());
        assert!(SimDuration::parse("10x")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(SimDuration::parse("99999999999999999999h").is_err());
    }

    #[test]
    fn the_clock_prints_hours_minutes_seconds_and_millis() {
        assert_eq!(SimTime(3_723_004).to_string(), "01:02:03.004");
        assert_eq!(SimTime::ZERO.to_string(), "00:00:00.000");
    }

    #[test]
    fn durations_print_in_their_shortest_go_form() {
        assert_eq!(SimDuration(0).to_string(), "0s");
        assert_eq!(SimDuration(250).to_string(), "250ms");
        assert_eq!(SimDuration(90_000).to_string(), "1m30s");
        assert_eq!(SimDuration(1_500).to_string(), "1.5s");
        assert_eq!(SimDuration(3_600_000).to_string(), "1h0m0s");
    }
}
