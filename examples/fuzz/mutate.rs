//! The seeded, deterministic mutator of the fuzz harness: a splitmix64 RNG and stacked
//! mutations of one seed — bit flips, byte sets, range deletes and copies, splices from other
//! seeds, and token-aware rewrites (huge and odd numbers with units, odd strings, deep nesting,
//! emptied values, repeated lines).
//!
//! Depends on nothing but std. Same seed list + same RNG seed → the same inputs, in the same
//! order, on every machine. Every input stays within `MAX_INPUT` bytes.

/// Largest input the mutator produces (the seeds are at most ~150 KB).
pub const MAX_INPUT: usize = 1 << 20;

/// splitmix64: small, fast, and value-stable (no crate version can change the sequence).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Numbers that break parsers: integer type edges, float edges, overflow, odd spellings.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "255",
    "256",
    "65536",
    "4294967295",
    "4294967296",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "1.7976931348623157e308",
    "5e-324",
    "0.000000000000000000001",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "+inf",
    "1e99999",
    "0x7fffffffffffffff",
    "0o777",
    "0b1",
    "1_000",
    "007",
    ".5",
    "5.",
    "1.",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999",
    "1.5",
    "-0.0",
    "1e3",
    "1E18",
    "2.5e-3",
];
/// Unit suffixes of durations and quantities (appended to numbers now and then).
const UNITS: &[&str] = &[
    "h", "m", "s", "ms", "us", "µs", "ns", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T",
    "P", "E", "e3", "E18", "d", "h1m", "sx",
];
/// Strings that break parsers or what is done with their values.
const STRINGS: &[&str] = &[
    "",
    " ",
    "é",
    "😀",
    "\u{202e}",
    "\u{0}",
    "\u{feff}",
    "\t",
    "\r\n",
    "\\",
    "\\u0000",
    "\\ud800",
    "\"",
    "'",
    "${x}",
    "*",
    "?",
    "../../../../etc/passwd",
    "/dev/zero",
    "-",
    ".",
    "a.b.c",
    "NO",
    "yes",
    "~",
    "null",
    "true",
    "[]",
    "{}",
    "!!binary",
    "&a",
    "*a",
    "0",
    "-1",
    "2562047h47m16.854775808s",
    "99999999999Gi",
    "1e400",
    "root",
    "default",
];
/// Structural tokens of TOML, YAML, JSON and CSV.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    ",",
    ":",
    "=",
    "\n",
    "#",
    "---\n",
    "- ",
    ": ",
    " = ",
    "[[",
    "]]",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "? ",
    "|\n",
    ">\n",
    "\t",
    "\\",
    "\u{0}",
    "\r",
    "\n...\n",
    "%YAML 1.2\n",
    "!!map ",
    "\"\"\"",
    "'''",
    ";",
    "|",
];
/// Openers repeated to build deep nesting.
const NESTS: &[&str] = &[
    "[", "{\"a\":", "- ", "{a: ", "a = [", "[a.", "{a={", "((", "- [", "a:\n  ",
];

/// Returns a mutation of one of `seeds` (1–4 stacked mutations) and the index of the seed it
/// started from. `seeds` must not be empty.
pub fn mutate(seeds: &[Vec<u8>], rng: &mut Rng) -> (Vec<u8>, usize) {
    let base = rng.below(seeds.len());
    let mut buf = seeds[base].clone();
    let n = 1 + (rng.next_u64().trailing_zeros() as usize).min(3);
    for _ in 0..n {
        mutate_once(&mut buf, seeds, rng);
    }
    buf.truncate(MAX_INPUT);
    (buf, base)
}

fn mutate_once(buf: &mut Vec<u8>, seeds: &[Vec<u8>], rng: &mut Rng) {
    let len = buf.len();
    match rng.below(13) {
        0 if len > 0 => {
            let i = rng.below(len);
            buf[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            buf[i] = *rng.pick(&[0u8, 0xff, 0x7f, 0x80, b'"', b'\n', b'0', b'9', b'-', b' ']);
        }
        2 if len > 0 => {
            let (a, b) = range(len, rng);
            buf.drain(a..b);
        }
        3 if len > 0 => {
            let (a, b) = range(len, rng);
            let chunk = buf[a..b].to_vec();
            let at = rng.below(len + 1);
            insert(buf, at, &chunk);
        }
        4 => {
            let other = rng.pick(seeds);
            if !other.is_empty() {
                let (a, b) = range(other.len(), rng);
                let at = rng.below(len + 1);
                if rng.below(2) == 0 || len == 0 {
                    insert(buf, at, &other[a..b]);
                } else {
                    let end = (at + (b - a)).min(len);
                    buf.splice(at..end, other[a..b].iter().copied());
                }
            }
        }
        5 => replace_number(buf, rng),
        6 => replace_string(buf, rng),
        7 => {
            let at = rng.below(len + 1);
            insert(buf, at, rng.pick(TOKENS).as_bytes());
        }
        8 => {
            let nest = rng.pick(NESTS).as_bytes();
            let times = *rng.pick(&[8usize, 64, 129, 300, 1000, 20_000]);
            let mut deep = Vec::with_capacity(nest.len() * times);
            for _ in 0..times {
                deep.extend_from_slice(nest);
            }
            let at = rng.below(len + 1);
            insert(buf, at, &deep);
        }
        9 => empty_value(buf, rng),
        10 => repeat_line(buf, rng),
        11 if len > 0 => {
            let (a, b) = line_at(buf, rng.below(len));
            buf.drain(a..b);
        }
        _ => {
            // an interesting number at a random place (with a unit now and then)
            let at = rng.below(len + 1);
            let mut s = (*rng.pick(NUMBERS)).to_string();
            if rng.below(2) == 0 {
                let unit: &&str = rng.pick(UNITS);
                s.push_str(unit);
            }
            insert(buf, at, s.as_bytes());
        }
    }
}

fn insert(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if buf.len() + bytes.len() <= MAX_INPUT {
        buf.splice(at..at, bytes.iter().copied());
    }
}

/// A random range: mostly short, sometimes up to a quarter of the input.
fn range(len: usize, rng: &mut Rng) -> (usize, usize) {
    let a = rng.below(len);
    let max = if rng.below(4) == 0 { len / 4 + 1 } else { 16 };
    let b = (a + 1 + rng.below(max)).min(len);
    (a, b)
}

/// The line (with its newline) containing byte `i`.
fn line_at(buf: &[u8], i: usize) -> (usize, usize) {
    let a = buf[..i]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |p| p + 1);
    let b = buf[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(buf.len(), |p| i + p + 1);
    (a, b)
}

/// Replaces one run of digits (with its sign, point and unit) by an interesting number.
fn replace_number(buf: &mut Vec<u8>, rng: &mut Rng) {
    let starts: Vec<usize> = (0..buf.len())
        .filter(|&i| buf[i].is_ascii_digit() && (i == 0 || !buf[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let a = *rng.pick(&starts);
    let mut b = a;
    while b < buf.len() && (buf[b].is_ascii_alphanumeric() || buf[b] == b'.') {
        b += 1;
    }
    let mut s = (*rng.pick(NUMBERS)).to_string();
    if rng.below(3) == 0 {
        let unit: &&str = rng.pick(UNITS);
        s.push_str(unit);
    }
    buf.splice(a..b, s.bytes());
}

/// Replaces the content of one quoted string by an odd or very long string.
fn replace_string(buf: &mut Vec<u8>, rng: &mut Rng) {
    let quotes: Vec<usize> = (0..buf.len()).filter(|&i| buf[i] == b'"').collect();
    if quotes.len() < 2 {
        return;
    }
    let k = rng.below(quotes.len() - 1);
    let (a, b) = (quotes[k] + 1, quotes[k + 1]);
    let s = if rng.below(4) == 0 {
        let unit = rng.pick(STRINGS);
        let unit = if unit.is_empty() { "x" } else { unit };
        unit.repeat(*rng.pick(&[100usize, 5000, 70_000]) / unit.len().max(1))
    } else {
        rng.pick(STRINGS).to_string()
    };
    if buf.len() + s.len() <= MAX_INPUT {
        buf.splice(a..b, s.bytes());
    }
}

/// Drops what follows one `=` or `:` up to the end of its line.
fn empty_value(buf: &mut Vec<u8>, rng: &mut Rng) {
    let seps: Vec<usize> = (0..buf.len())
        .filter(|&i| buf[i] == b'=' || buf[i] == b':')
        .collect();
    if seps.is_empty() {
        return;
    }
    let a = *rng.pick(&seps) + 1;
    let b = buf[a..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(buf.len(), |p| a + p);
    buf.drain(a..b);
}

/// Repeats one line many times (long arrays, many documents, many rows).
fn repeat_line(buf: &mut Vec<u8>, rng: &mut Rng) {
    if buf.is_empty() {
        return;
    }
    let (a, b) = line_at(buf, rng.below(buf.len()));
    let mut line = buf[a..b].to_vec();
    if !line.ends_with(b"\n") {
        line.push(b'\n');
    }
    let times = *rng.pick(&[2usize, 10, 1000, 20_000]);
    let room = MAX_INPUT.saturating_sub(buf.len()) / line.len().max(1);
    let mut rep = Vec::new();
    for _ in 0..times.min(room) {
        rep.extend_from_slice(&line);
    }
    buf.splice(b..b, rep);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_inputs() {
        let seeds = vec![b"a = 1\nb = \"x\"\n".to_vec(), b"{\"k\": [1, 2]}".to_vec()];
        let run = |s| {
            let mut rng = Rng::new(s);
            (0..200)
                .map(|_| mutate(&seeds, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().all(|(b, _)| b.len() <= MAX_INPUT));
    }
}
