#!/usr/bin/env python3
"""int8_bench.py: int8 QDQ models under dlc and ONNX Runtime, beside their float32 originals.

    .venv/bin/python tools/bench/int8_bench.py [--models resnet18,mobilenet_v2,squeezenet1_1]
        [--batch 1] [--runs 10] [--budget 6] [--dlc build/tools/dlc] [--cpu native]

Runs under .venv's Python (onnxruntime.quantization).  Each model of real_models.py is
exported in float32 (Debian's PyTorch and torchvision, cached in build/bench-models), then
quantized by onnxruntime.quantization.quantize_static (QDQ format, int8 activations,
per-channel int8 weights, calibrated on 4 seeded random images), and four things are
timed on one thread, thread CPU time, median: dlc on the float32 model, dlc on the QDQ
model, ONNX Runtime on the float32 model, ONNX Runtime on the QDQ model (which it runs
with its int8 kernels).  dlc runs a QDQ model's convolutions of one group on its integer
product (matmul_int: im2col of the int8 activations times the int8 weights, exact i32
sums, VNNI where the CPU has it), scaled back to float32; depthwise convolutions and the
rest run in float32, the weights dequantized once at compile time and each activation
rounded through QuantizeLinear and DequantizeLinear where the model says.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import real_models as rm  # noqa: E402


class Images:
    def __init__(self, shape, n):
        rng = np.random.default_rng(41)
        self.batches = iter([{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(n)])

    def get_next(self):
        return next(self.batches, None)


def quantize(src, dst):
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if os.path.exists(dst):
        return
    CalibrationDataReader.register(Images)
    m = onnx.load(src)
    name = m.graph.input[0].name
    shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    pre = dst + ".pre.onnx"
    quant_pre_process(src, pre, skip_symbolic_shape=True)
    reader = Images(shape, 4)
    reader.batches = iter([{name: b["x"]} for b in reader.batches])
    quantize_static(pre, dst + ".tmp", reader, quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    os.replace(dst + ".tmp", dst)
    os.remove(pre)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mobilenet_v2,squeezenet1_1")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--budget", type=float, default=6.0)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--dlc", default=os.path.join(rm.ROOT, "build", "tools", "dlc"))
    ap.add_argument("--cpu", default="")
    ap.add_argument("--cflags", default="")
    ap.add_argument("--cache", default=os.path.join(rm.ROOT, "build", "bench-models"))
    ap.add_argument("--torch-python", default=rm.TORCH_PY)
    args = ap.parse_args()
    args.clock = "cpu"
    rm.prepare_cache(args)
    info = rm.machine_info(args)
    print("# int8 QDQ against float32, dlc and ONNX Runtime, batch %d, one thread" % args.batch)
    print("- CPU: %s (family %s, model %s; ISA: %s); ONNX Runtime %s; dlc commit %s, %s; load average %s"
          % (info["cpu"], info.get("cpu_family"), info.get("model"), ", ".join(info["isa"]), info["onnxruntime"],
             info["commit"], info["dlc_cflags"], " ".join("%.2f" % x for x in info["load_start"])))
    print("| model | dlc f32 ms | dlc QDQ ms | ORT f32 ms | ORT int8 ms | dlc QDQ / ORT int8 | dlc QDQ / dlc f32 |"
          " ORT int8 / ORT f32 |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.models.split(","):
        f32, err = rm.export(args, name, args.batch)
        if err:
            print("| %s | %s |" % (name, err))
            continue
        q = f32[:-len(".onnx")] + "_qdq.onnx"
        quantize(f32, q)
        t = {}
        for key, path in (("dlc_f32", f32), ("dlc_q", q)):
            first = rm.dlc_time(args, path, 1, 1, 1)
            runs, warm = rm.plan_runs(args, first.get("median_ms", 1e3) / 1e3)
            t[key] = rm.dlc_time(args, path, 1, runs, warm)
        for key, path in (("ort_f32", f32), ("ort_q", q)):
            first = rm.ort_time(args, path, 1, 1, 1)
            runs, warm = rm.plan_runs(args, first.get("median_ms", 1e3) / 1e3)
            t[key] = rm.ort_time(args, path, 1, runs, warm)
        bad = [k + ": " + v["error"] for k, v in t.items() if "error" in v]
        if bad:
            print("| %s | %s |" % (name, "; ".join(bad)))
            continue
        ms = {k: v["median_ms"] for k, v in t.items()}
        print("| %s | %.2f | %.2f | %.2f | %.2f | **%.2f** | %.2f | %.2f |" % (
            name, ms["dlc_f32"], ms["dlc_q"], ms["ort_f32"], ms["ort_q"], ms["dlc_q"] / ms["ort_q"],
            ms["dlc_q"] / ms["dlc_f32"], ms["ort_q"] / ms["ort_f32"]), flush=True)


if __name__ == "__main__":
    main()
