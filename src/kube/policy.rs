//! Lifecycle policies of a Volcano Job (`spec.policies`, `spec.tasks[].policies`): the events
//! and actions users may write, the webhook's checks on them, and the lookup the job
//! controller does when an event happens. Depends only on `crate::model` and `kube::types`.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::types::{Problem, Seg};
use crate::model::parse_duration;

/// A lifecycle event a policy may react to (the set the Volcano webhook lets users write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum PolicyEvent {
    /// `*`: any event.
    #[serde(rename = "*")]
    Any,
    PodFailed,
    PodEvicted,
    PodPending,
    /// `Unknown`: the job is in an unknown state.
    Unknown,
    TaskCompleted,
    TaskFailed,
    JobUpdated,
}

/// What the job controller does when a policy fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum PolicyAction {
    AbortJob,
    RestartJob,
    RestartTask,
    RestartPod,
    TerminateJob,
    CompleteJob,
    ResumeJob,
}

/// One entry of `spec.policies` or `spec.tasks[].policies`: when any of `events` happens (or
/// a container exits with `exit_code`), run `action`, after `timeout_ms` if set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    /// `event` and `events` merged, duplicates removed; empty when `exit_code` is used.
    pub events: Vec<PolicyEvent>,
    pub exit_code: Option<i32>,
    pub action: PolicyAction,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PolicyY {
    pub event: Option<PolicyEvent>,
    pub events: Vec<PolicyEvent>,
    pub action: Option<PolicyAction>,
    pub exit_code: Option<i32>,
    pub timeout: Option<String>,
}

fn sub(at: &[Seg], more: &[Seg]) -> Vec<Seg> {
    at.iter().chain(more).cloned().collect()
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// Webhook policy checks: event xor exitCode, non-zero exit codes, no duplicate events, `*`
/// alone, a valid action and timeout.
pub(crate) fn policies(ps: &[PolicyY], at: &[Seg]) -> Result<Vec<LifecyclePolicy>, Problem> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut codes = BTreeSet::new();
    for (i, p) in ps.iter().enumerate() {
        let here = sub(at, &[Seg::Idx(i)]);
        let mut events: Vec<PolicyEvent> = Vec::new();
        for e in p.events.iter().chain(p.event.iter()) {
            if !events.contains(e) {
                events.push(*e);
            }
        }
        let action = p.action.ok_or_else(|| {
            Problem::new(
                &sub(&here, &[key("action")]),
                "missing: every policy needs an action",
            )
        })?;
        match (events.is_empty(), p.exit_code) {
            (false, Some(_)) => {
                return Err(Problem::new(
                    &here,
                    "must not specify event and exitCode simultaneously",
                ))
            }
            (true, None) => {
                return Err(Problem::new(
                    &here,
                    "either event or exitCode must be specified",
                ))
            }
            (true, Some(0)) => {
                return Err(Problem::new(
                    &sub(&here, &[key("exitCode")]),
                    "invalid value 0: expected a non-zero exit code",
                ))
            }
            (true, Some(c)) => {
                if !codes.insert(c) {
                    return Err(Problem::new(
                        &sub(&here, &[key("exitCode")]),
                        format!("duplicate exitCode {c}"),
                    ));
                }
            }
            (false, None) => {
                for e in &events {
                    if !seen.insert(*e) {
                        return Err(Problem::new(
                            &here,
                            format!("duplicate event {e:?} across policies"),
                        ));
                    }
                }
            }
        }
        let timeout_ms = match &p.timeout {
            None => None,
            Some(t) => Some(
                parse_duration(t).map_err(|e| Problem::new(&sub(&here, &[key("timeout")]), e))?,
            ),
        };
        out.push(LifecyclePolicy {
            events,
            exit_code: p.exit_code,
            action,
            timeout_ms,
        });
    }
    if seen.contains(&PolicyEvent::Any) && seen.len() > 1 {
        return Err(Problem::new(
            at,
            "if event * is used, no other event may appear",
        ));
    }
    Ok(out)
}

/// The action for `event` among `task_policies` then `job_policies` (`*` matches any event).
/// None = the controller's default handling (sync).
pub(crate) fn action_for(
    task_policies: &[LifecyclePolicy],
    job_policies: &[LifecyclePolicy],
    event: PolicyEvent,
) -> Option<PolicyAction> {
    policy_for(task_policies, job_policies, event).map(|(_, _, a)| a)
}

/// Like [`action_for`], also saying where the policy is: `(task level?, index, action)`.
// Mirrors volcano pkg/controllers/job/job_controller_util.go: applyPolicies (task policies
// first, then the job's; the first policy listing the event or `*` wins).
pub(crate) fn policy_for(
    task_policies: &[LifecyclePolicy],
    job_policies: &[LifecyclePolicy],
    event: PolicyEvent,
) -> Option<(bool, usize, PolicyAction)> {
    let matches = |ps: &[LifecyclePolicy]| {
        ps.iter().enumerate().find_map(|(i, p)| {
            p.events
                .iter()
                .any(|e| *e == event || *e == PolicyEvent::Any)
                .then_some((i, p.action))
        })
    };
    match matches(task_policies) {
        Some((i, a)) => Some((true, i, a)),
        None => matches(job_policies).map(|(i, a)| (false, i, a)),
    }
}
