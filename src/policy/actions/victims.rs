//! Shortcuts shared by preempt and reclaim that never change a decision: per-node bins of
//! possible victims by queue (with an upper bound of what they could free) and, per phase-A
//! preemptor, the nodes found out of reach at their current version (`VictimBins`); a memo of
//! preemptors that already found no node at the current node epoch (`FailMemo`); job heaps on
//! live-refreshed job-order keys (`JobHeap`). `Session::shortcuts = false` turns them off
//! (tests compare both ways). Depends on policy types only.

use std::collections::BTreeMap;

use crate::model::Resources;
use crate::policy::conf::Flag;
use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, NodeId, QueueId, TaskId, TaskStatus};
use crate::policy::tiers::JobKey;

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

/// Per-node [`QueueBin`]s, rebuilt lazily when a node's version moves. Kept in the snapshot
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
        self.out_of_reach.retain(|&t, _| {
            t.ix() < snap.tasks.len() && snap.task(t).status == TaskStatus::Pending
        });
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

/// Preemptors (or reclaimers) that found no node at a given node epoch, for one action run.
///
/// `preempt_task`/`reclaim_for_task` are pure functions of the session state and of the
/// preemptor's job, request, priorities, placement constraints and nomination; every state
/// change they or anyone else can make moves a node and so bumps `Snapshot::node_epoch`. A task
/// that looks the same as one that already failed at the current epoch would fail the same way
/// (same nodes, same candidates, same plugin votes), so its walk is skipped. Tasks of different
/// jobs look the same when neither job has a task on a node (so no candidate belongs to
/// either), the jobs share a queue, and every victim voter gives them equal
/// [`Plugin::victim_vote_key`](crate::policy::plugin::Plugin::victim_vote_key)s. Tasks holding
/// a nomination are never memoised (their eligibility reads the nominated node).
pub(crate) struct FailMemo {
    flag: Flag,
    epoch: u64,
    failed: Vec<(TaskId, Option<Vec<i64>>)>,
}

impl FailMemo {
    /// A memo for the `Preemptable` or `Reclaimable` walk.
    pub(crate) fn new(flag: Flag) -> FailMemo {
        FailMemo {
            flag,
            epoch: 0,
            failed: Vec::new(),
        }
    }

    /// Whether a task like `t` already failed at the current epoch.
    pub(crate) fn known_to_fail(&mut self, ssn: &Session, t: TaskId) -> bool {
        if !ssn.shortcuts {
            return false;
        }
        if self.epoch != ssn.snap().node_epoch {
            self.failed.clear();
            return false;
        }
        if self.failed.is_empty() {
            return false;
        }
        let mut keys: Option<Option<Vec<i64>>> = None;
        for (f, fk) in &self.failed {
            match same_task(ssn, *f, t) {
                None => {}
                Some(true) => return true,
                Some(false) => {
                    let keys = keys.get_or_insert_with(|| self.keys(ssn, t));
                    if same_job_view(ssn, *f, fk, t, keys) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Records that `t` failed in an attempt that started at node epoch `started` (an attempt
    /// that changed state and rolled it back is not recorded: node task order may differ).
    pub(crate) fn record(&mut self, ssn: &Session, t: TaskId, started: u64) {
        let epoch = ssn.snap().node_epoch;
        if epoch != started || ssn.snap().task(t).nominated_node.is_some() {
            return;
        }
        if self.epoch != epoch {
            self.epoch = epoch;
            self.failed.clear();
        }
        let keys = self.keys(ssn, t);
        self.failed.push((t, keys));
    }

    /// The voters' keys, for a task whose job has no task on a node (else `None`).
    fn keys(&self, ssn: &Session, t: TaskId) -> Option<Vec<i64>> {
        let snap = ssn.snap();
        let job = snap.job_of(t);
        if job.tasks.iter().any(|&x| snap.task(x).node.is_some()) {
            return None;
        }
        ssn.tiers.victim_vote_keys(self.flag, &ssn.st, t)
    }
}

/// Whether two pending tasks look alike in everything but their job: `None` if not, else
/// whether they are of the same job.
fn same_task(ssn: &Session, a: TaskId, b: TaskId) -> Option<bool> {
    let snap = ssn.snap();
    let (x, y) = (snap.task(a), snap.task(b));
    let alike = x.resreq == y.resreq
        && x.priority == y.priority
        && x.best_effort == y.best_effort
        && x.preemption_never == y.preemption_never
        && x.nominated_node.is_none()
        && y.nominated_node.is_none()
        && x.node_selector == y.node_selector
        && x.tolerations == y.tolerations
        && ssn.unresolvable.get(&a) == ssn.unresolvable.get(&b);
    alike.then_some(x.job == y.job)
}

/// Whether tasks of two different jobs get the same answers (`ak`/`bk`: their voter keys).
fn same_job_view(
    ssn: &Session,
    a: TaskId,
    ak: &Option<Vec<i64>>,
    b: TaskId,
    bk: &Option<Vec<i64>>,
) -> bool {
    let snap = ssn.snap();
    let (xj, yj) = (snap.job_of(a), snap.job_of(b));
    xj.queue == yj.queue && xj.live == yj.live && ak.is_some() && ak == bk
}

/// A job heap in job order for preempt and reclaim, comparing precomputed job-order keys
/// instead of asking the plugins at every comparison. Volcano's heap compares live values, so
/// the keys are recomputed in place (without moving anything) whenever any node changed since
/// they were taken: every job-order input (gang readiness, drf share) changes only with a task
/// on a node. Comparisons then give exactly what the comparator heap would.
#[derive(Default)]
pub(crate) struct JobHeap {
    heap: PriorityQueue<JobKey>,
    epoch: u64,
}

impl JobHeap {
    fn refresh(&mut self, ssn: &Session) {
        let epoch = ssn.snap().node_epoch;
        if epoch != self.epoch {
            self.epoch = epoch;
            self.heap.refresh(|k| *k = key(ssn, k.job));
        }
    }

    pub(crate) fn push(&mut self, ssn: &Session, j: JobId) {
        self.refresh(ssn);
        self.heap
            .push(key(ssn, j), |a, b| ssn.tiers.key_less(&ssn.st, &a, &b));
    }

    pub(crate) fn pop(&mut self, ssn: &Session) -> Option<JobId> {
        self.refresh(ssn);
        self.heap
            .pop(|a, b| ssn.tiers.key_less(&ssn.st, &a, &b))
            .map(|k| k.job)
    }
}

/// The job's order key; without shortcuts a key that makes every comparison ask the plugins.
fn key(ssn: &Session, j: JobId) -> JobKey {
    let mut k = ssn.tiers.job_key_or_slow(&ssn.st, j);
    k.exact &= ssn.shortcuts;
    k
}

#[cfg(test)]
mod tests {
    use crate::policy::conf::Flag;
    use crate::policy::session::{FirstTie, Session};
    use crate::policy::{parse_scheduler_conf, Snapshot};

    fn rule_names(conf: &str, f: Flag) -> (Vec<Vec<&'static str>>, bool) {
        let conf = parse_scheduler_conf(conf).unwrap();
        let mut snap = Snapshot::new();
        let mut tie = FirstTie;
        let ssn = Session::open(&mut snap, &conf, 0, &mut tie);
        let rule = ssn.tiers.victim_rule(f);
        let names = rule
            .iter()
            .map(|all| {
                all.iter()
                    .map(|&(t, x)| ssn.tiers.tiers[t as usize][x as usize].plugin.name())
                    .collect()
            })
            .collect();
        (names, ssn.tiers.static_rule_id(&rule).is_some())
    }

    #[test]
    fn victim_rule_follows_the_tier_walk() {
        // Helm default: tier 1 has three preempt voters, so #5963 re-seeding lets the last one
        // (conformance) decide alone; tier 2 has drf alone.
        let helm = "actions: \"enqueue, allocate, preempt, reclaim\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n- plugins:\n  - name: overcommit\n  - name: drf\n  - name: predicates\n  - name: proportion\n  - name: nodeorder\n";
        let (pre, pre_static) = rule_names(helm, Flag::Preemptable);
        assert_eq!(pre, vec![vec!["conformance"], vec!["drf"]]);
        assert!(pre_static);
        // Reclaim: gang and conformance (two voters: both must hold), then proportion, whose
        // answer moves with the queues' allocation (not static).
        let (rec, rec_static) = rule_names(helm, Flag::Reclaimable);
        assert_eq!(rec, vec![vec!["gang", "conformance"], vec!["proportion"]]);
        assert!(!rec_static);
        // Two voters in a tier: the intersection of both.
        let two = "actions: \"preempt\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n    enablePreemptable: false\n  - name: conformance\n";
        let (two_rule, two_static) = rule_names(two, Flag::Preemptable);
        assert_eq!(two_rule, vec![vec!["priority", "conformance"]]);
        assert!(two_static);
    }
}
