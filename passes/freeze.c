/* freeze.c — the parameters of a model that is not trained become constants.
 *
 * Needs: a verified graph; one with training steps is left as it is (pass_runs also
 * keeps the pass off when the options say training).
 * Gives: the same graph with every PARAM a CONST of the same name, dtype, shape and
 * values, so that what depends on weights alone is computed now: fold evaluates the
 * reshapes, transposes, slices and sums that exporters put between an initializer and
 * its product (an ONNX RNN's weights are [1, gates * H, I], sliced and transposed at
 * every step), matmul's B is then baked in panel order, and dce drops a parameter
 * nothing reads.  Outputs are bit for bit those before. */
#include "passes.h"

int pass_freeze(Graph **gp, DlcErr *e) {
  (void)e;
  Graph *g = *gp;
  if (g->nstep > 0) return 0; /* the steps update the parameters */
  for (int i = 0; i < g->n; i++) {
    Node *n = g->nodes[i];
    if (n->op != OP_PARAM) continue;
    n->op = OP_CONST;
    n->init = (Init){.kind = INIT_DATA};
  }
  return 0;
}
