//! The `kube` backend against a real cluster (kind + Volcano, see `docs/live.md`). Runs only
//! with `VOLSIM_KUBE_E2E=1`; the API is reached at `VOLSIM_KUBE_API` (default: `kubectl proxy`
//! on http://127.0.0.1:8001).

use std::time::Duration;

use serde_json::{json, Value};

use crate::*;

const NS: &str = "volsim-e2e";

fn api() -> Option<String> {
    if std::env::var("VOLSIM_KUBE_E2E").ok().as_deref() != Some("1") {
        eprintln!("skipped: set VOLSIM_KUBE_E2E=1 (kind + Volcano + kubectl proxy) to run");
        return None;
    }
    Some(std::env::var("VOLSIM_KUBE_API").unwrap_or_else(|_| "http://127.0.0.1:8001".into()))
}

fn kube_run(api: &str, out: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let sc = fixture("small.toml");
    let mut args = vec![
        "live",
        "run",
        "--scenario",
        sc.to_str().unwrap(),
        "--backend",
        "kube",
        "--api-server",
        api,
        "--namespace",
        NS,
        "--apply-queues",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn kube_backend_end_to_end() {
    let Some(api) = api() else { return };
    let a = agent();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}).to_string();
    let (st, b) = call(
        &a,
        "POST",
        &format!("{api}/api/v1/namespaces"),
        Some(&ns),
        &[],
    )
    .expect("API server reachable");
    assert!(st == 201 || st == 409, "{st} {b}");
    let dir = tempfile::tempdir().unwrap();

    // 1. server-side dry run: the API server validates every manifest against the real CRDs
    let (code, out, err) = kube_run(
        &api,
        &dir.path().join("dry"),
        &["--server-dry-run", "--speed", "100", "--drain", "0s"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("submitted 12"), "{out}");

    // 2. the real thing: every job admitted and observed, the trace written
    let real = dir.path().join("real");
    let (code, out, err) = kube_run(&api, &real, &["--speed", "10", "--drain", "5m"]);
    assert_eq!(code, 0, "{out}{err}");
    let observed = std::fs::read_to_string(real.join("observed.csv")).unwrap();
    assert_eq!(observed.lines().count(), 13, "{observed}");
    assert!(
        observed.lines().skip(1).all(|l| !l.ends_with(',')),
        "every job observed admitted:\n{observed}"
    );
    assert_eq!(
        volsim::workload::read_csv_trace(&real.join("observed-trace.csv"))
            .unwrap()
            .len(),
        12
    );

    // 3. a fresh journal over existing objects adopts them (409) instead of duplicating
    let again = dir.path().join("again");
    let (code, out, err) = kube_run(&api, &again, &["--speed", "100", "--drain", "0s"]);
    assert_eq!(code, 0, "{out}{err}");
    let journal = std::fs::read_to_string(again.join("journal.jsonl")).unwrap();
    let adopted = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["op"] == "sent" && v["outcome"] == "adopted")
        .count();
    assert_eq!(adopted, 12, "{journal}");
    let list = format!("{api}/apis/batch.volcano.sh/v1alpha1/namespaces/{NS}/jobs?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dvolsim");
    let (st, b) = call(&a, "GET", &list, None, &[]).unwrap();
    assert_eq!(st, 200);
    let n = serde_json::from_str::<Value>(&b).unwrap()["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(n, Some(12), "one Volcano Job per key");
    std::thread::sleep(Duration::from_millis(10));
}
