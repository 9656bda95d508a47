/* fold.c — evaluating a node whose operands are all constants, at compile time.
 *
 * The node is evaluated by the reference interpreter on a two-level copy (its CONST
 * operands, then the node) and turned into a CONST in place, so ids stay valid.  Frontends
 * use it to fold the shape arithmetic that exporters leave behind; the fold pass uses it
 * for everything else. */
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static bool foldable(const Graph *g, const Node *n) {
  if (n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST) return false;
  for (int i = 0; i < n->nin; i++)
    if (g->nodes[n->in[i]]->op != OP_CONST) return false;
  return true;
}

/* A graph of just n's operands and n, evaluated; values land in out (numel doubles). */
static int eval_alone(const Graph *g, const Node *n, double *out, DlcErr *e) {
  Graph *t = ir_graph_new("fold");
  int in[IR_MAX_RANK * 4], rc = -1;
  int nin = n->nin;
  if (nin > (int)(sizeof in / sizeof in[0])) goto done;
  for (int i = 0; i < nin; i++) {
    const Node *a = g->nodes[n->in[i]];
    in[i] = ir_const(t, NULL, a->dtype, a->shape, a->data);
    if (in[i] < 0) goto done;
  }
  int id = ir_add(t, n->op, in, nin, n->attr, n->nattr);
  if (id < 0) {
    dlc_errf(e, "%s", t->err.msg);
    goto done;
  }
  ir_output(t, id, "y");
  double *outs[1] = {out};
  rc = interp_run(t, NULL, outs, e);
  if (!rc && n->dtype == DT_STR) /* the strings into g's arena: t's goes now */
    for (int64_t i = 0, m = shape_numel(&n->shape); i < m; i++) {
      const char *s = arena_strdup(g->arena, (const char *)(uintptr_t)out[i]);
      out[i] = dtype_load(DT_STR, &s, 0);
    }
done:
  ir_graph_free(t);
  return rc;
}

int ir_fold_node(Graph *g, int id, DlcErr *e) {
  Node *n = g->nodes[id];
  if (!foldable(g, n)) return 0;
  int64_t numel = shape_numel(&n->shape);
  double *v = dlc_malloc(sizeof(double) * (size_t)(numel ? numel : 1));
  DLC_ASSERT(v);
  if (eval_alone(g, n, v, e)) {
    free(v);
    /* a branch that may never run must not fail the compilation: it stays as it is */
    return n->guard >= 0 ? 0 : -1;
  }
  n->data = arena_alloc(g->arena, (size_t)(numel * dtype_size(n->dtype)));
  if (n->op == OP_BITCAST) /* the bytes themselves: a double holds neither every i64 nor a NaN's payload */
    memcpy(n->data, g->nodes[n->in[0]]->data, (size_t)(numel * dtype_size(n->dtype)));
  else
    for (int64_t i = 0; i < numel; i++) dtype_store(n->dtype, n->data, i, v[i]);
  free(v);
  n->op = OP_CONST;
  n->nin = 0;
  n->nattr = 0;
  n->guard = -1; /* data is there whether the branch runs or not */
  return 1;
}
