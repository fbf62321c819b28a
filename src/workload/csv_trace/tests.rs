//! Tests of the canonical trace CSV (`csv_trace.rs`): bench fixture, optional columns,
//! round trip, and error positions for broken inputs.

use super::*;
use crate::workload::test_support::fixture;

fn parse(text: &str) -> Result<Vec<TraceJob>, TraceError> {
    parse_csv_trace(text.as_bytes(), "t.csv")
}

#[test]
fn reads_the_bench_fixture_as_is() {
    let jobs = read_csv_trace(&fixture("bench-gang-20j.csv")).unwrap();
    assert_eq!(jobs.len(), 20);
    assert_eq!(jobs.iter().map(|j| j.replicas).sum::<u32>(), 66);
    let j0 = &jobs[0];
    assert_eq!(
        (j0.id.as_str(), j0.submit_ms, j0.duration_ms),
        ("0", 198_000, 287_000)
    );
    assert_eq!(
        (j0.replicas, j0.min_member),
        (4, 4),
        "gang semantics by default"
    );
    assert_eq!(j0.requests, Resources::cpu_mem(8000, 32768 * MIB));
    assert_eq!(
        (j0.queue.as_str(), j0.priority, j0.priority_class.as_deref()),
        ("q2", 0, None)
    );
    assert!(jobs.iter().all(|j| j.validate().is_ok()));
}

#[test]
fn bench_fixture_round_trips_byte_identically() {
    let text = std::fs::read_to_string(fixture("bench-gang-20j.csv")).unwrap();
    let mut out = Vec::new();
    write_csv_trace(&parse(&text).unwrap(), &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), text);
    assert!(text.starts_with(BENCH_HEADER));
}

#[test]
fn optional_columns_in_any_order() {
    let text = "class,queue,job_id,submit_ms,submit_s,duration_s,replicas,min_member,\
                cpu_milli_per_pod,mem_mib_per_pod,gpu_per_pod,priority_class\n\
                train,q1,a,1500,1,2.5,4,2,500,1024,0.5,high\n\
                ,q2,b,0,0,1,1,,1000,1,,\n";
    let jobs = parse(text).unwrap();
    let a = &jobs[1];
    assert_eq!(
        (a.id.as_str(), a.submit_ms, a.duration_ms),
        ("a", 1500, 2500),
        "ms wins"
    );
    assert_eq!((a.replicas, a.min_member), (4, 2));
    assert_eq!(a.requests.get(ResourceName::GPU), 500);
    assert_eq!(
        (a.priority_class.as_deref(), a.class.as_str(), a.priority),
        (Some("high"), "train", 0)
    );
    let b = &jobs[0];
    assert_eq!(
        (b.min_member, b.priority_class.as_deref(), b.class.as_str()),
        (1, None, "")
    );
    assert!(!b.requests.has(ResourceName::GPU));
}

#[test]
fn everything_round_trips() {
    let text = "job_id,submit_ms,duration_ms,replicas,cpu_milli_per_pod,mem_bytes_per_pod,queue,\
                priority,min_member,gpu_milli_per_pod,priority_class,class\n\
                \"x,1\",5,7,3,250,1000,q,-2,1,1500,pc,c\n\
                y,5,1,1,0,0,q,0,1,0,,\n";
    let jobs = parse(text).unwrap();
    let mut out = Vec::new();
    write_csv_trace(&jobs, &mut out).unwrap();
    assert_eq!(String::from_utf8(out.clone()).unwrap(), text);
    assert_eq!(parse(std::str::from_utf8(&out).unwrap()).unwrap(), jobs);
}

#[test]
fn writer_rejects_unrepresentable_resources() {
    let mut job = parse("job_id,submit_s,duration_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue\nj,0,1,1,1,1,q\n")
        .unwrap()
        .remove(0);
    job.requests
        .set(ResourceName::intern("ephemeral-storage").unwrap(), 5);
    let e = write_csv_trace(&[job], Vec::new()).unwrap_err().to_string();
    assert!(
        e.contains("job \"j\"") && e.contains("ephemeral-storage"),
        "{e}"
    );
}

#[test]
fn broken_fixtures_name_file_line_and_column() {
    let cases = [
        (
            "broken-replicas.csv",
            r#":4: column replicas: "abc" is not a positive integer"#,
        ),
        (
            "broken-unknown-column.csv",
            ":1: unknown column \"walltime_s\" (known columns: job_id, submit_s",
        ),
    ];
    for (name, want) in cases {
        let e = read_csv_trace(&fixture(name)).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(want), "{name}: {e}");
    }
}

#[test]
fn errors_name_the_position() {
    let h = "job_id,submit_s,duration_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue,priority,min_member\n";
    let cases = [
        (
            "a,1,1,2,1,1,q,0,3\n",
            r#"t.csv:2: column min_member: "3" exceeds replicas (2)"#,
        ),
        (
            "a,-1,1,2,1,1,q,0,\n",
            r#"t.csv:2: column submit_s: "-1" is not a non-negative number of seconds"#,
        ),
        (
            "a,1,1,0,1,1,q,0,\n",
            r#"t.csv:2: column replicas: "0" is not a positive integer"#,
        ),
        ("a,1,1,1,1,1,,0,\n", r#"t.csv:2: column queue: "" is empty"#),
        (
            "a,1,1,1,1,1,q,x,\n",
            r#"t.csv:2: column priority: "x" is not an integer priority"#,
        ),
        (
            "a,1,1,1,1,1,q,0,\na,1,1,1,1,1,q,0,\n",
            "t.csv:3: duplicate job_id \"a\" (first on line 2)",
        ),
        ("a,1,1,1,1,1,q\n", "t.csv:2: 7 fields, but the header has 9"),
        // The first problem in line order is named: a duplicate before a bad row or a short
        // record wins over them, and a bad row before a duplicate wins over it.
        (
            "a,1,1,1,1,1,q,0,\na,1,1,1,1,1,q,0,\nb,x,1,1,1,1,q,0,\n",
            "t.csv:3: duplicate job_id \"a\" (first on line 2)",
        ),
        (
            "a,1,1,1,1,1,q,0,\na,1,1,1,1,1,q,0,\nb,1,1\n",
            "t.csv:3: duplicate job_id \"a\" (first on line 2)",
        ),
        (
            "a,1,1,1,1,1,q,0,\nb,x,1,1,1,1,q,0,\na,1,1,1,1,1,q,0,\n",
            "t.csv:3: column submit_s",
        ),
    ];
    for (body, want) in cases {
        let e = parse(&format!("{h}{body}")).unwrap_err().to_string();
        assert!(e.starts_with(want), "got {e}\nwant {want}");
    }
    let e =
        parse("job_id,submit_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.csv:1: missing column duration_s or duration_ms"
    );
}
