//! The tier combination rules of semantics §1.4, each written once: first-decisive order,
//! AND/OR reductions, the −1/0/+1 vote walk, first-tier starving, and victim intersection with
//! Volcano's fall-through quirks.
//!
//! Mirrors volcano pkg/scheduler/framework/session_plugins.go. Depends on the plugin trait and
//! the snapshot only.

use std::cmp::Ordering;

use super::conf::{Flag, FlagSet};
use super::plugin::{FitError, Plugin, Vote};
use super::session::State;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};

/// A configured plugin with its enable flags.
pub struct Slot {
    pub flags: FlagSet,
    pub plugin: Box<dyn Plugin>,
}

/// The tiers of a session.
#[derive(Default)]
pub struct Tiers {
    pub tiers: Vec<Vec<Slot>>,
}

impl Tiers {
    fn enabled(&self, f: Flag) -> impl Iterator<Item = &Slot> {
        self.tiers.iter().flatten().filter(move |s| s.flags.has(f))
    }

    pub fn plugin_names(&self) -> Vec<&'static str> {
        self.tiers
            .iter()
            .flatten()
            .map(|s| s.plugin.name())
            .collect()
    }

    pub fn has_plugin(&self, name: &str) -> bool {
        self.tiers.iter().flatten().any(|s| s.plugin.name() == name)
    }

    /// `JobOrderFn`: first non-zero plugin answer, crossing tiers; default older
    /// `CreationTimestamp`, then smaller UID.
    pub fn job_order(&self, s: &State, l: JobId, r: JobId) -> Ordering {
        let o = self.job_order_plugins(s, l, r);
        if o != Ordering::Equal {
            return o;
        }
        let (a, b) = (s.snap.job(l), s.snap.job(r));
        a.creation.cmp(&b.creation).then_with(|| a.uid.cmp(&b.uid))
    }

    /// `JobOrderCompareFn`: plugins only, no default tie-break (victim ordering).
    pub fn job_order_plugins(&self, s: &State, l: JobId, r: JobId) -> Ordering {
        for slot in self.enabled(Flag::JobOrder) {
            if let Some(o) = slot.plugin.job_order(s, l, r) {
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
        Ordering::Equal
    }

    /// `QueueOrderFn`: first non-zero plugin answer; default older creation, then name.
    pub fn queue_order(&self, s: &State, l: QueueId, r: QueueId) -> Ordering {
        for slot in self.enabled(Flag::QueueOrder) {
            if let Some(o) = slot.plugin.queue_order(s, l, r) {
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
        let (a, b) = (&s.snap.queues[l.ix()], &s.snap.queues[r.ix()]);
        a.creation
            .cmp(&b.creation)
            .then_with(|| a.name.cmp(&b.name))
    }

    /// `TaskOrderFn`: plugins, then the default of §1.7 (name index, creation, UID).
    pub fn task_order(&self, s: &State, l: TaskId, r: TaskId) -> Ordering {
        for slot in self.enabled(Flag::TaskOrder) {
            if let Some(o) = slot.plugin.task_order(s, l, r) {
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
        default_task_order(s, l, r)
    }

    /// `JobValid`: first failing plugin wins (no flag).
    pub fn job_valid(&self, s: &State, j: JobId) -> bool {
        self.tiers
            .iter()
            .flatten()
            .all(|slot| slot.plugin.job_valid(s, j) != Some(false))
    }

    /// `JobReady`: AND over all tiers.
    pub fn job_ready(&self, s: &State, j: JobId) -> bool {
        self.enabled(Flag::JobReady)
            .all(|slot| slot.plugin.job_ready(s, j) != Some(false))
    }

    fn vote_walk(&self, f: Flag, mut vote: impl FnMut(&dyn Plugin) -> Option<Vote>) -> bool {
        for tier in &self.tiers {
            let mut permitted = false;
            for slot in tier.iter().filter(|s| s.flags.has(f)) {
                match vote(slot.plugin.as_ref()) {
                    Some(Vote::Reject) => return false,
                    Some(Vote::Permit) => permitted = true,
                    _ => {}
                }
            }
            if permitted {
                return true;
            }
        }
        true
    }

    /// `JobPipelined`: the vote walk.
    pub fn job_pipelined(&self, s: &State, j: JobId) -> bool {
        self.vote_walk(Flag::JobPipelined, |p| p.job_pipelined(s, j))
    }

    /// `JobEnqueueable`: the vote walk (gated by `enableJobEnqueued`).
    pub fn job_enqueueable(&self, s: &State, j: JobId) -> bool {
        self.vote_walk(Flag::JobEnqueued, |p| p.job_enqueueable(s, j))
    }

    /// `JobEnqueued`: every enabled plugin's callback.
    pub fn job_enqueued(&mut self, s: &State, j: JobId) {
        for slot in self
            .tiers
            .iter_mut()
            .flatten()
            .filter(|x| x.flags.has(Flag::JobEnqueued))
        {
            slot.plugin.job_enqueued(s, j);
        }
    }

    /// `JobStarving`: AND within the first tier that registers one; default false.
    pub fn job_starving(&self, s: &State, j: JobId) -> bool {
        for tier in &self.tiers {
            let mut any = false;
            let mut all = true;
            for slot in tier.iter().filter(|x| x.flags.has(Flag::JobStarving)) {
                if let Some(b) = slot.plugin.job_starving(s, j) {
                    any = true;
                    all &= b;
                }
            }
            if any {
                return all;
            }
        }
        false
    }

    /// `Overused`: OR.
    pub fn overused(&self, s: &State, q: QueueId) -> bool {
        self.enabled(Flag::Overused)
            .any(|slot| slot.plugin.overused(s, q) == Some(true))
    }

    /// `Allocatable`: AND.
    pub fn allocatable(&self, s: &State, q: QueueId, t: TaskId) -> bool {
        self.enabled(Flag::Allocatable)
            .all(|slot| slot.plugin.allocatable(s, q, t) != Some(false))
    }

    /// `Preemptive`: AND.
    pub fn preemptive(&self, s: &State, q: QueueId, t: TaskId) -> bool {
        self.enabled(Flag::Preemptive)
            .all(|slot| slot.plugin.preemptive(s, q, t) != Some(false))
    }

    /// `PredicateFn`: first error wins.
    pub fn predicate(&self, s: &State, t: TaskId, n: NodeId) -> Result<(), FitError> {
        for slot in self.enabled(Flag::Predicate) {
            if let Some(Err(e)) = slot.plugin.predicate(s, t, n) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// `NodeOrderFn`: scores summed over all enabled plugins.
    pub fn node_score(&self, s: &State, t: TaskId, n: NodeId) -> f64 {
        let mut total = 0.0;
        for slot in self.enabled(Flag::NodeOrder) {
            if let Some(x) = slot.plugin.node_order(s, t, n) {
                total += x;
            }
        }
        total
    }

    /// True if some enabled plugin scores nodes (otherwise scoring can be skipped).
    pub fn scores_nodes(&self) -> bool {
        self.enabled(Flag::NodeOrder)
            .any(|s| matches!(s.plugin.name(), "nodeorder" | "binpack"))
    }

    /// `Preemptable` (preempt victims).
    pub fn preemptable(&self, s: &State, preemptor: TaskId, cands: &[TaskId]) -> Vec<TaskId> {
        self.victims(Flag::Preemptable, |p| {
            p.preemptable(s, self, preemptor, cands)
        })
    }

    /// `Reclaimable` (reclaim victims).
    pub fn reclaimable(&self, s: &State, reclaimer: TaskId, cands: &[TaskId]) -> Vec<TaskId> {
        self.victims(Flag::Reclaimable, |p| {
            p.reclaimable(s, self, reclaimer, cands)
        })
    }

    fn victims(
        &self,
        f: Flag,
        mut call: impl FnMut(&dyn Plugin) -> Option<(Vec<TaskId>, Vote)>,
    ) -> Vec<TaskId> {
        let tiers: Vec<Vec<&Slot>> = self
            .tiers
            .iter()
            .map(|t| t.iter().filter(|x| x.flags.has(f)).collect())
            .collect();
        combine_victims(
            tiers.len(),
            |i| tiers[i].len(),
            |i, j| call(tiers[i][j].plugin.as_ref()),
        )
        .unwrap_or_default()
    }
}

/// The victim-intersection walk over `n_tiers` tiers of `tier_len(i)` voters, each answering
/// `answer(i, j)` (`None` = not registered). Mirrors volcano session_plugins.go
/// Preemptable/Reclaimable/UnifiedEvictable, including #5963 (an empty intersection is stored
/// as "no answer yet", so a later plugin of the same tier re-seeds it) and the fall-through on
/// an empty answer (#2147). Returns `None` when no tier decided.
pub fn combine_victims<T: PartialEq>(
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
                Some(v) => {
                    let inter: Vec<T> = v.into_iter().filter(|t| cands.contains(t)).collect();
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
                return self.queue_order(s, lj.queue, rj.queue) != Ordering::Less;
            }
            match self.job_order_plugins(s, lt.job, rt.job) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => self.task_order(s, l, r) != Ordering::Less,
            }
        };
        let mut h = super::heap::PriorityQueue::new();
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

/// Default task order (volcano pkg/controllers/job/helpers CompareTask): the integer after the
/// last '-' when both names have one, then creation, then UID (`<ns>-<name>`).
pub fn default_task_order(s: &State, l: TaskId, r: TaskId) -> Ordering {
    let (a, b) = (s.snap.task(l), s.snap.task(r));
    if let (Some(x), Some(y)) = (a.name_index, b.name_index) {
        if x != y {
            return x.cmp(&y);
        }
    }
    a.creation
        .cmp(&b.creation)
        .then_with(|| a.namespace.cmp(&b.namespace))
        .then_with(|| a.name.cmp(&b.name))
}
