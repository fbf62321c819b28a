//! `volsim compare PREDICTED OBSERVED` (and `volsim reality`): joins two wait CSVs
//! (`job,…,queue,class,…,wait_ms`, as live mode writes them) on `job` and reports, per queue
//! and per class, mean/p50/p95 of predicted and observed waits and their error, the MAE per job
//! (= the mean gang-ready error, both sides sharing the submit time), Kendall's tau between the
//! predicted and observed admission orders (admission time = submit + wait), and the jobs
//! that differ most.
//!
//! Depends on nothing but `csv`. Deterministic: groups in name order, ties in tau counted as
//! neither concordant nor discordant (tau-a).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::metrics::percentile;
use super::LiveError;

/// One job's row.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitRow {
    pub job: String,
    pub queue: String,
    pub class: String,
    pub submit_ms: u64,
    pub wait_ms: Option<u64>,
}

/// Reads a wait CSV.
pub fn read_waits(path: &Path) -> Result<Vec<WaitRow>, LiveError> {
    let text = std::fs::read_to_string(path).map_err(|e| LiveError::io(path, e))?;
    parse_waits(&text, &path.display().to_string())
}

pub fn parse_waits(text: &str, file: &str) -> Result<Vec<WaitRow>, LiveError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let bad = |m: String| LiveError::Io {
        path: file.to_string(),
        message: m,
    };
    let header = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .ok_or_else(|| bad(format!("missing column {n}")))
    };
    let (cj, cq, cc, cs, cw) = (
        col("job")?,
        col("queue")?,
        col("class")?,
        col("submit_ms")?,
        col("wait_ms")?,
    );
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = i + 2;
        let num = |c: usize| -> Result<Option<u64>, LiveError> {
            let s = rec.get(c).unwrap_or("");
            if s.is_empty() {
                return Ok(None);
            }
            s.parse().map(Some).map_err(|_| {
                bad(format!(
                    "line {line}: column {}: {s:?} is not a non-negative integer",
                    &header[c]
                ))
            })
        };
        out.push(WaitRow {
            job: rec.get(cj).unwrap_or("").to_string(),
            queue: rec.get(cq).unwrap_or("").to_string(),
            class: rec.get(cc).unwrap_or("").to_string(),
            submit_ms: num(cs)?.ok_or_else(|| bad(format!("line {line}: submit_ms is empty")))?,
            wait_ms: num(cw)?,
        });
    }
    Ok(out)
}

/// Kendall's tau-a of two paired sequences.
pub fn kendall_tau(a: &[i64], b: &[i64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            s += (a[i] - a[j]).signum() * (b[i] - b[j]).signum();
        }
    }
    Some(s as f64 / (n * (n - 1) / 2) as f64)
}

/// One group's paired figures: waits (ms) and admission times, job by job.
#[derive(Default)]
pub(crate) struct Group {
    pub(crate) pred: Vec<u64>,
    pub(crate) obs: Vec<u64>,
    pub(crate) abs_err_sum: u64,
    pub(crate) pred_admit: Vec<i64>,
    pub(crate) obs_admit: Vec<i64>,
}

fn s(ms: Option<u64>) -> String {
    ms.map(|m| format!("{:.1}", m as f64 / 1000.0))
        .unwrap_or_else(|| "-".into())
}

fn e(p: Option<u64>, o: Option<u64>) -> String {
    match (p, o) {
        (Some(p), Some(o)) => format!("{:+.1}", (p as f64 - o as f64) / 1000.0),
        _ => "-".into(),
    }
}

/// How many jobs have both a predicted and an observed wait (what `compare` compares).
pub fn comparable(pred: &[WaitRow], obs: &[WaitRow]) -> usize {
    let by_job: BTreeMap<&str, &WaitRow> = obs.iter().map(|r| (r.job.as_str(), r)).collect();
    pred.iter()
        .filter(|p| p.wait_ms.is_some())
        .filter(|p| {
            by_job
                .get(p.job.as_str())
                .is_some_and(|o| o.wait_ms.is_some())
        })
        .count()
}

/// Why nothing could be compared, naming what each file holds (for the CLI's error).
pub fn nothing_to_compare(pred: &[WaitRow], obs: &[WaitRow]) -> String {
    let waits = |rows: &[WaitRow]| rows.iter().filter(|r| r.wait_ms.is_some()).count();
    let by_job: BTreeMap<&str, ()> = obs.iter().map(|r| (r.job.as_str(), ())).collect();
    let common = pred
        .iter()
        .filter(|p| by_job.contains_key(p.job.as_str()))
        .count();
    format!(
        "no job has both a predicted and an observed wait: predicted rows {} ({} with a wait), \
         observed rows {} ({} with a wait), jobs in both {common}{}",
        pred.len(),
        waits(pred),
        obs.len(),
        waits(obs),
        if waits(obs) == 0 && !obs.is_empty() {
            "; no job was observed gang-ready (were its pods refused, or the drain too short?)"
        } else {
            ""
        }
    )
}

/// One group's comparison (`kind` is `all`, `queue` or `class`; `name` is "" for `all`).
/// Percentiles are nearest-rank on ms; means and the MAE in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupCompare {
    pub kind: String,
    pub name: String,
    pub jobs: usize,
    pub mean_pred_s: f64,
    pub mean_obs_s: f64,
    pub p50_pred_ms: Option<u64>,
    pub p50_obs_ms: Option<u64>,
    pub p95_pred_ms: Option<u64>,
    pub p95_obs_ms: Option<u64>,
    pub mae_s: f64,
    /// Kendall's tau-a of the admission orders; None with fewer than two jobs.
    pub tau: Option<f64>,
}

/// The comparison per group, in (kind, name) order, and the number of jobs compared. Only
/// jobs with both a predicted and an observed wait are compared.
pub fn compare_groups(pred: &[WaitRow], obs: &[WaitRow]) -> (usize, Vec<GroupCompare>) {
    let by_job: BTreeMap<&str, &WaitRow> = obs.iter().map(|r| (r.job.as_str(), r)).collect();
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    let mut matched = 0usize;
    for p in pred {
        let Some(o) = by_job.get(p.job.as_str()) else {
            continue;
        };
        let (Some(pw), Some(ow)) = (p.wait_ms, o.wait_ms) else {
            continue;
        };
        matched += 1;
        for key in [
            ("all".to_string(), String::new()),
            ("queue".to_string(), p.queue.clone()),
            ("class".to_string(), p.class.clone()),
        ] {
            let g = groups.entry(key).or_default();
            g.pred.push(pw);
            g.obs.push(ow);
            g.abs_err_sum += pw.abs_diff(ow);
            g.pred_admit.push((p.submit_ms + pw) as i64);
            g.obs_admit.push((o.submit_ms + ow) as i64);
        }
    }
    let rows = groups
        .into_iter()
        .map(|((kind, name), mut g)| {
            let tau = kendall_tau(&g.pred_admit, &g.obs_admit);
            let n = g.pred.len();
            let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / n.max(1) as f64 / 1000.0;
            let (mean_pred_s, mean_obs_s) = (mean(&g.pred), mean(&g.obs));
            g.pred.sort_unstable();
            g.obs.sort_unstable();
            GroupCompare {
                kind,
                name,
                jobs: n,
                mean_pred_s,
                mean_obs_s,
                p50_pred_ms: percentile(&g.pred, 50),
                p50_obs_ms: percentile(&g.obs, 50),
                p95_pred_ms: percentile(&g.pred, 95),
                p95_obs_ms: percentile(&g.obs, 95),
                mae_s: g.abs_err_sum as f64 / n.max(1) as f64 / 1000.0,
                tau,
            }
        })
        .collect();
    (matched, rows)
}

/// The report text of `compare_groups`.
pub fn compare(pred: &[WaitRow], obs: &[WaitRow]) -> String {
    let (matched, groups) = compare_groups(pred, obs);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "jobs compared: {matched} (predicted rows {}, observed rows {})",
        pred.len(),
        obs.len()
    );
    let _ = writeln!(
        out,
        "{:<7} {:<28} {:>5} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>8} {:>8} {:>7}",
        "group",
        "name",
        "jobs",
        "mean_pred",
        "mean_obs",
        "p50_pred",
        "p50_obs",
        "p50_err",
        "p95_pred",
        "p95_obs",
        "p95_err",
        "mae_s",
        "tau"
    );
    for g in groups {
        let tau = g
            .tau
            .map(|t| format!("{t:.3}"))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<7} {:<28} {:>5} {:>9.1} {:>9.1} {:>9} {:>9} {:>8} {:>9} {:>9} {:>8} {:>8.1} {tau:>7}",
            g.kind,
            g.name,
            g.jobs,
            g.mean_pred_s,
            g.mean_obs_s,
            s(g.p50_pred_ms),
            s(g.p50_obs_ms),
            e(g.p50_pred_ms, g.p50_obs_ms),
            s(g.p95_pred_ms),
            s(g.p95_obs_ms),
            e(g.p95_pred_ms, g.p95_obs_ms),
            g.mae_s
        );
    }
    out
}

/// Observed waits under this are held to one scheduling period instead of a percentage.
pub const SHORT_WAIT_MS: u64 = 20_000;

/// Whether `pred` is within `pct` % of `obs`, or within `period_ms` when `obs` is under
/// [`SHORT_WAIT_MS`] (a wait of a few cycles cannot be predicted closer than one cycle).
pub fn within(pred: f64, obs: f64, pct: f64, period_ms: u64) -> bool {
    let d = (pred - obs).abs();
    d <= obs * pct / 100.0 || (obs < SHORT_WAIT_MS as f64 && d <= period_ms as f64)
}

/// The jobs with a wait in both `pred` and `obs` (matched by name), grouped as "(all)" and by
/// queue: their waits and admission times (submit + wait), in `pred`'s order. Used by the
/// target verdicts and by the replay bands (`ensemble`).
pub(crate) fn queue_groups(pred: &[WaitRow], obs: &[WaitRow]) -> BTreeMap<String, Group> {
    let by_job: BTreeMap<&str, &WaitRow> = obs.iter().map(|r| (r.job.as_str(), r)).collect();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for p in pred {
        let Some(o) = by_job.get(p.job.as_str()) else {
            continue;
        };
        let (Some(pw), Some(ow)) = (p.wait_ms, o.wait_ms) else {
            continue;
        };
        for key in ["(all)".to_string(), p.queue.clone()] {
            let g = groups.entry(key).or_default();
            g.pred.push(pw);
            g.obs.push(ow);
            g.pred_admit.push((p.submit_ms + pw) as i64);
            g.obs_admit.push((o.submit_ms + ow) as i64);
        }
    }
    groups
}

/// The accuracy targets of `volsim reality`, one line per queue and one for all jobs: mean
/// wait within 5 %, p95 within 10 % of the observed (or within one scheduling period
/// `period_ms` where the observed figure is under 20 s), and Kendall's tau of the admission
/// orders of all compared jobs ≥ 0.95. `ok`/`MISS` per figure; deterministic (queue order).
pub fn targets(pred: &[WaitRow], obs: &[WaitRow], period_ms: u64) -> String {
    let groups = queue_groups(pred, obs);
    let verdict = |ok: bool| if ok { "ok" } else { "MISS" };
    let mut out = format!(
        "targets (mean within 5 %, p95 within 10 %, or within one period = {:.1} s where the \
         observed figure is under 20 s; tau >= 0.95):\n",
        period_ms as f64 / 1000.0
    );
    for (name, mut g) in groups {
        let n = g.pred.len();
        let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / n.max(1) as f64;
        let (mp, mo) = (mean(&g.pred), mean(&g.obs));
        g.pred.sort_unstable();
        g.obs.sort_unstable();
        let p95 = |v: &[u64]| percentile(v, 95).unwrap_or(0) as f64;
        let (pp, po) = (p95(&g.pred), p95(&g.obs));
        let pct = |p: f64, o: f64| {
            if o > 0.0 {
                format!("{:+.1} %", (p - o) / o * 100.0)
            } else {
                "-".into()
            }
        };
        let mut line = format!(
            "  {name:<14} jobs {n:>4}  mean {:>7.1}/{:<7.1} s {:>9} {:<4}  p95 {:>7.1}/{:<7.1} s {:>9} {:<4}",
            mp / 1000.0,
            mo / 1000.0,
            pct(mp, mo),
            verdict(within(mp, mo, 5.0, period_ms)),
            pp / 1000.0,
            po / 1000.0,
            pct(pp, po),
            verdict(within(pp, po, 10.0, period_ms)),
        );
        if name == "(all)" {
            if let Some(t) = kendall_tau(&g.pred_admit, &g.obs_admit) {
                let _ = write!(line, "  tau {t:.3} {}", verdict(t >= 0.95));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// The `top` jobs whose predicted and observed waits differ most (largest absolute error
/// first, ties by name), then every job with a wait on only one side (admitted in one world
/// and not the other), up to `top` of those too.
pub fn most_different(pred: &[WaitRow], obs: &[WaitRow], top: usize) -> String {
    let by_job: BTreeMap<&str, &WaitRow> = obs.iter().map(|r| (r.job.as_str(), r)).collect();
    let mut both: Vec<(u64, &WaitRow, u64, u64)> = Vec::new();
    let mut one_sided: Vec<(&WaitRow, Option<u64>, Option<u64>)> = Vec::new();
    for p in pred {
        let Some(o) = by_job.get(p.job.as_str()) else {
            continue;
        };
        match (p.wait_ms, o.wait_ms) {
            (Some(a), Some(b)) => both.push((a.abs_diff(b), p, a, b)),
            (None, None) => {}
            (a, b) => one_sided.push((p, a, b)),
        }
    }
    both.sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.job.cmp(&y.1.job)));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "jobs that differ most ({} of {}):\n{:<46} {:<14} {:<16} {:>10} {:>10} {:>10}",
        both.len().min(top),
        both.len(),
        "job",
        "queue",
        "class",
        "pred_s",
        "obs_s",
        "err_s"
    );
    for (_, p, a, b) in both.iter().take(top) {
        let _ = writeln!(
            out,
            "{:<46} {:<14} {:<16} {:>10} {:>10} {:>10}",
            p.job,
            p.queue,
            p.class,
            s(Some(*a)),
            s(Some(*b)),
            e(Some(*a), Some(*b))
        );
    }
    if !one_sided.is_empty() {
        let _ = writeln!(
            out,
            "admitted on one side only ({}; `-` = never gang-ready):",
            one_sided.len()
        );
        for (p, a, b) in one_sided.iter().take(top) {
            let _ = writeln!(
                out,
                "{:<46} {:<14} {:<16} {:>10} {:>10}",
                p.job,
                p.queue,
                p.class,
                s(*a),
                s(*b)
            );
        }
    }
    out
}

/// One line per job present in both files: predicted, observed and absolute error, seconds
/// (`-` where a side has no wait).
pub fn per_job(pred: &[WaitRow], obs: &[WaitRow]) -> String {
    let by_job: BTreeMap<&str, &WaitRow> = obs.iter().map(|r| (r.job.as_str(), r)).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<46} {:<16} {:>10} {:>10} {:>10}",
        "job", "queue", "pred_s", "obs_s", "abs_err_s"
    );
    for p in pred {
        let Some(o) = by_job.get(p.job.as_str()) else {
            continue;
        };
        let err = match (p.wait_ms, o.wait_ms) {
            (Some(a), Some(b)) => format!("{:.1}", a.abs_diff(b) as f64 / 1000.0),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "{:<46} {:<16} {:>10} {:>10} {:>10}",
            p.job,
            p.queue,
            s(p.wait_ms),
            s(o.wait_ms),
            err
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hold_long_waits_to_a_percentage_and_short_ones_to_a_period() {
        // 100 s observed: 104 s is within 5 %, 106 s is not
        assert!(within(104_000.0, 100_000.0, 5.0, 1000));
        assert!(!within(106_000.0, 100_000.0, 5.0, 1000));
        // 3 s observed: 3.9 s is within one 1 s period, 4.5 s is not
        assert!(within(3_900.0, 3_000.0, 5.0, 1000));
        assert!(!within(4_500.0, 3_000.0, 5.0, 1000));
        let h = "job,key,queue,class,submit_ms,wait_ms\n";
        let p = parse_waits(
            &format!("{h}a,a,q1,c,0,104000\nb,b,q1,c,1,96000\nc,c,q2,c,2,9000\n"),
            "p",
        )
        .unwrap();
        let o = parse_waits(
            &format!("{h}a,a,q1,c,0,100000\nb,b,q1,c,1,98000\nc,c,q2,c,2,3000\n"),
            "o",
        )
        .unwrap();
        let t = targets(&p, &o, 1000);
        let line = |q: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with(q))
                .unwrap()
                .to_string()
        };
        // q1: mean 100 vs 99 s = +1 % ok; p95 104 vs 100 s = +4 % ok
        assert!(
            line("q1").contains("+1.0 % ok") && line("q1").ends_with("+4.0 % ok"),
            "{t}"
        );
        // q2: 9 s vs 3 s, under 20 s but 6 s off = more than one period
        assert!(line("q2").matches("MISS").count() == 2, "{t}");
        // all three admitted in the same order on both sides
        assert!(line("(all)").ends_with("tau 1.000 ok"), "{t}");
    }

    #[test]
    fn tau_and_report() {
        assert_eq!(kendall_tau(&[1, 2, 3], &[1, 2, 3]), Some(1.0));
        assert_eq!(kendall_tau(&[1, 2, 3], &[3, 2, 1]), Some(-1.0));
        assert_eq!(kendall_tau(&[1], &[1]), None);
        let p = parse_waits("job,key,queue,class,submit_ms,wait_ms\na,ka,q1,c,0,1000\nb,kb,q1,c,0,3000\nc,kc,q2,d,10,\n", "p").unwrap();
        let o = parse_waits("job,key,queue,class,submit_ms,wait_ms\na,ka,q1,c,0,2000\nb,kb,q1,c,0,3000\nc,kc,q2,d,10,5\n", "o").unwrap();
        let r = compare(&p, &o);
        assert!(r.contains("jobs compared: 2"), "{r}");
        assert!(
            r.lines().any(|l| l.starts_with("queue")
                && l.contains("q1")
                && l.contains("0.5")
                && l.contains("1.000")),
            "{r}"
        );
        let md = most_different(&p, &o, 1);
        assert!(md.starts_with("jobs that differ most (1 of 2)"), "{md}");
        assert!(
            md.lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("a ") && l.ends_with("-1.0")),
            "{md}"
        );
        assert!(
            md.contains("one side only (1;") && md.lines().last().unwrap().starts_with("c "),
            "c has no predicted wait: {md}"
        );
        let o2 = parse_waits(
            "job,key,queue,class,submit_ms,wait_ms\na,ka,q1,c,0,2000\nb,kb,q1,c,0,\n",
            "o",
        )
        .unwrap();
        let md = most_different(&p, &o2, 5);
        assert!(
            md.contains("one side only (1;") && md.lines().last().unwrap().starts_with("b "),
            "{md}"
        );
        assert!(r.lines().nth(1).unwrap().contains("mean_pred"), "{r}");
        let pj = per_job(&p, &o);
        assert_eq!(pj.lines().count(), 4, "{pj}");
        assert!(
            pj.lines()
                .any(|l| l.starts_with("a ") && l.ends_with("1.0")),
            "{pj}"
        );
        assert!(
            pj.lines().any(|l| l.starts_with("c ") && l.ends_with("-")),
            "{pj}"
        );
        assert_eq!(comparable(&p, &o), 2);
        let none =
            parse_waits("job,key,queue,class,submit_ms,wait_ms\na,ka,q1,c,0,\n", "o").unwrap();
        assert_eq!(comparable(&p, &none), 0);
        let why = nothing_to_compare(&p, &none);
        assert!(
            why.contains("observed rows 1 (0 with a wait)") && why.contains("gang-ready"),
            "{why}"
        );
        let e = parse_waits("job,queue,class,submit_ms,wait_ms\na,q,c,x,1\n", "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("submit_ms"), "{e}");
    }
}
