//! Typed plugin configuration: the closed set of plugins volsim models (`PluginKind`), their
//! arguments with Volcano's defaults (`PluginArgs`), and the parser of one `tiers[].plugins[]`
//! entry (name, enable flags, `arguments:` read with **deny-unknown** keys).
//!
//! Mirrors the argument keys each Volcano v1.15 plugin reads in `New`/`OnSessionOpen`
//! (pkg/scheduler/plugins/*). Deviation: Volcano ignores a key it does not read and falls back
//! to the default on a value of the wrong type; here both are errors naming the plugin and the
//! argument, because in a what-if tool a typo must not silently change the answer. Keys a
//! plugin reads for features volsim does not model (volumes, DRA, pod affinity, images) are
//! accepted and have no effect. Depends on `model` (durations) and `serde_json` values only.

use serde_json::{Map, Value};

use std::collections::BTreeMap;

use super::{node_args, ConfError, FlagSet, PluginConf, FLAG_NAMES, IGNORED_FLAG_KEYS};
use crate::model::parse_duration;

/// A plugin volsim models (one variant per Volcano plugin name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    Gang,
    Priority,
    Conformance,
    Drf,
    Proportion,
    Capacity,
    Predicates,
    NodeOrder,
    Binpack,
    Overcommit,
    Sla,
    NetworkTopologyAware,
}

impl PluginKind {
    /// Every modelled plugin, in the order the docs list them.
    pub const ALL: [PluginKind; 12] = [
        PluginKind::Gang,
        PluginKind::Priority,
        PluginKind::Conformance,
        PluginKind::Drf,
        PluginKind::Proportion,
        PluginKind::Capacity,
        PluginKind::Predicates,
        PluginKind::NodeOrder,
        PluginKind::Binpack,
        PluginKind::Overcommit,
        PluginKind::Sla,
        PluginKind::NetworkTopologyAware,
    ];

    /// Volcano's plugin name (`PluginName`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Gang => "gang",
            PluginKind::Priority => "priority",
            PluginKind::Conformance => "conformance",
            PluginKind::Drf => "drf",
            PluginKind::Proportion => "proportion",
            PluginKind::Capacity => "capacity",
            PluginKind::Predicates => "predicates",
            PluginKind::NodeOrder => "nodeorder",
            PluginKind::Binpack => "binpack",
            PluginKind::Overcommit => "overcommit",
            PluginKind::Sla => "sla",
            PluginKind::NetworkTopologyAware => "network-topology-aware",
        }
    }

    /// The modelled plugin called `name`, if any.
    pub fn parse(name: &str) -> Option<PluginKind> {
        PluginKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Plugins Volcano ships that volsim accepts in a conf (one warning each, whatever their
/// arguments) but does not model.
pub const UNMODELLED_PLUGINS: &[&str] = &[
    "resourcequota",
    "tdm",
    "pdb",
    "cdp",
    "numa-aware",
    "task-topology",
    "deviceshare",
    "nodegroup",
    "usage",
    "resource-strategy-fit",
    "extender",
    "rescheduling",
    "dra",
    "capacity-card",
];

/// `overcommit` arguments (plugins/overcommit/overcommit.go).
#[derive(Debug, Clone, PartialEq)]
pub struct OvercommitArgs {
    /// `overcommit-factor`, default 1.2 (a value below 1 is replaced by 1.2 at session open,
    /// as Volcano does).
    pub factor: f64,
}

/// `sla` arguments (plugins/sla/sla.go).
#[derive(Debug, Clone, PartialEq)]
pub struct SlaArgs {
    /// `sla-waiting-time` (a Go duration such as `30m`), the cluster-wide job waiting time;
    /// `None` when unset or zero.
    pub waiting_ms: Option<u64>,
}

/// `nodeorder` weights (plugins/nodeorder/nodeorder.go, `calculateWeight`). Only the three
/// resource scores are modelled; the other weights are accepted (volsim's inputs carry no
/// preferred affinities, images or spread constraints, so those scores are 0 everywhere).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeOrderArgs {
    /// `leastrequested.weight`, default 1.
    pub least_requested: i64,
    /// `mostrequested.weight`, default 0.
    pub most_requested: i64,
    /// `balancedresource.weight`, default 1.
    pub balanced_resource: i64,
    /// `nodeaffinity.weight`, default 2 (not modelled).
    pub node_affinity: i64,
    /// `podaffinity.weight`, default 2 (not modelled).
    pub pod_affinity: i64,
    /// `tainttoleration.weight`, default 3 (not modelled).
    pub taint_toleration: i64,
    /// `imagelocality.weight`, default 1 (not modelled).
    pub image_locality: i64,
    /// `podtopologyspread.weight`, default 2 (not modelled).
    pub pod_topology_spread: i64,
}

/// `binpack` weights (plugins/binpack/binpack.go, `calculateWeight`).
#[derive(Debug, Clone, PartialEq)]
pub struct BinpackArgs {
    /// `binpack.weight`, default 1.
    pub weight: i64,
    /// `binpack.cpu`, default 1 (a negative value becomes 1).
    pub cpu: i64,
    /// `binpack.memory`, default 1 (a negative value becomes 1).
    pub memory: i64,
    /// `binpack.resources` in the order listed, each with its `binpack.resources.<name>`
    /// weight (default 1, a negative value becomes 1).
    pub resources: Vec<(String, i64)>,
}

/// `predicates` switches (plugins/predicates/predicates.go, `enablePredicate`). Only node
/// affinity (nodeSelector) and taint toleration can be switched off in volsim; the other
/// filters have nothing to act on in volsim's inputs and are accepted for compatibility.
#[derive(Debug, Clone, PartialEq)]
pub struct PredicatesArgs {
    /// `predicate.NodeAffinityEnable`, default true.
    pub node_affinity: bool,
    /// `predicate.TaintTolerationEnable`, default true.
    pub taint_toleration: bool,
}

/// `capacity` arguments (plugins/capacity/capacity.go).
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityArgs {
    /// `ancestorReclaimLevel`, default 0 (hierarchical reclaim scope).
    pub ancestor_reclaim_level: usize,
}

/// `network-topology-aware` arguments (plugins/network-topology-aware, `getPriorityWeight`,
/// `getNormalPodConfig`, `getMaxHyperNodesForEviction`).
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkTopologyArgs {
    /// `weight`, default 1 (negative → 1); final scores are × 100 × weight.
    pub weight: i64,
    /// `hypernode.binpack.cpu`, default 1 (negative → 1).
    pub cpu: i64,
    /// `hypernode.binpack.memory`, default 1 (negative → 1).
    pub memory: i64,
    /// `hypernode.binpack.resources` with each `hypernode.binpack.resources.<name>` weight.
    pub resources: Vec<(String, i64)>,
    /// `hypernode.binpack.normal-pod.enable`, default true.
    pub normal_pod_enable: bool,
    /// `hypernode.binpack.normal-pod.fading`, default 0.8 (negative → 0.8; 0 allowed).
    pub normal_pod_fading: f64,
    /// `hypernode.gradient.evict.max-hypernodes`, default 8 (≤ 0 → 8); read by the gang
    /// eviction actions.
    pub evict_max_hypernodes: i64,
}

/// A modelled plugin with its typed arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginArgs {
    Gang,
    Priority,
    Conformance,
    Drf,
    Proportion,
    Capacity(CapacityArgs),
    Predicates(PredicatesArgs),
    NodeOrder(NodeOrderArgs),
    Binpack(BinpackArgs),
    Overcommit(OvercommitArgs),
    Sla(SlaArgs),
    NetworkTopologyAware(NetworkTopologyArgs),
}

impl PluginArgs {
    pub fn kind(&self) -> PluginKind {
        match self {
            PluginArgs::Gang => PluginKind::Gang,
            PluginArgs::Priority => PluginKind::Priority,
            PluginArgs::Conformance => PluginKind::Conformance,
            PluginArgs::Drf => PluginKind::Drf,
            PluginArgs::Proportion => PluginKind::Proportion,
            PluginArgs::Capacity(_) => PluginKind::Capacity,
            PluginArgs::Predicates(_) => PluginKind::Predicates,
            PluginArgs::NodeOrder(_) => PluginKind::NodeOrder,
            PluginArgs::Binpack(_) => PluginKind::Binpack,
            PluginArgs::Overcommit(_) => PluginKind::Overcommit,
            PluginArgs::Sla(_) => PluginKind::Sla,
            PluginArgs::NetworkTopologyAware(_) => PluginKind::NetworkTopologyAware,
        }
    }

    /// The plugin with Volcano's default arguments (no `arguments:` written).
    pub fn defaults(kind: PluginKind) -> PluginArgs {
        PluginArgs::parse(kind, &Map::new(), "", &mut Vec::new())
            .expect("an empty argument map is always valid")
    }

    /// Reads `kind`'s `arguments:` mapping (`field` locates it, e.g.
    /// `tiers[1].plugins[0].arguments`). Every key must be one the plugin reads; a value of
    /// the wrong type is an error. Remarks (accepted but not modelled) go to `warnings`.
    pub fn parse(
        kind: PluginKind,
        map: &Map<String, Value>,
        field: &str,
        warnings: &mut Vec<String>,
    ) -> Result<PluginArgs, ConfError> {
        let r = Reader { kind, map, field };
        Ok(match kind {
            PluginKind::Gang => r.none(PluginArgs::Gang)?,
            PluginKind::Priority => r.none(PluginArgs::Priority)?,
            PluginKind::Conformance => r.none(PluginArgs::Conformance)?,
            PluginKind::Drf => r.none(PluginArgs::Drf)?,
            PluginKind::Proportion => r.none(PluginArgs::Proportion)?,
            PluginKind::Overcommit => {
                r.only(&["overcommit-factor"], |_| false)?;
                let factor = r.float("overcommit-factor", 1.2)?;
                if factor < 1.0 {
                    warnings.push(format!(
                        "{field}.overcommit-factor: {factor} is below 1; overcommit uses the default 1.2 (as Volcano does)"
                    ));
                }
                PluginArgs::Overcommit(OvercommitArgs { factor })
            }
            PluginKind::Sla => {
                r.only(&["sla-waiting-time"], |_| false)?;
                let waiting_ms = match r.map.get("sla-waiting-time") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(
                        parse_duration(s)
                            .map_err(|e| r.bad("sla-waiting-time", &e))?,
                    )
                    .filter(|&ms| ms > 0),
                    Some(_) => {
                        return Err(r.bad(
                            "sla-waiting-time",
                            "expected a duration string such as \"30m\" (Volcano ignores any other type)",
                        ))
                    }
                };
                PluginArgs::Sla(SlaArgs { waiting_ms })
            }
            PluginKind::NodeOrder => {
                const KEYS: &[&str] = &[
                    "leastrequested.weight",
                    "mostrequested.weight",
                    "balancedresource.weight",
                    "nodeaffinity.weight",
                    "podaffinity.weight",
                    "tainttoleration.weight",
                    "imagelocality.weight",
                    "podtopologyspread.weight",
                ];
                r.only(KEYS, |_| false)?;
                PluginArgs::NodeOrder(NodeOrderArgs {
                    least_requested: r.int("leastrequested.weight", 1)?,
                    most_requested: r.int("mostrequested.weight", 0)?,
                    balanced_resource: r.int("balancedresource.weight", 1)?,
                    node_affinity: r.int("nodeaffinity.weight", 2)?,
                    pod_affinity: r.int("podaffinity.weight", 2)?,
                    taint_toleration: r.int("tainttoleration.weight", 3)?,
                    image_locality: r.int("imagelocality.weight", 1)?,
                    pod_topology_spread: r.int("podtopologyspread.weight", 2)?,
                })
            }
            PluginKind::Binpack => node_args::binpack(&r)?,
            PluginKind::NetworkTopologyAware => node_args::network_topology(&r)?,
            PluginKind::Predicates => node_args::predicates(&r, warnings)?,
            PluginKind::Capacity => {
                const KEYS: &[&str] = &[
                    "ancestorReclaimLevel",
                    "capacity.DynamicResourceAllocationEnable",
                    "capacity.DRAConsumableCapacityEnable",
                ];
                r.only(KEYS, |_| false)?;
                r.boolean("capacity.DynamicResourceAllocationEnable", false)?;
                r.boolean("capacity.DRAConsumableCapacityEnable", false)?;
                let level = r.int("ancestorReclaimLevel", 0)?;
                PluginArgs::Capacity(CapacityArgs {
                    ancestor_reclaim_level: level.max(0) as usize,
                })
            }
        })
    }
}

/// One `tiers[].plugins[]` entry: `None` for a plugin Volcano ships that volsim does not model
/// (one warning, its arguments and flags not read beyond their shape).
pub(super) fn plugin_entry(
    entry: &BTreeMap<String, serde_json::Value>,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<PluginConf>, ConfError> {
    let name = entry
        .get("name")
        .and_then(|v| v.as_str())
        .ok_or_else(|| super::err(format!("{field}.name"), "missing plugin name"))?;
    let kind = PluginKind::parse(name);
    if kind.is_none() && !UNMODELLED_PLUGINS.contains(&name) {
        let modelled: Vec<&str> = PluginKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(super::err(
            format!("{field}.name"),
            format!(
                "unknown plugin {name:?} (volsim models: {}; accepted and ignored: {})",
                modelled.join(", "),
                UNMODELLED_PLUGINS.join(", ")
            ),
        ));
    }
    let mut flags = FlagSet::ALL;
    let mut hierarchy = false;
    let mut arguments = serde_json::Map::new();
    let mut ignored_flags = Vec::new();
    for (k, v) in entry {
        match k.as_str() {
            "name" => {}
            "arguments" => match v {
                serde_json::Value::Object(m) => arguments = m.clone(),
                serde_json::Value::Null => {}
                _ => {
                    return Err(super::err(
                        format!("{field}.arguments"),
                        "expected a mapping",
                    ))
                }
            },
            "enableHierarchy" => {
                hierarchy = v
                    .as_bool()
                    .ok_or_else(|| super::err(format!("{field}.{k}"), "expected true or false"))?
            }
            key if IGNORED_FLAG_KEYS.contains(&key) => ignored_flags.push(key),
            key => {
                let Some(&(_, _, flag)) = FLAG_NAMES.iter().find(|(y, _, _)| *y == key) else {
                    return Err(super::err(format!("{field}.{key}"), "unknown field (expected name, arguments or an enable flag such as enableJobOrder)"));
                };
                let on = v.as_bool().ok_or_else(|| {
                    super::err(format!("{field}.{key}"), "expected true or false")
                })?;
                flags.set(flag, on);
            }
        }
    }
    let Some(kind) = kind else {
        warnings.push(format!(
            "{field}: plugin {name:?} is not modelled by volsim and is ignored"
        ));
        return Ok(None);
    };
    for key in ignored_flags {
        warnings.push(format!("{field}.{key}: feature not modelled, flag ignored"));
    }
    let args = PluginArgs::parse(kind, &arguments, &format!("{field}.arguments"), warnings)?;
    Ok(Some(PluginConf {
        flags,
        hierarchy,
        args,
    }))
}

/// Typed reads of one plugin's argument map.
pub(super) struct Reader<'a> {
    pub(super) kind: PluginKind,
    pub(super) map: &'a Map<String, Value>,
    pub(super) field: &'a str,
}

impl Reader<'_> {
    pub(super) fn bad(&self, key: &str, what: &str) -> ConfError {
        ConfError {
            field: format!("{}.{key}", self.field),
            message: format!("plugin {}: argument {key:?} {what}", self.kind.as_str()),
        }
    }

    /// A plugin that reads no argument.
    pub(super) fn none(&self, args: PluginArgs) -> Result<PluginArgs, ConfError> {
        self.only(&[], |_| false)?;
        Ok(args)
    }

    /// Fails on the first key that is neither in `keys` nor accepted by `pattern`.
    pub(super) fn only(
        &self,
        keys: &[&str],
        pattern: impl Fn(&str) -> bool,
    ) -> Result<(), ConfError> {
        for k in self.map.keys() {
            if keys.contains(&k.as_str()) || pattern(k) {
                continue;
            }
            let expected = if keys.is_empty() {
                "it reads no arguments".to_string()
            } else {
                format!("its arguments are {}", keys.join(", "))
            };
            return Err(ConfError {
                field: format!("{}.{k}", self.field),
                message: format!(
                    "plugin {} has no argument {k:?} ({expected})",
                    self.kind.as_str()
                ),
            });
        }
        Ok(())
    }

    /// `GetInt`: an integer.
    pub(super) fn int(&self, key: &str, default: i64) -> Result<i64, ConfError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| self.bad(key, "expected an integer")),
            Some(_) => Err(self.bad(key, "expected an integer")),
        }
    }

    /// `GetFloat64`: a number.
    pub(super) fn float(&self, key: &str, default: f64) -> Result<f64, ConfError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n.as_f64().ok_or_else(|| self.bad(key, "expected a number")),
            Some(_) => Err(self.bad(key, "expected a number")),
        }
    }

    /// `GetBool`: a boolean, or a string Go's `strconv.ParseBool` accepts.
    pub(super) fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.as_str() {
                "true" | "True" | "TRUE" | "1" | "t" | "T" => Ok(true),
                "false" | "False" | "FALSE" | "0" | "f" | "F" => Ok(false),
                _ => Err(self.bad(key, "expected true or false")),
            },
            Some(_) => Err(self.bad(key, "expected true or false")),
        }
    }
}
