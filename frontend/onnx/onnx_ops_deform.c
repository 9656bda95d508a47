/* onnx_ops_deform.c — DeformConv: a convolution whose kernel taps are moved, per output
 * point, by learned offsets (and weighted by an optional mask).
 *
 * Each tap of each output point reads X bilinearly at its moved position, zero outside
 * (ONNX's reference samples with GridSample, bilinear, zeros, align_corners 1): per
 * spatial axis two taps, and every combination of the axes' taps is one gather of X's
 * rows.  The samples form the im2col matrix [N, C*K, P] (K kernel taps, P output
 * points), which a matmul with W [groups, M/groups, C/groups*K] turns into Y. */
#include <string.h>

#include "onnx_fe.h"



static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }

/* An attribute of one value per spatial axis, or def for each. */
static int per_axis(OnnxCtx *c, OnnxNode *n, const char *name, int want, int64_t def, int64_t *v) {
  int cnt = onnx_attr_ints(n, name, v, want); /* v holds want values */
  if (cnt < 0) {
    for (int i = 0; i < want; i++) v[i] = def;
    return 0;
  }
  if (cnt != want) return onnx_fail(c, n, "%s needs %d values", name, want);
  return 0;
}

typedef struct Deform {
  Shape xs, ws, os;   /* X [N, C, S..], W [M, C/g, k..], offset [N, og*K*nsp, O..] */
  int nsp;
  int64_t groups, og, K, P, S;
  int64_t st[IR_MAX_RANK], dil[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
} Deform;

static int deform_attrs(OnnxCtx *c, OnnxNode *n, Deform *d) {
  int nsp = d->nsp;
  int64_t ks[IR_MAX_RANK];
  if (per_axis(c, n, "strides", nsp, 1, d->st) || per_axis(c, n, "dilations", nsp, 1, d->dil) ||
      per_axis(c, n, "pads", 2 * nsp, 0, d->pads) || per_axis(c, n, "kernel_shape", nsp, 0, ks))
    return -1;
  d->groups = onnx_attr_int(n, "group", 1), d->og = onnx_attr_int(n, "offset_group", 1);
  int64_t C = d->xs.d[1], M = d->ws.d[0];
  if (d->groups < 1 || d->og < 1 || C % d->groups || M % d->groups || C % d->og || d->ws.d[1] * d->groups != C)
    return onnx_fail(c, n, "group %lld and offset_group %lld do not fit %lld input and %lld output channels",
                     (long long)d->groups, (long long)d->og, (long long)C, (long long)M);
  d->K = 1, d->P = 1, d->S = 1;
  for (int i = 0; i < nsp; i++) {
    if (ks[i] && ks[i] != d->ws.d[2 + i]) return onnx_fail(c, n, "kernel_shape does not match W");
    if (d->st[i] < 1 || d->dil[i] < 1 || d->st[i] > 1 << 30 || d->dil[i] > 1 << 30)
      return onnx_fail(c, n, "strides and dilations must be in 1..2^30");
    if (d->pads[i] < 0 || d->pads[nsp + i] < 0 || d->pads[i] > 1 << 30 || d->pads[nsp + i] > 1 << 30)
      return onnx_fail(c, n, "pads must be in 0..2^30");
    int64_t span = (d->ws.d[2 + i] - 1) * d->dil[i] + 1;
    int64_t o = (d->xs.d[2 + i] + d->pads[i] + d->pads[nsp + i] - span) / d->st[i] + 1;
    if (o != d->os.d[2 + i]) return onnx_fail(c, n, "offset's spatial dimensions do not match the output's");
    d->K *= d->ws.d[2 + i], d->P *= o, d->S *= d->xs.d[2 + i];
  }
  if (d->os.d[0] != d->xs.d[0] || d->os.d[1] != d->og * d->K * nsp)
    return onnx_fail(c, n, "offset must be [N, offset_group * %lld * %d, O..]", (long long)d->K, nsp);
  return 0;
}

/* The undisturbed position of tap t at output point o along axis i, as [1, 1, K, O..]:
 * o * stride - pad_begin + t * dilation. */
static int tap_base(OnnxCtx *c, const Deform *d, int i, DType t) {
  int r = 3 + d->nsp;
  int64_t dims[IR_MAX_RANK] = {1, 1, d->K};
  for (int j = 0; j < d->nsp; j++) dims[3 + j] = d->os.d[2 + j];
  void *data = arena_alloc(c->g->arena, (size_t)(d->K * d->P) * dtype_size(t));
  for (int64_t e = 0; e < d->K * d->P; e++) {
    int64_t p = e % d->P, kk = e / d->P, oi = 0, ti = 0;
    for (int j = d->nsp - 1; j >= 0; j--) {
      if (j == i) oi = p % d->os.d[2 + j], ti = kk % d->ws.d[2 + j];
      p /= d->os.d[2 + j], kk /= d->ws.d[2 + j];
    }
    dtype_store(t, data, e, (double)(oi * d->st[i] - d->pads[i] + ti * d->dil[i]));
  }
  return ir_const(c->g, NULL, t, shape_make(r, dims), data);
}

/* Offsets along axis i as [N, og, K, O..]. */
static int offsets_along(OnnxCtx *c, const Deform *d, int off, int i) {
  int r = 4 + d->nsp;
  int64_t dims[IR_MAX_RANK] = {d->xs.d[0], d->og, d->K, d->nsp}, st[IR_MAX_RANK] = {0}, sp[IR_MAX_RANK];
  for (int j = 0; j < d->nsp; j++) dims[4 + j] = d->os.d[2 + j];
  int v = reshape(c, off, dims, r);
  int64_t en[IR_MAX_RANK];
  memcpy(en, dims, sizeof en);
  for (int j = 0; j < r; j++) sp[j] = 1;
  st[3] = i, en[3] = i + 1;
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  v = v < 0 ? -1 : ir_add(c->g, OP_SLICE, &v, 1, a, 3);
  dims[3] = dims[4]; /* drop axis 3 */
  for (int j = 3; j < r - 1; j++) dims[j] = dims[j + 1];
  return reshape(c, v, dims, r - 1);
}

/* The sampled columns [N, og, K, O.., C/og]. */
static int sample(OnnxCtx *c, OnnxNode *n, const Deform *d, int x, int off, int mask) {
  DType t = dtype_of(c, x);
  int idx[IR_MAX_RANK][2], w[IR_MAX_RANK][2];
  int64_t stride[IR_MAX_RANK], s = 1;
  for (int i = d->nsp - 1; i >= 0; i--) stride[i] = s, s *= d->xs.d[2 + i];
  for (int i = 0; i < d->nsp; i++) {
    int p = bin(c, OP_ADD, offsets_along(c, d, off, i), tap_base(c, d, i, t));
    int x0 = p < 0 ? -1 : ir_unary(c->g, OP_FLOOR, p), f = bin(c, OP_SUB, p, x0);
    double dim = (double)d->xs.d[2 + i];
    for (int e = 0; e < 2; e++) {
      int q = e ? bin(c, OP_ADD, x0, k(c, x0, 1)) : x0;
      int in = bin(c, OP_AND, bin(c, OP_GE, q, k(c, q, 0)), bin(c, OP_LT, q, k(c, q, dim)));
      w[i][e] = sel(c, in, e ? f : bin(c, OP_SUB, k(c, f, 1), f), k(c, f, 0));
      q = bin(c, OP_MIN, bin(c, OP_MAX, q, k(c, q, 0)), k(c, q, dim - 1));
      idx[i][e] = q < 0 ? -1 : ir_cast(c->g, q, DT_I64);
      if (stride[i] != 1) idx[i][e] = bin(c, OP_MUL, idx[i][e], k(c, idx[i][e], (double)stride[i]));
    }
  }
  /* X as [N*og*S, C/og]; the row of (n, g) starts at (n*og + g) * S */
  int64_t cpg = d->xs.d[1] / d->og, v1[IR_MAX_RANK] = {d->xs.d[0], d->og, cpg}, perm[IR_MAX_RANK] = {0, 1};
  for (int i = 0; i < d->nsp; i++) v1[3 + i] = d->xs.d[2 + i], perm[2 + i] = 3 + i;
  perm[2 + d->nsp] = 2;
  int64_t flat[2] = {d->xs.d[0] * d->og * d->S, cpg};
  int xt = reshape(c, x, v1, 3 + d->nsp);
  xt = xt < 0 ? -1 : ir_transpose(c->g, xt, perm);
  xt = reshape(c, xt, flat, 2);
  int64_t *off0 = arena_alloc(c->g->arena, (size_t)(d->xs.d[0] * d->og) * sizeof *off0);
  for (int64_t b = 0; b < d->xs.d[0] * d->og; b++) off0[b] = b * d->S;
  int64_t bd[IR_MAX_RANK] = {d->xs.d[0], d->og}, wd[IR_MAX_RANK] = {d->xs.d[0], d->og, d->K};
  for (int i = 0; i < d->nsp + 1; i++) bd[2 + i] = 1;
  for (int i = 0; i < d->nsp; i++) wd[3 + i] = d->os.d[2 + i];
  wd[3 + d->nsp] = 1;
  int base = ir_const(c->g, NULL, DT_I64, shape_make(2 + d->nsp + 1, bd), off0);
  if (mask >= 0 && (mask = reshape(c, mask, wd, 3 + d->nsp)) < 0) return onnx_fail_ir(c, n);
  int y = -1;
  for (int m = 0; m < 1 << d->nsp; m++) {
    int id = base, wt = mask;
    for (int i = 0; i < d->nsp; i++) {
      int e = (m >> i) & 1;
      id = bin(c, OP_ADD, id, idx[i][e]);
      wt = i == 0 && mask < 0 ? w[i][e] : bin(c, OP_MUL, wt, w[i][e]);
    }
    int in[2] = {xt, id};
    Attr a = attr_int(A_AXIS, 0);
    int v = id < 0 || xt < 0 ? -1 : ir_add(c->g, OP_GATHER, in, 2, &a, 1);
    v = bin(c, OP_MUL, v, reshape(c, wt, wd, 4 + d->nsp));
    ONNX_TRY(c, n, y = y < 0 ? v : bin(c, OP_ADD, y, v));
  }
  return y;
}

/* X, W, offset, B (optional), mask (optional). */
int onnx_DeformConv(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0], w = n->in[1], off = n->in[2];
  Deform d = {.xs = *shape_of(c, x), .ws = *shape_of(c, w), .os = *shape_of(c, off)};
  d.nsp = d.xs.rank - 2;
  if (d.nsp < 1 || d.ws.rank != d.xs.rank || d.os.rank != d.xs.rank)
    return onnx_fail(c, n, "X, W and offset need the same rank, 3 or more");
  DType t = dtype_of(c, x);
  if (!dtype_is_float(t) || dtype_of(c, w) != t || dtype_of(c, off) != t)
    return onnx_fail(c, n, "X, W and offset must be of one floating-point type");
  for (int i = 0; i < d.nsp; i++)
    if (d.xs.d[2 + i] < 1) return onnx_fail(c, n, "X has an empty spatial dimension");
  if (deform_attrs(c, n, &d)) return -1;
  int mask = has_in(n, 4) ? n->in[4] : -1;
  if (mask >= 0 && (dtype_of(c, mask) != t || shape_numel(shape_of(c, mask)) != d.xs.d[0] * d.og * d.K * d.P))
    return onnx_fail(c, n, "mask must be [N, offset_group * %lld, O..] of X's type", (long long)d.K);
  int cols = sample(c, n, &d, x, off, mask);
  if (cols < 0) return -1;
  /* [N, og, K, O.., C/og] -> [N, og, C/og, K, O..] -> [N, groups, C/groups*K, P] */
  int64_t perm[IR_MAX_RANK] = {0, 1, 3 + d.nsp, 2}, cd[4], wd[3], yd[IR_MAX_RANK];
  for (int i = 0; i < d.nsp; i++) perm[4 + i] = 3 + i;
  int64_t N = d.xs.d[0], C = d.xs.d[1], M = d.ws.d[0];
  cd[0] = N, cd[1] = d.groups, cd[2] = C / d.groups * d.K, cd[3] = d.P;
  wd[0] = d.groups, wd[1] = M / d.groups, wd[2] = C / d.groups * d.K;
  int y, wr;
  ONNX_TRY(c, n, y = reshape(c, ir_transpose(c->g, cols, perm), cd, 4));
  ONNX_TRY(c, n, wr = reshape(c, w, wd, 3));
  ONNX_TRY(c, n, y = ir_matmul(c->g, wr, y, false, false)); /* [N, groups, M/groups, P] */
  yd[0] = N, yd[1] = M;
  for (int i = 0; i < d.nsp; i++) yd[2 + i] = d.os.d[2 + i];
  ONNX_TRY(c, n, y = reshape(c, y, yd, d.xs.rank));
  if (has_in(n, 3)) {
    int b = n->in[3];
    if (shape_numel(shape_of(c, b)) != M || dtype_of(c, b) != t) return onnx_fail(c, n, "B must hold %lld values of X's type", (long long)M);
    for (int i = 0; i < d.xs.rank; i++) yd[i] = i == 1 ? M : 1;
    ONNX_TRY(c, n, y = bin(c, OP_ADD, y, reshape(c, b, yd, d.xs.rank)));
  }
  n->out[0] = y;
  return 0;
}
