/* pack.c — matmul weights in panel order, baked in when the model is compiled.
 *
 * A matmul whose B is a weight embedded in the code (its values never change) reads a
 * second copy of it laid out as the tiles read it: for each matrix of B's batch, for
 * each panel of NR columns, K rows of NR values, the last panel padded with zeros.  A
 * tile then walks its panel with unit stride, whatever trans_b was.  pack_b_fill alone
 * knows that layout; the copy goes through the weights' writer (cgen_c_data: into the
 * blob, or a C array).  A B in a weights file is packed the same way by NAME_init,
 * once, after the weight block (pack_b_at_init); other B's are copied a panel at a
 * time while the kernel runs (matmul.c).
 *
 * Also what the tile kernels need at file scope before their function. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tile.h"

/* B's orientation: a matmul's trans_b; a conv's weight [O, C, taps..] is read as
 * [O, K], the transpose of the product's B (conv_by_channels). */
static bool pack_trans(const Node *h) { return h->op == OP_CONV || node_int(h, A_TRANS_B); }

/* The matrix that is packed: B's last two dims (a conv's weight as [O, K]). */
static void pack_matrix(const CEmit *ce, const Node *h, int64_t *rows, int64_t *cols) {
  const Shape *bs = &cgen_in(ce, h, 1)->shape;
  *rows = bs->d[h->op == OP_CONV ? 0 : bs->rank - 2];
  *cols = h->op == OP_CONV ? shape_numel(bs) / (*rows ? *rows : 1) : bs->d[bs->rank - 1];
}

/* A product whose B may be packed: a matmul, or a conv that conv.c runs by channels or
 * by positions with its weight in panels of MR rows (conv_rows_packed_shape). */
static bool pack_kind(const CEmit *ce, const Node *h) {
  return h->op == OP_MATMUL || (h->op == OP_CONV && (conv_by_channels_shape(ce, h) ||
                                                     conv_rows_packed_shape(ce, h) || conv_wino_shape(ce, h)));
}

static bool pack_wino(const CEmit *ce, const Node *h) { return h->op == OP_CONV && conv_wino_shape(ce, h); }

/* The panels' width: the tile's NR, or MR for a conv's weight read as the tile's rows
 * (or transformed first, by Winograd's F(2x2, 3x3): -1, a layout of its own). */
static int pack_width(const CEmit *ce, const Node *h) {
  if (pack_wino(ce, h)) return -1;
  if (h->op == OP_CONV && conv_rows_packed_shape(ce, h)) return cgen_tile_mr(ce, h->dtype);
  return cgen_tile_nr(ce, h->dtype);
}

bool pack_b_constant(const CEmit *ce, const Node *mm) {
  const Node *b = cgen_in(ce, mm, 1);
  bool fixed = b->op == OP_CONST || (b->op == OP_PARAM && !ce->mutable_weights); /* steps update PARAMs */
  return ce->embedded && fixed && b->data &&
         ce->p->loc[b->id].kind == LOC_WEIGHT;
}

/* Which weights are packed at init: each read only as the B of matmuls that take it the
 * same way (an unrolled RNN's steps share their weights), so that every such argument
 * can be one packed copy; ce->pack_mm gets the first of those matmuls.  One pass over
 * the graph's operands. */
void pack_b_init_tables(CEmit *ce) {
  const Graph *g = ce->g;
  if (ce->device) { /* the CUDA backend packs nothing (and has no CPU tile to ask) */
    ce->pack_at_total = 0;
    return;
  }
  bool *no = dlc_calloc((size_t)(g->n ? g->n : 1), sizeof *no);
  DLC_ASSERT(no);
  for (int o = 0; o < g->nout; o++) no[g->out[o]] = true;
  for (int i = 0; i < g->n; i++) {
    const Node *n = g->nodes[i];
    for (int j = 0; j < n->nin; j++) {
      int b = n->in[j];
      const Node *w = g->nodes[b], *first = ce->pack_mm[b];
      if (no[b]) continue;
      const Node *a = n->op == OP_MATMUL ? cgen_in(ce, n, 0) : NULL;
      bool deep = a ? a->shape.d[a->shape.rank - 1 - node_int(n, A_TRANS_A)] > 0 : shape_numel(&w->shape) > 0;
      bool ok = pack_kind(ce, n) && j == 1 && n->dtype == w->dtype && shape_numel(&n->shape) && deep &&
                (!first || (first->op == n->op && pack_trans(n) == pack_trans(first) &&
                            pack_width(ce, n) == pack_width(ce, first)));
      if (!ok) no[b] = true, ce->pack_mm[b] = NULL;
      else if (!first) ce->pack_mm[b] = n;
    }
  }
  int64_t at = 0;
  for (int b = 0; b < g->n; b++) {
    const Node *w = g->nodes[b];
    bool home = !ce->embedded && !ce->mutable_weights && !ce->device && (w->op == OP_CONST || w->op == OP_PARAM) &&
                ce->p->loc[b].kind == LOC_WEIGHT;
    if (no[b] || !home) ce->pack_mm[b] = NULL;
    if (!ce->pack_mm[b]) continue;
    ce->pack_at[b] = at;
    at += (pack_b_count(ce, ce->pack_mm[b]) * dtype_size(w->dtype) + 63) / 64 * 64;
  }
  ce->pack_at_total = at;
  free(no);
}

static const Node *packs_at_init(const CEmit *ce, int b) { return ce->pack_mm ? ce->pack_mm[b] : NULL; }

bool pack_b_at_init(const CEmit *ce, const Node *mm) { return packs_at_init(ce, mm->in[1]) != NULL; }

bool pack_b_wanted(const CEmit *ce, const Node *mm) {
  if (!pack_kind(ce, mm)) return false;
  const Node *a = cgen_in(ce, mm, 0);
  int64_t k = mm->op == OP_CONV ? shape_numel(&cgen_in(ce, mm, 1)->shape)
                                : a->shape.d[a->shape.rank - 1 - node_int(mm, A_TRANS_A)];
  return (pack_b_constant(ce, mm) && k > 0 && shape_numel(&mm->shape) > 0) || pack_b_at_init(ce, mm);
}

void pack_b_name(const Node *mm, char *buf, size_t n) { snprintf(buf, n, "dlc_pk%d", mm->id); }

/* The panel layout, here alone: B's dims in the product's orientation. */
typedef struct PackDims {
  int64_t mats, k, n, np; /* batch matrices, rows (K), columns (N), panels of nr */
  int nr;
} PackDims;

static PackDims pack_dims(const CEmit *ce, const Node *mm) {
  const Node *b = cgen_in(ce, mm, 1);
  bool tb = pack_trans(mm);
  int64_t rows, cols;
  pack_matrix(ce, mm, &rows, &cols);
  PackDims d = {.k = tb ? cols : rows, .n = tb ? rows : cols, .nr = pack_width(ce, mm)};
  d.np = (d.n + d.nr - 1) / d.nr;
  d.mats = shape_numel(&b->shape) / (rows * cols > 0 ? rows * cols : 1);
  return d;
}

int64_t pack_b_count(const CEmit *ce, const Node *mm) {
  if (pack_wino(ce, mm)) return conv_wino_count(ce, mm);
  PackDims d = pack_dims(ce, mm);
  return d.mats * d.np * d.k * d.nr;
}

void pack_b_fill(const CEmit *ce, const Node *mm, void *dst) {
  const Node *b = cgen_in(ce, mm, 1);
  DLC_ASSERT(b->dtype == mm->dtype);
  if (pack_wino(ce, mm)) {
    conv_wino_fill(ce, mm, b->data, dst);
    return;
  }
  bool tb = pack_trans(mm);
  PackDims d = pack_dims(ce, mm);
  size_t es = (size_t)dtype_size(mm->dtype);
  int64_t c, r;
  pack_matrix(ce, mm, &r, &c);
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

/* ---- packed in NAME_init, from a weights file ---- */

/* Where weight b's panels start after the weight block; the total when b is -1. */
static int64_t packed_at(const CEmit *ce, int b) { return b < 0 ? ce->pack_at_total : ce->pack_at[b]; }

int64_t pack_b_init_offset(const CEmit *ce, const Node *mm) {
  return ce->pack_mm ? packed_at(ce, mm ? mm->in[1] : -1) : 0;
}

void pack_b_init_expr(const CEmit *ce, const Node *mm, char *buf, size_t n) {
  snprintf(buf, n, "(const %s *)(m->weights + DLC_PACKED_AT + %" PRId64 ")", cgen_ctype(mm),
           pack_b_init_offset(ce, mm));
}

/* static void dlc_pack_weights(NAME *m): each such B, in the layout of pack_b_emit. */
void pack_b_init_code(CEmit *ce) {
  cgen_printf(ce, "\n/* The weights' matmul panels, packed once from the weights file (pack.c). */\n");
  bool wino = false;
  for (int i = 0; i < ce->g->n; i++) wino |= packs_at_init(ce, i) && pack_wino(ce, packs_at_init(ce, i));
  if (wino) conv_wino_u_code(ce);
  cgen_printf(ce, "static void dlc_pack_weights(%s *m) {\n", ce->o->name);
  for (int i = 0; i < ce->g->n; i++) {
    const Node *mm = packs_at_init(ce, i);
    if (!mm) continue;
    const Node *b = ce->g->nodes[i];
    if (pack_wino(ce, mm)) {
      cgen_line(ce, 1, "{ /* %%%d transformed for Winograd's F(2x2, 3x3): [16][O / MR][C][MR] */", b->id);
      cgen_line(ce, 2, "const float *src = (const float *)(m->weights + %lld);", (long long)ce->p->loc[b->id].offset);
      cgen_line(ce, 2, "float *dst = (float *)(m->weights + DLC_PACKED_AT + %" PRId64 ");", packed_at(ce, b->id));
      conv_wino_fill_code(ce, mm, 2);
      cgen_line(ce, 1, "}");
      continue;
    }
    bool tb = pack_trans(mm);
    PackDims d = pack_dims(ce, mm);
    int nr = d.nr;
    int64_t cols, rows;
    pack_matrix(ce, mm, &rows, &cols);
    int64_t k = d.k, n = d.n, np = d.np, mats = d.mats;
    const char *t = cgen_ctype(mm);
    cgen_line(ce, 1, "{ /* %%%d in panels: [%" PRId64 "][%" PRId64 "][%" PRId64 "][%d] */", b->id, mats, np, k, nr);
    cgen_line(ce, 2, "const %s *src = (const %s *)(m->weights + %lld);", t, t, (long long)ce->p->loc[b->id].offset);
    cgen_line(ce, 2, "%s *dst = (%s *)(m->weights + DLC_PACKED_AT + %" PRId64 ");", t, t, packed_at(ce, b->id));
    cgen_line(ce, 2, "int64_t q, p, kk, j;");
    cgen_line(ce, 2, "for (q = 0; q < %" PRId64 "; q++)", mats);
    cgen_line(ce, 3, "for (p = 0; p < %" PRId64 "; p++)", np);
    cgen_line(ce, 4, "for (kk = 0; kk < %" PRId64 "; kk++)", k);
    cgen_line(ce, 5, "for (j = 0; j < %d; j++) {", nr);
    cgen_line(ce, 6, "const int64_t col = p * %d + j;", nr);
    if (tb)
      cgen_line(ce, 6, "*dst++ = col < %" PRId64 " ? src[q * %" PRId64 " + col * %" PRId64 " + kk] : 0;", n,
                rows * cols, cols);
    else
      cgen_line(ce, 6, "*dst++ = col < %" PRId64 " ? src[q * %" PRId64 " + kk * %" PRId64 " + col] : 0;", n,
                rows * cols, cols);
    cgen_line(ce, 5, "}");
    cgen_line(ce, 1, "}");
  }
  cgen_printf(ce, "}\n");
}

int pack_b_emit(CEmit *ce, const Node *mm) {
  PackDims d = pack_dims(ce, mm);
  int64_t count = pack_b_count(ce, mm);
  if (pack_wino(ce, mm)) d.mats = 16, d.np = 1, d.k = count / 16, d.nr = 1;
  void *buf = dlc_try_malloc((size_t)(count ? count : 1) * (size_t)dtype_size(mm->dtype));
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
    if (pack_b_wanted(ce, h) && !pack_b_at_init(ce, h) && pack_b_emit(ce, h)) return -1;
  }
  return 0;
}
