/* movement.c — reshape, transpose, broadcast, slice, pad, concat and iota.  Each walks
 * its result in row-major order and reads its operand through constant strides, so
 * the only arithmetic per element is one index sum. */
#include <inttypes.h>

#include "cgen_c.h"

/* Whether threads share a copy of n's elements. */
static bool copy_par(const Node *n) { return cgen_par_elems(shape_numel(&n->shape), CGEN_PAR_COPY); }

/* y[row-major i] = a0[base + i . st], for i over the result's shape. */
static void strided_copy(CEmit *ce, const Node *n, int64_t base, const int64_t *st) {
  int64_t yst[IR_MAX_RANK];
  CgenIndex xi, yi;
  shape_strides(&n->shape, yst);
  cgen_index_init(&xi, base);
  cgen_index_add(&xi, "i", st, n->shape.rank);
  cgen_index_init(&yi, 0);
  cgen_index_add(&yi, "i", yst, n->shape.rank);
  int depth = cgen_loops_open_par(ce, &n->shape, "i", 1, copy_par(n));
  cgen_line(ce, depth, "y[%s] = a0[%s];", cgen_index_str(&yi), cgen_index_str(&xi));
  cgen_loops_close(ce, n->shape.rank, 1);
}

static int64_t bytes_of(const Node *n) { return shape_numel(&n->shape) * dtype_size(n->dtype); }

/* The same elements in the same order: a copy, or nothing when the plan already put
 * the result in the operand's buffer. */
int cgen_reshape(CEmit *ce, const Node *n) {
  if (cgen_same_buffer(ce, n->in[0], n->id) || !bytes_of(n)) {
    cgen_line(ce, 1, "(void)a0; /* empty, or the plan put y in a0's buffer: nothing moves */");
    cgen_line(ce, 1, "(void)y;");
  } else
    cgen_line(ce, 1, "memcpy(y, a0, %" PRId64 ");", bytes_of(n));
  return 0;
}

int cgen_transpose(CEmit *ce, const Node *n) {
  const int64_t *perm = node_ints(n, A_PERM, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK];
  shape_strides(&cgen_in(ce, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) st[d] = xs[perm[d]];
  strided_copy(ce, n, 0, st);
  return 0;
}

int cgen_broadcast(CEmit *ce, const Node *n) {
  int64_t st[IR_MAX_RANK];
  cgen_bcast_strides(&cgen_in(ce, n, 0)->shape, &n->shape, st);
  strided_copy(ce, n, 0, st);
  return 0;
}

int cgen_slice(CEmit *ce, const Node *n) {
  const int64_t *start = node_ints(n, A_STARTS, NULL), *step = node_ints(n, A_STEPS, NULL);
  int64_t xs[IR_MAX_RANK], st[IR_MAX_RANK], base = 0;
  shape_strides(&cgen_in(ce, n, 0)->shape, xs);
  for (int d = 0; d < n->shape.rank; d++) {
    base += start[d] * xs[d];
    st[d] = step[d] * xs[d];
  }
  strided_copy(ce, n, base, st);
  return 0;
}

/* The condition that result position i reads x rather than the pad value: only the
 * sides that are padded (not cropped) need a test. */
static void pad_inside(const Shape *x, const Shape *y, const int64_t *pads, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int d = 0; d < x->rank; d++) {
    const char *and = k ? " && " : "";
    if (pads[d] > 0)
      k += (size_t)snprintf(buf + k, n - k, "%si%d >= %" PRId64, and, d, pads[d]), and = " && ";
    if (pads[d] + x->d[d] < y->d[d])
      k += (size_t)snprintf(buf + k, n - k, "%si%d < %" PRId64, and, d, pads[d] + x->d[d]);
    DLC_ASSERT(k < n);
  }
}

int cgen_pad(CEmit *ce, const Node *n) {
  const Shape *x = &cgen_in(ce, n, 0)->shape;
  const int64_t *pads = node_ints(n, A_PADS, NULL);
  int64_t xs[IR_MAX_RANK], yst[IR_MAX_RANK], base = 0;
  shape_strides(x, xs);
  shape_strides(&n->shape, yst);
  for (int d = 0; d < x->rank; d++) base -= pads[d] * xs[d];
  char cond[CGEN_EXPR_MAX], value[64];
  pad_inside(x, &n->shape, pads, cond, sizeof cond);
  if (!cond[0]) {
    strided_copy(ce, n, base, xs); /* only crops */
    return 0;
  }
  cgen_literal(n->dtype, node_float(n, A_VALUE), value, sizeof value);
  CgenIndex xi, yi;
  cgen_index_init(&xi, base);
  cgen_index_add(&xi, "i", xs, x->rank);
  cgen_index_init(&yi, 0);
  cgen_index_add(&yi, "i", yst, x->rank);
  int depth = cgen_loops_open_par(ce, &n->shape, "i", 1, copy_par(n));
  cgen_line(ce, depth, "y[%s] = %s ? a0[%s] : %s;", cgen_index_str(&yi), cond, cgen_index_str(&xi),
            value);
  cgen_loops_close(ce, n->shape.rank, 1);
  return 0;
}

/* Row-major, the result is `outer` runs of each operand's block in turn. */
int cgen_concat(CEmit *ce, const Node *n) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < ax; d++) outer *= n->shape.d[d];
  for (int d = ax + 1; d < n->shape.rank; d++) inner *= n->shape.d[d];
  int64_t row = n->shape.d[ax] * inner, at = 0;
  /* threads share the runs, or where there are few, each operand's block */
  bool outer_par = copy_par(n) && outer >= 4;
  if (outer_par) cgen_par_for(ce, 1);
  cgen_line(ce, 1, "for (int64_t o = 0; o < %" PRId64 "; o++) {", outer);
  for (int i = 0; i < n->nin; i++) {
    int64_t len = cgen_in(ce, n, i)->shape.d[ax] * inner;
    if (len && !outer_par && cgen_par_elems(outer * len, CGEN_PAR_COPY)) cgen_par_for(ce, 2);
    if (len)
      cgen_line(ce, 2, "for (int64_t j = 0; j < %" PRId64 "; j++) y[o * %" PRId64 " + %" PRId64
                       " + j] = a%d[o * %" PRId64 " + j];",
                len, row, at, i, len);
    else cgen_line(ce, 2, "(void)a%d; /* empty */", i);
    at += len;
  }
  cgen_line(ce, 1, "}");
  return 0;
}

int cgen_iota(CEmit *ce, const Node *n) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t yst[IR_MAX_RANK];
  CgenIndex yi;
  shape_strides(&n->shape, yst);
  cgen_index_init(&yi, 0);
  cgen_index_add(&yi, "i", yst, n->shape.rank);
  int depth = cgen_loops_open_par(ce, &n->shape, "i", 1, copy_par(n));
  if (n->dtype == DT_BOOL) cgen_line(ce, depth, "y[%s] = i%d != 0;", cgen_index_str(&yi), ax);
  else cgen_line(ce, depth, "y[%s] = (%s)i%d;", cgen_index_str(&yi), cgen_ctype(n), ax);
  cgen_loops_close(ce, n->shape.rank, 1);
  return 0;
}
