#!/bin/sh
# tests/fuzz/diff.sh [SECONDS] [FIRST_SEED]: the differential fuzz target.  Random small
# graphs (tests/fuse/test_fuse_random.c: elementwise chains with broadcasting, selects,
# reductions, views, outputs in the middle, run-time Ifs nested two deep) are compiled
# by the jit under every fusion mode and compared with the reference interpreter, batch
# after batch of 20 graphs with fresh seeds, until SECONDS (default 60) have passed.
# Prints the seeds covered; a failing batch prints its graph's seed, which
# `test_fuse_random 1 SEED` replays.  Needs the test build (build/ or $DLC_BUILD).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
seed=${2:-$(date +%s)}
bin=${DLC_BUILD:-$root/build}/tests/fuse/test_fuse_random
[ -x "$bin" ] || { echo "diff.sh: $bin not built" >&2; exit 2; }
end=$(($(date +%s) + secs))
first=$seed graphs=0
while [ "$(date +%s)" -lt "$end" ]; do
  if ! "$bin" 20 "$seed" >/dev/null 2>"${TMPDIR:-/tmp}/diff-fuzz.$$"; then
    cat "${TMPDIR:-/tmp}/diff-fuzz.$$" >&2
    rm -f "${TMPDIR:-/tmp}/diff-fuzz.$$"
    echo "diff.sh: a graph of seeds $seed..$((seed + 19)) differs (replay: $bin 1 SEED)" >&2
    exit 1
  fi
  seed=$((seed + 20)) graphs=$((graphs + 20))
done
rm -f "${TMPDIR:-/tmp}/diff-fuzz.$$"
echo "diff.sh: $graphs random graphs (seeds $first..$((seed - 1))) agree with the interpreter under every fusion mode"
