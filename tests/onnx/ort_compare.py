#!/usr/bin/env python3
"""Compiles an ONNX model with dlc, runs it on seeded random inputs and compares every
output with ONNX Runtime on the same inputs.

    ort_compare.py --dlc DLC --model M.onnx [--batch N] [--seed S] [--tol 1e-4]

Needs numpy, onnx and onnxruntime (tools/pyenv.sh puts them in .venv).  Steps:
  1. `dlc compile M -o DIR/M.c [--batch N]` must write M.c and M.h;
  2. inputs: symbolic dimensions become N (1 without --batch), values are float32
     normal(0, 1) (int64: integers in [0, 4)) from numpy's generator seeded with S,
     saved as DIR/NAME.npy;
  3. `dlc run M --input NAME=DIR/NAME.npy ... --output DIR/out [--batch N]`;
  4. ONNX Runtime (CPU) runs M on the same arrays; each output must have the same
     dtype and shape, and relative error at most --tol, where for dlc's value a and
     ONNX Runtime's b

         rel = max_i |a_i - b_i| / max(|b_i|, 1e-3 * max_j |b_j|, 1e-30)

     (elements far below the output's scale are measured against 1e-3 of that scale,
     so rounding noise in near-zero values does not count as a large relative error).

--expect-mismatch checks the checker: it perturbs one element of each dlc output by a
relative 10 * tol and succeeds only if the comparison then fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def rel_error(a, b):
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    if b.size == 0:
        return 0.0
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
        return 0.0 if np.array_equal(a, b, equal_nan=True) else float("inf")
    scale = max(1e-3 * float(np.max(np.abs(b))), 1e-30)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), scale)))


def make_inputs(sess, batch, seed, work):
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else batch for d in i.shape]
        if i.type == "tensor(float)":
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
        elif i.type == "tensor(int64)":  # ids for embeddings: small, so every table has them
            feeds[i.name] = rng.integers(0, 4, shape).astype(np.int64)
        else:
            sys.exit(f"ort_compare.py: input '{i.name}' is {i.type}; only float and int64 inputs are generated")
        np.save(os.path.join(work, i.name + ".npy"), feeds[i.name])
    return feeds


def dlc(args, *cmd):
    bind = ["--batch", str(args.batch)] if args.batch else []
    r = subprocess.run([args.dlc, *cmd, *bind], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: dlc {' '.join(cmd)} exited {r.returncode}: {r.stderr.strip()}")


def compare(sess, feeds, out_dir, tol, perturb):
    want = sess.run(None, feeds)
    bad = 0
    for meta, b in zip(sess.get_outputs(), want):
        a = np.load(os.path.join(out_dir, meta.name + ".npy"))
        if perturb:
            a = a.copy()
            k = int(np.argmax(np.abs(b)))
            a.flat[k] += 10 * tol * abs(b.flat[k]) + 1e-30
        if a.dtype != b.dtype or a.shape != b.shape:
            print(f"{meta.name}: dlc gives {a.dtype}{list(a.shape)}, ONNX Runtime {b.dtype}{list(b.shape)}")
            bad += 1
            continue
        err = rel_error(a, b)
        absmax = float(np.max(np.abs(a.astype(np.float64) - b))) if b.size else 0.0
        ok = err <= tol
        print(f"{meta.name}: {b.dtype}{list(b.shape)} max abs err {absmax:.3g}, max rel err {err:.3g}: "
              f"{'ok' if ok else 'over ' + str(tol)}")
        bad += not ok
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--expect-mismatch", action="store_true")
    args = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    stem = os.path.splitext(os.path.basename(args.model))[0]
    with tempfile.TemporaryDirectory(prefix="dlc-onnx-") as work:
        os.environ["TMPDIR"] = work  # the jit's folders go inside ours
        dlc(args, "compile", args.model, "-o", os.path.join(work, stem + ".c"))
        for ext in (".c", ".h"):
            if not os.path.isfile(os.path.join(work, stem + ext)):
                sys.exit(f"FAIL: dlc compile wrote no {stem}{ext}")
        feeds = make_inputs(sess, args.batch or 1, args.seed, work)
        ins = [a for n in feeds for a in ("--input", f"{n}={os.path.join(work, n + '.npy')}")]
        dlc(args, "run", args.model, *ins, "--output", os.path.join(work, "out"))
        bad = compare(sess, feeds, os.path.join(work, "out"), args.tol, args.expect_mismatch)
    if args.expect_mismatch:
        if bad:
            print("ok: the perturbed outputs were caught")
            return 0
        print("FAIL: a perturbation of 10 * tol went unnoticed")
        return 1
    if bad:
        print(f"FAIL: {bad} output(s) differ from ONNX Runtime")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
