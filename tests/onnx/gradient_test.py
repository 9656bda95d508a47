#!/usr/bin/env python3
"""gradient_test.py --dlc DLC: ai.onnx.preview.training's Gradient operator
(frontend/onnx/onnx_ops_grad.c) on small models built with onnx.helper, then what dlc
refuses, each with one line naming the node.

ONNX Runtime does not register Gradient and onnx has no reference for it, so the oracle
is central finite differences in float64: the part of the model that computes y from
the tensors named in xs and zs (those taken as inputs, so that an intermediate X is an
independent variable, as the operator defines it) is run by ONNX Runtime in float64 at
the values of the Gradient node's inputs, and d sum(y) / d X is taken element by
element.  The two model tests onnx ships for the operator (test_gradient_of_add,
test_gradient_of_add_and_mul, onnx.backend.test.case.model) are run against their
expected outputs too.  Each model is compiled and run by `dlc run --check` (which also
compares the compiled code with dlc's interpreter); the model's other outputs (y itself,
values computed from the gradients) are compared with ONNX Runtime in float64.

Needs numpy, onnx and onnxruntime (tools/pyenv.sh).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.helper as oh
import onnxruntime as ort
from onnx import TensorProto as TP
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

TRAIN = "ai.onnx.preview.training"
NP = {np.dtype(np.float16): TP.FLOAT16, np.dtype(np.float32): TP.FLOAT, np.dtype(np.float64): TP.DOUBLE,
      np.dtype(np.int64): TP.INT64}
TOL = {np.dtype(np.float16): 2e-2, np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-7}
OPSET = 17


class Case:
    """Forward nodes, the graph's inputs (feeds) and initializers, then Gradient(ginputs)
    with xs, zs and y; `post` nodes may read its outputs; `outs` are the extra outputs."""

    def __init__(self, name, nodes, feeds, xs, y, zs=(), inits=None, ginputs=None, gouts=None, post=(), outs=(),
                 ref=False):
        self.name, self.nodes, self.feeds, self.inits, self.ref = name, nodes, feeds, inits or {}, ref
        self.xs, self.zs, self.y = list(xs), list(zs), y
        self.ginputs = list(ginputs) if ginputs else self.xs + self.zs
        self.gouts = list(gouts) if gouts is not None else [f"d_{x}" for x in self.xs]
        self.post, self.outs = list(post), list(outs)

    def model(self):
        g = oh.make_node("Gradient", self.ginputs, self.gouts, name="g", domain=TRAIN, xs=self.xs, y=self.y,
                         **({"zs": self.zs} if self.zs else {}))
        ins = [oh.make_tensor_value_info(k, NP[v.dtype], list(v.shape)) for k, v in self.feeds.items()]
        outs = [oh.make_empty_tensor_value_info(o) for o in [o for o in self.gouts if o] + self.outs]
        inits = [numpy_helper.from_array(v, k) for k, v in self.inits.items()]
        graph = oh.make_graph(self.nodes + [g] + self.post, self.name, ins, outs, initializer=inits)
        return oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET), oh.make_opsetid(TRAIN, 1)],
                             ir_version=9)


def f64_graph(nodes, inputs, outputs, values, inits, ref=False):
    """An ORT session of `nodes` in float64 (onnx's reference evaluator with ref, for the
    operators ONNX Runtime has no double kernel of: Conv): `inputs` fed, initializers held."""
    ins = [oh.make_tensor_value_info(k, TP.DOUBLE, list(values[k].shape)) for k in inputs]
    outs = [oh.make_empty_tensor_value_info(o) for o in outputs]
    used = {i for n in nodes for i in n.input} - set(inputs)
    init = [numpy_helper.from_array(v.astype(np.float64), k) for k, v in inits.items() if k in used]
    m = oh.make_model(oh.make_graph(nodes, "f64", ins, outs, initializer=init),
                      opset_imports=[oh.make_opsetid("", OPSET)], ir_version=9)
    if ref:
        return ReferenceEvaluator(m)
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])


def forward_values(case, names):
    """Each named tensor of the forward graph, by ONNX Runtime in float64."""
    feeds = {k: v.astype(np.float64) for k, v in case.feeds.items()}
    have = {**feeds, **{k: v.astype(np.float64) for k, v in case.inits.items()}}
    want = [n for n in names if n not in have]
    if want:
        s = f64_graph(case.nodes, list(feeds), want, feeds, case.inits, case.ref)
        have.update(zip(want, s.run(None, feeds)))
    return [have[n] for n in names]


def cut(nodes, y, leaves):
    """The nodes that compute y, the walk stopping at the leaves."""
    need, keep = {y}, []
    for n in reversed(nodes):
        if any(o in need for o in n.output):
            keep.append(n)
            need |= {i for i in n.input if i and i not in leaves}
    return keep[::-1]


def finite_differences(case):
    """d sum(y) / d X for each X of xs, at the Gradient's inputs, in float64."""
    names = case.xs + case.zs
    vals = dict(zip(names, forward_values(case, case.ginputs)))
    held = [k for k in case.feeds if k not in names]  # inputs y reads that neither list names
    vals.update(zip(held, forward_values(case, held)))
    s = f64_graph(cut(case.nodes, case.y, set(names)), names + held, [case.y], vals, case.inits, case.ref)
    f = lambda v: float(np.sum(s.run(None, v)[0]))
    grads = []
    for x in case.xs:
        g = np.zeros_like(vals[x])
        for i in range(vals[x].size):
            h = 1e-6 * max(1.0, abs(vals[x].flat[i]))
            up, down = dict(vals), dict(vals)
            up[x], down[x] = vals[x].copy(), vals[x].copy()
            up[x].flat[i] += h
            down[x].flat[i] -= h
            g.flat[i] = (f(up) - f(down)) / (2 * h)
        grads.append(g)
    return grads


def rnd(seed, *shape, dtype=np.float32, low=0.2):
    """Values whose magnitude is at least `low`, away from Relu's kink."""
    r = np.random.default_rng(seed)
    a = r.uniform(low, 1.5, shape) * r.choice([-1.0, 1.0], shape)
    return a.astype(dtype)


def N(op, ins, outs, **kw):
    return oh.make_node(op, ins, outs if isinstance(outs, list) else [outs], **kw)


def cases():
    yield Case("add_broadcast", [N("Add", ["A", "B"], "y")], {"A": rnd(1, 2, 3), "B": rnd(2, 3)}, ["A", "B"], "y",
               outs=["y"])
    # A reaches y through three paths
    yield Case("paths", [N("Add", ["A", "B"], "C"), N("Mul", ["C", "A"], "D"), N("Tanh", ["D"], "E"),
                         N("Mul", ["E", "A"], "y")], {"A": rnd(3, 2, 3), "B": rnd(4, 2, 3)}, ["A", "B"], "y", outs=["y"])
    yield Case("paths_f64", [N("Add", ["A", "B"], "C"), N("Mul", ["C", "A"], "D"), N("Tanh", ["D"], "E"),
                             N("Mul", ["E", "A"], "y")], {"A": rnd(3, 2, 3, dtype=np.float64),
                                                          "B": rnd(4, 2, 3, dtype=np.float64)}, ["A", "B"], "y")
    # the first gradient not asked for (an empty output name)
    yield Case("matmul", [N("MatMul", ["A", "B"], "y")], {"A": rnd(5, 2, 3), "B": rnd(6, 3, 4)}, ["A", "B"], "y",
               gouts=["", "d_B"])
    for i, (op, kw) in enumerate([("Relu", {}), ("Tanh", {}), ("Sigmoid", {}), ("Softmax", {"axis": -1})]):
        # times W (of zs): the sum of a softmax alone is constant
        yield Case(op.lower(), [N(op, ["A"], "P", **kw), N("Mul", ["P", "W"], "y")],
                   {"A": rnd(10 + i, 3, 4), "W": rnd(20 + i, 3, 4)}, ["A"], "y", zs=["W"])
    for i, (op, kw, shape) in enumerate([("MaxPool", {"kernel_shape": [2, 2]}, (1, 2, 3, 3)),
                                         ("LayerNormalization", {}, (2, 5)), ("Gemm", {"transB": 1}, (2, 3))]):
        ins = ["A", "A"] if op == "Gemm" else ["A", "S"] if op == "LayerNormalization" else ["A"]
        feeds = {"A": rnd(90 + i, *shape), "S": rnd(95, shape[-1])} if op == "LayerNormalization" else \
            {"A": rnd(90 + i, *shape)}
        outshape = {"MaxPool": (1, 2, 2, 2), "LayerNormalization": shape, "Gemm": (2, 2)}[op]
        yield Case(op.lower(), [N(op, ins, "P", **kw), N("Mul", ["P", "W"], "y")], {**feeds, "W": rnd(99, *outshape)},
                   [k for k in feeds], "y", zs=["W"])
    # the specification's example: W --> Conv --> H --> Gemm(Z) --> Y, X in zs; then with
    # respect to the intermediate H and Z (X is then not needed)
    conv = [N("Conv", ["X", "W"], "H"), N("Flatten", ["H"], "F"), N("Gemm", ["F", "Z"], "Y")]
    spec = {"X": rnd(100, 1, 1, 3, 3), "Z": rnd(101, 8, 2)}
    yield Case("spec_conv_gemm", conv, spec, ["W", "Z"], "Y", zs=["X"], inits={"W": rnd(102, 2, 1, 2, 2)}, ref=True)
    yield Case("spec_wrt_h", conv, spec, ["H", "Z"], "Y", inits={"W": rnd(102, 2, 1, 2, 2)}, ref=True)
    # an MLP whose weights are initializers, a loss against T (held: in neither list), and
    # the step W1 - 0.1 dW1 computed from the gradient
    mlp = [N("MatMul", ["X", "W1"], "h0"), N("Add", ["h0", "b1"], "h1"), N("Relu", ["h1"], "H"),
           N("MatMul", ["H", "W2"], "z0"), N("Add", ["z0", "b2"], "z"), N("Softmax", ["z"], "Y", axis=-1),
           N("Mul", ["Y", "T"], "YT"), N("ReduceSum", ["YT"], "loss", keepdims=0)]
    inits = {"W1": rnd(31, 3, 5), "b1": rnd(32, 5, low=0.0), "W2": rnd(33, 5, 2), "b2": rnd(34, 2, low=0.0)}
    yield Case("mlp", mlp, {"X": rnd(30, 4, 3), "T": rnd(35, 4, 2)}, ["W1", "b1", "W2", "b2"], "loss", zs=["X"],
               inits=inits, post=[N("Mul", ["d_W1", "lr"], "s"), N("Sub", ["W1", "s"], "W1_new")],
               outs=["loss", "W1_new"])
    # an intermediate X: H held independent of A, which also reaches y directly
    yield Case("intermediate", [N("Tanh", ["A"], "H"), N("Mul", ["H", "B"], "HB"), N("Mul", ["A", "A"], "AA"),
                                N("Add", ["HB", "AA"], "y")], {"A": rnd(40, 2, 3), "B": rnd(41, 2, 3)}, ["H", "A"], "y",
               zs=["B"])
    # y computed from an initializer alone: not folded away before it is differentiated
    yield Case("initializer_only", [N("Mul", ["W", "W"], "WW"), N("Exp", ["WW"], "y")], {"A": rnd(45, 2)}, ["W"], "y",
               inits={"W": rnd(46, 2, 2)})
    # Q does not reach y: its gradient is zeros
    yield Case("unreached", [N("Mul", ["A", "A"], "y")], {"A": rnd(50, 3), "Q": rnd(51, 2, 2)}, ["A", "Q"], "y")
    # the gradient at other values than the graph's (the part that computes y built again)
    yield Case("other_values", [N("Mul", ["A", "B"], "AB"), N("Sin", ["A"], "S"), N("Add", ["AB", "S"], "y")],
               {"A": rnd(60, 2, 3), "B": rnd(61, 2, 3), "A2": rnd(62, 2, 3), "B2": rnd(63, 2, 3)}, ["A"], "y",
               zs=["B"], ginputs=["A2", "B2"], outs=["y"])
    # two variables fed the same tensor stay two variables
    yield Case("same_input", [N("Mul", ["A", "B"], "AB"), N("Add", ["AB", "A"], "y")],
               {"A": rnd(70, 3), "B": rnd(71, 3), "P": rnd(72, 3)}, ["A", "B"], "y", ginputs=["P", "P"])
    yield Case("float16", [N("Mul", ["A", "B"], "AB"), N("Tanh", ["AB"], "T"), N("Add", ["T", "A"], "y")],
               {"A": rnd(80, 2, 3, dtype=np.float16), "B": rnd(81, 2, 3, dtype=np.float16)}, ["A", "B"], "y")


def onnx_model_tests():
    """onnx's own model tests of Gradient, with their expected outputs."""
    from onnx.backend.test.case import model as cm
    for t in cm.collect_testcases():
        if t.name in ("test_gradient_of_add", "test_gradient_of_add_and_mul"):
            ins, outs = t.data_sets[0]
            yield t.name, t.model, dict(zip([i.name for i in t.model.graph.input], ins)), outs


def refusals():
    def m(nodes, feeds, outs=("d",), **g):
        g.setdefault("xs", ["A"])
        node = N("Gradient", g.pop("inputs", g["xs"] + g.get("zs", [])), list(outs), name="g", domain=TRAIN, **g)
        ins = [oh.make_tensor_value_info(k, t, s) for k, (t, s) in feeds.items()]
        graph = oh.make_graph(nodes + [node], "bad", ins, [oh.make_empty_tensor_value_info(o) for o in outs])
        return oh.make_model(graph, opset_imports=[oh.make_opsetid("", OPSET), oh.make_opsetid(TRAIN, 1)],
                             ir_version=9)
    f = {"A": (TP.FLOAT, [3]), "B": (TP.FLOAT, [3])}
    mul = [N("Mul", ["A", "B"], "y")]
    yield "unknown_x", m(mul, f, xs=["Q"], inputs=["A"], y="y"), "xs names 'Q', which no input"
    yield "y_not_computed", m(mul + [N("Neg", ["y"], "z")], f, y="w"), "y names 'w', which no input"
    yield "y_later", m([], f, y="y"), "y names 'y', which no input"  # the Mul comes after Gradient
    yield "y_int", m([N("Cast", ["A"], "y", to=TP.INT64)], f, y="y"), "only a float tensor"
    yield "x_int", m([N("Cast", ["I"], "F", to=TP.FLOAT), N("Mul", ["F", "A"], "y")],
                     {**f, "I": (TP.INT64, [3])}, xs=["I"], y="y"), "with respect to float tensors"
    yield "x_constant", m([N("Constant", [], "K", value=numpy_helper.from_array(np.ones(3, np.float32))),
                           N("Mul", ["K", "K"], "y")], f, xs=["K"], y="y"), "a constant"
    # the gradient of a MaxPool's gradient: pool_max_grad has no gradient rule
    pool = [N("MaxPool", ["X"], "P", kernel_shape=[2]), N("Gradient", ["X"], ["dX"], name="g1", domain=TRAIN,
                                                            xs=["X"], y="P")]
    yield "second_order_maxpool", m(pool, {"X": (TP.FLOAT, [1, 1, 4])}, xs=["X"], y="dX"), \
        "core op pool_max_grad giving 'dX', built for node 'g1' (Gradient): pool_max_grad has no gradient"
    yield "input_count", m(mul, f, y="y", inputs=["A", "B"]), "name 1 tensor, so it takes 1 input, not 2"
    yield "input_shape", m(mul + [N("Concat", ["A", "B"], "AB", axis=0)], f, y="y", inputs=["AB"]), "input 0 is f32"
    yield "named_twice", m(mul, f, zs=["A"], y="y"), "'A' is named twice"
    yield "outputs", m(mul, f, outs=("d", "e"), y="y"), "has 2 outputs, but xs names 1 tensor "
    yield "no_y", m(mul, f), "needs attribute 'y'"
    yield "unknown_attr", m(mul, f, y="y", alpha=1.0), "alpha"


def run_dlc(dlc, work, name, model, feeds):
    path = os.path.join(work, name + ".onnx")
    onnx.save(model, path)
    cmd = [dlc, "run", path, "--check", "--output", os.path.join(work, name)]
    for k, v in feeds.items():
        np.save(os.path.join(work, f"{name}.{k}.npy"), v)
        cmd += ["--input", f"{k}={os.path.join(work, f'{name}.{k}.npy')}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr.strip()
    outs = [o.name for o in model.graph.output]
    return {o: np.load(os.path.join(work, name, o + ".npy")) for o in outs}, None


def compare(what, got, want, tol):
    if got.shape != np.shape(want):
        return f"{what} has shape {list(got.shape)}, not {list(np.shape(want))}"
    err = np.max(np.abs(got.astype(np.float64) - want) / (np.abs(want) + 1), initial=0)
    return f"{what}: error {err:.3g} over {tol:g}" if not err <= tol else None


def check_case(dlc, work, case):
    m = case.model()
    feeds = dict(case.feeds)
    if case.post:
        feeds["lr"] = np.array(0.1, np.float32)
        m.graph.input.append(oh.make_tensor_value_info("lr", TP.FLOAT, []))
    got, err = run_dlc(dlc, work, case.name, m, feeds)
    if err:
        return [err]
    fd = finite_differences(case)
    msgs = []
    for x, o, want in zip(case.xs, case.gouts, fd):
        if o:
            tol = TOL[got[o].dtype]
            if got[o].dtype != case.feeds.get(x, case.inits.get(x, got[o])).dtype:
                msgs.append(f"{o} is {got[o].dtype}")
            msgs.append(compare(o, got[o], want, tol))
    for o in case.outs:
        if o == "W1_new":  # W1 - 0.1 dW1 with the finite-difference gradient
            want = case.inits["W1"].astype(np.float64) - 0.1 * fd[0]
        else:
            want = forward_values(case, [o])[0]
        msgs.append(compare(o, got[o], want, TOL[got[o].dtype]))
    return [x for x in msgs if x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-gradient-") as work:
        os.environ["TMPDIR"] = work
        for case in cases():
            msgs = check_case(args.dlc, work, case)
            print(f"{'FAIL' if msgs else 'ok  '} {case.name}{': ' + '; '.join(msgs) if msgs else ''}")
            bad += bool(msgs)
        for name, m, feeds, want in onnx_model_tests():
            got, err = run_dlc(args.dlc, work, name, m, feeds)
            msgs = [err] if err else [compare(o.name, got[o.name], w, 1e-6) for o, w in zip(m.graph.output, want)]
            msgs = [x for x in msgs if x]
            print(f"{'FAIL' if msgs else 'ok  '} {name}{': ' + '; '.join(msgs) if msgs else ''}")
            bad += bool(msgs)
        for name, m, want in refusals():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            r = subprocess.run([args.dlc, "compile", path, "-o", os.path.join(work, name + ".c")],
                               capture_output=True, text=True)
            err = r.stderr.strip()
            ok = r.returncode == 1 and want in err and "node 'g'" in err and len(err.splitlines()) == 1
            print(f"{'ok  ' if ok else 'FAIL'} refused {name}: {err}")
            bad += not ok
    print(f"FAIL: {bad} case(s)" if bad else "every Gradient agrees with finite differences and onnx's expected outputs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
