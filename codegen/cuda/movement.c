/* movement.c — reshape, transpose, broadcast, slice, pad, concat and iota: one thread
 * per result element, which reads its source through constant strides (the same
 * strides the C backend's loops use) after unravelling only the coordinates that
 * move it. */
#include <inttypes.h>

#include "cuda.h"

/* v<n> = buf<x>[base + coordinates . st], stored through the epilogue. */
static void strided_copy(CuEmit *ce, const Node *n, int64_t base, const int64_t *st_in,
                         const CuEpilogue *epi, CuLaunch *l) {
  int64_t st[IR_MAX_RANK];
  bool need[IR_MAX_RANK];
  for (int d = 0; d < n->shape.rank; d++) {
    st[d] = n->shape.d[d] == 1 ? 0 : st_in[d];
    need[d] = st[d] != 0;
  }
  CgenIndex xi;
  cgen_index_init(&xi, base);
  cgen_index_add(&xi, "s", st, n->shape.rank);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cuda_unravel(ce, &n->shape, "i", "s", need, depth);
  cgen_line(&ce->c, depth, "const %s v%d = buf%d[%s];", cgen_ctype(n), n->id, n->in[0], cgen_index_str(&xi));
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
}

/* Same elements, same order (kernels.c launches nothing when the plan put the
 * result in the operand's own buffer). */
int cuda_reshape(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int64_t st[IR_MAX_RANK];
  shape_strides(&n->shape, st);
  strided_copy(ce, n, 0, st, epi, l);
  return 0;
}

int cuda_transpose(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const int64_t *perm = node_ints(n, A_PERM, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK];
  shape_strides(&cgen_in(&ce->c, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) st[d] = xs[perm[d]];
  strided_copy(ce, n, 0, st, epi, l);
  return 0;
}

int cuda_broadcast(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int64_t st[IR_MAX_RANK];
  cgen_bcast_strides(&cgen_in(&ce->c, n, 0)->shape, &n->shape, st);
  strided_copy(ce, n, 0, st, epi, l);
  return 0;
}

int cuda_slice(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const int64_t *start = node_ints(n, A_STARTS, NULL), *step = node_ints(n, A_STEPS, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK], base = 0;
  shape_strides(&cgen_in(&ce->c, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) {
    base += start[d] * xs[d];
    st[d] = step[d] * xs[d];
  }
  strided_copy(ce, n, base, st, epi, l);
  return 0;
}

/* Whether result coordinate s<d> reads x: only padded (not cropped) sides test. */
static void pad_inside(const Shape *x, const Shape *y, const int64_t *pads, char *buf, size_t n,
                       bool *need) {
  size_t k = 0;
  buf[0] = 0;
  for (int d = 0; d < x->rank; d++) {
    if (pads[d] > 0)
      k += (size_t)snprintf(buf + k, n - k, "%ss%d >= %" PRId64, k ? " && " : "", d, pads[d]), need[d] = true;
    if (pads[d] + x->d[d] < y->d[d])
      k += (size_t)snprintf(buf + k, n - k, "%ss%d < %" PRId64, k ? " && " : "", d, pads[d] + x->d[d]),
          need[d] = true;
    DLC_ASSERT(k < n);
  }
}

int cuda_pad(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Shape *x = &cgen_in(&ce->c, n, 0)->shape;
  const int64_t *pads = node_ints(n, A_PADS, NULL);
  int64_t xs[IR_MAX_RANK], base = 0;
  bool need[IR_MAX_RANK] = {0};
  shape_strides(x, xs);
  for (int d = 0; d < x->rank; d++) base -= pads[d] * xs[d];
  char cond[CGEN_EXPR_MAX], value[64];
  pad_inside(x, &n->shape, pads, cond, sizeof cond, need);
  if (!cond[0]) {
    strided_copy(ce, n, base, xs, epi, l); /* only crops */
    return 0;
  }
  for (int d = 0; d < x->rank; d++) {
    if (x->d[d] == 1 && n->shape.d[d] == 1) xs[d] = 0;
    need[d] |= xs[d] != 0 && n->shape.d[d] > 1;
    if (!need[d]) xs[d] = 0;
  }
  cgen_literal(n->dtype, node_float(n, A_VALUE), value, sizeof value);
  CgenIndex xi;
  cgen_index_init(&xi, base);
  cgen_index_add(&xi, "s", xs, x->rank);
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cuda_unravel(ce, &n->shape, "i", "s", need, depth);
  cgen_line(&ce->c, depth, "const %s v%d = %s ? buf%d[%s] : (%s)%s;", cgen_ctype(n), n->id, cond, n->in[0],
            cgen_index_str(&xi), cgen_ctype(n), value);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

/* Row-major, the result is `outer` rows, each the operands' blocks in turn. */
int cuda_concat(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t inner = 1, at = 0;
  for (int d = ax + 1; d < n->shape.rank; d++) inner *= n->shape.d[d];
  int64_t row = n->shape.d[ax] * inner;
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s o = i / %" PRId64 ", j = i %% %" PRId64 ";", ce->it, row, row);
  cgen_line(&ce->c, depth, "%s v%d;", cgen_ctype(n), n->id);
  bool first = true;
  for (int i = 0; i < n->nin; i++) {
    int64_t len = cgen_in(&ce->c, n, i)->shape.d[ax] * inner;
    if (!len) continue;
    cgen_line(&ce->c, depth, "%sif (j < %" PRId64 ") v%d = buf%d[o * %" PRId64 " + j - %" PRId64 "];",
              first ? "" : "else ", at + len, n->id, n->in[i], len, at);
    first = false;
    at += len;
  }
  cgen_line(&ce->c, depth, "else v%d = 0;", n->id);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}

int cuda_iota(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int ax = (int)node_int(n, A_AXIS);
  bool need[IR_MAX_RANK] = {0};
  need[ax] = true;
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cuda_unravel(ce, &n->shape, "i", "s", need, depth);
  if (n->dtype == DT_BOOL) cgen_line(&ce->c, depth, "const uint8_t v%d = s%d != 0;", n->id, ax);
  else cgen_line(&ce->c, depth, "const %s v%d = (%s)s%d;", cgen_ctype(n), n->id, cgen_ctype(n), ax);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}
