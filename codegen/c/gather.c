/* gather.c — rows of x picked by integer indices along one axis.
 *
 * Indices come from the caller at run time, so the kernel checks every one (after
 * wrapping a negative index once) before it reads anything, and returns nonzero for
 * one out of range: NAME_run turns that into NAME_ERR_INDEX. */
#include <inttypes.h>

#include "cgen_c.h"

int cgen_gather(CEmit *ce, const Node *n) {
  const Shape *x = &cgen_in(ce, n, 0)->shape;
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = 1, inner = 1, dim = x->d[ax], nidx = shape_numel(&cgen_in(ce, n, 1)->shape);
  for (int d = 0; d < ax; d++) outer *= x->d[d];
  for (int d = ax + 1; d < x->rank; d++) inner *= x->d[d];
  cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++) {", nidx);
  cgen_line(ce, 2, "int64_t k = (int64_t)a1[j];");
  cgen_line(ce, 2, "if (k < 0) k += %" PRId64 ";", dim);
  cgen_line(ce, 2, "if (k < 0 || k >= %" PRId64 ") return 1;", dim);
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "for (int64_t o = 0; o < %" PRId64 "; o++)", outer);
  cgen_line(ce, 2, "for (int64_t j = 0; j < %" PRId64 "; j++) {", nidx);
  cgen_line(ce, 3, "int64_t k = (int64_t)a1[j];");
  cgen_line(ce, 3, "if (k < 0) k += %" PRId64 ";", dim);
  cgen_line(ce, 3, "for (int64_t i = 0; i < %" PRId64 "; i++)", inner);
  cgen_line(ce, 4, "y[(o * %" PRId64 " + j) * %" PRId64 " + i] = a0[(o * %" PRId64 " + k) * %" PRId64
                   " + i];",
            nidx, inner, dim, inner);
  cgen_line(ce, 2, "}");
  return 0;
}
