#!/usr/bin/env bash
# CI step: the `kube` backend end to end against a real Volcano control plane — the realvolcano
# harness (kube-apiserver + etcd + vc-scheduler + vc-controller-manager + a fake kubelet, all on
# 127.0.0.1) from ../shared/realvolcano. Starts it in a fresh work dir, runs the kube e2e suite
# (tests/it/live/kube_e2e.rs: live run, serve, and `volsim reality` on the 12-job fixture with
# `--schedule-period 100ms`, asserting its admission-order tau >= 0.5) with the same cargo
# feature set as the main test run (nothing rebuilds), and stops the harness by its PIDs on
# every exit, failure included. Without the harness the step says it skipped the suite and why. Budget: well under 10 minutes on 2 cores
# (harness start 10-30 s, suite ~1-2 min).
set -euo pipefail
cd "$(dirname "$0")/../.."

RV_HOME="${RV_HOME:-$(pwd)/../shared/realvolcano}"
if [ ! -x "$RV_HOME/start.sh" ]; then
    echo "realvolcano: SKIPPED the kube end-to-end suite: no harness at $RV_HOME (../shared/realvolcano is missing)."
    echo "realvolcano: to run it against kind + Volcano instead: kubectl proxy --port 8001 &"
    echo "realvolcano:   VOLSIM_KUBE_E2E=1 VOLSIM_KUBE_API=http://127.0.0.1:8001 cargo test --locked --test it live::kube_e2e  (docs/live.md)"
    exit 0
fi
. .ci/lib/realvolcano.sh
rv_setup realvolcano

# The suite's scenario (tests/fixtures/live/small.toml): 2 nodes of 4 CPU / 8Gi. Its runs use
# --speed 10, so vc-scheduler cycles every 100 ms of wall time = the model's 1 s. No NAMESPACES
# and no PRIORITY_CLASSES_JSON on purpose: volsim must create its namespace and the scenario's
# PriorityClasses itself (the suite checks both).
export RV_NODES_JSON='[{"name": "w", "count": 2, "cpu": "4", "memory": "8Gi", "pods": 110}]'
export SCHEDULE_PERIOD=100ms
"$RV_HOME/start.sh"

eval "$("$RV_HOME/env.sh" "$RV_WORK")"
export VOLSIM_KUBE_E2E=1
export VOLSIM_KUBE_API="$RV_PROXY_URL"
# KUBECONFIG (exported by env.sh) makes the suite also reach the API server directly: TLS with
# the harness's CA and bearer token.
timeout 540 cargo test --locked --test it live::kube_e2e -- --nocapture
