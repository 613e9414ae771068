//! The CronJob controller: creates a Job for every time the schedule
//! fires, on the virtual clock.
//!
//! Ported from `pkg/controller/cronjob/cronjob_controllerv2.go`
//! (`syncCronJob`, `cleanupFinishedJobs`) and `utils.go`
//! (`mostRecentScheduleTime`, `nextScheduleTime`, `getJobFromTemplate2`,
//! `getTimeHashInMinutes`). On each sync the controller reconciles
//! `status.active` with the Jobs it owns (a finished one leaves the list
//! with `SawCompletedJob`, and a `Complete` one sets `lastSuccessfulTime`),
//! then, unless suspended, finds the most recent schedule time not yet
//! started since `lastScheduleTime` (or the creation): too late for
//! `startingDeadlineSeconds` is a missed run; with `concurrencyPolicy:
//! Forbid` a running Job skips it, with `Replace` the running Jobs are
//! deleted first. The Job is named `<cronjob>-<scheduled time in minutes
//! since the Unix epoch>` and annotated with
//! `batch.kubernetes.io/cronjob-scheduled-timestamp`. Finished Jobs beyond
//! `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1) are
//! deleted, oldest first. The controller wakes again just after the next
//! schedule time.
//!
//! Schedules are the standard five cron fields (minute, hour, day of
//! month, month, day of week, with `*`, `?`, lists, ranges, steps and
//! month and day names) or the `@yearly`, `@monthly`, `@weekly`, `@daily`,
//! `@hourly` and `@every <duration>` descriptors, as robfig/cron's
//! `ParseStandard` reads them; the API server rejects others at
//! validation. Times are UTC.
//!
//! Left out: `spec.timeZone` and `TZ=` prefixes (every schedule runs in
//! UTC), and the `TooManyMissedTimes` shortcut (missed times are counted
//! one by one, up to a bound).

use super::{Caches, Controller, Reconcile, ReplyEvent, Requeue};
use crate::api::time::{to_sim_time, to_time, EPOCH_UNIX_MILLIS};
use crate::api::{KindId, Object};
use crate::apiserver::auth::authn::Credential;
use crate::apiserver::{ApiRequest, ApiResponse, Propagation, Verb};
use crate::client::informer::Notification;
use crate::world::{SimDuration, SimTime};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use std::collections::BTreeMap;

/// The annotation with the time a Job was scheduled for.
pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// How many schedule times the controller steps through looking for the
/// most recent missed one.
const MAX_STEPS: usize = 100_000;

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Five fields as bit sets.
    Cron {
        minute: u64,
        hour: u64,
        dom: u64,
        month: u64,
        dow: u64,
        /// Day of month or day of week was `*` (or `?`): then both must
        /// match; else either may (robfig's `dayMatches`).
        dom_star: bool,
        dow_star: bool,
    },
    /// `@every <duration>`.
    Every(SimDuration),
}

fn name_value(n: &str, names: &[&str], offset: u32) -> Option<u32> {
    let lower = n.to_ascii_lowercase();
    names
        .iter()
        .position(|x| *x == lower)
        .map(|i| i as u32 + offset)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field (`getField`): a comma list of `*`, `a`, `a-b`, each with an
/// optional `/step`.
fn field(text: &str, lo: u32, hi: u32, names: &[&str], offset: u32) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let mut star = false;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                Some(
                    s.parse::<u32>()
                        .map_err(|_| format!("failed to parse int from {s}"))?,
                ),
            ),
            None => (part, None),
        };
        let parse = |n: &str| -> Result<u32, String> {
            n.parse::<u32>()
                .ok()
                .or_else(|| name_value(n, names, offset))
                .ok_or_else(|| format!("failed to parse int from {n}"))
        };
        let (start, end) = if range == "*" || range == "?" {
            star = step.is_none();
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (parse(a)?, parse(b)?)
        } else {
            let a = parse(range)?;
            // `a/step` runs to the maximum.
            (a, if step.is_some() { hi } else { a })
        };
        if start < lo {
            return Err(format!(
                "beginning of range ({start}) below minimum ({lo}): {part}"
            ));
        }
        if end > hi {
            return Err(format!("end of range ({end}) above maximum ({hi}): {part}"));
        }
        if start > end {
            return Err(format!(
                "beginning of range ({start}) beyond end of range ({end}): {part}"
            ));
        }
        let step = step.unwrap_or(1);
        if step == 0 {
            return Err(format!("step of range should be a positive number: {part}"));
        }
        let mut v = start;
        while v <= end {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a schedule as `cron.ParseStandard` does.
    pub fn parse(schedule: &str) -> Result<Schedule, String> {
        let s = schedule.trim();
        // A time zone prefix is accepted and ignored (UTC).
        let s = if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
            s.split_once(' ').map(|(_, r)| r.trim()).unwrap_or("")
        } else {
            s
        };
        if let Some(d) = s.strip_prefix("@every ") {
            let d = SimDuration::parse(d.trim())
                .map_err(|_| format!("failed to parse duration {s}: {d}"))?;
            // robfig rounds below one second up to one second.
            return Ok(Schedule::Every(d.max(SimDuration::from_secs(1))));
        }
        let expanded = match s {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            _ if s.starts_with('@') => return Err(format!("unrecognized descriptor: {s}")),
            _ => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {s}",
                fields.len()
            ));
        }
        let (minute, _) = field(fields[0], 0, 59, &[], 0)?;
        let (hour, _) = field(fields[1], 0, 23, &[], 0)?;
        let (dom, dom_star) = field(fields[2], 1, 31, &[], 0)?;
        let (month, _) = field(fields[3], 1, 12, &MONTHS, 1)?;
        let (mut dow, dow_star) = field(fields[4], 0, 7, &DAYS, 0)?;
        // 7 is Sunday too.
        if dow & (1 << 7) != 0 {
            dow |= 1;
        }
        Ok(Schedule::Cron {
            minute,
            hour,
            dom,
            month,
            dow,
            dom_star,
            dow_star,
        })
    }

    /// The first time strictly after `after` (Unix seconds) the schedule
    /// fires, within five years.
    pub fn next(&self, after: i64) -> Option<i64> {
        match self {
            Schedule::Every(d) => Some(after + (d.as_millis() / 1000).max(1) as i64),
            Schedule::Cron {
                minute,
                hour,
                dom,
                month,
                dow,
                dom_star,
                dow_star,
            } => {
                let limit = after + 5 * 366 * 86_400;
                let mut t = after.div_euclid(60) * 60 + 60;
                while t <= limit {
                    let days = t.div_euclid(86_400);
                    let (y, m, d) = civil_from_days(days);
                    if month & (1 << m) == 0 {
                        // The first day of the next month.
                        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                        t = days_from_civil(ny, nm, 1) * 86_400;
                        continue;
                    }
                    let weekday = (days + 4).rem_euclid(7) as u32; // 1970-01-01 was a Thursday
                    let dom_ok = dom & (1 << d) != 0;
                    let dow_ok = dow & (1 << weekday) != 0;
                    let day_ok = if *dom_star || *dow_star {
                        dom_ok && dow_ok
                    } else {
                        dom_ok || dow_ok
                    };
                    if !day_ok {
                        t = (days + 1) * 86_400;
                        continue;
                    }
                    let secs = t.rem_euclid(86_400);
                    let (h, mi) = (secs / 3600, (secs % 3600) / 60);
                    if hour & (1 << h) == 0 {
                        t = days * 86_400 + (h + 1) * 3600;
                        continue;
                    }
                    if minute & (1 << mi) == 0 {
                        t += 60;
                        continue;
                    }
                    return Some(t);
                }
                None
            }
        }
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds of a virtual instant.
fn unix(t: SimTime) -> i64 {
    (EPOCH_UNIX_MILLIS + t.as_millis() as i64).div_euclid(1000)
}

/// The virtual instant of Unix seconds (the run's start at the earliest).
fn sim(unix_secs: i64) -> SimTime {
    SimTime((unix_secs * 1000 - EPOCH_UNIX_MILLIS).max(0) as u64)
}

/// `getTimeHashInMinutes`.
pub fn job_name(cronjob: &str, scheduled: SimTime) -> String {
    format!("{cronjob}-{}", unix(scheduled).div_euclid(60))
}

/// `mostRecentScheduleTime`: the last schedule time in (`earliest`,
/// `now`], and how many there were.
pub fn most_recent(
    schedule: &Schedule,
    earliest: SimTime,
    now: SimTime,
) -> (Option<SimTime>, usize) {
    let (mut t, end) = (unix(earliest), unix(now));
    let mut last = None;
    let mut n = 0;
    while n < MAX_STEPS {
        match schedule.next(t) {
            Some(x) if x <= end => {
                last = Some(x);
                t = x;
                n += 1;
            }
            _ => break,
        }
    }
    (last.map(sim), n)
}

/// A Job's terminal condition: `Complete` or `Failed`, if any.
fn finished(job: &Job) -> Option<&'static str> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    for (ty, name) in [("Complete", "Complete"), ("Failed", "Failed")] {
        if conds.iter().any(|c| c.type_ == ty && c.status == "True") {
            return Some(name);
        }
    }
    None
}

/// The CronJob controller.
#[derive(Clone, Default)]
pub struct CronJobController {
    /// Jobs created and not yet seen, by CronJob key: their names.
    pending: BTreeMap<String, Vec<String>>,
}

impl CronJobController {
    fn owner_key(job: &Object) -> Option<String> {
        let r = job.controller_ref()?;
        (r.kind == "CronJob").then(|| format!("{}/{}", job.namespace().unwrap_or_default(), r.name))
    }

    fn delete_job(ctx: &mut Reconcile<'_, '_>, cj: &Object, name: &str) {
        let mut req = ApiRequest::new(Verb::Delete, KindId::Job, Credential::None)
            .in_namespace(cj.namespace().unwrap_or("default"))
            .named(name);
        req.options.propagation = Some(Propagation::Background);
        ctx.write(req);
        ctx.event(
            cj,
            "Normal",
            "SuccessfulDelete",
            format!("Deleted job {name}"),
        );
    }
}

impl Controller for CronJobController {
    fn name(&self) -> &'static str {
        "cronjob-controller"
    }

    fn kinds(&self) -> Vec<KindId> {
        vec![KindId::CronJob, KindId::Job]
    }

    fn keys_for(&mut self, _caches: Caches<'_>, kind: KindId, n: &Notification) -> Vec<String> {
        match (kind, n) {
            (KindId::CronJob, n) => n.key().into_iter().collect(),
            (KindId::Job, Notification::Add(o))
            | (KindId::Job, Notification::Update { new: o, .. })
            | (KindId::Job, Notification::Delete { object: o, .. }) => {
                let key = Self::owner_key(o);
                if let Some(k) = &key {
                    if let Some(p) = self.pending.get_mut(k) {
                        p.retain(|name| name != o.name());
                    }
                }
                key.into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    fn reconcile(&mut self, ctx: &mut Reconcile<'_, '_>, key: &str) -> Requeue {
        let Some(object) = ctx.caches.get(KindId::CronJob, key).cloned() else {
            self.pending.remove(key);
            return Requeue::Done;
        };
        let Object::CronJob(cj) = &*object else {
            return Requeue::Done;
        };
        if self.pending.get(key).is_some_and(|p| !p.is_empty()) {
            // Wait for the informer to see the Jobs just created.
            return Requeue::Done;
        }
        let now = ctx.now;
        let ns = object.namespace().unwrap_or("default").to_string();
        let uid = object.uid().unwrap_or_default().to_string();
        let jobs: Vec<(String, Job)> = ctx
            .caches
            .list_in(KindId::Job, &ns)
            .iter()
            .filter(|j| j.controller_ref().is_some_and(|r| r.uid == uid))
            .filter_map(|j| match &**j {
                Object::Job(job) => Some((j.name().to_string(), (**job).clone())),
                _ => None,
            })
            .collect();
        let old = cj.status.clone().unwrap_or_default();
        let mut status = old.clone();
        let mut active: Vec<ObjectReference> = old.active.clone().unwrap_or_default();
        // Reconcile `status.active` with the Jobs.
        for (name, job) in &jobs {
            let listed = active.iter().any(|r| r.name.as_deref() == Some(name));
            match finished(job) {
                Some(cond) if listed => {
                    active.retain(|r| r.name.as_deref() != Some(name));
                    ctx.event(
                        &object,
                        "Normal",
                        "SawCompletedJob",
                        format!("Saw completed job: {name}, condition: {cond}"),
                    );
                    if cond == "Complete" {
                        if let Some(t) = job.status.as_ref().and_then(|s| s.completion_time.clone())
                        {
                            let later = status
                                .last_successful_time
                                .as_ref()
                                .is_none_or(|l| to_sim_time(l) < to_sim_time(&t));
                            if later {
                                status.last_successful_time = Some(t);
                            }
                        }
                    }
                }
                None if !listed && job.metadata.deletion_timestamp.is_none() => {
                    active.push(job_reference(name, job));
                }
                _ => {}
            }
        }
        active.retain(|r| {
            jobs.iter()
                .any(|(n, _)| r.name.as_deref() == Some(n.as_str()))
        });

        let mut requeue = Requeue::Done;
        if object.deletion_timestamp().is_none() && cj.spec.suspend != Some(true) {
            match Schedule::parse(&cj.spec.schedule) {
                Err(e) => ctx.event(
                    &object,
                    "Warning",
                    "UnparseableSchedule",
                    format!("unparseable schedule: {:?} : {e}", cj.spec.schedule),
                ),
                Ok(schedule) => {
                    let earliest = status
                        .last_schedule_time
                        .as_ref()
                        .or(object.creation_timestamp())
                        .map(to_sim_time)
                        .unwrap_or(SimTime::ZERO);
                    let (scheduled, missed) = most_recent(&schedule, earliest, now);
                    if missed > 100 {
                        ctx.event(
                            &object,
                            "Warning",
                            "TooManyMissedTimes",
                            format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
                        );
                    }
                    if let Some(t) = scheduled {
                        self.start(ctx, key, &object, cj, t, &mut active, &mut status);
                    }
                    // Wake just after the next schedule time
                    // (`nextScheduleTimeDuration` adds 100 ms).
                    if let Some(next) = schedule.next(unix(now)) {
                        let at = sim(next) + SimDuration::from_millis(100);
                        requeue = Requeue::After(at.saturating_since(now));
                    }
                }
            }
        }
        status.active = (!active.is_empty()).then_some(active);

        // `cleanupFinishedJobs`: the oldest finished Jobs beyond the limits.
        for (cond, limit) in [
            ("Complete", cj.spec.successful_jobs_history_limit),
            ("Failed", cj.spec.failed_jobs_history_limit),
        ] {
            let Some(limit) = limit else {
                continue;
            };
            let mut done: Vec<(SimTime, &String)> = jobs
                .iter()
                .filter(|(_, j)| {
                    j.metadata.deletion_timestamp.is_none() && finished(j) == Some(cond)
                })
                .map(|(n, j)| {
                    let t = j
                        .status
                        .as_ref()
                        .and_then(|s| s.start_time.as_ref())
                        .or(j.metadata.creation_timestamp.as_ref())
                        .map(to_sim_time)
                        .unwrap_or(SimTime::ZERO);
                    (t, n)
                })
                .collect();
            done.sort();
            let excess = done.len().saturating_sub(limit.max(0) as usize);
            for (_, name) in done.into_iter().take(excess) {
                Self::delete_job(ctx, &object, name);
            }
        }

        if status != old {
            let mut next = cj.clone();
            next.metadata.resource_version = None;
            next.status = Some(status);
            ctx.write(
                ApiRequest::new(Verb::Update, KindId::CronJob, Credential::None)
                    .in_namespace(&ns)
                    .named(object.name())
                    .with_subresource("status")
                    .with_body(Object::CronJob(next)),
            );
        }
        requeue
    }

    fn on_reply(
        &mut self,
        key: &str,
        request: &ApiRequest,
        response: &ApiResponse,
    ) -> Vec<ReplyEvent> {
        match (request.verb, request.kind, response) {
            (Verb::Create, KindId::Job, ApiResponse::Object(job)) => {
                if let Some(owner) = job.controller_ref() {
                    return vec![ReplyEvent::on_owner(
                        owner,
                        job.namespace(),
                        "Normal",
                        "SuccessfulCreate",
                        format!("Created job {}", job.name()),
                    )];
                }
            }
            (Verb::Create, KindId::Job, ApiResponse::Error(e)) => {
                if let Some(body) = request.body.as_deref() {
                    if let Some(p) = self.pending.get_mut(key) {
                        p.retain(|n| n != body.name());
                    }
                    if let Some(owner) = body.controller_ref() {
                        return vec![ReplyEvent::on_owner(
                            owner,
                            request.namespace.as_deref(),
                            "Warning",
                            "FailedCreate",
                            format!("Error creating job: {}", e.message),
                        )];
                    }
                }
            }
            _ => {}
        }
        Vec::new()
    }
}

fn job_reference(name: &str, job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: Some(name.to_string()),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..Default::default()
    }
}

impl CronJobController {
    /// Starts the run scheduled at `t` unless it is too late, already
    /// running, or forbidden by the concurrency policy.
    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        ctx: &mut Reconcile<'_, '_>,
        key: &str,
        object: &Object,
        cj: &CronJob,
        t: SimTime,
        active: &mut Vec<ObjectReference>,
        status: &mut k8s_openapi::api::batch::v1::CronJobStatus,
    ) {
        let now = ctx.now;
        let name = job_name(object.name(), t);
        if let Some(deadline) = cj.spec.starting_deadline_seconds {
            if t + SimDuration::from_secs(deadline.max(0) as u64) < now {
                ctx.event(
                    object,
                    "Warning",
                    "MissSchedule",
                    format!("Missed scheduled time to start a job: {}", rfc3339(t)),
                );
                return;
            }
        }
        if active
            .iter()
            .any(|r| r.name.as_deref() == Some(name.as_str()))
        {
            return;
        }
        match cj.spec.concurrency_policy.as_deref().unwrap_or("Allow") {
            "Forbid" if !active.is_empty() => {
                ctx.event(
                    object,
                    "Normal",
                    "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid".into(),
                );
                return;
            }
            "Replace" => {
                for r in active.drain(..) {
                    if let Some(n) = r.name {
                        Self::delete_job(ctx, object, &n);
                    }
                }
            }
            _ => {}
        }
        // `getJobFromTemplate2`.
        let template = &cj.spec.job_template;
        let mut job = Job::default();
        let meta = template.metadata.clone().unwrap_or_default();
        job.metadata.name = Some(name.clone());
        job.metadata.namespace = object.namespace().map(str::to_string);
        job.metadata.labels = meta.labels;
        let mut annotations = meta.annotations.unwrap_or_default();
        annotations.insert(SCHEDULED_TIMESTAMP_ANNOTATION.into(), rfc3339(t));
        job.metadata.annotations = Some(annotations);
        job.metadata.owner_references = Some(vec![super::replicaset::controller_ref(object)]);
        job.spec = template.spec.clone();
        self.pending
            .entry(key.to_string())
            .or_default()
            .push(name.clone());
        ctx.write(
            ApiRequest::new(Verb::Create, KindId::Job, Credential::None)
                .in_namespace(object.namespace().unwrap_or("default"))
                .with_body(Object::Job(Box::new(job))),
        );
        active.push(ObjectReference {
            api_version: Some("batch/v1".into()),
            kind: Some("Job".into()),
            name: Some(name),
            namespace: object.namespace().map(str::to_string),
            ..Default::default()
        });
        status.last_schedule_time = Some(to_time(t));
    }
}

/// RFC 3339 with whole seconds, as Go's `time.RFC3339`.
fn rfc3339(t: SimTime) -> String {
    serde_json::to_value(to_time(t))
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::testing::{object, reconcile};

    /// Unix seconds of a UTC date and time.
    fn at(y: i64, m: u32, d: u32, h: i64, mi: i64) -> i64 {
        days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn every_minute_fires_on_the_next_minute() {
        let s = Schedule::parse("*/1 * * * *").unwrap_or(Schedule::Every(SimDuration::ZERO));
        assert_eq!(s.next(at(2026, 1, 1, 0, 0) + 1), Some(at(2026, 1, 1, 0, 1)));
        assert_eq!(s.next(at(2026, 1, 1, 0, 1)), Some(at(2026, 1, 1, 0, 2)));
    }

    #[test]
    fn fields_ranges_steps_and_names_are_understood() {
        let s = Schedule::parse("30 9-17/4 * jan,feb mon-fri")
            .unwrap_or(Schedule::Every(SimDuration::ZERO));
        // 2026-01-01 is a Thursday.
        assert_eq!(s.next(at(2026, 1, 1, 0, 0)), Some(at(2026, 1, 1, 9, 30)));
        assert_eq!(s.next(at(2026, 1, 1, 9, 30)), Some(at(2026, 1, 1, 13, 30)));
        assert_eq!(s.next(at(2026, 1, 1, 17, 30)), Some(at(2026, 1, 2, 9, 30)));
        // Saturday and Sunday are skipped.
        assert_eq!(s.next(at(2026, 1, 2, 17, 30)), Some(at(2026, 1, 5, 9, 30)));
        // March is not in the months.
        assert_eq!(s.next(at(2026, 2, 27, 17, 30)), Some(at(2027, 1, 1, 9, 30)));
    }

    #[test]
    fn day_of_month_and_day_of_week_both_restricted_match_either() {
        let s = Schedule::parse("0 0 13 * 5").unwrap_or(Schedule::Every(SimDuration::ZERO));
        // Friday 2026-01-02 comes before the 13th.
        assert_eq!(s.next(at(2026, 1, 1, 0, 0)), Some(at(2026, 1, 2, 0, 0)));
        let monthly = Schedule::parse("@monthly").unwrap_or(Schedule::Every(SimDuration::ZERO));
        assert_eq!(
            monthly.next(at(2026, 1, 15, 0, 0)),
            Some(at(2026, 2, 1, 0, 0))
        );
        assert_eq!(
            monthly.next(at(2026, 12, 15, 0, 0)),
            Some(at(2027, 1, 1, 0, 0))
        );
    }

    #[test]
    fn bad_schedules_get_robfig_cron_errors() {
        assert_eq!(
            Schedule::parse("* * *"),
            Err("expected exactly 5 fields, found 3: * * *".into())
        );
        assert_eq!(
            Schedule::parse("61 * * * *"),
            Err("end of range (61) above maximum (59): 61".into())
        );
        assert_eq!(
            Schedule::parse("@fortnightly"),
            Err("unrecognized descriptor: @fortnightly".into())
        );
    }

    #[test]
    fn jobs_are_named_after_the_scheduled_minute() {
        assert_eq!(job_name("hello", SimTime(60_000)), "hello-29453761");
    }

    #[test]
    fn a_due_cronjob_creates_its_job_and_records_the_schedule_time() {
        let mut cj = object("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: hello\n  namespace: default\n  uid: cj-uid\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: hello\n            image: busybox:1.28\n          restartPolicy: OnFailure\n");
        cj.meta_mut().creation_timestamp = Some(to_time(SimTime(10_000)));
        let mut c = CronJobController::default();
        let (writes, _, requeue) =
            reconcile(&mut c, SimTime(30_000), &[cj.clone()], "default/hello");
        assert!(writes.iter().all(|w| w.verb != Verb::Create), "not yet due");
        assert_eq!(requeue, Requeue::After(SimDuration::from_millis(30_100)));
        let (writes, _, _) = reconcile(&mut c, SimTime(60_100), &[cj], "default/hello");
        let job = writes
            .iter()
            .find(|w| w.verb == Verb::Create)
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(job["metadata"]["name"], "hello-29453761");
        assert_eq!(
            job["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION],
            "2026-01-01T00:01:00Z"
        );
        let status = writes
            .iter()
            .find(|w| w.verb == Verb::Update)
            .and_then(|w| w.body.as_deref())
            .map(Object::to_value)
            .unwrap_or_default();
        assert_eq!(status["status"]["lastScheduleTime"], "2026-01-01T00:01:00Z");
        assert_eq!(status["status"]["active"][0]["name"], "hello-29453761");
    }
}
