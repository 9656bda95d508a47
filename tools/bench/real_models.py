#!/usr/bin/env python3
"""Benchmarks dlc against ONNX Runtime and PyTorch on real networks, beside the machine's limits.

A benchmark, not a test: it measures and prints, and asserts nothing.  In one run it
prints, in Markdown:

  1. the machine: lscpu's model name and ISA flags (avx2, fma, avx512f), the CPUs, the
     load average, the dlc commit;
  2. the measured fp32 FMA peak (tools/bench/fma_peak.c, built here with
     `cc -O2 -march=native`: independent FMA chains, AVX-512 and AVX2 where the CPU has
     them), on each thread count;
  3. numpy's OpenBLAS sgemm at n = 256, 512, 1024, 2048 on each thread count, with the
     OpenBLAS core type it ran (openblas_get_corename), and dlc's product at the same
     sizes (`dlc bench` of y = matmul(a, b), a and b inputs);
  4. the models: ResNet-18, ResNet-50, MobileNetV2, SqueezeNet 1.1, ShuffleNetV2 x1.0
     (torchvision, 224x224), a BERT-base-sized encoder layer (d=768, 12 heads, ff 3072,
     seq 128), a GPT-2-small-sized causal decoder block (seq 128) and a 2-layer LSTM
     (hidden 512, seq 64); see tools/bench/real_models_torch.py.  Each at each batch on
     each thread count under dlc (`dlc bench MODEL --json`, the default pipeline,
     -O3 -march=native), ONNX Runtime (ORT_ENABLE_ALL, intra_op_num_threads=T,
     inter_op 1) and PyTorch (torch.set_num_threads(T), torch.inference_mode()): the
     median milliseconds per run after warm-up, dlc/ORT, and the GFLOP/s each reaches.

Which Python does what.  This script runs under the repository's .venv Python
(tools/pyenv.sh: numpy, onnx, onnxruntime pinned in tests/requirements.txt): it counts
FLOPs with onnx, times ONNX Runtime in-process, and times numpy's bundled OpenBLAS in a
subprocess.  Exporting and PyTorch timing run under Debian's /usr/bin/python3 with
python3-torch 1.13 and python3-torchvision 0.14 (tools/bench/real_models_torch.py), as
subprocesses.  tools/bench/install-bench-deps.sh installs the Debian packages and the
.venv.

    tools/bench/install-bench-deps.sh
    .venv/bin/python tools/bench/real_models.py                      # everything
    .venv/bin/python tools/bench/real_models.py --models resnet18,bert_layer --batch 1 --threads 1
    .venv/bin/python tools/bench/real_models.py --json out.json --runs 5 --budget 10

Exports are cached in build/bench-models (--cache): one fixed-shape ONNX file per model
and batch (seeded random weights), made again only when real_models_torch.py changes.

FLOPs are counted from the ONNX graph (shapes from onnx shape inference, and from one
ONNX Runtime run where that leaves them unknown): 2 x the
multiply-adds of Conv, ConvTranspose, Gemm and MatMul, and of the gate products of
LSTM/GRU/RNN; elementwise work, pooling and normalisation are not counted.  GFLOP/s =
that count / the median time.

Clocks.  On one thread every engine computes on the calling thread, so by default
(--clock auto) one-thread rows are timed by that thread's CPU time (dlc bench
--clock cpu, time.thread_time): on a machine busy with other work this still compares
like with like.  Rows on more threads are timed by the wall clock, which a loaded
machine inflates: the load average is printed at the start and the end.

PyTorch.  Debian's PyTorch runs convolutions through oneDNN, but Linear and matmul
through the system's libblas.so.3: with only Debian's libblas3 that is the netlib
reference BLAS, many times slower than an optimised one, which holds down the PyTorch
column of the transformer and LSTM rows.  The BLAS it loaded is printed under the
table; `install-bench-deps.sh --openblas` installs libopenblas0-pthread, which
update-alternatives then makes the system's libblas.so.3 (for every program on the
machine that uses it).

Budget.  A slow row does not run --runs times: each measurement gets about --budget
seconds, so its runs are budget / (the expected time of a run), at least 1 (and one
warm-up), at most --runs; the expected time comes from the same engine's previous
batch, else from the FLOP count.  Each dlc bench (compile and runs) and each PyTorch
subprocess is stopped after --timeout seconds; a model that dlc fails to compile, or
that times out, is a row that says so (the first line of the error).

--paired times dlc and ONNX Runtime in this one process, through dlc's Python module
(libdlc beside --dlc; its default --micro-batch auto unless --micro-batch says), their
runs alternating with 0.1 s between runs (each engine's idle threads spin for a while
after a run, and on two cores would take the other's): on a machine whose speed moves
between runs (this 2-vCPU guest's two threads run at full speed or at half for minutes
at a time) both see the same moments, and dlc/ORT is the median over the rounds of the
two times' ratio.  The module's runs
include its own small overhead per call (output arrays made, inputs checked).

--verify also runs each model once under `dlc run` at the smallest batch on a seeded
input and notes the largest difference from ONNX Runtime's output, relative to the
largest |output|: a check that the times are of a right answer, not a test.

OpenBLAS.  These machines may set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the
environment, which can hold OpenBLAS to a slower kernel; to measure it at its best,
both are unset in its subprocess only (and OPENBLAS_NUM_THREADS set to the thread
count), and the core type it then ran is printed beside its figures.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TORCH_HELPER = os.path.join(HERE, "real_models_torch.py")
TORCH_PY = "/usr/bin/python3"

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0",
          "bert_layer", "gpt2_block", "lstm"]

# GFLOP/s assumed for a first run's expected time, before any run of the engine is known
GUESS_GFLOPS = {"dlc": 3.0, "ort": 20.0, "torch": 15.0}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def first_line(text, limit=160):
    lines = [l.strip() for l in (text or "").strip().splitlines() if l.strip()]
    line = lines[0] if lines else "no message"
    return line if len(line) <= limit else line[:limit - 3] + "..."


def run(cmd, timeout, env=None):
    """subprocess.run in a session of its own: on timeout the whole group (dlc and the
    compiler it started) is stopped, and subprocess.TimeoutExpired raised."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)


# ---- the machine -----------------------------------------------------------------------

def machine_info(args):
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "host": os.uname().nodename, "cpus": os.cpu_count(), "load_start": os.getloadavg()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        out = ""
    fields = {}
    for line in out.splitlines():
        k, _, v = line.partition(":")
        fields[k.strip()] = v.strip()
    flags = fields.get("Flags", "").split()
    info["cpu"] = fields.get("Model name", "unknown")
    info["isa"] = [f for f in ("sse4_2", "avx", "fma", "avx2", "avx512f", "avx512bw", "avx512vl",
                               "avx512_vnni", "avx512_bf16", "avx512_fp16") if f in flags]
    for k in ("CPU family", "Model", "L1d cache", "L2 cache", "L3 cache"):
        if k in fields:
            info[k.lower().replace(" ", "_")] = fields[k]

    def git(*a):
        r = subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""
    commit = git("rev-parse", "--short", "HEAD")
    dirty = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--", ".", ":!tools/bench"],
                           capture_output=True).returncode
    info["commit"] = (commit or "unknown") + ("+changes" if commit and dirty else "")
    try:
        import onnxruntime
        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    info["dlc"] = args.dlc
    info["dlc_cflags"] = (args.cflags or "dlc bench's default (-O3 -march=native)") + \
        (f", --cpu {args.cpu}" if args.cpu else "")
    return info


# ---- the FMA peak ------------------------------------------------------------------------

def fma_peak(args):
    src = os.path.join(HERE, "fma_peak.c")
    exe = os.path.join(args.cache, "fma_peak")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        log("fma_peak: no C compiler")
        return []
    r = subprocess.run([cc, "-O2", "-march=native", "-pthread", src, "-o", exe], capture_output=True, text=True)
    if r.returncode:
        log(f"fma_peak: {first_line(r.stderr)}")
        return []
    r = subprocess.run([exe] + [str(t) for t in args.threads], capture_output=True, text=True)
    if r.returncode:
        log(f"fma_peak: {first_line(r.stderr)}")
        return []
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def print_peak(peak):
    print("\n## fp32 FMA peak (tools/bench/fma_peak.c, -O2 -march=native, best of 5)\n")
    if not peak:
        print("(not measured)")
        return
    print("| ISA | threads | chains | GFLOP/s (wall, all threads) | GFLOP/s per thread (thread CPU time) |")
    print("|---|---|---|---|---|")
    for p in peak:
        print(f"| {p['isa']} | {p['threads']} | {p['chains']} | {p['gflops_wall']:.1f} | "
              f"{p['gflops_per_thread_cpu']:.1f} |")


def peak_for(peak, threads):
    """The best ISA's peak on `threads` threads (wall; per-thread CPU time x threads if larger)."""
    best = None
    for p in peak:
        if p["threads"] == threads:
            g = max(p["gflops_wall"], p["gflops_per_thread_cpu"] * threads)
            best = g if best is None else max(best, g)
    return best


# ---- OpenBLAS sgemm ----------------------------------------------------------------------

BLAS_SNIPPET = r"""
import ctypes, glob, json, os, statistics, sys, time
import numpy as np
n, threads, clock = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = time.thread_time if clock == "cpu" else time.perf_counter
core = "unknown"
libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "libopenblas*.so*"))
for path in libs:
    lib = ctypes.CDLL(path)
    for suffix in ("64_", "", "_64"):
        f = getattr(lib, "openblas_get_corename" + suffix, None)
        if f is not None:
            f.restype = ctypes.c_char_p
            core = f().decode()
            s = getattr(lib, "openblas_set_num_threads" + suffix, None)
            if s is not None:
                s(threads)
            break
a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
b = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
c = np.empty((n, n), np.float32)
np.matmul(a, b, out=c)
t0 = time.perf_counter()
np.matmul(a, b, out=c)
one = time.perf_counter() - t0
runs = max(3, min(20, int(1.0 / max(one, 1e-6))))
t = []
for _ in range(runs):
    t0 = now()
    np.matmul(a, b, out=c)
    t.append(now() - t0)
med = statistics.median(t)
print(json.dumps({"n": n, "threads": threads, "median_ms": med * 1e3, "gflops": 2.0 * n ** 3 / med / 1e9,
                  "runs": runs, "core": core, "clock": clock, "numpy": np.__version__}))
"""


def openblas(args):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    rows = []
    for t in args.threads:
        env["OPENBLAS_NUM_THREADS"] = str(t)
        for n in args.sizes:
            log(f"openblas sgemm n={n} threads={t} ...")
            try:
                r = run([sys.executable, "-c", BLAS_SNIPPET, str(n), str(t), clock_for(args, t)],
                        args.timeout, env=env)
            except subprocess.TimeoutExpired:
                log(f"openblas: timed out after {args.timeout} s")
                continue
            if r.returncode:
                log(f"openblas: {first_line(r.stderr)}")
                continue
            try:
                rows.append(json.loads(r.stdout))
            except ValueError:
                log(f"openblas: printed no JSON: {first_line(r.stdout)}")
    return rows


def dlc_sgemm(args, rows):
    """dlc's own product at the same sizes: `dlc bench` of y = matmul(a, b), a and b inputs."""
    for r in rows:
        n = r["n"]
        path = os.path.join(args.cache, f"matmul{n}.dlc")
        with open(path, "w") as f:
            f.write(f"model matmul{n}\nseed 1\ninput a: f32[{n}, {n}]\ninput b: f32[{n}, {n}]\n"
                    f"y = matmul(a, b)\noutput y\n")
        log(f"dlc sgemm n={n} threads={r['threads']} ...")
        runs, warmup = plan_runs(args, 2.0 * n ** 3 / 30e9)
        d = dlc_time(args, path, r["threads"], runs, warmup)
        r["dlc_gflops"] = 2.0 * n ** 3 / (d["median_ms"] / 1e3) / 1e9 if "median_ms" in d else None
        if "error" in d:
            log(f"dlc sgemm n={n}: {d['error']}")


def print_openblas(rows, peak):
    print("\n## sgemm, n x n x n fp32: numpy's OpenBLAS (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset) "
          "and dlc (y = matmul(a, b), both inputs)\n")
    if not rows:
        print("(not measured)")
        return
    print("| n | threads | OpenBLAS ms | OpenBLAS GFLOP/s | % of FMA peak | dlc GFLOP/s | dlc/OpenBLAS "
          "| OpenBLAS core | clock |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p = peak_for(peak, r["threads"])
        pct = f"{100 * r['gflops'] / p:.0f}%" if p else "-"
        d = r.get("dlc_gflops")
        dg, ratio = (f"{d:.1f}", f"{d / r['gflops']:.2f}") if d else ("-", "-")
        print(f"| {r['n']} | {r['threads']} | {r['median_ms']:.2f} | {r['gflops']:.1f} | {pct} | {dg} | {ratio} "
              f"| {r['core']} | {r['clock']} |")


# ---- exports and FLOPs -------------------------------------------------------------------

def prepare_cache(args):
    os.makedirs(args.cache, exist_ok=True)
    with open(TORCH_HELPER, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    path = os.path.join(args.cache, "stamp")
    old = open(path).read().strip() if os.path.exists(path) else ""
    if old != stamp:
        for f in os.listdir(args.cache):
            if f.endswith((".onnx", ".flops")):
                os.remove(os.path.join(args.cache, f))
        with open(path, "w") as f:
            f.write(stamp + "\n")


def export(args, name, batch):
    path = os.path.join(args.cache, f"{name}_b{batch}.onnx")
    if os.path.exists(path):
        return path, None
    log(f"exporting {name} batch {batch} ...")
    tmp = path + ".tmp"
    try:
        r = run([args.torch_python, TORCH_HELPER, "export", name, str(batch), tmp], args.timeout)
    except subprocess.TimeoutExpired:
        return None, f"export timed out after {args.timeout} s"
    except OSError as e:
        return None, f"export: {e}"
    if r.returncode or not os.path.exists(tmp):
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        return None, "export failed: " + (lines[-1] if lines else f"status {r.returncode}")
    os.replace(tmp, path)
    return path, None


def count_flops(path):
    """2 x the multiply-adds of Conv/ConvTranspose/Gemm/MatMul and recurrent gate products."""
    cache = path[:-len(".onnx")] + ".flops"
    if os.path.exists(cache):
        return float(open(cache).read())
    import onnx
    from onnx import shape_inference
    m = shape_inference.infer_shapes(onnx.load(path))
    g = m.graph
    shapes = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    for t in g.initializer:
        shapes[t.name] = list(t.dims)

    def prod(xs):
        p = 1
        for x in xs:
            if x is None:
                raise ValueError("a dimension is not known")
            p *= x
        return p

    def attr(node, name, default):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def run_shapes(names):
        """Shapes that shape inference left unknown (e.g. after torch.chunk's Shape and
        Slice), from one ONNX Runtime run on zeros with those tensors as outputs."""
        import numpy as np
        import onnxruntime as ort
        m2 = onnx.load(path)
        m2.graph.output.extend(onnx.helper.make_tensor_value_info(nm, onnx.TensorProto.FLOAT, None)
                               for nm in names)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        s = ort.InferenceSession(m2.SerializeToString(), so, providers=["CPUExecutionProvider"])
        feed = {i.name: np.zeros(i.shape, np.float32) for i in s.get_inputs()}
        outs = s.run(names, feed)
        shapes.update({nm: list(o.shape) for nm, o in zip(names, outs)})

    unknown = sorted({t for n in g.node if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul")
                      for t in (n.input[0], n.output[0])
                      if t not in shapes or None in shapes[t]})
    if unknown:
        run_shapes(unknown)

    macs = 0
    for n in g.node:
        try:
            if n.op_type == "Conv":
                w = shapes[n.input[1]]  # [Cout, Cin/g, kh, kw..]
                macs += prod(shapes[n.output[0]]) * prod(w[1:])
            elif n.op_type == "ConvTranspose":
                x, w = shapes[n.input[0]], shapes[n.input[1]]  # w: [Cin, Cout/g, kh, kw..]
                macs += prod(x) * prod(w[1:])
            elif n.op_type == "Gemm":
                a = shapes[n.input[0]]
                k = a[0] if attr(n, "transA", 0) else a[1]
                macs += prod(shapes[n.output[0]]) * k
            elif n.op_type == "MatMul":
                a = shapes[n.input[0]]
                macs += prod(shapes[n.output[0]]) * a[-1]
            elif n.op_type in ("LSTM", "GRU", "RNN"):
                x, w, r = shapes[n.input[0]], shapes[n.input[1]], shapes[n.input[2]]
                steps_batch = x[0] * x[1]  # layout 0 or 1: the product is the same
                macs += steps_batch * w[0] * w[1] * (w[2] + r[2])
        except (KeyError, IndexError, ValueError) as e:
            log(f"{os.path.basename(path)}: FLOPs of {n.op_type} node '{n.name}' not counted ({e})")
    flops = 2.0 * macs
    with open(cache, "w") as f:
        f.write(repr(flops))
    return flops


# ---- the engines -------------------------------------------------------------------------

def clock_for(args, threads):
    if args.clock == "auto":
        return "cpu" if threads == 1 else "wall"
    return args.clock


def plan_runs(args, expect_s):
    """Runs and warm-up runs that fit about --budget seconds."""
    runs = max(1, min(args.runs, int(args.budget / max(expect_s, 1e-6))))
    warmup = max(1, min(args.warmup, int(args.budget / 4 / max(expect_s, 1e-6))))
    return runs, warmup


def dlc_time(args, path, threads, runs, warmup):
    cmd = [args.dlc, "bench", path, "--compare", "fused", "--runs", str(runs), "--warmup", str(warmup),
           "--json", "--clock", clock_for(args, threads), "--threads", str(threads)]
    if args.cflags:
        cmd += ["--cflags", args.cflags]
    if args.cpu:
        cmd += ["--cpu", args.cpu]
    if args.micro_batch:
        cmd += ["--micro-batch", args.micro_batch]
    t0 = time.perf_counter()
    try:
        r = run(cmd, args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s (compile and {warmup}+{runs} runs)"}
    total = time.perf_counter() - t0
    if r.returncode:
        return {"error": first_line(r.stderr)}
    try:
        v = json.loads(r.stdout)[0]
    except (ValueError, IndexError, KeyError):
        return {"error": "dlc bench printed no JSON: " + first_line(r.stdout)}
    return {"median_ms": v["median_us"] / 1e3, "min_ms": v["min_us"] / 1e3, "runs": v["runs"],
            "clock": v.get("clock"), "kernels": v.get("kernels"), "arena_bytes": v.get("arena_bytes"),
            "parts": v.get("parts", 1), "seconds": total}


def ort_time(args, path, threads, runs, warmup):
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        return {"error": f"no onnxruntime here ({e}): run under .venv/bin/python"}
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    try:
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feed = {i.name: rng.standard_normal(i.shape).astype(np.float32) for i in s.get_inputs()}
        now = time.thread_time if clock_for(args, threads) == "cpu" else time.perf_counter
        for _ in range(warmup):
            s.run(None, feed)
        t = []
        for _ in range(runs):
            t0 = now()
            s.run(None, feed)
            t.append(now() - t0)
    except Exception as e:  # noqa: BLE001 - a failing model is a row, not a crash
        return {"error": first_line(str(e))}
    return {"median_ms": statistics.median(t) * 1e3, "min_ms": min(t) * 1e3, "runs": runs,
            "clock": clock_for(args, threads), "version": ort.__version__}


# Between two paired runs: each engine's threads wait for work by spinning for a while
# after a run (OpenMP's, ONNX Runtime's pool), which on two cores would take the other
# engine's; after this long both have gone to sleep.
PAIRED_GAP_S = 0.1


def paired_time(args, path, threads, runs, warmup):
    """dlc (through the Python module, libdlc beside --dlc) and ONNX Runtime in this one
    process, their runs alternating (which goes first alternates too), so that both
    meet the same machine: on this 2-vCPU guest two threads run at full speed or at
    half, minute by minute, whatever the engine.  Returns (dlc, ort) results; each
    carries `paired`, the median over the rounds of dlc's time / ORT's."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        err = {"error": f"no onnxruntime here ({e}): run under .venv/bin/python"}
        return err, err
    os.environ.setdefault("DLC_LIBRARY", os.path.join(os.path.dirname(os.path.abspath(args.dlc)), "libdlc.so"))
    if args.cpu:
        os.environ["DLC_CPU"] = args.cpu
    sys.path.insert(0, os.path.join(ROOT, "python"))
    try:
        import dlc
    except Exception as e:  # noqa: BLE001
        err = {"error": f"the dlc Python module: {first_line(str(e))}"}
        return err, err
    micro = args.micro_batch or "auto"
    micro = int(micro) if micro.isdigit() else micro
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    try:
        t0 = time.perf_counter()
        m = dlc.compile(path, threads=threads, cflags=args.cflags or "-O3", micro_batch=micro)
        seconds = time.perf_counter() - t0
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - a failing model is a row, not a crash
        err = {"error": first_line(str(e))}
        return err, err
    rng = np.random.default_rng(0)
    feed = {i.name: rng.standard_normal(i.shape).astype(np.float32) for i in s.get_inputs()}
    clock = clock_for(args, threads)
    now = time.thread_time if clock == "cpu" else time.perf_counter
    for _ in range(warmup):
        m.run(**feed)
        s.run(None, feed)
    td, to = [], []
    for r in range(runs):
        for engine in ((0, 1) if r % 2 == 0 else (1, 0)):
            time.sleep(PAIRED_GAP_S)
            t0 = now()
            if engine == 0:
                m.run(**feed)
            else:
                s.run(None, feed)
            (td if engine == 0 else to).append(now() - t0)
    m.close()
    paired = statistics.median(a / b for a, b in zip(td, to))
    d = {"median_ms": statistics.median(td) * 1e3, "min_ms": min(td) * 1e3, "runs": runs, "clock": clock,
         "parts": None, "paired": paired, "seconds": seconds}
    o = {"median_ms": statistics.median(to) * 1e3, "min_ms": min(to) * 1e3, "runs": runs, "clock": clock,
         "version": ort.__version__, "paired": paired}
    return d, o


def torch_time(args, name, batch, threads, runs, warmup):
    cmd = [args.torch_python, TORCH_HELPER, "time", name, str(batch), str(threads), str(runs), str(warmup),
           clock_for(args, threads)]
    try:
        r = run(cmd, args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s"}
    except OSError as e:
        return {"error": str(e)}
    if r.returncode:
        lines = [l for l in r.stderr.strip().splitlines() if l.strip()]
        return {"error": lines[-1] if lines else f"status {r.returncode}"}
    try:
        v = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "printed no JSON: " + first_line(r.stdout)}
    return {"median_ms": v["median_us"] / 1e3, "runs": v["runs"], "clock": clock_for(args, threads),
            "version": v["version"], "blas": v.get("blas", "unknown")}


def verify(args, path, name):
    """dlc's outputs against ONNX Runtime's on the same seeded input: the largest
    difference relative to the largest |ORT output|, or an error."""
    import numpy as np
    import onnxruntime as ort
    d = os.path.join(args.cache, f"verify-{name}")
    os.makedirs(d, exist_ok=True)
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal(s.get_inputs()[0].shape).astype(np.float32)
    np.save(os.path.join(d, "x.npy"), x)
    want = s.run(None, {s.get_inputs()[0].name: x})[0]
    try:
        r = run([args.dlc, "run", path, "--input", f"x={os.path.join(d, 'x.npy')}", "--output", d,
                 "--cflags", args.cflags or "-O3 -march=native"] + (["--cpu", args.cpu] if args.cpu else []),
                args.timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"dlc run timed out after {args.timeout} s"}
    if r.returncode:
        return {"error": "dlc run: " + first_line(r.stderr)}
    got = np.load(os.path.join(d, "y.npy"))
    if got.shape != want.shape:
        return {"error": f"dlc's y has shape {got.shape}, ORT's {want.shape}"}
    rel = float(np.max(np.abs(got.astype(np.float64) - want)) / max(float(np.max(np.abs(want))), 1e-30))
    return {"max_rel_diff": rel}


# ---- the model table ---------------------------------------------------------------------

def fmt_ms(r):
    if not r or "median_ms" not in r:
        return "fail" if r and "error" in r else "-"
    ms = r["median_ms"]
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def gflops(flops, r):
    if not r or "median_ms" not in r or not flops:
        return "-"
    return f"{flops / (r['median_ms'] / 1e3) / 1e9:.1f}"


HEAD = ["model", "batch", "threads", "GFLOP", "dlc ms", "ORT ms", "PyTorch ms", "dlc/ORT",
        "dlc GFLOP/s", "ORT GFLOP/s", "PyTorch GFLOP/s", "runs dlc/ORT/PT", "note"]


def row_cells(row):
    d, o, p = row.get("dlc"), row.get("ort"), row.get("torch")
    ratio = "-"
    if d and o and "paired" in d:
        ratio = f"**{d['paired']:.2f}**"
    elif d and o and "median_ms" in d and "median_ms" in o:
        ratio = f"**{d['median_ms'] / o['median_ms']:.2f}**"
    notes = []
    if row.get("error"):
        notes.append(row["error"])
    v = row.get("verify")
    if v:
        notes.append(f"verify: {v['error']}" if "error" in v else
                     f"dlc vs ORT: max abs diff {v['max_rel_diff']:.1e} of the largest output")
    if d and (d.get("parts") or 1) > 1:
        notes.append(f"dlc in {d['parts']} parts")
    for k, label in (("dlc", "dlc"), ("ort", "ORT"), ("torch", "PyTorch")):
        if row.get(k) and "error" in row[k]:
            notes.append(f"{label}: {row[k]['error']}")
    runs = "/".join(str(row[k]["runs"]) if row.get(k) and "runs" in row[k] else "-"
                    for k in ("dlc", "ort", "torch"))
    fl = row.get("flops")
    return [row["model"], str(row["batch"]), str(row["threads"]), f"{fl / 1e9:.2f}" if fl else "-",
            fmt_ms(d), fmt_ms(o), fmt_ms(p), ratio, gflops(fl, d), gflops(fl, o), gflops(fl, p), runs,
            "; ".join(notes).replace("|", "/")]


def print_row(cells):
    print("| " + " | ".join(cells) + " |", flush=True)


def model_rows(args, peak, result):
    print(f"\n## models: median ms per run; one thread by the thread's CPU time, more by the wall clock"
          if args.clock == "auto" else f"\n## models: median ms per run ({args.clock} clock)")
    print(f"\nFMA peak beside them: " + ", ".join(
        f"{t} thread{'s' if t > 1 else ''} {peak_for(peak, t):.0f} GFLOP/s" for t in args.threads
        if peak_for(peak, t)) + "\n" if peak else "")
    print_row(HEAD)
    print("|" + "---|" * len(HEAD))
    for name in args.models:
        per_image = {}  # (engine, threads) -> seconds per image of the last batch measured
        for batch in sorted(args.batch):
            path, err = export(args, name, batch)
            flops = None
            if path:
                try:
                    flops = count_flops(path)
                except Exception as e:  # noqa: BLE001
                    log(f"{name}: FLOPs not counted ({first_line(str(e))})")
            for threads in args.threads:
                row = {"model": name, "batch": batch, "threads": threads, "flops": flops}
                if not path:
                    row["error"] = err
                    result["rows"].append(row)
                    print_row(row_cells(row))
                    continue
                if args.verify and batch == min(args.batch) and threads == args.threads[0]:
                    log(f"{name} batch {batch}: dlc run against ONNX Runtime ...")
                    try:
                        row["verify"] = verify(args, path, name)
                    except Exception as e:  # noqa: BLE001
                        row["verify"] = {"error": first_line(str(e))}
                if args.paired:
                    expect = sum(per_image[(e, threads)] * batch if (e, threads) in per_image else
                                 (flops or 1e9) / (GUESS_GFLOPS[e] * 1e9) for e in ("dlc", "ort"))
                    runs, warmup = plan_runs(args, expect)
                    log(f"{name} batch {batch} threads {threads}: dlc and ort paired, {warmup}+{runs} rounds ...")
                    row["dlc"], row["ort"] = paired_time(args, path, threads, runs, warmup)
                    for e in ("dlc", "ort"):
                        if "median_ms" in row[e]:
                            per_image[(e, threads)] = row[e]["median_ms"] / 1e3 / batch
                for engine in [e for e in args.engines if not (args.paired and e in ("dlc", "ort"))]:
                    key = (engine, threads)
                    if key in per_image:
                        expect = per_image[key] * batch
                    else:
                        expect = (flops or 1e9) / (GUESS_GFLOPS[engine] * 1e9)
                    runs, warmup = plan_runs(args, expect)
                    log(f"{name} batch {batch} threads {threads}: {engine}, {warmup}+{runs} runs ...")
                    if engine == "dlc":
                        r = dlc_time(args, path, threads, runs, warmup)
                    elif engine == "ort":
                        r = ort_time(args, path, threads, runs, warmup)
                    else:
                        r = torch_time(args, name, batch, threads, runs, warmup)
                    if "median_ms" in r:
                        per_image[key] = r["median_ms"] / 1e3 / batch
                    row[engine] = r
                result["rows"].append(row)
                print_row(row_cells(row))
                if args.json:
                    write_json(args, result)
    torch_builds = sorted({(r["torch"]["version"], r["torch"].get("blas", "unknown")) for r in result["rows"]
                           if r.get("torch") and "version" in r["torch"]})
    for version, blas in torch_builds:
        ref = " (the netlib reference BLAS: PyTorch's Linear and matmul run unoptimised; " \
              "install-bench-deps.sh --openblas)" if "/blas/libblas" in blas else ""
        print(f"\nPyTorch {version}, BLAS {blas}{ref}")


def write_json(args, result):
    tmp = args.json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.json)


def ints(s):
    return [int(x) for x in s.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated (default all: {','.join(MODELS)})")
    ap.add_argument("--batch", default="1,32", help="batch sizes (default 1,32)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--runs", type=int, default=20, help="timed runs per measurement, at most (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up runs, at most (default 3)")
    ap.add_argument("--budget", type=float, default=20.0,
                    help="seconds of timed runs a measurement aims at (default 20)")
    ap.add_argument("--timeout", type=int, default=900,
                    help="seconds before one dlc bench, export or PyTorch run is stopped (default 900)")
    ap.add_argument("--json", metavar="OUT", help="also write every figure to this JSON file")
    ap.add_argument("--dlc", default=os.path.join(ROOT, "build", "tools", "dlc"), help="the dlc binary")
    ap.add_argument("--cpu", default="", help="dlc's target CPU (dlc --cpu: x86-64-v3 for AVX2; default native)")
    ap.add_argument("--micro-batch", default="",
                    help="dlc's --micro-batch (auto, N or off; default: dlc's own default)")
    ap.add_argument("--cflags", default="", help="dlc's C compiler flags (default: dlc bench's, -O3 -march=native)")
    ap.add_argument("--clock", choices=["auto", "cpu", "wall"], default="auto",
                    help="auto: thread CPU time on one thread, wall clock on more (default)")
    ap.add_argument("--engines", default="dlc,ort,torch", help="which of dlc,ort,torch to time")
    ap.add_argument("--sizes", default="256,512,1024,2048", help="OpenBLAS sgemm sizes")
    ap.add_argument("--verify", action="store_true",
                    help="also compare dlc's output with ONNX Runtime's at the smallest batch (`dlc run`)")
    ap.add_argument("--paired", action="store_true",
                    help="time dlc (through the Python module) and ONNX Runtime in one process, run for run "
                         "alternating; dlc/ORT is then the median of the rounds' ratios")
    ap.add_argument("--no-limits", action="store_true", help="skip the FMA peak and OpenBLAS")
    ap.add_argument("--only-limits", action="store_true", help="only the FMA peak and OpenBLAS")
    ap.add_argument("--cache", default=os.path.join(ROOT, "build", "bench-models"),
                    help="folder of the exported models (default build/bench-models)")
    ap.add_argument("--torch-python", default=TORCH_PY, help="Python with torch and torchvision (default /usr/bin/python3)")
    args = ap.parse_args()
    args.batch, args.threads, args.sizes = ints(args.batch), ints(args.threads), ints(args.sizes)
    args.models = [m for m in args.models.split(",") if m]
    args.engines = [e for e in args.engines.split(",") if e]
    for m in args.models:
        if m not in MODELS:
            sys.exit(f"real_models.py: unknown model '{m}' (have: {', '.join(MODELS)})")
    for e in args.engines:
        if e not in GUESS_GFLOPS:
            sys.exit(f"real_models.py: unknown engine '{e}' (have: dlc, ort, torch)")
    if not args.batch or not args.threads or min(args.batch + args.threads) < 1:
        sys.exit("real_models.py: --batch and --threads need positive integers")
    if "dlc" in args.engines and not os.access(args.dlc, os.X_OK):
        sys.exit(f"real_models.py: no dlc at {args.dlc} (build it, or pass --dlc)")
    if args.paired and not {"dlc", "ort"} <= set(args.engines):
        sys.exit("real_models.py: --paired times dlc and ort together: give both in --engines")
    if args.clock == "cpu" and max(args.threads) > 1:
        sys.exit("real_models.py: --clock cpu counts one thread; time more threads by the wall clock")
    args.cache = os.path.abspath(args.cache)
    if args.json:
        args.json = os.path.abspath(args.json)
    prepare_cache(args)

    info = machine_info(args)
    result = {"machine": info, "peak": [], "openblas": [], "rows": []}
    print(f"# dlc real-model benchmark, {info['date']}\n")
    print(f"- CPU: {info['cpu']} ({info['cpus']} CPUs; ISA: {', '.join(info['isa']) or 'none of the listed'})")
    print(f"- dlc commit {info['commit']}, cflags {info['dlc_cflags']}; ONNX Runtime {info['onnxruntime']}")
    print(f"- load average at start: {' '.join(f'{x:.2f}' for x in info['load_start'])}")
    if not args.no_limits:
        result["peak"] = fma_peak(args)
        print_peak(result["peak"])
        result["openblas"] = openblas(args)
        if "dlc" in args.engines:
            dlc_sgemm(args, result["openblas"])
        print_openblas(result["openblas"], result["peak"])
    if not args.only_limits:
        model_rows(args, result["peak"], result)
    info["load_end"] = os.getloadavg()
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in info['load_end'])}")
    if args.json:
        write_json(args, result)


if __name__ == "__main__":
    main()
