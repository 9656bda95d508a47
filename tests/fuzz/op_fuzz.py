#!/usr/bin/env python3
"""Structured fuzzing of the ONNX operator builders: one-node models with random shapes,
dtypes, attributes and constant operands, drawn from each operator's schema in the onnx
package, fed to `dlc dump` (or, with --cmd compile, `dlc compile`).

    .venv/bin/python tests/fuzz/op_fuzz.py --dlc build-asan/tools/dlc [--seconds 60] [--seed 1]

Byte-level fuzzing (fuzz_onnx) rarely gets past the protobuf to the builders; this does.
Most of these models are invalid, and that is the point: whatever the model, dlc must
either compile it (exit 0) or refuse it with exactly one line `dlc: error: ...` (exit 1),
within the time limit, with no sanitizer report.  Anything else is a failure: the model
is kept in --out (default: a folder under /tmp) and the run exits 1.  Use a build with
-DDLC_SANITIZE=ON for memory errors to show.
"""
import argparse
import concurrent.futures
import os
import shutil
import random
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, defs, helper, numpy_helper

AT = onnx.AttributeProto
STRINGS = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "wrap",
           "nearest", "linear", "cubic", "tanh", "none", "DCR", "CRD", "", "bogus"]
TYPES = {"tensor(float)": TensorProto.FLOAT, "tensor(double)": TensorProto.DOUBLE,
         "tensor(int64)": TensorProto.INT64, "tensor(int32)": TensorProto.INT32,
         "tensor(bool)": TensorProto.BOOL, "tensor(uint8)": TensorProto.UINT8,
         "tensor(int8)": TensorProto.INT8, "tensor(float16)": TensorProto.FLOAT16,
         "tensor(bfloat16)": TensorProto.BFLOAT16}


def rand_int(r):
    return r.choice([0, 1, 2, 3, -1, -2, r.randint(-5, 8), 1 << 40, -(1 << 62)] if r.random() < 0.2
                    else [0, 1, 2, -1, r.randint(-3, 4)])


def rand_attr(r, name, a):
    t = a.type
    if t == AT.INT:
        return rand_int(r)
    if t == AT.INTS:
        return [rand_int(r) for _ in range(r.choice([0, 1, 2, 2, 3, 4, 4, 6, 9]))]
    if t == AT.FLOAT:
        return r.choice([0.0, 1.0, -1.0, 0.5, 1e-5, 1e30, float("nan"), float("inf")])
    if t == AT.FLOATS:
        return [r.uniform(-2, 2) for _ in range(r.randint(0, 4))]
    if t == AT.STRING:
        return r.choice(STRINGS)
    if t == AT.STRINGS:
        return [r.choice(STRINGS) for _ in range(r.randint(0, 3))]
    if t == AT.TENSOR:
        return numpy_helper.from_array(rand_array(r, r.choice([TensorProto.FLOAT, TensorProto.INT64]), [r.randint(0, 2)]))
    return None  # graphs, sparse tensors, type protos: left out


def rand_shape(r, rank=None):
    rank = r.choice([0, 1, 2, 2, 3, 3, 4, 4, 5]) if rank is None else rank
    return [r.choice([1, 1, 2, 3, 4, 5, 0] if r.random() < 0.1 else [1, 2, 3, 4]) for _ in range(rank)]


def rand_array(r, dtype, shape):
    np_t = helper.tensor_dtype_to_np_dtype(dtype)
    if dtype in (TensorProto.INT64, TensorProto.INT32, TensorProto.INT8, TensorProto.UINT8):
        lo = 0 if dtype == TensorProto.UINT8 else -4
        return np.random.default_rng(r.randint(0, 1 << 30)).integers(lo, 6, size=shape).astype(np_t)
    if dtype == TensorProto.BOOL:
        return np.random.default_rng(r.randint(0, 1 << 30)).integers(0, 2, size=shape).astype(bool)
    return np.random.default_rng(r.randint(0, 1 << 30)).standard_normal(shape).astype(np_t)


def pick_type(r, schema, formal):
    allowed = formal.types
    for c in schema.type_constraints:
        if c.type_param_str == formal.type_str:
            allowed = c.allowed_type_strs
    names = [t for t in allowed if t in TYPES] or ["tensor(float)"]
    prefer = [t for t in names if t in ("tensor(float)", "tensor(int64)")]
    return TYPES[r.choice(prefer if prefer and r.random() < 0.8 else names)]


def make_model(r, op, opset):
    schema = defs.get_schema(op, opset)
    inputs, inits, names = [], [], []
    base = rand_shape(r)
    bound = {}  # one dtype per type parameter, mostly
    for i, f in enumerate(schema.inputs):
        count = r.randint(1, 3) if f.option == defs.OpSchema.FormalParameterOption.Variadic else 1
        if f.option == defs.OpSchema.FormalParameterOption.Optional and r.random() < 0.4:
            count = 0
        for k in range(count):
            name = f"in{i}_{k}"
            dt = bound.setdefault(f.type_str, pick_type(r, schema, f)) if r.random() < 0.9 else pick_type(r, schema, f)
            shape = base if r.random() < 0.6 else rand_shape(r)
            if dt == TensorProto.INT64 or r.random() < 0.3:  # shapes, axes, pads ...: constants
                shape = [r.randint(0, 4)] if dt == TensorProto.INT64 and r.random() < 0.7 else shape
                inits.append(numpy_helper.from_array(rand_array(r, dt, shape), name))
            else:
                inputs.append(helper.make_tensor_value_info(name, dt, shape))
            names.append(name)
        if count == 0 and i < len(schema.inputs) - 1:
            names.append("")
    while names and names[-1] == "":
        names.pop()
    attrs = {}
    for name, a in schema.attributes.items():
        if a.required or r.random() < 0.5:
            v = rand_attr(r, name, a)
            if v is not None:
                attrs[name] = v
    nout = max(1, len(schema.outputs)) if r.random() < 0.8 else 1
    outs = [f"out{j}" for j in range(nout)]
    node = helper.make_node(op, names, outs, name="n", **attrs)
    graph = helper.make_graph([node], "g", inputs,
                              [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def supported_ops():
    """The operators of frontend/onnx/onnx_ops.def: ONNX_OP(Name, first opset), ONNX_OP_PW, ONNX_OP_DYN and ONNX_OP_ROWS rows."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "frontend", "onnx", "onnx_ops.def")) as f:
        return re.findall(r"ONNX_OP(?:_PW|_DYN|_ROWS)?\((\w+),", f.read())


def check(dlc, cmd, path, timeout):
    env = dict(os.environ, ASAN_OPTIONS="exitcode=86:detect_leaks=1", UBSAN_OPTIONS="exitcode=87")
    with tempfile.TemporaryDirectory(prefix="dlc-opfuzz-") as tmp:
        argv = [dlc, "dump", path] if cmd == "dump" else [dlc, "compile", path, "-o", os.path.join(tmp, "m.c")]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return f"no answer in {timeout} s"
    err = p.stderr.splitlines()
    if p.returncode == 0:
        return None
    if p.returncode == 1 and len(err) == 1 and err[0].startswith("dlc: error: "):
        return None
    return f"exit {p.returncode}: " + " | ".join(err[:6])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--ops", default="", help="comma-separated operators (default: all dlc supports)")
    ap.add_argument("--out", default="")
    ap.add_argument("--cmd", choices=["dump", "compile"], default="dump",
                    help="dump: the frontend alone (default); compile: also the passes and the C backend")
    args = ap.parse_args()
    ops = args.ops.split(",") if args.ops else supported_ops()
    out = args.out or tempfile.mkdtemp(prefix="dlc-opfuzz-found-")
    shutil.rmtree(out, ignore_errors=True)  # what an earlier run kept is not this run's
    os.makedirs(out, exist_ok=True)
    r = random.Random(args.seed)
    jobs, n, bad = [], 0, 0
    end = time.time() + args.seconds
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        while time.time() < end:
            batch = []
            for _ in range(args.jobs * 4):
                op = r.choice(ops)
                try:
                    schema = defs.get_schema(op)
                except onnx.defs.SchemaError:
                    continue
                opset = max(r.choice([schema.since_version, 13, 17, 21]), schema.since_version)
                try:
                    m = make_model(r, op, opset)
                except (onnx.defs.SchemaError, ValueError, TypeError):
                    continue
                path = os.path.join(out, f"case{n:06d}_{op}.onnx")
                n += 1
                with open(path, "wb") as f:
                    f.write(m.SerializeToString())
                batch.append((path, pool.submit(check, args.dlc, args.cmd, path, args.timeout)))
            for path, fut in batch:
                why = fut.result()
                if why:
                    bad += 1
                    print(f"FAIL {path}: {why}")
                else:
                    os.remove(path)
    print(f"op_fuzz: {n} models, {bad} failures" + (f" (kept in {out})" if bad else ""))
    if not bad:
        os.rmdir(out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
