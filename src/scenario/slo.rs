//! SLO expressions: `"<queue|class>.<metric> <= <value>"`, e.g. `"interactive.p95_wait <= 2m"`
//! or `"analytics.starved <= 0"`. Parsing only; evaluation lives with the metrics.

use crate::model::parse_duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloMetric {
    P50Wait,
    P95Wait,
    P99Wait,
    MaxWait,
    MeanWait,
    /// Number of starved jobs.
    Starved,
}

impl SloMetric {
    pub fn parse(s: &str) -> Option<SloMetric> {
        Some(match s {
            "p50_wait" => SloMetric::P50Wait,
            "p95_wait" => SloMetric::P95Wait,
            "p99_wait" => SloMetric::P99Wait,
            "max_wait" => SloMetric::MaxWait,
            "mean_wait" => SloMetric::MeanWait,
            "starved" => SloMetric::Starved,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SloMetric::P50Wait => "p50_wait",
            SloMetric::P95Wait => "p95_wait",
            SloMetric::P99Wait => "p99_wait",
            SloMetric::MaxWait => "max_wait",
            SloMetric::MeanWait => "mean_wait",
            SloMetric::Starved => "starved",
        }
    }
    /// Whether the limit is a duration (ms) rather than a count.
    pub fn is_duration(self) -> bool {
        !matches!(self, SloMetric::Starved)
    }
}

/// One SLO: `target` is a queue or workload-class name; `limit` is ms for wait metrics and a
/// count for `starved`.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub target: String,
    pub metric: SloMetric,
    pub limit: u64,
    /// The expression as written.
    pub text: String,
}

/// Parses `"<name>.<metric> <= <value>"`.
pub fn parse_slo(text: &str) -> Result<Slo, String> {
    let bad = |why: &str| {
        format!("invalid SLO {text:?}: {why} (expected \"<queue|class>.<metric> <= <value>\", metric one of p50_wait, p95_wait, p99_wait, max_wait, mean_wait, starved)")
    };
    let (lhs, rhs) = text.split_once("<=").ok_or_else(|| bad("missing <="))?;
    let (target, metric) = lhs
        .trim()
        .rsplit_once('.')
        .ok_or_else(|| bad("missing .<metric>"))?;
    if target.is_empty() {
        return Err(bad("empty target"));
    }
    let metric = SloMetric::parse(metric.trim()).ok_or_else(|| bad("unknown metric"))?;
    let rhs = rhs.trim().trim_matches('"');
    let limit = if metric.is_duration() {
        parse_duration(rhs).map_err(|e| bad(&e))?
    } else {
        rhs.parse::<u64>()
            .map_err(|_| bad("expected a whole number"))?
    };
    Ok(Slo {
        target: target.trim().to_string(),
        metric,
        limit,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let s = parse_slo("interactive.p95_wait <= 2m").unwrap();
        assert_eq!(
            (s.target.as_str(), s.metric, s.limit),
            ("interactive", SloMetric::P95Wait, 120_000)
        );
        let s = parse_slo("session-start.starved <= 0").unwrap();
        assert_eq!(s.limit, 0);
        assert!(parse_slo("interactive.p95 <= 2m").is_err());
        assert!(parse_slo("interactive.p95_wait < 2m").is_err());
        assert!(parse_slo("interactive.p95_wait <= soon").is_err());
    }
}
