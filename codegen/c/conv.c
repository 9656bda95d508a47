/* conv.c — N-d convolution: x [N, C, S..] with w [O, C/groups, K..] gives
 * y [N, O, Q..], with strides, zero padding, dilations and groups.
 *
 * Direct loops: per output position, the taps of each input channel of its group.
 * Input position p = q * stride - pad_begin + k * dilation; a dimension whose taps
 * can fall in the padding skips them with a bounds test at its own loop level. */
#include <inttypes.h>

#include "cgen_c.h"

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

int cgen_conv(CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0), *wt = cgen_in(ce, n, 1);
  Win w = cgen_window(n, &x->shape, wt->shape.d + 2);
  int64_t groups = node_int(n, A_GROUPS), cg = wt->shape.d[1], og = wt->shape.d[0] / groups;
  Shape q = shape_make(w.nsp, w.out);
  CgenIndex xi, wi, yi;
  cgen_index_init(&xi, 0), cgen_index_add(&xi, "p", w.in_st, w.nsp);
  cgen_index_init(&wi, 0), cgen_index_add(&wi, "k", w.k_st, w.nsp);
  cgen_index_init(&yi, 0), cgen_index_add(&yi, "q", w.out_st, w.nsp);
  const char *t = cgen_ctype(n);
  cgen_line(ce, 1, "for (int64_t b = 0; b < %" PRId64 "; b++)", x->shape.d[0]);
  cgen_line(ce, 2, "for (int64_t o = 0; o < %" PRId64 "; o++) {", wt->shape.d[0]);
  cgen_line(ce, 3, "const %s *xg = a0 + (b * %" PRId64 " + o / %" PRId64 " * %" PRId64 ") * %" PRId64
                   "; /* the group's channels */",
            t, x->shape.d[1], og, cg, w.in_plane);
  cgen_line(ce, 3, "const %s *wo = a1 + o * %" PRId64 ";", t, cg * w.k_plane);
  cgen_line(ce, 3, "%s *yo = y + (b * %" PRId64 " + o) * %" PRId64 ";", t, wt->shape.d[0],
            w.out_plane);
  int depth = cgen_loops_open(ce, &q, "q", 3);
  cgen_line(ce, depth, "%s acc = 0;", t);
  cgen_line(ce, depth, "for (int64_t c = 0; c < %" PRId64 "; c++) {", cg);
  int inner = cgen_window_taps(ce, &w, depth + 1);
  cgen_line(ce, inner, "acc += xg[c * %" PRId64 " + %s] * wo[c * %" PRId64 " + %s];", w.in_plane,
            cgen_index_str(&xi), w.k_plane, cgen_index_str(&wi));
  cgen_loops_close(ce, w.nsp, depth + 1);
  cgen_line(ce, depth, "}");
  cgen_line(ce, depth, "yo[%s] = acc;", cgen_index_str(&yi));
  cgen_loops_close(ce, q.rank, 3);
  cgen_line(ce, 2, "}");
  return 0;
}
