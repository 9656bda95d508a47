#!/bin/sh
# bad_model.sh DLC FILE: FILE's first line is "# expect: TEXT"; `dlc dump FILE` must
# fail with one line "dlc: error: ..." containing TEXT.
set -eu
. "$(dirname "$0")/lib.sh"
dlc=$1 file=$2
want=$(sed -n '1s/^# expect: //p' "$file")
[ -n "$want" ] || fail "$file has no '# expect: ' first line"
expect_error "$want" "$dlc" dump "$file"
