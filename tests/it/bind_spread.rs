//! `[sim] bind_spread` (`EngineParams::bind_spread_ms`): pods of one gang go Running at
//! different times around `bind_latency`, as measured on the realvolcano harness
//! (`scripts/calibrate.py`'s `gang_finish_spread`); the default (none) keeps every bundled
//! scenario's decisions; a bad value exits 2 naming the field.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `volsim run` of the reality scenario with `extra` appended to its `[sim]` table: (exit code,
/// stdout, stderr, the distinct `gang_ready - first_bind` of its jobs).
fn run(extra: &str) -> (Option<i32>, String, String, BTreeSet<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/reality/scenario.toml")).unwrap();
    let text = text.replacen("[sim]\n", &format!("[sim]\n{extra}\n"), 1);
    let p = dir.path().join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    let out_dir = dir.path().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let mut gaps = BTreeSet::new();
    if out.status.success() {
        let mut r = csv::Reader::from_path(out_dir.join("jobs.csv")).unwrap();
        let h = r.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|c| c == n).unwrap();
        let (fb, gr) = (col("first_bind"), col("gang_ready"));
        for rec in r.records() {
            let rec = rec.unwrap();
            if let (Ok(a), Ok(b)) = (rec[fb].parse::<i64>(), rec[gr].parse::<i64>()) {
                gaps.insert(b - a);
            }
        }
    }
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        gaps,
    )
}

fn hash(stdout: &str) -> &str {
    stdout
        .split("decision log hash ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .unwrap_or_else(|| panic!("no hash in {stdout}"))
}

#[test]
fn a_spread_staggers_pods_moves_decisions_and_zero_keeps_them() {
    let (code, plain, err, plain_gaps) = run("");
    assert_eq!(code, Some(0), "{err}");
    let (code, zero, err, _) = run("bind_spread = \"0s\"");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(hash(&plain), hash(&zero));
    // Without a spread a gang is ready one bind latency (880 ms) after its first bind, give
    // or take whole cycles when its pods bind in different cycles.
    assert!(plain_gaps.contains(&880), "{plain_gaps:?}");
    assert!(plain_gaps.len() <= 6, "{plain_gaps:?}");

    let (code, spread, err, gaps) = run("bind_spread = \"800ms\"");
    assert_eq!(code, Some(0), "{err}");
    assert_ne!(hash(&plain), hash(&spread));
    assert!(gaps.len() > 30, "pods still go Running together: {gaps:?}");
    assert!(gaps.iter().all(|&g| g >= 480), "{gaps:?}");
}

#[test]
fn a_bad_spread_exits_2_naming_the_field() {
    let (code, _, err, _) = run("bind_spread = \"soon\"");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("sim.bind_spread"), "{err}");
}
