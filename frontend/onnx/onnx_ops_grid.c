/* onnx_ops_grid.c — GridSample and AffineGrid.
 *
 * GridSample reads X [N, C, D1..Dk] at the points of grid [N, O1..Ok, k] (normalised
 * coordinates, the last axis in the order x, y, z: Dk first).  Each spatial axis turns
 * its coordinate into a few taps (an index and a weight: 1 for nearest, 2 for linear,
 * 4 for cubic), following ONNX's reference step by step: denormalise, round (nearest),
 * bring a point outside the borders back (border: clamp; reflection: reflect), then
 * fetch each tap with the padding mode (zeros: weight 0 outside; border: the index
 * clamped; reflection: the index reflected).  Every combination of the axes' taps is
 * one gather of X seen as [N*D1*..*Dk, C] with indices [N, O...], times the product of
 * the weights; the sum of them all is the result. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int addk(OnnxCtx *c, int a, double v) { return bin(c, OP_ADD, a, k(c, a, v)); }
static int mulk(OnnxCtx *c, int a, double v) { return bin(c, OP_MUL, a, k(c, a, v)); }
static int clampk(OnnxCtx *c, int a, double lo, double hi) {
  return bin(c, OP_MIN, bin(c, OP_MAX, a, k(c, a, lo)), k(c, a, hi));
}

typedef enum { GS_NEAREST, GS_LINEAR, GS_CUBIC } GsMode;
typedef enum { GS_ZEROS, GS_BORDER, GS_REFLECT } GsPad;

/* The point v brought back into [lo, hi] by reflecting it at the borders as often as
 * it takes (ONNX's _gs_reflect): d = distance past the border, n = floor(d / range),
 * r = d - n * range; an even n comes back r from that border, an odd one r from the
 * other. */
static int reflect(OnnxCtx *c, int v, double lo, double hi) {
  double range = hi - lo;
  int below = bin(c, OP_LT, v, k(c, v, lo)), above = bin(c, OP_GT, v, k(c, v, hi));
  if (range <= 0) return sel(c, bin(c, OP_OR, below, above), k(c, v, lo), v);
  int d = sel(c, below, bin(c, OP_SUB, k(c, v, lo), v), addk(c, v, -hi));
  int q = un(c, OP_FLOOR, bin(c, OP_DIV, d, k(c, d, range)));
  int r = bin(c, OP_SUB, d, mulk(c, q, range));
  int odd = bin(c, OP_NE, bin(c, OP_MOD, q, k(c, q, 2)), k(c, q, 0));
  int from_lo = addk(c, r, lo), from_hi = bin(c, OP_SUB, k(c, r, hi), r);
  int low_side = sel(c, odd, from_hi, from_lo), high_side = sel(c, odd, from_lo, from_hi);
  return sel(c, below, low_side, sel(c, above, high_side, v));
}

/* One axis of the sampling: its taps' indices (i64, within [0, D)) and weights. */
typedef struct Taps {
  int n;
  int idx[4], w[4];
} Taps;

/* Keys' cubic convolution weights (alpha -0.75) of the taps -1, 0, 1, 2 at fraction t. */
static void cubic_weights(OnnxCtx *c, int t, int *w) {
  const double a = -0.75;
  int t1 = addk(c, t, 1), s = bin(c, OP_SUB, k(c, t, 1), t), s1 = bin(c, OP_SUB, k(c, t, 2), t);
  /* ((a*u - 5a)*u + 8a)*u - 4a for u = t+1 and 2-t; ((a+2)*u - (a+3))*u*u + 1 for u = t, 1-t */
  int u[4] = {t1, t, s, s1};
  for (int i = 0; i < 4; i++) {
    if (i == 0 || i == 3)
      w[i] = addk(c, bin(c, OP_MUL, addk(c, bin(c, OP_MUL, addk(c, mulk(c, u[i], a), -5 * a), u[i]), 8 * a), u[i]), -4 * a);
    else
      w[i] = addk(c, bin(c, OP_MUL, bin(c, OP_MUL, addk(c, mulk(c, u[i], a + 2), -(a + 3)), u[i]), u[i]), 1);
  }
}

/* The tap at float index p (an integer value): its index made safe to gather with and
 * its weight zeroed where the padding gives 0. */
static int fetch(OnnxCtx *c, int p, int64_t dim, GsPad pad, double lo, double hi, int *w) {
  if (pad == GS_ZEROS) {
    int in = bin(c, OP_AND, bin(c, OP_GE, p, k(c, p, 0)), bin(c, OP_LT, p, k(c, p, (double)dim)));
    *w = sel(c, in, *w, k(c, *w, 0));
  } else if (pad == GS_REFLECT)
    p = reflect(c, p, lo, hi);
  p = clampk(c, p, 0, (double)(dim - 1)); /* the cast below truncates toward zero, as ONNX's int() */
  return p < 0 ? -1 : ir_cast(c->g, p, DT_I64);
}

static int axis_taps(OnnxCtx *c, int g, int64_t dim, GsMode mode, GsPad pad, bool align, Taps *t) {
  double lo = align ? 0 : -0.5, hi = align ? (double)dim - 1 : (double)dim - 0.5;
  /* denormalise: (g + 1) / 2 * (D - 1), or ((g + 1) * D - 1) / 2 */
  int v = align ? mulk(c, addk(c, g, 1), ((double)dim - 1) / 2) : mulk(c, addk(c, mulk(c, addk(c, g, 1), (double)dim), -1), 0.5);
  if (mode == GS_NEAREST) v = un(c, OP_ROUND, v);
  int out = bin(c, OP_OR, bin(c, OP_LT, v, k(c, v, lo)), bin(c, OP_GT, v, k(c, v, hi)));
  if (pad == GS_BORDER) v = sel(c, out, clampk(c, v, 0, (double)dim - 1), v);
  if (pad == GS_REFLECT) v = reflect(c, v, lo, hi);
  if (v < 0) return -1;
  if (mode == GS_NEAREST) {
    t->n = 1, t->w[0] = k(c, v, 1);
    t->idx[0] = fetch(c, v, dim, pad, lo, hi, &t->w[0]);
    return t->idx[0];
  }
  int x0 = un(c, OP_FLOOR, v), f = bin(c, OP_SUB, v, x0);
  if (mode == GS_LINEAR) {
    t->n = 2, t->w[0] = bin(c, OP_SUB, k(c, f, 1), f), t->w[1] = f;
  } else {
    t->n = 4;
    cubic_weights(c, f, t->w);
  }
  int first = mode == GS_LINEAR ? 0 : -1;
  for (int i = 0; i < t->n; i++)
    if ((t->idx[i] = fetch(c, addk(c, x0, first + i), dim, pad, lo, hi, &t->w[i])) < 0) return -1;
  return 0;
}

/* grid[..., j] as [N, O...]. */
static int grid_component(OnnxCtx *c, int grid, int j) {
  const Shape s = *shape_of(c, grid);
  int64_t st[IR_MAX_RANK] = {0}, en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s.rank; i++) en[i] = s.d[i], sp[i] = 1;
  st[s.rank - 1] = j, en[s.rank - 1] = j + 1;
  Attr a[3] = {attr_ints(A_STARTS, st, s.rank), attr_ints(A_ENDS, en, s.rank), attr_ints(A_STEPS, sp, s.rank)};
  int y = ir_add(c->g, OP_SLICE, &grid, 1, a, 3);
  return y < 0 ? -1 : ir_reshape(c->g, y, s.d, s.rank - 1);
}

static int parse_mode(OnnxCtx *c, OnnxNode *n, GsMode *m, GsPad *p) {
  bool old = c->opset < 20;
  const char *mode = onnx_attr_str(c, n, "mode", old ? "bilinear" : "linear");
  const char *pad = onnx_attr_str(c, n, "padding_mode", "zeros");
  if (!strcmp(mode, "nearest")) *m = GS_NEAREST;
  else if (!strcmp(mode, old ? "bilinear" : "linear")) *m = GS_LINEAR;
  else if (!strcmp(mode, old ? "bicubic" : "cubic")) *m = GS_CUBIC;
  else return onnx_fail(c, n, "mode '%s' is not one of %s", mode, old ? "bilinear, nearest, bicubic" : "linear, nearest, cubic");
  if (!strcmp(pad, "zeros")) *p = GS_ZEROS;
  else if (!strcmp(pad, "border")) *p = GS_BORDER;
  else if (!strcmp(pad, "reflection")) *p = GS_REFLECT;
  else return onnx_fail(c, n, "padding_mode '%s' is not one of zeros, border, reflection", pad);
  return 0;
}

int onnx_GridSample(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], grid = n->in[1];
  const Shape xs = *shape_of(c, x), gs = *shape_of(c, grid);
  int nsp = xs.rank - 2;
  if (nsp < 1 || gs.rank != xs.rank || gs.d[0] != xs.d[0] || gs.d[gs.rank - 1] != nsp)
    return onnx_fail(c, n, "X must be [N, C, D1..Dk] and grid [N, O1..Ok, k] (k >= 1)");
  if (!dtype_is_float(dtype_of(c, x)) || dtype_of(c, grid) != dtype_of(c, x))
    return onnx_fail(c, n, "X and grid must be of one floating-point type, not %s and %s", dtype_name(dtype_of(c, x)),
                     dtype_name(dtype_of(c, grid)));
  for (int i = 0; i < nsp; i++)
    if (xs.d[2 + i] < 1) return onnx_fail(c, n, "X has an empty spatial dimension");
  GsMode mode = GS_LINEAR;
  GsPad pad = GS_ZEROS;
  if (parse_mode(c, n, &mode, &pad)) return -1;
  bool align = onnx_attr_int(n, "align_corners", 0) != 0;
  if (mode == GS_CUBIC && nsp != 2) return onnx_fail(c, n, "cubic mode needs 2 spatial dimensions, not %d", nsp);
  Taps t[IR_MAX_RANK];
  int64_t spatial = 1, stride[IR_MAX_RANK];
  for (int i = nsp - 1; i >= 0; i--) stride[i] = spatial, spatial *= xs.d[2 + i];
  for (int i = 0; i < nsp; i++)
    if (axis_taps(c, grid_component(c, grid, nsp - 1 - i), xs.d[2 + i], mode, pad, align, &t[i]) < 0)
      return onnx_fail_ir(c, n);
  /* X as [N*S, C]; a batch offset n*S as [N, 1..1] i64 */
  int64_t perm[IR_MAX_RANK], flat[2] = {xs.d[0] * spatial, xs.d[1]};
  perm[0] = 0, perm[xs.rank - 1] = 1;
  for (int i = 0; i < nsp; i++) perm[1 + i] = 2 + i;
  int xt;
  ONNX_TRY(c, n, xt = ir_reshape(c->g, ir_transpose(c->g, x, perm), flat, 2));
  int64_t *off = arena_alloc(c->g->arena, (size_t)xs.d[0] * sizeof *off), od[IR_MAX_RANK];
  for (int64_t b = 0; b < xs.d[0]; b++) off[b] = b * spatial;
  od[0] = xs.d[0];
  for (int i = 1; i < gs.rank - 1; i++) od[i] = 1;
  int base = ir_const(c->g, NULL, DT_I64, shape_make(gs.rank - 1, od), off);
  ONNX_TRY(c, n, base);
  /* every combination of the taps: one gather each */
  int64_t combos = 1, wd[IR_MAX_RANK];
  for (int i = 0; i < nsp; i++) combos *= t[i].n;
  for (int i = 0; i < gs.rank - 1; i++) wd[i] = gs.d[i];
  wd[gs.rank - 1] = 1;
  int y = -1;
  for (int64_t m = 0; m < combos; m++) {
    int idx = base, w = -1;
    for (int64_t i = nsp - 1, r = m; i >= 0; r /= t[i].n, i--) {
      int j = (int)(r % t[i].n);
      idx = bin(c, OP_ADD, idx, stride[i] == 1 ? t[i].idx[j] : bin(c, OP_MUL, t[i].idx[j], k(c, t[i].idx[j], (double)stride[i])));
      w = w < 0 ? t[i].w[j] : bin(c, OP_MUL, w, t[i].w[j]);
    }
    int in[2] = {xt, idx};
    Attr a = attr_int(A_AXIS, 0);
    int v = idx < 0 ? -1 : ir_add(c->g, OP_GATHER, in, 2, &a, 1);
    if (w >= 0 && shape_of(c, w)->rank) w = ir_reshape(c->g, w, wd, gs.rank); /* else the constant 1 */
    v = bin(c, OP_MUL, v, w);
    ONNX_TRY(c, n, y = y < 0 ? v : bin(c, OP_ADD, y, v));
  }
  /* [N, O..., C] -> [N, C, O...] */
  int64_t back[IR_MAX_RANK];
  back[0] = 0, back[1] = gs.rank - 1;
  for (int i = 0; i < nsp; i++) back[2 + i] = 1 + i;
  ONNX_TRY(c, n, n->out[0] = ir_transpose(c->g, y, back));
  return 0;
}

/* ---- AffineGrid ------------------------------------------------------------------- */

#define GRID_MAX (1 << 24) /* points of the base grid, a constant */

/* grid[n, p] = theta[n] · (x_p, y_p, [z_p,] 1): the base grid of normalised points (in
 * x, y, z order) is a constant [S, k+1], times theta [N, k, k+1] transposed. */
int onnx_AffineGrid(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int theta = n->in[0];
  const Shape ts = *shape_of(c, theta);
  int64_t size[IR_MAX_RANK];
  int ns = onnx_const_ints(c, n->in[1], size, IR_MAX_RANK);
  if (ns < 0) return onnx_fail(c, n, "size must be a constant known at compile time");
  if (ns != 4 && ns != 5) return onnx_fail(c, n, "size must be [N, C, H, W] or [N, C, D, H, W]");
  int nsp = ns - 2;
  if (!dtype_is_float(dtype_of(c, theta))) return onnx_fail(c, n, "theta must be floating-point");
  if (ts.rank != 3 || ts.d[0] != size[0] || ts.d[1] != nsp || ts.d[2] != nsp + 1)
    return onnx_fail(c, n, "theta must be [N, %d, %d] with N = size[0]", nsp, nsp + 1);
  bool align = onnx_attr_int(n, "align_corners", 0) != 0;
  double pts = 1;
  for (int i = 2; i < ns; i++) {
    if (size[i] < 1) return onnx_fail(c, n, "size[%d] = %lld is not positive", i, (long long)size[i]);
    pts *= (double)size[i];
  }
  if (pts > GRID_MAX) return onnx_fail(c, n, "the grid's %.0f points are over %d", pts, GRID_MAX);
  int64_t s = (int64_t)pts, bd[2] = {s, nsp + 1};
  DType t = dtype_of(c, theta);
  void *data = arena_alloc(c->g->arena, (size_t)(s * (nsp + 1)) * dtype_size(t));
  for (int64_t p = 0; p < s; p++) {
    int64_t r = p;
    for (int i = nsp - 1; i >= 0; i--) { /* spatial axis i is coordinate nsp-1-i */
      int64_t d = size[2 + i], j = r % d;
      r /= d;
      double v = align ? (d > 1 ? -1 + 2.0 * (double)j / (double)(d - 1) : -1) : (2.0 * (double)j + 1) / (double)d - 1;
      dtype_store(t, data, p * (nsp + 1) + (nsp - 1 - i), v);
    }
    dtype_store(t, data, p * (nsp + 1) + nsp, 1);
  }
  int base, y;
  ONNX_TRY(c, n, base = ir_const(c->g, NULL, t, shape_make(2, bd), data));
  ONNX_TRY(c, n, y = ir_matmul(c->g, base, theta, false, true)); /* [N, S, k] */
  int64_t od[IR_MAX_RANK];
  od[0] = size[0];
  for (int i = 0; i < nsp; i++) od[1 + i] = size[2 + i];
  od[1 + nsp] = nsp;
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, y, od, nsp + 2));
  return 0;
}
