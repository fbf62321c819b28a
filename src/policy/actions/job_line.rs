//! A queue's jobs in job order for one pass of allocate (`JobLine`): what Volcano keeps in a
//! per-queue `PriorityQueue` of jobs. Depends on policy types only.
//!
//! Exact: when every key is a scalar key (`JobKey::exact`, no NaN part) and no two keys tie,
//! job order is a strict total order over fixed keys, so the heap Volcano builds pops the keys
//! in sorted order, whatever its arrangement. The line then sorts the keys once (an unstable
//! sort: no two keys tie) and takes them from the sorted end, merged with a small heap of the
//! jobs pushed back during the pass: a pass costs one sort instead of a heap push and a heap
//! pop per job, each a few key comparisons (UID compares among jobs created the same second).
//! Otherwise (a comparator-only plugin, a NaN, a tie) it is the heap itself, built as pushing
//! the keys one by one in filing order builds it.

use std::cmp::Ordering;

use crate::policy::heap::PriorityQueue;
use crate::policy::session::State;
use crate::policy::snapshot::JobId;
use crate::policy::tiers::{JobKey, Tiers};

/// One queue's jobs for an allocate pass (see the module header).
#[derive(Debug, Clone)]
pub(super) enum JobLine {
    /// Keys sorted so the job that pops first is last, and the jobs pushed back since.
    Sorted {
        rest: Vec<JobKey>,
        again: PriorityQueue<JobKey>,
    },
    /// Volcano's heap, as pushing the filed keys one by one builds it.
    Heap(PriorityQueue<JobKey>),
}

impl JobLine {
    /// The line over `keys`, filed in the order allocate pushes them (ascending job ids, each
    /// job once); sorted only if `sort` (the session's shortcuts: without them it is always the
    /// heap, the reference the shortcut property test compares with).
    pub(super) fn new(tiers: &Tiers, s: &State, mut keys: Vec<JobKey>, sort: bool) -> JobLine {
        debug_assert!(
            keys.windows(2).all(|w| w[0].job < w[1].job),
            "job keys filed in ascending job-id order"
        );
        let scalar = sort
            && keys
                .iter()
                .all(|k| k.exact && k.parts[..k.n as usize].iter().all(|p| !p.is_nan()));
        if scalar {
            // A tie shows in the sort's own comparisons: a comparison sort compares every two
            // keys adjacent in its output unless an `Equal` answer already ordered them, so no
            // `Equal` answer means every adjacent pair was found strictly ordered.
            let mut tied = false;
            keys.sort_unstable_by(|a, b| {
                let o = tiers.key_cmp(s, b, a);
                tied |= o == Ordering::Equal;
                o
            });
            debug_assert!(
                tied || keys
                    .windows(2)
                    .all(|w| tiers.key_cmp(s, &w[0], &w[1]) == Ordering::Greater),
                "a tie the sort did not see"
            );
            if !tied {
                return JobLine::Sorted {
                    rest: keys,
                    again: PriorityQueue::new(),
                };
            }
            // A tie: the heap's arrangement decides. Back to the filing order (ascending job
            // ids, distinct) for the heap built as allocate pushes.
            keys.sort_unstable_by_key(|k| k.job);
        }
        JobLine::Heap(PriorityQueue::from_pushes(keys, |a, b| {
            tiers.key_less(s, &a, &b)
        }))
    }

    /// `PriorityQueue.Pop`: the job that comes first in job order.
    pub(super) fn pop(&mut self, tiers: &Tiers, s: &State) -> Option<JobKey> {
        match self {
            JobLine::Heap(h) => h.pop(|a, b| tiers.key_less(s, &a, &b)),
            JobLine::Sorted { rest, again } => {
                let take_again = match (rest.last(), again.peek()) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(r), Some(a)) => tiers.key_less(s, &a, r),
                };
                if take_again {
                    again.pop(|a, b| tiers.key_less(s, &a, &b))
                } else {
                    rest.pop()
                }
            }
        }
    }

    /// `PriorityQueue.Push` of a job allocated this pass with tasks left.
    pub(super) fn push(&mut self, tiers: &Tiers, s: &State, key: JobKey) {
        let h = match self {
            JobLine::Heap(h) => h,
            JobLine::Sorted { again, .. } => again,
        };
        h.push(key, |a, b| tiers.key_less(s, &a, &b));
    }

    /// Every job still in the line, in no particular order (the caller sorts).
    pub(super) fn jobs(&self) -> impl Iterator<Item = JobId> + '_ {
        let (a, b) = match self {
            JobLine::Heap(h) => (h.items(), &[][..]),
            JobLine::Sorted { rest, again } => (&rest[..], again.items()),
        };
        a.iter().chain(b).map(|k| k.job)
    }

    /// Jobs still in the line.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.jobs().count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PodGroupSpec, QueueSpec};
    use crate::policy::conf::HELM_DEFAULT_CONF;
    use crate::policy::session::FirstTie;
    use crate::policy::snapshot::{PodGroupPhase, Snapshot};
    use crate::policy::{parse_scheduler_conf, Scheduler};

    /// Jobs at three priorities, created in few distinct milliseconds (so creation ties and the
    /// UID decides), named out of id order (so UID order is not id order).
    fn snapshot(jobs: u64) -> Snapshot {
        let mut s = super::super::gang_evict::tests::classes_and_nodes(2, 8000, 32 << 30);
        s.add_queue(&QueueSpec::new("q", 1));
        for k in 0..jobs {
            let pg = PodGroupSpec {
                namespace: "ns".into(),
                name: format!("j{}", (k * 7919) % jobs),
                queue: "q".into(),
                min_member: 1,
                priority_class: Some(["p1", "p5", "p9"][(k % 3) as usize].into()),
                ..Default::default()
            };
            s.add_job(&pg, PodGroupPhase::Inqueue, (k * 13) % 5)
                .unwrap();
        }
        s
    }

    /// The sorted line pops what Volcano's heap pops, also with jobs pushed back between pops
    /// (with keys that order them anywhere in the line).
    #[test]
    fn the_sorted_line_pops_as_the_heap() {
        let conf = parse_scheduler_conf(HELM_DEFAULT_CONF).unwrap();
        for jobs in [0u64, 1, 2, 7, 40] {
            let mut snap = snapshot(jobs);
            let mut sched = Scheduler::new(&conf).unwrap();
            let mut tie = FirstTie;
            let ssn = sched.session(&mut snap, 0, &mut tie);
            let keys: Vec<JobKey> = (0..jobs as u32)
                .map(|j| ssn.tiers.job_key_or_slow(&ssn.st, JobId(j)))
                .collect();
            let mut sorted = JobLine::new(ssn.tiers, &ssn.st, keys.clone(), true);
            let mut heap = JobLine::new(ssn.tiers, &ssn.st, keys, false);
            // Helm's job order has scalar keys and UIDs are distinct: no tie.
            assert!(matches!(sorted, JobLine::Sorted { .. }), "{jobs} jobs");
            assert!(matches!(heap, JobLine::Heap(_)));
            let mut popped = 0;
            loop {
                let (a, b) = (sorted.pop(ssn.tiers, &ssn.st), heap.pop(ssn.tiers, &ssn.st));
                assert_eq!(a.map(|k| k.job), b.map(|k| k.job), "pop {popped} of {jobs}");
                let Some(mut k) = a else { break };
                popped += 1;
                // Every third job goes back once, its key moved by its creation.
                if popped % 3 == 0 && k.creation < 100 {
                    k.creation += 100 + popped % 4;
                    sorted.push(ssn.tiers, &ssn.st, k);
                    heap.push(ssn.tiers, &ssn.st, k);
                }
                assert_eq!(sorted.len(), heap.len());
            }
            assert!(popped >= jobs, "{popped} pops of {jobs} jobs");
        }
    }
}
