#!/usr/bin/env python3
"""float16 and bfloat16 models, made with onnx.helper, run by dlc and by independent
oracles.

    lowp_test.py --dlc DLC [--keep DIR]

- casts: every f16 and bf16 bit pattern to float, and f32 and f64 edge and random
  values to f16 and bf16, against numpy and ml_dtypes, and f16's against ONNX Runtime too
  (its Python binding takes and gives no bfloat16 arrays) (this runs the generated C's conversions, where
  tests/unit/half_numpy.py runs the IR's);
- a small network in float16 (MatMul, Add, Relu, Softmax, LayerNormalization, Conv,
  Transpose, Reshape, ReduceMean, Concat, Gather, Where, Tanh, Div) against ONNX Runtime;
- the same network in bfloat16 against onnx's reference evaluator (ONNX Runtime's CPU
  provider has no bfloat16 kernels for most of these);
- operators on f16 values whose operand is a large f16 weight (kept in f16 in the model
  and widened where it is read), and f16 constants that are compile-time operands (Pad's
  value, Clip's bounds, ConstantOfShape's value); QuantizeLinear dividing in f16 or bf16,
  a run-time If whose branches give f16, a Scan with an f16 state and a sequence of f16
  tensors, against onnx's reference;
each at -O0 (no passes, a kernel per core op) and -O2 (folded and fused), and checks
that outputs come back in their own dtype (bf16 as ml_dtypes' '<V2').
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

BF16 = ml_dtypes.bfloat16
failures = 0


def fail(what):
    global failures
    failures += 1
    print("FAIL " + what)


def run_dlc(dlc, model, feeds, work, opt):
    out = os.path.join(work, "out")
    args = [dlc, "run", model, "--output", out, opt]
    for name, arr in feeds.items():
        path = os.path.join(work, name + ".npy")
        np.save(path, arr)
        args += ["--input", "%s=%s" % (name, path)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode:
        fail("%s %s: dlc run: %s" % (os.path.basename(model), opt, p.stderr.strip()))
        return None
    m = onnx.load(model)
    res = {}
    for o in m.graph.output:
        got = np.load(os.path.join(out, o.name + ".npy"))
        if got.dtype.kind == "V":
            got = got.view(BF16)
        res[o.name] = got
    return res


def save(graph, work, name):
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.checker.check_model(m)
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    return path


def same_bits(what, got, want):
    if got is None:
        return
    if got.dtype != want.dtype:
        fail("%s: dtype %s, expected %s" % (what, got.dtype, want.dtype))
        return
    with np.errstate(invalid="ignore"):
        g, w = got.astype(np.float64), want.astype(np.float64)
    same = (got.view(np.uint8) == want.view(np.uint8)).reshape(got.shape + (-1,)).all(-1) | (np.isnan(g) & np.isnan(w))
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        fail("%s: %d of %d differ, first [%d]: %r, expected %r" % (what, int((~same).sum()), same.size, i, g.flat[i], w.flat[i]))


def close(what, got, want, tol):
    if got is None:
        return
    if got.dtype != want.dtype or got.shape != want.shape:
        fail("%s: %s%s, expected %s%s" % (what, got.dtype, got.shape, want.dtype, want.shape))
        return
    a, b = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    scale = max(1e-2 * float(np.max(np.abs(b))), 1e-30)
    rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale))) if b.size else 0.0
    if not rel <= tol:
        fail("%s: relative error %.3g over %.3g" % (what, rel, tol))


def edge_values():
    rng = np.random.default_rng(5)
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65519.0, 65520.0, 1e5, 6.1e-5, 5.96e-8, 2.98e-8,
         2.99e-8, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 3.4e38, 1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8,
         1e-39, 1e-45, -1e-40]
    r = rng.standard_normal(20000) * np.exp2(rng.integers(-30, 30, 20000))
    # every 4093rd f32 bit pattern: all exponents, subnormals, both signs, NaNs
    with np.errstate(invalid="ignore"):
        sweep = np.arange(0, 1 << 32, 4093, dtype=np.uint64).astype(np.uint32).view(np.float32).astype(np.float64)
    return np.concatenate([np.array(v), r, -r, sweep])


def ort_run(path, feeds):
    import onnxruntime as ort
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)


def test_casts(dlc, work, opt):
    bits = np.arange(65536, dtype=np.uint16)
    for ty, np_t, name in ((T.FLOAT16, np.float16, "f16"), (T.BFLOAT16, BF16, "bf16")):
        g = h.make_graph([h.make_node("Cast", ["x"], ["y"], to=T.FLOAT)], "cast_from_" + name,
                         [h.make_tensor_value_info("x", ty, [65536])], [h.make_tensor_value_info("y", T.FLOAT, [65536])])
        x = bits.view(np_t)
        path = save(g, work, "from_" + name)
        got = run_dlc(dlc, path, {"x": x}, work, opt)
        if got is not None:
            same_bits("%s: every %s bit pattern to float" % (opt, name), got["y"], x.astype(np.float32))
            if name == "f16":  # ORT's Python binding passes no bfloat16 arrays
                want = ort_run(path, {"x": x})
                same_bits("%s: every %s bit pattern to float vs ONNX Runtime" % (opt, name), got["y"], want[0])
        for src, np_src in ((T.FLOAT, np.float32), (T.DOUBLE, np.float64)):
            v = edge_values().astype(np_src)
            g = h.make_graph([h.make_node("Cast", ["x"], ["y"], to=ty)], "cast_to_" + name,
                             [h.make_tensor_value_info("x", src, [v.size])], [h.make_tensor_value_info("y", ty, [v.size])])
            path = save(g, work, "to_%s_from_%s" % (name, np_src.__name__))
            got = run_dlc(dlc, path, {"x": v}, work, opt)
            if got is not None:
                with np.errstate(all="ignore"):
                    same_bits("%s: %s to %s" % (opt, np_src.__name__, name), got["y"], v.astype(np_t))
                if name == "f16":
                    want = ort_run(path, {"x": v})
                    same_bits("%s: %s to %s vs ONNX Runtime" % (opt, np_src.__name__, name), got["y"], want[0])


def network(ty, np_t, rng):
    """y = a small block on x [2, 3, 8, 8]: conv, layernorm, matmul, softmax and friends."""
    def init(name, shape, scale=0.3):
        """f16 weights in raw_data; bf16 in int32_data (onnx.helper rounds the values)."""
        v = (rng.standard_normal(shape) * scale).astype(np.float32)
        return nh.from_array(v.astype(np_t), name) if np_t is np.float16 else h.make_tensor(name, ty, shape, v.ravel().tolist())
    nodes = [
        h.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]),            # [2,4,8,8]
        h.make_node("Relu", ["c"], ["r"]),
        h.make_node("Reshape", ["r", "shape"], ["f"]),                              # [2,4,64]
        h.make_node("LayerNormalization", ["f", "ln_s", "ln_b"], ["ln"], axis=-1),
        h.make_node("Transpose", ["ln"], ["t"], perm=[0, 2, 1]),                    # [2,64,4]
        h.make_node("MatMul", ["t", "M"], ["m"]),                                   # [2,64,5]
        h.make_node("Add", ["m", "mb"], ["a"]),
        h.make_node("Softmax", ["a"], ["s"], axis=-1),
        h.make_node("Tanh", ["a"], ["th"]),
        h.make_node("Div", ["th", "two"], ["d"]),
        h.make_node("Greater", ["s", "d"], ["gt"]),
        h.make_node("Where", ["gt", "s", "d"], ["w"]),
        h.make_node("ReduceMean", ["w", "axes"], ["rm"], keepdims=1),               # [2,64,1]
        h.make_node("Gather", ["w", "idx"], ["ga"], axis=2),                        # [2,64,2]
        h.make_node("Concat", ["rm", "ga"], ["y"], axis=2),                         # [2,64,3]
    ]
    inits = [init("W", [4, 3, 3, 3]), init("B", [4]), init("ln_s", [64], 1.0), init("ln_b", [64]),
             init("M", [4, 5]), init("mb", [5]),
             nh.from_array(np.array([2, 4, 64], np.int64), "shape"), nh.from_array(np.array([2], np.int64), "axes"),
             nh.from_array(np.array([0, 3], np.int64), "idx")]
    inits.append(h.make_tensor("two", ty, [], [2.0]))  # int32_data, for f16 too
    return h.make_graph(nodes, "net", [h.make_tensor_value_info("x", ty, [2, 3, 8, 8])],
                        [h.make_tensor_value_info("y", ty, [2, 64, 3]), h.make_tensor_value_info("s", ty, [2, 64, 5])], inits)


def test_network(dlc, work, opt):
    import onnxruntime as ort
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    path = save(network(T.FLOAT16, np.float16, np.random.default_rng(1)), work, "net_f16")
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x.astype(np.float16)})
    got = run_dlc(dlc, path, {"x": x.astype(np.float16)}, work, opt)
    if got is not None:
        close("%s: float16 network y vs ONNX Runtime" % opt, got["y"], want[0], 1e-2)
        close("%s: float16 network s vs ONNX Runtime" % opt, got["s"], want[1], 1e-2)
    path = save(network(T.BFLOAT16, BF16, np.random.default_rng(1)), work, "net_bf16")
    want = ReferenceEvaluator(path).run(None, {"x": x.astype(BF16)})
    got = run_dlc(dlc, path, {"x": x.astype(BF16)}, work, opt)
    if got is not None:
        # the softmax's input differs by ulps of bfloat16 (Conv and LayerNormalization round
        # once where the reference rounds each step); Softmax itself rounds as the reference
        close("%s: bfloat16 network y vs onnx's reference" % opt, got["y"], want[0], 6e-2)
        close("%s: bfloat16 network s vs onnx's reference" % opt, got["s"], want[1], 6e-2)


def test_big_weight(dlc, work, opt):
    """A weight over the size that is widened at load time stays f16 in the model."""
    import onnxruntime as ort
    rng = np.random.default_rng(3)
    W = (rng.standard_normal((64, 96)) * 0.1).astype(np.float16)
    g = h.make_graph([h.make_node("MatMul", ["x", "W"], ["m"]), h.make_node("Sigmoid", ["m"], ["y"])], "big",
                     [h.make_tensor_value_info("x", T.FLOAT16, [4, 64])], [h.make_tensor_value_info("y", T.FLOAT16, [4, 96])],
                     [nh.from_array(W, "W")])
    path = save(g, work, "big_f16")
    x = rng.standard_normal((4, 64)).astype(np.float16)
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    got = run_dlc(dlc, path, {"x": x}, work, opt)
    if got is not None:
        close("%s: float16 weight [64, 96] vs ONNX Runtime" % opt, got["y"], want, 1e-2)


def test_constant_operands(dlc, work, opt):
    """f16 constants that are operands' compile-time values: Pad's value, Clip's bounds,
    ConstantOfShape's value; and Identity, whose result is its operand."""
    import onnxruntime as ort
    f16 = lambda v, name: nh.from_array(np.array(v, np.float16), name)
    g = h.make_graph([h.make_node("Pad", ["x", "pads", "pv"], ["p"]),
                      h.make_node("Clip", ["p", "lo", "hi"], ["c"]),
                      h.make_node("ConstantOfShape", ["shape"], ["k"], value=f16([0.3], "v")),
                      h.make_node("Add", ["c", "k"], ["y"]),
                      h.make_node("Identity", ["x"], ["i"])], "consts",
                     [h.make_tensor_value_info("x", T.FLOAT16, [2, 3])],
                     [h.make_tensor_value_info("y", T.FLOAT16, [2, 5]), h.make_tensor_value_info("i", T.FLOAT16, [2, 3])],
                     [nh.from_array(np.array([0, 1, 0, 1], np.int64), "pads"), f16(7.5, "pv"), f16(-0.7, "lo"),
                      f16(1.1, "hi"), nh.from_array(np.array([2, 5], np.int64), "shape")])
    path = save(g, work, "consts_f16")
    x = (np.random.default_rng(4).standard_normal((2, 3)) * 2).astype(np.float16)
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    got = run_dlc(dlc, path, {"x": x}, work, opt)
    if got is not None:
        same_bits("%s: Pad, Clip, ConstantOfShape on f16 constants vs ONNX Runtime" % opt, got["y"], want[0])
        same_bits("%s: Identity of an f16 input" % opt, got["i"], x)


def test_quantize(dlc, work, opt):
    """QuantizeLinear divides in its scale's type (or `precision`): in f16 or bf16 the
    quotient is rounded to it before rounding to an integer, which moves ties."""
    from onnx.reference import ReferenceEvaluator
    rng = np.random.default_rng(9)
    for name, xt, np_x, prec in (("f16", T.FLOAT16, np.float16, None), ("prec_f16", T.FLOAT, np.float32, T.FLOAT16),
                                 ("prec_bf16", T.FLOAT, np.float32, T.BFLOAT16)):
        kw = {"precision": prec} if prec else {}
        g = h.make_graph([h.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], **kw)], "quant_" + name,
                         [h.make_tensor_value_info("x", xt, [4000])], [h.make_tensor_value_info("y", T.INT8, [4000])],
                         [nh.from_array(np.array(0.0137, np_x), "s"), nh.from_array(np.array(3, np.int8), "z")])
        m = h.make_model(g, opset_imports=[h.make_opsetid("", 25)])
        m.ir_version = 11
        path = os.path.join(work, "quant_%s.onnx" % name)
        onnx.save(m, path)
        x = (rng.standard_normal(4000) * 1.5).astype(np_x)
        got = run_dlc(dlc, path, {"x": x}, work, opt)
        if got is not None:
            same_bits("%s: QuantizeLinear in %s vs onnx's reference" % (opt, name), got["y"],
                      ReferenceEvaluator(m).run(None, {"x": x})[0])


def test_if(dlc, work, opt):
    """A run-time If whose branches give f16: merged by a select in f32."""
    from onnx.reference import ReferenceEvaluator
    then_g = h.make_graph([h.make_node("Add", ["x", "x"], ["t"])], "then", [], [h.make_tensor_value_info("t", T.FLOAT16, [3])])
    else_g = h.make_graph([h.make_node("Neg", ["x"], ["e"])], "else", [], [h.make_tensor_value_info("e", T.FLOAT16, [3])])
    g = h.make_graph([h.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)], "if_f16",
                     [h.make_tensor_value_info("c", T.BOOL, []), h.make_tensor_value_info("x", T.FLOAT16, [3])],
                     [h.make_tensor_value_info("y", T.FLOAT16, [3])])
    path = save(g, work, "if_f16")
    x = np.array([1.5, -2, 65504], np.float16)
    for cond in (True, False):
        got = run_dlc(dlc, path, {"c": np.array(cond), "x": x}, work, opt)
        if got is not None:
            with np.errstate(over="ignore"):  # 65504 + 65504 overflows to inf, as it should
                want = ReferenceEvaluator(path).run(None, {"c": np.array(cond), "x": x})[0]
            same_bits("%s: If (%s) on f16 vs onnx's reference" % (opt, cond), got["y"], want)


def test_scan_and_sequences(dlc, work, opt):
    """A Scan whose f16 state is rounded at every step (its body's Add rounds, as the
    reference's does), and a sequence of f16 tensors concatenated and read back."""
    from onnx.reference import ReferenceEvaluator
    body = h.make_graph([h.make_node("Add", ["s", "x"], ["s2"]), h.make_node("Identity", ["s2"], ["o"])], "body",
                        [h.make_tensor_value_info("s", T.FLOAT16, [2]), h.make_tensor_value_info("x", T.FLOAT16, [2])],
                        [h.make_tensor_value_info("s2", T.FLOAT16, [2]), h.make_tensor_value_info("o", T.FLOAT16, [2])])
    scan = h.make_graph([h.make_node("Scan", ["init", "xs"], ["fin", "ys"], body=body, num_scan_inputs=1)], "scan_f16",
                        [h.make_tensor_value_info("init", T.FLOAT16, [2]), h.make_tensor_value_info("xs", T.FLOAT16, [4, 2])],
                        [h.make_tensor_value_info("fin", T.FLOAT16, [2]), h.make_tensor_value_info("ys", T.FLOAT16, [4, 2])])
    seq = h.make_graph([h.make_node("SequenceConstruct", ["a", "b"], ["sq"]),
                        h.make_node("ConcatFromSequence", ["sq"], ["y"], axis=0),
                        h.make_node("SequenceAt", ["sq", "i"], ["z"])], "seq_f16",
                       [h.make_tensor_value_info("a", T.FLOAT16, [2]), h.make_tensor_value_info("b", T.FLOAT16, [2])],
                       [h.make_tensor_value_info("y", T.FLOAT16, [4]), h.make_tensor_value_info("z", T.FLOAT16, [2])],
                       [nh.from_array(np.array(1, np.int64), "i")])
    cases = [(scan, {"init": np.array([0.1, 1000], np.float16),
                     "xs": np.array([[1, 0.3], [2, 0.3], [3, 0.3], [4, 0.3]], np.float16)}),
             (seq, {"a": np.array([1, 2], np.float16), "b": np.array([3, -4], np.float16)})]
    for g, feeds in cases:
        path = save(g, work, g.name)
        got = run_dlc(dlc, path, feeds, work, opt)
        if got is not None:
            want = ReferenceEvaluator(path).run(None, feeds)
            for o, w in zip(g.output, want):
                same_bits("%s: %s %s vs onnx's reference" % (opt, g.name, o.name), got[o.name], w)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--keep", help="keep the models and data in this folder")
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="dlc-lowp-")
    os.makedirs(work, exist_ok=True)
    for opt in ("-O0", "-O2"):
        test_casts(a.dlc, work, opt)
        test_network(a.dlc, work, opt)
        test_big_weight(a.dlc, work, opt)
        test_constant_operands(a.dlc, work, opt)
        test_quantize(a.dlc, work, opt)
        test_if(a.dlc, work, opt)
        test_scan_and_sequences(a.dlc, work, opt)
    print("lowp_test: %s" % ("ok" if not failures else "%d failures" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
