#!/bin/sh
# threads.sh DLC MODEL CC [OPTIONS...]: the generated code with threads.  Built with
# CC -fopenmp it compiles warning-free, marks at least one loop to share, and run on 3
# threads gives outputs that pass --check and are bit for bit those of one thread.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 model=$2 cc=$3
shift 3
"$dlc" compile "$model" "$@" -o "$e2e_tmp/model.c" || fail "dlc compile $model"
grep -q '^ *DLC_PARALLEL_FOR$' "$e2e_tmp/model.c" || fail "no loop of $model is shared among threads"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -fopenmp -I"$e2e_tmp" -c "$e2e_tmp/model.c" -o "$e2e_tmp/model.o" ||
  fail "$cc -fopenmp rejects the generated code"
"$dlc" run "$model" "$@" --seed 1 --output "$e2e_tmp/one" || fail "dlc run (1 thread)"
"$dlc" run "$model" "$@" --threads 3 --check --seed 1 --output "$e2e_tmp/three" || fail "dlc run --threads 3 --check"
for f in "$e2e_tmp"/one/*.npy; do
  cmp "$f" "$e2e_tmp/three/$(basename "$f")" || fail "$(basename "$f"): 3 threads differ from 1"
done
echo "ok: 3 threads give the outputs of 1"
