//! Volcano resource hints and Temporal task priority as recorded in a history. Plain data;
//! depends on nothing outside `workflow`.

use serde::{Deserialize, Serialize};

/// Temporal task priority (`priority{priorityKey, fairnessKey, fairnessWeight}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_key: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness_weight: Option<f64>,
}

/// Volcano resource hints found in a history. Quantities stay Kubernetes quantity strings
/// (validated at import); every field is optional and merged field by field.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Hints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gang_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class: Option<String>,
}

impl Hints {
    pub fn is_empty(&self) -> bool {
        *self == Hints::default()
    }

    /// Field-by-field merge: each field from `high` if set there, else from `low`.
    pub fn merge(high: Option<&Hints>, low: Option<&Hints>) -> Option<Hints> {
        match (high, low) {
            (None, None) => None,
            (Some(h), None) => Some(h.clone()),
            (None, Some(l)) => Some(l.clone()),
            (Some(h), Some(l)) => Some(Hints {
                queue: h.queue.clone().or_else(|| l.queue.clone()),
                cpu: h.cpu.clone().or_else(|| l.cpu.clone()),
                memory: h.memory.clone().or_else(|| l.memory.clone()),
                gpu: h.gpu.clone().or_else(|| l.gpu.clone()),
                gang_size: h.gang_size.or(l.gang_size),
                min_available: h.min_available.or(l.min_available),
                priority_class: h
                    .priority_class
                    .clone()
                    .or_else(|| l.priority_class.clone()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_merge_field_by_field() {
        let hi = Hints {
            cpu: Some("2".into()),
            ..Default::default()
        };
        let lo = Hints {
            cpu: Some("1".into()),
            queue: Some("q".into()),
            ..Default::default()
        };
        let m = Hints::merge(Some(&hi), Some(&lo)).unwrap();
        assert_eq!(m.cpu.as_deref(), Some("2"));
        assert_eq!(m.queue.as_deref(), Some("q"));
        assert_eq!(Hints::merge(None, None), None);
    }
}
