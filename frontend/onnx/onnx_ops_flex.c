/* onnx_ops_flex.c — FlexAttention (the ai.onnx.preview domain): scaled dot-product
 * attention over rank-4 Q, K and V whose scores and probabilities pass through
 * user-given graphs, following onnx's reference
 * (onnx/reference/ops/aionnx_preview/op_flex_attention.py):
 *
 *     S = (Q sqrt(scale)) (K sqrt(scale))^T      in Q's dtype
 *     S = score_mod(S)                           in the softmax dtype, from here on
 *     P = softmax(S) over the keys
 *     P = prob_mod(P)
 *     Y = P V                                    then in V's dtype
 *
 * The softmax dtype is softmax_precision, else f32 (f64 for f64 inputs).  score_mod and
 * prob_mod are bodies (onnx_body_build) that take and give one [B, Hq, Sq, Skv] tensor;
 * they are built inline, once each.  K and V heads are shared by groups of query heads
 * (GQA).  In float16 and bfloat16 every step the reference computes in the type (the
 * scaled Q and K, the scores, and with such a softmax_precision each softmax step and
 * P V) is computed in f32 and rounded to the type, so that the bits are the
 * reference's; a bfloat16 matmul's result stays f32, as ml_dtypes gives it.  As in the reference, a row whose scores are all -inf gives NaN. */
#include <math.h>

#include "onnx_fe.h"

static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int cast(OnnxCtx *c, int x, DType t) { return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t); }
static int rnd(OnnxCtx *c, int x, DType t) { return onnx_round_to(c, x, t); }
static int last_keep(OnnxCtx *c, Op op, int x) {
  if (x < 0) return -1;
  int64_t ax = shape_of(c, x)->rank - 1;
  return ir_reduce(c->g, op, x, &ax, 1, true);
}

/* A matmul's result as the reference has it: numpy's float16 matmul gives float16,
 * ml_dtypes' bfloat16 matmul gives float32 (not rounded). */
static int mm_rnd(OnnxCtx *c, int x, DType t) { return t == DT_BF16 ? x : rnd(c, x, t); }

/* The shapes of Q [B, Hq, Sq, E], K [B, Hkv, Skv, E] and V [B, Hkv, Skv, Ev]. */
static int flex_shapes(OnnxCtx *c, OnnxNode *n) {
  const Shape *q = shape_of(c, n->in[0]), *kk = shape_of(c, n->in[1]), *v = shape_of(c, n->in[2]);
  if (q->rank != 4 || kk->rank != 4 || v->rank != 4)
    return onnx_fail(c, n, "Q, K and V must have rank 4, not %d, %d and %d", q->rank, kk->rank, v->rank);
  if (kk->d[0] != q->d[0] || v->d[0] != q->d[0] || v->d[1] != kk->d[1] || v->d[2] != kk->d[2] || kk->d[3] != q->d[3])
    return onnx_fail(c, n, "the shapes of Q, K and V do not agree");
  if (kk->d[1] < 1 || q->d[1] % kk->d[1])
    return onnx_fail(c, n, "%lld query heads do not group over %lld key heads", (long long)q->d[1], (long long)kk->d[1]);
  for (int i = 0; i < 3; i++)
    if (dtype_of(c, n->in[i]) != dtype_of(c, n->in[0]) || !dtype_is_float(dtype_of(c, n->in[i])))
      return onnx_fail(c, n, "Q, K and V must share one floating-point dtype");
  return 0;
}

/* The softmax dtype pt (softmax_precision, else f32, f64 for f64 inputs). */
static int flex_precision(OnnxCtx *c, OnnxNode *n, DType t, DType *pt) {
  int64_t prec = onnx_attr_int(n, "softmax_precision", 0);
  *pt = t == DT_F64 ? DT_F64 : DT_F32;
  if (prec && onnx_dtype((int32_t)prec, pt))
    return onnx_fail(c, n, "softmax_precision %s is not supported", onnx_dtype_name((int32_t)prec));
  if (*pt != DT_F32 && *pt != DT_F64 && *pt != DT_F16 && *pt != DT_BF16)
    return onnx_fail(c, n, "softmax_precision must be float, double, float16 or bfloat16, not %s", dtype_name(*pt));
  return 0;
}

/* x through the graph attribute `name` when the node has it: given in pt (a body
 * declares its input in the softmax dtype), its result taken back to the working dtype
 * pc; x itself without it; -1 with the error. */
static int flex_mod(OnnxCtx *c, OnnxNode *n, const char *name, int x, DType pt, DType pc) {
  if (!onnx_attr(n, name)) return x;
  const Onnx__GraphProto *gp = onnx_attr_graph(c, n, name);
  if (!gp) return -1;
  int in = cast(c, x, pt), out[1];
  if (in < 0) return onnx_fail_ir(c, n);
  int rc = onnx_body_build(c, n, gp, name, -1, name, &in, 1, out, 1);
  if (rc < 0) return -1;
  if (rc != 1) return onnx_fail(c, n, "%s must give one output", name);
  if (out[0] < 0) return onnx_fail(c, n, "%s must give a tensor, not a sequence or optional", name);
  if (!shape_eq(shape_of(c, out[0]), shape_of(c, x)))
    return onnx_fail(c, n, "%s must keep the shape of its input", name);
  if (!dtype_is_float(dtype_of(c, out[0])))
    return onnx_fail(c, n, "%s gives %s, not a floating-point tensor", name, dtype_name(dtype_of(c, out[0])));
  int y = rnd(c, cast(c, onnx_storage_wide(c, out[0]), pc), pt);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

/* Softmax over the last axis, each step rounded to pt. */
static int softmax(OnnxCtx *c, int s, DType pt) {
  int e = rnd(c, un(c, OP_EXP, rnd(c, bin(c, OP_SUB, s, last_keep(c, OP_REDUCE_MAX, s)), pt)), pt);
  int sum = e < 0 ? -1 : onnx_sum_as(c, e, shape_of(c, e)->rank - 1, pt);
  return rnd(c, bin(c, OP_DIV, e, sum), pt);
}

int onnx_FlexAttention(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3) || flex_shapes(c, n)) return -1;
  int q = n->in[0], kk = n->in[1], v = n->in[2];
  DType w = dtype_of(c, q), t = n->narrow[0] != DT_COUNT ? n->narrow[0] : w, pt; /* t: Q's dtype as given */
  if (flex_precision(c, n, t, &pt)) return -1;
  DType pc = dtype_is_storage(pt) ? DT_F32 : pt; /* computed in it, rounded to pt */
  int64_t r = shape_of(c, q)->d[1] / shape_of(c, kk)->d[1];
  double scale = onnx_attr_float(n, "scale", 1 / sqrt((double)shape_of(c, q)->d[3]));
  if (!(scale >= 0)) return onnx_fail(c, n, "scale %g is not supported (its square root scales Q and K)", scale);
  /* the reference takes sqrt(scale) in f32, then to Q's dtype */
  int ss = rnd(c, k(c, q, (double)sqrtf((float)scale)), t);
  int ks = rnd(c, bin(c, OP_MUL, onnx_repeat_heads(c, kk, r), ss), t);
  int s = ks < 0 ? -1 : ir_matmul(c->g, rnd(c, bin(c, OP_MUL, q, ss), t), ks, false, true);
  s = rnd(c, cast(c, mm_rnd(c, s, t), pc), pt);
  if (s < 0) return onnx_fail_ir(c, n);
  if ((s = flex_mod(c, n, "score_mod", s, pt, pc)) < 0) return -1;
  int p = softmax(c, s, pt);
  if (p < 0) return onnx_fail_ir(c, n);
  if ((p = flex_mod(c, n, "prob_mod", p, pt, pc)) < 0) return -1;
  int vs = rnd(c, cast(c, onnx_repeat_heads(c, v, r), pc), pt);
  int y = vs < 0 ? -1 : ir_matmul(c->g, p, vs, false, false);
  ONNX_TRY(c, n, n->out[0] = cast(c, mm_rnd(c, y, pt), w));
  return 0;
}
