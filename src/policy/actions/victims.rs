//! Per-action-run shortcuts shared by preempt and reclaim that never change a decision: a memo
//! of preemptors that already found no node at the current node epoch (`FailMemo`) and job
//! heaps on live-refreshed job-order keys (`JobHeap`); the cross-cycle victim bins live in
//! `policy::accel`. `Session::shortcuts = false` turns them off (tests compare both ways).
//! Depends on policy types only.

use crate::policy::conf::Flag;
use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, TaskId};
use crate::policy::tiers::JobKey;

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
    use crate::policy::session::FirstTie;
    use crate::policy::{parse_scheduler_conf, Scheduler, Snapshot};

    fn rule_names(conf: &str, f: Flag) -> (Vec<Vec<&'static str>>, bool) {
        let conf = parse_scheduler_conf(conf).unwrap();
        let mut snap = Snapshot::new();
        let mut tie = FirstTie;
        let mut sched = Scheduler::new(&conf).unwrap();
        let ssn = sched.session(&mut snap, 0, &mut tie);
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
