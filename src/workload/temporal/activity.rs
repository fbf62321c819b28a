//! Activity nodes from history events: the `ActivityTaskScheduled` attributes (type, queue,
//! timeouts, retry policy, hints, priority) and, once the activity closed, its recorded times
//! and re-synthesised earlier attempts (notes B.4 rules 2–3).

use serde_json::Value;

use super::derive::ms;
use super::hints;
use super::history::Event;
use super::json::{
    at, decode_fields, decode_payloads, duration_ms_at, norm_enum, str_at, u64_at, TASK_QUEUE_KINDS,
};
use crate::workload::workflow::{Activity, Outcome, Priority, RetryPolicy, SynthAttempt, Timeouts};

/// The normal task queue name (`normalName` for a sticky queue).
pub(crate) fn task_queue(a: &Value) -> Option<String> {
    let sticky = at(a, &["taskQueue", "kind"])
        .and_then(|k| norm_enum("TASK_QUEUE_KIND", k, TASK_QUEUE_KINDS))
        .is_some_and(|k| k == "TASK_QUEUE_KIND_STICKY");
    let name = if sticky {
        str_at(a, &["taskQueue", "normalName"])
    } else {
        None
    };
    name.or_else(|| str_at(a, &["taskQueue", "name"]))
        .map(str::to_string)
}

pub(crate) fn priority(v: Option<&Value>) -> Option<Priority> {
    let v = v?;
    let p = Priority {
        priority_key: at(v, &["priorityKey"])
            .and_then(super::json::as_i64)
            .filter(|k| *k != 0),
        fairness_key: str_at(v, &["fairnessKey"]).map(str::to_string),
        // proto-JSON writes a float as a number, and parsers accept a numeric string too.
        fairness_weight: at(v, &["fairnessWeight"])
            .and_then(|w| {
                w.as_f64()
                    .or_else(|| w.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .filter(|w: &f64| w.is_finite() && *w != 0.0),
    };
    (p.priority_key.is_some() || p.fairness_key.is_some() || p.fairness_weight.is_some())
        .then_some(p)
}

pub(crate) fn activity_scheduled(
    ev: &Event,
    what: &str,
    warnings: &mut Vec<String>,
) -> Result<Activity, String> {
    let a = &ev.attrs;
    let activity_type = str_at(a, &["activityType", "name"])
        .ok_or("expected activityTaskScheduledEventAttributes.activityType.name")?
        .to_string();
    let header = decode_fields(at(a, &["header"]), "fields");
    let input = decode_payloads(at(a, &["input"]));
    let retry_policy = at(a, &["retryPolicy"]).map(|r| {
        let initial = duration_ms_at(r, &["initialInterval"]).unwrap_or(1000);
        RetryPolicy {
            initial_interval_ms: initial,
            backoff_coefficient: at(r, &["backoffCoefficient"])
                .and_then(Value::as_f64)
                .unwrap_or(2.0),
            maximum_interval_ms: duration_ms_at(r, &["maximumInterval"]).unwrap_or(initial * 100),
            maximum_attempts: u64_at(r, &["maximumAttempts"]).unwrap_or(0) as u32,
            non_retryable_error_types: at(r, &["nonRetryableErrorTypes"])
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        }
    });
    Ok(Activity {
        activity_type,
        activity_id: str_at(a, &["activityId"]).unwrap_or_default().to_string(),
        task_queue: task_queue(a).unwrap_or_default(),
        queue_ms: None,
        schedule_to_start_ms: None,
        service_ms: None,
        total_ms: None,
        attempts: 0,
        outcome: Outcome::Pending,
        retry_state: None,
        last_failure: None,
        failure: None,
        retry_policy,
        timeouts: Timeouts {
            schedule_to_close_ms: duration_ms_at(a, &["scheduleToCloseTimeout"]).unwrap_or(0),
            schedule_to_start_ms: duration_ms_at(a, &["scheduleToStartTimeout"]).unwrap_or(0),
            start_to_close_ms: duration_ms_at(a, &["startToCloseTimeout"]).unwrap_or(0),
            heartbeat_ms: duration_ms_at(a, &["heartbeatTimeout"]).unwrap_or(0),
        },
        earlier_attempts: vec![],
        hints: hints::activity(&header, &input, what, warnings),
        priority: priority(at(a, &["priority"])),
    })
}

/// Fills recorded times and re-synthesises earlier attempts (B.4 rule 3): backoff i is
/// `min(initial·coef^(i−1), max)`; a timed-out attempt ran `startToCloseTimeout`; the rest of
/// `Started − Scheduled` is split evenly into k shares — the queueing of each timed-out attempt,
/// or the run of each attempt when the failures were not timeouts — and the final attempt's
/// queueing gets what is left.
pub(crate) fn finish_activity(
    act: &mut Activity,
    sched: i64,
    started: Option<i64>,
    closed: Option<i64>,
    timeout_failure: bool,
) {
    act.schedule_to_start_ms = started.map(|s| ms(sched, s));
    act.service_ms = started.zip(closed).map(|(s, c)| ms(s, c));
    act.total_ms = closed.map(|c| ms(sched, c));
    if act.attempts == 1 {
        act.queue_ms = act.schedule_to_start_ms;
    }
    let (Some(s2s), k) = (act.schedule_to_start_ms, act.attempts) else {
        return;
    };
    if k <= 1 {
        return;
    }
    let policy = act.retry_policy.clone().unwrap_or(RetryPolicy {
        initial_interval_ms: 1000,
        backoff_coefficient: 2.0,
        maximum_interval_ms: 100_000,
        maximum_attempts: 0,
        non_retryable_error_types: vec![],
    });
    let backoffs: Vec<u64> = (1..k).map(|i| policy.backoff_ms(i)).collect();
    let fixed_runs = if timeout_failure {
        act.timeouts.start_to_close_ms * (k as u64 - 1)
    } else {
        0
    };
    let rest = s2s.saturating_sub(backoffs.iter().sum::<u64>() + fixed_runs);
    let share = rest / k as u64;
    act.earlier_attempts = (1..k)
        .map(|i| SynthAttempt {
            attempt: i,
            queue_ms: if timeout_failure { share } else { 0 },
            run_ms: if timeout_failure {
                act.timeouts.start_to_close_ms
            } else {
                share
            },
            backoff_ms: backoffs[i as usize - 1],
            timed_out: timeout_failure,
        })
        .collect();
}
