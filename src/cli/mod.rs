//! Command-line surface: parses arguments with clap and dispatches to the library. Errors are
//! printed to stderr with their file/field context and mapped to exit code 2.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod capacity;
mod check;
mod live;
mod reality;
mod report;
mod run;
mod sweep;
mod trace;

#[derive(Parser)]
#[command(
    name = "volsim",
    version,
    about = "What will the Volcano scheduler do to my workload? A discrete-event simulator over a faithful model of Volcano."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario: per-queue and per-class table, SLO verdicts, output files.
    Run {
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
    },
    /// Run every case of a volcano-conformance/v1 file against the policy core.
    Conformance {
        /// The case file (e.g. tests/fixtures/conformance/conformance-cases.yaml).
        file: PathBuf,
    },
    /// Workload traces: import, stats, pull from Temporal, generate benchmark traces.
    Trace {
        #[command(subcommand)]
        cmd: trace::TraceCmd,
    },
    /// Live mode: replay a scenario or serve submissions against kube, twin or dry-run.
    Live {
        #[command(subcommand)]
        cmd: Box<live::LiveCmd>,
    },
    /// Compare predicted and observed waits (CSV files written by `volsim live`).
    Compare(live::CompareArgs),
    /// Live run against a Volcano cluster, simulator replay of the observed submissions, and
    /// the predicted-vs-observed report per queue and class.
    Reality(reality::RealityArgs),
    /// Run a parameter sweep over a scenario (or merge shard outputs: `sweep merge DIR…`).
    Sweep(sweep::SweepCmd),
    /// Find the smallest (or largest) value of a field that meets every SLO (bisection).
    Capacity(capacity::CapacityArgs),
    /// Pin a run's headline metrics with tolerances into a baseline file.
    Baseline(check::BaselineArgs),
    /// Re-run a scenario and compare with a baseline (exit 1 on regression).
    Check(check::CheckArgs),
    /// Write a self-contained HTML report of a run or sweep output directory.
    Report(report::ReportArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.cmd {
        Cmd::Run {
            scenario,
            out,
            seed,
            set,
            quiet,
        } => run::run(&scenario, out.as_ref(), seed, &set, quiet),
        Cmd::Conformance { file } => conformance(&file),
        Cmd::Trace { cmd } => trace::run(cmd),
        Cmd::Live { cmd } => live::live(*cmd),
        Cmd::Compare(args) => live::compare_cmd(&args),
        Cmd::Reality(a) => reality::main(a),
        Cmd::Sweep(c) => sweep::main(c),
        Cmd::Capacity(a) => capacity::main(a),
        Cmd::Baseline(a) => check::baseline(a),
        Cmd::Check(a) => check::check(a),
        Cmd::Report(a) => report::main(a),
    }
}

fn conformance(file: &PathBuf) -> i32 {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return 2;
        }
    };
    match volsim::conformance::run_text(&text, &file.display().to_string()) {
        Ok(report) => {
            print!("{}", report.render());
            if report.failed() > 0 {
                1
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// Prints an input error and returns exit code 2.
pub(crate) fn fail(e: impl std::fmt::Display) -> i32 {
    eprintln!("error: {e}");
    2
}
