/* pack.c — matmul weights in panel order, baked in when the model is compiled.
 *
 * A matmul whose B is a weight embedded in the code (its values never change) reads a
 * second copy of it laid out as the tiles read it: for each matrix of B's batch, for
 * each panel of NR columns, K rows of NR values, the last panel padded with zeros.  A
 * tile then walks its panel with unit stride, whatever trans_b was.  pack_b_fill alone
 * knows that layout; the copy goes through the weights' writer (cgen_c_data: into the
 * blob, or a C array).  Weights read from a file at init are packed per panel while
 * the kernel runs instead (matmul.c).
 *
 * Also what the tile kernels need at file scope before their function. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tile.h"

bool pack_b_constant(const CEmit *ce, const Node *mm) {
  const Node *b = cgen_in(ce, mm, 1);
  bool fixed = b->op == OP_CONST || (b->op == OP_PARAM && !ce->mutable_weights); /* steps update PARAMs */
  return ce->embedded && fixed && b->data &&
         ce->p->loc[b->id].kind == LOC_WEIGHT;
}

bool pack_b_wanted(const CEmit *ce, const Node *mm) {
  const Node *a = cgen_in(ce, mm, 0);
  int64_t k = a->shape.d[a->shape.rank - 1 - node_int(mm, A_TRANS_A)];
  return pack_b_constant(ce, mm) && k > 0 && shape_numel(&mm->shape) > 0;
}

void pack_b_name(const Node *mm, char *buf, size_t n) { snprintf(buf, n, "dlc_pk%d", mm->id); }

/* The panel layout, here alone: B's dims in the product's orientation. */
typedef struct PackDims {
  int64_t mats, k, n, np; /* batch matrices, rows (K), columns (N), panels of nr */
  int nr;
} PackDims;

static PackDims pack_dims(const CEmit *ce, const Node *mm) {
  const Node *b = cgen_in(ce, mm, 1);
  bool tb = node_int(mm, A_TRANS_B);
  int64_t rows = b->shape.d[b->shape.rank - 2], cols = b->shape.d[b->shape.rank - 1];
  PackDims d = {.k = tb ? cols : rows, .n = tb ? rows : cols, .nr = tile_nr(mm->dtype)};
  d.np = (d.n + d.nr - 1) / d.nr;
  d.mats = shape_numel(&b->shape) / (rows * cols > 0 ? rows * cols : 1);
  return d;
}

int64_t pack_b_count(const CEmit *ce, const Node *mm) {
  PackDims d = pack_dims(ce, mm);
  return d.mats * d.np * d.k * d.nr;
}

void pack_b_fill(const CEmit *ce, const Node *mm, void *dst) {
  const Node *b = cgen_in(ce, mm, 1);
  DLC_ASSERT(b->dtype == mm->dtype);
  bool tb = node_int(mm, A_TRANS_B);
  PackDims d = pack_dims(ce, mm);
  size_t es = (size_t)dtype_size(mm->dtype);
  int64_t c = b->shape.d[b->shape.rank - 1], r = b->shape.d[b->shape.rank - 2];
  const unsigned char *src = b->data;
  unsigned char *out = dst;
  memset(dst, 0, (size_t)pack_b_count(ce, mm) * es); /* the last panel's padding */
  int64_t at = 0;
  for (int64_t m = 0; m < d.mats; m++)
    for (int64_t p = 0; p < d.np; p++)
      for (int64_t kk = 0; kk < d.k; kk++)
        for (int64_t j = 0; j < d.nr; j++, at++) {
          int64_t col = p * d.nr + j;
          if (col < d.n) memcpy(out + at * es, src + (m * r * c + (tb ? col * c + kk : kk * c + col)) * es, es);
        }
}

int pack_b_emit(CEmit *ce, const Node *mm) {
  PackDims d = pack_dims(ce, mm);
  int64_t count = pack_b_count(ce, mm);
  void *buf = malloc((size_t)(count ? count : 1) * (size_t)dtype_size(mm->dtype));
  if (!buf) return dlc_errf(ce->e, "cgen: out of memory for the packed B of %%%d", mm->id);
  pack_b_fill(ce, mm, buf);
  char name[32], comment[160];
  pack_b_name(mm, name, sizeof name);
  snprintf(comment, sizeof comment, "%%%d's B in panels: [%" PRId64 "][%" PRId64 "][%" PRId64 "][%d]", mm->id,
           d.mats, d.np, d.k, d.nr);
  int r = cgen_c_data(ce, name, mm->dtype, buf, count, comment);
  free(buf);
  return r;
}

static bool has_tiled(const CEmit *ce, const Kernel *k) {
  for (int j = 0; j < k->n; j++) {
    Op op = ce->g->nodes[k->nodes[j]]->op;
    if (op == OP_MATMUL || op == OP_CONV || op == OP_CONV_GRAD_INPUT || op == OP_CONV_GRAD_WEIGHT) return true;
  }
  return false;
}

static bool first_tiled(const CEmit *ce, const Kernel *k) {
  for (const Kernel *t = ce->s->k; t < k; t++)
    if (has_tiled(ce, t)) return false;
  return true;
}

/* Before the first kernel holding a matmul, a conv or a conv gradient, the tile helpers;
 * before each kernel, the packed B of every matmul in it (a --fuse=op kernel may hold
 * several, anywhere). */
int cgen_before_kernel(CEmit *ce, const Kernel *k) {
  if (!has_tiled(ce, k)) return 0;
  if (first_tiled(ce, k)) tile_prelude(ce);
  for (int j = 0; j < k->n; j++) {
    const Node *h = ce->g->nodes[k->nodes[j]];
    if (h->op == OP_MATMUL && pack_b_wanted(ce, h) && pack_b_emit(ce, h)) return -1;
  }
  return 0;
}
