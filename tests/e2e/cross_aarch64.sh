#!/bin/sh
# cross_aarch64.sh DLC MODEL: the code generated for --cpu aarch64 (NEON intrinsics, its
# register tile) built with Debian's aarch64 cross compiler and run under qemu-user
# gives the outputs of the same model generated for --cpu generic and run here (which
# `dlc run --check --cpu generic` compares with the reference interpreter first).
# Skipped (77) without aarch64-linux-gnu-gcc or qemu-aarch64.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dlc=$1 model=$2
t=$e2e_tmp
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || {
  echo "skipped: no aarch64-linux-gnu-gcc or qemu-aarch64 (tools/install-deps.sh installs them)"
  exit 77
}
"$dlc" run "$model" --check --cpu generic >"$t/check.log" 2>&1 || fail "dlc run --check --cpu generic: $(tail -1 "$t/check.log")"
for cpu in aarch64 generic; do
  mkdir "$t/$cpu"
  "$dlc" compile "$model" --cpu "$cpu" --name net --embed-max 1000000000 -o "$t/$cpu/net.c" || fail "dlc compile --cpu $cpu"
  awk -v N=net -v DUMP=1 -f "$here/gen_main.awk" "$t/$cpu/net.h" >"$t/$cpu/main.c"
done
grep -q 'DLC_VFMA' "$t/aarch64/net.c" || fail "no NEON tile in the aarch64 code"
flags="-std=c99 -O2 -Wall -Wextra -Werror"
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc $flags -static -I"$t/aarch64" "$t/aarch64/net.c" "$t/aarch64/main.c" -o "$t/aarch64/main" -lm ||
  fail "aarch64-linux-gnu-gcc rejects the code"
# shellcheck disable=SC2086
cc $flags -I"$t/generic" "$t/generic/net.c" "$t/generic/main.c" -o "$t/generic/main" -lm || fail "cc rejects the generic code"
(cd "$t/aarch64" && qemu-aarch64 ./main) || fail "the aarch64 build failed under qemu"
(cd "$t/generic" && ./main) || fail "the generic build failed"
for f in "$t"/generic/out*.bin; do
  b=$(basename "$f")
  # the two differ only in the order of float sums within a kernel: a relative bound
  od -An -v -tf4 -w4 "$f" >"$t/g.txt"
  od -An -v -tf4 -w4 "$t/aarch64/$b" >"$t/a.txt"
  paste "$t/g.txt" "$t/a.txt" | awk -v f="$b" '
    { d = $1 - $2; if (d < 0) d = -d; m = ($1 < 0 ? -$1 : $1); if (m > big) big = m; if (d > worst) worst = d; n++ }
    END { if (n == 0) { print "FAIL: " f " is empty"; exit 1 }
          if (worst > 1e-4 * (big > 1 ? big : 1)) { printf "FAIL: %s: max abs diff %g (max |value| %g)\n", f, worst, big; exit 1 }
          printf "ok: %s: %d values, max abs diff %g\n", f, n, worst }' || fail "aarch64 and generic outputs differ"
done
