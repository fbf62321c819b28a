//! Tolerant readers for proto-JSON values as Temporal exports write them: int64 as string or
//! number, enums in `PREFIX_UPPER_SNAKE`, PascalCase or number form, proto durations
//! (`"0.100s"`), RFC 3339 timestamps into integer nanoseconds, and payloads (standard
//! base64 `json/plain` or HTTP shorthand). Pure functions over `serde_json::Value`; no I/O.

use serde_json::Value;

/// Follows object keys; `None` if any step is missing or not an object.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in path {
        cur = cur.as_object()?.get(*k)?;
    }
    if cur.is_null() {
        None
    } else {
        Some(cur)
    }
}

/// A string at `path`; empty strings count as absent.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// An unsigned integer written as a JSON number or a decimal string (proto-JSON int64).
pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn u64_at(v: &Value, path: &[&str]) -> Option<u64> {
    at(v, path).and_then(as_u64)
}

/// A signed integer as number or string.
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `ActivityTaskScheduled` → `ACTIVITY_TASK_SCHEDULED`.
pub(crate) fn pascal_to_upper_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Normalises an enum value to `PREFIX_UPPER_SNAKE` (the SDK's fix-up, notes B.1). Numbers are
/// looked up in `by_number` (index = proto number) and otherwise kept as `PREFIX_<n>`.
pub(crate) fn norm_enum(prefix: &str, v: &Value, by_number: &[&str]) -> Option<String> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                None
            } else if s.starts_with(prefix) && s[prefix.len()..].starts_with('_') {
                Some(s.to_string())
            } else if s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                Some(format!("{prefix}_{s}"))
            } else {
                Some(format!("{prefix}_{}", pascal_to_upper_snake(s)))
            }
        }
        Value::Number(n) => {
            let i = n.as_u64()? as usize;
            Some(match by_number.get(i) {
                Some(name) => format!("{prefix}_{name}"),
                None => format!("{prefix}_{i}"),
            })
        }
        _ => None,
    }
}

/// `RETRY_STATE_*` by proto number.
pub(crate) const RETRY_STATES: &[&str] = &[
    "UNSPECIFIED",
    "IN_PROGRESS",
    "NON_RETRYABLE_FAILURE",
    "TIMEOUT",
    "MAXIMUM_ATTEMPTS_REACHED",
    "RETRY_POLICY_NOT_SET",
    "INTERNAL_SERVER_ERROR",
    "CANCEL_REQUESTED",
];

/// `TASK_QUEUE_KIND_*` by proto number.
pub(crate) const TASK_QUEUE_KINDS: &[&str] = &["UNSPECIFIED", "NORMAL", "STICKY"];

/// A proto duration (`"300s"`, `"0.100s"`, or a Go duration) or a number of seconds, in ms
/// (rounded up).
pub(crate) fn duration_ms(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => crate::model::parse_duration(s).ok(),
        Value::Number(n) => n
            .as_f64()
            .filter(|f| *f >= 0.0)
            .map(|f| (f * 1000.0).ceil() as u64),
        Value::Object(_) => {
            let secs = u64_at(v, &["seconds"]).unwrap_or(0);
            let nanos = u64_at(v, &["nanos"]).unwrap_or(0);
            Some(secs * 1000 + nanos.div_ceil(1_000_000))
        }
        _ => None,
    }
}

pub(crate) fn duration_ms_at(v: &Value, path: &[&str]) -> Option<u64> {
    at(v, path).and_then(duration_ms)
}

/// Parses an RFC 3339 timestamp (`2020-07-14T15:04:02Z`, 0–9 fractional digits, `Z` or
/// `±hh:mm`) or a `{seconds, nanos}` object into Unix nanoseconds.
pub(crate) fn timestamp_ns(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => parse_rfc3339_ns(s),
        Value::Object(_) => {
            let secs = at(v, &["seconds"])
                .and_then(as_i64)
                .ok_or("timestamp object without seconds")?;
            let nanos = at(v, &["nanos"]).and_then(as_i64).unwrap_or(0);
            unix_ns(secs, nanos).ok_or_else(|| {
                format!("timestamp {{seconds: {secs}, nanos: {nanos}}} is outside {NS_RANGE}")
            })
        }
        other => Err(format!(
            "expected an RFC 3339 timestamp string, got {other}"
        )),
    }
}

/// RFC 3339 → Unix nanoseconds, exact (no floats).
pub(crate) fn parse_rfc3339_ns(s: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("invalid RFC 3339 timestamp {s:?}: {why}");
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = b.get(r).ok_or_else(|| bad("too short"))?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(bad("expected digits"));
        }
        Ok(part.iter().fold(0i64, |a, d| a * 10 + (d - b'0') as i64))
    };
    if b.len() < 20 {
        return Err(bad("too short"));
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad("expected YYYY-MM-DDThh:mm:ss"));
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(bad("field out of range"));
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return Err(bad("expected 1–9 fractional digits"));
        }
        nanos = num(start..i)? * 10i64.pow((9 - digits) as u32);
    }
    let offset_s = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let o = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if c == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return Err(bad("expected Z or ±hh:mm after the seconds")),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_s;
    unix_ns(secs, nanos).ok_or_else(|| bad(&format!("outside {NS_RANGE}")))
}

/// What Unix nanoseconds in an `i64` can hold (about 1677-09-21 to 2262-04-11, as in Go).
const NS_RANGE: &str = "the range of i64 nanoseconds (years 1678 to 2261)";

/// `secs` s + `nanos` ns as Unix nanoseconds; `None` past the `i64` range.
fn unix_ns(secs: i64, nanos: i64) -> Option<i64> {
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Standard or URL-safe base64, padding optional; `None` on invalid input.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Decodes one `Payload`. A `{metadata:{encoding}, data}` object with `json/plain` encoding
/// becomes its JSON value; other encodings are opaque (`Null`). Anything else is HTTP shorthand
/// and is returned as is.
pub(crate) fn decode_payload(v: &Value) -> Value {
    let Some(meta) = v.get("metadata").filter(|m| m.is_object()) else {
        return v.clone();
    };
    let encoding = str_at(meta, &["encoding"])
        .and_then(base64_decode)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    if encoding != "json/plain" {
        return Value::Null;
    }
    str_at(v, &["data"])
        .and_then(base64_decode)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Decodes `Payloads`: `{"payloads":[…]}` (standard) or a plain array (shorthand).
pub(crate) fn decode_payloads(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(items)) => items.iter().map(decode_payload).collect(),
        Some(Value::Object(o)) => match o.get("payloads") {
            Some(Value::Array(items)) => items.iter().map(decode_payload).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Decodes a `{fields|indexedFields: {k: Payload}}` map (memo, header, search attributes).
pub(crate) fn decode_fields(
    v: Option<&Value>,
    key: &str,
) -> std::collections::BTreeMap<String, Value> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, p)| (k.clone(), decode_payload(p)))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_with_any_precision() {
        let base = parse_rfc3339_ns("2020-07-14T15:04:02Z").unwrap();
        assert_eq!(base, 1_594_739_042 * 1_000_000_000);
        assert_eq!(
            parse_rfc3339_ns("2020-07-14T15:04:02.5Z").unwrap(),
            base + 500_000_000
        );
        assert_eq!(
            parse_rfc3339_ns("2020-07-14T15:04:02.862440Z").unwrap(),
            base + 862_440_000
        );
        assert_eq!(
            parse_rfc3339_ns("2020-07-14T15:04:02.720294376Z").unwrap(),
            base + 720_294_376
        );
        assert_eq!(parse_rfc3339_ns("2020-07-14T17:04:02+02:00").unwrap(), base);
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_rfc3339_ns("2024-02-29T00:00:00Z").unwrap(),
            1_709_164_800 * 1_000_000_000
        );
        for bad in [
            "",
            "2020-07-14",
            "2020-07-14T15:04:02",
            "2020-13-14T15:04:02Z",
            "2020-07-14T15:04:02.Z",
            "2020-07-14T15:04:02.1234567890Z",
            "yesterday at noon!!",
        ] {
            assert!(parse_rfc3339_ns(bad).is_err(), "{bad}");
        }
        assert_eq!(
            timestamp_ns(&json!({"seconds": "1", "nanos": 5})).unwrap(),
            1_000_000_005
        );
    }

    #[test]
    fn timestamps_past_i64_nanoseconds_are_errors_not_overflows() {
        // found by the fuzz harness (a mutated year 9999 overflowed secs × 10⁹)
        let e = parse_rfc3339_ns("9999-07-14T15:04:02Z").unwrap_err();
        assert!(e.contains("outside the range of i64 nanoseconds"), "{e}");
        assert!(parse_rfc3339_ns("2262-04-11T23:47:16Z").is_ok());
        assert!(parse_rfc3339_ns("1677-09-21T00:12:43Z").is_err());
        assert!(parse_rfc3339_ns("1677-09-21T00:12:44Z").is_ok());
        let e = timestamp_ns(&json!({"seconds": "9223372036854775807"})).unwrap_err();
        assert!(e.contains("outside the range"), "{e}");
    }

    #[test]
    fn enums_are_normalised() {
        assert_eq!(
            pascal_to_upper_snake("ActivityTaskScheduled"),
            "ACTIVITY_TASK_SCHEDULED"
        );
        assert_eq!(
            pascal_to_upper_snake("WorkflowExecutionUpdateAccepted"),
            "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
        );
        assert_eq!(
            norm_enum("TASK_QUEUE_KIND", &json!("Normal"), TASK_QUEUE_KINDS).unwrap(),
            "TASK_QUEUE_KIND_NORMAL"
        );
        assert_eq!(
            norm_enum("RETRY_STATE", &json!("RETRY_STATE_TIMEOUT"), RETRY_STATES).unwrap(),
            "RETRY_STATE_TIMEOUT"
        );
        assert_eq!(
            norm_enum("RETRY_STATE", &json!(4), RETRY_STATES).unwrap(),
            "RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED"
        );
        assert_eq!(
            norm_enum("RETRY_STATE", &json!("NonRetryableFailure"), RETRY_STATES).unwrap(),
            "RETRY_STATE_NON_RETRYABLE_FAILURE"
        );
    }

    #[test]
    fn payloads_standard_and_shorthand() {
        let std = json!({"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"eyJhIjoxfQ=="}]});
        assert_eq!(decode_payloads(Some(&std)), vec![json!({"a":1})]);
        assert_eq!(
            decode_payloads(Some(&json!([{"a":1}]))),
            vec![json!({"a":1})]
        );
        let opaque = json!({"metadata":{"encoding":"YmluYXJ5L251bGw="}});
        assert_eq!(decode_payload(&opaque), Value::Null);
        assert_eq!(base64_decode("MTAwMA==").unwrap(), b"1000");
        assert_eq!(base64_decode("MTAwMA").unwrap(), b"1000");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(&json!("0.100s")), Some(100));
        assert_eq!(duration_ms(&json!("300s")), Some(300_000));
        assert_eq!(duration_ms(&json!(2)), Some(2000));
    }
}
