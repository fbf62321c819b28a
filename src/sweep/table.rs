//! The sweep results table: typed columns, CSV (csv crate) and Parquet (polars, kept behind this
//! one file because its API breaks every minor release). CSV is the lossless interchange between
//! shards: f64 cells are written with Rust's shortest round-trip formatting and read back with
//! the exact parser, so `merge` rebuilds bit-identical values. NaN and missing cells are empty in
//! CSV and null in Parquet.
//!
//! Parquet is written for old readers too: polars stores string columns as Arrow string views,
//! which the embedded Arrow schema (`ARROW:schema`) would announce and pyarrow < 15 refuses
//! ("Unrecognized type: 24"). The pages are plain `BYTE_ARRAY`/UTF8 either way, so the file
//! carries the schema at polars' oldest compatibility level instead (`large_utf8`): every
//! pyarrow ≥ 12, polars and pandas read it (`.ci/steps/parquet_compat.sh` checks pyarrow 14).
//!
//! Depends on nothing in the crate.

use std::fmt;
use std::path::Path;

#[cfg(feature = "parquet")]
use polars::prelude::{
    Column as PlColumn, CompatLevel, DataFrame, KeyValueMetadata, ParquetWriter, SchemaExt,
};

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<Option<f64>>),
    Str(Vec<String>),
}

/// The kinds of `Values`, for readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    U64,
    I64,
    F64,
    Str,
}

impl Values {
    pub fn empty(kind: Kind) -> Values {
        match kind {
            Kind::U64 => Values::U64(Vec::new()),
            Kind::I64 => Values::I64(Vec::new()),
            Kind::F64 => Values::F64(Vec::new()),
            Kind::Str => Values::Str(Vec::new()),
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Values::U64(v) => v.len(),
            Values::I64(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Str(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Cell `i` as CSV text.
    pub fn cell(&self, i: usize) -> String {
        match self {
            Values::U64(v) => v[i].to_string(),
            Values::I64(v) => v[i].to_string(),
            Values::F64(v) => v[i]
                .filter(|x| !x.is_nan())
                .map(|x| x.to_string())
                .unwrap_or_default(),
            Values::Str(v) => v[i].clone(),
        }
    }
    /// Cell `i` as a number (None for text or empty).
    pub fn num(&self, i: usize) -> Option<f64> {
        match self {
            Values::U64(v) => Some(v[i] as f64),
            Values::I64(v) => Some(v[i] as f64),
            Values::F64(v) => v[i],
            Values::Str(v) => v[i].parse().ok(),
        }
    }
    fn push_text(&mut self, s: &str) -> Result<(), String> {
        match self {
            Values::U64(v) => v.push(
                s.parse()
                    .map_err(|_| format!("{s:?} is not an unsigned integer"))?,
            ),
            Values::I64(v) => v.push(s.parse().map_err(|_| format!("{s:?} is not an integer"))?),
            Values::F64(v) => v.push(if s.is_empty() {
                None
            } else {
                Some(s.parse().map_err(|_| format!("{s:?} is not a number"))?)
            }),
            Values::Str(v) => v.push(s.to_string()),
        }
        Ok(())
    }
}

/// A named, typed column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
}

/// A table that could not be read or written.
#[derive(Debug)]
pub struct TableError(pub String);

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TableError {}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Writes CSV with a header row.
    pub fn write_csv(&self, path: &Path) -> Result<(), TableError> {
        let e = |x: &dyn fmt::Display| TableError(format!("{}: {x}", path.display()));
        let mut w = csv::Writer::from_path(path).map_err(|x| e(&x))?;
        w.write_record(self.columns.iter().map(|c| c.name.as_str()))
            .map_err(|x| e(&x))?;
        for i in 0..self.rows() {
            w.write_record(self.columns.iter().map(|c| c.values.cell(i)))
                .map_err(|x| e(&x))?;
        }
        w.flush().map_err(|x| e(&x))
    }

    /// Reads CSV written by `write_csv`; `kind(name)` gives each column's type.
    pub fn read_csv(path: &Path, kind: &dyn Fn(&str) -> Kind) -> Result<Table, TableError> {
        let e = |x: &dyn fmt::Display| TableError(format!("{}: {x}", path.display()));
        let mut r = csv::Reader::from_path(path).map_err(|x| e(&x))?;
        let header = r.headers().map_err(|x| e(&x))?.clone();
        let mut t = Table {
            columns: header
                .iter()
                .map(|n| Column {
                    name: n.to_string(),
                    values: Values::empty(kind(n)),
                })
                .collect(),
        };
        for (line, rec) in r.records().enumerate() {
            let rec = rec.map_err(|x| e(&x))?;
            for (c, s) in t.columns.iter_mut().zip(rec.iter()) {
                c.values.push_text(s).map_err(|m| {
                    TableError(format!(
                        "{}: row {}, column {}: {m}",
                        path.display(),
                        line + 2,
                        c.name
                    ))
                })?;
            }
        }
        Ok(t)
    }

    /// Converts to a polars frame.
    #[cfg(feature = "parquet")]
    pub fn to_polars(&self) -> Result<DataFrame, TableError> {
        let cols: Vec<PlColumn> = self
            .columns
            .iter()
            .map(|c| {
                let n = c.name.as_str().into();
                match &c.values {
                    Values::U64(v) => PlColumn::new(n, v.as_slice()),
                    Values::I64(v) => PlColumn::new(n, v.as_slice()),
                    Values::F64(v) => PlColumn::new(
                        n,
                        v.iter()
                            .map(|x| x.filter(|y| !y.is_nan()))
                            .collect::<Vec<_>>(),
                    ),
                    Values::Str(v) => {
                        PlColumn::new(n, v.iter().map(String::as_str).collect::<Vec<_>>())
                    }
                }
            })
            .collect();
        DataFrame::new(self.rows(), cols)
            .map_err(|e| TableError(format!("building the table: {e}")))
    }

    /// Writes Parquet (zstd, statistics) through polars.
    #[cfg(feature = "parquet")]
    pub fn write_parquet(&self, path: &Path) -> Result<(), TableError> {
        let mut df = self.to_polars()?;
        let f = std::fs::File::create(path)
            .map_err(|e| TableError(format!("{}: {e}", path.display())))?;
        // the Arrow schema at the oldest compatibility level: large_utf8, not string views
        let kv = polars_parquet::arrow::write::schema_to_metadata_key(
            &df.schema().to_arrow(CompatLevel::oldest()),
        );
        let meta = KeyValueMetadata::from_static(vec![(kv.key, kv.value.unwrap_or_default())]);
        ParquetWriter::new(f)
            .with_key_value_metadata(Some(meta))
            .finish(&mut df)
            .map_err(|e| TableError(format!("{}: {e}", path.display())))?;
        Ok(())
    }
}

impl Table {
    /// Without the `parquet` feature (a build for the fuzz harness) Parquet cannot be written:
    /// an error saying so, never a silently missing file.
    #[cfg(not(feature = "parquet"))]
    pub fn write_parquet(&self, path: &Path) -> Result<(), TableError> {
        Err(TableError(format!(
            "{}: this volsim was built without the `parquet` feature",
            path.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_is_exact() {
        let d = tempfile::tempdir().unwrap();
        let t = Table {
            columns: vec![
                Column {
                    name: "point".into(),
                    values: Values::U64(vec![0, 1]),
                },
                Column {
                    name: "x".into(),
                    values: Values::F64(vec![Some(0.1 + 0.2), None]),
                },
                Column {
                    name: "cmd".into(),
                    values: Values::Str(vec!["a, \"b\"".into(), "c".into()]),
                },
            ],
        };
        let p = d.path().join("t.csv");
        t.write_csv(&p).unwrap();
        let kinds = |n: &str| match n {
            "point" => Kind::U64,
            "x" => Kind::F64,
            _ => Kind::Str,
        };
        assert_eq!(Table::read_csv(&p, &kinds).unwrap(), t);
        let pq = d.path().join("t.parquet");
        #[cfg(feature = "parquet")]
        t.write_parquet(&pq).unwrap();
        // A build without the `parquet` feature refuses, naming the file and the feature.
        #[cfg(not(feature = "parquet"))]
        {
            let e = t.write_parquet(&pq).unwrap_err().to_string();
            assert!(
                e.contains("t.parquet") && e.contains("`parquet` feature"),
                "{e}"
            );
        }
    }
}
