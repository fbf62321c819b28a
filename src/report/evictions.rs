//! Evictions per queue (as victim and as beneficiary, by action; `RestartJob` kills apart; the
//! work lost), gang evictions per queue and class (evicted gangs, gangs left broken, wasted
//! core-seconds) and the eviction section of the terminal output.
//!
//! Depends on `sim` output types. Queues in outcome order; counts follow the eviction log.

use std::collections::{BTreeMap, BTreeSet};

use crate::sim::Outcome;

/// Gang evictions of a group of jobs (the cluster, a queue or a class).
///
/// An *eviction group* is the pods of one job evicted in one cycle (`preempt`, `reclaim`,
/// `gangpreempt` or `gangreclaim`; `restart-job` kills are not evictions). `gang_evictions`
/// counts the eviction groups of gangs (jobs with `minMember` > 1); `gangs_broken` those of them
/// that left the gang running below `minMember` with pods still holding resources (the log's
/// `gang_broken`: task-level eviction of part of a gang). `wasted_core_s` is the work lost by
/// every evicted and restart-killed pod of the group's jobs (core-seconds they had run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GangEvictions {
    pub gang_evictions: u64,
    pub gangs_broken: u64,
    /// Σ ran_ms × cpu milli of the lost pods (exact; `wasted_core_s` divides it).
    pub wasted_mcore_ms: i128,
}

impl GangEvictions {
    /// The work lost, core-seconds.
    pub fn wasted_core_s(&self) -> f64 {
        self.wasted_mcore_ms as f64 / 1e6
    }
}

/// Gang evictions of a run: the whole cluster, then per queue and per class name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GangEvictionsByGroup {
    pub cluster: GangEvictions,
    pub queues: BTreeMap<String, GangEvictions>,
    pub classes: BTreeMap<String, GangEvictions>,
}

/// Counts the gang evictions of `o` (see `GangEvictions`).
pub fn gang_evictions(o: &Outcome) -> GangEvictionsByGroup {
    // Only the evicted jobs' classes are looked up: one pass over the jobs, no map of them all
    // (a later job with the same id wins, as it would in a map of every job).
    let evicted: BTreeSet<&str> = o.evictions.iter().map(|e| e.job.as_str()).collect();
    let class_of: BTreeMap<&str, &str> = if evicted.is_empty() {
        BTreeMap::new()
    } else {
        o.jobs
            .iter()
            .filter(|j| evicted.contains(j.id.as_str()))
            .map(|j| (j.id.as_str(), &*j.class))
            .collect()
    };
    let mut out = GangEvictionsByGroup::default();
    // (job, time) → broken, for gangs only; BTreeMap so the counting order is fixed.
    let mut groups: BTreeMap<(&str, u64), (bool, &str)> = BTreeMap::new();
    for e in &o.evictions {
        let w = e.ran_ms as i128 * e.cpu_milli as i128;
        let class = class_of.get(e.job.as_str()).copied().unwrap_or("");
        out.cluster.wasted_mcore_ms += w;
        out.queues
            .entry(e.queue.clone())
            .or_default()
            .wasted_mcore_ms += w;
        out.classes
            .entry(class.to_string())
            .or_default()
            .wasted_mcore_ms += w;
        if e.action != crate::sim::records::RESTART_KILL && e.min_member > 1 {
            let g = groups
                .entry((e.job.as_str(), e.time_ms))
                .or_insert((false, e.queue.as_str()));
            g.0 |= e.gang_broken;
        }
    }
    for ((job, _), (broken, queue)) in groups {
        let class = class_of.get(job).copied().unwrap_or("");
        for g in [
            &mut out.cluster,
            out.queues.entry(queue.to_string()).or_default(),
            out.classes.entry(class.to_string()).or_default(),
        ] {
            g.gang_evictions += 1;
            g.gangs_broken += broken as u64;
        }
    }
    out
}

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

/// The eviction section printed under the table (empty when nothing was evicted): per queue,
/// then a line on gang evictions (`GangEvictions`) when a gang was evicted.
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
            let jobs = o.jobs.iter().filter(|j| *j.queue == *q.queue);
            let (r, f) = jobs.fold((0u64, 0u64), |(r, f), j| {
                (r + j.restarts as u64, f + j.failed_ms.is_set() as u64)
            });
            out += &format!(" {:>9} {:>14} {:>7}", r, q.restart_killed, f);
        }
        out.push('\n');
    }
    let g = gang_evictions(o).cluster;
    if g.gang_evictions > 0 {
        out += &format!(
            "gang evictions {} (pods of one gang evicted in one cycle), {} of them left the gang \
             broken (running below minMember); wasted {:.1} core-s in all\n",
            g.gang_evictions,
            g.gangs_broken,
            g.wasted_core_s()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Counters, EvictionRecord, JobRecord, Stamp};

    fn job(id: &str, class: &str, min_member: u32) -> JobRecord {
        JobRecord {
            id: id.into(),
            queue: "q".into(),
            class: class.into(),
            submit_ms: 0,
            inqueue_ms: Stamp::NOT_YET,
            first_bind_ms: Stamp::NOT_YET,
            gang_ready_ms: Stamp::NOT_YET,
            finish_ms: Stamp::NOT_YET,
            evictions: 0,
            attempts: 0,
            replicas: min_member,
            min_member,
            known_queue: true,
            restarts: 0,
            failed_ms: Stamp::NOT_YET,
            restart_kills: 0,
            domain_tier: None,
        }
    }

    fn ev(job: &str, t: u64, action: &str, min_member: u32, broken: bool) -> EvictionRecord {
        EvictionRecord {
            time_ms: t,
            task: format!("ns/{job}-{t}"),
            job: job.into(),
            queue: "q".into(),
            action: action.into(),
            preemptor_job: "p".into(),
            preemptor_queue: "q".into(),
            ran_ms: 2_000,
            cpu_milli: 1_500,
            gpu_milli: 0,
            restart_trigger: String::new(),
            min_member,
            gang_broken: broken,
        }
    }

    #[test]
    fn eviction_groups_of_gangs_and_broken_ones() {
        let o = Outcome {
            seed: 0,
            end_ms: 10_000,
            hit_horizon: false,
            queues: vec!["q".into()],
            queue_weights: vec![1],
            queue_capability_cpu_milli: vec![None],
            total_cpu_milli: 1,
            total_mem_bytes: 1,
            jobs: vec![job("g", "train", 4), job("s", "session", 1)],
            after_horizon: vec![],
            samples: vec![],
            evictions: vec![
                // one task-level eviction of 2 pods of gang g: one group, broken
                ev("g", 1_000, "preempt", 4, true),
                ev("g", 1_000, "preempt", 4, true),
                // its restart kills: waste only
                ev("g", 1_000, "restart-job", 4, false),
                // a whole-gang eviction later: a second group, not broken
                ev("g", 5_000, "gangreclaim", 4, false),
                // a one-pod job: waste only
                ev("s", 5_000, "gangreclaim", 1, false),
            ],
            starvation: vec![],
            waits: vec![],
            counters: Counters::default(),
            decision_hash: 0,
        };
        let g = gang_evictions(&o);
        assert_eq!((g.cluster.gang_evictions, g.cluster.gangs_broken), (2, 1));
        assert_eq!(g.cluster.wasted_core_s(), 5.0 * 3.0);
        assert_eq!(g.classes["train"].gang_evictions, 2);
        assert_eq!(g.classes["train"].wasted_core_s(), 4.0 * 3.0);
        assert_eq!(g.classes["session"].gang_evictions, 0);
        assert_eq!(g.queues["q"], g.cluster);
    }
}
