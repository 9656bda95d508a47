/* schedule.c — the kernel schedule: which nodes run together, in what order.
 *
 * Needs: a verified graph.  Gives: one kernel per computing node, in graph order
 * (INPUT, PARAM and CONST are data, not kernels).  Fusion will replace this with a
 * partition that puts several nodes in one kernel. */
#include "passes.h"

static bool is_data(const Node *n) {
  return n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST;
}

Schedule *pass_schedule(Graph *g) {
  Schedule *s = arena_alloc(g->arena, sizeof *s);
  s->k = arena_alloc(g->arena, sizeof(Kernel) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) {
    if (is_data(g->nodes[i])) continue;
    Kernel *k = &s->k[s->nk++];
    k->n = 1;
    k->nodes = arena_alloc(g->arena, sizeof(int));
    k->nodes[0] = i;
  }
  return s;
}
