#!/usr/bin/env python3
"""Writes the malformed-ONNX corpus of tests/onnx/bad/ and its manifest EXPECT.

    .venv/bin/python tests/onnx/make_bad.py        # needs numpy and onnx (tools/pyenv.sh)
    .venv/bin/python tests/onnx/make_bad.py --large build/tools/dlc

Every file is a small model that dlc must refuse with one clear line.  EXPECT lists,
per file, a substring that the error must contain (the error also names the file).
The output is reproducible: the same onnx package writes the same bytes, and the random
bytes come from a fixed seed.  Files are built from one valid model (x[batch, 4] @ W +
b -> relu -> y) by breaking one thing at a time; a few are written byte by byte where
the onnx package would refuse to make them.

With --large DLC it writes nothing here: it builds the models of a million labels
(large_cases, megabytes each) in a temporary folder and checks DLC on them (the
onnx.bad_large test).
"""
import os
import random
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bad")
OPSET = 13
EXPECT = []  # (file, substring)


def tensor(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def raw_tensor(name, dtype, dims, raw=b""):
    """A TensorProto built field by field: onnx.helper checks what these files break."""
    t = TensorProto(name=name, data_type=dtype, dims=dims)
    t.raw_data = raw
    return t


def valid_graph(nodes=None, inits=None, inputs=None, outputs=None):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    nodes = nodes if nodes is not None else [
        helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
        helper.make_node("Add", ["h", "b"], ["hb"], name="bias"),
        helper.make_node("Relu", ["hb"], ["y"], name="act"),
    ]
    inits = inits if inits is not None else [tensor("W", w), tensor("b", b)]
    inputs = inputs if inputs is not None else [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])]
    outputs = outputs if outputs is not None else [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])]
    return helper.make_graph(nodes, "g", inputs, outputs, inits)


def model(graph, opset=OPSET):
    imports = [helper.make_opsetid("", opset)] if opset else []
    m = helper.make_model(graph, opset_imports=imports, producer_name="make_bad")
    m.ir_version = 8
    return m


def write_bytes(name, data, want):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    EXPECT.append((name, want))


def write(name, m, want):
    write_bytes(name, m.SerializeToString(), want)


# ---- hand-made protobuf, for what onnx.helper will not build ----

def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 2:
        return key + varint(len(payload)) + payload
    if wire == 5:
        return key + payload
    raise ValueError(wire)


# ---- the corpus ----

def files():
    base = model(valid_graph())
    good = base.SerializeToString()

    # The file as a whole.
    write_bytes("empty.onnx", b"", "imports no opset")
    write_bytes("truncated.onnx", good[: len(good) // 2], "does not parse")
    write_bytes("random.onnx", bytes(random.Random(1).getrandbits(8) for _ in range(512)), "does not parse")
    # A GraphProto where a ModelProto belongs: its field 1 (node, a message) meets
    # ModelProto's field 1 (ir_version, a varint).
    write_bytes("wrong_message.onnx", valid_graph().SerializeToString(), "does not parse")
    # ModelProto.graph (field 7) written as a varint.
    write_bytes("graph_as_varint.onnx", field(1, 0, 8) + field(7, 0, 5) +
                field(8, 2, field(2, 0, OPSET)), "does not parse")
    # ModelProto.ir_version (field 1) written as a string.
    write_bytes("ir_version_as_string.onnx", field(1, 2, b"eight") + good, "does not parse")
    # A length prefix that runs past the end.
    write_bytes("length_overrun.onnx", field(1, 0, 8) + varint(7 << 3 | 2) + varint(1 << 30) + b"\0" * 8,
                "does not parse")
    write("no_graph.onnx", onnx.ModelProto(ir_version=8, opset_import=[helper.make_opsetid("", OPSET)]),
          "has no graph")
    write("no_opset.onnx", model(valid_graph(), opset=0), "imports no opset")
    m = model(valid_graph())
    m.opset_import[0].domain = "com.example"
    write("other_domain_opset.onnx", m, "imports no opset")

    # Shapes and dimensions.
    big = raw_tensor("W", TensorProto.FLOAT, [1 << 20, 1 << 20])
    write("huge_initializer.onnx", model(valid_graph(inits=[big, tensor("b", np.zeros(3, np.float32))])),
          "too many")
    write("huge_input.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 20, 1 << 20, 4])],
        nodes=[helper.make_node("Relu", ["x"], ["y"], name="act")], inits=[])), "x")
    # Declared huge, holding a few bytes: refused before anything of that size is made.
    write("huge_initializer_raw.onnx", model(valid_graph(inits=[
        raw_tensor("W", TensorProto.FLOAT, [1 << 31, 4], b"\0" * 16), tensor("b", np.zeros(3, np.float32))])),
          "raw_data has 16 bytes")
    write("huge_initializer_typed.onnx", model(valid_graph(inits=[
        TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 31, 4], float_data=[1.0] * 5),
        tensor("b", np.zeros(3, np.float32))])), "5 values for 8589934592")
    neg = raw_tensor("W", TensorProto.FLOAT, [4, -3])
    write("negative_dim_initializer.onnx", model(valid_graph(inits=[neg, tensor("b", np.zeros(3, np.float32))])),
          "negative dimension")
    write("negative_dim_input.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", -4])])), "dimension 1 is negative")
    write("unbound_dim.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "width"])])),
          "--dim width=N")
    write("rank_too_high.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1] * 12)],
        nodes=[helper.make_node("Relu", ["x"], ["y"], name="act")], inits=[])), "rank 12")
    write("input_no_shape.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, None)])), "has no shape")
    seq = helper.make_value_info("x", helper.make_sequence_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [4])))
    write("input_sequence.onnx", model(valid_graph(inputs=[seq])), "is not a tensor")

    # Wiring.
    write("dangling_input.onnx", model(valid_graph(nodes=[
        helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
        helper.make_node("Add", ["h", "nowhere"], ["y"], name="bias")])), "'nowhere'")
    write("dangling_no_sources.onnx", model(valid_graph(nodes=[
        helper.make_node("Relu", ["ghost"], ["y"], name="act")], inputs=[], inits=[])), "'ghost'")
    write("cycle.onnx", model(valid_graph(nodes=[
        helper.make_node("Add", ["x", "t2"], ["t1"], name="first"),
        helper.make_node("Relu", ["t1"], ["t2"], name="second"),
        helper.make_node("Relu", ["t2"], ["y"], name="third")])), "cycle")
    write("out_of_order.onnx", model(valid_graph(nodes=[
        helper.make_node("Relu", ["hb"], ["y"], name="act"),
        helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
        helper.make_node("Add", ["h", "b"], ["hb"], name="bias")])), "'hb'")
    write("duplicate_graph_output.onnx", model(valid_graph(outputs=[
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])), "'y'")
    write("duplicate_node_output.onnx", model(valid_graph(nodes=[
        helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
        helper.make_node("Add", ["h", "b"], ["y"], name="bias"),
        helper.make_node("Relu", ["x"], ["y"], name="again")])), "output 'y' is already defined")
    write("duplicate_initializer.onnx", model(valid_graph(inits=[
        tensor("W", np.zeros((4, 3), np.float32)), tensor("W", np.ones((4, 3), np.float32)),
        tensor("b", np.zeros(3, np.float32))])), "'W'")
    write("no_outputs.onnx", model(valid_graph(outputs=[])), "no outputs")
    write("output_not_produced.onnx", model(valid_graph(outputs=[
        helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch", 3])])), "'z'")
    write("node_no_op_type.onnx", model(valid_graph(nodes=[
        helper.make_node("", ["x"], ["y"], name="blank")])), "no op_type")
    write("unnamed_initializer.onnx", model(valid_graph(inits=[
        tensor("", np.zeros((4, 3), np.float32)), tensor("b", np.zeros(3, np.float32))])), "no name")
    write("too_many_inputs.onnx", model(valid_graph(nodes=[
        helper.make_node("Sum", ["x"] * 100, ["y"], name="wide")])), "more than")

    # Operators.
    write("unsupported_op.onnx", model(valid_graph(nodes=[
        helper.make_node("FancyOp", ["x"], ["y"], name="fancy")])), "unsupported operator FancyOp")
    write("newline_in_names.onnx", model(valid_graph(nodes=[
        helper.make_node("Bad\nOp", ["x"], ["y"], name="two\nlines")])), "node 'two\\x0alines' (Bad\\x0aOp")
    write("unsupported_domain.onnx", model(valid_graph(nodes=[
        helper.make_node("Relu", ["x"], ["y"], name="act", domain="com.example")])), "'com.example'")
    write("transpose_perm_float.onnx", model(valid_graph(nodes=[
        helper.make_node("Transpose", ["x"], ["t"], name="tr", perm=1.0),
        helper.make_node("Relu", ["t"], ["y"], name="act")],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, "batch"])])), "attribute 'perm' is FLOAT")
    write("transpose_perm_bad.onnx", model(valid_graph(nodes=[
        helper.make_node("Transpose", ["x"], ["y"], name="tr", perm=[0, 0])])), "tr")
    write("reshape_count.onnx", model(valid_graph(nodes=[
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")],
        inits=[tensor("shape", np.array([5, 5], np.int64))])), "rs")
    write("reshape_shape_not_const.onnx", model(valid_graph(nodes=[
        helper.make_node("Reshape", ["x", "x"], ["y"], name="rs")])), "constant")
    write("expand_huge.onnx", model(valid_graph(nodes=[
        helper.make_node("Expand", ["x", "shape"], ["y"], name="ex")],
        inits=[tensor("shape", np.array([1 << 40, 1 << 40, 4], np.int64))])), "--max-elements")
    shape = tensor("shape", np.array([-5, 3], np.int64))
    write("constant_of_shape_negative.onnx", model(valid_graph(nodes=[
        helper.make_node("ConstantOfShape", ["shape"], ["y"], name="cos")], inits=[shape])), "negative dimension")
    shape = tensor("shape", np.array([2, 3], np.int64))
    write("constant_of_shape_empty_value.onnx", model(valid_graph(nodes=[
        helper.make_node("ConstantOfShape", ["shape"], ["y"], name="cos", value=tensor("v", np.zeros(0, np.float32)))],
        inits=[shape])), "one element")
    write("matmul_mismatch.onnx", model(valid_graph(inits=[
        tensor("W", np.zeros((5, 3), np.float32)), tensor("b", np.zeros(3, np.float32))])), "mm")
    write("missing_operand.onnx", model(valid_graph(nodes=[
        helper.make_node("MatMul", ["x"], ["y"], name="mm")])), "mm")

    # Dtypes and tensor data.
    write("unsupported_input_dtype.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", TensorProto.COMPLEX64, ["batch", 4])])), "complex64")
    # int4 packs two elements a byte: 11 elements need 6 bytes; int32_data holds those bytes
    write("int4_raw_short.onnx", model(valid_graph(inits=[
        TensorProto(name="W", data_type=TensorProto.INT4, dims=[11], raw_data=bytes(5)),
        tensor("b", np.zeros(3, np.float32))])), "raw_data has 5 bytes, expected 6")
    write("int4_int32_data.onnx", model(valid_graph(inits=[
        TensorProto(name="W", data_type=TensorProto.INT4, dims=[3], int32_data=[0x21, 0x1ff]),
        tensor("b", np.zeros(3, np.float32))])), "not a byte of i4")
    f16_bits = TensorProto(name="W", data_type=TensorProto.FLOAT16, dims=[4, 3], int32_data=[0x3C00] * 11 + [70000])
    write("f16_int32_data.onnx", model(valid_graph(inits=[f16_bits, tensor("b", np.zeros(3, np.float32))])),
          "not the 16 bits of a f16")
    write("string_initializer.onnx", model(valid_graph(inits=[
        helper.make_tensor("W", TensorProto.STRING, [1], [b"w"]), tensor("b", np.zeros(3, np.float32))])),
          "operand 2 is str")
    write("unknown_dtype.onnx", model(valid_graph(
        inputs=[helper.make_tensor_value_info("x", 99, ["batch", 4])])), "x")
    raw = raw_tensor("W", TensorProto.FLOAT, [4, 3], b"\0" * 44)
    write("raw_data_size.onnx", model(valid_graph(inits=[raw, tensor("b", np.zeros(3, np.float32))])),
          "raw_data has 44 bytes")
    few = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 3], float_data=[1.0] * 5)
    write("typed_data_count.onnx", model(valid_graph(inits=[few, tensor("b", np.zeros(3, np.float32))])),
          "5 values for 12")

    # External data: the location must stay inside the model's folder and hold the bytes.
    with open(os.path.join(HERE, "short.bin"), "wb") as f:
        f.write(b"\0" * 20)
    for name, loc, want in [
        ("external_parent.onnx", "../make_bad.py", "leaves the model's folder"),
        ("external_absolute.onnx", "/etc/passwd", "leaves the model's folder"),
        ("external_symlink.onnx", "escape.bin", "leaves the model's folder"),
        ("external_missing.onnx", "missing.bin", "missing.bin"),
        ("external_short.onnx", "short.bin", "too short"),
        ("external_no_location.onnx", None, "without a location"),
    ]:
        t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 3])
        t.data_location = TensorProto.EXTERNAL
        if loc is not None:
            t.external_data.add(key="location", value=loc)
        else:
            t.external_data.add(key="length", value="48")
        write(name, model(valid_graph(inits=[t, tensor("b", np.zeros(3, np.float32))])), want)
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1 << 31, 4])
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="short.bin")
    write("external_huge.onnx", model(valid_graph(inits=[t, tensor("b", np.zeros(3, np.float32))])), "too short")
    t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 3])
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="short.bin")
    t.external_data.add(key="offset", value="-8")
    write("external_negative_offset.onnx", model(valid_graph(inits=[t, tensor("b", np.zeros(3, np.float32))])),
          "offset -8 is negative")
    link = os.path.join(HERE, "escape.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("../make_bad.py", link)


# ---- an axis of a scalar: ONNX's range [-r, r-1] is empty for rank 0 ----

def scalar_model(op, ins=("x",), inits=(), opset=18, x_type=TensorProto.FLOAT, outs=("y",), **attrs):
    node = helper.make_node(op, list(ins), list(outs), name="n", **attrs)
    return model(helper.make_graph([node], "g", [helper.make_tensor_value_info("x", x_type, [])],
                                   [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
                                   list(inits)), opset=opset)


def scalar_files():
    """What dlc compiled, or refused with a misleading reason, before onnx_axis refused a
    scalar (tests/onnx/scalar_axis_test.py holds every operator, against ONNX Runtime)."""
    i64 = lambda name, v: tensor(name, np.array(v, np.int64))
    no_axis = "the input is a scalar (rank 0), which has no axis"
    write("scalar_split.onnx", scalar_model("Split", outs=("y", "z"), num_outputs=2), no_axis)
    write("scalar_softmax_opset11.onnx", scalar_model("Softmax", opset=11, axis=0), no_axis)
    write("scalar_cumsum.onnx", scalar_model("CumSum", ["x", "a"], [i64("a", 0)]), no_axis)
    write("scalar_gather.onnx", scalar_model("Gather", ["x", "i"], [i64("i", 0)]), no_axis)
    write("scalar_unique_axis.onnx", scalar_model("Unique", axis=0), no_axis)
    write("scalar_reduce_sum_axes.onnx", scalar_model("ReduceSum", ["x", "a"], [i64("a", [0])]), no_axis)
    write("scalar_pad_axes.onnx", scalar_model("Pad", ["x", "p", "", "a"], [i64("p", [1, 1]), i64("a", [0])]), no_axis)
    write("scalar_compress.onnx", scalar_model("Compress", ["x", "c"], [tensor("c", np.array([True]))]),
          "Compress needs rank 1 or more")
    write("scalar_onehot.onnx", scalar_model("OneHot", ["x", "d", "v"], [i64("d", [3]), tensor("v", np.array(
        [0, 1], np.float32))], x_type=TensorProto.INT64), "OneHot needs rank 1 or more")


# ---- ImageDecoder: untrusted images, decoded at compile time ----

def image_model(data, pixel_format="RGB", runtime=False):
    """One ImageDecoder (opset 20) on data, an initializer (or an input when runtime)."""
    enc = np.frombuffer(bytes(data), np.uint8).copy()
    node = helper.make_node("ImageDecoder", ["enc"], ["y"], name="decode", pixel_format=pixel_format)
    inputs = [helper.make_tensor_value_info("enc", TensorProto.UINT8, [len(enc)])] if runtime else []
    inits = [] if runtime else [tensor("enc", enc)]
    return model(helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.UINT8, None)],
                                   inits), opset=20)


def seg(marker, payload):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

def many_scans_jpeg(ncomp):
    """An 8x8 progressive JPEG of all-zero coefficients, every coefficient of every
    component sent in its own scans, one bit at a time: 1 + 13 + 882 * ncomp scans."""
    out = b"\xff\xd8" + seg(0xDB, b"\x00" + bytes([1]) * 64)
    out += seg(0xC2, struct.pack(">BHHB", 8, 8, 8, ncomp) + b"".join(bytes([c + 1, 0x11, 0]) for c in range(ncomp)))
    one = bytes([1] + [0] * 15) + b"\x00"  # one code, '0', for symbol 0
    out += seg(0xC4, b"\x00" + one + b"\x10" + one)
    def sos(comps, ss, se, ah, al, data):
        return seg(0xDA, bytes([len(comps)]) + b"".join(bytes([c + 1, 0]) for c in comps) + bytes([ss, se, ah << 4 | al])) + data
    dc = bytes([(0xff >> ncomp)])  # ncomp zero bits, then ones
    out += sos(range(ncomp), 0, 0, 0, 13, dc)
    for a in range(13, 0, -1):
        out += sos(range(ncomp), 0, 0, a, a - 1, dc)
    for c in range(ncomp):
        for k in range(1, 64):
            out += sos([c], k, k, 0, 13, b"\x7f")
            for a in range(13, 0, -1):
                out += sos([c], k, k, a, a - 1, b"\x7f")
    return out + b"\xff\xd9"

def image_files():
    from onnx.backend.test.case.node import _image_decoder_data as frozen
    img = {k: bytes(getattr(frozen, "image_decoder_decode_%s_rgb" % k).data)
           for k in ("bmp", "jpeg", "jpeg2k", "png", "pnm", "tiff", "webp")}
    for fmt, want in [("jpeg", "JPEG: Premature end of JPEG file"), ("png", "PNG: the file is truncated"),
                      ("tiff", "TIFF:"), ("webp", "WebP: the file is truncated"), ("jpeg2k", "JPEG 2000:"),
                      ("bmp", "BMP: the pixel data is truncated"), ("pnm", "PNM: the pixel data is truncated")]:
        write("image_%s_truncated.onnx" % fmt, image_model(img[fmt][:len(img[fmt]) * 2 // 3]), want)
    jpeg = bytearray(img["jpeg"])
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 4] = 7  # sample precision 7
    write("image_jpeg_precision.onnx", image_model(jpeg), "Unsupported JPEG data precision 7")
    jpeg = bytearray(img["jpeg"])
    mid = (jpeg.index(b"\xff\xda") + len(jpeg)) // 2
    jpeg[mid:mid + 2] = b"\xff\xd5"  # a restart marker in the middle of the scan
    write("image_jpeg_corrupt_scan.onnx", image_model(jpeg), "JPEG: Corrupt JPEG data")
    write("image_jpeg_many_scans.onnx", image_model(many_scans_jpeg(3)), "JPEG: more than 1000 scans")
    png = bytearray(img["png"])
    png[18] ^= 0x40  # a byte of IHDR's width: its CRC no longer matches
    write("image_png_crc.onnx", image_model(png), "PNG: IHDR: CRC error")
    bmp = bytearray(img["bmp"])
    bmp[18:26] = (100000).to_bytes(4, "little") + (100000).to_bytes(4, "little", signed=True)
    write("image_bmp_huge.onnx", image_model(bmp), "over the limit of")
    write("image_pnm_huge.onnx", image_model(b"P6\n2000000000 2000000000\n255\n" + bytes(16)), "over the limit of")
    write("image_pnm_overflow.onnx", image_model(b"P6 99999999999 1 255\n"), "PNM: the header is malformed")
    pal = bytearray(54 + 8 + 4)  # an 8-bit BMP, 1 x 1, of a 2-color palette, whose pixel is color 200
    pal[0:2], pal[10:14], pal[14:18] = b"BM", (62).to_bytes(4, "little"), (40).to_bytes(4, "little")
    pal[18:22], pal[22:26], pal[26:28], pal[28:30] = (1).to_bytes(4, "little"), (1).to_bytes(4, "little"), b"\1\0", b"\x08\0"
    pal[46:50], pal[62] = (2).to_bytes(4, "little"), 200
    write("image_bmp_palette_index.onnx", image_model(pal), "is color 200 of a palette of 2")
    write("image_not_an_image.onnx", image_model(b"GIF89a" + bytes(20)), "not an image in a format dlc decodes")
    write("image_pixel_format.onnx", image_model(img["png"], "RGBA"), "pixel_format 'RGBA' is not supported")
    write("image_runtime_input.onnx", image_model(img["png"], runtime=True), "must be a constant known at compile time")


# ---- a million labels: too large to keep, written and checked at test time ----

LARGE = 1000000


def ml_model(node, x, y, ml=True):
    g = helper.make_graph([node], "g", [x], [y])
    imports = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("ai.onnx.ml", 3)] if ml else [])
    m = helper.make_model(g, opset_imports=imports, producer_name="make_bad")
    m.ir_version = 8
    return m


def large_cases():
    """(file, model, substring of the error, or None where it must compile): a million
    distinct labels, then the same with one label repeated at the end.  Comparing every
    pair of labels took minutes (ZipMap's 10^6 int64 labels: over 400 s); a sort takes
    well under a second."""
    ints = list(range(LARGE))
    strs = ["s%d" % i for i in range(LARGE)]
    def zipmap(labels, key):
        attr = {"classlabels_strings" if key == TensorProto.STRING else "classlabels_int64s": labels}
        out = helper.make_value_info("y", helper.make_sequence_type_proto(helper.make_map_type_proto(
            key, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))
        return ml_model(helper.make_node("ZipMap", ["x"], ["y"], name="zm", domain="ai.onnx.ml", **attr),
                        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, len(labels)]), out)
    def mapper(cats):
        return ml_model(helper.make_node("CategoryMapper", ["x"], ["y"], name="cm", domain="ai.onnx.ml",
                                         cats_strings=cats, cats_int64s=list(range(len(cats)))),
                        helper.make_tensor_value_info("x", TensorProto.STRING, [2]),
                        helper.make_tensor_value_info("y", TensorProto.INT64, [2]))
    def tfidf(pool):
        return ml_model(helper.make_node("TfIdfVectorizer", ["x"], ["y"], name="tf", mode="TF", min_gram_length=1,
                                         max_gram_length=1, max_skip_count=0, ngram_counts=[0],
                                         ngram_indexes=list(range(len(pool))), pool_strings=pool),
                        helper.make_tensor_value_info("x", TensorProto.STRING, [3]),
                        helper.make_tensor_value_info("y", TensorProto.FLOAT, [len(pool)]), ml=False)
    yield "large_zipmap_distinct.onnx", zipmap(strs, TensorProto.STRING), None
    yield "large_zipmap_int_twice.onnx", zipmap(ints + [17], TensorProto.INT64), "label 17 is given twice"
    yield "large_zipmap_str_twice.onnx", zipmap(strs + ["s17"], TensorProto.STRING), 'label "s17" is given twice'
    yield "large_category_mapper_twice.onnx", mapper(strs + ["s17"]), 'cats_strings lists "s17" twice'
    yield "large_tfidf_twice.onnx", tfidf(strs + ["s17"]), "n-grams 17 and 1000000 are the same 1-gram"


def check_large(dlc):
    """Writes each of large_cases() to a temporary folder and checks it: refused by
    bad_onnx.sh's rules (exit 1, one line, the file and the substring named), or compiled."""
    import subprocess
    import tempfile
    failed = 0
    with tempfile.TemporaryDirectory(prefix="dlc-bad-large-") as tmp:
        for name, m, want in large_cases():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(m.SerializeToString())
            if want is None:
                p = subprocess.run([dlc, "compile", os.path.join(tmp, name), "-o", os.path.join(tmp, "out.c")],
                                   capture_output=True, text=True)
                ok = p.returncode == 0 and not p.stderr and os.path.isfile(os.path.join(tmp, "out.c"))
                print(("ok: %s compiled" if ok else "FAIL: %s: exit status %d: " + p.stderr[-2000:]) %
                      ((name,) if ok else (name, p.returncode)))
            else:
                p = subprocess.run(["sh", os.path.join(os.path.dirname(HERE), "bad_onnx.sh"), dlc, tmp, name, want],
                                   capture_output=True, text=True)
                ok = p.returncode == 0
                print((p.stdout + p.stderr).strip())
            failed += not ok
            os.remove(os.path.join(tmp, name))
    print("%d of the large models failed" % failed)
    return 1 if failed else 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--large":
        sys.exit(check_large(sys.argv[2]))
    os.makedirs(HERE, exist_ok=True)
    for f in os.listdir(HERE):
        if f.endswith(".onnx"):
            os.remove(os.path.join(HERE, f))
    files()
    scalar_files()
    image_files()
    names = [n for n, _ in EXPECT]
    if len(names) != len(set(names)):
        sys.exit("make_bad.py: a file name is used twice")
    with open(os.path.join(HERE, "EXPECT"), "w") as f:
        f.write("# Written by tests/onnx/make_bad.py: FILE, a tab, and a substring that dlc's one-line\n"
                "# error about FILE must contain.  Regenerate rather than edit.\n")
        for name, want in EXPECT:
            f.write(f"{name}\t{want}\n")
    print(f"{len(EXPECT)} files in {HERE}")


if __name__ == "__main__":
    main()
