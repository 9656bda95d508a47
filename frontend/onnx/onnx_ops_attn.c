/* onnx_ops_attn.c — Attention (opset 23 on) and RotaryEmbedding, composed of matmuls,
 * reshapes, transposes, reductions and elementwise ops, following the reference of
 * onnx 1.23 (onnx/reference/ops/op_attention.py, op_rotary_embedding.py).
 *
 * Masks become one additive bias of Q's dtype, 0 where a key may be attended and -inf
 * where not, built from the given mask (boolean or additive, padded with "not
 * attended" up to the keys' length), the causal frontier, the sliding window and the
 * per-batch count of real keys; it broadcasts against the scores [B, H, Sq, Skv].  A
 * query row whose bias is -inf throughout attends nothing and gives zeros.
 *
 * In float16 and bfloat16 the reference computes each step in the type (numpy's float16,
 * ml_dtypes' bfloat16), rounding every intermediate: the scaled Q and K, the scores,
 * the softcap's steps, the biased scores, x - max, exp, the sum (float16 sums in f32,
 * bfloat16 adds one key at a time, rounding each partial sum) and the quotient; but
 * after a softcap in bfloat16 (ml_dtypes divides by a Python float in f32) the steps up
 * to the probabilities are f32's.  dlc
 * computes in f32 and rounds to the type at those same steps, so that its bits are the
 * reference's; in f32 and f64 nothing is rounded. */
#include <math.h>
#include <string.h>

#include "onnx_fe.h"


static bool wants_out(const OnnxNode *n, int i) { return i < n->nout && n->p->output[i] && *n->p->output[i]; }

/* Short names for composing: each returns an id or -1 (checked by the callers). */
static int k(OnnxCtx *c, int like, double v) { return like < 0 ? -1 : onnx_scalar_like(c, like, v); }
static int sel(OnnxCtx *c, int q, int a, int b) { return q < 0 || a < 0 || b < 0 ? -1 : ir_select(c->g, q, a, b); }
static int cast(OnnxCtx *c, int x, DType t) { return x < 0 ? -1 : dtype_of(c, x) == t ? x : ir_cast(c->g, x, t); }
static int transpose(OnnxCtx *c, int x, const int64_t *perm) { return x < 0 ? -1 : ir_transpose(c->g, x, perm); }
static int i64(OnnxCtx *c, double v) { return ir_scalar(c->g, DT_I64, v); }
static int rnd(OnnxCtx *c, int x, DType t) { return onnx_round_to(c, x, t); }
static int last_keep(OnnxCtx *c, Op op, int x) {
  if (x < 0) return -1;
  int64_t ax = shape_of(c, x)->rank - 1;
  return ir_reduce(c->g, op, x, &ax, 1, true);
}
static int iota(OnnxCtx *c, const int64_t *d, int r, int64_t axis) {
  Attr a[3] = {attr_ints(A_SHAPE, d, r), attr_int(A_AXIS, axis), attr_dtype(A_DTYPE, DT_I64)};
  return ir_add(c->g, OP_IOTA, NULL, 0, a, 3);
}
static int pad_last(OnnxCtx *c, int x, int64_t more, double value) {
  if (x < 0 || !more) return x;
  int r = shape_of(c, x)->rank;
  int64_t pads[2 * IR_MAX_RANK] = {0};
  pads[2 * r - 1] = more;
  Attr a[2] = {attr_ints(A_PADS, pads, 2 * r), attr_float(A_VALUE, value)};
  return ir_add(c->g, OP_PAD, &x, 1, a, 2);
}

/* ---- Attention --------------------------------------------------------------------- */

typedef struct Attn {
  int64_t B, Hq, Hkv, Sq, Skv, past; /* Skv: past and new keys */
  int nonpad;                        /* nonpad_kv_seqlen [B] as i64, or -1 */
  DType t;
} Attn;

/* [B, S, H*D] -> [B, H, S, D] */
static int heads(OnnxCtx *c, OnnxNode *n, int x, int64_t h, const char *what) {
  const Shape *s = shape_of(c, x);
  if (h < 1 || s->d[2] % h)
    return onnx_fail(c, n, "%s's last dimension (%lld) does not divide into %lld heads", what, (long long)s->d[2],
                     (long long)h);
  int64_t d[4] = {s->d[0], s->d[1], h, s->d[2] / h}, perm[4] = {0, 2, 1, 3};
  int y = transpose(c, reshape(c, x, d, 4), perm);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

/* Where query i (offset + i in the whole sequence) and key j meet, [Sq, Skv] or, with
 * a per-batch offset, [B, 1, Sq, Skv]: offset + i - j. */
static int frontier(OnnxCtx *c, const Attn *a) {
  int64_t d[2] = {a->Sq, a->Skv};
  int diff = bin(c, OP_SUB, iota(c, d, 2, 0), iota(c, d, 2, 1));
  if (a->nonpad < 0) return bin(c, OP_ADD, diff, i64(c, (double)a->past));
  int64_t b4[4] = {a->B, 1, 1, 1};
  int off = bin(c, OP_SUB, reshape(c, a->nonpad, b4, 4), i64(c, (double)a->Sq));
  return bin(c, OP_ADD, diff, off);
}

static int neg_inf_unless(OnnxCtx *c, int allowed, int like) {
  return sel(c, allowed, k(c, like, 0), k(c, like, -INFINITY));
}

/* bias + part, or part when there is no bias yet (-1: none). */
static int add_part(OnnxCtx *c, int bias, int part) { return bias == -1 ? part : bin(c, OP_ADD, bias, part); }

/* The additive bias: its id, -1 when nothing is masked, -2 after an error. */
static int attn_bias(OnnxCtx *c, OnnxNode *n, const Attn *a, int q) {
  int bias = -1;
  if (has_in(n, 3)) {
    int m = n->in[3];
    const Shape *ms = shape_of(c, m);
    if (ms->rank < 1 || ms->d[ms->rank - 1] > a->Skv)
      return onnx_fail(c, n, "attn_mask's last dimension must be at most the keys' length (%lld)", (long long)a->Skv), -2;
    bool is_bool = dtype_of(c, m) == DT_BOOL;
    if (!is_bool && dtype_of(c, m) != a->t) return onnx_fail(c, n, "attn_mask must be bool or of Q's dtype"), -2;
    m = pad_last(c, m, a->Skv - ms->d[ms->rank - 1], is_bool ? 0 : -INFINITY);
    bias = is_bool ? neg_inf_unless(c, m, q) : m;
    if (bias < 0) return onnx_fail_ir(c, n), -2;
  }
  bool causal = onnx_attr_int(n, "is_causal", 0) != 0;
  int64_t left = onnx_attr_int(n, "left_window_size", -1), right = onnx_attr_int(n, "right_window_size", -1);
  if (left < -1 || right < -1) return onnx_fail(c, n, "left_window_size and right_window_size must be -1 or more"), -2;
  int f = causal || left >= 0 || right >= 0 ? frontier(c, a) : 0;
  if (f < 0) return onnx_fail_ir(c, n), -2;
  if (causal) /* key j <= offset + i */
    bias = add_part(c, bias, neg_inf_unless(c, bin(c, OP_GE, f, i64(c, 0)), q));
  if (bias < -1) return onnx_fail_ir(c, n), -2;
  if (left >= 0 || right >= 0) { /* offset + i - left <= j <= offset + i + right */
    int ok = -1;
    if (left >= 0) ok = bin(c, OP_LE, f, i64(c, (double)left));
    if (right >= 0) {
      int r = bin(c, OP_GE, f, i64(c, (double)-right));
      ok = left >= 0 ? bin(c, OP_AND, ok, r) : r;
    }
    int win = neg_inf_unless(c, ok, q);
    if (win < 0 || (bias = add_part(c, bias, win)) < 0) return onnx_fail_ir(c, n), -2;
  }
  if (a->nonpad >= 0) { /* key j < nonpad_kv_seqlen[b] */
    int64_t d[4] = {a->B, 1, 1, 1}, j4[4] = {1, 1, 1, a->Skv};
    int pad = neg_inf_unless(c, bin(c, OP_LT, iota(c, j4, 4, 3), reshape(c, a->nonpad, d, 4)), q);
    if (pad < 0 || (bias = add_part(c, bias, pad)) < 0) return onnx_fail_ir(c, n), -2;
  }
  if (bias == -1) return -1;
  /* at least [Sq, Skv], so that each query row has its own verdict */
  int64_t sq_skv[2] = {a->Sq, a->Skv};
  int zeros = bin(c, OP_MUL, cast(c, iota(c, sq_skv, 2, 0), a->t), k(c, q, 0));
  bias = bin(c, OP_ADD, bias, zeros);
  return bias < 0 ? (onnx_fail_ir(c, n), -2) : bias;
}

/* [B, Hkv, S, D] -> [B, Hkv*r, S, D], each head repeated r times in place (np.repeat). */
int onnx_repeat_heads(OnnxCtx *c, int x, int64_t r) {
  if (r == 1 || x < 0) return x;
  const Shape s = *shape_of(c, x);
  int64_t d5[5] = {s.d[0], s.d[1], 1, s.d[2], s.d[3]}, b5[5] = {s.d[0], s.d[1], r, s.d[2], s.d[3]};
  int64_t d4[4] = {s.d[0], s.d[1] * r, s.d[2], s.d[3]};
  int y = reshape(c, x, d5, 5);
  if (y >= 0) {
    Attr at = attr_ints(A_SHAPE, b5, 5);
    y = ir_add(c->g, OP_BROADCAST, &y, 1, &at, 1);
  }
  return reshape(c, y, d4, 4);
}

/* Softmax over the last axis that gives 0 for a row of -inf; each step rounded to t. */
static int softmax0(OnnxCtx *c, int s, DType t) {
  int m = last_keep(c, OP_REDUCE_MAX, s);
  m = sel(c, bin(c, OP_EQ, m, k(c, s, -INFINITY)), k(c, s, 0), m);
  int e = rnd(c, un(c, OP_EXP, rnd(c, bin(c, OP_SUB, s, m), t)), t);
  int sum = e < 0 ? -1 : onnx_sum_as(c, e, shape_of(c, e)->rank - 1, t);
  sum = sel(c, bin(c, OP_EQ, sum, k(c, s, 0)), k(c, s, 1), sum);
  return rnd(c, bin(c, OP_DIV, e, sum), t);
}

static int attn_inputs(OnnxCtx *c, OnnxNode *n, Attn *a, int *q, int *kk, int *v, bool *three) {
  *q = n->in[0], *kk = n->in[1], *v = n->in[2];
  a->t = dtype_of(c, *q);
  if (!dtype_is_float(a->t)) return onnx_fail(c, n, "Q of dtype %s is not supported", dtype_name(a->t));
  int r = shape_of(c, *q)->rank;
  if (r != 3 && r != 4) return onnx_fail(c, n, "Q must have rank 3 or 4, not %d", r);
  if (shape_of(c, *kk)->rank != r || shape_of(c, *v)->rank != r) return onnx_fail(c, n, "Q, K and V must have one rank");
  *three = r == 3;
  int64_t hq = onnx_attr_int(n, "q_num_heads", 0), hkv = onnx_attr_int(n, "kv_num_heads", 0);
  if (*three) {
    if (hq < 1 || hkv < 1) return onnx_fail(c, n, "3-d inputs need q_num_heads and kv_num_heads");
    if ((*q = heads(c, n, *q, hq, "Q")) < 0 || (*kk = heads(c, n, *kk, hkv, "K")) < 0 ||
        (*v = heads(c, n, *v, hkv, "V")) < 0)
      return -1;
  }
  const Shape *qs = shape_of(c, *q), *ks = shape_of(c, *kk), *vs = shape_of(c, *v);
  a->B = qs->d[0], a->Hq = qs->d[1], a->Sq = qs->d[2], a->Hkv = ks->d[1];
  if (ks->d[0] != a->B || vs->d[0] != a->B || vs->d[1] != a->Hkv || ks->d[3] != qs->d[3] || vs->d[2] != ks->d[2])
    return onnx_fail(c, n, "the shapes of Q, K and V do not agree");
  if (a->Hq % a->Hkv) return onnx_fail(c, n, "%lld query heads do not group over %lld key heads",
                                       (long long)a->Hq, (long long)a->Hkv);
  return 0;
}

/* The cache: K and V after past_key and past_value along the sequence. */
static int attn_cache(OnnxCtx *c, OnnxNode *n, Attn *a, int *kk, int *v) {
  a->past = 0;
  if (has_in(n, 4) != has_in(n, 5)) return onnx_fail(c, n, "past_key and past_value come together");
  if (has_in(n, 4)) {
    a->past = shape_of(c, n->in[4])->rank == 4 ? shape_of(c, n->in[4])->d[2] : 0;
    int pk[2] = {n->in[4], *kk}, pv[2] = {n->in[5], *v};
    Attr ax = attr_int(A_AXIS, 2);
    ONNX_TRY(c, n, *kk = ir_add(c->g, OP_CONCAT, pk, 2, &ax, 1));
    ONNX_TRY(c, n, *v = ir_add(c->g, OP_CONCAT, pv, 2, &ax, 1));
  }
  a->Skv = shape_of(c, *kk)->d[2];
  a->nonpad = -1;
  if (has_in(n, 6)) {
    if (has_in(n, 4)) return onnx_fail(c, n, "nonpad_kv_seqlen cannot come with past_key");
    if (shape_numel(shape_of(c, n->in[6])) != a->B) return onnx_fail(c, n, "nonpad_kv_seqlen must hold one count per batch");
    ONNX_TRY(c, n, a->nonpad = cast(c, n->in[6], DT_I64));
  }
  return 0;
}

int onnx_Attention(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  Attn a = {0};
  int q, kk, v;
  bool three = false;
  if (attn_inputs(c, n, &a, &q, &kk, &v, &three) || attn_cache(c, n, &a, &kk, &v)) return -1;
  int64_t mode = onnx_attr_int(n, "qk_matmul_output_mode", 0), prec = onnx_attr_int(n, "softmax_precision", 0);
  if (mode < 0 || mode > 3) return onnx_fail(c, n, "qk_matmul_output_mode %lld is not one of 0-3", (long long)mode);
  double scale = onnx_attr_float(n, "scale", 1 / sqrt((double)shape_of(c, q)->d[3]));
  double softcap = onnx_attr_float(n, "softcap", 0);
  DType t = n->narrow[0] != DT_COUNT ? n->narrow[0] : a.t; /* Q's dtype as given: the steps round to it */
  /* the steps after a softcap: ml_dtypes divides a bfloat16 array by a Python float in f32 */
  DType w = softcap > 0 && t == DT_BF16 ? DT_F32 : t, pt = w;
  if (prec && onnx_dtype((int32_t)prec, &pt)) return onnx_fail(c, n, "softmax_precision %s is not supported", onnx_dtype_name((int32_t)prec));
  if (!dtype_is_float(pt) || dtype_is_narrow(pt)) return onnx_fail(c, n, "softmax_precision must be float, double, float16 or bfloat16");
  DType pc = dtype_is_storage(pt) ? DT_F32 : pt; /* the softmax computed in it, rounded to pt */
  if (wants_out(n, 1)) n->out[1] = kk;
  if (wants_out(n, 2)) n->out[2] = v;
  int bias = attn_bias(c, n, &a, q);
  if (bias == -2) return -1;
  bool none = bias == -1;
  int ks = onnx_repeat_heads(c, kk, a.Hq / a.Hkv), vs = onnx_repeat_heads(c, v, a.Hq / a.Hkv);
  int rs = rnd(c, k(c, q, sqrt(scale)), t); /* as the reference: both sides by sqrt(scale) */
  int s = ks < 0 ? -1 : ir_matmul(c->g, rnd(c, bin(c, OP_MUL, q, rs), t), rnd(c, bin(c, OP_MUL, ks, rs), t), false, true);
  s = rnd(c, s, t);
  if (softcap > 0) {
    int cap = rnd(c, k(c, s, softcap), w);
    s = rnd(c, bin(c, OP_MUL, rnd(c, un(c, OP_TANH, rnd(c, bin(c, OP_DIV, s, cap), w)), w), cap), w);
  }
  int qk = s;
  if (!none) s = rnd(c, bin(c, OP_ADD, s, bias), w);
  if (mode == 2) qk = s;
  int p = rnd(c, cast(c, softmax0(c, rnd(c, cast(c, s, pc), pt), pt), a.t), t);
  if (!none) p = sel(c, bin(c, OP_EQ, last_keep(c, OP_REDUCE_MAX, bias), k(c, bias, -INFINITY)), k(c, p, 0), p);
  if (mode == 3) qk = p;
  int y = vs < 0 || p < 0 ? -1 : ir_matmul(c->g, p, vs, false, false);
  if (three && y >= 0) {
    int64_t perm[4] = {0, 2, 1, 3}, d[3] = {a.B, a.Sq, a.Hq * shape_of(c, vs)->d[3]};
    y = reshape(c, transpose(c, y, perm), d, 3);
  }
  ONNX_TRY(c, n, n->out[0] = y);
  if (wants_out(n, 3)) ONNX_TRY(c, n, n->out[3] = qk);
  return 0;
}

/* ---- RotaryEmbedding ----------------------------------------------------------------- */

/* x[..., from:to] along the last axis. */
static int slice_last(OnnxCtx *c, int x, int64_t from, int64_t to) {
  if (x < 0) return -1;
  const Shape *s = shape_of(c, x);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int i = 0; i < s->rank; i++) st[i] = 0, en[i] = s->d[i], sp[i] = 1;
  st[s->rank - 1] = from, en[s->rank - 1] = to;
  Attr a[3] = {attr_ints(A_STARTS, st, s->rank), attr_ints(A_ENDS, en, s->rank), attr_ints(A_STEPS, sp, s->rank)};
  return ir_add(c->g, OP_SLICE, &x, 1, a, 3);
}

static int concat_last(OnnxCtx *c, int a, int b) {
  if (a < 0 || b < 0) return -1;
  int in[2] = {a, b};
  Attr ax = attr_int(A_AXIS, shape_of(c, a)->rank - 1);
  return ir_add(c->g, OP_CONCAT, in, 2, &ax, 1);
}

/* The cache rows for each position: cache[position_ids] or the cache itself, [B, S, 1, R/2]. */
static int rope_cache(OnnxCtx *c, OnnxNode *n, int cache, int64_t B, int64_t S, int64_t half) {
  if (has_in(n, 3)) {
    int in[2] = {cache, n->in[3]};
    Attr ax = attr_int(A_AXIS, 0);
    cache = ir_add(c->g, OP_GATHER, in, 2, &ax, 1);
    if (cache < 0) return onnx_fail_ir(c, n);
  }
  const Shape *s = shape_of(c, cache);
  if (s->rank != 3 || s->d[0] != B || s->d[1] != S || s->d[2] != half)
    return onnx_fail(c, n, "the cos and sin caches (after position_ids) must be [%lld, %lld, %lld]", (long long)B,
                     (long long)S, (long long)half);
  int64_t d[4] = {B, S, 1, half};
  int y = reshape(c, cache, d, 4);
  return y < 0 ? onnx_fail_ir(c, n) : y;
}

/* Rotates the first rotary_embedding_dim features of each head by the cached angles: the
 * halves (or, interleaved, the even and odd features) are a complex number's parts. */
int onnx_RotaryEmbedding(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 3)) return -1;
  int x = n->in[0];
  const Shape xs = *shape_of(c, x);
  if (!dtype_is_float(dtype_of(c, x))) return onnx_fail(c, n, "input must be floating-point");
  bool inter = onnx_attr_int(n, "interleaved", 0) != 0;
  int64_t rd = onnx_attr_int(n, "rotary_embedding_dim", 0), nh = onnx_attr_int(n, "num_heads", 0);
  int64_t perm[4] = {0, 2, 1, 3};
  if (xs.rank == 4) x = transpose(c, x, perm); /* [B, S, H, D] */
  else if (xs.rank == 3) {
    if (nh < 1 || xs.d[2] % nh) return onnx_fail(c, n, "3-d input needs num_heads dividing its last dimension");
    int64_t d[4] = {xs.d[0], xs.d[1], nh, xs.d[2] / nh};
    x = reshape(c, x, d, 4);
  } else return onnx_fail(c, n, "input must have rank 3 or 4, not %d", xs.rank);
  if (x < 0) return onnx_fail_ir(c, n);
  const Shape s = *shape_of(c, x);
  int64_t D = s.d[3];
  if (!rd) rd = D;
  if (rd < 2 || rd > D || rd % 2) return onnx_fail(c, n, "rotary_embedding_dim %lld must be even and at most %lld", (long long)rd, (long long)D);
  int64_t half = rd / 2;
  int cs = rope_cache(c, n, n->in[1], s.d[0], s.d[1], half), sn = cs < 0 ? -1 : rope_cache(c, n, n->in[2], s.d[0], s.d[1], half);
  if (sn < 0) return -1;
  int xr = rd < D ? slice_last(c, x, 0, rd) : x, x1, x2;
  int64_t pairs[5] = {s.d[0], s.d[1], s.d[2], half, 2}, halves[4] = {s.d[0], s.d[1], s.d[2], half};
  if (inter) {
    int p = reshape(c, xr, pairs, 5);
    x1 = reshape(c, slice_last(c, p, 0, 1), halves, 4), x2 = reshape(c, slice_last(c, p, 1, 2), halves, 4);
  } else x1 = slice_last(c, xr, 0, half), x2 = slice_last(c, xr, half, rd);
  int re = bin(c, OP_SUB, bin(c, OP_MUL, cs, x1), bin(c, OP_MUL, sn, x2));
  int im = bin(c, OP_ADD, bin(c, OP_MUL, sn, x1), bin(c, OP_MUL, cs, x2));
  int64_t rot[4] = {s.d[0], s.d[1], s.d[2], rd}, col[5] = {s.d[0], s.d[1], s.d[2], half, 1};
  int y = inter ? reshape(c, concat_last(c, reshape(c, re, col, 5), reshape(c, im, col, 5)), rot, 4) : concat_last(c, re, im);
  if (rd < D) y = concat_last(c, y, slice_last(c, x, rd, D));
  y = xs.rank == 4 ? transpose(c, y, perm) : reshape(c, y, xs.d, 3);
  ONNX_TRY(c, n, n->out[0] = y);
  return 0;
}
