#!/usr/bin/env python3
"""The one-byte ONNX types (float8e4m3fn, float8e4m3fnuz, float8e5m2, float8e5m2fnuz,
float8e8m0, float4e2m1, int4, uint4, int2, uint2) in models made with onnx.helper, run
by dlc (the generated C) and by onnx's reference evaluator, bit for bit.

    narrow_test.py --dlc DLC [--keep DIR]

- Cast from f32 and f16 to each type: every f16 value (which holds every midpoint of
  these types), edge values and random ones; float8 with saturate 1 and 0, float8e8m0
  in each round_mode, saturating or not;
- Cast from each type to f32 and f16: every bit pattern of the type (fed as ml_dtypes
  arrays, '.npy' '|V1');
- initializers of the 4- and 2-bit types packed as ONNX packs them (raw_data and
  int32_data, odd lengths), read back through Identity and Cast;
- operators on the types: Reshape, Transpose, Concat and Where on int4 and float8
  values, giving their type;
- QuantizeLinear and DequantizeLinear for the integer and float types, per tensor and
  per axis, saturate 0 and 1;
- refusals: BitCast from int8 to int4 (widths differ), a float8 DequantizeLinear with a
  nonzero zero point, an unknown round_mode: one line naming the node and the type;
each at -O0 and -O2; outputs come back as ml_dtypes' one-byte types ('|V1').
"""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh
from onnx.reference import ReferenceEvaluator

TYPES = {
    T.FLOAT8E4M3FN: ml_dtypes.float8_e4m3fn, T.FLOAT8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
    T.FLOAT8E5M2: ml_dtypes.float8_e5m2, T.FLOAT8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz,
    T.FLOAT8E8M0: ml_dtypes.float8_e8m0fnu, T.FLOAT4E2M1: ml_dtypes.float4_e2m1fn,
    T.INT4: ml_dtypes.int4, T.UINT4: ml_dtypes.uint4, T.INT2: ml_dtypes.int2, T.UINT2: ml_dtypes.uint2,
}
FLOAT8 = (T.FLOAT8E4M3FN, T.FLOAT8E4M3FNUZ, T.FLOAT8E5M2, T.FLOAT8E5M2FNUZ)
failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL " + what)


def tname(t):
    return T.DataType.Name(t)


def save(nodes, inputs, outputs, work, name, inits=(), opset=25):
    g = h.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = 11
    onnx.checker.check_model(m)
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    return path


def run_dlc(dlc, model, feeds, work, opt, expect_error=None):
    out = os.path.join(work, "out")
    args = [dlc, "run", model, "--output", out, opt]
    for name, arr in feeds.items():
        path = os.path.join(work, name + ".npy")
        np.save(path, arr)
        args += ["--input", "%s=%s" % (name, path)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if expect_error is not None:
        lines = p.stderr.strip().splitlines()
        if p.returncode != 1 or len(lines) != 1 or not all(s in lines[0] for s in expect_error):
            fail("%s: expected one error line with %r, got status %d: %s" % (os.path.basename(model), expect_error,
                                                                              p.returncode, p.stderr.strip()))
        return None
    if p.returncode:
        fail("%s %s: dlc run: %s" % (os.path.basename(model), opt, p.stderr.strip()))
        return None
    m = onnx.load(model)
    res = {}
    for o in m.graph.output:
        got = np.load(os.path.join(out, o.name + ".npy"))
        want_t = o.type.tensor_type.elem_type
        if want_t in TYPES and got.dtype.kind == "V":
            got = got.view(TYPES[want_t])
        res[o.name] = got
    return res


def same_bits(what, got, want):
    """Bit for bit, any NaN equal to any NaN."""
    if got is None:
        return
    if got.dtype != want.dtype or got.shape != want.shape:
        fail("%s: %s%s, expected %s%s" % (what, got.dtype, got.shape, want.dtype, want.shape))
        return
    with np.errstate(invalid="ignore"):
        g, w = got.astype(np.float64), want.astype(np.float64)
    same = (got.view(np.uint8) == want.view(np.uint8)).reshape(got.shape + (-1,)).all(-1) | (np.isnan(g) & np.isnan(w))
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        fail("%s: %d of %d differ, first [%d] (input %r): %r, expected %r" % (
            what, int((~same).sum()), same.size, i, VALUES.flat[i] if VALUES.size == same.size else None,
            got.flat[i], want.flat[i]))


def check(dlc, work, opt, what, path, feeds):
    got = run_dlc(dlc, path, feeds, work, opt)
    if got is None:
        return
    want = ReferenceEvaluator(path).run(None, feeds)
    m = onnx.load(path)
    for o, w in zip(m.graph.output, want):
        same_bits("%s %s (%s)" % (opt, what, o.name), got[o.name], np.asarray(w))


def values():
    with np.errstate(all="ignore"):
        f16 = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    edges = np.array([0, -0.0, np.inf, -np.inf, np.nan, 448, 464, 465, 480, 240, 248, 57344, 61440, 6, 7, 1e6, -1e6,
                      1e-7, -1e-7, 2.0 ** 127, 3e38, 2.0 ** -126, 2.0 ** -127, 2.0 ** -149, 7.5, 8.5, -8.5, 16, -9,
                      1e9, -1e9, 1.5, 2.5, 3.5, -0.5], dtype=np.float32)
    rng = np.random.default_rng(7)
    r = (rng.standard_normal(4096) * np.exp2(rng.integers(-40, 40, 4096))).astype(np.float32)
    return np.concatenate([f16, edges, r, (rng.standard_normal(4096) * 10).astype(np.float32)])


VALUES = values()


def vi(name, t, shape):
    return h.make_tensor_value_info(name, t, shape)


def test_casts_to(dlc, work, opt):
    """One model per source type, an output per target type and attributes."""
    for src, np_src in ((T.FLOAT, np.float32), (T.FLOAT16, np.float16)):
        xs = VALUES if src == T.FLOAT else VALUES[np.abs(VALUES) < 65504]  # f16: values f16 holds as they are
        nodes, outs = [], []
        for t in TYPES:
            variants = [{}]
            if t in FLOAT8:
                variants = [{"saturate": 1}, {"saturate": 0}]
            if t == T.FLOAT8E8M0:
                variants = [{"round_mode": m, "saturate": s} for m in ("up", "down", "nearest") for s in (1, 0)]
            for attrs in variants:
                y = "%s_%s" % (tname(t), "_".join("%s%s" % (k, v) for k, v in sorted(attrs.items())))
                nodes.append(h.make_node("Cast", ["x"], [y], to=t, **attrs))
                outs.append(vi(y, t, [xs.size]))
        name = "cast_from_%s" % tname(src)
        path = save(nodes, [vi("x", src, [xs.size])], outs, work, name)
        check(dlc, work, opt, name, path, {"x": xs.astype(np_src)})


def test_casts_from(dlc, work, opt):
    """Every bit pattern of every type, to f32 and f16, in one model."""
    nodes, ins, outs, feeds = [], [], [], {}
    for t, dt in TYPES.items():
        count = 4 if t in (T.INT2, T.UINT2) else 16 if t in (T.FLOAT4E2M1, T.INT4, T.UINT4) else 256
        x = "x_" + tname(t)
        feeds[x] = np.arange(count, dtype=np.uint8).view(dt)
        ins.append(vi(x, t, [count]))
        for to in (T.FLOAT, T.FLOAT16):
            y = "%s_to_%s" % (tname(t), tname(to))
            nodes.append(h.make_node("Cast", [x], [y], to=to))
            outs.append(vi(y, to, [count]))
    check(dlc, work, opt, "cast_to_wide", save(nodes, ins, outs, work, "cast_to_wide"), feeds)


def test_initializers(dlc, work, opt):
    """Odd and even lengths, raw_data and int32_data, read through Identity and Cast."""
    rng = np.random.default_rng(3)
    for raw in (True, False):
        nodes, outs, inits = [], [], []
        for t, dt in TYPES.items():
            for n in (1, 7, 10):
                with np.errstate(all="ignore"):
                    v = (rng.integers(-8, 16, n).astype(np.float32) * 0.5).astype(dt)
                w = "w_%s_%d" % (tname(t), n)
                inits.append(nh.from_array(v, w) if raw else h.make_tensor(w, t, [n], v, raw=False))
                nodes += [h.make_node("Identity", [w], [w + "_y"]), h.make_node("Cast", [w], [w + "_z"], to=T.FLOAT)]
                outs += [vi(w + "_y", t, [n]), vi(w + "_z", T.FLOAT, [n])]
        name = "init_%s" % ("raw" if raw else "int32")
        check(dlc, work, opt, name, save(nodes, [], outs, work, name, inits=inits), {})


def test_operators(dlc, work, opt):
    rng = np.random.default_rng(4)
    for t in (T.INT4, T.UINT2, T.FLOAT8E4M3FN, T.FLOAT4E2M1):
        dt = TYPES[t]
        a = rng.integers(-4, 4, (2, 3, 5)).astype(np.float32).astype(dt)
        b = rng.integers(-4, 4, (2, 3, 5)).astype(np.float32).astype(dt)
        c = rng.integers(0, 2, (2, 3, 5)).astype(bool)
        shape = nh.from_array(np.array([6, 5], dtype=np.int64), "shape")
        nodes = [h.make_node("Reshape", ["a", "shape"], ["r"]), h.make_node("Transpose", ["a"], ["tr"], perm=[2, 0, 1]),
                 h.make_node("Concat", ["a", "b"], ["cat"], axis=1), h.make_node("Where", ["c", "a", "b"], ["w"])]
        outs = [vi("r", t, [6, 5]), vi("tr", t, [5, 2, 3]), vi("cat", t, [2, 6, 5]), vi("w", t, [2, 3, 5])]
        name = "ops_%s" % tname(t)
        path = save(nodes, [vi("a", t, [2, 3, 5]), vi("b", t, [2, 3, 5]), vi("c", T.BOOL, [2, 3, 5])], outs, work,
                    name, inits=[shape])
        check(dlc, work, opt, name, path, {"a": a, "b": b, "c": c})


def test_quantize(dlc, work, opt):
    """Per tensor and per axis in one model per type (and saturate)."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 4)) * 40).astype(np.float32)
    x[0, :3] = [np.nan, np.inf, -1e9]
    for t in (T.INT4, T.UINT4, T.INT2, T.UINT2) + FLOAT8 + (T.FLOAT4E2M1,):
        dt = TYPES[t]
        for sat in ((1, 0) if t in FLOAT8 else (1,)):
            xs = x if t in FLOAT8 else np.nan_to_num(x, nan=0, posinf=100, neginf=-100)
            nodes, outs, inits = [], [], []
            for per_axis in (False, True):
                scale = np.array([0.5, 2.0, 3.0, 0.25], np.float32) if per_axis else np.array(1.5, np.float32)
                zp = np.zeros(scale.shape, np.float32)
                if t in (T.INT4, T.UINT4, T.INT2, T.UINT2):
                    zp = rng.integers(0, 2, scale.shape).astype(np.float32)
                if t == T.FLOAT4E2M1:
                    zp = np.full(scale.shape, 0.5, np.float32)
                k = "axis" if per_axis else "tensor"
                inits += [nh.from_array(scale, "s_" + k), nh.from_array(zp.astype(dt), "z_" + k)]
                kw = {"axis": 1} if per_axis else {}
                qkw = dict(kw, saturate=sat) if t in FLOAT8 else kw
                nodes += [h.make_node("QuantizeLinear", ["x", "s_" + k, "z_" + k], ["q_" + k], **qkw),
                          h.make_node("DequantizeLinear", ["q_" + k, "s_" + k, "z_" + k], ["d_" + k], **kw)]
                outs += [vi("q_" + k, t, [3, 4]), vi("d_" + k, T.FLOAT, [3, 4])]
            name = "quant_%s_sat%d" % (tname(t), sat)
            check(dlc, work, opt, name, save(nodes, [vi("x", T.FLOAT, [3, 4])], outs, work, name, inits=inits),
                  {"x": xs})


def test_refusals(dlc, work, opt):
    path = save([h.make_node("BitCast", ["x"], ["y"], to=T.INT4, name="bc")], [vi("x", T.INT8, [4])],
                [vi("y", T.INT4, [4])], work, "bitcast_int4", opset=26)
    run_dlc(dlc, path, {"x": np.zeros(4, np.int8)}, work, opt, expect_error=["'bc'", "BitCast", "i4"])
    inits = [nh.from_array(np.array(2.0, np.float32), "s"),
             nh.from_array(np.array(1.0, np.float32).astype(ml_dtypes.float8_e4m3fn), "z")]
    path = save([h.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], name="dq")], [vi("x", T.FLOAT8E4M3FN, [4])],
                [vi("y", T.FLOAT, [4])], work, "dq_zero_point", inits=inits)
    run_dlc(dlc, path, {"x": np.zeros(4, ml_dtypes.float8_e4m3fn)}, work, opt,
            expect_error=["'dq'", "DequantizeLinear", "f8e4m3fn", "zero"])
    m = h.make_model(h.make_graph([h.make_node("Cast", ["x"], ["y"], to=T.FLOAT8E8M0, round_mode="odd", name="c")], "g",
                                  [vi("x", T.FLOAT, [4])], [vi("y", T.FLOAT8E8M0, [4])]),
                     opset_imports=[h.make_opsetid("", 25)])
    path = os.path.join(work, "round_mode.onnx")
    onnx.save(m, path)
    run_dlc(dlc, path, {"x": np.zeros(4, np.float32)}, work, opt, expect_error=["'c'", "Cast", "round_mode", "odd"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--keep")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="dlc_narrow_")
    os.makedirs(work, exist_ok=True)
    for opt in ("-O0", "-O2"):
        test_casts_to(a.dlc, work, opt)
        test_casts_from(a.dlc, work, opt)
        test_initializers(a.dlc, work, opt)
        test_operators(a.dlc, work, opt)
        test_quantize(a.dlc, work, opt)
    test_refusals(a.dlc, work, "-O0")
    print("narrow_test: %s" % ("ok" if not failures else "%d failures" % failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
