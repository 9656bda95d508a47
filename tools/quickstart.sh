#!/bin/sh
# The quick start: install what is needed, build dlc, compile the bundled LeNet-5 to C,
# build that C with a small main, run it on an input and print the class scores.
set -eu
cd "$(dirname "$0")/.."

sh tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

mkdir -p out
build/tools/dlc compile models/lenet.dlc -o out/lenet.c --name lenet
cc -std=c99 -O2 -Wall -Wextra -Iout out/lenet.c examples/lenet_main.c -o out/lenet -lm
echo "dlc: compiled models/lenet.dlc to out/lenet.c and out/lenet.h; running out/lenet:"
out/lenet
