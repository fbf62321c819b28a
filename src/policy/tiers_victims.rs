//! The victim lists of the tiers: the intersection walk that combines the plugins' victim
//! answers (`combine_victims`) and the order victims are evicted in (`Tiers::victim_order`).
//!
//! Mirrors volcano pkg/scheduler/framework/session_plugins.go (Preemptable, Reclaimable,
//! UnifiedEvictable) and util `BuildVictimsPriorityQueue`. Depends on the parent `tiers` and
//! the snapshot only.

use std::cmp::Ordering;

use super::Tiers;
use crate::policy::plugin::Vote;
use crate::policy::session::State;
use crate::policy::snapshot::TaskId;

/// The victim-intersection walk over `n_tiers` tiers of `tier_len(i)` voters, each answering
/// `answer(i, j)` (`None` = not registered). Mirrors volcano session_plugins.go
/// Preemptable/Reclaimable/UnifiedEvictable, including #5963 (an empty intersection is stored
/// as "no answer yet", so a later plugin of the same tier re-seeds it) and the fall-through on
/// an empty answer (#2147). Returns `None` when no tier decided.
pub fn combine_victims<T: Ord + Clone>(
    n_tiers: usize,
    tier_len: impl Fn(usize) -> usize,
    mut answer: impl FnMut(usize, usize) -> Option<(Vec<T>, Vote)>,
) -> Option<Vec<T>> {
    let mut victims: Option<Vec<T>> = None;
    for i in 0..n_tiers {
        for j in 0..tier_len(i) {
            let Some((cands, vote)) = answer(i, j) else {
                continue;
            };
            if vote == Vote::Abstain {
                continue;
            }
            if cands.is_empty() {
                victims = None;
                break;
            }
            victims = match victims {
                None => Some(cands),
                // The same list: the intersection is the list itself (a shortcut).
                Some(v) if v == cands => Some(v),
                Some(v) => {
                    let mut sorted = cands.clone();
                    sorted.sort_unstable();
                    let inter: Vec<T> = v
                        .into_iter()
                        .filter(|t| sorted.binary_search(t).is_ok())
                        .collect();
                    if inter.is_empty() {
                        None
                    } else {
                        Some(inter)
                    }
                }
            };
        }
        if victims.is_some() {
            return victims;
        }
    }
    victims
}

impl Tiers {
    /// `BuildVictimsPriorityQueue`: the order in which victims are evicted (first = evicted
    /// first). Same job: reverse task order; different queues: reverse queue order (job
    /// priority ignored, quirk #11); same queue: reverse plugin job order, then reverse task
    /// order. Uses the Go heap, so ties resolve as Volcano's do.
    pub fn victim_order(&self, s: &State, victims: &[TaskId], preemptor: TaskId) -> Vec<TaskId> {
        let pjob = s.snap.task(preemptor).job;
        let pjob_live = s.snap.job(pjob).live;
        let less = |l: TaskId, r: TaskId| -> bool {
            let (lt, rt) = (s.snap.task(l), s.snap.task(r));
            if lt.job == rt.job {
                return self.task_order(s, l, r) != Ordering::Less;
            }
            let (lj, rj) = (s.snap.job(lt.job), s.snap.job(rt.job));
            if !lj.live || !rj.live {
                return !lj.live;
            }
            if lj.queue != rj.queue && pjob_live {
                return self.victim_queue_first(s, lj.queue, rj.queue, s.snap.job(pjob).queue);
            }
            match self.job_order_plugins(s, lt.job, rt.job) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => self.task_order(s, l, r) != Ordering::Less,
            }
        };
        let mut h = crate::policy::heap::PriorityQueue::new();
        for &v in victims {
            h.push(v, less);
        }
        let mut out = Vec::with_capacity(victims.len());
        while let Some(v) = h.pop(less) {
            out.push(v);
        }
        out
    }
}
