/* schedule.c — the kernel schedule: building one, and proving one valid.
 *
 * Needs: a verified graph.  Gives: pass_schedule, one KERNEL_SINGLE per computing node
 * in graph order (INPUT, PARAM and CONST are data, not kernels), and schedule_check,
 * which re-derives from the graph alone that a schedule (pass_schedule's or the fuse
 * pass's) holds every computing node once, runs every operand before its user, and
 * keeps each kind's contract (passes.h). */
#include <string.h>

#include "fuse.h"

Schedule *schedule_new(Graph *g) {
  Schedule *s = arena_alloc(g->arena, sizeof *s);
  s->k = arena_alloc(g->arena, sizeof(Kernel) * (size_t)(g->n ? g->n : 1));
  return s;
}

Kernel *schedule_add(Graph *g, Schedule *s, KernelKind kind, const int *nodes, int n) {
  Kernel *k = &s->k[s->nk++];
  k->kind = n == 1 ? KERNEL_SINGLE : kind;
  k->n = n;
  k->nodes = arena_memdup(g->arena, nodes, sizeof(int) * (size_t)n);
  return k;
}

Schedule *pass_schedule(Graph *g) {
  Schedule *s = schedule_new(g);
  for (int i = 0; i < g->n; i++)
    if (!fuse_is_data(g->nodes[i])) schedule_add(g, s, KERNEL_SINGLE, &i, 1);
  return s;
}

/* ---- the checker ---- */

typedef struct Check {
  const Graph *g;
  const Schedule *s;
  int *kof, *pos; /* kernel of each node and its place in it; -1 for data */
  bool *out;      /* graph outputs */
  bool *escapes;  /* used by a node of another kernel */
  DlcErr *e;
} Check;

static const char *kind_name(KernelKind k) {
  static const char *const names[] = {"single", "elemwise", "epilogue", "reduce", "row", "seq"};
  return names[k];
}

static bool is_reduce(const Node *n) { return !strcmp(ir_ops[n->op].impl, "reduce"); }

static int placed(Check *c) {
  const Graph *g = c->g;
  for (int t = 0; t < c->s->nk; t++) {
    const Kernel *k = &c->s->k[t];
    if (k->n < 1 || (k->kind == KERNEL_SINGLE) != (k->n == 1))
      return dlc_errf(c->e, "schedule: kernel %d (%s) has %d nodes", t, kind_name(k->kind), k->n);
    for (int j = 0; j < k->n; j++) {
      int id = k->nodes[j];
      if (id < 0 || id >= g->n || fuse_is_data(g->nodes[id]) || c->kof[id] >= 0)
        return dlc_errf(c->e, "schedule: kernel %d holds node %d, which is data, unknown or "
                              "already in a kernel", t, id);
      c->kof[id] = t, c->pos[id] = j;
    }
  }
  for (int i = 0; i < g->n; i++)
    if (!fuse_is_data(g->nodes[i]) && c->kof[i] < 0)
      return dlc_errf(c->e, "schedule: node %d is in no kernel", i);
  return 0;
}

/* Operands run first: in an earlier kernel, or earlier in the same one. */
static int ordered(Check *c, int id) {
  const Node *n = c->g->nodes[id];
  for (int i = 0; i < n->nin; i++) {
    int a = n->in[i];
    if (c->kof[a] < 0 || c->kof[a] < c->kof[id]) continue;
    if (c->kof[a] == c->kof[id] && c->pos[a] < c->pos[id]) continue;
    return dlc_errf(c->e, "schedule: node %d runs before its operand %d", id, a);
  }
  return 0;
}

/* A non-last node of a loop-fused kernel: used inside only, not an output. */
static int internal(Check *c, int id) {
  if (c->out[id]) return dlc_errf(c->e, "schedule: output node %d is internal to a kernel", id);
  if (c->escapes[id])
    return dlc_errf(c->e, "schedule: node %d is internal to kernel %d but used outside it", id,
                    c->kof[id]);
  return 0;
}

static bool is_view(const Check *c, const Node *n) {
  return n->op == OP_RESHAPE && c->kof[n->in[0]] != c->kof[n->id];
}

static bool elem_of(const Node *n, const Shape *s) {
  return op_is_elementwise(n->op) && shape_eq(&n->shape, s);
}

/* Whether node j of kernel k keeps the kind's contract; vec and sc: a ROW's domain. */
static bool node_fits(const Check *c, const Kernel *k, int j, const Shape *vec, const Shape *sc) {
  const Node *n = c->g->nodes[k->nodes[j]], *last = c->g->nodes[k->nodes[k->n - 1]];
  bool is_last = j == k->n - 1;
  if (is_view(c, n) && !is_last) return true;
  switch (k->kind) {
  case KERNEL_SINGLE:
  case KERNEL_SEQ: return true;
  case KERNEL_ELEMWISE: return elem_of(n, &last->shape);
  case KERNEL_EPILOGUE: {
    const Node *h = c->g->nodes[k->nodes[0]];
    if (j == 0) return (h->op == OP_MATMUL || h->op == OP_CONV) && c->kof[h->in[0]] != c->kof[h->id] &&
                       c->kof[h->in[1]] != c->kof[h->id];
    return elem_of(n, &h->shape);
  }
  case KERNEL_REDUCE:
    if (is_last) return is_reduce(n);
    return is_reduce(last) && elem_of(n, &c->g->nodes[last->in[0]]->shape);
  case KERNEL_ROW:
    if (is_reduce(n))
      return shape_eq(&c->g->nodes[n->in[0]]->shape, vec) && (is_last || shape_eq(&n->shape, sc));
    return elem_of(n, vec) || elem_of(n, sc);
  }
  return false;
}

/* The row domain of a ROW kernel: the operand of its first reduction, else its result. */
static int row_domain(const Check *c, const Kernel *k, Shape *vec, Shape *sc) {
  *vec = c->g->nodes[k->nodes[k->n - 1]]->shape;
  for (int j = 0; j < k->n; j++) {
    const Node *n = c->g->nodes[k->nodes[j]];
    int na;
    if (!is_reduce(n)) continue;
    *vec = c->g->nodes[n->in[0]]->shape;
    const int64_t *ax = node_ints(n, A_AXES, &na);
    if (na != 1 || ax[0] != vec->rank - 1) return -1;
    break;
  }
  if (vec->rank < 1 || vec->d[vec->rank - 1] < 2) return -1;
  *sc = *vec;
  sc->d[sc->rank - 1] = 1;
  return 0;
}

static int kernel_fits(Check *c, int t) {
  const Kernel *k = &c->s->k[t];
  Shape vec = {0}, sc = {0};
  if (k->kind == KERNEL_ROW && row_domain(c, k, &vec, &sc))
    return dlc_errf(c->e, "schedule: row kernel %d has no row domain (a last axis of 2 or more)", t);
  int guard = c->g->nodes[k->nodes[0]]->guard;
  if (guard >= 0 && c->kof[guard] >= t)
    return dlc_errf(c->e, "schedule: kernel %d runs before the kernel of its guard %d", t, guard);
  for (int j = 0; j < k->n; j++) {
    int id = k->nodes[j];
    if (c->g->nodes[id]->guard != guard)
      return dlc_errf(c->e, "schedule: kernel %d holds nodes under different guards", t);
    if (ordered(c, id)) return -1;
    bool loop = k->kind != KERNEL_SINGLE && k->kind != KERNEL_SEQ;
    if (loop && j < k->n - 1 && internal(c, id)) return -1;
    if (!node_fits(c, k, j, &vec, &sc))
      return dlc_errf(c->e, "schedule: node %d (%s) breaks the contract of %s kernel %d", id,
                      ir_ops[c->g->nodes[id]->op].name, kind_name(k->kind), t);
  }
  return 0;
}

int schedule_check(const Graph *g, const Schedule *s, DlcErr *e) {
  Arena *a = arena_new();
  size_t n = (size_t)(g->n ? g->n : 1);
  Check c = {.g = g, .s = s, .e = e, .kof = arena_alloc(a, sizeof(int) * n),
             .pos = arena_alloc(a, sizeof(int) * n), .out = arena_alloc(a, sizeof(bool) * n)};
  for (int i = 0; i < g->n; i++) c.kof[i] = -1;
  for (int j = 0; j < g->nout; j++) c.out[g->out[j]] = true;
  int r = placed(&c);
  c.escapes = arena_alloc(a, sizeof(bool) * n);
  for (int i = 0; !r && i < g->n; i++)
    for (int j = 0; j < g->nodes[i]->nin; j++)
      if (c.kof[g->nodes[i]->in[j]] != c.kof[i]) c.escapes[g->nodes[i]->in[j]] = true;
  for (int i = 0; !r && i < g->n; i++) /* a kernel reads its guard as a buffer */
    if (g->nodes[i]->guard >= 0) c.escapes[g->nodes[i]->guard] = true;
  for (int t = 0; !r && t < s->nk; t++) r = kernel_fits(&c, t);
  arena_free(a);
  return r;
}
