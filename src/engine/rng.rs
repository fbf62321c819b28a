//! `CycleRng`: the per-cycle tie-breaking RNG. Cycle k of a run with seed s draws from
//! `ChaCha8Rng::seed_from_u64(mix(s, k))`, so whether earlier cycles ran or were skipped never
//! shifts its stream.
//!
//! Depends on `model::hash` and `policy::TieBreak`.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::splitmix;
use crate::policy::TieBreak;

/// The seed of cycle `cycle`'s RNG in a run seeded `seed`.
pub(super) fn mix(seed: u64, cycle: u64) -> u64 {
    splitmix(seed ^ splitmix(cycle))
}

/// The per-cycle tie-breaking RNG.
pub struct CycleRng(ChaCha8Rng);

impl CycleRng {
    pub fn new(seed: u64, cycle: u64) -> CycleRng {
        CycleRng(ChaCha8Rng::seed_from_u64(mix(seed, cycle)))
    }
}

impl TieBreak for CycleRng {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.0.random_range(0..n as u64) as usize
        }
    }
}
