#!/usr/bin/env python3
"""Times the training step at batch 64: dlc's generated step against PyTorch eager.

A benchmark, not a test: it measures and prints, and asserts nothing.  For each model
the same network is trained by one step (forward, cross-entropy loss, backward, Adam
with lr 1e-3) on one thread (or --threads N): dlc's step from `dlc compile --train` built with
-O3 -march=native (tools/bench/train_step_main.c), and PyTorch eager
(torch.set_num_threads(1); Debian's 1.13 unless --torch-python says otherwise).
Times are medians of --runs steps after warm-up, by the wall clock and by the CPU
time of the thread that runs the step (on a machine busy with other work, the CPU
time still compares like with like).

    python3 tools/bench/train_bench.py                # mlp, lenet, logreg, mlp_ref
    python3 tools/bench/train_bench.py --models mlp --runs 200
    python3 tools/bench/train_bench.py --target cuda  # on the GPU (PyTorch too, if it has CUDA)
    python3 tools/bench/train_bench.py --threads 2    # dlc built with -fopenmp, 2 threads each

With --threads N > 1 dlc's step is built with -fopenmp and runs NAME_set_threads(N), and
PyTorch runs torch.set_num_threads(N); the ratio is then of the wall times (the CPU
columns are the whole process's, every thread together).

--torch-python PY1,PY2 compares with the PyTorch of each of these Pythons, one column
each (default /usr/bin/python3, Debian's 1.13), e.g. a venv holding a newer PyTorch:

    python3 tools/bench/train_bench.py --torch-python /usr/bin/python3,/opt/torch-venv/bin/python

PyPI's own torch for Linux x86-64 (2.15.0 at the time of writing: a 539 MB wheel) is a
CUDA 13 build whose dependencies (cuda-toolkit, nvidia-cudnn-cu13, -nccl-, -cusparselt-,
-nvshmem-, triton) add some GB more; the CPU-only builds (torch==2.x+cpu, about a
third of the size) live on PyTorch's own index, download.pytorch.org/whl/cpu, not on PyPI.

With --target cuda the step is `dlc compile --train --target cuda`, linked with
build/runtime/libdlcrt.a; each timed step ends when its loss is back on the host, so
the times are whole steps.  PyTorch runs on the GPU when its build has CUDA
(torch.cuda.synchronize() after each step), else its column is left empty.  The thread
CPU time means little on a GPU: compare the wall times.

The models: models/mlp.dlc (784-512 tanh-10), models/lenet.dlc, models/logreg.dlc, and
mlp_ref, the 784-512-512-10 ReLU MLP of the team's PERF-REFERENCE.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TORCH_PY = "/usr/bin/python3"

MLP_REF = """model mlp_ref
input x: f32[batch, 784]
h = relu(dense(x, 512))
h = relu(dense(h, 512))
logits = dense(h, 10)
probs = softmax(logits)
output probs
"""

TORCH_CODE = r'''
import json, statistics, sys, time, torch
name, batch, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cuda = sys.argv[5] == "cuda"
threads = int(sys.argv[6])
torch.set_num_threads(threads)
torch.manual_seed(0)
cpu_clock = time.thread_time_ns if threads == 1 else time.process_time_ns
if cuda and not torch.cuda.is_available():
    print(json.dumps({"error": "this PyTorch has no CUDA device"}))
    sys.exit(0)
dev = "cuda" if cuda else "cpu"
sync = torch.cuda.synchronize if cuda else (lambda: None)
nn = torch.nn
if name == "mlp":
    net, shape = nn.Sequential(nn.Linear(784, 512), nn.Tanh(), nn.Linear(512, 10)), (batch, 784)
elif name == "mlp_ref":
    net, shape = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                               nn.Linear(512, 10)), (batch, 784)
elif name == "logreg":
    net, shape = nn.Sequential(nn.Linear(784, 10)), (batch, 784)
else:
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                        nn.Linear(84, 10))
    shape = (batch, 1, 28, 28)
net = net.to(dev)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x, y = torch.rand(shape, device=dev), torch.randint(0, 10, (batch,), device=dev)
loss_fn = nn.CrossEntropyLoss()
wall, cpu = [], []
for i in range(warmup + runs):
    w0, c0 = time.perf_counter_ns(), cpu_clock()
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()
    sync()
    if i >= warmup:
        wall.append((time.perf_counter_ns() - w0) / 1e3)
        cpu.append((cpu_clock() - c0) / 1e3)
print(json.dumps({"wall_us": statistics.median(wall), "wall_min_us": min(wall),
                  "cpu_us": statistics.median(cpu), "cpu_min_us": min(cpu), "loss": float(loss),
                  "version": torch.__version__}))
'''


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def dlc_model_path(name, tmp):
    if name == "mlp_ref":
        p = os.path.join(tmp, "mlp_ref.dlc")
        with open(p, "w") as f:
            f.write(MLP_REF)
        return p
    return os.path.join(ROOT, "models", name + ".dlc")


def dlc_step(args, name, tmp):
    """Compiles the model's training step and times it with train_step_main.c."""
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "bench.c")
    target = ["--target", "cuda"] if args.target == "cuda" else []
    r = subprocess.run([args.dlc, "compile", dlc_model_path(name, tmp), "--train", "--batch", str(args.batch),
                        "--name", "bench", "-o", src] + target, capture_output=True, text=True)
    if r.returncode:
        log(f"dlc compile {name}: {r.stderr.strip()}")
        return None
    sizes, floats = inputs_of(os.path.join(d, "bench.h"))
    exe = os.path.join(d, "bench")
    cc = [os.environ.get("CC", "cc"), "-O3", "-march=native", "-std=c99", "-I", d, src,
          os.path.join(HERE, "train_step_main.c"), "-o", exe, "-lm", f"-DNIN={len(sizes)}",
          "-DIN_BYTES={" + ",".join(map(str, sizes)) + "}", "-DIN_FLOAT={" + ",".join(floats) + "}",
          f"-DRUNS={args.runs}", f"-DWARMUP={args.warmup}"]
    if args.threads > 1:
        cc += ["-fopenmp", f"-DTHREADS={args.threads}"]
    if args.target == "cuda":
        cc += ["-DBENCH_CUDA", os.path.join(os.path.dirname(os.path.dirname(args.dlc)), "runtime", "libdlcrt.a"),
               "-ldl", "-lpthread"]
    r = subprocess.run(cc, capture_output=True, text=True)
    if r.returncode:
        log(f"cc {name}: {r.stderr.strip()[:400]}")
        return None
    r = subprocess.run([exe], capture_output=True, text=True)
    if r.returncode:
        log(f"{name}: the step failed: {r.stderr.strip()[:400]}")
        return None
    return json.loads(r.stdout)


def inputs_of(header):
    """Bytes and float-ness of each input, in order, from the header's comments."""
    sizes, floats = [], []
    dsize = {"f32": 4, "f64": 8, "i64": 8, "i32": 4, "u8": 1, "bool": 1}
    lines = open(header).read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("/* input '"):
            dtype = line.split("': ")[1].split(" ")[0]
            count = int(lines[i + 1].split()[-1])
            sizes.append(count * dsize[dtype])
            floats.append("1" if dtype.startswith("f") else "0")
    return sizes, floats


def torch_step(args, name, py):
    r = subprocess.run([py, "-c", TORCH_CODE, name, str(args.batch), str(args.runs), str(args.warmup),
                        args.target, str(args.threads)], capture_output=True, text=True)
    if r.returncode:
        log(f"torch {name}: {r.stderr.strip()[-400:]}")
        return None
    out = json.loads(r.stdout)
    if "error" in out:
        log(f"torch {name}: {out['error']}")
        return None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dlc", default=os.path.join(ROOT, "build", "tools", "dlc"))
    ap.add_argument("--models", default="mlp,lenet,logreg,mlp_ref")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--target", choices=["c", "cuda"], default="c")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of both (dlc: -fopenmp and NAME_set_threads; PyTorch: set_num_threads)")
    ap.add_argument("--torch-python", default=TORCH_PY,
                    help="comma-separated Pythons whose PyTorch to compare with, one column each "
                         "(default /usr/bin/python3, Debian's 1.13)")
    args = ap.parse_args()
    gpu = args.target == "cuda"
    pys = [p for p in args.torch_python.split(",") if p]
    wall = gpu or args.threads > 1
    where = "on the GPU" if gpu else "one thread" if args.threads == 1 else f"{args.threads} threads"
    print(f"training step at batch {args.batch}, {where}, median of {args.runs} (µs)")
    ratio = "wall ratio" if wall else "cpu ratio"
    key = "wall_us" if wall else "cpu_us"
    head = f"{'model':8} {'dlc wall':>9} {'dlc cpu':>9}"
    for i, _ in enumerate(pys):
        tag = f" {i + 1}" if len(pys) > 1 else ""
        head += f" {'torch wall' + tag:>11} {'torch cpu' + tag:>10} {ratio + tag:>10}"
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            d = dlc_step(args, name, tmp)
            if not d:
                continue
            line, versions = f"{name:8} {d['wall_us']:9.0f} {d['cpu_us']:9.0f}", []
            for py in pys:
                t = torch_step(args, name, py)
                if not t:
                    line += f" {'-':>11} {'-':>10} {'-':>10}"
                    continue
                versions.append(f"{py}: torch {t.get('version', '?')}")
                line += f" {t['wall_us']:11.0f} {t['cpu_us']:10.0f} {t[key] / d[key]:9.2f}x"
            print(line, flush=True)
            if len(pys) > 1:
                log("; ".join(versions))


if __name__ == "__main__":
    main()
