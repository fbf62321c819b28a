//! The job controller's `RestartJob` reaction to an evicted pod, for jobs whose eviction policy
//! is `OnEvict::RestartJob`.
//!
//! Mirrors volcano pkg/controllers/job: a pod getting its deletion timestamp raises
//! `PodEvicted` (`job_controller_handler.go: updatePod → deletePod`); in phase Pending or
//! Running the policy's action runs `killJob` (`state/pending.go`, `state/running.go`), which
//! deletes every pod of the job — keeping Succeeded/Failed pods on the last retry
//! (`retryCount ≥ maxRetry − 1`) — bumps the job version and `retryCount`, deletes the
//! PodGroup and moves the job to Restarting (`job_controller_actions.go: killJob`). Events of
//! the killed pods carry the old job version and only sync (`applyPolicies`), so one wave of
//! evictions restarts a job once. In Restarting (`state/restarting.go`) a sync fails the job
//! when `retryCount ≥ maxRetry`, else moves it to Pending as soon as
//! `replicas − terminating ≥ minAvailable`; the Pending job's sync creates a new PodGroup
//! (Pending: it must pass enqueue again) and, once that has left Pending, the missing pods.
//!
//! Modelled: the kill happens when the eviction is applied. A killed pod on a node terminates
//! over the eviction grace period (Releasing, its resources still held); a Pending pod, or a
//! Succeeded one, is deleted at once. The PodGroup leaves the scheduler's view
//! (`Snapshot::suspend_job`) and comes back Pending (`recreate_job`) at a controller sync: one
//! a controller delay after the kill, and one at every pod deletion. The job fails at the kill
//! that brings `retryCount` to `maxRetry` and leaves the cluster once its pods are gone. Work
//! lost by killed pods is reported as `Kill`s. Depends on the parent `cluster` only.

use super::{delete_task, Cluster, Timer};
use crate::policy::{Action, TaskId, TaskStatus};

/// Where a job is in the restart state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ctl {
    /// Pending or Running: the next eviction restarts the job.
    #[default]
    Normal,
    /// Pods killed and PodGroup deleted; waits until enough of the pods are gone.
    Restarting,
    /// `maxRetry` reached: pods killed; the job leaves the cluster once they are gone.
    Failed,
}

/// The eviction that makes the controller restart a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cause {
    pub evicted: TaskId,
    pub action: Action,
    pub preemptor: TaskId,
}

/// A pod killed by a restart of its job (not the evicted pod itself): its work is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kill {
    pub time_ms: u64,
    pub task: TaskId,
    /// How long the pod had run, ms: since it started when Running, its whole run when it had
    /// Succeeded, 0 when its bind had not completed.
    pub ran_ms: u64,
    /// The evicted pod whose eviction triggered the restart, the action that evicted it and
    /// the preemptor it was evicted for.
    pub evicted: TaskId,
    pub action: Action,
    pub preemptor: TaskId,
}

impl Cluster {
    /// `killJob` for cluster job `idx` after `cause` evicted one of its pods (already
    /// Releasing). No-op unless the job is in `Ctl::Normal`.
    pub(super) fn restart_job(
        &mut self,
        idx: usize,
        max_retry: u32,
        cause: Cause,
        now: u64,
        timers: &mut Vec<(u64, Timer)>,
    ) {
        let st = &mut self.jobs[idx];
        let Some(j) = st.job else { return };
        if st.ctl != Ctl::Normal {
            return;
        }
        let last = st.restarts + 1 >= max_retry;
        st.restarts += 1;
        if last {
            st.ctl = Ctl::Failed;
            st.failed = super::Stamp::at(now);
        } else {
            st.ctl = Ctl::Restarting;
        }
        let duration = st.duration_ms;
        let tasks = self.snap.job(j).tasks.clone();
        let mut killed = 0;
        for t in tasks {
            let (status, on_node) = {
                let task = self.snap.task(t);
                (task.status, task.node.is_some())
            };
            let ran_ms = match status {
                TaskStatus::Releasing | TaskStatus::Failed | TaskStatus::Unknown => continue,
                TaskStatus::Succeeded if last => continue,
                TaskStatus::Succeeded => duration,
                TaskStatus::Running => {
                    let since = self.running_since.get(t.ix()).copied().unwrap_or(now);
                    now.saturating_sub(since)
                }
                _ => 0,
            };
            if on_node && status != TaskStatus::Succeeded {
                self.snap.update_status(t, TaskStatus::Releasing);
                timers.push((now + self.params.eviction_grace_ms, Timer::EvictDone(t)));
            } else {
                delete_task(&mut self.snap, t);
                if status == TaskStatus::Pending {
                    continue;
                }
            }
            killed += 1;
            self.kills.push(Kill {
                time_ms: now,
                task: t,
                ran_ms,
                evicted: cause.evicted,
                action: cause.action,
                preemptor: cause.preemptor,
            });
        }
        self.jobs[idx].restart_kills += killed;
        self.snap.suspend_job(j);
        timers.push((now + self.params.controller_delay_ms, Timer::JobSync(idx)));
    }

    /// A controller sync of cluster job `idx` while it restarts or has failed. Returns whether
    /// it changed anything.
    pub(super) fn restart_progress(&mut self, idx: usize, now: u64) -> bool {
        let st = &self.jobs[idx];
        let Some(j) = st.job.filter(|&j| self.snap.has_job(j)) else {
            return false;
        };
        let terminating = self.snap.job(j).count(TaskStatus::Releasing);
        match st.ctl {
            Ctl::Normal => false,
            Ctl::Failed => terminating == 0 && self.active.remove(&idx),
            Ctl::Restarting => {
                if st.replicas.saturating_sub(terminating) < st.min_member {
                    return false;
                }
                let st = &mut self.jobs[idx];
                st.ctl = Ctl::Normal;
                st.pods_created = false;
                self.snap.recreate_job(j, now);
                if !self.params.vcjob_mode {
                    self.create_pods(idx, now);
                }
                true
            }
        }
    }
}
