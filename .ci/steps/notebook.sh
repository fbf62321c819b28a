#!/usr/bin/env bash
# CI step: the analysis notebook executes headless on the bundled run and sweep outputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash notebooks/run_notebook.sh
