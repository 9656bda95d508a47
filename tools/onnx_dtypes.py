#!/usr/bin/env python3
"""The tensor dtypes each ONNX operator dlc builds takes, found by compiling one-node models.

For every row of frontend/onnx/onnx_ops.def, the operator's ONNX schema (the installed
onnx's newest) names the type constraint probed: its first input's, or that of the first
input that may have several dtypes (Where's X, not its condition), or, where the input is
a shape and an attribute sets the output's dtype, the output's (ConstantOfShape).  Each
dtype that constraint allows, of those dlc holds (ORDER), is probed with `dlc compile` on
one-node models: onnx's own node tests of the operator whose graph is that one node (the
folder run_node_tests.py writes them to, --cases), first those already of the dtype,
then the others, those of its width first, retyped: every input and output of the
constraint given the dtype (then, if that fails, also those of another constraint that
shared the first input's dtype: SequenceInsert's tensor joins a sequence of its dtype;
an attribute `dtype` or `value` where nothing else carries it), their data converted
(and bound with --const-input where dlc needs it as a constant, as run_node_tests.py
binds it).  Where the node tests have no one-node model (the random and sequence
operators, most of ai.onnx.ml, string TfIdfVectorizer), own_templates() makes one, or
takes tests/onnx/ml_ops_test.py's.  A dtype is covered when one of the models compiles.

--write FILE writes the table (frontend/onnx/onnx_dtypes.def) that `dlc compile
--list-ops` prints; --check FILE probes again and exits 1, showing the rows that differ,
when FILE is out of date, or when an error refusing a dtype does not name it (ctest
onnx.dtypes_table).  --explain OP prints, for each dtype of OP, which model compiled or
why none did.

Needs: the test tooling's Python (numpy, onnx, onnxruntime for ml_ops_test), see
tools/pyenv.sh.
"""
import argparse
import concurrent.futures as cf
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
import run_node_tests as rnt  # noqa: E402  (its feeds: expand_feed, read_value, ident)

DOMAINS = {"ONNX_OP": "", "ONNX_OP_SEQ": "", "ONNX_OP_PW": "", "ONNX_OP_DYN": "", "ONNX_OP_ROWS": "", "ONNX_OP_ML": "ai.onnx.ml",
           "ONNX_OP_TRAINING": "ai.onnx.preview.training", "ONNX_OP_PREVIEW": "ai.onnx.preview"}

# The dtypes dlc's loader maps to IR dtypes (frontend/onnx/onnx_tensor.c), in the order
# the table lists them (ONNX's names).  Only these are probed: another one an ONNX schema
# allows (complex64, float6e2m3, ...) is refused where a value of it is read, though an
# operator that never reads one (SequenceEmpty's dtype) may compile with it.
ORDER = ["float", "double", "float16", "bfloat16", "int8", "int16", "int32", "int64",
         "uint8", "uint16", "uint32", "uint64", "bool", "string",
         "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "float8e8m0",
         "float4e2m1", "int4", "uint4", "int2", "uint2"]
# Their IR names (ir/ir.h), which an error may use instead.
IR_NAME = dict(zip(ORDER, ["f32", "f64", "f16", "bf16", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
                           "bool", "str", "f8e4m3fn", "f8e4m3fnuz", "f8e5m2", "f8e5m2fnuz", "f8e8m0",
                           "f4e2m1", "i4", "u4", "i2", "u2"]))
CODE = {k.lower(): v for k, v in onnx.TensorProto.DataType.items() if v}
NAME = {v: k for k, v in CODE.items()}
TRIES = 8  # models probed per dtype, at most


def read_ops(def_path):
    """[(op_type, domain)] of onnx_ops.def's rows."""
    text = re.sub(r"/\*.*?\*/", "", open(def_path).read(), flags=re.S)
    return [(m.group(2), DOMAINS[m.group(1)])
            for m in re.finditer(r"\b(ONNX_OP\w*)\((\w+),\s*\d+(?:,\s*\w+)?\)", text)]


def load_templates(node_dir):
    """{(domain, op_type): [folder]}: the node tests whose graph is one node."""
    out = {}
    for folder in sorted(glob.glob(os.path.join(node_dir, "*"))):
        try:
            m = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
        except Exception:
            continue
        if len(m.graph.node) != 1 or m.graph.initializer:
            continue
        n = m.graph.node[0]
        dom = "" if n.domain in ("", "ai.onnx") else n.domain
        out.setdefault((dom, n.op_type), []).append(folder)
    return out


def primary(schema):
    """(the type constraint probed, its allowed dtype names): the first input's, or that of
    the first input that may have several dtypes (Where's X rather than its bool condition;
    not in control flow, whose bodies give the other inputs' types)."""
    var = (schema.inputs or schema.outputs)[0].type_str
    cons = {c.type_param_str: list(c.allowed_type_strs) for c in schema.type_constraints}
    names = primary_names(cons.get(var, [var]))
    graphs = any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in schema.attributes.values())
    many = [p.type_str for p in schema.inputs if len(primary_names(cons.get(p.type_str, [p.type_str]))) > 1]
    if len(names) == 1 and many and not graphs:
        return many[0], primary_names(cons[many[0]])
    out = schema.outputs[0].type_str if schema.outputs else var
    if len(names) == 1 and out != var and ("value" in schema.attributes or "dtype" in schema.attributes):
        # its input is a shape; what varies is the output's dtype, which an attribute sets
        # (ConstantOfShape)
        return out, primary_names(cons.get(out, [out]))
    return var, names


def primary_names(allowed):
    """The dtypes of a type constraint's strings: tensor(float), and the elements of
    seq(tensor(float)), optional(tensor(float))."""
    names = []
    for s in allowed:
        m = re.search(r"tensor\((\w+)\)", s)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def tensor_type(t):
    """The TypeProto's tensor type, or its sequence's or optional's elements'; None if none."""
    while True:
        if t.HasField("tensor_type"):
            return t.tensor_type
        if t.HasField("sequence_type"):
            t = t.sequence_type.elem_type
        elif t.HasField("optional_type"):
            t = t.optional_type.elem_type
        else:
            return None


def formal_type(params, i):
    """The type string of actual parameter i (the last formal one is variadic)."""
    if not params:
        return None
    return params[min(i, len(params) - 1)].type_str


class Template:
    """A one-node model as a template: the model, its inputs' data (a list in the order of the
    graph's inputs, or None) and, for each of the node's values, its formal type."""

    def __init__(self, name, model, data, schema, var):
        self.name, self.model, self.data, self.var = name, model, data, var
        g, node = model.graph, model.graph.node[0]
        cons = {c.type_param_str: primary_names(c.allowed_type_strs) for c in schema.type_constraints}
        self.formal = {}  # value name: (its type variable, the dtypes that allows)
        for params, names in ((schema.inputs, node.input), (schema.outputs, node.output)):
            for i, n in enumerate(names):
                t = formal_type(params, i)
                if n and t:
                    self.formal[n] = (t, cons.get(t, primary_names([t])))
        first = [tensor_type(v.type) for v in list(g.input) + list(g.output) if self.formal.get(v.name, ("",))[0] == var]
        self.dtype = NAME.get(first[0].elem_type) if first and first[0] is not None else None

    def retyped(self, vi, dtype, twins):
        """Whether value vi takes the probed dtype: those of the probed type variable, and
        with `twins` those of another one that had the same dtype and allows the probed one
        (SequenceInsert's tensor joins a sequence of its dtype)."""
        var, allowed = self.formal.get(vi.name, (None, []))
        if var == self.var:
            return True
        tt = tensor_type(vi.type)
        return twins and var is not None and tt is not None and NAME.get(tt.elem_type) == self.dtype and dtype in allowed

    def has_twins(self, dtype):
        g = self.model.graph
        return any(self.retyped(v, dtype, True) != self.retyped(v, dtype, False) for v in list(g.input) + list(g.output))

    def probe(self, dlc, dtype, work, twins=False, to_self=False):
        """None if dlc compiles this model with the probed values in dtype, else the error.
        With to_self, the node's `to` names the probed dtype too, and so do the outputs
        (BitCast's `to` must keep the width; no node test bitcasts a 4-bit type)."""
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        if to_self:
            for a in m.graph.node[0].attribute:
                if a.name == "to":
                    a.i = CODE[dtype]
            for v in m.graph.output:
                if tensor_type(v.type) is not None:
                    tensor_type(v.type).elem_type = CODE[dtype]
        carried = dtype == self.dtype
        retyped = set()
        for k, v in enumerate(list(m.graph.input) + list(m.graph.output)):
            tt = tensor_type(v.type)
            if tt is not None and self.retyped(v, dtype, twins):
                retyped.add(v.name)
                tt.elem_type = CODE[dtype]
                # an input counts if it holds a value (an empty optional has no dtype to check)
                carried |= k < len(m.graph.input) and (self.data is None or self.data[k] is not None)
        if not carried and not retype_attr(m.graph.node[0], dtype):
            return "the model has no input of the probed type to give %s" % dtype
        path = os.path.join(work, "model.onnx")
        with open(path, "wb") as f:
            f.write(m.SerializeToString())
        feeds, extra = [], []
        for vi, value in zip(m.graph.input, self.data or []):
            if vi.name in retyped and dtype != self.dtype:
                value = convert(value, dtype)
            more, fs = rnt.expand_feed(vi.name, value, work)
            extra += more
            feeds += fs
        why = compile_model(dlc, path, feeds, extra, work, const=False)
        if why and self.data is not None and ("constant known at compile time" in why or "dimensions must be positive" in why):
            why = compile_model(dlc, path, feeds, extra, work, const=True)
        return why


def one_node(op, ins, outs, data, opset=21, then=None, **attrs):
    """(name, model, data) of a model of one node: ins and outs are (name, ValueInfo); `then`,
    (op, output) of a node that reads its output where that alone computes nothing."""
    nodes = [helper.make_node(op, [n for n, _ in ins], [n for n, _ in outs], name="probe", **attrs)]
    if then:
        nodes.append(helper.make_node(then[0], [outs[0][0]], [then[1][0]], name="then"))
        outs = [then[1]]
    g = helper.make_graph(nodes, "probe", [v for _, v in ins], [v for _, v in outs])
    return "dlc_" + op, helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10), data


def tensor(name, shape=(2, 3), t=onnx.TensorProto.FLOAT):
    return name, helper.make_tensor_value_info(name, t, list(shape))


def seq(name, shape=(2, 3), t=onnx.TensorProto.FLOAT):
    return name, helper.make_tensor_sequence_value_info(name, t, list(shape))


def gradient_template():
    """Gradient has no node test of one node: dx = d sum(x * x) / dx."""
    x = np.ones((2, 3), np.float32)
    nodes = [helper.make_node("Mul", ["x", "x"], ["y"], name="square"),
             helper.make_node("Gradient", ["x"], ["dx"], name="probe", domain="ai.onnx.preview.training",
                              xs=["x"], y="y")]
    g = helper.make_graph(nodes, "probe", [tensor("x")[1]], [tensor("dx")[1]])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21),
                                                helper.make_opsetid("ai.onnx.preview.training", 1)], ir_version=10)
    return "dlc_Gradient", model, [x]


def own_templates():
    """Templates for the operators onnx's node tests have no one-node test of: the random
    operators (their outputs cannot be compared), the sequence operators, and the
    ai.onnx.ml operators of tests/onnx/ml_ops_test.py's cases."""
    x = np.ones((2, 3), np.float32)
    out = {
        "RandomUniform": lambda: one_node("RandomUniform", [], [tensor("y")], [], shape=[2, 3], dtype=1),
        "RandomNormal": lambda: one_node("RandomNormal", [], [tensor("y")], [], shape=[2, 3], dtype=1),
        "RandomUniformLike": lambda: one_node("RandomUniformLike", [tensor("x")], [tensor("y")], [x]),
        "RandomNormalLike": lambda: one_node("RandomNormalLike", [tensor("x")], [tensor("y")], [x]),
        "Multinomial": lambda: one_node("Multinomial", [tensor("x")], [tensor("y", (2, 4), onnx.TensorProto.INT32)], [x], sample_size=4),
        "SequenceConstruct": lambda: one_node("SequenceConstruct", [tensor("a"), tensor("b")], [seq("s")], [x, x]),
        "SequenceEmpty": lambda: one_node("SequenceEmpty", [], [seq("s", ())], [], dtype=1,
                                          then=("SequenceLength", tensor("n", (), onnx.TensorProto.INT64))),
        "SequenceAt": lambda: one_node("SequenceAt", [seq("s"), tensor("i", (), onnx.TensorProto.INT64)], [tensor("y")],
                                       [[x, x], np.array(1, np.int64)]),
        "SequenceErase": lambda: one_node("SequenceErase", [seq("s"), tensor("i", (), onnx.TensorProto.INT64)], [seq("t")],
                                          [[x, x], np.array(0, np.int64)]),
        "SequenceLength": lambda: one_node("SequenceLength", [seq("s")], [tensor("n", (), onnx.TensorProto.INT64)], [[x, x]]),
        "ConcatFromSequence": lambda: one_node("ConcatFromSequence", [seq("s")], [tensor("y", (4, 3))], [[x, x]], axis=0),
        "Optional": lambda: one_node("Optional", [tensor("x")], [("o", helper.make_value_info(
            "o", helper.make_optional_type_proto(helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, [2, 3]))))], [x]),
    }
    # onnx's TfIdfVectorizer tests all count integers
    out["TfIdfVectorizer"] = lambda: one_node(
        "TfIdfVectorizer", [tensor("x", (2, 3), onnx.TensorProto.STRING)], [tensor("y", (2, 2))],
        [np.array([["a", "b", "a"], ["b", "c", "a"]])], mode="TF", min_gram_length=1, max_gram_length=1,
        max_skip_count=0, ngram_counts=[0], ngram_indexes=[0, 1], pool_strings=["a", "b"])
    temps = {("", op): [f] for op, f in out.items()}
    temps[("ai.onnx.preview.training", "Gradient")] = [gradient_template]
    sys.path.insert(0, os.path.join(ROOT, "tests", "onnx"))
    import ml_ops_test
    for name, model, feeds in ml_ops_test.cases():
        node = model.graph.node[0]
        data = [feeds.get(v.name) for v in model.graph.input]
        temps.setdefault((node.domain, node.op_type), []).append(lambda r=("ml_" + name, model, data): r)
    return temps


def node_test(folder):
    """(name, model, data) of one of onnx's node tests."""
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    pbs = sorted(glob.glob(os.path.join(folder, "test_data_set_0", "input_*.pb")), key=rnt.pb_index)
    data = None
    if len(pbs) == len(model.graph.input):
        try:
            data = [rnt.read_value(pb, vi) for vi, pb in zip(model.graph.input, pbs)]
        except Exception:
            data = None
    return os.path.basename(folder), model, data


def retype_attr(node, dtype):
    """An operator without inputs of the probed type (Constant, RandomNormal) has it in an
    attribute: `dtype`, or `value`'s tensor.  False if it has neither."""
    for a in node.attribute:
        if a.name == "dtype" and a.type == onnx.AttributeProto.INT:
            a.i = CODE[dtype]
            return True
        if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
            v = convert(numpy_helper.to_array(a.t), dtype)
            t = numpy_helper.from_array(v.astype(object) if dtype == "string" else v, a.t.name)
            a.t.CopyFrom(t)
            return True
    return False


def convert(value, dtype):
    """A test input as the probed dtype (its values need only be plausible)."""
    if value is None or isinstance(value, list):
        return [convert(v, dtype) for v in value] if isinstance(value, list) else None
    value = np.asarray(value)
    if dtype == "string":  # numbers as their text; ml_dtypes' types through f32
        return value.astype(str) if value.dtype.kind in "biufOUS" else value.astype(np.float32).astype(str)
    want = helper.tensor_dtype_to_np_dtype(CODE[dtype])
    try:
        with np.errstate(all="ignore"):
            return value.astype(np.float32 if value.dtype.kind in "OUS" else value.dtype).astype(want)
    except (ValueError, TypeError):  # text that is no number
        return np.zeros(value.shape, dtype=want)


def compile_model(dlc, path, feeds, extra, work, const):
    """`dlc compile` of the model, with the inputs' shapes from the data (and the
    parameters bound as constants when `const`), as run_node_tests.py binds them."""
    args = [dlc, "compile", path, "-o", os.path.join(work, "probe.c")] + extra
    for k, (name, irname, arr, npy) in enumerate(feeds):
        if const and (arr.dtype.kind in "iub" or arr.ndim == 0 or (k > 0 and arr.ndim <= 1)):
            args += ["--const-input", "%s=%s" % (name, npy)]
        elif arr.ndim:
            args += ["--shape", "%s=%s" % (name, "x".join(str(d) for d in arr.shape))]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "timed out"
    return None if p.returncode == 0 else rnt.first_line(p.stderr or p.stdout)


def width(dtype):
    """Bytes of one element (numpy's), 0 for an unknown dtype."""
    try:
        return helper.tensor_dtype_to_np_dtype(CODE[dtype]).itemsize
    except Exception:
        return 0


def probe_op(dlc, op, dom, folders):
    """(op, dom, {dtype: None if covered else why}, {dtype: the model that compiled})."""
    try:
        schema = onnx.defs.get_schema(op, dom)
    except Exception:
        return op, dom, {}, {}
    var, names = primary(schema)
    temps = []
    for f in folders:
        try:
            temps.append(Template(*(f() if callable(f) else node_test(f)), schema, var))
        except Exception:
            continue
    # the float tests first (an operator's main case), then by name; for each dtype, those
    # of that dtype, then those of a dtype of its width (BitCast's `to` must keep it)
    temps.sort(key=lambda t: (t.dtype != "float", len(t.name), t.name))
    result, used = {}, {}
    work = tempfile.mkdtemp(prefix="dlc-dtypes-")
    try:
        for d in [d for d in names if d in ORDER]:
            native = [t for t in temps if t.dtype == d]
            others = sorted((t for t in temps if t.dtype != d), key=lambda t: width(t.dtype) != width(d))
            why = "no node test of %s to probe with" % op
            for t in (native[:2] + others)[:TRIES]:
                why = t.probe(dlc, d, work)
                if why is not None and t.dtype != d and t.has_twins(d):
                    why = t.probe(dlc, d, work, twins=True)
                if why is None:
                    used[d] = t.name
                    break
            if why is not None and temps and any(a.name == "to" for a in temps[0].model.graph.node[0].attribute):
                why = temps[0].probe(dlc, d, work, to_self=True)
                if why is None:
                    used[d] = temps[0].name + ", to=" + d
            result[d] = why
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return op, dom, result, used


def unnamed_refusals(done):
    """The refusals of a dtype dlc holds whose error names it neither as ONNX does nor as
    the IR does: an unsupported dtype must be an error naming it."""
    out = []
    for op, dom, result, used in done:
        for d, why in result.items():
            if why is not None and d in IR_NAME and not re.search(r"\b(%s|%s)\b" % (d, IR_NAME[d]), why):
                out.append("%s %s: %s" % (op, d, why))
    return out


def table_text(rows):
    lines = ["/* onnx_dtypes.def — generated by tools/onnx_dtypes.py (do not edit; ctest",
             " * onnx.dtypes_table fails when it is out of date; rerun the script with --write).",
             " * ONNX_DTYPES(op_type, domain, dtypes): the dtypes of the operator's first input (of its",
             " * type constraint) with which dlc compiles a one-node model of onnx's node tests;",
             " * \"\" where no node test of the operator compiles at all. */"]
    for op, dom, result in rows:
        got = [d for d in ORDER if d in result and result[d] is None]
        lines.append('ONNX_DTYPES(%s, "%s", "%s")' % (op, dom, " ".join(got)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True, help="the dlc binary")
    ap.add_argument("--cases", required=True, help="the folder of node tests (run_node_tests.py --cases)")
    ap.add_argument("--ops", default=os.path.join(ROOT, "frontend", "onnx", "onnx_ops.def"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write", metavar="FILE", help="write the table here")
    g.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from a new probe")
    g.add_argument("--explain", metavar="OP", help="each dtype of OP: the model that compiled, or why none did")
    a = ap.parse_args()
    node = rnt.node_dir(a.cases)
    ops = read_ops(a.ops)
    if a.explain:
        ops = [o for o in ops if o[0] == a.explain]
        if not ops:
            sys.exit("onnx_dtypes.py: %s is not a row of %s" % (a.explain, a.ops))
    temps = load_templates(node)
    for key, more in own_templates().items():
        temps.setdefault(key, []).extend(more)
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        done = list(pool.map(lambda o: probe_op(a.dlc, o[0], o[1], temps.get((o[1], o[0]), [])), ops))
    if a.explain:
        for op, dom, result, used in done:
            for d, why in result.items():
                print("%-16s %s" % (d, "compiles (%s)" % used[d] if why is None else "refused: " + why))
        return 0
    text = table_text([(op, dom, result) for op, dom, result, used in done])
    if a.write:
        with open(a.write, "w") as f:
            f.write(text)
        print("onnx_dtypes.py: %d operators written to %s" % (len(done), a.write))
        return 0
    unnamed = unnamed_refusals(done)
    for line in unnamed:
        print("refusal not naming its dtype: " + line)
    old = open(a.check).read() if os.path.exists(a.check) else ""
    if old == text and not unnamed:
        print("onnx_dtypes.py: %s is up to date (%d operators)" % (a.check, len(done)))
        return 0
    if old == text:
        print("onnx_dtypes.py: %d refusals do not name the dtype they refuse" % len(unnamed))
        return 1
    olds, news = set(old.splitlines()), set(text.splitlines())
    for line in old.splitlines():
        if line not in news:
            print("table: " + line)
    for line in text.splitlines():
        if line not in olds:
            print("probe: " + line)
    print("onnx_dtypes.py: %s is out of date; rerun tools/onnx_dtypes.py --write %s" % (a.check, a.check))
    return 1


if __name__ == "__main__":
    sys.exit(main())
