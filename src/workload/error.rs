//! `TraceError`: the one error type of every workload importer and generator.
//!
//! Depends only on std, `csv`, `thiserror` and `workload::input`. Every variant carries a
//! position a user can act on: `file:line` plus the column / field and the offending value for
//! trace files, the class name and field for synthetic workload classes.

use std::fmt::Display;

/// Why a workload could not be read, generated or written.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened, read or written.
    #[error("{file}: {error}")]
    Io { file: String, error: std::io::Error },
    /// One cell / field holds a bad value, e.g.
    /// `traces/x.csv:17: column replicas: "abc" is not a positive integer`.
    #[error("{file}:{line}: {column}: {value:?} {problem}")]
    Value {
        file: String,
        /// 1-based line number in the file.
        line: u64,
        /// Where in the line: `column replicas` (CSV) or `field 5 (allocated processors)` (SWF).
        column: String,
        value: String,
        /// What is wrong, phrased to follow the value: `is not a positive integer`.
        problem: String,
    },
    /// A whole line (or the header, line 1) is malformed: wrong number of fields, unknown or
    /// missing columns, duplicate ids, inconsistent values across columns.
    #[error("{file}:{line}: {message}")]
    Record {
        file: String,
        line: u64,
        message: String,
    },
    /// A synthetic workload class is invalid (`[[workload.classes]]` in a scenario).
    #[error("workload class {class:?}: {field}: {message}")]
    Class {
        class: String,
        field: String,
        message: String,
    },
    /// A job cannot be represented in the requested output (e.g. a resource the canonical CSV
    /// has no column for).
    #[error("job {job:?}: {message}")]
    Job { job: String, message: String },
}

impl TraceError {
    pub(crate) fn io(file: &str, error: std::io::Error) -> TraceError {
        TraceError::Io {
            file: file.to_string(),
            error,
        }
    }

    pub(crate) fn value(
        file: &str,
        line: u64,
        column: impl Display,
        value: &str,
        problem: impl Display,
    ) -> TraceError {
        TraceError::Value {
            file: file.to_string(),
            line,
            column: column.to_string(),
            value: value.to_string(),
            problem: problem.to_string(),
        }
    }

    pub(crate) fn record(file: &str, line: u64, message: impl Display) -> TraceError {
        TraceError::Record {
            file: file.to_string(),
            line,
            message: message.to_string(),
        }
    }

    pub(crate) fn class(class: &str, field: &str, message: impl Display) -> TraceError {
        TraceError::Class {
            class: class.to_string(),
            field: field.to_string(),
            message: message.to_string(),
        }
    }

    /// Converts a `csv` crate error, keeping its line number.
    pub(crate) fn from_csv(file: &str, e: csv::Error) -> TraceError {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            csv::ErrorKind::Io(error) => TraceError::io(file, error),
            csv::ErrorKind::UnequalLengths {
                expected_len,
                len,
                pos,
            } => TraceError::record(
                file,
                pos.map(|p| p.line()).unwrap_or(line),
                format!("{len} fields, but the header has {expected_len}"),
            ),
            csv::ErrorKind::Utf8 { pos, err } => TraceError::record(
                file,
                pos.map(|p| p.line()).unwrap_or(line),
                format!("invalid UTF-8 in field {}", err.field() + 1),
            ),
            other => TraceError::record(file, line, format!("{other:?}")),
        }
    }
}

/// Opens `path` for reading (gzip decompressed transparently, see `workload::input`), mapping
/// the error to `TraceError::Io`.
pub(crate) fn open(path: &std::path::Path) -> Result<Box<dyn std::io::BufRead>, TraceError> {
    super::input::open_input(path).map_err(|e| TraceError::io(&path.display().to_string(), e))
}

/// Parses a non-negative decimal (`"12"`, `"1.5"`, `"0.0005"`) into `value × 1000`, rounded
/// half up — seconds into milliseconds, whole units into milli-units. No sign, no exponent.
pub(crate) fn parse_milli(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut milli: u64 = 0;
    for (i, b) in frac.bytes().take(4).enumerate() {
        let d = u64::from(b - b'0');
        match i {
            0 => milli += 100 * d,
            1 => milli += 10 * d,
            2 => milli += d,
            _ => milli += u64::from(d >= 5),
        }
    }
    whole.checked_mul(1000)?.checked_add(milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_milli_forms() {
        assert_eq!(parse_milli("12"), Some(12_000));
        assert_eq!(parse_milli("1.5"), Some(1500));
        assert_eq!(parse_milli(".25"), Some(250));
        assert_eq!(parse_milli("0.0005"), Some(1));
        assert_eq!(parse_milli("0.0004"), Some(0));
        assert_eq!(parse_milli("489.00"), Some(489_000));
        for bad in ["", ".", "-1", "1e3", "abc", "1.2.3", " 1"] {
            assert_eq!(parse_milli(bad), None, "{bad}");
        }
    }

    #[test]
    fn value_error_reads_like_a_compiler_message() {
        let e = TraceError::value(
            "traces/x.csv",
            17,
            "column replicas",
            "abc",
            "is not a positive integer",
        );
        assert_eq!(
            e.to_string(),
            r#"traces/x.csv:17: column replicas: "abc" is not a positive integer"#
        );
    }
}
