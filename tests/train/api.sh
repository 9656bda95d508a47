# api.sh DLC ROOT — `dlc compile --train` of models/mlp.dlc (batch 8), built with gcc
# and clang under -Wall -Wextra -pedantic -Werror (and -O3 -march=native), linked
# with api_main.c and run.
. "$(dirname "$0")/../e2e/lib.sh"
dlc=$1
root=$2
"$dlc" compile "$root/models/mlp.dlc" --train --batch 8 --name mlp -o "$e2e_tmp/mlp.c" || fail "compile --train"
for cc in gcc clang; do
  command -v $cc >/dev/null || continue
  for opt in -O0 "-O3 -march=native"; do
    # shellcheck disable=SC2086
    $cc -std=c99 $opt -Wall -Wextra -Wshadow -pedantic -Werror -I"$e2e_tmp" "$e2e_tmp/mlp.c" \
      "$(dirname "$0")/api_main.c" -o "$e2e_tmp/api_main" -lm || fail "$cc $opt"
    "$e2e_tmp/api_main" "$e2e_tmp" || fail "api_main ($cc $opt)"
  done
done
