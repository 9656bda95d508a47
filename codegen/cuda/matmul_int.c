/* matmul_int.c — matmul_int on the device: [.., M, K] x [.., K, N] of u8 or i8 into
 * exact i32 sums, one thread per result.  Each product is at most 2^15 in magnitude,
 * and the sum is kept in 32 unsigned bits (wrapping, as the C backend's), so every
 * sum that fits in an i32 is exact. */
#include <inttypes.h>

#include "cuda.h"

int cuda_matmul_int(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *a = cgen_in(&ce->c, n, 0), *b = cgen_in(&ce->c, n, 1);
  const Shape *as = &a->shape, *bs = &b->shape;
  int64_t m = as->d[as->rank - 2], k = as->d[as->rank - 1], nn = bs->d[bs->rank - 1];
  Shape yb = shape_make(n->shape.rank - 2, n->shape.d);
  Shape ab = shape_make(as->rank - 2, as->d), bb = shape_make(bs->rank - 2, bs->d);
  int64_t ast[IR_MAX_RANK], bst[IR_MAX_RANK];
  cgen_bcast_strides(&ab, &yb, ast);
  cgen_bcast_strides(&bb, &yb, bst);
  for (int i = 0; i < yb.rank; i++) ast[i] *= m * k, bst[i] *= k * nn;
  const char *it = ce->it;
  int depth = cuda_grid_loop(ce, l, "o", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s i = o / %" PRId64 " %% %" PRId64 ", j = o %% %" PRId64 ";", it, nn > 0 ? nn : 1,
            m > 0 ? m : 1, nn > 0 ? nn : 1);
  bool need[IR_MAX_RANK], any = false;
  for (int i = 0; i < yb.rank; i++) need[i] = ast[i] || bst[i], any |= need[i];
  if (any) {
    cgen_line(&ce->c, depth, "const %s bt = o / %" PRId64 ";", it, m * nn > 0 ? m * nn : 1);
    cuda_unravel(ce, &yb, "bt", "z", need, depth);
  }
  CgenIndex ai, bi;
  cgen_index_init(&ai, 0), cgen_index_add(&ai, "z", ast, yb.rank);
  cgen_index_init(&bi, 0), cgen_index_add(&bi, "z", bst, yb.rank);
  cgen_line(&ce->c, depth, "const %s *A = buf%d + %s;", cgen_ctype(a), n->in[0], cgen_index_str(&ai));
  cgen_line(&ce->c, depth, "const %s *B = buf%d + %s;", cgen_ctype(b), n->in[1], cgen_index_str(&bi));
  cgen_line(&ce->c, depth, "unsigned int acc = 0u;");
  cgen_line(&ce->c, depth, "for (%s kk = 0; kk < %" PRId64 "; kk++) acc += (unsigned int)((int)A[i * %" PRId64
                           " + kk] * (int)B[kk * %" PRId64 " + j]);", it, k, k, nn);
  cgen_line(&ce->c, depth, "const int32_t v%d = (int32_t)acc;", n->id);
  cuda_store(ce, n, epi, "o", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}
