"""test_train.py ROOT LIBDLC DLC WORKDIR — dlc.train from Python against `dlc train`.

The tabular MLP of tests/train/user_data.sh (4 Gaussian clusters in 8 dimensions, the
same seeded recipe) trained from NumPy arrays in this process: every batch's loss of
the first epoch, and each epoch's train loss, test loss and test accuracy, equal what
`dlc train --data DIR --out OUT` writes for the same data, batch and seed (one code
path: the same steps, shuffles and feeding); the accuracy reaches 95% and is within 3
points of the nearest-centre oracle.  The trained parameters are the model's (params,
set_params, save and load); an ONNX MLP trained in Python and written back with
write_onnx runs in ONNX Runtime as dlc's trained model does; the errors are one line.
"""
import csv
import os
import subprocess
import sys

root, libdlc, dlc_bin, work = sys.argv[1:5]
try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:
    print("skip:", e)
    sys.exit(77)
os.environ["DLC_LIBRARY"] = libdlc
os.makedirs(work, exist_ok=True)
os.environ["TMPDIR"] = work  # the jit's folders too
sys.path.insert(0, os.path.join(root, "python"))
import dlc  # noqa: E402

failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


# ---- the data: tests/train/user_data.sh's recipe ----
rng = np.random.default_rng(7)
k, f = 4, 8
centres = rng.normal(0, 3, (k, f))


def split(n):
    y = rng.integers(0, k, n)
    return (centres[y] + rng.normal(0, 1, (n, f))).astype(np.float32), y.astype(np.int64)


(xtr, ytr), (xte, yte) = split(2048), split(512)
npy = os.path.join(work, "npy")
os.makedirs(npy, exist_ok=True)
for name, a in [("x_train", xtr), ("y_train", ytr), ("x_test", xte), ("y_test", yte)]:
    np.save(os.path.join(npy, name + ".npy"), a)
oracle = 100 * (((xte[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1) == yte).mean()
model = os.path.join(work, "tab.dlc")
with open(model, "w") as out:
    out.write("model tab\ninput x: f32[batch, 8]\nh = tanh(dense(x, 16))\nprobs = softmax(dense(h, 4))\noutput probs\n")

# ---- the CLI ----
cli = os.path.join(work, "cli")
r = subprocess.run([dlc_bin, "train", model, "--data", npy, "--epochs", "4", "--batch", "32", "--seed", "3",
                    "--out", cli], capture_output=True, timeout=600)
check(r.returncode == 0, "dlc train runs (%s)" % r.stderr.decode()[-300:])
with open(os.path.join(cli, "loss.csv")) as fh:
    cli_batches = [float(row["loss"]) for row in csv.DictReader(fh)]
with open(os.path.join(cli, "epochs.csv")) as fh:
    cli_epochs = list(csv.DictReader(fh))

# ---- Python ----
m, h = dlc.train(model, xtr, ytr, xte, yte, epochs=4, batch=32, seed=3)
check(len(h["train_loss"]) == 4 and len(h["test_accuracy"]) == 4 and len(h["batch_loss"]) == 4 * 64,
      "history: 4 epochs of 64 batches")
first = np.array(h["batch_loss"][:64])
check(len(cli_batches) >= 64 and np.allclose(first, cli_batches[:64], rtol=1e-6, atol=1e-7),
      "the first epoch's 64 batch losses equal dlc train's (first %.6f vs %.6f)" % (first[0], cli_batches[0]))
for e, row in enumerate(cli_epochs):
    keys = list(row)
    tr, te, acc = (float(row[kk]) for kk in keys[1:4])
    check(abs(h["train_loss"][e] - tr) < 1e-5 and abs(h["test_loss"][e] - te) < 1e-5
          and abs(h["test_accuracy"][e] - acc) < 1e-6,
          "epoch %d: train loss %.4f, test loss %.4f, accuracy %.2f%% as dlc train's (%.4f, %.4f, %.2f%%)"
          % (e + 1, h["train_loss"][e], h["test_loss"][e], h["test_accuracy"][e], tr, te, acc))
acc = h["test_accuracy"][-1]
check(acc >= 95 and acc >= oracle - 3, "test accuracy %.2f%% (>= 95%%, nearest centre %.2f%%)" % (acc, oracle))
pred = m.predict(xte)
check(pred.shape == (512, 4) and abs(100 * (pred.argmax(1) == yte).mean() - acc) < 1e-9,
      "predict over the 512 test rows gives the same accuracy")

# ---- the parameters ----
p = m.params()
check(sorted(p) == ["dense1.b", "dense1.w", "dense2.b", "dense2.w"] and p["dense1.w"].shape == (8, 16),
      "params: the model's four, with their shapes")
saved = os.path.join(work, "tab.params")
m.save(saved)
m.set_params({"dense2.w": np.zeros((16, 4), np.float32), "dense2.b": np.zeros(4, np.float32)})
check(np.all(m.params()["dense2.w"] == 0) and np.allclose(m.predict(xte[:5]), 0.25, atol=1e-6),
      "set_params writes into the model (a zero last layer: uniform outputs)")
m.load(saved)
check(np.array_equal(m.params()["dense2.w"], p["dense2.w"]) and np.array_equal(m.predict(xte), pred),
      "load restores what save wrote")

# ---- an ONNX model, written back and run by ONNX Runtime ----
onnx_src = os.path.join(root, "models", "mlp.onnx")
big = rng.normal(0, 1, (10, 784)).astype(np.float32)
yo = rng.integers(0, 10, 384)
xo = (big[yo] + rng.normal(0, 0.5, (384, 784))).astype(np.float32)
mo, ho = dlc.train(onnx_src, xo[:256], yo[:256], xo[256:], yo[256:], epochs=2, batch=32, optimizer="sgd", lr=0.05)
check(ho["train_loss"][1] < ho["train_loss"][0], "ONNX MLP: the loss falls (%s)" % ho["train_loss"])
dst = os.path.join(work, "mlp_trained.onnx")
mo.write_onnx(dst)
sess = ort.InferenceSession(dst, providers=["CPUExecutionProvider"])
ref = sess.run(None, {sess.get_inputs()[0].name: xo[256:]})[0]
got = mo.predict(xo[256:])
check(np.abs(ref - got).max() < 1e-4, "ONNX Runtime runs the written-back model as dlc does (max diff %.2g)"
      % np.abs(ref - got).max())
before = open(onnx_src, "rb").read()
try:
    mo.write_onnx(onnx_src)
    check(False, "write_onnx over the source is refused")
except dlc.Error as e:
    check("\n" not in str(e) and open(onnx_src, "rb").read() == before, "write_onnx over the source: %s" % e)

# ---- errors ----
for kwargs, exc, what in (({"loss": "hinge"}, dlc.Error, "an unknown loss"),
                          ({"optimizer": "adam:beta9=1"}, dlc.Error, "an unknown optimizer setting"),
                          ({"batch": 4096}, ValueError, "a batch larger than the data")):
    try:
        dlc.train(model, xtr, ytr, **kwargs)
        check(False, what + " is refused")
    except exc as e:
        check("\n" not in str(e), "%s: %s" % (what, e))
try:
    dlc.train(model, xtr, ytr[:10])
    check(False, "x and y of different lengths are refused")
except ValueError as e:
    check(True, "x and y of different lengths: %s" % e)
try:
    dlc.train(model, xtr[:, :4], ytr)
    check(False, "samples the model does not take are refused")
except ValueError as e:
    check(True, "samples of 4 values for an input of 8: %s" % e)

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
