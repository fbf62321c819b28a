//! `live run` on twin and dry-run, `compare`, and the layering rule.

use std::path::Path;

use serde_json::Value;

use super::*;

#[test]
fn live_never_imports_sim() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p)
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/live"),
        &mut files,
    );
    assert!(files.len() > 5);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, l) in text.lines().enumerate() {
            let code = l.split("//").next().unwrap_or("");
            assert!(
                !code.contains("crate::sim")
                    && !code.contains("volsim::sim")
                    && !code.contains("super::super::sim"),
                "{}:{}: live must not use sim: {l}",
                f.display(),
                i + 1
            );
            assert!(
                !code.contains("crate::scenario") && !code.contains("crate::report"),
                "{}:{}: live may not use {l}",
                f.display(),
                i + 1
            );
        }
    }
}

/// `volsim live run` of `sc` on the twin backend at `speed`, writing to `out`.
fn run_twin(
    sc: &std::path::Path,
    out: &std::path::Path,
    speed: &str,
    drain: &str,
) -> (i32, String, String) {
    run(&[
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "twin",
        "--speed",
        speed,
        "--out",
        out.to_str().unwrap(),
        "--drain",
        drain,
    ])
}

#[test]
fn live_run_twin_then_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twin");
    let sc = fixture("small.toml");
    let (code, stdout, stderr) = run_twin(&sc, &out, "200", "30s");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("submitted 12 (replayed 0, held 0), finished 12"),
        "{stdout}"
    );
    let obs = std::fs::read_to_string(out.join("observed.csv")).unwrap();
    assert_eq!(obs.lines().count(), 13);
    assert!(
        obs.lines().skip(1).all(|l| !l.ends_with(',')),
        "every job admitted:\n{obs}"
    );
    let trace = volsim::workload::read_csv_trace(&out.join("observed-trace.csv")).unwrap();
    assert_eq!(trace.len(), 12);
    let (code, report, _) = run(&[
        "compare",
        out.join("predictions.csv").to_str().unwrap(),
        out.join("observed.csv").to_str().unwrap(),
        "--per-job",
    ]);
    assert_eq!(code, 0);
    assert!(report.contains("abs_err_s"), "{report}");
    assert!(
        report.contains("jobs compared: 12") && report.contains("interactive"),
        "{report}"
    );
    // the same comparison as one JSON document
    let (code, json, _) = run(&[
        "compare",
        out.join("predictions.csv").to_str().unwrap(),
        out.join("observed.csv").to_str().unwrap(),
        "--per-job",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format"], "volsim-compare/v1");
    assert_eq!(v["compared"], 12);
    assert_eq!(v["jobs"].as_array().unwrap().len(), 12);
    let all = &v["groups"][0];
    assert_eq!(
        (all["kind"].as_str(), all["jobs"].as_u64()),
        (Some("all"), Some(12))
    );
    assert!(v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["kind"] == "queue" && g["name"] == "interactive"));
    assert!(
        report.contains(&format!("{:.1}", all["mae_s"].as_f64().unwrap())),
        "{report}"
    );
    // a second run on the same journal replays instead of resubmitting
    let (code, stdout, stderr) = run_twin(&sc, &out, "200", "1s");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("submitted 0 (replayed 12"), "{stdout}");
}

#[test]
fn live_run_dry_run_writes_valid_manifests_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dry");
    let sc = fixture("small.toml");
    for (flag, mode, objects) in [
        ("--object", "vcjob", 1),
        ("--object", "podgroup", 2),
        ("--scheduler", "native", 1),
    ] {
        let out = out.join(mode);
        let args = [
            "live",
            "run",
            "--scenario",
            sc.to_str().unwrap(),
            "--backend",
            "dry-run",
            "--speed",
            "500",
            flag,
            mode,
            "--hold-above",
            "1h",
            "--out",
            out.to_str().unwrap(),
            "--drain",
            "0s",
        ];
        let (code, stdout, stderr) = run(&args);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("submitted 12"), "{stdout}");
        let files: Vec<_> = std::fs::read_dir(out.join("manifests"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 12);
        for f in &files {
            assert!(
                f.extension().is_some_and(|x| x == "yaml"),
                "{}",
                f.display()
            );
            let text = std::fs::read_to_string(f).unwrap();
            // multi-document YAML, as `kubectl apply -f` reads it
            assert!(text.contains("\n---\n"), "{text}");
            let objs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
            // what an untyped YAML reader (kubectl) sees equals the typed objects: no string
            // turned into a number or a boolean
            let typed: Vec<volsim::live::manifest::Manifest> =
                serde_saphyr::from_multiple(&text).unwrap();
            assert_eq!(
                serde_json::to_value(&typed).unwrap(),
                Value::Array(objs.clone()),
                "{text}"
            );
            assert_eq!(objs.len(), objects);
            for o in &objs {
                assert_eq!(
                    volsim::live::validate::check_value(o),
                    Vec::<String>::new(),
                    "{}",
                    f.display()
                );
                assert_eq!(
                    o["metadata"]["labels"]["app.kubernetes.io/managed-by"],
                    "volsim"
                );
                assert!(o["metadata"]["annotations"]["volsim.io/predicted-wait-ms"].is_string());
            }
        }
        let log = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
        assert_eq!(log.lines().count(), 12);
        let (code, stdout, _) = run(&args);
        assert_eq!(code, 0);
        assert!(stdout.contains("submitted 0 (replayed 12"), "{stdout}");
        assert_eq!(
            std::fs::read_dir(out.join("manifests")).unwrap().count(),
            12
        );
    }
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let sc = fixture("small.toml");
    let cases: [&[&str]; 4] = [
        &[
            "live",
            "run",
            "--scenario",
            "/nonexistent.toml",
            "--backend",
            "twin",
        ],
        &[
            "live",
            "run",
            "--scenario",
            sc.to_str().unwrap(),
            "--backend",
            "twin",
            "--speed",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
        &[
            "live",
            "run",
            "--scenario",
            sc.to_str().unwrap(),
            "--backend",
            "twin",
            "--hold-above",
            "soon",
            "--out",
            out.to_str().unwrap(),
        ],
        &["compare", "/nonexistent-a.csv", "/nonexistent-b.csv"],
    ];
    for args in cases {
        let (code, _, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}

/// The twin is the simulator's engine advanced to the wall clock: at two very different
/// speeds it admits every job at exactly the time `volsim run` does, both on the twin's
/// observed trace and on the scenario itself (submissions keep their trace times, so the answer
/// does not depend on `--speed`; lag is reported instead).
#[test]
fn twin_matches_volsim_run_at_any_speed() {
    let dir = tempfile::tempdir().unwrap();
    let sc = fixture("small.toml");
    let read =
        |p: &Path,
         key: &str,
         val: &dyn Fn(&csv::StringRecord, &csv::StringRecord) -> Option<i64>| {
            let mut r = csv::Reader::from_path(p).unwrap();
            let h = r.headers().unwrap().clone();
            let k = h.iter().position(|x| x == key).unwrap();
            let mut m = std::collections::BTreeMap::new();
            for rec in r.records() {
                let rec = rec.unwrap();
                m.insert(rec[k].to_string(), val(&h, &rec));
            }
            m
        };
    let col = |h: &csv::StringRecord, rec: &csv::StringRecord, name: &str| -> Option<i64> {
        rec.get(h.iter().position(|x| x == name)?)?.parse().ok()
    };
    // `volsim run` on the scenario: gang-ready times by job id.
    let rdir = dir.path().join("run");
    let (code, _, stderr) = run(&[
        "run",
        sc.to_str().unwrap(),
        "--quiet",
        "--out",
        rdir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let simulated = read(&rdir.join("jobs.csv"), "id", &|h, r| {
        col(h, r, "gang_ready")
    });
    assert_eq!(simulated.len(), 12);
    assert!(simulated.values().all(|v| v.is_some()), "{simulated:?}");
    let text = std::fs::read_to_string(&sc).unwrap();
    let cut = text.find("[[workload.classes]]").unwrap();
    for speed in ["60", "2000"] {
        let out = dir.path().join(format!("twin-{speed}"));
        let (code, stdout, stderr) = run_twin(&sc, &out, speed, "30s");
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("finished 12"), "{stdout}");
        // The twin's own view: workflow id (the trace job id) → gang ready.
        let twin = read(&out.join("observed.csv"), "key", &|h, r| {
            Some(col(h, r, "submit_ms")? + col(h, r, "wait_ms")?)
        });
        let twin: std::collections::BTreeMap<String, Option<i64>> = twin
            .into_iter()
            .map(|(k, v)| (k.trim_start_matches("run:").to_string(), v))
            .collect();
        assert_eq!(twin, simulated, "twin at --speed {speed} vs volsim run");
        // And `volsim run` on the trace the twin observed.
        let replay = dir.path().join(format!("replay-{speed}.toml"));
        let trace = out.join("observed-trace.csv");
        std::fs::write(
            &replay,
            format!(
                "{}\n[workload]\ntrace = {:?}\n",
                &text[..cut],
                trace.to_str().unwrap()
            ),
        )
        .unwrap();
        let odir = dir.path().join(format!("replayed-{speed}"));
        let (code, _, stderr) = run(&[
            "run",
            replay.to_str().unwrap(),
            "--quiet",
            "--out",
            odir.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        let observed = read(&out.join("observed.csv"), "job", &|h, r| {
            Some(col(h, r, "submit_ms")? + col(h, r, "wait_ms")?)
        });
        let replayed = read(&odir.join("jobs.csv"), "id", &|h, r| {
            col(h, r, "gang_ready")
        });
        assert_eq!(
            observed, replayed,
            "--speed {speed}: twin vs its observed trace"
        );
    }
}

/// When a `kubectl` binary is on PATH (it is not on a fresh machine), it reads every dry-run
/// manifest offline (`kubectl label --local -f FILE`: parses each YAML document into an object
/// without a cluster); `apply --dry-run=client` would need an API server for the CRDs' REST
/// mapping, which `live::kube_e2e` covers when one runs.
#[test]
fn kubectl_reads_dry_run_manifests_when_available() {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: no kubectl on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dry");
    let sc = fixture("small.toml");
    let (code, _, stderr) = run(&[
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "dry-run",
        "--object",
        "podgroup",
        "--speed",
        "1000",
        "--out",
        out.to_str().unwrap(),
        "--drain",
        "0s",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let mut seen = 0;
    for e in std::fs::read_dir(out.join("manifests")).unwrap() {
        let f = e.unwrap().path();
        let o = Command::new("kubectl")
            .args([
                "label",
                "--local",
                "-o",
                "name",
                "volsim.dev/checked=yes",
                "-f",
            ])
            .arg(&f)
            .output()
            .unwrap();
        let names = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let lines: Vec<&str> = names.lines().collect();
        assert_eq!(lines.len(), 2, "{names}");
        assert!(
            lines[0].starts_with("podgroup.scheduling.volcano.sh/"),
            "{names}"
        );
        assert!(lines[1].starts_with("job.batch/"), "{names}");
        seen += 1;
    }
    assert_eq!(seen, 12);
}

/// A second `live run` on the same `--out` after the scenario changed says which journal holds
/// the other job and what to do, instead of a bare "idempotency key already used".
#[test]
fn changed_scenario_on_an_old_journal_names_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let sc = fixture("small.toml");
    let (code, _, stderr) = run_twin(&sc, &out, "2000", "30s");
    assert_eq!(code, 0, "{stderr}");
    let changed = dir.path().join("changed.toml");
    let text = std::fs::read_to_string(&sc).unwrap();
    let text = text.replacen("cpu = \"1\"", "cpu = \"2\"", 1);
    std::fs::write(&changed, text).unwrap();
    let (code, _, stderr) = run_twin(&changed, &out, "2000", "1s");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("journal.jsonl") && stderr.contains("scenario changed"),
        "{stderr}"
    );
}
