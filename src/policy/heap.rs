//! A binary heap with Go `container/heap` push/pop semantics and an external `less`, as
//! Volcano's `util.PriorityQueue`. Keys are *not* re-evaluated for elements already inside:
//! when shares change while an element waits, its position is stale exactly as in Volcano
//! (semantics §1.5). Depends on nothing.

/// Min-heap under a caller-supplied `less(a, b)` ("a pops before b").
#[derive(Debug, Clone)]
pub struct PriorityQueue<T> {
    items: Vec<T>,
}

impl<T> Default for PriorityQueue<T> {
    fn default() -> Self {
        PriorityQueue { items: Vec::new() }
    }
}

impl<T: Copy> PriorityQueue<T> {
    pub fn new() -> Self {
        PriorityQueue { items: Vec::new() }
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Rewrites every element in place without moving any (callers keep the heap's structure
    /// and only refresh cached keys to their live values).
    pub fn refresh(&mut self, f: impl FnMut(&mut T)) {
        self.items.iter_mut().for_each(f);
    }
    /// The heap that pushing `items` one by one, in order, builds — the same arrangement, so
    /// the same pops even among elements `less` does not order — built in place in `items`'
    /// own buffer (each element is sifted up from where it already stands).
    pub fn from_pushes(items: Vec<T>, mut less: impl FnMut(T, T) -> bool) -> Self {
        let mut h = PriorityQueue { items };
        for j in 1..h.items.len() {
            h.sift_up(j, &mut less);
        }
        h
    }
    /// The element that pops next.
    pub fn peek(&self) -> Option<T> {
        self.items.first().copied()
    }
    /// The elements in the heap's arrangement.
    pub fn items(&self) -> &[T] {
        &self.items
    }
    /// The heap's buffer, emptied (for reuse by another heap).
    pub fn into_emptied(self) -> Vec<T> {
        let mut items = self.items;
        items.clear();
        items
    }
    /// `heap.Push`: append, then sift up.
    pub fn push(&mut self, x: T, mut less: impl FnMut(T, T) -> bool) {
        self.items.push(x);
        let j = self.items.len() - 1;
        self.sift_up(j, &mut less);
    }
    /// Moves the element at `j` up while it pops before its parent.
    fn sift_up(&mut self, mut j: usize, less: &mut impl FnMut(T, T) -> bool) {
        while j > 0 {
            let i = (j - 1) / 2;
            if !less(self.items[j], self.items[i]) {
                break;
            }
            self.items.swap(i, j);
            j = i;
        }
    }
    /// `heap.Pop`: swap root with last, sift down over n−1, remove last.
    pub fn pop(&mut self, mut less: impl FnMut(T, T) -> bool) -> Option<T> {
        if self.items.is_empty() {
            return None;
        }
        let n = self.items.len() - 1;
        self.items.swap(0, n);
        let mut i = 0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && less(self.items[j2], self.items[j1]) {
                j = j2;
            }
            if !less(self.items[j], self.items[i]) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
        self.items.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_order() {
        let mut h = PriorityQueue::new();
        for x in [5, 1, 4, 2, 3, 0] {
            h.push(x, |a, b| a < b);
        }
        let mut out = vec![];
        while let Some(x) = h.pop(|a, b| a < b) {
            out.push(x);
        }
        assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn built_in_place_as_pushed_one_by_one() {
        // Ordered by the tens only: ties keep whatever the arrangement gives them.
        let less = |a: u32, b: u32| a / 10 < b / 10;
        for n in 0..40u32 {
            let xs: Vec<u32> = (0..n).map(|i| (i * 37 + 11) % 53).collect();
            let mut pushed = PriorityQueue::new();
            for &x in &xs {
                pushed.push(x, less);
            }
            let mut built = PriorityQueue::from_pushes(xs, less);
            assert_eq!(built.items, pushed.items);
            while let Some(x) = pushed.pop(less) {
                assert_eq!(built.pop(less), Some(x));
            }
            assert!(built.is_empty());
        }
    }
}
