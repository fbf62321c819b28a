//! A queue's jobs in job order for one pass of allocate (`JobLine`): what Volcano keeps in a
//! per-queue `PriorityQueue` of jobs. Depends on policy types only.
//!
//! Exact: when every key is a scalar key (`JobKey::exact`, no NaN part) and no two keys tie,
//! job order is a strict total order over fixed keys, so the heap Volcano builds pops the keys
//! in sorted order, whatever its arrangement. The line then sorts the keys once (an unstable
//! sort: no two keys tie) and takes them from the sorted end, merged with a small heap of the
//! jobs pushed back during the pass: a pass costs one sort instead of a heap push and a heap
//! pop per job, each a few key comparisons (UID compares among jobs created the same second). Otherwise (a comparator-only plugin, a NaN, a tie) it is the
//! heap itself, built as pushing the keys one by one in filing order builds it.

use std::cmp::Ordering;

use crate::policy::heap::PriorityQueue;
use crate::policy::session::State;
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
    /// job once); sorted only if `sort`
    /// (the session's shortcuts: without them it is always the heap, the reference the
    /// shortcut property test compares with).
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
            keys.sort_unstable_by(|a, b| tiers.key_cmp(s, b, a));
            let strict = keys
                .windows(2)
                .all(|w| tiers.key_cmp(s, &w[0], &w[1]) == Ordering::Greater);
            if strict {
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
    pub(super) fn waiting(&self, mut f: impl FnMut(&JobKey)) {
        match self {
            JobLine::Heap(h) => h.items().iter().for_each(f),
            JobLine::Sorted { rest, again } => {
                rest.iter().for_each(&mut f);
                again.items().iter().for_each(f);
            }
        }
    }

    /// Jobs still in the line.
    pub(super) fn len(&self) -> usize {
        match self {
            JobLine::Heap(h) => h.len(),
            JobLine::Sorted { rest, again } => rest.len() + again.len(),
        }
    }
}
