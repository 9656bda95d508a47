/* plan_sweep.c — the planner's placement when best-fit over every order would cost too
 * much: one pass over time, as an allocator would run.
 *
 * Needs: buffers with a step interval and a size (multiples of the alignment).  Gives:
 * an offset for each, such that buffers live at a common step never share a byte.
 * Buffers are taken by first step; before each, those that ended earlier return their
 * bytes to a free list (merged with free neighbours; a free run at the top lowers the
 * top); each takes the smallest free run that holds it (the lowest of equal ones), else
 * the top.  Free runs are kept twice, by address and by size, in treaps with fixed
 * priorities: O(log n) each step, so the whole is O(n log n) and deterministic. */
#include <stdlib.h>

#include "passes.h"

typedef struct TNode {
  int64_t k1, k2, val; /* key (k1, k2); val: the run's end in the address treap */
  int l, r;
  uint32_t pri;
} TNode;

typedef struct Treap {
  TNode *t;
  int root, n, freed; /* freed: a list of unused nodes through .l */
} Treap;

static int key_less(const TNode *a, int64_t k1, int64_t k2) { return a->k1 < k1 || (a->k1 == k1 && a->k2 < k2); }

/* Splits x into keys < (k1, k2) and the rest. */
static void split(Treap *tr, int x, int64_t k1, int64_t k2, int *lo, int *hi) {
  if (x < 0) { *lo = *hi = -1; return; }
  if (key_less(&tr->t[x], k1, k2)) {
    split(tr, tr->t[x].r, k1, k2, &tr->t[x].r, hi);
    *lo = x;
  } else {
    split(tr, tr->t[x].l, k1, k2, lo, &tr->t[x].l);
    *hi = x;
  }
}

static int merge(Treap *tr, int a, int b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (tr->t[a].pri > tr->t[b].pri) {
    tr->t[a].r = merge(tr, tr->t[a].r, b);
    return a;
  }
  tr->t[b].l = merge(tr, a, tr->t[b].l);
  return b;
}

static void t_insert(Treap *tr, int64_t k1, int64_t k2, int64_t val) {
  int x = tr->freed >= 0 ? tr->freed : tr->n++;
  if (x == tr->freed) tr->freed = tr->t[x].l;
  uint32_t h = (uint32_t)x * 2654435761u; /* fixed priorities: the same tree every run */
  h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
  tr->t[x] = (TNode){k1, k2, val, -1, -1, h};
  int lo, hi;
  split(tr, tr->root, k1, k2, &lo, &hi);
  tr->root = merge(tr, merge(tr, lo, x), hi);
}

static void t_erase(Treap *tr, int64_t k1, int64_t k2) {
  int lo, mid, hi;
  split(tr, tr->root, k1, k2, &lo, &mid);
  split(tr, mid, k1, k2 + 1, &mid, &hi);
  if (mid >= 0) tr->t[mid].l = tr->freed, tr->freed = mid;
  tr->root = merge(tr, lo, hi);
}

/* The node with the smallest key >= (k1, k2), or -1. */
static int t_ceil(const Treap *tr, int64_t k1, int64_t k2) {
  int best = -1;
  for (int x = tr->root; x >= 0;)
    if (key_less(&tr->t[x], k1, k2)) x = tr->t[x].r;
    else best = x, x = tr->t[x].l;
  return best;
}

/* The node with the largest key < (k1, k2), or -1. */
static int t_floor(const Treap *tr, int64_t k1, int64_t k2) {
  int best = -1;
  for (int x = tr->root; x >= 0;)
    if (key_less(&tr->t[x], k1, k2)) best = x, x = tr->t[x].r;
    else x = tr->t[x].l;
  return best;
}

typedef struct Heap { /* placed buffers by last step, the earliest on top */
  int *id, n;
  const int *last;
} Heap;

static bool heap_less(const Heap *h, int a, int b) {
  int x = h->id[a], y = h->id[b];
  return h->last[x] != h->last[y] ? h->last[x] < h->last[y] : x < y;
}

static void heap_swap(Heap *h, int a, int b) { int t = h->id[a]; h->id[a] = h->id[b], h->id[b] = t; }

static void heap_push(Heap *h, int v) {
  int i = h->n++;
  h->id[i] = v;
  for (; i > 0 && heap_less(h, i, (i - 1) / 2); i = (i - 1) / 2) heap_swap(h, i, (i - 1) / 2);
}

static int heap_pop(Heap *h) {
  int top = h->id[0];
  h->id[0] = h->id[--h->n];
  for (int i = 0;;) {
    int m = i, l = 2 * i + 1, r = l + 1;
    if (l < h->n && heap_less(h, l, m)) m = l;
    if (r < h->n && heap_less(h, r, m)) m = r;
    if (m == i) break;
    heap_swap(h, i, m), i = m;
  }
  return top;
}

typedef struct Free {
  Treap addr, size; /* free runs: (start, 0) -> end; (length, start) */
  int64_t top;      /* everything from here up is free */
} Free;

static void run_add(Free *f, int64_t a, int64_t b) {
  t_insert(&f->addr, a, 0, b);
  t_insert(&f->size, b - a, a, 0);
}

static void run_remove(Free *f, int64_t a, int64_t b) {
  t_erase(&f->addr, a, 0);
  t_erase(&f->size, b - a, a);
}

static void give_back(Free *f, int64_t a, int64_t b) {
  int x = t_floor(&f->addr, a, 0);
  if (x >= 0 && f->addr.t[x].val == a) {
    int64_t pa = f->addr.t[x].k1;
    run_remove(f, pa, a), a = pa;
  }
  x = t_ceil(&f->addr, b, 0);
  if (x >= 0 && f->addr.t[x].k1 == b) {
    int64_t nb = f->addr.t[x].val;
    run_remove(f, b, nb), b = nb;
  }
  if (b == f->top) f->top = a;
  else run_add(f, a, b);
}

static int64_t take(Free *f, int64_t bytes) {
  int x = t_ceil(&f->size, bytes, INT64_MIN);
  if (x < 0) {
    int64_t at = f->top;
    f->top += bytes;
    return at;
  }
  int64_t a = f->size.t[x].k2, len = f->size.t[x].k1;
  run_remove(f, a, a + len);
  if (len > bytes) run_add(f, a + bytes, a + len);
  return a;
}

typedef struct Key {
  int first, idx;
} Key;

static int by_first(const void *a, const void *b) {
  const Key *x = a, *y = b;
  return x->first != y->first ? (x->first < y->first ? -1 : 1) : x->idx - y->idx;
}

void plan_by_first(int nb, const int *first, int *order) {
  Key *k = dlc_malloc(sizeof(Key) * (size_t)(nb ? nb : 1));
  for (int i = 0; i < nb; i++) k[i] = (Key){first[i], i};
  qsort(k, (size_t)nb, sizeof *k, by_first);
  for (int i = 0; i < nb; i++) order[i] = k[i].idx;
  free(k);
}

int64_t plan_sweep(int nb, const int *first, const int *last, const int64_t *bytes, int64_t *off) {
  size_t n = (size_t)(nb ? nb : 1);
  int *order = dlc_malloc(sizeof(int) * n);
  Heap h = {dlc_malloc(sizeof(int) * n), 0, last};
  Free f = {{dlc_malloc(sizeof(TNode) * (n + 1)), -1, 0, -1}, {dlc_malloc(sizeof(TNode) * (n + 1)), -1, 0, -1}, 0};
  plan_by_first(nb, first, order);
  int64_t arena = 0;
  for (int i = 0; i < nb; i++) {
    int v = order[i];
    while (h.n && last[h.id[0]] < first[v]) {
      int o = heap_pop(&h);
      give_back(&f, off[o], off[o] + bytes[o]);
    }
    if (bytes[v] == 0 || first[v] > last[v]) { /* no bytes, or never live: meets nothing at 0 */
      off[v] = 0;
      continue;
    }
    off[v] = take(&f, bytes[v]);
    if (f.top > arena) arena = f.top;
    heap_push(&h, v);
  }
  free(order), free(h.id), free(f.addr.t), free(f.size.t);
  return arena;
}
