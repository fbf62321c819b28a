//! The run HTML report's gang tables, read back from a run directory: gang evictions per victim
//! queue (`evictions.csv`) and jobs per landed HyperNode tier per class (`jobs.csv`
//! `domain_tier`). Definitions are `report::evictions::GangEvictions`' and `JobRecord`'s.
//!
//! Depends on `report::{html, run_html}` (blocks, CSV rows). Rows in name order (BTreeMap), so
//! the same directory gives the same bytes.

use std::collections::BTreeMap;

use super::html::Block;
use super::run_html::{num, Rows};

/// Gang evictions per victim queue (from `evictions.csv`: eviction groups of gangs, those left
/// broken, the work lost; only when the file has the `gang_broken` column) and jobs per landed
/// HyperNode tier per class (from `jobs.csv` `domain_tier`; only with HyperNodes).
pub(super) fn gang_and_tier_tables(evictions: &Rows, jobs: &Rows) -> Vec<Block> {
    let mut out = Vec::new();
    // queue → (gang evictions, broken, wasted core-s); (job, time) groups counted once
    let mut by_queue: BTreeMap<String, (u64, u64, f64)> = BTreeMap::new();
    let mut groups: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    let get = |r: &BTreeMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
    let with_column = evictions
        .first()
        .is_some_and(|r| r.contains_key("gang_broken"));
    for e in evictions.iter().filter(|_| with_column) {
        let q = get(e, "queue");
        by_queue.entry(q.clone()).or_default().2 += num(e, "wasted_core_s").unwrap_or(0.0);
        if get(e, "action") != "restart-job" && num(e, "min_member").unwrap_or(0.0) > 1.0 {
            let g = groups
                .entry((get(e, "job"), get(e, "time")))
                .or_insert((q, false));
            g.1 |= get(e, "gang_broken") == "1";
        }
    }
    for (q, broken) in groups.into_values() {
        let v = by_queue.entry(q).or_default();
        v.0 += 1;
        v.1 += broken as u64;
    }
    if by_queue.values().any(|v| v.0 > 0) {
        out.push(Block::Text("Gang evictions (pods of one gang evicted in one cycle; broken: left running below minMember), by victim queue:".into()));
        let rows = by_queue
            .into_iter()
            .map(|(q, (n, b, w))| vec![q, n.to_string(), b.to_string(), format!("{w:.1}")])
            .collect();
        let head = ["queue", "gang evictions", "gangs broken", "wasted core-s"];
        out.push(Block::Table(head.map(String::from).to_vec(), rows));
    }
    // class → tier → jobs
    let mut tiers: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
    for j in jobs {
        if let Ok(t) = get(j, "domain_tier").parse::<u32>() {
            *tiers
                .entry(get(j, "class"))
                .or_default()
                .entry(t)
                .or_default() += 1;
        }
    }
    let top = tiers
        .values()
        .flat_map(|m| m.keys())
        .copied()
        .max()
        .unwrap_or(0);
    if top > 0 {
        out.push(Block::Text(
            "Network domain landed (jobs per HyperNode tier; 1 = closest):".into(),
        ));
        let mut head = vec!["class".to_string()];
        head.extend((1..=top).map(|t| format!("tier {t}")));
        head.push("mean tier".into());
        let rows = tiers
            .into_iter()
            .map(|(c, m)| {
                let n: u64 = m.values().sum();
                let s: u64 = m.iter().map(|(t, k)| *t as u64 * k).sum();
                let mut r = vec![c];
                r.extend((1..=top).map(|t| m.get(&t).copied().unwrap_or(0).to_string()));
                r.push(format!("{:.2}", s as f64 / n.max(1) as f64));
                r
            })
            .collect();
        out.push(Block::Table(head, rows));
    }
    out
}
