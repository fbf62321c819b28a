//! Activity nodes: recorded timings, retry policy, timeouts and re-synthesised earlier
//! attempts (notes B.4 rules 2–3). Plain data; depends on nothing outside `workflow`.

use serde::{Deserialize, Serialize};

use super::{Hints, Priority, Workflow};

/// An activity task (B.4 rules 2–3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub activity_type: String,
    pub activity_id: String,
    pub task_queue: String,
    /// Scheduled → Started when the recorded start is attempt 1: pure queueing, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_ms: Option<u64>,
    /// Scheduled → Started regardless of attempt (covers earlier attempts and backoffs), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_to_start_ms: Option<u64>,
    /// Started → closed: the last attempt's run time, ms. `None` if it never started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ms: Option<u64>,
    /// Scheduled → closed, ms. `None` while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u64>,
    /// Attempt number of the recorded start (0: never started).
    pub attempts: u32,
    pub outcome: Outcome,
    /// `RETRY_STATE_…` of a failed / timed-out close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_state: Option<String>,
    /// Message of attempt k−1's failure, from `ActivityTaskStarted.lastFailure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
    /// Message of the closing failure (Failed / TimedOut).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Attempts 1..k−1 re-synthesised from the retry policy (B.4 rule 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<SynthAttempt>,
    /// Activity-level hints: header `volcano-resources` over input `resources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Hints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

impl Activity {
    /// Hints with the documented precedence: header > input `resources` > workflow memo >
    /// search attributes, merged field by field.
    pub fn effective_hints(&self, workflow: &Workflow) -> Option<Hints> {
        Hints::merge(self.hints.as_ref(), workflow.hints.as_ref())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Failed,
    TimedOut,
    Canceled,
    /// No close event (still running when exported).
    Pending,
}

/// Activity retry policy as recorded (server defaults are filled into history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub initial_interval_ms: u64,
    pub backoff_coefficient: f64,
    pub maximum_interval_ms: u64,
    /// 0 = unlimited.
    pub maximum_attempts: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_retryable_error_types: Vec<String>,
}

impl RetryPolicy {
    /// Backoff after failed attempt `i` (1-based): `min(initial·coef^(i−1), maximum)`, ms.
    pub fn backoff_ms(&self, attempt: u32) -> u64 {
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let b = self.initial_interval_ms as f64 * self.backoff_coefficient.max(1.0).powi(exp);
        let cap = if self.maximum_interval_ms == 0 {
            u64::MAX
        } else {
            self.maximum_interval_ms
        };
        if b >= cap as f64 {
            cap
        } else {
            b.round() as u64
        }
    }
}

/// Activity timeouts, ms (0 = not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timeouts {
    #[serde(default)]
    pub schedule_to_close_ms: u64,
    #[serde(default)]
    pub schedule_to_start_ms: u64,
    #[serde(default)]
    pub start_to_close_ms: u64,
    #[serde(default)]
    pub heartbeat_ms: u64,
}

/// An estimated earlier attempt (history only records the last one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SynthAttempt {
    pub attempt: u32,
    /// Estimated queueing before this attempt, ms.
    pub queue_ms: u64,
    /// Estimated run time, ms (`startToCloseTimeout` when the failure was a timeout).
    pub run_ms: u64,
    /// Backoff after this attempt, from the retry policy, ms.
    pub backoff_ms: u64,
    pub timed_out: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_policy() {
        let p = RetryPolicy {
            initial_interval_ms: 100,
            backoff_coefficient: 2.0,
            maximum_interval_ms: 2000,
            maximum_attempts: 5,
            non_retryable_error_types: vec![],
        };
        assert_eq!(p.backoff_ms(1), 100);
        assert_eq!(p.backoff_ms(2), 200);
        assert_eq!(p.backoff_ms(5), 1600);
        assert_eq!(p.backoff_ms(6), 2000);
        assert_eq!(p.backoff_ms(60), 2000);
    }
}
