/* dynamic.c — nonzero, unique and nms on the device (ir/ops.def): results whose length
 * depends on the data, padded to their bound.  Each runs as one thread of one block
 * over the C backend's own code (codegen/c/dynamic.c), with the C kernel's names bound
 * to the launch's buffers (a0.. the operands, y the result, ws the workspace in the
 * scratch buffer): the whole result depends on the whole input, and these ops end a
 * detector or a lookup, not its heavy part.  Correct first; a parallel version (a scan
 * for nonzero, a sort for unique and nms) is left for when they show in a profile. */
#include <inttypes.h>

#include "cuda.h"

int64_t cuda_dynamic_ws(CuEmit *ce, const Node *n) {
  switch ((int)n->op) {
  case OP_UNIQUE: return cgen_unique_scratch(&ce->c, n);
  case OP_NMS: return cgen_nms_scratch(&ce->c, n);
  default: return 0;
  }
}

int cuda_dynamic(CuEmit *ce, const Node *n, const CuEpilogue *epi, CuLaunch *l) {
  if (epi->n)
    return dlc_errf(ce->c.e, "cuda: %s cannot take an epilogue (node %d)", ir_ops[n->op].name, n->id);
  l->grid[0] = l->grid[1] = l->grid[2] = 1;
  l->block = 1;
  cgen_line(&ce->c, 1, "if (blockIdx.x != 0 || threadIdx.x != 0) return; /* one thread (dynamic.c) */");
  for (int i = 0; i < n->nin; i++) {
    const Node *x = cgen_in(&ce->c, n, i);
    cgen_line(&ce->c, 1, "const %s *a%d = buf%d;", cgen_ctype(x), i, x->id);
  }
  cgen_line(&ce->c, 1, "%s *y = buf%d;", cgen_ctype(n), n->id);
  switch ((int)n->op) {
  case OP_NONZERO: return cgen_nonzero(&ce->c, n);
  case OP_UNIQUE: return cgen_unique(&ce->c, n);
  case OP_NMS: return cgen_nms(&ce->c, n);
  default: return dlc_errf(ce->c.e, "cuda: %s is not a data-dependent op", ir_ops[n->op].name);
  }
}
