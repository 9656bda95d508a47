/* fuse_region.c — one fused region: a sink and the producers it swallows.
 *
 * Needs: the users of every node (fuse_uses).  Gives: the nodes of one kernel and its
 * kind, per the contracts in passes.h.  A producer joins when every one of its uses is
 * already in the region, it is not a graph output, and the region's shape rules admit
 * it.  Candidates are tried highest id first: a node's users all have higher ids, so
 * when a node is tried every user that will ever join has already joined, and one pass
 * over the candidates decides each of them for good.  The candidates wait in a max-heap
 * and the members in a list, so a region costs its own size, not the distance from its
 * sink back to its lowest operand (a weight read by every step of an unrolled loop).
 *
 * Shape rules.  An elementwise region computes every member at the sink's index
 * (`out`); a member of another shape would be recomputed, so it stays outside.  A
 * reduction over the last axis (keepdims) turns the region into a row region over
 * vec = [P.., C]: members are then row vectors (shape vec) or per-row scalars (shape
 * sc = [P.., 1]).  A reshape whose operand stays outside is a view: read in place
 * through its own shape.  A matmul or conv whose only users are an elementwise region
 * of its own shape heads an epilogue.
 */
#include <stdlib.h>
#include <string.h>

#include "fuse.h"

/* Epilogues rely on the backends' matmul and conv emitters applying the elementwise
 * tail (KERNEL_EPILOGUE in passes.h); false leaves every matmul and conv alone. */
static const bool fuse_epilogues = true;

typedef struct Region {
  Graph *g;
  FuseUses *u;
  const int *owner;
  const bool *allowed;
  int root, stamp;
  int *heap, nheap, capheap; /* candidates not yet tried, highest id on top */
  int *mem, nmem, capmem;    /* members, in the order they joined */
  Shape out;           /* the elementwise index space (before a row domain exists) */
  bool row;            /* a row domain: vec and sc below are set */
  Shape vec, sc;
  bool reduce_root;    /* the sink reduces over axes other than just the last */
  bool row_parts;      /* per-row scalars or inner reductions: a ROW kernel */
  bool elem_only;      /* every member so far is elementwise or a view */
  int head;            /* the matmul or conv of an epilogue, or -1 */
} Region;

static bool is_reduce(const Node *n) { return !strcmp(ir_ops[n->op].impl, "reduce"); }
static bool is_heavy(const Node *n) { return n->op == OP_MATMUL || n->op == OP_CONV; }
static const Node *in0(const Region *r, const Node *n) { return r->g->nodes[n->in[0]]; }

/* Reduces the last axis alone, of length 2 or more. */
static bool is_row_reduce(const Region *r, const Node *n) {
  int na;
  if (!is_reduce(n)) return false;
  const int64_t *ax = node_ints(n, A_AXES, &na);
  const Shape *x = &in0(r, n)->shape;
  return na == 1 && x->rank >= 1 && ax[0] == x->rank - 1 && x->d[x->rank - 1] > 1;
}

static Shape last_to_one(Shape s) {
  s.d[s.rank - 1] = 1;
  return s;
}

static void set_row(Region *r, const Shape *vec) {
  r->row = true;
  r->vec = *vec;
  r->sc = last_to_one(*vec);
}

/* Appends v to a growing array (*a, *n, *cap). */
static void append(int **a, int *n, int *cap, int v) {
  if (*n == *cap) {
    *cap = *cap ? 2 * *cap : 16;
    *a = realloc(*a, sizeof(int) * (size_t)*cap);
    DLC_ASSERT(*a);
  }
  (*a)[(*n)++] = v;
}

static void heap_push(Region *r, int v) {
  append(&r->heap, &r->nheap, &r->capheap, v);
  for (int i = r->nheap - 1; i > 0 && r->heap[(i - 1) / 2] < r->heap[i]; i = (i - 1) / 2) {
    int t = r->heap[i];
    r->heap[i] = r->heap[(i - 1) / 2], r->heap[(i - 1) / 2] = t;
  }
}

static int heap_pop(Region *r) {
  int top = r->heap[0];
  r->heap[0] = r->heap[--r->nheap];
  for (int i = 0;;) {
    int c = 2 * i + 1;
    if (c >= r->nheap) break;
    if (c + 1 < r->nheap && r->heap[c + 1] > r->heap[c]) c++;
    if (r->heap[i] >= r->heap[c]) break;
    int t = r->heap[i];
    r->heap[i] = r->heap[c], r->heap[c] = t;
    i = c;
  }
  return top;
}

static void push_operands(Region *r, const Node *n, bool as_buffers) {
  for (int i = 0; i < n->nin; i++) {
    int a = n->in[i];
    if (as_buffers) r->u->blocked[a] = r->stamp;
    else r->u->cand[a] = r->stamp, heap_push(r, a);
  }
}

/* Every use of p lies in the region, and none of them reads p as a whole buffer. */
static bool uses_inside(const Region *r, int p) {
  for (int j = r->u->start[p]; j < r->u->start[p + 1]; j++) {
    int user = r->u->user[j];
    if (r->u->member[user] != r->stamp || user == r->head) return false;
  }
  return true;
}

static bool can_open_row(const Region *r) {
  return !r->row && r->head < 0 && !r->reduce_root && r->out.rank >= 1 && r->out.d[r->out.rank - 1] > 1;
}

/* Before a row domain exists, a per-row scalar of the sink's row shape opens one. */
static bool admit_elementwise(Region *r, const Node *n) {
  if (!r->row && shape_eq(&n->shape, &r->out)) return true;
  Shape sc = r->out.rank ? last_to_one(r->out) : r->out;
  if (can_open_row(r) && shape_eq(&n->shape, &sc)) set_row(r, &r->out);
  if (!r->row) return false;
  if (shape_eq(&n->shape, &r->vec)) return true;
  if (!shape_eq(&n->shape, &r->sc)) return false;
  r->row_parts = true;
  return true;
}

/* An inner reduction over the last axis, kept as a per-row scalar. */
static bool admit_reduce(Region *r, const Node *n) {
  if (r->head >= 0 || r->reduce_root || !is_row_reduce(r, n) || !node_int(n, A_KEEPDIMS))
    return false;
  const Shape *x = &in0(r, n)->shape;
  if (r->row) return shape_eq(x, &r->vec);
  if (shape_eq(&n->shape, &r->out)) set_row(r, x); /* the members so far are per-row scalars */
  else if (shape_eq(x, &r->out)) set_row(r, &r->out);
  else return false;
  r->row_parts = true;
  return true;
}

static bool admit_head(Region *r, const Node *n) {
  if (!fuse_epilogues || r->head >= 0 || r->row || r->reduce_root || !r->elem_only) return false;
  if (!op_is_elementwise(r->g->nodes[r->root]->op) || !shape_eq(&n->shape, &r->out)) return false;
  r->head = n->id;
  return true;
}

/* Tries candidate p; on success it joins and its operands become candidates (or, for
 * what reads them as buffers, are kept out). */
static void try_join(Region *r, int p) {
  const Node *n = r->g->nodes[p];
  if (fuse_is_data(n) || r->owner[p] >= 0 || (r->allowed && !r->allowed[p])) return;
  if (r->u->blocked[p] == r->stamp || r->u->output[p] || !uses_inside(r, p)) return;
  if (n->guard != r->g->nodes[r->root]->guard) return; /* a kernel runs under one guard */
  bool view = n->op == OP_RESHAPE, head = false;
  if (op_is_elementwise(n->op)) {
    if (!admit_elementwise(r, n)) return;
  } else if (is_reduce(n)) {
    if (!admit_reduce(r, n)) return;
    r->elem_only = false;
  } else if (is_heavy(n)) {
    if (!(head = admit_head(r, n))) return;
  } else if (!view) return;
  r->u->member[p] = r->stamp;
  append(&r->mem, &r->nmem, &r->capmem, p);
  push_operands(r, n, view || head);
}

/* The sink decides the index space; nodes other than elementwise ops and reductions
 * stand alone. */
static bool start(Region *r) {
  const Node *n = r->g->nodes[r->root];
  r->out = n->shape;
  if (is_reduce(n) && is_row_reduce(r, n)) set_row(r, &in0(r, n)->shape);
  else if (is_reduce(n)) r->reduce_root = true, r->out = in0(r, n)->shape;
  else if (!op_is_elementwise(n->op)) return false;
  r->elem_only = !is_reduce(n);
  return true;
}

static KernelKind region_kind(const Region *r) {
  if (r->head >= 0) return KERNEL_EPILOGUE;
  if (r->reduce_root) return KERNEL_REDUCE;
  if (is_reduce(r->g->nodes[r->root])) return r->row_parts ? KERNEL_ROW : KERNEL_REDUCE;
  return r->row ? KERNEL_ROW : KERNEL_ELEMWISE;
}

static int by_id(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int fuse_region(Graph *g, FuseUses *u, int root, int *owner, const bool *allowed, int *nodes,
                KernelKind *kind) {
  Region r = {.g = g, .u = u, .owner = owner, .allowed = allowed, .root = root,
              .stamp = root + 1, .head = -1};
  u->member[root] = r.stamp;
  append(&r.mem, &r.nmem, &r.capmem, root);
  if (start(&r)) {
    push_operands(&r, g->nodes[root], false);
    for (int last = -1; r.nheap;) { /* highest id first, each once */
      int p = heap_pop(&r);
      if (p != last) try_join(&r, p);
      last = p;
    }
  }
  qsort(r.mem, (size_t)r.nmem, sizeof *r.mem, by_id);
  int n = 0;
  if (r.head >= 0) nodes[n++] = r.head;
  for (int j = 0; j < r.nmem; j++)
    if (r.mem[j] != r.head) nodes[n++] = r.mem[j];
  for (int j = 0; j < n; j++) owner[nodes[j]] = root;
  *kind = region_kind(&r);
  free(r.heap), free(r.mem);
  return n;
}
