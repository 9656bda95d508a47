/* conv.c — N-d convolution and pooling windows, one thread per result element.
 *
 * The thread unravels its flat index into batch, channel and output position q<d>,
 * then walks the window's taps with the C backend's own tap loops (cgen_window_taps:
 * p<d> from q<d>, taps in the padding skipped), so both backends share the window
 * arithmetic and sum in the same order.  Conv accumulates in the result's type, as
 * the C backend does; an epilogue (bias, activation) is applied before the store. */
#include <inttypes.h>

#include "cuda.h"

/* const IT q<d> = position d of result element i inside its plane. */
static void positions(CuEmit *ce, const Win *w, int depth) {
  for (int d = 0; d < w->nsp; d++) {
    char div[40] = "", mod[40] = "";
    if (w->out_st[d] != 1) snprintf(div, sizeof div, " / %" PRId64, w->out_st[d]);
    snprintf(mod, sizeof mod, " %% %" PRId64, w->out[d]);
    cgen_line(&ce->c, depth, "const %s q%d = i%s%s;", ce->it, d, div, mod);
  }
}

int cuda_conv(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *x = cgen_in(&ce->c, n, 0), *wt = cgen_in(&ce->c, n, 1);
  Win w = cgen_window(n, &x->shape, wt->shape.d + 2);
  int64_t groups = node_int(n, A_GROUPS), cg = wt->shape.d[1], oc = wt->shape.d[0], og = oc / groups;
  CgenIndex xi, wi;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w.in_st, w.nsp);
  cgen_index_init(&wi, 0), cgen_index_add(&wi, "k", w.k_st, w.nsp);
  const char *t = cgen_ctype(n);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s b = i / %" PRId64 ", o = i / %" PRId64 " %% %" PRId64 ";", ce->it,
            oc * w.out_plane, w.out_plane, oc);
  positions(ce, &w, depth);
  cgen_line(&ce->c, depth, "const %s *xg = buf%d + (b * %" PRId64 " + o / %" PRId64 " * %" PRId64 ") * %" PRId64
                           "; /* the group's channels */",
            t, x->id, x->shape.d[1], og, cg, w.in_plane);
  cgen_line(&ce->c, depth, "const %s *wo = buf%d + o * %" PRId64 ";", t, wt->id, cg * w.k_plane);
  cgen_line(&ce->c, depth, "%s acc = 0;", t);
  cgen_line(&ce->c, depth, "for (int64_t c = 0; c < %" PRId64 "; c++) {", cg);
  int inner = cgen_window_taps(&ce->c, &w, depth + 1);
  cgen_line(&ce->c, inner, "acc += xg[c * %" PRId64 " + %s] * wo[c * %" PRId64 " + %s];", w.in_plane,
            cgen_index_str(&xi), w.k_plane, cgen_index_str(&wi));
  cgen_loops_close(&ce->c, w.nsp, depth + 1);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "const %s v%d = acc;", t, n->id);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

int cuda_pool(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *x = cgen_in(&ce->c, n, 0);
  Win w = cgen_window(n, &x->shape, node_ints(n, A_KERNEL, NULL));
  bool is_max = n->op == OP_POOL_MAX, count_pad = !is_max && node_int(n, A_COUNT_PAD);
  CgenIndex xi;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w.in_st, w.nsp);
  const char *t = cgen_ctype(n);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s *xc = buf%d + i / %" PRId64 " * %" PRId64 ";", t, x->id, w.out_plane,
            w.in_plane);
  positions(ce, &w, depth);
  cgen_line(&ce->c, depth, "%s acc = %s;", t, is_max ? "-INFINITY" : "0");
  if (!is_max && !count_pad) cgen_line(&ce->c, depth, "int64_t count = 0;");
  int inner = cgen_window_taps(&ce->c, &w, depth);
  const char *at = cgen_index_str(&xi);
  if (is_max) cgen_line(&ce->c, inner, "acc = acc < xc[%s] ? xc[%s] : acc;", at, at);
  else cgen_line(&ce->c, inner, "acc += xc[%s];%s", at, count_pad ? "" : " count++;");
  cgen_loops_close(&ce->c, w.nsp, depth);
  if (is_max) cgen_line(&ce->c, depth, "const %s v%d = acc;", t, n->id);
  else if (count_pad) cgen_line(&ce->c, depth, "const %s v%d = acc / %" PRId64 ";", t, n->id, w.k_plane);
  else cgen_line(&ce->c, depth, "const %s v%d = count ? acc / (%s)count : acc;", t, n->id, t);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}
