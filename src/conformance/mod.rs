//! `volsim conformance`: runs a `volcano-conformance/v1` case file (cases transcribed from
//! Volcano's unit tests) against the policy core and prints `PASS id` / `FAIL id: …` /
//! `SKIP id: …` lines and the closing `N passed, M failed, K skipped`.
//!
//! Depends on `model` and `policy`. The file is data: profiles (tiers with exact enable flags),
//! and cases of kind `session`, `multi_session` or `unit`. An unknown expectation key is a
//! failure, never a skip.

mod build;
mod session_call;
mod session_case;
mod topology;
mod unit;
mod unit_gang;
mod unit_gang_evict;
mod unit_gradient;
mod unit_nta_gradient;
mod unmodelled;
mod value;

use serde_json::Value;

pub use value::CaseError;

/// The result of one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// All results of a file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub results: Vec<(String, Verdict)>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.1 == Verdict::Pass).count()
    }
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.1, Verdict::Fail(_)))
            .count()
    }
    pub fn skipped(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.1, Verdict::Skip(_)))
            .count()
    }
    /// One line per case, then the closing count line.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (id, v) in &self.results {
            match v {
                Verdict::Pass => s += &format!("PASS {id}\n"),
                Verdict::Fail(m) => s += &format!("FAIL {id}: {m}\n"),
                Verdict::Skip(m) => s += &format!("SKIP {id}: {m}\n"),
            }
        }
        s += &format!(
            "{} passed, {} failed, {} skipped\n",
            self.passed(),
            self.failed(),
            self.skipped()
        );
        s
    }
}

/// Parses and runs a whole case file. Errors only for a file that is not a conformance file
/// at all (bad YAML, wrong schema); problems inside one case make that case FAIL.
pub fn run_text(text: &str, file: &str) -> Result<Report, CaseError> {
    // YAML 1.2 booleans only: a node named `n` (hdrf_test.go) is a name, not `false`.
    let opts = serde_saphyr::options! { strict_booleans: true };
    let doc: Value = serde_saphyr::from_str_with_options(text, opts)
        .map_err(|e| CaseError::new(format!("{file}: {e}")))?;
    let schema = doc.get("schema").and_then(|v| v.as_str()).unwrap_or("");
    if schema != "volcano-conformance/v1" {
        return Err(CaseError::new(format!(
            "{file}: field schema: expected \"volcano-conformance/v1\", got {schema:?}"
        )));
    }
    let empty = serde_json::Map::new();
    let profiles = doc
        .get("profiles")
        .and_then(|v| v.as_object())
        .unwrap_or(&empty);
    let cases = doc
        .get("cases")
        .and_then(|v| v.as_array())
        .ok_or_else(|| CaseError::new(format!("{file}: field cases: expected a list")))?;
    let mut report = Report::default();
    for (i, case) in cases.iter().enumerate() {
        let id = case
            .get("id")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{i}"));
        let case = topology::expand_fixtures(case, &doc);
        let verdict = run_case(&case, profiles, cases).unwrap_or_else(|e| Verdict::Fail(e.0));
        report.results.push((id, verdict));
    }
    Ok(report)
}

fn run_case(
    case: &Value,
    profiles: &serde_json::Map<String, Value>,
    all: &[Value],
) -> Result<Verdict, CaseError> {
    if let Some(why) = unmodelled::reason(case) {
        return Ok(Verdict::Skip(why));
    }
    let kind = case.get("kind").and_then(|v| v.as_str()).unwrap_or("");
    match kind {
        "session" | "multi_session" => session_case::run(case, profiles),
        "session_call" => session_call::run(case),
        "unit" if unit_gradient::handles(case) => unit_gradient::run(case),
        "unit"
            if unit_gang::CALLS.iter().any(|c| {
                case.get("call")
                    .and_then(|v| v.as_str())
                    .is_some_and(|x| x.starts_with(c))
            }) =>
        {
            unit_gang::run(case)
        }
        "unit"
            if unit_gang_evict::CALLS.iter().any(|c| {
                case.get("call")
                    .and_then(|v| v.as_str())
                    .is_some_and(|x| x.starts_with(c))
            }) =>
        {
            unit_gang_evict::run(case)
        }
        "unit" => unit::run(case, all),
        other => Err(CaseError::new(format!(
            "unknown case kind {other:?} (expected session, multi_session or unit)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_cases_all_pass() {
        let text = include_str!("../../tests/fixtures/conformance/conformance-cases.yaml");
        let report = super::run_text(text, "conformance-cases.yaml").unwrap();
        let out = report.render();
        assert_eq!(report.failed(), 0, "{out}");
        assert_eq!(report.skipped(), 0, "{out}");
    }
}

#[cfg(test)]
mod limit_tests {
    /// Found by an abuse probe: `cycles: 18446744073709551615` queued that many sessions
    /// (memory and time without bound); now the case FAILs naming the field and the limit.
    #[test]
    fn cycles_are_bounded() {
        let text = include_str!("../../tests/fixtures/conformance/quirks.yaml");
        let first = "  - id: quirk-2147-builtin-conf-drf-picks-victims\n";
        assert!(text.contains(first));
        let text = text.replacen(
            first,
            &format!("{first}    cycles: 18446744073709551615\n"),
            1,
        );
        let report = super::run_text(&text, "quirks.yaml").unwrap();
        let out = report.render();
        assert_eq!(report.failed(), 1, "{out}");
        assert!(
            out.contains("cycles: 18446744073709551615: expected 1..=1000"),
            "{out}"
        );
    }
}

#[cfg(test)]
mod quirk_tests {
    /// Known Volcano quirks (#2147, #5963, #5896, #2627, nomination, no head-of-line blocking,
    /// overcommit double-counting Inqueue jobs — notes §3 #16)
    /// reproduced as conformance cases.
    #[test]
    fn volcano_quirks_are_reproduced() {
        let text = include_str!("../../tests/fixtures/conformance/quirks.yaml");
        let report = super::run_text(text, "quirks.yaml").unwrap();
        assert_eq!(report.failed(), 0, "{}", report.render());
        assert_eq!(report.passed(), report.results.len());
    }

    /// More cases transcribed from Volcano's unit-test tables (enqueue, allocate, preempt,
    /// reclaim, capacity, proportion, gang, PodGroup phase, tier walk, overcommit, sla).
    #[test]
    fn more_volcano_cases_pass() {
        let text = include_str!("../../tests/fixtures/conformance/volcano-more-cases.yaml");
        let report = super::run_text(text, "volcano-more-cases.yaml").unwrap();
        assert_eq!(report.failed(), 0, "{}", report.render());
        assert_eq!(report.skipped(), 0, "{}", report.render());
    }

    /// Volcano v1.15.0 cases (gang eviction, network topology, hierarchical drf, ancestor
    /// reclaim): none fails; each skip names the construct volsim leaves out.
    #[test]
    fn v115_cases_pass_or_skip_with_a_reason() {
        let text = include_str!("../../tests/fixtures/conformance/v1.15-cases.yaml");
        let report = super::run_text(text, "v1.15-cases.yaml").unwrap();
        let out = report.render();
        assert_eq!(report.results.len(), 83, "{out}");
        assert_eq!(report.failed(), 0, "{out}");
        for (id, v) in &report.results {
            if let super::Verdict::Skip(why) = v {
                assert!(why.contains("not modelled"), "{id}: {why}");
            }
        }
        assert!(report.passed() >= MIN_V115_PASSED, "{out}");
    }

    /// The v1.15 gang eviction actions (gangpreempt / gangreclaim) and the semantics §7
    /// quirks that concern them, volsim's own derived cases.
    #[test]
    fn v115_gang_eviction_quirks_are_reproduced() {
        let text = include_str!("../../tests/fixtures/conformance/v1.15-quirks.yaml");
        let report = super::run_text(text, "v1.15-quirks.yaml").unwrap();
        assert_eq!(report.failed(), 0, "{}", report.render());
        assert_eq!(report.passed(), report.results.len(), "{}", report.render());
    }

    /// Hierarchical drf, volsim's own derived cases.
    #[test]
    fn hdrf_cases_pass() {
        let text = include_str!("../../tests/fixtures/conformance/hdrf.yaml");
        let report = super::run_text(text, "hdrf.yaml").unwrap();
        assert_eq!(report.failed(), 0, "{}", report.render());
        assert_eq!(report.passed(), report.results.len(), "{}", report.render());
    }

    /// Cases of `v1.15-cases.yaml` that must pass (raised as features land).
    const MIN_V115_PASSED: usize = 74;

    /// Hierarchical capacity cases transcribed from Volcano's capacity_test.go.
    #[test]
    fn capacity_hierarchy_cases_pass() {
        let text = include_str!("../../tests/fixtures/conformance/capacity-hierarchy.yaml");
        let report = super::run_text(text, "capacity-hierarchy.yaml").unwrap();
        assert_eq!(report.failed(), 0, "{}", report.render());
    }
}
