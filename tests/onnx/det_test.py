#!/usr/bin/env python3
"""Det of [2, M, M] for M = 1..4 (the node suite has only 2x2): dlc against numpy's
LU-based determinant in double, relative error under 1e-4.

    det_test.py --dlc build/tools/dlc
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    a = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-det-") as tmp:
        for m in (1, 2, 3, 4):
            g = helper.make_graph([helper.make_node("Det", ["x"], ["y"], name="det")], "g",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, m, m])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
            model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
            model.ir_version = 8
            path = os.path.join(tmp, "det%d.onnx" % m)
            onnx.save(model, path)
            x = np.random.default_rng(m).standard_normal((2, m, m)).astype(np.float32)
            np.save(os.path.join(tmp, "x.npy"), x)
            p = subprocess.run([a.dlc, "run", path, "--input", "x=" + os.path.join(tmp, "x.npy"), "--output", tmp],
                               capture_output=True, text=True)
            if p.returncode:
                print("FAIL %dx%d: %s" % (m, m, p.stderr.strip()))
                bad += 1
                continue
            got, want = np.load(os.path.join(tmp, "y.npy")), np.linalg.det(x.astype(np.float64))
            err = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-3)))
            ok = err < 1e-4
            bad += not ok
            print("%s %dx%d: max relative error %.2g" % ("ok" if ok else "FAIL", m, m, err))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
