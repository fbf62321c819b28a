//! The bundled comparison (`scenarios/somaagenthub-gang/sweep.toml`): legacy `preempt, reclaim`
//! vs v1.15's `gangpreempt, gangreclaim`, each with the urgent training gangs' network topology
//! hard (one rack) and soft. The sweep must show what it is for: gang evictions on the gang
//! points (none broken with soft topology; rack domains break victim gangs spread over racks),
//! broken gangs under task-level eviction, and a different
//! training wait and landed tier between hard and soft — in its table, its terminal summary and
//! its HTML report.

use std::path::PathBuf;
use std::sync::OnceLock;

use volsim::sweep::{self, summary, SweepRun};

/// The sweep, run once for both tests.
fn bundled_sweep() -> &'static SweepRun {
    static RUN: OnceLock<SweepRun> = OnceLock::new();
    RUN.get_or_init(run_bundled_sweep)
}

fn run_bundled_sweep() -> SweepRun {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub-gang/sweep.toml");
    let sw = sweep::load_sweep(&p).unwrap();
    sweep::run_sweep(&sw, 2, None, &|| {}).unwrap()
}

/// Column `name` of row `row` (a number).
fn num(run: &SweepRun, name: &str, row: usize) -> f64 {
    let c = run
        .table
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"));
    c.values
        .num(row)
        .unwrap_or_else(|| panic!("{name} is empty in row {row}"))
}

fn text(run: &SweepRun, name: &str, row: usize) -> String {
    run.table.column(name).unwrap().values.cell(row)
}

#[test]
fn sweep_shows_gang_evictions_and_hard_vs_soft_topology() {
    let run = bundled_sweep();
    let actions = "scheduler.actions";
    let mode = "workload.classes.training-urgent.network_topology.mode";
    assert_eq!(run.table.rows(), 4, "actions × topology mode");
    // (actions, mode) → row
    let row = |gang: bool, hard: bool| {
        (0..4)
            .find(|&i| {
                text(run, actions, i).contains("gangpreempt") == gang
                    && (text(run, mode, i) == "hard") == hard
            })
            .expect("every combination is a point")
    };
    for hard in [true, false] {
        let (legacy, gang) = (row(false, hard), row(true, hard));
        // gang-aware eviction evicts gangs; with soft topology the domain is the cluster top,
        // so a victim's bundle holds all its pods and no gang is left half-running; with hard
        // topology the domains are racks, and a victim gang spread over racks loses only its
        // pods in the rack (semantics §2.6: bundles are built from the domain's tasks)
        let (evicted, broken) = (
            num(run, "cluster.gang_evictions", gang),
            num(run, "cluster.gangs_broken", gang),
        );
        assert!(evicted > 0.0);
        if hard {
            assert!(broken > 0.0 && broken < evicted, "{broken} of {evicted}");
        } else {
            assert_eq!(broken, 0.0);
        }
        // task-level eviction breaks the gangs it touches
        assert!(num(run, "cluster.gangs_broken", legacy) > 0.0);
        assert!(num(run, "cluster.wasted_core_s", legacy) > 0.0);
        assert!(num(run, "cluster.wasted_core_s", gang) > 0.0);
    }
    for gang in [false, true] {
        let (h, s) = (row(gang, true), row(gang, false));
        // hard: every urgent gang inside one rack (tier 1); soft: some land higher
        assert_eq!(num(run, "training-urgent.mean_tier", h), 1.0);
        assert!(num(run, "training-urgent.mean_tier", s) > 1.0);
        // and soft gangs wait less than hard ones (waiting for a whole free rack)
        assert!(
            num(run, "training-urgent.p50_wait_s", s) < num(run, "training-urgent.p50_wait_s", h)
        );
        assert!(
            num(run, "training-urgent.p95_wait_s", s) < num(run, "training-urgent.p95_wait_s", h)
        );
    }
    // the queue-level time to reclaim is a column too
    assert!(num(run, "training.time_to_reclaim_p95_s", row(true, true)) > 0.0);
}

#[test]
fn summary_and_html_show_the_comparison_columns() {
    let run = bundled_sweep();
    assert!(!run.meta.show.is_empty());
    let text = summary::render(run, 10);
    assert!(text.contains("per point"), "{text}");
    for c in &run.meta.show {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(c.as_str()))
            .unwrap_or_else(|| panic!("no line for {c} in\n{text}"));
        // a value per combination, none missing
        assert_eq!(line.split_whitespace().count(), 5, "{line}");
        assert!(!line.contains("n/a"), "{line}");
    }
    let d = tempfile::tempdir().unwrap();
    sweep::write_results(run, d.path()).unwrap();
    // the show columns survive the round trip through sweep.json
    assert_eq!(
        sweep::read_results(d.path()).unwrap().meta.show,
        run.meta.show
    );
    // a heatmap per show column over actions × topology mode (the rank metric's is `heatmap`)
    let charts = sweep::plots::charts(run);
    let broken = run
        .meta
        .show
        .iter()
        .position(|c| c == "cluster.gangs_broken");
    let name = format!(
        "heatmap_show{}",
        broken.expect("the sweep shows gangs_broken")
    );
    assert!(charts.iter().any(|c| c.name == name), "no {name}");
    let html = sweep::report::sweep_report(d.path()).unwrap().render();
    for c in &run.meta.show {
        assert!(html.contains(c.as_str()), "HTML lacks {c}");
    }
}

#[test]
fn run_report_shows_gang_evictions_and_landed_tiers() {
    use volsim::run::{run, RunSpec};
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub-gang/scenario.toml");
    let report = run(&RunSpec::load(&p, None, &[]).unwrap());
    let d = tempfile::tempdir().unwrap();
    report.write(d.path()).unwrap();
    let html = volsim::report::run_html::run_report(d.path(), None)
        .unwrap()
        .render();
    assert!(html.contains("Gang evictions"), "gang table");
    assert!(html.contains("Network domain landed"), "tier table");
    // and the terminal eviction section sums them up
    let text = volsim::report::render_evictions(&report.outcome);
    assert!(text.contains("gang evictions "), "{text}");
}
