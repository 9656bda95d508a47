#!/bin/sh
# cuda_report.sh [BUILD]: every GPU figure docs/CUDA.md asks for, in one run, on a
# machine with an NVIDIA GPU, its driver and NVRTC, from a built tree (BUILD, default
# build/: `cmake -S . -B build && cmake --build build`).  Prints a report; measures,
# asserts nothing.
#
#   1. the device: name, driver, memory (nvidia-smi);
#   2. the GPU tests: cuda.test_cuda_run and cuda.test_cuda_train against the C backend;
#   3. fused against unfused per model of models/ at batch 1 and 64 (dlc bench
#      --target cuda): whole runs (inputs in, outputs out) and the kernels alone;
#   4. dlc's f32 matmul at 4096 against cuBLAS's sgemm (tools/bench/cuda_ref.c);
#   5. the bandwidth of a large elementwise fusion (256 MiB in, 256 MiB out) against a
#      device-to-device copy of as many bytes;
#   6. the MLP and LeNet training step against PyTorch on the same GPU, where its
#      build has CUDA (tools/bench/train_bench.py --target cuda).
#
# Needs: sh, cc, python3 (step 6, with /usr/bin/python3's torch for PyTorch's column).
# Smaller runs (a dry run on the CPU emulator of tests/cuda/emu, say): RUNS=2 MM=256
# EW=65536 MODELS="logreg mlp" TRAIN=mlp.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
dlc=$build/tools/dlc
runs=${RUNS:-50} mm=${MM:-4096} ew=${EW:-67108864} train=${TRAIN:-mlp,lenet}
models=${MODELS:-$(cd "$root/models" && ls *.dlc | sed 's/[.]dlc$//')}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dlc-cuda-report-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ -x "$dlc" ] || { echo "cuda_report: no $dlc: build first" >&2; exit 1; }

# json_field FIELD: the number after "FIELD": in the first JSON line of stdin.
json_field() { sed -n "s/.*\"$1\": \\([0-9.e+-]*\\).*/\\1/p" | head -n 1; }

echo "# dlc on the GPU: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "## Device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "(no nvidia-smi)"
echo

echo "## GPU tests"
ctest --test-dir "$build" -R '^cuda[.]test_cuda_(run|train)$' --output-on-failure 2>&1 | tail -n 25 || true
echo

echo "## Fused against unfused (median of $runs, wall clock)"
for name in $models; do
  m=$root/models/$name.dlc
  for b in 1 64; do
    echo "### $name at batch $b"
    "$dlc" bench "$m" --target cuda --batch "$b" --runs "$runs" --compare fused,unfused 2>&1 | tail -n +2 || true
  done
done
echo

echo "## Matmul at $mm (f32)"
printf 'model mm\ninput a: f32[%d, %d]\ninput b: f32[%d, %d]\ny = matmul(a, b)\noutput y\n' "$mm" "$mm" "$mm" "$mm" >"$tmp/mm.dlc"
us=$("$dlc" bench "$tmp/mm.dlc" --target cuda --runs "$runs" --compare fused --json | json_field kernels_us)
echo "dlc:    $us us, $(awk -v u="$us" -v n="$mm" 'BEGIN { printf "%.2f", 2 * n^3 / u / 1e6 }') TFLOP/s"
cc -O2 "$root/tools/bench/cuda_ref.c" -I"$root/runtime" "$build/runtime/libdlcrt.a" -ldl -lpthread -lm -o "$tmp/cuda_ref"
ref=$("$tmp/cuda_ref" sgemm "$mm" || true)
echo "cuBLAS: $(echo "$ref" | json_field median_us) us, $(echo "$ref" | json_field tflops) TFLOP/s"
echo

echo "## Elementwise bandwidth, $ew floats (reads and writes counted)"
printf 'model ew\ninput x: f32[%d]\ny = relu(add(mul(x, x), sigmoid(x)))\noutput y\n' "$ew" >"$tmp/ew.dlc"
line=$("$dlc" bench "$tmp/ew.dlc" --target cuda --runs "$runs" --compare fused --json | grep fused)
us=$(echo "$line" | json_field kernels_us) bytes=$(echo "$line" | json_field bytes_moved)
echo "dlc fused kernel: $us us, $(awk -v u="$us" -v b="$bytes" 'BEGIN { printf "%.0f", b / u / 1e3 }') GB/s"
ref=$("$tmp/cuda_ref" copy $((ew * 4)) || true)
echo "device copy:      $(echo "$ref" | json_field median_us) us, $(echo "$ref" | json_field gb_per_s) GB/s"
echo

echo "## Training step at batch 64"
python3 "$root/tools/bench/train_bench.py" --dlc "$dlc" --target cuda --models "$train" --runs "$runs" 2>&1 || true
