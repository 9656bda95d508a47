#!/usr/bin/env python3
"""preview_test.py --dlc DLC: the operators of the preview domains (ai.onnx.preview.training's
Adagrad, Adam and Momentum; ai.onnx.preview's FlexAttention) at shapes, dtypes and
attribute values the ONNX node tests do not reach, then what dlc refuses, each with one
line naming the node and what it refuses.

The oracle is ONNX's reference evaluator: ONNX Runtime (1.32) registers none of these
operators.  Each model is compiled and run by `dlc run --check` (which also compares the
compiled code with dlc's own interpreter) on seeded inputs; float32 and float64 outputs
must agree within TOL (relative, over |want| + TOL), float16 and bfloat16 ones bit for bit.

Needs numpy, ml_dtypes and onnx (tools/pyenv.sh).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
import onnx.helper as oh
from onnx import TensorProto as TP
from onnx.reference import ReferenceEvaluator

TRAIN, PREVIEW = "ai.onnx.preview.training", "ai.onnx.preview"
NP = {np.dtype(np.float32): TP.FLOAT, np.dtype(np.float64): TP.DOUBLE, np.dtype(np.int64): TP.INT64,
      np.dtype(np.float16): TP.FLOAT16, np.dtype(ml_dtypes.bfloat16): TP.BFLOAT16}
TOL = 1e-5


def model(domain, op, feeds, outs, **attrs):
    node = oh.make_node(op, list(feeds), outs, domain=domain, name="n", **attrs)
    ins = [oh.make_tensor_value_info(k, NP[v.dtype], list(v.shape)) for k, v in feeds.items()]
    g = oh.make_graph([node], op.lower(), ins, [oh.make_empty_tensor_value_info(o) for o in outs])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 26), oh.make_opsetid(domain, 1)], ir_version=10)


def optimizer(op, groups, states, t, dtype, seed, **attrs):
    """R, T and `groups` tensors of each kind (X, G, the states) of shapes [k + 1, 3]."""
    r = np.random.default_rng(seed)
    feeds = {"R": np.array(0.1, np.float32), "T": np.array(t, np.int64)}
    for kind in ["X", "G"] + states:
        for i in range(groups):
            a = r.standard_normal((i + 1, 3))
            feeds[f"{kind}{i}"] = (np.abs(a) if kind == "H" else a).astype(dtype)  # H: squared sums
    outs = [f"{kind}{i}_new" for kind in ["X"] + states for i in range(groups)]
    return model(TRAIN, op, feeds, outs, **attrs), feeds


def body(name, nodes, inits, dtype=TP.FLOAT):
    return oh.make_graph(nodes, name, [oh.make_tensor_value_info("s", dtype, None)],
                         [oh.make_tensor_value_info("s_out", dtype, None)], initializer=inits)


def causal_mod(dtype=TP.FLOAT):
    """score_mod: -inf above the diagonal (the query at i sees keys 0..i)."""
    i64 = lambda n, v: oh.make_tensor(n, TP.INT64, [len(v)] if isinstance(v, list) else [], v if isinstance(v, list) else [v])
    nodes = [oh.make_node("Shape", ["s"], ["sh"]),
             oh.make_node("Gather", ["sh", "two"], ["L"], axis=0), oh.make_node("Gather", ["sh", "three"], ["S"], axis=0),
             oh.make_node("Range", ["zero", "L", "one"], ["qr"]), oh.make_node("Range", ["zero", "S", "one"], ["kr"]),
             oh.make_node("Reshape", ["qr", "qs"], ["q"]), oh.make_node("Reshape", ["kr", "ks"], ["k"]),
             oh.make_node("GreaterOrEqual", ["q", "k"], ["m"]),
             oh.make_node("CastLike", ["ninf", "s"], ["ninf_t"]),
             oh.make_node("Where", ["m", "s", "ninf_t"], ["s_out"])]
    inits = [i64("zero", 0), i64("one", 1), i64("two", 2), i64("three", 3), i64("qs", [-1, 1]), i64("ks", [1, -1]),
             oh.make_tensor("ninf", TP.FLOAT, [], [-np.inf])]
    return body("causal", nodes, inits, dtype)


def square_mod(dtype=TP.FLOAT):
    """prob_mod: p * p, the rows no longer summing to one."""
    return body("square", [oh.make_node("Mul", ["s", "s"], ["s_out"])], [], dtype)


def flex(name, q, k, v, seed, dtype=np.float32, **attrs):
    r = np.random.default_rng(seed)
    feeds = {n: r.standard_normal(s).astype(dtype) for n, s in (("Q", q), ("K", k), ("V", v))}
    return name, model(PREVIEW, "FlexAttention", feeds, ["Y"], **attrs), feeds


def cases():
    yield ("adagrad_two_groups", *optimizer("Adagrad", 2, ["H"], 3, np.float32, 1, decay_factor=0.5, epsilon=1e-3,
                                             norm_coefficient=0.01))
    yield ("adagrad_f64_defaults", *optimizer("Adagrad", 1, ["H"], 0, np.float64, 2))
    yield ("adam_t0_no_correction", *optimizer("Adam", 2, ["V", "H"], 0, np.float32, 3, alpha=0.8, beta=0.7,
                                                norm_coefficient_post=0.1))
    # one group: the reference gives float32 results for several groups of float64 ones
    # (op_adam.py casts them), where the specification keeps the inputs' type
    yield ("adam_t7_f64", *optimizer("Adam", 1, ["V", "H"], 7, np.float64, 4, epsilon=1e-4, norm_coefficient=0.02))
    yield ("adam_t7_three_groups", *optimizer("Adam", 3, ["V", "H"], 7, np.float32, 4, epsilon=1e-4))
    yield ("momentum_t0_beta_one", *optimizer("Momentum", 2, ["V"], 0, np.float32, 5, alpha=0.9, beta=0.3,
                                               mode="standard", norm_coefficient=0.05))
    yield ("nesterov_t4_f64", *optimizer("Momentum", 2, ["V"], 4, np.float64, 6, alpha=0.7, beta=0.2,
                                          mode="nesterov", norm_coefficient=0.0))
    yield flex("flex_gqa_causal_square", (2, 4, 5, 8), (2, 2, 5, 8), (2, 2, 5, 3), 7, score_mod=causal_mod(),
               prob_mod=square_mod(), scale=0.3)
    yield flex("flex_f64_causal_longer_keys", (1, 3, 4, 6), (1, 3, 7, 6), (1, 3, 7, 5), 8, np.float64,
               score_mod=causal_mod(TP.DOUBLE))
    yield flex("flex_f32_softmax_in_f16", (1, 2, 6, 8), (1, 1, 9, 8), (1, 1, 9, 4), 9, softmax_precision=TP.FLOAT16,
               prob_mod=square_mod(TP.FLOAT16))
    yield flex("flex_bf16_causal", (1, 2, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8), 10, ml_dtypes.bfloat16,
               score_mod=causal_mod())
    yield flex("flex_f16_gqa", (2, 6, 3, 16), (2, 2, 4, 16), (2, 2, 4, 8), 11, np.float16)
    yield flex("flex_bf16_softmax_in_bf16", (1, 2, 4, 8), (1, 2, 6, 8), (1, 2, 6, 8), 12, ml_dtypes.bfloat16,
               softmax_precision=TP.BFLOAT16, score_mod=causal_mod(TP.BFLOAT16))


def refusals():
    m, _ = optimizer("Momentum", 1, ["V"], 1, np.float32, 0, alpha=0.9, beta=0.1, mode="heavy_ball", norm_coefficient=0.0)
    yield "momentum_unknown_mode", m, "mode 'heavy_ball' is not supported"
    m, _ = optimizer("Momentum", 1, ["V"], 1, np.float32, 0, beta=0.1, mode="standard", norm_coefficient=0.0)
    yield "momentum_no_alpha", m, "needs attribute 'alpha'"
    m, _ = optimizer("Adam", 1, ["V", "H"], 1, np.float32, 0, decay_factor=0.1)
    yield "adam_decay_factor", m, "attribute 'decay_factor'"
    m, _ = optimizer("Adagrad", 1, ["H", "V"], 1, np.float32, 0)
    yield "adagrad_four_per_group", m, "tensors per optimized input"
    _, m, _ = flex("flex_rank3", (2, 5, 8), (2, 5, 8), (2, 5, 8), 0)
    yield "flex_rank3", m, "must have rank 4"
    _, m, _ = flex("flex_heads", (1, 3, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8), 0)
    yield "flex_heads", m, "3 query heads do not group over 2 key heads"
    _, m, _ = flex("flex_mask_mod", (1, 2, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8), 0, mask_mod=square_mod())
    yield "flex_mask_mod", m, "attribute 'mask_mod'"
    _, m, _ = flex("flex_negative_scale", (1, 2, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8), 0, scale=-0.5)
    yield "flex_negative_scale", m, "scale -0.5 is not supported"
    bad = body("two", [oh.make_node("Identity", ["s"], ["s_out"]), oh.make_node("Identity", ["s"], ["t"])], [])
    bad.output.append(oh.make_tensor_value_info("t", TP.FLOAT, None))
    _, m, _ = flex("flex_two_outputs", (1, 2, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8), 0, score_mod=bad)
    yield "flex_two_outputs", m, "score_mod has 2 outputs"


def compare(name, got, want):
    if got.dtype.kind == "V":  # bfloat16 comes back as two raw bytes
        got = got.view(ml_dtypes.bfloat16)
    if got.dtype != want.dtype or got.shape != want.shape:
        return f"{name} is {got.dtype}{list(got.shape)}, the reference's {want.dtype}{list(want.shape)}"
    if want.dtype.itemsize == 2:
        diff = np.flatnonzero(got.view(np.uint16) != want.view(np.uint16))
        return f"{name}: {diff.size} of {want.size} differ in their bits (first {got.flat[diff[0]]} for " \
               f"{want.flat[diff[0]]})" if diff.size else None
    err = np.max(np.abs(got.astype(np.float64) - want) / (np.abs(want) + TOL), initial=0)
    return f"{name}: relative error {err:.3g}" if not err <= TOL else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-preview-") as work:
        os.environ["TMPDIR"] = work
        for name, m, feeds in cases():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            cmd = [args.dlc, "run", path, "--check", "--output", os.path.join(work, name)]
            for k, v in feeds.items():
                np.save(os.path.join(work, f"{name}.{k}.npy"), v)
                cmd += ["--input", f"{k}={os.path.join(work, f'{name}.{k}.npy')}"]
            want = ReferenceEvaluator(m).run(None, feeds)
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: {r.stderr.strip()}")
                bad += 1
                continue
            msgs = [compare(o.name, np.load(os.path.join(work, name, o.name + ".npy")), np.asarray(w))
                    for o, w in zip(m.graph.output, want)]
            msgs = [x for x in msgs if x]
            print(f"{'FAIL' if msgs else 'ok  '} {name}{': ' + '; '.join(msgs) if msgs else ''}")
            bad += bool(msgs)
        for name, m, want in refusals():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            r = subprocess.run([args.dlc, "compile", path, "-o", os.path.join(work, name + ".c")],
                               capture_output=True, text=True)
            err = r.stderr.strip()
            ok = r.returncode == 1 and want in err and "node 'n'" in err and len(err.splitlines()) == 1
            print(f"{'ok  ' if ok else 'FAIL'} refused {name}: {err}")
            bad += not ok
    print(f"FAIL: {bad} case(s)" if bad else "all preview-domain cases agree with ONNX's reference")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
