//! Imports every Temporal fixture (tests/fixtures/temporal) and checks the derived models:
//! `.cli` and `.http` exports of one execution agree, a hand-checked activity's timings match
//! to the millisecond, activity counts match the histories, and the canonical JSON-lines file
//! round-trips. `VOLSIM_TEMPORAL_ALL=<dir>` additionally imports every file under `<dir>`.

use std::path::{Path, PathBuf};

use volsim::workload::mapping::{map_activity, MappingTable};
use volsim::workload::temporal::{import_bytes, import_paths};
use volsim::workload::workflow::{self, Dep, NodeKind, Workflow};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/temporal")
}

fn one(name: &str) -> Workflow {
    let p = fixtures().join(name);
    let bytes = std::fs::read(&p).unwrap();
    import_bytes(&p, &bytes, &mut Vec::new()).unwrap().unwrap()
}

/// Counts `ActivityTaskScheduled` events in a raw history file, both enum styles.
fn scheduled_events(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.matches("\"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED\"")
        .count()
        + text.matches("\"ActivityTaskScheduled\"").count()
}

#[test]
fn every_fixture_imports() {
    let r = import_paths(&[fixtures()], true).unwrap();
    // 16 histories (6 samples + 10 exports) and one listing; the .http copies are duplicates.
    assert_eq!(r.files, 16, "{:?}", r.errors);
    assert!(r.errors.is_empty());
    assert_eq!(
        r.skipped
            .iter()
            .filter(|s| s.1.contains("duplicate"))
            .count(),
        5
    );
    assert_eq!(
        r.skipped.iter().filter(|s| s.1.contains("listing")).count(),
        1
    );
    // 6 samples + 4 exported top-level; the creatives child is nested in its campaign.
    assert_eq!((r.workflows.len(), r.execution_count()), (10, 11));
    let campaign = r
        .workflows
        .iter()
        .find(|w| w.workflow_id == "campaign-00-100315")
        .unwrap();
    let child = campaign.children().next().unwrap();
    assert_eq!(
        child.execution.as_ref().unwrap().workflow_id,
        "campaign-00-100315-creatives"
    );

    // Activity counts equal the ActivityTaskScheduled events of each file.
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files.iter().filter(|f| {
        f.extension().is_some_and(|e| e == "json") && !f.ends_with("listing.http-list.json")
    }) {
        let bytes = std::fs::read(f).unwrap();
        let wf = import_bytes(f, &bytes, &mut Vec::new()).unwrap().unwrap();
        assert_eq!(
            wf.activities().count(),
            scheduled_events(f),
            "{}",
            f.display()
        );
    }
    // Deduplicated total: every history except the .http copies.
    let unique: usize = files
        .iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_str().unwrap();
            n.ends_with(".json") && !n.ends_with(".http.json") && !n.starts_with("listing")
        })
        .map(|f| scheduled_events(f))
        .sum();
    assert_eq!(
        r.workflows
            .iter()
            .map(Workflow::activity_count_deep)
            .sum::<usize>(),
        unique
    );
    assert_eq!(unique, 42);
}

#[test]
fn cli_and_http_exports_give_identical_models() {
    for id in [
        "session-000-100315",
        "session-016-100315",
        "orchestration-00-100315",
        "campaign-00-100315",
        "campaign-00-100315-creatives",
    ] {
        let mut cli = one(&format!("{id}.cli.json"));
        let mut http = one(&format!("{id}.http.json"));
        cli.source.clear();
        http.source.clear();
        assert_eq!(cli, http, "{id}");
    }
}

#[test]
fn hand_checked_session_timings() {
    // session-000-100315.cli.json: events 22–24 (launch-volcano-session-job), times from the file:
    // scheduled 16.347569765, started 16.390171529, completed 16.632540373; timer 17→18.
    let wf = one("session-000-100315.cli.json");
    assert_eq!(wf.arrival_unix_ms, 1_795_773_795_879); // 2026-11-27T10:03:15.879955153Z
    let n = wf.node(22).unwrap();
    let NodeKind::Activity(a) = &n.kind else {
        panic!()
    };
    assert_eq!(a.activity_type, "launch-volcano-session-job");
    assert_eq!(
        (a.queue_ms, a.service_ms, a.attempts),
        (Some(43), Some(242), 1)
    );
    assert_eq!(
        n.deps,
        vec![Dep {
            node: 17,
            on: Default::default()
        }]
    );
    let NodeKind::Timer(t) = &wf.node(17).unwrap().kind else {
        panic!()
    };
    assert_eq!((t.start_to_fire_ms, t.elapsed_ms), (211, Some(214)));
    let NodeKind::Activity(e) = &wf.node(5).unwrap().kind else {
        panic!()
    };
    assert_eq!((e.queue_ms, e.service_ms), (Some(2), Some(92)));
    // Hints: header/input for the launch, memo + search attributes for the workflow.
    let h = a.effective_hints(&wf).unwrap();
    assert_eq!(
        (h.cpu.as_deref(), h.memory.as_deref(), h.queue.as_deref()),
        (Some("1000m"), Some("1Gi"), Some("interactive"))
    );
    let job = map_activity(&MappingTable::default(), &wf, a).unwrap();
    assert_eq!(
        (
            job.queue.as_str(),
            job.requests.cpu(),
            job.replicas,
            job.min_member
        ),
        ("interactive", 1000, 1, 1)
    );
    // evaluate-policy has no activity-level hints and no rule: it runs inline.
    assert!(map_activity(&MappingTable::default(), &wf, e).is_none());
}

#[test]
fn timeouts_retries_and_fanout() {
    // session-016: run-slm-completion attempt 1 times out and retries; then with max 2 attempts
    // both time out and a fallback runs.
    let wf = one("session-016-100315.cli.json");
    let slm: Vec<_> = wf
        .activities()
        .filter(|(_, a)| a.activity_type == "run-slm-completion")
        .collect();
    assert!(slm
        .iter()
        .any(|(_, a)| a.outcome == workflow::Outcome::TimedOut));
    let retried = slm
        .iter()
        .find(|(_, a)| a.attempts == 2)
        .map(|(_, a)| *a)
        .unwrap();
    assert_eq!(retried.earlier_attempts.len(), 1);
    assert!(retried.earlier_attempts[0].timed_out);
    assert_eq!(
        retried.earlier_attempts[0].run_ms,
        retried.timeouts.start_to_close_ms
    );
    // orchestration-00: the directives form one fan-out group and aggregate-results joins all.
    let wf = one("orchestration-00-100315.cli.json");
    let groups = wf.fanout_groups();
    let biggest = groups.values().map(Vec::len).max().unwrap();
    let directives = wf
        .activities()
        .filter(|(_, a)| a.activity_type == "execute-directive")
        .count();
    assert_eq!(biggest, directives);
    let (agg, _) = wf
        .activities()
        .find(|(_, a)| a.activity_type == "aggregate-results")
        .unwrap();
    assert_eq!(agg.deps.len(), directives);
    // The research sample: 10 parallel searches.
    let wf = one("sdk-python.research-workflow-history.json");
    assert_eq!(wf.fanout_groups().values().map(Vec::len).max(), Some(10));
}

#[test]
fn jsonl_round_trip_and_stats() {
    let r = import_paths(&[fixtures()], true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.jsonl");
    workflow::write_jsonl(&out, &r.workflows).unwrap();
    let back = workflow::read_jsonl(&out).unwrap();
    assert_eq!(back, r.workflows);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("{\"schema\":\"volsim-workflows/v1\""));
    let s = workflow::stats(&back);
    assert!(
        s.contains("executions: 11 (10 top-level, 1 children)"),
        "{s}"
    );
    assert!(s.contains("launch-volcano-session-job"), "{s}");
}

/// Local check, not for CI: `VOLSIM_TEMPORAL_ALL=/path/to/temporal cargo test --test temporal_import all_files`.
#[test]
fn all_files_under_env_dir() {
    let Ok(dir) = std::env::var("VOLSIM_TEMPORAL_ALL") else {
        eprintln!("VOLSIM_TEMPORAL_ALL unset: skipping");
        return;
    };
    let r = import_paths(&[PathBuf::from(&dir)], false).unwrap();
    for e in &r.errors {
        eprintln!("error: {e}");
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    let acts: usize = r.workflows.iter().map(Workflow::activity_count_deep).sum();
    eprintln!(
        "{dir}: {} history files, {} skipped, {} errors; {} top-level workflows, {} executions, {} activities, {} warnings",
        r.files,
        r.skipped.len(),
        r.errors.len(),
        r.workflows.len(),
        r.execution_count(),
        acts,
        r.warnings.len()
    );
    assert!(r.errors.is_empty());
}
