# man.sh DLC ROOT — the hand-written man pages (ROOT/man) say what --help says: every
# command of `dlc --help` has its page and a line in dlc.1, every option a command's
# --help lists is in its page's OPTIONS, and the page lists no option --help lacks.
dlc=$1
root=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
# The options of a --help text: the first word of each "  -x ..." line.
help_opts() { "$dlc" "$@" --help | sed -n 's/^  \(-[^ ,]*\).*/\1/p' | sort -u; }
# The options of a page's OPTIONS section: each .TP's first \fB...\fR, unescaped.
page_opts() {
  sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" | sed -n '/^\.TP/{n;p}' |
    sed -n 's/^\\fB\([^\\]*\(\\-[^\\]*\)*\)\\fR.*/\1/p' | sed 's/\\-/-/g' | sort -u
}
cmds=$("$dlc" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail "no commands in dlc --help"
for c in $cmds; do
  page=$root/man/dlc-$c.1
  [ -f "$page" ] || fail "dlc $c has no man page $page"
  grep -q "^\.B $c\$" "$root/man/dlc.1" || fail "dlc.1 does not list the command $c"
  help_opts "$c" >"${TMPDIR:-/tmp}/help.$$"
  page_opts "$page" >"${TMPDIR:-/tmp}/page.$$"
  d=$(diff "${TMPDIR:-/tmp}/help.$$" "${TMPDIR:-/tmp}/page.$$")
  rm -f "${TMPDIR:-/tmp}/help.$$" "${TMPDIR:-/tmp}/page.$$"
  [ -z "$d" ] || fail "dlc-$c.1 and 'dlc $c --help' differ (< help, > page): $d"
  echo "ok: dlc-$c.1"
done
"$dlc" --help | grep -q "(.onnx, .dlc)" || fail "dlc --help does not name ONNX"
"$dlc" --version | grep -Eq '^dlc [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)$' ||
  fail "dlc --version: $("$dlc" --version)"
echo ok
