//! Derivation of one execution's [`Workflow`] from its normalised events (notes B.4): node
//! timings (rule 2), re-synthesised retries (rule 3), fan-out groups (rule 5), inferred
//! dependencies (rule 6), workflow-task latency (rule 7), timers and signals (rule 8), hints
//! (rule 9). Never infers times from event order, only from `eventTime` (rule 4). Children are
//! left unlinked here (`ChildWorkflow::execution = None`); `mod.rs` links them.

use std::collections::BTreeMap;
use std::path::Path;

use super::activity::{activity_scheduled, finish_activity, priority, task_queue};
use super::history::{Event, EventType as E};
use super::json::{at, decode_fields, duration_ms_at, norm_enum, str_at, u64_at, RETRY_STATES};
use super::{hints, ImportError, Position};
use crate::workload::workflow::*;

/// Rounds a nanosecond span to whole ms (negative spans count as 0).
pub(crate) fn ms(from_ns: i64, to_ns: i64) -> u64 {
    ((to_ns - from_ns).max(0) as u64 + 500_000) / 1_000_000
}

/// A node under construction with the raw times needed later.
struct Building {
    node: Node,
    issued_ns: i64,
    /// The issuing WorkflowTaskCompleted event id (commands only).
    wtc: Option<u64>,
}

/// Identity hints taken from the file name (`<workflowId>__<runId>.json` from `pull`, or
/// `<workflowId>.cli.json` / `.http.json`).
pub(crate) fn ids_from_file_name(file: &Path) -> (String, String) {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let name = crate::workload::input::strip_gz(name);
    let stem = name.strip_suffix(".json").unwrap_or(name);
    let stem = [".cli", ".http", ".sdk"]
        .iter()
        .find_map(|s| stem.strip_suffix(s))
        .unwrap_or(stem);
    match stem.split_once("__") {
        Some((w, r)) => (w.to_string(), r.to_string()),
        None => (stem.to_string(), String::new()),
    }
}

/// Builds the execution. `warnings` collects non-fatal problems (bad hints, dangling refs).
/// Largest activity `attempt` accepted (`docs/limits.md`): each earlier attempt of a retried
/// activity is replayed as its own job.
pub(crate) const MAX_ATTEMPT: u64 = 10_000;

pub(crate) fn derive(
    file: &Path,
    events: &[Event],
    warnings: &mut Vec<String>,
) -> Result<Workflow, ImportError> {
    derive_with_ids(file, ids_from_file_name(file), events, warnings)
}

/// As [`derive`], with the fallback `(workflow id, run id)` given instead of read from the file
/// name (an exported history shares its file with others). `events` must not be empty.
pub(crate) fn derive_with_ids(
    file: &Path,
    (file_wid, file_rid): (String, String),
    events: &[Event],
    warnings: &mut Vec<String>,
) -> Result<Workflow, ImportError> {
    let err = |ev: &Event, message: String| ImportError {
        file: file.to_path_buf(),
        position: Position::Event {
            index: ev.index,
            event_id: Some(ev.id),
        },
        message,
    };
    let start = &events[0];
    if start.kind != E::WorkflowExecutionStarted {
        return Err(err(
            start,
            "expected WorkflowExecutionStarted as the event with the lowest eventId".into(),
        ));
    }
    let sa_attrs = &start.attrs;
    let workflow_type = str_at(sa_attrs, &["workflowType", "name"])
        .ok_or_else(|| {
            err(
                start,
                "expected workflowExecutionStartedEventAttributes.workflowType.name".into(),
            )
        })?
        .to_string();
    let workflow_id = str_at(sa_attrs, &["workflowId"])
        .map(str::to_string)
        .unwrap_or(file_wid);
    // A reset run keeps its base run's `originalExecutionRunId`; its own run id is the
    // `newRunId` of the reset's WorkflowTaskFailed event (the only event with `baseRunId`).
    let reset_run_id = events.iter().find_map(|e| {
        e.attrs.get("baseRunId")?;
        str_at(&e.attrs, &["newRunId"]).filter(|r| !r.is_empty())
    });
    let run_id = if !file_rid.is_empty() {
        file_rid
    } else if let Some(r) = reset_run_id {
        r.to_string()
    } else {
        str_at(sa_attrs, &["originalExecutionRunId"])
            .unwrap_or_default()
            .to_string()
    };
    let what = format!("workflow {workflow_id}");
    let memo = decode_fields(at(sa_attrs, &["memo"]), "fields");
    let mut search_attributes = decode_fields(at(sa_attrs, &["searchAttributes"]), "indexedFields");
    let start_delay_ms = duration_ms_at(sa_attrs, &["firstWorkflowTaskBackoff"]).unwrap_or(0);
    let parent = str_at(sa_attrs, &["parentWorkflowExecution", "workflowId"]).map(|w| ParentRef {
        workflow_id: w.to_string(),
        run_id: str_at(sa_attrs, &["parentWorkflowExecution", "runId"])
            .unwrap_or_default()
            .to_string(),
        initiated_event_id: u64_at(sa_attrs, &["parentInitiatedEventId"]).unwrap_or(0),
    });
    let t0 = start.time_ns;

    let mut nodes: BTreeMap<u64, Building> = BTreeMap::new();
    // Raw activity times by scheduled id: (started_ns, closed_ns, last failure was a timeout).
    let mut act_times: BTreeMap<u64, (Option<i64>, Option<i64>, bool)> = BTreeMap::new();
    let mut child_started: BTreeMap<u64, i64> = BTreeMap::new();
    let mut timer_ids: BTreeMap<String, u64> = BTreeMap::new();
    let mut wt_times: BTreeMap<u64, i64> = BTreeMap::new(); // WT scheduled/started id → time
    let mut wtc: BTreeMap<u64, (u64, u64, i64)> = BTreeMap::new(); // id → (scheduled, started, time)
    let mut results: Vec<(u64, Dep, i64)> = vec![(
        start.id,
        Dep {
            node: start.id,
            on: DepOn::Close,
        },
        t0,
    )];
    let mut last_wtc: Option<u64> = None;
    let mut close = None;
    let mut local_activities = 0;

    let command = |ev: &Event, last_wtc: Option<u64>, kind: NodeKind| Building {
        node: Node {
            id: ev.id,
            issued_ms: ms(t0, ev.time_ns),
            deps: vec![],
            group: None,
            workflow_task: None,
            kind,
        },
        issued_ns: ev.time_ns,
        wtc: u64_at(&ev.attrs, &["workflowTaskCompletedEventId"])
            .filter(|k| *k > 0)
            .or(last_wtc),
    };
    let need = |ev: &Event, path: &[&str]| -> Result<u64, ImportError> {
        u64_at(&ev.attrs, path).ok_or_else(|| {
            err(
                ev,
                format!("expected attribute {} (an event id)", path.join(".")),
            )
        })
    };

    for ev in &events[1..] {
        let a = &ev.attrs;
        match &ev.kind {
            E::WorkflowExecutionStarted => {
                return Err(err(ev, "a second WorkflowExecutionStarted".into()))
            }
            E::WorkflowExecutionClosed(status) => {
                close = Some(Close {
                    status: *status,
                    at_ms: ms(t0, ev.time_ns),
                })
            }
            E::WorkflowTaskScheduled | E::WorkflowTaskStarted => {
                wt_times.insert(ev.id, ev.time_ns);
            }
            E::WorkflowTaskCompleted => {
                let started = u64_at(a, &["startedEventId"]).unwrap_or(ev.id.saturating_sub(1));
                let scheduled =
                    u64_at(a, &["scheduledEventId"]).unwrap_or(started.saturating_sub(1));
                wtc.insert(ev.id, (scheduled, started, ev.time_ns));
                last_wtc = Some(ev.id);
            }
            E::ActivityTaskScheduled => {
                let act = activity_scheduled(ev, &format!("{what} activity {}", ev.id), warnings)
                    .map_err(|m| err(ev, m))?;
                act_times.insert(ev.id, (None, None, false));
                nodes.insert(
                    ev.id,
                    command(ev, last_wtc, NodeKind::Activity(Box::new(act))),
                );
            }
            E::ActivityTaskStarted => {
                let sid = need(ev, &["scheduledEventId"])?;
                let (Some(b), Some(t)) = (nodes.get_mut(&sid), act_times.get_mut(&sid)) else {
                    return Err(err(
                        ev,
                        format!(
                            "scheduledEventId {sid} does not name an ActivityTaskScheduled event"
                        ),
                    ));
                };
                if let NodeKind::Activity(act) = &mut b.node.kind {
                    let attempt = u64_at(a, &["attempt"]).unwrap_or(1).max(1);
                    if attempt > MAX_ATTEMPT {
                        // Each earlier attempt is re-synthesised as a job: bound it before
                        // anything is sized by it.
                        return Err(err(
                            ev,
                            format!(
                                "field attempt: {attempt} exceeds the limit of {MAX_ATTEMPT} attempts"
                            ),
                        ));
                    }
                    act.attempts = attempt as u32;
                    act.last_failure = str_at(a, &["lastFailure", "message"]).map(str::to_string);
                    t.2 = at(a, &["lastFailure", "timeoutFailureInfo"]).is_some();
                }
                t.0 = Some(ev.time_ns);
            }
            E::ActivityTaskClosed(outcome) => {
                let sid = need(ev, &["scheduledEventId"])?;
                let (Some(b), Some(t)) = (nodes.get_mut(&sid), act_times.get_mut(&sid)) else {
                    return Err(err(
                        ev,
                        format!(
                            "scheduledEventId {sid} does not name an ActivityTaskScheduled event"
                        ),
                    ));
                };
                if let NodeKind::Activity(act) = &mut b.node.kind {
                    act.outcome = *outcome;
                    act.retry_state = at(a, &["retryState"])
                        .and_then(|v| norm_enum("RETRY_STATE", v, RETRY_STATES));
                    act.failure = str_at(a, &["failure", "message"]).map(str::to_string);
                }
                t.1 = Some(ev.time_ns);
                results.push((
                    ev.id,
                    Dep {
                        node: sid,
                        on: DepOn::Close,
                    },
                    ev.time_ns,
                ));
            }
            E::TimerStarted => {
                let timer_id = str_at(a, &["timerId"]).unwrap_or_default().to_string();
                timer_ids.insert(timer_id.clone(), ev.id);
                let t = Timer {
                    timer_id,
                    start_to_fire_ms: duration_ms_at(a, &["startToFireTimeout"]).unwrap_or(0),
                    elapsed_ms: None,
                    canceled: false,
                };
                nodes.insert(ev.id, command(ev, last_wtc, NodeKind::Timer(t)));
            }
            E::TimerFired | E::TimerCanceled => {
                let sid = u64_at(a, &["startedEventId"])
                    .filter(|s| nodes.contains_key(s))
                    .or_else(|| str_at(a, &["timerId"]).and_then(|t| timer_ids.get(t).copied()));
                let Some(b) = sid.and_then(|s| nodes.get_mut(&s)) else {
                    warnings.push(format!("{what}: event {} closes an unknown timer", ev.id));
                    continue;
                };
                if let NodeKind::Timer(t) = &mut b.node.kind {
                    t.elapsed_ms = Some(ms(b.issued_ns, ev.time_ns));
                    t.canceled = ev.kind == E::TimerCanceled;
                }
                results.push((
                    ev.id,
                    Dep {
                        node: b.node.id,
                        on: DepOn::Close,
                    },
                    ev.time_ns,
                ));
            }
            E::StartChildWorkflowExecutionInitiated => {
                let c = ChildWorkflow {
                    workflow_id: str_at(a, &["workflowId"]).unwrap_or_default().to_string(),
                    workflow_type: str_at(a, &["workflowType", "name"])
                        .unwrap_or_default()
                        .to_string(),
                    task_queue: str_at(a, &["taskQueue", "name"])
                        .unwrap_or_default()
                        .to_string(),
                    run_id: String::new(),
                    start_latency_ms: None,
                    duration_ms: None,
                    outcome: None,
                    execution: None,
                };
                nodes.insert(ev.id, command(ev, last_wtc, NodeKind::Child(Box::new(c))));
            }
            E::StartChildWorkflowExecutionFailed
            | E::ChildWorkflowExecutionStarted
            | E::ChildWorkflowExecutionClosed(_) => {
                let iid = need(ev, &["initiatedEventId"])?;
                let Some(b) = nodes.get_mut(&iid) else {
                    return Err(err(ev, format!("initiatedEventId {iid} does not name a StartChildWorkflowExecutionInitiated event")));
                };
                let NodeKind::Child(c) = &mut b.node.kind else {
                    return Err(err(ev, format!("initiatedEventId {iid} does not name a StartChildWorkflowExecutionInitiated event")));
                };
                let on = match &ev.kind {
                    E::ChildWorkflowExecutionStarted => {
                        c.run_id = str_at(a, &["workflowExecution", "runId"])
                            .unwrap_or_default()
                            .to_string();
                        c.start_latency_ms = Some(ms(b.issued_ns, ev.time_ns));
                        child_started.insert(iid, ev.time_ns);
                        DepOn::Start
                    }
                    E::ChildWorkflowExecutionClosed(o) => {
                        c.outcome = Some(*o);
                        c.duration_ms = child_started.get(&iid).map(|s| ms(*s, ev.time_ns));
                        DepOn::Close
                    }
                    _ => {
                        c.outcome = Some(ChildOutcome::StartFailed);
                        DepOn::Close
                    }
                };
                results.push((ev.id, Dep { node: iid, on }, ev.time_ns));
            }
            E::WorkflowExecutionSignaled
            | E::WorkflowExecutionUpdateAccepted
            | E::WorkflowExecutionCancelRequested => {
                let (name, source) = match ev.kind {
                    E::WorkflowExecutionSignaled => {
                        (str_at(a, &["signalName"]), SignalSource::Signal)
                    }
                    E::WorkflowExecutionUpdateAccepted => (
                        str_at(a, &["acceptedRequest", "input", "name"]),
                        SignalSource::Update,
                    ),
                    _ => (str_at(a, &["cause"]), SignalSource::CancelRequest),
                };
                let s = Signal {
                    name: name.unwrap_or_default().to_string(),
                    source,
                };
                let node = Node {
                    id: ev.id,
                    issued_ms: ms(t0, ev.time_ns),
                    deps: vec![],
                    group: None,
                    workflow_task: None,
                    kind: NodeKind::Signal(s),
                };
                nodes.insert(
                    ev.id,
                    Building {
                        node,
                        issued_ns: ev.time_ns,
                        wtc: None,
                    },
                );
                results.push((
                    ev.id,
                    Dep {
                        node: ev.id,
                        on: DepOn::Close,
                    },
                    ev.time_ns,
                ));
            }
            E::MarkerRecorded => {
                let m = str_at(a, &["markerName"]).unwrap_or_default();
                if m == "LocalActivity" || m == "core_local_activity" {
                    local_activities += 1;
                }
            }
            E::UpsertWorkflowSearchAttributes => {
                search_attributes
                    .extend(decode_fields(at(a, &["searchAttributes"]), "indexedFields"));
            }
            E::Other(_) => {}
        }
    }

    // Dependencies (rule 6) and workflow-task timing (rule 7).
    let mut issuing: Vec<u64> = nodes.values().filter_map(|b| b.wtc).collect();
    issuing.sort_unstable();
    issuing.dedup();
    let mut deps_of: BTreeMap<u64, (Vec<Dep>, Option<i64>)> = BTreeMap::new();
    let mut prev = 0u64;
    for k in issuing {
        let s_k = wtc.get(&k).map_or(k.saturating_sub(1), |w| w.1);
        let window: Vec<&(u64, Dep, i64)> =
            results.iter().filter(|r| prev < r.0 && r.0 < s_k).collect();
        let mut deps: Vec<Dep> = window.iter().map(|r| r.1).collect();
        deps.sort_unstable();
        deps.dedup_by_key(|d| d.node); // Close < Start, so a close wins over a start
        deps_of.insert(k, (deps, window.iter().map(|r| r.2).max()));
        prev = s_k;
    }
    let mut out_nodes = Vec::with_capacity(nodes.len());
    for (id, mut b) in nodes {
        if let Some(k) = b.wtc {
            b.node.group = Some(k);
            if let Some((deps, trigger)) = deps_of.get(&k) {
                b.node.deps = deps.clone();
                if let Some((sched, started, done)) = wtc.get(&k) {
                    let (s, st) = (wt_times.get(sched).copied(), wt_times.get(started).copied());
                    b.node.workflow_task = Some(WorkflowTaskTiming {
                        trigger_to_command_ms: trigger.map_or(0, |t| ms(t, b.issued_ns)),
                        queue_ms: match (s, st) {
                            (Some(s), Some(st)) => ms(s, st),
                            _ => 0,
                        },
                        run_ms: st.map_or(0, |st| ms(st, *done)),
                    });
                }
            }
        }
        if let NodeKind::Activity(act) = &mut b.node.kind {
            let (started, closed, timeout_failure) = act_times[&id];
            finish_activity(act, b.issued_ns, started, closed, timeout_failure);
        }
        out_nodes.push(b.node);
    }

    let hints = hints::workflow(&memo, &search_attributes, &what, warnings);
    Ok(Workflow {
        workflow_id,
        run_id,
        workflow_type,
        task_queue: task_queue(sa_attrs).unwrap_or_default(),
        arrival_unix_ms: (t0.div_euclid(1_000_000)) + start_delay_ms as i64,
        start_delay_ms,
        close,
        parent,
        continued_from_run_id: str_at(sa_attrs, &["continuedExecutionRunId"]).map(str::to_string),
        memo,
        search_attributes,
        hints,
        priority: priority(at(sa_attrs, &["priority"])),
        local_activities,
        history_length: events.len() as u32,
        source: file.display().to_string(),
        nodes: out_nodes,
    })
}
