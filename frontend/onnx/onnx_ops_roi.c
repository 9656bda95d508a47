/* onnx_ops_roi.c — RoiAlign: each region of interest pooled to [output_height,
 * output_width] bins, each bin the average (or maximum) of a grid of bilinear samples.
 *
 * Every quantity follows ONNX's reference (as ONNX Runtime computes it) but for all
 * regions, bins and samples at once: tensors [R, PH, PW, GY, GX], the positions
 * separable in y and x.  A sample's four corners are four gathers of X seen as
 * [N*H*W, C].  The sampling grid GY x GX must have a size known at compile time:
 * sampling_ratio, or with sampling_ratio 0 (ceil(roi size / bins), per region) the
 * largest over constant rois, the samples past a region's own grid masked out. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"



static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int addk(OnnxCtx *c, int a, double v) { return bin(c, OP_ADD, a, k(c, a, v)); }

#define GRID_MAX 64 /* samples per bin along one axis */

typedef struct Roi {
  int64_t R, N, C, H, W, PH, PW, GY, GX;
  int sr;          /* sampling_ratio (0: adaptive) */
  bool half_pixel;
  bool avg;
  double scale;
} Roi;

/* Column j of rois [R, 4] shaped [R, 1, 1, 1, 1], times spatial_scale, minus the offset. */
static int roi_col(OnnxCtx *c, const Roi *r, int rois, int j) {
  int64_t st[2] = {0, j}, en[2] = {r->R, j + 1}, sp[2] = {1, 1}, d[5] = {r->R, 1, 1, 1, 1};
  Attr a[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  int v = ir_add(c->g, OP_SLICE, &rois, 1, a, 3);
  v = bin(c, OP_MUL, reshape(c, v, d, 5), k(c, v, r->scale));
  return r->half_pixel ? addk(c, v, -0.5) : v;
}

/* An iota along axis `axis` of [1, 1, 1, 1, 1] with `len` there, in dtype t. */
static int iota5(OnnxCtx *c, int axis, int64_t len, DType t) {
  int64_t d[5] = {1, 1, 1, 1, 1};
  d[axis] = len;
  Attr a[3] = {attr_ints(A_SHAPE, d, 5), attr_int(A_AXIS, axis), attr_dtype(A_DTYPE, t)};
  return ir_add(c->g, OP_IOTA, NULL, 0, a, 3);
}

/* One axis of the samples: start, roi length, bins along bin_axis (1 or 2), samples
 * along grid_axis (3 or 4), grid size g (a constant or per region), dimension D.
 * Gives the low and high corner indices (i64), their weights, and whether the sample
 * lies outside [-1, D]. */
typedef struct Axis {
  int lo, hi, wlo, whi; /* corner indices (i64) and weights */
  int out;              /* bool: the sample lies outside [-1, D] */
  int g;                /* the grid size: sampling_ratio, or ceil(bin size) per region */
  int valid;            /* bool: the sample is within the region's grid; -2: always */
} Axis;

static int roi_axis(OnnxCtx *c, const Roi *r, int start, int len, int bins_axis, int64_t bins, int grid_axis,
                    int64_t gmax, int64_t D, Axis *a) {
  if (start < 0 || len < 0) return -1;
  DType t = dtype_of(c, start);
  if (!r->half_pixel) len = bin(c, OP_MAX, len, k(c, len, 1));
  int bsz = bin(c, OP_DIV, len, k(c, len, (double)bins));
  int g = r->sr > 0 ? k(c, len, r->sr) : un(c, OP_CEIL, bsz);
  int i = iota5(c, grid_axis, gmax, t), p = iota5(c, bins_axis, bins, t);
  /* start + p * bin + (i + 0.5) * bin / g */
  int v = bin(c, OP_ADD, bin(c, OP_ADD, start, bin(c, OP_MUL, p, bsz)),
              bin(c, OP_DIV, bin(c, OP_MUL, addk(c, i, 0.5), bsz), g));
  a->valid = r->sr > 0 ? -2 : bin(c, OP_LT, i, g);
  a->out = bin(c, OP_OR, bin(c, OP_LT, v, k(c, v, -1)), bin(c, OP_GT, v, k(c, v, (double)D)));
  v = bin(c, OP_MAX, v, k(c, v, 0));
  int low = un(c, OP_FLOOR, v);
  int edge = bin(c, OP_GE, low, k(c, low, (double)(D - 1)));
  low = sel(c, edge, k(c, low, (double)(D - 1)), low);
  v = sel(c, edge, low, v);
  int high = sel(c, edge, low, addk(c, low, 1));
  int l = bin(c, OP_SUB, v, low);
  a->wlo = bin(c, OP_SUB, k(c, l, 1), l), a->whi = l;
  a->lo = low < 0 ? -1 : ir_cast(c->g, low, DT_I64);
  a->hi = high < 0 ? -1 : ir_cast(c->g, high, DT_I64);
  a->g = g;
  return a->lo < 0 || a->hi < 0 || a->wlo < 0 || a->out < 0 || a->valid == -1 ? -1 : 0;
}

/* The largest grid along one axis over constant rois (columns j0 and j0 + 2), plus
 * one: the graph computes the per-region sizes again in the model's float type. */
static int64_t adaptive_grid(const Roi *r, const double *rois, int j0, int64_t bins) {
  double most = 1;
  for (int64_t i = 0; i < r->R; i++) {
    double len = (rois[i * 4 + j0 + 2] - rois[i * 4 + j0]) * r->scale;
    if (!r->half_pixel && len < 1) len = 1;
    double g = ceil(len / (double)bins);
    if (g > most) most = g;
  }
  return most != most || most > GRID_MAX ? GRID_MAX + 1 : (int64_t)most + 1;
}

static int roi_attrs(OnnxCtx *c, OnnxNode *n, Roi *r) {
  const char *mode = onnx_attr_str(c, n, "mode", "avg");
  if (strcmp(mode, "avg") && strcmp(mode, "max")) return onnx_fail(c, n, "mode '%s' is not avg or max", mode);
  r->avg = !strcmp(mode, "avg");
  const char *ct = c->opset >= 16 ? onnx_attr_str(c, n, "coordinate_transformation_mode", "half_pixel") : "output_half_pixel";
  if (strcmp(ct, "half_pixel") && strcmp(ct, "output_half_pixel"))
    return onnx_fail(c, n, "coordinate_transformation_mode '%s' is not half_pixel or output_half_pixel", ct);
  r->half_pixel = !strcmp(ct, "half_pixel");
  r->PH = onnx_attr_int(n, "output_height", 1), r->PW = onnx_attr_int(n, "output_width", 1);
  int64_t sr = onnx_attr_int(n, "sampling_ratio", 0);
  r->scale = onnx_attr_float(n, "spatial_scale", 1.0);
  if (r->PH < 1 || r->PW < 1 || r->PH > 1 << 16 || r->PW > 1 << 16)
    return onnx_fail(c, n, "output_height and output_width must be in 1..65536");
  if (sr < 0 || sr > GRID_MAX) return onnx_fail(c, n, "sampling_ratio %lld is not in 0..%d", (long long)sr, GRID_MAX);
  r->sr = (int)sr;
  return 0;
}

/* X [N, C, H, W], rois [R, 4] (x1, y1, x2, y2), batch_indices [R] -> [R, C, PH, PW]. */
int onnx_RoiAlign(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0], rois = n->in[1], bi = n->in[2];
  const Shape xs = *shape_of(c, x), rs = *shape_of(c, rois), bs = *shape_of(c, bi);
  if (xs.rank != 4 || rs.rank != 2 || rs.d[1] != 4 || bs.rank != 1 || bs.d[0] != rs.d[0])
    return onnx_fail(c, n, "X must be [N, C, H, W], rois [R, 4] and batch_indices [R]");
  DType t = dtype_of(c, x);
  if (!dtype_is_float(t) || dtype_of(c, rois) != t) return onnx_fail(c, n, "X and rois must be of one floating-point type");
  if (!dtype_is_int(dtype_of(c, bi))) return onnx_fail(c, n, "batch_indices must hold integers");
  Roi r = {.R = rs.d[0], .N = xs.d[0], .C = xs.d[1], .H = xs.d[2], .W = xs.d[3]};
  if (r.H < 1 || r.W < 1) return onnx_fail(c, n, "X has an empty spatial dimension");
  if (roi_attrs(c, n, &r)) return -1;
  if (r.sr > 0) r.GY = r.GX = r.sr;
  else {
    double *rv = arena_alloc(c->g->arena, (size_t)(r.R * 4 + 1) * sizeof *rv);
    if (onnx_const_doubles(c, rois, rv, (int)(r.R * 4)) != r.R * 4)
      return onnx_fail(c, n, "sampling_ratio 0 (adaptive) needs rois known at compile time");
    r.GY = adaptive_grid(&r, rv, 1, r.PH), r.GX = adaptive_grid(&r, rv, 0, r.PW);
    if (r.GY > GRID_MAX || r.GX > GRID_MAX) return onnx_fail(c, n, "a region needs over %d samples per bin along an axis", GRID_MAX);
  }
  if ((double)r.R * r.PH * r.PW * r.GY * r.GX * r.C > 1e9) return onnx_fail(c, n, "the samples would need over 1e9 values");
  int x1 = roi_col(c, &r, rois, 0), y1 = roi_col(c, &r, rois, 1), x2 = roi_col(c, &r, rois, 2), y2 = roi_col(c, &r, rois, 3);
  Axis ay, ax;
  if (roi_axis(c, &r, y1, bin(c, OP_SUB, y2, y1), 1, r.PH, 3, r.GY, r.H, &ay) ||
      roi_axis(c, &r, x1, bin(c, OP_SUB, x2, x1), 2, r.PW, 4, r.GX, r.W, &ax))
    return onnx_fail_ir(c, n);
  /* the four corners: rows b*H*W + y*W + x of X as [N*H*W, C] */
  int64_t d5[5] = {r.R, 1, 1, 1, 1}, perm[4] = {0, 2, 3, 1}, flat[2] = {r.N * r.H * r.W, r.C};
  int base = bin(c, OP_MUL, reshape(c, ir_cast(c->g, bi, DT_I64), d5, 5), ir_scalar(c->g, DT_I64, (double)(r.H * r.W)));
  int xv = reshape(c, ir_transpose(c->g, x, perm), flat, 2);
  int out = bin(c, OP_OR, ay.out, ax.out);
  int ys[2] = {ay.lo, ay.hi}, wys[2] = {ay.wlo, ay.whi}, xs2[2] = {ax.lo, ax.hi}, wxs[2] = {ax.wlo, ax.whi};
  int64_t d6[6] = {r.R, r.PH, r.PW, r.GY, r.GX, 1};
  int y = -1;
  for (int q = 0; q < 4; q++) {
    int iy = ys[q >> 1], ix = xs2[q & 1];
    int idx = bin(c, OP_ADD, base, bin(c, OP_ADD, bin(c, OP_MUL, iy, ir_scalar(c->g, DT_I64, (double)r.W)), ix));
    int w = bin(c, OP_MUL, wys[q >> 1], wxs[q & 1]);
    w = sel(c, out, k(c, w, 0), w);
    if (r.avg && r.sr == 0) w = sel(c, bin(c, OP_AND, ay.valid, ax.valid), w, k(c, w, 0));
    int in[2] = {xv, idx};
    Attr a = attr_int(A_AXIS, 0);
    int v = idx < 0 || xv < 0 ? -1 : ir_add(c->g, OP_GATHER, in, 2, &a, 1); /* [R, PH, PW, GY, GX, C] */
    v = bin(c, OP_MUL, v, reshape(c, w, d6, 6));
    ONNX_TRY(c, n, y = y < 0 ? v : bin(c, r.avg ? OP_ADD : OP_MAX, y, v));
  }
  int64_t grid_axes[2] = {3, 4};
  if (r.avg) {
    int count = bin(c, OP_MUL, ay.g, ax.g); /* a scalar, or [R, 1, 1, 1, 1] */
    count = bin(c, OP_MAX, count, k(c, count, 1));
    if (count >= 0 && shape_of(c, count)->rank) count = reshape(c, count, d5, 4);
    y = bin(c, OP_DIV, y < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, y, grid_axes, 2, false), count);
  } else {
    if (r.sr == 0) {
      int64_t vd[6] = {r.R, 1, 1, r.GY, r.GX, 1};
      int valid = reshape(c, bin(c, OP_AND, ay.valid, ax.valid), vd, 6);
      y = sel(c, valid, y, k(c, y, dtype_lowest(t)));
    }
    y = y < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_MAX, y, grid_axes, 2, false);
  }
  int64_t back[4] = {0, 3, 1, 2};
  ONNX_TRY(c, n, n->out[0] = y < 0 ? -1 : ir_transpose(c->g, y, back));
  return 0;
}
