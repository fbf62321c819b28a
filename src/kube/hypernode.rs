//! `topology.volcano.sh/v1alpha1` HyperNode and the `networkTopology` block of PodGroups and
//! Volcano Jobs: serde shapes as users write them and their conversion to
//! `model::{HyperNodeSpec, NetworkTopologySpec}`, each bad value a `Problem` naming its field.
//! Whether members match anything, cycles and second parents are checked where the nodes are
//! known (`policy::topology::HyperNodes::build`, called by the scenario loader).
//!
//! Mirrors staging/src/volcano.sh/apis/pkg/apis/topology/v1alpha1/hypernode_types.go and
//! scheduling/v1beta1 `NetworkTopologySpec`. Depends only on `crate::model` and `kube::{de,
//! types}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::de::Ignore;
use super::types::{keys, ObjectMeta, Problem, Seg};
use crate::model::{
    HyperNodeMember, HyperNodeSpec, LabelRequirement, MemberSelector, MemberType,
    NetworkTopologySpec, SelectorOp, TopologyMode, MAX_TIER,
};

/// A HyperNode object.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HyperNodeY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: HyperNodeSpecY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct HyperNodeSpecY {
    pub tier: Option<i64>,
    pub tier_name: Option<String>,
    pub members: Vec<MemberY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MemberY {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub selector: Option<SelectorY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct SelectorY {
    pub exact_match: Option<ExactY>,
    pub regex_match: Option<RegexY>,
    pub label_match: Option<LabelSelectorY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ExactY {
    pub name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RegexY {
    pub pattern: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct LabelSelectorY {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<RequirementY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct RequirementY {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub values: Vec<String>,
}

/// `spec.networkTopology` of a PodGroup or a Volcano Job.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NetworkTopologyY {
    pub mode: Option<String>,
    pub highest_tier_allowed: Option<i64>,
    pub highest_tier_name: Option<String>,
}

/// HyperNode `status` is written by the controller; nothing in it is read.
pub(crate) const HYPERNODE_IGNORED: &[(&str, Ignore)] = &[
    ("apiVersion", Ignore::Quiet),
    ("kind", Ignore::Quiet),
    ("status", Ignore::Quiet),
];

fn at(base: &[Seg], more: &[&str]) -> Vec<Seg> {
    base.iter().cloned().chain(keys(more)).collect()
}

impl NetworkTopologyY {
    /// `mode` defaults to hard (CRD default); a tier must be ≥ 1 (CRD minimum).
    pub(crate) fn to_model(&self, base: &[Seg]) -> Result<NetworkTopologySpec, Problem> {
        let mode = match self.mode.as_deref() {
            None | Some("") => TopologyMode::Hard,
            Some(m) => TopologyMode::parse(m).ok_or_else(|| {
                Problem::new(
                    &at(base, &["mode"]),
                    format!("invalid value {m:?}: expected hard or soft"),
                )
            })?,
        };
        let highest_tier_allowed = match self.highest_tier_allowed {
            None => None,
            Some(t) if (1..=i64::from(MAX_TIER)).contains(&t) => Some(t as u32),
            Some(t) => {
                return Err(Problem::new(
                    &at(base, &["highestTierAllowed"]),
                    format!("invalid value {t}: expected a tier from 1 to {MAX_TIER}"),
                ))
            }
        };
        let highest_tier_name = self.highest_tier_name.clone().filter(|n| !n.is_empty());
        if mode == TopologyMode::Hard
            && highest_tier_allowed.is_none()
            && highest_tier_name.is_none()
        {
            return Err(Problem::new(
                &at(base, &["highestTierAllowed"]),
                "missing: hard mode needs highestTierAllowed or highestTierName (Volcano would \
                 not constrain the job at all)",
            ));
        }
        Ok(NetworkTopologySpec {
            mode,
            highest_tier_allowed,
            highest_tier_name,
        })
    }
}

impl HyperNodeY {
    pub(super) fn to_model(&self) -> Result<HyperNodeSpec, Problem> {
        let name = self.metadata.required_name()?;
        let s = &self.spec;
        let tier = match s.tier {
            Some(t) if (1..=i64::from(MAX_TIER)).contains(&t) => t as u32,
            Some(t) => {
                return Err(Problem::new(
                    &keys(&["spec", "tier"]),
                    format!("invalid value {t}: expected a tier from 1 to {MAX_TIER}"),
                ))
            }
            None => {
                return Err(Problem::new(
                    &keys(&["spec", "tier"]),
                    "missing: every HyperNode needs a tier",
                ))
            }
        };
        let mut members = Vec::with_capacity(s.members.len().min(1024));
        for (i, m) in s.members.iter().enumerate() {
            let base = vec![
                Seg::Key("spec".into()),
                Seg::Key("members".into()),
                Seg::Idx(i),
            ];
            members.push(member(m, &base)?);
        }
        Ok(HyperNodeSpec {
            name,
            tier,
            tier_name: s.tier_name.clone().unwrap_or_default(),
            members,
        })
    }
}

fn member(m: &MemberY, base: &[Seg]) -> Result<HyperNodeMember, Problem> {
    let kind = match m.kind.as_deref() {
        Some("Node") => MemberType::Node,
        Some("HyperNode") => MemberType::HyperNode,
        Some(o) => {
            return Err(Problem::new(
                &at(base, &["type"]),
                format!("invalid value {o:?}: expected Node or HyperNode"),
            ))
        }
        None => {
            return Err(Problem::new(
                &at(base, &["type"]),
                "missing: Node or HyperNode",
            ))
        }
    };
    let sel = m
        .selector
        .as_ref()
        .ok_or_else(|| Problem::new(&at(base, &["selector"]), "missing member selector"))?;
    let set = [
        sel.exact_match.is_some(),
        sel.regex_match.is_some(),
        sel.label_match.is_some(),
    ];
    if set.iter().filter(|&&b| b).count() != 1 {
        return Err(Problem::new(
            &at(base, &["selector"]),
            "expected exactly one of exactMatch, regexMatch and labelMatch",
        ));
    }
    let selector = if let Some(e) = &sel.exact_match {
        let name = e.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| {
            Problem::new(&at(base, &["selector", "exactMatch", "name"]), "missing")
        })?;
        MemberSelector::Exact(name)
    } else if let Some(r) = &sel.regex_match {
        let p = r.pattern.clone().filter(|n| !n.is_empty()).ok_or_else(|| {
            Problem::new(&at(base, &["selector", "regexMatch", "pattern"]), "missing")
        })?;
        MemberSelector::Regex(p)
    } else {
        let l = sel.label_match.as_ref().expect("one selector is set");
        let mut exprs = Vec::new();
        for (k, r) in l.match_expressions.iter().enumerate() {
            let f = |leaf: &str| {
                let mut p = at(base, &["selector", "labelMatch", "matchExpressions"]);
                p.push(Seg::Idx(k));
                p.push(Seg::Key(leaf.into()));
                p
            };
            let key = r
                .key
                .clone()
                .filter(|k| !k.is_empty())
                .ok_or_else(|| Problem::new(&f("key"), "missing"))?;
            let op = match r.operator.as_deref() {
                Some("In") => SelectorOp::In,
                Some("NotIn") => SelectorOp::NotIn,
                Some("Exists") => SelectorOp::Exists,
                Some("DoesNotExist") => SelectorOp::DoesNotExist,
                o => {
                    return Err(Problem::new(
                        &f("operator"),
                        format!("invalid value {o:?}: expected In, NotIn, Exists or DoesNotExist"),
                    ))
                }
            };
            exprs.push(LabelRequirement {
                key,
                op,
                values: r.values.clone(),
            });
        }
        if l.match_labels.is_empty() && exprs.is_empty() {
            return Err(Problem::new(
                &at(base, &["selector", "labelMatch"]),
                "an empty label selector: give matchLabels or matchExpressions",
            ));
        }
        MemberSelector::Labels {
            match_labels: l.match_labels.clone(),
            match_expressions: exprs,
        }
    };
    if kind == MemberType::HyperNode && !matches!(selector, MemberSelector::Exact(_)) {
        // Mirrors volcano api/hyper_node_info.go: HyperNode members support exactMatch only.
        return Err(Problem::new(
            &at(base, &["selector"]),
            "a HyperNode member must use exactMatch (Volcano ignores other selectors on HyperNode \
             members)",
        ));
    }
    Ok(HyperNodeMember { kind, selector })
}
