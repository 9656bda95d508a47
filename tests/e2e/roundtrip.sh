#!/bin/sh
# roundtrip.sh DLC MODEL: the printer's output is a valid model that prints the same,
# the fixed point parse(print(g)) == g asks for.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 model=$2
"$dlc" dump "$model" >"$e2e_tmp/a.dlc" || fail "dlc dump $model"
"$dlc" dump "$e2e_tmp/a.dlc" >"$e2e_tmp/b.dlc" || fail "dlc dump of its own output"
cmp "$e2e_tmp/a.dlc" "$e2e_tmp/b.dlc" || fail "dump of the dump differs"
"$dlc" dump - <"$e2e_tmp/a.dlc" >"$e2e_tmp/c.dlc" || fail "dlc dump - (stdin)"
cmp "$e2e_tmp/a.dlc" "$e2e_tmp/c.dlc" || fail "dump from stdin differs"
