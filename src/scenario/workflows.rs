//! The scenario's workflow workload: reads `workload.workflows` (the canonical JSON-lines file),
//! builds the `[mapping]` table, drops recorded hints when `mapping.hints = false`, applies
//! `workload.rate_multiplier` / `workload.repeat` to the workflows' arrivals, and checks that
//! every mapped activity names a queue and priority class the scenario defines.
//!
//! Depends on `workload::{workflow, mapping}` and the loader's context (errors name the file and
//! field). Top-level arrivals only are scaled: a workflow's internal timing is replayed as
//! recorded.

use std::collections::BTreeSet;

use super::file::ScenarioFile;
use super::load::{Ctx, ScenarioError};
use crate::workload::mapping::{map_activity, MappingTable};
use crate::workload::workflow::{origin_unix_ms, read_jsonl_from, NodeKind, Workflow};

/// Most workflow nodes (activities, timers, children, … of every execution) after
/// `workload.repeat` (about 0.5 KB each: 10,000 repeats of the 30-workflow sample took 2 GB).
pub(super) const MAX_REPEATED_NODES: u64 = 1_000_000;

/// Workflows and mapping of `sf` (both empty without `workload.workflows`).
pub(super) fn load(
    cx: &mut Ctx,
    sf: &ScenarioFile,
    queues: &BTreeSet<String>,
    priority_classes: &BTreeSet<&str>,
) -> Result<(Vec<Workflow>, MappingTable), ScenarioError> {
    let mapping = MappingTable {
        default_queue: sf.mapping.default_queue.clone(),
        rules: sf.mapping.rules.clone(),
        priorities: sf.mapping.priority.clone(),
        fairness: sf.mapping.fairness.clone(),
    };
    let Some(p) = &sf.workload.workflows else {
        if !mapping.rules.is_empty()
            || !mapping.priorities.is_empty()
            || !mapping.fairness.is_empty()
        {
            return Err(cx.err(
                "mapping",
                "mapping rules are given but workload.workflows is not",
            ));
        }
        return Ok((Vec::new(), mapping));
    };
    let (path, text) = cx.read("workload.workflows", p)?;
    let mut wfs = read_jsonl_from(&path, text.as_bytes())
        .map_err(|e| cx.err("workload.workflows", e.to_string()))?;
    if wfs.is_empty() {
        return Err(cx.err(
            "workload.workflows",
            format!("{} holds no workflows", path.display()),
        ));
    }
    if sf.mapping.hints == Some(false) {
        for w in &mut wfs {
            strip_hints(w);
        }
    }
    let origin = origin_unix_ms(&wfs).unwrap_or(0);
    if let Some(k) = sf.workload.rate_multiplier {
        if !(k.is_finite() && k > 0.0) {
            return Err(cx.err("workload.rate_multiplier", "expected a positive number"));
        }
        for w in &mut wfs {
            // i128: arrivals come from a file; a tiny multiplier must not overflow
            let off = (i128::from(w.arrival_unix_ms) - i128::from(origin)) as f64 / k;
            let at = i128::from(origin).saturating_add(off.round() as i128);
            w.arrival_unix_ms = i64::try_from(at).map_err(|_| {
                cx.err(
                    "workload.rate_multiplier",
                    format!(
                        "{k} moves workflow {} past the ms time range",
                        w.workflow_id
                    ),
                )
            })?;
        }
    }
    if let Some(r) = sf.workload.repeat {
        if r == 0 {
            return Err(cx.err("workload.repeat", "expected ≥ 1"));
        }
        let span = wfs
            .iter()
            .map(|w| i128::from(w.arrival_unix_ms) - i128::from(origin))
            .max()
            .unwrap_or(0)
            + 1;
        // the last copy's arrivals end before origin + r × span: that must be a valid time
        let end = i128::from(origin) + i128::from(r) * span;
        let span = i64::try_from(span)
            .ok()
            .filter(|_| end <= i128::from(i64::MAX))
            .ok_or_else(|| {
                cx.err(
                    "workload.repeat",
                    format!("{r} repeats of the workflows overflow the ms time range"),
                )
            })?;
        // every copy clones whole workflows: bound what is held, not only the job count
        let nodes: u64 = wfs
            .iter()
            .flat_map(|w| w.walk())
            .map(|w| w.nodes.len() as u64)
            .sum();
        if nodes.saturating_mul(u64::from(r)) > MAX_REPEATED_NODES {
            return Err(cx.err(
                "workload.repeat",
                format!(
                    "{r} repeats of {nodes} workflow nodes exceed the limit of {MAX_REPEATED_NODES} nodes"
                ),
            ));
        }
        let base = wfs.clone();
        for k in 1..r as i64 {
            wfs.extend(base.iter().map(|w| {
                let mut c = w.clone();
                c.workflow_id = format!("{}~{k}", w.workflow_id);
                c.arrival_unix_ms += k * span;
                c
            }));
        }
    }
    // Stable: equal arrivals keep file order.
    wfs.sort_by_key(|w| w.arrival_unix_ms);
    for top in &wfs {
        for w in top.walk() {
            for (_, a) in w.activities() {
                let Some(t) = map_activity(&mapping, w, a) else {
                    continue;
                };
                let what = format!(
                    "workflow {} ({}) activity {} ({})",
                    w.workflow_id, w.workflow_type, a.activity_id, a.activity_type
                );
                if !queues.contains(&t.queue) {
                    return Err(cx.err(
                        "mapping",
                        format!(
                            "{what} maps to queue {:?}, which the scenario does not define (defined: {}); add a [[mapping.rule]] or set mapping.hints = false to ignore the history's hints",
                            t.queue,
                            queues.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                if let Some(pc) = &t.priority_class {
                    if !priority_classes.contains(pc.as_str()) {
                        return Err(cx.err(
                            "mapping",
                            format!("{what} uses priority class {pc:?}, which the scenario does not define"),
                        ));
                    }
                }
            }
        }
    }
    Ok((wfs, mapping))
}

/// Drops every recorded resource hint of `w` and its children.
fn strip_hints(w: &mut Workflow) {
    w.hints = None;
    for n in &mut w.nodes {
        match &mut n.kind {
            NodeKind::Activity(a) => a.hints = None,
            NodeKind::Child(c) => {
                if let Some(e) = c.execution.as_mut() {
                    strip_hints(e);
                }
            }
            _ => {}
        }
    }
}
