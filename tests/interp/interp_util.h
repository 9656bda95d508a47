/* interp_util.h — building and running small graphs in the interpreter's tests. */
#ifndef DLC_TEST_INTERP_UTIL_H
#define DLC_TEST_INTERP_UTIL_H

#include <stdlib.h>

#include "check.h"
#include "ir.h"
#include "rnd.h"

/* A CONST of dtype t holding vals (numel of s values), stored as t stores them. */
static inline int tconst(Graph *g, DType t, Shape s, const double *vals) {
  int64_t n = shape_numel(&s);
  void *buf = malloc((size_t)(n ? n : 1) * 8);
  for (int64_t i = 0; i < n; i++) dtype_store(t, buf, i, vals[i]);
  int id = ir_const(g, NULL, t, s, buf);
  free(buf);
  return id;
}

/* Makes node id an output, runs g, and returns that output's values (malloc'd; free
 * them), or NULL after printing why.  Inputs as interp_run takes them. */
static inline double *eval1(Graph *g, int id, const double *const *inputs) {
  if (id < 0) {
    fprintf(stderr, "graph building failed: %s\n", g->err.msg);
    return NULL;
  }
  char name[32];
  snprintf(name, sizeof name, "out%d", g->nout);
  int which = ir_output(g, id, name);
  double **outs = calloc((size_t)g->nout, sizeof *outs);
  for (int j = 0; j < g->nout; j++)
    outs[j] = malloc(sizeof(double) * (size_t)(shape_numel(&g->nodes[g->out[j]]->shape) + 1));
  DlcErr e = {{0}};
  int rc = interp_run(g, inputs, outs, &e);
  double *y = outs[which];
  for (int j = 0; j < g->nout; j++)
    if (j != which) free(outs[j]);
  free(outs);
  if (rc) {
    fprintf(stderr, "interp_run failed: %s\n", e.msg);
    free(y);
    return NULL;
  }
  return y;
}

static inline void tfill(double *x, int64_t n, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (int64_t i = 0; i < n; i++) x[i] = rnd_sym(&s);
}

#endif
