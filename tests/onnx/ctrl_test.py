#!/usr/bin/env python3
"""ONNX control flow and sequences (If, Loop, Scan, SequenceMap, Sequence*, Optional*):
small models built with onnx.helper, compiled and run by dlc, compared with ONNX Runtime
(relative error under 1e-5); and the cases dlc must refuse, each with one line naming
what it refuses.

    ctrl_test.py --dlc build/tools/dlc [--filter REGEX]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as TP
from onnx import helper as oh

F, I64, B = TP.FLOAT, TP.INT64, TP.BOOL


def vi(name, t, shape):
    return oh.make_tensor_value_info(name, t, shape)


def const(name, arr):
    arr = np.asarray(arr)
    return oh.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(arr, name + "_v"))


def model(nodes, inputs, outputs, opset=17, inits=()):
    g = oh.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def body(name, nodes, inputs, outputs, inits=()):
    return oh.make_graph(nodes, name, inputs, outputs, initializer=list(inits))


# ---- the cases: (model, feeds, dlc options) ----

def if_on_value():
    """Nested If on an input's value (run time: guarded branches merged by select),
    with captures from both enclosing scopes and Constant nodes in the branches."""
    inner_then = body("it", [const("k", np.float32(10)), oh.make_node("Mul", ["x", "k"], ["r"])], [], [vi("r", F, [3])])
    inner_else = body("ie", [oh.make_node("Sub", ["t0", "x"], ["r"])], [], [vi("r", F, [3])])
    outer_then = body("ot", [oh.make_node("Exp", ["x"], ["t0"]),
                             oh.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
                             const("zero", np.float32(0)),
                             oh.make_node("Greater", ["s", "zero"], ["c2"]),
                             oh.make_node("If", ["c2"], ["r"], then_branch=inner_then, else_branch=inner_else)],
                      [], [vi("r", F, [3])])
    outer_else = body("oe", [oh.make_node("Neg", ["x"], ["r"])], [], [vi("r", F, [3])])
    m = model([oh.make_node("ReduceMax", ["x"], ["mx"], keepdims=0), const("half", np.float32(0.5)),
               oh.make_node("Less", ["mx", "half"], ["c"]),
               oh.make_node("If", ["c"], ["y"], then_branch=outer_then, else_branch=outer_else)],
              [vi("x", F, [3])], [vi("y", F, [3])])
    feeds = [{"x": np.array([0.1, -0.2, 0.3], np.float32)},  # then, then
             {"x": np.array([-0.1, -0.3, 0.3], np.float32)},  # then, else
             {"x": np.array([0.9, -0.2, 0.3], np.float32)}]   # else
    return m, feeds, []


def if_on_shape():
    """If on a shape (folded: only the taken branch is built), nested in a taken branch."""
    inner_then = body("it", [oh.make_node("Transpose", ["x"], ["r"], perm=[1, 0])], [], [vi("r", F, [3, 2])])
    inner_else = body("ie", [oh.make_node("Abs", ["x"], ["a"]), oh.make_node("Transpose", ["a"], ["r"], perm=[1, 0])],
                      [], [vi("r", F, [3, 2])])
    outer_then = body("ot", [oh.make_node("Shape", ["x"], ["s2"]), const("i1", np.array([1], np.int64)),
                             oh.make_node("Gather", ["s2", "i1"], ["d1"]), const("three", np.array([3], np.int64)),
                             oh.make_node("Equal", ["d1", "three"], ["c2"]),
                             oh.make_node("If", ["c2"], ["r"], then_branch=inner_then, else_branch=inner_else)],
                      [], [vi("r", F, [3, 2])])
    outer_else = body("oe", [oh.make_node("Neg", ["x"], ["a"]), oh.make_node("Transpose", ["a"], ["r"], perm=[1, 0])],
                      [], [vi("r", F, [3, 2])])
    m = model([oh.make_node("Shape", ["x"], ["s"]), const("i0", np.array([0], np.int64)),
               oh.make_node("Gather", ["s", "i0"], ["d0"]), const("two", np.array([2], np.int64)),
               oh.make_node("Equal", ["d0", "two"], ["c"]),
               oh.make_node("If", ["c"], ["y"], then_branch=outer_then, else_branch=outer_else)],
              [vi("x", F, [2, 3])], [vi("y", F, [3, 2])])
    return m, [{"x": np.arange(6, dtype=np.float32).reshape(2, 3) - 2}], []


def loop_const():
    """Loop with a constant trip count and condition: carried values, a scan output,
    the iteration number, a capture and an If inside the body on the iteration number."""
    br_then = body("bt", [oh.make_node("Add", ["acc_in", "x"], ["v"])], [], [vi("v", F, [2])])
    br_else = body("be", [oh.make_node("Mul", ["acc_in", "x"], ["v"])], [], [vi("v", F, [2])])
    b = body("loop", [const("two", np.int64(2)), oh.make_node("Mod", ["i", "two"], ["m"]),
                      const("zero", np.int64(0)), oh.make_node("Equal", ["m", "zero"], ["even"]),
                      oh.make_node("If", ["even"], ["acc_out"], then_branch=br_then, else_branch=br_else),
                      oh.make_node("Cast", ["i"], ["fi"], to=F),
                      oh.make_node("Mul", ["acc_out", "fi"], ["scan"]),
                      oh.make_node("Identity", ["cond_in"], ["cond_out"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("acc_in", F, [2])],
             [vi("cond_out", B, []), vi("acc_out", F, [2]), vi("scan", F, [2])])
    m = model([const("M", np.int64(5)), const("c", np.bool_(True)),
               oh.make_node("Loop", ["M", "c", "a0"], ["acc", "scans"], body=b)],
              [vi("a0", F, [2]), vi("x", F, [2])], [vi("acc", F, [2]), vi("scans", F, [5, 2])])
    return m, [{"a0": np.array([1, -1], np.float32), "x": np.array([0.5, 2], np.float32)}], []


def loop_zero_trips():
    """Loop that runs no iteration: the carried value passes through, the scan output is
    empty with the element shape the body declares."""
    b = body("loop", [oh.make_node("Identity", ["cond_in"], ["cond_out"]), oh.make_node("Neg", ["v_in"], ["v_out"]),
                      oh.make_node("Identity", ["v_out"], ["y"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("v_in", F, [2])],
             [vi("cond_out", B, []), vi("v_out", F, [2]), vi("y", F, [2])])
    m = model([const("M", np.int64(0)), oh.make_node("Loop", ["M", "", "x"], ["v", "ys"], body=b)],
              [vi("x", F, [2])], [vi("v", F, [2]), vi("ys", F, [0, 2])])
    return m, [{"x": np.array([1, 2], np.float32)}], []


def loop_early_exit():
    """Loop whose condition, computed in the body from the iteration number, stops it
    before the trip count (the condition folds at each iteration)."""
    b = body("loop", [const("three", np.int64(3)), oh.make_node("Less", ["i", "three"], ["cond_out"]),
                      oh.make_node("Add", ["v_in", "x"], ["v_out"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("v_in", F, [2])],
             [vi("cond_out", B, []), vi("v_out", F, [2])])
    m = model([const("M", np.int64(10)), oh.make_node("Loop", ["M", "", "x"], ["v"], body=b)],
              [vi("x", F, [2])], [vi("v", F, [2])])
    return m, [{"x": np.array([1, 2], np.float32)}], []


def loop_runtime_cond():
    """Loop with a constant trip count and a condition computed from data: each
    iteration runs under a guard, the carried value is kept once the loop has stopped."""
    b = body("loop", [oh.make_node("Mul", ["v_in", "x"], ["v_out"]),
                      oh.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
                      oh.make_node("Less", ["s", "lim"], ["cond_out"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("v_in", F, [2])],
             [vi("cond_out", B, []), vi("v_out", F, [2])])
    m = model([const("M", np.int64(6)), const("c", np.bool_(True)),
               oh.make_node("Loop", ["M", "c", "x"], ["v"], body=b)],
              [vi("x", F, [2]), vi("lim", F, [])], [vi("v", F, [2])])
    x = np.array([1.5, 2], np.float32)
    return m, [{"x": x, "lim": np.array(v, np.float32)} for v in (1.0, 10.0, 50.0, 1e9)], []


def loop_runtime_trip():
    """Loop whose trip count M is an input (--max-trip 5): unrolled five times under
    guards; the scan output padded to five, its real length the count beside it, which
    dlc run writes as ONNX's shape (none, one, some and all of the five run)."""
    b = body("loop", [oh.make_node("Identity", ["c_in"], ["c_out"]),
                      oh.make_node("Add", ["v_in", "x"], ["v_out"]),
                      oh.make_node("Cast", ["i"], ["fi"], to=F),
                      oh.make_node("Mul", ["v_out", "fi"], ["y"])],
             [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])],
             [vi("c_out", B, []), vi("v_out", F, [2]), vi("y", F, [2])])
    m = model([oh.make_node("Loop", ["M", "", "x"], ["v", "ys"], body=b)],
              [vi("M", I64, []), vi("x", F, [2])], [vi("v", F, [2]), vi("ys", F, [None, 2])])
    x = np.array([1.5, -2], np.float32)
    return m, [{"M": np.array(k, np.int64), "x": x} for k in (0, 1, 3, 5, -2)], ["--max-trip", "5"]


def loop_runtime_trip_cond():
    """A run-time M and a condition from the data together: the loop stops at whichever
    comes first; M given as a [1] tensor of i32."""
    b = body("loop", [oh.make_node("Mul", ["v_in", "x"], ["v_out"]),
                      oh.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
                      oh.make_node("Less", ["s", "lim"], ["c_out"]),
                      oh.make_node("Identity", ["s"], ["y"])],
             [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])],
             [vi("c_out", B, []), vi("v_out", F, [2]), vi("y", F, [])])
    m = model([oh.make_node("Cast", ["M32"], ["M"], to=I64), const("c", np.bool_(True)),
               oh.make_node("Loop", ["M", "c", "x"], ["v", "ys"], body=b)],
              [vi("M32", TP.INT32, [1]), vi("x", F, [2]), vi("lim", F, [])], [vi("v", F, [2]), vi("ys", F, [None])])
    x = np.array([1.5, 2], np.float32)
    feeds = []
    for k, lim in ((6, 10.0), (2, 50.0), (6, 1e9), (0, 1.0)):
        feeds.append({"M32": np.array([k], np.int32), "x": x, "lim": np.array(lim, np.float32)})
    return m, feeds, ["--max-trip", "6"]


def loop_while():
    """A while loop: no trip count, a condition from the data (--max-trip 8)."""
    b = body("loop", [oh.make_node("Add", ["v_in", "v_in"], ["v_out"]),
                      oh.make_node("ReduceMax", ["v_out"], ["s"], keepdims=0),
                      oh.make_node("Less", ["s", "lim"], ["c_out"])],
             [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [3])],
             [vi("c_out", B, []), vi("v_out", F, [3])])
    m = model([oh.make_node("Less", ["zero", "lim"], ["c"]),
               oh.make_node("Loop", ["", "c", "x"], ["v"], body=b)],
              [vi("x", F, [3]), vi("lim", F, [])], [vi("v", F, [3])], inits=[onnx.numpy_helper.from_array(np.float32(0), "zero")])
    x = np.array([0.5, 1, -1], np.float32)
    return m, [{"x": x, "lim": np.array(v, np.float32)} for v in (-1.0, 1.5, 20.0, 100.0)], ["--max-trip", "8"]


def loop_runtime_cond_scan():
    """A constant trip count and a condition from the data, with a scan output: padded
    to the trip count, its length the count of iterations that ran."""
    b = body("loop", [oh.make_node("Identity", ["v_in"], ["v_out"]), oh.make_node("Identity", ["v_in"], ["y"]),
                      oh.make_node("ReduceSum", ["v_in"], ["s"], keepdims=0), oh.make_node("Less", ["s", "lim"], ["c_out"])],
             [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])],
             [vi("c_out", B, []), vi("v_out", F, [2]), vi("y", F, [2])])
    m = model([const("M", np.int64(3)), oh.make_node("Less", ["zero", "lim"], ["c"]),
               oh.make_node("Loop", ["M", "c", "x"], ["v", "ys"], body=b)],
              [vi("x", F, [2]), vi("lim", F, [])], [vi("v", F, [2]), vi("ys", F, [None, 2])],
              inits=[onnx.numpy_helper.from_array(np.float32(0), "zero")])
    x = np.array([1, 2], np.float32)
    return m, [{"x": x, "lim": np.array(v, np.float32)} for v in (-1.0, 1.0, 4.0)], []


def loop_scan_through():
    """A scan output of run-time length through Relu and a broadcast Mul to an output:
    padded the same way, its count beside it."""
    m, feeds, opts = loop_runtime_trip()
    g = m.graph
    g.node.extend([oh.make_node("Relu", ["ys"], ["r"]), oh.make_node("Mul", ["r", "w"], ["z"])])
    g.input.extend([vi("w", F, [1, 2])])
    del g.output[:]
    g.output.extend([vi("v", F, [2]), vi("z", F, [None, 2])])
    onnx.checker.check_model(m)
    for f in feeds:
        f["w"] = np.array([[2, -0.5]], np.float32)
    return m, feeds, opts


def loop_scan_reduced():
    """A scan output of run-time length reduced: over its run-time axis (the padding
    filled with the identity first: a sum, and a minimum that is +inf when none ran) to
    an ordinary tensor, and over the other axis, still padded with the count beside it."""
    m, feeds, opts = loop_runtime_trip()
    g = m.graph
    g.node.extend([oh.make_node("ReduceSum", ["ys", "ax0"], ["s"], keepdims=0),
                   oh.make_node("ReduceMin", ["ys"], ["lo"], axes=[0], keepdims=1),
                   oh.make_node("ReduceMax", ["ys"], ["hi"], axes=[1], keepdims=0)])
    g.initializer.extend([onnx.numpy_helper.from_array(np.array([0], np.int64), "ax0")])
    del g.output[:]
    g.output.extend([vi("s", F, [2]), vi("lo", F, [1, 2]), vi("hi", F, [None])])
    onnx.checker.check_model(m)
    return m, feeds, opts


def loop_nested_guards():
    """A Loop with a run-time condition whose body holds a run-time If holding another:
    guards three deep, a capture of the model's input at each level."""
    in_then = body("it", [oh.make_node("Mul", ["v_in", "x"], ["r"])], [], [vi("r", F, [2])])
    in_else = body("ie", [oh.make_node("Add", ["v_in", "x"], ["r"])], [], [vi("r", F, [2])])
    br_then = body("bt", [oh.make_node("ReduceMin", ["v_in"], ["mn"], keepdims=0), const("zero", np.float32(0)),
                          oh.make_node("Greater", ["mn", "zero"], ["c3"]),
                          oh.make_node("If", ["c3"], ["r"], then_branch=in_then, else_branch=in_else)],
                   [], [vi("r", F, [2])])
    br_else = body("be", [oh.make_node("Sub", ["v_in", "x"], ["r"])], [], [vi("r", F, [2])])
    b = body("loop", [oh.make_node("ReduceSum", ["v_in"], ["s"], keepdims=0), const("five", np.float32(5)),
                      oh.make_node("Less", ["s", "five"], ["c2"]),
                      oh.make_node("If", ["c2"], ["v_out"], then_branch=br_then, else_branch=br_else),
                      oh.make_node("ReduceMax", ["v_out"], ["mx"], keepdims=0),
                      oh.make_node("Less", ["mx", "lim"], ["cond_out"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("v_in", F, [2])],
             [vi("cond_out", B, []), vi("v_out", F, [2])])
    m = model([const("M", np.int64(6)), oh.make_node("Loop", ["M", "c", "x"], ["v"], body=b)],
              [vi("x", F, [2]), vi("lim", F, []), vi("c", B, [])], [vi("v", F, [2])])
    feeds = []
    for x, lim, c in (([1.5, 0.5], 100.0, True), ([-1, 2], 20.0, True), ([0.5, 0.25], 3.0, True),
                      ([2, 3], 50.0, False), ([-2, -1], 1e9, True)):
        feeds.append({"x": np.array(x, np.float32), "lim": np.array(lim, np.float32), "c": np.array(c)})
    return m, feeds, []


def loop_in_if():
    """A Loop with a run-time condition inside a run-time If's branch: the iterations'
    guards are and-chains under the branch's."""
    b = body("loop", [oh.make_node("Mul", ["v_in", "two"], ["v_out"]),
                      oh.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
                      oh.make_node("Less", ["s", "lim"], ["cond_out"])],
             [vi("i", I64, []), vi("cond_in", B, []), vi("v_in", F, [2])],
             [vi("cond_out", B, []), vi("v_out", F, [2])])
    t = body("t", [const("M", np.int64(5)), const("two", np.float32(2)), const("yes", np.bool_(True)),
                   oh.make_node("Loop", ["M", "yes", "x"], ["r"], body=b)], [], [vi("r", F, [2])])
    e = body("e", [oh.make_node("Neg", ["x"], ["r"])], [], [vi("r", F, [2])])
    m = model([oh.make_node("ReduceSum", ["x"], ["sx"], keepdims=0), const("zero", np.float32(0)),
               oh.make_node("Greater", ["sx", "zero"], ["c"]),
               oh.make_node("If", ["c"], ["y"], then_branch=t, else_branch=e)],
              [vi("x", F, [2]), vi("lim", F, [])], [vi("y", F, [2])])
    return m, [{"x": np.array(x, np.float32), "lim": np.array(l, np.float32)}
               for x, l in (([1, 2], 20), ([1, 2], 1e6), ([-1, -2], 20), ([0.5, 0.25], 5))], []


def if_sequences():
    """A run-time If whose branches give sequences of one length: merged element by
    element."""
    t = body("t", [oh.make_node("SplitToSequence", ["x"], ["r"], axis=0)], [],
             [oh.make_tensor_sequence_value_info("r", F, None)])
    e = body("e", [oh.make_node("Neg", ["x"], ["nx"]), oh.make_node("SplitToSequence", ["nx"], ["r"], axis=0)], [],
             [oh.make_tensor_sequence_value_info("r", F, None)])
    m = model([oh.make_node("If", ["c"], ["sq"], then_branch=t, else_branch=e),
               oh.make_node("ConcatFromSequence", ["sq"], ["y"], axis=1)],
              [vi("x", F, [3, 2]), vi("c", B, [])], [vi("y", F, [1, 6])])
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    return m, [{"x": x, "c": np.array(True)}, {"x": x, "c": np.array(False)}], []


def loop_runtime_sequence():
    """A Loop of run-time trip count (--max-trip 4) that appends to a sequence each
    iteration (torch's list.append in a loop): the sequence's length is known only at
    run time; SequenceLength gives it, ConcatFromSequence stacks it (new_axis) and joins
    it (axis 0), both padded with their length beside them (ONNX Runtime fails
    ConcatFromSequence of no elements, and so does dlc's run: run_failures)."""
    b = body("loop", [oh.make_node("Identity", ["c_in"], ["c_out"]),
                      oh.make_node("Cast", ["i"], ["fi"], to=F),
                      oh.make_node("Mul", ["x", "fi"], ["xi"]),
                      oh.make_node("SequenceInsert", ["s_in", "xi"], ["s_out"])],
             [vi("i", I64, []), vi("c_in", B, []), oh.make_tensor_sequence_value_info("s_in", F, None)],
             [vi("c_out", B, []), oh.make_tensor_sequence_value_info("s_out", F, None)])
    m = model([oh.make_node("SequenceEmpty", [], ["s0"], dtype=F),
               oh.make_node("Loop", ["M", "", "s0"], ["sq"], body=b),
               oh.make_node("SequenceLength", ["sq"], ["n"]),
               oh.make_node("ConcatFromSequence", ["sq"], ["stacked"], axis=0, new_axis=1),
               oh.make_node("ConcatFromSequence", ["sq"], ["joined"], axis=0),
               oh.make_node("ReduceSum", ["joined"], ["total"], keepdims=0)],
              [vi("M", I64, []), vi("x", F, [2])],
              [vi("n", I64, []), vi("stacked", F, [None, 2]), vi("joined", F, [None]), vi("total", F, [])])
    x = np.array([1.5, -2], np.float32)
    return m, [{"M": np.array(k, np.int64), "x": x} for k in (1, 3, 4)], ["--max-trip", "4"]


def loop_runtime_sequence_at():
    """SequenceAt at a constant position, and SequenceInsert at the end, of a sequence
    whose length is known only at run time (SequenceAt past the length fails the run:
    run_failures)."""
    m, _, opts = loop_runtime_sequence()
    g = m.graph
    g.node.extend([oh.make_node("SequenceAt", ["sq", "one"], ["second"]),
                   oh.make_node("SequenceInsert", ["sq", "x"], ["sq2"]),
                   oh.make_node("ConcatFromSequence", ["sq2"], ["more"], axis=0, new_axis=1),
                   oh.make_node("SequenceLength", ["sq2"], ["n2"])])
    g.initializer.extend([onnx.numpy_helper.from_array(np.array(1, np.int64), "one")])
    del g.output[:]
    g.output.extend([vi("second", F, [2]), vi("more", F, [None, 2]), vi("n2", I64, [])])
    onnx.checker.check_model(m)
    x = np.array([0.5, 3], np.float32)
    return m, [{"M": np.array(k, np.int64), "x": x} for k in (2, 4)], opts


def if_sequence_lengths():
    """A run-time If whose branches give sequences of different lengths (two elements,
    or three): one sequence whose length is a node, joined by ConcatFromSequence."""
    t = body("t", [oh.make_node("SequenceConstruct", ["x", "x"], ["r"])], [],
             [oh.make_tensor_sequence_value_info("r", F, None)])
    e = body("e", [oh.make_node("Neg", ["x"], ["nx"]), oh.make_node("SequenceConstruct", ["nx", "x", "nx"], ["r"])], [],
             [oh.make_tensor_sequence_value_info("r", F, None)])
    m = model([oh.make_node("If", ["c"], ["sq"], then_branch=t, else_branch=e),
               oh.make_node("ConcatFromSequence", ["sq"], ["y"], axis=1),
               oh.make_node("SequenceLength", ["sq"], ["n"])],
              [vi("x", F, [2, 3]), vi("c", B, [])], [vi("y", F, [2, None]), vi("n", I64, [])])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    return m, [{"x": x, "c": np.array(True)}, {"x": x, "c": np.array(False)}], []


def if_nonzero():
    """A run-time If whose branches give results of data-dependent length (NonZero of
    different values): one value padded alike, its length the taken side's, read by an
    elementwise node and reduced."""
    t = body("t", [oh.make_node("NonZero", ["x"], ["r"])], [], [vi("r", I64, None)])
    e = body("e", [oh.make_node("Neg", ["x"], ["nx"]), oh.make_node("Relu", ["nx"], ["rx"]),
                   oh.make_node("NonZero", ["rx"], ["r"])], [], [vi("r", I64, None)])
    m = model([oh.make_node("If", ["c"], ["y"], then_branch=t, else_branch=e),
               oh.make_node("Neg", ["y"], ["ny"]),
               oh.make_node("ReduceSum", ["y"], ["s"], keepdims=0)],
              [vi("x", F, [5]), vi("c", B, [])], [vi("ny", I64, [1, None]), vi("s", I64, [])])
    x = np.array([1, 0, -2, 3, -4], np.float32)
    return m, [{"x": x, "c": np.array(v)} for v in (True, False)] + [{"x": np.zeros(5, np.float32), "c": np.array(True)}], []


def loop_scan_nonzero(shift=False):
    """A Loop (M = 3) whose scan output is a result of data-dependent length (NonZero in
    the body): stacked, padded along the matching axis, its length the iterations' (which
    must all be the same, as ONNX requires: with shift, x - i has a different count of
    nonzeros in some iteration and the run fails, run_failures)."""
    nodes = [oh.make_node("Identity", ["c_in"], ["c_out"]), oh.make_node("Cast", ["i"], ["fi"], to=F)]
    nodes += [oh.make_node("Sub", ["x", "fi"], ["xs"]), oh.make_node("NonZero", ["xs"], ["nz"])] if shift else \
        [oh.make_node("NonZero", ["x"], ["nz"])]
    nodes += [oh.make_node("Add", ["nz", "i"], ["y"])]
    b = body("loop", nodes, [vi("i", I64, []), vi("c_in", B, [])], [vi("c_out", B, []), vi("y", I64, None)])
    m = model([const("M", np.int64(3)), oh.make_node("Loop", ["M", ""], ["ys"], body=b)],
              [vi("x", F, [4])], [vi("ys", I64, [3, 1, None])])
    return m, [{"x": np.array(v, np.float32)} for v in ([1, 0, 2, 0], [0, 0, 0, 0], [5, 6, 7, 8])], []


def scan9():
    """Scan (opset 9+): two scan inputs, one read backwards along axis 1, outputs
    stacked along axis 1 and one in reverse."""
    b = body("scan", [oh.make_node("Add", ["s_in", "a"], ["t"]), oh.make_node("Mul", ["t", "b"], ["s_out"]),
                      oh.make_node("Sub", ["s_out", "a"], ["y1"]), oh.make_node("Identity", ["s_out"], ["y2"])],
             [vi("s_in", F, [2]), vi("a", F, [2]), vi("b", F, [2])],
             [vi("s_out", F, [2]), vi("y1", F, [2]), vi("y2", F, [2])])
    m = model([oh.make_node("Scan", ["s0", "xa", "xb"], ["s", "ya", "yb"], body=b, num_scan_inputs=2,
                            scan_input_axes=[0, 1], scan_input_directions=[0, 1],
                            scan_output_axes=[1, 0], scan_output_directions=[0, 1])],
              [vi("s0", F, [2]), vi("xa", F, [4, 2]), vi("xb", F, [2, 4])],
              [vi("s", F, [2]), vi("ya", F, [2, 4]), vi("yb", F, [4, 2])])
    r = np.random.default_rng(1)
    return m, [{"s0": r.standard_normal(2).astype(np.float32), "xa": r.standard_normal((4, 2)).astype(np.float32),
                "xb": r.uniform(0.5, 1.5, (2, 4)).astype(np.float32)}], []


def scan8():
    """Scan at opset 8: a batch axis, one input read backwards, sequence_lens given as a
    constant of full lengths."""
    b = body("scan", [oh.make_node("Add", ["s_in", "a"], ["s_out"]), oh.make_node("Mul", ["s_out", "a"], ["y"])],
             [vi("s_in", F, [2]), vi("a", F, [2])], [vi("s_out", F, [2]), vi("y", F, [2])])
    lens = onnx.numpy_helper.from_array(np.array([3, 3], np.int64), "lens")
    m = model([oh.make_node("Scan", ["lens", "s0", "x"], ["s", "ys"], body=b, num_scan_inputs=1, directions=[1])],
              [vi("s0", F, [2, 2]), vi("x", F, [2, 3, 2])], [vi("s", F, [2, 2]), vi("ys", F, [2, 3, 2])],
              opset=8, inits=[lens])
    r = np.random.default_rng(4)
    return m, [{"s0": r.standard_normal((2, 2)).astype(np.float32), "x": r.standard_normal((2, 3, 2)).astype(np.float32)}], []


def sequences():
    """SplitToSequence, SequenceMap (with a tensor input and a capture),
    SequenceInsert/Erase/At/Length, ConcatFromSequence, Optional*."""
    mb = body("map", [oh.make_node("Mul", ["e", "w"], ["p"]), oh.make_node("Add", ["p", "bias"], ["o"])],
              [vi("e", F, [1, 3]), vi("w", F, [3])], [vi("o", F, [1, 3])])
    m = model([oh.make_node("SplitToSequence", ["x"], ["sq"], axis=0),
               oh.make_node("SequenceMap", ["sq", "w"], ["sq2"], body=mb),
               const("pos", np.int64(-1)), const("zero", np.int64(0)), const("one", np.int64(1)),
               oh.make_node("SequenceAt", ["sq2", "pos"], ["last"]),
               oh.make_node("SequenceInsert", ["sq2", "last", "zero"], ["sq3"]),
               oh.make_node("SequenceErase", ["sq3", "one"], ["sq4"]),
               oh.make_node("SequenceLength", ["sq4"], ["n"]),
               oh.make_node("ConcatFromSequence", ["sq4"], ["cat"], axis=0),
               oh.make_node("ConcatFromSequence", ["sq4"], ["stk"], axis=1, new_axis=1),
               oh.make_node("Optional", ["cat"], ["opt"]),
               oh.make_node("OptionalHasElement", ["opt"], ["has"]),
               oh.make_node("OptionalGetElement", ["opt"], ["got"])],
              [vi("x", F, [4, 3]), vi("w", F, [3]), vi("bias", F, [])],
              [vi("n", I64, []), vi("cat", F, [4, 3]), vi("stk", F, [1, 4, 3]), vi("has", B, []), vi("got", F, [4, 3])],
              opset=18)
    r = np.random.default_rng(2)
    return m, [{"x": r.standard_normal((4, 3)).astype(np.float32), "w": r.standard_normal(3).astype(np.float32),
                "bias": np.array(0.25, np.float32)}], []


def seq_io():
    """A sequence input (--shape NAME=L, elements NAME.K) and a sequence output (NAME.K)."""
    mb = body("map", [oh.make_node("ReduceSum", ["e"], ["o"], keepdims=0)], [vi("e", F, None)], [vi("o", F, [])])
    m = model([oh.make_node("SequenceMap", ["xs"], ["ys"], body=mb)],
              [oh.make_tensor_sequence_value_info("xs", F, None)], [oh.make_tensor_sequence_value_info("ys", F, None)])
    r = np.random.default_rng(3)
    return m, [{"xs": [r.standard_normal((2, 3)).astype(np.float32), r.standard_normal(4).astype(np.float32)]}], []


CASES = [if_on_value, if_on_shape, loop_const, loop_zero_trips, loop_early_exit, loop_runtime_cond, loop_runtime_trip,
         loop_runtime_trip_cond, loop_while, loop_runtime_cond_scan, loop_scan_through, loop_scan_reduced, loop_nested_guards, loop_in_if, if_sequences,
         loop_runtime_sequence, loop_runtime_sequence_at, if_sequence_lengths, if_nonzero, loop_scan_nonzero, scan9, scan8, sequences, seq_io]

# each case compiled as dlc run does by default (-O2, fused, checked against the
# interpreter), with no graph passes, and with one kernel group per ONNX node (a whole
# If or Loop is one group, its guards apart)
MODES = [["--check"], ["-O0"], ["--fuse", "op", "--check"]]
# --cuda: each case on the CUDA backend instead (run under tests/cuda's CPU emulator
# where there is no GPU), checked against the interpreter
CUDA_MODES = [["--target", "cuda", "--check"]]


# ---- what dlc refuses: (name, model, options, substring of the one-line error) ----

def refusals():
    out = []
    b = body("loop", [oh.make_node("Identity", ["c_in"], ["c_out"]), oh.make_node("Add", ["v_in", "v_in"], ["v_out"])],
             [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])], [vi("c_out", B, []), vi("v_out", F, [2])])
    out.append(("loop_runtime_trip", model([oh.make_node("Loop", ["M", "", "x"], ["v"], body=b)],
                                           [vi("M", I64, []), vi("x", F, [2])], [vi("v", F, [2])]),
                [], "the trip count M must be a constant known at compile time, or give the most iterations with --max-trip N"))
    out.append(("loop_runtime_trip_over_budget", model([oh.make_node("Loop", ["M", "", "x"], ["v"], body=b)],
                                                       [vi("M", I64, []), vi("x", F, [2])], [vi("v", F, [2])]),
                ["--max-trip", "1000", "--max-nodes", "500"], "--max-nodes"))
    out.append(("loop_over_budget", model([const("M", np.int64(10 ** 12)), oh.make_node("Loop", ["M", "", "x"], ["v"], body=b)],
                                          [vi("x", F, [2])], [vi("v", F, [2])]),
                [], "--max-nodes"))
    # no trip count, a condition that stays true, a body that adds no node: bounded by
    # the budget all the same (the iteration numbers count)
    out.append(("loop_forever", model([const("c", np.bool_(True)), oh.make_node("Loop", ["", "c", "x"], ["v"], body=b)],
                                      [vi("x", F, [2])], [vi("v", F, [2])]),
                ["--max-nodes", "5000"], "--max-nodes"))
    ib = body("inner", [oh.make_node("Identity", ["c_in2"], ["c_out2"]), oh.make_node("Add", ["v_in2", "x"], ["v_out2"])],
              [vi("i2", I64, []), vi("c_in2", B, []), vi("v_in2", F, [2])], [vi("c_out2", B, []), vi("v_out2", F, [2])])
    ob = body("outer", [oh.make_node("Identity", ["c_in"], ["c_out"]),
                        oh.make_node("Loop", ["M", "", "v_in"], ["v_out"], body=ib, name="inner_loop")],
              [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])], [vi("c_out", B, []), vi("v_out", F, [2])])
    out.append(("loop_nested_over_budget", model([const("M", np.int64(1000)),
                                                  oh.make_node("Loop", ["M", "", "x"], ["v"], body=ob, name="outer_loop")],
                                                 [vi("x", F, [2])], [vi("v", F, [2])]),
                ["--max-nodes", "20000"], "node 'outer_loop' (Loop, opset 17), body iteration "))
    bs = body("loop", [oh.make_node("Identity", ["v_in"], ["v_out"]), oh.make_node("Identity", ["v_in"], ["y"]),
                       oh.make_node("ReduceSum", ["v_in"], ["s"], keepdims=0), oh.make_node("Less", ["s", "lim"], ["c_out"])],
              [vi("i", I64, []), vi("c_in", B, []), vi("v_in", F, [2])],
              [vi("c_out", B, []), vi("v_out", F, [2]), vi("y", F, [2])])
    # a scan output of run-time length read by a node that mixes its positions: dlc has
    # no run-time shapes
    out.append(("loop_runtime_scan_read", model([const("M", np.int64(3)), const("c", np.bool_(True)),
                                                 oh.make_node("Loop", ["M", "c", "x"], ["v", "ys"], body=bs, name="L"),
                                                 oh.make_node("ArgMax", ["ys"], ["r"], name="R")],
                                                [vi("x", F, [2]), vi("lim", F, [])], [vi("v", F, [2]), vi("r", I64, [1, 2])]),
                [], "node 'R' (ArgMax, opset 17)"))
    out.append(("loop_while_unbounded", model([oh.make_node("Loop", ["", "c", "x"], ["v", "ys"], body=bs, name="W")],
                                              [vi("c", B, []), vi("x", F, [2]), vi("lim", F, [])],
                                              [vi("v", F, [2]), vi("ys", F, [None, 2])]),
                [], "node 'W' (Loop, opset 17): without a trip count M the condition must be a constant known at "
                    "compile time (at iteration 0 it is not), or give the most iterations with --max-trip N"))
    t = body("t", [const("r", np.zeros(3, np.float32))], [], [vi("r", F, [3])])
    e = body("e", [const("r", np.zeros(4, np.float32))], [], [vi("r", F, [4])])
    out.append(("if_branch_shapes", model([oh.make_node("If", ["c"], ["y"], then_branch=t, else_branch=e, name="I")],
                                          [vi("c", B, [])], [vi("y", F, [3])]),
                [], "node 'I' (If, opset 17): output 1 ('y'): f32[3] against f32[4], which no select merges"))
    # a sequence whose length is known only at run time, where dlc needs it known
    sb = body("loop", [oh.make_node("Identity", ["c_in"], ["c_out"]), oh.make_node("SequenceInsert", ["s_in", "x"], ["s_out"])],
              [vi("i", I64, []), vi("c_in", B, []), oh.make_tensor_sequence_value_info("s_in", F, None)],
              [vi("c_out", B, []), oh.make_tensor_sequence_value_info("s_out", F, None)])
    grow = [oh.make_node("SequenceEmpty", [], ["s0"], dtype=F), oh.make_node("Loop", ["M", "", "s0"], ["sq"], body=sb)]
    out.append(("runtime_sequence_output", model(grow, [vi("M", I64, []), vi("x", F, [2])],
                                                 [oh.make_tensor_sequence_value_info("sq", F, None)]),
                ["--max-trip", "3"], "graph output 'sq' is a sequence whose length is known only at run time (at most 3)"))
    out.append(("runtime_sequence_erase", model(grow + [oh.make_node("SequenceErase", ["sq"], ["s2"], name="E"),
                                                        oh.make_node("SequenceLength", ["s2"], ["n"])],
                                                [vi("M", I64, []), vi("x", F, [2])], [vi("n", I64, [])]),
                ["--max-trip", "3"], "node 'E' (SequenceErase, opset 17): input 1 is a sequence whose length is known "
                                     "only at run time"))
    return out


def inner_error_model():
    bad = body("t", [oh.make_node("Relu", ["nowhere"], ["r"], name="inner")], [], [vi("r", F, [3])])
    ok = body("e", [const("r", np.zeros(3, np.float32))], [], [vi("r", F, [3])])
    g = oh.make_graph([const("c", np.bool_(True)),
                       oh.make_node("If", ["c"], ["y"], then_branch=bad, else_branch=ok, name="outer")],
                      "g", [], [vi("y", F, [3])])
    m = oh.make_model(g, opset_imports=[oh.make_opsetid("", 17)])
    m.ir_version = 8  # not checked: the dangling name is the point
    return m


def seq_feed_args(name, value, tmp):
    """dlc's options for one input (docs/ONNX.md)."""
    if isinstance(value, list):
        args = ["--shape", "%s=%d" % (name, len(value))]
        for k, arr in enumerate(value):
            path = os.path.join(tmp, "%s.%d.npy" % (name, k))
            np.save(path, arr)
            args += ["--shape", "%s.%d=%s" % (name, k, "x".join(map(str, arr.shape)) or "1"),
                     "--input", "%s.%d=%s" % (name, k, path)]
        return args
    path = os.path.join(tmp, name + ".npy")
    np.save(path, value)
    args = ["--input", "%s=%s" % (name, path)]
    return args + (["--shape", "%s=%s" % (name, "x".join(map(str, value.shape)))] if value.ndim else [])


def dlc_outputs(m, tmp):
    """dlc's outputs as ONNX Runtime gives them: sequence NAME from NAME.0, NAME.1, ..."""
    got = []
    for o in m.graph.output:
        if o.type.HasField("sequence_type"):
            seq, k = [], 0
            while os.path.exists(os.path.join(tmp, "%s.%d.npy" % (o.name, k))):
                seq.append(np.load(os.path.join(tmp, "%s.%d.npy" % (o.name, k))))
                k += 1
            got.append(seq)
        else:
            got.append(np.load(os.path.join(tmp, o.name + ".npy")))
    return got


def close(got, want):
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(close(g, w) for g, w in zip(got, want))
    want = np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    if want.dtype.kind != "f":
        return bool(np.array_equal(got, want))
    same = (got == want) | (np.isnan(got) & np.isnan(want))  # infinities and NaNs where the other has them
    with np.errstate(invalid="ignore"):
        return bool(np.all(same | (np.abs(got - want) <= 1e-5 * np.maximum(1, np.abs(want)))))


def run_case(dlc, name, m, feeds, opts, tmp):
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for k, feed in enumerate(feeds):
        want = sess.run(None, feed)
        for mode in MODES:
            out = os.path.join(tmp, "%s_out%d%s" % (name, k, "".join(mode)))
            os.makedirs(out)
            args = [dlc, "run", path, "--output", out] + opts + mode
            for n, v in feed.items():
                args += seq_feed_args(n, v, tmp)
            p = subprocess.run(args, capture_output=True, text=True, timeout=300)
            if p.returncode:
                return "feed %d %s: %s" % (k, " ".join(mode), (p.stderr or p.stdout).strip())
            for o, g, w in zip(m.graph.output, dlc_outputs(m, out), want):
                if not close(g, w):
                    return "feed %d %s: output %s differs: %r, ORT %r" % (k, " ".join(mode), o.name, g, w)
    return None


def run_refusal(dlc, name, m, opts, want, tmp):
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(m, path)
    p = subprocess.run([dlc, "compile", path, "-o", os.path.join(tmp, name + ".c")] + opts,
                       capture_output=True, text=True, timeout=60)
    err = p.stderr.strip()
    if p.returncode != 1 or len(err.splitlines()) != 1 or want not in err:
        return "exit %d, want one line with '%s', got: %s" % (p.returncode, want, err)
    return None


def run_failures():
    """(name, model, feeds, options, substring): runs that must fail with one line, exit 1."""
    m, _, opts = loop_runtime_trip()
    x = np.array([1, 2], np.float32)
    w, _, wopts = loop_while()
    past = "or a Loop would run past its bound (dlc --max-trip)"
    sa, _, sopts = loop_runtime_sequence_at()
    return [("loop_runtime_trip_past_bound", m, {"M": np.array(6, np.int64), "x": x}, opts, past),
            ("sequence_at_past_length", sa, {"M": np.array(1, np.int64), "x": x}, sopts,
             "an index read from the data is out of range"),
            ("concat_from_no_elements", sa, {"M": np.array(0, np.int64), "x": x}, sopts,
             "an index read from the data is out of range"),
            ("stack_of_different_lengths", loop_scan_nonzero(shift=True)[0], {"x": np.array([0, 0, 1, 1], np.float32)},
             [], "an index read from the data is out of range"),
            ("loop_while_past_bound", w, {"x": np.array([0.5, 1, -1], np.float32), "lim": np.array(1e6, np.float32)},
             wopts, past)]


def run_failure(dlc, name, m, feed, opts, want, tmp):
    path = os.path.join(tmp, name + ".onnx")
    onnx.save(m, path)
    for mode in MODES:
        args = [dlc, "run", path, "--output", os.path.join(tmp, name + "_out")] + opts + mode
        for n, v in feed.items():
            args += seq_feed_args(n, v, tmp)
        p = subprocess.run(args, capture_output=True, text=True, timeout=300)
        err = p.stderr.strip()
        if p.returncode != 1 or len(err.splitlines()) != 1 or want not in err:
            return "%s: exit %d, want one line with '%s', got: %s" % (" ".join(mode), p.returncode, want, err)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--filter", default="")
    ap.add_argument("--cuda", action="store_true", help="run the cases on the CUDA backend (--target cuda)")
    a = ap.parse_args()
    if a.cuda:
        MODES[:] = CUDA_MODES
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-ctrl-") as tmp:
        for case in CASES:
            if not re.search(a.filter, case.__name__):
                continue
            m, feeds, opts = case()
            why = run_case(a.dlc, case.__name__, m, feeds, opts, tmp)
            bad += why is not None
            print("%s %s%s" % ("FAIL" if why else "ok", case.__name__, ": " + why if why else ""))
        for name, m, feed, opts, want in run_failures():
            if not re.search(a.filter, name):
                continue
            why = run_failure(a.dlc, name, m, feed, opts, want, tmp)
            bad += why is not None
            print("%s fails the run %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
        # --stats says how each Loop was unrolled
        for case, opts, want in ((loop_runtime_trip, ["--max-trip", "5"],
                                  "frontend: Loop 'v': unrolled, 5 iterations, 5 of them under run-time guards (the trip "
                                  "count is known only at run time; --max-trip); the scan outputs padded"),
                                 (loop_const, [], "frontend: Loop 'acc': unrolled, 5 iterations\n")):
            if not re.search(a.filter, "stats_" + case.__name__):
                continue
            path = os.path.join(tmp, "stats_%s.onnx" % case.__name__)
            onnx.save(case()[0], path)
            p = subprocess.run([a.dlc, "compile", path, "-o", os.path.join(tmp, "stats.c"), "--stats"] + opts,
                               capture_output=True, text=True, timeout=120)
            ok = p.returncode == 0 and want in p.stdout
            bad += not ok
            print("%s --stats of %s%s" % ("ok" if ok else "FAIL", case.__name__, "" if ok else ": " + p.stdout + p.stderr))
        refs = refusals()
        refs.append(("if_inner_error", inner_error_model(), [],
                     "node 'outer' (If, opset 17), then_branch: node 'inner' (Relu, opset 17)"))
        for name, m, opts, want in refs:
            if not re.search(a.filter, name):
                continue
            why = run_refusal(a.dlc, name, m, opts, want, tmp)
            bad += why is not None
            print("%s refuses %s%s" % ("FAIL" if why else "ok", name, ": " + why if why else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
