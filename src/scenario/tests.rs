//! Scenario loading: the bundled scenario, and broken inputs with file + field in the message.

use std::path::Path;

use super::*;

fn bundled() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub/scenario.toml")
}

#[test]
fn bundled_scenario_loads() {
    let s = load(&bundled()).unwrap();
    assert_eq!(s.name, "somaagenthub");
    assert_eq!(s.nodes.len(), 6);
    assert!(s
        .queues
        .iter()
        .any(|q| q.name == "interactive" && q.weight == 3));
    assert!(s.jobs.len() > 100);
    assert_eq!(s.slos.len(), 5);
    // Same inputs, same digest.
    assert_eq!(load(&bundled()).unwrap().digest, s.digest);
}

fn broken(text: &str) -> String {
    load_str(text, &bundled()).unwrap_err().to_string()
}

const BASE: &str = "horizon = \"1h\"\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"4\"\nmemory = \"8Gi\"\n[[queues.inline]]\nname = \"q\"\n[[workload.classes]]\nname = \"c\"\nqueue = \"q\"\nrate_per_min = 1\nduration = { dist = \"fixed\", value = \"1m\" }\ncpu = \"1\"\nmemory = \"1Gi\"\n";

#[test]
fn base_is_valid() {
    load_str(BASE, &bundled()).unwrap();
}

#[test]
fn bad_quantity_names_field() {
    let e = broken(&BASE.replace("cpu = \"4\"", "cpu = \"4x\""));
    assert!(
        e.contains("scenario.toml") && e.contains("nodes[0].cpu") && e.contains("4x"),
        "{e}"
    );
}

#[test]
fn bad_weight_names_field() {
    let e = broken(&BASE.replace("name = \"q\"\n", "name = \"q\"\nweight = 0\n"));
    assert!(e.contains("queues.inline[0].weight"), "{e}");
}

#[test]
fn unknown_plugin_names_field() {
    let t = format!("{BASE}[scheduler]\ninline = \"actions: \\\"enqueue, allocate\\\"\\ntiers:\\n- plugins:\\n  - name: gangg\\n\"\n");
    let e = broken(&t);
    assert!(
        e.contains("tiers[0].plugins[0].name") && e.contains("gangg"),
        "{e}"
    );
}

#[test]
fn missing_file_names_field() {
    let e = broken(
        &format!("{BASE}[queues]\nfiles = [\"nope.yaml\"]\n")
            .replace("[[queues.inline]]\nname = \"q\"\n", ""),
    );
    assert!(
        e.contains("queues.files[0]") && e.contains("nope.yaml"),
        "{e}"
    );
}

#[test]
fn toml_syntax_error_has_line() {
    let e = broken("horizon = \n");
    assert!(e.contains("scenario.toml") && e.contains("line 1"), "{e}");
}

#[test]
fn unknown_queue_in_workload() {
    let e = broken(&BASE.replace("queue = \"q\"", "queue = \"nope\""));
    assert!(e.contains("nope") && e.contains("workload"), "{e}");
}

#[test]
fn on_evict_per_class_and_default() {
    use crate::model::OnEvict;
    let s = load_str(BASE, &bundled()).unwrap();
    assert_eq!(s.params.on_evict, Default::default());
    let t = format!(
        "{BASE}on_evict = \"restart-job\"\nmax_retry = 2\n[sim]\non_evict = \"recreate-pod\"\n"
    );
    let s = load_str(&t, &bundled()).unwrap();
    assert_eq!(s.params.on_evict.default, OnEvict::RecreatePod);
    assert_eq!(
        s.params.on_evict.of_class("c"),
        OnEvict::RestartJob { max_retry: 2 }
    );
    let s = load_str(
        &format!("{BASE}[sim]\non_evict = \"restart-job\"\n"),
        &bundled(),
    )
    .unwrap();
    assert_eq!(
        s.params.on_evict.of_class("anything"),
        OnEvict::RestartJob { max_retry: 3 }
    );
}

#[test]
fn bad_on_evict_names_file_and_field() {
    let e = broken(&format!("{BASE}on_evict = \"restart\"\n"));
    assert!(
        e.contains("scenario.toml")
            && e.contains("workload.classes[0].on_evict")
            && e.contains("\"restart\"")
            && e.contains("restart-job"),
        "{e}"
    );
    let e = broken(&format!(
        "{BASE}on_evict = \"restart-job\"\nmax_retry = 0\n"
    ));
    assert!(
        e.contains("workload.classes[0].max_retry") && e.contains("≥ 1"),
        "{e}"
    );
    let e = broken(&format!("{BASE}max_retry = 2\n"));
    assert!(
        e.contains("workload.classes[0].max_retry") && e.contains("restart-job"),
        "{e}"
    );
    let e = broken(&format!("{BASE}[sim]\non_evict = \"RestartJob\"\n"));
    assert!(
        e.contains("sim.on_evict") && e.contains("\"RestartJob\""),
        "{e}"
    );
}

#[test]
fn implicit_default_queue_is_usable() {
    // A class naming `default` without defining it gets Volcano's default queue.
    let t = BASE.replace("queue = \"q\"", "queue = \"default\"");
    let s = load_str(&t, &bundled()).unwrap();
    let d = s.queues.iter().find(|q| q.name == "default").unwrap();
    assert_eq!((d.weight, d.reclaimable), (1, true));
    assert!(s.jobs.iter().all(|j| j.queue == "default"));
    // Still exactly one `default` when the scenario defines it itself.
    let t = t.replace("name = \"q\"\n", "name = \"default\"\nweight = 4\n");
    let s = load_str(&t, &bundled()).unwrap();
    let ds: Vec<_> = s.queues.iter().filter(|q| q.name == "default").collect();
    assert_eq!((ds.len(), ds[0].weight), (1, 4));
}

#[test]
fn trace_skips_are_warnings_unless_strict() {
    let trace =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/wagap-2013-excerpt.swf");
    let t = format!(
        "[[nodes]]\nname = \"n\"\ncount = 2\ncpu = \"64\"\nmemory = \"256Gi\"\n\
         [workload]\ntrace = {:?}\nformat = \"swf\"\nqueue_from = \"none\"\n",
        trace.display().to_string()
    );
    let s = load_str(&t, &bundled()).unwrap();
    assert_eq!(s.jobs.len(), 9);
    assert!(s.jobs.iter().all(|j| j.queue == "default"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w
                .ends_with("read 10, imported 9, skipped 1 (impossible or malformed value: 1)")),
        "{:?}",
        s.warnings
    );
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("excerpt.swf:6: field 4 (run time)")));
    let e = broken(&format!("{t}strict = true\n"));
    assert!(
        e.contains("workload.trace") && e.contains("excerpt.swf:6: field 4"),
        "{e}"
    );
    // Without queue_from the PBS queue names are kept, and undefined queues are named.
    let e = broken(&t.replace("queue_from = \"none\"\n", ""));
    assert!(e.contains("uses queue \"q-1d\""), "{e}");
    let e = broken(&t.replace("format = \"swf\"\n", ""));
    assert!(e.contains("workload.queue_from"), "{e}");
}

#[test]
fn shared_traces_are_parsed_once_and_load_alike() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces/wagap-2013-excerpt.swf");
    let trace = dir.path().join("t.swf");
    std::fs::copy(&src, &trace).unwrap();
    let t = format!(
        "[[nodes]]\nname = \"n\"\ncount = 2\ncpu = \"64\"\nmemory = \"256Gi\"\n\
         [workload]\ntrace = {:?}\nformat = \"swf\"\nqueue_from = \"none\"\n",
        trace.display().to_string()
    );
    let alone = load_str(&t, &bundled()).unwrap();
    let cache = std::sync::Arc::new(TraceCache::default());
    for _ in 0..3 {
        let s = load_str_sharing(&t, &bundled(), Some(cache.clone())).unwrap();
        assert_eq!(s.jobs, alone.jobs);
        assert_eq!(s.warnings, alone.warnings);
        assert_eq!(s.digest, alone.digest);
    }
    assert_eq!(cache.len(), 1);
    // Other options, or other bytes at the same path, parse again.
    let strict = load_str_sharing(
        &format!("{t}strict = true\n"),
        &bundled(),
        Some(cache.clone()),
    );
    assert!(strict.is_err());
    let mut text = std::fs::read_to_string(&src).unwrap();
    let last = text.trim_end().rfind('\n').unwrap();
    text.truncate(last + 1);
    std::fs::write(&trace, text).unwrap();
    let shorter = load_str_sharing(&t, &bundled(), Some(cache.clone())).unwrap();
    assert_eq!(shorter.jobs.len() + 1, alone.jobs.len());
    assert_ne!(shorter.digest, alone.digest);
    assert_eq!(cache.len(), 2);
}
