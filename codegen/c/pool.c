/* pool.c — max and average pooling windows over x [N, C, S..].
 *
 * pool_max ignores padding; pool_avg divides by the in-bounds count, or by the kernel
 * size with count_pad.  A window wholly in padding (possible with dilation) gives
 * -inf for max and 0 for an in-bounds average, as in the interpreter.
 *
 * A 2-D float window without dilation runs a row of outputs at a time (pool_rows): for
 * each tap (k0, k1), one loop over the outputs of the row whose tap lies in x, with
 * bounds known here, so a padded window (ResNet's 3x3/2 max pool) has no test per tap
 * and the loop vectorises.  Each output still folds its taps in (k0, k1) order: the
 * results are those of the loop per output, NaNs included.
 *
 * A max window of up to MAX_SEP_TAPS rows and columns goes further (pool_max_sep):
 * each input row's horizontal maxima (the window's k1 taps of that row) are computed
 * once, all its taps in one loop where every tap lies in x, and kept in a ring of k0
 * rows, so a row that two windows share (a stride below the kernel) is not read
 * twice; each output is then the max of its k0 rows' maxima, in one loop that writes y
 * (a row in the padding reads a row of -inf, which no max takes).  Max with "a later
 * tap wins only when greater" is the same whichever way the taps are grouped, when
 * each group starts at -inf (NaNs are skipped, and of equal values the first in
 * (k0, k1) order is kept), so the results are still bit for bit the loop per output's.
 * It runs where it was measured to win (sep_pays): a window that reaches into the
 * padding (ResNet's 3x3/2, 64x112x112: 316-332 -> 156-165 us in the generated code built
 * for AVX-512; tools/bench/micro_pool_rows.c: 326 -> 113, and 236 -> 106 for AVX2)
 * and rows shorter than one vector (SqueezeNet's 256x27x27: 57-72 -> 43-48).
 *
 * In the rows, each tap's loop is split at the columns every tap shares, so that each
 * tap's vector loop reads back exactly the elements of acc the last one stored (a loop
 * starting one column later, for the padding, read across two earlier stores, which
 * stalled the store-to-load forwarding: ResNet's pool ran 316 us there against 118 for
 * SqueezeNet's unpadded one of the same size; now 167-216). */
#include <inttypes.h>

#include "cgen_c.h"

/* The outputs of a row whose tap k1 lands in x: [lo, hi). */
static void tap_range(const Win *w, int64_t k1, int64_t *lo, int64_t *hi) {
  int64_t s = w->stride[1], off = k1 - w->pad[1], first = off < 0 ? (-off + s - 1) / s : 0;
  int64_t top = w->in[1] - 1 - off, last = top < 0 ? 0 : top / s + 1;
  *lo = first, *hi = last < w->out[1] ? last : w->out[1];
}

/* The columns where every tap of a row lies in x: [lo, hi), empty when none does. */
static void interior(const Win *w, int64_t *lo, int64_t *hi) {
  *lo = 0, *hi = w->out[1];
  for (int64_t k1 = 0; k1 < w->k[1]; k1++) {
    int64_t a, b;
    tap_range(w, k1, &a, &b);
    if (a > *lo) *lo = a;
    if (b < *hi) *hi = b;
  }
  if (*hi < *lo) *hi = *lo;
}

static bool rows_pay(const Node *n, const Win *w) {
  return w->nsp == 2 && w->dil[0] == 1 && w->dil[1] == 1 && (n->dtype == DT_F32 || n->dtype == DT_F64) &&
         w->out[1] * 8 <= 16384;
}

/* The tap loops of one output row q0 into acc[], the row's outputs. */
static void row_taps(CEmit *ce, const Node *n, const Win *w, bool is_max, bool count_pad) {
  cgen_line(ce, 3, "for (int64_t k0 = 0; k0 < %" PRId64 "; k0++) {", w->k[0]);
  cgen_line(ce, 4, "const int64_t p0 = q0 * %" PRId64 " - %" PRId64 " + k0;", w->stride[0], w->pad[0]);
  cgen_line(ce, 4, "if (p0 < 0 || p0 >= %" PRId64 ") continue;", w->in[0]);
  if (!is_max && !count_pad) cgen_line(ce, 4, "n0++;");
  cgen_line(ce, 4, "const %s *xr = xc + p0 * %" PRId64 ";", cgen_ctype(n), w->in[1]);
  int64_t in_lo, in_hi;
  interior(w, &in_lo, &in_hi);
  for (int64_t k1 = 0; k1 < w->k[1]; k1++) {
    int64_t lo, hi, off = k1 - w->pad[1];
    tap_range(w, k1, &lo, &hi);
    if (lo >= hi) continue;
    char at[96];
    snprintf(at, sizeof at, "xr[q1 * %" PRId64 " %c %" PRId64 "]", w->stride[1], off < 0 ? '-' : '+', off < 0 ? -off : off);
    /* the columns every tap shares in one loop, the edges apart: each tap's vector
     * loop then covers the same elements of acc as the last tap's, whose stores it reads */
    int64_t part[3][2] = {{lo, in_lo < hi ? in_lo : hi}, {in_lo > lo ? in_lo : lo, in_hi < hi ? in_hi : hi},
                          {in_hi > lo ? in_hi : lo, hi}};
    for (int e = 0; e < 3; e++) {
      if (part[e][0] >= part[e][1]) continue;
      cgen_line(ce, 4, "for (int64_t q1 = %" PRId64 "; q1 < %" PRId64 "; q1++)", part[e][0], part[e][1]);
      if (is_max) cgen_line(ce, 5, "acc[q1] = acc[q1] < %s ? %s : acc[q1];", at, at);
      else cgen_line(ce, 5, "acc[q1] += %s;", at);
    }
  }
  cgen_line(ce, 3, "}");
}

enum { MAX_SEP_TAPS = 16 };

/* Measured (docs/PERFORMANCE.md): the row maxima win where some column's window
 * reaches into the padding (ResNet's 3x3/2: 316-332 -> 156-165 us, the rows 186-216) and
 * where a row is shorter than a vector (SqueezeNet's 13 columns: 57-73 -> 32-46); with
 * rows of 27, unpadded, gcc's AVX-512 loops did worse than the rows' (59-74 against
 * 87-107), and with 55 the two were even. */
static bool sep_pays(const CEmit *ce, const Node *n, const Win *w) {
  int64_t lo, hi, lanes = n->dtype == DT_F64 ? ce->cpu->vw / 2 : ce->cpu->vw; /* a vector's (rows_pay: f32, f64) */
  interior(w, &lo, &hi);
  return n->op == OP_POOL_MAX && rows_pay(n, w) && w->k[0] <= MAX_SEP_TAPS && w->k[1] <= MAX_SEP_TAPS &&
         (w->k[0] + 1) * w->out[1] * 8 <= 65536 && (lo > 0 || hi < w->out[1] || w->out[1] < lanes);
}

/* "m = max(m, x[p1])" in the loops' order: a later tap wins only when greater. */
static void max_in(CEmit *ce, int depth, const char *at) {
  cgen_line(ce, depth, "m = m < %s ? %s : m;", at, at);
}

static void pool_max_sep(CEmit *ce, const Node *n, const Win *w) {
  const char *t = cgen_ctype(n);
  int64_t ow = w->out[1], k0 = w->k[0], lo, hi;
  interior(w, &lo, &hi);
  cgen_line(ce, 2, "%s h[%" PRId64 "][%" PRId64 "], ninf[%" PRId64 "];", t, k0, ow, ow);
  cgen_line(ce, 2, "int64_t hrow[%" PRId64 "];", k0);
  cgen_line(ce, 2, "for (int64_t r = 0; r < %" PRId64 "; r++) hrow[r] = -1;", k0);
  cgen_line(ce, 2, "for (int64_t q1 = 0; q1 < %" PRId64 "; q1++) ninf[q1] = -INFINITY;", ow);
  cgen_line(ce, 2, "for (int64_t q0 = 0; q0 < %" PRId64 "; q0++) {", w->out[0]);
  /* the window's rows: their maxima, or -inf for a row in the padding (which no max takes) */
  cgen_line(ce, 3, "const %s *rows[%" PRId64 "];", t, k0);
  cgen_line(ce, 3, "for (int64_t k0 = 0; k0 < %" PRId64 "; k0++) {", k0);
  cgen_line(ce, 4, "const int64_t p0 = q0 * %" PRId64 " - %" PRId64 " + k0;", w->stride[0], w->pad[0]);
  cgen_line(ce, 4, "rows[k0] = ninf;");
  cgen_line(ce, 4, "if (p0 < 0 || p0 >= %" PRId64 ") continue;", w->in[0]);
  cgen_line(ce, 4, "%s *hr = h[p0 %% %" PRId64 "];", t, k0);
  cgen_line(ce, 4, "rows[k0] = hr;");
  cgen_line(ce, 4, "if (hrow[p0 %% %" PRId64 "] != p0) { /* row p0's maxima, once */", k0);
  cgen_line(ce, 5, "const %s *xr = xc + p0 * %" PRId64 ";", t, w->in[1]);
  cgen_line(ce, 5, "hrow[p0 %% %" PRId64 "] = p0;", k0);
  if (lo < hi) {
    cgen_line(ce, 5, "for (int64_t q1 = %" PRId64 "; q1 < %" PRId64 "; q1++) {", lo, hi);
    cgen_line(ce, 6, "%s m = -INFINITY;", t);
    for (int64_t k1 = 0; k1 < w->k[1]; k1++) {
      int64_t off = k1 - w->pad[1];
      char at[96];
      snprintf(at, sizeof at, "xr[q1 * %" PRId64 " %c %" PRId64 "]", w->stride[1], off < 0 ? '-' : '+', off < 0 ? -off : off);
      max_in(ce, 6, at);
    }
    cgen_line(ce, 6, "hr[q1] = m;");
    cgen_line(ce, 5, "}");
  }
  /* the edge columns, [0, lo) and [hi, ow) (all of them when no column has every tap
   * in x): a test per tap */
  int64_t edge[2][2] = {{0, lo < hi ? lo : ow}, {lo < hi ? hi : ow, ow}};
  for (int e = 0; e < 2; e++) {
    if (edge[e][0] >= edge[e][1]) continue;
    cgen_line(ce, 5, "for (int64_t q1 = %" PRId64 "; q1 < %" PRId64 "; q1++) {", edge[e][0], edge[e][1]);
    cgen_line(ce, 6, "%s m = -INFINITY;", t);
    cgen_line(ce, 6, "for (int64_t k1 = 0; k1 < %" PRId64 "; k1++) {", w->k[1]);
    cgen_line(ce, 7, "const int64_t p1 = q1 * %" PRId64 " - %" PRId64 " + k1;", w->stride[1], w->pad[1]);
    cgen_line(ce, 7, "if (p1 >= 0 && p1 < %" PRId64 ") m = m < xr[p1] ? xr[p1] : m;", w->in[1]);
    cgen_line(ce, 6, "}");
    cgen_line(ce, 6, "hr[q1] = m;");
    cgen_line(ce, 5, "}");
  }
  cgen_line(ce, 4, "}");
  cgen_line(ce, 3, "}");
  cgen_line(ce, 3, "for (int64_t q1 = 0; q1 < %" PRId64 "; q1++) {", ow);
  cgen_line(ce, 4, "%s m = -INFINITY;", t);
  for (int64_t r = 0; r < k0; r++) cgen_line(ce, 4, "m = m < rows[%" PRId64 "][q1] ? rows[%" PRId64 "][q1] : m;", r, r);
  cgen_line(ce, 4, "yc[q0 * %" PRId64 " + q1] = m;", ow);
  cgen_line(ce, 3, "}");
  cgen_line(ce, 2, "}");
}

static void pool_rows(CEmit *ce, const Node *n, const Win *w, bool is_max, bool count_pad) {
  const char *t = cgen_ctype(n);
  int64_t ow = w->out[1];
  cgen_line(ce, 2, "for (int64_t q0 = 0; q0 < %" PRId64 "; q0++) {", w->out[0]);
  cgen_line(ce, 3, "%s acc[%" PRId64 "];", t, ow);
  cgen_line(ce, 3, "for (int64_t q1 = 0; q1 < %" PRId64 "; q1++) acc[q1] = %s;", ow, is_max ? "-INFINITY" : "0");
  if (!is_max && !count_pad) cgen_line(ce, 3, "int64_t n0 = 0;");
  row_taps(ce, n, w, is_max, count_pad);
  cgen_line(ce, 3, "for (int64_t q1 = 0; q1 < %" PRId64 "; q1++) {", ow);
  if (is_max) {
    cgen_line(ce, 4, "yc[q0 * %" PRId64 " + q1] = acc[q1];", ow);
  } else if (count_pad) {
    cgen_line(ce, 4, "yc[q0 * %" PRId64 " + q1] = acc[q1] / %" PRId64 ";", ow, w->k_plane);
  } else { /* the taps in x: n0 rows of n1 columns, as the loop per output counts them */
    cgen_line(ce, 4, "int64_t n1 = 0;");
    for (int64_t k1 = 0; k1 < w->k[1]; k1++) {
      int64_t lo, hi;
      tap_range(w, k1, &lo, &hi);
      if (lo < hi) cgen_line(ce, 4, "n1 += q1 >= %" PRId64 " && q1 < %" PRId64 ";", lo, hi);
    }
    cgen_line(ce, 4, "const int64_t count = n0 * n1;");
    cgen_line(ce, 4, "yc[q0 * %" PRId64 " + q1] = count ? acc[q1] / (%s)count : acc[q1];", ow, t);
  }
  cgen_line(ce, 3, "}");
  cgen_line(ce, 2, "}");
}

int cgen_pool(CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0);
  Win w = cgen_window(n, &x->shape, node_ints(n, A_KERNEL, NULL));
  bool is_max = n->op == OP_POOL_MAX;
  bool count_pad = !is_max && node_int(n, A_COUNT_PAD);
  Shape q = shape_make(w.nsp, w.out);
  CgenIndex xi, yi;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w.in_st, w.nsp);
  cgen_index_init(&yi, 0), cgen_index_add(&yi, "q", w.out_st, w.nsp);
  const char *t = cgen_ctype(n);
  /* threads share the (image, channel) planes: each writes its own */
  int64_t planes = x->shape.d[0] * x->shape.d[1];
  if (planes > 1 && cgen_par_elems(shape_numel(&n->shape), CGEN_PAR_COPY + 2.0 * (double)w.k_plane)) cgen_par_for(ce, 1);
  cgen_line(ce, 1, "for (int64_t c = 0; c < %" PRId64 "; c++) {", planes);
  cgen_line(ce, 2, "const %s *xc = a0 + c * %" PRId64 ";", t, w.in_plane);
  cgen_line(ce, 2, "%s *yc = y + c * %" PRId64 ";", t, w.out_plane);
  if (sep_pays(ce, n, &w)) {
    pool_max_sep(ce, n, &w);
    cgen_line(ce, 1, "}");
    return 0;
  }
  if (rows_pay(n, &w)) {
    pool_rows(ce, n, &w, is_max, count_pad);
    cgen_line(ce, 1, "}");
    return 0;
  }
  int depth = cgen_loops_open(ce, &q, "q", 2);
  cgen_line(ce, depth, "%s acc = %s;", t, is_max ? "-INFINITY" : "0");
  if (!is_max && !count_pad) cgen_line(ce, depth, "int64_t count = 0;");
  int inner = cgen_window_taps(ce, &w, depth);
  const char *at = cgen_index_str(&xi);
  if (is_max) cgen_line(ce, inner, "acc = acc < xc[%s] ? xc[%s] : acc;", at, at);
  else cgen_line(ce, inner, "acc += xc[%s];%s", at, count_pad ? "" : " count++;");
  cgen_loops_close(ce, w.nsp, depth);
  if (is_max) cgen_line(ce, depth, "yc[%s] = acc;", cgen_index_str(&yi));
  else if (count_pad) cgen_line(ce, depth, "yc[%s] = acc / %" PRId64 ";", cgen_index_str(&yi), w.k_plane);
  else cgen_line(ce, depth, "yc[%s] = count ? acc / (%s)count : acc;", cgen_index_str(&yi), t);
  cgen_loops_close(ce, q.rank, 2);
  cgen_line(ce, 1, "}");
  return 0;
}
