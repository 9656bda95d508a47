#!/bin/sh
# alloc_fail.sh DLC MODELS PYTHON [STRIDE]: running out of memory, at every checked
# allocation of compiling a model (the SQLite way: DLC_FAIL_ALLOC=N fails the Nth,
# runtime/dlc_err.h), is one line "dlc: error: ...out of memory...", exit status 1, no
# crash, no sanitizer report, and no output file left behind; or, where dlc has a way
# around the allocation (the plan's index, a scan instead), exit 0 with output equal
# to that of the run where nothing failed.  Models: LeNet in the
# text format and in ONNX, a narrow ResNet-18 in ONNX (make_resnet.py), and `dlc run`
# of the logistic regression (the jit: cc, dlopen, the run).  Every N up to 300, then
# every STRIDE-th (default 1: all of them; ctest passes 7 for the ResNet's ~2,800).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"
dlc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") models=$2 py=$3 stride=${4:-1}
t=$e2e_tmp
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:halt_on_error=1"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS

# count ARGS...: how many checked allocations `dlc ARGS` makes when nothing fails.
count() {
  DLC_FAIL_ALLOC=count "$dlc" "$@" >/dev/null 2>"$t/count" </dev/null || fail "dlc $*: fails without injection: $(cat "$t/count")"
  sed -n 's/^dlc: \([0-9]*\) checked allocations$/\1/p' "$t/count"
}

# each OUTPUT ARGS...: fail each allocation of `dlc ARGS` in turn; OUTPUT must not exist after.
each() {
  out=$1
  shift
  total=$(count "$@")
  [ -n "$total" ] && [ "$total" -gt 0 ] || fail "dlc $*: no allocation count"
  [ -e "$out" ] || fail "dlc $*: wrote no $out"
  mv "$out" "$t/reference"
  n=1 runs=0 around=0
  while [ "$n" -le "$total" ]; do
    status=0
    DLC_FAIL_ALLOC=$n timeout 60 "$dlc" "$@" >/dev/null 2>"$t/stderr" </dev/null || status=$?
    msg=$(cat "$t/stderr")
    if [ "$status" -eq 0 ]; then
      cmp -s "$out" "$t/reference" || fail "DLC_FAIL_ALLOC=$n dlc $*: exit 0 but the output differs"
      rm -f "$out"
      around=$((around + 1)) runs=$((runs + 1))
      if [ "$n" -lt 300 ]; then n=$((n + 1)); else n=$((n + stride)); fi
      continue
    fi
    [ "$status" -eq 1 ] || fail "DLC_FAIL_ALLOC=$n dlc $*: exit status $status, want 1: $msg"
    [ "$(wc -l <"$t/stderr")" -eq 1 ] || fail "DLC_FAIL_ALLOC=$n dlc $*: want one line on stderr, got: $msg"
    case $msg in "dlc: error: "*"out of memory"*) ;; *) fail "DLC_FAIL_ALLOC=$n dlc $*: want 'dlc: error: ...out of memory...', got: $msg" ;; esac
    [ ! -e "$out" ] || fail "DLC_FAIL_ALLOC=$n dlc $*: left $out behind"
    runs=$((runs + 1))
    if [ "$n" -lt 300 ]; then n=$((n + 1)); else n=$((n + stride)); fi
  done
  echo "ok: dlc $* failed cleanly at $runs of $total checked allocations ($around of them worked around)"
}

"$py" "$here/make_resnet.py" "$t/resnet.onnx" || fail "make_resnet.py failed"
each "$t/out.c" compile "$models/lenet.dlc" -o "$t/out.c"
each "$t/out.c" compile "$models/lenet.onnx" -o "$t/out.c"
each "$t/out.c" compile "$t/resnet.onnx" -o "$t/out.c" --stats
mkdir "$t/run"
each "$t/run/probs.npy" run "$models/logreg.dlc" --output "$t/run"
echo "alloc_fail: ok"
