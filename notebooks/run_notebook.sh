#!/usr/bin/env bash
# Executes notebooks/analysis.ipynb headless on the bundled run and sweep outputs
# (notebooks/data/), in a venv under ${VOLSIM_CACHE:-$HOME/.cache/volsim}/nbvenv with polars,
# matplotlib, nbclient, nbformat and ipykernel from PyPI. Fails when any cell raises.
#   VOLSIM_RUN_DIR / VOLSIM_SWEEP_DIR: analyse other outputs instead.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${VOLSIM_CACHE:-$HOME/.cache/volsim}/nbvenv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import polars, matplotlib, nbclient, nbformat, ipykernel" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check polars matplotlib nbclient nbformat ipykernel
fi
out="${NOTEBOOK_OUT:-$(mktemp -d)/analysis.executed.ipynb}"
VOLSIM_NOTEBOOK_DIR="$here" MPLBACKEND=Agg "$venv/bin/python" - "$here/analysis.ipynb" "$out" <<'PY'
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
nbformat.write(nb, sys.argv[2])
print(f"notebook ok: {sum(c.cell_type == 'code' for c in nb.cells)} code cells executed -> {sys.argv[2]}")
PY
