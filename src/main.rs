//! The `volsim` binary: clap commands, exit codes (0 ok, 1 a check or conformance failure,
//! 2 bad usage or bad input). The only place with `anyhow`-style error handling and stdout.

mod cli;

fn main() {
    // The live service keeps the default Rust disposition (ignored): it must survive peers
    // that go away.
    if std::env::args().nth(1).as_deref() != Some("live") {
        reset_sigpipe();
        return_large_blocks();
    }
    std::process::exit(cli::main());
}

/// Large blocks (≥ 1 MiB: the trace's chunks, the per-job vectors) come from their own
/// mappings and go back to the system when freed. glibc's default threshold rises to the size
/// of the last freed mapped block, so the streamed trace's chunks would land in the heap after
/// the first was freed and the pages they leave behind would stay with the process.
fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a malloc tuning call at start-up, before any thread exists; it changes where
    // later large allocations are placed, not any allocation already made.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Output piped into a reader that stops early (`volsim run … | head`) ends the process
/// quietly, as for any Unix tool, instead of a panic on the failed write.
fn reset_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread
    // exists; no other code depends on the signal being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
