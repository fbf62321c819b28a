//! End-to-end: `pull` from a live Temporal dev server, import, and compare with what the server
//! lists. Run by `tests/temporal/e2e.sh`; skipped (prints a line) when `VOLSIM_TEMPORAL_HTTP`
//! is unset. `VOLSIM_TEMPORAL_EXPECT_EXECUTIONS=N` waits (bounded) until the listing shows N.
//! With `VOLSIM_TEMPORAL_PYTHON` (a Python with `temporalio`, set by e2e.sh) the pulled
//! histories are also converted into Temporal Cloud export files (`json2export.py`, Temporal's
//! own protos) and must import to the same records, duplicates across files counted once.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use volsim::workload::temporal::{import_export_paths, import_paths, pull};
use volsim::workload::workflow::{self, NodeKind, Workflow};

/// RFC 3339 (`…T10:03:15.879955153Z`) → Unix ns; an independent, test-only parser.
fn ns(t: &str) -> i128 {
    let n = |a: usize, b: usize| t[a..b].parse::<i128>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (y2, m2) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    let days = 365 * y2 + y2 / 4 - y2 / 100 + y2 / 400 + (153 * (m2 - 3) + 2) / 5 + d - 719_469;
    let secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    let frac = t[19..].trim_end_matches('Z').trim_start_matches('.');
    let frac_ns = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse::<i128>().unwrap()
    };
    secs * 1_000_000_000 + frac_ns
}

fn ms(a: i128, b: i128) -> u64 {
    ((b - a) as u64 + 500_000) / 1_000_000
}

/// From one raw history: scheduled event count and scheduled id → (queue ms if attempt 1, service ms).
fn raw_activity_times(path: &Path) -> (usize, BTreeMap<u64, (Option<u64>, u64)>) {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let events = doc["history"]["events"].as_array().unwrap();
    let mut sched = BTreeMap::new();
    let mut started = BTreeMap::new();
    let mut out = BTreeMap::new();
    let id = |v: &Value| v.as_str().unwrap().parse::<u64>().unwrap();
    for e in events {
        let t = ns(e["eventTime"].as_str().unwrap());
        let ty = e["eventType"].as_str().unwrap();
        match ty {
            "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED" => {
                sched.insert(id(&e["eventId"]), t);
            }
            "EVENT_TYPE_ACTIVITY_TASK_STARTED" => {
                let a = &e["activityTaskStartedEventAttributes"];
                started.insert(
                    id(&a["scheduledEventId"]),
                    (t, a["attempt"].as_u64().unwrap_or(1)),
                );
            }
            "EVENT_TYPE_ACTIVITY_TASK_COMPLETED"
            | "EVENT_TYPE_ACTIVITY_TASK_FAILED"
            | "EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT"
            | "EVENT_TYPE_ACTIVITY_TASK_CANCELED" => {
                let a = e
                    .as_object()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.ends_with("EventAttributes"))
                    .unwrap()
                    .1;
                let s = id(&a["scheduledEventId"]);
                if let Some((st, attempt)) = started.get(&s) {
                    let queue = (*attempt == 1).then(|| ms(sched[&s], *st));
                    out.insert(s, (queue, ms(*st, t)));
                }
            }
            _ => {}
        }
    }
    (sched.len(), out)
}

#[test]
fn pull_import_round_trip() {
    let Ok(base) = std::env::var("VOLSIM_TEMPORAL_HTTP") else {
        println!("temporal_e2e: VOLSIM_TEMPORAL_HTTP unset, skipping (run tests/temporal/e2e.sh)");
        return;
    };
    let expect: Option<usize> = std::env::var("VOLSIM_TEMPORAL_EXPECT_EXECUTIONS")
        .ok()
        .map(|s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut report = pull(&base, "default", None, dir.path()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while expect.is_some_and(|n| report.executions.len() < n) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        report = pull(&base, "default", None, dir.path()).unwrap();
    }
    println!(
        "pull: {} executions, {} events in {:?}",
        report.executions.len(),
        report.events,
        t.elapsed()
    );
    let listed = report.executions.len();
    assert!(listed > 0);
    if let Some(n) = expect {
        assert_eq!(listed, n);
    }

    // Resume: closed executions are not downloaded again.
    let again = pull(&base, "default", None, dir.path()).unwrap();
    let running = again
        .executions
        .iter()
        .filter(|e| e.status.ends_with("RUNNING"))
        .count();
    assert_eq!(
        (again.downloaded, again.skipped_existing),
        (running, listed - running)
    );

    // Import: executions and top-level workflows as the listing counts them.
    let imported = import_paths(&[dir.path().to_path_buf()], true).unwrap();
    assert!(imported.errors.is_empty() && imported.skipped.is_empty());
    assert_eq!(imported.execution_count(), listed);
    let top = report
        .executions
        .iter()
        .filter(|e| e.parent_workflow_id.is_none())
        .count();
    assert_eq!(imported.workflows.len(), top);

    // Round trip through the canonical file, then compare with the raw histories.
    let out = dir.path().join("workload.jsonl.out");
    workflow::write_jsonl(&out, &imported.workflows).unwrap();
    let back = workflow::read_jsonl(&out).unwrap();
    assert_eq!(back, imported.workflows);
    let by_run: BTreeMap<(String, String), &Workflow> = back
        .iter()
        .flat_map(|w| w.walk())
        .map(|w| ((w.workflow_id.clone(), w.run_id.clone()), w))
        .collect();
    let (mut scheduled_total, mut checked) = (0, 0);
    for ex in &report.executions {
        let (scheduled, raw) = raw_activity_times(&ex.file);
        scheduled_total += scheduled;
        let wf = by_run[&(ex.workflow_id.clone(), ex.run_id.clone())];
        assert_eq!(wf.activities().count(), scheduled, "{}", ex.workflow_id);
        for (sid, (queue, service)) in raw {
            let NodeKind::Activity(a) = &wf.node(sid).unwrap().kind else {
                panic!()
            };
            assert_eq!(
                (a.queue_ms, a.service_ms),
                (queue, Some(service)),
                "{} activity {sid}",
                ex.workflow_id
            );
            checked += 1;
        }
    }
    let deep: usize = back.iter().map(Workflow::activity_count_deep).sum();
    assert_eq!(deep, scheduled_total);
    println!("import: {top} top-level, {listed} executions, {deep} activities, {checked} durations checked");

    export_round_trip(dir.path(), &imported.workflows);

    // A visibility query, URL-encoded.
    let qdir = tempfile::tempdir().unwrap();
    let q = pull(
        &base,
        "default",
        Some("WorkflowType='marketing-campaign'"),
        qdir.path(),
    )
    .unwrap();
    assert!(!q.executions.is_empty());
    assert!(q
        .executions
        .iter()
        .all(|e| e.workflow_type == "marketing-campaign"));
    println!("{}", workflow::stats(&back));

    // Replay: the imported workflows on a scenario mapping the Volcano-bound activities; a
    // 1-cpu queue must stretch end-to-end latency compared with a roomy one.
    let jsonl = dir.path().join("workflows.jsonl");
    workflow::write_jsonl(&jsonl, &back).unwrap();
    let run = |capability: &str| {
        let text = format!(
            "seed = 1\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"16\"\nmemory = \"64Gi\"\n\
             [[queues.inline]]\nname = \"q\"\ncapability = {capability}\n\
             [workload]\nworkflows = {:?}\n[mapping]\nhints = false\n\
             [[mapping.rule]]\nactivity_type = \"launch-volcano-session-job\"\nqueue = \"q\"\ncpu = \"1\"\n\
             [[mapping.rule]]\nactivity_type = \"run-slm-completion\"\nqueue = \"q\"\ncpu = \"1\"\n\
             [[mapping.rule]]\nactivity_type = \"execute-directive\"\nqueue = \"q\"\ncpu = \"1\"\n",
            jsonl.display().to_string()
        );
        let sc = volsim::scenario::load_str(&text, &dir.path().join("s.toml")).unwrap();
        let r = volsim::run::run(&volsim::run::RunSpec { scenario: sc });
        assert_eq!(r.workflows.len(), listed);
        r.workflows
            .iter()
            .map(|w| w.simulated_e2e_ms.unwrap_or(u64::MAX / 1024))
            .sum::<u64>()
    };
    let (roomy, tiny) = (run("{}"), run("{ cpu = \"1\" }"));
    println!("replay: Σ simulated e2e roomy {roomy} ms, 1-cpu queue {tiny} ms");
    assert!(tiny > roomy);
}

/// The pulled JSON histories → two protobuf export files (all histories, then the first three
/// again: an at-least-once redelivery) → the same canonical records as the JSON import.
fn export_round_trip(pulled: &Path, json: &[Workflow]) {
    let Ok(python) = std::env::var("VOLSIM_TEMPORAL_PYTHON") else {
        println!("temporal_e2e: VOLSIM_TEMPORAL_PYTHON unset, skipping the export conversion");
        return;
    };
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(pulled)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/temporal/json2export.py");
    let out = tempfile::tempdir().unwrap();
    let tree = out.path().join("default/2026/01/01");
    let convert = |name: &str, inputs: &[std::path::PathBuf]| {
        let st = std::process::Command::new(&python)
            .arg(&script)
            .arg("--out")
            .arg(tree.join(name))
            .args(inputs)
            .status()
            .unwrap();
        assert!(st.success(), "json2export.py failed for {name}");
    };
    convert("00/10/part-0001.pb", &files);
    convert("01/10/part-0001.pb", &files[..3.min(files.len())]);
    let t = Instant::now();
    let r = import_export_paths(&[out.path().to_path_buf()], true).unwrap();
    let strip = |w: &Workflow| {
        let mut w = w.clone();
        fn clear(w: &mut Workflow) {
            w.source.clear();
            for n in &mut w.nodes {
                if let NodeKind::Child(c) = &mut n.kind {
                    if let Some(e) = c.execution.as_mut() {
                        clear(e);
                    }
                }
            }
        }
        clear(&mut w);
        w
    };
    assert_eq!(r.duplicates, 3.min(files.len()));
    assert_eq!(r.import.workflows.len(), json.len());
    for (a, b) in r.import.workflows.iter().zip(json) {
        assert_eq!(strip(a), strip(b), "workflow {}", b.workflow_id);
    }
    println!(
        "export: {} histories in 2 protobuf files → {} executions ({}) in {:?}, records equal to the JSON import",
        r.histories,
        r.import.execution_count(),
        r.tally(),
        t.elapsed()
    );
}
