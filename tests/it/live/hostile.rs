//! `live serve` against hostile clients (loopback only, bounded in time and bytes): every
//! attack gets a 4xx or a closed connection while a prober keeps getting `/healthz` answered;
//! then 1,000 good submissions are all kept, and SIGTERM stops the server cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

fn connect(base: &str) -> TcpStream {
    let s = TcpStream::connect(addr(base)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `bytes` and returns the status code of the answer (`None`: closed without one).
fn status_of(s: &mut TcpStream, bytes: &[u8]) -> Option<u16> {
    let _ = s.write_all(bytes);
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.split(' ').nth(1)?.parse().ok()
}

/// True when the server closes `s` within `within` (EOF or reset).
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    let t = Instant::now();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
        if t.elapsed() > within {
            return false;
        }
    }
}

/// 4xx, or a closed connection.
fn refused(what: &str, st: Option<u16>) {
    assert!(
        st.is_none_or(|c| (400..500).contains(&c)),
        "{what}: answered {st:?}"
    );
}

/// Probes `/healthz` every 20 ms on a fresh connection; records the slowest answer.
struct Prober {
    stop: Arc<AtomicBool>,
    worst: Arc<Mutex<(Duration, usize, usize)>>,
    thread: std::thread::JoinHandle<()>,
}

impl Prober {
    fn start(base: &str) -> Prober {
        let stop = Arc::new(AtomicBool::new(false));
        let worst = Arc::new(Mutex::new((Duration::ZERO, 0usize, 0usize)));
        let (b, st, w) = (base.to_string(), stop.clone(), worst.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let t = Instant::now();
                let mut s = connect(&b);
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let ok =
                    status_of(&mut s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == Some(200);
                let el = t.elapsed();
                let mut g = w.lock().unwrap();
                g.0 = g.0.max(el);
                g.1 += 1;
                if !ok {
                    g.2 += 1;
                }
                drop(g);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Prober {
            stop,
            worst,
            thread,
        }
    }
    /// (slowest answer, probes, failed probes)
    fn finish(self) -> (Duration, usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
        *self.worst.lock().unwrap()
    }
}

#[test]
fn hostile_clients_get_4xx_or_closed_and_healthz_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let s = serve(
        &out,
        "dry-run",
        &[
            "--max-body",
            "4096",
            "--read-timeout",
            "1s",
            "--idle-timeout",
            "2s",
        ],
        &[],
    );
    let prober = Prober::start(&s.base);
    let t0 = Instant::now();

    // huge declared bodies, no body sent, on every route, token or not
    for path in ["/healthz", "/v1/jobs", "/metrics", "/nope"] {
        for method in ["GET", "POST"] {
            let mut c = connect(&s.base);
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n"
            );
            let st = status_of(&mut c, req.as_bytes());
            assert_eq!(st, Some(413), "{method} {path}");
            assert!(
                closed_within(&mut c, Duration::from_secs(3)),
                "{method} {path} kept open"
            );
        }
    }
    // u64::MAX and beyond: refused by the parser, more than four times
    for cl in [
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "1e3",
        "1, 2",
    ] {
        for _ in 0..5 {
            let mut c = connect(&s.base);
            let req = format!("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: {cl}\r\n\r\n");
            refused(cl, status_of(&mut c, req.as_bytes()));
        }
    }
    // after a 413 the declared 1 GB is not read: the connection is gone long before
    let mut c = connect(&s.base);
    c.write_all(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
        .unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < 256 << 20 {
        if c.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    assert!(
        sent < 256 << 20,
        "server kept reading a refused body ({sent} bytes)"
    );

    // slow bodies: four (and more) clients send part of a body and stall
    let mut slow: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut c = connect(&s.base);
            c.write_all(b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"idem")
                .unwrap();
            c
        })
        .collect();
    // slowloris headers: one byte every 200 ms
    let mut loris = connect(&s.base);
    loris.write_all(b"GET /healthz HTTP/1.1\r\nX-A: ").unwrap();
    let loris_t = Instant::now();
    let mut loris_closed = false;
    while loris_t.elapsed() < Duration::from_secs(5) {
        if loris.write_all(b"a").is_err() {
            loris_closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        loris_closed || closed_within(&mut loris, Duration::from_secs(2)),
        "slowloris kept"
    );
    for c in &mut slow {
        let mut line = String::new();
        let _ = BufReader::new(c.try_clone().unwrap()).read_line(&mut line);
        refused(
            "slow body",
            line.split(' ').nth(1).and_then(|x| x.parse().ok()),
        );
        assert!(
            closed_within(c, Duration::from_secs(3)),
            "slow body kept open"
        );
    }
    // idle connections are dropped
    let mut idle: Vec<TcpStream> = (0..8).map(|_| connect(&s.base)).collect();
    for c in &mut idle {
        assert!(
            closed_within(c, Duration::from_secs(5)),
            "idle connection kept"
        );
    }
    // one long header line, and too many headers
    let mut c = connect(&s.base);
    let _ = c.write_all(b"GET /healthz HTTP/1.1\r\nX-Big: ");
    let big = vec![b'a'; 64 << 10];
    let mut wrote = 0usize;
    while wrote < 8 << 20 && c.write_all(&big).is_ok() {
        wrote += big.len();
    }
    refused("long header", status_of(&mut c, b"\r\n\r\n"));
    assert!(
        wrote < 8 << 20,
        "server buffered {wrote} bytes of one header line"
    );
    let mut many = String::from("GET /healthz HTTP/1.1\r\n");
    for i in 0..500 {
        many.push_str(&format!("X-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    refused(
        "many headers",
        status_of(&mut connect(&s.base), many.as_bytes()),
    );
    // a streamed body over the limit, and garbage
    let mut c = connect(&s.base);
    let mut chunked =
        String::from("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..8 {
        chunked.push_str(&format!("400\r\n{}\r\n", "a".repeat(1024)));
    }
    chunked.push_str("0\r\n\r\n");
    assert_eq!(status_of(&mut c, chunked.as_bytes()), Some(413));
    refused(
        "garbage",
        status_of(&mut connect(&s.base), b"\x00\x01\x02 GARBAGE\r\n\r\n"),
    );

    let attacks = t0.elapsed();
    let (worst, probes, failed) = prober.finish();
    eprintln!(
        "hostile: {probes} /healthz probes during {attacks:?}, slowest {worst:?}, failed {failed}"
    );
    assert_eq!(failed, 0, "/healthz failed during the attacks");
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?}"
    );
    assert!(probes > 20);
}

#[test]
fn connection_cap_and_fd_exhaustion_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(
        &dir.path().join("o"),
        "twin",
        &["--max-connections", "8"],
        &[],
    );
    // hold all the slots: the next connection gets 503 and is closed
    let held: Vec<TcpStream> = (0..8).map(|_| connect(&s.base)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let st = status_of(&mut connect(&s.base), b"GET /healthz HTTP/1.1\r\n\r\n");
    assert!(st.is_none_or(|c| c == 503), "{st:?}");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    // run the server out of descriptors (RLIMIT_NOFILE lowered under it)
    let lim = libc::rlimit {
        rlim_cur: 48,
        rlim_max: 4096,
    };
    let s2 = serve(
        &dir.path().join("o2"),
        "twin",
        &["--max-connections", "1000"],
        &[],
    );
    let pid2 = s2.child.id() as libc::pid_t;
    // SAFETY: prlimit on our own child process.
    assert_eq!(
        unsafe { libc::prlimit(pid2, libc::RLIMIT_NOFILE, &lim, std::ptr::null_mut()) },
        0
    );
    let flood: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(addr(&s2.base)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    drop(flood);
    // the accept loop backs off and comes back once descriptors are free
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = connect(&s2.base);
        if status_of(&mut c, b"GET /healthz HTTP/1.1\r\n\r\n") == Some(200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server did not recover from EMFILE"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut c = connect(&s.base);
    assert_eq!(
        status_of(&mut c, b"GET /healthz HTTP/1.1\r\n\r\n"),
        Some(200)
    );
}

#[test]
fn a_thousand_good_submissions_are_all_kept_and_sigterm_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let mut s = serve(&out, "dry-run", &[], &[]);
    let t = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let base = s.base.clone();
            std::thread::spawn(move || {
                let a = agent();
                (0..250)
                    .map(|i| {
                        let k = format!("good-{w}-{i}");
                        // 1 s jobs keep the forecast backlog shallow
                        let b = serde_json::json!({"idempotency_key": k, "workflow_id": "wf",
                            "class": "short", "overrides": {"duration": "1s"}})
                        .to_string();
                        let (st, b) =
                            call(&a, "POST", &format!("{base}/v1/jobs"), Some(&b), &[]).unwrap();
                        assert_eq!(st, 201, "{k}: {b}");
                        k
                    })
                    .count()
            })
        })
        .collect();
    let n: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let took = t.elapsed();
    eprintln!("1000 submissions in {took:?}");
    assert_eq!(n, 1000);
    let (st, b) = call(&agent(), "GET", &format!("{}/v1/jobs", s.base), None, &[]).unwrap();
    assert_eq!(st, 200);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 1000);
    // SIGTERM: graceful stop, exit 0, outputs flushed
    // SAFETY: signalling our own child.
    unsafe { libc::kill(s.child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st.code();
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    let pred = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert_eq!(pred.lines().count(), 1001);
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap();
    assert_eq!(
        journal
            .lines()
            .filter(|l| l.contains("\"op\":\"submit\""))
            .count(),
        1000
    );
    assert_eq!(
        std::fs::read_dir(out.join("manifests")).unwrap().count(),
        1000
    );
}
