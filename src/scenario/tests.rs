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
