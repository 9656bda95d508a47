/* grad.c — the adjoints of the training step: scatter_add, conv_grad_input,
 * conv_grad_weight, pool_max_grad and pool_avg_grad, each without atomics, so every
 * run gives the same bits.
 *
 * An element of the result gathers what the forward op scattered onto it: for a
 * window op, the thread of input position s walks the taps u and finds the output
 * positions q with q * stride - pad + u * dilation = s (the "transposed taps"); for
 * scatter_add, the thread of row k sums the updates whose index names k, in index
 * order as the C backend does.  conv_grad_weight sums over the batch and the output
 * positions: one block per weight, folded in shared memory. */
#include <inttypes.h>

#include "cuda.h"

/* The forward op's window over x with the gradient's spatial sizes `out`. */
static Win window_of(const Node *n, const Shape *x, const int64_t *kernel, const int64_t *out) {
  Win w = cgen_window(n, x, kernel);
  Shape o = shape_make(w.nsp, out);
  w.out = out;
  shape_strides(&o, w.out_st);
  w.out_plane = shape_numel(&o);
  return w;
}

/* const IT s<d> = input position d of flat index i (within its plane). */
static void in_positions(CuEmit *ce, const Win *w, int depth) {
  for (int d = 0; d < w->nsp; d++)
    cgen_line(&ce->c, depth, "const int64_t s%d = i / %" PRId64 " %% %" PRId64 ";", d, w->in_st[d], w->in[d]);
}

/* Opens one loop per tap dimension u<d> and keeps the output positions q<d> whose
 * window reads s<d> through tap u<d>; returns the depth inside. */
static int transposed_taps(CuEmit *ce, const Win *w, int depth) {
  for (int d = 0; d < w->nsp; d++) {
    int at = depth + d;
    cgen_line(&ce->c, at, "for (int64_t u%d = 0; u%d < %" PRId64 "; u%d++) {", d, d, w->k[d], d);
    cgen_line(&ce->c, at + 1, "const int64_t t%d = s%d + %" PRId64 " - u%d * %" PRId64 ";", d, d, w->pad[d], d,
              w->dil[d]);
    if (w->stride[d] > 1)
      cgen_line(&ce->c, at + 1, "if (t%d < 0 || t%d %% %" PRId64 ") continue;", d, d, w->stride[d]);
    else cgen_line(&ce->c, at + 1, "if (t%d < 0) continue;", d);
    cgen_line(&ce->c, at + 1, "const int64_t q%d = t%d / %" PRId64 ";", d, d, w->stride[d]);
    cgen_line(&ce->c, at + 1, "if (q%d >= %" PRId64 ") continue;", d, w->out[d]);
  }
  return depth + w->nsp;
}

static void index_of(CgenIndex *ix, const char *var, const int64_t *st, int n) {
  cgen_index_init(ix, 0);
  cgen_index_add(ix, var, st, n);
}

int cuda_scatter(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t inner = 1, dim = n->shape.d[ax], nidx = shape_numel(&cgen_in(&ce->c, n, 1)->shape);
  for (int d = ax + 1; d < n->shape.rank; d++) inner *= n->shape.d[d];
  const char *t = cgen_ctype(n);
  bool flt = dtype_is_float(n->dtype);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s o = i / %" PRId64 ", k = i / %" PRId64 " %% %" PRId64 ", e = i %% %" PRId64 ";",
            ce->it, dim * inner, inner, dim, inner);
  cgen_line(&ce->c, depth, "%s v%d = 0;", t, n->id);
  cgen_line(&ce->c, depth, "for (int64_t j = 0; j < %" PRId64 "; j++) {", nidx);
  cgen_line(&ce->c, depth + 1, "int64_t at = (int64_t)buf%d[j];", n->in[1]);
  cgen_line(&ce->c, depth + 1, "if (at < 0) at += %" PRId64 ";", dim);
  cgen_line(&ce->c, depth + 1, "if (at < 0 || at >= %" PRId64 ") *err = 1;", dim);
  cgen_line(&ce->c, depth + 1, "if (at != k) continue;");
  cgen_line(&ce->c, depth + 1, "const %s src = buf%d[(o * %" PRId64 " + j) * %" PRId64 " + e];", t, n->in[0], nidx, inner);
  if (flt) cgen_line(&ce->c, depth + 1, "v%d += src;", n->id);
  else cgen_line(&ce->c, depth + 1, "v%d = (%s)((uint64_t)v%d + (uint64_t)src);", n->id, t, n->id);
  cgen_line(&ce->c, depth, "}");
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

/* gy [N,O,Q..] (in 0), w [O,C/g,K..] (in 1) -> gx [N,C,S..]. */
int cuda_conv_grad_input(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *gy = cgen_in(&ce->c, n, 0), *wt = cgen_in(&ce->c, n, 1);
  Win w = window_of(n, &n->shape, wt->shape.d + 2, gy->shape.d + 2);
  int64_t groups = node_int(n, A_GROUPS), cg = wt->shape.d[1], oc = wt->shape.d[0], og = oc / groups;
  int64_t c_all = n->shape.d[1];
  CgenIndex qi, ui;
  index_of(&qi, "q", w.out_st, w.nsp);
  index_of(&ui, "u", w.k_st, w.nsp);
  const char *t = cgen_ctype(n);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const int64_t b = i / %" PRId64 ", c = i / %" PRId64 " %% %" PRId64 ";",
            c_all * w.in_plane, w.in_plane, c_all);
  in_positions(ce, &w, depth);
  cgen_line(&ce->c, depth, "%s acc = 0;", t);
  cgen_line(&ce->c, depth, "for (int64_t o = c / %" PRId64 " * %" PRId64 "; o < (c / %" PRId64 " + 1) * %" PRId64 "; o++) {",
            cg, og, cg, og);
  cgen_line(&ce->c, depth + 1, "const %s *go = buf%d + (b * %" PRId64 " + o) * %" PRId64 ";", t, gy->id, oc, w.out_plane);
  cgen_line(&ce->c, depth + 1, "const %s *wo = buf%d + (o * %" PRId64 " + c %% %" PRId64 ") * %" PRId64 ";", t, wt->id,
            cg, cg, w.k_plane);
  int inner = transposed_taps(ce, &w, depth + 1);
  cgen_line(&ce->c, inner, "acc += go[%s] * wo[%s];", cgen_index_str(&qi), cgen_index_str(&ui));
  cgen_loops_close(&ce->c, w.nsp, depth + 1);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "const %s v%d = acc;", t, n->id);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

/* x [N,C,S..] (in 0), gy [N,O,Q..] (in 1) -> gw [O,C/g,K..]: one block per weight. */
int cuda_conv_grad_weight(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *x = cgen_in(&ce->c, n, 0), *gy = cgen_in(&ce->c, n, 1);
  Win w = window_of(n, &x->shape, n->shape.d + 2, gy->shape.d + 2);
  int64_t groups = node_int(n, A_GROUPS), cg = n->shape.d[1], oc = n->shape.d[0], og = oc / groups;
  int64_t batch = x->shape.d[0], r = batch * w.out_plane;
  CgenIndex pi;
  index_of(&pi, "p", w.in_st, w.nsp);
  const char *t = cgen_ctype(n), *acc = dtype_is_float(n->dtype) ? "double" : t;
  cgen_line(&ce->c, 1, "__shared__ %s sh[%d];", acc, CUDA_BLOCK);
  int depth = cuda_block_loop(ce, l, "i", shape_numel(&n->shape), CUDA_BLOCK, 1);
  cgen_line(&ce->c, depth, "const int64_t o = i / %" PRId64 ", c = i / %" PRId64 " %% %" PRId64 ";", cg * w.k_plane,
            w.k_plane, cg);
  for (int d = 0; d < w.nsp; d++)
    cgen_line(&ce->c, depth, "const int64_t k%d = i / %" PRId64 " %% %" PRId64 ";", d, w.k_st[d], w.k[d]);
  cgen_line(&ce->c, depth, "%s acc = 0;", acc);
  cgen_line(&ce->c, depth, "for (int64_t r = threadIdx.x; r < %" PRId64 "; r += %d) {", r, CUDA_BLOCK);
  cgen_line(&ce->c, depth + 1, "const int64_t b = r / %" PRId64 ";", w.out_plane);
  for (int d = 0; d < w.nsp; d++) {
    cgen_line(&ce->c, depth + 1, "const int64_t q%d = r / %" PRId64 " %% %" PRId64 ";", d, w.out_st[d], w.out[d]);
    cgen_line(&ce->c, depth + 1, "const int64_t p%d = q%d * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";", d, d,
              w.stride[d], w.pad[d], d, w.dil[d]);
    cgen_line(&ce->c, depth + 1, "if (p%d < 0 || p%d >= %" PRId64 ") continue;", d, d, w.in[d]);
  }
  cgen_line(&ce->c, depth + 1, "acc += buf%d[(b * %" PRId64 " + o / %" PRId64 " * %" PRId64 " + c) * %" PRId64 " + %s] * "
                               "buf%d[(b * %" PRId64 " + o) * %" PRId64 " + r %% %" PRId64 "];",
            x->id, x->shape.d[1], og, cg, w.in_plane, cgen_index_str(&pi), gy->id, oc, w.out_plane, w.out_plane);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "sh[threadIdx.x] = acc;");
  cgen_line(&ce->c, depth, "__syncthreads();");
  cgen_line(&ce->c, depth, "for (int half = %d; half > 0; half /= 2) {", CUDA_BLOCK / 2);
  cgen_line(&ce->c, depth + 1, "if (threadIdx.x < half) sh[threadIdx.x] = acc = acc + sh[threadIdx.x + half];");
  cgen_line(&ce->c, depth + 1, "__syncthreads();");
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "if (threadIdx.x == 0) {");
  cgen_line(&ce->c, depth + 1, "const %s v%d = (%s)acc;", t, n->id, t);
  cuda_store(ce, n, epi, "i", depth + 1);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "__syncthreads(); /* sh is reused by the next weight */");
  cgen_line(&ce->c, 1, "}");
  return 0;
}

/* x [N,C,S..] (in 0), gy [N,C,Q..] (in 1) -> gx: the gradient of each window whose
 * first maximum (pool_max's comparison) is at s. */
static void pool_max_body(CuEmit *ce, const Node *n, const Win *w, int depth) {
  CgenIndex pi, qi;
  index_of(&pi, "p", w->in_st, w->nsp);
  index_of(&qi, "q", w->out_st, w->nsp);
  const char *t = cgen_ctype(n);
  cgen_line(&ce->c, depth, "%s top = -INFINITY;", t);
  cgen_line(&ce->c, depth, "int64_t best = -1;");
  int inner = cgen_window_taps(&ce->c, w, depth);
  const char *at = cgen_index_str(&pi);
  cgen_line(&ce->c, inner, "if (top < xc[%s]) {", at);
  cgen_line(&ce->c, inner + 1, "top = xc[%s];", at);
  cgen_line(&ce->c, inner + 1, "best = %s;", at);
  cgen_line(&ce->c, inner, "}");
  cgen_loops_close(&ce->c, w->nsp, depth);
  cgen_line(&ce->c, depth, "if (best == i %% %" PRId64 ") acc += gc[%s];", w->in_plane, cgen_index_str(&qi));
}

/* gy [N,C,Q..] (in 0) -> gx: each window's gradient shared over its taps. */
static void pool_avg_body(CuEmit *ce, const Node *n, const Win *w, int depth) {
  CgenIndex qi;
  index_of(&qi, "q", w->out_st, w->nsp);
  const char *t = cgen_ctype(n);
  if (node_int(n, A_COUNT_PAD)) {
    cgen_line(&ce->c, depth, "acc += gc[%s] / %" PRId64 ";", cgen_index_str(&qi), w->k_plane);
    return;
  }
  cgen_line(&ce->c, depth, "int64_t count = 1;");
  for (int d = 0; d < w->nsp; d++) {
    cgen_line(&ce->c, depth, "{");
    cgen_line(&ce->c, depth + 1, "int64_t inside = 0;");
    cgen_line(&ce->c, depth + 1, "for (int64_t k%d = 0; k%d < %" PRId64 "; k%d++) {", d, d, w->k[d], d);
    cgen_line(&ce->c, depth + 2, "const int64_t p%d = q%d * %" PRId64 " - %" PRId64 " + k%d * %" PRId64 ";", d, d,
              w->stride[d], w->pad[d], d, w->dil[d]);
    cgen_line(&ce->c, depth + 2, "inside += p%d >= 0 && p%d < %" PRId64 ";", d, d, w->in[d]);
    cgen_line(&ce->c, depth + 1, "}");
    cgen_line(&ce->c, depth + 1, "count *= inside;");
    cgen_line(&ce->c, depth, "}");
  }
  cgen_line(&ce->c, depth, "acc += gc[%s] / (%s)(count ? count : 1);", cgen_index_str(&qi), t);
}

static int pool_grad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l, bool is_max) {
  const Node *gy = cgen_in(&ce->c, n, is_max ? 1 : 0);
  Win w = window_of(n, &n->shape, node_ints(n, A_KERNEL, NULL), gy->shape.d + 2);
  const char *t = cgen_ctype(n);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const int64_t plane = i / %" PRId64 ";", w.in_plane);
  if (is_max) cgen_line(&ce->c, depth, "const %s *xc = buf%d + plane * %" PRId64 ";", t, n->in[0], w.in_plane);
  cgen_line(&ce->c, depth, "const %s *gc = buf%d + plane * %" PRId64 ";", t, gy->id, w.out_plane);
  in_positions(ce, &w, depth);
  cgen_line(&ce->c, depth, "%s acc = 0;", t);
  int inner = transposed_taps(ce, &w, depth);
  if (is_max) pool_max_body(ce, n, &w, inner);
  else pool_avg_body(ce, n, &w, inner);
  cgen_loops_close(&ce->c, w.nsp, depth);
  cgen_line(&ce->c, depth, "const %s v%d = acc;", t, n->id);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

int cuda_pool_max_grad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  return pool_grad(ce, n, epi, l, true);
}

int cuda_pool_avg_grad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  return pool_grad(ce, n, epi, l, false);
}
