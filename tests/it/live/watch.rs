//! `live run` a person can watch: `--progress` prints bounded-rate progress lines to stderr,
//! and SIGTERM mid-run stops it with exit code 130 and its outputs flushed.

use super::*;

#[test]
fn progress_lines_then_sigterm_flushes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("twin");
    // the bundled scenario at ×60 runs for minutes of real time: long enough to interrupt
    let sc = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub/scenario.toml");
    let child = Command::new(bin())
        .args([
            "live",
            "run",
            "--backend",
            "twin",
            "--speed",
            "60",
            "--progress",
            "--scenario",
        ])
        .arg(&sc)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(7));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("live: ")).collect();
    // every 2 s over ~7 s: at least 2 lines, never one per submission
    assert!((2..=5).contains(&lines.len()), "{err}");
    assert!(
        lines[0].contains("submitted ") && lines[0].contains("running "),
        "{err}"
    );
    assert!(err.contains("interrupted: stopped after"), "{err}");
    let pred = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(pred.lines().count() > 1, "{pred}");
    assert!(out.join("observed.csv").is_file());
}
