//! The binary's contract for bad input: exit code 2 and a message naming the file and the
//! line or field — never a panic. Runs the real `volsim` executable on broken files.

use std::path::PathBuf;
use std::process::Command;

fn volsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_volsim"))
}

fn tmp(dir: &str, name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("volsim-cli-errors-{}-{dir}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const BASE: &str = "horizon = \"1h\"\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"4\"\nmemory = \"8Gi\"\n[queues]\nfiles = [\"q.yaml\"]\n[[workload.classes]]\nname = \"c\"\nqueue = \"q\"\nrate_per_min = 1\nduration = { dist = \"fixed\", value = \"1m\" }\ncpu = \"1\"\nmemory = \"1Gi\"\n";
const QUEUE: &str = "apiVersion: scheduling.volcano.sh/v1beta1\nkind: Queue\nmetadata:\n  name: q\nspec:\n  weight: 1\n";

fn run_expect_2(test: &str, scenario: &str, queue_yaml: &str, must_contain: &[&str]) {
    tmp(test, "q.yaml", queue_yaml);
    let p = tmp(test, "scenario.toml", scenario);
    let out = volsim().arg("run").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for m in must_contain {
        assert!(err.contains(m), "expected {m:?} in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn valid_scenario_runs() {
    tmp("valid", "q.yaml", QUEUE);
    let p = tmp("valid", "scenario.toml", BASE);
    let out = volsim().arg("run").arg(&p).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_quantity() {
    run_expect_2(
        "quantity",
        &BASE.replace("cpu = \"4\"", "cpu = \"4x\""),
        QUEUE,
        &["scenario.toml", "nodes[0].cpu", "4x"],
    );
}

#[test]
fn bad_weight_in_yaml() {
    run_expect_2(
        "weight",
        BASE,
        &QUEUE.replace("weight: 1", "weight: 0"),
        &["q.yaml", "weight"],
    );
}

#[test]
fn bad_on_evict() {
    run_expect_2(
        "on-evict",
        &format!("{BASE}on_evict = \"restart-pod\"\n"),
        QUEUE,
        &[
            "scenario.toml",
            "workload.classes[0].on_evict",
            "\"restart-pod\"",
            "expected \"recreate-pod\" or \"restart-job\"",
        ],
    );
}

#[test]
fn yaml_syntax_error() {
    run_expect_2(
        "syntax",
        BASE,
        "apiVersion: v1\nkind: Queue\nmetadata: [unclosed\n",
        &["q.yaml"],
    );
}

#[test]
fn unknown_plugin() {
    let s = format!("{BASE}[scheduler]\ninline = \"actions: \\\"enqueue\\\"\\ntiers:\\n- plugins:\\n  - name: gangg\\n\"\n");
    run_expect_2(
        "plugin",
        &s,
        QUEUE,
        &["scenario.toml", "tiers[0].plugins[0].name", "gangg"],
    );
}

/// A misspelled plugin argument in a conf file: exit 2 naming the conf file, the plugin and
/// the argument (Volcano would silently use the default).
#[test]
fn misspelled_plugin_argument_names_the_conf_file() {
    tmp(
        "plugin-arg",
        "sched.conf",
        include_str!("../fixtures/conf/misspelled-argument.yaml"),
    );
    let s = format!("{BASE}[scheduler]\nconf = \"sched.conf\"\n");
    run_expect_2(
        "plugin-arg",
        &s,
        QUEUE,
        &["sched.conf", "overcommit", "overcommit-factr"],
    );
}

#[test]
fn missing_file() {
    let out = volsim()
        .arg("run")
        .arg("/nonexistent/scenario.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scenario.toml"));
}

#[test]
fn conformance_failure_exits_1_and_bad_file_exits_2() {
    let bad = tmp("conf", "cases.yaml", "schema: something-else\ncases: []\n");
    let out = volsim().arg("conformance").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let failing = tmp(
        "conf",
        "failing.yaml",
        "schema: volcano-conformance/v1\ncases:\n- id: x\n  kind: unit\n  call: getPodGroupPhase(job, unschedulable)\n  input: {min_member: 1, current_phase: Pending, unschedulable: false, tasks: []}\n  expect: {phase: Running}\n",
    );
    let out = volsim().arg("conformance").arg(&failing).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL x") && stdout.contains("0 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
}

#[test]
fn output_into_a_closed_pipe_is_no_panic() {
    // `volsim run … | head -1`: the reader goes away after the first line.
    use std::io::Read;
    use std::process::Stdio;
    let mut child = volsim()
        .args(["run", "scenarios/somaagenthub/scenario.toml"])
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "stderr: {err}");
}
