/* grad_heavy.c — the gradient rules of the heavy ops and of their gradients.
 *
 *   matmul: y = op(a) op(b) with op a transpose or not; da = gy op(b)^T, db = op(a)^T gy,
 *           each written as one matmul whose trans flags give the operand's own
 *           layout, then summed over the batch dimensions it was broadcast along.
 *   conv:   dx = conv_grad_input(gy, w), dw = conv_grad_weight(x, gy), same window.
 *   conv_grad_input and conv_grad_weight are bilinear, so their gradients are conv and
 *           the other gradient op again (second derivatives come for free).
 *   pool_max: pool_max_grad(x, gy) routes each window's gradient to its first maximum.
 *   pool_avg: pool_avg_grad(gy), and back again: pool_avg is pool_avg_grad's adjoint. */
#include "grad.h"

static int done(Graph *g, const Node *n, int *gin, int i, int v) {
  gin[i] = grad_unbroadcast(g, v, &g->nodes[n->in[i]]->shape);
  return gin[i] < 0 ? -1 : 0;
}

static int mm(Graph *g, int a, int b, bool ta, bool tb) { return ir_matmul(g, a, b, ta, tb); }

int g_matmul(Graph *g, const Node *n, int gy, int *gin) {
  int a = n->in[0], b = n->in[1];
  bool ta = node_int(n, A_TRANS_A), tb = node_int(n, A_TRANS_B);
  if (grad_wants(gin, 0)) {
    /* a is [M,K]: gy [M,N] times op(b)^T; a is [K,M]: op(b) [K,N] times gy^T */
    int v = ta ? mm(g, b, gy, tb, true) : mm(g, gy, b, false, !tb);
    if (done(g, n, gin, 0, v)) return -1;
  }
  if (!grad_wants(gin, 1)) return 0;
  /* b is [K,N]: op(a)^T [K,M] times gy; b is [N,K]: gy^T times op(a) */
  int v = tb ? mm(g, gy, a, true, ta) : mm(g, a, gy, !ta, false);
  return done(g, n, gin, 1, v);
}

/* n's attributes but `shape`, with shape s put first: for the ops of one window. */
static int with_shape(const Node *n, const Shape *s, Attr *out) {
  int k = 0;
  if (s) out[k++] = attr_ints(A_SHAPE, s->d, s->rank);
  for (int i = 0; i < n->nattr; i++)
    if (n->attr[i].key != A_SHAPE) out[k++] = n->attr[i];
  return k;
}

/* op(in0, in1) (in1 < 0: one operand) over n's window, with result shape s if given */
static int window_op(Graph *g, const Node *n, Op op, int in0, int in1, const Shape *s) {
  Attr a[8];
  int in[2] = {in0, in1}, na = with_shape(n, s, a);
  return ir_add(g, op, in, in1 < 0 ? 1 : 2, a, na);
}

static const Shape *shape_of(const Graph *g, int id) { return &g->nodes[id]->shape; }

/* conv(x, w) */
int g_conv(Graph *g, const Node *n, int gy, int *gin) {
  int x = n->in[0], w = n->in[1];
  if (grad_wants(gin, 0) &&
      done(g, n, gin, 0, window_op(g, n, OP_CONV_GRAD_INPUT, gy, w, shape_of(g, x))))
    return -1;
  if (!grad_wants(gin, 1)) return 0;
  return done(g, n, gin, 1, window_op(g, n, OP_CONV_GRAD_WEIGHT, x, gy, shape_of(g, w)));
}

/* conv_grad_input(gy, w) = gx; G its gradient: d gy = conv(G, w), d w = conv_grad_weight(G, gy) */
int g_conv_grad_input(Graph *g, const Node *n, int gy, int *gin) {
  int cy = n->in[0], w = n->in[1];
  if (grad_wants(gin, 0) && done(g, n, gin, 0, window_op(g, n, OP_CONV, gy, w, NULL))) return -1;
  if (!grad_wants(gin, 1)) return 0;
  return done(g, n, gin, 1, window_op(g, n, OP_CONV_GRAD_WEIGHT, gy, cy, shape_of(g, w)));
}

/* conv_grad_weight(x, gy) = gw; G its gradient: d x = conv_grad_input(gy, G), d gy = conv(x, G) */
int g_conv_grad_weight(Graph *g, const Node *n, int gy, int *gin) {
  int x = n->in[0], cy = n->in[1];
  if (grad_wants(gin, 0) &&
      done(g, n, gin, 0, window_op(g, n, OP_CONV_GRAD_INPUT, cy, gy, shape_of(g, x))))
    return -1;
  if (!grad_wants(gin, 1)) return 0;
  return done(g, n, gin, 1, window_op(g, n, OP_CONV, x, gy, NULL));
}

int g_pool_max(Graph *g, const Node *n, int gy, int *gin) {
  return done(g, n, gin, 0, window_op(g, n, OP_POOL_MAX_GRAD, n->in[0], gy, NULL));
}

int g_pool_avg(Graph *g, const Node *n, int gy, int *gin) {
  return done(g, n, gin, 0, window_op(g, n, OP_POOL_AVG_GRAD, gy, -1, shape_of(g, n->in[0])));
}

int g_pool_avg_grad(Graph *g, const Node *n, int gy, int *gin) {
  return done(g, n, gin, 0, window_op(g, n, OP_POOL_AVG, gy, -1, NULL));
}
