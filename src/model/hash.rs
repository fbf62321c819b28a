//! The crate's one set of non-cryptographic hashes: FNV-1a 64 (scenario digests, decision-log
//! hashes, object-name suffixes, cache keys) and the splitmix64 finaliser and sequence (seed
//! derivation, the shared synthetic-trace generator).
//!
//! Depends on nothing. Invariant: the values are part of our outputs (digests, decision-log
//! hashes, object names), so these functions must never change.

use std::fmt;

/// FNV-1a 64 offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64 prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 of `bytes`, continuing from `h` (start with `FNV_OFFSET`).
pub fn fnv1a_from(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a 64 of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(bytes, FNV_OFFSET)
}

/// An FNV-1a 64 hasher over text written through `fmt::Write` (the decision-log hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(FNV_OFFSET)
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.0 = fnv1a_from(b, self.0);
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

impl fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// The splitmix64 finaliser (one step of the sequence from state `z`).
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The splitmix64 sequence (Python's reference `SplitMix64` class of the shared benchmark
/// generator): each `next_u64` advances the state by the golden gamma and finalises it.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        let out = splitmix(self.0);
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    #[test]
    fn fnv_known_vectors() {
        let mut h = Fnv::new();
        assert_eq!(h.0, 0xcbf29ce484222325);
        write!(h, "a").unwrap();
        assert_eq!(h.0, 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_from(b"bc", fnv1a(b"a")), fnv1a(b"abc"));
    }

    #[test]
    fn splitmix_sequence_matches_the_reference() {
        // Reference values of splitmix64 seeded with 0 (Vigna's test vector).
        let mut s = SplitMix64(0);
        assert_eq!(s.next_u64(), 0xe220a8397b1dcdaf);
        assert_eq!(s.next_u64(), 0x6e789e6aa1b965f4);
    }
}
