/* grad_window.c — the adjoints of the windowed ops as plain loops: pool_max_grad and
 * pool_avg_grad, and the direct form of conv_grad_input and conv_grad_weight, which
 * conv_grad.c falls back to when its blocks do not fit on the stack.
 *
 * The mirror of conv.c and pool.c: the result is zeroed, then every output position q
 * of the forward op walks its taps as the forward op did and adds its share where the
 * forward op read. */
#include <inttypes.h>

#include "conv.h"

/* The forward op's window over x, with y's spatial sizes `out` (the gradient's). */
static Win window_of(const Node *n, const Shape *x, const int64_t *kernel, const int64_t *out) {
  Win w = cgen_window(n, x, kernel);
  Shape o = shape_make(w.nsp, out);
  w.out = out;
  shape_strides(&o, w.out_st);
  w.out_plane = shape_numel(&o);
  return w;
}

static void zero(CEmit *ce, const Node *n) {
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", shape_numel(&n->shape));
}

/* Index strings for x (p), w (k) and y (q) inside the taps. */
typedef struct WinIdx {
  CgenIndex x, w, y;
} WinIdx;

static void win_idx(WinIdx *ix, const Win *w) {
  cgen_index_init(&ix->x, 0), cgen_index_add(&ix->x, "p", w->in_st, w->nsp);
  cgen_index_init(&ix->w, 0), cgen_index_add(&ix->w, "k", w->k_st, w->nsp);
  cgen_index_init(&ix->y, 0), cgen_index_add(&ix->y, "q", w->out_st, w->nsp);
}

/* Where conv's three tensors are inside the generated kernel: x, w and y (the conv's
 * result, the gradient gy here), each "a0", "a1" or "y". */
typedef struct ConvArgs {
  const char *x, *w, *gy;
} ConvArgs;

static const char *qual(const char *buf) { return buf[0] == 'y' ? "" : "const "; }

/* Opens b, o, the q loops and c, then the taps; xg (x's channels of o's group), wo
 * (o's weights) and go (o's plane of gy) point into the tensors.  Returns the depth
 * inside the taps; conv_close closes what it opened. */
static int conv_open(CEmit *ce, const Win *w, const Shape *x, const Shape *wt, ConvArgs a,
                     const char *t, int64_t groups) {
  int64_t cg = wt->d[1], og = wt->d[0] / groups;
  cgen_line(ce, 1, "for (int64_t b = 0; b < %" PRId64 "; b++)", x->d[0]);
  cgen_line(ce, 2, "for (int64_t o = 0; o < %" PRId64 "; o++) {", wt->d[0]);
  cgen_line(ce, 3,
            "%s%s *xg = %s + (b * %" PRId64 " + o / %" PRId64 " * %" PRId64 ") * %" PRId64 ";",
            qual(a.x), t, a.x, x->d[1], og, cg, w->in_plane);
  cgen_line(ce, 3, "%s%s *wo = %s + o * %" PRId64 ";", qual(a.w), t, a.w, cg * w->k_plane);
  cgen_line(ce, 3, "%s%s *go = %s + (b * %" PRId64 " + o) * %" PRId64 ";", qual(a.gy), t, a.gy,
            wt->d[0], w->out_plane);
  Shape q = shape_make(w->nsp, w->out);
  int depth = cgen_loops_open(ce, &q, "q", 3);
  cgen_line(ce, depth, "for (int64_t c = 0; c < %" PRId64 "; c++) {", cg);
  return cgen_window_taps(ce, w, depth + 1);
}

static void conv_close(CEmit *ce, const Win *w) {
  int depth = 3 + w->nsp;
  cgen_loops_close(ce, w->nsp, depth + 1);
  cgen_line(ce, depth, "}");
  cgen_loops_close(ce, w->nsp, 3);
  cgen_line(ce, 2, "}");
}

/* gy [N,O,Q..] (a0), w [O,C/g,K..] (a1) -> gx [N,C,S..]. */
int conv_grad_input_direct(CEmit *ce, const Node *n) {
  const Node *gy = cgen_in(ce, n, 0), *wt = cgen_in(ce, n, 1);
  Win w = window_of(n, &n->shape, wt->shape.d + 2, gy->shape.d + 2);
  WinIdx ix;
  win_idx(&ix, &w);
  zero(ce, n);
  int inner = conv_open(ce, &w, &n->shape, &wt->shape, (ConvArgs){"y", "a1", "a0"}, cgen_ctype(n),
                        node_int(n, A_GROUPS));
  cgen_line(ce, inner, "xg[c * %" PRId64 " + %s] += go[%s] * wo[c * %" PRId64 " + %s];", w.in_plane,
            cgen_index_str(&ix.x), cgen_index_str(&ix.y), w.k_plane, cgen_index_str(&ix.w));
  conv_close(ce, &w);
  return 0;
}

/* x [N,C,S..] (a0), gy [N,O,Q..] (a1) -> gw [O,C/g,K..]. */
int conv_grad_weight_direct(CEmit *ce, const Node *n) {
  const Node *x = cgen_in(ce, n, 0), *gy = cgen_in(ce, n, 1);
  Win w = window_of(n, &x->shape, n->shape.d + 2, gy->shape.d + 2);
  WinIdx ix;
  win_idx(&ix, &w);
  zero(ce, n);
  int inner = conv_open(ce, &w, &x->shape, &n->shape, (ConvArgs){"a0", "y", "a1"}, cgen_ctype(n),
                        node_int(n, A_GROUPS));
  cgen_line(ce, inner, "wo[c * %" PRId64 " + %s] += xg[c * %" PRId64 " + %s] * go[%s];", w.k_plane,
            cgen_index_str(&ix.w), w.in_plane, cgen_index_str(&ix.x), cgen_index_str(&ix.y));
  conv_close(ce, &w);
  return 0;
}

/* Opens the plane loop and the q loops of a pool gradient: xc (a plane of x, for max),
 * gc (of gy) and yc (of the result); returns the depth inside the q loops. */
static int pool_open(CEmit *ce, const Node *n, const Win *w, const char *gy, bool with_x) {
  const char *t = cgen_ctype(n);
  cgen_line(ce, 1, "for (int64_t c = 0; c < %" PRId64 "; c++) {", n->shape.d[0] * n->shape.d[1]);
  if (with_x) cgen_line(ce, 2, "const %s *xc = a0 + c * %" PRId64 ";", t, w->in_plane);
  cgen_line(ce, 2, "const %s *gc = %s + c * %" PRId64 ";", t, gy, w->out_plane);
  cgen_line(ce, 2, "%s *yc = y + c * %" PRId64 ";", t, w->in_plane);
  Shape q = shape_make(w->nsp, w->out);
  return cgen_loops_open(ce, &q, "q", 2);
}

static void pool_close(CEmit *ce, const Win *w) {
  cgen_loops_close(ce, w->nsp, 2);
  cgen_line(ce, 1, "}");
}

/* The most taps a window may have for pool_max_grad's unrolled form. */
#define TILED_TAPS 9

/* Whether the windows tile x without overlap (stride = kernel, no dilation, no tap
 * outside x) and are small enough to unroll: each element of x then belongs to at most
 * one window. */
static bool windows_tile(const Win *w) {
  int64_t taps = 1;
  for (int d = 0; d < w->nsp; d++) {
    if (w->stride[d] != w->k[d] || w->dil[d] != 1 || w->pad[d] != 0 || w->out[d] * w->k[d] > w->in[d])
      return false;
    taps *= w->k[d];
  }
  return taps <= TILED_TAPS;
}

/* pool_max_grad over windows that tile x: each window's taps are read into registers,
 * its first maximum found as pool_max's scan finds it, without branches, and every tap
 * written (the gradient or 0), so nothing is scattered and x's elements that no window
 * covers are the only ones zeroed beforehand.  Which tap wins is decided by comparisons
 * alone (no running maximum), so the loop over a row of windows vectorises. */
static int pool_max_grad_tiled(CEmit *ce, const Node *n, const Win *w) {
  const char *t = cgen_ctype(n);
  bool covered = true;
  for (int d = 0; d < w->nsp; d++) covered &= w->out[d] * w->k[d] == w->in[d];
  if (!covered) zero(ce, n);
  int64_t taps = 1, off[TILED_TAPS];
  for (int d = 0; d < w->nsp; d++) taps *= w->k[d];
  for (int64_t i = 0; i < taps; i++) { /* tap i's offset from its window's corner, in x */
    int64_t r = i;
    off[i] = 0;
    for (int d = w->nsp - 1; d >= 0; d--) off[i] += r % w->k[d] * w->in_st[d], r /= w->k[d];
  }
  int depth = pool_open(ce, n, w, "a1", true);
  CgenIndex corner, q;
  cgen_index_init(&corner, 0), cgen_index_init(&q, 0);
  int64_t st[IR_MAX_RANK];
  for (int d = 0; d < w->nsp; d++) st[d] = w->k[d] * w->in_st[d];
  cgen_index_add(&corner, "q", st, w->nsp);
  cgen_index_add(&q, "q", w->out_st, w->nsp);
  cgen_line(ce, depth, "const %s *xw = xc + %s;", t, cgen_index_str(&corner));
  cgen_line(ce, depth, "%s *yw = yc + %s;", t, cgen_index_str(&corner));
  for (int64_t i = 0; i < taps; i++)
    cgen_line(ce, depth, "const %s v%" PRId64 " = xw[%" PRId64 "];", t, i, off[i]);
  cgen_line(ce, depth, "const %s g = 0 + gc[%s]; /* as the scattered form adds it to 0: -0 becomes 0 */", t,
            cgen_index_str(&q));
  /* pool_max's scan keeps the first tap above all before it and -INFINITY (a NaN never
   * wins): tap i wins when it is above -INFINITY, no earlier tap is >= it and no later
   * tap is > it.  Comparisons joined with & vectorise along the rows. */
  for (int64_t i = 0; i < taps; i++) {
    char cond[TILED_TAPS * 24 + 32];
    int len = snprintf(cond, sizeof cond, "(v%" PRId64 " > -INFINITY)", i);
    for (int64_t e = 0; e < taps; e++)
      if (e != i)
        len += snprintf(cond + len, sizeof cond - (size_t)len, " & !(v%" PRId64 " %s v%" PRId64 ")", e,
                        e < i ? ">=" : ">", i);
    cgen_line(ce, depth, "yw[%" PRId64 "] = (%s) ? g : 0;", off[i], cond);
  }
  pool_close(ce, w);
  return 0;
}

/* x [N,C,S..] (a0), gy [N,C,Q..] (a1) -> gx: each window's gradient to its first
 * maximum, found with pool_max's comparison. */
int cgen_pool_max_grad(CEmit *ce, const Node *n) {
  const Node *gy = cgen_in(ce, n, 1);
  Win w = window_of(n, &n->shape, node_ints(n, A_KERNEL, NULL), gy->shape.d + 2);
  if (windows_tile(&w)) return pool_max_grad_tiled(ce, n, &w);
  WinIdx ix;
  win_idx(&ix, &w);
  zero(ce, n);
  int depth = pool_open(ce, n, &w, "a1", true);
  cgen_line(ce, depth, "%s acc = -INFINITY;", cgen_ctype(n));
  cgen_line(ce, depth, "int64_t best = -1;");
  int inner = cgen_window_taps(ce, &w, depth);
  const char *at = cgen_index_str(&ix.x);
  cgen_line(ce, inner, "if (acc < xc[%s]) {", at);
  cgen_line(ce, inner + 1, "acc = xc[%s];", at);
  cgen_line(ce, inner + 1, "best = %s;", at);
  cgen_line(ce, inner, "}");
  cgen_loops_close(ce, w.nsp, depth);
  cgen_line(ce, depth, "if (best >= 0) yc[best] += gc[%s];", cgen_index_str(&ix.y));
  pool_close(ce, &w);
  return 0;
}

/* count: the taps of window q inside x, as the product over dimensions of the taps
 * each one keeps. */
static void in_bounds_count(CEmit *ce, const Win *w, int depth) {
  cgen_line(ce, depth, "int64_t count = 1;");
  for (int d = 0; d < w->nsp; d++) {
    cgen_line(ce, depth, "{");
    cgen_line(ce, depth + 1, "int64_t inside = 0;");
    cgen_line(ce, depth + 1, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", d, d, w->k[d], d);
    cgen_line(ce, depth + 2,
              "const int64_t p%d = q%d * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";", d, d,
              w->stride[d], w->pad[d], d, w->dil[d]);
    cgen_line(ce, depth + 2, "inside += p%d >= 0 && p%d < %" PRId64 ";", d, d, w->in[d]);
    cgen_line(ce, depth + 1, "}");
    cgen_line(ce, depth + 1, "count *= inside;");
    cgen_line(ce, depth, "}");
  }
}

/* gy [N,C,Q..] (a0) -> gx: each window's gradient shared over its taps, divided as
 * pool_avg divided (by the kernel size with count_pad, else by the in-bounds count). */
int cgen_pool_avg_grad(CEmit *ce, const Node *n) {
  const Node *gy = cgen_in(ce, n, 0);
  Win w = window_of(n, &n->shape, node_ints(n, A_KERNEL, NULL), gy->shape.d + 2);
  WinIdx ix;
  win_idx(&ix, &w);
  const char *t = cgen_ctype(n);
  zero(ce, n);
  int depth = pool_open(ce, n, &w, "a0", false);
  if (node_int(n, A_COUNT_PAD)) {
    cgen_line(ce, depth, "const %s share = gc[%s] / %" PRId64 ";", t, cgen_index_str(&ix.y),
              w.k_plane);
  } else {
    in_bounds_count(ce, &w, depth);
    cgen_line(ce, depth, "const %s share = gc[%s] / (%s)(count ? count : 1);", t,
              cgen_index_str(&ix.y), t);
  }
  int inner = cgen_window_taps(ce, &w, depth);
  cgen_line(ce, inner, "yc[%s] += share;", cgen_index_str(&ix.x));
  cgen_loops_close(ce, w.nsp, depth);
  pool_close(ce, &w);
  return 0;
}
