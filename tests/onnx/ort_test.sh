#!/bin/sh
# ort_test.sh PYTHON ort_compare.py ARGS...: runs the comparison with ONNX Runtime, or
# fails with what to do when that Python or its packages are missing.  A missing tool
# is a failure, never a pass.
set -u
py=$1
shift
if [ ! -x "$py" ]; then
  echo "FAIL: no Python at $py: run tools/pyenv.sh (or configure with -DDLC_PYTHON=... or -DDLC_ONNX_TESTS=OFF)" >&2
  exit 1
fi
if ! "$py" -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  echo "FAIL: $py lacks numpy, onnx or onnxruntime: run tools/pyenv.sh (or configure with -DDLC_ONNX_TESTS=OFF)" >&2
  exit 1
fi
exec "$py" "$@"
