//! Snapshot tests of the bundled scenarios: each one's `summary.json` (metrics per queue and
//! class, counters, the decision-log hash) through the run pipeline. A change in behaviour
//! shows up as a reviewed snapshot diff (`cargo insta review`, or `INSTA_UPDATE=always`), never
//! silently. The snapshots live in `tests/snapshots/`.

use std::path::PathBuf;

use volsim::report::write::summary_json;
use volsim::run::{run, RunSpec};

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
        .join("scenario.toml")
}

fn summary(name: &str) -> String {
    let report = run(&RunSpec::load(&scenario(name), None, &[]).unwrap());
    summary_json(&report.outcome, &report.meta, &report.params)
}

#[test]
fn somaagenthub_summary() {
    insta::assert_snapshot!(summary("somaagenthub"));
}

#[test]
fn somaagenthub_reclaim_summary() {
    insta::assert_snapshot!(summary("somaagenthub-reclaim"));
}

#[test]
fn somaagenthub_gang_summary() {
    insta::assert_snapshot!(summary("somaagenthub-gang"));
}

#[test]
fn temporal_sample_summary() {
    insta::assert_snapshot!(summary("temporal-sample"));
}

#[test]
fn topology_racks_summary() {
    insta::assert_snapshot!(summary("topology-racks"));
}

#[test]
fn every_bundled_scenario_has_a_snapshot() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.join("scenario.toml").exists() {
            let name = p.file_name().unwrap().to_str().unwrap().replace('-', "_");
            let snap = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/it/snapshots")
                .join(format!("it__snapshots__{name}_summary.snap"));
            assert!(
                snap.exists(),
                "no snapshot test for scenario {}",
                p.display()
            );
        }
    }
}

#[test]
fn reality_summary() {
    insta::assert_snapshot!(summary("reality"));
}
