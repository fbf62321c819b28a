//! Running one scenario point: scenario → `SimInput` adapter, simulate, headline metrics.
//! The adapter is the only translation of `scenario::RunParams` into `sim::SimParams`.
//!
//! Depends on `scenario`, `sim` and `sweep::{overrides, headline}`.

use std::path::Path;

use super::headline::{headline, Headline};
use super::overrides::{load_with_overrides, shell_quote, LoadError, Override};
use crate::scenario::Scenario;
use crate::sim::{simulate, Outcome, SimInput, SimParams};

/// Builds the simulator input of a loaded scenario (its `seed` drives the engine's RNG).
pub fn sim_input(sc: &Scenario) -> SimInput {
    let p = &sc.params;
    SimInput {
        nodes: sc.nodes.clone(),
        queues: sc.queues.clone(),
        priority_classes: sc.priority_classes.clone(),
        conf: sc.conf.clone(),
        jobs: sc.jobs.clone(),
        params: SimParams {
            schedule_period_ms: p.schedule_period_ms,
            bind_latency_ms: p.bind_latency_ms,
            controller_delay_ms: p.controller_delay_ms,
            eviction_grace_ms: p.eviction_grace_ms,
            horizon_ms: sc.horizon_ms,
            seed: sc.seed,
            vcjob_mode: p.vcjob_mode,
            sample_period_ms: p.sample_period_ms,
            on_evict: p.on_evict.clone(),
        },
    }
}

/// A simulated point.
#[derive(Debug, Clone)]
pub struct PointRun {
    pub scenario: Scenario,
    pub outcome: Outcome,
    pub headline: Headline,
}

/// Simulates a loaded scenario.
pub fn run_scenario(sc: Scenario) -> PointRun {
    let outcome = simulate(&sim_input(&sc));
    let headline = headline(&outcome, sc.starvation_ms);
    PointRun {
        scenario: sc,
        outcome,
        headline,
    }
}

/// Loads `path` with `seed` and `overrides`, simulates it and computes its headline metrics —
/// exactly what `volsim run PATH --seed SEED --set …` does.
pub fn run_point(
    path: &Path,
    seed: Option<u64>,
    overrides: &[Override],
) -> Result<PointRun, LoadError> {
    Ok(run_scenario(load_with_overrides(path, seed, overrides)?))
}

/// The command that re-runs a point alone.
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
