#!/bin/sh
# cli.sh DLC MODEL CASE: one user error of the dlc command.  Each exits 1 with one
# line "dlc: error: ..." that says what was wrong.  MODEL has one input x: f32[batch, 784].
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 model=$2 case=$3
t=$e2e_tmp

# npy FILE DESCR SHAPE BYTES: a .npy written by hand per the format's specification
# (magic, version 1.0, header length 118, the dict padded to 128 bytes, the data).
npy() {
  printf '\223NUMPY\001\000\166\000' >"$1"
  printf "%-117s\n" "{'descr': '$2', 'fortran_order': False, 'shape': $3, }" >>"$1"
  head -c "$4" /dev/zero >>"$1"
}

case $case in
no_command) expect_error "no command" "$dlc" ;;
unknown_command) expect_error "unknown command 'frobnicate'" "$dlc" frobnicate "$model" ;;
unknown_option) expect_error "unknown option '--frob'" "$dlc" compile "$model" -o "$t/m.c" --frob ;;
option_of_other_command) expect_error "unknown option '--check'" "$dlc" compile "$model" -o "$t/m.c" --check ;;
missing_value) expect_error "needs a value" "$dlc" compile "$model" -o ;;
missing_model) expect_error "needs a model" "$dlc" run --seed 3 ;;
two_models) expect_error "unexpected argument" "$dlc" dump "$model" "$model" ;;
missing_o) expect_error "needs -o" "$dlc" compile "$model" ;;
o_not_c) expect_error "ending in .c" "$dlc" compile "$model" -o "$t/m.txt" ;;
bad_name) expect_error "not a C identifier" "$dlc" compile "$model" -o "$t/m.c" --name 9lives ;;
reserved_name) expect_error "--name 'free': a name the generated code uses" "$dlc" compile "$model" -o "$t/m.c" --name free ;;
bad_dynamic) expect_error "--dynamic 'batch<=0'" "$dlc" compile "$model" -o "$t/m.c" --dynamic 'batch<=0' ;;
missing_file) expect_error "$t/nope.dlc" "$dlc" dump "$t/nope.dlc" ;;
unknown_extension)
  cp "$model" "$t/model.txt"
  expect_error "model.txt" "$dlc" dump "$t/model.txt" ;;
bad_shape) expect_error "x=1y784" "$dlc" run "$model" --shape x=1y784 ;;
bad_batch) expect_error "--batch '-2': expected an integer" "$dlc" run "$model" --batch -2 ;;
bad_dim) expect_error "NAME=SIZE" "$dlc" dump "$model" --dim batch ;;
bad_seed) expect_error "--seed 'x'" "$dlc" run "$model" --seed x ;;
input_unknown)
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  expect_error "no input named 'y'" "$dlc" run "$model" --input y="$t/x.npy" ;;
input_shape)
  npy "$t/x.npy" '<f4' '(1, 3)' 12
  expect_error "expects f32[1,784], got f32[1,3]" "$dlc" run "$model" --input x="$t/x.npy" ;;
input_dtype)
  npy "$t/x.npy" '<f8' '(1, 784)' 6272
  expect_error "expects f32[1,784], got f64[1,784]" "$dlc" run "$model" --input x="$t/x.npy" ;;
input_twice)
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  expect_error "given twice" "$dlc" run "$model" --input x="$t/x.npy" --input x="$t/x.npy" ;;
input_missing) expect_error "$t/none.npy" "$dlc" run "$model" --input x="$t/none.npy" ;;
input_truncated)
  npy "$t/x.npy" '<f4' '(1, 784)' 100
  expect_error "truncated" "$dlc" run "$model" --input x="$t/x.npy" ;;
output_missing_dir) expect_error "$t/no/such/dir/m.c" "$dlc" compile "$model" -o "$t/no/such/dir/m.c" ;;
no_clobber)
  mkdir "$t/keep"
  echo "precious" >"$t/keep/m.c"
  echo "precious" >"$t/keep/m.h"
  printf 'model broken\ninput x: f32[1, 4]\ny = no_such_layer(x)\noutput y\n' >"$t/broken.dlc"
  expect_error "broken.dlc" "$dlc" compile "$t/broken.dlc" -o "$t/keep/m.c"
  [ "$(cat "$t/keep/m.c")" = precious ] || fail "m.c was clobbered"
  [ "$(cat "$t/keep/m.h")" = precious ] || fail "m.h was clobbered"
  [ "$(ls "$t/keep" | wc -l)" -eq 2 ] || fail "temporary files left behind: $(ls "$t/keep")" ;;
input_given)
  # Not an error: a good .npy is accepted, and only the other inputs are random.
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  "$dlc" run "$model" --input x="$t/x.npy" --check --output "$t/out" >"$t/stdout" 2>"$t/stderr" ||
    fail "dlc run with a good --input: $(cat "$t/stderr")"
  [ ! -s "$t/stderr" ] || fail "unexpected stderr: $(cat "$t/stderr")"
  [ -f "$t/out/probs.npy" ] || fail "no out/probs.npy" ;;
cc_missing)
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  CC="$t/no-such-cc" expect_error "cc failed: " "$dlc" run "$model" --input x="$t/x.npy" ;;
cc_error)
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  expect_error "cc failed: " "$dlc" run "$model" --input x="$t/x.npy" --cflags "-include $t/missing.h"
  case $msg in *missing.h*) ;; *) fail "the compiler's first error line is not shown: $msg" ;; esac
  [ -z "$(ls -A "$t" | grep dlc-jit)" ] || fail "the jit folder was left behind" ;;
keep)
  npy "$t/x.npy" '<f4' '(1, 784)' 3136
  "$dlc" run "$model" --input x="$t/x.npy" --keep >/dev/null 2>"$t/stderr" || fail "dlc run --keep"
  dir=$(sed -n 's/^dlc: note: generated code kept in //p' "$t/stderr")
  [ -f "$dir/model.c" ] && [ -f "$dir/model.h" ] || fail "--keep: no model.c/model.h in '$dir'" ;;
no_gpu)
  # Where a CUDA driver and device are, there is nothing to refuse; elsewhere every
  # command that runs on the GPU says so in one line, before it builds anything.
  "$dlc" run "$model" --target cuda >/dev/null 2>"$t/probe" || true
  grep -q "no CUDA" "$t/probe" || exit 0
  expect_error "--target cuda: no CUDA" "$dlc" run "$model" --target cuda
  expect_error "--target cuda: no CUDA" "$dlc" bench "$model" --target cuda
  expect_error "--target cuda: no CUDA" "$dlc" train "$model" --data fashion-mnist --target cuda ;;
help)
  "$dlc" --help | grep -q compile || fail "dlc --help lists no commands"
  for c in compile run dump; do "$dlc" $c --help | grep -q -- --shape || fail "dlc $c --help"; done
  "$dlc" --version | grep -q '^dlc [0-9]' || fail "dlc --version"
  # --list-ops: each operator with its opsets and dtypes (onnx.dtypes_table checks
  # them all), then the dtypes, then the core ops with their operands' dtypes
  "$dlc" compile --list-ops >"$t/ops"
  grep -q '^If  *opsets 1\.\.[0-9]*  *bool  (reads sequences and optionals)$' "$t/ops" || fail "--list-ops: no line for If"
  grep -q '^Conv  *opsets 1\.\.[0-9]*  *float double float16 bfloat16$' "$t/ops" || fail "--list-ops: no line for Conv"
  grep -q '^LabelEncoder  *ai\.onnx\.ml opsets 1\.\.[0-9]*  .*string' "$t/ops" || fail "--list-ops: no line for LabelEncoder"
  ! grep -q 'not probed\|none compiles' "$t/ops" || fail "--list-ops: an operator without dtypes"
  grep -q '^tensor dtypes read and written: float .*int64.*bool' "$t/ops" || fail "--list-ops: no dtypes"
  grep -q '^cast  *f32 .* f16 bf16 .* u2$' "$t/ops" || fail "--list-ops: no dtypes for cast"
  grep -q '^exp  *f32 f64$' "$t/ops" || fail "--list-ops: no dtypes for exp" ;;
*) fail "unknown case $case" ;;
esac
