#!/bin/sh
# corpus.sh DLC DIR: every file of DIR/EXPECT ("FILE<TAB>SUBSTRING") is refused by
# `dlc compile` with exit 1 and exactly one stderr line "dlc: error: ..." that names
# the file and holds SUBSTRING, within 10 s and 1 GB of address space (not under ASan,
# which reserves terabytes of address space up front; its shadow memory checks instead),
# and writes nothing.  One test for the whole corpus: each case costs milliseconds.
set -u
dlc=$1 dir=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dlc-hostile-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Sanitizers exit 1 by default, as a user error does: give them statuses of their own,
# and stop at the first report.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:halt_on_error=1"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS
limit=1000000
sh -c 'ulimit -v $1 && "$2" --help; exit $?' sh $limit "$dlc" >/dev/null 2>&1 || limit=unlimited # a sanitizer build
fails=0 n=0
tab=$(printf '\t')
while IFS="$tab" read -r file want; do
  case $file in '#'* | '') continue ;; esac
  n=$((n + 1))
  status=0
  (ulimit -v $limit && exec timeout 10 "$dlc" compile "$dir/$file" -o "$tmp/out.c") \
    >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
  msg=$(cat "$tmp/stderr")
  why=
  if [ "$status" -ne 1 ]; then why="exit status $status, want 1"
  elif [ "$(wc -l <"$tmp/stderr")" -ne 1 ]; then why="want one line on stderr"
  else
    case $msg in "dlc: error: "*"$file"*"$want"* | "dlc: error: "*"$want"*"$file"*) ;;
    *) why="want 'dlc: error: ', the file and '$want'" ;; esac
  fi
  if [ -e "$tmp/out.c" ] || [ -e "$tmp/out.h" ]; then why="${why:+$why; }an output file was written"; fi
  if [ -n "$why" ]; then
    echo "FAIL: $file: $why: $msg" >&2
    fails=$((fails + 1))
  else
    echo "ok: $msg"
  fi
  rm -f "$tmp/out.c" "$tmp/out.h"
done <"$dir/EXPECT"
echo "$((n - fails)) of $n hostile models refused cleanly"
[ "$fails" -eq 0 ]
