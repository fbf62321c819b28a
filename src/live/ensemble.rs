//! Prediction bands for `volsim reality --seeds N`: the same submissions replayed N times with
//! different tie-break seeds (Volcano picks at random among equally scored nodes), and per
//! group (all jobs, each queue) the spread of the predicted mean and p95 wait — median and
//! the p10–p90 band over the replays — next to the observed figure and its rank among them.
//!
//! Why: on a cluster whose nodes fragment (8-vCPU nodes, 2- and 3-vCPU pods) one random tie
//! changes which gang fits minutes later, so one replay is one draw; a single observed run is
//! another. A queue's observed figure inside the band is as close as a replay can be.
//!
//! Depends on `compare::WaitRow` and `metrics::percentile` only. Deterministic: groups in name
//! order, replays in seed order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::compare::{kendall_tau, queue_groups, within, WaitRow};
use super::metrics::percentile;

/// One group's figures in one replay (or the observation): mean and p95 wait (ms), and the
/// Kendall tau of admission orders against the observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub jobs: usize,
    pub mean_ms: f64,
    pub p95_ms: f64,
    pub tau: Option<f64>,
}

/// Per group ("(all)" and each queue): (predicted, observed) figures over the jobs present
/// and gang-ready in both.
pub fn group_figures(pred: &[WaitRow], obs: &[WaitRow]) -> BTreeMap<String, (Figures, Figures)> {
    queue_groups(pred, obs)
        .into_iter()
        .map(|(name, g)| {
            let (mut p, mut o, pa, oa) = (g.pred, g.obs, g.pred_admit, g.obs_admit);
            let n = p.len();
            let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / n.max(1) as f64;
            let (mp, mo) = (mean(&p), mean(&o));
            p.sort_unstable();
            o.sort_unstable();
            let p95 = |v: &[u64]| percentile(v, 95).unwrap_or(0) as f64;
            let tau = kendall_tau(&pa, &oa);
            let fp = Figures {
                jobs: n,
                mean_ms: mp,
                p95_ms: p95(&p),
                tau,
            };
            let fo = Figures {
                jobs: n,
                mean_ms: mo,
                p95_ms: p95(&o),
                tau: None,
            };
            (name, (fp, fo))
        })
        .collect()
}

/// Nearest-rank quantile `q` (0..=1) of sorted `v` (non-empty).
fn quantile(v: &[f64], q: f64) -> f64 {
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// The band of one figure over the replays: (median, p10, p90), and the share of replays
/// strictly below the observed value plus half of those equal (its mid-rank, 0..1).
fn band(mut v: Vec<f64>, observed: f64) -> (f64, f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let below = v.iter().filter(|&&x| x < observed).count() as f64;
    let equal = v.iter().filter(|&&x| x == observed).count() as f64;
    let rank = (below + equal / 2.0) / v.len() as f64;
    (
        quantile(&v, 0.5),
        quantile(&v, 0.1),
        quantile(&v, 0.9),
        rank,
    )
}

/// The report: per group, the predicted mean and p95 over the replays (median, p10–p90), the
/// observed figure, its rank among the replays and whether it lies in the band (p10..p90, or
/// within one period where the observed figure is under 20 s), and the median tau.
/// `runs` holds one replay's rows per seed, `seeds` names them. Empty `runs`: empty report.
pub fn report(runs: &[Vec<WaitRow>], obs: &[WaitRow], seeds: &str, period_ms: u64) -> String {
    if runs.is_empty() {
        return String::new();
    }
    let per_run: Vec<BTreeMap<String, (Figures, Figures)>> =
        runs.iter().map(|r| group_figures(r, obs)).collect();
    let mut out = format!(
        "prediction bands over {} replays (tie-break seeds {seeds}): median [p10, p90] of the \
         replays' figure; rank = share of replays below the observed figure; in band = \
         observed within [p10, p90] (or within one period = {:.1} s where it is under 20 s)\n",
        runs.len(),
        period_ms as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "  {:<14} {:>4}  {:>28} {:>8} {:>5} {:<7}  {:>28} {:>8} {:>5} {:<7}  {:>5}",
        "group",
        "jobs",
        "mean pred (s)",
        "obs",
        "rank",
        "",
        "p95 pred (s)",
        "obs",
        "rank",
        "",
        "tau"
    );
    for (name, (_, o)) in &per_run[0] {
        let figs: Vec<Figures> = per_run
            .iter()
            .filter_map(|m| m.get(name).map(|x| x.0))
            .collect();
        let verdict = |(med, lo, hi, _): (f64, f64, f64, f64), ob: f64| {
            let inside = (lo <= ob && ob <= hi) || within(med, ob, 0.0, period_ms);
            if inside {
                "in band"
            } else {
                "OUTSIDE"
            }
        };
        let m = band(figs.iter().map(|f| f.mean_ms).collect(), o.mean_ms);
        let p = band(figs.iter().map(|f| f.p95_ms).collect(), o.p95_ms);
        let fmt_band = |(med, lo, hi, _): (f64, f64, f64, f64)| {
            format!(
                "{:.1} [{:.1}, {:.1}]",
                med / 1000.0,
                lo / 1000.0,
                hi / 1000.0
            )
        };
        let mut taus: Vec<f64> = figs.iter().filter_map(|f| f.tau).collect();
        taus.sort_by(f64::total_cmp);
        let tau = if taus.is_empty() {
            "-".to_string()
        } else {
            format!("{:.3}", quantile(&taus, 0.5))
        };
        let _ = writeln!(
            out,
            "  {:<14} {:>4}  {:>28} {:>8.1} {:>5.2} {:<7}  {:>28} {:>8.1} {:>5.2} {:<7}  {:>5}",
            name,
            o.jobs,
            fmt_band(m),
            o.mean_ms / 1000.0,
            m.3,
            verdict(m, o.mean_ms),
            fmt_band(p),
            o.p95_ms / 1000.0,
            p.3,
            verdict(p, o.p95_ms),
            tau
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(job: &str, queue: &str, submit: u64, wait: u64) -> WaitRow {
        WaitRow {
            job: job.into(),
            queue: queue.into(),
            class: "c".into(),
            submit_ms: submit,
            wait_ms: Some(wait),
        }
    }

    #[test]
    fn bands_rank_the_observation_among_the_replays() {
        let obs = vec![row("a", "q", 0, 100_000), row("b", "q", 0, 300_000)];
        // Replays with mean waits 100, 150, 200, 250, 300 s.
        let runs: Vec<Vec<WaitRow>> = (0..5u64)
            .map(|k| {
                let w = 100_000 + 50_000 * k;
                vec![row("a", "q", 0, w), row("b", "q", 0, w)]
            })
            .collect();
        let figs = group_figures(&runs[0], &obs);
        assert_eq!(figs["q"].1.mean_ms, 200_000.0);
        assert_eq!(figs["q"].0.mean_ms, 100_000.0);
        let text = report(&runs, &obs, "1..5", 1000);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("q "))
            .unwrap();
        // Observed mean 200 s: 2 replays below, 1 equal → rank 0.50, in [p10 100, p90 300].
        assert!(line.contains("200.0 [100.0, 300.0]"), "{line}");
        assert!(line.contains(" 0.50 in band"), "{line}");
        // Observed p95 300 s is the replays' maximum: rank 0.90, still inside [p10, p90].
        assert!(line.contains("300.0  0.90 in band"), "{line}");
    }

    #[test]
    fn an_observation_beyond_every_replay_is_outside() {
        let obs = vec![row("a", "q", 0, 900_000)];
        let runs: Vec<Vec<WaitRow>> = (0..3)
            .map(|k| vec![row("a", "q", 0, 100_000 + k * 1000)])
            .collect();
        let text = report(&runs, &obs, "1..3", 1000);
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("q "))
            .unwrap();
        assert!(line.contains("1.00 OUTSIDE"), "{line}");
        assert!(report(&[], &obs, "-", 1000).is_empty());
    }
}
