#!/usr/bin/env python3
"""ir/dtype.c's f16 and bf16 conversions against numpy (f16) and ml_dtypes (bf16).

    half_numpy.py HALF_TOOL

- every one of the 65536 bit patterns of each type reads as the value numpy reads, and
  rounds back to itself (NaNs: to a NaN);
- f64 and f32 values rounded into each type give numpy's bits: edge values (the
  largest finite, the overflow threshold and ties around it, subnormals and the ties
  between them, half the smallest subnormal, signed zeros, infinities, NaN) and a
  million random ones over the whole exponent range.
f16 from f64 rounds once, as numpy does; bf16 from f64 through f32, as ml_dtypes does.
"""
import subprocess
import sys

import ml_dtypes
import numpy as np

TOOL = sys.argv[1]
np.seterr(all="ignore")  # overflow to infinity is what the edges are for
TYPES = {"f16": np.float16, "bf16": ml_dtypes.bfloat16}
failures = 0


def tool(mode, t, data):
    p = subprocess.run([TOOL, mode, t], input=data.tobytes(), capture_output=True, check=True)
    return np.frombuffer(p.stdout, np.uint16 if mode == "round" else np.float64)


def check(what, ok, detail=""):
    global failures
    if not ok:
        failures += 1
        print("FAIL %s %s" % (what, detail))


def compare_bits(what, t, values, got):
    want = values.astype(TYPES[t]).view(np.uint16)
    nan = np.isnan(values)
    g_nan = (got & 0x7FFF) > (0x7C00 if t == "f16" else 0x7F80)
    bad = np.flatnonzero((got != want) & ~nan)
    check("%s %s: NaN stays NaN" % (t, what), np.array_equal(g_nan, nan))
    detail = "" if not bad.size else "%d differ, first %r: 0x%04x, numpy 0x%04x" % (
        bad.size, float(values[bad[0]]), got[bad[0]], want[bad[0]])
    check("%s %s" % (t, what), not bad.size, detail)


def edges(t):
    info = ml_dtypes.finfo(TYPES[t])
    mx, tiny, sub = float(info.max), float(info.smallest_normal), float(info.smallest_subnormal)
    ulp_top = 32.0 if t == "f16" else 2.0 ** 120  # the spacing just below the largest finite
    v = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, mx, -mx, mx + ulp_top / 2, mx + ulp_top / 2 * 0.999,
         mx * 2, tiny, tiny * (1 - 2.0 ** -12), sub, sub / 2, sub / 2 * 1.0001, sub * 1.5, sub * 2.5, sub * 0.49,
         1e-300, -1e-300, 1e300, 65504.0, 65519.99, 65520.0, 3.0e38, 3.4e38, 3.4028235e38]
    # ties: midpoints between neighbours, either side of even
    bits = np.arange(0, 0x7C00 if t == "f16" else 0x7F80, 37, dtype=np.uint16)
    a = bits.view(TYPES[t]).astype(np.float64)
    b = (bits + 1).view(TYPES[t]).astype(np.float64)
    mid = (a + b) / 2
    return np.concatenate([np.array(v), mid, -mid, np.nextafter(mid, 0), np.nextafter(mid, np.inf)])


for t in TYPES:
    allbits = np.arange(65536, dtype=np.uint16)
    got = tool("value", t, allbits)
    want = allbits.view(TYPES[t]).astype(np.float64)
    check("%s: every bit pattern reads as numpy reads it" % t,
          np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)])))
    back = tool("round", t, want)
    nan = np.isnan(want)
    check("%s: every value rounds back to its bits" % t, np.array_equal(back[~nan], allbits[~nan]))
    check("%s: NaN rounds to a NaN" % t, np.all((back[nan] & 0x7FFF) > (0x7C00 if t == "f16" else 0x7F80)))

    e = edges(t)
    compare_bits("edge values from f64", t, e, tool("round", t, e))
    e32 = e[np.isfinite(e.astype(np.float32)) | ~np.isfinite(e)].astype(np.float32).astype(np.float64)
    compare_bits("edge values from f32", t, e32, tool("round", t, e32))
    rng = np.random.default_rng(12)
    r = rng.standard_normal(1 << 20) * np.exp2(rng.integers(-140, 140, 1 << 20))
    compare_bits("random values from f64", t, r, tool("round", t, r))
    r32 = r.astype(np.float32).astype(np.float64)
    compare_bits("random values from f32", t, r32, tool("round", t, r32))

print("half_numpy: %s" % ("ok" if not failures else "%d failures" % failures))
sys.exit(1 if failures else 0)
