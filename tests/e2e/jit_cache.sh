#!/bin/sh
# jit_cache.sh DLC MODEL: the jit's build cache (tools/jit_cache.c).  `dlc run` keeps
# the shared object it built under a key of everything that built it: the same run
# again compiles nothing (one entry, the same outputs); other flags make another entry;
# a --dynamic build run at two sizes is built once; a damaged entry is built again and
# replaced; a cache folder others may write is not used, nor the cache at all with
# DLC_JIT_CACHE=off; without DLC_JIT_CACHE the entries go under $XDG_CACHE_HOME/dlc/jit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dlc=$1 model=$2
t=$e2e_tmp
entries() { find "$1" -maxdepth 1 -name '*.so' 2>/dev/null | wc -l; }

DLC_JIT_CACHE=$t/cache
export DLC_JIT_CACHE
"$dlc" run "$model" --check --seed 1 --output "$t/a" >/dev/null 2>&1 || fail "dlc run"
[ "$(entries "$t/cache")" -eq 1 ] || fail "one run left $(entries "$t/cache") entries, not 1"
[ "$(stat -c %a "$t/cache")" = 700 ] || fail "the cache folder is not 0700: $(stat -c %a "$t/cache")"
"$dlc" run "$model" --check --seed 1 --output "$t/b" >/dev/null 2>&1 || fail "dlc run from the cache"
[ "$(entries "$t/cache")" -eq 1 ] || fail "the same run again made another entry"
for f in "$t"/a/*.npy; do cmp -s "$f" "$t/b/$(basename "$f")" || fail "$(basename "$f") differs from the cache's run"; done
echo "ok: the same run again is built once, with the same outputs"

"$dlc" run "$model" --check --seed 1 --cflags -O1 >/dev/null 2>&1 || fail "dlc run --cflags -O1"
[ "$(entries "$t/cache")" -eq 2 ] || fail "other flags did not make another entry"
echo "ok: other flags, another entry"

rm -rf "$t/cache"
for n in 3 5 8; do
  "$dlc" run "$model" --dynamic 'batch<=8' --batch $n --check >/dev/null 2>&1 || fail "dlc run --dynamic at $n"
done
[ "$(entries "$t/cache")" -eq 1 ] || fail "--dynamic at three sizes made $(entries "$t/cache") entries, not 1"
echo "ok: a --dynamic build run at three sizes is built once"

for f in "$t"/cache/*.so; do printf 'not a shared object' >"$f"; done
"$dlc" run "$model" --dynamic 'batch<=8' --batch 2 --check >/dev/null 2>&1 || fail "dlc run over a damaged entry"
for f in "$t"/cache/*.so; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = 177ELF ] || fail "the damaged entry was not replaced"
done
echo "ok: a damaged entry is built again and replaced"

mkdir -p "$t/open"
chmod 777 "$t/open"
DLC_JIT_CACHE=$t/open "$dlc" run "$model" >/dev/null 2>&1 || fail "dlc run with a cache folder others may write"
[ "$(entries "$t/open")" -eq 0 ] || fail "a cache folder others may write was used"
echo "ok: a cache folder others may write is not used"

unset DLC_JIT_CACHE
XDG_CACHE_HOME=$t/xdg DLC_JIT_CACHE=off "$dlc" run "$model" >/dev/null 2>&1 || fail "dlc run with the cache off"
[ ! -e "$t/xdg/dlc/jit" ] || fail "DLC_JIT_CACHE=off wrote a cache"
XDG_CACHE_HOME=$t/xdg "$dlc" run "$model" >/dev/null 2>&1 || fail "dlc run with the default cache"
[ "$(entries "$t/xdg/dlc/jit")" -eq 1 ] || fail "no entry under \$XDG_CACHE_HOME/dlc/jit"
echo "ok: DLC_JIT_CACHE=off, and the default folder"
