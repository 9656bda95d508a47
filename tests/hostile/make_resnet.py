#!/usr/bin/env python3
"""make_resnet.py OUT.onnx: a ResNet-18 as the ONNX exporters write it (Conv with
BatchNormalization, Relu, residual Add, MaxPool, GlobalAveragePool, Flatten, Gemm), with
narrow stages (8, 16, 32, 64 channels) and a 32x32 input so that it compiles in well
under a second, and seeded random weights.  For the allocation-failure test
(alloc_fail.sh).  Needs: numpy, onnx (the test tooling's Python, tools/pyenv.sh)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(18)
nodes, inits = [], []
count = [0]


def name(s):
    count[0] += 1
    return "%s_%d" % (s, count[0])


def weight(shape, scale=0.1):
    n = name("w")
    inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), n))
    return n


def conv_bn(x, cin, cout, k, stride, relu=True):
    y = name("conv")
    nodes.append(helper.make_node("Conv", [x, weight((cout, cin, k, k))], [y], kernel_shape=[k, k],
                                  strides=[stride, stride], pads=[k // 2] * 4))
    z = name("bn")
    bn = [weight((cout,), 1.0), weight((cout,)), weight((cout,)), name("var")]
    inits.append(numpy_helper.from_array((rng.random(cout) + 0.5).astype(np.float32), bn[3]))
    nodes.append(helper.make_node("BatchNormalization", [y] + bn, [z], epsilon=1e-5))
    if not relu:
        return z
    r = name("relu")
    nodes.append(helper.make_node("Relu", [z], [r]))
    return r


def block(x, cin, cout, stride):
    h = conv_bn(x, cin, cout, 3, stride)
    h = conv_bn(h, cout, cout, 3, 1, relu=False)
    skip = x if stride == 1 and cin == cout else conv_bn(x, cin, cout, 1, stride, relu=False)
    s, r = name("add"), name("relu")
    nodes.append(helper.make_node("Add", [h, skip], [s]))
    nodes.append(helper.make_node("Relu", [s], [r]))
    return r


def main():
    x = conv_bn("input", 3, 8, 7, 2)
    p = name("pool")
    nodes.append(helper.make_node("MaxPool", [x], [p], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4))
    x, cin = p, 8
    for cout, stride in ((8, 1), (16, 2), (32, 2), (64, 2)):
        x = block(x, cin, cout, stride)
        x = block(x, cout, cout, 1)
        cin = cout
    g, f = name("gap"), name("flat")
    nodes.append(helper.make_node("GlobalAveragePool", [x], [g]))
    nodes.append(helper.make_node("Flatten", [g], [f], axis=1))
    nodes.append(helper.make_node("Gemm", [f, weight((10, 64)), weight((10,))], ["logits"], transB=1))
    graph = helper.make_graph(nodes, "resnet18_narrow",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[1])


if __name__ == "__main__":
    main()
