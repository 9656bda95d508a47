/* matmul.c — batched matrix products [.., M, K] x [.., K, N] with broadcast batch
 * dimensions and transposed operands, through the register tile (tile.h).
 *
 * Per matrix of the batch, the product runs panel by panel over N: each panel is NR
 * columns of B laid out [K][NR], either baked into the code (a weight, pack.c) or
 * copied while the kernel runs into a local array.  With a baked panel the rows go in
 * blocks of MC, so one block of A stays in cache while every panel passes over it;
 * with a copied panel, each panel is copied once and every row of A passes over it.
 * Rows left over after the last full tile, and columns after the last full panel, get
 * their own smaller tile and shorter store.  A copied panel lives in the kernel's
 * scratch (one slot per thread when threads share the panels); a product with no depth
 * is computed one sum at a time. */
#include <inttypes.h>

#include "tile.h"

/* The loop of a product that threads share (threads.c): none (too little work), the
 * blocks of rows, or the panels (columns) when there are too few row blocks. */
typedef enum { PAR_NONE, PAR_ROWS, PAR_PANELS } Par;

typedef struct Mat {
  const Node *n;
  const Epi *ep;
  const char *t;      /* C type */
  int64_t m, k, nn;   /* the product's M, K, N */
  int64_t a_rs, a_cs; /* a's row and column strides, as read by the product */
  bool trans_b;
  bool packed;        /* B baked in panels (pack.c) */
  int64_t batch;      /* matrices of the result */
  int mr, nr;         /* the register tile (target.c) */
  int wide;           /* B baked: panels side by side per tile, of mr / wide rows (0: 1) */
  Par par;            /* which loop the threads share */
  bool swap;          /* stored transposed (a conv by channels) */
} Mat;

/* One B for the whole batch and A read as is: the batch is more rows of one product. */
static bool batch_folds(const CEmit *ce, const Node *n) {
  const Shape *bs = &cgen_in(ce, n, 1)->shape;
  Shape bb = shape_make(bs->rank - 2, bs->d);
  return n->shape.rank > 2 && !node_int(n, A_TRANS_A) && shape_numel(&bb) == 1;
}

static Mat mat_dims(const CEmit *ce, const Node *n, const Epi *ep) {
  const Shape *as = &cgen_in(ce, n, 0)->shape, *bs = &cgen_in(ce, n, 1)->shape;
  bool ta = node_int(n, A_TRANS_A), tb = node_int(n, A_TRANS_B);
  int64_t ar = as->d[as->rank - 2], ac = as->d[as->rank - 1];
  int64_t br = bs->d[bs->rank - 2], bc = bs->d[bs->rank - 1];
  return (Mat){.n = n, .ep = ep, .t = cgen_ctype(n), .m = ta ? ac : ar, .k = ta ? ar : ac,
               .nn = tb ? br : bc, .a_rs = ta ? 1 : ac, .a_cs = ta ? ac : 1, .trans_b = tb,
               .packed = pack_b_wanted(ce, n), .mr = cgen_tile_mr(ce, n->dtype),
               .nr = cgen_tile_nr(ce, n->dtype), .wide = cgen_tile_wide(ce, n->dtype)};
}

/* Panels side by side in a full tile, and the tile's rows. */
static int mat_w(const Mat *d) { return d->packed && d->wide > 1 ? d->wide : 1; }
static int mat_h(const Mat *d) { return d->mr / mat_w(d); }

/* Rows of A per block over the panels: TILE_MC down to whole tiles, so that no tile
 * straddles two blocks (and is computed in both). */
static int mat_mc(const Mat *d) { return TILE_MC > mat_h(d) ? TILE_MC - TILE_MC % mat_h(d) : mat_h(d); }

/* Rows when there are blocks of them for every thread, else panels. */
static Par mat_par(const Mat *d) {
  if (!cgen_par_worth(2.0 * (double)d->m * (double)d->k * (double)d->nn)) return PAR_NONE;
  int64_t blocks = d->packed ? (d->m / mat_h(d) * mat_h(d) + mat_mc(d) - 1) / mat_mc(d) : d->m / d->mr;
  return blocks >= 4 ? PAR_ROWS : PAR_PANELS;
}

/* One loop per batch dimension of the result (b0, b1, ..), and A and B pointing at the
 * current matrices (B at its panels when packed). */
static int batch_open(CEmit *ce, const Mat *d, const char *a, const char *b) {
  const Shape *as = &cgen_in(ce, d->n, 0)->shape, *bs = &cgen_in(ce, d->n, 1)->shape;
  Shape ab = shape_make(as->rank - 2, as->d), bb = shape_make(bs->rank - 2, bs->d);
  Shape yb = shape_make(d->n->shape.rank - 2, d->n->shape.d);
  int64_t ast[IR_MAX_RANK], bst[IR_MAX_RANK];
  int64_t np = (d->nn + d->nr - 1) / d->nr, bmat = d->packed ? np * d->k * d->nr : d->k * d->nn;
  cgen_bcast_strides(&ab, &yb, ast);
  cgen_bcast_strides(&bb, &yb, bst);
  for (int i = 0; i < yb.rank; i++) ast[i] *= d->m * d->k, bst[i] *= bmat;
  CgenIndex ai, bi;
  cgen_index_init(&ai, 0), cgen_index_add(&ai, "b", ast, yb.rank);
  cgen_index_init(&bi, 0), cgen_index_add(&bi, "b", bst, yb.rank);
  char pk[32];
  pack_b_name(d->n, pk, sizeof pk);
  int depth = cgen_loops_open(ce, &yb, "b", 1);
  cgen_line(ce, depth, "const %s *restrict A = %s + %s;", d->t, a, cgen_index_str(&ai));
  cgen_line(ce, depth, "const %s *restrict B = %s + %s;", d->t, d->packed && !pack_b_at_init(ce, d->n) ? pk : b,
            cgen_index_str(&bi));
  return depth;
}

static Tile tile_proto(const Mat *d) {
  return (Tile){.t = d->t, .nr = d->nr, .depth = d->k, .a = "A", .a_rs = d->a_rs, .a_cs = d->a_cs, .swap = d->swap};
}

/* ---- B baked in panels ---- */

/* The rows [begin, end) in full tiles over `t`'s panels from the panel loop's body. */
static void rows_of(CEmit *ce, const Mat *d, Tile *t, const Rows *r, int depth) {
  t->mr = mat_h(d), t->row0 = "i0";
  cgen_line(ce, depth, "for (int64_t i0 = %s; i0 < %s; i0 += %d)", r->begin, r->end, t->mr);
  tile_emit(ce, t, d->ep, depth + 1);
}

/* The rows [begin, end) in full tiles, for every panel: wide groups of panels side by
 * side, then the panels left over one by one, and the short last panel apart. */
static void panels(CEmit *ce, const Mat *d, const Rows *r, int depth) {
  int w = mat_w(d);
  int64_t npf = d->nn / d->nr, nrem = d->nn % d->nr, ngrp = w > 1 ? npf / w * w : 0;
  char panel[96], col0[64];
  Tile t = tile_proto(d);
  snprintf(panel, sizeof panel, "B + jp * %" PRId64, d->k * d->nr);
  snprintf(col0, sizeof col0, "jp * %d", d->nr);
  t.panel = panel, t.col0 = col0, t.nstore = d->nr;
  if (ngrp) {
    if (d->par == PAR_PANELS && ngrp > w) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp += %d) {", ngrp, w);
    t.np = w, t.pnext = d->k * d->nr;
    rows_of(ce, d, &t, r, depth + 1);
    cgen_line(ce, depth, "}");
    t.np = 0, t.pnext = 0;
  }
  if (npf > ngrp) {
    if (d->par == PAR_PANELS && npf - ngrp > 1) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = %" PRId64 "; jp < %" PRId64 "; jp++) {", ngrp, npf);
    rows_of(ce, d, &t, r, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (nrem) {
    snprintf(panel, sizeof panel, "B + %" PRId64, npf * d->k * d->nr);
    snprintf(col0, sizeof col0, "%" PRId64, npf * d->nr);
    t.nstore = (int)nrem;
    rows_of(ce, d, &t, r, depth);
  }
}

/* The rows after the last full tile, `rows` of them from row `at`: too few to keep
 * enough sums in flight over one panel, so MR / rows panels go side by side. */
static void few_rows(CEmit *ce, const Mat *d, int64_t rows, const char *at, int depth) {
  int wide = (int)(d->mr / rows);
  int64_t npf = d->nn / d->nr, nwide = wide > 1 ? npf / wide * wide : 0, nrem = d->nn % d->nr;
  char panel[96], col0[64];
  Tile t = tile_proto(d);
  t.mr = (int)rows, t.row0 = at, t.panel = panel, t.col0 = col0, t.nstore = d->nr;
  snprintf(panel, sizeof panel, "B + jp * %" PRId64, d->k * d->nr);
  snprintf(col0, sizeof col0, "jp * %d", d->nr);
  if (nwide) {
    if (d->par != PAR_NONE && nwide > wide) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp += %d)", nwide, wide);
    t.np = wide, t.pnext = d->k * d->nr;
    tile_emit(ce, &t, d->ep, depth + 1);
    t.np = 0;
  }
  if (npf > nwide) {
    if (d->par != PAR_NONE && npf - nwide > 1) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = %" PRId64 "; jp < %" PRId64 "; jp++)", nwide, npf);
    tile_emit(ce, &t, d->ep, depth + 1);
  }
  if (nrem) {
    snprintf(panel, sizeof panel, "B + %" PRId64, npf * d->k * d->nr);
    snprintf(col0, sizeof col0, "%" PRId64, npf * d->nr);
    t.nstore = (int)nrem;
    tile_emit(ce, &t, d->ep, depth);
  }
}

static void product_packed(CEmit *ce, const Mat *d, int depth) {
  int64_t mfull = d->m - d->m % mat_h(d), mrem = d->m % mat_h(d);
  int mc = mat_mc(d);
  char end[128], at[32];
  if (mfull) {
    if (d->par == PAR_ROWS) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t ic = 0; ic < %" PRId64 "; ic += %d) {", mfull, mc);
    snprintf(end, sizeof end, "(ic + %d < %" PRId64 " ? ic + %d : %" PRId64 ")", mc, mfull, mc, mfull);
    panels(ce, d, &(Rows){.begin = "ic", .end = end}, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (mrem) {
    snprintf(at, sizeof at, "%" PRId64, mfull);
    few_rows(ce, d, mrem, at, depth);
  }
}

/* ---- B copied panel by panel ---- */

/* bp[k][j] = B(k, col0 + j) for B [N, K], j in [j0, j1) and k in [k0, k1): read along k. */
static void copy_transposed(CEmit *ce, const Mat *d, const char *col0, int64_t j0, int64_t j1, int64_t k0, int64_t k1,
                            int depth) {
  if (j0 >= j1 || k0 >= k1) return;
  cgen_line(ce, depth, "for (int64_t jj = %" PRId64 "; jj < %" PRId64 "; jj++)", j0, j1);
  cgen_line(ce, depth + 1, "for (int64_t kk = %" PRId64 "; kk < %" PRId64 "; kk++) bp[kk * %d + jj] = B[(%s + jj) * %" PRId64 " + kk];",
            k0, k1, d->nr, col0, d->k);
}

/* bp[k][j] = B(k, col0 + j) for j < cols, zero after.  B [N, K] (trans_b) goes in blocks
 * of 8 x 8 through a small array, read along k and written along j: copied element by
 * element, its stores were NR apart, and for a layer's gradient (dX = dY W^T) the copy
 * of W took as long as a third of the product. */
static void copy_panel(CEmit *ce, const Mat *d, const char *col0, int64_t cols, int depth) {
  if (d->trans_b) {
    int64_t k8 = d->k - d->k % 8, c8 = cols - cols % 8;
    if (k8 && c8) {
      cgen_line(ce, depth, "for (int64_t kb = 0; kb < %" PRId64 "; kb += 8)", k8);
      cgen_line(ce, depth + 1, "for (int64_t jb = 0; jb < %" PRId64 "; jb += 8) {", c8);
      cgen_line(ce, depth + 2, "%s tr[8][8];", d->t);
      cgen_line(ce, depth + 2, "for (int64_t j = 0; j < 8; j++)");
      cgen_line(ce, depth + 3, "for (int64_t k = 0; k < 8; k++) tr[k][j] = B[(%s + jb + j) * %" PRId64 " + kb + k];",
                col0, d->k);
      cgen_line(ce, depth + 2, "for (int64_t k = 0; k < 8; k++)");
      cgen_line(ce, depth + 3, "for (int64_t j = 0; j < 8; j++) bp[(kb + k) * %d + jb + j] = tr[k][j];", d->nr);
      cgen_line(ce, depth + 1, "}");
    }
    copy_transposed(ce, d, col0, 0, c8, k8, d->k, depth);   /* the depth after the blocks */
    copy_transposed(ce, d, col0, c8, cols, 0, d->k, depth); /* the columns after them */
  } else {
    cgen_line(ce, depth, "for (int64_t kk = 0; kk < %" PRId64 "; kk++)", d->k);
    cgen_line(ce, depth + 1, "for (int64_t jj = 0; jj < %" PRId64 "; jj++) bp[kk * %d + jj] = B[kk * %" PRId64 " + %s + jj];",
              cols, d->nr, d->nn, col0);
  }
  if (cols < d->nr) {
    cgen_line(ce, depth, "for (int64_t kk = 0; kk < %" PRId64 "; kk++)", d->k);
    cgen_line(ce, depth + 1, "for (int64_t jj = %" PRId64 "; jj < %d; jj++) bp[kk * %d + jj] = 0;", cols,
              d->nr, d->nr);
  }
}

/* B [K, N] with few rows of A to pass over each panel (a training step's weights at a
 * small batch): copying a panel costs about what those passes read, so the full panels
 * are B's own rows, N apart, and only the last, partial one is copied.  With more
 * rows, a panel read again from contiguous memory pays for its copy. */
static bool in_place(const Mat *d) { return !d->trans_b && d->m <= 8 * (int64_t)d->mr && d->nn / d->nr > 0; }

/* Each panel is copied into the scratch slot of the thread that runs it (threads.c), or
 * read in place. */
static void product_copied(CEmit *ce, const Mat *d, int depth) {
  int64_t npf = d->nn / d->nr, nrem = d->nn % d->nr, mfull = d->m - d->m % d->mr;
  char end[32], col0[32], jcol[32];
  snprintf(end, sizeof end, "%" PRId64, mfull);
  snprintf(jcol, sizeof jcol, "jp * %d", d->nr);
  Rows r = {.begin = "0", .end = end, .rem = d->m % d->mr, .rem_at = d->m % d->mr ? end : NULL};
  Tile t = tile_proto(d);
  t.panel = "bp";
  if (npf && in_place(d)) {
    char panel[64];
    snprintf(panel, sizeof panel, "B + jp * %d", d->nr);
    if (d->par == PAR_PANELS && npf > 1) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp++) { /* B's rows read in place */", npf);
    t.panel = panel, t.pstride = d->nn, t.col0 = jcol, t.nstore = d->nr;
    tile_rows(ce, &t, &r, d->ep, depth + 1);
    t.panel = "bp", t.pstride = 0;
    cgen_line(ce, depth, "}");
  } else if (npf) {
    if (d->par == PAR_PANELS && npf > 1) cgen_par_for_slots(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp++) {", npf);
    cgen_line(ce, depth + 1, "%s *restrict bp = (%s *)ws + DLC_SLOT() * %" PRId64 "; /* one panel of B: [K][NR] */",
              d->t, d->t, d->k * d->nr);
    copy_panel(ce, d, jcol, d->nr, depth + 1);
    t.col0 = jcol, t.nstore = d->nr;
    tile_rows(ce, &t, &r, d->ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (nrem) {
    snprintf(col0, sizeof col0, "%" PRId64, npf * d->nr);
    cgen_line(ce, depth, "{");
    cgen_line(ce, depth + 1, "%s *restrict bp = (%s *)ws; /* the last, partial panel of B: [K][NR] */", d->t, d->t);
    copy_panel(ce, d, col0, nrem, depth + 1);
    t.col0 = col0, t.nstore = (int)nrem;
    tile_rows(ce, &t, &r, d->ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
}

/* ---- one sum at a time ---- */

static void product_plain(CEmit *ce, const Mat *d, int depth) {
  char bkj[96];
  if (d->trans_b) snprintf(bkj, sizeof bkj, "B[j * %" PRId64 " + k]", d->k);
  else snprintf(bkj, sizeof bkj, "B[k * %" PRId64 " + j]", d->nn);
  cgen_line(ce, depth, "for (int64_t i = 0; i < %" PRId64 "; i++)", d->m);
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) {", d->nn);
  cgen_line(ce, depth + 2, "%s acc = 0;", d->t);
  cgen_line(ce, depth + 2, "for (int64_t k = 0; k < %" PRId64 "; k++) acc += A[i * %" PRId64 " + k * %" PRId64 "] * %s;",
            d->k, d->a_rs, d->a_cs, bkj);
  epi_store(ce, d->ep, depth + 2, "acc", "i", "j");
  cgen_line(ce, depth + 1, "}");
}

/* Which loop threads share: with copied panels, only the panels. */
static Par product_par(const Mat *d) {
  Par par = mat_par(d);
  return d->packed || par == PAR_NONE ? par : PAR_PANELS;
}

static void product(CEmit *ce, const Mat *dims, int depth) {
  Mat d = *dims;
  d.par = product_par(&d);
  if (d.packed) product_packed(ce, &d, depth);
  else if (d.k) product_copied(ce, &d, depth);
  else product_plain(ce, &d, depth);
}

/* The product's dimensions, with the batch folded into M where it folds. */
static Mat mat_folded(const CEmit *ce, const Node *n, const Epi *ep) {
  Mat d = mat_dims(ce, n, ep);
  if (batch_folds(ce, n) && d.m > 0 && d.nn > 0) d.m *= shape_numel(&n->shape) / (d.m * d.nn);
  return d;
}

int64_t matmul_scratch(const CEmit *ce, const Node *n) {
  Epi ep = epi_plain(n);
  Mat d = mat_folded(ce, n, &ep);
  if (d.packed || !d.k || !shape_numel(&n->shape)) return 0;
  if (in_place(&d)) return d.nn % d.nr ? d.k * d.nr * dtype_size(n->dtype) : 0; /* the last panel */
  int64_t slots = product_par(&d) == PAR_PANELS && d.nn / d.nr > 1 ? CGEN_SLOTS : 1;
  return slots * d.k * d.nr * dtype_size(n->dtype);
}

int matmul_emit(CEmit *ce, const Node *n, const Epi *ep, const char *a, const char *b) {
  char folded_name[32];
  Mat d = mat_dims(ce, n, ep);
  cgen_line(ce, 1, "(void)%s, (void)%s;", a, b);
  if (!shape_numel(&n->shape)) return 0;
  Epi folded = *ep;
  if (batch_folds(ce, n)) { /* [.., M, K] x [K, N] is [.. * M, K] x [K, N] */
    folded.fold_m = d.m;
    d.m *= shape_numel(&n->shape) / (d.m * d.nn);
    d.ep = &folded;
    cgen_line(ce, 1, "{");
    cgen_line(ce, 2, "const %s *restrict A = %s;", d.t, a);
    bool baked = d.packed && !pack_b_at_init(ce, n);
    if (baked) pack_b_name(n, folded_name, sizeof folded_name);
    cgen_line(ce, 2, "const %s *restrict B = %s;", d.t, baked ? folded_name : b);
    product(ce, &d, 2);
    cgen_line(ce, 1, "}");
    return 0;
  }
  int nb = n->shape.rank - 2, depth = batch_open(ce, &d, a, b);
  product(ce, &d, depth);
  cgen_loops_close(ce, nb, 1);
  return 0;
}

void matmul_packed(CEmit *ce, const Node *n, const Epi *ep, int64_t m, int64_t k, int64_t nn, int64_t a_rs,
                   int64_t a_cs, bool swap, int depth) {
  Mat d = {.n = n, .ep = ep, .t = cgen_ctype(n), .m = m, .k = k, .nn = nn, .a_rs = a_rs, .a_cs = a_cs,
           .packed = true, .batch = 1, .mr = cgen_tile_mr(ce, n->dtype), .nr = cgen_tile_nr(ce, n->dtype),
           .swap = swap};
  d.par = mat_par(&d);
  product_packed(ce, &d, depth);
}

int cgen_matmul(CEmit *ce, const Node *n) {
  Epi ep = epi_plain(n);
  return matmul_emit(ce, n, &ep, "a0", "a1");
}
