#!/bin/sh
# main_infer.sh DLC MODEL CC [COMPILE OPTIONS...]: a C main, written from the generated
# header alone, links against the generated code and runs NAME_init, NAME_infer,
# NAME_run and NAME_free.  With --embed-max 0 the weights go to a file that the main
# passes to NAME_init.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dlc=$1 model=$2 cc=$3
shift 3
t=$e2e_tmp
"$dlc" compile "$model" -o "$t/net.c" --name net "$@" || fail "dlc compile $model"
awk -v N=net -f "$here/gen_main.awk" "$t/net.h" >"$t/main.c" || fail "cannot write a main for net.h"
flags="-std=c99 -O1 -Wall -Wextra -Werror -pedantic"
# shellcheck disable=SC2086
"$cc" $flags -I"$t" "$t/net.c" "$t/main.c" -o "$t/main" -lm || fail "$cc cannot build main.c with net.c"
if [ -f "$t/net.weights" ]; then "$t/main" "$t/net.weights"; else "$t/main"; fi || fail "main failed"
