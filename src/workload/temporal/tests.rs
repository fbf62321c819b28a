//! Unit tests of the importer on small hand-written histories, including broken ones.

use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::workload::workflow::{Dep, DepOn, NodeKind, Outcome};

fn ev(id: Value, ty: &str, time: &str, attrs: Value) -> Value {
    let key = {
        let t = ty.strip_prefix("EVENT_TYPE_").unwrap_or(ty);
        let camel: String = t
            .split('_')
            .map(|w| {
                let w = w.to_lowercase();
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        let mut k = camel;
        if let Some(f) = k.get(0..1) {
            k = f.to_lowercase() + &k[1..];
        }
        k + "EventAttributes"
    };
    json!({"eventId": id, "eventTime": time, "eventType": ty, key: attrs})
}

/// A small workflow: start, WT, two parallel activities (fan-out), WT, join activity, close.
fn sample() -> Vec<Value> {
    let t = |ms: u32| format!("2026-01-01T00:00:{:02}.{:03}Z", ms / 1000, ms % 1000);
    let e = |id: u64, ty: &str, ms: u32, a: Value| ev(json!(id.to_string()), ty, &t(ms), a);
    let sched = |id: &str, ty: &str| {
        json!({"activityId": id, "activityType": {"name": ty}, "taskQueue": {"name": "tq", "kind": "TASK_QUEUE_KIND_NORMAL"},
               "workflowTaskCompletedEventId": "4", "startToCloseTimeout": "1s",
               "retryPolicy": {"initialInterval": "0.100s", "backoffCoefficient": 2, "maximumInterval": "2s", "maximumAttempts": 5},
               "input": [{"resources": {"cpu": "500m", "gangSize": 2}}]})
    };
    vec![
        e(
            1,
            "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
            0,
            json!({"workflowType": {"name": "wf"}, "taskQueue": {"name": "wtq"}, "workflowId": "w1", "originalExecutionRunId": "r1", "memo": {"fields": {"volcanoQueue": "q"}}}),
        ),
        e(2, "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", 1, json!({})),
        e(
            3,
            "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            11,
            json!({"scheduledEventId": "2"}),
        ),
        e(
            4,
            "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
            20,
            json!({"scheduledEventId": "2", "startedEventId": "3"}),
        ),
        e(5, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", 21, sched("a", "x")),
        e(6, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", 21, sched("b", "x")),
        // Started written late: its time is earlier than the Completed before it.
        e(
            7,
            "EVENT_TYPE_ACTIVITY_TASK_STARTED",
            51,
            json!({"scheduledEventId": "5", "attempt": 1}),
        ),
        e(
            8,
            "EVENT_TYPE_ACTIVITY_TASK_COMPLETED",
            151,
            json!({"scheduledEventId": "5", "startedEventId": "7"}),
        ),
        e(9, "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", 152, json!({})),
        e(
            10,
            "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            160,
            json!({"scheduledEventId": "9"}),
        ),
        e(
            11,
            "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
            165,
            json!({"scheduledEventId": "9", "startedEventId": "10"}),
        ),
        e(
            12,
            "EVENT_TYPE_ACTIVITY_TASK_STARTED",
            400,
            json!({"scheduledEventId": "6", "attempt": 2, "lastFailure": {"message": "boom"}}),
        ),
        e(
            13,
            "EVENT_TYPE_ACTIVITY_TASK_COMPLETED",
            500,
            json!({"scheduledEventId": "6", "startedEventId": "12"}),
        ),
        e(14, "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED", 501, json!({})),
        e(
            15,
            "EVENT_TYPE_WORKFLOW_TASK_STARTED",
            511,
            json!({"scheduledEventId": "14"}),
        ),
        e(
            16,
            "EVENT_TYPE_WORKFLOW_TASK_COMPLETED",
            520,
            json!({"scheduledEventId": "14", "startedEventId": "15"}),
        ),
        e(
            17,
            "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED",
            521,
            json!({"activityId": "c", "activityType": {"name": "join"}, "taskQueue": {"name": "tq"}, "workflowTaskCompletedEventId": "16"}),
        ),
        e(
            18,
            "EVENT_TYPE_ACTIVITY_TASK_STARTED",
            530,
            json!({"scheduledEventId": "17", "attempt": 1}),
        ),
        e(
            19,
            "EVENT_TYPE_ACTIVITY_TASK_FAILED",
            540,
            json!({"scheduledEventId": "17", "retryState": "NonRetryableFailure", "failure": {"message": "no"}}),
        ),
        e(20, "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED", 600, json!({})),
    ]
}

fn import(name: &str, doc: &Value) -> Result<Option<Workflow>, ImportError> {
    import_bytes(Path::new(name), doc.to_string().as_bytes(), &mut Vec::new())
}

#[test]
fn derives_times_deps_groups_and_retries() {
    let wf = import("s.json", &json!({"events": sample()}))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            wf.workflow_id.as_str(),
            wf.run_id.as_str(),
            wf.workflow_type.as_str()
        ),
        ("w1", "r1", "wf")
    );
    assert_eq!(wf.close.as_ref().unwrap().at_ms, 600);
    assert_eq!(wf.nodes.len(), 3);
    let act = |i: usize| match &wf.nodes[i].kind {
        NodeKind::Activity(a) => a.as_ref(),
        _ => panic!(),
    };
    let a = act(0);
    assert_eq!(
        (a.queue_ms, a.service_ms, a.attempts),
        (Some(30), Some(100), 1)
    );
    assert_eq!(
        wf.nodes[0].deps,
        vec![Dep {
            node: 1,
            on: DepOn::Close
        }]
    );
    assert_eq!(wf.nodes[0].group, Some(4));
    assert_eq!(wf.nodes[1].group, Some(4));
    let wt = wf.nodes[0].workflow_task.unwrap();
    assert_eq!(
        (wt.trigger_to_command_ms, wt.queue_ms, wt.run_ms),
        (21, 10, 9)
    );
    // Retried: attempt 2; s2s 379 = backoff 100 + 2 shares of 139 (+1 left for final queue).
    let b = act(1);
    assert_eq!(
        (b.queue_ms, b.schedule_to_start_ms, b.attempts),
        (None, Some(379), 2)
    );
    assert_eq!(b.earlier_attempts.len(), 1);
    assert_eq!(
        (
            b.earlier_attempts[0].backoff_ms,
            b.earlier_attempts[0].run_ms
        ),
        (100, 139)
    );
    assert_eq!(b.last_failure.as_deref(), Some("boom"));
    // The join depends on both (the command-less task at 11 accumulates).
    assert_eq!(
        wf.nodes[2].deps.iter().map(|d| d.node).collect::<Vec<_>>(),
        vec![5, 6]
    );
    let c = act(2);
    assert_eq!(c.outcome, Outcome::Failed);
    assert_eq!(
        c.retry_state.as_deref(),
        Some("RETRY_STATE_NON_RETRYABLE_FAILURE")
    );
    // Hints: input resources at activity level, memo queue at workflow level.
    let h = a.effective_hints(&wf).unwrap();
    assert_eq!(
        (h.cpu.as_deref(), h.gang_size, h.queue.as_deref()),
        (Some("500m"), Some(2), Some("q"))
    );
}

#[test]
fn all_envelopes_give_the_same_model() {
    let base = import("s.json", &json!({"events": sample()}))
        .unwrap()
        .unwrap();
    let mut reversed = sample();
    reversed.reverse();
    // PascalCase enums, numeric ids, newest first, {history:{events}} wrapper, bare array.
    let pascal: Vec<Value> = reversed
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let t = e["eventType"].as_str().unwrap()["EVENT_TYPE_".len()..].to_string();
            let p: String = t
                .split('_')
                .map(|w| w[..1].to_string() + &w[1..].to_lowercase())
                .collect();
            e["eventType"] = json!(p);
            e["eventId"] = json!(e["eventId"].as_str().unwrap().parse::<u64>().unwrap());
            e
        })
        .collect();
    for doc in [
        json!({"history": {"events": pascal}}),
        json!(pascal),
        json!({"events": reversed}),
    ] {
        let mut wf = import("s.json", &doc).unwrap().unwrap();
        wf.source = base.source.clone();
        assert_eq!(wf, base);
    }
    // Numeric event types.
    let numeric: Vec<Value> = sample()
        .into_iter()
        .map(|mut e| {
            let n = match e["eventType"].as_str().unwrap() {
                "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED" => 1,
                "EVENT_TYPE_WORKFLOW_EXECUTION_FAILED" => 3,
                "EVENT_TYPE_WORKFLOW_TASK_SCHEDULED" => 5,
                "EVENT_TYPE_WORKFLOW_TASK_STARTED" => 6,
                "EVENT_TYPE_WORKFLOW_TASK_COMPLETED" => 7,
                "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED" => 10,
                "EVENT_TYPE_ACTIVITY_TASK_STARTED" => 11,
                "EVENT_TYPE_ACTIVITY_TASK_COMPLETED" => 12,
                "EVENT_TYPE_ACTIVITY_TASK_FAILED" => 13,
                other => panic!("{other}"),
            };
            e["eventType"] = json!(n);
            e
        })
        .collect();
    assert_eq!(
        import("s.json", &json!({"events": numeric}))
            .unwrap()
            .unwrap(),
        base
    );
}

fn broken(doc: &str) -> String {
    import_bytes(Path::new("dir/bad.json"), doc.as_bytes(), &mut Vec::new())
        .unwrap_err()
        .to_string()
}

#[test]
fn broken_inputs_name_file_and_event() {
    let m = broken("{\"events\": [");
    assert!(
        m.starts_with("dir/bad.json:1:") && m.contains("invalid JSON"),
        "{m}"
    );
    let m = broken(r#"{"foo": 1}"#);
    assert!(m.starts_with("dir/bad.json: expected {\"events\""), "{m}");

    let mut evs = sample();
    evs[3].as_object_mut().unwrap().remove("eventType");
    let m = broken(&json!({"events": evs}).to_string());
    assert_eq!(m, "dir/bad.json: events[3] (eventId 4): missing eventType");

    let mut evs = sample();
    evs[5]["eventTime"] = json!("2026-01-01 noonish");
    let m = broken(&json!({"events": evs}).to_string());
    assert!(
        m.starts_with("dir/bad.json: events[5] (eventId 6): eventTime: invalid RFC 3339"),
        "{m}"
    );

    let mut evs = sample();
    evs[2]["eventId"] = json!("three");
    let m = broken(&json!({"events": evs}).to_string());
    assert_eq!(
        m,
        "dir/bad.json: events[2]: eventId: expected a number or a decimal string, got \"three\""
    );

    let mut evs = sample();
    evs[6]["activityTaskStartedEventAttributes"]["scheduledEventId"] = json!("99");
    let m = broken(&json!({"events": evs}).to_string());
    assert!(
        m.contains("events[6] (eventId 7): scheduledEventId 99 does not name"),
        "{m}"
    );

    let mut evs = sample();
    evs.remove(0);
    let m = broken(&json!({"events": evs}).to_string());
    assert!(
        m.contains("events[0] (eventId 2): expected WorkflowExecutionStarted"),
        "{m}"
    );

    let mut evs = sample();
    evs[4]["eventId"] = json!(4);
    let m = broken(&json!({"events": evs}).to_string());
    assert!(m.contains("duplicate eventId 4"), "{m}");
}

#[test]
fn directory_import_is_lenient_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        json!({"events": sample()}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("b.json"), "not json").unwrap();
    std::fs::write(
        dir.path().join("c.json"),
        json!({"executions": []}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("d.txt"), "ignored").unwrap();
    let r = import_paths(&[dir.path().to_path_buf()], false).unwrap();
    assert_eq!(
        (r.workflows.len(), r.files, r.errors.len(), r.skipped.len()),
        (1, 1, 1, 1)
    );
    assert!(r.errors[0].to_string().contains("b.json"));
    let e = import_paths(&[dir.path().to_path_buf()], true).unwrap_err();
    assert!(e.file.ends_with("b.json"));
    assert!(import_paths(&[dir.path().join("missing.json")], false).is_err());
}

#[test]
fn children_nest_into_parents_and_duplicates_drop() {
    let dir = tempfile::tempdir().unwrap();
    let t = "2026-01-01T00:00:00Z";
    let parent = json!({"events": [
        ev(json!(1), "WorkflowExecutionStarted", t, json!({"workflowType": {"name": "p"}, "taskQueue": {"name": "q"}, "workflowId": "P", "originalExecutionRunId": "pr"})),
        ev(json!(2), "WorkflowTaskScheduled", t, json!({})),
        ev(json!(3), "WorkflowTaskStarted", t, json!({})),
        ev(json!(4), "WorkflowTaskCompleted", t, json!({"scheduledEventId": 2, "startedEventId": 3})),
        ev(json!(5), "StartChildWorkflowExecutionInitiated", t, json!({"workflowId": "C", "workflowType": {"name": "c"}, "workflowTaskCompletedEventId": 4})),
        ev(json!(6), "ChildWorkflowExecutionStarted", "2026-01-01T00:00:00.010Z", json!({"initiatedEventId": 5, "workflowExecution": {"workflowId": "C", "runId": "cr"}})),
        ev(json!(7), "ChildWorkflowExecutionCompleted", "2026-01-01T00:00:00.110Z", json!({"initiatedEventId": 5, "startedEventId": 6})),
    ]});
    let child = json!({"events": [
        ev(json!(1), "WorkflowExecutionStarted", "2026-01-01T00:00:00.010Z", json!({"workflowType": {"name": "c"}, "taskQueue": {"name": "q"}, "workflowId": "C", "originalExecutionRunId": "cr",
            "parentWorkflowExecution": {"workflowId": "P", "runId": "pr"}, "parentInitiatedEventId": "5"})),
    ]});
    std::fs::write(dir.path().join("P.cli.json"), parent.to_string()).unwrap();
    std::fs::write(dir.path().join("P.http.json"), parent.to_string()).unwrap();
    std::fs::write(dir.path().join("C.cli.json"), child.to_string()).unwrap();
    let r = import_paths(&[dir.path().to_path_buf()], true).unwrap();
    assert_eq!(
        (r.workflows.len(), r.execution_count(), r.skipped.len()),
        (1, 2, 1)
    );
    let NodeKind::Child(c) = &r.workflows[0].nodes[0].kind else {
        panic!()
    };
    assert_eq!((c.start_latency_ms, c.duration_ms), (Some(10), Some(100)));
    assert_eq!(c.execution.as_ref().unwrap().workflow_id, "C");
}

#[test]
fn reset_run_is_its_own_execution_and_gzip_histories_import() {
    let dir = tempfile::tempdir().unwrap();
    let base = json!({"events": sample()});
    // The reset run: same workflow id and originalExecutionRunId, plus the reset's
    // WorkflowTaskFailed event naming the base and the new run.
    let mut reset_events = sample();
    reset_events.insert(
        3,
        ev(
            json!("40"),
            "EVENT_TYPE_WORKFLOW_TASK_FAILED",
            "2026-01-01T00:00:00.015Z",
            json!({"cause": "WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW", "baseRunId": "r1", "newRunId": "r2"}),
        ),
    );
    std::fs::write(dir.path().join("w1.json"), base.to_string()).unwrap();
    let reset = dir.path().join("w1-reset.json");
    std::fs::write(&reset, json!({"events": reset_events}).to_string()).unwrap();
    crate::workload::test_support::gz_copy(&reset, dir.path());
    std::fs::remove_file(&reset).unwrap();
    let r = import_paths(&[dir.path().to_path_buf()], true).unwrap();
    assert_eq!((r.files, r.skipped.len()), (2, 0), "{:?}", r.skipped);
    let runs: Vec<&str> = r.workflows.iter().map(|w| w.run_id.as_str()).collect();
    assert_eq!(runs, ["r1", "r2"]);
    // A true duplicate names the dropped file and the one kept.
    std::fs::write(dir.path().join("w1.http.json"), base.to_string()).unwrap();
    let r = import_paths(&[dir.path().to_path_buf()], true).unwrap();
    assert_eq!(r.skipped.len(), 1);
    let (f, why) = &r.skipped[0];
    assert!(
        f.ends_with("w1.json") || f.ends_with("w1.http.json"),
        "{f:?}"
    );
    assert!(
        why.contains("run r1") && why.contains("which is kept"),
        "{why}"
    );
}

#[test]
fn an_absurd_attempt_is_refused_before_anything_is_sized_by_it() {
    let mut events = sample();
    for e in events.iter_mut() {
        if e["eventId"] == json!(12) || e["eventId"] == json!("12") {
            e["activityTaskStartedEventAttributes"]["attempt"] = json!(1_000_000_000_000u64);
        }
    }
    let e = import("big.json", &json!({ "events": events })).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("big.json") && m.contains("attempt") && m.contains("10000"),
        "{m}"
    );
}
