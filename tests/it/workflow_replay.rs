//! Temporal replay through `volsim run`'s path (scenario → run → report) on the bundled
//! `traces/temporal-sample/workflows.jsonl`: a tiny queue stretches end-to-end latency, an
//! unmapped replay reproduces the recorded latency, runs are deterministic, and bad mappings
//! are rejected with the field named.

use std::path::{Path, PathBuf};

use volsim::report::workflows_csv;
use volsim::report::RunReport;
use volsim::run::{run, RunSpec};

fn run_sc(scenario: &Scenario) -> RunReport {
    run(&RunSpec {
        scenario: scenario.clone(),
    })
}
use volsim::scenario::{load_str, Scenario};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scenario next to the repository root (relative paths resolve there) with one 16-cpu node,
/// queue `q` (`capability` inline TOML) and the sample workflows.
fn scenario(capability: &str, mapping: &str) -> Result<Scenario, String> {
    let text = format!(
        r#"
seed = 3
[[nodes]]
name = "n"
count = 1
cpu = "16"
memory = "64Gi"
[[queues.inline]]
name = "q"
capability = {capability}
[workload]
workflows = "traces/temporal-sample/workflows.jsonl"
{mapping}
"#
    );
    load_str(&text, &root().join("replay-test.toml")).map_err(|e| e.to_string())
}

const MAPPED: &str = r#"
[mapping]
hints = false
[[mapping.rule]]
activity_type = "launch-volcano-session-job"
queue = "q"
cpu = "1"
[[mapping.rule]]
activity_type = "run-slm-completion"
queue = "q"
cpu = "1"
[[mapping.rule]]
activity_type = "execute-directive"
queue = "q"
cpu = "1"
"#;

fn total_e2e(r: &RunReport) -> u64 {
    r.workflows
        .iter()
        .map(|w| w.simulated_e2e_ms.expect("every workflow closes"))
        .sum()
}

#[test]
fn tiny_queue_stretches_end_to_end_latency() {
    let roomy = run_sc(&scenario("{}", MAPPED).unwrap());
    let tiny = run_sc(&scenario("{ cpu = \"1\" }", MAPPED).unwrap());
    assert!(roomy.workflows.len() >= 30);
    let mapped: usize = roomy.workflows.iter().map(|w| w.mapped_activities()).sum();
    assert!(mapped >= 60, "{mapped}");
    let (r, t) = (total_e2e(&roomy), total_e2e(&tiny));
    assert!(t > r + 10_000, "tiny {t} ms vs roomy {r} ms");
    let wait = |x: &RunReport| -> u64 { x.workflows.iter().map(|w| w.activity_wait_ms()).sum() };
    assert!(wait(&tiny) > wait(&roomy));
    let p95 = |x: &RunReport| {
        x.workflow_metrics
            .workflow_type("session-start-workflow")
            .and_then(|m| m.simulated.p95)
            .unwrap()
    };
    assert!(p95(&tiny) > p95(&roomy));
}

/// With nothing mapped every step runs inline for its recorded time, so the replay reproduces
/// the recorded end-to-end latency. Tolerance: 5 ms per execution — times are whole ms rounded
/// per event, and a node whose inferred dependencies closed after its issue (rounding) starts
/// at the later time.
#[test]
fn unmapped_replay_matches_recorded() {
    let sc = scenario("{}", "[mapping]\nhints = false\n").unwrap();
    let r = run_sc(&sc);
    assert!(r.outcome.jobs.is_empty());
    assert_eq!(r.workflows.len(), 34);
    for w in &r.workflows {
        let (rec, sim) = (w.recorded_e2e_ms.unwrap(), w.simulated_e2e_ms.unwrap());
        assert!(
            rec.abs_diff(sim) <= 5,
            "{}: recorded {rec} simulated {sim}",
            w.workflow_id
        );
    }
}

#[test]
fn same_seed_same_workflows_csv() {
    let sc = scenario("{ cpu = \"2\" }", MAPPED).unwrap();
    let a = run_sc(&sc);
    let b = run_sc(&sc);
    assert_eq!(a.outcome.decision_hash, b.outcome.decision_hash);
    let (ca, cb) = (
        workflows_csv(&a.workflows).unwrap(),
        workflows_csv(&b.workflows).unwrap(),
    );
    assert_eq!(ca, cb);
    let text = String::from_utf8(ca).unwrap();
    assert!(text.starts_with("workflow_id,run_id,workflow_type,parent,arrival,recorded_e2e,simulated_e2e,activities,mapped_activities,activity_wait\n"));
    assert_eq!(text.lines().count(), 35);
}

#[test]
fn bad_mappings_name_the_field() {
    // The histories' hints name queues this scenario lacks.
    let e = scenario("{}", "").unwrap_err();
    assert!(
        e.contains("field mapping") && e.contains("mapping.hints"),
        "{e}"
    );
    let e = scenario(
        "{}",
        "[mapping]\nhints = false\n[[mapping.rule]]\nqueue = \"q\"\n",
    )
    .unwrap_err();
    assert!(e.contains("at least one of activity_type"), "{e}");
    let e = scenario(
        "{}",
        "[mapping]\nhints = false\n[[mapping.rule]]\nactivity_type = \"*\"\nqueue = \"nope\"\n",
    )
    .unwrap_err();
    assert!(e.contains("\"nope\""), "{e}");
    let text = "[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"1\"\nmemory = \"1Gi\"\n[workload]\nworkflows = \"missing.jsonl\"\n";
    let e = load_str(text, Path::new("/nonexistent/s.toml")).unwrap_err();
    assert!(e.to_string().contains("workload.workflows"), "{e}");
}

#[test]
fn repeat_and_rate_multiplier_scale_workflows() {
    let base = scenario("{}", MAPPED).unwrap();
    let sc = {
        let text = format!(
            "seed = 3\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"16\"\nmemory = \"64Gi\"\n[[queues.inline]]\nname = \"q\"\n[workload]\nworkflows = \"traces/temporal-sample/workflows.jsonl\"\nrepeat = 3\nrate_multiplier = 2.0\n{MAPPED}"
        );
        load_str(&text, &root().join("replay-test.toml")).unwrap()
    };
    assert_eq!(sc.workflows.len(), 3 * base.workflows.len());
    let span = |s: &Scenario| {
        let a: Vec<i64> = s.workflows.iter().map(|w| w.arrival_unix_ms).collect();
        a.iter().max().unwrap() - a.iter().min().unwrap()
    };
    let one = span(&base);
    assert!(
        span(&sc) > one && span(&sc) < 2 * one,
        "{} vs {one}",
        span(&sc)
    );
}
