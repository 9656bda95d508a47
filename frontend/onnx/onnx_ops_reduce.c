/* onnx_ops_reduce.c — ONNX reductions: the Reduce* family, ArgMax/ArgMin and CumSum,
 * built from the core reductions, elementwise ops, slices and pads. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"

static int need(OnnxCtx *c, OnnxNode *n, int k) {
  for (int i = 0; i < k; i++)
    if (i >= n->nin || n->in[i] < 0) return onnx_fail(c, n, "needs %d input%s", k, k == 1 ? "" : "s");
  return 0;
}

static const Shape *shape_of(OnnxCtx *c, int id) { return &c->g->nodes[id]->shape; }
static DType dtype_of(OnnxCtx *c, int id) { return c->g->nodes[id]->dtype; }
static bool has_in(const OnnxNode *n, int i) { return i < n->nin && n->in[i] >= 0; }

/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int bin(OnnxCtx *c, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, op, a, b); }
static int un(OnnxCtx *c, Op op, int a) { return a < 0 ? -1 : ir_unary(c->g, op, a); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int cast(OnnxCtx *c, int x, DType t) {
  return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t);
}
static int reduce(OnnxCtx *c, Op op, int x, const int64_t *ax, int na) {
  return x < 0 ? -1 : na ? ir_reduce(c->g, op, x, ax, na, true) : x;
}

/* ---- Reduce* ---------------------------------------------------------------------- */

/* What a Reduce* operator applies before and after its core reduction. */
typedef enum { PRE_NONE, PRE_ABS, PRE_SQUARE, PRE_EXP } ReducePre;
typedef enum { POST_NONE, POST_MEAN, POST_SQRT, POST_LOG } ReducePost;

typedef struct ReduceKind {
  Op op;
  ReducePre pre;
  ReducePost post;
  int axes_input_since; /* the opset from which axes is an input rather than an attribute */
} ReduceKind;

/* The axes to reduce, normalised and sorted into ax; their count.  Empty axes mean all
 * axes unless noop_with_empty_axes, when they mean none.  -1 after an error. */
static int reduce_axes(OnnxCtx *c, OnnxNode *n, int since, int rank, int64_t *ax) {
  int64_t raw[IR_MAX_RANK];
  int na = -1;
  if (c->opset < since) {
    na = onnx_attr_ints(n, "axes", raw, IR_MAX_RANK);
  } else if (has_in(n, 1)) {
    na = onnx_const_ints(c, n->in[1], raw, IR_MAX_RANK);
    if (na < 0) return onnx_fail(c, n, "input 2 (axes) must be a constant known at compile time");
  }
  if (na > IR_MAX_RANK) return onnx_fail(c, n, "axes has %d entries, more than rank %d", na, rank);
  if (na <= 0) {
    if (onnx_attr_int(n, "noop_with_empty_axes", 0)) return 0;
    for (int i = 0; i < rank; i++) ax[i] = i;
    return rank;
  }
  bool seen[IR_MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int64_t a;
    if (onnx_axis(c, n, raw[i], rank, &a)) return -1;
    if (seen[a]) return onnx_fail(c, n, "axis %lld is listed twice", (long long)raw[i]);
    seen[a] = true;
  }
  int cnt = 0;
  for (int i = 0; i < rank; i++)
    if (seen[i]) ax[cnt++] = i;
  return cnt;
}

/* log(sum(exp(x))) = m + log(sum(exp(x - m))) with m the maximum, kept finite so that
 * an empty or all-infinite slice does not turn into NaN. */
static int log_sum_exp(OnnxCtx *c, int x, const int64_t *ax, int na) {
  int m = reduce(c, OP_REDUCE_MAX, x, ax, na);
  int finite = bin(c, OP_EQ, bin(c, OP_SUB, m, m), k(c, m, 0));
  int m0 = sel(c, finite, m, k(c, m, 0));
  int s = reduce(c, OP_REDUCE_SUM, un(c, OP_EXP, bin(c, OP_SUB, x, m0)), ax, na);
  return bin(c, OP_ADD, un(c, OP_LOG, s), m0);
}

/* The reduction in keepdims form. */
static int reduce_kind(OnnxCtx *c, const ReduceKind *rk, int x, const int64_t *ax, int na) {
  if (rk->pre == PRE_EXP) return log_sum_exp(c, x, ax, na);
  if (rk->pre == PRE_ABS) x = un(c, OP_ABS, x);
  if (rk->pre == PRE_SQUARE) x = bin(c, OP_MUL, x, x);
  int y = reduce(c, rk->op, x, ax, na);
  if (rk->post == POST_SQRT) return un(c, OP_SQRT, y);
  if (rk->post == POST_LOG) return un(c, OP_LOG, y);
  if (rk->post == POST_MEAN) {
    double cnt = 1;
    for (int i = 0; i < na; i++) cnt *= (double)shape_of(c, x)->d[ax[i]];
    return bin(c, OP_DIV, y, k(c, y, cnt));
  }
  return y;
}

/* The dtype the reduction is computed in: bool through u8 (max/min only), integers in
 * double where the math is transcendental, then cast back. */
static int reduce_dtype(OnnxCtx *c, OnnxNode *n, const ReduceKind *rk, DType t, DType *work) {
  *work = t;
  if (t == DT_BOOL) {
    if (rk->op != OP_REDUCE_MAX && rk->op != OP_REDUCE_MIN && rk->op != OP_REDUCE_PROD)
      return onnx_fail(c, n, "bool input is only supported for ReduceMax, ReduceMin and ReduceProd");
    *work = DT_U8;
  } else if (!dtype_is_float(t) && (rk->pre == PRE_EXP || rk->post == POST_SQRT || rk->post == POST_LOG)) {
    *work = DT_F64;
  }
  return 0;
}

static int reduce_op(OnnxCtx *c, OnnxNode *n, const ReduceKind *rk) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  int64_t ax[IR_MAX_RANK];
  int na = reduce_axes(c, n, rk->axes_input_since, xs.rank, ax);
  if (na < 0) return -1;
  DType t = dtype_of(c, x), work;
  if (reduce_dtype(c, n, rk, t, &work)) return -1;
  int y;
  ONNX_TRY(c, n, y = cast(c, reduce_kind(c, rk, cast(c, x, work), ax, na), t));
  if (!onnx_attr_int(n, "keepdims", 1) && na) {
    int64_t d[IR_MAX_RANK];
    int r = 0;
    for (int i = 0, j = 0; i < xs.rank; i++) {
      if (j < na && ax[j] == i) j++;
      else d[r++] = xs.d[i];
    }
    ONNX_TRY(c, n, y = ir_reshape(c->g, y, d, r));
  }
  n->out[0] = y;
  return 0;
}

#define REDUCE(Name, OPC, PRE, POST, SINCE)                       \
  int onnx_##Name(OnnxCtx *c, OnnxNode *n) {                      \
    static const ReduceKind rk = {OPC, PRE, POST, SINCE};         \
    return reduce_op(c, n, &rk);                                  \
  }

REDUCE(ReduceSum, OP_REDUCE_SUM, PRE_NONE, POST_NONE, 13)
REDUCE(ReduceMean, OP_REDUCE_SUM, PRE_NONE, POST_MEAN, 18)
REDUCE(ReduceMax, OP_REDUCE_MAX, PRE_NONE, POST_NONE, 18)
REDUCE(ReduceMin, OP_REDUCE_MIN, PRE_NONE, POST_NONE, 18)
REDUCE(ReduceProd, OP_REDUCE_PROD, PRE_NONE, POST_NONE, 18)
REDUCE(ReduceL1, OP_REDUCE_SUM, PRE_ABS, POST_NONE, 18)
REDUCE(ReduceL2, OP_REDUCE_SUM, PRE_SQUARE, POST_SQRT, 18)
REDUCE(ReduceSumSquare, OP_REDUCE_SUM, PRE_SQUARE, POST_NONE, 18)
REDUCE(ReduceLogSum, OP_REDUCE_SUM, PRE_NONE, POST_LOG, 18)
REDUCE(ReduceLogSumExp, OP_REDUCE_SUM, PRE_EXP, POST_NONE, 18)

/* ---- ArgMax, ArgMin --------------------------------------------------------------- */

/* x reversed along one axis (a slice with step -1). */
static int reverse(OnnxCtx *c, int x, int64_t axis) {
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int d = 0; d < s->rank; d++) st[d] = 0, en[d] = s->d[d], sp[d] = 1;
  st[axis] = s->d[axis] - 1, en[axis] = -1, sp[axis] = -1;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

/* select_last_index: the first index i in the reversed axis is dim-1-i in the original. */
static int arg_op(OnnxCtx *c, OnnxNode *n, Op op) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", 0), shape_of(c, x)->rank, &axis)) return -1;
  int64_t dim = shape_of(c, x)->d[axis];
  bool last = onnx_attr_int(n, "select_last_index", 0) != 0;
  if (dtype_of(c, x) == DT_BOOL) ONNX_TRY(c, n, x = ir_cast(c->g, x, DT_U8));
  if (last) ONNX_TRY(c, n, x = reverse(c, x, axis));
  Attr a[2] = {attr_int(A_AXIS, axis), attr_int(A_KEEPDIMS, onnx_attr_int(n, "keepdims", 1) != 0)};
  int y;
  ONNX_TRY(c, n, y = ir_add(c->g, op, &x, 1, a, 2));
  if (last) ONNX_TRY(c, n, y = bin(c, OP_SUB, k(c, y, (double)(dim - 1)), y));
  n->out[0] = y;
  return 0;
}

int onnx_ArgMax(OnnxCtx *c, OnnxNode *n) { return arg_op(c, n, OP_ARGMAX); }
int onnx_ArgMin(OnnxCtx *c, OnnxNode *n) { return arg_op(c, n, OP_ARGMIN); }

/* ---- CumSum ----------------------------------------------------------------------- */

/* y[i] = x[i - s] along axis, zeros in front: one pad that adds s before and crops s after. */
static int shift(OnnxCtx *c, int x, int64_t axis, int64_t s) {
  int r = shape_of(c, x)->rank;
  int64_t pads[2 * IR_MAX_RANK] = {0};
  pads[axis] = s, pads[axis + r] = -s;
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, 0)};
  return x < 0 ? -1 : ir_add(c->g, OP_PAD, &x, 1, a, 2);
}

/* Inclusive prefix sums by doubling (Hillis-Steele): after the step with shift s every
 * element holds the sum of the 2s elements ending at it.  Exact for integers; log2(n)
 * elementwise adds. */
static int prefix_sum(OnnxCtx *c, int x, int64_t axis) {
  int64_t dim = shape_of(c, x)->d[axis];
  for (int64_t s = 1; s < dim && x >= 0; s *= 2) x = bin(c, OP_ADD, x, shift(c, x, axis, s));
  return x;
}

int onnx_CumSum(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0];
  int64_t ax;
  if (onnx_const_ints(c, n->in[1], &ax, 1) != 1)
    return onnx_fail(c, n, "input 2 (axis) must be a constant known at compile time, one value");
  int64_t axis;
  if (onnx_axis(c, n, ax, shape_of(c, x)->rank, &axis)) return -1;
  if (shape_numel(shape_of(c, x)) == 0) {
    n->out[0] = x;
    return 0;
  }
  bool rev = onnx_attr_int(n, "reverse", 0) != 0, excl = onnx_attr_int(n, "exclusive", 0) != 0;
  if (rev) ONNX_TRY(c, n, x = reverse(c, x, axis));
  if (excl) ONNX_TRY(c, n, x = shift(c, x, axis, 1));
  ONNX_TRY(c, n, x = prefix_sum(c, x, axis));
  if (rev) ONNX_TRY(c, n, x = reverse(c, x, axis));
  n->out[0] = x;
  return 0;
}
