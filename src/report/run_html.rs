//! The HTML report of one run directory (`summary.json`, `jobs.csv`, `queues.csv`,
//! `evictions.csv` as written by `report::write_outputs`; `slo.csv`, `wait_reasons.csv`,
//! `workflows.csv` when present): a verdict first (SLOs, starving queues, their dominant wait
//! reason and a suggestion, wait time by reason), headline tables, per-queue wait CDF,
//! pending depth, allocated vs deserved cpu per queue, allocated cpu of the cluster, eviction
//! timeline, and per-workflow end-to-end latency when the run has a `workflows.csv`.
//!
//! Depends on `report::{html, svg}` and the run directory's file formats only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::html::{Block, Page, Section};
use super::run_verdict::{capability, verdict};
use super::svg::{line_chart, line_chart_png, Series};

/// A run directory that cannot be reported on.
#[derive(Debug)]
pub struct ReportError(pub String);

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}

pub(super) type Rows = Vec<BTreeMap<String, String>>;

pub(super) fn read_csv(path: &Path, required: bool) -> Result<Rows, ReportError> {
    if !required && !path.exists() {
        return Ok(Vec::new());
    }
    let e = |x: &dyn std::fmt::Display| ReportError(format!("{}: {x}", path.display()));
    let mut r = csv::Reader::from_path(path).map_err(|x| e(&x))?;
    let head = r.headers().map_err(|x| e(&x))?.clone();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|x| e(&x))?;
        out.push(
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(out)
}

pub(super) fn num(r: &BTreeMap<String, String>, k: &str) -> Option<f64> {
    r.get(k).and_then(|v| v.parse().ok())
}

/// A named chart (file stem, caption, series, x/y labels, step).
struct Spec {
    stem: String,
    caption: String,
    x: &'static str,
    y: String,
    series: Vec<Series>,
    step: bool,
}

fn fmt_ms(v: &serde_json::Value) -> String {
    v.as_f64()
        .map(|ms| format!("{:.1}", ms / 1000.0))
        .unwrap_or_else(|| "–".into())
}

fn group_rows(groups: &serde_json::Value) -> Vec<Vec<String>> {
    let one = |g: &serde_json::Value| {
        let s = |k: &str| {
            g.get(k)
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_default()
        };
        let share = |k: &str| {
            g.get(k)
                .and_then(|v| v.as_f64())
                .map(|x| format!("{:.3}", x))
                .unwrap_or_else(|| "–".into())
        };
        vec![
            s("name"),
            s("jobs"),
            s("admitted"),
            s("completed"),
            fmt_ms(&g["wait_p50_ms"]),
            fmt_ms(&g["wait_p95_ms"]),
            fmt_ms(&g["wait_p99_ms"]),
            fmt_ms(&g["wait_max_ms"]),
            s("starved"),
            s("evictions"),
            share("mean_share"),
            share("mean_deserved"),
        ]
    };
    match groups {
        serde_json::Value::Array(a) => a.iter().map(one).collect(),
        g @ serde_json::Value::Object(_) => vec![one(g)],
        _ => Vec::new(),
    }
}

const GROUP_HEAD: [&str; 12] = [
    "group",
    "jobs",
    "admitted",
    "completed",
    "p50 wait s",
    "p95 wait s",
    "p99 wait s",
    "max wait s",
    "starved",
    "evictions",
    "cpu share",
    "deserved",
];

/// Builds the report of run directory `dir`; with `png_dir`, also writes every chart as PNG.
pub fn run_report(dir: &Path, png_dir: Option<&Path>) -> Result<Page, ReportError> {
    let sp = dir.join("summary.json");
    let text = std::fs::read_to_string(&sp).map_err(|e| {
        ReportError(format!(
            "{}: {e} (is this a `volsim run --out` directory?)",
            sp.display()
        ))
    })?;
    let summary: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ReportError(format!("{}: {e}", sp.display())))?;
    let jobs = read_csv(&dir.join("jobs.csv"), true)?;
    let samples = read_csv(&dir.join("queues.csv"), true)?;
    let evictions = read_csv(&dir.join("evictions.csv"), false)?;
    let workflows = read_csv(&dir.join("workflows.csv"), false)?;
    let sv = |k: &str| {
        summary
            .get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
            .unwrap_or_default()
    };

    // One fixed colour per queue across every chart: each per-queue chart lists the queues in
    // this order (summary order, then any other name), so a queue keeps its palette slot.
    let mut order: Vec<String> = summary["queues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| q["name"].as_str().map(str::to_string))
        .collect();
    for q in jobs.iter().chain(&samples).filter_map(|r| r.get("queue")) {
        if !order.contains(q) {
            order.push(q.clone());
        }
    }
    let end_h = summary["end_ms"].as_f64().unwrap_or(0.0) / 3_600_000.0;
    let mut specs = Vec::new();
    // Wait CDF per queue.
    // Jobs that never became gang-ready count in the denominator, so a queue's curve stops
    // below 1 by the fraction of its jobs that never started (starved at the end).
    let mut waits: BTreeMap<String, (Vec<f64>, usize)> = BTreeMap::new();
    for j in &jobs {
        if let Some(q) = j.get("queue") {
            let e = waits.entry(q.clone()).or_default();
            e.1 += 1;
            if let Some(w) = num(j, "wait") {
                // log10 of seconds, waits under 0.1 s drawn at 0.1 s.
                e.0.push((w / 1000.0).max(0.1).log10());
            }
        }
    }
    let never: usize = waits.values().map(|(v, n)| n - v.len()).sum();
    let cdf: Vec<Series> = in_order(&order, waits)
        .into_iter()
        .map(|(q, (mut v, n))| {
            v.sort_by(f64::total_cmp);
            let n = n.max(1) as f64;
            (
                q,
                v.iter()
                    .enumerate()
                    .map(|(i, w)| (*w, (i + 1) as f64 / n))
                    .collect(),
            )
        })
        .collect();
    specs.push(Spec {
        stem: "wait_cdf".into(),
        caption: format!(
            "Wait (submit → gang ready) CDF per queue, log scale; {never} job(s) never started (curves end below 1)"
        ),
        x: "wait, log10 of seconds (0 = 1 s, 1 = 10 s, 2 = 100 s, 3 = 1000 s)",
        y: "fraction of jobs".into(),
        series: cdf,
        step: true,
    });
    // Time series per queue.
    let mut pending: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut alloc: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut deserved: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    // queues.csv has a row per queue only when it changed: every series is a step function
    // held to the end of the run, and the cluster total sums each queue's latest value.
    let mut latest: BTreeMap<String, f64> = BTreeMap::new();
    let mut total: BTreeMap<u64, f64> = BTreeMap::new();
    for s in &samples {
        let (Some(q), Some(t)) = (s.get("queue"), num(s, "time")) else {
            continue;
        };
        let h = t / 3_600_000.0;
        pending
            .entry(q.clone())
            .or_default()
            .push((h, num(s, "pending_jobs").unwrap_or(0.0)));
        let a = num(s, "allocated_cpu_milli").unwrap_or(0.0) / 1000.0;
        alloc.entry(q.clone()).or_default().push((h, a));
        deserved
            .entry(q.clone())
            .or_default()
            .push((h, num(s, "deserved_cpu_milli").unwrap_or(0.0) / 1000.0));
        latest.insert(q.clone(), a);
        total.insert(t as u64, latest.values().sum());
    }
    for m in [&mut pending, &mut alloc, &mut deserved] {
        for v in m.values_mut() {
            if let Some(&(h, y)) = v.last() {
                if h < end_h {
                    v.push((end_h, y));
                }
            }
        }
    }
    specs.push(Spec {
        stem: "pending".into(),
        caption: "Pending jobs per queue over time".into(),
        x: "time (h)",
        y: "pending jobs".into(),
        series: in_order(&order, pending),
        step: true,
    });
    for (q, a) in &alloc {
        let d = deserved.get(q).cloned().unwrap_or_default();
        if a.iter().chain(&d).all(|p| p.1 == 0.0) {
            continue; // an idle queue (e.g. the implicit `default`)
        }
        specs.push(Spec {
            stem: format!(
                "alloc_{}",
                q.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
            caption: format!("Queue {q}: allocated vs deserved (vs capability) cpu"),
            x: "time (h)",
            y: "cpu (cores)".into(),
            series: {
                let mut v = vec![("allocated".into(), a.clone()), ("deserved".into(), d)];
                if let Some(c) = capability(&summary, q) {
                    v.push(("capability".into(), vec![(0.0, c), (end_h.max(1e-3), c)]));
                }
                v
            },
            step: true,
        });
    }
    let cap = summary
        .get("total_cpu_milli")
        .and_then(|v| v.as_f64())
        .map(|c| c / 1000.0);
    let mut used: Vec<(f64, f64)> = total
        .iter()
        .map(|(t, a)| (*t as f64 / 3_600_000.0, *a))
        .collect();
    if let Some(&(h, y)) = used.last() {
        if h < end_h {
            used.push((end_h, y));
        }
    }
    let mut util = vec![("allocated (all queues)".to_string(), used)];
    if let Some(c) = cap {
        util.push((
            "cluster capacity".into(),
            vec![(0.0, c), (end_h.max(1e-3), c)],
        ));
    }
    specs.push(Spec {
        stem: "cluster_cpu".into(),
        caption: "Cluster: allocated cpu over time (utilisation)".into(),
        x: "time (h)",
        y: "cpu (cores)".into(),
        series: util,
        step: true,
    });
    // Eviction timeline: cumulative evictions per victim queue.
    let mut ev: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for e in &evictions {
        if let (Some(q), Some(t)) = (e.get("queue"), num(e, "time")) {
            let v = ev.entry(q.clone()).or_default();
            let n = v.len() as f64 + 1.0;
            v.push((t / 3_600_000.0, n));
        }
    }
    let has_ev = !ev.is_empty();
    if has_ev {
        specs.push(Spec {
            stem: "evictions".into(),
            caption: "Evictions over time (cumulative, by victim queue)".into(),
            x: "time (h)",
            y: "evictions".into(),
            series: in_order(&order, ev),
            step: true,
        });
    }
    // Per-workflow e2e latency vs recorded.
    if !workflows.is_empty() {
        let pts: Vec<(f64, f64)> = workflows
            .iter()
            .filter_map(|w| {
                Some((
                    num(w, "recorded_e2e")? / 1000.0,
                    num(w, "simulated_e2e")? / 1000.0,
                ))
            })
            .collect();
        let hi = pts.iter().map(|p| p.0.max(p.1)).fold(0.0, f64::max);
        specs.push(Spec {
            stem: "workflow_e2e".into(),
            caption: "Workflow end-to-end latency: simulated vs recorded".into(),
            x: "recorded (s)",
            y: "simulated (s)".into(),
            series: vec![
                ("workflows".into(), pts),
                ("y = x".into(), vec![(0.0, 0.0), (hi, hi)]),
            ],
            step: false,
        });
    }

    let mut charts = Vec::new();
    for s in &specs {
        if let Some(d) = png_dir {
            line_chart_png(
                &d.join(format!("{}.png", s.stem)),
                &s.caption,
                s.x,
                &s.y,
                &s.series,
                s.step,
            );
        }
        charts.push(Block::Chart(
            s.caption.clone(),
            line_chart(&s.caption, s.x, &s.y, &s.series, s.step),
        ));
    }
    let head: Vec<String> = GROUP_HEAD.iter().map(|s| s.to_string()).collect();
    let mut tables = vec![Block::Table(
        vec![
            "seed".into(),
            "scenario".into(),
            "digest".into(),
            "decision log hash".into(),
            "end (s)".into(),
            "hit horizon".into(),
            "decisions".into(),
            "evictions".into(),
        ],
        vec![vec![
            sv("seed"),
            sv("scenario_name"),
            sv("scenario_digest"),
            sv("decision_log_hash"),
            fmt_ms(&summary["end_ms"]),
            sv("hit_horizon"),
            sv("decisions"),
            sv("evictions"),
        ]],
    )];
    tables.push(Block::Table(head.clone(), group_rows(&summary["total"])));
    tables.push(Block::Text("Per queue:".into()));
    tables.push(Block::Table(head.clone(), group_rows(&summary["queues"])));
    tables.push(Block::Text("Per workload class:".into()));
    tables.push(Block::Table(head, group_rows(&summary["classes"])));
    tables.extend(super::run_html_gangs::gang_and_tier_tables(
        &evictions, &jobs,
    ));
    let mut notes = Vec::new();
    if !has_ev {
        notes.push(Block::Text("No evictions in this run.".into()));
    }
    if workflows.is_empty() {
        notes.push(Block::Text("No per-workflow records (workflows.csv) in this run: end-to-end latency vs recorded is shown for Temporal-trace workloads only.".into()));
    }
    let mut sections = vec![
        Section {
            heading: "Verdict".into(),
            blocks: verdict(dir, &summary)?,
        },
        Section {
            heading: "Headline".into(),
            blocks: tables,
        },
        Section {
            heading: "Charts".into(),
            blocks: charts,
        },
    ];
    if !notes.is_empty() {
        sections.push(Section {
            heading: "Notes".into(),
            blocks: notes,
        });
    }
    Ok(Page {
        title: format!("volsim run report — {}", sv("scenario_name")),
        subtitle: format!("{} · {} {}", dir.display(), sv("tool"), sv("tool_version")),
        sections,
    })
}

/// The entries of `m` in queue `order` (missing queues as empty values, so every per-queue
/// chart gives a queue the same palette slot), then any others in name order.
fn in_order<T: Default>(order: &[String], mut m: BTreeMap<String, T>) -> Vec<(String, T)> {
    let mut out: Vec<(String, T)> = order
        .iter()
        .map(|q| (q.clone(), m.remove(q).unwrap_or_default()))
        .collect();
    out.extend(m);
    out
}

/// Where PNGs go for a report written to `out`: `<out stem>_png/`.
pub fn png_dir_for(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    out.with_file_name(format!("{stem}_png"))
}
