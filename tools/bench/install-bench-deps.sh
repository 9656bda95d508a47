#!/bin/sh
# Installs what the benchmarks of tools/bench need beyond tools/install-deps.sh, on
# Debian 12 (as root; uses sudo otherwise): PyTorch and torchvision from Debian, for
# /usr/bin/python3 (real_models_torch.py exports the networks and times PyTorch), and a
# C compiler (fma_peak.c); then the .venv with numpy, onnx and onnxruntime
# (tools/pyenv.sh), which runs real_models.py, ONNX Runtime and numpy's OpenBLAS.
# Installs only what is missing.
#
#   tools/bench/install-bench-deps.sh             # the above
#   tools/bench/install-bench-deps.sh --openblas  # and libopenblas0-pthread
#
# --openblas: Debian's PyTorch runs Linear and matmul through libblas.so.3, which with
# Debian's libblas3 alone is the netlib reference BLAS; libopenblas0-pthread becomes the
# system's libblas.so.3 through update-alternatives, for every program on the machine.
set -eu
cd "$(dirname "$0")/../.."

pkgs="build-essential python3 python3-venv python3-numpy python3-torch python3-torchvision"
case "${1:-}" in
  --openblas) pkgs="$pkgs libopenblas0-pthread" ;;
  "") ;;
  *) echo "usage: $0 [--openblas]" >&2; exit 1 ;;
esac

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo"
  echo "dlc bench: installing:$missing"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
tools/pyenv.sh
