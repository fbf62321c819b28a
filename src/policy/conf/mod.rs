//! The scheduler configuration (`volcano-scheduler.conf`): actions in order, tiers of plugins
//! with their enable flags and arguments, per-action arguments.
//!
//! Mirrors volcano pkg/scheduler/conf/scheduler_conf.go and plugins/defaults.go: in a
//! production conf every enable flag that is not written defaults to **true** (except
//! `enableHierarchy`). Parsing takes text, never a path (the policy core does no I/O).
//! Deviation: an unknown plugin name is an error here (Volcano logs and skips it), because in a
//! what-if tool a typo must not silently change the answer; plugins Volcano has but volsim does
//! not model are accepted with one warning each, whatever their arguments, and ignored. The
//! modelled plugins' arguments are typed and checked (`args`).

mod args;
mod compat;
mod gang_args;
mod node_args;

pub use args::{
    BinpackArgs, CapacityArgs, NetworkTopologyArgs, NodeOrderArgs, OvercommitArgs, PluginArgs,
    PluginKind, PredicatesArgs, SlaArgs, UNMODELLED_PLUGINS,
};

pub use compat::{Compat, PROFILE_7A5D24ECC};
pub use gang_args::GangEvictArgs;

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// A scheduler action, in the order the conf lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Enqueue,
    Allocate,
    Backfill,
    Preempt,
    Reclaim,
    /// v1.15 gang-aware preemption (`gangpreempt`): whole jobs, victim bundles.
    GangPreempt,
    /// v1.15 gang-aware reclaim (`gangreclaim`).
    GangReclaim,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "enqueue" => Action::Enqueue,
            "allocate" => Action::Allocate,
            "backfill" => Action::Backfill,
            "preempt" => Action::Preempt,
            "reclaim" => Action::Reclaim,
            "gangpreempt" => Action::GangPreempt,
            "gangreclaim" => Action::GangReclaim,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enqueue => "enqueue",
            Action::Allocate => "allocate",
            Action::Backfill => "backfill",
            Action::Preempt => "preempt",
            Action::Reclaim => "reclaim",
            Action::GangPreempt => "gangpreempt",
            Action::GangReclaim => "gangreclaim",
        }
    }
}

/// Extension-point enable flags (one bit each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Flag {
    JobOrder,
    JobReady,
    JobPipelined,
    JobStarving,
    TaskOrder,
    Preemptable,
    Reclaimable,
    Preemptive,
    QueueOrder,
    Predicate,
    NodeOrder,
    BestNode,
    JobEnqueued,
    Overused,
    Allocatable,
    TargetJob,
    ReservedNodes,
    Victim,
    HyperNodeOrder,
    HyperNodeGradient,
}

/// (YAML key in a production conf, short name used by conformance cases, flag).
pub const FLAG_NAMES: &[(&str, &str, Flag)] = &[
    ("enableJobOrder", "jobOrder", Flag::JobOrder),
    ("enableJobReady", "jobReady", Flag::JobReady),
    ("enableJobPipelined", "jobPipelined", Flag::JobPipelined),
    ("enableJobStarving", "jobStarving", Flag::JobStarving),
    ("enableTaskOrder", "taskOrder", Flag::TaskOrder),
    ("enablePreemptable", "preemptable", Flag::Preemptable),
    ("enableReclaimable", "reclaimable", Flag::Reclaimable),
    ("enablePreemptive", "preemptive", Flag::Preemptive),
    ("enableQueueOrder", "queueOrder", Flag::QueueOrder),
    ("enablePredicate", "predicate", Flag::Predicate),
    ("enableNodeOrder", "nodeOrder", Flag::NodeOrder),
    ("enableBestNode", "bestNode", Flag::BestNode),
    ("enableJobEnqueued", "jobEnqueued", Flag::JobEnqueued),
    ("enabledOverused", "overused", Flag::Overused),
    ("enabledAllocatable", "allocatable", Flag::Allocatable),
    ("enableTargetJob", "targetJob", Flag::TargetJob),
    ("enableReservedNodes", "reservedNodes", Flag::ReservedNodes),
    ("enabledVictim", "victim", Flag::Victim),
    (
        "enabledHyperNodeOrder",
        "hyperNodeOrder",
        Flag::HyperNodeOrder,
    ),
    (
        "enabledHyperNodeGradient",
        "hyperNodeGradient",
        Flag::HyperNodeGradient,
    ),
];

/// Flags Volcano accepts that gate features volsim does not model (accepted, ignored).
const IGNORED_FLAG_KEYS: &[&str] = &[
    "enabledClusterOrder",
    "enabledSubJobReady",
    "enabledSubJobPipelined",
    "enabledSubJobOrder",
];

/// A set of enable flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlagSet(u32);

/// Number of `Flag` variants.
pub const N_FLAGS: usize = 20;

/// Every flag, indexed by `Flag as usize`.
pub const FLAGS: [Flag; N_FLAGS] = [
    Flag::JobOrder,
    Flag::JobReady,
    Flag::JobPipelined,
    Flag::JobStarving,
    Flag::TaskOrder,
    Flag::Preemptable,
    Flag::Reclaimable,
    Flag::Preemptive,
    Flag::QueueOrder,
    Flag::Predicate,
    Flag::NodeOrder,
    Flag::BestNode,
    Flag::JobEnqueued,
    Flag::Overused,
    Flag::Allocatable,
    Flag::TargetJob,
    Flag::ReservedNodes,
    Flag::Victim,
    Flag::HyperNodeOrder,
    Flag::HyperNodeGradient,
];

impl FlagSet {
    pub const ALL: FlagSet = FlagSet(u32::MAX);
    /// Whether bit `i` (a `Flag as u8`) is set.
    pub fn has_bit(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
    pub fn has(self, f: Flag) -> bool {
        self.0 & (1 << f as u8) != 0
    }
    pub fn set(&mut self, f: Flag, on: bool) {
        if on {
            self.0 |= 1 << f as u8;
        } else {
            self.0 &= !(1 << f as u8);
        }
    }
}

/// A plugin argument value (Volcano's `Arguments` are untyped; typing is checked on read).
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ArgValue {
    /// `GetFloat64`: floats or integers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ArgValue::Int(i) => Some(*i as f64),
            ArgValue::Float(f) => Some(*f),
            _ => None,
        }
    }
    /// `GetInt`: integers only.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            ArgValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ArgValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// `GetBool`: bools or parseable strings.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ArgValue::Bool(b) => Some(*b),
            ArgValue::Str(s) => match s.as_str() {
                "true" | "True" | "TRUE" | "1" | "t" | "T" => Some(true),
                "false" | "False" | "FALSE" | "0" | "f" | "F" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
    pub fn from_json(v: &serde_json::Value) -> Option<ArgValue> {
        Some(match v {
            serde_json::Value::Bool(b) => ArgValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => ArgValue::Int(i),
                None => ArgValue::Float(n.as_f64()?),
            },
            serde_json::Value::String(s) => ArgValue::Str(s.clone()),
            _ => return None,
        })
    }
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgValue::Int(i) => write!(f, "{i}"),
            ArgValue::Float(x) => write!(f, "{x}"),
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Str(s) => write!(f, "{s:?}"),
        }
    }
}

pub type Arguments = BTreeMap<String, ArgValue>;

/// One modelled plugin entry of a tier: its enable flags and typed arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConf {
    pub flags: FlagSet,
    /// `enableHierarchy` (drf / capacity), default false.
    pub hierarchy: bool,
    pub args: PluginArgs,
}

impl PluginConf {
    /// A production-style entry: every flag on, Volcano's default arguments.
    pub fn new(kind: PluginKind) -> PluginConf {
        PluginConf::with_args(PluginArgs::defaults(kind))
    }
    /// A production-style entry (every flag on) with these arguments.
    pub fn with_args(args: PluginArgs) -> PluginConf {
        PluginConf {
            flags: FlagSet::ALL,
            hierarchy: false,
            args,
        }
    }
    pub fn kind(&self) -> PluginKind {
        self.args.kind()
    }
    /// Volcano's plugin name.
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The parsed scheduler configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConf {
    pub actions: Vec<Action>,
    pub tiers: Vec<Vec<PluginConf>>,
    /// Per-action arguments (`configurations:`).
    pub action_args: BTreeMap<String, Arguments>,
    /// Non-fatal remarks (unmodelled plugins, ignored flags).
    pub warnings: Vec<String>,
    /// Behaviours of an older Volcano replacing v1.15's (`compat`; off by default). Not part
    /// of `volcano-scheduler.conf`: set by the scenario's `[scheduler] compat` or a CLI flag.
    pub compat: Compat,
}

/// The conf shipped by Volcano's Helm chart (semantics §5.2): what most clusters run.
pub const HELM_DEFAULT_CONF: &str = r#"actions: "enqueue, allocate, backfill"
tiers:
- plugins:
  - name: priority
  - name: gang
    enablePreemptable: false
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
    enablePreemptable: false
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConf {
    actions: String,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(default)]
    configurations: Vec<RawActionConf>,
    #[serde(default)]
    #[allow(dead_code)]
    metrics: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    plugins: Vec<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActionConf {
    name: String,
    #[serde(default)]
    arguments: BTreeMap<String, serde_json::Value>,
}

/// A conf that could not be parsed: `field` locates the problem (e.g. `tiers[1].plugins[2].name`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "field {}: {}", self.field, self.message)
        }
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfError {
    ConfError {
        field: field.into(),
        message: message.into(),
    }
}

fn args_from(
    map: &BTreeMap<String, serde_json::Value>,
    field: &str,
) -> Result<Arguments, ConfError> {
    let mut out = Arguments::new();
    for (k, v) in map {
        let a = ArgValue::from_json(v).ok_or_else(|| {
            err(
                format!("{field}.{k}"),
                "expected a number, a boolean or a string",
            )
        })?;
        out.insert(k.clone(), a);
    }
    Ok(out)
}

/// Parses `volcano-scheduler.conf` text (production defaults: unwritten flags are true).
pub fn parse_scheduler_conf(text: &str) -> Result<SchedulerConf, ConfError> {
    let raw: RawConf = serde_saphyr::from_str(text).map_err(|e| err("", format!("{e}")))?;
    let mut warnings = Vec::new();
    let mut actions = Vec::new();
    for a in raw
        .actions
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match Action::parse(a) {
            Some(x) => actions.push(x),
            None if a == "shuffle" => warnings.push(format!(
                "action {a:?} is not modelled by volsim and is ignored"
            )),
            None => {
                return Err(err(
                    "actions",
                    format!(
                        "unknown action {a:?} (expected enqueue, allocate, backfill, preempt, \
                     reclaim, gangpreempt, gangreclaim; names are case-sensitive)"
                    ),
                ))
            }
        }
    }
    // Mirrors volcano v1.15 (gang-aware-eviction design): the gang actions replace the legacy
    // ones; Volcano documents the exclusion but does not enforce it (semantics §7 #2).
    let listed: Vec<&str> = raw.actions.split(',').map(str::trim).collect();
    for (gang, legacy) in [("gangpreempt", "preempt"), ("gangreclaim", "reclaim")] {
        if listed.contains(&gang) && listed.contains(&legacy) {
            warnings.push(format!(
                "actions: {gang} and {legacy} are both listed; Volcano v1.15 means them as \
                 alternatives (not enforced: both would run, in conf order)"
            ));
        }
    }
    let mut tiers = Vec::new();
    for (ti, tier) in raw.tiers.iter().enumerate() {
        let mut plugins = Vec::new();
        for (pi, entry) in tier.plugins.iter().enumerate() {
            let field = format!("tiers[{ti}].plugins[{pi}]");
            if let Some(pc) = args::plugin_entry(entry, &field, &mut warnings)? {
                plugins.push(pc);
            }
        }
        tiers.push(plugins);
    }
    let mut action_args = BTreeMap::new();
    for (i, c) in raw.configurations.iter().enumerate() {
        action_args.insert(
            c.name.clone(),
            args_from(&c.arguments, &format!("configurations[{i}].arguments"))?,
        );
    }
    let conf = SchedulerConf {
        actions,
        tiers,
        action_args,
        warnings,
        compat: Compat::V1_15,
    };
    conf.validate()?;
    Ok(conf)
}

impl SchedulerConf {
    /// Volcano's Helm chart default.
    pub fn helm_default() -> SchedulerConf {
        parse_scheduler_conf(HELM_DEFAULT_CONF).expect("built-in conf parses")
    }
    pub fn has_action(&self, a: Action) -> bool {
        self.actions.contains(&a)
    }
    /// Whether some tier configures plugin `k`.
    pub fn has_plugin(&self, k: PluginKind) -> bool {
        self.plugin(k).is_some()
    }
    /// The first entry of plugin `k`, in tier order.
    pub fn plugin(&self, k: PluginKind) -> Option<&PluginConf> {
        self.tiers.iter().flatten().find(|p| p.kind() == k)
    }
    /// Checks what spans entries (a conf built in code, not parsed, is checked by
    /// `Scheduler::new` through this too).
    pub fn validate(&self) -> Result<(), ConfError> {
        for a in [Action::GangPreempt, Action::GangReclaim] {
            self.gang_evict_args(a)?;
        }
        for (ti, tier) in self.tiers.iter().enumerate() {
            // Mirrors volcano scheduler_conf validation: drf with hierarchy and proportion in
            // one tier.
            let has = |k: PluginKind, hier: bool| {
                tier.iter().any(|p| p.kind() == k && (!hier || p.hierarchy))
            };
            if has(PluginKind::Drf, true) && has(PluginKind::Proportion, false) {
                return Err(err(
                    format!("tiers[{ti}]"),
                    "drf with enableHierarchy and proportion cannot share a tier",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
