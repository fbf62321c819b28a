//! Arguments of the node-side plugins, binpack and network-topology-aware (scoring weights per
//! resource) and predicates (filter switches), whose keys embed resource names. Mirrors volcano
//! pkg/scheduler/plugins/{binpack/binpack.go,predicates/predicates.go,network-topology-aware} (`calculateWeight`,
//! `enablePredicate`, `setUpVolumeBindingArgs`). Depends on `args` only.

use serde_json::Value;

use super::args::{BinpackArgs, NetworkTopologyArgs, PluginArgs, PredicatesArgs, Reader};
use super::ConfError;

/// The listed resources of a `<prefix>resources` key with their `<prefix>resources.<name>`
/// weights (default 1, negative → 1); a weight for an unlisted name is an error.
fn weighted_resources(r: &Reader, list_key: &str) -> Result<Vec<(String, i64)>, ConfError> {
    let prefix = format!("{list_key}.");
    let listed: Vec<String> = match r.map.get(list_key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(_) => {
            return Err(r.bad(
                list_key,
                "expected a comma-separated string of resource names",
            ))
        }
    };
    for k in r.map.keys().filter(|k| k.starts_with(&prefix)) {
        let name = &k[prefix.len()..];
        if !listed.iter().any(|l| l == name) {
            return Err(r.bad(
                k,
                &format!(
                    "sets a weight for {name:?}, which {list_key} does not list (Volcano would ignore it)"
                ),
            ));
        }
    }
    let mut out = Vec::new();
    for name in listed {
        let w = r.int(&format!("{prefix}{name}"), 1)?;
        out.push((name, if w < 0 { 1 } else { w }));
    }
    Ok(out)
}

/// `network-topology-aware` (plugins/network-topology-aware/network_topology_aware.go `New`).
pub(super) fn network_topology(r: &Reader) -> Result<PluginArgs, ConfError> {
    const LIST: &str = "hypernode.binpack.resources";
    r.only(
        &[
            "weight",
            "hypernode.binpack.cpu",
            "hypernode.binpack.memory",
            LIST,
            "hypernode.binpack.normal-pod.enable",
            "hypernode.binpack.normal-pod.fading",
            "hypernode.gradient.evict.max-hypernodes",
        ],
        |k| k.starts_with("hypernode.binpack.resources."),
    )?;
    let pos = |x: i64| if x < 0 { 1 } else { x };
    let fading = r.float("hypernode.binpack.normal-pod.fading", 0.8)?;
    let evict = r.int("hypernode.gradient.evict.max-hypernodes", 8)?;
    Ok(PluginArgs::NetworkTopologyAware(NetworkTopologyArgs {
        weight: pos(r.int("weight", 1)?),
        cpu: pos(r.int("hypernode.binpack.cpu", 1)?),
        memory: pos(r.int("hypernode.binpack.memory", 1)?),
        resources: weighted_resources(r, LIST)?,
        normal_pod_enable: r.boolean("hypernode.binpack.normal-pod.enable", true)?,
        normal_pod_fading: if fading < 0.0 { 0.8 } else { fading },
        evict_max_hypernodes: if evict <= 0 { 8 } else { evict },
    }))
}

pub(super) fn binpack(r: &Reader) -> Result<PluginArgs, ConfError> {
    const PREFIX: &str = "binpack.resources.";
    r.only(
        &[
            "binpack.weight",
            "binpack.cpu",
            "binpack.memory",
            "binpack.resources",
        ],
        |k| k.starts_with(PREFIX),
    )?;
    let pos = |x: i64| if x < 0 { 1 } else { x };
    let listed: Vec<String> = match r.map.get("binpack.resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(_) => {
            return Err(r.bad(
                "binpack.resources",
                "expected a comma-separated string of resource names",
            ))
        }
    };
    for k in r.map.keys().filter(|k| k.starts_with(PREFIX)) {
        let name = &k[PREFIX.len()..];
        if !listed.iter().any(|l| l == name) {
            return Err(r.bad(
                k,
                &format!(
                    "sets a weight for {name:?}, which binpack.resources does not list (Volcano would ignore it)"
                ),
            ));
        }
    }
    let mut resources = Vec::new();
    for name in listed {
        let w = pos(r.int(&format!("{PREFIX}{name}"), 1)?);
        resources.push((name, w));
    }
    Ok(PluginArgs::Binpack(BinpackArgs {
        weight: r.int("binpack.weight", 1)?,
        cpu: pos(r.int("binpack.cpu", 1)?),
        memory: pos(r.int("binpack.memory", 1)?),
        resources,
    }))
}

pub(super) fn predicates(r: &Reader, warnings: &mut Vec<String>) -> Result<PluginArgs, ConfError> {
    const PREFIX: &str = "predicate.resources.";
    const SWITCHES: &[&str] = &[
        "predicate.NodeAffinityEnable",
        "predicate.NodePortsEnable",
        "predicate.TaintTolerationEnable",
        "predicate.PodAffinityEnable",
        "predicate.NodeVolumeLimitsEnable",
        "predicate.VolumeZoneEnable",
        "predicate.PodTopologySpreadEnable",
        "predicate.VolumeBindingEnable",
        "predicate.DynamicResourceAllocationEnable",
        "predicate.CacheEnable",
        "predicate.ProportionalEnable",
    ];
    const INTS: &[&str] = &[
        "volumebinding.weight",
        "volumebinding.bindTimeoutSeconds",
        "dynamicresources.filterTimeoutSeconds",
    ];
    for legacy in ["predicate.GPUSharingEnable", "predicate.GPUNumberEnable"] {
        if r.map.contains_key(legacy) {
            return Err(r.bad(
                legacy,
                "is read by Volcano up to v1.8 only; since v1.9 GPU sharing is the deviceshare plugin's (deviceshare.GPUSharingEnable), which volsim does not model",
            ));
        }
    }
    let known: Vec<&str> = SWITCHES
        .iter()
        .chain(INTS)
        .copied()
        .chain(["predicate.resources", "volumebinding.shape"])
        .collect();
    r.only(&known, |k| k.starts_with(PREFIX))?;
    for k in SWITCHES
        .iter()
        .filter(|k| !k.ends_with("ProportionalEnable"))
    {
        r.boolean(k, true)?;
    }
    for k in INTS {
        r.int(k, 0)?;
    }
    if let Some(v) = r.map.get("volumebinding.shape") {
        if !v.is_array() && !v.is_null() {
            return Err(r.bad(
                "volumebinding.shape",
                "expected a list of {utilization, score}",
            ));
        }
    }
    let listed: Vec<&str> = match r.map.get("predicate.resources") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        Some(_) => {
            return Err(r.bad(
                "predicate.resources",
                "expected a comma-separated string of resource names",
            ))
        }
    };
    for k in r.map.keys().filter(|k| k.starts_with(PREFIX)) {
        let rest = &k[PREFIX.len()..];
        let ok = [".cpu", ".memory"].iter().any(|suffix| {
            rest.strip_suffix(suffix)
                .is_some_and(|name| listed.contains(&name))
        });
        if !ok {
            return Err(r.bad(
                k,
                "expected predicate.resources.<name>.cpu or .memory for a <name> listed in predicate.resources",
            ));
        }
        r.float(k, 1.0)?;
    }
    if r.boolean("predicate.ProportionalEnable", false)? {
        warnings.push(format!(
            "{}.predicate.ProportionalEnable: the proportional GPU predicate is not modelled by volsim and is ignored",
            r.field
        ));
    }
    Ok(PluginArgs::Predicates(PredicatesArgs {
        node_affinity: r.boolean("predicate.NodeAffinityEnable", true)?,
        taint_toleration: r.boolean("predicate.TaintTolerationEnable", true)?,
    }))
}
