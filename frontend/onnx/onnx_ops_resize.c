/* onnx_ops_resize.c — Resize and Upsample, DepthToSpace and SpaceToDepth.
 *
 * Resizing is separable: along each resized axis, every output element is a weighted
 * sum of a few input elements.  Shapes, scales and sizes are known at compile time, so
 * the source indices and weights are computed here, per axis, following ONNX's
 * reference semantics, and the graph gets one gather per tap, a multiply by the tap's
 * weights and a sum.  Nearest is one tap of weight 1: a gather alone, exact for every
 * dtype. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



typedef enum { RM_NEAREST, RM_LINEAR, RM_CUBIC } ResizeMode;
typedef enum { CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC, CT_TF_CROP } Coord;
typedef enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_LEGACY } NearestMode;
typedef enum { KA_STRETCH, KA_NOT_LARGER, KA_NOT_SMALLER } KeepAspect;

typedef struct Name { const char *s; int v; } Name;
static const Name modes[] = {{"nearest", RM_NEAREST}, {"linear", RM_LINEAR}, {"bilinear", RM_LINEAR},
                             {"cubic", RM_CUBIC}, {0, 0}};
static const Name coords[] = {{"half_pixel", CT_HALF_PIXEL}, {"half_pixel_symmetric", CT_HALF_PIXEL_SYM},
                              {"pytorch_half_pixel", CT_PYTORCH_HALF_PIXEL}, {"align_corners", CT_ALIGN_CORNERS},
                              {"asymmetric", CT_ASYMMETRIC}, {"tf_crop_and_resize", CT_TF_CROP}, {0, 0}};
static const Name nearests[] = {{"round_prefer_floor", NM_ROUND_PREFER_FLOOR}, {"round_prefer_ceil", NM_ROUND_PREFER_CEIL},
                                {"floor", NM_FLOOR}, {"ceil", NM_CEIL}, {0, 0}};
static const Name aspects[] = {{"stretch", KA_STRETCH}, {"not_larger", KA_NOT_LARGER}, {"not_smaller", KA_NOT_SMALLER}, {0, 0}};

/* The enum value of string attribute `attr`, or -1 after reporting an unknown one. */
static int named(OnnxCtx *c, OnnxNode *n, const char *attr, const char *def, const Name *t) {
  const char *s = onnx_attr_str(c, n, attr, def);
  for (; t->s; t++)
    if (!strcmp(t->s, s)) return t->v;
  return onnx_fail(c, n, "%s '%s' is not supported", attr, s);
}

typedef struct Resize {
  ResizeMode mode;
  Coord coord;
  NearestMode nearest;
  double cubic_a, extrap;
  bool exclude_outside, antialias;
  int rank;
  int64_t in[IR_MAX_RANK], out[IR_MAX_RANK];
  double scale[IR_MAX_RANK];
  double roi[2 * IR_MAX_RANK]; /* starts, then ends, per axis (tf_crop_and_resize) */
} Resize;

/* ---- per-axis taps ---- */

/* Where output element x of an axis reads from, in input coordinates. */
static double source_coord(const Resize *r, int a, int64_t x) {
  double s = r->scale[a], in = (double)r->in[a], width = s * in, xd = (double)x;
  double r0 = r->roi[a], r1 = r->roi[a + r->rank];
  switch (r->coord) {
  case CT_ALIGN_CORNERS: return width == 1 ? 0 : xd * (in - 1) / (width - 1);
  case CT_ASYMMETRIC: return xd / s;
  case CT_TF_CROP:
    return (width == 1 ? (r1 - r0) * (in - 1) / 2 : xd * (r1 - r0) * (in - 1) / (width - 1)) + r0 * (in - 1);
  case CT_PYTORCH_HALF_PIXEL: return width == 1 ? -0.5 : (xd + 0.5) / s - 0.5;
  case CT_HALF_PIXEL: return (xd + 0.5) / s - 0.5;
  case CT_HALF_PIXEL_SYM: {
    double adjust = (double)r->out[a] / width, offset = in / 2 * (1 - adjust);
    return offset + (xd + 0.5) / s - 0.5;
  }
  }
  return 0;
}

/* Keys' cubic kernel with parameter A at distance x. */
static double cubic(double x, double A) {
  x = fabs(x);
  if (x <= 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}

/* The weights of the n points left+first .. left+first+n-1 around a source coordinate
 * that lies `ratio` (in (0, 1]) past point `left`; returns n and sets *first.  With
 * antialias, a downscaling filter is stretched by 1/scale and normalised. */
static int coeffs(const Resize *r, double ratio, double scale, double *w, int *first, int max) {
  if (r->mode == RM_NEAREST) {
    bool up = ratio == 1 || (r->nearest == NM_ROUND_PREFER_FLOOR && ratio > 0.5) ||
              (r->nearest == NM_ROUND_PREFER_CEIL && ratio >= 0.5) || r->nearest == NM_CEIL;
    *first = 0, w[0] = !up, w[1] = up;
    return 2;
  }
  double s = r->antialias && scale < 1 ? scale : 1, support = r->mode == RM_LINEAR ? 1 : 2, sum = 0;
  int start = (int)floor(-support / s) + 1, cnt = 2 - 2 * start;
  if (cnt > max) return -1;
  for (int j = 0; j < cnt; j++) {
    double d = ((double)(start + j) - ratio) * s;
    w[j] = r->mode == RM_LINEAR ? fmax(0, 1 - fabs(d)) : cubic(d, r->cubic_a);
    sum += w[j];
  }
  if (r->antialias)
    for (int j = 0; j < cnt; j++) w[j] /= sum;
  *first = start;
  return cnt;
}

#define MAX_TAPS 256

typedef struct Taps {
  int n;           /* taps per output element */
  int64_t *idx;    /* [out][n] source indices, clamped to the axis */
  double *w;       /* [out][n] weights */
  double *fill;    /* [out] value added: extrapolation_value where the source is outside */
  bool any_fill;
} Taps;

/* The legacy nearest rounding of Upsample and Resize-10 (asymmetric coordinates):
 * down when upsampling, up when downsampling. */
static int64_t legacy_nearest(double x, double scale) {
  return scale < 1 ? (int64_t)ceil(x) : (int64_t)floor(x);
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Output element i of axis a: its taps, as ONNX's reference picks them: the n points
 * nearest the source (ties to the lower), kept inside the input padded by n/2 at each
 * end, whose values are the edge values. */
static int element_taps(const Resize *r, int a, int64_t i, Taps *t) {
  int64_t in = r->in[a], *idx = t->idx + i * t->n;
  double x = source_coord(r, a, i), *w = t->w + i * t->n, cw[MAX_TAPS];
  for (int j = 0; j < t->n; j++) idx[j] = 0, w[j] = 0;
  t->fill[i] = 0;
  if (r->coord == CT_TF_CROP && (x < 0 || x > (double)(in - 1))) {
    t->fill[i] = r->extrap, t->any_fill = true;
    return 0;
  }
  if (r->nearest == NM_LEGACY) {
    idx[0] = clampi(legacy_nearest(x, r->scale[a]), 0, in - 1), w[0] = 1;
    return 0;
  }
  double fl = floor(x), ratio = x == fl ? 1 : x - fl;
  int64_t left = x == fl ? (int64_t)fl - 1 : (int64_t)fl;
  int first, cnt = coeffs(r, ratio, r->scale[a], cw, &first, MAX_TAPS);
  if (cnt < 0 || cnt > t->n) return -1;
  int64_t pad = (cnt + 1) / 2, start = clampi(left + first, -pad, in + pad - cnt);
  double sum = 0;
  for (int j = 0; j < cnt; j++) {
    if (r->exclude_outside && (start + j < 0 || start + j >= in)) cw[j] = 0;
    sum += cw[j];
  }
  for (int j = 0; j < cnt; j++) {
    idx[j] = clampi(start + j, 0, in - 1);
    w[j] = r->exclude_outside ? (sum != 0 ? cw[j] / sum : 0) : cw[j];
  }
  return 0;
}

/* Taps per element along axis a: nearest and legacy 2 (one used), linear 2, cubic 4,
 * more with antialias. */
static int tap_count(const Resize *r, int a) {
  if (r->nearest == NM_LEGACY) return 1;
  double w[MAX_TAPS];
  int first;
  return coeffs(r, 0.5, r->scale[a], w, &first, MAX_TAPS);
}

/* True when the taps of axis a copy the input unchanged. */
static bool is_identity(const Resize *r, int a, const Taps *t) {
  if (r->out[a] != r->in[a] || t->any_fill) return false;
  for (int64_t i = 0; i < r->out[a]; i++)
    for (int j = 0; j < t->n; j++) {
      double w = t->w[i * t->n + j];
      if (w != 0 && (w != 1 || t->idx[i * t->n + j] != i)) return false;
    }
  return true;
}

/* ---- emitting one axis ---- */

/* A constant [out, 1, ...] (one 1 per dim after `a`) that broadcasts along axis a. */
static int axis_const(OnnxCtx *c, int a, int rank, int64_t out, DType t, const double *v, int64_t stride) {
  Shape s = {.rank = rank - a};
  for (int i = 0; i < s.rank; i++) s.d[i] = i ? 1 : out;
  void *data = arena_alloc(c->g->arena, (size_t)(out * dtype_size(t)) + 1);
  for (int64_t i = 0; i < out; i++) dtype_store(t, data, i, v[i * stride]);
  return ir_const(c->g, NULL, t, s, data);
}

/* The values x[..., idx[i][j], ...] along axis a, for tap j. */
static int gather_tap(OnnxCtx *c, int x, int a, const Taps *t, int64_t out, int j) {
  int64_t *ix = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)out);
  for (int64_t i = 0; i < out; i++) ix[i] = t->idx[i * t->n + j];
  Shape s = {.rank = 1, .d = {out}};
  int in[2] = {x, ir_const(c->g, NULL, DT_I64, s, ix)};
  if (in[1] < 0) return -1;
  Attr at = attr_int(A_AXIS, a);
  return ir_add(c->g, OP_GATHER, in, 2, &at, 1);
}

/* Tap j is one weight for every element: a pure gather when it is 1, unused when 0. */
static bool tap_all(const Taps *t, int64_t out, int j, double v) {
  for (int64_t i = 0; i < out; i++)
    if (t->w[i * t->n + j] != v) return false;
  return true;
}

/* Whether every element takes one source whole (nearest, nothing outside): then ix holds
 * the sources, and one gather is the result, for any dtype (no weights to multiply: a 0
 * weight times an inf would be a NaN, and a str or bool has no product). */
static bool one_source(const Taps *t, int64_t out, int64_t *ix) {
  if (t->any_fill) return false;
  for (int64_t i = 0; i < out; i++) {
    int k = -1;
    for (int j = 0; j < t->n; j++) {
      double w = t->w[i * t->n + j];
      if (w == 1 && k < 0) k = j;
      else if (w != 0) return false;
    }
    if (k < 0) return false;
    ix[i] = t->idx[i * t->n + k];
  }
  return true;
}

/* x[..., ix[i], ...] along axis a. */
static int gather_sources(OnnxCtx *c, int x, int a, const int64_t *ix, int64_t out) {
  Shape s = {.rank = 1, .d = {out}};
  int in[2] = {x, ir_const(c->g, NULL, DT_I64, s, ix)};
  Attr at = attr_int(A_AXIS, a);
  return in[1] < 0 ? -1 : ir_add(c->g, OP_GATHER, in, 2, &at, 1);
}

static int emit_axis(OnnxCtx *c, int x, int a, const Resize *r, const Taps *t) {
  DType dt = c->g->nodes[x]->dtype;
  int64_t out = r->out[a];
  int y = -1;
  for (int j = 0; j < t->n; j++) {
    if (tap_all(t, out, j, 0)) continue;
    int v = gather_tap(c, x, a, t, out, j);
    if (v >= 0 && !tap_all(t, out, j, 1)) {
      int w = axis_const(c, a, r->rank, out, dt, t->w + j, t->n);
      v = w < 0 ? -1 : ir_binary(c->g, OP_MUL, v, w);
    }
    if (v >= 0 && y >= 0) v = ir_binary(c->g, OP_ADD, y, v);
    if ((y = v) < 0) return -1;
  }
  if (y < 0) { /* every source lies outside: the result is the fill alone */
    int64_t d[IR_MAX_RANK];
    Shape s = *shape_of(c, x);
    memcpy(d, s.d, sizeof d);
    d[a] = out;
    Attr at = attr_ints(A_SHAPE, d, s.rank);
    int z = ir_scalar(c->g, dt, 0);
    if (z < 0 || (y = ir_add(c->g, OP_BROADCAST, &z, 1, &at, 1)) < 0) return -1;
  }
  if (t->any_fill && r->extrap != 0) {
    int f = axis_const(c, a, r->rank, out, dt, t->fill, 1);
    y = f < 0 ? -1 : ir_binary(c->g, OP_ADD, y, f);
  }
  return y;
}

/* pa: the axis x is padded along (a data-dependent length), which must come out as it
 * went in; or -1. */
static int resize_axes(OnnxCtx *c, OnnxNode *n, int x, const Resize *r, int pa) {
  for (int a = 0; a < r->rank; a++) {
    int64_t out = r->out[a];
    if (out < 1) return onnx_fail(c, n, "output dimension %d would be %lld", a, (long long)out);
    Taps t = {.n = tap_count(r, a)};
    if (t.n < 1) return onnx_fail(c, n, "the filter along axis %d needs more than %d taps", a, MAX_TAPS);
    /* The tables (and the constants made of them) are weights: their budget first. */
    double bytes = (double)out * (t.n * (sizeof(int64_t) + sizeof(double)) + sizeof(double));
    if (ir_limit_bytes("the tap tables", (double)c->g->weight_bytes + bytes, ir_limits.weight_bytes,
                       "--max-weight-bytes", &c->g->err))
      return onnx_fail_ir(c, n);
    t.idx = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)(out * t.n));
    t.w = arena_alloc(c->g->arena, sizeof(double) * (size_t)(out * t.n));
    t.fill = arena_alloc(c->g->arena, sizeof(double) * (size_t)out);
    for (int64_t i = 0; i < out; i++)
      if (element_taps(r, a, i, &t)) return onnx_fail(c, n, "the filter along axis %d needs too many taps", a);
    if (is_identity(r, a, &t)) continue;
    if (a == pa)
      return onnx_fail(c, n, "would resize input '%s' along the axis whose length depends on the data; dlc pads that "
                       "axis", n->p->input[0]);
    int64_t *ix = arena_alloc(c->g->arena, sizeof(int64_t) * (size_t)out);
    DType dt = c->g->nodes[x]->dtype;
    if (one_source(&t, out, ix)) ONNX_TRY(c, n, x = gather_sources(c, x, a, ix, out));
    else if (dt == DT_STR || dt == DT_BOOL)
      return onnx_fail(c, n, "nearest resizing of %s with extrapolation (tf_crop_and_resize) is not supported",
                       dtype_name(dt));
    else ONNX_TRY(c, n, x = emit_axis(c, x, a, r, &t));
  }
  return x;
}

/* ---- reading the operator ---- */

/* A float operand known at compile time: count, 0 when absent or empty. */
static int const_vals(OnnxCtx *c, OnnxNode *n, int i, const char *what, double *v, int max) {
  if (i >= n->nin || n->in[i] < 0) return 0;
  int cnt = onnx_const_doubles(c, n->in[i], v, max);
  if (cnt < 0) return onnx_fail(c, n, "input %d (%s) must be a constant known at compile time", i + 1, what);
  if (cnt > max) return onnx_fail(c, n, "input %d (%s) has more than %d values", i + 1, what, max);
  return cnt;
}

/* axes (opset 18): the listed axes, or every axis. */
static int resize_axes_attr(OnnxCtx *c, OnnxNode *n, int rank, int64_t *axes) {
  int64_t raw[IR_MAX_RANK];
  int na = onnx_attr_ints(n, "axes", raw, IR_MAX_RANK);
  if (na < 0) {
    for (int i = 0; i < rank; i++) axes[i] = i;
    return rank;
  }
  if (na > rank) return onnx_fail(c, n, "axes has %d entries for rank %d", na, rank);
  for (int i = 0; i < na; i++)
    if (onnx_axis(c, n, raw[i], rank, &axes[i])) return -1;
  return na;
}

/* An output size computed in double, within the element budget before it becomes an
 * integer (and before any tap table is built from it). */
static int out_size(OnnxCtx *c, OnnxNode *n, double v, int64_t *out) {
  if (!(v >= 0)) return onnx_fail(c, n, "an output size of %g is not valid", v);
  if (ir_limit_elements("the output", v, &c->g->err)) return onnx_fail_ir(c, n);
  *out = (int64_t)v;
  return 0;
}

static int out_budget(OnnxCtx *c, OnnxNode *n, const Resize *r) {
  double total = 1;
  for (int a = 0; a < r->rank; a++) total *= (double)r->out[a];
  return ir_limit_elements("the output", total, &c->g->err) ? onnx_fail_ir(c, n) : 0;
}

/* Output sizes and scales from `scales` or `sizes` (one per listed axis), with
 * keep_aspect_ratio_policy applied to sizes. */
static int resize_shape(OnnxCtx *c, OnnxNode *n, Resize *r, const int64_t *axes, int na, const double *scales,
                        int ns, const double *sizes, int nz) {
  int ka = named(c, n, "keep_aspect_ratio_policy", "stretch", aspects);
  if (ka < 0) return -1;
  if ((ns > 0) == (nz > 0)) return onnx_fail(c, n, "needs exactly one of scales and sizes");
  if ((ns ? ns : nz) != na) return onnx_fail(c, n, "%s has %d entries for %d axes", ns ? "scales" : "sizes", ns ? ns : nz, na);
  for (int i = 0; i < na; i++) {
    int64_t a = axes[i];
    if (ns) {
      if (!(scales[i] > 0)) return onnx_fail(c, n, "scales must be positive");
      r->scale[a] = scales[i];
      if (out_size(c, n, scales[i] * (double)r->in[a], &r->out[a])) return -1;
    } else {
      if (out_size(c, n, sizes[i], &r->out[a])) return -1;
      r->scale[a] = sizes[i] / (double)r->in[a];
    }
  }
  if (ns || ka == KA_STRETCH) return out_budget(c, n, r);
  double s = r->scale[axes[0]];
  for (int i = 1; i < na; i++) s = ka == KA_NOT_LARGER ? fmin(s, r->scale[axes[i]]) : fmax(s, r->scale[axes[i]]);
  for (int i = 0; i < na; i++) {
    r->scale[axes[i]] = s;
    if (out_size(c, n, s * (double)r->in[axes[i]] + 0.5, &r->out[axes[i]])) return -1;
  }
  return out_budget(c, n, r);
}

static int resize_roi(OnnxCtx *c, OnnxNode *n, Resize *r, const int64_t *axes, int na) {
  double roi[2 * IR_MAX_RANK];
  int cnt = r->coord == CT_TF_CROP ? const_vals(c, n, 1, "roi", roi, 2 * IR_MAX_RANK) : 0;
  if (cnt < 0) return -1;
  if (r->coord == CT_TF_CROP && cnt != 2 * na) return onnx_fail(c, n, "roi needs %d values for tf_crop_and_resize", 2 * na);
  for (int i = 0; i < na; i++)
    r->roi[axes[i]] = roi[i], r->roi[axes[i] + r->rank] = roi[i + na];
  return 0;
}

static int resize_attrs(OnnxCtx *c, OnnxNode *n, Resize *r) {
  int m = named(c, n, "mode", "nearest", modes), ct = named(c, n, "coordinate_transformation_mode", "half_pixel", coords);
  int nm = named(c, n, "nearest_mode", "round_prefer_floor", nearests);
  if (m < 0 || ct < 0 || nm < 0) return -1;
  r->mode = m, r->coord = ct, r->nearest = nm;
  r->cubic_a = onnx_attr_float(n, "cubic_coeff_a", -0.75);
  r->extrap = onnx_attr_float(n, "extrapolation_value", 0);
  r->exclude_outside = onnx_attr_int(n, "exclude_outside", 0) != 0;
  r->antialias = onnx_attr_int(n, "antialias", 0) != 0;
  if (r->antialias && m == RM_NEAREST) return onnx_fail(c, n, "antialias applies to linear and cubic modes only");
  return 0;
}

/* Before opset 11 (and in Upsample): asymmetric coordinates and nearest or linear. */
static void legacy(Resize *r) {
  r->coord = CT_ASYMMETRIC;
  if (r->mode == RM_NEAREST) r->nearest = NM_LEGACY;
}

static void resize_init(OnnxCtx *c, int x, Resize *r) {
  const Shape *s = shape_of(c, x);
  r->rank = s->rank;
  for (int i = 0; i < s->rank; i++) {
    r->in[i] = r->out[i] = s->d[i], r->scale[i] = 1;
    r->roi[i] = 0, r->roi[i + s->rank] = 1;
  }
}

static int finish(OnnxCtx *c, OnnxNode *n, const Resize *r) {
  int x = n->in[0];
  if (r->mode != RM_NEAREST && !dtype_is_float(c->g->nodes[x]->dtype))
    return onnx_fail(c, n, "%s resizing of %s is not supported (only float dtypes)",
                     r->mode == RM_LINEAR ? "linear" : "cubic", dtype_name(c->g->nodes[x]->dtype));
  int pa = onnx_dyn_axis(c, x); /* a data-dependent length: resized along other axes only */
  int y = resize_axes(c, n, x, r, pa);
  if (y < 0) return -1;
  n->out[0] = y;
  onnx_dyn_follow(c, x, y, pa);
  return 0;
}

/* Resize-10: X, scales.  Resize-11 on: X, roi, scales, sizes. */
int onnx_Resize(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  Resize r = {0};
  resize_init(c, n->in[0], &r);
  if (resize_attrs(c, n, &r)) return -1;
  double scales[IR_MAX_RANK], sizes[IR_MAX_RANK];
  int64_t axes[IR_MAX_RANK];
  int na = resize_axes_attr(c, n, r.rank, axes), ns, nz = 0;
  if (na < 0) return -1;
  if (c->opset < 11) {
    legacy(&r);
    if ((ns = const_vals(c, n, 1, "scales", scales, IR_MAX_RANK)) < 0) return -1;
  } else if ((ns = const_vals(c, n, 2, "scales", scales, IR_MAX_RANK)) < 0 ||
             (nz = const_vals(c, n, 3, "sizes", sizes, IR_MAX_RANK)) < 0 || resize_roi(c, n, &r, axes, na))
    return -1;
  if (resize_shape(c, n, &r, axes, na, scales, ns, sizes, nz)) return -1;
  return finish(c, n, &r);
}

/* Upsample-7: scales attribute; Upsample-9: scales input. */
int onnx_Upsample(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  Resize r = {0};
  resize_init(c, n->in[0], &r);
  int m = named(c, n, "mode", "nearest", modes);
  if (m < 0) return -1;
  r.mode = m;
  if (r.mode == RM_CUBIC) return onnx_fail(c, n, "mode 'cubic' is not an Upsample mode");
  legacy(&r);
  double scales[IR_MAX_RANK];
  int64_t axes[IR_MAX_RANK];
  int ns = c->opset < 9 ? onnx_attr_floats(n, "scales", scales, IR_MAX_RANK)
                        : const_vals(c, n, 1, "scales", scales, IR_MAX_RANK);
  if (ns < 0) return c->opset < 9 ? onnx_fail(c, n, "needs attribute 'scales'") : -1;
  for (int i = 0; i < r.rank; i++) axes[i] = i;
  if (resize_shape(c, n, &r, axes, r.rank, scales, ns, NULL, 0)) return -1;
  return finish(c, n, &r);
}

/* ---- DepthToSpace, SpaceToDepth: reshape, transpose, reshape ---- */

static int regroup(OnnxCtx *c, OnnxNode *n, const int64_t *mid, const int64_t *perm, const int64_t *out) {
  int y;
  ONNX_TRY(c, n, y = ir_reshape(c->g, n->in[0], mid, 6));
  ONNX_TRY(c, n, y = ir_transpose(c->g, y, perm));
  ONNX_TRY(c, n, y = ir_reshape(c->g, y, out, 4));
  n->out[0] = y;
  return 0;
}

static int blocks(OnnxCtx *c, OnnxNode *n, const Shape **x, int64_t *b) {
  if (need(c, n, 1)) return -1;
  *x = shape_of(c, n->in[0]);
  *b = onnx_attr_int(n, "blocksize", 0);
  if ((*x)->rank != 4) return onnx_fail(c, n, "X must have rank 4 ([N, C, H, W])");
  if (*b < 1) return onnx_fail(c, n, "blocksize must be 1 or more");
  if (*b > 4096) return onnx_fail(c, n, "blocksize %lld is over 4096", (long long)*b); /* b² must not overflow */
  return 0;
}

/* [N, C, H, W] -> [N, C/b², H*b, W*b]; DCR reads the channel as (b, b, C/b²), CRD as (C/b², b, b). */
int onnx_DepthToSpace(OnnxCtx *c, OnnxNode *n) {
  const Shape *x;
  int64_t b;
  if (blocks(c, n, &x, &b)) return -1;
  int64_t N = x->d[0], C = x->d[1], H = x->d[2], W = x->d[3], q = C / (b * b);
  if (C % (b * b)) return onnx_fail(c, n, "channels (%lld) do not divide by blocksize² (%lld)", (long long)C, (long long)(b * b));
  const char *mode = onnx_attr_str(c, n, "mode", "DCR");
  int64_t out[4] = {N, q, H * b, W * b};
  if (!strcmp(mode, "DCR")) {
    int64_t mid[6] = {N, b, b, q, H, W}, perm[6] = {0, 3, 4, 1, 5, 2};
    return regroup(c, n, mid, perm, out);
  }
  if (!strcmp(mode, "CRD")) {
    int64_t mid[6] = {N, q, b, b, H, W}, perm[6] = {0, 1, 4, 2, 5, 3};
    return regroup(c, n, mid, perm, out);
  }
  return onnx_fail(c, n, "mode '%s' is not supported (DCR or CRD)", mode);
}

/* [N, C, H, W] -> [N, C*b², H/b, W/b]; DCR makes the channel (b, b, C), CRD (C, b, b). */
int onnx_SpaceToDepth(OnnxCtx *c, OnnxNode *n) {
  const Shape *x;
  int64_t b;
  if (blocks(c, n, &x, &b)) return -1;
  int64_t N = x->d[0], C = x->d[1], H = x->d[2], W = x->d[3];
  if (H % b || W % b) return onnx_fail(c, n, "height and width must divide by blocksize %lld", (long long)b);
  const char *mode = onnx_attr_str(c, n, "mode", "DCR");
  int64_t mid[6] = {N, C, H / b, b, W / b, b}, out[4] = {N, C * b * b, H / b, W / b};
  if (!strcmp(mode, "DCR")) {
    int64_t perm[6] = {0, 3, 5, 1, 2, 4};
    return regroup(c, n, mid, perm, out);
  }
  if (!strcmp(mode, "CRD")) {
    int64_t perm[6] = {0, 1, 3, 5, 2, 4};
    return regroup(c, n, mid, perm, out);
  }
  return onnx_fail(c, n, "mode '%s' is not supported (DCR or CRD)", mode);
}
