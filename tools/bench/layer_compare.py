#!/usr/bin/env python3
"""Where a model's time goes under dlc and under ONNX Runtime, by kind of layer.

A benchmark, not a test: it measures and prints, and asserts nothing.

    .venv/bin/python tools/bench/layer_compare.py build/bench-models/resnet50_b1.onnx
    .venv/bin/python tools/bench/layer_compare.py model.onnx --threads 2 --runs 30 --json out.json

dlc's side is `dlc bench MODEL --compare fused --profile --json --micro-batch off` (the
time of each kernel of the default pipeline with the batch run whole, as a profile needs, read around each kernel call by the wall clock, as ONNX
Runtime's profiler reads it: run it on a quiet machine).  ONNX Runtime's is its own profiler
(SessionOptions.enable_profiling, all graph optimisations, intra_op_num_threads = T): the
time of each node it ran, its fused nodes included.  Both are grouped by the layer at
their head: the first convolution (the stem), depthwise, 1x1 and other convolutions by
kernel and stride, products (Gemm, MatMul), pooling windows, global pooling and
reductions, and the rest (copies, layout changes, elementwise kernels).  For each group:
microseconds per run under each, dlc/ORT and the layers counted; then the layers of the
groups that both have in equal numbers, paired in execution order, with the largest
differences first.

Each engine reads its clock around each kernel or node, which adds a little to both;
the sums are therefore a little above a plain run's median.  Which Python: the
repository's .venv (onnxruntime, numpy; tools/pyenv.sh)."""
import argparse
import collections
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def conv_group(k, s, groups, cin, first):
    if first:
        return "stem conv %dx%d/%d" % (k, k, s)
    if groups > 1 and groups == cin:
        return "depthwise conv %dx%d/%d" % (k, k, s)
    return "conv %dx%d/%d%s" % (k, k, s, " grouped" if groups > 1 else "")


def dlc_layers(a):
    cmd = [a.dlc, "bench", a.model, "--compare", "fused", "--profile", "--json", "--runs", str(a.runs),
           "--warmup", str(a.warmup), "--threads", str(a.threads), "--clock", "wall", "--micro-batch", "off"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("dlc bench failed: " + r.stderr.strip())
    row = json.loads(r.stdout)[0]
    out, first = [], True
    for p in row["profile"]:
        head, ops = p["head"], p["ops"].split("+")
        if ops[0] == "conv" and head:
            win, chans = head.split(" ")[0], head.split(" ")[1]
            k, s = int(win.split("x")[0]), int(win.split("/")[1])
            cin = int(chans.split("<-")[1])
            groups = int(head.split("groups ")[1]) if "groups" in head else 1
            g = conv_group(k, s, groups, cin, first)
            first = False
        elif ops[0] == "matmul":
            g = "product (gemm, matmul)"
        elif ops[0].startswith("pool"):
            g = "pooling window"
        elif p["kernel"].endswith("_reduce") or ops[-1].startswith("reduce"):
            g = "global pool, reduction"
        else:
            g = "other"
        out.append((g, p["kernel"] + " " + p["ops"] + " -> " + p["result"], p["us"]))
    return out, row["median_us"]


def ort_layers(a):
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(a.tmp, "ort_profile")
    s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in s.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    n = a.warmup + a.runs
    for _ in range(n):
        s.run(None, feeds)
    path = s.end_profiling()
    events = json.load(open(path))
    os.unlink(path)
    acc = collections.OrderedDict()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        name = e["name"][: -len("_kernel_time")]
        if name not in acc:
            acc[name] = [e["args"], 0.0]
        acc[name][1] += e["dur"]
    out, first = [], True
    for name, (args, us) in acc.items():
        op = args.get("op_name", "")
        ins = [list(t.values())[0] for t in args.get("input_type_shape", [])]
        outs = [list(t.values())[0] for t in args.get("output_type_shape", [])]
        if op in ("Conv", "FusedConv") and len(ins) >= 2 and len(ins[1]) == 4:
            w, x = ins[1], ins[0]
            k = w[2]
            s_ = max(1, round(x[2] / outs[0][2])) if outs and len(outs[0]) >= 3 and outs[0][2] else 1
            groups = max(1, x[1] // w[1]) if w[1] else 1
            g = conv_group(k, s_, groups, x[1], first)
            first = False
        elif op in ("Gemm", "MatMul", "FusedMatMul", "FusedGemm"):
            g = "product (gemm, matmul)"
        elif op in ("MaxPool", "AveragePool"):
            g = "pooling window"
        elif op in ("GlobalAveragePool", "GlobalMaxPool") or op.startswith("Reduce"):
            g = "global pool, reduction"
        else:
            g = "other"
        out.append((g, op + " " + name, us / n))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up runs (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="threads of both engines (default 1)")
    ap.add_argument("--dlc", default=os.path.join(ROOT, "build", "tools", "dlc"))
    ap.add_argument("--top", type=int, default=10, help="paired layers listed (default 10)")
    ap.add_argument("--json", metavar="OUT", help="also write both lists and the groups as JSON")
    a = ap.parse_args()
    a.tmp = os.environ.get("TMPDIR", "/tmp")
    d, d_median = dlc_layers(a)
    o = ort_layers(a)
    groups = collections.OrderedDict()
    for g, _, us in d + o:
        groups.setdefault(g, [0.0, 0.0, 0, 0])
    for g, _, us in d:
        groups[g][0] += us
        groups[g][2] += 1
    for g, _, us in o:
        groups[g][1] += us
        groups[g][3] += 1
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    cpu = next((l.split(":", 1)[1].strip() for l in lscpu.split("\n") if l.startswith("Model name")), "?")
    print("%s: %d thread(s), %d runs after %d warm-up, wall clock; CPU %s; ONNX Runtime %s; load average %s" %
          (a.model, a.threads, a.runs, a.warmup, cpu, ort.__version__, " ".join("%.2f" % x for x in os.getloadavg())))
    print("dlc: a plain run's median %.1f us; the sums below read a clock around each kernel or node\n" % d_median)
    print("| layers | dlc us | ORT us | dlc/ORT | dlc - ORT us | count dlc/ORT |")
    print("|---|---|---|---|---|---|")
    td = to = 0.0
    for g, (du, ou, dn, on) in sorted(groups.items(), key=lambda x: -(x[1][0] + x[1][1])):
        td, to = td + du, to + ou
        ratio = "%.2f" % (du / ou) if ou else "-"
        print("| %s | %.1f | %.1f | %s | %+.1f | %d/%d |" % (g, du, ou, ratio, du - ou, dn, on))
    print("| all | %.1f | %.1f | %.2f | %+.1f | %d/%d |" % (td, to, td / to if to else 0, td - to, len(d), len(o)))
    pairs = []
    for g in groups:
        dl = [x for x in d if x[0] == g]
        ol = [x for x in o if x[0] == g]
        if g != "other" and len(dl) == len(ol):
            pairs += [(x[2] - y[2], g, x, y) for x, y in zip(dl, ol)]
    pairs.sort(key=lambda p: -abs(p[0]))
    if pairs:
        print("\nlargest differences, layers paired in execution order within a group:\n")
        print("| dlc - ORT us | dlc us | ORT us | group | dlc kernel | ORT node |")
        print("|---|---|---|---|---|---|")
        for diff, g, x, y in pairs[: a.top]:
            print("| %+.1f | %.1f | %.1f | %s | %s | %s |" % (diff, x[2], y[2], g, x[1], y[1]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"dlc": d, "ort": o, "groups": groups, "dlc_median_us": d_median}, f, indent=1)


if __name__ == "__main__":
    main()
