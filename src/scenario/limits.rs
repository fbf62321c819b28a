//! Size limits of a scenario, checked right after the file is parsed and before anything is
//! allocated from its numbers (a `[[nodes]] count` or `workload.repeat` of 4 billion must be an
//! error in well under a second, not an abort). The limits are listed in `docs/limits.md`.
//!
//! Depends on `scenario::file` and `workload` (the job record). Every error names the file, the field and the limit.

use super::file::ScenarioFile;
use super::load::ScenarioError;
use crate::workload::TraceJob;

/// Most nodes in one `[[nodes]]` pool and in the whole cluster.
pub(super) const MAX_NODES: u64 = 100_000;
/// Largest `workload.repeat`.
pub(super) const MAX_REPEAT: u32 = 10_000;
/// Most jobs in a workload after `workload.repeat`.
pub(super) const MAX_JOBS: u64 = 2_000_000;

fn err(file: &str, field: String, message: String) -> ScenarioError {
    ScenarioError {
        file: file.to_string(),
        field,
        message,
    }
}

/// Checks the numbers that size allocations (`[[nodes]] count`, `workload.repeat`).
pub(super) fn check_file(sf: &ScenarioFile, file: &str) -> Result<(), ScenarioError> {
    let mut total = 0u64;
    for (i, p) in sf.node_pools.iter().enumerate() {
        if u64::from(p.count) > MAX_NODES {
            return Err(err(
                file,
                format!("nodes[{i}].count"),
                format!("{} exceeds the limit of {MAX_NODES} nodes", p.count),
            ));
        }
        total += u64::from(p.count);
    }
    if total > MAX_NODES {
        return Err(err(
            file,
            "nodes".into(),
            format!("{total} nodes in all pools exceed the limit of {MAX_NODES}"),
        ));
    }
    if let Some(r) = sf.workload.repeat.filter(|&r| r > MAX_REPEAT) {
        return Err(err(
            file,
            "workload.repeat".into(),
            format!("{r} exceeds the limit of {MAX_REPEAT}"),
        ));
    }
    Ok(())
}

/// Most pods in a workload after `workload.repeat` (the simulator holds a task per pod).
pub(super) const MAX_PODS: u64 = 20_000_000;

/// Checks that the pods of `jobs` repeated `repeat` times stay within `MAX_PODS` (per-job
/// `replicas` are checked by `TraceJob::validate`).
pub(super) fn check_pods(file: &str, jobs: &[TraceJob], repeat: u32) -> Result<(), ScenarioError> {
    let pods = jobs
        .iter()
        .fold(0u64, |n, j| n.saturating_add(u64::from(j.replicas)))
        .saturating_mul(u64::from(repeat));
    if pods > MAX_PODS {
        return Err(err(
            file,
            "workload".into(),
            format!("{pods} pods in all jobs (replicas × workload.repeat) exceed the limit of {MAX_PODS}"),
        ));
    }
    Ok(())
}

/// Checks that `jobs` jobs repeated `repeat` times stay within `MAX_JOBS`.
pub(super) fn check_repeat(file: &str, jobs: usize, repeat: u32) -> Result<(), ScenarioError> {
    let n = (jobs as u64).saturating_mul(u64::from(repeat));
    if n > MAX_JOBS {
        return Err(err(
            file,
            "workload.repeat".into(),
            format!("{jobs} jobs × {repeat} = {n} exceeds the limit of {MAX_JOBS} jobs"),
        ));
    }
    Ok(())
}
