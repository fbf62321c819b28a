//! Live mode end to end through the `volsim` binary: `live run` and `live serve` with the twin
//! and dry-run backends and a real HTTP client (ureq); malformed and oversized requests; the
//! bearer token off loopback; `kill -9` in the middle of a burst of 200 submissions; and the
//! layering rule that `live` never imports `sim`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The binary under test; `VOLSIM_BIN` overrides it (a target dir shared between worktrees
/// may hold another branch's `volsim`).
fn bin() -> String {
    std::env::var("VOLSIM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_volsim").to_string())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// `(status, body)`; `Err` on a transport failure.
fn call(
    a: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&str>,
    hdrs: &[(&str, &str)],
) -> Result<(u16, String), String> {
    let res = match (method, body) {
        ("POST", Some(b)) => {
            let mut r = a.post(url).header("Content-Type", "application/json");
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.send(b)
        }
        ("DELETE", _) => {
            let mut r = a.delete(url);
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.call()
        }
        _ => {
            let mut r = a.get(url);
            for (k, v) in hdrs {
                r = r.header(*k, *v);
            }
            r.call()
        }
    };
    let mut resp = res.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    Ok((status, resp.body_mut().read_to_string().unwrap_or_default()))
}

struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(out: &Path, backend: &str, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(bin());
    cmd.args(["live", "serve", "--scenario"])
        .arg(fixture("small.toml"))
        .args(["--backend", backend, "--speed", "50", "--mapping"])
        .arg(fixture("mapping.toml"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .env_remove("VOLSIM_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn volsim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("bad banner {line:?}"));
    let port = addr.rsplit(':').next().unwrap();
    Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn body(key: &str, class: &str) -> String {
    json!({"idempotency_key": key, "workflow_id": format!("wf-{key}"), "class": class}).to_string()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

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

#[test]
fn live_run_twin_then_compare() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twin");
    let sc = fixture("small.toml");
    let (code, stdout, stderr) = run(&[
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "twin",
        "--speed",
        "200",
        "--out",
        out.to_str().unwrap(),
        "--drain",
        "30s",
    ]);
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
    ]);
    assert_eq!(code, 0);
    assert!(
        report.contains("jobs compared: 12") && report.contains("interactive"),
        "{report}"
    );
    // a second run on the same journal replays instead of resubmitting
    let (code, stdout, stderr) = run(&[
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "twin",
        "--speed",
        "200",
        "--out",
        out.to_str().unwrap(),
        "--drain",
        "1s",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("submitted 0 (replayed 12"), "{stdout}");
}

#[test]
fn live_run_dry_run_writes_valid_manifests_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dry");
    let sc = fixture("small.toml");
    for (mode, objects) in [("vcjob", 1), ("podgroup", 2)] {
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
            "--object",
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
            let objs: Vec<Value> =
                serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
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
fn serve_twin_api() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), "twin", &["--max-body", "2048"], &[]);
    let a = agent();
    let u = |p: &str| format!("{}{p}", s.base);
    let (st, b) = call(&a, "GET", &u("/healthz"), None, &[]).unwrap();
    assert_eq!((st, b.contains("twin")), (200, true), "{b}");
    // submit a class job, an activity job, replay, conflict
    let (st, b) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "gang")), &[]).unwrap();
    assert_eq!(st, 201, "{b}");
    let j: Value = serde_json::from_str(&b).unwrap();
    let name = j["name"].as_str().unwrap().to_string();
    assert_eq!(j["queue"], "batch");
    assert_eq!(j["min_member"], 3);
    assert!(j["predicted_wait_ms"].is_u64(), "{j}");
    let (st, b2) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "gang")), &[]).unwrap();
    assert_eq!(st, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&b2).unwrap()["name"],
        name.as_str()
    );
    let (st, b) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "short")), &[]).unwrap();
    assert_eq!(st, 409, "{b}");
    let act =
        json!({"workflow_id": "wf", "activity_type": "train-big", "overrides": {"duration": "5s"}})
            .to_string();
    let (st, b) = call(
        &a,
        "POST",
        &u("/v1/jobs"),
        Some(&act),
        &[("Idempotency-Key", "act-1")],
    )
    .unwrap();
    assert_eq!(st, 201, "{b}");
    let aj: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        (aj["queue"].as_str(), aj["replicas"].as_u64()),
        (Some("batch"), Some(2))
    );
    // observed phase moves on in the twin (speed 50: 1 s of model time per 20 ms)
    let deadline = Instant::now() + Duration::from_secs(10);
    let phase = loop {
        let (st, b) = call(&a, "GET", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
        assert_eq!(st, 200);
        let v: Value = serde_json::from_str(&b).unwrap();
        let p = v["observed"]["phase"].as_str().unwrap().to_string();
        if p == "Running" || p == "Completed" || Instant::now() > deadline {
            assert!(v["observed"]["wait_ms"].is_u64(), "{v}");
            break p;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(phase == "Running" || phase == "Completed", "{phase}");
    let (st, b) = call(&a, "GET", &u("/metrics"), None, &[]).unwrap();
    assert_eq!(st, 200);
    assert!(
        b.contains("volsim_live_submissions_total{queue=\"batch\"} 2"),
        "{b}"
    );
    assert!(
        b.contains("volsim_live_admissions_total{queue=\"batch\"}"),
        "{b}"
    );
    assert!(
        b.contains("volsim_live_prediction_abs_error_seconds_count"),
        "{b}"
    );
    assert!(b.contains("volsim_live_idempotent_replays_total 1"), "{b}");
    let (st, b) = call(&a, "DELETE", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
    assert_eq!(st, 200, "{b}");
    let (_, b) = call(&a, "GET", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
    assert!(b.contains("\"Deleted\""), "{b}");
    let (st, _) = call(&a, "GET", &u("/v1/jobs/nope"), None, &[]).unwrap();
    assert_eq!(st, 404);
    // malformed and oversized requests
    let bad = [
        ("{", "body"),
        ("[1]", "body"),
        (r#"{"workflow_id":"w","class":"gang"}"#, "idempotency_key"),
        (r#"{"idempotency_key":"x","class":"gang"}"#, "workflow_id"),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"nope"}"#,
            "class",
        ),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"gang","overrides":{"cpu":"many"}}"#,
            "overrides.cpu",
        ),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"gang","bogus":true}"#,
            "bogus",
        ),
    ];
    for (b, field) in bad {
        let (st, resp) = call(&a, "POST", &u("/v1/jobs"), Some(b), &[]).unwrap();
        assert_eq!(st, 400, "{b}: {resp}");
        assert_eq!(
            serde_json::from_str::<Value>(&resp).unwrap()["field"],
            field,
            "{b}"
        );
    }
    let huge = json!({"idempotency_key": "big", "workflow_id": "x".repeat(5000), "class": "gang"})
        .to_string();
    let (st, resp) = call(&a, "POST", &u("/v1/jobs"), Some(&huge), &[]).unwrap();
    assert_eq!(st, 413, "{resp}");
    let (st, _) = call(&a, "GET", &u("/v2/nothing"), None, &[]).unwrap();
    assert_eq!(st, 404);
    let (st, _) = call(&a, "GET", &u("/v1/jobs"), None, &[]).unwrap();
    assert_eq!(st, 200);
}

#[test]
fn token_required_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let sc = fixture("small.toml");
    let out = Command::new(bin())
        .args([
            "live",
            "serve",
            "--scenario",
            sc.to_str().unwrap(),
            "--backend",
            "twin",
            "--listen",
            "0.0.0.0:0",
            "--out",
        ])
        .arg(dir.path())
        .env_remove("VOLSIM_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bearer token is required"));
    let tok = dir.path().join("token");
    std::fs::write(&tok, "t0ps3cret\n").unwrap();
    let s = serve(
        &dir.path().join("o"),
        "twin",
        &[
            "--listen",
            "0.0.0.0:0",
            "--token-file",
            tok.to_str().unwrap(),
        ],
        &[],
    );
    let a = agent();
    let url = format!("{}/v1/jobs", s.base);
    let (st, b) = call(&a, "POST", &url, Some(&body("k", "short")), &[]).unwrap();
    assert_eq!(st, 401, "{b}");
    assert!(!b.contains("t0ps3cret"));
    let (st, _) = call(
        &a,
        "POST",
        &url,
        Some(&body("k", "short")),
        &[("Authorization", "Bearer wrong")],
    )
    .unwrap();
    assert_eq!(st, 401);
    let (st, b) = call(
        &a,
        "POST",
        &url,
        Some(&body("k", "short")),
        &[("Authorization", "Bearer t0ps3cret")],
    )
    .unwrap();
    assert_eq!(st, 201, "{b}");
    let (st, _) = call(&a, "GET", &format!("{}/healthz", s.base), None, &[]).unwrap();
    assert_eq!(st, 200, "health stays open for probes");
    // env var works too, on loopback a token is optional but enforced when given
    let s2 = serve(
        &dir.path().join("o2"),
        "twin",
        &[],
        &[("VOLSIM_TOKEN", "envtok")],
    );
    let (st, _) = call(&a, "GET", &format!("{}/metrics", s2.base), None, &[]).unwrap();
    assert_eq!(st, 401);
    let (st, _) = call(
        &a,
        "GET",
        &format!("{}/metrics", s2.base),
        None,
        &[("Authorization", "Bearer envtok")],
    )
    .unwrap();
    assert_eq!(st, 200);
}

/// Posts `keys` from 4 threads; returns the keys acknowledged (2xx) before the first failure.
fn burst(base: &str, keys: &[String], stop_on_error: bool) -> Vec<(String, u16, String)> {
    let chunks: Vec<Vec<String>> = (0..4)
        .map(|t| keys.iter().skip(t).step_by(4).cloned().collect())
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let base = base.to_string();
            std::thread::spawn(move || {
                let a = agent();
                let mut acked = Vec::new();
                for k in chunk {
                    let class = if k.ends_with('0') { "gang" } else { "short" };
                    match call(
                        &a,
                        "POST",
                        &format!("{base}/v1/jobs"),
                        Some(&body(&k, class)),
                        &[],
                    ) {
                        Ok((st, b)) if st < 300 => {
                            let v: Value = serde_json::from_str(&b).unwrap();
                            acked.push((k, st, v["name"].as_str().unwrap().to_string()));
                        }
                        Ok((st, b)) => panic!("{k}: {st} {b}"),
                        Err(_) if stop_on_error => break,
                        Err(e) => panic!("{k}: {e}"),
                    }
                }
                acked
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn kill_9_mid_burst_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("crash");
    let keys: Vec<String> = (0..200).map(|i| format!("burst-{i}")).collect();
    let mut s = serve(&out, "dry-run", &[], &[]);
    let base = s.base.clone();
    let keys2 = keys.clone();
    let client = std::thread::spawn(move || burst(&base, &keys2, true));
    let manifests = out.join("manifests");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&manifests)
        .map(|d| d.count())
        .unwrap_or(0)
        < 60
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    let before = client.join().unwrap();
    assert!(
        !before.is_empty() && before.len() < 200,
        "the kill landed mid-burst ({} acked)",
        before.len()
    );
    let s = serve(&out, "dry-run", &[], &[]);
    let after = burst(&s.base, &keys, false);
    assert_eq!(after.len(), 200);
    let names: BTreeMap<&str, &str> = after
        .iter()
        .map(|(k, _, n)| (k.as_str(), n.as_str()))
        .collect();
    for (k, _, n) in &before {
        assert_eq!(names[k.as_str()], n, "acknowledged key {k} kept its object");
        assert!(
            after.iter().any(|(k2, st, _)| k2 == k && *st == 200),
            "acknowledged key {k} was not lost"
        );
    }
    // exactly one manifest per key, each naming its key; one journal submit per key
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for e in std::fs::read_dir(&manifests).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tmp") {
            continue;
        }
        let objs: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let k = objs[0]["metadata"]["annotations"]["volsim.io/idempotency-key"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(names[k.as_str()], objs[0]["metadata"]["name"]);
        *by_key.entry(k).or_default() += 1;
    }
    assert_eq!(by_key.len(), 200, "no key lost");
    assert!(by_key.values().all(|&n| n == 1), "no duplicates");
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap();
    let submits: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["op"] == "submit")
        .map(|v| v["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(submits.len(), 200);
    assert_eq!(submits.iter().collect::<BTreeSet<_>>().len(), 200);
    let (_, list) = call(&agent(), "GET", &format!("{}/v1/jobs", s.base), None, &[]).unwrap();
    let v: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 200);
}
