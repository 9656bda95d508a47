#!/bin/sh
# dcgan_train.sh BUILD_DIR OUT_DIR [EPOCHS [SAMPLES]]: trains models/dcgan.dlc on
# Fashion-MNIST.  dlc (from BUILD_DIR) compiles the model's two training steps at
# batch 64; dcgan_train.c drives them, linked with BUILD_DIR's libdlcrt; the losses
# per epoch go to stdout and OUT_DIR/gan_losses.csv, sample grids to OUT_DIR/*.pgm.
# The step is built with $CFLAGS, by default -O3 -march=native as dlc train's jit
# builds its steps (twice as fast as -O2 here).
set -eu
build=$(cd "$1" && pwd)
out=$2
epochs=${3:-5}
samples=${4:-60000}
here=$(cd "$(dirname "$0")" && pwd)
data=${DLC_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
"$build/tools/dlc" compile --train "$here/dcgan.dlc" --batch 64 -o "$out/dcgan.c"
${CC:-cc} ${CFLAGS:--O3 -march=native} -std=c11 -I"$out" -I"$here/../runtime" "$here/dcgan_train.c" "$out/dcgan.c" \
  "$build/runtime/libdlcrt.a" -lz -ldl -lm -o "$out/dcgan_train"
"$out/dcgan_train" "$data" "$out" "$epochs" "$samples"
