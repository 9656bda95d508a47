#!/usr/bin/env python3
"""dyn_test.py --dlc DLC: results whose length depends on the data (NonZero, Unique,
NonMaxSuppression)
against ONNX Runtime.

dlc pads such a result to a bound known at compile time and computes its real length
beside it (the output NAME.count); `dlc run` writes only the real part.  Each model runs
under `dlc run --check` (the generated code against the interpreter, padding included),
its outputs compared with ONNX Runtime's, shapes included; then the same model through
`dlc dump` (the text format's `output ... extent AXIS COUNT`) and `dlc run` of the dump
must give the same files.  Last, a NonZero result read by another node is refused with
one line.

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
    p = subprocess.run([dlc, "run", path, "--input", "x=" + out + ".x.npy", "--output", out] + list(extra),
                       capture_output=True, text=True, timeout=120)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    a = ap.parse_args()
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
                path = os.path.join(tmp, name + ".onnx")
                onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), path)
                want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)[0]
                out = os.path.join(tmp, name)
                args = [a.dlc, "run", path, "--output", out, "--check"]
                for k, v in feeds.items():
                    np.save(os.path.join(tmp, "%s_%s.npy" % (name, k)), v)
                    args += ["--input", "%s=%s" % (k, os.path.join(tmp, "%s_%s.npy" % (name, k)))]
                p = subprocess.run(args, capture_output=True, text=True, timeout=120)
                why = (p.stderr or p.stdout).strip() if p.returncode else None
                if not why:
                    got = np.load(os.path.join(out, "sel.npy"))
                    if got.shape != want.shape or not np.array_equal(got, want):
                        why = "sel %s %r, ONNX Runtime %s %r" % (got.shape, got.tolist(), want.shape, want.tolist())
                bad += why is not None
                print("%s %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
        # a data-dependent length read by another node: one line, exit 1
        g = oh.make_graph([oh.make_node("NonZero", ["x"], ["nz"]), oh.make_node("Transpose", ["nz"], ["y"])], "bad",
                          [oh.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                          [oh.make_tensor_value_info("y", TensorProto.INT64, None)])
        path = os.path.join(tmp, "reads_nonzero.onnx")
        onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), path)
        p = subprocess.run([a.dlc, "compile", path, "-o", os.path.join(tmp, "bad.c")], capture_output=True, text=True)
        err = p.stderr.strip()
        ok = p.returncode == 1 and len(err.splitlines()) == 1 and "depends on the data" in err and "'nz'" in err
        bad += not ok
        print("%s refuses a NonZero result read by Transpose%s" % ("ok" if ok else "FAIL", "" if ok else ": " + err))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
