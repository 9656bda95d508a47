/* plan.c — memory planning: where every value lives while the model runs.
 *
 * Needs: a schedule that keeps the kernel contracts (passes.h).  Gives: a location for
 * every node.  Inputs stay in the caller's buffers, weights in one block, a computed
 * output is written straight into the caller's output buffer, values internal to a
 * loop-fused kernel get none (LOC_NONE), and every other value gets an offset in one
 * arena.  The new value of a parameter that a training step computes (an update
 * output, ir_update_target) goes over the parameter's own weight slot when nothing
 * reads the old value afterwards (plan_update_in_place), else it is copied there.
 *
 * Time is counted in steps: one per kernel, and one per node of a SEQ kernel (its
 * nodes run one after another, so their values can die inside it).  Values are
 * gathered into buffers, walking the steps in order: a reshape outside a loop-fused
 * kernel aliases its arena operand; a step that computes in place (passes.h; a SEQ
 * node counts as a single node) takes the buffer of an operand that dies there; any
 * other value opens a buffer of its own.  A buffer lives from the step that first
 * writes it to the last step that reads any of its values.  Buffers are then placed best-fit: each, in turn, into the smallest gap
 * left by the placed buffers it overlaps in time.  Several orders are tried and the
 * smallest arena kept.  The plan reports the arena, the sum of all arena values, and the
 * peak of bytes live at once over the buffers (a lower bound for any placement).
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#define ALIGN 64

static int64_t align_up(int64_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

static int64_t node_bytes(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

static int *ints(Graph *g, int fill) {
  int *v = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) v[i] = fill;
  return v;
}

/* ---- what both the planner and the checker derive from the schedule ---- */

/* The kernel that computes each node; -1 for data. */
static int *kernel_of(Graph *g, const Schedule *s) {
  int *k = ints(g, -1);
  for (int t = 0; t < s->nk; t++)
    for (int j = 0; j < s->k[t].n; j++) k[s->k[t].nodes[j]] = t;
  return k;
}

static bool loop_fused(KernelKind k) { return k != KERNEL_SINGLE && k != KERNEL_SEQ; }

/* Nodes of a loop-fused kernel other than its result: they need no buffer. */
static bool *internal_nodes(Graph *g, const Schedule *s) {
  bool *in = arena_alloc(g->arena, sizeof(bool) * (size_t)(g->n ? g->n : 1));
  for (int t = 0; t < s->nk; t++)
    for (int j = 0; loop_fused(s->k[t].kind) && j + 1 < s->k[t].n; j++) in[s->k[t].nodes[j]] = true;
  return in;
}

/* The step that runs each node (-1 for data); *nsteps gets their count. */
static int *steps_of(Graph *g, const Schedule *s, int *nsteps) {
  int *step = ints(g, -1), at = 0;
  for (int t = 0; t < s->nk; t++) {
    bool seq = s->k[t].kind == KERNEL_SEQ;
    for (int j = 0; j < s->k[t].n; j++) step[s->k[t].nodes[j]] = seq ? at++ : at;
    at += !seq;
  }
  *nsteps = at;
  return step;
}

/* Last step that reads each node; nsteps for values copied to an output at the end. */
static int *last_use(Graph *g, const Plan *p, const int *step, int nsteps) {
  int *last = arena_memdup(g->arena, step, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i]->nin; j++) {
      int a = g->nodes[i]->in[j];
      if (step[i] > last[a]) last[a] = step[i];
    }
  for (int i = 0; i < g->n; i++) { /* the kernel reads its guard when it starts */
    int a = g->nodes[i]->guard;
    if (a >= 0 && step[i] > last[a]) last[a] = step[i];
  }
  for (int c = 0; c < p->ncopy; c++) last[g->out[p->copy_out[c]]] = nsteps;
  return last;
}

/* Whether the step of kernel k that computes y may write it over value a, which that
 * step reads: at y's own index (same shape, same dtype), never through a view, in a
 * kind that reads every element before it writes it.  A SEQ node is a step alone. */
static bool in_place_ok(const Graph *g, const Kernel *k, int a, int y) {
  const Node *an = g->nodes[a], *yn = g->nodes[y];
  bool one = k->kind == KERNEL_SINGLE || k->kind == KERNEL_SEQ;
  bool kind = k->kind == KERNEL_ELEMWISE || k->kind == KERNEL_ROW || (one && op_is_elementwise(yn->op));
  if (!kind || (!one && y != k->nodes[k->n - 1]) || !shape_eq(&an->shape, &yn->shape) ||
      an->dtype != yn->dtype)
    return false;
  for (int j = 0; j < k->n && !one; j++) {
    const Node *n = g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin; i++)
      if (n->in[i] == a && n->op == OP_RESHAPE) return false;
  }
  return true;
}

/* A reshape of a SINGLE or SEQ kernel: its result may share its operand's bytes. */
static bool is_alias(const Graph *g, const Kernel *k, int y) {
  return (k->kind == KERNEL_SINGLE || k->kind == KERNEL_SEQ) && g->nodes[y]->op == OP_RESHAPE;
}

/* ---- inputs, weights, outputs ---- */

/* A step's new value of a parameter goes over the old one when that is sound
 * (plan_update_in_place); else into the arena, copied over the old one at the end. */
static bool place_update(Graph *g, const Schedule *s, Plan *p, const int *kof, int j) {
  int v = g->out[j], t = ir_update_target(g, j);
  if (t < 0) return false;
  if (p->loc[v].kind == LOC_NONE && plan_update_in_place(g, s, kof, v, t)) p->loc[v] = p->loc[t];
  else p->copy_out[p->ncopy++] = j;
  return true;
}

static void place_io(Graph *g, const Schedule *s, Plan *p, const int *kof, const bool *internal) {
  int input = 0;
  int64_t w = 0;
  p->copy_out = arena_alloc(g->arena, sizeof(int) * (size_t)(g->nout ? g->nout : 1));
  for (int i = 0; i < g->n; i++) {
    Node *n = g->nodes[i];
    if (n->op == OP_INPUT) p->loc[i] = (Loc){LOC_INPUT, input++, 0};
    else if (n->op == OP_PARAM || n->op == OP_CONST) {
      p->loc[i] = (Loc){LOC_WEIGHT, 0, w};
      w += align_up(node_bytes(n));
    }
  }
  p->weight_bytes = w;
  for (int j = 0; j < g->nout; j++) {
    int id = g->out[j];
    if (place_update(g, s, p, kof, j)) continue;
    bool once = true;
    for (int k = 0; k < j; k++) once &= g->out[k] != id;
    if (kof[id] >= 0 && once && !internal[id]) p->loc[id] = (Loc){LOC_OUTPUT, j, 0};
    else p->copy_out[p->ncopy++] = j;
  }
}

/* ---- buffers ---- */

typedef struct Buf {
  int first, last; /* step interval */
  int64_t bytes;
  int64_t off;
} Buf;

typedef struct Planner {
  Graph *g;
  const Schedule *s;
  Plan *p;
  int *kof, *step, *last;
  int nsteps;
  bool *internal;
  int *buf;  /* buffer of each arena value, -1 for the others */
  Buf *b;
  int nb;
} Planner;

static bool in_arena(const Planner *pl, int id) {
  return pl->kof[id] >= 0 && !pl->internal[id] && pl->p->loc[id].kind == LOC_NONE;
}

static void join(Planner *pl, int id, int b) {
  pl->buf[id] = b;
  if (pl->last[id] > pl->b[b].last) pl->b[b].last = pl->last[id];
}

/* The nodes of kernel k that run in y's step: all of them, or y alone in a SEQ. */
static bool same_step(const Kernel *k, int n, int y) { return k->kind != KERNEL_SEQ || n == y; }

/* Every value of buffer b that y's step reads may be overwritten in place by y. */
static bool whole_buffer_ok(const Planner *pl, const Kernel *k, int b, int y) {
  for (int j = 0; j < k->n; j++) {
    const Node *n = pl->g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin && same_step(k, n->id, y); i++)
      if (pl->buf[n->in[i]] == b && !in_place_ok(pl->g, k, n->in[i], y)) return false;
  }
  return true;
}

/* The buffer of an operand of y's step (in kernel t) that y may take over. */
static int reusable(const Planner *pl, int t, int y) {
  const Kernel *k = &pl->s->k[t];
  int64_t bytes = align_up(node_bytes(pl->g->nodes[y]));
  for (int j = 0; j < k->n; j++) {
    const Node *n = pl->g->nodes[k->nodes[j]];
    for (int i = 0; i < n->nin && same_step(k, n->id, y); i++) {
      int b = pl->buf[n->in[i]];
      if (b < 0 || pl->step[n->in[i]] == pl->step[y] || pl->b[b].last != pl->step[y] || pl->b[b].bytes != bytes)
        continue;
      if (whole_buffer_ok(pl, k, b, y)) return b;
    }
  }
  return -1;
}

static void open_buffer(Planner *pl, int y) {
  pl->b[pl->nb] = (Buf){pl->step[y], pl->last[y], align_up(node_bytes(pl->g->nodes[y])), 0};
  join(pl, y, pl->nb++);
}

static void gather(Planner *pl) {
  for (int t = 0; t < pl->s->nk; t++) {
    const Kernel *k = &pl->s->k[t];
    for (int j = 0; j < k->n; j++) {
      int y = k->nodes[j];
      if (!in_arena(pl, y)) continue;
      bool alias = is_alias(pl->g, k, y) && pl->buf[pl->g->nodes[y]->in[0]] >= 0;
      int b = alias ? pl->buf[pl->g->nodes[y]->in[0]] : reusable(pl, t, y);
      if (b >= 0) join(pl, y, b);
      else open_buffer(pl, y);
    }
  }
}

/* ---- placement ---- */

static bool overlap_time(const Buf *a, const Buf *b) { return a->first <= b->last && b->first <= a->last; }

typedef struct Span {
  int64_t lo, hi;
} Span;

static int by_lo(const void *a, const void *b) {
  const Span *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The placed buffers by the steps they live in, so that those live with a new one are
 * found without scanning them all: one list per step, threaded through one pool.  NULL
 * pool (too many buffer-steps): best_fit scans. */
typedef struct Live {
  int *head;       /* [nsteps + 1]: first entry of each step's list, -1 */
  int *next, *who; /* the pool: next entry, buffer */
  int64_t n, cap;
  int *seen;       /* [nb]: the placement that last collected each buffer, + 1 */
  int nsteps;
} Live;

static int clamp_step(int t, int nsteps) { return t < 0 ? 0 : t > nsteps ? nsteps : t; }

/* The byte spans of the placed buffers live with v (the i-th placed). */
static int live_spans(const Buf *b, const int *order, int np, const Buf *v, Live *lv, Span *sp) {
  int n = 0;
  if (!lv->who) {
    for (int i = 0; i < np; i++) {
      const Buf *o = &b[order[i]];
      if (overlap_time(o, v)) sp[n++] = (Span){o->off, o->off + o->bytes};
    }
    return n;
  }
  if (v->first > v->last) return 0;
  for (int t = clamp_step(v->first, lv->nsteps); t <= clamp_step(v->last, lv->nsteps); t++)
    for (int e = lv->head[t]; e >= 0; e = lv->next[e]) {
      const Buf *o = &b[lv->who[e]];
      if (lv->seen[lv->who[e]] == np + 1 || !overlap_time(o, v)) continue;
      lv->seen[lv->who[e]] = np + 1;
      sp[n++] = (Span){o->off, o->off + o->bytes};
    }
  return n;
}

static void live_add(Live *lv, const Buf *v, int id) {
  if (!lv->who || v->first > v->last) return;
  for (int t = clamp_step(v->first, lv->nsteps); t <= clamp_step(v->last, lv->nsteps); t++) {
    DLC_ASSERT(lv->n < lv->cap);
    lv->who[lv->n] = id, lv->next[lv->n] = lv->head[t], lv->head[t] = (int)lv->n++;
  }
}

/* The offset of the smallest gap that holds v among placed buffers live with it. */
static int64_t best_fit(const Buf *b, const int *order, int np, const Buf *v, Live *lv, Span *sp) {
  int n = live_spans(b, order, np, v, lv, sp);
  qsort(sp, (size_t)n, sizeof *sp, by_lo);
  int64_t at = 0, best = -1, best_gap = 0, end = 0;
  for (int i = 0; i <= n; i++) {
    int64_t lo = i < n ? sp[i].lo : INT64_MAX;
    int64_t gap = lo - at;
    if (gap >= v->bytes && (best < 0 || gap < best_gap)) best = at, best_gap = gap;
    if (i < n && sp[i].hi > at) at = align_up(sp[i].hi);
    if (i < n && sp[i].hi > end) end = sp[i].hi;
  }
  return best >= 0 ? best : align_up(end);
}

static int64_t place_in_order(Buf *b, const int *order, int nb, Live *lv, Span *sp) {
  int64_t arena = 0;
  if (lv->who) {
    for (int t = 0; t <= lv->nsteps; t++) lv->head[t] = -1;
    for (int i = 0; i < nb; i++) lv->seen[i] = 0;
    lv->n = 0;
  }
  for (int i = 0; i < nb; i++) {
    Buf *v = &b[order[i]];
    v->off = best_fit(b, order, i, v, lv, sp);
    live_add(lv, v, order[i]);
    if (v->off + v->bytes > arena) arena = v->off + v->bytes;
  }
  return arena;
}

/* The pool of buffer-steps, when it is of a reasonable size. */
static void live_init(Live *lv, const Planner *pl) {
  memset(lv, 0, sizeof *lv);
  lv->nsteps = pl->nsteps;
  for (int i = 0; i < pl->nb; i++) {
    const Buf *v = &pl->b[i];
    if (v->first <= v->last) lv->cap += clamp_step(v->last, pl->nsteps) - clamp_step(v->first, pl->nsteps) + 1;
  }
  if (lv->cap > ((int64_t)1 << 26)) return; /* long lives everywhere: scan instead */
  lv->head = dlc_malloc(sizeof(int) * (size_t)(pl->nsteps + 1));
  lv->next = dlc_malloc(sizeof(int) * (size_t)(lv->cap ? lv->cap : 1));
  lv->who = dlc_try_malloc(sizeof(int) * (size_t)(lv->cap ? lv->cap : 1));
  lv->seen = dlc_try_malloc(sizeof(int) * (size_t)(pl->nb ? pl->nb : 1));
  if (!lv->head || !lv->next || !lv->who || !lv->seen) {
    free(lv->head), free(lv->next), free(lv->who), free(lv->seen);
    memset(lv, 0, sizeof *lv);
    lv->nsteps = pl->nsteps;
  }
}

/* Orders tried: largest first, longest-lived first, earliest first, largest area
 * (bytes times lifetime) first, latest-ending first. */
#define ORDERS 5
typedef struct Rank {
  int64_t key;
  int idx;
} Rank;

static int64_t rank_key(const Buf *x, int order) {
  if (order == 0) return x->bytes;
  if (order == 1) return (int64_t)(x->last - x->first) * 1000003 + x->bytes / ALIGN;
  if (order == 2) return -(int64_t)x->first;
  if (order == 3) return (x->bytes / ALIGN) * (int64_t)(x->last - x->first + 1);
  return x->last;
}

static int by_rank(const void *a, const void *b) {
  const Rank *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? 1 : -1;
  return x->idx - y->idx;
}

static void place(Planner *pl) {
  int nb = pl->nb;
  size_t n = (size_t)(nb ? nb : 1);
  int *order = dlc_malloc(sizeof(int) * n);
  int64_t *best = dlc_malloc(sizeof(int64_t) * n);
  Span *sp = dlc_malloc(sizeof(Span) * n);
  Rank *rk = dlc_malloc(sizeof(Rank) * n);
  DLC_ASSERT(order && best && sp && rk);
  Live lv;
  live_init(&lv, pl);
  int64_t best_arena = -1;
  for (int o = 0; o < ORDERS; o++) {
    for (int i = 0; i < nb; i++) rk[i] = (Rank){rank_key(&pl->b[i], o), i};
    qsort(rk, (size_t)nb, sizeof *rk, by_rank);
    for (int i = 0; i < nb; i++) order[i] = rk[i].idx;
    int64_t arena = place_in_order(pl->b, order, nb, &lv, sp);
    if (best_arena >= 0 && arena >= best_arena) continue;
    best_arena = arena;
    for (int i = 0; i < nb; i++) best[i] = pl->b[i].off;
  }
  for (int i = 0; i < nb; i++) pl->b[i].off = best[i];
  pl->p->arena_bytes = best_arena > 0 ? best_arena : 0;
  free(order), free(best), free(sp), free(rk);
  free(lv.head), free(lv.next), free(lv.who), free(lv.seen);
}

static void report(Planner *pl) {
  for (int i = 0; i < pl->g->n; i++) {
    if (pl->buf[i] < 0) continue;
    pl->p->loc[i] = (Loc){LOC_ARENA, 0, pl->b[pl->buf[i]].off};
    pl->p->total_bytes += align_up(node_bytes(pl->g->nodes[i]));
  }
  /* The live bytes of each step, from what opens and closes there. */
  int64_t *delta = arena_alloc(pl->g->arena, sizeof(int64_t) * (size_t)(pl->nsteps + 2));
  for (int i = 0; i < pl->nb; i++) {
    const Buf *b = &pl->b[i];
    if (b->first > b->last || b->last < 0 || b->first > pl->nsteps) continue;
    delta[b->first < 0 ? 0 : b->first] += b->bytes;
    delta[(b->last > pl->nsteps ? pl->nsteps : b->last) + 1] -= b->bytes;
  }
  int64_t live = 0;
  for (int t = 0; t <= pl->nsteps; t++) {
    live += delta[t];
    if (live > pl->p->peak_bytes) pl->p->peak_bytes = live;
  }
}

Plan *pass_plan(Graph *g, const Schedule *s) {
  Plan *p = arena_alloc(g->arena, sizeof *p);
  p->loc = arena_alloc(g->arena, sizeof(Loc) * (size_t)(g->n ? g->n : 1));
  Planner pl = {.g = g, .s = s, .p = p, .kof = kernel_of(g, s), .internal = internal_nodes(g, s),
                .buf = ints(g, -1)};
  place_io(g, s, p, pl.kof, pl.internal);
  pl.step = steps_of(g, s, &pl.nsteps);
  pl.last = last_use(g, p, pl.step, pl.nsteps);
  pl.b = arena_alloc(g->arena, sizeof(Buf) * (size_t)(g->n ? g->n : 1));
  gather(&pl);
  place(&pl);
  report(&pl);
  return p;
}

/* ---- the checker ----
 *
 * It recomputes lifetimes from the graph and schedule alone and tests every pair of
 * arena values live at once (a sweep over time: sorted by first step, each value meets
 * only those still live), so it does not trust the planner's bookkeeping and stays
 * near-linear in the number of nodes.  Values are first
 * grouped into alias classes (a SINGLE reshape placed on its operand: one value under
 * two names); two classes may share bytes while both live only where one dies in the
 * kernel that writes the other in place. */

typedef struct Checker {
  const Graph *g;
  const Schedule *s;
  const Plan *p;
  int *kof, *step, *last, *cls;
  bool *internal;
  int *cfirst, *clast; /* per class root */
  int *chead, *cnext;  /* the members of each class root: chead[x], then cnext[...], -1 ends */
  DlcErr *e;
} Checker;

/* Node i is a step's new value of a parameter, placed over it where that is sound. */
static bool update_in_place(const Checker *c, int i) {
  for (int j = 0; j < c->g->nout; j++) {
    int t = ir_update_target(c->g, j);
    if (c->g->out[j] == i && t >= 0 && c->p->loc[t].kind == LOC_WEIGHT &&
        c->p->loc[t].offset == c->p->loc[i].offset && plan_update_in_place(c->g, c->s, c->kof, i, t))
      return true;
  }
  return false;
}

static int check_loc(const Checker *c, int i) {
  const Loc *a = &c->p->loc[i];
  const Graph *g = c->g;
  if (c->kof[i] < 0) return 0;
  if (c->internal[i] != (a->kind == LOC_NONE))
    return dlc_errf(c->e, "plan: node %d %s", i,
                    c->internal[i] ? "is internal to a fused kernel but has a buffer" : "has no location");
  if (a->kind == LOC_OUTPUT && (a->index < 0 || a->index >= g->nout || g->out[a->index] != i))
    return dlc_errf(c->e, "plan: node %d is placed in output %d, which is another value", i, a->index);
  if (a->kind == LOC_ARENA &&
      (a->offset % ALIGN || a->offset < 0 || a->offset + node_bytes(g->nodes[i]) > c->p->arena_bytes))
    return dlc_errf(c->e, "plan: node %d lies outside the arena or is misaligned", i);
  if (a->kind == LOC_WEIGHT && update_in_place(c, i)) return 0;
  if (a->kind == LOC_INPUT || a->kind == LOC_WEIGHT)
    return dlc_errf(c->e, "plan: computed node %d is placed in an input or the weights", i);
  return 0;
}

static void alias_classes(Checker *c) {
  for (int i = 0; i < c->g->n; i++) c->cls[i] = i;
  for (int i = 0; i < c->g->n; i++) {
    if (c->kof[i] < 0 || !is_alias(c->g, &c->s->k[c->kof[i]], i)) continue;
    int a = c->g->nodes[i]->in[0];
    const Loc *ly = &c->p->loc[i], *la = &c->p->loc[a];
    if (ly->kind == LOC_ARENA && la->kind == LOC_ARENA && ly->offset == la->offset) c->cls[i] = c->cls[a];
  }
  for (int i = 0; i < c->g->n; i++) c->cfirst[i] = c->step[i], c->clast[i] = -1;
  for (int i = 0; i < c->g->n; i++)
    if (c->last[i] > c->clast[c->cls[i]]) c->clast[c->cls[i]] = c->last[i];
  for (int i = 0; i < c->g->n; i++) c->chead[i] = -1;
  for (int i = c->g->n - 1; i >= 0; i--) c->cnext[i] = c->chead[c->cls[i]], c->chead[c->cls[i]] = i;
}

/* Class x dies in the step that writes class y (its root) over it in place. */
static bool in_place_pair(const Checker *c, int x, int y) {
  int t = c->step[y];
  if (c->clast[x] != t || c->p->loc[x].offset != c->p->loc[y].offset) return false;
  if (align_up(node_bytes(c->g->nodes[x])) != align_up(node_bytes(c->g->nodes[y]))) return false;
  for (int m = c->chead[x]; m >= 0; m = c->cnext[m])
    if (c->last[m] == t && !in_place_ok(c->g, &c->s->k[c->kof[y]], m, y)) return false;
  return true;
}

static int check_pair(const Checker *c, int i, int j) {
  const Loc *a = &c->p->loc[i], *b = &c->p->loc[j];
  int x = c->cls[i], y = c->cls[j];
  if (a->kind != LOC_ARENA || b->kind != LOC_ARENA || x == y) return 0;
  bool live = c->cfirst[x] <= c->clast[y] && c->cfirst[y] <= c->clast[x];
  bool bytes = a->offset < b->offset + node_bytes(c->g->nodes[j]) &&
               b->offset < a->offset + node_bytes(c->g->nodes[i]);
  if (!live || !bytes) return 0;
  if (c->cfirst[x] < c->cfirst[y] ? in_place_pair(c, x, y) : in_place_pair(c, y, x)) return 0;
  return dlc_errf(c->e, "plan: nodes %d and %d are live at once and overlap in the arena", i, j);
}

/* A value's steps as an interval that holds both ends of its class's lifetime: two
 * values whose classes are live at once (check_pair's test) have intervals that meet. */
typedef struct Life {
  int lo, hi, id;
} Life;

static int by_start(const void *a, const void *b) {
  const Life *x = a, *y = b;
  return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : x->id - y->id;
}

/* Every pair of arena values whose intervals meet, through check_pair. */
static int check_pairs(const Checker *c) {
  const Graph *g = c->g;
  Life *v = arena_alloc(g->arena, sizeof(Life) * (size_t)(g->n ? g->n : 1));
  int *live = ints((Graph *)g, 0), nv = 0, nlive = 0;
  for (int i = 0; i < g->n; i++) {
    if (c->p->loc[i].kind != LOC_ARENA) continue;
    int f = c->cfirst[c->cls[i]], l = c->clast[c->cls[i]];
    v[nv++] = (Life){f < l ? f : l, f < l ? l : f, i};
  }
  qsort(v, (size_t)nv, sizeof *v, by_start);
  for (int k = 0; k < nv; k++) {
    int kept = 0;
    for (int m = 0; m < nlive; m++) {
      const Life *o = &v[live[m]];
      if (o->hi < v[k].lo) continue; /* ended before this one starts: never again */
      live[kept++] = live[m];
      int i = o->id < v[k].id ? o->id : v[k].id, j = o->id < v[k].id ? v[k].id : o->id;
      if (check_pair(c, i, j)) return -1;
    }
    nlive = kept;
    live[nlive++] = k;
  }
  return 0;
}

int plan_check(const Graph *cg, const Schedule *s, const Plan *p, DlcErr *e) {
  Graph *g = (Graph *)cg;
  Checker c = {.g = g, .s = s, .p = p, .e = e, .kof = kernel_of(g, s), .internal = internal_nodes(g, s),
               .cls = ints(g, 0), .cfirst = ints(g, 0), .clast = ints(g, 0), .chead = ints(g, 0),
               .cnext = ints(g, 0)};
  int nsteps;
  c.step = steps_of(g, s, &nsteps);
  c.last = last_use(g, p, c.step, nsteps);
  for (int i = 0; i < g->n; i++)
    if (check_loc(&c, i)) return -1;
  alias_classes(&c);
  return check_pairs(&c);
}
