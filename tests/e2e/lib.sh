# lib.sh — shared by the end-to-end scripts: a private temporary folder per test (so
# ctest -j never shares files), failing with a message, and checking a user error.

e2e_tmp=$(mktemp -d "${TMPDIR:-/tmp}/dlc-e2e-XXXXXX")
trap 'rm -rf "$e2e_tmp"' EXIT
# The jit's folders go inside ours, so nothing is left behind even on a crash.
TMPDIR=$e2e_tmp
export TMPDIR

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_error WANT CMD...: CMD exits 1 and prints exactly one line on stderr that
# starts with "dlc: error: " and contains WANT.
expect_error() {
  want=$1
  shift
  status=0
  "$@" >"$e2e_tmp/stdout" 2>"$e2e_tmp/stderr" || status=$?
  lines=$(wc -l <"$e2e_tmp/stderr")
  msg=$(cat "$e2e_tmp/stderr")
  [ "$status" -eq 1 ] || fail "exit status $status, want 1: $* (stderr: $msg)"
  [ "$lines" -eq 1 ] || fail "$lines lines on stderr, want 1: $*: $msg"
  case $msg in
  "dlc: error: "*) ;;
  *) fail "stderr does not start with 'dlc: error: ': $msg" ;;
  esac
  case $msg in
  *"$want"*) ;;
  *) fail "stderr lacks '$want': $msg" ;;
  esac
  echo "ok: $msg"
}
