//! What-if commands end to end: sweeps (thread-count independence, shards merged byte for byte,
//! per-point re-run commands), overrides, the capacity search and `volsim check` exit codes.
//! Uses a 20-minute cut of the bundled somaagenthub scenario to stay fast in debug builds.

use std::path::{Path, PathBuf};
use std::process::Command;

use volsim::check;
use volsim::run::{run, RunSpec};
use volsim::scenario::{load_with_overrides, Override};
use volsim::sweep::{self, capacity};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of somaagenthub with a 20-minute horizon, in `dir`.
fn short_scenario(dir: &Path) -> PathBuf {
    let src = root().join("scenarios/somaagenthub");
    std::fs::copy(src.join("queues.yaml"), dir.join("queues.yaml")).unwrap();
    let text = std::fs::read_to_string(src.join("scenario.toml"))
        .unwrap()
        .replace("horizon = \"4h\"", "horizon = \"20m\"");
    assert!(text.contains("\"20m\""));
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn write_sweep(dir: &Path) -> PathBuf {
    let p = dir.join("sweep.toml");
    std::fs::write(
        &p,
        "scenario = \"scenario.toml\"\nreplications = 2\n[[axis]]\npath = \"nodes.worker.count\"\nvalues = [4, 7]\n[[axis]]\npath = \"queue.interactive.capability.cpu\"\nvalues = [\"12\", \"24\"]\n",
    )
    .unwrap();
    p
}

#[test]
fn sweep_is_thread_independent_and_shards_merge_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    short_scenario(d.path());
    let sw = sweep::load_sweep(&write_sweep(d.path())).unwrap();
    assert_eq!(sw.points.len(), 8);
    let full =
        sweep::run::run_sweep_keeping(&sw, 2, None, Some(&d.path().join("full")), &|| {}).unwrap();
    let serial = sweep::run_sweep(&sw, 1, None, &|| {}).unwrap();
    assert_eq!(full.table, serial.table, "results depend on --jobs");
    sweep::write_results(&full, &d.path().join("full")).unwrap();
    let mut dirs = Vec::new();
    for i in 0..3 {
        let s = sweep::run_sweep(&sw, 1, Some((i, 3)), &|| {}).unwrap();
        let out = d.path().join(format!("shard{i}"));
        sweep::write_results(&s, &out).unwrap();
        dirs.push(out);
    }
    dirs.reverse(); // order of arguments must not matter
    let merged = sweep::merge(&dirs).unwrap();
    sweep::write_results(&merged, &d.path().join("merged")).unwrap();
    for f in ["results.csv", "results.parquet", "sweep.json"] {
        let a = std::fs::read(d.path().join("full").join(f)).unwrap();
        let b = std::fs::read(d.path().join("merged").join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the unsharded run and the merged shards"
        );
    }
    // A missing shard is an error that says which points are missing.
    let e = sweep::merge(&dirs[..2]).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");

    // Every row's command re-runs that point alone with the same result.
    let t = &full.table;
    let cmd = t.column("command").unwrap().values.cell(5);
    let args: Vec<&str> = cmd.split(" --set ").collect();
    let seed: u64 = args[0].rsplit(' ').next().unwrap().parse().unwrap();
    let sets: Vec<Override> = args[1..]
        .iter()
        .map(|s| Override::parse(s.trim_matches('\'')).unwrap())
        .collect();
    assert_eq!(sets.len(), 2, "{cmd}");
    let run = run(&RunSpec::load(&sw.scenario, Some(seed), &sets).unwrap());
    for (name, v) in run.headline.named() {
        let cell = t.column(&name).unwrap().values.num(5);
        assert_eq!(
            cell,
            Some(v).filter(|x| !x.is_nan()),
            "{name} differs on re-run of: {cmd}"
        );
    }
    assert_eq!(
        t.column("decision_hash").unwrap().values.cell(5),
        format!("{:016x}", run.headline.decision_hash)
    );

    // HTML reports of a kept run and of the sweep: self-contained, every chart present.
    let png = d.path().join("png");
    std::fs::create_dir_all(&png).unwrap();
    let page = volsim::report::run_html::run_report(&d.path().join("full/runs/0005"), Some(&png))
        .unwrap()
        .render();
    assert!(
        page.matches("<figure class=\"chart\"><svg").count() >= 5,
        "run report charts: CDF, pending, allocated vs deserved (≥ 2 busy queues), cluster"
    );
    assert!(!page.contains("<script") && !page.contains("src=\"http"));
    assert!(std::fs::read_dir(&png).unwrap().count() >= 5);
    let page = volsim::sweep::report::sweep_report(&d.path().join("full"))
        .unwrap()
        .render();
    assert!(
        page.matches("<figure class=\"chart\"><svg").count() >= 5,
        "sweep report charts (incl. heatmap)"
    );
}

#[test]
fn overrides_name_the_bad_path() {
    let d = tempfile::tempdir().unwrap();
    let p = short_scenario(d.path());
    let e = load_with_overrides(&p, None, &[Override::parse("queue.nope.weight=2").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("queue.nope.weight") && e.contains("interactive"),
        "{e}"
    );
    let e = load_with_overrides(&p, None, &[Override::parse("nodes.gpu.count=2").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no nodes entry named \"gpu\""), "{e}");
    let e = load_with_overrides(&p, None, &[Override::parse("plugin.nope.x=1").unwrap()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no plugin \"nope\""), "{e}");
    let sc = load_with_overrides(
        &p,
        Some(7),
        &[
            Override::parse("plugin.overcommit.overcommit-factor=1.5").unwrap(),
            Override::parse("scheduler.actions=enqueue, allocate, preempt, backfill").unwrap(),
            Override::parse("queue.batch.capability.cpu=30").unwrap(),
            Override::parse("workload.rate_multiplier=2.0").unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(sc.seed, 7);
    assert_eq!(sc.conf.actions.len(), 4);
    let batch = sc.queues.iter().find(|q| q.name == "batch").unwrap();
    assert_eq!(batch.capability.unwrap().cpu(), 30_000);
}

#[test]
fn capacity_finds_smallest_node_count() {
    let d = tempfile::tempdir().unwrap();
    let p = short_scenario(d.path());
    let q = capacity::Query {
        scenario: p,
        field: "nodes.worker.count".into(),
        lo: 2.0,
        hi: 12.0,
        integer: true,
        step: 1.0,
        slos: vec![volsim::scenario::parse_slo("interactive.p95_wait <= 2m").unwrap()],
        replications: 1,
        find: capacity::Find::Min,
        base_seed: 42,
        base: vec![Override::parse("queue.interactive.capability.cpu=48").unwrap()],
    };
    let a = capacity::search(&q, &|_| {}).unwrap();
    let ans = a.probes[a.answer.expect("an answer in 2..12")].value;
    // Every probe below the answer failed, every probe at or above it passed.
    for p in &a.probes {
        assert_eq!(p.pass, p.value >= ans, "probe {} vs answer {ans}", p.value);
    }
    assert!(capacity::render(&q, &a).contains(&format!("answer: nodes.worker.count = {ans}")));
}

#[test]
fn check_passes_on_bundled_baseline_and_fails_on_half_the_cluster() {
    let exe = env!("CARGO_BIN_EXE_volsim");
    let run = |extra: &[&str]| {
        Command::new(exe)
            .current_dir(root())
            .args([
                "check",
                "scenarios/somaagenthub/scenario.toml",
                "--baseline",
                "reports/baselines/somaagenthub.toml",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = run(&[]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let half = run(&["--set", "nodes.worker.count=3"]);
    let out = String::from_utf8_lossy(&half.stdout);
    assert_eq!(
        half.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&half.stderr)
    );
    assert!(
        out.contains("regression: ") && out.contains("interactive.p95_wait_s"),
        "{out}"
    );
    let bad = run(&["--set", "nodes.worker.count"]);
    assert_eq!(bad.status.code(), Some(2));
    let b = check::Baseline::read(&root().join("reports/baselines/somaagenthub.toml")).unwrap();
    assert!(b.metrics.contains_key("interactive.p95_wait_s"));
}
