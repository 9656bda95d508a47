/* onnx_ops_pool.c — MaxPool, AveragePool, LpPool and the global pools, built on the core
 * pool_max / pool_avg ops and reductions.
 *
 * ceil_mode becomes extra end padding: pool_max ignores padding, and pool_avg without
 * count_pad never counts it.  With count_include_pad, ONNX (the reference of onnx 1.23
 * and ONNX Runtime) divides by the taps inside the explicitly padded input: the pads
 * count, the ceil region past them does not.  Without a ceil region that is the whole
 * kernel, pool_avg's count_pad; with one, the explicit pads become a pad op and the
 * pool counts only what it reads. */
#include <math.h>
#include <string.h>

#include "checked.h"
#include "onnx_fe.h"




typedef struct Pool {
  int nsp;
  int64_t k[IR_MAX_RANK], st[IR_MAX_RANK], dil[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
  int64_t ntap; /* prod(k) */
  int64_t ceil[IR_MAX_RANK]; /* of pads' ends, what ceil_mode added */
  bool has_ceil;
} Pool;

/* ceil_mode: one more window where the last one would be partial, unless it would start
 * in the end padding; the windows past the padded input read extra end padding. */
static int ceil_pads(OnnxCtx *c, OnnxNode *n, const Shape *x, Pool *p) {
  for (int i = 0; i < p->nsp; i++) {
    int64_t in = x->d[2 + i], pb = p->pads[i], *pe = &p->pads[i + p->nsp];
    int64_t span, room;
    if (ck_muladd(p->dil[i], p->k[i] - 1, 1, &span) || ck_add(in, pb, &room) || ck_add(room, *pe, &room) ||
        ck_sub(room, span, &room))
      return onnx_fail(c, n, "the window and pads overflow along spatial axis %d", i);
    if (room < 0) return onnx_fail(c, n, "the window (%lld) is larger than the padded input (%lld)",
                                   (long long)span, (long long)(in + pb + *pe));
    int64_t out = room / p->st[i] + 1 + (room % p->st[i] != 0);
    if ((out - 1) * p->st[i] >= in + pb) out--;
    int64_t extra = (out - 1) * p->st[i] + span - (in + pb + *pe);
    if (extra > 0) *pe += extra, p->ceil[i] = extra, p->has_ceil = true;
  }
  return 0;
}

static int pool_attrs(OnnxCtx *c, OnnxNode *n, const Shape *x, Pool *p) {
  if (x->rank < 3) return onnx_fail(c, n, "X needs rank 3 or more ([N, C, spatial...])");
  p->nsp = x->rank - 2;
  int nk = onnx_attr_ints(n, "kernel_shape", p->k, IR_MAX_RANK);
  if (nk != p->nsp) return onnx_fail(c, n, "kernel_shape needs %d entries", p->nsp);
  p->ntap = 1;
  p->has_ceil = false;
  for (int i = 0; i < nk; i++) {
    p->ceil[i] = 0;
    if (p->k[i] < 1) return onnx_fail(c, n, "kernel sizes must be 1 or more");
    if (ck_mul(p->ntap, p->k[i], &p->ntap)) return onnx_fail(c, n, "kernel_shape has too many taps");
  }
  if (onnx_window(c, n, x, p->k, p->st, p->dil, p->pads)) return -1;
  return onnx_attr_int(n, "ceil_mode", 0) ? ceil_pads(c, n, x, p) : 0;
}

static int pool(OnnxCtx *c, int x, Op op, const Pool *p, bool count_pad) {
  int nsp = p->nsp;
  Attr a[5] = {attr_ints(A_KERNEL, p->k, nsp), attr_ints(A_STRIDES, p->st, nsp),
               attr_ints(A_PADS, p->pads, 2 * nsp), attr_ints(A_DILATIONS, p->dil, nsp),
               attr_int(A_COUNT_PAD, count_pad)};
  return ir_add(c->g, op, &x, 1, a, op == OP_POOL_AVG ? 5 : 4);
}

static bool wants_output(const OnnxNode *n, int i) {
  return i < n->nout && n->p->output[i] && n->p->output[i][0];
}

/* ---- MaxPool's Indices ---- */

/* Windows are scanned tap by tap in row-major order; the first in-bounds tap whose value
 * equals the max gives the index, as flat offsets into X (storage_order 1: the spatial
 * part column-major).  Built backwards as a chain of selects, so the first tap wins. */
typedef struct Taps {
  const Pool *p;
  const Shape *x, *y;
  bool colmajor;
} Taps;

/* The input position of output position q at tap t along each spatial dim, or false when
 * it falls in padding. */
static bool tap_pos(const Taps *tp, const int64_t *q, int64_t t, int64_t *pos) {
  const Pool *p = tp->p;
  for (int i = p->nsp - 1; i >= 0; i--) {
    int64_t kk = t % p->k[i];
    t /= p->k[i];
    pos[i] = q[i] * p->st[i] - p->pads[i] + kk * p->dil[i];
    if (pos[i] < 0 || pos[i] >= tp->x->d[2 + i]) return false;
  }
  return true;
}

/* For tap t: the offset [O...] of each output's source within its plane, and `valid`, false
 * where the source lies in padding. */
static int tap_offsets(OnnxCtx *c, const Taps *tp, int64_t t, int *valid) {
  const Pool *p = tp->p;
  Shape os = shape_make(p->nsp, tp->y->d + 2);
  int64_t cnt = shape_numel(&os), q[IR_MAX_RANK] = {0}, pos[IR_MAX_RANK];
  int64_t *off = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
  uint8_t *ok = arena_alloc(c->g->arena, (size_t)(cnt ? cnt : 1));
  for (int64_t j = 0; j < cnt; j++) {
    ok[j] = tap_pos(tp, q, t, pos);
    off[j] = 0;
    int64_t mul = 1;
    for (int i = 0; i < p->nsp; i++) {
      int d = tp->colmajor ? i : p->nsp - 1 - i;
      off[j] += pos[d] * mul;
      mul *= tp->x->d[2 + d];
    }
    for (int i = p->nsp - 1; i >= 0 && ++q[i] == os.d[i]; i--) q[i] = 0;
  }
  if ((*valid = ir_const(c->g, NULL, DT_BOOL, os, ok)) < 0) return -1;
  return ir_const(c->g, NULL, DT_I64, os, off);
}

/* The values of xpad that tap t of every window reads: a strided slice, [N, C, O...]. */
static int tap_values(OnnxCtx *c, const Taps *tp, int xpad, int64_t t) {
  const Pool *p = tp->p;
  int r = tp->x->rank;
  int64_t st[IR_MAX_RANK] = {0}, en[IR_MAX_RANK], sp[IR_MAX_RANK];
  en[0] = tp->x->d[0], en[1] = tp->x->d[1], sp[0] = sp[1] = 1;
  for (int i = p->nsp - 1; i >= 0; i--) {
    int64_t kk = t % p->k[i];
    t /= p->k[i];
    st[2 + i] = kk * p->dil[i];
    en[2 + i] = st[2 + i] + (tp->y->d[2 + i] - 1) * p->st[i] + 1;
    sp[2 + i] = p->st[i];
  }
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  return ir_add(c->g, OP_SLICE, &xpad, 1, a, 3);
}

static int max_indices(OnnxCtx *c, OnnxNode *n, int x, int y, const Pool *p) {
  Graph *g = c->g;
  Taps tp = {p, shape_of(c, x), shape_of(c, y), onnx_attr_int(n, "storage_order", 0) != 0};
  int r = tp.x->rank, xpad, idx = -1;
  int64_t pads[2 * IR_MAX_RANK] = {0};
  for (int i = 0; i < p->nsp; i++) pads[2 + i] = p->pads[i], pads[2 + i + r] = p->pads[i + p->nsp];
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, 0)};
  ONNX_TRY(c, n, xpad = ir_add(g, OP_PAD, &x, 1, a, 2));
  for (int64_t t = p->ntap - 1; t >= 0; t--) {
    int valid, off, v, hit;
    ONNX_TRY(c, n, off = tap_offsets(c, &tp, t, &valid));
    if (idx < 0) {
      idx = off; /* the max is read by some tap: when no earlier one matches, the last does */
      continue;
    }
    ONNX_TRY(c, n, v = tap_values(c, &tp, xpad, t));
    ONNX_TRY(c, n, hit = ir_binary(g, OP_EQ, v, y));
    ONNX_TRY(c, n, hit = ir_binary(g, OP_AND, hit, valid));
    ONNX_TRY(c, n, idx = ir_select(g, hit, off, idx));
  }
  /* + (n*C + c) * plane */
  int64_t nc = tp.x->d[0] * tp.x->d[1], plane = shape_numel(tp.x) / (nc ? nc : 1), d[IR_MAX_RANK];
  for (int i = 0; i < r; i++) d[i] = i < 2 ? tp.x->d[i] : 1;
  Attr io[3] = {attr_ints(A_SHAPE, &nc, 1), attr_int(A_AXIS, 0), attr_dtype(A_DTYPE, DT_I64)};
  int base;
  ONNX_TRY(c, n, base = ir_add(g, OP_IOTA, NULL, 0, io, 3));
  ONNX_TRY(c, n, base = ir_binary(g, OP_MUL, base, ir_scalar(g, DT_I64, (double)plane)));
  ONNX_TRY(c, n, base = ir_reshape(g, base, d, r));
  ONNX_TRY(c, n, idx = ir_binary(g, OP_ADD, idx, base));
  return idx;
}

/* ---- the operators ---- */

/* Integer inputs (int8, uint8) pool exactly in f32. */
int onnx_MaxPool(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0], y;
  DType t = c->g->nodes[x]->dtype;
  Pool p;
  if (pool_attrs(c, n, shape_of(c, x), &p)) return -1;
  /* storage_order orders Indices only; without that output it changes nothing */
  int64_t order = onnx_attr_int(n, "storage_order", 0);
  if (order != 0 && order != 1) return onnx_fail(c, n, "attribute 'storage_order' is %lld, not 0 or 1", (long long)order);
  bool small_int = t == DT_I8 || t == DT_U8;
  if (!dtype_is_float(t) && !small_int) return onnx_fail(c, n, "X of dtype %s is not supported", dtype_name(t));
  int xf = x;
  if (small_int) ONNX_TRY(c, n, xf = ir_cast(c->g, x, DT_F32));
  ONNX_TRY(c, n, y = pool(c, xf, OP_POOL_MAX, &p, false));
  if (wants_output(n, 1) && (n->out[1] = max_indices(c, n, xf, y, &p)) < 0) return -1;
  if (small_int) ONNX_TRY(c, n, y = ir_cast(c->g, y, t));
  n->out[0] = y;
  return 0;
}

int onnx_AveragePool(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  Pool p;
  if (pool_attrs(c, n, shape_of(c, n->in[0]), &p)) return -1;
  bool count_pad = onnx_attr_int(n, "count_include_pad", 0) != 0;
  int x = n->in[0];
  if (count_pad && p.has_ceil) { /* the explicit pads are counted, the ceil region not */
    int64_t pads[2 * IR_MAX_RANK] = {0}; /* of x's rank: N and C not padded */
    int r = p.nsp + 2;
    for (int i = 0; i < p.nsp; i++) {
      pads[2 + i] = p.pads[i], pads[r + 2 + i] = p.pads[p.nsp + i] - p.ceil[i];
      p.pads[i] = 0, p.pads[p.nsp + i] = p.ceil[i];
    }
    Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, 0)};
    ONNX_TRY(c, n, x = ir_add(c->g, OP_PAD, &x, 1, a, 2));
    count_pad = false;
  }
  ONNX_TRY(c, n, n->out[0] = pool(c, x, OP_POOL_AVG, &p, count_pad));
  return 0;
}

/* y = (sum over the window of |x|^p)^(1/p); the sum is pool_avg with count_pad times the
 * kernel size, padding contributing zeros. */
int onnx_LpPool(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  Graph *g = c->g;
  int x = n->in[0], a, s;
  double pw = onnx_attr_float(n, "p", 2);
  if (!(pw > 0)) return onnx_fail(c, n, "p must be positive");
  Pool p;
  if (pool_attrs(c, n, shape_of(c, x), &p)) return -1;
  if (pw == 2) ONNX_TRY(c, n, a = ir_binary(g, OP_MUL, x, x));
  else {
    ONNX_TRY(c, n, a = ir_unary(g, OP_ABS, x));
    if (pw != 1) ONNX_TRY(c, n, a = ir_binary(g, OP_POW, a, onnx_scalar_like(c, x, pw)));
  }
  ONNX_TRY(c, n, s = pool(c, a, OP_POOL_AVG, &p, true));
  ONNX_TRY(c, n, s = ir_binary(g, OP_MUL, s, onnx_scalar_like(c, x, (double)p.ntap)));
  if (pw == 2) ONNX_TRY(c, n, s = ir_unary(g, OP_SQRT, s));
  else if (pw != 1) ONNX_TRY(c, n, s = ir_binary(g, OP_POW, s, onnx_scalar_like(c, x, 1 / pw)));
  n->out[0] = s;
  return 0;
}

/* Reduces every spatial dim, keeping them as size 1. */
static int global_pool(OnnxCtx *c, OnnxNode *n, Op op) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  if (x->rank < 3) return onnx_fail(c, n, "X needs rank 3 or more ([N, C, spatial...])");
  int64_t axes[IR_MAX_RANK], cnt = 1;
  for (int i = 2; i < x->rank; i++) axes[i - 2] = i, cnt *= x->d[i];
  int y;
  ONNX_TRY(c, n, y = ir_reduce(c->g, op, n->in[0], axes, x->rank - 2, true));
  if (op == OP_REDUCE_SUM) ONNX_TRY(c, n, y = ir_binary(c->g, OP_DIV, y, onnx_scalar_like(c, y, (double)cnt)));
  n->out[0] = y;
  return 0;
}

int onnx_GlobalAveragePool(OnnxCtx *c, OnnxNode *n) { return global_pool(c, n, OP_REDUCE_SUM); }
int onnx_GlobalMaxPool(OnnxCtx *c, OnnxNode *n) { return global_pool(c, n, OP_REDUCE_MAX); }
