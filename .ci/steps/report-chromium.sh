#!/usr/bin/env bash
# CI step: HTML reports load in headless Chromium with every plot and no console errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
bash tests/report/chromium_check.sh
