//! `volsim sweep SWEEP.toml [--out DIR] [--jobs N] [--shard i/n] [--quiet]` and
//! `volsim sweep merge DIR… --out DIR`: runs a sweep (progress bar with ETA on a TTY), writes
//! the table (CSV + Parquet), `sweep.json`, `summary.txt` and plots, prints the ranked summary.
//! Exit codes: 0 ok, 2 bad input or unwritable output.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use volsim::sweep::{self, plots, summary};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepCmd {
    #[command(subcommand)]
    sub: Option<SweepSub>,
    #[command(flatten)]
    run: SweepRunArgs,
}

#[derive(Args)]
struct SweepRunArgs {
    /// The sweep file (base scenario + axes or an explicit list of points).
    sweep: Option<PathBuf>,
    /// Output directory (default: sweep-out/<sweep file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores; at most 1024).
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard i of n (0 ≤ i < n): the points with index ≡ i (mod n).
    #[arg(long)]
    shard: Option<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Also write every point's run outputs (summary.json, jobs.csv, …) to OUT/runs/NNNN/.
    #[arg(long)]
    keep_runs: bool,
}

#[derive(Subcommand)]
enum SweepSub {
    /// Join shard output directories into one table (byte-identical to an unsharded run).
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, default_value = "sweep-merged")]
        out: PathBuf,
    },
}

pub fn main(cmd: SweepCmd) -> i32 {
    match cmd.sub {
        Some(SweepSub::Merge { dirs, out }) => merge(&dirs, &out),
        None => run(cmd.run),
    }
}

fn finish(r: &sweep::SweepRun, out: &std::path::Path) -> i32 {
    let written = sweep::write_results(r, out).and_then(|_| plots::write_plots(r, out));
    if let Err(e) = written {
        eprintln!("error: {e}");
        return 2;
    }
    let text = summary::render(r, 10);
    let _ = std::fs::write(out.join("summary.txt"), &text);
    print!("{text}");
    println!(
        "wrote {}/results.csv, results.parquet, sweep.json, summary.txt, plots/",
        out.display()
    );
    0
}

fn run(a: SweepRunArgs) -> i32 {
    let Some(file) = a.sweep else {
        eprintln!(
            "error: give a sweep file (volsim sweep SWEEP.toml) or `volsim sweep merge DIR…`"
        );
        return 2;
    };
    if let Some(j) = a.jobs.filter(|&j| j > sweep::run::MAX_THREADS) {
        eprintln!(
            "error: --jobs: {j} exceeds the limit of {} worker threads",
            sweep::run::MAX_THREADS
        );
        return 2;
    }
    let shard = match a.shard.as_deref().map(sweep::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --shard: {e}");
            return 2;
        }
    };
    let sw = match sweep::load_sweep(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let n = sw
        .points
        .iter()
        .filter(|p| sweep::spec::in_shard(p.index, shard))
        .count() as u64;
    let bar = if a.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(n)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} points  {elapsed_precise} elapsed, ETA {eta_precise}",
        )
        .expect("template"),
    );
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("sweep-out").join(stem));
    let r = sweep::run::run_sweep_keeping(
        &sw,
        jobs,
        shard,
        a.keep_runs.then_some(out.as_path()),
        &|| bar.inc(1),
    );
    bar.finish_and_clear();
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    finish(&r, &out)
}

fn merge(dirs: &[PathBuf], out: &std::path::Path) -> i32 {
    match sweep::merge(dirs) {
        Ok(r) => finish(&r, out),
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
