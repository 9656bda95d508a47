#!/usr/bin/env python3
"""Writes the hostile-model corpus of tests/hostile/corpus/ and its manifest EXPECT.

    .venv/bin/python tests/hostile/make_hostile.py        # needs numpy and onnx

Each file is a small model that asks dlc for something it must refuse cheaply: a
divide by a zero attribute, an output of 10^18 elements, tap tables of gigabytes, an
unrolling of 10^8 steps, sizes whose arithmetic overflows int64, indices out of range,
an opset dlc does not implement.  EXPECT lists, per file, a substring of the one-line
error (which also names the file).  corpus.sh runs `dlc compile` on each under a time
and memory limit.  The .dlc files are written here too, so the corpus has one source.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
# Models at the edges that dlc must compile and get right: compared with ONNX Runtime.
OK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ok")
EXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "external")
EXPECT = []  # (file, substring)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)
F = TensorProto.FLOAT


def const(name, arr, dtype=None):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def save(name, nodes, inputs, outputs, inits=(), opset=17, want="", folder=HERE):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_hostile")
    m.ir_version = 8
    with open(os.path.join(folder, name), "wb") as f:
        f.write(m.SerializeToString())
    if folder == HERE:
        EXPECT.append((name, want))


def external_file():
    """A model whose weights are external data in weights.bin (cli.sh makes it a pipe)."""
    w = TensorProto(name="w", data_type=F, dims=[2, 2])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "weights.bin"), ("offset", "0"), ("length", "16")):
        e = w.external_data.add()
        e.key, e.value = k, v
    save("external.onnx", [helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", [1, 2])],
         [vi("y", None)], [w], folder=EXT)


def ok_files():
    # Slice with step INT64_MIN: one element (ONNX and NumPy), not none; with INT64_MAX,
    # one element, and no offset of step times stride computed on the way.
    for name, st, en, step in (("slice_step_min_a", -1, I64_MIN, I64_MIN), ("slice_step_min_b", 3, -5, I64_MIN),
                               ("slice_step_min_c", 0, I64_MIN, I64_MIN), ("slice_step_max", 1, I64_MAX, I64_MAX)):
        save(name + ".onnx", [helper.make_node("Slice", ["x", "s", "e", "a", "p"], ["y"])],
             [vi("x", [1, 4])], [vi("y", None)],
             [const("s", [st], np.int64), const("e", [en], np.int64), const("a", [1], np.int64),
              const("p", [step], np.int64)], folder=OK)


def text(name, src, want):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(src)
    EXPECT.append((name, want))


def onnx_files():
    x4 = [vi("x", [1, 1, 2, 2])]
    y = [vi("y", None)]
    # Split with no outputs divided the axis by zero (SIGFPE).
    save("split_no_outputs.onnx", [helper.make_node("Split", ["x"], [], axis=0, name="s"),
                                   helper.make_node("Identity", ["x"], ["y"])],
         [vi("x", [4])], y, want="no outputs")
    # Resize by 1e9 on a 2x2 image: an output of 4e18 elements.
    save("resize_scale_1e9.onnx",
         [helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="nearest", name="r")], x4, y,
         [const("sc", [1, 1, 1e9, 1e9], np.float32)], want="--max-elements")
    # Resize by 5e8 along one axis: an output within the element budget, but linear
    # taps of 16 bytes per element per tap, built before any check.
    save("resize_taps.onnx",
         [helper.make_node("Resize", ["x", "", "sc"], ["y"], mode="linear", name="r")], x4, y,
         [const("sc", [1, 1, 1, 5e8], np.float32)], want="--max-weight-bytes")
    save("resize_sizes_huge.onnx",
         [helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="nearest", name="r")], x4, y,
         [const("sz", [1, 1, 2, I64_MAX], np.int64)], want="--max-elements")
    save("opset99.onnx", [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], y, opset=99,
         want="opset 99")
    save("opset0.onnx", [helper.make_node("Relu", ["x"], ["y"])], [vi("x", [2])], y, opset=0,
         want="no opset")
    # Indices known at compile time and out of range: ONNX says error.
    save("scatternd_oob.onnx", [helper.make_node("ScatterND", ["x", "i", "u"], ["y"], name="s")],
         [vi("x", [4])], y, [const("i", [[7]], np.int64), const("u", [1.0], np.float32)],
         want="out of range")
    save("scatter_elements_oob.onnx",
         [helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=0, name="s")],
         [vi("x", [4])], y, [const("i", [-9], np.int64), const("u", [1.0], np.float32)],
         want="out of range")
    save("gather_oob.onnx", [helper.make_node("Gather", ["x", "i"], ["y"], axis=0, name="g")],
         [vi("x", [4, 3])], y, [const("i", [1, 4], np.int64)], want="out of range")
    save("gather_elements_oob.onnx",
         [helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1, name="g")],
         [vi("x", [2, 3])], y, [const("i", [[0, 3], [1, 0]], np.int64)], want="out of range")
    save("gathernd_oob.onnx", [helper.make_node("GatherND", ["x", "i"], ["y"], name="g")],
         [vi("x", [2, 3])], y, [const("i", [[1, 5]], np.int64)], want="out of range")
    # Sizes whose arithmetic overflows int64.
    save("pad_overflow.onnx", [helper.make_node("Pad", ["x", "p"], ["y"], name="p")],
         [vi("x", [2])], y, [const("p", [1, I64_MAX], np.int64)], want="pad")
    save("conv_pads_overflow.onnx",
         [helper.make_node("Conv", ["x", "w"], ["y"], pads=[0, 0, I64_MAX, I64_MAX], name="c")],
         x4, y, [const("w", np.ones((1, 1, 1, 1)), np.float32)], want="pad")
    save("conv_dilation_overflow.onnx",
         [helper.make_node("Conv", ["x", "w"], ["y"], dilations=[I64_MAX, I64_MAX], name="c")],
         x4, y, [const("w", np.ones((1, 1, 2, 2)), np.float32)], want="dilation")
    save("pool_kernel_overflow.onnx",
         [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[I64_MAX, I64_MAX],
                           pads=[I64_MAX, I64_MAX, I64_MAX, I64_MAX], name="p")],
         x4, y, want="kernel")
    save("conv_autopad_overflow.onnx",
         [helper.make_node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[I64_MAX, 1],
                           dilations=[I64_MAX, 1], name="c")],
         x4, y, [const("w", np.ones((1, 1, 2, 2)), np.float32)], want="auto_pad")
    save("depth_to_space_zero.onnx",
         [helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=0, name="d")], x4, y, want="blocksize")
    # More strides than the builder's array holds (found by op_fuzz: a stack overflow).
    save("conv_strides_too_many.onnx",
         [helper.make_node("Conv", ["x", "w"], ["y"], strides=[1] * 9, dilations=[1] * 20, name="c")],
         x4, y, [const("w", np.ones((1, 1, 1, 1)), np.float32)], want="strides has 9 entries")
    save("pool_stride_zero.onnx",
         [helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[1, 1], strides=[0, 0], name="p")],
         x4, y, want="stride")
    save("convtranspose_overflow.onnx",
         [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[I64_MAX, I64_MAX], name="c")],
         x4, y, [const("w", np.ones((1, 1, 2, 2)), np.float32)], want="ConvTranspose")
    save("tile_overflow.onnx", [helper.make_node("Tile", ["x", "r"], ["y"], name="t")],
         [vi("x", [2, 3])], y, [const("r", [I64_MAX, 2], np.int64)], want="overflows")
    save("range_huge.onnx", [helper.make_node("Range", ["a", "b", "d"], ["y"], name="r")], [], y,
         [const("a", I64_MIN, np.int64), const("b", I64_MAX, np.int64), const("d", 1, np.int64)],
         want="Range")
    save("expand_huge.onnx", [helper.make_node("Expand", ["x", "s"], ["y"], name="e")],
         [vi("x", [1])], y, [const("s", [I64_MAX], np.int64)], want="--max-elements")
    save("constant_of_shape_huge.onnx",
         [helper.make_node("ConstantOfShape", ["s"], ["y"], name="c")], [], y,
         [const("s", [2**31, 2**31], np.int64)], want="--max-elements")
    # 10^8 steps of an RNN: refused before unrolling.
    save("rnn_steps.onnx", [helper.make_node("RNN", ["x", "w", "r"], ["", "y"], hidden_size=1, name="rnn")],
         [vi("x", [100000000, 1, 1])], y,
         [const("w", [[[0.5]]], np.float32), const("r", [[[0.5]]], np.float32)], want="--max-nodes")
    # A name with terminal control bytes in a failing node: echoed escaped.
    save("control_bytes.onnx", [helper.make_node("NoSuchOp", ["x"], ["y"], name="\x1b[31mred\x07\r")],
         [vi("x", [2])], y, want="'\\x1b[31mred\\x07\\x0d'")


def dlc_files():
    text("rnn_steps.dlc", "model r\ninput x: f32[1, 100000000, 4]\nh = rnn(x, 4)\noutput h\n",
         "--max-nodes")
    text("lstm_bidi_steps.dlc",
         "model r\ninput x: f32[1, 300000, 4]\nh = lstm(x, 4, bidirectional=1)\noutput h\n", "--max-nodes")
    text("dim_2_64.dlc", "model b\ninput x: f32[18446744073709551615]\noutput x\n",
         "18446744073709551615")
    text("elements.dlc", "model b\ninput x: f32[65536, 65536]\noutput x\n", "--max-elements")
    # unique's sort needs 40 bytes of kernel scratch per element: 80 GB, counted with the arena
    text("unique_scratch.dlc", "model u\ninput x: i32[2000000000]\n"
         "y = unique(x, axis=0, part=4, sorted=1, dtype=i64)\noutput y\n", "--max-arena-bytes")
    text("weights.dlc", "model b\ninput x: f64[2, 16384]\nparam w: f64[16384, 16384] = normal(0, 1)\nh = matmul(x, w)\noutput h\n",
         "--max-weight-bytes")
    # 2^28 random floats take seconds to draw: the weight budget refuses them first.
    text("param_random_1gib.dlc", "model b\ninput x: f32[2, 16384]\nparam w: f32[16384, 16384] = normal(0, 1)\n"
         "h = matmul(x, w)\noutput h\n", "--max-weight-bytes")
    text("conv_same_overflow.dlc",
         "model s\ninput x: f32[1, 1, 4, 4]\n"
         "h = conv2d(x, 1, kernel=3, dilation=4611686018427387904, padding=same)\noutput h\n",
         "conv2d")
    text("conv_transpose_overflow.dlc",
         "model s\ninput x: f32[1, 1, 4, 4]\n"
         "h = conv_transpose2d(x, 1, kernel=3, stride=4611686018427387904, padding=same)\noutput h\n",
         "conv_transpose2d")
    text("pad_overflow.dlc",
         "model s\ninput x: f32[4]\nh = pad(x, pads=[9223372036854775807, 9223372036854775807])\noutput h\n",
         "pad")
    text("slice_overflow.dlc",
         "model s\ninput x: f32[4]\n"
         "h = slice(x, starts=[-9223372036854775807], ends=[9223372036854775807], steps=[-9223372036854775807])\n"
         "output h\n", "slice")
    text("control_bytes.dlc", 'model c\ninput x: f32[2]\nh = nosuch("x\x1b[2J\x07")\noutput h\n',
         "\\x1b[2J\\x07")


def main():
    for d in (HERE, OK, EXT):
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
    onnx_files()
    ok_files()
    external_file()
    dlc_files()
    with open(os.path.join(HERE, "EXPECT"), "w") as f:
        f.write("# Written by tests/hostile/make_hostile.py: FILE, a tab, and a substring that dlc's\n"
                "# one-line error about FILE must contain.  Regenerate rather than edit.\n")
        for name, want in EXPECT:
            f.write(f"{name}\t{want}\n")
    print(f"{len(EXPECT)} files in {HERE}")


if __name__ == "__main__":
    sys.exit(main())
