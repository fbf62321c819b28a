//! Command-line surface: parses arguments with clap and dispatches to the library. Errors are
//! printed to stderr with their file/field context and mapped to exit code 2.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

mod capacity;
mod check;
mod compare;
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

// Parsed once per process; the largest variant (`reality`'s flags) costs nothing to keep inline.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Simulate a scenario: per-queue and per-class table, SLO verdicts, output files.
    Run(run::RunArgs),
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
    Compare(compare::CompareArgs),
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a directory.
    Man {
        /// Write volsim.1 and volsim-<command>.1 for every subcommand into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// What a command prints on stdout: the terminal report, or one JSON document (`docs/cli.md`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
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
        Cmd::Run(a) => run::run(a),
        Cmd::Conformance { file } => conformance(&file),
        Cmd::Trace { cmd } => trace::run(cmd),
        Cmd::Live { cmd } => live::live(*cmd),
        Cmd::Compare(args) => compare::compare_cmd(&args),
        Cmd::Reality(a) => reality::main(a),
        Cmd::Sweep(c) => sweep::main(c),
        Cmd::Capacity(a) => capacity::main(a),
        Cmd::Baseline(a) => check::baseline(a),
        Cmd::Check(a) => check::check(a),
        Cmd::Report(a) => report::main(a),
        Cmd::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "volsim", &mut std::io::stdout());
            0
        }
        Cmd::Man { out } => man(out.as_deref()),
    }
}

/// `volsim man [--out DIR]`: the man page(s), generated from the clap definitions.
fn man(out: Option<&std::path::Path>) -> i32 {
    let cmd = Cli::command();
    match out {
        None => {
            let mut buf = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
                return fail(format!("cannot render the man page: {e}"));
            }
            use std::io::Write;
            let _ = std::io::stdout().write_all(&buf);
            0
        }
        Some(dir) => {
            if let Err(e) =
                std::fs::create_dir_all(dir).and_then(|_| clap_mangen::generate_to(cmd, dir))
            {
                return fail(format!("cannot write man pages to {}: {e}", dir.display()));
            }
            eprintln!("man pages written to {}", dir.display());
            0
        }
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

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command's long help, recursively, with its path (`volsim live run`).
    fn all_help(cmd: &mut clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let help = cmd.render_long_help().to_string();
        out.push((path.to_string(), help));
        for sub in cmd.get_subcommands_mut() {
            let p = format!("{path} {}", sub.get_name());
            all_help(sub, &p, out);
        }
    }

    #[test]
    fn help_names_no_source_paths() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut helps = Vec::new();
        all_help(&mut cmd, "volsim", &mut helps);
        assert!(helps.len() > 20, "{} commands", helps.len());
        for (path, help) in &helps {
            for bad in ["src/", ".rs ", ".rs)", ".rs,", "tests/it"] {
                assert!(
                    !help.contains(bad),
                    "`{path} --help` mentions {bad:?}:\n{help}"
                );
            }
        }
    }

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
