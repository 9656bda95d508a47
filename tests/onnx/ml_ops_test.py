#!/usr/bin/env python3
"""ml_ops_test.py --dlc DLC: the ai.onnx.ml operators one at a time, on small models
built with onnx.helper, against ONNX Runtime: what the scikit-learn exports of
sklearn_test.py do not reach (post transforms, tree modes and missing values, MIN/MAX
aggregation, membership sets, encoders, numeric LabelEncoder), then what dlc refuses,
each with one line naming the node and the attribute or type.

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

# Normalizer MAX: the specification and onnx's reference divide by the largest absolute
# value of the row (as scikit-learn's norm='max' does); ONNX Runtime by the largest value.
# SVMClassifier in linear mode with two classes and weights of both signs: the reference
# labels by the larger score, ONNX Runtime gives the second label whenever that score is
# positive (scikit-learn exports LinearSVC as LinearClassifier, never this way).
REFERENCE = {"normalizer_MAX", "svm_classifier_linear2"}
NP = {TP.FLOAT: np.float32, TP.DOUBLE: np.float64, TP.INT64: np.int64, TP.INT32: np.int32}
TOL = 1e-5


def model(node, ins, outs, ml=3, default=17):
    g = oh.make_graph([node], "ml", [oh.make_tensor_value_info(n, t, s) for n, t, s in ins],
                      [oh.make_tensor_value_info(n, t, None) for n, t in outs])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", default), oh.make_opsetid("ai.onnx.ml", ml)],
                         ir_version=10)


def zipmap_model(x_shape, labels):
    """ZipMap alone: its output is a sequence of maps (int64 or string -> float)."""
    strings = isinstance(labels[0], str)
    key = TP.STRING if strings else TP.INT64
    z = oh.make_value_info("Z", oh.make_sequence_type_proto(oh.make_map_type_proto(key, oh.make_tensor_type_proto(TP.FLOAT, []))))
    attr = {"classlabels_strings" if strings else "classlabels_int64s": labels}
    g = oh.make_graph([ml("ZipMap", ["X"], ["Z"], **attr)], "ml",
                      [oh.make_tensor_value_info("X", TP.FLOAT, x_shape)], [z])
    return oh.make_model(g, opset_imports=[oh.make_opsetid("", 17), oh.make_opsetid("ai.onnx.ml", 1)], ir_version=10)


def maps_as_table(maps, keys):
    """ONNX Runtime's list of {key: value} as dlc gives it: the values [N, C] in the order of
    dlc's keys; None if a map's keys are not those."""
    if any(sorted(m) != sorted(keys) for m in maps):
        return None
    return np.array([[m[k] for k in keys] for m in maps], dtype=np.float32).reshape(len(maps), len(keys))


def ml(op, ins, outs, **attrs):
    return oh.make_node(op, ins, outs, domain="ai.onnx.ml", name=op.lower(), **attrs)


def tree(mode_per_node=None):
    """One legacy tree of depth 3 on 3 features: 7 internal nodes, 8 leaves."""
    ids = list(range(15))
    feats = [0, 1, 2, 2, 0, 1, 0] + [0] * 8
    vals = [0.0, -0.5, 0.5, 0.0, 1.0, 0.2, -1.0] + [0.0] * 8
    modes = (mode_per_node or ["BRANCH_LEQ"] * 7) + ["LEAF"] * 8
    true = [1, 3, 5, 7, 9, 11, 13] + [0] * 8
    false = [2, 4, 6, 8, 10, 12, 14] + [0] * 8
    return dict(nodes_treeids=[0] * 15, nodes_nodeids=ids, nodes_featureids=feats, nodes_values=vals,
                nodes_modes=modes, nodes_truenodeids=true, nodes_falsenodeids=false)


def forest(n_trees, mode_per_node=None, mvt=None):
    t = tree(mode_per_node)
    att = {k: [] for k in t}
    for i in range(n_trees):
        for k, v in t.items():
            if k == "nodes_treeids":
                att[k] += [i] * len(v)
            elif k == "nodes_values":
                att[k] += [x + 0.1 * i for x in v]
            else:
                att[k] += v
    if mvt:
        att["nodes_missing_value_tracks_true"] = mvt * n_trees
    return att


def cases():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 3)).astype(np.float32)
    xn = x.copy()
    xn[rng.random(x.shape) < 0.25] = np.nan
    f3 = [("X", TP.FLOAT, [9, 3])]
    leaves = list(range(7, 15))
    for pt in ("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"):
        w = rng.standard_normal(12).round(2).tolist()
        w[0] = 0.0
        yield f"linear_classifier_{pt}", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=w, intercepts=[0.1, 0.0, -0.2, 0.3],
                                                  classlabels_ints=[4, 5, 6, 7], post_transform=pt), f3,
                                               [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}
    yield "linear_classifier_one_row", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=[0.5, -1.0, 0.3],
                                                intercepts=[0.1], classlabels_ints=[2, 9], post_transform="LOGISTIC"),
                                             f3, [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}
    yield "linear_classifier_f64", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=[0.5, -1.0, 0.3, 1, 2, -3], intercepts=[0.2, -0.1],
                                            classlabels_ints=[1, 2], post_transform="SOFTMAX"),
                                         [("X", TP.DOUBLE, [9, 3])], [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x.astype(np.float64)}
    yield "linear_regressor_2", model(ml("LinearRegressor", ["X"], ["Y"], coefficients=[0.5, -1.0, 0.3, 1, 2, 3],
                                         intercepts=[0.1, -1], targets=2), f3, [("Y", TP.FLOAT)]), {"X": x}
    for norm in ("MAX", "L1", "L2"):
        yield f"normalizer_{norm}", model(ml("Normalizer", ["X"], ["Y"], norm=norm), f3, [("Y", TP.FLOAT)]), {"X": x}
    yield "scaler", model(ml("Scaler", ["X"], ["Y"], offset=[0.5, -1.0, 2.0], scale=[2.0, 0.5, -1.0]), f3, [("Y", TP.FLOAT)]), {"X": x}
    yield "binarizer", model(ml("Binarizer", ["X"], ["Y"], threshold=0.3), f3, [("Y", TP.FLOAT)]), {"X": x}
    yield "imputer_nan", model(ml("Imputer", ["X"], ["Y"], imputed_value_floats=[1.0, 2.0, 3.0],
                                  replaced_value_float=float("nan")), f3, [("Y", TP.FLOAT)]), {"X": xn}
    xi = rng.integers(0, 9, (6, 2)).astype(np.int64)
    yield "imputer_int", model(ml("Imputer", ["X"], ["Y"], imputed_value_int64s=[-7], replaced_value_int64=3),
                               [("X", TP.INT64, [6, 2])], [("Y", TP.INT64)]), {"X": xi}
    yield "one_hot_encoder", model(ml("OneHotEncoder", ["X"], ["Y"], cats_int64s=[1, 3, 5, 7], zeros=1),
                                   [("X", TP.INT64, [6, 2])], [("Y", TP.FLOAT)]), {"X": xi}
    yield "label_encoder_int_float", model(ml("LabelEncoder", ["X"], ["Y"], keys_int64s=[1, 3, 5], values_floats=[0.5, 1.5, 2.5],
                                              default_float=-3.0), [("X", TP.INT64, [6, 2])], [("Y", TP.FLOAT)], ml=2), {"X": xi}
    xf = np.array([[0.5, 1.0], [2.0, -1.0], [1.0, 0.5]], np.float32)
    yield "label_encoder_float_int", model(ml("LabelEncoder", ["X"], ["Y"], keys_floats=[0.5, 2.0], values_int64s=[10, 20]),
                                           [("X", TP.FLOAT, [3, 2])], [("Y", TP.INT64)], ml=2), {"X": xf}
    yield "feature_vectorizer", model(ml("FeatureVectorizer", ["A", "B"], ["Y"], inputdimensions=[2, 4]),
                                      [("A", TP.FLOAT, [6, 3]), ("B", TP.FLOAT, [6, 2])], [("Y", TP.FLOAT)]), \
        {"A": rng.standard_normal((6, 3)).astype(np.float32), "B": xi.astype(np.float32)}
    yield "array_feature_extractor", model(ml("ArrayFeatureExtractor", ["X", "I"], ["Y"]),
                                           [("X", TP.FLOAT, [9, 3]), ("I", TP.INT64, [2])], [("Y", TP.FLOAT)]), \
        {"X": x, "I": np.array([2, 0], np.int64)}
    # trees
    mixed = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_LEQ"]
    mvt = [1, 0, 1, 0, 0, 1, 1] + [0] * 8
    for agg in ("SUM", "AVERAGE", "MIN", "MAX"):
        att = forest(3, mixed, mvt)
        yield f"tree_regressor_{agg}", model(ml("TreeEnsembleRegressor", ["X"], ["Y"], aggregate_function=agg, n_targets=2,
                                                target_treeids=[t for t in range(3) for _ in leaves],
                                                target_nodeids=leaves * 3, target_ids=[(i + t) % 2 for t in range(3) for i in range(8)],
                                                target_weights=[0.1 * i - 0.3 * t for t in range(3) for i in range(8)],
                                                base_values=[0.5, -0.5], **att), f3, [("Y", TP.FLOAT)]), {"X": xn}
    att = forest(2)
    yield "tree_regressor_f64", model(ml("TreeEnsembleRegressor", ["X"], ["Y"], n_targets=1, target_treeids=[t for t in range(2) for _ in leaves],
                                         target_nodeids=leaves * 2, target_ids=[0] * 16, target_weights=[i / 7.0 for i in range(16)], **att),
                                      [("X", TP.DOUBLE, [9, 3])], [("Y", TP.FLOAT)]), {"X": x.astype(np.float64)}
    for pt in ("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT"):
        att = forest(2)
        cls = 3
        yield f"tree_classifier_{pt}", model(ml("TreeEnsembleClassifier", ["X"], ["Y", "Z"], classlabels_int64s=[10, 20, 30],
                                                class_treeids=[t for t in range(2) for _ in leaves for _ in range(cls)],
                                                class_nodeids=[n for _ in range(2) for n in leaves for _ in range(cls)],
                                                class_ids=list(range(cls)) * 16,
                                                class_weights=[((3 * i + 7 * j) % 10) / 20.0 for i in range(16) for j in range(cls)],
                                                post_transform=pt, **att), f3, [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}
    att = forest(2)
    yield "tree_classifier_binary", model(ml("TreeEnsembleClassifier", ["X"], ["Y", "Z"], classlabels_int64s=[0, 1],
                                             class_treeids=[t for t in range(2) for _ in leaves], class_nodeids=leaves * 2,
                                             class_ids=[0] * 16, class_weights=[i / 16.0 for i in range(16)],
                                             post_transform="LOGISTIC", base_values=[0.2], **att), f3,
                                          [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}
    # TreeEnsemble (opset 5): two trees, one with a membership node
    te = ml("TreeEnsemble", ["X"], ["Y"], n_targets=2, aggregate_function=1, post_transform=0, tree_roots=[0, 2],
            nodes_featureids=[0, 1, 2], nodes_modes=oh.make_tensor("m", TP.UINT8, [3], [0, 6, 3]),
            nodes_splits=oh.make_tensor("s", TP.FLOAT, [3], [0.0, 0.0, 0.5]),
            nodes_truenodeids=[1, 0, 2], nodes_trueleafs=[0, 1, 1], nodes_falsenodeids=[2, 1, 3], nodes_falseleafs=[1, 1, 1],
            nodes_missing_value_tracks_true=[1, 0, 0],
            leaf_targetids=[0, 1, 0, 1], leaf_weights=oh.make_tensor("w", TP.FLOAT, [4], [1.0, 2.0, 3.0, 4.0]),
            membership_values=oh.make_tensor("mv", TP.FLOAT, [3], [-1.0, 1.0, float("nan")]))
    xm = x.copy()
    xm[:, 1] = [-1, 1, 0, -1, 2, 1, 0.5, -1, 1]
    xm[0, 0] = np.nan
    yield "tree_ensemble5", model(te, f3, [("Y", TP.FLOAT)], ml=5, default=21), {"X": xm}
    # SVMs
    sv = rng.standard_normal((5, 3)).round(2).tolist()
    for kern, params in (("LINEAR", []), ("POLY", [0.5, 1.0, 2.0]), ("RBF", [0.3, 0, 0]), ("SIGMOID", [0.2, 0.1, 0])):
        yield f"svm_regressor_{kern}", model(ml("SVMRegressor", ["X"], ["Y"], kernel_type=kern, kernel_params=params or [0.0, 0.0, 0.0],
                                                n_supports=5, support_vectors=sum(sv, []), coefficients=[0.5, -0.2, 0.1, 0.7, -1.0],
                                                rho=[0.25]), f3, [("Y", TP.FLOAT)]), {"X": x}
    yield "zipmap", zipmap_model([9, 3], [7, 3, 5]), {"X": x}
    yield "zipmap_row", zipmap_model([3], [-1, 0, 9]), {"X": x[0]}
    yield "zipmap_strings", zipmap_model([9, 3], ["b", "a", "c ??/"]), {"X": x}
    cats = dict(cats_strings=["red", "green", "blue ??/", ""], cats_int64s=[7, -2, 40, 0])
    words = np.array([["green", "red", "pink"], ["", "blue ??/", "Red"]])
    yield "category_mapper_to_int", model(ml("CategoryMapper", ["X"], ["Y"], default_int64=99, **cats), [("X", TP.STRING, [2, 3])],
                                          [("Y", TP.INT64)]), {"X": words}
    yield "category_mapper_to_string", model(ml("CategoryMapper", ["X"], ["Y"], default_string="none", **cats),
                                             [("X", TP.INT64, [5])], [("Y", TP.STRING)]), {"X": np.array([40, 3, -2, 0, 7])}
    yield "one_hot_strings", model(ml("OneHotEncoder", ["X"], ["Y"], cats_strings=["b", "a ??/", ""]), [("X", TP.STRING, [2, 2])],
                                   [("Y", TP.FLOAT)]), {"X": np.array([["a ??/", "c"], ["", "b"]])}
    yield "category_mapper_defaults", model(ml("CategoryMapper", ["X"], ["Y"], **cats), [("X", TP.INT64, [2])],
                                            [("Y", TP.STRING)]), {"X": np.array([1, 7])}
    for pt in ("NONE", "SOFTMAX"):
        yield f"linear_classifier_strings_{pt}", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=rng.standard_normal(9).round(2).tolist(),
                                                          intercepts=[0.1, 0.0, -0.2], classlabels_strings=["cat", "dog", "\"x\""],
                                                          post_transform=pt), f3, [("Y", TP.STRING), ("Z", TP.FLOAT)]), {"X": x}
    yield "linear_classifier_strings_binary", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=[0.5, -1.0, 0.3],
                                                       intercepts=[0.1], classlabels_strings=["no", "yes"], post_transform="LOGISTIC"),
                                                    f3, [("Y", TP.STRING), ("Z", TP.FLOAT)]), {"X": x}
    yield "svm_classifier_linear2", model(ml("SVMClassifier", ["X"], ["Y", "Z"], classlabels_ints=[3, 8], coefficients=[0.5, -1, 0.3, -0.2, 0.4, 1],
                                             rho=[0.1], kernel_type="LINEAR", kernel_params=[0.0, 0.0, 0.0]), f3, [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}
    yield "svm_classifier_rbf3", model(ml("SVMClassifier", ["X"], ["Y", "Z"], classlabels_ints=[0, 1, 2], vectors_per_class=[2, 2, 1],
                                          support_vectors=sum(sv, []), coefficients=[0.5, -0.2, 0.1, 0.7, -1.0, 0.3, 0.2, -0.6, -0.1, 0.8],
                                          rho=[0.1, -0.2, 0.05], kernel_type="RBF", kernel_params=[0.4, 0, 0]),
                                       f3, [("Y", TP.INT64), ("Z", TP.FLOAT)]), {"X": x}


def refusals():
    f3 = [("X", TP.FLOAT, [2, 3])]
    yield "zipmap_labels", zipmap_model([2, 3], [0, 1]), "2 labels"
    yield "zipmap_twice", zipmap_model([2, 3], [0, 1, 0]), "given twice"
    # the repeat named is the first in the list's order (3 repeats before 9 in sorted order)
    yield "zipmap_twice_first", zipmap_model([2, 4], [9, 3, 9, 3]), "label 9 is given twice"
    m = zipmap_model([2, 3], [0, 1, 2])
    m.graph.node.append(oh.make_node("Relu", ["Z"], ["R"], name="relu"))
    m.graph.output.append(oh.make_tensor_value_info("R", TP.FLOAT, None))
    yield "zipmap_read", m, "sequence of maps"
    yield "one_string_label", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=[1.0] * 3, classlabels_strings=["a"]),
                                    f3, [("Y", TP.STRING), ("Z", TP.FLOAT)]), "string labels need two or more"
    yield "both_labels", model(ml("LinearClassifier", ["X"], ["Y", "Z"], coefficients=[1.0] * 6, classlabels_strings=["a", "b"],
                                  classlabels_ints=[1, 2]), f3, [("Y", TP.STRING), ("Z", TP.FLOAT)]), "both classlabels_ints and"
    yield "zipmap_string_twice", zipmap_model([2, 3], ["a", "b", "a"]), 'label "a" is given twice'
    yield "one_hot_wrong_cats", model(ml("OneHotEncoder", ["X"], ["Y"], cats_strings=["a"]), f3, [("Y", TP.FLOAT)]), "needs cats_int64s"
    yield "category_mapper_twice", model(ml("CategoryMapper", ["X"], ["Y"], cats_strings=["a", "a"], cats_int64s=[1, 2]),
                                         [("X", TP.STRING, [2])], [("Y", TP.INT64)]), 'lists "a" twice'
    yield "category_mapper_twice_first", model(ml("CategoryMapper", ["X"], ["Y"], cats_strings=["b", "a", "b", "a"],
                                                  cats_int64s=[1, 2, 3, 4]), [("X", TP.STRING, [2])], [("Y", TP.INT64)]), \
        'lists "b" twice'
    yield "category_mapper_float", model(ml("CategoryMapper", ["X"], ["Y"], cats_strings=["a"], cats_int64s=[1]),
                                         f3, [("Y", TP.STRING)]), "X must be string or int64"
    yield "label_encoder_strings", model(ml("LabelEncoder", ["X"], ["Y"], keys_strings=["a"], values_floats=[1.0]),
                                         f3, [("Y", TP.FLOAT)], ml=2), "X of type f32 with keys of type str"
    yield "svc_proba", model(ml("SVMClassifier", ["X"], ["Y", "Z"], classlabels_ints=[0, 1], vectors_per_class=[1, 1],
                                support_vectors=[0.0] * 6, coefficients=[1.0, -1.0], rho=[0.0], prob_a=[1.0, 2.0], prob_b=[0.0],
                                kernel_type="RBF", kernel_params=[0.1, 0, 0]), f3, [("Y", TP.INT64), ("Z", TP.FLOAT)]), "prob_a"
    yield "unknown_attr", model(ml("Binarizer", ["X"], ["Y"], threshold=0.3, bogus=1), f3, [("Y", TP.FLOAT)]), "bogus"
    yield "one_hot_zeros0", model(ml("OneHotEncoder", ["X"], ["Y"], cats_int64s=[1], zeros=0), f3, [("Y", TP.FLOAT)]), "zeros"
    m = model(oh.make_node("Relu", ["X"], ["Y"], name="relu"), f3, [("Y", TP.FLOAT)])
    del m.opset_import[0]  # ai.onnx.ml alone
    yield "ml_only_default_node", m, "imports no opset of the default ONNX domain"
    yield "ml_opset_6", model(ml("Binarizer", ["X"], ["Y"]), f3, [("Y", TP.FLOAT)], ml=6), "ai.onnx.ml domain is outside"
    yield "huge_targets", model(ml("TreeEnsembleRegressor", ["X"], ["Y"], n_targets=10**12, nodes_treeids=[0], nodes_nodeids=[0],
                                   nodes_featureids=[0], nodes_values=[0.0], nodes_modes=["LEAF"], nodes_truenodeids=[0],
                                   nodes_falsenodeids=[0], target_treeids=[0], target_nodeids=[0], target_ids=[0],
                                   target_weights=[1.0]), f3, [("Y", TP.FLOAT)]), "--max-elements"
    yield "tree_cycle", model(ml("TreeEnsembleRegressor", ["X"], ["Y"], n_targets=1, nodes_treeids=[0, 0], nodes_nodeids=[0, 1],
                                 nodes_featureids=[0, 0], nodes_values=[0.0, 0.0], nodes_modes=["BRANCH_LEQ", "BRANCH_LEQ"],
                                 nodes_truenodeids=[1, 0], nodes_falsenodeids=[1, 0], target_treeids=[0], target_nodeids=[0],
                                 target_ids=[0], target_weights=[1.0]), f3, [("Y", TP.FLOAT)]), "not trees"
    yield "other_domain", model(oh.make_node("Foo", ["X"], ["Y"], domain="com.example", name="foo"), f3,
                                [("Y", TP.FLOAT)]), "com.example"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dlc", required=True)
    args = ap.parse_args()
    bad = 0
    with tempfile.TemporaryDirectory(prefix="dlc-mlops-") as work:
        os.environ["TMPDIR"] = work
        for name, m, feeds in cases():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            cmd = [args.dlc, "run", path, "--output", os.path.join(work, name)]
            for k, v in feeds.items():
                np.save(os.path.join(work, f"{name}.{k}.npy"), v)
                cmd += ["--input", f"{k}={os.path.join(work, f'{name}.{k}.npy')}"]
            if name in REFERENCE:  # where ONNX Runtime departs from the specification
                want = ReferenceEvaluator(m).run(None, feeds)
            else:
                want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, feeds)
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL {name}: {r.stderr.strip()}")
                bad += 1
                continue
            msgs = []
            for o, b in zip(m.graph.output, want):
                a = np.load(os.path.join(work, name, o.name + ".npy"))
                if isinstance(b, list):  # ZipMap's maps: the values NAME, the keys NAME.keys
                    keys = np.load(os.path.join(work, name, o.name + ".keys.npy")).tolist()
                    b = maps_as_table(b, keys)
                    if b is None:
                        msgs.append(f"{o.name}: keys {keys} are not ONNX Runtime's")
                        continue
                if b.dtype == object:  # strings: ONNX Runtime's str objects, dlc's '<U' array
                    b = b.astype(str)
                    if a.shape != b.shape or a.dtype.kind != "U" or (a != b).any():
                        msgs.append(f"{o.name}: {a.tolist()} against ONNX Runtime's {b.tolist()}")
                elif a.shape != b.shape or a.dtype != b.dtype:
                    msgs.append(f"{o.name} is {a.dtype}{list(a.shape)}, ONNX Runtime's {b.dtype}{list(b.shape)}")
                elif not np.allclose(a, b, rtol=TOL, atol=TOL, equal_nan=True):
                    msgs.append(f"{o.name} differs by {np.nanmax(np.abs(a.astype(np.float64) - b)):.3g}:\n{a}\n{b}")
            print(f"{'FAIL' if msgs else 'ok  '} {name}{': ' + '; '.join(msgs) if msgs else ''}")
            bad += bool(msgs)
        for name, m, want in refusals():
            path = os.path.join(work, name + ".onnx")
            onnx.save(m, path)
            r = subprocess.run([args.dlc, "compile", path, "-o", os.path.join(work, name + ".c")], capture_output=True, text=True)
            err = r.stderr.strip()
            ok = r.returncode == 1 and want in err and len(err.splitlines()) == 1
            print(f"{'ok  ' if ok else 'FAIL'} refused {name}: {err}")
            bad += not ok
    print(f"FAIL: {bad} case(s)" if bad else "all ai.onnx.ml cases agree with ONNX Runtime")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
