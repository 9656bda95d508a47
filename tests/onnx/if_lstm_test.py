#!/usr/bin/env python3
"""if_lstm_test.py --dlc DLC --lib LIBDLC: a streaming voice-activity model with run-time
control flow, compiled once and run many times, against ONNX Runtime.

The model is shaped the way such models ship: the top If tests the value of a 0-d int64
input (the sample rate: 16000 or 8000), each branch holds its own weights as Constant
nodes and reads outer-scope names (the audio chunk, the LSTM state); inside each branch
an If on a shape (the chunk's length, known when compiling: folded) picks the
framing, and a second run-time If on the signal's energy picks a gain; an LSTM carries
its state in and out.  dlc compiles it once through the Python module (libdlc, the
jit); then a stream of chunks runs at both sample rates, the state fed back each step,
every output compared with ONNX Runtime's (1e-4).  The module's jit is the code path
of `dlc run`.

Needs: numpy, onnx, onnxruntime (the test tooling's Python, tools/pyenv.sh).
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
from onnx import TensorProto, numpy_helper

F, I64 = TensorProto.FLOAT, TensorProto.INT64
H, FRAME, CHUNK = 16, 16, 64


def const(name, arr):
    return oh.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(arr), name + "_v"))


def branch(tag, seed):
    """One sample rate's network: its weights are Constant nodes of the branch."""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((1, 4 * H, FRAME)) * 0.3).astype(np.float32)
    r = (rng.standard_normal((1, 4 * H, H)) * 0.3).astype(np.float32)
    b = (rng.standard_normal((1, 8 * H)) * 0.1).astype(np.float32)
    head = (rng.standard_normal((H, 1)) * 0.5).astype(np.float32)
    # If on a shape: the chunk's length decides the framing (static: folded by dlc)
    frames = oh.make_graph([const("fshape", np.array([CHUNK // FRAME, 1, FRAME], np.int64)),
                            oh.make_node("Reshape", ["x", "fshape"], ["fr"])], tag + "_frames", [],
                           [oh.make_tensor_value_info("fr", F, [CHUNK // FRAME, 1, FRAME])])
    other = oh.make_graph([const("fshape2", np.array([-1, 1, FRAME], np.int64)),
                           oh.make_node("Reshape", ["x", "fshape2"], ["fr"])], tag + "_other", [],
                          [oh.make_tensor_value_info("fr", F, [CHUNK // FRAME, 1, FRAME])])
    # a run-time If on the chunk's energy: a gain
    loud = oh.make_graph([const("g_hi", np.float32(0.5)), oh.make_node("Mul", ["xs", "g_hi"], ["xg"])],
                         tag + "_loud", [], [oh.make_tensor_value_info("xg", F, [CHUNK // FRAME, 1, FRAME])])
    quiet = oh.make_graph([const("g_lo", np.float32(2.0)), oh.make_node("Mul", ["xs", "g_lo"], ["xg"])],
                          tag + "_quiet", [], [oh.make_tensor_value_info("xg", F, [CHUNK // FRAME, 1, FRAME])])
    nodes = [
        oh.make_node("Shape", ["x"], ["xshape"]), const("one", np.array([1], np.int64)),
        oh.make_node("Gather", ["xshape", "one"], ["xlen"]), const("chunk", np.array([CHUNK], np.int64)),
        oh.make_node("Equal", ["xlen", "chunk"], ["is_chunk"]),
        oh.make_node("If", ["is_chunk"], ["xs"], then_branch=frames, else_branch=other),
        oh.make_node("Mul", ["x", "x"], ["sq"]), oh.make_node("ReduceMean", ["sq"], ["energy"], keepdims=0),
        const("thr", np.float32(0.3)), oh.make_node("Greater", ["energy", "thr"], ["is_loud"]),
        oh.make_node("If", ["is_loud"], ["xg"], then_branch=loud, else_branch=quiet),
        const("W", w), const("R", r), const("B", b),
        oh.make_node("LSTM", ["xg", "W", "R", "B", "", "h", "c"], ["Y", "hn", "cn"], hidden_size=H),
        const("hshape", np.array([1, H], np.int64)), oh.make_node("Reshape", ["hn", "hshape"], ["h2"]),
        const("head", head), oh.make_node("MatMul", ["h2", "head"], ["logit"]),
        oh.make_node("Sigmoid", ["logit"], ["prob"]),
    ]
    outs = [oh.make_tensor_value_info("prob", F, [1, 1]), oh.make_tensor_value_info("hn", F, [1, 1, H]),
            oh.make_tensor_value_info("cn", F, [1, 1, H])]
    return oh.make_graph(nodes, tag, [], outs)


def make_model(path):
    nodes = [const("sr16", np.array(16000, np.int64)), oh.make_node("Equal", ["sr", "sr16"], ["is16"]),
             oh.make_node("If", ["is16"], ["prob", "hn", "cn"], then_branch=branch("sr16k", 1),
                          else_branch=branch("sr8k", 2))]
    g = oh.make_graph(nodes, "vad",
                      [oh.make_tensor_value_info("x", F, [1, CHUNK]), oh.make_tensor_value_info("sr", I64, []),
                       oh.make_tensor_value_info("h", F, [1, 1, H]), oh.make_tensor_value_info("c", F, [1, 1, H])],
                      [oh.make_tensor_value_info("prob", F, [1, 1]), oh.make_tensor_value_info("hn", F, [1, 1, H]),
                       oh.make_tensor_value_info("cn", F, [1, 1, H])])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True, help="the dlc binary (for the repository's python/)")
    ap.add_argument("--lib", required=True, help="libdlc")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ["DLC_LIBRARY"] = a.lib
    sys.path.insert(0, os.path.join(root, "python"))
    import dlc
    with tempfile.TemporaryDirectory(prefix="dlc-vad-") as tmp:
        os.environ["TMPDIR"] = tmp
        path = os.path.join(tmp, "vad.onnx")
        make_model(path)
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        m = dlc.compile(path)  # once
        rng = np.random.default_rng(7)
        bad = steps = 0
        for sr in (16000, 8000, 16000):
            h = np.zeros((1, 1, H), np.float32)
            c = np.zeros((1, 1, H), np.float32)
            for k in range(4):
                scale = 1.0 if k % 2 else 0.2  # loud and quiet chunks: both sides of the inner If
                x = (rng.standard_normal((1, CHUNK)) * scale).astype(np.float32)
                feed = {"x": x, "sr": np.array(sr, np.int64), "h": h, "c": c}
                want = dict(zip(["prob", "hn", "cn"], sess.run(None, feed)))
                got = m.run(**feed)
                for name in want:
                    err = float(np.max(np.abs(got[name] - want[name]) / np.maximum(1, np.abs(want[name]))))
                    if not err <= 1e-4:
                        print("FAIL: sr %d step %d: %s differs by %g" % (sr, k, name, err))
                        bad += 1
                h, c = want["hn"], want["cn"]
                steps += 1
        m.close()
    print("%s: %d steps at two sample rates, one compilation" % ("FAIL" if bad else "ok", steps))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
