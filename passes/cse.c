/* cse.c — common subexpression elimination.
 *
 * Needs: a verified graph.  Gives: a verified graph computing the same outputs in which
 * no two nodes are equal: the same op, dtype, shape, operands (after merging) and
 * attributes, or, for CONSTs, the same bytes, whatever their size: fold turns the
 * same movement of a weight at each step of an unrolled RNN into a CONST of its own,
 * which would otherwise be stored once per step.  The later of two equal nodes is
 * replaced by the earlier one; a CONST's name does not matter (it is a literal), but
 * INPUTs and PARAMs are never merged, since each is its own buffer or trainable
 * weight.  Ops are pure (no op reads state), so equal nodes
 * compute equal values.  Nodes left without users are removed, so ids change.
 */
#include <stdlib.h>
#include <string.h>

#include "passes.h"

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 1099511628211ull; }

static uint64_t mix_bytes(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = mix(h, b[i]);
  return h;
}

/* Eight bytes a step: a CONST's data may be megabytes. */
static uint64_t mix_data(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i = 0;
  for (uint64_t w; i + 8 <= n; i += 8) {
    memcpy(&w, b + i, 8);
    h = mix(h, w ^ (w >> 29));
  }
  return mix_bytes(h, b + i, n - i);
}

static size_t data_bytes(const Node *n) { return (size_t)(shape_numel(&n->shape) * dtype_size(n->dtype)); }

static bool mergeable(const Node *n) { return n->op != OP_INPUT && n->op != OP_PARAM; }

static uint64_t node_hash(const Node *n) {
  uint64_t h = mix(mix(14695981039346656037ull, (uint64_t)n->op), (uint64_t)n->dtype);
  h = mix_bytes(h, n->shape.d, sizeof(int64_t) * (size_t)n->shape.rank);
  h = mix_bytes(h, n->in, sizeof(int) * (size_t)n->nin);
  for (int k = 0; k < n->nattr; k++) {
    const Attr *a = &n->attr[k];
    h = mix(mix(h, (uint64_t)a->key), (uint64_t)a->i);
    if (a->kind == AK_INTS) h = mix_bytes(h, a->ints, sizeof(int64_t) * (size_t)a->n);
  }
  return n->op == OP_CONST ? mix_data(h, n->data, data_bytes(n)) : h;
}

static bool attr_eq(const Attr *a, const Attr *b) {
  if (a->key != b->key || a->kind != b->kind || a->i != b->i || a->n != b->n) return false;
  if (memcmp(&a->f, &b->f, sizeof a->f)) return false; /* bits: NaN equals itself */
  return a->kind != AK_INTS || !memcmp(a->ints, b->ints, sizeof(int64_t) * (size_t)a->n);
}

static bool node_eq(const Node *a, const Node *b) {
  if (a->op != b->op || a->dtype != b->dtype || !shape_eq(&a->shape, &b->shape)) return false;
  if (a->nin != b->nin || a->nattr != b->nattr || a->guard != b->guard) return false;
  if (a->nin && memcmp(a->in, b->in, sizeof(int) * (size_t)a->nin)) return false;
  for (int k = 0; k < a->nattr; k++)
    if (!attr_eq(&a->attr[k], &b->attr[k])) return false;
  return a->op != OP_CONST || !memcmp(a->data, b->data, data_bytes(a));
}

/* Open addressing over node ids; the earlier equal node, or n itself once inserted. */
static int lookup(const Graph *g, int *table, size_t cap, const Node *n) {
  size_t i = (size_t)node_hash(n) & (cap - 1);
  for (; table[i] >= 0; i = (i + 1) & (cap - 1))
    if (node_eq(g->nodes[table[i]], n)) return table[i];
  table[i] = n->id;
  return n->id;
}

int pass_cse(Graph **gp, DlcErr *e) {
  (void)e;
  Graph *g = *gp;
  size_t cap = 16;
  while (cap < 2 * (size_t)g->n) cap *= 2;
  int *table = dlc_malloc(sizeof(int) * cap), *repl = dlc_malloc(sizeof(int) * (size_t)(g->n ? g->n : 1));
  DLC_ASSERT(table && repl);
  for (size_t i = 0; i < cap; i++) table[i] = -1;
  for (int i = 0; i < g->n; i++) {
    Node *n = g->nodes[i];
    for (int j = 0; j < n->nin; j++) n->in[j] = repl[n->in[j]];
    if (n->guard >= 0) n->guard = repl[n->guard]; /* an equal guard is unguarded too */
    repl[i] = mergeable(n) ? lookup(g, table, cap, n) : i;
  }
  for (int j = 0; j < g->nout; j++) g->out[j] = repl[g->out[j]];
  free(table), free(repl);
  *gp = pass_rebuild(g, NULL);
  return 0;
}
