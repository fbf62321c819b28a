//! Volcano resource hints carried in a history (notes B.4 rule 9): an activity's header
//! `volcano-resources` and input `resources`, a workflow's memo and search attributes.
//! Precedence (merged field by field): header > input > memo > search attributes. Quantities
//! are validated with `model::parse_quantity`; invalid ones are dropped with a warning.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::parse_quantity;
use crate::workload::workflow::Hints;

/// A quantity written as a string or a JSON number.
fn quantity(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn count(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|x| u32::try_from(x).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    v?.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn first<'a>(o: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| o.get(*k))
}

/// Reads a `resources`-style object: `cpu`, `memory`, `gpu` (or `nvidia.com/gpu`), `gangSize`
/// (or `minMember`), `minAvailable`, `queue`, `priorityClass`. `None` if nothing is set.
pub(crate) fn from_object(v: &Value, what: &str, warnings: &mut Vec<String>) -> Option<Hints> {
    let o = v.as_object()?;
    let h = Hints {
        queue: text(first(o, &["queue", "volcanoQueue"])),
        cpu: quantity(o.get("cpu")),
        memory: quantity(o.get("memory")),
        gpu: quantity(first(o, &["gpu", "nvidia.com/gpu"])),
        gang_size: count(first(o, &["gangSize", "gang_size", "minMember"])),
        min_available: count(first(o, &["minAvailable", "min_available"])),
        priority_class: text(first(
            o,
            &["priorityClass", "priority_class", "priorityClassName"],
        )),
    };
    validated(h, what, warnings)
}

/// Drops quantities that are not valid Kubernetes quantities.
fn validated(mut h: Hints, what: &str, warnings: &mut Vec<String>) -> Option<Hints> {
    for (name, field, scale) in [
        ("cpu", &mut h.cpu, 1000),
        ("memory", &mut h.memory, 1),
        ("gpu", &mut h.gpu, 1000),
    ] {
        if let Some(q) = field.as_deref() {
            if let Err(e) = parse_quantity(q, scale) {
                warnings.push(format!("{what}: ignoring {name} hint: {e}"));
                *field = None;
            }
        }
    }
    (!h.is_empty()).then_some(h)
}

/// Activity-level hints: header `volcano-resources` over the first input argument's `resources`.
pub(crate) fn activity(
    header: &BTreeMap<String, Value>,
    input: &[Value],
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<Hints> {
    let from_header = header
        .get("volcano-resources")
        .and_then(|v| from_object(v, what, warnings));
    let from_input = input
        .iter()
        .find_map(|a| a.get("resources"))
        .and_then(|v| from_object(v, what, warnings));
    Hints::merge(from_header.as_ref(), from_input.as_ref())
}

/// Workflow-level hints: memo (`resources{…}`, `volcanoQueue`, `priorityClass`, `gangSize`)
/// over search attributes (`VolcanoQueue`, `GangSize`, `MinAvailable`, `CpuMillis`,
/// `MemoryBytes`, `Memory`, `GpuCount`, `PriorityClass`).
pub(crate) fn workflow(
    memo: &BTreeMap<String, Value>,
    sa: &BTreeMap<String, Value>,
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<Hints> {
    let memo_obj: serde_json::Map<String, Value> =
        memo.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let memo_top = from_object(&Value::Object(memo_obj), what, warnings);
    let memo_res = memo
        .get("resources")
        .and_then(|v| from_object(v, what, warnings));
    let memo_h = Hints::merge(memo_res.as_ref(), memo_top.as_ref());
    let sa_h = validated(
        Hints {
            queue: text(sa.get("VolcanoQueue")),
            cpu: count(sa.get("CpuMillis")).map(|m| format!("{m}m")),
            memory: count(sa.get("MemoryBytes"))
                .map(|b| b.to_string())
                .or_else(|| quantity(sa.get("Memory"))),
            gpu: quantity(sa.get("GpuCount")).or_else(|| quantity(sa.get("Gpu"))),
            gang_size: count(sa.get("GangSize")),
            min_available: count(sa.get("MinAvailable")),
            priority_class: text(sa.get("PriorityClass")),
        },
        what,
        warnings,
    );
    Hints::merge(memo_h.as_ref(), sa_h.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn precedence_and_validation() {
        let mut w = Vec::new();
        let header: BTreeMap<String, Value> = [(
            "volcano-resources".to_string(),
            json!({"cpu": "2", "gangSize": 2}),
        )]
        .into();
        let input = vec![json!({"resources": {"cpu": "1", "memory": "1Gi", "queue": "batch"}})];
        let h = activity(&header, &input, "x", &mut w).unwrap();
        assert_eq!(
            (h.cpu.as_deref(), h.memory.as_deref(), h.queue.as_deref()),
            (Some("2"), Some("1Gi"), Some("batch"))
        );
        assert_eq!(h.gang_size, Some(2));
        let bad = vec![json!({"resources": {"cpu": "lots"}})];
        assert_eq!(activity(&BTreeMap::new(), &bad, "act 5", &mut w), None);
        assert!(w[0].contains("act 5") && w[0].contains("cpu"), "{w:?}");

        let memo: BTreeMap<String, Value> = [("volcanoQueue".to_string(), json!("agents"))].into();
        let sa: BTreeMap<String, Value> = [
            ("VolcanoQueue".to_string(), json!("other")),
            ("CpuMillis".to_string(), json!(500)),
        ]
        .into();
        let h = workflow(&memo, &sa, "wf", &mut w).unwrap();
        assert_eq!(
            (h.queue.as_deref(), h.cpu.as_deref()),
            (Some("agents"), Some("500m"))
        );
    }
}
