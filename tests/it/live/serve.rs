//! `live serve`: the API on the twin, bad requests, the bearer token.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::*;

#[test]
fn serve_twin_api() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), "twin", &["--max-body", "2048"], &[]);
    let a = agent();
    let u = |p: &str| format!("{}{p}", s.base);
    let (st, b) = call(&a, "GET", &u("/healthz"), None, &[]).unwrap();
    assert_eq!((st, b.contains("twin")), (200, true), "{b}");
    // submit a class job, an activity job, replay, conflict
    let (st, b) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "gang")), &[]).unwrap();
    assert_eq!(st, 201, "{b}");
    let j: Value = serde_json::from_str(&b).unwrap();
    let name = j["name"].as_str().unwrap().to_string();
    assert_eq!(j["queue"], "batch");
    assert_eq!(j["min_member"], 3);
    assert!(j["predicted_wait_ms"].is_u64(), "{j}");
    let (st, b2) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "gang")), &[]).unwrap();
    assert_eq!(st, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&b2).unwrap()["name"],
        name.as_str()
    );
    let (st, b) = call(&a, "POST", &u("/v1/jobs"), Some(&body("k-1", "short")), &[]).unwrap();
    assert_eq!(st, 409, "{b}");
    let act =
        json!({"workflow_id": "wf", "activity_type": "train-big", "overrides": {"duration": "5s"}})
            .to_string();
    let (st, b) = call(
        &a,
        "POST",
        &u("/v1/jobs"),
        Some(&act),
        &[("Idempotency-Key", "act-1")],
    )
    .unwrap();
    assert_eq!(st, 201, "{b}");
    let aj: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        (aj["queue"].as_str(), aj["replicas"].as_u64()),
        (Some("batch"), Some(2))
    );
    // observed phase moves on in the twin (speed 50: 1 s of model time per 20 ms)
    let deadline = Instant::now() + Duration::from_secs(10);
    let phase = loop {
        let (st, b) = call(&a, "GET", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
        assert_eq!(st, 200);
        let v: Value = serde_json::from_str(&b).unwrap();
        let p = v["observed"]["phase"].as_str().unwrap().to_string();
        if p == "Running" || p == "Completed" || Instant::now() > deadline {
            assert!(v["observed"]["wait_ms"].is_u64(), "{v}");
            break p;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(phase == "Running" || phase == "Completed", "{phase}");
    let (st, b) = call(&a, "GET", &u("/metrics"), None, &[]).unwrap();
    assert_eq!(st, 200);
    assert!(
        b.contains("volsim_live_submissions_total{queue=\"batch\"} 2"),
        "{b}"
    );
    assert!(
        b.contains("volsim_live_admissions_total{queue=\"batch\"}"),
        "{b}"
    );
    assert!(
        b.contains("volsim_live_prediction_abs_error_seconds_count"),
        "{b}"
    );
    assert!(b.contains("volsim_live_idempotent_replays_total 1"), "{b}");
    let (st, b) = call(&a, "DELETE", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
    assert_eq!(st, 200, "{b}");
    let (_, b) = call(&a, "GET", &u(&format!("/v1/jobs/{name}")), None, &[]).unwrap();
    assert!(b.contains("\"Deleted\""), "{b}");
    let (st, _) = call(&a, "GET", &u("/v1/jobs/nope"), None, &[]).unwrap();
    assert_eq!(st, 404);
    // malformed and oversized requests
    let bad = [
        ("{", "body"),
        ("[1]", "body"),
        (r#"{"workflow_id":"w","class":"gang"}"#, "idempotency_key"),
        (r#"{"idempotency_key":"x","class":"gang"}"#, "workflow_id"),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"nope"}"#,
            "class",
        ),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"gang","overrides":{"cpu":"many"}}"#,
            "overrides.cpu",
        ),
        (
            r#"{"idempotency_key":"x","workflow_id":"w","class":"gang","bogus":true}"#,
            "bogus",
        ),
    ];
    for (b, field) in bad {
        let (st, resp) = call(&a, "POST", &u("/v1/jobs"), Some(b), &[]).unwrap();
        assert_eq!(st, 400, "{b}: {resp}");
        assert_eq!(
            serde_json::from_str::<Value>(&resp).unwrap()["field"],
            field,
            "{b}"
        );
    }
    let huge = json!({"idempotency_key": "big", "workflow_id": "x".repeat(5000), "class": "gang"})
        .to_string();
    let (st, resp) = call(&a, "POST", &u("/v1/jobs"), Some(&huge), &[]).unwrap();
    assert_eq!(st, 413, "{resp}");
    let (st, _) = call(&a, "GET", &u("/v2/nothing"), None, &[]).unwrap();
    assert_eq!(st, 404);
    let (st, _) = call(&a, "GET", &u("/v1/jobs"), None, &[]).unwrap();
    assert_eq!(st, 200);
}

#[test]
fn token_required_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let sc = fixture("small.toml");
    let out = Command::new(bin())
        .args([
            "live",
            "serve",
            "--scenario",
            sc.to_str().unwrap(),
            "--backend",
            "twin",
            "--listen",
            "0.0.0.0:0",
            "--out",
        ])
        .arg(dir.path())
        .env_remove("VOLSIM_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bearer token is required"));
    let tok = dir.path().join("token");
    std::fs::write(&tok, "t0ps3cret\n").unwrap();
    // a token file others can read is refused
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tok, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (code, _, err) = run(&[
            "live",
            "serve",
            "--scenario",
            fixture("small.toml").to_str().unwrap(),
            "--backend",
            "twin",
            "--out",
            dir.path().join("o").to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
            "--token-file",
            tok.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("readable by others") && err.contains("token"),
            "{err}"
        );
        std::fs::set_permissions(&tok, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let s = serve(
        &dir.path().join("o"),
        "twin",
        &[
            "--listen",
            "0.0.0.0:0",
            "--token-file",
            tok.to_str().unwrap(),
        ],
        &[],
    );
    let a = agent();
    let url = format!("{}/v1/jobs", s.base);
    let (st, b) = call(&a, "POST", &url, Some(&body("k", "short")), &[]).unwrap();
    assert_eq!(st, 401, "{b}");
    assert!(!b.contains("t0ps3cret"));
    let (st, _) = call(
        &a,
        "POST",
        &url,
        Some(&body("k", "short")),
        &[("Authorization", "Bearer wrong")],
    )
    .unwrap();
    assert_eq!(st, 401);
    let (st, b) = call(
        &a,
        "POST",
        &url,
        Some(&body("k", "short")),
        &[("Authorization", "Bearer t0ps3cret")],
    )
    .unwrap();
    assert_eq!(st, 201, "{b}");
    let (st, _) = call(&a, "GET", &format!("{}/healthz", s.base), None, &[]).unwrap();
    assert_eq!(st, 200, "health stays open for probes");
    // env var works too, on loopback a token is optional but enforced when given
    let s2 = serve(
        &dir.path().join("o2"),
        "twin",
        &[],
        &[("VOLSIM_TOKEN", "envtok")],
    );
    let (st, _) = call(&a, "GET", &format!("{}/metrics", s2.base), None, &[]).unwrap();
    assert_eq!(st, 401);
    let (st, _) = call(
        &a,
        "GET",
        &format!("{}/metrics", s2.base),
        None,
        &[("Authorization", "Bearer envtok")],
    )
    .unwrap();
    assert_eq!(st, 200);
}

/// Raw sockets: a chunked body over the limit (no Content-Length to check up front) is refused
/// with 413, and garbage on the wire does not take the server down.
#[test]
fn chunked_oversize_and_garbage() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let s = serve(dir.path(), "dry-run", &["--max-body", "1024"], &[]);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let chunk = "x".repeat(4000);
    let req = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    let _ = c.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    let mut g = std::net::TcpStream::connect(&addr).unwrap();
    g.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = g.write_all(b"\x00\x01GARBAGE \xff\r\n\r\n");
    let mut sink = Vec::new();
    let _ = g.read_to_end(&mut sink);
    let (st, _) = call(&agent(), "GET", &format!("{}/healthz", s.base), None, &[]).unwrap();
    assert_eq!(st, 200);
}
