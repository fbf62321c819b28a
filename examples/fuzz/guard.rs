//! The worker's guards around each parser call: a counting global allocator (live and peak heap
//! bytes per input), a watchdog thread that ends the worker when one input runs past the wall
//! limit or the heap / resident set past their ceilings, and the `.current` / `.reason` files
//! through which the supervisor files a finding even when the worker dies (abort, stack
//! overflow, kill).
//!
//! Depends on std and libc. The allocator only counts; it never fails an allocation itself.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak since the last [`reset_peak`].
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: forwards every call to `System` unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() {
            grew(l.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(l);
        if !p.is_null() {
            grew(l.size());
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() {
            LIVE.fetch_sub(l.size(), Ordering::Relaxed);
            grew(new);
        }
        q
    }
}

/// Live heap bytes now.
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak measurement from the live bytes now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Peak live heap bytes since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Resident set size of this process, bytes (`/proc/self/statm`; 0 where unavailable).
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Per-input limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub max_heap: usize,
    pub max_rss: u64,
}

/// Where the worker leaves the input being parsed and, on a finding, why.
pub struct Slot {
    current: File,
    reason: PathBuf,
    /// The seed the input in progress was mutated from (relative references resolve there).
    origin: Mutex<PathBuf>,
}

impl Slot {
    pub fn current_path(dir: &Path) -> PathBuf {
        dir.join(".current")
    }
    pub fn reason_path(dir: &Path) -> PathBuf {
        dir.join(".reason")
    }
    pub fn create(dir: &Path) -> std::io::Result<Slot> {
        std::fs::create_dir_all(dir)?;
        let _ = std::fs::remove_file(Slot::reason_path(dir));
        Ok(Slot {
            current: File::create(Slot::current_path(dir))?,
            reason: Slot::reason_path(dir),
            origin: Mutex::new(PathBuf::new()),
        })
    }
    /// Records `input`, mutated from the seed `origin`, as the one being parsed (page cache
    /// only: no fsync).
    pub fn set(&self, input: &[u8], origin: &Path) -> std::io::Result<()> {
        if let Ok(mut o) = self.origin.lock() {
            o.clear();
            o.push(origin);
        }
        self.current.set_len(0)?;
        self.current.write_all_at(input, 0)
    }
    /// Says why the worker is about to exit with [`FINDING_EXIT`]; the last line of the reason
    /// is the seed the input came from.
    pub fn finding(&self, kind: &str, detail: &str) -> ! {
        let origin = self
            .origin
            .lock()
            .map(|o| o.display().to_string())
            .unwrap_or_default();
        let _ = std::fs::write(
            &self.reason,
            format!("{kind}\n{detail}\n{ORIGIN}{origin}\n"),
        );
        std::process::exit(FINDING_EXIT);
    }
}

/// Prefix of the reason's line naming the seed.
pub const ORIGIN: &str = "mutated from seed: ";

/// Exit code of a worker that filed a `.reason`.
pub const FINDING_EXIT: i32 = 3;

/// CPU time of the calling thread (immune to other processes on a busy machine).
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// How many times the CPU-time limit one input may take in wall time before the watchdog
/// calls it hung (the machine may be busy: CI shares its cores).
pub const WALL_FACTOR: u32 = 5;

/// Start of the input in progress, ns since `epoch` + 1 (0: none in progress).
static STARTED: AtomicU64 = AtomicU64::new(0);

/// Marks an input as started / finished for the watchdog.
pub fn begin(epoch: Instant) {
    reset_peak();
    STARTED.store(epoch.elapsed().as_nanos() as u64 + 1, Ordering::SeqCst);
}
pub fn end() {
    STARTED.store(0, Ordering::SeqCst);
}

/// Starts the watchdog: every 5 ms, the input in progress is checked against `limits` (wall
/// time against `WALL_FACTOR` × the CPU-time limit); a crossing files a `timeout` or `memory`
/// finding through `slot` and ends the process.
pub fn watchdog(epoch: Instant, limits: Limits, slot: &'static Slot) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(5));
        let s = STARTED.load(Ordering::SeqCst);
        if s == 0 {
            continue;
        }
        let ran = Duration::from_nanos((epoch.elapsed().as_nanos() as u64 + 1).saturating_sub(s));
        if ran > limits.timeout * WALL_FACTOR {
            slot.finding(
                "timeout",
                &format!(
                    "one input ran {ran:?} of wall time, over {WALL_FACTOR} × the limit {:?}",
                    limits.timeout
                ),
            );
        }
        let heap = live();
        if heap > limits.max_heap {
            slot.finding(
                "memory",
                &format!(
                    "live heap {heap} bytes, over the ceiling {} bytes",
                    limits.max_heap
                ),
            );
        }
        let rss = rss_bytes();
        if rss > limits.max_rss {
            slot.finding(
                "memory",
                &format!(
                    "resident set {rss} bytes, over the ceiling {} bytes",
                    limits.max_rss
                ),
            );
        }
    });
}
