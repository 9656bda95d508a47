/* loss.c — the losses of training, built from core ops so that autodiff differentiates
 * them like any other node.  Each is a mean (docs/TRAINING.md):
 *
 *   ce   z logits [N, K, ...] (classes on axis 1), y integer ids [N, ...]:
 *        mean over N, ... of  logsumexp(z) - z[y];  or y float probabilities of z's shape:
 *        mean over N, ... of  sum_k y_k * (logsumexp(z) - z_k)
 *   bce  z logits, y in [0, 1]:  mean of  max(z, 0) - z*y + log(1 + exp(-|z|))
 *   mse  mean of (p - y)^2;   l1  mean of |p - y|
 *
 * logsumexp subtracts the row's maximum first, so no exp overflows.  y broadcasts onto
 * the prediction (bce(d, 1) compares every element with 1). */
#include <string.h>

#include "ir.h"

int loss_parse(const char *s, LossKind *k) {
  static const struct { const char *name; LossKind k; } names[] = {
      {"ce", LOSS_CE}, {"cross_entropy", LOSS_CE}, {"bce", LOSS_BCE}, {"mse", LOSS_MSE},
      {"l1", LOSS_L1}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(s, names[i].name)) return *k = names[i].k, 0;
  return -1;
}

/* The mean of all elements of x: a scalar. */
static int mean_all(Graph *g, int x, int64_t count) {
  const Node *n = g->nodes[x];
  int64_t axes[IR_MAX_RANK];
  for (int i = 0; i < n->shape.rank; i++) axes[i] = i;
  int s = n->shape.rank ? ir_reduce(g, OP_REDUCE_SUM, x, axes, n->shape.rank, false) : x;
  if (s < 0) return -1;
  return ir_binary(g, OP_MUL, s, ir_scalar(g, n->dtype, 1.0 / (double)(count ? count : 1)));
}

static int check_float(Graph *g, int pred, int target, bool same) {
  const Node *p = g->nodes[pred], *t = g->nodes[target];
  if (!dtype_is_float(p->dtype))
    return dlc_errf(&g->err, "loss: the prediction is %s, not a float", dtype_name(p->dtype));
  if (same && t->dtype != p->dtype)
    return dlc_errf(&g->err, "loss: the target is %s, the prediction %s", dtype_name(t->dtype),
                    dtype_name(p->dtype));
  Shape b;
  if (same && (shape_broadcast2(&p->shape, &t->shape, &b) || !shape_eq(&b, &p->shape))) {
    char ps[96], ts[96];
    shape_str(&p->shape, ps, sizeof ps), shape_str(&t->shape, ts, sizeof ts);
    return dlc_errf(&g->err, "loss: the target %s does not broadcast to the prediction %s", ts, ps);
  }
  return 0;
}

/* logsumexp over axis 1, kept: [N, 1, ...]; *d gets z - max. */
static int logsumexp1(Graph *g, int z, int *d) {
  int64_t ax = 1;
  int m = ir_reduce(g, OP_REDUCE_MAX, z, &ax, 1, true);
  *d = m < 0 ? -1 : ir_binary(g, OP_SUB, z, m);
  int e = *d < 0 ? -1 : ir_unary(g, OP_EXP, *d);
  int s = e < 0 ? -1 : ir_reduce(g, OP_REDUCE_SUM, e, &ax, 1, true);
  return s < 0 ? -1 : ir_unary(g, OP_LOG, s);
}

/* One-hot of integer ids y [N, ...] along axis 1 of z's shape, as z's dtype. */
static int one_hot(Graph *g, int z, int y) {
  const Node *zn = g->nodes[z], *yn = g->nodes[y];
  Shape ks = zn->shape;
  ks.d[1] = 1;
  bool fits = yn->shape.rank == zn->shape.rank - 1 || (yn->shape.rank == zn->shape.rank && yn->shape.d[1] == 1);
  for (int i = 0, j = 0; fits && i < zn->shape.rank; i++)
    if (i != 1 || yn->shape.rank == zn->shape.rank) fits = yn->shape.d[j++] == ks.d[i];
  if (!fits) {
    char zs[96], ys[96];
    shape_str(&zn->shape, zs, sizeof zs), shape_str(&yn->shape, ys, sizeof ys);
    return dlc_errf(&g->err, "loss ce: class ids %s do not fit logits %s (classes on axis 1)", ys, zs);
  }
  Attr a[3] = {attr_ints(A_SHAPE, zn->shape.d, zn->shape.rank), attr_int(A_AXIS, 1),
               attr_dtype(A_DTYPE, yn->dtype)};
  int io = ir_add(g, OP_IOTA, NULL, 0, a, 3);
  int yr = io < 0 ? -1 : ir_reshape(g, y, ks.d, ks.rank);
  int eq = yr < 0 ? -1 : ir_binary(g, OP_EQ, io, yr);
  return eq < 0 ? -1 : ir_cast(g, eq, zn->dtype);
}

static int cross_entropy(Graph *g, int z, int y) {
  const Node *zn = g->nodes[z], *yn = g->nodes[y];
  if (check_float(g, z, y, dtype_is_float(yn->dtype))) return -1;
  if (zn->shape.rank < 2) return dlc_errf(&g->err, "loss ce: logits need a batch and a class axis");
  bool ids = dtype_is_int(yn->dtype);
  if (!ids && !dtype_is_float(yn->dtype))
    return dlc_errf(&g->err, "loss ce: the target is %s: class ids or probabilities", dtype_name(yn->dtype));
  int64_t ax = 1, count = shape_numel(&zn->shape) / (zn->shape.d[1] ? zn->shape.d[1] : 1);
  int d, lse = logsumexp1(g, z, &d);
  int t = lse < 0 ? -1 : ids ? one_hot(g, z, y) : y;
  int per = t < 0 ? -1 : ir_binary(g, OP_MUL, t, ir_binary(g, OP_SUB, lse, d));
  int row = per < 0 ? -1 : ir_reduce(g, OP_REDUCE_SUM, per, &ax, 1, false);
  return row < 0 ? -1 : mean_all(g, row, count);
}

/* max(z, 0) - z*y + log(1 + exp(-|z|)) */
static int bce(Graph *g, int z, int y) {
  if (check_float(g, z, y, true)) return -1;
  DType t = g->nodes[z]->dtype;
  int relu = ir_binary(g, OP_MAX, z, ir_scalar(g, t, 0));
  int zy = ir_binary(g, OP_MUL, z, y);
  int en = ir_unary(g, OP_EXP, ir_unary(g, OP_NEG, ir_unary(g, OP_ABS, z)));
  int sp = en < 0 ? -1 : ir_unary(g, OP_LOG, ir_binary(g, OP_ADD, ir_scalar(g, t, 1), en));
  if (relu < 0 || zy < 0 || sp < 0) return -1;
  int l = ir_binary(g, OP_ADD, ir_binary(g, OP_SUB, relu, zy), sp);
  return l < 0 ? -1 : mean_all(g, l, shape_numel(&g->nodes[z]->shape));
}

static int distance(Graph *g, int p, int y, bool square) {
  if (check_float(g, p, y, true)) return -1;
  int d = ir_binary(g, OP_SUB, p, y);
  int l = d < 0 ? -1 : square ? ir_binary(g, OP_MUL, d, d) : ir_unary(g, OP_ABS, d);
  return l < 0 ? -1 : mean_all(g, l, shape_numel(&g->nodes[p]->shape));
}

int ir_loss(Graph *g, LossKind k, int pred, int target) {
  DLC_ASSERT(pred >= 0 && pred < g->n && target >= 0 && target < g->n);
  switch (k) {
  case LOSS_CE: return cross_entropy(g, pred, target);
  case LOSS_BCE: return bce(g, pred, target);
  case LOSS_MSE: return distance(g, pred, target, true);
  case LOSS_L1: return distance(g, pred, target, false);
  }
  DLC_ASSERT(!"a loss kind without a builder");
  return -1;
}
