#!/usr/bin/python3
"""lowp_export.py OUT_DIR: the float32 and bfloat16 exports lowp_models_test.py checks
(runs under Debian's /usr/bin/python3, which has python3-torch and python3-torchvision).

    squeezenet_f32.onnx  torchvision's SqueezeNet 1.1, seeded random weights, x[1, 3, 64, 64]
                         (lowp_models_test.py makes its float16 and int8 QDQ versions)
    gpt_bf16.onnx        the tiny GPT of models/ (two pre-norm blocks, width 64, sequence
                         16), converted to bfloat16 in PyTorch and exported in bfloat16,
                         ids[2, 16]
    gpt_bf16_ids.npy, gpt_bf16_torch.npy
                         seeded ids and PyTorch's own bfloat16 output for them (as float32)
"""
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models"))
import export_onnx as models  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(11)
    cnn = torchvision.models.squeezenet1_1(weights=None).eval()
    with torch.no_grad():
        torch.onnx.export(cnn, (torch.randn(1, 3, 64, 64),), os.path.join(out, "squeezenet_f32.onnx"),
                          input_names=["x"], output_names=["y"], opset_version=17)
    torch.manual_seed(12)
    gpt = models.GPT().eval().to(torch.bfloat16)
    ids = torch.randint(0, 64, (2, 16))
    with torch.no_grad():
        y = gpt(ids)
        torch.onnx.export(gpt, (ids,), os.path.join(out, "gpt_bf16.onnx"), input_names=["ids"],
                          output_names=["p"], opset_version=17)
    np.save(os.path.join(out, "gpt_bf16_ids.npy"), ids.numpy())
    np.save(os.path.join(out, "gpt_bf16_torch.npy"), y.float().numpy())
    print(out)


if __name__ == "__main__":
    main()
