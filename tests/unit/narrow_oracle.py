#!/usr/bin/env python3
"""ir/dtype.c's one-byte storage dtypes against ml_dtypes and ONNX's reference.

    narrow_oracle.py HALF_TOOL

For f8e4m3fn, f8e4m3fnuz, f8e5m2, f8e5m2fnuz, f8e8m0, f4e2m1, i4, u4, i2, u2:
- every bit pattern (256, or the 16 and 4 of the 4- and 2-bit types, as ml_dtypes
  holds them: the low bits of a byte) reads as ml_dtypes reads it, and rounds back to
  itself (NaNs to a NaN);
- f32 values rounded into each type give the bits of ml_dtypes' astype, which is what
  ONNX's reference Cast does (saturate=0 for the float8 types; the saturating Cast is
  a clip before it, built by the frontend): every f16 value widened (which holds every
  midpoint of these types), edge values, and random ones over the whole exponent range;
- f8e8m0 in each rounding mode, saturating or not, gives onnx.numpy_helper.to_float8e8m0's
  bits.
The conversions a compiled model runs are checked against these (C against the
interpreter) by tests/codegen/test_cgen_ops.c.
"""
import subprocess
import sys

import ml_dtypes
import numpy as np
from onnx.numpy_helper import to_float8e8m0

TOOL = sys.argv[1]
np.seterr(all="ignore")
TYPES = {
    "f8e4m3fn": (ml_dtypes.float8_e4m3fn, 256),
    "f8e4m3fnuz": (ml_dtypes.float8_e4m3fnuz, 256),
    "f8e5m2": (ml_dtypes.float8_e5m2, 256),
    "f8e5m2fnuz": (ml_dtypes.float8_e5m2fnuz, 256),
    "f8e8m0": (ml_dtypes.float8_e8m0fnu, 256),
    "f4e2m1": (ml_dtypes.float4_e2m1fn, 16),
    "i4": (ml_dtypes.int4, 16),
    "u4": (ml_dtypes.uint4, 16),
    "i2": (ml_dtypes.int2, 4),
    "u2": (ml_dtypes.uint2, 4),
}
failures = 0


def tool(mode, t, data, *extra):
    p = subprocess.run([TOOL, mode, t] + [str(e) for e in extra], input=data.tobytes(), capture_output=True, check=True)
    return np.frombuffer(p.stdout, np.uint8 if mode == "round" else np.float64)


def check(what, ok, detail=""):
    global failures
    if not ok:
        failures += 1
        print("FAIL %s %s" % (what, detail))


def compare(what, values, got, want):
    bad = np.flatnonzero(got != want)
    detail = "" if not bad.size else "%d differ, first %r: 0x%02x, expected 0x%02x" % (
        bad.size, float(values[bad[0]]), got[bad[0]], want[bad[0]])
    check(what, not bad.size, detail)


def f32_values():
    f16 = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 448, 464, 465, 479.99, 480, 240, 247.99, 248,
                      57344, 61439, 61440, 6, 7, 1e6, -1e6, 1e-7, -1e-7, 2.0 ** -10, 2.0 ** -20, 2.0 ** 127,
                      1.5 * 2.0 ** 127, 3e38, 2.0 ** -126, 2.0 ** -149, 7.5, 8.5, -8.5, 15.99, 16, -9, 1e9, -1e9],
                     dtype=np.float32)
    rng = np.random.default_rng(12)
    r = (rng.standard_normal(1 << 18) * np.exp2(rng.integers(-140, 128, 1 << 18))).astype(np.float32)
    small = (rng.standard_normal(1 << 16) * 20).astype(np.float32)  # the integer types' range, with fractions
    return np.concatenate([f16, edges, r, small])


X = f32_values()
for t, (dt, count) in TYPES.items():
    bits = np.arange(count, dtype=np.uint8)
    want = bits.view(dt).astype(np.float64)
    got = tool("value", t, bits)
    same = np.array_equal(got, want, equal_nan=True)
    fin = ~np.isnan(want)
    check("%s: every bit pattern reads as ml_dtypes reads it" % t,
          same and np.array_equal(np.signbit(got[fin]), np.signbit(want[fin])))
    back = tool("round", t, want)
    check("%s: every value rounds back to its bits" % t, np.array_equal(back[fin], bits[fin]))
    check("%s: NaN rounds to a NaN" % t, np.all(np.isnan(back[~fin].view(dt).astype(np.float32))))

    x = X
    if t in ("i4", "u4", "i2", "u2"):  # beyond int32, ml_dtypes' float to int conversion is C++'s undefined one
        x = X[~(np.abs(X) >= 2.0 ** 31)]
    if t == "f8e8m0":
        for mode, name in ((0, "up"), (1, "down"), (2, "nearest")):
            for sat in (True, False):
                w = to_float8e8m0(x, sat, name).view(np.uint8)
                compare("f8e8m0 round_mode %s saturate %d" % (name, sat), x, tool("round", t, x.astype(np.float64),
                                                                                    mode + (0 if sat else 4)), w)
        continue
    w = x.astype(dt).view(np.uint8)
    compare("%s: f32 values round as ml_dtypes' astype" % t, x, tool("round", t, x.astype(np.float64)), w)

print("narrow_oracle: %s" % ("ok" if not failures else "%d failures" % failures))
sys.exit(1 if failures else 0)
