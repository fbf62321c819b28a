//! Turning cluster facts into `Outcome` rows: one `JobRecord` per job from its `JobState`, and
//! the eviction-log rows (each eviction with whether it left its gang broken) and those of pods
//! killed by `RestartJob` (action `restart-job`, charged to the preemptor of the eviction that
//! triggered the restart).
//!
//! May depend on `model`, `cluster` and `workload` (via the parent `sim`). Determinism: kill
//! rows are appended in the cluster's kill order, right after the decisions of the cycle that
//! caused them.

use crate::cluster::{JobState, Kill};
use crate::model::ResourceName;
use crate::policy::{Snapshot, TaskId};
use crate::workload::TraceJob;

use std::collections::HashMap;
use std::sync::Arc;

use super::{EvictionRecord, JobRecord};

/// The `action` of an eviction-log row for a pod killed by its job's restart.
pub const RESTART_KILL: &str = "restart-job";

/// The queue and class names of a run's records, one shared allocation per distinct name.
#[derive(Debug, Default)]
pub(crate) struct Shared(HashMap<String, Arc<str>>);

impl Shared {
    /// The shared copy of `name`.
    pub(crate) fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(a) = self.0.get(name) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(name);
        self.0.insert(name.to_string(), a.clone());
        a
    }
}

/// What a job's record says besides its cluster facts: its id, queue and class (shared), and
/// the numbers the trace gave.
pub(crate) struct Given {
    pub(crate) id: String,
    pub(crate) queue: Arc<str>,
    pub(crate) class: Arc<str>,
    pub(crate) submit_ms: u64,
    pub(crate) replicas: u32,
    pub(crate) min_member: u32,
}

/// The record of `tj` (`st`: its cluster state once it arrived).
pub(crate) fn job_record(
    tj: &TraceJob,
    submit_ms: u64,
    st: Option<&JobState>,
    known_queue: bool,
    shared: &mut Shared,
) -> JobRecord {
    let given = Given {
        id: tj.id.clone(),
        queue: shared.get(&tj.queue),
        class: shared.get(&tj.class),
        submit_ms,
        replicas: tj.replicas,
        min_member: tj.min_member,
    };
    record(given, st, known_queue)
}

/// The record of a job from what the trace gave and its cluster state `st` (once it arrived).
pub(crate) fn record(given: Given, st: Option<&JobState>, known_queue: bool) -> JobRecord {
    JobRecord {
        id: given.id,
        queue: given.queue,
        class: given.class,
        submit_ms: given.submit_ms,
        inqueue_ms: st.and_then(|s| s.inqueue_ms()).into(),
        first_bind_ms: st.and_then(|s| s.first_bind_ms()).into(),
        gang_ready_ms: st.and_then(|s| s.gang_ready_ms()).into(),
        finish_ms: st.and_then(|s| s.finish_ms()).into(),
        evictions: st.map(|s| s.evictions).unwrap_or(0),
        attempts: st.map(|s| s.binds).unwrap_or(0),
        replicas: given.replicas,
        min_member: given.min_member,
        known_queue,
        restarts: st.map(|s| s.restarts).unwrap_or(0),
        failed_ms: st.and_then(|s| s.failed_ms()).into(),
        restart_kills: st.map(|s| s.restart_kills).unwrap_or(0),
        domain_tier: st.and_then(|s| s.domain_tier),
    }
}

/// [`job_record`] taking `tj`'s id instead of copying it.
pub(crate) fn take_job_record(
    mut tj: TraceJob,
    st: Option<&JobState>,
    known_queue: bool,
    shared: &mut Shared,
) -> JobRecord {
    let id = std::mem::take(&mut tj.id);
    JobRecord {
        id,
        ..job_record(&tj, tj.submit_ms, st, known_queue, shared)
    }
}

/// The eviction-log row of `victim` (with its preemptor), at `time_ms`, having run `ran_ms`.
pub(crate) fn eviction_record(
    snap: &Snapshot,
    time_ms: u64,
    victim: TaskId,
    preemptor: TaskId,
    action: &str,
    ran_ms: u64,
    restart_trigger: String,
) -> EvictionRecord {
    let v = snap.task(victim);
    let vj = snap.job(v.job);
    let pj = snap.job_of(preemptor);
    let gang_broken = action != RESTART_KILL && gang_broken(vj);
    EvictionRecord {
        time_ms,
        task: v.key(),
        job: vj.name.clone(),
        queue: snap.queues[vj.queue.ix()].name.clone(),
        action: action.to_string(),
        preemptor_job: pj.name.clone(),
        preemptor_queue: snap.queues[pj.queue.ix()].name.clone(),
        ran_ms,
        cpu_milli: v.resreq.cpu(),
        gpu_milli: v.resreq.get(ResourceName::GPU),
        restart_trigger,
        min_member: vj.min_available,
        gang_broken,
    }
}

/// Whether `job` runs below its gang: some pods still hold resources (AllocatedStatus) while
/// fewer than `minAvailable` are ready (`ReadyTaskNum`: those plus Succeeded). Read after a
/// cycle's decisions, when its victims are already Releasing.
fn gang_broken(job: &crate::policy::snapshot::JobInfo) -> bool {
    use crate::policy::TaskStatus::{Allocated, Binding, Bound, Running};
    let holding: u32 = [Allocated, Binding, Bound, Running]
        .into_iter()
        .map(|s| job.count(s))
        .sum();
    holding > 0 && job.ready_num() < job.min_available
}

/// Appends the eviction-log rows of pods killed by `RestartJob` (in kill order).
pub(crate) fn record_kills(out: &mut Vec<EvictionRecord>, snap: &Snapshot, kills: &[Kill]) {
    for k in kills {
        out.push(eviction_record(
            snap,
            k.time_ms,
            k.task,
            k.preemptor,
            RESTART_KILL,
            k.ran_ms,
            snap.task(k.evicted).key(),
        ));
    }
}
