"""onnx_writeback.py DLC ROOT TMP — `dlc train` of models/mlp.onnx writes the trained
weights into a copy of the ONNX file: ONNX Runtime loads the copy, its weights differ
from the original's, and its accuracy on the 10000 test images is the one dlc printed
(the same model and weights, so at most a few images may flip on rounding).
Exit 77 (skipped) without the dataset or onnxruntime."""
import gzip
import os
import re
import subprocess
import sys

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path) as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def main():
    dlc, root, tmp = sys.argv[1:4]
    model = os.path.join(root, "models", "mlp.onnx")
    out = os.path.join(tmp, "out")
    r = subprocess.run([dlc, "train", model, "--epochs", "1", "--limit", "6400", "--out", out],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"dlc train failed: {r.stderr.strip()}")
    acc = float(re.search(r"test accuracy ([0-9.]+)%", r.stdout).group(1))
    trained = onnx.load(os.path.join(out, "mlp.onnx"))
    original = onnx.load(model)
    changed = 0
    for a, b in zip(original.graph.initializer, trained.graph.initializer):
        assert a.name == b.name and list(a.dims) == list(b.dims)
        changed += not np.array_equal(numpy_helper.to_array(a), numpy_helper.to_array(b))
    if changed != len(original.graph.initializer):
        sys.exit(f"{changed} of {len(original.graph.initializer)} initializers changed")
    sess = ort.InferenceSession(os.path.join(out, "mlp.onnx"), providers=["CPUExecutionProvider"])
    x = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784).astype(np.float32) / 255
    y = idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"))
    name = sess.get_inputs()[0].name
    pred = np.concatenate([sess.run(None, {name: x[i:i + 1000]})[0].argmax(1) for i in range(0, len(x), 1000)])
    ort_acc = 100.0 * float((pred == y).mean())
    print(f"dlc {acc:.2f}%, ONNX Runtime on the written model {ort_acc:.2f}%")
    if abs(ort_acc - acc) > 0.05:
        sys.exit("the accuracies differ")


if __name__ == "__main__":
    try:
        import numpy as np
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper
    except ImportError:
        sys.exit(77)
    if not os.path.exists(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")):
        sys.exit(77)
    main()
