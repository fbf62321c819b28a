//! The engine's ordering contract: advancing in pieces, or announcing arrivals late (as the
//! live twin does), makes exactly the decisions of one uninterrupted run.

use std::collections::VecDeque;
use std::fmt::Write;

use super::*;
use crate::model::{Fnv, NodeSpec, QueueSpec, Resources};
use crate::policy::SchedulerConf;
use crate::workload::TraceJob;

fn nodes() -> Vec<NodeSpec> {
    (0..2)
        .map(|i| {
            let mut a = Resources::cpu_mem(4000, 8 << 30);
            a.set(crate::model::ResourceName::PODS, 110);
            NodeSpec {
                name: format!("n{i}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            }
        })
        .collect()
}

fn jobs() -> Vec<TraceJob> {
    (0..24)
        .map(|i| TraceJob {
            id: format!("j{i}"),
            submit_ms: (i as u64 * 731) % 9000 + if i % 5 == 0 { 1000 } else { 0 },
            duration_ms: 2_000 + (i as u64 % 4) * 1_500,
            queue: if i % 3 == 0 { "a" } else { "b" }.into(),
            requests: Resources::cpu_mem(1500, 1 << 30),
            replicas: 1 + i % 3,
            min_member: 1 + i % 3,
            priority_class: None,
            priority: 0,
            class: String::new(),
        })
        .collect()
}

fn engine() -> Engine {
    Engine::new(
        &nodes(),
        &[QueueSpec::new("a", 1), QueueSpec::new("b", 2)],
        &[],
        crate::policy::Scheduler::new(&SchedulerConf::helm_default()).unwrap(),
        EngineParams::default(),
        7,
    )
}

/// Hashes every decision with its time.
struct Log(Fnv);

impl Recorder for Log {
    fn decided(&mut self, c: &Cluster, out: &CycleOutput, t: u64) {
        for d in &out.decisions {
            let _ = match *d {
                Decision::Bind { task, node } => {
                    writeln!(self.0, "{t} bind {} {}", c.snap.task(task).name, node.0)
                }
                ref other => writeln!(self.0, "{t} {other:?}"),
            };
        }
    }
}

/// An open source fed by the caller, like the live twin's submissions.
struct Inbox(VecDeque<(u64, TraceJob)>);

impl Source for Inbox {
    fn next_time(&self) -> u64 {
        self.0.front().map_or(u64::MAX, |j| j.0)
    }
    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut n = 0;
        while self.0.front().is_some_and(|j| j.0 == t) {
            let (_, j) = self.0.pop_front().unwrap();
            submit(&j);
            n += 1;
        }
        n
    }
    fn closed(&self) -> bool {
        false
    }
}

fn whole_run() -> (u64, Counters) {
    let js = jobs();
    let mut e = engine();
    let mut log = Log(Fnv::new());
    let halt = e.advance(u64::MAX, &mut TraceSource::new(&js), &mut log, &mut |_| {
        false
    });
    assert_eq!(halt, Halt::Done);
    (log.0 .0, e.counters)
}

#[test]
fn advancing_in_pieces_changes_nothing() {
    let (whole, counters) = whole_run();
    assert!(counters.binds > 0 && counters.cycles_skipped > 0);
    let js = jobs();
    for step in [1u64, 333, 1000, 4999] {
        let mut e = engine();
        let mut log = Log(Fnv::new());
        let mut src = TraceSource::new(&js);
        let mut t = 0;
        loop {
            t += step;
            match e.advance(t, &mut src, &mut log, &mut |_| false) {
                Halt::Done => break,
                Halt::Until { .. } | Halt::Idle => {}
                Halt::Watched => unreachable!(),
            }
        }
        assert_eq!(log.0 .0, whole, "step {step}");
    }
}

#[test]
fn late_announced_arrivals_match_a_known_trace() {
    // The twin learns of each arrival only when the wall clock reaches it: it advances to the
    // arrival's time (exclusive), then pushes it.
    let (whole, _) = whole_run();
    let mut js = jobs();
    js.sort_by_key(|j| j.submit_ms);
    let mut e = engine();
    let mut log = Log(Fnv::new());
    let mut inbox = Inbox(VecDeque::new());
    for j in &js {
        e.advance(j.submit_ms, &mut inbox, &mut log, &mut |_| false);
        inbox.0.push_back((j.submit_ms, j.clone()));
    }
    let mut t = js.last().unwrap().submit_ms;
    while !e.cluster.all_done() || !inbox.0.is_empty() {
        t += 10_000;
        e.advance(t, &mut inbox, &mut log, &mut |_| false);
    }
    assert_eq!(log.0 .0, whole);
}

#[test]
fn watch_stops_before_the_next_step() {
    let js = jobs();
    let mut e = engine();
    let halt = e.advance(
        u64::MAX,
        &mut TraceSource::new(&js),
        &mut NoRecorder,
        &mut |c| c.jobs.iter().any(|j| j.gang_ready_ms().is_some()),
    );
    assert_eq!(halt, Halt::Watched);
    assert_eq!(
        e.cluster
            .jobs
            .iter()
            .filter(|j| j.gang_ready_ms().is_some())
            .count(),
        1
    );
}
