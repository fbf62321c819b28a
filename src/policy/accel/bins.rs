//! Per-node bins of possible preempt/reclaim victims by queue, with an upper bound of what
//! they could free, and per phase-A preemptor the nodes found out of reach at their current
//! version (`VictimBins`). Kept across cycles by the `Scheduler`; never changes a decision
//! (`tests/it/policy_properties.rs::shortcuts_never_change_decisions` compares with the
//! shortcuts off). Depends on policy types only.

use std::collections::BTreeMap;

use crate::model::Resources;
use crate::policy::session::Session;
use crate::policy::snapshot::{NodeId, QueueId, TaskId, TaskStatus};

/// One queue's tasks on a node that `preempt` or `reclaim` may consider.
#[derive(Debug, Clone)]
pub struct QueueBin {
    pub queue: QueueId,
    /// Bound/Running tasks with the preemptable flag, in the node's task order.
    pub preemptable: Vec<TaskId>,
    /// Σ request of `preemptable`.
    pub preemptable_sum: Resources,
    /// Σ request of the Running tasks among them (reclaim's reclaimees).
    pub running_sum: Resources,
}

/// Per-node [`QueueBin`]s, rebuilt lazily when a node's version moves. Kept by the scheduler
/// across cycles: every change of a task on a node bumps the node's version (nodes are only
/// ever appended, and a task's queue and preemptable flag never change), so a stale entry is
/// always detected.
#[derive(Debug, Clone, Default)]
pub struct VictimBins {
    nodes: Vec<(u64, Vec<QueueBin>)>,
    /// Phase-A preemptors' nodes found out of reach: per pending task, per node, the node
    /// version at which even every possible victim could not make room. Valid while the node
    /// keeps that version, for victim voters whose `may_be_victim` reads only immutable facts
    /// (`Plugin::may_be_victim_static`); `reach_rule` names those voters (0 = cache off).
    out_of_reach: BTreeMap<TaskId, Vec<u64>>,
    reach_rule: u64,
}

impl VictimBins {
    /// Starts a preempt run: keeps the out-of-reach cache only for the same static voter set
    /// (`rule`: its fingerprint, `None` when some voter's answer can change) and only for
    /// tasks still Pending.
    pub(crate) fn begin_reach(&mut self, ssn: &Session, rule: Option<u64>) {
        let rule = rule.filter(|_| ssn.shortcuts).unwrap_or(0);
        if rule != self.reach_rule || rule == 0 {
            self.out_of_reach.clear();
            self.reach_rule = rule;
            return;
        }
        let snap = ssn.snap();
        self.out_of_reach
            .retain(|&t, _| snap.has_task(t) && snap.task(t).status == TaskStatus::Pending);
    }

    /// Takes `t`'s out-of-reach record (per node, the version it was found out of reach at;
    /// `None` when the cache is off). Give it back with [`VictimBins::put_reach`].
    pub(crate) fn take_reach(&mut self, ssn: &Session, t: TaskId) -> Option<Vec<u64>> {
        if self.reach_rule == 0 {
            return None;
        }
        let nodes = ssn.snap().nodes.len();
        Some(
            self.out_of_reach
                .remove(&t)
                .filter(|v| v.len() == nodes)
                .unwrap_or_else(|| vec![u64::MAX; nodes]),
        )
    }

    pub(crate) fn put_reach(&mut self, t: TaskId, record: Option<Vec<u64>>) {
        if let Some(v) = record {
            self.out_of_reach.insert(t, v);
        }
    }

    /// The node's bins, current for its version.
    pub(crate) fn of(&mut self, ssn: &Session, n: NodeId) -> &[QueueBin] {
        let snap = ssn.snap();
        if self.nodes.len() != snap.nodes.len() {
            self.nodes = vec![(u64::MAX, Vec::new()); snap.nodes.len()];
        }
        let node = &snap.nodes[n.ix()];
        let slot = &mut self.nodes[n.ix()];
        if slot.0 != node.version {
            slot.0 = node.version;
            slot.1.clear();
            for &t in &node.tasks {
                let task = snap.task(t);
                if !task.preemptable || !task.status.is_preemptable() {
                    continue;
                }
                let q = snap.job(task.job).queue;
                let pos = match slot.1.iter().position(|b| b.queue == q) {
                    Some(p) => p,
                    None => {
                        slot.1.push(QueueBin {
                            queue: q,
                            preemptable: Vec::new(),
                            preemptable_sum: Resources::empty(),
                            running_sum: Resources::empty(),
                        });
                        slot.1.len() - 1
                    }
                };
                let bin = &mut slot.1[pos];
                bin.preemptable.push(t);
                bin.preemptable_sum.add(&task.resreq);
                if task.status == TaskStatus::Running {
                    bin.running_sum.add(&task.resreq);
                }
            }
        }
        &slot.1
    }
}
