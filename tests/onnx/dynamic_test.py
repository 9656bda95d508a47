#!/usr/bin/env python3
"""dynamic_test.py --dlc DLC [--keep DIR]: `dlc compile --dynamic` against ONNX Runtime.

Each model is compiled once with a run-time dimension (`--dynamic batch<=8`, sizes 8, 4,
2, 1), its C built once into a shared library, and that one library run through its
public NAME_run(m, dims, in, out) at several sizes (1, 3, 5, 8 and 0), each compared with
ONNX Runtime on the same inputs.  The models: the repository's MLP, LeNet (a CNN),
encoder (a transformer encoder), GPT (token ids through an embedding), LSTM and GRU,
all exported with a dynamic batch axis; an LSTM whose batch is axis 1 ([T, batch, F], the
layout that goes through NAME_init's staging buffer) with its state in and out; a model
with an input that does not depend on the batch.  Then what must be refused, each with
one line naming the node: a reduction over the batch, a Reshape that interleaves samples,
a dimension that is not in proportion (batch + 1).  And a size above the bound gives
the status NAME_ERR_DIM.

--cuda LIBDLCRT: the same models through the CUDA backend (`--target cuda`, the library
linked against libdlcrt), with `dlc run --target cuda --dynamic --check`; the suite runs
it under tests/cuda's CPU emulator (cuda.emulated_dynamic) and on a GPU where there is one.

Needs: numpy, onnx, onnxruntime (the test tooling's Python, tools/pyenv.sh), a C compiler.
"""
import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
from onnx import TensorProto, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "models")
CC = os.environ.get("CC", "cc")
WARN = True  # --no-warnings: skip the -Wall -Wextra builds (the sanitizer build: they test the code, not dlc)
CUDA_RT = None  # --cuda: libdlcrt, and the models are built for the CUDA backend
CCS = [c for c in ("gcc", "clang") if subprocess.run(["sh", "-c", "command -v " + c], capture_output=True).returncode == 0]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def compile_lib(dlc, path, name, work, dyn):
    out = os.path.join(work, name + ".c")
    target = ["--target", "cuda"] if CUDA_RT else []
    r = subprocess.run([dlc, "compile", path, *target, *[a for d in dyn for a in ("--dynamic", d)], "--name", name,
                        "-o", out], capture_output=True, text=True, timeout=600)
    if r.returncode:
        fail("%s: dlc compile --dynamic: %s" % (name, r.stderr.strip()))
        return None
    for c in CCS if WARN else ():  # warning-free with gcc and clang
        r = subprocess.run([c, "-std=c11", "-Wall", "-Wextra", "-Werror", *(["-pedantic"] if CUDA_RT else []),
                            "-fsyntax-only", "-I", work, out],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            fail("%s: %s -Wall -Wextra: %s" % (name, c, r.stderr.strip()[:2000]))
    so = os.path.join(work, name + ".so")
    rt = [CUDA_RT, "-Wl,-rpath," + os.path.dirname(CUDA_RT), "-ldl", "-lpthread"] if CUDA_RT else []
    r = subprocess.run([CC, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I", work, out,
                        "-o", so, *rt, "-lm"], capture_output=True, text=True, timeout=600)
    if r.returncode:
        fail("%s: cc: %s" % (name, r.stderr.strip()[:2000]))
        return None
    lib = ctypes.CDLL(so)
    m = ctypes.c_void_p()
    st = getattr(lib, name + "_init")(ctypes.byref(m), None)
    if st:
        fail("%s: init status %d" % (name, st))
        return None
    return lib, m


def run_lib(lib, m, name, n, inputs, out_shapes, out_types):
    n = n if isinstance(n, tuple) else (n,)
    outs = [np.zeros(s, t) for s, t in zip(out_shapes, out_types)]
    ins = (ctypes.c_void_p * max(1, len(inputs)))(*[x.ctypes.data for x in inputs])
    ob = (ctypes.c_void_p * len(outs))(*[o.ctypes.data for o in outs])
    dims = (ctypes.c_int64 * len(n))(*n)
    run = getattr(lib, name + "_run")
    run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    st = run(m, dims, ins, ob)
    return st, outs


def check_model(dlc, work, name, model, make_inputs, sizes=(1, 3, 5, 8, 0), rtol=1e-4, atol=1e-5,
                dyn=("batch<=8",), over=9):
    """sizes: the dims of each run (a tuple per run with several dimensions); over: dims
    that must give NAME_ERR_DIM."""
    path = os.path.join(work, name + ".onnx")
    onnx.save(model, path)
    built = compile_lib(dlc, path, name, work, dyn)
    if not built:
        return
    lib, m = built
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(5)
    for n in sizes:
        if not (n[0] if isinstance(n, tuple) else n):  # nothing to run: status 0, nothing written
            st, _ = run_lib(lib, m, name, 0, [np.zeros(1, np.float32)] * len(sess.get_inputs()),
                            [(1,)] * len(sess.get_outputs()), [np.float32] * len(sess.get_outputs()))
            if st:
                fail("%s at 0: status %d" % (name, st))
            continue
        inputs = make_inputs(rng, n)
        feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
        want = sess.run(None, feed)
        st, got = run_lib(lib, m, name, n, [np.ascontiguousarray(x) for x in inputs], [w.shape for w in want],
                          [w.dtype for w in want])
        if st:
            fail("%s at %d: status %d" % (name, n, st))
            continue
        for j, (g, w) in enumerate(zip(got, want)):
            if not np.allclose(g, w, rtol=rtol, atol=atol):
                fail("%s at %d: output %d differs by %g" % (name, n, j, float(np.max(np.abs(g - w)))))
    # a size above the bound, or not built
    inputs = make_inputs(rng, sizes[0])
    want = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), inputs)})
    st, _ = run_lib(lib, m, name, over, inputs, [w.shape for w in want], [w.dtype for w in want])
    if st != 8:
        fail("%s: sizes %s gave status %d, not NAME_ERR_DIM (8)" % (name, over, st))
    getattr(lib, name + "_free")(m)
    print("ok %s at sizes %s" % (name, ", ".join(map(str, sizes))))


def exported(dlc, work, models):
    """Models exported from PyTorch with batch and sequence (or image size) axes
    (dynamic_export.py): one build each, run at three combinations of sizes."""
    seq = lambda f: lambda rng, n: [rng.standard_normal((n[0], n[1], f)).astype(np.float32)]
    for name, make, dyn, sizes, over in (
            ("encoder_seq", seq(64), ("batch<=4", "seq=8,12,16"), [(1, 8), (3, 12), (4, 16), (2, 8)], (1, 10)),
            ("lstm_seq", seq(28), ("batch<=4", "seq=8,12,16"), [(1, 16), (3, 8), (4, 12)], (5, 8)),
            ("cnn_hw", lambda rng, n: [rng.standard_normal((n[0], 3, n[1], n[2])).astype(np.float32)],
             ("batch<=4", "h=8,12", "w=10,16"), [(1, 8, 10), (3, 12, 16), (4, 8, 16), (2, 12, 10)], (1, 9, 10))):
        check_model(dlc, work, name, onnx.load(os.path.join(models, name + ".onnx")), make, sizes=sizes, dyn=dyn,
                    over=over, rtol=1e-3, atol=1e-4)
    # exact sizes only (the batch bound to 1): no bound dimension, no staging
    check_model(dlc, work, "encoder_seqonly", onnx.load(os.path.join(models, "encoder_seq.onnx")),
                lambda rng, n: [rng.standard_normal((1, n[0], 64)).astype(np.float32)], sizes=[(8,), (16,), (12,)],
                dyn=("seq=8,12,16",), over=(9,), rtol=1e-3, atol=1e-4)


def floats(*shape):
    return lambda rng, n: [rng.standard_normal((n,) + shape).astype(np.float32)]


def lstm_batch_second():
    """An LSTM over [T, batch, F] with initial states [1, batch, H] in and Y, Y_h out."""
    T, F, H = 5, 3, 4
    rng = np.random.default_rng(1)
    W = numpy_helper.from_array(rng.standard_normal((1, 4 * H, F)).astype(np.float32) * 0.5, "W")
    R = numpy_helper.from_array(rng.standard_normal((1, 4 * H, H)).astype(np.float32) * 0.5, "R")
    B = numpy_helper.from_array(rng.standard_normal((1, 8 * H)).astype(np.float32) * 0.1, "B")
    node = oh.make_node("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "yh", "yc"], hidden_size=H)
    relu = oh.make_node("Relu", ["y"], ["ry"])
    g = oh.make_graph([node, relu], "lstm_t", [
        oh.make_tensor_value_info("x", TensorProto.FLOAT, [T, "batch", F]),
        oh.make_tensor_value_info("h0", TensorProto.FLOAT, [1, "batch", H]),
        oh.make_tensor_value_info("c0", TensorProto.FLOAT, [1, "batch", H])],
        [oh.make_tensor_value_info("ry", TensorProto.FLOAT, None), oh.make_tensor_value_info("yh", TensorProto.FLOAT, None)],
        [W, R, B])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])
    return m, lambda rng, n: [rng.standard_normal((T, n, F)).astype(np.float32),
                              rng.standard_normal((1, n, H)).astype(np.float32),
                              rng.standard_normal((1, n, H)).astype(np.float32)]


def shared_input():
    """y = x @ w + bias where bias [4] is an input that does not depend on the batch."""
    rng = np.random.default_rng(2)
    w = numpy_helper.from_array(rng.standard_normal((6, 4)).astype(np.float32), "w")
    g = oh.make_graph([oh.make_node("MatMul", ["x", "w"], ["t"]), oh.make_node("Add", ["t", "bias"], ["y"])], "shared",
                      [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6]),
                       oh.make_tensor_value_info("bias", TensorProto.FLOAT, [4])],
                      [oh.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), \
        lambda rng, n: [rng.standard_normal((n, 6)).astype(np.float32), rng.standard_normal(4).astype(np.float32)]


def refused(dlc, work, name, nodes, inits, words):
    g = oh.make_graph(nodes, name, [oh.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 6])],
                      [oh.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = os.path.join(work, name + ".onnx")
    onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)]), path)
    out = os.path.join(work, name + ".c")
    r = subprocess.run([dlc, "compile", path, "--dynamic", "batch<=8", "-o", out], capture_output=True, text=True,
                       timeout=120)
    lines = r.stderr.strip().splitlines()
    if r.returncode != 1 or len(lines) != 1 or not all(w in lines[0] for w in words) or os.path.exists(out):
        fail("%s: expected one error line with %s, got status %d: %r" % (name, words, r.returncode, r.stderr))
    else:
        print("ok refused %s: %s" % (name, lines[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--keep")
    ap.add_argument("--exported", help="the folder dynamic_export.py wrote")
    ap.add_argument("--no-warnings", action="store_true", help="skip the gcc and clang -Wall -Wextra builds")
    ap.add_argument("--cuda", metavar="LIBDLCRT", help="build for the CUDA backend, linked against this libdlcrt")
    a = ap.parse_args()
    global WARN, CUDA_RT
    WARN = not a.no_warnings
    CUDA_RT = a.cuda and os.path.abspath(a.cuda)
    tmp = None if a.keep else tempfile.TemporaryDirectory(prefix="dlc-dynamic-")
    work = a.keep or tmp.name
    os.makedirs(work, exist_ok=True)
    if CUDA_RT:
        try:
            ctypes.CDLL("libcuda.so.1")
        except OSError as e:
            print("skip: no CUDA driver (%s)" % e)
            return 77
        cuda(a, work)
        return report()
    for name, make in (("mlp", floats(784)), ("lenet", floats(1, 28, 28)), ("encoder", floats(16, 64)),
                       ("lstm", floats(28, 28)), ("gru", floats(28, 28)),
                       ("gpt", lambda rng, n: [rng.integers(0, 64, (n, 16)).astype(np.int64)])):
        check_model(a.dlc, work, name, onnx.load(os.path.join(MODELS, name + ".onnx")), make, rtol=1e-3, atol=1e-4)
    if a.exported:
        exported(a.dlc, work, a.exported)
    m, make = lstm_batch_second()
    check_model(a.dlc, work, "lstm_t", m, make)
    m, make = shared_input()
    check_model(a.dlc, work, "shared", m, make)
    w = numpy_helper.from_array(np.ones((6, 6), np.float32), "w")
    refused(a.dlc, work, "mean_over_batch", [oh.make_node("ReduceMean", ["x"], ["y"], axes=[0], keepdims=1)], [],
            ["--dynamic batch", "mean_over_batch.onnx", "node"])
    shape = numpy_helper.from_array(np.array([6, -1], np.int64), "s")
    refused(a.dlc, work, "interleave", [oh.make_node("Reshape", ["x", "s"], ["t"]),
                                        oh.make_node("Transpose", ["t"], ["u"], perm=[1, 0]),
                                        oh.make_node("MatMul", ["u", "w"], ["y"])], [shape, w],
            ["--dynamic batch", "reshape"])
    zero = numpy_helper.from_array(np.array([0], np.int64), "zero")
    refused(a.dlc, work, "divides_by_batch", [oh.make_node("Shape", ["x"], ["s"]),
                                              oh.make_node("Gather", ["s", "zero"], ["n"], axis=0),
                                              oh.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
                                              oh.make_node("Div", ["x", "nf"], ["y"])], [zero],
            ["--dynamic batch", "a constant computed from the dimension's size"])
    one = numpy_helper.from_array(np.zeros((1, 6), np.float32), "one")
    refused(a.dlc, work, "not_proportional", [oh.make_node("Concat", ["x", "one"], ["y"], axis=0)], [one],
            ["--dynamic batch", "not in proportion"])
    # dlc run --dynamic: the dynamic build at the sizes --batch/--dim give, against the interpreter
    for model, args in (("lenet.onnx", ["--dynamic", "batch<=8", "--batch", "7"]),
                        ("lstm.onnx", ["--dynamic", "batch<=4:1,3", "--batch", "4"])):
        r = subprocess.run([a.dlc, "run", os.path.join(MODELS, model), *args, "--check"], capture_output=True, text=True,
                           timeout=600)
        if r.returncode or ": ok" not in r.stdout:
            fail("dlc run %s %s --check: status %d: %s" % (model, " ".join(args), r.returncode, r.stderr.strip()))
        else:
            print("ok dlc run %s %s --check" % (model, " ".join(args)))
    # the sizes from the --input files
    np.save(os.path.join(work, "x6.npy"), np.random.default_rng(3).standard_normal((6, 784)).astype(np.float32))
    r = subprocess.run([a.dlc, "run", os.path.join(MODELS, "mlp.onnx"), "--dynamic", "batch<=8", "--input",
                        "x=" + os.path.join(work, "x6.npy"), "--check"], capture_output=True, text=True, timeout=600)
    if r.returncode or "y: f32[6,10]" not in r.stdout or ": ok" not in r.stdout:
        fail("dlc run --dynamic with a batch of 6 in --input: status %d: %s" % (r.returncode, r.stderr.strip()))
    else:
        print("ok dlc run --dynamic batch<=8, the batch (6) from --input")
    r = subprocess.run([a.dlc, "run", os.path.join(MODELS, "mlp.onnx"), "--dynamic", "batch<=4", "--batch", "5"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 1 or "batch=5 is over its bound, 4" not in r.stderr:
        fail("dlc run --dynamic over the bound: status %d: %r" % (r.returncode, r.stderr))
    r = subprocess.run([a.dlc, "compile", os.path.join(MODELS, "mlp.onnx"), "--dynamic", "seq=8,16", "-o",
                        os.path.join(work, "noseq.c")], capture_output=True, text=True, timeout=120)
    if r.returncode != 1 or "no input of the model has a dimension of that name" not in r.stderr:
        fail("--dynamic seq on a model without seq: status %d: %r" % (r.returncode, r.stderr))
    for bad in ("batch<=1", "batch<", "batch<=8:2,4", "seq=", "batch<=8:1,4,3"):
        r = subprocess.run([a.dlc, "compile", os.path.join(MODELS, "mlp.onnx"), "--dynamic", bad, "-o",
                            os.path.join(work, "bad.c")], capture_output=True, text=True, timeout=120)
        if r.returncode != 1 or len(r.stderr.strip().splitlines()) != 1 or "--dynamic" not in r.stderr:
            fail("--dynamic %r: status %d: %r" % (bad, r.returncode, r.stderr))
    return report()


def report():
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all passed")
    return 0


def cuda(a, work):
    """The CUDA backend: a bound batch (in place, and staged for [T, batch, F]), an input
    that does not follow it, exact sizes, and `dlc run --target cuda --dynamic --check`."""
    for name, make in (("mlp", floats(784)), ("lenet", floats(1, 28, 28)),
                       ("gpt", lambda rng, n: [rng.integers(0, 64, (n, 16)).astype(np.int64)])):
        check_model(a.dlc, work, name, onnx.load(os.path.join(MODELS, name + ".onnx")), make, rtol=1e-3, atol=1e-4)
    m, make = lstm_batch_second()
    check_model(a.dlc, work, "lstm_t", m, make)
    m, make = shared_input()
    check_model(a.dlc, work, "shared", m, make)
    if a.exported:
        check_model(a.dlc, work, "cnn_hw", onnx.load(os.path.join(a.exported, "cnn_hw.onnx")),
                    lambda rng, n: [rng.standard_normal((n[0], 3, n[1], n[2])).astype(np.float32)],
                    sizes=[(1, 8, 10), (3, 12, 16), (4, 8, 16)], dyn=("batch<=4", "h=8,12", "w=10,16"),
                    over=(1, 9, 10), rtol=1e-3, atol=1e-4)
    for model, args in (("lenet.onnx", ["--dynamic", "batch<=8", "--batch", "7"]),
                        ("lstm.onnx", ["--dynamic", "batch<=4:1,3", "--batch", "4"])):
        r = subprocess.run([a.dlc, "run", os.path.join(MODELS, model), "--target", "cuda", *args, "--check"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode or ": ok" not in r.stdout:
            fail("dlc run %s --target cuda %s --check: status %d: %s" % (model, " ".join(args), r.returncode,
                                                                         r.stderr.strip()))
        else:
            print("ok dlc run %s --target cuda %s --check" % (model, " ".join(args)))
    # dlc bench of the dynamic build beside the static ones, at two sizes (the times are
    # the emulator's where there is no GPU: only that it runs and agrees is checked)
    r = subprocess.run([a.dlc, "bench", os.path.join(MODELS, "mlp.onnx"), "--target", "cuda", "--dynamic", "batch<=4",
                        "--at", "1,3", "--runs", "1", "--warmup", "0"], capture_output=True, text=True, timeout=600)
    rows = [ln.split() for ln in r.stdout.splitlines() if ln.split()[:1] in (["1"], ["3"])]
    if r.returncode or "target cuda" not in r.stdout or len(rows) != 2 or any(float(w[-1]) > 1e-5 for w in rows):
        fail("dlc bench --target cuda --dynamic: status %d: %s %s" % (r.returncode, r.stdout.strip(), r.stderr.strip()))
    else:
        print("ok dlc bench --target cuda --dynamic batch<=4 --at 1,3")


if __name__ == "__main__":
    sys.exit(main())
