//! Kubernetes quantity parsing (`500m`, `2`, `1.5Gi`, `512Mi`, `1G`, `1e3`, `+.5`) into exact
//! integers in a requested unit.
//!
//! Mirrors k8s.io/apimachinery `resource.Quantity`: decimal SI suffixes (n u m k M G T P E),
//! binary suffixes (Ki … Ei) and decimal exponents (`e3`/`E3`). Values are rounded **up** to the
//! target unit, as Kubernetes does for `MilliValue()` / `Value()`. No I/O, no floats.

use std::fmt;

/// Why a quantity string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError {
    pub input: String,
    pub reason: &'static str,
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid quantity {:?}: {} (expected a Kubernetes quantity such as 500m, 2, 1.5Gi, 512Mi, 1G or 1e3)",
            self.input, self.reason
        )
    }
}

impl std::error::Error for QuantityError {}

/// Parses `s` and returns `ceil(value × scale)`, where `scale` is the number of target units
/// per whole unit (1000 for milli-units, 1 for bytes or counts).
///
/// Errors on empty input, garbage, unknown suffixes, negative values and values that do not
/// fit in an `i64` after scaling.
pub fn parse_quantity(s: &str, scale: i64) -> Result<i64, QuantityError> {
    let err = |reason| QuantityError {
        input: s.to_string(),
        reason,
    };
    let t = s.trim();
    if t.is_empty() {
        return Err(err("empty"));
    }
    let (negative, body) = match t.as_bytes()[0] {
        b'+' => (false, &t[1..]),
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    // Split number and suffix.
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    if num.is_empty() || num == "." {
        return Err(err("no digits"));
    }
    if num.matches('.').count() > 1 {
        return Err(err("more than one decimal point"));
    }
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    // mantissa = int_part frac_part as an integer; value = mantissa × 10^(-len(frac)).
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(err("too many digits"));
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| err("bad digits"))?
    };
    let mut exp10: i32 = -(frac_part.len() as i32);
    let mut exp2: u32 = 0;
    match suffix {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => exp2 = 10,
        "Mi" => exp2 = 20,
        "Gi" => exp2 = 30,
        "Ti" => exp2 = 40,
        "Pi" => exp2 = 50,
        "Ei" => exp2 = 60,
        _ => {
            let rest = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))
                .ok_or_else(|| err("unknown suffix"))?;
            let e: i32 = rest.parse().map_err(|_| err("bad exponent"))?;
            if !(-40..=40).contains(&e) {
                return Err(err("exponent out of range"));
            }
            exp10 += e;
        }
    }
    if negative && mantissa != 0 {
        return Err(err("negative quantities are not allowed here"));
    }
    // value × scale = mantissa × 2^exp2 × scale × 10^exp10, rounded up.
    let too_big = || err("value too large");
    let mut num: i128 = mantissa
        .checked_mul(1i128.checked_shl(exp2).ok_or_else(too_big)?)
        .ok_or_else(too_big)?
        .checked_mul(scale as i128)
        .ok_or_else(too_big)?;
    let mut den: i128 = 1;
    if exp10 >= 0 {
        num = num
            .checked_mul(10i128.checked_pow(exp10 as u32).ok_or_else(too_big)?)
            .ok_or_else(too_big)?;
    } else {
        den = 10i128.checked_pow((-exp10) as u32).ok_or_else(too_big)?;
    }
    let v = (num + den - 1) / den;
    i64::try_from(v).map_err(|_| too_big())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_forms() {
        assert_eq!(parse_quantity("500m", 1000), Ok(500));
        assert_eq!(parse_quantity("2", 1000), Ok(2000));
        assert_eq!(parse_quantity("1.5", 1000), Ok(1500));
        assert_eq!(parse_quantity("0.1", 1000), Ok(100));
        assert_eq!(parse_quantity("2000m", 1000), Ok(2000));
        assert_eq!(parse_quantity("1e3", 1000), Ok(1_000_000));
        assert_eq!(parse_quantity("+.5", 1000), Ok(500));
        assert_eq!(parse_quantity("100u", 1000), Ok(1)); // rounds up
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_quantity("1Gi", 1), Ok(1 << 30));
        assert_eq!(parse_quantity("1.5Gi", 1), Ok(3 << 29));
        assert_eq!(parse_quantity("512Mi", 1), Ok(512 << 20));
        assert_eq!(parse_quantity("1G", 1), Ok(1_000_000_000));
        assert_eq!(parse_quantity("0.5G", 1), Ok(500_000_000));
        assert_eq!(parse_quantity("0G", 1), Ok(0));
        assert_eq!(parse_quantity("128974848", 1), Ok(128_974_848));
        assert_eq!(parse_quantity("129e6", 1), Ok(129_000_000));
        assert_eq!(parse_quantity("123Mi", 1), Ok(123 << 20));
    }

    #[test]
    fn garbage_is_rejected_with_reason() {
        for bad in [
            "",
            "abc",
            "1.2.3",
            "5Qi",
            "1e",
            "-1",
            "1ee3",
            ".",
            "1 Gi",
            "99999999999999999999999Ei",
        ] {
            let e = parse_quantity(bad, 1).unwrap_err();
            assert!(e.to_string().contains("invalid quantity"), "{bad}: {e}");
        }
    }
}
