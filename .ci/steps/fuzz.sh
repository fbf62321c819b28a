#!/usr/bin/env bash
# CI step: the fuzz harness (examples/fuzz.rs, docs/fuzzing.md) runs every parser target for
# FUZZ_SECONDS (default 60) each on seeded mutations of the fixtures; any panic, time-out,
# memory blow-up, crash or error without its file name fails the step, the input left under
# target/fuzz-findings/<target>/ with a .txt saying why and how to replay it.
# Built in release with overflow checks and debug assertions on (an overflow is a finding, not a
# silently wrapped value), in its own target dir so the main build is not invalidated, and
# without the `parquet` feature (polars is the bulk of a cold release build; no parser uses it).
# Budget on 2 cores: release build ~8-10 min cold (cached afterwards), then 19 targets x 60 s
# = ~19 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/fuzz"
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
cargo build --locked --release --no-default-features --example fuzz
"$CARGO_TARGET_DIR/release/examples/fuzz" --target all --seconds "${FUZZ_SECONDS:-60}" \
    --seed "${FUZZ_SEED:-1}" --out target/fuzz-findings
