//! `volsim run SCENARIO [--out DIR] [--seed N] [--set PATH=VALUE]… [-o text|json]
//! [--fail-on-slo]`: one run through the run pipeline (`volsim::run`), the terminal report (or
//! the `volsim-run/v1` JSON document) and (with --out) the output files. Exit codes: 0 done
//! (also with failed SLOs, unless --fail-on-slo), 1 an SLO failed with --fail-on-slo, 2 bad
//! input or unwritable outputs.

use std::path::PathBuf;

use clap::Args;
use volsim::report::json::run_json;
use volsim::run::{run_taking_jobs, RunSpec};

use super::Output;

#[derive(Args)]
pub struct RunArgs {
    /// The scenario TOML (e.g. scenarios/somaagenthub/scenario.toml).
    scenario: PathBuf,
    /// Write summary.json, jobs.csv, queues.csv, evictions.csv, queue_evictions.csv,
    /// time_to_reclaim.csv, slo.csv here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override the scenario's seed (regenerates the synthetic workload too, exactly as a
    /// sweep point with this seed does).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario field, PATH=VALUE (repeatable; the paths of `volsim sweep`, e.g.
    /// `queue.interactive.capability.cpu=32`, `nodes.worker.count=8`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Print nothing (outputs only).
    #[arg(long)]
    quiet: bool,
    /// What to print on stdout: the terminal report (text) or one JSON document (json,
    /// format volsim-run/v1, see docs/cli.md).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Exit with code 1 when any SLO of the scenario fails (CI gates).
    #[arg(long)]
    fail_on_slo: bool,
}

pub fn run(a: RunArgs) -> i32 {
    let set = match super::check::overrides(&a.set) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut spec = match RunSpec::load(&a.scenario, a.seed, &set) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    for w in &spec.scenario.warnings {
        eprintln!("warning: {w}");
    }
    // The run takes the workload out of the spec (it frees the trace while building the
    // records); only its length is printed afterwards.
    let trace_jobs = spec.scenario.jobs.len();
    let started = std::time::Instant::now();
    let report = run_taking_jobs(&mut spec);
    let sc = &spec.scenario;
    let wall = started.elapsed();
    if a.quiet {
    } else if a.output == Output::Json {
        print!("{}", run_json(&report, &a.scenario.display().to_string()));
    } else {
        let o = &report.outcome;
        println!(
            "scenario {} (digest {}), seed {}: {} jobs{} on {} nodes, simulated {}{}",
            sc.name,
            sc.digest,
            o.seed,
            trace_jobs,
            if sc.workflows.is_empty() {
                String::new()
            } else {
                format!(
                    " + {} workflows ({} activity jobs)",
                    sc.workflows.len(),
                    o.jobs.len() - trace_jobs
                )
            },
            sc.nodes.len(),
            volsim::model::format_duration(o.end_ms),
            if o.hit_horizon {
                " (stopped at the horizon)"
            } else {
                ""
            }
        );
        println!();
        print!("{}", report.render());
        println!();
        println!(
            "cycles run {}, skipped {}; decision log hash {:016x}; wall {:.2} s",
            o.counters.cycles_run,
            o.counters.cycles_skipped,
            o.decision_hash,
            wall.as_secs_f64()
        );
    }
    if let Some(dir) = &a.out {
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| report.write(dir)) {
            return super::fail(format!("cannot write outputs to {}: {e}", dir.display()));
        }
        if !a.quiet && a.output == Output::Text {
            println!("outputs written to {}", dir.display());
        }
    }
    let failed: Vec<&str> = report
        .slos
        .iter()
        .filter(|s| !s.pass)
        .map(|s| s.slo.text.as_str())
        .collect();
    if a.fail_on_slo && !failed.is_empty() {
        eprintln!(
            "error: {} of {} SLOs failed (--fail-on-slo): {}",
            failed.len(),
            report.slos.len(),
            failed.join("; ")
        );
        return 1;
    }
    // The process ends right after this command: freeing the run's records and the workload
    // one by one (millions of allocations on a large trace) would only cost time.
    std::mem::forget(report);
    std::mem::forget(spec);
    0
}
