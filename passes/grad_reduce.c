/* grad_reduce.c — the gradient rules of the reductions.
 *
 * gy has the reduced shape; it is put back over x with the reduced axes as 1 and
 * broadcast (grad_unreduce).
 *   sum:  every element gets gy.
 *   prod: each element gets gy times the product of the others, built without
 *         dividing by zero: with no zero in its group, gy y / x; with one zero, that
 *         zero gets gy times the product of the rest and the others 0; with more, 0.
 *   max, min: the elements equal to the result share gy evenly (a tie of k elements
 *         gives each gy / k), the others get 0.  Where the forward op is fed a NaN,
 *         nothing equals it and no gradient flows. */
#include "grad.h"

/* op over n's axes of x, keeping them as 1 */
static int reduce_kept(Graph *g, const Node *n, Op op, int x) {
  int na;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  return x < 0 ? -1 : ir_reduce(g, op, x, ax, na, true);
}

static int done(int *gin, int v) {
  gin[0] = v;
  return v < 0 ? -1 : 0;
}

int g_reduce_sum(Graph *g, const Node *n, int gy, int *gin) {
  return done(gin, grad_unreduce(g, n, gy, &g->nodes[n->in[0]]->shape));
}

int g_reduce_prod(Graph *g, const Node *n, int gy, int *gin) {
  int x = n->in[0];
  DType t = n->dtype;
  int zero = grad_const(g, t, 0), one = grad_const(g, t, 1);
  int is0 = grad_bin(g, OP_EQ, x, zero);
  int zeros = reduce_kept(g, n, OP_REDUCE_SUM, is0 < 0 ? -1 : ir_cast(g, is0, t));
  int xnz = grad_select(g, is0, one, x);             /* x with its zeros as 1 */
  int rest = reduce_kept(g, n, OP_REDUCE_PROD, xnz); /* the product of the nonzeros */
  const Shape *xs = &g->nodes[x]->shape;
  int gk = grad_bin(g, OP_MUL, grad_unreduce(g, n, gy, xs), grad_broadcast(g, rest, xs));
  int each = grad_bin(g, OP_DIV, gk, xnz);
  int none = grad_bin(g, OP_EQ, zeros, zero), one_zero = grad_bin(g, OP_EQ, zeros, one);
  int keep = grad_bin(g, OP_OR, none, grad_bin(g, OP_AND, one_zero, is0));
  return done(gin, grad_broadcast(g, grad_select(g, keep, each, zero), xs));
}

/* max and min: the mask of elements equal to the result, gy shared among them. */
static int g_extreme(Graph *g, const Node *n, int gy, int *gin) {
  int x = n->in[0];
  const Shape *xs = &g->nodes[x]->shape;
  int hit = grad_bin(g, OP_EQ, x, grad_unreduce(g, n, n->id, xs));
  int count = reduce_kept(g, n, OP_REDUCE_SUM, hit < 0 ? -1 : ir_cast(g, hit, n->dtype));
  int share = grad_bin(g, OP_DIV, grad_unreduce(g, n, gy, xs), grad_broadcast(g, count, xs));
  return done(gin, grad_select(g, hit, share, grad_const(g, n->dtype, 0)));
}

int g_reduce_max(Graph *g, const Node *n, int gy, int *gin) { return g_extreme(g, n, gy, gin); }
int g_reduce_min(Graph *g, const Node *n, int gy, int *gin) { return g_extreme(g, n, gy, gin); }
