//! The class scan's walk over the nodes (`NodeClasses::scan`) and the draw among the nodes it
//! found (`NodeClasses::nth_marked`): Volcano's node sampling (`numNodesToFind` from a
//! rotating start) answered per class, read from the classes' member lists when the walk
//! would meet every node. A part of `NodeClasses`; depends on policy types only.

use super::{eval_bits, Memo, NodeClasses, FITS_FUTURE, NONE};
use crate::model::Resources;
use crate::policy::snapshot::{NodeId, Snapshot};

/// What [`NodeClasses::scan`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Nodes the walk visits (what the rotating scan start moves on by).
    pub visited: usize,
    /// Nodes found passing.
    pub found: usize,
    /// Whether the nodes found were written out, in walk order (else every node was met
    /// and every passing one found).
    pub listed: bool,
}

impl NodeClasses {
    /// Walks the nodes from `start` round the cluster (`start, …, n−1, 0, …`) for those where
    /// `req` passes the plain predicate ([`FITS_FUTURE`]), stopping once `want` are found
    /// (Volcano's `numNodesToFind` cut). Each class is evaluated once, under `stamp` (fresh
    /// from [`NodeClasses::begin`], classes synced); the classes met are listed by
    /// [`NodeClasses::seen`] with their fit bits, the count of their nodes found and a member
    /// visited ([`NodeClasses::met`]).
    ///
    /// Unless the last scan walked and found all it wanted, the classes are first evaluated in
    /// turn, adding up their member counts, until `want` nodes pass. When fewer pass, the walk
    /// would meet every node and find every passing one: that is read from the counts without
    /// walking, and `found` is left empty ([`Scanned::listed`] false;
    /// [`NodeClasses::nth_marked`] draws from the members). Otherwise the walk streams the
    /// class column (evaluating the classes not reached above when first met) and writes the
    /// nodes found into `found`, in walk order.
    pub fn scan(
        &mut self,
        snap: &Snapshot,
        req: &Resources,
        stamp: u32,
        start: usize,
        want: usize,
        found: &mut Vec<NodeId>,
    ) -> Scanned {
        let n = self.class_of.len();
        found.clear();
        self.seen.clear();
        // Counting first pays when the last scan found fewer than it wanted (a loaded
        // cluster); otherwise the walk alone, evaluating every class when first met. Both
        // give the same answer.
        if !self.walk_only {
            if let Some(passing) = self.count(snap, req, stamp, want) {
                return Scanned {
                    visited: n,
                    found: passing,
                    listed: false,
                };
            }
        }
        // The cut falls inside the walk (or at its last node): count again, class by class as
        // met.
        for &c in &self.seen {
            let m = &mut self.memo[c as usize];
            m.count = 0;
            m.rep = NONE;
        }
        self.seen.clear();
        found.resize(want.clamp(1, n.max(1)), NodeId(0));
        let (class_of, memo, slots) = (&self.class_of[..], &mut self.memo[..], &mut found[..]);
        let mut len = 0;
        let mut visited = 0;
        'walk: for range in [start.min(n)..n, 0..start.min(n)] {
            for k in range {
                if len >= want {
                    break 'walk;
                }
                let c = class_of[k];
                let m = &mut memo[c as usize];
                if m.fit_stamp != stamp {
                    // First met, not evaluated above.
                    *m = Memo {
                        fit_stamp: stamp,
                        bits: eval_bits(snap, NodeId(k as u32), req),
                        rep: k as u32,
                        ..Memo::default()
                    };
                    self.seen.push(c);
                } else if m.rep == NONE {
                    // First met, evaluated above.
                    m.rep = k as u32;
                    self.seen.push(c);
                }
                let f = (m.bits & FITS_FUTURE) as usize;
                m.count += f as u32;
                slots[len] = NodeId(k as u32);
                len += f;
                visited += 1;
            }
        }
        found.truncate(len);
        // Fewer found than wanted: the next scan counts first.
        self.walk_only = len >= want;
        Scanned {
            visited,
            found: len,
            listed: true,
        }
    }

    /// Evaluates the classes in turn, adding up the members of those `req` passes, until
    /// `want` pass: then `None`, the classes evaluated listed in `seen` (their memos under
    /// `stamp`). Else the number passing, every class listed with its count and a member.
    fn count(
        &mut self,
        snap: &Snapshot,
        req: &Resources,
        stamp: u32,
        want: usize,
    ) -> Option<usize> {
        let mut passing = 0usize;
        for (c, class) in self.classes.iter().enumerate() {
            let Some(&rep) = class.nodes.first() else {
                continue;
            };
            let bits = eval_bits(snap, NodeId(rep), req);
            let count = if bits & FITS_FUTURE != 0 {
                class.nodes.len() as u32
            } else {
                0
            };
            passing += count as usize;
            self.memo[c] = Memo {
                fit_stamp: stamp,
                bits,
                count,
                rep,
                ..Memo::default()
            };
            self.seen.push(c as u32);
            if passing >= want {
                // The walk is needed; the classes not evaluated yet are, when first met.
                return None;
            }
        }
        Some(passing)
    }

    /// The `draw`-th node, in walk order from `start`, among the members of the marked classes
    /// met by the last scan (one that found without listing, so a class with nodes found has
    /// every member found; only such classes may be marked). One marked class draws from its
    /// sorted members directly; several walk the class column.
    pub fn nth_marked(&self, start: usize, draw: usize) -> NodeId {
        let mut marked = self.seen.iter().filter(|&&c| self.marked(c));
        if let (Some(&c), None) = (marked.next(), marked.next()) {
            let nodes = &self.classes[c as usize].nodes;
            let first = nodes.partition_point(|&m| (m as usize) < start);
            return NodeId(nodes[(first + draw) % nodes.len()]);
        }
        let n = self.class_of.len();
        let start = start.min(n);
        (start..n)
            .chain(0..start)
            .filter(|&k| self.marked(self.class_of[k]))
            .nth(draw)
            .map(|k| NodeId(k as u32))
            .expect("the draw is below the number of marked nodes")
    }
}

#[cfg(test)]
mod tests {
    //! Both ways of answering a scan against a plain walk over every node.

    use super::*;
    use crate::model::{PodGroupSpec, PodSpec, QueueSpec, ResourceName};
    use crate::policy::accel::classes::tests::node;
    use crate::policy::snapshot::{PodGroupPhase, TaskStatus};

    /// 150 nodes of two shapes and two pod capacities, one to three 1–3-core pods on some.
    fn cluster() -> Snapshot {
        let mut snap = Snapshot::new();
        for i in 0..150i64 {
            let mut spec = node(&format!("n{i}"), if i % 5 == 0 { 16_000 } else { 8_000 });
            let pods = if i % 7 == 0 { 2 } else { 110 };
            spec.allocatable.set(ResourceName::PODS, pods);
            snap.add_node(&spec);
        }
        snap.add_queue(&QueueSpec::new("q", 1));
        for i in 0..150u32 {
            let pg = PodGroupSpec {
                name: format!("j{i}"),
                namespace: "ns".into(),
                queue: "q".into(),
                min_member: 1,
                ..Default::default()
            };
            let j = snap
                .add_job(&pg, PodGroupPhase::Running, u64::from(i))
                .unwrap();
            // Pods on every third node only, so most classes have many members.
            let pods = if i % 3 == 0 { (i * 7 + 3) % 4 } else { 0 };
            for k in 0..pods {
                let pod = PodSpec {
                    name: format!("j{i}-{k}"),
                    namespace: "ns".into(),
                    requests: Resources::cpu_mem(1000 * i64::from(1 + (i + k) % 3), 1 << 30),
                    ..Default::default()
                };
                snap.add_task(j, &pod, TaskStatus::Running, Some(NodeId(i)), 0);
            }
        }
        snap
    }

    /// The passing nodes from `start` round.
    fn walk(snap: &Snapshot, req: &Resources, start: usize) -> Vec<NodeId> {
        let n = snap.nodes.len();
        (start..n)
            .chain(0..start)
            .map(|k| NodeId(k as u32))
            .filter(|&k| eval_bits(snap, k, req) & FITS_FUTURE != 0)
            .collect()
    }

    #[test]
    fn counted_and_walked_scans_find_what_a_plain_walk_finds() {
        let mut snap = cluster();
        let mut c = NodeClasses::default();
        c.sync(&mut snap);
        assert!(c.len() > 3, "the cluster has several classes");
        let mut found = Vec::new();
        for (cpu, start) in [(1000, 0), (3000, 17), (6000, 149), (7000, 80), (20_000, 5)] {
            let req = Resources::cpu_mem(cpu, 1 << 30);
            let all = walk(&snap, &req, start);
            // Wanting more than pass, right after a walk that found all it wanted: walked,
            // every node met and every passing one listed.
            c.walk_only = true;
            let s = c.begin();
            let walked = c.scan(&snap, &req, s, start, all.len() + 1, &mut found);
            assert_eq!((walked.visited, walked.found), (150, all.len()));
            assert!(walked.listed);
            assert_eq!(found, all);
            assert!(
                !c.walk_only,
                "fewer found than wanted: the next scan counts first"
            );
            // Again: counted, every node met, none listed.
            let s = c.begin();
            let counted = c.scan(&snap, &req, s, start, all.len() + 1, &mut found);
            assert_eq!((counted.visited, counted.found), (150, all.len()));
            assert!(!counted.listed && found.is_empty());
            for &k in &c.seen().to_vec() {
                let in_class = all.iter().filter(|&&n| c.class_of(n) == k).count();
                assert_eq!(c.met(k).1 as usize, in_class);
            }
            // Draws among every class with nodes found, the first one, and every other one.
            let seen = c.seen().to_vec();
            let passing: Vec<u32> = seen.iter().copied().filter(|&k| c.met(k).1 > 0).collect();
            let subsets: [&dyn Fn(usize) -> bool; 3] = [&|_| true, &|i| i == 0, &|i| i % 2 == 1];
            for keep in subsets {
                for &k in &seen {
                    c.set_mark(k, false);
                }
                for (i, &k) in passing.iter().enumerate() {
                    c.set_mark(k, keep(i));
                }
                let chosen: Vec<NodeId> = all
                    .iter()
                    .copied()
                    .filter(|&n| c.marked(c.class_of(n)))
                    .collect();
                for (draw, &want) in chosen.iter().enumerate() {
                    assert_eq!(c.nth_marked(start, draw), want);
                }
            }
            // Wanting as many as pass (the walk ends at the last passing node), a third and
            // one (it stops early, across the wrap for some starts), after counting first
            // (classes not reached by the counting are evaluated when met) and not:
            // walked, listed in walk order.
            for (want, walk_only) in [all.len(), all.len() / 3, 1]
                .into_iter()
                .flat_map(|w| [(w, false), (w, true)])
            {
                if want == 0 || want > all.len() {
                    continue;
                }
                c.walk_only = walk_only;
                let s = c.begin();
                let walked = c.scan(&snap, &req, s, start, want, &mut found);
                assert!(walked.listed && c.walk_only);
                assert_eq!(found, &all[..want]);
                let last = (all[want - 1].ix() + 150 - start) % 150;
                assert_eq!(walked.visited, last + 1);
                for n in &found {
                    assert!(
                        c.seen().contains(&c.class_of(*n)),
                        "a found node's class is met"
                    );
                }
                for &k in c.seen() {
                    let in_class = found.iter().filter(|&&n| c.class_of(n) == k).count();
                    assert_eq!(c.met(k).1 as usize, in_class);
                }
            }
        }
    }
}
