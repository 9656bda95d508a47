#!/bin/sh
# names.sh DLC CC: names from a model file reach the generated code only as escaped
# literals, identifiers or comment text.  A model whose input, parameter, constant and
# output names hold trigraphs ("??/" is a backslash under -std=c99 or -trigraphs), quotes,
# backslashes, comment ends, control and non-ASCII bytes, and a C payload that would
# create a file if it were ever compiled as code, is compiled with its training step for
# the C and the CUDA backends; the C builds warning-free under every standard, trains
# through `dlc train`, and NAME_param finds each parameter under its exact name.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/lib.sh"
dlc=$1 cc=$2
t=$e2e_tmp
pwned="$t/PWNED"
# The payload closes the literal (if "??/" became a backslash escaping the escape of the
# quote) and defines a constructor that runs at load time.
payload="??/\\\", \\\"f32\\\", 0, {0}, 0, 0}}; __attribute__((constructor)) static void pwn(void) { system(\\\"touch $pwned\\\"); } static const struct dlc_param zz[] = {{\\\""
ctl=$(printf 'c\033[31m\007\r\001d')
hi=$(printf '\303\251\377')
cat >"$t/evil.dlc" <<DLC
model evil
input "x*/??=??/$ctl": f32[batch, 8]
param "w$payload": f32[8, 4] = normal(0, 0.1)
param "b??/??'??!$hi%s%n": f32[4] = zeros
const "k\\\\\\"??-": f32[4] = [1, 2, 3, 4]
h = matmul("x*/??=??/$ctl", "w$payload")
"y/*??)??(" = add(h, "b??/??'??!$hi%s%n")
output "y/*??)??("
DLC
"$dlc" compile "$t/evil.dlc" --train --loss mse --batch 2 --name net -o "$t/net.c" 2>"$t/err" ||
  fail "dlc compile --train: $(cat "$t/err")"
for std in -std=c99 -std=c11 -std=gnu11 "-std=gnu11 -trigraphs" "-std=c99 -pedantic"; do
  # shellcheck disable=SC2086
  "$cc" $std -Wall -Wextra -Werror -I"$t" -c "$t/net.c" -o "$t/net.o" || fail "$cc $std rejects the code"
done
cat >"$t/main.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "net.h"
int main(int argc, char **argv) {
  net *m;
  if (net_init(&m, NULL)) return 2;
  for (int i = 1; i < argc; i++)
    if (!net_param(m, argv[i])) { fprintf(stderr, "no parameter named %s\n", argv[i]); return 1; }
  if (net_param(m, "w")) return 3;
  net_free(m);
  return 0;
}
C
"$cc" -std=c99 -trigraphs -O1 -I"$t" "$t/net.c" "$t/main.c" -o "$t/main" -lm || fail "cannot build main"
w=$(printf 'w%s' "$payload" | sed 's/\\\\/\\/g; s/\\"/"/g')
b=$(printf 'b??/??'"'"'??!%s%%s%%n' "$hi")
"$t/main" "$w" "$b" || fail "the parameters are not found under their exact names"
[ ! -e "$pwned" ] || fail "the payload ran"
"$dlc" compile "$t/evil.dlc" --train --loss mse --batch 2 --target cuda --name net -o "$t/cu.c" ||
  fail "dlc compile --target cuda --train"
"$cc" -std=c99 -trigraphs -Wall -Wextra -Werror -I"$t" -c "$t/cu.c" -o "$t/cu.o" || fail "$cc rejects the CUDA host code"
[ ! -e "$pwned" ] || fail "the payload ran"
# The same bytes as str values: constants the code holds as string literals, concatenated
# with an input at run time; the output must hold them unchanged and nothing may run.
cat >"$t/evil_str.dlc" <<DLC
model evs
input x: str[2]
const "k$payload": str[2] = ["$payload", "??/$ctl$hi*/"]
y = str_concat("k$payload", x)
output y
DLC
"$dlc" compile "$t/evil_str.dlc" --name evs -o "$t/evs.c" 2>"$t/err" || fail "dlc compile evil_str.dlc: $(cat "$t/err")"
for std in -std=c99 -std=c11 "-std=gnu11 -trigraphs" "-std=c99 -pedantic"; do
  # shellcheck disable=SC2086
  "$cc" $std -Wall -Wextra -Werror -I"$t" -c "$t/evs.c" -o "$t/evs.o" || fail "$cc $std rejects the str code"
done
cat >"$t/evs_main.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "evs.h"
int main(int argc, char **argv) {
  evs *m;
  dlc_str x[2] = {"", "!"}, y[2];
  if (argc != 3 || evs_init(&m, NULL) || evs_infer(m, x, y)) return 2;
  if (strcmp(y[0], argv[1]) || strncmp(y[1], argv[2], strlen(argv[2])) || strcmp(y[1] + strlen(argv[2]), "!"))
    return fprintf(stderr, "got [%s] [%s]\n", y[0], y[1]), 1;
  evs_free(m);
  return 0;
}
C
"$cc" -std=c99 -trigraphs -O1 -I"$t" "$t/evs.c" "$t/evs_main.c" -o "$t/evs_main" -lm || fail "cannot build the str main"
"$t/evs_main" "${w#w}" "??/$ctl$hi*/" || fail "the str values are not the model's bytes"
[ ! -e "$pwned" ] || fail "the payload ran"
echo "ok: hostile names stay literals"
