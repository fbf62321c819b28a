#!/usr/bin/env bash
# CI step: the bundled scenario still matches its committed baseline.
set -euo pipefail
cd "$(dirname "$0")/../.."
"${CARGO_TARGET_DIR:-target}/debug/volsim" check scenarios/somaagenthub/scenario.toml --baseline reports/baselines/somaagenthub.toml
