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
 * writes it to the last step that reads any of its values.  Buffers are then placed
 * best-fit: each, in turn, into the smallest gap left by the placed buffers it overlaps
 * in time (found through a max-tree over the buffers by first step).  Several orders are
 * tried and the smallest arena kept; each meets every pair of buffers live at once, so
 * when those pairs are too many (a graph unrolled over thousands of steps, thousands of
 * training steps) one sweep over time places them instead (plan_sweep.c), O(n log n).
 * The plan reports the arena, the sum of all arena values, and the
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

/* The PARAM each output writes back into (ir_update_target), -1 for the others: found
 * once, not by a search of the steps per output. */
static int *update_targets(Graph *g) {
  int *t = arena_alloc(g->arena, sizeof(int) * (size_t)(g->nout ? g->nout : 1));
  for (int j = 0; j < g->nout; j++) t[j] = -1;
  for (int k = g->nstep - 1; k >= 0; k--) /* the first step that holds j, as ir_update_target */
    for (int i = 0; i < g->step[k].nupd; i++) t[g->step[k].out0 + 1 + i] = g->step[k].target[i];
  return t;
}

/* A step's new value of a parameter goes over the old one when that is sound
 * (plan_update_in_place); else into the arena, copied over the old one at the end. */
static bool place_update(Graph *g, const Schedule *s, Plan *p, const int *kof, const int *readers,
                         const int *tgt, int j) {
  int v = g->out[j], t = tgt[j];
  if (t < 0) return false;
  if (p->loc[v].kind == LOC_NONE && plan_update_in_place(g, s, kof, readers, v, t)) p->loc[v] = p->loc[t];
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
  int *readers = plan_readers(g, kof), *tgt = update_targets(g), *first = ints(g, -1);
  for (int j = g->nout - 1; j >= 0; j--) first[g->out[j]] = j; /* the first output of each value */
  for (int j = 0; j < g->nout; j++) {
    int id = g->out[j];
    if (place_update(g, s, p, kof, readers, tgt, j)) continue;
    if (kof[id] >= 0 && first[id] == j && !internal[id]) p->loc[id] = (Loc){LOC_OUTPUT, j, 0};
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

/* The placed buffers by first step, so that those live with a new one are found without
 * scanning them all: a max-tree over the buffers sorted by first step, each leaf the last
 * step of a placed buffer (-1 before it is placed).  The buffers live with v are those
 * of the prefix that starts by v's last step whose last step is v's first or later. */
typedef struct Live {
  int *rank;          /* [nb]: each buffer's place in this order, for ties */
  int *byfirst, *pos; /* [nb]: the buffers sorted by first step; each one's leaf */
  int *tree;          /* [2 * size] */
  int size;
} Live;

static void live_init(Live *lv, const Buf *b, int nb) {
  size_t n = (size_t)(nb ? nb : 1);
  lv->size = 1;
  while (lv->size < nb) lv->size *= 2;
  lv->rank = dlc_malloc(sizeof(int) * n), lv->byfirst = dlc_malloc(sizeof(int) * n);
  lv->pos = dlc_malloc(sizeof(int) * n), lv->tree = dlc_malloc(sizeof(int) * 2 * (size_t)lv->size);
  int *first = dlc_malloc(sizeof(int) * n);
  for (int i = 0; i < nb; i++) first[i] = b[i].first;
  plan_by_first(nb, first, lv->byfirst);
  for (int i = 0; i < nb; i++) lv->pos[lv->byfirst[i]] = i;
  free(first);
}

static void live_free(Live *lv) { free(lv->rank), free(lv->byfirst), free(lv->pos), free(lv->tree); }

static void live_reset(Live *lv) {
  for (int i = 0; i < 2 * lv->size; i++) lv->tree[i] = -1;
}

static void live_add(Live *lv, const Buf *v, int id) {
  if (v->first > v->last) return;
  int x = lv->size + lv->pos[id];
  lv->tree[x] = v->last;
  for (x /= 2; x >= 1; x /= 2) lv->tree[x] = lv->tree[2 * x] > lv->tree[2 * x + 1] ? lv->tree[2 * x] : lv->tree[2 * x + 1];
}

/* A span with what orders it as the per-step lists this replaces did: by offset, then by
 * the first step of v's life in which it is live, then the latest placed first. */
typedef struct Span {
  int64_t lo, hi;
  int t0, rank;
} Span;

static int by_lo(const void *a, const void *b) {
  const Span *x = a, *y = b;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  if (x->t0 != y->t0) return x->t0 < y->t0 ? -1 : 1;
  return y->rank - x->rank;
}

/* The spans of leaves [lo, hi) of tree node x, among the first cnt, live at step t. */
static int collect(const Live *lv, const Buf *b, int x, int lo, int hi, int cnt, int t, Span *sp, int n) {
  if (lo >= cnt || lv->tree[x] < t) return n;
  if (hi - lo == 1) {
    const Buf *o = &b[lv->byfirst[lo]];
    sp[n++] = (Span){o->off, o->off + o->bytes, o->first > t ? o->first : t, lv->rank[lv->byfirst[lo]]};
    return n;
  }
  int mid = lo + (hi - lo) / 2;
  n = collect(lv, b, 2 * x, lo, mid, cnt, t, sp, n);
  return collect(lv, b, 2 * x + 1, mid, hi, cnt, t, sp, n);
}

/* The byte spans of the placed buffers live with v. */
static int live_spans(const Buf *b, int nb, const Buf *v, Live *lv, Span *sp) {
  if (v->first > v->last) return 0;
  int lo = 0, hi = nb; /* the buffers that start by v's last step: [0, lo) */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (b[lv->byfirst[mid]].first <= v->last) lo = mid + 1;
    else hi = mid;
  }
  return collect(lv, b, 1, 0, lv->size, lo, v->first, sp, 0);
}

/* The offset of the smallest gap that holds v among placed buffers live with it. */
static int64_t best_fit(const Buf *b, int nb, const Buf *v, Live *lv, Span *sp) {
  int n = live_spans(b, nb, v, lv, sp);
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

/* The arena of placing the buffers best-fit in this order. */
static int64_t place_in_order(Buf *b, const int *order, int nb, Live *lv, Span *sp) {
  int64_t arena = 0;
  live_reset(lv);
  for (int i = 0; i < nb; i++) lv->rank[order[i]] = i;
  for (int i = 0; i < nb; i++) {
    Buf *v = &b[order[i]];
    v->off = best_fit(b, nb, v, lv, sp);
    live_add(lv, v, order[i]);
    if (v->off + v->bytes > arena) arena = v->off + v->bytes;
  }
  return arena;
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

/* Pairs of buffers live at once that the orders may meet: each order meets every such
 * pair once, O(pairs log n) in all.  Past this (4 times what the largest models meet: a
 * graph unrolled over thousands of steps, thousands of training steps), one sweep. */
#define PLAN_PAIRS ((int64_t)1 << 23)

static int by_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The pairs of buffers live at some common step: all pairs less those where one ends
 * before the other starts, counted over both sorted. */
static int64_t live_pairs(const Buf *b, int nb) {
  size_t n = (size_t)(nb ? nb : 1);
  int *first = dlc_malloc(sizeof(int) * n), *last = dlc_malloc(sizeof(int) * n), m = 0;
  for (int i = 0; i < nb; i++)
    if (b[i].first <= b[i].last) first[m] = b[i].first, last[m++] = b[i].last;
  qsort(first, (size_t)m, sizeof(int), by_int);
  qsort(last, (size_t)m, sizeof(int), by_int);
  int64_t apart = 0;
  for (int i = 0, j = 0; i < m; i++) { /* buffers that end before the i-th start */
    while (j < m && last[j] < first[i]) j++;
    apart += j;
  }
  free(first), free(last);
  return (int64_t)m * (m - 1) / 2 - apart;
}

/* The best of the orders, or one sweep when they would meet too many pairs. */
static void place(Planner *pl) {
  int nb = pl->nb;
  size_t n = (size_t)(nb ? nb : 1);
  int64_t *best = dlc_malloc(sizeof(int64_t) * n), best_arena = -1;
  if (live_pairs(pl->b, nb) > PLAN_PAIRS) {
    int *first = dlc_malloc(sizeof(int) * n), *last = dlc_malloc(sizeof(int) * n);
    int64_t *bytes = dlc_malloc(sizeof(int64_t) * n);
    for (int i = 0; i < nb; i++) first[i] = pl->b[i].first, last[i] = pl->b[i].last, bytes[i] = pl->b[i].bytes;
    best_arena = plan_sweep(nb, first, last, bytes, best);
    free(first), free(last), free(bytes);
  } else {
    int *order = dlc_malloc(sizeof(int) * n);
    Span *sp = dlc_malloc(sizeof(Span) * n);
    Rank *rk = dlc_malloc(sizeof(Rank) * n);
    Live lv;
    live_init(&lv, pl->b, nb);
    for (int o = 0; o < ORDERS; o++) {
      for (int i = 0; i < nb; i++) rk[i] = (Rank){rank_key(&pl->b[i], o), i};
      qsort(rk, (size_t)nb, sizeof *rk, by_rank);
      for (int i = 0; i < nb; i++) order[i] = rk[i].idx;
      int64_t arena = place_in_order(pl->b, order, nb, &lv, sp);
      if (best_arena >= 0 && arena >= best_arena) continue;
      best_arena = arena;
      for (int i = 0; i < nb; i++) best[i] = pl->b[i].off;
    }
    free(order), free(sp), free(rk);
    live_free(&lv);
  }
  for (int i = 0; i < nb; i++) pl->b[i].off = best[i];
  pl->p->arena_bytes = best_arena > 0 ? best_arena : 0;
  free(best);
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
 * arena values live at once whose bytes meet, so it does not trust the planner's
 * bookkeeping.  Values are first grouped into alias classes (a SINGLE reshape placed on
 * its operand: one value under two names); two classes may share bytes while both live
 * only where one dies in the kernel that writes the other in place.  A sweep over time
 * keeps the classes live at each step in a max-tree by offset, so each class meets only
 * those live whose bytes it overlaps: O(n log n) for a sound plan, however many values
 * are live at once. */

typedef struct Checker {
  const Graph *g;
  const Schedule *s;
  const Plan *p;
  int *kof, *step, *last, *cls;
  bool *internal;
  bool *upd;           /* node i is a step's new value placed over its parameter, soundly */
  int *cfirst, *clast; /* per class root */
  int *chead, *cnext;  /* the members of each class root: chead[x], then cnext[...], -1 ends */
  DlcErr *e;
} Checker;

/* Which nodes are a step's new value of a parameter, placed over it where that is sound. */
static bool *updates_in_place(const Checker *c) {
  Graph *g = (Graph *)c->g;
  bool *u = arena_alloc(g->arena, sizeof(bool) * (size_t)(g->n ? g->n : 1));
  int *readers = plan_readers(g, c->kof), *tgt = update_targets(g);
  for (int j = 0; j < g->nout; j++) {
    int t = tgt[j], i = g->out[j];
    if (t >= 0 && c->p->loc[t].kind == LOC_WEIGHT && c->p->loc[t].offset == c->p->loc[i].offset &&
        plan_update_in_place(g, c->s, c->kof, readers, i, t))
      u[i] = true;
  }
  return u;
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
  if (a->kind == LOC_WEIGHT && c->upd[i]) return 0;
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

/* An alias class: its steps, and the bytes of its largest member (all members share
 * the offset; any two members of two classes overlap when their largest ones do). */
typedef struct Cls {
  int lo, hi, id; /* id: the largest member */
  int64_t off, end;
} Cls;

static int by_start(const void *a, const void *b) {
  const Cls *x = a, *y = b;
  return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : x->id - y->id;
}

static int by_end(const void *a, const void *b) {
  const Cls *x = *(const Cls *const *)a, *y = *(const Cls *const *)b;
  return x->hi != y->hi ? (x->hi < y->hi ? -1 : 1) : x->id - y->id;
}

static int by_off(const void *a, const void *b) {
  const Cls *x = *(const Cls *const *)a, *y = *(const Cls *const *)b;
  return x->off != y->off ? (x->off < y->off ? -1 : 1) : x->id - y->id;
}

/* The live classes by offset: a max-tree of their ends over the classes sorted by
 * offset (INT64_MIN where not live). */
typedef struct ByOff {
  Cls **cls;
  int *leaf; /* [ncls]: each class's leaf, by its index in the start order */
  int64_t *tree;
  int size, n;
} ByOff;

static void byoff_set(ByOff *t, int leaf, int64_t end) {
  int x = t->size + leaf;
  t->tree[x] = end;
  for (x /= 2; x >= 1; x /= 2) t->tree[x] = t->tree[2 * x] > t->tree[2 * x + 1] ? t->tree[2 * x] : t->tree[2 * x + 1];
}

/* Class q against the live classes of leaves [lo, hi) of tree node x among the first
 * cnt (those that start below q's end) whose end passes q's offset. */
static int meet(const Checker *c, const ByOff *t, int x, int lo, int hi, int cnt, const Cls *q) {
  if (lo >= cnt || t->tree[x] <= q->off) return 0;
  if (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    return meet(c, t, 2 * x, lo, mid, cnt, q) || meet(c, t, 2 * x + 1, mid, hi, cnt, q) ? -1 : 0;
  }
  const Cls *o = t->cls[lo];
  int i = o->id < q->id ? o->id : q->id, j = o->id < q->id ? q->id : o->id;
  return check_pair(c, i, j);
}

/* The classes with an arena value, each with its largest member. */
static int classes(const Checker *c, Cls *v) {
  const Graph *g = c->g;
  int nv = 0;
  for (int x = 0; x < g->n; x++) {
    int rep = -1;
    for (int m = c->chead[x]; m >= 0 && c->cls[x] == x; m = c->cnext[m])
      if (c->p->loc[m].kind == LOC_ARENA && (rep < 0 || node_bytes(g->nodes[m]) > node_bytes(g->nodes[rep]))) rep = m;
    if (rep < 0) continue;
    int f = c->cfirst[x], l = c->clast[x];
    int64_t off = c->p->loc[rep].offset;
    v[nv++] = (Cls){f < l ? f : l, f < l ? l : f, rep, off, off + node_bytes(g->nodes[rep])};
  }
  return nv;
}

/* Every pair of arena values live at once whose bytes meet, through check_pair. */
static int check_pairs(const Checker *c) {
  const Graph *g = c->g;
  size_t cap = (size_t)(g->n ? g->n : 1);
  Cls *v = arena_alloc(g->arena, sizeof(Cls) * cap);
  int nv = classes(c, v);
  qsort(v, (size_t)nv, sizeof *v, by_start);
  Cls **ends = arena_alloc(g->arena, sizeof(Cls *) * cap);
  ByOff t = {.cls = arena_alloc(g->arena, sizeof(Cls *) * cap), .leaf = ints((Graph *)g, 0), .size = 1, .n = nv};
  for (int k = 0; k < nv; k++) ends[k] = t.cls[k] = &v[k];
  qsort(ends, (size_t)nv, sizeof *ends, by_end);
  qsort(t.cls, (size_t)nv, sizeof *t.cls, by_off);
  for (int k = 0; k < nv; k++) t.leaf[t.cls[k] - v] = k;
  while (t.size < nv) t.size *= 2;
  t.tree = arena_alloc(g->arena, sizeof(int64_t) * 2 * (size_t)t.size);
  for (int x = 0; x < 2 * t.size; x++) t.tree[x] = INT64_MIN;
  for (int k = 0, gone = 0; k < nv; k++) {
    for (; gone < nv && ends[gone]->hi < v[k].lo; gone++) byoff_set(&t, t.leaf[ends[gone] - v], INT64_MIN);
    int lo = 0, hi = nv; /* the classes that start below v[k]'s end: [0, lo) */
    while (lo < hi) {
      int mid = lo + (hi - lo) / 2;
      if (t.cls[mid]->off < v[k].end) lo = mid + 1;
      else hi = mid;
    }
    if (meet(c, &t, 1, 0, t.size, lo, &v[k])) return -1;
    byoff_set(&t, t.leaf[k], v[k].end);
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
  c.upd = updates_in_place(&c);
  for (int i = 0; i < g->n; i++)
    if (check_loc(&c, i)) return -1;
  alias_classes(&c);
  return check_pairs(&c);
}
