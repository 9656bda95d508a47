/* conv.c — N-d convolution and pooling windows.
 *
 * A convolution with enough output channels and positions is an implicit GEMM: per
 * batch element and group, y[o, q] = sum over kk of W[o, kk] * X[kk, q], where
 * kk = c * taps + tap runs over the group's input channels and the window's taps and
 * X[kk, q] is x at channel c under that tap of output position q (zero in the
 * padding).  It runs on matmul's 64x64 tiles: W's rows and X's columns are staged in
 * shared memory slice by slice, X gathered from x as it is staged (no im2col buffer,
 * consecutive threads on consecutive output positions), and each thread keeps 4x4
 * results in registers.
 *
 * Smaller convolutions and pooling take one thread per result element: the thread
 * unravels its flat index into batch, channel and output position q<d>, then walks the
 * window's taps with the C backend's own tap loops (cgen_window_taps: p<d> from q<d>,
 * taps in the padding skipped), so both backends share the window arithmetic.  Both
 * kernels sum over kk in increasing order in the result's type, as the C backend's
 * direct loops do; an epilogue (bias, activation) is applied before the store. */
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

#define TILE 64
#define SLICE 16

/* Stages the slice k0.. of W (As[kk][mm], along kk: W's rows are contiguous) and of X
 * (Bs[kk][nn], along the output positions), X gathered from the group's channels. */
static void gemm_stage(CuEmit *ce, const Win *w, int64_t og, int64_t kdim, const char *t, int depth) {
  const char *it = ce->it;
  cgen_line(&ce->c, depth, "for (int e = threadIdx.x; e < %d; e += %d) {", TILE * SLICE, CUDA_BLOCK);
  cgen_line(&ce->c, depth + 1, "const int kk = e %% %d, mm = e / %d;", SLICE, SLICE);
  cgen_line(&ce->c, depth + 1, "const %s gi = m0 + mm, gk = k0 + kk;", it);
  cgen_line(&ce->c, depth + 1, "As[kk][mm] = gi < %" PRId64 " && gk < %" PRId64 " ? W[gi * %" PRId64 " + gk] : (%s)0;",
            og, kdim, kdim, t);
  cgen_line(&ce->c, depth, "}");
  cgen_line(&ce->c, depth, "for (int e = threadIdx.x; e < %d; e += %d) {", TILE * SLICE, CUDA_BLOCK);
  cgen_line(&ce->c, depth + 1, "const int kk = e / %d, nn = e %% %d;", TILE, TILE);
  cgen_line(&ce->c, depth + 1, "const %s gk = k0 + kk, j = n0 + nn;", it);
  cgen_line(&ce->c, depth + 1, "%s v = 0;", t);
  cgen_line(&ce->c, depth + 1, "if (gk < %" PRId64 " && j < %" PRId64 ") {", kdim, w->out_plane);
  cgen_line(&ce->c, depth + 2, "const %s c = gk / %" PRId64 ", tap = gk %% %" PRId64 ";", it, w->k_plane, w->k_plane);
  char inside[600] = "", at[600] = "";
  size_t li = 0, la = 0;
  for (int d = 0; d < w->nsp; d++) {
    cgen_line(&ce->c, depth + 2, "const %s p%d = j / %" PRId64 " %% %" PRId64 " * %" PRId64 " - %" PRId64
                                 " + tap / %" PRId64 " %% %" PRId64 " * %" PRId64 ";",
              it, d, w->out_st[d], w->out[d], w->stride[d], w->pad[d], w->k_st[d], w->k[d], w->dil[d]);
    li += (size_t)snprintf(inside + li, sizeof inside - li, "%sp%d >= 0 && p%d < %" PRId64, d ? " && " : "", d, d,
                           w->in[d]);
    la += (size_t)snprintf(at + la, sizeof at - la, " + p%d * %" PRId64, d, w->in_st[d]);
  }
  cgen_line(&ce->c, depth + 2, "if (%s) v = X[c * %" PRId64 "%s];", w->nsp ? inside : "1", w->in_plane, at);
  cgen_line(&ce->c, depth + 1, "}");
  cgen_line(&ce->c, depth + 1, "Bs[kk][nn] = v;");
  cgen_line(&ce->c, depth, "}");
}

/* Per batch element and group (grid z), tiles of 64 output channels (y) by 64 output
 * positions (x). */
static void conv_gemm(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l, const Win *w, int64_t groups) {
  const Node *x = cgen_in(&ce->c, n, 0), *wt = cgen_in(&ce->c, n, 1);
  const char *t = cgen_ctype(n), *it = ce->it;
  int64_t cg = wt->shape.d[1], oc = wt->shape.d[0], og = oc / groups, kdim = cg * w->k_plane, q = w->out_plane;
  int64_t bg = x->shape.d[0] * groups, mt = (og + TILE - 1) / TILE;
  l->grid[0] = (q + TILE - 1) / TILE, l->grid[1] = mt < 65535 ? mt : 65535, l->grid[2] = bg < 65535 ? bg : 65535;
  l->block = CUDA_BLOCK;
  cuda_tile_shared(ce, t);
  cgen_line(&ce->c, 1, "const %s n0 = (%s)blockIdx.x * %d;", it, it, TILE);
  cgen_line(&ce->c, 1, "for (%s bg = blockIdx.z; bg < %" PRId64 "; bg += gridDim.z) {", it, bg);
  cgen_line(&ce->c, 2, "const %s b = bg / %" PRId64 ", g = bg %% %" PRId64 ";", it, groups, groups);
  cgen_line(&ce->c, 2, "const %s *W = buf%d + g * %" PRId64 ";", t, wt->id, og * kdim);
  cgen_line(&ce->c, 2, "const %s *X = buf%d + (b * %" PRId64 " + g * %" PRId64 ") * %" PRId64 ";", t, x->id,
            x->shape.d[1], cg, w->in_plane);
  cgen_line(&ce->c, 2, "for (%s m0 = (%s)blockIdx.y * %d; m0 < %" PRId64 "; m0 += (%s)gridDim.y * %d) {", it, it,
            TILE, og, it, TILE);
  cgen_line(&ce->c, 3, "%s acc[4][4] = {{0}};", t);
  cgen_line(&ce->c, 3, "for (%s k0 = 0; k0 < %" PRId64 "; k0 += %d) {", it, kdim, SLICE);
  gemm_stage(ce, w, og, kdim, t, 4);
  cuda_tile_product(ce, t, 4);
  cgen_line(&ce->c, 3, "}");
  cgen_line(&ce->c, 3, "for (int r = 0; r < 4; r++)");
  cgen_line(&ce->c, 4, "for (int c = 0; c < 4; c++) {");
  cgen_line(&ce->c, 5, "const %s i = m0 + ty + 16 * r, j = n0 + tx + 16 * c;", it);
  cgen_line(&ce->c, 5, "if (i >= %" PRId64 " || j >= %" PRId64 ") continue;", og, q);
  cgen_line(&ce->c, 5, "const %s v%d = acc[r][c];", t, n->id);
  cgen_line(&ce->c, 5, "const %s yi = (b * %" PRId64 " + g * %" PRId64 " + i) * %" PRId64 " + j;", it, oc, og, q);
  cuda_store(ce, n, epi, "yi", 5);
  cgen_line(&ce->c, 4, "}");
  cgen_line(&ce->c, 2, "}");
  cgen_line(&ce->c, 1, "}");
}

/* Enough output channels and positions, and a deep enough sum, to fill the tiles. */
static bool gemm_worth(int64_t og, int64_t q, int64_t kdim) { return og >= 16 && q >= 32 && kdim >= 16; }

int cuda_conv(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *x = cgen_in(&ce->c, n, 0), *wt = cgen_in(&ce->c, n, 1);
  Win w = cgen_window(n, &x->shape, wt->shape.d + 2);
  int64_t groups = node_int(n, A_GROUPS), cg = wt->shape.d[1], oc = wt->shape.d[0], og = oc / groups;
  if (gemm_worth(og, w.out_plane, cg * w.k_plane)) return conv_gemm(ce, n, epi, l, &w, groups), 0;
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
