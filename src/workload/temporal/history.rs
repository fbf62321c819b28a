//! Envelope parsing and normalisation of one exported history file (notes B.1): accepts
//! `{"events":[…]}`, `{"history":{"events":[…]}}` and bare arrays, string or number ids,
//! proto-enum / PascalCase / numeric event types, any event order. Produces events sorted by
//! `eventId` (as a number) with their original index kept for error messages. Also recognises
//! visibility listings so a directory import can skip them. Depends only on `json` and the
//! importer's error type.

use std::path::Path;

use serde_json::Value;

use super::json::{as_u64, at, norm_enum, timestamp_ns};
use super::{ImportError, Position};

/// The event types the importer interprets; everything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventType {
    WorkflowExecutionStarted,
    /// Completed / Failed / TimedOut / Canceled / Terminated / ContinuedAsNew.
    WorkflowExecutionClosed(crate::workload::workflow::CloseStatus),
    WorkflowTaskScheduled,
    WorkflowTaskStarted,
    WorkflowTaskCompleted,
    ActivityTaskScheduled,
    ActivityTaskStarted,
    /// Completed / Failed / TimedOut / Canceled.
    ActivityTaskClosed(crate::workload::workflow::Outcome),
    TimerStarted,
    TimerFired,
    TimerCanceled,
    StartChildWorkflowExecutionInitiated,
    StartChildWorkflowExecutionFailed,
    ChildWorkflowExecutionStarted,
    ChildWorkflowExecutionClosed(crate::workload::workflow::ChildOutcome),
    WorkflowExecutionSignaled,
    WorkflowExecutionUpdateAccepted,
    WorkflowExecutionCancelRequested,
    MarkerRecorded,
    UpsertWorkflowSearchAttributes,
    Other(String),
}

/// `EVENT_TYPE_*` names by proto number (temporal api `enums/v1/event_type.proto`, as bundled
/// with `temporalio` 1.35.0).
pub(crate) const EVENT_TYPES: &[&str] = &[
    "UNSPECIFIED",
    "WORKFLOW_EXECUTION_STARTED",
    "WORKFLOW_EXECUTION_COMPLETED",
    "WORKFLOW_EXECUTION_FAILED",
    "WORKFLOW_EXECUTION_TIMED_OUT",
    "WORKFLOW_TASK_SCHEDULED",
    "WORKFLOW_TASK_STARTED",
    "WORKFLOW_TASK_COMPLETED",
    "WORKFLOW_TASK_TIMED_OUT",
    "WORKFLOW_TASK_FAILED",
    "ACTIVITY_TASK_SCHEDULED",
    "ACTIVITY_TASK_STARTED",
    "ACTIVITY_TASK_COMPLETED",
    "ACTIVITY_TASK_FAILED",
    "ACTIVITY_TASK_TIMED_OUT",
    "ACTIVITY_TASK_CANCEL_REQUESTED",
    "ACTIVITY_TASK_CANCELED",
    "TIMER_STARTED",
    "TIMER_FIRED",
    "TIMER_CANCELED",
    "WORKFLOW_EXECUTION_CANCEL_REQUESTED",
    "WORKFLOW_EXECUTION_CANCELED",
    "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    "REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED",
    "EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED",
    "MARKER_RECORDED",
    "WORKFLOW_EXECUTION_SIGNALED",
    "WORKFLOW_EXECUTION_TERMINATED",
    "WORKFLOW_EXECUTION_CONTINUED_AS_NEW",
    "START_CHILD_WORKFLOW_EXECUTION_INITIATED",
    "START_CHILD_WORKFLOW_EXECUTION_FAILED",
    "CHILD_WORKFLOW_EXECUTION_STARTED",
    "CHILD_WORKFLOW_EXECUTION_COMPLETED",
    "CHILD_WORKFLOW_EXECUTION_FAILED",
    "CHILD_WORKFLOW_EXECUTION_CANCELED",
    "CHILD_WORKFLOW_EXECUTION_TIMED_OUT",
    "CHILD_WORKFLOW_EXECUTION_TERMINATED",
    "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED",
    "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED",
    "EXTERNAL_WORKFLOW_EXECUTION_SIGNALED",
    "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
    "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    "WORKFLOW_EXECUTION_UPDATE_REJECTED",
    "WORKFLOW_EXECUTION_UPDATE_COMPLETED",
    "WORKFLOW_PROPERTIES_MODIFIED_EXTERNALLY",
    "ACTIVITY_PROPERTIES_MODIFIED_EXTERNALLY",
    "WORKFLOW_PROPERTIES_MODIFIED",
    "WORKFLOW_EXECUTION_UPDATE_ADMITTED",
    "NEXUS_OPERATION_SCHEDULED",
    "NEXUS_OPERATION_STARTED",
    "NEXUS_OPERATION_COMPLETED",
    "NEXUS_OPERATION_FAILED",
    "NEXUS_OPERATION_CANCELED",
    "NEXUS_OPERATION_TIMED_OUT",
    "NEXUS_OPERATION_CANCEL_REQUESTED",
    "WORKFLOW_EXECUTION_OPTIONS_UPDATED",
    "NEXUS_OPERATION_CANCEL_REQUEST_COMPLETED",
    "NEXUS_OPERATION_CANCEL_REQUEST_FAILED",
    "WORKFLOW_EXECUTION_PAUSED",
    "WORKFLOW_EXECUTION_UNPAUSED",
    "WORKFLOW_EXECUTION_TIME_SKIPPING_TRANSITIONED",
];

impl EventType {
    /// The event type of an `EVENT_TYPE_*` name without its prefix.
    pub(crate) fn from_snake(s: &str) -> EventType {
        use crate::workload::workflow::{ChildOutcome as C, CloseStatus as W, Outcome as A};
        use EventType::*;
        match s {
            "WORKFLOW_EXECUTION_STARTED" => WorkflowExecutionStarted,
            "WORKFLOW_EXECUTION_COMPLETED" => WorkflowExecutionClosed(W::Completed),
            "WORKFLOW_EXECUTION_FAILED" => WorkflowExecutionClosed(W::Failed),
            "WORKFLOW_EXECUTION_TIMED_OUT" => WorkflowExecutionClosed(W::TimedOut),
            "WORKFLOW_EXECUTION_CANCELED" => WorkflowExecutionClosed(W::Canceled),
            "WORKFLOW_EXECUTION_TERMINATED" => WorkflowExecutionClosed(W::Terminated),
            "WORKFLOW_EXECUTION_CONTINUED_AS_NEW" => WorkflowExecutionClosed(W::ContinuedAsNew),
            "WORKFLOW_TASK_SCHEDULED" => WorkflowTaskScheduled,
            "WORKFLOW_TASK_STARTED" => WorkflowTaskStarted,
            "WORKFLOW_TASK_COMPLETED" => WorkflowTaskCompleted,
            "ACTIVITY_TASK_SCHEDULED" => ActivityTaskScheduled,
            "ACTIVITY_TASK_STARTED" => ActivityTaskStarted,
            "ACTIVITY_TASK_COMPLETED" => ActivityTaskClosed(A::Completed),
            "ACTIVITY_TASK_FAILED" => ActivityTaskClosed(A::Failed),
            "ACTIVITY_TASK_TIMED_OUT" => ActivityTaskClosed(A::TimedOut),
            "ACTIVITY_TASK_CANCELED" => ActivityTaskClosed(A::Canceled),
            "TIMER_STARTED" => TimerStarted,
            "TIMER_FIRED" => TimerFired,
            "TIMER_CANCELED" => TimerCanceled,
            "START_CHILD_WORKFLOW_EXECUTION_INITIATED" => StartChildWorkflowExecutionInitiated,
            "START_CHILD_WORKFLOW_EXECUTION_FAILED" => StartChildWorkflowExecutionFailed,
            "CHILD_WORKFLOW_EXECUTION_STARTED" => ChildWorkflowExecutionStarted,
            "CHILD_WORKFLOW_EXECUTION_COMPLETED" => ChildWorkflowExecutionClosed(C::Completed),
            "CHILD_WORKFLOW_EXECUTION_FAILED" => ChildWorkflowExecutionClosed(C::Failed),
            "CHILD_WORKFLOW_EXECUTION_CANCELED" => ChildWorkflowExecutionClosed(C::Canceled),
            "CHILD_WORKFLOW_EXECUTION_TIMED_OUT" => ChildWorkflowExecutionClosed(C::TimedOut),
            "CHILD_WORKFLOW_EXECUTION_TERMINATED" => ChildWorkflowExecutionClosed(C::Terminated),
            "WORKFLOW_EXECUTION_SIGNALED" => WorkflowExecutionSignaled,
            "WORKFLOW_EXECUTION_UPDATE_ACCEPTED" => WorkflowExecutionUpdateAccepted,
            "WORKFLOW_EXECUTION_CANCEL_REQUESTED" => WorkflowExecutionCancelRequested,
            "MARKER_RECORDED" => MarkerRecorded,
            "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES" => UpsertWorkflowSearchAttributes,
            other => Other(other.to_string()),
        }
    }
}

/// One normalised history event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// Position in the file's event array (0-based), for error messages.
    pub index: usize,
    pub id: u64,
    pub time_ns: i64,
    pub kind: EventType,
    /// The `…EventAttributes` object (`Null` when absent).
    pub attrs: Value,
}

/// What a JSON file turned out to be.
pub(crate) enum Parsed {
    History(Vec<Event>),
    /// A visibility listing (`temporal workflow list -o json` or the HTTP list response):
    /// not a history, holds this many executions.
    Listing(usize),
}

/// Parses and normalises one file's content.
pub(crate) fn parse(file: &Path, bytes: &[u8]) -> Result<Parsed, ImportError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ImportError {
        file: file.to_path_buf(),
        position: Position::Json {
            line: e.line(),
            column: e.column(),
        },
        message: format!("invalid JSON: {e}"),
    })?;
    let file_err = |message: String| ImportError {
        file: file.to_path_buf(),
        position: Position::File,
        message,
    };
    let is_listing_entry = |v: &Value| v.get("execution").is_some() && v.get("eventType").is_none();
    let events = match &doc {
        Value::Object(o) if o.contains_key("executions") && !o.contains_key("events") => {
            let n = o
                .get("executions")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            return Ok(Parsed::Listing(n));
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(is_listing_entry) => {
            return Ok(Parsed::Listing(a.len()))
        }
        Value::Array(a) => a,
        Value::Object(o) => {
            let inner = match o.get("history") {
                Some(h) => h,
                None => &doc,
            };
            inner.get("events").and_then(Value::as_array).ok_or_else(|| {
                file_err(r#"expected {"events":[…]}, {"history":{"events":[…]}} or a JSON array of events"#.into())
            })?
        }
        _ => {
            return Err(file_err(
                r#"expected {"events":[…]}, {"history":{"events":[…]}} or a JSON array of events"#
                    .into(),
            ))
        }
    };
    if events.is_empty() {
        return Err(file_err("the history has no events".into()));
    }
    let mut out = Vec::with_capacity(events.len());
    for (index, ev) in events.iter().enumerate() {
        out.push(parse_event(file, index, ev)?);
    }
    out.sort_by_key(|e| e.id);
    for w in out.windows(2) {
        if w[0].id == w[1].id {
            return Err(ImportError {
                file: file.to_path_buf(),
                position: Position::Event {
                    index: w[1].index,
                    event_id: Some(w[1].id),
                },
                message: format!(
                    "duplicate eventId {} (also at events[{}])",
                    w[1].id, w[0].index
                ),
            });
        }
    }
    Ok(Parsed::History(out))
}

fn parse_event(file: &Path, index: usize, ev: &Value) -> Result<Event, ImportError> {
    let raw_id = ev.get("eventId");
    let id = raw_id.and_then(as_u64);
    let err = |message: String| ImportError {
        file: file.to_path_buf(),
        position: Position::Event {
            index,
            event_id: id,
        },
        message,
    };
    let obj = ev
        .as_object()
        .ok_or_else(|| err(format!("expected an event object, got {}", short(ev))))?;
    let id = match raw_id {
        None => return Err(err("missing eventId".into())),
        Some(v) => id.ok_or_else(|| {
            err(format!(
                "eventId: expected a number or a decimal string, got {}",
                short(v)
            ))
        })?,
    };
    let ty = obj
        .get("eventType")
        .ok_or_else(|| err("missing eventType".into()))?;
    let name = norm_enum("EVENT_TYPE", ty, EVENT_TYPES).ok_or_else(|| {
        err(format!(
            "eventType: expected a string or enum number, got {}",
            short(ty)
        ))
    })?;
    let kind = EventType::from_snake(&name["EVENT_TYPE_".len()..]);
    let time = obj
        .get("eventTime")
        .ok_or_else(|| err("missing eventTime".into()))?;
    let time_ns = timestamp_ns(time).map_err(|e| err(format!("eventTime: {e}")))?;
    // The attributes object: lowerCamel(eventType)+"EventAttributes", any *EventAttributes key,
    // or the UI's decorated `attributes`.
    let attrs = obj
        .iter()
        .find(|(k, v)| k.ends_with("EventAttributes") && v.is_object())
        .map(|(_, v)| v.clone())
        .or_else(|| at(ev, &["attributes"]).filter(|v| v.is_object()).cloned())
        .unwrap_or(Value::Null);
    Ok(Event {
        index,
        id,
        time_ns,
        kind,
        attrs,
    })
}

/// A short rendering of a JSON value for messages.
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}
