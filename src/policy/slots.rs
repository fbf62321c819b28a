//! `Slots<T>`: the dense id → record storage of the snapshot's jobs and tasks, whose slots can
//! be released once their record will never be read again (a finished PodGroup and its pods),
//! so a long run holds the records of live work, not of every job it ever saw. `IdWindow<T>`:
//! the same idea for small optional values keyed by id (a cache's per-job entries).
//!
//! Depends on nothing. Contract: ids are handed out densely in push order and never reused, so
//! every order keyed by id (`JobId`/`TaskId` tie-breaks, the index's sets) is unaffected by
//! releases. A released slot costs one pointer until the released run at the front is trimmed
//! (then nothing); reading a released id panics (as reading past the end does), so a reader
//! that outlives its record is found by the tests, never silently given another record.

use std::collections::VecDeque;
use std::ops::{Index, IndexMut};

/// Fewest released leading slots worth a trim (the trim moves the held ones down).
const TRIM_MIN: usize = 1024;

/// Records by dense id; see the module doc.
#[derive(Debug, Clone)]
pub struct Slots<T> {
    /// Id of `slots[0]`: every id below it was released and trimmed.
    base: usize,
    slots: Vec<Option<Box<T>>>,
    /// Released slots at the front of `slots` (trimmed when enough of them).
    lead: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            base: 0,
            slots: Vec::new(),
            lead: 0,
        }
    }
}

impl<T> Slots<T> {
    /// One past the highest id handed out (the next push's id), whatever was released.
    #[inline]
    pub fn len(&self) -> usize {
        self.base + self.slots.len()
    }

    /// No id handed out yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores `v` under the next id and returns that id.
    pub fn push(&mut self, v: T) -> usize {
        self.slots.push(Some(Box::new(v)));
        self.len() - 1
    }

    /// The record of `id`; `None` when it was released or never handed out.
    #[inline]
    pub fn get(&self, id: usize) -> Option<&T> {
        let k = id.checked_sub(self.base)?;
        self.slots.get(k)?.as_deref()
    }

    /// The record of `id` for update; `None` when released or never handed out.
    #[inline]
    pub fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        let k = id.checked_sub(self.base)?;
        self.slots.get_mut(k)?.as_deref_mut()
    }

    /// Whether `id` is held (handed out and not released).
    #[inline]
    pub fn contains(&self, id: usize) -> bool {
        self.get(id).is_some()
    }

    /// Releases `id`'s record (no-op when not held). The id is never handed out again.
    pub fn release(&mut self, id: usize) {
        let Some(k) = id.checked_sub(self.base) else {
            return;
        };
        if let Some(slot) = self.slots.get_mut(k) {
            *slot = None;
        }
        while self.slots.get(self.lead).is_some_and(|s| s.is_none()) {
            self.lead += 1;
        }
        if self.lead >= TRIM_MIN && self.lead * 2 >= self.slots.len() {
            self.slots.drain(..self.lead);
            self.base += self.lead;
            self.lead = 0;
        }
    }

    /// Held records with their ids, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &T)> + '_ {
        let base = self.base;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(k, s)| s.as_deref().map(|v| (base + k, v)))
    }

    /// Held records for update with their ids, in id order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut T)> + '_ {
        let base = self.base;
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(move |(k, s)| s.as_deref_mut().map(|v| (base + k, v)))
    }

    /// How many records are held.
    pub fn held(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

impl<T> Index<usize> for Slots<T> {
    type Output = T;
    #[inline]
    fn index(&self, id: usize) -> &T {
        match self.get(id) {
            Some(v) => v,
            None => panic!(
                "slot {id} released or never handed out (next id {})",
                self.len()
            ),
        }
    }
}

impl<T> IndexMut<usize> for Slots<T> {
    #[inline]
    fn index_mut(&mut self, id: usize) -> &mut T {
        let next = self.len();
        match self.get_mut(id) {
            Some(v) => v,
            None => panic!("slot {id} released or never handed out (next id {next})"),
        }
    }
}

/// Optional `Copy` values by dense id, held only over the span from the lowest id set to the
/// highest: a cache that keys by job id and clears a job's entry once it is done (as the
/// pending order does when a PodGroup leaves Pending) holds its live jobs' span, not an entry
/// for every job the run ever saw.
#[derive(Debug, Clone)]
pub struct IdWindow<T> {
    /// Id of `v[0]`.
    base: usize,
    /// Entries from `base`; never starts or ends with `None`.
    v: VecDeque<Option<T>>,
}

impl<T> Default for IdWindow<T> {
    fn default() -> Self {
        IdWindow {
            base: 0,
            v: VecDeque::new(),
        }
    }
}

impl<T: Copy> IdWindow<T> {
    /// The value of `id`, if set.
    #[inline]
    pub fn get(&self, id: usize) -> Option<T> {
        self.v.get(id.checked_sub(self.base)?).copied().flatten()
    }

    /// Sets `id`'s value, widening the span as needed.
    pub fn set(&mut self, id: usize, x: T) {
        if self.v.is_empty() {
            self.base = id;
        }
        while id < self.base {
            self.v.push_front(None);
            self.base -= 1;
        }
        let k = id - self.base;
        if k >= self.v.len() {
            self.v.resize(k + 1, None);
        }
        self.v[k] = Some(x);
    }

    /// Clears `id` (no-op when unset); the span shrinks to the ids still set, and the room
    /// behind it is given back once it is mostly unused.
    pub fn clear(&mut self, id: usize) {
        let Some(slot) = id.checked_sub(self.base).and_then(|k| self.v.get_mut(k)) else {
            return;
        };
        *slot = None;
        while self.v.front().is_some_and(Option::is_none) {
            self.v.pop_front();
            self.base += 1;
        }
        while self.v.back().is_some_and(Option::is_none) {
            self.v.pop_back();
        }
        if self.v.capacity() > 1024 && self.v.len() * 4 < self.v.capacity() {
            self.v.shrink_to(self.v.len() * 2);
        }
    }

    /// How many ids the span covers (set or not).
    pub fn span(&self) -> usize {
        self.v.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_window_holds_the_span_of_the_ids_set() {
        let mut w = IdWindow::default();
        assert_eq!(w.get(0), None);
        for i in 100..5000usize {
            w.set(i, i * 2);
        }
        w.set(40, 1);
        assert_eq!(
            (w.get(40), w.get(41), w.get(4999)),
            (Some(1), None, Some(9998))
        );
        assert_eq!(w.span(), 4960);
        w.clear(40);
        for i in 100..4990 {
            w.clear(i);
        }
        assert_eq!(w.span(), 10);
        assert_eq!(
            (w.get(4989), w.get(4990), w.get(5000)),
            (None, Some(9980), None)
        );
        assert!(w.v.capacity() <= 4 * 1024);
        w.clear(7);
        for i in 4990..5000 {
            w.clear(i);
        }
        assert_eq!(w.span(), 0);
        w.set(3, 9);
        assert_eq!((w.get(3), w.span()), (Some(9), 1));
    }

    #[test]
    fn ids_are_dense_never_reused_and_released_slots_are_gone() {
        let mut s = Slots::default();
        for i in 0..3000u32 {
            assert_eq!(s.push(i), i as usize);
        }
        for i in (0..2500).filter(|i| i % 7 != 3) {
            s.release(i);
        }
        assert_eq!(s.len(), 3000);
        assert_eq!(s.get(11), None);
        assert_eq!(s[3], 3);
        assert_eq!(s[2999], 2999);
        assert_eq!(s.push(7), 3000);
        // Releasing the holdouts lets the front be trimmed; ids keep their meaning.
        for i in (0..2500).filter(|i| i % 7 == 3) {
            s.release(i);
        }
        assert!(s.base >= TRIM_MIN, "front trimmed: base {}", s.base);
        assert_eq!(s.held(), 501);
        assert_eq!(s[2600], 2600);
        let ids: Vec<usize> = s.iter().map(|(i, _)| i).take(2).collect();
        assert_eq!(ids, [2500, 2501]);
        assert!(!s.contains(5) && s.contains(3000));
        s[2600] += 1;
        assert_eq!(s[2600], 2601);
    }

    #[test]
    #[should_panic(expected = "released")]
    fn reading_a_released_slot_panics() {
        let mut s = Slots::default();
        s.push(1u8);
        s.release(0);
        let _ = s[0];
    }
}
