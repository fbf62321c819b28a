//! THE run: `Scenario (+ seed, overrides) → RunSpec → Outcome → RunReport`. Every command that
//! means "a run" — `run`, `sweep` points, `capacity` probes, `baseline`, `check` — goes through
//! `RunSpec::load` and `run`, so they agree by construction on the workload (regenerated for
//! the seed), the sources (static trace and Temporal workflow replay), the engine parameters,
//! the metrics and the SLO verdicts.
//!
//! Depends on `scenario`, `sim` and `report`.

use std::path::Path;
use std::sync::Arc;

use crate::report::{Meta, ReportParams, RunReport};
use crate::scenario::{
    load_with_overrides, load_with_overrides_sharing, shell_quote, LoadError, Override, Scenario,
    TraceCache,
};
use crate::sim::workflows::{WorkflowDriver, WorkflowRecord};
use crate::sim::{
    simulate, simulate_taking_jobs, simulate_with_source, ArrivalSource, Outcome, SimInput,
};

/// A loaded, validated scenario ready to run. Its `seed` drives both the synthetic workload
/// (generated at load time) and the engine's tie-breaking.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub scenario: Scenario,
}

impl RunSpec {
    /// Loads the scenario at `path` with `seed` (None: the scenario's own) and `overrides`
    /// applied before validation — the workload is generated for that seed.
    pub fn load(
        path: &Path,
        seed: Option<u64>,
        overrides: &[Override],
    ) -> Result<RunSpec, LoadError> {
        Ok(RunSpec {
            scenario: load_with_overrides(path, seed, overrides)?,
        })
    }

    /// [`RunSpec::load`] taking the trace from `traces` when an earlier load (another point of
    /// the same sweep) parsed the same file with the same options. Same spec either way.
    pub fn load_sharing(
        path: &Path,
        seed: Option<u64>,
        overrides: &[Override],
        traces: &Arc<TraceCache>,
    ) -> Result<RunSpec, LoadError> {
        Ok(RunSpec {
            scenario: load_with_overrides_sharing(path, seed, overrides, Some(traces.clone()))?,
        })
    }

    /// The simulator input of the scenario.
    pub fn sim_input(&self) -> SimInput<'_> {
        let sc = &self.scenario;
        SimInput {
            nodes: sc.nodes.clone(),
            queues: sc.queues.clone(),
            priority_classes: sc.priority_classes.clone(),
            conf: sc.conf.clone(),
            jobs: std::borrow::Cow::Borrowed(&sc.jobs),
            params: sc.params.clone(),
            seed: sc.seed,
            horizon_ms: sc.horizon_ms,
        }
    }
}

/// Runs `spec`: the static trace and, when the scenario has workflows, their replay.
pub fn run(spec: &RunSpec) -> RunReport {
    let sc = &spec.scenario;
    let input = spec.sim_input();
    let (outcome, workflows) = with_workflows(sc, |source| match source {
        None => simulate(&input),
        Some(driver) => simulate_with_source(&input, driver),
    });
    report(sc, outcome, workflows)
}

/// [`run`], taking the workload out of `spec` (`spec.scenario.jobs` is empty afterwards): the
/// trace is freed while the per-job records are built from it, which lowers the peak memory of
/// a large run. Same report as [`run`] on the unchanged spec.
pub fn run_taking_jobs(spec: &mut RunSpec) -> RunReport {
    let jobs = std::mem::take(&mut spec.scenario.jobs);
    let mut input = spec.sim_input();
    input.jobs = std::borrow::Cow::Owned(jobs);
    let sc = &spec.scenario;
    let (outcome, workflows) = with_workflows(sc, |source| simulate_taking_jobs(input, source));
    report(sc, outcome, workflows)
}

/// Runs `simulate` with the scenario's workflow replay as the arrival source when it has
/// workflows, and returns the outcome with the workflows' records (none without).
fn with_workflows(
    sc: &Scenario,
    simulate: impl FnOnce(Option<&mut dyn ArrivalSource>) -> Outcome,
) -> (Outcome, Vec<WorkflowRecord>) {
    if sc.workflows.is_empty() {
        return (simulate(None), Vec::new());
    }
    let mut driver = WorkflowDriver::new(&sc.workflows, &sc.mapping);
    let outcome = simulate(Some(&mut driver));
    (outcome, driver.records())
}

fn report(sc: &Scenario, outcome: Outcome, workflows: Vec<WorkflowRecord>) -> RunReport {
    let meta = Meta {
        scenario_name: sc.name.clone(),
        scenario_digest: sc.digest.clone(),
    };
    let params = ReportParams {
        starve_threshold_ms: sc.starvation_ms,
    };
    RunReport::new(outcome, workflows, meta, params, &sc.slos)
}

/// The command that re-runs a point alone (what every sweep row prints).
pub fn rerun_command(path: &Path, seed: u64, overrides: &[Override]) -> String {
    let mut s = format!(
        "volsim run {} --seed {seed}",
        shell_quote(&path.display().to_string())
    );
    for o in overrides {
        s.push_str(" --set ");
        s.push_str(&o.to_arg());
    }
    s
}
