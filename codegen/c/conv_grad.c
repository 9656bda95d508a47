/* conv_grad.c — the gradients of conv as products through the register tile (tile.h),
 * over the same blocks of output rows as the forward conv's im2col (conv.h).
 *
 * Per image and group, for each block of output positions (pos of them):
 *   conv_grad_weight: dW^T[k, o] += sum_q col[k, q] gy^T[q, o]
 *       the block's im2col (conv_im2col_rows) is the tile's A, read in place; gy's
 *       block, transposed into panels of NR output channels (or of one vector, when
 *       there are few), is the tile's B; each sum
 *       is added into dW, so dW is summed over blocks and images in a fixed order.
 *   conv_grad_input:  dcol[k, q] = sum_o W^T[k, o] gy[o, q], then dx += col2im(dcol)
 *       W read in place (transposed by its strides), gy's rows read in place as the
 *       panels (the last, partial one copied and padded); the block's dcol is added
 *       back into dx run by run (conv_col2im_rows).
 * Both results are zeroed first.  Every sum is one chain in a fixed order and every
 * addition into the result comes in a fixed order, so results are deterministic.
 * conv_grad_weight's images go in WEIGHT_PARTS fixed ranges, each summed into a dW of
 * its own that threads share (threads.c), and the parts are added in order at the end:
 * the same bits for every thread count, and serial without OpenMP.
 *
 * Stack: each local array at most CONV_GRAD_STACK_BYTES.  A shape whose single output
 * row does not fit falls back to the direct loops (grad_window.c). */
#include <inttypes.h>

#include "conv.h"

typedef struct Grad {
  Conv c;
  Block b;
  const Shape *x, *gy; /* x's (or dx's) and gy's shapes */
  int64_t opad;        /* output channels per group rounded up to whole panels */
} Grad;

static Grad grad_of(const CEmit *ce, const Node *n, const Epi *ep, const Shape *x, const Shape *w,
                    const Shape *gy) {
  Grad d = {.c = conv_of(ce, n, ep, x, w, gy->d + 2), .x = x, .gy = gy};
  d.b.w = d.c.w.out[d.c.w.nsp - 1];
  d.b.outer = d.b.w ? d.c.q / d.b.w : 0;
  d.opad = conv_round_up(d.c.og, d.c.nr);
  return d;
}

/* The most outer positions per block such that `bytes` per output position of a block
 * stays within a stack array. */
static int64_t rows_fitting(const Grad *d, int64_t bytes) {
  int64_t row = bytes * d->b.w;
  if (row <= 0) return d->b.outer;
  int64_t r = CONV_GRAD_STACK_BYTES / row;
  return r < d->b.outer ? r : d->b.outer;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Nothing to multiply: the zeroed result is the gradient. */
static bool empty(const Grad *d) {
  return !d->c.depth || !d->c.og || !d->c.q || !shape_numel(d->x) || !shape_numel(d->gy);
}

static void zero(CEmit *ce, const Node *n) {
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", shape_numel(&n->shape));
}

/* The m rows of the product over one panel (or t->np side by side): full tiles, then
 * one tile of the rows left. */
static void row_tiles(CEmit *ce, const Tile *t, int64_t m, const Epi *ep, int depth) {
  int mr = cgen_tile_mr(ce, tile_dtype(t));
  int64_t rem = m % mr, mfull = m - rem;
  char end[32];
  snprintf(end, sizeof end, "%" PRId64, mfull);
  if (mfull) {
    tile_rows(ce, t, &(Rows){.begin = "0", .end = end, .rem = rem, .rem_at = rem ? end : NULL}, ep, depth);
    return;
  }
  Tile one = *t;
  one.mr = (int)rem, one.row0 = "0";
  tile_emit(ce, &one, ep, depth);
}

/* The product's m rows over its n columns, packed in panels of NR at `base` + jp *
 * pnext (the last one short when n % NR).  Fewer rows than a tile go over several
 * panels side by side, so that enough sums are in flight. */
static void panels_product(CEmit *ce, const Tile *proto, int64_t m, int64_t n, const char *base,
                           int64_t pnext, const Epi *ep, int depth) {
  int mr = cgen_tile_mr(ce, tile_dtype(proto));
  int nr = proto->nr, wide = m < mr ? (int)(mr / m) : 1;
  int64_t npf = n / nr, nwide = wide > 1 ? npf / wide * wide : 0, rem = n % nr;
  char panel[96], col0[64];
  Tile t = *proto;
  t.panel = panel, t.col0 = col0, t.nstore = nr;
  snprintf(panel, sizeof panel, "%s + jp * %" PRId64, base, pnext);
  snprintf(col0, sizeof col0, "jp * %d", nr);
  if (nwide) {
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp += %d) {", nwide, wide);
    t.np = wide, t.pnext = pnext;
    row_tiles(ce, &t, m, ep, depth + 1);
    t.np = 0;
    cgen_line(ce, depth, "}");
  }
  if (npf > nwide) {
    cgen_line(ce, depth, "for (int64_t jp = %" PRId64 "; jp < %" PRId64 "; jp++) {", nwide, npf);
    row_tiles(ce, &t, m, ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (!rem) return;
  snprintf(panel, sizeof panel, "%s + %" PRId64, base, npf * pnext);
  snprintf(col0, sizeof col0, "%" PRId64, npf * nr);
  t.nstore = (int)rem;
  row_tiles(ce, &t, m, ep, depth);
}

/* The loop over images, shared among threads when `par` (threads.c): what it declares
 * next each thread has its own. */
static void images_open(CEmit *ce, const Grad *d, bool par, int depth) {
  if (par) cgen_par_for(ce, depth);
  cgen_line(ce, depth, "for (int64_t b0 = 0; b0 < %" PRId64 "; b0++) {", d->x->d[0]);
}

static void groups_open(CEmit *ce, const Grad *d, int depth) {
  cgen_line(ce, depth, "for (int64_t g = 0; g < %" PRId64 "; g++) {", d->c.groups);
}

static void groups_images_close(CEmit *ce, int depth) {
  cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth, "}");
}

/* Every block of `rows` outer positions, then the last, shorter one: `block` writes
 * one, with its first outer position in ob. */
typedef void (*BlockFn)(CEmit *ce, const Grad *d, int64_t rows, int depth);

static void blocks(CEmit *ce, const Grad *d, BlockFn block, int depth) {
  int64_t full = d->b.outer / d->b.rows, rest = d->b.outer % d->b.rows;
  cgen_line(ce, depth, "for (int64_t ob = 0; ob < %" PRId64 "; ob += %" PRId64 ") {", full * d->b.rows,
            d->b.rows);
  block(ce, d, d->b.rows, depth + 1);
  cgen_line(ce, depth, "}");
  if (!rest) return;
  cgen_line(ce, depth, "{");
  cgen_line(ce, depth + 1, "const int64_t ob = %" PRId64 ";", full * d->b.rows);
  block(ce, d, rest, depth + 1);
  cgen_line(ce, depth, "}");
}

/* ---- conv_grad_weight ---- */

/* gp[o / NR][q][o % NR] = G[o][ob * W + q] for the block's pos positions, in panels
 * of a full block's positions (fpos) each, so that the padding channels of the last
 * panel stay where they were zeroed. */
static void gy_transposed(CEmit *ce, const Grad *d, int64_t pos, int64_t fpos, int depth) {
  const Conv *c = &d->c;
  cgen_line(ce, depth, "for (int64_t o = 0; o < %" PRId64 "; o++) {", c->og);
  cgen_line(ce, depth + 1, "%s *restrict lane = gp + o / %d * %" PRId64 " + o %% %d;", c->t, c->nr,
            fpos * c->nr, c->nr);
  cgen_line(ce, depth + 1, "const %s *restrict g_o = G + o * %" PRId64 " + ob * %" PRId64 ";", c->t,
            c->q, d->b.w);
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) lane[j * %d] = g_o[j];", pos,
            c->nr);
  cgen_line(ce, depth, "}");
}

/* Rows k, columns o: the block's im2col read in place, gy transposed into panels. */
static void weight_block(CEmit *ce, const Grad *d, int64_t rows, int depth) {
  const Conv *c = &d->c;
  int64_t pos = rows * d->b.w, fpos = d->b.rows * d->b.w;
  Tile t = {.t = c->t, .nr = c->nr, .depth = pos, .a = "col", .a_rs = pos, .a_cs = 1};
  conv_im2col_rows(ce, c, &d->b, rows, pos, depth);
  gy_transposed(ce, d, pos, fpos, depth);
  panels_product(ce, &t, c->depth, c->og, "gp", fpos * c->nr, c->ep, depth);
}

enum { WEIGHT_PARTS = 4 };

/* The fixed ranges of images whose dW are summed apart: WEIGHT_PARTS where threads
 * would pay and the partial dWs fit a stack array, else 1 (the images in order). */
static int64_t weight_parts(const Grad *d, const Node *n) {
  int64_t imgs = d->x->d[0], bytes = shape_numel(&n->shape) * dtype_size(n->dtype);
  double flops = 2.0 * (double)shape_numel(d->gy) * (double)d->c.depth;
  if (imgs < 2 || !cgen_par_worth(flops) || WEIGHT_PARTS * bytes > CONV_GRAD_STACK_BYTES) return 1;
  return imgs < WEIGHT_PARTS ? imgs : WEIGHT_PARTS;
}

/* The panel width of dW's columns, the output channels: the target's NR, or one vector
 * where that pads far fewer zero channels (LeNet-5's 6 and 16 channels would leave
 * three quarters and half of AVX-512's 32 columns zero, and the tile multiplies them). */
static void weight_panel(const CEmit *ce, Grad *d) {
  int narrow = cgen_tile_nr_narrow(ce, d->c.n->dtype);
  if (narrow && 4 * conv_round_up(d->c.og, narrow) <= 3 * conv_round_up(d->c.og, d->c.nr)) d->c.nr = narrow;
  d->opad = conv_round_up(d->c.og, d->c.nr);
}

bool conv_grad_narrow_used(const CEmit *ce) {
  for (int i = 0; i < ce->g->n; i++) {
    const Node *n = ce->g->nodes[i];
    if (n->op != OP_CONV_GRAD_WEIGHT || !cgen_tile_nr_narrow(ce, n->dtype)) continue;
    Epi ep = epi_to(n, "dW", 1, 0, true);
    Grad d = grad_of(ce, n, &ep, &cgen_in(ce, n, 0)->shape, &n->shape, &cgen_in(ce, n, 1)->shape);
    weight_panel(ce, &d);
    if (d.c.nr != cgen_tile_nr(ce, n->dtype)) return true;
  }
  return false;
}

/* Whole output rows per block: the im2col and the transposed gy each within a stack
 * array. */
static bool weight_fits(Grad *d) {
  int64_t size = dtype_size(d->c.n->dtype);
  d->b.rows = min64(rows_fitting(d, d->c.depth * size), rows_fitting(d, d->opad * size));
  return d->b.rows > 0;
}

/* x [N,C,S..] (a0), gy [N,O,Q..] (a1) -> gw [O,C/g,K..]. */
int cgen_conv_grad_weight(CEmit *ce, const Node *n) {
  const Shape *x = &cgen_in(ce, n, 0)->shape, *gy = &cgen_in(ce, n, 1)->shape;
  Epi ep = epi_to(n, "dW", 1, 0, true);
  Grad d = grad_of(ce, n, &ep, x, &n->shape, gy);
  ep.to_cs = d.c.depth; /* dW[o][k]: row k, column o */
  weight_panel(ce, &d);
  if (shape_numel(&n->shape) && !empty(&d) && !weight_fits(&d)) return conv_grad_weight_direct(ce, n);
  const Conv *c = &d.c;
  cgen_line(ce, 1, "(void)a0, (void)a1;");
  if (!shape_numel(&n->shape)) return 0;
  zero(ce, n);
  if (empty(&d)) return 0;
  int64_t pos = d.b.rows * d.b.w, parts = weight_parts(&d, n), numel = shape_numel(&n->shape);
  int64_t imgs = x->d[0];
  /* Every image adds into all of dW: the images of a part go in order, on one thread. */
  if (parts > 1) {
    cgen_line(ce, 1, "%s part[%" PRId64 "][%" PRId64 "]; /* each range of images' dW */", c->t, parts, numel);
    cgen_par_for(ce, 1);
  }
  cgen_line(ce, 1, "for (int64_t pc = 0; pc < %" PRId64 "; pc++) {", parts);
  cgen_line(ce, 2, "%s col[%" PRId64 "]; /* im2col(x) of a block of output rows: [K][positions] */",
            c->t, c->depth * pos);
  cgen_line(ce, 2, "%s gp[%" PRId64 "]; /* gy of a block, transposed: [O/g / NR][positions][NR] */",
            c->t, d.opad * pos);
  if (parts > 1) {
    cgen_line(ce, 2, "%s *restrict dW0 = part[pc];", c->t);
    cgen_line(ce, 2, "for (int64_t i = 0; i < %" PRId64 "; i++) dW0[i] = 0;", numel);
  } else {
    cgen_line(ce, 2, "%s *restrict dW0 = y;", c->t);
  }
  if (d.opad > c->og) /* the padding channels of the last panel, zero from here on */
    cgen_line(ce, 2, "for (int64_t i = 0; i < %" PRId64 "; i++) gp[i] = 0;", d.opad * pos);
  cgen_line(ce, 2, "for (int64_t b0 = pc * %" PRId64 " / %" PRId64 "; b0 < (pc + 1) * %" PRId64 " / %" PRId64 "; b0++) {",
            imgs, parts, imgs, parts);
  groups_open(ce, &d, 3);
  cgen_line(ce, 4, "const %s *restrict X = a0 + (b0 * %" PRId64 " + g * %" PRId64 ") * %" PRId64 ";",
            c->t, x->d[1], c->cg, c->w.in_plane);
  cgen_line(ce, 4, "const %s *restrict G = a1 + (b0 * %" PRId64 " + g * %" PRId64 ") * %" PRId64 ";",
            c->t, gy->d[1], c->og, c->q);
  cgen_line(ce, 4, "%s *restrict dW = dW0 + g * %" PRId64 ";", c->t, c->og * c->depth);
  blocks(ce, &d, weight_block, 4);
  groups_images_close(ce, 2);
  cgen_line(ce, 1, "}");
  if (parts > 1) {
    cgen_printf(ce, "  for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = ", numel);
    for (int64_t p = 0; p < parts; p++) cgen_printf(ce, "%spart[%" PRId64 "][i]", p ? " + " : "", p);
    cgen_printf(ce, ";\n");
  }
  return 0;
}

/* ---- conv_grad_input ---- */

/* gp[o][j] = G[o][ob * W + at + j] for j < cols, zero after: the block's last panel. */
static void gy_last_panel(CEmit *ce, const Grad *d, int64_t at, int64_t cols, int depth) {
  const Conv *c = &d->c;
  cgen_line(ce, depth, "for (int64_t o = 0; o < %" PRId64 "; o++) {", c->og);
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) gp[o * %d + j] = G[o * %" PRId64 " + ob * %" PRId64 " + %" PRId64 " + j];",
            cols, c->nr, c->q, d->b.w, at);
  cgen_line(ce, depth + 1, "for (int64_t j = %" PRId64 "; j < %d; j++) gp[o * %d + j] = 0;", cols, c->nr,
            c->nr);
  cgen_line(ce, depth, "}");
}

static void input_block(CEmit *ce, const Grad *d, int64_t rows, int depth) {
  const Conv *c = &d->c;
  int64_t pos = rows * d->b.w, npf = pos / c->nr, nrem = pos % c->nr;
  char panel[96], col0[64];
  Epi ep = *c->ep;
  ep.to_rs = pos; /* dcol[k][q] */
  Tile t = {.t = c->t, .nr = c->nr, .depth = c->og, .a = "Wg", .a_rs = 1, .a_cs = c->depth,
            .panel = panel, .col0 = col0};
  if (npf) {
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp++) {", npf);
    snprintf(panel, sizeof panel, "G + ob * %" PRId64 " + jp * %d", d->b.w, c->nr);
    snprintf(col0, sizeof col0, "jp * %d", c->nr);
    t.pstride = c->q, t.nstore = c->nr;
    row_tiles(ce, &t, c->depth, &ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (nrem) {
    gy_last_panel(ce, d, npf * c->nr, nrem, depth);
    snprintf(panel, sizeof panel, "gp");
    snprintf(col0, sizeof col0, "%" PRId64, npf * c->nr);
    t.pstride = 0, t.nstore = (int)nrem;
    row_tiles(ce, &t, c->depth, &ep, depth);
  }
  conv_col2im_rows(ce, c, &d->b, rows, pos, depth);
}

/* Whole output rows per block: the im2col's gradient, and the last panel of gy, each
 * within a stack array. */
static bool input_fits(Grad *d) {
  int64_t size = dtype_size(d->c.n->dtype);
  d->b.rows = rows_fitting(d, d->c.depth * size);
  return d->b.rows > 0 && d->c.og * d->c.nr * size <= CONV_GRAD_STACK_BYTES;
}

/* gy [N,O,Q..] (a0), w [O,C/g,K..] (a1) -> gx [N,C,S..]. */
int cgen_conv_grad_input(CEmit *ce, const Node *n) {
  const Shape *gy = &cgen_in(ce, n, 0)->shape, *w = &cgen_in(ce, n, 1)->shape;
  Epi ep = epi_to(n, "col", 0, 1, false);
  Grad d = grad_of(ce, n, &ep, &n->shape, w, gy);
  if (shape_numel(&n->shape) && !empty(&d) && !input_fits(&d)) return conv_grad_input_direct(ce, n);
  const Conv *c = &d.c;
  cgen_line(ce, 1, "(void)a0, (void)a1;");
  if (!shape_numel(&n->shape)) return 0;
  zero(ce, n);
  if (empty(&d)) return 0;
  /* Each image writes its own dx: threads share the images (threads.c). */
  images_open(ce, &d, d.x->d[0] > 1 && cgen_par_worth(2.0 * (double)shape_numel(gy) * (double)c->depth), 1);
  cgen_line(ce, 2, "%s col[%" PRId64 "]; /* the gradient of im2col(x) of a block: [K][positions] */",
            c->t, c->depth * d.b.rows * d.b.w);
  if ((d.b.rows * d.b.w) % c->nr || (d.b.outer % d.b.rows * d.b.w) % c->nr)
    cgen_line(ce, 2, "%s gp[%" PRId64 "]; /* a block's last, partial panel of gy: [O/g][NR] */", c->t,
              c->og * c->nr);
  groups_open(ce, &d, 2);
  cgen_line(ce, 3, "const %s *restrict G = a0 + (b0 * %" PRId64 " + g * %" PRId64 ") * %" PRId64 ";",
            c->t, gy->d[1], c->og, c->q);
  cgen_line(ce, 3, "const %s *restrict Wg = a1 + g * %" PRId64 ";", c->t, c->og * c->depth);
  cgen_line(ce, 3, "%s *restrict X = y + (b0 * %" PRId64 " + g * %" PRId64 ") * %" PRId64 ";", c->t,
            n->shape.d[1], c->cg, c->w.in_plane);
  blocks(ce, &d, input_block, 3);
  groups_images_close(ce, 1);
  return 0;
}
