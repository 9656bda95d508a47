#!/bin/sh
# The whole test suite: install what is needed, build, run ctest; then the same suite
# again under AddressSanitizer and UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."

sh tools/install-deps.sh
sh tools/pyenv.sh
jobs=$(nproc)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLC_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDLC_SANITIZE=ON -DDLC_WERROR=ON >/dev/null
cmake --build build-asan -j "$jobs"
# Under the sanitizers, all but the longest end-to-end runs (the ONNX node suite, the
# emulated CUDA runs, NVRTC compiling every model's kernels, training to accuracy, the
# layers' training runs and the fused training steps) and the kernel tests of the
# generic, SSE and AVX-512 targets (the native run and AVX2's stay), which the pass above
# ran; they would take CI past its time.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure -LE conformance \
  -E '^(cuda[.](emulated|emulated_dyn|emulated_train[.].*|test_cuda_nvrtc[.].*)|kernels[.]test_kernels[.](generic|x86-64-v2|x86-64-v4)|kernels[.]test_conv_grad[.]generic|train[.]mnist_mlp|layers[.]train[.].*|fuse[.]train[.].*)$'
