#!/bin/sh
# tests/fuzz/keep_corpus.sh [SOURCE]: keeps what a fuzzing campaign found, so that the
# next one starts where it stopped.  For each parser target, the corpus the campaign grew
# (SOURCE/<target>, default build-fuzz/fuzz/corpus-<target>: run.sh's, or the folder of
# DLC_FUZZ_CORPUS) and the kept one (tests/fuzz/corpus/<target>) are merged by libFuzzer
# (-merge=1: only inputs that add coverage, the smallest first) into a fresh folder that
# replaces the kept one; inputs are cut to 64 KiB (a larger model, such as models/, is a
# seed already).  run.sh seeds from tests/fuzz/corpus/.  Needs run.sh's build
# (build-fuzz, or $DLC_FUZZ_BUILD); commit the result.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${DLC_FUZZ_BUILD:-$root/build-fuzz}
src=${1:-$build/fuzz}
for t in txt onnx; do
  bin=$build/tests/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "keep_corpus.sh: no $bin (run tests/fuzz/run.sh first)" >&2; exit 2; }
  from=$src/$t
  [ -d "$from" ] || from=$src/corpus-$t
  [ -d "$from" ] || { echo "keep_corpus.sh: no corpus at $src/$t or $src/corpus-$t" >&2; exit 2; }
  kept=$root/tests/fuzz/corpus/$t
  new=$(mktemp -d "${TMPDIR:-/tmp}/dlc-corpus-XXXXXX")
  mkdir -p "$kept"
  if ! ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 -max_len=65536 -timeout=60 -rss_limit_mb=2048 "$new" "$kept" "$from" \
    >"$build/fuzz/keep-$t.log" 2>&1; then
    tail -n 5 "$build/fuzz/keep-$t.log" >&2
    rm -rf "$new"
    echo "keep_corpus.sh: merging the $t corpus failed; log: $build/fuzz/keep-$t.log" >&2
    exit 1
  fi
  rm -rf "$kept" && mv "$new" "$kept" && chmod 755 "$kept"
  echo "fuzz_$t: kept $(ls "$kept" | wc -l) inputs, $(cat "$kept"/* | wc -c) bytes ($(grep -o '[0-9]* new coverage edges' "$build/fuzz/keep-$t.log" | tail -n 1))"
done
