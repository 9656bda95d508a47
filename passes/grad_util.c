/* grad_util.c — the builders the gradient rules share, and the two rules that are not
 * about any one op (g_none, g_zero).  Each returns a node id, or -1 with g->err set;
 * an operand of -1 (a failure upstream) passes straight through. */
#include "grad.h"

int g_none(Graph *g, const Node *n, int gy, int *gin) {
  (void)gy, (void)gin;
  return dlc_errf(&g->err, "%s has no gradient", ir_ops[n->op].name);
}

int g_zero(Graph *g, const Node *n, int gy, int *gin) {
  (void)g, (void)gy;
  for (int i = 0; i < n->nin; i++) gin[i] = -1;
  return 0;
}

int grad_const(Graph *g, DType t, double v) { return ir_scalar(g, t, v); }

int grad_zeros(Graph *g, DType t, const Shape *s) {
  return grad_broadcast(g, grad_const(g, t, 0), s);
}

int grad_un(Graph *g, Op op, int a) { return a < 0 ? -1 : ir_unary(g, op, a); }

int grad_bin(Graph *g, Op op, int a, int b) { return a < 0 || b < 0 ? -1 : ir_binary(g, op, a, b); }

int grad_select(Graph *g, int c, int a, int b) {
  return c < 0 || a < 0 || b < 0 ? -1 : ir_select(g, c, a, b);
}

int grad_reshape(Graph *g, int x, const Shape *s) {
  if (x < 0 || shape_eq(&g->nodes[x]->shape, s)) return x;
  return ir_reshape(g, x, s->d, s->rank);
}

int grad_broadcast(Graph *g, int x, const Shape *s) {
  if (x < 0 || shape_eq(&g->nodes[x]->shape, s)) return x;
  Attr a = attr_ints(A_SHAPE, s->d, s->rank);
  return ir_add(g, OP_BROADCAST, &x, 1, &a, 1);
}

int grad_slice(Graph *g, int x, const int64_t *starts, const int64_t *ends, const int64_t *steps) {
  if (x < 0) return -1;
  int r = g->nodes[x]->shape.rank;
  Attr a[3] = {attr_ints(A_STARTS, starts, r), attr_ints(A_ENDS, ends, r),
               attr_ints(A_STEPS, steps, r)};
  return ir_add(g, OP_SLICE, &x, 1, a, 3);
}

int grad_pad(Graph *g, int x, const int64_t *pads) {
  if (x < 0) return -1;
  Attr a = attr_ints(A_PADS, pads, 2 * g->nodes[x]->shape.rank);
  return ir_add(g, OP_PAD, &x, 1, &a, 1);
}

int grad_unbroadcast(Graph *g, int gy, const Shape *to) {
  if (gy < 0) return -1;
  const Shape *s = &g->nodes[gy]->shape;
  if (shape_eq(s, to)) return gy;
  int lead = s->rank - to->rank, na = 0;
  DLC_ASSERT(lead >= 0);
  int64_t axes[IR_MAX_RANK];
  for (int d = 0; d < s->rank; d++)
    if (d < lead || (to->d[d - lead] == 1 && s->d[d] != 1)) axes[na++] = d;
  int r = na ? ir_reduce(g, OP_REDUCE_SUM, gy, axes, na, false) : gy;
  return grad_reshape(g, r, to);
}

int grad_unreduce(Graph *g, const Node *n, int gy, const Shape *x) {
  int na;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  Shape kept = *x;
  for (int k = 0; k < na; k++) kept.d[ax[k]] = 1;
  return grad_broadcast(g, grad_reshape(g, gy, &kept), x);
}
