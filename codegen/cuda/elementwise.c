/* elementwise.c — unary, binary, select and cast, alone or fused (KERNEL_ELEMWISE):
 * one thread per element of the last node's result, each node's value computed in
 * registers from the shared cexpr templates (cgen_elem_expr), with CUDA's float math
 * functions standing in for libm's.
 *
 * A float result of at least 1024 elements, a multiple of 4, is written four elements
 * per thread: one 16-byte load of each float operand of the result's own shape, the
 * chain evaluated for each of the four lanes in registers (broadcast operands loaded
 * per lane as usual), one 16-byte store.  Every device buffer starts 64-byte aligned
 * (the arena's, the weights' and the scratch's offsets are multiples of 64, the
 * allocations more), so the vector accesses are aligned. */
#include <stdlib.h>

#include "cuda.h"

#define LANES 4

static bool in_list(const int *ids, int n, int id) {
  for (int i = 0; i < n; i++)
    if (ids[i] == id) return true;
  return false;
}

/* The operands read from memory at the result's own index as floats: loaded four at a
 * time.  Their count; ids into vec. */
static int vector_operands(const CuEmit *ce, const int *ids, int count, const Node *out, int *vec) {
  int nv = 0;
  for (int j = 0; j < count; j++) {
    const Node *x = ce->c.g->nodes[ids[j]];
    if (cuda_is_view(ce, x->id)) continue;
    for (int i = 0; i < x->nin; i++) {
      const Node *a = ce->c.g->nodes[x->in[i]];
      if (in_list(ids, j, a->id) || cuda_is_view(ce, a->id) || a->dtype != DT_F32 || !shape_eq(&a->shape, &out->shape) ||
          in_list(vec, nv, a->id))
        continue;
      vec[nv++] = a->id;
    }
  }
  return nv;
}

static void vectorised(CuEmit *ce, const int *ids, int count, const Node *out, CuLaunch *l) {
  static const char lane[LANES] = {'x', 'y', 'z', 'w'};
  int *vec = dlc_malloc(sizeof(int) * (size_t)(3 * count + 1));
  DLC_ASSERT(vec);
  int nv = vector_operands(ce, ids, count, out, vec);
  int depth = cuda_grid_loop(ce, l, "q", shape_numel(&out->shape) / LANES, 1);
  for (int k = 0; k < nv; k++)
    cgen_line(&ce->c, depth, "const float4 l%d = reinterpret_cast<const float4 *>(buf%d)[q];", vec[k], vec[k]);
  cgen_line(&ce->c, depth, "float4 r;");
  for (int u = 0; u < LANES; u++) {
    cgen_line(&ce->c, depth, "{");
    cgen_line(&ce->c, depth + 1, "const %s i = %d * q + %d;", ce->it, LANES, u);
    cgen_line(&ce->c, depth + 1, "(void)i; /* read by broadcast and non-float operands only */");
    for (int k = 0; k < nv; k++) cgen_line(&ce->c, depth + 1, "const float v%d = l%d.%c;", vec[k], vec[k], lane[u]);
    CuRegs r = {ids, count, vec, nv};
    cuda_chain(ce, &r, &out->shape, "i", "s", depth + 1);
    cgen_line(&ce->c, depth + 1, "r.%c = v%d;", lane[u], out->id);
    cgen_line(&ce->c, depth, "}");
  }
  cgen_line(&ce->c, depth, "reinterpret_cast<float4 *>(buf%d)[q] = r;", out->id);
  cgen_line(&ce->c, 1, "}");
  free(vec);
}

int cuda_elementwise(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  int count = 1 + (epi ? epi->n : 0);
  int *ids = dlc_try_malloc(sizeof(int) * (size_t)count);
  if (!ids) return dlc_errf(ce->c.e, "cuda: out of memory");
  ids[0] = n->id;
  for (int j = 1; j < count; j++) ids[j] = epi->ids[j - 1];
  const Node *out = ce->c.g->nodes[ids[count - 1]];
  int64_t total = shape_numel(&out->shape);
  if (out->dtype == DT_F32 && total >= 1024 && total % LANES == 0) {
    vectorised(ce, ids, count, out, l);
    free(ids);
    return 0;
  }
  int depth = cuda_grid_loop(ce, l, "i", total, 1);
  CuRegs r = {ids, count, NULL, 0};
  cuda_chain(ce, &r, &out->shape, "i", "s", depth);
  cgen_line(&ce->c, depth, "buf%d[i] = v%d;", out->id, out->id);
  cgen_line(&ce->c, 1, "}");
  free(ids);
  return 0;
}
