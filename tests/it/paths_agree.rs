//! Paths agree: every command that means "a run" — `volsim run`, a one-point `sweep`, a
//! `capacity` probe, `baseline`/`check`, and the live twin — makes the same decisions for the
//! same scenario. Checked for every bundled scenario: job counts, decision-log hash and SLO
//! verdicts. A new path that means "a run" gets a row here.

use std::path::{Path, PathBuf};
use std::process::Command;

use volsim::report::RunReport;
use volsim::run::{run, RunSpec};
use volsim::sweep::capacity::{self, Find, Query};
use volsim::sweep::{self, SeedMode};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every bundled scenario (`scenarios/*/scenario.toml`).
fn bundled() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path().join("scenario.toml"))
        .filter(|p| p.exists())
        .collect();
    v.sort();
    assert!(v.len() >= 3, "{v:?}");
    v
}

fn volsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What every path must agree on.
#[derive(Debug, PartialEq)]
struct Decisions {
    jobs: usize,
    hash: String,
    /// (SLO text, met) in scenario order.
    slos: Vec<(String, bool)>,
}

fn of_report(r: &RunReport) -> Decisions {
    Decisions {
        jobs: r.outcome.jobs.len(),
        hash: format!("{:016x}", r.outcome.decision_hash),
        slos: r
            .slos
            .iter()
            .map(|v| (v.slo.text.clone(), v.pass))
            .collect(),
    }
}

/// `volsim run SC --out DIR`, read back from its files.
fn via_cli_run(sc: &Path, dir: &Path) -> Decisions {
    let out = dir.join("run");
    let (code, stdout, stderr) =
        volsim(&["run", sc.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let hash = summary["decision_log_hash"].as_str().unwrap().to_string();
    assert!(stdout.contains(&hash), "{stdout}");
    let mut slos = Vec::new();
    let mut r = csv::Reader::from_path(out.join("slo.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        slos.push((rec[0].to_string(), &rec[6] == "true"));
    }
    let jobs = csv::Reader::from_path(out.join("jobs.csv"))
        .unwrap()
        .records()
        .count();
    Decisions { jobs, hash, slos }
}

/// A one-point sweep over the scenario's own worker count.
fn via_sweep(sc: &Path, dir: &Path, workers: i64) -> Decisions {
    let file = dir.join("one.toml");
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\n[[axis]]\npath = \"nodes.worker.count\"\nvalues = [{workers}]\n",
            sc.to_str().unwrap()
        ),
    )
    .unwrap();
    let sw = sweep::load_sweep(&file).unwrap();
    assert_eq!(sw.points.len(), 1);
    assert_eq!(sw.seeds, SeedMode::Common);
    let r = sweep::run_sweep(&sw, 1, None, &|| {}).unwrap();
    let t = &r.table;
    let num = |c: &str| t.column(c).unwrap().values.num(0).unwrap();
    Decisions {
        jobs: num("cluster.jobs") as usize,
        hash: t.column("decision_hash").unwrap().values.cell(0),
        slos: r
            .meta
            .slos
            .iter()
            .map(|s| (s.clone(), num(&format!("met:{s}")) == 1.0))
            .collect(),
    }
}

/// The capacity probe at the scenario's own worker count.
fn via_capacity(sc: &Path, spec: &RunSpec, workers: i64) -> Decisions {
    let q = Query {
        scenario: sc.to_path_buf(),
        field: "nodes.worker.count".into(),
        lo: workers as f64,
        hi: workers as f64 + 1.0,
        integer: true,
        step: 1.0,
        slos: spec.scenario.slos.clone(),
        replications: 1,
        // `Max` probes `lo` first whatever the SLOs say.
        find: Find::Max,
        base_seed: spec.scenario.seed,
        base: vec![],
    };
    let probes = std::sync::Mutex::new(Vec::new());
    capacity::search(&q, &|p| probes.lock().unwrap().push(p.clone())).unwrap();
    let probes = probes.into_inner().unwrap();
    let p = probes
        .iter()
        .find(|p| p.value == workers as f64)
        .expect("the search probes lo first");
    let rep = &p.reps[0];
    Decisions {
        jobs: rep.jobs,
        hash: format!("{:016x}", rep.decision_hash),
        slos: rep
            .slos
            .iter()
            .map(|v| (v.slo.text.clone(), v.pass))
            .collect(),
    }
}

/// `volsim baseline` pins the same hash, and `volsim check` against it passes.
fn via_baseline(sc: &Path, dir: &Path) -> String {
    let b = dir.join("baseline.toml");
    let (code, stdout, stderr) = volsim(&[
        "baseline",
        sc.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, out, err) = volsim(&[
        "check",
        sc.to_str().unwrap(),
        "--baseline",
        b.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "check against its own baseline: {out}{err}");
    stdout
        .rsplit("decision hash ")
        .next()
        .unwrap()
        .trim()
        .trim_end_matches(')')
        .to_string()
}

#[test]
fn every_bundled_scenario_means_the_same_run_on_every_path() {
    for sc in bundled() {
        let dir = tempfile::tempdir().unwrap();
        let spec = RunSpec::load(&sc, None, &[]).unwrap();
        let lib = of_report(&run(&spec));
        assert!(lib.jobs > 0, "{}: no jobs", sc.display());
        let workers = spec
            .scenario
            .nodes
            .iter()
            .filter(|n| n.name.starts_with("worker-"))
            .count() as i64;
        assert!(workers > 0, "{}: no worker pool", sc.display());
        let name = sc.display();
        assert_eq!(via_cli_run(&sc, dir.path()), lib, "{name}: volsim run");
        assert_eq!(via_sweep(&sc, dir.path(), workers), lib, "{name}: sweep");
        assert_eq!(via_capacity(&sc, &spec, workers), lib, "{name}: capacity");
        assert_eq!(via_baseline(&sc, dir.path()), lib.hash, "{name}: baseline");
    }
}

/// `--seed N` regenerates the workload, exactly as the sweep row with seed N does, and `--set`
/// re-runs a sweep row: the command a sweep prints reproduces its row.
#[test]
fn run_seed_and_set_reproduce_sweep_rows() {
    let sc = root().join("scenarios/somaagenthub/scenario.toml");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\nseeds = \"per-point\"\n[[axis]]\npath = \"queue.interactive.capability.cpu\"\nvalues = [32, 48]\n",
            sc.to_str().unwrap()
        ),
    )
    .unwrap();
    let sw = sweep::load_sweep(&file).unwrap();
    let r = sweep::run_sweep(&sw, 2, None, &|| {}).unwrap();
    let t = &r.table;
    let hashes: Vec<String> = (0..2)
        .map(|i| t.column("decision_hash").unwrap().values.cell(i))
        .collect();
    assert_ne!(hashes[0], hashes[1]);
    for (i, hash) in hashes.iter().enumerate() {
        let cmd = t.column("command").unwrap().values.cell(i);
        let words: Vec<String> = cmd
            .split(' ')
            .skip(1)
            .map(|w| w.trim_matches('\'').to_string())
            .collect();
        assert!(
            cmd.contains("--set queue.interactive.capability.cpu="),
            "{cmd}"
        );
        let args: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
        let (code, stdout, stderr) = volsim(&args);
        assert_eq!(code, 0, "{cmd}: {stderr}");
        assert!(
            stdout.contains(&format!("decision log hash {hash}")),
            "{cmd} does not reproduce row {i} ({hash}):\n{stdout}"
        );
    }
    // `run --seed` regenerates the synthetic workload (not only the tie-breaking): the job
    // count of the Poisson arrivals changes with the seed.
    let jobs = |seed: &str| -> u64 {
        let (code, stdout, stderr) = volsim(&["run", sc.to_str().unwrap(), "--seed", seed]);
        assert_eq!(code, 0, "{stderr}");
        let head = stdout.lines().next().unwrap().to_string();
        let before = head.split(" jobs").next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_ne!(jobs("1"), jobs("2"));
}
