/* interp.c — the reference interpreter: every op as plain loops over doubles.
 *
 * It is the oracle the passes and backends are tested against, so it favours loops
 * that are obviously right over fast ones; the only concession to speed is that no
 * inner loop divides to find an index (broadcasting, transposes, slices and
 * reductions walk their operands with strides, conv and pool precompute their taps).
 *
 * Each node gets one heap array of numel doubles.  Every value, sources included, is
 * rounded to its node's dtype after it is made, so f32 graphs see f32 rounding and
 * integer ops wrap as they do in compiled code. */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "dlc_rng.h"
#include "ir.h"
#include "scalar.h"

typedef struct Interp {
  const Graph *g;
  double **val;                /* per node id: its values, NULL until it has run */
  const double *const *inputs; /* the caller's, in the order of the INPUT nodes */
  int next_input;
  DlcErr *e;
} Interp;

typedef int (*EvalFn)(Interp *it, const Node *n, double *y);

static const Node *in_node(const Interp *it, const Node *n, int i) {
  return it->g->nodes[n->in[i]];
}

static const double *in_val(const Interp *it, const Node *n, int i) { return it->val[n->in[i]]; }

/* ---- walking shapes ---- */

/* Row-major walk over a shape that carries, beside the multi-index, the offsets of up
 * to three strided operands.  A stride of 0 repeats an element (broadcasting), a
 * permuted stride transposes, a scaled one slices. */
typedef struct Walk {
  Shape s;
  int nop;
  int64_t idx[IR_MAX_RANK];
  int64_t st[3][IR_MAX_RANK];
  int64_t off[3];
} Walk;

static Walk walk_new(const Shape *s, int nop) {
  Walk w = {.s = *s, .nop = nop};
  return w;
}

static void walk_next(Walk *w) {
  for (int d = w->s.rank - 1; d >= 0; d--) {
    w->idx[d]++;
    for (int k = 0; k < w->nop; k++) w->off[k] += w->st[k][d];
    if (w->idx[d] < w->s.d[d]) return;
    for (int k = 0; k < w->nop; k++) w->off[k] -= w->st[k][d] * w->s.d[d];
    w->idx[d] = 0;
  }
}

/* Strides that read x as if broadcast to `out` (numpy: align right, size-1 dims repeat). */
static void bcast_strides(const Shape *x, const Shape *out, int64_t *st) {
  int64_t xs[IR_MAX_RANK];
  shape_strides(x, xs);
  int lead = out->rank - x->rank;
  DLC_ASSERT(lead >= 0);
  for (int d = 0; d < out->rank; d++)
    st[d] = d < lead || x->d[d - lead] == 1 ? 0 : xs[d - lead];
}

/* y[i] = x[base + idx(i) . st], for i over the shape of y. */
static void view_copy(const double *x, int64_t base, const int64_t *st, const Shape *ys,
                      double *y) {
  Walk w = walk_new(ys, 1);
  memcpy(w.st[0], st, sizeof(int64_t) * (size_t)ys->rank);
  w.off[0] = base;
  int64_t n = shape_numel(ys);
  for (int64_t i = 0; i < n; i++, walk_next(&w)) y[i] = x[w.off[0]];
}

/* Product of dims [from, to). */
static int64_t dims_prod(const Shape *s, int from, int to) {
  int64_t p = 1;
  for (int d = from; d < to; d++) p *= s->d[d];
  return p;
}

/* ---- sources ---- */

static int eval_source(Interp *it, const Node *n, double *y) {
  int64_t m = shape_numel(&n->shape);
  if (n->op == OP_INPUT) {
    const double *x = it->inputs ? it->inputs[it->next_input++] : NULL;
    if (!x) return dlc_errf(it->e, "interp: no values given for input '%s'", n->name ? n->name : "?");
    memcpy(y, x, sizeof(double) * (size_t)m);
    return 0;
  }
  DLC_ASSERT(n->data);
  for (int64_t i = 0; i < m; i++) y[i] = dtype_load(n->dtype, n->data, i);
  return 0;
}

static int eval_iota(Interp *it, const Node *n, double *y) {
  (void)it;
  int64_t st[IR_MAX_RANK], ax = node_int(n, A_AXIS), m = shape_numel(&n->shape);
  shape_strides(&n->shape, st);
  for (int64_t i = 0; i < m; i++) y[i] = (double)(i / st[ax] % n->shape.d[ax]);
  return 0;
}

/* ---- elementwise ---- */

static double sc_idiv2(const double *x) { return sc_idiv(x[0], x[1]); }
static double sc_imod2(const double *x) { return sc_imod(x[0], x[1]); }

/* Where an op computes differently on integers (truncating, and 0 where C is undefined). */
static const ScalarFn int_scalar[OP_COUNT] = {[OP_DIV] = sc_idiv2, [OP_MOD] = sc_imod2};

static ScalarFn scalar_for(const Node *n, DType operand) {
  if (dtype_is_int(operand) && int_scalar[n->op]) return int_scalar[n->op];
  DLC_ASSERT(ir_ops[n->op].scalar);
  return ir_ops[n->op].scalar;
}

static int eval_unary(Interp *it, const Node *n, double *y) {
  ScalarFn f = scalar_for(n, in_node(it, n, 0)->dtype);
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++) y[i] = f(&x[i]);
  return 0;
}

/* binary and select: operands broadcast to the result, f applied elementwise. */
static int eval_nary(Interp *it, const Node *n, double *y) {
  DLC_ASSERT(n->nin <= 3);
  ScalarFn f = scalar_for(n, in_node(it, n, n->nin - 1)->dtype);
  Walk w = walk_new(&n->shape, n->nin);
  for (int k = 0; k < n->nin; k++) bcast_strides(&in_node(it, n, k)->shape, &n->shape, w.st[k]);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++, walk_next(&w)) {
    double a[3];
    for (int k = 0; k < n->nin; k++) a[k] = in_val(it, n, k)[w.off[k]];
    y[i] = f(a);
  }
  return 0;
}

static int eval_binary(Interp *it, const Node *n, double *y) { return eval_nary(it, n, y); }
static int eval_select(Interp *it, const Node *n, double *y) { return eval_nary(it, n, y); }

/* Float to integer saturates (NaN gives 0) and truncates; everything else is left to
 * the result's rounding (integers wrap, bool is v != 0). */
static double cast_one(DType from, DType to, double v) {
  if (!dtype_is_float(from) || !dtype_is_int(to) || dtype_is_storage(to)) return v; /* i4, u4, i2, u2 wrap */
  if (v != v) return 0;
  if (v < dtype_lowest(to)) return dtype_lowest(to);
  if (v > dtype_highest(to)) return dtype_highest(to);
  return trunc(v);
}

static int eval_cast(Interp *it, const Node *n, double *y) {
  DType from = in_node(it, n, 0)->dtype;
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&n->shape);
  const Attr *r = node_attr(n, A_ROUND); /* f8e8m0's rounding mode */
  int mode = r ? (int)r->i : DTYPE_E8M0_UP;
  for (int64_t i = 0; i < m; i++)
    y[i] = n->dtype == DT_F8E8M0 ? dtype_e8m0_round(x[i], mode) : cast_one(from, n->dtype, x[i]);
  return 0;
}

/* Each value stored in its dtype's bytes and read back as the result's.  Exact but
 * for what a double cannot hold: a 64-bit integer beyond 2^53 (as everywhere in the
 * interpreter) and an f16 or bf16 NaN's payload (held as a plain NaN); the compiled
 * code and the constant folder (ir/fold.c) move the bytes themselves. */
static int eval_bitcast(Interp *it, const Node *n, double *y) {
  DType from = in_node(it, n, 0)->dtype;
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++) {
    unsigned char b[8] = {0};
    dtype_store(from, b, 0, x[i]);
    y[i] = dtype_load(n->dtype, b, 0);
    if (n->dtype == DT_U64 && y[i] >= 18446744073709551616.0) /* u64 above 2^64 - 1024 rounds to 2^64, */
      y[i] = nextafter(18446744073709551616.0, 0);            /* which the result's rounding would wrap to 0 */
  }
  return 0;
}

/* ---- reductions ---- */

/* The identity named by the text before ';' in the cexpr column. */
static double reduce_identity(const Node *n) {
  const char *c = ir_ops[n->op].cexpr;
  size_t len = strcspn(c, ";");
  if (len == 6 && !strncmp(c, "LOWEST", 6)) return dtype_lowest(n->dtype);
  if (len == 7 && !strncmp(c, "HIGHEST", 7)) return dtype_highest(n->dtype);
  if (len == 1 && c[0] == '1') return 1;
  DLC_ASSERT(len == 1 && c[0] == '0');
  return 0;
}

/* Walks x in row-major order, so each result combines its elements in that order. */
static int eval_reduce(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape;
  int na;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  Shape kept = *xs; /* the result with keepdims: reduced dims are 1 */
  for (int k = 0; k < na; k++) kept.d[ax[k]] = 1;
  Walk w = walk_new(xs, 1);
  bcast_strides(&kept, xs, w.st[0]);
  int64_t m = shape_numel(&n->shape), nx = shape_numel(xs);
  double id = reduce_identity(n);
  for (int64_t i = 0; i < m; i++) y[i] = id;
  ScalarFn f = ir_ops[n->op].scalar;
  const double *x = in_val(it, n, 0);
  for (int64_t i = 0; i < nx; i++, walk_next(&w)) {
    double a[2] = {y[w.off[0]], x[i]};
    y[w.off[0]] = f(a);
  }
  return 0;
}

/* argmax, argmin: the first index of the extreme, so ties (and NaNs after the first
 * element) never move it. */
static int eval_arg(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape;
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = dims_prod(xs, 0, ax), len = xs->d[ax], inner = dims_prod(xs, ax + 1, xs->rank);
  const double *x = in_val(it, n, 0);
  double sign = n->op == OP_ARGMAX ? 1 : -1;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const double *row = x + o * len * inner + j;
      int64_t best = 0;
      for (int64_t k = 1; k < len; k++)
        if (sign * row[k * inner] > sign * row[best * inner]) best = k;
      y[o * inner + j] = (double)best;
    }
  return 0;
}

/* ---- movement ---- */

static int eval_reshape(Interp *it, const Node *n, double *y) {
  memcpy(y, in_val(it, n, 0), sizeof(double) * (size_t)shape_numel(&n->shape));
  return 0;
}

static int eval_transpose(Interp *it, const Node *n, double *y) {
  const int64_t *perm = node_ints(n, A_PERM, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK];
  shape_strides(&in_node(it, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) st[d] = xs[perm[d]];
  view_copy(in_val(it, n, 0), 0, st, &n->shape, y);
  return 0;
}

static int eval_broadcast(Interp *it, const Node *n, double *y) {
  int64_t st[IR_MAX_RANK];
  bcast_strides(&in_node(it, n, 0)->shape, &n->shape, st);
  view_copy(in_val(it, n, 0), 0, st, &n->shape, y);
  return 0;
}

static int eval_slice(Interp *it, const Node *n, double *y) {
  const int64_t *start = node_ints(n, A_STARTS, NULL), *step = node_ints(n, A_STEPS, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK], base = 0;
  shape_strides(&in_node(it, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) {
    base += start[d] * xs[d];
    st[d] = step[d] * xs[d];
  }
  view_copy(in_val(it, n, 0), base, st, &n->shape, y);
  return 0;
}

/* out[o] = x[o - begin] where that is inside x, else the pad value. */
static int eval_pad(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape;
  const int64_t *pads = node_ints(n, A_PADS, NULL);
  double value = node_float(n, A_VALUE);
  Walk w = walk_new(&n->shape, 1);
  shape_strides(xs, w.st[0]);
  for (int d = 0; d < xs->rank; d++) w.off[0] -= pads[d] * w.st[0][d];
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++, walk_next(&w)) {
    bool inside = true;
    for (int d = 0; d < xs->rank && inside; d++) {
      int64_t src = w.idx[d] - pads[d];
      inside = src >= 0 && src < xs->d[d];
    }
    y[i] = inside ? x[w.off[0]] : value;
  }
  return 0;
}

static int eval_concat(Interp *it, const Node *n, double *y) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = dims_prod(&n->shape, 0, ax), inner = dims_prod(&n->shape, ax + 1, n->shape.rank);
  for (int64_t o = 0; o < outer; o++)
    for (int k = 0; k < n->nin; k++) {
      int64_t len = in_node(it, n, k)->shape.d[ax] * inner;
      memcpy(y, in_val(it, n, k) + o * len, sizeof(double) * (size_t)len);
      y += len;
    }
  return 0;
}

static int eval_gather(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape;
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = dims_prod(xs, 0, ax), dim = xs->d[ax], inner = dims_prod(xs, ax + 1, xs->rank);
  int64_t nidx = shape_numel(&in_node(it, n, 1)->shape);
  const double *x = in_val(it, n, 0), *idx = in_val(it, n, 1);
  for (int64_t j = 0; j < nidx; j++)
    if (idx[j] < -(double)dim || idx[j] >= (double)dim)
      return dlc_errf(it->e, "gather: index %.0f is out of range for dimension of size %lld",
                      idx[j], (long long)dim);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nidx; j++) {
      int64_t k = (int64_t)idx[j] + (idx[j] < 0 ? dim : 0);
      memcpy(y, x + (o * dim + k) * inner, sizeof(double) * (size_t)inner);
      y += inner;
    }
  return 0;
}

/* ---- matmul ---- */

/* One [M,K] x [K,N] product; (rs, cs) are the row and column strides of each operand,
 * which is how trans_a and trans_b are read. */
typedef struct MatDims {
  int64_t m, k, n;
  int64_t a_rs, a_cs, b_rs, b_cs;
} MatDims;

static void matmul_one(const MatDims *d, const double *a, const double *b, double *y) {
  for (int64_t i = 0; i < d->m; i++)
    for (int64_t j = 0; j < d->n; j++) {
      double acc = 0;
      for (int64_t p = 0; p < d->k; p++) acc += a[i * d->a_rs + p * d->a_cs] * b[p * d->b_rs + j * d->b_cs];
      y[i * d->n + j] = acc;
    }
}

static Shape batch_of(const Shape *s) { return shape_make(s->rank - 2, s->d); }

static int matmul_eval(Interp *it, const Node *n, double *y, bool ta, bool tb) {
  const Shape *as = &in_node(it, n, 0)->shape, *bs = &in_node(it, n, 1)->shape;
  int64_t ar = as->d[as->rank - 2], ac = as->d[as->rank - 1];
  int64_t br = bs->d[bs->rank - 2], bc = bs->d[bs->rank - 1];
  MatDims d = {.m = ta ? ac : ar, .k = ta ? ar : ac, .n = tb ? br : bc,
               .a_rs = ta ? 1 : ac, .a_cs = ta ? ac : 1,
               .b_rs = tb ? 1 : bc, .b_cs = tb ? bc : 1};
  Shape ab = batch_of(as), bb = batch_of(bs), yb = batch_of(&n->shape);
  Walk w = walk_new(&yb, 2);
  bcast_strides(&ab, &yb, w.st[0]);
  bcast_strides(&bb, &yb, w.st[1]);
  const double *a = in_val(it, n, 0), *b = in_val(it, n, 1);
  int64_t nb = shape_numel(&yb);
  for (int64_t i = 0; i < nb; i++, walk_next(&w))
    matmul_one(&d, a + w.off[0] * ar * ac, b + w.off[1] * br * bc, y + i * d.m * d.n);
  return 0;
}

static int eval_matmul(Interp *it, const Node *n, double *y) {
  return matmul_eval(it, n, y, node_int(n, A_TRANS_A), node_int(n, A_TRANS_B));
}

/* Products of 8-bit integers: every sum is exact in a double (below 2^53). */
static int eval_matmul_int(Interp *it, const Node *n, double *y) { return matmul_eval(it, n, y, false, false); }

/* ---- windows: conv and pool ---- */

/* The sliding window over x's spatial dims: where each output position's taps land.
 * Tap t of output position q reads x at q*stride - pad_begin + kpos[t]*dilation. */
typedef struct Window {
  int nsp;                        /* spatial dims */
  const int64_t *in;              /* x's spatial sizes */
  const int64_t *stride, *pad, *dil;
  int64_t in_st[IR_MAX_RANK];     /* element strides of x's spatial dims within a plane */
  int64_t ntap;                   /* product of the kernel sizes */
  int64_t *kpos;                  /* [ntap][nsp] kernel positions, row-major */
} Window;

static int window_init(Window *w, const Node *n, const Shape *xs, const int64_t *kernel,
                       DlcErr *e) {
  w->nsp = xs->rank - 2;
  w->in = xs->d + 2;
  w->stride = node_ints(n, A_STRIDES, NULL);
  w->pad = node_ints(n, A_PADS, NULL);
  w->dil = node_ints(n, A_DILATIONS, NULL);
  Shape sp = shape_make(w->nsp, xs->d + 2), ks = shape_make(w->nsp, kernel);
  shape_strides(&sp, w->in_st);
  w->ntap = shape_numel(&ks);
  w->kpos = dlc_malloc(sizeof(int64_t) * (size_t)(w->ntap * w->nsp + 1));
  if (!w->kpos) return dlc_errf(e, "interp: out of memory");
  Walk k = walk_new(&ks, 0);
  for (int64_t t = 0; t < w->ntap; t++, walk_next(&k))
    memcpy(w->kpos + t * w->nsp, k.idx, sizeof(int64_t) * (size_t)w->nsp);
  return 0;
}

/* Offset within a plane of x of tap t for output position q; false if it is padding. */
static bool window_tap(const Window *w, const int64_t *q, int64_t t, int64_t *off) {
  const int64_t *kp = w->kpos + t * w->nsp;
  *off = 0;
  for (int d = 0; d < w->nsp; d++) {
    int64_t p = q[d] * w->stride[d] - w->pad[d] + kp[d] * w->dil[d];
    if (p < 0 || p >= w->in[d]) return false;
    *off += p * w->in_st[d];
  }
  return true;
}

/* x [N, C, S..], w [O, C/groups, K..] -> y [N, O, Q..]; zero padding. */
static int eval_conv(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape, *ws = &in_node(it, n, 1)->shape;
  Window win;
  if (window_init(&win, n, xs, ws->d + 2, it->e)) return -1;
  int64_t groups = node_int(n, A_GROUPS), cg = ws->d[1], og = ws->d[0] / groups;
  int64_t plane = dims_prod(xs, 2, xs->rank);
  Shape qs = shape_make(win.nsp, n->shape.d + 2);
  int64_t nq = shape_numel(&qs);
  const double *x = in_val(it, n, 0), *wt = in_val(it, n, 1);
  for (int64_t b = 0; b < xs->d[0]; b++)
    for (int64_t o = 0; o < ws->d[0]; o++) {
      const double *xg = x + (b * xs->d[1] + o / og * cg) * plane, *wo = wt + o * cg * win.ntap;
      Walk q = walk_new(&qs, 0);
      for (int64_t i = 0; i < nq; i++, walk_next(&q)) {
        double acc = 0;
        for (int64_t t = 0; t < win.ntap; t++) {
          int64_t off;
          if (!window_tap(&win, q.idx, t, &off)) continue;
          for (int64_t c = 0; c < cg; c++) acc += xg[c * plane + off] * wo[c * win.ntap + t];
        }
        *y++ = acc;
      }
    }
  free(win.kpos);
  return 0;
}

/* pool_max ignores padding; pool_avg divides by the in-bounds count, or by the kernel
 * size with count_pad.  A window that falls wholly in padding (possible with dilation)
 * gives -inf for max and 0 for an average over in-bounds elements. */
static int eval_pool(Interp *it, const Node *n, double *y) {
  const Shape *xs = &in_node(it, n, 0)->shape;
  Window win;
  if (window_init(&win, n, xs, node_ints(n, A_KERNEL, NULL), it->e)) return -1;
  bool is_max = n->op == OP_POOL_MAX;
  bool count_pad = !is_max && node_int(n, A_COUNT_PAD);
  int64_t plane = dims_prod(xs, 2, xs->rank), planes = xs->d[0] * xs->d[1];
  Shape qs = shape_make(win.nsp, n->shape.d + 2);
  int64_t nq = shape_numel(&qs);
  for (int64_t p = 0; p < planes; p++) {
    const double *x = in_val(it, n, 0) + p * plane;
    Walk q = walk_new(&qs, 0);
    for (int64_t i = 0; i < nq; i++, walk_next(&q)) {
      double acc = is_max ? -INFINITY : 0;
      int64_t count = 0, off;
      for (int64_t t = 0; t < win.ntap; t++) {
        if (!window_tap(&win, q.idx, t, &off)) continue;
        acc = is_max ? (acc < x[off] ? x[off] : acc) : acc + x[off];
        count++;
      }
      if (!is_max) acc /= (double)(count_pad ? win.ntap : count ? count : 1);
      *y++ = acc;
    }
  }
  free(win.kpos);
  return 0;
}

/* ---- gradients and randomness (autodiff) ---- */

/* updates [.., J, ..], indices [J] -> y of shape with y[o, idx[j], i] += u[o, j, i]; in
 * that order, so sums are made as the generated code makes them. */
static int eval_scatter(Interp *it, const Node *n, double *y) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = dims_prod(&n->shape, 0, ax), dim = n->shape.d[ax];
  int64_t inner = dims_prod(&n->shape, ax + 1, n->shape.rank);
  int64_t nidx = shape_numel(&in_node(it, n, 1)->shape);
  const double *u = in_val(it, n, 0), *idx = in_val(it, n, 1);
  for (int64_t j = 0; j < nidx; j++)
    if (idx[j] < -(double)dim || idx[j] >= (double)dim)
      return dlc_errf(it->e, "scatter_add: index %.0f is out of range for dimension of size %lld",
                      idx[j], (long long)dim);
  memset(y, 0, sizeof(double) * (size_t)shape_numel(&n->shape));
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nidx; j++) {
      int64_t k = (int64_t)idx[j] + (idx[j] < 0 ? dim : 0);
      for (int64_t i = 0; i < inner; i++) y[(o * dim + k) * inner + i] += *u++;
    }
  return 0;
}

/* The loops of conv and its two gradients: for each output position q of (b, o) and
 * each in-bounds tap t of input channel c, f(x index, w index, y index). */
typedef struct ConvIdx {
  int64_t x, w, y;
} ConvIdx;

typedef void (*ConvVisit)(void *ctx, ConvIdx i);

static int conv_visit(Interp *it, const Node *n, const Shape *xs, const Shape *ws,
                      const Shape *ys, ConvVisit f, void *ctx) {
  Window win;
  if (window_init(&win, n, xs, ws->d + 2, it->e)) return -1;
  int64_t groups = node_int(n, A_GROUPS), cg = ws->d[1], og = ws->d[0] / groups;
  int64_t plane = dims_prod(xs, 2, xs->rank);
  Shape qs = shape_make(win.nsp, ys->d + 2);
  int64_t nq = shape_numel(&qs), yi = 0;
  for (int64_t b = 0; b < xs->d[0]; b++)
    for (int64_t o = 0; o < ws->d[0]; o++) {
      int64_t xg = (b * xs->d[1] + o / og * cg) * plane, wo = o * cg * win.ntap;
      Walk q = walk_new(&qs, 0);
      for (int64_t i = 0; i < nq; i++, walk_next(&q), yi++)
        for (int64_t t = 0; t < win.ntap; t++) {
          int64_t off;
          if (!window_tap(&win, q.idx, t, &off)) continue;
          for (int64_t c = 0; c < cg; c++)
            f(ctx, (ConvIdx){xg + c * plane + off, wo + c * win.ntap + t, yi});
        }
    }
  free(win.kpos);
  return 0;
}

typedef struct ConvAcc {
  const double *a, *b; /* the two operands read */
  double *y;           /* the one accumulated */
} ConvAcc;

static void acc_grad_input(void *ctx, ConvIdx i) {
  ConvAcc *c = ctx;
  c->y[i.x] += c->a[i.y] * c->b[i.w];
}

static void acc_grad_weight(void *ctx, ConvIdx i) {
  ConvAcc *c = ctx;
  c->y[i.w] += c->a[i.x] * c->b[i.y];
}

/* gy [N,O,Q..], w [O,C/g,K..] -> gx: every product gy * w lands where conv read x. */
static int eval_conv_grad_input(Interp *it, const Node *n, double *y) {
  memset(y, 0, sizeof(double) * (size_t)shape_numel(&n->shape));
  ConvAcc c = {in_val(it, n, 0), in_val(it, n, 1), y};
  return conv_visit(it, n, &n->shape, &in_node(it, n, 1)->shape, &in_node(it, n, 0)->shape,
                    acc_grad_input, &c);
}

/* x [N,C,S..], gy [N,O,Q..] -> gw: the correlation of x with gy. */
static int eval_conv_grad_weight(Interp *it, const Node *n, double *y) {
  memset(y, 0, sizeof(double) * (size_t)shape_numel(&n->shape));
  ConvAcc c = {in_val(it, n, 0), in_val(it, n, 1), y};
  return conv_visit(it, n, &in_node(it, n, 0)->shape, &n->shape, &in_node(it, n, 1)->shape,
                    acc_grad_weight, &c);
}

/* Each window's gradient goes to the tap pool_max took: the first maximum, found with
 * the forward op's comparison (a window with no number above -inf gets none). */
static int eval_pool_max_grad(Interp *it, const Node *n, double *y) {
  const Shape *xs = &n->shape, *gs = &in_node(it, n, 1)->shape;
  Window win;
  if (window_init(&win, n, xs, node_ints(n, A_KERNEL, NULL), it->e)) return -1;
  int64_t plane = dims_prod(xs, 2, xs->rank), planes = xs->d[0] * xs->d[1];
  Shape qs = shape_make(win.nsp, gs->d + 2);
  int64_t nq = shape_numel(&qs);
  const double *gy = in_val(it, n, 1);
  memset(y, 0, sizeof(double) * (size_t)shape_numel(xs));
  for (int64_t p = 0; p < planes; p++) {
    const double *x = in_val(it, n, 0) + p * plane;
    Walk q = walk_new(&qs, 0);
    for (int64_t i = 0; i < nq; i++, walk_next(&q), gy++) {
      double acc = -INFINITY;
      int64_t best = -1, off;
      for (int64_t t = 0; t < win.ntap; t++)
        if (window_tap(&win, q.idx, t, &off) && acc < x[off]) acc = x[off], best = off;
      if (best >= 0) y[p * plane + best] += *gy;
    }
  }
  free(win.kpos);
  return 0;
}

/* Each window's gradient spread over its taps, divided as pool_avg divided. */
static int eval_pool_avg_grad(Interp *it, const Node *n, double *y) {
  const Shape *xs = &n->shape, *gs = &in_node(it, n, 0)->shape;
  Window win;
  if (window_init(&win, n, xs, node_ints(n, A_KERNEL, NULL), it->e)) return -1;
  bool count_pad = node_int(n, A_COUNT_PAD);
  int64_t plane = dims_prod(xs, 2, xs->rank), planes = xs->d[0] * xs->d[1];
  Shape qs = shape_make(win.nsp, gs->d + 2);
  int64_t nq = shape_numel(&qs), off;
  const double *gy = in_val(it, n, 0);
  memset(y, 0, sizeof(double) * (size_t)shape_numel(xs));
  for (int64_t p = 0; p < planes; p++, y += plane) {
    Walk q = walk_new(&qs, 0);
    for (int64_t i = 0; i < nq; i++, walk_next(&q), gy++) {
      int64_t count = 0;
      for (int64_t t = 0; t < win.ntap; t++) count += window_tap(&win, q.idx, t, &off);
      double share = *gy / (double)(count_pad ? win.ntap : count ? count : 1);
      for (int64_t t = 0; t < win.ntap; t++)
        if (window_tap(&win, q.idx, t, &off)) y[off] += share;
    }
  }
  free(win.kpos);
  return 0;
}

/* Element i of step s is number s * numel + i of stream seed: each step continues the
 * stream where the last one stopped. */
static int eval_rng(Interp *it, const Node *n, double *y) {
  uint64_t seed = (uint64_t)node_int(n, A_SEED), m = (uint64_t)shape_numel(&n->shape);
  uint64_t base = (uint64_t)(int64_t)in_val(it, n, 0)[0] * m;
  bool normal = n->op == OP_RNG_NORMAL;
  for (uint64_t i = 0; i < m; i++)
    y[i] = normal ? rt_rand_normal(seed, base + i) : rt_rand_uniform(seed, base + i);
  return 0;
}

/* ---- strings: a str value is its pointer's address; what an op makes lives in the
 * graph's arena, as long as the graph (ir.h) ---- */

static const char *str_at(double v) { return (const char *)(uintptr_t)v; }
static double str_val(const char *s) { return dtype_load(DT_STR, &s, 0); }
static Arena *str_arena(const Interp *it) { return ((Graph *)it->g)->arena; } /* the arena only grows */

/* str_eq, str_concat: a and b broadcast to the result. */
static void str_pairs(Interp *it, const Node *n, double *y, double (*f)(Interp *, const char *, const char *)) {
  Walk w = walk_new(&n->shape, 2);
  for (int k = 0; k < 2; k++) bcast_strides(&in_node(it, n, k)->shape, &n->shape, w.st[k]);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++, walk_next(&w))
    y[i] = f(it, str_at(in_val(it, n, 0)[w.off[0]]), str_at(in_val(it, n, 1)[w.off[1]]));
}

static double str_eq1(Interp *it, const char *a, const char *b) { return (void)it, strcmp(a, b) == 0; }
static double str_cat1(Interp *it, const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = arena_alloc(str_arena(it), la + lb + 1);
  memcpy(s, a, la), memcpy(s + la, b, lb + 1);
  return str_val(s);
}

static int eval_str_cmp(Interp *it, const Node *n, double *y) { return str_pairs(it, n, y, str_eq1), 0; }
static int eval_str_concat(Interp *it, const Node *n, double *y) { return str_pairs(it, n, y, str_cat1), 0; }

static int eval_str_case(Interp *it, const Node *n, double *y) {
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&n->shape);
  for (int64_t i = 0; i < m; i++) {
    const char *s = str_at(x[i]);
    char *t = arena_alloc(str_arena(it), strlen(s) + 1);
    if (str_case_map(s, t, node_int(n, A_UPPER) != 0, node_int(n, A_ASCII) != 0))
      return dlc_errf(it->e, "str_case: string %lld has a letter whose case dlc does not map (only ASCII, Latin-1 "
                             "and basic Cyrillic letters)", (long long)i);
    y[i] = str_val(t);
  }
  return 0;
}

static int eval_str_format(Interp *it, const Node *n, double *y) {
  const double *x = in_val(it, n, 0);
  DType t = in_node(it, n, 0)->dtype;
  for (int64_t i = 0; i < shape_numel(&n->shape); i++) {
    char buf[STR_NUM_BYTES];
    str_format_num(x[i], t, buf);
    y[i] = str_val(arena_strdup(str_arena(it), buf));
  }
  return 0;
}

static int eval_str_parse(Interp *it, const Node *n, double *y) {
  const double *x = in_val(it, n, 0);
  for (int64_t i = 0; i < shape_numel(&n->shape); i++)
    if (str_parse_num(str_at(x[i]), n->dtype, &y[i]))
      return dlc_errf(it->e, "str_parse: string %lld is not a number of type %s (or is out of its range)", (long long)i,
                      dtype_name(n->dtype));
  return 0;
}

typedef struct Pieces {
  Arena *a;
  double *y; /* bound slots, or NULL to count */
  int64_t bound;
} Pieces;

static void piece(void *ctx, int64_t k, const char *p, size_t len) {
  Pieces *pc = ctx;
  if (!pc->y || k >= pc->bound) return;
  char *s = arena_alloc(pc->a, len + 1);
  memcpy(s, p, len);
  pc->y[k] = str_val(s);
}

static int eval_str_split(Interp *it, const Node *n, double *y) {
  const double *x = in_val(it, n, 0);
  const char *d = str_at(in_val(it, n, 1)[0]), *blank = "";
  int64_t m = shape_numel(&in_node(it, n, 0)->shape), bound = node_int(n, A_BOUND), part = node_int(n, A_PART);
  for (int64_t i = 0; i < m; i++) {
    Pieces pc = {str_arena(it), part ? NULL : y + i * bound, bound};
    int64_t cnt = str_split_each(str_at(x[i]), d, node_int(n, A_MAXSPLIT), piece, &pc);
    if (part) {
      y[i] = (double)cnt;
      continue;
    }
    if (cnt > bound)
      return dlc_errf(it->e, "str_split: string %lld has %lld pieces, over the bound of %lld (--split-pieces)",
                      (long long)i, (long long)cnt, (long long)bound);
    for (int64_t k = cnt; k < bound; k++) y[i * bound + k] = str_val(blank);
  }
  return 0;
}

static int eval_str_match(Interp *it, const Node *n, double *y) {
  const double *x = in_val(it, n, 0);
  const char *pat = str_at(in_val(it, n, 1)[0]);
  regex_t re;
  if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) return dlc_errf(it->e, "str_match: the pattern does not compile");
  int rc = 0;
  for (int64_t i = 0, m = shape_numel(&n->shape); i < m && !rc; i++) {
    const unsigned char *s = (const unsigned char *)str_at(x[i]);
    for (const unsigned char *p = s; node_int(n, A_ASCII) && *p && !rc; p++)
      if (*p > 0x7f) rc = dlc_errf(it->e, "str_match: string %lld is not ASCII, which this pattern cannot match as "
                                          "written", (long long)i);
    y[i] = !rc && regexec(&re, (const char *)s, 0, NULL, 0) == 0;
  }
  regfree(&re);
  return rc;
}

/* ---- running ---- */

static int eval_nonzero(Interp *it, const Node *n, double *y);
static int eval_unique(Interp *it, const Node *n, double *y);
static int eval_nms(Interp *it, const Node *n, double *y);

static const EvalFn eval_fns[OP_COUNT] = {
#define OP(id, name, nin, impl, ...) [OP_##id] = eval_##impl,
#include "ops.def"
#undef OP
};

static int run_node(Interp *it, const Node *n) {
  int64_t m = shape_numel(&n->shape);
  /* a large value may not fit, which is a status; a small one failing is the process
   * out of memory (dlc_err.h) */
  size_t bytes = sizeof(double) * (size_t)(m ? m : 1);
  double *y = m > (1 << 20) ? dlc_try_malloc(bytes) : dlc_malloc(bytes);
  if (!y) return dlc_errf(it->e, "interp: out of memory for %s (%lld values)",
                          ir_ops[n->op].name, (long long)m);
  it->val[n->id] = y;
  if (n->guard >= 0 && it->val[n->guard][0] == 0) { /* a branch not taken: no value */
    for (int64_t i = 0; i < m; i++) y[i] = 0;
    return 0;
  }
  if (eval_fns[n->op](it, n, y)) return -1;
  for (int64_t i = 0; i < m; i++) y[i] = dtype_round(n->dtype, y[i]);
  return 0;
}

/* For each value, the last node that reads it; outputs are read at the end (g->n). */
static int *last_uses(const Graph *g) {
  int *last = dlc_malloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  if (!last) return NULL;
  for (int i = 0; i < g->n; i++) {
    last[i] = i;
    for (int k = 0; k < g->nodes[i]->nin; k++) last[g->nodes[i]->in[k]] = i;
    if (g->nodes[i]->guard >= 0) last[g->nodes[i]->guard] = i;
  }
  for (int j = 0; j < g->nout; j++) last[g->out[j]] = g->n;
  return last;
}

/* Frees the values whose last reader was n, so memory follows the live set. */
static void release_dead(Interp *it, const Node *n, const int *last) {
  for (int k = 0; k < n->nin; k++)
    if (last[n->in[k]] == n->id) free(it->val[n->in[k]]), it->val[n->in[k]] = NULL;
  if (n->guard >= 0 && last[n->guard] == n->id) free(it->val[n->guard]), it->val[n->guard] = NULL;
  if (last[n->id] == n->id) free(it->val[n->id]), it->val[n->id] = NULL;
}

int interp_run(const Graph *g, const double *const *inputs, double *const *outputs, DlcErr *e) {
  Interp it = {.g = g, .inputs = inputs, .e = e};
  it.val = dlc_calloc((size_t)(g->n ? g->n : 1), sizeof(double *));
  int *last = last_uses(g), rc = 0;
  if (!it.val || !last) rc = dlc_errf(e, "interp: out of memory");
  for (int i = 0; i < g->n && !rc; i++) {
    rc = run_node(&it, g->nodes[i]);
    release_dead(&it, g->nodes[i], last);
  }
  for (int j = 0; j < g->nout && !rc; j++) {
    const Node *o = g->nodes[g->out[j]];
    memcpy(outputs[j], it.val[o->id], sizeof(double) * (size_t)shape_numel(&o->shape));
  }
  for (int i = 0; it.val && i < g->n; i++) free(it.val[i]);
  free(it.val);
  free(last);
  return rc;
}

/* ---- data-dependent results (padded) ---- */

static int eval_nonzero(Interp *it, const Node *n, double *y) {
  const Node *xn = in_node(it, n, 0);
  const double *x = in_val(it, n, 0);
  int64_t m = shape_numel(&xn->shape), count = 0;
  int r = xn->shape.rank;
  memset(y, 0, sizeof(double) * (size_t)(r * m));
  for (int64_t i = 0; i < m; i++) {
    if (x[i] == 0) continue;
    for (int64_t rest = i, d = r - 1; d >= 0; d--) {
      y[d * m + count] = (double)(rest % xn->shape.d[d]);
      rest /= xn->shape.d[d];
    }
    count++;
  }
  return 0;
}

/* Slices a and b of x along the axis (outer x dim x inner), lexicographically. */
static int slice_cmp(const double *x, int64_t outer, int64_t dim, int64_t inner, int64_t a, int64_t b) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t q = 0; q < inner; q++) {
      double va = x[(o * dim + a) * inner + q], vb = x[(o * dim + b) * inner + q];
      if (va < vb) return -1;
      if (va > vb) return 1;
    }
  return 0;
}

/* Sorts idx[0..n) stably by before(a, b) (a strictly before b), with tmp[0..n) as the
 * merge buffer (bottom-up merge sort; unique and nms use it). */
static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, bool (*before)(int64_t, int64_t, const void *),
                       const void *ctx) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, k = mid, t = lo;
      while (i < mid && k < hi) tmp[t++] = before(idx[k], idx[i], ctx) ? idx[k++] : idx[i++];
      while (i < mid) tmp[t++] = idx[i++];
      while (k < hi) tmp[t++] = idx[k++];
    }
    memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
  }
}

typedef struct {
  const double *x;
  int64_t outer, dim, inner;
} SliceOrder;

static bool slice_before(int64_t a, int64_t b, const void *ctx) {
  const SliceOrder *so = ctx;
  return slice_cmp(so->x, so->outer, so->dim, so->inner, a, b) < 0;
}

static bool score_before(int64_t a, int64_t b, const void *ctx) {
  const double *sc = ctx;
  return sc[a] > sc[b];
}

static int eval_unique(Interp *it, const Node *n, double *y) {
  const Node *xn = in_node(it, n, 0);
  const double *x = in_val(it, n, 0);
  int ax = (int)node_int(n, A_AXIS);
  int64_t part = node_int(n, A_PART), dim = xn->shape.d[ax];
  int64_t outer = dims_prod(&xn->shape, 0, ax), inner = dims_prod(&xn->shape, ax + 1, xn->shape.rank);
  int64_t *idx = dlc_malloc(sizeof(int64_t) * (size_t)(5 * dim + 1));
  int64_t *tmp = idx + dim, *first = tmp + dim, *count = first + dim, *group = count + dim;
  for (int64_t j = 0; j < dim; j++) idx[j] = j;
  SliceOrder so = {x, outer, dim, inner};
  merge_sort(idx, tmp, dim, slice_before, &so);
  int64_t ng = 0;
  for (int64_t p = 0; p < dim; p++) {
    if (!p || slice_cmp(x, outer, dim, inner, idx[p - 1], idx[p])) first[ng] = idx[p], count[ng] = 0, ng++;
    count[ng - 1]++;
    group[idx[p]] = ng - 1;
  }
  /* the position of each group: sorted order, else the order of first appearance */
  int64_t *pos = tmp, next = 0;
  for (int64_t g = 0; g < ng; g++) pos[g] = node_int(n, A_SORTED) ? g : -1;
  for (int64_t j = 0; j < dim && !node_int(n, A_SORTED); j++)
    if (pos[group[j]] < 0) pos[group[j]] = next++;
  int64_t total = shape_numel(&n->shape);
  memset(y, 0, sizeof(double) * (size_t)(total ? total : 1));
  for (int64_t g = 0; g < ng; g++) {
    int64_t f = pos[g];
    if (part == 0)
      for (int64_t o = 0; o < outer; o++)
        for (int64_t q = 0; q < inner; q++) y[(o * dim + f) * inner + q] = x[(o * dim + first[g]) * inner + q];
    else if (part == 1) y[f] = (double)first[g];
    else if (part == 3) y[f] = (double)count[g];
  }
  if (part == 2)
    for (int64_t j = 0; j < dim; j++) y[j] = (double)pos[group[j]];
  if (part == 4) y[0] = (double)ng;
  free(idx);
  return 0;
}

/* Whether box a suppresses box b (ONNX's NonMaxSuppression): their IoU is over thr. */
static bool nms_suppress(const double *a, const double *b, int center, double thr) {
  double ax0, ax1, ay0, ay1, bx0, bx1, by0, by1;
  if (!center) {
    ax0 = fmin(a[1], a[3]), ax1 = fmax(a[1], a[3]), ay0 = fmin(a[0], a[2]), ay1 = fmax(a[0], a[2]);
    bx0 = fmin(b[1], b[3]), bx1 = fmax(b[1], b[3]), by0 = fmin(b[0], b[2]), by1 = fmax(b[0], b[2]);
  } else {
    ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2;
    bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2;
  }
  double ix0 = fmax(ax0, bx0), ix1 = fmin(ax1, bx1), iy0 = fmax(ay0, by0), iy1 = fmin(ay1, by1);
  if (ix1 <= ix0 || iy1 <= iy0) return false;
  double inter = (ix1 - ix0) * (iy1 - iy0), area_a = (ax1 - ax0) * (ay1 - ay0), area_b = (bx1 - bx0) * (by1 - by0);
  double uni = area_a + area_b - inter;
  if (inter <= 0 || area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > thr;
}

static int eval_nms(Interp *it, const Node *n, double *y) {
  const Node *bn = in_node(it, n, 0), *sn = in_node(it, n, 1);
  const double *boxes = in_val(it, n, 0), *scores = in_val(it, n, 1);
  double iou = in_val(it, n, 2)[0], sthr = in_val(it, n, 3)[0];
  int64_t nb = bn->shape.d[0], nbox = bn->shape.d[1], nc = sn->shape.d[1], most = node_int(n, A_MAX_OUT);
  int center = (int)node_int(n, A_CENTER);
  int64_t *order = dlc_malloc(sizeof(int64_t) * (size_t)(3 * nbox + 1)), *tmp = order + nbox, *kept = tmp + nbox;
  int64_t rows = 0, total = shape_numel(&n->shape);
  if (!node_int(n, A_PART)) memset(y, 0, sizeof(double) * (size_t)(total ? total : 1));
  for (int64_t b = 0; b < nb; b++)
    for (int64_t c = 0; c < nc; c++) {
      const double *sc = scores + (b * nc + c) * nbox;
      int64_t m = 0, nk = 0;
      for (int64_t i = 0; i < nbox; i++)
        if (sc[i] > sthr) order[m++] = i;
      merge_sort(order, tmp, m, score_before, sc); /* highest score first */
      for (int64_t i = 0; i < m && nk < most; i++) {
        bool keep = true;
        for (int64_t k = 0; k < nk && keep; k++)
          keep = !nms_suppress(boxes + (b * nbox + order[i]) * 4, boxes + (b * nbox + kept[k]) * 4, center, iou);
        if (!keep) continue;
        kept[nk++] = order[i];
        if (!node_int(n, A_PART)) y[rows * 3] = (double)b, y[rows * 3 + 1] = (double)c, y[rows * 3 + 2] = (double)order[i];
        rows++;
      }
    }
  if (node_int(n, A_PART)) y[0] = (double)rows;
  free(order);
  return 0;
}
