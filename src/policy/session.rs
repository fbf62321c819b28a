//! One scheduling cycle: `OpenSession` → actions in conf order → `CloseSession`, with the
//! Statement log (allocate / pipeline / evict applied eagerly, committed or discarded) and the
//! decisions the cycle outputs. Sessions are opened by a `policy::Scheduler`, which owns the
//! plugins (built once) and the cross-cycle caches the session borrows.
//!
//! Mirrors volcano pkg/scheduler/framework/{framework.go,session.go,statement.go}. No I/O, no
//! clock: `now` and the tie-breaking RNG are passed in. Depends on `model` and policy types.

use std::collections::{BTreeMap, BTreeSet};

use super::accel::Accel;
use super::conf::{Action, Flag, PluginKind, SchedulerConf};
use super::explain::WaitReason;
use super::plugin::FitError;
use super::plugins;
use super::snapshot::{
    podgroup_phase_with, JobId, NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus,
};
use super::tiers::Tiers;

/// Source of the random choices Volcano makes (equal node scores, sampling offsets).
pub trait TieBreak {
    /// A uniform index in `0..n` (`n ≥ 1`).
    fn pick(&mut self, n: usize) -> usize;
}

/// Always picks the first candidate: for golden tests.
pub struct FirstTie;

impl TieBreak for FirstTie {
    fn pick(&mut self, _n: usize) -> usize {
        0
    }
}

/// What a cycle decided; the cluster model applies these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// PodGroup admitted (Pending → Inqueue).
    Enqueue { job: JobId },
    /// Bind request for a task (status is now Binding).
    Bind { task: TaskId, node: NodeId },
    /// Eviction (pod deletion) of a victim, by `preempt` or `reclaim` on behalf of `preemptor`.
    Evict {
        task: TaskId,
        action: Action,
        preemptor: TaskId,
    },
    /// PodGroup phase written at session close.
    Phase { job: JobId, phase: PodGroupPhase },
}

/// The outcome of one cycle.
#[derive(Debug, Clone, Default)]
pub struct CycleOutput {
    pub decisions: Vec<Decision>,
    /// Tasks that were Pipelined at session close (task, node), before the revert.
    pub pipelined: Vec<(TaskId, NodeId)>,
    /// Why pending jobs wait, as the actions noted it (`Session::note_wait`), in note order; a
    /// job may be noted more than once (the last note is the cycle's answer). Observation
    /// only: never read by the scheduler.
    pub wait_reasons: Vec<(JobId, WaitReason)>,
}

/// What plugins read: the snapshot, the cycle time and the conf.
pub struct State<'a> {
    pub snap: &'a mut Snapshot,
    /// Cycle time, ms.
    pub now: u64,
    pub conf: &'a SchedulerConf,
}

/// An operation recorded by a statement.
#[derive(Debug, Clone, Copy)]
enum Op {
    Allocate(TaskId),
    Pipeline(TaskId, bool),
    Evict(TaskId, TaskStatus, Action, TaskId),
}

/// A transaction over the session (`framework.Statement`).
#[derive(Debug, Default)]
pub struct Statement {
    ops: Vec<Op>,
    /// `Snapshot::node_epoch` before the first operation and after the last one, while every
    /// node change since the first operation was one of this statement's allocations or
    /// pipelines (`None` otherwise): see [`Session::discard_rewinding`].
    epochs: Option<(u64, u64)>,
}

impl Statement {
    pub fn new() -> Statement {
        Statement::default()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn has_evictions(&self) -> bool {
        self.ops.iter().any(|o| matches!(o, Op::Evict(..)))
    }
    /// The tasks the statement allocated (`false`) or pipelined (`true`), in operation order —
    /// what `RecoverOperations` re-applies after a dry run was discarded.
    pub fn placements(&self) -> Vec<(TaskId, bool)> {
        self.ops
            .iter()
            .filter_map(|o| match *o {
                Op::Allocate(t) => Some((t, false)),
                Op::Pipeline(t, _) => Some((t, true)),
                Op::Evict(..) => None,
            })
            .collect()
    }
    /// Moves the operations of `other` into `self` (`Statement.Merge`).
    pub fn merge(&mut self, other: Statement) {
        self.ops.extend(other.ops);
        self.epochs = None;
    }

    /// Notes a placement that moved the node epoch from `before` to `after`: the statement
    /// stays rewindable only while its placements follow each other with no other node change
    /// in between.
    fn placed(&mut self, before: u64, after: u64) {
        self.epochs = match self.epochs {
            None if self.ops.is_empty() => Some((before, after)),
            Some((start, last)) if last == before => Some((start, after)),
            _ => None,
        };
    }
}

/// A scheduling session.
pub struct Session<'a> {
    pub st: State<'a>,
    /// The scheduler's plugins, reset for this session by their `on_session_open`.
    pub tiers: &'a mut Tiers,
    /// The scheduler's cross-cycle caches (`policy::accel`).
    pub accel: &'a mut Accel,
    pub rng: &'a mut dyn TieBreak,
    pub out: CycleOutput,
    /// Tasks moved into a session-only status (reverted at close).
    touched: Vec<TaskId>,
    /// Tasks pipelined with eviction (their nomination is written at close).
    nominate: BTreeMap<TaskId, NodeId>,
    /// Nodes on which a task failed with UnschedulableAndUnresolvable during allocate.
    pub unresolvable: BTreeMap<TaskId, BTreeSet<NodeId>>,
    /// Rotating start index of the predicate scan (`predicate_helper.go`), per session.
    pub scan_start: usize,
    /// Requests that found no feasible node at a given node epoch (plain tasks on a cluster
    /// without taints or cordons only, where nothing else can change the answer).
    pub no_fit: Vec<(u64, u64)>,
    /// `explain::no_fit`'s answers by request at a node epoch (it reads only the request and
    /// every node's FutureIdle, which change only with the epoch): a backlog whose jobs fail
    /// alike is explained once per cycle, not once per job (`explain::no_fit_memo`).
    pub no_fit_why: Vec<(crate::model::Resources, u64, WaitReason)>,
    /// No node has taints or is cordoned (so plain tasks' predicates depend on resources and
    /// pod counts only).
    pub plain_nodes: bool,
    /// The shortcuts that never change a decision: the cross-cycle caches (score cache,
    /// pending order, victim reach) and the walks preempt/reclaim skip (`actions::victims`:
    /// the failed-preemptor memo, node reach bounds, the possible-victim bound). On by default;
    /// tests turn them off (`Scheduler::set_shortcuts`) to check the decisions are the same.
    pub shortcuts: bool,
    /// Node scores depend on more than the node (network-topology-aware with HyperNodes, or
    /// the `nodeorder-double-count` compatibility switch): the score cache is bypassed.
    pub uncached_scores: bool,
}

impl<'a> Session<'a> {
    /// `OpenSession`: calls every plugin's `OnSessionOpen` (tier by tier) on the snapshot as it
    /// is. `score_fingerprint` names the node-scoring configuration the score cache is kept
    /// for. Called by `Scheduler::session`.
    pub(crate) fn open(
        snap: &'a mut Snapshot,
        conf: &'a SchedulerConf,
        tiers: &'a mut Tiers,
        accel: &'a mut Accel,
        score_fingerprint: u64,
        now: u64,
        rng: &'a mut dyn TieBreak,
    ) -> Session<'a> {
        accel.classes.prepare(score_fingerprint);
        let plain_nodes = snap
            .nodes
            .iter()
            .all(|n| n.taints.is_empty() && !n.unschedulable);
        // Mirrors openSession: the jobs' AllocatedHyperNodes are cleaned and recovered before
        // any plugin opens (no-op without HyperNodes).
        super::topology::job::open_session(snap);
        // With HyperNodes, network-topology-aware node scores read HyperNode-wide sums, which
        // the per-node score cache cannot key.
        let uncached_scores = (!snap.topology.is_empty()
            && conf.tiers.iter().flatten().any(|p| {
                p.kind() == PluginKind::NetworkTopologyAware && p.flags.has(Flag::NodeOrder)
            }))
            // DRIFT F (`Compat`): nodeorder's scores then depend on what the session placed.
            || conf.compat.nodeorder_double_count;
        let st = State { snap, now, conf };
        for slot in tiers.tiers.iter_mut().flatten() {
            slot.plugin.on_session_open(&st);
        }
        Session {
            st,
            tiers,
            accel,
            rng,
            out: CycleOutput::default(),
            touched: Vec::new(),
            nominate: BTreeMap::new(),
            unresolvable: BTreeMap::new(),
            scan_start: usize::MAX,
            no_fit: Vec::new(),
            no_fit_why: Vec::new(),
            plain_nodes,
            shortcuts: true,
            uncached_scores,
        }
    }

    /// Runs the conf's actions in order.
    pub fn run_actions(&mut self) {
        let actions = self.st.conf.actions.clone();
        for a in actions {
            super::actions::run(self, a);
        }
    }

    pub fn snap(&self) -> &Snapshot {
        self.st.snap
    }

    fn fire_allocate(&mut self, t: TaskId) {
        for slot in self.tiers.tiers.iter_mut().flatten() {
            slot.plugin.on_allocate(&self.st, t);
        }
    }
    fn fire_deallocate(&mut self, t: TaskId) {
        for slot in self.tiers.tiers.iter_mut().flatten() {
            slot.plugin.on_deallocate(&self.st, t);
        }
    }

    /// `Statement.Allocate`: task → Allocated on `node`.
    pub fn allocate(&mut self, stmt: &mut Statement, t: TaskId, node: NodeId) {
        let before = self.st.snap.node_epoch;
        self.st
            .snap
            .set_status(t, TaskStatus::Allocated, Some(node));
        stmt.placed(before, self.st.snap.node_epoch);
        self.touched.push(t);
        self.fire_allocate(t);
        stmt.ops.push(Op::Allocate(t));
    }

    /// `Statement.Pipeline`: task → Pipelined on `node` (reserves FutureIdle).
    pub fn pipeline(
        &mut self,
        stmt: &mut Statement,
        t: TaskId,
        node: NodeId,
        eviction_occurred: bool,
    ) {
        let before = self.st.snap.node_epoch;
        self.st
            .snap
            .set_status(t, TaskStatus::Pipelined, Some(node));
        stmt.placed(before, self.st.snap.node_epoch);
        self.touched.push(t);
        self.fire_allocate(t);
        stmt.ops.push(Op::Pipeline(t, eviction_occurred));
    }

    /// `Statement.Evict`: victim → Releasing.
    pub fn evict(
        &mut self,
        stmt: &mut Statement,
        victim: TaskId,
        action: Action,
        preemptor: TaskId,
    ) {
        let prev = self.st.snap.task(victim).status;
        self.st.snap.update_status(victim, TaskStatus::Releasing);
        self.fire_deallocate(victim);
        // Undoing an eviction re-files the victim last on its node: not a rewindable change.
        stmt.epochs = None;
        stmt.ops.push(Op::Evict(victim, prev, action, preemptor));
    }

    /// What failed dry runs leave behind, without running them: the k-th evicting
    /// `victims[..lens[k]]` in order and then discarding those evictions (`lens` ascending).
    /// The plugins see each run's deallocate events and then its allocate events in reverse
    /// order (skipped when every plugin's events cancel out; the victims keep their statuses
    /// meanwhile, which leaves no handler's state different: the handlers read a victim's
    /// node and request, and drf's rebuild ends on the restored statuses either way), and
    /// the snapshot re-files the
    /// victims as the evictions and their undo would (`Snapshot::refile_evicted`).
    pub fn replay_failed_dry_runs(&mut self, victims: &[TaskId], lens: &[usize]) {
        if !self.tiers.events_cancel() {
            for &len in lens {
                for &v in &victims[..len] {
                    self.fire_deallocate(v);
                }
                for &v in victims[..len].iter().rev() {
                    self.fire_allocate(v);
                }
            }
        }
        self.st.snap.refile_evicted(victims, lens);
    }

    /// `Statement.Discard`: undo every operation in reverse order.
    pub fn discard(&mut self, stmt: Statement) {
        for op in stmt.ops.into_iter().rev() {
            match op {
                Op::Allocate(t) | Op::Pipeline(t, _) => {
                    self.st.snap.set_status(t, TaskStatus::Pending, None);
                    self.fire_deallocate(t);
                }
                Op::Evict(t, prev, _, _) => {
                    self.st.snap.update_status(t, prev);
                    self.fire_allocate(t);
                }
            }
        }
    }

    /// `discard`, and when the statement's placements were the only node changes since its
    /// first one (no eviction, no merge), rewinds `Snapshot::node_epoch` to its value before
    /// them and forgets the no-fit memos taken since. Undoing placements in reverse order puts
    /// every node back exactly (Used, Pipelined, Idle, FutureIdle, the node's task list in its
    /// order), so the nodes are in the very state that epoch named and a no-fit found at it
    /// still holds: a gang that did not fit then leaves the memo usable for the next job with
    /// the same request. Only allocate calls this; the memos keyed by epoch elsewhere
    /// (`actions::victims`) live within one preempt or reclaim run and never see a rewind.
    pub fn discard_rewinding(&mut self, stmt: Statement) {
        let rewind = match stmt.epochs {
            Some((start, last)) if self.shortcuts && last == self.st.snap.node_epoch => Some(start),
            _ => None,
        };
        self.discard(stmt);
        if let Some(start) = rewind {
            self.st.snap.node_epoch = start;
            self.no_fit.retain(|&(_, epoch)| epoch <= start);
            self.no_fit_why.retain(|&(_, epoch, _)| epoch <= start);
        }
    }

    /// `Statement.Commit`: evictions become pod deletions, allocations bind requests;
    /// pipelines send nothing (their nomination is kept when an eviction occurred).
    pub fn commit(&mut self, stmt: Statement) {
        for op in stmt.ops {
            match op {
                Op::Evict(t, _, action, preemptor) => {
                    self.out.decisions.push(Decision::Evict {
                        task: t,
                        action,
                        preemptor,
                    });
                }
                Op::Pipeline(t, eviction) => {
                    if eviction {
                        if let Some(n) = self.st.snap.task(t).node {
                            self.nominate.insert(t, n);
                        }
                    }
                }
                Op::Allocate(t) => self.dispatch(t),
            }
        }
    }

    /// Sends a bind request for an Allocated task (status → Binding).
    pub fn dispatch(&mut self, t: TaskId) {
        let node = self
            .st
            .snap
            .task(t)
            .node
            .expect("allocated task has a node");
        self.st.snap.update_status(t, TaskStatus::Binding);
        self.out.decisions.push(Decision::Bind { task: t, node });
    }

    /// `ssn.Allocate` outside a statement (backfill): allocate, and if the job is then ready,
    /// dispatch all of its Allocated tasks.
    pub fn allocate_direct(&mut self, t: TaskId, node: NodeId) {
        let mut stmt = Statement::new();
        self.allocate(&mut stmt, t, node);
        let job = self.st.snap.task(t).job;
        if self.tiers.job_ready(&self.st, job) {
            let allocated: Vec<TaskId> = self
                .st
                .snap
                .job(job)
                .tasks
                .iter()
                .copied()
                .filter(|&x| self.st.snap.task(x).status == TaskStatus::Allocated)
                .collect();
            for x in allocated {
                self.dispatch(x);
            }
        }
    }

    /// Marks a job Inqueue (enqueue action, or allocate without enqueue).
    pub fn set_inqueue(&mut self, j: JobId) {
        self.st.snap.set_phase(j, PodGroupPhase::Inqueue);
        self.out.decisions.push(Decision::Enqueue { job: j });
    }

    /// Notes why job `j` waits this cycle (`policy::explain`). Observation only: changes no
    /// state a decision reads.
    pub fn note_wait(&mut self, j: JobId, why: WaitReason) {
        self.out.wait_reasons.push((j, why));
    }

    /// Records a fit failure that preemption cannot resolve.
    pub fn record_unresolvable(&mut self, t: TaskId, n: NodeId, e: &FitError) {
        if e.unresolvable {
            self.unresolvable.entry(t).or_default().insert(n);
        }
    }

    /// `CloseSession`: gang conditions, PodGroup phases, then the session-only statuses are
    /// reverted (Pipelined and uncommitted Allocated tasks go back to Pending).
    pub fn close(mut self) -> CycleOutput {
        let gang = self.tiers.has_plugin(PluginKind::Gang);
        // Only jobs changed since the last close can change phase or gang condition.
        let jobs: Vec<JobId> = {
            let snap = &mut *self.st.snap;
            snap.idx.take_dirty(&mut snap.jobs)
        };
        for &j in &jobs {
            if !self.st.snap.job(j).live {
                continue;
            }
            if gang {
                let unsched = {
                    let job = self.st.snap.job(j);
                    !job.tasks.is_empty()
                        && !job.is_ready()
                        && !plugins::gang::skip_unschedulable_for_releasing(self.st.snap, j)
                };
                self.st.snap.jobs[j.ix()].unschedulable = unsched;
            }
            let phase = podgroup_phase_with(
                self.st.snap.job(j),
                self.st.snap,
                self.st.conf.compat.phase_counts_allocated,
            );
            if phase != self.st.snap.job(j).phase {
                self.st.snap.set_phase(j, phase);
                self.out.decisions.push(Decision::Phase { job: j, phase });
            }
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for t in touched {
            let task = self.st.snap.task(t);
            match task.status {
                TaskStatus::Pipelined => {
                    let node = task.node.expect("pipelined task has a node");
                    self.out.pipelined.push((t, node));
                    self.st.snap.set_status(t, TaskStatus::Pending, None);
                }
                TaskStatus::Allocated => self.st.snap.set_status(t, TaskStatus::Pending, None),
                _ => {}
            }
        }
        for (t, n) in std::mem::take(&mut self.nominate) {
            self.st.snap.tasks[t.ix()].nominated_node = Some(n);
        }
        // What close itself changed (phases written, session-only statuses reverted) cannot
        // change a phase again without a further change, so it does not make jobs dirty.
        let snap = &mut *self.st.snap;
        snap.idx.take_dirty(&mut snap.jobs);
        self.out
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
