//! Wait time by reason, aggregated: per queue, per workload class and for the whole run, how
//! much of the jobs' wait each reason the scheduler gave accounts for (`sim::waits`), the
//! dominant blocking reason of a group and a one-line suggestion derived from it. Feeds the
//! terminal section, `summary.json`, `wait_reasons.csv`, the HTML verdict and the binding
//! constraint `capacity` and `check` name.
//!
//! Depends on `sim` output types and `policy::WaitReason` (its keys). Pure and deterministic:
//! groups in queue order (`Outcome::queues`), classes sorted by name, reasons by descending
//! time then key.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

use super::slo::{SloScope, SloVerdict};
use crate::model::format_duration;
use crate::policy::WaitReason;
use crate::sim::Outcome;

/// Deterministic fast hashing for the roll-up's lookups (nothing iterates in hash order into
/// the output: every merge is order-free).
type Fast = BuildHasherDefault<crate::policy::accel::classes::Fx>;

/// One reason of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonRow {
    /// "total", "queue" or "class".
    pub scope: &'static str,
    /// Queue or class name ("cluster" for the total).
    pub name: String,
    /// `WaitReason::key` (`enqueue-rejected:overcommit`, `no-node-fits:cpu`, …).
    pub reason: String,
    /// What it means, for people (from the longest-waiting job's latest instance).
    pub describe: String,
    /// Jobs that spent some time waiting for this reason.
    pub jobs: u64,
    /// Summed wait ms over those jobs.
    pub wait_ms: u64,
    /// `wait_ms` over the group's total wait (0 when the group never waited).
    pub share: f64,
}

/// Reasons that are the normal cost of scheduling, not a constraint: the time to the next cycle
/// and the time pods take to bind and start (and the controller to create them).
pub fn is_overhead(reason: &str) -> bool {
    matches!(reason, "awaiting-cycle" | "binding" | "awaiting-pods")
}

/// Instances of one reason (or of one reason key, once merged): how many, their summed ms, the
/// longest single one and the earliest job (input order) with that longest wait, whose reason
/// describes the group.
#[derive(Debug, Clone, Copy)]
struct Tally {
    jobs: u64,
    ms: u64,
    longest: u64,
    at: usize,
    reason: WaitReason,
}

impl Tally {
    fn new(reason: WaitReason, at: usize) -> Tally {
        Tally {
            jobs: 0,
            ms: 0,
            longest: 0,
            at,
            reason,
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.jobs += o.jobs;
        self.ms += o.ms;
        if o.longest > self.longest || (o.longest == self.longest && o.at < self.at) {
            self.longest = o.longest;
            self.at = o.at;
            self.reason = o.reason;
        }
    }
}

/// Every group's reasons: the total first, then queues (in queue order), then classes (sorted).
pub fn wait_reasons(o: &Outcome) -> Vec<ReasonRow> {
    // First per (queue, class, exact reason), with no string built per job; then rolled up
    // into the groups by reason key. Every merge is a sum or a max whose tie goes to the
    // earliest job, so the hash map's order does not show.
    // Jobs come in runs of one (queue, class): the pair's group id is looked up only when it
    // changes, and the tallies are keyed by (group id, reason) with a fast hasher.
    let mut gid: HashMap<(&str, &str), u32, Fast> = HashMap::default();
    let mut names: Vec<(&str, &str)> = Vec::new();
    let mut last: Option<((&str, &str), u32)> = None;
    let mut fine: HashMap<(u32, WaitReason), Tally, Fast> = HashMap::default();
    for (i, (j, w)) in o.jobs.iter().zip(&o.waits).enumerate() {
        if w.reasons.is_empty() {
            continue;
        }
        let pair = (&*j.queue, &*j.class);
        let g = match last {
            Some((p, g)) if p == pair => g,
            _ => {
                let next = names.len() as u32;
                let g = *gid.entry(pair).or_insert_with(|| {
                    names.push(pair);
                    next
                });
                last = Some((pair, g));
                g
            }
        };
        for &(reason, ms) in &w.reasons {
            let t = fine.entry((g, reason)).or_insert(Tally::new(reason, i));
            t.merge(&Tally {
                jobs: 1,
                ms,
                longest: ms,
                at: i,
                reason,
            });
        }
    }
    // (scope order, name order, name) → reason key → tally
    let mut groups: BTreeMap<(u8, usize, String), BTreeMap<String, Tally>> = BTreeMap::new();
    let qix = |q: &str| o.queues.iter().position(|n| n == q).unwrap_or(usize::MAX);
    for ((g, reason), t) in fine {
        let (queue, class) = names[g as usize];
        let key = reason.key();
        for g in [
            (0u8, 0usize, "cluster".to_string()),
            (1, qix(queue), queue.to_string()),
            (2, 0, class.to_string()),
        ] {
            groups
                .entry(g)
                .or_default()
                .entry(key.clone())
                .and_modify(|e| e.merge(&t))
                .or_insert(t);
        }
    }
    let mut out = Vec::new();
    for ((scope, _, name), acc) in groups {
        let total: u64 = acc.values().map(|e| e.ms).sum();
        let mut rows: Vec<ReasonRow> = acc
            .into_iter()
            .map(|(reason, t)| ReasonRow {
                scope: ["total", "queue", "class"][scope as usize],
                name: name.clone(),
                reason,
                describe: if t.longest > 0 {
                    t.reason.describe()
                } else {
                    String::new()
                },
                jobs: t.jobs,
                wait_ms: t.ms,
                share: if total > 0 {
                    t.ms as f64 / total as f64
                } else {
                    0.0
                },
            })
            .collect();
        rows.sort_by(|a, b| b.wait_ms.cmp(&a.wait_ms).then(a.reason.cmp(&b.reason)));
        out.extend(rows);
    }
    out
}

/// The dominant blocking reason (overheads aside) of group `name` in `scope`.
pub fn dominant<'a>(rows: &'a [ReasonRow], scope: &str, name: &str) -> Option<&'a ReasonRow> {
    rows.iter()
        .filter(|r| r.scope == scope && r.name == name && !is_overhead(&r.reason))
        .find(|r| r.wait_ms > 0)
}

/// The binding constraint of a failing SLO: its target's dominant blocking reason, with the
/// share of the target's wait and the suggestion (`None` when the SLO passes or its target
/// never waited for a blocking reason). Workflow targets answer for the whole cluster.
pub fn binding_constraint(rows: &[ReasonRow], v: &SloVerdict) -> Option<String> {
    if v.pass {
        return None;
    }
    let (scope, name) = match v.scope {
        SloScope::Queue => ("queue", v.slo.target.as_str()),
        SloScope::Class => ("class", v.slo.target.as_str()),
        SloScope::Workflow | SloScope::Unknown => ("total", "cluster"),
    };
    let r = dominant(rows, scope, name)?;
    Some(format!(
        "{name} waits mostly because {} ({:.0}% of its wait): {}",
        r.describe,
        r.share * 100.0,
        suggestion(&r.reason)
    ))
}

/// The binding-constraint lines of every failing SLO (empty when all pass).
pub fn render_binding(rows: &[ReasonRow], slos: &[SloVerdict]) -> String {
    let mut out = String::new();
    for v in slos {
        if let Some(b) = binding_constraint(rows, v) {
            out += &format!("binding constraint of {}: {b}\n", v.slo.text);
        }
    }
    out
}

/// What to change, derived from a reason key (one line, Volcano's vocabulary).
pub fn suggestion(reason: &str) -> String {
    let (kind, arg) = reason.split_once(':').unwrap_or((reason, ""));
    match kind {
        "enqueue-rejected" if arg == "overcommit" => {
            "the overcommit enqueue gate holds it back: add nodes or raise overcommit-factor".into()
        }
        "enqueue-rejected" => format!(
            "{arg} refuses to enqueue it: raise the queue's capability/deserved or lower minResources"
        ),
        "queue-overused" => format!(
            "the queue is above its deserved share ({arg}): raise its weight/deserved or lower demand"
        ),
        "queue-at-capability" => {
            format!("the queue is capped by its capability ({arg}): raise capability or lower demand")
        }
        "no-node-fits" if arg == "predicates" => {
            "no node passes the predicates (selectors, taints, pod slots): check placement rules"
                .into()
        }
        "no-node-fits" => {
            format!("no node has enough free {arg}: add {arg} or shrink the requests")
        }
        "gang-not-ready" => {
            "gangs cannot be placed whole: lower minMember, use binpack or add capacity".into()
        }
        "pipelined" | "evicting-victims" => {
            "it waits for reclaimed or preempted resources: shorter grace periods or more capacity"
                .into()
        }
        "not-reached" => "it is lower in order: raise its priority or shrink the work ahead".into(),
        "unknown-queue" => "its queue does not exist: create the queue".into(),
        _ => "scheduling overhead only".into(),
    }
}

/// The terminal section: per queue, its reasons with time and share (empty without waits).
pub fn render_wait_reasons(rows: &[ReasonRow]) -> String {
    let rows: Vec<&ReasonRow> = rows
        .iter()
        .filter(|r| r.scope != "class" && r.wait_ms > 0)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{:<14} {:<34} {:>6} {:>12} {:>7}\n",
        "wait by reason", "reason", "jobs", "wait", "share"
    );
    for r in rows {
        out += &format!(
            "{:<14} {:<34} {:>6} {:>12} {:>6.1}%\n",
            r.name,
            r.reason,
            r.jobs,
            format_duration(r.wait_ms),
            r.share * 100.0
        );
    }
    out
}

/// `wait_reasons.csv`: every group's reasons.
pub fn wait_reasons_csv(rows: &[ReasonRow]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scope", "name", "reason", "jobs", "wait_ms", "share", "describe",
    ])?;
    for r in rows {
        w.write_record([
            r.scope,
            &r.name,
            &r.reason,
            &r.jobs.to_string(),
            &r.wait_ms.to_string(),
            &format!("{:.4}", r.share),
            &r.describe,
        ])?;
    }
    w.into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_name_the_knob() {
        assert!(suggestion("queue-at-capability:capacity").contains("raise capability"));
        assert!(suggestion("no-node-fits:cpu").contains("free cpu"));
        assert!(suggestion("enqueue-rejected:overcommit").contains("overcommit-factor"));
        assert!(is_overhead("binding") && !is_overhead("gang-not-ready"));
    }
}
