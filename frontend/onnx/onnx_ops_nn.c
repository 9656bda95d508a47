/* onnx_ops_nn.c — matrix products, row-wise normalisations and the determinant. */
#include "onnx_fe.h"



/* numpy matmul: a 1-D operand gains a unit dimension that the result then drops. */
int onnx_MatMul(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  int a = n->in[0], b = n->in[1];
  Shape sa = *shape_of(c, a), sb = *shape_of(c, b);
  if (sa.rank == 0 || sb.rank == 0) return onnx_fail(c, n, "operands must not be scalars");
  int y;
  if (onnx_qdq_matmul(c, n, false, &y)) return -1;
  if (y >= 0) return n->out[0] = y, 0;
  if (sa.rank == 1) {
    int64_t d[2] = {1, sa.d[0]};
    ONNX_TRY(c, n, a = ir_reshape(c->g, a, d, 2));
  }
  if (sb.rank == 1) {
    int64_t d[2] = {sb.d[0], 1};
    ONNX_TRY(c, n, b = ir_reshape(c->g, b, d, 2));
  }
  ONNX_TRY(c, n, y = ir_matmul(c->g, a, b, false, false));
  if (sa.rank == 1 || sb.rank == 1) {
    Shape s = *shape_of(c, y);
    int64_t d[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < s.rank; i++) {
      bool drop = (sa.rank == 1 && i == s.rank - 2) || (sb.rank == 1 && i == s.rank - 1);
      if (!drop) d[r++] = s.d[i];
    }
    ONNX_TRY(c, n, y = ir_reshape(c->g, y, d, r));
  }
  n->out[0] = y;
  return 0;
}

/* Y = alpha * A' B' + beta * C */
int onnx_Gemm(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 2)) return -1;
  double alpha = onnx_attr_float(n, "alpha", 1), beta = onnx_attr_float(n, "beta", 1);
  bool ta = onnx_attr_int(n, "transA", 0), tb = onnx_attr_int(n, "transB", 0);
  if (shape_of(c, n->in[0])->rank != 2 || shape_of(c, n->in[1])->rank != 2)
    return onnx_fail(c, n, "A and B must be matrices");
  int y = -1;
  if (!ta && onnx_qdq_matmul(c, n, tb, &y)) return -1;
  if (y < 0) ONNX_TRY(c, n, y = ir_matmul(c->g, n->in[0], n->in[1], ta, tb));
  if (alpha != 1) ONNX_TRY(c, n, y = ir_binary(c->g, OP_MUL, y, onnx_scalar_like(c, y, alpha)));
  if (n->nin > 2 && n->in[2] >= 0 && beta != 0) {
    int cc = n->in[2];
    if (beta != 1) ONNX_TRY(c, n, cc = ir_binary(c->g, OP_MUL, cc, onnx_scalar_like(c, cc, beta)));
    ONNX_TRY(c, n, y = ir_binary(c->g, OP_ADD, y, cc));
  }
  n->out[0] = y;
  return 0;
}

typedef enum { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX } SoftKind;

/* Along one axis: m = max, e = exp(x - m), softmax = e / sum(e),
 * log_softmax = (x - m) - log(sum(e)), hardmax = one-hot of the first argmax.  Softmax
 * on float16 or bfloat16 (t) rounds x - m, e, the sum and the quotient to t, as ONNX's
 * reference computes each step in the type (onnx_sum_as). */
static int soft_axis(OnnxCtx *c, int x, int64_t axis, SoftKind kind, DType t) {
  Graph *g = c->g;
  if (kind == SM_HARDMAX) {
    Attr a[2] = {attr_int(A_AXIS, axis), attr_int(A_KEEPDIMS, 1)};
    int am = ir_add(g, OP_ARGMAX, &x, 1, a, 2);
    if (am < 0) return -1;
    Attr io[3] = {attr_ints(A_SHAPE, g->nodes[x]->shape.d, g->nodes[x]->shape.rank), attr_int(A_AXIS, axis),
                  attr_dtype(A_DTYPE, DT_I64)};
    int idx = ir_add(g, OP_IOTA, NULL, 0, io, 3);
    int hit = idx < 0 ? -1 : ir_binary(g, OP_EQ, idx, am);
    return hit < 0 ? -1 : ir_cast(g, hit, g->nodes[x]->dtype);
  }
  int m = ir_reduce(g, OP_REDUCE_MAX, x, &axis, 1, true);
  int d = m < 0 ? -1 : ir_binary(g, OP_SUB, x, m);
  if (kind == SM_SOFTMAX) {
    int dr = onnx_round_to(c, d, t);
    int e = onnx_round_to(c, dr < 0 ? -1 : ir_unary(g, OP_EXP, dr), t);
    int s = onnx_sum_as(c, e, axis, t);
    return s < 0 ? -1 : onnx_round_to(c, ir_binary(g, OP_DIV, e, s), t);
  }
  int e = d < 0 ? -1 : ir_unary(g, OP_EXP, d);
  int s = e < 0 ? -1 : ir_reduce(g, OP_REDUCE_SUM, e, &axis, 1, true);
  if (s < 0) return -1;
  int l = ir_unary(g, OP_LOG, s);
  return l < 0 ? -1 : ir_binary(g, OP_SUB, d, l);
}

/* Before opset 13 the input is seen as a matrix [prod(d[:axis]), prod(d[axis:])]. */
static int soft(OnnxCtx *c, OnnxNode *n, SoftKind kind) {
  if (need(c, n, 1)) return -1;
  const Shape *x = shape_of(c, n->in[0]);
  int64_t axis;
  if (onnx_axis(c, n, onnx_attr_int(n, "axis", c->opset < 13 ? 1 : -1), x->rank, &axis)) return -1;
  DType t = n->narrow[0] != DT_COUNT ? n->narrow[0] : dtype_of(c, n->in[0]); /* as the model gave it */
  if (c->opset >= 13) {
    ONNX_TRY(c, n, n->out[0] = soft_axis(c, n->in[0], axis, kind, t));
    return 0;
  }
  int64_t d[2] = {1, 1};
  for (int i = 0; i < x->rank; i++) d[i >= axis] *= x->d[i];
  int y;
  ONNX_TRY(c, n, y = ir_reshape(c->g, n->in[0], d, 2));
  ONNX_TRY(c, n, y = soft_axis(c, y, 1, kind, t));
  ONNX_TRY(c, n, n->out[0] = ir_reshape(c->g, y, x->d, x->rank));
  return 0;
}

int onnx_Softmax(OnnxCtx *c, OnnxNode *n) { return soft(c, n, SM_SOFTMAX); }
int onnx_LogSoftmax(OnnxCtx *c, OnnxNode *n) { return soft(c, n, SM_LOGSOFTMAX); }
int onnx_Hardmax(OnnxCtx *c, OnnxNode *n) { return soft(c, n, SM_HARDMAX); }

/* ---- Det ----------------------------------------------------------------------------- */

#define DET_MAX 4 /* Leibniz's sum has M! products: 24 at 4x4 */

/* a[..., i, j] as [...] */
static int entry(OnnxCtx *c, int x, int i, int j) {
  const Shape *s = shape_of(c, x);
  int r = s->rank;
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  for (int d = 0; d < r; d++) st[d] = 0, en[d] = s->d[d], sp[d] = 1;
  st[r - 2] = i, en[r - 2] = i + 1, st[r - 1] = j, en[r - 1] = j + 1;
  Attr a[3] = {attr_ints(A_STARTS, st, r), attr_ints(A_ENDS, en, r), attr_ints(A_STEPS, sp, r)};
  int y = ir_add(c->g, OP_SLICE, &x, 1, a, 3);
  return y < 0 ? -1 : ir_reshape(c->g, y, s->d, r - 2);
}

/* Each permutation of 0..m-1 in turn (Heap's algorithm), with its sign, into *acc. */
static int leibniz(OnnxCtx *c, int e[DET_MAX][DET_MAX], int m, int *acc) {
  int p[DET_MAX], cnt[DET_MAX] = {0}, sign = 1, i = 1;
  for (int k = 0; k < m; k++) p[k] = k;
  for (;;) {
    int term = e[0][p[0]];
    for (int k = 1; k < m && term >= 0; k++) term = ir_binary(c->g, OP_MUL, term, e[k][p[k]]);
    if (term < 0) return -1;
    *acc = *acc < 0 ? (sign > 0 ? term : ir_unary(c->g, OP_NEG, term))
                    : ir_binary(c->g, sign > 0 ? OP_ADD : OP_SUB, *acc, term);
    if (*acc < 0) return -1;
    while (i < m && cnt[i] >= i) cnt[i++] = 0;
    if (i >= m) return 0;
    int j = i % 2 ? cnt[i] : 0, t = p[j];
    p[j] = p[i], p[i] = t, sign = -sign;
    cnt[i]++, i = 1;
  }
}

/* The determinant of each [M, M] matrix of X [..., M, M], by Leibniz's formula. */
int onnx_Det(OnnxCtx *c, OnnxNode *n) {
  if (need(c, n, 1)) return -1;
  int x = n->in[0];
  const Shape *s = shape_of(c, x);
  if (s->rank < 2 || s->d[s->rank - 1] != s->d[s->rank - 2]) return onnx_fail(c, n, "X must be [..., M, M]");
  if (!dtype_is_float(c->g->nodes[x]->dtype)) return onnx_fail(c, n, "X must be floating-point");
  int m = (int)s->d[s->rank - 1];
  if (m > DET_MAX) return onnx_fail(c, n, "matrices larger than %dx%d are not supported (M = %d)", DET_MAX, DET_MAX, m);
  int e[DET_MAX][DET_MAX], acc = -1;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) ONNX_TRY(c, n, e[i][j] = entry(c, x, i, j));
  ONNX_TRY(c, n, leibniz(c, e, m, &acc));
  n->out[0] = acc;
  return 0;
}
