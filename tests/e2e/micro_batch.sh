#!/bin/sh
# micro_batch.sh DLC CNN MIX GCC [CLANG]: --micro-batch.  The CNN at batch 8 in parts
# of 2, and at batch 64 under auto (the default: parts of 4): its code builds warning-free with each compiler, with and
# without -fopenmp; its outputs pass --check against the interpreter and are bit for
# bit the same on 1 and 3 threads; a main written from the header alone runs it (the
# weights embedded and in a file).  MIX mixes its samples: an explicit part is
# refused naming the node, auto runs it whole; a part that does not divide the batch,
# and --dynamic with it, are refused.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dlc=$1 cnn=$2 mix=$3
shift 3
t=$e2e_tmp
for case in 2:8:4:2 auto:64:16:4; do
  part=${case%%:*} rest=${case#*:}
  batch=${rest%%:*} want=${rest#*:}
  want="${want%:*} of ${want#*:}"
  "$dlc" compile "$cnn" --batch $batch --micro-batch $part --stats -o "$t/net.c" --name net >"$t/stats" ||
    fail "dlc compile --micro-batch $part"
  grep -q "^parts: $want samples" "$t/stats" || { cat "$t/stats"; fail "--micro-batch $part: not $want"; }
  grep -q 'net__mb_run(x, in, out)' "$t/net.c" || fail "--micro-batch $part: no run over the parts"
  for cc in "$@"; do
    for omp in "" -fopenmp; do
      # shellcheck disable=SC2086
      "$cc" -std=c99 -Wall -Wextra -Werror -pedantic $omp -I"$t" -c "$t/net.c" -o "$t/net.o" ||
        fail "$cc $omp rejects the code of --micro-batch $part"
    done
  done
  "$dlc" run "$cnn" --batch $batch --micro-batch $part --check --seed 3 --output "$t/one.$part" ||
    fail "dlc run --micro-batch $part --check"
  "$dlc" run "$cnn" --batch $batch --micro-batch $part --threads 3 --check --seed 3 --output "$t/three.$part" ||
    fail "dlc run --micro-batch $part --threads 3 --check"
  for f in "$t/one.$part"/*.npy; do
    cmp "$f" "$t/three.$part/$(basename "$f")" || fail "--micro-batch $part: $(basename "$f"): 3 threads differ from 1"
  done
done
# a main from the header alone, the weights embedded and in a file
sh "$here/main_infer.sh" "$dlc" "$cnn" "$1" --batch 8 --micro-batch 2 || fail "main_infer (embedded)"
sh "$here/main_infer.sh" "$dlc" "$cnn" "$1" --batch 8 --micro-batch 2 --embed-max 0 || fail "main_infer (weights file)"
# refusals
expect_error() {
  what=$1 pattern=$2
  shift 2
  if "$dlc" "$@" >"$t/out" 2>"$t/err"; then fail "$what: accepted"; fi
  [ "$(wc -l <"$t/err")" -eq 1 ] || { cat "$t/err"; fail "$what: not one line"; }
  grep -q -- "$pattern" "$t/err" || { cat "$t/err"; fail "$what: the error does not say '$pattern'"; }
}
expect_error "a model that mixes samples" "node .*reduce_max.*combines the samples" \
  compile "$mix" --batch 8 --micro-batch 2 -o "$t/mix.c"
expect_error "a part that does not divide the batch" "must be a multiple of it" \
  compile "$cnn" --batch 8 --micro-batch 3 -o "$t/x.c"
expect_error "a part as large as the batch" "must be a multiple of it, and larger" \
  run "$cnn" --batch 2 --micro-batch 2
expect_error "--dynamic" "not with --dynamic" \
  compile "$cnn" --dynamic 'batch<=8' --micro-batch 2 -o "$t/x.c"
expect_error "a bad value" "expected auto, off" compile "$cnn" --micro-batch 0 -o "$t/x.c"
"$dlc" compile "$mix" --batch 8 --micro-batch auto --stats -o "$t/mix.c" >"$t/stats" || fail "auto on the mixing model"
grep -q '^micro-batch: the batch runs whole: .*combines the samples' "$t/stats" || { cat "$t/stats"; fail "auto: no reason given"; }
"$dlc" compile "$cnn" --batch 8 --stats -o "$t/small.c" >"$t/stats" || fail "the CNN at batch 8"
grep -q '^micro-batch: the batch runs whole: its largest value, .* fits the caches' "$t/stats" ||
  { cat "$t/stats"; fail "auto split a batch whose values fit the caches"; }
"$dlc" compile "$cnn" --batch 64 --micro-batch off --stats -o "$t/off.c" >"$t/stats" || fail "--micro-batch off"
! grep -q '^micro-batch' "$t/stats" || fail "--micro-batch off: still in parts"
! grep -q '__mb_run' "$t/off.c" || fail "--micro-batch off: still in parts"
"$dlc" run "$mix" --batch 8 --micro-batch auto --check >/dev/null || fail "auto on the mixing model: run --check"
echo "ok: --micro-batch"
