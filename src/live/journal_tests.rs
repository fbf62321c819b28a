//! Journal edge cases: the `--out` lock, a damaged complete last line, tampered entries.

use super::*;

fn line(key: &str, id: &str, submit_ms: u64) -> String {
    format!(
        concat!(
            r#"{{"op":"submit","key":"{}","workflow_id":"w","source":"class:c","fingerprint":1,"#,
            r#""job":{{"id":"{}","submit_ms":{},"duration_ms":1000,"replicas":1,"min_member":1,"#,
            r#""cpu_milli":100,"mem_bytes":1024,"queue":"q"}},"predicted_wait_ms":null,"held":false}}"#,
            "\n"
        ),
        key, id, submit_ms
    )
}

fn open_err(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("journal.jsonl");
    std::fs::write(&p, text).unwrap();
    match Journal::open(&p) {
        Ok(_) => panic!("journal {text:?} was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_second_open_of_the_same_journal_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("journal.jsonl");
    let (first, _) = Journal::open(&p).unwrap();
    let e = Journal::open(&p)
        .err()
        .expect("second open must fail")
        .to_string();
    assert!(
        e.contains("locked by another volsim") && e.contains("journal.jsonl"),
        "{e}"
    );
    drop(first);
    Journal::open(&p).expect("lock released on close");
}

#[test]
fn journal_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("journal.jsonl");
    drop(Journal::open(&p).unwrap());
    let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn a_damaged_complete_last_line_is_an_error_not_a_torn_write() {
    let good = line("a", &object_name("a"), 5);
    let e = open_err(&format!("{good}{{\"op\":\"delete\",\"name\":\"x\",\"t_m\n"));
    assert!(e.contains("line 2"), "{e}");
    // the same bytes without the newline are a torn write and are cut off
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("journal.jsonl");
    std::fs::write(
        &p,
        format!("{good}{{\"op\":\"delete\",\"name\":\"x\",\"t_m"),
    )
    .unwrap();
    let (_, entries) = Journal::open(&p).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), good);
}

#[test]
fn a_tampered_object_name_is_refused() {
    let e = open_err(&line("a", "../../etc/x", 5));
    assert!(e.contains("line 1") && e.contains("job.id"), "{e}");
    let e = open_err("{\"op\":\"delete\",\"name\":\"../up\",\"t_ms\":1}\n");
    assert!(e.contains("line 1") && e.contains("DNS-1123"), "{e}");
}

#[test]
fn a_time_beyond_the_limit_is_refused_quickly() {
    let t = std::time::Instant::now();
    let e = open_err(&line("a", &object_name("a"), u64::MAX));
    assert!(
        e.contains("job.submit_ms") && e.contains(&MAX_TIME_MS.to_string()),
        "{e}"
    );
    let e = open_err(&format!(
        "{{\"op\":\"release\",\"name\":\"{}\",\"t_ms\":{}}}\n",
        object_name("a"),
        MAX_TIME_MS + 1
    ));
    assert!(e.contains("t_ms"), "{e}");
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
}
