//! Value types of a `[[workload.classes]]` table: Go-duration strings, quantities, the
//! duration distribution, replica counts and gang size, with their serde forms.
//!
//! Depends only on `crate::model`. Values are kept as written (quantities as text) or in
//! integer milliseconds; `super` validates them with the field's unit and names the field.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::model::parse_duration;

/// A Go duration string (`"90s"`, `"3m"`, `"1h30m"`) held as whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationMs(pub u64);

impl<'de> Deserialize<'de> for DurationMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DurationMs, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(DurationMs)
            .map_err(de::Error::custom)
    }
}

/// Run-time distribution of a class's pods (`dist` selects the variant).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DurationDist {
    /// Exponential with the given mean (> 0).
    Exponential { mean: DurationMs },
    /// Log-normal: `median` (> 0) = e^μ, `sigma` (≥ 0) = σ of the underlying normal.
    Lognormal { median: DurationMs, sigma: f64 },
    /// Uniform over whole milliseconds in `[min, max]`.
    Uniform { min: DurationMs, max: DurationMs },
    /// Always `value` (> 0).
    Fixed { value: DurationMs },
}

/// A Kubernetes quantity written as a string (`"500m"`, `"1Gi"`) or a number (`2`, `1.5`),
/// kept as text and parsed with the field's unit during validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity(pub String);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity such as \"500m\", \"1Gi\" or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Pods per job: a number, or `{ min, max }` drawn uniformly per job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Replicas {
    Fixed(u32),
    Range(IntRange),
}

/// An inclusive integer range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntRange {
    pub min: u32,
    pub max: u32,
}

/// Gang size: a number (≤ the smallest replica count) or `"all"` (= replicas, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinMember {
    Count(u32),
    All,
}

impl<'de> Deserialize<'de> for MinMember {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MinMember, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MinMember;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive integer or \"all\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MinMember, E> {
                match v {
                    "all" => Ok(MinMember::All),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MinMember, E> {
                u32::try_from(v)
                    .map(MinMember::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MinMember, E> {
                u32::try_from(v)
                    .map(MinMember::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}
