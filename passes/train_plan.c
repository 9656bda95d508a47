/* train_plan.c — where the plan may write a parameter's new value: over the old one.
 *
 * Needs: a valid schedule.  Gives: the test pass_plan applies to each update output of
 * a training step (passes.h).  Writing in place spares the step a copy of every
 * weight and moment; it is sound when nothing reads the old value after the write.
 * The kernel that computes v reads target, if at all, only where it writes: through
 * elementwise nodes of v's shape, never through a view, in a kind that computes each
 * index from the operands at that index (ELEMWISE, ROW, an EPILOGUE's tail, a single
 * elementwise node), as the plan's own in-place rule demands. */
#include <limits.h>

#include "passes.h"

static bool same_index_kind(const Graph *g, const Kernel *k) {
  switch (k->kind) {
  case KERNEL_ELEMWISE:
  case KERNEL_ROW:
  case KERNEL_EPILOGUE: return true;
  case KERNEL_SINGLE: return op_is_elementwise(g->nodes[k->nodes[0]]->op);
  case KERNEL_REDUCE:
  case KERNEL_SEQ: return false;
  }
  return false;
}

/* Node n of kernel k reads target at the index k writes v. */
static bool reads_at_write_index(const Graph *g, const Kernel *k, const Node *n, const Node *v) {
  if (!same_index_kind(g, k) || !op_is_elementwise(n->op) || !shape_eq(&n->shape, &v->shape)) return false;
  return !(k->kind == KERNEL_EPILOGUE && n->id == k->nodes[0]);
}

int *plan_readers(Graph *g, const int *kof) {
  int *r = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) r[i] = -1;
  for (int i = 0; i < g->n; i++)
    for (int a = 0; a < g->nodes[i]->nin; a++) {
      int x = g->nodes[i]->in[a], k = kof[i] < 0 ? INT_MAX : kof[i];
      if (k > r[x]) r[x] = k;
    }
  for (int j = 0; j < g->nout; j++) r[g->out[j]] = INT_MAX;
  return r;
}

bool plan_update_in_place(const Graph *g, const Schedule *s, const int *kof, const int *readers, int v,
                          int target) {
  const Node *vn = g->nodes[v], *tn = g->nodes[target];
  if (kof[v] < 0 || tn->op != OP_PARAM || vn->dtype != tn->dtype || !shape_eq(&vn->shape, &tn->shape))
    return false;
  const Kernel *k = &s->k[kof[v]];
  if (k->nodes[k->n - 1] != v || readers[target] > kof[v]) return false;
  for (int j = 0; j < k->n; j++) { /* the reads in v's own kernel */
    const Node *n = g->nodes[k->nodes[j]];
    for (int a = 0; a < n->nin; a++)
      if (n->in[a] == target && !reads_at_write_index(g, k, n, vn)) return false;
  }
  return true;
}
