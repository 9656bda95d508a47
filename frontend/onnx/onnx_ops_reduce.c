/* onnx_ops_reduce.c — ONNX reductions and contractions: the Reduce* family,
 * ArgMax/ArgMin, CumSum, CumProd and Einsum, built from the core reductions, elementwise ops,
 * slices, pads, transposes and matmul. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
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
  bool noop = onnx_attr_int(n, "noop_with_empty_axes", 0) != 0;
  if (c->opset < since) {
    na = onnx_attr_ints(n, "axes", raw, IR_MAX_RANK);
  } else if (has_in(n, 1)) {
    na = onnx_const_ints(c, n->in[1], raw, IR_MAX_RANK);
    if (na < 0) return onnx_fail(c, n, "input 2 (axes) must be a constant known at compile time");
  }
  if (na > IR_MAX_RANK) return onnx_fail(c, n, "axes has %d entries, more than rank %d", na, rank);
  if (na <= 0) {
    if (noop) return 0;
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

/* The reduction in keepdims form.  count >= 0: x is padded along axis `padded` (one of
 * ax) to a length that depends on the data, count real entries (the padding already
 * holds the reduction's identity), and a mean divides by count in place of that axis. */
static int reduce_kind(OnnxCtx *c, const ReduceKind *rk, int x, const int64_t *ax, int na, int count, int padded) {
  if (rk->pre == PRE_EXP) return log_sum_exp(c, x, ax, na);
  if (rk->pre == PRE_ABS) x = un(c, OP_ABS, x);
  if (rk->pre == PRE_SQUARE) x = bin(c, OP_MUL, x, x);
  int y = reduce(c, rk->op, x, ax, na);
  if (rk->post == POST_SQRT) return un(c, OP_SQRT, y);
  if (rk->post == POST_LOG) return un(c, OP_LOG, y);
  if (rk->post == POST_MEAN && x >= 0) {
    double cnt = 1;
    for (int i = 0; i < na; i++) cnt *= ax[i] == padded && count >= 0 ? 1 : (double)shape_of(c, x)->d[ax[i]];
    int div = k(c, y, cnt);
    if (count >= 0) div = bin(c, OP_MUL, div, cast(c, count, dtype_of(c, y)));
    return bin(c, OP_DIV, y, div);
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

/* The value whose reduction changes nothing: what fills the padding of a value padded to
 * a data-dependent length before a reduction over that axis. */
static double identity(const ReduceKind *rk, DType work) {
  if (rk->pre == PRE_EXP) return -INFINITY; /* exp(-inf) adds nothing */
  if (rk->op == OP_REDUCE_PROD) return 1;
  if (rk->op == OP_REDUCE_MAX) return dtype_lowest(work);
  if (rk->op == OP_REDUCE_MIN) return dtype_highest(work);
  return 0;
}

/* A Reduce* builder reads a value padded to a data-dependent length itself (ONNX_OP_DYN):
 * over the padded axis, the padding is filled with the identity first and a mean divides
 * by the real count, so the result is an ordinary tensor (an empty set gives what ONNX
 * says: 0, 1, the lowest or highest value, -inf for ReduceLogSumExp, NaN for a float
 * mean); over other axes the result stays padded, along the same axis. */
static int reduce_op(OnnxCtx *c, OnnxNode *n, const ReduceKind *rk) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0], dy = onnx_dyn_find(c, x), padded = dy >= 0 ? c->dyn_axis[dy] : -1, over = 0, before = 0;
  const Shape xs = *shape_of(c, x);
  int64_t ax[IR_MAX_RANK];
  int na = reduce_axes(c, n, rk->axes_input_since, xs.rank, ax);
  if (na < 0) return -1;
  for (int i = 0; i < na; i++) over |= ax[i] == padded, before += ax[i] < padded;
  DType t = dtype_of(c, x), work;
  if (reduce_dtype(c, n, rk, t, &work)) return -1;
  int y, xw, count = over ? c->dyn_count[dy] : -1;
  ONNX_TRY(c, n, xw = cast(c, x, work));
  if (over) ONNX_TRY(c, n, xw = onnx_dyn_fill(c, xw, dy, k(c, xw, identity(rk, work))));
  ONNX_TRY(c, n, y = cast(c, reduce_kind(c, rk, xw, ax, na, count, padded), t));
  bool keep = onnx_attr_int(n, "keepdims", 1) != 0;
  if (!keep && na) {
    int64_t d[IR_MAX_RANK];
    int r = 0;
    for (int i = 0, j = 0; i < xs.rank; i++) {
      if (j < na && ax[j] == i) j++;
      else d[r++] = xs.d[i];
    }
    ONNX_TRY(c, n, y = ir_reshape(c->g, y, d, r));
  }
  if (padded >= 0 && !over && onnx_dyn_find(c, y) < 0) onnx_dyn_mark(c, y, c->dyn_count[dy], keep ? padded : padded - before);
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
  bool last = onnx_attr_int(n, "select_last_index", 0) != 0, keep = onnx_attr_int(n, "keepdims", 1) != 0;
  int pa = onnx_dyn_axis(c, x); /* padded to a data-dependent length: only along another axis */
  if (pa == axis)
    return onnx_fail(c, n, "input '%s' has a length that depends on the data along the axis it searches; dlc pads that "
                     "axis", n->p->input[0]);
  if (dtype_of(c, x) == DT_BOOL) ONNX_TRY(c, n, x = ir_cast(c->g, x, DT_U8));
  if (last) ONNX_TRY(c, n, x = reverse(c, x, axis));
  Attr a[2] = {attr_int(A_AXIS, axis), attr_int(A_KEEPDIMS, keep)};
  int y;
  ONNX_TRY(c, n, y = ir_add(c->g, op, &x, 1, a, 2));
  if (last) ONNX_TRY(c, n, y = bin(c, OP_SUB, k(c, y, (double)(dim - 1)), y));
  onnx_dyn_follow(c, n->in[0], y, keep || pa < axis ? pa : pa - 1);
  n->out[0] = y;
  return 0;
}

int onnx_ArgMax(OnnxCtx *c, OnnxNode *n) { return arg_op(c, n, OP_ARGMAX); }
int onnx_ArgMin(OnnxCtx *c, OnnxNode *n) { return arg_op(c, n, OP_ARGMIN); }

/* ---- CumSum, CumProd --------------------------------------------------------------- */

/* y[i] = x[i - s] along axis, `fill` in front: one pad that adds s before and crops s after. */
static int shift(OnnxCtx *c, int x, int64_t axis, int64_t s, double fill) {
  if (x < 0) return -1;
  int r = shape_of(c, x)->rank;
  int64_t pads[2 * IR_MAX_RANK] = {0};
  pads[axis] = s, pads[axis + r] = -s;
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, fill)};
  return ir_add(c->g, OP_PAD, &x, 1, a, 2);
}

/* Inclusive prefix sums (op add, identity 0) or products (mul, 1) by doubling
 * (Hillis-Steele): after the step with shift s every element combines the 2s elements
 * ending at it.  Exact for integers; log2(n) elementwise steps. */
static int prefix(OnnxCtx *c, int x, int64_t axis, Op op, double id) {
  int64_t dim = shape_of(c, x)->d[axis];
  for (int64_t s = 1; s < dim && x >= 0; s *= 2) x = bin(c, op, x, shift(c, x, axis, s, id));
  return x;
}

static int cumulative(OnnxCtx *c, OnnxNode *n, Op op, double id) {
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
  int dy = onnx_dyn_find(c, x); /* padded to a data-dependent length: the padding adds the identity, the result is padded */
  if (dy >= 0 && c->dyn_axis[dy] == axis) ONNX_TRY(c, n, x = onnx_dyn_fill(c, x, dy, k(c, x, id)));
  if (rev) ONNX_TRY(c, n, x = reverse(c, x, axis));
  if (excl) ONNX_TRY(c, n, x = shift(c, x, axis, 1, id));
  ONNX_TRY(c, n, x = prefix(c, x, axis, op, id));
  if (rev) ONNX_TRY(c, n, x = reverse(c, x, axis));
  onnx_dyn_follow(c, n->in[0], x, dy >= 0 ? c->dyn_axis[dy] : -1);
  n->out[0] = x;
  return 0;
}

int onnx_CumSum(OnnxCtx *c, OnnxNode *n) { return cumulative(c, n, OP_ADD, 0); }
int onnx_CumProd(OnnxCtx *c, OnnxNode *n) { return cumulative(c, n, OP_MUL, 1); }

/* ---- Einsum ------------------------------------------------------------------------ */

/* Labels: 'A'-'Z' are 0-25 and 'a'-'z' 26-51 (so that sorting labels sorts letters as
 * ONNX's implicit output does), then one label per dimension an ellipsis stands for,
 * right-aligned across the operands as broadcasting aligns them. */
#define EIN_LETTERS 52
#define EIN_LABELS (EIN_LETTERS + IR_MAX_RANK)

typedef struct EinTerm {
  int v;                 /* value id */
  int rank;
  int lab[IR_MAX_RANK];  /* the label of each dimension */
} EinTerm;

typedef struct Einsum {
  const char *eq;        /* the equation, for messages */
  int nt;                /* terms still to combine */
  EinTerm t[ONNX_MAX_IO];
  int nout;
  int out[IR_MAX_RANK];  /* the result's labels */
  int64_t size[EIN_LABELS];
} Einsum;

static int ein_letter(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return 26 + ch - 'a';
  return -1;
}

/* One side's subscripts (spaces dropped): labels into lab, ellipsis dims expanded to
 * `ell` labels ending at the last ellipsis label `top`.  Count, or -1 if malformed. */
static int ein_subscripts(const char *s, size_t len, int ell, int top, int *lab, bool *has_ell) {
  int r = 0;
  *has_ell = false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == ' ') continue;
    if (s[i] == '.') {
      if (*has_ell || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.') return -1;
      *has_ell = true, i += 2;
      for (int e = 0; e < ell; e++) {
        if (r >= IR_MAX_RANK) return -1;
        lab[r++] = EIN_LETTERS + top - ell + e;
      }
      continue;
    }
    int l = ein_letter(s[i]);
    if (l < 0 || r >= IR_MAX_RANK) return -1;
    lab[r++] = l;
  }
  return r;
}

/* Letters in a subscript, not counting an ellipsis. */
static int ein_count_letters(const char *s, size_t len) {
  int cnt = 0;
  for (size_t i = 0; i < len; i++) cnt += ein_letter(s[i]) >= 0;
  return cnt;
}

/* Operand i's labels from its subscripts, and the sizes its dimensions give them. */
static int ein_operand(OnnxCtx *c, OnnxNode *n, Einsum *e, int i, const char *sub, size_t len, int ell, int *uses) {
  const char *eq = e->eq;
  EinTerm *t = &e->t[i];
  const Shape *s = shape_of(c, n->in[i]);
  bool has_ell;
  t->v = n->in[i];
  t->rank = ein_subscripts(sub, len, s->rank - ein_count_letters(sub, len), ell, t->lab, &has_ell);
  if (t->rank < 0) return onnx_fail(c, n, "cannot read the subscripts of operand %d in '%s'", i + 1, eq);
  if (t->rank != s->rank)
    return onnx_fail(c, n, "operand %d of '%s' has %d subscripts for rank %d", i + 1, eq, t->rank, s->rank);
  for (int d = 0; d < t->rank; d++) {
    int64_t *sz = &e->size[t->lab[d]];
    if (*sz > 1 && s->d[d] != 1 && s->d[d] != *sz)
      return onnx_fail(c, n, "subscript sizes differ in '%s' (%lld and %lld)", eq, (long long)*sz, (long long)s->d[d]);
    if (s->d[d] > *sz || *sz == 0) *sz = s->d[d];
    uses[t->lab[d]]++;
  }
  return 0;
}

/* The result's labels: explicit after "->", or else the ellipsis, then the letters used
 * exactly once, in alphabetical order. */
static int ein_result(OnnxCtx *c, OnnxNode *n, Einsum *e, const char *arrow, int ell, bool any_ell, const int *uses) {
  const char *eq = e->eq;
  bool has_ell;
  if (arrow) {
    e->nout = ein_subscripts(arrow + 2, strlen(arrow + 2), ell, ell, e->out, &has_ell);
    if (e->nout < 0) return onnx_fail(c, n, "cannot read the result subscripts of '%s'", eq);
    for (int i = 0; i < e->nout; i++) {
      if (!uses[e->out[i]]) return onnx_fail(c, n, "result subscript %d of '%s' is not in any operand", i, eq);
      for (int j = 0; j < i; j++)
        if (e->out[j] == e->out[i]) return onnx_fail(c, n, "result subscripts of '%s' repeat", eq);
    }
    return 0;
  }
  for (int l = EIN_LETTERS; any_ell && l < EIN_LETTERS + ell; l++) e->out[e->nout++] = l;
  for (int l = 0; l < EIN_LETTERS; l++)
    if (uses[l] == 1) {
      if (e->nout >= IR_MAX_RANK) return onnx_fail(c, n, "result of '%s' has rank over %d", eq, IR_MAX_RANK);
      e->out[e->nout++] = l;
    }
  return 0;
}

/* Reads the equation into e: the operands' labels, the result's, each label's size.
 * The ellipsis spans as many dimensions as the largest rank minus letters asks for. */
static int ein_parse(OnnxCtx *c, OnnxNode *n, const char *eq, Einsum *e) {
  const char *arrow = strstr(eq, "->"), *end = arrow ? arrow : eq + strlen(eq);
  const char *start[ONNX_MAX_IO];
  size_t len[ONNX_MAX_IO];
  int nt = 0;
  for (const char *p = eq;; nt++) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    if (nt >= n->nin) return onnx_fail(c, n, "equation '%s' has more operands than the node's %d inputs", eq, n->nin);
    start[nt] = p, len[nt] = (size_t)((comma ? comma : end) - p);
    if (!comma) break;
    p = comma + 1;
  }
  if (++nt != n->nin) return onnx_fail(c, n, "equation '%s' has %d operands for %d inputs", eq, nt, n->nin);
  int ell = 0, uses[EIN_LABELS] = {0};
  bool any_ell = false;
  for (int i = 0; i < nt; i++) {
    int extra = shape_of(c, n->in[i])->rank - ein_count_letters(start[i], len[i]);
    ell = extra > ell ? extra : ell;
    any_ell |= memchr(start[i], '.', len[i]) != NULL;
  }
  memset(e, 0, sizeof *e);
  e->eq = eq, e->nt = nt;
  for (int i = 0; i < nt; i++)
    if (ein_operand(c, n, e, i, start[i], len[i], ell, uses)) return -1;
  return ein_result(c, n, e, arrow, ell, any_ell, uses);
}

static bool ein_has(const int *lab, int cnt, int l) {
  for (int i = 0; i < cnt; i++)
    if (lab[i] == l) return true;
  return false;
}

static int ein_find(const EinTerm *t, int l) {
  for (int i = 0; i < t->rank; i++)
    if (t->lab[i] == l) return i;
  return -1;
}

/* Reorders a term's dimensions to the given labels (a permutation of its own). */
static int ein_transpose(OnnxCtx *c, EinTerm *t, const int *lab) {
  int64_t perm[IR_MAX_RANK];
  bool same = true;
  for (int i = 0; i < t->rank; i++) perm[i] = ein_find(t, lab[i]), same &= perm[i] == i;
  if (!same && (t->v = ir_transpose(c->g, t->v, perm)) < 0) return -1;
  memcpy(t->lab, lab, sizeof(int) * (size_t)t->rank);
  return 0;
}

/* A label repeated within one term: the diagonal of the two dimensions, which become one
 * (moved last, seen as [..., n*n] and sliced with step n + 1). */
static int ein_diagonal(OnnxCtx *c, EinTerm *t, int p, int q) {
  int lab[IR_MAX_RANK], r = 0, l = t->lab[p];
  for (int i = 0; i < t->rank; i++)
    if (i != p && i != q) lab[r++] = t->lab[i];
  lab[r] = lab[r + 1] = l;
  int64_t perm[IR_MAX_RANK];
  for (int i = 0, j = 0; i < t->rank; i++)
    if (i != p && i != q) perm[j++] = i;
  perm[r] = p, perm[r + 1] = q;
  const Shape s = *shape_of(c, t->v);
  int64_t dn = s.d[p], d[IR_MAX_RANK], st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  int x = ir_transpose(c->g, t->v, perm);
  for (int i = 0; i < r; i++) d[i] = s.d[perm[i]], st[i] = 0, en[i] = d[i], sp[i] = 1;
  d[r] = dn * dn, st[r] = 0, en[r] = dn * dn, sp[r] = dn + 1;
  x = reshape(c, x, d, r + 1);
  Attr a[3] = {attr_ints(A_STARTS, st, r + 1), attr_ints(A_ENDS, en, r + 1), attr_ints(A_STEPS, sp, r + 1)};
  t->v = x < 0 ? -1 : ir_add(c->g, OP_SLICE, &x, 1, a, 3);
  t->rank = r + 1;
  memcpy(t->lab, lab, sizeof(int) * (size_t)(r + 1));
  return t->v < 0 ? -1 : 0;
}

/* Sums out the term's labels that are not in `keep`, and takes diagonals of repeats. */
static int ein_reduce(OnnxCtx *c, EinTerm *t, const int *keep, int nkeep) {
  for (int p = 0; p < t->rank; p++)
    for (int q = p + 1; q < t->rank; q++)
      if (t->lab[p] == t->lab[q]) {
        if (ein_diagonal(c, t, p, q)) return -1;
        p = -1;
        break;
      }
  int64_t ax[IR_MAX_RANK];
  int na = 0, r = 0;
  for (int i = 0; i < t->rank; i++) {
    if (ein_has(keep, nkeep, t->lab[i])) t->lab[r++] = t->lab[i];
    else ax[na++] = i;
  }
  if (!na) return 0;
  t->rank = r;
  return (t->v = ir_reduce(c->g, OP_REDUCE_SUM, t->v, ax, na, false)) < 0 ? -1 : 0;
}

/* The labels that the result and every term but a and b use: what a and b must keep. */
static int ein_needed(const Einsum *e, int a, int b, int *keep) {
  int nk = 0;
  for (int i = 0; i < e->nout; i++) keep[nk++] = e->out[i];
  for (int i = 0; i < e->nt; i++)
    for (int d = 0; i != a && i != b && d < e->t[i].rank; d++)
      if (!ein_has(keep, nk, e->t[i].lab[d])) keep[nk++] = e->t[i].lab[d];
  return nk;
}

/* The term broadcast where one of its batch or contracted dimensions is 1 and the
 * label's size is not, then seen as a 3-D [x, y, z] with dimensions grouped as given. */
static int ein_as3(OnnxCtx *c, const Einsum *e, EinTerm *t, int nx, int ny, bool y_own) {
  const Shape s = *shape_of(c, t->v);
  int64_t want[IR_MAX_RANK], d3[3] = {1, 1, 1};
  bool expand = false;
  for (int i = 0; i < t->rank; i++) {
    int group = i < nx ? 0 : i < nx + ny ? 1 : 2;
    bool own = group == 1 ? y_own : group == 2 ? !y_own : false;
    want[i] = own ? s.d[i] : e->size[t->lab[i]];
    expand |= want[i] != s.d[i];
    d3[group] *= want[i];
  }
  int x = t->v;
  if (expand) {
    Attr a = attr_ints(A_SHAPE, want, t->rank);
    x = ir_add(c->g, OP_BROADCAST, &x, 1, &a, 1);
  }
  return reshape(c, x, d3, 3);
}

/* a and b into one term.  Labels in both that are still needed are batch dimensions,
 * labels in both that are not are contracted, the rest are a's rows and b's columns:
 * a as [batch, rows, k] times b as [batch, k, cols], by matmul (floats) or by a
 * broadcast product summed over k (integers, exactly). */
static int ein_contract(OnnxCtx *c, const Einsum *e, EinTerm *a, EinTerm *b, const int *keep, int nkeep) {
  int bat[IR_MAX_RANK], con[IR_MAX_RANK], af[IR_MAX_RANK], bf[IR_MAX_RANK], nb = 0, nc = 0, na = 0, nf = 0;
  for (int i = 0; i < a->rank; i++) {
    int l = a->lab[i];
    if (ein_find(b, l) < 0) af[na++] = l;
    else if (ein_has(keep, nkeep, l)) bat[nb++] = l;
    else con[nc++] = l;
  }
  for (int i = 0; i < b->rank; i++)
    if (ein_find(a, b->lab[i]) < 0) bf[nf++] = b->lab[i];
  int la[IR_MAX_RANK], lb[IR_MAX_RANK], lr[3 * IR_MAX_RANK];
  memcpy(la, bat, sizeof(int) * (size_t)nb), memcpy(la + nb, af, sizeof(int) * (size_t)na), memcpy(la + nb + na, con, sizeof(int) * (size_t)nc);
  memcpy(lb, bat, sizeof(int) * (size_t)nb), memcpy(lb + nb, con, sizeof(int) * (size_t)nc), memcpy(lb + nb + nc, bf, sizeof(int) * (size_t)nf);
  if (ein_transpose(c, a, la) || ein_transpose(c, b, lb)) return -1;
  int64_t rd[IR_MAX_RANK];
  int rr = 0;
  if (nb + na + nf > IR_MAX_RANK) return -1;
  for (int i = 0; i < nb + na; i++) rd[rr] = i < nb ? e->size[la[i]] : shape_of(c, a->v)->d[i], lr[rr++] = la[i];
  for (int i = nb + nc; i < b->rank; i++) rd[rr] = shape_of(c, b->v)->d[i], lr[rr++] = lb[i];
  int x = ein_as3(c, e, a, nb, na, true), y = ein_as3(c, e, b, nb, nc, false), z;
  if (x < 0 || y < 0) return -1;
  if (dtype_is_float(dtype_of(c, x))) {
    z = ir_matmul(c->g, x, y, false, false);
  } else {
    const Shape *sx = shape_of(c, x), *sy = shape_of(c, y);
    int64_t dx[4] = {sx->d[0], sx->d[1], sx->d[2], 1}, dy[4] = {sy->d[0], 1, sy->d[1], sy->d[2]}, two = 2;
    z = bin(c, OP_MUL, reshape(c, x, dx, 4), reshape(c, y, dy, 4));
    z = z < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, z, &two, 1, false);
  }
  a->v = reshape(c, z, rd, rr);
  a->rank = rr;
  memcpy(a->lab, lr, sizeof(int) * (size_t)rr);
  return a->v < 0 ? -1 : 0;
}

/* Operands combined left to right; each first loses the labels nothing later needs. */
static int ein_run(OnnxCtx *c, Einsum *e) {
  int keep[EIN_LABELS];
  while (e->nt > 1) {
    EinTerm *a = &e->t[0], *b = &e->t[1];
    int nk = ein_needed(e, 0, 1, keep), na = nk, nb = nk;
    int ka[EIN_LABELS + IR_MAX_RANK], kb[EIN_LABELS + IR_MAX_RANK];
    memcpy(ka, keep, sizeof(int) * (size_t)nk), memcpy(kb, keep, sizeof(int) * (size_t)nk);
    for (int i = 0; i < b->rank; i++) ka[na++] = b->lab[i];
    for (int i = 0; i < a->rank; i++) kb[nb++] = a->lab[i];
    if (ein_reduce(c, a, ka, na) || ein_reduce(c, b, kb, nb) || ein_contract(c, e, a, b, keep, nk)) return -1;
    memmove(&e->t[1], &e->t[2], sizeof(EinTerm) * (size_t)(e->nt - 2));
    e->nt--;
  }
  EinTerm *t = &e->t[0];
  if (ein_reduce(c, t, e->out, e->nout)) return -1;
  return ein_transpose(c, t, e->out);
}

int onnx_Einsum(OnnxCtx *c, OnnxNode *n) {
  if (n->nin < 1) return onnx_fail(c, n, "needs at least one input");
  for (int i = 0; i < n->nin; i++)
    if (n->in[i] < 0) return onnx_fail(c, n, "input %d is absent", i + 1);
  const char *eq = onnx_attr_str(c, n, "equation", NULL);
  if (!eq) return onnx_fail(c, n, "needs attribute 'equation'");
  Einsum *e = arena_alloc(c->g->arena, sizeof *e);
  if (ein_parse(c, n, eq, e)) return -1;
  if (ein_run(c, e)) {
    if (c->g->err.msg[0]) return onnx_fail_ir(c, n);
    return onnx_fail(c, n, "equation '%s' is not supported (a result of rank over %d)", eq, IR_MAX_RANK);
  }
  n->out[0] = e->t[0].v;
  return 0;
}
