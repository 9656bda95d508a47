/* onnx_ops_quant.c — linear quantization: QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, and the integer products MatMulInteger, ConvInteger,
 * QLinearMatMul, QLinearConv.
 *
 * Quantizing is round(x / scale) + zero_point, halves to even, clamped to the type's
 * range (saturation), as ONNX's reference computes it.  The integer products have no
 * integer core op behind them: the operands, minus their zero points, are at most 255
 * in magnitude, so a float matmul or conv of them is exact while every partial sum
 * fits the float's mantissa.  f32 is used where K * 255^2 <= 2^24 (K the depth of the
 * product), f64 otherwise; the int32 result wraps modulo 2^32 as ONNX's int32 sum does.
 * The quantized types: u8, i8, u16, i16, i4, u4, i2, u2 (and i32 to dequantize), and
 * the float8 types and float4e2m1, which ONNX quantizes as x / scale cast to the type
 * (float8: saturating unless saturate=0; float4e2m1: plus the zero point, saturating
 * by itself) and dequantizes as x * scale (their zero point is not read).  The storage
 * loader (onnx_storage.c) has widened those operands to f32; n->narrow says what they
 * were. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"


static bool wants_out(const OnnxNode *n, int i) { return i < n->nout && n->p->output[i] && *n->p->output[i]; }

/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int kd(OnnxCtx *c, DType t, double v) { return ir_scalar(c->g, t, v); }
static int cast(OnnxCtx *c, int x, DType t) {
  return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t);
}

/* The integer types a quantized tensor may have here, and their ranges. */
static bool quant_type(DType t) {
  return t == DT_U8 || t == DT_I8 || t == DT_U16 || t == DT_I16 || t == DT_I4 || t == DT_U4 || t == DT_I2 ||
         t == DT_U2;
}

/* The float types ONNX quantizes to by a cast. */
static bool quant_float(DType t) { return dtype_is_narrow(t) && dtype_is_float(t) && t != DT_F8E8M0; }

/* Operand i's type as the model gives it (before the storage loader widened it). */
static DType orig_type(OnnxCtx *c, const OnnxNode *n, int i) {
  return n->narrow[i] != DT_COUNT ? n->narrow[i] : dtype_of(c, n->in[i]);
}

/* min(max(x, lo), hi) with t's range, in x's float dtype. */
static int clamp_to(OnnxCtx *c, int x, DType t) {
  DType u = x < 0 ? DT_F32 : dtype_of(c, x);
  return bin(c, OP_MIN, bin(c, OP_MAX, x, kd(c, u, dtype_lowest(t))), kd(c, u, dtype_highest(t)));
}

/* ---- scales and zero points --------------------------------------------------------- */

/* A scale or zero point v shaped to broadcast against x [D...]: one value (per tensor);
 * a vector of x.d[axis] values (per axis); or, with block_size B, x's shape with
 * ceil(D_axis / B) along axis, each value repeated over its block (a gather with
 * indices i / B). */
static int qparam(OnnxCtx *c, OnnxNode *n, int v, int x, int64_t axis, int64_t block, const char *what) {
  const Shape vs = *shape_of(c, v), xs = *shape_of(c, x);
  if (shape_numel(&vs) == 1 && !(block && axis >= 0 && vs.rank == xs.rank && xs.d[axis] > block))
    return reshape(c, v, NULL, 0);
  if (axis < 0) return onnx_fail(c, n, "%s holds more than one value, but axis is out of range for rank %d", what, xs.rank);
  if (!block) {
    if (vs.rank != 1 || vs.d[0] != xs.d[axis])
      return onnx_fail(c, n, "%s must be one value or a vector of %lld (axis %lld)", what,
                       (long long)xs.d[axis], (long long)axis);
    int64_t d[IR_MAX_RANK];
    for (int i = 0; i < xs.rank; i++) d[i] = i == axis ? xs.d[axis] : 1;
    return reshape(c, v, d, xs.rank);
  }
  bool ok = vs.rank == xs.rank && vs.d[axis] == xs.d[axis] / block + (xs.d[axis] % block != 0);
  for (int i = 0; ok && i < xs.rank; i++) ok = i == axis || vs.d[i] == xs.d[i];
  if (!ok)
    return onnx_fail(c, n, "%s must have the input's shape with ceil(%lld / block_size %lld) along axis %lld",
                     what, (long long)xs.d[axis], (long long)block, (long long)axis);
  int64_t len = xs.d[axis];
  int64_t *idx = arena_alloc(c->g->arena, (size_t)len * sizeof *idx);
  for (int64_t i = 0; i < len; i++) idx[i] = i / block;
  int ids = ir_const(c->g, NULL, DT_I64, shape_make(1, &len), idx);
  if (ids < 0) return -1;
  int in[2] = {v, ids};
  Attr a = attr_int(A_AXIS, axis);
  return ir_add(c->g, OP_GATHER, in, 2, &a, 1);
}

/* axis and block_size of the per-axis and blocked forms (opset 13 and 21 on).  The
 * axis matters only to those forms: out of range, it is -1 and qparam refuses it. */
static int quant_axis(OnnxCtx *c, OnnxNode *n, int x, int64_t *axis, int64_t *block) {
  int r = shape_of(c, x)->rank;
  int64_t a = onnx_attr_int(n, "axis", 1);
  *block = onnx_attr_int(n, "block_size", 0);
  if (*block < 0) return onnx_fail(c, n, "block_size %lld is negative", (long long)*block);
  a = a < 0 ? a + r : a;
  *axis = a >= 0 && a < r ? a : -1;
  return 0;
}

/* A float dtype named by an attribute (output_dtype, precision), or def when 0. */
static int float_attr(OnnxCtx *c, OnnxNode *n, const char *name, DType def, DType *t) {
  int64_t v = onnx_attr_int(n, name, 0);
  if (!v) return *t = def, 0;
  if (onnx_dtype((int32_t)v, t))
    return onnx_fail(c, n, "%s %s is not supported", name, onnx_dtype_name((int32_t)v));
  if (!dtype_is_float(*t)) return onnx_fail(c, n, "%s %s is not a floating-point type", name, onnx_dtype_name((int32_t)v));
  return 0;
}

/* ---- QuantizeLinear, DequantizeLinear ---------------------------------------------- */

static void deq_note(OnnxCtx *c, OnnxNode *n, int x, int scale, int zp, int64_t axis);

/* The quantized type: the zero point's, else output_dtype, else u8. */
static int quant_out_type(OnnxCtx *c, OnnxNode *n, int zp, DType *t) {
  DType zt = zp >= 0 ? orig_type(c, n, 2) : DT_COUNT;
  int64_t odt = onnx_attr_int(n, "output_dtype", 0);
  DType want = DT_U8;
  if (odt && onnx_dtype((int32_t)odt, &want))
    return onnx_fail(c, n, "output_dtype %s is not supported", onnx_dtype_name((int32_t)odt));
  if (zp >= 0) {
    if (odt && zt != want)
      return onnx_fail(c, n, "output_dtype %s differs from the zero point's type %s", onnx_dtype_name((int32_t)odt),
                       dtype_name(zt));
    want = zt;
  }
  if (!quant_type(want) && !quant_float(want))
    return onnx_fail(c, n, "the quantized type %s is not one of u8, i8, u16, i16, i4, u4, i2, u2, the float8 types, f4e2m1",
                     dtype_name(want));
  *t = want;
  return 0;
}

/* y = saturate(round(x / y_scale) + y_zero_point), the division in the scale's float
 * type (or `precision`); x is a float or i32.  saturate concerns float8 outputs only. */
int onnx_QuantizeLinear(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], zp = has_in(n, 2) ? n->in[2] : -1;
  DType xt = dtype_of(c, x), st = dtype_of(c, n->in[1]), t = DT_U8, u = DT_F32;
  if (!dtype_is_float(xt) && xt != DT_I32) return onnx_fail(c, n, "x of type %s is not a float or i32", dtype_name(xt));
  if (!dtype_is_float(st)) return onnx_fail(c, n, "y_scale of type %s is not floating-point", dtype_name(st));
  bool sat = onnx_attr_int(n, "saturate", 1) != 0;
  int64_t axis = 0, block = 0;
  if (quant_axis(c, n, x, &axis, &block) || quant_out_type(c, n, zp, &t)) return -1;
  if (float_attr(c, n, "precision", n->narrow[1] != DT_COUNT ? n->narrow[1] : st, &u)) return -1;
  int s = qparam(c, n, n->in[1], x, axis, block, "y_scale");
  if (s < 0) return -1;
  /* in f16 or bf16 (a precision, or the scale's type before the loader widened it):
   * both operands rounded to it, the quotient in f32 rounded to it, as ONNX's reference
   * divides in numpy's f16 */
  DType w = dtype_is_storage(u) ? DT_F32 : u;
  int d = w == u ? bin(c, OP_DIV, cast(c, x, w), cast(c, s, w))
                 : bin(c, OP_DIV, cast(c, cast(c, x, u), w), cast(c, cast(c, s, u), w));
  if (w != u) d = cast(c, cast(c, d, u), w);
  if (quant_float(t)) {
    if (t == DT_F4E2M1 && zp >= 0) d = bin(c, OP_ADD, d, cast(c, qparam(c, n, zp, x, axis, block, "y_zero_point"), w));
    if (sat && t != DT_F4E2M1) {
      double m = dtype_narrow_max(t);
      d = bin(c, OP_MIN, bin(c, OP_MAX, d, kd(c, w, -m)), kd(c, w, m));
    }
    ONNX_TRY(c, n, n->out[0] = cast(c, d, t));
    return 0;
  }
  int q = un(c, OP_ROUND, d);
  if (zp >= 0) {
    int z = qparam(c, n, zp, x, axis, block, "y_zero_point");
    if (z < 0) return -1;
    q = bin(c, OP_ADD, q, cast(c, z, w));
  }
  ONNX_TRY(c, n, n->out[0] = cast(c, clamp_to(c, q, t), t));
  return 0;
}

/* y = (x - x_zero_point) * x_scale: exact in f32 for the 8- and 16-bit types, in f64
 * for i32; the result in output_dtype (opset 23), else the scale's type. */
int onnx_DequantizeLinear(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], zp = has_in(n, 2) ? n->in[2] : -1;
  DType xt = orig_type(c, n, 0), st = dtype_of(c, n->in[1]), ot = st;
  if (!quant_type(xt) && xt != DT_I32 && !quant_float(xt))
    return onnx_fail(c, n, "x of type %s is not one of u8, i8, u16, i16, i4, u4, i2, u2, i32, the float8 types, f4e2m1",
                     dtype_name(xt));
  if (!dtype_is_float(st)) return onnx_fail(c, n, "x_scale must be floating-point");
  if (zp >= 0 && orig_type(c, n, 2) != xt)
    return onnx_fail(c, n, "x_zero_point's type %s differs from x's %s", dtype_name(orig_type(c, n, 2)), dtype_name(xt));
  double zv[64];
  int nz = quant_float(xt) && xt != DT_F4E2M1 && zp >= 0 ? onnx_const_doubles(c, zp, zv, 64) : 0;
  for (int i = 0; i < nz && i < 64; i++)
    if (zv[i] != 0) return onnx_fail(c, n, "x_zero_point of %s must be zero", dtype_name(xt));
  if (quant_float(xt)) zp = -1; /* not read for the float types (ONNX: zero for float8; f4e2m1's ignored) */
  int64_t axis = 0, block = 0;
  if (quant_axis(c, n, x, &axis, &block) || float_attr(c, n, "output_dtype", st, &ot)) return -1;
  DType u = xt == DT_I32 || st == DT_F64 ? DT_F64 : DT_F32;
  int s = qparam(c, n, n->in[1], x, axis, block, "x_scale");
  if (s < 0) return -1;
  int d = cast(c, x, u);
  if (zp >= 0) {
    int z = qparam(c, n, zp, x, axis, block, "x_zero_point");
    if (z < 0) return -1;
    d = bin(c, OP_SUB, d, cast(c, z, u));
  }
  ONNX_TRY(c, n, n->out[0] = cast(c, bin(c, OP_MUL, d, cast(c, s, u)), ot));
  if ((xt == DT_U8 || xt == DT_I8) && !block) deq_note(c, n, x, n->in[1], zp, axis);
  return 0;
}

/* u8 quantization with the range of x (widened to hold 0): scale = (max - min) / 255,
 * zero point = round(clamp(-min / scale, 0, 255)).  An empty range (x all zeros) has
 * scale 1, as ONNX Runtime gives (the formula would divide by zero). */
int onnx_DynamicQuantizeLinear(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  if (dtype_of(c, x) != DT_F32) return onnx_fail(c, n, "x must be f32, not %s", dtype_name(dtype_of(c, x)));
  int64_t ax[IR_MAX_RANK];
  int r = shape_of(c, x)->rank;
  for (int i = 0; i < r; i++) ax[i] = i;
  int mx = bin(c, OP_MAX, ir_reduce(c->g, OP_REDUCE_MAX, x, ax, r, false), kd(c, DT_F32, 0));
  int mn = bin(c, OP_MIN, ir_reduce(c->g, OP_REDUCE_MIN, x, ax, r, false), kd(c, DT_F32, 0));
  int scale = bin(c, OP_DIV, bin(c, OP_SUB, mx, mn), kd(c, DT_F32, 255));
  scale = scale < 0 ? -1 : ir_select(c->g, bin(c, OP_EQ, mx, mn), kd(c, DT_F32, 1), scale);
  int zp = un(c, OP_ROUND, clamp_to(c, bin(c, OP_SUB, kd(c, DT_F32, 0), bin(c, OP_DIV, mn, scale)), DT_U8));
  int y = bin(c, OP_ADD, un(c, OP_ROUND, bin(c, OP_DIV, x, scale)), zp);
  ONNX_TRY(c, n, n->out[0] = cast(c, clamp_to(c, y, DT_U8), DT_U8));
  if (wants_out(n, 1)) n->out[1] = scale;
  if (wants_out(n, 2)) ONNX_TRY(c, n, n->out[2] = cast(c, zp, DT_U8));
  return 0;
}

/* ---- integer products -------------------------------------------------------------- */

/* The float type in which a sum of `depth` products of values up to 255 in magnitude
 * is exact. */
static DType exact_type(int64_t depth) { return (double)depth * 255 * 255 <= 16777216.0 ? DT_F32 : DT_F64; }

static int need_8bit(OnnxCtx *c, OnnxNode *n, int id, const char *what) {
  DType t = dtype_of(c, id);
  for (int i = 0; i < n->nin; i++) /* a storage dtype is named as the model gives it, not widened */
    if (n->in[i] == id && n->narrow[i] != DT_COUNT) t = n->narrow[i];
  if (t != DT_U8 && t != DT_I8) return onnx_fail(c, n, "%s must be u8 or i8, not %s", what, dtype_name(t));
  return 0;
}

static int zp_type(OnnxCtx *c, OnnxNode *n, int x, int zp, const char *what) {
  if (zp >= 0 && dtype_of(c, zp) != dtype_of(c, x))
    return onnx_fail(c, n, "%s's zero point is %s, not %s like it", what, dtype_name(dtype_of(c, zp)),
                     dtype_name(dtype_of(c, x)));
  return 0;
}

/* x - zp in u, zp already shaped to broadcast against x (or -1: none). */
static int centered(OnnxCtx *c, OnnxNode *n, int x, int zp, DType u, const char *what) {
  if (zp_type(c, n, x, zp, what)) return -1;
  int y = cast(c, x, u);
  return zp < 0 ? y : bin(c, OP_SUB, y, cast(c, zp, u));
}

/* A zero point or scale of one value, or of `len` values along the dimension `axis` of
 * a rank-`rank` operand; where such a vector already broadcasts (the last axis) it is
 * kept as it is. */
static int per_dim(OnnxCtx *c, OnnxNode *n, int v, int64_t len, int axis, int rank, const char *what) {
  const Shape *s = shape_of(c, v);
  if (shape_numel(s) == 1) return reshape(c, v, NULL, 0);
  if (axis < 0) return onnx_fail(c, n, "%s must hold one value", what);
  if (s->rank == 1 && s->d[0] == len) {
    int64_t d[IR_MAX_RANK];
    for (int i = 0; i < rank; i++) d[i] = i == axis ? len : 1;
    return reshape(c, v, d, rank);
  }
  return onnx_fail(c, n, "%s must hold one value or %lld", what, (long long)len);
}

/* The int32 result of an exact float sum y: wrapped modulo 2^32 where it may not fit. */
static int to_i32(OnnxCtx *c, int y, int64_t depth) {
  if (y < 0) return -1;
  if ((double)depth * 255 * 255 >= 2147483648.0) {
    y = cast(c, y, DT_F64);
    int q = un(c, OP_FLOOR, bin(c, OP_DIV, bin(c, OP_ADD, y, kd(c, DT_F64, 2147483648.0)), kd(c, DT_F64, 4294967296.0)));
    y = bin(c, OP_SUB, y, bin(c, OP_MUL, q, kd(c, DT_F64, 4294967296.0)));
  }
  return cast(c, y, DT_I32);
}

/* Runs another builder (MatMul, Conv) on float operands a and b in place of n's inputs,
 * with n's attributes. */
static int build_with(OnnxCtx *c, OnnxNode *n, OnnxBuild b, int x, int w) {
  if (x < 0 || w < 0) return onnx_fail_ir(c, n);
  OnnxNode sub = *n;
  sub.nin = 2, sub.in[0] = x, sub.in[1] = w, sub.out[0] = -1;
  int rc = b(c, &sub);
  n->read |= sub.read;
  if (sub.bad_attr && !n->bad_attr) n->bad_attr = sub.bad_attr, n->bad_attr_want = sub.bad_attr_want;
  return rc < 0 ? -1 : sub.out[0];
}

int onnx_MatMul(OnnxCtx *c, OnnxNode *n);
int onnx_Conv(OnnxCtx *c, OnnxNode *n);

/* A zero point known to be all zeros (a constant), which the product can skip. */
static bool zero_point_zero(OnnxCtx *c, int zp) {
  int64_t cnt = shape_numel(shape_of(c, zp));
  if (cnt > 4096 || !onnx_is_const(c, zp)) return false;
  double *v = arena_alloc(c->g->arena, sizeof(double) * (size_t)(cnt ? cnt : 1));
  if (onnx_const_doubles(c, zp, v, (int)cnt) != cnt) return false;
  for (int64_t i = 0; i < cnt; i++)
    if (v[i] != 0) return false;
  return true;
}

/* Whether zero point zp (shaped to broadcast against x) is constant along dimension
 * `dim` from the end (1: a's K, per row; 2: b's K, per column). */
static bool zp_along(OnnxCtx *c, int zp, int dim) {
  const Shape *s = shape_of(c, zp);
  return s->rank < dim || s->d[s->rank - dim] == 1;
}

/* The exact i32 sums of (A - a_zero_point) x (B - b_zero_point) on the integer product,
 * operands of rank 2 or more, the zero points per row of A and per column of B:
 *   P = A B - azp colsum(B) - bzp (rowsum(A) - K azp)
 * where each step is itself a sum of (a - azp) or (b - bzp) products, at most
 * K * 255^2 in magnitude, which the callers keep under 2^31. */
static int int_product(OnnxCtx *c, int a, int azp, int b, int bzp, int64_t depth) {
  int r = shape_of(c, a)->rank, rb = shape_of(c, b)->rank;
  int64_t ka = r - 1, kb = rb - 2;
  int p = ir_matmul_int(c->g, a, b);
  if (azp >= 0 && !zero_point_zero(c, azp)) {
    int col = ir_reduce(c->g, OP_REDUCE_SUM, cast(c, b, DT_I32), &kb, 1, true); /* [.., 1, N] */
    p = bin(c, OP_SUB, p, bin(c, OP_MUL, cast(c, azp, DT_I32), col));
  } else azp = -1;
  if (bzp >= 0 && !zero_point_zero(c, bzp)) {
    int row = ir_reduce(c->g, OP_REDUCE_SUM, cast(c, a, DT_I32), &ka, 1, true); /* [.., M, 1] */
    if (azp >= 0) row = bin(c, OP_SUB, row, bin(c, OP_MUL, cast(c, azp, DT_I32), kd(c, DT_I32, (double)depth)));
    p = bin(c, OP_SUB, p, bin(c, OP_MUL, row, cast(c, bzp, DT_I32)));
  }
  return p;
}

/* (A - a_zero_point) x (B - b_zero_point): a's zero point per row ([M], or [.., M, 1]),
 * b's per column ([N], or [.., 1, N]).  On the integer product (matmul_int) where both
 * operands have rank 2 or more and the sums fit in an i32; else as an exact float
 * product (the result then f32 or f64). */
static int int_matmul(OnnxCtx *c, OnnxNode *n, int a, int azp, int b, int bzp, int64_t *depth) {
  const Shape as = *shape_of(c, a), bs = *shape_of(c, b);
  if (as.rank == 0 || bs.rank == 0) return onnx_fail(c, n, "operands must not be scalars");
  *depth = as.d[as.rank - 1];
  DType u = exact_type(*depth);
  if (azp >= 0 && as.rank >= 2 && shape_of(c, azp)->rank == 1 && shape_numel(shape_of(c, azp)) > 1 &&
      (azp = per_dim(c, n, azp, as.d[as.rank - 2], as.rank - 2, as.rank, "a_zero_point")) < 0)
    return -1;
  bool ints = as.rank >= 2 && bs.rank >= 2 && (double)*depth * 255 * 255 < 2147483648.0 &&
              (azp < 0 || zp_along(c, azp, 1)) && (bzp < 0 || zp_along(c, bzp, 2));
  if (ints) {
    if (zp_type(c, n, a, azp, "A") || zp_type(c, n, b, bzp, "B")) return -1;
    Shape ys;
    if (azp >= 0 && (shape_broadcast2(shape_of(c, azp), &as, &ys) || !shape_eq(&ys, &as)))
      return onnx_fail(c, n, "a_zero_point does not broadcast to A");
    if (bzp >= 0 && (shape_broadcast2(shape_of(c, bzp), &bs, &ys) || !shape_eq(&ys, &bs)))
      return onnx_fail(c, n, "b_zero_point does not broadcast to B");
    int p = int_product(c, a, azp, b, bzp, *depth);
    return p < 0 ? onnx_fail_ir(c, n) : p;
  }
  int af = centered(c, n, a, azp, u, "A"), bf = centered(c, n, b, bzp, u, "B");
  if (af >= 0 && !shape_eq(shape_of(c, af), &as)) return onnx_fail(c, n, "a_zero_point does not broadcast to A");
  if (bf >= 0 && !shape_eq(shape_of(c, bf), &bs)) return onnx_fail(c, n, "b_zero_point does not broadcast to B");
  return build_with(c, n, onnx_MatMul, af, bf);
}

int onnx_MatMulInteger(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_8bit(c, n, n->in[0], "A") || need_8bit(c, n, n->in[1], "B")) return -1;
  int64_t depth;
  int y = int_matmul(c, n, n->in[0], has_in(n, 2) ? n->in[2] : -1, n->in[1], has_in(n, 3) ? n->in[3] : -1, &depth);
  if (y < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = to_i32(c, y, depth));
  return 0;
}

/* ---- convolutions on the integer product ---------------------------------------------- */

/* x [N, C, S..] (u8 or i8) as the columns of its convolution with kernel k: [N, C * T,
 * Q] (T taps, Q output positions), the taps of each channel in W's order; the padding
 * is x's zero point zx (a constant, or 0), so that padded taps add nothing. */
static int im2col(OnnxCtx *c, int x, double zx, const int64_t *k, const int64_t *st, const int64_t *pads,
                  const int64_t *dil) {
  const Shape xs = *shape_of(c, x);
  int r = xs.rank, nsp = r - 2;
  int64_t pb[2 * IR_MAX_RANK] = {0}, out[IR_MAX_RANK], taps = 1, q = 1;
  bool padded = false, plain = true;
  for (int i = 0; i < nsp; i++) {
    pb[2 + i] = pads[i], pb[r + 2 + i] = pads[nsp + i];
    padded |= pads[i] || pads[nsp + i];
    out[i] = (xs.d[2 + i] + pads[i] + pads[nsp + i] - dil[i] * (k[i] - 1) - 1) / st[i] + 1;
    taps *= k[i], q *= out[i];
    plain &= k[i] == 1 && st[i] == 1;
  }
  int64_t cols[3] = {xs.d[0], xs.d[1] * taps, q};
  if (plain && !padded) return reshape(c, x, cols, 3); /* 1x1, stride 1: x itself */
  if (padded) {
    Attr a[2] = {attr_ints(A_PADS, pb, 2 * r), attr_float(A_VALUE, zx)};
    x = x < 0 ? -1 : ir_add(c->g, OP_PAD, &x, 1, a, 2);
  }
  int *parts = arena_alloc(c->g->arena, sizeof(int) * (size_t)taps);
  int64_t one[4] = {xs.d[0], xs.d[1], 1, q};
  for (int64_t t = 0; t < taps; t++) {
    int64_t starts[IR_MAX_RANK] = {0}, ends[IR_MAX_RANK] = {xs.d[0], xs.d[1]}, steps[IR_MAX_RANK] = {1, 1};
    for (int i = nsp - 1, rest = (int)t; i >= 0; rest /= (int)k[i], i--) {
      int64_t ki = rest % k[i];
      starts[2 + i] = ki * dil[i], ends[2 + i] = ki * dil[i] + (out[i] - 1) * st[i] + 1, steps[2 + i] = st[i];
    }
    Attr a[3] = {attr_ints(A_STARTS, starts, r), attr_ints(A_ENDS, ends, r), attr_ints(A_STEPS, steps, r)};
    int sl = x < 0 ? -1 : ir_add(c->g, OP_SLICE, &x, 1, a, 3);
    if ((parts[t] = reshape(c, sl, one, 4)) < 0) return -1;
  }
  Attr ax = attr_int(A_AXIS, 2);
  int cat = taps == 1 ? parts[0] : ir_add(c->g, OP_CONCAT, parts, (int)taps, &ax, 1);
  return reshape(c, cat, cols, 3);
}

/* The exact i32 sums of conv(x - zx, w - zw), groups 1: W as [O, C * T] times x's
 * columns on the integer product, [N, O, Q] reshaped to the conv's [N, O, S'..].  zx
 * one value, a constant when there is padding (it pads); zw one value or one per
 * output channel.  -1 (no error) where it does not apply: the caller builds the float
 * product instead. */
static int int_conv_cols(OnnxCtx *c, int x, int zx, int w, int zw, const int64_t *st, const int64_t *pads,
                         const int64_t *dil) {
  const Shape xs = *shape_of(c, x), ws = *shape_of(c, w);
  int nsp = xs.rank - 2;
  int64_t depth = shape_numel(&ws) / (ws.d[0] ? ws.d[0] : 1);
  bool padded = false;
  for (int i = 0; i < 2 * nsp; i++) padded |= pads[i] != 0;
  double zv = 0;
  if (zx >= 0 && (shape_numel(shape_of(c, zx)) != 1 || (padded && onnx_const_doubles(c, zx, &zv, 1) != 1)))
    return -1;
  if (zw >= 0 && shape_numel(shape_of(c, zw)) != 1 && !(shape_of(c, zw)->rank == 1 && shape_of(c, zw)->d[0] == ws.d[0]))
    return -1;
  if (xs.rank != ws.rank || xs.d[1] != ws.d[1] || (double)depth * 255 * 255 >= 2147483648.0 || !shape_numel(&xs))
    return -1;
  int cols = im2col(c, x, zv, ws.d + 2, st, pads, dil);
  int64_t w2[2] = {ws.d[0], depth}, zshape[2] = {ws.d[0], 1};
  int wm = reshape(c, w, w2, 2);
  if (zw >= 0) zw = reshape(c, zw, shape_numel(shape_of(c, zw)) == 1 ? NULL : zshape, shape_numel(shape_of(c, zw)) == 1 ? 0 : 2);
  if (zx >= 0) zx = reshape(c, zx, NULL, 0);
  if (cols < 0 || wm < 0) return -1;
  int p = int_product(c, wm, zw, cols, zx, depth); /* [N, O, Q] */
  int64_t ys[IR_MAX_RANK] = {xs.d[0], ws.d[0]};
  const Shape *cs = shape_of(c, cols);
  int64_t q = cs->d[2], rest = q;
  for (int i = 0; i < nsp; i++) {
    ys[2 + i] = (xs.d[2 + i] + pads[i] + pads[nsp + i] - dil[i] * (ws.d[2 + i] - 1) - 1) / st[i] + 1;
    rest /= ys[2 + i] ? ys[2 + i] : 1;
  }
  DLC_ASSERT(rest == 1 || !q);
  return reshape(c, p, ys, xs.rank);
}

/* DequantizeLinear outputs of u8 or i8 tensors by name, for a QDQ Conv: what they
 * dequantize, so that the Conv can take the integers instead. */
static void deq_note(OnnxCtx *c, OnnxNode *n, int x, int scale, int zp, int64_t axis) {
  if (c->scope || n->p->n_output < 1 || !n->p->output[0] || !*n->p->output[0]) return;
  if (c->ndeq == c->deqcap)
    c->deq = arena_grow(c->g->arena, c->deq, c->ndeq, c->deqcap, sizeof(OnnxDeq)), c->deqcap = arena_grown(c->deqcap);
  c->deq[c->ndeq++] = (OnnxDeq){n->p->output[0], n->out[0], x, scale, zp, axis};
}

static const OnnxDeq *deq_find(const OnnxCtx *c, const char *name, int id) {
  for (int i = c->ndeq - 1; name && i >= 0; i--)
    if (c->deq[i].id == id && !strcmp(c->deq[i].name, name)) return &c->deq[i];
  return NULL;
}

/* The least depth (C * taps) of a QDQ Conv on the integer product.  Below it the float
 * conv, whose epilogue applies the bias and the QuantizeLinear after it while each sum
 * is in a register, wins over the integer product plus its pass over the i32 sums
 * (MobileNetV2's 1x1 expansions of 16 to 160 channels; int8_bench.py, Zen 4). */
#define QDQ_MIN_DEPTH 256

/* A Conv of two DequantizeLinear outputs (QDQ: int8 activations, int8 weights) on the
 * integer product: conv(sx (xq - zx), sw (wq - zw)) = sx sw conv(xq - zx, wq - zw), the
 * integer sum exact, times the scales in f32 (sw per output channel).  *y the f32
 * result before the bias, or -1 where the pattern does not apply (groups other than 1,
 * a depth under QDQ_MIN_DEPTH, a scale or zero point of another shape, sums that may
 * pass 2^31). */
int onnx_qdq_conv(OnnxCtx *c, OnnxNode *n, const int64_t *st, const int64_t *pads, const int64_t *dil, int *y) {
  *y = -1;
  if (c->scope || onnx_attr_int(n, "group", 1) != 1 || n->p->n_input < 2) return 0;
  const OnnxDeq *dx = deq_find(c, n->p->input[0], n->in[0]), *dw = deq_find(c, n->p->input[1], n->in[1]);
  if (!dx || !dw || dtype_of(c, dx->scale) != DT_F32 || dtype_of(c, dw->scale) != DT_F32) return 0;
  const Shape ws = *shape_of(c, dw->x);
  int64_t ns = shape_numel(shape_of(c, dw->scale));
  if (shape_numel(shape_of(c, dx->scale)) != 1 || (ns != 1 && (dw->axis != 0 || ns != ws.d[0]))) return 0;
  if (shape_numel(&ws) / ws.d[0] < QDQ_MIN_DEPTH) return 0;
  int p = int_conv_cols(c, dx->x, dx->zp, dw->x, dw->zp, st, pads, dil);
  if (p < 0) return 0;
  int r = ws.rank;
  int64_t d[IR_MAX_RANK];
  for (int i = 0; i < r; i++) d[i] = i == 1 ? (ns == 1 ? 1 : ws.d[0]) : 1;
  int sw = reshape(c, dw->scale, d, r), sx = reshape(c, dx->scale, NULL, 0);
  ONNX_TRY(c, n, *y = bin(c, OP_MUL, cast(c, p, DT_F32), bin(c, OP_MUL, sx, sw)));
  return 0;
}

/* A MatMul or Gemm of two DequantizeLinear outputs (QDQ: 8-bit activations with one
 * scale and zero point, 8-bit weights with one scale or one per column, zero points 0
 * or one for all) on the integer product: (sa (aq - za)) (sb (bq - zb)) = sa sb (aq -
 * za)(bq - zb), the integer sum exact, times the scales in f32.  B is [K, N], or [N, K]
 * when tb (Gemm's transB).  *y the f32 product, or -1 where the pattern does not apply
 * (A of rank under 2, a depth K under QDQ_MIN_DEPTH or so deep that the sums may pass
 * 2^31, other scales or zero points). */
int onnx_qdq_matmul(OnnxCtx *c, OnnxNode *n, bool tb, int *y) {
  *y = -1;
  if (c->scope || n->p->n_input < 2) return 0;
  const OnnxDeq *da = deq_find(c, n->p->input[0], n->in[0]), *db = deq_find(c, n->p->input[1], n->in[1]);
  if (!da || !db || dtype_of(c, da->scale) != DT_F32 || dtype_of(c, db->scale) != DT_F32) return 0;
  const Shape as = *shape_of(c, da->x), bs = *shape_of(c, db->x);
  if (as.rank < 2 || bs.rank != 2) return 0;
  int64_t k = as.d[as.rank - 1], cols = bs.d[tb ? 0 : 1], ns = shape_numel(shape_of(c, db->scale));
  if (bs.d[tb ? 1 : 0] != k || k < QDQ_MIN_DEPTH || (double)k * 255 * 255 >= 2147483648.0) return 0;
  if (shape_numel(shape_of(c, da->scale)) != 1 || (da->zp >= 0 && shape_numel(shape_of(c, da->zp)) != 1)) return 0;
  if (ns != 1 && (ns != cols || db->axis != (tb ? 0 : 1))) return 0;
  int bzp = db->zp;
  if (bzp >= 0 && shape_numel(shape_of(c, bzp)) != 1) { /* one per column: only zeros */
    int64_t m = shape_numel(shape_of(c, bzp));
    double *all = arena_alloc(c->g->arena, sizeof(double) * (size_t)m);
    if (!onnx_is_const(c, bzp) || onnx_const_doubles(c, bzp, all, (int)m) != m) return 0;
    for (int64_t i = 0; i < m; i++)
      if (all[i] != 0) return 0;
    bzp = -1;
  }
  int b = db->x;
  if (tb) {
    int64_t perm[2] = {1, 0};
    ONNX_TRY(c, n, b = ir_transpose(c->g, b, perm));
  }
  int azp = da->zp >= 0 ? reshape(c, da->zp, NULL, 0) : -1;
  if (bzp >= 0) bzp = reshape(c, bzp, NULL, 0);
  int64_t depth;
  int p = int_matmul(c, n, da->x, azp, b, bzp, &depth);
  if (p < 0) return -1;
  int64_t d[2] = {1, ns};
  int sb = ns == 1 ? reshape(c, db->scale, NULL, 0) : reshape(c, db->scale, d, 2);
  ONNX_TRY(c, n, *y = bin(c, OP_MUL, cast(c, p, DT_F32), bin(c, OP_MUL, reshape(c, da->scale, NULL, 0), sb)));
  return 0;
}

/* conv(X - x_zero_point, W - w_zero_point); w's zero point per output channel.  The
 * padding adds zeros to X - x_zero_point, i.e. pads X with its zero point. */
static int int_conv(OnnxCtx *c, OnnxNode *n, int x, int xzp, int w, int wzp, int64_t *depth) {
  const Shape ws = *shape_of(c, w);
  if (ws.rank < 3) return onnx_fail(c, n, "W must have rank 3 or more");
  *depth = ws.d[0] ? shape_numel(&ws) / ws.d[0] : 0;
  DType u = exact_type(*depth);
  const Shape xs = *shape_of(c, x);
  if (onnx_attr_int(n, "group", 1) == 1 && xs.rank == ws.rank) { /* on the integer product, im2col */
    int64_t st[IR_MAX_RANK], dil[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
    if (zp_type(c, n, x, xzp, "X") || zp_type(c, n, w, wzp, "W") || onnx_window(c, n, &xs, ws.d + 2, st, dil, pads))
      return -1;
    int p = int_conv_cols(c, x, xzp, w, wzp, st, pads, dil);
    if (p >= 0) return p;
  }
  if (xzp >= 0 && (xzp = per_dim(c, n, xzp, 1, -1, 0, "x_zero_point")) < 0) return -1;
  if (wzp >= 0 && (wzp = per_dim(c, n, wzp, ws.d[0], 0, ws.rank, "w_zero_point")) < 0) return -1;
  return build_with(c, n, onnx_Conv, centered(c, n, x, xzp, u, "X"), centered(c, n, w, wzp, u, "W"));
}

int onnx_ConvInteger(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2) || need_8bit(c, n, n->in[0], "x") || need_8bit(c, n, n->in[1], "w")) return -1;
  int64_t depth;
  int y = int_conv(c, n, n->in[0], has_in(n, 2) ? n->in[2] : -1, n->in[1], has_in(n, 3) ? n->in[3] : -1, &depth);
  if (y < 0) return -1;
  ONNX_TRY(c, n, n->out[0] = to_i32(c, y, depth));
  return 0;
}

/* The requantization of an exact integer sum y (f32 or f64): saturate(round(y * m +
 * y_zero_point)) with m = (a_scale * b_scale) / y_scale in the scales' float type, the
 * product and the sum in f64 (what ONNX's reference computes). */
static int requantize(OnnxCtx *c, OnnxNode *n, int y, int m, int yzp, DType t) {
  int d = bin(c, OP_MUL, cast(c, y, DT_F64), cast(c, m, DT_F64));
  if (yzp >= 0) d = bin(c, OP_ADD, d, cast(c, yzp, DT_F64));
  int q = cast(c, clamp_to(c, un(c, OP_ROUND, d), t), t);
  if (q < 0) return onnx_fail_ir(c, n);
  return q;
}

static int need_scale(OnnxCtx *c, OnnxNode *n, int id, const char *what) {
  if (dtype_of(c, id) != DT_F32) return onnx_fail(c, n, "%s must be f32, not %s", what, dtype_name(dtype_of(c, id)));
  return 0;
}

/* Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
 * a's scale and zero point per tensor or per row, b's per tensor or per column, y's
 * per tensor or per row. */
int onnx_QLinearMatMul(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 8) || need_8bit(c, n, n->in[0], "a") || need_8bit(c, n, n->in[3], "b")) return -1;
  if (need_scale(c, n, n->in[1], "a_scale") || need_scale(c, n, n->in[4], "b_scale") || need_scale(c, n, n->in[6], "y_scale"))
    return -1;
  int a = n->in[0], b = n->in[3];
  const Shape as = *shape_of(c, a);
  DType t = dtype_of(c, n->in[7]);
  if (t != DT_U8 && t != DT_I8) return onnx_fail(c, n, "y_zero_point must be u8 or i8, not %s", dtype_name(t));
  int64_t depth, rows = as.rank >= 2 ? as.d[as.rank - 2] : 1;
  int row_axis = as.rank >= 2 ? as.rank - 2 : -1, rank = as.rank;
  int y = int_matmul(c, n, a, n->in[2], b, n->in[5], &depth);
  if (y < 0) return -1;
  int sa = per_dim(c, n, n->in[1], rows, row_axis, rank, "a_scale");
  int sy = sa < 0 ? -1 : per_dim(c, n, n->in[6], rows, row_axis, rank, "y_scale");
  int zy = sy < 0 ? -1 : per_dim(c, n, n->in[7], rows, row_axis, rank, "y_zero_point");
  if (zy < 0) return -1;
  int m = bin(c, OP_DIV, bin(c, OP_MUL, sa, n->in[4]), sy);
  ONNX_TRY(c, n, m);
  if ((n->out[0] = requantize(c, n, y, m, zy, t)) < 0) return -1;
  if (!shape_eq(shape_of(c, n->out[0]), shape_of(c, y)))
    return onnx_fail(c, n, "the scales or zero points do not broadcast to the result");
  return 0;
}

/* Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point and
 * an optional int32 bias B added to the integer sum.  w's scale and zero point per
 * tensor or per output channel. */
int onnx_QLinearConv(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 8) || need_8bit(c, n, n->in[0], "x") || need_8bit(c, n, n->in[3], "w")) return -1;
  if (need_scale(c, n, n->in[1], "x_scale") || need_scale(c, n, n->in[4], "w_scale") || need_scale(c, n, n->in[6], "y_scale"))
    return -1;
  DType t = dtype_of(c, n->in[7]);
  if (t != DT_U8 && t != DT_I8) return onnx_fail(c, n, "y_zero_point must be u8 or i8, not %s", dtype_name(t));
  int64_t depth;
  int y = int_conv(c, n, n->in[0], n->in[2], n->in[3], n->in[5], &depth);
  if (y < 0) return -1;
  const Shape ys = *shape_of(c, y);
  int64_t mch = ys.d[1];
  y = cast(c, y, DT_F64);
  if (has_in(n, 8)) {
    int bias = n->in[8];
    if (dtype_of(c, bias) != DT_I32) return onnx_fail(c, n, "B must be i32, not %s", dtype_name(dtype_of(c, bias)));
    const Shape *bs = shape_of(c, bias);
    if (bs->rank != 1 || bs->d[0] != mch) return onnx_fail(c, n, "B needs %lld values, one per output channel", (long long)mch);
    y = bin(c, OP_ADD, y, cast(c, per_dim(c, n, bias, mch, 1, ys.rank, "B"), DT_F64));
  }
  int sx = per_dim(c, n, n->in[1], 1, -1, 0, "x_scale");
  int sw = sx < 0 ? -1 : per_dim(c, n, n->in[4], mch, 1, ys.rank, "w_scale");
  int sy = sw < 0 ? -1 : per_dim(c, n, n->in[6], 1, -1, 0, "y_scale");
  int zy = sy < 0 ? -1 : per_dim(c, n, n->in[7], 1, -1, 0, "y_zero_point");
  if (zy < 0) return -1;
  int m = bin(c, OP_DIV, bin(c, OP_MUL, sx, sw), sy);
  ONNX_TRY(c, n, m);
  return (n->out[0] = requantize(c, n, y, m, zy, t)) < 0 ? -1 : 0;
}
