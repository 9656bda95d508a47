#!/bin/sh
# bad_onnx.sh DLC DIR FILE WANT: `dlc compile DIR/FILE` must exit 1 with exactly one
# stderr line that starts "dlc: error: " and contains FILE and WANT, and write no output.
# A sanitizer report or a crash shows as another exit status or more lines.
set -u
dlc=$1 dir=$2 file=$3 want=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dlc-onnx-bad-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $file: $*" >&2
  exit 1
}
# Sanitizers exit 1 by default, as a user error does: give them statuses of their own.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87"
export ASAN_OPTIONS UBSAN_OPTIONS
status=0
"$dlc" compile "$dir/$file" -o "$tmp/out.c" >"$tmp/stdout" 2>"$tmp/stderr" || status=$?
msg=$(cat "$tmp/stderr")
[ "$status" -eq 1 ] || fail "exit status $status, want 1: $msg"
[ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "want one line on stderr, got: $msg"
case $msg in "dlc: error: "*) ;; *) fail "stderr does not start with 'dlc: error: ': $msg" ;; esac
case $msg in *"$file"*) ;; *) fail "the error does not name the file: $msg" ;; esac
case $msg in *"$want"*) ;; *) fail "the error lacks '$want': $msg" ;; esac
[ ! -e "$tmp/out.c" ] && [ ! -e "$tmp/out.h" ] || fail "an output file was written"
echo "ok: $msg"
