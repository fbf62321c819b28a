#!/usr/bin/env bash
# Executes notebooks/analysis.ipynb headless on the bundled run and sweep outputs
# (notebooks/data/), in a venv under ${VOLSIM_CACHE:-$HOME/.cache/volsim}/nbvenv with polars,
# matplotlib, nbclient, nbformat and ipykernel from PyPI. Fails when any cell raises or when a
# figure is missing from the executed notebook (every cell that draws must leave an image/png
# output: the kernel's inline backend, no MPLBACKEND override).
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
env -u MPLBACKEND VOLSIM_NOTEBOOK_DIR="$here" "$venv/bin/python" - "$here/analysis.ipynb" "$out" <<'PY'
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
nbformat.write(nb, sys.argv[2])
code = [c for c in nb.cells if c.cell_type == "code"]
drawing = [c for c in code if "plt.subplots" in c.source or "plt.figure" in c.source]
blank = [c.get("id", "?") for c in drawing
         if not any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
assert drawing, "no cell draws a figure"
assert not blank, f"cells that draw but show no figure (image/png output): {blank}"
print(f"notebook ok: {len(code)} code cells executed, {len(drawing)} figures drawn -> {sys.argv[2]}")
PY
