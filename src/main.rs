//! The `volsim` binary: clap commands, exit codes (0 ok, 1 a check or conformance failure,
//! 2 bad usage or bad input). The only place with `anyhow`-style error handling and stdout.

mod cli;

fn main() {
    // The live service keeps the default Rust disposition (ignored): it must survive peers
    // that go away.
    if std::env::args().nth(1).as_deref() != Some("live") {
        reset_sigpipe();
    }
    std::process::exit(cli::main());
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
