/* grad_move.c — the gradient rules of the movement ops: each sends gy back to where
 * its elements came from.
 *   reshape: reshaped back.        transpose: by the inverse permutation.
 *   broadcast: summed back.        concat: each operand its slice.
 *   slice: the taken elements go back to their places, the rest are 0: reversed along
 *          negative steps, spread by |step| (a zero after each element), then padded
 *          to x.  A stepped dimension needs one spare rank for the spreading.
 *   pad: the cropped parts (negative pads) put back as 0, then x's window sliced out.
 *   gather: scatter_add, its adjoint; indices get none. */
#include <stdlib.h>

#include "grad.h"

static int done(int *gin, int i, int v) {
  gin[i] = v;
  return v < 0 ? -1 : 0;
}

static const Shape *shape_of(const Graph *g, int id) { return &g->nodes[id]->shape; }

int g_reshape(Graph *g, const Node *n, int gy, int *gin) {
  return done(gin, 0, grad_reshape(g, gy, shape_of(g, n->in[0])));
}

int g_transpose(Graph *g, const Node *n, int gy, int *gin) {
  int r;
  const int64_t *p = node_ints(n, A_PERM, &r);
  int64_t inv[IR_MAX_RANK];
  for (int i = 0; i < r; i++) inv[p[i]] = i;
  return done(gin, 0, ir_transpose(g, gy, inv));
}

int g_broadcast(Graph *g, const Node *n, int gy, int *gin) {
  return done(gin, 0, grad_unbroadcast(g, gy, shape_of(g, n->in[0])));
}

/* Reverses v along the dimensions where neg[d]. */
static int reverse(Graph *g, int v, const bool *neg) {
  const Shape *s = shape_of(g, v);
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], sp[IR_MAX_RANK];
  bool any = false;
  for (int d = 0; d < s->rank; d++) {
    any = any || neg[d];
    st[d] = neg[d] ? s->d[d] - 1 : 0;
    en[d] = neg[d] ? -1 : s->d[d];
    sp[d] = neg[d] ? -1 : 1;
  }
  return any ? grad_slice(g, v, st, en, sp) : v;
}

/* Along dimension d, each element followed by step - 1 zeros: [.., L, ..] becomes
 * [.., L*step, ..] through a spare axis [.., L, step, ..]. */
static int spread(Graph *g, int v, int d, int64_t step) {
  if (v < 0 || step == 1) return v;
  Shape s = *shape_of(g, v), wide = {.rank = s.rank + 1};
  if (wide.rank > IR_MAX_RANK)
    return dlc_errf(&g->err, "a stepped slice of rank %d has no gradient", s.rank);
  for (int i = 0, k = 0; i < s.rank; i++) {
    wide.d[k++] = s.d[i];
    if (i == d) wide.d[k++] = 1;
  }
  int64_t pads[2 * IR_MAX_RANK] = {0};
  pads[wide.rank + d + 1] = step - 1;
  int p = grad_pad(g, grad_reshape(g, v, &wide), pads);
  s.d[d] *= step;
  return grad_reshape(g, p, &s);
}

int g_slice(Graph *g, const Node *n, int gy, int *gin) {
  const Shape *x = shape_of(g, n->in[0]), *y = &n->shape;
  if (shape_numel(y) == 0) return done(gin, 0, grad_zeros(g, n->dtype, x));
  const int64_t *st = node_ints(n, A_STARTS, NULL), *sp = node_ints(n, A_STEPS, NULL);
  bool neg[IR_MAX_RANK];
  int64_t pads[2 * IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) neg[d] = sp[d] < 0;
  int v = reverse(g, gy, neg);
  for (int d = 0; d < x->rank; d++) {
    int64_t step = llabs(sp[d]), lo = sp[d] > 0 ? st[d] : st[d] + (y->d[d] - 1) * sp[d];
    v = spread(g, v, d, step);
    pads[d] = lo;
    pads[x->rank + d] = x->d[d] - lo - y->d[d] * step; /* may crop the last spread zeros */
  }
  return done(gin, 0, grad_pad(g, v, pads));
}

int g_pad(Graph *g, const Node *n, int gy, int *gin) {
  const Shape *x = shape_of(g, n->in[0]);
  const int64_t *p = node_ints(n, A_PADS, NULL);
  int r = x->rank;
  int64_t back[2 * IR_MAX_RANK], st[IR_MAX_RANK], en[IR_MAX_RANK], one[IR_MAX_RANK];
  bool cropped = false;
  for (int i = 0; i < 2 * r; i++) {
    back[i] = p[i] < 0 ? -p[i] : 0;
    cropped = cropped || p[i] < 0;
  }
  for (int d = 0; d < r; d++) {
    st[d] = p[d] > 0 ? p[d] : 0;
    en[d] = st[d] + x->d[d];
    one[d] = 1;
  }
  int v = cropped ? grad_pad(g, gy, back) : gy;
  return done(gin, 0, grad_slice(g, v, st, en, one));
}

int g_concat(Graph *g, const Node *n, int gy, int *gin) {
  int ax = (int)node_int(n, A_AXIS), r = n->shape.rank;
  int64_t st[IR_MAX_RANK] = {0}, en[IR_MAX_RANK], one[IR_MAX_RANK], at = 0;
  for (int d = 0; d < r; d++) en[d] = n->shape.d[d], one[d] = 1;
  for (int i = 0; i < n->nin; i++) {
    int64_t len = shape_of(g, n->in[i])->d[ax];
    st[ax] = at, en[ax] = at + len;
    at += len;
    if (grad_wants(gin, i) && done(gin, i, grad_slice(g, gy, st, en, one))) return -1;
  }
  return 0;
}

int g_gather(Graph *g, const Node *n, int gy, int *gin) {
  gin[1] = -1;
  if (!grad_wants(gin, 0)) return 0;
  const Shape *x = shape_of(g, n->in[0]);
  int in[2] = {gy, n->in[1]};
  Attr a[2] = {attr_ints(A_SHAPE, x->d, x->rank), attr_int(A_AXIS, node_int(n, A_AXIS))};
  return done(gin, 0, ir_add(g, OP_SCATTER_ADD, in, 2, a, 2));
}

/* scatter_add(updates, indices): the updates get gy gathered by the same indices. */
int g_scatter_add(Graph *g, const Node *n, int gy, int *gin) {
  gin[1] = -1;
  if (!grad_wants(gin, 0)) return 0;
  int in[2] = {gy, n->in[1]};
  Attr a = attr_int(A_AXIS, node_int(n, A_AXIS));
  return done(gin, 0, ir_add(g, OP_GATHER, in, 2, &a, 1));
}
