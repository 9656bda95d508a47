"""test_module.py ROOT LIBDLC — the Python module against ONNX Runtime.

`pip install ./python` (a copy, into a private folder: nothing is written into the
checkout or the environment), then, with DLC_LIBRARY naming this build's libdlc:
dlc.compile on ONNX models (a CNN, a convolutional autoencoder, a transformer encoder), called on
seeded random arrays, must agree with ONNX Runtime within 1e-4, and so must one build
with a run-time batch (dynamic=) at several batches, and one in parts (micro_batch=); the errors are exceptions carrying
dlc's one line; bench reports its runs.
"""
import os
import shutil
import subprocess
import sys
import tempfile

root, libdlc = sys.argv[1], sys.argv[2]
try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:
    print("skip:", e)
    sys.exit(77)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


work = tempfile.mkdtemp(prefix="dlc-py-")
os.environ["TMPDIR"] = work  # the jit's folders too
try:
    src = os.path.join(work, "src")
    shutil.copytree(os.path.join(root, "python"), src)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
           "--target", os.path.join(work, "site"), src]
    try:
        import wheel  # noqa: F401  (what pip needs to build the package offline)
    except ImportError:
        # Without it pip installs through setup.py, which a build-system table forbids:
        # the copy drops the table, the package's metadata ([project]) stays the same.
        toml = os.path.join(src, "pyproject.toml")
        with open(toml) as f:
            text = f.read()
        with open(toml, "w") as f:
            f.write(text.split("[build-system]")[0] + "[project]" + text.split("[project]", 1)[1])
        cmd.insert(4, "--no-use-pep517")
    pip = subprocess.run(cmd, capture_output=True, text=True)
    if pip.returncode:
        fail("pip install ./python: " + pip.stdout + pip.stderr)
    sys.path.insert(0, os.path.join(work, "site"))
    os.environ["DLC_LIBRARY"] = libdlc
    import dlc

    if not dlc.__file__.startswith(os.path.join(work, "site")):
        fail("imported %s, not the installed copy" % dlc.__file__)
    if not dlc.version().startswith("0."):
        fail("version " + dlc.version())

    rng = np.random.default_rng(14)
    for name, batch in [("lenet", 2), ("autoencoder", 3), ("encoder", 2)]:
        path = os.path.join(root, "models", name + ".onnx")
        m = dlc.compile(path, batch=batch)
        s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {}
        for i in s.get_inputs():
            shape = [batch] + [d for d in i.shape[1:]]
            feeds[i.name] = rng.uniform(-1, 1, shape).astype(np.float32)
        want = s.run(None, feeds)
        got = m.run(**feeds)
        if list(got) != [o.name for o in s.get_outputs()]:
            fail("%s: outputs %s, ONNX Runtime's %s" % (name, list(got), [o.name for o in s.get_outputs()]))
        for (oname, y), r in zip(got.items(), want):
            err = float(np.max(np.abs(y - r) / (1e-4 + 1e-4 * np.abs(r))))
            if y.shape != r.shape or err > 1:
                fail("%s: output %s %s differs from ONNX Runtime's %s (max |diff| %.3g)"
                     % (name, oname, y.shape, r.shape, float(np.max(np.abs(y - r)))))
        y1 = m(*feeds.values())  # positional, one output: the array itself
        if not isinstance(y1, np.ndarray) or not np.array_equal(y1, got[m.outputs[0].name]):
            fail("%s: m(x) is not the single output of m.run(x=...)" % name)
        print("ok: %s (batch %d) agrees with ONNX Runtime" % (name, batch))

    b = m.bench(runs=7, warmup=1)
    if b["runs"] != 7 or not (0 < b["min_us"] <= b["median_us"] <= b["max_us"]):
        fail("bench: %s" % b)
    print("ok: bench", b)

    def raises(kind, want, f):
        try:
            f()
        except kind as e:
            if want not in str(e):
                fail("%s: %r lacks %r" % (kind.__name__, str(e), want))
            print("ok: %s: %s" % (kind.__name__, e))
            return
        fail("no %s (%s)" % (kind.__name__, want))

    x = np.zeros((1, 16, 64), np.float32)  # the encoder takes [2, 16, 64]
    raises(ValueError, "input 'x' is (1, 16, 64), the compiled model takes (2, 16, 64)", lambda: m(x=x))
    raises(TypeError, "the model has no input 'y'", lambda: m(y=x))
    raises(TypeError, "input 'x' is missing", lambda: m())
    missing = os.path.join(work, "nothing.onnx")
    raises(dlc.Error, missing, lambda: dlc.compile(missing))
    bad = os.path.join(work, "bad.dlc")
    with open(bad, "w") as f:
        f.write("input x: f32[batch, 4]\ny = nosuchop(x)\noutput y\n")
    raises(dlc.Error, "bad.dlc:2:", lambda: dlc.compile(bad))
    raises(dlc.Error, "dims 'seq=0': expected NAME=V", lambda: dlc.compile(bad, dims={"seq": 0}))
    # f16 in numpy's float16, bf16 in ml_dtypes' bfloat16; each result rounded to its dtype
    import ml_dtypes
    half = os.path.join(work, "half.dlc")
    with open(half, "w") as f:
        f.write("input h: f16[3]\ninput b: bf16[3]\ns = add(cast(h, to=f32), cast(b, to=f32))\n"
                "y = cast(s, to=f16)\nz = cast(s, to=bf16)\noutput y\noutput z\n")
    hm = dlc.compile(half)
    if [p.dtype for p in hm.inputs] != [np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16)]:
        fail("half.dlc's inputs are %s" % [p.dtype for p in hm.inputs])
    h16 = np.array([1, 2048, -0.1], np.float16)
    b16 = np.array([1e-3, 1, 3.0], ml_dtypes.bfloat16)
    out = hm(h=h16, b=b16)
    s32 = h16.astype(np.float32) + b16.astype(np.float32)
    if out["y"].dtype != np.float16 or not np.array_equal(out["y"], s32.astype(np.float16)):
        fail("half.dlc y: %r" % out["y"])
    if out["z"].dtype != ml_dtypes.bfloat16 or not np.array_equal(out["z"], s32.astype(ml_dtypes.bfloat16)):
        fail("half.dlc z: %r" % out["z"])
    hm.close()
    # run-time dimensions: one build, arrays of several batch sizes, against ONNX Runtime
    path = os.path.join(root, "models", "lenet.onnx")
    dm = dlc.compile(path, dynamic="batch<=8")
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    if dm.dims != ["batch"] or dm.dim_max != [8] or dm.inputs[0].shape != (8, 1, 28, 28):
        fail("dynamic lenet: dims %s, max %s, input %s" % (dm.dims, dm.dim_max, dm.inputs[0].shape))
    for n in (1, 3, 8):
        xs = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
        y, r = dm(xs), s.run(None, {"x": xs})[0]
        if y.shape != r.shape or float(np.max(np.abs(y - r))) > 1e-4 or dm.sizes(x=xs) != {"batch": n}:
            fail("dynamic lenet at batch %d: %s against ONNX Runtime's %s" % (n, y.shape, r.shape))
    print("ok: dynamic lenet at batches 1, 3 and 8 agrees with ONNX Runtime")
    raises(ValueError, "match no size the model was built for", lambda: dm(np.zeros((9, 1, 28, 28), np.float32)))
    raises(dlc.Error, "--dynamic 'batch<=0'", lambda: dlc.compile(path, dynamic="batch<=0"))
    # the same on the CUDA backend, where there is a driver (else the one-line error)
    try:
        cm = dlc.compile(path, dynamic="batch<=8", target="cuda")
    except dlc.Error as e:
        if "no CUDA driver" not in str(e):
            fail("dynamic lenet on cuda: %s" % e)
        print("skip: dynamic lenet on cuda (%s)" % e)
    else:
        for n in (1, 5):
            xs = rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32)
            y, r = cm(xs), s.run(None, {"x": xs})[0]
            if y.shape != r.shape or float(np.max(np.abs(y - r))) > 1e-4:
                fail("dynamic lenet on cuda at batch %d: %s against ONNX Runtime's %s" % (n, y.shape, r.shape))
        cm.close()
        print("ok: dynamic lenet on cuda at batches 1 and 5 agrees with ONNX Runtime")
    # the batch in parts (micro_batch=2 of 8), against ONNX Runtime; bad parts refused
    pm = dlc.compile(path, batch=8, micro_batch=2, threads=2)
    xs = rng.uniform(-1, 1, (8, 1, 28, 28)).astype(np.float32)
    y, r = pm(xs), s.run(None, {"x": xs})[0]
    if y.shape != r.shape or float(np.max(np.abs(y - r))) > 1e-4:
        fail("lenet in parts of 2: %s against ONNX Runtime's %s" % (y.shape, r.shape))
    pm.close()
    print("ok: lenet at batch 8 in parts of 2 agrees with ONNX Runtime")
    raises(dlc.Error, "must be a multiple of it", lambda: dlc.compile(path, batch=8, micro_batch=3))
    raises(ValueError, "micro_batch must be", lambda: dlc.compile(path, batch=8, micro_batch="some"))
    # a Loop whose trip count is an input: refused without a bound, then with
    # set_limit("max_trip", 5) one build runs every M to 5 (its scan output handed back
    # at its real length) and a run past the bound raises
    sys.path.insert(0, os.path.join(root, "tests", "onnx"))
    import onnx
    from ctrl_test import loop_runtime_trip
    lpath = os.path.join(work, "loop.onnx")
    onnx.save(loop_runtime_trip()[0], lpath)
    raises(dlc.Error, "--max-trip N", lambda: dlc.compile(lpath))
    if dlc.limit("max_trip") != 0 or dlc.set_limit("max_trip", 5) != 0 or dlc.limit("max-trip") != 5:
        fail("max_trip: limit() %d after set_limit" % dlc.limit("max_trip"))
    lm = dlc.compile(lpath)
    ls = ort.InferenceSession(lpath, providers=["CPUExecutionProvider"])
    xl = np.array([1.5, -2], np.float32)
    for k in (0, 2, 5):
        feed = {"M": np.array(k, np.int64), "x": xl}
        got, want = lm(**feed), ls.run(None, feed)
        pairs = [(got["v"], want[0]), (got["ys"], want[1]), (got["ys.count"], np.array(want[1].shape[0]))]
        if any(g.shape != w.shape or not np.allclose(g, w, rtol=1e-5) for g, w in pairs):
            fail("loop with M = %d: %s against ONNX Runtime's %s" % (k, got, want))
    print("ok: a Loop with a run-time trip count (max_trip 5) agrees with ONNX Runtime at M = 0, 2, 5")
    raises(dlc.Error, "run past its bound", lambda: lm(M=np.array(6, np.int64), x=xl))
    lm.close()
    raises(ValueError, "no limit named 'max-tirp' (max-elements, max-nodes, ", lambda: dlc.set_limit("max_tirp", 5))
    raises(ValueError, "no limit named 'a\\x1bb' (", lambda: dlc.limit("a\x1bb"))
    raises(ValueError, "not a positive count", lambda: dlc.set_limit("max_nodes", 0))
    dlc.set_limit("max_trip", 0)
    dm.close()
    m.close()
    raises(dlc.Error, "closed", lambda: m(x=x))
    print("ok")
finally:
    shutil.rmtree(work, ignore_errors=True)
