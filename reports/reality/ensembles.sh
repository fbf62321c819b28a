#!/usr/bin/env bash
# Regenerates the replay ensembles of reports/reality/README.md (findings 4 and 5) from the
# stored real runs, without a cluster: for each run, `volsim reality --observed` with 20
# tie-break seeds and run times jittered by ±50 ms of wall time, with the model of the
# harness's Volcano (the compatibility profile volcano-7a5d24ecc), and for the uniform variant
# also with the measured bind spread. Usage: reports/reality/ensembles.sh [VOLSIM]
set -euo pipefail
cd "$(dirname "$0")/../.."
volsim=${1:-target/release/volsim}
ens() { # scenario run-dir out-name extra-flags...
    local sc=$1 run=$2 name=$3; shift 3
    "$volsim" reality "$sc" --observed "$run/observed.csv" --speed 10 --seeds 20 --jitter 50ms \
        --out "$run/$name" "$@" >/dev/null
    echo "$run/$name/reality.txt"
}
for run in run2 run3 run4 run5 run6; do
    ens scenarios/reality/scenario.toml "reports/reality/$run" ensemble-compat --compat volcano-7a5d24ecc
done
for run in run-a run-b; do
    u=reports/reality/uniform
    ens "$u/scenario.toml" "$u/$run" ensemble-v1.15 --compat none
    ens "$u/scenario.toml" "$u/$run" ensemble-compat --compat volcano-7a5d24ecc
    ens "$u/scenario.toml" "$u/$run" ensemble-compat-spread --compat volcano-7a5d24ecc --bind-spread 78ms
done
