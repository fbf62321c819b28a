//! The CLI's outputs for CI and scripts, end to end on the real binary: `run -o json` (the
//! documented `volsim-run/v1` fields, agreeing with the text report), `--fail-on-slo` exit codes,
//! `check -o json` and `check --junit` (parsed with an XML reader: one test case per metric and
//! per SLO, failures where SLOs fail), `capacity -o json`, shell completions and the man page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "scenarios/somaagenthub/scenario.toml";

fn volsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("volsim-cli-outputs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn run_json_has_the_documented_fields_and_fail_on_slo_sets_the_exit_code() {
    let o = volsim(&["run", SCENARIO, "-o", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON document");
    assert_eq!(v["format"], "volsim-run/v1");
    // the hash quoted in BENCHMARKS.md: JSON and text agree with it
    assert_eq!(v["decision_hash"], "52e240b7f1890a21");
    assert!(v["seed"].is_u64());
    assert_eq!(v["scenario"]["path"], SCENARIO);
    assert_eq!(v["scenario"]["digest"].as_str().unwrap().len(), 16);
    let slos = v["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 5);
    assert_eq!(v["slos_met"], false);
    assert_eq!(v["slos_failed"], 4);
    let s0 = &slos[0];
    assert_eq!(s0["slo"], "session-start.p95_wait <= 2m");
    assert_eq!(s0["scope"], "class");
    assert_eq!(s0["limit"], 120.0);
    assert_eq!(s0["pass"], false);
    assert!(s0["value"].as_f64().unwrap() > 120.0);
    let head = v["headline"].as_array().unwrap();
    assert_eq!(head[0]["metric"], "cluster.jobs");
    assert_eq!(head[0]["value"].as_f64(), v["jobs"].as_f64());
    let queues = v["groups"]["queues"].as_array().unwrap();
    assert!(queues.iter().any(|q| q["name"] == "interactive"));
    assert_eq!(v["groups"]["total"]["jobs"].as_f64(), v["jobs"].as_f64());

    let text = volsim(&["run", SCENARIO]);
    assert!(
        stdout(&text).ends_with("\n")
            && stdout(&text).contains("decision log hash 52e240b7f1890a21")
    );
    assert_eq!(text.status.code(), Some(0));
    let gated = volsim(&["run", SCENARIO, "--fail-on-slo", "-o", "json"]);
    assert_eq!(gated.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gated.stderr);
    assert!(
        err.contains("4 of 5 SLOs failed") && err.contains("interactive.p95_wait <= 2m"),
        "{err}"
    );
    // stdout stays one parseable document even when the gate fails
    serde_json::from_str::<serde_json::Value>(&stdout(&gated)).unwrap();
}

/// Attributes of an element, as (name, value) with entities unescaped.
fn attrs(e: &quick_xml::events::BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.unescape_value().unwrap().into_owned(),
            )
        })
        .collect()
}

fn attr(a: &[(String, String)], k: &str) -> String {
    a.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// A parsed `<testsuite>`: (name, tests, failures).
type Suite = (String, usize, usize);
/// A parsed `<testcase>`: (classname, name, failed).
type Case = (String, String, bool);

/// Parses a JUnit file: (suite name, tests, failures) per suite and (classname, name, failed)
/// per test case, checking that elements nest as JUnit readers expect.
fn parse_junit(path: &Path) -> (Vec<Suite>, Vec<Case>) {
    use quick_xml::events::Event;
    let text = std::fs::read_to_string(path).unwrap();
    let mut r = quick_xml::Reader::from_str(&text);
    let (mut suites, mut cases) = (Vec::new(), Vec::new());
    let mut stack: Vec<String> = Vec::new();
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let a = attrs(&e);
                match name.as_str() {
                    "testsuites" => assert!(stack.is_empty()),
                    "testsuite" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuites"));
                        suites.push((
                            attr(&a, "name"),
                            attr(&a, "tests").parse().unwrap(),
                            attr(&a, "failures").parse().unwrap(),
                        ));
                    }
                    "testcase" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuite"));
                        cases.push((attr(&a, "classname"), attr(&a, "name"), false));
                    }
                    "failure" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testcase"));
                        assert!(!attr(&a, "message").is_empty());
                        cases.last_mut().unwrap().2 = true;
                    }
                    o => panic!("unexpected element {o}"),
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                assert_eq!(e.name().as_ref(), b"testcase");
                assert_eq!(stack.last().map(String::as_str), Some("testsuite"));
                let a = attrs(&e);
                cases.push((attr(&a, "classname"), attr(&a, "name"), false));
            }
            Event::End(e) => {
                assert_eq!(stack.pop().unwrap().as_bytes(), e.name().as_ref());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    (suites, cases)
}

#[test]
fn check_json_and_junit_report_every_metric_and_slo() {
    let dir = tmpdir("check");
    let base = dir.join("baseline.toml");
    let junit = dir.join("junit.xml");
    let b = volsim(&["baseline", SCENARIO, "--out", base.to_str().unwrap()]);
    assert_eq!(
        b.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    let pinned = std::fs::read_to_string(&base)
        .unwrap()
        .lines()
        .filter(|l| l.contains("value ="))
        .count();
    let o = volsim(&[
        "check",
        SCENARIO,
        "--baseline",
        base.to_str().unwrap(),
        "-o",
        "json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["format"], "volsim-check/v1");
    assert_eq!(v["passed"], true);
    assert_eq!(v["decision_hash"], v["baseline_decision_hash"]);
    assert_eq!(v["metrics"].as_array().unwrap().len(), pinned);
    assert!(v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["status"] == "ok"));

    let (suites, cases) = parse_junit(&junit);
    assert_eq!(suites.len(), 2);
    assert_eq!(suites[0].1, pinned);
    assert_eq!(suites[0].2, 0);
    assert_eq!((suites[1].1, suites[1].2), (5, 4));
    assert_eq!(cases.len(), pinned + 5);
    let failed: Vec<&str> = cases.iter().filter(|c| c.2).map(|c| c.1.as_str()).collect();
    assert!(failed.contains(&"interactive.p95_wait <= 2m"), "{failed:?}");
    assert!(!failed.contains(&"marketing-campaign.p95_wait <= 30m"));
    assert!(cases
        .iter()
        .any(|c| c.0 == "volsim.check.metrics" && c.1 == "cluster.p95_wait_s"));

    // a regression: exit 1, the metric fails in JUnit and JSON
    let tight = std::fs::read_to_string(&base)
        .unwrap()
        .lines()
        .map(|l| {
            if l.starts_with("\"cluster.p95_wait_s\"") {
                "\"cluster.p95_wait_s\" = { value = 1.0, rel = 0.0, abs = 0.0, better = \"lower\" }"
                    .to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&base, tight).unwrap();
    let o = volsim(&[
        "check",
        SCENARIO,
        "--baseline",
        base.to_str().unwrap(),
        "-o",
        "json",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["regressed"], serde_json::json!(["cluster.p95_wait_s"]));
    let (suites, cases) = parse_junit(&junit);
    assert_eq!(suites[0].2, 1);
    assert!(cases.iter().any(|c| c.1 == "cluster.p95_wait_s" && c.2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn capacity_json_names_the_answer_and_every_probe() {
    let o = volsim(&[
        "capacity",
        SCENARIO,
        "--vary",
        "nodes.worker.count",
        "--range",
        "6..12",
        "--slo",
        "interactive.p95_wait <= 1h",
        "-o",
        "json",
    ]);
    assert!(
        matches!(o.status.code(), Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["format"], "volsim-capacity/v1");
    let probes = v["probes"].as_array().unwrap();
    let i = v["answer_probe"].as_u64().unwrap() as usize;
    assert_eq!(probes[i]["value"], v["answer"]);
    assert_eq!(probes[i]["pass"], true);
    assert_eq!(probes[i]["slos"][0]["limit"], 3600.0);
    assert!(probes[i]["slos"][0]["worst"].as_f64().unwrap() <= 3600.0);
}

#[test]
fn completions_and_man_page_come_from_the_clap_definitions() {
    let bash = volsim(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let s = stdout(&bash);
    assert!(s.contains("_volsim()") && s.contains("--fail-on-slo") && s.contains("--junit"));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = volsim(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains("capacity"), "{shell}");
    }
    assert_eq!(volsim(&["completions", "tcsh"]).status.code(), Some(2));
    let man = stdout(&volsim(&["man"]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH volsim"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("capacity") && !man.contains("src/"));
    let dir = tmpdir("man");
    assert_eq!(
        volsim(&["man", "--out", dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    for page in [
        "volsim.1",
        "volsim-run.1",
        "volsim-check.1",
        "volsim-live-run.1",
    ] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
