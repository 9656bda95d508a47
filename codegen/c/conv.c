/* conv.c — N-d convolution: x [N, C, S..] with w [O, C/groups, K..] gives
 * y [N, O, Q..], with strides, zero padding, dilations and groups.
 *
 * As a product per image and group: Y[o, q] = sum_k W[o, k] * col[k, q], where k runs
 * over the group's channels and the kernel's taps and col is the im2col of x.  The
 * im2col goes in blocks of whole output rows, sized to stay in the L2 cache
 * (CONV_BLOCK_BYTES), into the kernel's scratch; the register tile (tile.h) runs the
 * group's output channels over each panel of NR columns of the block, reading W's rows
 * in place.  Input position p = q * stride - pad_begin + k * dilation.  A shape whose
 * single output row is too large for a block (a long 1-d signal) gathers one panel
 * [K][NR] at a time instead.
 *
 * Threads: a conv with enough work per image shares each block's gathering (by input
 * channel) and its panels among the threads, so one image keeps them all busy; a
 * batch of small images shares the images, each thread with its own slot of scratch.
 * Every output is the same chain of operations either way.
 *
 * Other paths, chosen in conv_emit: depthwise (conv_dw.c); 3x3 stride 1 by Winograd's
 * F(2x2, 3x3) (conv_wino.c); small planes by channels (below).  A weight that can be
 * packed is read in panels of MR rows (rows_packed), and a 1x1 stride-1 unpadded conv
 * reads x in place instead of an im2col copy (pointwise).
 *
 * The im2col of blocks of output rows, and its adjoint col2im, serve the gradients too
 * (conv.h, conv_grad.c). */
#include <inttypes.h>
#include <string.h>

#include "conv.h"

Win cgen_window(const Node *n, const Shape *x, const int64_t *kernel) {
  Win w = {.nsp = x->rank - 2, .in = x->d + 2, .k = kernel, .out = n->shape.d + 2};
  w.stride = node_ints(n, A_STRIDES, NULL);
  w.pad = node_ints(n, A_PADS, NULL);
  w.dil = node_ints(n, A_DILATIONS, NULL);
  Shape in = shape_make(w.nsp, w.in), k = shape_make(w.nsp, kernel), out = shape_make(w.nsp, w.out);
  shape_strides(&in, w.in_st);
  shape_strides(&k, w.k_st);
  shape_strides(&out, w.out_st);
  w.in_plane = shape_numel(&in), w.k_plane = shape_numel(&k), w.out_plane = shape_numel(&out);
  return w;
}

/* Whether tap positions of dimension d can leave x: only when that side is padded. */
static bool can_leave(const Win *w, int d) {
  int64_t last = (w->out[d] - 1) * w->stride[d] - w->pad[d] + (w->k[d] - 1) * w->dil[d];
  return w->pad[d] > 0 || last >= w->in[d];
}

int cgen_window_taps(CEmit *ce, const Win *w, int depth) {
  for (int d = 0; d < w->nsp; d++) {
    cgen_line(ce, depth + d, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", d, d, w->k[d], d);
    cgen_line(ce, depth + d + 1, "const int64_t p%d = q%d * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";",
              d, d, w->stride[d], w->pad[d], d, w->dil[d]);
    if (can_leave(w, d))
      cgen_line(ce, depth + d + 1, "if (p%d < 0 || p%d >= %" PRId64 ") continue;", d, d, w->in[d]);
  }
  return depth + w->nsp;
}

Conv conv_of(const CEmit *ce, const Node *n, const Epi *ep, const Shape *x, const Shape *wt,
             const int64_t *out) {
  Conv c = {.n = n, .ep = ep, .t = cgen_ctype(n), .w = cgen_window(n, x, wt->d + 2),
            .groups = node_int(n, A_GROUPS), .cg = wt->d[1], .mr = cgen_tile_mr(ce, n->dtype),
            .nr = cgen_tile_nr(ce, n->dtype)};
  Shape o = shape_make(c.w.nsp, out);
  c.w.out = out;
  shape_strides(&o, c.w.out_st);
  c.w.out_plane = shape_numel(&o);
  c.og = wt->d[0] / c.groups;
  c.depth = c.cg * c.w.k_plane;
  c.q = c.w.out_plane;
  return c;
}

static Conv conv_dims(const CEmit *ce, const Node *n, const Epi *ep) {
  return conv_of(ce, n, ep, &cgen_in(ce, n, 0)->shape, &cgen_in(ce, n, 1)->shape, n->shape.d + 2);
}

/* ---- the tiled product ---- */

/* "p0 >= 0 && p0 < 28 && ..." over the dimensions whose taps can leave x; "" if none. */
static void inside(const Win *w, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int d = 0; d < w->nsp; d++)
    if (can_leave(w, d))
      k += (size_t)snprintf(buf + k, n - k, "%sp%d >= 0 && p%d < %" PRId64, k ? " && " : "", d, d,
                            w->in[d]);
}

/* bp[k][j] = col[k, col0 + j] for j < cols, zero after. */
static void im2col(CEmit *ce, const Conv *c, const char *col0, int64_t cols, int depth) {
  const Win *w = &c->w;
  char cond[512];
  CgenIndex xi, ki;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w->in_st, w->nsp);
  cgen_index_init(&ki, 0), cgen_index_add(&ki, "k", w->k_st, w->nsp);
  inside(w, cond, sizeof cond);
  cgen_line(ce, depth, "for (int64_t jj = 0; jj < %" PRId64 "; jj++) {", cols);
  for (int d = 0; d < w->nsp; d++)
    cgen_line(ce, depth + 1, "const int64_t q%d = (%s + jj) / %" PRId64 " %% %" PRId64 ";", d, col0,
              w->out_st[d], w->out[d]);
  cgen_line(ce, depth + 1, "for (int64_t ci = 0; ci < %" PRId64 "; ci++) {", c->cg);
  int in = depth + 2;
  for (int d = 0; d < w->nsp; d++, in++) {
    cgen_line(ce, in, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", d, d, w->k[d], d);
    cgen_line(ce, in + 1, "const int64_t p%d = q%d * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";", d,
              d, w->stride[d], w->pad[d], d, w->dil[d]);
  }
  const char *kx = cgen_index_str(&ki), *xx = cgen_index_str(&xi);
  if (cond[0])
    cgen_line(ce, in, "bp[(ci * %" PRId64 " + %s) * %d + jj] = %s ? X[ci * %" PRId64 " + %s] : 0;",
              w->k_plane, kx, c->nr, cond, w->in_plane, xx);
  else
    cgen_line(ce, in, "bp[(ci * %" PRId64 " + %s) * %d + jj] = X[ci * %" PRId64 " + %s];", w->k_plane,
              kx, c->nr, w->in_plane, xx);
  cgen_loops_close(ce, w->nsp, depth + 2);
  cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth, "}");
  if (cols < c->nr) {
    cgen_line(ce, depth, "for (int64_t kk = 0; kk < %" PRId64 "; kk++)", c->depth);
    cgen_line(ce, depth + 1, "for (int64_t jj = %" PRId64 "; jj < %d; jj++) bp[kk * %d + jj] = 0;",
              cols, c->nr, c->nr);
  }
}

static void tiled(CEmit *ce, const Conv *c, const char *wt, const char *scratch, int depth) {
  int64_t npf = c->q / c->nr, nrem = c->q % c->nr, ofull = c->og - c->og % c->mr;
  char begin[64], end[96], col0[32], jcol[32];
  snprintf(begin, sizeof begin, "g * %" PRId64, c->og);
  snprintf(end, sizeof end, "g * %" PRId64 " + %" PRId64, c->og, ofull);
  snprintf(jcol, sizeof jcol, "jp * %d", c->nr);
  Rows r = {.begin = begin, .end = end, .rem = c->og % c->mr, .rem_at = c->og % c->mr ? end : NULL};
  Tile t = {.t = c->t, .nr = c->nr, .depth = c->depth, .a = wt, .a_rs = c->depth, .a_cs = 1,
            .panel = "bp", .a_pack = c->a_pack};
  cgen_line(ce, depth, "%s *restrict bp = %s; /* one panel of im2col(x): [K][NR] */", c->t, scratch);
  if (npf) {
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp++) {", npf);
    im2col(ce, c, jcol, c->nr, depth + 1);
    t.col0 = jcol, t.nstore = c->nr;
    tile_rows(ce, &t, &r, c->ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (nrem) {
    snprintf(col0, sizeof col0, "%" PRId64, npf * c->nr);
    im2col(ce, c, col0, nrem, depth);
    t.col0 = col0, t.nstore = (int)nrem;
    tile_rows(ce, &t, &r, c->ep, depth);
  }
}

/* ---- the tiled product over blocks of whole output rows ---- */

/* Blocks of output rows (conv.h): the im2col of a block is [K][cols] with cols rounded
 * up to whole panels, and each of its rows is a few contiguous runs of x (stride 1)
 * with zeros where the taps fall in the padding, so it is gathered a run at a time
 * instead of an element at a time. */
int64_t conv_round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* The bytes of an im2col block of `rows` outer positions. */
static int64_t block_bytes(const Conv *c, const Block *b, int64_t rows) {
  return c->depth * dtype_size(c->n->dtype) * conv_round_up(rows * b->w, c->nr);
}

/* As many rows as fit CONV_BLOCK_BYTES, and at least enough for four panels (a small
 * plane in few blocks wastes less of its last panels); none when one row alone
 * exceeds CONV_ROW_MAX_BYTES. */
static Block block_of(const Conv *c) {
  Block b = {.w = c->w.out[c->w.nsp - 1]};
  b.outer = b.w ? c->q / b.w : 0;
  if (!b.outer || block_bytes(c, &b, 1) > CONV_ROW_MAX_BYTES) return b;
  int64_t least = (4 * c->nr + b.w - 1) / b.w;
  b.rows = least < b.outer ? least : b.outer;
  while (b.rows < b.outer && block_bytes(c, &b, b.rows + 1) <= CONV_BLOCK_BYTES) b.rows++;
  while (b.rows > 1 && block_bytes(c, &b, b.rows) > CONV_ROW_MAX_BYTES) b.rows--;
  return b;
}

/* The input coordinates of the outer dimensions (p<d>) at outer position `ob + o`, and
 * whether all of them are inside x; returns the condition ("" when none can leave). */
static void outer_coords(CEmit *ce, const Conv *c, const Block *b, int depth, char *cond, size_t n) {
  const Win *w = &c->w;
  size_t k = 0;
  cond[0] = 0;
  for (int d = 0; d < w->nsp - 1; d++) {
    cgen_line(ce, depth, "const int64_t p%d = (ob + o) / %" PRId64 " %% %" PRId64 " * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";",
              d, w->out_st[d] / b->w, w->out[d], w->stride[d], w->pad[d], d, w->dil[d]);
    if (can_leave(w, d))
      k += (size_t)snprintf(cond + k, n - k, "%sp%d >= 0 && p%d < %" PRId64, k ? " && " : "", d, d, w->in[d]);
  }
}

/* Columns [lo, hi) of the last dimension whose tap kL stays inside x. */
static void last_range(CEmit *ce, const Conv *c, int depth) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t s = w->stride[L], wo = w->out[L];
  cgen_line(ce, depth, "const int64_t lo_n = %" PRId64 " - k%d * %" PRId64 ", hi_n = %" PRId64 " - k%d * %" PRId64 ";",
            w->pad[L], L, w->dil[L], w->in[L] + w->pad[L], L, w->dil[L]);
  cgen_line(ce, depth, "const int64_t lo0 = lo_n > 0 ? (lo_n + %" PRId64 ") / %" PRId64 " : 0, hi0 = hi_n > 0 ? (hi_n + %" PRId64 ") / %" PRId64 " : 0;",
            s - 1, s, s - 1, s);
  cgen_line(ce, depth, "const int64_t lo = lo0 < %" PRId64 " ? lo0 : %" PRId64 ";", wo, wo);
  cgen_line(ce, depth, "const int64_t hi = hi0 < lo ? lo : hi0 < %" PRId64 " ? hi0 : %" PRId64 ";", wo, wo);
}

/* The same range for a tap kL known here. */
static void last_range_of(const Conv *c, int64_t kl, int64_t *lo, int64_t *hi) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  int64_t s = w->stride[L], wo = w->out[L];
  int64_t lo_n = w->pad[L] - kl * w->dil[L], hi_n = w->in[L] + w->pad[L] - kl * w->dil[L];
  int64_t lo0 = lo_n > 0 ? (lo_n + s - 1) / s : 0, hi0 = hi_n > 0 ? (hi_n + s - 1) / s : 0;
  *lo = lo0 < wo ? lo0 : wo;
  *hi = hi0 < *lo ? *lo : hi0 < wo ? hi0 : wo;
}

/* Taps of the last dimension up to this many are written out one by one for the
 * im2col, so that each run's bounds are constants: short runs then copy inline instead
 * of through a call to memcpy.  (col2im's runs are additions, never a call; they keep
 * the loop, which compilers vectorize better there.) */
#define RUNS_UNROLL 8

/* Columns [lo, hi) of tap kL's runs: known here (fixed), or the generated code's lo and
 * hi. */
typedef struct Run {
  bool fixed;
  int64_t lo, hi;
} Run;

/* "for (int64_t j = a; j < b; j++) body;", a and b constants or the run's bounds
 * (RUN_LO, RUN_HI); left out when the range is known to be empty. */
enum { RUN_LO = -1, RUN_HI = -2 };

static void run_loop(CEmit *ce, int depth, const Run *r, int64_t a, int64_t b, const char *body) {
  int64_t v[2] = {a, b};
  char s[2][32];
  for (int i = 0; i < 2; i++) {
    if (r->fixed && v[i] < 0) v[i] = v[i] == RUN_LO ? r->lo : r->hi;
    if (v[i] < 0) snprintf(s[i], sizeof s[i], "%s", v[i] == RUN_LO ? "lo" : "hi");
    else snprintf(s[i], sizeof s[i], "%" PRId64, v[i]);
  }
  if (v[0] >= 0 && v[1] >= 0 && v[0] >= v[1]) return;
  cgen_line(ce, depth, "for (int64_t j = %s; j < %s; j++) %s;", s[0], s[1], body);
}

/* The run [lo, hi) of a stride-1 gather as a memcpy (inline when its length is a
 * constant).  gcc 12.2 at -O3 with AVX2 or AVX-512 vectorises the equivalent loop,
 * `crow[j] = X[base + j]` between zero-filling loops, wrongly: MobileNetV2 and
 * ShuffleNetV2 gave wrong outputs.  tests/kernels run at -O3 too. */
static void run_copy(CEmit *ce, int depth, const Run *r, const char *t) {
  if (r->fixed && r->lo >= r->hi) return;
  if (r->fixed)
    cgen_line(ce, depth, "memcpy(crow + %" PRId64 ", X + base + %" PRId64 ", %" PRId64 " * sizeof(%s));", r->lo,
              r->lo, r->hi - r->lo, t);
  else cgen_line(ce, depth, "if (hi > lo) memcpy(crow + lo, X + base + lo, (size_t)(hi - lo) * sizeof(%s));", t);
}

/* What the block's `rows` outer positions do with their runs of tap kL: gather them
 * into col (zeros around them and for rows outside x), or add them back into x. */
static void rows_of_tap(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth,
                        bool adjoint, const Run *r) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  char cond[512], body[64];
  CgenIndex ki, xi;
  cgen_index_init(&ki, 0), cgen_index_add(&ki, "k", w->k_st, w->nsp);
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w->in_st, L);
  const char *kx = cgen_index_str(&ki);
  cgen_line(ce, depth, "for (int64_t o = 0; o < %" PRId64 "; o++) {", rows);
  outer_coords(ce, c, b, depth + 1, cond, sizeof cond);
  cgen_line(ce, depth + 1, "%s%s *restrict crow = col + (ci * %" PRId64 " + %s) * %" PRId64 " + o * %" PRId64 ";",
            adjoint ? "const " : "", c->t, w->k_plane, kx, cols, b->w);
  cgen_line(ce, depth + 1, "const int64_t base = ci * %" PRId64 " + %s + k%d * %" PRId64 " - %" PRId64 ";", w->in_plane,
            cgen_index_str(&xi), L, w->dil[L], w->pad[L]);
  int in = depth + 1 + (cond[0] != 0);
  if (cond[0]) cgen_line(ce, depth + 1, "if (%s) {", cond);
  if (adjoint) {
    snprintf(body, sizeof body, "X[base + j * %" PRId64 "] += crow[j]", w->stride[L]);
    run_loop(ce, in, r, RUN_LO, RUN_HI, body);
  } else {
    snprintf(body, sizeof body, "crow[j] = X[base + j * %" PRId64 "]", w->stride[L]);
    run_loop(ce, in, r, 0, RUN_LO, "crow[j] = 0");
    if (w->stride[L] == 1) run_copy(ce, in, r, c->t);
    else run_loop(ce, in, r, RUN_LO, RUN_HI, body);
    run_loop(ce, in, r, RUN_HI, b->w, "crow[j] = 0");
  }
  if (cond[0] && !adjoint) {
    cgen_line(ce, depth + 1, "} else {");
    run_loop(ce, in, r, 0, b->w, "crow[j] = 0");
  }
  if (cond[0]) cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth, "}");
}

/* The runs of x that the block's im2col rows read: per channel and tap, per outer
 * position of the block, the columns [lo, hi) inside x.  Gathers them into col
 * (with the zeros of the padding around them), or, for the adjoint, adds them back. */
static void row_runs(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth,
                     bool adjoint) {
  const Win *w = &c->w;
  int L = w->nsp - 1;
  if (!adjoint && cols > rows * b->w)
    cgen_line(ce, depth, "for (int64_t kk = 0; kk < %" PRId64 "; kk++) for (int64_t jj = %" PRId64 "; jj < %" PRId64 "; jj++) col[kk * %" PRId64 " + jj] = 0;",
              c->depth, rows * b->w, cols, cols);
  if (c->inside && !adjoint && c->cg > 1) cgen_par_for(ce, depth);
  cgen_line(ce, depth, "for (int64_t ci = 0; ci < %" PRId64 "; ci++) {", c->cg);
  int in = depth + 1;
  for (int d = 0; d < L; d++, in++)
    cgen_line(ce, in, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", d, d, w->k[d], d);
  bool unroll = !adjoint && w->k[L] <= RUNS_UNROLL;
  if (!unroll) {
    cgen_line(ce, in, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", L, L, w->k[L], L);
    last_range(ce, c, in + 1);
    rows_of_tap(ce, c, b, rows, cols, in + 1, adjoint, &(Run){.fixed = false});
    cgen_line(ce, in, "}");
  }
  for (int64_t kl = 0; unroll && kl < w->k[L]; kl++) {
    Run r = {.fixed = true};
    last_range_of(c, kl, &r.lo, &r.hi);
    cgen_line(ce, in, "{");
    cgen_line(ce, in + 1, "const int64_t k%d = %" PRId64 ";", L, kl);
    rows_of_tap(ce, c, b, rows, cols, in + 1, adjoint, &r);
    cgen_line(ce, in, "}");
  }
  cgen_loops_close(ce, L, depth + 1);
  cgen_line(ce, depth, "}");
}

void conv_im2col_rows(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth) {
  row_runs(ce, c, b, rows, cols, depth, false);
}

void conv_col2im_rows(CEmit *ce, const Conv *c, const Block *b, int64_t rows, int64_t cols, int depth) {
  row_runs(ce, c, b, rows, cols, depth, true);
}

/* One block: its im2col, then every panel of it under the register tiles. */
/* A 1x1 convolution with stride 1 and no padding: its im2col is x itself, col[k][q] =
 * X[k * Q + q], so the products read x in place instead of a copy. */
static bool pointwise(const Conv *c) {
  const Win *w = &c->w;
  for (int d = 0; d < w->nsp; d++)
    if (w->k[d] != 1 || w->stride[d] != 1 || w->dil[d] != 1 || w->pad[d] || w->pad[w->nsp + d] ||
        w->in[d] != w->out[d])
      return false;
  return true;
}

/* The block's last, partial panel of a pointwise conv, copied with zeros after it:
 * col[k][j] = X[k * Q + first + j] for j < n. */
static void pointwise_last_panel(CEmit *ce, const Conv *c, const char *first, int64_t n, int depth) {
  cgen_line(ce, depth, "for (int64_t kk = 0; kk < %" PRId64 "; kk++) {", c->depth);
  cgen_line(ce, depth + 1, "memcpy(col + kk * %d, X + kk * %" PRId64 " + %s, %" PRId64 " * sizeof(%s));", c->nr, c->q,
            first, n, c->t);
  cgen_line(ce, depth + 1, "for (int64_t jj = %" PRId64 "; jj < %d; jj++) col[kk * %d + jj] = 0;", n, c->nr, c->nr);
  cgen_line(ce, depth, "}");
}

/* Panels per chunk of a block (0: no chunks): each row tile runs over a chunk's panels
 * before the next row tile starts, so an output row is written in runs of the chunk's
 * columns and the chunk (CONV_CHUNK_BYTES of x or im2col) is read again from L2 by
 * every row tile.  Panel by panel, every row tile wrote NR columns of each of its MR
 * rows per panel: with 96 output channels 96 short runs in flight, which at batch 32
 * (outputs to memory) made MobileNetV2's 16 -> 96 expand 1.5x its batch-1 time per
 * image.  With threads sharing the panels, a multiple of 4 chunks. */
static int64_t panel_chunk(const Conv *c, int64_t npf) {
  int64_t per = c->depth * c->nr * dtype_size(c->n->dtype), pc = per ? CONV_CHUNK_BYTES / per : 0;
  if (pc < 2 || c->og < 2 * c->mr || npf < 2) return 0;
  int64_t nch = (npf + pc - 1) / pc;
  if (c->inside) nch = (nch + 3) / 4 * 4;
  return (npf + nch - 1) / nch;
}

static void block_product(CEmit *ce, const Conv *c, const Block *b, int64_t rows, const Rows *r,
                          const char *wt, int depth) {
  int64_t cols = conv_round_up(rows * b->w, c->nr), npf = rows * b->w / c->nr, nrem = rows * b->w % c->nr;
  char panel[64], col0[96];
  bool pw = pointwise(c);
  Tile t = {.t = c->t, .nr = c->nr, .depth = c->depth, .a = wt, .a_rs = c->depth, .a_cs = 1,
            .panel = panel, .pstride = pw ? c->q : cols, .col0 = col0, .a_pack = c->a_pack};
  if (!pw) conv_im2col_rows(ce, c, b, rows, cols, depth);
  int64_t pc = panel_chunk(c, npf);
  if (npf && pc) {
    if (pw) snprintf(panel, sizeof panel, "X + ob * %" PRId64 " + jp * %d", b->w, c->nr);
    else snprintf(panel, sizeof panel, "col + jp * %d", c->nr);
    snprintf(col0, sizeof col0, "ob * %" PRId64 " + jp * %d", b->w, c->nr);
    t.nstore = c->nr;
    int64_t nch = (npf + pc - 1) / pc;
    if (c->inside && nch > 1) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jc = 0; jc < %" PRId64 "; jc++) {", nch);
    cgen_line(ce, depth + 1, "const int64_t jp0 = jc * %" PRId64 ", jp1 = jp0 + %" PRId64 " < %" PRId64 " ? jp0 + %" PRId64 " : %" PRId64 ";",
              pc, pc, npf, pc, npf);
    tile_rows_panels(ce, &t, r, c->ep, depth + 1, "jp0", "jp1");
    cgen_line(ce, depth, "}");
  } else if (npf) {
    if (c->inside && npf > 1) cgen_par_for(ce, depth);
    cgen_line(ce, depth, "for (int64_t jp = 0; jp < %" PRId64 "; jp++) {", npf);
    if (pw) snprintf(panel, sizeof panel, "X + ob * %" PRId64 " + jp * %d", b->w, c->nr);
    else snprintf(panel, sizeof panel, "col + jp * %d", c->nr);
    snprintf(col0, sizeof col0, "ob * %" PRId64 " + jp * %d", b->w, c->nr);
    t.nstore = c->nr;
    tile_rows(ce, &t, r, c->ep, depth + 1);
    cgen_line(ce, depth, "}");
  }
  if (nrem) {
    snprintf(panel, sizeof panel, "col + %" PRId64, pw ? 0 : npf * c->nr);
    snprintf(col0, sizeof col0, "ob * %" PRId64 " + %" PRId64, b->w, npf * c->nr);
    if (pw) pointwise_last_panel(ce, c, col0, nrem, depth), t.pstride = c->nr;
    t.nstore = (int)nrem;
    tile_rows(ce, &t, r, c->ep, depth);
  }
}

static void tiled_rows(CEmit *ce, const Conv *c, const Block *b, const char *wt, const char *scratch, int depth) {
  int64_t full = b->outer / b->rows, rest = b->outer % b->rows, ofull = c->og - c->og % c->mr;
  char begin[64], end[96], at[32];
  snprintf(begin, sizeof begin, "g * %" PRId64, c->og);
  snprintf(end, sizeof end, "g * %" PRId64 " + %" PRId64, c->og, ofull);
  Rows r = {.begin = begin, .end = end, .rem = c->og % c->mr, .rem_at = c->og % c->mr ? end : NULL};
  cgen_line(ce, depth, "%s *restrict col = %s; /* im2col(x) of a block of output rows: [K][cols] */",
            c->t, scratch);
  if (pointwise(c)) cgen_line(ce, depth, "(void)col; /* x is read in place but for a block's last panel */");
  cgen_line(ce, depth, "for (int64_t ob = 0; ob < %" PRId64 "; ob += %" PRId64 ") {", full * b->rows, b->rows);
  block_product(ce, c, b, b->rows, &r, wt, depth + 1);
  cgen_line(ce, depth, "}");
  if (!rest) return;
  snprintf(at, sizeof at, "%" PRId64, full * b->rows);
  cgen_line(ce, depth, "{");
  cgen_line(ce, depth + 1, "const int64_t ob = %s;", at);
  block_product(ce, c, b, rest, &r, wt, depth + 1);
  cgen_line(ce, depth, "}");
}

/* ---- by channels: output positions as rows, output channels as panels ----
 *
 * A small plane (14x14, 7x7) fills its last panel of positions partly: 49 positions
 * take two panels of 32, 64 columns computed for 49.  The transposed product
 * Y^T[q, o] = sum_k col^T[q, k] W^T[k, o] has the output channels along the panels
 * (whole panels for the usual 64..1024 channels) and the positions along the rows,
 * whose leftovers the few-rows tiles take: its panels are the weight packed once
 * (pack.c, as a matmul's B with trans_b), its A is the im2col of the whole plane read
 * down its columns, and each sum goes to Y[o, q] through the same epilogue. */

/* Whole-plane im2col, f32, one group, at least 5% of the columns wasted by position
 * panels and fewer by channel panels. */
static bool by_channels_shape(const Conv *c) {
  if (strcmp(c->t, "float") || c->groups != 1 || !c->depth || !c->q || !c->og) return false;
  if (c->depth * c->q * 4 > CONV_ROW_MAX_BYTES) return false;
  double by_pos = (double)conv_round_up(c->q, c->nr) * (double)c->og;
  double by_ch = (double)conv_round_up(c->og, c->nr) * (double)c->q;
  return by_pos > 1.05 * by_ch;
}

bool conv_by_channels_shape(const CEmit *ce, const Node *n) {
  if (ce->device) return false; /* the CUDA backend has its own convolutions (and no CPU target) */
  if (conv_wino_shape(ce, n)) return false;
  Epi ep = epi_plain(n);
  Conv c = conv_dims(ce, n, &ep);
  return by_channels_shape(&c) && cgen_tile_vector(ce, n->dtype) && shape_numel(&n->shape) > 0;
}

static bool by_channels(const CEmit *ce, const Conv *c) {
  return conv_by_channels_shape(ce, c->n) && pack_b_wanted(ce, c->n);
}

/* ---- by positions with the weight in panels of MR rows ----
 *
 * The tiled paths above read W's MR rows in place: MR streams of broadcasts, each
 * `depth` values from the next.  Packed once as [O / MR][K][MR] (pack.c, MR-wide
 * panels of W read as [O, K], the last zero-padded), a tile's broadcasts come from one
 * contiguous stream instead, as the by-channels path's do.  One group, or groups whose
 * channels are whole panels. */
bool conv_rows_packed_shape(const CEmit *ce, const Node *n) {
  if (ce->device || conv_by_channels_shape(ce, n) || conv_wino_shape(ce, n) || !cgen_tile_vector(ce, n->dtype))
    return false;
  Epi ep = epi_plain(n);
  Conv c = conv_dims(ce, n, &ep);
  if (strcmp(c.t, "float") || !c.depth || !c.og || conv_dw_wanted(&c) || shape_numel(&n->shape) <= 0) return false;
  return c.groups == 1 || c.og % c.mr == 0;
}

static bool rows_packed(const CEmit *ce, const Conv *c) {
  return conv_rows_packed_shape(ce, c->n) && pack_b_wanted(ce, c->n);
}

static void channels_product(CEmit *ce, const Conv *c, const char *wpk, const char *scratch, int depth) {
  Block b = {.w = c->w.out[c->w.nsp - 1]};
  b.outer = c->q / b.w, b.rows = b.outer;
  if (pointwise(c)) { /* the im2col is x itself */
    cgen_line(ce, depth, "(void)%s;", scratch);
    cgen_line(ce, depth, "const %s *restrict A = X;", c->t);
  } else {
    cgen_line(ce, depth, "%s *restrict col = %s; /* im2col(x) of the whole plane: [K][Q] */", c->t, scratch);
    cgen_line(ce, depth, "{");
    cgen_line(ce, depth + 1, "const int64_t ob = 0;");
    cgen_line(ce, depth + 1, "(void)ob;");
    conv_im2col_rows(ce, c, &b, b.outer, c->q, depth + 1);
    cgen_line(ce, depth, "}");
    cgen_line(ce, depth, "const %s *restrict A = col;", c->t);
  }
  cgen_line(ce, depth, "const %s *restrict B = %s;", c->t, wpk);
  matmul_packed(ce, c->n, c->ep, c->q, c->depth, c->og, 1, c->q, true, depth);
}

/* ---- direct loops ---- */

static void direct(CEmit *ce, const Conv *c, const char *wt, int depth) {
  const Win *w = &c->w;
  Shape q = shape_make(w->nsp, w->out);
  CgenIndex xi, wi, yi;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w->in_st, w->nsp);
  cgen_index_init(&wi, 0), cgen_index_add(&wi, "k", w->k_st, w->nsp);
  cgen_index_init(&yi, 0), cgen_index_add(&yi, "q", w->out_st, w->nsp);
  cgen_line(ce, depth, "for (int64_t o = g * %" PRId64 "; o < (g + 1) * %" PRId64 "; o++) {", c->og, c->og);
  cgen_line(ce, depth + 1, "const %s *wo = %s + o * %" PRId64 ";", c->t, wt, c->depth);
  int in = cgen_loops_open(ce, &q, "q", depth + 1);
  cgen_line(ce, in, "%s acc = 0;", c->t);
  cgen_line(ce, in, "for (int64_t ci = 0; ci < %" PRId64 "; ci++) {", c->cg);
  int inner = cgen_window_taps(ce, w, in + 1);
  cgen_line(ce, inner, "acc += X[ci * %" PRId64 " + %s] * wo[ci * %" PRId64 " + %s];", w->in_plane,
            cgen_index_str(&xi), w->k_plane, cgen_index_str(&wi));
  cgen_loops_close(ce, w->nsp, in + 1);
  cgen_line(ce, in, "}");
  epi_store(ce, c->ep, in, "acc", "o", cgen_index_str(&yi));
  cgen_loops_close(ce, q.rank, depth + 1);
  cgen_line(ce, depth, "}");
}

/* How a conv runs: its blocks, who shares what, and the scratch per thread. */
typedef struct ConvPlan {
  Conv c;
  Block b;
  bool images;        /* threads share the images, a scratch slot each */
  int64_t slot_elems; /* scratch per slot, in elements */
} ConvPlan;

static ConvPlan conv_plan(const CEmit *ce, const Node *n, const Epi *ep) {
  ConvPlan p = {.c = conv_dims(ce, n, ep)};
  if (rows_packed(ce, &p.c)) p.c.a_pack = p.c.mr;
  int64_t batch = cgen_in(ce, n, 0)->shape.d[0];
  double image = 2.0 * (double)(shape_numel(&n->shape) / (batch ? batch : 1)) * (double)p.c.depth;
  p.b = block_of(&p.c);
  p.c.inside = cgen_par_worth(image);
  p.images = !p.c.inside && batch > 1 && cgen_par_worth(image * (double)batch);
  if (p.c.depth) p.slot_elems = p.b.rows ? p.c.depth * conv_round_up(p.b.rows * p.b.w, p.c.nr) : p.c.depth * p.c.nr;
  if (by_channels(ce, &p.c)) p.slot_elems = p.c.depth * p.c.q;
  if (conv_wino_wanted(ce, &p.c)) p.slot_elems = conv_wino_scratch(&p.c, false) / 4;
  return p;
}

int64_t conv_scratch(const CEmit *ce, const Node *n) {
  Epi ep = epi_plain(n);
  ConvPlan p = conv_plan(ce, n, &ep);
  if (!shape_numel(&n->shape)) return 0;
  if (conv_dw_wanted(&p.c)) return conv_dw_scratch(&p.c, cgen_in(ce, n, 0)->shape.d[0]);
  return (p.images ? CGEN_SLOTS : 1) * p.slot_elems * dtype_size(n->dtype);
}

int conv_emit(CEmit *ce, const Node *n, const Epi *ep, const char *x, const char *wt) {
  ConvPlan p = conv_plan(ce, n, ep);
  const Conv *c = &p.c;
  const Node *xn = cgen_in(ce, n, 0);
  char scratch[96];
  cgen_line(ce, 1, "(void)%s, (void)%s;", x, wt);
  if (!shape_numel(&n->shape)) return 0;
  if (conv_dw_wanted(c)) return conv_dw_emit(ce, c, x, wt, xn->shape.d[0], xn->shape.d[1]);
  if (p.images) cgen_par_for_slots(ce, 1);
  cgen_line(ce, 1, "for (int64_t b0 = 0; b0 < %" PRId64 "; b0++)", xn->shape.d[0]);
  cgen_line(ce, 2, "for (int64_t g = 0; g < %" PRId64 "; g++) {", c->groups);
  cgen_line(ce, 3, "const %s *restrict X = %s + (b0 * %" PRId64 " + g * %" PRId64 ") * %" PRId64
                   "; /* the group's channels */",
            c->t, x, xn->shape.d[1], c->cg, c->w.in_plane);
  snprintf(scratch, sizeof scratch, "(%s *)ws%s", c->t, p.images ? " + DLC_SLOT() * " : "");
  if (p.images) snprintf(scratch + strlen(scratch), sizeof scratch - strlen(scratch), "%" PRId64, p.slot_elems);
  char wpk[96];
  snprintf(wpk, sizeof wpk, "%s", wt);
  bool wino = conv_wino_wanted(ce, c);
  if ((wino || by_channels(ce, c) || rows_packed(ce, c)) && !pack_b_at_init(ce, n)) pack_b_name(n, wpk, sizeof wpk);
  if (wino) {
    conv_wino_emit(ce, c, wpk, scratch, 3);
  } else if (by_channels(ce, c)) {
    channels_product(ce, c, wpk, scratch, 3);
  } else if (c->depth && p.b.rows) tiled_rows(ce, c, &p.b, wpk, scratch, 3);
  else if (c->depth) tiled(ce, c, wpk, scratch, 3);
  else direct(ce, c, wt, 3);
  cgen_line(ce, 2, "}");
  return 0;
}

int cgen_conv(CEmit *ce, const Node *n) {
  Epi ep = epi_plain(n);
  return conv_emit(ce, n, &ep, "a0", "a1");
}
