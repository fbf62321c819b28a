//! The canonical workload file: JSON lines, a header line `{"schema":"volsim-workflows/v1",…}`
//! then one top-level [`Workflow`] per line (children nested in their parent). Format documented
//! in `traces/temporal-format.md`. Read errors name the file and the 1-based line.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Workflow;

/// Schema tag of the header line. Bump the version on incompatible changes.
pub const SCHEMA: &str = "volsim-workflows/v1";

#[derive(Serialize, Deserialize)]
struct Header {
    schema: String,
    #[serde(default)]
    workflows: usize,
    #[serde(default)]
    generator: String,
}

/// An error reading or writing a workload file; `line` is 1-based (0: not line-specific).
#[derive(Debug)]
pub struct JsonlError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for JsonlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

impl std::error::Error for JsonlError {}

/// Writes `workflows` to `path` (created or truncated).
pub fn write_jsonl(path: &Path, workflows: &[Workflow]) -> Result<(), JsonlError> {
    let err = |e: std::io::Error| JsonlError {
        file: path.to_path_buf(),
        line: 0,
        message: e.to_string(),
    };
    let f = File::create(path).map_err(err)?;
    let mut w = BufWriter::new(f);
    write_jsonl_to(&mut w, workflows).map_err(err)?;
    w.flush().map_err(err)
}

/// Writes the header and one line per workflow to `w`. Output is deterministic (struct field
/// order, `BTreeMap`s).
pub fn write_jsonl_to<W: Write>(w: &mut W, workflows: &[Workflow]) -> std::io::Result<()> {
    let header = Header {
        schema: SCHEMA.to_string(),
        workflows: workflows.len(),
        generator: format!("volsim {}", env!("CARGO_PKG_VERSION")),
    };
    serde_json::to_writer(&mut *w, &header)?;
    w.write_all(b"\n")?;
    for wf in workflows {
        serde_json::to_writer(&mut *w, wf)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Reads a workload file written by [`write_jsonl`] (plain or gzip).
pub fn read_jsonl(path: &Path) -> Result<Vec<Workflow>, JsonlError> {
    let f = crate::workload::input::open_input(path).map_err(|e| JsonlError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot open: {e}"),
    })?;
    read_jsonl_from(path, f)
}

/// Reads from any reader; `name` is used in error messages. The first non-empty line must be
/// the header with schema [`SCHEMA`]; blank lines are ignored.
pub fn read_jsonl_from<R: BufRead>(name: &Path, reader: R) -> Result<Vec<Workflow>, JsonlError> {
    let err = |line: usize, message: String| JsonlError {
        file: name.to_path_buf(),
        line,
        message,
    };
    let mut out = Vec::new();
    let mut header_seen = false;
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| err(n, e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            let h: Header = serde_json::from_str(&line).map_err(|e| {
                err(
                    n,
                    format!("expected the header line {{\"schema\":\"{SCHEMA}\"}}: {e}"),
                )
            })?;
            if h.schema != SCHEMA {
                return Err(err(
                    n,
                    format!("unsupported schema {:?} (expected {SCHEMA:?})", h.schema),
                ));
            }
            header_seen = true;
            continue;
        }
        let wf: Workflow =
            serde_json::from_str(&line).map_err(|e| err(n, format!("bad workflow: {e}")))?;
        wf.check_dag().map_err(|e| {
            err(
                n,
                format!("workflow {} run {:?}: {e}", wf.workflow_id, wf.run_id),
            )
        })?;
        out.push(wf);
    }
    if !header_seen {
        return Err(err(
            0,
            format!("empty file: expected a header line with schema {SCHEMA:?}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::workflow::{Dep, DepOn};

    #[test]
    fn errors_name_file_and_line() {
        let p = Path::new("w.jsonl");
        let e = read_jsonl_from(
            p,
            "{\"schema\":\"volsim-workflows/v1\"}\n\n{\"bad\":1}\n".as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("w.jsonl:3: bad workflow"), "{e}");
        let e = read_jsonl_from(p, "{\"schema\":\"other/v9\"}\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("unsupported schema"), "{e}");
        let e = read_jsonl_from(p, "".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("empty file"), "{e}");
    }

    /// A self-dependency, a dependency on a missing node and a cycle are errors naming the
    /// file, the line and the nodes (a workflow that could never close is never replayed).
    #[test]
    fn broken_dags_are_errors() {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("traces/temporal-sample/workflows.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let first = lines.find(|l| !l.trim().is_empty()).unwrap();
        let wf: Workflow = serde_json::from_str(first).unwrap();
        wf.check_dag().unwrap();
        let (a, b) = (wf.nodes[0].id, wf.nodes[1].id);
        type Edit<'a> = &'a dyn Fn(&mut Workflow);
        let cases: [(Edit, &str); 3] = [
            (
                &|w: &mut Workflow| {
                    w.nodes[0].deps = vec![Dep {
                        node: a,
                        on: DepOn::Close,
                    }]
                },
                "depends on itself",
            ),
            (
                &|w: &mut Workflow| {
                    w.nodes[0].deps = vec![Dep {
                        node: 999_999,
                        on: DepOn::Close,
                    }]
                },
                "does not have",
            ),
            (
                &|w: &mut Workflow| {
                    w.nodes[0].deps = vec![Dep {
                        node: b,
                        on: DepOn::Close,
                    }];
                    w.nodes[1].deps = vec![Dep {
                        node: a,
                        on: DepOn::Close,
                    }];
                },
                "cycle",
            ),
        ];
        for (edit, want) in cases {
            let mut w = wf.clone();
            edit(&mut w);
            let doc = format!("{header}\n{}\n", serde_json::to_string(&w).unwrap());
            let e = read_jsonl_from(Path::new("w.jsonl"), doc.as_bytes()).unwrap_err();
            assert_eq!(e.line, 2);
            assert!(e.to_string().contains(want), "{e}");
        }
    }

    #[test]
    fn empty_workload_round_trips() {
        let mut buf = Vec::new();
        write_jsonl_to(&mut buf, &[]).unwrap();
        assert!(read_jsonl_from(Path::new("x"), &buf[..])
            .unwrap()
            .is_empty());
    }
}
