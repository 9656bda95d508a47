#!/usr/bin/env python3
"""sklearn_test.py --dlc DLC: scikit-learn models exported by skl2onnx (the ai.onnx.ml
domain, docs/ONNX.md) compiled by dlc and compared with ONNX Runtime.

Each model is trained on a seeded synthetic dataset (make_classification,
make_regression), exported without ZipMap (options={id(model): {'zipmap': False}}, int64
class labels), run by `dlc run` on held-out rows and by ONNX Runtime on the same rows:
labels must be equal, probabilities and regression values within TOL (absolute, after
scaling by the output's largest magnitude when that is over 1; see close()).  Some are
exported with ZipMap too (skl2onnx's default): ONNX Runtime's list of {label: probability}
dicts must have dlc's keys (output NAME.keys) and, row by row, its values (NAME).

Needs numpy, onnx, onnxruntime, scikit-learn and skl2onnx at the versions of
tests/requirements.txt (tools/pyenv.sh installs them); when one is missing the test fails
and says so.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

try:
    import onnxruntime as ort
    from skl2onnx import to_onnx
    from sklearn.datasets import make_classification, make_regression
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import Binarizer, MinMaxScaler, Normalizer, StandardScaler
    from sklearn.svm import SVC, SVR, LinearSVC
    from sklearn.tree import DecisionTreeClassifier
except ImportError as e:
    sys.exit(f"FAIL: {e}: run tools/pyenv.sh (tests/requirements.txt pins scikit-learn and skl2onnx)")

TOL = 1e-4  # probabilities are in [0, 1]; regression values are compared relative to their scale
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


def close(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return float(np.max(np.abs(a - b))) / scale if b.size else 0.0


def classification(seed, classes):
    x, y = make_classification(n_samples=400, n_features=8, n_informative=5, n_redundant=1,
                               n_classes=classes, n_clusters_per_class=1, random_state=seed)
    return x.astype(np.float32), y.astype(np.int64)


def regression(seed):
    x, y = make_regression(n_samples=400, n_features=8, n_informative=6, noise=5.0, random_state=seed)
    return x.astype(np.float32), (y / 50).astype(np.float32)


def models():
    """(name, estimator, data, is_classifier)"""
    c3, c2, r = classification(0, 3), classification(1, 2), regression(2)
    yield "logreg3", LogisticRegression(max_iter=500), c3, True
    yield "logreg2", LogisticRegression(max_iter=500), c2, True
    yield "mlp", MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0), c3, True
    yield "forest", RandomForestClassifier(n_estimators=12, max_depth=7, random_state=0), c3, True
    yield "tree2", DecisionTreeClassifier(max_depth=5, random_state=0), c2, True
    yield "gbc2", GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0), c2, True
    yield "gbr", GradientBoostingRegressor(n_estimators=25, max_depth=3, random_state=0), r, False
    yield "forest_reg", RandomForestRegressor(n_estimators=8, max_depth=6, random_state=0), r, False
    yield "scaled_logreg", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), c3, True
    yield "minmax_linreg", make_pipeline(MinMaxScaler(), Normalizer(), LinearRegression()), r, False
    yield "linear_svc", LinearSVC(random_state=0), c3, True
    yield "svc_rbf", SVC(kernel="rbf", gamma=0.1), c3, True
    yield "svc_poly2", SVC(kernel="poly", degree=3, gamma=0.1, coef0=1.0), c2, True
    yield "svc_sigmoid", SVC(kernel="sigmoid", gamma=0.01), c3, True
    yield "svc_proba3", SVC(kernel="rbf", gamma=0.1, probability=True, random_state=0), c3, True
    yield "svc_proba2", SVC(kernel="rbf", probability=True, random_state=0), c2, True
    yield "svr_rbf", SVR(kernel="rbf", gamma=0.1), r, False
    yield "imputed_binarized", make_pipeline(SimpleImputer(), Binarizer(threshold=0.3), LogisticRegression(max_iter=500)), c3, True


def dlc_run(dlc, path, x, work):
    np.save(os.path.join(work, "X.npy"), x)
    out = os.path.join(work, "out")
    r = subprocess.run([dlc, "run", path, "--input", "X=" + os.path.join(work, "X.npy"), "--output", out,
                        "--batch", str(x.shape[0])], capture_output=True, text=True)
    if r.returncode:
        return None, r.stderr.strip()
    return out, ""


def check(dlc, name, est, data, classifier, work, zipmap=False):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(x[:300], y[:300])
    warnings.simplefilter("ignore", FutureWarning)  # skl2onnx reads SVC's deprecated probA_
    try:
        onx = to_onnx(est, x[:1], options={id(est): {"zipmap": False}} if classifier and not zipmap else None,
                      target_opset=TARGET_OPSET)
    except NameError:  # a classifier without probabilities (LinearSVC) has no zipmap option
        onx = to_onnx(est, x[:1], target_opset=TARGET_OPSET)
    path = os.path.join(work, name + ".onnx")
    with open(path, "wb") as f:
        f.write(onx.SerializeToString())
    test = x[300:].copy()
    if name.startswith("imputed"):  # missing values for the Imputer to fill
        test[np.random.default_rng(3).random(test.shape) < 0.1] = np.nan
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: test})
    out, err = dlc_run(dlc, path, test, work)
    ops = sorted({n.op_type for n in onx.graph.node if n.domain == "ai.onnx.ml"})
    if out is None:
        print(f"FAIL {name} ({', '.join(ops)}): {err}")
        return 1
    bad = 0
    for meta, b in zip(sess.get_outputs(), want):
        a = np.load(os.path.join(out, meta.name + ".npy"))
        if isinstance(b, list):  # ZipMap's maps: keys as dlc's NAME.keys, values as its rows
            keys, maps = np.load(os.path.join(out, meta.name + ".keys.npy")).tolist(), b
            same = all(sorted(m) == sorted(keys) for m in maps)
            b = np.array([[m[k] for k in keys] for m in maps], dtype=np.float32) if same else None
            if b is None or a.shape != b.shape:
                print(f"FAIL {name}: {meta.name} maps: keys {keys}, values {list(a.shape)}; ONNX Runtime's "
                      f"{len(maps)} maps, keys {sorted(maps[0]) if maps else []}")
                bad += 1
                continue
        if b.dtype == object:  # string labels: ONNX Runtime's str objects, dlc's '<U' array
            b = b.astype(str)
        if a.shape != b.shape or (a.dtype != b.dtype and not (a.dtype.kind == b.dtype.kind == "U")):
            print(f"FAIL {name}: {meta.name} is {a.dtype}{list(a.shape)}, ONNX Runtime's {b.dtype}{list(b.shape)}")
            bad += 1
        elif b.dtype.kind == "U":
            diff = int(np.sum(a != b))
            print(f"{'ok  ' if not diff else 'FAIL'} {name}: {meta.name} {diff} of {b.size} string labels differ")
            bad += diff > 0
        elif b.dtype == np.int64:
            diff = int(np.sum(a != b))
            print(f"{'ok  ' if not diff else 'FAIL'} {name}: {meta.name} {diff} of {b.size} labels differ")
            bad += diff > 0
        else:
            e = close(a, b)
            print(f"{'ok  ' if e <= TOL else 'FAIL'} {name}: {meta.name} max error {e:.3g} (tolerance {TOL})")
            bad += e > TOL
    if not bad:
        print(f"     {name}: {', '.join(ops) or 'default-domain operators only'}")
    return bad


def zipmap_models():
    """Classifiers exported with ZipMap, as skl2onnx does by default."""
    c3, c2 = classification(0, 3), classification(1, 2)
    yield "logreg3_zipmap", LogisticRegression(max_iter=500), c3, True
    yield "mlp_zipmap", MLPClassifier(hidden_layer_sizes=(16,), max_iter=400, random_state=0), c3, True
    yield "forest2_zipmap", RandomForestClassifier(n_estimators=12, max_depth=7, random_state=0), c2, True


def named(data, names):
    """The dataset with its classes as strings (skl2onnx exports classlabels_strings)."""
    x, y = data
    return x, np.array(names)[y]


def string_label_models():
    """Classifiers trained on string classes: labels (and ZipMap's keys) are strings."""
    c3, c2 = classification(0, 3), classification(1, 2)
    flowers = ["setosa", "versicolor", "virginica ??/ \"q\""]  # a trigraph and quotes reach the generated C
    yield "logreg3_strings", LogisticRegression(max_iter=500), named(c3, flowers), True, False
    yield "forest3_strings_zipmap", RandomForestClassifier(n_estimators=8, max_depth=6, random_state=0), named(c3, flowers), True, True
    yield "linear_svc2_strings", LinearSVC(random_state=0), named(c2, ["no", "yes"]), True, False
    yield "svc3_strings_zipmap", SVC(kernel="rbf", gamma=0.1, probability=True, random_state=0), named(c3, flowers), True, True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    ap.add_argument("--only", help="run only the model of this name")
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-sklearn-") as work:
        os.environ["TMPDIR"] = work  # the jit's folders go inside ours
        for name, est, data, classifier in models():
            if not args.only or args.only == name:
                bad += check(args.dlc, name, est, data, classifier, work) > 0
        for name, est, data, classifier in zipmap_models():
            if not args.only or args.only == name:
                bad += check(args.dlc, name, est, data, classifier, work, zipmap=True) > 0
        for name, est, data, classifier, zipmap in string_label_models():
            if not args.only or args.only == name:
                bad += check(args.dlc, name, est, data, classifier, work, zipmap=zipmap) > 0
    print(f"FAIL: {bad} model(s) differ" if bad else "all scikit-learn models agree with ONNX Runtime")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
