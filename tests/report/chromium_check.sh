#!/usr/bin/env bash
# Renders a run report and a sweep report and loads both in headless Chromium: fails when the
# page logs a console error or a plot is missing. Called by .ci/run after `cargo test`.
#   VOLSIM=path/to/volsim (default: $CARGO_TARGET_DIR/debug/volsim, built by cargo test)
#   CHROMIUM=chromium binary (default: chromium); install with `apt-get install -y chromium`.
set -euo pipefail
cd "$(dirname "$0")/../.."
VOLSIM="${VOLSIM:-${CARGO_TARGET_DIR:-target}/debug/volsim}"
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ ! -x "$VOLSIM" ]; then echo "chromium_check: $VOLSIM not built (run cargo test first)" >&2; exit 2; fi
if [ -z "$CHROMIUM" ]; then echo "chromium_check: chromium not installed (apt-get install -y chromium)" >&2; exit 2; fi
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

"$VOLSIM" sweep tests/report/sweep-small.toml --out "$work/sweep" --jobs 2 --quiet --keep-runs > /dev/null
"$VOLSIM" report "$work/sweep/runs/0000" --out "$work/run.html" --png > /dev/null
"$VOLSIM" report "$work/sweep" --out "$work/sweep.html" > /dev/null

check() { # file, minimum number of charts
  local html="$1" want="$2" profile dom log
  profile="$(mktemp -d)"; dom="$work/dom.html"; log="$work/console.log"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
    --enable-logging=stderr --v=0 --dump-dom "file://$html" > "$dom" 2> "$log" || true
  rm -rf "$profile"
  local charts; charts=$(grep -o '<figure class="chart"><svg' "$dom" | wc -l)
  if [ "$charts" -lt "$want" ]; then echo "FAIL $html: $charts charts rendered, expected ≥ $want" >&2; exit 1; fi
  if grep -E 'CONSOLE|Uncaught|Refused to|Failed to load' "$log" | grep -v -i 'dbus\|gpu\|sandbox' > "$work/errs"; then
    echo "FAIL $html: console errors:" >&2; cat "$work/errs" >&2; exit 1
  fi
  if ! grep -q '</svg>' "$dom"; then echo "FAIL $html: no SVG in the DOM" >&2; exit 1; fi
  # Every plot has data: a line of three or more points (axes, ticks and legend keys have
  # two), data-point markers or heatmap cells.
  local empty; empty=$(awk 'BEGIN { RS = "<figure class=\"chart\">" } NR > 1 {
      fig = $0; sub(/<\/figure>.*/, "", fig); ok = (fig ~ /<g class="cell">|<circle/)
      while (!ok && match(fig, /points="[^"]*"/)) {
        if (split(substr(fig, RSTART + 8, RLENGTH - 9), pts, " ") >= 3) ok = 1
        fig = substr(fig, RSTART + RLENGTH)
      }
      if (!ok) n++ } END { print n + 0 }' "$dom")
  if [ "$empty" -gt 0 ]; then echo "FAIL $html: $empty chart(s) without data" >&2; exit 1; fi
  echo "ok $html: $charts charts, no console errors"
}
# Self-test: a page with a script error must be caught (guards against a silent browser).
printf '<html><body><script>undefinedFn();</script></body></html>' > "$work/bad.html"
if (check "$work/bad.html" 0) 2>/dev/null; then echo "FAIL: the console-error detection missed a script error" >&2; exit 1; fi
check "$work/run.html" 5
grep -q '>Verdict<' "$work/run.html" || { echo "FAIL run.html: no verdict section" >&2; exit 1; }
grep -q 'Wait time by reason' "$work/run.html" || { echo "FAIL run.html: no wait reasons" >&2; exit 1; }
grep -q 'meets the SLO\|no value' "$work/sweep.html" || { echo "FAIL sweep.html: heatmap legend missing" >&2; exit 1; }
check "$work/sweep.html" 4
png=$(ls "$work"/run_png/*.png | wc -l)
[ "$png" -ge 5 ] || { echo "FAIL: $png PNG charts" >&2; exit 1; }
echo "ok: $png PNG charts"
