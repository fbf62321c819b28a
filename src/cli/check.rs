//! `volsim baseline SCENARIO --out FILE [--seed N] [--set P=V]…` and
//! `volsim check SCENARIO --baseline FILE [--set P=V]… [--all]`: pin a run's headline metrics
//! with tolerances, then re-run and diff. Exit codes: 0 within tolerance, 1 a regression (the
//! message names the metrics), 2 bad input.

use std::path::PathBuf;

use clap::Args;
use volsim::check;
use volsim::report::RunReport;
use volsim::run::{run as run_spec, RunSpec};
use volsim::scenario::Override;

#[derive(Args)]
pub struct BaselineArgs {
    /// The scenario TOML.
    scenario: PathBuf,
    /// Where to write the baseline (TOML).
    #[arg(long)]
    out: PathBuf,
    /// Seed (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario field, PATH=VALUE (repeatable; see `volsim sweep`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The scenario TOML.
    scenario: PathBuf,
    /// The baseline written by `volsim baseline`.
    #[arg(long)]
    baseline: PathBuf,
    /// Override a scenario field, PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Show every metric, not only the ones outside tolerance.
    #[arg(long)]
    all: bool,
}

/// Parses `--set` arguments.
pub fn overrides(set: &[String]) -> Result<Vec<Override>, i32> {
    set.iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            eprintln!("error: --set {e}");
            2
        })
}

/// One run through the run pipeline, with the scenario's digest.
fn run(
    scenario: &std::path::Path,
    seed: Option<u64>,
    set: &[Override],
) -> Result<(RunReport, String), i32> {
    let spec = RunSpec::load(scenario, seed, set).map_err(|e| {
        eprintln!("error: {e}");
        2
    })?;
    Ok((run_spec(&spec), spec.scenario.digest))
}

pub fn baseline(a: BaselineArgs) -> i32 {
    let inner = || -> Result<i32, i32> {
        let set = overrides(&a.set)?;
        let (r, digest) = run(&a.scenario, a.seed, &set)?;
        let b = check::make_baseline(&r.headline, &a.scenario.display().to_string(), &digest);
        if let Err(e) = std::fs::write(&a.out, b.to_toml()) {
            eprintln!("error: {}: {e}", a.out.display());
            return Err(2);
        }
        println!(
            "wrote {} ({} metrics, seed {}, decision hash {})",
            a.out.display(),
            b.metrics.len(),
            b.seed,
            b.decision_hash
        );
        Ok(0)
    };
    inner().unwrap_or_else(|c| c)
}

pub fn check(a: CheckArgs) -> i32 {
    let inner = || -> Result<i32, i32> {
        let set = overrides(&a.set)?;
        let b = check::Baseline::read(&a.baseline).map_err(|e| {
            eprintln!("error: {e}");
            2
        })?;
        let (r, digest) = run(&a.scenario, Some(b.seed), &set)?;
        if digest != b.scenario_digest {
            eprintln!(
                "note: scenario digest {} differs from the baseline's {} (inputs changed)",
                digest, b.scenario_digest
            );
        }
        let diffs = check::compare(&b, &r.headline);
        print!("{}", check::render(&diffs, a.all));
        Ok(if check::failed(&diffs) { 1 } else { 0 })
    };
    inner().unwrap_or_else(|c| c)
}
