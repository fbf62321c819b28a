//! SWF importer tests on the PWA / MetaCentrum excerpts and hand-made broken files.

use super::*;
use crate::workload::test_support::fixture;

#[test]
fn reads_lanl_excerpt_with_header_queue_names() {
    let imp = read_swf(&fixture("lanl-cm5-head.swf"), &SwfOptions::default()).unwrap();
    let r = &imp.report;
    assert_eq!((r.tally.read, imp.jobs.len()), (145, 145));
    assert_eq!(r.tally.skipped_total(), 0);
    assert_eq!((r.max_nodes, r.max_procs), (Some(1024), Some(1024)));
    assert_eq!(
        r.header_queues.get(&2).map(String::as_str),
        Some("production")
    );
    let j = &imp.jobs[1]; // "2 465 5 3362 32 489.00 988 32 900 1024 1 3 3 3 1 -1 -1 -1"
    assert_eq!(
        (j.id.as_str(), j.submit_ms, j.duration_ms),
        ("2", 465_000, 3_362_000)
    );
    // Queue 1 is named `development` in the header.
    assert_eq!(
        (j.replicas, j.min_member, j.queue.as_str()),
        (32, 32, "development")
    );
    assert_eq!(j.requests, Resources::cpu_mem(1000, 988 * 1024));
    assert_eq!(
        imp.jobs.iter().filter(|j| j.queue == "development").count(),
        114
    );
    assert_eq!(imp.jobs[0].queue, "default", "queue and partition -1");
    // An explicit mapping wins over the header; `none` puts everything in the default queue.
    let named = SwfOptions {
        queue_names: [(1, "dev".to_string())].into(),
        ..SwfOptions::default()
    };
    let imp = read_swf(&fixture("lanl-cm5-head.swf"), &named).unwrap();
    assert_eq!(imp.jobs[1].queue, "dev");
    let none = SwfOptions {
        queue_source: SwfQueueSource::None,
        ..SwfOptions::default()
    };
    let imp = read_swf(&fixture("lanl-cm5-head.swf"), &none).unwrap();
    assert!(imp.jobs.iter().all(|j| j.queue == "default"));
}

#[test]
fn reads_hpc2n_excerpt_counting_skips() {
    let opts = SwfOptions {
        use_trace_memory: false,
        cpu_milli_per_proc: 2000,
        rebase_submit: true,
        ..SwfOptions::default()
    };
    let imp = read_swf(&fixture("hpc2n-head.swf"), &opts).unwrap();
    let t = &imp.report.tally;
    assert_eq!((t.read, t.imported, imp.jobs.len()), (167, 161, 161));
    assert_eq!(t.skipped.get(SKIP_NO_RUN_TIME), Some(&6));
    assert_eq!(t.skipped_total(), 6);
    assert!(
        t.examples[0].contains("hpc2n-head.swf:"),
        "{:?}",
        t.examples
    );
    assert!(t
        .to_string()
        .contains("skipped 6 (run time ≤ 0 or unknown: 6)"));
    assert_eq!(
        imp.report.header_partitions.get(&2).map(String::as_str),
        Some("ALL")
    );
    // Queue -1, partition 1 = `DEFAULT` in the header → a valid Kubernetes name.
    assert!(imp
        .jobs
        .iter()
        .all(|j| j.queue == "default" && j.requests.cpu() == 2000));
    let part = SwfOptions {
        queue_source: SwfQueueSource::Partition,
        ..SwfOptions::default()
    };
    let imp2 = read_swf(&fixture("hpc2n-head.swf"), &part).unwrap();
    assert!(imp2.jobs.iter().all(|j| j.queue == "default"));
    assert!(imp
        .jobs
        .iter()
        .all(|j| j.requests.memory() == 1 << 30 && j.validate().is_ok()));
    assert_eq!(imp.jobs[0].submit_ms, 0);
    // Strict: the first skipped record is an error naming its line.
    let strict = SwfOptions {
        strict: true,
        ..opts
    };
    let e = read_swf(&fixture("hpc2n-head.swf"), &strict).unwrap_err();
    assert!(e.to_string().contains("field 4 (run time) is -1"), "{e}");
}

#[test]
fn wagap_impossible_run_time_is_skipped_not_fatal() {
    // Lines 1–3 and 4184–4190 of wagap-2013.swf; excerpt line 6 is the file's line 4186
    // (job 4185, run time -1359980917).
    let imp = read_swf(&fixture("wagap-2013-excerpt.swf"), &SwfOptions::default()).unwrap();
    let t = &imp.report.tally;
    assert_eq!((t.read, imp.jobs.len()), (10, 9));
    assert_eq!(t.skipped.get(SKIP_BAD_VALUE), Some(&1));
    let want = r#"wagap-2013-excerpt.swf:6: field 4 (run time): "-1359980917" is impossible"#;
    assert!(t.examples[0].contains(want), "{t:?}");
    // Extended SWF: the PBS queue name of field 20, made a valid Kubernetes name.
    let queues: std::collections::BTreeSet<&str> =
        imp.jobs.iter().map(|j| j.queue.as_str()).collect();
    assert_eq!(queues, ["q-1d", "q-2w"].into());
    let strict = SwfOptions {
        strict: true,
        ..SwfOptions::default()
    };
    let e = read_swf(&fixture("wagap-2013-excerpt.swf"), &strict).unwrap_err();
    assert!(e.to_string().contains("excerpt.swf:6: field 4"), "{e}");
}

#[test]
fn gzip_reads_like_plain() {
    let dir = tempfile::tempdir().unwrap();
    let gz = crate::workload::test_support::gz_copy(&fixture("lanl-cm5-head.swf"), dir.path());
    let a = read_swf(&gz, &SwfOptions::default()).unwrap();
    let b = read_swf(&fixture("lanl-cm5-head.swf"), &SwfOptions::default()).unwrap();
    assert_eq!(a.jobs, b.jobs);
}

#[test]
fn broken_records_are_skipped_with_file_line_and_field() {
    let imp = read_swf(&fixture("broken-fields.swf"), &SwfOptions::default()).unwrap();
    assert_eq!(imp.jobs.len(), 1);
    assert!(
        imp.report.tally.examples[0].ends_with("broken-fields.swf:4: 17 fields, expected 18 (SWF)"),
        "{:?}",
        imp.report.tally
    );
    let imp = read_swf(&fixture("broken-value.swf"), &SwfOptions::default()).unwrap();
    let want = r#"broken-value.swf:3: field 5 (allocated processors): "3x" is not a number (or -1 for unknown)"#;
    assert!(
        imp.report.tally.examples[0].ends_with(want),
        "{:?}",
        imp.report.tally
    );
    let strict = SwfOptions {
        strict: true,
        ..SwfOptions::default()
    };
    let e = read_swf(&fixture("broken-value.swf"), &strict).unwrap_err();
    assert!(e.to_string().contains(want), "{e}");
    // Nothing importable at all: an error naming the first skipped line.
    let e = parse_swf(
        &b"1 0 0 10 1.5 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"[..],
        "t.swf",
        &SwfOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains(r#"t.swf:1: field 5 (allocated processors): "1.5" is not an integer"#),
        "{e}"
    );
}

#[test]
fn queue_names_are_kubernetes_names_and_never_merge() {
    let mut n = QueueNames::default();
    assert_eq!(n.name("q1".into(), "[fque:1]", "q1".into()), "fque-1");
    assert_eq!(
        n.name("q2".into(), "development", "q2".into()),
        "development"
    );
    // LANL's queue 13 `development~` must not merge into queue 2's `development`.
    assert_eq!(
        n.name("q13".into(), "development~", "q13".into()),
        "development-q13"
    );
    assert_eq!(n.name("q9".into(), "", "q9".into()), "q9");
    assert_eq!(n.name("q2".into(), "ignored", "q2".into()), "development");
}
