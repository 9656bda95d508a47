#!/usr/bin/python3
"""The PyTorch side of tools/bench/real_models.py: the networks, their ONNX export and
their PyTorch timing.  Runs under Debian's /usr/bin/python3 (python3-torch 1.13,
python3-torchvision 0.14: tools/bench/install-bench-deps.sh installs them):

    /usr/bin/python3 tools/bench/real_models_torch.py export NAME BATCH OUT.onnx
    /usr/bin/python3 tools/bench/real_models_torch.py time NAME BATCH THREADS RUNS WARMUP wall|cpu

`export` writes the network with seeded random weights (torch.manual_seed(SEED), then
PyTorch's own initialisation; batchnorm statistics from two random batches, see
calibrate) at a fixed batch: every dimension of the ONNX file is a
number, input `x`, output `y`, opset 17.  `time` builds the same network with the same
seed and prints one JSON line {"median_us", "runs", "version", "blas"}: the median of RUNS
forward passes after WARMUP, under torch.inference_mode() and torch.set_num_threads(THREADS),
by the wall clock or the calling thread's CPU time; "blas" is the BLAS library the
process loaded (Debian's PyTorch calls libblas.so.3 for Linear and matmul: the netlib
reference BLAS unless an optimised one is installed or put first on LD_LIBRARY_PATH).

The networks (all float32):
    resnet18, resnet50, mobilenet_v2, squeezenet1_1, shufflenet_v2_x1_0
                 torchvision's, weights=None, x[N, 3, 224, 224] -> y[N, 1000]
    bert_layer   one post-norm BERT-base encoder layer: d=768, 12 heads, feed-forward
                 3072 with gelu (erf), LayerNorm after each residual, attention written
                 with Linear, matmul and softmax; x[N, 128, 768] -> y[N, 128, 768]
    gpt2_block   one pre-norm GPT-2-small decoder block: d=768, 12 heads, causal mask,
                 feed-forward 3072 with gelu (tanh); x[N, 128, 768] -> y[N, 128, 768]
    lstm         nn.LSTM(512, 512, num_layers=2, batch_first=True) over 64 steps:
                 x[N, 64, 512] -> y[N, 64, 512] (the last layer's whole sequence)
"""
import json
import math
import statistics
import sys
import time

import torch
from torch import nn

SEED = 20240601
OPSET = 17


class Attention(nn.Module):
    def __init__(self, d, heads, causal, seq):
        super().__init__()
        self.d, self.heads = d, heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.causal = causal
        if causal:
            self.register_buffer("allowed", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

    def split(self, t):  # [N, S, d] -> [N, H, S, d/H]
        n, s, _ = t.shape
        return t.reshape(n, s, self.heads, self.d // self.heads).transpose(1, 2)

    def forward(self, x):
        n, s, _ = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = q @ k.transpose(-2, -1) / math.sqrt(self.d // self.heads)
        if self.causal:
            att = att.masked_fill(~self.allowed, float("-inf"))
        att = torch.softmax(att, dim=-1)
        return self.o((att @ v).transpose(1, 2).reshape(n, s, self.d))


class BertLayer(nn.Module):
    def __init__(self, d=768, heads=12, ff=3072, seq=128):
        super().__init__()
        self.att = Attention(d, heads, False, seq)
        self.ln1 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))
        self.ln2 = nn.LayerNorm(d)

    def forward(self, x):
        h = self.ln1(x + self.att(x))
        return self.ln2(h + self.ff(h))


class GPT2Block(nn.Module):
    def __init__(self, d=768, heads=12, ff=3072, seq=128):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.att = Attention(d, heads, True, seq)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(approximate="tanh"), nn.Linear(ff, d))

    def forward(self, x):
        h = x + self.att(self.ln1(x))
        return h + self.ff(self.ln2(h))


class LSTM(nn.Module):
    def __init__(self, width=512, layers=2):
        super().__init__()
        self.lstm = nn.LSTM(width, width, num_layers=layers, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0]


def vision(name):
    import torchvision
    return lambda: getattr(torchvision.models, name)(weights=None)


# name: (constructor, input shape without the batch)
MODELS = {
    "resnet18": (vision("resnet18"), (3, 224, 224)),
    "resnet50": (vision("resnet50"), (3, 224, 224)),
    "mobilenet_v2": (vision("mobilenet_v2"), (3, 224, 224)),
    "squeezenet1_1": (vision("squeezenet1_1"), (3, 224, 224)),
    "shufflenet_v2_x1_0": (vision("shufflenet_v2_x1_0"), (3, 224, 224)),
    "bert_layer": (BertLayer, (128, 768)),
    "gpt2_block": (GPT2Block, (128, 768)),
    "lstm": (LSTM, (64, 512)),
}


def build(name, batch):
    cls, shape = MODELS[name]
    torch.manual_seed(SEED)
    model = cls()
    calibrate(model, shape)
    model.eval()
    x = torch.randn(batch, *shape)
    return model, x


def calibrate(model, shape):
    """Batchnorm statistics from two random batches, as training would leave them: with
    PyTorch's initial running statistics (mean 0, variance 1) the activations of an
    untrained MobileNetV2 shrink to about 1e-9 at the output, where the outputs are
    rounding noise and the arithmetic may meet subnormal numbers."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, *shape))


def export(name, batch, path):
    model, x = build(name, batch)
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                          opset_version=OPSET, do_constant_folding=True)


def time_model(name, batch, threads, runs, warmup, clock):
    torch.set_num_threads(threads)
    model, x = build(name, batch)
    now = time.thread_time if clock == "cpu" else time.perf_counter
    t = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        for _ in range(runs):
            t0 = now()
            model(x)
            t.append((now() - t0) * 1e6)
    print(json.dumps({"median_us": statistics.median(t), "runs": runs, "version": torch.__version__,
                      "blas": blas_in_use()}))


def blas_in_use():
    """The BLAS library this process loaded (PyTorch's Linear and matmul go through it)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(paths)) or "none loaded"


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "export" and a[1] in MODELS:
        export(a[1], int(a[2]), a[3])
    elif len(a) == 7 and a[0] == "time" and a[1] in MODELS and a[6] in ("wall", "cpu"):
        time_model(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), a[6])
    else:
        sys.exit(__doc__.split("\n\n")[1] + f"\nmodels: {', '.join(MODELS)}")


if __name__ == "__main__":
    main()
