/* matmul.c — batched matrix products [.., M, K] x [.., K, N] with broadcast batch
 * dimensions and transposed operands.
 *
 * One row of the result at a time, in i-k-j order: the inner loop adds a scaled row of
 * b to the row of y, contiguous in both, so it vectorizes.  With trans_b, b's rows are
 * y's columns and the inner loop is a dot product over contiguous k instead.  A
 * blocked, register-tiled kernel will replace this file. */
#include <inttypes.h>

#include "cgen_c.h"

typedef struct Mat {
  int64_t m, k, n;
  int64_t a_rs, a_cs; /* a's row and column strides, as read by the product */
  bool trans_b;
} Mat;

static Mat mat_dims(const Node *n, const Shape *as, const Shape *bs) {
  bool ta = node_int(n, A_TRANS_A), tb = node_int(n, A_TRANS_B);
  int64_t ar = as->d[as->rank - 2], ac = as->d[as->rank - 1];
  int64_t br = bs->d[bs->rank - 2], bc = bs->d[bs->rank - 1];
  return (Mat){.m = ta ? ac : ar, .k = ta ? ar : ac, .n = tb ? br : bc,
               .a_rs = ta ? 1 : ac, .a_cs = ta ? ac : 1, .trans_b = tb};
}

/* Pointers A, B, Y to the current batch's matrices. */
static int batch_open(CEmit *ce, const Node *n, const Shape *as, const Shape *bs, const Mat *d) {
  Shape ab = shape_make(as->rank - 2, as->d), bb = shape_make(bs->rank - 2, bs->d);
  Shape yb = shape_make(n->shape.rank - 2, n->shape.d);
  int64_t ast[IR_MAX_RANK], bst[IR_MAX_RANK], yst[IR_MAX_RANK];
  cgen_bcast_strides(&ab, &yb, ast);
  cgen_bcast_strides(&bb, &yb, bst);
  shape_strides(&yb, yst);
  for (int i = 0; i < yb.rank; i++) {
    ast[i] *= d->m * d->k;
    bst[i] *= d->k * d->n;
    yst[i] *= d->m * d->n;
  }
  CgenIndex ai, bi, yi;
  cgen_index_init(&ai, 0), cgen_index_add(&ai, "b", ast, yb.rank);
  cgen_index_init(&bi, 0), cgen_index_add(&bi, "b", bst, yb.rank);
  cgen_index_init(&yi, 0), cgen_index_add(&yi, "b", yst, yb.rank);
  int depth = cgen_loops_open(ce, &yb, "b", 1);
  const char *t = cgen_ctype(n);
  cgen_line(ce, depth, "const %s *restrict A = a0 + %s; /* [%" PRId64 ",%" PRId64 "] */", t,
            cgen_index_str(&ai), as->d[as->rank - 2], as->d[as->rank - 1]);
  cgen_line(ce, depth, "const %s *restrict B = a1 + %s; /* [%" PRId64 ",%" PRId64 "] */", t,
            cgen_index_str(&bi), bs->d[bs->rank - 2], bs->d[bs->rank - 1]);
  cgen_line(ce, depth, "%s *restrict Y = y + %s; /* [%" PRId64 ",%" PRId64 "] */", t,
            cgen_index_str(&yi), d->m, d->n);
  return depth;
}

/* A(i, k): "i * K + k", or "k * M + i" when a is transposed. */
static const char *a_at(const Mat *d, char *buf, size_t n) {
  if (d->a_cs == 1) snprintf(buf, n, "i * %" PRId64 " + k", d->a_rs);
  else snprintf(buf, n, "k * %" PRId64 " + i", d->a_cs);
  return buf;
}

static void rows_ikj(CEmit *ce, const Mat *d, const char *t, int depth) {
  cgen_line(ce, depth, "for (int64_t i = 0; i < %" PRId64 "; i++) {", d->m);
  cgen_line(ce, depth + 1, "%s *restrict yr = Y + i * %" PRId64 ";", t, d->n);
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) yr[j] = 0;", d->n);
  cgen_line(ce, depth + 1, "for (int64_t k = 0; k < %" PRId64 "; k++) {", d->k);
  char at[96];
  cgen_line(ce, depth + 2, "const %s aik = A[%s];", t, a_at(d, at, sizeof at));
  cgen_line(ce, depth + 2, "const %s *restrict br = B + k * %" PRId64 ";", t, d->n);
  cgen_line(ce, depth + 2, "for (int64_t j = 0; j < %" PRId64 "; j++) yr[j] += aik * br[j];", d->n);
  cgen_line(ce, depth + 1, "}");
  cgen_line(ce, depth, "}");
}

static void rows_dot(CEmit *ce, const Mat *d, const char *t, int depth) {
  char at[96];
  cgen_line(ce, depth, "for (int64_t i = 0; i < %" PRId64 "; i++)", d->m);
  cgen_line(ce, depth + 1, "for (int64_t j = 0; j < %" PRId64 "; j++) {", d->n);
  cgen_line(ce, depth + 2, "const %s *restrict bj = B + j * %" PRId64 ";", t, d->k);
  cgen_line(ce, depth + 2, "%s acc = 0;", t);
  cgen_line(ce, depth + 2, "for (int64_t k = 0; k < %" PRId64 "; k++) acc += A[%s] * bj[k];", d->k,
            a_at(d, at, sizeof at));
  cgen_line(ce, depth + 2, "Y[i * %" PRId64 " + j] = acc;", d->n);
  cgen_line(ce, depth + 1, "}");
}

int cgen_matmul(CEmit *ce, const Node *n) {
  const Shape *as = &cgen_in(ce, n, 0)->shape, *bs = &cgen_in(ce, n, 1)->shape;
  Mat d = mat_dims(n, as, bs);
  int nb = n->shape.rank - 2;
  int depth = batch_open(ce, n, as, bs, &d);
  if (d.trans_b) rows_dot(ce, &d, cgen_ctype(n), depth);
  else rows_ikj(ce, &d, cgen_ctype(n), depth);
  cgen_loops_close(ce, nb, 1);
  return 0;
}
