//! Small helpers to read the untyped case YAML with precise errors (field names in messages).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{parse_quantity, ResourceName, Resources};

/// A problem with one case (becomes a FAIL line) or with the file.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseError(pub String);

impl CaseError {
    pub fn new(m: impl Into<String>) -> CaseError {
        CaseError(m.into())
    }
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(super) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

pub(super) fn list<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(|x| x.as_array())
        .map(|a| a.as_slice())
        .unwrap_or(&[])
}

pub(super) fn int(v: &Value, k: &str) -> Result<Option<i64>, CaseError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| CaseError::new(format!("field {k}: expected an integer"))),
        Some(Value::String(x)) => x
            .parse()
            .map(Some)
            .map_err(|_| CaseError::new(format!("field {k}: expected an integer, got {x:?}"))),
        Some(other) => Err(CaseError::new(format!(
            "field {k}: expected an integer, got {other}"
        ))),
    }
}

pub(super) fn str_map(v: &Value, k: &str) -> BTreeMap<String, String> {
    v.get(k)
        .and_then(|x| x.as_object())
        .map(|m| m.iter().map(|(a, b)| (a.clone(), scalar(b))).collect())
        .unwrap_or_default()
}

/// A scalar rendered as text (numbers and bools as YAML writes them).
pub(super) fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A ResourceList (`{cpu: "1", memory: 1G, pods: 10}`); numbers accepted.
pub(super) fn resources(v: &Value, field: &str) -> Result<Resources, CaseError> {
    let mut r = Resources::empty();
    let Some(m) = v.as_object() else {
        return Err(CaseError::new(format!(
            "field {field}: expected a resource map"
        )));
    };
    for (name, q) in m {
        let d = ResourceName::intern(name)
            .map_err(|e| CaseError::new(format!("field {field}.{name}: {e}")))?;
        let text = scalar(q);
        let x = parse_quantity(&text, d.scale())
            .map_err(|e| CaseError::new(format!("field {field}.{name}: {e}")))?;
        r.set(d, x);
    }
    Ok(r)
}

pub(super) fn opt_resources(v: &Value, k: &str) -> Result<Option<Resources>, CaseError> {
    match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => resources(x, k).map(Some),
    }
}
