//! Virtual time as API timestamps.
//!
//! Kubernetes stamps objects with wall-clock times (`creationTimestamp`,
//! `lastTransitionTime`) at second precision. The simulation has no wall
//! clock: every run starts at the fixed instant [`EPOCH`]
//! (2026-01-01T00:00:00Z) and `SimTime` counts milliseconds from there, so
//! the same run prints the same timestamps.

use crate::world::SimTime;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

/// When every run starts: 2026-01-01T00:00:00Z, in Unix milliseconds.
pub const EPOCH_UNIX_MILLIS: i64 = 1_767_225_600_000;

/// The run's start as an RFC 3339 string.
pub const EPOCH: &str = "2026-01-01T00:00:00Z";

fn timestamp(t: SimTime) -> Timestamp {
    let ms = i64::try_from(t.as_millis())
        .unwrap_or(i64::MAX)
        .saturating_add(EPOCH_UNIX_MILLIS);
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::MAX)
}

/// The `metav1.Time` of a virtual instant (printed to the second).
pub fn to_time(t: SimTime) -> Time {
    Time(timestamp(t))
}

/// The `metav1.MicroTime` of a virtual instant (leases, events).
pub fn to_micro_time(t: SimTime) -> MicroTime {
    MicroTime(timestamp(t))
}

/// The virtual instant of a timestamp; times before the run are its start.
pub fn to_sim_time(t: &Time) -> SimTime {
    let ms = t.0.as_millisecond().saturating_sub(EPOCH_UNIX_MILLIS);
    SimTime(u64::try_from(ms).unwrap_or(0))
}

/// The virtual instant of an RFC 3339 string as objects carry it
/// (`2026-01-01T00:01:30Z`), or `None` if it does not parse.
pub fn parse_millis(text: &str) -> Option<u64> {
    let ts: Timestamp = text.parse().ok()?;
    u64::try_from(ts.as_millisecond().saturating_sub(EPOCH_UNIX_MILLIS)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_starts_on_new_year_2026() {
        let v = serde_json::to_value(to_time(SimTime::ZERO)).unwrap_or_default();
        assert_eq!(v, EPOCH);
        let v = serde_json::to_value(to_time(SimTime(90_500))).unwrap_or_default();
        assert_eq!(v, "2026-01-01T00:01:30Z");
    }

    #[test]
    fn timestamps_convert_back_to_virtual_time() {
        assert_eq!(to_sim_time(&to_time(SimTime(5_000))), SimTime(5_000));
        assert_eq!(to_sim_time(&Time(Timestamp::UNIX_EPOCH)), SimTime::ZERO);
    }
}
