//! What one simulation run produced: per-job records (written once, at job end or at the end of
//! the run), per-queue time series, the eviction log, starvation episodes, counters and the
//! decision-log hash.
//!
//! Plain data; depends on `model` (and `engine` for its counters). Invariant: everything here is built in a deterministic
//! order (job input order, sample time then queue index, eviction time then decision order,
//! starvation episodes by close time then queue index, open ones last), so equal inputs and
//! seed give an `Outcome` that compares equal.

use std::sync::Arc;

pub use crate::model::Stamp;

/// One job's life. Its times are `Stamp`s (8 bytes, "not yet" for a time that did not come):
/// a run holds one record per job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    /// Shared by every record of the queue (one allocation per distinct name, not per job).
    pub queue: Arc<str>,
    /// Shared as `queue`.
    pub class: Arc<str>,
    pub submit_ms: u64,
    /// PodGroup left Pending (enqueued).
    pub inqueue_ms: Stamp,
    pub first_bind_ms: Stamp,
    /// First time `min_member` pods were Running (or Running + Succeeded) at once.
    pub gang_ready_ms: Stamp,
    pub finish_ms: Stamp,
    pub evictions: u32,
    /// Bind requests sent for the job's pods (≥ replicas once it ran; more after evictions).
    pub attempts: u32,
    pub replicas: u32,
    pub min_member: u32,
    /// False when the job's queue does not exist (Volcano never sees it).
    pub known_queue: bool,
    /// `RestartJob` actions taken on the job (Volcano `retryCount`; 0 under recreate-pod).
    pub restarts: u32,
    /// When the job failed: a restart brought `retryCount` to `maxRetry`.
    pub failed_ms: Stamp,
    /// Pods of the job killed by its restarts (not counting the evicted pods themselves).
    pub restart_kills: u32,
    /// With HyperNodes: the tier of the lowest HyperNode holding its gang when it became
    /// ready (the network domain it landed in).
    pub domain_tier: Option<u32>,
}

impl JobRecord {
    /// Wait = gang ready − submit, when the gang became ready.
    pub fn wait_ms(&self) -> Option<u64> {
        self.gang_ready_ms
            .get()
            .map(|g| g.saturating_sub(self.submit_ms))
    }
}

/// One sample of one queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSample {
    /// The first sample point this row stands for.
    pub time_ms: u64,
    /// How many consecutive sample points (one sample period apart, from `time_ms`) the queue
    /// looked exactly like this: a row is written only when a queue changes, so the series
    /// grows with events, not with simulated time.
    pub points: u64,
    /// Index into `Outcome::queues`.
    pub queue: u32,
    pub pending_jobs: u32,
    pub inqueue_jobs: u32,
    pub running_jobs: u32,
    pub allocated_cpu_milli: i64,
    pub allocated_mem_bytes: i64,
    /// Water-filled deserved (cpu, memory) as proportion computes it (see `sim::deserved`).
    pub deserved_cpu_milli: f64,
    pub deserved_mem_bytes: f64,
}

/// One eviction decision, or one pod killed by its job's restart (`action` `restart-job`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictionRecord {
    pub time_ms: u64,
    /// Victim pod `<ns>/<name>`.
    pub task: String,
    pub job: String,
    pub queue: String,
    /// The evicting action ("preempt", "reclaim", "gangpreempt", "gangreclaim"); "restart-job" for a pod killed because its job restarted.
    pub action: String,
    pub preemptor_job: String,
    pub preemptor_queue: String,
    /// How long the victim had been Running (its work is lost and runs again), ms.
    pub ran_ms: u64,
    /// The victim's cpu request (millicores) and nvidia.com/gpu request (milli-GPUs).
    pub cpu_milli: i64,
    pub gpu_milli: i64,
    /// `restart-job` rows: the evicted pod `<ns>/<name>` whose eviction restarted the job
    /// (the preemptor columns are that eviction's); "" for evictions.
    pub restart_trigger: String,
    /// The victim job's `minMember` (PodGroup `minAvailable`).
    pub min_member: u32,
    /// Evictions only: the cycle's evictions left the victim's gang broken — some of its pods
    /// still hold resources (Allocated/Binding/Bound/Running) but fewer than `minMember` are
    /// ready (those plus Succeeded), so the survivors run without their gang. Always false for
    /// one-pod jobs and for `restart-job` rows. Every row of one job in one cycle agrees.
    pub gang_broken: bool,
}

/// One starvation-below-deserved episode of one queue (defined in `sim::starvation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StarvationEpisode {
    /// Index into `Outcome::queues`.
    pub queue: u32,
    /// Time of the first cycle after which the queue was starved, ms.
    pub start_ms: u64,
    /// Time of the first cycle after which it no longer was; `None`: still starved at the end.
    pub end_ms: Option<u64>,
}

pub use crate::engine::Counters;

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub seed: u64,
    /// Time of the last processed event or cycle, ms.
    pub end_ms: u64,
    /// True when the run stopped at the horizon with work left.
    pub hit_horizon: bool,
    /// Queue names, by queue index.
    pub queues: Vec<String>,
    pub queue_weights: Vec<u32>,
    /// Per queue, its capability's cpu (millicores), `None` when uncapped.
    pub queue_capability_cpu_milli: Vec<Option<i64>>,
    /// Σ node allocatable (cpu milli, memory bytes).
    pub total_cpu_milli: i64,
    pub total_mem_bytes: i64,
    /// One record per job that arrived, in input order (then the dynamic source's jobs).
    pub jobs: Vec<JobRecord>,
    /// Input jobs whose submit time lies after the horizon: they never arrived, so they are
    /// neither jobs nor starved; reported apart (input order).
    pub after_horizon: Vec<JobRecord>,
    pub samples: Vec<QueueSample>,
    pub evictions: Vec<EvictionRecord>,
    /// Starvation-below-deserved episodes (`sim::starvation`): closed ones in close order,
    /// then the still open ones in queue order.
    pub starvation: Vec<StarvationEpisode>,
    /// Wait time by reason (`sim::waits`), one entry per job of `jobs`, same order.
    pub waits: Vec<crate::sim::JobWaits>,
    pub counters: Counters,
    /// FNV-1a 64 of the canonical decision log (see `sim::record_decisions`).
    pub decision_hash: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run holds one record per job: its five times are 8-byte `Stamp`s (184 B with
    /// `Option<u64>`s).
    #[test]
    fn a_job_record_stays_compact() {
        assert!(std::mem::size_of::<JobRecord>() <= 144);
    }
}
