#!/usr/bin/env python3
"""The ONNX backend node tests, compiled by dlc, run, and compared.

For every folder of onnx/backend/test/data/node that ships inside the installed onnx
package: `dlc run model.onnx --input NAME=input_K.npy --output DIR` for each of its
test_data_set_* folders, then each output against output_K.pb with ONNX's own
tolerances (rtol 1e-3, atol 1e-7).  Prints one line per failing test with its reason,
then `onnx node tests: N passed, M failed` (skipped tests count as failed).

With --expected FILE, exits 1 if a test listed there (one name a line) no longer passes;
--write-expected FILE writes the list of passing tests.

Needs: the test tooling's Python (numpy, onnx), see tools/pyenv.sh.
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
import time

import numpy as np
import onnx
from onnx import numpy_helper

RTOL, ATOL = 1e-3, 1e-7


def ident(name):
    """The IR name dlc gives an ONNX value (frontend/onnx/onnx_load.c: ident)."""
    s = re.sub(r"[^A-Za-z0-9_.]", "_", name)
    if not name or name[0].isdigit() or name[0] == ".":
        s = "_" + s
    return s


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:2000]
    return "(no output)"


def run_case(dlc, model, inputs, out_names, case, work, cflags):
    """None if dlc's outputs match the case's, else the reason.

    Every input's shape comes from the test data (--shape), as a user binds symbolic
    dimensions.  When dlc needs an input at compile time (a Reshape's target shape, a
    Slice's bounds, a Resize's scales), the run is repeated with such inputs bound as
    constants (--const-input): the model is then specialised to those values, which is
    what dlc does with shape tensors."""
    feeds = []
    for name, pb in zip(inputs, sorted(glob.glob(os.path.join(case, "input_*.pb")), key=pb_index)):
        arr = read_pb(pb)
        npy = os.path.join(work, "in_%s.npy" % ident(name))
        np.save(npy, arr)
        feeds.append((name, arr, npy))
    why = run_dlc(dlc, model, feeds, out_names, case, work, cflags, const_ints=False)
    if why and ("constant known at compile time" in why or "dimensions must be positive" in why):
        why = run_dlc(dlc, model, feeds, out_names, case, work, cflags, const_ints=True)
    return why


def run_dlc(dlc, model, feeds, out_names, case, work, cflags, const_ints):
    args = [dlc, "run", model, "--output", work, "--cflags", cflags]
    for k, (name, arr, npy) in enumerate(feeds):
        # operands that parametrise the operator rather than being its data: integer
        # tensors (shapes, axes, indices) and small vectors after the first input
        # (Resize's scales and roi)
        if const_ints and (arr.dtype.kind in "iub" or arr.ndim == 0 or (k > 0 and arr.ndim <= 1)):
            args += ["--const-input", "%s=%s" % (name, npy)]
            continue
        if arr.ndim:
            args += ["--shape", "%s=%s" % (name, "x".join(str(d) for d in arr.shape))]
        args += ["--input", "%s=%s" % (ident(name), npy)]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out"
    if p.returncode != 0:
        return first_line(p.stderr or p.stdout)
    for k, name in enumerate(out_names):
        want = read_pb(os.path.join(case, "output_%d.pb" % k))
        path = os.path.join(work, ident(name) + ".npy")
        if not os.path.exists(path):
            return "output %s was not written" % name
        got = np.load(path)
        os.remove(path)
        if got.shape != want.shape:
            return "output %s: shape %s, expected %s" % (name, got.shape, want.shape)
        if got.dtype != want.dtype:
            return "output %s: dtype %s, expected %s" % (name, got.dtype, want.dtype)
        if want.dtype.kind in "fc":
            bad = ~np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            bad = got != want
        if bad.any():
            i = np.argwhere(bad)[0] if bad.ndim else ()
            i = tuple(int(v) for v in i)
            return "output %s: %d of %d values differ, first at %s: %r, expected %r" % (
                name, int(bad.sum()), want.size, i, got[i], want[i])
    return None


def pb_index(path):
    return int(re.search(r"_(\d+)\.pb$", path).group(1))


def run_test(dlc, folder, cflags):
    """None if the test passes, else the reason."""
    model_path = os.path.join(folder, "model.onnx")
    try:
        model = onnx.load(model_path, load_external_data=False)
    except Exception as e:  # a model the onnx package itself cannot read
        return "onnx cannot load the model: %s" % e
    inits = {t.name for t in model.graph.initializer}
    inputs = [v.name for v in model.graph.input if v.name not in inits]
    outputs = [v.name for v in model.graph.output]
    cases = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    if not cases:
        return "no test data"
    work = tempfile.mkdtemp(prefix="dlc-conf-")
    try:
        for case in cases:
            have = len(glob.glob(os.path.join(case, "input_*.pb")))
            if have != len(inputs):
                return "test data has %d inputs for %d model inputs (optional inputs are not supported)" % (have, len(inputs))
            try:
                why = run_case(dlc, model_path, inputs, outputs, case, work, cflags)
            except Exception as e:  # test data the installed numpy/onnx cannot convert
                why = "cannot read the test data: %s" % str(e).splitlines()[0][:200]
            if why:
                return why
        return None
    finally:
        shutil.rmtree(work, ignore_errors=True)


SUBGRAPH_OPS = {"If", "Loop", "Scan", "SequenceMap"}


def cause(reason):
    """The failure's cause, for the breakdown in docs/ONNX.md."""
    m = re.search(r"unsupported operator (\w+)", reason)
    if m:
        return ("subgraph" if m.group(1) in SUBGRAPH_OPS else "operator missing", m.group(1))
    if re.search(r"dtype|cast to|not a tensor|cannot read the test data|float8|float16|string", reason):
        return ("dtype", "")
    if "sequence" in reason or "optional" in reason:
        return ("sequence/optional", "")
    return ("other", "")


def write_report(path, tests, results, seconds):
    import collections
    by_cause = collections.Counter()
    missing = collections.Counter()
    other = []
    for t in tests:
        if not results[t]:
            continue
        c, op = cause(results[t])
        by_cause[c] += 1
        if op and c == "operator missing":
            missing[op] += 1
        if c == "other":
            other.append((t, results[t]))
    passed = sum(1 for t in tests if not results[t])
    with open(path, "w") as f:
        f.write("| | tests |\n|---|---|\n")
        f.write("| passed | %d of %d (%.1f%%) |\n" % (passed, len(tests), 100.0 * passed / len(tests)))
        for c in ("operator missing", "dtype", "subgraph", "sequence/optional", "other"):
            f.write("| failed: %s | %d |\n" % (c, by_cause[c]))
        f.write("\nrun time: %.0f s with onnx %s\n\n" % (seconds, onnx.__version__))
        f.write("Operators missing (tests):\n\n")
        f.write(", ".join("%s (%d)" % kv for kv in sorted(missing.items(), key=lambda kv: (-kv[1], kv[0]))) + "\n\n")
        f.write("Other failures:\n\n")
        for t, why in other:
            why = re.sub(r"\S*/node/", "", why)
            f.write("- %s: %s\n" % (t, why.replace("|", "\\|")))


def node_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dlc", required=True, help="the dlc binary")
    ap.add_argument("--filter", default="", help="only tests whose name matches this regex")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cflags", default="-O1", help="for the generated C (default -O1: the models are tiny)")
    ap.add_argument("--expected", help="file of test names that must pass")
    ap.add_argument("--write-expected", help="write the passing test names here")
    ap.add_argument("--quiet", action="store_true", help="no line per failing test")
    ap.add_argument("--report", help="write a markdown breakdown of the failures by cause here")
    a = ap.parse_args()

    tests = sorted(d for d in os.listdir(node_dir()) if re.search(a.filter, d))
    start = time.time()
    results = {}
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = {pool.submit(run_test, a.dlc, os.path.join(node_dir(), t), a.cflags): t for t in tests}
        for f in cf.as_completed(futs):
            results[futs[f]] = f.result()
    failed = [t for t in tests if results[t]]
    if not a.quiet:
        for t in failed:
            print("FAIL %s: %s" % (t, results[t]))
    passed = [t for t in tests if not results[t]]
    if a.write_expected:
        with open(a.write_expected, "w") as f:
            f.write("".join(t + "\n" for t in passed))
    if a.report:
        write_report(a.report, tests, results, time.time() - start)
    rc = 0
    if a.expected:
        with open(a.expected) as f:
            expected = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        lost = [t for t in expected if t in results and results[t]]
        missing = [t for t in expected if t not in results and not a.filter]
        for t in lost:
            print("REGRESSION %s: %s" % (t, results[t]))
        for t in missing:
            print("REGRESSION %s: the test no longer exists in this onnx package" % t)
        rc = 1 if lost or missing else 0
    print("onnx node tests: %d passed, %d failed (%.0f s, onnx %s)" % (
        len(passed), len(failed), time.time() - start, onnx.__version__))
    return rc


if __name__ == "__main__":
    sys.exit(main())
