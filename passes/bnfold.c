/* bnfold.c — per-channel affine steps after a conv or matmul folded into its weights.
 *
 * Needs: a verified graph that is used for inference (parameters do not change).
 * Gives: a verified graph in which a chain
 *     y = conv(x, W) or matmul(x, W),  then  y+c, c+y, y-c, c-y, y*c, c*y, y/c ...
 * where every c is per output channel (conv: axis 1; matmul: the last axis, a column),
 * computed from PARAMs and CONSTs alone, and every value in the chain but the last has
 * one user and is not an output, becomes  conv(x, W') + b'  (or matmul): the chain is
 * y*a + b per channel, so W' = W*a along its output channel and b' = b, a new CONST
 * (left out when zero).  This is what batchnorm after a conv or dense layer leaves
 * behind, with or without a bias before it.  Only chains with a multiply or divide, or
 * with two steps or more, are folded, so a lone bias stays as it was.  W must be a PARAM
 * or CONST that nothing else reads; it is rewritten in place and keeps its name (a
 * PARAM's initializer becomes its data).  Results change by rounding only (W*a is
 * rounded once, where the chain rounded after each step).  Nodes left without users
 * are removed, so ids change; the unused batchnorm PARAMs stay (see dce.c).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

enum { MAX_STEPS = 16 };

typedef struct Step {
  Op op;
  bool y_first; /* y is the first operand */
  int c;        /* the per-channel operand */
} Step;

typedef struct Chain {
  int y, w, end;  /* the heavy node, its weight, the chain's last node */
  int axis;       /* the channel axis of y */
  int64_t nch;    /* channels */
  int n;
  Step step[MAX_STEPS];
} Chain;

typedef struct Uses {
  int *count; /* per node: users, outputs counted */
  int *user;  /* the one user when count is 1 (-1: an output) */
  bool *weight_only; /* computed from PARAMs and CONSTs alone */
} Uses;

/* ---- analysis ---- */

static void uses_make(const Graph *g, Uses *u) {
  size_t n = (size_t)(g->n ? g->n : 1);
  u->count = dlc_calloc(n, sizeof(int)), u->user = dlc_malloc(n * sizeof(int));
  u->weight_only = dlc_calloc(n, sizeof(bool));
  DLC_ASSERT(u->count && u->user && u->weight_only);
  for (int i = 0; i < g->n; i++) {
    const Node *m = g->nodes[i];
    u->weight_only[i] = m->op != OP_INPUT;
    for (int j = 0; j < m->nin; j++) {
      u->count[m->in[j]]++, u->user[m->in[j]] = i;
      u->weight_only[i] &= u->weight_only[m->in[j]];
    }
  }
  for (int j = 0; j < g->nout; j++) u->count[g->out[j]]++, u->user[g->out[j]] = -1;
}

static void uses_free(Uses *u) { free(u->count), free(u->user), free(u->weight_only); }

/* c broadcasts against y's shape along the channel axis only. */
static bool per_channel(const Node *c, const Node *y, int axis, int64_t nch) {
  if (c->shape.rank > y->shape.rank || c->dtype != y->dtype) return false;
  int k = axis - (y->shape.rank - c->shape.rank);
  for (int i = 0; i < c->shape.rank; i++)
    if (c->shape.d[i] != 1 && !(i == k && c->shape.d[i] == nch)) return false;
  return true;
}

/* The step that node u applies to v, if it is one. */
static bool as_step(const Graph *g, const Uses *us, const Chain *ch, int v, const Node *u, Step *s) {
  static const bool affine[OP_COUNT] = {[OP_ADD] = true, [OP_SUB] = true, [OP_MUL] = true, [OP_DIV] = true};
  if (!affine[u->op] || u->in[0] == u->in[1] || !shape_eq(&u->shape, &g->nodes[v]->shape)) return false;
  s->op = u->op, s->y_first = u->in[0] == v, s->c = u->in[s->y_first ? 1 : 0];
  if (u->op == OP_DIV && !s->y_first) return false; /* c / y is not affine */
  return us->weight_only[s->c] && per_channel(g->nodes[s->c], g->nodes[ch->y], ch->axis, ch->nch);
}

static bool worth(const Chain *ch) {
  for (int i = 0; i < ch->n; i++)
    if (ch->step[i].op == OP_MUL || ch->step[i].op == OP_DIV) return true;
  return ch->n >= 2;
}

/* The chain after heavy node y, or false. */
static bool find_chain(const Graph *g, const Uses *us, int y, Chain *ch) {
  const Node *h = g->nodes[y];
  if (h->op != OP_CONV && h->op != OP_MATMUL) return false;
  const Node *w = g->nodes[h->in[1]];
  if ((w->op != OP_PARAM && w->op != OP_CONST) || us->count[w->id] != 1) return false;
  *ch = (Chain){.y = y, .w = w->id, .end = y, .axis = h->op == OP_CONV ? 1 : h->shape.rank - 1};
  ch->nch = h->shape.d[ch->axis];
  while (ch->n < MAX_STEPS && us->count[ch->end] == 1 && us->user[ch->end] >= 0) {
    const Node *u = g->nodes[us->user[ch->end]];
    if (!as_step(g, us, ch, ch->end, u, &ch->step[ch->n])) break;
    ch->n++, ch->end = u->id;
  }
  return worth(ch);
}

/* ---- evaluating the per-channel values ---- */

/* The cone of node c (PARAMs read as CONSTs) in a graph of its own, run by the
 * interpreter; values gets numel(c) doubles.  0, or -1 if it cannot be evaluated. */
static int eval_weight(const Graph *g, int c, double *values) {
  bool *cone = dlc_calloc((size_t)c + 1, sizeof(bool));
  int *map = dlc_malloc(sizeof(int) * ((size_t)c + 1)), rc = 0;
  Graph *t = ir_graph_new("bnfold");
  DLC_ASSERT(cone && map);
  cone[c] = true;
  for (int i = c; i >= 0; i--)
    for (int j = 0; cone[i] && j < g->nodes[i]->nin; j++) cone[g->nodes[i]->in[j]] = true;
  for (int i = 0; i <= c && !rc; i++) {
    const Node *n = g->nodes[i];
    int in[IR_MAX_RANK * 4];
    if (!cone[i]) continue;
    if (n->nin > (int)(sizeof in / sizeof in[0])) rc = -1;
    for (int j = 0; !rc && j < n->nin; j++) in[j] = map[n->in[j]];
    map[i] = rc                                ? -1
             : n->nin == 0 && n->op != OP_IOTA ? ir_const(t, NULL, n->dtype, n->shape, n->data)
                                               : ir_add(t, n->op, in, n->nin, n->attr, n->nattr);
    if (map[i] < 0) rc = -1;
  }
  DlcErr e;
  double *outs[1] = {values};
  if (!rc) rc = ir_output(t, map[c], "c") < 0 || interp_run(t, NULL, outs, &e) ? -1 : 0;
  ir_graph_free(t), free(cone), free(map);
  return rc;
}

/* y*a + b per channel, composed from the steps. */
static int compose(const Graph *g, const Chain *ch, double *a, double *b) {
  for (int64_t k = 0; k < ch->nch; k++) a[k] = 1, b[k] = 0;
  double *v = dlc_malloc(sizeof(double) * (size_t)ch->nch);
  DLC_ASSERT(v);
  for (int i = 0; i < ch->n; i++) {
    const Step *s = &ch->step[i];
    if (eval_weight(g, s->c, v)) return free(v), -1;
    bool scalar = shape_numel(&g->nodes[s->c]->shape) == 1;
    for (int64_t k = 0; k < ch->nch; k++) {
      double c = v[scalar ? 0 : k];
      if (s->op == OP_ADD) b[k] += c;
      else if (s->op == OP_SUB && s->y_first) b[k] -= c;
      else if (s->op == OP_SUB) a[k] = -a[k], b[k] = c - b[k];
      else if (s->op == OP_MUL) a[k] *= c, b[k] *= c;
      else a[k] /= c, b[k] /= c;
    }
  }
  free(v);
  return 0;
}

/* ---- rewriting ---- */

/* The output channel of each weight element: conv W [O, C/g, K...] has it first;
 * matmul W [.., K, N] last, or [.., N, K] second to last when transposed. */
static int64_t channel_of(const Node *y, const Node *w, int64_t i, int64_t nch) {
  if (y->op == OP_CONV) return i / (shape_numel(&w->shape) / nch);
  if (node_int(y, A_TRANS_B)) return i / w->shape.d[w->shape.rank - 1] % nch;
  return i % nch;
}

static void scale_weight(Graph *g, const Chain *ch, const double *a) {
  Node *w = g->nodes[ch->w];
  const Node *y = g->nodes[ch->y];
  int64_t n = shape_numel(&w->shape);
  for (int64_t i = 0; i < n; i++)
    dtype_store(w->dtype, w->data, i, dtype_load(w->dtype, w->data, i) * a[channel_of(y, w, i, ch->nch)]);
  if (w->op == OP_PARAM) w->init = (Init){.kind = INIT_DATA};
}

/* y + b, b shaped to broadcast along the channel axis; y itself when b is zero. */
static int add_bias(Graph *g, const Chain *ch, const double *b) {
  const Node *y = g->nodes[ch->y];
  bool zero = true;
  for (int64_t k = 0; k < ch->nch; k++) zero &= b[k] == 0;
  if (zero) return ch->y;
  Shape s = {.rank = y->shape.rank - ch->axis};
  for (int i = 0; i < s.rank; i++) s.d[i] = i ? 1 : ch->nch;
  void *data = dlc_malloc((size_t)(ch->nch * dtype_size(y->dtype)));
  DLC_ASSERT(data);
  for (int64_t k = 0; k < ch->nch; k++) dtype_store(y->dtype, data, k, b[k]);
  int c = ir_const(g, NULL, y->dtype, s, data);
  free(data);
  const Node *end = g->nodes[ch->end];
  g->group = end->group, g->where = end->where, g->guard = end->guard;
  int sum = c < 0 ? -1 : ir_binary(g, OP_ADD, ch->y, c);
  DLC_ASSERT(sum >= 0);
  g->nodes[sum]->name = end->name;
  return sum;
}

/* A chain whose factors cannot be evaluated (an index out of range) stays as it is. */
static void fold_chain(Graph *g, const Chain *ch, int *repl) {
  double *a = dlc_malloc(sizeof(double) * (size_t)ch->nch), *b = dlc_malloc(sizeof(double) * (size_t)ch->nch);
  DLC_ASSERT(a && b);
  if (!compose(g, ch, a, b)) {
    scale_weight(g, ch, a);
    repl[ch->end] = add_bias(g, ch, b);
  }
  free(a), free(b);
}

int pass_bnfold(Graph **gp, DlcErr *e) {
  (void)e;
  Graph *g = *gp;
  int n0 = g->n, group = g->group;
  const char *where = g->where;
  Uses us;
  uses_make(g, &us);
  int *repl = dlc_malloc(sizeof(int) * (size_t)(4 * n0 + 1)); /* each chain adds two nodes */
  DLC_ASSERT(repl);
  for (int i = 0; i < 4 * n0 + 1; i++) repl[i] = i;
  Chain ch;
  for (int i = 0; i < n0; i++)
    if (find_chain(g, &us, i, &ch)) fold_chain(g, &ch, repl);
  DLC_ASSERT(g->n <= 4 * n0 + 1);
  g->group = group, g->where = where, g->guard = -1;
  uses_free(&us);
  *gp = pass_rebuild(g, repl);
  free(repl);
  return 0;
}
