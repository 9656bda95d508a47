/* grad_scatter.c — scatter_add, the adjoint of gather: y = zeros(shape), then each
 * slice of the updates is added at the position its index names along the axis.
 *
 * Like gather, the kernel checks every index (after wrapping a negative one once)
 * before it writes anything and returns nonzero for one out of range.  Integer sums
 * are made in uint64_t, so they wrap as the interpreter's do and never overflow. */
#include <inttypes.h>

#include "cgen_c.h"

int cgen_scatter(CEmit *ce, const Node *n) {
  int ax = (int)node_int(n, A_AXIS);
  int64_t outer = 1, inner = 1, dim = n->shape.d[ax], nidx = shape_numel(&cgen_in(ce, n, 1)->shape);
  for (int d = 0; d < ax; d++) outer *= n->shape.d[d];
  for (int d = ax + 1; d < n->shape.rank; d++) inner *= n->shape.d[d];
  const char *t = cgen_ctype(n);
  bool flt = dtype_is_float(n->dtype);
  cgen_line(ce, 1, "for (int64_t j = 0; j < %" PRId64 "; j++) {", nidx);
  cgen_line(ce, 2, "int64_t k = (int64_t)a1[j];");
  cgen_line(ce, 2, "if (k < 0) k += %" PRId64 ";", dim);
  cgen_line(ce, 2, "if (k < 0 || k >= %" PRId64 ") return 1;", dim);
  cgen_line(ce, 1, "}");
  cgen_line(ce, 1, "for (int64_t i = 0; i < %" PRId64 "; i++) y[i] = 0;", shape_numel(&n->shape));
  cgen_line(ce, 1, "for (int64_t o = 0; o < %" PRId64 "; o++)", outer);
  cgen_line(ce, 2, "for (int64_t j = 0; j < %" PRId64 "; j++) {", nidx);
  cgen_line(ce, 3, "int64_t k = (int64_t)a1[j];");
  cgen_line(ce, 3, "if (k < 0) k += %" PRId64 ";", dim);
  cgen_line(ce, 3, "for (int64_t i = 0; i < %" PRId64 "; i++) {", inner);
  cgen_line(ce, 4, "%s *dst = &y[(o * %" PRId64 " + k) * %" PRId64 " + i];", t, dim, inner);
  cgen_line(ce, 4, "const %s src = a0[(o * %" PRId64 " + j) * %" PRId64 " + i];", t, nidx, inner);
  if (flt)
    cgen_line(ce, 4, "*dst += src;");
  else
    cgen_line(ce, 4, "*dst = (%s)((uint64_t)*dst + (uint64_t)src);", t);
  cgen_line(ce, 3, "}");
  cgen_line(ce, 2, "}");
  return 0;
}
