//! Grouping jobs for the metrics without a list of them per group: each job is filed into
//! its group by a key (its queue, its class, or one group for all), counted in one pass, and
//! its wait put into one buffer by group (a counting sort) in a second. The waits of every
//! group of a dimension take 8 B per gang-ready job in total, so a 10 M-job outcome costs
//! 80 MB here instead of a list of references per group and a copy of the waits for each.
//!
//! Part of `report`; depends on the `sim` output types only.

use std::collections::{BTreeMap, HashMap};

use super::{nearest_rank, GroupMetrics, ReportParams, Waits};
use crate::sim::JobRecord;

/// The tallies of one group (everything but the waits' order statistics).
#[derive(Default)]
struct Tally {
    jobs: u64,
    admitted: u64,
    completed: u64,
    starved: u64,
    evictions: u64,
    failed: u64,
    restarts: u64,
    restart_kills: u64,
    domain_tiers: BTreeMap<u32, u64>,
    /// Gang-ready jobs; during the second pass, the next free slot of the group's waits.
    waits: usize,
}

impl Tally {
    fn add(&mut self, j: &JobRecord, p: &ReportParams) {
        self.jobs += 1;
        self.admitted += j.inqueue_ms.is_set() as u64;
        self.completed += j.finish_ms.is_set() as u64;
        self.starved += match j.wait_ms() {
            Some(w) => w > p.starve_threshold_ms,
            None => true,
        } as u64;
        self.evictions += j.evictions as u64;
        self.failed += j.failed_ms.is_set() as u64;
        self.restarts += j.restarts as u64;
        self.restart_kills += j.restart_kills as u64;
        if let Some(t) = j.domain_tier {
            *self.domain_tiers.entry(t).or_default() += 1;
        }
    }

    /// The group's metrics, `waits` its gang-ready jobs' waits in any order (sorted here).
    fn metrics(self, name: &str, waits: &mut [u64]) -> GroupMetrics {
        waits.sort_unstable();
        GroupMetrics {
            name: name.to_string(),
            jobs: self.jobs,
            admitted: self.admitted,
            completed: self.completed,
            gang_ready: waits.len() as u64,
            waits: Waits {
                p50: nearest_rank(waits, 50),
                p95: nearest_rank(waits, 95),
                p99: nearest_rank(waits, 99),
                max: waits.last().copied(),
                mean: (!waits.is_empty())
                    .then(|| waits.iter().sum::<u64>() as f64 / waits.len() as f64),
            },
            starved: self.starved,
            evictions: self.evictions,
            failed: self.failed,
            restarts: self.restarts,
            restart_kills: self.restart_kills,
            after_horizon: 0,
            mean_share: None,
            mean_deserved: None,
            domain_tiers: self.domain_tiers,
        }
    }
}

/// Group ids by name: `first` names in their order (a repeated name keeps its first id), then
/// every other name in the order jobs bring it. Jobs come in runs of one name, so the map is
/// asked only when the name changes.
struct Ids<'a> {
    by_name: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Ids<'a> {
    fn new(first: impl IntoIterator<Item = &'a str>) -> Self {
        let mut ids = Ids {
            by_name: HashMap::new(),
            names: Vec::new(),
            last: None,
        };
        for n in first {
            ids.id(n);
        }
        ids
    }

    fn id(&mut self, name: &'a str) -> u32 {
        if let Some((n, g)) = self.last {
            if n == name {
                return g;
            }
        }
        let next = self.names.len() as u32;
        let g = *self.by_name.entry(name).or_insert(next);
        if g == next {
            self.names.push(name);
        }
        self.last = Some((name, g));
        g
    }
}

/// The metrics of every group `key` files `jobs` into, by group id (see [`Ids`]; `first`
/// names get the first ids even when no job has them), with the group's name.
pub(super) fn grouped<'a>(
    jobs: &'a [JobRecord],
    first: impl IntoIterator<Item = &'a str>,
    key: impl Fn(&'a JobRecord) -> &'a str,
    p: &ReportParams,
) -> Vec<GroupMetrics> {
    let mut ids = Ids::new(first);
    let mut tallies: Vec<Tally> = Vec::new();
    for j in jobs {
        let g = ids.id(key(j)) as usize;
        if tallies.len() <= g {
            tallies.resize_with(g + 1, Tally::default);
        }
        tallies[g].add(j, p);
        tallies[g].waits += j.wait_ms().is_some() as usize;
    }
    tallies.resize_with(ids.names.len(), Tally::default);
    // Each group's waits take the slice starting at its offset; `waits` counts the slots filled.
    let mut starts = Vec::with_capacity(tallies.len() + 1);
    let mut at = 0;
    for t in &mut tallies {
        starts.push(at);
        at += t.waits;
        t.waits = 0;
    }
    starts.push(at);
    let mut buf = vec![0u64; at];
    ids.last = None;
    for j in jobs {
        if let Some(w) = j.wait_ms() {
            let g = ids.id(key(j)) as usize;
            buf[starts[g] + tallies[g].waits] = w;
            tallies[g].waits += 1;
        }
    }
    let mut rest = buf.as_mut_slice();
    let mut out = Vec::with_capacity(tallies.len());
    for (t, name) in tallies.into_iter().zip(&ids.names) {
        let (mine, tail) = rest.split_at_mut(t.waits);
        rest = tail;
        out.push(t.metrics(name, mine));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::records::{record, Given};
    use crate::sim::Stamp;

    /// A job submitted at 1 s, enqueued then, gang-ready `wait` ms later, evicted once.
    fn job(queue: &str, class: &str, wait: Option<u64>) -> JobRecord {
        let given = Given {
            id: format!("{queue}-{class}"),
            queue: queue.into(),
            class: class.into(),
            submit_ms: 1000,
            replicas: 1,
            min_member: 1,
        };
        let ready = Stamp::from(wait.map(|w| 1000 + w));
        JobRecord {
            inqueue_ms: Stamp::at(1000),
            first_bind_ms: ready,
            gang_ready_ms: ready,
            evictions: 1,
            attempts: 1,
            ..record(given, None, true)
        }
    }

    #[test]
    fn files_interleaved_groups_apart_and_keeps_first_names_first() {
        let jobs = vec![
            job("b", "x", Some(5)),
            job("a", "y", Some(1)),
            job("b", "x", None),
            job("a", "x", Some(3)),
            job("b", "y", Some(2)),
        ];
        let p = ReportParams::default();
        let q = grouped(&jobs, ["c", "a", "c"], |j| &*j.queue, &p);
        let names: Vec<&str> = q.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        assert_eq!(q[0].jobs, 0);
        assert_eq!(q[0].waits.p50, None);
        assert_eq!(
            (q[1].jobs, q[1].gang_ready, q[1].waits.max),
            (2, 2, Some(3))
        );
        assert_eq!(q[1].waits.p50, Some(1));
        assert_eq!((q[2].jobs, q[2].gang_ready, q[2].starved), (3, 2, 1));
        assert_eq!((q[2].waits.p50, q[2].waits.max), (Some(2), Some(5)));
        assert_eq!(q[2].evictions, 3);
        let all = grouped(&jobs, [], |_| "", &p);
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].jobs, all[0].gang_ready), (5, 4));
        assert_eq!(all[0].waits.mean, Some(11.0 / 4.0));
    }
}
