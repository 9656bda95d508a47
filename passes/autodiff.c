/* autodiff.c — reverse-mode differentiation over core ops.
 *
 * Needs: a verified graph, a float loss of one element, float parameters.
 * Guarantees: the forward nodes are untouched; new nodes are appended after them, in
 * topological order, and verify; grads[i] has params[i]'s shape and dtype.
 *
 * Which nodes get a rule: gradients flow through float values only, so a node is
 * active when it is float and a parameter reaches it; a node is needed when it is
 * active and reaches the loss.  Nodes are visited from the loss back to the first
 * parameter; each needed node's rule (the grad column of ops.def) turns its gradient
 * into its operands' gradients, and a value read several times sums what each reader
 * sends it.
 *
 * pass_gradient (ONNX's Gradient) differentiates a value y of any shape, seeded with
 * ones, with respect to independent variables that may be computed values: the walk
 * stops at each of them (a cut), so what computed one receives nothing through it. */
#include <stdlib.h>

#include "grad.h"

static const GradFn rules[OP_COUNT] = {
#define OP(id, name, nin, impl, types, result, attrs, scalar, cexpr, grad) [OP_##id] = grad,
#include "ops.def"
#undef OP
};

typedef struct Ad {
  Graph *g;
  int n0;     /* nodes before autodiff */
  bool *need; /* per forward node: on a path from a parameter to the loss */
  int *grad;  /* per forward node: its gradient so far, or -1 */
  bool *cut;  /* pass_gradient: per forward node, an independent variable (NULL: none) */
  int bad;    /* the node whose rule failed, or -1 */
} Ad;

static int check_args(const Graph *g, int loss, bool scalar, const int *params, int np, DlcErr *e) {
  if (loss < 0 || loss >= g->n) return dlc_errf(e, "autodiff: the loss %d is not a node", loss);
  const Node *l = g->nodes[loss];
  if (!scalar && !dtype_is_float(l->dtype))
    return dlc_errf(e, "autodiff: the differentiated value (%%%d, %s) is %s, not a float", loss, ir_ops[l->op].name,
                    dtype_name(l->dtype));
  if (scalar && (!dtype_is_float(l->dtype) || shape_numel(&l->shape) != 1))
    return dlc_errf(e, "autodiff: the loss (%%%d, %s) must be a float scalar", loss,
                    ir_ops[l->op].name);
  for (int i = 0; i < np; i++) {
    if (params[i] < 0 || params[i] >= g->n)
      return dlc_errf(e, "autodiff: parameter %d (%d) is not a node", i, params[i]);
    const Node *p = g->nodes[params[i]];
    if (!dtype_is_float(p->dtype))
      return dlc_errf(e, "autodiff: parameter '%s' is %s, not a float", p->name ? p->name : "?",
                      dtype_name(p->dtype));
    if (dtype_is_storage(p->dtype)) /* its update would compute in it */
      return dlc_errf(e, "autodiff: parameter '%s' is %s, a storage dtype: only f32 and f64 parameters train",
                      p->name ? p->name : "?", dtype_name(p->dtype));
  }
  return 0;
}

/* active forward from the parameters, then needed backward from the loss (not past a
 * cut: what computed an independent variable does not see its gradient). */
static void mark(Ad *ad, int loss, const int *params, int np) {
  bool *active = dlc_calloc((size_t)ad->n0, sizeof(bool));
  DLC_ASSERT(active);
  for (int i = 0; i < np; i++) active[params[i]] = true;
  for (int i = 0; i < ad->n0; i++) {
    const Node *n = ad->g->nodes[i];
    for (int k = 0; k < n->nin && !active[i]; k++) active[i] = active[n->in[k]];
    active[i] = active[i] && dtype_is_float(n->dtype);
  }
  ad->need[loss] = active[loss];
  for (int i = loss; i >= 0; i--) {
    const Node *n = ad->g->nodes[i];
    for (int k = 0; k < n->nin && ad->need[i] && !(ad->cut && ad->cut[i]); k++)
      if (active[n->in[k]]) ad->need[n->in[k]] = true;
  }
  free(active);
}

/* Adds gradient v into value id's sum; a storage dtype's (a float16 value read by
 * several casts) is summed in f32 and rounded back. */
static int accumulate(Ad *ad, int id, int v) {
  Graph *g = ad->g;
  int have = ad->grad[id];
  DType t = g->nodes[v]->dtype;
  if (have >= 0 && dtype_is_storage(t)) {
    int s = ir_binary(g, OP_ADD, ir_cast(g, have, DT_F32), ir_cast(g, v, DT_F32));
    ad->grad[id] = s < 0 ? -1 : ir_cast(g, s, t);
  } else {
    ad->grad[id] = have < 0 ? v : ir_binary(g, OP_ADD, have, v);
  }
  return ad->grad[id] < 0 ? -1 : 0;
}

/* What a node under guard c sends to an operand computed under a weaker guard: its
 * share where c held, zero where the branch did not run (ir.h: Node.guard). */
static int unguard(Graph *g, int c, int v) {
  const Node *d = g->nodes[v];
  int z = grad_zeros(g, d->dtype, &d->shape);
  return z < 0 ? -1 : ir_select(g, c, v, z);
}

/* Runs node n's rule and sends each operand its share.  The rule's nodes run under n's
 * guard; each operand's sum is kept under the operand's own. */
static int backward(Ad *ad, const Node *n, DlcErr *e) {
  Graph *g = ad->g;
  int *gin = dlc_malloc(sizeof(int) * (size_t)n->nin), rc = 0, outer = g->guard;
  DLC_ASSERT(gin);
  for (int k = 0; k < n->nin; k++) gin[k] = ad->need[n->in[k]] ? 0 : -1;
  g->guard = n->guard;
  if (rules[n->op](g, n, ad->grad[n->id], gin))
    ad->bad = n->id, rc = dlc_errf(e, "autodiff: %%%d = %s: %s", n->id, ir_ops[n->op].name, g->err.msg);
  for (int k = 0; k < n->nin && !rc; k++) {
    if (gin[k] < 0 || !ad->need[n->in[k]]) continue;
    const Node *a = g->nodes[n->in[k]], *d = g->nodes[gin[k]];
    DLC_ASSERT(shape_eq(&d->shape, &a->shape) && d->dtype == a->dtype); /* STYLE 12 */
    g->guard = a->guard;
    int v = n->guard >= 0 && n->guard != a->guard ? unguard(g, n->guard, gin[k]) : gin[k];
    if (v < 0 || accumulate(ad, a->id, v))
      rc = dlc_errf(e, "autodiff: summing gradients of %%%d: %s", a->id, g->err.msg);
  }
  g->guard = outer;
  free(gin);
  return rc;
}

/* The gradient of the loss with respect to itself: ones. */
static int seed(Ad *ad, int loss) {
  const Node *l = ad->g->nodes[loss];
  ad->grad[loss] = grad_broadcast(ad->g, grad_const(ad->g, l->dtype, 1), &l->shape);
  return ad->grad[loss] < 0 ? -1 : 0;
}

static int results(Ad *ad, const int *params, int np, int *grads, DlcErr *e) {
  for (int i = 0; i < np; i++) {
    const Node *p = ad->g->nodes[params[i]];
    grads[i] = ad->grad[p->id] >= 0 ? ad->grad[p->id] : grad_zeros(ad->g, p->dtype, &p->shape);
    if (grads[i] < 0) return dlc_errf(e, "autodiff: %s", ad->g->err.msg);
  }
  return 0;
}

static int run(Ad *ad, int loss, const int *params, int np, int *grads, DlcErr *e) {
  Graph *g = ad->g;
  ad->need = dlc_calloc((size_t)g->n, sizeof(bool));
  ad->grad = dlc_malloc(sizeof(int) * (size_t)g->n);
  DLC_ASSERT(ad->need && ad->grad);
  for (int i = 0; i < g->n; i++) ad->grad[i] = -1;
  mark(ad, loss, params, np);
  int rc = ad->need[loss] && seed(ad, loss) ? dlc_errf(e, "autodiff: %s", g->err.msg) : 0;
  for (int i = loss; i >= 0 && !rc; i--) {
    const Node *n = g->nodes[i];
    if (ad->need[i] && ad->grad[i] >= 0 && n->nin && !(ad->cut && ad->cut[i])) rc = backward(ad, n, e);
  }
  if (!rc) rc = results(ad, params, np, grads, e);
  free(ad->need);
  free(ad->grad);
  return rc;
}

int pass_autodiff(Graph *g, int loss, const int *params, int np, int *grads, DlcErr *e) {
  if (check_args(g, loss, true, params, np, e)) return -1;
  Ad ad = {.g = g, .n0 = g->n, .bad = -1};
  return run(&ad, loss, params, np, grads, e);
}

int pass_gradient(Graph *g, int y, const int *xs, int nx, int *grads, int *bad, DlcErr *e) {
  *bad = -1;
  if (check_args(g, y, false, xs, nx, e)) return -1;
  Ad ad = {.g = g, .n0 = g->n, .bad = -1};
  ad.cut = dlc_calloc((size_t)g->n, sizeof(bool));
  DLC_ASSERT(ad.cut);
  for (int i = 0; i < nx; i++) ad.cut[xs[i]] = true;
  int rc = run(&ad, y, xs, nx, grads, e);
  *bad = ad.bad;
  free(ad.cut);
  return rc;
}
