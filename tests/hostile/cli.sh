#!/bin/sh
# cli.sh DLC MODELS: the command line used as a careless or hostile user would, each
# case a clean one-line error with exit 1 within 10 s and 1 GB of address space (not
# under ASan, which reserves terabytes up front), and nothing of the user's changed:
# named pipes as the model, as --input and as external data (refused, never waited
# on); 30,000 quoted names; buffers that cannot be allocated; --threads beyond the
# memory limit (and no temporary folder left); `-o` naming a folder (OUT.h kept);
# `train --out .` beside the model (the model kept, refused before training); an empty
# test set; `--output ''`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"
dlc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") models=$2
t=$e2e_tmp
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:halt_on_error=1"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS
limit=1000000
sh -c 'ulimit -v $1 && "$2" --help; exit $?' sh $limit "$dlc" >/dev/null 2>&1 || limit=unlimited # a sanitizer build

# refuse WANT ARGS...: dlc ARGS exits 1 with one line "dlc: error: ...WANT...".
refuse() {
  want=$1
  shift
  status=0
  (ulimit -v $limit && exec timeout 10 "$dlc" "$@") >"$t/stdout" 2>"$t/stderr" </dev/null || status=$?
  msg=$(cat "$t/stderr")
  [ "$status" -eq 1 ] || fail "dlc $*: exit status $status, want 1: $msg"
  [ "$(wc -l <"$t/stderr")" -eq 1 ] || fail "dlc $*: want one line on stderr, got: $msg"
  case $msg in "dlc: error: "*"$want"*) ;; *) fail "dlc $*: want 'dlc: error: ...$want...', got: $msg" ;; esac
  echo "ok: $msg"
}

# Named pipes: nothing ever writes to them, so a blocking open would hang until timeout.
mkfifo "$t/pipe.dlc" "$t/pipe.onnx" "$t/x.npy"
refuse "not a regular file" compile "$t/pipe.dlc" -o "$t/o.c"
refuse "not a regular file" compile "$t/pipe.onnx" -o "$t/o.c"
refuse "not a regular file" run "$models/mlp.dlc" --input "x=$t/x.npy"
mkdir "$t/dir.dlc"
refuse "directory" compile "$t/dir.dlc" -o "$t/o.c"
if [ -f "$here/external/external.onnx" ]; then
  mkdir "$t/ext" && cp "$here/external/external.onnx" "$t/ext/" && mkfifo "$t/ext/weights.bin"
  refuse "not a regular file" compile "$t/ext/external.onnx" -o "$t/o.c"
fi

# 30,000 quoted names in 270 KB: each is copied at its own size, not the rest of the file.
awk 'BEGIN { printf "model q\ninput x: f32[2]\nh = add(x, x)\n"; for (i = 0; i < 30000; i++) printf "\"name%05d\" ", i; printf "\noutput h\n" }' >"$t/quoted.dlc"
refuse "expected a statement" compile "$t/quoted.dlc" -o "$t/o.c"

# Buffers: over the element budget; then, with the budget raised, more than memory allows.
refuse "(--max-elements)" run "$models/mlp.dlc" --batch 10000000
if [ "$limit" != unlimited ]; then
  refuse "out of memory" run "$models/mlp.dlc" --batch 10000000 --max-elements 100000000000
  mkdir "$t/tmp"
  printf 'model tiny\ninput x: f32[2, 4]\nh = dense(x, 3)\noutput h\n' >"$t/tiny.dlc"
  TMPDIR="$t/tmp" refuse "--threads 1024" run "$t/tiny.dlc" --threads 1024
  [ -z "$(ls "$t/tmp")" ] || fail "--threads 1024 left $(ls "$t/tmp") behind"
fi
refuse "--output" run "$models/mlp.dlc" --output ''

# -o naming a folder: OUT.h, there from before, is kept.
mkdir -p "$t/out/net.c" && echo "keep me" >"$t/out/net.h"
refuse "is a directory" compile "$models/mlp.dlc" -o "$t/out/net.c"
[ "$(cat "$t/out/net.h")" = "keep me" ] || fail "-o naming a folder replaced net.h"
# -o whose header is the model under another name (a hard link).
cp "$models/mlp.dlc" "$t/m.dlc" && ln "$t/m.dlc" "$t/same.h"
refuse "input of this command" compile "$t/m.dlc" -o "$t/same.c"
cmp -s "$models/mlp.dlc" "$t/same.h" || fail "-o naming the model replaced it"

# Training: an IDX dataset of 64 blank images (and 16, or none, to test on).
idx() { # idx FILE N [ROWS COLS]: a header, then zero bytes
  if [ $# -eq 4 ]; then printf '\0\0\10\3' >"$1"; else printf '\0\0\10\1' >"$1"; fi
  printf "$(printf '\\%03o\\%03o\\%03o\\%03o' 0 0 0 "$2")" >>"$1"
  [ $# -eq 4 ] && printf '\0\0\0\34\0\0\0\34' >>"$1"
  head -c $(($2 * ${3:-1} * ${4:-1})) /dev/zero >>"$1"
}
for d in data empty; do
  mkdir "$t/$d"
  idx "$t/$d/train-images-idx3-ubyte" 64 28 28 && idx "$t/$d/train-labels-idx1-ubyte" 64
done
idx "$t/data/t10k-images-idx3-ubyte" 16 28 28 && idx "$t/data/t10k-labels-idx1-ubyte" 16
idx "$t/empty/t10k-images-idx3-ubyte" 0 28 28 && idx "$t/empty/t10k-labels-idx1-ubyte" 0
refuse "test set is empty" train "$models/logreg.dlc" --data "$t/empty" --epochs 1
# The trained model is written as --out/NAME.onnx, NAME the graph's: the model's own
# file when it is named so and --out is its folder.
mkdir "$t/beside" && cp "$models/logreg.onnx" "$t/beside/model.onnx"
name=$("$dlc" dump "$t/beside/model.onnx" | sed -n 's/^model //p')
[ "$name" = model ] || mv "$t/beside/model.onnx" "$t/beside/$name.onnx"
cd "$t/beside"
refuse "input of this command" train "$name.onnx" --data "$t/data" --epochs 1 --out .
cd - >/dev/null
cmp -s "$models/logreg.onnx" "$t/beside/$name.onnx" || fail "train --out . replaced the model"
[ ! -e "$t/beside/loss.csv" ] || fail "train --out . trained before refusing"
# the generated-code budget: refused after the kernel that crosses it, nothing written
refuse "over the limit of 20000 (--max-code-bytes)" compile "$models/lenet.dlc" -o "$t/budget.c" --max-code-bytes 20000
[ ! -e "$t/budget.c" ] && [ ! -e "$t/budget.h" ] || fail "--max-code-bytes: output left behind"

echo "ok: the command line holds"
