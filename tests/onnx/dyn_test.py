#!/usr/bin/env python3
"""dyn_test.py --dlc DLC: results whose length depends on the data (NonZero, Unique,
NonMaxSuppression, Compress with a run-time condition, TopK with a run-time K) against
ONNX Runtime.

dlc pads such a result to a bound known at compile time and computes its real length
beside it (the output NAME.count); `dlc run` writes only the real part.  Each model runs
under `dlc run --check` (the generated code against the interpreter, padding included),
its outputs compared with ONNX Runtime's, shapes included; then the same model through
`dlc dump` (the text format's `output ... extent AXIS COUNT`) and `dlc run` of the dump
must give the same files, and (with --lib) the Python module the same arrays.  Such
results through operators that work position by position (Transpose, Cast, broadcast
arithmetic, Where), through the reductions (over the padded axis: the padding filled
with the identity, a mean by the real count; over another: still padded) and through
operators that work slice by slice along another axis (MatMul, Gemm, Softmax,
LayerNormalization, Concat, Split, Slice, Reshape, Flatten, Squeeze, Unsqueeze, ArgMax,
ArgMin, Gather's data, GatherElements' indices, Expand, Tile, Pad, Resize, TopK, Trilu, OneHot; CumSum along it too; Conv, pooling and the norms along the batch
axis) are compared the same way; a padded result read by any other operator, or combined with an operand it
cannot broadcast, is refused with one line.

--cuda: every `dlc run` with `--target cuda` (the CUDA backend; under tests/cuda's CPU
emulator where there is no GPU, as cuda.emulated_dyn), the Python module left out, and
of the feeds of each case through operators the first two (some rows selected, none).

Needs: numpy, onnx, onnxruntime (the test tooling's Python, tools/pyenv.sh).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
from onnx import TensorProto

TARGET = []  # --cuda: ["--target", "cuda"]
TYPES = {np.float32: TensorProto.FLOAT, np.int64: TensorProto.INT64, np.int32: TensorProto.INT32,
         np.bool_: TensorProto.BOOL}


def model(node, x, outs):
    g = oh.make_graph([node], "dyn", [oh.make_tensor_value_info("x", TYPES[x.dtype.type], list(x.shape))],
                      [oh.make_tensor_value_info(o, TYPES[x.dtype.type] if o == "y" and node.op_type == "Unique"
                                                 else TensorProto.INT64, None) for o in outs])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])


def cases():
    rng = np.random.default_rng(11)
    for shape in ((7,), (3, 5), (2, 3, 4), (2, 1, 3, 2)):
        for dt in (np.float32, np.int64, np.bool_):
            x = rng.integers(-1, 2, shape) * (rng.random(shape) < 0.6)
            yield "nonzero_%s_%s" % ("x".join(map(str, shape)), dt.__name__), oh.make_node("NonZero", ["x"], ["y"]), x.astype(dt), ["y"]
    x = np.zeros((2, 3), np.float32)
    yield "nonzero_none", oh.make_node("NonZero", ["x"], ["y"]), x, ["y"]
    outs = ["y", "indices", "inverse", "counts"]
    for sorted_ in (1, 0):
        for axis, shape in ((None, (12,)), (None, (3, 4)), (0, (5, 3)), (1, (3, 6)), (-1, (2, 3, 4)), (1, (2, 5, 2))):
            x = rng.integers(0, 3, shape).astype(np.int64)
            if axis is not None and len(shape) > 1:  # repeat a slice so that some are equal
                sl = [slice(None)] * len(shape)
                sl2 = list(sl)
                sl[axis], sl2[axis] = 0, -1
                x[tuple(sl2)] = x[tuple(sl)]
            kw = {"sorted": sorted_} if axis is None else {"sorted": sorted_, "axis": axis}
            name = "unique_%s_axis%s_sorted%d" % ("x".join(map(str, shape)), axis, sorted_)
            yield name, oh.make_node("Unique", ["x"], outs, **kw), x, outs
    x = rng.standard_normal(9).astype(np.float32).round(0)
    yield "unique_float", oh.make_node("Unique", ["x"], ["y", "", "", "counts"]), x, ["y", "counts"]


def run(dlc, path, x, out, extra=()):
    np.save(os.path.join(out + ".x.npy"), x)
    p = subprocess.run([dlc, "run", path, "--input", "x=" + out + ".x.npy", "--output", out] + TARGET + list(extra),
                       capture_output=True, text=True, timeout=120)
    return p


def run_feeds(dlc, tmp, name, graph, feeds, outs, rtol=0, want=None):
    """Saves graph as NAME.onnx, runs it under `dlc run --check` on the feeds and compares
    each output with ONNX Runtime's (or with want), shapes included (values exactly, or
    within rtol, NaN matching NaN): None, or why it failed."""
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)]), path)
    if want is None:
        want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
    out = os.path.join(tmp, name)
    args = [dlc, "run", path, "--output", out, "--check"] + TARGET
    for k, v in feeds.items():
        np.save(os.path.join(tmp, "%s_%s.npy" % (name, k)), v)
        args += ["--input", "%s=%s" % (k, os.path.join(tmp, "%s_%s.npy" % (name, k)))]
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if p.returncode:
        return (p.stderr or p.stdout).strip()
    for o, w in zip(outs, want):
        got = np.load(os.path.join(out, o + ".npy"))
        same = np.allclose(got, w, rtol=rtol, atol=0, equal_nan=True) if rtol else np.array_equal(got, w)
        if got.shape != w.shape or not same:
            return "%s %s %r, ONNX Runtime %s %r" % (o, got.shape, got.tolist(), w.shape, w.tolist())
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--lib", help="libdlc: also run each model through the Python module")
    ap.add_argument("--exported", help="the folder dynamic_export.py wrote (its masked_rows.onnx: torch's x[mask])")
    ap.add_argument("--cuda", action="store_true", help="run every case on the CUDA backend (--target cuda)")
    a = ap.parse_args()
    global TARGET
    TARGET = ["--target", "cuda"] if a.cuda else []
    few = (lambda fs: list(fs)[:2]) if a.cuda else list
    dlc_py = None
    if a.lib:
        os.environ["DLC_LIBRARY"] = a.lib
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "python"))
        import dlc as dlc_py
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-dyn-") as tmp:
        for name, node, x, outs in cases():
            m = model(node, x, outs)
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(m, path)
            want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(outs, {"x": x})
            out = os.path.join(tmp, name)
            p = run(a.dlc, path, x, out, ["--check"])
            why = None
            if p.returncode:
                why = (p.stderr or p.stdout).strip()
            else:
                for o, w in zip(outs, want):
                    g = np.load(os.path.join(out, o + ".npy"))
                    if g.shape != w.shape or not np.array_equal(g, w):
                        why = "%s: %s %r, ONNX Runtime %s %r" % (o, g.shape, g.tolist(), w.shape, w.tolist())
                        break
            if not why and dlc_py:  # the Python module trims too
                with dlc_py.compile(path) as pm:
                    got = pm.run(x=x)
                for o, w in zip(outs, want):
                    if got[o].shape != w.shape or not np.array_equal(got[o], w):
                        why = "Python module: %s %s, ONNX Runtime %s" % (o, got[o].shape, w.shape)
            if not why:  # the text format keeps the extents
                dump = os.path.join(tmp, name + ".dlc")
                d = subprocess.run([a.dlc, "dump", path], capture_output=True, text=True)
                with open(dump, "w") as f:
                    f.write(d.stdout)
                if d.returncode or " extent " not in d.stdout:
                    why = "dlc dump: %s" % (d.stderr.strip() or "no extent in the text")
                else:
                    p2 = run(a.dlc, dump, x, out + "_dump")
                    if p2.returncode:
                        why = "dlc run of the dump: %s" % p2.stderr.strip()
                    else:
                        for o in outs:
                            g1, g2 = np.load(os.path.join(out, o + ".npy")), np.load(os.path.join(out + "_dump", o + ".npy"))
                            if g1.shape != g2.shape or not np.array_equal(g1, g2):
                                why = "%s differs after dlc dump" % o
            bad += why is not None
            print("%s %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
        # NonMaxSuppression: boxes, scores and both thresholds given at run time
        rng = np.random.default_rng(4)
        for center in (0, 1):
            for most, thr in ((3, 0.0), (10, -1.0), (2, 0.3)):
                name = "nms_center%d_max%d" % (center, most)
                xy = rng.random((2, 12, 2)).astype(np.float32) * 4
                wh = rng.random((2, 12, 2)).astype(np.float32) + 0.5
                boxes = np.concatenate([xy, wh], 2) if center else np.concatenate([xy, xy + wh], 2)[..., [1, 0, 3, 2]]
                feeds = {"boxes": boxes, "scores": rng.random((2, 3, 12)).astype(np.float32),
                         "iou": np.array([0.4], np.float32), "sthr": np.array([thr], np.float32)}
                g = oh.make_graph([oh.make_node("NonMaxSuppression", ["boxes", "scores", "most", "iou", "sthr"], ["sel"],
                                                center_point_box=center)], "nms",
                                  [oh.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in feeds.items()],
                                  [oh.make_tensor_value_info("sel", TensorProto.INT64, None)],
                                  [onnx.numpy_helper.from_array(np.array([most], np.int64), "most")])
                why = run_feeds(a.dlc, tmp, name, g, feeds, ["sel"])
                bad += why is not None
                print("%s %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
        # Compress with a condition, TopK with a K, known only at run time
        rng = np.random.default_rng(9)
        x = rng.standard_normal((5, 4)).astype(np.float32)
        cases2 = []
        for axis in (0, 1, None):
            n = 20 if axis is None else x.shape[axis]
            for cond in (rng.random(n) < 0.5, np.zeros(n, bool), np.ones(n - 1, bool)):
                kw = {} if axis is None else {"axis": axis}
                cases2.append(("compress_axis%s_%d" % (axis, int(cond.sum())), oh.make_node("Compress", ["x", "c"], ["y"], **kw),
                               {"x": x, "c": cond}, ["y"]))
        for axis, largest in ((1, 1), (0, 0), (-1, 1)):
            for k in (0, 1, 3):
                cases2.append(("topk_axis%d_largest%d_k%d" % (axis, largest, k),
                               oh.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis, largest=largest),
                               {"x": x, "k": np.array([k], np.int64)}, ["v", "i"]))
        for name, node, feeds, outs in cases2:
            types = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64, np.dtype(bool): TensorProto.BOOL}
            g = oh.make_graph([node], name, [oh.make_tensor_value_info(k, types[v.dtype], list(v.shape)) for k, v in feeds.items()],
                              [oh.make_tensor_value_info(o, TensorProto.INT64 if o == "i" else TensorProto.FLOAT, None) for o in outs])
            why = run_feeds(a.dlc, tmp, name, g, feeds, outs)
            bad += why is not None
            print("%s %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
        # a K over the axis fails the run with one line
        path = os.path.join(tmp, "topk_axis1_largest1_k0.onnx")
        np.save(os.path.join(tmp, "k9.npy"), np.array([9], np.int64))
        np.save(os.path.join(tmp, "x.npy"), x)
        p = subprocess.run([a.dlc, "run", path, "--input", "k=" + os.path.join(tmp, "k9.npy"), "--input",
                            "x=" + os.path.join(tmp, "x.npy")] + TARGET, capture_output=True, text=True, timeout=120)
        ok = p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "out of range" in p.stderr
        bad += not ok
        print("%s TopK with K over the axis fails the run%s" % ("ok" if ok else "FAIL", "" if ok else ": " + p.stderr))
        # a padded result through operators that work position by position, to outputs:
        # torch.nonzero's NonZero -> Transpose; a Cast, a scalar and a [1, 1] broadcast;
        # Unique's values through Where; two outputs sharing one count
        T, vi = TensorProto, oh.make_tensor_value_info
        c = lambda name, arr: onnx.numpy_helper.from_array(np.asarray(arr), name)
        x = np.array([[0, 1.5, 0, 2], [3, 0, 0, 0], [0, 0, 5, -6]], np.float32)
        through = [
            ("through_transpose", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Transpose", ["nz"], ["y"])],
             [], ["y"], [T.INT64]),
            ("through_cast_mul_add", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                                      oh.make_node("Mul", ["f", "two"], ["m"]), oh.make_node("Add", ["m", "bias"], ["y"])],
             [c("two", np.float32(2)), c("bias", np.array([[0.5], [-1]], np.float32))], ["y"], [T.FLOAT]),
            ("through_two_outputs", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Transpose", ["nz"], ["t"], perm=[1, 0]),
                                     oh.make_node("Neg", ["nz"], ["n"])], [], ["t", "n"], [T.INT64, T.INT64]),
            ("through_unique_where", [oh.make_node("Unique", ["x"], ["u"]), oh.make_node("Greater", ["u", "zero"], ["pos"]),
                                      oh.make_node("Where", ["pos", "u", "zero"], ["y"])],
             [c("zero", np.float32(0))], ["y"], [T.FLOAT]),
        ]
        # torch's x[mask]: NonZero, Transpose, GatherND; a Gather by padded indices
        through += [
            ("through_mask_index", [oh.make_node("Greater", ["x", "zero"], ["mask"]), oh.make_node("NonZero", ["mask"], ["nz"]),
                                    oh.make_node("Transpose", ["nz"], ["idx"]), oh.make_node("GatherND", ["x", "idx"], ["y"])],
             [c("zero", np.float32(0))], ["y"], [T.FLOAT]),
            ("through_gather", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Gather", ["table", "nz"], ["y"], axis=0)],
             [c("table", np.arange(40, dtype=np.float32).reshape(4, 10))], ["y"], [T.FLOAT]),
        ]
        for name, nodes, inits, outs, types in through:
            g = oh.make_graph(nodes, name, [vi("x", T.FLOAT, [3, 4])], [vi(o, t, None) for o, t in zip(outs, types)], inits)
            for k, xv in enumerate(few((x, np.zeros((3, 4), np.float32), np.ones((3, 4), np.float32)))):
                why = run_feeds(a.dlc, tmp, "%s_%d" % (name, k), g, {"x": xv}, outs)
                bad += why is not None
                print("%s %s (feed %d)%s" % ("FAIL" if why else "ok", name, k, ": " + why if why else ""))
        # reductions: over the padded axis the padding holds the identity and a mean
        # divides by the real count (torch's x[mask].sum(), .mean(), .max(); an empty mask
        # gives ONNX's empty-set values); over another axis the result stays padded
        mask_idx = [oh.make_node("Greater", ["x", "zero"], ["mask"]), oh.make_node("NonZero", ["mask"], ["nz"]),
                    oh.make_node("Transpose", ["nz"], ["idx"]), oh.make_node("GatherND", ["x", "idx"], ["v"])]
        zero = [c("zero", np.float32(0))]
        reductions = [(op, mask_idx + [oh.make_node(op, ["v"], ["y"], keepdims=0)], zero, ["y"], [T.FLOAT])
                      for op in ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                                 "ReduceSumSquare", "ReduceLogSumExp")]
        reductions += [
            ("ReduceSum_masked", mask_idx + [oh.make_node("ReduceSum", ["v", "ax0"], ["y"], keepdims=0)],
             zero + [c("ax0", np.array([0], np.int64))], ["y"], [T.FLOAT]),
            ("ReduceMax_int_keepdims", [oh.make_node("NonZero", ["x"], ["nz"]),
                                        oh.make_node("ReduceMax", ["nz"], ["y"], axes=[1], keepdims=1)],
             [], ["y"], [T.INT64]),
            ("ReduceMin_int_all", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("ReduceMin", ["nz"], ["y"], keepdims=0)],
             [], ["y"], [T.INT64]),
            ("ReduceMean_int", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Add", ["nz", "ten"], ["t"]),
                                oh.make_node("ReduceMean", ["t"], ["y"], axes=[-1], keepdims=0)],
             [c("ten", np.int64(10))], ["y"], [T.INT64]),
            ("ReduceSum_other_axis", [oh.make_node("NonZero", ["x"], ["nz"]),
                                      oh.make_node("ReduceSum", ["nz", "ax0"], ["s"], keepdims=0),
                                      oh.make_node("Mul", ["s", "two"], ["y"])],
             [c("ax0", np.array([0], np.int64)), c("two", np.int64(2))], ["y"], [T.INT64]),
            ("ReduceMax_other_axis_keepdims", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Transpose", ["nz"], ["t"]),
                                               oh.make_node("ReduceMax", ["t"], ["y"], axes=[1], keepdims=1)],
             [], ["y"], [T.INT64]),
        ]
        feeds = (x, np.zeros((3, 4), np.float32), np.ones((3, 4), np.float32),
                 np.array([[0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], np.float32))
        for name, nodes, inits, outs, types in reductions:
            g = oh.make_graph(nodes, name, [vi("x", T.FLOAT, [3, 4])], [vi(o, t, None) for o, t in zip(outs, types)], inits)
            for k, xv in enumerate(few(feeds)):
                # ONNX leaves the mean of an empty set undefined (ONNX Runtime gives 0): dlc
                # gives NaN, as numpy, torch, and dlc for an empty axis of static length do
                want = [np.array(np.nan, np.float32)] if name == "ReduceMean" and not (xv > 0).any() else None
                why = run_feeds(a.dlc, tmp, "%s_%d" % (name, k), g, {"x": xv}, outs, rtol=1e-5, want=want)
                bad += why is not None
                print("%s %s (feed %d)%s" % ("FAIL" if why else "ok", name, k, ": " + why if why else ""))
        # operators that work slice by slice along another axis (torch's x[rows] through a
        # Linear, a softmax, a layer norm, unsqueeze and squeeze, a concat): still padded
        rng = np.random.default_rng(5)
        w = lambda name, *shape: c(name, rng.standard_normal(shape).astype(np.float32))
        rows_idx = [oh.make_node("ReduceMax", ["x"], ["rmax"], axes=[1], keepdims=0),
                    oh.make_node("Greater", ["rmax", "zero"], ["rmask"]), oh.make_node("NonZero", ["rmask"], ["nz"]),
                    oh.make_node("Transpose", ["nz"], ["idx"]), oh.make_node("GatherND", ["x", "idx"], ["rows"])]
        rowwise = [
            ("rows_linear_softmax", rows_idx + [oh.make_node("MatMul", ["rows", "W"], ["h"]), oh.make_node("Add", ["h", "b"], ["hb"]),
                                                oh.make_node("Relu", ["hb"], ["r"]), oh.make_node("Softmax", ["r"], ["y"], axis=-1)],
             zero + [w("W", 4, 5), w("b", 5)]),
            ("rows_gemm", rows_idx + [oh.make_node("Gemm", ["rows", "W", "b"], ["y"], transB=1, alpha=0.5)],
             zero + [w("W", 3, 4), w("b", 3)]),
            ("rows_matmul_vector", rows_idx + [oh.make_node("MatMul", ["rows", "v"], ["y"])], zero + [w("v", 4)]),
            ("rows_batched_matmul", rows_idx + [oh.make_node("Unsqueeze", ["rows", "ax1"], ["r3"]),
                                                oh.make_node("MatMul", ["r3", "W"], ["y"])],
             zero + [c("ax1", np.array([1], np.int64)), w("W", 1, 4, 2)]),
            ("rows_layernorm", rows_idx + [oh.make_node("LayerNormalization", ["rows", "s", "b"], ["y"], axis=-1)],
             zero + [w("s", 4), w("b", 4)]),
            ("rows_logsoftmax_t", rows_idx + [oh.make_node("Transpose", ["rows"], ["t"]),
                                              oh.make_node("LogSoftmax", ["t"], ["y"], axis=0)], zero),
            ("rows_unsqueeze_squeeze", rows_idx + [oh.make_node("Unsqueeze", ["rows", "ax0"], ["u"]),
                                                   oh.make_node("Neg", ["u"], ["nu"]),
                                                   oh.make_node("Squeeze", ["nu", "ax0"], ["y"])],
             zero + [c("ax0", np.array([0, 2], np.int64))]),
            ("rows_concat", rows_idx + [oh.make_node("Mul", ["rows", "two"], ["r2"]),
                                        oh.make_node("Concat", ["rows", "r2"], ["y"], axis=1)],
             zero + [c("two", np.float32(2))]),
            ("rows_reshape", rows_idx + [oh.make_node("Reshape", ["rows", "shape"], ["y"])],
             zero + [c("shape", np.array([-1, 2, 2], np.int64))]),
            ("rows_flatten", rows_idx + [oh.make_node("Unsqueeze", ["rows", "ax1"], ["u"]),
                                         oh.make_node("Flatten", ["u"], ["y"], axis=1)],
             zero + [c("ax1", np.array([1], np.int64))]),
            ("rows_slice", rows_idx + [oh.make_node("Slice", ["rows", "st", "en", "ax1"], ["y"])],
             zero + [c("st", np.array([1], np.int64)), c("en", np.array([3], np.int64)), c("ax1", np.array([1], np.int64))]),
            ("rows_split", rows_idx + [oh.make_node("Split", ["rows", "parts"], ["p", "q"], axis=1),
                                       oh.make_node("Sub", ["p", "q"], ["y"])], zero + [c("parts", np.array([2, 2], np.int64))]),
            ("rows_conv_pool", rows_idx + [oh.make_node("Reshape", ["rows", "nchw"], ["img"]),
                                           oh.make_node("Conv", ["img", "cw", "cb"], ["cv"], pads=[1, 1, 1, 1]),
                                           oh.make_node("MaxPool", ["cv"], ["mp"], kernel_shape=[2, 2]),
                                           oh.make_node("BatchNormalization", ["mp", "bs", "bb", "bm", "bv"], ["bn"]),
                                           oh.make_node("GlobalAveragePool", ["bn"], ["gp"]),
                                           oh.make_node("Flatten", ["gp"], ["y"])],
             zero + [c("nchw", np.array([-1, 1, 2, 2], np.int64)), w("cw", 2, 1, 2, 2), w("cb", 2), w("bs", 2), w("bb", 2),
                     w("bm", 2), c("bv", np.array([0.5, 2], np.float32))]),
            ("rows_gather_columns", rows_idx + [oh.make_node("Gather", ["rows", "cols"], ["y"], axis=1)],
             zero + [c("cols", np.array([[3, 0], [1, 1]], np.int64))]),
            ("rows_expand", rows_idx + [oh.make_node("Unsqueeze", ["rows", "ax1"], ["u"]),
                                        oh.make_node("Expand", ["u", "to"], ["y"])],
             zero + [c("ax1", np.array([1], np.int64)), c("to", np.array([1, 3, 4], np.int64))]),
            ("rows_tile", rows_idx + [oh.make_node("Tile", ["rows", "reps"], ["y"])], zero + [c("reps", np.array([1, 2], np.int64))]),
            ("rows_pad", rows_idx + [oh.make_node("Pad", ["rows", "pads", "pv"], ["p"]),
                                     oh.make_node("Pad", ["p", "pads2"], ["y"], mode="reflect")],
             zero + [c("pads", np.array([0, 1, 0, 2], np.int64)), c("pv", np.float32(-3)),
                     c("pads2", np.array([0, 2, 0, 1], np.int64))]),
            ("rows_crop_resize", rows_idx + [oh.make_node("Reshape", ["rows", "nchw"], ["img"]),
                                             oh.make_node("Resize", ["img", "", "sc"], ["up"], mode="linear"),
                                             oh.make_node("Resize", ["up", "", "sc2"], ["nn"], mode="nearest"),
                                             oh.make_node("Flatten", ["nn"], ["y"])],
             zero + [c("nchw", np.array([-1, 1, 2, 2], np.int64)), c("sc", np.array([1, 1, 2, 1.5], np.float32)),
                     c("sc2", np.array([1, 1, 0.75, 1.7], np.float32))]),
            ("rows_topk", rows_idx + [oh.make_node("TopK", ["rows", "k2"], ["tv", "ti"], axis=1),
                                      oh.make_node("Cast", ["ti"], ["tf"], to=T.FLOAT), oh.make_node("Add", ["tv", "tf"], ["y"])],
             zero + [c("k2", np.array([2], np.int64))]),
            ("rows_trilu", rows_idx + [oh.make_node("Reshape", ["rows", "r22"], ["m"]),
                                       oh.make_node("Trilu", ["m"], ["tu"], upper=0),
                                       oh.make_node("Flatten", ["tu"], ["y"])],
             zero + [c("r22", np.array([-1, 2, 2], np.int64))]),
            ("rows_onehot", rows_idx + [oh.make_node("ArgMax", ["rows"], ["am"], axis=1, keepdims=0),
                                        oh.make_node("OneHot", ["am", "depth", "offon"], ["y"], axis=-1)],
             zero + [c("depth", np.array(4, np.int64)), c("offon", np.array([0, 1], np.float32))]),
            ("rows_gather_elements_by", rows_idx + [oh.make_node("ArgMax", ["rows"], ["am"], axis=1, keepdims=1),
                                                    oh.make_node("GatherElements", ["table", "am"], ["y"], axis=1)],
             zero + [c("table", np.arange(12, dtype=np.float32).reshape(3, 4) * 10)]),
            # float16 (computed in float32 inside dlc, the padded length kept): through a
            # Slice, a Neg and a ReduceMax over the padded axis, each exact in float16
            ("rows_float16", rows_idx + [oh.make_node("Cast", ["rows"], ["h"], to=T.FLOAT16),
                                         oh.make_node("Slice", ["h", "s1", "s3", "ax1"], ["hs"]),
                                         oh.make_node("Neg", ["hs"], ["hn"]),
                                         oh.make_node("ReduceMax", ["hn"], ["hm"], axes=[0], keepdims=0),
                                         oh.make_node("Cast", ["hm"], ["y"], to=T.FLOAT)],
             zero + [c("s1", np.array([1], np.int64)), c("s3", np.array([3], np.int64)), c("ax1", np.array([1], np.int64))]),
            ("rows_argmax", rows_idx + [oh.make_node("ArgMax", ["rows"], ["am"], axis=1, keepdims=0),
                                        oh.make_node("ArgMin", ["rows"], ["an"], axis=-1, keepdims=0, select_last_index=1),
                                        oh.make_node("Sub", ["am", "an"], ["d"]), oh.make_node("Cast", ["d"], ["y"], to=T.FLOAT)],
             zero),
            ("rows_cumsum_reverse", rows_idx + [oh.make_node("CumSum", ["rows", "ax0"], ["y"], reverse=1)],
             zero + [c("ax0", np.array(0, np.int64))]),
            ("rows_cumsum_exclusive", rows_idx + [oh.make_node("CumSum", ["rows", "ax0"], ["cs"], exclusive=1),
                                                  oh.make_node("CumSum", ["cs", "ax1"], ["y"], reverse=1, exclusive=1)],
             zero + [c("ax0", np.array(0, np.int64)), c("ax1", np.array(1, np.int64))]),
        ]
        for name, nodes, inits in rowwise:
            g = oh.make_graph(nodes, name, [vi("x", T.FLOAT, [3, 4])], [vi("y", T.FLOAT, None)], inits)
            for k, xv in enumerate(few(feeds)):
                why = run_feeds(a.dlc, tmp, "%s_%d" % (name, k), g, {"x": xv}, ["y"], rtol=1e-5)
                bad += why is not None
                print("%s %s (feed %d)%s" % ("FAIL" if why else "ok", name, k, ": " + why if why else ""))
        # the same from PyTorch (dynamic_export.py): x[x.sum(1) > 0] through a Linear, a
        # LayerNorm and a softmax, summed over the rows, its maximum and mean
        if a.exported:
            path = os.path.join(a.exported, "masked_rows.onnx")
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            xs = rng.standard_normal((6, 8)).astype(np.float32)
            for k, xv in enumerate((xs, np.abs(xs), xs * np.array([[1], [-1], [-1], [-1], [-1], [-1]], np.float32), -np.abs(xs))):
                want = sess.run(None, {"x": xv})
                if not (xv.sum(1) > 0).any():  # the mean of no rows: NaN in dlc (above)
                    want[3] = np.full_like(want[3], np.nan)
                out = os.path.join(tmp, "masked_rows_%d" % k)
                np.save(out + ".x.npy", xv)
                p = subprocess.run([a.dlc, "run", path, "--input", "x=" + out + ".x.npy", "--output", out, "--check"] + TARGET,
                                   capture_output=True, text=True, timeout=120)
                why = (p.stderr or p.stdout).strip() if p.returncode else None
                for o, w in zip(("h", "s", "m", "mu"), want if not why else ()):
                    got = np.load(os.path.join(out, o + ".npy"))
                    if got.shape != w.shape or not np.allclose(got, w, rtol=1e-5, atol=1e-6, equal_nan=True):
                        why = "%s %s %r, ONNX Runtime %s %r" % (o, got.shape, got.tolist(), w.shape, w.tolist())
                bad += why is not None
                print("%s masked_rows from PyTorch (feed %d)%s" % ("FAIL" if why else "ok", k, ": " + why if why else ""))
        # indices whose padding would be out of range (0 - 7 for a table of 6) while the real
        # ones are not: the padding is zeroed before the gather, so the run does not fail
        g = oh.make_graph([oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Sub", ["nz", "seven"], ["i"]),
                           oh.make_node("Gather", ["table", "i"], ["y"], axis=0)], "gather_padding",
                          [vi("x", T.FLOAT, [6])], [vi("y", T.FLOAT, None)],
                          [c("seven", np.int64(7)), c("table", np.arange(6, dtype=np.float32) * 10)])
        for k, xv in enumerate((np.array([0, 1, 0, 2, 3, 0], np.float32), np.array([0, 1, 1, 1, 1, 1], np.float32))):
            why = run_feeds(a.dlc, tmp, "gather_padding_%d" % k, g, {"x": xv}, ["y"])
            bad += why is not None
            print("%s gather of padded indices (feed %d)%s" % ("FAIL" if why else "ok", k, ": " + why if why else ""))
        # what a padded value may not reach: one line naming it, exit 1
        refusals = [
            ("reads_nonzero", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("ScatterElements", ["nz", "nz", "nz"], ["y"])],
             [], ["depends on the data", "'nz'", "ScatterElements"]),
            ("gather_elements_padded", [oh.make_node("NonZero", ["x"], ["nz"]),
                                        oh.make_node("GatherElements", ["nz", "ge2"], ["y"], axis=1)],
             [c("ge2", np.zeros((2, 12), np.int64))],
             ["a gather reads such a value only as its indices, or as Gather's data along another axis"]),
            ("pad_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Pad", ["nz", "pads"], ["y"])],
             [c("pads", np.array([0, 1, 0, 1], np.int64))],
             ["would pad or crop input 'nz' along the axis whose length depends on the data"]),
            ("resize_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                               oh.make_node("Resize", ["f", "", "sc"], ["y"], mode="linear")],
             [c("sc", np.array([1, 2], np.float32))],
             ["would resize input 'f' along the axis whose length depends on the data"]),
            ("nonzero_full_operand", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Add", ["full", "nz"], ["y"])],
             [c("full", np.zeros((2, 12), np.int64))], ["input 'full' has 12 entries along the axis", "(input 'nz')"]),
            ("gather_padded_data", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Gather", ["nz", "one"], ["y"], axis=1)],
             [c("one", np.int64(1))], ["a gather reads such a value only as its indices, or as Gather's data along another axis"]),
            ("conv_padded_channels", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                                      oh.make_node("Unsqueeze", ["f", "ax0"], ["u"]), oh.make_node("Conv", ["u", "w121"], ["y"])],
             [c("ax0", np.array([0], np.int64)), c("w121", np.ones((1, 2, 1), np.float32))],
             ["input 'u' has a length that depends on the data along axis 2; Conv reads such a value only padded along "
              "its batch axis (0)"]),
            ("softmax_over_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                                     oh.make_node("Softmax", ["f"], ["y"], axis=1)], [],
             ["input 'f' has a length that depends on the data along an axis the operator normalizes over"]),
            ("matmul_contracts_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                                         oh.make_node("MatMul", ["f", "w12"], ["y"])], [c("w12", np.ones((12, 2), np.float32))],
             ["input 'f' has a length that depends on the data along the axis the product contracts"]),
            ("matmul_padded_b", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Cast", ["nz"], ["f"], to=T.FLOAT),
                                 oh.make_node("MatMul", ["w2", "f"], ["y"])], [c("w2", np.ones((3, 2), np.float32))],
             ["input 'f' has a length that depends on the data; MatMul reads such a value only as its first operand"]),
            ("concat_along_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Concat", ["nz", "nz"], ["y"], axis=1)],
             [], ["joins along the axis whose length depends on the data"]),
            ("concat_with_full", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Concat", ["nz", "full"], ["y"], axis=0)],
             [c("full", np.zeros((2, 12), np.int64))], ["input 'full' is not padded"]),
            ("squeeze_padded", [oh.make_node("Slice", ["x", "s0", "s1", "s0"], ["x1"]), oh.make_node("Flatten", ["x1"], ["f"], axis=0),
                                oh.make_node("Slice", ["f", "s0", "s1", "s1"], ["f1"]),
                                oh.make_node("NonZero", ["f1"], ["nz"]), oh.make_node("Squeeze", ["nz"], ["y"])],
             [c("s0", np.array([0], np.int64)), c("s1", np.array([1], np.int64))],
             ["would squeeze the axis of input 'nz' whose length depends on the data"]),
            ("tile_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Tile", ["nz", "reps"], ["y"])],
             [c("reps", np.array([1, 2], np.int64))], ["would repeat input 'nz' along the axis whose length depends on the data"]),
            ("expand_padded", [oh.make_node("Slice", ["x", "s0", "s1", "s0"], ["x1"]), oh.make_node("Flatten", ["x1"], ["f"], axis=0),
                               oh.make_node("Slice", ["f", "s0", "s1", "s1"], ["f1"]), oh.make_node("NonZero", ["f1"], ["nz"]),
                               oh.make_node("Expand", ["nz", "to"], ["y"])],
             [c("s0", np.array([0], np.int64)), c("s1", np.array([1], np.int64)), c("to", np.array([1, 3], np.int64))],
             ["would broadcast input 'nz' along the axis whose length depends on the data"]),
            ("topk_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("TopK", ["nz", "k1"], ["y", "yi"], axis=1)],
             [c("k1", np.array([1], np.int64))], ["TopK reads such a value only along another axis, with a constant K"]),
            ("trilu_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Trilu", ["nz"], ["y"])], [],
             ["along one of the two axes of its matrices"]),
            ("argmax_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("ArgMax", ["nz"], ["y"], axis=1)], [],
             ["input 'nz' has a length that depends on the data along the axis it searches"]),
            ("slice_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Slice", ["nz", "s1", "s2", "s1"], ["y"])],
             [c("s1", np.array([1], np.int64)), c("s2", np.array([2], np.int64))],
             ["slices input 'nz' along the axis whose length depends on the data"]),
            ("reshape_merges", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Reshape", ["nz", "flat"], ["y"])],
             [c("flat", np.array([-1], np.int64))], ["input 'nz' has a length that depends on the data along axis 1, "
                                                    "which the new shape does not keep whole"]),
            ("split_padded", [oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Split", ["nz"], ["y", "z"], axis=1)],
             [], ["splits input 'nz' along the axis whose length depends on the data"]),
            ("two_lengths", [oh.make_node("NonZero", ["x"], ["a"]), oh.make_node("Neg", ["x"], ["nx"]),
                             oh.make_node("NonZero", ["nx"], ["b"]), oh.make_node("Add", ["a", "b"], ["y"])], [],
             ["padded by different data-dependent lengths"]),
        ]
        for name, nodes, inits, wants in refusals:
            g = oh.make_graph(nodes, "bad", [vi("x", T.FLOAT, [3, 4])], [vi("y", T.INT64, None)], inits)
            path = os.path.join(tmp, name + ".onnx")
            onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), path)
            p = subprocess.run([a.dlc, "compile", path, "-o", os.path.join(tmp, "bad.c")], capture_output=True, text=True)
            err = p.stderr.strip()
            ok = p.returncode == 1 and len(err.splitlines()) == 1 and all(w in err for w in wants)
            bad += not ok
            print("%s refuses %s%s" % ("ok" if ok else "FAIL", name, "" if ok else ": " + err))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
