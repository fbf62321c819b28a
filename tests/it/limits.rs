//! Bounded numbers (`docs/limits.md`): an oversized number in a scenario, sweep, journal or flag
//! is an error (exit 2) naming the file or flag, the field and the limit, within a second and
//! with a peak resident set under 100 MB — never an eager allocation, a hang or a silently
//! wrapped value.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Largest peak resident set of a refused run (the binary itself takes ~10–20 MB).
const MAX_RSS_BYTES: u64 = 100 << 20;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/live")
        .join(name)
}

/// A finished child: exit code (None when killed by a signal), stderr, wall time and peak
/// resident set (`ru_maxrss` from `wait4`).
struct Measured {
    code: Option<i32>,
    stderr: String,
    took: Duration,
    max_rss: u64,
}

/// Runs volsim with `args` and measures it.
#[allow(clippy::zombie_processes)] // reaped by `wait4`, which `Child::wait` cannot replace
fn measure(args: &[&str]) -> Measured {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child (not reaped by `Child`, which is not waited on after).
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stderr,
        took: t.elapsed(),
        // Linux reports ru_maxrss in KiB
        max_rss: u64::try_from(ru.ru_maxrss).unwrap_or(0) * 1024,
    }
}

/// Runs volsim; asserts exit 2 within a second with a peak RSS under `MAX_RSS_BYTES`, and
/// every `needle` in stderr.
fn expect_2(args: &[&str], needles: &[&str]) {
    let m = measure(args);
    let err = &m.stderr;
    eprintln!(
        "{:?}: exit {:?} in {:?}, peak RSS {} KiB",
        args.first(),
        m.code,
        m.took,
        m.max_rss >> 10
    );
    assert_eq!(m.code, Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected {n:?} in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        m.took < Duration::from_secs(1),
        "{args:?} took {:?}",
        m.took
    );
    assert!(m.max_rss > 0, "{args:?}: no resident set measured");
    assert!(
        m.max_rss < MAX_RSS_BYTES,
        "{args:?}: peak RSS {} bytes, limit {MAX_RSS_BYTES}",
        m.max_rss
    );
}

fn small_with(dir: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(fixture("small.toml")).unwrap();
    assert!(text.contains(from), "{from}");
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn node_count_and_repeat_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let p = small_with(d.path(), "count = 2", "count = 4294967295");
    expect_2(&["run", &p], &[&p, "nodes[0].count", "100000"]);
    let p = small_with(
        d.path(),
        "[[workload.classes]]",
        "[workload]\nrepeat = 4000000000\n\n[[workload.classes]]",
    );
    expect_2(&["run", &p], &[&p, "workload.repeat", "10000"]);
    let p = small_with(
        d.path(),
        "[[workload.classes]]",
        "[workload]\nrepeat = 10000\n\n[[workload.classes]]",
    );
    let text = std::fs::read_to_string(&p).unwrap();
    // 12 jobs × 10000 is fine; many more classes' jobs would not be — raise the arrivals
    let many: Vec<String> = (0..300).map(|i| format!("\"{i}s\"")).collect();
    std::fs::write(
        &p,
        text.replacen(
            "times = [\"0s\", \"1s\", \"2s\", \"3s\", \"4s\", \"5s\", \"6s\", \"7s\"]",
            &format!("times = [{}]", many.join(", ")),
            1,
        ),
    )
    .unwrap();
    expect_2(&["run", &p], &[&p, "workload.repeat", "2000000"]);
}

#[test]
fn sweep_values_and_replications_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let sc = fixture("small.toml");
    let sw = d.path().join("sweep.toml");
    let write = |body: &str| {
        std::fs::write(
            &sw,
            format!("scenario = {:?}\n{body}", sc.to_str().unwrap()),
        )
        .unwrap();
        sw.to_str().unwrap().to_string()
    };
    let p = write("[[axis]]\npath = \"nodes.w.count\"\nvalues = [1, 2147483648]\n");
    expect_2(
        &["sweep", &p, "--out", d.path().join("o").to_str().unwrap()],
        &[&p, "axis[0].values[1]", "2147483647"],
    );
    let p = write("replications = 4294967295\n");
    expect_2(
        &["sweep", &p, "--out", d.path().join("o").to_str().unwrap()],
        &[&p, "replications", "10000"],
    );
    let p = write("replications = 10000\n[[axis]]\npath = \"a\"\nvalues = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101]\n");
    expect_2(
        &["sweep", &p, "--out", d.path().join("o").to_str().unwrap()],
        &[&p, "1000000 points"],
    );
    // found by fuzzing: 19 two-valued axes (524,288 points, within the point limit) expanded
    // to 10 M values, 1.1 GB, from a 600-byte file
    let axes: String = (0..19)
        .map(|i| format!("[[axis]]\npath = \"nodes.w{i}.count\"\nvalues = [1, 2]\n"))
        .collect();
    let p = write(&axes);
    expect_2(
        &["sweep", &p, "--out", d.path().join("o").to_str().unwrap()],
        &[&p, "field axis", "9961472 values", "4000000"],
    );
}

#[test]
fn speed_and_durations_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let sc = fixture("small.toml");
    let sc = sc.to_str().unwrap();
    let out = d.path().join("o");
    let out = out.to_str().unwrap();
    for speed in ["1e300", "inf", "0", "-1", "NaN"] {
        let flag = format!("--speed={speed}");
        let base = [
            "live",
            "run",
            "--scenario",
            sc,
            "--backend",
            "twin",
            &flag,
            "--out",
            out,
        ];
        expect_2(&base, &["--speed", "1000000"]);
        let mut serve = base.to_vec();
        serve[1] = "serve";
        serve.extend(["--listen", "127.0.0.1:0"]);
        expect_2(&serve, &["--speed", "1000000"]);
    }
    expect_2(
        &[
            "live",
            "run",
            "--scenario",
            sc,
            "--backend",
            "twin",
            "--out",
            out,
            "--hold-above",
            "340282366920938463463374607431768211.999us",
        ],
        &["--hold-above", "maximum duration"],
    );
}

#[test]
fn a_journal_time_beyond_the_limit_is_an_error_not_a_hang() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o");
    std::fs::create_dir_all(&out).unwrap();
    let line = r#"{"op":"delete","name":"abc","t_ms":18446744073709551615}"#;
    std::fs::write(out.join("journal.jsonl"), format!("{line}\n")).unwrap();
    let j = out.join("journal.jsonl");
    expect_2(
        &[
            "live",
            "run",
            "--scenario",
            fixture("small.toml").to_str().unwrap(),
            "--backend",
            "twin",
            "--out",
            out.to_str().unwrap(),
        ],
        &[j.to_str().unwrap(), "line 1", "t_ms", "315360000000"],
    );
}

#[test]
fn two_processes_cannot_share_one_out_dir() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o");
    let first = Command::new(env!("CARGO_BIN_EXE_volsim"))
        .args([
            "live",
            "serve",
            "--scenario",
            fixture("small.toml").to_str().unwrap(),
            "--backend",
            "twin",
            "--listen",
            "127.0.0.1:0",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed and reaped when the test ends, also when an assertion fails (an orphaned server
    // would keep the test run's output pipe open).
    let mut first = crate::live::Served {
        child: first,
        base: String::new(),
    };
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(first.child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(line.starts_with("listening"), "{line}");
    expect_2(
        &[
            "live",
            "run",
            "--scenario",
            fixture("small.toml").to_str().unwrap(),
            "--backend",
            "twin",
            "--out",
            out.to_str().unwrap(),
        ],
        &["journal.jsonl", "locked by another volsim"],
    );
}

#[test]
fn trace_replicas_pods_and_repeated_times_are_bounded() {
    // found by an abuse probe: a trace row of 4,000,000,000 replicas grew `run` past 4 GB;
    // a submit time near u64::MAX under workload.repeat overflowed
    let d = tempfile::tempdir().unwrap();
    let trace = d.path().join("trace.csv");
    let sc = d.path().join("scenario.toml");
    let run = |rows: &str, workload: &str| {
        std::fs::write(
            &trace,
            format!("job_id,submit_ms,duration_s,replicas,min_member,cpu_milli_per_pod,mem_mib_per_pod,queue,priority\n{rows}"),
        )
        .unwrap();
        std::fs::write(
            &sc,
            format!("horizon = \"1h\"\n[[nodes]]\nname = \"n\"\ncount = 1\ncpu = \"4\"\nmemory = \"8Gi\"\n[workload]\ntrace = \"trace.csv\"\n{workload}"),
        )
        .unwrap();
        sc.to_str().unwrap().to_string()
    };
    let p = run("j1,0,60,4000000000,1,1,1,default,0\n", "");
    expect_2(
        &["run", &p],
        &[
            &p,
            "field workload",
            "replicas 4000000000",
            "100000 pods per job",
        ],
    );
    let rows: String = (0..201)
        .map(|i| format!("j{i},0,60,100000,1,1,1,default,0\n"))
        .collect();
    let p = run(&rows, "");
    expect_2(&["run", &p], &[&p, "20100000 pods", "20000000"]);
    let p = run(
        "j1,18446744073709551615,60,1,1,1,1,default,0\n",
        "repeat = 2\n",
    );
    expect_2(&["run", &p], &[&p, "workload.repeat", "overflow"]);
}

#[test]
fn trace_gen_jobs_are_bounded() {
    // found by an abuse probe: `--jobs 18446744073709551615` panicked (capacity overflow)
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("g.csv");
    let out = out.to_str().unwrap();
    for jobs in ["18446744073709551615", "2000001"] {
        expect_2(
            &[
                "trace",
                "gen",
                "--scenario",
                "steady",
                "--jobs",
                jobs,
                "--nodes",
                "10",
                "--out",
                out,
            ],
            &["--jobs", jobs, "2000000 jobs"],
        );
    }
}

#[test]
fn sweep_threads_are_bounded() {
    // found by an abuse probe: `sweep --jobs 100000` started 100,000 threads and hung
    let d = tempfile::tempdir().unwrap();
    let sw = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/sweeps/somaagenthub-smoke.toml");
    let out = d.path().join("o");
    expect_2(
        &[
            "sweep",
            sw.to_str().unwrap(),
            "--jobs",
            "100000",
            "--out",
            out.to_str().unwrap(),
        ],
        &["--jobs", "100000", "1024 worker threads"],
    );
}
