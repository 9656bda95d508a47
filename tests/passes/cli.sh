#!/bin/sh
# cli.sh DLC ROOT: the pipeline's flags through the dlc command.  Every level and fusion
# mode runs a model with --check; --stats names each pass; --print-after and dump
# --after print a graph that reads back; bad values are one-line errors.
set -eu
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
model=$root/tests/frontend/ok/layers.dlc

for level in -O0 -O1 -O2; do
  for fuse in --fuse=none --fuse=op --fuse=all --no-fuse; do
    "$dlc" run "$model" $level $fuse --check --seed 3 >/dev/null 2>&1 || fail "run --check $level $fuse"
  done
done
echo "ok: run --check at every level and fusion mode"

"$dlc" compile "$model" -o "$e2e_tmp/m.c" --stats >"$e2e_tmp/stats"
for pass in fold cse dce bnfold fuse plan; do
  grep -q "^pass $pass " "$e2e_tmp/stats" || fail "--stats does not name $pass: $(cat "$e2e_tmp/stats")"
done
"$dlc" compile "$model" -o "$e2e_tmp/m.c" --stats -O0 >"$e2e_tmp/stats0"
! grep -q "^pass fold" "$e2e_tmp/stats0" || fail "-O0 runs fold"
echo "ok: --stats"

# The graph after bnfold has no batchnorm subtraction left and reads back as a model
# that runs and agrees with the interpreter.
"$dlc" dump "$model" --after bnfold >"$e2e_tmp/after.dlc"
"$dlc" dump "$model" >"$e2e_tmp/before.dlc"
[ "$(grep -c ' = sub(' "$e2e_tmp/after.dlc")" -lt "$(grep -c ' = sub(' "$e2e_tmp/before.dlc")" ] ||
  fail "dump --after bnfold kept every sub"
"$dlc" run "$e2e_tmp/after.dlc" --check -O0 >/dev/null 2>&1 || fail "the dumped graph does not run"
"$dlc" run "$model" --print-after cse -O1 2>"$e2e_tmp/printed" >/dev/null
grep -q "^model layers" "$e2e_tmp/printed" || fail "--print-after cse printed no graph"
echo "ok: dump --after, --print-after"

expect_error "expected none, op or all" "$dlc" run "$model" --fuse=some
expect_error "not a pass" "$dlc" compile "$model" -o "$e2e_tmp/m.c" --print-after nothing
expect_error "does not run at -O1" "$dlc" dump "$model" -O1 --after bnfold
