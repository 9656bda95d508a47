/* row.c — KERNEL_ROW: a row-wise pattern (softmax, log-softmax, layernorm,
 * cross-entropy) as one kernel with one block per row. */
#include "cuda.h"

int cuda_row(CuEmit *ce, const int *ids, int n) {
  (void)ce, (void)ids, (void)n;
  return 1; /* not yet fused: kernels.c runs the nodes one by one */
}
