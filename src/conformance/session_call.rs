//! Cases of kind `session_call` that volsim can answer: `ssn.BatchNodeOrderFn(task, nodes)` of
//! the network-topology-aware tests — the session is opened on the case's objects, the first
//! Pending task is scored on `score_nodes` (or every node) by the enabled NodeOrder plugins,
//! the task's `JobAllocatedHyperNode` taken from its PodGroup's
//! `volcano.sh/job-allocated-hypernode` annotation as the test sets it.
//!
//! Depends on `model`, `policy` and the case values.

use serde_json::Value;

use super::build;
use super::value::{list, s, scalar, str_map, CaseError};
use super::Verdict;
use crate::policy::conf::Flag;
use crate::policy::session::FirstTie;
use crate::policy::snapshot::{NodeId, TaskStatus};
use crate::policy::Scheduler;

/// The calls this runner answers (prefixes of `call:`).
pub(super) const CALLS: &[&str] = &["ssn.BatchNodeOrderFn("];

pub(super) fn run(case: &Value) -> Result<Verdict, CaseError> {
    let mut snap = build::snapshot(case, Default::default(), &[])?;
    let conf = build::conf(case, None)?;
    let task = snap
        .tasks
        .iter()
        .find(|(_, t)| t.status == TaskStatus::Pending)
        .map(|(i, _)| crate::policy::TaskId(i as u32))
        .ok_or_else(|| CaseError::new("no Pending task to score"))?;
    let job = snap.task(task).job;
    let allocated = list(case, "podgroups")
        .iter()
        .find(|pg| {
            format!(
                "{}/{}",
                s(pg, "ns").unwrap_or("default"),
                s(pg, "name").unwrap_or("")
            ) == snap.job(job).uid
        })
        .and_then(|pg| {
            str_map(pg, "annotations")
                .get("volcano.sh/job-allocated-hypernode")
                .cloned()
        })
        .filter(|n| !n.is_empty());
    let allocated = match allocated {
        None => None,
        Some(n) => Some(snap.topology.find(&n).ok_or_else(|| {
            CaseError::new(format!("allocated hypernode {n:?} is not a HyperNode"))
        })?),
    };
    let nodes: Vec<NodeId> = match case.get("score_nodes") {
        Some(v) => v
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|n| {
                let n = scalar(n);
                snap.find_node(&n)
                    .ok_or_else(|| CaseError::new(format!("score_nodes: unknown node {n:?}")))
            })
            .collect::<Result<_, _>>()?,
        None => (0..snap.nodes.len() as u32).map(NodeId).collect(),
    };
    let topology_task = snap.job(job).network_topology.is_some();
    let mut sched = Scheduler::new_unvalidated(&conf);
    let mut rng = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut rng);
    let mut scores = vec![0.0; nodes.len()];
    let mut scored = false;
    for slot in ssn.tiers.tiers.iter().flatten() {
        if !slot.flags.has(Flag::NodeOrder) {
            continue;
        }
        if topology_task {
            if let Some(b) = slot
                .plugin
                .topology_node_order(&ssn.st, task, allocated, &nodes)
            {
                scored |= allocated.is_some();
                scores.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            }
        } else {
            for (i, &n) in nodes.iter().enumerate() {
                if let Some(x) = slot.plugin.node_order(&ssn.st, task, n) {
                    scores[i] += x;
                    scored = true;
                }
            }
        }
    }
    let names: Vec<String> = nodes
        .iter()
        .map(|n| ssn.st.snap.nodes[n.ix()].name.clone())
        .collect();
    drop(ssn);
    check(case, &names, &scores, scored)
}

fn check(
    case: &Value,
    names: &[String],
    scores: &[f64],
    scored: bool,
) -> Result<Verdict, CaseError> {
    let exp = case
        .get("expect")
        .ok_or_else(|| CaseError::new("no expect"))?;
    for k in exp.as_object().map(|o| o.keys()).into_iter().flatten() {
        if !["scores", "tolerance", "exact_count"].contains(&k.as_str()) {
            return Err(CaseError::new(format!("unknown expectation key {k:?}")));
        }
    }
    let tol = exp
        .get("tolerance")
        .and_then(|v| v.as_f64())
        .unwrap_or(1e-9);
    let want = exp
        .get("scores")
        .and_then(|v| v.as_object())
        .ok_or_else(|| CaseError::new("expect.scores: expected a mapping"))?;
    for (node, w) in want {
        let w = w
            .as_f64()
            .ok_or_else(|| CaseError::new(format!("expect.scores.{node}: expected a number")))?;
        let Some(i) = names.iter().position(|n| n == node) else {
            return Ok(Verdict::Fail(format!("{node}: not scored")));
        };
        if (scores[i] - w).abs() > tol {
            return Ok(Verdict::Fail(format!(
                "{node}: expected {w} ± {tol}, got {}",
                scores[i]
            )));
        }
    }
    // An empty map (no plugin scored) has no entries; otherwise one per node.
    if exp.get("exact_count").and_then(|v| v.as_bool()) == Some(true) {
        let n = if scored { names.len() } else { 0 };
        if n != want.len() {
            return Ok(Verdict::Fail(format!(
                "exact_count: expected {} scores, got {n}",
                want.len()
            )));
        }
    }
    Ok(Verdict::Pass)
}
