//! Request keys: a 64-bit digest of a resource request, naming a request shape in memos that
//! are keyed by shape (the allocate no-fit memo, the scoring configuration's fingerprint).
//! Node scores themselves are cached per node class, by exact request
//! (`accel::classes`). Depends on `model` only.

use crate::model::Resources;

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
