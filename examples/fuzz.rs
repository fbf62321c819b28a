//! Fuzzing and abuse harness for every parser of untrusted input, on stable Rust, no network.
//!
//! `cargo run --release --example fuzz -- --target NAME|all [--seconds N] [--seed S]` runs each
//! target in a worker child process for N seconds: the seeds unmodified, then seeded,
//! deterministic mutations of them (`fuzz/mutate.rs`), each parsed in-process under
//! `catch_unwind`, with a per-input wall limit and heap / resident-set ceilings (`fuzz/guard.rs`).
//! A panic, time-out, memory blow-up, crash (abort, stack overflow) or an error that does not
//! name its file is a finding: the input goes to `<out>/<target>/<kind>-<hash>` (with a `.txt`
//! saying why) and the harness exits 1. `--replay FILE --target NAME` parses one file and prints
//! the outcome. `--list` prints the targets. Documented in `docs/fuzzing.md`.
//!
//! Depends on the library's public API only (`fuzz/targets.rs`).

#[path = "fuzz/guard.rs"]
mod guard;
#[path = "fuzz/mutate.rs"]
mod mutate;
#[path = "fuzz/targets.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use guard::{Limits, Slot, FINDING_EXIT};
use targets::{Input, Target, LABEL, TARGETS};

#[global_allocator]
static ALLOC: guard::Counting = guard::Counting;

const USAGE: &str = "usage: fuzz [--target NAME|all] [--seconds N] [--seed S] [--out DIR] \
[--timeout-ms MS] [--max-heap-mb MB] [--max-rss-mb MB] [--root DIR] | --replay FILE --target NAME \
[--origin SEED] | --list";

struct Args {
    target: String,
    seconds: u64,
    seed: u64,
    out: PathBuf,
    root: PathBuf,
    limits: Limits,
    replay: Option<PathBuf>,
    origin: Option<PathBuf>,
    worker: bool,
    list: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        target: "all".into(),
        seconds: 60,
        seed: 1,
        out: PathBuf::from("target/fuzz-findings"),
        root: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        limits: Limits {
            timeout: Duration::from_millis(2000),
            // a valid scenario at the documented limits (2,000,000 jobs) peaks near 1.5 GB
            max_heap: 2048 << 20,
            max_rss: 3072 << 20,
        },
        replay: None,
        origin: None,
        worker: false,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let num = |v: String, f: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{f}: expected a whole number, got {v:?}"))
        };
        match flag.as_str() {
            "--target" => a.target = value()?,
            "--seconds" => a.seconds = num(value()?, "--seconds")?,
            "--seed" => a.seed = num(value()?, "--seed")?,
            "--out" => a.out = value()?.into(),
            "--root" => a.root = value()?.into(),
            "--timeout-ms" => {
                a.limits.timeout = Duration::from_millis(num(value()?, "--timeout-ms")?)
            }
            "--max-heap-mb" => {
                a.limits.max_heap = usize::try_from(num(value()?, "--max-heap-mb")?)
                    .unwrap_or(usize::MAX >> 20)
                    .min(1 << 24)
                    << 20
            }
            "--max-rss-mb" => a.limits.max_rss = num(value()?, "--max-rss-mb")?.min(1 << 24) << 20,
            "--replay" => a.replay = Some(value()?.into()),
            "--origin" => a.origin = Some(value()?.into()),
            "--worker" => a.worker = true,
            "--list" => a.list = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

fn find(name: &str) -> Result<&'static Target, String> {
    TARGETS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
        format!("unknown target {name:?} (known: all, {})", names.join(", "))
    })
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let r = if a.list {
        for t in TARGETS {
            println!("{:15} {}", t.name, t.covers);
        }
        Ok(true)
    } else if let Some(f) = &a.replay {
        replay(&a, f)
    } else if a.worker {
        worker(&a)
    } else {
        supervise(&a)
    };
    match r {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

fn replay(a: &Args, file: &Path) -> Result<bool, String> {
    let t = find(&a.target)?;
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let call = (t.make)(&a.root);
    // relative references of a scenario or sweep resolve next to the seed it came from
    let origin = a
        .origin
        .clone()
        .unwrap_or_else(|| a.root.join("scenarios/somaagenthub/scenario.toml"));
    let input = Input {
        bytes: &bytes,
        origin: &origin,
    };
    let t0 = Instant::now();
    guard::reset_peak();
    let r = catch_unwind(AssertUnwindSafe(|| call(&input)));
    println!(
        "{}: {} in {:?}, peak heap {} bytes",
        file.display(),
        match &r {
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "PANIC".to_string(),
        },
        t0.elapsed(),
        guard::peak()
    );
    Ok(r.is_ok())
}

/// Runs each selected target in its own worker process; files the input of a worker that
/// died or reported a finding.
fn supervise(a: &Args) -> Result<bool, String> {
    let list: Vec<&Target> = if a.target == "all" {
        TARGETS.iter().collect()
    } else {
        vec![find(&a.target)?]
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut clean = true;
    for t in list {
        let dir = a.out.join(t.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut child = Command::new(&exe)
            .args(std::env::args().skip(1))
            .args(["--worker", "--target", t.name])
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        let deadline = Instant::now()
            + Duration::from_secs(a.seconds)
            + a.limits.timeout * t.slow * (guard::WALL_FACTOR + 1)
            + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let (kind, detail) = match status {
            Some(s) if s.success() => continue,
            Some(s) if s.code() == Some(FINDING_EXIT) => {
                let r = std::fs::read_to_string(Slot::reason_path(&dir)).unwrap_or_default();
                let (k, d) = r.split_once('\n').unwrap_or(("finding", &r));
                (k.to_string(), d.to_string())
            }
            Some(s) if s.code() == Some(2) => return Err(format!("target {}: bad setup", t.name)),
            Some(s) => (
                "crash".into(),
                format!("the worker died: {s} (see its output above)"),
            ),
            None => (
                "hang".into(),
                "the worker stopped answering and was killed".into(),
            ),
        };
        clean = false;
        let input = std::fs::read(Slot::current_path(&dir)).unwrap_or_default();
        let seed = detail
            .lines()
            .find_map(|l| l.strip_prefix(guard::ORIGIN))
            .map(|o| format!(" --origin {o}"))
            .unwrap_or_default();
        let name = format!("{kind}-{:016x}", volsim::model::fnv1a(&input));
        let path = dir.join(&name);
        std::fs::write(&path, &input).map_err(|e| format!("{}: {e}", path.display()))?;
        let note = format!(
            "target {}\nkind {kind}\n{detail}\nreproduce: cargo run --release --example fuzz -- --replay {} --target {}{seed}\n",
            t.name,
            path.display(),
            t.name
        );
        std::fs::write(path.with_extension("txt"), &note).map_err(|e| e.to_string())?;
        eprintln!(
            "FINDING {}: {kind}: {detail}\n  input: {}",
            t.name,
            path.display()
        );
    }
    Ok(clean)
}

static PANIC: Mutex<String> = Mutex::new(String::new());

/// One target: seeds, then mutations until the time is up.
fn worker(a: &Args) -> Result<bool, String> {
    let t = find(&a.target)?;
    let seeds = targets::seeds(t, &a.root);
    if seeds.is_empty() {
        return Err(format!(
            "target {}: no seeds under {}",
            t.name,
            a.root.display()
        ));
    }
    let slot: &'static Slot = Box::leak(Box::new(
        Slot::create(&a.out.join(t.name)).map_err(|e| format!("{}: {e}", a.out.display()))?,
    ));
    let call = (t.make)(&a.root);
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut p) = PANIC.lock() {
            *p = info.to_string();
        }
    }));
    let bytes: Vec<Vec<u8>> = seeds.iter().map(|(_, b)| b.clone()).collect();
    let mut rng = mutate::Rng::new(a.seed ^ volsim::model::fnv1a(t.name.as_bytes()));
    let epoch = Instant::now();
    let limits = Limits {
        timeout: a.limits.timeout * t.slow,
        ..a.limits
    };
    guard::watchdog(epoch, limits, slot);
    let stop = epoch + Duration::from_secs(a.seconds);
    let (mut n, mut ok, mut slowest, mut top_heap) = (0u64, 0u64, Duration::ZERO, 0usize);
    while n < seeds.len() as u64 || Instant::now() < stop {
        let (input, base) = match seeds.get(n as usize) {
            Some((_, b)) => (b.clone(), n as usize),
            None => mutate::mutate(&bytes, &mut rng),
        };
        let origin = &seeds[base].0;
        slot.set(&input, origin)
            .map_err(|e| format!(".current: {e}"))?;
        let i = Input {
            bytes: &input,
            origin,
        };
        let t0 = guard::thread_cpu();
        guard::begin(epoch);
        let r = catch_unwind(AssertUnwindSafe(|| call(&i)));
        guard::end();
        let took = guard::thread_cpu().saturating_sub(t0);
        let heap = guard::peak();
        n += 1;
        match r {
            Err(_) => {
                let msg = PANIC.lock().map(|p| p.clone()).unwrap_or_default();
                slot.finding("panic", &msg);
            }
            Ok(Ok(())) => ok += 1,
            Ok(Err(e)) if t.names_file && !e.contains(LABEL) => slot.finding(
                "unnamed-error",
                &format!("the error does not name the file {LABEL:?}: {e}"),
            ),
            Ok(Err(_)) => {}
        }
        if took > a.limits.timeout * t.slow {
            slot.finding("timeout", &format!("one input took {took:?} of CPU time"));
        }
        if heap > a.limits.max_heap {
            slot.finding("memory", &format!("peak heap {heap} bytes for one input"));
        }
        slowest = slowest.max(took);
        top_heap = top_heap.max(heap);
    }
    println!(
        "{:15} {n} inputs ({} seeds) in {:.1?}: {ok} accepted, {} refused; slowest {slowest:.1?} CPU, peak heap {} KiB",
        t.name,
        seeds.len(),
        epoch.elapsed(),
        n - ok,
        top_heap >> 10
    );
    Ok(true)
}
