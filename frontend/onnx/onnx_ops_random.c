/* onnx_ops_random.c — RandomUniform, RandomNormal, RandomUniformLike, RandomNormalLike,
 * Bernoulli and Multinomial over the counter-based core ops rng_uniform and rng_normal
 * (Philox4x32-10, runtime/rng.c; the same numbers in the interpreter, C and CUDA).
 *
 * The stream: a node with `seed` draws from stream bits(seed), the 32-bit pattern of the
 * float32 seed; a node without one from a stream fixed at compile time, the FNV-1a hash
 * of its first output's IR name shifted right by 2 with bit 62 set (never a seeded
 * stream, and different for two unseeded nodes).  The step operand is the constant 0, so
 * every call of NAME_run returns the same numbers: a compiled model is a pure function of
 * its inputs, whatever the thread count.  The numbers are drawn in double (uniform: a
 * multiple of 2^-24 in [0, 1); normal: Box-Muller), scaled in double and rounded once to
 * the output dtype.  docs/ONNX.md ("Random operators") says why numpy's numbers, which
 * the node tests expect, are not reproduced. */
#include <string.h>

#include "onnx_fe.h"

/* The stream of node n (see the header). */
static uint64_t stream_of(OnnxCtx *c, OnnxNode *n) {
  if (onnx_attr(n, "seed")) {
    float f = (float)onnx_attr_float(n, "seed", 0);
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
  }
  const char *s = n->nout > 0 && n->p->n_output > 0 ? onnx_ident(c, n->p->output[0]) : "";
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h >> 2 | (uint64_t)1 << 62;
}

/* rng_uniform or rng_normal of shape s in f64, step 0 of stream `stream`. */
static int draw(OnnxCtx *c, Op op, Shape s, uint64_t stream) {
  int step = ir_scalar(c->g, DT_I64, 0);
  if (step < 0) return -1;
  Attr a[3] = {attr_ints(A_SHAPE, s.d, s.rank), attr_int(A_SEED, (int64_t)stream), attr_dtype(A_DTYPE, DT_F64)};
  return ir_add(c->g, op, &step, 1, a, 3);
}

#define FLOATS "float, double, float16 or bfloat16"
static bool is_float_out(DType t) { return t == DT_F16 || t == DT_BF16 || t == DT_F32 || t == DT_F64; }

/* The dtype attribute as a DType among those `ok` accepts (oks names them), or def when
 * absent.  -1 on error. */
static int dtype_attr(OnnxCtx *c, OnnxNode *n, int32_t def, bool (*ok)(DType), const char *oks, DType *t) {
  int32_t code = (int32_t)onnx_attr_int(n, "dtype", def);
  if (onnx_dtype(code, t) || !ok(*t))
    return onnx_fail(c, n, "dtype %s (%d) is not supported: %s", onnx_dtype_name(code), (int)code, oks);
  return 0;
}

/* The Like operators' and Bernoulli's default dtype: input 0's, before storage widening. */
static DType input_dtype(OnnxCtx *c, const OnnxNode *n) {
  return n->narrow[0] != DT_COUNT ? n->narrow[0] : dtype_of(c, n->in[0]);
}

/* x (f64) * k + b, rounded to t. */
static int affine(OnnxCtx *c, int x, double k, double b, DType t) {
  int y = bin(c, OP_ADD, bin(c, OP_MUL, x, ir_scalar(c->g, DT_F64, k)), ir_scalar(c->g, DT_F64, b));
  return y < 0 || t == DT_F64 ? y : ir_cast(c->g, y, t);
}

/* RandomUniform (low + (high - low) u) and RandomNormal (mean + scale z), of the shape
 * attribute or, for the Like forms, of input 0's shape. */
static int random_op(OnnxCtx *c, OnnxNode *n, bool normal, bool like) {
  Shape s = {0};
  DType t;
  if (like) {
    if (need(c, n, 1)) return -1;
    s = *shape_of(c, n->in[0]);
    if (onnx_attr(n, "dtype")) {
      if (dtype_attr(c, n, 1, is_float_out, FLOATS, &t)) return -1;
    } else if (!is_float_out(t = input_dtype(c, n))) {
      return onnx_fail(c, n, "the input's dtype %s is not a float type, and no dtype attribute gives the output's",
                       dtype_name(t));
    }
  } else {
    int64_t d[IR_MAX_RANK];
    int r = onnx_attr_ints(n, "shape", d, IR_MAX_RANK);
    if (r < 0) return onnx_fail(c, n, "needs the shape attribute");
    if (r > IR_MAX_RANK) return onnx_fail(c, n, "shape has rank %d; dlc handles up to %d", r, IR_MAX_RANK);
    for (int i = 0; i < r; i++)
      if (d[i] < 0) return onnx_fail(c, n, "shape[%d] = %lld is negative", i, (long long)d[i]);
    s = shape_make(r, d);
    if (dtype_attr(c, n, 1, is_float_out, FLOATS, &t)) return -1;
  }
  double a = onnx_attr_float(n, normal ? "scale" : "high", 1), b = onnx_attr_float(n, normal ? "mean" : "low", 0);
  uint64_t stream = stream_of(c, n);
  int u = draw(c, normal ? OP_RNG_NORMAL : OP_RNG_UNIFORM, s, stream);
  ONNX_TRY(c, n, n->out[0] = normal ? affine(c, u, a, b, t) : affine(c, u, a - b, b, t));
  n->own_dtype |= 1;
  return 0;
}

int onnx_RandomUniform(OnnxCtx *c, OnnxNode *n) { return random_op(c, n, false, false); }
int onnx_RandomNormal(OnnxCtx *c, OnnxNode *n) { return random_op(c, n, true, false); }
int onnx_RandomUniformLike(OnnxCtx *c, OnnxNode *n) { return random_op(c, n, false, true); }
int onnx_RandomNormalLike(OnnxCtx *c, OnnxNode *n) { return random_op(c, n, true, true); }

/* ---- Bernoulli ------------------------------------------------------------------------ */

static bool is_bernoulli_out(DType t) {
  static const DType ok[] = {DT_U8, DT_U16, DT_U32, DT_U64, DT_I8, DT_I16, DT_I32, DT_I64, DT_BOOL};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (t == ok[i]) return true;
  return is_float_out(t);
}

/* y = (u < p): 1 with probability p, for p in [0, 1] (u is a multiple of 2^-24, so p
 * is in effect rounded up to one: docs/ONNX.md). */
int onnx_Bernoulli(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int p = n->in[0];
  DType t = input_dtype(c, n);
  if (!is_float_out(t)) return onnx_fail(c, n, "the input's dtype %s is not a float type", dtype_name(t));
  if (onnx_attr(n, "dtype") && dtype_attr(c, n, 1, is_bernoulli_out, FLOATS ", the integer types or bool", &t)) return -1;
  if (dtype_of(c, p) != DT_F64) p = ir_cast(c->g, p, DT_F64);
  int y = bin(c, OP_LT, draw(c, OP_RNG_UNIFORM, *shape_of(c, n->in[0]), stream_of(c, n)), p);
  ONNX_TRY(c, n, n->out[0] = t == DT_BOOL || y < 0 ? y : ir_cast(c->g, y, t));
  n->own_dtype |= 1;
  return 0;
}

/* ---- Multinomial ---------------------------------------------------------------------- */

static bool is_index_out(DType t) { return t == DT_I32 || t == DT_I64; }

/* x[:, from:to] of a rank-2 x. */
static int columns(OnnxCtx *c, int x, int64_t from, int64_t to) {
  if (x < 0) return -1;
  int64_t st[2] = {0, from}, en[2] = {shape_of(c, x)->d[0], to}, sp[2] = {1, 1};
  Attr a[3] = {attr_ints(A_STARTS, st, 2), attr_ints(A_ENDS, en, 2), attr_ints(A_STEPS, sp, 2)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

/* Inclusive prefix sums along axis 1 of a rank-2 x by doubling (Hillis-Steele): each
 * step adds x shifted right by s, zeros in front. */
static int prefix_sum(OnnxCtx *c, int x) {
  int64_t dim = shape_of(c, x)->d[1];
  for (int64_t s = 1; s < dim && x >= 0; s *= 2) {
    int64_t pads[4] = {0, s, 0, -s};
    Attr a[2] = {attr_ints(A_PADS, pads, 4), attr_float(A_VALUE, 0)};
    x = bin(c, OP_ADD, x, ir_add(c->g, OP_PAD, &x, 1, a, 2));
  }
  return x;
}

/* Input [B, C] holds unnormalized log-probabilities.  With e = exp(x - max x) and cdf
 * its prefix sums, sample j of row b is the count of k < C - 1 with cdf[b, k] <= u *
 * cdf[b, C-1]: class k with probability e[b, k] / sum e[b, :], never past C - 1. */
int onnx_Multinomial(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  const Shape *xs = shape_of(c, n->in[0]);
  if (xs->rank != 2) return onnx_fail(c, n, "the input must have rank 2 [batch_size, class_size], not rank %d", xs->rank);
  int64_t batch = xs->d[0], classes = xs->d[1], size = onnx_attr_int(n, "sample_size", 1);
  if (size < 1) return onnx_fail(c, n, "sample_size %lld is not positive", (long long)size);
  if (classes < 1) return onnx_fail(c, n, "class_size is 0: there is nothing to draw");
  DType t;
  if (dtype_attr(c, n, 6, is_index_out, "int32 or int64", &t)) return -1;
  int64_t us[2] = {batch, size}, t3[3] = {batch, size, 1}, h3[3] = {batch, 1, classes - 1}, axis1 = 1, axis2 = 2;
  int u = draw(c, OP_RNG_UNIFORM, shape_make(2, us), stream_of(c, n));
  if (classes == 1) { /* one class: every sample is 0 */
    int zero = bin(c, OP_MUL, u, ir_scalar(c->g, DT_F64, 0));
    ONNX_TRY(c, n, n->out[0] = zero < 0 ? -1 : ir_cast(c->g, zero, t));
    return 0;
  }
  int x = dtype_of(c, n->in[0]) == DT_F64 ? n->in[0] : ir_cast(c->g, n->in[0], DT_F64);
  int m = x < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_MAX, x, &axis1, 1, true);
  int cdf = prefix_sum(c, un(c, OP_EXP, bin(c, OP_SUB, x, m)));
  int target = reshape(c, bin(c, OP_MUL, u, columns(c, cdf, classes - 1, classes)), t3, 3);
  int below = bin(c, OP_LE, reshape(c, columns(c, cdf, 0, classes - 1), h3, 3), target);
  int ones = below < 0 ? -1 : ir_cast(c->g, below, DT_I64);
  int count = ones < 0 ? -1 : ir_reduce(c->g, OP_REDUCE_SUM, ones, &axis2, 1, false);
  ONNX_TRY(c, n, n->out[0] = count < 0 || t == DT_I64 ? count : ir_cast(c->g, count, t));
  return 0;
}
