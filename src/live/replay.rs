//! `live run`: replays a scenario's trace in wall-clock time (× speed), submitting each job
//! when it is due through the same `Service` path as HTTP submissions (so forecasts, journal
//! and idempotency are identical), then drains until the backend reports every job finished
//! or the drain limit passes. Each submission keeps its trace time in the model, so the twin
//! makes `volsim run`'s decisions at any speed; when the machine falls behind the wall clock
//! the lag is reported, not folded into the answer.
//!
//! A run can be watched and stopped (`Watch`): a progress callback at a bounded rate
//! (submitted / pending / running / finished, lag behind the wall clock) and a stop predicate
//! (SIGINT/SIGTERM) polled at least every `POLL`; a stopped run still writes its outputs.
//!
//! Depends on `workload`. Idempotency key of trace job `id`: `run:<id>`, so a restarted run
//! resumes without duplicates.

use std::time::{Duration, Instant};

use super::names::{fnv1a, object_name};
use super::request::Submission;
use super::service::Service;
use super::LiveError;
use crate::workload::TraceJob;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub submitted: usize,
    pub replayed: usize,
    pub held: usize,
    pub finished: usize,
    /// Longest the wall clock ran ahead of a submission's trace time (model ms). The twin's
    /// decisions do not depend on it (submissions keep their trace times); a real cluster's do.
    pub max_lag_ms: u64,
    /// True when the stop predicate ended the run early (outputs are still written).
    pub interrupted: bool,
}

/// Where a run is, for a progress line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Trace jobs in the run, and how many have been submitted (or replayed) so far.
    pub total: usize,
    pub submitted: usize,
    /// Jobs the backend reports Pending or Inqueue, Running, Completed.
    pub pending: usize,
    pub running: usize,
    pub finished: usize,
    /// Model time now (ms) and how far the wall clock is ahead of the last submission's trace
    /// time (model ms; 0 when on time).
    pub model_ms: u64,
    pub lag_ms: u64,
    /// Draining (every job submitted).
    pub draining: bool,
}

/// How a run is watched: `on_progress` at most every `every` of real time, `stop` polled at
/// least every `POLL`.
pub struct Watch<'a> {
    pub every: Duration,
    pub on_progress: &'a mut dyn FnMut(&Progress),
    pub stop: &'a dyn Fn() -> bool,
}

/// Longest sleep between two polls of the stop predicate.
pub const POLL: Duration = Duration::from_millis(100);

/// The submission for trace job `j`.
pub fn trace_submission(j: &TraceJob) -> Submission {
    let key = format!("run:{}", j.id);
    let job = TraceJob {
        id: object_name(&key),
        ..j.clone()
    };
    let fingerprint = fnv1a(format!("{j:?}").as_bytes());
    Submission {
        source: if j.class.is_empty() {
            "trace".into()
        } else {
            format!("class:{}", j.class)
        },
        workflow_id: j.id.clone(),
        key,
        fingerprint,
        job,
    }
}

/// Submits every job when due, then drains for at most `drain` of real time.
pub fn run(svc: &mut Service, jobs: &[TraceJob], drain: Duration) -> Result<RunSummary, LiveError> {
    run_watched(
        svc,
        jobs,
        drain,
        &mut Watch {
            every: Duration::MAX,
            on_progress: &mut |_| {},
            stop: &|| false,
        },
    )
}

fn progress(
    svc: &Service,
    total: usize,
    submitted: usize,
    lag_ms: u64,
    draining: bool,
) -> Progress {
    let mut p = Progress {
        total,
        submitted,
        model_ms: svc.clock.now_ms(),
        lag_ms,
        draining,
        ..Progress::default()
    };
    for (r, v) in svc.observed() {
        match v.as_ref().map(|v| v.phase) {
            _ if r.held || r.deleted => {}
            Some("Pending" | "Inqueue") => p.pending += 1,
            Some("Running") => p.running += 1,
            Some("Completed") => p.finished += 1,
            _ => {}
        }
    }
    p
}

/// `run`, reporting progress to `w` and stopping early (outputs written) when `w.stop` says so.
pub fn run_watched(
    svc: &mut Service,
    jobs: &[TraceJob],
    drain: Duration,
    w: &mut Watch,
) -> Result<RunSummary, LiveError> {
    let mut order: Vec<&TraceJob> = jobs.iter().collect();
    order.sort_by_key(|j| j.submit_ms);
    let mut sum = RunSummary::default();
    let mut next_report = Instant::now().checked_add(w.every);
    let mut lag_ms = 0u64;
    let mut report = |svc: &Service, sum: &RunSummary, lag_ms: u64, draining: bool| {
        if next_report.is_some_and(|t| Instant::now() >= t) {
            let p = progress(
                svc,
                jobs.len(),
                sum.submitted + sum.replayed,
                lag_ms,
                draining,
            );
            (w.on_progress)(&p);
            next_report = Instant::now().checked_add(w.every);
        }
    };
    'submit: for j in order {
        loop {
            if (w.stop)() {
                sum.interrupted = true;
                break 'submit;
            }
            let wait = svc.clock.until(j.submit_ms);
            if wait.is_zero() {
                break;
            }
            std::thread::sleep(wait.min(POLL));
            report(svc, &sum, 0, false);
        }
        lag_ms = svc.clock.now_ms().saturating_sub(j.submit_ms);
        let r = svc
            .submit_at(trace_submission(j), Some(j.submit_ms))
            .map_err(|e| match e {
                // The journal of this --out already holds another job under this trace job's
                // key: the scenario changed since that run.
                LiveError::KeyConflict { key } => LiveError::Journal {
                    path: svc.out_dir().join("journal.jsonl").display().to_string(),
                    message: format!(
                        "trace job {:?} (key {key:?}) differs from the job this journal \
                         recorded for it: the scenario changed since that run; use a new --out \
                         (or remove the journal) to start over",
                        j.id
                    ),
                },
                other => other,
            })?;
        if r.created {
            sum.submitted += 1;
        } else {
            sum.replayed += 1;
        }
        if r.record.held {
            sum.held += 1;
        }
        report(svc, &sum, lag_ms, false);
    }
    let deadline = Instant::now() + drain;
    while !sum.interrupted {
        svc.tick();
        let obs = svc.observed();
        let pending = obs
            .iter()
            .filter(|(r, v)| {
                !r.held
                    && !r.deleted
                    && v.as_ref()
                        .is_some_and(|v| matches!(v.phase, "Pending" | "Inqueue" | "Running"))
            })
            .count();
        sum.finished = obs
            .iter()
            .filter(|(_, v)| v.as_ref().is_some_and(|v| v.phase == "Completed"))
            .count();
        if pending == 0 || Instant::now() >= deadline {
            break;
        }
        if (w.stop)() {
            sum.interrupted = true;
            break;
        }
        report(svc, &sum, lag_ms, true);
        std::thread::sleep(Duration::from_millis(20));
    }
    if sum.interrupted {
        sum.finished = progress(svc, jobs.len(), 0, 0, true).finished;
    }
    sum.max_lag_ms = svc.max_lag_ms;
    super::metrics::write_outputs(svc)?;
    Ok(sum)
}
