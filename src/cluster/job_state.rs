//! `JobState`: one job's lifecycle facts as the cluster records them (arrival, enqueue, first
//! bind, gang ready, finish or failure, evictions and restarts), its times in 8-byte
//! `model::Stamp`s — a run holds one `JobState` for every job it saw.
//!
//! Part of `cluster` (written by it only; read through the getters); depends on `model` and
//! `policy` ids.

use super::Ctl;
use crate::model::{OnEvict, PodSpec, Stamp};
use crate::policy::JobId;

/// Per-job lifecycle facts, written by the cluster as they happen.
#[derive(Debug, Clone)]
pub struct JobState {
    /// Snapshot id; `None` when the job's queue does not exist (Volcano ignores it).
    pub job: Option<JobId>,
    pub submit_ms: u64,
    pub duration_ms: u64,
    pub replicas: u32,
    pub min_member: u32,
    pub pods_created: bool,
    /// When the PodGroup left Pending ([`JobState::inqueue_ms`]).
    pub(super) inqueue: Stamp,
    pub(super) first_bind: Stamp,
    /// First time `min_member` tasks were Running or Succeeded at once.
    pub(super) gang_ready: Stamp,
    pub(super) finish: Stamp,
    pub evictions: u32,
    /// Bind requests sent for this job's pods (a re-run after eviction counts again).
    pub binds: u32,
    /// What the job controller does when one of its pods is evicted.
    pub on_evict: OnEvict,
    /// Volcano's `status.retryCount`: `RestartJob` actions taken on the job.
    pub restarts: u32,
    /// Where the job is in the restart state machine (always `Normal` for `RecreatePod`).
    pub ctl: Ctl,
    /// When the job failed (a restart reached `maxRetry`).
    pub(super) failed: Stamp,
    /// Pods of the job killed by its restarts (the evicted pods themselves not counted).
    pub restart_kills: u32,
    /// With HyperNodes: the tier of the lowest HyperNode holding every node of the gang when
    /// it became ready (the cluster top's tier when it spans the top-level HyperNodes).
    pub domain_tier: Option<u32>,
    /// The pod every replica is created from; dropped when the job finishes (memory stays
    /// proportional to live jobs: a finished job never creates a pod again).
    pub(super) template: Option<Box<PodSpec>>,
}

impl JobState {
    pub fn is_done(&self) -> bool {
        self.finish_ms().is_some()
    }

    /// When the PodGroup left Pending (enqueued).
    pub fn inqueue_ms(&self) -> Option<u64> {
        self.inqueue.get()
    }

    /// When the job's first bind request was sent.
    pub fn first_bind_ms(&self) -> Option<u64> {
        self.first_bind.get()
    }

    /// First time `min_member` tasks were Running or Succeeded at once.
    pub fn gang_ready_ms(&self) -> Option<u64> {
        self.gang_ready.get()
    }

    /// When every pod of the job had Succeeded.
    pub fn finish_ms(&self) -> Option<u64> {
        self.finish.get()
    }

    /// When the job failed (a restart reached `maxRetry`).
    pub fn failed_ms(&self) -> Option<u64> {
        self.failed.get()
    }

    /// Records a job found already running at `t` (the live model adopting a job it did not
    /// see start): enqueued and gang-ready then.
    pub fn mark_running_since(&mut self, t: u64) {
        self.inqueue = Stamp::at(t);
        self.gang_ready = Stamp::at(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Its five lifecycle times take 8 bytes each (`Stamp`), not 16.
    #[test]
    fn job_state_stays_compact() {
        assert!(std::mem::size_of::<JobState>() <= 120);
    }
}
