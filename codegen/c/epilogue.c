/* epilogue.c — KERNEL_EPILOGUE: a matmul or conv (the head), then the elementwise tail
 * applied to each of its sums while the tile holds it (store.c).  The kernel's
 * parameters a0, a1, .. are its inputs as cgen_kernel_inputs numbers them. */
#include <stdlib.h>

#include "tile.h"

static Epi epi_kernel(const CEmit *ce, const Kernel *k, int *ids) {
  Epi e = epi_plain(ce->g->nodes[k->nodes[0]]);
  e.k = k;
  e.res = ce->g->nodes[k->nodes[k->n - 1]];
  e.inputs = ids;
  e.ninputs = cgen_kernel_inputs(ce, k, ids);
  return e;
}

int cgen_epilogue(CEmit *ce, const Kernel *k) {
  int max = 0;
  for (int j = 0; j < k->n; j++) max += ce->g->nodes[k->nodes[j]]->nin;
  int *ids = dlc_try_malloc(sizeof(int) * (size_t)(max ? max : 1));
  if (!ids) return dlc_errf(ce->e, "cgen: out of memory");
  Epi ep = epi_kernel(ce, k, ids);
  const Node *h = ep.head;
  char a[16], b[16];
  for (int i = 0; i < ep.ninputs; i++) cgen_line(ce, 1, "(void)a%d;", i);
  epi_input(&ep, h->in[0], a, sizeof a);
  epi_input(&ep, h->in[1], b, sizeof b);
  DLC_ASSERT(h->op == OP_CONV || h->op == OP_MATMUL);
  int r = h->op == OP_CONV ? conv_emit(ce, h, &ep, a, b) : matmul_emit(ce, h, &ep, a, b);
  free(ids);
  return r;
}
