/* elementwise.c — unary, binary, select and cast, alone or fused (KERNEL_ELEMWISE):
 * one thread per element of the last node's result, each node's value computed in
 * registers from the shared cexpr templates (cgen_elem_expr), with CUDA's float math
 * functions standing in for libm's. */
#include <stdlib.h>

#include "cuda.h"

int cuda_elementwise(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int count = 1 + (epi ? epi->n : 0);
  int *ids = malloc(sizeof(int) * (size_t)count);
  if (!ids) return dlc_errf(ce->c.e, "cuda: out of memory");
  ids[0] = n->id;
  for (int j = 1; j < count; j++) ids[j] = epi->ids[j - 1];
  const Node *out = ce->c.g->nodes[ids[count - 1]];
  int depth = cuda_grid_loop(ce, l, "i", shape_numel(&out->shape), 1);
  CuRegs r = {ids, count, NULL, 0};
  cuda_chain(ce, &r, &out->shape, "i", "s", depth);
  cgen_line(&ce->c, depth, "buf%d[i] = v%d;", out->id, out->id);
  cgen_line(&ce->c, 1, "}");
  free(ids);
  return 0;
}
