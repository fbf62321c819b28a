//! Mapping of workflow activities to Volcano jobs: a table of rules (from the scenario TOML)
//! matched by activity type, task queue and workflow type, overridden field by field by the
//! hints recorded in the history (header > input `resources` > workflow memo > search
//! attributes > table, notes B.4 rule 9). An activity matched by no rule and carrying no
//! activity-level hints runs inline: its recorded duration, no cluster resources. Optional
//! `[[priority]]` and `[[fairness]]` tables map Temporal's task priority (`priorityKey`,
//! `fairnessKey`, inherited from the workflow field by field) to a PriorityClass and a queue.
//!
//! Depends only on `crate::model` and `crate::workload::workflow`. Configuration errors are
//! reported at deserialisation, naming the field.

use serde::{Deserialize, Serialize};

use crate::model::{parse_quantity, Resources};
use crate::workload::workflow::{Activity, Hints, Priority, Workflow};

/// A Kubernetes quantity written as a string (`"500m"`, `"1Gi"`) or a number (`2`, `1.5`);
/// validated when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub String);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            F(f64),
        }
        let s = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::F(f) => f.to_string(),
        };
        parse_quantity(&s, 1).map_err(serde::de::Error::custom)?;
        Ok(Quantity(s))
    }
}

/// The mapping table. TOML:
/// ```toml
/// default_queue = "default"
/// [[rule]]
/// activity_type = "run-slm-*"     # exact name, or a glob with `*`
/// queue = "inference"
/// cpu = "2"
/// memory = "6Gi"
/// gpu = 1
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingTable {
    /// Queue for mapped activities that name none (default `"default"`).
    #[serde(default)]
    pub default_queue: Option<String>,
    /// Rules, first match wins.
    #[serde(default, rename = "rule", alias = "rules")]
    pub rules: Vec<MappingRule>,
    /// Temporal priority key → PriorityClass of a mapped activity, first match wins
    /// (`[[priority]]`; empty: Temporal priorities are not used).
    #[serde(default, rename = "priority")]
    pub priorities: Vec<PriorityRule>,
    /// Temporal fairness key → queue of a mapped activity, first match wins
    /// (`[[fairness]]`; empty: fairness keys are not used).
    #[serde(default)]
    pub fairness: Vec<FairnessRule>,
}

/// `[[priority]] priority_key = 1, priority_class = "high"`: a mapped activity whose effective
/// Temporal priority key (its own, else its workflow's) is `priority_key` gets this class,
/// unless a history hint names one (hint > this > the rule's `priority_class`). An activity
/// with no key matches no entry (Temporal would use its default key, 3 by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawPriorityRule")]
pub struct PriorityRule {
    /// Temporal `Priority.priority_key` (≥ 1; 1 is the highest).
    pub priority_key: u32,
    /// A PriorityClass the scenario defines.
    pub priority_class: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPriorityRule {
    priority_key: i64,
    priority_class: String,
}

impl TryFrom<RawPriorityRule> for PriorityRule {
    type Error = String;
    fn try_from(r: RawPriorityRule) -> Result<Self, String> {
        let key = u32::try_from(r.priority_key)
            .ok()
            .filter(|k| *k >= 1 && *k <= i32::MAX as u32)
            .ok_or_else(|| {
                format!(
                    "priority_key {} must be a Temporal priority key, 1 ≤ key ≤ 2147483647",
                    r.priority_key
                )
            })?;
        if r.priority_class.is_empty() {
            return Err("priority_class must not be empty".into());
        }
        Ok(PriorityRule {
            priority_key: key,
            priority_class: r.priority_class,
        })
    }
}

/// `[[fairness]] fairness_key = "tenant-*", queue = "tenants"`: a mapped activity whose
/// effective Temporal fairness key (its own, else its workflow's) matches (exact, or a glob
/// with `*`) is submitted to `queue`, unless a history hint names a queue (hint > this > the
/// rule's `queue` > `default_queue`). Fairness weights are not mapped: Volcano's counterpart
/// is the queue's `weight`, which the scenario sets on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawFairnessRule")]
pub struct FairnessRule {
    pub fairness_key: String,
    pub queue: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFairnessRule {
    fairness_key: String,
    queue: String,
}

impl TryFrom<RawFairnessRule> for FairnessRule {
    type Error = String;
    fn try_from(r: RawFairnessRule) -> Result<Self, String> {
        if r.fairness_key.is_empty() {
            return Err(
                "fairness_key must not be empty (an empty key means \"inherit\" in Temporal)"
                    .into(),
            );
        }
        if r.queue.is_empty() {
            return Err("queue must not be empty".into());
        }
        Ok(FairnessRule {
            fairness_key: r.fairness_key,
            queue: r.queue,
        })
    }
}

/// The activity's Temporal priority with every unset field inherited from its workflow, as
/// Temporal resolves it (api `common/v1` `Priority`: a field not present or zero inherits).
pub fn effective_priority(workflow: &Workflow, activity: &Activity) -> Priority {
    let (a, w) = (activity.priority.as_ref(), workflow.priority.as_ref());
    Priority {
        priority_key: a
            .and_then(|p| p.priority_key)
            .or_else(|| w.and_then(|p| p.priority_key)),
        fairness_key: a
            .and_then(|p| p.fairness_key.clone())
            .or_else(|| w.and_then(|p| p.fairness_key.clone())),
        fairness_weight: a
            .and_then(|p| p.fairness_weight)
            .or_else(|| w.and_then(|p| p.fairness_weight)),
    }
}

/// One rule. Every matcher given must match (at least one is required); every target is
/// optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawRule")]
pub struct MappingRule {
    pub activity_type: Option<String>,
    pub task_queue: Option<String>,
    pub workflow_type: Option<String>,
    pub queue: Option<String>,
    pub cpu: Option<Quantity>,
    pub memory: Option<Quantity>,
    pub gpu: Option<Quantity>,
    /// Pods per job (default: the gang size, else 1).
    pub replicas: Option<u32>,
    /// Gang size (`minMember`, default: `replicas`).
    pub min_member: Option<u32>,
    pub priority_class: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    activity_type: Option<String>,
    task_queue: Option<String>,
    workflow_type: Option<String>,
    queue: Option<String>,
    cpu: Option<Quantity>,
    memory: Option<Quantity>,
    gpu: Option<Quantity>,
    replicas: Option<u32>,
    min_member: Option<u32>,
    priority_class: Option<String>,
}

impl TryFrom<RawRule> for MappingRule {
    type Error = String;
    fn try_from(r: RawRule) -> Result<Self, String> {
        if r.activity_type.is_none() && r.task_queue.is_none() && r.workflow_type.is_none() {
            return Err(
                "a mapping rule needs at least one of activity_type, task_queue, workflow_type"
                    .into(),
            );
        }
        if r.replicas == Some(0) {
            return Err("replicas must be ≥ 1".into());
        }
        if r.min_member == Some(0) {
            return Err("min_member must be ≥ 1".into());
        }
        if let (Some(m), Some(n)) = (r.min_member, r.replicas) {
            if m > n {
                return Err(format!("min_member {m} must not exceed replicas {n}"));
            }
        }
        Ok(MappingRule {
            activity_type: r.activity_type,
            task_queue: r.task_queue,
            workflow_type: r.workflow_type,
            queue: r.queue,
            cpu: r.cpu,
            memory: r.memory,
            gpu: r.gpu,
            replicas: r.replicas,
            min_member: r.min_member,
            priority_class: r.priority_class,
        })
    }
}

/// What to submit for one activity: a PodGroup of `replicas` pods with these requests.
#[derive(Debug, Clone, PartialEq)]
pub struct JobTemplate {
    pub queue: String,
    /// Requests of one pod (cpu, memory, `nvidia.com/gpu`).
    pub requests: Resources,
    pub replicas: u32,
    /// `1 ≤ min_member ≤ replicas`.
    pub min_member: u32,
    pub priority_class: Option<String>,
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, tail)) => {
            let Some(rest) = s.strip_prefix(head) else {
                return false;
            };
            if tail.is_empty() {
                return true;
            }
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob(tail, &rest[i..]))
        }
    }
}

impl MappingRule {
    /// Whether every matcher of this rule accepts the activity.
    pub fn matches(&self, workflow: &Workflow, activity: &Activity) -> bool {
        let ok = |p: &Option<String>, s: &str| p.as_deref().is_none_or(|p| glob(p, s));
        ok(&self.activity_type, &activity.activity_type)
            && ok(&self.task_queue, &activity.task_queue)
            && ok(&self.workflow_type, &workflow.workflow_type)
    }
}

impl MappingTable {
    /// The first rule matching the activity.
    pub fn rule_for(&self, workflow: &Workflow, activity: &Activity) -> Option<&MappingRule> {
        self.rules.iter().find(|r| r.matches(workflow, activity))
    }

    /// The PriorityClass of the first `[[priority]]` entry naming `p`'s key.
    pub fn class_for_priority(&self, p: &Priority) -> Option<&str> {
        let key = p.priority_key?;
        self.priorities
            .iter()
            .find(|r| i64::from(r.priority_key) == key)
            .map(|r| r.priority_class.as_str())
    }

    /// The queue of the first `[[fairness]]` entry matching `p`'s fairness key.
    pub fn queue_for_fairness(&self, p: &Priority) -> Option<&str> {
        let key = p.fairness_key.as_deref()?;
        self.fairness
            .iter()
            .find(|r| glob(&r.fairness_key, key))
            .map(|r| r.queue.as_str())
    }
}

/// The Volcano job for `activity` of `workflow`, or `None` when it runs inline (no rule matches
/// and the activity itself carries no hints). History hints override the rule field by field;
/// the `[[priority]]` / `[[fairness]]` entries matching the activity's effective Temporal
/// priority sit between the hints and the rule (they never make an activity a job by
/// themselves).
pub fn map_activity(
    table: &MappingTable,
    workflow: &Workflow,
    activity: &Activity,
) -> Option<JobTemplate> {
    let rule = table.rule_for(workflow, activity);
    if rule.is_none() && activity.hints.is_none() {
        return None;
    }
    let empty = MappingRule::default();
    let rule = rule.unwrap_or(&empty);
    let h = activity.effective_hints(workflow).unwrap_or_default();
    let pick = |hint: &Option<String>, table: &Option<Quantity>| {
        hint.clone().or_else(|| table.as_ref().map(|q| q.0.clone()))
    };
    let mut items: Vec<(&str, String)> = Vec::new();
    for (name, q) in [
        ("cpu", pick(&h.cpu, &rule.cpu)),
        ("memory", pick(&h.memory, &rule.memory)),
        ("nvidia.com/gpu", pick(&h.gpu, &rule.gpu)),
    ] {
        if let Some(q) = q {
            items.push((name, q));
        }
    }
    // Quantities were validated at import / deserialisation; the table entry is the fallback.
    let requests = Resources::from_quantities(items.iter().map(|(n, q)| (*n, q.as_str())))
        .unwrap_or_else(|_| Resources::empty());
    let (replicas, min_member) = gang(&h, rule);
    let prio = effective_priority(workflow, activity);
    Some(JobTemplate {
        queue: h
            .queue
            .or_else(|| table.queue_for_fairness(&prio).map(str::to_string))
            .or_else(|| rule.queue.clone())
            .or_else(|| table.default_queue.clone())
            .unwrap_or_else(|| "default".to_string()),
        requests,
        replicas,
        min_member,
        priority_class: h
            .priority_class
            .or_else(|| table.class_for_priority(&prio).map(str::to_string))
            .or_else(|| rule.priority_class.clone()),
    })
}

/// `(replicas, min_member)`: hints' `minAvailable` / `gangSize` over the rule; replicas never
/// below the gang size.
fn gang(h: &Hints, rule: &MappingRule) -> (u32, u32) {
    let min_member = h
        .min_available
        .or(h.gang_size)
        .or(rule.min_member)
        .unwrap_or(0);
    let replicas = h
        .gang_size
        .or(rule.replicas)
        .unwrap_or(min_member)
        .max(min_member)
        .max(1);
    (
        replicas,
        if min_member == 0 {
            replicas
        } else {
            min_member
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("run-*", "run-slm"));
        assert!(glob("*-tq", "slm-tq"));
        assert!(glob("a*b*c", "aXbYc"));
        assert!(!glob("a*b", "ac"));
        assert!(glob("x", "x") && !glob("x", "xy"));
    }

    #[test]
    fn table_errors_name_the_field() {
        let e = toml::from_str::<MappingTable>("[[rule]]\nqueue = \"q\"\n").unwrap_err();
        assert!(
            e.to_string().contains("at least one of activity_type"),
            "{e}"
        );
        let e = toml::from_str::<MappingTable>("[[rule]]\nactivity_type = \"a\"\ncpu = \"lots\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("invalid quantity"), "{e}");
        let e = toml::from_str::<MappingTable>("[[rule]]\nactivity_type = \"a\"\ncpus = 1\n")
            .unwrap_err();
        assert!(e.to_string().contains("cpus"), "{e}");
        let t: MappingTable =
            toml::from_str("[[rule]]\nactivity_type = \"a\"\ncpu = 2\ngpu = 1\nmemory = \"1Gi\"\n")
                .unwrap();
        assert_eq!(t.rules[0].cpu, Some(Quantity("2".into())));
    }
}
