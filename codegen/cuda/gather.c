/* gather.c — rows of x picked by integer indices along one axis, one thread per
 * result element.
 *
 * Indices come from the caller at run time.  A thread whose index is out of range
 * (after wrapping a negative one once) writes 0 and sets the device's error flag;
 * NAME_run reads the flag after the kernels and returns NAME_ERR_INDEX, as the C
 * backend does. */
#include <inttypes.h>

#include "cuda.h"

int cuda_gather(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  const Node *x = cgen_in(&ce->c, n, 0);
  int ax = (int)node_int(n, A_AXIS);
  int64_t inner = 1, dim = x->shape.d[ax], nidx = shape_numel(&cgen_in(&ce->c, n, 1)->shape);
  for (int d = ax + 1; d < x->shape.rank; d++) inner *= x->shape.d[d];
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&n->shape), 1);
  cgen_line(&ce->c, depth, "const %s o = i / %" PRId64 ", j = i / %" PRId64 " %% %" PRId64
                           ", e = i %% %" PRId64 ";",
            ce->it, nidx * inner, inner, nidx, inner);
  cgen_line(&ce->c, depth, "int64_t k = (int64_t)buf%d[j];", n->in[1]);
  cgen_line(&ce->c, depth, "if (k < 0) k += %" PRId64 ";", dim);
  cgen_line(&ce->c, depth, "%s v%d = 0;", cgen_ctype(n), n->id);
  cgen_line(&ce->c, depth, "if (k < 0 || k >= %" PRId64 ") *err = 1;", dim);
  cgen_line(&ce->c, depth, "else v%d = buf%d[(o * %" PRId64 " + k) * %" PRId64 " + e];", n->id, n->in[0],
            dim, inner);
  cuda_store(ce, n, epi, "i", depth);
  cgen_line(&ce->c, 1, "}");
  return 0;
}
