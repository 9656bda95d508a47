# examples.sh BUILD ROOT PYTHON CMAKE [SANFLAGS] — deployment from a fresh prefix:
# `cmake --install BUILD --prefix P` (under BUILD), then, with nothing but P:
#  - examples/cmake configured with CMAKE_PREFIX_PATH=P: find_package(dlc) and
#    dlc_add_model build the C program (LeNet) and the C++ one (the autoencoder);
#    a second build regenerates nothing, a touched model, a changed option and a
#    new dlc regenerate;
#  - examples/make built with PKG_CONFIG_PATH=P/lib/pkgconfig (logistic regression);
#  - a --target cuda model through dlc_add_model (run where tests/cuda's emulator is),
#    and the same model NAME in another target with OPENMP;
# each program's output on a seeded random image checked against ONNX Runtime's.
# Copies of the examples and models are built, so the checkout is never written.
build=$1
root=$2
py=$3
cmake=$4
san=$5
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
"$py" -c 'import onnxruntime' 2>/dev/null || { echo "skip: no onnxruntime in $py"; exit 77; }
w=$(mktemp -d "$build/tests/install/run-XXXXXX") || fail "mktemp under $build"
trap 'rm -rf "$w"' EXIT
p=$w/prefix
TMPDIR=$w
export TMPDIR

# ---- install ----
"$cmake" --install "$build" --prefix "$p" >"$w/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$w/install.log")"
for f in bin/dlc lib/libdlcrt.a lib/libdlcrt.so lib/libdlc.so include/dlc/dlcrt.h include/dlc/dlc_err.h include/dlc/dlc_api.h \
         lib/cmake/dlc/dlcConfig.cmake lib/cmake/dlc/dlcConfigVersion.cmake lib/cmake/dlc/dlcTargets.cmake \
         lib/pkgconfig/dlcrt.pc share/man/man1/dlc.1 share/man/man1/dlc-compile.1 share/man/man1/dlc-run.1 \
         share/man/man1/dlc-bench.1 share/man/man1/dlc-train.1 share/man/man1/dlc-dump.1 share/man/man1/dlc-dot.1; do
  [ -e "$p/$f" ] || fail "cmake --install did not install $f"
done
"$p/bin/dlc" --version | grep -q '^dlc [0-9]' || fail "installed dlc --version"
# Every installed header compiles as C and as C++.
for h in "$p"/include/dlc/*.h; do
  echo "#include \"$(basename "$h")\"" | cc -std=c99 -Wall -Wextra -pedantic -fsyntax-only -I"$p/include/dlc" -x c - ||
    fail "$h as C99"
  echo "#include \"$(basename "$h")\"" | c++ -std=c++11 -Wall -Wextra -pedantic -fsyntax-only -I"$p/include/dlc" -x c++ - ||
    fail "$h as C++"
done

# ---- the oracle: ONNX Runtime on a seeded image ----
mkdir -p "$w/models" "$w/src"
cp "$root/models/lenet.onnx" "$root/models/autoencoder.onnx" "$root/models/logreg.onnx" "$w/models/"
cp -r "$root/examples/cmake" "$root/examples/make" "$w/src/"
"$py" - "$w" >"$w/ort.log" 2>&1 <<'PY' || fail "onnxruntime: $(cat "$w/ort.log")"
import sys
import numpy as np
import onnxruntime as ort
w = sys.argv[1]
x = np.random.default_rng(14).random((1, 784), dtype=np.float32)
np.save(f"{w}/x.npy", x)
for m in ["lenet", "autoencoder", "logreg"]:
    s = ort.InferenceSession(f"{w}/models/{m}.onnx", providers=["CPUExecutionProvider"])
    i = s.get_inputs()[0]
    xi = x.reshape([1] + [d for d in i.shape[1:]]) if len(i.shape) != 2 else x
    np.save(f"{w}/ref_{m}.npy", s.run(None, {i.name: xi})[0])
PY

# ---- CMake: find_package(dlc), dlc_add_model ----
ex=$w/ex
cfg() {
  "$cmake" -S "$w/src/cmake" -B "$ex" -DCMAKE_PREFIX_PATH="$p" -DDLC_MODELS="$w/models" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" "$@" >"$w/cfg.log" 2>&1 || fail "configure: $(cat "$w/cfg.log")"
}
bld() { "$cmake" --build "$ex" >"$w/build.log" 2>&1 || fail "build: $(cat "$w/build.log")"; }
regenerated() { grep -c 'dlc: compiling' "$w/build.log"; }
run() {
  "$ex/classify" "$w/x.npy" "$w/ref_lenet.npy" >"$w/run.log" 2>&1 || fail "classify: $(cat "$w/run.log")"
  grep -q '^ok: 0 of 10 scores differ' "$w/run.log" || fail "classify: $(cat "$w/run.log")"
  "$ex/reconstruct" "$w/x.npy" "$w/ref_autoencoder.npy" >"$w/run.log" 2>&1 || fail "reconstruct: $(cat "$w/run.log")"
  grep -q '^ok: 0 of 784 values differ' "$w/run.log" || fail "reconstruct: $(cat "$w/run.log")"
  echo "ok: $1: classify and reconstruct agree with ONNX Runtime"
}
cfg
bld
[ "$(regenerated)" = 2 ] || fail "the first build generated $(regenerated) models, want 2: $(cat "$w/build.log")"
grep -q "$p/bin/dlc" "$ex/CMakeCache.txt" "$ex"/CMakeFiles/*.dir/build.make 2>/dev/null ||
  grep -rq "$p/bin/dlc" "$ex/CMakeFiles" || fail "the build does not run the installed dlc"
run "first build"
bld
[ "$(regenerated)" = 0 ] || fail "a build with nothing changed regenerated: $(cat "$w/build.log")"
touch "$w/models/lenet.onnx"
bld
[ "$(regenerated)" = 1 ] || fail "touching lenet.onnx regenerated $(regenerated) models, want 1: $(cat "$w/build.log")"
grep -q 'dlc: compiling .*lenet.onnx' "$w/build.log" || fail "touching lenet.onnx did not regenerate it"
cfg -DDLC_OPT=-O1
bld
[ "$(regenerated)" = 2 ] || fail "changing the options regenerated $(regenerated) models, want 2: $(cat "$w/build.log")"
touch "$p/bin/dlc" # a new dlc
bld
[ "$(regenerated)" = 2 ] || fail "a new dlc regenerated $(regenerated) models, want 2: $(cat "$w/build.log")"
run "-O1"

# ---- Makefile: pkg-config dlcrt, dlc compile ----
PKG_CONFIG_PATH=$p/lib/pkgconfig
export PKG_CONFIG_PATH
inc=$(pkg-config --cflags dlcrt) || fail "pkg-config --cflags dlcrt"
inc=$(echo $inc)
[ "$(cd "${inc#-I}" && pwd -P)" = "$(cd "$p/include/dlc" && pwd -P)" ] || fail "pkg-config --cflags dlcrt: $inc"
make -C "$w/src/make" MODELS="$w/models" BUILD="$w/mk" CFLAGS="-O2 -Wall -Wextra -Werror $san" \
  LDFLAGS="$san" >"$w/make.log" 2>&1 || fail "make: $(cat "$w/make.log")"
grep -q "$p/lib/pkgconfig/../../bin/dlc compile" "$w/make.log" || fail "make did not run the installed dlc: $(cat "$w/make.log")"
"$w/mk/predict" "$w/x.npy" "$w/ref_logreg.npy" >"$w/run.log" 2>&1 || fail "predict: $(cat "$w/run.log")"
grep -q '^ok: 0 of 10 values differ' "$w/run.log" || fail "predict: $(cat "$w/run.log")"
echo "ok: make: predict agrees with ONNX Runtime"

# ---- Python: the module finds the installed libdlc through the dlc on PATH ----
if [ -z "$san" ]; then # an instrumented libdlc does not load into Python
  PATH=$p/bin:$PATH PYTHONPATH=$root/python DLC_LIBRARY= "$py" - "$w" >"$w/py.log" 2>&1 <<'PY' ||
import os, sys
import numpy as np
import dlc
w = sys.argv[1]
if not os.path.realpath(dlc._lib._name).startswith(os.path.realpath(w)):
    sys.exit("loaded %s, not the installed libdlc" % dlc._lib._name)
y = dlc.compile(f"{w}/models/logreg.onnx", batch=1)(x=np.load(f"{w}/x.npy"))
r = np.load(f"{w}/ref_logreg.npy")
sys.exit(0 if np.allclose(y, r, rtol=1e-4, atol=1e-5) else "differs from ONNX Runtime: %s %s" % (y, r))
PY
    fail "python: $(cat "$w/py.log")"
  echo "ok: python: the installed libdlc, found through PATH, agrees with ONNX Runtime"
fi

# ---- CUDA: dlc_add_model(... --target cuda) links libdlcrt's loader (and -ldl) ----
# Built always; run (with the installed dlc's `run --target cuda --check` too) on the
# CPU emulator of tests/cuda where it was built.
mkdir -p "$w/cu"
cp "$w/src/make/predict.c" "$w/cu/"
cat >"$w/cu/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(cu LANGUAGES C)
find_package(dlc REQUIRED)
add_executable(predict predict.c)
dlc_add_model(predict "$w/models/logreg.onnx" NAME logreg OPTIONS --batch 1 --target cuda)
add_executable(predict_omp predict.c) # the same NAME in another target, built with OpenMP
dlc_add_model(predict_omp "$w/models/logreg.onnx" NAME logreg OPTIONS --batch 1 OPENMP)
target_link_libraries(predict_omp PRIVATE dlc::dlcrt)
CMAKE
"$cmake" -S "$w/cu" -B "$w/cu/b" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_C_FLAGS="$san" >"$w/cfg.log" 2>&1 ||
  fail "cuda: configure: $(cat "$w/cfg.log")"
"$cmake" --build "$w/cu/b" >"$w/build.log" 2>&1 || fail "cuda: build: $(cat "$w/build.log")"
echo "ok: cuda: dlc_add_model --target cuda links"
OMP_NUM_THREADS=2 "$w/cu/b/predict_omp" "$w/x.npy" "$w/ref_logreg.npy" >"$w/run.log" 2>&1 || fail "predict_omp: $(cat "$w/run.log")"
grep -q '^ok: 0 of 10 values differ' "$w/run.log" || fail "predict_omp: $(cat "$w/run.log")"
nm "$w/cu/b/predict_omp" | grep -q ' U omp_get_max_threads' || fail "predict_omp: not built with OpenMP"
echo "ok: OPENMP: the same model NAME in a second target, built with -fopenmp, agrees with ONNX Runtime"
emu=$build/tests/cuda/emu
if [ -f "$emu/libdlc_emu_nvrtc.so" ]; then
  (
    LD_LIBRARY_PATH=$emu DLC_NVRTC=$emu/libdlc_emu_nvrtc.so DLC_CUDA_CACHE=off DLC_EMU_CXX=c++
    export LD_LIBRARY_PATH DLC_NVRTC DLC_CUDA_CACHE DLC_EMU_CXX
    "$w/cu/b/predict" "$w/x.npy" "$w/ref_logreg.npy" >"$w/run.log" 2>&1 || fail "cuda predict: $(cat "$w/run.log")"
    grep -q '^ok: 0 of 10 values differ' "$w/run.log" || fail "cuda predict: $(cat "$w/run.log")"
    "$p/bin/dlc" run "$w/models/logreg.onnx" --batch 1 --target cuda --input x="$w/x.npy" --check >"$w/run.log" 2>&1 ||
      fail "installed dlc run --target cuda: $(cat "$w/run.log")"
  ) || exit 1
  echo "ok: cuda (emulated): predict agrees with ONNX Runtime; the installed dlc runs a CUDA model"
fi
echo ok
