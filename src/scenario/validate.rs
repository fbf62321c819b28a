//! Semantic validation of a loaded scenario with Volcano's and Kubernetes' own admission rules as
//! the anchor: an **error** where the real control plane would refuse the object (a queue that
//! is its own parent, a parent that does not exist, a parent cycle, a guarantee above the
//! capability, two PriorityClasses of one name or two global defaults), or where the run could
//! not mean anything (a zero schedule period or horizon, an SLO on a target that does not
//! exist); a **warning** where the control plane accepts it but the result is surely
//! unintended (children's guarantees above the parent's, a pool whose nodes take no pods, jobs
//! no node can ever hold).
//!
//! Depends on `scenario::load` types and `model`. Every message names the file and the field.

use std::collections::{BTreeMap, BTreeSet};

use super::file::ScenarioFile;
use super::load::{Scenario, ScenarioError};
use crate::model::{parse_duration, DefaultValue, ResourceName};

fn err(file: &str, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        field: field.into(),
        message: message.into(),
    }
}

/// Zero periods and horizons, checked on the file (the loader clamps a zero period to 1 ms).
pub(super) fn check_file(sf: &ScenarioFile, file: &str) -> Result<(), ScenarioError> {
    for (field, v) in [
        ("sim.schedule_period", &sf.sim.schedule_period),
        ("horizon", &sf.horizon),
    ] {
        if let Some(text) = v {
            if parse_duration(text).is_ok_and(|ms| ms == 0) {
                return Err(err(file, field, format!("{text:?}: must be longer than 0")));
            }
        }
    }
    Ok(())
}

/// Checks a loaded scenario; returns the warnings to add.
pub(super) fn check(sc: &Scenario, file: &str) -> Result<Vec<String>, ScenarioError> {
    let mut warnings = Vec::new();
    check_queues(sc, file, &mut warnings)?;
    check_priority_classes(sc, file)?;
    check_slos(sc, file, &mut warnings)?;
    check_fit(sc, &mut warnings);
    Ok(warnings)
}

/// Mirrors volcano's queue admission webhook: the parent must exist (or be `root`), a queue is
/// not its own ancestor, and a guarantee never exceeds the capability.
fn check_queues(
    sc: &Scenario,
    file: &str,
    warnings: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    let by_name: BTreeMap<&str, usize> = sc
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| (q.name.as_str(), i))
        .collect();
    for q in &sc.queues {
        let field = format!("queue {}", q.name);
        if let (Some(g), Some(c)) = (&q.guarantee, &q.capability) {
            for d in g.dims() {
                if c.has(d) && g.get(d) > c.get(d) {
                    return Err(err(
                        file,
                        format!("{field}.guarantee.{}", d.name()),
                        format!(
                            "guarantee {} is above the capability {} (Volcano refuses the queue)",
                            g.get(d),
                            c.get(d)
                        ),
                    ));
                }
            }
        }
        let Some(parent) = q.parent.as_deref() else {
            continue;
        };
        if parent == q.name {
            return Err(err(
                file,
                format!("{field}.parent"),
                "a queue cannot be its own parent",
            ));
        }
        if parent != "root" && !by_name.contains_key(parent) {
            return Err(err(
                file,
                format!("{field}.parent"),
                format!("parent queue {parent:?} does not exist"),
            ));
        }
        // Walk up: a cycle never reaches root.
        let mut seen = BTreeSet::from([q.name.as_str()]);
        let mut at = parent;
        while at != "root" {
            if !seen.insert(at) {
                return Err(err(
                    file,
                    format!("{field}.parent"),
                    format!("the parent chain of {:?} loops back through {at:?}", q.name),
                ));
            }
            match by_name
                .get(at)
                .and_then(|&i| sc.queues[i].parent.as_deref())
            {
                Some(p) => at = p,
                None => break,
            }
        }
    }
    // Children's guarantees within the parent's (Volcano v1.15 only logs this).
    for p in &sc.queues {
        let Some(pg) = &p.guarantee else { continue };
        let mut sum = crate::model::Resources::empty();
        for c in sc
            .queues
            .iter()
            .filter(|c| c.parent.as_deref() == Some(&p.name))
        {
            if let Some(g) = &c.guarantee {
                sum.add(g);
            }
        }
        if !sum.less_equal(pg, DefaultValue::Infinity) {
            warnings.push(format!(
                "{file}: queue {}: its children's guarantees {sum} add up to more than its own guarantee {pg}",
                p.name
            ));
        }
    }
    Ok(())
}

/// Kubernetes refuses a second PriorityClass of one name and a second `globalDefault`.
fn check_priority_classes(sc: &Scenario, file: &str) -> Result<(), ScenarioError> {
    let mut names = BTreeSet::new();
    let mut default: Option<&str> = None;
    for pc in &sc.priority_classes {
        if !names.insert(pc.name.as_str()) {
            return Err(err(
                file,
                format!("priority_classes {}", pc.name),
                "PriorityClass defined twice",
            ));
        }
        if pc.global_default {
            if let Some(other) = default {
                return Err(err(
                    file,
                    format!("priority_classes {}.global_default", pc.name),
                    format!("{other:?} is the global default already (only one may be)"),
                ));
            }
            default = Some(pc.name.as_str());
        }
    }
    Ok(())
}

/// An SLO must name something the run reports: a queue or workload class (wait metrics), or a
/// replayed workflow type (end-to-end metrics). With workflows, activity jobs get their classes
/// only during the replay, so an unknown wait target is a warning there.
fn check_slos(sc: &Scenario, file: &str, warnings: &mut Vec<String>) -> Result<(), ScenarioError> {
    let queues: BTreeSet<&str> = sc.queues.iter().map(|q| q.name.as_str()).collect();
    let classes: BTreeSet<&str> = sc.jobs.iter().map(|j| j.class.as_str()).collect();
    let types: BTreeSet<&str> = sc
        .workflows
        .iter()
        .map(|w| w.workflow_type.as_str())
        .collect();
    for (i, slo) in sc.slos.iter().enumerate() {
        let t = slo.target.as_str();
        let (known, what) = if slo.metric.is_e2e() {
            (types.contains(t), "replayed workflow type")
        } else {
            (
                queues.contains(t) || classes.contains(t),
                "queue or workload class",
            )
        };
        if known {
            continue;
        }
        let msg = format!("{:?}: no {what} is named {t:?}", slo.text);
        if !slo.metric.is_e2e() && !sc.workflows.is_empty() {
            warnings.push(format!("{file}: field slo[{i}]: {msg} (yet)"));
        } else {
            return Err(err(file, format!("slo[{i}]"), msg));
        }
    }
    Ok(())
}

/// Jobs whose pods no node can hold (by allocatable, taints aside) would wait forever.
fn check_fit(sc: &Scenario, warnings: &mut Vec<String>) {
    if sc.nodes.is_empty() {
        return;
    }
    if let Some(n) = sc
        .nodes
        .iter()
        .find(|n| n.allocatable.get(ResourceName::PODS) == 0)
    {
        warnings.push(format!(
            "node {} takes no pods (pods = 0): nothing can run on it",
            n.name
        ));
    }
    let mut first = None;
    let mut never = Vec::new();
    let mut count = 0usize;
    for j in &sc.jobs {
        let mut pod = j.requests;
        pod.set(ResourceName::PODS, 1);
        if !sc.nodes.iter().any(|n| pod.fits_in(&n.allocatable)) {
            count += 1;
            first.get_or_insert(pod);
            if never.len() < 5 {
                never.push(j.id.clone());
            }
        }
    }
    let pod = first.unwrap_or_default();
    if count > 0 {
        let largest = sc
            .nodes
            .iter()
            .max_by_key(|n| (n.allocatable.cpu(), n.allocatable.memory()))
            .map(|n| format!("{} {}", n.name, n.allocatable))
            .unwrap_or_default();
        warnings.push(format!(
            "{count} job(s) have pods that fit no node and will never run (e.g. {}; a pod asks {pod}; the largest node is {largest})",
            never.join(", ")
        ));
    }
}
