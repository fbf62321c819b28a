//! Property tests of the policy core on random small clusters: over several cycles with every
//! action on (enqueue, allocate, backfill, preempt, reclaim), no node is ever over-allocated
//! (Releasing tasks counted), a victim is never a critical pod, reclaim never takes from a
//! non-reclaimable queue, preempt only within the preemptor's queue, and a gang that has fewer
//! than minMember scheduled pods is never reported Running.

use proptest::prelude::*;

use volsim::model::{
    NodeSpec, PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec, ResourceName, Resources,
};
use volsim::policy::snapshot::{PodGroupPhase, Snapshot, TaskStatus};
use volsim::policy::{parse_scheduler_conf, Action, Decision, FirstTie, Scheduler, TaskId};

/// Every tier that can name victims ends with `conformance`. In Volcano a critical pod is only
/// safe when conformance is asked last in the tier that decides: an empty answer earlier in the
/// tier falls through to the next tier (#2147, case
/// `quirk-2147-critical-pod-reclaimed-through-fallthrough`), and an empty intersection is
/// re-seeded by the next plugin of the same tier (#5963, case
/// `quirk-5963-critical-pod-preempted-through-reseed`).
const CONF: &str = r#"actions: "enqueue, allocate, backfill, preempt, reclaim"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
  - name: conformance
"#;

#[derive(Debug, Clone)]
struct JobGen {
    queue: usize,
    replicas: u32,
    min: u32,
    cpu: i64,
    high: bool,
    critical: bool,
    running: u32,
}

fn job_gen() -> impl Strategy<Value = JobGen> {
    (
        0usize..3,
        1u32..4,
        1u32..4,
        1i64..4,
        any::<bool>(),
        prop::bool::weighted(0.15),
        0u32..4,
    )
        .prop_map(
            |(queue, replicas, min, cpu, high, critical, running)| JobGen {
                queue,
                replicas,
                min: min.min(replicas),
                cpu,
                high,
                critical,
                running: running.min(replicas),
            },
        )
}

fn build(nodes: &[(i64, i64)], reclaimable: &[bool], jobs: &[JobGen]) -> Snapshot {
    let mut snap = Snapshot::new();
    snap.add_priority_class(PriorityClassSpec {
        name: "high".into(),
        value: 1000,
        global_default: false,
        preemption_never: false,
    });
    snap.add_priority_class(PriorityClassSpec {
        name: "low".into(),
        value: 10,
        global_default: false,
        preemption_never: false,
    });
    for (i, &(cpu, pods)) in nodes.iter().enumerate() {
        let mut alloc = Resources::cpu_mem(cpu * 1000, cpu << 30);
        alloc.set(ResourceName::PODS, pods);
        snap.add_node(&NodeSpec {
            name: format!("n{i}"),
            allocatable: alloc,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
    }
    for (i, &r) in reclaimable.iter().enumerate() {
        let mut q = QueueSpec::new(&format!("q{i}"), 1 + i as u32);
        q.reclaimable = r;
        snap.add_queue(&q);
    }
    for (j, g) in jobs.iter().enumerate() {
        let ns = if g.critical { "kube-system" } else { "default" };
        let req = Resources::cpu_mem(g.cpu * 1000, g.cpu << 30);
        let pg = PodGroupSpec {
            namespace: ns.into(),
            name: format!("job{j}"),
            queue: format!("q{}", g.queue % reclaimable.len()),
            min_member: g.min,
            priority_class: Some(if g.high { "high" } else { "low" }.into()),
            min_resources: Some(req.times(g.min as i64)),
            ..Default::default()
        };
        let phase = if g.running > 0 {
            PodGroupPhase::Running
        } else {
            PodGroupPhase::Pending
        };
        let jid = snap.add_job(&pg, phase, j as u64).unwrap();
        for k in 0..g.replicas {
            let pod = PodSpec {
                namespace: ns.into(),
                name: format!("job{j}-t-{k}"),
                requests: req,
                ..Default::default()
            };
            // Place initial running pods where they fit, else leave them Pending.
            let mut placed = None;
            if k < g.running {
                for n in 0..snap.nodes.len() {
                    let mut need = req;
                    need.set(ResourceName::PODS, 1);
                    if need.fits_in(&snap.nodes[n].idle) {
                        placed = Some(volsim::policy::NodeId(n as u32));
                        break;
                    }
                }
            }
            let status = if placed.is_some() {
                TaskStatus::Running
            } else {
                TaskStatus::Pending
            };
            snap.add_task(jid, &pod, status, placed, j as u64);
        }
    }
    snap
}

fn check_nodes(snap: &Snapshot) -> Result<(), TestCaseError> {
    for n in &snap.nodes {
        let mut used = Resources::empty();
        for &t in &n.tasks {
            let task = snap.task(t);
            if task.status != TaskStatus::Pipelined {
                used.add(&task.resreq);
            }
        }
        prop_assert!(
            used.fits_in(&n.allocatable),
            "node {} over-allocated: used {} > {}",
            n.name,
            used,
            n.allocatable
        );
        prop_assert!(
            n.idle.cpu() >= 0 && n.idle.memory() >= 0 && n.idle.pods() >= 0,
            "negative idle on {}",
            n.name
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_over_cycles(
        nodes in prop::collection::vec((2i64..9, 3i64..8), 1..4),
        reclaimable in prop::collection::vec(any::<bool>(), 1..4),
        jobs in prop::collection::vec(job_gen(), 1..7),
    ) {
        let conf = parse_scheduler_conf(CONF).unwrap();
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut snap = build(&nodes, &reclaimable, &jobs);
        check_nodes(&snap)?;
        for cycle in 0..4u64 {
            let out = sched.cycle(&mut snap, cycle * 1000, &mut FirstTie);
            check_nodes(&snap)?;
            for d in &out.decisions {
                if let Decision::Evict { task, action, preemptor } = d {
                    let v = snap.task(*task);
                    prop_assert!(!v.critical, "critical pod {} evicted", v.key());
                    let vq = snap.job(v.job).queue;
                    let pq = snap.queue_of_task(*preemptor);
                    match action {
                        Action::Reclaim => {
                            prop_assert!(snap.queues[vq.ix()].reclaimable, "reclaim took {} from non-reclaimable queue", v.key());
                            prop_assert!(vq != pq, "reclaim within one queue");
                        }
                        Action::Preempt => prop_assert_eq!(vq, pq, "preempt across queues"),
                        _ => {}
                    }
                }
            }
            for j in snap.live_jobs() {
                let job = snap.job(j);
                let scheduled = job.tasks.iter().filter(|&&t| snap.task(t).status.is_scheduled()).count() as u32;
                if job.phase == PodGroupPhase::Running {
                    let with_releasing = scheduled + job.tasks.iter().filter(|&&t| snap.task(t).status == TaskStatus::Releasing && snap.task(t).node.is_some()).count() as u32;
                    prop_assert!(with_releasing >= job.min_available, "job {} Running with {} < minMember {}", job.uid, with_releasing, job.min_available);
                }
            }
            // The cluster acts between cycles: binds land, evicted pods go away and come back Pending.
            for i in 0..snap.tasks.len() {
                let t = TaskId(i as u32);
                if !snap.job(snap.task(t).job).tasks.contains(&t) {
                    continue;
                }
                match snap.task(t).status {
                    TaskStatus::Binding => snap.update_status(t, TaskStatus::Running),
                    TaskStatus::Releasing => snap.set_status(t, TaskStatus::Pending, None),
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn random_scenarios_exercise_eviction() {
    // Runs the property body on a fixed seed set and checks the generator really produces
    // preemption and reclaim (otherwise the invariants above would be vacuous).
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let strat = (
        prop::collection::vec((2i64..9, 3i64..8), 1..4),
        prop::collection::vec(any::<bool>(), 1..4),
        prop::collection::vec(job_gen(), 1..7),
    );
    let conf = parse_scheduler_conf(CONF).unwrap();
    let evictions = std::cell::Cell::new(0usize);
    runner
        .run(&strat, |(nodes, reclaimable, jobs)| {
            let mut snap = build(&nodes, &reclaimable, &jobs);
            let out = Scheduler::new(&conf)
                .unwrap()
                .cycle(&mut snap, 0, &mut FirstTie);
            evictions.set(
                evictions.get()
                    + out
                        .decisions
                        .iter()
                        .filter(|d| matches!(d, Decision::Evict { .. }))
                        .count(),
            );
            Ok(())
        })
        .unwrap();
    eprintln!("evictions over 64 random clusters: {}", evictions.get());
    assert!(
        evictions.get() > 0,
        "the generator produced no eviction at all"
    );
}

/// Confs whose victim votes combine differently: two-voter and three-voter tiers (#5963
/// re-seeding), gang/drf preemptable on and off, capacity instead of proportion; the last one
/// is the Helm default tiers with preempt and reclaim on (see `shortcut_conf`).
const SHORTCUT_CONFS: &[&str] = &[
    CONF,
    r#"actions: "enqueue, allocate, backfill, preempt, reclaim"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
"#,
    r#"actions: "enqueue, allocate, preempt, reclaim"
tiers:
- plugins:
  - name: priority
  - name: drf
  - name: gang
  - name: conformance
- plugins:
  - name: predicates
  - name: capacity
  - name: nodeorder
"#,
    r#"actions: "enqueue, allocate, preempt, reclaim"
tiers:
- plugins:
  - name: drf
  - name: gang
    enablePreemptable: false
  - name: conformance
- plugins:
  - name: predicates
  - name: proportion
  - name: nodeorder
"#,
    // The v1.15 gang eviction actions (their job heaps and node scores use the shortcuts).
    r#"actions: "enqueue, allocate, gangpreempt, gangreclaim, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
"#,
    r#"actions: "enqueue, allocate, gangreclaim, gangpreempt"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: predicates
  - name: capacity
  - name: nodeorder
"#,
];

/// `SHORTCUT_CONFS[which]`, or past its end the Helm default with preempt and reclaim added.
fn shortcut_conf(which: usize) -> String {
    match SHORTCUT_CONFS.get(which) {
        Some(c) => c.to_string(),
        None => {
            let c = volsim::policy::conf::HELM_DEFAULT_CONF.replace(
                "actions: \"enqueue, allocate, backfill\"",
                "actions: \"enqueue, allocate, backfill, preempt, reclaim\"",
            );
            assert!(
                c.contains("preempt, reclaim"),
                "Helm default actions line changed"
            );
            c
        }
    }
}

/// One cycle of `sched`, its decisions as text.
fn cycle(snap: &mut Snapshot, sched: &mut Scheduler, now: u64) -> String {
    // The wait reasons too: the shortcuts' explanations (remembered no-fit answers) must be
    // the slow path's.
    let out = sched.cycle(snap, now, &mut FirstTie);
    format!("{:?} {:?}", out.decisions, out.wait_reasons)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    /// The shortcuts never change a decision: the scheduler's cross-cycle caches (score
    /// cache, pending order, victim bins and reach records, kept across the cycles of one
    /// scheduler) and the preempt/reclaim walks skipped (failed-preemptor memo, node reach
    /// bounds, possible-victim bound). The slow scheduler starts every cycle with empty caches,
    /// scores every node, sorts every backlog with the plugins' comparators and walks
    /// everything.
    #[test]
    fn shortcuts_never_change_decisions(
        nodes in prop::collection::vec((2i64..9, 3i64..8), 1..4),
        reclaimable in prop::collection::vec(any::<bool>(), 1..4),
        jobs in prop::collection::vec(job_gen(), 1..10),
        which in 0..=SHORTCUT_CONFS.len(),
        compat in any::<bool>(),
    ) {
        let mut conf = parse_scheduler_conf(&shortcut_conf(which)).unwrap();
        // The 7a5d24ecc compatibility profile must keep the shortcuts exact too.
        if compat {
            conf.compat = volsim::policy::conf::Compat::VOLCANO_7A5D24ECC;
        }
        let mut fast_sched = Scheduler::new(&conf).unwrap();
        let mut slow_sched = Scheduler::new(&conf).unwrap();
        slow_sched.set_shortcuts(false);
        let mut fast = build(&nodes, &reclaimable, &jobs);
        let mut slow = build(&nodes, &reclaimable, &jobs);
        // Plugins built afresh every cycle (as Volcano does): per-session state is fully reset
        // by `on_session_open` in a scheduler that lives across cycles.
        let mut fresh = build(&nodes, &reclaimable, &jobs);
        for c in 0..4u64 {
            let a = cycle(&mut fast, &mut fast_sched, c * 1000);
            let b = cycle(&mut slow, &mut slow_sched, c * 1000);
            let f = cycle(&mut fresh, &mut Scheduler::new(&conf).unwrap(), c * 1000);
            prop_assert_eq!(&a, &b, "cycle {}", c);
            prop_assert_eq!(&a, &f, "cycle {} (fresh plugins)", c);
            for snap in [&mut fast, &mut slow, &mut fresh] {
                for i in 0..snap.tasks.len() {
                    let t = TaskId(i as u32);
                    if !snap.job(snap.task(t).job).tasks.contains(&t) {
                        continue;
                    }
                    match snap.task(t).status {
                        TaskStatus::Binding => snap.update_status(t, TaskStatus::Running),
                        TaskStatus::Releasing => snap.set_status(t, TaskStatus::Pending, None),
                        _ => {}
                    }
                }
            }
        }
    }
}

/// A seeded tie-break that records every draw (so a shortcut that skipped or added a random
/// choice shows up even when the decisions happen to agree).
struct SeededTie {
    state: u64,
    draws: Vec<(usize, usize)>,
}

impl volsim::policy::TieBreak for SeededTie {
    fn pick(&mut self, n: usize) -> usize {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let i = ((self.state >> 33) as usize) % n;
        self.draws.push((n, i));
        i
    }
}

/// One gang-shortcut case: four cycles with the shortcuts on and off under the same seeded
/// ties; the decisions and the draws must agree. Returns the evictions seen.
fn gang_case(
    nodes: &[(i64, i64)],
    reclaimable: &[bool],
    jobs: &[JobGen],
    gang_conf: usize,
    seed: u64,
) -> Result<usize, TestCaseError> {
    let text = SHORTCUT_CONFS[SHORTCUT_CONFS.len() - 2 + gang_conf];
    prop_assert!(text.contains("gangreclaim"));
    let mut conf = parse_scheduler_conf(text).unwrap();
    // The 7a5d24ecc double count keeps an undone eviction's victim in nodeorder's sums: the
    // skipped dry runs must replay it.
    if seed.is_multiple_of(3) {
        conf.compat = volsim::policy::conf::Compat::VOLCANO_7A5D24ECC;
    }
    let mut fast_sched = Scheduler::new(&conf).unwrap();
    let mut slow_sched = Scheduler::new(&conf).unwrap();
    slow_sched.set_shortcuts(false);
    let mut fast = build(nodes, reclaimable, jobs);
    let mut slow = build(nodes, reclaimable, jobs);
    let mut evictions = 0;
    for c in 0..4u64 {
        let mut ft = SeededTie {
            state: seed ^ c,
            draws: Vec::new(),
        };
        let mut st = SeededTie {
            state: seed ^ c,
            draws: Vec::new(),
        };
        let a = fast_sched.cycle(&mut fast, c * 1000, &mut ft).decisions;
        let b = slow_sched.cycle(&mut slow, c * 1000, &mut st).decisions;
        prop_assert_eq!(&a, &b, "cycle {}", c);
        prop_assert_eq!(&ft.draws, &st.draws, "cycle {} draws", c);
        // Skipped dry runs re-file their victims on their nodes as the runs would.
        for (x, y) in fast.nodes.iter().zip(&slow.nodes) {
            prop_assert_eq!(
                &x.tasks,
                &y.tasks,
                "cycle {} node {} task order",
                c,
                &x.name
            );
        }
        evictions += a
            .iter()
            .filter(|d| matches!(d, Decision::Evict { .. }))
            .count();
        for snap in [&mut fast, &mut slow] {
            for i in 0..snap.tasks.len() {
                let t = TaskId(i as u32);
                match snap.task(t).status {
                    TaskStatus::Binding => snap.update_status(t, TaskStatus::Running),
                    TaskStatus::Releasing => snap.set_status(t, TaskStatus::Pending, None),
                    _ => {}
                }
            }
        }
    }
    Ok(evictions)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The gang eviction actions' shortcuts (candidate index, fast bundle selection, skipped
    /// no-candidate jobs, skipped dry runs that must fail) change neither a decision, nor a
    /// random draw, nor a node's task order, with random ties.
    #[test]
    fn gang_shortcuts_keep_decisions_and_draws(
        nodes in prop::collection::vec((2i64..9, 3i64..8), 1..4),
        reclaimable in prop::collection::vec(any::<bool>(), 1..4),
        jobs in prop::collection::vec(job_gen(), 1..12),
        gang_conf in 0usize..2,
        seed in any::<u64>(),
    ) {
        gang_case(&nodes, &reclaimable, &jobs, gang_conf, seed)?;
    }
}

#[test]
fn gang_shortcut_cases_evict() {
    // The property above on a fixed seed set: the generator must make the gang actions evict
    // (otherwise the comparison would be vacuous).
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let strat = (
        prop::collection::vec((2i64..9, 3i64..8), 1..4),
        prop::collection::vec(any::<bool>(), 1..4),
        prop::collection::vec(job_gen(), 1..12),
        0usize..2,
        any::<u64>(),
    );
    let evictions = std::cell::Cell::new(0usize);
    runner
        .run(&strat, |(nodes, reclaimable, jobs, gang_conf, seed)| {
            let n = gang_case(&nodes, &reclaimable, &jobs, gang_conf, seed)?;
            evictions.set(evictions.get() + n);
            Ok(())
        })
        .unwrap();
    eprintln!(
        "gang evictions over 64 random clusters: {}",
        evictions.get()
    );
    assert!(
        evictions.get() > 0,
        "the generator produced no gang eviction"
    );
}
