//! `Tally`: the ledger every importer keeps so that nothing is dropped silently — how many
//! records (rows, files, objects) were read, how many became jobs, and every skip counted by
//! reason with the first few positions named. Also `Strictness`, which turns a skip into an
//! error (`--strict`, scenario `workload.strict`).
//!
//! Depends only on std and `workload::error`.

use std::collections::BTreeMap;
use std::fmt;

use super::error::TraceError;

/// How many skipped positions are kept verbatim; the rest are only counted.
pub const MAX_EXAMPLES: usize = 8;

/// What an importer read, kept and skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    /// Records read (data lines, rows, files or objects, per importer).
    pub read: usize,
    /// Records that became jobs.
    pub imported: usize,
    /// Skip reason → count (sorted by reason, so summaries are deterministic).
    pub skipped: BTreeMap<String, usize>,
    /// `file:line: reason` of the first [`MAX_EXAMPLES`] skips, in reading order.
    pub examples: Vec<String>,
}

impl Tally {
    /// Total skipped records.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Records one skip: `reason` is the short category counted, `at` the position and detail
    /// shown among the first examples (e.g. `wagap.swf:4186: field 4 (run time) …`).
    pub fn skip(&mut self, reason: &str, at: impl FnOnce() -> String) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(at());
        }
    }

    /// Adds another tally (several files of one import).
    pub fn merge(&mut self, other: &Tally) {
        self.read += other.read;
        self.imported += other.imported;
        for (k, v) in &other.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples
            .extend(other.examples.iter().take(room).cloned());
    }

    /// One line per skipped example plus "… and N more", for warnings.
    pub fn example_lines(&self) -> Vec<String> {
        let mut out = self.examples.clone();
        let total = self.skipped_total();
        if total > self.examples.len() {
            out.push(format!(
                "… and {} more skipped (counted by reason above)",
                total - self.examples.len()
            ));
        }
        out
    }
}

/// `read 17900 records, imported 17898, skipped 2 (run time ≤ 0 or unknown: 1, …)`.
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {}, imported {}, skipped {}",
            self.read,
            self.imported,
            self.skipped_total()
        )?;
        if !self.skipped.is_empty() {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// Whether a skipped record is an error (`strict`) or counted and reported (default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Strictness {
    pub strict: bool,
}

impl Strictness {
    /// Skips a record at `file:line`: an error in strict mode, else counted in `tally`.
    pub(crate) fn skip(
        self,
        tally: &mut Tally,
        file: &str,
        line: u64,
        reason: &str,
        detail: impl fmt::Display,
    ) -> Result<(), TraceError> {
        if self.strict {
            let msg = format!("{detail} (strict: a record that would be skipped is an error)");
            return Err(TraceError::record(file, line, msg));
        }
        tally.skip(reason, || format!("{file}:{line}: {detail}"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_reason_and_keeps_the_first_examples() {
        let mut t = Tally {
            read: 12,
            imported: 2,
            ..Tally::default()
        };
        let lax = Strictness::default();
        for i in 0..10u64 {
            let reason = if i % 2 == 0 { "b" } else { "a" };
            lax.skip(&mut t, "x.swf", i + 1, reason, "bad").unwrap();
        }
        assert_eq!(
            t.to_string(),
            "read 12, imported 2, skipped 10 (a: 5, b: 5)"
        );
        assert_eq!(t.examples.len(), MAX_EXAMPLES);
        assert_eq!(t.examples[0], "x.swf:1: bad");
        assert!(t.example_lines().last().unwrap().contains("2 more"));
        let e = Strictness { strict: true }
            .skip(&mut t, "x.swf", 40, "a", "run time -5 is impossible")
            .unwrap_err();
        assert!(e.to_string().starts_with("x.swf:40: run time -5"), "{e}");
    }
}
