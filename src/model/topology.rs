//! The network topology as data: `topology.volcano.sh/v1alpha1 HyperNode` specs (tier, tier
//! name, members with exact / regex / label selectors), a PodGroup's `spec.networkTopology`
//! (`mode`, `highestTierAllowed`, `highestTierName`), and `ClusterTopology`, what the scenario
//! hands the cluster model: the HyperNodes and the networkTopology the job controller writes
//! on the PodGroups of each workload class.
//!
//! Plain data; depends on nothing else in the crate. Resolution (which nodes a HyperNode
//! holds, parents, cycles) is the policy core's job (`policy::topology`).

use std::collections::BTreeMap;

/// The highest HyperNode tier an input may give (HyperNode `spec.tier`, `highestTierAllowed`,
/// the number of `[[cluster.topology]]` tiers): scoring loops over the tiers in between.
pub const MAX_TIER: u32 = 100;

/// What a HyperNode member refers to (`spec.members[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberType {
    Node,
    HyperNode,
}

impl MemberType {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberType::Node => "Node",
            MemberType::HyperNode => "HyperNode",
        }
    }
}

/// A `matchExpressions` operator of a label selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelRequirement {
    pub key: String,
    pub op: SelectorOp,
    pub values: Vec<String>,
}

impl LabelRequirement {
    /// Kubernetes `Requirement.Matches`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self.op {
            SelectorOp::In => labels
                .get(&self.key)
                .is_some_and(|v| self.values.contains(v)),
            SelectorOp::NotIn => labels
                .get(&self.key)
                .is_none_or(|v| !self.values.contains(v)),
            SelectorOp::Exists => labels.contains_key(&self.key),
            SelectorOp::DoesNotExist => !labels.contains_key(&self.key),
        }
    }
}

/// A member selector (`exactMatch`, `regexMatch` or `labelMatch`; exactly one is set).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MemberSelector {
    /// `exactMatch.name`.
    Exact(String),
    /// `regexMatch.pattern` (RE2 syntax, matched anywhere in the name as Go's
    /// `regexp.MatchString` does).
    Regex(String),
    /// `labelMatch`: `matchLabels` and `matchExpressions`, all of which must hold.
    Labels {
        match_labels: BTreeMap<String, String>,
        match_expressions: Vec<LabelRequirement>,
    },
}

/// One `spec.members[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HyperNodeMember {
    pub kind: MemberType,
    pub selector: MemberSelector,
}

/// A HyperNode (`topology.volcano.sh/v1alpha1`): a network domain of nodes or of lower-tier
/// HyperNodes. Lower tier = closer (tier 1 is typically a rack / leaf switch).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HyperNodeSpec {
    pub name: String,
    pub tier: u32,
    /// `spec.tierName` ("" = none).
    pub tier_name: String,
    pub members: Vec<HyperNodeMember>,
}

/// `spec.networkTopology.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TopologyMode {
    /// The job's tasks must share one HyperNode at or below the allowed tier (default).
    #[default]
    Hard,
    /// Preferred, not required (Volcano v1.15 converts it to hard at the top tier).
    Soft,
}

impl TopologyMode {
    pub fn parse(s: &str) -> Option<TopologyMode> {
        match s {
            "hard" => Some(TopologyMode::Hard),
            "soft" => Some(TopologyMode::Soft),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TopologyMode::Hard => "hard",
            TopologyMode::Soft => "soft",
        }
    }
}

/// A PodGroup's `spec.networkTopology`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NetworkTopologySpec {
    pub mode: TopologyMode,
    /// `highestTierAllowed`.
    pub highest_tier_allowed: Option<u32>,
    /// `highestTierName` (used when `highestTierAllowed` is unset).
    pub highest_tier_name: Option<String>,
}

/// The network topology the cluster model carries: the HyperNodes, and the `networkTopology`
/// written on the PodGroups of each workload class (by class name; jobs of other classes
/// have none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterTopology {
    pub hypernodes: Vec<HyperNodeSpec>,
    pub job_topology: BTreeMap<String, NetworkTopologySpec>,
}

impl ClusterTopology {
    /// The networkTopology of a job of workload class `class`, if its class has one.
    pub fn of_class(&self, class: &str) -> Option<&NetworkTopologySpec> {
        self.job_topology.get(class)
    }
}
