//! `Slots<T>`: the dense id → record storage of the snapshot's jobs and tasks, whose slots can
//! be released once their record will never be read again (a finished PodGroup and its pods),
//! so a long run holds the records of live work, not of every job it ever saw.
//!
//! Depends on nothing. Contract: ids are handed out densely in push order and never reused, so
//! every order keyed by id (`JobId`/`TaskId` tie-breaks, the index's sets) is unaffected by
//! releases. A released slot costs one pointer until the released run at the front is trimmed
//! (then nothing); reading a released id panics (as reading past the end does), so a reader
//! that outlives its record is found by the tests, never silently given another record.

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

#[cfg(test)]
mod tests {
    use super::*;

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
