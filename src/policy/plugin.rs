//! The plugin interface: one method per Volcano extension point, each defaulting to "not
//! registered" (`None`), plus event handlers. Plugins read the session through `&State` and
//! keep only what Volcano computes at session open (deserved shares, in-session totals).
//!
//! Mirrors volcano pkg/scheduler/framework/session_plugins.go (the `Add*Fn` registrations).
//! Depends on `model` and the policy's own snapshot types.

use std::cmp::Ordering;

use super::conf::{Flag, PluginKind};
use super::session::State;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};
use super::tiers::Tiers;
use super::topology::HnId;
use crate::model::Resources;

/// A three-valued vote (`util.Permit`, `util.Abstain`, `util.Reject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Permit,
    Abstain,
    Reject,
}

/// Why a node does not fit a task (`api.FitError` reasons, simplified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitError {
    /// True for `UnschedulableAndUnresolvable` (preemption cannot help).
    pub unresolvable: bool,
    pub reason: String,
}

impl FitError {
    pub fn unschedulable(reason: impl Into<String>) -> FitError {
        FitError {
            unresolvable: false,
            reason: reason.into(),
        }
    }
    pub fn unresolvable(reason: impl Into<String>) -> FitError {
        FitError {
            unresolvable: true,
            reason: reason.into(),
        }
    }
}

/// Which gang eviction asks `UnifiedEvictableFn` (`api.EvictionKind`; the task-level kinds
/// of Volcano are not used by any v1.15 action).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionKind {
    GangPreempt,
    GangReclaim,
}

/// What a `UnifiedEvictableFn` is told (`api.EvictionContext`): the kind, the preemptor job
/// and the candidate domain's HyperNode. No modelled plugin reads the HyperNode (as in v1.15).
#[derive(Debug, Clone, Copy)]
pub struct EvictionContext {
    pub kind: EvictionKind,
    pub job: JobId,
    /// The domain being searched (`EvictionContext.HyperNode`); `None` on a cluster without
    /// HyperNodes, where the one domain is the implicit `<cluster-top-hypernode>`.
    pub hypernode: Option<HnId>,
}

/// Why a HyperNode gradient is asked for (`api.SearchPurpose`, v1.15): allocate wants the
/// closest HyperNodes with room first; the gang eviction actions want the widest domains
/// first, judged by what the HyperNode could hold once victims are gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `PurposeAllocate`: eligible when the minimum resources fit the idle or future idle
    /// sums; tiers ascending.
    Allocate,
    /// `PurposeEvict`: eligible when they fit the allocatable sum; tiers descending, capped
    /// at `maxHyperNodesForEviction` HyperNodes.
    Evict,
}

/// A Volcano scheduler plugin. Every hook returns `None` when the plugin does not register
/// that extension point; the tier rules in `tiers.rs` skip such plugins.
#[allow(unused_variables)]
pub trait Plugin: Send {
    /// Which modelled plugin this is.
    fn kind(&self) -> PluginKind;
    /// Volcano's plugin name.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }
    /// Whether the plugin registers the extension point gated by `f` (default: assume it
    /// does). Plugins list theirs so the tier walks skip the others; answers are unchanged.
    fn registers(&self, f: Flag) -> bool {
        let _ = f;
        true
    }
    /// Called once per session, tier by tier, before any action. A plugin is built once per
    /// `Scheduler` and lives across sessions: this hook must reset every piece of per-session
    /// state (Volcano builds fresh plugin objects each session).
    fn on_session_open(&mut self, s: &State) {}

    fn job_order(&self, s: &State, l: JobId, r: JobId) -> Option<Ordering> {
        None
    }
    /// A scalar whose ascending order is exactly this plugin's `job_order` (lower first), if
    /// the plugin's order has that form. Lets actions sort by precomputed keys.
    fn job_order_key(&self, s: &State, j: JobId) -> Option<f64> {
        None
    }
    /// Whether this plugin registers a JobOrder function at all.
    fn registers_job_order(&self) -> bool {
        false
    }
    fn queue_order(&self, s: &State, l: QueueId, r: QueueId) -> Option<Ordering> {
        None
    }
    fn task_order(&self, s: &State, l: TaskId, r: TaskId) -> Option<Ordering> {
        None
    }
    /// `VictimQueueOrderFn`: which victim queue gives up tasks first for a preemptor in
    /// `preemptor_queue` (`Less` = `l` first).
    fn victim_queue_order(
        &self,
        s: &State,
        l: QueueId,
        r: QueueId,
        preemptor_queue: QueueId,
    ) -> Option<Ordering> {
        None
    }
    fn job_valid(&self, s: &State, j: JobId) -> Option<bool> {
        None
    }
    fn job_ready(&self, s: &State, j: JobId) -> Option<bool> {
        None
    }
    fn job_pipelined(&self, s: &State, j: JobId) -> Option<Vote> {
        None
    }
    fn job_starving(&self, s: &State, j: JobId) -> Option<bool> {
        None
    }
    fn job_enqueueable(&self, s: &State, j: JobId) -> Option<Vote> {
        None
    }
    /// Whether `job_enqueued` is registered (it is gated together with `job_enqueueable`).
    fn job_enqueued(&mut self, s: &State, j: JobId) {}
    /// Victim filter for preempt; `None` = not registered, `Some((_, Abstain))` = abstain.
    fn preemptable(
        &self,
        s: &State,
        tiers: &Tiers,
        preemptor: TaskId,
        candidates: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        None
    }
    /// A necessary condition for `cand` to be in this plugin's `preemptable` (`f` =
    /// `Preemptable`) or `reclaimable` (`f` = `Reclaimable`) answer for `preemptor`, read from
    /// the state before the call: `false` only when no candidate list could make the plugin
    /// answer `cand`. The default (`true`) is always safe. Used to skip nodes where even every
    /// possible victim could not make room (`Tiers::may_be_victim`).
    fn may_be_victim(&self, s: &State, f: Flag, preemptor: TaskId, cand: TaskId) -> bool {
        true
    }
    /// Whether `may_be_victim` reads only facts that never change for a task (priorities,
    /// criticality, the default `true`), so a node's answer can be kept while the node does not
    /// change. Default `false` (safe).
    fn may_be_victim_static(&self) -> bool {
        false
    }
    /// What this plugin's `preemptable`/`reclaimable` answers read of the preemptor beyond its
    /// request, priorities, queue and placement constraints, given a preemptor whose job has no
    /// task on any node: two such preemptors with equal keys get equal answers for equal
    /// candidates. `None` (the default) = the answer may depend on the job itself. Used only to
    /// skip repeating a walk that must fail again (`actions::victims::FailMemo`).
    fn victim_vote_key(&self, s: &State, preemptor: TaskId) -> Option<i64> {
        None
    }
    /// Victim filter for reclaim.
    fn reclaimable(
        &self,
        s: &State,
        tiers: &Tiers,
        reclaimer: TaskId,
        candidates: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        None
    }
    /// `UnifiedEvictableFn` (v1.15, gang eviction actions only): the candidates (in bundle
    /// order) this plugin lets the gang action evict for `ctx`. No enable flag gates it: every
    /// plugin that implements it votes (`Tiers::unified_evictable`). `None` = not registered.
    fn unified_evictable(
        &self,
        s: &State,
        ctx: &EvictionContext,
        candidates: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        None
    }
    /// Whether `unified_evictable` judges each candidate on its own: it keeps a candidate or
    /// not whatever else is listed and in whatever order, keeps the input order and never
    /// abstains, so its answer as a set does not depend on the list's order. Default `false`
    /// (safe). Lets the gang actions ask once over the candidates as collected and order only
    /// the bundles they use (`gang_select`).
    fn unified_evictable_per_task(&self) -> bool {
        false
    }
    fn overused(&self, s: &State, q: QueueId) -> Option<bool> {
        None
    }
    fn allocatable(&self, s: &State, q: QueueId, t: TaskId) -> Option<bool> {
        None
    }
    /// `PreemptiveFn`: may queue `q` reclaim for a request of `req` (one task's request for
    /// `reclaim`, the whole pending set's for `gangreclaim`).
    fn preemptive(&self, s: &State, q: QueueId, req: &Resources) -> Option<bool> {
        None
    }
    fn predicate(&self, s: &State, t: TaskId, n: NodeId) -> Option<Result<(), FitError>> {
        None
    }
    fn node_order(&self, s: &State, t: TaskId, n: NodeId) -> Option<f64> {
        None
    }
    /// Event handler: `t` was allocated or pipelined (its status already changed).
    fn on_allocate(&mut self, s: &State, t: TaskId) {}
    /// Event handler: `t` was evicted or un-allocated (its status already changed).
    fn on_deallocate(&mut self, s: &State, t: TaskId) {}
    /// Whether this plugin's event handlers cancel out: deallocate events for tasks followed,
    /// with nothing else changed in between, by allocate events for the same tasks in reverse
    /// order leave the plugin answering as before. Default `false` (safe). Lets a dry run
    /// known to fail skip the events of its evictions and their undo
    /// (`Session::replay_failed_dry_runs`).
    fn events_cancel(&self) -> bool {
        false
    }
    /// `HyperNodeGradientForJobFn` / `HyperNodeGradientForSubJobFn`: candidate HyperNodes
    /// for job `j` at or below `input`, grouped by tier (ascending for `Purpose::Allocate`,
    /// descending and capped for `Purpose::Evict`), given the job's (or sub-job's)
    /// AllocatedHyperNode and minimum resources. `Some(vec![])` = no candidates. Gated by
    /// `enabledHyperNodeGradient`; the first registered plugin decides
    /// (`Tiers::hypernode_gradient`).
    fn hypernode_gradient(
        &self,
        s: &State,
        j: JobId,
        input: HnId,
        allocated: Option<HnId>,
        min_res: &Resources,
        purpose: Purpose,
    ) -> Option<Vec<Vec<HnId>>> {
        None
    }
    /// `HyperNodeOrderFn`: one score per candidate HyperNode for the (default sub-)job `j`.
    /// Gated by `enabledHyperNodeOrder`; summed over plugins.
    fn hypernode_order(&self, s: &State, j: JobId, candidates: &[HnId]) -> Option<Vec<f64>> {
        None
    }
    /// `BatchNodeOrderFn` for a task whose job has a network topology: one score per node of
    /// `nodes`, given the task's running `JobAllocatedHyperNode`. Gated by `enableNodeOrder`.
    fn topology_node_order(
        &self,
        s: &State,
        t: TaskId,
        allocated: Option<HnId>,
        nodes: &[NodeId],
    ) -> Option<Vec<f64>> {
        None
    }
    /// Observation only, never read by a decision: the (cpu milli, memory bytes) `deserved` of
    /// `q` this plugin computed at session open (proportion, capacity), for the simulator's
    /// metrics.
    fn deserved(&self, q: QueueId) -> Option<(f64, f64)> {
        None
    }
}
