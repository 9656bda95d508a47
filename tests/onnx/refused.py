#!/usr/bin/env python3
"""Models that are valid ONNX but ask for what dlc does not build: each must be refused
with one line naming the node (or input) and what is not handled, never compiled into
something that ignores it.  Each model is written to a temporary folder and checked by
bad_onnx.sh (exit status 1, one line, the file and the expected words named).

    refused.py --dlc build/tools/dlc
"""
import argparse
import os
import subprocess
import sys
import tempfile

from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def model(nodes, x_type=TensorProto.FLOAT, x_shape=(1, 4, 2, 2), opset=18, extra=()):
    inputs = [helper.make_tensor_value_info("x", x_type, list(x_shape))]
    inputs += [helper.make_tensor_value_info(name, t, list(shape)) for name, t, shape in extra]
    g = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def cases():
    node = helper.make_node
    yield "relu_alpha.onnx", model([node("Relu", ["x"], ["y"], name="act", alpha=0.5)]), \
        "node 'act' (Relu, opset 18): attribute 'alpha' is not supported"
    twice = node("Transpose", ["x"], ["y"], name="tr", perm=[0, 1, 3, 2])
    twice.attribute.extend([helper.make_attribute("perm", [0, 1, 2, 3])])
    yield "perm_twice.onnx", model([twice]), "attribute 'perm' is given twice"
    yield "space_to_depth_mode.onnx", model([node("SpaceToDepth", ["x"], ["y"], name="s2d", blocksize=2,
                                                  mode="XYZ")]), "mode 'XYZ' is not supported"
    yield "depth_to_space_mode.onnx", model([node("DepthToSpace", ["x"], ["y"], name="d2s", blocksize=2,
                                                  mode="XYZ")]), "mode 'XYZ' is not supported"
    yield "det_5x5.onnx", model([node("Det", ["x"], ["y"], name="det")], x_shape=(5, 5)), \
        "matrices larger than 4x4 are not supported"
    yield "maxunpool_runtime_indices.onnx", model([node("MaxUnpool", ["x", "i"], ["y"], name="unpool", kernel_shape=[2, 2])],
                                                 extra=[("i", TensorProto.INT64, (1, 4, 2, 2))]), \
        "Indices must be a constant known at compile time"
    # float8, float4, int4 and int2 are dlc's storage dtypes (tests/onnx/narrow_test.py)
    for code, name in ((14, "complex64"), (15, "complex128")):  # strings: strings_test.py
        yield "input_%s.onnx" % name, model([node("Identity", ["x"], ["y"])], x_type=code), \
            "input 'x' has dtype %s," % name


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-refused-") as tmp:
        for name, m, want in cases():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(m.SerializeToString())
            p = subprocess.run(["sh", os.path.join(HERE, "bad_onnx.sh"), a.dlc, tmp, name, want],
                               capture_output=True, text=True)
            sys.stdout.write(p.stdout + p.stderr)
            failed += p.returncode != 0
    print("refused: %d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
