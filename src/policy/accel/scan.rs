//! allocate's placement of a plain task (no node selector, no tolerations, on untainted and
//! uncordoned nodes, `predicates` the only predicate plugin) through the node classes: the
//! class scan (`classes/walk.rs`) finds the feasible nodes with Volcano's sampling, counted
//! per class or by one pass over the class column, then the choice — nodes fitting Idle
//! first, best score, random tie-break — is made per class, and only the drawn node is looked
//! up. Allocates nothing per task.
//!
//! Exact: the nodes found, the rotating scan start, the no-fit memo, every score and every
//! draw (how many, over how many ties) are those of the per-node path
//! (`actions::allocate::predicate_nodes` and `prioritize` with the shortcuts off), which
//! `tests/it/policy_properties.rs::shortcuts_never_change_decisions` compares. Depends on
//! policy types only.

use super::classes::FITS_IDLE;
use super::request_key;
use crate::policy::actions::num_nodes_to_find;
use crate::policy::session::Session;
use crate::policy::snapshot::{NodeId, TaskId};

/// Finds the node allocate gives plain task `t` (`predicateNodes` + `prioritizeNodes` +
/// `SelectBestNode`), or `None` when no node passes; moves the session's rotating scan start
/// and records a no-fit exactly as the per-node scan does. Shortcuts on only.
pub(crate) fn place_plain(ssn: &mut Session, t: TaskId) -> Option<NodeId> {
    let n = ssn.snap().nodes.len();
    let req = ssn.snap().task(t).resreq;
    let memo = (request_key(&req), ssn.snap().node_epoch);
    if ssn.no_fit.contains(&memo) {
        // Same request, no node changed since a scan found nothing.
        return None;
    }
    let want = num_nodes_to_find(n);
    if n > 100 && ssn.scan_start == usize::MAX {
        ssn.scan_start = ssn.rng.pick(n);
    }
    let start = if n > 100 { ssn.scan_start } else { 0 };
    ssn.accel.classes.sync(ssn.st.snap);
    let stamp = ssn.accel.classes.begin();
    let mut found = std::mem::take(&mut ssn.accel.feasible);
    let scanned = {
        let (snap, classes) = (&*ssn.st.snap, &mut ssn.accel.classes);
        classes.scan(snap, &req, stamp, start, want, &mut found)
    };
    if n > 100 {
        ssn.scan_start = (start + scanned.visited) % n;
    }
    let node = if scanned.found == 0 {
        ssn.no_fit.push(memo);
        None
    } else {
        let listed = scanned.listed.then_some(&found[..]);
        Some(choose(ssn, t, stamp, start, listed))
    };
    ssn.accel.feasible = found;
    node
}

/// `prioritize` + `best_node` over the scan's `found` nodes, per class: the candidates are
/// the found nodes fitting Idle if there are any, else all found; a single candidate is taken
/// unscored, without scorers one is drawn among all, else the draw is among the candidates
/// with the best score. The `i`-th of the chosen nodes in scan order is the per-node path's
/// `ties[i]`. `listed` has the found nodes in walk order, unless the scan met every node from
/// `start` round without listing them.
fn choose(
    ssn: &mut Session,
    t: TaskId,
    stamp: u32,
    start: usize,
    listed: Option<&[NodeId]>,
) -> NodeId {
    let req = ssn.snap().task(t).resreq;
    let classes = &mut ssn.accel.classes;
    let any_idle = classes.seen().iter().any(|&c| {
        let (bits, count, _) = classes.met(c);
        count > 0 && bits & FITS_IDLE != 0
    });
    let mut candidates = 0u32;
    for i in 0..classes.seen().len() {
        let c = classes.seen()[i];
        let (bits, count, _) = classes.met(c);
        let keep = count > 0 && (!any_idle || bits & FITS_IDLE != 0);
        classes.set_mark(c, keep);
        if keep {
            candidates += count;
        }
    }
    // The number of nodes of the marked classes (those the draw is among).
    let mut chosen = candidates;
    let draw = if candidates == 1 {
        0
    } else if !ssn.tiers.scores_nodes() {
        ssn.rng.pick(candidates as usize)
    } else {
        let mut best = f64::NEG_INFINITY;
        for i in 0..ssn.accel.classes.seen().len() {
            let c = ssn.accel.classes.seen()[i];
            if ssn.accel.classes.marked(c) {
                let rep = ssn.accel.classes.met(c).2;
                best = best.max(ssn.class_score(t, rep, &req, stamp));
            }
        }
        let mut ties = 0u32;
        for i in 0..ssn.accel.classes.seen().len() {
            let classes = &mut ssn.accel.classes;
            let c = classes.seen()[i];
            if classes.marked(c) {
                let tie = classes.memo_score(c, stamp) == Some(best);
                classes.set_mark(c, tie);
                if tie {
                    ties += classes.met(c).1;
                }
            }
        }
        chosen = ties;
        if ties == 1 {
            0
        } else {
            ssn.rng.pick(ties as usize)
        }
    };
    let classes = &ssn.accel.classes;
    let Some(found_nodes) = listed else {
        return classes.nth_marked(start, draw);
    };
    if chosen as usize == found_nodes.len() {
        // Every found node is among the chosen: the draw indexes `found` itself.
        return found_nodes[draw];
    }
    found_nodes
        .iter()
        .copied()
        .filter(|&n| classes.marked(classes.class_of(n)))
        .nth(draw)
        .expect("the draw is below the number of chosen nodes")
}

#[cfg(test)]
mod tests {
    //! The class scan against the per-node reference on clusters above 100 nodes (node
    //! sampling and the rotating start in play), with a drawing tie-break, for confs with and
    //! without node scorers, over cycles with churn.

    use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, ResourceName, Resources};
    use crate::policy::session::TieBreak;
    use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus};
    use crate::policy::{parse_scheduler_conf, Decision, Scheduler, SchedulerConf};

    /// A seeded draw that is not always 0, so ties and the scan start are exercised.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    impl TieBreak for Lcg {
        fn pick(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn cluster(seed: u64) -> Snapshot {
        let mut g = Lcg(seed);
        let mut snap = Snapshot::new();
        let nodes = 101 + (g.next() % 200) as usize;
        for i in 0..nodes {
            // Two node shapes, some with few pod slots.
            let cpu = if g.next().is_multiple_of(3) {
                16_000
            } else {
                8_000
            };
            let mut a = Resources::cpu_mem(cpu, cpu << 20);
            a.set(
                ResourceName::PODS,
                if g.next().is_multiple_of(4) { 3 } else { 110 },
            );
            snap.add_node(&NodeSpec {
                name: format!("n{i}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            });
        }
        for q in 0..3 {
            snap.add_queue(&QueueSpec::new(&format!("q{q}"), q + 1));
        }
        for j in 0..400u64 {
            let replicas = 1 + (g.next() % 4) as u32;
            let min = if g.next().is_multiple_of(2) {
                replicas
            } else {
                1
            };
            let cpu = 1000 * (1 + (g.next() % 6) as i64);
            let pg = PodGroupSpec {
                namespace: "ns".into(),
                name: format!("j{j}"),
                queue: format!("q{}", g.next() % 3),
                min_member: min,
                ..Default::default()
            };
            // A third of the jobs already run somewhere, so nodes differ in their use.
            let running = g.next().is_multiple_of(3);
            let phase = if running {
                PodGroupPhase::Running
            } else {
                PodGroupPhase::Pending
            };
            let jid = snap.add_job(&pg, phase, j).unwrap();
            for k in 0..replicas {
                let pod = PodSpec {
                    namespace: "ns".into(),
                    name: format!("j{j}-t-{k}"),
                    requests: Resources::cpu_mem(cpu, cpu << 20),
                    ..Default::default()
                };
                let start = g.next() as usize % nodes;
                let node = running
                    .then(|| {
                        (0..nodes)
                            .map(|i| NodeId(((start + i) % nodes) as u32))
                            .find(|n| {
                                let info = &snap.nodes[n.ix()];
                                pod.requests.fits_in(&info.idle)
                                    && (info.pod_count() as i64) < info.allocatable.pods()
                            })
                    })
                    .flatten();
                let status = if node.is_some() {
                    TaskStatus::Running
                } else {
                    TaskStatus::Pending
                };
                snap.add_task(jid, &pod, status, node, j);
            }
        }
        snap
    }

    /// Binding → Running, and every seventh Running task of the cycle's parity completes.
    fn churn(snap: &mut Snapshot, cycle: u64) {
        for i in 0..snap.tasks.len() {
            let t = TaskId(i as u32);
            match snap.task(t).status {
                TaskStatus::Binding => snap.update_status(t, TaskStatus::Running),
                TaskStatus::Running if (i as u64 + cycle).is_multiple_of(7) => snap.remove_task(t),
                _ => {}
            }
        }
    }

    fn compare(conf: &SchedulerConf, seed: u64) {
        let mut fast_sched = Scheduler::new(conf).unwrap();
        let mut slow_sched = Scheduler::new(conf).unwrap();
        slow_sched.set_shortcuts(false);
        let (mut fast, mut slow) = (cluster(seed), cluster(seed));
        let (mut fast_rng, mut slow_rng) = (Lcg(seed ^ 0xabc), Lcg(seed ^ 0xabc));
        let mut binds = 0;
        for c in 0..5u64 {
            let a = fast_sched
                .cycle(&mut fast, c * 1000, &mut fast_rng)
                .decisions;
            let b = slow_sched
                .cycle(&mut slow, c * 1000, &mut slow_rng)
                .decisions;
            assert_eq!(a, b, "seed {seed}, cycle {c}");
            binds += a
                .iter()
                .filter(|d| matches!(d, Decision::Bind { .. }))
                .count();
            churn(&mut fast, c);
            churn(&mut slow, c);
        }
        assert!(binds > 0, "seed {seed}: the cycles place pods");
    }

    #[test]
    fn class_scan_decides_as_the_per_node_scan_with_scorers() {
        let conf = SchedulerConf::helm_default();
        for seed in 1..=6 {
            compare(&conf, seed);
        }
    }

    #[test]
    fn class_scan_decides_as_the_per_node_scan_without_scorers() {
        let conf = parse_scheduler_conf(
            "actions: \"enqueue, allocate, backfill\"\ntiers:\n- plugins:\n  - name: gang\n  - name: predicates\n",
        )
        .unwrap();
        for seed in 7..=10 {
            compare(&conf, seed);
        }
    }
}
