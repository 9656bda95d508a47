/* plan.c — memory planning: where every value lives while the model runs.
 *
 * Needs: a schedule.  Gives: a location for every node.  Inputs stay in the caller's
 * buffers, weights in one block, a computed output is written straight into the
 * caller's output buffer, and every other value gets an offset in one arena.  Values
 * whose lifetimes (first kernel that writes them .. last kernel that reads them) do
 * not overlap may share bytes; offsets are chosen largest value first, each at the
 * lowest offset clear of every placed value it overlaps in time (best fit by size).
 * A value a kernel reads is never reused for what the same kernel writes (in-place
 * reuse comes with fusion). */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

#define ALIGN 64

static int64_t align_up(int64_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

static int64_t node_bytes(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

typedef struct Life {
  int id;
  int first, last; /* kernel indices */
  int64_t bytes;
} Life;

/* The kernel that computes each node; -1 for data. */
static int *kernel_of(Graph *g, const Schedule *s) {
  int *k = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) k[i] = -1;
  for (int t = 0; t < s->nk; t++)
    for (int j = 0; j < s->k[t].n; j++) k[s->k[t].nodes[j]] = t;
  return k;
}

/* Last kernel that reads each node; nk for values copied to an output at the end. */
static int *last_use(Graph *g, const Schedule *s, const Plan *p, const int *kof) {
  int *last = arena_alloc(g->arena, sizeof(int) * (size_t)(g->n ? g->n : 1));
  for (int i = 0; i < g->n; i++) last[i] = kof[i];
  for (int i = 0; i < g->n; i++)
    for (int j = 0; j < g->nodes[i]->nin; j++) {
      int a = g->nodes[i]->in[j];
      if (kof[i] > last[a]) last[a] = kof[i];
    }
  for (int c = 0; c < p->ncopy; c++) last[g->out[p->copy_out[c]]] = s->nk;
  return last;
}

static void place_io(Graph *g, Plan *p, const int *kof) {
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
    bool once = true;
    for (int k = 0; k < j; k++) once &= g->out[k] != id;
    if (kof[id] >= 0 && once) p->loc[id] = (Loc){LOC_OUTPUT, j, 0};
    else p->copy_out[p->ncopy++] = j;
  }
}

static int by_size(const void *a, const void *b) {
  const Life *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return x->id - y->id;
}

static bool overlap_time(const Life *a, const Life *b) {
  return a->first <= b->last && b->first <= a->last;
}

/* Lowest offset where `v` fits clear of every placed value live at the same time. */
static int64_t fit(const Life *v, const Life *placed, const int64_t *off, int np) {
  int64_t at = 0;
  for (bool moved = true; moved;) {
    moved = false;
    for (int i = 0; i < np; i++) {
      if (!overlap_time(v, &placed[i])) continue;
      if (at < off[i] + placed[i].bytes && off[i] < at + v->bytes) {
        at = align_up(off[i] + placed[i].bytes);
        moved = true;
      }
    }
  }
  return at;
}

static void place_arena(Graph *g, const Schedule *s, Plan *p, const int *kof, const int *last) {
  Life *v = malloc(sizeof(Life) * (size_t)(g->n ? g->n : 1));
  int64_t *off = malloc(sizeof(int64_t) * (size_t)(g->n ? g->n : 1));
  int nv = 0;
  DLC_ASSERT(v && off);
  for (int i = 0; i < g->n; i++)
    if (kof[i] >= 0 && p->loc[i].kind == LOC_NONE)
      v[nv++] = (Life){i, kof[i], last[i], align_up(node_bytes(g->nodes[i]))};
  qsort(v, (size_t)nv, sizeof *v, by_size);
  for (int i = 0; i < nv; i++) {
    off[i] = fit(&v[i], v, off, i);
    p->loc[v[i].id] = (Loc){LOC_ARENA, 0, off[i]};
    if (off[i] + v[i].bytes > p->arena_bytes) p->arena_bytes = off[i] + v[i].bytes;
    p->total_bytes += v[i].bytes;
  }
  for (int t = 0; t <= s->nk; t++) {
    int64_t live = 0;
    for (int i = 0; i < nv; i++) live += v[i].first <= t && t <= v[i].last ? v[i].bytes : 0;
    if (live > p->peak_bytes) p->peak_bytes = live;
  }
  free(v);
  free(off);
}

Plan *pass_plan(Graph *g, const Schedule *s) {
  Plan *p = arena_alloc(g->arena, sizeof *p);
  p->loc = arena_alloc(g->arena, sizeof(Loc) * (size_t)(g->n ? g->n : 1));
  int *kof = kernel_of(g, s);
  place_io(g, p, kof);
  int *last = last_use(g, s, p, kof);
  place_arena(g, s, p, kof, last);
  return p;
}

/* The checker recomputes lifetimes from the graph and schedule alone and tests every
 * pair of arena values, so it does not trust the planner's bookkeeping. */
int plan_check(const Graph *cg, const Schedule *s, const Plan *p, DlcErr *e) {
  Graph *g = (Graph *)cg;
  int *kof = kernel_of(g, s);
  int *last = last_use(g, s, p, kof);
  for (int i = 0; i < g->n; i++) {
    const Loc *a = &p->loc[i];
    if (kof[i] >= 0 && a->kind == LOC_NONE) {
      bool internal = false; /* inside a fused kernel, not its result */
      for (int t = 0; t < s->nk; t++)
        for (int j = 0; j + 1 < s->k[t].n; j++) internal |= s->k[t].nodes[j] == i;
      if (!internal) return dlc_errf(e, "plan: node %d has no location", i);
    }
    if (a->kind != LOC_ARENA) continue;
    if (a->offset % ALIGN || a->offset < 0 || a->offset + node_bytes(g->nodes[i]) > p->arena_bytes)
      return dlc_errf(e, "plan: node %d lies outside the arena or is misaligned", i);
    for (int j = i + 1; j < g->n; j++) {
      const Loc *b = &p->loc[j];
      if (b->kind != LOC_ARENA) continue;
      bool live = kof[i] <= last[j] && kof[j] <= last[i];
      bool bytes = a->offset < b->offset + node_bytes(g->nodes[j]) &&
                   b->offset < a->offset + node_bytes(g->nodes[i]);
      if (live && bytes)
        return dlc_errf(e, "plan: nodes %d and %d are live at once and overlap in the arena", i, j);
    }
  }
  return 0;
}
