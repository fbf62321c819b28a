//! A cross-cycle cache of node scores. A node's score for a task depends only on the node's
//! accounting (allocatable, used, pipelined, idle) and on the task's request — the nodeorder
//! and binpack formulas read nothing else — so it is keyed by the node's `version` (bumped on
//! every accounting change) and a hash of the request. The scoring plugins and their arguments
//! are part of the cache's fingerprint; a different conf starts a fresh cache.

use crate::model::Resources;

/// Entries kept per node (distinct request shapes seen recently).
const WAYS: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    version: u64,
    request: u64,
    score: f64,
    used: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ScoreCache {
    fingerprint: u64,
    nodes: Vec<[Entry; WAYS]>,
    /// Round-robin victim per node.
    next: Vec<u8>,
}

/// FNV-1a over a request's values and present dimensions.
pub fn request_key(r: &Resources) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in r
        .raw()
        .iter()
        .chain(std::iter::once(&(r.present_mask() as i64)))
    {
        for b in x.to_le_bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

impl ScoreCache {
    /// Clears the cache unless it was built for `fingerprint` and `nodes` nodes.
    pub fn prepare(&mut self, fingerprint: u64, nodes: usize) {
        if self.fingerprint != fingerprint || self.nodes.len() != nodes {
            self.fingerprint = fingerprint;
            self.nodes = vec![[Entry::default(); WAYS]; nodes];
            self.next = vec![0; nodes];
        }
    }

    #[inline]
    pub fn get(&self, node: usize, version: u64, request: u64) -> Option<f64> {
        self.nodes[node]
            .iter()
            .find(|e| e.used && e.version == version && e.request == request)
            .map(|e| e.score)
    }

    #[inline]
    pub fn put(&mut self, node: usize, version: u64, request: u64, score: f64) {
        let ways = &mut self.nodes[node];
        let slot = match ways.iter().position(|e| !e.used || e.version != version) {
            Some(i) => i,
            None => {
                let i = self.next[node] as usize % WAYS;
                self.next[node] = self.next[node].wrapping_add(1);
                i
            }
        };
        ways[slot] = Entry {
            version,
            request,
            score,
            used: true,
        };
    }
}
