//! Temporal Cloud history export (protobuf, `tests/fixtures/temporal-export`): the export files
//! import to the same canonical records as the JSON histories they were converted from
//! (record by record), histories repeated across files count once, the directory tree is
//! walked in sorted order, and truncated or corrupt bytes are errors naming the file and the
//! byte offset, never a panic. Unknown event types and standalone activities are counted.

use std::path::{Path, PathBuf};
use std::process::Command;

use volsim::workload::temporal::{import_export_bytes, import_export_paths, import_paths};
use volsim::workload::workflow::{NodeKind, Workflow};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn export_tree() -> PathBuf {
    fixtures().join("temporal-export/export")
}

/// The export file holding only the hand-made priority history.
fn priority_pb() -> PathBuf {
    export_tree().join("default/2026/11/27/12/10/part-0001.pb")
}

/// The JSON histories the export fixtures were converted from (`json2export.py fixtures`).
fn json_sources() -> Vec<PathBuf> {
    let t = fixtures().join("temporal");
    let mut v: Vec<PathBuf> = [
        "session-000-100315",
        "orchestration-00-100315",
        "campaign-00-100315",
        "campaign-00-100315-creatives",
        "session-016-100315",
    ]
    .iter()
    .map(|n| t.join(format!("{n}.http.json")))
    .collect();
    v.push(fixtures().join("temporal-export/priority-fairness.json"));
    v
}

/// Drops the `source` file names (they differ by construction), children included.
fn without_source(mut w: Workflow) -> Workflow {
    w.source.clear();
    for n in &mut w.nodes {
        if let NodeKind::Child(c) = &mut n.kind {
            c.execution = c.execution.take().map(without_source);
        }
    }
    w
}

#[test]
fn export_files_import_to_the_json_records() {
    let json = import_paths(&json_sources(), true).unwrap();
    let pb = import_export_paths(&[export_tree()], true).unwrap();
    assert!(pb.import.errors.is_empty(), "{:?}", pb.import.errors);
    assert_eq!(pb.import.workflows.len(), json.workflows.len());
    assert_eq!(pb.import.workflows.len(), 5);
    for (a, b) in pb.import.workflows.iter().zip(&json.workflows) {
        assert_eq!(
            without_source(a.clone()),
            without_source(b.clone()),
            "workflow {}",
            b.workflow_id
        );
    }
    // The sources name the export file and the item.
    let s = &pb.import.workflows[0].source;
    assert!(s.ends_with("10/10/part-0001.pb#items[0]"), "{s}");
}

#[test]
fn histories_repeated_across_files_count_once() {
    let r = import_export_paths(&[export_tree()], false).unwrap();
    assert_eq!((r.import.files, r.histories, r.duplicates), (3, 7, 1));
    assert_eq!(r.import.execution_count(), 6);
    let dup = &r.import.skipped[0];
    assert!(dup.0.ends_with("11/10/part-0001.pb#items[2]"), "{dup:?}");
    assert!(dup.1.contains("session-000-100315"), "{dup:?}");
    assert_eq!(
        r.tally().to_string(),
        "read 7, imported 6, skipped 1 (duplicate history (at-least-once export): 1)"
    );
    // Listing the files in any order gives the same result: they are read sorted.
    let mut files: Vec<PathBuf> = ["12/10", "11/10", "10/10"]
        .iter()
        .map(|d| export_tree().join(format!("default/2026/11/27/{d}/part-0001.pb")))
        .collect();
    let reversed = import_export_paths(&files, false).unwrap();
    files.reverse();
    let sorted = import_export_paths(&files, false).unwrap();
    assert_eq!(reversed.import.workflows, r.import.workflows);
    assert_eq!(sorted.import.workflows, r.import.workflows);
}

#[test]
fn priority_and_fairness_keys_are_read_from_protobuf() {
    let r = import_export_paths(&[priority_pb()], true).unwrap();
    let w = &r.import.workflows[0];
    let p = w.priority.as_ref().unwrap();
    assert_eq!(
        (p.priority_key, p.fairness_key.as_deref()),
        (Some(2), Some("acme"))
    );
    let act = |id: u64| match &w.node(id).unwrap().kind {
        NodeKind::Activity(a) => a.priority.clone(),
        _ => panic!("node {id} is not an activity"),
    };
    let train = act(5).unwrap();
    assert_eq!(
        (
            train.priority_key,
            train.fairness_key.as_deref(),
            train.fairness_weight
        ),
        (Some(1), Some("globex"), Some(2.5))
    );
    let score = act(6).unwrap();
    assert_eq!(
        (score.priority_key, score.fairness_weight),
        (None, Some(0.1))
    );
    assert_eq!(act(7), None);
}

#[test]
fn a_gzipped_copy_and_hidden_files_in_the_tree() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("default/2026/11/27/12/10");
    std::fs::create_dir_all(&nested).unwrap();
    let bytes = std::fs::read(priority_pb()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    std::fs::write(nested.join("part-0001.pb.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(nested.join(".verify"), b"not an export").unwrap();
    let r = import_export_paths(&[dir.path().to_path_buf()], true).unwrap();
    let plain = import_export_paths(&[priority_pb()], true).unwrap();
    assert_eq!(
        without_source(r.import.workflows[0].clone()),
        without_source(plain.import.workflows[0].clone())
    );
    assert_eq!(r.import.skipped.len(), 1);
    assert!(r.import.skipped[0].1.contains("hidden file"));
}

#[test]
fn every_truncation_is_an_error_with_a_byte_offset() {
    let path = priority_pb();
    let bytes = std::fs::read(&path).unwrap();
    for n in 0..bytes.len() {
        let cut = &bytes[..n];
        let lax = import_export_bytes(&path, cut, false).unwrap();
        if n > 0 {
            // The single item is cut: nothing is imported and the error says where.
            assert!(lax.workflows.is_empty(), "{n}");
            assert_eq!(lax.errors.len(), 1, "{n}");
        }
        if let Err(e) = import_export_bytes(&path, cut, true) {
            let msg = e.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            assert!(msg.contains(": byte "), "{msg}");
        } else {
            assert_eq!(n, 0, "a cut at byte {n} was accepted");
        }
    }
    // In a file of several histories, a cut inside the second keeps the first.
    let two = export_tree().join("default/2026/11/27/11/10/part-0001.pb");
    let bytes = std::fs::read(&two).unwrap();
    let r = import_export_bytes(&two, &bytes[..bytes.len() / 2], false).unwrap();
    assert_eq!((r.workflows.len(), r.errors.len()), (1, 1));
    let msg = r.errors[0].to_string();
    assert!(
        msg.contains("corrupt export file: byte") || msg.contains(": byte "),
        "{msg}"
    );
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn corrupt_bytes_never_panic() {
    let path = priority_pb();
    let bytes = std::fs::read(&path).unwrap();
    // Every single-byte corruption either still decodes or is an error naming a byte offset
    // inside the file.
    for i in (0..bytes.len()).step_by(3) {
        for v in [0x00, 0x07, 0xff] {
            let mut b = bytes.clone();
            b[i] = v;
            let r = import_export_bytes(&path, &b, false).unwrap();
            for e in &r.errors {
                let msg = e.to_string();
                let off: usize = msg
                    .split(": byte ")
                    .nth(1)
                    .and_then(|s| s.split([' ', ':']).next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("no offset in {msg}"));
                assert!(off <= b.len(), "{msg}");
            }
        }
    }
}

fn varint(mut v: usize, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn len_field(number: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint((number << 3) | 2, &mut out);
    varint(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

#[test]
fn unknown_event_types_and_standalone_activities_are_counted() {
    let bytes = std::fs::read(priority_pb()).unwrap();
    // The file is one `items` field; its payload is a WorkflowExecution.
    assert_eq!(bytes[0], 0x0a);
    let (mut len, mut i) = (0usize, 1);
    loop {
        len |= ((bytes[i] & 0x7f) as usize) << (7 * (i - 1));
        i += 1;
        if bytes[i - 1] & 0x80 == 0 {
            break;
        }
    }
    let mut item = bytes[i..i + len].to_vec();
    // A second `history` occurrence merges: one more event, of type 99, event id 18.
    let time = [0x08, 0xc0, 0xb8, 0x9f, 0xcb, 0x06]; // seconds
    let mut event = vec![0x08, 18];
    event.extend(len_field(2, &time));
    event.extend_from_slice(&[0x18, 99]);
    item.extend(len_field(1, &len_field(1, &event)));
    let mut file = len_field(1, &item);
    file.extend_from_slice(&[0x12, 0x00]); // ExportedExecutions.activities: one, empty
    file.extend_from_slice(&[0xf8, 0x01, 0x05]); // an unknown top-level field 31: skipped
    let p = Path::new("mem/part.pb");
    let r = import_export_bytes(p, &file, true).unwrap();
    assert_eq!((r.histories, r.standalone_activities), (1, 1));
    assert_eq!(r.unknown_event_types.get(&99), Some(&1));
    assert!(
        r.warnings.iter().any(|w| w.contains("type 99 ×1")),
        "{:?}",
        r.warnings
    );
    let plain = import_export_bytes(p, &bytes, true).unwrap();
    let (mut a, b) = (r.workflows[0].clone(), &plain.workflows[0]);
    assert_eq!(a.history_length, b.history_length + 1);
    a.history_length = b.history_length;
    assert_eq!(&a, b);
}

#[test]
fn cli_imports_the_tree_and_names_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.jsonl");
    let run = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(env!("CARGO_BIN_EXE_volsim"))
            .args(["trace", "import", "--format", "temporal-export"])
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            err,
        )
    };
    let tree = export_tree();
    let (code, stdout, err) = run(&[tree.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        stdout.contains("imported 5 workflows (6 executions, 27 activities) from 3 export files"),
        "{stdout}"
    );
    assert!(
        stdout.contains("duplicate history (at-least-once export): 1"),
        "{stdout}"
    );
    assert!(
        err.contains("skipped:") && err.contains("duplicate of"),
        "{err}"
    );
    let back = volsim::workload::workflow::read_jsonl(&out).unwrap();
    assert_eq!(back.len(), 5);

    let bytes = std::fs::read(priority_pb()).unwrap();
    let broken = dir.path().join("broken.pb");
    std::fs::write(&broken, &bytes[..bytes.len() - 10]).unwrap();
    for strict in [false, true] {
        let mut args = vec![broken.as_os_str()];
        if strict {
            args.push(std::ffi::OsStr::new("--strict"));
        }
        let (code, _, err) = run(&args);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("broken.pb: byte "), "{err}");
        assert!(err.contains("truncated"), "{err}");
    }
}

/// A `WorkflowExecutionStarted` event (id 1, type 1) whose attributes (field 6) are `attrs`.
fn start_event(attrs: &[u8]) -> Vec<u8> {
    let mut e = vec![0x08, 1];
    e.extend(len_field(2, &[0x08, 0x80, 0xa3, 0xc3, 0xcb, 0x06])); // 2026-… seconds
    e.extend_from_slice(&[0x18, 1]);
    e.extend(len_field(6, attrs));
    e
}

fn export_of(events: &[Vec<u8>]) -> Vec<u8> {
    let history: Vec<u8> = events.iter().flat_map(|e| len_field(1, e)).collect();
    len_field(1, &len_field(1, &history))
}

#[test]
fn a_history_is_identified_by_its_start_event() {
    let mut attrs = len_field(1, &len_field(1, b"wf-type")); // workflow_type.name
    attrs.extend(len_field(14, b"run-1")); // original_execution_run_id
    let p = Path::new("mem/part.pb");
    let e = import_export_bytes(p, &export_of(&[start_event(&attrs)]), true).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("workflow_id (field 28)"), "{msg}");
    assert!(msg.starts_with("mem/part.pb: byte "), "{msg}");
    assert!(
        msg.contains("(items[0].history.events[0], eventId 1)"),
        "{msg}"
    );
    attrs.extend(len_field(28, b"wf-1")); // workflow_id
    let r = import_export_bytes(p, &export_of(&[start_event(&attrs)]), true).unwrap();
    let w = &r.workflows[0];
    assert_eq!(
        (
            w.workflow_id.as_str(),
            w.run_id.as_str(),
            w.workflow_type.as_str()
        ),
        ("wf-1", "run-1", "wf-type")
    );
    assert_eq!((w.history_length, w.nodes.len()), (1, 0));
    // An item without events, and an event without a time, are errors too.
    let e = import_export_bytes(p, &len_field(1, &[]), true).unwrap_err();
    assert!(e.to_string().contains("the history has no events"), "{e}");
    let no_time = [0x08, 1, 0x18, 1];
    let e = import_export_bytes(p, &export_of(&[no_time.to_vec()]), true).unwrap_err();
    assert!(e.to_string().contains("event_time"), "{e}");
}

#[test]
fn random_bytes_never_panic() {
    // A fixed-seed xorshift: the same 3000 inputs on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seed = std::fs::read(priority_pb()).unwrap();
    let p = Path::new("mem/random.pb");
    for i in 0..3000 {
        let len = (next() % 300) as usize;
        let mut b: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| next() as u8).collect()
        } else {
            // A valid prefix of the fixture with random bytes after it.
            let cut = (next() as usize) % seed.len();
            let mut v = seed[..cut].to_vec();
            v.extend((0..len).map(|_| next() as u8));
            v
        };
        if i % 7 == 0 && !b.is_empty() {
            b[0] = 0x0a;
        }
        let r = import_export_bytes(p, &b, false).unwrap();
        for e in &r.errors {
            assert!(e.to_string().starts_with("mem/random.pb: byte "), "{e}");
        }
    }
}
