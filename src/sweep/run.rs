//! Running a sweep (rayon over points, optionally one shard), assembling the results table in a
//! canonical column and row order, and merging shard outputs.
//!
//! Determinism: points are simulated independently and collected in point order, so the table
//! does not depend on `--jobs`; metric columns are the sorted union of every row's keys (also
//! across shards), rows are sorted by point index. Each point is one `run::run` of
//! `RunSpec::load(scenario, seed, overrides)` — exactly what the row's `command` re-runs.
//! Depends on `sweep::*`, `run`, `scenario`, `report`.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::spec::{in_shard, point_seed, Point, SeedMode, Sweep};
use super::table::{Column, Kind, Table, TableError, Values};
use crate::report::{MetricKey, SloVerdict};
use crate::run::{rerun_command, run_taking_jobs, RunSpec};
use crate::scenario::{load_sharing, LoadError, TraceCache};

/// A sweep that could not run or merge.
#[derive(Debug)]
pub enum SweepError {
    /// Bad sweep, scenario or override (exit 2).
    Input(String),
    /// Output could not be written.
    Io(String),
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Input(m) | SweepError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SweepError {}

impl From<TableError> for SweepError {
    fn from(e: TableError) -> Self {
        SweepError::Io(e.0)
    }
}

/// One simulated point.
#[derive(Debug, Clone)]
pub struct PointResult {
    pub point: Point,
    pub seed: u64,
    pub metrics: Vec<(MetricKey, f64)>,
    pub slos: Vec<SloVerdict>,
    pub decision_hash: u64,
    pub command: String,
}

/// `sweep.json`: what a results directory holds; shards of one sweep differ only in `shard`
/// and `metric_keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepMeta {
    pub format: String,
    pub sweep_file: String,
    pub sweep_digest: String,
    pub scenario: String,
    pub base_seed: u64,
    pub seeds: String,
    pub replications: u32,
    pub total_points: u64,
    pub shard: Option<(u64, u64)>,
    pub axes: Vec<(String, Kind)>,
    pub slos: Vec<String>,
    pub rank_by: Option<String>,
    pub metric_keys: Vec<(u8, String, u8)>,
    /// The sweep file's `show` columns (absent from `sweep.json` when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub show: Vec<String>,
}

/// A finished sweep (or shard).
#[derive(Debug, Clone)]
pub struct SweepRun {
    pub meta: SweepMeta,
    pub table: Table,
}

/// Most worker threads of one sweep (`--jobs`): the pool starts them all up front.
pub const MAX_THREADS: usize = 1024;

/// Runs the sweep's points in shard `shard` on a pool of `jobs` threads; `tick` is called once
/// per finished point (from worker threads).
pub fn run_sweep(
    sw: &Sweep,
    jobs: usize,
    shard: Option<(u64, u64)>,
    tick: &(dyn Fn() + Sync),
) -> Result<SweepRun, SweepError> {
    run_sweep_keeping(sw, jobs, shard, None, tick)
}

/// `run_sweep`, also writing each point's run outputs (`report::write_outputs`) to
/// `keep/runs/<point, 4 digits>/` when `keep` is given.
pub fn run_sweep_keeping(
    sw: &Sweep,
    jobs: usize,
    shard: Option<(u64, u64)>,
    keep: Option<&Path>,
    tick: &(dyn Fn() + Sync),
) -> Result<SweepRun, SweepError> {
    // The points read the same trace (unless an axis changes it): parsed once, by the base
    // load, then copied.
    let traces = Arc::new(TraceCache::default());
    let base = load_sharing(&sw.scenario, Some(traces.clone()))
        .map_err(|e| SweepError::Input(e.to_string()))?;
    let mine: Vec<&Point> = sw
        .points
        .iter()
        .filter(|p| in_shard(p.index, shard))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| SweepError::Io(e.to_string()))?;
    let results: Vec<Result<PointResult, LoadError>> = pool.install(|| {
        mine.par_iter()
            .map(|p| {
                let seed = point_seed(sw.seeds, base.seed, p.index, p.rep);
                let r = RunSpec::load_sharing(&sw.scenario, Some(seed), &p.overrides, &traces)
                    .and_then(|mut spec| {
                        let report = run_taking_jobs(&mut spec);
                        if let Some(k) = keep {
                            let d = k.join("runs").join(format!("{:04}", p.index));
                            std::fs::create_dir_all(&d)
                                .and_then(|_| report.write(&d))
                                .map_err(|e| LoadError::Io(format!("{}: {e}", d.display())))?;
                        }
                        Ok(report)
                    });
                let r = r.map(|report| PointResult {
                    point: (*p).clone(),
                    seed,
                    slos: report.slos,
                    metrics: report.headline.values,
                    decision_hash: report.headline.decision_hash,
                    command: rerun_command(&sw.scenario, seed, &p.overrides),
                });
                tick();
                r
            })
            .collect()
    });
    let mut ok = Vec::with_capacity(results.len());
    for (p, r) in mine.iter().zip(results) {
        ok.push(r.map_err(|e| SweepError::Input(format!("point {}: {e}", p.index)))?);
    }
    let keys: BTreeSet<MetricKey> = ok
        .iter()
        .flat_map(|r| r.metrics.iter().map(|(k, _)| k.clone()))
        .collect();
    let meta = SweepMeta {
        format: "volsim-sweep/v2".into(),
        sweep_file: sw.file.display().to_string(),
        sweep_digest: sw.digest.clone(),
        scenario: sw.scenario.display().to_string(),
        base_seed: base.seed,
        seeds: if sw.seeds == SeedMode::Common {
            "common"
        } else {
            "per-point"
        }
        .into(),
        replications: sw.replications,
        total_points: sw.points.len() as u64,
        shard,
        axes: sw.axes.iter().map(|a| (a.path.clone(), a.kind)).collect(),
        slos: base.slos.iter().map(|s| s.text.clone()).collect(),
        rank_by: sw.rank_by.clone(),
        metric_keys: keys
            .iter()
            .map(|k| (k.kind, k.group.clone(), k.metric))
            .collect(),
        show: sw.show.clone(),
    };
    let rows = ok.iter().map(|r| row_of(r, &meta)).collect();
    Ok(SweepRun {
        table: assemble(&meta, rows),
        meta,
    })
}

enum Cell {
    U(u64),
    I(i64),
    F(Option<f64>),
    S(String),
}

fn row_of(r: &PointResult, meta: &SweepMeta) -> HashMap<String, Cell> {
    let mut m = HashMap::new();
    m.insert("point".into(), Cell::U(r.point.index));
    m.insert("rep".into(), Cell::U(r.point.rep));
    m.insert("seed".into(), Cell::U(r.seed));
    for ((name, kind), o) in meta.axes.iter().zip(&r.point.overrides) {
        let c = match kind {
            Kind::I64 => Cell::I(o.value.as_integer().unwrap_or_default()),
            Kind::F64 => Cell::F(
                o.value
                    .as_float()
                    .or(o.value.as_integer().map(|i| i as f64)),
            ),
            _ => Cell::S(crate::scenario::overrides::value_text(&o.value)),
        };
        m.insert(name.clone(), c);
    }
    m.insert(
        "slo_met".into(),
        Cell::U(r.slos.iter().filter(|s| s.pass).count() as u64),
    );
    m.insert("slo_total".into(), Cell::U(r.slos.len() as u64));
    for v in &r.slos {
        m.insert(format!("met:{}", v.slo.text), Cell::U(v.pass as u64));
    }
    for (k, v) in &r.metrics {
        m.insert(k.name(), Cell::F(Some(*v).filter(|x| !x.is_nan())));
    }
    m.insert(
        "decision_hash".into(),
        Cell::S(format!("{:016x}", r.decision_hash)),
    );
    m.insert("command".into(), Cell::S(r.command.clone()));
    m
}

/// The table's columns, in order, with their kinds.
pub fn columns(meta: &SweepMeta) -> Vec<(String, Kind)> {
    let mut c: Vec<(String, Kind)> = vec![
        ("point".into(), Kind::U64),
        ("rep".into(), Kind::U64),
        ("seed".into(), Kind::U64),
    ];
    c.extend(meta.axes.iter().cloned());
    c.push(("slo_met".into(), Kind::U64));
    c.push(("slo_total".into(), Kind::U64));
    // One 0/1 column per SLO: which SLO a point meets.
    for text in &meta.slos {
        c.push((format!("met:{text}"), Kind::U64));
    }
    for (kind, group, metric) in &meta.metric_keys {
        c.push((
            MetricKey {
                kind: *kind,
                group: group.clone(),
                metric: *metric,
            }
            .name(),
            Kind::F64,
        ));
    }
    c.push(("decision_hash".into(), Kind::Str));
    c.push(("command".into(), Kind::Str));
    c
}

fn assemble(meta: &SweepMeta, mut rows: Vec<HashMap<String, Cell>>) -> Table {
    let point = |r: &HashMap<String, Cell>| match r.get("point") {
        Some(Cell::U(p)) => *p,
        _ => u64::MAX,
    };
    rows.sort_by_key(point);
    let mut t = Table::default();
    for (name, kind) in columns(meta) {
        let mut v = Values::empty(kind);
        for r in &rows {
            match (&mut v, r.get(&name)) {
                (Values::U64(x), Some(Cell::U(c))) => x.push(*c),
                (Values::I64(x), Some(Cell::I(c))) => x.push(*c),
                (Values::F64(x), Some(Cell::F(c))) => x.push(*c),
                (Values::Str(x), Some(Cell::S(c))) => x.push(c.clone()),
                (Values::U64(x), _) => x.push(0),
                (Values::I64(x), _) => x.push(0),
                (Values::F64(x), _) => x.push(None),
                (Values::Str(x), _) => x.push(String::new()),
            }
        }
        t.columns.push(Column { name, values: v });
    }
    t
}

/// Writes `results.csv`, `results.parquet` and `sweep.json` into `dir`.
pub fn write_results(run: &SweepRun, dir: &Path) -> Result<(), SweepError> {
    std::fs::create_dir_all(dir).map_err(|e| SweepError::Io(format!("{}: {e}", dir.display())))?;
    run.table.write_csv(&dir.join("results.csv"))?;
    run.table.write_parquet(&dir.join("results.parquet"))?;
    let json = serde_json::to_string_pretty(&run.meta).expect("meta serializes") + "\n";
    std::fs::write(dir.join("sweep.json"), json)
        .map_err(|e| SweepError::Io(format!("{}: {e}", dir.display())))
}

/// Reads a results directory's `sweep.json`.
pub fn read_meta(dir: &Path) -> Result<SweepMeta, SweepError> {
    let p = dir.join("sweep.json");
    let t = std::fs::read_to_string(&p)
        .map_err(|e| SweepError::Input(format!("{}: {e}", p.display())))?;
    serde_json::from_str(&t).map_err(|e| SweepError::Input(format!("{}: {e}", p.display())))
}

/// Reads a results directory (meta + typed table).
pub fn read_results(dir: &Path) -> Result<SweepRun, SweepError> {
    let meta = read_meta(dir)?;
    let kinds: HashMap<String, Kind> = columns(&meta).into_iter().collect();
    let table = Table::read_csv(&dir.join("results.csv"), &|n| {
        kinds.get(n).copied().unwrap_or(Kind::F64)
    })
    .map_err(|e| SweepError::Input(e.0))?;
    Ok(SweepRun { meta, table })
}

/// Joins shard directories into one run; fails unless they are shards of one sweep that cover
/// every point exactly once.
pub fn merge(dirs: &[PathBuf]) -> Result<SweepRun, SweepError> {
    let runs: Vec<SweepRun> = dirs
        .iter()
        .map(|d| read_results(d))
        .collect::<Result<_, _>>()?;
    let first = runs
        .first()
        .ok_or_else(|| SweepError::Input("sweep merge: no directories given".into()))?;
    let mut meta = first.meta.clone();
    meta.shard = None;
    let mut keys: BTreeSet<(u8, String, u8)> = BTreeSet::new();
    let mut rows = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, r) in dirs.iter().zip(&runs) {
        let same = SweepMeta {
            shard: None,
            metric_keys: meta.metric_keys.clone(),
            ..r.meta.clone()
        };
        if same != meta {
            return Err(SweepError::Input(format!(
                "{}: not a shard of the same sweep as {} (sweep.json differs)",
                d.display(),
                dirs[0].display()
            )));
        }
        keys.extend(r.meta.metric_keys.iter().cloned());
        for i in 0..r.table.rows() {
            let mut row = HashMap::new();
            for c in &r.table.columns {
                let cell = match &c.values {
                    Values::U64(v) => Cell::U(v[i]),
                    Values::I64(v) => Cell::I(v[i]),
                    Values::F64(v) => Cell::F(v[i]),
                    Values::Str(v) => Cell::S(v[i].clone()),
                };
                row.insert(c.name.clone(), cell);
            }
            if let Some(Cell::U(p)) = row.get("point") {
                if !seen.insert(*p) {
                    return Err(SweepError::Input(format!(
                        "{}: point {p} appears in more than one shard",
                        d.display()
                    )));
                }
            }
            rows.push(row);
        }
    }
    if seen.len() as u64 != meta.total_points {
        let missing: Vec<String> = (0..meta.total_points)
            .filter(|p| !seen.contains(p))
            .take(10)
            .map(|p| p.to_string())
            .collect();
        return Err(SweepError::Input(format!(
            "sweep merge: {} of {} points present; missing e.g. {}",
            seen.len(),
            meta.total_points,
            missing.join(", ")
        )));
    }
    meta.metric_keys = keys.into_iter().collect();
    Ok(SweepRun {
        table: assemble(&meta, rows),
        meta,
    })
}
