//! The `volsim` binary: clap commands, exit codes (0 ok, 1 a check or conformance failure,
//! 2 bad usage or bad input). The only place with `anyhow`-style error handling and stdout.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
