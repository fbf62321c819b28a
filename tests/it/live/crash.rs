//! `kill -9` in the middle of a burst of 200 submissions: nothing lost, nothing duplicated.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;

/// A short job (1 s) so the forecast's backlog stays shallow and the test fast.
fn burst_body(key: &str, class: &str) -> String {
    serde_json::json!({"idempotency_key": key, "workflow_id": format!("wf-{key}"), "class": class,
                       "overrides": {"duration": "1s"}})
    .to_string()
}

/// Posts `keys` from 4 threads; returns the keys acknowledged (2xx) before the first failure.
fn burst(base: &str, keys: &[String], stop_on_error: bool) -> Vec<(String, u16, String)> {
    let chunks: Vec<Vec<String>> = (0..4)
        .map(|t| keys.iter().skip(t).step_by(4).cloned().collect())
        .collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let base = base.to_string();
            std::thread::spawn(move || {
                let a = agent();
                let mut acked = Vec::new();
                for k in chunk {
                    let class = if k.ends_with('0') { "gang" } else { "short" };
                    match call(
                        &a,
                        "POST",
                        &format!("{base}/v1/jobs"),
                        Some(&burst_body(&k, class)),
                        &[],
                    ) {
                        Ok((st, b)) if st < 300 => {
                            let v: Value = serde_json::from_str(&b).unwrap();
                            acked.push((k, st, v["name"].as_str().unwrap().to_string()));
                        }
                        Ok((st, b)) => panic!("{k}: {st} {b}"),
                        Err(_) if stop_on_error => break,
                        Err(e) => panic!("{k}: {e}"),
                    }
                }
                acked
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn kill_9_mid_burst_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("crash");
    let keys: Vec<String> = (0..200).map(|i| format!("burst-{i}")).collect();
    let mut s = serve(&out, "dry-run", &[], &[]);
    let base = s.base.clone();
    let keys2 = keys.clone();
    let client = std::thread::spawn(move || burst(&base, &keys2, true));
    let manifests = out.join("manifests");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&manifests)
        .map(|d| d.count())
        .unwrap_or(0)
        < 60
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    let before = client.join().unwrap();
    assert!(
        !before.is_empty() && before.len() < 200,
        "the kill landed mid-burst ({} acked)",
        before.len()
    );
    let s = serve(&out, "dry-run", &[], &[]);
    let after = burst(&s.base, &keys, false);
    assert_eq!(after.len(), 200);
    let names: BTreeMap<&str, &str> = after
        .iter()
        .map(|(k, _, n)| (k.as_str(), n.as_str()))
        .collect();
    for (k, _, n) in &before {
        assert_eq!(names[k.as_str()], n, "acknowledged key {k} kept its object");
        assert!(
            after.iter().any(|(k2, st, _)| k2 == k && *st == 200),
            "acknowledged key {k} was not lost"
        );
    }
    // exactly one manifest per key, each naming its key; one journal submit per key
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    for e in std::fs::read_dir(&manifests).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tmp") {
            continue;
        }
        let objs: Vec<Value> =
            serde_saphyr::from_multiple(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let k = objs[0]["metadata"]["annotations"]["volsim.io/idempotency-key"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(names[k.as_str()], objs[0]["metadata"]["name"]);
        *by_key.entry(k).or_default() += 1;
    }
    assert_eq!(by_key.len(), 200, "no key lost");
    assert!(by_key.values().all(|&n| n == 1), "no duplicates");
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap();
    let submits: Vec<String> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["op"] == "submit")
        .map(|v| v["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(submits.len(), 200);
    assert_eq!(submits.iter().collect::<BTreeSet<_>>().len(), 200);
    let (_, list) = call(&agent(), "GET", &format!("{}/v1/jobs", s.base), None, &[]).unwrap();
    let v: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 200);
}
