/* pool.c — max and average pooling windows over x [N, C, S..].
 *
 * pool_max ignores padding; pool_avg divides by the in-bounds count, or by the kernel
 * size with count_pad.  A window wholly in padding (possible with dilation) gives
 * -inf for max and 0 for an in-bounds average, as in the interpreter. */
#include <inttypes.h>

#include "cgen_c.h"

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
