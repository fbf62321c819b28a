//! Sweep ranking: among configurations meeting every SLO, the cheapest (least cluster cpu,
//! `cluster.capacity_cpu`) ranks first, even when a costlier one has the better ranking metric.

use std::path::{Path, PathBuf};

use volsim::sweep::{self, summary};

/// somaagenthub cut to 10 minutes with one SLO every configuration meets, in `dir`.
fn lenient_scenario(dir: &Path) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub");
    std::fs::copy(src.join("queues.yaml"), dir.join("queues.yaml")).unwrap();
    let text = std::fs::read_to_string(src.join("scenario.toml"))
        .unwrap()
        .replace("horizon = \"4h\"", "horizon = \"10m\"");
    let start = text.find("slo = [").expect("the scenario states SLOs");
    let end = start + text[start..].find(']').unwrap() + 1;
    let text = format!(
        "{}slo = [\"interactive.max_wait <= 10h\"]{}",
        &text[..start],
        &text[end..]
    );
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn cheapest_configuration_meeting_every_slo_ranks_first() {
    let d = tempfile::tempdir().unwrap();
    lenient_scenario(d.path());
    let p = d.path().join("sweep.toml");
    std::fs::write(
        &p,
        "scenario = \"scenario.toml\"\nrank_by = \"interactive.p95_wait_s\"\n[[axis]]\npath = \"nodes.worker.count\"\nvalues = [12, 6]\n",
    )
    .unwrap();
    let sw = sweep::load_sweep(&p).unwrap();
    let run = sweep::run_sweep(&sw, 1, None, &|| {}).unwrap();
    let ranked = summary::rank(&run);
    assert_eq!(ranked.len(), 2);
    assert!(ranked
        .iter()
        .all(|r| r.slo_met == r.slo_total && r.slo_total == 1));
    let cost: Vec<f64> = ranked.iter().map(|r| r.cost.unwrap()).collect();
    assert!(cost[0] < cost[1], "cheapest first: {cost:?}");
    // The costlier configuration waits less, so the metric alone would have put it first.
    assert!(ranked[1].metric.unwrap() <= ranked[0].metric.unwrap());
}
