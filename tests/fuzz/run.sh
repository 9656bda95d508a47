#!/bin/sh
# tests/fuzz/run.sh [SECONDS]: builds the libFuzzer targets with clang (ASan + UBSan +
# coverage, in build-fuzz/ or $DLC_FUZZ_BUILD) and runs each for SECONDS (default 20, or
# $DLC_FUZZ_SECONDS) from a seed corpus of models/, tests/frontend/{ok,bad}/,
# tests/onnx/bad/, tests/hostile/corpus/, tests/fuzz/seeds/onnx/, tests/fuzz/images/ (fuzz_image, ImageDecoder's
# decoders), tests/fuzz/regress/ and tests/fuzz/corpus/<target> (what earlier campaigns
# found, kept in the repository by tests/fuzz/keep_corpus.sh).  The corpus each run
# grows is kept ($DLC_FUZZ_CORPUS/<target>, default build-fuzz/fuzz/corpus-<target>), so
# long runs add up: `DLC_FUZZ_CORPUS=~/dlc-corpus tests/fuzz/run.sh 3600`; after a long
# campaign, tests/fuzz/keep_corpus.sh merges it into tests/fuzz/corpus/ for the next.  Each target's
# executions are printed (stat::number_of_executed_units).  Then, when .venv (tools/pyenv.sh) or
# $DLC_PYTHON has the onnx package, op_fuzz.py runs that build's dlc on random one-node
# models for SECONDS more (seed $DLC_FUZZ_SEED, else the time; it is printed).
# Exits non-zero if anything crashes, leaks, hangs or runs out of memory, and prints the
# path of the input that did it; keep such an input (after the fix) in
# tests/fuzz/regress/<target>/ so the suite replays it.  An input counts as a hang after
# $DLC_FUZZ_TIMEOUT seconds (default 10) of wall-clock time: a long campaign run niced
# beside other work gets its CPU only now and then, and needs more (60) so that waiting
# for the CPU is not taken for a hang; replay what it reports unniced before believing it.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${DLC_FUZZ_SECONDS:-20}}
hang=${DLC_FUZZ_TIMEOUT:-10}
build=${DLC_FUZZ_BUILD:-$root/build-fuzz}
cc=${DLC_FUZZ_CC:-clang}
max_len=300000
command -v "$cc" >/dev/null || { echo "run.sh: needs clang with libFuzzer ($cc not found)" >&2; exit 2; }
gen=
command -v ninja >/dev/null && gen="-G Ninja"

mkdir -p "$build/fuzz"
# shellcheck disable=SC2086
if ! cmake -S "$root" -B "$build" $gen -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDLC_SANITIZE=ON -DDLC_FUZZ=ON -DDLC_ONNX_TESTS=OFF -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
  >"$build/fuzz/build.log" 2>&1 ||
  ! cmake --build "$build" --target fuzz_txt fuzz_onnx fuzz_image dlc -j "$(nproc)" >>"$build/fuzz/build.log" 2>&1; then
  tail -n 20 "$build/fuzz/build.log" >&2
  echo "run.sh: the fuzz build failed; log: $build/fuzz/build.log" >&2
  exit 2
fi

# seeds TARGET DIR...: the files of DIRs up to max_len bytes, copied into one folder.
seeds() {
  t=$1
  shift
  s=$build/fuzz/seed-$t
  rm -rf "$s" && mkdir -p "$s"
  for d in "$@"; do
    [ -d "$d" ] || continue
    for f in "$d"/*; do
      [ -f "$f" ] && [ "$(wc -c <"$f")" -le $max_len ] && cp "$f" "$s/$(basename "$d")_$(basename "$f")"
    done
  done
  echo "$s"
}

status=0
run() {
  t=$1
  shift
  corpus=${DLC_FUZZ_CORPUS:+$DLC_FUZZ_CORPUS/$t}
  corpus=${corpus:-$build/fuzz/corpus-$t} art=$build/fuzz/artifacts-$t
  mkdir -p "$corpus"
  rm -rf "$art" && mkdir -p "$art"
  seed=$(seeds "$t" "$@" "$root/tests/fuzz/regress/$t")
  echo "fuzz_$t: $secs s from $(ls "$seed" | wc -l) seeds"
  rc=0
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout="$hang" -rss_limit_mb=2048 \
    -max_len=$max_len -artifact_prefix="$art/" -print_final_stats=1 "$corpus" "$seed" \
    >"$build/fuzz/log-$t" 2>&1 || rc=$?
  tail -n 12 "$build/fuzz/log-$t" | grep -E "^(stat::number_of_executed_units|Done|SUMMARY|==[0-9]+==ERROR)" || true
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "run.sh: fuzz_$t failed (exit $rc); log: $build/fuzz/log-$t" >&2
    for f in "$art"/*; do [ -e "$f" ] && echo "run.sh: crashing input: $f" >&2; done
  fi
}

run txt "$root/models" "$root/tests/frontend/ok" "$root/tests/frontend/bad" "$root/tests/hostile/corpus" \
  "$root/tests/fuzz/corpus/txt"
run onnx "$root/models" "$root/tests/onnx/bad" "$root/tests/hostile/corpus" "$root/tests/fuzz/seeds/onnx" \
  "$root/tests/fuzz/corpus/onnx"
run image "$root/tests/fuzz/images"

py=${DLC_PYTHON:-$root/.venv/bin/python}
if [ -x "$py" ] && "$py" -c "import onnx, numpy" 2>/dev/null; then
  seed=${DLC_FUZZ_SEED:-$(date +%s)}
  echo "op_fuzz: $secs s, seed $seed"
  "$py" "$root/tests/fuzz/op_fuzz.py" --dlc "$build/tools/dlc" --seconds "$secs" --seed "$seed" \
    --out "$build/fuzz/op_fuzz-found" || status=1
else
  echo "op_fuzz: skipped ($py lacks onnx; tools/pyenv.sh makes .venv)"
fi
exit $status
