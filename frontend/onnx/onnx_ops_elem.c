/* onnx_ops_elem.c — elementwise ONNX operators: math, activations, comparisons, logic. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"


static int unary(OnnxCtx *c, OnnxNode *n, Op op) {
  if (need(c, n, 1)) return -1;
  ONNX_TRY(c, n, n->out[0] = ir_unary(c->g, op, n->in[0]));
  return 0;
}

static int binary(OnnxCtx *c, OnnxNode *n, Op op) {
  if (need(c, n, 2)) return -1;
  ONNX_TRY(c, n, n->out[0] = ir_binary(c->g, op, n->in[0], n->in[1]));
  return 0;
}

#define UNARY(Name, OPC) \
  int onnx_##Name(OnnxCtx *c, OnnxNode *n) { return unary(c, n, OPC); }
#define BINARY(Name, OPC) \
  int onnx_##Name(OnnxCtx *c, OnnxNode *n) { return binary(c, n, OPC); }

UNARY(Neg, OP_NEG)
UNARY(Abs, OP_ABS)
UNARY(Exp, OP_EXP)
UNARY(Log, OP_LOG)
UNARY(Sqrt, OP_SQRT)
UNARY(Reciprocal, OP_RECIP)
UNARY(Tanh, OP_TANH)
UNARY(Erf, OP_ERF)
UNARY(Sin, OP_SIN)
UNARY(Cos, OP_COS)
UNARY(Tan, OP_TAN)
UNARY(Asin, OP_ASIN)
UNARY(Acos, OP_ACOS)
UNARY(Atan, OP_ATAN)
UNARY(Sinh, OP_SINH)
UNARY(Cosh, OP_COSH)
UNARY(Asinh, OP_ASINH)
UNARY(Acosh, OP_ACOSH)
UNARY(Atanh, OP_ATANH)
UNARY(Floor, OP_FLOOR)
UNARY(Ceil, OP_CEIL)
UNARY(Round, OP_ROUND)
UNARY(Sign, OP_SIGN)
UNARY(Not, OP_NOT)
UNARY(BitwiseNot, OP_BITNOT)
BINARY(BitwiseAnd, OP_BITAND)
BINARY(BitwiseOr, OP_BITOR)
BINARY(BitwiseXor, OP_BITXOR)
BINARY(Add, OP_ADD)
BINARY(Sub, OP_SUB)
BINARY(Mul, OP_MUL)
BINARY(Div, OP_DIV)
int onnx_Equal(OnnxCtx *c, OnnxNode *n) { /* strings: byte for byte */
  if (need(c, n, 2)) return -1;
  return binary(c, n, dtype_of(c, n->in[0]) == DT_STR ? OP_STR_EQ : OP_EQ);
}
BINARY(Less, OP_LT)
BINARY(LessOrEqual, OP_LE)
BINARY(Greater, OP_GT)
BINARY(GreaterOrEqual, OP_GE)
BINARY(And, OP_AND)
BINARY(Or, OP_OR)
BINARY(Xor, OP_XOR)

/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return onnx_scalar_like(c, like, v); }
static int add(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_ADD, a, b); }
static int sub(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_SUB, a, b); }
static int mul(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_MUL, a, b); }
static int dv(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_DIV, a, b); }
static int mx(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_MAX, a, b); }
static int mn(OnnxCtx *c, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, OP_MIN, a, b); }
static int cmp(OnnxCtx *c, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(c->g, op, a, b); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }

int onnx_Relu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  ONNX_TRY(c, n, n->out[0] = mx(c, x, k(c, x, 0)));
  return 0;
}

int onnx_LeakyRelu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 0.01);
  ONNX_TRY(c, n, n->out[0] = sel(c, cmp(c, OP_LT, x, k(c, x, 0)), mul(c, x, k(c, x, alpha)), x));
  return 0;
}

int onnx_PRelu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int x = n->in[0], slope = n->in[1];
  ONNX_TRY(c, n, n->out[0] = sel(c, cmp(c, OP_LT, x, k(c, x, 0)), mul(c, x, slope), x));
  return 0;
}

int onnx_ThresholdedRelu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 1.0);
  ONNX_TRY(c, n, n->out[0] = sel(c, cmp(c, OP_GT, x, k(c, x, alpha)), x, k(c, x, 0)));
  return 0;
}

int onnx_Elu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 1.0);
  int neg = mul(c, k(c, x, alpha), sub(c, un(c, OP_EXP, x), k(c, x, 1)));
  ONNX_TRY(c, n, n->out[0] = sel(c, cmp(c, OP_LT, x, k(c, x, 0)), neg, x));
  return 0;
}

int onnx_Selu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 1.67326319217681884765625);
  double gamma = onnx_attr_float(n, "gamma", 1.05070102214813232421875);
  int neg = sub(c, mul(c, k(c, x, alpha), un(c, OP_EXP, x)), k(c, x, alpha));
  int y = sel(c, cmp(c, OP_LE, x, k(c, x, 0)), neg, x);
  ONNX_TRY(c, n, n->out[0] = mul(c, k(c, x, gamma), y));
  return 0;
}

int onnx_Celu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 1.0);
  int e = sub(c, un(c, OP_EXP, dv(c, x, k(c, x, alpha))), k(c, x, 1));
  ONNX_TRY(c, n, n->out[0] = add(c, mx(c, x, k(c, x, 0)), mn(c, mul(c, k(c, x, alpha), e), k(c, x, 0))));
  return 0;
}

/* 1 / (1 + exp(-x)) */
static int sigmoid(OnnxCtx *c, int x) {
  return un(c, OP_RECIP, add(c, k(c, x, 1), un(c, OP_EXP, un(c, OP_NEG, x))));
}

int onnx_Sigmoid(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  ONNX_TRY(c, n, n->out[0] = sigmoid(c, n->in[0]));
  return 0;
}

int onnx_HardSigmoid(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 0.2), beta = onnx_attr_float(n, "beta", 0.5);
  int lin = add(c, mul(c, k(c, x, alpha), x), k(c, x, beta));
  ONNX_TRY(c, n, n->out[0] = mx(c, k(c, x, 0), mn(c, k(c, x, 1), lin)));
  return 0;
}

int onnx_BitShift(OnnxCtx *c, OnnxNode *n) {
  const char *dir = onnx_attr_str(c, n, "direction", "");
  if (!strcmp(dir, "LEFT")) return binary(c, n, OP_SHL);
  if (!strcmp(dir, "RIGHT")) return binary(c, n, OP_SHR);
  return onnx_fail(c, n, "direction '%s' is not LEFT or RIGHT", dir);
}

/* x * sigmoid(alpha * x) */
int onnx_Swish(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double alpha = onnx_attr_float(n, "alpha", 1);
  ONNX_TRY(c, n, n->out[0] = mul(c, x, sigmoid(c, alpha == 1 ? x : mul(c, k(c, x, alpha), x))));
  return 0;
}

/* swish_alpha(A) * B, A and B of one shape */
int onnx_SwiGLU(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int a = n->in[0], b = n->in[1];
  if (!shape_eq(&c->g->nodes[a]->shape, &c->g->nodes[b]->shape))
    return onnx_fail(c, n, "A and B must have one shape (SwiGLU does not broadcast)");
  double alpha = onnx_attr_float(n, "alpha", 1);
  int s = mul(c, a, sigmoid(c, alpha == 1 ? a : mul(c, k(c, a, alpha), a)));
  ONNX_TRY(c, n, n->out[0] = mul(c, s, b));
  return 0;
}

int onnx_HardSwish(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  int lin = add(c, mul(c, k(c, x, 1.0 / 6), x), k(c, x, 0.5));
  ONNX_TRY(c, n, n->out[0] = mul(c, x, mx(c, k(c, x, 0), mn(c, k(c, x, 1), lin))));
  return 0;
}

int onnx_Softplus(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  ONNX_TRY(c, n, n->out[0] = un(c, OP_LOG, add(c, un(c, OP_EXP, x), k(c, x, 1))));
  return 0;
}

int onnx_Softsign(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  ONNX_TRY(c, n, n->out[0] = dv(c, x, add(c, k(c, x, 1), un(c, OP_ABS, x))));
  return 0;
}

int onnx_Mish(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  int sp = un(c, OP_LOG, add(c, un(c, OP_EXP, x), k(c, x, 1)));
  ONNX_TRY(c, n, n->out[0] = mul(c, x, un(c, OP_TANH, sp)));
  return 0;
}

int onnx_Gelu(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0], inner;
  const char *approx = onnx_attr_str(c, n, "approximate", "none");
  if (!strcmp(approx, "tanh")) { /* tanh(sqrt(2/pi) * (x + 0.044715 x^3)) */
    int x3 = mul(c, x, mul(c, x, x));
    int t = mul(c, k(c, x, 0.79788456080286535588), add(c, x, mul(c, k(c, x, 0.044715), x3)));
    inner = un(c, OP_TANH, t);
  } else if (!strcmp(approx, "none")) {
    inner = un(c, OP_ERF, mul(c, x, k(c, x, 0.70710678118654752440)));
  } else return onnx_fail(c, n, "approximate='%s' is not one of none, tanh", approx);
  ONNX_TRY(c, n, n->out[0] = mul(c, mul(c, k(c, x, 0.5), x), add(c, k(c, x, 1), inner)));
  return 0;
}

int onnx_Pow(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int a = n->in[0], b = n->in[1];
  DType ta = c->g->nodes[a]->dtype;
  if (dtype_is_float(ta)) {
    if (c->g->nodes[b]->dtype != ta) ONNX_TRY(c, n, b = ir_cast(c->g, b, ta));
    ONNX_TRY(c, n, n->out[0] = ir_binary(c->g, OP_POW, a, b));
    return 0;
  }
  /* integer bases: in double, then back */
  int fa, fb, p;
  ONNX_TRY(c, n, fa = ir_cast(c->g, a, DT_F64));
  ONNX_TRY(c, n, fb = ir_cast(c->g, b, DT_F64));
  ONNX_TRY(c, n, p = ir_binary(c->g, OP_POW, fa, fb));
  ONNX_TRY(c, n, n->out[0] = ir_cast(c->g, p, ta));
  return 0;
}

/* fmod=1: C's fmod (sign of a); fmod=0 (integers): Python's, sign of b. */
int onnx_Mod(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int a = n->in[0], b = n->in[1], r;
  bool fmod_ = onnx_attr_int(n, "fmod", 0) != 0;
  if (!fmod_ && dtype_is_float(c->g->nodes[a]->dtype) && c->opset < 28) /* numpy's mod from opset 28 */
    return onnx_fail(c, n, "fmod=0 is not defined for floating-point inputs before opset 28");
  ONNX_TRY(c, n, r = ir_binary(c->g, OP_MOD, a, b));
  if (fmod_) {
    n->out[0] = r;
    return 0;
  }
  int zero = k(c, a, 0);
  int differ = cmp(c, OP_NE, cmp(c, OP_LT, r, zero), cmp(c, OP_LT, b, zero));
  int fix = differ < 0 ? -1 : ir_binary(c->g, OP_AND, cmp(c, OP_NE, r, zero), differ);
  ONNX_TRY(c, n, n->out[0] = sel(c, fix, add(c, r, b), r));
  return 0;
}

static int clip_bound(OnnxCtx *c, OnnxNode *n, int i, const char *attr, double def, int x) {
  if (c->opset < 11) return k(c, x, onnx_attr_float(n, attr, def));
  return i < n->nin && n->in[i] >= 0 ? n->in[i] : -2; /* -2: absent */
}

int onnx_Clip(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0], y = x;
  int lo = clip_bound(c, n, 1, "min", -INFINITY, x), hi = clip_bound(c, n, 2, "max", INFINITY, x);
  if (lo != -2) ONNX_TRY(c, n, y = mx(c, y, lo));
  if (hi != -2) ONNX_TRY(c, n, y = mn(c, y, hi));
  n->out[0] = y;
  return 0;
}

static int variadic(OnnxCtx *c, OnnxNode *n, Op op) {
  if (n->nin < 1) return onnx_fail(c, n, "needs at least one input");
  int y = n->in[0];
  for (int i = 1; i < n->nin; i++) ONNX_TRY(c, n, y = ir_binary(c->g, op, y, n->in[i]));
  n->out[0] = y;
  return 0;
}

int onnx_Max(OnnxCtx *c, OnnxNode *n) { return variadic(c, n, OP_MAX); }
int onnx_Min(OnnxCtx *c, OnnxNode *n) { return variadic(c, n, OP_MIN); }
int onnx_Sum(OnnxCtx *c, OnnxNode *n) { return variadic(c, n, OP_ADD); }

int onnx_Mean(OnnxCtx *c, OnnxNode *n) {
  if (variadic(c, n, OP_ADD)) return -1;
  int y = n->out[0];
  ONNX_TRY(c, n, n->out[0] = dv(c, y, k(c, y, n->nin)));
  return 0;
}

int onnx_Where(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  ONNX_TRY(c, n, n->out[0] = ir_select(c->g, n->in[0], n->in[1], n->in[2]));
  return 0;
}

/* A cast to t of x as ONNX's Cast (opset 19 on) does it: to the four float8 types,
 * `saturate` (default 1) clamps to the largest finite value first (a NaN stays NaN:
 * max and min keep a NaN first operand), as ONNX's saturate_cast; without it the IR
 * cast gives the infinity (e5m2) or NaN.  To f8e8m0, `round_mode` (up, down, nearest)
 * and `saturate` go to the cast's `round`.  float4e2m1 saturates by itself, the 4- and
 * 2-bit integers wrap; `saturate` changes nothing there (ONNX: float8 only). */
static int onnx_cast_to(OnnxCtx *c, OnnxNode *n, int x, DType t) {
  bool sat = onnx_attr_int(n, "saturate", 1) != 0;
  const char *rm = onnx_attr_str(c, n, "round_mode", "up");
  int mode = !strcmp(rm, "up") ? DTYPE_E8M0_UP : !strcmp(rm, "down") ? DTYPE_E8M0_DOWN
           : !strcmp(rm, "nearest") ? DTYPE_E8M0_NEAREST : -1;
  if (mode < 0) return onnx_fail(c, n, "round_mode '%s' is not one of up, down, nearest", rm);
  if (t == DT_F8E8M0 && (mode || !sat)) {
    Attr a[2] = {attr_dtype(A_TO, t), attr_int(A_ROUND, mode | (sat ? 0 : DTYPE_E8M0_NOSAT))};
    ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_CAST, &x, 1, a, 2));
    return 0;
  }
  if (sat && dtype_is_narrow(t) && dtype_is_float(t) && t != DT_F8E8M0 && t != DT_F4E2M1) {
    DType u = dtype_of(c, x) == DT_F64 ? DT_F64 : DT_F32; /* integers clamp as f32: the bound is exact */
    double m = dtype_narrow_max(t);
    if (u != dtype_of(c, x)) ONNX_TRY(c, n, x = ir_cast(c->g, x, u));
    ONNX_TRY(c, n, x = ir_binary(c->g, OP_MAX, x, ir_scalar(c->g, u, -m)));
    ONNX_TRY(c, n, x = ir_binary(c->g, OP_MIN, x, ir_scalar(c->g, u, m)));
  }
  ONNX_TRY(c, n, n->out[0] = ir_cast(c->g, x, t));
  return 0;
}

/* Strings to and from numbers, as ONNX Runtime's Cast does (docs/ONNX.md, "Strings"):
 * numbers are written with str_format (floats %.8g, NaN, INF, -INF; integers in decimal;
 * bool 1 or 0); strings are read with str_parse as f32 (and then rounded to a narrower
 * float type), f64, or as i64 (u64 for u64) and wrapped to a narrower integer type; bool
 * is whether the integer read is not 0.  A str to str cast is x.  1: not a string cast. */
static int cast_str(OnnxCtx *c, OnnxNode *n, DType to) {
  int x = n->in[0];
  DType from = dtype_of(c, x);
  if (from != DT_STR && to != DT_STR) return 1;
  if (from == to) return n->out[0] = x, 0;
  if (to == DT_STR) {
    ONNX_TRY(c, n, n->out[0] = ir_add(c->g, OP_STR_FORMAT, &x, 1, NULL, 0));
    return 0;
  }
  DType read = to == DT_F64 ? DT_F64 : dtype_is_float(to) ? DT_F32 : to == DT_U64 ? DT_U64 : DT_I64;
  Attr a = attr_dtype(A_DTYPE, read);
  int y;
  ONNX_TRY(c, n, y = ir_add(c->g, OP_STR_PARSE, &x, 1, &a, 1));
  if (to == read) return n->out[0] = y, 0;
  if (to == DT_BOOL) {
    ONNX_TRY(c, n, n->out[0] = ir_binary(c->g, OP_NE, y, ir_scalar(c->g, DT_I64, 0)));
    return 0;
  }
  return onnx_cast_to(c, n, y, to);
}

int onnx_Cast(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int64_t to = onnx_attr_int(n, "to", -1);
  DType t;
  if (onnx_dtype((int32_t)to, &t)) return onnx_fail(c, n, "cast to %s is not supported", onnx_dtype_name((int32_t)to));
  int r = cast_str(c, n, t);
  if (r <= 0) return r;
  return onnx_cast_to(c, n, n->in[0], t);
}

int onnx_CastLike(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int r = cast_str(c, n, dtype_of(c, n->in[1]));
  if (r <= 0) return r;
  return onnx_cast_to(c, n, n->in[0], c->g->nodes[n->in[1]]->dtype);
}

int onnx_IsNaN(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  ONNX_TRY(c, n, n->out[0] = cmp(c, OP_NE, n->in[0], n->in[0]));
  return 0;
}

int onnx_IsInf(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  bool neg = onnx_attr_int(n, "detect_negative", 1), pos = onnx_attr_int(n, "detect_positive", 1);
  int p = cmp(c, OP_EQ, x, k(c, x, INFINITY)), m = cmp(c, OP_EQ, x, k(c, x, -INFINITY));
  int y = pos && neg ? (p < 0 || m < 0 ? -1 : ir_binary(c->g, OP_OR, p, m)) : pos ? p : neg ? m : cmp(c, OP_NE, x, x);
  if (!pos && !neg) y = y < 0 ? -1 : ir_binary(c->g, OP_AND, y, cmp(c, OP_EQ, x, x));
  ONNX_TRY(c, n, n->out[0] = y);
  return 0;
}

/* x < -lambd: x + bias; x > lambd: x - bias; else 0. */
int onnx_Shrink(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  double lambd = onnx_attr_float(n, "lambd", 0.5), bias = onnx_attr_float(n, "bias", 0);
  int lo = sel(c, cmp(c, OP_LT, x, k(c, x, -lambd)), add(c, x, k(c, x, bias)), k(c, x, 0));
  ONNX_TRY(c, n, n->out[0] = sel(c, cmp(c, OP_GT, x, k(c, x, lambd)), sub(c, x, k(c, x, bias)), lo));
  return 0;
}
