//! The compatibility profile end to end (`policy::conf::Compat`): the scenario's
//! `[scheduler] compat` and `volsim reality --compat` replay `scenarios/reality` with the
//! harness's Volcano 7a5d24ecc behaviours; the default stays v1.15 (its decision-log hash is
//! the one `BENCHMARKS.md` quotes); bad profiles exit 2 naming the field or flag.

use std::path::{Path, PathBuf};
use std::process::Command;

use volsim::policy::conf::Compat;
use volsim::run::{run, RunSpec};
use volsim::scenario;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn hash(sc: &scenario::Scenario) -> String {
    format!(
        "{:016x}",
        run(&RunSpec {
            scenario: sc.clone()
        })
        .outcome
        .decision_hash
    )
}

#[test]
fn the_profile_changes_the_reality_decisions_and_the_default_does_not() {
    let sc = scenario::load(&repo("scenarios/reality/scenario.toml")).unwrap();
    assert!(sc.conf.compat.is_v1_15());
    assert_eq!(hash(&sc), "6b73de41af0a1cf1", "v1.15 decisions moved");
    let mut f = sc.clone();
    f.conf.compat = Compat::parse("volcano-7a5d24ecc:F").unwrap();
    let mut all = sc.clone();
    all.conf.compat = Compat::VOLCANO_7A5D24ECC;
    assert_ne!(
        hash(&f),
        hash(&sc),
        "nodeorder double count moves no decision"
    );
    assert_ne!(hash(&all), hash(&sc));

    // The scenario field means the same as setting the conf in code.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/reality/scenario.toml")).unwrap();
    let p = dir.path().join("scenario.toml");
    std::fs::write(
        &p,
        format!("{text}\n[scheduler]\ncompat = \"volcano-7a5d24ecc\"\n"),
    )
    .unwrap();
    let from_file = scenario::load(&p).unwrap();
    assert_eq!(from_file.conf.compat, Compat::VOLCANO_7A5D24ECC);
    assert_eq!(hash(&from_file), hash(&all));
}

#[test]
fn a_bad_profile_exits_2_naming_the_field_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/reality/scenario.toml")).unwrap();
    let p = dir.path().join("scenario.toml");
    std::fs::write(
        &p,
        format!("{text}\n[scheduler]\ncompat = \"volcano-1.8\"\n"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .arg("run")
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("scheduler.compat") && err.contains("unknown compatibility profile"),
        "{err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(["reality", "scenarios/reality/scenario.toml", "--observed"])
        .arg(repo("reports/reality/run1/observed-recorder.csv"))
        .args(["--compat", "volcano-7a5d24ecc:B", "--out"])
        .arg(dir.path().join("out"))
        .current_dir(repo("."))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--compat") && err.contains("unknown item \"B\""),
        "{err}"
    );
}

#[test]
fn reality_replays_with_the_profile_and_reports_bands() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(["reality", "scenarios/reality/scenario.toml", "--observed"])
        .arg(repo("reports/reality/run1/observed-recorder.csv"))
        .args(["--compat", "volcano-7a5d24ecc", "--seeds", "3", "--out"])
        .arg(dir.path().join("out"))
        .current_dir(repo("."))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("replay scheduler model: compat volcano-7a5d24ecc"),
        "{text}"
    );
    assert!(
        text.contains("prediction bands over 3 replays (tie-break seeds 11..13)"),
        "{text}"
    );
    for q in ["analytics", "batch", "interactive"] {
        let line = text
            .lines()
            .find(|l| l.contains("[") && l.trim_start().starts_with(q))
            .unwrap_or_else(|| panic!("no band line for {q}: {text}"));
        assert!(
            line.contains("in band") || line.contains("OUTSIDE"),
            "{line}"
        );
    }
}

#[test]
fn jittered_bands_name_their_width_move_the_replays_and_a_bad_width_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let band = |jitter: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_volsim"))
            .args(["reality", "scenarios/reality/scenario.toml", "--observed"])
            .arg(repo("reports/reality/run2/observed.csv"))
            .args(["--seeds", "3", "--jitter", jitter, "--out"])
            .arg(dir.path().join(jitter))
            .current_dir(repo("."))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let bands = |text: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.starts_with("prediction bands"))
            .take(6)
            .map(str::to_owned)
            .collect()
    };
    let (code, plain, err) = band("0ms");
    assert_eq!(code, Some(0), "{err}");
    let (code, jittered, err) = band("50ms");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        jittered.contains("tie-break seeds 11..13, run times jittered by ±500 model ms"),
        "{jittered}"
    );
    assert_ne!(bands(&plain)[2..], bands(&jittered)[2..], "{jittered}");
    // The headline replay (one seed, no jitter) is the same with and without the bands' jitter.
    let headline = |t: &str| {
        t.lines()
            .take_while(|l| !l.starts_with("prediction bands"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(headline(&plain), headline(&jittered));

    let (code, _, err) = band("soon");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--jitter"), "{err}");
}
