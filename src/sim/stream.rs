//! A taken (owned) static trace streamed into the engine: the jobs wait in fixed-size chunks and
//! a chunk is freed once all its jobs arrived; of an arrived job only what its `JobRecord` needs
//! is kept (`Seed`: id, queue, class, cluster index; the queue and class as indices into one
//! table of the distinct names; its submit time, replicas and minMember are in its cluster
//! `JobState`). So a run holds the trace's full rows only for the jobs still to come.
//!
//! May depend on `engine` (`Source`), `cluster` and `workload` (via the parent `sim`).
//! Invariant: only built from jobs sorted by submit time (`Streamed::new` refuses others), so
//! arrival order is input order: the seeds are in input order, and the jobs never delivered
//! (after the horizon) are exactly the ones left in the chunks, also in input order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::cluster::JobState;
use crate::engine::Source;
use crate::workload::TraceJob;

use super::records::{record, Given};
use super::JobRecord;

/// Jobs per chunk: what is freed at once (tiny under test, so chunk edges are crossed).
#[cfg(not(test))]
const CHUNK: usize = 1 << 14;
#[cfg(test)]
const CHUNK: usize = 3;

/// What the record of an arrived job needs besides its cluster `JobState`: the id, the queue
/// and class as indices into the stream's `Names` (a few distinct values over a whole trace).
#[derive(Debug)]
pub(crate) struct Seed {
    id: Box<str>,
    queue: u32,
    class: u32,
    /// The job's cluster index.
    pub(crate) cluster_ix: u32,
}

impl Seed {
    /// The job's record (`st`: its cluster state, which holds the submit time, replicas and
    /// minMember the trace gave), taking the seed's id.
    pub(crate) fn record(self, st: &JobState, known_queue: bool, names: &Names) -> JobRecord {
        let given = Given {
            id: self.id.into_string(),
            queue: names.list[self.queue as usize].clone(),
            class: names.list[self.class as usize].clone(),
            submit_ms: st.submit_ms,
            replicas: st.replicas,
            min_member: st.min_member,
        };
        record(given, Some(st), known_queue)
    }

    /// The queue the job named (an index into the stream's `Names`).
    pub(crate) fn queue(&self) -> u32 {
        self.queue
    }
}

/// The distinct queue and class names of the arrived jobs, each held once (and shared by
/// their records).
#[derive(Debug, Default)]
pub(crate) struct Names {
    list: Vec<Arc<str>>,
    index: HashMap<String, u32>,
}

impl Names {
    fn intern(&mut self, s: String) -> u32 {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(Arc::from(s.as_str()));
        self.index.insert(s, i);
        i
    }
    pub(crate) fn get(&self, i: u32) -> &str {
        &self.list[i as usize]
    }
    /// How many names there are (indices are `0..len`).
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// The static trace, owned and streamed (see the module doc).
#[derive(Debug)]
pub(crate) struct Streamed {
    /// Jobs not yet delivered, in input order; the front chunk is delivered from `next`.
    chunks: VecDeque<Vec<TraceJob>>,
    next: usize,
    /// Arrived jobs, in input (= arrival) order.
    pub(crate) seeds: Vec<Seed>,
    /// Their queue and class names.
    pub(crate) names: Names,
}

impl Streamed {
    /// Streams `jobs`, or gives them back when they are not sorted by submit time.
    pub(crate) fn new(mut jobs: Vec<TraceJob>) -> Result<Streamed, Vec<TraceJob>> {
        if !jobs.is_sorted_by_key(|j| j.submit_ms) {
            return Err(jobs);
        }
        // Split from the end so the whole trace is never held twice.
        let mut chunks = VecDeque::with_capacity(jobs.len().div_ceil(CHUNK));
        while !jobs.is_empty() {
            let at = (jobs.len() - 1) / CHUNK * CHUNK;
            chunks.push_front(jobs.split_off(at));
            if jobs.capacity() - jobs.len() >= 4 * CHUNK {
                jobs.shrink_to_fit();
            }
        }
        Ok(Streamed {
            chunks,
            next: 0,
            seeds: Vec::new(),
            names: Names::default(),
        })
    }

    /// The jobs that never arrived, in input order.
    pub(crate) fn undelivered(self) -> impl Iterator<Item = TraceJob> {
        let next = self.next;
        self.chunks
            .into_iter()
            .enumerate()
            .flat_map(move |(k, c)| c.into_iter().skip(if k == 0 { next } else { 0 }))
    }
}

impl Source for Streamed {
    fn next_time(&self) -> u64 {
        self.chunks
            .front()
            .and_then(|c| c.get(self.next))
            .map_or(u64::MAX, |j| j.submit_ms)
    }

    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut n = 0;
        while let Some(chunk) = self.chunks.front_mut() {
            let Some(job) = chunk.get_mut(self.next) else {
                break;
            };
            if job.submit_ms != t {
                break;
            }
            let ix = submit(job) as u32;
            if self.seeds.len() == self.seeds.capacity() {
                self.seeds.reserve_exact(CHUNK);
            }
            let queue = self.names.intern(std::mem::take(&mut job.queue));
            let class = self.names.intern(std::mem::take(&mut job.class));
            self.seeds.push(Seed {
                id: std::mem::take(&mut job.id).into_boxed_str(),
                queue,
                class,
                cluster_ix: ix,
            });
            self.next += 1;
            n += 1;
            if self.next == chunk.len() {
                self.chunks.pop_front();
                self.next = 0;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, job};
    use super::super::{simulate, simulate_taking_jobs};
    use crate::workload::TraceJob;

    fn jobs(n: u64) -> Vec<TraceJob> {
        (0..n)
            .map(|i| {
                let q = ["q1", "q2", "nope"][(i % 3) as usize];
                let reps = 1 + (i % 3) as u32;
                job(
                    &format!("j{i}"),
                    q,
                    i / 2 * 900,
                    reps,
                    reps,
                    1 + (i % 2) as i64,
                )
            })
            .collect()
    }

    #[test]
    fn a_taken_trace_gives_the_same_outcome() {
        for horizon in [None, Some(9_000), Some(0)] {
            let mut inp = input(jobs(41), true);
            inp.horizon_ms = horizon;
            let held = simulate(&inp);
            let taken = simulate_taking_jobs(inp, None);
            assert_eq!(held, taken);
            if horizon.is_some() {
                assert!(!held.after_horizon.is_empty());
            }
            let ran = held.jobs.iter().any(|j| j.gang_ready_ms.is_set());
            assert_eq!(ran, horizon != Some(0));
        }
    }

    #[test]
    fn an_unsorted_trace_is_held_and_gives_the_same_outcome() {
        let mut js = jobs(20);
        js.reverse();
        let inp = input(js.clone(), false);
        assert!(super::Streamed::new(js).is_err());
        assert_eq!(simulate(&inp), simulate_taking_jobs(inp.clone(), None));
    }
}
