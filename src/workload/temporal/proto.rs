//! Protobuf → proto-JSON for the fields of Temporal's history messages that the derivation
//! (`derive.rs`, `activity.rs`, `hints.rs`) reads. Each history event is decoded into the same
//! normalised [`Event`] the JSON dialects produce, with its attributes as the proto-JSON object
//! (lowerCamel keys, defaults omitted, payloads as `{metadata, data}` in base64), so one
//! derivation serves every input and the canonical records cannot drift between formats.
//!
//! Field numbers are those of the `.proto` files of `temporalio/api` as bundled with the Python
//! SDK `temporalio` 1.35.0 (`temporal/api/{history,common,taskqueue,failure,update}/v1`,
//! `enums/v1/event_type.proto`, `export/v1/message.proto`); fields not listed are skipped as
//! protobuf requires. Depends on `wire` and `history` only; no I/O.

use serde_json::{Map, Number, Value};

use super::history::{Event, EventType, EVENT_TYPES};
use super::wire::{Field, Reader, WireError};

/// How a field is turned into JSON.
#[derive(Clone, Copy)]
enum Kind {
    /// `string` (omitted when empty, as proto-JSON does).
    Str,
    /// `int32` / `int64` (omitted when 0).
    Int,
    /// An enum, as its number (omitted when 0); `json::norm_enum` names it.
    Enum,
    /// `double` (omitted when 0).
    Double,
    /// `float`, as its shortest decimal form (omitted when 0).
    Float,
    /// `google.protobuf.Duration` as a proto-JSON duration string (`"1.500000000s"`).
    Duration,
    /// An embedded message.
    Msg(&'static [Fd]),
    /// `temporal.api.common.v1.Payloads`.
    Payloads,
    /// `map<string, Payload>` (memo, header, search attributes).
    PayloadMap,
    /// `repeated string`.
    RepeatedStr,
}

/// One field of a message: number, proto-JSON name, kind.
struct Fd(u32, &'static str, Kind);

use Kind::*;

const NAMED: &[Fd] = &[Fd(1, "name", Str)]; // WorkflowType, ActivityType
const EXECUTION: &[Fd] = &[Fd(1, "workflowId", Str), Fd(2, "runId", Str)];
const TASK_QUEUE: &[Fd] = &[
    Fd(1, "name", Str),
    Fd(2, "kind", Enum),
    Fd(3, "normalName", Str),
];
/// `temporal.api.common.v1.Priority`.
const PRIORITY: &[Fd] = &[
    Fd(1, "priorityKey", Int),
    Fd(2, "fairnessKey", Str),
    Fd(3, "fairnessWeight", Float),
];
const RETRY_POLICY: &[Fd] = &[
    Fd(1, "initialInterval", Duration),
    Fd(2, "backoffCoefficient", Double),
    Fd(3, "maximumInterval", Duration),
    Fd(4, "maximumAttempts", Int),
    Fd(5, "nonRetryableErrorTypes", RepeatedStr),
];
const EMPTY: &[Fd] = &[];
/// `temporal.api.failure.v1.Failure`: the message and whether it was a timeout.
const FAILURE: &[Fd] = &[
    Fd(1, "message", Str),
    Fd(6, "timeoutFailureInfo", Msg(EMPTY)),
];
const FIELDS: &[Fd] = &[Fd(1, "fields", PayloadMap)]; // Memo, Header
const SEARCH_ATTRIBUTES: &[Fd] = &[Fd(1, "indexedFields", PayloadMap)];
const UPDATE_REQUEST: &[Fd] = &[Fd(2, "input", Msg(&[Fd(2, "name", Str)]))];
/// The issuing workflow task of a command event.
const WTC: &str = "workflowTaskCompletedEventId";

/// The attributes messages the derivation reads, by their `HistoryEvent` field number.
const ATTRIBUTES: &[(u32, &[Fd])] = &[
    // WorkflowExecutionStartedEventAttributes
    (
        6,
        &[
            Fd(1, "workflowType", Msg(NAMED)),
            Fd(3, "parentWorkflowExecution", Msg(EXECUTION)),
            Fd(4, "parentInitiatedEventId", Int),
            Fd(5, "taskQueue", Msg(TASK_QUEUE)),
            Fd(10, "continuedExecutionRunId", Str),
            Fd(14, "originalExecutionRunId", Str),
            Fd(21, "firstWorkflowTaskBackoff", Duration),
            Fd(22, "memo", Msg(FIELDS)),
            Fd(23, "searchAttributes", Msg(SEARCH_ATTRIBUTES)),
            Fd(28, "workflowId", Str),
            Fd(35, "priority", Msg(PRIORITY)),
        ],
    ),
    // WorkflowTaskCompleted
    (
        12,
        &[Fd(1, "scheduledEventId", Int), Fd(2, "startedEventId", Int)],
    ),
    // WorkflowTaskFailed (a reset names the new run)
    (14, &[Fd(6, "baseRunId", Str), Fd(7, "newRunId", Str)]),
    // ActivityTaskScheduled
    (
        15,
        &[
            Fd(1, "activityId", Str),
            Fd(2, "activityType", Msg(NAMED)),
            Fd(4, "taskQueue", Msg(TASK_QUEUE)),
            Fd(5, "header", Msg(FIELDS)),
            Fd(6, "input", Payloads),
            Fd(7, "scheduleToCloseTimeout", Duration),
            Fd(8, "scheduleToStartTimeout", Duration),
            Fd(9, "startToCloseTimeout", Duration),
            Fd(10, "heartbeatTimeout", Duration),
            Fd(11, WTC, Int),
            Fd(12, "retryPolicy", Msg(RETRY_POLICY)),
            Fd(14, "priority", Msg(PRIORITY)),
        ],
    ),
    // ActivityTaskStarted
    (
        16,
        &[
            Fd(1, "scheduledEventId", Int),
            Fd(4, "attempt", Int),
            Fd(5, "lastFailure", Msg(FAILURE)),
        ],
    ),
    // ActivityTaskCompleted / Failed / TimedOut / Canceled
    (17, &[Fd(2, "scheduledEventId", Int)]),
    (
        18,
        &[
            Fd(1, "failure", Msg(FAILURE)),
            Fd(2, "scheduledEventId", Int),
            Fd(5, "retryState", Enum),
        ],
    ),
    (
        19,
        &[
            Fd(1, "failure", Msg(FAILURE)),
            Fd(2, "scheduledEventId", Int),
            Fd(4, "retryState", Enum),
        ],
    ),
    (23, &[Fd(3, "scheduledEventId", Int)]),
    // TimerStarted / Fired / Canceled
    (
        20,
        &[
            Fd(1, "timerId", Str),
            Fd(2, "startToFireTimeout", Duration),
            Fd(3, WTC, Int),
        ],
    ),
    (21, &[Fd(1, "timerId", Str), Fd(2, "startedEventId", Int)]),
    (
        24,
        &[
            Fd(1, "timerId", Str),
            Fd(2, "startedEventId", Int),
            Fd(3, WTC, Int),
        ],
    ),
    // MarkerRecorded, WorkflowExecutionSignaled, WorkflowExecutionCancelRequested
    (25, &[Fd(1, "markerName", Str), Fd(3, WTC, Int)]),
    (26, &[Fd(1, "signalName", Str)]),
    (28, &[Fd(1, "cause", Str)]),
    // StartChildWorkflowExecutionInitiated / Failed
    (
        34,
        &[
            Fd(2, "workflowId", Str),
            Fd(3, "workflowType", Msg(NAMED)),
            Fd(4, "taskQueue", Msg(TASK_QUEUE)),
            Fd(11, WTC, Int),
        ],
    ),
    (35, &[Fd(6, "initiatedEventId", Int), Fd(7, WTC, Int)]),
    // ChildWorkflowExecution Started / Completed / Failed / Canceled / TimedOut / Terminated
    (
        36,
        &[
            Fd(2, "initiatedEventId", Int),
            Fd(3, "workflowExecution", Msg(EXECUTION)),
        ],
    ),
    (37, &[Fd(5, "initiatedEventId", Int)]),
    (38, &[Fd(5, "initiatedEventId", Int)]),
    (39, &[Fd(5, "initiatedEventId", Int)]),
    (40, &[Fd(4, "initiatedEventId", Int)]),
    (41, &[Fd(4, "initiatedEventId", Int)]),
    // UpsertWorkflowSearchAttributes, WorkflowExecutionUpdateAccepted
    (
        45,
        &[
            Fd(1, WTC, Int),
            Fd(2, "searchAttributes", Msg(SEARCH_ATTRIBUTES)),
        ],
    ),
    (46, &[Fd(4, "acceptedRequest", Msg(UPDATE_REQUEST))]),
];

/// `HistoryEvent` fields 6..300 are the `attributes` oneof (300+ are metadata).
const ATTRIBUTES_RANGE: std::ops::Range<u32> = 6..300;

/// One decoded event, plus the event type number when this proto version does not know it.
pub(crate) struct Decoded {
    pub(crate) event: Event,
    pub(crate) unknown_type: Option<u64>,
}

/// Decodes one `HistoryEvent` (the payload of a `History.events` field at `offset`).
/// `index` is its position in the history, kept for messages.
pub(crate) fn decode_event(
    index: usize,
    bytes: &[u8],
    offset: usize,
) -> Result<Decoded, WireError> {
    let mut r = Reader::nested(bytes, offset);
    let (mut id, mut time, mut ty) = (0u64, None, 0u64);
    let mut attrs = Value::Null;
    while let Some(f) = r.next()? {
        match f.number {
            1 => id = f.varint()?,
            2 => time = Some(timestamp_ns(&f)?),
            3 => ty = f.varint()?,
            n if ATTRIBUTES_RANGE.contains(&n) => {
                let schema = ATTRIBUTES
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map_or(EMPTY, |(_, s)| *s);
                attrs = Value::Object(message(&f, schema)?);
            }
            _ => {}
        }
    }
    let missing = |what: &str| WireError {
        offset,
        message: format!("event without {what}"),
    };
    if id == 0 {
        return Err(missing("an event_id (field 1)"));
    }
    let time_ns = time.ok_or_else(|| missing("an event_time (field 2)"))?;
    let (kind, unknown_type) = match EVENT_TYPES.get(ty as usize).filter(|_| ty > 0) {
        Some(name) => (EventType::from_snake(name), None),
        None => (EventType::Other(format!("{ty}")), Some(ty)),
    };
    Ok(Decoded {
        event: Event {
            index,
            id,
            time_ns,
            kind,
            attrs,
        },
        unknown_type,
    })
}

/// `google.protobuf.Timestamp` → Unix ns.
fn timestamp_ns(f: &Field<'_>) -> Result<i64, WireError> {
    let (secs, nanos) = seconds_nanos(f)?;
    let bad = || WireError {
        offset: f.offset,
        message: format!("timestamp out of range ({secs} s, {nanos} ns)"),
    };
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(bad());
    }
    secs.checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(i64::from(nanos)))
        .ok_or_else(bad)
}

/// `(seconds, nanos)` of a Timestamp or Duration message.
fn seconds_nanos(f: &Field<'_>) -> Result<(i64, i32), WireError> {
    let mut r = f.message()?;
    let (mut secs, mut nanos) = (0, 0);
    while let Some(g) = r.next()? {
        match g.number {
            1 => secs = g.int64()?,
            2 => nanos = g.int32()?,
            _ => {}
        }
    }
    Ok((secs, nanos))
}

/// Decodes an embedded message with `schema` into a proto-JSON object; a repeated occurrence
/// of a message field is merged into the first (protobuf semantics).
fn message(f: &Field<'_>, schema: &[Fd]) -> Result<Map<String, Value>, WireError> {
    let mut r = f.message()?;
    let mut out = Map::new();
    while let Some(g) = r.next()? {
        let Some(Fd(_, name, kind)) = schema.iter().find(|d| d.0 == g.number) else {
            continue;
        };
        let key = name.to_string();
        let value = match kind {
            Str => Some(g.string()?).filter(|s| !s.is_empty()).map(Value::from),
            Int => Some(g.int64()?).filter(|v| *v != 0).map(Value::from),
            Enum => Some(g.int32()?)
                .filter(|v| *v != 0)
                .map(|v| Value::from(i64::from(v))),
            Double => Number::from_f64(g.double()?)
                .filter(|n| n.as_f64() != Some(0.0))
                .map(Value::Number),
            // The shortest decimal that reads back as this f32, as proto-JSON prints it.
            Float => format!("{}", g.float()?)
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .filter(|n| n.as_f64() != Some(0.0))
                .map(Value::Number),
            Duration => {
                let (secs, nanos) = seconds_nanos(&g)?;
                Some(Value::from(duration_string(secs, nanos)))
            }
            Msg(inner) => {
                let mut m = message(&g, inner)?;
                if let Some(Value::Object(prev)) = out.remove(&key) {
                    let mut merged = prev;
                    merged.append(&mut m);
                    m = merged;
                }
                Some(Value::Object(m))
            }
            Payloads => {
                let mut list = match out.remove(&key) {
                    Some(Value::Object(mut o)) => match o.remove("payloads") {
                        Some(Value::Array(a)) => a,
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                let mut pr = g.message()?;
                while let Some(p) = pr.next()? {
                    if p.number == 1 {
                        list.push(payload(&p)?);
                    }
                }
                let mut o = Map::new();
                if !list.is_empty() {
                    o.insert("payloads".into(), Value::Array(list));
                }
                Some(Value::Object(o))
            }
            PayloadMap => {
                let (k, v) = map_entry(&g, |p| payload(p))?;
                let mut m = match out.remove(&key) {
                    Some(Value::Object(m)) => m,
                    _ => Map::new(),
                };
                m.insert(k, v.unwrap_or_else(|| Value::Object(Map::new())));
                Some(Value::Object(m))
            }
            RepeatedStr => {
                let mut a = match out.remove(&key) {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                a.push(Value::from(g.string()?));
                Some(Value::Array(a))
            }
        };
        match value {
            Some(v) => out.insert(key, v),
            None => out.remove(&key),
        };
    }
    Ok(out)
}

/// `{ "metadata": {key: base64}, "data": base64 }`, each part omitted when empty (as proto-JSON
/// writes a `Payload`; `json::decode_payload` reads it).
fn payload(f: &Field<'_>) -> Result<Value, WireError> {
    let mut r = f.message()?;
    let (mut meta, mut data) = (Map::new(), Vec::new());
    while let Some(g) = r.next()? {
        match g.number {
            1 => {
                let (k, v) = map_entry(&g, |b| Ok(b.bytes()?.0))?;
                meta.insert(k, Value::from(base64(v.unwrap_or_default())));
            }
            2 => data = g.bytes()?.0.to_vec(),
            _ => {}
        }
    }
    let mut o = Map::new();
    if !meta.is_empty() {
        o.insert("metadata".into(), Value::Object(meta));
    }
    if !data.is_empty() {
        o.insert("data".into(), Value::from(base64(&data)));
    }
    Ok(Value::Object(o))
}

/// One map entry (`key = 1`, a string; `value = 2`, decoded by `value`).
fn map_entry<'a, T>(
    f: &Field<'a>,
    value: impl Fn(&Field<'a>) -> Result<T, WireError>,
) -> Result<(String, Option<T>), WireError> {
    let mut r = f.message()?;
    let (mut k, mut v) = (String::new(), None);
    while let Some(g) = r.next()? {
        match g.number {
            1 => k = g.string()?.to_string(),
            2 => v = Some(value(&g)?),
            _ => {}
        }
    }
    Ok((k, v))
}

/// A proto-JSON duration: `"90s"`, `"0.100000000s"`, `"-1.500000000s"`.
fn duration_string(secs: i64, nanos: i32) -> String {
    let sign = if secs < 0 || nanos < 0 { "-" } else { "" };
    let (s, n) = (secs.unsigned_abs(), nanos.unsigned_abs());
    if n == 0 {
        format!("{sign}{s}s")
    } else {
        format!("{sign}{s}.{n:09}s")
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::json::{base64_decode, decode_payload, duration_ms};
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "json/plain", "{\"cpu\":\"500m\"}"] {
            assert_eq!(base64_decode(&base64(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(base64(b"json/plain"), "anNvbi9wbGFpbg==");
    }

    #[test]
    fn durations_read_like_proto_json() {
        for (s, n, ms) in [
            (90, 0, 90_000),
            (0, 100_000_000, 100),
            (1, 500_000_001, 1501),
        ] {
            assert_eq!(duration_ms(&Value::from(duration_string(s, n))), Some(ms));
        }
        assert_eq!(duration_string(-1, -500_000_000), "-1.500000000s");
    }

    #[test]
    fn payload_decodes_like_its_json_form() {
        // Payload { metadata {"encoding": "json/plain"}, data: {"a":1} }
        let mut entry = vec![0x0a, 8];
        entry.extend_from_slice(b"encoding");
        entry.extend_from_slice(&[0x12, 10]);
        entry.extend_from_slice(b"json/plain");
        let mut p = vec![0x0a, entry.len() as u8];
        p.extend_from_slice(&entry);
        p.extend_from_slice(&[0x12, 7]);
        p.extend_from_slice(b"{\"a\":1}");
        let mut outer = vec![0x0a, p.len() as u8];
        outer.extend_from_slice(&p);
        let f = Reader::new(&outer, 0).next().unwrap().unwrap();
        let v = payload(&f).unwrap();
        assert_eq!(decode_payload(&v), serde_json::json!({"a": 1}));
    }
}
