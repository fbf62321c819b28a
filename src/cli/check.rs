//! `volsim baseline SCENARIO --out FILE [--seed N] [--set P=V]…` and
//! `volsim check SCENARIO --baseline FILE [--set P=V]… [--all]`: pin a run's headline metrics
//! with tolerances, then re-run and diff; `-o json` prints the `volsim-check/v1` document,
//! `--junit FILE` writes a JUnit report (one test case per metric and per SLO). Exit codes: 0
//! within tolerance, 1 a regression (the message names the metrics) or, with --fail-on-slo, a
//! failed SLO, 2 bad input or an unwritable --junit file.

use std::path::PathBuf;

use clap::Args;
use volsim::check;
use volsim::report::RunReport;
use volsim::run::{run as run_spec, RunSpec};
use volsim::scenario::Override;

use super::Output;

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
    /// What to print on stdout: the diff table (text) or one JSON document (json, format
    /// volsim-check/v1, see docs/cli.md).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Also write a JUnit XML report here: one test case per pinned metric and per SLO.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Exit with code 1 when an SLO of the scenario fails, too (not only on regressions).
    #[arg(long)]
    fail_on_slo: bool,
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
        let (scenario, baseline) = (
            a.scenario.display().to_string(),
            a.baseline.display().to_string(),
        );
        let run = check::CheckRun {
            scenario: &scenario,
            baseline_path: &baseline,
            baseline: &b,
            digest: &digest,
            report: &r,
            diffs: &diffs,
        };
        match a.output {
            Output::Text => print!("{}", check::render(&diffs, a.all)),
            Output::Json => print!("{}", check::check_json(&run)),
        }
        if let Some(path) = &a.junit {
            if let Err(e) = std::fs::write(path, check::junit::render(&run)) {
                eprintln!("error: --junit {}: {e}", path.display());
                return Err(2);
            }
        }
        let slo_failed = a.fail_on_slo && !r.slos_met();
        if slo_failed {
            eprintln!(
                "error: SLOs failed (--fail-on-slo): {}",
                r.slos
                    .iter()
                    .filter(|s| !s.pass)
                    .map(|s| s.slo.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        Ok(if check::failed(&diffs) || slo_failed {
            1
        } else {
            0
        })
    };
    inner().unwrap_or_else(|c| c)
}
