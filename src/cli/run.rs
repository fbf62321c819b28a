//! `volsim run SCENARIO [--out DIR] [--seed N]`: one simulation, the terminal table, the SLO
//! verdicts and (with --out) the output files.

use std::path::{Path, PathBuf};

use volsim::{runner, scenario};

pub fn run(path: &Path, out: Option<&PathBuf>, seed: Option<u64>, quiet: bool) -> i32 {
    let sc = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
    let started = std::time::Instant::now();
    let result = runner::run(&sc, seed);
    let wall = started.elapsed();
    if !quiet {
        let o = &result.outcome;
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
        print!(
            "{}",
            volsim::report::render_table_marked(&result.metrics, |scope, name| {
                runner::slo_marks(&result.slos, scope, name)
            })
        );
        if !result.workflows.is_empty() {
            println!();
            print!(
                "{}",
                volsim::report::render_workflows(&result.workflow_metrics)
            );
        }
        let ev = runner::render_evictions(&result.outcome);
        if !ev.is_empty() {
            println!();
            print!("{ev}");
        }
        let ttr = volsim::report::render_time_to_reclaim(&result.outcome);
        if !ttr.is_empty() {
            println!();
            print!("{ttr}");
        }
        let slos = runner::render_slos(&result.slos);
        if !slos.is_empty() {
            println!();
            print!("{slos}");
        }
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
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| runner::write(&result, dir)) {
            return super::fail(format!("cannot write outputs to {}: {e}", dir.display()));
        }
        if !quiet {
            println!("outputs written to {}", dir.display());
        }
    }
    0
}
