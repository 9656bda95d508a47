#!/usr/bin/env python3
"""ONNX operators built over core ops, against ONNX Runtime: small one-node models of
each family (quant, grid, roi, dft, attn, bitcast, text, resize), compiled and run by dlc (`dlc run --check`, which also
compares the compiled code with dlc's reference interpreter) on seeded inputs, the
outputs compared with onnxruntime's (with ONNX's reference evaluator, or numpy, where a
case says why).  Integer outputs must be equal; float outputs
within the case's tolerance: |dlc - oracle| <= tol * (|oracle| + atol).

    ops_ort_test.py --dlc build/tools/dlc --family quant
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
from onnx import TensorProto as TP
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

NP = {np.dtype(np.float16): TP.FLOAT16, np.dtype(ml_dtypes.bfloat16): TP.BFLOAT16,
      np.dtype(ml_dtypes.float8_e4m3fn): TP.FLOAT8E4M3FN, np.dtype(ml_dtypes.float8_e4m3fnuz): TP.FLOAT8E4M3FNUZ,
      np.dtype(ml_dtypes.float8_e5m2): TP.FLOAT8E5M2, np.dtype(ml_dtypes.float8_e5m2fnuz): TP.FLOAT8E5M2FNUZ,
      np.dtype(ml_dtypes.float8_e8m0fnu): TP.FLOAT8E8M0, np.dtype(ml_dtypes.float4_e2m1fn): TP.FLOAT4E2M1,
      np.dtype(ml_dtypes.int4): TP.INT4, np.dtype(ml_dtypes.uint4): TP.UINT4, np.dtype(ml_dtypes.int2): TP.INT2,
      np.dtype(ml_dtypes.uint2): TP.UINT2,
      np.dtype(np.bool_): TP.BOOL, np.dtype(np.uint64): TP.UINT64, np.dtype(np.uint32): TP.UINT32, np.dtype(np.float32): TP.FLOAT, np.dtype(np.float64): TP.DOUBLE, np.dtype(np.uint8): TP.UINT8,
      np.dtype(np.int8): TP.INT8, np.dtype(np.uint16): TP.UINT16, np.dtype(np.int16): TP.INT16,
      np.dtype(np.int32): TP.INT32, np.dtype(np.int64): TP.INT64, np.dtype(np.float16): TP.FLOAT16,
      np.dtype(ml_dtypes.bfloat16): TP.BFLOAT16}


class Case:
    """One node: inputs fed at run time (name -> array), constants as initializers
    (name -> array; "" leaves an optional input out), its attributes and opset."""

    def __init__(self, name, op, inputs, consts=None, order=None, outputs=("y",), opset=21, tol=1e-5, atol=1e-3,
                 oracle=None, reference=False, refuse=None, check=True, bits=False, **attrs):
        self.name, self.op, self.inputs, self.consts, self.oracle = name, op, inputs, consts or {}, oracle
        self.reference = reference  # ONNX's reference evaluator instead of onnxruntime
        self.refuse = refuse  # dlc must refuse the model with one line holding this
        self.check = check  # also compare with dlc's interpreter (dlc run --check)
        self.bits = bits  # outputs compared byte for byte (NaN payloads, -0, the storage dtypes)
        self.order = order or list(inputs) + list(self.consts)
        self.outputs, self.opset, self.tol, self.atol, self.attrs = outputs, opset, tol, atol, attrs

    def model(self):
        node = helper.make_node(self.op, self.order, list(self.outputs), name="n", **self.attrs)
        ins = [helper.make_tensor_value_info(k, TP.STRING if v.dtype.kind == "U" else NP[v.dtype], list(v.shape))
               for k, v in self.inputs.items()]
        inits = [numpy_helper.from_array(v, k) for k, v in self.consts.items() if k]
        consts = {k: v for k, v in self.consts.items() if k}
        outs = [helper.make_empty_tensor_value_info(o) for o in self.outputs]
        g = helper.make_graph([node], self.name, ins, outs, initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 10
        if self.refuse:
            return m
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        for o in m.graph.output:  # the element type is what onnxruntime needs; the shape it works out
            o.type.tensor_type.ClearField("shape")
        return m


class Chain(Case):
    """Several nodes, (op, inputs, outputs, attrs) in order, the last one's output y."""

    def __init__(self, name, nodes, inputs, consts=None, **kw):
        super().__init__(name, nodes[-1][0], inputs, consts, **kw)
        self.nodes = nodes

    def model(self):
        nodes = [helper.make_node(op, list(i), list(o), name="n%d" % k, **a) for k, (op, i, o, a) in enumerate(self.nodes)]
        ins = [helper.make_tensor_value_info(k, NP[v.dtype], list(v.shape)) for k, v in self.inputs.items()]
        inits = [numpy_helper.from_array(v, k) for k, v in self.consts.items() if k]
        outs = [helper.make_empty_tensor_value_info(o) for o in self.outputs]
        m = helper.make_model(helper.make_graph(nodes, self.name, ins, outs, initializer=inits),
                              opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = 10
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        for o in m.graph.output:
            o.type.tensor_type.ClearField("shape")
        return m


def rng(seed):
    return np.random.default_rng(seed)


def quant_cases():
    r = rng(1)
    f32, u8, i8 = np.float32, np.uint8, np.int8
    halves = (np.arange(-40, 40, dtype=f32) * 0.25).reshape(4, 20)  # k/2 * scale 0.5: every tie
    yield Case("quantize_ties", "QuantizeLinear", {"x": halves}, {"s": np.array(0.5, f32), "z": np.array(128, u8)},
               opset=10)
    yield Case("quantize_i8_saturate", "QuantizeLinear", {"x": (r.standard_normal((3, 5)) * 300).astype(f32)},
               {"s": np.array(1.5, f32), "z": np.array(-3, i8)}, opset=13)
    yield Case("quantize_axis", "QuantizeLinear", {"x": (r.standard_normal((2, 3, 4)) * 50).astype(f32)},
               {"s": np.array([0.5, 1.0, 2.0], f32), "z": np.array([-10, 0, 7], i8)}, opset=13, axis=1)
    yield Case("quantize_axis_neg", "QuantizeLinear", {"x": (r.standard_normal((2, 3, 4)) * 50).astype(f32)},
               {"s": np.array([0.5, 1.0, 2.0, 0.25], f32), "z": np.array([1, 2, 3, 4], u8)}, opset=19, axis=-1)
    yield Case("quantize_u16_dtype", "QuantizeLinear", {"x": (r.standard_normal((4, 4)) * 9000).astype(f32)},
               {"s": np.array(0.25, f32)}, order=["x", "s"], opset=21, output_dtype=TP.UINT16)
    yield Case("quantize_i16_zp", "QuantizeLinear", {"x": (r.standard_normal((4, 4)) * 9000).astype(f32)},
               {"s": np.array(0.5, f32), "z": np.array(-100, np.int16)}, opset=21)
    yield Case("quantize_default_u8", "QuantizeLinear", {"x": (r.standard_normal((5,)) * 100).astype(f32)},
               {"s": np.array([0.75], f32)}, order=["x", "s"], opset=13)
    yield Case("quantize_blocked", "QuantizeLinear", {"x": (r.standard_normal((3, 7)) * 20).astype(f32)},
               {"s": (r.random((3, 3)) + 0.1).astype(f32), "z": r.integers(-5, 5, (3, 3)).astype(i8)},
               opset=21, axis=1, block_size=3)
    yield Case("quantize_i32_input", "QuantizeLinear", {"x": r.integers(-5000, 5000, (3, 4)).astype(np.int32)},
               {"s": np.array(7.0, f32), "z": np.array(3, i8)}, opset=21, reference=True)  # onnxruntime: float x only
    yield Case("quantize_f64_precision", "QuantizeLinear", {"x": (r.standard_normal((6,)) * 100).astype(f32)},
               {"s": np.array(0.3, f32), "z": np.array(3, u8)}, opset=23, precision=TP.DOUBLE, reference=True)
    yield Case("dequantize_u8", "DequantizeLinear", {"x": r.integers(0, 256, (3, 4)).astype(u8)},
               {"s": np.array(0.125, f32), "z": np.array(100, u8)}, opset=10)
    yield Case("dequantize_axis_i8", "DequantizeLinear", {"x": r.integers(-128, 128, (2, 3, 4)).astype(i8)},
               {"s": np.array([0.5, 0.1, 3.0], f32), "z": np.array([-128, 0, 127], i8)}, opset=13, axis=1)
    yield Case("dequantize_i32", "DequantizeLinear", {"x": r.integers(-2**31, 2**31, (3, 4)).astype(np.int32)},
               {"s": np.array(1e-3, f32)}, order=["x", "s"], opset=13)
    yield Case("dequantize_i16_blocked", "DequantizeLinear", {"x": r.integers(-2**15, 2**15, (4, 6)).astype(np.int16)},
               {"s": (r.random((2, 6)) + 0.1).astype(f32), "z": r.integers(-9, 9, (2, 6)).astype(np.int16)},
               opset=21, axis=0, block_size=2)
    yield Case("dequantize_u16", "DequantizeLinear", {"x": r.integers(0, 2**16, (5,)).astype(np.uint16)},
               {"s": np.array(0.01, f32), "z": np.array(30000, np.uint16)}, opset=21)
    for k, x in (("mixed", r.standard_normal((3, 4)) * 4), ("positive", r.random((6,)) + 1),
                 ("negative", -r.random((2, 3)) - 0.5), ("zeros", np.zeros((2, 2)))):
        yield Case("dynamic_" + k, "DynamicQuantizeLinear", {"x": x.astype(f32)}, outputs=("y", "s", "z"), opset=11)
    yield Case("matmulinteger_u8", "MatMulInteger", {"a": r.integers(0, 256, (4, 5)).astype(u8),
                                                     "b": r.integers(0, 256, (5, 3)).astype(u8)},
               {"az": np.array(12, u8), "bz": np.array(200, u8)}, opset=10)
    # onnxruntime takes one zero point only: the spec's per-row and per-column forms in numpy
    yield Case("matmulinteger_rows_cols", "MatMulInteger", {"a": r.integers(-128, 128, (4, 5)).astype(i8),
                                                            "b": r.integers(-128, 128, (5, 3)).astype(i8)},
               {"az": r.integers(-128, 128, (4,)).astype(i8), "bz": r.integers(-128, 128, (3,)).astype(i8)}, opset=10,
               oracle=lambda a, b, az, bz: [(a.astype(np.int32) - az[:, None]) @ (b.astype(np.int32) - bz)])
    yield Case("matmulinteger_batched_deep", "MatMulInteger", {"a": r.integers(0, 256, (2, 3, 400)).astype(u8),
                                                               "b": r.integers(0, 256, (400, 2)).astype(u8)},
               {"az": np.array(255, u8), "bz": np.array(0, u8)}, opset=10)
    yield Case("matmulinteger_no_zp", "MatMulInteger", {"a": r.integers(-128, 128, (3, 6)).astype(i8),
                                                        "b": r.integers(0, 256, (6, 2)).astype(u8)}, opset=10)
    yield Case("convinteger_pad", "ConvInteger", {"x": r.integers(0, 256, (1, 2, 5, 5)).astype(u8),
                                                  "w": r.integers(0, 256, (3, 2, 3, 3)).astype(u8)},
               {"xz": np.array(7, u8), "wz": np.array(130, u8)}, opset=10, pads=[1, 1, 1, 1])
    yield Case("convinteger_groups_strides", "ConvInteger", {"x": r.integers(0, 256, (2, 4, 6, 5)).astype(u8),
                                                             "w": r.integers(0, 256, (4, 2, 2, 3)).astype(u8)},
               {"xz": np.array(128, u8)}, opset=10, group=2, strides=[2, 1], auto_pad="SAME_UPPER")
    for t, lo, hi in ((u8, 0, 256), (i8, -128, 128)):
        nm = np.dtype(t).name
        yield Case("qlinearmatmul_" + nm, "QLinearMatMul",
                   {"a": r.integers(lo, hi, (2, 3, 4)).astype(t), "b": r.integers(lo, hi, (4, 5)).astype(t)},
                   {"as": np.array(0.02, f32), "az": np.array(lo + 100, t), "bs": np.array(0.015, f32),
                    "bz": np.array(lo + 120, t), "ys": np.array(0.3, f32), "yz": np.array(lo + 128, t)},
                   order=["a", "as", "az", "b", "bs", "bz", "ys", "yz"], opset=21)
        yield Case("qlinearconv_" + nm, "QLinearConv",
                   {"x": r.integers(lo, hi, (1, 3, 5, 6)).astype(t)},
                   {"xs": np.array(0.05, f32), "xz": np.array(lo + 110, t),
                    "w": r.integers(lo, hi, (4, 3, 3, 3)).astype(t), "ws": (r.random(4) * 0.02 + 0.001).astype(f32),
                    "wz": np.array(0 if t is i8 else 128, t), "ys": np.array(0.8, f32), "yz": np.array(lo + 128, t),
                    "b": r.integers(-2000, 2000, (4,)).astype(np.int32)},
                   order=["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], opset=10, pads=[1, 0, 1, 2])
    # per output channel w zero point (ONNX's reference; onnxruntime takes one value)
    yield Case("convinteger_per_channel_zp", "ConvInteger", {"x": r.integers(0, 256, (1, 2, 4, 4)).astype(u8),
                                                             "w": r.integers(0, 256, (3, 2, 2, 2)).astype(u8)},
               {"xz": np.array(9, u8), "wz": np.array([1, 128, 250], u8)}, opset=10, reference=True)
    # per column b, per row a and y, against numpy: the integer sum, requantized in f64
    a8, b8 = r.integers(0, 256, (3, 5)).astype(u8), r.integers(0, 256, (5, 4)).astype(u8)
    qs = {"as": (r.random(3) * 0.02 + 0.01).astype(f32), "az": r.integers(0, 256, 3).astype(u8),
          "bs": (r.random(4) * 0.02 + 0.01).astype(f32), "bz": r.integers(0, 256, 4).astype(u8),
          "ys": (r.random(3) * 0.2 + 0.05).astype(f32), "yz": r.integers(0, 256, 3).astype(u8)}

    def qlinear_rows_cols(a, b, **q):
        acc = (a.astype(np.int64) - q["az"][:, None]) @ (b.astype(np.int64) - q["bz"][None, :])
        m = (q["as"][:, None] * q["bs"][None, :]) / q["ys"][:, None]  # f32, as the scales are
        y = np.rint(acc * m.astype(np.float64) + q["yz"][:, None])
        return [np.clip(y, 0, 255).astype(u8)]

    yield Case("qlinearmatmul_rows_cols", "QLinearMatMul", {"a": a8, "b": b8}, qs,
               order=["a", "as", "az", "b", "bs", "bz", "ys", "yz"], opset=21, oracle=qlinear_rows_cols)
    # groups of 1 run on the integer product through im2col: dilations, strides, 1-D, 1x1
    yield Case("convinteger_dilated_strided", "ConvInteger", {"x": r.integers(0, 256, (2, 3, 9, 8)).astype(u8),
                                                              "w": r.integers(-128, 128, (5, 3, 2, 3)).astype(i8)},
               {"xz": np.array(5, u8)}, opset=10, dilations=[2, 1], strides=[1, 2], pads=[1, 2, 0, 1], reference=True)
    yield Case("convinteger_1d", "ConvInteger", {"x": r.integers(0, 256, (2, 4, 10)).astype(u8),
                                                 "w": r.integers(0, 256, (3, 4, 3)).astype(u8)},
               {"xz": np.array(7, u8), "wz": np.array(100, u8)}, opset=10, strides=[2], pads=[1, 1])
    yield Case("convinteger_1x1", "ConvInteger", {"x": r.integers(0, 256, (1, 8, 5, 5)).astype(u8),
                                                  "w": r.integers(0, 256, (6, 8, 1, 1)).astype(u8)}, opset=10)
    yield Case("matmulinteger_broadcast", "MatMulInteger", {"a": r.integers(0, 256, (2, 1, 3, 6)).astype(u8),
                                                            "b": r.integers(0, 256, (4, 6, 5)).astype(u8)},
               {"az": np.array(17, u8), "bz": np.array(201, u8)}, opset=10)
    # QDQ convolutions (int8 or u8 activations, int8 weights per output channel, an i32
    # bias), which dlc runs on the integer product from a depth (C * taps) of 256 on: the
    # float result against the same convolution in f64 (numpy; float32 sums of 288
    # products, as ONNX's reference and ONNX Runtime add them, are 1e-4 off near zero)
    def qdq_conv(x, xs, xz, w, ws, wz, b, bs):
        xf = np.pad((x.astype(np.float64) - float(xz)) * float(xs), ((0, 0), (0, 0), (1, 1), (1, 0)))
        wf = (w.astype(np.float64) - wz.astype(np.float64)[:, None, None, None]) * ws.astype(np.float64)[:, None, None, None]
        oh, ow = (xf.shape[2] - w.shape[2]) // 2 + 1, xf.shape[3] - w.shape[3] + 1
        y = np.zeros((x.shape[0], w.shape[0], oh, ow))
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                y += np.einsum("nchw,oc->nohw", xf[:, :, i:i + 2 * oh - 1:2, j:j + ow], wf[:, :, i, j])
        return [(y + (b * bs.astype(np.float64))[None, :, None, None]).astype(np.float32)]

    for t, lo, hi in ((u8, 0, 256), (i8, -128, 128)):
        qdq = [("DequantizeLinear", ["x", "xs", "xz"], ["xf"], {}),
               ("DequantizeLinear", ["w", "ws", "wz"], ["wf"], {"axis": 0}),
               ("DequantizeLinear", ["b", "bs"], ["bf"], {"axis": 0}),
               ("Conv", ["xf", "wf", "bf"], ["y"], {"pads": [1, 1, 1, 0], "strides": [2, 1]})]
        ws = (r.random(6) * 0.02 + 0.001).astype(f32)
        yield Chain("qdq_conv_" + np.dtype(t).name, qdq, {"x": r.integers(lo, hi, (1, 32, 7, 6)).astype(t)},
                    {"xs": np.array(0.05, f32), "xz": np.array(lo + 110, t),
                     "w": r.integers(-128, 128, (6, 32, 3, 3)).astype(i8), "ws": ws, "wz": np.zeros(6, i8),
                     "b": r.integers(-2000, 2000, (6,)).astype(np.int32), "bs": (ws * 0.05).astype(f32)},
                    opset=21, oracle=qdq_conv)
    # QDQ MatMul and Gemm (8-bit activations, int8 weights per column, Gemm's B
    # transposed and a bias): the integer product from a depth of 256 on, against f64
    def qdq_mm(x, xs, xz, w, ws, wz, tb=False, b=None, bs=None):
        xf = (x.astype(np.float64) - float(xz)) * float(xs)
        z, sc = wz.astype(np.float64), ws.astype(np.float64)  # per column of B ([N, K] when tb)
        wf = (w.astype(np.float64) - (z[:, None] if tb else z)) * (sc[:, None] if tb else sc)
        y = xf @ (wf.T if tb else wf)
        return [(y if b is None else y + b * bs.astype(np.float64)).astype(np.float32)]

    for t, lo, hi in ((u8, 0, 256), (i8, -128, 128)):
        ws = (r.random(5) * 0.02 + 0.001).astype(f32)
        x = r.integers(lo, hi, (3, 300)).astype(t)
        consts = {"xs": np.array(0.05, f32), "xz": np.array(lo + 101, t), "ws": ws, "wz": np.zeros(5, i8)}
        mm = [("DequantizeLinear", ["x", "xs", "xz"], ["xf"], {}), ("DequantizeLinear", ["w", "ws", "wz"], ["wf"], {"axis": 1}),
              ("MatMul", ["xf", "wf"], ["y"], {})]
        yield Chain("qdq_matmul_" + np.dtype(t).name, mm, {"x": x}, {**consts, "w": r.integers(-128, 128, (300, 5)).astype(i8)},
                    opset=21, oracle=qdq_mm)
        b = r.integers(-2000, 2000, (5,)).astype(np.int32)
        gm = [("DequantizeLinear", ["x", "xs", "xz"], ["xf"], {}), ("DequantizeLinear", ["w", "ws", "wz"], ["wf"], {"axis": 0}),
              ("DequantizeLinear", ["b", "bs"], ["bf"], {"axis": 0}), ("Gemm", ["xf", "wf", "bf"], ["y"], {"transB": 1})]
        yield Chain("qdq_gemm_" + np.dtype(t).name, gm, {"x": x}, {**consts, "w": r.integers(-128, 128, (5, 300)).astype(i8),
                                                                   "b": b, "bs": (ws * 0.05).astype(f32)},
                    opset=21, oracle=lambda x, xs, xz, w, ws, wz, b, bs: qdq_mm(x, xs, xz, w, ws, wz, True, b, bs))
    x = np.ones((2, 2), f32)
    # float8, float4, int4 and int2 quantize (tests/onnx/narrow_test.py); float8e8m0 is no quantized type
    yield Case("refuse_quantize_float8e8m0", "QuantizeLinear", {"x": x}, {"s": np.array(1, f32)}, opset=25,
               output_dtype=TP.FLOAT8E8M0, refuse="the quantized type f8e8m0 is not one of")
    yield Case("refuse_quantize_float16", "QuantizeLinear", {"x": x}, {"s": np.array(1, f32)}, opset=21,
               output_dtype=TP.FLOAT16, refuse="the quantized type f16 is not one of u8, i8, u16, i16")
    # float16 is a dtype of dlc's (a storage dtype): the product in f32, rounded to it
    yield Case("dequantize_to_float16", "DequantizeLinear", {"x": r.integers(-128, 128, 40).astype(i8)},
               {"s": np.array(0.0173, f32), "z": np.array(-3, i8)}, opset=23, output_dtype=TP.FLOAT16, reference=True)
    yield Case("refuse_quantize_zp_mismatch", "QuantizeLinear", {"x": x}, {"s": np.array(1, f32), "z": np.array(0, i8)},
               opset=21, output_dtype=TP.UINT8, refuse="output_dtype uint8 differs from the zero point's type i8")
    yield Case("refuse_quantize_axis_scale", "QuantizeLinear", {"x": x}, {"s": np.ones(3, f32)}, opset=13,
               refuse="y_scale must be one value or a vector of 2")
    yield Case("refuse_matmulinteger_i16", "MatMulInteger", {"a": np.ones((2, 2), np.int16), "b": np.ones((2, 2), i8)},
               opset=10, refuse="A must be u8 or i8, not i16")


def grid_cases():
    r = rng(2)
    f32 = np.float32
    x2 = r.standard_normal((2, 3, 4, 5)).astype(f32)
    g2 = (r.random((2, 3, 6, 2)) * 3.2 - 1.6).astype(f32)  # points outside the borders too
    for mode in ("linear", "nearest", "cubic"):
        for pad in ("zeros", "border", "reflection"):
            for align in (0, 1):
                # cubic with border padding: onnxruntime's results differ from ONNX's reference
                # (by 0.2 here), which the node tests come from; dlc follows the reference
                yield Case("gridsample_%s_%s_%d" % (mode, pad, align), "GridSample", {"x": x2, "g": g2}, opset=20,
                           tol=1e-4, reference=mode == "cubic" and pad == "border", mode=mode, padding_mode=pad,
                           align_corners=align)
    yield Case("gridsample16_bicubic", "GridSample", {"x": x2, "g": g2}, opset=16, tol=1e-4, mode="bicubic",
               padding_mode="reflection")
    x3 = r.standard_normal((1, 2, 3, 4, 5)).astype(f32)
    g3 = (r.random((1, 2, 3, 4, 3)) * 3 - 1.5).astype(f32)
    for mode in ("linear", "nearest"):
        for pad in ("zeros", "border", "reflection"):
            yield Case("gridsample3d_%s_%s" % (mode, pad), "GridSample", {"x": x3, "g": g3}, opset=22, tol=1e-4,
                       mode=mode, padding_mode=pad, align_corners=int(pad == "border"))
    yield Case("refuse_gridsample_old_mode", "GridSample", {"x": x2, "g": g2}, opset=20, mode="bilinear",
               refuse="mode 'bilinear' is not one of linear, nearest, cubic")
    yield Case("refuse_gridsample_cubic_3d", "GridSample", {"x": x3, "g": g3}, opset=22, mode="cubic",
               refuse="cubic mode needs 2 spatial dimensions")
    for align in (0, 1):
        yield Case("affinegrid2d_%d" % align, "AffineGrid", {"t": r.standard_normal((2, 2, 3)).astype(f32)},
                   {"size": np.array([2, 3, 4, 5], np.int64)}, opset=20, tol=1e-4, atol=0.1, align_corners=align)
        yield Case("affinegrid3d_%d" % align, "AffineGrid", {"t": r.standard_normal((2, 3, 4)).astype(f32)},
                   {"size": np.array([2, 1, 3, 4, 2], np.int64)}, opset=20, tol=1e-4, atol=0.1, align_corners=align)


def dft_cases():
    r = rng(3)
    f32, i64 = np.float32, np.int64
    real = r.standard_normal((2, 8, 3, 1)).astype(f32)
    cplx = r.standard_normal((2, 5, 3, 2)).astype(f32)
    yield Case("dft17_real", "DFT", {"x": real}, opset=17, tol=1e-4, atol=0.1)
    yield Case("dft17_real_onesided", "DFT", {"x": real}, opset=17, tol=1e-4, atol=0.1, onesided=1)
    yield Case("dft17_complex_axis2", "DFT", {"x": cplx}, opset=17, tol=1e-4, atol=0.1, axis=2)
    yield Case("dft17_inverse", "DFT", {"x": cplx}, opset=17, tol=1e-4, atol=0.1, inverse=1)
    yield Case("dft17_truncate", "DFT", {"x": real}, {"len": np.array(6, i64)}, opset=17, tol=1e-4, atol=0.1)
    yield Case("dft17_pad_onesided", "DFT", {"x": real}, {"len": np.array(9, i64)}, opset=17, tol=1e-4, atol=0.1, onesided=1)
    yield Case("dft20_axis_input", "DFT", {"x": cplx}, {"len": np.array(4, i64), "axis": np.array(-3, i64)},
               opset=20, tol=1e-4, atol=0.1)
    yield Case("dft20_default_axis", "DFT", {"x": cplx}, opset=20, tol=1e-4, atol=0.1, inverse=1)
    # the inverse of a half spectrum (irfft): onnxruntime does not take it, numpy's irfft does
    half = r.standard_normal((2, 5, 2)).astype(f32)
    for m in (8, 9, None):
        consts = {"len": np.array(m, i64), "axis": np.array(1, i64)} if m else {}
        yield Case("dft20_irfft_%s" % m, "DFT", {"x": half}, consts, order=["x", "len", "axis"] if m else ["x"],
                   opset=20, tol=1e-4, atol=0.1, inverse=1, onesided=1,
                   oracle=lambda x, len=None, axis=None: [np.fft.irfft(x[..., 0] + 1j * x[..., 1], n=None if len is None
                                                                      else int(len), axis=1)[..., None].astype(f32)])
    sig = r.standard_normal((2, 40, 1)).astype(f32)
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(16) / 16)).astype(f32)
    yield Case("stft_window", "STFT", {"x": sig}, {"step": np.array(6, i64), "w": win}, opset=17, tol=1e-4, atol=0.1)
    yield Case("stft_length", "STFT", {"x": sig}, {"step": np.array(5, i64), "": None, "len": np.array(10, i64)},
               order=["x", "step", "", "len"], opset=17, tol=1e-4, atol=0.1)
    yield Case("stft_complex_window_input", "STFT", {"x": r.standard_normal((1, 30, 2)).astype(f32), "w": win},
               {"step": np.array(7, i64)}, order=["x", "step", "w"], opset=17, tol=1e-4, atol=0.1, onesided=0)
    yield Case("refuse_dft_onesided_complex", "DFT", {"x": cplx}, opset=17, onesided=1,
               refuse="onesided needs a real input")
    yield Case("refuse_dft_table_budget", "DFT", {"x": np.zeros((1, 16384, 1), f32)}, opset=17,
               refuse="the DFT's twiddle table: 2147483648 bytes, over the limit")
    yield Case("melweightmatrix", "MelWeightMatrix", {}, {"m": np.array(8, i64), "n": np.array(64, i64),
                                                          "r": np.array(16000, i64), "lo": np.array(20, f32),
                                                          "hi": np.array(7000, f32)}, opset=17)


def roi_cases():
    r = rng(4)
    f32 = np.float32
    # DeformConv: offsets of a few pixels move taps outside the image too
    xd = r.standard_normal((2, 4, 5, 6)).astype(f32)
    wdc = r.standard_normal((6, 2, 3, 2)).astype(f32)
    for name, attrs, og, mask, bias in (("plain", {}, 1, False, False),
                                       ("groups_mask_bias", {"group": 2, "offset_group": 2, "pads": [1, 0, 1, 1]}, 2,
                                        True, True),
                                       ("strides_dilations", {"strides": [2, 1], "dilations": [1, 2], "pads": [1, 1, 1, 1],
                                                              "offset_group": 4}, 4, True, False)):
        st, dl, pd = attrs.get("strides", [1, 1]), attrs.get("dilations", [1, 1]), attrs.get("pads", [0, 0, 0, 0])
        o = [(xd.shape[2 + i] + pd[i] + pd[2 + i] - (wdc.shape[2 + i] - 1) * dl[i] - 1) // st[i] + 1 for i in (0, 1)]
        w = wdc if attrs.get("group", 1) == 2 else r.standard_normal((6, 4, 3, 2)).astype(f32)
        ins = {"x": xd, "w": w, "off": (r.standard_normal((2, og * 6 * 2, *o)) * 1.5).astype(f32)}
        order = ["x", "w", "off"]
        if bias or mask:
            ins["b"] = r.standard_normal(6).astype(f32) if bias else None
            order.append("b" if bias else "")
        if mask:
            ins["m"] = r.random((2, og * 6, *o)).astype(f32)
            order.append("m")
        ins = {k: v for k, v in ins.items() if v is not None}
        yield Case("deformconv_" + name, "DeformConv", ins, order=order, opset=19, tol=1e-4, atol=0.1,
                   kernel_shape=[3, 2], **attrs)
    # RoiAlign: regions partly outside the image, of two images
    xr = r.standard_normal((2, 3, 8, 9)).astype(f32)
    rois = np.array([[0.5, 1.0, 6.0, 7.5], [-2.0, -1.0, 4.0, 3.0], [3.0, 2.0, 12.0, 10.0], [1.0, 1.0, 1.5, 1.2]], f32)
    bidx = np.array([0, 1, 1, 0], np.int64)
    for mode in ("avg", "max"):
        for ct in ("half_pixel", "output_half_pixel"):
            yield Case("roialign_%s_%s_sr2" % (mode, ct), "RoiAlign", {"x": xr, "rois": rois, "b": bidx}, opset=16,
                       tol=1e-4, mode=mode, coordinate_transformation_mode=ct, output_height=3, output_width=4,
                       sampling_ratio=2, spatial_scale=0.9)
        yield Case("roialign_%s_adaptive" % mode, "RoiAlign", {"x": xr, "b": bidx}, {"rois": rois},
                   order=["x", "rois", "b"], opset=16, tol=1e-4, mode=mode, output_height=2, output_width=3)
    yield Case("roialign10", "RoiAlign", {"x": xr, "rois": rois, "b": bidx}, opset=10, tol=1e-4, output_height=2,
               output_width=2, sampling_ratio=1)
    yield Case("refuse_roialign_adaptive_runtime_rois", "RoiAlign", {"x": xr, "rois": rois, "b": bidx}, opset=16,
               refuse="sampling_ratio 0 (adaptive) needs rois known at compile time")


def attn_cases():
    """LinearAttention and CausalConvWithState (opset 27) on shapes the node suite has
    not: longer sequences, d_k != d_v, grouped heads with per-head decay, a state in
    another dtype than the activations, bfloat16 (ONNX's reference: onnxruntime's Python
    binding takes no bfloat16), and what dlc refuses.  Attention and Softmax in float16
    and bfloat16 against ONNX's reference, which rounds each step to the type: dlc rounds
    at the same steps, so the tolerance is under an ulp of the type (a bfloat16 row of
    more than 64 keys is summed in f32: several ulps)."""
    r = rng(5)
    f32, f16, bf16 = np.float32, np.float16, ml_dtypes.bfloat16

    def qkv(b, t, hq, hkv, dk, dv, ty=f32):
        k = r.standard_normal((b, t, hkv, dk))
        k /= np.linalg.norm(k, axis=-1, keepdims=True)  # L2-normalised keys, as the delta rules expect
        return {"q": r.standard_normal((b, t, hq * dk)).astype(ty), "k": k.reshape(b, t, hkv * dk).astype(ty),
                "v": r.standard_normal((b, t, hkv * dv)).astype(ty)}

    def gates(b, t, gh, bh, ty=f32):
        return {"g": (-r.random((b, t, gh)) * 0.5).astype(ty), "b": r.random((b, t, bh)).astype(ty)}

    def state(b, hkv, dk, dv, ty=f32):
        return (r.standard_normal((b, hkv, dk, dv)) * 0.5).astype(ty)

    la, out2 = "LinearAttention", ("y", "s")
    yield Case("la_gated_delta_gqa_head_decay_past", la, {**qkv(2, 7, 4, 2, 3, 5), "p": state(2, 2, 3, 5), **gates(2, 7, 2, 1)},
               order=["q", "k", "v", "p", "g", "b"], outputs=out2, opset=27, tol=1e-4, q_num_heads=4, kv_num_heads=2)
    yield Case("la_delta_mqa", la, {**qkv(1, 6, 3, 1, 4, 2), "b": r.random((1, 6, 1)).astype(f32)},
               order=["q", "k", "v", "", "", "b"], outputs=out2, opset=27, tol=1e-4, q_num_heads=3, kv_num_heads=1,
               update_rule="delta", chunk_size=2)
    yield Case("la_gated_key_decay_scale", la, {**qkv(2, 5, 2, 2, 4, 3), "g": gates(2, 5, 8, 1)["g"]},
               order=["q", "k", "v", "", "g"], outputs=out2, opset=27, tol=1e-4, q_num_heads=2, kv_num_heads=2,
               update_rule="gated", scale=0.3)
    yield Case("la_linear_past", la, {**qkv(1, 3, 2, 2, 2, 6), "p": state(1, 2, 2, 6)}, order=["q", "k", "v", "p"],
               outputs=out2, opset=27, tol=1e-4, q_num_heads=2, kv_num_heads=2, update_rule="linear")
    yield Case("la_f16_gated_delta", la, {**qkv(2, 5, 4, 2, 4, 4, f16), **gates(2, 5, 8, 2, f16)},
               order=["q", "k", "v", "", "g", "b"], outputs=out2, opset=27, tol=2e-3, atol=1e-2, q_num_heads=4,
               kv_num_heads=2)
    # the state S in another dtype than T: present_state takes past_state's
    yield Case("la_f16_state_f32", la, {**qkv(1, 4, 2, 2, 3, 3, f16), "p": state(1, 2, 3, 3), **gates(1, 4, 2, 2, f16)},
               order=["q", "k", "v", "p", "g", "b"], outputs=out2, opset=27, tol=1e-3, atol=1e-3, reference=True,
               q_num_heads=2, kv_num_heads=2)
    yield Case("la_f32_state_bf16", la, {**qkv(1, 4, 2, 1, 3, 2), "p": state(1, 1, 3, 2, bf16)},
               order=["q", "k", "v", "p"], outputs=out2, opset=27, tol=1e-3, atol=1e-3, reference=True,
               q_num_heads=2, kv_num_heads=1, update_rule="linear")
    yield Case("la_bf16_gated_delta", la, {**qkv(2, 4, 2, 2, 4, 4, bf16), **gates(2, 4, 2, 2, bf16)},
               order=["q", "k", "v", "", "g", "b"], outputs=out2, opset=27, tol=1e-3, atol=1e-3, reference=True,
               q_num_heads=2, kv_num_heads=2)
    small = qkv(1, 2, 2, 2, 2, 2)
    yield Case("refuse_la_rule", la, small, outputs=out2, opset=27, q_num_heads=2, kv_num_heads=2, update_rule="retnet",
               refuse="update_rule 'retnet' is not one of")
    yield Case("refuse_la_no_decay", la, small, outputs=out2, opset=27, q_num_heads=2, kv_num_heads=2,
               update_rule="gated", refuse="update_rule 'gated' needs the decay input")
    yield Case("refuse_la_heads", la, small, outputs=out2, opset=27, q_num_heads=3, kv_num_heads=2,
               update_rule="linear", refuse="must be a positive multiple of kv_num_heads")

    cc = "CausalConvWithState"
    x, w = r.standard_normal((2, 3, 6)).astype(f32), r.standard_normal((3, 1, 3)).astype(f32)
    bias, past = r.standard_normal(3).astype(f32), r.standard_normal((2, 3, 2)).astype(f32)
    yield Case("cc_past_bias_silu", cc, {"x": x, "p": past}, {"w": w, "bias": bias}, order=["x", "w", "bias", "p"],
               outputs=out2, opset=27, tol=1e-5, activation="silu")
    yield Case("cc_short_input_past", cc, {"x": x[:, :, :2], "w": r.standard_normal((3, 1, 5)).astype(f32),
                                           "p": r.standard_normal((2, 3, 4)).astype(f32)},
               order=["x", "w", "", "p"], outputs=out2, opset=27, tol=1e-5)
    yield Case("cc_f16_bias_swish", cc, {"x": x.astype(f16), "w": w.astype(f16), "bias": bias.astype(f16)},
               outputs=out2, opset=27, tol=2e-3, atol=1e-2, activation="swish")
    x16 = (r.standard_normal((2, 8, 9)) * 4).astype(f16)
    yield Case("cc_f16_bias_exact", cc, {"x": x16, "w": r.standard_normal((8, 1, 4)).astype(f16),
                                         "bias": r.standard_normal(8).astype(f16)}, outputs=out2, opset=27, tol=1e-4,
               atol=1e-3, reference=True)
    yield Case("cc_bf16_past_silu", cc, {"x": x.astype(bf16), "w": w.astype(bf16), "p": past.astype(bf16)},
               order=["x", "w", "", "p"], outputs=out2, opset=27, tol=1e-2, atol=1e-2, reference=True,
               activation="silu")
    yield Case("refuse_cc_activation", cc, {"x": x, "w": w}, outputs=out2, opset=27, activation="gelu",
               refuse="activation 'gelu' is not one of")
    yield Case("refuse_cc_weight", cc, {"x": x, "w": r.standard_normal((3, 2, 3)).astype(f32)}, outputs=out2,
               opset=27, refuse="weight must be [3, 1, k]")

    def qkv4(b, hq, hkv, sq, skv, d, ty):
        return {"Q": r.standard_normal((b, hq, sq, d)).astype(ty), "K": r.standard_normal((b, hkv, skv, d)).astype(ty),
                "V": r.standard_normal((b, hkv, skv, d)).astype(ty)}

    exact = dict(tol=1e-3, atol=1e-3, reference=True)  # bf16's ulp is 2^-8, f16's 2^-11 (relative)
    yield Case("attn_bf16_gqa_softcap_causal", "Attention", qkv4(2, 4, 2, 5, 7, 8, bf16), opset=23, is_causal=1,
               softcap=2.5, **exact)
    yield Case("attn_f16_softcap_mode1", "Attention", qkv4(1, 2, 2, 3, 5, 8, f16), outputs=("y", "pk", "pv", "qk"),
               opset=23, softcap=1.5, qk_matmul_output_mode=1, **exact)
    x3 = qkv4(1, 1, 1, 3, 6, 12, bf16)
    yield Case("attn_bf16_3d_mask_scale", "Attention",
               {"Q": x3["Q"].reshape(1, 3, 12), "K": x3["K"].reshape(1, 6, 12), "V": x3["V"].reshape(1, 6, 12),
                "M": (r.standard_normal((3, 6)) * 2).astype(bf16)}, opset=23, q_num_heads=3, kv_num_heads=3,
               scale=0.4, **exact)
    yield Case("attn_f16_softmax_f32_mask", "Attention",
               {**qkv4(1, 2, 2, 4, 9, 16, f16), "M": r.random((1, 2, 4, 9)) < 0.8}, opset=23, softmax_precision=TP.FLOAT,
               **exact)
    # the reference sums the 80 keys' bfloat16 weights one at a time, each partial sum
    # rounded, and drifts from the exact sum by several ulps of bfloat16; dlc sums them
    # in f32: this checks the long-row path stays near the reference (exactness is the
    # short rows' cases)
    long_row = qkv4(1, 1, 1, 2, 80, 4, bf16)
    yield Case("attn_bf16_long_row", "Attention", long_row, opset=23, tol=1e-1, atol=1e-2, reference=True)
    yield Case("softmax_bf16_axis1", "Softmax", {"x": (r.standard_normal((2, 9, 3)) * 3).astype(bf16)}, opset=13,
               axis=1, **exact)
    yield Case("softmax_f16", "Softmax", {"x": (r.standard_normal((3, 70)) * 3).astype(f16)}, opset=13, **exact)


def bitcast_cases():
    """BitCast between every dtype and the next of its width (a cycle, so that each is a
    source and a target), on every bit pattern of the narrower types and on edge values
    (NaNs with payloads, -0, infinities, subnormals, the integers' extremes) of the wider
    ones, against numpy's view of the same bytes (onnxruntime has no opset 26), byte for
    byte.  The interpreter check runs where it can hold the values (not NaN payloads of
    f16 and the narrow floats, nor 64-bit integers past 2^53)."""
    r = rng(7)
    md = ml_dtypes
    widths = {2: [md.uint2, md.int2], 4: [md.uint4, md.int4, md.float4_e2m1fn],
              8: [np.uint8, np.int8, md.float8_e4m3fn, md.float8_e4m3fnuz, md.float8_e5m2, md.float8_e5m2fnuz,
                  md.float8_e8m0fnu],
              16: [np.uint16, np.int16, np.float16, md.bfloat16], 32: [np.uint32, np.int32, np.float32],
              64: [np.uint64, np.int64, np.float64]}
    special32 = np.array([0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345, 0x00000001,
                          0x807fffff, 0x3f800000, 0x7fffffff, 0xffffffff], np.uint32)
    special64 = np.array([0, 1 << 63, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
                          0x7ff0000000000001, 0xfff8deadbeef0001, 1, (1 << 64) - 1, (1 << 63) - 1,
                          0x3ff0000000000000, 0x000fffffffffffff], np.uint64)
    for w, ts in widths.items():
        ubits = {2: np.uint8, 4: np.uint8, 8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}[w]
        if w <= 16:
            pats = np.arange(1 << w, dtype=np.uint32).astype(ubits)
        elif w == 32:
            pats = np.concatenate([special32, r.integers(0, 1 << 32, 52, dtype=np.uint64).astype(np.uint32)])
        else:
            pats = np.concatenate([special64, r.integers(0, 1 << 63, 52, dtype=np.uint64) * np.uint64(2) + np.uint64(1)])
        for k, a in enumerate(ts):
            b = ts[(k + 1) % len(ts)]
            x = pats.view(a) if w >= 8 else pats.astype(np.uint8).view(a)  # the 2- and 4-bit types: one per byte
            shape = (16, -1) if x.size >= 256 else (-1,)
            yield Case("bitcast_%s_%s" % (np.dtype(a).name, np.dtype(b).name), "BitCast", {"x": x.reshape(shape)},
                       opset=26, to=NP[np.dtype(b)], oracle=lambda x, b=b: [x.view(b)], bits=True, check=False)
    # bool to a byte, and a few with the interpreter's check: values it holds exactly
    yield Case("bitcast_bool_uint8", "BitCast", {"x": np.array([[True, False, True], [False, False, True]])}, opset=26,
               to=TP.UINT8, oracle=lambda x: [x.view(np.uint8)], bits=True)
    yield Case("bitcast_bool_int8", "BitCast", {"x": np.array(True)}, opset=26, to=TP.INT8,
               oracle=lambda x: [x.view(np.int8)], bits=True)
    for a, b in ((np.float32, np.int32), (np.int32, np.float32), (np.float16, np.int16), (np.uint8, np.int8)):
        x = (r.standard_normal((3, 4, 5)) * 100).astype(a)
        yield Case("bitcast_checked_%s_%s" % (np.dtype(a).name, np.dtype(b).name), "BitCast", {"x": x}, opset=26,
                   to=NP[np.dtype(b)], oracle=lambda x, b=b: [x.view(b)], bits=True)
    yield Case("bitcast_same_type", "BitCast", {"x": np.arange(6, dtype=np.int16)}, opset=26, to=TP.INT16,
               oracle=lambda x: [x], bits=True)
    # refusals: a width that differs, a byte to bool, complex, no 'to'
    yield Case("refuse_bitcast_width", "BitCast", {"x": np.ones(3, np.float32)}, opset=26, to=TP.INT64,
               refuse="attribute 'to': i64 (64 bits) and the input's f32 (32 bits) differ in width")
    yield Case("refuse_bitcast_narrow_width", "BitCast", {"x": np.ones(3, np.int8)}, opset=26, to=TP.INT4,
               refuse="attribute 'to': i4 (4 bits) and the input's i8 (8 bits) differ in width")
    yield Case("refuse_bitcast_to_bool", "BitCast", {"x": np.ones(3, np.uint8)}, opset=26, to=TP.BOOL,
               refuse="BitCast from u8 to bool is not supported")
    yield Case("refuse_bitcast_complex", "BitCast", {"x": np.ones(3, np.float64)}, opset=26, to=TP.COMPLEX64,
               refuse="attribute 'to': complex64 is not supported")
    yield Case("refuse_bitcast_no_to", "BitCast", {"x": np.ones(3, np.float64)}, opset=26,
               refuse="needs the attribute 'to'")


def text_cases():
    """TfIdfVectorizer against onnxruntime, on shapes and attribute combinations the node
    suite leaves out: IDF and TFIDF with and without weights, int64 and int32 ids (a pool
    value beyond int32), trigrams, min_gram_length 2 and 3, a length outside the range,
    coordinates shared and with holes, rows shorter than an n-gram, string tokens
    (pool_strings); and the attributes it refuses (an n-gram twice in the pool, as
    onnxruntime does)."""
    r = rng(11)
    pool = [2, 3, 5, 4,  5, 6, 7, 8, 6, 7, 2, 3,  2, 3, 4, 5, 6, 7]  # 4 unigrams, 4 bigrams, 2 trigrams
    counts, idx = [0, 4, 12], list(range(10))
    wts = [0.5, 1.5, 2.0, 0.25, 3.0, 1.0, 0.75, 4.0, 1.25, 2.5]
    x64 = r.integers(2, 9, (3, 12)).astype(np.int64)
    x32 = r.integers(2, 9, (12,)).astype(np.int32)
    base = dict(pool_int64s=pool, ngram_counts=counts, ngram_indexes=idx)
    for mode in ("TF", "IDF", "TFIDF"):
        for (mn, mx, sk) in ((1, 3, 0), (2, 3, 2), (3, 3, 1), (1, 1, 3)):
            for w in (None, wts):
                if mode == "TF" and w:
                    continue
                extra = {"weights": w} if w else {}
                nm = "tfidf_%s_%d%d_skip%d%s" % (mode.lower(), mn, mx, sk, "_w" if w else "")
                x = x64 if (mn + mx + sk) % 2 else x32
                yield Case(nm, "TfIdfVectorizer", {"x": x}, opset=9, mode=mode, min_gram_length=mn, max_gram_length=mx,
                           max_skip_count=sk, **base, **extra)
    # coordinates shared and with holes; a duplicate at a length that does not count
    dup = dict(pool_int64s=[3, 4, 2, 5, 3, 6, 3, 4], ngram_counts=[0, 4], ngram_indexes=[0, 5, 0, 2, 3, 3])
    x = r.integers(2, 7, (2, 9)).astype(np.int64)
    yield Case("tfidf_shared_holes", "TfIdfVectorizer", {"x": x}, opset=9, mode="TF", min_gram_length=1,
               max_gram_length=2, max_skip_count=1, **dup)
    yield Case("tfidf_shared_holes_tfidf", "TfIdfVectorizer", {"x": x}, opset=9, mode="TFIDF", min_gram_length=1,
               max_gram_length=2, max_skip_count=1, weights=[2.0, 0.5, 3.0, 1.0, 4.0, 0.25], **dup)
    yield Case("tfidf_shared_holes_idf", "TfIdfVectorizer", {"x": x}, opset=9, mode="IDF", min_gram_length=1,
               max_gram_length=2, max_skip_count=1, weights=[2.0, 0.5, 2.0, 1.0, 4.0, 4.0], **dup)
    yield Case("tfidf_holes_idf", "TfIdfVectorizer", {"x": x}, opset=9, mode="IDF", min_gram_length=1,
               max_gram_length=1, max_skip_count=0, pool_int64s=[3, 4, 2], ngram_counts=[0], ngram_indexes=[4, 0, 2],
               weights=[10.0, 100.0, 1000.0])
    yield Case("tfidf_duplicate_unused_length", "TfIdfVectorizer", {"x": x}, opset=9, mode="TF", min_gram_length=2,
               max_gram_length=2, max_skip_count=2, **{**dup, "pool_int64s": [3, 3, 3, 5, 3, 6, 3, 4]})
    # a pool value beyond int32 with int32 ids; a row shorter than the trigrams
    big = dict(pool_int64s=[2, 1 << 33, 2, 3, 2, 3, 4], ngram_counts=[0, 2, 4], ngram_indexes=[1, 0, 2, 3])
    yield Case("tfidf_int32_big_pool", "TfIdfVectorizer", {"x": np.array([2, 3, 2, 3], np.int32)}, opset=9, mode="TF",
               min_gram_length=1, max_gram_length=3, max_skip_count=0, **big)
    yield Case("tfidf_short_row", "TfIdfVectorizer", {"x": np.array([[2, 3], [3, 2]], np.int64)}, opset=9, mode="TF",
               min_gram_length=1, max_gram_length=3, max_skip_count=4, **big)
    yield Case("tfidf_1d_long_skips", "TfIdfVectorizer", {"x": r.integers(2, 5, (40,)).astype(np.int64)}, opset=9,
               mode="TFIDF", min_gram_length=2, max_gram_length=3, max_skip_count=6, weights=wts, **base)
    # string tokens: a string in several n-grams, one no n-gram holds, an empty string
    words = ["the", "cat", "sat", "on", "mat", "", "a ??/ b"]
    sp = dict(pool_strings=["cat", "mat", "", "the", "cat", "sat", "on", "the mat", "cat", "the", "cat", "sat"],
              ngram_counts=[0, 3, 9], ngram_indexes=[0, 1, 2, 3, 4, 5, 6])
    xs2 = np.array(words)[r.integers(0, len(words), (3, 10))]
    for mode, w in (("TF", None), ("TFIDF", [1.5, 0.5, 2.0, 3.0, 0.25, 1.0, 4.0])):
        yield Case("tfidf_strings_%s" % mode.lower(), "TfIdfVectorizer", {"x": xs2}, opset=9, mode=mode, min_gram_length=1,
                   max_gram_length=3, max_skip_count=1, **sp, **({"weights": w} if w else {}))
    yield Case("tfidf_strings_1d", "TfIdfVectorizer", {"x": np.array(["the", "cat", "sat", "x", "the", "cat"])}, opset=9,
               mode="TF", min_gram_length=2, max_gram_length=2, max_skip_count=2, **sp)
    # refusals
    bad = dict(mode="TF", min_gram_length=1, max_gram_length=2, max_skip_count=0, ngram_counts=[0, 2],
               ngram_indexes=[0, 1, 2])
    xs = {"x": np.array([2, 3], np.int64)}
    yield Case("refuse_tfidf_int_x_string_pool", "TfIdfVectorizer", xs, opset=9, mode="TF", min_gram_length=1,
               max_gram_length=1, max_skip_count=0, ngram_counts=[0], ngram_indexes=[0], pool_strings=["a"],
               refuse="but the pool is pool_strings")
    yield Case("refuse_tfidf_mode", "TfIdfVectorizer", xs, opset=9, **{**bad, "mode": "BM25"},
               pool_int64s=[2, 3, 2, 3], refuse="attribute 'mode' is 'BM25'")
    yield Case("refuse_tfidf_min_max", "TfIdfVectorizer", xs, opset=9, **{**bad, "min_gram_length": 3},
               pool_int64s=[2, 3, 2, 3], refuse="'min_gram_length' 3 and 'max_gram_length' 2")
    yield Case("refuse_tfidf_not_whole", "TfIdfVectorizer", xs, opset=9, **bad, pool_int64s=[2, 3, 2, 3, 4],
               refuse="are not whole 2-grams")
    yield Case("refuse_tfidf_indexes_count", "TfIdfVectorizer", xs, opset=9, **{**bad, "ngram_indexes": [0, 1]},
               pool_int64s=[2, 3, 2, 3], refuse="'ngram_indexes' has 2 entries, the pool holds 3 n-grams")
    yield Case("refuse_tfidf_negative_index", "TfIdfVectorizer", xs, opset=9, **{**bad, "ngram_indexes": [0, -1, 2]},
               pool_int64s=[2, 3, 2, 3], refuse="entry 1 is -1")
    yield Case("refuse_tfidf_counts_order", "TfIdfVectorizer", xs, opset=9, **{**bad, "ngram_counts": [0, 5]},
               pool_int64s=[2, 3, 2, 3], refuse="attribute 'ngram_counts': entry 1 (5) is not in [0, 4]")
    yield Case("refuse_tfidf_duplicate", "TfIdfVectorizer", xs, opset=9, **{**bad, "ngram_indexes": [0, 1, 2, 3]},
               pool_int64s=[2, 3, 2, 3, 2, 3], refuse="n-grams 2 and 3 are the same 2-gram")
    yield Case("refuse_tfidf_duplicate_first", "TfIdfVectorizer", xs, opset=9, **{**bad, "max_gram_length": 1,
               "ngram_counts": [0], "ngram_indexes": [0, 1, 2, 3]}, pool_int64s=[5, 3, 5, 3],
               refuse="n-grams 0 and 2 are the same 1-gram")  # the first repeat in the pool's order
    yield Case("refuse_tfidf_weights_short", "TfIdfVectorizer", xs, opset=9, **{**bad, "mode": "IDF"},
               pool_int64s=[2, 3, 2, 3], weights=[1.0, 2.0], refuse="attribute 'weights' has 2 values, the pool holds 3 n-grams")
    yield Case("refuse_tfidf_idf_shared_weights", "TfIdfVectorizer", xs, opset=9, **{**bad, "mode": "IDF",
               "ngram_indexes": [0, 1, 0]}, pool_int64s=[2, 3, 2, 3], weights=[1.0, 2.0, 3.0],
               refuse="n-grams 0 and 2 share coordinate 0 but not their weight")
    yield Case("refuse_tfidf_float_input", "TfIdfVectorizer", {"x": np.array([2.0, 3.0], np.float32)}, opset=9, **bad,
               pool_int64s=[2, 3, 2, 3], refuse="X is f32")
    yield Case("refuse_tfidf_rank3", "TfIdfVectorizer", {"x": np.ones((2, 2, 2), np.int64)}, opset=9, **bad,
               pool_int64s=[2, 3, 2, 3], refuse="X must be [C] or [N, C]")


def nearest_sources(shape, consts, **attrs):
    """Where each element of a nearest Resize comes from (flat indices into its input), as
    onnxruntime resizes the elements' positions."""
    pos = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    m = Case("pos", "Resize", {"x": pos}, consts, order=["x", "", "", "sizes"], opset=19, **attrs).model()
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": pos})[0].astype(np.int64)


def resize_cases():
    """Nearest Resize moves its elements whole, whatever their dtype: a gather, so an inf
    stays an inf (a weighted sum of the neighbours made it a NaN, as ONNX's reference
    evaluator still does; onnxruntime copies) and strings and bools resize too (their
    oracle: the sources onnxruntime picks for the elements' positions)."""
    sizes = {"sizes": np.array([1, 1, 3, 5], np.int64)}
    order = ["x", "", "", "sizes"]
    x = np.array([[[[np.inf, 1.0, -np.inf], [2.0, np.nan, 3.0]]]], np.float32)
    yield Case("resize_nearest_inf", "Resize", {"x": x}, sizes, order=order, opset=19, bits=True, mode="nearest")
    for name, v in (("str", np.array(["a", "", "héllo", "??/", "b", "a"])), ("bool", np.array([1, 0, 0, 1, 1, 0], bool))):
        for nm in ("round_prefer_floor", "ceil"):
            yield Case("resize_nearest_%s_%s" % (name, nm), "Resize", {"x": v.reshape(1, 1, 2, 3)}, sizes, order=order,
                       opset=19, mode="nearest", nearest_mode=nm,
                       oracle=lambda x, sizes, nm=nm: [x.reshape(-1)[nearest_sources(x.shape, {"sizes": sizes}, mode="nearest",
                                                                                       nearest_mode=nm)]])
    # linear weights need numbers; nearest outside the input (tf_crop_and_resize) a fill value
    s = np.array(["a", "b", "c", "d"]).reshape(1, 1, 2, 2)
    yield Case("resize_linear_str", "Resize", {"x": s}, sizes, order=order, opset=19, mode="linear",
               refuse="linear resizing of str is not supported")
    roi = {"roi": np.array([0, 0, -0.5, -0.5, 1, 1, 1.5, 1.5], np.float32), **sizes}
    yield Case("resize_crop_str", "Resize", {"x": s}, roi, order=["x", "roi", "", "sizes"], opset=19, mode="nearest",
               coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=0.0,
               refuse="nearest resizing of str with extrapolation")


FAMILIES = {"quant": quant_cases, "grid": grid_cases, "roi": roi_cases, "dft": dft_cases, "attn": attn_cases,
            "bitcast": bitcast_cases, "text": text_cases, "resize": resize_cases}


def run_case(dlc, case, tmp):
    d = os.path.join(tmp, case.name)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    onnx.save(case.model(), path)
    if case.refuse:
        p = subprocess.run([dlc, "compile", path, "-o", os.path.join(d, "m.c")], capture_output=True, text=True)
        lines = p.stderr.strip().splitlines()
        if p.returncode != 1 or len(lines) != 1 or case.refuse not in lines[0] or "node 'n'" not in lines[0]:
            return "not refused with one line naming node 'n' and '%s': exit %d, %r" % (case.refuse, p.returncode,
                                                                                       p.stderr.strip())
        return None
    args = [dlc, "run", path, "--cflags", "-O1", "--output", d] + (["--check"] if case.check else [])  # tiny models
    for k, v in case.inputs.items():
        np.save(os.path.join(d, k + ".npy"), v)
        args += ["--input", "%s=%s" % (k, os.path.join(d, k + ".npy"))]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode:
        return "dlc: " + (p.stderr.strip() or p.stdout.strip())
    if case.oracle:
        want = case.oracle(**case.inputs, **{k: v for k, v in case.consts.items() if k})
    elif case.reference:
        want = ReferenceEvaluator(case.model()).run(list(case.outputs), case.inputs)
    else:
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        want = sess.run(list(case.outputs), case.inputs)
    worst = 0.0
    for name, w in zip(case.outputs, want):
        got = np.load(os.path.join(d, name + ".npy"))
        if case.bits:  # a storage dtype comes back as '|V1' or '<V2': its bytes are what counts
            if got.dtype.itemsize != w.dtype.itemsize or got.shape != w.shape:
                return "%s: %s%s, want %s%s" % (name, got.dtype, got.shape, w.dtype, w.shape)
            same = got.view(np.uint8).reshape(-1, w.dtype.itemsize) == w.view(np.uint8).reshape(-1, w.dtype.itemsize)
            bad = np.flatnonzero(~same.all(1))
            if bad.size:
                return "%s: %d of %d differ in their bytes (first [%d]: %s, want %s)" % (
                    name, bad.size, w.size, bad[0], got.view(np.uint8).reshape(-1, w.dtype.itemsize)[bad[0]],
                    w.view(np.uint8).reshape(-1, w.dtype.itemsize)[bad[0]])
            continue
        if got.dtype.kind == "V":  # bfloat16 comes back as two raw bytes
            got = got.view(ml_dtypes.bfloat16)
        if got.dtype != w.dtype or got.shape != w.shape:
            return "%s: %s%s, onnxruntime %s%s" % (name, got.dtype, got.shape, w.dtype, w.shape)
        if w.dtype.kind in "iubU":
            bad = int(np.sum(got != w))
            if bad:
                i = np.argmax(got != w)
                return "%s: %d values differ (first: %s, onnxruntime %s)" % (name, bad, got.flat[i], w.flat[i])
        else:
            got, w = got.astype(np.float64), w.astype(np.float64)
            err = float(np.max(np.abs(got - w) / (np.abs(w) + case.atol), initial=0))
            worst = max(worst, err)
            if not err <= case.tol:
                return "%s: relative error %.3g over %.3g" % (name, err, case.tol)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--family", required=True, choices=sorted(FAMILIES))
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    a = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-ops-") as tmp:
        for case in FAMILIES[a.family]():
            if a.filter not in case.name:
                continue
            why = run_case(a.dlc, case, tmp)
            failed += why is not None
            print("%s %s%s" % ("FAIL" if why else "ok", case.name, ": " + why if why else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
