#!/bin/sh
# run_check.sh DLC MODEL [OPTIONS...]: `dlc run --check` compiles MODEL, runs it on
# seeded random inputs and compares every output with the reference interpreter; it
# must pass and save one .npy per output.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1
shift
"$dlc" run "$@" --check --seed 1 --output "$e2e_tmp/out" || fail "dlc run --check $*"
ls "$e2e_tmp"/out/*.npy >/dev/null 2>&1 || fail "no .npy written to --output"
