#!/usr/bin/python3
"""dynamic_export.py OUT_DIR: models exported from PyTorch with dynamic axes, for
dynamic_test.py (runs under Debian's /usr/bin/python3, which has python3-torch).

    encoder_seq  x[batch, seq, 64]      the transformer encoder block of models/
    lstm_seq     x[batch, seq, 28]      the LSTM row classifier of models/ (its last state)
    cnn_hw       x[batch, 3, h, w]      conv3 relu, conv3 stride 2 relu, global average
                                        pool, Linear(16, 10)
    masked_rows  x[6, 8]                x[x.sum(1) > 0] through a Linear, a LayerNorm and a
                                        softmax, its sum over the rows, its maximum and
                                        mean: a length that depends on the data (for
                                        dyn_test.py; static axes)

Each with its own fixed seed; the axes are named batch, seq, h and w.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
import export_onnx as models  # noqa: E402


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                                  nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(torch.flatten(self.body(x), 1))


class MaskedRows(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 4)
        self.norm = nn.LayerNorm(4)

    def forward(self, x):
        rows = x[x.sum(1) > 0]
        h = torch.softmax(self.norm(self.lin(rows)), -1)
        return h, h.sum(0), rows.max(), rows.mean(0)


def export(name, model, example, axes, opset, out, outputs=("y",)):
    torch.manual_seed(7)
    path = os.path.join(out, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model.eval(), (example,), path, input_names=["x"], output_names=list(outputs),
                          dynamic_axes={"x": axes, "y": {0: "batch"}} if axes else None, opset_version=opset,
                          do_constant_folding=True)
    print(path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    export("encoder_seq", models.Encoder(), torch.randn(2, 12, 64), {0: "batch", 1: "seq"}, 17, out)
    torch.manual_seed(7)
    export("lstm_seq", models.RowClassifier(nn.LSTM), torch.randn(2, 12, 28), {0: "batch", 1: "seq"}, 13, out)
    torch.manual_seed(7)
    export("cnn_hw", CNN(), torch.randn(2, 3, 12, 16), {0: "batch", 2: "h", 3: "w"}, 13, out)
    torch.manual_seed(7)
    export("masked_rows", MaskedRows(), torch.randn(6, 8), None, 17, out, outputs=("h", "s", "m", "mu"))


if __name__ == "__main__":
    main()
