//! `volsim run SCENARIO [--out DIR] [--seed N] [--set PATH=VALUE]…`: one run through the run
//! pipeline (`volsim::run`), the terminal report and (with --out) the output files.

use std::path::{Path, PathBuf};

use volsim::run::{run as run_spec, RunSpec};

pub fn run(
    path: &Path,
    out: Option<&PathBuf>,
    seed: Option<u64>,
    set: &[String],
    quiet: bool,
) -> i32 {
    let set = match super::check::overrides(set) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let spec = match RunSpec::load(path, seed, &set) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let sc = &spec.scenario;
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
    let started = std::time::Instant::now();
    let report = run_spec(&spec);
    let wall = started.elapsed();
    if !quiet {
        let o = &report.outcome;
        println!(
            "scenario {} (digest {}), seed {}: {} jobs{} on {} nodes, simulated {}{}",
            sc.name,
            sc.digest,
            o.seed,
            sc.jobs.len(),
            if sc.workflows.is_empty() {
                String::new()
            } else {
                format!(
                    " + {} workflows ({} activity jobs)",
                    sc.workflows.len(),
                    o.jobs.len() - sc.jobs.len()
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
    if let Some(dir) = out {
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| report.write(dir)) {
            return super::fail(format!("cannot write outputs to {}: {e}", dir.display()));
        }
        if !quiet {
            println!("outputs written to {}", dir.display());
        }
    }
    0
}
