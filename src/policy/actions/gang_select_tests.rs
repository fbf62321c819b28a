//! Tests of `gang_select`: the fast bundle selection against the reference
//! (`gang_evict::select_domain_bundles`) on generated clusters.

use super::*;
use crate::model::{PodGroupSpec, PodSpec, QueueSpec};
use crate::model::{ResourceName, Resources};
use crate::policy::actions::gang_evict::select_domain_bundles;
use crate::policy::conf::HELM_DEFAULT_CONF;
use crate::policy::session::FirstTie;
use crate::policy::snapshot::{PodGroupPhase, TaskStatus};
use crate::policy::{parse_scheduler_conf, Scheduler};

/// A small deterministic generator (splitmix64).
struct Gen(u64);
impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        (z ^ (z >> 31)) % n
    }
}

/// Four nodes, three queues, gangs of 1–4 tasks at three priorities with minimums below
/// and at their size, role minimums, broken gangs, unpreemptable pods and jobs.
fn snapshot(seed: u64) -> Snapshot {
    let mut g = Gen(seed);
    let mut s = super::super::gang_evict::tests::classes_and_nodes(4, 8000, 32 << 30);
    for q in 0..3 {
        s.add_queue(&QueueSpec::new(&format!("q{q}"), 1 + q));
    }
    for k in 0..12u64 {
        let size = 1 + g.next(4) as u32;
        let mut min_task_member = BTreeMap::new();
        if g.next(4) == 0 {
            min_task_member.insert("worker".to_string(), 1 + g.next(2) as u32);
        }
        // kube-system pods are critical: conformance filters them out.
        let ns = if g.next(6) == 0 { "kube-system" } else { "ns" };
        let pg = PodGroupSpec {
            namespace: ns.into(),
            // Names out of id order, so UID order and id order differ.
            name: format!("j{}", (k * 7) % 12),
            queue: format!("q{}", g.next(3)),
            min_member: 1 + g.next(size as u64) as u32,
            min_task_member,
            priority_class: Some(["p1", "p5", "p9"][g.next(3) as usize].into()),
            preemptable: (g.next(10) == 0).then_some(false),
            ..Default::default()
        };
        let j = s.add_job(&pg, PodGroupPhase::Running, 0).unwrap();
        for i in 0..size {
            let status = [
                TaskStatus::Running,
                TaskStatus::Running,
                TaskStatus::Bound,
                TaskStatus::Pending,
            ][g.next(4) as usize];
            let pod = PodSpec {
                namespace: ns.into(),
                name: format!("j{k}-{}", size - i),
                role: ["worker", "ps"][g.next(2) as usize].into(),
                requests: Resources::cpu_mem(500 * (1 + g.next(4) as i64), 1 << 30),
                priority: Some(g.next(3) as i32),
                preemptable: (g.next(12) == 0).then_some(false),
                ..Default::default()
            };
            let node = (status != TaskStatus::Pending).then_some(NodeId(g.next(4) as u32));
            s.add_task(j, &pod, status, node, 0);
        }
    }
    s
}

/// The fast path gives the reference's bundles, in its order, for every preemptor, kind,
/// domain and whole-bundle setting, also after some candidates were evicted.
#[test]
fn fast_select_equals_the_reference() {
    // Helm's tiers, and capacity (whose vote depends on the candidates' order).
    let capacity = "actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n- plugins:\n  - name: predicates\n  - name: capacity\n  - name: nodeorder\n";
    let mut nonempty = 0;
    for seed in 0..60 {
        let text = if seed % 2 == 0 {
            HELM_DEFAULT_CONF
        } else {
            capacity
        };
        let conf = parse_scheduler_conf(text).unwrap();
        let mut snap = snapshot(seed);
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut tie = FirstTie;
        let mut ssn = sched.session(&mut snap, 0, &mut tie);
        ssn.accel.job_uids.sync(ssn.st.snap);
        let all: Vec<NodeId> = (0..4).map(NodeId).collect();
        // One index for both kinds, built before either evicted (as a session shares it).
        let ix = CandidateIndex::new(ssn.snap(), 1);
        for kind in [EvictionKind::GangPreempt, EvictionKind::GangReclaim] {
            for round in 0..2 {
                for j in 0..ssn.snap().jobs.len() as u32 {
                    let j = JobId(j);
                    let mut need = Resources::cpu_mem(1000, 1 << 30);
                    need.set(ResourceName::PODS, 1 + round);
                    for domain in [&all[..], &all[1..3]] {
                        for allow_whole_bundle in [true, false] {
                            let args = GangEvictArgs {
                                allow_whole_bundle,
                                ..Default::default()
                            };
                            let slow =
                                select_domain_bundles(&ssn, j, &need, domain, None, kind, &args);
                            let fast =
                                select(&ssn, &ix, j, &need, domain, None, kind, &args).into_list();
                            nonempty += usize::from(!slow.is_empty());
                            assert_eq!(fast, slow, "seed {seed} {kind:?} {j:?} {domain:?}");
                        }
                    }
                }
                // Evict every third candidate, as a run would.
                let placed: Vec<TaskId> = (0..ssn.snap().tasks.len() as u32)
                    .map(TaskId)
                    .filter(|&t| ssn.snap().task(t).status.is_preemptable())
                    .step_by(3)
                    .collect();
                let mut stmt = crate::policy::session::Statement::new();
                for t in placed {
                    ssn.evict(&mut stmt, t, crate::policy::conf::Action::GangReclaim, t);
                }
            }
        }
    }
    assert!(nonempty > 200, "too few non-empty selections: {nonempty}");
}

/// Helm's tiers (priority, gang, conformance) answer `UnifiedEvictable` per task, so the fast
/// path may ask once over the unordered candidates; capacity's answer depends on the order
/// (its running sums), so a conf with it takes the ordered path.
#[test]
fn per_task_answers_only_without_capacity() {
    let capacity = "actions: \"enqueue, allocate\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n- plugins:\n  - name: capacity\n";
    for (text, want) in [(HELM_DEFAULT_CONF, true), (capacity, false)] {
        let conf = parse_scheduler_conf(text).unwrap();
        let mut snap = snapshot(1);
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut tie = FirstTie;
        let ssn = sched.session(&mut snap, 0, &mut tie);
        for kind in [EvictionKind::GangPreempt, EvictionKind::GangReclaim] {
            let ctx = EvictionContext {
                kind,
                job: JobId(0),
                hypernode: None,
            };
            assert_eq!(
                ssn.tiers.unified_evictable_per_task(&ssn.st, &ctx),
                want,
                "{text}"
            );
        }
    }
}
