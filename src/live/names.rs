//! Deterministic object names and small pure helpers: DNS-1123 sanitising, the FNV-1a hash
//! behind name suffixes, and a constant-time comparison for bearer tokens.
//!
//! Depends on nothing. Invariant: `object_name(key)` is a pure function of the key, is a valid
//! DNS-1123 label of at most `MAX_NAME` characters, and two keys that sanitise alike still get
//! different names (the suffix hashes the raw key).

/// Longest object name we generate: pods are `<name>-<task>-<index>` and must stay ≤ 63.
pub const MAX_NAME: usize = 45;

pub use crate::model::fnv1a;

/// Lower-case, keep `[a-z0-9]`, turn every other run into one `-`, trim `-` at both ends.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// `<sanitised key prefix>-<12 hex of fnv1a(key)>`, at most `MAX_NAME` characters, starting
/// with a letter (`j-` is prepended when the key starts with a digit or sanitises to nothing).
pub fn object_name(key: &str) -> String {
    let suffix = format!("{:012x}", fnv1a(key.as_bytes()) & 0xffff_ffff_ffff);
    let mut base = sanitize(key);
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base = if base.is_empty() {
            "j".to_string()
        } else {
            format!("j-{base}")
        };
    }
    let keep = MAX_NAME - suffix.len() - 1;
    base.truncate(keep);
    while base.ends_with('-') {
        base.pop();
    }
    format!("{base}-{suffix}")
}

/// Is `s` a DNS-1123 label (≤ 63, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`)?
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Is `s` a DNS-1123 subdomain (≤ 253, dot-separated labels)?
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_deterministic_valid_and_distinct() {
        let a = object_name("wf-42/Activity#3");
        assert_eq!(a, object_name("wf-42/Activity#3"));
        assert!(is_dns1123_label(&a), "{a}");
        assert!(a.starts_with("wf-42-activity-3-"), "{a}");
        let b = object_name("WF-42 activity 3");
        assert_ne!(a, b, "same sanitised text, different keys");
        for k in ["", "---", "9lives", &"x".repeat(300), "ÄÖÜ"] {
            let n = object_name(k);
            assert!(is_dns1123_label(&n) && n.len() <= MAX_NAME, "{k:?} -> {n}");
        }
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    proptest::proptest! {
        #[test]
        fn any_key_gives_a_valid_stable_name(key in "\\PC{0,300}") {
            let n = object_name(&key);
            proptest::prop_assert!(is_dns1123_label(&n) && n.len() <= MAX_NAME, "{:?} -> {}", key, n);
            proptest::prop_assert_eq!(n, object_name(&key));
        }
    }

    #[test]
    fn dns_rules() {
        assert!(is_dns1123_subdomain("batch.volcano.sh"));
        assert!(!is_dns1123_label("Upper"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
    }
}
