#!/bin/sh
# Installs what dlc needs to build and test, on Debian 12 (as root; uses sudo otherwise).
# Installs only what is missing, so it is quick to run again.
set -eu

# the compilers and CMake; Debian's aarch64 cross compiler and qemu-user, for the tests of
# the code generated for --cpu aarch64; protobuf-c and the ONNX schema for the ONNX frontend, and the image
# libraries its ImageDecoder decodes with (frontend/onnx/image_codecs.c); zlib for
# gzipped datasets; python3-venv for the test tooling (tools/pyenv.sh); Fashion-MNIST, the
# real training data of `dlc train` and its tests; PyTorch (Debian's) for the layer
# references of tests/layers and for models/export_onnx.py, torchvision for the real
# models of tests/onnx/lowp_export.py; pkg-config for CMake to find the image libraries, and for the Makefile
# example that tests/install builds against the installed tree
pkgs="build-essential cmake clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user ca-certificates protobuf-c-compiler libprotobuf-c-dev libonnx-dev
      libjpeg62-turbo-dev libpng-dev libtiff-dev libwebp-dev libopenjp2-7-dev
      zlib1g-dev python3 python3-venv dataset-fashion-mnist python3-numpy python3-torch python3-torchvision pkg-config"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

as_root=""
[ "$(id -u)" -eq 0 ] || as_root="sudo"
echo "dlc: installing:$missing"
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
