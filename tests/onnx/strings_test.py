#!/usr/bin/env python3
"""strings_test.py --dlc DLC: string tensors (dlc's str dtype) on small models built with
onnx.helper, each run by `dlc run` on inputs of its own and compared with ONNX Runtime:
Equal, StringConcat, StringSplit, RegexFullMatch (RE2 in ONNX Runtime, POSIX ERE in
dlc), StringNormalizer, LabelEncoder with string keys and values, Cast and CastLike
between strings and numbers, and the movement operators on strings.  Where ONNX Runtime departs from ONNX's reference, the reference
is the oracle (StringSplit: ONNX Runtime gives an empty string no piece, splits at
spaces alone and drops the whitespace after the last split; the reference is Python's
str.split, as the node tests are); where neither can be (StringNormalizer's en_US case
mapping needs a locale this machine may lack, and the reference strips accents),
Python's own str methods are.  Then what dlc refuses at compile
time, and what fails at run time (a full string heap, a split over its bound, a
non-ASCII string for a pattern that reads characters), each one clear line.

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
from onnx.reference import ReferenceEvaluator

S = TP.STRING
REF = "reference"
HOSTILE = ["??/", "\"quoted\"", "back\\slash", "line\nbreak", "tab\there", "*/ /*", "\x01\x7f", "%s%n"]


def model(nodes, ins, outs, opset=20, ml=None):
    g = oh.make_graph(nodes if isinstance(nodes, list) else [nodes], "strings",
                      [oh.make_tensor_value_info(n, t, list(v.shape)) for n, t, v in ins],
                      [oh.make_tensor_value_info(n, t, None) for n, t in outs])
    ops = [oh.make_opsetid("", opset)] + ([oh.make_opsetid("ai.onnx.ml", ml)] if ml else [])
    return oh.make_model(g, opset_imports=ops, ir_version=10)


def arr(*v, shape=None):
    a = np.array(v, dtype=object)
    return a.reshape(shape) if shape else a


def node(op, ins, outs, **kw):
    return oh.make_node(op, ins, outs, name=op.lower(), **kw)


def cases():
    """(name, model, inputs {name: array}, oracle: None for ONNX Runtime, REF for onnx's reference, or a function)."""
    x = arr("a", "", "héllo", "中文", "??/", "a", shape=(2, 3))
    y = arr("a", "", "中文")
    yield "equal_bcast", model(node("Equal", ["x", "y"], ["z"]), [("x", S, x), ("y", S, y)], [("z", TP.BOOL)]), {"x": x, "y": y}, None
    a = arr(*HOSTILE, shape=(8, 1))
    b = arr("", "?", "é")
    yield "concat_hostile", model(node("StringConcat", ["a", "b"], ["c"]), [("a", S, a), ("b", S, b)], [("c", S)]), {"a": a, "b": b}, None
    s = arr("a--b----c", "--", "", "no delimiter", "x--y--z--")
    w = arr("  lead and trail  ", "tab\tand\nnewline\r\x0bvt\x0cff", "", "   ", "one", "a  b   c ", shape=(3, 2))
    splits, outs = [], []
    for k, most in enumerate((None, 0, 1, 2, 3)):
        kw = {} if most is None else {"maxsplit": most}
        splits += [oh.make_node("StringSplit", ["s"], [f"sy{k}", f"sn{k}"], delimiter="--", **kw),
                   oh.make_node("StringSplit", ["w"], [f"wy{k}", f"wn{k}"], **kw)]
        outs += [(f"sy{k}", S), (f"sn{k}", TP.INT64), (f"wy{k}", S), (f"wn{k}", TP.INT64)]
    yield "split", model(splits, [("s", S, s), ("w", S, w)], outs), {"s": s, "w": w}, REF
    u = arr("a\u3000b\u00a0c\u2009d\u0085e", "\x1cx\x1fy", "é\u2028ü")
    yield "split_unicode_space", model(node("StringSplit", ["u"], ["y", "n"]), [("u", S, u)], [("y", S), ("n", TP.INT64)]), \
        {"u": u}, lambda f: python_split(f["u"])
    subj = arr("555-1234", "55-1234", "abc_12", "1abc", "ababcd", "abcab", "abc", "a\nc", "colour", "color", "colouur",
               "xxxy", "y", "bcdfg", "bcdafg", "-a-a", "]a]", ".*+", "a.b", "tab\tx", "", "Ab")
    pats = [r"\d{3}-\d{4}", r"[A-Za-z_][A-Za-z0-9_]*", r"(ab|cd)+", r"a.c", r"colou?r", r"x*?y", r"[^aeiou]+", r"[-a]+",
            r"[]a]+", r"\.\*\+", r"\w+\.\w+", r"\S+\s\S", r"", r"[[:upper:]]b", r"(a|)+b?", r"\bab\b|c{2,}"]
    yield "regex", model([oh.make_node("RegexFullMatch", ["s"], [f"m{i}"], pattern=p) for i, p in enumerate(pats)],
                         [("s", S, subj)], [(f"m{i}", TP.BOOL) for i in range(len(pats))]), {"s": subj}, None
    wide = arr("é", "éé", "aé", "ü")
    yield "regex_literal_utf8", model(node("RegexFullMatch", ["s"], ["m"], pattern="é+"), [("s", S, wide)], [("m", TP.BOOL)]), \
        {"s": wide}, None
    words = arr("Monday", "TUESDAY", "wednesday", "Ünï", "monday", "ÀÉ", shape=(1, 6))
    norms = [oh.make_node("StringNormalizer", ["w"], [f"y{act}{cs}"], case_change_action=act, is_case_sensitive=cs,
                          stopwords=["monday", "Wednesday"], locale="C") for act in ("LOWER", "UPPER", "NONE") for cs in (0, 1)]
    yield "normalize_C", model(norms, [("w", S, words)], [(nd.output[0], S) for nd in norms], opset=10), {"w": words}, None
    every = arr("stop", "STOP")
    yield "normalize_all_stopped", model(node("StringNormalizer", ["w"], ["y"], stopwords=["stop"], locale="C"), [("w", S, every)],
                                         [("y", S)], opset=10), {"w": every}, None
    latin = arr("Héllo Wörld ÀÉÎÕÜ àéîõü", "Привет МИР ёЁ", "×÷ 中文 ½")
    yield "normalize_en", model([oh.make_node("StringNormalizer", ["w"], [f"y{act}"], case_change_action=act)
                                 for act in ("LOWER", "UPPER")], [("w", S, latin)], [("yLOWER", S), ("yUPPER", S)], opset=10), \
        {"w": latin}, lambda f: [python_case(f["w"], "LOWER"), python_case(f["w"], "UPPER")]
    k = arr("b", "a", "zz", "é", "", "a", shape=(2, 3))
    enc = dict(domain="ai.onnx.ml")
    yield "label_str_int", model(node("LabelEncoder", ["k"], ["y"], keys_strings=["a", "b", "é", ""], values_int64s=[1, 2, 3, 4],
                                      default_int64=-7, **enc), [("k", S, k)], [("y", TP.INT64)], ml=4), {"k": k}, None
    yield "label_str_str", model(node("LabelEncoder", ["k"], ["y"], keys_strings=["a", "zz"], values_strings=["A", "??/"],
                                      default_string="none", **enc), [("k", S, k)], [("y", S)], ml=4), {"k": k}, None
    i = np.array([[3, 1, 2], [9, -1, 3]], np.int64)
    yield "label_int_str", model(node("LabelEncoder", ["i"], ["y"], keys_int64s=[1, 2, 3], values_strings=["one", "two", "三"], **enc),
                                 [("i", TP.INT64, i)], [("y", S)], ml=4), {"i": i}, None
    f = np.array([0.5, 2.0, 7.0], np.float32)
    yield "label_float_str", model(node("LabelEncoder", ["f"], ["y"], keys_floats=[0.5, 2.0], values_strings=["half", "two"],
                                        default_string="?", **enc), [("f", TP.FLOAT, f)], [("y", S)], ml=4), {"f": f}, None
    m = arr("a", "b", "c", "d", "e", "f", shape=(2, 3))
    idx = np.array([2, 0], np.int64)
    cond = np.array([[True, False, True]])
    moves = [node("Transpose", ["m"], ["t"], perm=[1, 0]), node("Reshape", ["m", "shape"], ["r"]),
             node("Gather", ["m", "idx"], ["g"], axis=1), node("Concat", ["m", "m"], ["c"], axis=0),
             node("Slice", ["m", "starts", "ends"], ["s"]), node("Where", ["cond", "m", "alt"], ["w"]),
             node("Identity", ["m"], ["i"]), node("Expand", ["alt", "shape2"], ["e"])]
    mm = model(moves, [("m", S, m), ("idx", TP.INT64, idx), ("cond", TP.BOOL, cond)],
               [("t", S), ("r", S), ("g", S), ("c", S), ("s", S), ("w", S), ("i", S), ("e", S)])
    mm.graph.initializer.extend([oh.make_tensor("shape", TP.INT64, [2], [3, 2]), oh.make_tensor("starts", TP.INT64, [1], [1]),
                                 oh.make_tensor("ends", TP.INT64, [1], [3]), oh.make_tensor("alt", S, [1], [b"alt"]),
                                 oh.make_tensor("shape2", TP.INT64, [2], [2, 2])])
    yield "movement", mm, {"m": m, "idx": idx, "cond": cond}, None
    # Cast and CastLike between strings and numbers, as ONNX Runtime writes and reads them
    nums = {"f": (TP.FLOAT, np.array([0.1, 1, 100, 1e20, 1e-5, -0.0, np.nan, np.inf, -np.inf, 1 / 3, 123456789, 1.5e-45], np.float32)),
            "d": (TP.DOUBLE, np.array([0.1, 1 / 3, 1e300, 5e-324, -2.5, np.nan])),
            "h": (TP.FLOAT16, np.array([0.1, 1000, -np.inf], np.float16)),
            "l": (TP.INT64, np.array([0, -5, 2 ** 62, -2 ** 63], np.int64)), "b": (TP.INT8, np.array([-128, 127, 0], np.int8)),
            "u": (TP.UINT64, np.array([0, 2 ** 64 - 1], np.uint64)), "t": (TP.BOOL, np.array([True, False]))}
    yield "cast_to_str", model([oh.make_node("Cast", [k], ["s" + k], to=S) for k in nums], [(k, t, v) for k, (t, v) in nums.items()],
                               [("s" + k, S) for k in nums], opset=21), {k: v for k, (t, v) in nums.items()}, None
    txt = arr("1", "-2.5", " 3", "1e-5", "INF", "-inf", "+INF", "nan", "NaN", "0x10", "1E8", "3 ", "1e40", "3abc", "infinity",
              "1e-50", ".5", "5.", "300", "-129", "100.5", "  7", "+3", "1e3", "0x1f")
    ints = arr("1", "-2", "  7", "100.5", "9223372036854775807", "7 ", "+3", "0x1f", "1e3", "300", "-129", "0")
    for x, tos in ((txt, {"f": TP.FLOAT, "d": TP.DOUBLE, "h": TP.FLOAT16}),
                   (ints, {"l": TP.INT64, "i": TP.INT32, "b": TP.INT8, "c": TP.UINT8, "w": TP.UINT16, "t": TP.BOOL})):
        yield "cast_from_str_" + "".join(tos), model([oh.make_node("Cast", ["x"], ["y" + k], to=t) for k, t in tos.items()],
                                                     [("x", S, x)], [("y" + k, t) for k, t in tos.items()], opset=21), {"x": x}, None
    like = np.zeros(1, np.float32)
    yield "castlike_str", model([oh.make_node("CastLike", ["x", "like"], ["y"]), oh.make_node("CastLike", ["like", "x"], ["z"])],
                                [("x", S, txt), ("like", TP.FLOAT, like)], [("y", TP.FLOAT), ("z", S)], opset=21), \
        {"x": txt, "like": like}, None


def python_split(u):
    parts = [s.split() for s in u]
    width = max(len(p) for p in parts)
    return [np.array([p + [""] * (width - len(p)) for p in parts], dtype=object), np.array([len(p) for p in parts], np.int64)]


def python_case(w, act):
    return np.array([s.lower() if act == "LOWER" else s.upper() for s in w], dtype=object)


def refusals():
    """(name, model, substring of the one-line error[, dlc compile flags]): at compile time."""
    x = arr("a", "b")
    one = [("x", S, x)]
    yield "cuda", model(node("StringConcat", ["x", "x"], ["y"]), one, [("y", S)]), "the CUDA backend has no str", \
        ["--target", "cuda"]
    for name, pat, why in (("flags", "(?i)abc", "(?"), ("named", "(?P<n>a)", "(?"), ("unicode_class", r"\pL", "escape"),
                           ("backref", r"(a)\1", "escape"), ("class_neg_in_bracket", r"[\W]", r"\W, \D or \S inside [ ]"),
                           ("utf8_in_bracket", "[é]", "non-ASCII character inside [ ]"), ("big_repeat", "a{2000}", "over 1000")):
        yield f"regex_{name}", model(node("RegexFullMatch", ["x"], ["y"], pattern=pat), one, [("y", TP.BOOL)]), why
    yield "normalize_locale", model(node("StringNormalizer", ["x"], ["y"], locale="fr_FR"), one, [("y", S)], opset=10), "'locale'"
    yield "concat_number", model(node("StringConcat", ["x", "f"], ["y"]), one + [("f", TP.FLOAT, np.zeros(2, np.float32))],
                                 [("y", S)]), "input 2 is f32, not string"
    yield "add_strings", model(node("Add", ["x", "x"], ["y"]), one, [("y", S)]), "operand 1 is str"
    yield "label_mixed", model(node("LabelEncoder", ["x"], ["y"], domain="ai.onnx.ml", keys_int64s=[1], values_int64s=[2]), one,
                               [("y", TP.INT64)], ml=4), "X of type str with keys of type i64"


def runtime_failures():
    """(name, model, inputs, extra dlc flags, substring of the error): at run time."""
    a = arr("x" * 40, "y" * 40)
    yield "heap_full", model(node("StringConcat", ["a", "a"], ["c"]), [("a", S, a)], [("c", S)]), {"a": a}, \
        ["--string-heap", "100"], "string heap is full"
    s = arr("a b c d e")
    yield "split_bound", model(node("StringSplit", ["s"], ["y", "n"]), [("s", S, s)], [("y", S), ("n", TP.INT64)]), {"s": s}, \
        ["--split-pieces", "3"], "more pieces than its"
    for word in ("Straße", "ÿ", "Ωmega", "µ", "ǅ"):
        one = arr(word)
        yield f"case_unmapped_{word}", model(node("StringNormalizer", ["w"], ["y"], case_change_action="UPPER"), [("w", S, one)],
                                             [("y", S)], opset=10), {"w": one}, [], "a case change met a letter dlc does not map"
    for name, to, text in (("cast_not_number", TP.FLOAT, "abc"), ("cast_empty", TP.DOUBLE, ""),
                           ("cast_int_range", TP.INT64, "99999999999999999999")):
        t = arr("1", text)
        yield name, model(node("Cast", ["x"], ["y"], to=to), [("x", S, t)], [("y", to)], opset=21), {"x": t}, [], \
            "a string cast to a number holds none"
    w = arr("ab", "é")
    yield "regex_wide", model(node("RegexFullMatch", ["w"], ["m"], pattern="a."), [("w", S, w)], [("m", TP.BOOL)]), {"w": w}, \
        [], "non-ASCII string"


def dlc_run(dlc, work, name, m, feeds, extra):
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    cmd = [dlc, "run", path, "--output", os.path.join(work, name)] + extra
    for k, v in feeds.items():
        f = os.path.join(work, f"{name}.{k}.npy")
        np.save(f, v.astype(str) if v.dtype == object else v, allow_pickle=False)
        cmd += ["--input", f"{k}={f}"]
    return path, subprocess.run(cmd, capture_output=True, text=True)


def same(a, b):
    """None if dlc's array a equals the oracle's b, else why."""
    if b.dtype == object or b.dtype.kind == "U":
        if a.dtype.kind != "U":
            return f"dtype {a.dtype}, expected strings"
        b = b.astype(str)
    elif a.dtype != b.dtype:
        return f"dtype {a.dtype}, expected {b.dtype}"
    if a.shape != b.shape:
        return f"shape {a.shape}, expected {b.shape}"
    bad = a != b
    if a.dtype.kind == "f":  # NaN where the oracle has NaN
        bad &= ~(np.isnan(a) & np.isnan(b))
    if np.any(bad):
        i = tuple(np.argwhere(bad)[0])
        return f"{int(bad.sum())} of {b.size} differ, first at {i}: {a[i]!r}, expected {b[i]!r}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-strings-") as work:
        os.environ["TMPDIR"] = work
        for name, m, feeds, oracle in cases():
            path, r = dlc_run(args.dlc, work, name, m, feeds, [])
            if r.returncode:
                print(f"FAIL {name}: {r.stderr.strip()}")
                bad += 1
                continue
            if oracle == REF:
                want = ReferenceEvaluator(m).run(None, feeds)
            elif oracle:
                want = oracle(feeds)
            else:
                sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                want = sess.run(None, feeds)
            msgs = []
            for o, b in zip(m.graph.output, want):
                why = same(np.load(os.path.join(work, name, o.name + ".npy")), np.asarray(b))
                if why:
                    msgs.append(f"{o.name}: {why}")
            print(f"{'FAIL' if msgs else 'ok  '} {name}{': ' + '; '.join(msgs) if msgs else ''}")
            bad += bool(msgs)
        for name, m, want, *flags in refusals():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            r = subprocess.run([args.dlc, "compile", path, "-o", os.path.join(work, name + ".c")] + sum(flags, []),
                               capture_output=True, text=True)
            err = r.stderr.strip()
            ok = r.returncode == 1 and want in err and len(err.splitlines()) == 1
            print(f"{'ok  ' if ok else 'FAIL'} refused {name}: {err}")
            bad += not ok
        for name, m, feeds, extra, want in runtime_failures():
            _, r = dlc_run(args.dlc, work, name, m, feeds, extra)
            err = r.stderr.strip()
            ok = r.returncode == 1 and want in err and len(err.splitlines()) == 1
            print(f"{'ok  ' if ok else 'FAIL'} fails at run time {name}: {err}")
            bad += not ok
    print(f"FAIL: {bad} case(s)" if bad else "all string cases agree with ONNX Runtime (and Python where stated)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
