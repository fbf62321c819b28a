//! Which v1.15 case constructs the policy core does not model yet, and why a case using one is
//! SKIPped (never silently passed, never failed for a missing feature). Each reason names the
//! construct left out and the Volcano v1.15.0 file it lives in.
//!
//! Depends on nothing but `serde_json`. The runner asks [`reason`] before running a case.

use serde_json::Value;

use super::value::{list, s};

/// Unit-call prefixes of v1.15 helpers volsim has no counterpart of, with what they belong to.
const UNMODELLED_CALLS: &[(&str, &str)] = &[
    (
        "utils.SelectBundles",
        "utils.SelectBundles is dead code in v1.15.0 (neither gang action calls it, semantics §7 #14) and is not modelled",
    ),
    (
        "networktopologyaware.",
        "the network-topology-aware plugin (pkg/scheduler/plugins/network-topology-aware) is not modelled",
    ),
    (
        "plugin.",
        "the network-topology-aware plugin's internals (pkg/scheduler/plugins/network-topology-aware) are not modelled",
    ),
];

/// Single cases that hinge on a rule volsim does not follow yet, with the rule named.
const KNOWN_GAPS: &[(&str, &str)] = &[(
    "cap-anc-05",
    "capacity hierarchy whose children's deserved sum exceeds the parent's deserved: v1.15 \
     checkHierarchicalQueue (plugins/capacity/capacity.go) only logs it, volsim refuses the \
     tree for the session; the warning-only check is not modelled",
)];

/// `Some(reason)` when the case needs a construct volsim leaves out.
pub(super) fn reason(case: &Value) -> Option<String> {
    let id = s(case, "id").unwrap_or("");
    if let Some((_, why)) = KNOWN_GAPS.iter().find(|(gap, _)| *gap == id) {
        return Some((*why).to_string());
    }
    let kind = s(case, "kind").unwrap_or("");
    let call = s(case, "call").unwrap_or("");
    if kind == "session_call"
        && !super::session_call::CALLS
            .iter()
            .any(|c| call.starts_with(c))
    {
        return Some(format!(
            "session_call {call:?}: this session hook of the network-topology-aware plugin \
             (HyperNodeOrderMapFn over a sub-job, the plugin's internals) is not modelled"
        ));
    }
    if kind == "unit"
        && super::unit_gang_evict::CALLS
            .iter()
            .any(|c| call.starts_with(c))
    {
        if case.pointer("/input/job/sub_jobs_replaced_by").is_some() {
            return Some(format!(
                "unit call {call:?}: sub-jobs (PodGroup subGroupPolicy, api/sub_job_info.go) \
                 are not modelled: a job is one default sub-job"
            ));
        }
        let ghost = case
            .pointer("/input/session/real_nodes_list")
            .and_then(|m| m.as_object())
            .into_iter()
            .flat_map(|m| m.values())
            .flat_map(|v| v.as_array().into_iter().flatten())
            .any(|n| n.get("in_session_nodes") == Some(&Value::Bool(false)));
        if ghost {
            return Some(format!(
                "unit call {call:?}: a domain node that is not a session node is not \
                 modelled: volsim's domains are sets of session nodes"
            ));
        }
        return None;
    }
    if kind == "unit" && super::unit_gradient::handles(case) {
        return None;
    }
    if kind == "unit"
        && !super::unit_gang::CALLS.iter().any(|c| call.starts_with(c))
        && !call.starts_with(super::unit::NTA_NEW)
    {
        for (prefix, why) in UNMODELLED_CALLS {
            if call.starts_with(prefix) {
                return Some(format!("unit call {call:?}: {why}"));
            }
        }
        if call.starts_with("ssn.UnifiedEvictable")
            && !unified_evictable_is_plain(case)
            && !super::unit_gradient::handles(case)
        {
            return Some(format!(
                "unit call {call:?}: UnifiedEvictable expectations other than the victim \
                 list and the context a plugin is handed are not modelled"
            ));
        }
    }
    for pg in list(case, "podgroups") {
        if pg.get("sub_group_policy").is_some() {
            return Some(
                "podgroups[].sub_group_policy: PodGroup sub-group policies (sub-jobs) are not \
                 modelled"
                    .into(),
            );
        }
    }
    None
}

/// A UnifiedEvictable case volsim's scripted victim walk answers: the expectation is the
/// victim list only (not the context a plugin saw).
fn unified_evictable_is_plain(case: &Value) -> bool {
    case.get("expect")
        .and_then(|e| e.as_object())
        .is_some_and(|o| o.keys().all(|k| k == "victims"))
}
