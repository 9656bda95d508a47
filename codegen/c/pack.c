/* pack.c — matmul weights in panel order, baked in when the model is compiled.
 *
 * A matmul whose B is a weight embedded in the code (a static const array: its values
 * never change) reads a second copy of it laid out as the tiles read it: for each
 * matrix of B's batch, for each panel of NR columns, K rows of NR values, the last
 * panel padded with zeros.  A tile then walks its panel with unit stride, whatever
 * trans_b was.  Weights read from a file at init are packed per panel while the
 * kernel runs instead (matmul.c).
 *
 * Also what the tile kernels need at file scope before their function. */
#include <inttypes.h>

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

/* B's value at (batch matrix m, row k, column j) in the product's orientation. */
static double b_at(const Node *b, bool tb, int64_t m, int64_t k, int64_t j) {
  int64_t r = b->shape.d[b->shape.rank - 2], c = b->shape.d[b->shape.rank - 1];
  int64_t at = m * r * c + (tb ? j * c + k : k * c + j);
  return dtype_load(b->dtype, b->data, at);
}

int pack_b_emit(CEmit *ce, const Node *mm) {
  const Node *b = cgen_in(ce, mm, 1);
  bool tb = node_int(mm, A_TRANS_B);
  int nr = cgen_tile_nr(ce, mm->dtype);
  int64_t rows = b->shape.d[b->shape.rank - 2], cols = b->shape.d[b->shape.rank - 1];
  int64_t k = tb ? cols : rows, n = tb ? rows : cols, np = (n + nr - 1) / nr;
  int64_t mats = shape_numel(&b->shape) / (rows * cols > 0 ? rows * cols : 1);
  char name[32], lit[64];
  pack_b_name(mm, name, sizeof name);
  cgen_printf(ce, "\n/* %%%d's B in panels: [%" PRId64 "][%" PRId64 "][%" PRId64 "][%d] */\n", mm->id,
              mats, np, k, nr);
  cgen_printf(ce, "static const %s %s[%" PRId64 "] = {", cgen_ctype(mm), name, mats * np * k * nr);
  int64_t at = 0;
  for (int64_t m = 0; m < mats; m++)
    for (int64_t p = 0; p < np; p++)
      for (int64_t kk = 0; kk < k; kk++)
        for (int64_t j = 0; j < nr; j++, at++) {
          int64_t col = p * nr + j;
          if (col < n) cgen_literal(mm->dtype, b_at(b, tb, m, kk, col), lit, sizeof lit);
          else snprintf(lit, sizeof lit, "0");
          cgen_printf(ce, "%s%s,", at % 8 ? " " : "\n  ", lit);
        }
  cgen_printf(ce, "\n};\n");
  return 0;
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
