#!/usr/bin/env python3
"""Operators that take an axis (or read a dimension) given a scalar (rank 0): each
one-node model must either compile and give ONNX Runtime's answer (onnx's reference
evaluator's where ONNX Runtime does not implement the operator), or be refused with
one line (exit 1) -- never read a dimension the scalar does not have.  A model ONNX
Runtime refuses must be refused by dlc too.  Each model is written to a temporary folder.

    scalar_axis_test.py --dlc build/tools/dlc [--only NAME] [--keep DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

F, I64, STR = T.FLOAT, T.INT64, T.STRING
X = np.array(2.5, np.float32)  # the scalar every model reads


def const(name, arr, dtype=np.int64):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)


def model(op, ins=("x",), outs=("y",), opset=18, inits=(), domain="", x_type=F, y_type=F, **attrs):
    """One node n; outputs of unknown shape, y of y_type (a TypeProto: a sequence), any
    other an int64 tensor (TopK's and ArgMax's indices)."""
    node = helper.make_node(op, list(ins), list(outs), name="n", domain=domain, **attrs)
    ytp = y_type if not isinstance(y_type, int) else helper.make_tensor_type_proto(y_type, None)
    outv = [helper.make_value_info(o, ytp if o in ("y", "z") else helper.make_tensor_type_proto(I64, None))
            for o in outs]
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", x_type, [])], outv, list(inits))
    ops = [helper.make_opsetid("", opset)]
    m = helper.make_model(g, opset_imports=ops, producer_name="scalar_axis_test")
    m.ir_version = 8
    return m


def cases():
    """(name, model): the scalar x as the operand that has the axis."""
    zero, one = const("zero", 0), const("one", [1])
    yield "gather", model("Gather", ["x", "zero"], inits=[zero], axis=0)
    yield "gather_elements", model("GatherElements", ["x", "zero"], inits=[zero], axis=0)
    yield "scatter_elements", model("ScatterElements", ["x", "zero", "u"], inits=[zero, const("u", 1.0, np.float32)])
    yield "split", model("Split", ["x"], ["y", "z"], num_outputs=2)
    yield "split_sizes", model("Split", ["x", "s"], ["y", "z"], opset=13, inits=[const("s", [0, 0])])
    yield "concat", model("Concat", ["x", "x"], axis=0)
    for op in ("Softmax", "LogSoftmax", "Hardmax"):
        yield op.lower(), model(op, opset=13)
        yield op.lower() + "_opset11_axis0", model(op, opset=11, axis=0)
    yield "cumsum", model("CumSum", ["x", "zero"], inits=[zero])
    yield "argmax", model("ArgMax", y_type=I64, axis=0)
    yield "argmin", model("ArgMin", y_type=I64, axis=-1, keepdims=0)
    yield "topk", model("TopK", ["x", "one"], ["y", "i"], inits=[one])
    yield "flatten_axis0", model("Flatten", axis=0)
    yield "flatten_axis1", model("Flatten", axis=1)
    yield "compress_axis", model("Compress", ["x", "c"], inits=[const("c", [True], bool)], axis=0)
    yield "compress_flat", model("Compress", ["x", "c"], inits=[const("c", [True], bool)])
    onehot_in = [const("depth", [3]), const("values", [0.0, 1.0], np.float32)]
    yield "onehot", model("OneHot", ["x", "depth", "values"], inits=onehot_in, x_type=I64)
    yield "onehot_axis0", model("OneHot", ["x", "depth", "values"], inits=onehot_in, x_type=I64, axis=0)
    yield "reverse_sequence", model("ReverseSequence", ["x", "lens"], inits=[const("lens", [1])])
    yield "dft", model("DFT", opset=17)
    yield "dft20", model("DFT", opset=20)
    yield "lp_normalization", model("LpNormalization")
    yield "unique_axis", model("Unique", axis=0)
    yield "unique_flat", model("Unique")
    yield "reduce_sum_axes", model("ReduceSum", ["x", "ax"], opset=13, inits=[const("ax", [0])])
    yield "reduce_sum_all", model("ReduceSum", opset=13)
    yield "reduce_max_axes", model("ReduceMax", ["x", "ax"], inits=[const("ax", [-1])])
    yield "squeeze_axes", model("Squeeze", ["x", "ax"], opset=13, inits=[const("ax", [0])])
    yield "unsqueeze", model("Unsqueeze", ["x", "ax"], opset=13, inits=[const("ax", [0])])
    yield "layer_normalization", model("LayerNormalization", ["x", "sc"], opset=17,
                                       inits=[const("sc", 1.0, np.float32)])
    yield "rms_normalization", model("RMSNormalization", ["x", "sc"], opset=23, inits=[const("sc", 1.0, np.float32)])
    yield "mvn", model("MeanVarianceNormalization", axes=[0])
    yield "pad_axes", model("Pad", ["x", "p", "", "ax"], inits=[const("p", [1, 1]), const("ax", [0])])
    yield "center_crop_pad", model("CenterCropPad", ["x", "s"], inits=[const("s", [1])], axes=[0])
    yield "resize_axes", model("Resize", ["x", "", "sc"], inits=[const("sc", [2.0], np.float32)], axes=[0])
    yield "split_to_sequence", model("SplitToSequence", y_type=helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(F, None)))
    yield "batch_normalization", model("BatchNormalization", ["x", "s", "b", "m", "v"], opset=15,
                                       inits=[const(k, [1.0], np.float32) for k in "sbmv"])
    yield "instance_normalization", model("InstanceNormalization", ["x", "s", "b"],
                                          inits=[const(k, [1.0], np.float32) for k in "sb"])
    yield "group_normalization", model("GroupNormalization", ["x", "s", "b"], opset=21, num_groups=1,
                                       inits=[const(k, [1.0], np.float32) for k in "sb"])
    yield "lrn", model("LRN", size=1)
    yield "depth_to_space", model("DepthToSpace", blocksize=1)
    yield "global_average_pool", model("GlobalAveragePool")
    yield "max_pool", model("MaxPool", kernel_shape=[1])
    yield "nonzero", model("NonZero", y_type=I64)
    yield "transpose", model("Transpose")
    yield "trilu", model("Trilu")
    yield "quantize_axis", model("QuantizeLinear", ["x", "s"], inits=[const("s", 0.5, np.float32)], y_type=T.UINT8,
                                 axis=0)
    yield "prelu", model("PRelu", ["x", "s"], inits=[const("s", [0.5], np.float32)])
    yield "tensor_scatter", model("TensorScatter", ["x", "u"], opset=24, inits=[const("u", 1.0, np.float32)])


def feed(m):
    return {"x": np.array(1, np.int64) if m.graph.input[0].type.tensor_type.elem_type == I64 else X}


def ort_outputs(path, m, feeds):
    """ONNX Runtime's outputs, or None where it refuses the model; where it does not
    implement the operator, onnx's reference evaluator's (None where that refuses)."""
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.log_severity_level = 4
        s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        return dict(zip([o.name for o in s.get_outputs()], s.run(None, feeds)))
    except Exception as e:  # noqa: BLE001 -- any refusal counts
        if "NOT_IMPLEMENTED" not in str(e):
            return None
    try:
        got = ReferenceEvaluator(m).run(None, feeds)
        return {o.name: np.asarray(v) for o, v in zip(m.graph.output, got)}
    except Exception:  # noqa: BLE001 -- the reference refuses it too
        return None


def check(dlc, tmp, name, m):
    """A failure's description, or None."""
    path = os.path.join(tmp, name + ".onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    p = subprocess.run([dlc, "compile", path, "-o", os.path.join(tmp, name + ".c")], capture_output=True, text=True)
    lines = p.stderr.splitlines()
    feeds = feed(m)
    want = ort_outputs(path, m, feeds)
    if p.returncode == 1:
        if len(lines) != 1 or not lines[0].startswith("dlc: error: ") or name not in lines[0]:
            return "refused, but not with one 'dlc: error:' line naming the file: %r" % p.stderr
        print("ok: %s: %s%s" % (name, lines[0], "" if want is None else " (ONNX Runtime computes it)"))
        return None
    if p.returncode != 0:
        return "exit status %d: %s" % (p.returncode, p.stderr[-2000:])
    if want is None:
        return "compiled, but ONNX Runtime refuses the model"
    np.save(os.path.join(tmp, "x.npy"), feeds["x"])
    out = os.path.join(tmp, name + "_out")
    p = subprocess.run([dlc, "run", path, "--input", "x=" + os.path.join(tmp, "x.npy"), "--output", out],
                       capture_output=True, text=True)
    if p.returncode:
        return "dlc run failed (%d): %s" % (p.returncode, p.stderr[-2000:])
    for k, v in want.items():
        got = np.load(os.path.join(out, k + ".npy"))
        if got.shape != v.shape or not np.allclose(got.astype(np.float64), v.astype(np.float64), rtol=1e-5, atol=1e-6):
            return "output %s: dlc %s %r, ONNX Runtime %s %r" % (k, got.shape, got.ravel()[:8], v.shape, v.ravel()[:8])
    print("ok: %s: compiled, ONNX Runtime's answer %s" % (name, {k: v.shape for k, v in want.items()}))
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--only", help="run only this case")
    ap.add_argument("--keep", help="write the models to this folder and keep them")
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-scalar-axis-") as tmp:
        os.environ["TMPDIR"] = tmp  # dlc run's folders go inside ours
        for name, m in cases():
            if a.only and name != a.only:
                continue
            why = check(a.dlc, a.keep or tmp, name, m)
            if why:
                failed += 1
                print("FAIL: %s: %s" % (name, why))
    print("%s: %d failed" % (os.path.basename(__file__), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
