//! `Stamp`: a time (ms) that may not have come yet, in 8 bytes where `Option<u64>` takes 16.
//! A run keeps one `JobState` and one `JobRecord` for every job it saw, five of these in each.
//!
//! Part of `model`; depends on nothing. Invariant: the simulated clock (and a live run's
//! epoch milliseconds) never reaches `u64::MAX`, which stands for "not yet".

use std::fmt;

/// A time in ms, or "not yet" ([`Stamp::NOT_YET`], also the default). Reads back as an
/// `Option<u64>` ([`Stamp::get`]) and prints like one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp(u64);

impl Stamp {
    pub const NOT_YET: Stamp = Stamp(u64::MAX);

    /// The time `t` (`t < u64::MAX`).
    pub fn at(t: u64) -> Stamp {
        debug_assert!(t != u64::MAX, "the clock never reaches u64::MAX");
        Stamp(t)
    }

    /// The time, `None` when not yet.
    #[inline]
    pub fn get(self) -> Option<u64> {
        (self != Stamp::NOT_YET).then_some(self.0)
    }

    /// Whether a time is recorded.
    #[inline]
    pub fn is_set(self) -> bool {
        self != Stamp::NOT_YET
    }

    /// Records `t` unless a time is already recorded (the first occurrence counts).
    pub fn set_once(&mut self, t: u64) {
        if *self == Stamp::NOT_YET {
            *self = Stamp::at(t);
        }
    }
}

impl Default for Stamp {
    fn default() -> Self {
        Stamp::NOT_YET
    }
}

impl From<Option<u64>> for Stamp {
    fn from(t: Option<u64>) -> Self {
        t.map_or(Stamp::NOT_YET, Stamp::at)
    }
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_as_the_option_it_stands_for() {
        assert_eq!(std::mem::size_of::<Stamp>(), 8);
        assert_eq!(Stamp::NOT_YET.get(), None);
        assert_eq!(Stamp::default(), Stamp::NOT_YET);
        assert_eq!(Stamp::at(0).get(), Some(0));
        assert!(Stamp::at(0).is_set() && !Stamp::NOT_YET.is_set());
        assert_eq!(Stamp::at(u64::MAX - 1).get(), Some(u64::MAX - 1));
        assert_eq!(Stamp::from(Some(3)).get(), Some(3));
        assert_eq!(Stamp::from(None), Stamp::NOT_YET);
        assert_eq!(
            format!("{:?} {:?}", Stamp::at(4), Stamp::NOT_YET),
            "Some(4) None"
        );
        let mut s = Stamp::NOT_YET;
        s.set_once(7);
        s.set_once(9);
        assert_eq!(s.get(), Some(7));
    }
}
