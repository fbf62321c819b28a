//! The sweep file (`SWEEP.toml`) and its expansion into numbered points.
//!
//! ```toml
//! scenario = "../scenarios/somaagenthub/scenario.toml"   # relative to this file
//! replications = 2            # seeds per combination (default 1)
//! seeds = "common"            # or "per-point" (see `point_seed`)
//! rank_by = "interactive.p95_wait_s"   # optional tie-break after SLOs met
//! show = ["cluster.gang_evictions", "training.p95_wait_s"]   # optional: compare per point
//! [[axis]]
//! path = "nodes.worker.count"
//! values = [4, 6, 8]
//! [[axis]]
//! path = "queue.interactive.weight"
//! values = [1, 3]
//! # or instead of axes, an explicit list:
//! # points = [{ "nodes.worker.count" = 6, "queue.interactive.weight" = 3 }]
//! ```
//! Grid order: the first axis varies slowest, replications innermost;
//! `point = combination × replications + rep`.
//!
//! Depends on `overrides` and `model::splitmix`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use super::table::Kind;
use crate::model::splitmix;
use crate::model::{fnv1a_from, FNV_OFFSET};
use crate::scenario::{Override, OverrideError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    scenario: String,
    #[serde(default)]
    replications: Option<u32>,
    #[serde(default)]
    seeds: Option<String>,
    #[serde(default)]
    rank_by: Option<String>,
    #[serde(default)]
    show: Vec<String>,
    #[serde(default)]
    axis: Vec<AxisFile>,
    #[serde(default)]
    points: Vec<BTreeMap<String, toml::Value>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AxisFile {
    path: String,
    values: Vec<toml::Value>,
}

/// How point seeds are derived from the scenario's base seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedMode {
    /// Replication `r` of every combination uses the same seed (common random numbers: points
    /// differ only by their overrides): `r = 0 → base`, else `splitmix64(base ^ splitmix64(r))`.
    Common,
    /// Every point gets its own stream: `splitmix64(base ^ splitmix64(point + 1))`.
    PerPoint,
}

/// The documented seed formula (`splitmix64` is `model::splitmix`).
pub fn point_seed(mode: SeedMode, base: u64, point: u64, rep: u64) -> u64 {
    match mode {
        SeedMode::Common if rep == 0 => base,
        SeedMode::Common => splitmix(base ^ splitmix(rep)),
        SeedMode::PerPoint => splitmix(base ^ splitmix(point + 1)),
    }
}

/// One axis: a field path and the type its table column gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub path: String,
    pub kind: Kind,
}

/// One point of the sweep (without its seed, which needs the scenario's base seed).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub index: u64,
    pub rep: u64,
    /// One value per axis, in axis order.
    pub overrides: Vec<Override>,
}

/// A parsed sweep.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub file: PathBuf,
    /// The base scenario, as a path relative to the working directory.
    pub scenario: PathBuf,
    pub replications: u32,
    pub seeds: SeedMode,
    pub rank_by: Option<String>,
    /// Result columns the summary and the HTML report show per point (`show`), in file order.
    pub show: Vec<String>,
    pub axes: Vec<Axis>,
    pub points: Vec<Point>,
    /// FNV-1a of the sweep text (shards of one sweep carry the same digest).
    pub digest: String,
}

/// Largest `replications`.
pub const MAX_REPLICATIONS: u32 = 10_000;
/// Most points of one sweep (combinations × replications).
pub const MAX_POINTS: u64 = 1_000_000;
/// Most values in all points together (points × values per point), checked before the grid
/// is expanded: a 600-byte file of 19 two-valued axes expanded to 10 M values (1.1 GB).
pub const MAX_POINT_VALUES: u64 = 4_000_000;
/// Integer axis values must fit a 32-bit signed integer (every integer scenario field does).
pub const MAX_AXIS_INT: i64 = i32::MAX as i64;

/// Most `show` columns of one sweep.
pub const MAX_SHOW: usize = 32;

/// Checks one `show` entry: `<group>.<metric>` with a metric the results table has.
fn check_show(c: &str) -> Result<(), String> {
    use crate::report::headline::{CLUSTER_EXTRA, GROUP_EXTRA, GROUP_METRICS, WORKFLOW_METRICS};
    let known = || {
        GROUP_METRICS
            .iter()
            .chain(&CLUSTER_EXTRA)
            .chain(&GROUP_EXTRA)
            .chain(&WORKFLOW_METRICS)
    };
    match c.rsplit_once('.') {
        Some((g, m)) if !g.is_empty() && known().any(|k| *k == m) => Ok(()),
        _ => Err(format!(
            "{c:?}: expected a results column <group>.<metric> (group: cluster, a queue, a class \
             or a workflow type; metric one of {})",
            known().copied().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Checks a value of a sweep axis or point (`field` names it).
fn check_value(v: &toml::Value) -> Result<(), String> {
    match v {
        toml::Value::Integer(i) if i.unsigned_abs() > MAX_AXIS_INT as u64 => {
            Err(format!("{i} is outside the limit ±{MAX_AXIS_INT}"))
        }
        toml::Value::Float(f) if !f.is_finite() || f.abs() > MAX_AXIS_INT as f64 => Err(format!(
            "{f} is not finite or outside the limit ±{MAX_AXIS_INT}"
        )),
        _ => Ok(()),
    }
}

/// Parses a sweep file; errors name the file and field.
pub fn load_sweep(path: &Path) -> Result<Sweep, OverrideError> {
    let f = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| OverrideError {
        path: f.clone(),
        message: format!("cannot read sweep: {e}"),
    })?;
    parse_sweep(&text, path)
}

/// Parses sweep `text` as if read from `path`.
pub fn parse_sweep(text: &str, path: &Path) -> Result<Sweep, OverrideError> {
    let f = path.display().to_string();
    let err = |field: &str, m: String| OverrideError {
        path: format!("{f}: field {field}"),
        message: m,
    };
    let sf: SweepFile = toml::from_str(text).map_err(|e| OverrideError {
        path: f.clone(),
        message: e.to_string(),
    })?;
    let seeds = match sf.seeds.as_deref() {
        None | Some("common") => SeedMode::Common,
        Some("per-point") => SeedMode::PerPoint,
        Some(o) => return Err(err("seeds", format!("{o:?}: expected common or per-point"))),
    };
    if sf.show.len() > MAX_SHOW {
        return Err(err(
            "show",
            format!("{} columns exceed the limit of {MAX_SHOW}", sf.show.len()),
        ));
    }
    for (i, c) in sf.show.iter().enumerate() {
        check_show(c).map_err(|m| err(&format!("show[{i}]"), m))?;
    }
    let reps = sf.replications.unwrap_or(1);
    if reps == 0 || reps > MAX_REPLICATIONS {
        return Err(err(
            "replications",
            format!("{reps}: expected 1..={MAX_REPLICATIONS}"),
        ));
    }
    // the grid's size is known before it is expanded
    let combos_n = if sf.axis.is_empty() {
        sf.points.len().max(1) as u64
    } else {
        sf.axis
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64))
    };
    if combos_n.saturating_mul(u64::from(reps)) > MAX_POINTS {
        return Err(err(
            "axis",
            format!(
                "{combos_n} combinations × {reps} replications exceed the limit of {MAX_POINTS} points"
            ),
        ));
    }
    // every point carries one value per axis (or per key of `points`)
    let (width, what) = if sf.axis.is_empty() {
        let keys: std::collections::BTreeSet<&String> =
            sf.points.iter().flat_map(|p| p.keys()).collect();
        (keys.len() as u64, "points")
    } else {
        (sf.axis.len() as u64, "axis")
    };
    let values = combos_n
        .saturating_mul(u64::from(reps))
        .saturating_mul(width);
    if values > MAX_POINT_VALUES {
        return Err(err(
            what,
            format!(
                "{combos_n} combinations × {reps} replications × {width} values each = {values} values exceed the limit of {MAX_POINT_VALUES}"
            ),
        ));
    }
    for (i, a) in sf.axis.iter().enumerate() {
        for (j, v) in a.values.iter().enumerate() {
            check_value(v).map_err(|m| err(&format!("axis[{i}].values[{j}]"), m))?;
        }
    }
    for (i, p) in sf.points.iter().enumerate() {
        for (k, v) in p {
            check_value(v).map_err(|m| err(&format!("points[{i}].{k}"), m))?;
        }
    }
    let (names, combos): (Vec<String>, Vec<Vec<toml::Value>>) =
        match (sf.axis.is_empty(), sf.points.is_empty()) {
            (false, false) => {
                return Err(err(
                    "points",
                    "give either [[axis]] (a grid) or points (a list), not both".into(),
                ))
            }
            (true, true) => (Vec::new(), vec![Vec::new()]),
            (false, true) => {
                let mut combos = vec![Vec::new()];
                for (i, a) in sf.axis.iter().enumerate() {
                    if a.values.is_empty() {
                        return Err(err(&format!("axis[{i}].values"), "empty".into()));
                    }
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            a.values
                                .iter()
                                .map(move |v| [c.clone(), vec![v.clone()]].concat())
                        })
                        .collect();
                }
                (sf.axis.iter().map(|a| a.path.clone()).collect(), combos)
            }
            (true, false) => {
                let mut names: Vec<String> = Vec::new();
                for p in &sf.points {
                    for k in p.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
                let mut combos = Vec::new();
                for (i, p) in sf.points.iter().enumerate() {
                    let mut c = Vec::new();
                    for n in &names {
                        c.push(p.get(n).cloned().ok_or_else(|| {
                            err(
                                &format!("points[{i}]"),
                                format!("missing {n:?} (every point must set every path)"),
                            )
                        })?);
                    }
                    combos.push(c);
                }
                (names, combos)
            }
        };
    let axes = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let vals: Vec<&toml::Value> = combos.iter().map(|c| &c[i]).collect();
            let kind = if vals.iter().all(|v| v.is_integer()) {
                Kind::I64
            } else if vals.iter().all(|v| v.is_integer() || v.is_float()) {
                Kind::F64
            } else {
                Kind::Str
            };
            Axis {
                path: n.clone(),
                kind,
            }
        })
        .collect();
    let mut points = Vec::new();
    for c in &combos {
        for rep in 0..reps as u64 {
            let overrides = names
                .iter()
                .zip(c)
                .map(|(n, v)| Override::new(n, v.clone()))
                .collect();
            points.push(Point {
                index: points.len() as u64,
                rep,
                overrides,
            });
        }
    }
    let scenario = normalize(&path.parent().unwrap_or(Path::new("")).join(&sf.scenario));
    Ok(Sweep {
        file: path.to_path_buf(),
        scenario,
        replications: reps,
        seeds,
        rank_by: sf.rank_by,
        show: sf.show,
        axes,
        points,
        digest: format!("{:016x}", fnv1a_from(text.as_bytes(), FNV_OFFSET)),
    })
}

/// Lexically removes `.` and `a/..` so printed commands stay short and machine-independent.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

/// Parses `i/n` (0 ≤ i < n).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("invalid shard {s:?}: expected i/n with 0 ≤ i < n (e.g. 0/4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Shard `i/n` owns the points whose index ≡ i (mod n) (round-robin balances grid corners).
pub fn in_shard(point: u64, shard: Option<(u64, u64)>) -> bool {
    shard.is_none_or(|(i, n)| point % n == i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_columns_are_checked() {
        let ok = parse_sweep(
            "scenario = \"s.toml\"\nshow = [\"cluster.gangs_broken\", \"training-urgent.mean_tier\"]\n",
            Path::new("sw.toml"),
        )
        .unwrap();
        assert_eq!(
            ok.show,
            ["cluster.gangs_broken", "training-urgent.mean_tier"]
        );
        let e = parse_sweep(
            "scenario = \"s.toml\"\nshow = [\"cluster.jobs\", \"training.p95_wait\"]\n",
            Path::new("sw.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("sw.toml: field show[1]") && e.contains("\"training.p95_wait\""),
            "{e}"
        );
        assert!(e.contains("p95_wait_s"), "names the metrics: {e}");
    }

    #[test]
    fn grid_expands_first_axis_slowest() {
        let s = parse_sweep(
            "scenario = \"s.toml\"\nreplications = 2\n[[axis]]\npath = \"a\"\nvalues = [1, 2]\n[[axis]]\npath = \"b\"\nvalues = [0.5, 1]\n",
            Path::new("x/sw.toml"),
        )
        .unwrap();
        assert_eq!(s.points.len(), 8);
        assert_eq!(s.axes[1].kind, Kind::F64);
        assert_eq!(s.points[2].overrides[1].value, toml::Value::Integer(1));
        assert_eq!(
            (s.points[3].rep, s.points[4].overrides[0].value.as_integer()),
            (1, Some(2))
        );
        assert_eq!(s.scenario, PathBuf::from("x/s.toml"));
        assert_eq!(point_seed(SeedMode::Common, 42, 7, 0), 42);
        assert_ne!(point_seed(SeedMode::Common, 42, 7, 1), 42);
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(parse_shard("4/4").is_err());
    }
}
