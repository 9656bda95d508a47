#!/bin/sh
# int8_gemm.sh [DLC] [CPUS]: the integer product (matmul_int, u8 x i8 -> i32, B a baked
# weight) against dlc's float32 matmul of the same shape, one thread, thread CPU time:
# GOP/s (2 M K N per run) for each target CPU of CPUS (default: the int8 tiles of this
# machine's x86 rows) and for the float product on native.
dlc=${1:-build/tools/dlc}
cpus=${2:-"x86-64-v4-vnni x86-64-v4 x86-64-v3 generic"}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
gops() { awk -v m="$1" -v k="$2" -v n="$3" -v us="$4" 'BEGIN { printf "%.0f", 2 * m * k * n / us / 1e3 }'; }
time_us() { "$dlc" bench "$1" --compare fused --runs 9 --warmup 2 --clock cpu "$2" "$3" | awk '$1 == "fused" { print $2 }'; }
printf "| M x K x N | f32 matmul GFLOP/s |"
for c in $cpus; do printf " matmul_int %s GOP/s |" "$c"; done
printf "\n|---|---|"
for c in $cpus; do printf -- "---|"; done
printf "\n"
for s in "256 1024 1024" "3136 576 64" "64 576 64" "1 1024 1024"; do
  set -- $s
  printf 'model f\ninput a: f32[%s, %s]\nparam b: f32[%s, %s] = uniform(low=-1, high=1, seed=3)\ny = matmul(a, b)\noutput y\n' \
    "$1" "$2" "$2" "$3" >"$t/f.dlc"
  printf 'model q\ninput a: u8[%s, %s]\nparam b: i8[%s, %s] = uniform(low=-128, high=127, seed=3)\ny = matmul_int(a, b)\noutput y\n' \
    "$1" "$2" "$2" "$3" >"$t/q.dlc"
  printf "| %s x %s x %s | %s |" "$1" "$2" "$3" "$(gops "$1" "$2" "$3" "$(time_us "$t/f.dlc" --cpu native)")"
  for c in $cpus; do printf " %s |" "$(gops "$1" "$2" "$3" "$(time_us "$t/q.dlc" --cpu "$c")")"; done
  printf "\n"
done
