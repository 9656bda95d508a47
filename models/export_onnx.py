#!/usr/bin/python3
"""Exports the networks of models/ from PyTorch to ONNX.

Runs under Debian's /usr/bin/python3, which has PyTorch (python3-torch) and onnx:

    /usr/bin/python3 models/export_onnx.py            # writes models/<name>.onnx
    /usr/bin/python3 models/export_onnx.py --out DIR mlp lenet

Each network is the one of models/<name>.dlc, layer for layer and with the same sizes;
the weights are PyTorch's own initialisation under a fixed seed (so they differ from the
.dlc file's).  Every model has one input `x` whose first dimension is the symbolic
`batch`, and one output `y` (the DCGAN has two of each, see IO).  Exported at opset 13,
except the transformer blocks, which need LayerNormalization (opset 17).

    logreg   x[batch, 784]        -> Linear(784, 10) -> softmax           -> y[batch, 10]
    mlp      x[batch, 784]        -> Linear(784, 512) -> tanh -> Linear(512, 10) -> softmax
    lenet    x[batch, 1, 28, 28]  -> conv5(6, pad 2) relu pool2 -> conv5(16) relu pool2
                                  -> flatten -> 120 relu -> 84 relu -> 10 -> softmax
    encoder  x[batch, 16, 64]     -> one post-norm transformer encoder block: 4 heads,
                                     feed-forward 128 with relu, LayerNorm after each
                                     residual; attention written with Linear, matmul
                                     and softmax (no fused MultiheadAttention)
    autoencoder x[batch, 1, 28, 28] -> conv3(16, stride 2, same) relu -> conv3(8, stride 2,
                                     same) relu -> convT3(16, stride 2, pad 1, out pad 1)
                                     relu -> convT3(1, same) -> sigmoid; `same` padding
                                     is Keras' (the odd row and column at the end)
    rnn, lstm, gru x[batch, 28, 28] -> nn.RNN / LSTM / GRU(28, 128) over the 28 rows, the
                                     last state -> Linear(128, 10) -> softmax
    gpt      x[batch, 16] int64   -> token + position embeddings, two pre-norm blocks of
             (ids in [0, 64))        causal attention (4 heads) and gelu feed-forward 256,
                                     LayerNorm, Linear(64, 64) -> softmax: y[batch, 16, 64]
    dcgan    z[batch, 64],        -> generator Linear(64, 64*7*7) relu, convT4(32, stride 2)
             x[batch, 1, 28, 28]     relu, convT4(1, stride 2) tanh; discriminator on
                                     cat(2x - 1, generated): conv4(32, s2) leaky, conv4(64,
                                     s2) leaky, Linear(3136, 1): image[batch, 1, 28, 28]
                                     (generated, in [0, 1]) and logits[2, batch]
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


class Autoencoder(nn.Module):
    """The convolutional autoencoder of autoencoder.dlc."""

    def __init__(self):
        super().__init__()
        same = nn.ZeroPad2d((0, 1, 0, 1))  # k3 stride 2 on an even size: pad right, bottom
        self.enc = nn.Sequential(same, nn.Conv2d(1, 16, 3, stride=2), nn.ReLU(),
                                 same, nn.Conv2d(16, 8, 3, stride=2), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(8, 16, 3, stride=2, padding=1, output_padding=1),
                                 nn.ReLU(),
                                 nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1))

    def forward(self, x):  # [N, 1, 28, 28]
        return torch.sigmoid(self.dec(self.enc(x)))


class RowClassifier(nn.Module):
    """rnn.dlc, lstm.dlc, gru.dlc: a recurrent layer over the image's rows, then dense."""

    def __init__(self, cell, units=128):
        super().__init__()
        self.cell = cell(28, units, batch_first=True)
        self.dense = nn.Linear(units, 10)

    def forward(self, x):  # [N, 28 rows, 28 pixels]
        _, h = self.cell(x)
        h = h[0] if isinstance(h, tuple) else h  # LSTM: (h, c)
        return torch.softmax(self.dense(h[-1]), dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, d, heads, seq):
        super().__init__()
        self.d, self.heads = d, heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.register_buffer("allowed", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

    def split(self, t):  # [N, S, d] -> [N, H, S, d/H]
        n, s, _ = t.shape
        return t.reshape(n, s, self.heads, self.d // self.heads).transpose(1, 2)

    def forward(self, x):
        n, s, _ = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        att = q @ k.transpose(-2, -1) / math.sqrt(self.d // self.heads)
        att = torch.softmax(att.masked_fill(~self.allowed, float("-inf")), dim=-1)
        return self.o((att @ v).transpose(1, 2).reshape(n, s, self.d))


class GPT(nn.Module):
    """gpt.dlc: a tiny decoder, pre-norm blocks, vocabulary 64, width 64, sequence 16."""

    def __init__(self, vocab=64, d=64, heads=4, seq=16, ff=256, blocks=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            self.blocks.append(nn.ModuleDict({
                "ln1": nn.LayerNorm(d), "att": CausalSelfAttention(d, heads, seq),
                "ln2": nn.LayerNorm(d), "ff": nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Linear(ff, d))}))
        self.lnf = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids):  # [N, S] int64
        h = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        for b in self.blocks:
            h = h + b["att"](b["ln1"](h))
            h = h + b["ff"](b["ln2"](h))
        return torch.softmax(self.head(self.lnf(h)), dim=-1)


class DCGAN(nn.Module):
    """dcgan.dlc: generator and discriminator; inputs z, x; outputs image, logits [2, N]."""

    def __init__(self):
        super().__init__()
        self.g1 = nn.Linear(64, 64 * 7 * 7)
        self.g2 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        self.g3 = nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1)
        self.d1 = nn.Conv2d(1, 32, 4, stride=2, padding=1)
        self.d2 = nn.Conv2d(32, 64, 4, stride=2, padding=1)
        self.d3 = nn.Linear(64 * 7 * 7, 1)

    def forward(self, z, x):
        g = torch.relu(self.g1(z)).reshape(-1, 64, 7, 7)
        fake = torch.tanh(self.g3(torch.relu(self.g2(g))))
        d = torch.cat([x * 2 - 1, fake], dim=0)
        d = nn.functional.leaky_relu(self.d1(d), 0.2)
        d = nn.functional.leaky_relu(self.d2(d), 0.2)
        logits = self.d3(torch.flatten(d, 1)).reshape(2, -1)
        return (fake + 1) * 0.5, logits


def example_ids(*shape):
    return torch.randint(0, 64, shape)


# name: (module, example input shape or a function making the input, opset)
MODELS = {
    "logreg": (LogReg, (2, 784), 13),
    "mlp": (MLP, (2, 784), 13),
    "lenet": (LeNet, (2, 1, 28, 28), 13),
    "encoder": (Encoder, (2, 16, 64), 17),
    "autoencoder": (Autoencoder, (2, 1, 28, 28), 13),
    "rnn": (lambda: RowClassifier(nn.RNN), (2, 28, 28), 13),
    "lstm": (lambda: RowClassifier(nn.LSTM), (2, 28, 28), 13),
    "gru": (lambda: RowClassifier(nn.GRU), (2, 28, 28), 13),
    "gpt": (GPT, lambda: example_ids(2, 16), 17),
    "dcgan": (DCGAN, lambda: (torch.randn(2, 64), torch.rand(2, 1, 28, 28)), 13),
}

# Models whose inputs and outputs are not x -> y: their names, each with its batch axis.
IO = {
    "dcgan": ({"z": 0, "x": 0}, {"image": 0, "logits": 1}),
}


def export(name, out_dir):
    cls, shape, opset = MODELS[name]
    ins, outs = IO.get(name, ({"x": 0}, {"y": 0}))
    torch.manual_seed(SEED)
    model = cls().eval()
    args = shape() if callable(shape) else torch.randn(*shape)
    args = args if isinstance(args, tuple) else (args,)
    path = os.path.join(out_dir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=list(ins), output_names=list(outs),
                          dynamic_axes={k: {axis: "batch"} for k, axis in {**ins, **outs}.items()},
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
