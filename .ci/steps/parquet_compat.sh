#!/usr/bin/env bash
# CI step: the sweep's results.parquet is readable by an old reader, pyarrow 14 (string
# columns as large_utf8, not Arrow string views: src/sweep/table.rs), and by current polars.
# Runs the smoke sweep with the volsim binary `cargo test` built, reads the file in a venv under
# ${VOLSIM_CACHE:-$HOME/.cache/volsim}/pyarrow14.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${CARGO_TARGET_DIR:-target}/debug/volsim"
[ -x "$bin" ] || cargo build --locked --quiet
venv="${VOLSIM_CACHE:-$HOME/.cache/volsim}/pyarrow14"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import pyarrow; assert pyarrow.__version__.startswith('14.')" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'pyarrow==14.*' 'numpy<2'
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$bin" sweep examples/sweeps/somaagenthub-smoke.toml --out "$out" --quiet >/dev/null
"$venv/bin/python" - "$out/results.parquet" "$out/results.csv" <<'PY'
import csv, sys
import pyarrow as pa, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
assert t.num_rows == len(rows) > 0, (t.num_rows, len(rows))
strings = [f.name for f in t.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
assert strings, f"no string column in {t.schema}"
for name in strings:
    assert t.column(name).to_pylist() == [r[name] or None for r in rows], name
print(f"pyarrow {pa.__version__} reads {sys.argv[1]}: {t.num_rows} rows, {t.num_columns} columns, strings {strings}")
PY
