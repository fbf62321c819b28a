//! `live run`: replays a scenario's trace in wall-clock time (× speed), submitting each job
//! when it is due through the same `Service` path as HTTP submissions (so forecasts, journal
//! and idempotency are identical), then drains until the backend reports every job finished
//! or the drain limit passes. Each submission keeps its trace time in the model, so the twin
//! makes `volsim run`'s decisions at any speed; when the machine falls behind the wall clock
//! the lag is reported, not folded into the answer.
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
}

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
    let mut order: Vec<&TraceJob> = jobs.iter().collect();
    order.sort_by_key(|j| j.submit_ms);
    let mut sum = RunSummary::default();
    for j in order {
        let wait = svc.clock.until(j.submit_ms);
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
        let r = svc.submit_at(trace_submission(j), Some(j.submit_ms))?;
        if r.created {
            sum.submitted += 1;
        } else {
            sum.replayed += 1;
        }
        if r.record.held {
            sum.held += 1;
        }
    }
    let deadline = Instant::now() + drain;
    loop {
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
        std::thread::sleep(Duration::from_millis(20));
    }
    sum.max_lag_ms = svc.max_lag_ms;
    super::metrics::write_outputs(svc)?;
    Ok(sum)
}
