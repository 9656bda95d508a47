/* onnx_ops_attn27.c — LinearAttention and CausalConvWithState (opset 27), the building
 * blocks of linear-attention language models (Gated DeltaNet, Mamba), composed of core
 * ops as ONNX's reference computes them (onnx/reference/ops/op_linear_attention.py,
 * op_causal_conv_with_state.py).
 *
 * LinearAttention is a recurrence over the sequence: its state [B, Hkv, dk, dv] is
 * unrolled over the static length T, a few matmuls and elementwise ops per step, in
 * f32 whatever the storage dtype (the reference accumulates in f32 and rounds only the
 * results).  CausalConvWithState is one depthwise conv over the past state (or zeros)
 * followed by the input. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"

/* x[from:to] along axis. */
static int slice_axis(OnnxCtx *c, int x, int axis, int64_t from, int64_t to) {
  if (x < 0) return -1;
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[axis] = from, en[axis] = to;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

static int concat_axis(OnnxCtx *c, const int *v, int cnt, int axis) {
  for (int i = 0; i < cnt; i++)
    if (v[i] < 0) return -1;
  if (cnt == 1) return v[0];
  Attr ax = attr_int(A_AXIS, axis);
  return ir_add(c->g, OP_CONCAT, v, cnt, &ax, 1);
}

static int cast(OnnxCtx *c, int x, DType t) { return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t); }

/* Operand i's dtype as the model gave it (f16 and bf16 arrive widened to f32). */
static DType given_dtype(OnnxCtx *c, const OnnxNode *n, int i) {
  return n->narrow[i] != DT_COUNT ? n->narrow[i] : dtype_of(c, n->in[i]);
}

/* Each operand the schema types as T or S must be f32, f16 or bf16. */
static int check_floats(OnnxCtx *c, OnnxNode *n, const char *const *names, int cnt) {
  for (int i = 0; i < cnt && i < n->nin; i++) {
    if (!has_in(n, i)) continue;
    DType t = given_dtype(c, n, i);
    if (t != DT_F32 && t != DT_F16 && t != DT_BF16)
      return onnx_fail(c, n, "%s of dtype %s is not supported (float, float16 or bfloat16)", names[i], dtype_name(t));
  }
  return 0;
}

/* ---- LinearAttention ------------------------------------------------------------------ */

typedef struct Lin {
  int64_t B, T, Hq, Hkv, G, dk, dv; /* G: query heads per key head */
  int64_t gh, bh;                   /* decay's last dimension (Hkv*dk or Hkv), beta's (Hkv or 1) */
  bool gating, delta;
  int q, k, v, egate, beta;         /* [B, T, ...] packed; egate: exp(decay) */
} Lin;

static int lin_rule(OnnxCtx *c, OnnxNode *n, Lin *l) {
  const char *rule = onnx_attr_str(c, n, "update_rule", "gated_delta");
  if (strcmp(rule, "linear") && strcmp(rule, "gated") && strcmp(rule, "delta") && strcmp(rule, "gated_delta"))
    return onnx_fail(c, n, "update_rule '%.100s' is not one of linear, gated, delta, gated_delta", rule);
  l->gating = !strcmp(rule, "gated") || !strcmp(rule, "gated_delta");
  l->delta = !strcmp(rule, "delta") || !strcmp(rule, "gated_delta");
  if (l->gating != has_in(n, 4))
    return onnx_fail(c, n, "update_rule '%s' %s the decay input", rule, l->gating ? "needs" : "takes no");
  if (l->delta != has_in(n, 5))
    return onnx_fail(c, n, "update_rule '%s' %s the beta input", rule, l->delta ? "needs" : "takes no");
  /* chunk_size only tunes a chunk-parallel algorithm: the result is the recurrence's */
  onnx_attr_ignore(n, "chunk_size");
  return 0;
}

static int lin_shapes(OnnxCtx *c, OnnxNode *n, Lin *l) {
  l->Hq = onnx_attr_int(n, "q_num_heads", 0), l->Hkv = onnx_attr_int(n, "kv_num_heads", 0);
  if (l->Hq < 1 || l->Hkv < 1 || l->Hq % l->Hkv)
    return onnx_fail(c, n, "q_num_heads (%lld) must be a positive multiple of kv_num_heads (%lld)", (long long)l->Hq,
                     (long long)l->Hkv);
  const Shape *qs = shape_of(c, n->in[0]), *ks = shape_of(c, n->in[1]), *vs = shape_of(c, n->in[2]);
  if (qs->rank != 3 || ks->rank != 3 || vs->rank != 3) return onnx_fail(c, n, "query, key and value must have rank 3");
  l->B = qs->d[0], l->T = qs->d[1], l->G = l->Hq / l->Hkv;
  if (l->T < 1) return onnx_fail(c, n, "the sequence is empty");
  if (qs->d[2] % l->Hq || vs->d[2] % l->Hkv)
    return onnx_fail(c, n, "query's and value's last dimensions must divide into q_num_heads and kv_num_heads");
  l->dk = qs->d[2] / l->Hq, l->dv = vs->d[2] / l->Hkv;
  for (int i = 1; i < 3; i++)
    if (shape_of(c, n->in[i])->d[0] != l->B || shape_of(c, n->in[i])->d[1] != l->T)
      return onnx_fail(c, n, "query, key and value must share batch and sequence dimensions");
  if (ks->d[2] != l->Hkv * l->dk)
    return onnx_fail(c, n, "key's last dimension must be kv_num_heads * d_k (%lld)", (long long)(l->Hkv * l->dk));
  if (has_in(n, 3)) {
    const Shape *ps = shape_of(c, n->in[3]);
    if (ps->rank != 4 || ps->d[0] != l->B || ps->d[1] != l->Hkv || ps->d[2] != l->dk || ps->d[3] != l->dv)
      return onnx_fail(c, n, "past_state must be [%lld, %lld, %lld, %lld]", (long long)l->B, (long long)l->Hkv,
                       (long long)l->dk, (long long)l->dv);
  }
  for (int i = 4; i < 6; i++) {
    if (!has_in(n, i)) continue;
    const Shape *s = shape_of(c, n->in[i]);
    int64_t last = s->rank == 3 ? s->d[2] : -1;
    bool ok = s->rank == 3 && s->d[0] == l->B && s->d[1] == l->T &&
              (i == 4 ? last == l->Hkv || last == l->Hkv * l->dk : last == l->Hkv || last == 1);
    if (!ok)
      return onnx_fail(c, n, i == 4 ? "decay must be [%lld, %lld, kv_num_heads or kv_num_heads * d_k]"
                                    : "beta must be [%lld, %lld, kv_num_heads or 1]",
                       (long long)l->B, (long long)l->T);
    if (i == 4) l->gh = last;
    else l->bh = last;
  }
  return 0;
}

/* Step t of a packed [B, T, X] operand, as [B, d1, d2, d3] (X = d1*d2*d3). */
static int step(OnnxCtx *c, int x, int64_t t, int64_t B, int64_t d1, int64_t d2, int64_t d3) {
  int64_t d[4] = {B, d1, d2, d3};
  return reshape(c, slice_axis(c, x, 1, t, t + 1), d, 4);
}

/* One step of the recurrence: the new state, and the step's output [B, 1, Hq*dv]
 * (unscaled) in *o. */
static int lin_step(OnnxCtx *c, const Lin *l, int64_t t, int s, int *o) {
  int krow = step(c, l->k, t, l->B, l->Hkv, 1, l->dk), kcol = step(c, l->k, t, l->B, l->Hkv, l->dk, 1);
  int vt = step(c, l->v, t, l->B, l->Hkv, 1, l->dv);
  if (krow < 0 || kcol < 0 || vt < 0) return -1;
  if (l->gating) /* S *= exp(g_t), per key dimension or per head */
    s = bin(c, OP_MUL, s, step(c, l->egate, t, l->B, l->Hkv, l->gh == l->Hkv ? 1 : l->dk, 1));
  if (l->delta && s >= 0) /* v_t <- beta_t (v_t - S^T k_t) */
    vt = bin(c, OP_MUL, step(c, l->beta, t, l->B, l->bh, 1, 1),
             bin(c, OP_SUB, vt, ir_matmul(c->g, krow, s, false, false)));
  s = bin(c, OP_ADD, s, bin(c, OP_MUL, kcol, vt)); /* S += k_t (x) v_t */
  int qt = step(c, l->q, t, l->B, l->Hkv, l->G, l->dk); /* query head h reads key head h / G */
  int64_t d[3] = {l->B, 1, l->Hq * l->dv};
  *o = qt < 0 || s < 0 ? -1 : reshape(c, ir_matmul(c->g, qt, s, false, false), d, 3);
  return *o < 0 ? -1 : s;
}

/* output = scale * o, as the reference multiplies: by the f32 attribute, or by the
 * default 1/sqrt(d_k) in f64 and then rounded. */
static int lin_scale(OnnxCtx *c, OnnxNode *n, const Lin *l, int o) {
  double scale = onnx_attr_float(n, "scale", 0);
  if (scale != 0) return bin(c, OP_MUL, o, ir_scalar(c->g, DT_F32, scale));
  int wide = bin(c, OP_MUL, cast(c, o, DT_F64), ir_scalar(c->g, DT_F64, 1 / sqrt((double)l->dk)));
  return cast(c, wide, DT_F32);
}

/* The state's dtype S: past_state's, or the query's without one. */
static DType lin_state_dtype(OnnxCtx *c, const OnnxNode *n) { return given_dtype(c, n, has_in(n, 3) ? 3 : 0); }

int onnx_LinearAttention(OnnxCtx *c, OnnxNode *n) {
  static const char *const names[] = {"query", "key", "value", "past_state", "decay", "beta"};
  if (need(c, n, 3) || check_floats(c, n, names, 6)) return -1;
  Lin l = {.q = n->in[0], .k = n->in[1], .v = n->in[2], .beta = n->in[5]};
  if (lin_rule(c, n, &l) || lin_shapes(c, n, &l)) return -1;
  if ((double)l.T * 24 > (double)ir_limits.nodes) /* 24: about what one step adds */
    return onnx_fail(c, n, "%lld steps would unroll into more than %lld nodes (--max-nodes)", (long long)l.T,
                     (long long)ir_limits.nodes);
  l.egate = l.gating ? un(c, OP_EXP, n->in[4]) : -1;
  int64_t sd[4] = {l.B, l.Hkv, l.dk, l.dv};
  int s = n->in[3]; /* or zeros */
  if (!has_in(n, 3)) {
    Attr at = attr_ints(A_SHAPE, sd, 4);
    int zero = ir_scalar(c->g, DT_F32, 0);
    s = zero < 0 ? -1 : ir_add(c->g, OP_BROADCAST, &zero, 1, &at, 1);
  }
  int *outs = arena_alloc(c->g->arena, sizeof(int) * (size_t)l.T);
  for (int64_t t = 0; t < l.T && s >= 0; t++) s = lin_step(c, &l, t, s, &outs[t]);
  if (s < 0) return onnx_fail_ir(c, n);
  ONNX_TRY(c, n, n->out[0] = lin_scale(c, n, &l, concat_axis(c, outs, (int)l.T, 1)));
  DType st = lin_state_dtype(c, n);
  ONNX_TRY(c, n, s = cast(c, s, st));
  if (n->nout > 1) n->out[1] = s, n->own_dtype |= 2; /* S, not the query's T */
  return 0;
}

/* ---- CausalConvWithState ------------------------------------------------------------ */

/* The past state (or k-1 zeros) followed by the input, [B, C, k-1+L]. */
static int causal_padded(OnnxCtx *c, OnnxNode *n, int x, int64_t k) {
  const Shape *xs = shape_of(c, x);
  if (has_in(n, 3)) {
    const Shape *ps = shape_of(c, n->in[3]);
    if (ps->rank != 3 || ps->d[0] != xs->d[0] || ps->d[1] != xs->d[1] || ps->d[2] != k - 1)
      return onnx_fail(c, n, "past_state must be [%lld, %lld, %lld]", (long long)xs->d[0], (long long)xs->d[1],
                       (long long)(k - 1));
    int in[2] = {n->in[3], x}, p;
    if (k > 1) ONNX_TRY(c, n, p = concat_axis(c, in, 2, 2));
    return k == 1 ? x : p;
  }
  if (k == 1) return x;
  int64_t pads[6] = {0, 0, k - 1, 0, 0, 0};
  Attr a[2] = {attr_ints(A_PADS, pads, 6), attr_float(A_VALUE, 0)};
  int p;
  ONNX_TRY(c, n, p = ir_add(c->g, OP_PAD, &x, 1, a, 2));
  return p;
}

/* y * sigmoid(y), the sigmoid as 1 / (1 + exp(-y)). */
static int silu(OnnxCtx *c, int y) {
  int one = ir_scalar(c->g, DT_F32, 1);
  return bin(c, OP_MUL, y, bin(c, OP_DIV, one, bin(c, OP_ADD, one, un(c, OP_EXP, un(c, OP_NEG, y)))));
}

int onnx_CausalConvWithState(OnnxCtx *c, OnnxNode *n) {
  static const char *const names[] = {"input", "weight", "bias", "past_state"};
  if (need(c, n, 2) || check_floats(c, n, names, 4)) return -1;
  const char *act = onnx_attr_str(c, n, "activation", "none");
  bool sw = !strcmp(act, "silu") || !strcmp(act, "swish");
  if (!sw && strcmp(act, "none")) return onnx_fail(c, n, "activation '%.100s' is not one of silu, swish, none", act);
  int x = n->in[0], w = n->in[1];
  const Shape xs = *shape_of(c, x), *ws = shape_of(c, w);
  if (xs.rank != 3) return onnx_fail(c, n, "input must have rank 3 (batch, channels, length), not %d", xs.rank);
  if (xs.d[2] < 1) return onnx_fail(c, n, "the input is empty (length 0)");
  if (ws->rank != 3 || ws->d[0] != xs.d[1] || ws->d[1] != 1 || ws->d[2] < 1)
    return onnx_fail(c, n, "weight must be [%lld, 1, k] with k at least 1", (long long)xs.d[1]);
  int64_t k = ws->d[2];
  int p = causal_padded(c, n, x, k);
  if (p < 0) return -1;
  int64_t one[1] = {1}, zero[2] = {0, 0};
  int in[2] = {p, w};
  Attr a[4] = {attr_ints(A_STRIDES, one, 1), attr_ints(A_PADS, zero, 2), attr_ints(A_DILATIONS, one, 1),
               attr_int(A_GROUPS, xs.d[1])};
  int y = ir_add(c->g, OP_CONV, in, 2, a, 4);
  DType t = given_dtype(c, n, 0);
  if (has_in(n, 2)) {
    const Shape *bs = shape_of(c, n->in[2]);
    if (bs->rank != 1 || bs->d[0] != xs.d[1]) return onnx_fail(c, n, "bias must be [%lld]", (long long)xs.d[1]);
    int64_t d[3] = {1, xs.d[1], 1};
    /* numpy rounds a float16 conv before the bias; ml_dtypes' bfloat16 matmul gives f32 */
    y = bin(c, OP_ADD, t == DT_F16 ? onnx_round_to(c, y, t) : y, reshape(c, n->in[2], d, 3));
  }
  if (sw) /* the reference rounds the conv to the input's dtype before the activation */
    y = silu(c, t == DT_F32 ? y : cast(c, cast(c, y, t), DT_F32));
  ONNX_TRY(c, n, n->out[0] = y);
  const Shape *ps = shape_of(c, p);
  if (n->nout > 1) ONNX_TRY(c, n, n->out[1] = slice_axis(c, p, 2, ps->d[2] - (k - 1), ps->d[2]));
  return 0;
}
