#!/bin/sh
# compile_cc.sh DLC MODEL CC: `dlc compile` writes C that CC builds with every warning
# an error under -std=c99 -pedantic.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 model=$2 cc=$3
"$dlc" compile "$model" -o "$e2e_tmp/model.c" || fail "dlc compile $model"
[ -f "$e2e_tmp/model.h" ] || fail "no model.h beside model.c"
"$cc" -std=c99 -Wall -Wextra -Werror -pedantic -c "$e2e_tmp/model.c" -o "$e2e_tmp/model.o" ||
  fail "$cc rejects the generated code"
