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
 * results are those of the loop per output, NaNs included. */
#include <inttypes.h>

#include "cgen_c.h"

/* The outputs of a row whose tap k1 lands in x: [lo, hi). */
static void tap_range(const Win *w, int64_t k1, int64_t *lo, int64_t *hi) {
  int64_t s = w->stride[1], off = k1 - w->pad[1], first = off < 0 ? (-off + s - 1) / s : 0;
  int64_t top = w->in[1] - 1 - off, last = top < 0 ? 0 : top / s + 1;
  *lo = first, *hi = last < w->out[1] ? last : w->out[1];
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
  for (int64_t k1 = 0; k1 < w->k[1]; k1++) {
    int64_t lo, hi, off = k1 - w->pad[1];
    tap_range(w, k1, &lo, &hi);
    if (lo >= hi) continue;
    char at[96];
    snprintf(at, sizeof at, "xr[q1 * %" PRId64 " %c %" PRId64 "]", w->stride[1], off < 0 ? '-' : '+', off < 0 ? -off : off);
    cgen_line(ce, 4, "for (int64_t q1 = %" PRId64 "; q1 < %" PRId64 "; q1++)", lo, hi);
    if (is_max) cgen_line(ce, 5, "acc[q1] = acc[q1] < %s ? %s : acc[q1];", at, at);
    else cgen_line(ce, 5, "acc[q1] += %s;", at);
  }
  cgen_line(ce, 3, "}");
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
