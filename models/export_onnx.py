#!/usr/bin/python3
"""Exports the networks of models/ from PyTorch to ONNX.

Runs under Debian's /usr/bin/python3, which has PyTorch (python3-torch) and onnx:

    /usr/bin/python3 models/export_onnx.py            # writes models/<name>.onnx
    /usr/bin/python3 models/export_onnx.py --out DIR mlp lenet

Each network is the one of models/<name>.dlc, layer for layer and with the same sizes;
the weights are PyTorch's own initialisation under a fixed seed (so they differ from the
.dlc file's).  Every model has one input `x` whose first dimension is the symbolic
`batch`, and one output `y`.  Exported at opset 13, except the transformer encoder block,
which needs LayerNormalization (opset 17).

    logreg   x[batch, 784]        -> Linear(784, 10) -> softmax           -> y[batch, 10]
    mlp      x[batch, 784]        -> Linear(784, 512) -> tanh -> Linear(512, 10) -> softmax
    lenet    x[batch, 1, 28, 28]  -> conv5(6, pad 2) relu pool2 -> conv5(16) relu pool2
                                  -> flatten -> 120 relu -> 84 relu -> 10 -> softmax
    encoder  x[batch, 16, 64]     -> one post-norm transformer encoder block: 4 heads,
                                     feed-forward 128 with relu, LayerNorm after each
                                     residual; attention written with Linear, matmul
                                     and softmax (no fused MultiheadAttention)
"""
import argparse
import math
import os
import sys

import torch
from torch import nn

SEED = 20240601


class LogReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(784, 10)

    def forward(self, x):
        return torch.softmax(self.dense(x), dim=-1)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense1 = nn.Linear(784, 512)
        self.dense2 = nn.Linear(512, 10)

    def forward(self, x):
        return torch.softmax(self.dense2(torch.tanh(self.dense1(x))), dim=-1)


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.c2 = nn.Conv2d(6, 16, kernel_size=5)
        self.d1 = nn.Linear(400, 120)
        self.d2 = nn.Linear(120, 84)
        self.d3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)   # [N, 6, 14, 14]
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)   # [N, 16, 5, 5]
        x = torch.flatten(x, 1)                           # [N, 400]
        x = torch.relu(self.d1(x))
        x = torch.relu(self.d2(x))
        return torch.softmax(self.d3(x), dim=-1)


class Encoder(nn.Module):
    """One post-norm transformer encoder block, d=64, 4 heads, feed-forward 128."""

    def __init__(self, d=64, heads=4, ff=128):
        super().__init__()
        self.d, self.heads = d, heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.ln2 = nn.LayerNorm(d)

    def split(self, t):  # [N, S, d] -> [N, H, S, d/H]
        n, s, _ = t.shape
        return t.reshape(n, s, self.heads, self.d // self.heads).transpose(1, 2)

    def forward(self, x):  # x: [N, S, d]
        n, s, _ = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.d // self.heads), dim=-1)
        a = (att @ v).transpose(1, 2).reshape(n, s, self.d)
        h = self.ln1(x + self.o(a))
        return self.ln2(h + self.ff2(torch.relu(self.ff1(h))))


# name: (module, example input shape, opset)
MODELS = {
    "logreg": (LogReg, (2, 784), 13),
    "mlp": (MLP, (2, 784), 13),
    "lenet": (LeNet, (2, 1, 28, 28), 13),
    "encoder": (Encoder, (2, 16, 64), 17),
}


def export(name, out_dir):
    cls, shape, opset = MODELS[name]
    torch.manual_seed(SEED)
    model = cls().eval()
    x = torch.randn(*shape)
    path = os.path.join(out_dir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=opset, do_constant_folding=True)
    print(f"{path}: opset {opset}, {os.path.getsize(path)} bytes")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=here, help="folder for the .onnx files (default: models/)")
    ap.add_argument("names", nargs="*", default=list(MODELS), help="models to export (default: all)")
    args = ap.parse_args()
    for name in args.names:
        if name not in MODELS:
            sys.exit(f"export_onnx.py: unknown model '{name}' (have: {', '.join(MODELS)})")
        export(name, args.out)


if __name__ == "__main__":
    main()
