"""recurrent_ctrl.py DLC TMP — recurrent models written with ONNX control flow train.

Three sequence classifiers with the same cell (h = tanh(x_t W + h U + b), softmax of
logits from the last h): one whose recurrence is a Scan, one a Loop with a constant trip count that
gathers x[t] by the iteration number, and the same cell as ONNX's own RNN operator (the
unrolled recurrence dlc already trains), all with the same initial weights.  The data:
seeded synthetic sequences whose class is which of three directions their running sum
ends nearest to, saved as .npy for `dlc train --data DIR`.  Each model trains for three
epochs; it must reach 90% test accuracy (chance is 33%); the Scan and Loop models must
print the same losses as each other and, before rounding drifts, as the RNN one; the
loss must fall to a quarter; and
the trained ONNX file dlc writes back, run by ONNX Runtime on the test set, must give the
accuracy dlc printed.  Exit 77 (skipped) without onnxruntime."""
import os
import re
import subprocess
import sys

T, I, H, K, N_TRAIN, N_TEST = 8, 4, 16, 3, 1536, 384


def data(folder):
    rng = np.random.default_rng(3)
    dirs = rng.standard_normal((K, I))
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        x = rng.standard_normal((n, T, I)).astype(np.float32) * 0.5
        y = rng.integers(0, K, n)
        x += (dirs[y] * 0.25)[:, None, :].astype(np.float32)
        np.save(os.path.join(folder, "x_%s.npy" % split), x)
        np.save(os.path.join(folder, "y_%s.npy" % split), y.astype(np.int64))


def weights():
    rng = np.random.default_rng(5)
    return {"W": (rng.standard_normal((I, H)) * 0.4).astype(np.float32),
            "U": (rng.standard_normal((H, H)) * 0.2).astype(np.float32),
            "b": np.zeros(H, np.float32),
            "V": (rng.standard_normal((H, K)) * 0.3).astype(np.float32),
            "c": np.zeros(K, np.float32)}


def cell(h_in, x_t, h_out):
    """h_out = tanh(x_t W + h_in U + b), as nodes of a body (W, U, b from outside)."""
    return [oh.make_node("MatMul", [x_t, "W"], [h_out + "_xw"]),
            oh.make_node("MatMul", [h_in, "U"], [h_out + "_hu"]),
            oh.make_node("Add", [h_out + "_xw", h_out + "_hu"], [h_out + "_s"]),
            oh.make_node("Add", [h_out + "_s", "b"], [h_out + "_sb"]),
            oh.make_node("Tanh", [h_out + "_sb"], [h_out])]


def head(h, nodes):
    return nodes + [oh.make_node("MatMul", [h, "V"], ["hv"]), oh.make_node("Add", ["hv", "c"], ["logits"]),
                    oh.make_node("Softmax", ["logits"], ["probs"], axis=1)]  # dlc trains through the logits


def save(path, nodes, w, extra_inits=()):
    inits = [numpy_helper.from_array(v, k) for k, v in w.items()] + list(extra_inits)
    g = oh.make_graph(nodes, "rnn", [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", T, I])],
                      [oh.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", K])], inits)
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])
    onnx.save(m, path)


def h0(nodes):
    """h0 = zeros [batch, H], from x's shape."""
    return nodes + [oh.make_node("Shape", ["x"], ["xs"]),
                    oh.make_node("Slice", ["xs", "zero1", "one1"], ["bdim"]),
                    oh.make_node("Concat", ["bdim", "hdim"], ["h0shape"], axis=0),
                    oh.make_node("ConstantOfShape", ["h0shape"], ["h0"],
                                 value=numpy_helper.from_array(np.zeros(1, np.float32)))]


def shape_inits():
    return [numpy_helper.from_array(np.array([0], np.int64), "zero1"),
            numpy_helper.from_array(np.array([1], np.int64), "one1"),
            numpy_helper.from_array(np.array([H], np.int64), "hdim")]


def scan_model(path, w):
    body = oh.make_graph(cell("h", "xt", "h2") + [oh.make_node("Identity", ["h2"], ["y"])], "body",
                         [oh.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", H]),
                          oh.make_tensor_value_info("xt", TensorProto.FLOAT, ["batch", I])],
                         [oh.make_tensor_value_info("h2", TensorProto.FLOAT, ["batch", H]),
                          oh.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", H])])
    nodes = h0([]) + [oh.make_node("Scan", ["h0", "x"], ["hT", "ys"], body=body, num_scan_inputs=1,
                                   scan_input_axes=[1])]
    save(path, head("hT", nodes), w, shape_inits())


def loop_model(path, w):
    body = oh.make_graph([oh.make_node("Gather", ["x", "i"], ["xt"], axis=1)] + cell("h", "xt", "h2") +
                         [oh.make_node("Identity", ["cond"], ["cond2"])], "body",
                         [oh.make_tensor_value_info("i", TensorProto.INT64, []),
                          oh.make_tensor_value_info("cond", TensorProto.BOOL, []),
                          oh.make_tensor_value_info("h", TensorProto.FLOAT, ["batch", H])],
                         [oh.make_tensor_value_info("cond2", TensorProto.BOOL, []),
                          oh.make_tensor_value_info("h2", TensorProto.FLOAT, ["batch", H])])
    nodes = h0([]) + [oh.make_node("Loop", ["trips", "", "h0"], ["hT"], body=body)]
    save(path, head("hT", nodes), w,
         shape_inits() + [numpy_helper.from_array(np.array(T, np.int64), "trips")])


def rnn_model(path, w):
    """ONNX's RNN with the same weights: W [1, H, I], R [1, H, H], B [1, 2H]."""
    nodes = [oh.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             oh.make_node("Transpose", ["W"], ["Wt"], perm=[1, 0]),
             oh.make_node("Unsqueeze", ["Wt", "zero1"], ["Wr"]),
             oh.make_node("Transpose", ["U"], ["Ut"], perm=[1, 0]),
             oh.make_node("Unsqueeze", ["Ut", "zero1"], ["Rr"]),
             oh.make_node("Concat", ["b", "bz"], ["bb"], axis=0),
             oh.make_node("Unsqueeze", ["bb", "zero1"], ["Br"]),
             oh.make_node("RNN", ["xt", "Wr", "Rr", "Br"], ["Y", "Yh"], hidden_size=H),
             oh.make_node("Squeeze", ["Yh", "zero1"], ["hT"])]
    save(path, head("hT", nodes), w, shape_inits() + [numpy_helper.from_array(np.zeros(H, np.float32), "bz")])


def train(dlc, path, folder, out):
    r = subprocess.run([dlc, "train", path, "--data", folder, "--epochs", "3", "--batch", "32",
                        "--optimizer", "adam:lr=0.01", "--out", out], capture_output=True, text=True, timeout=600)
    if r.returncode:
        sys.exit("dlc train %s: %s" % (os.path.basename(path), r.stderr.strip()))
    accs = [float(a) for a in re.findall(r"test accuracy ([0-9.]+)%", r.stdout)]
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+(?:e[-+]?[0-9]+)?)", r.stdout)]
    return accs, losses


def main():
    dlc, tmp = sys.argv[1:3]
    folder = os.path.join(tmp, "recurrent-data")
    os.makedirs(folder, exist_ok=True)
    data(folder)
    w = weights()
    results = {}
    for name, make in (("rnn", rnn_model), ("scan", scan_model), ("loop", loop_model)):
        path = os.path.join(tmp, "%s.onnx" % name)
        make(path, w)
        out = os.path.join(tmp, "out-" + name)
        accs, losses = train(dlc, path, folder, out)
        if not accs or not losses:
            sys.exit("%s: no accuracy or loss in dlc's output" % name)
        results[name] = (accs, losses)
        print("%s: test accuracy %s, losses %s" % (name, accs, losses))
        if accs[-1] < 90:
            sys.exit("%s: test accuracy %.2f%% after 3 epochs, want 90%%" % (name, accs[-1]))
        sess = ort.InferenceSession(os.path.join(out, "%s.onnx" % name), providers=["CPUExecutionProvider"])
        x = np.load(os.path.join(folder, "x_test.npy"))
        y = np.load(os.path.join(folder, "y_test.npy"))
        acc = 100.0 * float((sess.run(None, {"x": x})[0].argmax(1) == y).mean())
        if abs(acc - accs[-1]) > 0.3:
            sys.exit("%s: ONNX Runtime on the written model %.2f%%, dlc printed %.2f%%" % (name, acc, accs[-1]))
    # Scan and Loop are the same arithmetic; the RNN operator sums in another order, so
    # its losses agree at first and drift apart as Adam amplifies rounding.
    s, l, r = (np.array(results[n][1]) for n in ("scan", "loop", "rnn"))
    if s.shape != l.shape or not np.allclose(s, l, rtol=1e-5, atol=1e-6):
        sys.exit("scan: losses %s, loop: %s" % (list(s), list(l)))
    if s.shape != r.shape or not np.allclose(s[:3], r[:3], rtol=5e-3):
        sys.exit("scan: first losses %s, the RNN operator's %s" % (list(s[:3]), list(r[:3])))
    for name in results:
        losses = results[name][1]
        if not losses[-1] < losses[0] / 4:
            sys.exit("%s: the loss went from %g to %g" % (name, losses[0], losses[-1]))
    print("ok: Scan and Loop recurrences train as the RNN operator does")


if __name__ == "__main__":
    try:
        import numpy as np
        import onnx
        import onnx.helper as oh
        import onnxruntime as ort
        from onnx import TensorProto, numpy_helper
    except ImportError:
        sys.exit(77)
    main()
