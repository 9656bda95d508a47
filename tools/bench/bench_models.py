#!/usr/bin/env python3
"""Benchmarks dlc against ONNX Runtime, PyTorch and OpenBLAS on this machine.

A benchmark, not a test: it measures and prints, and asserts nothing.  Every model of
models/ (the .onnx exports and the .dlc files) runs at each batch under `dlc bench`
(one variant per fusion mode) and, for the .onnx files, under ONNX Runtime and under
PyTorch eager (the same network from models/export_onnx.py), all on one thread, side by
side in one run; then a matmul GFLOP/s benchmark at 512 and 1024 against OpenBLAS's
sgemm.  Times are medians of --runs runs after warm-up, in microseconds, by the wall
clock or (--clock cpu) by the CPU time of the thread that runs the model: every peer
runs on the calling thread at one thread, so on a machine busy with other work the CPU
time still compares like with like.

    .venv/bin/python tools/bench/bench_models.py                 # models + matmul
    .venv/bin/python tools/bench/bench_models.py --encoder-ref   # + the d=256 encoder layer
    .venv/bin/python tools/bench/bench_models.py --only matmul --sizes 512,1024

Needs numpy and onnxruntime in the running Python (tests/requirements.txt);
PyTorch is used from this Python if it has it, else from /usr/bin/python3 (Debian's
python3-torch).  OpenBLAS is Debian's libopenblas (ctypes) when installed, else the one
inside numpy; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from its environment
alone, so that it runs its best kernel, and the kernel's name is printed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "models")
TORCH_PY = "/usr/bin/python3"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- dlc ---------------------------------------------------------------------------

def dlc_bench(args, model, batch, compare):
    """`dlc bench --json`: a list of {variant, median_us, min_us, max_us, kernels, ...}."""
    cmd = [args.dlc, "bench", model, "--compare", compare, "--runs", str(args.runs),
           "--warmup", str(args.warmup), "--json", "--cflags", args.cflags, "--clock", args.clock]
    if batch is not None:
        cmd += ["--batch", str(batch)]
    if args.threads > 1:
        cmd += ["--threads", str(args.threads)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        log(f"dlc bench {model}: {r.stderr.strip()}")
        return None
    return json.loads(r.stdout)


# ---- ONNX Runtime --------------------------------------------------------------------

def ort_bench(args, path, batch):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feed = {}
    rng = np.random.default_rng(0)
    for i in s.get_inputs():
        shape = [batch if not isinstance(d, int) else d for d in i.shape]
        if i.type == "tensor(float)":
            feed[i.name] = rng.standard_normal(shape).astype(np.float32)
        else:  # ids, as dlc bench's random integers: [0, 4)
            feed[i.name] = rng.integers(0, 4, shape).astype(np.int64 if "64" in i.type else np.int32)
    for _ in range(args.warmup):
        s.run(None, feed)
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    t = []
    for _ in range(args.runs):
        t0 = clock()
        s.run(None, feed)
        t.append((clock() - t0) * 1e6)
    return statistics.median(t)


# ---- PyTorch (the modules of models/export_onnx.py) -----------------------------------

TORCH_SNIPPET = r"""
import json, statistics, sys, time
import torch
sys.path.insert(0, sys.argv[1])
import export_onnx as E
name, batch, threads, runs, warmup = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
clock = time.thread_time if sys.argv[7] == "cpu" else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(E.SEED)
if name == "encoder_ref":
    m, shape = E.Encoder(d=256, heads=4, ff=1024).eval(), (2, 64, 256)
else:
    cls, shape, _ = E.MODELS[name]
    m = cls().eval()
x = torch.randn(batch, *shape[1:])
t = []
with torch.no_grad():
    for _ in range(warmup):
        m(x)
    for _ in range(runs):
        t0 = clock()
        m(x)
        t.append((clock() - t0) * 1e6)
print(json.dumps({"median_us": statistics.median(t), "version": torch.__version__}))
"""


def torch_python():
    try:
        import torch  # noqa: F401
        return sys.executable
    except ImportError:
        return TORCH_PY if os.path.exists(TORCH_PY) else None


def torch_bench(args, name, batch):
    py = torch_python()
    if not py or args.no_torch:
        return None
    r = subprocess.run([py, "-c", TORCH_SNIPPET, MODELS, name, str(batch), str(args.threads),
                        str(args.runs), str(args.warmup), args.clock], capture_output=True, text=True)
    if r.returncode:
        log(f"pytorch {name}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'failed'}")
        return None
    return json.loads(r.stdout)["median_us"]


EXPORT_SNIPPET = r"""
import sys, torch
sys.path.insert(0, sys.argv[1])
import export_onnx as E
torch.manual_seed(E.SEED)
m = E.Encoder(d=256, heads=4, ff=1024).eval()
with torch.no_grad():
    torch.onnx.export(m, (torch.randn(2, 64, 256),), sys.argv[2], input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17,
                      do_constant_folding=True)
"""


def export_encoder_ref(tmp):
    """The encoder layer of PERF-REFERENCE.md (d=256, 4 heads, ff=1024, seq 64)."""
    py = torch_python()
    path = os.path.join(tmp, "encoder_ref.onnx")
    if not py:
        log("--encoder-ref needs PyTorch")
        return None
    r = subprocess.run([py, "-c", EXPORT_SNIPPET, MODELS, path], capture_output=True, text=True)
    if r.returncode:
        log(f"exporting the reference encoder failed: {r.stderr.strip()[-300:]}")
        return None
    return path


# ---- the model table -------------------------------------------------------------------

def model_rows(args, tmp):
    files = sorted(f for f in os.listdir(MODELS) if f.endswith((".onnx", ".dlc")))
    paths = [os.path.join(MODELS, f) for f in files if not args.models or f.split(".")[0] in args.models]
    if args.encoder_ref:
        p = export_encoder_ref(tmp)
        if p:
            paths.append(p)
    variants = args.compare.split(",")
    print(f"\n## models: median us per run ({args.clock} clock), {args.threads} thread(s), "
          f"{args.runs} runs, dlc cflags '{args.cflags}'\n")
    head = ["model", "batch"] + [f"dlc {v}" for v in variants] + ["ORT", "PyTorch", "dlc/ORT"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for path in paths:
        name, ext = os.path.splitext(os.path.basename(path))
        for batch in args.batches:
            log(f"{name}{ext} batch {batch} ...")
            d = dlc_bench(args, path, batch, args.compare)
            times = {v["variant"]: v["median_us"] for v in d} if d else {}
            ort = ort_bench(args, path, batch) if ext == ".onnx" else None
            pt = torch_bench(args, name, batch) if ext == ".onnx" else None
            best = min(times.values()) if times else None
            cells = [name + ext, str(batch)] + [fmt(times.get(v)) for v in variants]
            cells += [fmt(ort), fmt(pt), f"{best / ort:.2f}" if best and ort else "-"]
            print("| " + " | ".join(cells) + " |", flush=True)


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


# ---- matmul GFLOP/s -----------------------------------------------------------------------

BLAS_SNIPPET = r"""
import ctypes, ctypes.util, glob, json, os, statistics, sys, time
import numpy as np
n, threads, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
clock = time.thread_time if sys.argv[4] == "cpu" else time.perf_counter
a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
c = np.zeros((n, n), np.float32)
lib = None
for name in ("libopenblas.so.0", "libopenblas.so"):
    try:
        lib = ctypes.CDLL(name)
        break
    except OSError:
        pass
if lib is not None:
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_set_num_threads(threads)
    core = "Debian libopenblas, " + lib.openblas_get_corename().decode()
    P = ctypes.POINTER(ctypes.c_float)
    args = [101, 111, 111, n, n, n, ctypes.c_float(1), a.ctypes.data_as(P), n, b.ctypes.data_as(P), n,
            ctypes.c_float(0), c.ctypes.data_as(P), n]
    run = lambda: lib.cblas_sgemm(*args)
else:
    core = "numpy's bundled BLAS"
    run = lambda: np.matmul(a, b, out=c)
for _ in range(3):
    run()
t = []
for _ in range(runs):
    t0 = clock()
    run()
    t.append((clock() - t0) * 1e6)
print(json.dumps({"median_us": statistics.median(t), "kernel": core}))
"""


def blas_bench(args, n):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_NUM_THREADS"] = str(args.threads)
    r = subprocess.run([sys.executable, "-c", BLAS_SNIPPET, str(n), str(args.threads), str(args.runs), args.clock],
                       capture_output=True, text=True, env=env)
    if r.returncode:
        log(f"openblas: {r.stderr.strip()[-300:]}")
        return None
    return json.loads(r.stdout)


def matmul_model(tmp, n, baked):
    """y = a x b at n x n: b an input, or a weight baked into the code in panels."""
    path = os.path.join(tmp, f"matmul{n}{'w' if baked else ''}.dlc")
    b = f"param b: f32[{n}, {n}] = normal(0, 1)" if baked else f"input b: f32[{n}, {n}]"
    with open(path, "w") as f:
        f.write(f"model matmul{n}\nseed 1\ninput a: f32[{n}, {n}]\n{b}\ny = matmul(a, b)\noutput y\n")
    return path


def matmul_rows(args, tmp):
    print(f"\n## matmul n x n x n, fp32, {args.threads} thread(s): GFLOP/s from the median of "
          f"{args.runs} runs ({args.clock} clock)\n")
    print("| n | dlc, B an input | dlc, B baked in panels | OpenBLAS sgemm | dlc/OpenBLAS | OpenBLAS kernel |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        log(f"matmul {n} ...")
        flop = 2.0 * n * n * n
        gf = []
        for baked in (False, True):
            d = dlc_bench(args, matmul_model(tmp, n, baked), None, "fused")
            gf.append(flop / d[0]["median_us"] / 1e3 if d else None)
        blas = blas_bench(args, n)
        bg = flop / blas["median_us"] / 1e3 if blas else None
        best = max(g for g in gf if g) if any(gf) else None
        ratio = f"{best / bg:.2f}" if best and bg else "-"
        print(f"| {n} | {fmt(gf[0])} | {fmt(gf[1])} | {fmt(bg)} | {ratio} | "
              f"{blas['kernel'] if blas else '-'} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", default=os.path.join(ROOT, "build", "tools", "dlc"), help="the dlc binary")
    ap.add_argument("--batches", default="1,64", help="batch sizes (default 1,64)")
    ap.add_argument("--threads", type=int, default=1, help="threads for dlc (OpenMP), ORT, PyTorch and OpenBLAS")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall clock, or the CPU time of the thread that runs the model")
    ap.add_argument("--cflags", default="-O3 -march=native", help="dlc's C compiler flags")
    ap.add_argument("--compare", default="none,op,all", help="dlc bench variants")
    ap.add_argument("--models", default="", help="model names to run (default: all of models/)")
    ap.add_argument("--sizes", default="512,1024", help="matmul sizes")
    ap.add_argument("--only", choices=["models", "matmul"], help="one of the two parts")
    ap.add_argument("--encoder-ref", action="store_true",
                    help="also the encoder layer of PERF-REFERENCE.md (d=256, ff=1024, seq 64)")
    ap.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = ap.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.models = [m for m in args.models.split(",") if m]
    if not os.path.exists(args.dlc):
        sys.exit(f"bench_models.py: no dlc at {args.dlc} (build it, or pass --dlc)")
    if args.threads > 1 and args.clock == "cpu":
        sys.exit("bench_models.py: --clock cpu counts one thread; time --threads by the wall clock")
    print(f"# dlc benchmark: {os.uname().nodename}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="dlc-bench-") as tmp:
        if args.only != "matmul":
            model_rows(args, tmp)
        if args.only != "models":
            matmul_rows(args, tmp)


if __name__ == "__main__":
    main()
