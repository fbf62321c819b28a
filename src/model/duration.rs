//! Simulated time (`SimTime`, integer milliseconds) and Go-style duration strings
//! (`"90s"`, `"2m"`, `"1h30m"`, `"250ms"`, `"1.5s"`), as Volcano's `sla-waiting-time` and our
//! scenario files write them. Depends on nothing.

use std::fmt;

/// A point in simulated time or a span, in integer milliseconds. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * 1000)
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Largest duration accepted, ns: Go's `time.Duration` range (`i64::MAX` ns, about 292 years).
pub const MAX_DURATION_NS: u128 = i64::MAX as u128;

/// Parses a Go duration (`time.ParseDuration` units ns, us, µs, ms, s, m, h; a sequence such as
/// `1h30m`; decimals such as `1.5s`) into whole milliseconds (rounded up). A bare number is
/// rejected: units are required, as in Go. Like Go, anything over `MAX_DURATION_NS` (about
/// 292 years) is an error, never a wrapped value.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let bad =
        |why: &str| format!("invalid duration {s:?}: {why} (expected e.g. 90s, 2m, 1h30m, 250ms)");
    if t.is_empty() {
        return Err(bad("empty"));
    }
    if t == "0" {
        return Ok(0);
    }
    let mut rest = t;
    let mut total_ns: u128 = 0;
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| bad("missing unit"))?;
        if n_end == 0 {
            return Err(bad("expected a number"));
        }
        let (num, after) = rest.split_at(n_end);
        let u_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(u_end);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(bad("unknown unit")),
        };
        let (i, f) = num.split_once('.').unwrap_or((num, ""));
        if f.contains('.') || (i.is_empty() && f.is_empty()) {
            return Err(bad("bad number"));
        }
        let ip: u128 = if i.is_empty() {
            0
        } else {
            i.parse().map_err(|_| bad("bad number"))?
        };
        let too_large =
            || bad("larger than the maximum duration (2562047h47m16.854775807s, about 292 years)");
        let mut v = ip.checked_mul(unit_ns).ok_or_else(too_large)?;
        if !f.is_empty() {
            let f = &f[..f.len().min(18)];
            let fp: u128 = f.parse().map_err(|_| bad("bad number"))?;
            v = v
                .checked_add(fp * unit_ns / 10u128.pow(f.len() as u32))
                .ok_or_else(too_large)?;
        }
        total_ns = total_ns.checked_add(v).ok_or_else(too_large)?;
        if total_ns > MAX_DURATION_NS {
            return Err(too_large());
        }
        rest = next;
    }
    let ms = total_ns.div_ceil(1_000_000);
    u64::try_from(ms).map_err(|_| bad("too large"))
}

/// Formats milliseconds compactly and losslessly: `0s`, `250ms`, `84s`, `2m5s`, `1h2m3.5s`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let h = ms / 3_600_000;
    let m = (ms / 60_000) % 60;
    let s = (ms / 1000) % 60;
    let frac = ms % 1000;
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || frac > 0 {
        if frac > 0 {
            let f = format!("{frac:03}");
            out += &format!("{s}.{}s", f.trim_end_matches('0'));
        } else {
            out += &format!("{s}s");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        for s in [
            "340282366920938463463374607431768211.999us",
            "340282366920938463463374607431768211455ns",
            "2562048h",
            "9223372036.854775808s",
        ] {
            let e = parse_duration(s).unwrap_err();
            assert!(e.contains("maximum duration"), "{s}: {e}");
        }
        assert_eq!(parse_duration("2562047h").unwrap(), 2_562_047 * 3_600_000);
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("3m"), Ok(180_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1.5s"), Ok(1500));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("0.100s"), Ok(100));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0, 1, 999, 1000, 84_000, 125_000, 3_723_500, 86_400_000] {
            assert_eq!(parse_duration(&format_duration(ms)), Ok(ms), "{ms}");
        }
    }
}
