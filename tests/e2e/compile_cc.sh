#!/bin/sh
# compile_cc.sh DLC MODEL CC: `dlc compile` writes C that CC builds with every warning
# an error under -std=c99 -pedantic, with either way of embedding the weights.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 model=$2 cc=$3
# The weights as a blob that model.c links (.incbin, found through -I), then as C arrays.
"$dlc" compile "$model" -o "$e2e_tmp/model.c" || fail "dlc compile $model"
[ -f "$e2e_tmp/model.h" ] || fail "no model.h beside model.c"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -I"$e2e_tmp" -c "$e2e_tmp/model.c" -o "$e2e_tmp/model.o" ||
  fail "$cc rejects the generated code"
"$dlc" compile "$model" -o "$e2e_tmp/arrays.c" --weights-as c-array || fail "dlc compile $model --weights-as c-array"
[ ! -e "$e2e_tmp/arrays.bin" ] || fail "--weights-as c-array wrote a blob"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c "$e2e_tmp/arrays.c" -o "$e2e_tmp/arrays.o" ||
  fail "$cc rejects the generated code with --weights-as c-array"
