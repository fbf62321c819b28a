//! Time-to-reclaim per queue, from the run's starvation-below-deserved episodes (defined in
//! `sim::starvation`): how many closed, their nearest-rank p50/p95 and max duration, and the
//! episode still open when the run ended (censored, with its age) — plus the terminal section
//! and the `time_to_reclaim.csv` rows.
//!
//! Depends on `report` (percentiles), `model::format_duration` and the `sim` output types.
//! Queues in outcome order, so the same outcome gives the same numbers and bytes.

use std::io;

use super::nearest_rank;
use crate::model::format_duration;
use crate::sim::Outcome;

/// Time-to-reclaim of one queue. Durations in ms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueReclaim {
    pub queue: String,
    /// Closed episodes (the queue got back to its deserved share or its demand was served).
    pub episodes: u64,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub max_ms: Option<u64>,
    /// Episodes still open at the end of the run (0 or 1: a queue has one at a time).
    pub censored: u64,
    /// Age of the open episode at the end of the run.
    pub censored_age_ms: Option<u64>,
}

impl QueueReclaim {
    /// Whether the queue was ever starved below deserved.
    pub fn affected(&self) -> bool {
        self.episodes + self.censored > 0
    }
}

/// Per-queue time-to-reclaim of a run (every queue, in outcome order).
pub fn time_to_reclaim(o: &Outcome) -> Vec<QueueReclaim> {
    let mut durations: Vec<Vec<u64>> = vec![Vec::new(); o.queues.len()];
    let mut out: Vec<QueueReclaim> = o
        .queues
        .iter()
        .map(|q| QueueReclaim {
            queue: q.clone(),
            ..Default::default()
        })
        .collect();
    for e in &o.starvation {
        let q = e.queue as usize;
        let Some(r) = out.get_mut(q) else { continue };
        match e.end_ms {
            Some(end) => durations[q].push(end.saturating_sub(e.start_ms)),
            None => {
                r.censored += 1;
                let age = o.end_ms.saturating_sub(e.start_ms);
                r.censored_age_ms = Some(r.censored_age_ms.map_or(age, |a| a.max(age)));
            }
        }
    }
    for (r, mut d) in out.iter_mut().zip(durations) {
        d.sort_unstable();
        r.episodes = d.len() as u64;
        r.p50_ms = nearest_rank(&d, 50);
        r.p95_ms = nearest_rank(&d, 95);
        r.max_ms = d.last().copied();
    }
    out
}

fn dur(x: Option<u64>) -> String {
    x.map(format_duration).unwrap_or_else(|| "-".into())
}

/// The terminal section: one line per queue that was ever starved below deserved (empty when
/// none was).
pub fn render_time_to_reclaim(o: &Outcome) -> String {
    let rows: Vec<QueueReclaim> = time_to_reclaim(o)
        .into_iter()
        .filter(|r| r.affected())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{:<16} {:>8} {:>10} {:>10} {:>10}  {}\n",
        "time to reclaim", "episodes", "p50", "p95", "max", "still starved at end"
    );
    for r in rows {
        let open = match r.censored_age_ms {
            Some(age) => format!("yes, for {}", format_duration(age)),
            None => "no".into(),
        };
        out += &format!(
            "{:<16} {:>8} {:>10} {:>10} {:>10}  {}\n",
            r.queue,
            r.episodes,
            dur(r.p50_ms),
            dur(r.p95_ms),
            dur(r.max_ms),
            open
        );
    }
    out
}

/// Renders `time_to_reclaim.csv` (one row per queue; absent values are empty cells).
pub fn time_to_reclaim_csv(o: &Outcome) -> io::Result<Vec<u8>> {
    let err = |e: csv::Error| io::Error::other(e.to_string());
    let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "queue",
        "episodes",
        "p50_ms",
        "p95_ms",
        "max_ms",
        "censored",
        "censored_age_ms",
    ])
    .map_err(err)?;
    for r in time_to_reclaim(o) {
        w.write_record([
            r.queue,
            r.episodes.to_string(),
            opt(r.p50_ms),
            opt(r.p95_ms),
            opt(r.max_ms),
            r.censored.to_string(),
            opt(r.censored_age_ms),
        ])
        .map_err(err)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Counters, StarvationEpisode};

    fn ep(queue: u32, start_ms: u64, end_ms: Option<u64>) -> StarvationEpisode {
        StarvationEpisode {
            queue,
            start_ms,
            end_ms,
        }
    }

    #[test]
    fn percentiles_and_censored_age() {
        let o = Outcome {
            seed: 0,
            end_ms: 100_000,
            hit_horizon: true,
            queues: vec!["a".into(), "b".into()],
            queue_weights: vec![1, 1],
            queue_capability_cpu_milli: vec![],
            total_cpu_milli: 1,
            total_mem_bytes: 1,
            jobs: vec![],
            after_horizon: vec![],
            samples: vec![],
            evictions: vec![],
            starvation: vec![
                ep(0, 0, Some(30_000)),
                ep(0, 40_000, Some(41_000)),
                ep(0, 50_000, Some(52_000)),
                ep(0, 60_000, None),
            ],
            waits: vec![],
            counters: Counters::default(),
            decision_hash: 0,
        };
        let r = time_to_reclaim(&o);
        assert_eq!(r[0].episodes, 3);
        assert_eq!(r[0].p50_ms, Some(2000));
        assert_eq!(r[0].p95_ms, Some(30_000));
        assert_eq!(r[0].max_ms, Some(30_000));
        assert_eq!((r[0].censored, r[0].censored_age_ms), (1, Some(40_000)));
        assert!(!r[1].affected());
        let t = render_time_to_reclaim(&o);
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(t.contains("yes, for 40s"), "{t}");
        let csv = String::from_utf8(time_to_reclaim_csv(&o).unwrap()).unwrap();
        assert!(
            csv.contains("\na,3,2000,30000,30000,1,40000\nb,0,,,,0,\n"),
            "{csv}"
        );
    }
}
