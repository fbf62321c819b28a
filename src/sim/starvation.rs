//! Starvation below deserved and time-to-reclaim: after every scheduling cycle that ran, each
//! queue is starved below its deserved share or not (`starved`); a run of starved cycles is an
//! episode, and its length is the queue's time-to-reclaim.
//!
//! Depends on `policy` (the index's per-queue sums) and the `sim` output types. Cost: O(queues)
//! per cycle, no allocation except when an episode closes. Determinism: episodes are recorded
//! in close order (cycle time, then queue index), the ones still open at the end last, in
//! queue order.
//!
//! Definition. A queue is *starved below deserved* after a cycle when both hold:
//! 1. it has pending demand: a Pending pod, or a PodGroup still Pending (waiting for enqueue);
//! 2. its allocation (pods Allocated, Binding, Bound or Running — Volcano's AllocatedStatus)
//!    is short of its deserved share (what capacity, else proportion, computed at that cycle's
//!    session open) by at least one pending pod. With `u` the queue's mean Pending pod request,
//!    only cpu and memory count, and only the dimensions `u` asks for: `allocated + u ≤
//!    deserved` on every such dimension under proportion (its Allocatable/Preemptive test), on
//!    at least one under capacity (its Preemptive `LessPartly` test). Without any Pending pod
//!    (PodGroups waiting for enqueue, pods not created yet) `allocated < deserved` on cpu or
//!    memory — only a guarantee or capacity's `deserved` can then put deserved above allocated.
//!
//! "By at least one pod" keeps a queue whose water-filled share is not a multiple of its pod
//! size (or that is at deserved on its binding dimension) from counting as starved forever: the
//! scheduler itself would not give it more. The mean pod stands in for the smallest one (exact
//! for queues with one pod shape; a gap between the smallest and the mean pod is missed).
//!
//! An episode starts at the first cycle after which the queue is starved and ends at the first
//! cycle after which it is not (the reclaimed resources were bound to its pods, which run one
//! bind latency later; or its demand was served or withdrawn; or its deserved share shrank). A
//! demand served by the very cycle that first sees it is no episode. Episodes still open when
//! the run ends are censored (`end_ms: None`). Pods beyond a gang's minMember are demand too,
//! although reclaim does not act for them (the job is not starving): such an episode lasts until
//! resources free up. PodGroups that overcommit keeps from enqueue have no pods, so they raise
//! neither the queue's request nor its deserved and count only below a guarantee.

use crate::policy::index::QueueAgg;
use crate::policy::PodGroupPhase;

use super::deserved::DeservedMode;
pub use super::outcome::StarvationEpisode;

/// What the starvation test reads of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QueueView {
    /// PodGroups in phase Pending.
    pub waiting_jobs: u32,
    /// Pending pods and the sum of their (cpu milli, memory bytes) requests.
    pub pending_tasks: u32,
    pub pending: (i64, i64),
    /// (cpu milli, memory bytes) in AllocatedStatus.
    pub allocated: (i64, i64),
    /// (cpu milli, memory bytes); `None` when the plugin has no attributes for the queue.
    pub deserved: Option<(f64, f64)>,
}

impl QueueView {
    /// The view of a queue from the snapshot index and the cycle's deserved.
    pub fn of(agg: &QueueAgg, deserved: Option<(f64, f64)>) -> QueueView {
        QueueView {
            waiting_jobs: agg.phases[PodGroupPhase::Pending as usize],
            pending_tasks: agg.pending_tasks,
            pending: (agg.pending.cpu(), agg.pending.memory()),
            allocated: (agg.allocated.cpu(), agg.allocated.memory()),
            deserved,
        }
    }
}

/// Whether the queue is starved below deserved (see the module header).
pub fn starved(v: &QueueView, mode: DeservedMode) -> bool {
    let Some((dc, dm)) = v.deserved else {
        return false;
    };
    let alloc = [v.allocated.0 as f64, v.allocated.1 as f64];
    let deserved = [dc, dm];
    if v.pending_tasks == 0 {
        return v.waiting_jobs > 0 && (0..2).any(|d| alloc[d] < deserved[d]);
    }
    let n = v.pending_tasks as i64;
    let unit = [v.pending.0 / n, v.pending.1 / n];
    let mut asked = (0..2).filter(|&d| unit[d] > 0).peekable();
    if asked.peek().is_none() {
        // Pods that request neither cpu nor memory are owed nothing in these dimensions.
        return false;
    }
    let fits = |d: usize| alloc[d] + unit[d] as f64 <= deserved[d];
    match mode {
        DeservedMode::Proportion => asked.all(fits),
        DeservedMode::Capacity { .. } => asked.any(fits),
    }
}

/// Open episodes per queue and the closed ones so far.
#[derive(Debug, Clone)]
pub struct Tracker {
    mode: DeservedMode,
    open: Vec<Option<u64>>,
    closed: Vec<StarvationEpisode>,
}

impl Tracker {
    pub fn new(queues: usize, mode: DeservedMode) -> Tracker {
        Tracker {
            mode,
            open: vec![None; queues],
            closed: Vec::new(),
        }
    }

    /// Queue `q` is (or is not) starved after the cycle at `t`.
    pub fn step(&mut self, q: usize, t: u64, is_starved: bool) {
        match (self.open[q], is_starved) {
            (None, true) => self.open[q] = Some(t),
            (Some(start), false) => {
                self.open[q] = None;
                self.closed.push(StarvationEpisode {
                    queue: q as u32,
                    start_ms: start,
                    end_ms: Some(t),
                });
            }
            _ => {}
        }
    }

    /// After the cycle at `t`: every queue's state from the index and the cycle's deserved.
    pub fn observe(&mut self, t: u64, aggs: &[QueueAgg], deserved: &[Option<(f64, f64)>]) {
        for (q, agg) in aggs.iter().enumerate().take(self.open.len()) {
            let v = QueueView::of(agg, deserved.get(q).copied().flatten());
            let s = starved(&v, self.mode);
            self.step(q, t, s);
        }
    }

    /// The closed episodes, then the open ones (censored) in queue order.
    pub fn finish(self) -> Vec<StarvationEpisode> {
        let mut out = self.closed;
        for (q, start) in self.open.iter().enumerate() {
            if let Some(start_ms) = *start {
                out.push(StarvationEpisode {
                    queue: q as u32,
                    start_ms,
                    end_ms: None,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GI: i64 = 1 << 30;

    fn view(pending: u32, alloc_cpu: i64, deserved_cpu: f64) -> QueueView {
        QueueView {
            waiting_jobs: 0,
            pending_tasks: pending,
            pending: (pending as i64 * 1000, pending as i64 * GI),
            allocated: (alloc_cpu, alloc_cpu / 1000 * GI),
            deserved: Some((deserved_cpu, deserved_cpu / 1000.0 * GI as f64)),
        }
    }

    #[test]
    fn starved_needs_demand_and_a_gap_of_one_pod() {
        let p = DeservedMode::Proportion;
        assert!(starved(&view(2, 4000, 6000.0), p));
        assert!(
            starved(&view(2, 5000, 6000.0), p),
            "exactly one pod of room"
        );
        // Share not a multiple of the pod: 333 milli short, but no pod fits.
        assert!(!starved(&view(2, 5000, 5333.3), p));
        assert!(!starved(&view(0, 4000, 6000.0), p), "no demand");
        let mut v = view(2, 4000, 6000.0);
        v.deserved = None;
        assert!(!starved(&v, p), "no deserved");
    }

    #[test]
    fn proportion_needs_every_asked_dimension_capacity_one() {
        // Room for a pod in cpu, none in memory (at deserved on the binding dimension).
        let mut v = view(2, 4000, 6000.0);
        v.allocated.1 = 6 * GI;
        assert!(!starved(&v, DeservedMode::Proportion));
        assert!(starved(&v, DeservedMode::Capacity { hierarchy: false }));
        // Pods that ask no memory: only cpu counts.
        v.pending.1 = 0;
        assert!(starved(&v, DeservedMode::Proportion));
    }

    #[test]
    fn waiting_podgroups_count_below_a_guarantee() {
        let v = QueueView {
            waiting_jobs: 1,
            allocated: (2000, 0),
            deserved: Some((4000.0, 0.0)),
            ..Default::default()
        };
        assert!(starved(&v, DeservedMode::Proportion));
        let at = QueueView {
            deserved: Some((2000.0, 0.0)),
            ..v
        };
        assert!(!starved(&at, DeservedMode::Proportion));
    }

    #[test]
    fn episodes_from_a_synthetic_series() {
        let mut tr = Tracker::new(2, DeservedMode::Proportion);
        // queue 0: starved at 1 s..3 s, then 10 s until the end; queue 1: never.
        let series = [
            (0, false),
            (1000, true),
            (2000, true),
            (3000, false),
            (4000, false),
            (10_000, true),
            (11_000, true),
        ];
        for (t, s) in series {
            tr.step(0, t, s);
            tr.step(1, t, false);
        }
        let eps = tr.finish();
        assert_eq!(
            eps,
            vec![
                StarvationEpisode {
                    queue: 0,
                    start_ms: 1000,
                    end_ms: Some(3000)
                },
                StarvationEpisode {
                    queue: 0,
                    start_ms: 10_000,
                    end_ms: None
                },
            ]
        );
    }
}
