#!/usr/bin/env python3
"""lowp_models_test.py --dlc DLC --exported DIR: real float16, bfloat16 and int8 models,
as users get them, run by dlc and compared with independent oracles.

DIR holds lowp_export.py's exports (torchvision's SqueezeNet 1.1 in float32, the GPT of
models/ exported in bfloat16 by PyTorch, with PyTorch's own output).

- float16: the SqueezeNet converted by onnxconverter-common (`convert_float_to_float16`,
  the usual way to a float16 ONNX file: weights, activations, inputs and outputs in
  float16) against ONNX Runtime running the same file.  Tolerance: 2 float16 ulps of the
  largest output (dlc computes each operator in float32 and rounds at its boundary, ONNX
  Runtime's kernels differ in where they round).
- bfloat16: the GPT against onnx's reference evaluator (ONNX Runtime's CPU provider has
  no bfloat16 MatMul) and against PyTorch's bfloat16 run that exported it.  Tolerance: 4
  bfloat16 ulps of the largest probability, and the same arg-max everywhere.
- int8 QDQ: the SqueezeNet quantized by onnxruntime.quantization.quantize_static (QDQ
  format, int8 activations and per-channel int8 weights, calibrated on seeded random
  images) against ONNX Runtime running it with its int8 kernels.  Tolerance: one step of
  the output's quantization scale (two for at most 1% of the outputs: a near-tie rounded
  the other way upstream spreads), on a mean of at most 0.3 steps, and the same arg-max:
  dlc sums the convolutions' integers exactly (matmul_int) and scales in float32, ONNX
  Runtime as its QDQ fusion does, so a value within an ulp of a rounding boundary of a
  QuantizeLinear may land one step apart.
Each model is compiled once (`dlc run`, inputs from .npy) per input; exit 1 on any
mismatch.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
from onnx.reference import ReferenceEvaluator

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def dlc_run(dlc, model, inputs, tmp):
    out = tempfile.mkdtemp(dir=tmp)
    args = [dlc, "run", model, "--output", out]
    for name, value in inputs.items():
        path = os.path.join(out, "in_" + name + ".npy")
        np.save(path, value)
        args += ["--input", "%s=%s" % (name, path)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        sys.exit("dlc run %s failed: %s" % (model, p.stderr.strip()))
    return out


def ulp(dtype, x):
    """The spacing of dtype's values at magnitude x."""
    return float(np.spacing(dtype(x)).astype(np.float32)) if dtype is np.float16 else \
        float(2.0 ** (np.floor(np.log2(x)) - 7))


def float16_cnn(dlc, exported, tmp):
    from onnxconverter_common import float16
    path = os.path.join(tmp, "squeezenet_f16.onnx")
    m = float16.convert_float_to_float16(onnx.load(os.path.join(exported, "squeezenet_f32.onnx")), keep_io_types=False)
    onnx.save(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(21)
    for i in range(2):
        x = rng.standard_normal((1, 3, 64, 64)).astype(np.float16)
        out = dlc_run(dlc, path, {"x": x}, tmp)
        got = np.load(os.path.join(out, "y.npy"))
        want = sess.run(None, {"x": x})[0]
        check(got.dtype == np.float16 and got.shape == want.shape, "float16 SqueezeNet %d: dtype %s shape %s" %
              (i, got.dtype, got.shape))
        diff = np.abs(got.astype(np.float32) - want.astype(np.float32)).max()
        tol = 2 * ulp(np.float16, np.abs(want.astype(np.float32)).max())
        check(diff <= tol, "float16 SqueezeNet %d vs ONNX Runtime: max abs diff %.3g (tolerance %.3g)" % (i, diff, tol))


def bfloat16_gpt(dlc, exported, tmp):
    path = os.path.join(exported, "gpt_bf16.onnx")
    ids = np.load(os.path.join(exported, "gpt_bf16_ids.npy"))
    torch_y = np.load(os.path.join(exported, "gpt_bf16_torch.npy"))
    out = dlc_run(dlc, path, {"ids": ids}, tmp)
    raw = np.load(os.path.join(out, "p.npy"))
    check(raw.dtype.itemsize == 2 and raw.shape == torch_y.shape, "bfloat16 GPT: 2-byte output of shape %s" %
          (raw.shape,))
    got = raw.view(ml_dtypes.bfloat16).astype(np.float32)
    ref = ReferenceEvaluator(onnx.load(path)).run(None, {"ids": ids})[0].astype(np.float32)
    tol = 4 * ulp(None, np.abs(ref).max())
    for name, want in (("onnx's reference", ref), ("PyTorch", torch_y)):
        diff = np.abs(got - want).max()
        check(diff <= tol, "bfloat16 GPT vs %s: max abs diff %.3g (tolerance %.3g)" % (name, diff, tol))
        check(bool((got.argmax(-1) == want.argmax(-1)).all()), "bfloat16 GPT vs %s: the same arg-max" % name)


class Images:
    def __init__(self, seed, n):
        rng = np.random.default_rng(seed)
        self.batches = iter([{"x": rng.standard_normal((1, 3, 64, 64)).astype(np.float32)} for _ in range(n)])

    def get_next(self):
        return next(self.batches, None)


def int8_qdq(dlc, exported, tmp):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    CalibrationDataReader.register(Images)
    pre, path = os.path.join(tmp, "pre.onnx"), os.path.join(tmp, "squeezenet_qdq.onnx")
    quant_pre_process(os.path.join(exported, "squeezenet_f32.onnx"), pre, skip_symbolic_shape=True)
    quantize_static(pre, path, Images(31, 8), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    m = onnx.load(path)
    ops = {n.op_type for n in m.graph.node}
    check({"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops, "int8 QDQ SqueezeNet has Q, DQ and Conv nodes")
    last = [n for n in m.graph.node if "y" in n.output][0]
    scale = float(onnx.numpy_helper.to_array([t for t in m.graph.initializer if t.name == last.input[1]][0]))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(32)
    for i in range(3):
        x = rng.standard_normal((1, 3, 64, 64)).astype(np.float32)
        out = dlc_run(dlc, path, {"x": x}, tmp)
        got = np.load(os.path.join(out, "y.npy"))
        want = sess.run(None, {"x": x})[0]
        # dlc's convolutions sum the integers exactly (matmul_int), ONNX Runtime's QDQ path
        # as it fuses it or in float: a value within ~1e-7 of a rounding tie (one in this
        # seed's third image: 50.5000066 steps, which ONNX Runtime rounds to 50) goes the
        # other way, and the step it moves spreads through the layers after it
        steps = np.abs(got - want) / scale
        check(steps.max() <= 2.0 + 1e-3 and (steps > 1.0 + 1e-3).mean() <= 0.01 and steps.mean() <= 0.3,
              "int8 QDQ SqueezeNet %d vs ONNX Runtime's int8: %.2f steps at most, %.1f%% over 1, %.3f on average "
              "(2, 1%% and 0.3 allowed)" % (i, steps.max(), 100 * (steps > 1.0 + 1e-3).mean(), steps.mean()))
        check(int(got.argmax()) == int(want.argmax()), "int8 QDQ SqueezeNet %d: the same arg-max" % i)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--exported", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        float16_cnn(a.dlc, a.exported, tmp)
        bfloat16_gpt(a.dlc, a.exported, tmp)
        int8_qdq(a.dlc, a.exported, tmp)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
