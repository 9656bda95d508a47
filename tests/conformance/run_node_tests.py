#!/usr/bin/env python3
"""The ONNX backend node tests, compiled by dlc, run, and compared.

The tests come from the installed onnx package itself: from onnx 1.23 on,
onnx.backend.test.loader.load_node_model_tests() builds them in memory, and they are
written once to the folder given by --cases in the layout older releases shipped
(NAME/model.onnx, NAME/test_data_set_K/input_K.pb, output_K.pb), remade whenever the
installed onnx changes; an older onnx's own data/node folder is read as it is.  For
every test: `dlc run model.onnx --input NAME=input_K.npy --output DIR` for each of its
test_data_set_* folders, then each output against output_K.pb with ONNX's own
tolerances (rtol 1e-3, atol 1e-7).  Prints one line per failing test with its reason,
then `onnx node tests: N passed, M failed` (skipped tests count as failed).

With --expected FILE, exits 1 if a test listed there (one name a line) no longer passes;
--write-expected FILE writes the list of passing tests.  --shard K/N runs the tests
whose name hashes to K of N (ctest runs the shards in parallel).

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
import zlib

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


def read_value(path, vi):
    """A case's input or output: an array, a list of arrays (a sequence), or for an
    optional None or its element."""
    t = vi.type if vi is not None else None
    if t is not None and t.HasField("sequence_type"):
        msg = onnx.SequenceProto()
        with open(path, "rb") as f:
            msg.ParseFromString(f.read())
        return numpy_helper.to_list(msg)
    if t is not None and t.HasField("optional_type"):
        msg = onnx.OptionalProto()
        with open(path, "rb") as f:
            msg.ParseFromString(f.read())
        return numpy_helper.to_optional(msg)
    return read_pb(path)


def expand_feed(name, value, work):
    """dlc's view of one input (docs/ONNX.md): a tensor is itself; sequence NAME of
    length L is --shape NAME=L and the tensors NAME.0 .. NAME.L-1; an empty optional is
    --dim NAME.empty=1, a full one its element.  Returns (extra args, [(option name,
    IR name, array, npy path)])."""
    if value is None:
        return ["--dim", "%s.empty=1" % name], []
    if isinstance(value, list):
        args, feeds = ["--shape", "%s=%d" % (name, len(value))], []
        for k, arr in enumerate(value):
            el = "%s.%d" % (ident(name), k)
            npy = os.path.join(work, "in_%s.npy" % el)
            arr = arr.astype(str) if arr.dtype == object else arr
            np.save(npy, arr, allow_pickle=False)
            feeds.append((el, el, arr, npy))
        return args, feeds
    npy = os.path.join(work, "in_%s.npy" % ident(name))
    if value.dtype == object:  # strings: dlc reads numpy's '<U' arrays, never pickled objects
        value = value.astype(str)
    np.save(npy, value, allow_pickle=False)
    return [], [(name, ident(name), value, npy)]


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:2000]
    return "(no output)"


def run_case(dlc, model, inputs, outputs, case, work, cflags):
    """None if dlc's outputs match the case's, else the reason.

    Every input's shape comes from the test data (--shape), as a user binds symbolic
    dimensions.  When dlc needs an input at compile time (a Reshape's target shape, a
    Slice's bounds, a Resize's scales), the run is repeated with such inputs bound as
    constants (--const-input): the model is then specialised to those values, which is
    what dlc does with shape tensors."""
    feeds, extra = [], []
    for vi, pb in zip(inputs, sorted(glob.glob(os.path.join(case, "input_*.pb")), key=pb_index)):
        more, f = expand_feed(vi.name, read_value(pb, vi), work)
        extra += more
        feeds += f
    why = run_dlc(dlc, model, feeds, extra, outputs, case, work, cflags, const_ints=False)
    if why and ("constant known at compile time" in why or "dimensions must be positive" in why):
        why = run_dlc(dlc, model, feeds, extra, outputs, case, work, cflags, const_ints=True)
    return why


def compare(name, got, want):
    """None if dlc's array matches, else the reason."""
    if got.dtype.kind == "V" and got.dtype.itemsize == want.dtype.itemsize and want.dtype.type.__module__.startswith("ml_dtypes"):
        # dlc writes bf16 as ml_dtypes does, 2 raw bytes ('<V2'), and ml_dtypes' one-byte
        # types (float8, float4, int4, int2: one element per byte, the 4- and 2-bit ones
        # in its low bits) as '|V1'
        got = got.view(want.dtype)
    if want.dtype == object:  # strings: dlc writes '<U' arrays, of the longest string's width
        if got.dtype.kind != "U":
            return "output %s: dtype %s, expected strings" % (name, got.dtype)
        want = want.astype(str)
        got = got.astype(want.dtype) if got.size == 0 else got
    if got.shape != want.shape:
        return "output %s: shape %s, expected %s" % (name, got.shape, want.shape)
    if got.dtype != want.dtype and not (got.dtype.kind == want.dtype.kind == "U"):
        return "output %s: dtype %s, expected %s" % (name, got.dtype, want.dtype)
    if want.dtype.kind in "fc" or want.dtype.name == "bfloat16" or want.dtype.name.startswith("float"):
        # 2-byte floats are compared in f32: numpy's f16 arithmetic would round the
        # tolerance itself, and bfloat16 has no isclose of its own
        g, w = (got, want) if want.itemsize > 2 else (got.astype(np.float32), want.astype(np.float32))
        bad = ~np.isclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True)
    else:
        bad = got != want
    if bad.any():
        i = np.argwhere(bad)[0] if bad.ndim else ()
        i = tuple(int(v) for v in i)
        return "output %s: %d of %d values differ, first at %s: %r, expected %r" % (
            name, int(bad.sum()), want.size, i, got[i], want[i])
    return None


def check_output(work, name, want):
    """Compares output `name` as dlc wrote it (docs/ONNX.md: sequence NAME as NAME.0,
    NAME.1, ...; an empty optional as nothing) with the expected value."""
    base = ident(name)
    if want is None or isinstance(want, list):
        items = [] if want is None else want
        for k, w in enumerate(items):
            path = os.path.join(work, "%s.%d.npy" % (base, k))
            if not os.path.exists(path):
                return "output %s: element %d was not written" % (name, k)
            why = compare("%s.%d" % (name, k), np.load(path), w)
            os.remove(path)
            if why:
                return why
        extra = os.path.join(work, "%s.%d.npy" % (base, len(items)))
        if os.path.exists(extra) or (want is None and os.path.exists(os.path.join(work, base + ".npy"))):
            return "output %s: more elements than expected" % name
        return None
    path = os.path.join(work, base + ".npy")
    if not os.path.exists(path):
        return "output %s was not written" % name
    got = np.load(path)
    os.remove(path)
    return compare(name, got, want)


def run_dlc(dlc, model, feeds, extra, outputs, case, work, cflags, const_ints):
    args = [dlc, "run", model, "--output", work, "--cflags", cflags] + extra
    for k, (name, irname, arr, npy) in enumerate(feeds):
        # operands that parametrise the operator rather than being its data: integer
        # tensors (shapes, axes, indices) and small vectors after the first input
        # (Resize's scales and roi)
        if const_ints and (arr.dtype.kind in "iub" or arr.ndim == 0 or (k > 0 and arr.ndim <= 1)):
            args += ["--const-input", "%s=%s" % (name, npy)]
            continue
        if arr.ndim:
            args += ["--shape", "%s=%s" % (name, "x".join(str(d) for d in arr.shape))]
        args += ["--input", "%s=%s" % (irname, npy)]
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "timed out"
    if p.returncode != 0:
        return first_line(p.stderr or p.stdout)
    for k, vi in enumerate(outputs):
        why = check_output(work, vi.name, read_value(os.path.join(case, "output_%d.pb" % k), vi))
        if why:
            return why
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
    inputs = [v for v in model.graph.input if v.name not in inits]
    outputs = list(model.graph.output)
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
    if re.search(r"\ba sequence\b|\ban? (empty |full )?optional\b", reason):
        return ("sequence/optional", "")
    if re.search(r"dtype|cast to|not a tensor|cannot read the test data|float8|float16|string", reason):
        return ("dtype", "")
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


def shipped_node_dir():
    return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")


def write_value(path, value, vi):
    """One input or output of a case as a .pb file, as onnx's cmd_tools wrote them."""
    t = vi.type
    if isinstance(value, onnx.TensorProto):
        msg = value
    elif t.HasField("sequence_type"):
        msg = numpy_helper.from_list(value, vi.name)
    elif t.HasField("optional_type"):
        msg = numpy_helper.from_optional(value, vi.name)
    elif t.HasField("map_type"):
        msg = numpy_helper.from_dict(value, vi.name)
    else:
        msg = numpy_helper.from_array(np.asarray(value), vi.name)
    with open(path, "wb") as f:
        f.write(msg.SerializeToString())


def write_cases(folder):
    """Writes the node tests the installed onnx builds into folder/NAME/..."""
    from onnx.backend.test import loader
    for case in loader.load_node_model_tests():
        d = os.path.join(folder, case.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        g = case.model.graph
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, "test_data_set_%d" % i)
            os.makedirs(ds)
            for j, v in enumerate(inputs):
                write_value(os.path.join(ds, "input_%d.pb" % j), v, g.input[j])
            for j, v in enumerate(outputs):
                write_value(os.path.join(ds, "output_%d.pb" % j), v, g.output[j])


def node_dir(cases):
    """The folder of node tests for the installed onnx: the one it ships, or `cases`,
    (re)made from onnx's in-memory tests unless it was made by this very version."""
    from onnx.backend.test import loader
    if not hasattr(loader, "load_node_model_tests") or os.path.isdir(shipped_node_dir()):
        return shipped_node_dir()
    if not cases:
        sys.exit("run_node_tests.py: onnx %s builds its node tests in memory; give --cases DIR "
                 "for the folder to write them to" % onnx.__version__)
    import fcntl
    os.makedirs(cases, exist_ok=True)
    stamp = os.path.join(cases, "onnx_version")
    node = os.path.join(cases, "node")
    with open(os.path.join(cases, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel shards: one writes, the others wait
        if os.path.exists(stamp) and open(stamp).read() == onnx.__version__:
            return node
        if os.path.exists(stamp):
            os.remove(stamp)
        shutil.rmtree(node, ignore_errors=True)
        tmp = node + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        import warnings
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # onnx's cases overflow on purpose
            warnings.simplefilter("ignore")
            write_cases(tmp)
        os.rename(tmp, node)
        with open(stamp, "w") as f:
            f.write(onnx.__version__)
    return node


def in_shard(name, shard):
    if not shard:
        return True
    k, n = shard
    return zlib.crc32(name.encode()) % n == k


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
    ap.add_argument("--cases", help="the folder the installed onnx's node tests are written to "
                    "(onnx 1.23 and later build them in memory)")
    ap.add_argument("--make-cases", action="store_true", help="only write the tests to --cases")
    ap.add_argument("--shard", help="K/N: only the tests whose name hashes to K of N")
    a = ap.parse_args()
    shard = None
    if a.shard:
        m = re.fullmatch(r"(\d+)/(\d+)", a.shard)
        if not m or not int(m.group(1)) < int(m.group(2)):
            ap.error("--shard wants K/N with 0 <= K < N")
        shard = (int(m.group(1)), int(m.group(2)))

    folder = node_dir(a.cases)
    if a.make_cases:
        print("onnx node tests: %d written to %s (onnx %s)" % (len(os.listdir(folder)), folder, onnx.__version__))
        return 0
    tests = sorted(d for d in os.listdir(folder) if re.search(a.filter, d) and in_shard(d, shard))
    start = time.time()
    results = {}
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = {pool.submit(run_test, a.dlc, os.path.join(folder, t), a.cflags): t for t in tests}
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
        missing = [t for t in expected if t not in results and not a.filter and in_shard(t, shard)]
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
