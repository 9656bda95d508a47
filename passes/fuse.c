/* fuse.c — the fuse pass: partitions the computing nodes into kernels.
 *
 * Needs: a verified graph (nodes in topological order).  Gives: a Schedule whose
 * kernels hold every computing node exactly once, each kernel's nodes in an order its
 * emitter can run them (see the kind contracts in passes.h), the kernels themselves
 * in a valid order (a topological order of kernels).  It never changes the graph and
 * knows nothing of any backend.
 *
 * FUSE_NONE: one KERNEL_SINGLE per node.  FUSE_OP: each maximal run of consecutive
 * computing nodes of one source operator (node->group) is a kernel: a loop-fused kind
 * when the run is exactly a region the FUSE_ALL rules would form from its last node,
 * else KERNEL_SEQ.  FUSE_ALL: regions grown from each sink (fuse_region.c).
 *
 * Why the kernel order is valid: a region holds its root and producers whose every use
 * lies inside it, so only the root is read outside and every member's id is at most
 * the root's; ordering kernels by root id therefore puts each producer kernel first.
 */
#include <stdlib.h>

#include "fuse.h"

/* Regions from every sink, last node first; then kernels sorted by root id. */
static Schedule *fuse_all(Graph *g, FuseUses *u) {
  Schedule *s = schedule_new(g);
  int *owner = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  int *nodes = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  int *root_of = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) owner[i] = -1, root_of[i] = -1;
  for (int r = g->n - 1; r >= 0; r--) {
    if (fuse_is_data(g->nodes[r]) || owner[r] >= 0) continue;
    KernelKind kind;
    int n = fuse_region(g, u, r, owner, NULL, nodes, &kind);
    root_of[r] = s->nk;
    schedule_add(g, s, kind, nodes, n);
  }
  Schedule *sorted = schedule_new(g);
  for (int r = 0; r < g->n; r++)
    if (root_of[r] >= 0) sorted->k[sorted->nk++] = s->k[root_of[r]];
  return sorted;
}

/* One run of a group: the region kind when the region from its last node is exactly
 * the run, else KERNEL_SEQ. */
static void op_kernel(Graph *g, FuseUses *u, Schedule *s, const int *run, int n, int *owner,
                      bool *allowed) {
  int *nodes = arena_alloc(g->arena, sizeof(int) * (size_t)n);
  KernelKind kind = KERNEL_SEQ;
  for (int j = 0; j < n; j++) allowed[run[j]] = true;
  int got = fuse_region(g, u, run[n - 1], owner, allowed, nodes, &kind);
  for (int j = 0; j < n; j++) allowed[run[j]] = false;
  if (got == n) schedule_add(g, s, kind, nodes, n);
  else schedule_add(g, s, KERNEL_SEQ, run, n);
  for (int j = 0; j < n; j++) owner[run[j]] = 0;
}

static Schedule *fuse_op(Graph *g, FuseUses *u) {
  Schedule *s = schedule_new(g);
  int *run = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  int *owner = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  bool *allowed = arena_alloc(g->arena, sizeof(bool) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) owner[i] = -1;
  int n = 0;
  for (int i = 0; i <= g->n; i++) {
    const Node *x = i < g->n ? g->nodes[i] : NULL;
    if (x && fuse_is_data(x)) continue;
    bool joins = x && n && x->group >= 0 && x->group == g->nodes[run[0]]->group &&
                 x->guard == g->nodes[run[0]]->guard;
    if (!joins && n) op_kernel(g, u, s, run, n, owner, allowed), n = 0;
    if (x) run[n++] = i;
  }
  return s;
}

Schedule *pass_fuse(Graph *g, FuseMode mode) {
  if (mode == FUSE_NONE) return pass_schedule(g);
  FuseUses *u = fuse_uses(g);
  return mode == FUSE_OP ? fuse_op(g, u) : fuse_all(g, u);
}

bool fuse_is_data(const Node *n) {
  return n->op == OP_INPUT || n->op == OP_PARAM || n->op == OP_CONST;
}

FuseUses *fuse_uses(Graph *g) {
  size_t n = (size_t)g->n + 1;
  FuseUses *u = arena_alloc(g->arena, sizeof *u);
  u->start = arena_alloc(g->arena, sizeof(int) * (n + 1));
  u->output = arena_alloc(g->arena, sizeof(bool) * n);
  u->member = arena_alloc(g->arena, sizeof(int) * n);
  u->blocked = arena_alloc(g->arena, sizeof(int) * n);
  u->cand = arena_alloc(g->arena, sizeof(int) * n);
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i]->nin; j++) u->start[g->nodes[i]->in[j] + 1]++;
  for (int i = 0; i < g->n; i++) u->start[i + 1] += u->start[i];
  u->user = arena_alloc(g->arena, sizeof(int) * (size_t)(u->start[g->n] + 1));
  int *fill = arena_memdup(g->arena, u->start, sizeof(int) * n);
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i]->nin; j++) u->user[fill[g->nodes[i]->in[j]]++] = i;
  for (int j = 0; j < g->nout; j++) u->output[g->out[j]] = true;
  for (int i = 0; i < g->n; i++) /* a guard is read as a buffer: never inside a region */
    if (g->nodes[i]->guard >= 0) u->output[g->nodes[i]->guard] = true;
  return u;
}
