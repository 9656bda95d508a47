/* dce.c — dead code elimination, and the rebuild that every pass which changes the set
 * of nodes ends with.
 *
 * Needs: a graph whose operands come before their users.  pass_rebuild also takes a
 * replacement map (repl[i]: the node that stands for node i from now on), so a pass may
 * append a node and point earlier users at it; the rebuild puts it in order.
 * Gives: a new graph, in a new arena, holding exactly the nodes some output needs plus
 * every INPUT (they are the interface: the caller passes one buffer per input, in
 * order) and every PARAM (the weight layout and training refer to them by name even
 * where this graph no longer reads them).  Training steps survive with their targets
 * renamed; training statements not built yet (TrainSpec) do not.  Nodes keep their relative order wherever
 * the replacements allow it, and are renumbered so that ids equal indices; names, data,
 * attributes and the outputs with their names survive.  The old graph is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

/* ---- copying nodes ---- */

static const char *dup_str(Arena *a, const char *s) { return s ? arena_strdup(a, s) : NULL; }

static void push(Graph *g, Node *n) {
  if (g->n == g->cap) g->nodes = arena_grow(g->arena, g->nodes, g->n, g->cap, sizeof(Node *)), g->cap = arena_grown(g->cap);
  n->id = g->n;
  g->nodes[g->n++] = n;
}

/* A copy of n in d, its operands renamed through newid. */
static Node *copy_node(Graph *d, const Node *n, const int *newid) {
  Arena *a = d->arena;
  Node *m = arena_alloc(a, sizeof *m);
  *m = *n;
  m->in = arena_alloc(a, sizeof(int) * (size_t)(n->nin ? n->nin : 1));
  for (int j = 0; j < n->nin; j++) m->in[j] = newid[n->in[j]];
  m->guard = n->guard >= 0 ? newid[n->guard] : -1;
  m->attr = arena_alloc(a, sizeof(Attr) * (size_t)(n->nattr ? n->nattr : 1));
  for (int k = 0; k < n->nattr; k++) {
    m->attr[k] = n->attr[k];
    if (n->attr[k].kind == AK_INTS)
      m->attr[k].ints = arena_memdup(a, n->attr[k].ints, sizeof(int64_t) * (size_t)(n->attr[k].n ? n->attr[k].n : 1));
  }
  m->name = dup_str(a, n->name);
  m->where = dup_str(a, n->where);
  if (n->data) m->data = ir_data_copy(a, n->dtype, n->data, shape_numel(&n->shape));
  return m;
}

static Graph *empty_like(const Graph *g) {
  Graph *d = ir_graph_new(g->name);
  d->file = dup_str(d->arena, g->file);
  d->group = g->group;
  d->where = dup_str(d->arena, g->where);
  return d;
}

static void copy_outputs(Graph *d, const Graph *g, const int *newid) {
  for (int j = 0; j < g->nout; j++) {
    int r = ir_output(d, newid[g->out[j]], g->out_name[j]);
    DLC_ASSERT(r == j);
  }
  for (int j = 0; j < g->nout; j++)
    if (g->out_count[j] >= 0) d->out_count[j] = g->out_count[j], d->out_axis[j] = g->out_axis[j];
  for (int j = 0; j < g->nout; j++) d->out_keys[j] = g->out_keys[j];
}

Graph *pass_clone(const Graph *g) {
  Graph *d = empty_like(g);
  int *id = dlc_malloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  DLC_ASSERT(id);
  for (int i = 0; i < g->n; i++) id[i] = i;
  for (int i = 0; i < g->n; i++) push(d, copy_node(d, g->nodes[i], id));
  copy_outputs(d, g, id);
  ir_copy_steps(d, g, id);
  for (int i = 0; i < g->nspec; i++) ir_add_spec(d, &g->spec[i]);
  free(id);
  return d;
}

/* ---- rebuilding ---- */

typedef struct Rebuild {
  const Graph *g;
  const int *repl;
  bool *need;
  int *newid;  /* -1: not emitted yet */
  int *stack;
  Graph *d;
  const Node **order; /* old nodes by new id */
  int norder;
} Rebuild;

/* Follows replacements to the node that finally stands for i. */
static int find(const Rebuild *r, int i) {
  for (int steps = 0; r->repl && r->repl[i] != i; steps++) {
    DLC_ASSERT(steps <= r->g->n); /* a cycle of replacements */
    i = r->repl[i];
  }
  return i;
}

static void mark_from(Rebuild *r, int root) {
  int sp = 0;
  root = find(r, root);
  if (r->need[root]) return;
  r->need[root] = true;
  r->stack[sp++] = root;
  while (sp) {
    const Node *n = r->g->nodes[r->stack[--sp]];
    for (int j = 0; j <= n->nin; j++) { /* the guard last */
      if (j == n->nin && n->guard < 0) break;
      int a = find(r, j < n->nin ? n->in[j] : n->guard);
      if (!r->need[a]) r->need[a] = true, r->stack[sp++] = a;
    }
  }
}

/* Emits i after its operands.  Operands precede users in g except through repl, so
 * the recursion is as deep as the chain of replacement nodes, not the graph. */
static void emit(Rebuild *r, int i) {
  if (r->newid[i] >= 0) return;
  const Node *n = r->g->nodes[i];
  r->newid[i] = -2; /* on the way: meeting it again is a cycle */
  for (int j = 0; j <= n->nin; j++) { /* the guard last */
    if (j == n->nin && n->guard < 0) break;
    int a = find(r, j < n->nin ? n->in[j] : n->guard);
    DLC_ASSERT(r->newid[a] != -2);
    emit(r, a);
  }
  r->newid[i] = r->norder;
  r->order[r->norder++] = n;
}

/* newid of every node, replaced ones included, for renaming operands.  INPUTs keep
 * their order: the caller passes their buffers by position. */
static void resolve_ids(Rebuild *r, int *ids) {
  int last_input = -1;
  for (int i = 0; i < r->g->n; i++) {
    ids[i] = r->newid[find(r, i)];
    if (r->g->nodes[i]->op != OP_INPUT) continue;
    DLC_ASSERT(ids[i] > last_input);
    last_input = ids[i];
  }
}

Graph *pass_rebuild(Graph *g, const int *repl) {
  size_t n = (size_t)(g->n ? g->n : 1);
  Rebuild r = {.g = g, .repl = repl, .d = empty_like(g)};
  r.need = dlc_calloc(n, sizeof(bool));
  r.newid = dlc_malloc(n * sizeof(int)), r.stack = dlc_malloc(n * sizeof(int));
  r.order = dlc_malloc(n * sizeof(Node *));
  int *ids = dlc_malloc(n * sizeof(int));
  DLC_ASSERT(r.need && r.newid && r.stack && r.order && ids);
  for (int i = 0; i < g->n; i++) {
    r.newid[i] = -1;
    if (g->nodes[i]->op == OP_INPUT || g->nodes[i]->op == OP_PARAM) mark_from(&r, i);
  }
  for (int j = 0; j < g->nout; j++) mark_from(&r, g->out[j]);
  for (int i = 0; i < g->n; i++)
    if (r.need[i]) emit(&r, i);
  resolve_ids(&r, ids);
  for (int k = 0; k < r.norder; k++) push(r.d, copy_node(r.d, r.order[k], ids));
  copy_outputs(r.d, g, ids);
  ir_copy_steps(r.d, g, ids);
  Graph *d = r.d;
  free(r.need), free(r.newid), free(r.stack), free(r.order), free(ids);
  ir_graph_free(g);
  return d;
}

int pass_dce(Graph **g, DlcErr *e) {
  (void)e;
  *g = pass_rebuild(*g, NULL);
  return 0;
}
