/* onnx_ops_norm.c — ONNX normalisations (batch, instance, layer, group, mean-variance,
 * RMS, Lp, local response) and the losses over class scores (NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss), composed of reductions and elementwise ops. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"


static bool wants_out(const OnnxNode *n, int i) { return i < n->nout && n->p->output[i] && *n->p->output[i]; }

/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int cast(OnnxCtx *c, int x, DType t) {
  return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t);
}
static int sum_keep(OnnxCtx *c, int x, const int64_t *ax, int na) {
  return x < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, x, ax, na, true);
}

/* The number of elements the axes cover. */
static double count(OnnxCtx *c, int x, const int64_t *ax, int na) {
  double cnt = 1;
  for (int i = 0; i < na; i++) cnt *= (double)shape_of(c, x)->d[ax[i]];
  return cnt;
}

/* Mean and (population) variance over the axes, both in keepdims form; *centered is x - mean. */
static int moments(OnnxCtx *c, int x, const int64_t *ax, int na, int *mean, int *centered) {
  if (x < 0) return *mean = *centered = -1;
  double cnt = count(c, x, ax, na);
  *mean = bin(c, OP_DIV, sum_keep(c, x, ax, na), k(c, x, cnt));
  *centered = bin(c, OP_SUB, x, *mean);
  return bin(c, OP_DIV, sum_keep(c, bin(c, OP_MUL, *centered, *centered), ax, na), k(c, x, cnt));
}

/* (x - mean) / sqrt(var + eps) over the axes; *inv_std gets 1 / sqrt(var + eps) if asked. */
static int standardize(OnnxCtx *c, int x, const int64_t *ax, int na, double eps, int *mean, int *inv_std) {
  int m, d;
  int var = moments(c, x, ax, na, &m, &d);
  int inv = un(c, OP_RSQRT, bin(c, OP_ADD, var, k(c, x, eps)));
  if (mean) *mean = m;
  if (inv_std) *inv_std = inv;
  return bin(c, OP_MUL, d, inv);
}

/* A per-channel vector [C] shaped [C, 1, ...] to broadcast against [N, C, D1, ...]. */
static int per_channel(OnnxCtx *c, int v, int rank) {
  if (v < 0) return -1;
  int64_t d[IR_MAX_RANK];
  d[0] = shape_numel(shape_of(c, v));
  for (int i = 1; i < rank - 1; i++) d[i] = 1;
  return reshape(c, v, d, rank - 1);
}

/* The axes 0, 2, 3, ... rank-1 (all but the channel) or 2 ... rank-1 (spatial). */
static int axes_from(int first, bool skip_channel, int rank, int64_t *ax) {
  int na = 0;
  for (int i = first; i < rank; i++)
    if (!(skip_channel && i == 1)) ax[na++] = i;
  return na;
}

static int need_nc(OnnxCtx *c, OnnxNode *n, int x) {
  if (shape_of(c, x)->rank < 2) return onnx_fail(c, n, "input must have rank 2 or more ([N, C, ...])");
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "input must be floating-point");
  return 0;
}

/* ---- BatchNormalization -------------------------------------------------------------- */

/* Training mode normalises with the batch's own statistics and also returns the
 * running statistics updated with momentum. */
static int batchnorm_train(OnnxCtx *c, OnnxNode *n, int x, int *mean, int *var) {
  int r = shape_of(c, x)->rank;
  int64_t ax[IR_MAX_RANK], cdim = shape_of(c, x)->d[1];
  int na = axes_from(0, true, r, ax), m, d;
  int v = moments(c, x, ax, na, &m, &d);
  double mom = onnx_attr_float(n, "momentum", 0.9);
  int bm = reshape(c, m, &cdim, 1), bv = reshape(c, v, &cdim, 1);
  if (wants_out(n, 1))
    ONNX_TRY(c, n, n->out[1] = bin(c, OP_ADD, bin(c, OP_MUL, n->in[3], k(c, x, mom)), bin(c, OP_MUL, bm, k(c, x, 1 - mom))));
  if (wants_out(n, 2))
    ONNX_TRY(c, n, n->out[2] = bin(c, OP_ADD, bin(c, OP_MUL, n->in[4], k(c, x, mom)), bin(c, OP_MUL, bv, k(c, x, 1 - mom))));
  *mean = bm, *var = bv;
  return bm < 0 || bv < 0 ? onnx_fail_ir(c, n) : 0;
}

int onnx_BatchNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 5)) return -1;
  int x = n->in[0], r = shape_of(c, x)->rank;
  if (need_nc(c, n, x)) return -1;
  if (onnx_attr(n, "spatial") && !onnx_attr_int(n, "spatial", 1))
    return onnx_fail(c, n, "spatial=0 (per-activation statistics) is not supported");
  double eps = onnx_attr_float(n, "epsilon", 1e-5);
  bool train = c->opset >= 14 ? onnx_attr_int(n, "training_mode", 0) != 0 : wants_out(n, 1) || wants_out(n, 2);
  if (c->opset < 14 && train) return onnx_fail(c, n, "training outputs before opset 14 are not supported");
  int mean = n->in[3], var = n->in[4];
  if (train && batchnorm_train(c, n, x, &mean, &var)) return -1;
  /* y = (x - mean) * scale / sqrt(var + eps) + bias */
  int inv = un(c, OP_RSQRT, bin(c, OP_ADD, var, k(c, var, eps)));
  int a = per_channel(c, bin(c, OP_MUL, n->in[1], inv), r);
  int y = bin(c, OP_MUL, bin(c, OP_SUB, x, per_channel(c, mean, r)), a);
  ONNX_TRY(c, n, n->out[0] = bin(c, OP_ADD, y, per_channel(c, n->in[2], r)));
  return 0;
}

/* ---- InstanceNormalization, GroupNormalization, MeanVarianceNormalization ------------- */

int onnx_InstanceNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0], r = shape_of(c, x)->rank;
  if (need_nc(c, n, x)) return -1;
  int64_t ax[IR_MAX_RANK];
  int na = axes_from(2, false, r, ax);
  int y = standardize(c, x, ax, na, onnx_attr_float(n, "epsilon", 1e-5), NULL, NULL);
  y = bin(c, OP_MUL, y, per_channel(c, n->in[1], r));
  ONNX_TRY(c, n, n->out[0] = bin(c, OP_ADD, y, per_channel(c, n->in[2], r)));
  return 0;
}

/* Channels split into groups, each [C/G, D...] slice standardised: x seen as
 * [N, G, C/G * D...].  From opset 21 scale and bias are per channel ([C]); before,
 * per group ([G]). */
int onnx_GroupNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0];
  if (need_nc(c, n, x)) return -1;
  const Shape xs = *shape_of(c, x);
  int64_t groups = onnx_attr_int(n, "num_groups", 0), ch = xs.d[1];
  if (groups <= 0 || ch % groups) return onnx_fail(c, n, "num_groups %lld does not divide %lld channels", (long long)groups, (long long)ch);
  if (c->opset >= 21 && onnx_attr_int(n, "stash_type", 1) != 1)
    return onnx_fail(c, n, "stash_type %lld is not supported (only 1, float)", (long long)onnx_attr_int(n, "stash_type", 1));
  int64_t gd[3] = {xs.d[0], groups, shape_numel(&xs) / (xs.d[0] * groups)}, ax = 2;
  int y = standardize(c, reshape(c, x, gd, 3), &ax, 1, onnx_attr_float(n, "epsilon", 1e-5), NULL, NULL);
  int64_t per = shape_numel(shape_of(c, n->in[1]));
  if (per != (c->opset >= 21 ? ch : groups))
    return onnx_fail(c, n, "scale has %lld values, expected %lld", (long long)per, (long long)(c->opset >= 21 ? ch : groups));
  if (c->opset >= 21) {
    y = reshape(c, y, xs.d, xs.rank);
    y = bin(c, OP_ADD, bin(c, OP_MUL, y, per_channel(c, n->in[1], xs.rank)), per_channel(c, n->in[2], xs.rank));
  } else {
    y = bin(c, OP_ADD, bin(c, OP_MUL, y, per_channel(c, n->in[1], 3)), per_channel(c, n->in[2], 3));
    y = reshape(c, y, xs.d, xs.rank);
  }
  ONNX_TRY(c, n, n->out[0] = y);
  return 0;
}

/* (x - mean) / (sqrt(var) + 1e-9) over the axes (default N and the spatial axes). */
int onnx_MeanVarianceNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0], r = shape_of(c, x)->rank;
  int64_t raw[IR_MAX_RANK], ax[IR_MAX_RANK];
  int na = onnx_attr_ints(n, "axes", raw, IR_MAX_RANK);
  if (na < 0) {
    if (r != 4) return onnx_fail(c, n, "the default axes (0, 2, 3) need rank 4, not %d", r);
    na = 3, raw[0] = 0, raw[1] = 2, raw[2] = 3;
  }
  if (na > r) return onnx_fail(c, n, "axes has %d entries for rank %d", na, r);
  for (int i = 0; i < na; i++)
    if (onnx_axis(c, n, raw[i], r, &ax[i])) return -1;
  int m, d;
  int std = un(c, OP_SQRT, moments(c, x, ax, na, &m, &d));
  ONNX_TRY(c, n, n->out[0] = bin(c, OP_DIV, d, bin(c, OP_ADD, std, k(c, x, 1e-9))));
  return 0;
}

/* ---- LayerNormalization ------------------------------------------------------------ */

/* Standardised over the axes from `axis` on, computed in the stash type; Mean and
 * InvStdDev (optional outputs) keep the reduced axes as 1. */
int onnx_LayerNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], r = shape_of(c, x)->rank;
  DType t = dtype_of(c, x), u;
  if (!dtype_is_float(t)) return onnx_fail(c, n, "input must be floating-point");
  int64_t stash = onnx_attr_int(n, "stash_type", 1), axis;
  if (stash == 1) u = DT_F32;
  else if (stash == 11) u = DT_F64;
  else return onnx_fail(c, n, "stash_type %lld is not supported (1: float, 11: double)", (long long)stash);
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -1), r, &axis)) return -1;
  int64_t ax[IR_MAX_RANK];
  int na = axes_from((int)axis, false, r, ax), mean, inv;
  int y = standardize(c, cast(c, x, u), ax, na, onnx_attr_float(n, "epsilon", 1e-5), &mean, &inv);
  y = bin(c, OP_MUL, cast(c, y, t), n->in[1]);
  if (has_in(n, 2)) y = bin(c, OP_ADD, y, n->in[2]);
  ONNX_TRY(c, n, n->out[0] = y);
  if (wants_out(n, 1)) ONNX_TRY(c, n, n->out[1] = mean);
  if (wants_out(n, 2)) ONNX_TRY(c, n, n->out[2] = inv);
  return 0;
}

/* x / sqrt(mean(x²) + epsilon) over the axes from `axis` on, in the stash type, times Scale. */
int onnx_RMSNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], r = shape_of(c, x)->rank;
  DType t = dtype_of(c, x);
  if (!dtype_is_float(t)) return onnx_fail(c, n, "input must be floating-point");
  int64_t stash = onnx_attr_int(n, "stash_type", 1), axis;
  if (stash != 1) return onnx_fail(c, n, "stash_type %lld is not supported (1: float)", (long long)stash);
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -1), r, &axis)) return -1;
  int64_t ax[IR_MAX_RANK];
  int na = axes_from((int)axis, false, r, ax);
  int u = cast(c, x, DT_F32);
  int ms = bin(c, OP_DIV, sum_keep(c, bin(c, OP_MUL, u, u), ax, na), k(c, u, count(c, x, ax, na)));
  int y = bin(c, OP_MUL, u, un(c, OP_RSQRT, bin(c, OP_ADD, ms, k(c, u, onnx_attr_float(n, "epsilon", 1e-5)))));
  ONNX_TRY(c, n, n->out[0] = bin(c, OP_MUL, cast(c, y, t), n->in[1]));
  return 0;
}

/* x / ||x||_p along axis (p 1 or 2); 0 where the norm is 0. */
int onnx_LpNormalization(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "input must be floating-point");
  int64_t p = onnx_attr_int(n, "p", 2), axis;
  if (p != 1 && p != 2) return onnx_fail(c, n, "p %lld is not supported (1 or 2)", (long long)p);
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", -1), shape_of(c, x)->rank, &axis)) return -1;
  int norm = p == 1 ? sum_keep(c, un(c, OP_ABS, x), &axis, 1) : un(c, OP_SQRT, sum_keep(c, bin(c, OP_MUL, x, x), &axis, 1));
  int zero = bin(c, OP_EQ, norm, k(c, x, 0));
  ONNX_TRY(c, n, n->out[0] = sel(c, zero, k(c, x, 0), bin(c, OP_DIV, x, norm)));
  return 0;
}

/* ---- LRN ------------------------------------------------------------------------- */

/* y[c] = x[c + d] along axis 1, zeros where c + d falls outside: one pad that crops d
 * on one side and adds d on the other. */
static int shift_channels(OnnxCtx *c, int x, int64_t d) {
  if (x < 0) return -1;
  int r = shape_of(c, x)->rank;
  int64_t pads[2 * IR_MAX_RANK] = {0};
  pads[1] = -d, pads[1 + r] = d;
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, 0)};
  return d ? ir_add(c->g, OP_PAD, &x, 1, a, 2) : x;
}

/* y = x / (bias + alpha / size * sum of x^2 over the channels c - floor((size-1)/2) ..
 * c + ceil((size-1)/2))^beta.  The window sum adds shifted copies of x^2; offsets past
 * the channel count add only zeros and are left out, so a huge size costs nothing. */
int onnx_LRN(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  if (need_nc(c, n, x)) return -1;
  int64_t size = onnx_attr_int(n, "size", 0), ch = shape_of(c, x)->d[1];
  if (size < 1) return onnx_fail(c, n, "needs a positive attribute 'size'");
  double alpha = onnx_attr_float(n, "alpha", 1e-4), beta = onnx_attr_float(n, "beta", 0.75),
         bias = onnx_attr_float(n, "bias", 1.0);
  int64_t lo = (size - 1) / 2, hi = size / 2;
  lo = lo < ch - 1 ? lo : ch - 1, hi = hi < ch - 1 ? hi : ch - 1;
  int sq, sum = -1;
  ONNX_TRY(c, n, sq = bin(c, OP_MUL, x, x));
  for (int64_t d = -lo; d <= hi; d++) {
    int s = shift_channels(c, sq, d);
    ONNX_TRY(c, n, sum = sum < 0 ? s : bin(c, OP_ADD, sum, s));
  }
  int den = bin(c, OP_ADD, k(c, x, bias), bin(c, OP_MUL, k(c, x, alpha / (double)size), sum));
  ONNX_TRY(c, n, n->out[0] = bin(c, OP_DIV, x, bin(c, OP_POW, den, k(c, x, beta))));
  return 0;
}

/* ---- NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ------------------------------ */

typedef enum { RED_NONE, RED_SUM, RED_MEAN } Reduction;

static int reduction_of(OnnxCtx *c, OnnxNode *n, Reduction *r) {
  const char *s = onnx_attr_str(c, n, "reduction", "mean");
  if (!strcmp(s, "none")) *r = RED_NONE;
  else if (!strcmp(s, "sum")) *r = RED_SUM;
  else if (!strcmp(s, "mean")) *r = RED_MEAN;
  else return onnx_fail(c, n, "reduction '%s' is not one of none, sum, mean", s);
  return 0;
}

/* Sum over every axis, to a scalar. */
static int sum_all(OnnxCtx *c, int x) {
  if (x < 0) return -1;
  int64_t ax[IR_MAX_RANK];
  int r = shape_of(c, x)->rank;
  for (int i = 0; i < r; i++) ax[i] = i;
  return ir_reduce(c->g, OP_REDUCE_SUM, x, ax, r, false);
}

/* What both losses share: x [N, C, D...] of log-probabilities, target [N, D...] of class
 * indices, weight [C] (or -1).  The target's class is picked by a one-hot mask built
 * from an iota over C, so a target equal to ignore_index (in range or not) can be
 * masked out without ever indexing with it.  The mean divides by the total weight of
 * the targets not ignored. */
static int nll(OnnxCtx *c, OnnxNode *n, int x, int target, int weight) {
  const Shape xs = *shape_of(c, x), ts = *shape_of(c, target);
  if (xs.rank < 2 || ts.rank != xs.rank - 1 || ts.d[0] != xs.d[0])
    return onnx_fail(c, n, "scores must be [N, C, D...] and the target [N, D...]");
  for (int i = 1; i < ts.rank; i++)
    if (ts.d[i] != xs.d[i + 1]) return onnx_fail(c, n, "the target's shape does not match the scores'");
  if (!dtype_is_int(dtype_of(c, target))) return onnx_fail(c, n, "the target must hold integers");
  Reduction red = RED_MEAN;
  if (reduction_of(c, n, &red)) return -1;
  int64_t td[IR_MAX_RANK], one = 1;
  for (int i = 0, j = 0; i < xs.rank; i++) td[i] = i == 1 ? 1 : ts.d[j++];
  int t = cast(c, target, DT_I64);
  Attr io[3] = {attr_ints(A_SHAPE, xs.d, xs.rank), attr_int(A_AXIS, 1), attr_dtype(A_DTYPE, DT_I64)};
  int cls, hit;
  ONNX_TRY(c, n, cls = ir_add(c->g, OP_IOTA, NULL, 0, io, 3));
  ONNX_TRY(c, n, hit = bin(c, OP_EQ, cls, reshape(c, t, td, xs.rank)));
  int picked = reshape(c, sum_keep(c, sel(c, hit, x, k(c, x, 0)), &one, 1), ts.d, ts.rank);
  bool has_ii = onnx_attr(n, "ignore_index") != NULL;
  int valid = has_ii ? bin(c, OP_NE, t, ir_scalar(c->g, DT_I64, (double)onnx_attr_int(n, "ignore_index", 0))) : -2;
  int w = -2; /* -2: every target weighs 1 */
  if (weight >= 0) {
    int64_t wd[IR_MAX_RANK]; /* [1, C, 1, ...] */
    for (int i = 0; i < xs.rank; i++) wd[i] = i == 1 ? xs.d[1] : 1;
    int wc = reshape(c, weight, wd, xs.rank);
    w = reshape(c, sum_keep(c, sel(c, hit, wc, k(c, x, 0)), &one, 1), ts.d, ts.rank);
    if (has_ii) w = sel(c, valid, w, k(c, x, 0));
  } else if (has_ii) {
    w = cast(c, valid, dtype_of(c, x));
  }
  int loss = un(c, OP_NEG, picked);
  if (w != -2) loss = bin(c, OP_MUL, loss, w);
  if (red == RED_SUM) loss = sum_all(c, loss);
  if (red == RED_MEAN)
    loss = bin(c, OP_DIV, sum_all(c, loss), w != -2 ? sum_all(c, w) : k(c, x, (double)shape_numel(&ts)));
  ONNX_TRY(c, n, n->out[0] = loss);
  return 0;
}

int onnx_NegativeLogLikelihoodLoss(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  if (!dtype_is_float(dtype_of(c, n->in[0]))) return onnx_fail(c, n, "input must be floating-point");
  return nll(c, n, n->in[0], n->in[1], has_in(n, 2) ? n->in[2] : -1);
}

/* log_softmax over C, then the negative log-likelihood; log_prob is the optional
 * second output. */
int onnx_SoftmaxCrossEntropyLoss(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0];
  if (need_nc(c, n, x)) return -1;
  int64_t ax = 1;
  int m = x < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_MAX, x, &ax, 1, true);
  int d = bin(c, OP_SUB, x, m);
  int lp = bin(c, OP_SUB, d, un(c, OP_LOG, sum_keep(c, un(c, OP_EXP, d), &ax, 1)));
  if (lp < 0) return onnx_fail_ir(c, n);
  if (nll(c, n, lp, n->in[1], has_in(n, 2) ? n->in[2] : -1)) return -1;
  if (wants_out(n, 1)) n->out[1] = lp;
  return 0;
}
