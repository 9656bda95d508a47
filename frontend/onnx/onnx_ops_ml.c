/* onnx_ops_ml.c — the ai.onnx.ml domain (what skl2onnx exports scikit-learn models
 * with), built from core ops like any operator: linear models as a matmul, SVMs as a
 * kernel matrix and a matmul, tree ensembles as gathers, compares and selects unrolled
 * over the trees' depth (every tree of the ensemble walked at once, one level a step).
 *
 * Semantics follow the ai.onnx.ml specification and onnx's reference implementation
 * (onnx.reference.ops.aionnxml).  Strings (str values) are labels, keys and categories
 * like numbers: a classifier's string labels are looked up by position.  ZipMap's maps
 * all have the same keys, so they are kept as a table of values beside the keys.  Every
 * table these operators carry is an attribute, so every table is a constant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_fe.h"

#define ML_PI 3.14159265358979323846

/* ---- composing, each returning an id or -1 (checked by the callers) ----------------- */

static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int cast(OnnxCtx *c, int x, DType t) { return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t); }
static int reduce(OnnxCtx *c, Op op, int x, int64_t axis, bool keep) {
  return x < 0 ? -1 : ir_reduce(c->g, op, x, &axis, 1, keep);
}
static int matmul(OnnxCtx *c, int a, int b, bool tb) { return a < 0 || b < 0 ? -1 : ir_matmul(c->g, a, b, false, tb); }
static int gather(OnnxCtx *c, int x, int idx, int64_t axis) {
  if (x < 0 || idx < 0) return -1;
  Attr a = attr_int(A_AXIS, axis);
  int in[2] = {x, idx};
  return ir_add(c->g, OP_GATHER, in, 2, &a, 1);
}
static int argmax(OnnxCtx *c, int x, int64_t axis) {
  if (x < 0) return -1;
  Attr a[2] = {attr_int(A_AXIS, axis), attr_int(A_KEEPDIMS, 0)};
  return ir_add(c->g, OP_ARGMAX, &x, 1, a, 2);
}
static int concat(OnnxCtx *c, const int *v, int nv, int64_t axis) {
  for (int i = 0; i < nv; i++)
    if (v[i] < 0) return -1;
  Attr a = attr_int(A_AXIS, axis);
  return nv == 1 ? v[0] : ir_add(c->g, OP_CONCAT, v, nv, &a, 1);
}
static int broadcast(OnnxCtx *c, int x, const int64_t *d, int r) {
  if (x < 0) return -1;
  Attr a = attr_ints(A_SHAPE, d, r);
  return ir_add(c->g, OP_BROADCAST, &x, 1, &a, 1);
}
/* Columns [a, b) of a [N, K] matrix. */
static int columns(OnnxCtx *c, int x, int64_t a, int64_t b) {
  if (x < 0) return -1;
  int64_t st[2] = {0, a}, en[2] = {shape_of(c, x)->d[0], b}, sp[2] = {1, 1};
  Attr at[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  return ir_add(c->g, OP_SLICE, &x, 1, at, 3);
}

/* A constant of dtype t from doubles, of shape d[0..r-1]. */
static int cst(OnnxCtx *c, DType t, const double *v, const int64_t *d, int r) {
  Shape s = {.rank = r};
  for (int i = 0; i < r; i++) s.d[i] = d[i];
  int64_t cnt = shape_numel(&s);
  void *p = arena_alloc(c->g->arena, (size_t)(cnt ? cnt : 1) * (size_t)dtype_size(t));
  for (int64_t i = 0; i < cnt; i++) dtype_store(t, p, i, v[i]);
  return ir_const(c->g, NULL, t, s, p);
}
static int cst_i64(OnnxCtx *c, const int64_t *v, const int64_t *d, int r) {
  Shape s = {.rank = r};
  for (int i = 0; i < r; i++) s.d[i] = d[i];
  return ir_const(c->g, NULL, DT_I64, s, v);
}
static int vec(OnnxCtx *c, DType t, const double *v, int64_t len) { return cst(c, t, v, &len, 1); }
static int vec_i64(OnnxCtx *c, const int64_t *v, int64_t len) { return cst_i64(c, v, &len, 1); }

static void *zalloc(OnnxCtx *c, int64_t n, size_t size) { return arena_alloc(c->g->arena, (size_t)(n > 0 ? n : 1) * size); }

/* The float type a model computes in: f64 stays, everything else becomes f32. */
static DType ftype(OnnxCtx *c, int x) { return dtype_of(c, x) == DT_F64 ? DT_F64 : DT_F32; }

/* ---- attributes: whole lists, in the arena ------------------------------------------ */

/* An INTS attribute: its count (-1 when absent), the values in *out. */
static int ints_attr(OnnxCtx *c, OnnxNode *n, const char *name, int64_t **out) {
  int cnt = onnx_attr_ints(n, name, NULL, 0);
  *out = NULL;
  if (cnt < 0) return -1;
  *out = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(cnt + 1));
  onnx_attr_ints(n, name, *out, cnt);
  return cnt;
}

/* A TENSOR attribute's values as doubles: count, -1 when absent, -2 on error (reported).
 * *dt gets its DType when dt is given. */
static int tensor_attr(OnnxCtx *c, OnnxNode *n, const char *name, double **out, DType *dt) {
  const Onnx__AttributeProto *a = onnx_attr(n, name);
  *out = NULL;
  if (!a) return -1;
  if (!a->t) return onnx_fail(c, n, "attribute '%s' must be a tensor", name), -2;
  if (a->t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__STRING)
    return onnx_fail(c, n, "attribute '%s' holds strings, which this operator does not take", name), -2;
  int id = onnx_tensor_node(c, a->t, NULL, false);
  if (id < 0) return -2;
  int cnt = (int)shape_numel(shape_of(c, id));
  *out = arena_alloc(c->g->arena, sizeof(double) * (size_t)(cnt + 1));
  onnx_const_doubles(c, id, *out, cnt);
  if (dt) *dt = dtype_of(c, id);
  return cnt;
}

/* A FLOATS attribute, or its `NAME_as_tensor` twin (the double-precision form):
 * count, -1 when both are absent, -2 on error. */
static int floats_attr(OnnxCtx *c, OnnxNode *n, const char *name, double **out) {
  int cnt = onnx_attr_floats(n, name, NULL, 0);
  char tn[64];
  snprintf(tn, sizeof tn, "%s_as_tensor", name);
  if (cnt >= 0) {
    *out = arena_alloc(c->g->arena, sizeof(double) * (size_t)(cnt + 1));
    onnx_attr_floats(n, name, *out, cnt);
    double *t;
    int nt = tensor_attr(c, n, tn, &t, NULL);
    if (nt == -2) return -2;
    if (nt >= 0) *out = t, cnt = nt; /* the tensor holds the exact values */
    return cnt;
  }
  return tensor_attr(c, n, tn, out, NULL);
}

/* X as a [N, F] matrix: a vector is one row. */
static int as_matrix(OnnxCtx *c, OnnxNode *n, int x) {
  if (x < 0) return onnx_fail_ir(c, n);
  const Shape *s = shape_of(c, x);
  if (s->rank == 2) return x;
  if (s->rank != 1) return onnx_fail(c, n, "X must be [N, F] or [F], not rank %d", s->rank);
  int64_t d[2] = {1, s->d[0]};
  int y = reshape(c, x, d, 2);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

static int need_numeric(OnnxCtx *c, OnnxNode *n, int x) {
  DType t = dtype_of(c, x);
  if (t == DT_BOOL) return onnx_fail(c, n, "X of type %s is not supported", dtype_name(t));
  return 0;
}

/* ---- post transforms: NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT ------------------- */

typedef enum { PT_NONE, PT_SOFTMAX, PT_LOGISTIC, PT_SOFTMAX_ZERO, PT_PROBIT } PostT;
static const char *const post_names[] = {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"};

static int post_parse(OnnxCtx *c, OnnxNode *n, PostT *pt) {
  const char *s = onnx_attr_str(c, n, "post_transform", "NONE");
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, post_names[i])) return *pt = (PostT)i, 0;
  return onnx_fail(c, n, "post_transform '%s' is not one of NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO, PROBIT", s);
}

/* 1 / (1 + exp(-x)), without overflow: from exp(-|x|). */
static int logistic(OnnxCtx *c, int x) {
  int v = un(c, OP_RECIP, bin(c, OP_ADD, k(c, x, 1), un(c, OP_EXP, un(c, OP_NEG, un(c, OP_ABS, x)))));
  return sel(c, bin(c, OP_LT, x, k(c, x, 0)), bin(c, OP_SUB, k(c, x, 1), v), v);
}

/* Row-wise over the last axis of [N, K]. */
static int softmax(OnnxCtx *c, int x) {
  int e = un(c, OP_EXP, bin(c, OP_SUB, x, reduce(c, OP_REDUCE_MAX, x, 1, true)));
  return bin(c, OP_DIV, e, reduce(c, OP_REDUCE_SUM, e, 1, true));
}

/* Softmax that leaves zeros (|v| <= 1e-7) nearly zero: exp(v - max) for the others,
 * v * exp(-max) for them; a row summing to 0 becomes 0.5 everywhere (the reference's). */
static int softmax_zero(OnnxCtx *c, int x) {
  int mx = reduce(c, OP_REDUCE_MAX, x, 1, true);
  int big = bin(c, OP_GT, un(c, OP_ABS, x), k(c, x, 1e-7));
  int e = sel(c, big, un(c, OP_EXP, bin(c, OP_SUB, x, mx)), bin(c, OP_MUL, x, un(c, OP_EXP, un(c, OP_NEG, mx))));
  int s = reduce(c, OP_REDUCE_SUM, e, 1, true);
  int zero = bin(c, OP_EQ, s, k(c, x, 0));
  int y = bin(c, OP_DIV, e, sel(c, zero, k(c, x, 1), s));
  return sel(c, zero, k(c, x, 0.5), y);
}

/* sqrt(2) * erfinv(2x - 1), with the approximation of erfinv both ONNX's reference and
 * ONNX Runtime use (Winitzki's, a = 0.147). */
static int probit(OnnxCtx *c, int x) {
  int y = bin(c, OP_SUB, bin(c, OP_MUL, x, k(c, x, 2)), k(c, x, 1));
  int sgn = sel(c, bin(c, OP_LT, y, k(c, x, 0)), k(c, x, -1), k(c, x, 1));
  int t = bin(c, OP_MUL, bin(c, OP_SUB, k(c, x, 1), y), bin(c, OP_ADD, k(c, x, 1), y));
  int t0 = bin(c, OP_EQ, t, k(c, x, 0));
  int lg = un(c, OP_LOG, sel(c, t0, k(c, x, 1), t));
  int v = bin(c, OP_ADD, k(c, x, 2.0 / (ML_PI * 0.147)), bin(c, OP_MUL, k(c, x, 0.5), lg));
  int v2 = bin(c, OP_MUL, k(c, x, 1.0 / 0.147), lg);
  int v3 = bin(c, OP_SUB, un(c, OP_SQRT, bin(c, OP_SUB, bin(c, OP_MUL, v, v), v2)), v);
  int r = bin(c, OP_MUL, bin(c, OP_MUL, sgn, un(c, OP_SQRT, v3)), k(c, x, 1.41421356));
  return sel(c, t0, k(c, x, 0), r);
}

static int post_apply(OnnxCtx *c, int x, PostT pt) {
  switch (pt) {
  case PT_NONE: return x;
  case PT_SOFTMAX: return softmax(c, x);
  case PT_LOGISTIC: return logistic(c, x);
  case PT_SOFTMAX_ZERO: return softmax_zero(c, x);
  case PT_PROBIT: return probit(c, x);
  }
  return -1;
}

/* labels[index], or the index itself without labels. */
static int label_of(OnnxCtx *c, int idx, const int64_t *labels, int nl) {
  return nl > 0 ? gather(c, vec_i64(c, labels, nl), idx, 0) : idx;
}

/* A classifier's labels: the int64 attribute `ints`, or `strs` (classlabels_strings).
 * String labels are computed as their positions (*cl = 0, 1, ..): string_labels() then
 * turns the position into the string.  Count (-1 when neither is given), or -2 after an
 * error; *sv the strings, or NULL. */
static int class_labels(OnnxCtx *c, OnnxNode *n, const char *ints, int64_t **cl, const char ***sv) {
  *sv = NULL;
  int ns = onnx_attr_strs(c, n, "classlabels_strings", sv);
  if (ns == -2) return -2;
  if (ns < 0) return ints_attr(c, n, ints, cl);
  if (onnx_attr(n, ints)) return onnx_fail(c, n, "both %s and classlabels_strings are given", ints), -2;
  if (ns < 2) return onnx_fail(c, n, "classlabels_strings has %d label%s: string labels need two or more", ns, ns == 1 ? "" : "s"), -2;
  *cl = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)ns);
  for (int i = 0; i < ns; i++) (*cl)[i] = i;
  return ns;
}

/* The label of position lab: sv[lab] for string labels, else lab itself. */
static int string_labels(OnnxCtx *c, int lab, const char *const *sv, int n) {
  if (!sv || lab < 0) return lab;
  return gather(c, ir_const(c->g, NULL, DT_STR, (Shape){.rank = 1, .d = {n}}, sv), lab, 0);
}

/* ---- ZipMap: a sequence of maps that share their keys ---------------------------------- */

/* X [N, C] (or [C], one row) becomes N maps from the C labels to a row's values.  Every map
 * has the same keys, so the sequence is kept as the values and the keys (an ONNX_MAPS code,
 * onnx_ops_seq.c); a graph output of it is the outputs NAME [N, C] and NAME.keys [C]. */
int onnx_ZipMap(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int64_t *cl = NULL;
  const char **sv = NULL;
  int ncl = onnx_attr_strs(c, n, "classlabels_strings", &sv);
  if (ncl == -2) return -1;
  if (ncl >= 0 && onnx_attr(n, "classlabels_int64s")) return onnx_fail(c, n, "both classlabels_int64s and classlabels_strings are given");
  if (ncl < 0) ncl = ints_attr(c, n, "classlabels_int64s", &cl);
  if (ncl < 0) return onnx_fail(c, n, "needs the attribute classlabels_int64s (or classlabels_strings)");
  int x = n->in[0];
  if (dtype_of(c, x) != DT_F32) return onnx_fail(c, n, "X must be float, not %s", dtype_name(dtype_of(c, x)));
  const Shape *s = shape_of(c, x);
  if (s->rank != 1 && s->rank != 2) return onnx_fail(c, n, "X must be [N, C] or [C], not rank %d", s->rank);
  int64_t cols = s->d[s->rank - 1];
  if (cols != ncl) return onnx_fail(c, n, "X has %lld columns for %d labels", (long long)cols, ncl);
  int i = onnx_first_repeat(c, sv, cl, ncl, NULL);
  if (i >= 0 && sv) return onnx_fail(c, n, "label \"%s\" is given twice (a map has each key once)", sv[i]);
  if (i >= 0) return onnx_fail(c, n, "label %lld is given twice (a map has each key once)", (long long)cl[i]);
  int v[2];
  if (s->rank == 1) {
    int64_t d[2] = {1, cols};
    ONNX_TRY(c, n, v[0] = ir_reshape(c->g, x, d, 2));
  } else
    v[0] = x;
  ONNX_TRY(c, n, v[1] = sv ? ir_const(c->g, NULL, DT_STR, (Shape){.rank = 1, .d = {ncl}}, sv) : vec_i64(c, cl, ncl));
  n->out[0] = onnx_seq_make(c, ONNX_MAPS, v, 2, DT_F32);
  return 0;
}

/* ---- LinearClassifier, LinearRegressor ------------------------------------------------ */

/* x [N, F] times the rows of `coefficients` ([R, F]) plus `intercepts` ([R] or none). */
static int linear_scores(OnnxCtx *c, OnnxNode *n, int x, int64_t *rows) {
  double *w, *b;
  int64_t f = shape_of(c, x)->d[1];
  int nw = floats_attr(c, n, "coefficients", &w), nb = floats_attr(c, n, "intercepts", &b);
  if (nw == -2 || nb == -2) return -1;
  if (nw <= 0 || f == 0 || nw % f) return onnx_fail(c, n, "coefficients (%d values) are not a multiple of X's %lld features", nw, (long long)f);
  *rows = nw / f;
  if (nb > 0 && nb != *rows) return onnx_fail(c, n, "intercepts has %d values for %lld rows of coefficients", nb, (long long)*rows);
  DType t = dtype_of(c, x);
  int64_t d[2] = {*rows, f};
  int s = matmul(c, x, cst(c, t, w, d, 2), true);
  if (nb > 0) s = bin(c, OP_ADD, s, vec(c, t, b, nb));
  return s < 0 ? onnx_fail_ir(c, n) : s;
}

int onnx_LinearClassifier(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = as_matrix(c, n, cast(c, n->in[0], ftype(c, n->in[0])));
  PostT pt = PT_NONE;
  int64_t *cl, rows;
  const char **sv;
  int ncl = class_labels(c, n, "classlabels_ints", &cl, &sv);
  if (ncl == -2) return -1;
  onnx_attr_ignore(n, "multi_class"); /* the reference and ONNX Runtime compute the same for either */
  if (x < 0 || post_parse(c, n, &pt)) return -1;
  int s = linear_scores(c, n, x, &rows);
  if (s < 0) return -1;
  if (rows == 1 && ncl == 2) { /* one score for two classes: [-s, s] */
    int two[2] = {un(c, OP_NEG, s), s};
    s = concat(c, two, 2, 1);
  }
  s = post_apply(c, s, pt);
  int lab;
  if (s >= 0 && shape_of(c, s)->d[1] > 1) lab = label_of(c, argmax(c, s, 1), cl, ncl);
  else { /* one column: a threshold, the first label or 0 */
    int64_t nn = shape_of(c, x)->d[0];
    int ge = reshape(c, bin(c, OP_GE, s, k(c, s, pt == PT_NONE ? 0 : 0.5)), &nn, 1);
    int64_t one = ncl > 0 ? cl[0] : 1, zero = 0;
    lab = sel(c, ge, cst_i64(c, &one, NULL, 0), cst_i64(c, &zero, NULL, 0));
  }
  lab = string_labels(c, lab, sv, ncl);
  if (lab < 0 || (s = cast(c, s, DT_F32)) < 0) return onnx_fail_ir(c, n);
  n->out[0] = lab, n->out[1] = s; /* scores are float whatever X is */
  return 0;
}

int onnx_LinearRegressor(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = as_matrix(c, n, cast(c, n->in[0], ftype(c, n->in[0])));
  PostT pt = PT_NONE;
  int64_t rows, targets = onnx_attr_int(n, "targets", 1);
  if (x < 0 || post_parse(c, n, &pt)) return -1;
  int s = linear_scores(c, n, x, &rows);
  if (s < 0) return -1;
  if (rows != targets) return onnx_fail(c, n, "coefficients hold %lld rows for %lld targets", (long long)rows, (long long)targets);
  ONNX_TRY(c, n, n->out[0] = cast(c, post_apply(c, s, pt), DT_F32));
  return 0;
}

/* ---- Normalizer, Scaler, Binarizer, Imputer ------------------------------------------- */

int onnx_Normalizer(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = cast(c, n->in[0], ftype(c, n->in[0]));
  if (x < 0) return onnx_fail_ir(c, n);
  int r = shape_of(c, x)->rank;
  if (r != 1 && r != 2) return onnx_fail(c, n, "X must be [N, C] or [C], not rank %d", r);
  const char *norm = onnx_attr_str(c, n, "norm", "MAX");
  int d;
  if (!strcmp(norm, "MAX")) d = reduce(c, OP_REDUCE_MAX, un(c, OP_ABS, x), r - 1, true);
  else if (!strcmp(norm, "L1")) d = reduce(c, OP_REDUCE_SUM, un(c, OP_ABS, x), r - 1, true);
  else if (!strcmp(norm, "L2")) d = un(c, OP_SQRT, reduce(c, OP_REDUCE_SUM, bin(c, OP_MUL, x, x), r - 1, true));
  else return onnx_fail(c, n, "norm '%s' is not one of MAX, L1, L2", norm);
  ONNX_TRY(c, n, n->out[0] = cast(c, bin(c, OP_DIV, x, bin(c, OP_MAX, d, k(c, x, 1e-30))), DT_F32));
  return 0;
}

/* A per-feature list (one value, or one per feature of X's last axis) as a constant. */
static int per_feature(OnnxCtx *c, OnnxNode *n, int x, const char *name, const double *v, int nv, DType t) {
  const Shape *s = shape_of(c, x);
  int64_t f = s->rank ? s->d[s->rank - 1] : 1;
  if (nv != 1 && nv != f)
    return onnx_fail(c, n, "attribute '%s' has %d values for %lld features (1 or one each)", name, nv, (long long)f);
  return vec(c, t, v, nv);
}

int onnx_Scaler(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = cast(c, n->in[0], ftype(c, n->in[0]));
  if (x < 0) return onnx_fail_ir(c, n);
  double *off, *sc;
  int noff = floats_attr(c, n, "offset", &off), nsc = floats_attr(c, n, "scale", &sc);
  if (noff == -2 || nsc == -2) return -1;
  DType t = dtype_of(c, x);
  double zero = 0, one = 1;
  int o = noff > 0 ? per_feature(c, n, x, "offset", off, noff, t) : vec(c, t, &zero, 1);
  int s = nsc > 0 ? per_feature(c, n, x, "scale", sc, nsc, t) : vec(c, t, &one, 1);
  if (o < 0 || s < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = cast(c, bin(c, OP_MUL, bin(c, OP_SUB, x, o), s), DT_F32));
  return 0;
}

int onnx_Binarizer(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = n->in[0];
  double th = onnx_attr_float(n, "threshold", 0);
  int gt = dtype_is_float(dtype_of(c, x)) ? bin(c, OP_GT, x, k(c, x, th)) : bin(c, OP_GT, cast(c, x, DT_F64), ir_scalar(c->g, DT_F64, th));
  ONNX_TRY(c, n, n->out[0] = cast(c, gt, dtype_of(c, x)));
  return 0;
}

int onnx_Imputer(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = n->in[0];
  double *fv;
  int64_t *iv;
  int nf = floats_attr(c, n, "imputed_value_floats", &fv), ni = ints_attr(c, n, "imputed_value_int64s", &iv);
  double rf = onnx_attr_float(n, "replaced_value_float", 0);
  int64_t ri = onnx_attr_int(n, "replaced_value_int64", 0);
  if (nf == -2) return -1;
  if (shape_of(c, x)->rank != 2) return onnx_fail(c, n, "X must be a matrix [N, F]");
  bool fl = nf > 0;
  if (!fl && ni <= 0) return onnx_fail(c, n, "needs imputed_value_floats or imputed_value_int64s");
  if (fl != dtype_is_float(dtype_of(c, x)))
    return onnx_fail(c, n, "X of type %s with imputed_value_%s", dtype_name(dtype_of(c, x)), fl ? "floats" : "int64s");
  int cnt = fl ? nf : ni;
  double *v = fv;
  if (!fl) {
    v = arena_alloc(c->g->arena, sizeof(double) * (size_t)cnt);
    for (int i = 0; i < cnt; i++) v[i] = (double)iv[i];
  }
  int vals = per_feature(c, n, x, fl ? "imputed_value_floats" : "imputed_value_int64s", v, cnt, dtype_of(c, x));
  if (vals < 0) return -1;
  int miss = fl && isnan(rf) ? bin(c, OP_NE, x, x) : bin(c, OP_EQ, x, k(c, x, fl ? rf : (double)ri));
  ONNX_TRY(c, n, n->out[0] = sel(c, miss, vals, x));
  return 0;
}

/* ---- ArrayFeatureExtractor, FeatureVectorizer, OneHotEncoder, LabelEncoder ------------- */

int onnx_ArrayFeatureExtractor(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], y = n->in[1];
  if (dtype_of(c, y) != DT_I64) return onnx_fail(c, n, "Y (the indices) must be int64, not %s", dtype_name(dtype_of(c, y)));
  const Shape *s = shape_of(c, x);
  if (s->rank < 1) return onnx_fail(c, n, "X must have rank 1 or more");
  int64_t cnt = shape_numel(shape_of(c, y));
  if (cnt == 0) return onnx_fail(c, n, "Y is empty");
  if (ir_const_indices_check(c->g, y, s->d[s->rank - 1], &c->g->err)) return onnx_fail_ir(c, n);
  int64_t d[IR_MAX_RANK];
  int r = s->rank == 1 ? 2 : s->rank;
  for (int i = 0; i < r - 1; i++) d[i] = s->rank == 1 ? 1 : s->d[i];
  d[r - 1] = cnt;
  ONNX_TRY(c, n, n->out[0] = reshape(c, gather(c, x, reshape(c, y, &cnt, 1), s->rank - 1), d, r));
  return 0;
}

int onnx_FeatureVectorizer(OnnxCtx *c, OnnxNode *n) {
  int64_t *dims;
  int nd = ints_attr(c, n, "inputdimensions", &dims);
  if (n->nin < 1 || nd != n->nin)
    return onnx_fail(c, n, "inputdimensions (%d values) must give one width for each of the %d inputs", nd, n->nin);
  int part[ONNX_MAX_IO];
  int64_t rows = -1;
  for (int i = 0; i < n->nin; i++) {
    if (!has_in(n, i)) return need(c, n, n->nin);
    if (need_numeric(c, n, n->in[i])) return -1;
    int a = cast(c, n->in[i], DT_F32);
    if (a < 0) return onnx_fail_ir(c, n);
    const Shape *s = shape_of(c, a);
    if (s->rank == 1) {
      int64_t d[2] = {s->d[0], 1};
      a = reshape(c, a, d, 2);
    } else if (s->rank != 2) return onnx_fail(c, n, "input %d must have rank 1 or 2, not %d", i, s->rank);
    if (a < 0) return onnx_fail_ir(c, n);
    int64_t w = shape_of(c, a)->d[1], r = shape_of(c, a)->d[0];
    if (rows >= 0 && r != rows) return onnx_fail(c, n, "input %d has %lld rows, input 0 %lld", i, (long long)r, (long long)rows);
    rows = r;
    if (dims[i] < 0) return onnx_fail(c, n, "inputdimensions[%d] is negative", i);
    if (dims[i] < w) a = columns(c, a, 0, dims[i]);
    else if (dims[i] > w) { /* zeros on the right */
      int64_t p[4] = {0, 0, 0, dims[i] - w};
      Attr at[2] = {attr_ints(A_PADS, p, 4), attr_float(A_VALUE, 0)};
      a = ir_add(c->g, OP_PAD, &a, 1, at, 2);
    }
    if ((part[i] = a) < 0) return onnx_fail_ir(c, n);
  }
  ONNX_TRY(c, n, n->out[0] = concat(c, part, n->nin, 1));
  return 0;
}

/* x [...] against the keys: [..., K] bool.  Strings compare byte for byte. */
static int label_hits(OnnxCtx *c, int x, int keys) {
  if (x < 0 || keys < 0) return -1;
  const Shape *s = shape_of(c, x);
  int64_t d[IR_MAX_RANK];
  if (s->rank >= IR_MAX_RANK) return -1;
  for (int i = 0; i < s->rank; i++) d[i] = s->d[i];
  d[s->rank] = 1;
  return bin(c, dtype_of(c, x) == DT_STR ? OP_STR_EQ : OP_EQ, reshape(c, x, d, s->rank + 1), keys);
}

static int str_vec(OnnxCtx *c, const char *const *v, int64_t len) {
  return ir_const(c->g, NULL, DT_STR, (Shape){.rank = 1, .d = {len}}, v);
}

/* X [...] -> [..., C]: 1 where X is category C (cats_int64s for numbers, cats_strings
 * for strings). */
int onnx_OneHotEncoder(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = n->in[0];
  bool str = dtype_of(c, x) == DT_STR;
  int64_t *cats = NULL;
  const char **sv = NULL;
  int nc = str ? onnx_attr_strs(c, n, "cats_strings", &sv) : ints_attr(c, n, "cats_int64s", &cats);
  if (nc == -2) return -1;
  if (nc <= 0) return onnx_fail(c, n, "needs %s (X is %s)", str ? "cats_strings" : "cats_int64s", dtype_name(dtype_of(c, x)));
  if (onnx_attr(n, str ? "cats_int64s" : "cats_strings"))
    return onnx_fail(c, n, "%s is given, but X is %s", str ? "cats_int64s" : "cats_strings", dtype_name(dtype_of(c, x)));
  if (onnx_attr_int(n, "zeros", 1) == 0)
    return onnx_fail(c, n, "zeros=0 (fail on an unknown category) is not supported: generated code cannot fail on a value");
  if (shape_of(c, x)->rank >= IR_MAX_RANK) return onnx_fail(c, n, "X has too high a rank");
  int keys;
  if (str) keys = str_vec(c, sv, nc);
  else if (dtype_is_float(dtype_of(c, x))) {
    double *v = arena_alloc(c->g->arena, sizeof(double) * (size_t)nc);
    for (int i = 0; i < nc; i++) v[i] = (double)cats[i];
    keys = vec(c, dtype_of(c, x), v, nc);
  } else keys = vec_i64(c, cats, nc), x = cast(c, x, DT_I64);
  ONNX_TRY(c, n, n->out[0] = cast(c, label_hits(c, x, keys), DT_F32));
  return 0;
}

/* LabelEncoder's keys or values: the ints, floats, strings or tensor form.  Count, -1
 * when none is given, -2 on error; *t their type, numbers in *v, strings in *sv. */
static int label_list(OnnxCtx *c, OnnxNode *n, const char *what, double **v, const char ***sv, DType *t) {
  char in[40], fl[40], st[40], te[40];
  snprintf(in, sizeof in, "%s_int64s", what), snprintf(fl, sizeof fl, "%s_floats", what);
  snprintf(st, sizeof st, "%s_strings", what), snprintf(te, sizeof te, "%s_tensor", what);
  int64_t *iv;
  int cnt = onnx_attr_strs(c, n, st, sv);
  if (cnt != -1) {
    *t = DT_STR;
    return cnt;
  }
  if ((cnt = ints_attr(c, n, in, &iv)) >= 0) {
    *t = DT_I64;
    *v = arena_alloc(c->g->arena, sizeof(double) * (size_t)(cnt + 1));
    for (int i = 0; i < cnt; i++) (*v)[i] = (double)iv[i];
    return cnt;
  }
  if ((cnt = onnx_attr_floats(n, fl, NULL, 0)) >= 0) {
    *t = DT_F32;
    *v = arena_alloc(c->g->arena, sizeof(double) * (size_t)(cnt + 1));
    onnx_attr_floats(n, fl, *v, cnt);
    return cnt;
  }
  const Onnx__AttributeProto *a = onnx_attr(n, te);
  if (a && a->t && a->t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__STRING) {
    int id = onnx_tensor_node(c, a->t, NULL, false);
    if (id < 0) return -2;
    *t = DT_STR;
    *sv = c->g->nodes[id]->data;
    return (int)shape_numel(shape_of(c, id));
  }
  return tensor_attr(c, n, te, v, t);
}

/* A key given twice maps to its last value, as a dict built in order does: every copy
 * of a key gets the value of its last copy (an order of the indices by key, then index). */
typedef struct KeyAt {
  double key;
  const char *skey; /* string keys */
  int at;
} KeyAt;
static int by_key(const void *a, const void *b) {
  const KeyAt *p = a, *q = b;
  if (p->skey) {
    int d = strcmp(p->skey, q->skey);
    if (d) return d;
    return p->at < q->at ? -1 : p->at > q->at;
  }
  bool pn = isnan(p->key), qn = isnan(q->key); /* NaNs last, in order */
  if (pn != qn) return pn ? 1 : -1;
  if (!pn && p->key != q->key) return p->key < q->key ? -1 : 1;
  return p->at < q->at ? -1 : p->at > q->at;
}
static bool same_key(const KeyAt *p, const KeyAt *q) { return p->skey ? !strcmp(p->skey, q->skey) : p->key == q->key; }
static void dedupe_keys(OnnxCtx *c, const double *kv, const char *const *ks, double *vv, const char **vs, int nk) {
  KeyAt *ord = zalloc(c, nk, sizeof(KeyAt));
  for (int i = 0; i < nk; i++) ord[i] = (KeyAt){ks ? 0 : kv[i], ks ? ks[i] : NULL, i};
  qsort(ord, (size_t)nk, sizeof *ord, by_key);
  for (int i = nk - 1; i > 0; i--)
    if (same_key(&ord[i - 1], &ord[i])) {
      if (vs) vs[ord[i - 1].at] = vs[ord[i].at];
      else vv[ord[i - 1].at] = vv[ord[i].at];
    }
}

/* The value of a key no one matches: default_tensor, else default_string, default_int64
 * or default_float by the values' type (ONNX's defaults: "_Unused", -1, -0.0). */
static int label_default(OnnxCtx *c, OnnxNode *n, DType vt, int like) {
  const Onnx__AttributeProto *a = onnx_attr(n, "default_tensor");
  if (vt == DT_STR) {
    const char *def = onnx_attr_str(c, n, "default_string", "_Unused");
    onnx_attr_ignore(n, "default_int64"), onnx_attr_ignore(n, "default_float");
    if (a && a->t) {
      if (a->t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__STRING || a->t->n_string_data != 1)
        return onnx_fail(c, n, "default_tensor must hold one string, as the values are strings");
      if (!(def = onnx_bytes_str(c, &a->t->string_data[0])))
        return onnx_fail(c, n, "default_tensor holds a NUL byte, which a str value cannot");
    }
    int id = ir_const(c->g, NULL, DT_STR, (Shape){0}, &def);
    return id < 0 ? onnx_fail_ir(c, n) : id;
  }
  if (onnx_attr(n, "default_string")) return onnx_fail(c, n, "default_string is given, but the values are not strings");
  double def = vt == DT_I64 ? (double)onnx_attr_int(n, "default_int64", -1) : onnx_attr_float(n, "default_float", -0.0);
  if (vt != DT_I64) onnx_attr_ignore(n, "default_int64");
  else onnx_attr_ignore(n, "default_float");
  double *dv;
  DType dt;
  int nd = tensor_attr(c, n, "default_tensor", &dv, &dt);
  if (nd == -2) return -1;
  if (nd >= 0) {
    if (nd != 1) return onnx_fail(c, n, "default_tensor must hold one value");
    def = dv[0];
  }
  int id = k(c, like, def);
  return id < 0 ? onnx_fail_ir(c, n) : id;
}

int onnx_LabelEncoder(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  if (c->ml_opset < 2) return onnx_fail(c, n, "LabelEncoder before ai.onnx.ml opset 2 (classes_strings) is not supported");
  double *kv = NULL, *vv = NULL;
  const char **ks = NULL, **vs = NULL;
  DType kt = DT_F32, vt = DT_F32;
  int nk = label_list(c, n, "keys", &kv, &ks, &kt), nv = label_list(c, n, "values", &vv, &vs, &vt);
  if (nk == -2 || nv == -2) return -1;
  if (nk <= 0 || nv != nk) return onnx_fail(c, n, "needs keys and values of the same length (%d and %d)", nk, nv);
  int x = n->in[0];
  if (dtype_of(c, x) == DT_BOOL) return onnx_fail(c, n, "X of type bool is not supported");
  if ((kt == DT_STR) != (dtype_of(c, x) == DT_STR) || dtype_is_float(kt) != dtype_is_float(dtype_of(c, x)))
    return onnx_fail(c, n, "X of type %s with keys of type %s", dtype_name(dtype_of(c, x)), dtype_name(kt));
  if (shape_of(c, x)->rank >= IR_MAX_RANK) return onnx_fail(c, n, "X has too high a rank");
  if (vs) { /* the values' strings are changed below: a copy */
    const char **copy = zalloc(c, nv, sizeof(char *));
    memcpy(copy, vs, sizeof(char *) * (size_t)nv);
    vs = copy;
  }
  dedupe_keys(c, kv, ks, vv, vs, nk);
  int r = shape_of(c, x)->rank;
  int keys = ks ? str_vec(c, ks, nk) : vec(c, dtype_of(c, x), kv, nk);
  int hits = cast(c, label_hits(c, x, keys), DT_I32);
  int found = bin(c, OP_GT, reduce(c, OP_REDUCE_MAX, hits, r, false), ir_scalar(c->g, DT_I32, 0));
  int table = vs ? str_vec(c, vs, nv) : vec(c, vt, vv, nv);
  ONNX_TRY(c, n, table);
  int def = label_default(c, n, vt, table);
  if (def < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = sel(c, found, gather(c, table, argmax(c, hits, r), 0), def));
  return 0;
}

/* ---- CategoryMapper ------------------------------------------------------------------- */

/* Strings to int64s through cats_strings -> cats_int64s, or int64s to strings the other
 * way; an unknown value becomes default_int64 (-1) or default_string ("_Unused").  A
 * value listed twice on the side looked up is refused: ONNX Runtime keeps its first
 * mapping and ONNX's reference its last. */
int onnx_CategoryMapper(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const char **sv = NULL;
  int64_t *iv;
  int ns = onnx_attr_strs(c, n, "cats_strings", &sv), ni = ints_attr(c, n, "cats_int64s", &iv);
  if (ns == -2) return -1;
  if (ns <= 0 || ni != ns) return onnx_fail(c, n, "needs cats_strings and cats_int64s of the same length (%d and %d)", ns, ni);
  int x = n->in[0];
  DType xt = dtype_of(c, x);
  if (xt != DT_STR && xt != DT_I64) return onnx_fail(c, n, "X must be string or int64, not %s", dtype_name(xt));
  if (shape_of(c, x)->rank >= IR_MAX_RANK) return onnx_fail(c, n, "X has too high a rank");
  bool from_str = xt == DT_STR;
  int i = onnx_first_repeat(c, from_str ? sv : NULL, iv, ns, NULL);
  if (i >= 0 && from_str) return onnx_fail(c, n, "cats_strings lists \"%s\" twice", sv[i]);
  if (i >= 0) return onnx_fail(c, n, "cats_int64s lists %lld twice", (long long)iv[i]);
  int keys = from_str ? str_vec(c, sv, ns) : vec_i64(c, iv, ns), table = from_str ? vec_i64(c, iv, ns) : str_vec(c, sv, ns);
  int def;
  if (from_str) {
    int64_t d = onnx_attr_int(n, "default_int64", -1);
    onnx_attr_ignore(n, "default_string");
    def = cst_i64(c, &d, NULL, 0);
  } else {
    const char *d = onnx_attr_str(c, n, "default_string", "_Unused");
    onnx_attr_ignore(n, "default_int64");
    def = ir_const(c->g, NULL, DT_STR, (Shape){0}, &d);
  }
  int r = shape_of(c, x)->rank;
  int hits = cast(c, label_hits(c, x, keys), DT_I32);
  int found = bin(c, OP_GT, reduce(c, OP_REDUCE_MAX, hits, r, false), ir_scalar(c->g, DT_I32, 0));
  ONNX_TRY(c, n, n->out[0] = sel(c, found, gather(c, table, argmax(c, hits, r), 0), def));
  return 0;
}

/* ---- SVMClassifier, SVMRegressor ------------------------------------------------------ */

typedef enum { K_LINEAR, K_POLY, K_RBF, K_SIGMOID } Kernel;

typedef struct Svm {
  Kernel kernel;
  double gamma, coef0, degree; /* kernel_params */
} Svm;

static int svm_parse(OnnxCtx *c, OnnxNode *n, Svm *s) {
  const char *kt = onnx_attr_str(c, n, "kernel_type", "LINEAR");
  static const char *const names[] = {"LINEAR", "POLY", "RBF", "SIGMOID"};
  int i = 0;
  while (i < 4 && strcmp(kt, names[i])) i++;
  if (i == 4) return onnx_fail(c, n, "kernel_type '%s' is not one of LINEAR, POLY, RBF, SIGMOID", kt);
  s->kernel = (Kernel)i;
  double kp[3] = {0, 0, 0};
  int np = onnx_attr_floats(n, "kernel_params", kp, 3);
  if (np > 0 && np != 3) return onnx_fail(c, n, "kernel_params must be [gamma, coef0, degree], not %d values", np);
  if (!(fabs(kp[2]) <= 1e6)) return onnx_fail(c, n, "kernel_params' degree %g is out of range", kp[2]);
  s->gamma = kp[0], s->coef0 = kp[1], s->degree = (double)(int64_t)kp[2];
  return 0;
}

/* The kernel of each row of x [N, F] with each support vector [S, F]: [N, S]. */
static int svm_kernel(OnnxCtx *c, const Svm *s, int x, int sv) {
  if (x < 0 || sv < 0) return -1;
  if (s->kernel == K_RBF) { /* exp(-gamma |x - v|^2), the differences as the reference takes them */
    const Shape *xs = shape_of(c, x), *vs = shape_of(c, sv);
    int64_t dx[3] = {xs->d[0], 1, xs->d[1]}, dv[3] = {1, vs->d[0], vs->d[1]};
    int d = bin(c, OP_SUB, reshape(c, x, dx, 3), reshape(c, sv, dv, 3));
    int ss = reduce(c, OP_REDUCE_SUM, bin(c, OP_MUL, d, d), 2, false);
    return un(c, OP_EXP, bin(c, OP_MUL, ss, k(c, x, -s->gamma)));
  }
  int dot = matmul(c, x, sv, true);
  if (s->kernel == K_LINEAR) return dot;
  int t = bin(c, OP_ADD, bin(c, OP_MUL, dot, k(c, x, s->gamma)), k(c, x, s->coef0));
  if (s->kernel == K_SIGMOID) return un(c, OP_TANH, t);
  return bin(c, OP_POW, t, k(c, x, s->degree));
}

int onnx_SVMRegressor(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = as_matrix(c, n, cast(c, n->in[0], ftype(c, n->in[0])));
  Svm s;
  PostT pt = PT_NONE;
  double *w, *rho, *sv;
  int nw = floats_attr(c, n, "coefficients", &w), nr = floats_attr(c, n, "rho", &rho);
  int nsv = floats_attr(c, n, "support_vectors", &sv);
  int64_t ns = onnx_attr_int(n, "n_supports", 0), one_class = onnx_attr_int(n, "one_class", 0);
  if (x < 0 || svm_parse(c, n, &s) || post_parse(c, n, &pt) || nw == -2 || nr == -2 || nsv == -2) return -1;
  if (pt != PT_NONE) return onnx_fail(c, n, "post_transform '%s' is not defined for SVMRegressor (only NONE)", post_names[pt]);
  if (onnx_attr_int(n, "n_targets", 1) != 1) return onnx_fail(c, n, "n_targets other than 1 is not supported");
  if (nr < 1) return onnx_fail(c, n, "needs rho");
  DType t = dtype_of(c, x);
  int64_t f = shape_of(c, x)->d[1];
  int sc;
  if (ns > 0) {
    if ((double)nsv != (double)ns * (double)f || nw < ns)
      return onnx_fail(c, n, "n_supports %lld with %d support vector values and %d coefficients for %lld features",
                       (long long)ns, nsv, nw, (long long)f);
    int64_t d[2] = {ns, f}, dw[2] = {ns, 1};
    sc = matmul(c, svm_kernel(c, &s, x, cst(c, t, sv, d, 2)), cst(c, t, w, dw, 2), false);
  } else { /* linear: the coefficients are the one weight vector */
    if (nw != f) return onnx_fail(c, n, "%d coefficients for %lld features", nw, (long long)f);
    int64_t dw[2] = {f, 1};
    sc = matmul(c, x, cst(c, t, w, dw, 2), false);
  }
  sc = bin(c, OP_ADD, sc, k(c, x, rho[0]));
  if (one_class) sc = sel(c, bin(c, OP_GT, sc, k(c, sc, 0)), k(c, sc, 1), k(c, sc, -1));
  ONNX_TRY(c, n, n->out[0] = cast(c, sc, DT_F32));
  return 0;
}

/* One-vs-one: for classes i < j, a score per pair, K @ W + rho with W [V, P] holding
 * coefs[j-1] over class i's vectors and coefs[i] over class j's; a positive score is a
 * vote for i, else for j.  *votes gets [N, C]. */
static int svm_pairs(OnnxCtx *c, OnnxNode *n, int kmat, const double *w, const int64_t *per, int ncls,
                     int64_t nvec, const double *rho, int nrho, int *votes) {
  if (kmat < 0) return onnx_fail_ir(c, n);
  int64_t np = (int64_t)ncls * (ncls - 1) / 2;
  if (nrho != np) return onnx_fail(c, n, "rho has %d values for %lld pairs of classes", nrho, (long long)np);
  if (ir_limit_elements("the SVM's pair table", (double)nvec * (double)np + 2.0 * (double)np * ncls, &c->g->err))
    return onnx_fail_ir(c, n);
  double *wp = arena_alloc(c->g->arena, sizeof(double) * (size_t)(nvec * np));
  double *ai = arena_alloc(c->g->arena, sizeof(double) * (size_t)(np * ncls));
  double *aj = arena_alloc(c->g->arena, sizeof(double) * (size_t)(np * ncls));
  int64_t *start = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)ncls);
  for (int i = 1; i < ncls; i++) start[i] = start[i - 1] + per[i - 1];
  int64_t e = 0;
  for (int i = 0; i < ncls; i++)
    for (int j = i + 1; j < ncls; j++, e++) {
      for (int64_t v = 0; v < per[i]; v++) wp[(start[i] + v) * np + e] = w[(j - 1) * nvec + start[i] + v];
      for (int64_t v = 0; v < per[j]; v++) wp[(start[j] + v) * np + e] = w[i * nvec + start[j] + v];
      ai[e * ncls + i] = 1, aj[e * ncls + j] = 1;
    }
  DType t = dtype_of(c, kmat);
  int64_t dw[2] = {nvec, np}, da[2] = {np, ncls};
  int s = bin(c, OP_ADD, matmul(c, kmat, cst(c, t, wp, dw, 2), false), vec(c, t, rho, np));
  int pos = cast(c, bin(c, OP_GT, s, k(c, s, 0)), t);
  *votes = bin(c, OP_ADD, matmul(c, pos, cst(c, t, ai, da, 2), false),
               matmul(c, bin(c, OP_SUB, k(c, pos, 1), pos), cst(c, t, aj, da, 2), false));
  return s;
}

/* Probabilities from the pairwise scores sc [N, P] (libsvm's, as the reference runs it):
 * each pair's Platt sigmoid 1 - logistic(s * prob_a + prob_b), clamped to [1e-7, 1 - 1e-7],
 * then the pairwise coupling of Wu, Lin and Weng, an iteration that stops for a row when
 * its error is under 0.005 / k or after max(100, k) rounds: unrolled, each round's
 * update kept only while the row still runs. */
static int svm_proba(OnnxCtx *c, OnnxNode *n, int sc, const double *pa, const double *pb, int np, int kc) {
  if (sc < 0) return -1;
  DType t = dtype_of(c, sc);
  int64_t rows = shape_of(c, sc)->d[0], e = 0;
  int v = bin(c, OP_ADD, bin(c, OP_MUL, sc, vec(c, t, pa, np)), vec(c, t, pb, np));
  v = bin(c, OP_SUB, k(c, sc, 1), logistic(c, v));
  v = bin(c, OP_MIN, bin(c, OP_MAX, v, k(c, sc, 1e-7)), k(c, sc, 1 - 1e-7));
  int *r = zalloc(c, (int64_t)kc * kc, sizeof(int)); /* r[i * kc + j]: [N, 1] */
  for (int i = 0; i < kc; i++)
    for (int j = i + 1; j < kc; j++, e++) {
      r[i * kc + j] = columns(c, v, e, e + 1);
      r[j * kc + i] = bin(c, OP_SUB, k(c, sc, 1), r[i * kc + j]);
    }
  /* Q [N, k, k]: Q[t][t] = sum over j != t of r[j][t]^2, Q[t][j] = -r[j][t] r[t][j] */
  int *q = zalloc(c, (int64_t)kc * kc, sizeof(int));
  for (int a = 0; a < kc; a++)
    for (int b = 0; b < kc; b++) {
      if (a != b) q[a * kc + b] = un(c, OP_NEG, bin(c, OP_MUL, r[b * kc + a], r[a * kc + b]));
      else {
        int acc = k(c, sc, 0);
        for (int j = 0; j < kc; j++)
          if (j != a) acc = bin(c, OP_ADD, acc, bin(c, OP_MUL, r[j * kc + a], r[j * kc + a]));
        q[a * kc + b] = acc;
      }
    }
  int *qrow = zalloc(c, kc, sizeof(int)), *qtt = zalloc(c, kc, sizeof(int)), *unit = zalloc(c, kc, sizeof(int));
  double *u = zalloc(c, kc, sizeof(double));
  for (int a = 0; a < kc; a++) {
    qrow[a] = concat(c, &q[a * kc], kc, 1); /* [N, k] */
    qtt[a] = q[a * kc + a];
    for (int j = 0; j < kc; j++) u[j] = j == a;
    unit[a] = vec(c, t, u, kc);
  }
  int64_t d3[3] = {rows, kc, 1}, d2[2] = {rows, kc};
  int qm = reshape(c, concat(c, qrow, kc, 1), (int64_t[]){rows, kc, kc}, 3);
  double init = 1.0 / kc;
  int p = broadcast(c, k(c, sc, init), d2, 2), run = -1;
  for (int it = 0; it < (kc > 100 ? kc : 100) && p >= 0; it++) {
    int qp = reshape(c, matmul(c, qm, reshape(c, p, d3, 3), false), d2, 2);
    int pqp = reduce(c, OP_REDUCE_SUM, bin(c, OP_MUL, p, qp), 1, true);
    int err = reduce(c, OP_REDUCE_MAX, un(c, OP_ABS, bin(c, OP_SUB, qp, pqp)), 1, true);
    int go = bin(c, OP_GE, err, k(c, sc, 0.005 / kc));
    run = run < 0 ? go : bin(c, OP_AND, run, go);
    int p2 = p, qp2 = qp, pqp2 = pqp;
    for (int a = 0; a < kc; a++) {
      int qpt = reduce(c, OP_REDUCE_SUM, bin(c, OP_MUL, qp2, unit[a]), 1, true);
      int diff = bin(c, OP_DIV, bin(c, OP_SUB, pqp2, qpt), qtt[a]);
      int one = bin(c, OP_ADD, k(c, sc, 1), diff);
      p2 = bin(c, OP_DIV, bin(c, OP_ADD, p2, bin(c, OP_MUL, diff, unit[a])), one);
      pqp2 = bin(c, OP_DIV, bin(c, OP_ADD, pqp2, bin(c, OP_MUL, diff, bin(c, OP_ADD, bin(c, OP_MUL, diff, qtt[a]),
                                                                            bin(c, OP_MUL, k(c, sc, 2), qpt)))),
                 bin(c, OP_MUL, one, one));
      qp2 = bin(c, OP_DIV, bin(c, OP_ADD, qp2, bin(c, OP_MUL, diff, qrow[a])), one);
    }
    p = sel(c, run, p2, p);
  }
  return p < 0 ? onnx_fail_ir(c, n) : p;
}

/* One score per row [N, 1] for two classes: [-s, s] through the post transform, as the
 * reference writes a second class. */
static int two_columns(OnnxCtx *c, int s, PostT pt) {
  int two[2] = {un(c, OP_NEG, s), s};
  int m = concat(c, two, 2, 1);
  return pt == PT_NONE ? m : post_apply(c, m, pt);
}

int onnx_SVMClassifier(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  int x = as_matrix(c, n, cast(c, n->in[0], ftype(c, n->in[0])));
  Svm s;
  const char **slab;
  PostT pt = PT_NONE;
  double *w, *rho, *sv, *pa, *pb;
  int64_t *cl, *per;
  int nw = floats_attr(c, n, "coefficients", &w), nr = floats_attr(c, n, "rho", &rho);
  int nsv = floats_attr(c, n, "support_vectors", &sv), npa = floats_attr(c, n, "prob_a", &pa);
  int npb = floats_attr(c, n, "prob_b", &pb);
  int ncl = class_labels(c, n, "classlabels_ints", &cl, &slab), nper = ints_attr(c, n, "vectors_per_class", &per);
  if (ncl == -2) return -1;
  if (slab && nr == 1 && ncl != 2)
    return onnx_fail(c, n, "string labels with one rho need two classes (%d are given)", ncl);
  if (x < 0 || svm_parse(c, n, &s) || post_parse(c, n, &pt) || nw == -2 || nr == -2 || nsv == -2 || npa == -2 || npb == -2)
    return -1;
  if (nr < 1) return onnx_fail(c, n, "needs rho");
  DType t = dtype_of(c, x);
  int64_t f = shape_of(c, x)->d[1], nvec = 0;
  int classes = ncl > 1 ? ncl : 1;
  for (int i = 0; i < nper; i++) {
    if (per[i] < 0 || per[i] > nsv) return onnx_fail(c, n, "vectors_per_class[%d] = %lld is out of range", i, (long long)per[i]);
    nvec += per[i];
  }
  int sc, votes = -1;
  bool proba = false;
  if (nvec > 0) {
    if (nper != classes || (double)nsv != (double)nvec * (double)f || (double)nw != (double)(classes - 1) * (double)nvec)
      return onnx_fail(c, n, "vectors_per_class (%d), support_vectors (%d values), coefficients (%d) do not fit %d classes "
                       "and %lld features", nper, nsv, nw, classes, (long long)f);
    int64_t d[2] = {nvec, f};
    sc = svm_pairs(c, n, svm_kernel(c, &s, x, cst(c, t, sv, d, 2)), w, per, classes, nvec, rho, nr, &votes);
    if (sc < 0) return -1;
    if (npa > 0) { /* probabilities replace the pairwise scores */
      int64_t pairs = shape_of(c, sc)->d[1];
      if (npa != pairs || npb != pairs || classes < 2)
        return onnx_fail(c, n, "prob_a (%d values) and prob_b (%d) need one value per pair of classes (%lld)", npa, npb, (long long)pairs);
      if ((sc = svm_proba(c, n, sc, pa, pb, npa, classes)) < 0) return -1;
      proba = true;
    }
  } else { /* linear (whatever kernel_type says, as the reference): one weight row a class, rho[0] for all */
    if (nw != classes * f) return onnx_fail(c, n, "%d coefficients for %d classes and %lld features", nw, classes, (long long)f);
    int64_t d[2] = {classes, f};
    sc = bin(c, OP_ADD, matmul(c, x, cst(c, t, w, d, 2), true), k(c, x, rho[0]));
  }
  int by = votes >= 0 ? votes : sc;
  int mc = argmax(c, by, 1), mw = reduce(c, OP_REDUCE_MAX, by, 1, false);
  bool all_pos = true;
  for (int i = 0; i < nw; i++) all_pos &= w[i] >= 0;
  int lab, out;
  int64_t cols = sc < 0 ? 0 : shape_of(c, sc)->d[1];
  if (nr == 1 && ncl == 2) {
    lab = label_of(c, mc, cl, ncl);
    if (all_pos && !proba) lab = sel(c, bin(c, OP_GE, mw, k(c, mw, 0.5)), cst_i64(c, &cl[1], NULL, 0), lab);
  } else if (nr == 1) {
    int64_t one = 1, zero = 0;
    lab = sel(c, bin(c, OP_GT, mw, k(c, mw, 0)), cst_i64(c, &one, NULL, 0), cst_i64(c, &zero, NULL, 0));
  } else lab = label_of(c, mc, cl, ncl);
  lab = string_labels(c, lab, slab, ncl);
  if (cols >= 2) out = post_apply(c, sc, pt);
  else if (pt == PT_PROBIT) out = probit(c, sc);
  else out = nr == 1 && ncl == 2 ? two_columns(c, sc, pt) : sc;
  if (lab < 0 || (out = cast(c, out, DT_F32)) < 0) return onnx_fail_ir(c, n);
  n->out[0] = lab, n->out[1] = out;
  return 0;
}

/* ---- tree ensembles -------------------------------------------------------------------
 * All three operators become one Forest: nodes (leaves too) in flat tables, each tree a
 * root, each leaf a row of what it adds to each target.  Evaluation walks every tree of
 * every row at once: idx [N, T] starts at the roots, and each step reads the node's
 * feature (a gather from X's flattened rows), compares it with the threshold, and moves
 * to the true or false child; a leaf is its own child, so after as many steps as the
 * deepest tree every idx is a leaf.  Then a gather of the leaves' rows, reduced over T. */

enum { M_LEQ, M_LT, M_GTE, M_GT, M_EQ, M_NEQ, M_MEMBER, M_LEAF };
typedef enum { AGG_AVERAGE, AGG_SUM, AGG_MIN, AGG_MAX } Agg;

typedef struct Forest {
  int64_t nn, ntree, k; /* nodes (leaves included), trees, targets */
  int64_t *feat;        /* [nn] */
  double *thr;          /* [nn] */
  uint8_t *mode;        /* [nn] M_* */
  int64_t *tru, *fal;   /* [nn] child indices; a leaf's are itself */
  uint8_t *mvt;         /* [nn] a NaN takes the true branch */
  int64_t *root;        /* [ntree] */
  double *leaf;         /* [nn * k] */
  int64_t nmem;         /* BRANCH_MEMBER: (node, value) pairs */
  int64_t *mem_node;
  double *mem_val;
  bool legacy;          /* a NaN takes the missing branch whatever the mode (the older operators) */
  Agg agg;
} Forest;


static int forest_alloc(OnnxCtx *c, OnnxNode *n, Forest *f, int64_t nn, int64_t ntree, int64_t k, double init) {
  if (ir_limit_elements("a tree ensemble's leaf table", (double)nn * (double)k, &c->g->err)) return onnx_fail_ir(c, n);
  f->nn = nn, f->ntree = ntree, f->k = k;
  f->feat = zalloc(c, nn, sizeof(int64_t)), f->thr = zalloc(c, nn, sizeof(double));
  f->mode = zalloc(c, nn, 1), f->mvt = zalloc(c, nn, 1);
  f->tru = zalloc(c, nn, sizeof(int64_t)), f->fal = zalloc(c, nn, sizeof(int64_t));
  f->root = zalloc(c, ntree, sizeof(int64_t));
  f->leaf = zalloc(c, nn * k, sizeof(double));
  for (int64_t i = 0; i < nn * k; i++) f->leaf[i] = init;
  return 0;
}

/* What a leaf adds to target t under the aggregation. */
static void forest_add(Forest *f, int64_t node, int64_t t, double w) {
  double *p = &f->leaf[node * f->k + t];
  if (f->agg == AGG_MIN) *p = w < *p ? w : *p;
  else if (f->agg == AGG_MAX) *p = w > *p ? w : *p;
  else *p += w;
}

/* The depth of the deepest tree (steps to reach every leaf), or -1 with the error when a
 * child is out of range or a tree loops back. */
static int64_t forest_depth(OnnxCtx *c, OnnxNode *n, const Forest *f, int64_t nfeat) {
  int64_t *st = zalloc(c, f->nn + 1, sizeof(int64_t)), *dep = zalloc(c, f->nn + 1, sizeof(int64_t));
  int64_t deepest = 0, visits = 0;
  for (int64_t t = 0; t < f->ntree; t++) {
    int64_t sp = 0;
    if (f->root[t] < 0 || f->root[t] >= f->nn) return onnx_fail(c, n, "tree %lld's root is out of range", (long long)t);
    st[sp] = f->root[t], dep[sp++] = 0;
    while (sp > 0) {
      int64_t i = st[--sp], d = dep[sp];
      if (++visits > 4 * f->nn || d > f->nn) return onnx_fail(c, n, "the trees are not trees (a node is reached twice)");
      if (f->mode[i] == M_LEAF) {
        deepest = d > deepest ? d : deepest;
        continue;
      }
      if (f->feat[i] < 0 || f->feat[i] >= nfeat)
        return onnx_fail(c, n, "a node reads feature %lld of %lld", (long long)f->feat[i], (long long)nfeat);
      int64_t ch[2] = {f->tru[i], f->fal[i]};
      for (int j = 0; j < 2; j++) {
        if (ch[j] < 0 || ch[j] >= f->nn) return onnx_fail(c, n, "a node's child %lld is out of range", (long long)ch[j]);
        if (sp >= f->nn) return onnx_fail(c, n, "the trees are not trees (a node is reached twice)");
        st[sp] = ch[j], dep[sp++] = d + 1;
      }
    }
  }
  return deepest;
}

/* The per-node tables a step reads, each made once (ids, 0 until made). */
typedef struct Tables {
  int lt, eq, gt, mem, mvt, nan_true, mem_val, mem_node;
} Tables;

static int table_bool(OnnxCtx *c, const Forest *f, bool (*pick)(const Forest *, int64_t), int *cache) {
  if (*cache > 0) return *cache;
  double *v = zalloc(c, f->nn, sizeof(double));
  for (int64_t i = 0; i < f->nn; i++) v[i] = pick(f, i);
  return *cache = vec(c, DT_BOOL, v, f->nn);
}
static bool is_lt(const Forest *f, int64_t i) { return f->mode[i] == M_LT || f->mode[i] == M_LEQ || f->mode[i] == M_NEQ; }
static bool is_eq(const Forest *f, int64_t i) { return f->mode[i] == M_EQ || f->mode[i] == M_LEQ || f->mode[i] == M_GTE; }
static bool is_gt(const Forest *f, int64_t i) { return f->mode[i] == M_GT || f->mode[i] == M_GTE || f->mode[i] == M_NEQ; }
static bool is_mem(const Forest *f, int64_t i) { return f->mode[i] == M_MEMBER; }
static bool is_mvt(const Forest *f, int64_t i) { return f->mvt[i] != 0; }
static bool nan_true(const Forest *f, int64_t i) { return f->mvt[i] || f->mode[i] == M_NEQ; }

/* The branch each node takes for its feature value xv [N, T] (at nodes idx). */
static int forest_branch(OnnxCtx *c, const Forest *f, Tables *tb, int xv, int idx, int th) {
  if (xv < 0 || idx < 0 || th < 0) return -1;
  int one = -1;
  bool any_mvt = false, any_neq = false;
  for (int64_t i = 0; i < f->nn; i++) {
    if (f->mode[i] == M_LEAF) continue;
    any_mvt |= f->mvt[i] != 0, any_neq |= f->mode[i] == M_NEQ;
    one = one == -1 ? f->mode[i] : one == f->mode[i] ? one : -2;
  }
  static const Op cmp[] = {OP_LE, OP_LT, OP_GE, OP_GT, OP_EQ, OP_NE};
  int r;
  if (one >= 0 && one < M_MEMBER) r = bin(c, cmp[one], xv, th);
  else if (one == M_MEMBER) r = bin(c, OP_NE, xv, xv); /* replaced below */
  else {
    int lt = bin(c, OP_AND, bin(c, OP_LT, xv, th), gather(c, table_bool(c, f, is_lt, &tb->lt), idx, 0));
    int eq = bin(c, OP_AND, bin(c, OP_EQ, xv, th), gather(c, table_bool(c, f, is_eq, &tb->eq), idx, 0));
    int gt = bin(c, OP_AND, bin(c, OP_GT, xv, th), gather(c, table_bool(c, f, is_gt, &tb->gt), idx, 0));
    r = bin(c, OP_OR, bin(c, OP_OR, lt, eq), gt);
  }
  if (f->nmem > 0) { /* x equal to one of the node's members: [N, T, M] reduced over M */
    const Shape *s = shape_of(c, xv);
    const Shape *si = shape_of(c, idx);
    int64_t d3[3] = {s->d[0], s->d[1], 1}, di[3] = {si->d[0], si->d[1], 1};
    if (!tb->mem_val) tb->mem_val = vec(c, dtype_of(c, xv), f->mem_val, f->nmem), tb->mem_node = vec_i64(c, f->mem_node, f->nmem);
    int hit = bin(c, OP_AND, bin(c, OP_EQ, reshape(c, xv, d3, 3), tb->mem_val), bin(c, OP_EQ, reshape(c, idx, di, 3), tb->mem_node));
    int any = bin(c, OP_GT, reduce(c, OP_REDUCE_MAX, cast(c, hit, DT_I32), 2, false), ir_scalar(c->g, DT_I32, 0));
    r = one == M_MEMBER ? any : sel(c, gather(c, table_bool(c, f, is_mem, &tb->mem), idx, 0), any, r);
  }
  int nan = bin(c, OP_NE, xv, xv);
  if (f->legacy && (any_mvt || any_neq)) r = sel(c, nan, gather(c, table_bool(c, f, is_mvt, &tb->mvt), idx, 0), r);
  else if (!f->legacy && (any_mvt || (any_neq && one != M_NEQ)))
    r = bin(c, OP_OR, r, bin(c, OP_AND, nan, gather(c, table_bool(c, f, nan_true, &tb->nan_true), idx, 0)));
  return r;
}

/* The ensemble's aggregated leaves for x [N, F] (a float type): [N, k] in type out. */
static int forest_eval(OnnxCtx *c, OnnxNode *n, const Forest *f, int x, DType out) {
  const Shape *xs = shape_of(c, x);
  int64_t rows = xs->d[0], nf = xs->d[1];
  int64_t depth = forest_depth(c, n, f, nf);
  if (depth < 0) return -1;
  if (f->ntree < 1 || f->k < 1) return onnx_fail(c, n, "the ensemble has no trees or no targets");
  for (int64_t i = 0; i < f->nn; i++)
    if (f->mode[i] == M_LEAF) f->tru[i] = f->fal[i] = i, f->feat[i] = 0;
  DType t = dtype_of(c, x);
  int64_t flat = rows * nf, d2[2] = {1, f->ntree}, dr[2] = {rows, 1};
  int64_t *off = zalloc(c, rows, sizeof(int64_t));
  for (int64_t i = 0; i < rows; i++) off[i] = i * nf;
  int xf = reshape(c, x, &flat, 1), rowoff = cst_i64(c, off, dr, 2);
  int feat = vec_i64(c, f->feat, f->nn), thr = vec(c, t, f->thr, f->nn);
  int tru = vec_i64(c, f->tru, f->nn), fal = vec_i64(c, f->fal, f->nn);
  int idx = cst_i64(c, f->root, d2, 2);
  Tables tb = {0};
  for (int64_t step = 0; step < depth && idx >= 0; step++) {
    int xv = gather(c, xf, bin(c, OP_ADD, rowoff, gather(c, feat, idx, 0)), 0);
    int r = forest_branch(c, f, &tb, xv, idx, gather(c, thr, idx, 0));
    idx = sel(c, r, gather(c, tru, idx, 0), gather(c, fal, idx, 0));
  }
  int64_t dn[2] = {rows, f->ntree}, dl[2] = {f->nn, f->k};
  if (depth == 0) idx = broadcast(c, idx, dn, 2);
  int lw = gather(c, cst(c, out, f->leaf, dl, 2), idx, 0); /* [N, T, k] */
  Op op = f->agg == AGG_MIN ? OP_REDUCE_MIN : f->agg == AGG_MAX ? OP_REDUCE_MAX : OP_REDUCE_SUM;
  int y = reduce(c, op, lw, 1, false);
  if (f->agg == AGG_AVERAGE) y = bin(c, OP_DIV, y, k(c, y, (double)f->ntree));
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

static int agg_parse(OnnxCtx *c, OnnxNode *n, Agg *a) {
  const char *s = onnx_attr_str(c, n, "aggregate_function", "SUM");
  static const char *const names[] = {"AVERAGE", "SUM", "MIN", "MAX"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, names[i])) return *a = (Agg)i, 0;
  return onnx_fail(c, n, "aggregate_function '%s' is not one of AVERAGE, SUM, MIN, MAX", s);
}

/* The start value of a leaf's row: what MIN and MAX give a target no leaf adds to. */
static double agg_init(Agg a, DType t) {
  double big = t == DT_F64 ? 1.7976931348623157e308 : 3.4028234663852886e38;
  return a == AGG_MIN ? big : a == AGG_MAX ? -big : 0;
}

/* (tree id, node id) -> index, for the older operators' node references. */
typedef struct NodeKey {
  int64_t tree, node, index;
} NodeKey;
static int key_cmp(const void *a, const void *b) {
  const NodeKey *p = a, *q = b;
  if (p->tree != q->tree) return p->tree < q->tree ? -1 : 1;
  return p->node < q->node ? -1 : p->node > q->node;
}
static int64_t key_find(const NodeKey *keys, int64_t nk, int64_t tree, int64_t node) {
  NodeKey want = {tree, node, 0};
  const NodeKey *k = bsearch(&want, keys, (size_t)nk, sizeof *keys, key_cmp);
  return k ? k->index : -1;
}

/* TreeEnsembleClassifier's and TreeEnsembleRegressor's nodes: nodes_* attributes,
 * trees and nodes by id, modes by name.  *keys for the leaves' weights. */
static int legacy_nodes(OnnxCtx *c, OnnxNode *n, Forest *f, int64_t k, Agg agg, DType out, NodeKey **keys) {
  int64_t *tid, *nid, *fid, *tr, *fa, *mv;
  double *val;
  int nn = ints_attr(c, n, "nodes_treeids", &tid);
  int c1 = ints_attr(c, n, "nodes_nodeids", &nid), c2 = ints_attr(c, n, "nodes_featureids", &fid);
  int c3 = ints_attr(c, n, "nodes_truenodeids", &tr), c4 = ints_attr(c, n, "nodes_falsenodeids", &fa);
  int c5 = ints_attr(c, n, "nodes_missing_value_tracks_true", &mv), c6 = floats_attr(c, n, "nodes_values", &val);
  onnx_attr_ignore(n, "nodes_hitrates"), onnx_attr_ignore(n, "nodes_hitrates_as_tensor"); /* hints only */
  const Onnx__AttributeProto *modes = onnx_attr(n, "nodes_modes");
  if (c6 == -2) return -1;
  if (nn <= 0 || c1 != nn || c2 != nn || c3 != nn || c4 != nn || c6 != nn || (c5 > 0 && c5 != nn) || !modes ||
      modes->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS || (int)modes->n_strings != nn)
    return onnx_fail(c, n, "the nodes_* attributes must all be given, each with one value per node");
  NodeKey *kk = zalloc(c, nn, sizeof(NodeKey));
  int64_t ntree = 0;
  for (int i = 0; i < nn; i++) kk[i] = (NodeKey){tid[i], nid[i], i};
  qsort(kk, (size_t)nn, sizeof *kk, key_cmp);
  for (int i = 0; i < nn; i++) {
    if (i && !key_cmp(&kk[i - 1], &kk[i]))
      return onnx_fail(c, n, "node %lld of tree %lld is given twice", (long long)kk[i].node, (long long)kk[i].tree);
    ntree += !i || kk[i - 1].tree != kk[i].tree;
  }
  if (forest_alloc(c, n, f, nn, ntree, k, agg_init(agg, out))) return -1;
  f->agg = agg, f->legacy = true;
  for (int64_t i = 0, t = -1; i < nn; i++) /* a tree's root: its first node in the lists */
    if (!i || kk[i - 1].tree != kk[i].tree) {
      int64_t first = nn;
      for (int64_t j = i; j < nn && kk[j].tree == kk[i].tree; j++) first = kk[j].index < first ? kk[j].index : first;
      f->root[++t] = first;
    }
  static const char *const names[] = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "", "LEAF"};
  for (int i = 0; i < nn; i++) {
    const ProtobufCBinaryData *s = &modes->strings[i];
    int m = 0;
    while (m < 8 && (strlen(names[m]) != s->len || !*names[m] || memcmp(names[m], s->data, s->len))) m++;
    if (m == 8) return onnx_fail(c, n, "nodes_modes[%d] '%.*s' is not a mode dlc knows", i, (int)(s->len > 40 ? 40 : s->len), (const char *)s->data);
    f->mode[i] = (uint8_t)m, f->feat[i] = fid[i], f->thr[i] = val[i], f->mvt[i] = c5 > 0 && mv[i] != 0;
    if (m == M_LEAF) continue;
    f->tru[i] = key_find(kk, nn, tid[i], tr[i]), f->fal[i] = key_find(kk, nn, tid[i], fa[i]);
    if (f->tru[i] < 0 || f->fal[i] < 0) return onnx_fail(c, n, "node %lld of tree %lld has a child that is not a node",
                                                         (long long)nid[i], (long long)tid[i]);
  }
  *keys = kk;
  return 0;
}

/* The leaves' weights: PREFIX_treeids, _nodeids, _ids, _weights (class_ or target_). */
static int legacy_weights(OnnxCtx *c, OnnxNode *n, Forest *f, const NodeKey *keys, const char *prefix, bool *one_id) {
  char a[4][40];
  snprintf(a[0], 40, "%s_treeids", prefix), snprintf(a[1], 40, "%s_nodeids", prefix);
  snprintf(a[2], 40, "%s_ids", prefix), snprintf(a[3], 40, "%s_weights", prefix);
  int64_t *tid, *nid, *id;
  double *w;
  int nw = ints_attr(c, n, a[0], &tid), n1 = ints_attr(c, n, a[1], &nid), n2 = ints_attr(c, n, a[2], &id);
  int n3 = floats_attr(c, n, a[3], &w);
  if (n3 == -2) return -1;
  if (nw < 0) nw = 0;
  if (nw && (n1 != nw || n2 != nw || n3 != nw))
    return onnx_fail(c, n, "%s, %s, %s and %s must have one value per weight", a[0], a[1], a[2], a[3]);
  *one_id = nw > 0; /* the reference's binary case: one class id among the weights */
  for (int i = 0; i < nw; i++) {
    int64_t at = key_find(keys, f->nn, tid[i], nid[i]);
    if (at < 0) return onnx_fail(c, n, "weight %d names node %lld of tree %lld, which does not exist", i, (long long)nid[i], (long long)tid[i]);
    if (id[i] < 0 || id[i] >= f->k) return onnx_fail(c, n, "%s[%d] = %lld is out of range for %lld", a[2], i, (long long)id[i], (long long)f->k);
    forest_add(f, at, id[i], w[i]);
    *one_id &= id[i] == id[0];
  }
  return 0;
}

/* base_values (one per target, or one for all) added to y [N, k]. */
static int add_base(OnnxCtx *c, OnnxNode *n, int y) {
  double *b;
  int nb = floats_attr(c, n, "base_values", &b);
  if (nb == -2) return -1;
  if (nb <= 0) return y;
  int64_t kk = shape_of(c, y)->d[1];
  if (nb != 1 && nb != kk) return onnx_fail(c, n, "base_values has %d values for %lld targets", nb, (long long)kk);
  int r = bin(c, OP_ADD, y, vec(c, dtype_of(c, y), b, nb));
  return r < 0 ? onnx_fail_ir(c, n) : r;
}

static int tree_input(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1) || need_numeric(c, n, n->in[0])) return -1;
  return as_matrix(c, n, cast(c, n->in[0], ftype(c, n->in[0])));
}

int onnx_TreeEnsembleRegressor(OnnxCtx *c, OnnxNode *n) {
  int x = tree_input(c, n);
  Agg agg = AGG_SUM;
  PostT pt = PT_NONE;
  Forest f = {0};
  NodeKey *keys;
  bool one_id;
  int64_t nt = onnx_attr_int(n, "n_targets", 1);
  if (x < 0 || agg_parse(c, n, &agg) || post_parse(c, n, &pt)) return -1;
  if (nt < 1) return onnx_fail(c, n, "n_targets must be 1 or more");
  DType out = dtype_of(c, x);
  if (legacy_nodes(c, n, &f, nt, agg, out, &keys) || legacy_weights(c, n, &f, keys, "target", &one_id)) return -1;
  int y = forest_eval(c, n, &f, x, out);
  if (y < 0 || (y = add_base(c, n, y)) < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = cast(c, post_apply(c, y, pt), DT_F32));
  return 0;
}

int onnx_TreeEnsembleClassifier(OnnxCtx *c, OnnxNode *n) {
  int x = tree_input(c, n);
  PostT pt = PT_NONE;
  Forest f = {0};
  NodeKey *keys;
  bool one_id;
  int64_t *cl;
  const char **sv;
  if (x < 0 || post_parse(c, n, &pt)) return -1;
  int ncl = class_labels(c, n, "classlabels_int64s", &cl, &sv);
  if (ncl == -2) return -1;
  if (ncl <= 0) return onnx_fail(c, n, "needs classlabels_int64s or classlabels_strings");
  if (ncl == 1 && cl[0] != 1) return onnx_fail(c, n, "one class label must be 1 (the reference's binary case), not %lld", (long long)cl[0]);
  if (legacy_nodes(c, n, &f, ncl, AGG_SUM, DT_F32, &keys) || legacy_weights(c, n, &f, keys, "class", &one_id)) return -1;
  int y = forest_eval(c, n, &f, x, DT_F32);
  if (y < 0 || (y = add_base(c, n, y)) < 0) return -1;
  if (one_id) { /* binary: column 1 the score, column 0 its complement */
    int s = columns(c, y, 0, 1);
    int other = pt == PT_NONE || pt == PT_PROBIT ? bin(c, OP_SUB, k(c, s, 1), s) : un(c, OP_NEG, s);
    int three[3] = {other, s, ncl > 2 ? columns(c, y, 2, ncl) : -1}; /* the reference rewrites columns 0 and 1 only */
    y = concat(c, three, ncl > 2 ? 3 : 2, 1);
  }
  y = post_apply(c, y, pt);
  int am = argmax(c, y, 1), lab;
  if (ncl == 1) {
    int64_t one = 1, zero = 0;
    lab = sel(c, bin(c, OP_EQ, am, cst_i64(c, &one, NULL, 0)), cst_i64(c, &one, NULL, 0), cst_i64(c, &zero, NULL, 0));
  } else lab = label_of(c, am, cl, ncl);
  lab = string_labels(c, lab, sv, ncl);
  if (lab < 0 || y < 0) return onnx_fail_ir(c, n);
  n->out[0] = lab, n->out[1] = y;
  return 0;
}

/* TreeEnsemble (ai.onnx.ml opset 5): nodes and leaves in separate lists, modes as a
 * uint8 tensor, BRANCH_MEMBER sets in membership_values (NaN after each set, in the
 * order of the member nodes). */
int onnx_TreeEnsemble(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = as_matrix(c, n, n->in[0]);
  if (x < 0) return -1;
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "X must be a float type, not %s", dtype_name(dtype_of(c, x)));
  int64_t *fid, *tr, *fa, *tl, *fl, *lt, *roots, *mv;
  double *splits, *modes, *lw, *mem;
  int ni = ints_attr(c, n, "nodes_featureids", &fid);
  int c1 = ints_attr(c, n, "nodes_truenodeids", &tr), c2 = ints_attr(c, n, "nodes_falsenodeids", &fa);
  int c3 = ints_attr(c, n, "nodes_trueleafs", &tl), c4 = ints_attr(c, n, "nodes_falseleafs", &fl);
  int c5 = ints_attr(c, n, "nodes_missing_value_tracks_true", &mv);
  int nl = ints_attr(c, n, "leaf_targetids", &lt), nt = ints_attr(c, n, "tree_roots", &roots);
  int c6 = tensor_attr(c, n, "nodes_splits", &splits, NULL), c7 = tensor_attr(c, n, "nodes_modes", &modes, NULL);
  int c8 = tensor_attr(c, n, "leaf_weights", &lw, NULL), nm = tensor_attr(c, n, "membership_values", &mem, NULL);
  onnx_attr_ignore(n, "nodes_hitrates");
  int64_t agg = onnx_attr_int(n, "aggregate_function", 1), post = onnx_attr_int(n, "post_transform", 0);
  int64_t ntg = onnx_attr_int(n, "n_targets", -1);
  if (c6 == -2 || c7 == -2 || c8 == -2 || nm == -2) return -1;
  if (ni <= 0 || c1 != ni || c2 != ni || c3 != ni || c4 != ni || c6 != ni || c7 != ni || (c5 > 0 && c5 != ni))
    return onnx_fail(c, n, "the nodes_* attributes must all be given, each with one value per node");
  if (nl <= 0 || c8 != nl || nt <= 0) return onnx_fail(c, n, "needs leaf_targetids and leaf_weights of one length, and tree_roots");
  if (agg < 0 || agg > 3) return onnx_fail(c, n, "aggregate_function %lld is not one of 0..3", (long long)agg);
  if (post < 0 || post > 4) return onnx_fail(c, n, "post_transform %lld is not one of 0..4", (long long)post);
  if (ntg < 1) return onnx_fail(c, n, "needs n_targets");
  DType out = dtype_of(c, x);
  Forest f = {0};
  f.agg = (Agg)agg;
  if (forest_alloc(c, n, &f, (int64_t)ni + nl, nt, ntg, agg_init(f.agg, out))) return -1;
  for (int i = 0; i < nt; i++) f.root[i] = roots[i];
  int64_t nmem = 0;
  for (int i = 0; i < ni; i++) {
    if (!(modes[i] >= 0 && modes[i] <= M_MEMBER)) return onnx_fail(c, n, "nodes_modes[%d] = %g is not one of 0..6", i, modes[i]);
    int64_t lim_t = tl[i] ? nl : ni, lim_f = fl[i] ? nl : ni;
    if (tr[i] < 0 || tr[i] >= lim_t || fa[i] < 0 || fa[i] >= lim_f)
      return onnx_fail(c, n, "node %d's child is out of range", i);
    f.mode[i] = (uint8_t)modes[i], f.feat[i] = fid[i], f.thr[i] = splits[i], f.mvt[i] = c5 > 0 && mv[i] != 0;
    f.tru[i] = tl[i] ? ni + tr[i] : tr[i], f.fal[i] = fl[i] ? ni + fa[i] : fa[i];
  }
  for (int i = 0; i < nl; i++) {
    f.mode[ni + i] = M_LEAF;
    if (lt[i] < 0 || lt[i] >= ntg) return onnx_fail(c, n, "leaf_targetids[%d] = %lld is out of range", i, (long long)lt[i]);
    forest_add(&f, ni + i, lt[i], lw[i]);
  }
  /* membership: the sets, one per member node in order, each closed by a NaN */
  f.mem_node = zalloc(c, nm, sizeof(int64_t)), f.mem_val = zalloc(c, nm, sizeof(double));
  for (int i = 0, at = 0; i < ni; i++) {
    if (f.mode[i] != M_MEMBER) continue;
    if (at >= nm) return onnx_fail(c, n, "membership_values has no set for node %d", i);
    for (; at < nm && !isnan(mem[at]); at++) f.mem_node[nmem] = i, f.mem_val[nmem++] = mem[at];
    at++;
  }
  f.nmem = nmem;
  int y = forest_eval(c, n, &f, x, out);
  if (y < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = post_apply(c, y, (PostT)post));
  return 0;
}
