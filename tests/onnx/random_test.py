#!/usr/bin/env python3
"""The random operators (RandomUniform, RandomNormal, their Like forms, Bernoulli,
Multinomial) tested by their distribution: the node suite's tests of them expect numpy's
own numbers, which no other generator reproduces (docs/ONNX.md, "Random operators").

For each operator and dtype dlc draws N = 20,000 numbers (`dlc run --check`, so the
compiled code also matches dlc's interpreter) and a test at false-alarm rate ALPHA = 1e-3
checks them: Kolmogorov-Smirnov against the uniform or normal CDF (of the value rounded
to the output dtype, so float16 and bfloat16 are tested exactly), chi-square for
Bernoulli and Multinomial's categories against the given probabilities.  Every seed is
fixed, so each test is deterministic: a pass stays a pass.  Also: the same seed gives
the same numbers and another seed others, an unseeded node has a stream of its own that
does not change between compilations, the Like forms take the input's shape and dtype,
the outputs are bit-identical under --threads 1 and 4 (one draw large enough to be
computed at run time rather than at compile time), and refusals give one clean line.

    random_test.py --dlc build/tools/dlc
"""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper
from scipy import stats

N = 20000
ALPHA = 1e-3
BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = {TP.FLOAT: np.dtype(np.float32), TP.DOUBLE: np.dtype(np.float64), TP.FLOAT16: np.dtype(np.float16),
          TP.BFLOAT16: BF16}
NP2TP = {v: k for k, v in DTYPES.items()}
NP2TP.update({np.dtype(np.int32): TP.INT32, np.dtype(np.int64): TP.INT64, np.dtype(np.bool_): TP.BOOL,
              np.dtype(np.uint8): TP.UINT8})


class Runner:
    def __init__(self, dlc, tmp):
        self.dlc, self.tmp, self.k, self.bad = dlc, tmp, 0, 0

    def model(self, nodes, ins, outs, opset=22):
        """ins: name -> (elem type, shape); outs: names.  The model's path."""
        vi = [helper.make_tensor_value_info(k, t, s) for k, (t, s) in ins.items()]
        vo = [helper.make_empty_tensor_value_info(o) for o in outs]
        m = helper.make_model(helper.make_graph(nodes, "rnd", vi, vo), opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 10
        self.k += 1
        path = os.path.join(self.tmp, "m%d.onnx" % self.k)
        onnx.save(m, path)
        return path

    def run(self, path, inputs=None, threads=1, outs=("y",)):
        """The outputs (name -> array), or (None, stderr) when dlc fails."""
        out = os.path.join(self.tmp, "o%d_%d" % (self.k, threads))
        cmd = [self.dlc, "run", path, "--check", "--output", out, "--threads", str(threads)]
        for name, a in (inputs or {}).items():
            f = os.path.join(self.tmp, "%s%d.npy" % (name, self.k))
            np.save(f, a)
            cmd += ["--input", "%s=%s" % (name, f)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode:
            return None, p.stderr
        res = {}
        for o in outs:
            a = np.load(os.path.join(out, o + ".npy"))
            res[o] = a.view(BF16) if a.dtype.kind == "V" else a
        return res, p.stderr

    def check(self, ok, what):
        self.bad += not ok
        print("%s %s" % ("ok" if ok else "FAIL", what))


def mid(v, toward):
    """Halfway from v to the next value of v's dtype toward +inf or -inf, in float64."""
    if v.dtype == BF16:  # numpy has no nextafter for bfloat16: step its 16-bit pattern
        f = v.astype(np.float32)
        b = (f.view(np.uint32) >> 16).astype(np.int64)
        away = 1 if toward > 0 else -1
        b = np.where(f > 0, b + away, np.where(f < 0, b - away, 0x0001 if toward > 0 else 0x8001))
        nxt = (b.astype(np.uint32) << 16).view(np.float32)
    else:
        nxt = np.nextafter(v, v.dtype.type(toward))
    return (v.astype(np.float64) + nxt.astype(np.float64)) / 2


def ks_rounded(x, cdf):
    """The Kolmogorov-Smirnov p-value of the samples x (of a float dtype) against the
    distribution of a continuous variable with this CDF rounded to x's dtype: the
    statistic is taken exactly at both sides of every sample value, and the continuous
    distribution of the statistic is conservative for a discrete one."""
    v, counts = np.unique(x, return_counts=True)
    n = x.size
    hi = np.cumsum(counts) / n
    lo = hi - counts / n
    d = max(np.max(np.abs(hi - cdf(mid(v, np.inf)))), np.max(np.abs(lo - cdf(mid(v, -np.inf)))))
    return float(stats.kstwo.sf(d, n)), float(d)


def continuous(r):
    """RandomUniform and RandomNormal, each dtype: KS against the CDF; the Like forms:
    the input's shape and dtype (or the dtype attribute's)."""
    for tp, dt in DTYPES.items():
        for normal in (False, True):
            op = "RandomNormal" if normal else "RandomUniform"
            a = dict(mean=-1.5, scale=2.5) if normal else dict(low=-2.0, high=3.0)
            path = r.model([helper.make_node(op, [], ["y"], shape=[4, N // 4], dtype=tp, seed=7.0, **a)], {}, ["y"])
            out, err = r.run(path)
            if out is None:
                r.check(False, "%s %s: %s" % (op, dt, err.strip()))
                continue
            y = out["y"]
            cdf = (lambda t: stats.norm.cdf((t + 1.5) / 2.5)) if normal else (lambda t: stats.uniform.cdf(t, -2.0, 5.0))
            p, d = ks_rounded(y.reshape(-1), cdf)
            r.check(y.dtype == dt and y.shape == (4, N // 4) and p > ALPHA,
                    "%s %s %s: KS D = %.4f, p = %.3g" % (op, dt, y.shape, d, p))
    # Like: the input's shape and dtype; a dtype attribute overrides it (any input dtype)
    for op in ("RandomUniformLike", "RandomNormalLike"):
        for tin, attrs, want in ((TP.FLOAT16, {}, np.float16), (TP.DOUBLE, {}, np.float64),
                                 (TP.INT32, {"dtype": TP.BFLOAT16}, BF16), (TP.FLOAT, {"dtype": TP.DOUBLE}, np.float64)):
            x = np.zeros((2, 50, 100), dtype=[k for k, v in NP2TP.items() if v == tin][0])
            path = r.model([helper.make_node(op, ["x"], ["y"], seed=3.0, **attrs)], {"x": (tin, list(x.shape))}, ["y"])
            out, err = r.run(path, {"x": x})
            if out is None:
                r.check(False, "%s from %s: %s" % (op, x.dtype, err.strip()))
                continue
            y = out["y"]
            cdf = stats.norm.cdf if op == "RandomNormalLike" else stats.uniform.cdf
            p, d = ks_rounded(y.reshape(-1), cdf)
            r.check(y.shape == x.shape and y.dtype == np.dtype(want) and p > ALPHA,
                    "%s from %s%s: %s %s, KS p = %.3g" % (op, x.dtype, attrs, y.dtype, y.shape, p))


def bernoulli(r):
    """Bernoulli for each input dtype and several output dtypes: p = 0 gives only 0, p = 1
    only 1, and the ones among the others against their probabilities (chi-square, one
    degree of freedom per group)."""
    groups = np.array([0.0, 0.1, 0.3, 0.5, 0.9, 1.0])
    for tin, dt in DTYPES.items():
        for tout in (None, TP.BOOL, TP.INT64, TP.FLOAT16):
            p = np.repeat(groups, N // len(groups)).astype(dt)
            attrs = {} if tout is None else {"dtype": tout}
            path = r.model([helper.make_node("Bernoulli", ["p"], ["y"], seed=11.0, **attrs)], {"p": (tin, [p.size])},
                           ["y"])
            out, err = r.run(path, {"p": p})
            if out is None:
                r.check(False, "Bernoulli %s -> %s: %s" % (dt, tout, err.strip()))
                continue
            y = out["y"]
            want = dt if tout is None else [k for k, v in {**NP2TP, np.dtype(np.float16): TP.FLOAT16}.items()
                                              if v == tout][0]
            y64 = y.astype(np.float64).reshape(len(groups), -1)
            pg = p.astype(np.float64).reshape(len(groups), -1)[:, 0]
            exact = np.all(y64[0] == 0) and np.all(y64[-1] == 1) and np.all((y64 == 0) | (y64 == 1))
            ones, m = y64[1:-1].sum(axis=1), y64.shape[1]
            chi = float(np.sum((ones - m * pg[1:-1]) ** 2 / (m * pg[1:-1] * (1 - pg[1:-1]))))
            pv = float(stats.chi2.sf(chi, len(groups) - 2))
            r.check(y.dtype == np.dtype(want) and exact and pv > ALPHA,
                    "Bernoulli %s -> %s: chi2 = %.2f (df %d), p = %.3g" % (dt, y.dtype, chi, len(groups) - 2, pv))


def multinomial(r):
    """Multinomial over unnormalized log-probabilities (a class of probability 0 never
    drawn), each input dtype and output dtype: chi-square per row."""
    probs = np.array([[0.1, 0.2, 0.3, 0.4, 0.0], [0.7, 0.05, 0.05, 0.0, 0.2]])
    with np.errstate(divide="ignore"):
        logits = np.log(probs) + np.array([[4.0], [-2.0]])  # unnormalized
    for tin, dt in DTYPES.items():
        for tout in (None, TP.INT64):
            x = logits.astype(dt)
            attrs = {} if tout is None else {"dtype": tout}
            path = r.model([helper.make_node("Multinomial", ["x"], ["y"], sample_size=N // 2, seed=5.0, **attrs)],
                           {"x": (tin, list(x.shape))}, ["y"])
            out, err = r.run(path, {"x": x})
            if out is None:
                r.check(False, "Multinomial %s: %s" % (dt, err.strip()))
                continue
            y, ok, msg = out["y"], True, []
            pe = np.exp(x.astype(np.float64) - x.astype(np.float64).max(axis=1, keepdims=True))
            pe /= pe.sum(axis=1, keepdims=True)
            for b in range(2):
                cnt = np.bincount(y[b], minlength=5)
                nz = pe[b] > 0
                chi = float(np.sum((cnt[nz] - y.shape[1] * pe[b][nz]) ** 2 / (y.shape[1] * pe[b][nz])))
                pv = float(stats.chi2.sf(chi, nz.sum() - 1))
                ok &= pv > ALPHA and cnt[~nz].sum() == 0 and cnt.size == 5
                msg.append("row %d chi2 = %.2f, p = %.3g" % (b, chi, pv))
            want = np.int64 if tout == TP.INT64 else np.int32
            r.check(ok and y.dtype == want and y.shape == (2, N // 2),
                    "Multinomial %s -> %s %s: %s" % (dt, y.dtype, y.shape, "; ".join(msg)))


def determinism(r):
    """Seeds, unseeded streams, runs and thread counts."""
    def uniform(seed, outs=("y",), shape=(N,)):
        a = {} if seed is None else {"seed": seed}
        nodes = [helper.make_node("RandomUniform", [], [o], shape=list(shape), **a) for o in outs]
        return r.model(nodes, {}, list(outs))
    y1 = r.run(uniform(1.0))[0]["y"]
    y1b = r.run(uniform(1.0))[0]["y"]
    y2 = r.run(uniform(2.0))[0]["y"]
    r.check(y1.tobytes() == y1b.tobytes(), "seed 1.0 twice (two compilations, two runs): the same numbers")
    r.check(np.mean(y1 == y2) < 0.01, "seed 1.0 and seed 2.0: %.4f of the numbers equal" % np.mean(y1 == y2))
    u = r.run(uniform(None, ("a", "b")), outs=("a", "b"))[0]
    ub = r.run(uniform(None, ("a", "b")), outs=("a", "b"))[0]
    r.check(np.mean(u["a"] == u["b"]) < 0.01 and u["a"].tobytes() == ub["a"].tobytes(),
            "unseeded: two nodes draw different streams, the same at each compilation")
    # over 2^22 elements: drawn by the generated code at run time, not at compile time
    big = r.model([helper.make_node("RandomNormal", [], ["y"], shape=[2049, 2048], seed=9.0)], {}, ["y"])
    t1, t4 = r.run(big, threads=1)[0]["y"], r.run(big, threads=4)[0]["y"]
    p, _ = ks_rounded(t1.reshape(-1)[:N], stats.norm.cdf)
    r.check(t1.tobytes() == t4.tobytes() and p > ALPHA,
            "RandomNormal [2049, 2048] at run time: --threads 1 and 4 bit-identical, KS p = %.3g" % p)
    x = np.full((2000, 10), 0.5, np.float32)
    bern = r.model([helper.make_node("Bernoulli", ["p"], ["y"])], {"p": (TP.FLOAT, list(x.shape))}, ["y"])
    b1, b4 = r.run(bern, {"p": x}, threads=1)[0]["y"], r.run(bern, {"p": x}, threads=4)[0]["y"]
    r.check(b1.tobytes() == b4.tobytes(), "Bernoulli: --threads 1 and 4 bit-identical")


def refusals(r):
    """Values dlc does not handle: one line naming them, exit status 1."""
    cases = [
        ("RandomUniform", [], {}, dict(shape=[3], dtype=TP.INT32), "dtype int32"),
        ("RandomNormal", [], {}, dict(shape=[3, -1]), "shape[1] = -1"),
        ("RandomNormal", [], {}, dict(), "shape attribute"),
        ("RandomUniformLike", ["x"], {"x": (TP.INT32, [3])}, {}, "is not a float type"),
        ("RandomNormalLike", ["x"], {"x": (TP.FLOAT, [3])}, dict(dtype=TP.INT8), "dtype int8"),
        ("Bernoulli", ["x"], {"x": (TP.FLOAT, [3])}, dict(dtype=TP.STRING), "dtype string"),
        ("Multinomial", ["x"], {"x": (TP.FLOAT, [2, 3])}, dict(dtype=TP.FLOAT), "dtype float"),
        ("Multinomial", ["x"], {"x": (TP.FLOAT, [2, 3])}, dict(sample_size=0), "sample_size 0"),
        ("Multinomial", ["x"], {"x": (TP.FLOAT, [6])}, {}, "rank 2"),
        ("RandomUniform", [], {}, dict(shape=[3], seed="s"), "seed"),
    ]
    for op, ins, vi, attrs, want in cases:
        path = r.model([helper.make_node(op, ins, ["y"], name="r", **attrs)], vi, ["y"])
        p = subprocess.run([r.dlc, "compile", path, "-o", os.path.join(r.tmp, "refused.c")], capture_output=True,
                           text=True)
        lines = p.stderr.strip().splitlines()
        ok = p.returncode == 1 and len(lines) == 1 and want in lines[0] and "'r'" in lines[0]
        r.check(ok, "%s %s refused: %s" % (op, attrs, p.stderr.strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlc-random-") as tmp:
        r = Runner(a.dlc, tmp)
        for part in (continuous, bernoulli, multinomial, determinism, refusals):
            part(r)
    print("%d failed" % r.bad)
    return 1 if r.bad else 0


if __name__ == "__main__":
    sys.exit(main())
