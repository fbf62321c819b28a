//! The tier combination rules of semantics §1.4, each written once: first-decisive order,
//! AND/OR reductions, the −1/0/+1 vote walk, first-tier starving, and victim intersection with
//! Volcano's fall-through quirks (with the victim order in `tiers_victims.rs`).
//!
//! Mirrors volcano pkg/scheduler/framework/session_plugins.go. Depends on the plugin trait and
//! the snapshot only.

use std::cmp::Ordering;

use super::conf::{Flag, FlagSet, PluginKind, FLAGS, N_FLAGS};
use super::plugin::{EvictionContext, FitError, Plugin, Purpose, Vote};
use super::session::State;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};
use super::topology::HnId;

#[path = "tiers_victims.rs"]
mod victims;
pub use victims::combine_victims;

/// Plugin key parts a `JobKey` holds (more enabled JobOrder plugins fall back to comparators).
pub const MAX_KEY_PARTS: usize = 4;

/// A precomputed job-order key (see `Tiers::job_key`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobKey {
    pub parts: [f64; MAX_KEY_PARTS],
    pub n: u8,
    pub creation: u64,
    pub job: JobId,
    /// False when some JobOrder plugin has no scalar key: comparisons then call the plugins.
    pub exact: bool,
}

/// A configured plugin with its enable flags.
pub struct Slot {
    pub flags: FlagSet,
    pub plugin: Box<dyn Plugin>,
}

/// The tiers of a session.
#[derive(Default)]
pub struct Tiers {
    pub tiers: Vec<Vec<Slot>>,
    /// For each flag, the (tier, slot) positions with that flag on, in tier order; built by
    /// `index_flags` once the tiers are complete.
    by_flag: Vec<Vec<(u16, u16)>>,
}

impl Tiers {
    /// Builds the per-flag position lists (call after the last slot is pushed).
    pub fn index_flags(&mut self) {
        self.by_flag = (0..N_FLAGS)
            .map(|f| {
                let mut v = Vec::new();
                for (i, tier) in self.tiers.iter().enumerate() {
                    for (j, slot) in tier.iter().enumerate() {
                        if slot.flags.has_bit(f) && slot.plugin.registers(FLAGS[f]) {
                            v.push((i as u16, j as u16));
                        }
                    }
                }
                v
            })
            .collect();
    }

    fn enabled(&self, f: Flag) -> impl Iterator<Item = &Slot> {
        let list: &[(u16, u16)] = self
            .by_flag
            .get(f as usize)
            .map(|v| v.as_slice())
            .unwrap_or(&[]);
        list.iter()
            .map(move |&(i, j)| &self.tiers[i as usize][j as usize])
    }

    pub fn plugin_names(&self) -> Vec<&'static str> {
        self.tiers
            .iter()
            .flatten()
            .map(|s| s.plugin.name())
            .collect()
    }

    pub fn has_plugin(&self, k: PluginKind) -> bool {
        self.tiers.iter().flatten().any(|s| s.plugin.kind() == k)
    }

    /// Observation only: writes into `out` (one entry per queue, reusing its buffer) the
    /// `deserved` (cpu milli, memory bytes) of capacity if configured, else of proportion —
    /// the same choice as the simulator's queue samples.
    pub fn observe_deserved(&self, queues: usize, out: &mut Vec<Option<(f64, f64)>>) {
        out.clear();
        let find = |k: PluginKind| self.tiers.iter().flatten().find(|s| s.plugin.kind() == k);
        let slot = find(PluginKind::Capacity).or_else(|| find(PluginKind::Proportion));
        out.extend((0..queues).map(|q| slot.and_then(|s| s.plugin.deserved(QueueId(q as u32)))));
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

    /// The job-order key of `j` if every enabled JobOrder plugin has a scalar key
    /// (`Plugin::job_order_key`); comparing keys with `key_less` equals `job_order`.
    pub fn job_key(&self, s: &State, j: JobId) -> Option<JobKey> {
        let mut k = JobKey {
            parts: [0.0; MAX_KEY_PARTS],
            n: 0,
            creation: s.snap.job(j).creation,
            job: j,
            exact: true,
        };
        for slot in self
            .enabled(Flag::JobOrder)
            .filter(|x| x.plugin.registers_job_order())
        {
            let x = slot.plugin.job_order_key(s, j)?;
            if k.n as usize == MAX_KEY_PARTS {
                return None;
            }
            k.parts[k.n as usize] = x;
            k.n += 1;
        }
        Some(k)
    }

    /// `job_key`, or a key that defers every comparison to the plugins.
    pub fn job_key_or_slow(&self, s: &State, j: JobId) -> JobKey {
        self.job_key(s, j).unwrap_or(JobKey {
            parts: [0.0; MAX_KEY_PARTS],
            n: 0,
            creation: s.snap.job(j).creation,
            job: j,
            exact: false,
        })
    }

    /// `a` before `b` in job order (strict: ties end in the UID).
    pub fn key_less(&self, s: &State, a: &JobKey, b: &JobKey) -> bool {
        self.key_cmp(s, a, b) == Ordering::Less
    }

    /// Total order over job keys: plugin parts, then creation, then UID.
    pub fn key_cmp(&self, s: &State, a: &JobKey, b: &JobKey) -> Ordering {
        if !a.exact || !b.exact {
            return self.job_order(s, a.job, b.job);
        }
        for i in 0..a.n.min(b.n) as usize {
            match a.parts[i].partial_cmp(&b.parts[i]) {
                Some(Ordering::Equal) | None => {}
                Some(o) => return o,
            }
        }
        a.creation
            .cmp(&b.creation)
            .then_with(|| s.snap.job(a.job).uid.cmp(&s.snap.job(b.job).uid))
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

    /// `VictimQueueOrderFn` as a "pops first" test: the first plugin with a non-zero answer,
    /// else `!QueueOrderFn(l, r)` (the queue last in queue order gives up victims first).
    pub fn victim_queue_first(
        &self,
        s: &State,
        l: QueueId,
        r: QueueId,
        preemptor_queue: QueueId,
    ) -> bool {
        for slot in self.tiers.iter().flatten() {
            if let Some(o) = slot.plugin.victim_queue_order(s, l, r, preemptor_queue) {
                if o != Ordering::Equal {
                    return o == Ordering::Less;
                }
            }
        }
        self.queue_order(s, l, r) != Ordering::Less
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

    /// `Preemptive`: AND, for one task's request.
    pub fn preemptive(&self, s: &State, q: QueueId, t: TaskId) -> bool {
        self.preemptive_req(s, q, &s.snap.task(t).resreq)
    }

    /// `Preemptive`: AND, for a summed request (gangreclaim's whole pending set).
    pub fn preemptive_req(&self, s: &State, q: QueueId, req: &crate::model::Resources) -> bool {
        self.enabled(Flag::Preemptive)
            .all(|slot| slot.plugin.preemptive(s, q, req) != Some(false))
    }

    /// `UnifiedEvictable` (v1.15): the victim-intersection walk of `Preemptable`/`Reclaimable`
    /// (`combine_victims`, quirks included) over every plugin that implements the hook, with
    /// no enable flag. `None` when no tier decided (no plugin registered, or every tier ended
    /// empty): the gang actions then evict nothing.
    pub fn unified_evictable(
        &self,
        s: &State,
        ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> Option<Vec<TaskId>> {
        combine_victims(
            self.tiers.len(),
            |i| self.tiers[i].len(),
            |i, j| self.tiers[i][j].plugin.unified_evictable(s, ctx, cands),
        )
    }

    /// Whether every plugin's event handlers cancel out (`Plugin::events_cancel`).
    pub fn events_cancel(&self) -> bool {
        self.tiers
            .iter()
            .flatten()
            .all(|slot| slot.plugin.events_cancel())
    }

    /// Whether every plugin that registers `UnifiedEvictableFn` for `ctx` answers per task
    /// (`Plugin::unified_evictable_per_task`): then `unified_evictable`'s answer, as a set,
    /// is the same for any order of the same candidates.
    pub fn unified_evictable_per_task(&self, s: &State, ctx: &EvictionContext) -> bool {
        self.tiers.iter().flatten().all(|slot| {
            slot.plugin.unified_evictable_per_task()
                || slot.plugin.unified_evictable(s, ctx, &[]).is_none()
        })
    }

    /// `HyperNodeGradientForJobFn` / `HyperNodeGradientForSubJobFn`: the answer of the first
    /// plugin with `enabledHyperNodeGradient` that registers it, whatever it is (an empty
    /// answer means no candidate); `[[input]]` when none does.
    pub fn hypernode_gradient(
        &self,
        s: &State,
        j: JobId,
        input: HnId,
        allocated: Option<HnId>,
        min_res: &crate::model::Resources,
        purpose: Purpose,
    ) -> Vec<Vec<HnId>> {
        self.enabled(Flag::HyperNodeGradient)
            .find_map(|slot| {
                slot.plugin
                    .hypernode_gradient(s, j, input, allocated, min_res, purpose)
            })
            .unwrap_or_else(|| vec![vec![input]])
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

    /// True if exactly one plugin, of kind `k`, registers an enabled Predicate.
    pub fn only_predicate_plugin_is(&self, k: PluginKind) -> bool {
        let mut it = self.enabled(Flag::Predicate);
        matches!((it.next(), it.next()), (Some(s), None) if s.plugin.kind() == k)
    }

    /// True if some enabled plugin scores nodes (otherwise scoring can be skipped).
    pub fn scores_nodes(&self) -> bool {
        self.enabled(Flag::NodeOrder).any(|s| {
            matches!(
                s.plugin.kind(),
                PluginKind::NodeOrder | PluginKind::Binpack | PluginKind::NetworkTopologyAware
            )
        })
    }

    /// `Preemptable` (preempt victims).
    pub fn preemptable(&self, s: &State, preemptor: TaskId, cands: &[TaskId]) -> Vec<TaskId> {
        self.victims(Flag::Preemptable, |p| {
            p.preemptable(s, self, preemptor, cands)
        })
    }

    /// Which voters' [`Plugin::may_be_victim`] must all hold, for some tier, for a candidate to
    /// be in the combined `f` answer. Follows `combine_victims`: a deciding tier's answer is
    /// the intersection of a suffix of its voters' answers, starting at its first voter or right
    /// after an empty intersection (#5963) — which needs two voters before it. So a tier of one
    /// or two voters needs all of them; a longer tier needs at least its last. Victim voters
    /// never abstain (they Permit or Reject), so the voter positions are fixed.
    pub fn victim_rule(&self, f: Flag) -> Vec<Vec<(u16, u16)>> {
        self.voters_by_tier(f)
            .into_iter()
            .map(|voters| {
                let from = if voters.len() <= 2 {
                    0
                } else {
                    voters.len() - 1
                };
                voters[from..].to_vec()
            })
            .collect()
    }

    /// The (tier, slot) positions with `f` on, one slice per tier that has any (positions are
    /// in tier order, so each tier's entries form one contiguous run).
    fn voters_by_tier(&self, f: Flag) -> Vec<&[(u16, u16)]> {
        let list: &[(u16, u16)] = self
            .by_flag
            .get(f as usize)
            .map(|v| v.as_slice())
            .unwrap_or(&[]);
        list.chunk_by(|a, b| a.0 == b.0).collect()
    }

    /// A fingerprint of `rule`'s voters when every one of them has a static `may_be_victim`
    /// ([`Plugin::may_be_victim_static`]), else `None`.
    pub fn static_rule_id(&self, rule: &[Vec<(u16, u16)>]) -> Option<u64> {
        let mut h: u64 = 0xcbf29ce484222325;
        for (g, all) in rule.iter().enumerate() {
            for &(t, x) in all {
                let p = &self.tiers[t as usize][x as usize].plugin;
                if !p.may_be_victim_static() {
                    return None;
                }
                for b in p.name().bytes().chain([t as u8, x as u8, g as u8, 0xff]) {
                    h = (h ^ b as u64).wrapping_mul(0x100000001b3);
                }
            }
        }
        Some(h | 1)
    }

    /// Whether `cand` may be in the combined `f` answer for `preemptor` (see `victim_rule`).
    pub fn may_be_victim(
        &self,
        rule: &[Vec<(u16, u16)>],
        f: Flag,
        s: &State,
        preemptor: TaskId,
        cand: TaskId,
    ) -> bool {
        rule.iter().any(|all| {
            all.iter().all(|&(t, x)| {
                self.tiers[t as usize][x as usize]
                    .plugin
                    .may_be_victim(s, f, preemptor, cand)
            })
        })
    }

    /// Every registered `f` voter's [`Plugin::victim_vote_key`] for `preemptor`, in tier
    /// order; `None` when one of them depends on the preemptor's job itself.
    pub fn victim_vote_keys(&self, f: Flag, s: &State, preemptor: TaskId) -> Option<Vec<i64>> {
        self.enabled(f)
            .map(|slot| slot.plugin.victim_vote_key(s, preemptor))
            .collect()
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
        let runs = self.voters_by_tier(f);
        combine_victims(
            runs.len(),
            |i| runs[i].len(),
            |i, j| {
                let (t, x) = runs[i][j];
                let answer = call(self.tiers[t as usize][x as usize].plugin.as_ref());
                debug_assert!(
                    !matches!(answer, Some((_, Vote::Abstain))),
                    "victim voters never abstain (victim_rule relies on it)"
                );
                answer
            },
        )
        .unwrap_or_default()
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
