#!/bin/sh
# Creates .venv with the pinned Python packages the tests use (tests/requirements.txt).
# Needs python3-venv (tools/install-deps.sh installs it).  Quick when already done.
set -eu
cd "$(dirname "$0")/.."

py=${DLC_PYTHON_BASE:-/usr/bin/python3}
[ -x "$py" ] || py=python3
stamp=.venv/.requirements
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cmp -s "$stamp" tests/requirements.txt; then
  exit 0
fi
echo "dlc: creating .venv with tests/requirements.txt"
rm -rf .venv
"$py" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements.txt
cp tests/requirements.txt "$stamp"
