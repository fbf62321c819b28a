//! JUnit XML of one check (`volsim check --junit FILE`), for CI systems that show test reports
//! (GitLab, Jenkins, GitHub test-reporter actions): one `<testsuite>` for the pinned metrics
//! (one `<testcase>` per metric, `<failure>` when it regressed or went missing) and one for the
//! scenario's SLOs (one `<testcase>` per SLO, `<failure>` when it is not met). The layout is the
//! common subset those readers accept: `testsuites > testsuite > testcase > failure`, counts on
//! every suite, UTF-8, all text escaped.
//!
//! Depends on `check` (diffs) and `report` (SLO verdicts). No I/O.

use std::fmt::Write as _;

use super::{CheckRun, Status};
use crate::report::slo::{slo_column, slo_limit};

/// Escapes `s` for XML text and attribute values; characters XML 1.0 forbids (control
/// characters other than tab, newline, carriage return) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One test case: its name and, when it failed, (type, message).
struct Case {
    name: String,
    failure: Option<(&'static str, String)>,
}

fn suite(out: &mut String, name: &str, classname: &str, cases: &[Case]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"0\">",
        escape(name),
        cases.len()
    );
    for c in cases {
        let head = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            escape(classname),
            escape(&c.name)
        );
        match &c.failure {
            None => {
                let _ = writeln!(out, "{head}/>");
            }
            Some((kind, msg)) => {
                let _ = writeln!(
                    out,
                    "{head}>\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                    escape(msg),
                    escape(msg)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "missing".into(), |v| format!("{v:.3}"))
}

/// Renders the JUnit document of a check.
pub fn render(c: &CheckRun) -> String {
    let metrics: Vec<Case> = c
        .diffs
        .iter()
        .map(|d| Case {
            name: d.metric.clone(),
            failure: match d.status {
                Status::Ok | Status::Improved => None,
                s => Some((
                    s.as_str(),
                    format!(
                        "{}: baseline {:.3}, actual {}, tolerance ±{:.3} ({})",
                        d.metric,
                        d.baseline,
                        num(d.actual),
                        d.tolerance,
                        s.as_str()
                    ),
                )),
            },
        })
        .collect();
    let slos: Vec<Case> = c
        .report
        .slos
        .iter()
        .map(|v| Case {
            name: v.slo.text.clone(),
            failure: (!v.pass).then(|| {
                (
                    "slo",
                    format!(
                        "{}: {} = {}, limit {} ({} {})",
                        v.slo.text,
                        slo_column(&v.slo),
                        num(v.column_value()),
                        slo_limit(&v.slo),
                        v.scope.as_str(),
                        v.slo.target
                    ),
                )
            }),
        })
        .collect();
    let total = metrics.len() + slos.len();
    let failures = metrics
        .iter()
        .chain(&slos)
        .filter(|c| c.failure.is_some())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"volsim check {}\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" time=\"0\">",
        escape(c.scenario)
    );
    suite(
        &mut out,
        &format!("{} vs {}: metrics", c.scenario, c.baseline_path),
        "volsim.check.metrics",
        &metrics,
    );
    suite(
        &mut out,
        &format!("{}: slo", c.scenario),
        "volsim.check.slo",
        &slos,
    );
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\n"
        );
    }
}
