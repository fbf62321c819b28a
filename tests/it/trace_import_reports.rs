//! `volsim trace import` says what it read, imported and skipped (and why), and `--strict`
//! turns a skip into exit code 2. Runs the real binary on the trace fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn import(args: &[&str], out: &Path) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(["trace", "import"])
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

#[test]
fn swf_import_reports_skips_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    let swf = fixture("traces/wagap-2013-excerpt.swf");
    let swf = swf.to_str().unwrap();
    let (code, _, err) = import(&["--format", "swf", swf], &out);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("read 10, imported 9, skipped 1 (impossible or malformed value: 1)"),
        "{err}"
    );
    assert!(
        err.contains("wagap-2013-excerpt.swf:6: field 4 (run time): \"-1359980917\" is impossible"),
        "{err}"
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 10, "{csv}");
    assert!(csv.contains(",q-2w,"), "{csv}");
    let (code, _, _) = import(&["--format", "swf", "--queue-from", "none", swf], &out);
    assert_eq!(code, Some(0));
    assert!(!std::fs::read_to_string(&out).unwrap().contains(",q-2w,"));
    let (code, _, err) = import(&["--format", "swf", "--strict", swf], &out);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("excerpt.swf:6: field 4"), "{err}");
    let (code, _, err) = import(&["--format", "swf", "--queue-from", "site", swf], &out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("expected auto, queue, partition or none"),
        "{err}"
    );
}

#[test]
fn temporal_import_names_every_skipped_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("w.jsonl");
    let src = fixture("temporal");
    let (code, stdout, err) = import(&["--format", "temporal", src.to_str().unwrap()], &out);
    assert_eq!(code, Some(0), "{err}");
    let skipped: Vec<&str> = err.lines().filter(|l| l.starts_with("skipped: ")).collect();
    assert!(
        stdout.contains(&format!("{} skipped", skipped.len())),
        "{stdout}\n{err}"
    );
    assert!(
        skipped
            .iter()
            .any(|l| l.contains(".http.json: duplicate of") && l.contains("which is kept")),
        "{err}"
    );
    assert!(skipped.iter().any(|l| l.contains("listing")), "{err}");
}
