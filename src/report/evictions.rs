//! Evictions per queue (as victim and as beneficiary, by action; `RestartJob` kills apart; the
//! work lost) and the eviction section of the terminal output.
//!
//! Depends on `sim` output types. Queues in outcome order; counts follow the eviction log.

use crate::sim::Outcome;

/// Evictions per queue, as victim and as beneficiary, split by action; pods killed by their
/// job's `RestartJob` count apart (`restart_killed`), and their lost work counts as waste.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueEvictions {
    pub queue: String,
    pub preempted: u64,
    pub reclaimed: u64,
    pub preempted_for: u64,
    pub reclaimed_for: u64,
    /// Jobs of the queue evicted more than `PING_PONG` times.
    pub ping_pong_jobs: u64,
    /// Work lost by the queue's evicted (and restart-killed) pods: core-seconds and
    /// GPU-seconds they had run.
    pub wasted_core_s: f64,
    pub wasted_gpu_s: f64,
    /// The queue's pods killed because their job restarted (`on_evict = "restart-job"`).
    pub restart_killed: u64,
}

/// A job evicted more often than this counts as ping-pong (Volcano #4947/#4949).
pub const PING_PONG: u32 = 2;

/// Per-queue eviction counts of a run (queues in outcome order).
pub fn queue_evictions(o: &Outcome) -> Vec<QueueEvictions> {
    let mut v: Vec<QueueEvictions> = o
        .queues
        .iter()
        .map(|q| QueueEvictions {
            queue: q.clone(),
            ..Default::default()
        })
        .collect();
    let ix = |name: &str| o.queues.iter().position(|q| q == name);
    for e in &o.evictions {
        let reclaim = matches!(e.action.as_str(), "reclaim" | "gangreclaim");
        let killed = e.action == crate::sim::records::RESTART_KILL;
        if let Some(i) = ix(&e.queue) {
            v[i].wasted_core_s += e.ran_ms as f64 * e.cpu_milli as f64 / 1e6;
            v[i].wasted_gpu_s += e.ran_ms as f64 * e.gpu_milli as f64 / 1e6;
            if killed {
                v[i].restart_killed += 1;
            } else if reclaim {
                v[i].reclaimed += 1;
            } else {
                v[i].preempted += 1;
            }
        }
        if let Some(i) = ix(&e.preemptor_queue).filter(|_| !killed) {
            if reclaim {
                v[i].reclaimed_for += 1;
            } else {
                v[i].preempted_for += 1;
            }
        }
    }
    for j in o.jobs.iter().filter(|j| j.evictions > PING_PONG) {
        if let Some(i) = ix(&j.queue) {
            v[i].ping_pong_jobs += 1;
        }
    }
    v
}

/// The eviction section printed under the table (empty when nothing was evicted).
pub fn render_evictions(o: &Outcome) -> String {
    if o.evictions.is_empty() {
        return String::new();
    }
    // The restart columns appear only when some job restarts on eviction.
    let restarts = o.counters.restart_kills > 0 || o.jobs.iter().any(|j| j.restarts > 0);
    let mut out = format!(
        "{:<14} {:>10} {:>10} {:>14} {:>14} {:>10} {:>14}",
        "evictions",
        "preempted",
        "reclaimed",
        "preempted for",
        "reclaimed for",
        "ping-pong",
        "wasted core-s"
    );
    if restarts {
        out += &format!(" {:>9} {:>14} {:>7}", "restarts", "restart kills", "failed");
    }
    out.push('\n');
    for q in queue_evictions(o) {
        out += &format!(
            "{:<14} {:>10} {:>10} {:>14} {:>14} {:>10} {:>14.1}",
            q.queue,
            q.preempted,
            q.reclaimed,
            q.preempted_for,
            q.reclaimed_for,
            q.ping_pong_jobs,
            q.wasted_core_s
        );
        if restarts {
            let jobs = o.jobs.iter().filter(|j| j.queue == q.queue);
            let (r, f) = jobs.fold((0u64, 0u64), |(r, f), j| {
                (r + j.restarts as u64, f + j.failed_ms.is_some() as u64)
            });
            out += &format!(" {:>9} {:>14} {:>7}", r, q.restart_killed, f);
        }
        out.push('\n');
    }
    out
}
