# Sourced by the CI steps that run the realvolcano harness (../shared/realvolcano):
# `rv_setup TAG` resolves RV_HOME, makes a fresh work dir, shares the decompressed binaries
# between runs, and installs an EXIT trap that, on every exit (failure included), prints the
# end of the control plane's logs when the step failed and stops the harness by its PIDs.

rv_setup() {
    RV_TAG=$1
    RV_HOME=$(cd "$RV_HOME" && pwd -P)
    local cache="${VOLSIM_CACHE:-$HOME/.cache/volsim}"
    mkdir -p "$cache"
    RV_WORK=$(mktemp -d "${TMPDIR:-/tmp}/volsim-rv-$RV_TAG.XXXXXX")
    export RV_HOME RV_WORK
    # decompress the harness binaries once per machine, not once per CI run
    export RV_BIN_CACHE="$cache/realvolcano-bin"
    trap rv_finish EXIT
}

rv_finish() {
    local rc=$?
    if [ "$rc" != 0 ]; then
        echo "$RV_TAG: step failed (exit $rc); last lines of the control plane's logs:"
        for f in vc-scheduler vc-controller-manager fakelet kube-apiserver; do
            [ -s "$RV_WORK/logs/$f.log" ] || continue
            echo "--- $f"
            tail -n 15 "$RV_WORK/logs/$f.log" || true
        done
    fi
    "$RV_HOME/stop.sh" "$RV_WORK" || true
    if [ "$rc" = 0 ]; then rm -rf "$RV_WORK"; else echo "$RV_TAG: work dir kept: $RV_WORK"; fi
    exit "$rc"
}
