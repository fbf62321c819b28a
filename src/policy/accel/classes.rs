//! Equivalence classes of identical nodes (`NodeClasses`). Two nodes with the same static spec
//! (allocatable, taints, cordon) and the same accounting (Used, Pipelined, Releasing — which fix
//! Idle and FutureIdle — and pod count) give every plain predicate and every node score the same
//! answer, so a scan checks and scores a task once per class, not once per node. The per-node
//! state the scan streams is one dense `u32` column (node → class); the per-class state is a
//! small table that stays in cache, with each class's members sorted (so a scan that would
//! meet every node counts and draws from them instead, `classes/walk.rs`).
//!
//! Kept across cycles by the `Scheduler` (inside `Accel`), caught up from
//! `Snapshot::node_changes` before every use, so it is always exact. Scan order, Volcano's node
//! sampling and the random tie-breaks stay per node: classes only memoise answers. Depends on
//! policy types and `model` only.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::model::{Resources, Taint};
use crate::policy::snapshot::{NodeId, Snapshot};

mod walk;
pub use walk::Scanned;

/// Score entries kept per class (distinct request shapes seen recently).
const WAYS: usize = 4;
/// `class_of` value of a node not classified yet.
const NONE: u32 = u32::MAX;

/// Memo bit: the task fits the node's FutureIdle and the node has a free pod slot (the plain
/// predicate: no selector, no tolerations, untainted uncordoned nodes).
pub const FITS_FUTURE: u8 = 1;
/// Memo bit: the task fits the node's Idle.
pub const FITS_IDLE: u8 = 2;

/// What makes two nodes answer alike: Idle = Allocatable − Used and FutureIdle = Idle +
/// Releasing − Pipelined follow from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClassKey {
    spec: u32,
    used: Resources,
    pipelined: Resources,
    releasing: Resources,
    /// Tasks on the node (the pod-count predicate).
    pods: u32,
}

/// The static part of a node (never changes after `Snapshot::add_node`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SpecKey {
    allocatable: Resources,
    taints: Vec<Taint>,
    unschedulable: bool,
}

/// A cached score: the interned id of the exact request (`NO_REQUEST` = empty way) and the
/// summed node score.
#[derive(Debug, Clone, Copy)]
struct ScoreEntry {
    request: u32,
    score: f64,
}

const NO_REQUEST: u32 = u32::MAX;
const EMPTY_WAYS: [ScoreEntry; WAYS] = [ScoreEntry {
    request: NO_REQUEST,
    score: 0.0,
}; WAYS];
/// Distinct request shapes interned before the table (and every cached score) starts afresh.
const MAX_REQUESTS: usize = 1 << 16;

#[derive(Debug, Clone)]
struct Class {
    key: ClassKey,
    /// The member nodes' indices, ascending (a scan that meets every node reads its counts
    /// and draws from here instead of walking the column).
    nodes: Vec<u32>,
    /// The next way of `NodeClasses::scores` to overwrite once all are taken.
    next: u8,
}

/// Per-class answers for the task being scanned or scored, valid while the stamp matches.
#[derive(Debug, Clone, Copy, Default)]
struct Memo {
    fit_stamp: u32,
    bits: u8,
    /// Set by [`NodeClasses::scan`]: feasible nodes of the class found, the first node of the
    /// class visited, and the caller's mark.
    count: u32,
    rep: u32,
    mark: bool,
    score_stamp: u32,
    score: f64,
}

/// A fast, deterministic hasher (FxHash's mixing) for class and spec keys. Only lookups use
/// it; nothing iterates the maps.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K> = HashMap<K, u32, BuildHasherDefault<Fx>>;

/// The node classes of one snapshot lineage (see the module header).
#[derive(Debug, Clone, Default)]
pub struct NodeClasses {
    /// Node → class (`NONE` until classified).
    class_of: Vec<u32>,
    /// Node → static spec id.
    spec_of: Vec<u32>,
    specs: FxMap<SpecKey>,
    classes: Vec<Class>,
    index: FxMap<ClassKey>,
    /// Class ids with no member, for reuse.
    free: Vec<u32>,
    memo: Vec<Memo>,
    stamp: u32,
    /// Classes met by the last [`NodeClasses::scan`], in the order first met.
    seen: Vec<u32>,
    /// The last scan walked and found all it wanted: the next one walks without counting the
    /// classes first (a speed hint only; both ways answer alike).
    walk_only: bool,
    /// Identity of the scoring configuration the score entries were computed with.
    fingerprint: u64,
    /// Per class (same index as `classes`): summed node scores by exact request (the scoring
    /// plugins read only the node's accounting and the task's request), one cache line each.
    scores: Vec<[ScoreEntry; WAYS]>,
    /// Request shape → small id, so a score lookup compares one `u32` per way.
    requests: FxMap<Resources>,
    /// The last request interned and its id (consecutive lookups are for one task).
    last_request: Option<(Resources, u32)>,
}

impl NodeClasses {
    /// Drops the cached scores unless they were computed for `fingerprint`.
    pub fn prepare(&mut self, fingerprint: u64) {
        if self.fingerprint != fingerprint {
            self.fingerprint = fingerprint;
            self.scores.fill(EMPTY_WAYS);
        }
    }

    /// Catches up with every node added or re-accounted since the last call.
    #[inline]
    pub fn sync(&mut self, snap: &mut Snapshot) {
        if snap.node_changes.is_empty() && self.class_of.len() == snap.nodes.len() {
            return;
        }
        self.sync_slow(snap);
    }

    fn sync_slow(&mut self, snap: &mut Snapshot) {
        let n = snap.nodes.len();
        if self.class_of.len() > n {
            // Another lineage (never happens under `Accel::attach`): start afresh.
            *self = NodeClasses {
                fingerprint: self.fingerprint,
                ..NodeClasses::default()
            };
        }
        let first_new = self.class_of.len();
        self.class_of.resize(n, NONE);
        for i in first_new..n {
            let node = &snap.nodes[i];
            let key = SpecKey {
                allocatable: node.allocatable,
                taints: node.taints.clone(),
                unschedulable: node.unschedulable,
            };
            let next = self.specs.len() as u32;
            let id = *self.specs.entry(key).or_insert(next);
            self.spec_of.push(id);
            self.reclassify(snap, NodeId(i as u32));
        }
        let mut changes = std::mem::take(&mut snap.node_changes);
        changes.drain(|node| {
            if node.ix() < first_new {
                self.reclassify(snap, node);
            }
        });
        snap.node_changes = changes;
    }

    fn reclassify(&mut self, snap: &Snapshot, n: NodeId) {
        let node = &snap.nodes[n.ix()];
        let key = ClassKey {
            spec: self.spec_of[n.ix()],
            used: node.used,
            pipelined: node.pipelined,
            releasing: node.releasing,
            pods: node.pod_count() as u32,
        };
        let old = self.class_of[n.ix()];
        if old != NONE {
            if self.classes[old as usize].key == key {
                return;
            }
            let c = &mut self.classes[old as usize];
            match c.nodes.binary_search(&n.0) {
                Ok(i) => {
                    c.nodes.remove(i);
                }
                Err(_) => debug_assert!(false, "node {} is listed in its class", n.0),
            }
            if c.nodes.is_empty() {
                self.index.remove(&c.key);
                self.free.push(old);
            }
        }
        let id = match self.index.get(&key) {
            Some(&id) => id,
            None => {
                let class = Class {
                    key: key.clone(),
                    nodes: Vec::new(),
                    next: 0,
                };
                let id = match self.free.pop() {
                    Some(id) => {
                        self.classes[id as usize] = class;
                        self.memo[id as usize] = Memo::default();
                        self.scores[id as usize] = EMPTY_WAYS;
                        id
                    }
                    None => {
                        self.classes.push(class);
                        self.memo.push(Memo::default());
                        self.scores.push(EMPTY_WAYS);
                        (self.classes.len() - 1) as u32
                    }
                };
                self.index.insert(key, id);
                id
            }
        };
        let nodes = &mut self.classes[id as usize].nodes;
        let at = nodes.partition_point(|&m| m < n.0);
        nodes.insert(at, n.0);
        self.class_of[n.ix()] = id;
    }

    /// The class of node `n` (call [`NodeClasses::sync`] first).
    #[inline]
    pub fn class_of(&self, n: NodeId) -> u32 {
        self.class_of[n.ix()]
    }

    /// Number of classes with at least one member.
    pub fn len(&self) -> usize {
        self.classes.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A fresh stamp: every memo written under an earlier stamp is stale.
    pub fn begin(&mut self) -> u32 {
        if self.stamp == u32::MAX {
            self.stamp = 0;
            self.memo.iter_mut().for_each(|m| *m = Memo::default());
        }
        self.stamp += 1;
        self.stamp
    }

    /// The fit bits ([`FITS_FUTURE`], [`FITS_IDLE`]) of request `req` on node `n`, evaluated
    /// once per class under `stamp`.
    #[inline]
    pub fn fit_bits(&mut self, snap: &Snapshot, n: NodeId, req: &Resources, stamp: u32) -> u8 {
        let m = &mut self.memo[self.class_of[n.ix()] as usize];
        if m.fit_stamp != stamp {
            m.fit_stamp = stamp;
            m.bits = eval_bits(snap, n, req);
        }
        m.bits
    }

    /// The classes met by the last scan: in the order first met, or every class when the scan
    /// met every node without listing.
    pub fn seen(&self) -> &[u32] {
        &self.seen
    }

    /// What the last scan recorded for class `c`: (fit bits, nodes found, first node visited).
    #[inline]
    pub fn met(&self, c: u32) -> (u8, u32, NodeId) {
        let m = &self.memo[c as usize];
        (m.bits, m.count, NodeId(m.rep))
    }

    /// The caller's mark on class `c` (cleared when a scan first meets the class).
    #[inline]
    pub fn marked(&self, c: u32) -> bool {
        self.memo[c as usize].mark
    }

    #[inline]
    pub fn set_mark(&mut self, c: u32, on: bool) {
        self.memo[c as usize].mark = on;
    }

    /// The score of class `c` for `req` memoised under `stamp`, if known.
    #[inline]
    pub fn memo_score(&self, c: u32, stamp: u32) -> Option<f64> {
        let m = &self.memo[c as usize];
        (m.score_stamp == stamp).then_some(m.score)
    }

    /// The cached score of class `c` for exactly `req`, memoised under `stamp`.
    pub fn cached_score(&mut self, c: u32, req: &Resources, stamp: u32) -> Option<f64> {
        let id = self.request_id(req);
        let hit = self.scores[c as usize]
            .iter()
            .find(|e| e.request == id)
            .map(|e| e.score)?;
        let m = &mut self.memo[c as usize];
        m.score_stamp = stamp;
        m.score = hit;
        Some(hit)
    }

    /// Stores the score of class `c` for `req` (and memoises it under `stamp`).
    pub fn put_score(&mut self, c: u32, req: &Resources, stamp: u32, score: f64) {
        let id = self.request_id(req);
        let ways = &mut self.scores[c as usize];
        let slot = match ways.iter().position(|e| e.request == NO_REQUEST) {
            Some(i) => i,
            None => {
                let class = &mut self.classes[c as usize];
                let i = class.next as usize % WAYS;
                class.next = class.next.wrapping_add(1);
                i
            }
        };
        ways[slot] = ScoreEntry { request: id, score };
        let m = &mut self.memo[c as usize];
        m.score_stamp = stamp;
        m.score = score;
    }
}

impl NodeClasses {
    /// The interned id of request shape `req`. Ids are never reused while any score is cached
    /// under them: when the table is full it starts afresh together with every score entry.
    #[inline]
    fn request_id(&mut self, req: &Resources) -> u32 {
        match self.last_request {
            Some((r, id)) if r == *req => id,
            _ => self.intern(req),
        }
    }

    fn intern(&mut self, req: &Resources) -> u32 {
        if self.requests.len() >= MAX_REQUESTS && !self.requests.contains_key(req) {
            self.requests.clear();
            self.scores.fill(EMPTY_WAYS);
        }
        let next = self.requests.len() as u32;
        let id = *self.requests.entry(*req).or_insert(next);
        self.last_request = Some((*req, id));
        id
    }
}

/// The fit bits of `req` on node `n` (see [`FITS_FUTURE`], [`FITS_IDLE`]).
#[inline]
fn eval_bits(snap: &Snapshot, n: NodeId, req: &Resources) -> u8 {
    let info = &snap.nodes[n.ix()];
    let mut bits = 0;
    if req.fits_in(&info.future) {
        let cap = info.allocatable.pods();
        if cap <= 0 || (info.pod_count() as i64) < cap {
            bits |= FITS_FUTURE;
        }
    }
    if req.fits_in(&info.idle) {
        bits |= FITS_IDLE;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, ResourceName};
    use crate::policy::snapshot::{PodGroupPhase, TaskStatus};

    pub(super) fn node(name: &str, cpu: i64) -> NodeSpec {
        let mut a = Resources::cpu_mem(cpu, 64 << 30);
        a.set(ResourceName::PODS, 110);
        NodeSpec {
            name: name.into(),
            allocatable: a,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        }
    }

    #[test]
    fn classes_follow_every_accounting_change() {
        let mut snap = Snapshot::new();
        for i in 0..4 {
            snap.add_node(&node(&format!("n{i}"), 8000));
        }
        snap.add_node(&node("big", 16000));
        snap.add_queue(&QueueSpec::new("q", 1));
        let pg = PodGroupSpec {
            name: "j".into(),
            namespace: "ns".into(),
            queue: "q".into(),
            min_member: 1,
            ..Default::default()
        };
        let j = snap.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
        let pod = PodSpec {
            name: "j-0".into(),
            namespace: "ns".into(),
            requests: Resources::cpu_mem(1000, 1 << 30),
            ..Default::default()
        };
        let t = snap.add_task(j, &pod, TaskStatus::Pending, None, 0);
        let mut c = NodeClasses::default();
        c.sync(&mut snap);
        // Four identical nodes, one bigger.
        assert_eq!(c.len(), 2);
        assert_eq!(c.class_of(NodeId(0)), c.class_of(NodeId(3)));
        assert_ne!(c.class_of(NodeId(0)), c.class_of(NodeId(4)));
        // Placing a task splits node 1 off.
        snap.set_status(t, TaskStatus::Allocated, Some(NodeId(1)));
        c.sync(&mut snap);
        assert_eq!(c.len(), 3);
        assert_ne!(c.class_of(NodeId(1)), c.class_of(NodeId(0)));
        // Moved to node 2 as Pipelined: node 1 is empty again but has seen a `pods` request
        // (its Used now lists the dimension, which comparisons read), node 2 reserves.
        snap.set_status(t, TaskStatus::Pipelined, Some(NodeId(2)));
        c.sync(&mut snap);
        assert_eq!(c.len(), 4);
        assert_ne!(c.class_of(NodeId(2)), c.class_of(NodeId(0)));
        assert_ne!(c.class_of(NodeId(2)), c.class_of(NodeId(1)));
        // Pipelined reserves FutureIdle only: 7.5 cores still fit Idle, not FutureIdle.
        let req = Resources::cpu_mem(7500, 1 << 30);
        let s = c.begin();
        assert_eq!(c.fit_bits(&snap, NodeId(2), &req, s), FITS_IDLE);
        assert_eq!(
            c.fit_bits(&snap, NodeId(0), &req, s),
            FITS_IDLE | FITS_FUTURE
        );
        // Back to Pending: node 2 keeps a trace of its reservation (Pipelined lists `pods`),
        // so four classes stay, and a fresh build finds the same partition.
        snap.set_status(t, TaskStatus::Pending, None);
        c.sync(&mut snap);
        assert_eq!(c.len(), 4);
        let mut fresh = NodeClasses::default();
        fresh.sync(&mut snap);
        assert_eq!(fresh.len(), 4);
        for a in 0..5 {
            for b in 0..5 {
                let (a, b) = (NodeId(a), NodeId(b));
                assert_eq!(
                    c.class_of(a) == c.class_of(b),
                    fresh.class_of(a) == fresh.class_of(b)
                );
            }
        }
    }

    /// Classes of a one-node cluster prepared for scoring configuration 7, and its class.
    fn one_node_class() -> (NodeClasses, u32) {
        let mut snap = Snapshot::new();
        snap.add_node(&node("a", 8000));
        let mut c = NodeClasses::default();
        c.prepare(7);
        c.sync(&mut snap);
        let k = c.class_of(NodeId(0));
        (c, k)
    }

    #[test]
    fn scores_are_kept_per_exact_request_and_dropped_with_the_class() {
        let (mut c, k) = one_node_class();
        let r1 = Resources::cpu_mem(1000, 1 << 30);
        let r2 = Resources::cpu_mem(2000, 1 << 30);
        let s = c.begin();
        assert_eq!(c.cached_score(k, &r1, s), None);
        c.put_score(k, &r1, s, 42.0);
        assert_eq!(c.memo_score(k, s), Some(42.0));
        let s = c.begin();
        assert_eq!(c.memo_score(k, s), None);
        assert_eq!(c.cached_score(k, &r2, s), None);
        assert_eq!(c.cached_score(k, &r1, s), Some(42.0));
        // Another scoring configuration: nothing cached.
        c.prepare(8);
        assert_eq!(c.cached_score(k, &r1, s), None);
    }

    #[test]
    fn a_full_request_table_starts_afresh_with_its_scores() {
        let (mut c, k) = one_node_class();
        let s = c.begin();
        let r1 = Resources::cpu_mem(1, 1);
        c.put_score(k, &r1, s, 1.0);
        for i in 2..=MAX_REQUESTS as i64 {
            assert_eq!(c.cached_score(k, &Resources::cpu_mem(i, 1), s), None);
        }
        assert_eq!(c.cached_score(k, &r1, s), Some(1.0));
        // One shape more than the table holds: every id and score is dropped.
        let extra = Resources::cpu_mem(MAX_REQUESTS as i64 + 1, 1);
        assert_eq!(c.cached_score(k, &extra, s), None);
        assert_eq!(c.requests.len(), 1);
        assert_eq!(c.cached_score(k, &r1, s), None);
    }
}
