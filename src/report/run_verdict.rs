//! The verdict box that opens the HTML run report: SLOs met or failed, the starving queues
//! with their dominant wait reason (and capability, when that is what binds) and a one-line
//! suggestion, and the wait time by reason per queue. Reads `slo.csv`, `wait_reasons.csv` and
//! `summary.json` of a run directory (the first two optional, for directories written before
//! they existed).
//!
//! Depends on `report::{html, reasons, run_html}` and the run directory's file formats only.

use std::collections::BTreeMap;
use std::path::Path;

use super::html::Block;
use super::reasons::{is_overhead, suggestion};
use super::run_html::{num, read_csv, ReportError};

/// Queue `q`'s capability in cpu cores (`summary.json` `queue_specs`), if capped.
pub(super) fn capability(summary: &serde_json::Value, q: &str) -> Option<f64> {
    summary["queue_specs"]
        .as_array()?
        .iter()
        .find(|s| s["name"].as_str() == Some(q))?["capability_cpu_milli"]
        .as_f64()
        .map(|c| c / 1000.0)
}

/// The verdict box: SLOs met or failed, the starving queues with their dominant wait reason
/// and a suggestion, and the wait time by reason per queue (`slo.csv`, `wait_reasons.csv`;
/// both optional for run directories written before they existed).
pub(super) fn verdict(dir: &Path, summary: &serde_json::Value) -> Result<Vec<Block>, ReportError> {
    let slos = read_csv(&dir.join("slo.csv"), false)?;
    let reasons = read_csv(&dir.join("wait_reasons.csv"), false)?;
    let mut blocks = Vec::new();
    let get = |r: &BTreeMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
    if slos.is_empty() {
        blocks.push(Block::Text("The scenario states no SLOs.".into()));
    } else {
        let failed: Vec<&BTreeMap<String, String>> =
            slos.iter().filter(|r| get(r, "pass") != "true").collect();
        blocks.push(Block::Text(format!(
            "SLOs: {} of {} met{}",
            slos.len() - failed.len(),
            slos.len(),
            if failed.is_empty() { "." } else { "; failing:" }
        )));
        if !failed.is_empty() {
            let rows = failed
                .iter()
                .map(|r| {
                    let v = num(r, "value")
                        .map(|v| format!("{:.1}", v / 1000.0))
                        .unwrap_or_else(|| "–".into());
                    vec![get(r, "slo"), get(r, "scope"), v]
                })
                .collect();
            blocks.push(Block::Table(
                vec!["SLO".into(), "scope".into(), "value (s, or count)".into()],
                rows,
            ));
        }
    }
    let dominant = |scope: &str, name: &str| {
        reasons.iter().find(|r| {
            get(r, "scope") == scope
                && get(r, "name") == name
                && !is_overhead(&get(r, "reason"))
                && num(r, "wait_ms").unwrap_or(0.0) > 0.0
        })
    };
    let mut starving = Vec::new();
    for q in summary["queues"].as_array().into_iter().flatten() {
        let starved = q["starved"].as_u64().unwrap_or(0);
        let name = q["name"].as_str().unwrap_or_default();
        if starved == 0 {
            continue;
        }
        let why = match dominant("queue", name) {
            Some(r) => {
                let reason = get(r, "reason");
                let cap = match capability(summary, name) {
                    Some(c) if reason.starts_with("queue-at-capability") => {
                        format!(" (capability {c} cpu)")
                    }
                    _ => String::new(),
                };
                format!(
                    "waits mostly because {}{cap} ({:.0}% of its wait): {}",
                    get(r, "describe"),
                    num(r, "share").unwrap_or(0.0) * 100.0,
                    suggestion(&reason)
                )
            }
            None => "no blocking reason recorded".into(),
        };
        starving.push(format!("{name}: {starved} starved job(s); {why}."));
    }
    if starving.is_empty() {
        blocks.push(Block::Text("No queue has starved jobs.".into()));
    } else {
        blocks.push(Block::Text("Starving queues:".into()));
        blocks.extend(starving.into_iter().map(Block::Text));
    }
    let rows: Vec<Vec<String>> = reasons
        .iter()
        .filter(|r| get(r, "scope") == "queue")
        .map(|r| {
            vec![
                get(r, "name"),
                get(r, "reason"),
                get(r, "jobs"),
                format!("{:.1}", num(r, "wait_ms").unwrap_or(0.0) / 1000.0),
                format!("{:.1}%", num(r, "share").unwrap_or(0.0) * 100.0),
            ]
        })
        .collect();
    if !rows.is_empty() {
        blocks.push(Block::Text("Wait time by reason, per queue:".into()));
        blocks.push(Block::Table(
            [
                "queue",
                "reason",
                "jobs",
                "wait (s)",
                "share of queue's wait",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            rows,
        ));
    }
    Ok(blocks)
}
