/* train_graph.h — the training graph of a model file for the CUDA tests, as `dlc train`
 * builds it: the model's own training statements, else cross-entropy on its output
 * against an integer label input, with Adam; then pass_train.  NULL with e set.
 *
 * Adam's eps is set to 0.1.  Adam divides each gradient by its own root mean square,
 * so where a gradient is rounding noise (a sum whose terms nearly cancel) its sign
 * decides a step of +lr or -lr, on whichever backend, in any summation order.  With
 * eps = 0.1 the step is nearly linear in small gradients, and a comparison of two
 * backends measures their kernels rather than that noise; the kernels are the same. */
#ifndef DLC_TESTS_CUDA_TRAIN_GRAPH_H
#define DLC_TESTS_CUDA_TRAIN_GRAPH_H

#include "frontend.h"
#include "passes.h"

static inline Graph *cuda_train_graph(const char *path, int64_t batch, DlcErr *e) {
  LoadOptions lo = {.batch = batch, .train = true};
  Graph *g = frontend_load(path, &lo, e);
  if (!g) return NULL;
  Optim o;
  DLC_ASSERT(!optim_named("adam", &o));
  o.lr = 0.01;
  if (!g->nspec && train_default_spec(g, LOSS_CE, &o, "train", e)) {
    ir_graph_free(g);
    return NULL;
  }
  for (int k = 0; k < g->nspec; k++)
    if (g->spec[k].opt.kind != OPT_SGD) g->spec[k].opt.eps = 0.1;
  if (pass_train(g, e)) {
    ir_graph_free(g);
    return NULL;
  }
  return g;
}

#endif
